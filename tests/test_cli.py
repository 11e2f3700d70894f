"""Every wallet command of SPEC §3 through a real `python -m kms_ref` process."""

import json
import os
import stat
import subprocess
import sys

import pytest

from kms_ref.crypto.openssl_salted import openssl_decrypt
from kms_ref.hd import bip39, tatum
from kms_ref.hd.chains import CHAINS, get_chain
from kms_ref.store import WalletStore
from tests.cli_helpers import PASSWORD, REPO, kms, kms_command
from tests.vectors import load

KEYS = load("tatum_keys.json")["vectors"]
WALLET_FILES = load("tatum_walletdat.json")["vectors"]
CHEAP_SCRYPT = (2 ** 10, 8, 1)  # test files only: the CLI reads the cost from the file


def cheap_wallet(path, entries=()):
    """A native wallet file made in-process with a low scrypt cost, so that the many CLI
    processes of these tests unlock it quickly. Holds at least one entry (a file is written
    only when something changes)."""
    with WalletStore(str(path)).transaction(PASSWORD, scrypt_params=CHEAP_SCRYPT) as wallet:
        for entry in entries or [{"privateKey": KEYS[0]["privateKeys"]["0"], "chain": "BTC", "testnet": True}]:
            wallet.add(entry)


@pytest.mark.parametrize("chain,testnet", sorted(CHAINS), ids=["%s-%s" % (c, "test" if t else "main") for c, t in sorted(CHAINS)])
def test_generatewallet(tmp_path, chain, testnet):
    args = ["generatewallet", chain] + (["--testnet"] if testnet else [])
    r = kms(tmp_path, *args, password=None)
    assert r.code == 0, r.err
    out = r.json()
    assert list(out) == ["mnemonic", "xpub"]
    assert len(out["mnemonic"].split()) == 24 and bip39.validate_mnemonic(out["mnemonic"])
    assert out["xpub"] == tatum.xpub_from_mnemonic(get_chain(chain, testnet), out["mnemonic"])
    assert r.out == json.dumps(out, indent=2) + "\n"  # JSON.stringify(x, null, 2)
    assert not os.path.exists(tmp_path / ".tatumrc")  # nothing stored


def test_tatum_fixtures_through_the_cli(tmp_path):
    """Store every fixture mnemonic with storemanagedwallet (typed on stdin), then read back the
    xpub, an address and a key per wallet — all must equal Tatum's."""
    wallet = tmp_path / "wallet.dat"
    cheap_wallet(wallet)
    for case in KEYS:
        args = ["--path", str(wallet), "storemanagedwallet", case["chain"]] + (["--testnet"] if case["testnet"] else [])
        r = kms(tmp_path, *args, stdin=case["mnemonic"] + "\n")
        assert r.code == 0, r.err
        out = r.json()
        assert list(out) == ["signatureId", "xpub"] and out["xpub"] == case["xpub"]
        index = max(case["addresses"], key=int)  # the largest index: up to 2^31 - 1
        r = kms(tmp_path, "--path=" + str(wallet), "getaddress", out["signatureId"], index)
        assert r.json() == {"address": case["addresses"][index]}, r.err
        r = kms(tmp_path, "getprivatekey", out["signatureId"], index, "--path", str(wallet))
        assert r.json() == {"privateKey": case["privateKeys"][index]}, r.err
        r = kms(tmp_path, "getmanagedwallet", out["signatureId"], "--path", str(wallet))
        assert r.json() == {"mnemonic": case["mnemonic"], "xpub": case["xpub"],
                            "chain": case["chain"], "testnet": case["testnet"]}
        assert list(r.json()) == ["mnemonic", "xpub", "chain", "testnet"]


def test_seed_walkthrough_steps_1_to_4(tmp_path):
    """generatemanagedwallet → getprivatekey → getaddress → storemanagedprivatekey → export."""
    path = "--path=wallet.dat"
    r = kms(tmp_path, path, "--testnet", "generatemanagedwallet", "BTC")
    wallet_id, xpub = r.json()["signatureId"], r.json()["xpub"]
    assert xpub.startswith("tpub")
    key = kms(tmp_path, path, "--testnet", "getprivatekey", wallet_id, "0").json()["privateKey"]
    address = kms(tmp_path, path, "--testnet", "getaddress", wallet_id, "0").json()["address"]
    assert address.startswith("tb1q") and key[0] in "c"
    r = kms(tmp_path, path, "--testnet", "storemanagedprivatekey", "BTC", stdin=key + "\n")
    key_id = r.json()["signatureId"]
    assert list(r.json()) == ["signatureId"]
    exported = kms(tmp_path, path, "--testnet", "export").json()
    assert list(exported) == [key_id, wallet_id]  # newest first, as tatum-kms
    assert exported[key_id] == {"privateKey": key, "chain": "BTC", "testnet": True}
    assert exported[wallet_id]["xpub"] == xpub
    # a private-key wallet answers with its own key and address (tatum-kms crashes here)
    assert kms(tmp_path, path, "getaddress", key_id, "0").json() == {"address": address}
    assert kms(tmp_path, path, "getprivatekey", key_id, "5").json() == {"privateKey": key}
    mode = os.stat(tmp_path / "wallet.dat").st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_default_path_and_private_directory(tmp_path):
    r = kms(tmp_path, "generatemanagedwallet", "LTC")
    assert r.code == 0, r.err
    directory = tmp_path / ".tatumrc"
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(directory / "wallet.dat").st_mode) == 0o600
    r = kms(tmp_path, "checkconfig")
    assert "Wallet exists                    : true" in r.out
    assert PASSWORD[:3] not in r.out  # the password is masked entirely


