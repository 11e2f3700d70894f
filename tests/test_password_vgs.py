"""`--vgs`: the wallet password from a VGS alias, through the real command line.

The stand-in vault (reached with KMS_REF_VGS_URL) answers GET /aliases/{alias} as VGS's
Vault API does, only with the right HTTP Basic credentials.
"""

import base64
import json

import pytest

from kms_ref.store import WalletStore
from tests.cli_helpers import PASSWORD
from tests.password_helpers import CHEAP_SCRYPT, assert_source_failure, file_bytes, make_wallet, run_kms
from tests.standins import Reply, StandIn, closed_port_url
from tests.vectors import load

SOURCE = "VGS"
USER, SECRET = "US7vgsUser", "vgs-access-secret-77"
ALIAS = "tok_sandbox_5UpnbMvaihRuRwz5QXwBFw"


class Vault:
    def __init__(self, values):
        self.values = values

    def __call__(self, call):
        expected = "Basic " + base64.b64encode(("%s:%s" % (USER, SECRET)).encode()).decode()
        if call.headers.get("authorization") != expected:
            return Reply(401, {"errors": [{"status": 401, "title": "Unauthorized",
                                           "detail": "Invalid credentials"}]})
        alias = call.path[len("/aliases/"):]
        if call.method != "GET" or not call.path.startswith("/aliases/") or alias not in self.values:
            return Reply(404, {"errors": [{"status": 404, "title": "Not Found",
                                           "detail": "Alias not found"}]})
        return Reply(200, {"data": [{"value": self.values[alias], "classifiers": [],
                                     "aliases": [{"value": alias, "format": "UUID"}],
                                     "created_at": "2024-01-01T00:00:00Z"}]})


@pytest.fixture
def wallet(tmp_path):
    return make_wallet(tmp_path)


def settings(url, **extra):
    env = {"TATUM_KMS_VGS_ALIAS": ALIAS, "TATUM_KMS_VGS_USERNAME": USER,
           "TATUM_KMS_VGS_PASSWORD": SECRET, "KMS_REF_VGS_URL": url}
    env.update(extra)
    return env


@pytest.mark.parametrize("where", ["before", "after"])
def test_getaddress(tmp_path, wallet, where):
    with StandIn(Vault({ALIAS: PASSWORD})) as vgs:
        args = ["--path", wallet.path, "getaddress", wallet.sig_id, "0"]
        args = ["--vgs"] + args if where == "before" else args + ["--vgs"]
        r = run_kms(tmp_path, *args, env=settings(vgs.url))
        assert r.code == 0, r.err
        assert r.json() == {"address": wallet.address}
        assert [c.path for c in vgs.calls] == ["/aliases/" + ALIAS]
        assert SECRET not in r.out + r.err


def test_sign_offline_with_vgs(tmp_path):
    """`sign` asks for the password too: with --vgs it comes from the vault, and the pending
    transaction (Tatum's fixture, BTC testnet) from standard input; the bytes are Tatum's."""
    case = load("tatum_sign.json")["vectors"][8]
    path = str(tmp_path / "keys.dat")
    with WalletStore(path).transaction(PASSWORD, scrypt_params=CHEAP_SCRYPT) as store:
        ids = [store.add({"privateKey": wif, "chain": case["chain"], "testnet": True})
               for wif in case["privateKeys"]]
    pending = dict(case["pending"], hashes=ids)
    with StandIn(Vault({ALIAS: PASSWORD})) as vgs:
        r = run_kms(tmp_path, "--path", path, "sign", "-", "--testnet", "--vgs",
                    env=settings(vgs.url), stdin=json.dumps(pending))
        assert r.code == 0, r.err
        assert r.json() == {"txData": case["signed"]}
        assert len(vgs.calls) == 1


FAILURES = [
    ("401-wrong-credentials", {"TATUM_KMS_VGS_PASSWORD": "wrong-secret"}, None, "HTTP 401: Unauthorized"),
    ("404-no-such-alias", {"TATUM_KMS_VGS_ALIAS": "tok_missing"}, None, "HTTP 404: Not Found: Alias not found"),
    ("empty-value", {"TATUM_KMS_VGS_ALIAS": "tok_empty"}, None, "the alias's value is empty"),
    ("no-data", {}, Reply(200, {"data": []}), "no data[0]"),
    ("no-value", {}, Reply(200, {"data": [{"aliases": []}]}), "no data[0].value"),
    ("bad-json", {}, Reply(200, "]]", "application/json"), "not a JSON object"),
    ("missing-settings", {"TATUM_KMS_VGS_USERNAME": None, "TATUM_KMS_VGS_PASSWORD": None}, None,
     "TATUM_KMS_VGS_USERNAME and TATUM_KMS_VGS_PASSWORD not set"),
    ("credentials-in-url", {"KMS_REF_VGS_URL": "http://%s:%s@127.0.0.1:1" % (USER, SECRET)}, None,
     "KMS_REF_VGS_URL must not carry a user name or password"),
    ("unreachable", {"KMS_REF_VGS_URL": closed_port_url()}, None, "unreachable"),
]


@pytest.mark.parametrize("case", FAILURES, ids=[f[0] for f in FAILURES])
def test_failures(tmp_path, wallet, case):
    _, extra, reply, words = case
    with StandIn(Vault({ALIAS: PASSWORD, "tok_empty": ""})) as vgs:
        if reply:
            vgs.fail_next.append(reply)
        before = file_bytes(wallet.path)
        r = run_kms(tmp_path, "--path", wallet.path, "removewallet", wallet.sig_id, "--vgs",
                    env=settings(vgs.url, **extra))
        assert_source_failure(r, SOURCE, [SECRET, "wrong-secret", USER], contains=words)
        assert file_bytes(wallet.path) == before


def test_checkconfig_masks_the_credentials(tmp_path, wallet):
    r = run_kms(tmp_path, "--path", wallet.path, "checkconfig", "--vgs", env=settings("https://vault.example"))
    assert r.code == 0, r.err
    assert "Password source                  : VGS (--vgs)" in r.out
    assert "TATUM_KMS_VGS_ALIAS              : %s" % ALIAS in r.out
    assert USER not in r.out and SECRET not in r.out


def test_daemon_run_once(tmp_path, wallet):
    from tests.fake_tatum import FakeTatum

    with StandIn(Vault({ALIAS: PASSWORD})) as vgs, FakeTatum() as api:
        env = settings(vgs.url, TATUM_API_KEY=api.api_key, TATUM_API_URL=api.url)
        r = run_kms(tmp_path, "daemon", "--vgs", "--path", wallet.path, "--runOnce", "--testnet",
                    "--chain", "BTC", env=env)
        assert r.code == 0, r.err
        assert len(vgs.calls) == 1 and [c.path for c in api.calls] == ["/v3/kms/pending/BTC"]


def test_the_request_deadline_holds(tmp_path, wallet):
    """KMS_REF_HTTP_TIMEOUT bounds a vault request as it bounds the daemon's."""
    import time

    def slow(call):
        time.sleep(4)
        return Reply(200, {"data": [{"value": PASSWORD}]})

    with StandIn(slow) as vgs:
        r = run_kms(tmp_path, "--path", wallet.path, "export", "--vgs",
                    env=settings(vgs.url, KMS_REF_HTTP_TIMEOUT="1"))
        assert_source_failure(r, SOURCE, [SECRET], contains="timed out after 1 s")
