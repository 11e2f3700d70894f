"""secp256k1 key pairs (SEC 1 v2 §3.2.1): the public key d·G of a private key d.

Kept apart from the curve definition (`kms_ref.crypto.secp256k1`) because it uses the fast
fixed-base multiplication of `kms_ref.crypto.ecmult`, which itself builds on the definition:
the curve module imports nothing, ecmult imports the curve, and this imports both.
"""

from __future__ import annotations

from kms_ref.crypto.ecmult import point_mul_g
from kms_ref.crypto.secp256k1 import scalar_from_bytes, ser_p


def pubkey_from_seckey(seckey: bytes, compressed: bool = True) -> bytes:
    """ser_p(d·G) for the 32-byte private key d, by the fixed-base comb for secrets
    (`ecmult.point_mul_g`: the same schedule for every d, randomized; SECURITY.md)."""
    return ser_p(point_mul_g(scalar_from_bytes(seckey)), compressed)
