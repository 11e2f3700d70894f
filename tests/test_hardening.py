"""Issue 10 §2 and §4 through real `python -m kms_ref` processes: secrets kept out of core dumps
and out of error messages, and bad input — endless, deep, non-ASCII, a FIFO, an edited header, a
missing directory — answered with one line of error and nothing changed."""

import json
import re
import os
import resource
import signal
import subprocess
import sys
import threading

import pytest

from kms_ref.hd.bip32 import parse_path
from kms_ref.hd.masking import shown
from kms_ref.store import WalletStore
from tests.cli_helpers import PASSWORD, REPO, kms
from tests.fake_tatum import FakeTatum, Reply
from tests.test_daemon import BTC_1, daemon_running, wallet_for

WIF = "L1aW4aubDFB7yfras2S1mN3bqg9nwySY8nkoLmJebSLD5BWv3ENZ"          # mainnet, compressed
XPRV = ("xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBe"
        "J4kkfXhHAENBhKB")
HEX_KEY = "e8f32e723decf4051aefac8e2c93c9c5b214313817cdb01a1494b917c8436b35"
MNEMONIC = "abandon ability able about above absent absorb abstract absurd abuse access accident"
SECRETS = {"wif": WIF, "xprv": XPRV, "hex": HEX_KEY, "mnemonic": MNEMONIC, "word": "abandon"}


def file_size(path):
    return os.stat(path).st_size if os.path.exists(path) else None


def cheap_wallet(tmp_path, *cases):
    """wallet.dat with the keys of `cases` (default BTC_1), made in-process with a cheap scrypt."""
    return wallet_for(tmp_path, *(cases or (BTC_1,)))


# -- §2 core dumps ---------------------------------------------------------------------------------

# Run in a helper process: with CAP_SYS_PTRACE out of its effective set (root has it; other users
# do not), the kernel lets it attach to a process of the same user only if that process is
# dumpable (ptrace(2), "Ptrace access mode checking", step 5). PTRACE_SEIZE does not stop the target.
PTRACE_PROBE = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
class Header(ctypes.Structure): _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
class Data(ctypes.Structure): _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]
header, data = Header(0x20080522, 0), (Data * 2)()     # _LINUX_CAPABILITY_VERSION_3
assert libc.capget(ctypes.byref(header), data) == 0
data[0].effective = data[1].effective = 0
assert libc.capset(ctypes.byref(header), data) == 0
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
print("attached" if libc.ptrace(0x4206, int(sys.argv[1]), None, None) == 0 else "refused")
"""


def dumpable(pid):
    """Whether the kernel treats process `pid` as dumpable, seen from outside it."""
    if os.geteuid() != 0:   # proc(5): the files of a non-dumpable process belong to root
        return os.stat("/proc/%d/status" % pid).st_uid != 0
    probe = subprocess.run([sys.executable, "-c", PTRACE_PROBE, str(pid)], capture_output=True, text=True,
                           timeout=30)
    assert probe.returncode == 0, probe.stderr
    return probe.stdout.strip() == "attached"


def core_limit(pid):
    """(soft, hard) of RLIMIT_CORE from /proc/<pid>/limits."""
    with open("/proc/%d/limits" % pid) as f:
        [line] = [line for line in f if line.startswith("Max core file size")]
    return tuple(line.split()[4:6])


def allow_core_dumps():
    """preexec_fn: core files as large as the hard limit allows, so that a 0 afterwards is the
    process's own doing."""
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def test_a_running_daemon_writes_no_core_and_cannot_be_inspected(tmp_path):
    """A daemon holds the password, the keys and the API key: RLIMIT_CORE is 0 (soft and hard) and
    it is not dumpable — where a plain Python process started the same way, the control, is."""
    wallet, txs = cheap_wallet(tmp_path)
    control = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], preexec_fn=allow_core_dumps)
    with FakeTatum() as api:
        api.pending = txs
        environ = dict({k: v for k, v in os.environ.items() if not k.startswith("TATUM_")}, HOME=str(tmp_path),
                       PYTHONPATH=REPO, TATUM_KMS_PASSWORD=PASSWORD, TATUM_API_KEY=api.api_key,
                       TATUM_API_URL=api.url)
        daemon = subprocess.Popen([sys.executable, "-m", "kms_ref", "daemon", "--path", str(wallet), "--testnet",
                                   "--period", "60"], cwd=str(tmp_path), env=environ, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  preexec_fn=allow_core_dumps)
        try:
            assert "daemon: wallet" in daemon.stdout.readline()       # started: password read, wallet open
            assert core_limit(daemon.pid) == ("0", "0")
            assert not dumpable(daemon.pid)
            assert dumpable(control.pid)
        finally:
            control.kill()
            control.wait()
            daemon.send_signal(signal.SIGTERM)
            daemon.communicate(timeout=30)


