"""ECDSA verification (SEC 1 §4.1.4) against a compressed public key, without decompressing it.

A compressed key is x and the parity of y. Parsing it (SEC 1 §2.3.4) finds y as a square root
of v = x³ + 7, which is 253 squarings: 0.1–0.15 ms, an eighth of a verification. This module
checks a signature with no square root, and finds y on the way when the signature is valid.
All arithmetic is mod p; Q = (x, y) is the key, y² = v, and y is unknown.

1. A twin of Q that needs no root. The isomorphism ψ(x_P, y_P) = (y²·x_P, y³·y_P) maps
   secp256k1 onto the curve E_v: Y² = X³ + 7·v³, and Q to Q_v = ψ(Q) = (v·x, v²): only y² = v
   and y⁴ = v² appear. ψ respects addition, and it commutes with the endomorphism (x, y) ↦ (β·x, y), so
   u2·Q_v = ψ(u2·Q) is computed by the very formulas and GLV split used for secp256k1 (none of
   them uses b). With B = u2·Q = (xb, yb) and u2·Q_v = (Xv, Yv):
       xb = Xv / v,    yb = Yv / y³ = Yv / (v·y).

2. The check without y. With A = u1·G = (xa, ya), the signature is valid when x(A + B) = ρ for
   ρ = r or ρ = r + n (the x values that reduce to r; r + n only when it is below p). The chord through A and B gives
   x(A + B) = ((yb − ya)/(xb − xa))² − xa − xb; expanding, with ya² = xa³ + 7, yb² = xb³ + 7:
       x(A + B) = ρ   ⇔   2·ya·yb = xa³ + xb³ + 14 − (ρ + xa + xb)·(xb − xa)²  =: T,
   and T needs no y. When it holds, T = 2·ya·yb ≠ 0 (no point of secp256k1 has y = 0), so
   yb = T / (2·ya), and by step 1
       y = Yv / (v·yb) = 2·ya·Yv / (v·T)  =: c.

3. The verdict. The signature is valid exactly when c is the key's y: c² = v and c has the
   parity the key's prefix says (02 even, 03 odd). If ρ is right, c = y by step 2; if c² = v
   with the right parity, c = y, and step 2 read backwards gives x(A + B) = ρ. When v is not a
   square the key is invalid: there is no y, E_v is then the quadratic twist and what the
   multiplication returns means nothing — but no c squares to v, so the answer is False, as
   parsing says.

In projective form there is one inversion: with A = (Xa, Ya, Za², Za³) (Chudnovsky) and
u2·Q_v = (Xb, Yb, Zb) (Jacobian), put α = v·Xa·Zb², β = Xb·Za², δ = Za²·Zb², so that
v·xa = α/δ and Xv = β/δ. Multiplying T by v³·δ³, and using α³ + β³ − (α + β)(β − α)² =
αβ(α + β):
    T' = T·v³·δ³ = αβ(α + β) + 14·(vδ)³ − ρ·vδ·(β − α)²,    c = 2·Ya·Yb·v²·Za³·Zb³ / T'.

Measured: a verification against a key seen for the first time takes as long as one against a
parsed key, plus about 3% (0.02 ms: the inversion of T' and two dozen products), where parsing
cost 0.1–0.15 ms. The cases the chord does not cover — u1 = 0 (A at infinity), A = ±B, u2·Q_v at
infinity, a comb that meets an equal x — answer None: the caller then parses the key and
verifies the plain way (`ecdsa.ecdsa_verify_rs`). tests/test_ecdsa_compressed_key.py checks
every verdict against that plain way: Wycheproof's cases with their keys compressed, random
signatures and tampered ones, the wrong parity, x off the curve, and a signature whose x(R) is
r + n.
"""

from __future__ import annotations

from kms_ref.crypto.comb import EqualX
from kms_ref.crypto.ecmult import mul_g_and_mul
from kms_ref.crypto.secp256k1 import N, P, learn_pubkey


def verify_compressed_key(pubkey: bytes, msg32: bytes, r: int, s: int):
    """True or False: is (r, s) a valid signature of msg32 under the 33-byte compressed key
    `pubkey`, the same verdict as parsing the key and `ecdsa_verify_rs`; or None when one of
    the rare cases above needs that plain way. A key that verifies is remembered with its y
    (`secp256k1.learn_pubkey`), so later verifications with it parse nothing."""
    p = P
    x = int.from_bytes(pubkey[1:], "big")
    if x >= p or not (1 <= r < N and 1 <= s < N):
        return False
    w = pow(s, -1, N)
    u1, u2 = int.from_bytes(msg32, "big") * w % N, r * w % N
    if not u1:
        return None
    v = (x * x % p * x + 7) % p  # y² (never 0: x³ = −7 has no root mod p)
    Q_v = (v * x % p, v * v % p)  # ψ(Q) on E_v
    try:
        (Xa, Ya, ZZa, ZZZa), (Xb, Yb, Zb) = mul_g_and_mul(u1, u2, Q_v)
    except EqualX:
        return None
    if not ZZa or not Zb % p:
        return None
    ZZb = Zb * Zb % p
    alpha = Xa * v % p * ZZb % p  # v·xa = α/δ
    beta = Xb * ZZa % p  # Xv = β/δ
    if alpha == beta:  # xa = xb: A = ±B, a doubling or infinity
        return None
    v_delta = v * ZZa % p * ZZb % p
    d = beta - alpha
    K = (alpha * beta % p * (alpha + beta) + 14 * (v_delta * v_delta % p) * v_delta) % p
    L = v_delta * d % p * d % p
    numerator = 2 * Ya * Yb % p * (v * v % p) % p * ZZZa % p * ZZb % p * Zb % p
    for rho in (r, r + N):
        if rho >= p:
            break
        T = (K - rho * L) % p
        if not T:
            continue  # T = 0 cannot be 2·ya·yb: x(A + B) ≠ ρ
        c = numerator * pow(T, -1, p) % p
        if c * c % p == v and c & 1 == pubkey[0] & 1:
            learn_pubkey(pubkey, (x, c))
            return True
    return False
