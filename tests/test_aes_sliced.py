"""Byte-sliced AES: the same blocks as the T-tables and the plain FIPS 197 cipher, for every
key size, on every length from 0 blocks up to several chunks."""

import importlib
import json
import random
import threading
from pathlib import Path

import pytest

from kms_ref.crypto import aes_sliced
from kms_ref.crypto.aes import AES, cipher, gf_mul, inv_cipher, key_expansion, xtime
from kms_ref.crypto.aes_sliced import CHUNK_BLOCKS, SlicedAES, to_slices

FIPS197 = json.loads((Path(__file__).parent.parent / "vectors" / "aes_fips197.json").read_text())


def _blockwise(function, data):
    return b"".join(function(data[i:i + 16]) for i in range(0, len(data), 16))


def _optional(name):
    """An independent AES (pycryptodome) when this Python has it; the tests do not need it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@pytest.mark.parametrize("case", FIPS197["example_vectors"], ids=lambda c: c["name"])
def test_example_vectors_appendix_c(case):
    key, pt, ct = (bytes.fromhex(case[k]) for k in ("key", "plaintext", "ciphertext"))
    sliced = SlicedAES(AES(key))
    assert sliced.encrypt_blocks(pt) == ct
    assert sliced.decrypt_blocks(ct) == pt
    # the same block many times over: every slice is one byte repeated
    assert sliced.encrypt_blocks(pt * 37) == ct * 37
    assert sliced.decrypt_blocks(ct * 37) == pt * 37


@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_matches_plain_cipher(key_size):
    """Against `cipher`/`inv_cipher`, the standard written out: few blocks (it is slow)."""
    seed = 1970 + key_size
    rng = random.Random(seed)
    for blocks in (1, 2, 3, 5, 17, 40):
        key, data = rng.randbytes(key_size), rng.randbytes(16 * blocks)
        w, sliced = key_expansion(key), SlicedAES(AES(key))
        assert sliced.encrypt_blocks(data) == _blockwise(lambda b: cipher(b, w), data), \
            f"seed={seed} blocks={blocks}"
        assert sliced.decrypt_blocks(data) == _blockwise(lambda b: inv_cipher(b, w), data), \
            f"seed={seed} blocks={blocks}"


LENGTHS = list(range(0, 70)) + [127, 128, 129, 255, 256, 257, 300, 511, 700,
                                CHUNK_BLOCKS - 1, CHUNK_BLOCKS, CHUNK_BLOCKS + 1, 2 * CHUNK_BLOCKS + 7]


@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_matches_t_tables_on_every_length(key_size):
    seed = 38_000 + key_size
    rng = random.Random(seed)
    for blocks in LENGTHS:
        key, data = rng.randbytes(key_size), rng.randbytes(16 * blocks)
        aes = AES(key)
        sliced = SlicedAES(aes)
        assert sliced.encrypt_blocks(data) == _blockwise(aes.encrypt_block, data), \
            f"seed={seed} blocks={blocks}"
        assert sliced.decrypt_blocks(data) == _blockwise(aes.decrypt_block, data), \
            f"seed={seed} blocks={blocks}"


def test_round_trip_large():
    seed = 4_600_000
    rng = random.Random(seed)
    sliced = SlicedAES(AES(rng.randbytes(32)))
    data = rng.randbytes(16 * (5 * CHUNK_BLOCKS + 3))
    assert sliced.decrypt_blocks(sliced.encrypt_blocks(data)) == data, f"seed={seed}"


def test_independent_aes_when_present():
    """pycryptodome's AES (C) on random keys and lengths when it is importable; the plain
    FIPS 197 cipher on the first block always, so this test never passes vacuously."""
    crypto_aes = _optional("Crypto.Cipher.AES")
    seed = 197_2001
    rng = random.Random(seed)
    for _ in range(12):
        key, data = rng.randbytes(rng.choice([16, 24, 32])), rng.randbytes(16 * rng.randrange(1, 600))
        sliced = SlicedAES(AES(key))
        encrypted = sliced.encrypt_blocks(data)
        assert encrypted[:16] == cipher(data[:16], key_expansion(key)), f"seed={seed}"
        if crypto_aes is not None:
            ecb = crypto_aes.new(key, crypto_aes.MODE_ECB)
            assert encrypted == ecb.encrypt(data), f"seed={seed}"
            assert sliced.decrypt_blocks(data) == ecb.decrypt(data), f"seed={seed}"


def test_slices_are_byte_positions():
    data = bytes(range(64))
    slices = to_slices(data)
    assert slices[0] == bytes([0, 16, 32, 48]) and slices[15] == bytes([15, 31, 47, 63])
    assert to_slices(data, 16, 48)[1] == bytes([17, 33])


def test_xtime_and_times4_on_every_byte_at_once():
    seed = 2
    rng = random.Random(seed)
    for size in (1, 2, 16, 1000):
        data = rng.randbytes(size)
        m80, mc0, m01, m02 = aes_sliced._lane_masks(size)
        lanes = aes_sliced._xtime(int.from_bytes(data, "big"), m80).to_bytes(size, "big")
        assert lanes == bytes(xtime(b) for b in data), f"seed={seed} size={size}"
        lanes = aes_sliced._times4(int.from_bytes(data, "big"), mc0, m01, m02).to_bytes(size, "big")
        assert lanes == bytes(gf_mul(b, 4) for b in data), f"seed={seed} size={size}"
    every = bytes(range(256))
    m80, mc0, m01, m02 = aes_sliced._lane_masks(256)
    assert aes_sliced._xtime(int.from_bytes(every, "big"), m80) == \
        int.from_bytes(bytes(xtime(b) for b in every), "big")
    assert aes_sliced._times4(int.from_bytes(every, "big"), mc0, m01, m02) == \
        int.from_bytes(bytes(gf_mul(b, 4) for b in every), "big")


def test_keyed_boxes_are_box_of_x_xor_k():
    boxes = aes_sliced._keyed_boxes(bytes(range(255, -1, -1)))  # any permutation will do
    for k in (0, 1, 0x53, 0xFF):
        assert boxes[k] == bytes(255 - (x ^ k) for x in range(256))


def test_bad_input_length():
    sliced = SlicedAES(AES(bytes(16)))
    assert sliced.encrypt_blocks(b"") == b"" and sliced.decrypt_blocks(b"") == b""
    for length in (1, 15, 17, 33):
        with pytest.raises(ValueError, match="whole number of 16-byte blocks"):
            sliced.encrypt_blocks(bytes(length))
        with pytest.raises(ValueError, match="whole number of 16-byte blocks"):
            sliced.decrypt_blocks(bytes(length))


def test_repr_hides_the_key():
    key = bytes(range(32))
    text = repr(SlicedAES(AES(key)))
    assert "redacted" in text and key.hex() not in text and "256" in text


def test_many_threads_from_a_cold_start():
    """The shared tables are made on first use; threads arriving together all get whole ones."""
    aes_sliced._keyed_boxes.cache_clear()
    aes_sliced._lane_masks.cache_clear()
    key, data = bytes(range(32)), bytes(range(256)) * 8
    aes = AES(key)
    expected_enc, expected_dec = _blockwise(aes.encrypt_block, data), _blockwise(aes.decrypt_block, data)
    shared = SlicedAES(aes)
    failures, start = [], threading.Barrier(16)

    def work():
        start.wait()
        for sliced in (shared, SlicedAES(AES(key))):
            if sliced.encrypt_blocks(data) != expected_enc or sliced.decrypt_blocks(data) != expected_dec:
                failures.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_inverse_mix_polynomial_is_mix_times_04x2_plus_05():
    """a^-1(x) = a(x)·({04}x^2 + {05}) mod x^4 + 1: the identity InvMixColumns is built on."""
    a = [0x02, 0x01, 0x01, 0x03]  # §5.1.3: {02} + {01}x + {01}x^2 + {03}x^3
    p = [0x05, 0x00, 0x04, 0x00]  # {05} + {04}x^2
    product = [0] * 4
    for i in range(4):
        for j in range(4):
            product[(i + j) % 4] ^= gf_mul(a[i], p[j])
    assert product == [0x0E, 0x09, 0x0D, 0x0B]  # §5.3.3: {0e} + {09}x + {0d}x^2 + {0b}x^3
