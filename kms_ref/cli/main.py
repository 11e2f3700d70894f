"""`kms-ref`: tatum-kms's command line (SPEC §3), plus `sign`, `convert`, `sandbox` and `demo`.

This is the only place that prints and chooses exit codes. Results go to stdout as JSON indented
by two spaces (what `JSON.stringify(x, null, 2)` prints); every error is one line
`{"error": "..."}` on stderr with exit status 1 — never a traceback, and never a secret: library
errors carry messages written for users, and anything unexpected is reported by its type only
(set KMS_REF_DEBUG=1 to see the traceback while developing).
"""

from __future__ import annotations

import json
import os
import sys

from kms_ref import __version__
from kms_ref.cliargs import parse_args

HELP = """kms_ref %s — a pure-Python Tatum Key Management System (BTC, LTC, DOGE, BCH)

Usage: kms-ref <command> [options]

Wallets (the password comes from TATUM_KMS_PASSWORD or a hidden prompt; mnemonics and private
keys are only ever typed at a hidden prompt, or piped on standard input):
  generatewallet <chain>                     new mnemonic and xpub, not stored
  generatemanagedwallet <chain>              new mnemonic, stored; prints signatureId and xpub
  storemanagedwallet <chain>                 store a mnemonic you type
  storemanagedprivatekey <chain>             store a private key (WIF) you type
  generatemanagedprivatekeybatch <chain> <n> n stored keys, one JSON line each
  getmanagedwallet <signatureId>             the stored entry
  getprivatekey <signatureId> <i>            private key i (WIF)
  getaddress <signatureId> <i>               address i
  removewallet <signatureId>                 delete an entry
  export                                     the whole decrypted store
  convert --to native|tatum                  rewrite the file in kms_ref's or Tatum's format
  checkconfig                                paths and environment (secrets masked)
  report [<id>,<id>,...]                     wallet types and warnings, no secrets

Signing:
  daemon                                     sign and broadcast pending transactions
  sign [FILE|-] [--explain]                  sign one pending transaction offline

Trying it out:
  sandbox [--host H] [--port P] [--api-key K] [--state FILE]   a local Tatum-compatible API
  demo                                       the whole walkthrough against a private sandbox

Options:
  --path=FILE            wallet file (default ~/.tatumrc/wallet.dat)
  --testnet              testnet (mainnet otherwise)
  --envFile=FILE         .env file (default ~/.tatumrc/.env)
  --apiKey=KEY           Tatum API key (or TATUM_API_KEY); TATUM_API_URL picks the server
  --chain=BTC,LTC        daemon: chains to serve (default all four)
  --period=SECONDS       daemon: seconds between cycles (default 5)
  --externalUrl=URL      daemon: four-eye check URL (required on mainnet)
  --externalUrlMethod=GET|POST
  --runOnce              daemon: one cycle, then exit
  --wallet=ID[,ID]       daemon --runOnce: only these signature IDs
  --transactionIds=A,B   daemon --runOnce: only these pending transactions
""" % __version__

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
    from kms_ref import dotenv

    dotenv.load(".env")
    dotenv.load(flags.get("envFile") or DEFAULT_ENV_FILE)
    if flags.get("apiKey"):
        os.environ["TATUM_API_KEY"] = flags["apiKey"]


def emit(result) -> None:
    from kms_ref.commands import Lines, Text

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


def run(argv: list) -> int:
    positional, flags = parse_args(argv)
    if flags.get("version"):
        print(__version__)
        return 0
    if flags.get("help") or not positional:
        print(HELP, end="")
        return 0
    if flags.get("aws") or flags.get("vgs") or flags.get("azure"):
        raise ValueError("kms_ref keeps the wallet password local: --aws, --vgs and --azure "
                         "are not supported")
    load_environment(flags)
    ctx = Context(flags)
    command, args = positional[0], positional[1:]
    if command == "daemon":
        from kms_ref.daemon import main as daemon_main

        return daemon_main(ctx)
    if command == "sign":
        from kms_ref.sign_command import sign_command

        emit(sign_command(ctx, args))
        return 0
    if command == "sandbox":
        from kms_ref.sandbox.server import main as sandbox_main

        return sandbox_main(ctx)
    if command == "demo":
        from kms_ref.demo import main as demo_main

        return demo_main(ctx)
    from kms_ref.commands import COMMANDS

    if command not in COMMANDS:
        raise ValueError("unsupported command %r; see kms-ref --help" % command)
    emit(COMMANDS[command](ctx, args))
    return 0


def main(argv=None) -> int:
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
