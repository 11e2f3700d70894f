"""The sandbox's state file (`kms-ref sandbox --state FILE`, SPEC §6): the whole ledger as JSON.

Written after every change with `kms_ref.store.atomic_file.write_atomic` (temporary file, fsync,
rename, mode 0600), so a crash leaves the previous state or the new one; read once at start, and
written once at start too, so that a path that cannot be written is refused then (`state_file`).
Layout (version 1):

    {"format": "kms_ref sandbox state", "version": 1, "faucetCounter": n,
     "chains": [{"chain": "BTC", "testnet": true,
                 "outputs": [{"txId", "index", "value" (sat), "script" (hex), "spentBy"}],
                 "transactions": {"<txid>": "<raw hex>"}}],
     "pending": [{"tx": <as the API serves it, without txId>, "testnet", "completed", "txId"}],
     "errorBatches": [[{"signatureId", "error"}]],
     "broadcasts": {"<signatureId>": ["<txid>"]}, "broadcastAttempts": {"<signatureId>": n}}
"""

from __future__ import annotations

import json
import os

from kms_ref.sandbox.books import Output, PendingTx

STATE_FORMAT = "kms_ref sandbox state"
STATE_VERSION = 1


def dump_state(ledger) -> bytes:
    chains = []
    for (symbol, testnet), book in ledger.books.items():
        chains.append({
            "chain": symbol, "testnet": testnet,
            "outputs": [{"txId": txid, "index": index, "value": out.value, "script": out.script.hex(),
                         "spentBy": out.spent_by} for (txid, index), out in book.outputs.items()],
            "transactions": dict(book.transactions),
        })
    state = {
        "format": STATE_FORMAT, "version": STATE_VERSION, "faucetCounter": ledger.faucet_counter,
        "chains": chains,
        "pending": [{"tx": p.fields, "testnet": p.testnet, "completed": p.completed, "txId": p.tx_id}
                    for p in ledger.pending.values()],
        "errorBatches": ledger.error_batches,
        "broadcasts": ledger.broadcasts,
        "broadcastAttempts": ledger.broadcast_attempts,
    }
    return (json.dumps(state, indent=1) + "\n").encode()


def state_file(path: str) -> str:
    """The file a --state path names, checked when the sandbox starts rather than at its first
    change (which would apply the change in memory and then answer 500, every time): a symlink
    is followed, so that writes go through it to its target instead of replacing it; the
    directory must exist; what is there already must be a regular file (a FIFO would block)."""
    target = os.path.realpath(os.path.expanduser(path))
    if not os.path.isdir(os.path.dirname(target)):
        raise ValueError("sandbox state file %s: its directory does not exist" % path)
    if os.path.lexists(target) and not os.path.isfile(target):
        raise ValueError("sandbox state file %s is not a regular file" % path)
    return target


def load_state(ledger, path: str) -> None:
    """Fill an empty ledger from a state file; ValueError naming the file if it is not one."""
    try:
        with open(path, "rb") as f:
            state = json.loads(f.read().decode("utf-8"))
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ValueError("not a sandbox state file")
        if state.get("version") != STATE_VERSION:
            raise ValueError("unsupported version %r" % state.get("version"))
        ledger.faucet_counter = int(state["faucetCounter"])
        for entry in state["chains"]:
            book = ledger.books[(entry["chain"], bool(entry["testnet"]))]
            for out in entry["outputs"]:
                book.outputs[(out["txId"], int(out["index"]))] = Output(
                    int(out["value"]), bytes.fromhex(out["script"]), out["spentBy"])
            book.transactions.update(entry["transactions"])
        for item in state["pending"]:
            pending = PendingTx(item["tx"], bool(item["testnet"]), bool(item["completed"]), item.get("txId"))
            ledger.pending[pending.id] = pending
        ledger.error_batches = list(state["errorBatches"])
        ledger.broadcasts = dict(state["broadcasts"])
        ledger.broadcast_attempts = dict(state["broadcastAttempts"])
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as e:
        detail = "missing or unknown %r" % (e.args[0],) if isinstance(e, KeyError) and e.args else e
        raise ValueError("sandbox state file %s is unreadable: %s" % (path, detail)) from None
