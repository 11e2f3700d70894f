"""CashAddr, the Bitcoin Cash address format ("Address format for Bitcoin Cash", cashaddr.md,
https://github.com/bitcoincashorg/bitcoincash.org/blob/master/spec/cashaddr.md, version 1.1).

An address is a prefix ("bitcoincash", "bchtest", "bchreg"), a ':' and a base-32 payload: a type
byte, the hash, and a 40-bit BCH checksum over the prefix and the payload. The charset and the
8-to-5 bit regrouping are bech32's (BIP173); the checksum is longer and the prefix enters it
differently. kms_ref prints BCH addresses as `bitcoincash:q...` (mainnet) and `bchtest:q...`
(testnet), P2PKH of the compressed public key's HASH160.

Two layers: `cashaddr_encode_raw`/`cashaddr_decode_raw` handle any type byte and data (the
spec's "undefined types" vectors), `cashaddr_encode`/`cashaddr_decode` the P2PKH/P2SH addresses
whose size bits must match the hash length.
"""

from __future__ import annotations

import re

from kms_ref.encoding.bech32 import CHARSET, convertbits

_CHARSET_INDEX = {char: value for value, char in enumerate(CHARSET)}
_ADDRESS_CHARACTERS = re.compile(r"[a-zA-Z0-9:]*")   # ASCII only: no IGNORECASE, no \w

# §Address types, "Type bits": the form of payment.
P2PKH = 0
P2SH = 1

# §Address types, "Size bits" -> hash size in bytes (160, 192, 224, 256, 320, 384, 448, 512 bits).
HASH_SIZES = (20, 24, 28, 32, 40, 48, 56, 64)

CHECKSUM_LENGTH = 8  # 40 bits = eight 5-bit values (§Checksum)

# §Checksum: the generator of the BCH code, as the spec's PolyMod XORs it in.
GENERATOR = (0x98F2BC8E61, 0x79B76D99E2, 0xF33E5FB3C4, 0xAE2EABE2A8, 0x1E4F43E470)


def cashaddr_polymod(values) -> int:
    """The spec's PolyMod: the checksum polynomial over GF(2^5), 40 bits, final XOR with 1."""
    c = 1
    for d in values:
        c0 = c >> 35
        c = ((c & 0x07FFFFFFFF) << 5) ^ d
        for i in range(5):
            if (c0 >> i) & 1:
                c ^= GENERATOR[i]
    return c ^ 1


def cashaddr_prefix_expand(prefix: str) -> list:
    """The prefix as checksum input: the lower 5 bits of each character, then a zero for the
    separator (§Checksum, items 1 and 2)."""
    return [ord(char) & 31 for char in prefix] + [0]


def cashaddr_verify_checksum(prefix: str, payload) -> bool:
    """True if the 5-bit payload values (checksum included) verify: PolyMod returns 0."""
    return cashaddr_polymod(cashaddr_prefix_expand(prefix) + list(payload)) == 0


def cashaddr_create_checksum(prefix: str, payload) -> list:
    """The eight 5-bit checksum values: PolyMod over prefix, payload and eight zeros, msb first."""
    polymod = cashaddr_polymod(cashaddr_prefix_expand(prefix) + list(payload) + [0] * 8)
    return [(polymod >> 5 * (7 - i)) & 31 for i in range(8)]


def _check_prefix(prefix: str) -> None:
    if not prefix or ":" in prefix or any(not 33 <= ord(char) <= 126 for char in prefix):
        raise ValueError("CashAddr prefix must be non-empty printable ASCII without ':'")
    if prefix != prefix.lower():
        raise ValueError("CashAddr prefix must be lowercase")


def cashaddr_encode_raw(prefix: str, type_byte: int, data: bytes) -> str:
    """prefix + ':' + base32(type byte + data, zero-padded to 5 bits) + checksum."""
    _check_prefix(prefix)
    if not 0 <= type_byte <= 0xFF:
        raise ValueError("CashAddr type byte must be 0..255")
    payload = convertbits(bytes([type_byte]) + bytes(data), 8, 5, True)
    payload += cashaddr_create_checksum(prefix, payload)
    return prefix + ":" + "".join(CHARSET[value] for value in payload)


def cashaddr_decode_raw(address: str, prefix: str) -> tuple:
    """(type byte, data) of a CashAddr address, written with its prefix or without it.

    ValueError on: a character outside [a-zA-Z0-9:] (checked first: `str.lower` maps some
    non-ASCII letters onto ASCII ones — U+212A KELVIN SIGN becomes "k"), mixed case, a prefix
    other than the expected one, a character outside the charset, a payload shorter than the
    checksum, a bad checksum, or bad padding."""
    _check_prefix(prefix)
    if not isinstance(address, str) or not _ADDRESS_CHARACTERS.fullmatch(address):
        raise ValueError("CashAddr address has a character outside [a-zA-Z0-9:]")
    if address.lower() != address and address.upper() != address:
        raise ValueError("CashAddr address mixes upper and lower case")
    address = address.lower()
    if ":" in address:
        given_prefix, _, body = address.partition(":")
        if given_prefix != prefix:
            raise ValueError(
                f"CashAddr address is not for this network (expected prefix {prefix!r})")
    else:
        body = address
    payload = []
    for char in body:
        if char not in _CHARSET_INDEX:
            raise ValueError("CashAddr payload has a character outside the charset")
        payload.append(_CHARSET_INDEX[char])
    if len(payload) < CHECKSUM_LENGTH:
        raise ValueError("CashAddr payload shorter than its 8-character checksum")
    if not cashaddr_verify_checksum(prefix, payload):
        raise ValueError("CashAddr checksum is invalid")
    content = bytes(convertbits(payload[:-CHECKSUM_LENGTH], 5, 8, False))
    if not content:
        raise ValueError("CashAddr payload has no type byte")
    return content[0], content[1:]


def cashaddr_encode(prefix: str, kind: int, hash160: bytes) -> str:
    """The CashAddr address of a P2PKH (kind 0) or P2SH (kind 1) hash.

    The hash is normally the 20-byte HASH160; the size bits of the type byte also allow
    24..64 bytes (§Address types), and are set from len(hash160)."""
    if kind not in (P2PKH, P2SH):
        raise ValueError("CashAddr kind must be P2PKH (0) or P2SH (1)")
    if len(hash160) not in HASH_SIZES:
        raise ValueError(f"CashAddr hash must be one of {HASH_SIZES} bytes long")
    type_byte = kind << 3 | HASH_SIZES.index(len(hash160))
    return cashaddr_encode_raw(prefix, type_byte, hash160)


def cashaddr_decode(address: str, prefix: str) -> tuple:
    """(kind, hash) of a P2PKH or P2SH CashAddr address, with or without its prefix.

    Besides `cashaddr_decode_raw`'s checks: the type byte's reserved top bit must be 0, the
    type must be P2PKH or P2SH, and the hash length must be the one the size bits give."""
    type_byte, hash_ = cashaddr_decode_raw(address, prefix)
    if type_byte & 0x80:
        raise ValueError("CashAddr type byte has its reserved bit set")
    kind, size_bits = type_byte >> 3, type_byte & 0x07
    if kind not in (P2PKH, P2SH):
        raise ValueError("CashAddr address is of an unknown type")
    if len(hash_) != HASH_SIZES[size_bits]:
        raise ValueError("CashAddr hash length does not match its size bits")
    return kind, hash_
