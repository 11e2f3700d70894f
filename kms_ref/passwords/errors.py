"""The one error a password source raises: one line naming the source and the reason.

    SourceError("AWS Secrets Manager", "HTTP 400 ResourceNotFoundException: ...")
    → "password from AWS Secrets Manager: HTTP 400 ResourceNotFoundException: ..."

It is a ValueError, so the command line prints it as `{"error": "..."}` with exit status 1 and
the daemon stops before its first request. The reason never holds a credential or the secret:
texts that come from a server go through `vault_http.reason_from`, which removes every
credential the source holds.
"""

from __future__ import annotations


class SourceError(ValueError):
    def __init__(self, source: str, reason: str):
        super().__init__("password from %s: %s" % (source, reason))
        self.source = source
        self.reason = reason
