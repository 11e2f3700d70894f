"""The sandbox's HTTP server: the Tatum v3 API of SPEC §5 for BTC, LTC, DOGE and BCH (SPEC §6).

Standard library only (`http.server.ThreadingHTTPServer`, one thread per connection; the
ledger has one lock). Routes, all under /v3 and all needing an `x-api-key` header — the
configured key if the sandbox was started with one, any non-empty key otherwise:

    POST   /v3/sandbox/faucet                      {"address", "amount", "chain"?} -> {"txId", "index"}
    GET    /v3/sandbox/errors                      the batches reported to /v3/tatum/kms/batch
    GET    /v3/sandbox/broadcasts                  accepted txids and attempts, per signature ID
    GET    /v3/{chain}/address/balance/{address}   {"incoming", "outgoing"} in coins
    GET    /v3/{chain}/utxo/{txHash}/{index}       {"txHash", "index", "value", "address", "script"}
    GET    /v3/{chain}/transaction/{txid}          {"hash", "hex"}
    POST   /v3/{chain}/transaction                 step 7: queue a KMS transaction -> {"signatureId"}
    POST   /v3/{chain}/broadcast                   {"txData", "signatureId"?} -> {"txId", "failed"}
    POST   /v3/kms/pending/{CHAIN}                 {"signatureIds": [...]} -> [pending tx, ...]
    GET    /v3/kms/pending/{CHAIN}?signatures=a,b  the same
    GET    /v3/kms/{id}                            one pending tx ("txId" once broadcast)
    PUT    /v3/kms/{id}/{txId}                     mark it completed (204)
    DELETE /v3/kms/{id}?revert=true                drop it (204)
    POST   /v3/offchain/withdrawal/broadcast       {"currency", "signatureId", "withdrawalId", "txData"}
    POST   /v3/tatum/kms/batch                     {"errors": [...]} (204)

{chain} is bitcoin, litecoin, dogecoin or bcash; {CHAIN} is BTC, LTC, DOGE or BCH. Errors come
in Tatum's shape `{"statusCode", "errorCode", "message"}`, and a client never sees a traceback.
JSON numbers are read as `decimal.Decimal`, so an amount like 0.00001 stays exact.
"""

from __future__ import annotations

import hmac
import json
import re
import signal
import sys
import threading
import traceback
from datetime import datetime, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

from kms_ref.encoding.bounded_json import parse_json
from kms_ref.sandbox.errors import NotAllowed, NotFound, SandboxError, body_object
from kms_ref.sandbox.ledger import Ledger

MAX_BODY = 4 * 1024 * 1024
MAX_NUMBER_LITERAL = 40   # characters of one JSON number in a body
LISTEN_BACKLOG = 1024     # connections waiting for accept(); the kernel caps it at net.core.somaxconn
POLL_INTERVAL = 0.05      # seconds: how quickly `stop()` is noticed
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
CHAIN_PATH = r"(?P<chain>bitcoin|litecoin|dogecoin|bcash)"
SEGMENT = r"(?P<%s>[^/]+)"


# --- one function per route: (ledger, path parameters, query, body) -> (status, answer) ---

def faucet(ledger, p, q, body):
    body = body_object(body)
    return 200, ledger.faucet(body.get("address"), body.get("amount"), body.get("chain"))


def balance(ledger, p, q, body):
    return 200, ledger.balance(p["chain"], p["address"])


def utxo(ledger, p, q, body):
    return 200, ledger.utxo(p["chain"], p["txid"], p["index"])


def transaction(ledger, p, q, body):
    return 200, ledger.transaction(p["chain"], p["txid"])


def create_transaction(ledger, p, q, body):
    return 200, ledger.create_transaction(p["chain"], body)


def broadcast(ledger, p, q, body):
    body = body_object(body)
    return 200, ledger.broadcast(p["chain"], body.get("txData"), body.get("signatureId"))


def pending_post(ledger, p, q, body):
    return 200, ledger.pending_for(p["symbol"], body_object(body).get("signatureIds"))


def pending_get(ledger, p, q, body):
    ids = [s for value in q.get("signatures", []) for s in value.split(",") if s]
    return 200, ledger.pending_for(p["symbol"], ids)


def kms_get(ledger, p, q, body):
    return 200, ledger.get_pending(p["id"])


def kms_complete(ledger, p, q, body):
    ledger.complete_pending(p["id"], p["txid"])
    return 204, None


def kms_delete(ledger, p, q, body):
    ledger.delete_pending(p["id"])
    return 204, None


