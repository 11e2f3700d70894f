"""Hierarchical deterministic wallets: BIP39 mnemonics, BIP32 keys, the chain table of SPEC §1
(BIP44 paths, version bytes, address kinds), addresses, and Tatum's derivations.

Layer: above `kms_ref.crypto` and `kms_ref.encoding`; imports nothing higher.
"""
