"""Broadcasting a signed transaction, and what each outcome means (SPEC §5, "never twice").

A broadcast goes in three steps — `intend` journals "signing", `release` sends the request once
that line is on disk, `finish` reads the answer and journals the result — so that a crash at any
point leaves an ID either settled or in doubt, never silently retried. A failed
broadcast is first checked against the network (SPEC §5, "Several daemons, one API key"): if
`GET /v3/{chain}/transaction/{txid}` knows the txid kms_ref computed, the transaction is done —
another daemon on the same wallet, or an earlier attempt, broadcast the very same bytes (RFC 6979
makes them identical), and the node's "already known" error is success. Otherwise:

    2xx                                  broadcast   (a "failed": true answer is completed with
                                                      PUT /v3/kms/{id}/{txId})
    400, 409, 422; 403 whose errorCode   failed      the transaction itself was refused (Tatum's
    names the transaction or broadcast                validation, or the network): reported to
                                                      the batch endpoint, never tried again
    401, 403 of a key or plan, 408, 429, not-sent    auth, rate limit, server error, no
    5xx, other 4xx; no connection                     connection: held back and retried with
                                                      back-off (`retry.HeldBack`); a retry signs
                                                      the same bytes again, so it cannot spend twice
    timeout, dropped connection          in doubt    it may have arrived: reported once, never
                                                     signed again (see `in_doubt_message`), until
                                                     the network shows the txid (`settle_if_known`)

`Outcomes` collects one cycle's failures and sends them in one call to `/v3/tatum/kms/batch`.
"""

from __future__ import annotations

import re
from typing import List, NamedTuple, Optional

from kms_ref.daemon.journal import BROADCAST, FAILED, NOT_SENT, REPORTED, SIGNING
from kms_ref.daemon.settings import public_url
from kms_ref.net.http_client import HttpError


def in_doubt_message(txid: Optional[str], cause: Optional[str] = None) -> str:
    return ("interrupted during broadcast%s; transaction %s may be on the network — check before "
            "retrying" % (" (%s)" % cause if cause else "", txid or "(unknown txid)"))


class Outcomes:
    """The failures of one cycle, for one batch report; `in_doubt` are the IDs among them that
    the journal marks as reported once the batch call succeeds."""

    def __init__(self, log):
        self.log = log
        self.failures: List[dict] = []
        self.in_doubt: List[str] = []

    def fail(self, tx_id: str, message: str, in_doubt: bool = False) -> None:
        self.log.error("Could not process transaction id %s, error: %s" % (tx_id, message))
        self.failures.append({"signatureId": tx_id, "error": message})
        if in_doubt:
            self.in_doubt.append(tx_id)

    def report(self, client, journal) -> None:
        """Send the failures to the batch endpoint (nothing when there are none)."""
        if not self.failures:
            return
        url = client.url("/v3/tatum/kms/batch")
        try:
            client.report_errors(self.failures)
        except HttpError as e:
            self.log.error("Error received from API /v3/tatum/kms/batch - %s" % e)
            return
        for tx_id in self.in_doubt:
            journal.record(tx_id, REPORTED)
        self.log.info("Send batch call to url '%s'." % public_url(url))


