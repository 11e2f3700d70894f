"""Tatum's wallet derivations (SPEC §1), built from BIP39, BIP32 and the chain table.

- a wallet is a mnemonic; its `xpub` is the extended public key of `m/44'/coin'/0'/0`
  serialized with the chain's version bytes;
- address *i* is derived from the xpub alone (non-hardened child *i*), so `getaddress` needs no
  seed and no PBKDF2;
- private key *i* is the same child derived from the mnemonic, as compressed WIF.

Indexes are 0..2^31−1: Tatum's public derivation refuses hardened indexes, and its private one
silently hardens them — kms_ref refuses both, so an address and its key always belong together.
"""

from __future__ import annotations

import re

from kms_ref.encoding.wif import wif_decode, wif_encode
from kms_ref.hd import bip39
from kms_ref.hd.addresses import address_from_pubkey
from kms_ref.hd.bip32 import HARDENED, ExtendedKey
from kms_ref.hd.chains import Chain

MAX_INDEX = HARDENED - 1


def check_index(index) -> int:
    """An address index as an int in 0..2^31−1 (accepts decimal strings of ASCII digits — not
    `str.isdigit`, which also takes "١" and "３"); ValueError otherwise."""
    if isinstance(index, str):
        if not re.fullmatch(r"[0-9]{1,10}", index.strip()):
            raise ValueError("index must be a whole number between 0 and %d" % MAX_INDEX)
        index = int(index.strip())
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_INDEX:
        raise ValueError("index must be a whole number between 0 and %d" % MAX_INDEX)
    return index


def wallet_node(chain: Chain, mnemonic: str) -> ExtendedKey:
    """The private BIP32 node at the chain's wallet path (`m/44'/coin'/0'/0`)."""
    seed = bip39.mnemonic_to_seed(mnemonic)
    return ExtendedKey.from_seed(seed).derive(chain.path)


def xpub_from_mnemonic(chain: Chain, mnemonic: str) -> str:
    return wallet_node(chain, mnemonic).public().serialize(chain.xpub_version)


def parse_xpub(chain: Chain, xpub: str) -> ExtendedKey:
    """A wallet xpub, which must carry this chain's public version bytes."""
    return ExtendedKey.parse(xpub, private_versions=set(), public_versions={chain.xpub_version})


def address_from_xpub(chain: Chain, xpub: str, index, kind: str | None = None) -> str:
    node = parse_xpub(chain, xpub).ckd_pub(check_index(index))
    return address_from_pubkey(chain, node.pubkey, kind)


def seckey_from_mnemonic(chain: Chain, mnemonic: str, index) -> bytes:
    return wallet_node(chain, mnemonic).ckd_priv(check_index(index)).seckey


def wif_from_mnemonic(chain: Chain, mnemonic: str, index) -> str:
    return wif_encode(seckey_from_mnemonic(chain, mnemonic, index), chain.wif_prefix, True)


def address_from_wif(chain: Chain, wif: str, kind: str | None = None) -> str:
    """The address of a stored private key (tatum-kms crashes here; SPEC §3 wants the address)."""
    from kms_ref.crypto.keys import pubkey_from_seckey

    seckey, compressed = wif_decode(wif, chain.wif_prefix)
    return address_from_pubkey(chain, pubkey_from_seckey(seckey, compressed), kind)
