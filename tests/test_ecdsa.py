"""ECDSA (SEC 1 §4.1) with RFC 6979 nonces, low S and BIP66 DER: Wycheproof's Bitcoin variant,
published RFC 6979 vectors, and sign/verify properties."""

import hashlib
import hmac
import json
import pathlib
import random

import pytest

import kms_ref.secp256k1 as public
from kms_ref.crypto.ecdsa import (
    HALF_N, der_decode_sig, der_encode_sig, ecdsa_sign, ecdsa_verify, ecdsa_verify_rs,
)
from kms_ref.crypto.rfc6979 import rfc6979_nonces
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.crypto.secp256k1 import N, P, parse_pubkey

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "vectors"
WYCHEPROOF = json.loads((VECTORS / "wycheproof_ecdsa_secp256k1_bitcoin.json").read_text())
RFC6979 = json.loads((VECTORS / "rfc6979_secp256k1.json").read_text())
SEED = 6979


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- Wycheproof, Bitcoin variant -----------------------------------------------------------

WYCHEPROOF_CASES = [
    pytest.param(group["publicKey"]["uncompressed"], test, id="tc%d" % test["tcId"])
    for group in WYCHEPROOF["testGroups"] for test in group["tests"]
]


def test_wycheproof_file_is_complete_and_has_no_acceptable_cases():
    assert len(WYCHEPROOF_CASES) == WYCHEPROOF["numberOfTests"] == 463
    # "acceptable" would mean "either answer is fine"; Bitcoin has no such leeway, and this
    # file has none: every case is exactly "valid" (verify True) or "invalid" (verify False).
    results = {case.values[1]["result"] for case in WYCHEPROOF_CASES}
    assert results == {"valid", "invalid"}


@pytest.mark.parametrize("pubkey_hex, test", WYCHEPROOF_CASES)
def test_wycheproof_ecdsa_bitcoin(pubkey_hex, test):
    msg32 = sha256(bytes.fromhex(test["msg"]))
    verdict = ecdsa_verify(bytes.fromhex(pubkey_hex), msg32, bytes.fromhex(test["sig"]))
    assert verdict is (test["result"] == "valid"), (test["comment"], test["flags"])


# --- Published RFC 6979 vectors ------------------------------------------------------------

@pytest.mark.parametrize("case", RFC6979["ecdsa"], ids=[c["id"] for c in RFC6979["ecdsa"]])
def test_rfc6979_signatures(case):
    seckey, msg32 = bytes.fromhex(case["seckey"]), bytes.fromhex(case["msg32"])
    if case["message"] is not None:
        digest = sha256(case["message"].encode())
        if case["id"].startswith("bitcoin-core"):
            digest = sha256(digest)  # Bitcoin Core's Hash() is SHA-256 twice
        assert digest == msg32
    if case["k"] is not None:
        assert next(rfc6979_nonces(seckey, msg32)) == int(case["k"], 16)
    r, s = int(case["r"], 16), int(case["s_published"], 16)
    assert bytes.fromhex(case["der"]) == der_encode_sig(r, min(s, N - s))  # the low-S form
    assert ecdsa_sign(seckey, msg32).hex() == case["der"]
    assert ecdsa_verify(pubkey_from_seckey(seckey), msg32, bytes.fromhex(case["der"]))


SEQUENCES = RFC6979["nonce_sequences"]


@pytest.mark.parametrize("case", SEQUENCES, ids=[c["id"] for c in SEQUENCES])
def test_rfc6979_candidate_sequence(case):
    msg32 = bytes.fromhex(case["msg32"])
    assert sha256(case["message"].encode()) == msg32
    nonces = rfc6979_nonces(bytes.fromhex(case["seckey"]), msg32)
    ks = [next(nonces) for _ in range(16)]
    assert (ks[0], ks[1], ks[15]) == tuple(int(case[k], 16) for k in ("k0", "k1", "k15"))


