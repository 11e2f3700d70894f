"""Atomic replacement of a private file (POSIX rename(2)), for the wallet store of SPEC §2.

SPEC §2: "Writes are atomic (temp file, fsync, rename), the file is created 0600 in a 0700
directory". `write_atomic` writes the new content to a temporary file in the same directory —
a fresh random name opened O_CREAT|O_EXCL with mode 0600, so nothing already there (a file, a
planted symlink) is ever written through — flushes and fsyncs it, renames it over the target
with os.replace — atomic within one file system, so a reader or a crash sees the old file or
the new one, never a mix — and fsyncs the directory so that the rename itself survives a power
cut. The new file is a new inode: mode 0600 whatever the old file's mode was.

A process killed between creating the temporary file and the rename leaves a
`.<name>.<random>.tmp` beside the target, and the target untouched; `remove_stale_temps`
deletes such leftovers. Call it only while holding the exclusive lock, when no other writer can
be half-way through.
"""

from __future__ import annotations

import os
import stat
from typing import Iterable

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
TEMP_SUFFIX = ".tmp"


def make_private_dir(directory: str) -> None:
    """Create `directory` with mode 0700 if it is missing; its parent must exist (no tree of new
    directories with the umask's mode). A directory that exists, or that another process made
    meanwhile, is left as it is: it may be the user's own."""
    if os.path.isdir(directory):
        return
    try:
        os.mkdir(directory, PRIVATE_DIR_MODE)
    except FileExistsError:
        return
    os.chmod(directory, PRIVATE_DIR_MODE)  # ours: mkdir's mode is filtered by the umask


class NotRegularFile(OSError):
    """The path names a FIFO, a device, a socket or a directory, not a file."""

    def __init__(self):
        super().__init__("not a regular file")
        self.strerror = "not a regular file"


def open_regular(path: str, flags: int = os.O_RDONLY, mode: int = PRIVATE_FILE_MODE) -> int:
    """os.open(path, flags) that refuses anything but a regular file, and never blocks doing so.

    open(2) of a FIFO for reading waits for a writer — forever, if none comes. O_NONBLOCK makes
    it return at once (for a regular file the flag changes nothing); fstat then says what was
    opened, with no window between a check and the open. Raises NotRegularFile (an OSError)."""
    fd = os.open(path, flags | os.O_CLOEXEC | os.O_NONBLOCK, mode)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotRegularFile()
    return fd


def write_atomic(path: str, chunks: Iterable[bytes]) -> None:
    """Replace `path` by the concatenation of `chunks`; on any error the old file is untouched
    and the temporary file is removed."""
    directory, name = os.path.split(os.path.abspath(path))
    temp_path = os.path.join(directory, _temp_prefix(name) + os.urandom(8).hex() + TEMP_SUFFIX)
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), PRIVATE_FILE_MODE)
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_path, path)
    except BaseException:
        _remove_quietly(temp_path)
        raise
    fsync_directory(directory)


def fsync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(path: str) -> None:
    """Delete temporary files that an interrupted `write_atomic(path, ...)` left behind."""
    directory, name = os.path.split(os.path.abspath(path))
    prefix = _temp_prefix(name)
    for entry in os.listdir(directory):
        if entry.startswith(prefix) and entry.endswith(TEMP_SUFFIX):
            _remove_quietly(os.path.join(directory, entry))


def _temp_prefix(name: str) -> str:
    return f".{name}."


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
