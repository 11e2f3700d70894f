"""What the password-source tests share: a small wallet, a clean environment, and the checks
every failure must pass (one line naming the source, exit ≠ 0, no secret, nothing written)."""

import os
import subprocess
import sys
from typing import NamedTuple

from kms_ref.hd import tatum
from kms_ref.hd.chains import get_chain
from kms_ref.store import WalletStore
from tests.cli_helpers import PASSWORD, REPO, Result
from tests.standins import closed_port_url

CHEAP_SCRYPT = (2 ** 10, 8, 1)   # test files only: kms-ref reads the cost from the file
MNEMONIC = "abandon " * 11 + "about"
# Variables of the developer's or CI's machine that would change which source or identity is
# used; every run starts without them (HOME is a fresh directory, so no ~/.aws either).
FOREIGN = ("TATUM_", "AWS_", "AZURE_", "IDENTITY_", "MSI_", "IMDS_", "KMS_REF_", "CREDENTIALS_DIRECTORY")


class Wallet(NamedTuple):
    path: str
    sig_id: str
    address: str       # address 0 of the mnemonic wallet sig_id (BTC testnet)


def make_wallet(tmp_path, password=PASSWORD) -> Wallet:
    chain = get_chain("BTC", True)
    xpub = tatum.xpub_from_mnemonic(chain, MNEMONIC)
    path = str(tmp_path / "wallet.dat")
    with WalletStore(path).transaction(password, scrypt_params=CHEAP_SCRYPT) as wallet:
        sig_id = wallet.add({"mnemonic": MNEMONIC, "xpub": xpub, "chain": "BTC", "testnet": True})
    return Wallet(path, sig_id, tatum.address_from_xpub(chain, xpub, 0))


def run_kms(tmp_path, *args, env=None, stdin="", timeout=60) -> Result:
    """kms-ref as a real process, HOME and cwd in tmp_path, with no password source configured
    but those in `env`. Both metadata services point at a closed port unless `env` says
    otherwise, so no test ever asks a real cloud."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    environ.update({"HOME": str(tmp_path), "PYTHONPATH": REPO,
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT": closed_port_url(),
                    "AZURE_POD_IDENTITY_AUTHORITY_HOST": closed_port_url()})
    environ.update(env or {})
    environ = {k: v for k, v in environ.items() if v is not None}
    proc = subprocess.run([sys.executable, "-m", "kms_ref", *args], input=stdin, cwd=str(tmp_path),
                          env=environ, capture_output=True, text=True, timeout=timeout)
    return Result(proc)


def file_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def assert_source_failure(result, source, secrets=(), contains=None):
    """One line {"error": "password from <source>: ..."}, exit ≠ 0, and no secret anywhere."""
    message = result.error()
    assert message.startswith("password from %s: " % source), message
    assert "\n" not in message
    if contains:
        assert contains in message, message
    for secret in list(secrets) + [PASSWORD]:
        assert secret not in result.out + result.err, "a secret leaked: %r" % message
    return message
