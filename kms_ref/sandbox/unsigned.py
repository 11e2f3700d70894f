"""The unsigned transaction Tatum's API queues for the KMS, built from ledger UTXOs (SPEC §4, §6).

What `POST /v3/{chain}/transaction` with signature IDs produces, in the two forms of SPEC §4:

- BTC, LTC, DOGE — `JSON.stringify` of bitcore-lib's `Transaction#toObject()`, keys in its order:

      {"hash", "version", "inputs": [{"prevTxId", "outputIndex", "sequenceNumber", "script",
        "scriptString", "output": {"satoshis", "script"}}], "outputs": [{"satoshis", "script"}],
       "nLockTime", ["changeScript", "changeIndex", "fee"]}

  "hash" is the txid of the unsigned transaction (bitcore checks it when it parses the object).
  The version is 2 for BTC and LTC and 1 for DOGE, as in the pending transactions Tatum sends
  (vectors/tatum_sign.json). The change fields appear as bitcore writes them after
  `.change(address).fee(fee)`: "changeScript" and "fee" whenever a change address was given,
  "changeIndex" only when a change output was added. One difference: bitcore writes
  "changeScript" as its human-readable script string; this module writes hex, which bitcore's
  `Script` constructor reads just the same and which kms_ref's parser requires.
- BCH — `"<unsigned raw tx hex>:<JSON list of input amounts>"`, version 2.

Inputs have empty scriptSigs and sequence 0xffffffff; nLockTime is 0. For DOGE the transaction
must pass bitcore-lib-doge's serialization checks (kms_ref.tx.doge_checks) — Tatum's signer
refuses it otherwise, so the sandbox refuses to queue it, with bitcore's message.
"""

from __future__ import annotations

import json
from typing import List, NamedTuple, Optional, Sequence

from kms_ref.tx import doge_checks
from kms_ref.tx.bitcore_json import PrevOut
from kms_ref.tx.transaction import SEQUENCE_FINAL, Transaction, TxIn, TxOut

TX_VERSION = {"BTC": 2, "LTC": 2, "DOGE": 1, "BCH": 2}   # as in Tatum's pending transactions
LOCKTIME = 0
COMPACT_JSON = (",", ":")                                 # JSON.stringify writes no spaces


class Spend(NamedTuple):
    """One UTXO chosen as an input: its outpoint (txid as displayed) and the output it spends."""
    txid: str
    vout: int
    amount: int
    script_pubkey: bytes


def unsigned_transaction(version: int, spends: Sequence[Spend], outputs: Sequence[TxOut]) -> Transaction:
    inputs = [TxIn(bytes.fromhex(s.txid)[::-1], s.vout, b"", SEQUENCE_FINAL) for s in spends]
    return Transaction(version, inputs, list(outputs), LOCKTIME)


def bitcore_object(tx: Transaction, prevouts: Sequence[PrevOut], change_script: Optional[bytes] = None,
                   change_index: Optional[int] = None, fee: Optional[int] = None) -> dict:
    """bitcore-lib `Transaction#toObject()` of an unsigned transaction, keys in bitcore's order."""
    obj = {
        "hash": tx.txid(),
        "version": tx.version,
        "inputs": [{
            "prevTxId": txin.prev_txid,
            "outputIndex": txin.vout,
            "sequenceNumber": txin.sequence,
            "script": txin.script_sig.hex(),
            "scriptString": "",
            "output": {"satoshis": prevout.amount, "script": prevout.script_pubkey.hex()},
        } for txin, prevout in zip(tx.inputs, prevouts)],
        "outputs": [{"satoshis": txout.value, "script": txout.script_pubkey.hex()} for txout in tx.outputs],
        "nLockTime": tx.locktime,
    }
    if change_script is not None:
        obj["changeScript"] = change_script.hex()
    if change_index is not None:
        obj["changeIndex"] = change_index
    if fee is not None:
        obj["fee"] = fee
    return obj


def bitcore_serialized(tx: Transaction, prevouts: Sequence[PrevOut], change_script: Optional[bytes] = None,
                       change_index: Optional[int] = None, fee: Optional[int] = None) -> str:
    """`serializedTransaction` for BTC/LTC/DOGE: the object above as JSON.stringify writes it."""
    return json.dumps(bitcore_object(tx, prevouts, change_script, change_index, fee), separators=COMPACT_JSON)


def bch_serialized(tx: Transaction, amounts: Sequence[int]) -> str:
    """`serializedTransaction` for BCH: raw hex, a colon, the input amounts as a JSON list."""
    return tx.serialize().hex() + ":" + json.dumps(list(amounts), separators=COMPACT_JSON)


def build_serialized(symbol: str, spends: Sequence[Spend], payments: Sequence[TxOut],
                     fee: Optional[int] = None, change_script: Optional[bytes] = None) -> str:
    """The `serializedTransaction` paying `payments` from `spends`.

    With a fee and a change script, a change output of inputs − payments − fee is appended (none
    when that is zero); without them the fee is whatever inputs − payments leaves. ValueError when
    the inputs do not cover it, or (DOGE) when bitcore-lib-doge would refuse the transaction."""
    if not spends:
        raise ValueError("no unspent outputs to spend")
    if not payments:
        raise ValueError("no outputs: 'to' must list at least one address and value")
    total_in = sum(s.amount for s in spends)
    total_out = sum(p.value for p in payments)
    outputs: List[TxOut] = list(payments)
    change_index = None
    if change_script is not None:
        change = total_in - total_out - fee
        if change < 0:
            raise ValueError("inputs (%d sat) do not cover outputs (%d sat) plus fee (%d sat)"
                             % (total_in, total_out, fee))
        if change > 0:
            change_index = len(outputs)
            outputs.append(TxOut(change, change_script))
    elif total_out > total_in:
        raise ValueError("inputs (%d sat) do not cover outputs (%d sat)" % (total_in, total_out))

    tx = unsigned_transaction(TX_VERSION[symbol], spends, outputs)
    amounts = [s.amount for s in spends]
    if symbol == "BCH":
        return bch_serialized(tx, amounts)
    prevouts = [PrevOut(s.amount, s.script_pubkey) for s in spends]
    if symbol == "DOGE":
        doge_checks.check_doge(tx, amounts, [p.script_pubkey for p in prevouts], change_script, fee)
    return bitcore_serialized(tx, prevouts, change_script, change_index, fee)
