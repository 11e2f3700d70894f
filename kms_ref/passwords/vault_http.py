"""One JSON request to a vault or a metadata service, through `kms_ref.net` (SPEC §9).

Every password source (AWS Secrets Manager and the AWS credential services, Azure's token
services and Key Vault, VGS) asks through `ask_json`, so all of them keep the rules of the one
outbound client — deadline, answer size cap, TLS verified, proxies, plain http:// only to
loopback and link-local addresses — and fail alike: a `SourceError` naming the source and
saying whether the service was unreachable, refused (the status and the service's own error
code and message), or answered something that is not the JSON object expected.

`secrets` lists what this request carries (keys, tokens, passwords): each is cut out of any
text that came back, since a server may echo a request's headers in its error message.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from typing import Iterable, Optional

from kms_ref.net.http_client import HttpError, clean_text, exchange
from kms_ref.net.timeouts import DEFAULT_TIMEOUT, TIMEOUT_ENV
from kms_ref.passwords.errors import SourceError


def timeout_from(environ=os.environ) -> float:
    try:
        timeout = float(environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT)
    except ValueError:
        timeout = -1.0
    if not 0 < timeout < float("inf"):
        raise ValueError("%s must be a number of seconds above 0" % TIMEOUT_ENV)
    return timeout


def checked_url(source: str, url: str, setting: str) -> str:
    """A URL taken from a setting: http(s), a host, and no user:password@ in it (that would
    show in checkconfig and in messages; each source has its own credential settings)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(source, "%s is not an http(s) URL" % setting)
    if parts.username is not None or parts.password is not None:
        raise SourceError(source, "%s must not carry a user name or password" % setting)
    return url


def reason_from(text: str, secrets: Iterable[Optional[str]]) -> str:
    """A server's or the network's text, one line, short, with every secret cut out."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return clean_text(text)


def ask_json(source: str, method: str, url: str, body: Optional[bytes] = None,
             headers: Optional[dict] = None, timeout: float = DEFAULT_TIMEOUT,
             secrets: Iterable[Optional[str]] = (), error_text=None) -> dict:
    """The JSON object of a 2xx answer. `error_text(data)` turns a non-2xx JSON answer into the
    service's own words (its error code and message); without it, the raw text is shown."""
    secrets = list(secrets)
    host, answer = _ask(source, method, url, body, headers, timeout, secrets)
    try:
        data = json.loads(answer.body.decode("utf-8")) if answer.body else None
    except (UnicodeDecodeError, ValueError):
        data = None
    if not 200 <= answer.status < 300:
        said = error_text(data) if error_text and isinstance(data, dict) else None
        said = said or answer.body.decode("utf-8", "replace") or "no message"
        raise SourceError(source, "%s answered HTTP %d: %s" % (host, answer.status,
                                                                reason_from(said, secrets)))
    if not isinstance(data, dict):
        raise SourceError(source, "%s answered HTTP %d with something that is not a JSON object"
                          % (host, answer.status))
    return data


def ask_text(source: str, method: str, url: str, headers: Optional[dict] = None,
             timeout: float = DEFAULT_TIMEOUT, secrets: Iterable[Optional[str]] = ()) -> str:
    """The text of a 2xx answer (the EC2 metadata service answers plain text)."""
    secrets = list(secrets)
    host, answer = _ask(source, method, url, None, headers, timeout, secrets)
    text = answer.body.decode("utf-8", "replace")
    if not 200 <= answer.status < 300:
        raise SourceError(source, "%s answered HTTP %d: %s" % (
            host, answer.status, reason_from(text or "no message", secrets)))
    return text


def _ask(source, method, url, body, headers, timeout, secrets) -> tuple:
    """(host, answer) of one exchange; a network failure is the source's error, secrets hidden."""
    try:
        return urllib.parse.urlsplit(url).netloc, exchange(method, url, body, headers, timeout)
    except HttpError as e:
        raise SourceError(source, "unreachable: %s" % reason_from(str(e), secrets)) from None
