"""Fast scalar multiplication on secp256k1, beside the plain `point_mul` of `secp256k1.py`.

Two kinds of input, two kinds of method (SECURITY.md, "Timing side channels"):

- Secret scalars — a private key d for d·G (public keys, BIP32 private derivation), a nonce k
  for k·G (ECDSA, BCH Schnorr, BIP340) — go through `point_mul_g`, `point_mul_g_jacobian` and
  `point_mul_g_add`, the names every caller uses, whose schedule does not depend on the scalar:
  the comb of `kms_ref.crypto.comb` (k split with the GLV endomorphism, signed odd digits: the
  same 19 table additions for every k with the big table, 43 with the small one, no branch on
  k), and the first point projectively randomized so that every intermediate value, and the Z
  inverted at the end, is random.
- Public inputs — signature verification, u1·G + u2·Q — go through `double_mul` and
  `double_mul_jacobian`, whose time may follow their inputs: the comb for u1 without blinding,
  GLV + wNAF for u2·Q (`kms_ref.crypto.wnaf`, also `point_mul` here), and a comb table of its own
  for a key that verifies many signatures (`_key_table`). `mul_g_and_mul` hands the two
  products over apart, for the verifier that needs no square root of a compressed key
  (`kms_ref.crypto.ecdsa_compressed_key`).

Tables are built on first use, under a lock, so that threads arriving together wait for one
build and never see a table before it exists: the small G table (w = 6, 2 × 22 rows × 64
points, about 5 ms) at the first multiplication by G, the big one (w = 13, 2 × 10 rows × 8,192
points, about 0.27 s and 24 MB) once a process has asked for G_TABLE_AFTER multiplications by G
(or calls `precompute_g`), and a key's (w = 6, about 5 ms) after KEY_TABLE_AFTER verifications
with it. A medium G table (w = 9, 2 × 15 rows × 512 points, about 25 ms and 2 MB) is built only
when asked for, `precompute_g(G_MEDIUM_WINDOW)`: the daemon builds it while scrypt unlocks its
wallet, time that would otherwise be spent waiting.

Each function here is checked against the plain double-and-add on random and edge scalars in
tests/test_secp256k1.py; tests/test_fixed_schedule.py checks that secret multiplications run the
same Python operations, in the same order, for short and full-length scalars.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from kms_ref.crypto.blinding import random_field_element
from kms_ref.crypto.comb import ZERO, EqualX, build_table, comb_add, comb_windows, to_affine_batch
from kms_ref.crypto.wnaf import _mul_glv_jacobian, point_mul
from kms_ref.crypto.secp256k1 import (
    G, INFINITY_J, N, P, field_inv, jacobian_add, jacobian_add_affine, point_add, to_affine,
    to_jacobian,
)
from kms_ref.crypto.secp256k1 import point_mul as plain_point_mul

__all__ = [
    "precompute_g", "point_mul_g", "point_mul_g_jacobian", "point_mul_g_x", "point_mul_g_add",
    "double_mul", "double_mul_jacobian", "mul_g_and_mul", "point_mul", "to_affine_batch",
]

# --- the tables of G ------------------------------------------------------------------------

G_WINDOW = 13  # 2 × 10 rows of 8,192 points: 19 additions per k·G. w = 12 (2 × 11 rows, 21
# additions, 13 MB, 0.13 s to build) signed 5% slower; the table for w = 14 would be as big again.
G_SMALL_WINDOW = 6  # 2 × 22 rows of 64 points: 43 additions
G_MEDIUM_WINDOW = 9  # 2 × 15 rows of 512 points: 29 additions. A daemon cycle of 100 transactions
# makes 300 multiplications by G (public key, nonce, verification), 4,200 additions fewer than
# with the small table (about 20 ms), for a build that fits beside the unlock; w = 10 (25
# additions) takes about twice as long to build and no longer fits there on the 2-core VM.
# Multiplications by G served by the small table before the big one is built: the big table
# saves 24 additions (~0.11 ms) per multiplication and costs ~0.27 s, so it is built once a
# process has done about as many multiplications as would have paid for it. Over the medium
# table it saves 10 additions and would pay after about twice as many; the one threshold is kept
# (a daemon that has made 2,500 multiplications is one that keeps signing).
G_TABLE_AFTER = 2500
_g_tables: dict = {}  # window → table; written only under _G_LOCK, complete when written
_G_LOCK = threading.Lock()
_g_requests = 0


def _g_table_of_window(w: int) -> list:
    """G's comb table for window w, built once: a thread that finds it missing takes the lock,
    looks again, and builds it; the others wait for that build."""
    table = _g_tables.get(w)
    if table is None:
        with _G_LOCK:
            table = _g_tables.get(w)
            if table is None:
                table = build_table(G, w)
                _g_tables[w] = table
    return table


def precompute_g(window: int = G_WINDOW) -> None:
    """Build a k·G table now: the big one (the benchmark, a process that will sign a lot), or
    the medium one (the daemon, while its wallet unlocks). Later multiplications by G use the
    widest table built."""
    _g_table_of_window(window)


def _g_table() -> tuple:
    """(table, window) for the next multiplication by G: the big table if it exists or if this
    is request number G_TABLE_AFTER + 1; else the medium one if it was built; else the small
    one. Which one is used depends on the tables built and the number of requests so far, never
    on a scalar."""
    global _g_requests
    table = _g_tables.get(G_WINDOW)
    if table is not None:
        return table, G_WINDOW
    _g_requests += 1
    if _g_requests > G_TABLE_AFTER:
        return _g_table_of_window(G_WINDOW), G_WINDOW
    table = _g_tables.get(G_MEDIUM_WINDOW)
    if table is not None:
        return table, G_MEDIUM_WINDOW
    return _g_table_of_window(G_SMALL_WINDOW), G_SMALL_WINDOW


def _chudnovsky_to_jacobian(acc):
    """(X, Y, Z², Z³) rescaled to Jacobian with Z' = Z³, i.e. (X·Z⁴, Y·Z⁶, Z³)."""
    X, Y, ZZ, ZZZ = acc
    if not ZZ:
        return INFINITY_J
    return (X * ZZ % P * ZZ % P, Y * ZZZ % P * ZZZ % P, ZZZ)


