"""The sandbox's ledger (SPEC §6): UTXOs per chain and network, pending KMS transactions, broadcasts.

No HTTP here: `server.py` maps each request onto one method, and a refusal (`errors.py`) onto its
status code. One `Ledger` holds everything behind one lock, since the server answers each
request in its own thread:

    books[(symbol, testnet)]   a `ChainBook` (books.py): outputs and transactions
    pending                    KMS transactions waiting for a signature, by id
    error_batches              what the daemon reported to `POST /v3/tatum/kms/batch`
    broadcasts                 per signature ID, the txids accepted for it; broadcast_attempts
                               counts every try (tests check that nothing is broadcast twice)

Which chain: the request's path (`bitcoin`, `litecoin`, `dogecoin`, `bcash`). Which network: the
addresses used — within one chain no address is valid on both networks. The faucet has no chain
in its path; an address several chains share (P2PKH version 0x6f is BTC, LTC and BCH testnet)
needs `"chain"` in its body.

With a state file, the whole state is written after every change and read back at start (state.py).
"""

from __future__ import annotations

import copy
import os
import threading
from typing import Dict, List, Optional, Tuple

from kms_ref.store.atomic_file import write_atomic
from kms_ref.hd.addresses import address_from_script, script_from_address
from kms_ref.hd.chains import CHAINS, SYMBOLS, get_chain
from kms_ref.hd.masking import shown
from kms_ref.sandbox import broadcast as checks
from kms_ref.sandbox.amounts import sat_to_coins
from kms_ref.sandbox.books import ChainBook, PendingTx, faucet_transaction
from kms_ref.sandbox.errors import (NotFound, SandboxError, amount_field, body_object, list_field,
                                    outpoint_field, text_field)
from kms_ref.sandbox.state import dump_state, load_state, state_file
from kms_ref.sandbox.unsigned import Spend, build_serialized
from kms_ref.tx.transaction import TxOut, parse_hex

API_NAMES = {c.api_name: c.symbol for c in CHAINS.values()}   # "bitcoin" -> "BTC", ...
PENDING_ID_BYTES = 12                                          # 24 hex digits, like Tatum's Mongo ids


def symbol_for_api_name(api_name: str) -> str:
    if api_name not in API_NAMES:
        raise NotFound("unknown chain %s: the sandbox serves %s" % (shown(api_name), ", ".join(sorted(API_NAMES))))
    return API_NAMES[api_name]


def check_symbol(symbol) -> str:
    """A chain symbol (BTC, LTC, DOGE, BCH; any case) — or its API name — as the symbol."""
    if isinstance(symbol, str) and symbol in API_NAMES:
        return API_NAMES[symbol]
    if not isinstance(symbol, str) or symbol.upper() not in SYMBOLS:
        raise SandboxError("unsupported chain %s: the sandbox serves %s" % (shown(symbol), ", ".join(SYMBOLS)))
    return symbol.upper()


