"""BIP341 key path: every scriptPubKey case and every keyPathSpending input of the BIP's wallet
test vectors — tweaks, output keys, scripts, addresses, the SigMsg and its hash, the signatures —
and the fully signed transaction of the file passes kms_ref's script check."""

import random

import pytest

from kms_ref.crypto.bip340 import pubkey_xonly, schnorr_sign
from kms_ref.hd.taproot import p2tr_address, p2tr_script, taproot_tweak, taproot_tweak_pubkey, taproot_tweak_seckey
from kms_ref.tx.bitcore_json import PrevOut
from kms_ref.tx.taproot_sighash import (SIGHASH_EPOCH, TAPROOT_HASH_TYPES, TaprootHashes, sig_msg,
                                        sig_msg_fields, taproot_sighash)
from kms_ref.tx.transaction import Transaction, TxIn, TxOut, parse_hex
from tests import independent
from tests.vectors import load

VECTORS = load("bip341_wallet.json")
SPENDING = VECTORS["keyPathSpending"][0]
TX = parse_hex(SPENDING["given"]["rawUnsignedTx"])
PREVOUTS = [PrevOut(u["amountSats"], bytes.fromhex(u["scriptPubKey"])) for u in SPENDING["given"]["utxosSpent"]]
ZERO_AUX = bytes(32)   # the vectors' signatures use aux_rand = 32 zero bytes


def root(value):
    return bytes.fromhex(value) if value else b""


@pytest.mark.parametrize("case", VECTORS["scriptPubKey"],
                         ids=["%d-%s" % (i, "no-tree" if c["given"]["scriptTree"] is None else "tree")
                              for i, c in enumerate(VECTORS["scriptPubKey"])])
def test_script_pubkey_cases(case):
    internal = bytes.fromhex(case["given"]["internalPubkey"])
    h = root(case["intermediary"]["merkleRoot"])
    assert "%064x" % taproot_tweak(internal, h) == case["intermediary"]["tweak"]
    output_key = taproot_tweak_pubkey(internal, h)[1]
    assert output_key.hex() == case["intermediary"]["tweakedPubkey"]
    assert p2tr_script(output_key).hex() == case["expected"]["scriptPubKey"]
    assert p2tr_address("bc", output_key) == case["expected"]["bip350Address"]


def test_transaction_wide_hashes():
    hashes, expected = TaprootHashes(TX, PREVOUTS), SPENDING["intermediary"]
    assert hashes.sha_prevouts.hex() == expected["hashPrevouts"]
    assert hashes.sha_amounts.hex() == expected["hashAmounts"]
    assert hashes.sha_scriptpubkeys.hex() == expected["hashScriptPubkeys"]
    assert hashes.sha_sequences.hex() == expected["hashSequences"]
    assert hashes.sha_outputs.hex() == expected["hashOutputs"]


@pytest.mark.parametrize("case", SPENDING["inputSpending"],
                         ids=["input%d-hashtype%02x" % (c["given"]["txinIndex"], c["given"]["hashType"])
                              for c in SPENDING["inputSpending"]])
def test_key_path_spending(case):
    given, im = case["given"], case["intermediary"]
    seckey, h, i, hash_type = (bytes.fromhex(given["internalPrivkey"]), root(given["merkleRoot"]),
                               given["txinIndex"], given["hashType"])
    assert pubkey_xonly(seckey).hex() == im["internalPubkey"]
    assert "%064x" % taproot_tweak(pubkey_xonly(seckey), h) == im["tweak"]
    tweaked = taproot_tweak_seckey(seckey, h)
    assert tweaked.hex() == im["tweakedPrivkey"]
    assert PREVOUTS[i].script_pubkey == p2tr_script(taproot_tweak_pubkey(pubkey_xonly(seckey), h)[1])
    # The vectors print the epoch byte with the message: 0x00 || SigMsg.
    assert (SIGHASH_EPOCH + sig_msg(TX, i, PREVOUTS, hash_type)).hex() == im["sigMsg"]
    assert sig_msg(TX, i, PREVOUTS, hash_type, TaprootHashes(TX, PREVOUTS)) == sig_msg(TX, i, PREVOUTS, hash_type)
    digest = taproot_sighash(TX, i, PREVOUTS, hash_type)
    assert digest.hex() == im["sigHash"]
    sig = schnorr_sign(tweaked, digest, ZERO_AUX) + (bytes((hash_type,)) if hash_type else b"")
    assert [sig.hex()] == case["expected"]["witness"]


def test_fully_signed_transaction_passes_the_script_check():
    """The file's fully signed transaction (Taproot, P2PKH and P2WPKH inputs) passes verify."""
    from kms_ref.tx.verify import verify_transaction

    signed = parse_hex(SPENDING["auxiliary"]["fullySignedTx"])
    verify_transaction(signed, PREVOUTS, "BTC")
    tampered = signed.copy()
    tampered.outputs[0].value -= 1
    with pytest.raises(ValueError, match="input 0"):
        verify_transaction(tampered, PREVOUTS, "BTC")


def test_sig_msg_rules():
    with pytest.raises(ValueError, match="undefined Taproot hash type 0x04"):
        taproot_sighash(TX, 0, PREVOUTS, 0x04)
    with pytest.raises(ValueError, match="undefined Taproot hash type 0x80"):
        taproot_sighash(TX, 0, PREVOUTS, 0x80)
    with pytest.raises(ValueError, match="no corresponding output"):
        taproot_sighash(TX, 2, PREVOUTS, 0x03)   # two outputs: input 2 has none
    with pytest.raises(ValueError, match="every input"):
        taproot_sighash(TX, 0, PREVOUTS[:-1], 0x00)
    # BIP341: the length of SigMsg is 174 - 49*anyonecanpay - 32*none (+ 32 with an annex)
    for hash_type in TAPROOT_HASH_TYPES:
        length = len(sig_msg(TX, 0, PREVOUTS, hash_type))
        assert length == 174 - 49 * bool(hash_type & 0x80) - 32 * (hash_type & 3 == 2), hash_type
    assert len(sig_msg(TX, 0, PREVOUTS, 0x00, annex=b"\x50")) == 174 + 32
    names = [name for name, _ in sig_msg_fields(TX, 0, PREVOUTS, 0x83)]
    assert names == ["hash_type", "nVersion", "nLockTime", "spend_type", "outpoint", "amount", "scriptPubKey",
                     "nSequence", "sha_single_output"]