def test_rfc6979_extra_data_goes_before_algo16():
    # libsecp256k1's nonce_function_rfc6979 seeds key || msg || data32 || algo16.
    seckey, msg32, data32, algo16 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, b"ABCDEFGHIJKLMNOP"
    K, V = b"\x00" * 32, b"\x01" * 32
    seed = seckey + msg32 + data32 + algo16
    K = hmac.digest(K, V + b"\x00" + seed, "sha256")
    V = hmac.digest(K, V, "sha256")
    K = hmac.digest(K, V + b"\x01" + seed, "sha256")
    V = hmac.digest(K, V, "sha256")
    V = hmac.digest(K, V, "sha256")
    got = next(rfc6979_nonces(seckey, msg32, data32=data32, algo16=algo16))
    assert got == int.from_bytes(V, "big")
    with pytest.raises(ValueError):
        next(rfc6979_nonces(seckey, msg32, data32=b"\x00" * 31))
    with pytest.raises(ValueError):
        next(rfc6979_nonces(seckey, msg32, algo16=b"short"))


def test_rfc6979_reduces_the_message_mod_n():
    # RFC 6979 bits2octets (and libsecp256k1): a digest >= n is used as digest - n.
    seckey = b"\x07" * 32
    high = N + 5
    assert next(rfc6979_nonces(seckey, high.to_bytes(32, "big"))) == \
        next(rfc6979_nonces(seckey, (5).to_bytes(32, "big")))


# --- DER -------------------------------------------------------------------------------------

def test_der_round_trip_random():
    rng = random.Random(SEED)
    for _ in range(500):
        r, s = rng.randrange(1, N), rng.randrange(1, N) >> rng.randrange(0, 250)
        s = max(s, 1)
        der = der_encode_sig(r, s)
        assert der_decode_sig(der) == (r, s), "seed %d" % SEED
    assert der_encode_sig(1, 1).hex() == "3006020101020101"
    assert der_encode_sig(0x80, 0x7F).hex() == "30070202008002017f"
    for bad in (0, N, -1):
        with pytest.raises(ValueError):
            der_encode_sig(bad, 1)


BAD_DER = {
    "empty": "",
    "seven-bytes": "30050201010201",
    "73-bytes": "3047" + "0221" + "00" + "ff" * 32 + "0222" + "0000" + "ff" * 32,
    "not-a-sequence": "3106020101020101",
    "total-length-too-long": "3007020101020101",
    "total-length-too-short": "3005020101020101",
    "trailing-byte": "300602010102010100",
    "r-overruns": "3006020401020101",
    "lengths-do-not-add-up": "3006020101020201",
    "r-not-integer": "3006030101020101",
    "s-not-integer": "3006020101030101",
    "r-zero-length": "3006020002020101",
    "s-zero-length": "3006020201010200",
    "r-negative": "3006020181020101",
    "s-negative": "3006020101020181",
    "r-superfluous-zero": "300702020001020101",
    "s-superfluous-zero": "300702010102020001",
}


@pytest.mark.parametrize("der_hex", BAD_DER.values(), ids=BAD_DER.keys())
def test_der_bip66_rejections(der_hex):
    with pytest.raises(ValueError):
        der_decode_sig(bytes.fromhex(der_hex))
    pubkey = pubkey_from_seckey(b"\x01" * 32)
    assert ecdsa_verify(pubkey, bytes(32), bytes.fromhex(der_hex)) is False


def test_der_accepts_the_needed_zero_byte():
    assert der_decode_sig(bytes.fromhex("30070202008002017f")) == (0x80, 0x7F)


# --- Signing and verifying ----------------------------------------------------------------

def test_sign_verify_tamper_random():
    rng = random.Random(SEED + 1)
    for i in range(100):
        seckey = rng.randrange(1, N).to_bytes(32, "big")
        msg32 = rng.randbytes(32)
        sig = ecdsa_sign(seckey, msg32)
        where = "seed %d, case %d" % (SEED + 1, i)
        r, s = der_decode_sig(sig)
        assert s <= HALF_N, where
        assert sig == ecdsa_sign(seckey, msg32), where  # deterministic
        for compressed in (True, False):
            assert ecdsa_verify(pubkey_from_seckey(seckey, compressed), msg32, sig), where
        pubkey = pubkey_from_seckey(seckey)
        flipped = bytearray(msg32)
        flipped[rng.randrange(32)] ^= 1 << rng.randrange(8)
        assert not ecdsa_verify(pubkey, bytes(flipped), sig), where
        bad = bytearray(sig)
        bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
        assert not ecdsa_verify(pubkey, msg32, bytes(bad)), where
        other = pubkey_from_seckey(rng.randrange(1, N).to_bytes(32, "big"))
        assert not ecdsa_verify(other, msg32, sig), where
        assert not ecdsa_verify(pubkey, msg32, der_encode_sig(r, N - s)), where  # high S
        assert ecdsa_verify_rs(parse_pubkey(pubkey), msg32, r, N - s), where  # ...yet valid math


