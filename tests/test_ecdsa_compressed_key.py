"""ECDSA verification against a compressed key without its square root
(kms_ref.crypto.ecdsa_compressed_key): every verdict is the plain one — parse the key, then
SEC 1 §4.1.4 — on Wycheproof's cases with their keys compressed, on random and tampered
signatures, on keys off the curve, and on the rare cases the chord formula hands back."""

import hashlib
import json
import pathlib
import random

import pytest

from kms_ref.crypto.ecdsa import HALF_N, der_decode_sig, der_encode_sig, ecdsa_sign, ecdsa_verify, ecdsa_verify_rs
from kms_ref.crypto.ecdsa_compressed_key import verify_compressed_key
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.crypto.secp256k1 import (
    G, N, P, field_sqrt, forget_pubkeys, known_pubkey, learn_pubkey, parse_pubkey, point_add,
    point_mul, point_neg, ser_p,
)

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "vectors"
WYCHEPROOF = json.loads((VECTORS / "wycheproof_ecdsa_secp256k1_bitcoin.json").read_text())
SEED = 1404


def plain_verdict(pubkey: bytes, msg32: bytes, r: int, s: int) -> bool:
    """The definition: parse the key (a square root), then SEC 1 §4.1.4."""
    forget_pubkeys()
    try:
        Q = parse_pubkey(pubkey)
    except ValueError:
        return False
    return ecdsa_verify_rs(Q, msg32, r, s)


def fresh_verdict(pubkey: bytes, msg32: bytes, r: int, s: int):
    forget_pubkeys()
    return verify_compressed_key(pubkey, msg32, r, s)


def compress(uncompressed_hex: str) -> bytes:
    data = bytes.fromhex(uncompressed_hex)
    return bytes([2 + (data[-1] & 1)]) + data[1:33]


def test_wycheproof_with_the_keys_compressed():
    decided = undecided = 0
    for group in WYCHEPROOF["testGroups"]:
        pubkey = compress(group["publicKey"]["uncompressed"])
        for test in group["tests"]:
            where = (test["tcId"], test["comment"])
            msg32 = hashlib.sha256(bytes.fromhex(test["msg"])).digest()
            forget_pubkeys()
            verdict = ecdsa_verify(pubkey, msg32, bytes.fromhex(test["sig"]))
            assert verdict is (test["result"] == "valid"), where
            try:
                r, s = der_decode_sig(bytes.fromhex(test["sig"]))
            except ValueError:
                continue
            fresh = fresh_verdict(pubkey, msg32, r, s)
            if fresh is None:
                undecided += 1
            else:
                decided += 1
                assert fresh is plain_verdict(pubkey, msg32, r, s), where
    print("decided %d, left to the plain way %d" % (decided, undecided))
    assert decided > 10 * undecided  # the path was taken, not only its fallback


def test_random_signatures_tampered_and_with_the_wrong_parity():
    rng = random.Random(SEED)
    for i in range(60):
        seckey = rng.randrange(1, N).to_bytes(32, "big")
        msg32 = rng.randbytes(32)
        pubkey = pubkey_from_seckey(seckey)
        r, s = der_decode_sig(ecdsa_sign(seckey, msg32))
        flipped = bytearray(msg32)
        flipped[rng.randrange(32)] ^= 1 << rng.randrange(8)
        other_parity = bytes([pubkey[0] ^ 1]) + pubkey[1:]
        cases = [(pubkey, msg32, r, s, True), (pubkey, bytes(flipped), r, s, False),
                 (other_parity, msg32, r, s, False), (pubkey, msg32, r, N - s, True),
                 (pubkey, msg32, (r + 1) % N, s, False), (pubkey, msg32, r, (s * 3) % N, False)]
        for key, msg, rr, ss, expected in cases:
            where = "seed %d, case %d" % (SEED, i)
            assert plain_verdict(key, msg, rr, ss) is expected, where
            assert fresh_verdict(key, msg, rr, ss) is expected, where


def test_a_valid_signature_teaches_y_and_an_invalid_one_nothing():
    seckey, msg32 = b"\x42" * 32, b"\x24" * 32
    pubkey = pubkey_from_seckey(seckey)
    r, s = der_decode_sig(ecdsa_sign(seckey, msg32))
    forget_pubkeys()
    assert verify_compressed_key(pubkey, msg32, r, (s * 5) % N) is False
    assert known_pubkey(pubkey) is None
    assert verify_compressed_key(pubkey, msg32, r, s) is True
    learnt = known_pubkey(pubkey)
    forget_pubkeys()
    assert learnt == parse_pubkey(pubkey)  # the y found is the square root with the right parity
    with pytest.raises(ValueError):  # and nothing but the true point can be taught
        learn_pubkey(pubkey, point_neg(learnt))


