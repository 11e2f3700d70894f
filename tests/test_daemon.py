"""The daemon (SPEC §5) as a real `python -m kms_ref daemon` process against a fake Tatum API.

The fake (tests/fake_tatum.py) listens on 127.0.0.1 with a random port and is scripted per test:
every Tatum signing fixture goes through the daemon and must be broadcast byte for byte; faults
(HTTP 500, timeouts, dropped connections, malformed JSON, slow-drip bodies) must not stop it;
nothing is ever broadcast twice, across cycles, restarts and a SIGKILL mid-broadcast.
"""

import contextlib
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from kms_ref import __version__
from kms_ref.daemon.tatum_client import TatumClient
from kms_ref.net.http_client import HttpError
from kms_ref.hd.chains import get_chain
from kms_ref.daemon.journal import IN_DOUBT, Journal, JournalLocked, journal_path
from kms_ref.daemon.journal_audit import History
from kms_ref.store import WalletStore
from tests.cli_helpers import PASSWORD, REPO, kms, kms_command
from tests.fake_tatum import Block, Drip, Drop, FakeTatum, Reply, Sleep
from tests.vectors import load

SIGN = load("tatum_sign.json")["vectors"]
OFFCHAIN = load("tatum_offchain.json")["vectors"]
CHEAP_SCRYPT = (2 ** 10, 8, 1)   # test files only: the daemon reads the cost from the file
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z - \S")
FAST = "1"                       # KMS_REF_HTTP_TIMEOUT for the fault tests, seconds


BTC_1 = SIGN[8]      # BTC testnet, one P2WPKH input, one key
LTC_1 = SIGN[33]     # LTC testnet, one P2SH-P2WPKH input, one key
DOGE_1 = SIGN[10]    # DOGE testnet, one key
assert (BTC_1["chain"], BTC_1["testnet"], len(BTC_1["privateKeys"])) == ("BTC", True, 1)
assert (LTC_1["chain"], LTC_1["testnet"], len(LTC_1["privateKeys"])) == ("LTC", True, 1)
assert (DOGE_1["chain"], DOGE_1["testnet"], len(DOGE_1["privateKeys"])) == ("DOGE", True, 1)


# -- helpers ---------------------------------------------------------------------------------------

def make_wallet(path, entries):
    """A kms_ref wallet file with `entries`, made in-process with a cheap scrypt; their IDs."""
    with WalletStore(str(path)).transaction(PASSWORD, scrypt_params=CHEAP_SCRYPT) as wallet:
        return [wallet.add(entry) for entry in entries]


def key_entries(case):
    return [{"privateKey": wif, "chain": case["chain"], "testnet": case["testnet"]} for wif in case["privateKeys"]]


def wallet_for(tmp_path, *cases):
    """A wallet holding the keys of `cases`; returns (path, [pending tx with hashes = its IDs])."""
    path = tmp_path / "wallet.dat"
    txs = []
    for case in cases:
        ids = make_wallet(path, key_entries(case))
        txs.append(dict(case["pending"], hashes=ids))
    return path, txs


def daemon_env(api, timeout="5"):
    return {"TATUM_API_KEY": api.api_key, "TATUM_API_URL": api.url, "KMS_REF_HTTP_TIMEOUT": timeout}


def run_daemon(tmp_path, api, wallet, *args, timeout="5", password=PASSWORD, env=None):
    environ = daemon_env(api, timeout)
    environ.update(env or {})
    r = kms(tmp_path, "daemon", "--path", str(wallet), *args, password=password, env=environ, timeout=60)
    if r.code in (0, 3):
        assert_log_lines(r.out + r.err)
    return r


