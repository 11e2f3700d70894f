"""`kms-ref daemon`: pull pending transactions from the Tatum v3 API, sign them, broadcast (SPEC §5).

What tatum-kms 8 does, and kms_ref too (see notes on tatum-kms's `processSignatures`):
- every cycle, for each chain of --chain (default BCH, BTC, LTC, DOGE, tatum-kms's order), send
  the store's signature IDs of that chain and network (at most 25,000) to
  `POST /v3/kms/pending/{chain}`; for each pending transaction: skip it unless --transactionIds
  lists it; with --externalUrl ask `{externalUrl}/{id}` (GET, or POST with the transaction as
  body) and sign only on a 2xx — the four-eye principle, required on mainnet; sign; broadcast
  (`/v3/{bitcoin,litecoin,dogecoin,bcash}/broadcast`, or the offchain withdrawal broadcast);
- failures are sent once per cycle to `POST /v3/tatum/kms/batch`; the loop survives any one bad
  transaction, a down API, a timeout or malformed JSON;
- log lines are `<ISO 8601 UTC, ms, Z> - <text>` with tatum-kms's texts, info on stdout and
  errors on stderr; they hold IDs and public transaction data, never a key, mnemonic or password.

Where kms_ref differs, on purpose:
- It checks everything before the first request: TATUM_API_KEY set, --chain, --period > 0,
  --externalUrlMethod GET or POST (any case; tatum-kms takes any other word as GET), and the
  password, by opening the store (a wrong one is `{"error": "Wrong password"}`; tatum-kms starts
  anyway and fails on every transaction). Mainnet without --externalUrl exits 2, as meow does.
- The store is opened once and reopened only when its file changes (device, inode, size,
  mtime), not decrypted again per chain and per transaction.
- The first cycle runs at once (tatum-kms waits one period). Later cycles start every --period
  seconds from the start of the previous one; one that runs long delays the next, never overlaps.
- The journal (`kms_ref.daemon.journal`) makes "never twice" hold across crashes: an ID that was
  broadcast, refused by the API, or left in doubt by a crash or a lost answer mid-broadcast is
  never signed again. An in-doubt ID still listed as pending is reported once to the batch
  endpoint ("interrupted during broadcast; transaction <txid> may be on the network — check
  before retrying"); the way out is to check the txid on the network and, if it is not there,
  delete the pending transaction (`DELETE /v3/kms/{id}`) and create it again.
- Only a refusal of the transaction itself (Tatum's validation, the network's refusal) ends it;
  an expired key, a rate limit or a server error holds it back for a retry with back-off, logged
  at info level every cycle (tatum-kms gives up on any 4xx). After a failed broadcast, and for an
  in-doubt ID still listed, the daemon asks `GET /v3/{chain}/transaction/{txid}`: a txid the
  network knows is success — several daemons on one wallet and one API key are safe (SPEC §5).
- A transaction kms_ref refuses to sign is reported once per run, not every cycle, until the
  wallet file or the transaction changes. A broadcast answered `"failed": true` (on the network
  but not marked processed) is completed with `PUT /v3/kms/{id}/{txId}`.
- The four-eye check does not follow redirects (only a 2xx approves), sends no API key, and a
  refused transaction is not logged as "Tx was processed" (tatum-kms logs it so).
- --wallet (alias --wallets: a comma list) and --transactionIds work in the loop too, not only
  with --runOnce; --wallet IDs are sent only for their own chain, and IDs the store lacks are
  dropped with a warning. A chain with no signature IDs is not asked at all.
- When no pending request of a cycle gets a usable answer, the next cycle waits longer:
  period × 2^k, up to 60 s (or the period, if longer); this is logged once when it starts and
  once when the API answers again.
- --runOnce exits 0 when the cycle ran (even if transactions failed) and 3 when no pending
  request got a usable answer (no connection, timeouts, HTTP errors, malformed JSON).
- Before the first cycle it runs the fast part of the self-test (`kms_ref.selftest`: one or
  two known answers per primitive, on the code paths that will sign) and exits 1 without
  signing anything if one fails, like a FIPS power-on self-test.
- SIGINT or SIGTERM: the current step ends (a broadcast in flight gets its answer and its
  journal line), then the daemon exits 0.

KMS_REF_HTTP_TIMEOUT (seconds, default 30) bounds each HTTP request from connect to last byte.
Every request follows SPEC §9 (`kms_ref.net`): HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY, TLS
verified (SSL_CERT_FILE, SSL_CERT_DIR, KMS_REF_CA_FILE add a CA), plain http:// only to loopback
and link-local hosts unless KMS_REF_ALLOW_HTTP=1 — checked at start, and the route (which proxy,
never its credentials) logged there.
KMS_REF_DEBUG=1 adds debug lines (skipped transactions and the like).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

from kms_ref import __version__
from kms_ref.daemon.log import Log
from kms_ref.daemon.settings import StartError, public_url, routes, settings_from
from kms_ref.hd.masking import shown
from kms_ref.store.wallet_store import WalletStore


def _beside(function):
    """Start `function()` on a helper thread; what is returned waits for it and gives its result
    (or raises its exception). The daemon unlocks its wallet so: scrypt, in C, releases the GIL,
    so on a second core it runs while this thread imports the rest of the daemon and runs the
    power-on self-test."""
    box = []

    def run():
        try:
            box.append((True, function()))
        except BaseException as e:    # handed to the caller of result()
            box.append((False, e))
    thread = threading.Thread(target=run, name="kms-ref unlock", daemon=True)
    thread.start()

    def result():
        thread.join()
        ok, value = box[0]
        if not ok:
            raise value
        return value
    return result


def _close_quietly(unlocked) -> None:
    """Wait for the unlock and close what it opened; its error, if any, no longer matters."""
    try:
        unlocked()[1].close()
    except Exception:
        pass


def _fail(message: str, code: int) -> int:
    sys.stderr.write(json.dumps({"error": message}, ensure_ascii=False) + "\n")
    sys.stderr.flush()
    return code


def main(ctx) -> int:
    """The `daemon` command: check everything, then run cycles until --runOnce or a signal."""
    try:
        settings = settings_from(ctx)
        store = WalletStore(settings.path)
        if not store.exists():
            raise StartError("wallet file %s does not exist" % settings.path)
        password = ctx.password()   # once, from its source, before anything is written
    except (StartError, ValueError) as e:   # ValueError: no password
        return _fail(str(e), getattr(e, "code", 1))
    unlocked = _beside(lambda: store.open_stamped(password))
    # While scrypt runs, this thread imports the rest of the daemon (here, not at the top of the
    # module, so that the imports overlap the unlock), opens the journal, builds the medium k·G
    # table the cycles will sign and verify with, and runs the self-test on it.
    from kms_ref.crypto.ecmult import G_MEDIUM_WINDOW, precompute_g
    from kms_ref.daemon.broadcast import in_doubt_message
    from kms_ref.daemon.cycle import Daemon
    from kms_ref.daemon.journal import Journal, JournalError, journal_path
    from kms_ref.selftest.runner import power_on
    try:
        journal = Journal(journal_path(settings.path)).open()
    except JournalError as e:
        _close_quietly(unlocked)
        return _fail(str(e), getattr(e, "code", 1))
    log = Log(debug=bool(os.environ.get("KMS_REF_DEBUG")))
    daemon = None
    previous = {}
    try:
        precompute_g(G_MEDIUM_WINDOW)
        failed, seconds = power_on()    # the k·G path the first signatures take; every later one
                                        # is verified before release whatever table made it
        daemon = Daemon(settings, password, journal, log, unlocked())
        if failed:
            return _fail("power-on self-test failed, kms_ref will not sign on this host (%s); run "
                         "kms-ref selftest" % "; ".join(failed), 1)
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, daemon.on_signal)
        log.info("kms_ref %s daemon: wallet %s, %s, chains %s, API %s%s." % (
            __version__, settings.path, "testnet" if settings.testnet else "mainnet",
            ",".join(settings.chains), public_url(settings.api_url),
            ", one cycle" if settings.run_once else ", every %g s" % settings.period))
        if journal.compacted:
            log.info("Journal %s: %d lines moved into its history %s in %.1f s." % (
                journal.path, journal.compacted["lines"], journal.directory, journal.compacted["seconds"]))
        log.info("Outbound HTTP: %s." % routes(settings))
        log.info("Power-on self-test passed in %.0f ms." % (seconds * 1000))
        if journal.torn_lines:
            log.error("Journal %s: %d unreadable line(s) ignored (a crash while writing?)."
                      % (journal.path, journal.torn_lines))
        for tx_id in journal.in_doubt():
            if not journal.reported(tx_id):
                log.error("Journal: %s %s" % (tx_id, in_doubt_message(journal.txid(tx_id))))
        for missing in [i for i in settings.wallet_ids or () if i not in daemon.wallet]:
            log.error("--wallet %s is not in %s; ignored." % (shown(missing, quote=False), settings.path))
        if ctx.flags.get("apiKey"):
            log.error("Warning: --apiKey puts the API key where every user of this machine can read "
                      "it (ps, /proc/<pid>/cmdline); set TATUM_API_KEY or put it in the .env file.")
        code = daemon.run()
        if daemon.signal_name:
            log.info("Received %s; stopped after the current step." % daemon.signal_name)
        return code
    except ValueError as e:   # the password (WrongPassword, empty input) or the store
        return _fail(str(e), 1)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if daemon is not None:
            daemon.close()
        journal.close()
