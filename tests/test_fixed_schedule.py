"""Secret multiplications run on a schedule that does not depend on the secret (issue
"Hardening" §1; SECURITY.md, "Timing side channels").

No timings here (they belong to `python -m kms_ref.bench --side-channel`): these are properties.
The strongest one traces, with `sys.settrace`, every bytecode instruction kms_ref executes while
it signs, and checks that a nonce of at most 250 bits — what a Minerva-type attack selects —
runs exactly the same instructions, in the same order, as a full-length one: the same table
additions, the same reductions, no branch taken differently. Beside it: the signed digits and
the GLV split add up to the scalar, every table and the blinded inversions agree with the plain
definitions on random and edge inputs (fast path against plain path, seed printed on failure).
"""

import hashlib
import pathlib
import random
import sys

import pytest

import kms_ref
from kms_ref.crypto import blinding, comb, ecmult, endomorphism
from kms_ref.crypto.ecdsa import HALF_N, ecdsa_sign, ecdsa_verify
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.crypto.rfc6979 import ALGO16_SCHNORR_BCH, rfc6979_nonces
from kms_ref.crypto.schnorr_bch import schnorr_sign, schnorr_verify
from kms_ref.crypto.secp256k1 import G, N, P, jacobi, point_mul
from kms_ref.hd.bip32 import ExtendedKey

SEED = 20261130
PACKAGE = str(pathlib.Path(kms_ref.__file__).resolve().parent)
KEY = hashlib.sha256(b"kms_ref fixed-schedule test key").digest()
D = int.from_bytes(KEY, "big")


# Functions whose steps follow a fresh random number, not the secret: `jacobi` runs on a·c² for a
# random c (blinding.blinded_jacobi), so its trace differs from one call to the next by design.
RANDOMIZED = {"jacobi"}


def instruction_trace(fn, *args) -> list:
    """(function name, instruction offset) of every bytecode instruction of kms_ref executed
    during fn(*args), in order. Standard-library and C code is not traced (hmac, os.urandom);
    what kms_ref's own Python does is, but for the RANDOMIZED functions."""
    events = []

    def tracer(frame, event, arg):
        if not frame.f_code.co_filename.startswith(PACKAGE) or frame.f_code.co_name in RANDOMIZED:
            return None
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        if event == "opcode":
            events.append((frame.f_code.co_name, frame.f_lasti))
        return tracer

    for _ in range(2):  # the first traced call is a warm-up: Python 3.13 misses opcode events
        events.clear()  # of a code object's first traced run
        sys.settrace(tracer)
        try:
            fn(*args)
        finally:
            sys.settrace(None)
    return events


def comb_additions(fn, *args) -> int:
    """How many mixed additions the comb loop makes during fn(*args): the executions of its
    first line (`H = x2 * ZZ % p - X`)."""
    code = comb.comb_add.__code__
    line = next(n for n, text in enumerate(pathlib.Path(code.co_filename).read_text().splitlines(), 1)
                if text.strip() == "H = x2 * ZZ % p - X")
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code is not code:
            return None
        if event == "line" and frame.f_lineno == line:
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return count


def nonces(short: bool, count: int, algo16=None) -> list:
    """Digests whose RFC 6979 nonce under KEY has at most 250 bits (short) or 256 bits."""
    found, i = [], 0
    while len(found) < count:
        digest = hashlib.sha256(b"fixed schedule %d" % i).digest()
        k = next(rfc6979_nonces(KEY, digest, algo16=algo16))
        if (k.bit_length() <= 250) == short and (short or k.bit_length() == 256):
            found.append((digest, k))
        i += 1
    return found


@pytest.fixture(scope="module", autouse=True)
def big_table():
    ecmult.precompute_g()  # every trace below runs on the same (big) table


# --- the schedule ----------------------------------------------------------------------------

SHORT_AND_FULL = {
    "1": 1, "2": 2, "3": 3, "small": 0xC0FFEE, "2^128": 2**128, "2^130+1": 2**130 + 1,
    "2^249": 2**249, "2^250-1": 2**250 - 1, "2^255": 2**255, "n-1": N - 1, "n-2": N - 2,
    "lambda": endomorphism.LAMBDA, "random-full": 0xB5D9F07E0A3D7A6F1A3C3C8D1E2B9A77C1D3E5F708192A3B4C5D6E7F8091A2B3,
}


