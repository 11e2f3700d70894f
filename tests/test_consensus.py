"""What consensus refuses is never signed (issue 10 §4): negative outputs, outputs or totals above
the chain's MAX_MONEY, inputs out of range — on every chain, BCH's raw int64 outputs included."""

import pytest

from kms_ref.tx.consensus import MAX_MONEY, check_money_range
from kms_ref.tx.pending import sign_pending
from kms_ref.tx.transaction import Transaction, TxIn, TxOut, parse_hex
from tests.test_sign import BCH_CASE, BTC_CASE, _pending_with


def bch_pending_with_outputs(values):
    tx_hex, amounts = BCH_CASE["pending"]["serializedTransaction"].split(":")
    tx = parse_hex(tx_hex)
    assert len(tx.outputs) >= len(values)
    for txout, value in zip(tx.outputs, values):
        txout.value = value
    return dict(BCH_CASE["pending"], serializedTransaction=tx.serialize().hex() + ":" + amounts)


def test_bch_negative_output_is_not_signed():
    """The case that was signed: a negative output makes the outputs' sum smaller, so "outputs
    above inputs" passed."""
    tx_hex, _ = BCH_CASE["pending"]["serializedTransaction"].split(":")
    first = parse_hex(tx_hex).outputs[0].value
    with pytest.raises(ValueError, match="output 0 is negative .*bad-txns-vout-negative"):
        sign_pending(bch_pending_with_outputs([-first]), BCH_CASE["privateKeys"], True)
    assert sign_pending(BCH_CASE["pending"], BCH_CASE["privateKeys"], True) == BCH_CASE["signed"]


def test_bch_output_above_max_money():
    with pytest.raises(ValueError, match="bad-txns-vout-toolarge"):
        sign_pending(bch_pending_with_outputs([MAX_MONEY["BCH"] + 1]), BCH_CASE["privateKeys"], True)


def test_btc_outputs_above_max_money():
    """bitcore's JSON caps amounts at 2^53 - 1 satoshis, which is above BTC's 21 million coins."""
    too_large = _pending_with(BTC_CASE, lambda o: o["outputs"][0].update(satoshis=MAX_MONEY["BTC"] + 1))
    with pytest.raises(ValueError, match="bad-txns-vout-toolarge"):
        sign_pending(too_large, BTC_CASE["privateKeys"], True)

    def two_halves(o):
        o["outputs"][0]["satoshis"] = o["outputs"][1]["satoshis"] = MAX_MONEY["BTC"] // 2 + 1
    with pytest.raises(ValueError, match="bad-txns-txouttotal-toolarge"):
        sign_pending(_pending_with(BTC_CASE, two_halves), BTC_CASE["privateKeys"], True)
    huge_input = _pending_with(BTC_CASE, lambda o: o["inputs"][0]["output"].update(satoshis=MAX_MONEY["BTC"] + 1))
    with pytest.raises(ValueError, match="bad-txns-inputvalues-outofrange"):
        sign_pending(huge_input, BTC_CASE["privateKeys"], True)


@pytest.mark.parametrize("chain,coins,ok", [
    ("BTC", 21_000_000, True), ("BTC", 21_000_001, False), ("BCH", 21_000_001, False),
    ("LTC", 84_000_000, True), ("LTC", 84_000_001, False),
    ("DOGE", 10_000_000_000, True), ("DOGE", 10_000_000_001, False),
])
def test_max_money_per_chain(chain, coins, ok):
    tx = Transaction(2, [TxIn(b"\0" * 32, 0)], [TxOut(coins * 10 ** 8, b"\x51")])
    if ok:
        check_money_range(tx, [coins * 10 ** 8], chain)
    else:
        with pytest.raises(ValueError, match="MAX_MONEY"):
            check_money_range(tx, [0], chain)


def test_bch_amounts_list_is_parsed_with_a_depth_bound():
    tx_hex, _ = BCH_CASE["pending"]["serializedTransaction"].split(":")
    pending = dict(BCH_CASE["pending"], serializedTransaction=tx_hex + ":" + "[" * 100000)
    with pytest.raises(ValueError, match="BCH input amounts is nested deeper than 32 levels"):
        sign_pending(pending, BCH_CASE["privateKeys"], True)
