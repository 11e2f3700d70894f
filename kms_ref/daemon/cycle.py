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
- The journal (`kms_ref.journal`) makes "never twice" hold across crashes: an ID that was
  broadcast, refused by the API, or left in doubt by a crash or a lost answer mid-broadcast is
  never signed again. An in-doubt ID still listed as pending is reported once to the batch
  endpoint ("interrupted during broadcast; transaction <txid> may be on the network — check
  before retrying"); the way out is to check the txid on the network and, if it is not there,
  delete the pending transaction (`DELETE /v3/kms/{id}`) and create it again.
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
- SIGINT or SIGTERM: the current step ends (a broadcast in flight gets its answer and its
  journal line), then the daemon exits 0.

KMS_REF_HTTP_TIMEOUT (seconds, default 30) bounds each HTTP request from connect to last byte.
KMS_REF_DEBUG=1 adds debug lines (skipped transactions and the like).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sys
import threading
import time
from typing import List, NamedTuple, Optional

from kms_ref import __version__
from kms_ref.api import DEFAULT_TIMEOUT, DEFAULT_URL, ApiError, TatumClient, exchange
from kms_ref.crypto.ecmult import precompute_g
from kms_ref.hd.chains import SYMBOLS, get_chain
from kms_ref.journal import BROADCAST, FAILED, IN_DOUBT, NOT_SENT, REPORTED, SIGNING, Journal, \
    JournalError, iso_now, journal_path
from kms_ref.secret_input import ask_password
from kms_ref.signer import sign_with_wallet
from kms_ref.store import WalletStore
from kms_ref.store_errors import StoreError
from kms_ref.tx.transaction import parse_hex

DEFAULT_CHAINS = ("BCH", "BTC", "LTC", "DOGE")   # tatum-kms's order, its four Bitcoin-family chains
DEFAULT_PERIOD = 5                               # seconds (tatum-kms: period default 5)
MAX_SIGNATURE_IDS = 25000                        # tatum-kms KMS_CONSTANTS.SIGNATURE_IDS, per chain
MAX_BACKOFF = 60.0                               # seconds between cycles while the API is down
TIMEOUT_ENV = "KMS_REF_HTTP_TIMEOUT"
EXIT_MISSING_FLAG, EXIT_UNREACHABLE = 2, 3       # 2: meow's "Missing required flag"
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")   # what a pending ID may look like here
API_KEY_MISSING = ("Required TATUM_API_KEY is not set. Please set it as env variable or pass it "
                   "as argument.")   # tatum-kms's text


class StartError(ValueError):
    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


class Settings(NamedTuple):
    path: str
    testnet: bool
    chains: tuple
    period: float
    external_url: Optional[str]
    external_post: bool
    run_once: bool
    wallet_ids: Optional[list]
    transaction_ids: Optional[list]
    api_url: str
    api_key: str
    timeout: float


def _comma_list(value) -> List[str]:
    return [item.strip() for item in str(value).split(",") if item.strip()]


def settings_from(ctx) -> Settings:
    """The daemon's settings from the command line and environment; StartError if any is wrong."""
    flags = ctx.flags
    external_url = flags.get("externalUrl") or None
    if not ctx.testnet and not external_url:
        raise StartError("Missing required flag --externalUrl: on mainnet the daemon signs only what "
                         "an external system approves (four-eye principle); use --testnet for testnet",
                         EXIT_MISSING_FLAG)
    if external_url and not re.match(r"^https?://[^/]", external_url):
        raise StartError("--externalUrl must be an http:// or https:// URL")
    method = str(flags.get("externalUrlMethod") or "GET").upper()
    if method not in ("GET", "POST"):
        raise StartError("--externalUrlMethod must be GET or POST, not %r" % flags.get("externalUrlMethod"))
    chains = []
    for name in _comma_list(flags["chain"]) if flags.get("chain") is not None else DEFAULT_CHAINS:
        if name.upper() not in SYMBOLS:
            raise StartError("unsupported chain %r: the daemon serves %s" % (name, ", ".join(DEFAULT_CHAINS)))
        if name.upper() not in chains:
            chains.append(name.upper())
    if not chains:
        raise StartError("--chain names no chain")
    period = flags.get("period", DEFAULT_PERIOD)
    if not isinstance(period, (int, float)) or not period > 0:
        raise StartError("--period must be a number of seconds above 0")
    api_key = os.environ.get("TATUM_API_KEY")
    if not api_key:
        raise StartError(API_KEY_MISSING)
    api_url = (os.environ.get("TATUM_API_URL") or DEFAULT_URL).rstrip("/")
    if not re.match(r"^https?://[^/]", api_url):
        raise StartError("TATUM_API_URL must be an http:// or https:// URL")
    try:
        timeout = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT)
    except ValueError:
        timeout = -1.0
    if not 0 < timeout < float("inf"):
        raise StartError("%s must be a number of seconds above 0" % TIMEOUT_ENV)
    wallet_ids = _comma_list(flags["wallet"]) if flags.get("wallet") else None
    transaction_ids = _comma_list(flags["transactionIds"]) if flags.get("transactionIds") else None
    return Settings(ctx.path, ctx.testnet, tuple(chains), period, external_url and external_url.rstrip("/"),
                    method == "POST", bool(flags.get("runOnce")), wallet_ids, transaction_ids,
                    api_url, api_key, timeout)


