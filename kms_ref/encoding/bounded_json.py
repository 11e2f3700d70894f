"""JSON from outside the process — a file, standard input, an HTTP body — parsed with a bound on nesting.

`json.loads` recurses once per level of nesting: "[[[[…" ten thousand deep raises
RecursionError, which no caller expects (the command line printed "internal error
(RecursionError)", the sandbox answered 500, the daemon's cycle died). Nothing kms_ref reads
nests deeper than a few levels — a pending transaction with its withdrawal responses is four —
so `parse_json` refuses anything deeper than MAX_DEPTH with a ValueError that says so, like any
other malformed input. The depth is measured after parsing, without recursion — and only when
the text has more than MAX_DEPTH opening brackets at all, since every level needs one (a count
in C, 50 times cheaper than the walk; the daemon parses a few thousand small records a cycle).
"""

from __future__ import annotations

import json

MAX_DEPTH = 32


def parse_json(text, what: str = "the JSON text", **options):
    """json.loads(text, **options), with ValueError("<what> is not valid JSON" / "is nested
    deeper than MAX_DEPTH levels") for every way it can fail."""
    try:
        value = json.loads(text, **options)
    except RecursionError:
        raise ValueError("%s is nested deeper than %d levels" % (what, MAX_DEPTH)) from None
    except ValueError:
        raise ValueError("%s is not valid JSON" % what) from None
    if _openings(text) > MAX_DEPTH and depth(value) > MAX_DEPTH:
        raise ValueError("%s is nested deeper than %d levels" % (what, MAX_DEPTH))
    return value


def _openings(text) -> int:
    """How many "[" and "{" the text holds (inside strings too: an upper bound of the depth)."""
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return bytes(text).count(b"[") + bytes(text).count(b"{")


def depth(value) -> int:
    """Levels of nesting: 0 for a scalar, 1 for [] or {"a": 1}, 2 for [[1]], … (iterative)."""
    deepest, level = 0, [(value, 0)]
    while level:
        item, above = level.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, above + 1)
            if above + 1 > MAX_DEPTH:      # deep enough to refuse: no need to look further
                return above + 1
            children = item.values() if isinstance(item, dict) else item
            level.extend((child, above + 1) for child in children)
    return deepest
