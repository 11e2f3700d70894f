"""What the journal says, for an auditor: one pending ID's story, and what was broadcast when.

`kms-ref journal` (`kms_ref/cli/journal_command.py`) asks these questions of the live journal
and of its history (`journal_store.py`): every line the daemon ever wrote is in a history
segment or in the live journal, so nothing needs the daemon's state.

- `story(id)`: the run records (`journal_index.py`) name the segments of the ID's first and
  last event; only those are read, then the live lines; the state is the fold of the events
  found (`journal_events.Fold`), as the daemon computes it.
- `broadcasts(since, until)`: the segments whose time range (in their names) meets
  [since, until), then the live lines; every "broadcast" event with since <= t < until.

Reading takes no lock and writes nothing, so it works beside a running daemon. It reads the
live journal first and the manifest after: a compaction that commits between the two has
moved lines the snapshot still holds into segments the manifest now names, and the snapshot's
"folded" prefix is skipped — the answer is as of one moment or the next, never double counted.
"""

from __future__ import annotations

import gzip
import os
import re
from datetime import datetime, timezone
from typing import Iterator, List, Optional

from kms_ref.daemon.journal_events import BROADCAST, IN_DOUBT, Fold, parse_line
from kms_ref.daemon.journal_index import Run, Settled
from kms_ref.daemon.journal_store import (Segment, folded_prefix, history_dir, load_manifest, segments,
                                          time_digits)

DATE = re.compile(r"^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d{3}|\.\d{6})?)?)?(Z|[+-]\d\d:\d\d)?$")   # what 3.9 parses


def parse_date(text: str) -> str:
    """A date or time as the journal writes it ("2024-01-31T12:00:00.000Z"); UTC unless an
    offset is given; a bare date is its midnight."""
    text = text.strip()
    try:
        if not DATE.match(text):
            raise ValueError("not the shape of a date")
        moment = datetime.fromisoformat(text[:-1] if text.endswith("Z") else text)
    except ValueError:   # the shape, or a month 13, a February 30, ...
        raise ValueError("%r is not a date: use 2024-01-31 or 2024-01-31T12:00:00Z (UTC)" % text) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


class History:
    """The journal at `journal_path` and its history, read as they are now."""

    def __init__(self, journal_path: str):
        self.path = journal_path
        self.directory = history_dir(journal_path)
        for attempt in range(3):
            try:
                self._read()
                break
            except FileNotFoundError:   # a run merged away by a compaction since the manifest was read
                if attempt == 2 or not os.path.exists(journal_path):
                    raise

    def _read(self) -> None:
        with open(self.path, "rb") as f:   # first the live journal, then the manifest (see above)
            live = f.read()
            self.manifest = load_manifest(self.directory)
        skip = folded_prefix(lambda n, offset: live[offset:offset + n], len(live), self.manifest.folded)
        self.live = live[skip:]
        self.segments: List[Segment] = segments(self.directory, self.manifest)
        runs = []
        try:
            for name in self.manifest.runs:
                runs.append(Run(os.path.join(self.directory, name)))
        except BaseException:
            for run in runs:
                run.close()
            raise
        self.settled = Settled(runs, self.manifest.open)

    def close(self) -> None:
        self.settled.close()

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def live_events(self) -> Iterator[dict]:
        return _events(self.live)

    def segment_events(self, segment: Segment) -> Iterator[dict]:
        with gzip.open(segment.path, "rb") as f:
            return _events(f.read())

    # -- the questions ---------------------------------------------------------------------------

    def story(self, pending_id: str) -> dict:
        """Every event of `pending_id`, oldest first, and the state they leave it in."""
        events = []
        found = self.settled.find(pending_id)
        if found is not None:
            for segment in self.segments:
                if found[1] <= segment.number <= found[2]:
                    events.extend(e for e in self.segment_events(segment) if e["id"] == pending_id)
        events.extend(e for e in self.live_events() if e["id"] == pending_id)
        fold = Fold()
        for event in events:
            fold.apply(pending_id, event["event"], event)
        entry = fold.entries.get(pending_id)
        out = {"id": pending_id, "state": entry.state if entry else None}
        if entry is not None and entry.txid:
            out["txid"] = entry.txid
        if entry is not None and entry.state == IN_DOUBT:
            out["reported"] = entry.reported
        out["events"] = events
        return out

    def broadcasts(self, since: Optional[str], until: Optional[str]) -> List[dict]:
        """The "broadcast" events with since <= t < until (ISO strings; None: no bound)."""
        low, high = time_digits(since) if since else None, time_digits(until) if until else None
        found = []
        for segment in self.segments:
            if (high and segment.first and segment.first >= high) or (low and segment.last and segment.last < low):
                continue
            found.extend(e for e in self.segment_events(segment) if _broadcast_within(e, low, high))
        found.extend(e for e in self.live_events() if _broadcast_within(e, low, high))
        return found

    def summary(self) -> dict:
        """Where the journal is, how much it holds, and the in-doubt IDs not reported yet."""
        live = list(self.live_events())
        fold = Fold(self.settled.entry)
        for event in live:
            fold.apply(event["id"], event["event"], event)
        in_doubt = {i: (f.get("txid"), f.get("chain")) for i, f in self.settled.open.items() if not f.get("reported")}
        for pending_id, entry in fold.entries.items():
            if entry.state == IN_DOUBT and not entry.reported:
                in_doubt[pending_id] = (entry.txid, entry.chain)
            else:
                in_doubt.pop(pending_id, None)
        return {
            "journal": self.path,
            "live": {"bytes": len(self.live), "events": len(live)},
            "history": {
                "directory": self.directory,
                "segments": len(self.segments),
                "bytes": sum(os.path.getsize(s.path) for s in self.segments),
                "from": _iso(min((s.first for s in self.segments if s.first), default=None)),
                "to": _iso(max((s.last for s in self.segments if s.last), default=None)),
                "settledRecords": sum(run.count for run in self.settled.runs),
            },
            "inDoubt": [{"id": i, "txid": txid, "chain": chain} for i, (txid, chain) in sorted(in_doubt.items())],
        }


def _events(data: bytes) -> Iterator[dict]:
    for line in data.split(b"\n"):
        if line.strip():
            event = parse_line(line)
            if event is not None:
                yield event


def _broadcast_within(event: dict, low: Optional[str], high: Optional[str]) -> bool:
    if event["event"] != BROADCAST:
        return False
    t = time_digits(event.get("t"))
    if t is None:
        return low is None and high is None
    return (low is None or t >= low) and (high is None or t < high)


def _iso(digits: Optional[str]) -> Optional[str]:
    if not digits:
        return None
    d = digits
    return "%s-%s-%sT%s:%s:%s.%sZ" % (d[0:4], d[4:6], d[6:8], d[8:10], d[10:12], d[12:14], d[14:17])