def start_daemon(tmp_path, api, wallet, *args, timeout="5"):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TATUM_")}
    environ.update({"HOME": str(tmp_path), "PYTHONPATH": REPO, "TATUM_KMS_PASSWORD": PASSWORD})
    environ.update(daemon_env(api, timeout))
    return subprocess.Popen([*kms_command(), "daemon", "--path", str(wallet), *args],
                            cwd=str(tmp_path), env=environ, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@contextlib.contextmanager
def daemon_running(tmp_path, api, wallet, *args):
    """start_daemon, and a kill on the way out if the test left it running (a failed assert)."""
    proc = start_daemon(tmp_path, api, wallet, *args)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def assert_log_lines(text):
    """Every line is `<ISO 8601 UTC with ms and Z> - <text>`, as tatum-kms's."""
    for line in text.splitlines():
        assert LOG_LINE.match(line), line
        assert "Traceback" not in line


def journal_lines(path):
    """Every line ever journaled: the history segments, then the live journal (a start compacts
    the lines of earlier runs into the history)."""
    with History(path) as history:
        parts = [gzip.open(s.path).read() for s in history.segments] + [history.live]
    return b"".join(parts).decode().splitlines()


def journal_events(wallet, tx_id):
    return [e for e in map(json.loads, journal_lines(journal_path(str(wallet)))) if e["id"] == tx_id]


def sent_ids(api):
    return [c.json()["signatureId"] for c in api.broadcasts()]


# -- every Tatum fixture through the daemon --------------------------------------------------------

class VectorRun:
    """One `daemon --runOnce` over all cases of one fixture file and network."""

    def __init__(self, tmp_path, cases, offchain):
        self.wallet = tmp_path / "wallet.dat"
        self.secrets = []
        txs = []
        with WalletStore(str(self.wallet)).transaction(PASSWORD, scrypt_params=CHEAP_SCRYPT) as wallet:
            ids = {}
            for case in cases:
                if offchain:   # "hashes": ["MNEMONIC-WALLET"] stands for the mnemonic wallet
                    hashes = [wallet.add({"mnemonic": case["mnemonic"], "xpub": case["xpub"],
                                          "chain": case["chain"], "testnet": case["testnet"]})]
                    self.secrets.append(case["mnemonic"])
                else:          # BCH: hashes[i] is the key of input i, in order (repeats allowed)
                    for entry in key_entries(case):
                        key = (entry["chain"], entry["privateKey"])
                        if key not in ids:
                            ids[key] = wallet.add(entry)
                        self.secrets.append(entry["privateKey"])
                    hashes = [ids[(case["chain"], wif)] for wif in case["privateKeys"]]
                    if case["chain"] != "BCH":
                        hashes = list(dict.fromkeys(hashes))
                txs.append(dict(case["pending"], hashes=hashes))
        testnet = cases[0]["testnet"]
        with FakeTatum() as api:
            api.pending = txs
            args = ["--runOnce"] + (["--testnet"] if testnet else ["--externalUrl", api.url + "/external"])
            self.result = run_daemon(tmp_path, api, self.wallet, *args)
            self.calls = list(api.calls)
            self.broadcasts = api.broadcasts()
            self.batch_errors = api.batch_errors()
        assert self.result.code == 0, self.result.err


@pytest.fixture(scope="module")
def vector_run(tmp_path_factory):
    runs = {}

    def get(name, testnet):
        if (name, testnet) not in runs:
            cases = [c for c in (OFFCHAIN if name == "offchain" else SIGN) if c["testnet"] == testnet]
            tmp = tmp_path_factory.mktemp("%s-%s" % (name, "test" if testnet else "main"))
            runs[(name, testnet)] = VectorRun(tmp, cases, name == "offchain")
        return runs[(name, testnet)]
    return get


def _case_id(n, case):
    net = "test" if case["testnet"] else "main"
    inputs = len(case.get("kinds") or case["pending"].get("withdrawalResponses") or [])
    return "%02d-%s-%s-%din%s" % (n, case["chain"], net, inputs, "-refused" if case["error"] else "")


@pytest.mark.parametrize("case", [pytest.param(c, id=_case_id(n, c)) for n, c in enumerate(SIGN)])
def test_tatum_sign_through_the_daemon(vector_run, case):
    run = vector_run("sign", case["testnet"])
    tx_id = case["pending"]["id"]
    sent = [c for c in run.broadcasts if c.json()["signatureId"] == tx_id]
    if case["error"]:   # DOGE that bitcore-lib-doge refuses: reported, never broadcast
        assert sent == []
        assert {"signatureId": tx_id, "error": case["error"]} in run.batch_errors
        assert [e["event"] for e in journal_events(run.wallet, tx_id)] == []
        return
    assert len(sent) == 1
    assert sent[0].path == "/v3/%s/broadcast" % get_chain(case["chain"], case["testnet"]).api_name
    assert list(sent[0].json()) == ["txData", "signatureId"]
    assert sent[0].json()["txData"] == case["signed"]
    assert "Tx was processed: %s" % tx_id in run.result.out
    events = journal_events(run.wallet, tx_id)
    assert [(e["event"], e.get("txid") or e.get("txId")) for e in events] == \
        [("signing", case["txid"]), ("broadcast", case["txid"])]
    if not case["testnet"]:   # mainnet: approved by the four-eye system first
        assert [c.method for c in run.calls if c.path == "/external/" + tx_id] == ["GET"]


@pytest.mark.parametrize("case", [pytest.param(c, id=_case_id(n, c)) for n, c in enumerate(OFFCHAIN)])
def test_tatum_offchain_through_the_daemon(vector_run, case):
    run = vector_run("offchain", case["testnet"])
    tx_id = case["pending"]["id"]
    sent = [c for c in run.broadcasts if c.json()["signatureId"] == tx_id]
    assert len(sent) == 1 and sent[0].path == "/v3/offchain/withdrawal/broadcast"
    body = sent[0].json()
    assert list(body) == ["currency", "signatureId", "withdrawalId", "txData"]
    assert body == {"currency": case["chain"], "signatureId": tx_id,
                    "withdrawalId": case["pending"]["withdrawalId"], "txData": case["signed"]}


@pytest.mark.parametrize("name,testnet", [("sign", True), ("sign", False), ("offchain", True), ("offchain", False)])
def test_vector_runs_log_no_secret(vector_run, name, testnet):
    run = vector_run(name, testnet)
    output = run.result.out + run.result.err
    for secret in run.secrets + [PASSWORD]:
        assert secret not in output
    assert [c.headers["x-api-key"] for c in run.calls if c.path.startswith("/v3/")] and \
        all(c.headers.get("x-api-key") is None for c in run.calls if c.path.startswith("/external/"))
    assert oct(os.stat(journal_path(str(run.wallet))).st_mode & 0o777) == "0o600"


# -- refusing to start -----------------------------------------------------------------------------

def test_wrong_password_stops_before_any_request(tmp_path):
    wallet, txs = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api:
        api.pending = txs
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", password="not the password")
        assert r.code == 1 and r.error() == "Wrong password"
        assert api.calls == []


def test_a_second_daemon_on_the_wallet_stops_at_the_journal_lock(tmp_path):
    # The wallet is unlocked on a helper thread while the journal is opened: a journal held by
    # another daemon still stops this one first, whatever the password, with nothing sent.
    wallet, txs = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api, Journal(journal_path(str(wallet))):
        api.pending = txs
        for password in (PASSWORD, "not the password"):
            r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", password=password)
            assert r.code == 1 and "another kms_ref daemon" in r.error(), r.err
        assert api.calls == []


def test_the_ids_a_cycle_reads_ahead_are_those_the_transaction_names():
    from kms_ref.daemon.signer import named_wallet_ids
    assert named_wallet_ids({"hashes": ["a", "b"], "signatures": [{"id": "c", "index": 1}, {"id": "a"}]}) \
        == ["a", "b", "c", "a"]
    # malformed parts are skipped here; signing the transaction refuses them with a message
    assert named_wallet_ids({"hashes": "abc", "signatures": [{"id": 5}, "d", {"index": 2}, {"id": "e"}]}) == ["e"]
    assert named_wallet_ids({"hashes": [1, None, "f"], "signatures": {"id": "g"}}) == ["f"]
    assert named_wallet_ids(["not", "a", "dict"]) == [] and named_wallet_ids({}) == []


def test_checking_the_settings_imports_no_http_machinery():
    # The daemon reads its settings and the password before it unlocks the wallet, and imports
    # the rest while scrypt runs (kms_ref.daemon.main); http.client (with email and ssl) must
    # stay out of that first part, or its import time stops overlapping the unlock.
    code = ("import sys\n"
            "from kms_ref.cli import main as cli\n"
            "from kms_ref.daemon import main, settings\n"
            "from kms_ref.passwords.sources import choose\n"
            "assert settings.routes and main.settings_from and cli.main\n"
            "assert choose({}, {'TATUM_KMS_PASSWORD': 'p'}).read() == 'p'\n"
            "print(sorted(m for m in ('http.client', 'urllib.request', 'ssl', 'kms_ref.daemon.cycle') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=REPO),
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("args,env,code,message", [
    (["--runOnce"], {}, 2, "Missing required flag --externalUrl"),
    (["--runOnce", "--testnet"], {"TATUM_API_KEY": ""}, 1, "Required TATUM_API_KEY is not set"),
    (["--runOnce", "--testnet", "--chain", "BTC,ETH"], {}, 1, "unsupported chain 'ETH'"),
    (["--runOnce", "--testnet", "--period", "0"], {}, 1, "--period must be"),
    (["--runOnce", "--testnet", "--externalUrl", "http://x", "--externalUrlMethod", "PUT"], {}, 1, "GET or POST"),
    (["--runOnce", "--testnet"], {"KMS_REF_HTTP_TIMEOUT": "soon"}, 1, "KMS_REF_HTTP_TIMEOUT"),
], ids=["mainnet-without-externalUrl", "no-api-key", "bad-chain", "period-0", "bad-method", "bad-timeout"])
def test_bad_settings_stop_before_any_request(tmp_path, args, env, code, message):
    wallet, txs = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api:
        api.pending = txs
        r = run_daemon(tmp_path, api, wallet, *args, env=env)
        assert r.code == code and message in r.error()
        assert api.calls == []


def test_one_daemon_per_wallet(tmp_path):
    wallet, txs = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api, Journal(journal_path(str(wallet))):
        api.pending = txs
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet")
        assert r.code == 1 and "already running" in r.error()
        assert api.calls == []


# -- faults ----------------------------------------------------------------------------------------

PENDING_FAULTS = {
    "http-500": Reply(500, {"statusCode": 500, "message": "Internal error"}),
    "timeout": Sleep(3),
    "dropped": Drop(),
    "malformed-json": Reply(200, "[{not json"),
    "not-a-list": Reply(200, {"oops": 1}),
    "slow-drip": Drip(interval=0.01),   # the real answer, one byte per 10 ms: ~15 s without a deadline
}


@pytest.mark.parametrize("fault", list(PENDING_FAULTS))
def test_unusable_pending_answer_exits_3(tmp_path, fault):
    wallet, txs = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api:
        api.pending = txs
        api.script("POST", "/v3/kms/pending/BTC", PENDING_FAULTS[fault])
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", "--chain", "BTC", timeout=FAST)
        assert r.code == 3, r.err
        assert "gave no usable answer" in r.err
        assert api.broadcasts() == []


def test_no_server_exits_3(tmp_path):
    wallet, _ = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api:
        pass   # closed: its port now refuses connections
    r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", timeout=FAST)
    assert r.code == 3 and "request not sent (" in r.err


def test_one_chain_down_the_others_go_on(tmp_path):
    wallet, txs = wallet_for(tmp_path, BTC_1, LTC_1)
    with FakeTatum() as api:
        api.pending = txs
        api.script("POST", "/v3/kms/pending/BTC", Reply(500, {"statusCode": 500, "message": "Internal error"}))
        api.script("POST", "/v3/tatum/kms/batch", Reply(500))   # a failed report is not fatal either
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", timeout=FAST)
        assert r.code == 0, r.err
        assert "Error received from API /v3/kms/pending/BTC - HTTP 500: Internal error" in r.err
        assert sent_ids(api) == [LTC_1["pending"]["id"]]
        assert [c.path for c in api.calls_to("/v3/kms/pending/")] == \
            ["/v3/kms/pending/BTC", "/v3/kms/pending/LTC"]   # tatum-kms's order: BCH, BTC, LTC, DOGE


BAD_IDS = ["../x", ".", "..", "a/b", "a?b", "a#b", "a%2Fb", "%2e%2e", "a\nb", "", 17]


def test_malformed_entries_are_skipped(tmp_path):
    """A pending ID must look like a Tatum ID: one that a URL would read as a path step, a query
    or a fragment is refused before any four-eye request (or any other) is built with it."""
    wallet, txs = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api:
        listed = [17, {"chain": "BTC"}] + [dict(txs[0], id=bad) for bad in BAD_IDS] + txs
        api.script("POST", "/v3/kms/pending/BTC", Reply(200, listed))
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", "--chain", "BTC",
                       "--externalUrl", api.url + "/external")
        assert r.code == 0 and r.err.count("Skipping a malformed pending transaction") == 2 + len(BAD_IDS)
        assert sent_ids(api) == [BTC_1["pending"]["id"]]
        assert [c.path for c in api.calls_to("/external")] == ["/external/" + BTC_1["pending"]["id"]]
        assert [c for c in api.calls if c.path.startswith("/v3/kms/") and "pending" not in c.path] == []


BROADCAST_FAULTS = {
    "http-500": (Reply(500, {"statusCode": 500, "message": "node unavailable"}), "retried"),
    "timeout": (Sleep(3), "in-doubt"),
    "dropped": (Drop(), "in-doubt"),
    "http-400": (Reply(400, {"statusCode": 400, "errorCode": "tx.invalid", "message": "bad-txns"}), "failed"),
    "http-403-node": (Reply(403, {"statusCode": 403, "errorCode": "btc.broadcast.failed",
                                  "message": "bad-txns"}), "failed"),
    "http-401": (Reply(401, {"statusCode": 401, "errorCode": "subscription.invalid", "message": "bad-txns"}),
                 "retried"),
    "http-403-key": (Reply(403, {"statusCode": 403, "errorCode": "apikey.expired", "message": "bad-txns"}),
                     "retried"),
    "http-408": (Reply(408, {"statusCode": 408, "message": "request timeout"}), "retried"),
    "http-429": (Reply(429, {"statusCode": 429, "message": "slow down"}), "retried"),
    "malformed-2xx": (Reply(200, "<html>ok</html>"), "broadcast"),
}


@pytest.mark.parametrize("fault", list(BROADCAST_FAULTS))
def test_broadcast_faults_never_broadcast_twice(tmp_path, fault):
    """Only a refusal of the transaction itself ends it; auth, rate-limit and server errors are
    retried (the same bytes), and an answer that may have been lost leaves it in doubt."""
    action, outcome = BROADCAST_FAULTS[fault]
    wallet, txs = wallet_for(tmp_path, BTC_1)
    tx_id = BTC_1["pending"]["id"]
    with FakeTatum() as api:
        api.pending = txs
        api.keep_listed = True   # Tatum keeps listing it: only the journal stops a second broadcast
        api.script("POST", "/v3/bitcoin/broadcast", action)
        first = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", timeout=FAST)
        second = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet")
        assert first.code == 0 and second.code == 0, first.err + second.err
        events = [e["event"] for e in journal_events(wallet, tx_id)]
        if outcome == "in-doubt":
            assert sent_ids(api) == [tx_id]
            [report] = api.batch_errors()
            assert report["signatureId"] == tx_id
            assert report["error"].startswith("interrupted during broadcast (")
            assert report["error"].endswith("transaction %s may be on the network — check before retrying"
                                            % BTC_1["txid"])
            assert events == ["signing", "reported"]
        elif outcome == "failed":
            assert sent_ids(api) == [tx_id]
            [report] = api.batch_errors()
            assert report["signatureId"] == tx_id and report["error"].startswith("HTTP 40")
            assert events == ["signing", "failed"]
        elif outcome == "retried":   # nothing was said about the transaction: the next run sends it again
            assert sent_ids(api) == [tx_id, tx_id] and api.batch_errors() == []
            assert events == ["signing", "not-sent", "signing", "broadcast"]
            assert "held back; next try in" in first.err
            assert "Holding back 1 transaction(s) after transient errors" in first.out
        else:
            assert sent_ids(api) == [tx_id] and api.batch_errors() == []
            assert events == ["signing", "broadcast"]
        if outcome != "broadcast":   # after a failed broadcast, the daemon asks the network first
            assert api.calls_to("/v3/bitcoin/transaction/%s" % BTC_1["txid"], "GET")


BTC_5 = [SIGN[i] for i in (0, 8, 16, 24, 32)]
assert {(c["chain"], c["testnet"], bool(c["error"])) for c in BTC_5} == {("BTC", True, False)}


def test_one_401_does_not_abandon_anything(tmp_path):
    """Issue 10 §3: after one 401 on a broadcast and a healthy API, every transaction is broadcast
    — the refused one after a back-off — nothing is reported as failed, and the cycle says at info
    level what it holds back and why."""
    wallet, txs = wallet_for(tmp_path, *BTC_5)
    with FakeTatum() as api:
        api.pending = txs
        api.script("POST", "/v3/bitcoin/broadcast",
                   Reply(401, {"statusCode": 401, "errorCode": "apikey.invalid", "message": "expired key"}))
        with daemon_running(tmp_path, api, wallet, "--testnet", "--period", "0.2", "--chain", "BTC") as proc:
            assert api.wait_for(lambda: len(sent_ids(api)) == 6), "the refused one was not tried again"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert sorted(sent_ids(api)) == sorted([txs[0]["id"]] + [tx["id"] for tx in txs])
    assert api.batch_errors() == []
    assert re.search(r"Holding back 1 transaction\(s\) after transient errors, retried with back-off: "
                     r"%s \(HTTP 401: expired key \(apikey.invalid\); failed 1 time\(s\)" % txs[0]["id"], out)


def test_already_on_the_network_is_success(tmp_path):
    """SPEC §5 "Several daemons": the node refuses a rebroadcast ("txn-already-in-mempool"), Tatum
    wraps it in a 4xx — but the network knows the txid kms_ref computed, so it is done: journaled as
    broadcast, marked processed (PUT) if Tatum has not, and nothing goes to the batch endpoint."""
    wallet, txs = wallet_for(tmp_path, BTC_1)
    tx_id = BTC_1["pending"]["id"]
    with FakeTatum() as api:
        api.pending = txs
        api.known_txids.add(BTC_1["txid"])
        api.script("POST", "/v3/bitcoin/broadcast",
                   Reply(403, {"statusCode": 403, "errorCode": "btc.broadcast.failed",
                               "message": "txn-already-in-mempool"}))
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet")
        assert r.code == 0, r.err
        assert api.batch_errors() == []
        assert [e["event"] for e in journal_events(wallet, tx_id)] == ["signing", "broadcast"]
        assert [c.path for c in api.calls_to("/v3/kms/", "PUT")] == ["/v3/kms/%s/%s" % (tx_id, BTC_1["txid"])]
        assert "is on the network already as %s" % BTC_1["txid"] in r.out

        (tmp_path / "copy").mkdir()                 # another daemon, whose pending tx Tatum has marked
        wallet2, [copy_tx] = wallet_for(tmp_path / "copy", BTC_1)
        api.pending = [dict(copy_tx, txId=BTC_1["txid"])]
        api.script("POST", "/v3/bitcoin/broadcast", Reply(409, {"statusCode": 409, "errorCode": "tx.already.broadcast",
                                                                 "message": "transaction already broadcast"}))
        again = run_daemon(tmp_path, api, wallet2, "--runOnce", "--testnet")
        assert again.code == 0 and api.batch_errors() == []
        assert len(api.calls_to("/v3/kms/", "PUT")) == 1           # no second PUT: it carries its txId


def test_in_doubt_is_settled_once_the_network_shows_it(tmp_path):
    wallet, txs = wallet_for(tmp_path, BTC_1)
    tx_id = BTC_1["pending"]["id"]
    with FakeTatum() as api:
        api.pending = txs
        api.keep_listed = True
        api.script("POST", "/v3/bitcoin/broadcast", Drop())
        first = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", timeout=FAST)
        assert first.code == 0 and len(api.batch_errors()) == 1      # in doubt: reported once
        api.known_txids.add(BTC_1["txid"])                          # ... and then it shows up
        second = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet")
        assert second.code == 0, second.err
        assert [e["event"] for e in journal_events(wallet, tx_id)] == ["signing", "reported", "broadcast"]
        assert sent_ids(api) == [tx_id] and len(api.batch_errors()) == 1
        assert [c.path for c in api.calls_to("/v3/kms/", "PUT")] == ["/v3/kms/%s/%s" % (tx_id, BTC_1["txid"])]


def test_broadcast_answered_failed_is_completed(tmp_path):
    wallet, txs = wallet_for(tmp_path, BTC_1)
    tx_id = BTC_1["pending"]["id"]
    with FakeTatum() as api:
        api.pending = txs
        api.broadcast_answer = {"failed": True}   # on the network, but Tatum did not mark it
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet")
        assert r.code == 0
        assert [c.path for c in api.calls_to("/v3/kms/", "PUT")] == ["/v3/kms/%s/%s" % (tx_id, BTC_1["txid"])]


def test_sigkill_mid_broadcast_is_in_doubt_after_restart(tmp_path):
    wallet, txs = wallet_for(tmp_path, BTC_1)
    tx_id = BTC_1["pending"]["id"]
    release = threading.Event()
    with FakeTatum() as api:
        api.pending = txs
        api.script("POST", "/v3/bitcoin/broadcast", Block(release))
        proc = start_daemon(tmp_path, api, wallet, "--runOnce", "--testnet")
        try:
            assert api.wait_for(lambda: api.broadcasts()), "the daemon never broadcast"
            proc.kill()
            proc.communicate(timeout=10)
        finally:
            release.set()
        assert [e["event"] for e in journal_events(wallet, tx_id)] == ["signing"]
        again = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet")
        assert again.code == 0, again.err
        message = ("interrupted during broadcast; transaction %s may be on the network — check before "
                   "retrying" % BTC_1["txid"])
        assert message in again.err
        once_more = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet")
        assert once_more.code == 0
        assert sent_ids(api) == [tx_id]                                    # never a second broadcast
        assert api.batch_errors() == [{"signatureId": tx_id, "error": message}]   # reported once


# -- the four-eye principle ------------------------------------------------------------------------

@pytest.mark.parametrize("status", [404, 500, None], ids=["404", "500", "unreachable"])
def test_four_eye_refusal(tmp_path, status):
    wallet, txs = wallet_for(tmp_path, BTC_1)
    tx_id = BTC_1["pending"]["id"]
    with FakeTatum() as closed:
        pass   # its port now refuses connections
    with FakeTatum() as api:
        api.pending = txs
        api.external_status[tx_id] = status
        external = (api.url if status else closed.url) + "/external"
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", "--externalUrl", external, timeout=FAST)
        assert r.code == 0
        assert "Transaction not found on external system. ID: %s" % tx_id in r.err
        assert api.broadcasts() == [] and api.batch_errors() == []
        assert journal_events(wallet, tx_id) == []


@pytest.mark.parametrize("method", ["GET", "post"])
def test_four_eye_approval(tmp_path, method):
    wallet, txs = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api:
        api.pending = txs
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", "--externalUrl", api.url + "/external/",
                       "--externalUrlMethod", method)
        assert r.code == 0 and "External url '%s/external' is present" % api.url in r.out
        [check] = api.calls_to("/external/")
        assert check.path == "/external/" + txs[0]["id"] and check.method == method.upper()
        assert check.json() == (txs[0] if method == "post" else None)   # POST: the pending tx as body
        assert sent_ids(api) == [txs[0]["id"]]


