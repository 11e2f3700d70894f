"""Blinding: fresh random values that keep the time of secret computations from following the
secret (issue "Hardening" §1; SECURITY.md, "Timing side channels").

CPython's big-integer operations are not constant-time: `pow(k, -1, n)` runs Euclid's algorithm,
whose number of steps follows k, and a product of a short number is a little quicker. Python
cannot hide that, but it can make sure the operands are random, not the secret:

- `scalar_inverse(k)`: k⁻¹ mod n as b·(k·b)⁻¹ for a fresh random b — the inversion sees k·b,
  uniformly random whatever k is (the blinding of libsecp256k1's and OpenSSL's ECDSA signers).
- `random_field_element()`: a random z ≠ 0 mod p, the projective randomization the comb starts
  from (Coron, CHES 1999, §5.3), which makes every intermediate value and the Z inverted at the
  end random. (k·G itself needs no other blinding: `kms_ref.crypto.ecmult._mul_g_secret` says
  why k + m·n would change nothing there.)
- `blinded_jacobi(a)`: the Jacobi symbol of a·c² for a fresh random c — the same symbol, but the
  reciprocity algorithm's steps follow a random number instead of a (BCH Schnorr asks it of
  y(k·G) to decide whether k is negated).

The randomness comes from `os.urandom` (the operating system's CSPRNG) and never changes a
result: signatures stay those of RFC 6979, byte for byte.
"""

from __future__ import annotations

import os

from kms_ref.crypto.secp256k1 import N, P, jacobi


def _random_int(nbytes: int) -> int:
    return int.from_bytes(os.urandom(nbytes), "big")


def random_scalar() -> int:
    """A uniformly random b in [1, n−1] (40 random bytes reduced: bias below 2^-64)."""
    return _random_int(40) % (N - 1) + 1


def random_field_element() -> int:
    """A uniformly random z in [1, p−1] (bias below 2^-64)."""
    return _random_int(40) % (P - 1) + 1


def scalar_inverse(k: int) -> int:
    """k⁻¹ mod n for a secret k ≢ 0, computed as b·(k·b)⁻¹ with a fresh random b: the same value
    as `pow(k, -1, n)` (tests check it), but the inversion works on k·b mod n, which is uniformly
    random whatever k is, so its time says nothing about k."""
    b = random_scalar()
    return pow(k * b % N, -1, N) * b % N


def blinded_jacobi(a: int) -> int:
    """jacobi(a) computed on a·c² mod p for a fresh random c ≠ 0: (c²/p) = 1, so the symbol is
    the same, and the steps of the algorithm follow a random field element instead of a."""
    c = random_field_element()
    return jacobi(a * c % P * c % P)
