"""The unsigned transactions Tatum hands the KMS (SPEC §4): bitcore-lib's JSON form, and BCH's hex form.

BTC, LTC, DOGE — `serializedTransaction` is what bitcore-lib's `Transaction#toObject()` writes:

    {"hash": txid, "version": 2, "nLockTime": 0,
     "inputs":  [{"prevTxId": hex, "outputIndex": n, "sequenceNumber": n, "script": hex,
                  "scriptString": "...", "output": {"satoshis": n, "script": hex}}, ...],
     "outputs": [{"satoshis": n, "script": hex}, ...],
     "changeScript": hex, "changeIndex": n, "fee": n}          (the last three optional)

Each input carries the output it spends (amount and script): that is what lets a key find the
inputs it can sign and what BIP143 commits to. Checks follow bitcore's `fromObject` — the
consistency checks of `_checkConsistency` included ("hash" must be the txid of the transaction
described, a change index must point at an output paying `changeScript`) — and are stricter on
types: amounts must be JSON integers in [0, 2^53 - 1] (the largest integer a JavaScript number
holds exactly, which bounds every amount bitcore can represent).

BCH — `"<unsigned raw tx hex>:<JSON list of input amounts>"`: no previous scripts; the amounts
(bitcoincashjs2-lib `types.Satoshi`: at most 21 million BCH) are what the forkid digest needs.
"""

from __future__ import annotations

from typing import List, NamedTuple, Optional

from kms_ref.encoding.bounded_json import parse_json
from kms_ref.tx.transaction import SEQUENCE_FINAL, Record, Transaction, TxIn, TxOut, parse_hex

MAX_SAFE_INTEGER = 2 ** 53 - 1       # JavaScript Number.MAX_SAFE_INTEGER
BCH_SATOSHI_MAX = 21 * 10 ** 14      # bitcoincashjs2-lib types.js SATOSHI_MAX


class PrevOut(NamedTuple):
    """The output an input spends: what it is worth and the script that locks it."""
    amount: int
    script_pubkey: bytes


class BitcoreTransaction(Record):
    FIELDS = ("tx", "prevouts", "change_script", "change_index", "fee")

    def __init__(self, tx: Transaction, prevouts: List[PrevOut], change_script: Optional[bytes] = None,
                 change_index: Optional[int] = None, fee: Optional[int] = None):
        self.tx = tx
        self.prevouts = prevouts
        self.change_script = change_script
        self.change_index = change_index
        self.fee = fee


# --- field checks (one message style: where, what is wrong) ---

def _field(obj: dict, key: str, where: str):
    if not isinstance(obj, dict):
        raise ValueError("%s must be a JSON object" % where)
    if key not in obj or obj[key] is None:
        raise ValueError("%s: missing field %r" % (where, key))
    return obj[key]


def _int(value, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("%s must be an integer, got %r" % (where, value))
    if not low <= value <= high:
        raise ValueError("%s = %d is out of range [%d, %d]" % (where, value, low, high))
    return value


def _hex(value, where: str, size: Optional[int] = None) -> bytes:
    if not isinstance(value, str):
        raise ValueError("%s must be a hex string" % where)
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise ValueError("%s is not valid hex" % where) from None
    if size is not None and len(data) != size:
        raise ValueError("%s must be %d bytes, got %d" % (where, size, len(data)))
    return data


def _amount(value, where: str, maximum: int = MAX_SAFE_INTEGER) -> int:
    return _int(value, where, 0, maximum)


# --- BTC / LTC / DOGE ---

def parse_bitcore_json(serialized) -> BitcoreTransaction:
    """The model and each input's previous output from bitcore's JSON (a str or an already decoded dict)."""
    if isinstance(serialized, str):
        obj = parse_json(serialized, "serializedTransaction")
    else:
        obj = serialized
    if not isinstance(obj, dict):
        raise ValueError("serializedTransaction must be a JSON object")

    version = _int(_field(obj, "version", "transaction"), "transaction version", -2 ** 31, 2 ** 31 - 1)
    locktime = _int(_field(obj, "nLockTime", "transaction"), "nLockTime", 0, 0xFFFFFFFF)
    raw_inputs = _field(obj, "inputs", "transaction")
    raw_outputs = _field(obj, "outputs", "transaction")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise ValueError("transaction: 'inputs' must be a non-empty list")
    if not isinstance(raw_outputs, list) or not raw_outputs:
        raise ValueError("transaction: 'outputs' must be a non-empty list")

    inputs, prevouts = [], []
    for i, item in enumerate(raw_inputs):
        where = "input %d" % i
        prev_txid = _hex(_field(item, "prevTxId", where), where + " prevTxId", 32)
        vout = _int(_field(item, "outputIndex", where), where + " outputIndex", 0, 0xFFFFFFFF)
        sequence = item.get("sequenceNumber")
        sequence = SEQUENCE_FINAL if sequence is None else _int(sequence, where + " sequenceNumber", 0, 0xFFFFFFFF)
        if "script" not in item:   # bitcore: errors.Transaction.Input.MissingScript
            raise ValueError("%s: missing field 'script'" % where)
        script_sig = _hex(item["script"] or "", where + " script")
        output = _field(item, "output", where)
        amount = _amount(_field(output, "satoshis", where + " output"), where + " output satoshis")
        script_pubkey = _hex(_field(output, "script", where + " output"), where + " output script")
        inputs.append(TxIn(prev_txid[::-1], vout, script_sig, sequence))
        prevouts.append(PrevOut(amount, script_pubkey))

    outputs = []
    for i, item in enumerate(raw_outputs):
        where = "output %d" % i
        value = _amount(_field(item, "satoshis", where), where + " satoshis")
        outputs.append(TxOut(value, _hex(_field(item, "script", where), where + " script")))

    result = BitcoreTransaction(Transaction(version, inputs, outputs, locktime), prevouts)
    if obj.get("changeScript") is not None:
        result.change_script = _hex(obj["changeScript"], "changeScript")
    if obj.get("changeIndex") is not None:
        result.change_index = _int(obj["changeIndex"], "changeIndex", 0, len(outputs) - 1)
        if result.change_script is None:
            raise ValueError("changeIndex is set but changeScript is missing")
        if outputs[result.change_index].script_pubkey != result.change_script:
            raise ValueError("change output %d does not pay changeScript" % result.change_index)
    if obj.get("fee") is not None:
        result.fee = _amount(obj["fee"], "fee")
    if obj.get("hash") is not None and obj["hash"] != result.tx.txid():
        raise ValueError("'hash' %r does not match the transaction's txid %s" % (obj["hash"], result.tx.txid()))
    return result


# --- BCH ---

def parse_bch_pending(serialized: str):
    """(transaction, input amounts) from "<unsigned raw tx hex>:<JSON list of input amounts>"."""
    if not isinstance(serialized, str) or ":" not in serialized:
        raise ValueError("BCH serializedTransaction must be '<raw tx hex>:<JSON list of input amounts>'")
    raw_hex, amounts_text = serialized.split(":", 1)
    tx = parse_hex(raw_hex)
    if tx.has_witness():
        raise ValueError("a BCH transaction cannot carry witnesses")
    amounts = parse_json(amounts_text, "BCH input amounts")
    if not isinstance(amounts, list):
        raise ValueError("BCH input amounts must be a JSON list")
    if len(amounts) != len(tx.inputs):
        raise ValueError("BCH transaction has %d inputs but %d amounts" % (len(tx.inputs), len(amounts)))
    amounts = [_amount(a, "BCH input %d amount" % i, BCH_SATOSHI_MAX) for i, a in enumerate(amounts)]
    return tx, amounts