def test_point_mul_g_runs_the_same_instructions_for_every_scalar():
    traces = {name: instruction_trace(ecmult.point_mul_g, k) for name, k in SHORT_AND_FULL.items()}
    reference = traces["random-full"]
    assert len(reference) > 1000
    for name, trace in traces.items():
        assert trace == reference, "k = %s runs a different schedule" % name


def test_the_comb_adds_the_same_number_of_points_for_every_scalar():
    big = {name: comb_additions(ecmult.point_mul_g, k) for name, k in SHORT_AND_FULL.items()}
    assert set(big.values()) == {2 * comb.rows_for(ecmult.G_WINDOW) - 1} == {19}, big
    for window, additions in ((ecmult.G_SMALL_WINDOW, 43), (ecmult.G_MEDIUM_WINDOW, 29)):
        table = ecmult._g_table_of_window(window)
        counts = {comb_additions(comb.comb_add, table, window, comb.comb_windows(k, window))
                  for k in SHORT_AND_FULL.values()}
        assert counts == {additions}, window


def _grouped_by_public_branch(signatures):
    """Traces grouped by the one branch a signer may take on public data: whether s was
    replaced by n − s (BIP62 low S), which the signature itself shows."""
    groups = {}
    for digest, k in signatures:
        r = ecmult.point_mul_g(k)[0] % N
        s = pow(k, -1, N) * (int.from_bytes(digest, "big") + r * D) % N
        groups.setdefault(s > HALF_N, []).append((k.bit_length(), instruction_trace(ecdsa_sign, KEY, digest)))
    return groups


def test_ecdsa_sign_runs_the_same_instructions_for_short_and_full_nonces():
    groups = _grouped_by_public_branch(nonces(True, 6) + nonces(False, 6))
    for negated, traces in groups.items():
        reference = traces[0][1]
        for bits, trace in traces:
            assert trace == reference, "a %d-bit nonce (low-S branch %s) signs differently" % (bits, negated)
    assert any(bits <= 250 for traces in groups.values() for bits, _ in traces)


def test_bch_schnorr_sign_runs_the_same_instructions_for_short_and_full_nonces():
    traces = [(k.bit_length(), instruction_trace(schnorr_sign, KEY, digest))
              for digest, k in nonces(True, 4, ALGO16_SCHNORR_BCH) + nonces(False, 4, ALGO16_SCHNORR_BCH)]
    for bits, trace in traces:
        assert trace == traces[-1][1], "a %d-bit nonce signs differently" % bits


def test_keys_and_bip32_private_derivation_run_the_same_instructions_for_short_and_full_keys():
    keys = [1, 2**200 + 7, 2**250 - 1, N - 1, D]
    pub = [instruction_trace(pubkey_from_seckey, k.to_bytes(32, "big")) for k in keys]
    assert all(trace == pub[-1] for trace in pub)
    chain_code = bytes(range(32))
    for index in (7, 2**31 + 7):  # non-hardened (uses point(k_par)) and hardened
        derive = [instruction_trace(lambda k: ExtendedKey(chain_code, k=k).ckd_priv(index).pubkey, k) for k in keys]
        assert all(trace == derive[-1] for trace in derive), index


def test_blinded_inversion_and_jacobi_run_the_same_instructions():
    traces = [instruction_trace(blinding.scalar_inverse, k) for k in (1, 2**250 - 1, N - 1, D)]
    assert all(trace == traces[-1] for trace in traces)


# --- the digits and the split add up; fast paths agree with the plain ones -----------------

def test_signed_digits_are_odd_and_add_up():
    rng = random.Random(SEED)
    for w, rows in ((6, 22), (13, 10), (12, 11), (5, 3)):
        for _ in range(300):
            K = rng.randrange(-(1 << (w * rows)) + 1, 1 << (w * rows)) | 1
            digits = comb.signed_digits(comb.signed_windows(K, w, rows), w, rows)
            assert sum(d << (w * i) for i, d in enumerate(digits)) == K, "seed %d, K=%x" % (SEED, K)
            assert all(d & 1 and abs(d) < 1 << w for d in digits)


