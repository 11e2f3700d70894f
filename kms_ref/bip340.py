"""BIP340 Schnorr signatures: the public face of `kms_ref.crypto.bip340`.

    pubkey_xonly(seckey) -> 32 bytes                      the x-only public key, BIP340's PubKey(sk)
    schnorr_sign(seckey, msg, aux_rand=None) -> 64 bytes  aux_rand: 32 bytes, fresh from `secrets` if None
    schnorr_verify(pubkey_x, msg, sig) -> bool            messages of any length
    tagged_hash(tag, data) -> 32 bytes                    SHA256(SHA256(tag) || SHA256(tag) || data)
"""

from kms_ref.crypto.bip340 import pubkey_xonly, schnorr_sign, schnorr_verify, tagged_hash

__all__ = ["pubkey_xonly", "schnorr_sign", "schnorr_verify", "tagged_hash"]
