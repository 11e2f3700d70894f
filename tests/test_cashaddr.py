"""CashAddr: every test vector of the spec, prefix handling, case rules, round trips."""

import json
import random
from pathlib import Path

import pytest

from kms_ref.encoding.base58 import b58check_decode
from kms_ref.encoding.bech32 import CHARSET
from kms_ref.encoding.cashaddr import (
    HASH_SIZES, P2PKH, P2SH, cashaddr_decode, cashaddr_decode_raw, cashaddr_encode,
    cashaddr_encode_raw, cashaddr_verify_checksum,
)

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "cashaddr.json").read_text())
LEGACY_VERSION_KIND = {0x00: P2PKH, 0x05: P2SH}  # Bitcoin (Cash) mainnet Base58 versions


@pytest.mark.parametrize("case", VECTORS["checksum_only"], ids=lambda c: c["id"])
def test_checksum_only_vectors(case):
    """Valid checksum, purposely invalid payload: the checksum verifies, decoding refuses."""
    prefix, _, body = case["address"].partition(":")
    assert cashaddr_verify_checksum(prefix, [CHARSET.index(char) for char in body])
    with pytest.raises(ValueError):
        cashaddr_decode(case["address"], prefix)


@pytest.mark.parametrize("case", VECTORS["translation"], ids=lambda c: c["id"])
def test_translation_vectors(case):
    payload = b58check_decode(case["legacy"])
    kind, hash160 = LEGACY_VERSION_KIND[payload[0]], payload[1:]
    assert cashaddr_encode("bitcoincash", kind, hash160) == case["cashaddr"]
    assert cashaddr_decode(case["cashaddr"], "bitcoincash") == (kind, hash160)


@pytest.mark.parametrize("case", VECTORS["larger"], ids=lambda c: c["id"])
def test_larger_vectors(case):
    prefix = case["address"].split(":")[0]
    data = bytes.fromhex(case["data"])
    assert len(data) == case["size"]
    assert cashaddr_encode(prefix, case["type"], data) == case["address"]
    assert cashaddr_decode(case["address"], prefix) == (case["type"], data)
    assert cashaddr_decode(case["address"].upper(), prefix) == (case["type"], data)
    without_prefix = case["address"].split(":")[1]
    assert cashaddr_decode(without_prefix, prefix) == (case["type"], data)


@pytest.mark.parametrize("case", VECTORS["undefined_types"], ids=lambda c: c["id"])
def test_undefined_type_vectors(case):
    data = bytes.fromhex(case["data"])
    assert len(data) == case["size"]
    type_byte = case["type"] << 3 | case["size_bits"]
    assert cashaddr_encode_raw("prefix", type_byte, data) == case["address"]
    assert cashaddr_decode_raw(case["address"], "prefix") == (type_byte, data)
    with pytest.raises(ValueError, match="unknown type"):  # type 15 is neither P2PKH nor P2SH
        cashaddr_decode(case["address"], "prefix")


GOOD = "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"


@pytest.mark.parametrize("address, prefix, message", [
    ("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvY22gdx6a", "bitcoincash", "mixes upper"),
    ("Bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "bitcoincash", "mixes upper"),
    ("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6b", "bitcoincash", "character outside"),
    ("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6q", "bitcoincash", "checksum"),
    (GOOD, "bchtest", "not for this network"),
    ("qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "bchtest", "checksum"),
    ("bitcoincash:" + GOOD, "bitcoincash", "character"),  # §Double prefix
    ("bitcoincash:qpm2qszn", "bitcoincash", "checksum"),
    ("bitcoincash:qpm2qsz", "bitcoincash", "shorter than"),
    ("", "bitcoincash", "shorter than"),
])
def test_decode_rejects(address, prefix, message):
    with pytest.raises(ValueError, match=message):
        cashaddr_decode(address, prefix)


def test_decode_rejects_size_mismatch_and_reserved_bit():
    hash160 = bytes(range(20))
    wrong_size = cashaddr_encode_raw("bitcoincash", P2PKH << 3 | 1, hash160)  # size bits say 24
    with pytest.raises(ValueError, match="size bits"):
        cashaddr_decode(wrong_size, "bitcoincash")
    reserved = cashaddr_encode_raw("bitcoincash", 0x80, hash160)
    with pytest.raises(ValueError, match="reserved bit"):
        cashaddr_decode(reserved, "bitcoincash")


@pytest.mark.parametrize("prefix, kind, length", [
    ("bitcoincash", 2, 20), ("bitcoincash", P2PKH, 21), ("bitcoincash", P2SH, 0),
    ("BitcoinCash", P2PKH, 20), ("", P2PKH, 20), ("bit:coin", P2PKH, 20),
])
def test_encode_rejects(prefix, kind, length):
    with pytest.raises(ValueError):
        cashaddr_encode(prefix, kind, bytes(length))


def test_round_trip_and_single_substitutions_random():
    seed = 145
    rng = random.Random(seed)
    for _ in range(200):
        prefix = rng.choice(("bitcoincash", "bchtest", "bchreg"))
        kind = rng.choice((P2PKH, P2SH))
        hash_ = rng.randbytes(rng.choice(HASH_SIZES))
        address = cashaddr_encode(prefix, kind, hash_)
        assert address == address.lower()
        assert cashaddr_decode(address, prefix) == (kind, hash_), f"seed={seed}"
        bare_upper = address.split(":")[1].upper()
        assert cashaddr_decode(bare_upper, prefix) == (kind, hash_), f"seed={seed}"
        position = rng.randrange(len(prefix) + 1, len(address))
        changed = address[:position] + rng.choice(CHARSET.replace(address[position], "")) \
            + address[position + 1:]
        with pytest.raises(ValueError):
            cashaddr_decode(changed, prefix)


def test_only_ascii_characters():
    """U+212A KELVIN SIGN lower-cases to "k", a CashAddr character: the decoder once accepted it.
    Only [a-zA-Z0-9:] may appear, checked before any case mapping."""
    address = cashaddr_encode("bchtest", P2PKH, bytes([1]) * 20)
    assert "k" in address and cashaddr_decode(address, "bchtest")[0] == P2PKH
    disguised = address.replace("k", "\u212a")
    assert disguised.lower() == address
    for text in (disguised, disguised.upper(), "bchtest:qq q", "bchtest:qq-q", "bchtest:\uff51qq"):
        with pytest.raises(ValueError, match=r"outside \[a-zA-Z0-9:\]"):
            cashaddr_decode(text, "bchtest")
