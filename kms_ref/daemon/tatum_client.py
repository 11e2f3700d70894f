"""A client for the Tatum v3 REST API, the calls of SPEC §5 (and the sandbox's, SPEC §6).

    client = TatumClient("https://api.tatum.io", api_key, timeout=30)
    pending = client.pending("BTC", ["<signatureId>", ...])      # POST /v3/kms/pending/BTC
    client.broadcast("bitcoin", signed_hex, pending[0]["id"])   # POST /v3/bitcoin/broadcast

Every request carries `x-api-key`, `Content-Type: application/json`, `User-Agent: kms_ref/<v>`
and `x-ttm-kms-client-version: <v>` (the header tatum-kms 8 sends with its pending call), and
goes out through `kms_ref.net.http_client.exchange` (deadline, size cap, TLS). Anything but a
2xx answer with well-formed JSON raises `HttpError` — `TatumError`, carrying Tatum's
`errorCode`, when an error answer came; the client never retries — the daemon decides what a
failure means. Answers are parsed with a bound on their nesting (`encoding.bounded_json`).
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import List, Optional

from kms_ref import __version__
from kms_ref.encoding.bounded_json import parse_json
from kms_ref.daemon.settings import DEFAULT_URL
from kms_ref.net.http_client import HttpError, clean_text, send
from kms_ref.net.timeouts import DEFAULT_TIMEOUT

USER_AGENT = "kms_ref/%s" % __version__


class TatumError(HttpError):
    """A non-2xx answer of the Tatum API, with its `errorCode` (None if the body had none):
    the daemon tells a refusal of the transaction from an expired key by it."""

    def __init__(self, status: int, message: str, error_code: Optional[str] = None):
        super().__init__(status, message)
        self.error_code = error_code


def _error_body(text: str) -> Optional[dict]:
    try:
        data = parse_json(text, "the error body")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _error_code(text: str) -> Optional[str]:
    code = (_error_body(text) or {}).get("errorCode")
    return code if isinstance(code, str) else None


def _path_part(value: str) -> str:
    """An ID placed in a URL path: percent-encoded, so that no ID can name another path."""
    return urllib.parse.quote(str(value), safe="")


class TatumClient:
    """The Tatum v3 API at `base_url` (e.g. TATUM_API_URL), authenticated with `api_key`."""

    def __init__(self, base_url: str = DEFAULT_URL, api_key: str = "", timeout: float = DEFAULT_TIMEOUT):
        self.base_url = (base_url or DEFAULT_URL).rstrip("/")
        self._api_key = api_key
        self.timeout = float(timeout)

    def __repr__(self) -> str:
        return "TatumClient(%r, api_key=<redacted>, timeout=%g)" % (self.base_url, self.timeout)

    def url(self, path: str) -> str:
        return self.base_url + path

    def call(self, method: str, path: str, body=None):
        """The decoded JSON answer of one request (None for an empty 2xx answer)."""
        return self.start(method, path, body).result()

    def start(self, method: str, path: str, body=None) -> "Call":
        """The request written, its answer not read yet: `Call.result()` reads and decodes it
        (see `kms_ref.net.http_client.send`). HttpError(sent=False) if it was surely not sent."""
        headers = {
            "x-api-key": self._api_key,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "x-ttm-kms-client-version": __version__,
        }
        data = None if body is None else json.dumps(body).encode("utf-8")
        return Call(self, method, path, send(method, self.url(path), data, headers, self.timeout))

    def _decode(self, method: str, path: str, answer):
        text = answer.body.decode("utf-8", errors="replace")
        if not 200 <= answer.status < 300:
            raise TatumError(answer.status, self._message(text, answer.status), _error_code(text))
        if not text.strip():
            return None
        try:
            return parse_json(text, "the answer")
        except ValueError:
            raise HttpError(answer.status, "malformed JSON in the answer to %s %s: %s"
                           % (method, path.split("?")[0], clean_text(text[:80], self._api_key))) from None

    def _message(self, text: str, status: int) -> str:
        """Tatum's error bodies are {"statusCode", "errorCode", "message", "cause"?}."""
        data = _error_body(text)
        if isinstance(data, dict) and data.get("message"):
            message = str(data["message"])
            if data.get("errorCode"):
                message = "%s (%s)" % (message, data["errorCode"])
            if data.get("cause"):
                message += ": %s" % json.dumps(data["cause"])
        else:
            message = text.strip() or http.client.responses.get(status, "error")
        return clean_text(message, self._api_key)

    def transaction(self, api_name: str, txid: str) -> dict:
        """GET /v3/{bitcoin,litecoin,dogecoin,bcash}/transaction/{txid}: the transaction, if the
        network knows it (SPEC §5, "Several daemons": how a failed broadcast is told from a done one)."""
        return self.call("GET", "/v3/%s/transaction/%s" % (_path_part(api_name), _path_part(txid)))

    # -- the KMS calls (SPEC §5) -----------------------------------------------------------------

    def pending(self, chain: str, signature_ids: List[str]) -> list:
        """The pending transactions of `chain` for these signature IDs (tatum-kms 8's POST form)."""
        return self.call("POST", "/v3/kms/pending/%s" % _path_part(chain),
                         {"signatureIds": list(signature_ids)})

    def get_pending(self, pending_id: str) -> dict:
        """One pending transaction; after its broadcast it carries `txId`."""
        return self.call("GET", "/v3/kms/%s" % _path_part(pending_id))

    def complete(self, pending_id: str, tx_id: str) -> None:
        """Mark a pending transaction processed with the txId it was broadcast as."""
        self.call("PUT", "/v3/kms/%s/%s" % (_path_part(pending_id), _path_part(tx_id)))

    def delete(self, pending_id: str, revert: bool = True) -> None:
        """Drop a pending transaction (revert=True also releases what Tatum reserved for it)."""
        self.call("DELETE", "/v3/kms/%s?revert=%s" % (_path_part(pending_id), "true" if revert else "false"))

    def broadcast(self, api_name: str, tx_data: str, signature_id: str) -> dict:
        """POST /v3/{bitcoin,litecoin,dogecoin,bcash}/broadcast → {"txId", "failed"}."""
        return self.start_broadcast(api_name, tx_data, signature_id).result()

    def start_broadcast(self, api_name: str, tx_data: str, signature_id: str) -> "Call":
        """`broadcast`, sent; its answer is read by `.result()`."""
        return self.start("POST", "/v3/%s/broadcast" % _path_part(api_name),
                          {"txData": tx_data, "signatureId": signature_id})

    def offchain_broadcast(self, currency: str, signature_id: str, withdrawal_id: str, tx_data: str) -> dict:
        """An offchain withdrawal's transaction (body keys in tatum-kms's order)."""
        return self.start_offchain_broadcast(currency, signature_id, withdrawal_id, tx_data).result()

    def start_offchain_broadcast(self, currency: str, signature_id: str, withdrawal_id: str,
                                 tx_data: str) -> "Call":
        """`offchain_broadcast`, sent; its answer is read by `.result()`."""
        return self.start("POST", "/v3/offchain/withdrawal/broadcast",
                          {"currency": currency, "signatureId": signature_id,
                           "withdrawalId": withdrawal_id, "txData": tx_data})

    def report_errors(self, errors: List[dict]) -> None:
        """Tell Tatum which pending transactions failed: [{"signatureId": id, "error": text}]."""
        self.call("POST", "/v3/tatum/kms/batch", {"errors": list(errors)})

    # -- the client side of the walkthrough (steps 6-8) and the sandbox ----------------------------

    def create_transaction(self, api_name: str, body: dict) -> dict:
        """POST /v3/{api_name}/transaction with signature IDs → {"signatureId": <pending id>}."""
        return self.call("POST", "/v3/%s/transaction" % _path_part(api_name), body)

    def faucet(self, address: str, amount, chain: Optional[str] = None) -> dict:
        """The sandbox's faucet: fund `address` with `amount` coins."""
        body = {"address": address, "amount": str(amount)}
        if chain is not None:
            body["chain"] = chain
        return self.call("POST", "/v3/sandbox/faucet", body)

    def balance(self, api_name: str, address: str) -> dict:
        """{"incoming", "outgoing"} of an address, in coins (decimal strings)."""
        return self.call("GET", "/v3/%s/address/balance/%s" % (_path_part(api_name), _path_part(address)))


class Call:
    """A request to the API that was sent and whose answer is still to be read."""

    def __init__(self, client: TatumClient, method: str, path: str, in_flight):
        self._client, self._method, self._path, self._in_flight = client, method, path, in_flight

    def result(self):
        """The decoded JSON answer, as `TatumClient.call` returns it (or its HttpError)."""
        return self._client._decode(self._method, self._path, self._in_flight.answer())