def withdrawal_broadcast(ledger, p, q, body):
    return 200, ledger.broadcast_withdrawal(body)


def kms_batch(ledger, p, q, body):
    ledger.record_errors(body)
    return 204, None


def sandbox_errors(ledger, p, q, body):
    return 200, ledger.error_report()


def sandbox_broadcasts(ledger, p, q, body):
    return 200, ledger.broadcast_report()


def _route(method: str, pattern: str, handler):
    names = re.findall(r"\{(\w+)\}", pattern)
    regex = pattern.replace("{chain}", CHAIN_PATH)
    for name in names:
        regex = regex.replace("{%s}" % name, SEGMENT % name)
    return method, re.compile(regex + "$"), handler


ROUTES = [
    _route("POST", "/v3/sandbox/faucet", faucet),
    _route("GET", "/v3/sandbox/errors", sandbox_errors),
    _route("GET", "/v3/sandbox/broadcasts", sandbox_broadcasts),
    _route("POST", "/v3/kms/pending/{symbol}", pending_post),
    _route("GET", "/v3/kms/pending/{symbol}", pending_get),
    _route("GET", "/v3/kms/{id}", kms_get),
    _route("PUT", "/v3/kms/{id}/{txid}", kms_complete),
    _route("DELETE", "/v3/kms/{id}", kms_delete),
    _route("POST", "/v3/offchain/withdrawal/broadcast", withdrawal_broadcast),
    _route("POST", "/v3/tatum/kms/batch", kms_batch),
    _route("GET", "/v3/{chain}/address/balance/{address}", balance),
    _route("GET", "/v3/{chain}/utxo/{txid}/{index}", utxo),
    _route("GET", "/v3/{chain}/transaction/{txid}", transaction),
    _route("POST", "/v3/{chain}/transaction", create_transaction),
    _route("POST", "/v3/{chain}/broadcast", broadcast),
]


def find_route(method: str, path: str):
    """(handler, path parameters) for a request; NotFound, or 405 for a known path and another method."""
    allowed = []
    for route_method, regex, handler in ROUTES:
        match = regex.match(path)
        if match:
            if route_method == method:
                return handler, {k: unquote(v) for k, v in match.groupdict().items()}
            allowed.append(route_method)
    if allowed:
        raise NotAllowed("%s is not allowed on %s (use %s)" % (method, path, ", ".join(allowed)))
    raise NotFound("no route %s %s" % (method, path), "route.not.found")


def _reject_constant(name):
    raise ValueError("%s is not a JSON number" % name)


def _bounded(convert):
    """A JSON number literal of at most MAX_NUMBER_LITERAL characters, converted: a longer one
    is refused before the conversion, whose cost grows with the length (int() is quadratic)."""
    def parse(text: str):
        if len(text) > MAX_NUMBER_LITERAL:
            raise ValueError("a number of more than %d characters" % MAX_NUMBER_LITERAL)
        return convert(text)
    return parse


