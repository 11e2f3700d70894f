"""The wallet file (SPEC §2): both formats, locking, atomic writes, errors.

    wallet_store.py  WalletStore and Wallet: open, read an entry, add/remove in a locked transaction
    native_file.py   kms_ref's own format: scrypt, AES-256-GCM per entry, HMAC over the file
    tatum_file.py    tatum-kms's format: CryptoJS/OpenSSL "Salted__" AES-256-CBC of the whole JSON
    atomic_file.py   temp file, fsync, rename, fsync of the directory; 0600 in 0700
    filelock.py      flock(2) on `<wallet>.lock`, shared for readers, exclusive for writers
    errors.py        StoreError and its cases (wrong password, damaged file, no such wallet)

Layer: may import `kms_ref.crypto`, `encoding`, `hd`, `tx` and the standard library; nothing
here knows about the network, the daemon or the command line. `kms_ref.store.WalletStore` is
the public name (re-exported here); code inside kms_ref imports `kms_ref.store.wallet_store`.
"""

from kms_ref.store.errors import StoreError
from kms_ref.store.wallet_store import DEFAULT_PATH, Wallet, WalletStore, convert, new_signature_id

__all__ = ["DEFAULT_PATH", "StoreError", "Wallet", "WalletStore", "convert", "new_signature_id"]
