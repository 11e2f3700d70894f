"""OpenSSL's "Salted__" container, as CryptoJS `AES.encrypt(text, password)` writes it.

This is Tatum's wallet.dat format (SPEC §2): the text is

    base64( "Salted__" || salt (8 bytes) || AES-256-CBC(key, iv, PKCS#7-padded plaintext) )

with (key, iv) = EVP_BytesToKey(MD5, 1 iteration, password, salt) — the output of
`openssl enc -aes-256-cbc -md md5 -a -A` and of crypto-js 4.x, which tatum-kms 8.x uses.
CryptoJS UTF-8-encodes a string password; callers here pass the password as UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import os

from kms_ref.crypto.cbc import BLOCK_SIZE, cbc_decrypt, cbc_encrypt
from kms_ref.crypto.evp_bytes_to_key import evp_bytes_to_key

MAGIC = b"Salted__"  # OpenSSL's header, apps/enc.c
SALT_SIZE = 8  # PKCS5_SALT_LEN
KEY_SIZE, IV_SIZE = 32, 16  # AES-256-CBC


def openssl_encrypt(plaintext: bytes, password: bytes, salt: bytes | None = None) -> str:
    """Encrypt as CryptoJS AES.encrypt does; a fresh random salt unless one is given."""
    salt = os.urandom(SALT_SIZE) if salt is None else bytes(salt)
    if len(salt) != SALT_SIZE:
        raise ValueError("salt must be 8 bytes")
    key, iv = evp_bytes_to_key(password, salt, KEY_SIZE, IV_SIZE)
    raw = MAGIC + salt + cbc_encrypt(key, iv, plaintext)
    return base64.b64encode(raw).decode("ascii")


def openssl_decrypt(text: str, password: bytes) -> bytes:
    """Decrypt a "Salted__" container. ValueError if it is malformed or the padding is bad.

    Whitespace anywhere is ignored (so `openssl enc -a` output, wrapped at 64 columns, reads
    too). A wrong password nearly always gives ValueError("bad padding"), but about one time
    in 256 the padding happens to be valid and garbage comes back: the caller must check the
    plaintext itself (the store parses it as JSON).
    """
    if isinstance(text, str):
        text = text.encode("ascii", errors="replace")  # non-ASCII becomes "?" and fails below
    try:
        raw = base64.b64decode(b"".join(bytes(text).split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64: not an OpenSSL salted container") from None
    return decrypt_salted(raw, password)


def decrypt_salted(raw: bytes, password: bytes) -> bytes:
    """Decrypt the container already base64-decoded: "Salted__" || salt || ciphertext. For a
    caller that has decoded it once to check it (a 25,000-key wallet is 4.6 MB of text)."""
    body = raw[len(MAGIC) + SALT_SIZE:]
    if raw[:len(MAGIC)] != MAGIC or not body or len(body) % BLOCK_SIZE:
        raise ValueError("not an OpenSSL salted container")
    key, iv = evp_bytes_to_key(password, raw[len(MAGIC):len(MAGIC) + SALT_SIZE], KEY_SIZE, IV_SIZE)
    return cbc_decrypt(key, iv, body)
