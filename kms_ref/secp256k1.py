"""secp256k1 keys and ECDSA signatures: the public face of kms_ref's elliptic-curve code.

A thin re-export. The curve and the key helpers live in `kms_ref.crypto.secp256k1`, the fast
multiplications in `kms_ref.crypto.ecmult`, RFC 6979 nonces in `kms_ref.crypto.rfc6979`,
ECDSA in `kms_ref.crypto.ecdsa` and Bitcoin Cash Schnorr in `kms_ref.crypto.schnorr_bch`.
"""

from kms_ref.crypto.ecdsa import der_decode_sig, der_encode_sig, ecdsa_sign, ecdsa_verify
from kms_ref.crypto.keys import pubkey_from_seckey

__all__ = [
    "pubkey_from_seckey", "ecdsa_sign", "ecdsa_verify", "der_encode_sig", "der_decode_sig",
]
