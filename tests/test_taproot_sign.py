"""Signing P2TR key-path inputs of pending BTC transactions: mixed with P2WPKH, keys matched by
their BIP86-tweaked output key (private-key wallets) or as a mnemonic wallet's BIP44-or-BIP86
choice, the script check before release, aux_rand, `kms-ref sign --explain`; and random
transactions checked by an independent script interpreter (btclib) when it is importable."""

import random

import pytest

from kms_ref.crypto.bip340 import pubkey_xonly
from kms_ref.crypto.hashes import hash160
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.crypto.secp256k1 import N
from kms_ref.daemon import signer as signer_module
from kms_ref.daemon.cycle import TAPROOT_AUX_RAND
from kms_ref.daemon.signer import sign_with_wallet
from kms_ref.encoding.script import p2pkh_script, p2wpkh_script
from kms_ref.encoding.wif import wif_encode
from kms_ref.hd import bip86
from kms_ref.hd.chains import get_chain
from kms_ref.hd.taproot import taproot_tweak_seckey
from kms_ref.hd.tatum import wallet_node
from kms_ref.sandbox.unsigned import bitcore_serialized
from kms_ref.store import WalletStore
from kms_ref.tx.bitcore_json import PrevOut
from kms_ref.tx.pending import sign_pending
from kms_ref.tx.sign import KeyChoice, PrivateKey, p2sh_p2wpkh_script
from kms_ref.tx.transaction import Transaction, TxIn, TxOut, parse_hex
from kms_ref.tx.verify import verify_transaction
from tests import independent
from tests.cli_helpers import PASSWORD
from tests.test_cli import CHEAP_SCRYPT
from tests.test_sign_command import run_sign

TESTNET = get_chain("BTC", True)
MNEMONIC = ("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
            "abandon about")


def p2tr(seckey: bytes) -> bytes:
    """The BIP86 scriptPubKey of a key (its output key, no script tree)."""
    return bip86.script_from_pubkey(pubkey_from_seckey(seckey))


def p2wpkh(seckey: bytes) -> bytes:
    return p2wpkh_script(hash160(pubkey_from_seckey(seckey)))


def pending_spending(scripts, rng=None, chain="BTC"):
    """A pending transaction (bitcore JSON) spending one output of each script; two outputs."""
    rng = rng or random.Random(len(scripts))
    inputs = [TxIn(rng.getrandbits(256).to_bytes(32, "big"), rng.randrange(3)) for _ in scripts]
    prevouts = [PrevOut(rng.randrange(20_000, 10 ** 7), script) for script in scripts]
    outputs = [TxOut(10_000, b"\x51\x20" + bytes(range(32))), TxOut(5_000, p2wpkh_script(bytes(20)))]
    tx = Transaction(2, inputs, outputs)
    return {"id": "taproot-test", "chain": chain, "serializedTransaction": bitcore_serialized(tx, prevouts),
            "hashes": [], "index": None, "signatures": [], "withdrawalId": None, "withdrawalResponses": None}, prevouts


def keys(seed, count):
    rng = random.Random(seed)
    return [rng.randrange(1, N).to_bytes(32, "big") for _ in range(count)]


def check(signed_hex, prevouts):
    """kms_ref's script check, and btclib's interpreter when it is there."""
    verify_transaction(parse_hex(signed_hex), prevouts, "BTC")
    if independent.available():
        independent.verify_transaction(bytes.fromhex(signed_hex), prevouts)


def test_mixed_p2wpkh_and_p2tr_inputs():
    a, b = keys(1, 2)
    pending, prevouts = pending_spending([p2tr(a), p2wpkh(b), p2tr(b), p2wpkh(a)])
    wifs = [wif_encode(k, TESTNET.wif_prefix) for k in (a, b)]
    signed = sign_pending(pending, wifs, True, aux_rand=bytes(32))
    check(signed, prevouts)
    tx = parse_hex(signed)
    assert [len(txin.witness) for txin in tx.inputs] == [1, 2, 1, 2]
    assert [len(txin.witness[0]) for txin in tx.inputs[::2]] == [64, 64]        # SIGHASH_DEFAULT
    assert all(txin.script_sig == b"" for txin in tx.inputs)
    assert sign_pending(pending, wifs, True, aux_rand=bytes(32)) == signed        # aux_rand fixed
    fresh = sign_pending(pending, wifs, True)                                     # aux_rand fresh
    assert fresh != signed and parse_hex(fresh).txid() == tx.txid()
    check(fresh, prevouts)


