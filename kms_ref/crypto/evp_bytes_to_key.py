"""OpenSSL's EVP_BytesToKey with MD5 and one iteration (OpenSSL, crypto/evp/evp_key.c).

The key derivation of Tatum's wallet.dat: CryptoJS `AES.encrypt(text, password)` derives the
AES-256 key and the CBC IV from the password and an 8-byte salt exactly as `openssl enc -md md5`
does (CryptoJS calls it EvpKDF, with MD5 and one iteration as its defaults):

    D_1 = MD5(password || salt),  D_i = MD5(D_(i-1) || password || salt)
    key || iv = the first key_len + iv_len bytes of D_1 || D_2 || D_3 || …

It is a weak KDF (one MD5 per 16 bytes, no work factor), kept only to read and write Tatum's
format; kms_ref's own format uses scrypt.
"""

from __future__ import annotations

import hashlib


def _md5(data: bytes) -> bytes:
    # usedforsecurity=False keeps MD5 on FIPS-mode builds: here it is a file format, not a choice.
    return hashlib.md5(data, usedforsecurity=False).digest()


def evp_bytes_to_key(password: bytes, salt: bytes, key_len: int = 32, iv_len: int = 16) -> tuple:
    """(key, iv) from EVP_BytesToKey(MD5, salt, password, count=1).

    OpenSSL takes an 8-byte salt or none (b""); CryptoJS's EvpKDF hashes whatever it is given,
    and so does this function.
    """
    if key_len < 0 or iv_len < 0:
        raise ValueError("key and IV lengths must not be negative")
    password, salt = bytes(password), bytes(salt)
    derived, d = b"", b""
    while len(derived) < key_len + iv_len:
        d = _md5(d + password + salt)
        derived += d
    return derived[:key_len], derived[key_len:key_len + iv_len]
