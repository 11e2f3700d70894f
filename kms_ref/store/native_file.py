"""kms_ref's own wallet file, version 1: scrypt, AES-256-GCM per entry, HMAC-SHA256 over all.

SPEC §2 asks for "a versioned envelope that names its KDF and parameters — scrypt from hashlib
with a random salt — and AES-256-GCM (hand-written) over the JSON". This is that envelope. It
is UTF-8 JSON Lines; every line is one JSON object written by `json.dumps(..., separators=(",",
":"))` with its keys in the order shown:

    {"format":"kms_ref-wallet","version":1,"kdf":{"name":"scrypt","n":2048,"r":8,"p":16,"dklen":64,"salt":"<16 bytes hex>"},"cipher":"AES-256-GCM","check":"<32 bytes hex>"}
    {"id":"<signature ID>","chain":"BTC","testnet":true,"nonce":"<12 bytes hex>","ciphertext":"<base64>"}
    ... one record line per wallet entry, in stored order ...
    {"mac":"<32 bytes hex>"}

Keys. scrypt(password, salt, n, r, p, dklen=64) gives 64 bytes: the entry key (first 32) and
the MAC key (last 32). The salt is random per file and kept on rewrites, so the stored entries
stay valid; only a new file (or a conversion) draws a new one.

Entries. Each entry (the JSON object kept under its signature ID, e.g. {"privateKey": ...,
"chain": "BTC", "testnet": true}) is encrypted on its own with AES-256-GCM under the entry key,
a random 96-bit nonce, and additional data ["kms_ref-wallet",1,id,chain,testnet] — so a
ciphertext cannot be moved to another ID or relabelled to another chain or network. Chain and
testnet also stand in clear on the record line: the daemon lists the IDs of one chain without
decrypting anything, and they are no secret (Tatum is told them). Mnemonic, xpub and private key
exist only inside the ciphertext. Why one ciphertext per entry: a command needs one entry, and
pure-Python AES costs 10-18 µs a block, so decrypting all of a 25,000-key file would take
seconds; here `getaddress` decrypts one record.

Checks, in this order, when a file is opened:
1. the header parses and its version is 1 (any other version: UnsupportedFormat);
2. "check" equals HMAC-SHA256(MAC key, CHECK_LABEL): else the password is wrong;
3. "mac" equals HMAC-SHA256(MAC key, every byte of the file before the "mac" line): else the
   file is damaged — a record removed, reordered, edited or added.
The MAC covers the bytes as they are, so no canonical re-serialization is needed to verify it,
and it is computed in 64 KiB blocks: opening a file never holds the whole file in memory.
A changed salt or scrypt parameter yields other keys and a changed check value no longer
matches: both surface as "Wrong password", which they cannot be told apart from.

scrypt parameters: n=2**11, r=8, p=16 take about 0.09 s on this project's 2-core box and
2 MiB (128·r·n bytes; the p lanes run one after another and add only 128·r·p bytes). The cap
is memory: `getaddress` must stay within 20 MiB of RSS in all, and a CPython that has loaded
hashlib (OpenSSL) and this package's modules already holds 15-18 MiB. n=2**12, r=8, p=8 costs
the same time but 4 MiB: opening a wallet and reading one entry then peaked at 20.2 MiB
against 18.3 MiB now (python3 -S, measured with /usr/bin/time). So the work is bought with p,
not n; the price is half an attacker's memory cost per guess at equal time. The parameters
are stored in the file, so a later version can raise them without a format change; files whose
parameters would need over 256 MiB, or over 64 times the default work, are refused before any
work ("scrypt parameters out of range").

Records are found by the start of their line, `{"id":"<id>",` — the writer emits exactly this
form, and the MAC has established that the writer was kms_ref. After opening, the file is read
through the same descriptor: writers replace the wallet by rename and never modify it in place,
so the open descriptor stays on the version that was verified.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import os
from typing import Iterator, NamedTuple, Optional, Sequence, Tuple

from kms_ref.crypto.gcm import GCM
from kms_ref.encoding.bounded_json import parse_json
from kms_ref.store.errors import DamagedFile, UnsupportedFormat, WrongPassword

FORMAT = "kms_ref-wallet"
VERSION = 1
CIPHER = "AES-256-GCM"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**11, 8, 16  # 2 MiB, ~0.09 s; see the module docstring
SALT_BYTES = 16
DKLEN = 64  # entry key (32) || MAC key (32)
NONCE_BYTES = 12  # 96-bit GCM nonce (NIST SP 800-38D §8.2.2, random construction)
CHECK_LABEL = b"kms_ref-wallet password check"
MAX_SCRYPT_MEMORY = 256 * 2**20  # refuse files that would need more (128·r·n bytes)
# Bounds checked before any work: an edited header ("p": 2000000) would otherwise hold every
# command, and a running daemon's reload, for hours. The work is ∝ n·r·p; the bound is 64 times
# the default (a few seconds), and each parameter has its own sane range besides.
SCRYPT_MAX_N, SCRYPT_MAX_R, SCRYPT_MAX_P = 2**20, 32, 64
SCRYPT_MAX_WORK = 64 * SCRYPT_N * SCRYPT_R * SCRYPT_P
BLOCK = 64 * 1024  # read size
HEADER_MAX = BLOCK  # the header line must fit in the first block
INDEX_AFTER = 2  # lookups by scanning before `find` builds an index
TRAILER_LENGTH = len(b'{"mac":""}\n') + 64


class Record(NamedTuple):
    """One record line, parsed; `ciphertext` includes the 16-byte GCM tag."""

    sig_id: str
    chain: str
    testnet: bool
    nonce: bytes
    ciphertext: bytes


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("ascii")


def _loads(line: bytes, what: str) -> dict:
    try:
        obj = parse_json(line, what)   # the header is read before the MAC is checked: bounded
    except ValueError:
        raise DamagedFile(f"{what} is not JSON") from None
    if not isinstance(obj, dict):
        raise DamagedFile(f"{what} is not a JSON object")
    return obj


def _unhex(value: object, length: int, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != length:
        raise DamagedFile(f"bad {what}")
    return raw


def derive_keys(password: bytes, salt: bytes, n: int, r: int, p: int) -> Tuple[bytes, bytes]:
    """scrypt (RFC 7914) → (entry key, MAC key)."""
    maxmem = 128 * r * (n + p + 2) + 2**20
    dk = hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=DKLEN, maxmem=maxmem)
    return dk[:32], dk[32:]


def entry_aad(sig_id: str, chain: str, testnet: bool) -> bytes:
    """GCM additional data: binds a ciphertext to its ID, chain and network."""
    return _dumps([FORMAT, VERSION, sig_id, chain, testnet])


def scrypt_params_in_range(n: int, r: int, p: int) -> bool:
    """n a power of two in [2, 2^20], r in [1, 32], p in [1, 64], at most 256 MiB of memory and
    64 times the default work: checked before scrypt runs, on reading and on creating a file."""
    return (2 <= n <= SCRYPT_MAX_N and n & (n - 1) == 0 and 1 <= r <= SCRYPT_MAX_R
            and 1 <= p <= SCRYPT_MAX_P and 128 * r * n <= MAX_SCRYPT_MEMORY
            and n * r * p <= SCRYPT_MAX_WORK)


def parse_kdf(kdf: object) -> Tuple[bytes, int, int, int]:
    """The header's "kdf" object → (salt, n, r, p), refusing what we would not write."""
    keys = ["name", "n", "r", "p", "dklen", "salt"]
    if not isinstance(kdf, dict) or list(kdf) != keys or kdf["name"] != "scrypt":
        raise DamagedFile("bad kdf")
    n, r, p = kdf["n"], kdf["r"], kdf["p"]
    if not all(type(v) is int and v >= 1 for v in (n, r, p)) or kdf["dklen"] != DKLEN:
        raise DamagedFile("bad scrypt parameters")
    if not scrypt_params_in_range(n, r, p):
        raise DamagedFile("scrypt parameters out of range")
    return _unhex(kdf["salt"], SALT_BYTES, "salt"), n, r, p


