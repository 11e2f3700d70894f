"""Segwit addresses (BIP173 bech32, BIP350 bech32m) — public names; the code lives in
`kms_ref.encoding.bech32`."""

from kms_ref.encoding.bech32 import decode_segwit_address, encode_segwit_address

__all__ = ["encode_segwit_address", "decode_segwit_address"]