class Ledger:
    """The whole sandbox state; every public method takes the lock and saves after a change."""

    def __init__(self, state_path: Optional[str] = None):
        self.lock = threading.RLock()
        self.state_path = state_path
        self.books = {key: ChainBook(chain) for key, chain in CHAINS.items()}
        self.pending: Dict[str, PendingTx] = {}
        self.error_batches: List[list] = []
        self.broadcasts: Dict[str, List[str]] = {}
        self.broadcast_attempts: Dict[str, int] = {}
        self.faucet_counter = 0
        if state_path:
            self.state_path = state_file(state_path)
            if os.path.exists(self.state_path):
                load_state(self, self.state_path)
            try:
                self._save()
            except OSError as e:
                raise ValueError("sandbox state file %s cannot be written: %s" % (state_path, e.strerror)) from None

    def _save(self) -> None:
        if self.state_path:
            write_atomic(self.state_path, [dump_state(self)])

    # --- addresses: which chain, which network ---

    def resolve(self, symbol: str, address) -> Tuple[ChainBook, bytes]:
        """The book (chain and network) an address belongs to, and its output script."""
        found = []
        for testnet in (False, True):
            try:
                found.append((testnet, script_from_address(get_chain(symbol, testnet), address)))
            except ValueError:
                pass
        if len(found) != 1:
            raise SandboxError("%s is not a %s address (mainnet or testnet)" % (shown(address), symbol)
                               if not found else "%s is a %s address on both networks" % (shown(address), symbol))
        testnet, script = found[0]
        return self.books[(symbol, testnet)], script

    def _book_of(self, symbol: str, addresses: List[str]) -> ChainBook:
        books = {id(book): book for book in (self.resolve(symbol, a)[0] for a in addresses)}
        if len(books) > 1:
            raise SandboxError("the request mixes %s mainnet and testnet addresses" % symbol)
        return next(iter(books.values()))

    # --- the faucet (step 6) and what an explorer shows ---

    def faucet(self, address, amount, chain: Optional[str] = None) -> dict:
        """Pay `amount` coins to `address` from nowhere; {"txId", "index": 0}."""
        symbols = [check_symbol(chain)] if chain is not None else list(SYMBOLS)
        value = amount_field(amount, "amount")
        candidates = []
        for symbol in symbols:
            try:
                candidates.append(self.resolve(symbol, address))
            except SandboxError:
                pass
        if not candidates:
            raise SandboxError("%s is not an address of %s" % (shown(address), " or ".join(symbols)))
        if len(candidates) > 1:
            names = ", ".join(str(book.chain) for book, _ in candidates)
            raise SandboxError("%s is an address on %s: say which with \"chain\"" % (shown(address), names))
        book, script = candidates[0]
        with self.lock:
            self.faucet_counter += 1
            txid = book.add_transaction(faucet_transaction(self.faucet_counter, value, script))
            self._save()
        return {"txId": txid, "index": 0}

    def balance(self, api_name: str, address) -> dict:
        """{"incoming", "outgoing"} in coins: all received by the address, and all spent."""
        book, script = self.resolve(symbol_for_api_name(api_name), address)
        with self.lock:
            outputs = [out for out in book.outputs.values() if out.script == script]
            incoming = sum(out.value for out in outputs)
            outgoing = sum(out.value for out in outputs if out.spent_by is not None)
        return {"incoming": sat_to_coins(incoming), "outgoing": sat_to_coins(outgoing)}

    def utxo(self, api_name: str, txid, index) -> dict:
        symbol = symbol_for_api_name(api_name)
        outpoint = outpoint_field(txid, index, "UTXO")
        with self.lock:
            for testnet in (False, True):
                book = self.books[(symbol, testnet)]
                out = book.outputs.get(outpoint)
                if out is not None and out.spent_by is None:
                    return {"txHash": outpoint[0], "index": outpoint[1], "value": sat_to_coins(out.value),
                            "address": address_from_script(book.chain, out.script), "script": out.script.hex()}
        raise NotFound("no unspent output %s:%d on %s" % (outpoint + (symbol,)), "utxo.not.found")

    def transaction(self, api_name: str, txid: str) -> dict:
        symbol = symbol_for_api_name(api_name)
        with self.lock:
            for testnet in (False, True):
                raw = self.books[(symbol, testnet)].transactions.get(txid.lower())
                if raw is not None:
                    return {"hash": txid.lower(), "hex": raw}
        raise NotFound("no %s transaction %s" % (symbol, txid), "tx.not.found")

    # --- step 7: a transaction for the KMS to sign ---

    def create_transaction(self, api_name: str, body) -> dict:
        """Build the unsigned transaction of a `POST /v3/{chain}/transaction` body and queue it
        as a pending KMS transaction; {"signatureId": its id}."""
        symbol = symbol_for_api_name(api_name)
        body = body_object(body)
        if ("fromAddress" in body) == ("fromUTXO" in body):
            raise SandboxError("give exactly one of 'fromAddress' and 'fromUTXO'")
        from_address = "fromAddress" in body
        sources = list_field(body, "fromAddress" if from_address else "fromUTXO")
        recipients = list_field(body, "to")
        fee, change_address = body.get("fee"), body.get("changeAddress")
        if (fee is None) != (change_address is None):
            raise SandboxError("'fee' and 'changeAddress' go together: give both or neither")
        addresses = [text_field(r, "address", "to[%d]" % i) for i, r in enumerate(recipients)]
        if from_address:
            addresses += [text_field(s, "address", "fromAddress[%d]" % i) for i, s in enumerate(sources)]
        if change_address is not None:
            addresses.append(change_address)
        with self.lock:
            book = self._book_of(symbol, addresses)
            payments = [TxOut(amount_field(r.get("value"), "to[%d].value" % i), self.resolve(symbol, r["address"])[1])
                        for i, r in enumerate(recipients)]
            spends, hashes, signatures = self._spends(book, from_address, sources)
            change_script = None
            if change_address is not None:
                change_script = self.resolve(symbol, change_address)[1]
                fee = amount_field(fee, "fee", allow_zero=True)
            try:
                serialized = build_serialized(symbol, spends, payments, fee, change_script)
            except ValueError as e:
                raise SandboxError(str(e)) from None
            pending = PendingTx({
                "id": os.urandom(PENDING_ID_BYTES).hex(), "chain": symbol, "serializedTransaction": serialized,
                "hashes": hashes, "index": None, "signatures": signatures,
                "withdrawalId": None, "withdrawalResponses": None}, book.chain.testnet)
            self.pending[pending.id] = pending
            self._save()
        return {"signatureId": pending.id}

    def _spends(self, book: ChainBook, from_address: bool, sources: list):
        """(inputs, hashes, signatures): the UTXOs spent and the signature ID of each — all unspent
        outputs of each fromAddress address, or the fromUTXO outputs as listed. A fromAddress entry
        with an "index" (a mnemonic wallet's key) goes to `signatures` as {id, index}, the others'
        IDs to `hashes` (SPEC §4), one per input: the inputs of `hashes` come first and those of
        `signatures` after them, so that BCH's positional keys ("hashes, then signatures, sign
        inputs 0, 1, 2, ...") meet their inputs."""
        by_hash: List[Spend] = []
        by_index: List[Spend] = []
        hashes, signatures, seen = [], [], set()
        for i, source in enumerate(sources):
            where = "%s[%d]" % ("fromAddress" if from_address else "fromUTXO", i)
            signature_id = text_field(source, "signatureId", where)
            if from_address:
                script = self.resolve(book.chain.symbol, source["address"])[1]
                if script in seen:
                    raise SandboxError("%s: address %s is listed twice" % (where, source["address"]))
                seen.add(script)
                found = book.unspent(script)
                if source.get("index") is not None:
                    signatures += [{"id": signature_id, "index": source["index"]}] * len(found)
                    by_index += found
                    continue
            else:
                outpoint = outpoint_field(source.get("txHash"), source.get("index"), where)
                out = book.outputs.get(outpoint)
                if out is None:
                    raise SandboxError("%s: unknown UTXO %s:%d on %s" % ((where,) + outpoint + (book.chain,)))
                if out.spent_by is not None or outpoint in seen:
                    raise SandboxError("%s: UTXO %s:%d is already spent" % ((where,) + outpoint))
                seen.add(outpoint)
                found = [Spend(outpoint[0], outpoint[1], out.value, out.script)]
            by_hash += found
            hashes += [signature_id] * len(found)
        spends = by_hash + by_index
        if not spends:
            raise SandboxError("nothing to spend: the %s addresses have no unspent outputs" % (book.chain,))
        return spends, hashes, signatures

    # --- the KMS endpoints ---

    def pending_for(self, symbol, signature_ids) -> List[dict]:
        """The chain's pending transactions, not yet completed, that name one of the signature IDs."""
        symbol = check_symbol(symbol)
        if not isinstance(signature_ids, list) or not all(isinstance(s, str) for s in signature_ids):
            raise SandboxError("signatureIds must be a list of strings")
        wanted = set(signature_ids)
        with self.lock:
            return [p.to_api() for p in self.pending.values()
                    if p.chain == symbol and not p.completed and p.signature_ids() & wanted]

    def _pending(self, pending_id: str) -> PendingTx:
        if pending_id not in self.pending:
            raise NotFound("no pending transaction %s" % pending_id, "kms.not.found")
        return self.pending[pending_id]

    def get_pending(self, pending_id: str) -> dict:
        with self.lock:
            return self._pending(pending_id).to_api()

    def complete_pending(self, pending_id: str, tx_id: str) -> None:
        with self.lock:
            pending = self._pending(pending_id)
            pending.completed, pending.tx_id = True, tx_id
            self._save()

    def delete_pending(self, pending_id: str) -> None:
        with self.lock:
            self._pending(pending_id)
            del self.pending[pending_id]
            self._save()

    def record_errors(self, body) -> None:
        errors = body_object(body).get("errors")
        if not isinstance(errors, list) or not all(isinstance(e, dict) for e in errors):
            raise SandboxError("'errors' must be a list of {signatureId, error}")
        with self.lock:
            self.error_batches.append([{"signatureId": e.get("signatureId"), "error": e.get("error")}
                                       for e in errors])
            self._save()

    # --- broadcast ---

    def broadcast(self, api_name: str, tx_data, signature_id=None) -> dict:
        """Check a signed transaction (broadcast.py) and accept it; {"txId", "failed": false}.
        A signature ID that names a pending transaction completes it with this txId."""
        symbol = symbol_for_api_name(api_name)
        if not isinstance(tx_data, str):
            raise SandboxError("'txData' must be the signed transaction as hex")
        if signature_id is not None and not isinstance(signature_id, str):
            raise SandboxError("'signatureId' must be a string")
        try:
            tx = parse_hex(tx_data.strip())
        except ValueError as e:
            raise SandboxError("txData is not a transaction: %s" % e) from None
        with self.lock:
            if signature_id:
                self.broadcast_attempts[signature_id] = self.broadcast_attempts.get(signature_id, 0) + 1
            try:
                books = [self.books[(symbol, False)], self.books[(symbol, True)]]
                pending = self.pending.get(signature_id) if signature_id else None
                book = checks.check_broadcast(books, symbol, tx, pending)
                txid = checks.accept(book, tx)
                if signature_id:
                    self.broadcasts.setdefault(signature_id, []).append(txid)
                if pending is not None:
                    pending.completed, pending.tx_id = True, txid
            finally:
                self._save()
        return {"txId": txid, "failed": False}

    def broadcast_withdrawal(self, body) -> dict:
        """`POST /v3/offchain/withdrawal/broadcast`: checked and accepted like a broadcast."""
        body = body_object(body)
        symbol = check_symbol(body.get("currency"))
        text_field(body, "withdrawalId", "body")
        signature_id = text_field(body, "signatureId", "body")
        result = self.broadcast(get_chain(symbol, False).api_name, body.get("txData"), signature_id)
        return {"txId": result["txId"], "completed": True}

    # --- for tests and `GET /v3/sandbox/...` ---

    def error_report(self) -> dict:
        with self.lock:
            return {"batches": copy.deepcopy(self.error_batches)}

    def broadcast_report(self) -> dict:
        with self.lock:
            return {"accepted": copy.deepcopy(self.broadcasts), "attempts": dict(self.broadcast_attempts)}
