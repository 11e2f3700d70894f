"""The one outbound HTTP(S) client of kms_ref (SPEC §9): every request leaves through `exchange`.

    answer = exchange("POST", "https://api.tatum.io/v3/kms/pending/BTC", body, headers, timeout=30)
    answer.status, answer.headers, answer.body

Its callers — the Tatum v3 client (`kms_ref.daemon.tatum_client`) and the four-eye check
(`kms_ref.daemon.four_eye`) — decide what a status means; `exchange` only moves bytes and
raises `HttpError` when there is no complete answer. It never retries.

Built on `http.client`, the layer `urllib.request` itself uses, for the things a signing daemon
needs and urlopen hides:
- **Whether the request left the machine.** `HttpError.sent` is False when the request surely
  never reached the server (no connection, or it broke before the whole request was written)
  and True once it was written: a broadcast that fails after that point may have arrived.
- **One deadline per request.** Socket timeouts bound each read, not the exchange: a server
  that drips one byte per second would hold a read-per-byte client forever. Here a timer shuts
  the socket down when `timeout` seconds have passed since the request began, whatever stage
  it is in, so no request outlives its timeout.
- **A cap on the answer** (`MAX_ANSWER`): a larger answer is refused rather than buffered.
Redirects are not followed (a 3xx is an answer like any other: the caller sees its status).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import urllib.parse
from typing import NamedTuple, Optional

DEFAULT_TIMEOUT = 30.0                  # seconds, per request, from connect to the last byte
MAX_ANSWER = 64 * 2 ** 20               # bytes; a larger answer is refused rather than buffered
MESSAGE_LIMIT = 300                     # characters of a server's text kept in a message


class HttpError(Exception):
    """A request that did not give a usable answer. `status` is the HTTP status, or None when no
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


def clean_text(text: str, secret: Optional[str] = None) -> str:
    """A server's text fit for a log line: one line, at most MESSAGE_LIMIT characters, and never
    the API key (a server might echo the request's headers back)."""
    if secret:
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "…"


def exchange(method: str, url: str, body: Optional[bytes] = None, headers: Optional[dict] = None,
             timeout: float = DEFAULT_TIMEOUT) -> Answer:
    """One HTTP request, whatever the answer's status. Raises HttpError(None, ...) when there is
    no complete answer within `timeout` seconds."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(None, "not an http(s) URL: %s" % url, sent=False)
    try:
        port = parts.port
    except ValueError:
        raise HttpError(None, "bad port in URL %s" % url, sent=False) from None
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
            raise HttpError(None, "%s: request not sent (%s)" % (where, _reason(e, expired, timeout)),
                           sent=False) from None
        try:   # from here on the whole request was written: it may have arrived
            response = conn.getresponse()
            data = _read_limited(response)
        except (OSError, http.client.HTTPException) as e:
            raise HttpError(None, "%s: no complete answer (%s)" % (where, _reason(e, expired, timeout)),
                           sent=True) from None
        if expired.is_set():               # the socket was shut down under a close-delimited body
            raise HttpError(None, "%s: no complete answer (timed out after %g s)" % (where, timeout),
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


