"""Real servers on 127.0.0.1 (random ports) for the tests of kms_ref.net: an HTTP/1.1 origin
with keep-alive (optionally TLS with the test CA of tests/tls/, optionally closing idle
connections), and a forwarding proxy that speaks CONNECT, checks Proxy-Authorization and records
every byte a client sends it.

The proxy resolves names through its own table (`origin.test` → 127.0.0.1), as a proxy on a
locked-down network resolves names the host itself cannot: a request that reaches `origin.test`
went through the proxy.
"""

import base64
import contextlib
import json
import os
import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tls")
CA_FILE = os.path.join(TLS, "ca.pem")
CA_DIR = os.path.join(TLS, "certs")


class _CountingServer(ThreadingHTTPServer):
    """Counts the connections it has closed (after the close, not before)."""

    def shutdown_request(self, request):
        super().shutdown_request(request)
        with self.origin._lock:
            self.origin.closed += 1


class Origin:
    """An HTTP/1.1 server that answers every request with JSON {"n": its number, "path"} (or
    `body`) and records (connection number, method, path, headers, body). `idle_close`: seconds after which
    it closes an idle connection. `drop`: numbers of requests it reads and then answers by closing
    the connection without a byte."""

    def __init__(self, tls=False, idle_close=None, drop=(), body=None, hold=False):
        self.body = body           # bytes to answer every request with, instead of {"n", "path"}
        self.hold = hold           # after each answer, read nothing more until `released` is set
        self.released = threading.Event()
        self.requests = []
        self.connections = 0
        self.closed = 0            # connections the server has closed
        self.drop = set(drop)
        self._lock = threading.Lock()
        self.server = _CountingServer(("127.0.0.1", 0), self._handler(idle_close))
        self.server.origin = self
        self.server.daemon_threads = True
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(os.path.join(TLS, "server.pem"), os.path.join(TLS, "server.key"))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self, idle_close):
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = idle_close
            disable_nagle_algorithm = True     # no delayed-ACK stall on kept-alive connections

            def setup(self):
                super().setup()
                with origin._lock:
                    origin.connections += 1
                    self.number = origin.connections

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with origin._lock:
                    origin.requests.append((self.number, self.command, self.path, dict(self.headers), body))
                    n = len(origin.requests)
                if n in origin.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = origin.body if origin.body is not None else json.dumps({"n": n, "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if origin.hold:
                    self.wfile.flush()
                    origin.released.wait(30)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class Proxy:
    """A forward proxy: CONNECT host:port (a tunnel), or a plain-HTTP request with an absolute
    URL (forwarded, one request per connection). `auth` = (user, password) makes it answer 407
    without the matching Proxy-Authorization. Records every request head and every byte."""

    HOSTS = {"origin.test": "127.0.0.1", "wrong.test": "127.0.0.1", "127.0.0.1": "127.0.0.1"}

    def __init__(self, auth=None):
        self.heads = []            # (request line, {header: value}) as the proxy received them
        self.received = bytearray()  # every byte any client sent, tunnels included
        self.expected = None
        if auth:
            self.expected = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy._serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _record(self, data):
        with self._lock:
            self.received += data

    def _read_head(self, client):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return None, b""
            self._record(chunk)
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        with self._lock:
            self.heads.append((lines[0], headers))
        return (lines[0], headers), rest

    def _serve(self, client):
        head, rest = self._read_head(client)
        if head is None:
            return
        (line, headers) = head
        method, target, _ = line.split(" ", 2)
        if self.expected and headers.get("proxy-authorization") != self.expected:
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                           b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((self.HOSTS[host.strip("[]")], int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._relay(client, upstream, rest)
            return
        scheme, _, remainder = target.partition("://")
        hostport, _, path = remainder.partition("/")
        host, _, port = hostport.rpartition(":")
        length = int(headers.get("content-length") or 0)
        body = rest
        while len(body) < length:
            chunk = client.recv(65536)
            self._record(chunk)
            body += chunk
        upstream = socket.create_connection((self.HOSTS[host], int(port)))
        forwarded = ["%s /%s HTTP/1.1" % (method, path)]
        forwarded += ["%s: %s" % (k, v) for k, v in headers.items()
                      if k not in ("proxy-authorization", "connection", "proxy-connection")]
        forwarded.append("Connection: close")
        upstream.sendall(("\r\n".join(forwarded) + "\r\n\r\n").encode("latin-1") + body)
        answer = b""
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                break
            answer += chunk
        upstream.close()
        head, _, payload = answer.partition(b"\r\n\r\n")
        head = b"\r\n".join(l for l in head.split(b"\r\n") if not l.lower().startswith(b"connection:"))
        client.sendall(head + b"\r\nConnection: close\r\n\r\n" + payload)

    def _relay(self, client, upstream, first):
        if first:
            upstream.sendall(first)

        def pump(source, sink, record):
            try:
                while True:
                    data = source.recv(65536)
                    if not data:
                        break
                    if record:
                        self._record(data)
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=pump, args=(upstream, client, False), daemon=True)
        back.start()
        pump(client, upstream, True)
        back.join(timeout=30)
        upstream.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
