"""`kms-ref`: tatum-kms's command line (SPEC §3), plus `sign`, `convert`, `sandbox`, `demo` and
`selftest`.

This is the only place that prints and chooses exit codes. Results go to stdout as JSON indented
by two spaces (what `JSON.stringify(x, null, 2)` prints); every error is one line
`{"error": "..."}` on stderr with exit status 1 — never a traceback, and never a secret: library
errors carry messages written for users, and anything unexpected is reported by its type only
(set KMS_REF_DEBUG=1 to see the traceback while developing).
"""

from __future__ import annotations

import os
import sys

from kms_ref import __version__
from kms_ref.cli.args import parse_args
from kms_ref.cli.output import emit, fail

DEFAULT_PATH = "~/.tatumrc/wallet.dat"
DEFAULT_ENV_FILE = "~/.tatumrc/.env"


class Context:
    """What every command needs: the wallet path, the network and the flags."""

    def __init__(self, flags: dict):
        self.flags = flags
        self.path = os.path.expanduser(flags.get("path") or DEFAULT_PATH)
        self.testnet = bool(flags.get("testnet"))
        self.env_file = os.path.expanduser(flags.get("envFile") or DEFAULT_ENV_FILE)


def load_environment(flags: dict) -> None:
    """tatum-kms's order: the real environment, then ./.env, then --envFile (or
    ~/.tatumrc/.env) — none overrides what is set — and --apiKey over all."""
    from kms_ref.cli import dotenv

    dotenv.load(".env")
    dotenv.load(flags.get("envFile") or DEFAULT_ENV_FILE)
    if flags.get("apiKey"):
        os.environ["TATUM_API_KEY"] = flags["apiKey"]


def run(argv: list) -> int:
    positional, flags = parse_args(argv)
    if flags.get("version"):
        print(__version__)
        return 0
    if flags.get("help") or not positional:
        from kms_ref.cli.help import HELP

        print(HELP, end="")
        return 0
    if flags.get("aws") or flags.get("vgs") or flags.get("azure"):
        raise ValueError("kms_ref keeps the wallet password local: --aws, --vgs and --azure "
                         "are not supported")
    load_environment(flags)
    ctx = Context(flags)
    command, args = positional[0], positional[1:]
    if command == "daemon":
        from kms_ref.daemon.main import main as daemon_main

        return daemon_main(ctx)
    if command == "sign":
        from kms_ref.cli.sign import sign_command

        emit(sign_command(ctx, args))
        return 0
    if command == "sandbox":
        from kms_ref.sandbox.server import main as sandbox_main

        return sandbox_main(ctx)
    if command == "demo":
        from kms_ref.cli.demo import main as demo_main

        return demo_main(ctx)
    if command == "selftest":
        from kms_ref.selftest.runner import run_all

        summary = run_all()
        emit(summary)
        if summary["failed"]:
            raise ValueError("self-test failed: %d known answer(s) wrong; do not use this copy of kms_ref"
                             % len(summary["failed"]))
        return 0
    from kms_ref.cli.diagnostics import COMMANDS as DIAGNOSTICS
    from kms_ref.cli.wallet_commands import COMMANDS

    COMMANDS = dict(COMMANDS, **DIAGNOSTICS)
    if command not in COMMANDS:
        raise ValueError("unsupported command %r; see kms-ref --help" % command)
    emit(COMMANDS[command](ctx, args))
    return 0


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
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except BrokenPipeError:
        return 1
    except (ValueError, OSError, KeyError) as e:
        if os.environ.get("KMS_REF_DEBUG"):
            raise
        message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        if isinstance(e, OSError) and e.strerror:
            message = "%s%s" % (e.strerror, ": %s" % e.filename if e.filename else "")
        return fail(str(message))
    except Exception as e:  # noqa: BLE001 — the last line of defence against tracebacks
        if os.environ.get("KMS_REF_DEBUG"):
            raise
        return fail("internal error (%s); set KMS_REF_DEBUG=1 to see where" % type(e).__name__)
