"""k·Q for a variable point Q: the GLV split (`kms_ref.crypto.endomorphism`), width-w NAF and
Straus–Shamir interleaving (Hankerson, Menezes, Vanstone, "Guide to Elliptic Curve
Cryptography", §3.3–3.5).

For public inputs only: the number of additions follows the wNAF of the scalar, so the time
depends on it. kms_ref multiplies a variable point only to verify signatures (u2·Q in
`kms_ref.crypto.ecmult.double_mul`), where every input is public; secret scalars go through the
fixed-schedule comb for G (`ecmult.point_mul_g`). tests/test_secp256k1.py checks everything here
against the plain double-and-add `secp256k1.point_mul`.

Cost here: 0.78 ms for k·Q, of which the ~128 doublings take 0.42 ms (about 3.3 µs each, 7
modular multiplications at ~0.4 µs); the hot loop inlines the formulas of `jacobian_double` and
`jacobian_add_affine` (calling them measured 4% slower), each block naming the function it copies.
"""

from __future__ import annotations

from kms_ref.crypto import endomorphism
from kms_ref.crypto.secp256k1 import (
    FOLD_C, FOLD_MASK, INFINITY_J, N, P, jacobian_add_affine, jacobian_double, to_affine,
    to_jacobian,
)

Q_WINDOW = 5  # wNAF width for variable points: a table of 8 odd multiples Q, 3Q, …, 15Q


def wnaf(k: int, w: int) -> list:
    """Width-w NAF of k ≥ 0 as (position, digit) pairs: every digit odd with |d| < 2^(w−1), and
    at least w−1 zeros after each, so a 128-bit k has about 128/(w+1) of them (GECC Alg. 3.35).
    Runs of zeros are skipped whole, which keeps this cheap in Python."""
    full, pos, out = 1 << w, 0, []
    while k:
        zeros = (k & -k).bit_length() - 1
        k >>= zeros
        pos += zeros
        d = k & (full - 1)
        if d >= full >> 1:
            d -= full
        out.append((pos, d))
        k = (k - d) >> w  # k − d is divisible by 2^w: the next w − 1 digits are zero
        pos += w
    return out


def _odd_multiples(Q) -> tuple:
    """Q, 3Q, …, 15Q as affine points of an isomorphic curve, plus the Z that maps them back.

    The trick of libsecp256k1's ecmult_odd_multiples_table: put D = 2Q = (Dx, Dy, Dz) in Jacobian
    form and scale the curve by c = Dz, (x, y) ↦ (c²x, c³y). On that curve y² = x³ + 7c⁶ D is the
    affine point (Dx, Dy), so the odd multiples follow by mixed additions; they are then brought
    to one common Z by multiplying back the ratios, and that Z, times c, is the scale of the whole
    table. The group formulas never use b = 7, so the main loop runs on the scaled curve as is,
    and a result (X, Y, Z) there is (X, Y, Z·zfix) here. This costs one inversion less than
    converting the table to affine.
    """
    p = P
    Dx, Dy, Dz = jacobian_double(to_jacobian(Q))
    c2 = Dz * Dz % p
    X, Y, Z = Q[0] * c2 % p, Q[1] * c2 * Dz % p, 1
    points, ratios = [(X, Y)], []
    for _ in range((1 << (Q_WINDOW - 2)) - 1):
        # (X, Y, Z) += (Dx, Dy): secp256k1.jacobian_add_affine, inlined; H ≠ 0 since (2i+1)Q ≠ ±2Q.
        zz = Z * Z % p
        H = Dx * zz % p - X
        R = Dy * zz % p * Z % p - Y
        HH = H * H % p
        HHH = H * HH % p
        V = X * HH % p
        X = (R * R - HHH - 2 * V) % p
        Y = (R * (V - X) - Y * HHH) % p
        Z = Z * H % p
        points.append((X, Y))
        ratios.append(H)  # Z(next) = Z(this) · H
    table, s = [points[-1]], 1
    for (X, Y), h in zip(reversed(points[:-1]), reversed(ratios)):
        s = s * h % p  # s = Z(last) / Z(this point)
        ss = s * s % p
        table.append((X * ss % p, Y * ss * s % p))
    table.reverse()
    return table, Z * Dz % p


def _mul_glv_jacobian(k: int, Q):
    """k·Q in Jacobian coordinates: GLV split, wNAF of each half, Straus–Shamir interleaving.

    Both halves k1·Q and k2·(λQ) are added into one accumulator over a single chain of ~128
    doublings: the additions the two wNAFs ask for, sorted by bit position from the top, each
    after the doublings that lead to its position. λQ's table is Q's with every x multiplied by β.
    """
    p, m, c = P, FOLD_MASK, FOLD_C
    k %= N
    if not k or Q is None:
        return INFINITY_J
    table, zfix = _odd_multiples(Q)
    k1, k2 = endomorphism.glv_split(k)
    adds = []  # (bit position, point to add there), highest position first once sorted
    for part, tab in ((k1, table), (k2, [(endomorphism.BETA * x % p, y) for x, y in table])):
        sign = 1 if part >= 0 else -1
        for pos, d in wnaf(abs(part), Q_WINDOW):
            x2, y2 = tab[abs(d) >> 1]  # |d| = 2i + 1 is entry i
            adds.append((pos, x2, y2 if d * sign > 0 else p - y2))
    adds.sort(reverse=True)
    adds.append((0, None, None))  # after the last addition, double down to position 0
    X = Y = Z = 0
    top = adds[0][0]
    for pos, x2, y2 in adds:
        for _ in range(top - pos):
            # (X, Y, Z) = 2·(X, Y, Z): secp256k1.jacobian_double, inlined, with Y², X·Y² and X²
            # only partly reduced (secp256k1.fold). Infinity (Z = 0) stays infinity.
            t = Y * Y
            YY = (t & m) + (t >> 256) * c
            t = X * YY
            S = ((t & m) + (t >> 256) * c) * 4
            t = X * X
            M = ((t & m) + (t >> 256) * c) * 3
            Z = Y * Z * 2 % p
            X = (M * M - 2 * S) % p
            Y = (M * (S - X) - YY * YY * 8) % p
        top = pos
        if x2 is None:
            break
        if not Z:
            X, Y, Z = x2, y2, 1
            continue
        # (X, Y, Z) += (x2, y2): secp256k1.jacobian_add_affine, inlined; HHH and V partly reduced.
        zz = Z * Z % p
        H = x2 * zz % p - X
        R = y2 * zz % p * Z % p - Y
        if not H:  # same x: doubling or infinity, rare; the plain function handles both
            X, Y, Z = jacobian_add_affine((X, Y, Z), (x2, y2))
            continue
        HH = H * H % p
        t = H * HH
        HHH = (t & m) + (t >> 256) * c
        t = X * HH
        V = (t & m) + (t >> 256) * c
        X = (R * R - HHH - 2 * V) % p
        Y = (R * (V - X) - Y * HHH) % p
        Z = Z * H % p
    return (X, Y, Z * zfix % p)


def point_mul(k: int, Q):
    """k·Q for an affine point Q, as an affine point (None for infinity). Variable time: for a
    public k (see the module docstring)."""
    return to_affine(_mul_glv_jacobian(k, Q))
