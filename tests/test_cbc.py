"""AES-CBC with PKCS #7: SP 800-38A's examples, every Wycheproof vector, padding edge cases."""

import importlib
import json
import random
from pathlib import Path

import pytest

from kms_ref.crypto import cbc
from kms_ref.crypto.aes import AES, cipher, inv_cipher, key_expansion
from kms_ref.crypto.aes_sliced import CHUNK_BLOCKS
from kms_ref.crypto.cbc import (
    cbc_decrypt, cbc_decrypt_blocks, cbc_encrypt, cbc_encrypt_blocks, pkcs7_pad, pkcs7_unpad)

VECTORS = Path(__file__).parent.parent / "vectors"
SP800_38A = json.loads((VECTORS / "nist_sp800_38a_cbc.json").read_text())
WYCHEPROOF = json.loads((VECTORS / "wycheproof_aes_cbc_pkcs5.json").read_text())
WYCHEPROOF_CASES = [(group, test) for group in WYCHEPROOF["testGroups"] for test in group["tests"]]


def _cbc_plain(key, iv, data, decrypt=False):
    """CBC as §6.2 writes it, block by block over the plain FIPS 197 cipher."""
    w, previous, out = key_expansion(key), iv, b""
    for i in range(0, len(data), 16):
        block = data[i:i + 16]
        if decrypt:
            out += bytes(a ^ b for a, b in zip(inv_cipher(block, w), previous))
            previous = block
        else:
            previous = cipher(bytes(a ^ b for a, b in zip(block, previous)), w)
            out += previous
    return out


# Decryption runs block by block on the T-tables below cbc.MIN_BLOCKS blocks and byte-sliced
# from there on; each test that takes `path` runs once with every message on each.
MIN_BLOCKS = {"t-tables": 10 ** 9, "sliced": 1}


@pytest.fixture(params=sorted(MIN_BLOCKS))
def path(request, monkeypatch):
    monkeypatch.setattr(cbc, "MIN_BLOCKS", MIN_BLOCKS[request.param])
    return request.param


