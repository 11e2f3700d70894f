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
  is that they are not — within 2× the overall share. The default of 50,000 messages puts about
  8 short nonces in the fastest 500 by chance alone; with 20,000 (3 in 200) chance alone
  crosses the 2× line about one run in twenty.

Then a targeted measurement with more power on a busy machine (`paired`): 2,000 messages with
short nonces and 2,000 with full ones, signed alternately, each short signature compared with the
full one signed next to it, so that slow spells of the machine cancel; the paired t of those
differences, and the t of their 20%-trimmed mean (which a few preempted signatures do not
throw), have the same target.

Each signature is timed twice: by the wall clock (`time.perf_counter_ns`), what an attacker
sees, and by the thread's CPU time (`time.thread_time_ns`), which leaves out the time spent
waiting for a core — on a busy shared machine that waiting is most of the noise and hides a
difference the CPU time still shows. Garbage collection is off while timing, and the messages
come in random order, so short and full nonces are interleaved through the run and a slow spell
of the machine falls on both. The key and the nonces are the benchmark's own; nothing secret is
printed.
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


def measure(messages: int = 50000, warmup: int = 500) -> dict:
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
    wall, cpu = _time_signatures(ecdsa_sign, seckey, digests)
    return {"messages": messages, "wall": _figures(wall, short), "cpu": _figures(cpu, short)}


def _time_signatures(sign, seckey: bytes, digests: list) -> tuple:
    """(wall-clock times, CPU times) in ns of sign(seckey, d) for each digest, in order, with
    garbage collection off."""
    wall, cpu = [], []
    wall_clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    gc.collect()
    gc.disable()
    try:
        for d in digests:
            start, start_cpu = wall_clock(), cpu_clock()
            sign(seckey, d)
            cpu.append(cpu_clock() - start_cpu)
            wall.append(wall_clock() - start)
    finally:
        gc.enable()
    return wall, cpu


