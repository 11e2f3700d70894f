"""RIPEMD-160 (Dobbertin, Bosselaers, Preneel, 1996).

Defined in "RIPEMD-160: A Strengthened Version of RIPEMD", Fast Software Encryption 1996.

Bitcoin uses it in HASH160 = RIPEMD-160(SHA-256(x)) for P2PKH/P2WPKH public key hashes and P2SH
script hashes (see `kms_ref.crypto.hashes.hash160`). Written out here, and always used instead of
`hashlib.new("ripemd160")`, because OpenSSL 3 ships RIPEMD-160 only in its legacy provider, so
many Python builds lack it.

Names follow the paper's pseudo-code (also at
https://homes.esat.kuleuven.be/~bosselae/ripemd/rmd160.txt): the functions f(j, x, y, z), the
added constants K(j) and K'(j), the message word selections r(j) and r'(j), the rotation
amounts s(j) and s'(j). A prime is written `_prime` (K_prime for K'), and the right line's
registers A'..E' are A_..E_.

Two compression functions side by side: `compress_plain` is the pseudo-code, step j = 0..79,
line for line; `compress` is the same computation round by round (see its docstring), and is
what `ripemd160` uses. tests/test_ripemd160.py checks the paper's test values and that both
agree on random inputs.
"""

from __future__ import annotations

import struct

MASK32 = 0xFFFFFFFF

# The pseudo-code's "initial value (hexadecimal)" h0..h4.
H0 = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)

# Added constants, one per round of 16 steps: K(j) for the left line, K'(j) for the right.
# K(j) = int(2^30 * sqrt(2, 3, 5, 7)), K'(j) = int(2^30 * cbrt(2, 3, 5, 7)).
K = (0x00000000, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E)
K_prime = (0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0x00000000)

# Selection of message word: X[r(j)] in step j of the left line, X[r'(j)] of the right line.
r = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
    3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12,
    1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
    4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13,
)
r_prime = (
    5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12,
    6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
    15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13,
    8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
    12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11,
)

# Amount for rotate left (rol): s(j) for the left line, s'(j) for the right.
s = (
    11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8,
    7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
    11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5,
    11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
    9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6,
)
s_prime = (
    8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6,
    9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
    9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5,
    15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
    8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11,
)


def f(j: int, x: int, y: int, z: int) -> int:
    """The nonlinear function of step j: XOR, MUX, -, MUX, - (one per round of 16 steps).

    NOT is written `~v & MASK32` because Python integers have no fixed width."""
    if j <= 15:
        return x ^ y ^ z
    if j <= 31:
        return (x & y) | (~x & MASK32 & z)
    if j <= 47:
        return (x | (~y & MASK32)) ^ z
    if j <= 63:
        return (x & z) | (y & ~z & MASK32)
    return x ^ (y | (~z & MASK32))


def rol(x: int, n: int) -> int:
    """Rotate the 32-bit word x left by n bits."""
    return ((x << n) | (x >> (32 - n))) & MASK32