# --- k·G for a secret k ---------------------------------------------------------------------

def _mul_g_secret(k: int) -> tuple:
    """k·G as Chudnovsky (X, Y, Z², Z³), on the fixed schedule: k split into odd halves, one
    table point added per row (19 additions with the big table), starting from a point at a
    fresh random Z.

    Why no k + m·n: the split is the same for k and k + m·n (Babai's rounding moves by the
    lattice vector (n, 0) exactly), so such a blinding would change nothing here; the length
    of k does not show anyway, since every row is added and a k of 250 bits splits into halves
    of about 128 bits like any other (tests/test_fixed_schedule.py). EqualX comes for k ≡ 0
    (the sum cancels: infinity) or with odds about 2^-120; the definition answers then."""
    k %= N
    table, w = _g_table()
    try:
        return comb_add(table, w, comb_windows(k, w), ZERO, random_field_element())
    except EqualX:
        point = plain_point_mul(k, G)
        return ZERO if point is None else (point[0], point[1], 1, 1)


def point_mul_g_jacobian(k: int):
    """k·G in Jacobian coordinates, for a secret k (see `_mul_g_secret`): (X·Z⁴, Y·Z⁶, Z³)."""
    return _chudnovsky_to_jacobian(_mul_g_secret(k))


def point_mul_g(k: int):
    """k·G as an affine point (None for k ≡ 0 mod n), for a secret k: fixed schedule and random
    Z (see the module docstring); one inversion of the random Z⁵ at the end. Agrees with the
    plain `point_mul(k, G)` on random and edge k (tests/test_secp256k1.py, test_fixed_schedule.py)."""
    X, Y, ZZ, ZZZ = _mul_g_secret(k)
    if not ZZ:
        return None
    inv = field_inv(ZZ * ZZZ % P)  # 1/Z⁵
    return (X * ZZZ % P * inv % P, Y * ZZ % P * inv % P)  # X/Z², Y/Z³