# -- filters ---------------------------------------------------------------------------------------

def test_transaction_ids_filter(tmp_path):
    wallet, txs = wallet_for(tmp_path, BTC_1, LTC_1)
    with FakeTatum() as api:
        api.pending = txs
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", "--transactionIds", " %s " % LTC_1["pending"]["id"])
        assert r.code == 0
        assert "Tx was not processed: %s , expected one of : %s" % (BTC_1["pending"]["id"], LTC_1["pending"]["id"]) in r.out
        assert sent_ids(api) == [LTC_1["pending"]["id"]]


def test_wallet_filter(tmp_path):
    wallet, txs = wallet_for(tmp_path, BTC_1, LTC_1)
    ltc_id = txs[1]["hashes"][0]
    unknown = "00000000-0000-4000-8000-000000000000"
    with FakeTatum() as api:
        api.pending = txs
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", "--wallets", "%s,%s" % (ltc_id, unknown))
        assert r.code == 0
        assert "--wallet %s is not in" % unknown in r.err
        assert [(c.path, c.json()) for c in api.calls_to("/v3/kms/pending/")] == \
            [("/v3/kms/pending/LTC", {"signatureIds": [ltc_id]})]
        assert sent_ids(api) == [LTC_1["pending"]["id"]]


# -- the loop --------------------------------------------------------------------------------------

