"""What an error message or a log line may repeat of what the user typed (issue 10 §2).

A secret typed into the wrong slot — a WIF given as the chain, a mnemonic as the command, a
private key as `sign`'s file name — must not come back in an error message: those land in
terminals, CI logs and bug reports. `shown(value)` is the one place that decides: it returns the
value quoted as `repr` would, unless the text could be a secret, and then a masked form that
says only how long it was — not even its first characters (two letters of a BIP39 word narrow
it to a few dozen words, two hex digits are 8 bits of a key):

    shown("ETH")                   → 'ETH'
    shown("L1aW4aubDFB7yfr…")      → <52 characters, hidden: it may be a secret>

It counts as a possible secret when it holds
- a run of 50 or more Base58 characters (a WIF is 51–52, an extended private key 111);
- a run of 64 or more hex digits (a raw 32-byte private key);
- a word of the BIP39 English list standing alone, give or take punctuation around it ("--abandon";
  `kms-ref abandon ability …` would otherwise name the first word of a mnemonic, 11 bits of it,
  as the command), or two such words next to each other whatever joins them ("a-ability-able"), or
- more than MAX_SHOWN characters (nothing that long helps a message).

It lives in `hd`, the lowest layer that needs it (`chains.get_chain`'s "unsupported chain"), so
every layer above can call it; it needs the BIP39 word list, which is read only on first use.
"""

from __future__ import annotations

import re
import string

from kms_ref.hd import bip39

MAX_SHOWN = 100                   # characters; longer input is never repeated in full
_BASE58_RUN = re.compile(r"[1-9A-HJ-NP-Za-km-z]{50,}")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{64,}")
_SEPARATORS = re.compile(r"[\s,]+")      # between the words of a mnemonic, typed or listed
_LETTERS = re.compile(r"[A-Za-z]+")


def could_be_secret(text: str) -> bool:
    """Does `text` hold something shaped like a key or a mnemonic (see the module docstring)?"""
    if len(text) > MAX_SHOWN or _BASE58_RUN.search(text) or _HEX_RUN.search(text):
        return True
    words = set(bip39.wordlist())
    if any(token.strip(string.punctuation).lower() in words for token in _SEPARATORS.split(text)):
        return True
    letters = [run.lower() for run in _LETTERS.findall(text)]
    return any(a in words and b in words for a, b in zip(letters, letters[1:]))


def shown(value, quote: bool = True) -> str:
    """`value` as a message may repeat it: quoted like repr() (as it is, with quote=False, where
    a fixed log format wants the bare text), or masked if it could be a secret."""
    text = value if isinstance(value, str) else repr(value)
    if not could_be_secret(text):
        return repr(text) if isinstance(value, str) and quote else text
    return "<%d characters, hidden: it may be a secret>" % len(text)
