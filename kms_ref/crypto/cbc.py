"""Cipher Block Chaining (CBC) mode of AES, NIST SP 800-38A §6.2, with PKCS #7 padding
(RFC 5652 §6.3).

Tatum's wallet.dat is AES-256-CBC with PKCS #7 padding inside OpenSSL's "Salted__" container
(`kms_ref.crypto.openssl_salted`). SP 800-38A defines CBC on whole blocks
(`cbc_encrypt_blocks`, `cbc_decrypt_blocks`); `cbc_encrypt`/`cbc_decrypt` add the padding.

CBC decryption is parallel — each P_j needs only C_j and C_(j-1) — so from `MIN_BLOCKS` blocks
on it runs on the byte-sliced AES (`kms_ref.crypto.aes_sliced`): all blocks through each round
at once, 9-16 MiB/s (CPU time, AES-256) on the 3.45 MB of a 25,000-key Tatum wallet, against
~1 MiB/s block by block. Encryption is serial (C_j needs C_(j-1)) and stays on the T-tables,
~1 MiB/s: the per-block work around `encrypt_block` is ~3% of it, so there is nothing left to
inline away.

Every padding failure raises the one error ValueError("bad padding"). The check is plain Python
and not constant-time: kms_ref only decrypts its own wallet file, so no one can use it as a
padding oracle, and a wrong password is reported as "Wrong password" by the store either way.
"""

from __future__ import annotations

from kms_ref.crypto.aes import AES
from kms_ref.crypto.aes_sliced import MIN_BLOCKS, SlicedAES

BLOCK_SIZE = 16  # b = 128 bits for AES


def pkcs7_pad(data: bytes) -> bytes:
    """RFC 5652 §6.3: append k - (l mod k) octets, each of value k - (l mod k), with k = 16.
    A whole block of sixteen 0x10 octets is added when l is already a multiple of 16."""
    n = BLOCK_SIZE - len(data) % BLOCK_SIZE
    return bytes(data) + bytes([n]) * n


def pkcs7_unpad(data: bytes) -> bytes:
    """Remove RFC 5652 §6.3 padding, checking all of it: the last octet n must be 1..16 and
    the last n octets must all equal n."""
    n = data[-1] if data else 0
    if not 1 <= n <= BLOCK_SIZE or len(data) < n or data[-n:] != bytes([n]) * n:
        raise ValueError("bad padding")
    return data[:-n]


def _check_iv(iv: bytes) -> None:
    if len(iv) != BLOCK_SIZE:
        raise ValueError("CBC IV must be 16 bytes")


def cbc_encrypt_blocks(aes: AES, iv: bytes, plaintext: bytes) -> bytes:
    """CBC encryption (§6.2): C_1 = CIPH_K(P_1 xor IV), C_j = CIPH_K(P_j xor C_(j-1)).
    The plaintext must be a whole number of blocks."""
    _check_iv(iv)
    if len(plaintext) % BLOCK_SIZE:
        raise ValueError("CBC plaintext must be a multiple of 16 bytes")
    from_bytes, encrypt_block = int.from_bytes, aes.encrypt_block
    previous = from_bytes(iv, "big")
    out = []
    for i in range(0, len(plaintext), BLOCK_SIZE):
        chained = previous ^ from_bytes(plaintext[i:i + 16], "big")
        block = encrypt_block(chained.to_bytes(16, "big"))
        out.append(block)
        previous = from_bytes(block, "big")
    return b"".join(out)


def cbc_decrypt_blocks(aes: AES, iv: bytes, ciphertext: bytes) -> bytes:
    """CBC decryption (§6.2): P_j = CIPH^-1_K(C_j) xor C_(j-1), with C_0 = IV.

    Unlike encryption, the blocks are independent: all are decrypted first — byte-sliced
    from MIN_BLOCKS blocks on, one T-table block at a time below — then xored with
    IV || C_1 || … || C_(n-1) as one integer.
    """
    _check_iv(iv)
    if len(ciphertext) % BLOCK_SIZE:
        raise ValueError("CBC ciphertext must be a multiple of 16 bytes")
    ciphertext = bytes(ciphertext)
    if not ciphertext:
        return b""
    if len(ciphertext) >= BLOCK_SIZE * MIN_BLOCKS:
        decrypted = SlicedAES(aes).decrypt_blocks(ciphertext)
    else:
        decrypt_block = aes.decrypt_block
        decrypted = b"".join(decrypt_block(ciphertext[i:i + 16])
                             for i in range(0, len(ciphertext), BLOCK_SIZE))
    chained = bytes(iv) + ciphertext[:-BLOCK_SIZE]
    n = len(ciphertext)
    return (int.from_bytes(decrypted, "big") ^ int.from_bytes(chained, "big")).to_bytes(n, "big")


def cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """AES-CBC with PKCS #7 padding; the result is 1 to 16 bytes longer than the plaintext."""
    return cbc_encrypt_blocks(AES(key), iv, pkcs7_pad(plaintext))


def cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """AES-CBC decryption and strict PKCS #7 unpadding; ValueError("bad padding") on any
    padding failure, ValueError for a bad key, IV or ciphertext length."""
    _check_iv(iv)
    if len(ciphertext) == 0 or len(ciphertext) % BLOCK_SIZE:
        raise ValueError("CBC ciphertext must be a non-empty multiple of 16 bytes")
    return pkcs7_unpad(cbc_decrypt_blocks(AES(key), iv, ciphertext))
