"""Keep-alive: idle HTTP/1.1 connections kept for the next request to the same place (SPEC §9).

tatum-kms talks to Tatum through agentkeepalive (`maxSockets: 4`), so a daemon cycle — one
pending request, then a broadcast per transaction — runs over one connection instead of a TCP
and TLS handshake per request. kms_ref does the same; `kms_ref.net.http_client` takes a
connection from here and gives it back when its answer was read to the end and neither side
asked to close.

The trap is the stale connection: the server closes an idle connection while the client is
about to send on it. A request written into a connection the server has just closed may or may
not have been read — and for a broadcast, "may have been read" means in doubt. So a connection
is reused only when it is surely alive, and a request is never sent twice:
- **Idle at most IDLE_LIMIT (1 s).** The daemon's requests of a cycle follow each other within
  milliseconds; a connection idle for longer is not worth the risk. Every common server keeps an
  idle connection open for longer (gunicorn 2 s, Node.js and Apache 5 s, AWS ALB 60 s, nginx
  75 s), so a server's own idle timeout does not strike while kms_ref may still reuse.
- **Checked just before reuse.** An idle connection has nothing to read. If its socket is
  readable — the server's FIN (it closed), a reset, or stray bytes — it is closed and not used.
  This catches every server that closed earlier than it announced.
- **Retried only when surely not sent.** If writing the request into a reused connection fails,
  the server cannot have acted on it (a request is complete only with its last byte), and it is
  sent again on a fresh connection. Once written, it is never sent again: a reused connection
  that then closes without an answer is reported as "may have arrived" (HttpError.sent = True),
  exactly like a fresh one. For a broadcast the journal then keeps it in doubt rather than risk
  a second broadcast.
At most MAX_IDLE (4, tatum-kms's maxSockets) idle connections are kept per destination.
"""

from __future__ import annotations

import select
import threading
import time

IDLE_LIMIT = 1.0      # seconds a connection may sit idle and still be reused (see above)
MAX_IDLE = 4          # idle connections kept per destination (agentkeepalive maxSockets: 4)


def still_idle(sock) -> bool:
    """Is this idle socket open with nothing to read? (Readable = FIN, reset or stray bytes.)"""
    if sock is None or sock.fileno() < 0:
        return False
    if getattr(sock, "pending", None) and sock.pending():      # TLS bytes already decrypted
        return False
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN | select.POLLPRI)
            return not poller.poll(0)                             # POLLHUP/POLLERR count too
        readable, _, errored = select.select([sock], [], [sock], 0)
        return not readable and not errored
    except (OSError, ValueError):
        return False


class Pool:
    """Idle connections by destination (scheme, host, port, proxy, TLS settings)."""

    def __init__(self, idle_limit: float = IDLE_LIMIT, max_idle: int = MAX_IDLE):
        self.idle_limit = idle_limit
        self.max_idle = max_idle
        self._idle = {}                    # destination → [(connection, idle since)], newest last
        self._lock = threading.Lock()

    def take(self, destination):
        """An idle connection to `destination` that is surely alive, or None. Connections idle
        too long or found closed are closed on the way."""
        found, stale = None, []
        with self._lock:
            now = time.monotonic()
            idle = self._idle.get(destination, [])
            fresh = [(c, since) for c, since in idle if now - since <= self.idle_limit]
            stale = [c for c, since in idle if now - since > self.idle_limit]
            while fresh and found is None:
                connection, _ = fresh.pop()                    # the most recently used first
                if still_idle(connection.sock):
                    found = connection
                else:
                    stale.append(connection)
            self._idle[destination] = fresh
        for connection in stale:
            connection.close()
        return found

    def give_back(self, destination, connection) -> None:
        """Keep `connection` (its answer read to the end, no `Connection: close`) for reuse."""
        with self._lock:
            idle = self._idle.setdefault(destination, [])
            if len(idle) < self.max_idle:
                idle.append((connection, time.monotonic()))
                return
        connection.close()

    def idle_count(self) -> int:
        """How many connections are kept idle, all destinations together."""
        with self._lock:
            return sum(len(idle) for idle in self._idle.values())

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection, _ in connections:
                connection.close()
