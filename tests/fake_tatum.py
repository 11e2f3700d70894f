"""A scriptable stand-in for the Tatum v3 API (SPEC §5) on 127.0.0.1, for the daemon's tests.

    with FakeTatum(api_key="k") as api:
        api.pending.append(tx)                       # listed by POST /v3/kms/pending/{chain}
        api.script("POST", "/v3/bitcoin/broadcast", Reply(500))   # the next matching call fails
        ... run the daemon with TATUM_API_URL=api.url ...
        api.broadcasts()                              # what it received

Default behaviour, as Tatum: the pending call lists the transactions of that chain naming one
of the posted signature IDs (in `hashes` or `signatures`) that were not broadcast yet (or all
of them, with `keep_listed`, as an API that failed to mark them); a broadcast answers
{"txId", "failed": false}; the batch endpoint answers 204; `/external/{id}` is a four-eye
system answering `external_status` (default 200); `GET /v3/{chain}/transaction/{txid}` finds
the txids in `known_txids` (the network) and answers 404 for any other. A scripted action replaces the default
answer of the next call it matches: `Reply`, `Sleep` (then the default answer), `Drop` (close
without answering), `Drip` (headers, then the body a byte at a time), `Block` (hold the call
until an event is set, then close). Every call is recorded, answered or not.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple, Optional
from urllib.parse import unquote


class Call(NamedTuple):
    method: str
    path: str
    headers: dict      # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None


class Reply(NamedTuple):
    status: int = 200
    body: object = None          # JSON-encoded unless str/bytes


class Sleep(NamedTuple):
    seconds: float


class Drop(NamedTuple):
    pass


class Drip(NamedTuple):
    body: object = None          # None: the default answer's body
    interval: float = 0.01


class Block(NamedTuple):
    event: threading.Event


def _txid(tx_hex: str) -> str:
    try:
        from kms_ref.tx.transaction import parse_hex
        return parse_hex(tx_hex).txid()
    except Exception:  # noqa: BLE001 — a fake answer is fine for a test server
        return "00" * 32


class FakeTatum:
    def __init__(self, api_key: str = "test-api-key"):
        self.api_key = api_key
        self.pending = []
        self.keep_listed = False
        self.external_status = {}    # pending id → status of /external/{id}; default 200
        self.broadcast_answer = {"failed": False}
        self.known_txids = set()     # what GET /v3/{chain}/transaction/{txid} finds (the "network")
        self.calls = []
        self.broadcast_ids = set()
        self.on_call = None          # called with each Call as it arrives, before it is answered
        self._scripts = []           # [method, path prefix, action]
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # -- scripting and inspection ----------------------------------------------------------------

    def script(self, method: str, prefix: str, *actions) -> None:
        with self._lock:
            for action in actions:
                self._scripts.append((method, prefix, action))

    def _take_action(self, method: str, path: str):
        with self._lock:
            for i, (m, prefix, action) in enumerate(self._scripts):
                if m == method and path.startswith(prefix):
                    del self._scripts[i]
                    return action
        return None

    def calls_to(self, prefix: str, method: Optional[str] = None):
        with self._lock:
            return [c for c in self.calls if c.path.startswith(prefix) and (method is None or c.method == method)]

    def broadcasts(self):
        """Calls to /v3/{chain}/broadcast and the offchain broadcast."""
        with self._lock:
            return [c for c in self.calls if c.method == "POST" and c.path.endswith("/broadcast")]

    def batch_errors(self):
        """Every {"signatureId", "error"} posted to the batch endpoint, in order."""
        return [e for c in self.calls_to("/v3/tatum/kms/batch") for e in c.json()["errors"]]

    def wait_for(self, predicate, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return False

    # -- default answers ---------------------------------------------------------------------------

    def default_answer(self, call: Call):
        path, method = call.path, call.method
        if path.startswith("/external/"):
            return Reply(self.external_status.get(path.rsplit("/", 1)[1], 200), {"checked": True})
        if call.headers.get("x-api-key") != self.api_key:
            return Reply(403, {"statusCode": 403, "errorCode": "apikey.invalid", "message": "Invalid API key"})
        if method == "POST" and path.startswith("/v3/kms/pending/"):
            chain = path.rsplit("/", 1)[1]
            wanted = set(call.json()["signatureIds"])
            listed = []
            for tx in self.pending:
                ids = set(tx.get("hashes") or []) | {s["id"] for s in tx.get("signatures") or []}
                if tx["chain"] == chain and ids & wanted and (self.keep_listed or tx["id"] not in self.broadcast_ids):
                    listed.append(tx)
            return Reply(200, listed)
        if method == "POST" and path.endswith("/broadcast"):
            body = call.json()
            with self._lock:
                self.broadcast_ids.add(body["signatureId"])
            answer = {"txId": _txid(body["txData"])}
            answer.update(self.broadcast_answer)
            return Reply(200, answer)
        if method == "POST" and path == "/v3/tatum/kms/batch":
            return Reply(204)
        if method in ("PUT", "DELETE") and path.startswith("/v3/kms/"):
            return Reply(204)
        if method == "GET" and "/transaction/" in path and path.startswith("/v3/"):
            txid = path.rsplit("/", 1)[1]
            if txid in self.known_txids:
                return Reply(200, {"hash": txid})
            return Reply(404, {"statusCode": 404, "errorCode": "tx.not.found", "message": "no such transaction"})
        if method == "GET" and path.startswith("/v3/kms/"):
            listed = [tx for tx in self.pending if tx["id"] == unquote(path.rsplit("/", 1)[1])]
            if listed:
                return Reply(200, listed[0])
        return Reply(404, {"statusCode": 404, "message": "no route %s %s" % (method, path)})

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                call = Call(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.calls.append(call)
                if fake.on_call is not None:
                    fake.on_call(call)
                action = fake._take_action(self.command, self.path)
                if isinstance(action, Sleep):
                    time.sleep(action.seconds)
                    action = None
                if isinstance(action, Drop):
                    self.close_connection = True
                    return
                if isinstance(action, Block):
                    action.event.wait(60)
                    self.close_connection = True
                    return
                if isinstance(action, Drip):
                    data = _encode(action.body if action.body is not None else fake.default_answer(call).body)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    try:
                        for i in range(len(data)):
                            self.wfile.write(data[i:i + 1])
                            self.wfile.flush()
                            time.sleep(action.interval)
                    except OSError:
                        pass
                    return
                reply = action if isinstance(action, Reply) else fake.default_answer(call)
                data = _encode(reply.body)
                self.send_response(reply.status)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if data:
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler


def _encode(body) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")
