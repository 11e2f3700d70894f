"""The encrypted wallet store of SPEC §2: one file, two formats, locked, written atomically.

Decrypted, a store is a JSON object keyed by signature ID (a UUID4 string):

    {"<id>": {"mnemonic": "...", "xpub": "...", "chain": "BTC", "testnet": true},
     "<id>": {"privateKey": "<WIF>", "chain": "BTC", "testnet": true}}

On disk it is in kms_ref's own format (`native_file`: scrypt, AES-256-GCM per entry, a MAC
over the file; the default for new files) or in Tatum's (`tatum_file`: CryptoJS's "Salted__"
AES-256-CBC text of the whole JSON). The format is detected on every read and kept on every
write; `convert` changes it.

    store = WalletStore("~/.tatumrc/wallet.dat")
    with store.open(password) as wallet:            # shared lock while reading
        entry = wallet.get(sig_id)                  # decrypts this entry only
    with store.transaction(password) as wallet:     # exclusive lock until written
        sig_id = wallet.add({"privateKey": wif, "chain": "BTC", "testnet": True})

`transaction` holds an exclusive lock (`filelock`) from the read to the write, so two processes
adding at once both keep their entries, and writes back only if the wallet changed and the
with-block raised nothing, through `atomic_file` (temp file, fsync, rename: a crash leaves the
old file or the new one). A wrong password or any error leaves the file byte for byte as it was.

New entries go first, as in tatum-kms, which stores `{...newEntry, ...existingStore}`: its
`export` lists the newest wallet first, and so does kms_ref's.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, List, Optional, Tuple, Union

from kms_ref.store.atomic_file import make_private_dir, open_regular, remove_stale_temps, write_atomic
from kms_ref.store.filelock import DEFAULT_TIMEOUT, locked
from kms_ref.store.errors import NoSuchWallet, StoreError
from kms_ref.store.native_file import SCRYPT_N, SCRYPT_P, SCRYPT_R, NativeFile
from kms_ref.store.tatum_file import SALTED_PREFIX, TatumFile

__all__ = ["DEFAULT_PATH", "StoreError", "Wallet", "WalletStore", "convert"]

DEFAULT_PATH = "~/.tatumrc/wallet.dat"  # SPEC §2
DEFAULT_DIR = "~/.tatumrc"  # the only directory kms_ref creates (0700); any other must exist
FORMATS = ("native", "tatum")
Password = Union[str, bytes]


def _password_bytes(password: Password) -> bytes:
    """The password as CryptoJS hashes it: UTF-8. A password that is not valid UTF-8 (an
    environment variable or piped input with stray bytes arrives as surrogate escapes) is refused
    without naming its bytes — the codec's own message would quote one, and its position."""
    if not isinstance(password, str):
        return bytes(password)
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError("the password is not valid UTF-8 text (its bytes are not shown)") from None


