"""The hash compositions Bitcoin uses, over `hashlib`/`hmac` and our own RIPEMD-160.

- HASH160(x) = RIPEMD-160(SHA-256(x))   — public key hashes, P2SH script hashes
- HASH256(x) = SHA-256(SHA-256(x))      — txids, Base58Check checksums, legacy sighash
- HMAC-SHA256 (RFC 2104) for RFC 6979 nonces, HMAC-SHA512 for BIP32.

SHA-2 comes from `hashlib`, which every CPython build has; RIPEMD-160 does not (OpenSSL 3 keeps it
in its legacy provider), so it is written out in `kms_ref.crypto.ripemd160`.
"""

import hashlib
import hmac

from kms_ref.crypto.ripemd160 import ripemd160


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash256(data: bytes) -> bytes:
    """SHA-256 applied twice."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256."""
    return ripemd160(hashlib.sha256(data).digest())


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


def hmac_sha512(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha512")
