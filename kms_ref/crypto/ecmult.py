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
  GLV + wNAF for u2, one final addition: 0.9 ms against 3.2 ms. A key that verifies many
  signatures (every input of a 100-input transaction from one address) gets a comb table of
  its own after KEY_TABLE_AFTER uses: then 0.35 ms.
- `to_affine_batch` (in `comb.py`): Montgomery's trick, many points to affine with one inversion.

The comb itself — tables and the addition loop — is in `kms_ref.crypto.comb`.

(Timings: CPython 3.11 on the 2-core development VM, best of many runs. The 128 doublings
alone take 0.42 ms: about 3.3 µs each, 7 modular multiplications at ~0.4 µs.)

The hot loops inline the formulas of `jacobian_double` and `jacobian_add_affine` (calling the
functions instead measured 4% slower for k·Q, 14% for k·G); each inlined block names the
function it copies. Not constant-time, like all of kms_ref's arithmetic.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from kms_ref.crypto.comb import ZERO, EqualX, batch_inverse, build_table, comb_add, to_affine_batch
from kms_ref.crypto.secp256k1 import (
    G, INFINITY_J, N, P, field_inv, jacobian_add, jacobian_add_affine, jacobian_double,
    point_add, to_affine, to_jacobian,
)
from kms_ref.crypto.secp256k1 import point_mul as plain_point_mul

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
    """The comb table of G (`comb.build_table(G, 10)`): 26 rows of 512 affine points, about
    2.5 MB, built once (55–70 ms here); a lock makes threads that arrive together wait for
    that one build."""
    global _G_TABLE
    with _G_TABLE_LOCK:
        if _G_TABLE is None:
            _G_TABLE = build_table(G, G_WINDOW)
    return _G_TABLE


def _comb_g(k: int) -> tuple:
    """k·G from the table, as Chudnovsky (X, Y, Z², Z³). The equal-x case cannot happen for
    G alone (see `comb.comb_add`); should it ever, the definition answers."""
    try:
        return comb_add(_g_table(), G_WINDOW, k % N, ZERO)
    except EqualX:
        x, y = plain_point_mul(k, G)
        return (x, y, 1, 1)


def _chudnovsky_to_jacobian(acc):
    """(X, Y, Z², Z³) rescaled to Jacobian with Z' = Z³, i.e. (X·Z⁴, Y·Z⁶, Z³)."""
    X, Y, ZZ, ZZZ = acc
    if not ZZ:
        return INFINITY_J
    return (X * ZZ % P * ZZ % P, Y * ZZZ % P * ZZZ % P, ZZZ)


def point_mul_g_jacobian(k: int):
    """k·G in Jacobian coordinates: the (X, Y, Z², Z³) of `_comb` rescaled to Z' = Z³,
    i.e. (X·Z⁴, Y·Z⁶, Z³). Without the table yet, GLV (see `_use_g_table`)."""
    if not _use_g_table():
        return _mul_glv_jacobian(k, G)
    return _chudnovsky_to_jacobian(_comb_g(k))


def point_mul_g(k: int):
    """k·G as an affine point (None for k ≡ 0 mod n). Agrees with the plain `point_mul(k, G)`
    on 1,000 random k in tests/test_secp256k1.py (the first G_TABLE_AFTER of them by GLV)."""
    if not _use_g_table():
        return to_affine(_mul_glv_jacobian(k, G))
    X, Y, ZZ, ZZZ = _comb_g(k)
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
    """u1·G + u2·Q in Jacobian coordinates; verifiers compare against it without an inversion.

    With the G table built and a table for Q (a key that verifies many signatures, see
    `_key_table`), both halves are comb sums into one accumulator: 25 + 42 mixed additions and
    no doubling, 0.35 ms instead of 0.9 ms. Otherwise the G comb plus GLV for Q."""
    if _use_g_table():
        table = _key_table(Q)
        if table is not None:
            try:
                acc = comb_add(_G_TABLE, G_WINDOW, u1 % N, ZERO)
                return _chudnovsky_to_jacobian(comb_add(table, KEY_WINDOW, u2 % N, acc))
            except EqualX:  # a partial sum met the next term: the definition answers
                return to_jacobian(point_add(plain_point_mul(u1, G), plain_point_mul(u2, Q)))
        return jacobian_add(_chudnovsky_to_jacobian(_comb_g(u1)), _mul_glv_jacobian(u2, Q))
    return jacobian_add(_mul_glv_jacobian(u1, G), _mul_glv_jacobian(u2, Q))


# --- tables for public keys that verify many signatures -----------------------------------

KEY_WINDOW = 6        # 43 rows of 32 points: about 6 ms and 250 kB to build
KEY_TABLE_AFTER = 8   # verifications with one key before it gets a table
KEY_TABLES_MAX = 32   # tables kept (least recently used dropped)
_key_tables: "OrderedDict" = OrderedDict()
_key_uses: dict = {}
_KEY_LOCK = threading.Lock()


def _key_table(Q):
    """The comb table of public key Q if Q has verified more than KEY_TABLE_AFTER signatures in
    this process, else None. A transaction of many inputs from one address verifies one key
    many times (kms_ref checks every input it signs): for 100 inputs the table takes the
    verification of all of them from 0.11 s to 0.04 s. Points are public, so caching them
    keeps no secret."""
    with _KEY_LOCK:
        table = _key_tables.get(Q)
        if table is not None:
            _key_tables.move_to_end(Q)
            return table
        uses = _key_uses.get(Q, 0) + 1
        if uses <= KEY_TABLE_AFTER:
            if len(_key_uses) > 4 * KEY_TABLES_MAX * KEY_TABLE_AFTER:
                _key_uses.clear()  # forget stray counts rather than grow without bound
            _key_uses[Q] = uses
            return None
        _key_uses.pop(Q, None)
        table = _key_tables[Q] = build_table(Q, KEY_WINDOW)
        if len(_key_tables) > KEY_TABLES_MAX:
            _key_tables.popitem(last=False)
        return table


def double_mul(u1: int, u2: int, Q):
    """u1·G + u2·Q as an affine point (None for infinity)."""
    return to_affine(double_mul_jacobian(u1, u2, Q))
