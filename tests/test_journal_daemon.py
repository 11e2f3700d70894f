"""The journal through real daemons (`python -m kms_ref daemon`) against tests/fake_tatum.py.

- A SIGKILL at every journal checkpoint around three broadcasts (KMS_REF_JOURNAL_CRASH_AT=N,
  journal_store.py), then a normal run against an API that still lists them: nothing is ever
  broadcast twice, and every request finds its intent in the journal already — with the
  daemon's pipeline (sign one, release the one before once its intent's fsync has returned,
  read the answer of the one before that) in every state. (A kill while the request is in
  flight is test_daemon.py's test_sigkill_mid_broadcast_is_in_doubt_after_restart.)
- A million transactions of history in the format kms_ref wrote before it had a history
  (JSON lines, written here by a generator, not through the daemon): the first start upgrades it
  in place, losing no byte; old IDs listed again — the oldest, the newest, failed, in doubt —
  are never signed again, and new ones are.
"""

import gzip
import hashlib
import json
import os
import shutil
import time

from kms_ref.daemon.journal import journal_path
from kms_ref.daemon.journal_audit import History
from kms_ref.daemon.journal_store import CRASH_ENV
from tests.cli_helpers import kms
from tests.fake_tatum import FakeTatum
from tests.test_daemon import BTC_1, DOGE_1, LTC_1, daemon_env, journal_events, run_daemon, sent_ids, wallet_for

HISTORY_TRANSACTIONS = 1_000_000


def in_doubt_error(txid):
    return ("interrupted during broadcast; transaction %s may be on the network — check before retrying" % txid)


def test_sigkill_at_every_point_around_the_broadcasts_never_twice(tmp_path):
    """Killed before an intent is written, after it is written and before its fsync, after the
    fsync (the request is next), before and after each result is written: each transaction ends
    broadcast exactly once, or in doubt — sent at most once and reported once."""
    base = tmp_path / "base"
    base.mkdir()
    cases = (BTC_1, LTC_1, DOGE_1)
    wallet, txs = wallet_for(base, *cases)
    crashed = 0
    for step in range(1, 150):
        case = tmp_path / ("step-%d" % step)
        shutil.copytree(str(base), str(case))
        case_wallet = case / wallet.name
        unannounced = []

        def intent_first(call):   # the server's view: the intent is in the journal before the request
            if call.method == "POST" and call.path.endswith("/broadcast"):
                tx_id = call.json()["signatureId"]
                if "signing" not in [e["event"] for e in journal_events(case_wallet, tx_id)]:
                    unannounced.append(tx_id)

        with FakeTatum() as api:
            api.on_call = intent_first
            api.pending = txs
            api.keep_listed = True    # Tatum lists them again: only the journal stops a second broadcast
            first = run_daemon(case, api, case_wallet, "--runOnce", "--testnet", env={CRASH_ENV: str(step)})
            if first.code == 0:
                break
            assert first.code == -9, first.err
            crashed += 1
            again = run_daemon(case, api, case_wallet, "--runOnce", "--testnet")
            assert again.code == 0, again.err
            sent, errors = sent_ids(api), api.batch_errors()
        assert unannounced == [], "step %d: broadcast before its intent was written" % step
        for tx, case_data in zip(txs, cases):
            events = [e["event"] for e in journal_events(case_wallet, tx["id"])]
            assert sent.count(tx["id"]) <= 1, "step %d: %s broadcast twice" % (step, tx["id"])
            if events == ["signing", "broadcast"]:
                assert sent.count(tx["id"]) == 1
            else:   # killed after the intent, before its result: in doubt, whether it was sent or not
                assert events == ["signing", "reported"], "step %d: %s" % (step, events)
                assert errors.count({"signatureId": tx["id"], "error": in_doubt_error(case_data["txid"])}) == 1
        shutil.rmtree(str(case))
    assert crashed >= 15, "only %d crash points" % crashed


# -- a million transactions of history -------------------------------------------------------------

def object_id(i):
    return "%024x" % (0x63B0_0000_0000_0000_0000_0000 + i)


