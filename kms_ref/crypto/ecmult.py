"""Fast scalar multiplication on secp256k1, beside the plain `point_mul` of `secp256k1.py`.

The tricks are the textbook ones libsecp256k1 uses (Hankerson, Menezes, Vanstone, "Guide to
Elliptic Curve Cryptography", §3.3–3.5), and tests/test_secp256k1.py checks every function here
against the plain double-and-add on random inputs:

- `point_mul_g(k)`, k·G: a table of multiples of G (`_g_table`) turns k·G into 25 mixed
  additions and no doubling: 145 µs against 1.6 ms for the plain `point_mul`. The table costs
  55–70 ms and 2.5 MB to build, as much as ~75 multiplications without it, so it is built only
  once a process has asked for k·G `G_TABLE_AFTER` times (or calls `precompute_g`): a one-shot
  command such as `getaddress` does its one k·G by GLV (below, 0.8 ms) and never pays for it.
- `point_mul(k, Q)`, k·Q for a variable point: the GLV endomorphism splits k into two halves
  of 128 bits, written in wNAF and run together over one chain of 128 doublings: 0.78 ms.
- `double_mul(u1, u2, Q)`, u1·G + u2·Q for ECDSA and Schnorr verification: the G table for u1,
  GLV + wNAF for u2, one final addition: 0.9 ms against 3.2 ms.
- `to_affine_batch`: Montgomery's trick, many points to affine with one field inversion.

(Timings: CPython 3.11 on the 2-core development VM, best of many runs. The 128 doublings
alone take 0.42 ms: about 3.3 µs each, 7 modular multiplications at ~0.4 µs.)

The hot loops inline the formulas of `jacobian_double` and `jacobian_add_affine` (calling the
functions instead measured 4% slower for k·Q, 14% for k·G); each inlined block names the
function it copies. Not constant-time, like all of kms_ref's arithmetic.
"""

from __future__ import annotations

import threading

from kms_ref.crypto.secp256k1 import (
    G, INFINITY_J, N, P, field_inv, jacobian_add, jacobian_add_affine, jacobian_double,
    to_affine, to_jacobian,
)
from kms_ref.crypto.secp256k1 import point_mul as plain_point_mul

# --- Batch inversion -------------------------------------------------------------------------


def batch_inverse(values: list) -> list:
    """Inverses mod p of non-zero field elements with a single inversion (Montgomery's trick):
    invert the product of all of them, then peel one factor off at a time (3 multiplications
    per element instead of one 25 µs inversion each)."""
    prefix, acc = [], 1
    for v in values:
        acc = acc * v % P
        prefix.append(acc)
    inv = field_inv(acc)
    out = [0] * len(values)
    for i in range(len(values) - 1, 0, -1):
        out[i] = inv * prefix[i - 1] % P  # (v0·…·vi)⁻¹ · (v0·…·v(i−1)) = vi⁻¹
        inv = inv * values[i] % P          # now (v0·…·v(i−1))⁻¹
    if values:
        out[0] = inv
    return out


def to_affine_batch(points_j: list) -> list:
    """`to_affine` for a list of Jacobian points, sharing one inversion."""
    live = [i for i, (_, _, z) in enumerate(points_j) if z % P]
    out = [None] * len(points_j)
    for i, zi in zip(live, batch_inverse([points_j[i][2] for i in live])):
        X, Y, _ = points_j[i]
        zi2 = zi * zi % P
        out[i] = (X * zi2 % P, Y * zi2 * zi % P)
    return out


def _affine_add_batch(pairs: list) -> list:
    """[p + q for (p, q) in pairs] in affine coordinates, all sharing one inversion. Each pair is
    two points with different x, or a point with itself (then the tangent slope 3x²/2y)."""
    dens = [(q[0] - p[0]) % P if p != q else 2 * p[1] % P for p, q in pairs]
    out = []
    for (p, q), inv in zip(pairs, batch_inverse(dens)):
        (x1, y1), (x2, y2) = p, q
        lam = ((y2 - y1) if p != q else 3 * x1 * x1) * inv % P
        x3 = (lam * lam - x1 - x2) % P
        out.append((x3, (lam * (x1 - x3) - y1) % P))
    return out


# --- k·G with a precomputed table -----------------------------------------------------------

G_WINDOW = 10  # bits per signed digit of k
G_TABLE_AFTER = 24  # k·G requests served by GLV before the table is built
_G_TABLE = None
_G_TABLE_LOCK = threading.Lock()
_g_requests = 0


def precompute_g() -> None:
    """Build the k·G table now (the daemon and the benchmark, which will sign a lot)."""
    _g_table()


def _use_g_table() -> bool:
    """Whether this k·G should use the table: yes once it exists, or once this is request
    number G_TABLE_AFTER + 1 — by then the next requests will repay the build."""
    global _g_requests
    if _G_TABLE is not None:
        return True
    _g_requests += 1
    return _g_requests > G_TABLE_AFTER