def test_loop_across_cycles_and_sigterm(tmp_path):
    wallet, [btc_tx] = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api:
        api.pending = [btc_tx]
        api.keep_listed = True
        with daemon_running(tmp_path, api, wallet, "--testnet", "--period", "0.2", "--chain", " btc, LTC") as proc:
            assert api.wait_for(lambda: sent_ids(api) == [btc_tx["id"]])
            ltc_ids = make_wallet(wallet, key_entries(LTC_1))     # a new key while it runs
            api.pending.append(dict(LTC_1["pending"], hashes=ltc_ids))
            assert api.wait_for(lambda: len(sent_ids(api)) == 2)
            cycles = len(api.calls_to("/v3/kms/pending/BTC"))
            assert api.wait_for(lambda: len(api.calls_to("/v3/kms/pending/BTC")) >= cycles + 3)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert_log_lines(out + err)
        assert sent_ids(api) == [btc_tx["id"], LTC_1["pending"]["id"]]   # each once, though still listed
        assert "changed; reloaded it" in out and "Received SIGTERM" in out


def test_sigterm_mid_broadcast_finishes_the_step(tmp_path):
    wallet, [tx] = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api:
        api.pending = [tx]
        api.script("POST", "/v3/bitcoin/broadcast", Sleep(1.0))
        with daemon_running(tmp_path, api, wallet, "--testnet", "--period", "0.2") as proc:
            assert api.wait_for(lambda: api.broadcasts())
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "Tx was processed: %s" % tx["id"] in out
        assert [e["event"] for e in journal_events(wallet, tx["id"])] == ["signing", "broadcast"]


