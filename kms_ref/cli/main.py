"""`kms-ref`: tatum-kms's command line (SPEC §3), plus `sign`, `convert`, `sandbox`, `demo` and
`selftest`.

argv → `args.parse_command_line` (the command's entry in `commands.py`, its arguments and flags)
→ the environment (.env files) → the command → its output and exit code. This is the only place
that prints results and chooses exit codes (the table is `flags.EXIT_CODES`). Results go to
stdout as JSON indented by two spaces (what `JSON.stringify(x, null, 2)` prints); every error
ends with one line `{"error": "..."}` on stderr — a usage error (exit 2) has the command's usage
line before it — never a traceback, and never a secret: library errors carry messages written
for users, and anything unexpected is reported by its type only (KMS_REF_DEBUG=1 shows the
traceback while developing).
"""

from __future__ import annotations

import importlib
import os
import sys

from kms_ref import __version__
from kms_ref.cli.args import Parsed, ShowHelp, ShowVersion, UsageError, parse_command_line
from kms_ref.cli.flags import ENV_FILE, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PATH
from kms_ref.cli.output import emit, fail
from kms_ref.hd.masking import shown
from kms_ref.passwords.core_dumps import forbid_core_dumps


class Context:
    """What every command needs: its arguments, the wallet path, the network, the flags and the
    password source."""

    def __init__(self, parsed: Parsed):
        self.command = parsed.command.name
        self.args = parsed.args
        self.flags = parsed.flags
        self.path = os.path.expanduser(self.flags.get("path") or PATH.default)
        self.testnet = bool(self.flags.get("testnet"))
        self.env_file = os.path.expanduser(self.flags.get("envFile") or ENV_FILE.default)
        self.env_files_read = []
        self._password_source = None

    @property
    def password_source(self):
        """Where the password comes from (--aws/--azure/--vgs, env, files, prompt), chosen after
        the .env files are read, since they may set TATUM_KMS_PASSWORD and the vault settings."""
        if self._password_source is None:
            from kms_ref.passwords.sources import choose

            self._password_source = choose(self.flags)
        return self._password_source

    def password(self, confirm_new: bool = False) -> str:
        """The wallet password, from the source chosen above (read when a command asks)."""
        return self.password_source.read(confirm_new)

    def warn(self, message: str) -> None:
        """A warning on stderr: the result on stdout stays what tatum-kms prints."""
        sys.stderr.write("warning: %s\n" % message)
        sys.stderr.flush()


def load_environment(ctx: Context) -> None:
    """tatum-kms's order: the real environment, then ./.env, then --envFile (or
    ~/.tatumrc/.env) — none overrides what is set — and --apiKey over all. The files actually
    read are kept in ctx.env_files_read (checkconfig prints them)."""
    from kms_ref.cli import dotenv

    for path in (".env", ctx.env_file):
        if dotenv.load(path):
            ctx.env_files_read.append(os.path.abspath(os.path.expanduser(path)))
    if ctx.flags.get("apiKey"):
        os.environ["TATUM_API_KEY"] = ctx.flags["apiKey"]


def _function(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def run(argv: list) -> int:
    forbid_core_dumps()   # before any secret: the password may already be in the environment
    try:
        parsed = parse_command_line(argv)
    except ShowVersion:
        print("kms_ref %s" % __version__)
        return EXIT_OK
    except ShowHelp as e:
        from kms_ref.cli.help import help_text

        print(help_text(e.command))
        return EXIT_OK
    ctx = Context(parsed)
    if parsed.command.name == "help":
        emit(_function(parsed.command.run)(ctx, ctx.args))
        return EXIT_OK
    load_environment(ctx)
    function = _function(parsed.command.run)
    from kms_ref.store.errors import NoSuchWallet, StoreError   # here: --help and --version stay light

    try:
        if parsed.command.kind == "exit":
            return function(ctx)
        result = function(ctx, ctx.args)
    except UsageError as e:      # a command's own "missing argument": its usage line
        e.command = e.command or ctx.command
        raise
    except NoSuchWallet as e:    # say where it looked
        raise StoreError("%s in %s" % (e, ctx.path)) from None
    emit(result)
    return EXIT_OK


def _message(e: BaseException) -> str:
    message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
    if isinstance(e, OSError) and e.strerror:
        message = "%s%s" % (e.strerror, ": %s" % shown(e.filename) if e.filename else "")
    return str(message)


def main(argv=None):
    """The entry point of `kms-ref`, `python -m kms_ref` and `kms-ref.pyz`: run the command and
    exit with its status. It raises SystemExit instead of returning the status, so that every
    launcher exits non-zero on an error — zipapp's generated `__main__` ignores a return value."""
    raise SystemExit(exit_status(argv))


def exit_status(argv=None) -> int:
    """Run the command of `argv` (default sys.argv[1:]); its exit status, 0 when it succeeded."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return run(argv)
    except UsageError as e:
        from kms_ref.cli.help import usage_line

        sys.stderr.write(usage_line(e.command) + "\n")
        return fail(str(e), EXIT_USAGE)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        return EXIT_ERROR
    except (ValueError, OSError, KeyError) as e:
        if os.environ.get("KMS_REF_DEBUG"):
            raise
        return fail(_message(e))
    except Exception as e:  # noqa: BLE001 — the last line of defence against tracebacks
        if os.environ.get("KMS_REF_DEBUG"):
            raise
        return fail("internal error (%s); set KMS_REF_DEBUG=1 to see where" % type(e).__name__)
