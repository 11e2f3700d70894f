"""Base58 and Base58Check, as Bitcoin Core's src/base58.cpp defines them.

Base58 writes a byte string as a big-endian number in base 58 over Bitcoin's alphabet (no 0, O,
I, l), and each leading zero byte as a leading '1'. Base58Check appends the first four bytes of
HASH256(payload) as a checksum. kms_ref uses it for WIF private keys, P2PKH/P2SH addresses
(LTC, DOGE, legacy BTC/BCH) and extended keys (xpub/xprv).

Error messages name what is wrong and where, never the text itself: a WIF key is a secret.
"""

from __future__ import annotations

from kms_ref.crypto.hashes import hash256

# The Bitcoin alphabet: digits and letters without 0 (zero), O, I and l.
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(ALPHABET)}

CHECKSUM_LENGTH = 4  # bytes of HASH256(payload) appended by Base58Check


def b58encode(data: bytes) -> str:
    """Base58 of data: the number int(data) in base 58, after one '1' per leading zero byte."""
    data = bytes(data)
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading_zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Inverse of `b58encode`. ValueError on a character outside the alphabet."""
    number = 0
    for position, char in enumerate(text):
        value = _INDEX.get(char)
        if value is None:
            raise ValueError(f"invalid Base58 character at position {position}")
        number = number * 58 + value
    leading_ones = len(text) - len(text.lstrip("1"))
    return b"\x00" * leading_ones + number.to_bytes((number.bit_length() + 7) // 8, "big")


def b58check_encode(payload: bytes) -> str:
    """Base58 of payload followed by the first 4 bytes of HASH256(payload)."""
    payload = bytes(payload)
    return b58encode(payload + hash256(payload)[:CHECKSUM_LENGTH])


def b58check_decode(text: str) -> bytes:
    """The payload of a Base58Check string (version byte included, checksum removed).

    ValueError on a bad character, fewer than 4 bytes, or a checksum that does not match."""
    raw = b58decode(text)
    if len(raw) < CHECKSUM_LENGTH:
        raise ValueError("Base58Check string too short for its 4-byte checksum")
    payload, checksum = raw[:-CHECKSUM_LENGTH], raw[-CHECKSUM_LENGTH:]
    if hash256(payload)[:CHECKSUM_LENGTH] != checksum:
        raise ValueError("Base58Check checksum mismatch")
    return payload