def test_glv_split_odd_halves_add_up_and_stay_within_the_table():
    rng = random.Random(SEED + 1)
    scalars = list(SHORT_AND_FULL.values()) + [0, N, 2**320 - 1] + [rng.randrange(N) for _ in range(3000)]
    for k in scalars:
        k1, k2 = endomorphism.glv_split_odd(k)
        assert (k1 + k2 * endomorphism.LAMBDA - k) % N == 0, "seed %d, k=%x" % (SEED + 1, k)
        assert k1 & 1 and k2 & 1
        assert abs(k1) < 2**endomorphism.SPLIT_ODD_BITS and abs(k2) < 2**endomorphism.SPLIT_ODD_BITS
    # k + m·n splits exactly like k: that is why the comb needs no such blinding
    assert all(endomorphism.glv_split(k) == endomorphism.glv_split(k + rng.getrandbits(64) * N) for k in scalars[:200])


@pytest.mark.parametrize("window", [ecmult.G_SMALL_WINDOW, ecmult.G_MEDIUM_WINDOW, ecmult.G_WINDOW])
def test_every_g_table_agrees_with_the_plain_multiplication(window):
    rng = random.Random(SEED + 2)
    table = ecmult._g_table_of_window(window)
    for k in list(SHORT_AND_FULL.values()) + [rng.randrange(1, N) for _ in range(60)]:
        X, Y, ZZ, ZZZ = comb.comb_add(table, window, comb.comb_windows(k, window), comb.ZERO, rng.randrange(1, P))
        inv = pow(ZZ * ZZZ, -1, P)
        assert (X * ZZZ * inv % P, Y * ZZ * inv % P) == point_mul(k, G), "seed %d, k=%x" % (SEED + 2, k)


def test_blinded_values_equal_the_plain_ones():
    rng = random.Random(SEED + 3)
    for k in [1, 2, N - 1, 2**250 - 1] + [rng.randrange(1, N) for _ in range(300)]:
        assert blinding.scalar_inverse(k) == pow(k, -1, N), "seed %d, k=%x" % (SEED + 3, k)
        a = rng.randrange(P)
        assert blinding.blinded_jacobi(a) == jacobi(a)
    assert blinding.blinded_jacobi(0) == 0
    assert all(1 <= blinding.random_field_element() < P and 1 <= blinding.random_scalar() < N for _ in range(100))


def test_signatures_stay_deterministic_and_valid():
    """Blinding changes how k·G and k⁻¹ are computed, never their values: the same message signs
    to the same bytes again and again (RFC 6979), short nonce or not."""
    pub = pubkey_from_seckey(KEY)
    for digest, _ in nonces(True, 3) + nonces(False, 3):
        sig = ecdsa_sign(KEY, digest)
        assert all(ecdsa_sign(KEY, digest) == sig for _ in range(3)) and ecdsa_verify(pub, digest, sig)
        bch = schnorr_sign(KEY, digest)
        assert schnorr_sign(KEY, digest) == bch and schnorr_verify(pub, digest, bch)


# --- the statistics of `python -m kms_ref.bench --side-channel` (no timing here) -------------

def test_side_channel_statistics():
    from kms_ref.bench.side_channel import trimmed_t, welch_t

    a, b = [10.0, 12.0, 11.0, 13.0], [20.0, 22.0, 21.0, 23.0]
    # means 11.5 and 21.5, sample variances 5/3 each: t = −10 / √(5/6)
    assert abs(welch_t(a, b) + 10 / (5 / 6) ** 0.5) < 1e-9
    assert welch_t(b, a) == -welch_t(a, b)
    # a paired shift stands out; a few huge outliers move the plain t but not the trimmed one
    shifted = [-5.0 + (i % 7) - 3 for i in range(1000)]
    assert trimmed_t(shifted) < -50
    noisy = [(i % 7) - 3.0 for i in range(1000)] + [1e6] * 5
    assert abs(trimmed_t(noisy)) < 1
