"""What can go wrong with a wallet file (SPEC §2), in words a user understands.

Every error of the wallet store is a `StoreError` (a `ValueError`), so the CLI can print its
message as `{"error": "..."}`. The subclasses let callers and tests tell the cases apart.
No message ever holds a password, mnemonic or private key: at most a path or a signature ID.
"""

from __future__ import annotations

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
    """No entry with this signature ID."""

    def __init__(self, sig_id: str) -> None:
        self.sig_id = sig_id
        super().__init__(f"no wallet with signature ID {sig_id}")
