"""secp256k1, the elliptic curve of Bitcoin (SEC 2 v2 §2.4.1), written out plainly.

The curve is y² = x³ + 7 over the prime field F_p. This module is the definition: constants,
field helpers, the group law in Jacobian coordinates, the textbook double-and-add `point_mul`,
SEC 1 §2.3.3/§2.3.4 point encoding (`ser_p`) and strict parsing (`parse_pubkey`), and the
private-key check `scalar_from_bytes`. It imports nothing of kms_ref: the fast multiplications
(precomputed table for G, GLV, wNAF) build on it in `kms_ref.crypto.ecmult`, and the key
helper `pubkey_from_seckey` in `kms_ref.crypto.keys`; tests check them against `point_mul` here.

Points are affine tuples (x, y) of ints; the point at infinity is None. A Jacobian point
(X, Y, Z) stands for (X/Z², Y/Z³), which lets additions skip the field inversion; Z = 0 is
infinity. Python integers are not constant-time, and `point_mul` here takes a time that follows
its scalar: it is the yardstick (and the fallback of a case with odds about 2^-120). Secret
multiplications go through the fixed schedule of `kms_ref.crypto.ecmult` (SECURITY.md, "Timing
side channels").
"""

from __future__ import annotations

import threading
from collections import OrderedDict

# SEC 2 v2 §2.4.1, "Recommended Parameters secp256k1".
P = 2**256 - 2**32 - 977  # p = FFFFFFFF...FFFFFFFE FFFFFC2F, the field size
A = 0
B = 7
G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # order of G
H = 1  # cofactor: every point except infinity generates the whole group

INFINITY_J = (1, 1, 0)  # any (X, Y, 0) is infinity in Jacobian coordinates


# --- The field F_p ---------------------------------------------------------------------------

FOLD_MASK = 2**256 - 1
FOLD_C = 2**32 + 977  # 2^256 ≡ 2^32 + 977 (mod p), since p = 2^256 − (2^32 + 977)


def fold(x: int) -> int:
    """A number ≡ x (mod p), much smaller than x: x = hi·2^256 + lo ≡ lo + hi·(2^32 + 977).

    p's special form makes this partial reduction a mask, a shift and one multiplication by a
    33-bit number — about half the time of `x % p` here (0.15 µs against 0.28 µs for a 512-bit
    x). The result is not below p: for a product of two numbers below 2^256 it is below 2^290,
    and every later product and `% p` on it costs a little more, which eats most of the gain.
    Measured in whole formulas: the doublings and additions of kms_ref.crypto.wnaf, which inline
    it for X·Y², X², Y² and two products of the addition, run 2.5% faster with it; the comb's
    addition did not gain and keeps `% p`. Tests check fold(x) ≡ x on random x of every sign."""
    return (x & FOLD_MASK) + (x >> 256) * FOLD_C


def field_inv(a: int) -> int:
    """a⁻¹ mod p for a ≠ 0 mod p: Python's pow(a, -1, p) runs the extended Euclidean algorithm
    in C (about 25 µs here), eight times faster than Fermat's a^(p−2)."""
    return pow(a, -1, P)


def field_sqrt(a: int) -> int | None:
    """A square root of a mod p, or None when a is not a square.

    p ≡ 3 (mod 4), so a root is simply a^((p+1)/4). Why: a non-zero square a satisfies Euler's
    criterion a^((p−1)/2) = 1, hence a = a · a^((p−1)/2) = a^((p+1)/2); (p+1)/2 is even, so
    x = a^((p+1)/4) squares to a. When a is not a square, x² = −a ≠ a, which the final check
    catches (the same argument as Bitcoin Core's test_framework `FE.sqrt`). The power is
    `pow(a, (P + 1) // 4, P)`, taken by the addition chain of `_pow_p_plus_1_over_4`.
    """
    x = _pow_p_plus_1_over_4(a)
    return x if x * x % P == a % P else None


