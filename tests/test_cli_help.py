"""The command line as people expect it (issue 13): help per command, conventions (--version,
unknown options named as typed, extra arguments, usage on stderr with exit 2), tatum-kms's
spellings, and errors that say what to do. Help and usage are checked in-process through
`main()`; what needs a wallet, a sandbox or a prompt runs as a real process."""

import json
import os
import socket
import subprocess
import sys

import pytest

from kms_ref import __version__
from kms_ref.cli import flags as F
from kms_ref.cli.args import parse_command_line
from kms_ref.cli.commands import BY_NAME, COMMANDS
from kms_ref.cli.main import exit_status as main   # main() itself raises SystemExit
from kms_ref.daemon import settings
from kms_ref.hd.masking import could_be_secret, shown
from kms_ref.net.timeouts import DEFAULT_TIMEOUT
from kms_ref.sandbox.server import DEFAULT_HOST, DEFAULT_PORT, start_sandbox
from kms_ref.store import WalletStore
from kms_ref.store.wallet_store import DEFAULT_PATH
from tests.cli_helpers import PASSWORD, REPO, kms
from tests.test_cli import KEYS, cheap_wallet

MNEMONIC = KEYS[0]["mnemonic"]
WIF = KEYS[0]["privateKeys"]["0"]          # a testnet BTC key
MAINNET_WIF = next(c for c in KEYS if c["chain"] == "BTC" and not c["testnet"])["privateKeys"]["0"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv):
    """A usage error: exit 2, nothing on stdout, a usage line, then exactly one JSON error line."""
    code, out, err = run(capsys, *argv)
    lines = err.splitlines()
    assert code == 2 and out == "", (code, out, err)
    assert lines[0].startswith("Usage: kms-ref"), err
    assert len([line for line in lines if line.startswith("{")]) == 1 and lines[-1].startswith("{"), err
    return json.loads(lines[-1])["error"], err


# --- help -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_command_has_its_help(capsys, name):
    command = BY_NAME[name]
    code, text, err = run(capsys, name, "--help")
    assert code == 0 and err == ""
    assert text.startswith("Usage: kms-ref %s" % name)
    for arg in command.args:
        assert "\n  %s " % arg.name in text
    for flag in command.flags:
        if not flag.hidden:
            assert "\n  --%s" % flag.name in text, flag.name
            assert flag.default in text
        if F.kebab(flag.name) != flag.name:
            assert "--" + F.kebab(flag.name) not in text      # one spelling in help: camelCase
    for variable in command.env:
        assert "\n  %s " % variable in text
    for example in command.examples:
        assert example.split("\n")[-1] in text
    exits = text[text.index("Exit codes:"):]
    assert [int(line.split()[0]) for line in exits.splitlines()[1:] if line[2:3].isdigit()] == list(command.exits)
    assert run(capsys, name, "-h")[1] == text and run(capsys, "help", name)[1] == text
    assert run(capsys, "--help", name)[1] == text   # the flag before the command, as tatum-kms allows


def test_sign_and_daemon_help_say_what_they_need(capsys):
    sign = run(capsys, "sign", "--help")[1]
    assert "GET /v3/kms/{id}" in sign and "--showSecrets" in sign and "--textbook" in sign
    daemon = run(capsys, "daemon", "--help")[1]
    for needed in ("KMS_REF_HTTP_TIMEOUT", "KMS_REF_DEBUG", "TATUM_KMS_PASSWORD", "a hidden prompt",
                   "--aws", "--azure", "--vgs", "TATUM_API_KEY", "--externalUrl", "--runOnce"):
        assert needed in daemon, needed
    exits = daemon[daemon.index("Exit codes:"):].splitlines()[1:]
    assert [line.split()[0] for line in exits if line[2:3].isdigit()] == ["0", "1", "2", "3"]


def test_global_help_lists_every_command_with_one_line(capsys):
    code, text, _ = run(capsys, "--help")
    assert code == 0 and run(capsys, "-h")[1] == text == run(capsys, "help")[1]
    for command in COMMANDS:
        assert text.count("\n  %s " % command.name) + text.count("\n  %s\n" % command.name) == 1, command.name
        assert command.summary in text.replace("\n" + " " * 36, " ")
    for code_number, meaning in F.EXIT_CODES.items():
        assert "\n  %d " % code_number in text


