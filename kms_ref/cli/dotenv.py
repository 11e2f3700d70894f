"""A small `.env` reader, enough for tatum-kms's files (the rules of the `dotenv` npm package).

    # comment
    TATUM_API_KEY=abc123            → abc123
    export TATUM_API_URL="http://127.0.0.1:8080"   → the quoted text ("\\n" becomes a newline)
    TATUM_KMS_PASSWORD='p#ss'        → p#ss (single quotes: literal)
    NAME=value # trailing comment    → value

Like dotenv, `load` never overrides a variable that is already set in the environment: the real
environment wins over `./.env`, which wins over `--envFile` (or `~/.tatumrc/.env`).
"""

from __future__ import annotations

import os
import re

from kms_ref.store.atomic_file import open_regular

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$")


def parse(text: str) -> dict:
    """The variables of a .env file's text, in order. Lines that are not assignments are ignored."""
    values = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        name, raw = match.group(1), match.group(2).strip()
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'`":
            value = raw[1:-1]
            if raw[0] == '"':
                value = value.replace("\\n", "\n").replace("\\r", "\r")
        else:
            value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
        values[name] = value
    return values


def load(path: str, environ=None) -> bool:
    """Set the file's variables that are not set yet. False when the file does not exist."""
    environ = os.environ if environ is None else environ
    try:   # a FIFO at the path would block open() forever: only a regular file is read
        with open(open_regular(os.path.expanduser(path)), encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError("cannot read env file %s: %s" % (path, getattr(e, "strerror", None) or e)) from None
    for name, value in parse(text).items():
        environ.setdefault(name, value)
    return True