def _pow_p_plus_1_over_4(a: int) -> int:
    """a^((p+1)/4) mod p by libsecp256k1's addition chain (field_impl.h, `secp256k1_fe_sqrt`).

    (p+1)/4 = 2^254 − 2^30 − 244 is, in binary, 223 ones, a zero, 22 ones, four zeros, two ones
    and two zeros. With x_k = a^(2^k − 1) (k ones), x_(j+k) = x_j^(2^k) · x_k, so the blocks of
    ones cost 11 multiplications (k = 2, 3, 6, 9, 11, 22, 44, 88, 176, 220, 223) and the
    assembly 2 more: 253 squarings and 13 multiplications in all, where pow(a, (p+1)/4, p) makes
    about 254 squarings and 60 multiplications (CPython's 5-bit sliding window and its table).
    Each run of squarings is one pow(x, 2^k, p) in C; none is longer than 44, so CPython takes
    its plain binary method for it (above 60 bits it would build the window table again).
    Measured −16% in interleaved runs (0.19 → 0.16 ms here): 0.03 ms off every compressed key
    parsed and every BIP340 lift_x. Tests check it against pow(a, (p+1)/4, p) on random a."""
    p = P
    x2 = pow(a, 2, p) * a % p
    x3 = pow(x2, 2, p) * a % p
    x6 = pow(x3, 1 << 3, p) * x3 % p
    x9 = pow(x6, 1 << 3, p) * x3 % p
    x11 = pow(x9, 1 << 2, p) * x2 % p
    x22 = pow(x11, 1 << 11, p) * x11 % p
    x44 = pow(x22, 1 << 22, p) * x22 % p
    x88 = pow(x44, 1 << 44, p) * x44 % p
    x176 = pow(pow(x88, 1 << 44, p), 1 << 44, p) * x88 % p
    x220 = pow(x176, 1 << 44, p) * x44 % p
    x223 = pow(x220, 1 << 3, p) * x3 % p
    t = pow(x223, 1 << 23, p) * x22 % p  # 223 ones, 1 zero, 22 ones
    t = pow(t, 1 << 6, p) * x2 % p  # then 4 zeros and 2 ones
    return pow(t, 1 << 2, p)  # and 2 zeros


def jacobi(a: int) -> int:
    """The Jacobi symbol (a/p): 1 if a is a non-zero square mod p, −1 if not, 0 if a ≡ 0.

    Computed by the reciprocity algorithm (Cohen, "A Course in Computational Algebraic Number
    Theory", Algorithm 1.4.10) instead of Euler's criterion a^((p−1)/2): same answer, about five
    times faster here (33 µs against 173 µs), and BCH Schnorr needs it for every signature.
    """
    n = P
    a %= n
    result = 1
    while a:
        twos = (a & -a).bit_length() - 1  # a = 2^twos · odd
        a >>= twos
        if twos & 1 and n & 7 in (3, 5):  # (2/n) = −1 exactly when n ≡ ±3 (mod 8)
            result = -result
        if a & n & 3 == 3:  # quadratic reciprocity: swap sign when both are ≡ 3 (mod 4)
            result = -result
        a, n = n % a, a
    return result if n == 1 else 0


# --- Points and the group law ----------------------------------------------------------------

def is_on_curve(point) -> bool:
    """True when point is infinity (None) or a pair 0 ≤ x, y < p with y² = x³ + 7."""
    if point is None:
        return True
    x, y = point
    return 0 <= x < P and 0 <= y < P and (y * y - x * x * x - B) % P == 0


def point_neg(point):
    """−(x, y) = (x, −y); −infinity = infinity."""
    if point is None:
        return None
    return (point[0], -point[1] % P)


def to_jacobian(point):
    """(x, y) ↦ (x, y, 1); infinity ↦ Z = 0."""
    if point is None:
        return INFINITY_J
    return (point[0], point[1], 1)


def to_affine(pj):
    """(X, Y, Z) ↦ (X/Z², Y/Z³), one field inversion; Z = 0 ↦ None."""
    X, Y, Z = pj
    if Z % P == 0:
        return None
    zi = field_inv(Z)
    zi2 = zi * zi % P
    return (X * zi2 % P, Y * zi2 * zi % P)


