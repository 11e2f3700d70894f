"""The script check: every signed fixture passes, and every kind of damage is caught."""

import json
from pathlib import Path

import pytest

from kms_ref.crypto.ecdsa import ecdsa_sign
from kms_ref.crypto.hashes import hash160, hash256
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.encoding.cashaddr import cashaddr_decode
from kms_ref.encoding.wif import wif_decode
from kms_ref.tx.bitcore_json import PrevOut, parse_bch_pending, parse_bitcore_json
from kms_ref.encoding.script import p2pkh_script, p2sh_script, p2wpkh_script, push_data
from kms_ref.tx.sighash import SIGHASH_NONE, forkid_preimage, legacy_preimage
from kms_ref.tx.transaction import parse_hex
from kms_ref.tx.verify import verify_input, verify_transaction

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
TATUM_SIGN = json.loads((VECTORS / "tatum_sign.json").read_text())["vectors"]
TATUM_OFFCHAIN = json.loads((VECTORS / "tatum_offchain.json").read_text())["vectors"]
BIP143_SIGNING = json.loads((VECTORS / "bip143_examples.json").read_text())["signing"]
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SIGNED = [c for c in TATUM_SIGN if c["signed"]]


def _prevouts(case):
    """Each input's previous output: from bitcore's JSON, or for BCH P2PKH of key i with amount i."""
    text = case["pending"]["serializedTransaction"]
    if case["chain"] != "BCH":
        return parse_bitcore_json(text).prevouts
    _, amounts = parse_bch_pending(text)
    if "privateKeys" in case:
        hashes = [hash160(pubkey_from_seckey(*wif_decode(w))) for w in case["privateKeys"]]
    else:   # offchain: the withdrawal responses name the address each input pays from
        prefix = "bchtest" if case["testnet"] else "bitcoincash"
        hashes = [cashaddr_decode(r["address"]["address"], prefix)[1]
                  for r in case["pending"]["withdrawalResponses"] if r["vIn"] != "-1"]
    return [PrevOut(a, p2pkh_script(h)) for a, h in zip(amounts, hashes)]


def _id(prefix, cases):
    return ["%s-%02d-%s-%s" % (prefix, n, c["chain"], "test" if c["testnet"] else "main") for n, c in enumerate(cases)]


@pytest.mark.parametrize("case", SIGNED, ids=_id("sign", SIGNED))
def test_signed_fixture_verifies(case):
    verify_transaction(parse_hex(case["signed"]), _prevouts(case), case["chain"])


@pytest.mark.parametrize("case", TATUM_OFFCHAIN, ids=_id("offchain", TATUM_OFFCHAIN))
def test_offchain_fixture_verifies(case):
    verify_transaction(parse_hex(case["signed"]), _prevouts(case), case["chain"])


@pytest.mark.parametrize("case", BIP143_SIGNING, ids=[c["name"] for c in BIP143_SIGNING])
def test_bip143_example_verifies(case):
    prevouts = [PrevOut(p["amount"], bytes.fromhex(p["script"])) for p in case["prevouts"]]
    verify_transaction(parse_hex(case["signed_tx"]), prevouts, "BTC")


def _signature_of(txin):
    """(where, the signature bytes) of a signed input: witness item 0 or the first scriptSig push."""
    if txin.witness:
        return "witness", txin.witness[0]
    return "script", txin.script_sig[1:1 + txin.script_sig[0]]


def _replace_signature(txin, new_sig):
    where, old = _signature_of(txin)
    if where == "witness":
        txin.witness[0] = new_sig
    else:
        txin.script_sig = push_data(new_sig) + txin.script_sig[1 + len(old):]


@pytest.mark.parametrize("case", SIGNED, ids=_id("tamper", SIGNED))
def test_tampered_signature_fails(case):
    prevouts = _prevouts(case)
    for i in range(len(prevouts)):
        tx = parse_hex(case["signed"])
        sig = bytearray(_signature_of(tx.inputs[i])[1])
        sig[-2] ^= 0x01                  # last byte of s (or of the Schnorr s), before the hash type
        _replace_signature(tx.inputs[i], bytes(sig))
        with pytest.raises(ValueError, match="input %d: .*(does not verify|DER)" % i):
            verify_transaction(tx, prevouts, case["chain"])


def test_changed_output_fails_every_input():
    case = SIGNED[0]
    tx = parse_hex(case["signed"])
    tx.outputs[0].value -= 1
    prevouts = _prevouts(case)
    for i in range(len(prevouts)):
        with pytest.raises(ValueError, match="input %d: .*does not verify" % i):
            verify_input(tx, i, prevouts[i], case["chain"])


def test_segwit_amount_is_committed():
    case = SIGNED[0]                           # BTC: p2pk, p2sh-p2wpkh, p2wpkh, p2pk, p2pkh
    tx, prevouts = parse_hex(case["signed"]), _prevouts(case)
    for i in (1, 2):
        with pytest.raises(ValueError, match="input %d: .*does not verify" % i):
            verify_input(tx, i, PrevOut(prevouts[i].amount + 1, prevouts[i].script_pubkey), "BTC")
    verify_input(tx, 4, PrevOut(prevouts[4].amount + 1, prevouts[4].script_pubkey), "BTC")   # legacy: not


BTC = SIGNED[0]


def _btc(mutate, i, reason, chain="BTC"):
    tx, prevouts = parse_hex(BTC["signed"]), _prevouts(BTC)
    mutate(tx, prevouts)
    with pytest.raises(ValueError, match="input %d: .*%s" % (i, reason)):
        verify_transaction(tx, prevouts, chain)


