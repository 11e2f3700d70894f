"""The daemon's broadcast journal: what kms_ref signed and broadcast (SPEC §5, "never twice").

SPEC §5: "A transaction is never signed and broadcast twice: kms_ref keeps a journal of what it
broadcast, so a restart mid-cycle cannot double-spend effort." tatum-kms keeps nothing and
relies on the API no longer listing what was broadcast; a crash between its broadcast and
Tatum's bookkeeping, or an API that still lists the transaction, makes it sign and send again.

The journal is `<wallet file>.journal` beside the wallet (0600): append-only, one JSON object
per line, each line flushed and fsync'ed before the daemon takes its next step:

    {"t": "2024-01-31T12:00:00.000Z", "id": "<pending id>", "event": "signing", "txid": "<computed>", "chain": "BTC"}
    {"t": ..., "id": ..., "event": "broadcast", "txId": "<the API's answer>"}

Events of one pending ID, and the state each leaves it in (`state`):

    signing     written BEFORE the broadcast request           → "in-doubt" until a result follows
    broadcast   the API accepted it (2xx), or the network has it → "broadcast"
    failed      the transaction itself was refused              → "failed"
    not-sent    not accepted, safe to retry (no connection; an  → None: a later cycle may retry
                auth, rate-limit or server error — a retry        (with the same bytes only)
                sends the same bytes)
    reported    an in-doubt ID was reported to the batch endpoint (so it is reported only once)

A "signing" line with no result after it means the daemon died, or lost the connection, while
the broadcast was on its way: the transaction may or may not be on the network. Such an ID —
like one broadcast or refused — is never signed or broadcast again by this wallet's daemon.

Reading tolerates a torn last line (a crash while writing it). That line can only be the last
thing the daemon did; if it was a "signing" line the broadcast had not started (it waits for the
fsync), and if it was a result the ID stays in-doubt — the safe side either way.

One daemon per journal: the daemon holds an exclusive flock(2) on the journal while it runs
(released when the process dies, SIGKILL included); a second one is refused with JournalLocked.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from datetime import datetime, timezone
from typing import Dict, List, Optional

from kms_ref.store.atomic_file import PRIVATE_FILE_MODE, make_private_dir

SIGNING, BROADCAST, FAILED, NOT_SENT, REPORTED = "signing", "broadcast", "failed", "not-sent", "reported"
IN_DOUBT = "in-doubt"
RESULTS = (BROADCAST, FAILED, NOT_SENT)
SUFFIX = ".journal"


class JournalError(ValueError):
    """The journal cannot be used; the message is meant for the user."""


class JournalLocked(JournalError):
    pass


def iso_now() -> str:
    """UTC time as JavaScript's Date#toISOString writes it: milliseconds and a Z."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def journal_path(wallet_path: str) -> str:
    """`<wallet file>.journal`, beside the file the wallet path resolves to."""
    return os.path.realpath(os.path.expanduser(wallet_path)) + SUFFIX


class Journal:
    """The journal at `path`. `open()` locks and reads it; `record` appends one event."""

    def __init__(self, path: str):
        self.path = path
        self._fd: Optional[int] = None
        self._state: Dict[str, Optional[str]] = {}    # id → None / in-doubt / broadcast / failed
        self._txid: Dict[str, str] = {}               # id → txid of its last "signing"
        self._reported: set = set()                   # in-doubt IDs already reported
        self.torn_lines = 0                           # unreadable lines found by open()

    def __enter__(self) -> "Journal":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> "Journal":
        make_private_dir(os.path.dirname(self.path))
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, PRIVATE_FILE_MODE)
        except OSError as e:
            raise JournalError("cannot open the journal %s: %s" % (self.path, e.strerror)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise JournalLocked("another kms_ref daemon is already running for this wallet "
                                    "(its journal %s is locked)" % self.path) from None
            raise JournalError("cannot lock the journal %s: %s" % (self.path, e.strerror)) from None
        self._fd = fd
        try:
            self._load()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)   # releases the lock
            self._fd = None

    def _load(self) -> None:
        chunks = []
        while True:
            chunk = os.read(self._fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        data = b"".join(chunks)
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                event = json.loads(line.decode("utf-8"))
                self._apply(event["id"], event["event"], event)
            except (ValueError, KeyError, TypeError):
                self.torn_lines += 1
        if data and not data.endswith(b"\n"):
            self._write(b"\n")   # end the torn line, so the next event starts a line of its own

    def _apply(self, pending_id: str, event: str, fields: dict) -> None:
        if not isinstance(pending_id, str):
            raise TypeError("id")
        if event == SIGNING:
            self._state[pending_id] = IN_DOUBT
            self._txid[pending_id] = fields.get("txid")
            self._reported.discard(pending_id)
        elif event == BROADCAST:
            self._state[pending_id] = BROADCAST
        elif event == FAILED:
            self._state[pending_id] = FAILED
        elif event == NOT_SENT:
            self._state[pending_id] = None
        elif event == REPORTED:
            self._reported.add(pending_id)

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise JournalError("the journal %s is not open" % self.path)
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
        except OSError as e:
            raise JournalError("cannot write the journal %s: %s" % (self.path, e.strerror)) from None

    def record(self, pending_id: str, event: str, **fields) -> None:
        """Append one event and make it durable (fsync) before returning."""
        entry = {"t": iso_now(), "id": pending_id, "event": event}
        entry.update(fields)
        self._write(json.dumps(entry, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n")
        self._apply(pending_id, event, entry)

    # -- questions -------------------------------------------------------------------------------

    def state(self, pending_id: str) -> Optional[str]:
        """None (never signed, or it surely never reached the API), "in-doubt", "broadcast" or
        "failed"."""
        return self._state.get(pending_id)

    def txid(self, pending_id: str) -> Optional[str]:
        """The txid computed when the ID was last signed."""
        return self._txid.get(pending_id)

    def reported(self, pending_id: str) -> bool:
        """Whether an in-doubt ID was already reported to the batch endpoint."""
        return pending_id in self._reported

    def in_doubt(self) -> List[str]:
        return [i for i, s in self._state.items() if s == IN_DOUBT]
