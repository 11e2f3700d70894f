"""Keep-alive in kms_ref.net (SPEC §9; issue 14 §3): connections are reused, and a stale one
never turns into a request sent twice or a broadcast reported as "not sent" when it may have
arrived. Against real servers on 127.0.0.1, one of which closes idle connections."""

import socket
import threading
import time

import pytest

from kms_ref.net import http_client
from kms_ref.net.http_client import HttpError, destination_of, exchange
from kms_ref.net.pool import Pool, still_idle
from tests.net_servers import CA_FILE, Origin


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                 "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    http_client.close_idle_connections()
    yield
    http_client.close_idle_connections()


def test_requests_to_one_server_share_one_connection():
    with Origin() as origin:
        for n in range(1, 6):
            answer = exchange("POST" if n % 2 else "GET", origin.url + "/r%d" % n, b"{}", {}, timeout=10)
            assert answer.status == 200 and b'"n": %d' % n in answer.body
        assert origin.connections == 1
        assert [r[2] for r in origin.requests] == ["/r%d" % n for n in range(1, 6)]


def test_tls_connections_are_reused_too(monkeypatch):
    monkeypatch.setenv("KMS_REF_CA_FILE", CA_FILE)
    with Origin(tls=True) as origin:
        for n in range(3):
            assert exchange("GET", origin.url + "/", None, {}, timeout=10).status == 200
        assert origin.connections == 1


def test_a_connection_the_server_closed_while_idle_is_not_used():
    """The server closes idle connections after 0.2 s; a POST after that goes out on a fresh
    connection (the idle one is readable: the server's FIN), and arrives exactly once."""
    with Origin(idle_close=0.2) as origin:
        assert exchange("GET", origin.url + "/first", None, {}, timeout=10).status == 200
        waited = 0
        while origin.closed == 0 and waited < 300:
            time.sleep(0.1)
            waited += 1
        assert origin.closed == 1
        answer = exchange("POST", origin.url + "/broadcast", b'{"txData": "00"}', {}, timeout=10)
        assert answer.status == 200
        assert origin.connections == 2
        assert [(r[0], r[1], r[2]) for r in origin.requests] == [(1, "GET", "/first"), (2, "POST", "/broadcast")]


def test_a_request_written_into_a_reused_connection_is_never_sent_again():
    """The server reads request 2 (on the reused connection) and closes without a byte of answer:
    that request may have arrived (it did), so it is reported sent=True and not retried."""
    with Origin(drop={2}) as origin:
        assert exchange("GET", origin.url + "/pending", None, {}, timeout=10).status == 200
        with pytest.raises(HttpError) as error:
            exchange("POST", origin.url + "/broadcast", b'{"txData": "00"}', {}, timeout=10)
        assert error.value.sent is True and error.value.status is None
        assert "no complete answer" in str(error.value)
        assert [r[2] for r in origin.requests] == ["/pending", "/broadcast"]
        assert exchange("GET", origin.url + "/after", None, {}, timeout=10).status == 200
        assert [r[2] for r in origin.requests] == ["/pending", "/broadcast", "/after"]
        assert origin.connections == 2


def test_a_request_that_could_not_be_written_is_sent_on_a_fresh_connection():
    """A reused connection whose writing side is gone (here: shut down on our side, while the
    server holds still, so the socket still looks idle) fails while writing: the request surely
    did not arrive, and goes out once on a new connection."""
    with Origin(hold=True) as origin:
        url = origin.url + "/once"
        assert exchange("GET", url, None, {}, timeout=10).status == 200
        destination = destination_of(url)[0]
        kept = http_client.POOL.take(destination)
        kept.sock.shutdown(socket.SHUT_WR)
        assert still_idle(kept.sock)
        http_client.POOL.give_back(destination, kept)
        assert exchange("POST", url, b"{}", {}, timeout=10).status == 200
        assert [(r[0], r[1]) for r in origin.requests] == [(1, "GET"), (2, "POST")]


def test_a_connection_idle_too_long_is_closed_not_reused():
    with Origin() as origin:
        pool = Pool(idle_limit=0.05)
        destination = destination_of(origin.url)[0]
        connection = destination.connection(5)
        connection.deadline = http_client.Deadline(5)
        connection.connect()
        connection.deadline.finish()
        pool.give_back(destination, connection)
        time.sleep(0.2)
        assert pool.take(destination) is None
        assert connection.sock is None                    # closed on the way


def test_answers_that_close_the_connection_are_not_kept():
    """An HTTP/1.0 server (Connection: close): every request on its own connection."""
    from tests.fake_tatum import FakeTatum

    with FakeTatum() as api:
        for _ in range(3):
            exchange("GET", api.url + "/v3/kms/x", None, {"x-api-key": api.api_key}, timeout=10)
    assert http_client.POOL.idle_count() == 0


def test_many_threads_share_the_pool_safely():
    with Origin() as origin:
        errors = []

        def client():
            try:
                for _ in range(10):
                    assert exchange("GET", origin.url + "/t", None, {}, timeout=20).status == 200
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors and len(origin.requests) == 80
        assert origin.connections < 80      # reused, though at most MAX_IDLE are kept idle


def test_one_watchdog_thread_expires_each_deadline_in_its_order():
    """Every request's deadline is kept by one thread (no thread per request): a short deadline
    added after a long one still expires first, a finished one never fires, and the thread is
    not multiplied by the number of requests."""
    before = threading.active_count()
    long_ones = [http_client.Deadline(60) for _ in range(50)]
    short = http_client.Deadline(0.2)
    finished = http_client.Deadline(0.1)
    finished.finish()
    assert short.expired.wait(10), "the short deadline did not expire"
    time.sleep(0.3)
    assert not finished.expired.is_set() and not any(d.expired.is_set() for d in long_ones)
    assert threading.active_count() <= max(before, 1) + 1
    for deadline in long_ones:
        deadline.finish()
