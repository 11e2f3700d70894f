"""Tatum's own derivations (xpub, addresses, WIF keys) for every fixture mnemonic × chain × net."""

import pytest

from kms_ref.hd import tatum
from kms_ref.hd.chains import get_chain
from tests.vectors import load

CASES = load("tatum_keys.json")["vectors"]


@pytest.mark.parametrize("case", CASES, ids=["%s-%s-%d" % (c["chain"], "test" if c["testnet"] else "main", i)
                                             for i, c in enumerate(CASES)])
def test_tatum_keys(case):
    chain = get_chain(case["chain"], case["testnet"])
    assert tatum.xpub_from_mnemonic(chain, case["mnemonic"]) == case["xpub"]
    assert set(case["addresses"]) == set(case["privateKeys"])
    for index, address in case["addresses"].items():
        assert tatum.address_from_xpub(chain, case["xpub"], index) == address
        wif = tatum.wif_from_mnemonic(chain, case["mnemonic"], int(index))
        assert wif == case["privateKeys"][index]
        assert tatum.address_from_wif(chain, wif) == address


def test_index_bounds():
    chain = get_chain("BTC", True)
    xpub = CASES[0]["xpub"] if CASES[0]["chain"] == "BTC" and CASES[0]["testnet"] else None
    assert xpub
    for bad in (-1, 2 ** 31, "abc", "1.5", "", True):
        with pytest.raises(ValueError):
            tatum.address_from_xpub(chain, xpub, bad)
    assert tatum.address_from_xpub(chain, xpub, 2 ** 31 - 1).startswith("tb1")


def test_xpub_of_another_chain_version_is_rejected():
    ltc = get_chain("LTC", False)
    btc_xpub = next(c["xpub"] for c in CASES if c["chain"] == "BTC" and not c["testnet"])
    with pytest.raises(ValueError):
        tatum.address_from_xpub(ltc, btc_xpub, 0)


@pytest.mark.parametrize("symbol,testnet", sorted({(c["chain"], c["testnet"]) for c in CASES}))
def test_address_script_round_trip(symbol, testnet):
    """address → output script → address, for every kind each chain can show, and refusal of
    another network's address."""
    from kms_ref.hd.addresses import address_from_pubkey, address_from_script, script_from_address
    from kms_ref.hd.chains import CASHADDR, P2PKH, P2SH_P2WPKH, P2WPKH

    chain = get_chain(symbol, testnet)
    case = next(c for c in CASES if c["chain"] == symbol and c["testnet"] == testnet)
    pubkey = tatum.parse_xpub(chain, case["xpub"]).ckd_pub(7).pubkey
    kinds = [P2PKH, P2WPKH, P2SH_P2WPKH] if chain.segwit else [CASHADDR if chain.cashaddr_prefix else P2PKH]
    for kind in kinds:
        address = address_from_pubkey(chain, pubkey, kind)
        script = script_from_address(chain, address)
        assert address_from_script(chain, script) == address
    assert address_from_script(chain, b"\x6a\x04test") is None  # OP_RETURN has no address
    other = get_chain(symbol, not testnet)
    with pytest.raises(ValueError):
        script_from_address(chain, address_from_pubkey(other, pubkey))
