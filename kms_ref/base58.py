"""Base58 and Base58Check — public names; the code lives in `kms_ref.encoding.base58`."""

from kms_ref.encoding.base58 import b58check_decode, b58check_encode, b58decode, b58encode

__all__ = ["b58encode", "b58decode", "b58check_encode", "b58check_decode"]