def _optional(name):
    """An independent AES (pycryptodome) when this Python has it; never needed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@pytest.mark.parametrize("case", SP800_38A["vectors"], ids=lambda c: c["name"])
def test_sp800_38a_f2(case, path):
    key, iv, pt, ct = (bytes.fromhex(case[k]) for k in ("key", "iv", "plaintext", "ciphertext"))
    aes = AES(key)
    assert cbc_encrypt_blocks(aes, iv, pt) == ct
    assert cbc_decrypt_blocks(aes, iv, ct) == pt
    assert _cbc_plain(key, iv, pt) == ct
    assert _cbc_plain(key, iv, ct, decrypt=True) == pt
    # With padding: the same blocks, then one block of sixteen 0x10 chained on.
    padded = cbc_encrypt(key, iv, pt)
    assert padded[:-16] == ct
    assert padded[-16:] == aes.encrypt_block(bytes(a ^ 0x10 for a in ct[-16:]))
    assert cbc_decrypt(key, iv, padded) == pt


@pytest.mark.parametrize(
    "group,test", WYCHEPROOF_CASES,
    ids=["tc%d-%s" % (t["tcId"], "-".join(t["flags"]) or "none") for _, t in WYCHEPROOF_CASES])
def test_wycheproof(group, test, path):
    key, iv, msg, ct = (bytes.fromhex(test[k]) for k in ("key", "iv", "msg", "ct"))
    assert (8 * len(key), 8 * len(iv)) == (group["keySize"], group["ivSize"])
    if test["result"] == "valid":
        assert cbc_encrypt(key, iv, msg) == ct
        assert cbc_decrypt(key, iv, ct) == msg
    else:
        assert test["result"] == "invalid"
        with pytest.raises(ValueError) as failure:
            cbc_decrypt(key, iv, ct)
        if "BadPadding" in test["flags"]:
            assert str(failure.value) == "bad padding"


@pytest.mark.parametrize(
    "group,test", WYCHEPROOF_CASES,
    ids=["tc%d-%s" % (t["tcId"], "-".join(t["flags"]) or "none") for _, t in WYCHEPROOF_CASES])
def test_wycheproof_plain(group, test):
    """The same vectors through CBC written out over the plain FIPS 197 cipher."""
    key, iv, msg, ct = (bytes.fromhex(test[k]) for k in ("key", "iv", "msg", "ct"))
    if test["result"] == "valid":
        assert _cbc_plain(key, iv, pkcs7_pad(msg)) == ct
        assert pkcs7_unpad(_cbc_plain(key, iv, ct, decrypt=True)) == msg
    else:
        with pytest.raises(ValueError):
            pkcs7_unpad(_cbc_plain(key, iv, ct, decrypt=True))


def test_wycheproof_is_read_whole():
    assert len(WYCHEPROOF_CASES) == WYCHEPROOF["numberOfTests"]


@pytest.mark.parametrize("length", range(0, 34))
def test_pkcs7_every_length(length):
    data = bytes(range(length))
    padded = pkcs7_pad(data)
    n = 16 - length % 16
    assert len(padded) % 16 == 0 and padded == data + bytes([n]) * n
    assert pkcs7_unpad(padded) == data


@pytest.mark.parametrize("padded", [
    b"", bytes(16), b"\x00" * 15 + b"\x11", b"\x01" * 14 + b"\x03\x02", b"\x05" * 4,
    b"A" * 13 + b"\x02\x03\x03", b"\xff" * 16], ids=repr)
def test_pkcs7_rejects(padded):
    with pytest.raises(ValueError, match="^bad padding$"):
        pkcs7_unpad(padded)


def test_fast_matches_plain_random(path):
    seed = 3880
    rng = random.Random(seed)
    for _ in range(30):
        key, iv = rng.randbytes(rng.choice([16, 24, 32])), rng.randbytes(16)
        plaintext = rng.randbytes(rng.randrange(0, 80))
        ciphertext = cbc_encrypt(key, iv, plaintext)
        assert ciphertext == _cbc_plain(key, iv, pkcs7_pad(plaintext)), f"seed={seed}"
        assert cbc_decrypt(key, iv, ciphertext) == plaintext, f"seed={seed}"


@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_sliced_matches_block_by_block_on_every_length(key_size, monkeypatch):
    """Every plaintext length from 0 to 300 bytes, then block counts up to several hundred and
    a few of several chunks: decryption byte-sliced (forced) against the T-tables (forced)."""
    seed = 6_2000 + key_size
    rng = random.Random(seed)
    lengths = list(range(0, 301)) + [16 * b + rng.randrange(16) for b in (99, 256, 511, 700)] \
        + [16 * (CHUNK_BLOCKS - 1), 16 * CHUNK_BLOCKS + 5, 16 * (2 * CHUNK_BLOCKS + 9) + 15]
    for length in lengths:
        key, iv, plaintext = rng.randbytes(key_size), rng.randbytes(16), rng.randbytes(length)
        ciphertext = cbc_encrypt(key, iv, plaintext)
        monkeypatch.setattr(cbc, "MIN_BLOCKS", 10 ** 9)
        block_by_block = cbc_decrypt_blocks(AES(key), iv, ciphertext)
        monkeypatch.setattr(cbc, "MIN_BLOCKS", 1)
        assert cbc_decrypt_blocks(AES(key), iv, ciphertext) == block_by_block, \
            f"seed={seed} length={length}"
        assert cbc_decrypt(key, iv, ciphertext) == plaintext, f"seed={seed} length={length}"


def test_independent_aes_when_present():
    """Against pycryptodome's CBC (C) when it is importable; against the plain cipher on the
    first two blocks always, so the test never passes vacuously."""
    crypto_aes = _optional("Crypto.Cipher.AES")
    seed = 38_0038
    rng = random.Random(seed)
    for _ in range(10):
        key, iv = rng.randbytes(rng.choice([16, 24, 32])), rng.randbytes(16)
        plaintext = rng.randbytes(rng.randrange(0, 20_000))
        ciphertext = cbc_encrypt(key, iv, plaintext)
        assert ciphertext[:32] == _cbc_plain(key, iv, pkcs7_pad(plaintext))[:32], f"seed={seed}"
        assert cbc_decrypt(key, iv, ciphertext) == plaintext, f"seed={seed}"
        if crypto_aes is not None:
            assert ciphertext == crypto_aes.new(key, crypto_aes.MODE_CBC, iv).encrypt(pkcs7_pad(plaintext))


def test_bad_parameters():
    with pytest.raises(ValueError, match="IV must be 16 bytes"):
        cbc_encrypt(bytes(16), bytes(15), b"x")
    with pytest.raises(ValueError, match="IV must be 16 bytes"):
        cbc_decrypt(bytes(16), bytes(17), bytes(16))
    for length in (0, 15, 17, 33):
        with pytest.raises(ValueError, match="multiple of 16"):
            cbc_decrypt(bytes(16), bytes(16), bytes(length))
    with pytest.raises(ValueError, match="16, 24 or 32"):
        cbc_encrypt(bytes(20), bytes(16), b"x")
    with pytest.raises(ValueError, match="16, 24 or 32"):
        cbc_decrypt(bytes(20), bytes(16), bytes(16))
    with pytest.raises(ValueError, match="multiple of 16"):
        cbc_encrypt_blocks(AES(bytes(16)), bytes(16), bytes(5))


def test_raw_cbc_of_nothing_is_nothing():
    aes = AES(bytes(16))
    assert cbc_encrypt_blocks(aes, bytes(16), b"") == b""
    assert cbc_decrypt_blocks(aes, bytes(16), b"") == b""