def test_api_down_backs_off_and_logs_once(tmp_path):
    wallet, [tx] = wallet_for(tmp_path, BTC_1)
    with FakeTatum() as api:
        api.pending = [tx]
        api.script("POST", "/v3/kms/pending/BTC", *[Reply(503, {"message": "maintenance"})] * 3)
        with daemon_running(tmp_path, api, wallet, "--testnet", "--period", "0.1", "--chain", "BTC") as proc:
            assert api.wait_for(lambda: sent_ids(api) == [tx["id"]])
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert err.count("Error received from API /v3/kms/pending/BTC - HTTP 503: maintenance") == 1
    assert err.count("gave no usable answer") == 1 and out.count("answers again") == 1


# -- the client and the journal, in-process --------------------------------------------------------

def test_client_calls():
    with FakeTatum(api_key="k3y") as api:
        client = TatumClient(api.url + "/", "k3y", timeout=5)
        api.pending = [{"id": "id/1", "chain": "BTC"}]
        api.script("POST", "/v3/litecoin/transaction", Reply(200, {"signatureId": "p2"}))
        api.script("POST", "/v3/sandbox/faucet", Reply(200, {"txId": "f" * 64}))
        api.script("GET", "/v3/dogecoin/address/balance/", Reply(200, {"incoming": "1", "outgoing": "0"}))
        assert client.pending("BTC", ["a", "b"]) == []
        assert client.get_pending("id/1") == {"id": "id/1", "chain": "BTC"}
        assert client.complete("p1", "t1") is None
        assert client.delete("p1") is None
        assert client.broadcast("bitcoin", "00", "p1") == {"txId": "00" * 32, "failed": False}
        client.offchain_broadcast("BTC", "p1", "w1", "00")
        assert client.report_errors([{"signatureId": "p1", "error": "e"}]) is None
        assert client.create_transaction("litecoin", {"to": []}) == {"signatureId": "p2"}
        assert client.faucet("addr", "0.1", chain="BTC") == {"txId": "f" * 64}
        assert client.balance("dogecoin", "addr") == {"incoming": "1", "outgoing": "0"}
        calls = [(c.method, c.path, c.json()) for c in api.calls]
        assert calls == [
            ("POST", "/v3/kms/pending/BTC", {"signatureIds": ["a", "b"]}),
            ("GET", "/v3/kms/id%2F1", None),
            ("PUT", "/v3/kms/p1/t1", None),
            ("DELETE", "/v3/kms/p1?revert=true", None),
            ("POST", "/v3/bitcoin/broadcast", {"txData": "00", "signatureId": "p1"}),
            ("POST", "/v3/offchain/withdrawal/broadcast",
             {"currency": "BTC", "signatureId": "p1", "withdrawalId": "w1", "txData": "00"}),
            ("POST", "/v3/tatum/kms/batch", {"errors": [{"signatureId": "p1", "error": "e"}]}),
            ("POST", "/v3/litecoin/transaction", {"to": []}),
            ("POST", "/v3/sandbox/faucet", {"address": "addr", "amount": "0.1", "chain": "BTC"}),
            ("GET", "/v3/dogecoin/address/balance/addr", None),
        ]
        for call in api.calls:
            assert call.headers["x-api-key"] == "k3y"
            assert call.headers["content-type"] == "application/json"
            assert call.headers["user-agent"] == "kms_ref/" + __version__
            assert call.headers["x-ttm-kms-client-version"] == __version__
        assert "k3y" not in repr(client)


