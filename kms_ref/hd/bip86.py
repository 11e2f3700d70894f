"""BIP86 wallets: single-key Taproot outputs from a BIP39 mnemonic (BTC only).

BIP86 §Public key derivation: the keys are those of BIP44 with purpose 86,

    m / 86' / coin_type' / account' / change / address_index       coin_type 0 mainnet, 1 testnet

and §Address derivation: key i is the *internal key* of a Taproot output with no script tree,
output key Q = P + int(hash_TapTweak(bytes(P)))·G (`kms_ref.hd.taproot`), address bech32m.

kms_ref keeps Tatum's layout: a wallet is account 0, change 0 (`m/86'/0'/0'/0`, testnet
`m/86'/1'/0'/0`), and address *i* is its child *i*. The stored `xpub` of a BTC wallet is the
BIP44 node (`m/44'/…`), from which no BIP86 key follows: Taproot addresses need the mnemonic.
A private-key wallet's Taproot address is its key used as the internal key, tweaked the same way.

A key exported for Taproot (`wif_from_mnemonic`) is the internal key, as BIP86 wallets export it
(an `xprv` of the BIP86 path, or a `tr(WIF)` descriptor, holds the internal key): stored back
as a private-key wallet it gives the same address, since that address tweaks it again exactly once.
"""

from __future__ import annotations

from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.encoding.wif import wif_decode, wif_encode
from kms_ref.hd import bip39
from kms_ref.hd.bip32 import ExtendedKey
from kms_ref.hd.chains import Chain
from kms_ref.hd.taproot import p2tr_address, p2tr_script, taproot_output_key
from kms_ref.hd.tatum import check_index

PURPOSE = 86                                        # BIP86 §Public key derivation
COIN_TYPES = {("BTC", False): 0, ("BTC", True): 1}  # SLIP-44, as BIP44 uses them


def check_taproot_chain(chain: Chain) -> Chain:
    """The chain itself if kms_ref makes Taproot keys for it (BTC), else a clear ValueError."""
    if (chain.symbol, chain.testnet) not in COIN_TYPES:
        raise ValueError("Taproot (BIP86) addresses and keys are for BTC only, not %s" % chain.symbol)
    return chain


def bip86_path(chain: Chain, account: int = 0, change: int = 0) -> str:
    """m/86'/coin_type'/account'/change: the node whose child i is key i."""
    coin_type = COIN_TYPES[(check_taproot_chain(chain).symbol, chain.testnet)]
    return "m/%d'/%d'/%d'/%d" % (PURPOSE, coin_type, account, change)


def bip86_node(chain: Chain, mnemonic: str) -> ExtendedKey:
    """The private BIP32 node at the wallet's BIP86 path (PBKDF2 and the hardened steps: once
    per wallet; the caller keeps it for several indexes)."""
    path = bip86_path(chain)
    return ExtendedKey.from_seed(bip39.mnemonic_to_seed(mnemonic)).derive(path)


def internal_seckey(node: ExtendedKey, index) -> bytes:
    """The internal secret key of address `index` under a `bip86_node`."""
    return node.ckd_priv(check_index(index)).seckey


def address_from_pubkey(chain: Chain, pubkey: bytes) -> str:
    """The BIP86 address of an internal public key (33-byte SEC 1 compressed or 32-byte x-only)."""
    check_taproot_chain(chain)
    return p2tr_address(chain.bech32_hrp, taproot_output_key(pubkey))


def script_from_pubkey(pubkey: bytes) -> bytes:
    """OP_1 <x(Q)>: the scriptPubKey paying the BIP86 output key of an internal public key."""
    return p2tr_script(taproot_output_key(pubkey))


def address_from_mnemonic(chain: Chain, mnemonic: str, index) -> str:
    node = bip86_node(chain, mnemonic).ckd_priv(check_index(index))
    return address_from_pubkey(chain, node.pubkey)


def wif_from_mnemonic(chain: Chain, mnemonic: str, index) -> str:
    """Key `index` as compressed WIF: the internal key, not the tweaked output key (see above)."""
    return wif_encode(internal_seckey(bip86_node(chain, mnemonic), index), chain.wif_prefix, True)


def address_from_wif(chain: Chain, wif: str) -> str:
    """The Taproot address of a stored private key: its BIP86-tweaked output key, no script tree.
    The WIF's compression flag does not matter: a Taproot key is x-only."""
    check_taproot_chain(chain)
    seckey, _ = wif_decode(wif, chain.wif_prefix)
    return address_from_pubkey(chain, pubkey_from_seckey(seckey))
