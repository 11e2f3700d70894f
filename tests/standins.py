"""A stand-in HTTP service on 127.0.0.1 (random port) for the password sources' tests.

    with StandIn(handler) as service:       # handler(call) -> Reply
        ... run kms-ref with a variable pointing at service.url ...
        service.calls                        # every request, in order

Each service (AWS Secrets Manager, the AWS metadata services, Azure's token services and Key
Vault, VGS) is a handler that checks what a real one checks and answers what a real one
answers; `fail_next` makes the next call answer something else (an error, garbage).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, List, NamedTuple, Optional
from urllib.parse import parse_qsl, urlsplit


class Call(NamedTuple):
    method: str
    path: str            # without the query
    query: dict
    headers: dict        # lower-case names
    body: bytes


class Reply(NamedTuple):
    status: int = 200
    body: object = None  # JSON-encoded unless str or bytes
    content_type: str = "application/json"


class StandIn:
    def __init__(self, handler: Callable[[Call], Reply]):
        self.handler = handler
        self.calls: List[Call] = []
        self.fail_next: List[Reply] = []
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def __enter__(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                call = Call(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                            {k.lower(): v for k, v in self.headers.items()}, body)
                service.calls.append(call)
                reply = service.fail_next.pop(0) if service.fail_next else service.handler(call)
                data = reply.body
                if not isinstance(data, (bytes, str)):
                    data = json.dumps(data)
                data = data.encode("utf-8") if isinstance(data, str) else data
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):   # the client gave up (a deadline)
                    pass

            do_GET = do_POST = do_PUT = _handle

        return Handler


def closed_port_url() -> str:
    """An http://127.0.0.1 URL where nothing listens (the port was just released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % s.getsockname()[1]
