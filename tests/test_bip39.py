"""BIP39 against all of Trezor's vectors (every language: the seed and BIP32 master key do not
depend on the word list; entropy ↔ mnemonic is checked for English, the list kms_ref ships)."""

import random

import pytest

from kms_ref.hd import bip39
from kms_ref.hd.bip32 import XPRV_MAINNET, ExtendedKey
from tests.vectors import load

DATA = load("bip39_trezor.json")
CASES = [(lang, i, case) for lang, cases in DATA["vectors"].items() for i, case in enumerate(cases)]


@pytest.mark.parametrize("lang,i,case", CASES, ids=["%s-%d" % (lang, i) for lang, i, _ in CASES])
def test_trezor_vector(lang, i, case):
    entropy, mnemonic, seed, xprv = case
    got_seed = bip39.mnemonic_to_seed(mnemonic, DATA["passphrase"])
    assert got_seed.hex() == seed
    assert ExtendedKey.from_seed(got_seed).serialize(XPRV_MAINNET) == xprv
    if lang == "english":
        assert bip39.entropy_to_mnemonic(bytes.fromhex(entropy)) == mnemonic
        assert bip39.mnemonic_to_entropy(mnemonic).hex() == entropy


def test_wordlist_is_the_bip_list():
    words = bip39.wordlist()
    assert len(words) == 2048 and words[0] == "abandon" and words[-1] == "zoo"
    assert words == sorted(words)


def test_generate_round_trip():
    for strength in bip39.ENTROPY_BITS:
        m = bip39.generate_mnemonic(strength)
        assert len(m.split()) == strength // 32 * 3
        assert len(bip39.mnemonic_to_entropy(m)) * 8 == strength
    assert len(bip39.generate_mnemonic().split()) == 24


def test_random_round_trip():
    rng = random.Random(39)
    for _ in range(200):
        entropy = bytes(rng.getrandbits(8) for _ in range(rng.choice([16, 20, 24, 28, 32])))
        assert bip39.mnemonic_to_entropy(bip39.entropy_to_mnemonic(entropy)) == entropy


def test_bad_checksum_and_words_are_rejected_without_echo():
    good = bip39.entropy_to_mnemonic(bytes(16))  # abandon ×11 + about
    with pytest.raises(ValueError, match="checksum"):
        bip39.mnemonic_to_entropy(good.replace("about", "abandon"))
    with pytest.raises(ValueError, match="#3") as e:
        bip39.mnemonic_to_entropy(good.replace("abandon", "bitcoinx", 3).replace("bitcoinx", "abandon", 2))
    assert "bitcoinx" not in str(e.value)
    for bad in ("", "abandon " * 11, "abandon " * 13):
        with pytest.raises(ValueError, match="words"):
            bip39.mnemonic_to_entropy(bad)
    with pytest.raises(ValueError):
        bip39.entropy_to_mnemonic(bytes(15))


def test_whitespace_is_normalized():
    good = bip39.entropy_to_mnemonic(bytes(16))
    assert bip39.validate_mnemonic("  " + good.replace(" ", "\t  ") + "\n") == good