class Broadcaster:
    """Sends signed transactions through the Tatum client and journals each outcome."""

    def __init__(self, client, journal, log, held):
        self.client = client
        self.journal = journal
        self.log = log
        self.held = held            # a retry.HeldBack: transient failures waiting for their retry

    def intend(self, tx, tx_id, chain_row, signed, txid, outcomes: Outcomes) -> Optional["Ready"]:
        """Journal "signing" and start its fsync (journal.py `intend`); None when the transaction
        is not to be sent (it changed since it was signed)."""
        previous = self.journal.txid(tx_id)
        if previous and previous != txid:   # only the same bytes may go out again
            self.journal.record(tx_id, FAILED, error="changed since it was signed")
            outcomes.fail(tx_id, "pending transaction changed since kms_ref signed it as %s (now %s); "
                                 "not broadcasting a second, different transaction" % (previous, txid))
            return None
        position = self.journal.intend(tx_id, txid=txid, chain=chain_row.symbol)
        return Ready(tx, tx_id, chain_row, signed, txid, outcomes, position)

    def release(self, ready: "Ready") -> Optional["InFlight"]:
        """Wait until the intent is on disk, write the broadcast request, and return without
        waiting for its answer — the daemon signs the next transaction meanwhile
        (`kms_ref.daemon.cycle`). None when the request could not be sent; else `finish` reads
        the answer and journals the result."""
        tx, tx_id, chain_row, signed, txid, outcomes, position = ready
        self.journal.wait_durable(position)
        try:
            if tx.get("withdrawalId"):
                call = self.client.start_offchain_broadcast(chain_row.symbol, tx_id, tx["withdrawalId"], signed)
            else:
                call = self.client.start_broadcast(chain_row.api_name, signed, tx_id)
        except HttpError as e:   # surely not sent
            self._failed(e, tx_id, chain_row, txid, outcomes)
            return None
        return InFlight(call, tx_id, chain_row, txid, outcomes)

    def finish(self, broadcast: "InFlight") -> None:
        """The second half of `send`: the answer, and what it means, in the journal."""
        tx_id, txid = broadcast.tx_id, broadcast.txid
        try:
            answer = broadcast.call.result()
        except HttpError as e:
            if e.status is None or not 200 <= e.status < 300:
                self._failed(e, tx_id, broadcast.chain_row, txid, broadcast.outcomes)
                return
            self.log.error("Broadcast of %s accepted, but %s" % (tx_id, e.message))   # garbled 2xx
            answer = None
        self.held.release(tx_id)
        answer = answer if isinstance(answer, dict) else {}
        api_txid = answer.get("txId") if isinstance(answer.get("txId"), str) else None
        self.journal.record(tx_id, BROADCAST, txId=api_txid or txid)
        if api_txid and api_txid != txid:
            self.log.error("The API reports txId %s for %s, kms_ref computed %s." % (api_txid, tx_id, txid))
        self.log.info("Tx was processed: %s" % tx_id)
        if answer.get("failed") is True:
            self._complete(tx_id, api_txid or txid)

    def settle_if_known(self, tx_id, chain_row, txid) -> bool:
        """If the network knows `txid`, record `tx_id` as broadcast, mark it processed at Tatum if
        Tatum has not, and return True (SPEC §5: "if the network knows the txid the daemon
        computed, the transaction is done")."""
        if not txid or not self._known(chain_row, txid):
            return False
        self.held.release(tx_id)
        self.journal.record(tx_id, BROADCAST, txId=txid, found="network")
        self.log.info("Tx %s is on the network already as %s (broadcast by another daemon of this "
                      "wallet, or by an earlier attempt); done." % (tx_id, txid))
        try:
            marked = self.client.get_pending(tx_id)
        except HttpError:
            marked = None
        if not (isinstance(marked, dict) and marked.get("txId")):
            self._complete(tx_id, txid)
        return True

    def _known(self, chain_row, txid) -> bool:
        try:
            found = self.client.transaction(chain_row.api_name, txid)
        except HttpError:          # 404, or no answer: not known, or cannot tell
            return False
        if not isinstance(found, dict):
            return False
        named = [found.get(key) for key in ("hash", "txid", "txId") if isinstance(found.get(key), str)]
        return all(name.lower() == txid for name in named)

    def _complete(self, tx_id, txid) -> None:
        try:
            self.client.complete(tx_id, txid)
            self.log.info("Marked %s as processed (txId %s)." % (tx_id, txid))
        except HttpError as e:
            self.log.error("Broadcast %s as %s, but could not mark it processed: %s" % (tx_id, txid, e))

    def _failed(self, e: HttpError, tx_id, chain_row, txid, outcomes: Outcomes) -> None:
        """What a failed broadcast means (see the module docstring)."""
        if e.sent and self.settle_if_known(tx_id, chain_row, txid):
            return
        if refuses_the_transaction(e):
            self.held.release(tx_id)
            self.journal.record(tx_id, FAILED, error=str(e))
            outcomes.fail(tx_id, str(e))
        elif e.status is not None or not e.sent:
            self.journal.record(tx_id, NOT_SENT, error=str(e))
            wait = self.held.hold(tx_id, str(e))
            self.log.error("Could not process transaction id %s, error: %s (held back; next try in "
                           "%g s)" % (tx_id, e, wait))
        else:   # timeout, dropped connection: it may have arrived
            self.held.release(tx_id)
            outcomes.fail(tx_id, in_doubt_message(txid, str(e)), in_doubt=True)


class Ready(NamedTuple):
    """A signed transaction whose intent is written (its fsync perhaps still running)."""
    tx: dict
    tx_id: str
    chain_row: object
    signed: str
    txid: str
    outcomes: Outcomes
    position: int             # wait_durable(position) before the request leaves


class InFlight(NamedTuple):
    """A broadcast whose request was written and whose answer is still to be read."""
    call: object              # kms_ref.daemon.tatum_client.Call
    tx_id: str
    chain_row: object
    txid: str
    outcomes: Outcomes


TX_REFUSAL_STATUSES = (400, 409, 422)
TX_ERROR_CODE = re.compile(r"(^|\.)(tx|txs|transaction|broadcast|validation|signature)(\.|$)", re.I)


def refuses_the_transaction(e: HttpError) -> bool:
    """A definite rejection of the transaction itself — Tatum's validation (400, 422), a conflict
    (409), or a 403 whose errorCode names the transaction or its broadcast (Tatum wraps the node's
    refusal so: "btc.broadcast.failed"). A 403 of an expired key or a plan limit, a 401, 408, 429,
    a 5xx or any other status says nothing about the transaction: it is retried."""
    code = getattr(e, "error_code", None) or ""
    if e.status in TX_REFUSAL_STATUSES:
        return True
    return e.status == 403 and bool(TX_ERROR_CODE.search(code))
