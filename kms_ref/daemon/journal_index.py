"""The settled IDs of the journal's history, on disk: sorted runs looked up without loading them.

Every pending ID the journal ever saw settle (broadcast, failed, in doubt) has one record in a
*run*, a file sorted by a fixed-width key so that a lookup reads one 4 KiB block instead of the
history. A run never changes once written; newer runs hold newer records and win, and runs
are merged (`merge_records`) as they pile up — see `journal_compact.py`. Each run is
`settled-NNNNNNNN.idx` (big-endian integers):

    offset 0      header, one block of 4096 bytes:
                    magic         16  b"kms_ref settled\\x01"
                    count          8  number of records
                    fences_at      8  file offset of the fence keys
                    heap_at        8  file offset of the ID heap
                    (zeros up to 4096)
    4096          count records of 32 bytes, sorted by (key, id), 128 to a block:
                    key           16  SHA-256(UTF-8 id), first 16 bytes
                    state          1  b"B" broadcast, b"F" failed, b"D" in doubt, b"R" in doubt
                                      and reported, b"N" nothing (not-sent: it may be signed again)
                    id length      2  bytes of the UTF-8 id
                    id offset      5  where the id starts in the heap
                    first segment  4  number of the history segment with the ID's first event
                    last segment   4  ... and with its last event
    fences_at     the key of every 128th record (records 0, 128, 256, ...), 16 bytes each
    heap_at       the UTF-8 IDs, in record order

Why this shape: Tatum's IDs are 24-hex-character ObjectIds or UUIDs, but the daemon accepts
others, so the key is a hash of fixed width and the ID itself is kept in the heap: a lookup
compares the full ID of every record with the key it seeks, so two IDs whose hashes collide
are still told apart (exact, not probabilistic). The txid is not kept here — the record names
the history segments where the ID's events, txid included, are (`kms-ref journal ID` reads
them); the daemon needs only the state. A lookup bisects the fences (in memory: 16 bytes per
128 records, 125 KiB for a million IDs), reads the one block the key can be in with one
pread(2), and bisects it; a hit reads the ID from the heap. Nothing is mapped into memory, so
the process's RSS does not grow with the lookups of a long run.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import struct
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from kms_ref.daemon.journal_events import BROADCAST, FAILED, IN_DOUBT, Entry
from kms_ref.daemon.journal_store import replacement

MAGIC = b"kms_ref settled\x01"
HEADER = struct.Struct(">16sQQQ")
HEADER_SIZE = 4096
RECORD = struct.Struct(">16s1sH5sII")
RECORD_SIZE = RECORD.size          # 32
BLOCK_RECORDS = 128                # 4 KiB of records per fence
KEY_SIZE = 16
BROADCAST_CODE, FAILED_CODE, IN_DOUBT_CODE, REPORTED_CODE, NOTHING_CODE = b"B", b"F", b"D", b"R", b"N"

STATES = {BROADCAST_CODE: (BROADCAST, False), FAILED_CODE: (FAILED, False), IN_DOUBT_CODE: (IN_DOUBT, False),
          REPORTED_CODE: (IN_DOUBT, True), NOTHING_CODE: (None, False)}

# A record as the writer takes it and `records()` gives it back: (key, id bytes, state, first, last).
Record = Tuple[bytes, bytes, bytes, int, int]


def id_key(pending_id: bytes) -> bytes:
    return hashlib.sha256(pending_id).digest()[:KEY_SIZE]


class Run:
    """One run file, open for lookups (`get`) and for reading in order (`records`)."""

    def __init__(self, path: str):
        self.path = path
        self.name = os.path.basename(path)
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            magic, self.count, self._fences_at, self._heap_at = HEADER.unpack(os.pread(self._fd, HEADER.size, 0))
            if magic != MAGIC:
                raise ValueError("%s is not a kms_ref run of settled IDs" % path)
            blocks = -(-self.count // BLOCK_RECORDS)
            self._fences = os.pread(self._fd, blocks * KEY_SIZE, self._fences_at)
            if len(self._fences) != blocks * KEY_SIZE:
                raise ValueError("%s is truncated" % path)
        except BaseException:
            os.close(self._fd)
            raise

    def close(self) -> None:
        os.close(self._fd)

    def get(self, pending_id: bytes, key: Optional[bytes] = None) -> Optional[Tuple[bytes, int, int]]:
        """(state, first segment, last segment) of `pending_id`, or None when this run lacks it."""
        key = key or id_key(pending_id)
        fences, lo, hi = self._fences, 0, len(self._fences) // KEY_SIZE
        while lo < hi:   # the first block whose first key is >= key
            mid = (lo + hi) // 2
            if fences[mid * KEY_SIZE:(mid + 1) * KEY_SIZE] < key:
                lo = mid + 1
            else:
                hi = mid
        block = max(lo - 1, 0)   # equal keys may begin at the end of the block before
        while block * BLOCK_RECORDS < self.count:
            n = min(BLOCK_RECORDS, self.count - block * BLOCK_RECORDS)
            data = os.pread(self._fd, n * RECORD_SIZE, HEADER_SIZE + block * BLOCK_RECORDS * RECORD_SIZE)
            if len(data) != n * RECORD_SIZE:
                raise OSError("%s is truncated" % self.path)
            lo, hi = 0, n
            while lo < hi:
                mid = (lo + hi) // 2
                if data[mid * RECORD_SIZE:mid * RECORD_SIZE + KEY_SIZE] < key:
                    lo = mid + 1
                else:
                    hi = mid
            for i in range(lo, n):
                rkey, state, length, offset, first, last = RECORD.unpack_from(data, i * RECORD_SIZE)
                if rkey != key:
                    return None
                if os.pread(self._fd, length, self._heap_at + int.from_bytes(offset, "big")) == pending_id:
                    return state, first, last
            block += 1   # every record of this block was below the key, or equal and another ID
        return None

    def records(self) -> Iterator[Record]:
        """Every record in order, read sequentially (for merging runs)."""
        with open(self.path, "rb") as rec_file, open(self.path, "rb") as heap_file:
            rec_file.seek(HEADER_SIZE)
            heap_file.seek(self._heap_at)
            left = self.count
            while left:
                data = rec_file.read(min(left, 8192) * RECORD_SIZE)
                for i in range(len(data) // RECORD_SIZE):
                    key, state, length, _, first, last = RECORD.unpack_from(data, i * RECORD_SIZE)
                    yield key, heap_file.read(length), state, first, last
                left -= len(data) // RECORD_SIZE
                if not data:
                    raise ValueError("%s is truncated" % self.path)


def write_run(path: str, records: Iterable[Record], checkpoint=lambda: None) -> int:
    """Write `records` (sorted by (key, id), no repeats) as the run file `path`, atomically: a
    temporary file beside it, fsync, rename. The number of records written."""
    import tempfile   # here, not at the top: only compaction needs it, and it costs every start ~9 ms
    with replacement(path, checkpoint) as out, tempfile.TemporaryFile(dir=os.path.dirname(path)) as heap:
        out.write(bytes(HEADER_SIZE))
        out.flush()
        checkpoint()   # a torn temporary file
        fences, count, heap_size, buffer = [], 0, 0, []
        for key, pending_id, state, first, last in records:
            if count % BLOCK_RECORDS == 0:
                fences.append(key)
            buffer.append(RECORD.pack(key, state, len(pending_id), heap_size.to_bytes(5, "big"), first, last))
            heap.write(pending_id)
            heap_size += len(pending_id)
            count += 1
            if len(buffer) == 8192:
                out.write(b"".join(buffer))
                buffer = []
        out.write(b"".join(buffer))
        fences_at = HEADER_SIZE + count * RECORD_SIZE
        out.write(b"".join(fences))
        heap.seek(0)
        while True:
            chunk = heap.read(1 << 20)
            if not chunk:
                break
            out.write(chunk)
        out.seek(0)
        out.write(HEADER.pack(MAGIC, count, fences_at, fences_at + len(fences) * KEY_SIZE))
    return count


def merge_records(runs_oldest_first: List[Run]) -> Iterator[Record]:
    """The records of several runs as one sorted run: for an ID in more than one, the newest
    run's record, with the earliest first segment. "N" records are kept like the others: they
    are rare (not-sent), and they point `kms-ref journal ID` to the ID's history."""
    def ranked(rank, run):
        for key, pending_id, state, first, last in run.records():
            yield key, pending_id, rank, state, first, last

    newest_rank = len(runs_oldest_first)
    streams = [ranked(newest_rank - i, run) for i, run in enumerate(runs_oldest_first)]
    current = None
    for key, pending_id, _, state, first, last in heapq.merge(*streams):
        if current is not None and current[0] == key and current[1] == pending_id:
            current[3] = min(current[3], first)   # an older record of the same ID
            continue
        if current is not None:
            yield tuple(current)
        current = [key, pending_id, state, first, last]
    if current is not None:
        yield tuple(current)


