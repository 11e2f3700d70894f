"""Schnorr signatures for secp256k1 (BIP340), the signatures of Taproot.

Written in the order and with the names of BIP340 §Specification (and of its reference.py):
`tagged_hash`, `has_even_y`, `lift_x` (from the curve module), `pubkey_xonly` (the BIP's
PubKey(sk)), `schnorr_sign` (§Default Signing) and `schnorr_verify` (§Verification). A public
key is the 32-byte x coordinate of a point whose y is even; a signature is bytes(R) ‖ bytes(s).

What kms_ref adds to the reference: d'·G and k'·G go through `point_mul_g`, the fixed-base
multiplication every secret multiplication of kms_ref uses; the verifier's s·G − e·P is one
`double_mul` (public values only); and the signer checks its own signature before returning it,
as §Default Signing recommends. `explain`, if given, hears every public step; the secret key,
t, rand and the nonce k never appear in it.

kms_ref uses this for BIP341 key-path spends (`kms_ref.tx.taproot_sighash` makes the message,
`kms_ref.hd.taproot` the tweaked key). Not to be confused with Bitcoin Cash's Schnorr
(`schnorr_bch.py`): another challenge hash, another nonce and another public key format.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable

from kms_ref.crypto.ecmult import double_mul, point_mul_g
from kms_ref.crypto.secp256k1 import N, P, lift_x, scalar_from_bytes

AUX_RAND_SIZE = 32  # §Default Signing: "auxiliary random data a: a 32-byte array"


# --- §Specification: conventions ------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _tag_prefix(tag: str) -> bytes:
    digest = hashlib.sha256(tag.encode("utf-8")).digest()
    return digest + digest


def tagged_hash(tag: str, data: bytes) -> bytes:
    """hash_tag(x) = SHA256(SHA256(tag) ‖ SHA256(tag) ‖ x), tag in UTF-8 (§Design, "Tagged
    Hashes"): a hash of one purpose can never be read as a hash of another. The 64-byte prefix
    of each tag is computed once."""
    return hashlib.sha256(_tag_prefix(tag) + bytes(data)).digest()


def bytes_from_int(x: int) -> bytes:
    """bytes(x): 32 bytes, most significant first."""
    return x.to_bytes(32, "big")


def bytes_from_point(point) -> bytes:
    """bytes(P) = bytes(x(P)): the x-only encoding."""
    return bytes_from_int(point[0])


def int_from_bytes(b: bytes) -> int:
    """int(x) for a byte array, most significant byte first."""
    return int.from_bytes(b, "big")


def has_even_y(point) -> bool:
    """has_even_y(P) = y(P) mod 2 = 0, for P not at infinity."""
    return point[1] % 2 == 0


def xor_bytes(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


# --- §Public Key Generation ---------------------------------------------------------------------

def pubkey_xonly(seckey: bytes) -> bytes:
    """PubKey(sk) = bytes(d'·G) for d' = int(sk) in 1..n−1: the 32-byte x-only public key.
    (The x of a compressed SEC 1 key, its first byte dropped — §Public Key Conversion.)"""
    d0 = scalar_from_bytes(seckey)
    return bytes_from_point(point_mul_g(d0))


# --- §Default Signing ---------------------------------------------------------------------------

def schnorr_sign(seckey: bytes, msg: bytes, aux_rand: bytes | None = None,
                 explain: Callable[[str], None] | None = None) -> bytes:
    """Sign(sk, m): the 64-byte signature of a message of any length.

    aux_rand is the 32-byte auxiliary random data a; when None, 32 fresh bytes from `secrets`
    (the BIP recommends fresh randomness whenever available). Passing 32 zero bytes makes the
    signature deterministic, which the BIP permits ("or even the constant array with 32 null
    bytes"): kms_ref's daemon does that so that two daemons sign a transaction alike.
    """
    say = explain or (lambda line: None)
    d0 = scalar_from_bytes(seckey)                           # fail if d' = 0 or d' ≥ n
    msg = _message(msg)
    if aux_rand is None:
        aux_rand = secrets.token_bytes(AUX_RAND_SIZE)
        say("BIP340 sign: a = aux_rand: 32 fresh random bytes (withheld)")
    else:
        if not isinstance(aux_rand, (bytes, bytearray)) or len(aux_rand) != AUX_RAND_SIZE:
            raise ValueError("aux_rand must be 32 bytes")
        aux_rand = bytes(aux_rand)
        say("BIP340 sign: a = aux_rand = %s%s" % (aux_rand.hex(), " (32 zero bytes: deterministic)"
                                                  if not any(aux_rand) else ""))
    say("BIP340 sign: m = %s (%d bytes)" % (msg.hex(), len(msg)))
    pubkey_point = point_mul_g(d0)                           # P = d'·G
    d = d0 if has_even_y(pubkey_point) else N - d0
    say("BIP340 sign: P = d'*G: bytes(P) = %s; has_even_y(P) = %s, so d = %s (d', d withheld)"
        % (bytes_from_point(pubkey_point).hex(), has_even_y(pubkey_point),
           "d'" if has_even_y(pubkey_point) else "n - d'"))
    t = xor_bytes(bytes_from_int(d), tagged_hash("BIP0340/aux", aux_rand))
    rand = tagged_hash("BIP0340/nonce", t + bytes_from_point(pubkey_point) + msg)
    say("BIP340 sign: t = bytes(d) xor hash_BIP0340/aux(a); rand = hash_BIP0340/nonce(t || bytes(P) || m)"
        " (both withheld: they give the nonce)")
    k0 = int_from_bytes(rand) % N
    if k0 == 0:                                              # fail if k' = 0 (probability ~2^-256)
        raise ValueError("BIP340: the nonce k' is zero; sign again with other aux_rand")
    R = point_mul_g(k0)                                      # R = k'·G
    k = k0 if has_even_y(R) else N - k0
    say("BIP340 sign: k' = int(rand) mod n; R = k'*G: bytes(R) = %s; has_even_y(R) = %s, so k = %s"
        " (k', k withheld)" % (bytes_from_point(R).hex(), has_even_y(R), "k'" if has_even_y(R) else "n - k'"))
    e = int_from_bytes(tagged_hash("BIP0340/challenge",
                                   bytes_from_point(R) + bytes_from_point(pubkey_point) + msg)) % N
    say("BIP340 sign: e = int(hash_BIP0340/challenge(bytes(R) || bytes(P) || m)) mod n = %064x" % e)
    sig = bytes_from_point(R) + bytes_from_int((k + e * d) % N)
    say("BIP340 sign: sig = bytes(R) || bytes((k + e*d) mod n) = %s" % sig.hex())
    if not schnorr_verify(bytes_from_point(pubkey_point), msg, sig):
        # §Default Signing: "If Verify(bytes(P), m, sig) returns failure, abort" — a computation
        # fault must not publish a signature that could leak the key.
        raise ValueError("BIP340: the signature failed its own verification and was not released")
    say("BIP340 sign: Verify(bytes(P), m, sig) = success (checked before release)")
    return sig


def _message(msg) -> bytes:
    if not isinstance(msg, (bytes, bytearray)):
        raise ValueError("the message must be bytes (of any length)")
    return bytes(msg)


# --- §Verification ------------------------------------------------------------------------------

def schnorr_verify(pubkey_x: bytes, msg: bytes, sig: bytes) -> bool:
    """Verify(pk, m, sig) for a 32-byte x-only public key, a message of any length and a
    64-byte signature: True on success. A key or signature of another length, or one that fails
    any step, gives False; only a message that is not bytes raises ValueError."""
    msg = _message(msg)
    if not isinstance(pubkey_x, (bytes, bytearray)) or len(pubkey_x) != 32:
        return False
    if not isinstance(sig, (bytes, bytearray)) or len(sig) != 64:
        return False
    pubkey_point = lift_x(int_from_bytes(pubkey_x))          # fail if lift_x fails
    if pubkey_point is None:
        return False
    r = int_from_bytes(sig[0:32])
    if r >= P:                                               # fail if r ≥ p
        return False
    s = int_from_bytes(sig[32:64])
    if s >= N:                                               # fail if s ≥ n
        return False
    e = int_from_bytes(tagged_hash("BIP0340/challenge", bytes(sig[0:32]) + bytes(pubkey_x) + msg)) % N
    R = double_mul(s, N - e, pubkey_point)                   # R = s·G − e·P
    if R is None:                                            # fail if is_infinite(R)
        return False
    if not has_even_y(R):                                    # fail if not has_even_y(R)
        return False
    return R[0] == r                                         # fail if x(R) ≠ r
