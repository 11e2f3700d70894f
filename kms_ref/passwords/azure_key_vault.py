"""`--azure`: the wallet password from Azure Key Vault (REST API 7.4, "Secrets - Get Secret").

    GET https://{vault}.vault.azure.net/secrets/{name}/{version}?api-version=7.4
    Authorization: Bearer <token for https://vault.azure.net/.default>   (azure_identity.py)

answers `{"value": "...", "id": "...", "attributes": {...}}`: the password is `value`. Without
a version, the latest one (`/secrets/{name}`). An error is `{"error": {"code", "message"}}`.

Settings are tatum-kms's: `TATUM_KMS_AZURE_VAULTURL` (the vault's host name,
`myvault.vault.azure.net`; a full URL is accepted too), `TATUM_KMS_AZURE_SECRETNAME`,
`TATUM_KMS_AZURE_SECRETVERSION` (optional).

Where tatum-kms is wrong: it sends no Authorization header (Key Vault answers 401), uses
api-version 7.1, and reads `data[0].value`, a field Key Vault does not return.
"""

from __future__ import annotations

import os
import urllib.parse
from typing import List, Tuple

from kms_ref.passwords import azure_identity
from kms_ref.passwords.errors import SourceError
from kms_ref.passwords.vault_http import ask_json, checked_url, timeout_from

SOURCE = azure_identity.SOURCE
API_VERSION = "7.4"


def vault_url(environ=os.environ) -> str:
    """https://{TATUM_KMS_AZURE_VAULTURL}, or the URL itself when it names its scheme."""
    vault = environ.get("TATUM_KMS_AZURE_VAULTURL")
    if not vault:
        raise SourceError(SOURCE, "TATUM_KMS_AZURE_VAULTURL is not set")
    if "://" not in vault:
        vault = "https://" + vault
    return checked_url(SOURCE, vault, "TATUM_KMS_AZURE_VAULTURL").rstrip("/")


def secret_url(environ=os.environ) -> str:
    name = environ.get("TATUM_KMS_AZURE_SECRETNAME")
    if not name:
        raise SourceError(SOURCE, "TATUM_KMS_AZURE_SECRETNAME is not set")
    path = "/secrets/" + urllib.parse.quote(name, safe="")
    version = environ.get("TATUM_KMS_AZURE_SECRETVERSION")
    if version:
        path += "/" + urllib.parse.quote(version, safe="")
    return "%s%s?api-version=%s" % (vault_url(environ), path, API_VERSION)


def _error_text(data: dict) -> str:
    error = data.get("error")
    if isinstance(error, dict):
        return ": ".join(str(error[k]) for k in ("code", "message") if error.get(k))
    return ""


def read_password(environ=os.environ) -> str:
    url = secret_url(environ)
    timeout = timeout_from(environ)
    token, secrets = azure_identity.access_token(timeout, environ)
    answer = ask_json(SOURCE, "GET", url,
                      headers={"Authorization": "Bearer " + token, "Accept": "application/json"},
                      timeout=timeout, secrets=secrets + [token], error_text=_error_text)
    value = answer.get("value")
    if not isinstance(value, str):
        raise SourceError(SOURCE, "the answer has no value")
    if not value:
        raise SourceError(SOURCE, "the secret's value is empty")
    return value


def describe(environ=os.environ) -> List[Tuple[str, str]]:
    rows = []
    for label, step in (("Key Vault secret", secret_url),
                        ("Azure credential", lambda env: azure_identity.credential_kind(env)[1])):
        try:
            rows.append((label, step(environ)))
        except SourceError as e:
            rows.append((label, e.reason))
    return rows
