"""`python -m kms_ref.bench --side-channel`: does the time of a signature follow its nonce?

The measurement of the hardening issue (§1), the first step of a Minerva-type attack (Jancar et
al., "Minerva: The curse of ECDSA nonces", CHES 2020): one key, many messages, each signature
timed on its own with `time.perf_counter_ns`; the nonce of each is recomputed with RFC 6979 —
which an attacker cannot do, but a test of the signer can — and the signatures are split into
short nonces (at most 250 bits, about 1 in 64) and full ones. Two figures:

- Welch's t between the signing times of the two groups: |t| < 4.5 means no difference that
  this many samples can tell from noise (the threshold of TVLA, Goodwill et al., 2011);
- the share of short nonces among the fastest 1% of signatures, against their share overall:
  an attacker keeps the fastest signatures because they are richer in short nonces; the target
  is that they are not — within 2× the overall share.

Garbage collection is off while timing, and the messages come in random order, so short and
full nonces are interleaved through the run and a slow spell of the machine falls on both. The
key and the nonces are the benchmark's own; nothing secret is printed.
"""

from __future__ import annotations

import gc
import hashlib
import math
import statistics
import time

SHORT_BITS = 250
T_LIMIT = 4.5
SHARE_LIMIT = 2.0  # the fastest 1% may hold at most this many times the overall share


def welch_t(a: list, b: list) -> float:
    """Welch's t statistic of two samples (unequal variances): (mean a − mean b) / √(va/na + vb/nb)."""
    va, vb = statistics.variance(a), statistics.variance(b)
    return (statistics.fmean(a) - statistics.fmean(b)) / math.sqrt(va / len(a) + vb / len(b))


def measure(messages: int = 20000, warmup: int = 500) -> dict:
    """Sign `messages` digests with one key, time each signature, and split the times by the
    length of their RFC 6979 nonce. Returns the figures `report` prints."""
    from kms_ref.crypto.ecdsa import ecdsa_sign
    from kms_ref.crypto.ecmult import precompute_g
    from kms_ref.crypto.rfc6979 import rfc6979_nonces

    precompute_g()  # a signing process: the big table is there before the first timed signature
    seckey = hashlib.sha256(b"kms_ref side-channel benchmark key").digest()
    digests = [hashlib.sha256(b"side-channel message %d" % i).digest() for i in range(messages)]
    short = [next(rfc6979_nonces(seckey, d)).bit_length() <= SHORT_BITS for d in digests]
    for d in digests[:warmup]:
        ecdsa_sign(seckey, d)
    times = []
    clock = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        for d in digests:
            start = clock()
            ecdsa_sign(seckey, d)
            times.append(clock() - start)
    finally:
        gc.enable()
    short_times = [t for t, s in zip(times, short) if s]
    full_times = [t for t, s in zip(times, short) if not s]
    fastest = sorted(range(messages), key=times.__getitem__)[:max(1, messages // 100)]
    cut = sorted(times)[int(0.9 * messages)]  # a shared machine's long tail, cut the same for both
    return {
        "messages": messages,
        "short": len(short_times),
        "welch_t": welch_t(short_times, full_times),
        "welch_t_fastest_90": welch_t([t for t in short_times if t < cut], [t for t in full_times if t < cut]),
        "median_short_us": statistics.median(short_times) / 1e3,
        "median_full_us": statistics.median(full_times) / 1e3,
        "share_overall": len(short_times) / messages,
        "share_fastest": sum(short[i] for i in fastest) / len(fastest),
        "fastest": len(fastest),
    }


def report(messages: int = 20000) -> str:
    m = measure(messages)
    t_ok = abs(m["welch_t"]) < T_LIMIT
    share_ok = m["share_fastest"] <= SHARE_LIMIT * m["share_overall"]
    return "\n".join([
        "Signing time against nonce length: ECDSA, one key, %d messages with their RFC 6979 nonces"
        % m["messages"],
        "  short nonces (<= %d bits): %d (%.2f%%); median %.1f µs, full-length %.1f µs"
        % (SHORT_BITS, m["short"], 100 * m["share_overall"], m["median_short_us"], m["median_full_us"]),
        "  Welch t, short vs full: %+.2f   (target |t| < %.1f: %s)"
        % (m["welch_t"], T_LIMIT, "met" if t_ok else "MISSED"),
        "  (the same on the fastest 90%%, without the machine's long tail: %+.2f)" % m["welch_t_fastest_90"],
        "  short nonces among the fastest 1%% (%d signatures): %.2f%% against %.2f%% overall"
        "   (target at most %.0f× overall: %s)"
        % (m["fastest"], 100 * m["share_fastest"], 100 * m["share_overall"], SHARE_LIMIT,
           "met" if share_ok else "MISSED"),
    ])
