"""AES for the wallet file: the public names, re-exported.

The code lives in `kms_ref.crypto`: the block cipher in `crypto/aes.py` (FIPS 197), GCM in
`crypto/gcm.py` (NIST SP 800-38D), CBC with PKCS #7 padding in `crypto/cbc.py` (SP 800-38A,
RFC 5652), and Tatum's CryptoJS/OpenSSL "Salted__" format in `crypto/openssl_salted.py`.

- gcm_encrypt(key, nonce, plaintext, aad=b"") -> ciphertext || 16-byte tag
- gcm_decrypt(key, nonce, ciphertext_and_tag, aad=b"") -> plaintext, or ValueError
- GCM(key): the same with the key schedule and GHASH tables kept for many messages
- cbc_encrypt(key, iv, plaintext) / cbc_decrypt(key, iv, ciphertext): AES-CBC, PKCS #7
"""

from kms_ref.crypto.cbc import cbc_decrypt, cbc_encrypt
from kms_ref.crypto.gcm import GCM, gcm_decrypt, gcm_encrypt

__all__ = ["GCM", "cbc_decrypt", "cbc_encrypt", "gcm_decrypt", "gcm_encrypt"]
