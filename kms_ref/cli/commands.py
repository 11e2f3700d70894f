"""Every command of `kms-ref`, one entry each: the registry the parser, the help and the
dispatcher are built from (SPEC §3; issue 13 "help per command").

An entry says everything a user needs without the README: the usage (from `args`), what the
command does, its flags (with defaults), the environment it reads, one or two examples, its exit
codes, and where the code is (`run`, imported only when the command runs, so `--help` stays fast).

To add a command: one `Command(...)` in COMMANDS. To add a flag: define it in `flags.py` (or
inline, if only this command takes it) and put it in the `flags` of each command that takes it.
A `run` of kind "output" is `f(ctx, args) -> object` and main prints the object (JSON, or
`output.Lines`/`output.Text`); kind "exit" is `f(ctx) -> int`, a command that prints for itself
and returns its exit code.
"""

from __future__ import annotations

from typing import NamedTuple, Tuple

from kms_ref.cli.flags import (API_KEY, BOOL, CHAIN, CHAIN_LIST, ENV_FILE, EXIT_ERROR, EXIT_OK,
                               EXIT_UNREACHABLE, EXIT_USAGE, EXTERNAL_URL, EXTERNAL_URL_METHOD, INDEX,
                               NUMBER, PASSWORD_ENV, PASSWORD_SOURCES, PATH, PERIOD, RUN_ONCE,
                               SIGNATURE_ID, TAPROOT, TESTNET, TEXT, TRANSACTION_IDS, WALLETS, Arg, Flag)

STANDARD_EXITS = (EXIT_OK, EXIT_ERROR, EXIT_USAGE)
WALLET_FLAGS = (PATH, TESTNET, ENV_FILE) + PASSWORD_SOURCES


class Command(NamedTuple):
    name: str
    summary: str                         # one line, for the list of commands
    run: str                             # "module:function"
    group: str = "Wallets"
    args: Tuple[Arg, ...] = ()
    flags: Tuple[Flag, ...] = ()
    env: Tuple[str, ...] = ()
    examples: Tuple[str, ...] = ()
    exits: Tuple[int, ...] = STANDARD_EXITS
    details: str = ""                    # a paragraph for `COMMAND --help`
    exit_notes: Tuple[Tuple[int, str], ...] = ()   # what an exit code means for this command
    kind: str = "output"                 # "output" or "exit" (see the module docstring)


WALLET_COMMANDS = "kms_ref.cli.wallet_commands:"
EXAMPLE_ID = "31478382-490f-4d8d-a865-3eb003f06316"

