"""Encodings of keys, addresses and scripts: Base58Check, bech32/bech32m, CashAddr, WIF, Script.

Layer: above `kms_ref.crypto` (hashes for checksums); imports nothing else of kms_ref.
"""
