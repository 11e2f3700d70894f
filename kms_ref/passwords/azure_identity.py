"""A Microsoft Entra ID access token for Azure Key Vault, as azure-identity's
DefaultAzureCredential finds one (its environment, workload identity and managed identity
credentials, in that order; kms_ref runs none of the developer-tool ones).

1. A service principal with a secret — `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
   `AZURE_CLIENT_SECRET` — by the OAuth 2.0 client credentials grant (RFC 6749 §4.4; Microsoft
   identity platform, "OAuth 2.0 client credentials flow"):
   `POST {AZURE_AUTHORITY_HOST or https://login.microsoftonline.com}/{tenant}/oauth2/v2.0/token`
   with the form `grant_type=client_credentials&client_id=…&client_secret=…&scope=https://vault.azure.net/.default`
   → `{"token_type": "Bearer", "expires_in", "access_token"}`.
2. Workload identity (AKS) — `AZURE_FEDERATED_TOKEN_FILE` with `AZURE_TENANT_ID` and
   `AZURE_CLIENT_ID`: the same grant with the file's token as a client assertion (RFC 7523)
   instead of a secret.
3. Managed identity ("How to use managed identities for Azure resources on an Azure VM to
   acquire an access token"; App Service's "identity endpoint"):
   - `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` (App Service, Functions, Container Apps):
     `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=https://vault.azure.net` with
     the header `X-IDENTITY-HEADER`;
   - else the instance metadata service (IMDS) of a VM:
     `GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`
     with `Metadata: true`. azure-identity's `AZURE_POD_IDENTITY_AUTHORITY_HOST` replaces
     `http://169.254.169.254` (AAD Pod Identity's node agent — and tests' stand-in).
   `AZURE_CLIENT_ID`, when set, picks a user-assigned identity (`client_id=`).
A secret and a tenant without the client ID (or the like) is an error, not a fall-through.
"""

from __future__ import annotations

import os
import urllib.parse
from typing import List, Tuple

from kms_ref.passwords.errors import SourceError
from kms_ref.passwords.vault_http import ask_json, checked_url

SOURCE = "Azure Key Vault"
SCOPE = "https://vault.azure.net/.default"          # the v2.0 endpoint's scope for Key Vault
RESOURCE = "https://vault.azure.net"                # the same, as managed identity names it
AUTHORITY_HOST = "https://login.microsoftonline.com"
IMDS_AUTHORITY = "http://169.254.169.254"
IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def authority_host(environ=os.environ) -> str:
    host = environ.get("AZURE_AUTHORITY_HOST") or AUTHORITY_HOST
    if "://" not in host:                            # azure-identity accepts a bare host name
        host = "https://" + host
    return checked_url(SOURCE, host, "AZURE_AUTHORITY_HOST").rstrip("/")


CLIENT_SECRET, WORKLOAD_IDENTITY, APP_SERVICE, IMDS = (
    "service principal", "workload identity", "managed identity", "managed identity (IMDS)")


def credential_kind(environ=os.environ) -> Tuple[str, str]:
    """(which credential of the list above, where it comes from), without any request."""
    tenant, client = environ.get("AZURE_TENANT_ID"), environ.get("AZURE_CLIENT_ID")
    for variable, kind in (("AZURE_CLIENT_SECRET", CLIENT_SECRET),
                           ("AZURE_FEDERATED_TOKEN_FILE", WORKLOAD_IDENTITY)):
        if environ.get(variable):
            if not (tenant and client):
                raise SourceError(SOURCE, "%s is set but AZURE_TENANT_ID or AZURE_CLIENT_ID is not"
                                  % variable)
            return kind, "%s, tenant %s, client %s (%s)" % (kind, tenant, client, variable)
    user_assigned = ", client %s" % client if client else ""
    if environ.get("IDENTITY_ENDPOINT") and environ.get("IDENTITY_HEADER"):
        return APP_SERVICE, "managed identity at IDENTITY_ENDPOINT %s%s" % (
            environ["IDENTITY_ENDPOINT"].split("?")[0], user_assigned)
    host = environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or IMDS_AUTHORITY
    return IMDS, "managed identity from the instance metadata service at %s%s" % (host, user_assigned)


def access_token(timeout: float, environ=os.environ) -> Tuple[str, List[str]]:
    """(a bearer token for Key Vault, the secrets to keep out of messages)."""
    kind, _ = credential_kind(environ)
    if kind in (CLIENT_SECRET, WORKLOAD_IDENTITY):
        return _client_credentials(kind, timeout, environ)
    if kind == APP_SERVICE:
        header = environ["IDENTITY_HEADER"]
        query = {"api-version": "2019-08-01", "resource": RESOURCE}
        base = checked_url(SOURCE, environ["IDENTITY_ENDPOINT"], "IDENTITY_ENDPOINT")
        headers, secrets = {"X-IDENTITY-HEADER": header}, [header]
    else:
        query = {"api-version": "2018-02-01", "resource": RESOURCE}
        host = environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or IMDS_AUTHORITY
        base = checked_url(SOURCE, host, "AZURE_POD_IDENTITY_AUTHORITY_HOST").rstrip("/") + IMDS_TOKEN_PATH
        headers, secrets = {"Metadata": "true"}, []
    if environ.get("AZURE_CLIENT_ID"):                   # a user-assigned identity
        query["client_id"] = environ["AZURE_CLIENT_ID"]
    url = base + ("&" if "?" in base else "?") + urllib.parse.urlencode(query)
    data = ask_json(SOURCE, "GET", url, headers=headers, timeout=timeout, secrets=secrets,
                    error_text=_error_text)
    return _token_from(data, kind), secrets


def _client_credentials(kind: str, timeout: float, environ) -> Tuple[str, List[str]]:
    form = {"grant_type": "client_credentials", "client_id": environ["AZURE_CLIENT_ID"], "scope": SCOPE}
    if kind == CLIENT_SECRET:
        form["client_secret"] = secret = environ["AZURE_CLIENT_SECRET"]
    else:
        try:
            with open(environ["AZURE_FEDERATED_TOKEN_FILE"], encoding="utf-8") as f:
                secret = f.read().strip()
        except OSError as e:
            raise SourceError(SOURCE, "AZURE_FEDERATED_TOKEN_FILE: %s"
                              % (e.strerror or type(e).__name__)) from None
        form.update(client_assertion_type=ASSERTION_TYPE, client_assertion=secret)
    url = "%s/%s/oauth2/v2.0/token" % (authority_host(environ),
                                      urllib.parse.quote(environ["AZURE_TENANT_ID"], safe=""))
    body = urllib.parse.urlencode(form).encode("ascii")
    data = ask_json(SOURCE, "POST", url, body,
                    {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                    timeout, secrets=[secret], error_text=_error_text)
    return _token_from(data, kind), [secret]


def _error_text(data: dict) -> str:
    """Entra ID: {"error": "invalid_client", "error_description": "AADSTS7000215: ..."}."""
    error = data.get("error")
    if isinstance(error, str):
        return ": ".join(str(x) for x in (error, data.get("error_description")) if x)
    return ""


def _token_from(data: dict, kind: str) -> str:
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise SourceError(SOURCE, "the %s token answer has no access_token" % kind)
    return token
