"""Compaction: the live journal's lines move into history segments, its settled IDs into runs.

The live journal J (`journal.py`) holds the lines written since the last compaction; the
daemon compacts it at start and between cycles once it passes `COMPACT_BYTES`, and a journal
written by an older kms_ref (all its history in J) on the first start. For the live bytes
J[start:end], in this order:

    1 segments  J[start:end] in pieces of at most SEGMENT_BYTES cut at line ends, each written
                gzip'ed as the next history segment (`journal_store.py`); its events folded
                per ID (`journal_events.Fold`), with the segments of each ID's first and last
                event
    2 runs      each time RUN_IDS IDs are folded, and at the end, the folded IDs sorted into a
                new run (`journal_index.py`), and the manifest's "open" updated in memory
    3 merges    the newest runs merged into one, in one pass, while the run before them holds
                at most twice as many records as they do together: run sizes grow at least
                geometrically, so there are O(log(history / COMPACT_BYTES)) runs to search and
                each record is rewritten O(log) times; the equal runs of an upgrade merge at once
    4 commit    manifest.json replaced: "next" past the new files, the runs, "folded" =
                {end, SHA-256 of J[:end]}, "open"; then the directory fsync'ed
    5 truncate  J cut to zero bytes and fsync'ed
    6 clean up  the runs merged away deleted

A SIGKILL or power cut at any point leaves the old state or the new, each complete:
- before 4's rename the manifest is the old one. It names none of the new files (segments are
  numbered from its "next", runs are not in its list): readers ignore them and the next start
  deletes them. J is untouched. The old state.
- from 4's rename on, the new manifest names segments and runs that hold all of J[:end] (each
  file was fsync'ed before its rename, and the renames before the commit by the directory
  fsync), and "folded" says that J's first `end` bytes are in them: until 5, J still starts
  with exactly those bytes (same length, same SHA-256), and readers skip them. The new state.
  4's directory fsync comes before 5, so after a power cut a truncated J always comes with the
  manifest that folded it. A run merged away is garbage from 4 on, deleted in 6 or at start.
Lines are copied into segments byte for byte, torn ones too: the history loses nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from typing import List, Tuple

from kms_ref.daemon.journal_events import IN_DOUBT, Fold, parse_line
from kms_ref.daemon.journal_index import Run, Settled, id_key, merge_records, state_code, write_run
from kms_ref.daemon.journal_store import (Manifest, checkpoint, make_history_dir, remove_garbage, run_name,
                                          save_manifest, segment_name, time_digits, write_file)

COMPACT_BYTES = 1 << 20     # the daemon compacts J once it is bigger (about 3,000 transactions)
SEGMENT_BYTES = 4 << 20     # the most of J one history segment holds (about 1 MiB gzip'ed)
RUN_IDS = 50_000            # IDs folded in memory before they are written as a run (~30 MiB)
ISO_LENGTH = len("2024-01-31T12:00:00.000Z")
GZIP_LEVEL = 1             # journal lines are mostly hex: level 6 saves 10% of the bytes at 2.5x the time


class Compaction:
    """One compaction of J[start:end] into the history in `directory` (see the module docstring).
    `run()` returns the new manifest and runs; the old runs stay open until `finish()`."""

    def __init__(self, fd: int, start: int, end: int, directory: str, manifest: Manifest, runs: List[Run],
                 segment_bytes: int = SEGMENT_BYTES, run_ids: int = RUN_IDS):
        self.fd, self.start, self.end, self.directory = fd, start, end, directory
        self.manifest, self.runs = manifest, list(runs)
        self.segment_bytes, self.run_ids = segment_bytes, run_ids
        self.next = manifest.next
        self.open = dict(manifest.open)
        self.new_runs: List[Run] = []         # written by this compaction (some may be merged away)
        self.retired: List[Run] = []          # merged away: deleted once the commit is done
        self.fold = self._new_fold()
        self.stats = {"bytes": end - start, "lines": 0, "unreadable": 0, "segments": 0, "runs": 0, "merged": 0}

    def run(self) -> Tuple[Manifest, List[Run]]:
        started = time.monotonic()
        make_history_dir(self.directory)
        remove_garbage(self.directory, self.manifest)
        try:
            digest = self._hash_before_start()
            for piece in self._pieces():
                digest.update(piece)
                self._segment(piece)                                     # 1
                if len(self.fold.entries) >= self.run_ids:
                    self._flush()                                        # 2
            self._flush()
            self._merge_tail()                                           # 3
            checkpoint()
            manifest = Manifest(self.next, tuple(run.name for run in self.runs),
                                {"bytes": self.end, "sha256": digest.hexdigest()}, self.open)
            save_manifest(self.directory, manifest)                      # 4
        except BaseException:
            for run in self.new_runs:
                run.close()
            raise
        self.stats["seconds"] = round(time.monotonic() - started, 3)
        return manifest, self.runs

    def truncate(self) -> bool:
        """5: cut J to nothing, if nothing was appended since `end`. Whether it was cut."""
        if os.fstat(self.fd).st_size != self.end:
            return False
        os.ftruncate(self.fd, 0)
        os.fsync(self.fd)
        checkpoint()
        return True

    def finish(self) -> None:
        """6: close and delete the runs merged away."""
        for run in self.retired:
            run.close()
            try:
                os.unlink(run.path)
            except FileNotFoundError:
                pass
            checkpoint()

    # -- the steps ---------------------------------------------------------------------------------

    def _hash_before_start(self):
        digest = hashlib.sha256()
        position = 0
        while position < self.start:
            chunk = os.pread(self.fd, min(1 << 20, self.start - position), position)
            if not chunk:
                raise OSError("the live journal shrank during compaction")
            digest.update(chunk)
            position += len(chunk)
        return digest

    def _pieces(self):
        """J[start:end] in pieces of at most `segment_bytes`, each ending at a line end (a
        line longer than that makes a longer piece; the last piece ends where J ends)."""
        position, carry = self.start, b""
        while position < self.end:
            chunk = os.pread(self.fd, min(self.segment_bytes, self.end - position), position)
            if not chunk:
                raise OSError("the live journal shrank during compaction")
            position += len(chunk)
            data = carry + chunk
            cut = len(data) if position >= self.end else data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                yield data[:cut]

    def _segment(self, piece: bytes) -> None:
        number, first, last = self.next, None, None
        self.next += 1
        for line in piece.split(b"\n"):
            if not line.strip():
                continue
            self.stats["lines"] += 1
            event = parse_line(line)
            if event is None:
                self.stats["unreadable"] += 1
                continue
            t = event.get("t")
            if isinstance(t, str) and len(t) == ISO_LENGTH:   # kms_ref's own: ordered as strings
                first = t if first is None or t < first else first
                last = t if last is None or t > last else last
            entry = self.fold.apply(event["id"], event["event"], event)
            if entry is not None:
                entry.first = number if entry.first is None else entry.first
                entry.last = number
        write_file(os.path.join(self.directory, segment_name(number, time_digits(first), time_digits(last))),
                   [gzip.compress(piece, GZIP_LEVEL, mtime=0)])
        self.stats["segments"] += 1

    def _flush(self) -> None:
        """2: the folded IDs as a new run."""
        if not self.fold.entries:
            return
        records = []
        for pending_id, entry in self.fold.entries.items():
            encoded = pending_id.encode("utf-8")
            records.append((id_key(encoded), encoded, state_code(entry), entry.first, entry.last))
            if entry.state == IN_DOUBT:   # reported or not: settling it later needs its txid
                self.open[pending_id] = {"txid": entry.txid, "chain": entry.chain, "reported": entry.reported}
            else:
                self.open.pop(pending_id, None)
        records.sort()
        self._add_run(records)
        self.fold = self._new_fold()

    def _merge_tail(self) -> None:
        """3: merge the newest runs into one, in one pass, while the run before them holds at
        most twice as many records as they do together."""
        if not self.runs:
            return
        k, total = 1, self.runs[-1].count
        while k < len(self.runs) and self.runs[-k - 1].count <= 2 * total:
            total += self.runs[-k - 1].count
            k += 1
        if k == 1:
            return
        tail = self.runs[-k:]
        self.runs = self.runs[:-k]
        self._add_run(merge_records(tail))
        self.retired.extend(tail)
        self.stats["merged"] += total

    def _add_run(self, records) -> None:
        path = os.path.join(self.directory, run_name(self.next))
        self.next += 1
        write_run(path, records, checkpoint)
        checkpoint()
        run = Run(path)
        self.new_runs.append(run)
        self.runs.append(run)
        self.stats["runs"] += 1

    def _new_fold(self) -> Fold:
        """A fold whose "reported"-only IDs find their state in every run so far, this
        compaction's included, and in the open in-doubt IDs."""
        settled = Settled(self.runs, self.open)
        return Fold(lambda pending_id: settled.entry(pending_id))
