"""BIP86 wallets: every key and address of the BIP's test vectors, through `kms_ref.hd.bip86`
(the command line's `--taproot` is tested in test_taproot_cli.py)."""

import random

import pytest

from kms_ref.crypto.bip340 import pubkey_xonly
from kms_ref.crypto.secp256k1 import N
from kms_ref.encoding.wif import wif_decode, wif_encode
from kms_ref.hd import bip39, bip86
from kms_ref.hd.bip32 import ExtendedKey
from kms_ref.hd.chains import get_chain
from kms_ref.hd.taproot import taproot_tweak_pubkey, taproot_tweak_seckey
from tests.vectors import load

BIP86 = load("bip86.json")
XPRV, XPUB = 0x0488ADE4, 0x0488B21E
MAINNET = get_chain("BTC", False)


@pytest.mark.parametrize("case", BIP86["vectors"], ids=[c["path"] for c in BIP86["vectors"]])
def test_bip86_vectors(case):
    root = ExtendedKey.from_seed(bip39.mnemonic_to_seed(BIP86["mnemonic"]))
    node = root.derive(case["path"])
    assert node.serialize(XPRV) == case["xprv"]
    assert node.public().serialize(XPUB) == case["xpub"]
    if "internal_key" not in case:
        return
    assert pubkey_xonly(node.seckey).hex() == case["internal_key"]
    assert bip86.script_from_pubkey(node.pubkey).hex() == case["scriptPubKey"]
    assert bip86.address_from_pubkey(MAINNET, node.pubkey) == case["address"]
    assert bip86.script_from_pubkey(node.pubkey)[2:].hex() == case["output_key"]
    wif = wif_encode(node.seckey, MAINNET.wif_prefix)
    assert bip86.address_from_wif(MAINNET, wif) == case["address"]      # a private-key wallet
    *_, change, index = case["path"].split("/")
    if change == "0":                                                   # kms_ref's wallets: change 0
        assert bip86.address_from_mnemonic(MAINNET, BIP86["mnemonic"], int(index)) == case["address"]
        assert bip86.wif_from_mnemonic(MAINNET, BIP86["mnemonic"], int(index)) == wif


def test_paths():
    assert bip86.bip86_path(MAINNET) == "m/86'/0'/0'/0"
    assert bip86.bip86_path(get_chain("BTC", True)) == "m/86'/1'/0'/0"
    for symbol in ("LTC", "DOGE", "BCH"):
        for testnet in (False, True):
            with pytest.raises(ValueError, match="BTC only"):
                bip86.bip86_path(get_chain(symbol, testnet))


def test_testnet_address_is_tb1p():
    testnet = get_chain("BTC", True)
    address = bip86.address_from_mnemonic(testnet, BIP86["mnemonic"], 0)
    assert address.startswith("tb1p")
    node = ExtendedKey.from_seed(bip39.mnemonic_to_seed(BIP86["mnemonic"])).derive("m/86'/1'/0'/0/0")
    assert address == bip86.address_from_pubkey(testnet, node.pubkey)


def test_exported_key_stored_back_gives_the_same_address():
    """`getprivatekey --taproot` exports the internal key; a private-key wallet's Taproot address
    tweaks its key once; so exporting and storing back keeps the address."""
    wif = bip86.wif_from_mnemonic(MAINNET, BIP86["mnemonic"], 7)
    assert bip86.address_from_wif(MAINNET, wif) == bip86.address_from_mnemonic(MAINNET, BIP86["mnemonic"], 7)


def test_tweak_seckey_matches_tweak_pubkey(seed=86):
    """BIP341: taproot_tweak_pubkey(pubkey_gen(sk), h)[1] == pubkey_gen(taproot_tweak_seckey(sk, h)),
    for keys with odd and even y, with and without a Merkle root."""
    rng = random.Random(seed)
    for i in range(30):
        seckey = rng.randrange(1, N).to_bytes(32, "big")
        h = rng.getrandbits(256).to_bytes(32, "big") if i % 2 else b""
        assert taproot_tweak_pubkey(pubkey_xonly(seckey), h)[1] == pubkey_xonly(taproot_tweak_seckey(seckey, h)), \
            "seed %d case %d" % (seed, i)


def test_uncompressed_wif_has_the_same_taproot_address():
    seckey = wif_decode(bip86.wif_from_mnemonic(MAINNET, BIP86["mnemonic"], 0))[0]
    assert bip86.address_from_wif(MAINNET, wif_encode(seckey, 0x80, compressed=False)) == \
        bip86.address_from_wif(MAINNET, wif_encode(seckey, 0x80))
