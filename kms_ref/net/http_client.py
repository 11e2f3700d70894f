"""The one outbound HTTP(S) client of kms_ref (SPEC §9): every request leaves through `exchange`.

    answer = exchange("POST", "https://api.tatum.io/v3/kms/pending/BTC", body, headers, timeout=30)
    answer.status, answer.headers, answer.body

Its callers — the Tatum v3 client (`kms_ref.daemon.tatum_client`), the four-eye check
(`kms_ref.daemon.four_eye`) and the password sources (`kms_ref.passwords`) — decide what a
status means; `exchange` only moves bytes and raises `HttpError` when there is no complete
answer. Whatever the caller, every request gets the same rules:
- **Plain http:// only to loopback and link-local hosts** (`kms_ref.net.plain_http`), unless
  KMS_REF_ALLOW_HTTP=1.
- **TLS verified** against the system store and the CAs of SSL_CERT_FILE, SSL_CERT_DIR and
  KMS_REF_CA_FILE (`kms_ref.net.tls`); no switch turns it off.
- **Proxies** from HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY (`kms_ref.net.proxies`): https://
  through a CONNECT tunnel (`http.client`'s `set_tunnel`), so the proxy never sees the request's
  headers — the API key, a vault token — only the target's name and port.
- **One deadline per request.** Socket timeouts bound each read, not the exchange: a server that
  drips one byte per second would hold a read-per-byte client forever. Here a timer shuts the
  request's sockets down when `timeout` seconds have passed since it began — connecting, the
  proxy's CONNECT, the TLS handshake, sending or reading — so no request outlives its timeout.
- **A cap on the answer** (`MAX_ANSWER`): a larger answer is refused rather than buffered.
- **Whether the request left the machine.** `HttpError.sent` is False when the request surely
  never reached the server (no connection, or it broke before the whole request was written)
  and True once it was written: a broadcast that fails after that point may have arrived.
- **Connections are reused** (HTTP/1.1 keep-alive, as tatum-kms's agentkeepalive), never at the
  price of a request sent twice: see `kms_ref.net.pool` for how a stale connection is avoided.
  A request is sent again only when it surely did not arrive, and then on a fresh connection.
Redirects are not followed (a 3xx is an answer like any other: the caller sees its status).
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import socket
import threading
import time
import urllib.parse
from typing import NamedTuple, Optional

from kms_ref.net.plain_http import check_url
from kms_ref.net.pool import Pool
from kms_ref.net.proxies import proxy_for
from kms_ref.net.timeouts import DEFAULT_TIMEOUT
from kms_ref.net.tls import tls_context

MAX_ANSWER = 64 * 2 ** 20               # bytes; a larger answer is refused rather than buffered
MESSAGE_LIMIT = 300                     # characters of a server's text kept in a message
POOL = Pool()                           # the process's idle connections (kms_ref.net.pool)


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


class Deadline:
    """`timeout` seconds from the start of a request. When they pass, every socket the request
    opened is shut down, so whatever waits on one — connect, CONNECT, handshake, read — returns
    at once. `finish()` ends the watch before a connection goes back to the pool."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.when = time.monotonic() + timeout
        self.expired = threading.Event()
        self._sockets = []
        self._finished = False
        self._lock = threading.Lock()
        WATCHDOG.add(self)

    def watch(self, sock) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired.is_set():
                _shut_down(sock)

    def expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired.set()
            for sock in self._sockets:
                _shut_down(sock)

    @property
    def finished(self) -> bool:
        return self._finished

    def finish(self) -> None:
        with self._lock:
            self._finished = True


