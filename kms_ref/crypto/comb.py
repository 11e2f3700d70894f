"""The fixed-base comb: k·B for a point B used many times, by table lookups and additions only,
on a schedule that is the same for every k.

GECC §3.3.2 (fixed-base methods), with two refinements:

- Signed odd digits, as in libsecp256k1's ecmult_gen (M. Hamburg, "Fast and compact elliptic-
  curve cryptography", 2012, §3.3), so that no digit is ever zero and none is ever skipped. An
  odd K with −2^L < K < 2^L, L = w·rows, is a sum Σ s_j·2^j over all j < L with every
  s_j = ±1: put e = (K + 2^L − 1)/2 and s_j = 2·bit_j(e) − 1. Grouping w signs per row gives
  K = Σ d_i·2^(w·i) with d_i = 2·e_i − (2^w − 1), where e_i is the i-th w-bit window of e: every
  digit is odd and |d_i| < 2^w. Row i of the table holds d·2^(w·i)·B for the 2^w odd d in
  [−(2^w − 1), 2^w − 1], in the order of e_i, so the window itself is the index.
- The GLV split (`kms_ref.crypto.endomorphism`): k ≡ k1 + k2·λ with k1, k2 odd and below 2^130,
  so the table needs rows for 130 bits only, plus the same rows for λ·B, which cost one
  multiplication per point ((x, y) ↦ (β·x, y)). The windows of k1 index the first half of the
  rows, those of k2 the second.

So k·B costs one lookup per row and one mixed addition per row but the first — 19 for G's big
table (w = 13, 2 × 10 rows × 8,192 points), whatever k is. kms_ref keeps three kinds of table
(`kms_ref.crypto.ecmult`): that one, a small one for G (w = 6, 2 × 22 rows × 64 points, 43
additions) that serves a short process before the big one pays for itself, and w = 6 tables for
public keys that verify many signatures. The secret-safe wrapper (blinding) is in ecmult.

Also here, because the builds need them: Montgomery's batch inversion and batched affine
additions. tests/test_secp256k1.py checks the comb against the plain `point_mul`.
"""

from __future__ import annotations

from kms_ref.crypto.endomorphism import BETA, SPLIT_ODD_BITS, glv_split_odd
from kms_ref.crypto.secp256k1 import P, field_inv, jacobian_double, to_jacobian

ZERO = (0, 0, 0, 0)  # the empty sum (infinity) as a Chudnovsky accumulator


class EqualX(Exception):
    """A partial sum met a table point with the same x (a doubling or a cancellation): the
    mixed addition formula does not apply. Callers fall back on the plain multiplication."""


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
    two points with different x."""
    dens = [(q[0] - p[0]) % P for p, q in pairs]
    out = []
    for (p, q), inv in zip(pairs, batch_inverse(dens)):
        (x1, y1), (x2, y2) = p, q
        lam = (y2 - y1) * inv % P
        x3 = (lam * lam - x1 - x2) % P
        out.append((x3, (lam * (x1 - x3) - y1) % P))
    return out


def build_rows(base, w: int, rows: int) -> list:
    """Rows i = 0..rows−1 of d·2^(w·i)·B for the odd d in [−(2^w − 1), 2^w − 1], ordered so that
    entry e is d = 2e − (2^w − 1), as affine points.

    One chain of doublings gives 2^t·B_i for every row base B_i = 2^(w·i)·B and t < w; each row's
    positive odd multiples then grow from [1] to [1, 3, …, 2^w − 1] by adding 2h·B_i to the h
    found so far, and all additions of one round share one inversion (`_affine_add_batch`).
    The negative half is the positive half mirrored, y negated."""
    powers, b = [], to_jacobian(base)
    for _ in range(rows * w):
        powers.append(b)
        b = jacobian_double(b)
    powers = to_affine_batch(powers)
    doubles = [powers[i * w:(i + 1) * w] for i in range(rows)]  # doubles[i][t] = 2^t·B_i
    odd = [[row[0]] for row in doubles]
    h = 1
    while h < 1 << (w - 1):
        step = h.bit_length()  # 2h = 2^step
        sums = iter(_affine_add_batch([(entry, row[step]) for entries, row in zip(odd, doubles)
                                       for entry in entries]))
        for entries in odd:
            entries.extend([next(sums) for _ in range(h)])
        h *= 2
    return [[(x, P - y) for x, y in reversed(entries)] + entries for entries in odd]


def rows_for(w: int) -> int:
    """Rows per half of a table of window w: enough for the split halves, |k1|, |k2| < 2^130."""
    return -(-SPLIT_ODD_BITS // w)


def build_table(base, w: int) -> list:
    """The comb table of B for window w: `build_rows` of B for 130 bits, then the same rows for
    λ·B, each point (β·x, y). G's (w = 13) takes about 0.27 s and 24 MB here, G's small one and
    a key's (w = 6) about 5 ms."""
    rows = build_rows(base, w, rows_for(w))
    return rows + [[(BETA * x % P, y) for x, y in row] for row in rows]


