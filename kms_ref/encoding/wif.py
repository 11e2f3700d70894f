"""Wallet Import Format (WIF): a secp256k1 private key as Base58Check text (Bitcoin Core
src/key_io.cpp, EncodeSecret/DecodeSecret).

    payload = network prefix byte ‖ 32-byte key ‖ 0x01 if the public key is compressed

The prefix names the network: 0x80 Bitcoin and Bitcoin Cash mainnet, 0xef their testnets and
Litecoin testnet, 0xb0 Litecoin, 0x9e Dogecoin, 0xf1 Dogecoin testnet (SPEC §1). kms_ref writes
compressed keys only, and reads both kinds.

Messages never contain the key or the text: a WIF is a secret.
"""

from __future__ import annotations

from kms_ref.encoding.base58 import b58check_decode, b58check_encode

# Order of the secp256k1 group (SEC 2, §2.4.1); a private key is an integer in 1..N-1.
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

COMPRESSED_FLAG = 0x01  # the byte after the key when the public key is compressed


def _check_key(seckey: bytes) -> None:
    if len(seckey) != 32:
        raise ValueError("private key must be 32 bytes")
    if not 1 <= int.from_bytes(seckey, "big") < N:
        raise ValueError("private key is out of range (must be 1..N-1 of secp256k1)")


def wif_encode(seckey: bytes, prefix: int, compressed: bool = True) -> str:
    """The WIF text of a 32-byte private key for the network whose prefix byte is given."""
    seckey = bytes(seckey)
    _check_key(seckey)
    if not 0 <= prefix <= 0xFF:
        raise ValueError("WIF prefix must be a single byte")
    suffix = bytes([COMPRESSED_FLAG]) if compressed else b""
    return b58check_encode(bytes([prefix]) + seckey + suffix)


def wif_decode(text: str, prefix: int | None = None) -> tuple:
    """(32-byte private key, compressed) of a WIF text.

    With prefix given, the text must be for that network. ValueError on: bad Base58Check, a
    payload that is neither 33 bytes nor 34 bytes ending in 0x01, another network's prefix,
    or a key outside 1..N-1."""
    try:
        payload = b58check_decode(text)
    except ValueError as exc:
        raise ValueError(f"invalid WIF private key: {exc}") from None
    if len(payload) == 1 + 32:
        compressed = False
    elif len(payload) == 1 + 32 + 1:
        if payload[-1] != COMPRESSED_FLAG:
            raise ValueError("invalid WIF private key: compression flag byte is not 0x01")
        compressed = True
    else:
        raise ValueError("invalid WIF private key: wrong length")
    if prefix is not None and payload[0] != prefix:
        raise ValueError(f"WIF is for another network (prefix byte 0x{payload[0]:02x}, "
                         f"expected 0x{prefix:02x})")
    seckey = payload[1:33]
    try:
        _check_key(seckey)
    except ValueError as exc:
        raise ValueError(f"invalid WIF private key: {exc}") from None
    return seckey, compressed