def test_keys_off_the_curve_and_beyond_p_are_refused():
    rng = random.Random(SEED + 1)
    seckey, msg32 = b"\x07" * 32, b"\x70" * 32
    r, s = der_decode_sig(ecdsa_sign(seckey, msg32))
    off = 0
    while off < 20:
        x = rng.randrange(P)
        if field_sqrt((x ** 3 + 7) % P) is not None:
            continue
        off += 1
        for prefix in (2, 3):
            key = bytes([prefix]) + x.to_bytes(32, "big")
            assert fresh_verdict(key, msg32, r, s) is False
            assert ecdsa_verify(key, msg32, der_encode_sig(r, s)) is False
    for x in (P, P + 1, 2 ** 256 - 1):
        assert fresh_verdict(b"\x02" + x.to_bytes(32, "big"), msg32, r, s) is False


def test_x_of_R_at_least_n_is_checked_as_r_plus_n():
    """A signature whose R has x ≥ n (so r = x(R) − n): built backwards, picking R first and
    solving for the key, Q = u2⁻¹·(R − u1·G). Random keys give such an R with odds 2^-128."""
    rng = random.Random(SEED + 2)
    x_R = N + 1  # r = x_R − n must be at least 1
    while field_sqrt((x_R ** 3 + 7) % P) is None:
        x_R += 1
    R = (x_R, field_sqrt((x_R ** 3 + 7) % P))
    r = x_R - N
    for i in range(4):
        msg32 = rng.randbytes(32)
        s = rng.randrange(1, HALF_N)
        w = pow(s, -1, N)
        u1, u2 = int.from_bytes(msg32, "big") * w % N, r * w % N
        Q = point_mul(pow(u2, -1, N), point_add(R, point_neg(point_mul(u1, G))))
        pubkey = ser_p(Q)
        assert plain_verdict(pubkey, msg32, r, s) is True
        assert fresh_verdict(pubkey, msg32, r, s) is True
        assert fresh_verdict(bytes([pubkey[0] ^ 1]) + pubkey[1:], msg32, r, s) is False


def test_the_cases_left_to_the_plain_way():
    rng = random.Random(SEED + 3)
    # u1 = 0: a digest ≡ 0 (mod n); A = u1·G is infinity, the chord has no A.
    seckey = rng.randrange(1, N).to_bytes(32, "big")
    pubkey = pubkey_from_seckey(seckey)
    for msg32 in (bytes(32), N.to_bytes(32, "big")):
        r, s = der_decode_sig(ecdsa_sign(seckey, msg32))
        assert fresh_verdict(pubkey, msg32, r, s) is None
        forget_pubkeys()
        assert ecdsa_verify(pubkey, msg32, der_encode_sig(r, s)) is True
    # A = ±B: the key d = ±e/r makes u2·Q = ±u1·G; with s = 2e/k the signature is valid for +.
    k, e = rng.randrange(1, N), rng.randrange(1, N)
    msg32 = e.to_bytes(32, "big")
    r = point_mul(k, G)[0] % N
    s = 2 * e * pow(k, -1, N) % N
    s = min(s, N - s)
    for d, valid in ((e * pow(r, -1, N) % N, True), (-e * pow(r, -1, N) % N, False)):
        pubkey = pubkey_from_seckey(d.to_bytes(32, "big"))
        assert fresh_verdict(pubkey, msg32, r, s) is None
        assert plain_verdict(pubkey, msg32, r, s) is valid
        forget_pubkeys()
        assert ecdsa_verify(pubkey, msg32, der_encode_sig(r, s)) is valid


def test_the_memory_of_parsed_keys_is_bounded_and_least_recently_used_first(monkeypatch):
    from kms_ref.crypto import secp256k1

    monkeypatch.setattr(secp256k1, "_PUBKEYS_MAX", 3)
    forget_pubkeys()
    keys = [ser_p(point_mul(k, G)) for k in range(1, 6)]
    for key in keys[:3]:
        parse_pubkey(key)
    parse_pubkey(keys[0])  # now the most recently used
    parse_pubkey(keys[3])  # pushes out keys[1], the least recently used
    assert [known_pubkey(key) is not None for key in keys] == [True, False, True, True, False]
    forget_pubkeys()
    assert all(known_pubkey(key) is None for key in keys)
