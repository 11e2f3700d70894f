"""k·Q for a variable point Q: the GLV split (`kms_ref.crypto.endomorphism`), width-w NAF and
Straus–Shamir interleaving (Hankerson, Menezes, Vanstone, "Guide to Elliptic Curve
Cryptography", §3.3–3.5).

For public inputs only: the number of additions follows the wNAF of the scalar, so the time
depends on it. kms_ref multiplies a variable point only to verify signatures (u2·Q in
`kms_ref.crypto.ecmult.double_mul`), where every input is public; secret scalars go through the
fixed-schedule comb for G (`ecmult.point_mul_g`). tests/test_secp256k1.py checks everything here
against the plain double-and-add `secp256k1.point_mul`.

Cost here (the 2-core development VM, Python 3.11, a quiet spell): 0.74 ms for k·Q, of which the
~128 doublings take 54% (3.1 µs each: 7 products, 3 reductions `% p`, 3 partial ones), the ~44
additions 34%, the table of odd multiples 8% and the split, the digits and their sorting 5%. The
hot loop inlines the formulas of `jacobian_double` and `jacobian_add_affine` (calling them
measured 4% slower), each block naming the function it copies. Tried and measured slower or no
faster: the doubling dbl-2009-l (2M + 5S, +11%), libsecp256k1's (Z' = YZ and a halved 3X²/2,
+0–7%), every mix of `% p` and partial reduction for Y², X·Y², X² (all partial is best) and for
the addition's Z², U2, S2, H² (within 2% of each other); w = 4 (+3%) and w = 6 (+2%); Z' = YZ with
the powers of two shifted in before each addition (+0.5%); and adding u1·G's digits into this
loop as a width-14 NAF read from the first rows of G's comb table (1% slower than the comb that
`ecmult.double_mul_jacobian` keeps: 18 of this loop's mixed additions, each first scaling the
point onto the table's curve, cost more than 19 Chudnovsky additions and one final addition);
the doubling counts worked out before the loop, with 2S as S << 1 (+0.7%); pow(x, 2, p) for a
square (slower than x * x % p); a fold before each `% p` (no faster: a 512-bit `% p` costs
0.26–0.32 µs here, a fold 0.15 µs and the `% p` of its 290-bit result 0.10 µs).

Where a verification's time goes (0.80 ms with the big G table): this k·Q 0.63 ms, of which the
reductions are about a third; u1·G by the comb 0.11 ms; the inversions of s mod n and, for a
compressed key seen once, of T mod p (`kms_ref.crypto.ecdsa_compressed_key`) 0.02 ms each.
"""

from __future__ import annotations

from kms_ref.crypto import endomorphism
from kms_ref.crypto.secp256k1 import (
    FOLD_C, FOLD_MASK, INFINITY_J, N, P, jacobian_add_affine, jacobian_double, to_affine,
)

Q_WINDOW = 5  # wNAF width for variable points: a table of ±Q, ±3Q, …, ±15Q (4 and 6 measured slower)


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
    """The signed table of Q: a list t of 2^Q_WINDOW points with t[d] = d·Q for every odd d,
    −15 ≤ d ≤ 15 (a negative d read through Python's negative index, t[−d] = t[32 − d]), as
    affine points of an isomorphic curve, plus the Z that maps them back.

    The trick of libsecp256k1's ecmult_odd_multiples_table: put D = 2Q = (Dx, Dy, Dz) in Jacobian
    form and scale the curve by c = Dz, (x, y) ↦ (c²x, c³y). On that curve y² = x³ + 7c⁶ both D
    and Q are affine points, (Dx, Dy) and (c²x, c³y), at the same Z = 1, so the odd multiples
    follow by co-Z additions (Meloni, "New point addition formulae for ECC applications", 2007):
    P + D, and D itself, come out at the same new Z = Z·H, ready for the next step — 7
    multiplications a step where a mixed addition makes 11. The points are then brought to one
    common Z by multiplying back the ratios H, and that Z, times c, is the scale of the whole
    table. The group formulas never use b = 7, so the main loop runs on the scaled curve as is,
    and a result (X, Y, Z) there is (X, Y, Z·zfix) here. This costs no inversion at all.
    Measured against mixed additions and an unsigned table: 15% faster (about 1% of a
    verification); tests check every entry against the plain multiplication.
    """
    p = P
    x, y = Q
    Dx, Dy, Dz = jacobian_double((x, y, 1))
    zz = Dz * Dz % p
    X1, Y1 = x * zz % p, y * zz % p * Dz % p  # Q on the scaled curve, at Z = 1 like D
    X2, Y2 = Dx, Dy
    points, ratios = [(X1, Y1)], []
    for _ in range((1 << (Q_WINDOW - 2)) - 1):
        # (X1, Y1) += (X2, Y2), both at the same Z; H ≠ 0 since (2i+1)Q ≠ ±2Q.
        H = X2 - X1
        R = Y2 - Y1
        HH = H * H % p
        V1 = X1 * HH % p  # X1·H², the x of P at the new Z
        V2 = X2 * HH % p  # X2·H², the x of D at the new Z
        HHH = V2 - V1  # H³
        X1 = (R * R - V1 - V2) % p
        Y1 = (R * (V1 - X1) - Y1 * HHH) % p
        X2, Y2 = V2, Y2 * HHH % p  # D at the new Z
        points.append((X1, Y1))
        ratios.append(H)  # Z(next) = Z(this) · H
    table = [None] * (1 << Q_WINDOW)
    s = 1  # Z(last) / Z(this point)
    for i in range(len(points) - 1, -1, -1):
        X, Y = points[i]
        if s != 1:
            ss = s * s % p
            X, Y = X * ss % p, Y * ss % p * s % p
        table[2 * i + 1], table[-(2 * i + 1)] = (X, Y), (X, p - Y)
        if i:
            s = s * ratios[i - 1] % p
    return table, s * Dz % p


