"""Advisory locks between kms_ref processes: flock(2) on a lock file beside the wallet.

The wallet store (SPEC §2: "two processes writing at once lose nothing") takes an exclusive
lock across every read-modify-write and a shared lock while it reads.

Why a separate `<wallet>.lock` file rather than the wallet itself: writers replace the wallet
by rename (see `kms_ref.store.atomic_file`), so the wallet's inode changes on every write, and a lock held on
the old inode would not exclude a process that opened the new one. The lock file is never
replaced or deleted — deleting it would let two processes lock two different inodes — so it is
a stable meeting point. It holds no data.

A flock belongs to the open file description: closing the descriptor releases it, and so does
the death of the process, SIGKILL included. A crashed writer never leaves the wallet locked.

POSIX has no flock with a timeout, so `locked` tries LOCK_NB and sleeps between attempts
(5 ms, doubling up to 100 ms) until `timeout` seconds have passed, then raises TimeoutError.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from contextlib import contextmanager
from typing import Iterator

DEFAULT_TIMEOUT = 60.0  # seconds; a kms_ref write holds the lock for well under a second
FIRST_WAIT, LONGEST_WAIT = 0.005, 0.1


@contextmanager
def locked(lock_path: str, exclusive: bool, timeout: float = DEFAULT_TIMEOUT,
           required: bool = True) -> Iterator[None]:
    """Hold a shared (exclusive=False) or exclusive lock on `lock_path` (created 0600) inside
    the with-block. With required=False, a lock file that cannot be created (a read-only or
    missing directory) means no lock rather than an error: for a reader of a file that writers
    replace by rename, the lock is a courtesy, not a necessity."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as e:
        if required or e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT):
            raise
        yield
        return
    try:
        _acquire(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, timeout, lock_path)
        yield
    finally:
        os.close(fd)  # releases the lock


def _acquire(fd: int, operation: int, timeout: float, lock_path: str) -> None:
    deadline = time.monotonic() + timeout
    wait = FIRST_WAIT
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"another process has held {lock_path} for over {timeout:g} s; try again later"
            )
        time.sleep(wait)
        wait = min(2 * wait, LONGEST_WAIT)
