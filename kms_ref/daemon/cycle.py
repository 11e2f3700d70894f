"""The daemon's loop: one cycle over every chain, and cycles every --period seconds (SPEC §5).

Each cycle: reload the wallet file if it changed; for each chain of --chain, send the store's
signature IDs of that chain and network to `POST /v3/kms/pending/{chain}`; for each pending
transaction, check the journal (never twice; an in-doubt ID the network now shows is settled),
the back-off of transient failures (`retry`), --transactionIds, the four-eye check, then sign
(`kms_ref.daemon.signer`, every signature verified before release) and broadcast
(`kms_ref.daemon.broadcast`). Failures go to the batch endpoint once per cycle, and what is held
back for a retry is logged at info level.

The store is opened once and reopened only when its file changes (device, inode, size, mtime),
not decrypted again per chain and per transaction. The first cycle runs at once; later ones
start every --period seconds from the start of the previous one (a long one delays the next,
never overlaps); while the API gives no usable answer the wait grows to period × 2^k, up to
60 s (or the period, if longer).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from typing import List

from kms_ref.daemon.broadcast import Broadcaster, Outcomes, in_doubt_message
from kms_ref.daemon.four_eye import approved
from kms_ref.daemon.journal import IN_DOUBT, Journal, JournalError
from kms_ref.daemon.log import Log
from kms_ref.daemon.retry import HeldBack
from kms_ref.daemon.settings import (EXIT_UNREACHABLE, MAX_BACKOFF, MAX_SIGNATURE_IDS, Settings, is_pending_id,
                                    public_url)
from kms_ref.daemon.signer import named_wallet_ids, sign_with_wallet
from kms_ref.daemon.tatum_client import TatumClient
from kms_ref.hd.chains import get_chain
from kms_ref.hd.masking import shown
from kms_ref.net.http_client import HttpError
from kms_ref.store.errors import StoreError
from kms_ref.store.wallet_store import WalletStore
from kms_ref.tx.transaction import parse_hex

# BIP340 aux_rand for Taproot inputs: 32 zero bytes, which BIP340 permits, so that two daemons
# sharing an API key sign a transaction identically (SPEC §5, high availability) — as RFC 6979
# already makes ECDSA and BCH Schnorr deterministic.
TAPROOT_AUX_RAND = bytes(32)


class Daemon:
    def __init__(self, settings: Settings, password: str, journal: Journal, log: Log, unlocked=None):
        """`unlocked`, if given, is (stamp, wallet) from `WalletStore.open_stamped`: the wallet
        opened beforehand (`kms_ref.daemon.main` unlocks it while it imports the rest); else the
        wallet is opened here, raising WrongPassword before any request."""
        self.s = settings
        self.journal = journal
        self.log = log
        self.client = TatumClient(settings.api_url, settings.api_key, settings.timeout)
        self.held = HeldBack(settings.period)
        self.broadcaster = Broadcaster(self.client, journal, log, self.held)
        self._password = password
        self._store = WalletStore(settings.path)
        self._stamp, self.wallet = unlocked or self._store.open_stamped(password)
        self._refused = {}          # id → (wallet stamp, transaction digest) of a refusal reported
        self._filtered = set()      # IDs whose --transactionIds skip was logged
        self._trouble = None        # why the API did not answer, while it does not
        self.stop = threading.Event()
        self.signal_name = None
        self._in_flight = None      # the broadcast whose answer is read after the next signature
        self._ready = None          # the signed transaction whose request follows that answer
        self._sent = set()          # pending IDs whose broadcast started in this cycle

    def close(self) -> None:
        self.wallet.close()

    # -- the wallet file -------------------------------------------------------------------------

    def refresh_wallet(self) -> None:
        stamp = self._store.stamp()
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
        outcomes = Outcomes(self.log)
        self._sent.clear()
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
                    raise HttpError(200, "the answer is not a list of pending transactions")
            except HttpError as e:
                first_error = first_error or e
                if self._trouble is None:
                    self.log.error("Error received from API /v3/kms/pending/%s - %s" % (chain, e))
                continue
            answered += 1
            self.prefetch_keys(pending)
            for tx in pending:
                if self.stop.is_set():
                    break
                self.process(tx, chain, outcomes)
        self.drain()             # every broadcast of the cycle has its result in the journal
        self.journal.sync()    # the cycle's results are durable before they are reported...
        outcomes.report(self.client, self.journal)
        self.journal.sync()    # ... and so is "reported" (journal.py: one fsync per broadcast)
        self.compact_journal()
        held_back = self.held.summary()
        if held_back:
            self.log.info(held_back)
        reached = answered > 0 or asked == 0
        if not reached and self._trouble is None:
            self._trouble = str(first_error)
            hint = ""
            if getattr(first_error, "status", None) in (401, 403):
                hint = " The API refused the key: check TATUM_API_KEY (or --apiKey) and TATUM_API_URL."
            then = ("--runOnce: no retry." if self.s.run_once
                    else "next tries back off up to %g s." % max(MAX_BACKOFF, self.s.period))
            self.log.error("Tatum API at %s gave no usable answer (%s); %s%s"
                           % (public_url(self.s.api_url), first_error, then, hint))
        elif reached and self._trouble is not None:
            self._trouble = None
            self.log.info("Tatum API at %s answers again." % public_url(self.s.api_url))
        return reached

    def prefetch_keys(self, pending: list) -> None:
        """Decrypt the wallet entries that the pending transactions name, all in one pass
        (`Wallet.prefetch`), instead of one by one as each is signed: 100 entries take about a
        tenth of the time. Only what --transactionIds lets through; what cannot be read is left
        for the signing to report."""
        ids = [sig_id for tx in pending
               if self.s.transaction_ids is None or (isinstance(tx, dict) and tx.get("id") in self.s.transaction_ids)
               for sig_id in named_wallet_ids(tx)]
        try:
            self.wallet.prefetch(ids)
        except (StoreError, OSError):
            pass    # each transaction's own lookup reports it

    def compact_journal(self) -> None:
        """Move the live journal into its history once it has grown (journal.py); a failure
        leaves the journal as it was, and only delays this."""
        try:
            done = self.journal.compact_if_due()
        except JournalError as e:
            self.log.error("%s; trying again after the next cycle." % e)
            return
        if done:
            self.log.info("Journal: %d lines moved into its history in %.2f s." % (done["lines"], done["seconds"]))

    def process(self, tx, chain: str, outcomes: Outcomes) -> None:
        """Sign and broadcast one pending transaction; what fails goes to `outcomes`."""
        tx_id = tx.get("id") if isinstance(tx, dict) else None
        if not is_pending_id(tx_id):   # before anything puts it into a URL (four-eye, /v3/kms/{id})
            self.log.error("Skipping a malformed pending transaction from %s (no usable id)." % chain)
            return
        if self.s.transaction_ids is not None and tx_id not in self.s.transaction_ids:
            if tx_id not in self._filtered:
                self._filtered.add(tx_id)
                self.log.info("Tx was not processed: %s , expected one of : %s"
                              % (tx_id, " , ".join(shown(i, quote=False) for i in self.s.transaction_ids)))
            return
        if tx_id in self._sent:     # listed twice: the first listing's answer may still be unread
            self.log.debug("%s is listed twice; sent once" % tx_id)
            return
        state = self.journal.state(tx_id)
        if state == IN_DOUBT and self.broadcaster.settle_if_known(
                tx_id, get_chain(chain, self.s.testnet), self.journal.txid(tx_id)):
            return
        if state == IN_DOUBT and not self.journal.reported(tx_id):
            outcomes.fail(tx_id, in_doubt_message(self.journal.txid(tx_id)), in_doubt=True)
            return
        if state is not None:
            self.log.debug("%s is %s in the journal; not signing it again" % (tx_id, state))
            return
        if self.held.waiting(tx_id):   # a transient failure; the cycle's summary says why
            return
        digest = hashlib.sha256(json.dumps(tx, sort_keys=True).encode()).hexdigest()
        if self._refused.get(tx_id) == (self._stamp, digest):
            self.log.debug("%s was refused already; not trying again until it or the wallet changes" % tx_id)
            return
        try:   # before the transaction is logged whole: a "chain" that is no chain is not repeated
            chain_row = get_chain(tx.get("chain"), self.s.testnet)
        except ValueError as e:
            self._refused[tx_id] = (self._stamp, digest)
            outcomes.fail(tx_id, str(e))
            return
        if self.s.external_url and not approved(self.s.external_url, self.s.external_post,
                                                self.s.timeout, tx, tx_id, self.log):
            return
        self.log.info("Processing pending transaction - %s." % json.dumps(tx))
        try:
            signed = sign_with_wallet(self.wallet, tx, self.s.testnet, aux_rand=TAPROOT_AUX_RAND)
            txid = parse_hex(signed).txid()
        except ValueError as e:   # SigningError, and every refusal of kms_ref.tx
            self._refused[tx_id] = (self._stamp, digest)
            outcomes.fail(tx_id, str(e))
            return
        except Exception as e:  # noqa: BLE001 — one bad transaction never stops the loop
            self._refused[tx_id] = (self._stamp, digest)
            outcomes.fail(tx_id, "internal error while signing (%s)" % type(e).__name__)
            return
        self._sent.add(tx_id)
        ready = self.broadcaster.intend(tx, tx_id, chain_row, signed, txid, outcomes)
        self.finish_broadcast()
        self.release_ready()
        self._ready = ready

    def finish_broadcast(self) -> None:
        """Read the answer of the broadcast in flight, if any, and journal its result.

        Three transactions move through `process` at once: transaction i is signed while the
        broadcast of i − 2 is in flight and the intent of i − 1 is being fsynced on the journal's
        helper thread. Then i's intent is written (its fsync starts), the answer of i − 2 is read,
        and i − 1's request is released once its intent is on disk — which by then it normally is.

        Why: the API checks a transaction in about the time it takes to sign one in pure Python,
        so overlapping the two takes off close to half of a busy cycle — on one thread, because a
        second Python thread for the broadcasts measured slower: each time its socket woke it, it
        waited for the signing thread to give up the GIL. The fsync, which holds no GIL, runs on a
        helper thread and takes no time off the signing at all. Nothing else changes: an intent is
        durable before its request leaves, one request is in flight at a time, in order."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            self.broadcaster.finish(in_flight)

    def release_ready(self) -> None:
        """Send the signed transaction waiting for its intent's fsync, if any (one at a time: the
        answer of the previous request has been read)."""
        ready, self._ready = self._ready, None
        if ready is not None:
            self._in_flight = self.broadcaster.release(ready)

    def drain(self) -> None:
        """Every broadcast of the cycle sent and its answer journaled."""
        self.finish_broadcast()
        self.release_ready()
        self.finish_broadcast()

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
