"""secp256k1 field, group law, encodings and keys; the fast multiplications of ecmult against the
plain double-and-add on random inputs."""

import pathlib
import random
import subprocess
import sys

import pytest

from kms_ref.crypto import ecmult, endomorphism, wnaf
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.crypto.secp256k1 import (
    G, INFINITY_J, N, P, field_inv, field_sqrt, is_on_curve, jacobi, jacobian_add,
    jacobian_double, lift_x, parse_pubkey, point_add, point_mul, point_neg,
    scalar_from_bytes, ser_p, to_affine, to_jacobian,
)

SEED = 20240517

G_COMPRESSED = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
G_UNCOMPRESSED = ("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
                  "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")


def test_curve_constants_sec2():
    # SEC 2 v2 §2.4.1, written as the document prints them.
    assert P == int("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFE FFFFFC2F"
                    .replace(" ", ""), 16)
    assert N == int("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFE BAAEDCE6 AF48A03B BFD25E8C D0364141"
                    .replace(" ", ""), 16)
    assert ser_p(G, compressed=False).hex() == G_UNCOMPRESSED
    assert is_on_curve(G)
    assert P % 4 == 3  # what field_sqrt relies on
    assert point_mul(N, G) is None
    assert point_mul(N - 1, G) == point_neg(G)
    assert point_mul(N + 1, G) == G


def test_fold_is_congruent_and_smaller():
    from kms_ref.crypto.secp256k1 import fold

    rng = random.Random(SEED + 9)
    for bits in (1, 255, 256, 257, 300, 512, 513, 580, 800):
        for _ in range(200):
            x = rng.getrandbits(bits) * rng.choice((1, -1))
            assert (fold(x) - x) % P == 0, "seed %d, x=%x" % (SEED + 9, x)
            if bits <= 512 and x >= 0:
                assert fold(x) < 2**290