@pytest.mark.parametrize("action,status,sent,text", [
    (Reply(401, {"statusCode": 401, "message": "key k3y is not valid"}), 401, True, "key *** is not valid"),
    (Reply(200, "{not json"), 200, True, "malformed JSON"),
    (Sleep(2), None, True, "timed out after 0.3 s"),
    (Drop(), None, True, "no complete answer"),
    (Drip(body=[0] * 200, interval=0.01), None, True, "timed out after 0.3 s"),
], ids=["http-401", "malformed", "timeout", "dropped", "slow-drip"])
def test_client_errors(action, status, sent, text):
    with FakeTatum(api_key="k3y") as api:
        api.script("POST", "/v3/kms/pending/BTC", action)
        with pytest.raises(HttpError) as failure:
            TatumClient(api.url, "k3y", timeout=0.3).pending("BTC", ["a"])
    assert (failure.value.status, failure.value.sent) == (status, sent)
    assert text in str(failure.value) and "k3y" not in str(failure.value)


def test_client_no_connection_was_not_sent():
    with FakeTatum() as api:
        pass
    with pytest.raises(HttpError) as failure:
        TatumClient(api.url, "k", timeout=1).broadcast("bitcoin", "00", "p1")
    assert failure.value.status is None and failure.value.sent is False


