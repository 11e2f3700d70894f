"""The amount rules every node enforces (Bitcoin Core `CheckTransaction`, `Consensus::CheckTxInputs`).

A node refuses a transaction with a negative output ("bad-txns-vout-negative"), an output above
MAX_MONEY ("bad-txns-vout-toolarge"), outputs that add up to more than MAX_MONEY
("bad-txns-txouttotal-toolarge"), or inputs outside that range ("bad-txns-inputvalues-outofrange").
kms_ref refuses the same before it signs: a signature over an amount no network accepts is at
best useless and at worst a signature over something else than the user meant — the BCH form
carries raw int64 output values, and a negative output there once passed the "outputs above
inputs" check by making the sum smaller.

MAX_MONEY is each chain's `amount.h` (in satoshis: 10^8 per coin on all four).
"""

from __future__ import annotations

from typing import Sequence

from kms_ref.tx.transaction import Transaction

COIN = 10 ** 8
MAX_MONEY = {
    "BTC": 21_000_000 * COIN,          # Bitcoin Core amount.h
    "BCH": 21_000_000 * COIN,          # Bitcoin Cash Node amount.h
    "LTC": 84_000_000 * COIN,          # Litecoin Core amount.h
    "DOGE": 10_000_000_000 * COIN,     # Dogecoin Core amount.h ("10,000,000,000 * COIN")
}


def check_money_range(tx: Transaction, input_amounts: Sequence[int], chain: str) -> None:
    """ValueError, in a node's words, unless every output, the outputs' total, every input
    amount and the inputs' total lie in [0, MAX_MONEY] of `chain`."""
    max_money = MAX_MONEY[chain.upper()]
    total_out = 0
    for i, txout in enumerate(tx.outputs):
        if txout.value < 0:
            raise ValueError("output %d is negative (%d sat): no network accepts it "
                             "(bad-txns-vout-negative)" % (i, txout.value))
        if txout.value > max_money:
            raise ValueError("output %d (%d sat) is above %s's MAX_MONEY of %d sat "
                             "(bad-txns-vout-toolarge)" % (i, txout.value, chain, max_money))
        total_out += txout.value
        if total_out > max_money:
            raise ValueError("the outputs add up to more than %s's MAX_MONEY of %d sat "
                             "(bad-txns-txouttotal-toolarge)" % (chain, max_money))
    total_in = 0
    for i, amount in enumerate(input_amounts):
        total_in += amount
        if not 0 <= amount <= max_money or total_in > max_money:
            raise ValueError("input %d's amount (%d sat) or the inputs' total is outside [0, %d] "
                             "(bad-txns-inputvalues-outofrange)" % (i, amount, max_money))
