"""`--aws`: the wallet password from AWS Secrets Manager (API Reference, "GetSecretValue").

The request (AWS JSON protocol 1.1, signed with Signature Version 4, `aws_sigv4.py`):

    POST / HTTP/1.1
    Host: secretsmanager.{region}.amazonaws.com
    Content-Type: application/x-amz-json-1.1
    X-Amz-Target: secretsmanager.GetSecretValue
    X-Amz-Date: 20240101T000000Z
    X-Amz-Security-Token: ...            (temporary credentials only)
    Authorization: AWS4-HMAC-SHA256 Credential=AKID.../20240101/{region}/secretsmanager/aws4_request, ...

    {"SecretId": "<TATUM_KMS_AWS_SECRET_NAME>"}

and the answer `{"ARN", "Name", "VersionId", "SecretString", ...}`; an error is a 4xx with
`{"__type": "ResourceNotFoundException", "message": "..."}`.

Settings are tatum-kms's: `TATUM_KMS_AWS_SECRET_NAME` (the secret's name or ARN) and
`TATUM_KMS_AWS_SECRET_KEY` — the password is that field of the JSON object in `SecretString`
(as tatum-kms: `JSON.parse(SecretString)[key]`), or the whole `SecretString` when it is unset.
Keys and region: `aws_credentials.py`. Endpoint: `https://secretsmanager.{region}.amazonaws.com`,
or the SDKs' standard overrides `AWS_ENDPOINT_URL_SECRETS_MANAGER`, then `AWS_ENDPOINT_URL`
(unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`) — for VPC endpoints, and for tests.

Where tatum-kms differs: since 8.0.0 it builds its client as `new SecretsManagerClient([config])`,
so its TATUM_KMS_AWS_REGION/ACCESS_KEY settings are most likely ignored; kms_ref honours them.
"""

from __future__ import annotations

import datetime
import json
import os
import urllib.parse
from typing import List, Tuple

from kms_ref.passwords import aws_credentials, aws_sigv4
from kms_ref.passwords.errors import SourceError
from kms_ref.passwords.vault_http import ask_json, checked_url, timeout_from

SOURCE = aws_credentials.SOURCE
SERVICE = "secretsmanager"                     # the signing name in the credential scope
TARGET = "secretsmanager.GetSecretValue"
CONTENT_TYPE = "application/x-amz-json-1.1"


def endpoint_from(region: str, environ=os.environ) -> str:
    if (environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") or "").lower() != "true":
        for variable in ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"):
            if environ.get(variable):
                return checked_url(SOURCE, environ[variable], variable).rstrip("/")
    return "https://secretsmanager.%s.amazonaws.com" % region


def secret_name(environ=os.environ) -> str:
    name = environ.get("TATUM_KMS_AWS_SECRET_NAME")
    if not name:
        raise SourceError(SOURCE, "TATUM_KMS_AWS_SECRET_NAME is not set")
    return name


def get_secret_value(endpoint: str, region: str, name: str, credentials: aws_sigv4.Credentials,
                     timeout: float, now: datetime.datetime) -> dict:
    """One signed GetSecretValue call; its answer."""
    body = json.dumps({"SecretId": name}).encode("utf-8")
    url = endpoint.rstrip("/") + "/"
    parts = urllib.parse.urlsplit(url)
    headers = [("Host", parts.netloc), ("Content-Type", CONTENT_TYPE), ("X-Amz-Target", TARGET)]
    signed = aws_sigv4.sign("POST", parts.path, "", headers, body, credentials, region, SERVICE, now)
    return ask_json(SOURCE, "POST", url, body, dict(signed.headers), timeout,
                    secrets=list(credentials) + [signed.signature], error_text=_error_text)


def _error_text(data: dict) -> str:
    """`{"__type": "com.amazonaws...#ResourceNotFoundException", "message": "..."}` → its code
    and message (the JSON 1.1 protocol spells the message key either way)."""
    code = str(data.get("__type") or "").rsplit("#", 1)[-1]
    message = data.get("message") or data.get("Message") or ""
    return ("%s: %s" % (code, message) if code and message else code or str(message)) or ""


def password_from(answer: dict, field: str) -> str:
    """`SecretString`, or its JSON object's `field` when TATUM_KMS_AWS_SECRET_KEY names one."""
    secret = answer.get("SecretString")
    if not isinstance(secret, str):
        raise SourceError(SOURCE, "the secret has no SecretString (a binary secret?)")
    if field:
        try:
            value = json.loads(secret)
        except ValueError:
            raise SourceError(SOURCE, "SecretString is not JSON, so it has no field %r "
                              "(TATUM_KMS_AWS_SECRET_KEY)" % field) from None
        if not isinstance(value, dict) or field not in value:
            raise SourceError(SOURCE, "SecretString has no field %r (TATUM_KMS_AWS_SECRET_KEY)" % field)
        secret = value[field]
        if not isinstance(secret, str):
            raise SourceError(SOURCE, "field %r of SecretString is not a string" % field)
    if not secret:
        raise SourceError(SOURCE, "the secret's value is empty")
    return secret


def read_password(environ=os.environ) -> str:
    name = secret_name(environ)
    region, _ = aws_credentials.region_from(environ)
    endpoint = endpoint_from(region, environ)
    credentials = aws_credentials.credential_provider(environ).fetch()
    answer = get_secret_value(endpoint, region, name, credentials, timeout_from(environ),
                              datetime.datetime.now(datetime.timezone.utc))
    return password_from(answer, environ.get("TATUM_KMS_AWS_SECRET_KEY") or "")


def describe(environ=os.environ) -> List[Tuple[str, str]]:
    """checkconfig's rows: names, region, endpoint, which credentials — no key, no token."""
    rows = [("TATUM_KMS_AWS_SECRET_NAME", environ.get("TATUM_KMS_AWS_SECRET_NAME") or "N/A (required)"),
            ("TATUM_KMS_AWS_SECRET_KEY", environ.get("TATUM_KMS_AWS_SECRET_KEY")
             or "N/A (the whole SecretString)")]
    try:
        region, where = aws_credentials.region_from(environ)
        rows += [("AWS region", "%s (%s)" % (region, where)),
                 ("AWS endpoint", endpoint_from(region, environ))]
    except SourceError as e:
        rows.append(("AWS region", e.reason))
    return rows + aws_credentials.credential_rows(environ)
