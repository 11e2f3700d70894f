"""`--azure`: the wallet password from Azure Key Vault, through the real command line.

Stand-ins: Microsoft Entra ID's token endpoint (client credentials: secret or federated
assertion), the managed identity endpoints (App Service's IDENTITY_ENDPOINT, the VM's IMDS),
and Key Vault, which answers 401 without a bearer token it issued. Tests reach them with
AZURE_AUTHORITY_HOST, IDENTITY_ENDPOINT, AZURE_POD_IDENTITY_AUTHORITY_HOST (azure-identity's
override of the IMDS address) and TATUM_KMS_AZURE_VAULTURL as a full http://127.0.0.1 URL.
"""

import json
import secrets
from urllib.parse import parse_qsl

import pytest

from tests.cli_helpers import PASSWORD
from tests.password_helpers import assert_source_failure, file_bytes, make_wallet, run_kms
from tests.standins import Reply, StandIn, closed_port_url

SOURCE = "Azure Key Vault"
TENANT, CLIENT, CLIENT_SECRET = "11111111-2222-3333-4444-555555555555", "app-client-id", "sp~secret~value~42"
SCOPE, RESOURCE = "https://vault.azure.net/.default", "https://vault.azure.net"
IDENTITY_HEADER = "identity-header-secret-9"
FEDERATED = "eyJhbGciOi.federated.assertion"


