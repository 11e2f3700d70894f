"""`--vgs`: the wallet password from a VGS vault alias (VGS Vault HTTP API, "Reveal an alias").

As tatum-kms: `GET https://api.live.verygoodvault.com/aliases/{TATUM_KMS_VGS_ALIAS}` with HTTP
Basic authentication (RFC 7617) from `TATUM_KMS_VGS_USERNAME` and `TATUM_KMS_VGS_PASSWORD` (the
vault's access credentials); the answer is `{"data": [{"value": "...", "aliases": [...], ...}]}`
and the password is `data[0].value`. `KMS_REF_VGS_URL` replaces the base URL (the sandbox
vault, `https://api.sandbox.verygoodvault.com`, or a test's stand-in).
"""

from __future__ import annotations

import base64
import os
import urllib.parse
from typing import List, Tuple

from kms_ref.passwords.errors import SourceError
from kms_ref.passwords.vault_http import ask_json, checked_url, timeout_from

SOURCE = "VGS"
DEFAULT_URL = "https://api.live.verygoodvault.com"
SETTINGS = ("TATUM_KMS_VGS_ALIAS", "TATUM_KMS_VGS_USERNAME", "TATUM_KMS_VGS_PASSWORD")


def base_url(environ=os.environ) -> str:
    url = environ.get("KMS_REF_VGS_URL")
    return checked_url(SOURCE, url, "KMS_REF_VGS_URL").rstrip("/") if url else DEFAULT_URL


def basic_authorization(username: str, password: str) -> str:
    """RFC 7617: "Basic " + base64(user-id ":" password)."""
    return "Basic " + base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")


def _error_text(data: dict) -> str:
    """VGS errors: {"errors": [{"status": 404, "title": "...", "detail": "..."}]}."""
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return ": ".join(str(first[k]) for k in ("title", "detail") if first.get(k))
    return ""


def read_password(environ=os.environ) -> str:
    missing = [name for name in SETTINGS if not environ.get(name)]
    if missing:
        raise SourceError(SOURCE, "%s not set" % " and ".join(missing))
    alias, username, password = (environ[name] for name in SETTINGS)
    authorization = basic_authorization(username, password)
    url = "%s/aliases/%s" % (base_url(environ), urllib.parse.quote(alias, safe=""))
    answer = ask_json(SOURCE, "GET", url, headers={"Authorization": authorization,
                                                   "Accept": "application/json"},
                      timeout=timeout_from(environ), secrets=[username, password, authorization],
                      error_text=_error_text)
    data = answer.get("data")
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        raise SourceError(SOURCE, "the answer has no data[0]")
    value = data[0].get("value")
    if not isinstance(value, str):
        raise SourceError(SOURCE, "the answer has no data[0].value")
    if not value:
        raise SourceError(SOURCE, "the alias's value is empty")
    return value


def describe(environ=os.environ) -> List[Tuple[str, str]]:
    def masked(name):
        return "********" if environ.get(name) else "N/A (required)"
    return [("TATUM_KMS_VGS_ALIAS", environ.get("TATUM_KMS_VGS_ALIAS") or "N/A (required)"),
            ("TATUM_KMS_VGS_USERNAME", masked("TATUM_KMS_VGS_USERNAME")),
            ("TATUM_KMS_VGS_PASSWORD", masked("TATUM_KMS_VGS_PASSWORD")),
            ("VGS URL", _url_row(environ))]


def _url_row(environ) -> str:
    try:
        return base_url(environ)
    except SourceError as e:
        return e.reason
