"""WIF private keys: round trips, network prefixes, and every way a WIF can be wrong.

The Bitcoin Core key vectors (vectors/base58_keys_*.json) are consumed in test_base58.py."""

import random

import pytest

from kms_ref.encoding.base58 import b58check_encode
from kms_ref.encoding.wif import N, wif_decode, wif_encode

# SPEC §1: BTC/BCH main 0x80, testnets 0xef, LTC 0xb0, DOGE 0x9e, DOGE test 0xf1.
PREFIXES = (0x80, 0xEF, 0xB0, 0x9E, 0xF1)

KEY = bytes.fromhex("0c28fca386c7a227600b2fe50b7cae11ec86d3bf1fbe471be89827e19d72aa1d")


def test_known_wif():
    # The Bitcoin wiki's "Wallet import format" example key, uncompressed and compressed.
    uncompressed = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"
    assert wif_encode(KEY, 0x80, compressed=False) == uncompressed
    assert wif_decode(uncompressed, 0x80) == (KEY, False)
    compressed = wif_encode(KEY, 0x80)
    assert compressed[0] in "KL"
    assert wif_decode(compressed, 0x80) == (KEY, True)


def test_round_trip_random():
    seed = 80
    rng = random.Random(seed)
    for _ in range(300):
        key = rng.randrange(1, N).to_bytes(32, "big")
        prefix = rng.choice(PREFIXES)
        compressed = rng.random() < 0.5
        text = wif_encode(key, prefix, compressed)
        assert wif_decode(text, prefix) == (key, compressed), f"seed={seed}"
        assert wif_decode(text) == (key, compressed), f"seed={seed}"


@pytest.mark.parametrize("key", [1, N - 1])
def test_range_edges_accepted(key):
    seckey = key.to_bytes(32, "big")
    assert wif_decode(wif_encode(seckey, 0xEF), 0xEF) == (seckey, True)


@pytest.mark.parametrize("prefix, other", [(0x80, 0xEF), (0xEF, 0x80), (0xB0, 0xEF), (0x9E, 0xF1)])
def test_other_network_rejected_without_echoing_the_key(prefix, other):
    text = wif_encode(KEY, prefix)
    with pytest.raises(ValueError, match="WIF is for another network") as info:
        wif_decode(text, other)
    assert text not in str(info.value) and KEY.hex() not in str(info.value)


@pytest.mark.parametrize("payload, message", [
    (b"\x80" + KEY + b"\x02", "compression flag"),
    (b"\x80" + KEY + b"\x00", "compression flag"),
    (b"\x80" + KEY[:31], "wrong length"),
    (b"\x80" + KEY + b"\x01\x01", "wrong length"),
    (b"\x80", "wrong length"),
    (b"\x80" + bytes(32) + b"\x01", "out of range"),
    (b"\x80" + N.to_bytes(32, "big") + b"\x01", "out of range"),
    (b"\x80" + b"\xff" * 32, "out of range"),
])
def test_malformed_payload_rejected(payload, message):
    text = b58check_encode(payload)
    with pytest.raises(ValueError, match=message) as info:
        wif_decode(text, 0x80)
    assert text not in str(info.value) and KEY.hex() not in str(info.value)


def test_bad_base58_rejected_without_echoing_the_text():
    text = wif_encode(KEY, 0x80)
    broken = text[:-1] + ("2" if text[-1] != "2" else "3")
    with pytest.raises(ValueError, match="invalid WIF private key: Base58Check checksum") as info:
        wif_decode(broken, 0x80)
    assert broken not in str(info.value)
    with pytest.raises(ValueError, match="invalid Base58 character"):
        wif_decode(text[:10] + "0" + text[11:], 0x80)


@pytest.mark.parametrize("seckey, prefix", [
    (bytes(32), 0x80), (N.to_bytes(32, "big"), 0x80), (KEY[:31], 0x80), (KEY + b"\x00", 0x80),
    (KEY, 256), (KEY, -1),
])
def test_encode_rejects(seckey, prefix):
    with pytest.raises(ValueError):
        wif_encode(seckey, prefix)
