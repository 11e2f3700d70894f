"""`kms-ref sign [FILE|-]`: sign one pending transaction offline (SPEC §4).

Reads a pending transaction — what `GET /v3/kms/{id}` answers, or a `/v3/kms/pending` list of
one — from FILE or standard input, takes its keys from the wallet store and prints
`{"txData": "<hex>"}`. Nothing is sent anywhere: this is the air-gapped half of the daemon, and
a way to compare kms_ref with tatum-kms on the same input.

The password is asked before the transaction is read, so both can come through one pipe:
`(echo "$PASSWORD"; cat pending.json) | kms-ref sign -`.

`--explain` writes every input's signature, taken apart, to stderr (`kms_ref.tx.explain`): the
preimage field by field, its digest, e, r and s, the DER parts, the scriptSig's pushes and the
witness. `--showSecrets` adds the private key d, the nonce k and the RFC 6979 state, and
`--textbook` the plain double-and-add path to R with its step counts; both are for testnet only
(the step counts tell about k too) and imply --explain. Without them no secret is printed.
"""

from __future__ import annotations

import re
import sys

from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.daemon.signer import SigningError, sign_with_wallet
from kms_ref.encoding.bounded_json import parse_json
from kms_ref.hd.chains import get_chain
from kms_ref.hd.masking import shown
from kms_ref.store.wallet_store import WalletStore
from kms_ref.tx.bitcore_json import parse_bch_pending, parse_bitcore_json
from kms_ref.tx.explain import explain_signed
from kms_ref.tx.pending import to_private_key
from kms_ref.tx.transaction import parse_hex

NOT_PENDING = ("{%s} is the answer of POST /v3/{chain}/transaction, not a pending transaction: "
               "fetch the pending transaction with GET /v3/kms/%s (curl -s $TATUM_API_URL/v3/kms/%s "
               "-H \"x-api-key: $TATUM_API_KEY\" > pending.json) and sign that")

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
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError("cannot read %s: %s" % (shown(source), getattr(e, "strerror", None) or
                                                 "not UTF-8 text")) from None
    if len(text) > MAX_PENDING:
        raise ValueError("the pending transaction is larger than %d MiB; a pending transaction is "
                         "a small JSON object" % (MAX_PENDING >> 20))
    pending = parse_json(text, "the pending transaction")
    if isinstance(pending, list) and len(pending) == 1:  # a /v3/kms/pending answer of one
        pending = pending[0]
    if isinstance(pending, list):
        raise ValueError("that is a list of %d pending transactions: sign one at a time (GET "
                         "/v3/kms/{id} answers one)" % len(pending))
    if not isinstance(pending, dict):
        raise ValueError("the pending transaction must be one JSON object")
    if "serializedTransaction" not in pending:
        if isinstance(pending.get("signatureId"), str):
            sig_id = shown(pending["signatureId"], quote=False)
            raise ValueError(NOT_PENDING % ('"signatureId": "%s"' % sig_id, sig_id, sig_id))
        raise ValueError("not a pending transaction (no serializedTransaction): sign what GET "
                         "/v3/kms/{id} answers")
    return pending


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")


def _check_flags(ctx) -> tuple:
    show_secrets, textbook = bool(ctx.flags.get("showSecrets")), bool(ctx.flags.get("textbook"))
    if (show_secrets or textbook) and not ctx.testnet:
        raise ValueError("--showSecrets prints each signature's private key and nonce, and --textbook's "
                         "step counts tell about the nonce: testnet only (a testnet transaction takes "
                         "--testnet)")
    return bool(ctx.flags.get("explain")) or show_secrets or textbook, show_secrets, textbook


def sign_command(ctx, args) -> dict:
    explain, show_secrets, textbook = _check_flags(ctx)
    store = WalletStore(ctx.path)
    password = ctx.password()
    pending = _read_pending(args[0] if args else "-")
    keys, signer = [], _SignerLines()
    with store.open(password) as wallet:
        try:
            tx_hex = sign_with_wallet(wallet, pending, ctx.testnet, signer if explain else None, keys_used=keys)
        except SigningError as e:
            raise SigningError("%s (wallet file %s)" % (e, ctx.path)) from None
    if explain:
        _explain(pending, tx_hex, keys, ctx.testnet, show_secrets, textbook, signer.by_input)
    return {"txData": tx_hex}


class _SignerLines:
    """The signer's own explain lines (kms_ref.tx.sign), by input: a line that starts "input N"
    opens input N, and the crypto layer's lines that follow belong to it. tx.explain shows them
    only for an input kind it does not take apart itself."""

    def __init__(self):
        self.by_input, self._current = {}, None

    def __call__(self, line: str) -> None:
        match = re.match(r"input (\d+)\b", line)
        if match:
            self._current = int(match.group(1))
        if self._current is not None:
            self.by_input.setdefault(self._current, []).append(line)


def _explain(pending: dict, tx_hex: str, keys: list, testnet: bool, show_secrets: bool, textbook: bool,
             signer_lines: dict) -> None:
    chain = get_chain(pending.get("chain"), testnet)
    signed = parse_hex(tx_hex)
    if chain.symbol == "BCH":
        amounts, scripts = parse_bch_pending(pending["serializedTransaction"])[1], None
    else:
        prevouts = parse_bitcore_json(pending["serializedTransaction"]).prevouts
        amounts, scripts = [p.amount for p in prevouts], [p.script_pubkey for p in prevouts]
    secrets = None
    if show_secrets or textbook:
        secrets = {}
        for key in keys:
            private = to_private_key(key, chain.wif_prefix)
            for one in getattr(private, "keys", (private,)):   # a KeyChoice: BIP44 and BIP86 keys
                secrets[pubkey_from_seckey(one.seckey, one.compressed)] = one.seckey
    _say("== kms-ref sign --explain: pending transaction %s, %s, %d input(s), %d output(s)"
         % (shown(pending.get("id")), chain, len(signed.inputs), len(signed.outputs)))
    _say("   (numbers in the transaction are little-endian; hashes and keys are hex; n is the order of G)")
    explain_signed(signed, chain.symbol, amounts, scripts, _say, secrets, show_secrets, textbook, signer_lines)
    _say("")
    _say("== signed transaction, %d bytes, txid %s: every input verified before release"
         % (len(tx_hex) // 2, signed.txid()))
