"""The lazily built tables of kms_ref.crypto.ecmult are safe to share between threads (issue
"Hardening" §4: the verification path once read the k·G table before it was built when several
threads arrived together, and 8 of 16 threads raised TypeError). The sandbox and the daemon are
threaded.

Each test runs in a fresh interpreter, so that the tables really are unbuilt when the threads
start, and lowers the thresholds so that every table — G's small one, G's big one, a key's —
is built while the threads race for it.
"""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

RACE = r'''
import hashlib, json, sys, threading
from kms_ref.crypto import ecmult
from kms_ref.crypto.ecdsa import der_encode_sig, ecdsa_sign, ecdsa_verify
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.crypto.rfc6979 import rfc6979_nonces
from kms_ref.crypto.schnorr_bch import schnorr_sign, schnorr_verify
from kms_ref.crypto.secp256k1 import G, N, point_mul, ser_p

THREADS, ROUNDS = int(sys.argv[1]), int(sys.argv[2])
assert ecmult._g_tables == {} and not ecmult._key_tables       # a cold start
ecmult.G_TABLE_AFTER = THREADS * ROUNDS // 2   # the big table is built in the middle of the race
ecmult.KEY_TABLE_AFTER = 2                     # and the shared key's table early in it
sys.setswitchinterval(1e-5)                    # switch threads as often as CPython allows


def plain_sign(seckey, digest):
    # ECDSA by the plain definitions only (no table is touched before the race)
    k, d = next(rfc6979_nonces(seckey, digest)), int.from_bytes(seckey, "big")
    r = point_mul(k, G)[0] % N
    s = pow(k, -1, N) * (int.from_bytes(digest, "big") + r * d) % N
    return der_encode_sig(r, min(s, N - s))


shared = hashlib.sha256(b"shared key").digest()
shared_pub = ser_p(point_mul(int.from_bytes(shared, "big"), G))
keys = [hashlib.sha256(b"thread key %d" % t).digest() for t in range(THREADS)]
expected = [ser_p(point_mul(int.from_bytes(k, "big"), G)) for k in keys]
digests = [[hashlib.sha256(b"%d %d" % (t, i)).digest() for i in range(ROUNDS)] for t in range(THREADS)]
signed = [[plain_sign(shared, d) for d in row] for row in digests]
barrier = threading.Barrier(THREADS)
errors, wrong = [], []


def verifier(t):   # what the sandbox does: verify, verify, verify — one key for many inputs
    for i, digest in enumerate(digests[t]):
        for _ in range(3):
            if not ecdsa_verify(shared_pub, digest, signed[t][i]):
                wrong.append("verify %d/%d" % (t, i))


def signer(t):     # what the daemon does: derive, sign, check
    for i, digest in enumerate(digests[t]):
        if pubkey_from_seckey(keys[t]) != expected[t]:
            wrong.append("pubkey %d" % t)
        if ecdsa_sign(shared, digest) != signed[t][i] or not ecdsa_verify(shared_pub, digest, signed[t][i]):
            wrong.append("ecdsa %d/%d" % (t, i))
        if not schnorr_verify(expected[t], digest, schnorr_sign(keys[t], digest)):
            wrong.append("schnorr %d/%d" % (t, i))


def work(t):
    try:
        barrier.wait()
        (verifier if t % 2 else signer)(t)
    except BaseException as exc:
        errors.append("%s: %s" % (type(exc).__name__, exc))


threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"errors": errors, "wrong": wrong, "tables": sorted(ecmult._g_tables),
                  "key_tables": len(ecmult._key_tables)}))
'''


def run_race(threads: int, rounds: int) -> dict:
    out = subprocess.run([sys.executable, "-c", RACE, str(threads), str(rounds)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_sixteen_threads_from_a_cold_start_share_every_table():
    result = run_race(16, 6)
    assert result["errors"] == [] and result["wrong"] == []
    assert result["tables"] == [6, 13]    # both G tables were built during the race
    assert result["key_tables"] == 1 + 16 // 2  # the shared key's and each signer's own, once each


def test_threads_racing_for_the_first_table():
    """All threads ask for k·G at the same instant, before any table exists."""
    code = ("import threading, kms_ref.crypto.ecmult as e\n"
            "from kms_ref.crypto.secp256k1 import G, point_mul\n"
            "e.G_TABLE_AFTER = 0\n"   # the very first request builds the big table
            "b = threading.Barrier(24); out = []\n"
            "def go(i):\n"
            "    b.wait(); out.append(e.point_mul_g(i + 1) == point_mul(i + 1, G)\n"
            "                         and e.double_mul(i + 1, 0, G) == point_mul(i + 1, G))\n"
            "ts = [threading.Thread(target=go, args=(i,)) for i in range(24)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]\n"
            "assert out == [True] * 24, out\n"
            "assert sorted(e._g_tables) == [13]\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=600)
