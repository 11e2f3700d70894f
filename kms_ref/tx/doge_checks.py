"""The checks bitcore-lib-doge 10.0.0 makes before it serializes a DOGE transaction (SPEC §4).

Tatum signs DOGE with `transaction.serialize()` — the *checked* form — so a transaction that
fails `Transaction.prototype.getSerializationError` is refused. kms_ref refuses the same ones,
with bitcore's messages (each ends with bitcore's pointer to its documentation). In bitcore's
order:

1. outputs above inputs                         (InvalidOutputAmountSum)
2. a `fee` field that differs from inputs - outputs           (FeeError.Different)
3. fee above floor(FEE_SECURITY_MARGIN × estimate)            (ChangeAddressMissing / FeeError.TooLarge)
4. fee below ceil(estimate / FEE_SECURITY_MARGIN)             (FeeError.TooSmall)
5. an output below DUST_AMOUNT that is not an OP_RETURN data output   (DustOutputs)

(bitcore's last check, "every input fully signed", is the signer's own "no key can sign input"
error.) The estimate is `_estimateFee`: FEE_PER_KB / 1000 satoshis per byte times `_estimateSize`
= MAXIMUM_EXTRA_SIZE + Σ inputs (32 + 4 + SCRIPT_MAX_SIZE of the input kind)
+ Σ outputs (9 + script length), plus CHANGE_OUTPUT_MAX_SIZE bytes when a change script is set
and the unspent value is above the fee with them.
"""

from __future__ import annotations

from typing import Optional, Sequence

from kms_ref.encoding.script import OP_PUSHDATA4, OP_RETURN, P2PK, P2PKH, classify, parse_script
from kms_ref.tx.transaction import Transaction

# bitcore-lib-doge 10.0.0 lib/transaction/transaction.js
DUST_AMOUNT = 100000000                     # 1 DOGE
FEE_SECURITY_MARGIN = 15
FEE_PER_KB = 100000000                      # 1 DOGE per kB
CHANGE_OUTPUT_MAX_SIZE = 20 + 4 + 34 + 4
MAXIMUM_EXTRA_SIZE = 4 + 9 + 9 + 4
# ... lib/transaction/input/publickeyhash.js and publickey.js
SCRIPT_MAX_SIZE = {
    P2PKH: 73 + 34,                         # sig (1 + 72) + pubkey (1 + 33)
    P2PK: 73,                               # sig (1 + 72)
}
# ... lib/script/script.js
OP_RETURN_STANDARD_SIZE = 80

DOCS = " - For more information please see: https://bitcore.io/api/lib/transaction#serialization-checks"


def is_data_out(script: bytes) -> bool:
    """bitcore Script#isDataOut: OP_RETURN alone, or OP_RETURN and one push of at most 80 bytes."""
    try:
        ops = parse_script(script)
    except ValueError:
        return False
    if not ops or ops[0][0] != OP_RETURN:
        return False
    if len(ops) == 1:
        return True
    opcode, data = ops[1]
    # bitcore keeps a `buf` only for pushes with opcode 1..OP_PUSHDATA4 (OP_0 has none).
    return len(ops) == 2 and 0 < opcode <= OP_PUSHDATA4 and len(data) <= OP_RETURN_STANDARD_SIZE


def estimate_size(tx: Transaction, prev_scripts: Sequence[bytes]) -> int:
    """bitcore-lib-doge Transaction#_estimateSize (bytes)."""
    size = MAXIMUM_EXTRA_SIZE
    for i, script in enumerate(prev_scripts):
        kind = classify(script)[0]
        if kind not in SCRIPT_MAX_SIZE:
            raise ValueError("input %d: DOGE inputs must spend P2PKH or P2PK outputs, not %s" % (i, kind))
        size += 32 + 4 + SCRIPT_MAX_SIZE[kind]
    for txout in tx.outputs:
        size += len(txout.script_pubkey) + 9
    return size


def estimate_fee(tx: Transaction, prev_scripts: Sequence[bytes], unspent: int, has_change: bool) -> int:
    """bitcore-lib-doge Transaction#_estimateFee (satoshis); the rate is an integer, so no rounding."""
    fee_per_byte = FEE_PER_KB // 1000
    fee = estimate_size(tx, prev_scripts) * fee_per_byte
    fee_with_change = fee + CHANGE_OUTPUT_MAX_SIZE * fee_per_byte
    if not has_change or unspent <= fee_with_change:
        return fee
    return fee_with_change


def get_serialization_error(tx: Transaction, amounts: Sequence[int], prev_scripts: Sequence[bytes],
                            change_script: Optional[bytes] = None, fee: Optional[int] = None) -> Optional[str]:
    """bitcore's first complaint about the transaction, or None. (Arguments as in the JSON: a
    `fee` of 0 or an empty change script count as absent, as bitcore's `if (transaction.fee)`.)"""
    total_in = sum(amounts)
    total_out = sum(txout.value for txout in tx.outputs)
    unspent = total_in - total_out
    if unspent < 0:
        return "Invalid outputs amount sum: outputs (%d) are above inputs (%d)" % (total_out, total_in)
    if fee and fee != unspent:
        return ("Unspent value is different from specified fee: Unspent value is %d but specified fee is %d"
                % (unspent, fee))
    estimate = estimate_fee(tx, prev_scripts, unspent, bool(change_script))
    maximum_fee = FEE_SECURITY_MARGIN * estimate
    if unspent > maximum_fee:
        if not change_script:
            return ("Change address is missing: fee is too large (expected less than %d but got %d)"
                    " and no change address was provided" % (maximum_fee, unspent))
        return "Fee is too large: expected less than %d but got %d" % (maximum_fee, unspent)
    minimum_fee = -(-estimate // FEE_SECURITY_MARGIN)   # ceil
    if unspent < minimum_fee:
        return "Fee is too small: expected more than %d but got %d" % (minimum_fee, unspent)
    for txout in tx.outputs:
        if txout.value < DUST_AMOUNT and not is_data_out(txout.script_pubkey):
            return "Dust amount detected in one output"
    return None


def check_doge(tx: Transaction, amounts: Sequence[int], prev_scripts: Sequence[bytes],
               change_script: Optional[bytes] = None, fee: Optional[int] = None) -> None:
    """Raise ValueError with bitcore's message (and its documentation pointer) if bitcore would refuse."""
    error = get_serialization_error(tx, amounts, prev_scripts, change_script, fee)
    if error is not None:
        raise ValueError(error + DOCS)