def test_field_helpers_random():
    rng = random.Random(SEED)
    assert jacobi(0) == 0 and field_sqrt(0) == 0
    for _ in range(300):
        a = rng.randrange(1, P)
        assert a * field_inv(a) % P == 1, "seed %d" % SEED
        root, symbol = field_sqrt(a), jacobi(a)
        if root is None:
            assert symbol == -1, "seed %d, a=%x" % (SEED, a)
            assert pow(a, (P - 1) // 2, P) == P - 1  # Euler's criterion agrees
        else:
            assert root * root % P == a and symbol == 1, "seed %d, a=%x" % (SEED, a)
        assert jacobi(a * a % P) == 1


def test_square_root_chain_is_the_plain_power():
    from kms_ref.crypto.secp256k1 import _pow_p_plus_1_over_4

    rng = random.Random(SEED + 10)
    edges = [0, 1, 2, 3, 4, 7, P - 1, P - 2, P, P + 1, 2**255, 2**256 - 1]
    for a in edges + [rng.randrange(P) for _ in range(1000)]:
        assert _pow_p_plus_1_over_4(a) == pow(a, (P + 1) // 4, P), "seed %d, a=%x" % (SEED + 10, a)


def test_point_mul_g_matches_plain_1000_random():
    rng = random.Random(SEED)
    for _ in range(1000):
        k = rng.randrange(1, N)
        assert ecmult.point_mul_g(k) == point_mul(k, G), "seed %d, k=%x" % (SEED, k)


def test_point_mul_matches_plain_1000_random():
    rng = random.Random(SEED + 1)
    points = [ecmult.point_mul_g(rng.randrange(1, N)) for _ in range(50)]
    for i in range(1000):
        k, Q = rng.randrange(1, N), points[i % 50]
        assert ecmult.point_mul(k, Q) == point_mul(k, Q), "seed %d, case %d" % (SEED + 1, i)


def test_double_mul_matches_plain_random():
    rng = random.Random(SEED + 2)
    for i in range(200):
        u1, u2, q = rng.randrange(N), rng.randrange(N), rng.randrange(1, N)
        Q = ecmult.point_mul_g(q)
        expected = point_add(point_mul(u1, G), point_mul(u2, Q))
        assert ecmult.double_mul(u1, u2, Q) == expected, "seed %d, case %d" % (SEED + 2, i)
        assert to_affine(ecmult.double_mul_jacobian(u1, u2, Q)) == expected


SPECIAL_SCALARS = {
    "0": 0, "1": 1, "2": 2, "3": 3, "n-1": N - 1, "n-2": N - 2, "n": N, "n+1": N + 1,
    "2^255": 2**255, "2^256-1": 2**256 - 1, "lambda": endomorphism.LAMBDA, "n-lambda": N - endomorphism.LAMBDA,
    "digit-511-everywhere": sum(511 << (10 * i) for i in range(25)),
    "digit-512-everywhere": sum(512 << (10 * i) for i in range(25)),
    "all-carries": sum(1023 << (10 * i) for i in range(25)),
    "2^128": 2**128, "2^128-1": 2**128 - 1, "top-window-only": 63 << 250,
    # short nonces (what a timing attack looks for) and the edges of the GLV split's halves
    "2^250-1": 2**250 - 1, "2^249+1": 2**249 + 1, "2^240": 2**240, "2^130-1": 2**130 - 1,
    "2^130": 2**130, "lambda+1": endomorphism.LAMBDA + 1, "1+lambda": (1 + endomorphism.LAMBDA) % N,
    "-lambda^2": (-endomorphism.LAMBDA * endomorphism.LAMBDA) % N,
}


@pytest.mark.parametrize("k", SPECIAL_SCALARS.values(), ids=SPECIAL_SCALARS.keys())
def test_special_scalars(k):
    expected = point_mul(k, G)
    assert ecmult.point_mul_g(k) == expected
    assert ecmult.point_mul_g_x(k) == (None if expected is None else expected[0])
    assert to_affine(ecmult.point_mul_g_jacobian(k)) == expected
    assert ecmult.point_mul(k, G) == expected
    Q = ecmult.point_mul_g(0xC0FFEE)
    assert ecmult.point_mul(k, Q) == point_mul(k, Q)


def test_double_mul_edge_cases():
    rng = random.Random(SEED + 3)
    u = rng.randrange(1, N)
    assert ecmult.double_mul(u, N - u, G) is None  # u·G − u·G: infinity
    assert ecmult.double_mul(u, u, G) == point_mul(2 * u, G)  # the two halves meet: doubling
    assert ecmult.double_mul(u, u, point_neg(G)) is None
    assert ecmult.double_mul(0, 0, G) is None
    assert ecmult.double_mul(0, u, G) == point_mul(u, G)
    assert ecmult.double_mul(u, 0, G) == point_mul(u, G)
    assert ecmult.point_mul(u, None) is None
    lam_g = (endomorphism.BETA * G[0] % P, G[1])  # λ·G: the GLV halves of one scalar hit the same point
    assert ecmult.double_mul(u, (N - u) * pow(endomorphism.LAMBDA, -1, N) % N, lam_g) is None


def test_glv_endomorphism_and_split():
    assert pow(endomorphism.LAMBDA, 3, N) == 1 and pow(endomorphism.BETA, 3, P) == 1
    assert point_mul(endomorphism.LAMBDA, G) == (endomorphism.BETA * G[0] % P, G[1])
    rng = random.Random(SEED + 4)
    for k in [0, 1, N - 1] + [rng.randrange(N) for _ in range(2000)]:
        k1, k2 = endomorphism.glv_split(k)
        assert (k1 + k2 * endomorphism.LAMBDA - k) % N == 0, "seed %d, k=%x" % (SEED + 4, k)
        assert abs(k1) < 2**129 and abs(k2) < 2**129


def test_odd_multiples_table_holds_every_signed_odd_multiple():
    """`wnaf._odd_multiples`: t[d] is d·Q for every odd d, −15 ≤ d ≤ 15, on the curve scaled by
    zfix — (x·zfix², y·zfix³) for d·Q = (x, y) — whatever Q is, G, −G and λ·G included."""
    rng = random.Random(SEED + 11)
    lam_g = (endomorphism.BETA * G[0] % P, G[1])
    for Q in [G, point_neg(G), lam_g] + [ecmult.point_mul_g(rng.randrange(1, N)) for _ in range(20)]:
        table, zfix = wnaf._odd_multiples(Q)
        assert len(table) == 2 ** wnaf.Q_WINDOW and zfix % P
        for d in range(-15, 16, 2):
            x, y = point_mul(d % N, Q)
            assert table[d] == (x * zfix**2 % P, y * zfix**3 % P), "seed %d, d=%d" % (SEED + 11, d)


def test_wnaf_reconstructs_and_is_sparse():
    rng = random.Random(SEED + 5)
    for w in (4, 5, 6):
        for _ in range(300):
            k = rng.randrange(2**130)
            digits = wnaf.wnaf(k, w)
            assert sum(d << pos for pos, d in digits) == k, "seed %d" % (SEED + 5)
            assert all(d & 1 and abs(d) < 1 << (w - 1) for _, d in digits)
            positions = [pos for pos, _ in digits]
            assert all(b - a >= w for a, b in zip(positions, positions[1:]))


def test_point_mul_g_add_and_batch_affine():
    rng = random.Random(SEED + 6)
    points_j, expected = [], []
    for i in range(100):
        k, q = rng.randrange(1, N), rng.randrange(1, N)
        Q = ecmult.point_mul_g(q)
        assert ecmult.point_mul_g_add(k, Q) == point_add(point_mul(k, G), Q), "seed %d" % (SEED + 6)
        pj = jacobian_double(jacobian_add(to_jacobian(Q), ecmult.point_mul_g_jacobian(k)))
        points_j.append(pj)
        expected.append(to_affine(pj))
    assert ecmult.point_mul_g_add(1, point_neg(G)) is None
    points_j.insert(7, INFINITY_J)
    expected.insert(7, None)
    assert ecmult.to_affine_batch(points_j) == expected
    assert ecmult.to_affine_batch([]) == []


def test_group_law_edge_cases():
    assert point_add(G, None) == G and point_add(None, G) == G
    assert point_add(G, point_neg(G)) is None
    assert point_add(G, G) == point_mul(2, G)
    assert to_affine(jacobian_double(INFINITY_J)) is None
    assert point_neg(None) is None


def test_ser_p_and_parse_round_trip():
    rng = random.Random(SEED + 7)
    assert ser_p(G).hex() == G_COMPRESSED
    for _ in range(200):
        point = ecmult.point_mul_g(rng.randrange(1, N))
        for compressed in (True, False):
            data = ser_p(point, compressed)
            assert len(data) == (33 if compressed else 65)
            assert parse_pubkey(data) == point, "seed %d" % (SEED + 7)
    with pytest.raises(ValueError):
        ser_p(None)


def _no_root_x():
    x = 0
    while lift_x(x) is not None:
        x += 1
    return x


def _small_x_point():
    x = 0
    while lift_x(x) is None:
        x += 1
    return lift_x(x)


def _bad_pubkeys():
    gx, gy = (v.to_bytes(32, "big") for v in G)
    sx, sy = _small_x_point()  # x + p still fits in 32 bytes
    return {
        "empty": b"",
        "infinity-00": b"\x00",
        "32-bytes": gx,
        "34-bytes": b"\x02" + gx + b"\x00",
        "64-bytes": gx + gy,
        "66-bytes": b"\x04" + gx + gy + b"\x00",
        "prefix-00": b"\x00" + gx,
        "prefix-01": b"\x01" + gx,
        "prefix-05": b"\x05" + gx,
        "prefix-04-short": b"\x04" + gx,
        "prefix-02-long": b"\x02" + gx + gy,
        "hybrid-06": b"\x06" + gx + gy,
        "hybrid-07": b"\x07" + gx + gy,
        "compressed-x-eq-p": b"\x02" + P.to_bytes(32, "big"),
        "compressed-x-max": b"\x03" + b"\xff" * 32,
        "compressed-x-not-on-curve": b"\x02" + _no_root_x().to_bytes(32, "big"),
        "uncompressed-off-curve": b"\x04" + gx + (G[1] + 1).to_bytes(32, "big"),
        "uncompressed-x-plus-p": b"\x04" + (sx + P).to_bytes(32, "big") + sy.to_bytes(32, "big"),
        "uncompressed-y-eq-p": b"\x04" + gx + P.to_bytes(32, "big"),
        "uncompressed-zero": b"\x04" + bytes(64),
    }


BAD_PUBKEYS = _bad_pubkeys()


@pytest.mark.parametrize("data", BAD_PUBKEYS.values(), ids=BAD_PUBKEYS.keys())
def test_parse_pubkey_rejects(data):
    with pytest.raises(ValueError):
        parse_pubkey(data)


def test_parse_pubkey_rejects_non_bytes():
    with pytest.raises(ValueError):
        parse_pubkey(G_COMPRESSED)


def test_pubkey_from_seckey():
    one = (1).to_bytes(32, "big")
    assert pubkey_from_seckey(one).hex() == G_COMPRESSED
    assert pubkey_from_seckey(one, compressed=False).hex() == G_UNCOMPRESSED
    assert pubkey_from_seckey((N - 1).to_bytes(32, "big")).hex() == "03" + G_COMPRESSED[2:]
    rng = random.Random(SEED + 8)
    for _ in range(50):
        d = rng.randrange(1, N)
        assert pubkey_from_seckey(d.to_bytes(32, "big")) == ser_p(point_mul(d, G))


BAD_SECKEYS = {
    "zero": bytes(32), "n": N.to_bytes(32, "big"), "n+1": (N + 1).to_bytes(32, "big"),
    "all-ff": b"\xff" * 32, "31-bytes": b"\x01" * 31, "33-bytes": b"\x01" * 33,
    "hex-string": "01" * 32, "none": None,
}


@pytest.mark.parametrize("seckey", BAD_SECKEYS.values(), ids=BAD_SECKEYS.keys())
def test_bad_seckeys_are_refused_without_echo(seckey):
    with pytest.raises(ValueError) as err:
        pubkey_from_seckey(seckey)
    with pytest.raises(ValueError):
        scalar_from_bytes(seckey)
    if isinstance(seckey, bytes) and seckey:
        assert seckey.hex() not in str(err.value)


def test_the_g_tables_are_built_only_when_they_pay():
    """Importing builds nothing; the first k·G builds the small table (w = 6) and a short process
    (a one-shot command) stays on it; the (G_TABLE_AFTER + 1)-th builds the big one (w = 13);
    every answer agrees with the plain multiplication."""
    code = ("import kms_ref.crypto.ecmult as e, kms_ref.secp256k1\n"
            "from kms_ref.crypto.secp256k1 import G, point_mul\n"
            "assert e._g_tables == {}\n"
            "e.G_TABLE_AFTER = 30\n"
            "for k in range(1, e.G_TABLE_AFTER + 1):\n"
            "    assert e.point_mul_g(k * 7919) == point_mul(k * 7919, G)\n"
            "assert list(e._g_tables) == [6]\n"
            "assert len(e._g_tables[6]) == 44 and all(len(r) == 64 for r in e._g_tables[6])\n"
            "assert e.point_mul_g(12345) == point_mul(12345, G)\n"
            "assert sorted(e._g_tables) == [6, 13]\n"
            "assert len(e._g_tables[13]) == 20 and all(len(r) == 8192 for r in e._g_tables[13])\n")
    root = pathlib.Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_a_medium_g_table_serves_until_the_big_one_is_built():
    """precompute_g(G_MEDIUM_WINDOW) (the daemon, while its wallet unlocks) builds the w = 9
    table and nothing else; k·G, signing and verification then use it instead of the small
    one, until the big one is built as before."""
    code = ("import kms_ref.crypto.ecmult as e\n"
            "from kms_ref.crypto import comb\n"
            "from kms_ref.crypto.ecdsa import ecdsa_sign, ecdsa_verify\n"
            "from kms_ref.crypto.secp256k1 import G, point_mul, ser_p\n"
            "e.precompute_g(e.G_MEDIUM_WINDOW)\n"
            "assert list(e._g_tables) == [9] and len(e._g_tables[9]) == 30\n"
            "assert e._g_table() == (e._g_tables[9], 9)\n"
            "e.G_TABLE_AFTER = 30\n"
            "for k in range(1, 28):\n"   # with the call above and the two below: 30 requests

            "    assert e.point_mul_g(k * 7919) == point_mul(k * 7919, G)\n"
            "key = (5).to_bytes(32, 'big')\n"
            "assert ecdsa_verify(ser_p(point_mul(5, G)), bytes(32), ecdsa_sign(key, bytes(32)))\n"
            "assert list(e._g_tables) == [9]\n"
            "assert e.point_mul_g(12345) == point_mul(12345, G)\n"
            "assert sorted(e._g_tables) == [9, 13] and e._g_table()[1] == 13\n")
    root = pathlib.Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


EQUAL_X_CASES = {
    "same-digit-doubles": (5, 5),
    "opposite-digits-cancel": (5, -5),
    "cancel-then-go-on": (5 * 2**8 + 1, -5 * 2**8),
    "negative-first-cancel": (-7 * 2**10, 7 * 2**10 + 1),
    "double-then-double-on": (3 * 2**20, 3 * 2**20),
}


@pytest.mark.parametrize("k1, k2", EQUAL_X_CASES.values(), ids=EQUAL_X_CASES.keys())
def test_glv_loop_equal_x_fallback(monkeypatch, k1, k2):
    # With β = 1 the "λQ" table is Q's own, so both wNAF streams add the very same points and
    # the accumulator meets them: the loop must fall back to doubling or to infinity.
    monkeypatch.setattr(endomorphism, "BETA", 1)
    monkeypatch.setattr(endomorphism, "glv_split", lambda k: (k1, k2))
    Q = ecmult.point_mul_g(0xBADC0DE)
    assert to_affine(wnaf._mul_glv_jacobian(1, Q)) == point_mul((k1 + k2) % N, Q)


def test_key_tables_agree_with_the_plain_multiplication():
    """A key verified more than KEY_TABLE_AFTER times gets a comb table; u1·G + u2·Q through it
    (and through the fallback when a chained sum meets an equal x) equals the definition."""
    from kms_ref.crypto import ecmult

    rng = random.Random(6)
    ecmult.precompute_g()
    Q = point_mul(rng.randrange(1, N), G)
    for trial in range(ecmult.KEY_TABLE_AFTER + 40):
        u1, u2 = rng.randrange(N), rng.randrange(N)
        expected = point_add(point_mul(u1, G), point_mul(u2, Q))
        assert to_affine(ecmult.double_mul_jacobian(u1, u2, Q)) == expected, (trial, u1, u2)
    assert Q in ecmult._key_tables
    # Q = G and u2 = n − u1: the chained comb sums cancel exactly (EqualX), the answer is infinity
    for _ in range(ecmult.KEY_TABLE_AFTER + 1):
        ecmult.double_mul_jacobian(1, 1, G)
    assert G in ecmult._key_tables
    u1 = rng.randrange(1, N)
    assert to_affine(ecmult.double_mul_jacobian(u1, N - u1, G)) is None
    assert to_affine(ecmult.double_mul_jacobian(u1, u1, G)) == point_mul(2 * u1, G)