def _glv_additions(k: int, Q) -> tuple:
    """The additions of k·Q's interleaved wNAFs, highest position first, and the Z of the scaled
    curve they are on (see `_odd_multiples`): (position, x, y) for each non-zero digit of the
    width-Q_WINDOW NAFs of the GLV halves k1 of Q and k2 of λQ. λQ's table is Q's with every x
    multiplied by β; a negative half reads its digits from the table negated (t[−d])."""
    p = P
    table, zfix = _odd_multiples(Q)
    k1, k2 = endomorphism.glv_split(k)
    beta_table = [None] * len(table)
    for d in range(1, len(table) // 2, 2):
        (x, y), (_, y_neg) = table[d], table[-d]
        x = endomorphism.BETA * x % p
        beta_table[d], beta_table[-d] = (x, y), (x, y_neg)
    adds = []
    for part, tab in ((k1, table), (k2, beta_table)):
        sign = 1 if part >= 0 else -1
        for pos, d in wnaf(abs(part), Q_WINDOW):
            x2, y2 = tab[sign * d]
            adds.append((pos, x2, y2))
    adds.sort(reverse=True)
    return adds, zfix


def _mul_glv_jacobian(k: int, Q):
    """k·Q in Jacobian coordinates: GLV split, wNAF of each half, Straus–Shamir interleaving.

    Both halves k1·Q and k2·(λQ) are added into one accumulator over a single chain of ~128
    doublings: the additions the two wNAFs ask for (`_glv_additions`), each after the doublings
    that lead to its position.
    """
    p, m, c = P, FOLD_MASK, FOLD_C
    k %= N
    if not k or Q is None:
        return INFINITY_J
    adds, zfix = _glv_additions(k, Q)
    adds.append((0, None, None))  # after the last addition, double down to position 0
    X = Y = Z = 0
    top = adds[0][0]
    for pos, x2, y2 in adds:
        for _ in range(top - pos):
            # (X, Y, Z) = 2·(X, Y, Z): secp256k1.jacobian_double, inlined, with Y², X·Y² and X²
            # only partly reduced (secp256k1.fold), and the small constants as shifts and
            # additions (1% faster than 4·, 2·, 8·). Infinity (Z = 0) stays infinity.
            t = Y * Y
            YY = (t & m) + (t >> 256) * c
            t = X * YY
            S = ((t & m) + (t >> 256) * c) << 2
            t = X * X
            M = ((t & m) + (t >> 256) * c) * 3
            Z = (Y + Y) * Z % p
            X = (M * M - S - S) % p
            Y = (M * (S - X) - (YY * YY << 3)) % p
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
        X = (R * R - HHH - V - V) % p
        Y = (R * (V - X) - Y * HHH) % p
        Z = Z * H % p
    return (X, Y, Z * zfix % p)


def point_mul(k: int, Q):
    """k·Q for an affine point Q, as an affine point (None for infinity). Variable time: for a
    public k (see the module docstring)."""
    return to_affine(_mul_glv_jacobian(k, Q))