def state_code(entry: Entry) -> bytes:
    if entry.state == IN_DOUBT:
        return REPORTED_CODE if entry.reported else IN_DOUBT_CODE
    return {BROADCAST: BROADCAST_CODE, FAILED: FAILED_CODE}.get(entry.state, NOTHING_CODE)


class Settled:
    """What the history says of an ID: the record of the newest run holding it (runs are
    searched newest first), and for an in-doubt ID its txid and chain (and whether it was reported), which
    the manifest keeps in "open" (`journal_store.py`)."""

    def __init__(self, runs: List[Run], open_ids: Dict[str, dict]):
        self.runs = runs             # oldest first
        self.open = open_ids

    def find(self, pending_id: str) -> Optional[Tuple[bytes, int, int]]:
        """(state code, first segment, last segment) of the newest record of the ID, or None."""
        encoded = pending_id.encode("utf-8")
        key = id_key(encoded)
        for run in reversed(self.runs):
            found = run.get(encoded, key)
            if found is not None:
                return found
        return None

    def entry(self, pending_id: str) -> Optional[Entry]:
        found = self.find(pending_id)
        if found is None:
            return None
        state, reported = STATES.get(found[0], (None, False))
        still_open = self.open.get(pending_id) or {}
        return Entry(state, reported, still_open.get("txid"), still_open.get("chain"), found[1], found[2])

    def close(self) -> None:
        for run in self.runs:
            run.close()
        self.runs = []