@pytest.mark.parametrize("change, reason", [
    ("amount-of-another-input", "input 0: BIP340 signature does not verify"),
    ("64-byte-sig-plus-0x00", "input 4: a 65-byte Taproot signature must not end in hash type 0x00"),
    ("63-byte-sig", "input 4: a Taproot signature is 64 or 65 bytes"),
    ("annex", "input 4: P2TR witness carries an annex"),
    ("two-witness-items", "input 4: P2TR key path needs exactly 1 witness item"),
    ("scriptsig", "input 4: P2TR needs an empty scriptSig"),
    ("undefined-hash-type", "input 0: undefined Taproot hash type 0x04"),
    ("litecoin", "input 0: cannot check a p2tr output on LTC"),
])
def test_script_check_refuses(change, reason):
    from kms_ref.tx.verify import verify_transaction

    signed, prevouts, chain = parse_hex(SPENDING["auxiliary"]["fullySignedTx"]), list(PREVOUTS), "BTC"
    sig4 = signed.inputs[4].witness[0]
    assert len(sig4) == 64
    if change == "amount-of-another-input":       # SigMsg commits to every input's amount
        prevouts[5] = PrevOut(prevouts[5].amount + 1, prevouts[5].script_pubkey)
    elif change == "64-byte-sig-plus-0x00":
        signed.inputs[4].witness = [sig4 + b"\x00"]
    elif change == "63-byte-sig":
        signed.inputs[4].witness = [sig4[:63]]
    elif change == "annex":
        signed.inputs[4].witness = [sig4, b"\x50annex"]
    elif change == "two-witness-items":
        signed.inputs[4].witness = [sig4, b"\x51"]
    elif change == "scriptsig":
        signed.inputs[4].script_sig = b"\x00"
    elif change == "undefined-hash-type":
        signed.inputs[0].witness = [signed.inputs[0].witness[0][:64] + b"\x04"]
    elif change == "litecoin":
        chain = "LTC"
    with pytest.raises(ValueError, match=reason):
        verify_transaction(signed, prevouts, chain)


def test_a_taproot_input_alone_cannot_be_checked():
    from kms_ref.tx.verify import verify_input

    signed = parse_hex(SPENDING["auxiliary"]["fullySignedTx"])
    with pytest.raises(ValueError, match="every input's previous output"):
        verify_input(signed, 4, PREVOUTS[4], "BTC")
    verify_input(signed, 4, PREVOUTS[4], "BTC", prevouts=PREVOUTS)


def random_transaction(rng):
    """A transaction of 1-5 inputs spending random P2TR, P2WPKH and P2PKH outputs, 1-3 outputs."""
    scripts = [lambda: b"\x51\x20" + rng.getrandbits(256).to_bytes(32, "big"),
               lambda: b"\x00\x14" + rng.getrandbits(160).to_bytes(20, "big"),
               lambda: b"\x76\xa9\x14" + rng.getrandbits(160).to_bytes(20, "big") + b"\x88\xac"]
    n_in, n_out = rng.randint(1, 5), rng.randint(1, 3)
    inputs = [TxIn(rng.getrandbits(256).to_bytes(32, "big"), rng.randrange(4), b"", rng.choice([0xFFFFFFFF, 0, 7]))
              for _ in range(n_in)]
    outputs = [TxOut(rng.randrange(10 ** 8), rng.choice(scripts)()) for _ in range(n_out)]
    prevouts = [PrevOut(rng.randrange(10 ** 9), rng.choice(scripts)()) for _ in range(n_in)]
    return Transaction(rng.choice([1, 2]), inputs, outputs, rng.choice([0, 500000])), prevouts


def test_sighash_agrees_with_an_independent_implementation(seed=341):
    """Random transactions, every hash type, every input with a corresponding output: with btclib
    importable, the digests agree byte for byte; either way, the cached transaction-wide hashes
    change nothing and a changed amount of another input changes every non-ANYONECANPAY digest."""
    rng, compared = random.Random(seed), 0
    for case in range(60):
        tx, prevouts = random_transaction(rng)
        hashes = TaprootHashes(tx, prevouts)
        changed = list(prevouts)
        changed[-1] = PrevOut(changed[-1].amount + 1, changed[-1].script_pubkey)
        for i in range(len(tx.inputs)):
            for hash_type in TAPROOT_HASH_TYPES:
                if hash_type & 3 == 3 and i >= len(tx.outputs):
                    continue
                digest = taproot_sighash(tx, i, prevouts, hash_type)
                assert digest == taproot_sighash(tx, i, prevouts, hash_type, hashes)
                if not hash_type & 0x80 or i == len(tx.inputs) - 1:
                    assert taproot_sighash(tx, i, changed, hash_type) != digest, "seed %d case %d" % (seed, case)
                if independent.available():
                    theirs = independent.taproot_sighash(tx.serialize(), i, prevouts, hash_type)
                    assert digest == theirs, "seed %d case %d input %d type %02x" % (seed, case, i, hash_type)
                    compared += 1
    assert compared or not independent.available()