class Watchdog:
    """One thread that expires every request's Deadline when its time comes.

    The plain way — a `threading.Timer` per request — measured about 1 ms per request on
    loopback (2.0 ms against 1.0 ms for a keep-alive GET to a local server): starting a thread
    waits until the new thread has run, and the timer thread then competes for the GIL while the
    request is written. Here one thread, started once, sleeps until the earliest deadline in a
    heap; a request only pushes its Deadline. A finished Deadline stays in the heap until its
    time and is then dropped unfired; the thread is woken early only when a new deadline is
    earlier than every one it waits for (with one timeout for every request, almost never).
    """

    def __init__(self):
        self._condition = threading.Condition()
        self._heap = []                  # (when, sequence number, Deadline)
        self._count = itertools.count()
        self._thread = None

    def add(self, deadline: Deadline) -> None:
        with self._condition:
            heapq.heappush(self._heap, (deadline.when, next(self._count), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kms_ref deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is deadline:
                self._condition.notify()

    def _run(self) -> None:
        while True:
            due = []
            with self._condition:
                now = time.monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2].finished):
                    due.append(heapq.heappop(self._heap)[2])
                if not due:
                    self._condition.wait(self._heap[0][0] - now if self._heap else None)
            for deadline in due:
                deadline.expire()


WATCHDOG = Watchdog()


def _shut_down(sock) -> None:
    """Shut the TCP connection down under any waiting call. `socket.socket.shutdown` on a TLS
    socket too: the TLS layer's own shutdown would also drop the state a waiting call uses."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _Watched:
    """http.client's connect, with each new socket handed to the request's Deadline at once."""

    deadline: Optional[Deadline] = None

    def _open(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), self.timeout)
        self.deadline.watch(self.sock)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tunnel_host:               # set_tunnel: CONNECT target:port through the proxy
            self._tunnel()


class PlainConnection(_Watched, http.client.HTTPConnection):
    def connect(self) -> None:
        self._open()


class TlsConnection(_Watched, http.client.HTTPSConnection):
    def connect(self) -> None:
        """As HTTPSConnection.connect, with the handshake after the TLS socket is watched."""
        self._open()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._tunnel_host or self.host,
                                              do_handshake_on_connect=False)
        self.deadline.watch(self.sock)
        self.sock.do_handshake()


class Destination(NamedTuple):
    """Where a request goes, and so which idle connections may carry it."""
    scheme: str
    host: str
    port: int
    proxy: object          # kms_ref.net.proxies.Proxy, or None
    context: object        # the ssl.SSLContext of an https:// destination, or None

    def connection(self, timeout: float):
        if self.proxy is None:
            if self.scheme == "https":
                return TlsConnection(self.host, self.port, timeout=timeout, context=self.context)
            return PlainConnection(self.host, self.port, timeout=timeout)
        if self.scheme == "https":
            connection = TlsConnection(self.proxy.host, self.proxy.port, timeout=timeout, context=self.context)
            auth = {"Proxy-Authorization": self.proxy.authorization} if self.proxy.authorization else None
            connection.set_tunnel(self.host, self.port, headers=auth)
            return connection
        return PlainConnection(self.proxy.host, self.proxy.port, timeout=timeout)


def destination_of(url: str) -> tuple:
    """(Destination, request target) of an http(s) URL; HttpError(sent=False) when kms_ref may
    not or cannot send there (not http(s), plain http to a remote host, an unusable proxy
    variable or CA setting)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(None, "not an http(s) URL: %s" % _shown(parts), sent=False)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
        check_url(url)
        proxy = proxy_for(scheme, parts.hostname, port)
        context = tls_context() if scheme == "https" else None
    except ValueError as e:        # bad port, PlainHttpRefused, ProxyError, TlsSettingError
        raise HttpError(None, str(e), sent=False) from None
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    if proxy is not None and scheme == "http":      # a plain-HTTP proxy takes the absolute URL
        target = urllib.parse.urlunsplit((scheme, parts.netloc.rpartition("@")[2], target, "", ""))
    return Destination(scheme, parts.hostname, port, proxy, context), target


def _shown(parts) -> str:
    """A URL for a message: scheme, host and port only (user info and path may hold secrets)."""
    return "%s://%s" % (parts.scheme, parts.netloc.rpartition("@")[2])


