"""The sandbox (SPEC §6) over real HTTP on 127.0.0.1: faucet, KMS transactions, signing, broadcast.

Every flow talks to a sandbox started on a random port with urllib, signs pending transactions
in-process with kms_ref.tx.pending.sign_pending, and checks the ledger's answers after each step.
"""

import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from decimal import Decimal
from functools import lru_cache

import pytest

from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.encoding.wif import wif_encode
from kms_ref.hd.addresses import address_from_pubkey
from kms_ref.hd.chains import P2PKH, SYMBOLS, get_chain
from kms_ref.hd.tatum import wallet_node
from kms_ref.sandbox.amounts import MAX_SATOSHIS, coins_to_sat, sat_to_coins
from kms_ref.sandbox.server import start_sandbox
from kms_ref.sandbox.unsigned import TX_VERSION, bch_serialized, bitcore_serialized
from kms_ref.tx.bitcore_json import parse_bch_pending, parse_bitcore_json
from kms_ref.tx.pending import sign_pending
from kms_ref.tx.transaction import Transaction, TxIn, TxOut, parse_hex
from tests.cli_helpers import REPO, kms_command
from tests.vectors import load

MNEMONIC = ("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
            "abandon abandon abandon art")
API_KEY = "sandbox-test-key"
SAT = 10 ** 8

# faucet (twice), payment, fee, and a second payment from the change (fee = the rest)
AMOUNTS = {
    "BTC": ("0.001", "0.0005", "0.0004", "0.00001", "0.0008"),
    "LTC": ("0.01", "0.02", "0.015", "0.0001", "0.01"),
    "DOGE": ("10", "5", "2", "1", "11"),
    "BCH": ("0.003", "0.001", "0.0025", "0.00002", "0.0012"),
}
ROWS = [pytest.param(symbol, testnet, id="%s-%s" % (symbol, "test" if testnet else "main"))
        for symbol in SYMBOLS for testnet in (True, False)]


class Key:
    """Key i of the test mnemonic's wallet on a chain: WIF, address, a signature ID."""

    def __init__(self, chain, index):
        node = _wallet(chain.symbol, chain.testnet).ckd_priv(index)
        self.wif = wif_encode(node.seckey, chain.wif_prefix, True)
        self.pubkey = pubkey_from_seckey(node.seckey, True)
        self.address = address_from_pubkey(chain, self.pubkey)
        self.signature_id = "sig-%s-%s-%d" % (chain.symbol, chain.network, index)


@lru_cache(maxsize=None)
def _wallet(symbol, testnet):
    return wallet_node(get_chain(symbol, testnet), MNEMONIC)


def sat(coins) -> int:
    return int(Decimal(str(coins)) * SAT)


