"""The fixed-base comb: k·B for a point B used many times, by table lookups and additions only.

GECC §3.3.2 (fixed-base methods). Write k in signed base-2^w digits, k = Σ d_i·2^(w·i) with
d_i ∈ [−2^(w−1), 2^(w−1)); then k·B = Σ d_i·(2^(w·i)·B). A table whose row i holds
j·2^(w·i)·B for j = 1..2^(w−1) turns k·B into one lookup and one mixed addition per digit —
the doublings were all done once, when the table was built. kms_ref keeps two kinds of table
(`kms_ref.crypto.ecmult`): one for G with w = 10 (26 rows × 512 points; 25 additions per k·G,
every signature and public key), and small ones with w = 6 for public keys that verify many
signatures (43 rows × 32 points).

Also here, because the builds need them: Montgomery's batch inversion, and batched affine
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
    two points with different x, or a point with itself (then the tangent slope 3x²/2y)."""
    dens = [(q[0] - p[0]) % P if p != q else 2 * p[1] % P for p, q in pairs]
    out = []
    for (p, q), inv in zip(pairs, batch_inverse(dens)):
        (x1, y1), (x2, y2) = p, q
        lam = ((y2 - y1) if p != q else 3 * x1 * x1) * inv % P
        x3 = (lam * lam - x1 - x2) % P
        out.append((x3, (lam * (x1 - x3) - y1) % P))
    return out


def build_table(base, w: int) -> list:
    """Rows i = 0..⌈(256 + 1)/w⌉−1 of j·2^(w·i)·B, j = 1..2^(w−1), as affine points.

    The row bases 2^(w·i)·B come from doublings; then every row grows from [1..h] to [1..2h]
    multiples by adding h·B_i to each entry, and all additions of one round share one inversion
    (`_affine_add_batch`). G's table (w = 10) takes 55–70 ms, a key's (w = 6) about 6 ms."""
    half = 1 << (w - 1)
    rows = (256 + w) // w  # enough signed digits for any k < 2^256 plus a final carry
    bases = [to_jacobian(base)]
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


def comb_add(table: list, w: int, k: int, acc: tuple = ZERO) -> tuple:
    """acc + k·B for 0 ≤ k < 2^256, with B's table; acc and the result in Chudnovsky
    coordinates (X, Y, Z², Z³) (GECC §3.2.2), ZERO for infinity.

    Chudnovsky coordinates keep Z² and Z³ instead of Z, which is all a mixed addition needs, so
    each step saves a multiplication. The digit's sign is handled by negating y. Raises EqualX
    when a partial sum and the next term share x: for one k below n starting from ZERO that
    cannot happen (the partial sums stay below 2^(w·i) in size, the next term is at least that,
    and all terms add up to k), but it can when two sums are chained.
    """
    p = P
    full = 1 << w
    mask, half = full - 1, full >> 1
    X, Y, ZZ, ZZZ = acc
    rest = k
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
            raise EqualX()
        HH = H * H % p
        HHH = H * HH % p
        V = X * HH % p
        X = (R * R - HHH - 2 * V) % p
        Y = (R * (V - X) - Y * HHH) % p
        ZZ = ZZ * HH % p  # Z' = Z·H, so Z'² = Z²·H²
        ZZZ = ZZZ * HHH % p  # and Z'³ = Z³·H³
    return (X, Y, ZZ, ZZZ)