def exchange(method: str, url: str, body: Optional[bytes] = None, headers: Optional[dict] = None,
             timeout: float = DEFAULT_TIMEOUT) -> Answer:
    """One HTTP request, whatever the answer's status. Raises HttpError(None, ...) when there is
    no complete answer within `timeout` seconds (or the request may not be sent at all)."""
    return send(method, url, body, headers, timeout).answer()


def send(method: str, url: str, body: Optional[bytes] = None, headers: Optional[dict] = None,
         timeout: float = DEFAULT_TIMEOUT) -> "InFlight":
    """The first half of `exchange`: write the whole request and return without waiting for the
    answer (`InFlight.answer()` reads it). A caller can do other work while the server works —
    the daemon signs the next transaction while the last one's broadcast is being checked — on
    one thread. Raises HttpError(sent=False) when the request was surely not sent."""
    destination, target = destination_of(url)
    headers = dict(headers or {})
    if destination.proxy is not None and destination.scheme == "http" and destination.proxy.authorization:
        headers["Proxy-Authorization"] = destination.proxy.authorization
    where = "%s %s" % (method, _shown(urllib.parse.urlsplit(url)))
    deadline = Deadline(timeout)
    connection = POOL.take(destination)
    try:
        if connection is not None:
            try:
                _send(connection, deadline, timeout, method, target, body, headers)
            except (OSError, http.client.HTTPException):   # not all written: surely not arrived
                connection.close()
                connection = None
        if connection is None:
            connection = destination.connection(timeout)
            try:
                _send(connection, deadline, timeout, method, target, body, headers)
            except (OSError, http.client.HTTPException) as e:
                raise HttpError(None, "%s: request not sent (%s)" % (where, _reason(e, deadline)),
                                sent=False) from None
    except BaseException:
        deadline.finish()
        if connection is not None:
            connection.close()
        raise
    return InFlight(destination, connection, deadline, where)


class InFlight:
    """A request written in full whose answer has not been read yet (see `send`). From here on
    it may have arrived: every failure of `answer()` is HttpError(sent=True)."""

    def __init__(self, destination, connection, deadline: Deadline, where: str):
        self._destination, self._connection, self._deadline, self._where = destination, connection, deadline, where

    def answer(self) -> Answer:
        """Read the answer (within the request's deadline); the connection goes back to the pool."""
        connection, deadline, where = self._connection, self._deadline, self._where
        try:
            try:
                response = connection.getresponse()
                data = _read_limited(response)
            except (OSError, http.client.HTTPException) as e:
                raise HttpError(None, "%s: no complete answer (%s)" % (where, _reason(e, deadline)),
                                sent=True) from None
            deadline.finish()
            if deadline.expired.is_set():      # the socket was shut down under a close-delimited body
                raise HttpError(None, "%s: no complete answer (timed out after %g s)" % (where, deadline.timeout),
                                sent=True)
            if not response.will_close and connection.sock is not None:
                POOL.give_back(self._destination, connection)
                connection = None
            return Answer(response.status, response.headers, data)
        finally:
            deadline.finish()
            if connection is not None:
                connection.close()


def _send(connection, deadline: Deadline, timeout: float, method, target, body, headers) -> None:
    """Write the whole request, connecting first if the connection is new."""
    connection.deadline = deadline
    connection.timeout = timeout
    if connection.sock is None:
        connection.connect()
    else:
        deadline.watch(connection.sock)
        connection.sock.settimeout(timeout)
    if deadline.expired.is_set():
        raise socket.timeout("timed out")
    connection.request(method, target, body=body, headers=headers)


def close_idle_connections() -> None:
    """Close every kept connection (tests, between servers; at exit the process closes them)."""
    POOL.close_all()


def _reason(error: BaseException, deadline: Deadline) -> str:
    if deadline.expired.is_set() or isinstance(error, socket.timeout):
        return "timed out after %g s" % deadline.timeout
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
