"""Bitcoin Cash Schnorr signatures (2019-MAY-15 Schnorr Signature specification, v0.4,
bitcoincash.org spec/2019-05-15-schnorr.md, by Mark B. Lundeberg).

BCH accepts a 64-byte r ‖ s in place of a DER ECDSA signature since May 2019, and tatum-kms
(bitcoincashjs2-lib) signs BCH inputs this way. The verification algorithm is the spec's
11 steps; the signer follows the spec's "Recommended practices" exactly as Bitcoin ABC's
libsecp256k1 module does (modules/schnorr/schnorr_impl.h): k from RFC 6979 with the 16 bytes
"Schnorr+SHA256  " appended to the seed, R = k·G, k := n − k unless y(R) is a square
(Jacobi symbol 1), e = SHA256(x(R) ‖ compressed P ‖ m) mod n, s = k + e·x mod n.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from kms_ref.crypto.blinding import blinded_jacobi
from kms_ref.crypto.ecmult import double_mul_jacobian, point_mul_g_jacobian, to_affine_batch
from kms_ref.crypto.rfc6979 import ALGO16_SCHNORR_BCH, rfc6979_nonces
from kms_ref.crypto.secp256k1 import N, P, jacobi, parse_pubkey, scalar_from_bytes, ser_p


def schnorr_challenge(r32: bytes, pubkey_point, msg32: bytes) -> int:
    """Step 6: e = H(Br ‖ BP ‖ m) mod n, H = SHA256, BP always the compressed encoding of P."""
    digest = hashlib.sha256(r32 + ser_p(pubkey_point, compressed=True) + msg32).digest()
    return int.from_bytes(digest, "big") % N


def schnorr_sign(seckey: bytes, msg32: bytes,
                 explain: Callable[[str], None] | None = None) -> bytes:
    """The 64-byte BCH Schnorr signature r ‖ s of the 32-byte message msg32 (for a transaction
    input, the BCH sighash digest). `explain` hears each step; never the key or k.
    Timing: k·G and x·G run on the fixed schedule of `ecmult.point_mul_g_jacobian`, and the
    Jacobi symbol of y(R) is taken on a blinded value (SECURITY.md)."""
    x = scalar_from_bytes(seckey)
    if not isinstance(msg32, (bytes, bytearray)) or len(msg32) != 32:
        raise ValueError("the message to sign must be 32 bytes")
    msg32 = bytes(msg32)
    say = explain or (lambda line: None)
    nonces = rfc6979_nonces(bytes(seckey), msg32, algo16=ALGO16_SCHNORR_BCH, explain=explain)
    k = next(nonces)  # in [1, n-1]: R = k·G is never infinity
    # R = k·G and P = x·G, both made affine with one shared inversion.
    R, pubkey_point = to_affine_batch([point_mul_g_jacobian(k), point_mul_g_jacobian(x)])
    say("P = x*G = " + ser_p(pubkey_point).hex() + " (x withheld)")
    say("R = k*G: x(R) = %064x" % R[0])
    symbol = blinded_jacobi(R[1])
    k = k * symbol % N  # k, or n − k when y(R) is not a square: the same operations either way
    say(("jacobi(y(R)) = -1: k = n - k, so that R = k*G has a square y (R.x unchanged)",
         "jacobi(y(R)) = 1: k kept")[symbol > 0])  # chosen by index, not by a branch on k
    r32 = R[0].to_bytes(32, "big")
    e = schnorr_challenge(r32, pubkey_point, msg32)
    say("e = SHA256(x(R) || compressed P || m) mod n = %064x" % e)
    s = (k + e * x) % N
    say("s = k + e*x mod n = %064x (k, x withheld)" % s)
    sig = r32 + s.to_bytes(32, "big")
    say("signature r || s = " + sig.hex())
    return sig


def schnorr_verify(pubkey: bytes, msg32: bytes, sig64: bytes) -> bool:
    """The spec's verification algorithm, steps 1–11; False for any malformed input except a
    msg32 that is not 32 bytes (a caller's bug: ValueError). Every input is public: variable
    time, like all verification."""
    if not isinstance(msg32, (bytes, bytearray)) or len(msg32) != 32:
        raise ValueError("the signed message must be 32 bytes")
    if not isinstance(sig64, (bytes, bytearray)) or len(sig64) != 64:
        return False
    try:
        pubkey_point = parse_pubkey(pubkey)  # 1. P on the curve and not infinity
    except ValueError:
        return False
    r = int.from_bytes(sig64[:32], "big")
    s = int.from_bytes(sig64[32:], "big")
    if r >= P:  # 2.
        return False
    if s >= N:  # 3.
        return False
    e = schnorr_challenge(bytes(sig64[:32]), pubkey_point, bytes(msg32))  # 4.–6.
    X, Y, Z = double_mul_jacobian(s, N - e, pubkey_point)  # 7. R' = sG + (−e)P
    if Z % P == 0:  # 8.
        return False
    if (X - r * Z * Z) % P:  # 9. x(R') = X/Z² must equal r
        return False
    return jacobi(Y * Z % P) == 1  # 10. y(R') = Y/Z³ has the Jacobi symbol of Y·Z
