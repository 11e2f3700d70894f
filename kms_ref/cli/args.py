"""Command-line flags as tatum-kms (meow) takes them.

`--path=X` and `--path X` both work; every flag has its camelCase spelling (`--apiKey`,
`--externalUrl`, `--runOnce`, `--transactionIds`, `--envFile`) and the kebab/snake ones
(`--api-key`, `--api_key`); flags may come before or after the command; `--no-testnet` and
`--testnet=false` turn a boolean off; `--` ends the flags. A flag kms_ref does not know is an
error, and so is any attempt to pass a secret as a flag.
"""

from __future__ import annotations

import re

from kms_ref.hd.masking import shown

BOOL, STR, NUM = "bool", "str", "num"
NUMBER = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9})?|\.[0-9]{1,9}")   # ASCII: [0-9], not \d

FLAGS = {
    "path": STR, "testnet": BOOL, "chain": STR, "apiKey": STR, "envFile": STR,
    "period": NUM, "externalUrl": STR, "externalUrlMethod": STR, "runOnce": BOOL,
    "wallet": STR, "transactionIds": STR,               # daemon (--wallets is an alias)
    "explain": BOOL,                                     # sign
    "to": STR,                                           # convert
    "host": STR, "port": NUM, "state": STR,              # sandbox
    "help": BOOL, "version": BOOL,
    "aws": BOOL, "vgs": BOOL, "azure": BOOL,             # tatum-kms's cloud stores (refused)
}
ALIASES = {"wallets": "wallet", "h": "help"}
SECRET_FLAGS = {"mnemonic", "privateKey", "password", "pwd", "secret", "key", "wif", "seed"}


class ArgsError(ValueError):
    pass


def camel(name: str) -> str:
    """api-key, api_key, apiKey → apiKey."""
    return re.sub(r"[-_]+([a-zA-Z0-9])", lambda m: m.group(1).upper(), name)


def parse_args(argv: list) -> tuple:
    """(positional arguments, {flag: value}) from argv (without the program name)."""
    positional, flags = [], {}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            positional.extend(args)
            break
        if not arg.startswith("-") or arg == "-" or re.fullmatch(r"-\d+", arg):
            positional.append(arg)
            continue
        body = arg.lstrip("-")
        name, has_value, value = body.partition("=")
        negated = False
        key = ALIASES.get(camel(name), camel(name))
        if key not in FLAGS and key.startswith("no") and key[2:3].isupper():
            key, negated = key[2].lower() + key[3:], True
        if key in SECRET_FLAGS or key.lower() in {s.lower() for s in SECRET_FLAGS}:
            raise ArgsError("secrets are never taken as flags (they would stay in shell history); "
                            "kms-ref asks for them at a hidden prompt")
        kind = FLAGS.get(key)
        if kind is None:
            raise ArgsError("unknown option %s (see kms-ref --help)" % shown(arg.partition("=")[0]))
        if kind == BOOL:
            if negated:
                flags[key] = False
            elif has_value:
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ArgsError("--%s takes true or false" % name)
                flags[key] = value.lower() in ("true", "1")
            else:
                flags[key] = True
            continue
        if negated:
            raise ArgsError("unknown option %s" % shown(arg.partition("=")[0]))
        if not has_value:
            if not args:
                raise ArgsError("--%s needs a value" % name)
            value = args.pop(0)
        if kind == NUM:
            value = _number(name, value)
        flags[key] = value
    return positional, flags


def _number(name: str, text: str):
    """A flag's number: plain ASCII decimal digits, an optional fraction, nothing else — not
    float()'s "inf", "1e400", "1_000" or "３" (an infinite --period later overflowed a wait)."""
    if not NUMBER.fullmatch(text):
        raise ArgsError("--%s needs a number such as 5 or 0.5, not %s" % (name, shown(text)))
    number = float(text)
    return int(number) if number.is_integer() else number
