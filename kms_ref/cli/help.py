"""The help text of `kms-ref --help` and `kms-ref COMMAND --help`, written from the registry.

Nothing here is typed twice: usage lines, flags, defaults, environment variables, examples and
exit codes all come from `commands.py` and `flags.py`, so help cannot disagree with the parser.
Flags are written one way, tatum-kms's camelCase (`--apiKey`); the other spellings work too.
"""

from __future__ import annotations

import textwrap

from kms_ref import __version__
from kms_ref.cli.commands import BY_NAME, COMMANDS, GROUPS, Command
from kms_ref.cli.args import UsageError
from kms_ref.cli.flags import ENV, ENV_FILE, ENV_FILES_NOTE, EXIT_CODES, PASSWORD_SOURCES, PATH, TESTNET, VERSION
from kms_ref.cli.output import Text
from kms_ref.hd.masking import shown

WIDTH = 100


def _visible(command: Command) -> list:
    return [f for f in command.flags if not f.hidden]


def _args(command: Command) -> str:
    return " ".join("[%s]" % a.name if a.optional else a.name for a in command.args)


def usage_line(command_name=None) -> str:
    """`Usage: kms-ref getaddress SIGNATURE_ID INDEX [--path=FILE] [--testnet] [--envFile=FILE]`."""
    if command_name is None:
        return "Usage: kms-ref COMMAND [ARGUMENTS] [FLAGS]   (kms-ref --help lists the commands)"
    command = BY_NAME[command_name]
    words = ["kms-ref", command.name] + ([_args(command)] if command.args else [])
    words += ["[%s]" % f.invocation() for f in _visible(command)]
    return textwrap.fill(" ".join(words), WIDTH, initial_indent="Usage: ", subsequent_indent=" " * 7,
                         break_on_hyphens=False)


def _table(rows, indent: int = 2) -> list:
    """Two columns, the second wrapped under itself."""
    rows = list(rows)
    left = min(max(len(a) for a, _ in rows) + 3, 34)
    lines = []
    for name, text in rows:
        body = textwrap.wrap(text, WIDTH - indent - left) or [""]
        if len(name) + 3 > left:
            lines.append(" " * indent + name)
            lines.extend(" " * (indent + left) + part for part in body)
        else:
            lines.append(" " * indent + name.ljust(left) + body[0])
            lines.extend(" " * (indent + left) + part for part in body[1:])
    return lines


def _flag_text(flag) -> str:
    return flag.help + (" (default %s)" % flag.default if flag.default else "")


def _password_rows() -> list:
    """kms_ref.passwords.sources's order, the first that applies."""
    rows = [(", ".join(f.invocation() for f in PASSWORD_SOURCES),
             "a vault (at most one): " + "; ".join(f.help.split(" (")[0].replace("the password from ", "")
                                                 + " (" + f.help.split(" (", 1)[1] for f in PASSWORD_SOURCES)),
            ("TATUM_KMS_PASSWORD", "from the environment or a .env file, when set"),
            ("TATUM_KMS_PASSWORD_FILE", ENV["TATUM_KMS_PASSWORD_FILE"]),
            ("CREDENTIALS_DIRECTORY", ENV["CREDENTIALS_DIRECTORY"]),
            ("a hidden prompt", "otherwise; when standard input is not a terminal, its next line")]
    return rows


def command_help(command: Command) -> str:
    lines = [usage_line(command.name), ""]
    lines += textwrap.wrap(command.summary[0].upper() + command.summary[1:] + "."
                           + (" " + command.details if command.details else ""), WIDTH)
    if command.args:
        lines += ["", "Arguments:"] + _table((a.name, a.help + (" (optional)" if a.optional else ""))
                                             for a in command.args)
    lines += ["", "Flags:"] + _table([(f.invocation(), _flag_text(f)) for f in _visible(command)]
                                     + [("-h, --help", "this help"), ("-V, --version", VERSION.help)])
    if "TATUM_KMS_PASSWORD" in command.env:
        lines += ["", "Password (the first that applies):"] + _table(_password_rows())
    env = [name for name in command.env if name != "TATUM_KMS_PASSWORD"]
    if env:
        lines += ["", "Environment:"] + _table((name, ENV[name]) for name in env)
    if command.env:
        lines += textwrap.wrap(ENV_FILES_NOTE, WIDTH, initial_indent="  ", subsequent_indent="  ")
    if command.examples:
        lines += ["", "Examples:"] + ["  " + line for example in command.examples for line in example.split("\n")]
    notes = dict(command.exit_notes)
    lines += ["", "Exit codes:"] + _table(("%d" % code, notes.get(code, EXIT_CODES[code])) for code in command.exits)
    return "\n".join(lines)


def global_help() -> str:
    lines = ["kms_ref %s: a pure-Python Tatum Key Management System for BTC, LTC, DOGE and BCH" % __version__,
             "", "Usage: kms-ref COMMAND [ARGUMENTS] [FLAGS]",
             "       kms-ref COMMAND --help      that command's arguments, flags, environment, examples"]
    for group in GROUPS:
        rows = [(("%s %s" % (c.name, _args(c))).strip(), c.summary) for c in COMMANDS if c.group == group]
        lines += ["", group + ":"] + _table(rows)
    common = ", ".join(f.invocation() for f in (PATH, TESTNET, ENV_FILE))
    lines += ["", *textwrap.wrap(
        "Flags may come before or after the command, as --path=X or --path X; the wallet commands "
        "take %s (default wallet %s). Mnemonics and private keys are typed at a hidden prompt, "
        "never given as flags. Results are JSON on stdout (checkconfig prints text); an error is "
        "one line {\"error\": \"...\"} on stderr." % (common, PATH.default), WIDTH)]
    lines += ["", "Exit codes:"] + _table(("%d" % code, text) for code, text in EXIT_CODES.items())
    return "\n".join(lines)


def help_text(command_name=None) -> str:
    return global_help() if command_name is None else command_help(BY_NAME[command_name])


def help_command(ctx, args) -> Text:
    """`kms-ref help [COMMAND]`."""
    if args and args[0] not in BY_NAME:
        raise UsageError("no command %s (kms-ref --help lists them)" % shown(args[0]), "help")
    return Text(help_text(args[0] if args else None))

