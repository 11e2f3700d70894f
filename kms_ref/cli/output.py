"""What the command line prints: results on stdout, errors as one JSON line on stderr.

Results are JSON indented by two spaces (what `JSON.stringify(x, null, 2)` prints, as
tatum-kms), except `Lines` (one compact JSON object per line, for
`generatemanagedprivatekeybatch`) and `Text` (plain text, for `checkconfig`). An error is the
one line `{"error": "..."}`.
"""

from __future__ import annotations

import json
import sys


class Lines(list):
    """Output printed as one compact JSON object per line (generatemanagedprivatekeybatch)."""


class Text(str):
    """Output printed as plain text (checkconfig)."""


def emit(result) -> None:
    if result is None:
        return
    if isinstance(result, Text):
        print(result)
    elif isinstance(result, Lines):
        for item in result:
            print(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False))


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(json.dumps({"error": message}, ensure_ascii=False) + "\n")
    sys.stderr.flush()
    return code
