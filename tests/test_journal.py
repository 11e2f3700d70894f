"""The journal's history (kms_ref/daemon/journal*.py): runs of settled IDs, compaction, crashes.

The yardstick everywhere is the plain fold of every line ever written (`reference_states`): after
any number of compactions, reopenings and SIGKILLs, the journal must answer exactly what that
fold says for every ID, and the history segments followed by the live journal must hold exactly
the bytes that were written. Compaction is killed at each of its steps in turn with a real
SIGKILL, by KMS_REF_JOURNAL_CRASH_AT=N (journal_store.py: the N-th checkpoint kills the process).
"""

import errno
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import threading

import pytest

from kms_ref.daemon import journal as journal_module
from kms_ref.daemon.journal import IN_DOUBT, Journal, JournalError, journal_path
from kms_ref.daemon.journal_audit import History
from kms_ref.daemon.journal_events import Fold, parse_line
from kms_ref.daemon.journal_index import Run, id_key, merge_records, write_run
from kms_ref.daemon.journal_store import CRASH_ENV, MANIFEST, load_manifest, segments
from tests.cli_helpers import REPO, kms

SEED = 1616


# -- helpers ---------------------------------------------------------------------------------------

def reference_states(data: bytes) -> dict:
    """id → (state, reported) by folding every readable line of `data`, in order."""
    fold = Fold()
    for line in data.split(b"\n"):
        event = parse_line(line) if line.strip() else None
        if event is not None:
            fold.apply(event["id"], event["event"], event)
    return {i: (e.state, e.reported) for i, e in fold.entries.items()}


def journal_answers(journal, ids) -> dict:
    return {i: (journal.state(i), journal.state(i) == IN_DOUBT and journal.reported(i)) for i in ids}


def expected_answers(reference: dict) -> dict:
    return {i: (state, state == IN_DOUBT and reported) for i, (state, reported) in reference.items()}


def written_bytes(path: str) -> bytes:
    """The history segments, oldest first, then the live journal's lines past its folded prefix."""
    with History(path) as history:
        history.close()
        parts = []
        for segment in history.segments:
            with gzip.open(segment.path, "rb") as f:
                parts.append(f.read())
        return b"".join(parts) + history.live


def some_traffic(journal, rng, ids, previous=()):
    """Each ID signed, then most broadcast, some failed, some not sent, some left in doubt; some
    earlier in-doubt IDs reported, some earlier not-sent IDs signed again."""
    for pending_id in ids:
        journal.record(pending_id, "signing", txid="%064x" % rng.getrandbits(256), chain="BTC")
        roll = rng.random()
        if roll < 0.7:
            journal.record(pending_id, "broadcast", txId="%064x" % rng.getrandbits(256))
        elif roll < 0.8:
            journal.record(pending_id, "failed", error="HTTP 400: bad-txns (tx.invalid)")
        elif roll < 0.9:
            journal.record(pending_id, "not-sent", error="HTTP 429: slow down")
    for pending_id in previous:
        state = journal.state(pending_id)
        if state == IN_DOUBT and rng.random() < 0.5:
            journal.record(pending_id, "reported")
        elif state is None and rng.random() < 0.5:
            journal.record(pending_id, "signing", txid="%064x" % rng.getrandbits(256), chain="LTC")
            journal.record(pending_id, "broadcast", txId="%064x" % rng.getrandbits(256))


def object_ids(start, n):
    return ["%024x" % (0x65B0_0000_0000_0000_0000_0000 + i) for i in range(start, start + n)]


# -- runs of settled IDs ---------------------------------------------------------------------------

