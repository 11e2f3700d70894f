"""The four-eye check (SPEC §5): sign only what an external system approves.

With --externalUrl the daemon asks `{externalUrl}/{id}` — GET, or POST with the pending
transaction as its JSON body (--externalUrlMethod=POST) — and signs only on a 2xx answer; it is
required on mainnet. Where kms_ref differs from tatum-kms, on purpose: no redirect is followed
(a 3xx does not approve), the API key is not sent (it is Tatum's, not theirs), and a refused
transaction is not logged as "Tx was processed".
"""

from __future__ import annotations

import json

from kms_ref import __version__
from kms_ref.daemon.settings import is_pending_id, public_url
from kms_ref.net.http_client import HttpError, exchange


def approved(external_url: str, post: bool, timeout: float, tx: dict, tx_id: str, log) -> bool:
    """Does the external system answer 2xx for this transaction? An ID that could change the
    URL's path or query ("..", "a/b", "a?b", "%2e") is refused before any request is built."""
    if not is_pending_id(tx_id):
        log.error("Not asking the external system about a malformed pending transaction ID.")
        return False
    url = "%s/%s" % (external_url, tx_id)
    log.info("External url '%s' is present, checking against it." % public_url(external_url))
    headers = {"User-Agent": "kms_ref/" + __version__}
    try:
        if post:
            headers["Content-Type"] = "application/json"
            answer = exchange("POST", url, json.dumps(tx).encode("utf-8"), headers, timeout)
        else:
            answer = exchange("GET", url, None, headers, timeout)
        reason = "HTTP %d" % answer.status
        if 200 <= answer.status < 300:
            return True
    except HttpError as e:
        reason = str(e)
    log.error("Transaction not found on external system. ID: %s (%s)" % (tx_id, reason))
    return False
