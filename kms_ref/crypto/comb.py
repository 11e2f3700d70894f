"""The fixed-base comb: K·B for a point B used many times, by table lookups and additions only,
on a schedule that is the same for every K.

GECC §3.3.2 (fixed-base methods), with the signed-digit form that libsecp256k1's ecmult_gen
uses (M. Hamburg, "Fast and compact elliptic-curve cryptography", 2012, §3.3), so that no digit
is ever zero and none is ever skipped:

- An odd K with −2^L < K < 2^L, L = w·rows, is a sum Σ s_j·2^j over all j < L with every
  s_j = ±1: put e = (K + 2^L − 1)/2 and s_j = 2·bit_j(e) − 1. Grouping w signs per row gives
  K = Σ d_i·2^(w·i) with d_i = 2·e_i − (2^w − 1), where e_i is the i-th w-bit window of e:
  every digit is odd and |d_i| < 2^w.
- Row i of the table holds d·2^(w·i)·B for the 2^w odd d in [−(2^w − 1), 2^w − 1], in the
  order of e_i, so the window itself is the index: K·B costs `rows` lookups and `rows − 1`
  mixed additions for every K, whatever its value or length, with no branch on its digits.

kms_ref keeps three kinds of table (`kms_ref.crypto.ecmult`): G with w = 10 (26 rows × 1,024
points; 25 additions per k·G), a small one for G with w = 5 (52 rows × 32) that serves a short
process before the big one pays for itself, and w = 6 for public keys that verify many
signatures. The secret-safe wrapper (blinding, an odd K of fixed length) is in ecmult.

Also here, because the builds need them: Montgomery's batch inversion and batched affine
additions. tests/test_secp256k1.py checks the comb against the plain `point_mul`.
"""

from __future__ import annotations

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


def build_table(base, w: int, rows: int) -> list:
    """Rows i = 0..rows−1 of d·2^(w·i)·B for the odd d in [−(2^w − 1), 2^w − 1], ordered so that
    entry e is d = 2e − (2^w − 1), as affine points.

    One chain of doublings gives 2^t·B_i for every row base B_i = 2^(w·i)·B and t < w; each row's
    positive odd multiples then grow from [1] to [1, 3, …, 2^w − 1] by adding 2h·B_i to the h
    found so far, and all additions of one round share one inversion (`_affine_add_batch`).
    The negative half is the positive half mirrored, y negated. G's table (w = 10) takes about
    70 ms here, a key's (w = 6) about 6 ms."""
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


def signed_digits(K: int, w: int, rows: int) -> list:
    """The digits d_i of K in the table's signed form (odd, |d_i| < 2^w), lowest first: the
    definition the comb reads its windows by; tests check Σ d_i·2^(w·i) = K."""
    e = (K + (1 << (w * rows)) - 1) >> 1
    return [2 * ((e >> (w * i)) & ((1 << w) - 1)) - ((1 << w) - 1) for i in range(rows)]


def comb_add(table: list, w: int, K: int, acc: tuple = ZERO, z: int = 1) -> tuple:
    """acc + K·B for an odd K with |K| < 2^(w·rows), with B's table; acc and the result in
    Chudnovsky coordinates (X, Y, Z², Z³) (GECC §3.2.2), ZERO for infinity.

    Every row adds one table point: the schedule — lookups, additions, reductions — is the same
    for every K. Chudnovsky coordinates keep Z² and Z³ instead of Z, which is all a mixed
    addition needs. Starting from ZERO, the first point is put at Z = z: a random z (the
    secret-safe callers pass one) makes every intermediate value, and the final Z that the
    caller inverts, random, whatever K is (Coron's projective randomization, CHES 1999 §5.3).

    Raises EqualX when a partial sum and the next term share x. Starting from ZERO the partial
    sums stay below 2^(w·i) in size and the next term is at least that, so for all rows but the
    last the sum cannot wrap around n; the last can, with odds about 2^-246 for a random K.
    Chained sums (acc not ZERO) can meet an equal x on purpose.
    """
    p = P
    mask = (1 << w) - 1
    e = (K + (1 << (w * len(table))) - 1) >> 1  # the signs of `signed_digits`, as bits
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
