"""Coin amounts as the Tatum v3 API writes them, and satoshis (SPEC §6).

Tatum's request bodies give amounts in coins — `"value": 0.00001` or `"0.00001"` — and its
balance answers are decimal strings (`{"incoming": "0.001", "outgoing": "0"}`). One coin is
10^8 satoshis on all four chains (BTC, LTC, DOGE, BCH). Conversions go through
`decimal.Decimal`, never through binary floating point, so "0.1" is exactly 10,000,000 sat; the
server parses JSON numbers straight into Decimal for the same reason.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

SATOSHIS_PER_COIN = 10 ** 8
MAX_SATOSHIS = 2 ** 53 - 1   # the largest amount bitcore's JSON can carry exactly (JavaScript numbers)


def coins_to_sat(value, what: str = "amount", allow_zero: bool = False) -> int:
    """An amount in coins (str, int or Decimal) as satoshis; ValueError unless it is a finite,
    positive (or zero, if allowed) decimal with at most 8 decimal places, below MAX_SATOSHIS."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError("%s must be a number of coins, as a string or a number" % what)
    try:
        coins = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise ValueError("%s %r is not a number" % (what, value)) from None
    if not coins.is_finite():
        raise ValueError("%s must be a finite number" % what)
    satoshis = coins * SATOSHIS_PER_COIN
    if satoshis != satoshis.to_integral_value():
        raise ValueError("%s %s has more than 8 decimal places (1 satoshi = 0.00000001)" % (what, value))
    satoshis = int(satoshis)
    if satoshis < 0 or (satoshis == 0 and not allow_zero):
        raise ValueError("%s must be %s, got %s" % (what, "zero or more" if allow_zero else "positive", value))
    if satoshis > MAX_SATOSHIS:
        raise ValueError("%s %s is too large" % (what, value))
    return satoshis


def sat_to_coins(satoshis: int) -> str:
    """Satoshis as a plain decimal string of coins: 100000 -> "0.001", 0 -> "0", 10^11 -> "1000"."""
    if isinstance(satoshis, bool) or not isinstance(satoshis, int):
        raise ValueError("satoshis must be an integer")
    coins = (Decimal(satoshis) / SATOSHIS_PER_COIN).normalize()
    return format(coins, "f")
