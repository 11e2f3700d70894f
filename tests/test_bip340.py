"""BIP340 Schnorr signatures: every row of the BIP's test-vectors.csv through the public face
`kms_ref.bip340`, sign/verify properties on random inputs, and — when the `ecc` package that
btclib builds on happens to be importable — byte-for-byte agreement with its BIP340."""

import importlib
import random

import pytest

from kms_ref.bip340 import pubkey_xonly, schnorr_sign, schnorr_verify, tagged_hash
from kms_ref.crypto import bip340
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.crypto.secp256k1 import N
from tests.vectors import load

VECTORS = load("bip340.json")["vectors"]
SEED = 340


def case_id(case):
    words = "".join(c if c.isalnum() else "-" for c in case["comment"].lower()).strip("-")
    return "%d-%s" % (case["index"], "-".join(w for w in words.split("-") if w)[:48] or
                      ("sign" if case["seckey"] else "verify"))


@pytest.mark.parametrize("case", VECTORS, ids=[case_id(c) for c in VECTORS])
def test_bip340_vectors(case):
    pubkey, msg, sig = (bytes.fromhex(case[k]) for k in ("pubkey", "msg", "sig"))
    if case["seckey"]:
        seckey = bytes.fromhex(case["seckey"])
        assert pubkey_xonly(seckey) == pubkey
        assert schnorr_sign(seckey, msg, bytes.fromhex(case["aux_rand"])) == sig
    assert schnorr_verify(pubkey, msg, sig) is case["valid"]


def test_tagged_hash_is_the_bip_definition():
    import hashlib

    tag = hashlib.sha256(b"BIP0340/challenge").digest()
    assert tagged_hash("BIP0340/challenge", b"abc") == hashlib.sha256(tag + tag + b"abc").digest()


def test_pubkey_xonly_is_the_compressed_key_without_its_first_byte():
    rng = random.Random(SEED)
    for _ in range(20):
        seckey = rng.randrange(1, N).to_bytes(32, "big")
        assert pubkey_xonly(seckey) == pubkey_from_seckey(seckey)[1:]


def test_sign_verify_random(seed=SEED):
    """Random keys and messages of several lengths: every signature verifies, fresh randomness
    gives another signature that verifies too, and any flipped bit or other message fails."""
    rng = random.Random(seed)
    for i in range(40):
        seckey = rng.randrange(1, N).to_bytes(32, "big")
        msg = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 32, 77])))
        aux = rng.getrandbits(256).to_bytes(32, "big")
        pubkey = pubkey_xonly(seckey)
        sig = schnorr_sign(seckey, msg, aux)
        assert schnorr_sign(seckey, msg, aux) == sig, "seed %d case %d" % (seed, i)
        assert schnorr_verify(pubkey, msg, sig), "seed %d case %d" % (seed, i)
        fresh = schnorr_sign(seckey, msg)
        assert fresh != sig and schnorr_verify(pubkey, msg, fresh)
        bad = bytearray(sig)
        bad[rng.randrange(64)] ^= 1 << rng.randrange(8)
        assert not schnorr_verify(pubkey, msg, bytes(bad)), "seed %d case %d" % (seed, i)
        assert not schnorr_verify(pubkey, msg + b"\x00", sig)


def test_bad_input():
    with pytest.raises(ValueError, match="private key"):
        schnorr_sign(bytes(32), b"m")
    with pytest.raises(ValueError, match="aux_rand"):
        schnorr_sign(b"\x01" * 32, b"m", b"short")
    with pytest.raises(ValueError, match="message"):
        schnorr_sign(b"\x01" * 32, "text")
    sig = schnorr_sign(b"\x01" * 32, b"m")
    assert not schnorr_verify(pubkey_xonly(b"\x01" * 32), b"m", sig + b"\x00")
    assert not schnorr_verify(pubkey_from_seckey(b"\x01" * 32), b"m", sig)   # 33 bytes: not x-only


def test_explain_tells_the_steps_and_withholds_the_secrets():
    seckey, lines = b"\x07" * 32, []
    sig = schnorr_sign(seckey, b"hello", bytes(32), explain=lines.append)
    text = "\n".join(lines)
    for step in ("has_even_y(P)", "hash_BIP0340/nonce", "R = k'*G", "hash_BIP0340/challenge", sig.hex(),
                 "checked before release"):
        assert step in text, step
    negated = (N - int.from_bytes(seckey, "big")).to_bytes(32, "big")   # d is d' or n - d'
    assert seckey.hex() not in text and negated.hex() not in text


def test_signing_verifies_before_release(monkeypatch):
    """A fault between signing and release (here: a verifier that says no) aborts signing."""
    monkeypatch.setattr(bip340, "schnorr_verify", lambda *args: False)
    with pytest.raises(ValueError, match="not released"):
        bip340.schnorr_sign(b"\x01" * 32, b"m", bytes(32))


def _optional(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def test_agrees_with_an_independent_bip340():
    """With the `ecc` package (btclib's curve library) importable: the same signatures byte for
    byte for the same aux_rand, and each side verifies the other's. Without it, the same inputs
    are still signed and verified here, so the test checks something either way."""
    ssa = _optional("ecc.ecc.ssa")
    rng = random.Random(SEED + 1)
    for i in range(25):
        seckey = rng.randrange(1, N).to_bytes(32, "big")
        msg = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 5, 32, 100])))
        aux = rng.getrandbits(256).to_bytes(32, "big")
        sig, pubkey = schnorr_sign(seckey, msg, aux), pubkey_xonly(seckey)
        assert schnorr_verify(pubkey, msg, sig)
        if ssa is not None:
            theirs = ssa.sign_(msg, int.from_bytes(seckey, "big"), aux).serialize()
            assert sig == theirs, "case %d" % i
            assert ssa.verify_(msg, pubkey, schnorr_sign(seckey, msg))
