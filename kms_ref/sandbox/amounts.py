"""Coin amounts as the Tatum v3 API writes them, and satoshis (SPEC §6).

Tatum's request bodies give amounts in coins — `"value": 0.00001` or `"0.00001"` — and its
balance answers are decimal strings (`{"incoming": "0.001", "outgoing": "0"}`). One coin is
10^8 satoshis on all four chains (BTC, LTC, DOGE, BCH). Conversions go through
`decimal.Decimal`, never through binary floating point, so "0.1" is exactly 10,000,000 sat; the
server parses JSON numbers straight into Decimal for the same reason. Amounts are plain decimal
text of bounded length (`PLAIN_DECIMAL`), checked before any arithmetic.
"""

from __future__ import annotations

import re
from decimal import Decimal

SATOSHIS_PER_COIN = 10 ** 8
MAX_SATOSHIS = 2 ** 53 - 1   # the largest amount bitcore's JSON can carry exactly (JavaScript numbers)
# A plain decimal of bounded length, ASCII digits only: no exponent ("1e999991" once held the
# server for 25 s turning it into an int), no "_", no "inf"/"nan", no other script's digits.
PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")
MAX_EXPONENT = 20            # a JSON number's Decimal is refused beyond 10^±20 before any arithmetic


def coins_to_sat(value, what: str = "amount", allow_zero: bool = False) -> int:
    """An amount in coins (str, int or Decimal) as satoshis; ValueError unless it is a plain,
    positive (or zero, if allowed) decimal with at most 8 decimal places, below MAX_SATOSHIS.
    Every check before the arithmetic bounds the work by the text's length."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError("%s must be a number of coins, as a string or a number" % what)
    text = _plain_text(value, what)
    if not PLAIN_DECIMAL.fullmatch(text):
        raise ValueError('%s must be a plain decimal number of coins such as "0.001" (ASCII digits, '
                         'no exponent, at most 20 digits before and after the point)' % what)
    coins = Decimal(text)
    satoshis = coins * SATOSHIS_PER_COIN
    if satoshis != satoshis.to_integral_value():
        raise ValueError("%s %s has more than 8 decimal places (1 satoshi = 0.00000001)" % (what, text))
    satoshis = int(satoshis)
    if satoshis < 0 or (satoshis == 0 and not allow_zero):
        raise ValueError("%s must be %s, got %s" % (what, "zero or more" if allow_zero else "positive", text))
    if satoshis > MAX_SATOSHIS:
        raise ValueError("%s %s is too large" % (what, text))
    return satoshis


def _plain_text(value, what: str) -> str:
    """The amount as the text PLAIN_DECIMAL judges: a string as given, a number written out."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int):
        return str(value) if abs(value) < 10 ** 21 else "too long"
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if not number.is_finite():
        raise ValueError("%s must be a finite number" % what)
    if number and abs(number.adjusted()) > MAX_EXPONENT:
        raise ValueError("%s is out of range" % what)
    return format(number, "f")


def sat_to_coins(satoshis: int) -> str:
    """Satoshis as a plain decimal string of coins: 100000 -> "0.001", 0 -> "0", 10^11 -> "1000"."""
    if isinstance(satoshis, bool) or not isinstance(satoshis, int):
        raise ValueError("satoshis must be an integer")
    coins = (Decimal(satoshis) / SATOSHIS_PER_COIN).normalize()
    return format(coins, "f")
