"""The GLV endomorphism of secp256k1 and the split of a scalar into two halves
(Gallant, Lambert, Vanstone, CRYPTO 2001; GECC §3.5, Example 3.76, Algorithm 3.74).

secp256k1 has an efficiently computable endomorphism: λ·(x, y) = (β·x, y), with λ³ ≡ 1 mod n
and β³ ≡ 1 mod p — one field multiplication instead of a scalar multiplication. A scalar k then
splits into k ≡ k1 + k2·λ (mod n) with k1, k2 of about 128 bits each, and k·P = k1·P + k2·(λP)
is two half-length multiplications that can share their work: the doublings of the variable-
point multiplication (`kms_ref.crypto.wnaf`), the rows of the comb table for G
(`kms_ref.crypto.comb`), which then covers 132 bits instead of 260.

Every function here runs the same operations whatever its input (no branch, no loop on the
scalar), so the fixed-schedule k·G may split a secret k with it.
"""

from __future__ import annotations

from kms_ref.crypto.secp256k1 import N

# The values of libsecp256k1's scalar_impl.h; tests check λ³ ≡ 1, β³ ≡ 1 and λ·G = (β·x, y).
LAMBDA = 0x5363AD4CC05C30E0A5261C028812645A122E22EA20816678DF02967C1B23BD72
BETA = 0x7AE96A2B657C07106E64479EAC3434E99CF0497512F58995C1396C28719501EE
# A short basis of the lattice {(a, b) : a + b·λ ≡ 0 mod n}, for the split (GECC Alg. 3.74).
# Parities: a1, b1, b2 odd, a2 even — what `glv_split_odd` relies on.
_A1, _B1 = 0x3086D221A7D46BCDE86C90E49284EB15, -0xE4437ED6010E88286F547FA90ABFE4C3
_A2, _B2 = 0x114CA50F7A8E2F3F657C1108D9D44CFD8, 0x3086D221A7D46BCDE86C90E49284EB15
SPLIT_ODD_BITS = 130  # |k1|, |k2| < 2^130 after `glv_split_odd`, for any k ≥ 0 (see there)


def glv_split(k: int) -> tuple:
    """(k1, k2) with k ≡ k1 + k2·λ (mod n) and |k1|, |k2| < 2^129: round (k, 0) onto the
    lattice and keep the remainder (GECC Algorithm 3.74; Babai's rounding, so the bound holds
    for any k ≥ 0, not only k < n). Then k·Q = k1·Q + k2·(λQ)."""
    c1 = (2 * _B2 * k + N) // (2 * N)  # round(b2·k / n)
    c2 = (-2 * _B1 * k + N) // (2 * N)  # round(−b1·k / n)
    return k - c1 * _A1 - c2 * _A2, -c1 * _B1 - c2 * _B2


def glv_split_odd(k: int) -> tuple:
    """(k1, k2) as in `glv_split`, but both odd, as the signed-digit comb needs them: add the
    lattice vector (a1 + a2, b1 + b2) (odd, even) when k1 is even, and (a2, b2) (even, odd) when
    k2 is even. Lattice vectors are ≡ 0, so k1 + k2·λ ≡ k still; the parities enter as 0/1
    factors, not as branches. Bounds: rounding leaves |k1| ≤ (|a1| + |a2|)/2 and
    |k2| ≤ (|b1| + |b2|)/2, and the two vectors add at most |a1 + a2| + |a2| and
    |b1 + b2| + |b2|: |k1| < 2^129.58, |k2| < 2^128.52, below 2^130 (SPLIT_ODD_BITS)."""
    k1, k2 = glv_split(k)
    f1, f2 = (k1 & 1) ^ 1, (k2 & 1) ^ 1
    return (k1 + f1 * (_A1 + _A2) + f2 * _A2,
            k2 + f1 * (_B1 + _B2) + f2 * _B2)
