"""Reading passwords, mnemonics and private keys: a hidden prompt, never a command-line flag.

At a terminal the prompt is `getpass` (no echo). When standard input is not a terminal — a
script piping answers in — each secret is one line of standard input, in the order the command
asks for them (tatum-kms's order: `storemanagedprivatekey` asks for the key, then the password;
`storemanagedwallet` the password, then the mnemonic). Prompts go to the terminal or to stderr,
so standard output stays pure JSON. Reading a secret turns core dumps off (`core_dumps`).
"""

from __future__ import annotations

import getpass
import os
import sys

from kms_ref.passwords.core_dumps import forbid_core_dumps

PASSWORD_PROMPT = "Enter password to access wallet store (or set env var TATUM_KMS_PASSWORD):"
PASSWORD_ENV = "TATUM_KMS_PASSWORD"


class InputError(ValueError):
    pass


def ask_secret(prompt: str) -> str:
    """One secret: hidden at a terminal, else the next line of stdin (without its newline).

    The process holds a secret from here on, so core dumps are turned off first (`core_dumps`).
    Input that is not UTF-8 is refused without its bytes: the codec's message would quote them."""
    forbid_core_dumps()
    try:
        if sys.stdin is not None and sys.stdin.isatty():
            try:
                secret = getpass.getpass(prompt + " ")
            except (EOFError, KeyboardInterrupt):
                raise InputError("no input given for: %s" % prompt.rstrip(":")) from None
        else:
            sys.stderr.write(prompt + "\n")
            sys.stderr.flush()
            line = sys.stdin.readline() if sys.stdin is not None else ""
            if not line:
                raise InputError("no input given for: %s (standard input ended)" % prompt.rstrip(":"))
            secret = line.rstrip("\r\n")
        secret.encode("utf-8")   # surrogate escapes: bytes that were not UTF-8
    except UnicodeError:
        raise InputError("the input for %s is not valid UTF-8 text (its bytes are not shown)"
                         % prompt.rstrip(":")) from None
    return secret


def ask_password(confirm_new: bool = False) -> str:
    """The wallet password: TATUM_KMS_PASSWORD when set and non-empty (as tatum-kms), else a
    prompt. `confirm_new` asks twice at a terminal when the wallet file is about to be created —
    a typo there would lock the user out of a new wallet (tatum-kms does not ask)."""
    forbid_core_dumps()
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    password = ask_secret(PASSWORD_PROMPT)
    if not password:
        raise InputError("the password must not be empty")
    if confirm_new and sys.stdin is not None and sys.stdin.isatty():
        if ask_secret("Repeat the password for the new wallet file:") != password:
            raise InputError("the two passwords differ; nothing was stored")
    return password
