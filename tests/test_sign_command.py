"""`kms-ref sign` through a real process: every Tatum signing fixture byte for byte, refusals
refused, --explain teaching without leaking a key."""

import json

import pytest

from kms_ref.encoding.wif import wif_decode
from kms_ref.hd.chains import get_chain
from kms_ref.store import WalletStore
from tests.cli_helpers import PASSWORD, kms
from tests.test_cli import CHEAP_SCRYPT
from tests.vectors import load

SIGN = load("tatum_sign.json")["vectors"]
OFFCHAIN = load("tatum_offchain.json")["vectors"]


def store_entries(path, entries):
    with WalletStore(str(path)).transaction(PASSWORD, scrypt_params=CHEAP_SCRYPT) as wallet:
        return [wallet.add(entry) for entry in entries]


def run_sign(tmp_path, pending, testnet, *extra):
    (tmp_path / "pending.json").write_text(json.dumps(pending))
    args = ["--path", str(tmp_path / "w.dat"), "sign", str(tmp_path / "pending.json"), *extra]
    return kms(tmp_path, *args, *(["--testnet"] if testnet else []))


@pytest.mark.parametrize("case", SIGN, ids=["%d-%s-%s%s" % (i, c["chain"], "test" if c["testnet"] else "main",
                                                             "-refused" if c["error"] else "")
                                            for i, c in enumerate(SIGN)])
def test_tatum_sign_fixtures(tmp_path, case):
    ids = store_entries(tmp_path / "w.dat", [{"privateKey": k, "chain": case["chain"], "testnet": case["testnet"]}
                                             for k in case["privateKeys"]])
    pending = dict(case["pending"], hashes=ids)
    r = run_sign(tmp_path, pending, case["testnet"])
    if case["error"]:
        assert case["error"].split(" - ")[0] in r.error()
    else:
        assert r.code == 0, r.err
        assert r.json() == {"txData": case["signed"]}


@pytest.mark.parametrize("case", OFFCHAIN, ids=["%d-%s-%s" % (i, c["chain"], "test" if c["testnet"] else "main")
                                                for i, c in enumerate(OFFCHAIN)])
def test_offchain_fixtures(tmp_path, case):
    [wallet_id] = store_entries(tmp_path / "w.dat", [{"mnemonic": case["mnemonic"], "xpub": case["xpub"],
                                                      "chain": case["chain"], "testnet": case["testnet"]}])
    pending = dict(case["pending"], hashes=[wallet_id])
    r = run_sign(tmp_path, pending, case["testnet"])
    assert r.code == 0, r.err
    assert r.json() == {"txData": case["signed"]}


def test_explain_shows_the_steps_and_no_key(tmp_path):
    case = next(c for c in SIGN if c["chain"] == "BTC" and len(c["kinds"]) > 1 and not c["error"])
    ids = store_entries(tmp_path / "w.dat", [{"privateKey": k, "chain": "BTC", "testnet": case["testnet"]}
                                             for k in case["privateKeys"]])
    r = run_sign(tmp_path, dict(case["pending"], hashes=ids), case["testnet"], "--explain")
    assert r.json() == {"txData": case["signed"]}
    text = r.err.lower()
    for word in ("preimage", "digest", "rfc 6979", "der", "witness"):
        assert word in text, word
    prefix = get_chain("BTC", case["testnet"]).wif_prefix
    for wif in case["privateKeys"]:
        assert wif not in r.err
        assert wif_decode(wif, prefix)[0].hex() not in r.err


def test_bch_explain_mentions_schnorr(tmp_path):
    case = next(c for c in SIGN if c["chain"] == "BCH")
    ids = store_entries(tmp_path / "w.dat", [{"privateKey": k, "chain": "BCH", "testnet": case["testnet"]}
                                             for k in case["privateKeys"]])
    r = run_sign(tmp_path, dict(case["pending"], hashes=ids), case["testnet"], "--explain")
    assert r.json() == {"txData": case["signed"]}
    assert "schnorr" in r.err.lower() and "jacobi" in r.err.lower()


def test_sign_refusals(tmp_path):
    case = next(c for c in SIGN if c["chain"] == "BTC" and not c["error"])
    ids = store_entries(tmp_path / "w.dat", [{"privateKey": k, "chain": "BTC", "testnet": not case["testnet"]}
                                             for k in case["privateKeys"]])
    # keys of the other network never sign
    r = run_sign(tmp_path, dict(case["pending"], hashes=ids), case["testnet"])
    assert "is for BTC %s" % ("mainnet" if case["testnet"] else "testnet") in r.error()
    # no key at all
    r = run_sign(tmp_path, dict(case["pending"], hashes=["00000000-0000-4000-8000-000000000000"]), case["testnet"])
    assert "none of the signature IDs" in r.error()
    # unknown chain, broken JSON
    assert "unsupported chain" in run_sign(tmp_path, dict(case["pending"], chain="ETH"), case["testnet"]).error()
    (tmp_path / "pending.json").write_text("{not json")
    r = kms(tmp_path, "--path", str(tmp_path / "w.dat"), "sign", str(tmp_path / "pending.json"))
    assert "not valid JSON" in r.error()


def test_sign_reads_password_then_transaction_from_one_pipe(tmp_path):
    case = next(c for c in SIGN if c["chain"] == "LTC" and not c["error"])
    ids = store_entries(tmp_path / "w.dat", [{"privateKey": k, "chain": "LTC", "testnet": case["testnet"]}
                                             for k in case["privateKeys"]])
    stdin = PASSWORD + "\n" + json.dumps(dict(case["pending"], hashes=ids))
    args = ["--path", str(tmp_path / "w.dat"), "sign", "-"] + (["--testnet"] if case["testnet"] else [])
    r = kms(tmp_path, *args, stdin=stdin, password=None)
    assert r.json() == {"txData": case["signed"]}
