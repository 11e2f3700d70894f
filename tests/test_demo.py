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