def point_mul_g_x(k: int):
    """x(k·G) for a secret k, what ECDSA's r is made of: as `point_mul_g`, but the one inversion
    is of the random Z² alone and y is never computed (four multiplications fewer, 1% of a
    signature). None for k ≡ 0 mod n."""
    X, _, ZZ, _ = _mul_g_secret(k)
    if not ZZ:
        return None
    return X * field_inv(ZZ) % P  # X/Z²


def point_mul_g_add(k: int, Q):
    """k·G + Q as an affine point (None for infinity): BIP32's point(IL) + K_par in one go, one
    mixed addition and one inversion on top of the secret-safe k·G. k is taken mod n, so BIP32
    callers refuse IL ≥ n (and an infinite result) themselves."""
    return to_affine(jacobian_add_affine(point_mul_g_jacobian(k), Q))


# --- u1·G + u2·Q for public u1, u2, Q (verification) ------------------------------------

def double_mul_jacobian(u1: int, u2: int, Q):
    """u1·G + u2·Q in Jacobian coordinates; verifiers compare against it without an inversion.

    Variable time, for public inputs only (signature verification): u1·G by the comb of G, then
    either u2·Q by the comb of Q's own table chained into the same accumulator (a key that has
    verified more than KEY_TABLE_AFTER signatures: 19 + 44 additions and no doubling), or by
    GLV + wNAF and one final addition."""
    u1, u2 = u1 % N, u2 % N
    g_table, w = _g_table()
    key_table = _key_table(Q) if Q is not None else None
    try:
        acc = comb_add(g_table, w, comb_windows(u1, w)) if u1 else ZERO
        if key_table is not None:
            if u2:
                acc = comb_add(key_table, KEY_WINDOW, comb_windows(u2, KEY_WINDOW), acc)
            return _chudnovsky_to_jacobian(acc)
    except EqualX:  # a partial sum met the next term: the definition answers
        return to_jacobian(point_add(plain_point_mul(u1, G), plain_point_mul(u2, Q)))
    return jacobian_add(_chudnovsky_to_jacobian(acc), _mul_glv_jacobian(u2, Q))


def double_mul(u1: int, u2: int, Q):
    """u1·G + u2·Q as an affine point (None for infinity); variable time, public inputs only."""
    return to_affine(double_mul_jacobian(u1, u2, Q))


def mul_g_and_mul(u1: int, u2: int, Q) -> tuple:
    """u1·G and u2·Q apart, for a verifier that combines them itself
    (`kms_ref.crypto.ecdsa_compressed_key`): u1·G as Chudnovsky (X, Y, Z², Z³) by the comb of G,
    u2·Q in Jacobian coordinates by GLV + wNAF. Q may also lie on a curve y² = x³ + 7·c⁶ isomorphic
    to secp256k1 by (x, y) ↦ (c²x, c³y): no formula uses b, and λ acts there as β·x still.
    Variable time, public inputs only; raises EqualX in the rare case of
    `comb_add`, where the caller falls back on the plain multiplication."""
    u1, u2 = u1 % N, u2 % N
    g_table, w = _g_table()
    return (comb_add(g_table, w, comb_windows(u1, w)) if u1 else ZERO,
            _mul_glv_jacobian(u2, Q))


# --- tables for public keys that verify many signatures -----------------------------------

KEY_WINDOW = 6  # 2 × 22 rows of 64 points: about 5 ms to build
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
    keeps no secret. All of it runs under one lock: a table is in `_key_tables` only once it is
    complete."""
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
