"""Tatum's wallet.dat format (tatum-kms 8.x): `AES.encrypt(JSON.stringify(store), password)`.

SPEC §2: the file is the text CryptoJS prints — base64 of "Salted__" ‖ 8-byte salt ‖
AES-256-CBC ciphertext, key and IV from EVP_BytesToKey(MD5) over password ‖ salt (see
`kms_ref.crypto.openssl_salted`) — and the plaintext is the whole store as JSON.stringify writes
it: no spaces, non-ASCII characters as they are. Every write draws a new salt.

There is no integrity check in this format, so a wrong password and a damaged file can only be
told apart by what decryption gives:
- bad PKCS#7 padding: "Wrong password", tatum-kms's wording. Nearly every wrong password ends
  here (255 times in 256), and so does a damaged last block.
- good padding over plaintext that is not a UTF-8 JSON object: `WrongPasswordOrDamaged`,
  "Wrong password, or the wallet file is damaged". A change anywhere but the last block of the
  ciphertext garbles a block in the middle and leaves the padding intact; a wrong password
  lands here about one time in 256.
- text that is not such a container at all (bad base64, no "Salted__", a length that is not
  whole blocks): `DamagedFile`.
No message repeats any decrypted byte.

The whole file is decrypted on open. CBC decryption is parallel, and the byte-sliced AES
(`kms_ref.crypto.aes_sliced`) does all blocks of a round at once: the 3.5 MB of ciphertext of a
25,000-key file in ~0.3-0.4 s, then `json.loads` in ~0.05 s (python -m kms_ref.bench --flows
prints the whole command's time and memory).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from typing import Iterator, NamedTuple, Optional, Sequence, Tuple

from kms_ref.crypto.openssl_salted import decrypt_salted, openssl_encrypt
from kms_ref.store.errors import DamagedFile, WrongPassword

WRONG_PASSWORD_OR_DAMAGED = "Wrong password, or the wallet file is damaged"

SALTED_MAGIC = b"Salted__"
SALTED_PREFIX = base64.b64encode(SALTED_MAGIC)[:10]  # b"U2FsdGVkX1": how every such file begins


class WrongPasswordOrDamaged(WrongPassword):
    """The padding was right but the plaintext is not a UTF-8 JSON object: a wrong password
    (about one time in 256) or a damaged file. A WrongPassword, so callers treat it alike."""

    def __init__(self) -> None:
        ValueError.__init__(self, WRONG_PASSWORD_OR_DAMAGED)


class TatumRecord(NamedTuple):
    sig_id: str
    chain: Optional[str]
    testnet: Optional[bool]
    entry: dict


def stringify(store: dict) -> bytes:
    """JSON.stringify(store) as UTF-8 bytes (no spaces; non-ASCII kept, not escaped)."""
    return json.dumps(store, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _container(text: bytes) -> bytes:
    """The base64-decoded container; refuses text that is not base64 of "Salted__" ‖ salt ‖
    whole AES blocks."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DamagedFile("not base64") from None
    if not raw.startswith(SALTED_MAGIC) or len(raw) < 32 or len(raw) % 16:
        raise DamagedFile("not an OpenSSL salted container")
    return raw


class TatumFile:
    """A store in Tatum's format, fully decrypted in memory (`entries`, in stored order)."""

    name = "tatum"

    def __init__(self, password: bytes, entries: Optional[dict] = None):
        self._password = password
        self._entries = entries if entries is not None else {}

    def __repr__(self) -> str:
        return "<TatumFile entries=<redacted>>"

    def close(self) -> None:
        """Nothing to close: `open` read the whole file."""

    @classmethod
    def create(cls, password: bytes) -> "TatumFile":
        return cls(password)

    @classmethod
    def open(cls, fd: int, password: bytes) -> "TatumFile":
        raw = _container(_read_all(fd).strip())  # decoded once: 4.6 MB for 25,000 keys
        try:
            plaintext = decrypt_salted(raw, password)
        except ValueError:  # bad padding: the container was checked above
            raise WrongPassword() from None
        try:
            store = json.loads(plaintext.decode("utf-8"))
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the stack
            raise WrongPasswordOrDamaged() from None
        if not isinstance(store, dict):
            raise WrongPasswordOrDamaged()
        for sig_id, entry in store.items():
            if not isinstance(entry, dict):
                raise DamagedFile("entry %s is not a JSON object" % _shown(sig_id))
        return cls(password, store)

    def records(self) -> Iterator[TatumRecord]:
        for sig_id in self._entries:
            yield self._record(sig_id)

    def find(self, sig_id: str) -> Optional[TatumRecord]:
        return self._record(sig_id) if sig_id in self._entries else None

    def decrypt(self, record: TatumRecord) -> dict:
        return dict(record.entry)

    def decrypt_many(self, records: Sequence[TatumRecord]) -> list:
        return [dict(record.entry) for record in records]   # the file was decrypted whole

    def serialize(self, added: Sequence[Tuple[str, dict]], removed: frozenset) -> Iterator[bytes]:
        """The new file: `added` entries first, then the stored ones not in `removed`."""
        store = dict(added)
        for sig_id, entry in self._entries.items():
            if sig_id not in removed:
                store[sig_id] = entry
        yield openssl_encrypt(stringify(store), self._password).encode("ascii")

    def _record(self, sig_id: str) -> TatumRecord:
        entry = self._entries[sig_id]
        return TatumRecord(sig_id, entry.get("chain"), entry.get("testnet"), entry)


def _shown(sig_id: str) -> str:
    """A key of the decrypted store, repeated in a message only when it looks like a signature
    ID (hex groups joined by hyphens, as NoSuchWallet shows them): the key is decrypted text."""
    if len(sig_id) <= 48 and re.fullmatch(r"[0-9a-fA-F]+(-[0-9a-fA-F]+)*", sig_id):
        return sig_id
    return "<not shown: it does not look like a signature ID>"


def _read_all(fd: int) -> bytes:
    parts = []
    position = 0
    while True:
        part = os.pread(fd, 1 << 20, position)
        if not part:
            return b"".join(parts)
        parts.append(part)
        position += len(part)