class Wallet:
    """The entries of one opened store. Entries are decrypted when asked for, each at most once
    while the wallet is open; `add` and `remove` take effect on disk only at the end of a
    `WalletStore.transaction`."""

    def __init__(self, backend, path: str):
        self._backend = backend  # a NativeFile or a TatumFile
        self._path = path
        self._added: Dict[str, dict] = {}  # in order of add(); stored newest first
        self._removed: set = set()
        self._plain: Dict[str, dict] = {}  # decrypted entries

    def __repr__(self) -> str:
        return f"<Wallet {self._path!r} format={self.format} entries=<redacted>>"

    def __enter__(self) -> "Wallet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._backend.close()

    @property
    def format(self) -> str:
        """"native" or "tatum"."""
        return self._backend.name

    def __contains__(self, sig_id: str) -> bool:
        return sig_id in self._added or (sig_id not in self._removed
                                         and self._backend.find(sig_id) is not None)

    def ids(self) -> List[str]:
        """Every signature ID, in stored order."""
        return [sig_id for sig_id, _, _ in self._metas()]

    def ids_for(self, chain: str, testnet: bool) -> List[str]:
        """The signature IDs of one chain and network (decrypts nothing)."""
        return [i for i, c, t in self._metas() if c == chain and t == testnet]

    def meta(self, sig_id: str) -> Tuple[Optional[str], Optional[bool]]:
        """(chain, testnet) of one entry (decrypts nothing)."""
        if sig_id in self._added:
            entry = self._added[sig_id]
            return entry["chain"], entry["testnet"]
        record = None if sig_id in self._removed else self._backend.find(sig_id)
        if record is None:
            raise NoSuchWallet(sig_id)
        return record.chain, record.testnet

    def get(self, sig_id: str) -> dict:
        """The entry stored under `sig_id` (a copy), decrypting it if not done yet."""
        if sig_id in self._added:
            return dict(self._added[sig_id])
        if sig_id not in self._plain:
            record = None if sig_id in self._removed else self._backend.find(sig_id)
            if record is None:
                raise NoSuchWallet(sig_id)
            self._plain[sig_id] = self._backend.decrypt(record)
        return dict(self._plain[sig_id])

    def prefetch(self, sig_ids: Iterable[str]) -> None:
        """Decrypt the stored entries of `sig_ids` now, together (`NativeFile.decrypt_many`: one
        byte-sliced pass for all their key streams), so that `get` finds them decrypted: the
        daemon does so for the entries a cycle's transactions name. IDs the wallet lacks and
        entries that do not decrypt are skipped here; `get` reports them."""
        wanted = [i for i in dict.fromkeys(sig_ids)
                  if i not in self._added and i not in self._removed and i not in self._plain]
        records = [r for r in map(self._backend.find, wanted) if r is not None]
        for record, entry in zip(records, self._backend.decrypt_many(records)):
            if entry is not None:
                self._plain[record.sig_id] = entry

    def to_dict(self) -> dict:
        """The whole store, decrypted, in stored order (one pass over the file)."""
        store = {sig_id: dict(entry) for sig_id, entry in reversed(self._added.items())}
        for record in self._backend.records():
            if record.sig_id in self._removed:
                continue
            if record.sig_id not in self._plain:
                self._plain[record.sig_id] = self._backend.decrypt(record)
            store[record.sig_id] = dict(self._plain[record.sig_id])
        return store

    def add(self, entry: dict) -> str:
        """Store `entry` under a new signature ID (UUID4) and return the ID. The entry needs
        "chain" (a string) and "testnet" (a boolean); every value is a string or a boolean."""
        _check_entry(entry)
        # 122 random bits: a collision with a stored ID is not checked (it would cost a pass
        # over the file per add).
        sig_id = new_signature_id()
        self._added[sig_id] = dict(entry)
        return sig_id

    def remove(self, sig_id: str) -> None:
        if sig_id in self._added:
            del self._added[sig_id]
        elif sig_id in self:
            self._removed.add(sig_id)
            self._plain.pop(sig_id, None)
        else:
            raise NoSuchWallet(sig_id)

    @property
    def changed(self) -> bool:
        return bool(self._added or self._removed)

    def _metas(self) -> Iterator[Tuple[str, Optional[str], Optional[bool]]]:
        for sig_id, entry in reversed(self._added.items()):
            yield sig_id, entry["chain"], entry["testnet"]
        for record in self._backend.records():
            if record.sig_id not in self._removed:
                yield record.sig_id, record.chain, record.testnet

    def _serialize(self) -> Iterator[bytes]:
        """The new file content, in the backend's format."""
        added = list(reversed(self._added.items()))
        return self._backend.serialize(added, frozenset(self._removed))


