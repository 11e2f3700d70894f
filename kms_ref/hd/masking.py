"""Does a piece of user input look like a secret? One decision for every message that repeats
what a user typed (SPEC §3: secrets never in argv, logs or error output; issue 13 "name the
unknown option as typed", issue 10 §2 "never echo a secret typed into the wrong slot").

An error is most useful when it names what was typed (`unknown option -p`), and most harmful
when what was typed is a key pasted into the wrong place (`unsupported chain 'L1aW4aub…'` ends
up in a terminal's scroll-back, a CI log, a bug report). Both hold when every message passes
user input through `shown`: it quotes the text, unless the text has the shape of a secret —

- a run of 64 or more hex digits (a raw private key, a seed);
- a run of 50 or more Base58 characters (a WIF is 51 or 52, an extended private key 111);
- two or more BIP39 English words in a row (part of a mnemonic).

A shape test errs on the side of hiding: a long Base58 address or two ordinary English words
that happen to be in the BIP39 list are hidden too, which costs a less specific message, never
a leak. The hidden form says how long the text was, nothing of its characters.
"""

from __future__ import annotations

import re

_HEX_RUN = re.compile(r"[0-9a-fA-F]{64,}")
_BASE58_RUN = re.compile(r"[1-9A-HJ-NP-Za-km-z]{50,}")
_WORD = re.compile(r"[A-Za-z]+")
MAX_SHOWN = 60   # longer input is cut, with "...", so one message stays one line


def looks_like_secret(text) -> bool:
    """True when `text` could be (or contain) a private key, an extended private key, a seed or
    part of a mnemonic — by its shape, without trying to decode it."""
    if not isinstance(text, str):
        return False
    if _HEX_RUN.search(text) or _BASE58_RUN.search(text):
        return True
    from kms_ref.hd.bip39 import wordlist   # on first use: most command lines never need it

    words = set(wordlist())
    run = 0
    for token in re.split(r"[\s,;]+", text.strip()):
        run = run + 1 if token.lower() in words and _WORD.fullmatch(token) else 0
        if run >= 2:
            return True
    return False


def shown(text, quote: bool = True) -> str:
    """`text` for an error message — quoted as repr, or as typed with quote=False (an option's
    name) — or a placeholder when it looks like a secret."""
    if not isinstance(text, str):
        return "<%s>" % type(text).__name__
    if looks_like_secret(text):
        return "<%d characters, not shown: it may be a secret>" % len(text)
    if len(text) > MAX_SHOWN:
        text = text[:MAX_SHOWN] + "..."
    return repr(text) if quote else text
