"""The sandbox's refusals, and the request-field checks that raise them (SPEC §6).

Each refusal carries the HTTP status and the Tatum-style `errorCode` that `server.py` answers
with, in Tatum's error shape `{"statusCode", "errorCode", "message"}`:

    400 SandboxError   the request is wrong (a bad address, amount, unknown input, ...)
    403 Forbidden      a signature does not verify
    404 NotFound       no such chain path, pending transaction, UTXO or transaction
    405 NotAllowed     a known path with another method
    409 Conflict       a double spend, or a transaction broadcast twice
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

from kms_ref.sandbox.amounts import coins_to_sat

HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class SandboxError(ValueError):
    """A refusal, with the HTTP status and Tatum-style errorCode the server answers with."""
    status = 400
    error_code = "validation.failed"

    def __init__(self, message: str, error_code: Optional[str] = None):
        super().__init__(message)
        if error_code:
            self.error_code = error_code


class Forbidden(SandboxError):
    status = 403
    error_code = "tx.signature.invalid"


class NotFound(SandboxError):
    status = 404
    error_code = "not.found"


class NotAllowed(SandboxError):
    status = 405
    error_code = "method.not.allowed"


class Conflict(SandboxError):
    status = 409
    error_code = "tx.conflict"


def body_object(body) -> dict:
    if not isinstance(body, dict):
        raise SandboxError("the body must be a JSON object")
    return body


def text_field(obj: dict, key: str, where: str, required: bool = True) -> Optional[str]:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise SandboxError("%s: %r must be a non-empty string" % (where, key))
    return value


def list_field(obj: dict, key: str, where: str = "body") -> list:
    value = obj.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise SandboxError("%s: %r must be a non-empty list of objects" % (where, key))
    return value


def amount_field(value, what: str, allow_zero: bool = False) -> int:
    """Coins (string or number) as satoshis, refused with a 400 when not an exact amount."""
    try:
        return coins_to_sat(value, what, allow_zero)
    except ValueError as e:
        raise SandboxError(str(e)) from None


def outpoint_field(txid, index, where: str) -> Tuple[str, int]:
    """(txid in lowercase hex, output index) of a UTXO reference."""
    if not isinstance(txid, str) or len(txid) != 64 or not set(txid) <= HEX_DIGITS:
        raise SandboxError("%s: txHash must be 64 hex digits" % where)
    if isinstance(index, str) and re.fullmatch(r"[0-9]{1,10}", index):   # ASCII digits, not isdigit()
        index = int(index)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 2 ** 32:
        raise SandboxError("%s: index must be an output number" % where)
    return txid.lower(), index