def paired(pairs: int = 2000, rounds: int = 3) -> dict:
    """The targeted measurement: `pairs` messages with short nonces and as many with full ones,
    signed alternately (short then full, full then short), `rounds` times over; each short
    signature is compared with the full one signed just before or after it, so that the
    machine's slow spells, which last far longer than two signatures, cancel in the difference.
    Returns the paired t of those differences (mean / standard error) and their median."""
    from kms_ref.crypto.ecdsa import ecdsa_sign
    from kms_ref.crypto.ecmult import precompute_g
    from kms_ref.crypto.rfc6979 import rfc6979_nonces

    precompute_g()
    seckey = hashlib.sha256(b"kms_ref side-channel benchmark key").digest()
    found = {True: [], False: []}
    i = 0
    while len(found[True]) < pairs or len(found[False]) < pairs:
        d = hashlib.sha256(b"side-channel message %d" % i).digest()
        bits = next(rfc6979_nonces(seckey, d)).bit_length()
        if bits <= SHORT_BITS or bits == 256:
            found[bits <= SHORT_BITS].append(d)
        i += 1
    order = []
    for j, (s, f) in enumerate(zip(found[True][:pairs], found[False][:pairs])):
        order += [s, f] if j % 2 else [f, s]
    order *= rounds
    wall, cpu = _time_signatures(ecdsa_sign, seckey, order)
    out = {"pairs": pairs * rounds}
    for clock, times in (("wall", wall), ("cpu", cpu)):
        diffs = []
        for j in range(0, len(order), 2):
            short_first = (j // 2) % pairs % 2 == 1
            a, b = times[j], times[j + 1]
            diffs.append(a - b if short_first else b - a)  # short minus full
        out[clock] = {"paired_t": _t(diffs), "trimmed_t": trimmed_t(diffs),
                      "median_diff_us": statistics.median(diffs) / 1e3}
    return out


def _t(diffs: list) -> float:
    """The one-sample t of paired differences: mean / (standard deviation / √n)."""
    return statistics.fmean(diffs) / (statistics.stdev(diffs) / math.sqrt(len(diffs)))


def trimmed_t(diffs: list, gamma: float = 0.2) -> float:
    """The one-sample t of the 20%-trimmed mean (Tukey and McLaughlin 1963; Wilcox, "Introduction
    to Robust Estimation and Hypothesis Testing", §4.6): the mean of the middle 60% of the sorted
    differences over its standard error, taken from the winsorized variance. A preempted
    signature is thousands of µs off; this statistic is not thrown by a few of them."""
    d = sorted(diffs)
    n, g = len(d), int(gamma * len(d))
    middle = d[g:n - g]
    winsorized = [d[g]] * g + middle + [d[n - g - 1]] * g
    return statistics.fmean(middle) / (statistics.stdev(winsorized) / ((1 - 2 * gamma) * math.sqrt(n)))


def _figures(times: list, short: list) -> dict:
    short_times = [t for t, s in zip(times, short) if s]
    full_times = [t for t, s in zip(times, short) if not s]
    fastest = sorted(range(len(times)), key=times.__getitem__)[:max(1, len(times) // 100)]
    return {
        "short": len(short_times),
        "welch_t": welch_t(short_times, full_times),
        "median_short_us": statistics.median(short_times) / 1e3,
        "median_full_us": statistics.median(full_times) / 1e3,
        "share_overall": len(short_times) / len(times),
        "share_fastest": sum(short[i] for i in fastest) / len(fastest),
        "fastest": len(fastest),
        "met": abs(welch_t(short_times, full_times)) < T_LIMIT
        and sum(short[i] for i in fastest) / len(fastest) <= SHARE_LIMIT * len(short_times) / len(times),
    }


def report(messages: int = 50000, pairs: int = 2000) -> str:
    m = measure(messages)
    lines = ["Signing time against nonce length: ECDSA, one key, %d messages with their RFC 6979 nonces"
             % m["messages"]]
    for clock, name in (("wall", "wall clock (time.perf_counter_ns), what an attacker sees"),
                        ("cpu", "this thread's CPU time (time.thread_time_ns): the same without "
                                "the time spent waiting for a core")):
        f = m[clock]
        t_ok = abs(f["welch_t"]) < T_LIMIT
        share_ok = f["share_fastest"] <= SHARE_LIMIT * f["share_overall"]
        lines += [
            "%s:" % name,
            "  short nonces (<= %d bits): %d (%.2f%%); median %.1f µs, full-length %.1f µs"
            % (SHORT_BITS, f["short"], 100 * f["share_overall"], f["median_short_us"], f["median_full_us"]),
            "  Welch t, short vs full: %+.2f   (target |t| < %.1f: %s)"
            % (f["welch_t"], T_LIMIT, "met" if t_ok else "MISSED"),
            "  short nonces among the fastest 1%% (%d signatures): %.2f%% against %.2f%% overall"
            "   (target at most %.0f× overall: %s)"
            % (f["fastest"], 100 * f["share_fastest"], 100 * f["share_overall"], SHARE_LIMIT,
               "met" if share_ok else "MISSED"),
        ]
    q = paired(pairs)
    lines.append("Targeted: %d short-nonce and %d full-nonce signatures signed alternately, %d pairs in all"
                 % (pairs, pairs, q["pairs"]))
    for clock in ("wall", "cpu"):
        f = q[clock]
        ok = abs(f["paired_t"]) < T_LIMIT and abs(f["trimmed_t"]) < T_LIMIT
        lines.append("  %-4s paired t, short minus full: %+.2f, of the 20%%-trimmed mean %+.2f"
                     " (target |t| < %.1f: %s); median difference %+.2f µs"
                     % (clock, f["paired_t"], f["trimmed_t"], T_LIMIT, "met" if ok else "MISSED",
                        f["median_diff_us"]))
    return "\n".join(lines)
