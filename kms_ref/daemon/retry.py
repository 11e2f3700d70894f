"""Pending transactions held back after a transient broadcast failure, and when to try again.

An expired or mistyped API key (401, 403), a rate limit (429), a slow or failing server (408,
5xx) say nothing about the transaction: it must not be abandoned for them (issue 10 §3 — after
one 401 and a healthy API, 0 of 5 were ever broadcast). Such a transaction is held back and
retried with exponential back-off — period × 2^(k-1) after the k-th failure in a row, at most
MAX_WAIT (or the period, if longer) — and every cycle says at info level what is held back and
why. A retry signs the same pending transaction again, which gives the same bytes (RFC 6979), so
it cannot spend twice; `broadcast.Broadcaster` also refuses to send different bytes under an ID
it signed before.

This is memory only: after a restart a held-back transaction is simply tried at once (the
journal's "not-sent" line lets it be).
"""

from __future__ import annotations

import time
from typing import Callable, Dict, NamedTuple

MAX_WAIT = 300.0       # seconds between two tries of one transaction, at most
SHOWN_IN_LOG = 10      # held-back IDs named in the cycle's info line; the rest are counted


class Hold(NamedTuple):
    failures: int          # transient failures in a row
    reason: str            # the last one, as logged
    next_try: float        # monotonic time


class HeldBack:
    def __init__(self, period: float, clock: Callable[[], float] = time.monotonic):
        self.period = period
        self._clock = clock
        self._holds: Dict[str, Hold] = {}

    def hold(self, tx_id: str, reason: str) -> float:
        """Record one more transient failure of `tx_id`; the seconds until its next try."""
        failures = self._holds[tx_id].failures + 1 if tx_id in self._holds else 1
        wait = min(self.period * 2 ** (failures - 1), max(MAX_WAIT, self.period))
        self._holds[tx_id] = Hold(failures, reason, self._clock() + wait)
        return wait

    def waiting(self, tx_id: str) -> bool:
        """Whether `tx_id` is held back and its next try has not come yet."""
        hold = self._holds.get(tx_id)
        return hold is not None and self._clock() < hold.next_try

    def release(self, tx_id: str) -> None:
        """`tx_id` is settled (broadcast, refused for good, in doubt): no longer held back."""
        self._holds.pop(tx_id, None)

    def summary(self) -> str:
        """One log line: what is held back, why, and when it is tried next ("" if nothing is)."""
        if not self._holds:
            return ""
        now = self._clock()
        items = sorted(self._holds.items(), key=lambda item: item[1].next_try)
        shown = ["%s (%s; failed %d time(s), next try in %.0f s)"
                 % (tx_id, hold.reason, hold.failures, max(0.0, hold.next_try - now))
                 for tx_id, hold in items[:SHOWN_IN_LOG]]
        more = len(items) - SHOWN_IN_LOG
        return "Holding back %d transaction(s) after transient errors, retried with back-off: %s%s" % (
            len(items), ", ".join(shown), " and %d more" % more if more > 0 else "")