def test_verify_range_checks():
    seckey, msg32 = b"\x11" * 32, b"\x22" * 32
    Q = parse_pubkey(pubkey_from_seckey(seckey))
    r, s = der_decode_sig(ecdsa_sign(seckey, msg32))
    assert ecdsa_verify_rs(Q, msg32, r, s)
    for bad_r, bad_s in ((0, s), (r, 0), (r + N, s), (r, s + N), (N, s), (r, N)):
        assert not ecdsa_verify_rs(Q, msg32, bad_r, bad_s)
    assert N < P  # r + n < p is possible: both x values that reduce to r are tried


def test_verify_never_raises_on_bad_signature_or_key():
    msg32 = bytes(32)
    good_key = pubkey_from_seckey(b"\x01" * 32)
    good_sig = ecdsa_sign(b"\x01" * 32, msg32)
    for pubkey in (b"", b"\x02" * 33, "02" * 33, None, 12):
        assert ecdsa_verify(pubkey, msg32, good_sig) is False
    for sig in (b"", b"\x30", None, "3006020101020101", bytearray(b"\x30\x00")):
        assert ecdsa_verify(good_key, msg32, sig) is False
    with pytest.raises(ValueError):
        ecdsa_verify(good_key, msg32[:31], good_sig)


def test_sign_refuses_bad_input_without_echoing_the_key():
    for seckey in (bytes(32), N.to_bytes(32, "big"), b"\x01" * 31):
        with pytest.raises(ValueError) as err:
            ecdsa_sign(seckey, bytes(32))
        assert seckey.hex() not in str(err.value)
    with pytest.raises(ValueError):
        ecdsa_sign(b"\x01" * 32, bytes(31))


def _drbg_states(seckey: bytes, msg32: bytes, count: int):
    """Every K and V the RFC 6979 generator holds for the first `count` candidates."""
    states, K, V = [], b"\x00" * 32, b"\x01" * 32
    seed = seckey + (int.from_bytes(msg32, "big") % N).to_bytes(32, "big")
    for step in (b"\x00", b"\x01"):
        K = hmac.digest(K, V + step + seed, "sha256")
        V = hmac.digest(K, V, "sha256")
        states += [K, V]
    for _ in range(count):
        V = hmac.digest(K, V, "sha256")
        states.append(V)
        K = hmac.digest(K, V + b"\x00", "sha256")
        V = hmac.digest(K, V, "sha256")
        states += [K, V]
    return states


def test_explain_names_the_steps_and_withholds_secrets():
    seckey = bytes.fromhex("12b004fff7f4b69ef8650e767f18f11ede158148b425660723b9f9a66e61f747")
    msg32 = sha256(b"explain me")
    lines = []
    sig = ecdsa_sign(seckey, msg32, explain=lines.append)
    text = "\n".join(lines).lower()
    for step in ("§3.2 b.", "§3.2 d.", "§3.2 f.", "§3.2 h.", "low s", "der"):
        assert step in text
    assert sig.hex() in text
    k = next(rfc6979_nonces(seckey, msg32))
    secrets = [seckey.hex(), "%064x" % k, "%x" % k]
    secrets += [v.hex() for v in _drbg_states(seckey, msg32, 2)]
    for secret in secrets:
        assert secret not in text
    assert "withheld" in text


def test_public_module_re_exports():
    assert public.ecdsa_sign is ecdsa_sign and public.ecdsa_verify is ecdsa_verify
    assert public.pubkey_from_seckey is pubkey_from_seckey
    assert public.der_encode_sig is der_encode_sig and public.der_decode_sig is der_decode_sig
