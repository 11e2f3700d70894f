"""fdatasync on a helper thread: a journal intent becomes durable while the daemon signs.

The journal's rule (journal.py) is that a "signing" line is on disk before its broadcast request
leaves. Waiting for that fsync in line costs one fdatasync per transaction, during which nothing
else happens: 0.4–0.9 ms on the development VM, several milliseconds on a network disk. Here the
fsync starts on a second thread as soon as the line is written (`request`) — fdatasync releases
the GIL, so it runs beside the signing of the next transaction — and the daemon waits for it only
when that broadcast is about to be sent (`wait`), by which time it has normally finished.

A line written while an fsync runs is covered by the next one, so when fsyncs are slower than
signing, one fsync covers several intents (group commit); never is a request sent before the
fsync that covers its intent has returned. The journal's other fsyncs (`sync`) go through the
same thread and are waited for at once, so there is one fsync at a time on the descriptor.

Positions are counts of bytes written through the journal since it was opened, never reset
(compaction truncates the file, not these counts). An fsync that fails leaves the journal's
durability unknown: every later `wait` raises that error, and the daemon stops
(https://lwn.net/Articles/752063/ — after a failed fsync, retrying cannot tell what reached the disk).
"""

from __future__ import annotations

import threading
from typing import Callable, Optional


class BackgroundSync:
    """One helper thread making a file descriptor durable up to a requested position."""

    def __init__(self, datasync: Callable[[int], None]):
        self._datasync = datasync
        self._cond = threading.Condition()
        self._fd: Optional[int] = None
        self._wanted = 0            # the position asked to become durable
        self._done = 0              # the position durable (every fsync finished covers it)
        self._busy = False          # an fsync is running
        self._error: Optional[Exception] = None
        self._closing = False
        self._thread: Optional[threading.Thread] = None

    def request(self, fd: int, position: int) -> None:
        """Start making `fd` durable up to `position` (returns at once; does nothing when it is
        durable already)."""
        with self._cond:
            if position <= self._done:
                return
            if position > self._wanted:
                self._wanted, self._fd = position, fd
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kms-ref journal fsync", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait(self, position: int) -> None:
        """Return once `position` is durable; the fsync's OSError if one failed."""
        with self._cond:
            while self._done < position and self._error is None:
                self._cond.wait()
            if self._done < position:
                raise self._error

    def stop(self) -> None:
        """Let what is due finish, then end the thread (a failure stays for `wait`)."""
        with self._cond:
            while (self._busy or self._wanted > self._done) and self._error is None:
                self._cond.wait()
            self._closing = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        with self._cond:
            self._closing = False   # a later `request` (the journal opened again) starts a new thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._wanted <= self._done and not self._closing:
                    self._cond.wait()
                if self._wanted <= self._done or self._error is not None:
                    return
                target, fd, self._busy = self._wanted, self._fd, True
            try:
                self._datasync(fd)
            except Exception as e:   # OSError; anything else too, rather than leave a waiter hanging
                with self._cond:
                    self._error, self._busy = e, False
                    self._cond.notify_all()
                return
            with self._cond:
                self._done, self._busy = max(self._done, target), False
                self._cond.notify_all()
