"""The seed walkthrough A to Z (steps 1–8) for each chain: `kms-ref demo` runs every step as a
real process against a real sandbox on 127.0.0.1, with the daemon signing in the background."""

import re

import pytest

from tests.cli_helpers import kms


@pytest.mark.parametrize("chain", ["BTC", "LTC", "DOGE", "BCH"])
def test_demo_walkthrough(tmp_path, chain):
    r = kms(tmp_path, "demo", "--chain", chain, password=None, timeout=300)
    assert r.code == 0, r.out[-2000:] + r.err
    for step in range(1, 9):
        assert "== Step %d" % step in r.out
    done = re.search(r"Done: %s testnet transaction ([0-9a-f]{64}) was signed" % chain, r.out)
    assert done, r.out[-1000:]
    tx_id = done.group(1)
    assert '"txId": "%s"' % tx_id in r.out  # GET /v3/kms/{id} shows it
    assert "Tx was processed" in r.out      # from the daemon's log
    assert "Traceback" not in r.out + r.err


def test_demo_taproot_walkthrough(tmp_path):
    """`kms-ref demo --taproot`: the same eight steps from a BIP86 (tb1p…) address to another,
    the daemon spending by the BIP341 key path and the sandbox checking the Schnorr signature."""
    r = kms(tmp_path, "demo", "--taproot", password=None, timeout=300)
    assert r.code == 0, r.out[-2000:] + r.err
    for step in range(1, 9):
        assert "== Step %d" % step in r.out
    assert "getaddress" in r.out and "0 --taproot" in r.out
    address = re.search(r'"address": "(tb1p[0-9a-z]{58})"', r.out)
    assert address, r.out[-2000:]
    assert "Step 6: testnet coins to %s" % address.group(1) in r.out
    done = re.search(r"Done: BTC testnet transaction ([0-9a-f]{64}) was signed", r.out)
    assert done and '"txId": "%s"' % done.group(1) in r.out
    assert "Tx was processed" in r.out and "Traceback" not in r.out + r.err


def test_demo_taproot_is_btc_only(tmp_path):
    r = kms(tmp_path, "demo", "--taproot", "--chain", "DOGE", password=None)
    assert r.error() == "Taproot (BIP86) addresses and keys are for BTC only, not DOGE"
