"""Several daemons, one wallet, one API key (SPEC §5, "Several daemons"; issue 10 §3), for real:
three `kms-ref daemon` processes, each with its own copy of the wallet file, against one sandbox
holding over a hundred pending transactions. RFC 6979 makes them sign every transaction
identically, so whichever broadcasts second gets "already broadcast" (409) — which, since the
network knows that txid, is success: every transaction lands on the ledger exactly once, and no
error batch reaches /v3/tatum/kms/batch."""

import os
import shutil
import signal
import subprocess
import sys
import types

from kms_ref.daemon.journal import journal_path
from kms_ref.hd.chains import get_chain
from kms_ref.sandbox.server import start_sandbox
from kms_ref.store import WalletStore
from kms_ref.tx.pending import sign_pending
from tests.cli_helpers import PASSWORD, REPO
from tests.test_daemon import CHEAP_SCRYPT, journal_events, run_daemon
from tests.test_sandbox import API_KEY, Key

CHAIN = get_chain("BTC", True)
KEYS, PER_KEY = 4, 30            # 120 pending transactions


def wallet_with_keys(path, keys):
    """A wallet file holding `keys` as private-key wallets; their signature IDs, in order."""
    with WalletStore(str(path)).transaction(PASSWORD, scrypt_params=CHEAP_SCRYPT) as wallet:
        return [wallet.add({"privateKey": key.wif, "chain": "BTC", "testnet": True}) for key in keys]


def queue(ledger, key, signature_id, receiver):
    """One faucet output of `key`, and a pending transaction spending it; the pending ID."""
    funding = ledger.faucet(key.address, "0.001", "BTC")
    body = {"fromUTXO": [{"txHash": funding["txId"], "index": funding["index"], "signatureId": signature_id}],
            "to": [{"address": receiver.address, "value": "0.0005"}],
            "fee": "0.00001", "changeAddress": key.address}
    return ledger.create_transaction("bitcoin", body)["signatureId"]


def test_three_daemons_one_wallet_one_api_key(tmp_path):
    keys = [Key(CHAIN, i) for i in range(KEYS)]
    receiver = Key(CHAIN, 99)
    original = tmp_path / "wallet.dat"
    ids = wallet_with_keys(original, keys)
    with start_sandbox(api_key=API_KEY) as sandbox:
        ledger = sandbox.ledger
        pending_ids = [queue(ledger, key, sig_id, receiver) for key, sig_id in zip(keys, ids) for _ in range(PER_KEY)]
        api = types.SimpleNamespace(api_key=API_KEY, url=sandbox.url)
        daemons, homes = [], []
        for n in range(3):   # one journal admits one daemon: each has its own copy of the file
            home = tmp_path / ("daemon%d" % n)
            home.mkdir()
            shutil.copyfile(original, home / "wallet.dat")
            homes.append(home)
            daemons.append(start_logged_daemon(home, api, "--testnet", "--chain", "BTC", "--period", "0.5"))
        try:
            done = lambda: all(ledger.pending[i].completed for i in pending_ids)  # noqa: E731
            assert _wait(done, 600), "not every pending transaction was completed"
        finally:
            for proc in daemons:
                proc.send_signal(signal.SIGTERM)
            for proc in daemons:
                proc.wait(timeout=60)
        outputs = [((home / "out.log").read_text(), (home / "err.log").read_text()) for home in homes]
        assert [proc.returncode for proc in daemons] == [0, 0, 0], [err for _, err in outputs]

        report = ledger.broadcast_report()
        for pending_id in pending_ids:
            [txid] = report["accepted"][pending_id]                 # on the ledger exactly once
            assert ledger.pending[pending_id].tx_id == txid
            assert txid in ledger.books[("BTC", True)].transactions
        assert ledger.error_batches == [], ledger.error_batches    # no KMS_FAILED_TX webhook
        for home, (out, err) in zip(homes, outputs):
            assert "Could not process" not in err, err
            for pending_id in pending_ids:   # each daemon settled what it saw: broadcast, never failed
                assert "failed" not in [e["event"] for e in journal_events(home / "wallet.dat", pending_id)]
        attempts = sum(report["attempts"].get(i, 0) for i in pending_ids)
        print("%d broadcasts for %d transactions: %d answered 'already broadcast'"
              % (attempts, len(pending_ids), attempts - len(pending_ids)))


def start_logged_daemon(home, api, *args):
    """`kms-ref daemon` on home/wallet.dat, its log in home/out.log and home/err.log (a pipe nobody
    reads would fill up and stop it)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TATUM_")}
    environ.update({"HOME": str(home), "PYTHONPATH": REPO, "TATUM_KMS_PASSWORD": PASSWORD,
                    "TATUM_API_KEY": api.api_key, "TATUM_API_URL": api.url, "KMS_REF_HTTP_TIMEOUT": "30"})
    with open(home / "out.log", "w") as out, open(home / "err.log", "w") as err:
        return subprocess.Popen([sys.executable, "-m", "kms_ref", "daemon", "--path", str(home / "wallet.dat"),
                                 *args], cwd=str(home), env=environ, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)


def test_a_transaction_another_daemon_broadcast_is_done(tmp_path):
    """The same case made deterministic: the signed transaction is already on the sandbox's ledger
    (another daemon's broadcast, which Tatum has not marked), so the daemon's broadcast is answered
    409 "already broadcast"; it asks the network, finds its txid, marks the pending transaction
    processed (PUT /v3/kms/{id}/{txId}) and reports nothing."""
    key, receiver = Key(CHAIN, 0), Key(CHAIN, 1)
    wallet = tmp_path / "wallet.dat"
    [sig_id] = wallet_with_keys(wallet, [key])
    with start_sandbox(api_key=API_KEY) as sandbox:
        ledger = sandbox.ledger
        pending_id = queue(ledger, key, sig_id, receiver)
        signed = sign_pending(ledger.get_pending(pending_id), [key.wif], True)
        txid = ledger.broadcast("bitcoin", signed)["txId"]           # no signatureId: not marked
        assert not ledger.pending[pending_id].completed
        api = types.SimpleNamespace(api_key=API_KEY, url=sandbox.url)
        r = run_daemon(tmp_path, api, wallet, "--runOnce", "--testnet", "--chain", "BTC")
        assert r.code == 0, r.err
        assert ledger.pending[pending_id].completed and ledger.pending[pending_id].tx_id == txid
        assert ledger.broadcast_report()["attempts"] == {pending_id: 1}
        assert ledger.error_batches == []
        assert [e["event"] for e in journal_events(wallet, pending_id)] == ["signing", "broadcast"]
        assert "is on the network already as %s" % txid in r.out
    assert journal_path(str(wallet)).endswith("wallet.dat.journal")


def _wait(predicate, timeout):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
