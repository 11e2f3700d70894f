"""The journal's events and what each one leaves a pending ID in (SPEC §5, "never twice").

The live journal (`journal.py`) and its compaction into history (`journal_compact.py`) read the
same JSON lines and must agree on what they mean; this file says it once:

    signing     written BEFORE the broadcast request           → "in-doubt", not reported
    broadcast   the API accepted it (2xx)                       → "broadcast"
    failed      the API refused it (a 4xx answer)               → "failed"
    not-sent    it surely never arrived (no connection; 408/429) → None: a later cycle may retry
    reported    an in-doubt ID was reported to the batch endpoint → the same state, reported

Every event but "reported" sets the state whatever came before it, so folding a sequence of
events needs no earlier state except for a "reported" alone; `Fold` asks its `prior` function
for that ID's state then. Unknown event names are read and ignored (a newer kms_ref may add
some); a line that is not a JSON object with a string "id" and "event" is unreadable (a torn
line: a crash while writing it).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Callable, Dict, Optional

SIGNING, BROADCAST, FAILED, NOT_SENT, REPORTED = "signing", "broadcast", "failed", "not-sent", "reported"
IN_DOUBT = "in-doubt"
RESULTS = (BROADCAST, FAILED, NOT_SENT)
MAX_ID_BYTES = 1024   # longer IDs are unreadable lines (the daemon takes IDs of at most 128 characters)


def iso_now() -> str:
    """UTC time as JavaScript's Date#toISOString writes it: milliseconds and a Z."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def encode_event(pending_id: str, event: str, fields: dict) -> bytes:
    """One journal line: {"t", "id", "event", ...fields} as compact ASCII JSON and a newline."""
    entry = {"t": iso_now(), "id": pending_id, "event": event}
    entry.update(fields)
    return json.dumps(entry, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


_decode = json.JSONDecoder().decode


def parse_line(line: bytes) -> Optional[dict]:
    """The event of one journal line, or None when the line is unreadable."""
    try:
        event = _decode(line.decode("utf-8"))
    except ValueError:   # UnicodeDecodeError and json's JSONDecodeError included
        return None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
            or not isinstance(event.get("event"), str) or len(event["id"].encode("utf-8")) > MAX_ID_BYTES:
        return None
    return event


class Entry:
    """Where one pending ID stands: state (None, in-doubt, broadcast, failed), whether an in-doubt
    ID was reported, the txid and chain of its last "signing"; `first`/`last` are the history
    segments of its first and last event, kept by compaction only."""

    __slots__ = ("state", "reported", "txid", "chain", "first", "last")

    def __init__(self, state=None, reported=False, txid=None, chain=None, first=None, last=None):
        self.state, self.reported, self.txid, self.chain = state, reported, txid, chain
        self.first, self.last = first, last


class Fold:
    """The state of every ID after a sequence of events, in `entries` (id → Entry).

    `prior(id)` gives the Entry an ID had before this sequence (or None); it is asked only for an
    ID whose first event here is "reported", the one event that keeps the state it finds."""

    def __init__(self, prior: Callable[[str], Optional[Entry]] = lambda pending_id: None):
        self.entries: Dict[str, Entry] = {}
        self.prior = prior

    def apply(self, pending_id: str, event: str, fields: dict) -> Optional[Entry]:
        entry = self.entries.get(pending_id)
        if event == SIGNING:
            txid, chain = fields.get("txid"), fields.get("chain")
            entry = self._set(pending_id, entry, IN_DOUBT)
            entry.reported = False
            entry.txid = txid if isinstance(txid, str) else None
            entry.chain = chain if isinstance(chain, str) else None
        elif event in (BROADCAST, FAILED, NOT_SENT):
            entry = self._set(pending_id, entry, None if event == NOT_SENT else event)
            entry.reported = False
        elif event == REPORTED:
            if entry is None:
                before = self.prior(pending_id)
                entry = Entry(before.state, before.reported, before.txid, before.chain, before.first) \
                    if before is not None else Entry()
                self.entries[pending_id] = entry
            entry.reported = True
        return entry

    def _set(self, pending_id: str, entry: Optional[Entry], state: Optional[str]) -> Entry:
        if entry is None:
            entry = self.entries[pending_id] = Entry()
        entry.state = state
        return entry
