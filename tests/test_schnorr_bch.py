"""Bitcoin Cash Schnorr (2019-05-15 specification): Bitcoin ABC's vectors, tatum-kms's own
signatures, and sign/verify properties."""

import hashlib
import hmac
import json
import pathlib
import random

import pytest

from kms_ref.crypto.ecdsa import der_decode_sig, ecdsa_sign
from kms_ref.crypto.ecmult import double_mul, point_mul_g
from kms_ref.crypto.rfc6979 import ALGO16_SCHNORR_BCH, rfc6979_nonces
from kms_ref.crypto.schnorr_bch import schnorr_challenge, schnorr_sign, schnorr_verify
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.crypto.secp256k1 import N, P, jacobi, parse_pubkey

VECTORS = json.loads(
    (pathlib.Path(__file__).resolve().parent.parent / "vectors" / "bch_schnorr.json").read_text())
SEED = 20190515


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


@pytest.mark.parametrize("case", VECTORS["sign"], ids=[c["id"] for c in VECTORS["sign"]])
def test_sign_vectors(case):
    seckey, msg32 = bytes.fromhex(case["seckey"]), bytes.fromhex(case["msg32"])
    if case["message"] is not None:
        assert sha256d(case["message"].encode()) == msg32
    pubkey = pubkey_from_seckey(seckey)
    assert pubkey.hex() == case["pubkey"]
    sig = schnorr_sign(seckey, msg32)
    assert sig.hex() == case["sig"]
    assert schnorr_verify(pubkey, msg32, sig)
    assert schnorr_verify(pubkey_from_seckey(seckey, compressed=False), msg32, sig)


@pytest.mark.parametrize("case", VECTORS["verify"], ids=[c["id"] for c in VECTORS["verify"]])
def test_verify_vectors(case):
    args = (bytes.fromhex(case[k]) for k in ("pubkey", "msg32", "sig"))
    assert schnorr_verify(*args) is case["valid"], case["comment"]


def test_nonce_is_rfc6979_with_algo16_appended():
    # What Bitcoin ABC's secp256k1_schnorr_sig_generate_k feeds nonce_function_rfc6979:
    # key || msg || "Schnorr+SHA256  ", then the spec's k := n - k unless y(kG) is a square.
    seckey, msg32 = b"\x05" * 32, b"\x06" * 32
    K, V = b"\x00" * 32, b"\x01" * 32
    seed = seckey + msg32 + b"Schnorr+SHA256  "
    for step in (b"\x00", b"\x01"):
        K = hmac.digest(K, V + step + seed, "sha256")
        V = hmac.digest(K, V, "sha256")
    k = int.from_bytes(hmac.digest(K, V, "sha256"), "big")
    assert next(rfc6979_nonces(seckey, msg32, algo16=ALGO16_SCHNORR_BCH)) == k
    sig = schnorr_sign(seckey, msg32)
    R = point_mul_g(k)
    assert int.from_bytes(sig[:32], "big") == R[0]
    k_used = k if jacobi(R[1]) == 1 else N - k
    e = schnorr_challenge(sig[:32], parse_pubkey(pubkey_from_seckey(seckey)), msg32)
    assert int.from_bytes(sig[32:], "big") == (k_used + e * int.from_bytes(seckey, "big")) % N


def test_sign_verify_tamper_random():
    rng = random.Random(SEED)
    for i in range(100):
        seckey = rng.randrange(1, N).to_bytes(32, "big")
        msg32 = rng.randbytes(32)
        sig = schnorr_sign(seckey, msg32)
        where = "seed %d, case %d" % (SEED, i)
        pubkey = pubkey_from_seckey(seckey)
        assert len(sig) == 64 and schnorr_verify(pubkey, msg32, sig), where
        assert sig == schnorr_sign(seckey, msg32), where
        # The spec's invariant: R' = sG - eP has x = r and a square y.
        r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        R = double_mul(s, N - schnorr_challenge(sig[:32], parse_pubkey(pubkey), msg32),
                       parse_pubkey(pubkey))
        assert R[0] == r and jacobi(R[1]) == 1, where
        flipped = bytearray(msg32)
        flipped[rng.randrange(32)] ^= 1 << rng.randrange(8)
        assert not schnorr_verify(pubkey, bytes(flipped), sig), where
        bad = bytearray(sig)
        bad[rng.randrange(64)] ^= 1 << rng.randrange(8)
        assert not schnorr_verify(pubkey, msg32, bytes(bad)), where
        other = pubkey_from_seckey(rng.randrange(1, N).to_bytes(32, "big"))
        assert not schnorr_verify(other, msg32, sig), where
        assert not schnorr_verify(pubkey, msg32, sig[:32] + (N - s).to_bytes(32, "big")), where
        # Never the ECDSA nonce for the same key and message (ABC key_tests checks this too).
        assert der_decode_sig(ecdsa_sign(seckey, msg32))[0] != r, where


def test_verify_rejections():
    seckey, msg32 = b"\x09" * 32, b"\x0a" * 32
    pubkey = pubkey_from_seckey(seckey)
    sig = schnorr_sign(seckey, msg32)
    r, s = sig[:32], int.from_bytes(sig[32:], "big")
    assert not schnorr_verify(pubkey, msg32, P.to_bytes(32, "big") + sig[32:])  # r = p
    assert not schnorr_verify(pubkey, msg32, r + N.to_bytes(32, "big"))  # s = n
    if s + N < 2**256:
        assert not schnorr_verify(pubkey, msg32, r + (s + N).to_bytes(32, "big"))  # s + n
    for bad in (sig[:63], sig + b"\x41", b"", None, sig.hex()):
        assert schnorr_verify(pubkey, msg32, bad) is False
    for bad_key in (b"", b"\x02" * 33, b"\x05" + pubkey[1:], None):
        assert schnorr_verify(bad_key, msg32, sig) is False
    with pytest.raises(ValueError):
        schnorr_verify(pubkey, msg32[:31], sig)


def test_sign_refuses_bad_input_without_echoing_the_key():
    for seckey in (bytes(32), N.to_bytes(32, "big"), b"\x01" * 33):
        with pytest.raises(ValueError) as err:
            schnorr_sign(seckey, bytes(32))
        assert seckey.hex() not in str(err.value)
    with pytest.raises(ValueError):
        schnorr_sign(b"\x01" * 32, bytes(33))


def test_explain_withholds_secrets():
    seckey, msg32 = b"\x42" * 32, sha256d(b"explain schnorr")
    lines = []
    sig = schnorr_sign(seckey, msg32, explain=lines.append)
    text = "\n".join(lines).lower()
    assert "jacobi" in text and "schnorr+sha256" in text and sig.hex() in text
    k = next(rfc6979_nonces(seckey, msg32, algo16=ALGO16_SCHNORR_BCH))
    for secret in (seckey.hex(), "%064x" % k, "%064x" % (N - k)):
        assert secret not in text