def test_run_lookup_every_block_and_colliding_keys(tmp_path):
    """Records across many 128-record blocks, and IDs made to share one key: every present ID
    is found with its own record, absent ones are not (seed %d)""" % SEED
    rng = random.Random(SEED)
    ids = sorted({("%x" % rng.getrandbits(rng.choice([96, 128, 200]))).encode() for _ in range(3000)})
    records = [(id_key(i), i, rng.choice(b"BFDRN"), n, n + 1) for n, i in enumerate(ids)]
    collided = [b"collision-%d" % n for n in range(300)]   # one key for 300 IDs: blocks of equal keys
    shared = records[1500][0]
    records += [(shared, i, b"F", 7, 8) for i in collided]
    records = [(k, i, bytes([s]) if isinstance(s, int) else s, a, b) for k, i, s, a, b in records]
    records.sort()
    path = str(tmp_path / "settled-00000001.idx")
    assert write_run(path, iter(records)) == len(records)
    run = Run(path)
    try:
        for key, pending_id, state, first, last in records:
            assert run.get(pending_id) == (state, first, last) or key == shared
        for pending_id in collided:
            assert run.get(pending_id, shared) == (b"F", 7, 8)
        assert run.get(b"collision-300", shared) is None
        assert all(run.get(("absent-%d" % n).encode()) is None for n in range(500))
        assert list(run.records()) == records
    finally:
        run.close()


def test_merge_keeps_the_newest_record_and_the_first_segment(tmp_path):
    def run_of(name, rows):
        path = str(tmp_path / name)
        write_run(path, sorted((id_key(i), i, s, a, b) for i, s, a, b in rows))
        return Run(path)

    old = run_of("settled-00000001.idx", [(b"a", b"D", 1, 1), (b"b", b"B", 1, 2), (b"c", b"N", 2, 2)])
    new = run_of("settled-00000002.idx", [(b"a", b"R", 5, 5), (b"c", b"B", 6, 6), (b"d", b"F", 6, 6)])
    merged = {i: (s, a, b) for _, i, s, a, b in merge_records([old, new])}
    assert merged == {b"a": (b"R", 1, 5), b"b": (b"B", 1, 2), b"c": (b"B", 2, 6), b"d": (b"F", 6, 6)}
    old.close(), new.close()


# -- compaction ------------------------------------------------------------------------------------

def test_compactions_and_reopening_answer_like_the_plain_fold(tmp_path):
    """Many small compactions (segments of a few KiB, runs of 50 IDs, merges): after each, and
    after reopening, every ID answers as the fold of every line says; nothing written is lost."""
    path = str(tmp_path / "wallet.dat.journal")
    rng = random.Random(SEED)
    written = []
    with Journal(path, compact_bytes=20_000, segment_bytes=6_000, run_ids=50) as journal:
        for batch in range(12):
            ids = object_ids(batch * 60, 60)
            some_traffic(journal, rng, ids, previous=object_ids(0, batch * 60))
            with open(path, "rb") as f:
                live = f.read()
            if journal.compact_if_due():
                written.append(live)           # now in the history; the live journal starts again
        with open(path, "rb") as f:
            tail = f.read()
        everything = b"".join(written) + tail
        reference = reference_states(everything)
        assert journal_answers(journal, reference) == expected_answers(reference)
        assert len(load_manifest(journal.directory).runs) > 1
    assert written_bytes(path) == everything
    with Journal(path) as journal:
        assert journal_answers(journal, reference) == expected_answers(reference)
        assert journal.state("never-seen") is None
        open_ids = sorted(i for i, (state, reported) in reference.items() if state == IN_DOUBT and not reported)
        assert sorted(journal.in_doubt()) == open_ids and open_ids


def test_reported_in_a_later_generation(tmp_path):
    path = str(tmp_path / "wallet.dat.journal")
    with Journal(path, compact_bytes=1 << 30) as journal:
        journal.record("x", "signing", txid="t" * 64, chain="DOGE")
        journal.compact()
        assert journal.state("x") == IN_DOUBT and not journal.reported("x") and journal.txid("x") == "t" * 64
        assert journal.in_doubt() == ["x"]
        journal.record("x", "reported")
        assert journal.reported("x") and journal.in_doubt() == []
        journal.compact()
        assert journal.state("x") == IN_DOUBT and journal.reported("x") and journal.in_doubt() == []
    with Journal(path) as journal:
        assert journal.state("x") == IN_DOUBT and journal.reported("x") and journal.in_doubt() == []
        assert journal.txid("x") == "t" * 64           # kept: the daemon settles it once the network shows it
        assert load_manifest(journal.directory).open == {"x": {"txid": "t" * 64, "chain": "DOGE", "reported": True}}
        journal.record("x", "broadcast", txId="t" * 64, found="network")
        journal.compact()
        assert journal.state("x") == "broadcast" and load_manifest(journal.directory).open == {}


