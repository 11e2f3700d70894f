"""The journal's history directory, and the one file that says what is in it.

Beside the live journal `wallet.dat.journal` (`journal.py`) compaction keeps the directory
`wallet.dat.journal.d/` (0700; every file 0600):

    manifest.json                       the commit point: what the history is (below)
    history-NNNNNNNN-FROM-TO.jsonl.gz   a segment: lines of the live journal exactly as they
                                        were written, gzip'ed; FROM and TO are the earliest and
                                        latest "t" of its lines as 17 digits (yyyymmddhhmmssSSS),
                                        or "x" when no line has one
    settled-NNNNNNNN.idx                a run of settled IDs (`journal_index.py`)

manifest.json, replaced atomically (temporary file, fsync, rename, fsync of the directory):

    {"format": "kms_ref journal history 1",
     "next": 42,                                the number the next segment or run will get
     "runs": ["settled-00000017.idx", ...],     the runs of settled IDs, oldest first
     "folded": {"bytes": N, "sha256": "..."},   the live journal's first N bytes, when their
                                                SHA-256 is this, are already in the history
     "open": {"<id>": {"txid": "...", "chain": "BTC", "reported": false}}}   every in-doubt ID

The history is exactly what the manifest names: the segments numbered below "next" and the runs
it lists. Anything else matching these names (a segment or run of a compaction that died before
its commit, a run merged away, a `.tmp` file) is garbage, ignored by readers and deleted by the
daemon at start, under the journal's lock. Other files are never touched.

Test hook: with KMS_REF_JOURNAL_CRASH_AT=N in the environment, the process kills itself with
SIGKILL at the N-th call of `checkpoint()` — placed between every step of compaction and around
every journal write — so that tests can crash it at each point in turn. Nothing sets it but
the tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
from typing import List, NamedTuple, Optional

from kms_ref.store.atomic_file import PRIVATE_FILE_MODE, fsync_directory, make_private_dir

MANIFEST = "manifest.json"
FORMAT = "kms_ref journal history 1"
DIR_SUFFIX = ".d"
SEGMENT_NAME = re.compile(r"^history-(\d{8})-(\d{17}|x)-(\d{17}|x)\.jsonl\.gz$")
RUN_NAME = re.compile(r"^settled-(\d{8})\.idx$")
TEMP_SUFFIX = ".tmp"
CRASH_ENV = "KMS_REF_JOURNAL_CRASH_AT"

_crash_at = int(os.environ.get(CRASH_ENV, "0")) if os.environ.get(CRASH_ENV, "").isdigit() else 0
_checkpoints = 0


def checkpoint() -> None:
    """A point where a test may SIGKILL the process (see KMS_REF_JOURNAL_CRASH_AT above)."""
    global _checkpoints
    if _crash_at:
        _checkpoints += 1
        if _checkpoints == _crash_at:
            os.kill(os.getpid(), signal.SIGKILL)


class Manifest(NamedTuple):
    next: int = 1
    runs: tuple = ()
    folded: Optional[dict] = None
    open: dict = {}


class Segment(NamedTuple):
    number: int
    first: Optional[str]   # 17 digits, or None
    last: Optional[str]
    path: str


def history_dir(journal_path: str) -> str:
    return journal_path + DIR_SUFFIX


def time_digits(t) -> Optional[str]:
    """"2024-01-31T12:00:00.123Z" → "20240131120000123"; None for anything else."""
    if not isinstance(t, str):
        return None
    digits = re.sub(r"\D", "", t)
    return digits[:17].ljust(17, "0") if len(digits) >= 14 else None


def segment_name(number: int, first: Optional[str], last: Optional[str]) -> str:
    return "history-%08d-%s-%s.jsonl.gz" % (number, first or "x", last or "x")


def run_name(number: int) -> str:
    return "settled-%08d.idx" % number


def load_manifest(directory: str) -> Manifest:
    """The manifest in `directory`; an empty history when there is none yet."""
    try:
        with open(os.path.join(directory, MANIFEST), "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        return Manifest()
    except ValueError:
        raise ValueError("the journal history %s has an unreadable %s" % (directory, MANIFEST)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("the journal history %s has a %s of an unknown format" % (directory, MANIFEST))
    return Manifest(data["next"], tuple(data["runs"]), data.get("folded"), data.get("open") or {})


def save_manifest(directory: str, manifest: Manifest) -> None:
    data = {"format": FORMAT, "next": manifest.next, "runs": list(manifest.runs),
            "folded": manifest.folded, "open": manifest.open}
    write_file(os.path.join(directory, MANIFEST), [json.dumps(data, indent=1, sort_keys=True).encode("ascii")])


@contextlib.contextmanager
def replacement(path: str, crash_point=checkpoint):
    """A new file for `path`, written in the with-block: `path`.tmp (0600), then flushed,
    fsync'ed, `crash_point()`, and renamed over `path` — or deleted, if the block raises, with
    `path` left as it was. The caller fsyncs the directory when the rename must survive a crash."""
    temp_path = path + TEMP_SUFFIX
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        crash_point()
        os.replace(temp_path, path)
    except BaseException:
        try:
            os.unlink(temp_path)
        except FileNotFoundError:
            pass
        raise


def write_file(path: str, chunks) -> None:
    """Write `chunks` as `path`, atomically: `path`.tmp, fsync, rename, fsync of the directory."""
    with replacement(path) as f:
        for chunk in chunks:
            f.write(chunk)
            f.flush()
            checkpoint()   # a torn temporary file
    checkpoint()
    fsync_directory(os.path.dirname(path))


def folded_prefix(read, size: int, folded: Optional[dict]) -> int:
    """How many of the live journal's first bytes the history already holds: the manifest's
    "folded" length when the journal still starts with exactly those bytes (a compaction that
    died between its commit and the truncation), else 0. `read(n, offset)` reads the journal
    (os.pread on its descriptor, or slices of a copy); `size` is its length."""
    if not folded or not 0 < folded["bytes"] <= size:
        return 0
    digest, position = hashlib.sha256(), 0
    while position < folded["bytes"]:
        chunk = read(min(1 << 20, folded["bytes"] - position), position)
        if not chunk:
            return 0
        digest.update(chunk)
        position += len(chunk)
    return folded["bytes"] if digest.hexdigest() == folded["sha256"] else 0


def make_history_dir(directory: str) -> None:
    if not os.path.isdir(directory):
        make_private_dir(directory)
        fsync_directory(os.path.dirname(directory))


def segments(directory: str, manifest: Manifest) -> List[Segment]:
    """The history's segments, oldest first (numbered below the manifest's "next")."""
    found = []
    for name in _names(directory):
        match = SEGMENT_NAME.match(name)
        if match and int(match.group(1)) < manifest.next:
            first, last = (None if g == "x" else g for g in match.group(2, 3))
            found.append(Segment(int(match.group(1)), first, last, os.path.join(directory, name)))
    return sorted(found)


def remove_garbage(directory: str, manifest: Manifest) -> List[str]:
    """Delete what a crashed or finished compaction left that the manifest does not name."""
    removed = []
    for name in _names(directory):
        segment, run = SEGMENT_NAME.match(name), RUN_NAME.match(name)
        if name.endswith(TEMP_SUFFIX) and (name.startswith(("history-", "settled-")) or name == MANIFEST + TEMP_SUFFIX) \
                or segment and int(segment.group(1)) >= manifest.next \
                or run and name not in manifest.runs:
            os.unlink(os.path.join(directory, name))
            removed.append(name)
            checkpoint()
    return removed


def _names(directory: str) -> List[str]:
    try:
        return os.listdir(directory)
    except FileNotFoundError:
        return []