@pytest.mark.parametrize("command", [["export"], ["generatewallet", "BTC"], ["sign", "-"]])
def test_every_command_turns_core_dumps_off(tmp_path, command):
    """Commands that hold a secret only for a moment: seen from inside, through the same calls."""
    probe = ("import resource, sys; from kms_ref.cli import main as m; from kms_ref.passwords import core_dumps;"
             "m.emit = lambda result: print(resource.getrlimit(resource.RLIMIT_CORE), core_dumps.is_dumpable());"
             "sys.exit(m.main(sys.argv[1:]))")
    wallet, [tx] = cheap_wallet(tmp_path)
    stdin = json.dumps(tx) if command == ["sign", "-"] else ""
    r = subprocess.run([sys.executable, "-c", probe, "--path", str(wallet), "--testnet", *command],
                       input=stdin, capture_output=True, text=True, cwd=str(tmp_path), timeout=60,
                       preexec_fn=allow_core_dumps,
                       env=dict(os.environ, HOME=str(tmp_path), TATUM_KMS_PASSWORD=PASSWORD,
                                PYTHONPATH=REPO))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "(0, 0) False"


# -- §2 a secret in the wrong slot -----------------------------------------------------------------

def _slots(secret):
    """(name, argv, stdin) for every slot where a user might paste a secret by mistake."""
    return [
        ("chain", ["storemanagedprivatekey", secret], ""),
        ("command", [secret], ""),
        ("command-words", secret.split(), ""),
        ("period", ["daemon", "--testnet", "--period", secret], ""),
        ("daemon-chain", ["daemon", "--testnet", "--chain", "BTC," + secret], ""),
        ("flag-name", ["--" + secret.replace(" ", "-"), "export"], ""),
        ("flag-name-with-value", ["export", "--%s=1" % secret.replace(" ", "-")], ""),
        ("sign-file", ["sign", secret], ""),
        ("externalUrlMethod", ["daemon", "--externalUrl", "http://127.0.0.1:9", "--externalUrlMethod", secret], ""),
        ("index", ["getaddress", "31478382-490f-4d8d-a865-3eb003f06316", secret], ""),
    ]


@pytest.mark.parametrize("kind", list(SECRETS))
def test_a_secret_in_the_wrong_slot_is_not_echoed(tmp_path, kind):
    secret = SECRETS[kind]
    for name, argv, stdin in _slots(secret):
        r = kms(tmp_path, *argv, stdin=stdin, env={"TATUM_API_KEY": "k"})
        error = r.error()
        for part in {secret} | ({w for w in secret.split() if len(w) > 3} if " " in secret else set()):
            assert part not in r.err + r.out, (name, r.err)
        if name in ("chain", "command", "period", "daemon-chain", "flag-name", "sign-file"):
            assert re.search(r"<\d+ characters, hidden: it may be a secret>", error), (name, error)


