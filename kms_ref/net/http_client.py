"""A client for the Tatum v3 REST API, the calls of SPEC §5 (and the sandbox's, SPEC §6).

    client = TatumClient("https://api.tatum.io", api_key, timeout=30)
    pending = client.pending("BTC", ["<signatureId>", ...])      # POST /v3/kms/pending/BTC
    client.broadcast("bitcoin", signed_hex, pending[0]["id"])   # POST /v3/bitcoin/broadcast

Every request carries `x-api-key`, `Content-Type: application/json`, `User-Agent: kms_ref/<v>`
and `x-ttm-kms-client-version: <v>` (the header tatum-kms 8 sends with its pending call).
Anything but a 2xx answer with well-formed JSON raises `ApiError`; the client never retries —
the daemon decides what a failure means.

Built on `http.client`, the layer `urllib.request` itself uses, for two things a signing daemon
needs and urlopen hides:
- **Whether the request left the machine.** `ApiError.sent` is False when the request surely
  never reached the server (no connection, or it broke before the whole request was written)
  and True once it was written: a broadcast that fails after that point may have arrived.
- **One deadline per request.** Socket timeouts bound each read, not the exchange: a server
  that drips one byte per second would hold a read-per-byte client forever. Here a timer shuts
  the socket down when `timeout` seconds have passed since the request began, whatever stage
  it is in, so no request outlives its timeout.
Redirects are not followed (a 3xx is an error) and proxies are not used.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import urllib.parse
from typing import List, NamedTuple, Optional

from kms_ref import __version__

DEFAULT_URL = "https://api.tatum.io"   # tatum-kms: process.env.TATUM_API_URL || "https://api.tatum.io"
DEFAULT_TIMEOUT = 30.0                  # seconds, per request, from connect to the last byte
MAX_ANSWER = 64 * 2 ** 20               # bytes; a larger answer is refused rather than buffered
MESSAGE_LIMIT = 300                     # characters of a server's error message kept in ApiError
USER_AGENT = "kms_ref/%s" % __version__


class ApiError(Exception):
    """A call that did not give a usable answer. `status` is the HTTP status, or None when no
    answer came (connection refused, timeout, dropped connection); `sent` tells whether the
    request may have reached the server (see the module docstring)."""

    def __init__(self, status: Optional[int], message: str, sent: bool = True):
        super().__init__(message)
        self.status = status
        self.message = message
        self.sent = sent

    def __str__(self) -> str:
        return self.message if self.status is None else "HTTP %d: %s" % (self.status, self.message)


class Answer(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def _clean(text: str, secret: Optional[str] = None) -> str:
    """A server's text fit for a log line: one line, at most MESSAGE_LIMIT characters, and never
    the API key (a server might echo the request's headers back)."""
    if secret:
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "…"


def exchange(method: str, url: str, body: Optional[bytes] = None, headers: Optional[dict] = None,
             timeout: float = DEFAULT_TIMEOUT) -> Answer:
    """One HTTP request, whatever the answer's status. Raises ApiError(None, ...) when there is
    no complete answer within `timeout` seconds."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(None, "not an http(s) URL: %s" % url, sent=False)
    try:
        port = parts.port
    except ValueError:
        raise ApiError(None, "bad port in URL %s" % url, sent=False) from None
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    where = "%s %s" % (method, parts.netloc)
    expired = threading.Event()
    sockets = []   # the connected socket (conn.sock is dropped once a closing answer arrives)

    def expire() -> None:                  # the per-request deadline: unblock whatever waits
        expired.set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        try:
            conn.connect()
            sockets.append(conn.sock)
            if expired.is_set():
                raise socket.timeout("timed out")
            conn.request(method, target, body=body, headers=headers or {})
        except (OSError, http.client.HTTPException) as e:
            raise ApiError(None, "%s: request not sent (%s)" % (where, _reason(e, expired, timeout)),
                           sent=False) from None
        try:   # from here on the whole request was written: it may have arrived
            response = conn.getresponse()
            data = _read_limited(response)
        except (OSError, http.client.HTTPException) as e:
            raise ApiError(None, "%s: no complete answer (%s)" % (where, _reason(e, expired, timeout)),
                           sent=True) from None
        if expired.is_set():               # the socket was shut down under a close-delimited body
            raise ApiError(None, "%s: no complete answer (timed out after %g s)" % (where, timeout),
                           sent=True)
        return Answer(response.status, response.headers, data)
    finally:
        timer.cancel()
        conn.close()


def _reason(error: BaseException, expired: threading.Event, timeout: float) -> str:
    if expired.is_set() or isinstance(error, socket.timeout):
        return "timed out after %g s" % timeout
    return str(error) or type(error).__name__


def _read_limited(response: http.client.HTTPResponse) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = response.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_ANSWER:
            raise http.client.HTTPException("answer larger than %d bytes" % MAX_ANSWER)
        chunks.append(chunk)


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
        headers = {
            "x-api-key": self._api_key,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "x-ttm-kms-client-version": __version__,
        }
        data = None if body is None else json.dumps(body).encode("utf-8")
        answer = exchange(method, self.url(path), data, headers, self.timeout)
        text = answer.body.decode("utf-8", errors="replace")
        if not 200 <= answer.status < 300:
            raise ApiError(answer.status, self._message(text, answer.status))
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise ApiError(answer.status, "malformed JSON in the answer to %s %s: %s"
                           % (method, path.split("?")[0], _clean(text[:80], self._api_key))) from None

    def _message(self, text: str, status: int) -> str:
        """Tatum's error bodies are {"statusCode", "errorCode", "message", "cause"?}."""
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("message"):
            message = str(data["message"])
            if data.get("errorCode"):
                message = "%s (%s)" % (message, data["errorCode"])
            if data.get("cause"):
                message += ": %s" % json.dumps(data["cause"])
        else:
            message = text.strip() or http.client.responses.get(status, "error")
        return _clean(message, self._api_key)

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
        return self.call("POST", "/v3/%s/broadcast" % _path_part(api_name),
                         {"txData": tx_data, "signatureId": signature_id})

    def offchain_broadcast(self, currency: str, signature_id: str, withdrawal_id: str, tx_data: str) -> dict:
        """An offchain withdrawal's transaction (body keys in tatum-kms's order)."""
        return self.call("POST", "/v3/offchain/withdrawal/broadcast",
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
