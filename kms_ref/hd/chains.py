"""The chain table of SPEC §1: BIP44 paths, BIP32 version bytes, WIF prefixes and address kinds.

One row per chain and network. Tatum derives a wallet's xpub at the BIP44 *account/change* node
`m/44'/coin'/0'/0` (SLIP-44 coin types: BTC 0, LTC 2, DOGE 3, BCH 145, every testnet 1 — except
BCH testnet, which Tatum keeps at 145, a quirk kms_ref must keep to find the same keys), and
address *i* is the non-hardened child *i* of that node.

The version bytes are the networks' own (BIP32 §Serialization format for Bitcoin; Litecoin's
Ltub/ttub; Dogecoin and Bitcoin Cash reuse Bitcoin's xpub/tpub). Address prefixes come from each
chain's chainparams.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from kms_ref.hd.masking import shown

P2PKH = "p2pkh"
P2SH_P2WPKH = "p2sh-p2wpkh"
P2WPKH = "p2wpkh"
CASHADDR = "cashaddr"


class Chain(NamedTuple):
    symbol: str                 # "BTC", "LTC", "DOGE", "BCH"
    testnet: bool
    path: str                   # the wallet (xpub) node, BIP44 account/change
    xpub_version: int
    xprv_version: int
    wif_prefix: int
    address_kind: str           # the default address kind for index i
    p2pkh_version: int          # Base58Check version byte of P2PKH addresses
    p2sh_version: int           # ... and of P2SH addresses
    bech32_hrp: Optional[str]   # segwit chains only (BIP173 human-readable part)
    cashaddr_prefix: Optional[str]  # BCH only
    api_name: str               # the chain's name in Tatum v3 paths: /v3/{api_name}/broadcast
    segwit: bool

    @property
    def network(self) -> str:
        return "testnet" if self.testnet else "mainnet"

    def __str__(self) -> str:
        return "%s %s" % (self.symbol, self.network)


CHAINS = {
    ("BTC", False): Chain("BTC", False, "m/44'/0'/0'/0", 0x0488B21E, 0x0488ADE4, 0x80,
                          P2WPKH, 0x00, 0x05, "bc", None, "bitcoin", True),
    ("BTC", True): Chain("BTC", True, "m/44'/1'/0'/0", 0x043587CF, 0x04358394, 0xEF,
                         P2WPKH, 0x6F, 0xC4, "tb", None, "bitcoin", True),
    ("LTC", False): Chain("LTC", False, "m/44'/2'/0'/0", 0x019DA462, 0x019D9CFE, 0xB0,
                          P2PKH, 0x30, 0x32, "ltc", None, "litecoin", True),
    ("LTC", True): Chain("LTC", True, "m/44'/1'/0'/0", 0x0436F6E1, 0x0436EF7D, 0xEF,
                         P2PKH, 0x6F, 0x3A, "tltc", None, "litecoin", True),
    ("DOGE", False): Chain("DOGE", False, "m/44'/3'/0'/0", 0x0488B21E, 0x0488ADE4, 0x9E,
                           P2PKH, 0x1E, 0x16, None, None, "dogecoin", False),
    ("DOGE", True): Chain("DOGE", True, "m/44'/1'/0'/0", 0x043587CF, 0x04358394, 0xF1,
                          P2PKH, 0x71, 0xC4, None, None, "dogecoin", False),
    ("BCH", False): Chain("BCH", False, "m/44'/145'/0'/0", 0x0488B21E, 0x0488ADE4, 0x80,
                          CASHADDR, 0x00, 0x05, None, "bitcoincash", "bcash", False),
    ("BCH", True): Chain("BCH", True, "m/44'/145'/0'/0", 0x043587CF, 0x04358394, 0xEF,
                         CASHADDR, 0x6F, 0xC4, None, "bchtest", "bcash", False),
}

SYMBOLS = ("BTC", "LTC", "DOGE", "BCH")


def get_chain(symbol: str, testnet: bool) -> Chain:
    """The table row for a chain symbol (case-insensitive) and network; ValueError otherwise (the
    symbol is repeated only if it cannot be a secret typed into the wrong place: `masking`)."""
    key = (str(symbol).upper(), bool(testnet))
    if key not in CHAINS:
        raise ValueError("unsupported chain %s: kms_ref supports %s" % (shown(symbol), ", ".join(SYMBOLS)))
    return CHAINS[key]


def chain_for_api_name(api_name: str, testnet: bool) -> Chain:
    for chain in CHAINS.values():
        if chain.api_name == api_name and chain.testnet == testnet:
            return chain
    raise ValueError("unknown chain path %s" % shown(api_name))


def xpub_versions() -> set:
    """Every extended-public-key version in the table (what `bip32.parse` accepts by default)."""
    return {c.xpub_version for c in CHAINS.values()}


def xprv_versions() -> set:
    return {c.xprv_version for c in CHAINS.values()}
