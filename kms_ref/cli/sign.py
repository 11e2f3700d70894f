"""`kms-ref sign [--testnet] [--path W] [--explain] FILE|-`: sign one pending transaction offline.

Reads a pending transaction (SPEC §4 JSON, as the API's `/v3/kms/pending` lists them) from FILE
or standard input, takes its keys from the wallet store and prints `{"txData": "<hex>"}`. Nothing
is sent anywhere: this is the air-gapped half of the daemon, and a way to compare kms_ref with
tatum-kms on the same input.

The password is asked before the transaction is read, so both can come through one pipe:
`(echo "$PASSWORD"; cat pending.json) | kms-ref sign -`.

`--explain` writes every signing step to stderr — per input the signature-hash preimage and
digest, the RFC 6979 / BCH Schnorr nonce steps (the nonce itself withheld: it would reveal the
key), r and s, the DER or Schnorr encoding and the final script or witness. The private keys are
never printed.
"""

from __future__ import annotations

import sys

from kms_ref.encoding.bounded_json import parse_json
from kms_ref.hd.masking import shown
from kms_ref.passwords.prompt import ask_password
from kms_ref.daemon.signer import sign_with_wallet
from kms_ref.store.wallet_store import WalletStore

MAX_PENDING = 16 * 2 ** 20   # characters: a pending transaction is a few KiB; this is generous


def _read_pending(source: str) -> dict:
    """The pending transaction in FILE or on stdin: at most MAX_PENDING characters (/dev/zero or
    `yes '{'` would otherwise grow without limit), JSON of bounded nesting."""
    try:
        if source == "-":
            text = sys.stdin.read(MAX_PENDING + 1)
        else:
            with open(source, encoding="utf-8") as f:
                text = f.read(MAX_PENDING + 1)
    except OSError as e:
        raise ValueError("cannot read %s: %s" % (shown(source), e.strerror)) from None
    except UnicodeDecodeError:
        raise ValueError("the pending transaction is not UTF-8 text") from None
    if len(text) > MAX_PENDING:
        raise ValueError("the pending transaction is larger than %d MiB; a pending transaction is "
                         "a small JSON object" % (MAX_PENDING >> 20))
    pending = parse_json(text, "the pending transaction")
    if isinstance(pending, list) and len(pending) == 1:  # a /v3/kms/pending answer of one
        pending = pending[0]
    if not isinstance(pending, dict):
        raise ValueError("the pending transaction must be one JSON object")
    return pending


def _explain_line(line: str) -> None:
    sys.stderr.write(line + "\n")


def sign_command(ctx, args) -> dict:
    if len(args) > 1:
        raise ValueError("sign takes one pending transaction: a file name or - for stdin")
    store = WalletStore(ctx.path)
    password = ask_password()
    pending = _read_pending(args[0] if args else "-")
    explain = _explain_line if ctx.flags.get("explain") else None
    if explain:
        explain("== kms-ref sign: pending transaction %s (%s %s)"
                % (shown(pending.get("id"), quote=False), shown(pending.get("chain"), quote=False),
                   "testnet" if ctx.testnet else "mainnet"))
    with store.open(password) as wallet:
        tx_hex = sign_with_wallet(wallet, pending, ctx.testnet, explain)
    if explain:
        explain("== signed transaction (%d bytes), every input verified before release" % (len(tx_hex) // 2))
    return {"txData": tx_hex}