def test_structure_rules():
    def p2wpkh_script_sig(tx, p):
        tx.inputs[2].script_sig = b"\x00"
    _btc(p2wpkh_script_sig, 2, "P2WPKH needs an empty scriptSig")

    def three_items(tx, p):
        tx.inputs[2].witness.append(b"")
    _btc(three_items, 2, "exactly 2 witness items")

    def witness_on_p2pkh(tx, p):
        tx.inputs[4].witness = [b"\x01"]
    _btc(witness_on_p2pkh, 4, "unexpected witness")

    def long_push(tx, p):
        tx.inputs[4].script_sig = b"\x4c" + tx.inputs[4].script_sig    # OP_PUSHDATA1 where direct fits
    _btc(long_push, 4, "shortest form")

    def other_pubkey(tx, p):
        p[4] = PrevOut(p[4].amount, p2pkh_script(bytes(20)))
    _btc(other_pubkey, 4, "not the P2PKH key hash")

    def other_redeem_hash(tx, p):
        p[1] = PrevOut(p[1].amount, p2sh_script(bytes(20)))
    _btc(other_redeem_hash, 1, "redeem script is not the P2SH script hash")

    def forkid_on_btc(tx, p):
        _replace_signature(tx.inputs[4], _signature_of(tx.inputs[4])[1][:-1] + b"\x41")
    _btc(forkid_on_btc, 4, "SIGHASH_FORKID is not allowed")

    def undefined_type(tx, p):
        _replace_signature(tx.inputs[4], _signature_of(tx.inputs[4])[1][:-1] + b"\x04")
    _btc(undefined_type, 4, "undefined hash type")

    def p2wsh(tx, p):
        p[2] = PrevOut(p[2].amount, b"\x00\x20" + bytes(32))
    _btc(p2wsh, 2, "cannot check a p2wsh output")


def test_uncompressed_witness_key_refused():
    seckey = bytes(31) + b"\x07"
    pubkey = pubkey_from_seckey(seckey, compressed=False)
    tx = parse_hex(BTC["signed"])
    tx.inputs[2].witness = [b"\x30\x01", pubkey]
    with pytest.raises(ValueError, match="input 2: P2WPKH needs a compressed public key"):
        verify_input(tx, 2, PrevOut(1, p2wpkh_script(hash160(pubkey))), "BTC")


def test_doge_cannot_carry_witness():
    doge = next(c for c in SIGNED if c["chain"] == "DOGE")
    tx = parse_hex(doge["signed"])
    tx.inputs[0].witness = [b"\x01"]
    with pytest.raises(ValueError, match="cannot carry witnesses"):
        verify_transaction(tx, _prevouts(doge), "DOGE")
    with pytest.raises(ValueError, match="cannot check a p2wpkh output on DOGE"):
        verify_input(parse_hex(doge["signed"]), 0, PrevOut(1, p2wpkh_script(bytes(20))), "DOGE")


def test_high_s_refused():
    tx, prevouts = parse_hex(BTC["signed"]), _prevouts(BTC)
    der = _signature_of(tx.inputs[4])[1][:-1]
    r_len = der[3]
    r = int.from_bytes(der[4:4 + r_len], "big")
    s = int.from_bytes(der[6 + r_len:], "big")
    high = (N - s).to_bytes(33, "big")
    body = der[2:4 + r_len] + b"\x02\x21" + high
    _replace_signature(tx.inputs[4], b"\x30" + bytes((len(body),)) + body + b"\x01")
    with pytest.raises(ValueError, match="input 4: ECDSA signature does not verify"):
        verify_transaction(tx, prevouts, "BTC")
    assert r > 0


def test_other_hash_types_are_checked_with_their_own_digest():
    """A P2PKH input signed SIGHASH_NONE verifies: the hash type comes from the signature."""
    seckey, _ = wif_decode(BTC["privateKeys"][4])
    tx, prevouts = parse_hex(BTC["signed"]), _prevouts(BTC)
    digest = hash256(legacy_preimage(tx, 4, prevouts[4].script_pubkey, SIGHASH_NONE))
    _replace_signature(tx.inputs[4], ecdsa_sign(seckey, digest) + bytes((SIGHASH_NONE,)))
    verify_transaction(tx, prevouts, "BTC")
    tx.outputs[0].value += 1                                           # NONE: outputs not signed
    verify_input(tx, 4, prevouts[4], "BTC")


BCH = next(c for c in SIGNED if c["chain"] == "BCH" and len(c["kinds"]) == 2)


def test_bch_rules():
    seckey, _ = wif_decode(BCH["privateKeys"][0])
    tx, prevouts = parse_hex(BCH["signed"]), _prevouts(BCH)
    schnorr = _signature_of(tx.inputs[0])[1]
    assert len(schnorr) == 65 and schnorr[-1] == 0x41
    # ECDSA is allowed on BCH too, over the same forkid digest
    digest = hash256(forkid_preimage(tx, 0, prevouts[0].script_pubkey, prevouts[0].amount))
    _replace_signature(tx.inputs[0], ecdsa_sign(seckey, digest) + b"\x41")
    verify_transaction(tx, prevouts, "BCH")
    # without FORKID the signature is refused
    _replace_signature(tx.inputs[1], _signature_of(tx.inputs[1])[1][:-1] + b"\x01")
    with pytest.raises(ValueError, match="input 1: hash type 0x01: SIGHASH_FORKID is required"):
        verify_transaction(tx, prevouts, "BCH")
    # the amount is committed
    tx = parse_hex(BCH["signed"])
    with pytest.raises(ValueError, match="input 1: Schnorr signature does not verify"):
        verify_input(tx, 1, PrevOut(prevouts[1].amount - 1, prevouts[1].script_pubkey), "BCH")
    with pytest.raises(ValueError, match="BCH inputs must spend P2PKH"):
        verify_input(tx, 1, PrevOut(1, p2wpkh_script(bytes(20))), "BCH")
