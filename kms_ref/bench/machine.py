"""How fast this machine is right now, printed at the head of the benchmark's reports.

On a shared VM the same code's absolute times move by up to 2× from one hour to the next (the
ratios, taken round by round, much less); this one figure lets a reader place a run.
"""

from __future__ import annotations

import random
import timeit

from kms_ref.crypto.secp256k1 import P


def field_product_us() -> float:
    """A 256-bit a·b mod p in µs, the best of 5 × 200,000 — the unit the issue that set the speed
    targets measured its machine in (about 0.3 µs)."""
    rng = random.Random(1)
    names = {"a": rng.randrange(P), "b": rng.randrange(P), "p": P}
    return min(timeit.repeat("a * b % p", globals=names, number=200000, repeat=5)) / 200000 * 1e6
