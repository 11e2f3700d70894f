"""RIPEMD-160 against the paper's test values, padding boundaries, and fast vs plain."""

import hashlib
import json
import random
from pathlib import Path

import pytest

from kms_ref.crypto.ripemd160 import compress, compress_plain, ripemd160, ripemd160_plain

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "ripemd160.json").read_text())
IMPLEMENTATIONS = [ripemd160, ripemd160_plain]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=lambda fn: fn.__name__)
@pytest.mark.parametrize("case", VECTORS["vectors"], ids=lambda c: c["id"])
def test_paper_vectors(case, impl):
    assert impl(case["message"].encode("ascii")).hex() == case["digest"]


def test_paper_million_a():
    case = VECTORS["million_a"]
    message = case["message"].encode("ascii") * case["repeat"]
    assert ripemd160(message).hex() == case["digest"]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=lambda fn: fn.__name__)
@pytest.mark.parametrize("case", VECTORS["padding_boundaries"], ids=lambda c: c["id"])
def test_padding_boundaries(case, impl):
    assert impl(bytes.fromhex(case["message_hex"])).hex() == case["digest"]


def test_fast_compress_matches_plain():
    seed = 160
    rng = random.Random(seed)
    for _ in range(300):
        h = tuple(rng.getrandbits(32) for _ in range(5))
        X = tuple(rng.getrandbits(32) for _ in range(16))
        assert compress(h, X) == compress_plain(h, X), f"seed={seed} h={h} X={X}"


def test_fast_matches_plain_random_lengths():
    seed = 20240
    rng = random.Random(seed)
    for length in list(range(0, 201)) + [rng.randrange(201, 1000) for _ in range(5)]:
        data = rng.randbytes(length)
        assert ripemd160(data) == ripemd160_plain(data), f"seed={seed} length={length}"


def test_accepts_bytes_like():
    assert ripemd160(bytearray(b"abc")) == ripemd160(memoryview(b"abc")) == ripemd160(b"abc")


def _hashlib_has_ripemd160() -> bool:
    try:
        hashlib.new("ripemd160")
    except ValueError:
        return False
    return True


@pytest.mark.skipif(not _hashlib_has_ripemd160(), reason="this OpenSSL build lacks RIPEMD-160")
def test_agrees_with_hashlib_when_present():
    """An extra check only; the paper's values above are the real one."""
    seed = 7
    rng = random.Random(seed)
    for length in range(0, 200, 7):
        data = rng.randbytes(length)
        expected = hashlib.new("ripemd160", data).digest()
        assert ripemd160(data) == expected, f"seed={seed} length={length}"
