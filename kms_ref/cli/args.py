"""The command line as tatum-kms takes it (SPEC §3), parsed by argparse from the registry.

    kms-ref [FLAGS] COMMAND [ARGUMENTS] [FLAGS]

What tatum-kms users type keeps working: flags before or after the command, `--path=X` and
`--path X`, the camelCase, kebab and snake spellings (`--apiKey`, `--api-key`, `--api_key`),
`--no-testnet` and `--testnet=false`, `--` before arguments that start with a dash, and every
tatum-kms flag with every command (tatum-kms ignores those a command does not use; so does
kms-ref, and help does not list them). A flag kms_ref does not know is an error that names it
as typed, and so is an argument too many; a flag that would carry a secret is refused with the
reason. Values — chains, indexes, IDs, numbers of keys — are checked by the commands themselves,
so their messages are the same whichever way the command line was written.

Each command's parser is an `argparse.ArgumentParser` built from its entry in `commands.py`, and
`parse_known_intermixed_args` reads flags and arguments in any order. Three things argparse does
not do the way tatum-kms's meow does are done here by hand, before argparse sees the line:
- finding the command word, which may come after flags (`kms-ref --path=w.dat export`): argparse
  sub-commands want it first, and `parse_intermixed_args` refuses sub-parsers;
- `--testnet=false` (argparse's store_true refuses a value; meow takes true/false);
- `--`: argparse's intermixed parsing still reads a dash-word after it as an option.
Errors never come from argparse's own `exit`: `error` is overridden to raise UsageError, which
main prints as a usage line and the one-line `{"error": ...}` (exit 2).
"""

from __future__ import annotations

import argparse
import re
from typing import NamedTuple, Optional

from kms_ref.cli.commands import BY_NAME, COMMANDS, Command
from kms_ref.cli.flags import BOOL, HELP, NUMBER, SECRET_FLAGS, TATUM_FLAGS, VERSION, Flag, camel
from kms_ref.hd.masking import could_be_secret, shown

TRUE_WORDS, FALSE_WORDS = ("true", "1"), ("false", "0")


class UsageError(ValueError):
    """The command line cannot be run as written. `command` (or None) picks the usage line."""

    def __init__(self, message: str, command: Optional[str] = None):
        super().__init__(message)
        self.command = command


class ShowHelp(Exception):
    def __init__(self, command: Optional[str] = None):
        super().__init__(command)
        self.command = command


class ShowVersion(Exception):
    pass


class Parsed(NamedTuple):
    command: Command
    args: list          # the positional arguments, without the command word
    flags: dict         # {flag key: value} for the flags given; defaults are applied by who reads them


# --- argparse, told to raise instead of exit ------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def __init__(self, command: Optional[str], **kwargs):
        super().__init__(add_help=False, allow_abbrev=False, **kwargs)
        self.command = command

    def error(self, message):
        raise UsageError(message, self.command)


class _Bool(argparse.Action):
    """--testnet sets True, --no-testnet False. (`--testnet=false` is rewritten before parsing.)"""

    def __init__(self, option_strings, dest, negations=(), **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)
        self.negations = set(negations)

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, option_string not in self.negations)


class _Value(argparse.Action):
    """A flag with a value: `--path=X` or `--path X`; a NUMBER is checked here (finite, ≥ 0)."""

    def __init__(self, option_strings, dest, flag=None, **kwargs):
        super().__init__(option_strings, dest, nargs="?", **kwargs)
        self.flag = flag

    def __call__(self, parser, namespace, value, option_string=None):
        if value is None:
            raise UsageError("%s needs a value" % option_string, parser.command)
        if self.flag.kind == NUMBER:
            value = number(option_string, value, parser.command)
        setattr(namespace, self.dest, value)


class _Raise(argparse.Action):
    """-h/--help and -V/--version: stop parsing, whatever else the line holds."""

    def __init__(self, option_strings, dest, exception=None, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)
        self.exception = exception

    def __call__(self, parser, namespace, values, option_string=None):
        raise self.exception(parser.command) if self.exception is ShowHelp else self.exception()


PLAIN_NUMBER = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9})?|\.[0-9]{1,9}")   # ASCII: [0-9], not \d


def number(option: str, value: str, command: Optional[str] = None):
    """A flag's number: plain ASCII decimal digits and an optional fraction, nothing else — not
    float()'s "inf", "nan", "1e400", "1_000", "0x10" or "３" (an infinite --period once overflowed a
    wait); int if whole."""
    if not PLAIN_NUMBER.fullmatch(value):
        raise UsageError("%s needs a number such as 5 or 0.5, not %s" % (option, shown(value)), command)
    result = float(value)
    return int(result) if result.is_integer() else result


def build_parser(command: Optional[Command]) -> _Parser:
    """A command's parser: its own flags, every tatum-kms flag, -h/--help, -V/--version, and the
    arguments as one list (their number is checked in `parse_command_line`)."""
    parser = _Parser(command.name if command else None, prog="kms-ref")
    own = list(command.flags) if command else []
    for flag in own + [f for f in TATUM_FLAGS if f.dest not in {o.dest for o in own}]:
        add_flag(parser, flag)
    parser.add_argument("-h", *HELP.spellings(), action=_Raise, exception=ShowHelp,
                        default=argparse.SUPPRESS)
    parser.add_argument("-V", *VERSION.spellings(), action=_Raise, exception=ShowVersion,
                        default=argparse.SUPPRESS)
    parser.add_argument("words", nargs="*")
    return parser