class Api:
    """A tiny Tatum v3 client over urllib: call() -> (status, decoded JSON or None)."""

    def __init__(self, url, key=API_KEY):
        self.url, self.key = url, key

    def call(self, method, path, body=None, key=None, raw=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"}
        key = self.key if key is None else key
        if key:
            headers["x-api-key"] = key
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        return status, (json.loads(text) if text else None)

    def ok(self, method, path, body=None):
        status, answer = self.call(method, path, body)
        assert status == 200, (status, answer)
        return answer

    def refused(self, method, path, body, status):
        got, answer = self.call(method, path, body)
        assert got == status, (got, answer)
        assert answer["statusCode"] == status and answer["errorCode"] and answer["message"], answer
        assert "Traceback" not in answer["message"]
        return answer["message"]

    # the walkthrough's calls
    def faucet(self, address, amount, chain=None):
        body = {"address": address, "amount": amount}
        if chain:
            body["chain"] = chain
        return self.ok("POST", "/v3/sandbox/faucet", body)

    def balance(self, chain, address):
        return self.ok("GET", "/v3/%s/address/balance/%s" % (chain.api_name, address))

    def pending(self, chain, signature_ids):
        return self.ok("POST", "/v3/kms/pending/%s" % chain.symbol, {"signatureIds": signature_ids})

    def broadcast(self, chain, tx_hex, signature_id=None):
        return self.call("POST", "/v3/%s/broadcast" % chain.api_name, {"txData": tx_hex, "signatureId": signature_id})


@pytest.fixture
def sandbox():
    handle = start_sandbox(api_key=API_KEY)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def api(sandbox):
    return Api(sandbox.url)


def queue_payment(api, chain, sender, to_address, value, fee=None, change=None):
    """Step 7: POST /v3/{chain}/transaction from the sender's address; the pending tx."""
    body = {"fromAddress": [{"address": sender.address, "signatureId": sender.signature_id}],
            "to": [{"address": to_address, "value": value}]}
    if fee is not None:
        body.update(fee=fee, changeAddress=change)
    pending_id = api.ok("POST", "/v3/%s/transaction" % chain.api_name, body)["signatureId"]
    return api.ok("GET", "/v3/kms/%s" % pending_id)


def sign(pending, key, testnet):
    """What the daemon does: the key of each signature ID in `hashes`, in order (BCH is positional)."""
    assert set(pending["hashes"]) == {key.signature_id}
    return sign_pending(pending, [key.wif for _ in pending["hashes"]], testnet)


def funded(api, chain, amount="0.01"):
    """A chain's key 0 funded once from the faucet, and key 1."""
    sender, receiver = Key(chain, 0), Key(chain, 1)
    api.faucet(sender.address, amount, chain.symbol)
    return sender, receiver


# --- the whole flow, every chain and network ---

@pytest.mark.parametrize("symbol,testnet", ROWS)
def test_walkthrough(api, sandbox, symbol, testnet):
    chain = get_chain(symbol, testnet)
    faucet1, faucet2, pay, fee, pay2 = AMOUNTS[symbol]
    sender, receiver = Key(chain, 0), Key(chain, 1)

    # step 6: fund the sender twice
    funding = [api.faucet(sender.address, faucet1, symbol), api.faucet(sender.address, faucet2, symbol)]
    assert all(f["index"] == 0 for f in funding) and funding[0]["txId"] != funding[1]["txId"]
    funded_sat = sat(faucet1) + sat(faucet2)
    assert api.balance(chain, sender.address) == {"incoming": sat_to_coins(funded_sat), "outgoing": "0"}

    # step 7: a payment with change; the value as a JSON number, the fee as a string
    pending = queue_payment(api, chain, sender, receiver.address, float(pay), fee, sender.address)
    change = funded_sat - sat(pay) - sat(fee)
    assert len(pending["id"]) == 24 and int(pending["id"], 16) >= 0
    assert pending["chain"] == symbol and pending["hashes"] == [sender.signature_id] * 2
    assert pending["signatures"] == [] and pending["index"] is None and "txId" not in pending
    assert pending["withdrawalId"] is None and pending["withdrawalResponses"] is None
    if symbol == "BCH":
        unsigned, amounts = parse_bch_pending(pending["serializedTransaction"])
        assert amounts == [sat(faucet1), sat(faucet2)]
    else:
        parsed = parse_bitcore_json(pending["serializedTransaction"])
        unsigned = parsed.tx
        assert parsed.change_index == 1 and parsed.fee == sat(fee)
        assert parsed.change_script == unsigned.outputs[1].script_pubkey
    assert unsigned.version == TX_VERSION[symbol]
    assert [o.value for o in unsigned.outputs] == [sat(pay), change]
    assert [i.prev_txid for i in unsigned.inputs] == [f["txId"] for f in funding]

    # step 5's daemon, in-process: fetch, sign, broadcast
    assert [p["id"] for p in api.pending(chain, [sender.signature_id, "other"])] == [pending["id"]]
    signed = sign(pending, sender, testnet)
    status, answer = api.broadcast(chain, signed, pending["id"])
    assert status == 200 and answer == {"txId": parse_hex(signed).txid(), "failed": False}
    txid = answer["txId"]

    # step 8: the pending tx carries the txId and is no longer listed
    assert api.ok("GET", "/v3/kms/%s" % pending["id"])["txId"] == txid
    assert api.pending(chain, [sender.signature_id]) == []
    assert api.balance(chain, sender.address) == {"incoming": sat_to_coins(funded_sat + change),
                                                  "outgoing": sat_to_coins(funded_sat)}
    assert api.balance(chain, receiver.address) == {"incoming": pay, "outgoing": "0"}
    assert api.ok("GET", "/v3/%s/transaction/%s" % (chain.api_name, txid))["hex"] == signed

    # the change is spendable: fromUTXO, no fee given (fee = inputs - outputs)
    assert api.ok("GET", "/v3/%s/utxo/%s/1" % (chain.api_name, txid)) == {
        "txHash": txid, "index": 1, "value": sat_to_coins(change), "address": sender.address,
        "script": unsigned.outputs[1].script_pubkey.hex()}
    body = {"fromUTXO": [{"txHash": txid, "index": 1, "signatureId": sender.signature_id}],
            "to": [{"address": receiver.address, "value": pay2}]}
    second = api.ok("GET", "/v3/kms/%s" % api.ok("POST", "/v3/%s/transaction" % chain.api_name, body)["signatureId"])
    status, answer = api.broadcast(chain, sign(second, sender, testnet), second["id"])
    assert status == 200, answer
    assert api.call("GET", "/v3/%s/utxo/%s/1" % (chain.api_name, txid))[0] == 404
    assert api.balance(chain, receiver.address)["incoming"] == sat_to_coins(sat(pay) + sat(pay2))
    assert sandbox.ledger.broadcast_report() == {
        "accepted": {pending["id"]: [txid], second["id"]: [answer["txId"]]},
        "attempts": {pending["id"]: 1, second["id"]: 1}}


# --- refusals at broadcast ---

def _flip_signature_byte(signed_hex):
    tx = parse_hex(signed_hex)
    txin = tx.inputs[0]
    if txin.witness:
        sig = bytearray(txin.witness[0])
        sig[10] ^= 0x01
        txin.witness[0] = bytes(sig)
    else:
        script_sig = bytearray(txin.script_sig)
        script_sig[10] ^= 0x01          # inside the signature's r (after the push and DER headers)
        txin.script_sig = bytes(script_sig)
    return tx.serialize().hex()


@pytest.mark.parametrize("symbol,testnet", [("BTC", True), ("LTC", True), ("DOGE", True), ("BCH", False)],
                         ids=["BTC-p2wpkh", "LTC-p2pkh", "DOGE-p2pkh", "BCH-schnorr"])
def test_bad_signature_is_403_and_spends_nothing(api, symbol, testnet):
    chain = get_chain(symbol, testnet)
    sender, receiver = funded(api, chain, "10")
    fee = "1" if symbol == "DOGE" else "0.0001"   # DOGE's fee floor; BCH refuses > 2,500 sat/byte
    pending = queue_payment(api, chain, sender, receiver.address, "2", fee, sender.address)
    signed = sign(pending, sender, testnet)
    status, answer = api.broadcast(chain, _flip_signature_byte(signed), pending["id"])
    assert status == 403 and answer["errorCode"] == "tx.signature.invalid", answer
    assert "input 0" in answer["message"] and "signature" in answer["message"].lower()
    assert api.balance(chain, sender.address)["outgoing"] == "0"
    assert [p["id"] for p in api.pending(chain, [sender.signature_id])] == [pending["id"]]
    assert "txId" not in api.ok("GET", "/v3/kms/%s" % pending["id"])
    assert api.broadcast(chain, signed, pending["id"])[0] == 200      # the good one still goes through


def test_double_spend_and_rebroadcast(api, sandbox):
    chain = get_chain("BTC", True)
    sender, receiver = funded(api, chain)
    first = queue_payment(api, chain, sender, receiver.address, "0.004")
    second = queue_payment(api, chain, sender, receiver.address, "0.005")    # the same UTXO
    first_hex = sign(first, sender, True)
    second_hex = sign(second, sender, True)
    assert api.broadcast(chain, first_hex, first["id"])[0] == 200
    status, answer = api.broadcast(chain, first_hex, first["id"])
    assert status == 409 and "already broadcast" in answer["message"], answer
    status, answer = api.broadcast(chain, second_hex, second["id"])
    assert status == 409 and "double spend" in answer["message"], answer
    report = sandbox.ledger.broadcast_report()
    assert report["accepted"] == {first["id"]: [parse_hex(first_hex).txid()]}
    assert report["attempts"] == {first["id"]: 2, second["id"]: 1}


def test_unknown_input_outputs_above_inputs_and_mismatch(api):
    chain = get_chain("BTC", True)
    sender, receiver = funded(api, chain)
    stranger = Transaction(2, [TxIn(os.urandom(32), 0)], [TxOut(1000, bytes.fromhex("0014" + "11" * 20))])
    status, answer = api.broadcast(chain, stranger.serialize().hex())
    assert status == 400 and "unknown input" in answer["message"], answer

    pending = queue_payment(api, chain, sender, receiver.address, "0.004")
    tx = parse_hex(sign(pending, sender, True))
    tx.outputs[0].value = sat("0.02")
    status, answer = api.broadcast(chain, tx.serialize().hex(), pending["id"])
    assert status == 400 and "above inputs" in answer["message"], answer

    other = queue_payment(api, chain, sender, receiver.address, "0.003")
    status, answer = api.broadcast(chain, sign(other, sender, True), pending["id"])
    assert status == 400 and answer["errorCode"] == "tx.pending.mismatch", answer
    assert api.balance(chain, sender.address)["outgoing"] == "0"
    assert api.broadcast(chain, "zz")[0] == 400


def test_offchain_withdrawal_broadcast(api):
    chain = get_chain("LTC", True)
    sender, receiver = funded(api, chain)
    pending = queue_payment(api, chain, sender, receiver.address, "0.005")
    body = {"currency": "LTC", "signatureId": pending["id"], "withdrawalId": "w-1",
            "txData": sign(pending, sender, True)}
    answer = api.ok("POST", "/v3/offchain/withdrawal/broadcast", body)
    assert answer == {"txId": parse_hex(body["txData"]).txid(), "completed": True}
    assert api.ok("GET", "/v3/kms/%s" % pending["id"])["txId"] == answer["txId"]


# --- refusals when building (step 7) ---

def test_doge_dust_is_refused_at_build_time(api):
    chain = get_chain("DOGE", True)
    sender, receiver = funded(api, chain, "10")
    body = {"fromAddress": [{"address": sender.address, "signatureId": sender.signature_id}],
            "to": [{"address": receiver.address, "value": "0.5"}], "fee": "1", "changeAddress": sender.address}
    message = api.refused("POST", "/v3/dogecoin/transaction", body, 400)
    assert message.startswith("Dust amount detected in one output - For more information")
    body.pop("fee"), body.pop("changeAddress")
    body["to"][0]["value"] = "2"                  # 8 DOGE fee, no change address
    assert api.refused("POST", "/v3/dogecoin/transaction", body, 400).startswith("Change address is missing")
    assert api.pending(chain, [sender.signature_id]) == []


def test_build_refusals(api):
    chain = get_chain("BTC", True)
    sender, receiver = funded(api, chain, "0.01")
    path = "/v3/bitcoin/transaction"
    source = [{"address": sender.address, "signatureId": sender.signature_id}]
    to = [{"address": receiver.address, "value": "0.005"}]
    cases = [
        ({"fromAddress": source, "to": to, "fee": "0.001"}, "go together"),
        ({"fromAddress": source, "to": to, "fee": "0.006", "changeAddress": sender.address}, "do not cover"),
        ({"fromAddress": source, "to": [{"address": receiver.address, "value": "0.02"}]}, "do not cover"),
        ({"fromAddress": source, "to": [{"address": receiver.address, "value": "0.000000001"}]}, "8 decimal"),
        ({"fromAddress": source, "to": [{"address": receiver.address, "value": "-1"}]}, "positive"),
        ({"fromAddress": source, "to": [{"address": Key(get_chain("BTC", False), 1).address, "value": 1}]}, "mixes"),
        ({"fromAddress": source, "to": [{"address": "tb1qnotanaddress", "value": 1}]}, "not a BTC address"),
        ({"fromAddress": [{"address": receiver.address, "signatureId": "x"}], "to": to}, "no unspent outputs"),
        ({"fromAddress": source + source, "to": to}, "listed twice"),
        ({"fromAddress": [{"address": sender.address}], "to": to}, "signatureId"),
        ({"fromUTXO": [{"txHash": "00" * 32, "index": 0, "signatureId": "x"}], "to": to}, "unknown UTXO"),
        ({"fromAddress": source, "fromUTXO": [], "to": to}, "exactly one"),
        ({"fromAddress": source}, "'to'"),
        ([1, 2], "JSON object"),
    ]
    for body, words in cases:
        assert words in api.refused("POST", path, body, 400), body
    assert api.refused("POST", "/v3/ethereum/transaction", {}, 404)


# --- faucet, amounts, auth, malformed requests ---

def test_faucet_needs_a_chain_when_the_address_is_shared(api):
    ltc = get_chain("LTC", True)
    shared = Key(ltc, 0).address                                   # P2PKH 0x6f: BTC, LTC, BCH testnet
    assert address_from_pubkey(get_chain("BTC", True), Key(ltc, 0).pubkey, P2PKH) == shared
    message = api.refused("POST", "/v3/sandbox/faucet", {"address": shared, "amount": "1"}, 400)
    assert "chain" in message and "BTC testnet" in message and "LTC testnet" in message
    api.faucet(shared, "1", "LTC")
    assert api.balance(ltc, shared)["incoming"] == "1"
    assert api.balance(get_chain("BTC", True), shared)["incoming"] == "0"
    for amount in ("0", "-0.1", "1.000000001", "abc", True, None, "NaN"):
        api.refused("POST", "/v3/sandbox/faucet", {"address": shared, "amount": amount, "chain": "LTC"}, 400)
    api.refused("POST", "/v3/sandbox/faucet", {"address": "nope", "amount": "1"}, 400)
    api.refused("POST", "/v3/sandbox/faucet", {"address": shared, "amount": "1", "chain": "ETH"}, 400)


def test_api_key(sandbox):
    api = Api(sandbox.url)
    path = "/v3/kms/pending/BTC"
    for key in ("wrong", ""):                                # "" sends no x-api-key header
        status, answer = api.call("POST", path, {"signatureIds": []}, key=key)
        assert status == 401 and list(answer) == ["statusCode", "errorCode", "message"], answer
        assert answer["statusCode"] == 401
    assert api.call("POST", path, {"signatureIds": []})[0] == 200
    with start_sandbox() as open_sandbox:                    # no key configured: any non-empty key
        assert Api(open_sandbox.url, key="anything").call("POST", path, {"signatureIds": []})[0] == 200
        assert Api(open_sandbox.url).call("POST", path, {"signatureIds": []}, key="")[0] == 401


def test_malformed_requests(api):
    status, answer = api.call("POST", "/v3/sandbox/faucet", raw=b"{not json")
    assert status == 400 and answer["errorCode"] == "body.malformed", answer
    assert api.call("POST", "/v3/sandbox/faucet", raw=b"\xff\xfe")[0] == 400
    assert api.call("GET", "/v3/nothing/here")[0] == 404
    assert api.call("GET", "/")[0] == 404
    assert api.call("DELETE", "/v3/sandbox/faucet")[0] == 405
    assert api.call("GET", "/v3/bitcoin/utxo/%s/x" % ("00" * 32))[0] == 400
    assert api.call("GET", "/v3/bitcoin/utxo/%s/0" % ("00" * 32))[0] == 404
    assert api.call("GET", "/v3/bitcoin/transaction/%s" % ("00" * 32))[0] == 404
    api.refused("POST", "/v3/kms/pending/BTC", {"signatureIds": "a"}, 400)
    api.refused("POST", "/v3/kms/pending/XRP", {"signatureIds": []}, 400)


# --- the KMS endpoints ---

def test_kms_endpoints(api, sandbox):
    chain = get_chain("BCH", True)
    sender, receiver = funded(api, chain)
    pending = queue_payment(api, chain, sender, receiver.address, "0.001")
    by_get = api.ok("GET", "/v3/kms/pending/BCH?signatures=nobody,%s" % sender.signature_id)
    assert by_get == [pending] == api.pending(chain, [sender.signature_id])
    assert api.ok("GET", "/v3/kms/pending/BCH?signatures=nobody") == []
    assert api.pending(get_chain("BTC", True), [sender.signature_id]) == []

    assert api.call("PUT", "/v3/kms/%s/%s" % (pending["id"], "ab" * 32)) == (204, None)
    assert api.ok("GET", "/v3/kms/%s" % pending["id"])["txId"] == "ab" * 32
    assert api.pending(chain, [sender.signature_id]) == []
    assert api.call("DELETE", "/v3/kms/%s?revert=true" % pending["id"]) == (204, None)
    for method, path in (("GET", "/v3/kms/%s"), ("DELETE", "/v3/kms/%s"), ("PUT", "/v3/kms/%s/00")):
        assert api.call(method, path % pending["id"])[0] == 404

    # a mnemonic wallet's key index travels in `signatures`
    body = {"fromAddress": [{"address": sender.address, "signatureId": "mnemonic-id", "index": 0}],
            "to": [{"address": receiver.address, "value": "0.001"}]}
    indexed = api.ok("GET", "/v3/kms/" + api.ok("POST", "/v3/bcash/transaction", body)["signatureId"])
    assert indexed["signatures"] == [{"id": "mnemonic-id", "index": 0}] and indexed["hashes"] == []
    assert api.pending(chain, ["mnemonic-id"]) == [indexed]

    batch = {"errors": [{"signatureId": indexed["id"], "error": "no key"}]}
    assert api.call("POST", "/v3/tatum/kms/batch", batch) == (204, None)
    assert api.ok("GET", "/v3/sandbox/errors") == {"batches": [batch["errors"]]}
    assert sandbox.ledger.error_batches == [batch["errors"]]
    api.refused("POST", "/v3/tatum/kms/batch", {"errors": "x"}, 400)


@pytest.mark.parametrize("symbol", ["BTC", "BCH"])
def test_a_mnemonic_wallets_address_spends_through_signatures(api, tmp_path, symbol):
    """fromAddress with a mnemonic wallet's signatureId and index: the pending transaction names it
    in `signatures` only (a mnemonic wallet in `hashes` would have no index), and the wallet's key
    at that index signs it. Beside a private-key source, BCH's positional keys (hashes, then
    signatures) still meet their inputs: the sandbox puts the inputs of `hashes` first."""
    from kms_ref.cli.wallet_commands import mnemonic_entry
    from kms_ref.daemon.signer import sign_with_wallet
    from kms_ref.store import WalletStore

    chain = get_chain(symbol, True)
    path = str(tmp_path / "wallet.dat")
    with WalletStore(path).transaction("pw", scrypt_params=(2 ** 10, 8, 1)) as wallet:
        mnemonic_id = wallet.add(mnemonic_entry(chain, MNEMONIC))
        sender = Key(chain, 0)
        key_id = wallet.add({"privateKey": sender.wif, "chain": symbol, "testnet": True})
    indexed, receiver = Key(chain, 3), Key(chain, 4)
    for address in (indexed.address, indexed.address, sender.address):   # two inputs, then one
        api.faucet(address, "0.002", symbol)
    body = {"fromAddress": [{"address": indexed.address, "signatureId": mnemonic_id, "index": 3},
                            {"address": sender.address, "signatureId": key_id}],
            "to": [{"address": receiver.address, "value": "0.005"}]}
    pending = api.ok("GET", "/v3/kms/" + api.ok("POST", "/v3/%s/transaction" % chain.api_name, body)["signatureId"])
    assert pending["hashes"] == [key_id]
    assert pending["signatures"] == [{"id": mnemonic_id, "index": 3}] * 2
    with WalletStore(path).open("pw") as wallet:
        signed = sign_with_wallet(wallet, pending, True)
    status, answer = api.broadcast(chain, signed, pending["id"])
    assert status == 200 and answer["txId"] == parse_hex(signed).txid(), answer
    assert sat(api.balance(chain, receiver.address)["incoming"]) == sat("0.005")


def test_concurrent_requests(api, sandbox):
    """One lock around the ledger: parallel faucet calls all land, each with its own txid."""
    chain = get_chain("BTC", True)
    address = Key(chain, 0).address
    results = []
    threads = [threading.Thread(target=lambda: results.append(api.faucet(address, "0.00001"))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r["txId"] for r in results}) == 16 and sandbox.ledger.faucet_counter == 16
    assert api.balance(chain, address)["incoming"] == "0.00016"


# --- state file ---

def test_state_survives_restart(tmp_path):
    state = str(tmp_path / "sandbox.json")
    chain = get_chain("DOGE", True)
    with start_sandbox(api_key=API_KEY, state=state) as first:
        api = Api(first.url)
        sender, receiver = funded(api, chain, "10")
        pending = queue_payment(api, chain, sender, receiver.address, "3", "1", sender.address)
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    assert [name for name in os.listdir(tmp_path)] == ["sandbox.json"]

    with start_sandbox(api_key=API_KEY, state=state) as second:
        api = Api(second.url)
        assert api.balance(chain, sender.address) == {"incoming": "10", "outgoing": "0"}
        assert api.pending(chain, [sender.signature_id]) == [pending]
        status, answer = api.broadcast(chain, sign(pending, sender, True), pending["id"])
        assert status == 200, answer
        api.faucet(sender.address, "1", "DOGE")

    with start_sandbox(api_key=API_KEY, state=state) as third:
        api = Api(third.url)
        assert api.ok("GET", "/v3/kms/%s" % pending["id"])["txId"] == answer["txId"]
        assert api.balance(chain, sender.address) == {"incoming": "17", "outgoing": "10"}
        assert api.ok("GET", "/v3/dogecoin/utxo/%s/1" % answer["txId"])["value"] == "6"
        assert third.ledger.faucet_counter == 2
        assert api.broadcast(chain, sign(pending, sender, True), pending["id"])[0] == 409

    (tmp_path / "broken.json").write_text("{}")
    with pytest.raises(ValueError, match="broken.json"):
        start_sandbox(state=str(tmp_path / "broken.json"))


# --- the command: kms-ref sandbox, a real process ---

def test_sandbox_command(tmp_path):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TATUM_")}
    environ.update({"HOME": str(tmp_path), "PYTHONPATH": REPO})
    state = str(tmp_path / "state.json")
    proc = subprocess.Popen([*kms_command(), "sandbox", "--port", "0", "--apiKey", API_KEY,
                             "--state", state], cwd=str(tmp_path), env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = json.loads(proc.stdout.readline())
        assert line["listening"].startswith("http://127.0.0.1:") and line["state"] == state
        api = Api(line["listening"])
        chain = get_chain("BTC", False)
        api.faucet(Key(chain, 0).address, "0.5")
        assert api.balance(chain, Key(chain, 0).address)["incoming"] == "0.5"
        assert api.call("GET", "/v3/kms/pending/BTC?signatures=a", key="wrong")[0] == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "POST /v3/sandbox/faucet 200" in err
    assert os.path.exists(state)


# --- the unsigned transaction format, against Tatum's own pending transactions ---

TATUM_SIGN = load("tatum_sign.json")["vectors"]


@pytest.mark.parametrize("case", TATUM_SIGN, ids=["%02d-%s-%s" % (n, c["chain"], "test" if c["testnet"] else "main")
                                                  for n, c in enumerate(TATUM_SIGN)])
def test_serialized_transaction_format(case):
    """The builder writes exactly what Tatum hands the KMS, byte for byte."""
    serialized = case["pending"]["serializedTransaction"]
    if case["chain"] == "BCH":
        tx, amounts = parse_bch_pending(serialized)
        assert bch_serialized(tx, amounts) == serialized
    else:
        parsed = parse_bitcore_json(serialized)
        tx = parsed.tx
        assert bitcore_serialized(tx, parsed.prevouts, parsed.change_script, parsed.change_index,
                                  parsed.fee) == serialized
    assert tx.version == TX_VERSION[case["chain"]]


# --- amounts ---

def test_amounts_round_trip():
    seed = 20240531
    rng = random.Random(seed)
    for _ in range(2000):
        value = rng.choice([rng.randrange(1, 10 ** 4), rng.randrange(1, 10 ** 12), rng.randrange(1, MAX_SATOSHIS + 1)])
        coins = sat_to_coins(value)
        assert coins_to_sat(coins) == value, "seed %d: %d -> %s" % (seed, value, coins)
        assert coins_to_sat(Decimal(coins)) == value, "seed %d" % seed
        assert "e" not in coins.lower() and not coins.endswith("."), coins


def test_amounts_exact():
    assert coins_to_sat("0.1") == coins_to_sat(0.1) == coins_to_sat(Decimal("0.10000000")) == 10 ** 7
    assert coins_to_sat("0.000000010") == 1 and coins_to_sat(21) == 21 * SAT
    assert sat_to_coins(0) == "0" and sat_to_coins(100000) == "0.001" and sat_to_coins(10 ** 11) == "1000"
    assert coins_to_sat("0", allow_zero=True) == 0
    for bad in ("0", "-1", "1e-9", "inf", "", "1,5", True, [1], str(MAX_SATOSHIS)):
        with pytest.raises(ValueError):
            coins_to_sat(bad)
