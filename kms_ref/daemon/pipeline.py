"""Broadcasting on a thread of its own, so that signing the next transaction overlaps the wait
for the answer to the last one (issue 14 §3, "no per-transaction work that could be per-cycle").

A cycle is a chain of two kinds of work per pending transaction: signing, which is pure CPU in
this process (the key, the signature, its verification before release: a few milliseconds in
pure Python), and broadcasting, which is mostly waiting for the API (a network round trip and
the node's own check of the transaction). Done one after the other they add up; here the main
thread signs transaction i + 1 while one worker thread broadcasts transaction i. The worker holds
the GIL only to write and read a few hundred bytes; while it waits on its socket the main thread
signs. On the sandbox's 100-transaction cycle the wait is about as long as the signing, so
overlapping them takes off close to half the cycle.

"Never twice" is unchanged: the worker calls the same `Broadcaster.send`, which journals the
intent ("signing") just before its request leaves and the result after; a transaction still in
the queue has no journal line yet, so when the daemon is stopped (a signal, an error) or killed
with transactions queued, they were never sent and a later cycle signs them again — the same
bytes, as RFC 6979 makes them. One worker, so broadcasts leave one at a time and in order, as
tatum-kms sends them; the queue holds at most QUEUED transactions, so signing never runs far
ahead of what the API accepts. The cycle drains the queue before it reports failures to the
batch endpoint or compacts the journal, and `Daemon.process` never enqueues one pending ID twice
in a cycle (it checks the journal only once the queue is drained of it).
"""

from __future__ import annotations

import queue
import threading
from typing import Optional

QUEUED = 2        # signed transactions waiting for the worker, at most


class BroadcastPipeline:
    """A worker thread that runs `broadcaster.send(*item)` for each item `put` in order."""

    def __init__(self, broadcaster, stop: threading.Event):
        self.broadcaster = broadcaster
        self.stop = stop
        self._queue: "queue.Queue" = queue.Queue(QUEUED)
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._work, name="kms_ref broadcasts", daemon=True)
        self._thread.start()

    def put(self, *item) -> None:
        """Queue one send (blocks while QUEUED are waiting); re-raises the worker's error."""
        self._raise_error()
        self._queue.put(item)

    def drain(self) -> None:
        """Wait until every queued send has finished (or was dropped after a stop)."""
        self._queue.join()
        self._raise_error()

    def close(self) -> None:
        """Let the worker finish what it is sending and end."""
        self._queue.put(None)
        self._thread.join()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self.stop.is_set() or self._error is not None:
                    continue             # never sent, nothing journaled: a later cycle signs it again
                self.broadcaster.send(*item)
            except BaseException as e:   # noqa: BLE001 — handed to the main thread by put/drain
                self._error = e
            finally:
                self._queue.task_done()

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error