def new_signature_id() -> str:
    """A random UUID, RFC 4122 §4.4 (version 4), as tatum-kms's uuid.v4() makes them. Written
    out rather than `uuid.uuid4()` to spare the `uuid` module's memory (see native_file on
    the 20 MiB budget of `getaddress`)."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40  # version 4 in the high nibble of time_hi_and_version
    b[8] = (b[8] & 0x3F) | 0x80  # variant 10 in clock_seq_hi_and_reserved
    h = b.hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _check_entry(entry: dict) -> None:
    if not isinstance(entry, dict):
        raise ValueError("a wallet entry is a JSON object")
    if not isinstance(entry.get("chain"), str) or not isinstance(entry.get("testnet"), bool):
        raise ValueError('a wallet entry needs "chain" (a string) and "testnet" (a boolean)')
    for key, value in entry.items():
        if not isinstance(key, str) or not isinstance(value, (str, bool)):
            raise ValueError(f"wallet entry field {key!r} is not a string or a boolean")


class WalletStore:
    """The wallet file at `path` (and its lock file `<path>.lock`). The path is resolved through
    symlinks, so that a write replaces the file a link points to, not the link. Waiting for
    another process's lock gives up after `lock_timeout` seconds."""

    def __init__(self, path: str = DEFAULT_PATH, lock_timeout: float = DEFAULT_TIMEOUT):
        self.path = os.path.expanduser(path)
        self.lock_timeout = lock_timeout
        self._target = os.path.realpath(self.path)
        self._lock_path = self._target + ".lock"

    def __repr__(self) -> str:
        return f"WalletStore({self.path!r})"

    def exists(self) -> bool:
        return os.path.exists(self._target)

    def stamp(self):
        """(device, inode, size, mtime) of the file, None if it cannot be read: what changes
        whenever the wallet is rewritten, since writers replace the file whole (by rename)."""
        try:
            st = os.stat(self._target)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def format(self) -> Optional[str]:
        """"native", "tatum", or None if there is no file. (No lock needed: writers replace
        the file whole, so its first bytes are always those of one complete version.)"""
        fd = self._open_fd(missing_ok=True)
        if fd is None:
            return None
        try:
            return self._detect(fd)
        finally:
            os.close(fd)

    def open(self, password: Password) -> Wallet:
        """Open for reading: checks the password (and, for kms_ref's format, the whole file's
        MAC) and decrypts nothing else. Close the wallet when done (or use `with`)."""
        with self._lock(exclusive=False):
            fd = self._open_fd()
            return Wallet(self._load(fd, _password_bytes(password)), self.path)

    def open_stamped(self, password: Password) -> Tuple[Optional[tuple], Wallet]:
        """(stamp, wallet): `open`, with the file's `stamp` taken just before, so that whoever
        compares stamps later (the daemon, to reload a changed wallet) sees a rewrite that
        happened while this one opened."""
        stamp = self.stamp()
        return stamp, self.open(password)

    @contextmanager
    def transaction(self, password: Password, create_format: str = "native",
                    scrypt_params: Optional[Tuple[int, int, int]] = None) -> Iterator[Wallet]:
        """Read-modify-write under an exclusive lock. Yields a Wallet; writes it back if it
        changed and the with-block raised nothing. A missing file is created (in `create_format`,
        with `scrypt_params` = (n, r, p) for kms_ref's format): the password of its first use is
        its password."""
        password = _password_bytes(password)
        _check_format(create_format)
        self._make_directory()
        with self._lock(exclusive=True):
            fd = self._open_fd(missing_ok=True)
            if fd is None:
                backend = _new_backend(create_format, password, scrypt_params)
            else:
                backend = self._load(fd, password)
            with Wallet(backend, self.path) as wallet:
                yield wallet
                if wallet.changed:
                    self._write(wallet._serialize())

    def convert(self, password: Password, to: str,
                scrypt_params: Optional[Tuple[int, int, int]] = None) -> None:
        """Rewrite the file in format `to` ("native" or "tatum") with the same entries in the
        same order. Nothing happens if it is in that format already."""
        password = _password_bytes(password)
        _check_format(to)
        with self._lock(exclusive=True):
            with Wallet(self._load(self._open_fd(), password), self.path) as wallet:
                if wallet.format == to:
                    return
                entries = list(wallet.to_dict().items())
            target = _new_backend(to, password, scrypt_params)
            self._write(target.serialize(entries, frozenset()))

    # -- file access ---------------------------------------------------------------------------

    def _make_directory(self) -> None:
        """Create the wallet's directory if it is the default one (~/.tatumrc, mode 0700). Any
        other directory must exist: `--path a/b/c/w.dat` with a typo must not silently start a
        new wallet in a tree of new directories, and a directory the user made is never chmod'ed."""
        directory = os.path.dirname(self._target)
        if os.path.isdir(directory):
            return
        if directory != os.path.realpath(os.path.expanduser(DEFAULT_DIR)):
            raise StoreError(f"the directory of wallet file {self.path} does not exist; create it "
                             f"first (kms_ref creates only {DEFAULT_DIR})")
        try:
            make_private_dir(directory)
        except OSError as e:
            raise StoreError(f"cannot create {directory}: {e.strerror}") from None

    @contextmanager
    def _lock(self, exclusive: bool) -> Iterator[None]:
        """Exclusive for writers; shared, and only if the lock file can be made, for readers."""
        acquired = False
        try:
            with locked(self._lock_path, exclusive, self.lock_timeout, required=exclusive):
                acquired = True
                yield
        except TimeoutError as e:
            if acquired:  # raised inside the with-block, not by the lock
                raise
            raise StoreError(f"wallet file {self.path} is locked: {e}") from None

    def _open_fd(self, missing_ok: bool = False) -> Optional[int]:
        """The wallet file, opened for reading; a FIFO (or a device) at the path is refused
        instead of blocking open() forever (`atomic_file.open_regular`)."""
        try:
            return open_regular(self._target)
        except FileNotFoundError:
            if missing_ok:
                return None
            raise StoreError(f"wallet file {self.path} does not exist") from None
        except OSError as e:
            raise StoreError(f"wallet file {self.path} is not readable: {e.strerror}") from None

    def _detect(self, fd: int) -> str:
        head = os.pread(fd, 64, 0).lstrip()
        if not head:
            raise StoreError(f"wallet file {self.path} is empty")
        if head.startswith(b"{"):
            return "native"
        if head.startswith(SALTED_PREFIX):
            return "tatum"
        raise StoreError(f"wallet file {self.path} is neither a kms_ref nor a Tatum wallet file")

    def _load(self, fd: int, password: bytes):
        """The backend for the open file `fd`. It takes `fd` over (kms_ref's format reads
        entries from it later); on error, or for Tatum's format, `fd` is closed here."""
        try:
            backend_class = NativeFile if self._detect(fd) == "native" else TatumFile
            backend = backend_class.open(fd, password)
        except BaseException:
            os.close(fd)
            raise
        if isinstance(backend, TatumFile):
            os.close(fd)
        return backend

    def _write(self, chunks: Iterator[bytes]) -> None:
        try:
            remove_stale_temps(self._target)
            write_atomic(self._target, chunks)
        except OSError as e:
            raise StoreError(f"wallet file {self.path} could not be written: {e.strerror}") \
                from None


def _check_format(name: str) -> None:
    if name not in FORMATS:
        raise ValueError(f"unknown wallet file format {name!r} (use 'native' or 'tatum')")


def _new_backend(name: str, password: bytes, scrypt_params: Optional[Tuple[int, int, int]]):
    """An empty store in format `name`, not yet on disk."""
    if name == "native":
        return NativeFile.create(password, *(scrypt_params or (SCRYPT_N, SCRYPT_R, SCRYPT_P)))
    return TatumFile.create(password)


def convert(path: str, password: Password, to: str) -> None:
    """Convert the wallet file at `path` to format `to` ("native" or "tatum")."""
    WalletStore(path).convert(password, to)