def test_a_secret_as_the_pending_transactions_chain(tmp_path):
    """`sign` and the daemon: the "chain" field comes from outside; its text is not repeated."""
    wallet, [tx] = cheap_wallet(tmp_path)
    bad = dict(tx, chain=WIF)
    r = kms(tmp_path, "--path", str(wallet), "--testnet", "sign", "-", stdin=json.dumps(bad))
    assert "unsupported chain <52 characters, hidden" in r.error() and WIF not in r.err
    with FakeTatum() as api:
        api.script("POST", "/v3/kms/pending/BTC", Reply(200, [bad]))
        r = kms(tmp_path, "daemon", "--path", str(wallet), "--testnet", "--runOnce", "--chain", "BTC",
                env={"TATUM_API_KEY": api.api_key, "TATUM_API_URL": api.url})
        assert r.code == 0, r.err
        [report] = api.batch_errors()
        assert "unsupported chain <52 characters, hidden" in report["error"]
        assert WIF not in r.out + r.err and WIF not in json.dumps(api.batch_errors())


def test_masking_rules():
    assert shown("ETH") == "'ETH'" and shown(17) == "17" and shown("BTC\n") == "'BTC\\n'"
    assert shown("pending.json") == "'pending.json'" and shown("abc", quote=False) == "abc"
    for secret in SECRETS.values():
        assert shown(secret) == "<%d characters, hidden: it may be a secret>" % len(secret)   # not one letter of it
    assert "hidden" in shown("x" * 101) and "hidden" in shown("see " + HEX_KEY.upper())


