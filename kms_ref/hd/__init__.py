"""Hierarchical deterministic wallets: BIP39 mnemonics, BIP32 keys, the chain table of SPEC §1
(BIP44 paths, version bytes, address kinds), addresses, and Tatum's derivations; Taproot keys:
the BIP341 tweak and output script (taproot.py) and BIP86 wallets (bip86.py).

Layer: above `kms_ref.crypto` and `kms_ref.encoding`; imports nothing higher.
"""