def test_generatemanagedprivatekeybatch(tmp_path):
    r = kms(tmp_path, "--path=w.dat", "generatemanagedprivatekeybatch", "DOGE", "3", "--testnet")
    lines = r.out.splitlines()
    assert len(lines) == 3
    store = kms(tmp_path, "--path=w.dat", "export").json()
    chain = get_chain("DOGE", True)
    for line in lines:
        item = json.loads(line)
        assert line == json.dumps(item, separators=(",", ":"))  # compact, as tatum-kms
        entry = store[item["signatureId"]]
        assert tatum.address_from_wif(chain, entry["privateKey"]) == item["address"]


def test_removewallet_and_report(tmp_path):
    wallet = tmp_path / "w.dat"
    cheap_wallet(wallet)
    first = kms(tmp_path, "--path", str(wallet), "export").json()
    sig_id = next(iter(first))
    r = kms(tmp_path, "--path", str(wallet), "report", sig_id + ",missing-id")
    report = r.json()
    assert report["wallets"][sig_id]["type"] == "PRIVATE_KEY"
    assert "No wallet found for signatureId: missing-id" in report["warnings"]
    assert KEYS[0]["privateKeys"]["0"] not in r.out
    r = kms(tmp_path, "--path", str(wallet), "removewallet", sig_id)
    assert r.code == 0 and r.out == ""
    assert kms(tmp_path, "--path", str(wallet), "export").json() == {}


@pytest.mark.parametrize("case", WALLET_FILES, ids=["walletdat-%d" % i for i in range(len(WALLET_FILES))])
def test_tatum_wallet_files(tmp_path, case):
    """Files written by Tatum's code: export gives their plaintext; a write keeps the format
    (readable by CryptoJS's algorithm); convert goes both ways."""
    path = tmp_path / "wallet.dat"
    path.write_text(case["walletDat"])
    pw = case["password"]
    r = kms(tmp_path, "--path", str(path), "export", password=pw)
    assert r.json() == json.loads(case["plaintext"])
    for sig_id, entry in json.loads(case["plaintext"]).items():
        if entry.get("chain") in ("BTC", "LTC", "DOGE", "BCH") and "xpub" in entry:
            r = kms(tmp_path, "--path", str(path), "getaddress", sig_id, "3", password=pw)
            chain = get_chain(entry["chain"], entry["testnet"])
            assert r.json() == {"address": tatum.address_from_xpub(chain, entry["xpub"], 3)}
    r = kms(tmp_path, "--path", str(path), "generatemanagedwallet", "BCH", password=pw)
    new_id = r.json()["signatureId"]
    text = path.read_text()
    assert text.startswith("U2FsdGVkX1")  # still Tatum's format
    store = json.loads(openssl_decrypt(text, pw.encode()))
    assert list(store)[0] == new_id and len(store) == len(json.loads(case["plaintext"])) + 1
    assert kms(tmp_path, "--path", str(path), "convert", "--to", "native", password=pw).code == 0
    assert path.read_text().startswith("{")
    assert kms(tmp_path, "--path", str(path), "export", password=pw).json() == store
    assert kms(tmp_path, "--path", str(path), "convert", "--to=tatum", password=pw).code == 0
    assert json.loads(openssl_decrypt(path.read_text(), pw.encode())) == store


BAD_INPUTS = [
    ("unknown chain", ["generatemanagedwallet", "ETH"], "", "unsupported chain"),
    ("missing chain", ["generatemanagedwallet"], "", "missing argument"),
    ("bad checksum", ["storemanagedwallet", "BTC"], " ".join(["abandon"] * 12) + "\n", "checksum"),
    ("word not in list", ["storemanagedwallet", "BTC"], " ".join(["abandon"] * 11 + ["kmsref"]) + "\n", "word #12"),
    ("bad WIF", ["storemanagedprivatekey", "BTC"], "not-a-key\n", "WIF"),
    ("WIF of other network", ["storemanagedprivatekey", "BTC"], KEYS[0]["privateKeys"]["0"] + "\n", "network"),
    ("WIF of other chain", ["storemanagedprivatekey", "LTC"],
     next(c for c in KEYS if c["chain"] == "DOGE" and not c["testnet"])["privateKeys"]["0"] + "\n", "network"),
    ("negative index", ["getaddress", "ID", "-1"], "", "index"),
    ("index 2^31", ["getprivatekey", "ID", str(2 ** 31)], "", "index"),
    ("index not a number", ["getaddress", "ID", "1e3"], "", "index"),
    ("unknown signature id", ["getmanagedwallet", "00000000-0000-4000-8000-000000000000"], "", "no wallet"),
    ("unknown id remove", ["removewallet", "00000000-0000-4000-8000-000000000000"], "", "no wallet"),
    ("secret as a flag", ["storemanagedwallet", "BTC", "--mnemonic=abandon"], "", "never taken as flags"),
    ("unknown flag", ["export", "--frobnicate"], "", "unknown option"),
    ("unknown command", ["frobnicate"], "", "unsupported command"),
    ("batch count", ["generatemanagedprivatekeybatch", "BTC", "zero"], "", "number of keys"),
    ("empty stdin", ["storemanagedprivatekey", "BTC"], "", "no input"),
]