def test_help_defaults_are_the_codes_defaults():
    assert F.PATH.default == DEFAULT_PATH
    assert F.PERIOD.default == str(settings.DEFAULT_PERIOD)
    assert F.CHAIN_LIST.default == ",".join(settings.DEFAULT_CHAINS)
    assert F.EXTERNAL_URL_METHOD.default == "GET"
    sandbox = {f.name: f.default for f in BY_NAME["sandbox"].flags}
    assert sandbox["host"] == DEFAULT_HOST and sandbox["port"] == str(DEFAULT_PORT)
    assert "(default %g)" % DEFAULT_TIMEOUT in F.ENV["KMS_REF_HTTP_TIMEOUT"]
    assert {f.name: f.default for f in BY_NAME["demo"].flags}["chain"] == "BTC"


# --- conventions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["--version"], ["-V"], ["getaddress", "x", "-V"], ["--path=w", "--version"]])
def test_version(capsys, argv):
    assert run(capsys, *argv) == (0, "kms_ref %s\n" % __version__, "")


def test_no_command_is_usage_on_stderr_exit_2(capsys):
    message, err = usage_error(capsys)
    assert "no command" in message and "kms-ref --help" in message
    assert usage_error(capsys, "--testnet", "--path=w.dat")[0] == message


@pytest.mark.parametrize("argv,expected", [
    (["-p", "export"], "unknown option -p "),                       # today: "--p"
    (["export", "-p"], "unknown option -p "),
    (["export", "--frobnicate=3"], "unknown option --frobnicate "),
    (["--frobnicate"], "unknown option --frobnicate "),
    (["generatewallet", "BTC", "xyzzy"], "too many arguments: generatewallet takes CHAIN, and 'xyzzy'"),
    (["export", "more"], "export takes no arguments"),
    (["getaddress", "a", "0", "1"], "takes SIGNATURE_ID INDEX"),
    (["export", "--port", "5"], "--port is not an option of export, only of sandbox"),
    (["--testnet=maybe", "export"], "--testnet takes true or false"),
    (["export", "--path"], "--path needs a value"),
    (["daemon", "--period=inf"], "--period needs a number such as 5 or 0.5, not 'inf'"),
    (["daemon", "--period", "5s"], "--period needs a number such as 5 or 0.5, not '5s'"),
    (["frobnicate"], "unsupported command 'frobnicate'"),
    (["getadress"], "did you mean getaddress?"),
    (["help", "frobnicate"], "no command 'frobnicate'"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_usage_errors(capsys, argv, expected):
    message, err = usage_error(capsys, *argv)
    assert expected in message
    assert "=3" not in err   # an option's value is never repeated: it could be a secret


def test_missing_argument_is_a_usage_error(tmp_path):
    r = kms(tmp_path, "getaddress")
    assert r.code == 2 and r.err.startswith("Usage: kms-ref getaddress SIGNATURE_ID INDEX")
    assert "missing argument: the signature ID" in r.error()


@pytest.mark.parametrize("argv", [
    ["storemanagedwallet", "BTC"] + MNEMONIC.split(),       # a mnemonic pasted without quotes
    ["storemanagedwallet", "BTC", MNEMONIC],
    ["generatewallet", "BTC", WIF],
    [WIF],
    ["export", "--" + WIF],
    ["export", "--mnemonic=" + MNEMONIC],
    ["export", "--private-key", WIF],
    ["getaddress", "x", "0", "11" * 32],
], ids=["words", "mnemonic", "wif-argument", "wif-command", "wif-option", "secret-flag", "secret-flag-2", "hex"])
def test_a_secret_in_the_wrong_slot_is_not_echoed(capsys, argv):
    _, err = usage_error(capsys, *argv)
    words = MNEMONIC.split()
    assert WIF not in err and "11" * 32 not in err
    assert " ".join(words[:2]) not in err and " ".join(words[1:3]) not in err


def test_masking_decides_by_shape():
    for secret in (WIF, MAINNET_WIF, "11" * 32, MNEMONIC, "abandon ability", "abandon", "tprv8ZgxMBicQKsPd9TeAdPADNnSyH9SSUUbTVeFszDE23Ki6TBB5nCefAdHkK8Fm3qMQR6sHwA56zqRmKmxnHk37JkiFzvncDqoKmPWubu7hDF"):
        assert could_be_secret(secret) and secret not in shown(secret)
    for plain in ("-p", "--frobnicate", "ETH", "BTC,LTC", "31478382-490f-4d8d-a865-3eb003f06316",
                  "wallet.dat", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"):
        assert not could_be_secret(plain) and shown(plain, quote=False) == plain


# --- tatum-kms's command lines keep working ----------------------------------------------------------

@pytest.mark.parametrize("argv,expected", [
    (["--path=w.dat", "--testnet", "export"], {"path": "w.dat", "testnet": True}),
    (["export", "--path", "w.dat", "--testnet"], {"path": "w.dat", "testnet": True}),
    (["--testnet=false", "export"], {"testnet": False}),
    (["--testnet=true", "export"], {"testnet": True}),
    (["export", "--testnet=0"], {"testnet": False}),
    (["export", "--no-testnet"], {"testnet": False}),
    (["export", "--noTestnet"], {"testnet": False}),
    (["export", "--testnet", "--no-testnet"], {"testnet": False}),
    (["daemon", "--api-key", "k"], {"apiKey": "k"}),
    (["daemon", "--api_key=k"], {"apiKey": "k"}),
    (["--apiKey=k", "daemon"], {"apiKey": "k"}),
    (["daemon", "--run-once", "--env-file=e", "--external-url-method=post"],
     {"runOnce": True, "envFile": "e", "externalUrlMethod": "post"}),
    (["daemon", "--wallets=a,b", "--transaction-ids", "x"], {"wallet": "a,b", "transactionIds": "x"}),
    (["daemon", "--wallet=a"], {"wallet": "a"}),
    (["daemon", "--period", "10", "--chain=BTC"], {"period": 10, "chain": "BTC"}),
    (["generatewallet", "BTC", "--chain=LTC", "--period=3", "--runOnce", "--externalUrl=x", "--aws"],
     {"chain": "LTC", "period": 3, "runOnce": True, "externalUrl": "x", "aws": True}),   # tatum-kms ignores them
    (["sign", "-", "--show-secrets", "--textbook"], {"showSecrets": True, "textbook": True}),
])
def test_tatum_kms_spellings(argv, expected):
    assert parse_command_line(argv).flags == expected


@pytest.mark.parametrize("argv,args", [
    (["getaddress", "ID", "-1"], ["ID", "-1"]),                 # a negative index reaches kms_ref's check
    (["getaddress", "--", "-ID", "0"], ["-ID", "0"]),
    (["--", "getaddress", "-ID", "0"], ["-ID", "0"]),
    (["--path", "getaddress", "export"], []),                    # a value that looks like a command
    (["sign", "-"], ["-"]),
    (["report", "a,b", "--testnet"], ["a,b"]),
])
def test_arguments_in_any_position(argv, args):
    assert parse_command_line(argv).args == args


def test_testnet_spellings_change_the_answer(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for argv, prefix in ((["--testnet=true", "generatewallet", "BTC"], "tpub"),
                         (["generatewallet", "BTC", "--testnet=false"], "xpub"),
                         (["generatewallet", "BTC", "--testnet", "--no-testnet"], "xpub")):
        code, out, err = run(capsys, *argv)
        assert code == 0 and json.loads(out)["xpub"].startswith(prefix), err


def test_the_registry_is_consistent():
    assert len(BY_NAME) == len(COMMANDS)
    for command in COMMANDS:
        assert set(command.exits) <= set(F.EXIT_CODES) and set(command.env) <= set(F.ENV)
        assert command.kind in ("output", "exit") and ":" in command.run
        names = [s for f in command.flags for s in f.spellings() + f.negations()]
        assert len(names) == len(set(names)), command.name


# --- errors that say what to do ------------------------------------------------------------------------

def test_prompt_ends_its_line_when_stdin_is_not_a_terminal(tmp_path):
    r = kms(tmp_path, "--path=w.dat", "--testnet", "storemanagedprivatekey", "BTC", stdin="not-a-key\n", password=None)
    lines = r.err.splitlines()
    assert lines[0] == "Enter private key to store:" and lines[-1].startswith('{"error"')
    assert "not-a-key" not in r.err


def test_checkconfig_names_the_env_files_it_read(tmp_path):
    row = lambda r: next(l for l in r.out.splitlines() if l.startswith("Environment files read"))  # noqa: E731
    assert row(kms(tmp_path, "checkconfig")).endswith(": none")
    (tmp_path / ".env").write_text("TATUM_API_URL=http://127.0.0.1:1\n")
    (tmp_path / "other.env").write_text("TATUM_API_KEY=abc\n")
    r = kms(tmp_path, "checkconfig", "--envFile=other.env")
    assert row(r).endswith(": %s, %s" % (tmp_path / ".env", tmp_path / "other.env"))
    assert "http://127.0.0.1:1" in r.out and "abc" not in r.out


def test_a_network_that_disagrees_with_the_wallet_is_pointed_out(tmp_path):
    wallet = tmp_path / "w.dat"
    cheap_wallet(wallet, [{"privateKey": WIF, "chain": "BTC", "testnet": True},
                          {"privateKey": MAINNET_WIF, "chain": "BTC", "testnet": False}])
    test_id, main_id = _ids(wallet)
    same = kms(tmp_path, "--path", str(wallet), "--testnet", "getaddress", test_id, "0")
    assert same.code == 0 and "warning" not in same.err
    forgot = kms(tmp_path, "--path", str(wallet), "getaddress", test_id, "0")
    assert forgot.json() == same.json() and "add --testnet" in forgot.err
    extra = kms(tmp_path, "--path", str(wallet), "--testnet", "getprivatekey", main_id, "0")
    assert extra.json() == {"privateKey": MAINNET_WIF} and "does not change it" in extra.err


def _ids(wallet):
    """(the testnet entry's ID, the mainnet entry's ID)."""
    with WalletStore(str(wallet)).open(PASSWORD) as w:
        entries = {i: w.get(i) for i in w.ids()}
    return tuple(next(i for i, e in entries.items() if e["testnet"] is net) for net in (True, False))


def test_an_unknown_signature_id_names_the_wallet_file(tmp_path):
    wallet = tmp_path / "w.dat"
    cheap_wallet(wallet)
    r = kms(tmp_path, "--path", str(wallet), "getmanagedwallet", "00000000-0000-4000-8000-000000000000")
    assert r.code == 1 and r.error().endswith("in %s" % wallet)


def test_sandbox_port_in_use_names_the_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = kms(tmp_path, "sandbox", "--port=%d" % port, password=None)
    assert r.code == 1 and "port %d on 127.0.0.1 is already in use" % port in r.error() and "--port" in r.error()


def test_run_once_with_a_wrong_api_key_does_not_promise_retries(tmp_path):
    wallet = tmp_path / "w.dat"
    cheap_wallet(wallet)
    with start_sandbox(api_key="the-right-key") as sandbox:
        r = kms(tmp_path, "daemon", "--path", str(wallet), "--testnet", "--chain=BTC", "--runOnce",
                env={"TATUM_API_URL": sandbox.url, "TATUM_API_KEY": "a-wrong-key"})
    assert r.code == 3, r.err
    assert "HTTP 401" in r.err and "--runOnce: no retry" in r.err and "check TATUM_API_KEY" in r.err
    assert "back off" not in r.err and "a-wrong-key" not in r.out + r.err


def test_python_m_and_help_need_no_wallet(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "kms_ref", "daemon", "--help"], capture_output=True, text=True,
                          cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=REPO, HOME=str(tmp_path)))
    assert proc.returncode == 0 and proc.stdout.startswith("Usage: kms-ref daemon") and not os.listdir(tmp_path)

