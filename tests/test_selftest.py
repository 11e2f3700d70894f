"""The self-test (SPEC §10): `kms-ref selftest` runs every known answer shipped in the package and
exits 0 only when all hold; a broken primitive, or damaged data, makes it fail; the daemon runs
the fast part at start and signs nothing when it fails."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from kms_ref.selftest.checks import CHECKS
from kms_ref.selftest.runner import load_cases
from tests import make_known_answers
from tests.cli_helpers import PASSWORD, REPO, kms
from tests.fake_tatum import FakeTatum

CASES = load_cases()
# What the fast part must cover: one known answer per primitive that signs or guards keys.
PRIMITIVES = {"sha256", "hmac_sha512", "pbkdf2_sha256", "scrypt", "ripemd160", "ecdsa_sign", "ecdsa_verify",
              "schnorr_bch_sign", "bip32_derive", "bip39", "bech32_string", "segwit_address",
              "cashaddr_translation", "base58check_valid", "aes_block", "aes_cbc_raw", "aes_gcm",
              "openssl_salted", "sighash_legacy", "sighash_bip143"}


def test_the_data_is_what_the_curation_script_makes():
    """known_answers.json is made from vectors/ (and RFC text) by tests/make_known_answers.py:
    every case is a faithful copy of a published vector."""
    with open(make_known_answers.TARGET, encoding="utf-8") as f:
        assert f.read() == make_known_answers.render(), "run: python3 -m tests.make_known_answers"


def test_every_case_names_its_source_and_a_check():
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))
    for case in CASES:
        assert case["source"].strip() and case["check"] in CHECKS, case["name"]
    assert {case["check"] for case in CASES} == set(CHECKS), "a check no case uses, or the other way round"
    assert {case["check"] for case in CASES if case.get("fast")} == PRIMITIVES
    kinds = {(case["check"], case.get("result", case.get("valid", True))) for case in CASES}
    for check in ("ecdsa_verify", "schnorr_bch_verify", "aes_gcm_wycheproof", "aes_cbc_pkcs7"):
        assert {(check, v) for v in ("valid", "invalid")} <= kinds or {(check, True), (check, False)} <= kinds, check


def test_the_command_passes_and_prints_one_summary(tmp_path):
    r = kms(tmp_path, "selftest", password=None)
    assert r.code == 0, r.out + r.err
    summary = json.loads(r.out)
    assert list(summary) == ["passed", "failed", "seconds"]
    assert summary["passed"] == len(CASES) and summary["failed"] == [] and summary["seconds"] > 0
    assert r.err == ""


def run_broken(tmp_path, breakage: str, *argv, env=None):
    """`kms-ref argv` in a fresh process whose kms_ref has one thing broken on purpose."""
    code = ("import sys\n" + breakage + "\n"
            "from kms_ref.cli.main import main\n"
            "main(sys.argv[1:])\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TATUM_")}
    environ.update({"HOME": str(tmp_path), "PYTHONPATH": REPO}, **(env or {}))
    return subprocess.run([sys.executable, "-c", code, *argv], cwd=str(tmp_path), env=environ,
                          capture_output=True, text=True, timeout=300)


BREAKAGES = {
    "ripemd160": ("import kms_ref.crypto.ripemd160 as m; m.ripemd160 = lambda data: bytes(20)", "ripemd160/"),
    "ecdsa-sign": ("import kms_ref.crypto.ecdsa as m; sign = m.ecdsa_sign\n"
                   "m.ecdsa_sign = lambda *a, **k: sign(*a, **k)[:-1] + bytes([sign(*a, **k)[-1] ^ 1])",
                   "ecdsa-rfc6979/"),
    "ecdsa-verify-accepts-all": ("import kms_ref.crypto.ecdsa as m; m.ecdsa_verify = lambda *a: True",
                                 "wycheproof-ecdsa/"),
    "aes": ("import kms_ref.crypto.aes as m; enc = m.AES.encrypt_block\n"
            "m.AES.encrypt_block = lambda self, b: bytes([enc(self, b)[0] ^ 0x80]) + enc(self, b)[1:]",
            "aes/fips197-"),
    "scrypt-of-the-platform": ("import hashlib; real = hashlib.scrypt\n"
                               "hashlib.scrypt = lambda *a, **k: bytes(len(real(*a, **k)))", "scrypt/"),
    "bech32m-constant": ("import kms_ref.encoding.bech32 as m; m._CONST[m.BECH32M] ^= 1", "bech32m-valid/"),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_a_broken_primitive_makes_the_selftest_fail(tmp_path, name):
    breakage, failing = BREAKAGES[name]
    r = run_broken(tmp_path, breakage, "selftest")
    assert r.returncode == 1, r.stdout + r.stderr
    summary = json.loads(r.stdout)
    broken = [line for line in summary["failed"] if line.startswith(failing)]
    assert broken and summary["passed"] + len(summary["failed"]) == len(CASES), summary["failed"]
    error = json.loads(r.stderr)
    assert list(error) == ["error"] and error["error"].startswith("self-test failed")


def test_damaged_data_makes_the_selftest_fail(tmp_path):
    """A copy of the package whose known answer for RIPEMD-160("abc") lost a digit."""
    root = tmp_path / "copy"
    shutil.copytree(os.path.join(REPO, "kms_ref"), str(root / "kms_ref"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    data = root / "kms_ref" / "selftest" / "known_answers.json"
    text = data.read_text(encoding="utf-8")
    digest = "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"            # RIPEMD-160("abc"), the paper's
    assert text.count(digest) == 1
    data.write_text(text.replace(digest, "9" + digest[1:]), encoding="utf-8")
    environ = dict(os.environ, HOME=str(tmp_path), PYTHONPATH=str(root))
    r = subprocess.run([sys.executable, "-m", "kms_ref", "selftest"], cwd=str(tmp_path), env=environ,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert json.loads(r.stdout)["failed"] == ["ripemd160/abc: wrong RIPEMD-160 digest"]


def _wallet(tmp_path):
    from kms_ref.store import WalletStore

    path = tmp_path / "wallet.dat"
    with WalletStore(str(path)).transaction(PASSWORD, scrypt_params=(2 ** 10, 8, 1)) as store:
        store.add({"privateKey": "cNn7gCmi4D8nPkaZgvyVDJ7LksaSdhr5Wc6gmoAMkTJHb1D54TdA", "chain": "BTC",
                   "testnet": True})
    return str(path)


def test_the_daemon_runs_the_fast_part_and_refuses_to_sign_when_it_fails(tmp_path):
    wallet = _wallet(tmp_path)
    with FakeTatum() as api:
        env = {"TATUM_API_KEY": api.api_key, "TATUM_API_URL": api.url, "TATUM_KMS_PASSWORD": PASSWORD}
        args = ("daemon", "--path", wallet, "--testnet", "--chain=BTC", "--runOnce")
        healthy = run_broken(tmp_path, "pass", *args, env=env)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        assert "Power-on self-test passed in " in healthy.stdout
        asked = len(api.calls)
        assert asked > 0
        broken = run_broken(tmp_path, "import kms_ref.crypto.schnorr_bch as m; m.schnorr_sign = lambda *a, **k: bytes(64)",
                            *args, env=env)
        assert broken.returncode == 1
        error = json.loads(broken.stderr.strip().splitlines()[-1])["error"]
        assert error.startswith("power-on self-test failed, kms_ref will not sign on this host")
        assert "schnorr-bch-sign/bitcoin-abc-key1" in error
        assert len(api.calls) == asked, "the broken daemon talked to the API"