def parse_body(raw: bytes):
    """The JSON body (numbers as Decimal), None when empty; SandboxError when malformed, nested
    too deeply, or holding a number literal that is too long."""
    if not raw.strip():
        return None
    try:
        return parse_json(raw.decode("utf-8"), "the body", parse_float=_bounded(Decimal),
                          parse_int=_bounded(int), parse_constant=_reject_constant)
    except ValueError as e:   # UnicodeDecodeError is one
        raise SandboxError("malformed JSON body: %s" % (e if not isinstance(e, UnicodeDecodeError)
                                                        else "not UTF-8"), "body.malformed") from None


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG   # listen(2)'s backlog: socketserver's default of 5 reset bursts

    def __init__(self, address, ledger: Ledger, api_key: Optional[str], log: bool):
        self.ledger, self.api_key, self.log = ledger, api_key, log
        super().__init__(address, SandboxHandler)

    def handle_error(self, request, client_address):
        if self.log:   # a client that went away mid-request, typically; never a traceback
            sys.stderr.write("%s - connection error from %s: %s\n"
                             % (_now(), client_address[0], sys.exc_info()[1]))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kms_ref-sandbox"
    sys_version = ""
    timeout = 60          # an idle keep-alive connection is closed after this many seconds
    disable_nagle_algorithm = True   # TCP_NODELAY: on a kept-alive connection, Nagle would hold
    # the body (a second write after the headers) for the client's delayed ACK, ~40 ms an answer

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def parse_request(self) -> bool:
        """An HTTP/0.9 request ("GET /path", no version) has no headers and gets no status line:
        close at once — the base class would wait for headers until the timeout."""
        words = self.raw_requestline.split()
        if len(words) == 2 or (len(words) == 3 and words[2].startswith(b"HTTP/0.")):
            self.close_connection = True
            return False
        return super().parse_request()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise SandboxError("send the body with a Content-Length, not a Transfer-Encoding")
        lengths = self.headers.get_all("Content-Length") or []
        if len(lengths) > 1:   # which one frames the body? A proxy and this server could disagree
            self.close_connection = True
            raise SandboxError("more than one Content-Length header")
        if not lengths:
            length = 0
        elif re.fullmatch(r"[0-9]{1,10}", lengths[0].strip()):   # ASCII digits: int() takes "1_0", "３"
            length = int(lengths[0])
        else:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise SandboxError("the body must have a Content-Length of at most %d bytes" % MAX_BODY)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        given = self.headers.get("x-api-key") or ""
        expected = self.server.api_key
        if expected is None:
            return bool(given)
        return hmac.compare_digest(given.encode(), expected.encode())

    def _dispatch(self, method: str):
        try:
            raw = self._read_body()
            url = urlsplit(self.path)
            if not url.path.startswith("/v3/"):
                raise NotFound("no route %s %s" % (method, url.path), "route.not.found")
            if not self._authorized():
                return self._send(401, {"statusCode": 401, "errorCode": "api.key.invalid",
                                        "message": "missing or wrong x-api-key header"})
            handler, params = find_route(method, url.path)
            status, answer = handler(self.server.ledger, params, parse_qs(url.query), parse_body(raw))
            self._send(status, answer)
        except SandboxError as e:
            self._send(e.status, {"statusCode": e.status, "errorCode": e.error_code, "message": str(e)})
        except ValueError as e:   # a library refusal that is not the sandbox's own
            self._send(400, {"statusCode": 400, "errorCode": "validation.failed", "message": str(e)})
        except Exception as e:  # noqa: BLE001 — the client gets the type, the server log the traceback
            traceback.print_exc(file=sys.stderr)
            self._send(500, {"statusCode": 500, "errorCode": "internal.error",
                             "message": "internal error (%s)" % type(e).__name__})

    def _send(self, status: int, answer) -> None:
        body = b"" if status == 204 else json.dumps(answer).encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code, message=None, explain=None):
        """Malformed request lines and headers: answered as JSON too, and the connection closed."""
        self.close_connection = True
        try:
            self._send(code, {"statusCode": code, "errorCode": "request.malformed", "message": message or ""})
        except OSError:
            pass

    def log_request(self, code="-", size="-"):
        if self.server.log:
            sys.stderr.write("%s - %s %s %s\n" % (_now(), self.command, self.path, code))

    def log_message(self, format, *args):
        if self.server.log:
            sys.stderr.write("%s - %s\n" % (_now(), format % args))


class SandboxHandle:
    """A sandbox serving in a background thread: `.url`, `.ledger`, `.stop()` (also a context manager)."""

    def __init__(self, server: SandboxServer):
        self.server = server
        self.ledger = server.ledger
        host, port = server.server_address[:2]
        self.url = "http://%s:%d" % (host, port)
        self.thread = threading.Thread(target=server.serve_forever, args=(POLL_INTERVAL,),
                                       name="kms_ref-sandbox", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_sandbox(host: str = DEFAULT_HOST, port: int = 0, api_key: Optional[str] = None,
                  state: Optional[str] = None, log: bool = False) -> SandboxHandle:
    """Start a sandbox on host:port (0: any free port) in a background thread. With `api_key`, only
    that x-api-key is accepted; with `state`, the ledger is loaded from and saved to that file."""
    server = SandboxServer((host, port), Ledger(state), api_key or None, log)
    return SandboxHandle(server)


def main(ctx) -> int:
    """`kms-ref sandbox [--host H] [--port P] [--apiKey K] [--state FILE]`: serve until SIGINT or
    SIGTERM. Prints one JSON line when listening; request lines go to stderr."""
    import os

    flags = ctx.flags
    host = flags.get("host") or DEFAULT_HOST
    port = flags.get("port", DEFAULT_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError("--port must be a whole number from 0 to 65535 (0: any free port)")
    state = os.path.expanduser(flags["state"]) if flags.get("state") else None
    api_key = flags.get("apiKey") or None
    handle = start_sandbox(host, port, api_key, state, log=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(json.dumps({"listening": handle.url, "apiKey": "required" if api_key else "any non-empty key",
                      "state": state}), flush=True)
    while not stop.wait(0.5):
        pass
    handle.stop()
    return 0
