"""What can go wrong with a wallet file (SPEC §2), in words a user understands.

Every error of the wallet store is a `StoreError` (a `ValueError`), so the CLI can print its
message as `{"error": "..."}`. The subclasses let callers and tests tell the cases apart.
No message ever holds a password, mnemonic or private key: at most a path or a signature ID.
"""

from __future__ import annotations

import re

from typing import Optional

WRONG_PASSWORD = "Wrong password"  # tatum-kms's own wording, kept for compatibility
DAMAGED = "wallet file is damaged or was modified outside kms_ref"


class StoreError(ValueError):
    """A wallet file problem; the message is meant for the user."""


class WrongPassword(StoreError):
    def __init__(self) -> None:
        super().__init__(WRONG_PASSWORD)


class DamagedFile(StoreError):
    """The file does not authenticate or does not parse. `detail` says which check failed."""

    def __init__(self, detail: Optional[str] = None) -> None:
        self.detail = detail
        super().__init__(DAMAGED + (f" ({detail})" if detail else ""))


class UnsupportedFormat(StoreError):
    """Not a wallet file kms_ref knows, or a kms_ref file of a version this code does not read."""


class NoSuchWallet(StoreError):
    """No entry with this signature ID. The ID is repeated in the message only when it looks like
    one — hex groups joined by hyphens, at most 48 characters, as UUIDs and Tatum's IDs are: a
    mnemonic, WIF or hex key pasted in the wrong place must not be echoed to a terminal or log."""

    def __init__(self, sig_id: str) -> None:
        self.sig_id = sig_id
        shown = sig_id if isinstance(sig_id, str) and len(sig_id) <= 48 \
            and re.fullmatch(r"[0-9a-fA-F]+(-[0-9a-fA-F]+)*", sig_id) \
            else "<not shown: it does not look like a signature ID>"
        super().__init__(f"no wallet with signature ID {shown}")