COMMANDS = [
    Command("generatewallet", "a new 24-word mnemonic and its xpub, printed, not stored",
            WALLET_COMMANDS + "generatewallet", args=(CHAIN,), flags=(TESTNET,),
            examples=("kms-ref generatewallet BTC --testnet",),
            details="Prints {\"mnemonic\", \"xpub\"}; the xpub is the one at the wallet's account/change "
                    "path (BTC m/44'/0'/0'/0, testnet m/44'/1'/0'/0; SPEC §1). Nothing is stored."),
    Command("generatemanagedwallet", "a new mnemonic wallet, stored; prints its signatureId and xpub",
            WALLET_COMMANDS + "generatemanagedwallet", args=(CHAIN,), flags=WALLET_FLAGS, env=PASSWORD_ENV,
            examples=("kms-ref --path=wallet.dat --testnet generatemanagedwallet BTC",),
            details="The first store into a new file creates it with this password (asked twice at a "
                    "terminal). Prints {\"signatureId\", \"xpub\"}."),
    Command("storemanagedwallet", "store a mnemonic you type at a hidden prompt",
            WALLET_COMMANDS + "storemanagedwallet", args=(CHAIN,), flags=WALLET_FLAGS, env=PASSWORD_ENV,
            examples=("kms-ref --path=wallet.dat --testnet storemanagedwallet BTC",),
            details="Asks for the password, then the mnemonic (12 to 24 BIP39 words, checked before "
                    "anything is stored). Prints {\"signatureId\", \"xpub\"}."),
    Command("storemanagedprivatekey", "store a private key (WIF) you type at a hidden prompt",
            WALLET_COMMANDS + "storemanagedprivatekey", args=(CHAIN,), flags=WALLET_FLAGS, env=PASSWORD_ENV,
            examples=("kms-ref --path=wallet.dat --testnet storemanagedprivatekey BTC",),
            details="Asks for the key, then the password (tatum-kms's order). The key must be a WIF of "
                    "this chain and network. Prints {\"signatureId\"}."),
    Command("generatemanagedprivatekeybatch", "COUNT new private keys, stored; one JSON line each",
            WALLET_COMMANDS + "generatemanagedprivatekeybatch",
            args=(CHAIN, Arg("COUNT", "how many keys, 1 to 100000")), flags=WALLET_FLAGS, env=PASSWORD_ENV,
            examples=("kms-ref --path=wallet.dat --testnet generatemanagedprivatekeybatch BTC 3",),
            details="Each key is index 1 of a fresh mnemonic, as tatum-kms makes them. Prints one "
                    "compact line {\"signatureId\",\"address\"} per key."),
    Command("getmanagedwallet", "the stored entry of a signature ID",
            WALLET_COMMANDS + "getmanagedwallet", args=(SIGNATURE_ID,), flags=WALLET_FLAGS, env=PASSWORD_ENV,
            examples=("kms-ref --path=wallet.dat getmanagedwallet " + EXAMPLE_ID,),
            details="Prints the entry: {\"mnemonic\", \"xpub\", \"chain\", \"testnet\"} or "
                    "{\"privateKey\", \"chain\", \"testnet\"}."),
    Command("getprivatekey", "private key INDEX of a mnemonic wallet (WIF)",
            WALLET_COMMANDS + "getprivatekey", args=(SIGNATURE_ID, INDEX), flags=WALLET_FLAGS + (TAPROOT,),
            env=PASSWORD_ENV,
            examples=("kms-ref --path=wallet.dat --testnet getprivatekey %s 0" % EXAMPLE_ID,
                      "kms-ref --path=wallet.dat --testnet getprivatekey %s 0 --taproot" % EXAMPLE_ID),
            details="Prints {\"privateKey\"}. For a private-key wallet, the stored key whatever INDEX. "
                    "The wallet's own network decides (as tatum-kms); a --testnet that disagrees with it "
                    "is reported on stderr. With --taproot (BTC), the BIP86 internal key P as WIF, not the "
                    "tweaked output key: what BIP86 wallets export, and stored back with "
                    "storemanagedprivatekey its Taproot address is the same."),
    Command("getaddress", "address INDEX of a mnemonic wallet",
            WALLET_COMMANDS + "getaddress", args=(SIGNATURE_ID, INDEX), flags=WALLET_FLAGS + (TAPROOT,),
            env=PASSWORD_ENV,
            examples=("kms-ref --path=wallet.dat --testnet getaddress %s 0" % EXAMPLE_ID,
                      "kms-ref --path=wallet.dat --testnet getaddress %s 0 --taproot" % EXAMPLE_ID),
            details="Prints {\"address\"}: BTC P2WPKH (bech32), LTC and DOGE P2PKH, BCH CashAddr. For a "
                    "private-key wallet, that key's address whatever INDEX. The wallet's own network "
                    "decides (as tatum-kms); a --testnet that disagrees with it is reported on stderr. "
                    "With --taproot (BTC), the BIP86 address (bech32m, bc1p/tb1p) of m/86'/coin'/0'/0/INDEX, "
                    "or of the stored key tweaked by BIP86."),
    Command("removewallet", "delete a stored entry",
            WALLET_COMMANDS + "removewallet", args=(SIGNATURE_ID,), flags=WALLET_FLAGS, env=PASSWORD_ENV,
            examples=("kms-ref --path=wallet.dat removewallet " + EXAMPLE_ID,),
            details="Prints nothing on success."),
    Command("export", "the whole decrypted store, newest entry first",
            WALLET_COMMANDS + "export", flags=WALLET_FLAGS, env=PASSWORD_ENV,
            examples=("kms-ref --path=wallet.dat export",),
            details="Prints every entry, mnemonics and keys included: mind who can see the screen."),
    Command("convert", "rewrite the wallet file in kms_ref's format or tatum-kms's",
            WALLET_COMMANDS + "convert",
            flags=WALLET_FLAGS + (Flag("to", TEXT, "the format to write: native (kms_ref's: scrypt, "
                                       "AES-GCM) or tatum (tatum-kms's)", "native|tatum"),),
            env=PASSWORD_ENV, examples=("kms-ref --path=wallet.dat convert --to native",),
            details="Prints {\"path\", \"format\"}. The entries and their signature IDs stay as they are."),
    Command("checkconfig", "paths, .env files read and environment, secrets masked (text)",
            "kms_ref.cli.diagnostics:checkconfig", group="Diagnostics",
            flags=(PATH, ENV_FILE) + PASSWORD_SOURCES,
            env=("TATUM_API_URL", "TATUM_API_KEY", "TATUM_KMS_PASSWORD"),
            examples=("kms-ref --path=wallet.dat checkconfig",),
            details="Prints text, not JSON (tatum-kms's layout): version, wallet path, whether it exists "
                    "and its format, the .env files actually read, and the environment with every "
                    "secret masked. Asks for no password."),
    Command("report", "wallet types, chains, networks and warnings, no secrets",
            "kms_ref.cli.diagnostics:report", group="Diagnostics",
            args=(Arg("IDS", "signature IDs, comma-separated (default: every wallet)", optional=True),),
            flags=WALLET_FLAGS, env=PASSWORD_ENV, examples=("kms-ref --path=wallet.dat report",),
            details="Prints {\"system\", \"wallets\", \"warnings\"}: what each wallet is and what is wrong "
                    "with it (an xpub that does not match its mnemonic, a key of another network)."),
    Command("daemon", "sign and broadcast pending transactions, every --period seconds",
            "kms_ref.daemon.main:main", group="Signing", kind="exit",
            flags=(PATH, TESTNET, CHAIN_LIST, API_KEY, PERIOD, EXTERNAL_URL, EXTERNAL_URL_METHOD, RUN_ONCE,
                   WALLETS, TRANSACTION_IDS, ENV_FILE) + PASSWORD_SOURCES,
            env=("TATUM_KMS_PASSWORD", "TATUM_API_KEY", "TATUM_API_URL", "KMS_REF_HTTP_TIMEOUT", "KMS_REF_DEBUG",
                 "HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE", "KMS_REF_CA_FILE", "KMS_REF_ALLOW_HTTP"),
            examples=("kms-ref daemon --path=wallet.dat --testnet --chain=BTC --period=10",
                      "kms-ref daemon --chain=BTC,LTC --externalUrl=https://approvals.example.com/kms"),
            exits=(EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNREACHABLE),
            exit_notes=((EXIT_OK, "stopped by SIGINT or SIGTERM, or --runOnce ran its cycle (even if "
                                  "transactions failed: they are reported to Tatum)"),
                        (EXIT_ERROR, "did not start: wrong password, no API key, a bad flag value, "
                                     "another daemon on this wallet")),
            details="Each cycle: for each chain, POST /v3/kms/pending/{chain} with the wallet's signature "
                    "IDs; for each pending transaction the four-eye check (--externalUrl), signing, every "
                    "signature verified, broadcast; failures to /v3/tatum/kms/batch. A journal beside the "
                    "wallet (FILE.journal) makes sure nothing is broadcast twice. The password is read "
                    "once at start and checked before any request; the API key must be set. Logs go to "
                    "stdout (info) and stderr (errors) with ISO timestamps, never a secret. SIGINT or "
                    "SIGTERM stops it after the current step (exit 0)."),
    Command("sign", "sign one pending transaction offline; --explain shows every step",
            "kms_ref.cli.sign:sign_command", group="Signing",
            args=(Arg("FILE", "the pending transaction: the record of GET /v3/kms/{id} as JSON, or - for "
                      "standard input (the default)", optional=True),),
            flags=(PATH, TESTNET,
                   Flag("explain", BOOL, "on stderr, each input's signature hash preimage field by field, "
                        "its digest, the signature's parts and the script or witness"),
                   Flag("showSecrets", BOOL, "with --explain, also the private key d, the nonce k and the "
                        "RFC 6979 state, to check s by hand; testnet only"),
                   Flag("textbook", BOOL, "with --explain, also compute each signature by the plain "
                        "double-and-add k*G and count its steps; the bytes must equal; testnet only"),
                   ENV_FILE) + PASSWORD_SOURCES,
            env=PASSWORD_ENV,
            examples=("curl -s $TATUM_API_URL/v3/kms/$ID -H \"x-api-key: $TATUM_API_KEY\" > pending.json\n"
                      "kms-ref --path=wallet.dat --testnet sign pending.json --explain",
                      "(echo \"$PASSWORD\"; cat pending.json) | kms-ref --path=wallet.dat --testnet sign -"),
            details="Reads one pending transaction - what GET /v3/kms/{id} answers (SPEC §4: id, chain, "
                    "serializedTransaction, hashes, signatures, ...), or a /v3/kms/pending list of one - "
                    "signs it with the wallet's keys and prints {\"txData\": \"<raw transaction hex>\"}. "
                    "Nothing is sent anywhere. The password is read before the transaction, so both can "
                    "come through one pipe."),
    Command("journal", "the daemon's journal: one transaction's story, or broadcasts by date",
            "kms_ref.cli.journal_command:journal", group="Diagnostics",
            args=(Arg("PENDING_ID", "a pending transaction's id (default: a summary of the journal)",
                      optional=True),),
            flags=(PATH,
                   Flag("from", TEXT, "the broadcasts from DATE on: 2024-01-31 (midnight UTC) or "
                        "2024-01-31T12:00:00Z", "DATE"),
                   Flag("to", TEXT, "the broadcasts before DATE (not included)", "DATE"),
                   ENV_FILE),
            examples=("kms-ref --path=wallet.dat journal",
                      "kms-ref --path=wallet.dat journal 61fe7c68cf2fbc595cbb89dd",
                      "kms-ref --path=wallet.dat journal --from=2024-01-01 --to=2024-02-01"),
            details="Reads FILE.journal and its history FILE.journal.d/ beside the wallet: without "
                    "arguments where they are, their size and the in-doubt IDs; with PENDING_ID every "
                    "event of that transaction and its state; with --from/--to the \"broadcast\" events "
                    "in that time. Asks for no password (the journal holds IDs, txids and times, never "
                    "a secret) and can be read while the daemon runs."),
    Command("sandbox", "a local Tatum v3 API with a faucet, to try everything offline",
            "kms_ref.cli.serve:sandbox", group="Trying it out", kind="exit",
            flags=(Flag("host", TEXT, "the address to listen on", "HOST", "127.0.0.1"),
                   Flag("port", NUMBER, "the port; 0 takes any free one", "PORT", "8080"),
                   Flag("apiKey", TEXT, "the x-api-key every request must carry (default: any non-empty key)", "KEY"),
                   Flag("state", TEXT, "keep the ledger in this JSON file across restarts", "FILE")),
            examples=("kms-ref sandbox --apiKey=my-key",),
            details="Serves SPEC §5's calls for the four chains with an in-memory ledger: POST "
                    "/v3/sandbox/faucet {\"address\", \"amount\"} funds an address, POST "
                    "/v3/{bitcoin,litecoin,dogecoin,bcash}/transaction queues a pending transaction, "
                    "broadcast checks every signature. Prints {\"listening\": URL, ...} when ready; "
                    "requests are logged on stderr. Stops on SIGINT or SIGTERM."),
    Command("demo", "the whole walkthrough, steps 1 to 8, against a private sandbox",
            "kms_ref.cli.demo:main", group="Trying it out", kind="exit",
            flags=(Flag("chain", TEXT, "the chain to walk through", "BTC|LTC|DOGE|BCH", "BTC"),
                   Flag("taproot", BOOL, "BTC: from and to BIP86 Taproot addresses (bc1p/tb1p)")),
            examples=("kms-ref demo", "kms-ref demo --chain BCH", "kms-ref demo --taproot"),
            details="Every step is a real kms-ref process or HTTP request; the wallet and the sandbox "
                    "are thrown away at the end, so the password and key it prints are harmless."),
    Command("selftest", "known answers of every primitive and derivation; exit 0 if all pass",
            "kms_ref.cli.selftest_command:selftest", group="Diagnostics", kind="exit",
            examples=("kms-ref selftest", "python3 -I -S kms-ref.pyz selftest"),
            exit_notes=((EXIT_ERROR, "a known answer came out wrong: do not use this copy of kms_ref"),),
            details="Runs the curated known-answer tests shipped inside the package (each names its "
                    "published source: RIPEMD-160, SHA-2/HMAC/PBKDF2/scrypt RFCs, RFC 6979, Wycheproof "
                    "ECDSA, BCH Schnorr, BIP32/39, bech32/bech32m, CashAddr, Base58Check, AES, sighashes, "
                    "a signed transaction and a Tatum xpub/address/WIF per chain) and prints "
                    "{\"passed\", \"failed\", \"seconds\"}. Needs no network, no wallet and no password; "
                    "the daemon runs a fast part of it at start and refuses to sign if any fails."),
    Command("help", "this list, or a command's help", "kms_ref.cli.help:help_command", group="Help",
            args=(Arg("COMMAND", "a command name", optional=True),),
            examples=("kms-ref help sign",)),
]

BY_NAME = {command.name: command for command in COMMANDS}
GROUPS = ("Wallets", "Signing", "Diagnostics", "Trying it out", "Help")   # the order of --help