def _g_table() -> list:
    """Row i holds j·2^(10i)·G for j = 1..512, affine: 26 rows, 13,312 points, about 2.5 MB.

    Built once, on first use (55–70 ms here), so importing kms_ref stays cheap; a lock makes
    threads that arrive together wait for that one build.
    """
    global _G_TABLE
    with _G_TABLE_LOCK:
        if _G_TABLE is None:
            _G_TABLE = _build_g_table()
    return _G_TABLE


def _build_g_table() -> list:
    """The row bases 2^(10i)·G come from 250 doublings; then every row grows from [1..h] to
    [1..2h] multiples by adding h·B to each entry, and all additions of one round share one
    inversion (`_affine_add_batch`)."""
    w, half = G_WINDOW, 1 << (G_WINDOW - 1)
    rows = (256 + w) // w  # enough signed digits for any k < 2^256 plus a final carry
    bases = [to_jacobian(G)]
    for _ in range(rows - 1):
        b = bases[-1]
        for _ in range(w):
            b = jacobian_double(b)
        bases.append(b)
    table = [[b] for b in to_affine_batch(bases)]
    h = 1
    while h < half:
        pairs = [(row[j], row[h - 1]) for row in table for j in range(h)]
        sums = iter(_affine_add_batch(pairs))
        for row in table:
            row.extend(next(sums) for _ in range(h))
        h *= 2
    return table


def _comb(k: int) -> tuple:
    """k·G from the table of `_g_table`, as (X, Y, ZZ, ZZZ) with ZZ = ZZZ = 0 for infinity.

    k is written in signed base-2^10 digits d_i ∈ [−512, 511] (k = Σ d_i·2^(10i)), so
    k·G = Σ d_i·(2^(10i)·G): one table lookup and one mixed addition per digit, the sign handled
    by negating y; 25 additions for 26 digits, and no doubling (they were done when the table
    was built). The accumulator is in Chudnovsky coordinates (GECC §3.2.2): it keeps Z² and Z³
    instead of Z, which is all a mixed addition needs, so each step saves a multiplication.
    """
    table = _G_TABLE if _G_TABLE is not None else _g_table()
    p, w = P, G_WINDOW
    full = 1 << w
    mask, half = full - 1, full >> 1
    k %= N
    rest = k
    X = Y = ZZ = ZZZ = 0
    for row in table:
        d = rest & mask
        rest >>= w
        if d >= half:  # use the negative digit d − 2^w and carry one into the next window
            d -= full
            rest += 1
        if d > 0:
            x2, y2 = row[d - 1]
        elif d < 0:
            x2, y2 = row[-d - 1]
            y2 = p - y2
        else:
            continue
        if not ZZ:
            X, Y, ZZ, ZZZ = x2, y2, 1, 1
            continue
        # (X, Y, Z) += (x2, y2) as in secp256k1.jacobian_add_affine, with Z² = ZZ and Z³ = ZZZ.
        H = x2 * ZZ % p - X
        R = y2 * ZZZ % p - Y
        if not H:
            # Equal x needs a partial sum ≡ ±(next term) mod n. For 0 < k < n it cannot happen
            # (the partial sums stay below 2^(10i) in size, the next term is at least that,
            # and all terms add up to k); should it ever, fall back on the definition.
            x, y = plain_point_mul(k, G)
            return (x, y, 1, 1)
        HH = H * H % p
        HHH = H * HH % p
        V = X * HH % p
        X = (R * R - HHH - 2 * V) % p
        Y = (R * (V - X) - Y * HHH) % p
        ZZ = ZZ * HH % p  # Z' = Z·H, so Z'² = Z²·H²
        ZZZ = ZZZ * HHH % p  # and Z'³ = Z³·H³
    return (X, Y, ZZ, ZZZ)


def point_mul_g_jacobian(k: int):
    """k·G in Jacobian coordinates: the (X, Y, Z², Z³) of `_comb` rescaled to Z' = Z³,
    i.e. (X·Z⁴, Y·Z⁶, Z³). Without the table yet, GLV (see `_use_g_table`)."""
    if not _use_g_table():
        return _mul_glv_jacobian(k, G)
    X, Y, ZZ, ZZZ = _comb(k)
    if not ZZ:
        return INFINITY_J
    return (X * ZZ % P * ZZ % P, Y * ZZZ % P * ZZZ % P, ZZZ)


def point_mul_g(k: int):
    """k·G as an affine point (None for k ≡ 0 mod n). Agrees with the plain `point_mul(k, G)`
    on 1,000 random k in tests/test_secp256k1.py (the first G_TABLE_AFTER of them by GLV)."""
    if not _use_g_table():
        return to_affine(_mul_glv_jacobian(k, G))
    X, Y, ZZ, ZZZ = _comb(k)
    if not ZZ:
        return None
    inv = field_inv(ZZ * ZZZ % P)  # 1/Z⁵
    return (X * ZZZ % P * inv % P, Y * ZZ % P * inv % P)  # X/Z², Y/Z³


