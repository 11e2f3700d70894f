"""What a broadcast must pass before the sandbox accepts it (SPEC §6), in the order checked.

1. Not seen before: the same txid twice is 409 "transaction already broadcast".
2. Every input spends a known output of this chain and network (else 400 "unknown input"),
   no output twice within the transaction, and none already spent (409 "double spend").
3. At least one output, amounts a node accepts (`tx.consensus`: no negative output, nothing
   above MAX_MONEY), and outputs not above inputs (400).
4. When the broadcast names a pending KMS transaction, it is that transaction, signed: same
   version, inputs (outpoints and sequences), outputs and locktime (400). Tatum does not check
   this; the sandbox does, to catch a signer that signs something else than it was asked to.
5. Every input passes kms_ref's script check (`kms_ref.tx.verify.verify_transaction`) against
   the script and amount of the output it spends: 403 with the reason otherwise.

Only then does `accept` spend the inputs and add the outputs, so nothing changes on a refusal.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from kms_ref.sandbox.books import ChainBook, PendingTx
from kms_ref.sandbox.errors import Conflict, Forbidden, SandboxError
from kms_ref.tx.bitcore_json import PrevOut, parse_bch_pending, parse_bitcore_json
from kms_ref.tx.consensus import check_money_range
from kms_ref.tx.transaction import Transaction
from kms_ref.tx.verify import verify_transaction


def check_broadcast(books: Sequence[ChainBook], symbol: str, tx: Transaction,
                    pending: Optional[PendingTx] = None) -> ChainBook:
    """Run checks 1–5 on a chain's books (mainnet, testnet); the book the transaction spends from."""
    txid = tx.txid()
    if any(txid in book.transactions for book in books):
        raise Conflict("transaction already broadcast: %s" % txid, "tx.already.broadcast")
    first = (tx.inputs[0].prev_txid, tx.inputs[0].vout)
    book = next((b for b in books if first in b.outputs), None)
    if book is None:
        raise SandboxError("unknown input 0: %s:%d is not an output on %s" % (first + (symbol,)),
                           "tx.input.unknown")
    prevouts = spent_outputs(book, tx)
    if not tx.outputs:
        raise SandboxError("transaction has no outputs")
    try:
        check_money_range(tx, [p.amount for p in prevouts], symbol)
    except ValueError as e:
        raise SandboxError(str(e), "tx.amount.invalid") from None
    total_in = sum(p.amount for p in prevouts)
    total_out = sum(txout.value for txout in tx.outputs)
    if total_out > total_in:
        raise SandboxError("outputs (%d sat) are above inputs (%d sat)" % (total_out, total_in))
    if pending is not None:
        check_matches_pending(tx, pending)
    try:
        verify_transaction(tx, prevouts, symbol)
    except ValueError as e:
        raise Forbidden(str(e)) from None
    return book


def spent_outputs(book: ChainBook, tx: Transaction) -> List[PrevOut]:
    """The output each input spends (check 2)."""
    prevouts, seen = [], {}
    for i, txin in enumerate(tx.inputs):
        outpoint = (txin.prev_txid, txin.vout)
        out = book.outputs.get(outpoint)
        if out is None:
            raise SandboxError("unknown input %d: %s:%d is not an output on %s"
                               % ((i,) + outpoint + (book.chain,)), "tx.input.unknown")
        if outpoint in seen:
            raise SandboxError("input %d spends the same output as input %d" % (i, seen[outpoint]))
        if out.spent_by is not None:
            raise Conflict("double spend: input %d spends %s:%d, already spent by %s"
                           % ((i,) + outpoint + (out.spent_by,)), "tx.double.spend")
        seen[outpoint] = i
        prevouts.append(PrevOut(out.value, out.script))
    return prevouts


def _shape(tx: Transaction):
    """Everything but the scriptSigs and witnesses."""
    return (tx.version, tx.locktime, [(txin.outpoint(), txin.sequence) for txin in tx.inputs],
            [(txout.value, txout.script_pubkey) for txout in tx.outputs])


def check_matches_pending(tx: Transaction, pending: PendingTx) -> None:
    """Check 4: the signed transaction is the pending one."""
    serialized = pending.fields["serializedTransaction"]
    if pending.chain == "BCH":
        unsigned = parse_bch_pending(serialized)[0]
    else:
        unsigned = parse_bitcore_json(serialized).tx
    if _shape(tx) != _shape(unsigned):
        raise SandboxError("transaction is not the one pending transaction %s asked for" % pending.id,
                           "tx.pending.mismatch")


def accept(book: ChainBook, tx: Transaction) -> str:
    """Spend the inputs and record the transaction (its outputs become UTXOs); its txid."""
    txid = tx.txid()
    for txin in tx.inputs:
        book.outputs[(txin.prev_txid, txin.vout)].spent_by = txid
    return book.add_transaction(tx)
