"""Signature hashes: Bitcoin Core's sighash.json (legacy), the BIP143 examples, the BCH forkid form."""

import json
import random
from pathlib import Path

import pytest

from kms_ref.crypto.ecdsa import ecdsa_sign, ecdsa_verify
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.tx.sighash import (SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_FORKID, SIGHASH_NONE,
                                SIGHASH_ONE, SIGHASH_SINGLE, Bip143Hashes, bip143_preimage,
                                forkid_preimage, legacy_preimage, sighash_bip143, sighash_forkid,
                                sighash_legacy)
from kms_ref.tx.transaction import Transaction, TxIn, TxOut, parse_hex

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
CORE = json.loads((VECTORS / "bitcoin_core_sighash.json").read_text())["vectors"]
BIP143 = json.loads((VECTORS / "bip143_examples.json").read_text())["sighash"]
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.mark.parametrize("case", CORE, ids=["core-%03d" % n for n in range(len(CORE))])
def test_bitcoin_core_sighash(case):
    raw, script_code, input_index, hash_type, expected = case
    tx = parse_hex(raw)
    assert sighash_legacy(tx, input_index, bytes.fromhex(script_code), hash_type)[::-1].hex() == expected


@pytest.mark.parametrize("case", BIP143, ids=[c["name"] for c in BIP143])
def test_bip143_sighash(case):
    tx = parse_hex(case["tx"])
    args = (tx, case["input_index"], bytes.fromhex(case["script_code"]), case["amount"], case["hash_type"])
    assert bip143_preimage(*args).hex() == case["preimage"]
    assert sighash_bip143(*args).hex() == case["sighash"]
    assert sighash_bip143(*args, hashes=Bip143Hashes(tx)).hex() == case["sighash"]


def _der_decode(der: bytes):
    assert der[0] == 0x30 and der[2] == 0x02
    r_len = der[3]
    r = int.from_bytes(der[4:4 + r_len], "big")
    s = int.from_bytes(der[6 + r_len:], "big")
    return r, s


def _der_encode(r: int, s: int) -> bytes:
    def integer(x):
        body = x.to_bytes((x.bit_length() + 8) // 8, "big")
        return b"\x02" + bytes((len(body),)) + body
    body = integer(r) + integer(s)
    return b"\x30" + bytes((len(body),)) + body


SIGNED = [c for c in BIP143 if "signature" in c]


@pytest.mark.parametrize("case", SIGNED, ids=[c["name"] for c in SIGNED])
def test_bip143_signature(case):
    digest = bytes.fromhex(case["sighash"])
    signature = bytes.fromhex(case["signature"])
    der, hash_type = signature[:-1], signature[-1]
    pubkey = bytes.fromhex(case["public_key"])
    assert hash_type == case["hash_type"]
    if "private_key" in case:
        seckey = bytes.fromhex(case["private_key"])
        assert pubkey_from_seckey(seckey) == pubkey
        assert ecdsa_sign(seckey, digest) == der      # Bitcoin Core signed with RFC 6979 and low S too
        assert ecdsa_verify(pubkey, digest, der)
    else:
        # The "No FindAndDelete" signature is fixed in advance and high-S: strict verification
        # refuses it as is, and accepts it with s replaced by n - s.
        r, s = _der_decode(der)
        assert s > N // 2
        assert not ecdsa_verify(pubkey, digest, der)
        assert ecdsa_verify(pubkey, digest, _der_encode(r, N - s))


def _random_tx(rng: random.Random, n_in: int, n_out: int) -> Transaction:
    inputs = [TxIn(rng.randbytes(32), rng.randrange(8), rng.randbytes(rng.randrange(3)), rng.choice([0xFFFFFFFF, rng.randrange(2 ** 32)]))
              for _ in range(n_in)]
    outputs = [TxOut(rng.randrange(2 ** 40), rng.randbytes(rng.choice([22, 25, 34]))) for _ in range(n_out)]
    return Transaction(rng.choice([1, 2]), inputs, outputs, rng.randrange(2 ** 32))


def test_sighash_single_without_output_signs_one():
    rng = random.Random(3)
    tx = _random_tx(rng, 3, 1)
    code = bytes.fromhex("76a914" + "11" * 20 + "88ac")
    assert sighash_legacy(tx, 2, code, SIGHASH_SINGLE) == SIGHASH_ONE
    assert sighash_legacy(tx, 1, code, SIGHASH_SINGLE | SIGHASH_ANYONECANPAY) == SIGHASH_ONE
    assert sighash_legacy(tx, 5, code, SIGHASH_ALL) == SIGHASH_ONE          # input index out of range
    assert SIGHASH_ONE.hex() == "01" + "00" * 31
    assert legacy_preimage(tx, 0, code, SIGHASH_SINGLE) is not None
    # BIP143 has no such quirk: hashOutputs is zero instead.
    pre = bip143_preimage(tx, 2, code, 1000, SIGHASH_SINGLE)
    assert pre[-40:-8] == bytes(32)


def test_bip143_cached_hashes_match_plain():
    seed = 143
    rng = random.Random(seed)
    for _ in range(60):
        tx = _random_tx(rng, rng.randrange(1, 6), rng.randrange(1, 5))
        hashes = Bip143Hashes(tx)
        for _ in range(3):
            i = rng.randrange(len(tx.inputs))
            hash_type = rng.choice([1, 2, 3]) | rng.choice([0, SIGHASH_ANYONECANPAY])
            code, amount = rng.randbytes(25), rng.randrange(2 ** 50)
            assert sighash_bip143(tx, i, code, amount, hash_type, hashes) == \
                sighash_bip143(tx, i, code, amount, hash_type), "seed %d" % seed


def test_forkid_is_bip143_with_forkid_type():
    seed = 145
    rng = random.Random(seed)
    for _ in range(30):
        tx = _random_tx(rng, rng.randrange(1, 4), rng.randrange(1, 4))
        i = rng.randrange(len(tx.inputs))
        hash_type = (rng.choice([1, 2, 3]) | rng.choice([0, SIGHASH_ANYONECANPAY])) | SIGHASH_FORKID
        code, amount = rng.randbytes(25), rng.randrange(2 ** 50)
        # fork id 0 (BCH): exactly BIP143 with the 0x40 bit in the hash type
        assert sighash_forkid(tx, i, code, amount, hash_type) == sighash_bip143(tx, i, code, amount, hash_type), \
            "seed %d" % seed
        # another fork id lands in bits 8..31 of the type field
        pre = forkid_preimage(tx, i, code, amount, hash_type, fork_id=0xABCDEF)
        assert pre[-4:] == bytes((hash_type, 0xEF, 0xCD, 0xAB)), "seed %d" % seed


def test_forkid_defaults_and_requires_forkid_bit():
    tx = _random_tx(random.Random(0), 1, 1)
    code = bytes(25)
    assert forkid_preimage(tx, 0, code, 5)[-4:] == bytes((0x41, 0, 0, 0))
    with pytest.raises(ValueError, match="FORKID"):
        sighash_forkid(tx, 0, code, 5, SIGHASH_ALL)
    with pytest.raises(ValueError, match="out of range"):
        sighash_bip143(tx, 1, code, 5, SIGHASH_NONE)