def point_mul_g_add(k: int, Q):
    """k·G + Q as an affine point (None for infinity): BIP32's point(IL) + K_par in one go, one
    mixed addition and one inversion on top of k·G. k is taken mod n, so BIP32 callers refuse
    IL ≥ n (and an infinite result) themselves."""
    return to_affine(jacobian_add_affine(point_mul_g_jacobian(k), Q))


# --- k·Q with GLV and wNAF ------------------------------------------------------------------

# secp256k1 has an efficiently computable endomorphism: λ·(x, y) = (β·x, y), with λ³ ≡ 1 mod n
# and β³ ≡ 1 mod p (GECC Example 3.76; the values of libsecp256k1's scalar_impl.h).
LAMBDA = 0x5363AD4CC05C30E0A5261C028812645A122E22EA20816678DF02967C1B23BD72
BETA = 0x7AE96A2B657C07106E64479EAC3434E99CF0497512F58995C1396C28719501EE
# A short basis of the lattice {(a, b) : a + b·λ ≡ 0 mod n}, for the split (GECC Alg. 3.74).
_A1, _B1 = 0x3086D221A7D46BCDE86C90E49284EB15, -0xE4437ED6010E88286F547FA90ABFE4C3
_A2, _B2 = 0x114CA50F7A8E2F3F657C1108D9D44CFD8, 0x3086D221A7D46BCDE86C90E49284EB15

Q_WINDOW = 5  # wNAF width for variable points: a table of 8 odd multiples Q, 3Q, …, 15Q


def glv_split(k: int) -> tuple:
    """(k1, k2) with k ≡ k1 + k2·λ (mod n) and |k1|, |k2| < 2^129: round k onto the lattice and
    keep the remainder (GECC Algorithm 3.74). Then k·Q = k1·Q + k2·(λQ), two half-length
    multiplications that can share their doublings."""
    c1 = (2 * _B2 * k + N) // (2 * N)  # round(b2·k / n)
    c2 = (-2 * _B1 * k + N) // (2 * N)  # round(−b1·k / n)
    return k - c1 * _A1 - c2 * _A2, -c1 * _B1 - c2 * _B2


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
    doublings: at each bit position, double once, then add the table entries the two wNAFs ask
    for. λQ's table is Q's with every x multiplied by β.
    """
    p = P
    k %= N
    if not k or Q is None:
        return INFINITY_J
    table, zfix = _odd_multiples(Q)
    k1, k2 = glv_split(k)
    schedule = []
    for part, tab in ((k1, table), (k2, [(BETA * x % p, y) for x, y in table])):
        sign = 1 if part >= 0 else -1
        for pos, d in wnaf(abs(part), Q_WINDOW):
            while len(schedule) <= pos:
                schedule.append([])
            x2, y2 = tab[abs(d) >> 1]  # |d| = 2i + 1 is entry i
            schedule[pos].append((x2, y2) if d * sign > 0 else (x2, p - y2))
    X = Y = Z = 0
    for adds in reversed(schedule):
        if Z:
            # (X, Y, Z) = 2·(X, Y, Z): secp256k1.jacobian_double, inlined.
            YY = Y * Y % p
            S = 4 * X * YY % p
            M = 3 * X * X % p
            Z = 2 * Y * Z % p
            X = (M * M - 2 * S) % p
            Y = (M * (S - X) - 8 * YY * YY) % p
        for x2, y2 in adds:
            if not Z:
                X, Y, Z = x2, y2, 1
                continue
            # (X, Y, Z) += (x2, y2): secp256k1.jacobian_add_affine, inlined.
            zz = Z * Z % p
            H = x2 * zz % p - X
            R = y2 * zz % p * Z % p - Y
            if not H:  # same x: doubling or infinity, rare; the plain function handles both
                X, Y, Z = jacobian_add_affine((X, Y, Z), (x2, y2))
                continue
            HH = H * H % p
            HHH = H * HH % p
            V = X * HH % p
            X = (R * R - HHH - 2 * V) % p
            Y = (R * (V - X) - Y * HHH) % p
            Z = Z * H % p
    return (X, Y, Z * zfix % p)


def point_mul(k: int, Q):
    """k·Q for an affine point Q, as an affine point (None for infinity)."""
    return to_affine(_mul_glv_jacobian(k, Q))


def double_mul_jacobian(u1: int, u2: int, Q):
    """u1·G + u2·Q in Jacobian coordinates; verifiers compare against it without an inversion."""
    return jacobian_add(point_mul_g_jacobian(u1), _mul_glv_jacobian(u2, Q))


def double_mul(u1: int, u2: int, Q):
    """u1·G + u2·Q as an affine point (None for infinity)."""
    return to_affine(double_mul_jacobian(u1, u2, Q))