class Identity:
    """Entra ID's token endpoint, App Service's identity endpoint and the VM's IMDS in one
    stand-in; each issues a fresh token and remembers it for Key Vault."""

    def __init__(self):
        self.issued = []

    def _token(self, **extra):
        token = "tok-" + secrets.token_urlsafe(24)
        self.issued.append(token)
        return Reply(200, dict({"token_type": "Bearer", "access_token": token}, **extra))

    def __call__(self, call):
        if call.method == "POST" and call.path == "/%s/oauth2/v2.0/token" % TENANT:
            form = dict(parse_qsl(call.body.decode()))
            if call.headers.get("content-type") != "application/x-www-form-urlencoded" or \
                    form.get("grant_type") != "client_credentials" or form.get("scope") != SCOPE or \
                    form.get("client_id") != CLIENT:
                return Reply(400, {"error": "invalid_request", "error_description": "AADSTS900144: bad request"})
            secret_ok = form.get("client_secret") == CLIENT_SECRET
            assertion_ok = form.get("client_assertion") == FEDERATED and form.get(
                "client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            if not (secret_ok or assertion_ok):
                return Reply(401, {"error": "invalid_client",
                                   "error_description": "AADSTS7000215: Invalid client secret provided."})
            return self._token(expires_in=3599)
        if call.method == "GET" and call.path == "/msi/token":              # App Service
            if call.headers.get("x-identity-header") != IDENTITY_HEADER or \
                    call.query.get("api-version") != "2019-08-01" or call.query.get("resource") != RESOURCE:
                return Reply(400, {"error": "invalid_request"})
            return self._token(expires_on="1900000000", resource=RESOURCE)
        if call.method == "GET" and call.path == "/metadata/identity/oauth2/token":   # IMDS
            if call.headers.get("metadata") != "true" or call.query.get("api-version") != "2018-02-01" \
                    or call.query.get("resource") != RESOURCE:
                return Reply(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
            return self._token(expires_on="1900000000", resource=RESOURCE)
        return Reply(404, {"error": "not_found"})


class KeyVault:
    """GET /secrets/{name}[/{version}]?api-version=7.4 with a bearer token from `identity`."""

    def __init__(self, identity, secrets_by_name):
        self.identity, self.secrets = identity, secrets_by_name

    def __call__(self, call):
        auth = call.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.identity.issued:
            return Reply(401, {"error": {"code": "Unauthorized",
                                         "message": "AKV10000: Request is missing a Bearer or PoP token."}})
        if call.query.get("api-version") != "7.4":
            return Reply(400, {"error": {"code": "BadParameter", "message": "api-version"}})
        parts = call.path.split("/")[2:]
        name, version = parts[0], (parts[1] if len(parts) > 1 else "latest")
        if (name, version) not in self.secrets:
            return Reply(404, {"error": {"code": "SecretNotFound",
                                         "message": "A secret with (name/id) %s was not found in this key vault." % name}})
        return Reply(200, {"value": self.secrets[(name, version)],
                           "id": "https://myvault.vault.azure.net/secrets/%s/%s" % (name, version),
                           "attributes": {"enabled": True}})


@pytest.fixture
def wallet(tmp_path):
    return make_wallet(tmp_path)


@pytest.fixture
def azure():
    identity = Identity()
    vault = KeyVault(identity, {("kms-password", "latest"): PASSWORD, ("kms-password", "v2"): PASSWORD,
                                ("empty", "latest"): ""})
    with StandIn(identity) as login, StandIn(vault) as kv:
        yield login, kv, identity, vault


def service_principal(login, kv, **extra):
    env = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT, "AZURE_CLIENT_SECRET": CLIENT_SECRET,
           "AZURE_AUTHORITY_HOST": login.url, "TATUM_KMS_AZURE_VAULTURL": kv.url,
           "TATUM_KMS_AZURE_SECRETNAME": "kms-password"}
    env.update(extra)
    return env


def getaddress(tmp_path, wallet, env, *flags):
    return run_kms(tmp_path, "--path", wallet.path, "getaddress", wallet.sig_id, "0", *flags, env=env)


def test_service_principal_latest_version(tmp_path, wallet, azure):
    login, kv, identity, _ = azure
    r = getaddress(tmp_path, wallet, service_principal(login, kv), "--azure")
    assert r.code == 0, r.err
    assert r.json() == {"address": wallet.address}
    assert [c.path for c in kv.calls] == ["/secrets/kms-password"]
    assert kv.calls[0].headers["authorization"] == "Bearer " + identity.issued[0]
    for secret in (CLIENT_SECRET, identity.issued[0]):
        assert secret not in r.out + r.err


def test_service_principal_named_version_flag_first(tmp_path, wallet, azure):
    login, kv, _, _ = azure
    env = service_principal(login, kv, TATUM_KMS_AZURE_SECRETVERSION="v2")
    r = run_kms(tmp_path, "--azure", "--path", wallet.path, "export", env=env)
    assert r.code == 0, r.err
    assert [c.path for c in kv.calls] == ["/secrets/kms-password/v2"]


def test_workload_identity(tmp_path, wallet, azure):
    login, kv, _, _ = azure
    (tmp_path / "federated").write_text(FEDERATED + "\n")
    env = service_principal(login, kv, AZURE_CLIENT_SECRET=None,
                            AZURE_FEDERATED_TOKEN_FILE=str(tmp_path / "federated"))
    r = getaddress(tmp_path, wallet, env, "--azure")
    assert r.code == 0, r.err


def test_managed_identity_app_service_user_assigned(tmp_path, wallet, azure):
    login, kv, _, _ = azure
    env = {"IDENTITY_ENDPOINT": login.url + "/msi/token", "IDENTITY_HEADER": IDENTITY_HEADER,
           "AZURE_CLIENT_ID": "user-assigned-id", "TATUM_KMS_AZURE_VAULTURL": kv.url,
           "TATUM_KMS_AZURE_SECRETNAME": "kms-password"}
    r = getaddress(tmp_path, wallet, env, "--azure")
    assert r.code == 0, r.err
    [call] = login.calls
    assert call.query["client_id"] == "user-assigned-id"
    assert IDENTITY_HEADER not in r.out + r.err


def test_managed_identity_imds(tmp_path, wallet, azure):
    login, kv, _, _ = azure
    env = {"AZURE_POD_IDENTITY_AUTHORITY_HOST": login.url, "TATUM_KMS_AZURE_VAULTURL": kv.url,
           "TATUM_KMS_AZURE_SECRETNAME": "kms-password"}
    r = getaddress(tmp_path, wallet, env, "--azure")
    assert r.code == 0, r.err
    [call] = login.calls
    assert call.path == "/metadata/identity/oauth2/token" and "client_id" not in call.query


def test_service_principal_comes_before_managed_identity(tmp_path, wallet, azure):
    login, kv, _, _ = azure
    with StandIn(Identity()) as other:
        env = service_principal(login, kv, IDENTITY_ENDPOINT=other.url + "/msi/token",
                                IDENTITY_HEADER=IDENTITY_HEADER, AZURE_POD_IDENTITY_AUTHORITY_HOST=other.url)
        r = getaddress(tmp_path, wallet, env, "--azure")
        assert r.code == 0, r.err
        assert other.calls == [] and len(login.calls) == 1


FAILURES = [
    ("401-wrong-client-secret", {"AZURE_CLIENT_SECRET": "wrong~secret"}, None,
     "HTTP 401: invalid_client: AADSTS7000215"),
    ("404-no-such-secret", {"TATUM_KMS_AZURE_SECRETNAME": "missing"}, None, "HTTP 404: SecretNotFound"),
    ("403-forbidden", {}, Reply(403, {"error": {"code": "Forbidden", "message": "The user does not have "
                                                "secrets get permission on key vault"}}), "HTTP 403: Forbidden"),
    ("empty-value", {"TATUM_KMS_AZURE_SECRETNAME": "empty"}, None, "the secret's value is empty"),
    ("no-value-field", {}, Reply(200, {"data": [{"value": PASSWORD}]}), "the answer has no value"),
    ("bad-json", {}, Reply(200, "{not json", "application/json"), "not a JSON object"),
    ("no-vault-url", {"TATUM_KMS_AZURE_VAULTURL": None}, None, "TATUM_KMS_AZURE_VAULTURL is not set"),
    ("no-secret-name", {"TATUM_KMS_AZURE_SECRETNAME": None}, None, "TATUM_KMS_AZURE_SECRETNAME is not set"),
    ("secret-without-tenant", {"AZURE_TENANT_ID": None}, None,
     "AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID or AZURE_CLIENT_ID is not"),
    ("vault-unreachable", {"TATUM_KMS_AZURE_VAULTURL": closed_port_url()}, None, "unreachable"),
    ("login-unreachable", {"AZURE_AUTHORITY_HOST": closed_port_url()}, None, "unreachable"),
]


@pytest.mark.parametrize("case", FAILURES, ids=[f[0] for f in FAILURES])
def test_failures(tmp_path, wallet, azure, case):
    _, extra, vault_reply, words = case
    login, kv, identity, _ = azure
    if vault_reply:
        kv.fail_next.append(vault_reply)
    before = file_bytes(wallet.path)
    r = run_kms(tmp_path, "--path", wallet.path, "generatemanagedwallet", "BTC", "--testnet", "--azure",
                env=service_principal(login, kv, **extra))
    assert_source_failure(r, SOURCE, [CLIENT_SECRET, "wrong~secret"] + identity.issued, contains=words)
    assert r.out == "" and file_bytes(wallet.path) == before


def test_managed_identity_unreachable(tmp_path, wallet):
    env = {"TATUM_KMS_AZURE_VAULTURL": "myvault.vault.azure.net", "TATUM_KMS_AZURE_SECRETNAME": "x"}
    r = run_kms(tmp_path, "--path", wallet.path, "export", "--azure", env=env)   # IMDS: a closed port
    assert_source_failure(r, SOURCE, contains="unreachable")


def test_checkconfig_host_name_and_masked_secrets(tmp_path, wallet):
    env = {"TATUM_KMS_AZURE_VAULTURL": "myvault.vault.azure.net", "TATUM_KMS_AZURE_SECRETNAME": "kms-password",
           "AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT, "AZURE_CLIENT_SECRET": CLIENT_SECRET,
           "IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi/token", "IDENTITY_HEADER": IDENTITY_HEADER}
    r = run_kms(tmp_path, "--path", wallet.path, "checkconfig", "--azure", env=env)
    assert r.code == 0, r.err
    assert "Password source                  : Azure Key Vault (--azure)" in r.out
    assert "https://myvault.vault.azure.net/secrets/kms-password?api-version=7.4" in r.out
    assert "service principal, tenant %s, client %s" % (TENANT, CLIENT) in r.out
    assert CLIENT_SECRET not in r.out and IDENTITY_HEADER not in r.out


def test_daemon_run_once(tmp_path, wallet, azure):
    from tests.fake_tatum import FakeTatum

    login, kv, _, _ = azure
    with FakeTatum() as api:
        env = service_principal(login, kv, TATUM_API_KEY=api.api_key, TATUM_API_URL=api.url)
        r = run_kms(tmp_path, "daemon", "--path", wallet.path, "--runOnce", "--testnet", "--chain", "BTC",
                    "--azure", env=env)
        assert r.code == 0, r.err
        assert len(kv.calls) == 1 and [c.path for c in api.calls] == ["/v3/kms/pending/BTC"]
        assert json.dumps(PASSWORD) not in r.out + r.err