def _aad(record: Record) -> bytes:
    return entry_aad(record.sig_id, record.chain, record.testnet)


def _entry(record: Record, plaintext: bytes) -> dict:
    """The entry a record's authenticated plaintext holds; it must repeat the record's chain."""
    entry = _loads(plaintext, f"entry {record.sig_id}")
    if (entry.get("chain"), entry.get("testnet")) != (record.chain, record.testnet):
        raise DamagedFile(f"entry {record.sig_id} disagrees with its record")
    return entry


def parse_record(line: bytes) -> Record:
    obj = _loads(line, "record")
    if list(obj) != ["id", "chain", "testnet", "nonce", "ciphertext"]:
        raise DamagedFile("bad record")
    sig_id, chain, testnet = obj["id"], obj["chain"], obj["testnet"]
    if not (isinstance(sig_id, str) and isinstance(chain, str) and isinstance(testnet, bool)):
        raise DamagedFile("bad record")
    try:
        ciphertext = base64.b64decode(obj["ciphertext"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise DamagedFile(f"bad ciphertext of {sig_id}") from None
    return Record(sig_id, chain, testnet, _unhex(obj["nonce"], NONCE_BYTES, "nonce"), ciphertext)


class NativeFile:
    """A version-1 wallet: its header and keys, and (once opened) the descriptor its records are
    read from. Made by `create` (a new, empty wallet) or `open` (checks 1-3 above)."""

    name = "native"

    def __init__(self, header_line: bytes, entry_key: bytes, mac_key: bytes,
                 fd: Optional[int] = None, records_start: int = 0, records_end: int = 0):
        self._header_line = header_line
        self._gcm = GCM(entry_key)
        self._mac_key = mac_key
        self._fd = fd
        self._start, self._end = records_start, records_end  # [0, 0) for a new file
        self._closed = False
        self._scans = 0       # `find` calls answered by scanning
        self._index = None    # sig_id -> record line, once scanning stops paying

    def __repr__(self) -> str:
        return "<NativeFile keys=<redacted>>"

    def close(self) -> None:
        """Close the descriptor handed to `open`; the records cannot be read after this."""
        if self._fd is not None and not self._closed:
            os.close(self._fd)
        self._closed = True

    @classmethod
    def create(cls, password: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R,
               p: int = SCRYPT_P) -> "NativeFile":
        if not scrypt_params_in_range(n, r, p):
            raise ValueError("scrypt parameters out of range")
        salt = os.urandom(SALT_BYTES)
        entry_key, mac_key = derive_keys(password, salt, n, r, p)
        header = {
            "format": FORMAT,
            "version": VERSION,
            "kdf": {"name": "scrypt", "n": n, "r": r, "p": p, "dklen": DKLEN, "salt": salt.hex()},
            "cipher": CIPHER,
            "check": hmac.digest(mac_key, CHECK_LABEL, "sha256").hex(),
        }
        return cls(_dumps(header) + b"\n", entry_key, mac_key)

    @classmethod
    def open(cls, fd: int, password: bytes) -> "NativeFile":
        """Check the file behind `fd`. On success the NativeFile owns `fd` (see `close`)."""
        first = os.pread(fd, HEADER_MAX, 0)
        header_end = first.find(b"\n") + 1
        if header_end == 0:
            raise DamagedFile("no header line")
        header = _loads(first[:header_end], "header")
        if header.get("format") != FORMAT:
            raise UnsupportedFormat("not a kms_ref wallet file")
        if type(header.get("version")) is not int or header["version"] != VERSION:
            raise UnsupportedFormat(f"wallet file version {header.get('version')!r} is not "
                                    f"supported (this kms_ref reads version {VERSION})")
        if list(header) != ["format", "version", "kdf", "cipher", "check"] \
                or header["cipher"] != CIPHER:
            raise DamagedFile("bad header")
        salt, n, r, p = parse_kdf(header["kdf"])
        check = _unhex(header["check"], 32, "password check")
        entry_key, mac_key = derive_keys(password, salt, n, r, p)
        if not hmac.compare_digest(hmac.digest(mac_key, CHECK_LABEL, "sha256"), check):
            raise WrongPassword()
        size = os.fstat(fd).st_size
        trailer_start = size - TRAILER_LENGTH
        if trailer_start < header_end:
            raise DamagedFile("no MAC line")
        trailer = _loads(os.pread(fd, TRAILER_LENGTH, trailer_start), "MAC line")
        if list(trailer) != ["mac"]:
            raise DamagedFile("bad MAC line")
        mac = hmac.new(mac_key, digestmod="sha256")
        for block in _blocks(fd, 0, trailer_start):
            mac.update(block)
        if not hmac.compare_digest(mac.digest(), _unhex(trailer["mac"], 32, "MAC")):
            raise DamagedFile("MAC mismatch")
        return cls(first[:header_end], entry_key, mac_key, fd, header_end, trailer_start)

    # -- reading -------------------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        """Every record, in stored order (parses each line; decrypts nothing). A walk to the end
        leaves `find` its index, which would otherwise parse every line again: the daemon lists
        a chain's IDs, then looks up those with pending transactions."""
        index = {} if self._index is None else None
        for line in self._lines():
            record = parse_record(line)
            if index is not None:
                index[record.sig_id] = line
            yield record
        if index is not None:
            self._index = index

    def find(self, sig_id: str) -> Optional[Record]:
        """The record of `sig_id`, or None. A one-shot command looks up an ID or two, which a
        scan for the line's prefix answers fastest (10 ms at 25,000 entries, nothing parsed);
        the daemon looks up hundreds per cycle, so the third lookup indexes every line once."""
        if self._index is None and self._scans < INDEX_AFTER:
            self._scans += 1
            prefix = b'{"id":' + _dumps(sig_id) + b","
            for line in self._lines():
                if line.startswith(prefix):
                    return parse_record(line)
            return None
        if self._index is None:
            self._index = {_loads(line, "a record")["id"]: line for line in self._lines()}
        line = self._index.get(sig_id)
        return None if line is None else parse_record(line)

    def decrypt(self, record: Record) -> dict:
        """The entry inside `record`: GCM-decrypted, tag and additional data checked."""
        try:
            plaintext = self._gcm.decrypt(record.nonce, record.ciphertext, _aad(record))
        except ValueError:
            raise DamagedFile(f"entry {record.sig_id} does not authenticate") from None
        return _entry(record, plaintext)

    def decrypt_many(self, records: Sequence[Record]) -> list:
        """`decrypt` of each record, all in one pass (`GCM.decrypt_many`), with None where that
        record's `decrypt` would raise DamagedFile."""
        plaintexts = self._gcm.decrypt_many([(r.nonce, r.ciphertext, _aad(r)) for r in records])
        out = []
        for record, plaintext in zip(records, plaintexts):
            try:
                out.append(None if plaintext is None else _entry(record, plaintext))
            except DamagedFile:
                out.append(None)
        return out

    def _lines(self) -> Iterator[bytes]:
        """The record lines without their newline. Reads with pread at explicit offsets, so
        several iterations may run at once."""
        if self._closed:
            raise ValueError("the wallet is closed")
        rest = b""
        for block in _blocks(self._fd, self._start, self._end):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield from lines
        if rest:
            raise DamagedFile("truncated record")

    # -- writing -------------------------------------------------------------------------------

    def seal(self, sig_id: str, entry: dict) -> bytes:
        """The record line (with its newline) that stores `entry` under `sig_id`."""
        chain, testnet = entry["chain"], entry["testnet"]
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        ciphertext = self._gcm.encrypt(nonce, plaintext, entry_aad(sig_id, chain, testnet))
        record = {"id": sig_id, "chain": chain, "testnet": testnet, "nonce": nonce.hex(),
                  "ciphertext": base64.b64encode(ciphertext).decode("ascii")}
        return _dumps(record) + b"\n"

    def serialize(self, added: Sequence[Tuple[str, dict]], removed: frozenset) -> Iterator[bytes]:
        """The bytes of the new file, in pieces: header, the `added` entries (sealed now), the
        stored records not in `removed` (copied as they are), and the MAC line."""
        mac = hmac.new(self._mac_key, digestmod="sha256")
        pieces = itertools.chain([self._header_line], (self.seal(i, e) for i, e in added),
                                 self._kept_records(removed))
        for piece in pieces:
            mac.update(piece)
            yield piece
        yield _dumps({"mac": mac.hexdigest()}) + b"\n"

    def _kept_records(self, removed: frozenset) -> Iterator[bytes]:
        if self._closed:
            raise ValueError("the wallet is closed")
        if not removed:
            yield from _blocks(self._fd, self._start, self._end)
            return
        for line in self._lines():
            if parse_record(line).sig_id not in removed:
                yield line + b"\n"


def _blocks(fd: int, start: int, end: int) -> Iterator[bytes]:
    """The bytes of `fd` in [start, end), BLOCK at a time."""
    position = start
    while position < end:
        block = os.pread(fd, min(BLOCK, end - position), position)
        if not block:
            raise DamagedFile("file shorter than expected")
        position += len(block)
        yield block
