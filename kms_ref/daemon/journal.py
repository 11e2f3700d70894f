"""The daemon's broadcast journal: what kms_ref signed and broadcast (SPEC §5, "never twice").

SPEC §5: "A transaction is never signed and broadcast twice: kms_ref keeps a journal of what it
broadcast, so a restart mid-cycle cannot double-spend effort." tatum-kms keeps nothing and
relies on the API no longer listing what was broadcast; a crash between its broadcast and
Tatum's bookkeeping, or an API that still lists the transaction, makes it sign and send again.

The live journal is `<wallet file>.journal` beside the wallet (0600): append-only, one JSON
object per line:

    {"t": "2024-01-31T12:00:00.000Z", "id": "<pending id>", "event": "signing", "txid": "<computed>", "chain": "BTC"}
    {"t": ..., "id": ..., "event": "broadcast", "txId": "<the API's answer>"}

Events of one pending ID, and the state each leaves it in (`state`; `journal_events.py`):

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

Durability, with one fsync per broadcast instead of two, and none of them waited for in line:
the daemon writes a "signing" line with `intend`, which starts its fsync on a helper thread
(`journal_sync.py`) and returns; the daemon signs the next transaction meanwhile, and calls
`wait_durable` just before the request leaves, so the intent is on disk before the broadcast
starts. (`record` of a "signing" line does both at once.) Each fsync also covers every line
written before it. Every other line — a result, "reported" — is written at once and made
durable by the next intent's fsync or by `sync()`, which the daemon calls before it reports a
cycle's failures and at the end of each cycle. This is safe: a process that dies (SIGKILL
included) loses nothing it wrote; a power cut can lose only lines after the last fsync that
returned — intents whose requests were never sent (the daemon waits for that fsync), and
results — and an ID whose intent is there and whose result is lost is in doubt: never signed
again (reported once as "interrupted during broadcast"), never broadcast twice. The price of the
overlap: a daemon killed after writing an intent and before sending its request leaves that ID
in doubt too — at most the two transactions signed after the broadcast in flight (see
`kms_ref.daemon.cycle`), where waiting for each fsync in line left only the one whose fsync
had just returned.

Reading tolerates a torn last line (a crash while writing it). That line can only be the last
thing the daemon did; if it was a "signing" line the broadcast had not started (it waits for the
fsync), and if it was a result the ID stays in-doubt — the safe side either way.

History: the live journal holds only the lines written since the last compaction. The older
ones are in `<wallet file>.journal.d/` (`journal_store.py`): gzip'ed segments holding every line
ever written, byte for byte, and runs of settled IDs (`journal_index.py`) that tell whether an
ID was ever signed with one block read per run. `open()` reads the manifest and the live lines
only — start-up time and memory follow what is open, not the history — and compacts
(`journal_compact.py`) a live journal bigger than COMPACT_BYTES, or any journal that has no
history yet: one written by an older kms_ref is upgraded in place on the first start.
`compact_if_due()` compacts between cycles. Every ID ever journaled stays settled across compactions, crashes and restarts — as
long as the journal and its directory stay together: move, back up and restore them as one.

One daemon per journal: the daemon holds an exclusive flock(2) on the journal while it runs
(released when the process dies, SIGKILL included); a second one is refused with JournalLocked.
"""

from __future__ import annotations

import errno
import fcntl
import os
from typing import List, Optional

from kms_ref.daemon.journal_compact import COMPACT_BYTES, RUN_IDS, SEGMENT_BYTES, Compaction
from kms_ref.daemon.journal_events import (BROADCAST, FAILED, IN_DOUBT, MAX_ID_BYTES, NOT_SENT, REPORTED, RESULTS,
                                           SIGNING, Entry, Fold, encode_event, iso_now, parse_line)
from kms_ref.daemon.journal_index import Run, Settled
from kms_ref.daemon.journal_store import (MANIFEST, checkpoint, folded_prefix, history_dir, load_manifest,
                                          remove_garbage)
from kms_ref.daemon.journal_sync import BackgroundSync
from kms_ref.store.atomic_file import make_private_dir, open_regular

__all__ = ["BROADCAST", "FAILED", "IN_DOUBT", "NOT_SENT", "REPORTED", "RESULTS", "SIGNING", "SUFFIX",
           "Journal", "JournalError", "JournalLocked", "iso_now", "journal_path"]

