"""Deterministic nonces for secp256k1 signatures: RFC 6979 §3.2 with HMAC-SHA256 (HMAC-DRBG).

kms_ref signs like libsecp256k1's `nonce_function_rfc6979`, the nonce of Bitcoin Core,
bitcore-lib (tatum-kms's BTC/LTC/DOGE signer) and Bitcoin ABC:

- the DRBG is seeded with  x ‖ h1 ‖ [data32] ‖ [algo16]: the private key (32 bytes), the
  message reduced mod n (RFC 6979 bits2octets), then optional 32 bytes of "additional data"
  (RFC 6979 §3.6) and an optional 16-byte algorithm name, in that order (libsecp256k1
  src/secp256k1.c, `buffer_append` calls in `nonce_function_rfc6979`);
- ECDSA passes neither: plain RFC 6979, the same k as bitcore-lib and Bitcoin Core;
- BCH Schnorr passes algo16 = b"Schnorr+SHA256  " and no data (bitcoin-abc
  modules/schnorr/schnorr_impl.h, `secp256k1_schnorr_sig_generate_k`), so the same key and
  message never give ECDSA and Schnorr the same nonce, which would reveal the key.
  (Bitcoin ABC's own ECDSA since 2019 passes algo16 = b"ECDSA+DER       "; Bitcoin Core's and
  bitcore-lib's do not, and kms_ref follows them.)

The message needs no hashing here: Bitcoin signs a 32-byte digest, which is RFC 6979's h1.
bits2octets reduces it mod n, as current libsecp256k1 does (`msgmod32`); bitcore-lib 10.8.0
feeds the digest unreduced. The two differ only for a digest ≥ n, odds about 2^-128; on 500
random digests kms_ref's signatures equal bitcore-lib's byte for byte (checked in development).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator

from kms_ref.crypto.secp256k1 import N

ALGO16_SCHNORR_BCH = b"Schnorr+SHA256  "  # 2019-05-15 BCH Schnorr spec, "Recommended practices"


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


def rfc6979_nonces(seckey32: bytes, msg32: bytes, data32: bytes | None = None,
                   algo16: bytes | None = None,
                   explain: Callable[[str], None] | None = None) -> Iterator[int]:
    """The candidate nonces k ∈ [1, n−1] of RFC 6979 §3.2, in order, as an iterator.

    A signer takes the first; if that k is unusable (r = 0 or s = 0, odds about 2^-256) it asks
    for the next, and the generator runs step h's "K = HMAC_K(V ‖ 0x00), V = HMAC_K(V)" before
    producing it, exactly as RFC 6979 and libsecp256k1's retry counter do. `explain` hears the
    step names; K, V and k are secret (any of them gives the key away) and are never passed.
    """
    if len(seckey32) != 32 or len(msg32) != 32:
        raise ValueError("RFC 6979 needs a 32-byte private key and a 32-byte message")
    if data32 is not None and len(data32) != 32:
        raise ValueError("RFC 6979 additional data must be 32 bytes")
    if algo16 is not None and len(algo16) != 16:
        raise ValueError("the algorithm name must be 16 bytes")
    say = explain or (lambda line: None)
    h1 = (int.from_bytes(msg32, "big") % N).to_bytes(32, "big")  # bits2octets(h1)
    seed = bytes(seckey32) + h1 + bytes(data32 or b"") + bytes(algo16 or b"")
    say("RFC 6979 §3.2 a. h1 = the 32-byte message, bits2octets(h1) = h1 mod n = " + h1.hex())
    say("RFC 6979 §3.2 seed = int2octets(x) || bits2octets(h1)"
        + (" || data32" if data32 else "") + (" || algo16 %r" % algo16 if algo16 else "")
        + " (x withheld)")
    return _hmac_drbg(seed, say)


def _hmac_drbg(seed: bytes, say: Callable[[str], None]) -> Iterator[int]:
    """Steps b–h of RFC 6979 §3.2 as a generator; kept apart so that rfc6979_nonces checks its
    arguments when called, not when the first k is asked for."""
    V = b"\x01" * 32
    K = b"\x00" * 32
    say("RFC 6979 §3.2 b. V = 0x01 01 ... 01; c. K = 0x00 00 ... 00")
    K = _hmac(K, V + b"\x00" + seed)
    V = _hmac(K, V)
    say("RFC 6979 §3.2 d. K = HMAC_K(V || 0x00 || seed); e. V = HMAC_K(V) (K, V withheld)")
    K = _hmac(K, V + b"\x01" + seed)
    V = _hmac(K, V)
    say("RFC 6979 §3.2 f. K = HMAC_K(V || 0x01 || seed); g. V = HMAC_K(V) (K, V withheld)")
    attempt = 0
    while True:
        V = _hmac(K, V)  # h.2: qlen = hlen = 256, so T is a single V
        k = int.from_bytes(V, "big")  # h.3: k = bits2int(T)
        attempt += 1
        if 1 <= k < N:
            say("RFC 6979 §3.2 h. candidate %d: k = bits2int(HMAC_K(V)), in [1, n-1] (k withheld)"
                % attempt)
            yield k
        else:
            say("RFC 6979 §3.2 h. candidate %d is not in [1, n-1]; retrying" % attempt)
        K = _hmac(K, V + b"\x00")  # h.3, "otherwise": the retry step
        V = _hmac(K, V)
