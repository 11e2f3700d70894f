"""ECDSA over secp256k1 as Bitcoin uses it: SEC 1 v2 §4.1, RFC 6979 nonces, low S, strict DER.

`ecdsa_sign` gives byte for byte the signature of libsecp256k1 (Bitcoin Core) and bitcore-lib,
which tatum-kms signs BTC, LTC and DOGE with: the RFC 6979 nonce without extra data, s replaced
by n − s when s > n/2 (BIP62 "low S", required for relay), DER as BIP66 demands. The sighash
byte is the caller's business. `ecdsa_verify` is as strict as Bitcoin Core's policy: BIP66 DER,
low S, 1 ≤ r, s < n, and a valid public key; anything else is simply an invalid signature.
"""

from __future__ import annotations

from collections.abc import Callable

from kms_ref.crypto.blinding import scalar_inverse
from kms_ref.crypto.ecdsa_compressed_key import verify_compressed_key
from kms_ref.crypto.ecmult import double_mul_jacobian, point_mul_g_x
from kms_ref.crypto.rfc6979 import rfc6979_nonces
from kms_ref.crypto.secp256k1 import N, P, known_pubkey, parse_pubkey, scalar_from_bytes

HALF_N = N // 2  # BIP62: a signature is "low S" when s <= n/2


# --- DER (BIP66) -----------------------------------------------------------------------------