SUFFIX = ".journal"
_datasync = getattr(os, "fdatasync", os.fsync)   # the data and the file's length, not its times


class JournalError(ValueError):
    """The journal cannot be used; the message is meant for the user."""


class JournalLocked(JournalError):
    pass


def journal_path(wallet_path: str) -> str:
    """`<wallet file>.journal`, beside the file the wallet path resolves to."""
    return os.path.realpath(os.path.expanduser(wallet_path)) + SUFFIX


class Journal:
    """The journal at `path`. `open()` locks it and reads what is open; `record` appends one
    event; `state`, `txid`, `reported` and `in_doubt` answer from the live lines, then the
    history."""

    def __init__(self, path: str, compact_bytes: int = COMPACT_BYTES, segment_bytes: int = SEGMENT_BYTES,
                 run_ids: int = RUN_IDS):
        self.path = path
        self.directory = history_dir(path)
        self.compact_bytes, self.segment_bytes, self.run_ids = compact_bytes, segment_bytes, run_ids
        self._fd: Optional[int] = None
        self._live = Fold(self._settled_entry)   # the IDs of the live lines
        self._settled = Settled([], {})          # the history's runs and open in-doubt IDs
        self._manifest = None
        self._start = self._size = 0             # the live lines are the file's bytes [start, size)
        self._written = 0                        # bytes written since open() (never reset)
        self._syncer = BackgroundSync(lambda fd: _datasync(fd))   # every fsync of the lines
        self._cached = (None, None)              # the last ID looked up in the history
        self.torn_lines = 0                      # unreadable lines found by open()
        self.compacted: Optional[dict] = None    # what open()'s compaction did, if it ran

    def __enter__(self) -> "Journal":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> "Journal":
        make_private_dir(os.path.dirname(self.path))
        try:
            fd = open_regular(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND)  # a FIFO: refused
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
        except OSError as e:
            self.close()
            raise JournalError("cannot read the journal %s: %s" % (self.path, e.strerror or e)) from None
        except ValueError as e:   # a history file that is not what its name says
            self.close()
            raise JournalError(str(e)) from None
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._fd is not None:
            try:
                self.sync()
            finally:
                self._syncer.stop()
                os.close(self._fd)   # releases the lock
                self._fd = None
                self._settled.close()

    def _load(self) -> None:
        try:
            self._manifest = load_manifest(self.directory)
        except ValueError as e:
            raise JournalError(str(e)) from None
        remove_garbage(self.directory, self._manifest)
        runs = [Run(os.path.join(self.directory, name)) for name in self._manifest.runs]
        self._settled = Settled(runs, dict(self._manifest.open))
        size = os.fstat(self._fd).st_size
        self._start = folded_prefix(lambda n, offset: os.pread(self._fd, n, offset), size, self._manifest.folded)
        if self._start == size > 0:   # a compaction died between its commit and the truncation
            os.ftruncate(self._fd, 0)
            os.fsync(self._fd)
            self._start = size = 0
        if size > self._start and os.pread(self._fd, 1, size - 1) != b"\n":
            self._write(b"\n")   # end the torn line, so the next event starts a line of its own
            size += 1
        self._size = size
        upgrade = size > 0 and not os.path.exists(os.path.join(self.directory, MANIFEST))   # an older kms_ref's
        if upgrade or size - self._start > self.compact_bytes:
            self.compacted = self.compact()
            self.torn_lines = self.compacted["unreadable"]
            return
        data = os.pread(self._fd, size - self._start, self._start)
        for line in data.split(b"\n"):
            if line.strip():
                event = parse_line(line)
                if event is None:
                    self.torn_lines += 1
                else:
                    self._live.apply(event["id"], event["event"], event)

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise JournalError("the journal %s is not open" % self.path)
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as e:
            raise JournalError("cannot write the journal %s: %s" % (self.path, e.strerror)) from None
        self._size += len(data)
        self._written += len(data)

    def sync(self) -> None:
        """Make every line written so far durable (one fsync, none when there is nothing new)."""
        if self._fd is not None:
            self._durable_up_to(self._written)

    def _durable_up_to(self, position: int) -> None:
        """Return once the first `position` bytes written are on disk. Every fsync runs on the
        helper thread (`journal_sync.py`), one at a time; one that failed fails every later call
        for the bytes it should have covered — a later fsync that succeeds does not make up for it."""
        try:
            self._syncer.request(self._fd, position)
            self._syncer.wait(position)
        except OSError as e:
            raise JournalError("cannot write the journal %s: %s" % (self.path, e.strerror)) from None

    def _append(self, pending_id: str, event: str, fields: dict) -> None:
        """Write one event's line, between two crash checkpoints."""
        if not isinstance(pending_id, str) or len(pending_id.encode("utf-8")) > MAX_ID_BYTES:
            raise JournalError("a pending ID must be a string of at most %d bytes" % MAX_ID_BYTES)
        line = encode_event(pending_id, event, fields)
        checkpoint()
        self._write(line)
        checkpoint()

    def record(self, pending_id: str, event: str, **fields) -> None:
        """Append one event. A "signing" line is durable (fsync'ed, with every line before it)
        when this returns; any other line is durable at the next "signing" or `sync()`."""
        self._append(pending_id, event, fields)
        if event == SIGNING:
            self.sync()
            checkpoint()
        self._live.apply(pending_id, event, fields)

    def intend(self, pending_id: str, **fields) -> int:
        """Append a "signing" line and start its fsync on the helper thread (`journal_sync.py`);
        the position to pass to `wait_durable` before the broadcast request may leave."""
        self._append(pending_id, SIGNING, fields)
        self._syncer.request(self._fd, self._written)
        self._live.apply(pending_id, SIGNING, fields)
        return self._written

    def wait_durable(self, position: int) -> None:
        """Return once every byte up to `position` (from `intend`) is on disk."""
        self._durable_up_to(position)
        checkpoint()

    # -- compaction --------------------------------------------------------------------------------

    def compact_if_due(self) -> Optional[dict]:
        """Compact when the live journal has grown past `compact_bytes`; what it did, or None."""
        return self.compact() if self._size - self._start > self.compact_bytes else None

    def compact(self) -> dict:
        """Move the live lines into the history (`journal_compact.py`); its statistics."""
        self.sync()
        job = Compaction(self._fd, self._start, self._size, self.directory, self._manifest,
                         self._settled.runs, self.segment_bytes, self.run_ids)
        try:
            self._manifest, runs = job.run()
        except OSError as e:
            raise JournalError("cannot compact the journal %s: %s" % (self.path, e.strerror or e)) from None
        self._settled = Settled(runs, dict(self._manifest.open))   # committed: the history holds it all
        self._live = Fold(self._settled_entry)
        self._cached = (None, None)
        self._start = self._size
        try:
            if job.truncate():
                self._start = self._size = 0
            job.finish()
        except OSError as e:   # committed already; open() or the next compaction finishes the job
            raise JournalError("the journal %s was compacted, but cleaning up failed: %s"
                               % (self.path, e.strerror or e)) from None
        return job.stats

    # -- questions -------------------------------------------------------------------------------

    def _settled_entry(self, pending_id: str) -> Optional[Entry]:
        if self._cached[0] != pending_id:
            self._cached = (pending_id, self._settled.entry(pending_id))
        return self._cached[1]

    def _entry(self, pending_id: str) -> Optional[Entry]:
        entry = self._live.entries.get(pending_id)
        return entry if entry is not None else self._settled_entry(pending_id)

    def state(self, pending_id: str) -> Optional[str]:
        """None (never signed, or it surely never reached the API), "in-doubt", "broadcast" or
        "failed"."""
        entry = self._entry(pending_id)
        return entry.state if entry else None

    def txid(self, pending_id: str) -> Optional[str]:
        """The txid computed when the ID was last signed (known while the ID is in the live
        journal, or in doubt: the daemon settles an in-doubt ID once the network shows its txid)."""
        entry = self._entry(pending_id)
        return entry.txid if entry else None

    def reported(self, pending_id: str) -> bool:
        """Whether an in-doubt ID was already reported to the batch endpoint."""
        entry = self._entry(pending_id)
        return bool(entry and entry.reported)

    def in_doubt(self) -> List[str]:
        """The in-doubt IDs not reported yet."""
        live = self._live.entries
        ids = [i for i, entry in live.items() if entry.state == IN_DOUBT and not entry.reported]
        return ids + [i for i, o in self._settled.open.items() if i not in live and not o.get("reported")]
