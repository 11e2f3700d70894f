"""TLS in kms_ref.net (SPEC §9): certificates are verified against the system store, to which
SSL_CERT_FILE, SSL_CERT_DIR and KMS_REF_CA_FILE add a private CA; nothing turns verification off.
Against a local HTTPS server whose certificate comes from the test CA in tests/tls/."""

import pathlib
import ssl

import pytest

from kms_ref.net import http_client
from kms_ref.net.http_client import HttpError, exchange
from kms_ref.net.tls import TlsSettingError, tls_context
from tests.net_servers import CA_DIR, CA_FILE, Origin, Proxy

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "kms_ref"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "KMS_REF_CA_FILE", "HTTPS_PROXY", "https_proxy",
                 "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    http_client.close_idle_connections()
    yield
    http_client.close_idle_connections()


def test_an_unknown_ca_is_refused():
    with Origin(tls=True) as origin:
        with pytest.raises(HttpError) as error:
            exchange("GET", origin.url + "/", None, {"x-api-key": "k"}, timeout=10)
    assert error.value.sent is False and "CERTIFICATE_VERIFY_FAILED" in str(error.value)
    assert not origin.requests


@pytest.mark.parametrize("variable, value", [("KMS_REF_CA_FILE", CA_FILE), ("SSL_CERT_FILE", CA_FILE),
                                             ("SSL_CERT_DIR", CA_DIR)])
def test_a_private_ca_is_trusted_when_named(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with Origin(tls=True) as origin:
        for host in ("127.0.0.1", "localhost"):
            answer = exchange("GET", "https://%s:%d/ok" % (host, origin.port), None, {}, timeout=10)
            assert answer.status == 200 and b'"path": "/ok"' in answer.body


def test_a_private_ca_adds_to_the_system_store(monkeypatch):
    """OpenSSL would use SSL_CERT_FILE instead of the system's CAs; kms_ref keeps them."""
    def names(context):
        return {(repr(c["subject"]), c["serialNumber"]) for c in context.get_ca_certs()}

    system = names(tls_context())
    monkeypatch.setenv("SSL_CERT_FILE", CA_FILE)
    with_private = names(tls_context())
    private = names(ssl.create_default_context(cafile=CA_FILE))
    assert with_private >= system | private and private - system


def test_the_name_must_match_the_certificate(monkeypatch):
    """wrong.test leads (through the proxy) to the same server, whose certificate does not name it."""
    monkeypatch.setenv("KMS_REF_CA_FILE", CA_FILE)
    with Origin(tls=True) as origin, Proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        assert exchange("GET", "https://origin.test:%d/" % origin.port, None, {}, timeout=10).status == 200
        with pytest.raises(HttpError) as error:
            exchange("GET", "https://wrong.test:%d/" % origin.port, None, {"x-api-key": "k"}, timeout=10)
    assert error.value.sent is False and "CERTIFICATE_VERIFY_FAILED" in str(error.value)
    assert "wrong.test" in str(error.value) and len(origin.requests) == 1


@pytest.mark.parametrize("variable", ["KMS_REF_CA_FILE", "SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_a_ca_setting_that_cannot_be_loaded_is_an_error(monkeypatch, tmp_path, variable):
    monkeypatch.setenv(variable, str(tmp_path / "missing.pem"))
    with pytest.raises(TlsSettingError, match=variable):
        tls_context()
    with pytest.raises(HttpError) as error:
        exchange("GET", "https://127.0.0.1:9/", None, {}, timeout=5)
    assert error.value.sent is False and variable in str(error.value)
    if variable != "SSL_CERT_DIR":
        garbage = tmp_path / "garbage.pem"
        garbage.write_text("not a certificate\n")
        monkeypatch.setenv(variable, str(garbage))
        with pytest.raises(TlsSettingError, match=variable):
            tls_context()


def test_the_context_verifies_and_there_is_no_way_to_turn_it_off():
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        switches = ["CERT_NONE", "check_hostname = False", "check_hostname=False", "_create_unverified_context",
                    "PYTHONHTTPSVERIFY"]
        if "bench" not in path.parts:   # the benchmarks pass btclib's sign_(..., verify=False): no TLS there
            switches.append("verify=False")
        for switch in switches:
            assert switch not in text, "%s in %s" % (switch, path)
