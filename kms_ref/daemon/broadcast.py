"""Broadcasting a signed transaction, and what each outcome means (SPEC §5, "never twice").

`Broadcaster.send` journals "signing" before the request and the result after it, so that a
crash at any point leaves an ID either settled or in doubt, never silently retried:

    2xx                                  broadcast   (a "failed": true answer is completed with
                                                      PUT /v3/kms/{id}/{txId})
    4xx but 408/429                      failed      refused for good; reported to the batch
    no connection, 408, 429              not-sent    surely never arrived: a later cycle retries
    5xx, timeout, dropped connection     in doubt    it may have arrived: reported once, never
                                                     signed again (see `in_doubt_message`)

`Outcomes` collects one cycle's failures and sends them in one call to `/v3/tatum/kms/batch`.
"""

from __future__ import annotations

from typing import List, Optional

from kms_ref.daemon.journal import BROADCAST, FAILED, NOT_SENT, REPORTED, SIGNING
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
        self.log.info("Send batch call to url '%s'." % url)


class Broadcaster:
    """Sends signed transactions through the Tatum client and journals each outcome."""

    def __init__(self, client, journal, log):
        self.client = client
        self.journal = journal
        self.log = log

    def send(self, tx, tx_id, chain_row, signed, txid, outcomes: Outcomes) -> None:
        """Journal "signing", broadcast, journal the result. Signals wait until this returns."""
        self.journal.record(tx_id, SIGNING, txid=txid, chain=chain_row.symbol)
        try:
            if tx.get("withdrawalId"):
                answer = self.client.offchain_broadcast(chain_row.symbol, tx_id, tx["withdrawalId"], signed)
            else:
                answer = self.client.broadcast(chain_row.api_name, signed, tx_id)
        except HttpError as e:
            if e.status is None or not 200 <= e.status < 300:
                self._failed(e, tx_id, txid, outcomes)
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
            except HttpError as e:
                self.log.error("Broadcast %s as %s, but could not mark it processed: %s"
                               % (tx_id, api_txid or txid, e))

    def _failed(self, e: HttpError, tx_id, txid, outcomes: Outcomes) -> None:
        """What a failed broadcast means: refused (4xx, final), not sent (retry), or in doubt."""
        if e.status is not None and 400 <= e.status < 500 and e.status not in (408, 429):
            self.journal.record(tx_id, FAILED, error=str(e))
            outcomes.fail(tx_id, str(e))
        elif not e.sent or e.status in (408, 429):
            self.journal.record(tx_id, NOT_SENT, error=str(e))
            self.log.error("Could not process transaction id %s, error: %s (not sent; will retry)"
                           % (tx_id, e))
        else:   # 5xx, timeout, dropped connection: it may have arrived
            outcomes.fail(tx_id, in_doubt_message(txid, str(e)), in_doubt=True)