def test_journal_states_torn_line_and_lock(tmp_path):
    path = str(tmp_path / "w" / "wallet.dat.journal")
    with Journal(path) as journal:
        journal.record("a", "signing", txid="t1", chain="BTC")
        journal.record("a", "broadcast", txId="t1")
        journal.record("b", "signing", txid="t2", chain="BTC")
        journal.record("c", "signing", txid="t3", chain="BTC")
        journal.record("c", "not-sent", error="HTTP 429")
        journal.record("d", "signing", txid="t4", chain="BTC")
        with pytest.raises(JournalLocked):
            Journal(path).open()
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    with open(path, "ab") as f:
        f.write(b'{"t":"x","id":"d","event":"broa')      # a crash while writing d's result
    with Journal(path) as journal:
        assert journal.torn_lines == 1
        assert [journal.state(i) for i in "abcde"] == ["broadcast", IN_DOUBT, None, IN_DOUBT, None]
        assert journal.txid("d") == "t4" and sorted(journal.in_doubt()) == ["b", "d"]
        journal.record("b", "reported")
    with Journal(path) as journal:
        assert journal.reported("b") and not journal.reported("d") and journal.state("b") == IN_DOUBT
    lines = journal_lines(path)
    assert lines[-2] == '{"t":"x","id":"d","event":"broa' and json.loads(lines[-1])["event"] == "reported"



