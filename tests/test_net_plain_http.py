"""Plain http:// only to loopback and link-local hosts (SPEC §9, issue 10 §3), unless
KMS_REF_ALLOW_HTTP=1; and the daemon checks its URLs, proxy and CA settings at start — one line,
exit ≠ 0, before it asks for the password — and logs the route it will use, without credentials."""

import pytest

from kms_ref.net.http_client import HttpError, exchange
from kms_ref.net.plain_http import PlainHttpRefused, check_url, is_local_host
from kms_ref.store import WalletStore
from tests.cli_helpers import PASSWORD, kms
from tests.net_servers import CA_FILE, Origin, Proxy

CHEAP_SCRYPT = (2 ** 10, 8, 1)
BTC_TESTNET_WIF = "cNn7gCmi4D8nPkaZgvyVDJ7LksaSdhr5Wc6gmoAMkTJHb1D54TdA"   # vectors/tatum_keys.json


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv("KMS_REF_ALLOW_HTTP", raising=False)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.45.6.7", "::1", "localhost", "LocalHost", "localhost.",
                                  "169.254.169.254", "169.254.170.2", "fe80::1", "fe80::1%eth0",
                                  "fd00:ec2::254", "::ffff:127.0.0.1"])
def test_local_hosts(host):
    assert is_local_host(host)


@pytest.mark.parametrize("host", ["api.tatum.io", "10.0.0.1", "192.168.1.10", "128.0.0.1", "8.8.8.8", "fd00::1",
                                  "localhost.example.com", "mylocalhost", "169.255.0.1", "::ffff:10.0.0.1", ""])
def test_remote_hosts(host):
    assert not is_local_host(host)


def test_the_rule_and_its_override(monkeypatch):
    check_url("https://api.tatum.io/v3")
    check_url("http://127.0.0.1:8080/v3")
    check_url("http://169.254.169.254/latest/api/token")
    check_url("http://[fd00:ec2::254]/latest/meta-data/")
    with pytest.raises(PlainHttpRefused) as refused:
        check_url("http://user:hunter2@api.tatum.io/v3/kms?apiKey=k-123", "TATUM_API_URL")
    message = str(refused.value)
    assert message.startswith("TATUM_API_URL: refusing plain http:// to api.tatum.io")
    assert "KMS_REF_ALLOW_HTTP=1" in message and "hunter2" not in message and "k-123" not in message
    for value in ("1", "true", "YES"):
        monkeypatch.setenv("KMS_REF_ALLOW_HTTP", value)
        check_url("http://api.tatum.io/v3")
    for value in ("0", "", "no"):
        monkeypatch.setenv("KMS_REF_ALLOW_HTTP", value)
        with pytest.raises(PlainHttpRefused):
            check_url("http://api.tatum.io/v3")


def test_exchange_refuses_before_connecting():
    with pytest.raises(HttpError) as error:
        exchange("POST", "http://api.tatum.io/v3/bitcoin/broadcast", b"{}", {"x-api-key": "k"}, timeout=5)
    assert error.value.sent is False and "KMS_REF_ALLOW_HTTP" in str(error.value)


# -- the daemon, checked at start ----------------------------------------------------------------

def wallet(tmp_path):
    path = tmp_path / "wallet.dat"
    with WalletStore(str(path)).transaction(PASSWORD, scrypt_params=CHEAP_SCRYPT) as store:
        store.add({"privateKey": BTC_TESTNET_WIF, "chain": "BTC", "testnet": True})
    return str(path)


@pytest.mark.parametrize("env, args, named", [
    ({"TATUM_API_URL": "http://api.tatum.example"}, ["--testnet"], "TATUM_API_URL"),
    ({}, ["--externalUrl=http://approvals.example.com/kms"], "--externalUrl"),
    ({"TATUM_API_URL": "http://10.1.2.3:8080"}, ["--testnet"], "TATUM_API_URL"),
])
def test_the_daemon_refuses_plain_http_to_a_remote_host_at_start(tmp_path, env, args, named):
    """No password is given: a daemon that asked for one first would fail differently."""
    r = kms(tmp_path, "daemon", "--path", wallet(tmp_path), "--runOnce", *args, password=None,
            env=dict({"TATUM_API_KEY": "key-1"}, **env))
    error = r.error()
    assert error.startswith(named + ": refusing plain http://") and "KMS_REF_ALLOW_HTTP" in error


def test_the_override_lets_the_daemon_start(tmp_path):
    r = kms(tmp_path, "daemon", "--path", wallet(tmp_path), "--testnet", "--runOnce", "--chain=BTC",
            env={"TATUM_API_KEY": "key-1", "TATUM_API_URL": "http://10.255.255.1:9",
                 "KMS_REF_ALLOW_HTTP": "1", "KMS_REF_HTTP_TIMEOUT": "1"})
    assert r.code == 3 and "gave no usable answer" in r.err, r.out + r.err
    assert "Outbound HTTP: Tatum API directly." in r.out


@pytest.mark.parametrize("env, named", [
    ({"ALL_PROXY": "socks5://u:secret@127.0.0.1:1080"}, "ALL_PROXY"),
    ({"https_proxy": "http://127.0.0.1:notaport"}, "HTTPS_PROXY"),
    ({"KMS_REF_CA_FILE": "/nonexistent/ca.pem"}, "KMS_REF_CA_FILE"),
])
def test_unusable_proxy_or_ca_settings_stop_the_daemon_at_start(tmp_path, env, named):
    r = kms(tmp_path, "daemon", "--path", wallet(tmp_path), "--testnet", "--runOnce", password=None,
            env=dict({"TATUM_API_KEY": "key-1", "TATUM_API_URL": "https://api.tatum.example"}, **env))
    error = r.error()
    assert error.startswith(named) and "secret" not in r.err


def test_the_daemon_reaches_an_https_api_through_a_proxy_that_never_sees_the_key(tmp_path):
    api_key = "tatum-key-0b4d2f"
    with Origin(tls=True, body=b"[]") as api, Proxy(auth=("kms", "s3cret")) as proxy:
        env = {"TATUM_API_KEY": api_key, "TATUM_API_URL": "https://origin.test:%d" % api.port,
               "HTTPS_PROXY": "http://kms:s3cret@127.0.0.1:%d" % proxy.port, "KMS_REF_CA_FILE": CA_FILE}
        r = kms(tmp_path, "daemon", "--path", wallet(tmp_path), "--testnet", "--runOnce", "--chain=BTC", env=env)
        assert r.code == 0, r.out + r.err
        assert ("Outbound HTTP: Tatum API through proxy http://127.0.0.1:%d (CONNECT tunnel), with "
                "Proxy-Authorization." % proxy.port) in r.out
        assert "s3cret" not in r.out + r.err and api_key not in r.out + r.err
        assert [line.split(" ")[:2] for line, _ in proxy.heads] == [["CONNECT", "origin.test:%d" % api.port]]
        assert api_key.encode() not in bytes(proxy.received)
        (_, method, path, headers, _), = api.requests
        assert (method, path, headers["x-api-key"]) == ("POST", "/v3/kms/pending/BTC", api_key)