class Log:
    """tatum-kms's log lines: `<Date#toISOString()> - <text>`, info → stdout, errors → stderr."""

    def __init__(self, debug: bool = False):
        self.debug_enabled = debug

    @staticmethod
    def _line(stream, text: str) -> None:
        stream.write("%s - %s\n" % (iso_now(), " ".join(str(text).splitlines())))
        stream.flush()

    def info(self, text: str) -> None:
        self._line(sys.stdout, text)

    def error(self, text: str) -> None:
        self._line(sys.stderr, text)

    def debug(self, text: str) -> None:
        if self.debug_enabled:
            self._line(sys.stdout, "debug: " + text)


def in_doubt_message(txid: Optional[str], cause: Optional[str] = None) -> str:
    return ("interrupted during broadcast%s; transaction %s may be on the network — check before "
            "retrying" % (" (%s)" % cause if cause else "", txid or "(unknown txid)"))


def _file_stamp(path: str):
    """What changes whenever the wallet file is rewritten (writers replace it by rename)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class Daemon:
    def __init__(self, settings: Settings, password: str, journal: Journal, log: Log):
        self.s = settings
        self.journal = journal
        self.log = log
        self.client = TatumClient(settings.api_url, settings.api_key, settings.timeout)
        self._password = password
        self._store = WalletStore(settings.path)
        self._stamp = _file_stamp(self._store.path)
        self.wallet = self._store.open(password)   # raises WrongPassword before any request
        precompute_g()   # a signer: build the k·G table now rather than at its 25th signature
        self._refused = {}          # id → (wallet stamp, transaction digest) of a refusal reported
        self._filtered = set()      # IDs whose --transactionIds skip was logged
        self._trouble = None        # why the API did not answer, while it does not
        self.stop = threading.Event()
        self.signal_name = None

    def close(self) -> None:
        self.wallet.close()

    # -- the wallet file -------------------------------------------------------------------------

    def refresh_wallet(self) -> None:
        stamp = _file_stamp(self._store.path)
        if stamp == self._stamp:
            return
        self._stamp = stamp         # a file that cannot be opened is tried again when it changes
        try:
            wallet = self._store.open(self._password)
        except (StoreError, OSError) as e:
            self.log.error("Wallet file %s changed but cannot be opened (%s); still using the "
                           "previous version" % (self.s.path, e))
            return
        self.wallet.close()
        self.wallet = wallet
        self.log.info("Wallet file %s changed; reloaded it." % self.s.path)

    def signature_ids(self, chain: str) -> List[str]:
        ids = self.wallet.ids_for(chain, self.s.testnet)
        if self.s.wallet_ids is not None:
            own = set(ids)
            ids = [i for i in self.s.wallet_ids if i in own]
        return ids

    # -- one cycle -------------------------------------------------------------------------------

    def cycle(self) -> bool:
        """One pass over every chain. False when no pending request got an answer."""
        self.refresh_wallet()
        failures, reported_in_doubt = [], []
        asked = answered = 0
        first_error = None
        for chain in self.s.chains:
            if self.stop.is_set():
                break
            try:
                ids = self.signature_ids(chain)
            except StoreError as e:
                self.log.error("Cannot read the signature IDs of %s: %s" % (chain, e))
                continue
            if len(ids) > MAX_SIGNATURE_IDS:
                self.log.error("Error: Exceeded limit %d wallets for chain %s." % (MAX_SIGNATURE_IDS, chain))
                continue
            if not ids:
                self.log.debug("no signature IDs for %s; not asking" % chain)
                continue
            n = len(ids)
            self.log.info("Getting pending transaction from %s for %swallets%s." % (
                chain, "%d " % n if n > 5 else "", "" if n > 5 else " " + ",".join(ids)))
            asked += 1
            try:
                pending = self.client.pending(chain, ids)
                if not isinstance(pending, list):
                    raise ApiError(200, "the answer is not a list of pending transactions")
            except ApiError as e:
                first_error = first_error or e
                if self._trouble is None:
                    self.log.error("Error received from API /v3/kms/pending/%s - %s" % (chain, e))
                continue
            answered += 1
            for tx in pending:
                if self.stop.is_set():
                    break
                self.process(tx, chain, failures, reported_in_doubt)
        if failures:
            self.report(failures, reported_in_doubt)
        reached = answered > 0 or asked == 0
        if not reached and self._trouble is None:
            self._trouble = str(first_error)
            self.log.error("Tatum API at %s gave no usable answer (%s); next tries back off up to %g s."
                           % (self.s.api_url, first_error, max(MAX_BACKOFF, self.s.period)))
        elif reached and self._trouble is not None:
            self._trouble = None
            self.log.info("Tatum API at %s answers again." % self.s.api_url)
        return reached

    def process(self, tx, chain: str, failures: list, reported_in_doubt: list) -> None:
        """Sign and broadcast one pending transaction; failures to report go to `failures`."""
        tx_id = tx.get("id") if isinstance(tx, dict) else None
        if not isinstance(tx_id, str) or not ID_PATTERN.match(tx_id):
            self.log.error("Skipping a malformed pending transaction from %s (no usable id)." % chain)
            return
        if self.s.transaction_ids is not None and tx_id not in self.s.transaction_ids:
            if tx_id not in self._filtered:
                self._filtered.add(tx_id)
                self.log.info("Tx was not processed: %s , expected one of : %s"
                              % (tx_id, " , ".join(self.s.transaction_ids)))
            return
        state = self.journal.state(tx_id)
        if state == IN_DOUBT and not self.journal.reported(tx_id):
            message = in_doubt_message(self.journal.txid(tx_id))
            self.log.error("Could not process transaction id %s, error: %s" % (tx_id, message))
            failures.append({"signatureId": tx_id, "error": message})
            reported_in_doubt.append(tx_id)
            return
        if state is not None:
            self.log.debug("%s is %s in the journal; not signing it again" % (tx_id, state))
            return
        digest = hashlib.sha256(json.dumps(tx, sort_keys=True).encode()).hexdigest()
        if self._refused.get(tx_id) == (self._stamp, digest):
            self.log.debug("%s was refused already; not trying again until it or the wallet changes" % tx_id)
            return
        if self.s.external_url and not self.approved(tx, tx_id):
            return
        self.log.info("Processing pending transaction - %s." % json.dumps(tx))
        try:
            signed = sign_with_wallet(self.wallet, tx, self.s.testnet)
            chain_row = get_chain(tx.get("chain"), self.s.testnet)
            txid = parse_hex(signed).txid()
        except ValueError as e:   # SigningError, and every refusal of kms_ref.tx
            self._refused[tx_id] = (self._stamp, digest)
            self._fail(failures, tx_id, str(e))
            return
        except Exception as e:  # noqa: BLE001 — one bad transaction never stops the loop
            self._refused[tx_id] = (self._stamp, digest)
            self._fail(failures, tx_id, "internal error while signing (%s)" % type(e).__name__)
            return
        self.broadcast(tx, tx_id, chain_row, signed, txid, failures, reported_in_doubt)

    def approved(self, tx: dict, tx_id: str) -> bool:
        """The four-eye check: does the external system answer 2xx for this transaction?"""
        url = "%s/%s" % (self.s.external_url, tx_id)
        self.log.info("External url '%s' is present, checking against it." % self.s.external_url)
        headers = {"User-Agent": "kms_ref/" + __version__}   # no API key: it is Tatum's, not theirs
        try:
            if self.s.external_post:
                headers["Content-Type"] = "application/json"
                answer = exchange("POST", url, json.dumps(tx).encode("utf-8"), headers, self.s.timeout)
            else:
                answer = exchange("GET", url, None, headers, self.s.timeout)
            reason = "HTTP %d" % answer.status
            if 200 <= answer.status < 300:
                return True
        except ApiError as e:
            reason = str(e)
        self.log.error("Transaction not found on external system. ID: %s (%s)" % (tx_id, reason))
        return False

    def broadcast(self, tx, tx_id, chain_row, signed, txid, failures, reported_in_doubt) -> None:
        """Journal "signing", broadcast, journal the result. Signals wait until this returns."""
        self.journal.record(tx_id, SIGNING, txid=txid, chain=chain_row.symbol)
        try:
            if tx.get("withdrawalId"):
                answer = self.client.offchain_broadcast(chain_row.symbol, tx_id, tx["withdrawalId"], signed)
            else:
                answer = self.client.broadcast(chain_row.api_name, signed, tx_id)
        except ApiError as e:
            if e.status is None or not 200 <= e.status < 300:
                self._broadcast_failed(e, tx_id, txid, failures, reported_in_doubt)
                return
            self.log.error("Broadcast of %s accepted, but %s" % (tx_id, e.message))   # garbled 2xx
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        api_txid = answer.get("txId") if isinstance(answer.get("txId"), str) else None
        self.journal.record(tx_id, BROADCAST, txId=api_txid or txid)
        if api_txid and api_txid != txid:
            self.log.error("The API reports txId %s for %s, kms_ref computed %s." % (api_txid, tx_id, txid))
        self.log.info("Tx was processed: %s" % tx_id)
        if answer.get("failed") is True:
            try:
                self.client.complete(tx_id, api_txid or txid)
                self.log.info("Marked %s as processed (txId %s)." % (tx_id, api_txid or txid))
            except ApiError as e:
                self.log.error("Broadcast %s as %s, but could not mark it processed: %s"
                               % (tx_id, api_txid or txid, e))

    def _broadcast_failed(self, e: ApiError, tx_id, txid, failures, reported_in_doubt) -> None:
        """What a failed broadcast means: refused (4xx, final), not sent (retry), or in doubt."""
        if e.status is not None and 400 <= e.status < 500 and e.status not in (408, 429):
            self.journal.record(tx_id, FAILED, error=str(e))
            self._fail(failures, tx_id, str(e))
        elif not e.sent or e.status in (408, 429):
            self.journal.record(tx_id, NOT_SENT, error=str(e))
            self.log.error("Could not process transaction id %s, error: %s (not sent; will retry)"
                           % (tx_id, e))
        else:   # 5xx, timeout, dropped connection: it may have arrived
            self._fail(failures, tx_id, in_doubt_message(txid, str(e)))
            reported_in_doubt.append(tx_id)

    def _fail(self, failures: list, tx_id: str, message: str) -> None:
        self.log.error("Could not process transaction id %s, error: %s" % (tx_id, message))
        failures.append({"signatureId": tx_id, "error": message})

    def report(self, failures: list, reported_in_doubt: list) -> None:
        url = self.client.url("/v3/tatum/kms/batch")
        try:
            self.client.report_errors(failures)
        except ApiError as e:
            self.log.error("Error received from API /v3/tatum/kms/batch - %s" % e)
            return
        for tx_id in reported_in_doubt:
            self.journal.record(tx_id, REPORTED)
        self.log.info("Send batch call to url '%s'." % url)

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> int:
        if self.s.run_once:
            reached = self.cycle()
            return 0 if reached or self.stop.is_set() else EXIT_UNREACHABLE
        misses = 0
        while not self.stop.is_set():
            started = time.monotonic()
            misses = 0 if self.cycle() else misses + 1
            delay = self.s.period if misses == 0 else \
                min(self.s.period * 2 ** misses, max(MAX_BACKOFF, self.s.period))
            self.stop.wait(max(0.0, started + delay - time.monotonic()))
        return 0

    def on_signal(self, signum, frame) -> None:
        """Only sets a flag: the loop checks it between steps (printing here could re-enter I/O)."""
        self.signal_name = self.signal_name or signal.Signals(signum).name
        self.stop.set()


def _fail(message: str, code: int) -> int:
    sys.stderr.write(json.dumps({"error": message}, ensure_ascii=False) + "\n")
    sys.stderr.flush()
    return code


def main(ctx) -> int:
    """The `daemon` command: check everything, then run cycles until --runOnce or a signal."""
    try:
        settings = settings_from(ctx)
        if not WalletStore(settings.path).exists():
            raise StartError("wallet file %s does not exist" % settings.path)
        journal = Journal(journal_path(settings.path)).open()
    except (StartError, JournalError) as e:
        return _fail(str(e), getattr(e, "code", 1))
    log = Log(debug=bool(os.environ.get("KMS_REF_DEBUG")))
    daemon = None
    previous = {}
    try:
        daemon = Daemon(settings, ask_password(), journal, log)
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, daemon.on_signal)
        log.info("kms_ref %s daemon: wallet %s, %s, chains %s, API %s%s." % (
            __version__, settings.path, "testnet" if settings.testnet else "mainnet",
            ",".join(settings.chains), settings.api_url,
            ", one cycle" if settings.run_once else ", every %g s" % settings.period))
        if journal.torn_lines:
            log.error("Journal %s: %d unreadable line(s) ignored (a crash while writing?)."
                      % (journal.path, journal.torn_lines))
        for tx_id in journal.in_doubt():
            if not journal.reported(tx_id):
                log.error("Journal: %s %s" % (tx_id, in_doubt_message(journal.txid(tx_id))))
        for missing in [i for i in settings.wallet_ids or () if i not in daemon.wallet]:
            log.error("--wallet %s is not in %s; ignored." % (missing, settings.path))
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
