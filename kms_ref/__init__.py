# -*- coding: utf-8 -*-   (declared for Python 2, so that it too reaches the version check below)
"""kms_ref — a pure-Python reference implementation of the Tatum Key Management System.

Bitcoin family only (BTC, LTC, DOGE, BCH; mainnet and testnet), standard library only. The
folder tree is the architecture: each layer imports only from itself and the layers below it
(tests/test_layers.py holds the order and fails on an upward import or a cycle).

    kms_ref/
      secp256k1.py aes.py ripemd160.py base58.py bech32.py bip39.py bip32.py bip340.py
                  the public faces of the README's "Library API": re-exports, nothing else
      cli/        the user's edge: argv, flags, .env, help, wallet commands, sign, demo, selftest
      sandbox/    the local Tatum v3 API (a server; it may use everything below)
      daemon/     the Tatum v3 client, the journal, the signer (keys for a pending tx), the loop
      passwords/  where the wallet password comes from
      net/        the one outbound HTTP(S) client: deadlines, size caps, TLS, proxies, keep-alive
      store/      the wallet file: both formats, locking, atomic writes
      selftest/   known answers of everything below, with their data (`kms-ref selftest`; the
                  daemon runs the fast part at start)
      tx/         transactions: serialize, sighash, sign, verify
      hd/         BIP39, BIP32, the chain table, addresses, Tatum's derivations
      encoding/   Base58Check, bech32/bech32m, CashAddr, WIF, script templates
      crypto/     primitives; the curve definition below its fast paths
      bench/      `python -m kms_ref.bench` (nothing imports it)
      pyz/        `python -m kms_ref.pyz`: the one-file kms-ref.pyz (nothing imports it)

Importing this package loads nothing else: every module is imported on demand. It checks the
Python version first, in code that every Python 3 can parse, so that an older Python prints one
line instead of a SyntaxError traceback from a module it cannot read.
"""

import sys

if sys.version_info < (3, 9):
    raise SystemExit("kms_ref needs Python 3.9 or newer")

__version__ = "0.1.0"
