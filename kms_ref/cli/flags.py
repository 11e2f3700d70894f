"""The vocabulary of the command line (SPEC §3): flags, arguments, environment variables and exit
codes, each defined once. `commands.py` builds every command's entry from these; `args.py`
turns the entries into parsers and `help.py` into help text, so nothing here is repeated there.

A flag is written in help one way, tatum-kms's camelCase (`--apiKey`); the kebab and snake
spellings (`--api-key`, `--api_key`) are accepted beside it, as tatum-kms's meow accepts them. A
boolean flag also takes `--no-testnet` (and `--noTestnet`, `--no_testnet`) and `--testnet=true|false|1|0`.
`default` is the default as help shows it: the code that reads the flag applies it, and
tests/test_cli_help.py checks that the two agree.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Tuple

BOOL, TEXT, NUMBER = "bool", "text", "number"


class Flag(NamedTuple):
    name: str                  # tatum-kms's camelCase spelling, the one help shows
    kind: str                  # BOOL, TEXT or NUMBER
    help: str                  # one line
    metavar: str = ""          # TEXT/NUMBER: what the value is (FILE, URL, SECONDS)
    default: str = ""          # as help shows it
    aliases: Tuple[str, ...] = ()   # other accepted names (--wallet beside --wallets)
    key: str = ""              # the key of ctx.flags, when it is not the name
    hidden: bool = False       # accepted, not listed in help (tatum-kms flags a command ignores)

    @property
    def dest(self) -> str:
        return self.key or self.name

    def spellings(self) -> list:
        """Every accepted option string: camelCase, kebab and snake for the name and each alias."""
        found = []
        for name in (self.name,) + self.aliases:
            for spelling in (name, kebab(name), kebab(name).replace("-", "_")):
                if "--" + spelling not in found:
                    found.append("--" + spelling)
        return found

    def negations(self) -> list:
        """`--no-testnet`, `--noTestnet`, `--no_testnet` for a BOOL flag."""
        found = []
        for name in (self.name,) + self.aliases:
            for spelling in ("no-" + kebab(name), "no" + name[0].upper() + name[1:],
                             "no_" + kebab(name).replace("-", "_")):
                if "--" + spelling not in found:
                    found.append("--" + spelling)
        return found

    def invocation(self) -> str:
        """How help writes it: `--path=FILE`, `--testnet`."""
        return "--%s%s" % (self.name, "=" + self.metavar if self.kind != BOOL else "")


class Arg(NamedTuple):
    name: str                  # as the usage line writes it: CHAIN, SIGNATURE_ID
    help: str
    optional: bool = False


def kebab(name: str) -> str:
    """apiKey → api-key."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "-" + m.group(1).lower(), name)


def camel(name: str) -> str:
    """api-key, api_key, apiKey → apiKey."""
    return re.sub(r"[-_]+([a-zA-Z0-9])", lambda m: m.group(1).upper(), name)


# --- Flags more than one command takes ----------------------------------------------------------

PATH = Flag("path", TEXT, "the wallet file", "FILE", "~/.tatumrc/wallet.dat")
TESTNET = Flag("testnet", BOOL, "testnet (mainnet otherwise); --no-testnet or --testnet=false for mainnet")
ENV_FILE = Flag("envFile", TEXT, "a .env file to read after ./.env", "FILE", "~/.tatumrc/.env")
API_KEY = Flag("apiKey", TEXT, "the Tatum API key; a flag is visible in ps to every user of the machine: "
               "prefer TATUM_API_KEY or the .env file", "KEY")
CHAIN_LIST = Flag("chain", TEXT, "the chains to serve, comma-separated", "CHAINS", "BCH,BTC,LTC,DOGE")
PERIOD = Flag("period", NUMBER, "seconds between cycles", "SECONDS", "5")
EXTERNAL_URL = Flag("externalUrl", TEXT, "four-eye check: sign only what {URL}/{id} answers with a 2xx; "
                    "required on mainnet", "URL")
EXTERNAL_URL_METHOD = Flag("externalUrlMethod", TEXT, "GET, or POST with the transaction as body", "GET|POST", "GET")
RUN_ONCE = Flag("runOnce", BOOL, "one cycle, then exit (exit code 3 when the API gave no usable answer)")
WALLETS = Flag("wallets", TEXT, "only these signature IDs, comma-separated", "ID,ID", aliases=("wallet",), key="wallet")
TRANSACTION_IDS = Flag("transactionIds", TEXT, "only these pending transactions, comma-separated", "ID,ID")
# tatum-kms's vaults for the wallet password (SPEC §8; kms_ref.passwords): at most one.
AWS = Flag("aws", BOOL, "the password from AWS Secrets Manager (TATUM_KMS_AWS_SECRET_NAME, "
           "TATUM_KMS_AWS_SECRET_KEY, the AWS region and credentials)")
