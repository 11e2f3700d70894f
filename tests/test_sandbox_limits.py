"""Issue 10 §5: the sandbox holds like a server — hostile amounts, bursts of connections, duplicate
Content-Length, HTTP/0.9, deep JSON, and a --state path that cannot work — over real sockets."""

import json
import os
import socket
import subprocess
import sys

import pytest

from kms_ref.hd.chains import get_chain
from kms_ref.sandbox.server import SandboxHandle, SandboxServer, start_sandbox
from kms_ref.sandbox.ledger import Ledger
from kms_ref.tx.transaction import parse_hex
from tests.cli_helpers import REPO
from tests.test_sandbox import API_KEY, Api, Key, funded, queue_payment, sandbox, sign  # noqa: F401 (sandbox: the fixture)

DEADLINE = 20     # seconds a socket waits: a hang fails the test instead of stalling it


def raw_exchange(handle, data: bytes) -> bytes:
    """Send raw bytes; everything the server answers until it closes the connection."""
    host, port = handle.server.server_address[:2]
    with socket.create_connection((host, port), timeout=DEADLINE) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


BAD_AMOUNTS = ['"1e999991"', '"1e999999"', "1e999991", "1e999999", '"1_0"', '"١"', '"+1"', '"0x10"',
               '"Infinity"', "1" * 5000, "0." + "0" * 5000 + "1", '"' + "1" * 5000 + '"']


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=range(len(BAD_AMOUNTS)))
def test_amounts_are_plain_bounded_decimals(sandbox, amount):
    """A 58-byte body with "1e999991" once held the interpreter for 25 s, and "1e999999" was a 500."""
    api = Api(sandbox.url)
    address = Key(get_chain("BTC", True), 0).address
    body = ('{"address": "%s", "amount": %s, "chain": "BTC"}' % (address, amount)).encode()
    status, answer = api.call("POST", "/v3/sandbox/faucet", raw=body)
    assert status == 400 and "Traceback" not in answer["message"], answer
    assert api.faucet(address, "0.001", "BTC")["txId"]      # and it goes on serving


def test_a_burst_of_connections_waits_in_the_backlog():
    """Connections made while nothing accepts them wait in listen(2)'s backlog (it was 5: a burst
    of 200 clients got resets); once the server serves, every one is answered."""
    server = SandboxServer(("127.0.0.1", 0), Ledger(), API_KEY, False)
    with open("/proc/sys/net/core/somaxconn") as f:
        burst = min(200, int(f.read()))
    sockets = []
    try:
        for _ in range(burst):   # each connect completes only if the backlog has room for it
            sockets.append(socket.create_connection(server.server_address[:2], timeout=DEADLINE))
        handle = SandboxHandle(server)
        try:
            for sock in sockets:
                sock.sendall(b"GET /v3/sandbox/errors HTTP/1.1\r\nHost: x\r\nx-api-key: %s\r\n"
                             b"Connection: close\r\n\r\n" % API_KEY.encode())
            for sock in sockets:
                assert sock.recv(12) == b"HTTP/1.1 200"
        finally:
            handle.stop()
    finally:
        for sock in sockets:
            sock.close()


def test_duplicate_content_length_is_400(sandbox):
    body = b'{"errors": []}'
    answer = raw_exchange(sandbox, b"POST /v3/tatum/kms/batch HTTP/1.1\r\nHost: x\r\nx-api-key: %s\r\n"
                                   b"Content-Length: %d\r\nContent-Length: 2\r\n\r\n%s"
                          % (API_KEY.encode(), len(body), body))
    assert answer.startswith(b"HTTP/1.1 400") and b"more than one Content-Length" in answer
    assert sandbox.ledger.error_batches == []


@pytest.mark.parametrize("length", [b"1_4", b"\xd9\xa1\xd9\xa4", b"+14", b"14 14"])
def test_content_length_is_ascii_digits(sandbox, length):
    answer = raw_exchange(sandbox, b"POST /v3/tatum/kms/batch HTTP/1.1\r\nHost: x\r\nx-api-key: %s\r\n"
                                   b"Content-Length: %s\r\n\r\n{\"errors\": []}" % (API_KEY.encode(), length))
    assert answer.startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize("request_line", [b"GET /v3/sandbox/errors\r\n", b"GET /v3/sandbox/errors HTTP/0.9\r\n"])
def test_http_09_is_closed_at_once(sandbox, request_line):
    """An HTTP/0.9 request has no headers to wait for: the connection is closed at once, not after
    the 60 s idle timeout (the socket's DEADLINE would fail this test first)."""
    assert raw_exchange(sandbox, request_line) == b""
    assert Api(sandbox.url).ok("GET", "/v3/sandbox/errors") == {"batches": []}


def test_deep_json_body_is_400(sandbox):
    api = Api(sandbox.url)
    for raw in (b"[" * 100000, b'{"errors": ' + b"[" * 50 + b"]" * 50 + b"}"):
        status, answer = api.call("POST", "/v3/tatum/kms/batch", raw=raw)
        assert status == 400 and answer["errorCode"] == "body.malformed", answer


def test_broadcast_with_a_negative_output_is_refused(sandbox):
    """The sandbox refuses what a node refuses; kms_ref's signer refuses to sign it in the first place."""
    api = Api(sandbox.url)
    chain = get_chain("BCH", True)
    sender, receiver = funded(api, chain)
    pending = queue_payment(api, chain, sender, receiver.address, "0.001", "0.00001", sender.address)
    signed = parse_hex(sign(pending, sender, True))
    signed.outputs[0].value = -1
    status, answer = api.broadcast(chain, signed.serialize().hex())
    assert status == 400 and "bad-txns-vout-negative" in answer["message"], answer


# -- the state file --------------------------------------------------------------------------------

def test_state_in_a_missing_directory_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="its directory does not exist"):
        start_sandbox(state=str(tmp_path / "missing" / "state.json"))
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        start_sandbox(state=str(fifo))
    environ = dict({k: v for k, v in os.environ.items() if not k.startswith("TATUM_")},
                   HOME=str(tmp_path), PYTHONPATH=REPO)
    r = subprocess.run([sys.executable, "-m", "kms_ref", "sandbox", "--port", "0", "--state",
                        str(tmp_path / "missing" / "state.json")], cwd=str(tmp_path), env=environ,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "its directory does not exist" in json.loads(r.stderr.splitlines()[-1])["error"]


def test_state_is_written_through_a_symlink(tmp_path):
    target = tmp_path / "real" / "state.json"
    target.parent.mkdir()
    link = tmp_path / "state.json"
    link.symlink_to(target)
    with start_sandbox(api_key=API_KEY, state=str(link)) as handle:
        Api(handle.url).faucet(Key(get_chain("BTC", True), 0).address, "0.001", "BTC")
    assert link.is_symlink() and os.path.realpath(link) == str(target)
    assert json.loads(target.read_text())["faucetCounter"] == 1
