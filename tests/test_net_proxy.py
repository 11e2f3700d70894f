"""Proxies in kms_ref.net (SPEC §9): HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY, a CONNECT tunnel
for https://, Proxy-Authorization from the proxy URL, the deadline kept, and never the API key
in front of the proxy for an https:// target. Against a real proxy and origin on 127.0.0.1."""

import base64
import socket
import threading

import pytest

from kms_ref.net import http_client
from kms_ref.net.http_client import HttpError, exchange
from kms_ref.net.proxies import Proxy, ProxyError, bypassed, describe_route, parse_proxy, proxy_for
from tests.net_servers import CA_FILE, Origin, Proxy as ProxyServer

VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
API_KEY = "api-key-5e3c1b7f"        # must never reach the proxy for an https:// target


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.delenv("KMS_REF_ALLOW_HTTP", raising=False)
    monkeypatch.setenv("KMS_REF_CA_FILE", CA_FILE)
    http_client.close_idle_connections()
    yield
    http_client.close_idle_connections()


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


# -- the variables, read as curl, axios and urllib read them ------------------------------------

def test_which_variable_applies():
    env = {"https": "http://secure-proxy:3128", "http": "http://plain-proxy:8080", "all": "http://any:1"}
    assert proxy_for("https", "api.tatum.io", 443, env).host == "secure-proxy"
    assert proxy_for("http", "api.tatum.io", 80, env).host == "plain-proxy"
    assert proxy_for("https", "api.tatum.io", 443, {"all": "http://any:1080"}) == \
        Proxy("any", 1080, None, "http://any:1080")
    assert proxy_for("https", "api.tatum.io", 443, {"http": "http://plain-proxy:8080"}) is None
    assert proxy_for("https", "api.tatum.io", 443, {}) is None


def test_lower_case_wins_and_either_case_is_read(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://upper:1")
    assert proxy_for("https", "api.tatum.io", 443).host == "upper"
    monkeypatch.setenv("https_proxy", "http://lower:2")
    assert proxy_for("https", "api.tatum.io", 443).host == "lower"
    monkeypatch.setenv("no_proxy", ".tatum.io")
    assert proxy_for("https", "api.tatum.io", 443) is None


@pytest.mark.parametrize("no_proxy, host, port, direct", [
    ("tatum.io", "api.tatum.io", 443, True),            # a name matches its subdomains
    (".tatum.io", "api.tatum.io", 443, True),
    ("tatum.io", "tatum.io", 443, True),
    ("tatum.io", "nottatum.io", 443, False),
    ("TATUM.IO", "api.tatum.io", 443, True),             # any case
    ("*", "anything.example", 443, True),
    ("example.com, tatum.io", "api.tatum.io", 443, True),  # spaces around entries
    ("api.tatum.io:8443", "api.tatum.io", 443, False),   # a port limits the entry to that port
    ("api.tatum.io:8443", "api.tatum.io", 8443, True),
    ("10.1.2.3", "10.1.2.3", 443, True),                 # IP addresses
    ("10.1.2.3", "10.1.2.4", 443, False),
    ("10.0.0.0/8", "10.200.3.4", 443, True),             # CIDR ranges
    ("10.0.0.0/8", "11.0.0.1", 443, False),
    ("2001:db8::/32", "2001:db8::7", 443, True),
    ("", "api.tatum.io", 443, False),
])
def test_no_proxy(no_proxy, host, port, direct):
    assert bypassed(host, port, no_proxy) is direct
    assert (proxy_for("https", host, port, {"https": "http://p:3128", "no": no_proxy}) is None) is direct


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "169.254.169.254", "169.254.170.2", "fe80::1"])
def test_loopback_and_link_local_hosts_never_go_through_a_proxy(host):
    assert proxy_for("http", host, 80, {"http": "http://p:3128", "all": "http://p:3128"}) is None


def test_proxy_urls():
    proxy = parse_proxy("http://us%40er:p%3Ass@proxy.corp:3128/", "HTTPS_PROXY")
    assert (proxy.host, proxy.port, proxy.shown) == ("proxy.corp", 3128, "http://proxy.corp:3128")
    assert proxy.authorization == basic("us@er", "p:ss")
    assert "p:ss" not in repr(proxy) and "us@er" not in repr(proxy)
    assert parse_proxy("proxy.corp:8080", "HTTP_PROXY") == Proxy("proxy.corp", 8080, None, "http://proxy.corp:8080")
    assert parse_proxy("http://proxy.corp", "HTTP_PROXY").port == 80
    for value, variable in (("socks5://user:secret@proxy:1080", "ALL_PROXY"), ("https://proxy:443", "HTTPS_PROXY"),
                            ("http://proxy:99999", "HTTP_PROXY"), ("http://:3128", "HTTP_PROXY")):
        with pytest.raises(ProxyError) as refused:
            parse_proxy(value, variable)
        assert variable in str(refused.value) and "secret" not in str(refused.value)