def test_a_key_that_owns_no_input_is_refused_and_a_foreign_p2tr_is_unsignable():
    a, b = keys(2, 2)
    pending, _ = pending_spending([p2tr(a)])
    with pytest.raises(ValueError, match="key #1 .* signs no input"):
        sign_pending(pending, [a, b], True)
    with pytest.raises(ValueError, match=r"input 0 \(p2tr\): none of the 1 given keys can sign it"):
        sign_pending(pending, [b], True)
    # the output key is the *tweaked* key: a P2TR paying the untweaked x(P) is not a BIP86 output
    untweaked, _ = pending_spending([b"\x51\x20" + pubkey_xonly(a)])
    with pytest.raises(ValueError, match="none of the 1 given keys"):
        sign_pending(untweaked, [a], True)


def test_key_choice_uses_whichever_key_spends():
    a, b, c = keys(3, 3)
    pending, prevouts = pending_spending([p2tr(b), p2wpkh(a)])
    signed = sign_pending(pending, [KeyChoice((a, b)), KeyChoice((c, a))], True)
    check(signed, prevouts)
    with pytest.raises(ValueError, match="key #1 .* signs no input"):
        sign_pending(pending, [KeyChoice((a, b)), KeyChoice((c,))], True)
    assert "redacted" in repr(KeyChoice((PrivateKey(a),))) and a.hex() not in repr(KeyChoice((PrivateKey(a),)))


def test_an_uncompressed_wif_signs_its_taproot_output_too():
    """A Taproot key is x-only: the WIF's compression flag changes nothing."""
    a, = keys(5, 1)
    pending, prevouts = pending_spending([p2tr(a)])
    check(sign_pending(pending, [wif_encode(a, TESTNET.wif_prefix, compressed=False)], True), prevouts)
    check(sign_pending(pending, [PrivateKey(a, False)], True), prevouts)


def test_litecoin_does_not_sign_taproot():
    a, = keys(4, 1)
    pending, _ = pending_spending([p2tr(a)], chain="LTC")
    with pytest.raises(ValueError, match="input 0 spends a p2tr output, which kms_ref cannot sign"):
        sign_pending(pending, [wif_encode(a, get_chain("LTC", True).wif_prefix)], True)


def test_random_transactions_against_an_independent_interpreter(seed=8641):
    """Random keys and input kinds (P2TR, P2WPKH, P2SH-P2WPKH, P2PKH): kms_ref signs, its own
    script check passes, and btclib's interpreter (when importable) accepts every input."""
    rng = random.Random(seed)
    makers = [p2tr, p2wpkh, lambda k: p2sh_p2wpkh_script(pubkey_from_seckey(k)),
              lambda k: p2pkh_script(hash160(pubkey_from_seckey(k)))]
    for case in range(12):
        signing_keys = keys(rng.getrandbits(32), rng.randint(1, 3))
        scripts = [rng.choice(makers)(k) for k in signing_keys]
        scripts += [rng.choice(makers)(rng.choice(signing_keys)) for _ in range(rng.randint(0, 2))]
        pending, prevouts = pending_spending(scripts, rng)
        signed = sign_pending(pending, signing_keys, True, aux_rand=rng.getrandbits(256).to_bytes(32, "big"))
        try:
            check(signed, prevouts)
        except Exception as e:
            raise AssertionError("seed %d case %d: %s" % (seed, case, e)) from None


# --- keys from a wallet file: the signer -----------------------------------------------------

