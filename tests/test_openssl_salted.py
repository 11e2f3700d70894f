"""EVP_BytesToKey and the "Salted__" container: Tatum's real wallet.dat files and OpenSSL's CLI."""

import base64
import hashlib
import json
import random
from pathlib import Path

import pytest

from kms_ref.crypto.evp_bytes_to_key import evp_bytes_to_key
from kms_ref.crypto.openssl_salted import openssl_decrypt, openssl_encrypt

VECTORS = Path(__file__).parent.parent / "vectors"
TATUM = json.loads((VECTORS / "tatum_walletdat.json").read_text(encoding="utf-8"))
OPENSSL = json.loads((VECTORS / "openssl_enc_md5.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", TATUM["vectors"],
                         ids=["walletdat-%d" % i for i in range(len(TATUM["vectors"]))])
def test_tatum_walletdat(case):
    password = case["password"].encode("utf-8")  # CryptoJS UTF-8-encodes a string password
    plaintext = case["plaintext"].encode("utf-8")
    assert openssl_decrypt(case["walletDat"], password) == plaintext
    salt = base64.b64decode(case["walletDat"])[8:16]
    assert openssl_encrypt(plaintext, password, salt) == case["walletDat"]


@pytest.mark.parametrize("case", OPENSSL["vectors"], ids=lambda c: c["name"])
def test_openssl_enc_md5(case):
    password, plaintext = case["password"].encode("utf-8"), case["plaintext"].encode("utf-8")
    salt = bytes.fromhex(case["salt"])
    key, iv = evp_bytes_to_key(password, salt)
    assert (key.hex(), iv.hex()) == (case["key"], case["iv"])
    assert openssl_decrypt(case["openssl_enc"], password) == plaintext
    assert openssl_encrypt(plaintext, password, salt) == "".join(case["openssl_enc"].split())


def test_evp_bytes_to_key_is_the_md5_chain():
    password, salt = b"pw", b"saltsalt"
    d1 = hashlib.md5(password + salt).digest()
    d2 = hashlib.md5(d1 + password + salt).digest()
    d3 = hashlib.md5(d2 + password + salt).digest()
    assert evp_bytes_to_key(password, salt) == ((d1 + d2), d3)
    assert evp_bytes_to_key(password, salt, 16, 16) == (d1, d2)  # AES-128-CBC
    assert evp_bytes_to_key(password, salt, 24, 16) == ((d1 + d2)[:24], (d2 + d3)[8:24])
    assert evp_bytes_to_key(password, b"", 16, 0) == (hashlib.md5(password).digest(), b"")


def test_round_trip_with_random_salt():
    seed = 5652
    rng = random.Random(seed)
    for _ in range(10):
        plaintext, password = rng.randbytes(rng.randrange(0, 300)), rng.randbytes(12)
        text = openssl_encrypt(plaintext, password)
        assert openssl_decrypt(text, password) == plaintext, f"seed={seed}"
    assert openssl_encrypt(b"x", b"pw") != openssl_encrypt(b"x", b"pw")  # fresh salts


def test_wrong_password_is_an_error():
    case = TATUM["vectors"][0]
    with pytest.raises(ValueError, match="bad padding"):
        openssl_decrypt(case["walletDat"], b"not the password")


def _container(body: bytes, magic: bytes = b"Salted__") -> str:
    return base64.b64encode(magic + bytes(8) + body).decode()


@pytest.mark.parametrize("text", [
    "", "not base64!", "U2FsdGVkX1", "Ü" * 8,
    _container(b""), _container(bytes(15)), _container(bytes(17)),
    _container(bytes(16), b"Salted_-"),
    base64.b64encode(bytes(32)).decode()],
    ids=["empty", "not-base64", "truncated-header", "non-ascii", "no-body", "short-body",
         "ragged-body", "bad-magic", "no-magic"])
def test_malformed_input(text):
    with pytest.raises(ValueError):
        openssl_decrypt(text, b"pw")


def test_bad_salt_length():
    with pytest.raises(ValueError, match="salt must be 8 bytes"):
        openssl_encrypt(b"x", b"pw", bytes(7))