def test_describe_route_names_the_proxy_without_credentials(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://user:hunter2@proxy.corp:3128")
    text = describe_route("https://api.tatum.io")
    assert text == "through proxy http://proxy.corp:3128 (CONNECT tunnel), with Proxy-Authorization"
    assert describe_route("http://127.0.0.1:8080") == "directly"


# -- a real proxy --------------------------------------------------------------------------------

def test_https_goes_through_a_connect_tunnel_and_the_api_key_never_reaches_the_proxy(monkeypatch):
    with Origin(tls=True) as origin, ProxyServer(auth=("kms", "pa:ss@1")) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", "http://kms:pa%%3Ass%%401@127.0.0.1:%d" % proxy.port)
        url = "https://origin.test:%d/v3/kms/pending/BTC" % origin.port   # resolvable by the proxy only
        for n in range(2):
            answer = exchange("POST", url, b'{"signatureIds": []}', {"x-api-key": API_KEY}, timeout=10)
            assert answer.status == 200
        assert [line[:-1] for line, _ in proxy.heads] == ["CONNECT origin.test:%d HTTP/1." % origin.port]  # reused
        assert proxy.heads[0][1]["proxy-authorization"] == basic("kms", "pa:ss@1")
        assert API_KEY.encode() not in bytes(proxy.received)
        assert b"signatureIds" not in bytes(proxy.received) and b"/v3/kms" not in bytes(proxy.received)
        (_, method, path, headers, body), _ = origin.requests
        assert (method, path, body) == ("POST", "/v3/kms/pending/BTC", b'{"signatureIds": []}')
        assert headers["x-api-key"] == API_KEY and headers["Host"] == "origin.test:%d" % origin.port
        assert "Proxy-Authorization" not in headers


def test_a_proxy_that_wants_credentials_refuses_without_them(monkeypatch):
    with Origin(tls=True) as origin, ProxyServer(auth=("kms", "secret")) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with pytest.raises(HttpError) as error:
            exchange("GET", "https://origin.test:%d/" % origin.port, None, {"x-api-key": API_KEY}, timeout=10)
        assert error.value.sent is False and "407" in str(error.value)
        assert not origin.requests and API_KEY.encode() not in bytes(proxy.received)


def test_plain_http_through_the_proxy_when_allowed(monkeypatch):
    """http:// to a remote host is refused (nothing reaches the proxy); with KMS_REF_ALLOW_HTTP=1
    it goes to the proxy as an absolute URL, with the proxy's credentials for the proxy only."""
    with Origin() as origin, ProxyServer(auth=("kms", "secret")) as proxy:
        monkeypatch.setenv("http_proxy", "http://kms:secret@127.0.0.1:%d" % proxy.port)
        url = "http://origin.test:%d/v3/x?y=1" % origin.port
        with pytest.raises(HttpError) as error:
            exchange("GET", url, None, {}, timeout=10)
        assert error.value.sent is False and "KMS_REF_ALLOW_HTTP" in str(error.value)
        assert not proxy.heads
        monkeypatch.setenv("KMS_REF_ALLOW_HTTP", "1")
        assert exchange("GET", url, None, {}, timeout=10).status == 200
        assert proxy.heads[0][0] == "GET %s HTTP/1.1" % url
        assert proxy.heads[0][1]["proxy-authorization"] == basic("kms", "secret")
        (_, method, path, headers, _), = origin.requests
        assert (method, path) == ("GET", "/v3/x?y=1") and "Proxy-Authorization" not in headers


def test_no_proxy_sends_the_request_around_the_proxy(monkeypatch):
    with Origin(tls=True) as origin, ProxyServer() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "example.com,localhost")
        assert exchange("GET", "https://localhost:%d/" % origin.port, None, {}, timeout=10).status == 200
        monkeypatch.setenv("NO_PROXY", "*")
        with pytest.raises(HttpError):      # origin.test is known to the proxy only
            exchange("GET", "https://origin.test:%d/" % origin.port, None, {}, timeout=10)
        assert not proxy.heads


def test_an_unusable_proxy_variable_is_an_error_not_a_direct_connection(monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "socks5://user:secret@127.0.0.1:1080")
    with pytest.raises(HttpError) as error:
        exchange("GET", "https://api.tatum.io/", None, {}, timeout=5)
    assert error.value.sent is False and "ALL_PROXY" in str(error.value) and "secret" not in str(error.value)


def test_the_deadline_holds_while_a_proxy_drips_its_connect_answer(monkeypatch):
    """A proxy that answers CONNECT one byte at a time, forever: each read succeeds, so only the
    per-request deadline ends it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    stop = threading.Event()

    def drip():
        client, _ = listener.accept()
        client.recv(65536)
        for byte in iter(lambda: b"H", None):
            if stop.wait(0.1):
                break
            try:
                client.sendall(byte)
            except OSError:
                break
        client.close()

    threading.Thread(target=drip, daemon=True).start()
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:%d" % listener.getsockname()[1])
    outcome = []

    def request():
        try:
            exchange("GET", "https://api.example:443/", None, {"x-api-key": API_KEY}, timeout=1)
        except HttpError as e:
            outcome.append(e)

    worker = threading.Thread(target=request)
    worker.start()
    worker.join(timeout=60)
    stop.set()
    listener.close()
    assert not worker.is_alive(), "the request outlived its deadline by a minute"
    assert outcome and outcome[0].sent is False and "timed out after 1 s" in str(outcome[0])
