"""ECDSA (SEC 1 §4.1.3) and BCH Schnorr (2019-05-15 spec) signing written as the definitions,
with every intermediate value kept: the nonce k, the RFC 6979 state (K, V) it came from, R, e
and s — for a student who checks a signature with pencil and a calculator
(`kms-ref sign --explain --showSecrets`, `--textbook`).

The fast signers (`ecdsa.ecdsa_sign`, `schnorr_bch.schnorr_sign`) keep all of this to
themselves, and must: k, or the state it comes from, gives the private key away
(d = r⁻¹(s·k − e) mod n). Here it is the point. Everything is computed the plain way — RFC 6979
§3.2 step by step, R = k·G by the double-and-add `point_mul` of `secp256k1.py` (the definition the
fast multiplications are tested against) — and `kms-ref sign` compares the resulting bytes with
the fast signer's, so the trace is of the very signature that was made. tests/test_textbook.py
checks k against `rfc6979.rfc6979_nonces` and the signatures against the fast signers.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import List, NamedTuple, Optional, Tuple

from kms_ref.crypto.ecdsa import der_encode_sig
from kms_ref.crypto.rfc6979 import ALGO16_SCHNORR_BCH
from kms_ref.crypto.secp256k1 import G, N, jacobi, point_mul, scalar_from_bytes, ser_p

HALF_N = N // 2     # BIP62: a signature is "low S" when s <= n/2


class DoubleAndAdd:
    """A `point_mul` step counter: how many doublings and additions k·G took, and the first few
    steps, to show the path (MSB first: the first doubling is of the point at infinity)."""

    SHOWN = 6

    def __init__(self):
        self.doublings = 0
        self.additions = 0
        self.first_steps: List[Tuple[str, int]] = []

    def __call__(self, op: str, bit: int) -> None:
        if op == "double":
            self.doublings += 1
        else:
            self.additions += 1
        if len(self.first_steps) < self.SHOWN:
            self.first_steps.append((op, bit))


def multiply(k: int, point, counter: Optional[DoubleAndAdd] = None):
    """k·point by the textbook double-and-add."""
    return point_mul(k, point, counter)


# --- RFC 6979 §3.2, with the state in the open ----------------------------------------------------

class NonceStep(NamedTuple):
    label: str          # the RFC's step letter and formula
    K: bytes
    V: bytes


def rfc6979_first_nonce(x32: bytes, msg32: bytes, algo16: Optional[bytes] = None):
    """(k, steps): the first usable k of RFC 6979 §3.2 (HMAC-SHA256, qlen = hlen = 256) for the
    key x and message digest, the seed being int2octets(x) ‖ bits2octets(h1) [‖ algo16] as in
    libsecp256k1, and K, V after each step. Equals next(rfc6979.rfc6979_nonces(...))."""
    h1 = (int.from_bytes(msg32, "big") % N).to_bytes(32, "big")   # bits2octets(h1) = h1 mod n
    seed = bytes(x32) + h1 + (algo16 or b"")
    mac = lambda key, data: hmac.digest(key, data, "sha256")     # noqa: E731
    V, K = b"\x01" * 32, b"\x00" * 32
    steps = [NonceStep("b, c: V = 01 01 ... 01, K = 00 00 ... 00", K, V)]
    K = mac(K, V + b"\x00" + seed)
    steps.append(NonceStep("d: K = HMAC_K(V || 00 || seed)", K, V))
    V = mac(K, V)
    steps.append(NonceStep("e: V = HMAC_K(V)", K, V))
    K = mac(K, V + b"\x01" + seed)
    steps.append(NonceStep("f: K = HMAC_K(V || 01 || seed)", K, V))
    V = mac(K, V)
    steps.append(NonceStep("g: V = HMAC_K(V)", K, V))
    while True:
        V = mac(K, V)
        k = int.from_bytes(V, "big")                                 # h.3: k = bits2int(T), T = V
        steps.append(NonceStep("h: V = HMAC_K(V); k = bits2int(V)", K, V))
        if 1 <= k < N:
            return k, steps
        K = mac(K, V + b"\x00")                                      # h.3 "otherwise"
        V = mac(K, V)
        steps.append(NonceStep("h: k not in [1, n-1]: K = HMAC_K(V || 00), V = HMAC_K(V)", K, V))


# --- ECDSA ------------------------------------------------------------------------------------------

class EcdsaTrace(NamedTuple):
    d: int
    e: int
    k: int
    nonce_steps: list
    R: tuple
    r: int
    s_computed: int     # k⁻¹(e + r·d) mod n, before low S
    s: int              # after BIP62 low S
    der: bytes
    counter: Optional[DoubleAndAdd]


def ecdsa_sign_traced(seckey: bytes, msg32: bytes, count_steps: bool = False) -> EcdsaTrace:
    """SEC 1 §4.1.3 with RFC 6979's k and BIP62's low S, as `ecdsa.ecdsa_sign`, every value kept."""
    d = scalar_from_bytes(seckey)
    e = int.from_bytes(msg32, "big")              # the digest is 256 bits: nothing to truncate
    k, steps = rfc6979_first_nonce(seckey, msg32)
    counter = DoubleAndAdd() if count_steps else None
    R = multiply(k, G, counter)
    r = R[0] % N
    s_computed = pow(k, -1, N) * (e + r * d) % N
    if r == 0 or s_computed == 0:                 # odds about 2^-256; ecdsa_sign takes the next k
        raise ValueError("r or s is 0 for the first RFC 6979 nonce: not shown")
    s = N - s_computed if s_computed > HALF_N else s_computed
    return EcdsaTrace(d, e, k, steps, R, r, s_computed, s, der_encode_sig(r, s), counter)


# --- BCH Schnorr ----------------------------------------------------------------------------------

class SchnorrTrace(NamedTuple):
    d: int
    P: bytes            # the compressed public key
    k0: int             # RFC 6979's k
    nonce_steps: list
    R: tuple            # k0·G
    jacobi_y: int       # jacobi(y(R)): 1 keeps k0, −1 takes n − k0
    k: int
    e: int
    s: int
    signature: bytes    # r ‖ s
    counter: Optional[DoubleAndAdd]


def schnorr_sign_traced(seckey: bytes, msg32: bytes, count_steps: bool = False) -> SchnorrTrace:
    """The 2019-05-15 BCH Schnorr signature as `schnorr_bch.schnorr_sign`, every value kept:
    k from RFC 6979 with algo16 "Schnorr+SHA256  ", R = k·G, k := n − k unless jacobi(y(R)) = 1,
    e = SHA256(x(R) ‖ compressed P ‖ m) mod n, s = k + e·d mod n."""
    d = scalar_from_bytes(seckey)
    P = ser_p(multiply(d, G), compressed=True)
    k0, steps = rfc6979_first_nonce(seckey, msg32, ALGO16_SCHNORR_BCH)
    counter = DoubleAndAdd() if count_steps else None
    R = multiply(k0, G, counter)
    j = jacobi(R[1])
    k = k0 if j == 1 else N - k0
    r32 = R[0].to_bytes(32, "big")
    e = int.from_bytes(hashlib.sha256(r32 + P + bytes(msg32)).digest(), "big") % N
    s = (k + e * d) % N
    return SchnorrTrace(d, P, k0, steps, R, j, k, e, s, r32 + s.to_bytes(32, "big"), counter)
