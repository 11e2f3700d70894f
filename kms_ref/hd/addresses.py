"""Addresses ↔ output scripts for the four chains of the table in `kms_ref.hd.chains`.

An address is only a way to write an output script (scriptPubKey):

    P2PKH        OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG   Base58Check, CashAddr type 0
    P2SH         OP_HASH160 <20> OP_EQUAL                           Base58Check, CashAddr type 1
    segwit v0-16 OP_n <2..40 byte program>                          bech32 / bech32m (BIP173/350)

`address_from_pubkey` gives the address Tatum shows for a key (SPEC §1: BTC P2WPKH, LTC and DOGE
P2PKH, BCH CashAddr P2PKH; other kinds on request). `script_from_address` accepts every form a user
may send to — on BCH the legacy Base58 form too — and rejects an address of another chain or
network with a clear error.
"""

from __future__ import annotations

from kms_ref.crypto.hashes import hash160
from kms_ref.encoding.base58 import b58check_decode, b58check_encode
from kms_ref.encoding.bech32 import decode_segwit_address, encode_segwit_address
from kms_ref.encoding.cashaddr import cashaddr_decode, cashaddr_encode
from kms_ref.encoding.script import OP_0, OP_1, OP_16, P2PKH as P2PKH_SCRIPT, P2SH, classify, p2pkh_script, p2sh_script
from kms_ref.hd.chains import CASHADDR, P2PKH, P2SH_P2WPKH, P2WPKH, Chain
from kms_ref.hd.masking import shown

CASHADDR_P2PKH = 0  # CashAddr spec §Version byte: type bits
CASHADDR_P2SH = 1


def witness_script(witver: int, program: bytes) -> bytes:
    """BIP141: the version as OP_0 or OP_1..OP_16 (0x51..0x60), then a direct push of the program."""
    return bytes([OP_0 if witver == 0 else OP_1 - 1 + witver, len(program)]) + program


def address_from_pubkey(chain: Chain, pubkey: bytes, kind: str | None = None) -> str:
    """The address of a public key, in the chain's default kind unless `kind` is given."""
    kind = kind or chain.address_kind
    h = hash160(pubkey)
    if kind == P2PKH:
        return b58check_encode(bytes([chain.p2pkh_version]) + h)
    if kind == CASHADDR and chain.cashaddr_prefix:
        return cashaddr_encode(chain.cashaddr_prefix, CASHADDR_P2PKH, h)
    if not chain.segwit or len(pubkey) != 33:
        raise ValueError("%s has no %s addresses" % (chain, kind))
    if kind == P2WPKH:
        return encode_segwit_address(chain.bech32_hrp, 0, h)
    if kind == P2SH_P2WPKH:
        redeem = witness_script(0, h)
        return b58check_encode(bytes([chain.p2sh_version]) + hash160(redeem))
    raise ValueError("unknown address kind %r" % kind)


def script_from_address(chain: Chain, address: str) -> bytes:
    """The output script an address stands for, on this chain and network."""
    if not isinstance(address, str) or not address:
        raise ValueError("address must be a non-empty string")
    if chain.cashaddr_prefix and (":" in address or address[:1] in "qpQP"):
        try:
            kind, h = cashaddr_decode(address, chain.cashaddr_prefix)
        except ValueError as e:
            raise ValueError("%s is not a %s address: %s" % (shown(address), chain, e)) from None
        return p2pkh_script(h) if kind == CASHADDR_P2PKH else p2sh_script(h)
    if chain.bech32_hrp and address.lower().startswith(chain.bech32_hrp + "1"):
        try:
            witver, program = decode_segwit_address(chain.bech32_hrp, address)
        except ValueError as e:
            raise ValueError("%s is not a %s address: %s" % (shown(address), chain, e)) from None
        return witness_script(witver, program)
    try:
        payload = b58check_decode(address)
    except ValueError as e:
        raise ValueError("%s is not a %s address: %s" % (shown(address), chain, e)) from None
    if len(payload) == 21 and payload[0] == chain.p2pkh_version:
        return p2pkh_script(payload[1:])
    if len(payload) == 21 and payload[0] == chain.p2sh_version:
        return p2sh_script(payload[1:])
    raise ValueError("%s is not a %s address" % (shown(address), chain))


def address_from_script(chain: Chain, script: bytes) -> str | None:
    """The address of a standard output script on this chain, or None (e.g. OP_RETURN)."""
    kind, payload = classify(script)
    if kind == P2PKH_SCRIPT:
        if chain.cashaddr_prefix:
            return cashaddr_encode(chain.cashaddr_prefix, CASHADDR_P2PKH, payload)
        return b58check_encode(bytes([chain.p2pkh_version]) + payload)
    if kind == P2SH:
        if chain.cashaddr_prefix:
            return cashaddr_encode(chain.cashaddr_prefix, CASHADDR_P2SH, payload)
        return b58check_encode(bytes([chain.p2sh_version]) + payload)
    if chain.segwit and 4 <= len(script) <= 42 and script[1] == len(script) - 2 \
            and (script[0] == OP_0 or OP_1 <= script[0] <= OP_16):
        witver = 0 if script[0] == OP_0 else script[0] - OP_1 + 1
        try:
            return encode_segwit_address(chain.bech32_hrp, witver, script[2:])
        except ValueError:
            return None
    return None
