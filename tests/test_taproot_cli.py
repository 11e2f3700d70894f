"""`getaddress`/`getprivatekey --taproot` through real processes: BIP86's test vectors, testnet,
private-key wallets (the exported internal key stored back keeps its address), and the refusals."""

import pytest

from kms_ref.crypto.bip340 import pubkey_xonly
from kms_ref.encoding.wif import wif_decode
from kms_ref.hd import bip86, tatum
from kms_ref.hd.chains import get_chain
from tests.cli_helpers import kms
from tests.test_cli import cheap_wallet
from tests.vectors import load

BIP86 = load("bip86.json")
RECEIVING = [c for c in BIP86["vectors"] if c["path"].startswith("m/86'/0'/0'/0/")]   # kms_ref's wallets: change 0


def mnemonic_wallet(tmp_path, symbol="BTC", testnet=False, mnemonic=BIP86["mnemonic"]):
    """A wallet file holding the mnemonic; (path, its signature ID)."""
    path = tmp_path / "w.dat"
    chain = get_chain(symbol, testnet)
    cheap_wallet(path, [{"mnemonic": mnemonic, "xpub": tatum.xpub_from_mnemonic(chain, mnemonic),
                         "chain": symbol, "testnet": testnet}])
    r = kms(tmp_path, "--path", str(path), "export")
    return path, next(iter(r.json()))


@pytest.mark.parametrize("case", RECEIVING, ids=[c["path"] for c in RECEIVING])
def test_bip86_vectors_through_the_command_line(tmp_path, case):
    path, sig_id = mnemonic_wallet(tmp_path)
    index = case["path"].rsplit("/", 1)[1]
    r = kms(tmp_path, "--path", str(path), "getaddress", sig_id, index, "--taproot")
    assert r.json() == {"address": case["address"]}, r.err
    r = kms(tmp_path, "--path", str(path), "getprivatekey", sig_id, index, "--taproot")
    seckey, compressed = wif_decode(r.json()["privateKey"], 0x80)
    assert pubkey_xonly(seckey).hex() == case["internal_key"] and compressed   # the internal key
    r = kms(tmp_path, "--path", str(path), "getaddress", sig_id, index)
    assert r.json()["address"].startswith("bc1q")                              # without the flag: Tatum's


def test_testnet_and_the_key_stored_back(tmp_path):
    """Step 2 → 4 of the walkthrough with --taproot: the exported key, stored as a private-key
    wallet, has the same Taproot address (its key is the internal key, tweaked once)."""
    path, sig_id = mnemonic_wallet(tmp_path, testnet=True)
    address = kms(tmp_path, "--path", str(path), "--testnet", "getaddress", sig_id, "5", "--taproot").json()["address"]
    assert address == bip86.address_from_mnemonic(get_chain("BTC", True), BIP86["mnemonic"], 5)
    assert address.startswith("tb1p")
    wif = kms(tmp_path, "--path", str(path), "--testnet", "getprivatekey", sig_id, "5", "--taproot").json()["privateKey"]
    r = kms(tmp_path, "--path", str(path), "--testnet", "storemanagedprivatekey", "BTC", stdin=wif + "\n")
    key_id = r.json()["signatureId"]
    r = kms(tmp_path, "--path", str(path), "getaddress", key_id, "0", "--taproot")
    assert r.json() == {"address": address}, r.err
    r = kms(tmp_path, "--path", str(path), "getprivatekey", key_id, "0", "--taproot")
    assert r.json() == {"privateKey": wif}


@pytest.mark.parametrize("symbol", ["LTC", "DOGE", "BCH"])
def test_other_chains_are_refused(tmp_path, symbol):
    mnemonic = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    path, sig_id = mnemonic_wallet(tmp_path, symbol, True, mnemonic)
    before = path.read_bytes()
    for command in ("getaddress", "getprivatekey"):
        r = kms(tmp_path, "--path", str(path), command, sig_id, "0", "--taproot")
        assert r.error() == "Taproot (BIP86) addresses and keys are for BTC only, not %s" % symbol
    assert path.read_bytes() == before
