"""BIP32 test vectors 1–5, plus fast-vs-plain public derivation on random keys."""

import random

import pytest

from kms_ref.crypto.secp256k1 import G, N, point_mul, ser_p
from kms_ref.hd.bip32 import HARDENED, XPRV_MAINNET, XPUB_MAINNET, ExtendedKey, parse_path
from tests.vectors import load

DATA = load("bip32.json")


@pytest.mark.parametrize("case", DATA["valid"], ids=["tv%d-%s" % (c["vector"], c["path"]) for c in DATA["valid"]])
def test_valid(case):
    master = ExtendedKey.from_seed(bytes.fromhex(case["seed"]))
    node = master.derive(case["path"])
    assert node.serialize(XPRV_MAINNET) == case["xprv"]
    assert node.public().serialize(XPUB_MAINNET) == case["xpub"]
    # parse → serialize round trips, for both forms
    assert ExtendedKey.parse(case["xprv"]).serialize(XPRV_MAINNET) == case["xprv"]
    assert ExtendedKey.parse(case["xpub"]).serialize(XPUB_MAINNET) == case["xpub"]
    # the public derivation path agrees wherever the last steps are non-hardened
    indexes = parse_path(case["path"])
    hardened_prefix = max([n + 1 for n, i in enumerate(indexes) if i >= HARDENED], default=0)
    if hardened_prefix < len(indexes):
        parent = master.derive(indexes[:hardened_prefix]).public()
        assert parent.derive(indexes[hardened_prefix:]).serialize(XPUB_MAINNET) == case["xpub"]


@pytest.mark.parametrize("case", DATA["invalid"], ids=[c["reason"] for c in DATA["invalid"]])
def test_invalid(case):
    with pytest.raises(ValueError):
        ExtendedKey.parse(case["key"])


def test_public_child_agrees_with_private_child_on_random_keys():
    rng = random.Random(32)
    for trial in range(50):
        k = rng.randrange(1, N)
        node = ExtendedKey(rng.getrandbits(256).to_bytes(32, "big"), k=k)
        i = rng.randrange(HARDENED)
        child = node.ckd_priv(i)
        assert node.public().ckd_pub(i).pubkey == child.pubkey == ser_p(point_mul(child.k, G)), (trial, i)


def test_path_parsing():
    assert parse_path("m/44'/0h/1H/2") == [44 + HARDENED, HARDENED, 1 + HARDENED, 2]
    assert parse_path("m") == []
    for bad in ("44'/0", "m/-1", "m/2147483648", "m/x", "m//1"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_public_key_cannot_do_hardened_or_private_things():
    node = ExtendedKey.from_seed(bytes(16)).public()
    with pytest.raises(ValueError):
        node.ckd_pub(HARDENED)
    with pytest.raises(ValueError):
        node.seckey
    assert "redacted" in repr(ExtendedKey.from_seed(bytes(16)))


def test_slip132_versions_round_trip():
    """zpub/vprv and the other SLIP-0132 versions parse as the same key (0x01010101 of test
    vector 5 stays unknown)."""
    from kms_ref.hd.bip32 import SLIP132_PRIVATE, SLIP132_PUBLIC

    node = ExtendedKey.from_seed(bytes(range(16))).derive("m/84'/0'/0'")
    for version in SLIP132_PUBLIC:
        text = node.public().serialize(version)
        assert ExtendedKey.parse(text).pubkey == node.pubkey and not ExtendedKey.parse(text).is_private
    for version in SLIP132_PRIVATE:
        assert ExtendedKey.parse(node.serialize(version)).k == node.k
    with pytest.raises(ValueError, match="unknown extended key version"):
        ExtendedKey.parse(node.serialize(0x01010101))