AZURE = Flag("azure", BOOL, "the password from Azure Key Vault (TATUM_KMS_AZURE_VAULTURL, "
             "TATUM_KMS_AZURE_SECRETNAME, an Azure identity)")
VGS = Flag("vgs", BOOL, "the password from a VGS alias (TATUM_KMS_VGS_ALIAS, TATUM_KMS_VGS_USERNAME, "
           "TATUM_KMS_VGS_PASSWORD)")
PASSWORD_SOURCES = (AWS, AZURE, VGS)

# Every flag of tatum-kms 8 (its meow table). tatum-kms takes any of them with any command and
# ignores those it does not use; kms-ref accepts them everywhere too (unlisted where unused), so a
# tatum-kms command line keeps working. kms_ref's own flags are accepted only by their commands.
TATUM_FLAGS = (PATH, TESTNET, ENV_FILE, API_KEY, CHAIN_LIST, PERIOD, EXTERNAL_URL, EXTERNAL_URL_METHOD,
               RUN_ONCE, WALLETS, TRANSACTION_IDS) + PASSWORD_SOURCES

TAPROOT = Flag("taproot", BOOL, "BTC only: BIP86 Taproot, key m/86'/coin'/0'/0/INDEX and its bc1p/tb1p "
               "address, instead of BIP44's")

HELP = Flag("help", BOOL, "this help")            # args.py adds -h and -V beside them
VERSION = Flag("version", BOOL, "print the version, kms_ref X.Y.Z")

# Flags a command line may hold where tatum-kms users put secrets by habit: refused with a
# message saying why (they would stay in shell history and `ps`), never as an unknown option.
SECRET_FLAGS = {"mnemonic", "privatekey", "password", "pwd", "secret", "key", "wif", "seed", "xprv"}

# --- Arguments --------------------------------------------------------------------------------------

CHAIN = Arg("CHAIN", "BTC, LTC, DOGE or BCH")
SIGNATURE_ID = Arg("SIGNATURE_ID", "a wallet's signature ID, as generatemanagedwallet or a store command printed it")
INDEX = Arg("INDEX", "the derivation index, 0 to 2147483647 (2^31 - 1)")

# --- Environment ------------------------------------------------------------------------------------

ENV = {
    "TATUM_KMS_PASSWORD": "the wallet password; else a hidden prompt (the next line of standard "
                          "input when it is not a terminal)",
    "TATUM_API_KEY": "the Tatum API key (--apiKey sets it)",
    "TATUM_API_URL": "the Tatum API, default https://api.tatum.io (a sandbox: http://127.0.0.1:8080)",
    "TATUM_KMS_PASSWORD_FILE": "a file whose first line is the wallet password (yours, mode 0600 "
                               "or stricter)",
    "CREDENTIALS_DIRECTORY": "set by systemd's LoadCredential=: the password is its file "
                             "tatum-kms-password",
    "KMS_REF_HTTP_TIMEOUT": "seconds for each HTTP request, connect to last byte (default 30)",
    "HTTPS_PROXY": "the proxy for https:// requests (tunnelled with CONNECT; the API key never reaches "
                   "the proxy); HTTP_PROXY for http://, ALL_PROXY for both, either case; user:password@ in "
                   "its URL is sent as Proxy-Authorization",
    "NO_PROXY": "hosts reached directly: names (with their subdomains), IPs, CIDR ranges, :port, or *; "
                "loopback and link-local hosts always go direct",
    "SSL_CERT_FILE": "a CA bundle added to the system's trusted certificates (SSL_CERT_DIR: a directory "
                     "of them); TLS is always verified, no setting turns that off",
    "KMS_REF_CA_FILE": "a private CA (PEM) added to the trusted certificates, e.g. for a TLS-inspecting "
                       "proxy",
    "KMS_REF_ALLOW_HTTP": "1: allow plain http:// to any host (otherwise only loopback and link-local "
                          "addresses, where the cloud metadata services answer)",
    "KMS_REF_DEBUG": "1: debug lines in the daemon's log, and a traceback instead of "
                     "\"internal error\" (may show secrets: for development only)",
}
ENV_FILES_NOTE = ("Variables are read from the environment, then ./.env, then --envFile (default "
                  "~/.tatumrc/.env); none overrides one already set.")
PASSWORD_ENV = ("TATUM_KMS_PASSWORD",)   # help then lists every password source

# --- Exit codes: one table, for every command (README "Exit codes" holds the same) ---------------

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_ERROR: "an error: bad input, wrong password, unknown signature ID, a refused transaction, "
                "a file that cannot be read or written",
    EXIT_USAGE: "usage: no command, an unknown command or option, a missing or extra argument; "
                "daemon: mainnet without --externalUrl",
    EXIT_UNREACHABLE: "daemon --runOnce: no pending-transaction request got a usable answer from the API",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}
