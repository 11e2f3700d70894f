"""The daemon's start against the size of its journal's history, for `python -m kms_ref.bench --flows`.

For a history of 0, 100,000 and 1,000,000 transactions, written by a generator as kms_ref
wrote journals before they had a history (JSON lines: "signing" then "broadcast", every 1000th
"failed"), beside a one-key wallet: `daemon --runOnce` against a sandbox with nothing pending,
then three more. The first start upgrades the journal (its compaction time is the daemon's own
log line); the others are what every later start costs: the median wall time and the highest
peak RSS of the whole process (`flows.run_command`). Then, in this process, with the million-transaction history: one
steady-state compaction (a 1 MiB live journal, about 3,200 transactions, folded into it) and
the cost of one lookup of a pending ID, present or absent.
"""

from __future__ import annotations

import os
import re
import time

SIZES = (0, 100_000, 1_000_000)


def write_legacy_journal(path: str, n: int) -> None:
    start = 1672531200   # 2023-01-01
    with open(path, "wb") as f:
        for block in range(0, n, 20_000):
            lines = []
            for i in range(block, min(n, block + 20_000)):
                t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + 12 * i)) + ".%03dZ" % (i % 1000)
                head = '{"t":"%s","id":"%024x","event":' % (t, 0x63B0 << 80 | i)
                lines.append('%s"signing","txid":"%064x","chain":"BTC"}\n' % (head, i))
                if i % 1000 == 999:
                    lines.append('%s"failed","error":"HTTP 400: bad-txns (tx.invalid)"}\n' % head)
                else:
                    lines.append('%s"broadcast","txId":"%064x"}\n' % (head, i))
            f.write("".join(lines).encode("ascii"))


def journal_cases(home: str, run_command, make_wallet, wif: str, api_key: str):
    """Rows (name, (seconds, peak MiB, stdout)) of whole-process starts, and text lines of the
    in-process figures. `flows.report` passes its own `run_command`, `make_wallet` (path,
    entries) and a BTC testnet key (this module imports nothing from flows: no import cycle)."""
    from kms_ref.daemon.journal import journal_path
    from kms_ref.sandbox.server import start_sandbox

    rows, notes = [], []
    with start_sandbox(api_key=api_key) as sandbox:
        env = {"TATUM_API_URL": sandbox.url, "TATUM_API_KEY": api_key}
        for n in SIZES:
            path = os.path.join(home, "history-%d.dat" % n)
            make_wallet(path, [{"privateKey": wif, "chain": "BTC", "testnet": True}])
            write_legacy_journal(journal_path(path), n)
            args = ["daemon", "--path", path, "--testnet", "--chain=BTC", "--runOnce"]
            first = run_command(args, home, env)
            moved = re.search(r"lines moved into its history .* in ([0-9.]+) s", first[2])
            label = "{:,}".format(n)
            rows.append(("daemon start, history %s txs: first (upgrade)" % label, first))
            later = sorted(run_command(args, home, env) for _ in range(3))   # the median of three
            rows.append(("daemon start, history %s txs: every later one" % label,
                         (later[1][0], max(r[1] for r in later), later[1][2])))
            if moved:
                notes.append("  upgrade of %s transactions (compaction at the first start): %s s"
                             % (label, moved.group(1)))
    paths = [journal_path(os.path.join(home, "history-%d.dat" % n)) for n in SIZES]
    notes.append("  Journal.open() (lock, manifest, runs' fences, live lines), median of 5: %s"
                 % ", ".join("%s txs %.2f ms" % ("{:,}".format(n), _open_seconds(p) * 1e3) for n, p in zip(SIZES, paths)))
    notes.extend(_in_process(paths[-1], SIZES[-1]))
    return rows, notes


def _open_seconds(path: str) -> float:
    from kms_ref.daemon.journal import Journal

    times = []
    for _ in range(5):
        started = time.perf_counter()
        Journal(path).open().close()
        times.append(time.perf_counter() - started)
    return sorted(times)[2]


def _in_process(path: str, n: int):
    from kms_ref.daemon.journal import Journal
    from kms_ref.daemon.journal_store import load_manifest

    with Journal(path) as journal:
        runs = len(load_manifest(journal.directory).runs)
        present = ["%024x" % (0x63B0 << 80 | i) for i in range(0, n, max(1, n // 2000))]
        absent = ["%024x" % (0x63B1 << 80 | i) for i in range(len(present))]
        started = time.perf_counter()
        found = [journal.state(i) for i in present + absent]
        lookup = (time.perf_counter() - started) / len(found)
        if None in found[:len(present)] or set(found[len(present):]) != {None}:
            raise RuntimeError("the journal lost track of its history")
        for i in range(3200):
            pending_id = "%024x" % (0x63B2 << 80 | i)
            journal.record(pending_id, "signing", txid="%064x" % i, chain="BTC")
            journal.record(pending_id, "broadcast", txId="%064x" % i)
        stats = journal.compact()
    return ["  lookup of a pending ID in a %s-transaction history (%d run%s): %.0f µs"
            % ("{:,}".format(n), runs, "" if runs == 1 else "s", lookup * 1e6),
            "  compaction of a 1 MiB live journal (3,200 transactions) into it: %.2f s" % stats["seconds"]]
