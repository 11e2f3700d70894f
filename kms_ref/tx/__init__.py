"""Transactions (SPEC §4): parse and serialize, bitcore JSON and BCH's hex form, signature
hashes, signing, the DOGE checks, and the script check every signed input passes before release;
Taproot key-path spends beside them (taproot_sighash.py: BIP341's SigMsg and TapSighash).

Layer: above `kms_ref.hd`, `kms_ref.encoding` and `kms_ref.crypto`; knows nothing of wallet
files, the network or the command line (keys come in as arguments).
"""