@pytest.mark.parametrize("where", ["environment", "stdin"])
def test_a_password_that_is_not_utf8_is_refused_without_its_bytes(tmp_path, where):
    wallet, _ = cheap_wallet(tmp_path)
    before = open(wallet, "rb").read()
    raw = b"s3cr\xffw\xfe"
    environ = dict({k: v for k, v in os.environ.items() if not k.startswith("TATUM_")}, HOME=str(tmp_path),
                   PYTHONPATH=REPO, LC_ALL="C.UTF-8")
    if where == "environment":
        environ = {k.encode(): v.encode() for k, v in environ.items()}
        environ[b"TATUM_KMS_PASSWORD"] = raw
    r = subprocess.run([sys.executable, "-m", "kms_ref", "--path", str(wallet), "export"], cwd=str(tmp_path),
                       input=raw + b"\n" if where == "stdin" else b"", env=environ, capture_output=True, timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 1 and len(err.splitlines()) in (1, 2), err   # (the prompt, then the error)
    assert "not valid UTF-8" in json.loads(err.splitlines()[-1])["error"]
    for leak in ("ff", "fe", "\\udc", "position", "s3cr"):
        assert leak not in err.splitlines()[-1].lower(), err
    assert open(wallet, "rb").read() == before


def test_help_recommends_the_environment_for_the_api_key(tmp_path):
    text = " ".join(kms(tmp_path, "daemon", "--help").out.split())
    assert "visible in ps" in text and "prefer TATUM_API_KEY or the .env file" in text


def test_api_key_on_the_command_line_is_warned_about(tmp_path):
    wallet, txs = cheap_wallet(tmp_path)
    with FakeTatum() as api:
        api.pending = txs
        r = kms(tmp_path, "daemon", "--path", str(wallet), "--testnet", "--runOnce", "--apiKey", api.api_key,
                env={"TATUM_API_URL": api.url})
    assert r.code == 0, r.err
    assert "set TATUM_API_KEY or put it in the .env file" in r.err and api.api_key not in r.out + r.err


def test_credentials_in_urls_are_not_logged(tmp_path):
    """A four-eye or API URL may carry user:password@; log lines show the URL without it."""
    wallet, txs = cheap_wallet(tmp_path)
    with FakeTatum() as api:
        api.pending = txs
        with_credentials = api.url.replace("http://", "http://approver:s3cretpw@")
        r = kms(tmp_path, "daemon", "--path", str(wallet), "--testnet", "--runOnce",
                "--externalUrl", with_credentials + "/external",
                env={"TATUM_API_KEY": api.api_key, "TATUM_API_URL": with_credentials.replace("s3cretpw", "apipw")})
    assert r.code == 0, r.err
    assert "External url 'http://***@127.0.0.1:" in r.out and "API http://***@127.0.0.1:" in r.out
    assert "s3cretpw" not in r.out + r.err and "apipw" not in r.out + r.err


# -- §4 bad input and resource exhaustion ----------------------------------------------------------

def test_fifo_at_the_wallet_path_is_refused(tmp_path):
    fifo = tmp_path / "wallet.dat"
    os.mkfifo(fifo)
    for argv in (["export"], ["getaddress", "31478382-490f-4d8d-a865-3eb003f06316", "0"],
                 ["generatemanagedwallet", "BTC"]):
        r = kms(tmp_path, "--path", str(fifo), *argv, timeout=60)    # blocked in open() forever, before
        assert "not a regular file" in r.error()


def test_fifo_as_the_env_file_is_refused(tmp_path):
    """./.env is read before anything else; a FIFO there blocked open() forever."""
    os.mkfifo(tmp_path / ".env")
    r = kms(tmp_path, "--path", str(tmp_path / "wallet.dat"), "export", timeout=60)
    assert r.error().endswith(".env: not a regular file")


def test_fifo_as_the_journal_is_refused(tmp_path):
    """The journal is opened read-write: a FIFO there opened at once and the first read then
    waited for ever. Run in a thread so that a regression fails instead of hanging."""
    from kms_ref.daemon.journal import Journal, JournalError

    os.mkfifo(tmp_path / "journal")
    outcome = []

    def open_it():
        try:
            Journal(str(tmp_path / "journal")).open()
            outcome.append("opened")
        except JournalError as e:
            outcome.append(str(e))

    thread = threading.Thread(target=open_it, daemon=True)
    thread.start()
    thread.join(30)
    assert outcome == ["cannot open the journal %s: not a regular file" % (tmp_path / "journal")]


def test_edited_scrypt_parameters_are_refused_at_once(tmp_path):
    """"p": 2000000 is about four hours of scrypt per command; this must answer within the timeout."""
    wallet, _ = cheap_wallet(tmp_path)
    lines = open(wallet).read().splitlines()
    header = json.loads(lines[0])
    header["kdf"]["p"] = 2000000
    lines[0] = json.dumps(header, separators=(",", ":"))
    open(wallet, "w").write("\n".join(lines) + "\n")
    before = open(wallet, "rb").read()
    r = kms(tmp_path, "--path", str(wallet), "export", timeout=60)
    assert r.error() == "wallet file is damaged or was modified outside kms_ref (scrypt parameters out of range)"
    assert open(wallet, "rb").read() == before


def test_a_running_daemon_is_not_held_by_an_edited_header(tmp_path):
    """The daemon reloads a changed wallet file: an edited "p" must not hold it (it once took 1.9 GB
    and ignored SIGTERM) — it keeps the version it has, goes on cycling, and stops on SIGTERM."""
    wallet, txs = cheap_wallet(tmp_path)
    with FakeTatum() as api:
        api.pending = txs
        with daemon_running(tmp_path, api, wallet, "--testnet", "--period", "0.2", "--chain", "BTC") as proc:
            assert "daemon: wallet" in proc.stdout.readline()
            lines = open(wallet).read().splitlines()
            header = json.loads(lines[0])
            header["kdf"]["p"] = 2000000
            lines[0] = json.dumps(header, separators=(",", ":"))
            edited = tmp_path / "edited.dat"          # replaced by rename, as every writer does
            edited.write_text("\n".join(lines) + "\n")
            os.replace(edited, wallet)
            asked = len(api.calls_to("/v3/kms/pending/"))
            assert api.wait_for(lambda: len(api.calls_to("/v3/kms/pending/")) >= asked + 3), "it stopped cycling"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "changed but cannot be opened (wallet file is damaged or was modified outside kms_ref " \
           "(scrypt parameters out of range)); still using the previous version" in err


def test_sign_reads_at_most_16_mib(tmp_path):
    wallet, _ = cheap_wallet(tmp_path)
    r = kms(tmp_path, "--path", str(wallet), "--testnet", "sign", "/dev/zero", timeout=120)
    assert "larger than 16 MiB" in r.error()
    env = dict({k: v for k, v in os.environ.items() if not k.startswith("TATUM_")}, HOME=str(tmp_path),
               TATUM_KMS_PASSWORD=PASSWORD, PYTHONPATH=REPO)
    proc = subprocess.Popen([sys.executable, "-m", "kms_ref", "--path", str(wallet), "--testnet", "sign", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            cwd=str(tmp_path))

    def yes():   # `yes '{' | kms-ref sign -`: never ends on its own
        try:
            while True:
                proc.stdin.write(b"{\n" * 65536)
        except (BrokenPipeError, ValueError, OSError):
            pass

    writer = threading.Thread(target=yes, daemon=True)
    writer.start()
    err = proc.stderr.read()          # until the process exits: it must, on its own
    proc.wait(timeout=120)
    assert proc.returncode == 1 and "larger than 16 MiB" in json.loads(err.decode().splitlines()[-1])["error"]


@pytest.mark.parametrize("text", ["[" * 100000, '{"a":' * 50000 + "1" + "}" * 50000,
                                  "[" * 40 + "]" * 40], ids=["open", "closed", "40-levels"])
def test_sign_refuses_deep_json(tmp_path, text):
    wallet, _ = cheap_wallet(tmp_path)
    r = kms(tmp_path, "--path", str(wallet), "--testnet", "sign", "-", stdin=text)
    error = r.error()
    assert "internal error" not in error and ("nested deeper than 32 levels" in error or "not valid JSON" in error)


def test_deep_serialized_transaction(tmp_path):
    wallet, [tx] = cheap_wallet(tmp_path)
    r = kms(tmp_path, "--path", str(wallet), "--testnet", "sign", "-",
            stdin=json.dumps(dict(tx, serializedTransaction="[" * 100000)))
    assert "serializedTransaction is nested deeper than 32 levels" in r.error()


@pytest.mark.parametrize("value", ["inf", "Infinity", "nan", "1e999", "1_0", "３", "-5", "99999999999", "0x10"])
def test_period_must_be_a_plain_number(tmp_path, value):
    r = kms(tmp_path, "daemon", "--testnet", "--period", value, env={"TATUM_API_KEY": "k"})
    error = r.error()
    assert "internal error" not in error and error.startswith("--period needs a number such as 5 or 0.5")


def test_period_above_a_day_is_refused(tmp_path):
    wallet, _ = cheap_wallet(tmp_path)
    r = kms(tmp_path, "daemon", "--path", str(wallet), "--testnet", "--period", "86401", env={"TATUM_API_KEY": "k"})
    assert "--period must be a number of seconds above 0 and at most 86400" in r.error()


@pytest.mark.parametrize("index", ["١", "３", "²", "1" * 5000, "1_0", " 1e3"],
                         ids=["arabic-indic", "fullwidth", "superscript", "5000-digits", "underscore", "exponent"])
def test_indexes_are_ascii_digits(tmp_path, index):
    wallet, _ = cheap_wallet(tmp_path)
    with WalletStore(str(wallet)).open(PASSWORD) as opened:
        sig_id = opened.ids()[0]
    for command in ("getaddress", "getprivatekey"):
        r = kms(tmp_path, "--path", str(wallet), "--testnet", command, sig_id, index)
        assert r.error() == "index must be a whole number between 0 and 2147483647"
    r = kms(tmp_path, "--path", str(wallet), "--testnet", "generatemanagedprivatekeybatch", "BTC", index)
    assert r.error().startswith("the number of keys must be a whole number")


@pytest.mark.parametrize("path", ["m/٤٤'", "m/４４'/0", "m/1_0", "m/" + "1" * 5000],
                         ids=["arabic-indic", "fullwidth", "underscore", "5000-digits"])
def test_bip32_path_digits_are_ascii(path):
    with pytest.raises(ValueError, match="bad derivation path component"):
        parse_path(path)


def test_missing_directories_are_not_created(tmp_path):
    r = kms(tmp_path, "--path", "a/b/c/w.dat", "--testnet", "generatemanagedwallet", "BTC")
    assert "does not exist; create it first" in r.error()
    assert sorted(os.listdir(tmp_path)) == []
    r = kms(tmp_path, "--testnet", "generatemanagedwallet", "BTC")        # the default: ~/.tatumrc is made
    assert r.code == 0, r.err
    assert oct(os.stat(tmp_path / ".tatumrc").st_mode & 0o777) == "0o700"