def add_flag(parser: argparse.ArgumentParser, flag: Flag) -> None:
    if flag.kind == BOOL:
        parser.add_argument(*flag.spellings(), *flag.negations(), dest=flag.dest, action=_Bool,
                            negations=flag.negations(), default=argparse.SUPPRESS)
    else:
        parser.add_argument(*flag.spellings(), dest=flag.dest, action=_Value, flag=flag,
                            default=argparse.SUPPRESS)


# --- by hand, before argparse: the command word, --flag=true|false, -- ----------------------------

def _all_flags():
    flags = {f.dest: f for f in TATUM_FLAGS}
    for command in COMMANDS:
        for f in command.flags:
            flags.setdefault(f.name, f)
    return flags.values()


ALL_FLAGS = list(_all_flags())
VALUE_SPELLINGS = {s for f in ALL_FLAGS if f.kind != BOOL for s in f.spellings()}
BOOL_SPELLINGS = {s: f for f in ALL_FLAGS if f.kind == BOOL for s in f.spellings()}


def _is_option(token: str) -> bool:
    """What argparse takes for an option: a dash-word that is not `-`, a negative number or text
    with a space (`-1` is an index, `-` is standard input)."""
    if not token.startswith("-") or token == "-" or " " in token:
        return False
    try:
        float(token)
        return False
    except ValueError:
        return True


def find_command(tokens: list) -> Optional[int]:
    """The position of the command word: the first argument that is not an option or an
    option's value (a value flag written `--path X` takes the next token)."""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "--":
            return i + 1 if i + 1 < len(tokens) else None
        if _is_option(token):
            i += 2 if token in VALUE_SPELLINGS else 1
            continue
        return i
    return None


def _rewrite_bool_values(tokens: list) -> list:
    """`--testnet=false` → `--no-testnet`, `--testnet=true` → `--testnet` (meow's boolean values)."""
    out = []
    for token in tokens:
        name, has_value, value = token.partition("=")
        flag = BOOL_SPELLINGS.get(name) if has_value else None
        if flag is not None:
            if value.lower() not in TRUE_WORDS + FALSE_WORDS:
                raise UsageError("%s takes true or false" % name)
            token = name if value.lower() in TRUE_WORDS else flag.negations()[0]
        out.append(token)
    return out


def _unknown_option(token: str, command: Optional[Command]) -> UsageError:
    name = token.partition("=")[0]   # never the value: it may be a secret
    where = command.name if command else None
    if camel(name.lstrip("-")).lower() in SECRET_FLAGS:
        return UsageError("secrets are never taken as flags (they would stay in shell history); "
                          "kms-ref asks for them at a hidden prompt", where)
    owners = [c.name for c in COMMANDS for f in c.flags if name in f.spellings() + f.negations()]
    if owners and command:
        return UsageError("%s is not an option of %s, only of %s (see kms-ref %s --help)"
                          % (name, command.name, ", ".join(owners), command.name), where)
    return UsageError("unknown option %s (see kms-ref %s--help)"
                      % (shown(name, quote=False), command.name + " " if command else ""), where)


def parse_command_line(argv: list) -> Parsed:
    """The command, its arguments and its flags; raises UsageError, ShowHelp or ShowVersion."""
    tokens = list(argv)
    cut = tokens.index("--") if "--" in tokens else len(tokens)
    before, after = tokens[:cut], tokens[cut + 1:]      # after `--`: arguments only
    if any(t in ("-V", *VERSION.spellings()) for t in before):
        raise ShowVersion()
    at = find_command(tokens)
    if at is None:
        _, extra = build_parser(None).parse_known_intermixed_args(_rewrite_bool_values(before))
        if extra:
            raise _unknown_option(extra[0], None)
        raise UsageError("no command given (kms-ref --help lists them)")
    word = tokens[at]
    if at < cut:
        del before[at]
    else:
        del after[0]                                     # `kms-ref -- export`
    command = BY_NAME.get(word)
    if command is None:
        import difflib

        guess = difflib.get_close_matches(word, list(BY_NAME), n=1)
        hint = "; did you mean %s?" % guess[0] if guess and not could_be_secret(word) else ""
        raise UsageError("unsupported command %s%s (kms-ref --help lists them)" % (shown(word), hint))
    try:
        namespace, extra = build_parser(command).parse_known_intermixed_args(_rewrite_bool_values(before))
    except UsageError as e:
        e.command = command.name
        raise
    if extra:                                            # only unknown options land here
        raise _unknown_option(extra[0], command)
    flags = {k: v for k, v in vars(namespace).items() if k != "words"}
    args = namespace.words + after
    if len(args) > len(command.args):
        surplus = " ".join(args[len(command.args):])
        takes = " ".join(a.name for a in command.args) or "no arguments"
        raise UsageError("too many arguments: %s takes %s, and %s is one too many"
                         % (command.name, takes, shown(surplus)), command.name)
    return Parsed(command, args, flags)