@pytest.fixture(scope="module")
def wallet(tmp_path_factory):
    """A testnet BTC wallet: the BIP86 vector mnemonic and the internal key of its BIP86 index 9."""
    path = str(tmp_path_factory.mktemp("taproot") / "w.dat")
    with WalletStore(path).transaction(PASSWORD, scrypt_params=CHEAP_SCRYPT) as w:
        mnemonic_id = w.add({"mnemonic": MNEMONIC, "xpub": "unused", "chain": "BTC", "testnet": True})
        key_id = w.add({"privateKey": bip86.wif_from_mnemonic(TESTNET, MNEMONIC, 9), "chain": "BTC", "testnet": True})
    return path, mnemonic_id, key_id


def bip44_key(index):
    return wallet_node(TESTNET, MNEMONIC).ckd_priv(index).seckey


def bip86_key(index):
    return bip86.internal_seckey(bip86.bip86_node(TESTNET, MNEMONIC), index)


def test_signer_offers_a_mnemonic_index_as_bip44_or_bip86(wallet):
    path, mnemonic_id, key_id = wallet
    pending, prevouts = pending_spending([p2tr(bip86_key(3)), p2wpkh(bip44_key(3)), p2tr(bip86_key(5)),
                                          p2tr(bip86_key(9))])
    pending.update(hashes=[key_id], signatures=[{"id": mnemonic_id, "index": 3}, {"id": mnemonic_id, "index": 5}])
    with WalletStore(path).open(PASSWORD) as w:
        signed = sign_with_wallet(w, pending, True, aux_rand=TAPROOT_AUX_RAND)
        check(signed, prevouts)
        assert sign_with_wallet(w, pending, True, aux_rand=TAPROOT_AUX_RAND) == signed   # two daemons agree
        assert TAPROOT_AUX_RAND == bytes(32)
        pending["signatures"].append({"id": mnemonic_id, "index": 7})
        with pytest.raises(ValueError, match="key #3 .* signs no input"):
            sign_with_wallet(w, pending, True)


def test_no_bip86_derivation_without_a_taproot_input(wallet, monkeypatch):
    path, mnemonic_id, _ = wallet
    monkeypatch.setattr(signer_module.bip86, "bip86_node", lambda *a: pytest.fail("BIP86 derived"))
    pending, prevouts = pending_spending([p2wpkh(bip44_key(2))])
    pending.update(signatures=[{"id": mnemonic_id, "index": 2}])
    with WalletStore(path).open(PASSWORD) as w:
        check(sign_with_wallet(w, pending, True), prevouts)


def test_sign_command_explains_taproot_and_keeps_the_keys(tmp_path):
    path = tmp_path / "w.dat"
    with WalletStore(str(path)).transaction(PASSWORD, scrypt_params=CHEAP_SCRYPT) as w:
        mnemonic_id = w.add({"mnemonic": MNEMONIC, "xpub": "unused", "chain": "BTC", "testnet": True})
    pending, prevouts = pending_spending([p2tr(bip86_key(4)), p2wpkh(bip44_key(4))])
    pending.update(signatures=[{"id": mnemonic_id, "index": 4}])
    r = run_sign(tmp_path, pending, True, "--explain")
    assert r.code == 0, r.err
    check(r.json()["txData"], prevouts)
    for label in ("input 0 (p2tr, BIP341 key path)", "hash_TapTweak", "output key", "SigMsg hash_type = 00",
                  "SigMsg sha_amounts", "SigMsg sha_scriptpubkeys", "SigMsg spend_type = 00", "SigMsg input_index",
                  "hash_TapSighash", "BIP340 sign: e = ", "checked before release", "locked by P2WPKH",
                  "BIP143 (segwit version 0) items 1-10", "rfc 6979"):
        assert label.lower() in r.err.lower(), label
    for secret in (bip86_key(4), taproot_tweak_seckey(bip86_key(4)), bip44_key(4)):
        assert secret.hex() not in r.err and wif_encode(secret, TESTNET.wif_prefix) not in r.err
    assert MNEMONIC not in r.err
    again = run_sign(tmp_path, pending, True)
    assert again.json()["txData"] != r.json()["txData"]      # `sign` draws fresh aux_rand
    check(again.json()["txData"], prevouts)