@pytest.mark.parametrize("name,args,stdin,message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_changes_nothing(tmp_path, name, args, stdin, message):
    wallet = tmp_path / "w.dat"
    cheap_wallet(wallet)
    sig_id = next(iter(WalletStore(str(wallet)).open(PASSWORD).ids()))
    args = [sig_id if a == "ID" else a for a in args]
    before = wallet.read_bytes()
    r = kms(tmp_path, "--path", str(wallet), *args, stdin=stdin)
    assert message in r.error()
    assert wallet.read_bytes() == before
    secret = stdin.strip()
    if secret:
        assert secret not in r.err and secret not in r.out


@pytest.mark.parametrize("fmt", ["native", "tatum"])
def test_wrong_password_leaves_file_identical(tmp_path, fmt):
    wallet = tmp_path / "w.dat"
    cheap_wallet(wallet)
    if fmt == "tatum":
        assert kms(tmp_path, "--path", str(wallet), "convert", "--to", "tatum").code == 0
    before = wallet.read_bytes()
    for args in (["export"], ["generatemanagedwallet", "BTC"], ["removewallet", "x"], ["getaddress", "x", "0"]):
        r = kms(tmp_path, "--path", str(wallet), *args, password="wrong")
        assert r.error() == "Wrong password"
        assert wallet.read_bytes() == before


def test_missing_and_unreadable_files(tmp_path):
    r = kms(tmp_path, "--path", str(tmp_path / "nope.dat"), "export")
    assert "does not exist" in r.error()
    bad = tmp_path / "bad.dat"
    bad.write_text("this is not a wallet")
    assert "neither" in kms(tmp_path, "--path", str(bad), "export").error()
    assert bad.read_text() == "this is not a wallet"
    directory = tmp_path / "dir.dat"
    directory.mkdir()
    assert kms(tmp_path, "--path", str(directory), "export").error()


def test_secrets_from_env_file_and_password_prompt_on_stdin(tmp_path):
    (tmp_path / ".tatumrc").mkdir()
    (tmp_path / ".tatumrc" / ".env").write_text('TATUM_KMS_PASSWORD="from env file"\n')
    assert kms(tmp_path, "generatemanagedwallet", "BTC", password=None).code == 0
    # without the variable, the password is the first line of stdin
    (tmp_path / ".tatumrc" / ".env").unlink()
    r = kms(tmp_path, "export", password=None, stdin="from env file\n")
    assert r.code == 0 and len(r.json()) == 1
    r = kms(tmp_path, "export", password=None, stdin="wrong\n")
    assert r.error() == "Wrong password"


def test_concurrent_cli_writers_lose_nothing(tmp_path):
    """50 processes store a key into one file at once: all 50 entries survive."""
    wallet = tmp_path / "w.dat"
    cheap_wallet(wallet)
    key = KEYS[0]["privateKeys"]["1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TATUM_")}
    env.update({"HOME": str(tmp_path), "PYTHONPATH": REPO, "TATUM_KMS_PASSWORD": PASSWORD})
    procs = [subprocess.Popen([*kms_command(), "--path", str(wallet), "--testnet",
                               "storemanagedprivatekey", "BTC"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(tmp_path), text=True)
             for _ in range(50)]
    ids = []
    for p in procs:
        out, err = p.communicate(key + "\n", timeout=300)
        assert p.returncode == 0, err
        ids.append(json.loads(out)["signatureId"])
    stored = kms(tmp_path, "--path", str(wallet), "export").json()
    assert set(ids) <= set(stored) and len(stored) == 51


def test_a_secret_pasted_as_signature_id_is_not_echoed(tmp_path):
    wallet = tmp_path / "w.dat"
    cheap_wallet(wallet)
    mnemonic = KEYS[0]["mnemonic"]
    r = kms(tmp_path, "--path", str(wallet), "getaddress", mnemonic, "0")
    assert "no wallet" in r.error() and mnemonic.split()[0] not in r.err
    wif = KEYS[0]["privateKeys"]["1"]
    r = kms(tmp_path, "--path", str(wallet), "getmanagedwallet", wif)
    assert "no wallet" in r.error() and wif not in r.err
    hex_key = "11" * 32
    r = kms(tmp_path, "--path", str(wallet), "removewallet", hex_key)
    assert "no wallet" in r.error() and hex_key not in r.err