def txid_of(i):
    return "%064x" % (i * 0x9E3779B97F4A7C15)


def write_history(path, n):
    """n transactions, one every 30 s from 2023-01-01, as JSON lines exactly as kms_ref wrote them
    before it had a history: most broadcast, every 1000th failed; transaction 2 in doubt and
    reported, 3 not sent, n - 2 in doubt and not reported. The SHA-256 of what was written."""
    digest = hashlib.sha256()
    special = {1: "failed", 2: "reported", 3: "not-sent", n - 2: None}
    with open(path, "wb") as f:
        for block in range(0, n, 20_000):
            lines = []
            for i in range(block, min(n, block + 20_000)):
                t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1672531200 + 30 * i)) + ".%03dZ" % (i % 1000)
                head = '{"t":"%s","id":"%s","event":' % (t, object_id(i))
                lines.append('%s"signing","txid":"%s","chain":"BTC"}\n' % (head, txid_of(i)))
                outcome = special.get(i, "failed" if i % 1000 == 999 else "broadcast")
                if outcome == "broadcast":
                    lines.append('%s"broadcast","txId":"%s"}\n' % (head, txid_of(i)))
                elif outcome in ("failed", "not-sent"):
                    lines.append('%s"%s","error":"HTTP 400: bad-txns (tx.invalid)"}\n' % (head, outcome))
                elif outcome == "reported":
                    lines.append('%s"reported"}\n' % head)
            data = "".join(lines).encode("ascii")
            f.write(data)
            digest.update(data)
    return digest.hexdigest()


def test_a_million_transactions_of_history(tmp_path):
    n = HISTORY_TRANSACTIONS
    wallet, [template] = wallet_for(tmp_path, BTC_1)
    path = journal_path(str(wallet))
    written = write_history(path, n)
    old = {"oldest": 0, "failed": 1, "reported in doubt": 2, "in doubt": n - 2, "newest": n - 1, "middle": n // 2}
    new = [object_id(n + 5), object_id(n + 6)]
    retry = object_id(3)                          # not sent: a later cycle may sign it again
    try:
        with FakeTatum() as api:
            api.pending = [dict(template, id=object_id(i)) for i in old.values()] + \
                [dict(template, id=i) for i in new + [retry]]
            api.keep_listed = True
            environ = daemon_env(api)
            first = kms(tmp_path, "daemon", "--path", str(wallet), "--runOnce", "--testnet", env=environ, timeout=900)
            assert first.code == 0, first.err
            assert "lines moved into its history" in first.out
            assert sorted(sent_ids(api)) == sorted(new + [retry])            # the old ones: never again
            assert api.batch_errors() == [{"signatureId": object_id(n - 2), "error": in_doubt_error(txid_of(n - 2))}]
            second = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet")
            assert second.code == 0, second.err
            assert "moved into its history" not in second.out                # no second upgrade
            assert sorted(sent_ids(api)) == sorted(new + [retry])
            assert len(api.batch_errors()) == 1
        with History(path) as history:                                        # no byte lost
            digest = hashlib.sha256()
            for segment in history.segments:
                with gzip.open(segment.path, "rb") as f:
                    digest.update(f.read())
            assert digest.hexdigest() == written
        story = kms(tmp_path, "journal", "--path", str(wallet), object_id(0)).json()
        assert story["state"] == "broadcast" and [e["event"] for e in story["events"]] == ["signing", "broadcast"]
        story = kms(tmp_path, "journal", "--path", str(wallet), object_id(n - 2)).json()
        assert (story["state"], story["reported"], story["txid"]) == ("in-doubt", True, txid_of(n - 2))
        window = kms(tmp_path, "journal", "--path", str(wallet), "--from", "2023-01-01T00:00:30Z",
                     "--to", "2023-01-01T00:02:30Z").json()
        assert [e["id"] for e in window["broadcast"]] == [object_id(i) for i in (4,)]   # 1-3 special, 5 at 02:30
        assert json.dumps(window).count("txId") == 1
    finally:
        shutil.rmtree(path + ".d", ignore_errors=True)
        if os.path.exists(path):
            os.unlink(path)