def test_an_older_journal_is_upgraded_in_place(tmp_path):
    """A journal as kms_ref wrote it before there was a history (JSON lines, a torn last line):
    the first open compacts it; every line is in the segments, every ID answers as before."""
    path = str(tmp_path / "wallet.dat.journal")
    lines = []
    for n, pending_id in enumerate(object_ids(0, 3000)):
        t = "2024-01-%02dT12:00:00.%03dZ" % (1 + n // 100, n % 1000)
        lines.append('{"t":"%s","id":"%s","event":"signing","txid":"%064x","chain":"BTC"}' % (t, pending_id, n))
        if n % 7:
            lines.append('{"t":"%s","id":"%s","event":"broadcast","txId":"%064x"}' % (t, pending_id, n))
    legacy = ("\n".join(lines) + '\n{"t":"2024-02-01T00:00:00.000Z","id":"torn","event":"broa').encode()
    with open(path, "wb") as f:
        f.write(legacy)
    reference = reference_states(legacy)
    with Journal(path, segment_bytes=50_000) as journal:
        assert journal.compacted["lines"] == len(lines) + 1 and journal.torn_lines == 1
        assert journal_answers(journal, reference) == expected_answers(reference)
    assert os.path.getsize(path) == 0
    assert written_bytes(path) == legacy + b"\n"
    with History(path) as history:
        assert history.story(object_ids(0, 3000)[7])["state"] == IN_DOUBT
        assert [e["id"] for e in history.broadcasts("2024-01-30T00:00:00.000Z", None)] == \
            [i for n, i in enumerate(object_ids(0, 3000)) if n >= 2900 and n % 7]


# -- SIGKILL at every step of a compaction ---------------------------------------------------------

COMPACT_SCRIPT = ("import sys; from kms_ref.daemon.journal import Journal; "
                  "Journal(sys.argv[1], compact_bytes=0, segment_bytes=9000, run_ids=120).open().close()")


def compact_in_process(path, crash_at=None):
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop(CRASH_ENV, None)
    if crash_at is not None:
        env[CRASH_ENV] = str(crash_at)
    return subprocess.run([sys.executable, "-c", COMPACT_SCRIPT, path], env=env, capture_output=True, timeout=60)


def manifest_of(path):
    with open(os.path.join(path + ".d", MANIFEST)) as f:
        return json.load(f)


def test_sigkill_at_every_step_of_a_compaction(tmp_path):
    """A history (runs, segments, an open in-doubt ID) and a live journal that compacts into
    several segments and runs and a merge, with a torn last line. Killed at step N, for every N:
    the manifest is the old one or the new one, the segments and the live journal hold every
    byte once, and reopening answers for every ID what the fold of all lines says."""
    base = tmp_path / "base"
    base.mkdir()
    path = str(base / "wallet.dat.journal")
    rng = random.Random(SEED)
    with Journal(path, compact_bytes=1 << 30, run_ids=120) as journal:
        some_traffic(journal, rng, object_ids(0, 150))
        with open(path, "rb") as f:
            first = f.read()
        journal.compact()
        some_traffic(journal, rng, object_ids(150, 250), previous=object_ids(0, 150))
    with open(path, "ab") as f:
        f.write(b'{"t":"2024-02-01T00:00:00.000Z","id":"65b000000000000000000001","event":"bro')
    with open(path, "rb") as f:
        everything = first + f.read() + b"\n"
    reference = reference_states(everything)
    old_manifest = manifest_of(path)

    done = tmp_path / "done"
    shutil.copytree(str(base), str(done))
    assert compact_in_process(str(done / "wallet.dat.journal")).returncode == 0
    new_manifest = manifest_of(str(done / "wallet.dat.journal"))
    assert len(new_manifest["runs"]) < len(old_manifest["runs"]) + 3   # the new runs were merged

    crashed = 0
    for step in range(1, 200):
        case = tmp_path / ("step-%d" % step)
        shutil.copytree(str(base), str(case))
        target = str(case / "wallet.dat.journal")
        result = compact_in_process(target, crash_at=step)
        if result.returncode == 0:
            break
        assert result.returncode == -9, result.stderr.decode()
        crashed += 1
        assert manifest_of(target) in (old_manifest, new_manifest), "step %d" % step
        assert written_bytes(target) == everything, "step %d" % step
        with Journal(target, compact_bytes=1 << 30) as journal:
            assert journal_answers(journal, reference) == expected_answers(reference), "step %d" % step
        named = set(manifest_of(target)["runs"]) | {MANIFEST} | \
            {os.path.basename(s.path) for s in segments(target + ".d", load_manifest(target + ".d"))}
        assert set(os.listdir(target + ".d")) == named, "step %d: garbage left after reopening" % step
        shutil.rmtree(str(case))
    assert crashed >= 20, "only %d crash points: the checkpoints are not where they should be" % crashed


# -- fsyncs ----------------------------------------------------------------------------------------

def test_intent_is_durable_before_record_returns_and_results_ride_on_the_next(tmp_path, monkeypatch):
    """Which bytes each fsync covers: a "signing" line is synced before `record` returns (with
    every line before it); a result line waits for the next "signing" or `sync()`."""
    synced = []

    def spy(fd):
        synced.append(os.fstat(fd).st_size)
        os.fsync(fd)

    monkeypatch.setattr(journal_module, "_datasync", spy)
    path = str(tmp_path / "wallet.dat.journal")
    with Journal(path) as journal:
        journal.record("a", "signing", txid="1" * 64, chain="BTC")
        assert synced == [os.path.getsize(path)]
        journal.record("a", "broadcast", txId="1" * 64)
        assert len(synced) == 1
        journal.record("b", "signing", txid="2" * 64, chain="BTC")
        assert synced[-1] == os.path.getsize(path) and len(synced) == 2
        journal.record("b", "failed", error="HTTP 400")
        journal.record("b", "reported")
        journal.sync()
        journal.sync()
        assert synced[-1] == os.path.getsize(path) and len(synced) == 3


def test_intend_returns_before_its_fsync_and_wait_durable_waits_for_it(tmp_path, monkeypatch):
    """`intend` starts the fsync on the helper thread and returns while it runs; `wait_durable`
    returns only once an fsync covering the intent has returned. Intents written while an fsync
    runs share the next one (group commit): three intents, two fsyncs."""
    synced, started, release = [], threading.Event(), threading.Event()

    def slow(fd):
        size = os.fstat(fd).st_size   # what this fsync covers at least
        started.set()
        assert release.wait(10)
        os.fsync(fd)
        synced.append(size)

    monkeypatch.setattr(journal_module, "_datasync", slow)
    path = str(tmp_path / "wallet.dat.journal")
    with Journal(path) as journal:
        a = journal.intend("a", txid="1" * 64, chain="BTC")
        assert started.wait(10) and synced == []          # running, not waited for
        assert journal.state("a") == IN_DOUBT             # and already the journal's answer
        b = journal.intend("b", txid="2" * 64, chain="BTC")
        c = journal.intend("c", txid="3" * 64, chain="BTC")
        assert a < b < c == os.path.getsize(path)
        waiter = threading.Thread(target=journal.wait_durable, args=(c,))
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive(), "wait_durable returned before any fsync did"
        release.set()
        waiter.join(10)
        assert not waiter.is_alive()
        assert synced == [a, c]                           # the second fsync covers b and c
        journal.wait_durable(b)                           # covered already: returns at once
        journal.sync()                                    # nothing new: no fsync
        assert synced == [a, c]


def test_the_fsync_thread_ends_with_the_journal_and_starts_again_with_it(tmp_path):
    path = str(tmp_path / "wallet.dat.journal")
    journal = Journal(path)
    for round_ in range(2):
        journal.open()
        for n in range(3):
            waiter = threading.Thread(target=journal.wait_durable,
                                      args=(journal.intend("id-%d-%d" % (round_, n), txid="1" * 64, chain="BTC"),),
                                      daemon=True)
            waiter.start()
            waiter.join(10)
            assert not waiter.is_alive(), "round %d, intent %d: its fsync never came" % (round_, n)
        journal.close()
        assert not [t for t in threading.enumerate() if t.name == "kms-ref journal fsync"]
    with Journal(path) as again:
        assert again.state("id-0-0") == again.state("id-1-2") == IN_DOUBT


def test_a_failed_background_fsync_is_never_forgotten(tmp_path, monkeypatch):
    """fsyncgate: once an fsync failed, nothing written before it can be called durable — not
    by a later fsync that succeeds either. Every later wait and sync raises."""
    calls = []

    def failing(fd):
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(errno.EIO, "Input/output error")
        os.fsync(fd)

    monkeypatch.setattr(journal_module, "_datasync", failing)
    path = str(tmp_path / "wallet.dat.journal")
    journal = Journal(path).open()
    position = journal.intend("a", txid="1" * 64, chain="BTC")
    for attempt in (lambda: journal.wait_durable(position), journal.sync, journal.sync):
        with pytest.raises(JournalError, match="cannot write the journal .*Input/output error"):
            attempt()
    with pytest.raises(JournalError):
        journal.close()
    assert journal._fd is None     # closed all the same: the lock is released


# -- kms-ref journal -------------------------------------------------------------------------------

def small_history(tmp_path):
    """A wallet path whose journal has a history (one compaction) and live lines."""
    wallet = tmp_path / "wallet.dat"
    with Journal(journal_path(str(wallet))) as journal:
        journal.record("gone", "signing", txid="a" * 64, chain="BTC")
        journal.record("gone", "broadcast", txId="a" * 64)
        journal.record("doubt", "signing", txid="b" * 64, chain="LTC")
        journal.compact()
        journal.record("live", "signing", txid="c" * 64, chain="DOGE")
        journal.record("live", "failed", error="HTTP 400")
    return wallet


def test_journal_command(tmp_path):
    wallet = small_history(tmp_path)
    summary = kms(tmp_path, "journal", "--path", str(wallet)).json()
    assert summary["inDoubt"] == [{"id": "doubt", "txid": "b" * 64, "chain": "LTC"}]
    assert summary["live"]["events"] == 2 and summary["history"]["segments"] == 1
    story = kms(tmp_path, "journal", "--path", str(wallet), "gone").json()
    assert (story["state"], story["txid"], [e["event"] for e in story["events"]]) == \
        ("broadcast", "a" * 64, ["signing", "broadcast"])
    assert kms(tmp_path, "journal", "--path", str(wallet), "live").json()["state"] == "failed"
    assert kms(tmp_path, "journal", "--path", str(wallet), "never").json() == {"id": "never", "state": None, "events": []}
    window = kms(tmp_path, "journal", "--path", str(wallet), "--from", "2000-01-01", "--to", "2999-01-01").json()
    assert [e["id"] for e in window["broadcast"]] == ["gone"]
    assert kms(tmp_path, "journal", "--path", str(wallet), "--to", "2000-01-01").json()["broadcast"] == []


@pytest.mark.parametrize("args,code,message", [
    (["--from", "yesterday"], 1, "is not a date"),
    (["--to", "2024-13-01"], 1, "is not a date"),
    (["gone", "--from", "2024-01-01"], 1, "not both"),
    (["gone", "live"], 2, "too many arguments"),  # a usage error, like every command's
], ids=["word", "month-13", "id-and-date", "two-ids"])
def test_journal_command_refuses_bad_input(tmp_path, args, code, message):
    wallet = small_history(tmp_path)
    r = kms(tmp_path, "journal", "--path", str(wallet), *args)
    assert r.code == code and message in r.error()


def test_journal_command_without_a_journal(tmp_path):
    r = kms(tmp_path, "journal", "--path", str(tmp_path / "wallet.dat"))
    assert r.code == 1 and "no journal at" in r.error()
    assert not os.path.exists(journal_path(str(tmp_path / "wallet.dat")))   # reading creates nothing
