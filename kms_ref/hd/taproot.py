"""Taproot outputs for key-path spending: the key tweak, the output script and the address
(BIP341 §Constructing and spending Taproot outputs; BIP350 for the address).

A Taproot output does not pay the key a wallet holds (the *internal key* P) but a tweaked one,
the *output key* Q = P + t·G with t = int(hash_TapTweak(bytes(P) ‖ h)): h is the Merkle root of
the output's script tree, or nothing when there is none — the BIP86 case, and kms_ref's wallets.
The tweak commits Q to the script tree (so no hidden script path can be slipped in); spending by
the key path then signs with the matching tweaked secret key, `taproot_tweak_seckey`.

    scriptPubKey = OP_1 <32-byte x(Q)>       (segwit version 1, BIP341 §Script validation rules)
    address      = bech32m(hrp, 1, x(Q))     bc1p… on mainnet, tb1p… on testnet (BIP350)

The functions are BIP341's reference `taproot_tweak_pubkey` and `taproot_tweak_seckey`, with
public keys as 32-byte x-only arrays (BIP340). Computing a script tree's Merkle root (TapLeaf,
TapBranch) is script-path work and not done here: callers with a tree pass its root.
"""

from __future__ import annotations

from kms_ref.crypto.bip340 import bytes_from_int, has_even_y, int_from_bytes, tagged_hash
from kms_ref.crypto.ecmult import point_mul_g, point_mul_g_add
from kms_ref.crypto.secp256k1 import N, lift_x, scalar_from_bytes
from kms_ref.encoding.bech32 import encode_segwit_address
from kms_ref.encoding.script import OP_1

TAPROOT_WITNESS_VERSION = 1     # BIP341: "a SegWit version 1 output"
NO_SCRIPT_TREE = b""            # BIP86: the tweak commits to no script path


def _check_h(merkle_root: bytes) -> bytes:
    if not isinstance(merkle_root, (bytes, bytearray)) or len(merkle_root) not in (0, 32):
        raise ValueError("a script tree's Merkle root is 32 bytes (or empty for no script tree)")
    return bytes(merkle_root)


def _check_xonly(pubkey_x: bytes) -> bytes:
    if not isinstance(pubkey_x, (bytes, bytearray)) or len(pubkey_x) != 32:
        raise ValueError("a Taproot public key is 32 bytes (x-only, BIP340)")
    return bytes(pubkey_x)


def taproot_tweak(pubkey_x: bytes, merkle_root: bytes = NO_SCRIPT_TREE) -> int:
    """t = int(hash_TapTweak(pubkey ‖ h)); fails when t ≥ n (probability about 2^-128)."""
    t = int_from_bytes(tagged_hash("TapTweak", _check_xonly(pubkey_x) + _check_h(merkle_root)))
    if t >= N:
        raise ValueError("the TapTweak hash is not below the curve order")
    return t


def taproot_tweak_pubkey(pubkey_x: bytes, merkle_root: bytes = NO_SCRIPT_TREE) -> tuple:
    """(parity of y(Q), bytes(Q)) for Q = lift_x(pubkey) + t·G. The parity is what a script-path
    spend's control block carries; the key path needs only bytes(Q). t is public (a hash of
    public data), so t·G uses the fixed-base addition BIP32's public derivation also uses."""
    t = taproot_tweak(pubkey_x, merkle_root)
    P = lift_x(int_from_bytes(pubkey_x))
    if P is None:
        raise ValueError("the internal key is not the x coordinate of a point on secp256k1")
    Q = point_mul_g_add(t, P)
    if Q is None:
        raise ValueError("the tweaked key is the point at infinity")
    return (0 if has_even_y(Q) else 1), bytes_from_int(Q[0])


def taproot_tweak_seckey(seckey: bytes, merkle_root: bytes = NO_SCRIPT_TREE) -> bytes:
    """The secret key of the output key: d = d' or n − d' so that d·G has an even y (the
    internal key is x-only, so it stands for the even-y point), then (d + t) mod n.
    For every key, taproot_tweak_pubkey(PubKey(sk), h)[1] == PubKey(taproot_tweak_seckey(sk, h))."""
    d0 = scalar_from_bytes(seckey)
    P = point_mul_g(d0)                                     # a secret multiplication: point_mul_g
    d = d0 if has_even_y(P) else N - d0
    tweaked = (d + taproot_tweak(bytes_from_int(P[0]), merkle_root)) % N
    if tweaked == 0:
        raise ValueError("the tweaked secret key is zero")
    return bytes_from_int(tweaked)


def taproot_output_key(pubkey: bytes, merkle_root: bytes = NO_SCRIPT_TREE) -> bytes:
    """bytes(Q) for an internal key given x-only (32 bytes) or SEC 1 compressed (33 bytes: its
    first byte dropped, BIP340 §Public Key Conversion)."""
    if isinstance(pubkey, (bytes, bytearray)) and len(pubkey) == 33 and pubkey[0] in (2, 3):
        pubkey = pubkey[1:]
    return taproot_tweak_pubkey(pubkey, merkle_root)[1]


def p2tr_script(output_key: bytes) -> bytes:
    """OP_1 <32 bytes>: the scriptPubKey of a Taproot output."""
    return bytes((OP_1, 32)) + _check_xonly(output_key)


def p2tr_address(hrp: str, output_key: bytes) -> str:
    """The bech32m address of the output key: witness version 1, program bytes(Q)."""
    return encode_segwit_address(hrp, TAPROOT_WITNESS_VERSION, _check_xonly(output_key))