def jacobian_double(pj):
    """2·(X, Y, Z) for y² = x³ + 7 (a = 0): with S = 4XY² and M = 3X²,
    X' = M² − 2S, Y' = M(S − X') − 8Y⁴, Z' = 2YZ. The curve has no point with y = 0 (its order
    N is odd), so only infinity maps to infinity."""
    X, Y, Z = pj
    if Z % P == 0:
        return INFINITY_J
    YY = Y * Y % P
    S = 4 * X * YY % P
    M = 3 * X * X % P
    X3 = (M * M - 2 * S) % P
    Y3 = (M * (S - X3) - 8 * YY * YY) % P
    Z3 = 2 * Y * Z % P
    return (X3, Y3, Z3)


def jacobian_add(pj, qj):
    """(X1, Y1, Z1) + (X2, Y2, Z2): bring both to the same scale with U = X·Z_other²,
    S = Y·Z_other³; H = U2 − U1 and R = S2 − S1 are then the scaled Δx and Δy of the chord.
    H = 0 means equal x: the same point (R = 0, so double) or opposite points (infinity)."""
    X1, Y1, Z1 = pj
    X2, Y2, Z2 = qj
    if Z1 % P == 0:
        return qj
    if Z2 % P == 0:
        return pj
    Z1Z1 = Z1 * Z1 % P
    Z2Z2 = Z2 * Z2 % P
    U1 = X1 * Z2Z2 % P
    U2 = X2 * Z1Z1 % P
    S1 = Y1 * Z2 * Z2Z2 % P
    S2 = Y2 * Z1 * Z1Z1 % P
    H = (U2 - U1) % P
    R = (S2 - S1) % P
    if H == 0:
        return jacobian_double(pj) if R == 0 else INFINITY_J
    HH = H * H % P
    HHH = H * HH % P
    V = U1 * HH % P
    X3 = (R * R - HHH - 2 * V) % P
    Y3 = (R * (V - X3) - S1 * HHH) % P
    Z3 = Z1 * Z2 * H % P
    return (X3, Y3, Z3)


def jacobian_add_affine(pj, q):
    """Mixed addition (X1, Y1, Z1) + (x2, y2): `jacobian_add` with Z2 = 1, which saves the
    scaling of the second point (8 multiplications and 3 squarings instead of 12 and 4)."""
    if q is None:
        return pj
    X1, Y1, Z1 = pj
    x2, y2 = q
    if Z1 % P == 0:
        return (x2, y2, 1)
    Z1Z1 = Z1 * Z1 % P
    H = (x2 * Z1Z1 - X1) % P
    R = (y2 * Z1 * Z1Z1 - Y1) % P
    if H == 0:
        return jacobian_double(pj) if R == 0 else INFINITY_J
    HH = H * H % P
    HHH = H * HH % P
    V = X1 * HH % P
    X3 = (R * R - HHH - 2 * V) % P
    Y3 = (R * (V - X3) - Y1 * HHH) % P
    Z3 = Z1 * H % P
    return (X3, Y3, Z3)


def point_add(p1, p2):
    """p1 + p2 for affine points (either may be None)."""
    return to_affine(jacobian_add_affine(to_jacobian(p1), p2))


def point_mul(k: int, point, step=None):
    """k·point by double-and-add, most significant bit first. The definition; the tests use it
    as the yardstick for every fast multiplication in `kms_ref.crypto.ecmult`. `step`, if given,
    hears each operation as it happens — step("double", bit) and step("add", bit) — for
    `kms-ref sign --textbook` (kms_ref.crypto.textbook)."""
    k %= N
    acc = INFINITY_J
    for bit in range(k.bit_length() - 1, -1, -1):
        acc = jacobian_double(acc)
        if step:
            step("double", bit)
        if (k >> bit) & 1:
            acc = jacobian_add_affine(acc, point)
            if step:
                step("add", bit)
    return to_affine(acc)


# --- SEC 1 encoding ---------------------------------------------------------------------------

def ser_p(point, compressed: bool = True) -> bytes:
    """SEC 1 §2.3.3: 02/03 ‖ x (y even/odd) when compressed, else 04 ‖ x ‖ y (BIP32 `ser_P`)."""
    if point is None:
        raise ValueError("cannot serialize the point at infinity")
    x, y = point
    if compressed:
        return bytes([2 + (y & 1)]) + x.to_bytes(32, "big")
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def lift_x(x: int):
    """The point with this x and an even y, or None when x ≥ p or x³ + 7 is not a square
    (named as in BIP340)."""
    if not 0 <= x < P:
        return None
    y = field_sqrt((x * x * x + B) % P)
    if y is None:
        return None
    return (x, y if y & 1 == 0 else P - y)