def test_four_eye_refuses_ids_that_would_change_the_url():
    """Defence in depth: `approved` itself builds no request for an ID that is not a Tatum ID."""
    from kms_ref.daemon.four_eye import approved
    from kms_ref.daemon.log import Log

    with FakeTatum() as api:
        for bad in BAD_IDS:
            assert not approved(api.url + "/external", False, 5, {}, bad, Log())
        assert approved(api.url + "/external", False, 5, {}, "5f1a2b3c4d5e6f7a8b9c0d1e", Log())
        assert [c.path for c in api.calls] == ["/external/5f1a2b3c4d5e6f7a8b9c0d1e"]


@pytest.mark.parametrize("status,code,refused", [
    (400, "validation.failed", True), (409, "tx.already.broadcast", True), (422, None, True),
    (403, "btc.broadcast.failed", True), (403, "tx.signature.invalid", True),
    (403, "apikey.expired", False), (403, "subscription.invalid", False), (403, None, False),
    (401, "tx.invalid", False), (404, None, False), (408, None, False), (429, None, False),
    (500, "tx.invalid", False), (503, None, False),
])
def test_what_refuses_the_transaction(status, code, refused):
    from kms_ref.daemon.broadcast import refuses_the_transaction
    from kms_ref.daemon.tatum_client import TatumError

    assert refuses_the_transaction(TatumError(status, "x", code)) is refused


# -- a broadcast's answer is read after the next signature (Daemon.finish_broadcast) -------------

def test_a_transaction_listed_twice_in_a_cycle_is_broadcast_once(tmp_path):
    """A broadcast's answer is read only after the next transaction is signed, so the journal may
    not have the first listing's result when the second is looked at: the cycle itself must not
    send one ID twice (nor report it in doubt)."""
    wallet, txs = wallet_for(tmp_path, BTC_1, LTC_1)
    with FakeTatum() as api:
        api.pending = txs[:1] + txs[:1] + txs[:1]
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", "--chain=BTC")
        assert r.code == 0, r.err
        assert sent_ids(api) == [BTC_1["pending"]["id"]] and api.batch_errors() == []


def test_a_broadcast_is_written_before_its_answer_is_read(tmp_path):
    """The daemon writes a broadcast request, signs the next transaction, then reads the answer
    (Broadcaster.intend, release, finish): the intent is in the journal before the request
    leaves, the request has reached the API while its answer is still unread, and the result is
    journaled once it is read."""
    from kms_ref.daemon.broadcast import Broadcaster, Outcomes
    from kms_ref.daemon.log import Log
    from kms_ref.daemon.retry import HeldBack
    from kms_ref.tx.transaction import parse_hex

    signed = BTC_1["signed"]
    txid = parse_hex(signed).txid()
    with FakeTatum() as api, Journal(str(tmp_path / "wallet.dat.journal")) as journal:
        api.script("POST", "/v3/bitcoin/broadcast", Sleep(0.3))      # the API takes its time
        outcomes = Outcomes(Log())
        broadcaster = Broadcaster(TatumClient(api.url, api.api_key), journal, Log(), HeldBack(5))
        ready = broadcaster.intend({}, "pending-1", get_chain("BTC", True), signed, txid, outcomes)
        assert ready is not None and journal.state("pending-1") == IN_DOUBT and api.broadcasts() == []
        in_flight = broadcaster.release(ready)
        assert in_flight is not None
        assert journal.txid("pending-1") == txid
        deadline = time.monotonic() + 10
        while not api.broadcasts() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [c.json()["txData"] for c in api.broadcasts()] == [signed]   # sent, answer unread
        broadcaster.finish(in_flight)
        assert journal.state("pending-1") == "broadcast" and outcomes.failures == []
