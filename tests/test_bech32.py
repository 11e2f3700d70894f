"""Bech32/Bech32m and segwit addresses: every vector of BIP173 and BIP350, and round trips."""

import json
import random
from pathlib import Path

import pytest

from kms_ref.encoding.bech32 import (
    BECH32, BECH32M, CHARSET, bech32_decode, bech32_encode, convertbits,
    decode_segwit_address, encode_segwit_address,
)

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "bech32.json").read_text())
SEGWIT_HRPS = ("bc", "tb", "bcrt")


def segwit_scriptpubkey(witver: int, program: bytes) -> bytes:
    """OP_n (0x00, or 0x50 + n) then a push of the program (BIP173 §Segwit address format)."""
    return bytes([witver + 0x50 if witver else 0, len(program)]) + program


def flip_first_data_char(text: str) -> str:
    """The string with the character after the separator changed (still in the charset)."""
    pos = text.rfind("1") + 1
    lower = text[pos].lower()
    replacement = CHARSET[CHARSET.index(lower) ^ 1]
    if text[pos].isupper():
        replacement = replacement.upper()
    return text[:pos] + replacement + text[pos + 1:]


@pytest.mark.parametrize("case", VECTORS["bech32_valid"] + VECTORS["bech32m_valid"],
                         ids=lambda c: c["id"])
def test_valid_string(case):
    expected = BECH32 if case in VECTORS["bech32_valid"] else BECH32M
    hrp, data, spec = bech32_decode(case["string"])
    assert spec == expected
    assert bech32_encode(hrp, data, spec) == case["string"].lower()
    with pytest.raises(ValueError):
        bech32_decode(flip_first_data_char(case["string"]))


@pytest.mark.parametrize("case", VECTORS["bech32_invalid"] + VECTORS["bech32m_invalid"],
                         ids=lambda c: c["id"])
def test_invalid_string(case):
    with pytest.raises(ValueError):
        bech32_decode(case["string"])


@pytest.mark.parametrize("case", VECTORS["segwit_valid"], ids=lambda c: c["id"])
def test_valid_segwit_address(case):
    address, hrp = case["address"], case["hrp"]
    witver, program = decode_segwit_address(hrp, address)
    assert segwit_scriptpubkey(witver, program).hex() == case["scriptPubKey"]
    assert encode_segwit_address(hrp, witver, program) == address.lower()
    for other in SEGWIT_HRPS:
        if other != hrp:
            with pytest.raises(ValueError, match="not for this network"):
                decode_segwit_address(other, address)


@pytest.mark.parametrize("case", VECTORS["segwit_invalid"], ids=lambda c: c["id"])
def test_invalid_segwit_address(case):
    for hrp in SEGWIT_HRPS:
        with pytest.raises(ValueError):
            decode_segwit_address(hrp, case["address"])


@pytest.mark.parametrize("witver, length",
                         [(17, 20), (-1, 20), (0, 21), (0, 33), (1, 1), (1, 41), (16, 0)])
def test_encode_rejects_invalid_witness(witver, length):
    with pytest.raises(ValueError):
        encode_segwit_address("bc", witver, bytes(length))


@pytest.mark.parametrize("hrp", ["", "BC", "b c", "a" * 84, "b\x7fc"])
def test_encode_rejects_invalid_hrp(hrp):
    with pytest.raises(ValueError):
        encode_segwit_address(hrp, 0, bytes(20))


def test_encode_rejects_over_90_characters():
    with pytest.raises(ValueError, match="longer than 90"):
        encode_segwit_address("a" * 30, 1, bytes(40))


def test_segwit_round_trip_and_single_substitutions_random():
    """Encode/decode round trip, and BIP173's guarantee that any one substituted character
    is detected, on random programs of every allowed length and version."""
    seed = 173
    rng = random.Random(seed)
    for _ in range(200):
        witver = rng.randrange(17)
        length = rng.choice((20, 32)) if witver == 0 else rng.randrange(2, 41)
        program = rng.randbytes(length)
        hrp = rng.choice(SEGWIT_HRPS)
        address = encode_segwit_address(hrp, witver, program)
        assert address == address.lower()
        assert decode_segwit_address(hrp, address) == (witver, program), f"seed={seed}"
        assert decode_segwit_address(hrp, address.upper()) == (witver, program), f"seed={seed}"
        position = rng.randrange(len(hrp) + 1, len(address))
        changed = address[:position] + rng.choice(CHARSET.replace(address[position], "")) \
            + address[position + 1:]
        with pytest.raises(ValueError):
            decode_segwit_address(hrp, changed)


def test_convertbits_round_trip_random():
    seed = 58
    rng = random.Random(seed)
    for _ in range(200):
        data = list(rng.randbytes(rng.randrange(0, 65)))
        five = convertbits(data, 8, 5, True)
        assert all(0 <= v < 32 for v in five)
        assert convertbits(five, 5, 8, False) == data, f"seed={seed} data={bytes(data).hex()}"


def test_convertbits_rejects_out_of_range_value():
    with pytest.raises(ValueError):
        convertbits([32], 5, 8, False)
    with pytest.raises(ValueError):
        convertbits([256], 8, 5, True)
