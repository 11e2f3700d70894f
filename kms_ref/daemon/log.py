"""The daemon's log: tatum-kms's line format, `<ISO 8601 UTC, ms, Z> - <text>`.

Info goes to stdout and errors to stderr, as tatum-kms prints them; a line holds IDs and public
transaction data, never a key, mnemonic or password. KMS_REF_DEBUG=1 adds debug lines.
"""

from __future__ import annotations

import sys

from kms_ref.daemon.journal_events import iso_now


class Log:
    """tatum-kms's log lines: `<Date#toISOString()> - <text>`, info → stdout, errors → stderr."""

    def __init__(self, debug: bool = False):
        self.debug_enabled = debug

    @staticmethod
    def _line(stream, text: str) -> None:
        stream.write("%s - %s\n" % (iso_now(), " ".join(str(text).splitlines())))
        stream.flush()

    def info(self, text: str) -> None:
        self._line(sys.stdout, text)

    def error(self, text: str) -> None:
        self._line(sys.stderr, text)

    def debug(self, text: str) -> None:
        if self.debug_enabled:
            self._line(sys.stdout, "debug: " + text)