def signed_windows(K: int, w: int, rows: int) -> int:
    """e = (K + 2^L − 1)/2, L = w·rows, for an odd K with |K| < 2^L: the bits of e are the signs
    of K's digits, and its w-bit windows index the rows (see the module docstring)."""
    return (K + (1 << (w * rows)) - 1) >> 1


def comb_windows(k: int, w: int) -> int:
    """The windows for k·B with B's table of window w: k split into odd k1, k2 (for any k ≥ 0),
    the windows of k1 below those of k2. The same operations for every k."""
    rows = rows_for(w)
    k1, k2 = glv_split_odd(k)
    return signed_windows(k1, w, rows) | signed_windows(k2, w, rows) << (w * rows)


def signed_digits(e: int, w: int, rows: int) -> list:
    """The digits d_i = 2·e_i − (2^w − 1) that windows e stand for, lowest row first: the
    definition the comb reads e by; tests check that they add up to the scalar."""
    mask = (1 << w) - 1
    return [2 * ((e >> (w * i)) & mask) - mask for i in range(rows)]


def comb_add(table: list, w: int, e: int, acc: tuple = ZERO, z: int = 1) -> tuple:
    """acc + k·B for B's table and the windows e = comb_windows(k, w); acc and the result in
    Chudnovsky coordinates (X, Y, Z², Z³) (GECC §3.2.2), ZERO for infinity.

    Every row adds one table point: the schedule — lookups, additions, reductions — is the same
    for every k. Chudnovsky coordinates keep Z² and Z³ instead of Z, which is all a mixed
    addition needs. Starting from ZERO, the first point is put at Z = z: a random z (the
    secret-safe callers pass one) makes every intermediate value, and the final Z that the
    caller inverts, random whatever k is (Coron's projective randomization, CHES 1999 §5.3).

    Raises EqualX when a partial sum and the next term share x. Within the first half of the
    rows the partial sums stay below 2^(w·i) in size and the next term is at least that, with no
    wrap around n; after that the terms are multiples of λ·B and a collision is a chance of
    about 2^-120 for a random k. Chained sums (acc not ZERO) can meet an equal x on purpose.
    """
    p = P
    mask = (1 << w) - 1
    X, Y, ZZ, ZZZ = acc
    rows = iter(table)
    if not ZZ:
        x, y = next(rows)[e & mask]
        e >>= w
        zz = z * z % p
        X, Y, ZZ, ZZZ = x * zz % p, y * zz % p * z % p, zz, zz * z % p
    for row in rows:
        x2, y2 = row[e & mask]
        e >>= w
        # (X, Y, Z) += (x2, y2) as in secp256k1.jacobian_add_affine, with Z² = ZZ and Z³ = ZZZ.
        H = x2 * ZZ % p - X
        R = y2 * ZZZ % p - Y
        if not H:
            raise EqualX()
        HH = H * H % p
        HHH = H * HH % p
        V = X * HH % p
        X = (R * R - HHH - 2 * V) % p
        Y = (R * (V - X) - Y * HHH) % p
        ZZ = ZZ * HH % p  # Z' = Z·H, so Z'² = Z²·H²
        ZZZ = ZZZ * HHH % p  # and Z'³ = Z³·H³
    return (X, Y, ZZ, ZZZ)