def der_encode_sig(r: int, s: int) -> bytes:
    """0x30 len 0x02 len(r) r 0x02 len(s) s, each integer big-endian in the fewest bytes, with
    one 0x00 in front when the top bit is set (DER integers are signed)."""
    if not (1 <= r < N and 1 <= s < N):
        raise ValueError("signature values must be in [1, n-1]")
    rb = r.to_bytes((r.bit_length() + 8) // 8, "big")  # + 8, not + 7: room for a sign bit
    sb = s.to_bytes((s.bit_length() + 8) // 8, "big")
    body = b"\x02" + bytes([len(rb)]) + rb + b"\x02" + bytes([len(sb)]) + sb
    return b"\x30" + bytes([len(body)]) + body


def der_decode_sig(sig: bytes) -> tuple:
    """(r, s) from a DER signature without sighash byte, checked by the rules of BIP66
    (Bitcoin Core's IsValidSignatureEncoding, less the trailing hash type). Raises ValueError."""
    if not isinstance(sig, (bytes, bytearray)):
        raise ValueError("signature must be bytes")
    n = len(sig)
    if not 8 <= n <= 72:
        raise ValueError("DER signature must be 8 to 72 bytes")
    if sig[0] != 0x30 or sig[1] != n - 2:
        raise ValueError("DER signature must be a SEQUENCE covering all the bytes")
    len_r = sig[3]
    if 5 + len_r >= n:
        raise ValueError("DER signature: r overruns the signature")
    len_s = sig[5 + len_r]
    if len_r + len_s + 6 != n:
        raise ValueError("DER signature: lengths do not add up")
    for offset, length, name in ((4, len_r, "r"), (6 + len_r, len_s, "s")):
        if sig[offset - 2] != 0x02:
            raise ValueError("DER signature: %s is not an INTEGER" % name)
        if length == 0:
            raise ValueError("DER signature: %s has zero length" % name)
        if sig[offset] & 0x80:
            raise ValueError("DER signature: %s is negative" % name)
        if length > 1 and sig[offset] == 0 and not sig[offset + 1] & 0x80:
            raise ValueError("DER signature: %s has a superfluous leading zero" % name)
    r = int.from_bytes(sig[4:4 + len_r], "big")
    s = int.from_bytes(sig[6 + len_r:], "big")
    return r, s


# --- Signing -----------------------------------------------------------------------------------

def ecdsa_sign(seckey: bytes, msg32: bytes,
               explain: Callable[[str], None] | None = None) -> bytes:
    """The DER signature (r, s) of the 32-byte digest msg32 under the 32-byte private key.

    SEC 1 §4.1.3: k from RFC 6979; R = k·G; r = x(R) mod n; s = k⁻¹(e + r·d) mod n with
    e = int(msg32) (the digest is exactly 256 bits, so nothing is truncated); a k giving r = 0
    or s = 0 is replaced by the next RFC 6979 candidate. Then s := n − s if s > n/2.
    Timing: k·G runs on the fixed schedule of `ecmult.point_mul_g` and k⁻¹ is blinded
    (`blinding.scalar_inverse`), so neither takes a time that follows k (SECURITY.md).
    `explain`, if given, is called with one line per step; the key, k and the RFC 6979 state
    are never among them.
    """
    d = scalar_from_bytes(seckey)
    if not isinstance(msg32, (bytes, bytearray)) or len(msg32) != 32:
        raise ValueError("the message to sign must be a 32-byte digest")
    e = int.from_bytes(msg32, "big")
    if explain:
        explain("SEC 1 4.1.3: e = int(msg32) = " + bytes(msg32).hex())
    for k in rfc6979_nonces(bytes(seckey), bytes(msg32), explain=explain):
        x_R = point_mul_g_x(k)  # R = k·G; ECDSA needs only its x
        r = x_R % N
        if explain:
            explain("R = k*G: x(R) = %064x" % x_R)
        if r == 0:
            if explain:
                explain("r = x(R) mod n = 0: unusable, taking the next RFC 6979 candidate")
            continue
        s = scalar_inverse(k) * (e + r * d) % N  # k⁻¹ blinded: its time says nothing of k
        if s == 0:
            if explain:
                explain("s = 0: unusable, taking the next RFC 6979 candidate")
            continue
        if explain:
            explain("r = x(R) mod n = %064x" % r)
            explain("s = k^-1 (e + r*d) mod n = %064x (d, k withheld)" % s)
        if s > HALF_N:
            s = N - s
            if explain:
                explain("BIP62 low S: s > n/2, so s = n - s = %064x" % s)
        elif explain:
            explain("BIP62 low S: s <= n/2, kept")
        der = der_encode_sig(r, s)
        if explain:
            explain("DER (BIP66) = " + der.hex())
        return der
    raise AssertionError("unreachable: rfc6979_nonces never ends")


# --- Verification ------------------------------------------------------------------------------

def ecdsa_verify_rs(Q, msg32: bytes, r: int, s: int) -> bool:
    """SEC 1 §4.1.4 for a parsed public key point Q and integers r, s (low S not checked here).
    Every input is public, so this may (and does) take a time that follows them.

    Computes R = u1·G + u2·Q with u1 = e/s, u2 = r/s and accepts when x(R) ≡ r (mod n). The
    comparison is made on the Jacobian R = (X, Y, Z) as X = r·Z² (or (r + n)·Z² when r + n < p,
    the other x that reduces to r), which saves the inversion to affine.
    """
    if not (1 <= r < N and 1 <= s < N):
        return False
    e = int.from_bytes(msg32, "big")
    w = pow(s, -1, N)
    X, _, Z = double_mul_jacobian(e * w % N, r * w % N, Q)
    if Z % P == 0:
        return False
    zz = Z * Z % P
    return (X - r * zz) % P == 0 or (r + N < P and (X - (r + N) * zz) % P == 0)


def ecdsa_verify(pubkey: bytes, msg32: bytes, der_sig: bytes) -> bool:
    """True when der_sig is a valid, strictly encoded, low-S signature of msg32 by pubkey (SEC 1
    encoding, 33 or 65 bytes). Any malformed signature or public key gives False, not an error;
    only a msg32 that is not 32 bytes raises ValueError (that is the caller's bug).

    A compressed key not seen recently is not decompressed: `verify_compressed_key` checks the
    signature without y's square root (and learns y when it is valid). Otherwise the key is
    parsed, or found among the recently parsed, and `ecdsa_verify_rs` decides."""
    if not isinstance(msg32, (bytes, bytearray)) or len(msg32) != 32:
        raise ValueError("the signed message must be a 32-byte digest")
    try:
        r, s = der_decode_sig(der_sig)
    except ValueError:
        return False
    if s > HALF_N:
        return False
    Q = None
    if isinstance(pubkey, (bytes, bytearray)) and len(pubkey) == 33 and pubkey[0] in (2, 3):
        pubkey = bytes(pubkey)
        Q = known_pubkey(pubkey)
        if Q is None:
            verdict = verify_compressed_key(pubkey, msg32, r, s)
            if verdict is not None:
                return verdict
    if Q is None:
        try:
            Q = parse_pubkey(pubkey)
        except ValueError:
            return False
    return ecdsa_verify_rs(Q, msg32, r, s)
