"""kms_ref — a pure-Python reference implementation of the Tatum Key Management System.

Bitcoin family only (BTC, LTC, DOGE, BCH; mainnet and testnet), standard library only.
Layers, each importing only from the ones above it in this list:

    crypto/    primitives: hashes, RIPEMD-160, secp256k1, ECDSA, BCH Schnorr, AES
    encoding/  Base58Check, bech32/bech32m, CashAddr, WIF
    hd/        BIP39 mnemonics, BIP32 keys, the chain table (paths, versions, addresses)
    tx/        transactions: serialize, sighash, sign, verify
    store      the encrypted wallet file
    api, daemon  the Tatum v3 client and the signing loop
    cli, sandbox the user's edge

Importing this package loads nothing else: every module is imported on demand.
"""

__version__ = "0.1.0"
