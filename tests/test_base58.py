"""Base58/Base58Check: Bitcoin Core's encode/decode and key vectors, and round trips."""

import json
import random
from pathlib import Path

import pytest

from kms_ref.encoding.base58 import b58check_decode, b58check_encode, b58decode, b58encode
from kms_ref.encoding.bech32 import decode_segwit_address
from kms_ref.encoding.wif import wif_decode, wif_encode

VECTORS_DIR = Path(__file__).parent.parent / "vectors"
ENCODE_DECODE = json.loads((VECTORS_DIR / "base58_encode_decode.json").read_text())
KEYS_VALID = json.loads((VECTORS_DIR / "base58_keys_valid.json").read_text())
KEYS_INVALID = json.loads((VECTORS_DIR / "base58_keys_invalid.json").read_text())

# Bitcoin Core chainparams: (WIF prefix, P2PKH version, P2SH version) per network of the vectors.
BITCOIN = {False: (0x80, 0x00, 0x05), True: (0xEF, 0x6F, 0xC4)}  # keyed by isTestnet
# Every prefix and version kms_ref reads (SPEC §1 and the Bitcoin ones above).
ALL_WIF_PREFIXES = (0x80, 0xEF, 0xB0, 0x9E, 0xF1)
ALL_ADDRESS_VERSIONS = (0x00, 0x05, 0x6F, 0xC4, 0x30, 0x1E, 0x71)
SEGWIT_HRPS = ("bc", "tb", "bcrt")


def decode_base58_address(text: str, version: int) -> bytes:
    """The 20-byte hash of a Base58Check P2PKH/P2SH address with this version byte."""
    payload = b58check_decode(text)
    if len(payload) != 21:
        raise ValueError("address payload must be 21 bytes")
    if payload[0] != version:
        raise ValueError("address is for another network")
    return payload[1:]


@pytest.mark.parametrize("case", ENCODE_DECODE["vectors"], ids=lambda c: c["id"])
def test_encode_decode_vectors(case):
    data = bytes.fromhex(case["hex"])
    assert b58encode(data) == case["base58"]
    assert b58decode(case["base58"]) == data


@pytest.mark.parametrize("case", KEYS_VALID["vectors"], ids=lambda c: c["id"])
def test_keys_valid(case):
    text, payload, meta = case["base58"], bytes.fromhex(case["hex"]), case["metadata"]
    wif_prefix, p2pkh, p2sh = BITCOIN[meta["isTestnet"]]
    other_wif_prefix = BITCOIN[not meta["isTestnet"]][0]
    if meta["isPrivkey"]:
        assert wif_decode(text, wif_prefix) == (payload, meta["isCompressed"])
        assert wif_encode(payload, wif_prefix, meta["isCompressed"]) == text
        with pytest.raises(ValueError, match="another network"):
            wif_decode(text, other_wif_prefix)
        with pytest.raises(ValueError):  # a key is no address
            decode_base58_address(text, p2pkh)
    else:
        version = p2pkh if meta["addrType"] == "pubkey" else p2sh
        assert decode_base58_address(text, version) == payload
        assert b58check_encode(bytes([version]) + payload) == text
        with pytest.raises(ValueError):  # an address is no key
            wif_decode(text, wif_prefix)


@pytest.mark.parametrize("case", KEYS_INVALID["vectors"], ids=lambda c: c["id"])
def test_keys_invalid(case):
    text = case["base58"]
    for prefix in ALL_WIF_PREFIXES:
        with pytest.raises(ValueError):
            wif_decode(text, prefix)
    for version in ALL_ADDRESS_VERSIONS:
        with pytest.raises(ValueError):
            decode_base58_address(text, version)
    for hrp in SEGWIT_HRPS:
        with pytest.raises(ValueError):
            decode_segwit_address(hrp, text)


def test_round_trip_random():
    seed = 58
    rng = random.Random(seed)
    for _ in range(500):
        data = b"\x00" * rng.randrange(4) + rng.randbytes(rng.randrange(40))
        text = b58encode(data)
        assert b58decode(text) == data, f"seed={seed} data={data.hex()}"
        assert b58check_decode(b58check_encode(data)) == data, f"seed={seed} data={data.hex()}"


@pytest.mark.parametrize("char", ["0", "O", "I", "l", " ", "+", "é", "\x00"])
def test_decode_rejects_characters_outside_alphabet(char):
    text = "2NEpo7TZRRrLZSi2U" + char + "6iy3LqGFMxyuTd"
    with pytest.raises(ValueError, match="invalid Base58 character at position 17") as info:
        b58decode(text)
    assert text not in str(info.value)


def test_check_rejects_every_single_character_change():
    seed = 4
    rng = random.Random(seed)
    text = b58check_encode(rng.randbytes(21))
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    for position in range(len(text)):
        replacement = rng.choice(alphabet.replace(text[position], ""))
        changed = text[:position] + replacement + text[position + 1:]
        with pytest.raises(ValueError):
            b58check_decode(changed)


@pytest.mark.parametrize("text", ["", "1", "11", "111", "2", "zzz"])
def test_check_rejects_too_short(text):
    with pytest.raises(ValueError, match="too short"):
        b58check_decode(text)


def test_check_rejects_bad_checksum():
    good = b58check_encode(b"\x00" + bytes(20))
    raw = b58decode(good)
    bad = b58encode(raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(ValueError, match="checksum"):
        b58check_decode(bad)
