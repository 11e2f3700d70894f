"""What the sandbox ledger records (SPEC §6): outputs and transactions per chain, pending KMS txs.

A `ChainBook` is one chain and network: every output ever created, by outpoint and in creation
order — its value, its script, and the txid that spent it (None while unspent) — and the raw hex
of every transaction it accepted. Keeping spent outputs lets the balance answer show Tatum's
`incoming` (all received) and `outgoing` (all spent).

A `PendingTx` is a KMS transaction as the API serves it (`fields`: id, chain,
serializedTransaction, hashes, index, signatures, withdrawalId, withdrawalResponses), plus the
network it belongs to, whether it is completed, and its txId once broadcast.

Funding comes from `faucet_transaction`: a coinbase-like transaction (null prevout, BIP34-style
counter in the scriptSig) paying one output, so its txid is a real hash of a real transaction,
different on every call.
"""

from __future__ import annotations

import copy
from typing import Dict, List, Optional, Tuple

from kms_ref.hd.chains import Chain
from kms_ref.sandbox.unsigned import Spend
from kms_ref.encoding.script import OP_RETURN, push_data
from kms_ref.tx.transaction import SEQUENCE_FINAL, Transaction, TxIn, TxOut

FAUCET_TAG = b"kms_ref sandbox faucet"   # in the faucet transactions' scriptSig
NULL_TXID = bytes(32)                      # a coinbase input's prevout (Bitcoin Core COutPoint::IsNull)
NULL_INDEX = 0xFFFFFFFF


class Output:
    """One transaction output: value (sat), script, and the txid that spent it (None: unspent)."""
    __slots__ = ("value", "script", "spent_by")

    def __init__(self, value: int, script: bytes, spent_by: Optional[str] = None):
        self.value, self.script, self.spent_by = value, script, spent_by


class ChainBook:
    """The ledger of one chain and network."""

    def __init__(self, chain: Chain):
        self.chain = chain
        self.outputs: Dict[Tuple[str, int], Output] = {}
        self.transactions: Dict[str, str] = {}

    def add_transaction(self, tx: Transaction) -> str:
        """Record a transaction and make its outputs spendable (OP_RETURN outputs never are)."""
        txid = tx.txid()
        self.transactions[txid] = tx.serialize().hex()
        for index, txout in enumerate(tx.outputs):
            if txout.script_pubkey[:1] != bytes((OP_RETURN,)):
                self.outputs[(txid, index)] = Output(txout.value, txout.script_pubkey)
        return txid

    def unspent(self, script: bytes) -> List[Spend]:
        """The unspent outputs paying `script`, oldest first."""
        return [Spend(txid, index, out.value, out.script) for (txid, index), out in self.outputs.items()
                if out.script == script and out.spent_by is None]


class PendingTx:
    """A KMS transaction as the API serves it (`fields`), plus what only the sandbox needs."""

    def __init__(self, fields: dict, testnet: bool, completed: bool = False, tx_id: Optional[str] = None):
        self.fields, self.testnet, self.completed, self.tx_id = fields, testnet, completed, tx_id

    @property
    def id(self) -> str:
        return self.fields["id"]

    @property
    def chain(self) -> str:
        return self.fields["chain"]

    def signature_ids(self) -> set:
        """Every signature ID it names: `hashes` and the ids of `signatures`."""
        ids = set(self.fields.get("hashes") or [])
        return ids | {s.get("id") for s in self.fields.get("signatures") or [] if isinstance(s, dict)}

    def to_api(self) -> dict:
        """The pending transaction as `GET /v3/kms/{id}` answers it: with "txId" once broadcast."""
        served = copy.deepcopy(self.fields)
        if self.tx_id:
            served["txId"] = self.tx_id
        return served


def faucet_transaction(counter: int, value: int, script: bytes) -> Transaction:
    """A coinbase-like transaction paying `value` to `script`; its txid depends on the counter."""
    script_sig = push_data(counter.to_bytes(8, "little")) + push_data(FAUCET_TAG)
    return Transaction(1, [TxIn(NULL_TXID, NULL_INDEX, script_sig, SEQUENCE_FINAL)], [TxOut(value, script)])