def compress_plain(h: tuple, X: tuple) -> tuple:
    """One application of the compression function, exactly as the paper's pseudo-code.

    h is the chaining value (h0..h4), X the 16 little-endian words of one 64-byte block.
    The left line (A..E) and the right line (A'..E') run in parallel over 80 steps, the right
    line using f(79 - j, ...); their results are combined into the new chaining value."""
    A, B, C, D, E = h
    A_, B_, C_, D_, E_ = h  # A', B', C', D', E'
    for j in range(80):
        T = (rol((A + f(j, B, C, D) + X[r[j]] + K[j // 16]) & MASK32, s[j]) + E) & MASK32
        A, E, D, C, B = E, D, rol(C, 10), B, T
        T = (rol((A_ + f(79 - j, B_, C_, D_) + X[r_prime[j]] + K_prime[j // 16]) & MASK32,
                 s_prime[j]) + E_) & MASK32
        A_, E_, D_, C_, B_ = E_, D_, rol(C_, 10), B_, T
    h0, h1, h2, h3, h4 = h
    return ((h1 + C + D_) & MASK32, (h2 + D + E_) & MASK32, (h3 + E + A_) & MASK32,
            (h4 + A + B_) & MASK32, (h0 + B + C_) & MASK32)


# (r(j), s(j), 32 - s(j)) for the 16 steps of each round, left line then right line.
_LEFT = [tuple(zip(r[16 * i:16 * i + 16], s[16 * i:16 * i + 16],
                   [32 - n for n in s[16 * i:16 * i + 16]])) for i in range(5)]
_RIGHT = [tuple(zip(r_prime[16 * i:16 * i + 16], s_prime[16 * i:16 * i + 16],
                    [32 - n for n in s_prime[16 * i:16 * i + 16]])) for i in range(5)]


def compress(h: tuple, X: tuple) -> tuple:
    """The compression function again, one loop per round instead of one per step.

    The trick: within a round f and K are fixed, so each loop writes its f inline and its K as
    a literal, and walks a precomputed (r(j), s(j), 32 - s(j)) table; rol is inlined; the left
    line runs all 80 steps before the right line (the two lines only meet at the end). This
    removes the per-step calls to f() and rol() and the j // 16 lookups. Round i of the right
    line uses f of round 4 - i, as f(79 - j, ...) does in the pseudo-code.
    Measured (CPython 3.11): a 33-byte input (one block) hashes in 85-90 µs against 115-125 µs
    with `compress_plain`, about 1.4x; 1 MiB at 0.7 MB/s against 0.45 MB/s.
    Agrees with `compress_plain`: tests/test_ripemd160.py."""
    M = MASK32
    h0, h1, h2, h3, h4 = h
    L1, L2, L3, L4, L5 = _LEFT
    R1, R2, R3, R4, R5 = _RIGHT

    # Left line. Each step: T := rol_s(A + f + X + K) + E; A := E; B := T; C := B;
    # D := rol_10(C); E := D.
    a, b, c, d, e = h
    for i, n, m in L1:  # f = x XOR y XOR z, K = 0
        t = (a + (b ^ c ^ d) + X[i]) & M
        a, b, c, d, e = e, (((t << n) | (t >> m)) + e) & M, b, ((c << 10) | (c >> 22)) & M, d
    for i, n, m in L2:  # f = (x AND y) OR (NOT x AND z)
        t = (a + ((b & c) | (~b & d)) + X[i] + 0x5A827999) & M
        a, b, c, d, e = e, (((t << n) | (t >> m)) + e) & M, b, ((c << 10) | (c >> 22)) & M, d
    for i, n, m in L3:  # f = (x OR NOT y) XOR z
        t = (a + ((b | (~c & M)) ^ d) + X[i] + 0x6ED9EBA1) & M
        a, b, c, d, e = e, (((t << n) | (t >> m)) + e) & M, b, ((c << 10) | (c >> 22)) & M, d
    for i, n, m in L4:  # f = (x AND z) OR (y AND NOT z)
        t = (a + ((b & d) | (c & ~d)) + X[i] + 0x8F1BBCDC) & M
        a, b, c, d, e = e, (((t << n) | (t >> m)) + e) & M, b, ((c << 10) | (c >> 22)) & M, d
    for i, n, m in L5:  # f = x XOR (y OR NOT z)
        t = (a + (b ^ (c | (~d & M))) + X[i] + 0xA953FD4E) & M
        a, b, c, d, e = e, (((t << n) | (t >> m)) + e) & M, b, ((c << 10) | (c >> 22)) & M, d
    A, B, C, D, E = a, b, c, d, e

    # Right line: the same step, K', r', s', and the rounds' f in reverse order.
    a, b, c, d, e = h
    for i, n, m in R1:  # f = x XOR (y OR NOT z)
        t = (a + (b ^ (c | (~d & M))) + X[i] + 0x50A28BE6) & M
        a, b, c, d, e = e, (((t << n) | (t >> m)) + e) & M, b, ((c << 10) | (c >> 22)) & M, d
    for i, n, m in R2:  # f = (x AND z) OR (y AND NOT z)
        t = (a + ((b & d) | (c & ~d)) + X[i] + 0x5C4DD124) & M
        a, b, c, d, e = e, (((t << n) | (t >> m)) + e) & M, b, ((c << 10) | (c >> 22)) & M, d
    for i, n, m in R3:  # f = (x OR NOT y) XOR z
        t = (a + ((b | (~c & M)) ^ d) + X[i] + 0x6D703EF3) & M
        a, b, c, d, e = e, (((t << n) | (t >> m)) + e) & M, b, ((c << 10) | (c >> 22)) & M, d
    for i, n, m in R4:  # f = (x AND y) OR (NOT x AND z)
        t = (a + ((b & c) | (~b & d)) + X[i] + 0x7A6D76E9) & M
        a, b, c, d, e = e, (((t << n) | (t >> m)) + e) & M, b, ((c << 10) | (c >> 22)) & M, d
    for i, n, m in R5:  # f = x XOR y XOR z, K' = 0
        t = (a + (b ^ c ^ d) + X[i]) & M
        a, b, c, d, e = e, (((t << n) | (t >> m)) + e) & M, b, ((c << 10) | (c >> 22)) & M, d

    return ((h1 + C + d) & M, (h2 + D + e) & M, (h3 + E + a) & M,
            (h4 + A + b) & M, (h0 + B + c) & M)


def pad(message: bytes) -> bytes:
    """Padding "identical to that of MD4": a 1 bit (byte 0x80), zeros up to 56 mod 64 bytes,
    then the message length in bits as a 64-bit little-endian integer."""
    length = len(message)
    return (message + b"\x80" + b"\x00" * ((55 - length) % 64)
            + struct.pack("<Q", (8 * length) & 0xFFFFFFFFFFFFFFFF))


def _hash(data: bytes, compression) -> bytes:
    padded = pad(bytes(data))
    h = H0
    for offset in range(0, len(padded), 64):
        X = struct.unpack("<16I", padded[offset:offset + 64])
        h = compression(h, X)
    return struct.pack("<5I", *h)


def ripemd160(data: bytes) -> bytes:
    """The 20-byte RIPEMD-160 digest of data (the fast `compress`)."""
    return _hash(data, compress)


def ripemd160_plain(data: bytes) -> bytes:
    """The same digest with `compress_plain`; the yardstick in tests."""
    return _hash(data, compress_plain)