def parse_pubkey(data: bytes):
    """SEC 1 §2.3.4, strictly: 33 bytes 02/03 ‖ x or 65 bytes 04 ‖ x ‖ y, with x, y < p and the
    point on the curve. Hybrid keys (06/07), the 1-byte infinity encoding and anything else
    raise ValueError. Recent answers are remembered (`known_pubkey`): decompressing costs a
    0.1–0.15 ms square root, and a transaction's inputs mostly repeat a few keys."""
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError("public key must be bytes")
    data = bytes(data)
    point = known_pubkey(data)
    if point is None:
        point = _parse_pubkey(data)
        _remember(data, point)
    return point


def _parse_pubkey(data: bytes):
    if len(data) == 33 and data[0] in (2, 3):
        x = int.from_bytes(data[1:], "big")
        if x >= P:
            raise ValueError("public key x coordinate is not below the field size")
        point = lift_x(x)
        if point is None:
            raise ValueError("public key x coordinate is not on the curve")
        return point if data[0] == 2 else point_neg(point)
    if len(data) == 65 and data[0] == 4:
        point = (int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:], "big"))
        if not is_on_curve(point):
            raise ValueError("public key is not a point on secp256k1")
        return point
    if len(data) in (33, 65):
        raise ValueError("public key has an invalid prefix byte 0x%02x" % data[0])
    raise ValueError("public key must be 33 or 65 bytes, got %d" % len(data))


# Recently parsed keys, SEC 1 bytes → point, least recently used first. Guarded by a lock: the
# sandbox and the daemon verify from several threads.
_PUBKEYS: "OrderedDict[bytes, tuple]" = OrderedDict()
_PUBKEYS_MAX = 1024
_PUBKEYS_LOCK = threading.Lock()


def known_pubkey(data: bytes):
    """The point that the SEC 1 bytes `data` encode if they were parsed (or learnt, see
    `learn_pubkey`) recently, else None. Computes nothing: a verifier asks this first and, for a
    compressed key not seen before, can avoid the square root altogether
    (`kms_ref.crypto.ecdsa_compressed_key`)."""
    with _PUBKEYS_LOCK:
        point = _PUBKEYS.get(data)
        if point is not None:
            _PUBKEYS.move_to_end(data)
        return point


def learn_pubkey(data: bytes, point) -> None:
    """Remember that `data` encodes `point`, found without parsing: a verifier that has proved
    y of a compressed key (`kms_ref.crypto.ecdsa_compressed_key`). Checked all the same — the
    encoding must be exactly `ser_p(point)` and the point on the curve — so that no mistake
    elsewhere can put a wrong point here. Raises ValueError otherwise."""
    data = bytes(data)
    if point is None or not is_on_curve(point) or ser_p(point, len(data) == 33) != data:
        raise ValueError("not the point of this public key encoding")
    _remember(data, point)


def forget_pubkeys() -> None:
    """Empty the memory of parsed keys (the benchmark, to time a key seen for the first time)."""
    with _PUBKEYS_LOCK:
        _PUBKEYS.clear()


def _remember(data: bytes, point) -> None:
    with _PUBKEYS_LOCK:
        _PUBKEYS[data] = point
        _PUBKEYS.move_to_end(data)
        if len(_PUBKEYS) > _PUBKEYS_MAX:
            _PUBKEYS.popitem(last=False)


# --- Keys ---------------------------------------------------------------------------------------

def scalar_from_bytes(seckey: bytes) -> int:
    """A private key as an integer: exactly 32 bytes, big-endian, 1 ≤ d < n (SEC 1 §3.2.1).
    The error message never repeats the key."""
    if not isinstance(seckey, (bytes, bytearray)) or len(seckey) != 32:
        raise ValueError("private key must be 32 bytes")
    d = int.from_bytes(seckey, "big")
    if not 1 <= d < N:
        raise ValueError("private key is out of range (must be 1 <= key < n)")
    return d
