"""Signing a pending transaction's inputs (SPEC §4), the way tatum-kms's libraries do.

BTC, LTC, DOGE (bitcore-lib `Transaction#sign(key)` for each key): every key signs every input
whose previous output it can spend, with SIGHASH_ALL and ECDSA (RFC 6979 nonce, low S, DER):

    previous output   matched when                            sighash   scriptSig / witness
    P2PKH             hash160(pubkey) is the key hash          legacy    <sig> <pubkey> / -
    P2PK              pubkey is the script's key               legacy    <sig> / -
    P2WPKH            hash160(pubkey) is the program           BIP143    (empty) / [sig, pubkey]
    P2SH-P2WPKH       hash160(0014 ‖ hash160(pubkey)) is the   BIP143    <0014 ‖ hash160(pubkey)>
                      script hash                                        / [sig, pubkey]

(`sig` is the DER signature with the hash type byte appended.) The WIF's compression flag picks
the public key. DOGE has no segwit. BIP143 signs with scriptCode = the P2PKH script of the key hash.

P2TR (BTC only, an addition to what Tatum builds): an input whose program is the BIP86 output key
of a key — Q = P + int(hash_TapTweak(x(P)))·G, no script tree — is signed by the key path: the
tweaked secret key signs the BIP341 sighash with SIGHASH_DEFAULT by BIP340 Schnorr; empty
scriptSig, witness [64-byte signature]. `aux_rand` is BIP340's auxiliary randomness: None for
fresh bytes per signature, or 32 bytes (the daemon passes zeros, so that two daemons agree).
A signature request may name several keys (`KeyChoice`: a mnemonic wallet's index i under BIP44
and under BIP86); it is used when any of them signs an input.

BCH (bitcoincashjs2-lib `TransactionBuilder#sign(i, key, ..., SCHNORR)`): input i is signed with
key i, over the forkid digest with hash type 0x41, by a Bitcoin Cash Schnorr signature; the
previous output is taken to be P2PKH of that key (Tatum sends no scripts for BCH), and the
scriptSig is <sig ‖ 0x41> <pubkey>.

Refused, with a message that names inputs and key positions but never a key: an input no key can
sign, an input kind kms_ref cannot sign, a key that signs nothing, amounts a node refuses
(`consensus`: negative, or above MAX_MONEY), outputs above inputs, and for
DOGE whatever bitcore-lib-doge refuses (`doge_checks`). Every result passes `verify` before it is
returned.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence

from kms_ref.crypto.bip340 import schnorr_sign as bip340_sign
from kms_ref.crypto.ecdsa import ecdsa_sign
from kms_ref.crypto.hashes import hash256
from kms_ref.crypto.schnorr_bch import schnorr_sign
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.tx import doge_checks
from kms_ref.tx.consensus import check_money_range
from kms_ref.tx.bitcore_json import PrevOut
from kms_ref.encoding.script import (P2PK, P2PKH, P2SH, P2TR, P2WPKH, classify, p2pkh_script, p2sh_script,
                               p2wpkh_script, push_data)
from kms_ref.hd.taproot import taproot_tweak, taproot_tweak_pubkey, taproot_tweak_seckey
from kms_ref.tx.sighash import (SIGHASH_ALL, SIGHASH_FORKID, Bip143Hashes, bip143_preimage,
                                forkid_preimage, legacy_preimage)
from kms_ref.tx.taproot_sighash import SIGHASH_DEFAULT, TaprootHashes, sig_msg_fields, taproot_sighash
from kms_ref.tx.transaction import Transaction
from kms_ref.tx.verify import hash160, verify_transaction   # hash160 with verify's cache: one RIPEMD-160 per key

Explain = Optional[Callable[[str], None]]

SEGWIT_CHAINS = ("BTC", "LTC")
TAPROOT_CHAINS = ("BTC",)
BITCORE_CHAINS = ("BTC", "LTC", "DOGE")
P2SH_P2WPKH = "p2sh-p2wpkh"


class PrivateKey(NamedTuple):
    """A secp256k1 private key and whether its public key is used compressed (the WIF flag).

    The key type of kms_ref.tx: a plain pair, so callers can build it from a WIF
    (`wif_decode` returns exactly this pair) or from BIP32. Its repr hides the key."""
    seckey: bytes
    compressed: bool = True

    def __repr__(self) -> str:
        return "PrivateKey(<redacted>, compressed=%s)" % self.compressed

    __str__ = __repr__


class KeyChoice(NamedTuple):
    """One signature request that names several keys, e.g. a mnemonic wallet's key at index i
    under BIP44 and under BIP86: used when any of them signs an input. Its repr hides the keys."""
    keys: tuple

    def __repr__(self) -> str:
        return "KeyChoice(<%d redacted keys>)" % len(self.keys)

    __str__ = __repr__


class _Key:
    """What matching needs about one key: its public key and the hashes scripts commit to."""

    def __init__(self, key: PrivateKey, position: int):
        self.key = key
        self.position = position
        self.pubkey = pubkey_from_seckey(key.seckey, key.compressed)
        self.pubkey_hash = hash160(self.pubkey)

    def p2sh_p2wpkh_hash(self) -> bytes:
        """hash160 of the P2SH-P2WPKH redeem script 0014 ‖ hash160(pubkey)."""
        return hash160(p2wpkh_script(self.pubkey_hash))

    def internal_key(self) -> bytes:
        """x(P), the key as a Taproot internal key (BIP340 x-only; compressed or not alike)."""
        return self.pubkey[1:33]

    def taproot_output_key(self) -> bytes:
        """x(Q) of the BIP86 output Q = P + int(hash_TapTweak(x(P)))·G: a P2TR program it spends."""
        return taproot_tweak_pubkey(self.internal_key())[1]


def check_amounts(tx: Transaction, amounts: Sequence[int], chain: str) -> None:
    """What consensus refuses (negative or too large amounts: `consensus.check_money_range`),
    then outputs above inputs, an error on every chain (SPEC §4)."""
    check_money_range(tx, amounts, chain)
    total_in = sum(amounts)
    total_out = sum(txout.value for txout in tx.outputs)
    if total_out > total_in:
        raise ValueError("outputs (%d sat) are above inputs (%d sat)" % (total_out, total_in))


def match_inputs(prev_scripts: Sequence[bytes], keys: Sequence, segwit: bool, taproot: bool = False):
    """For each input, (kind, the _Key that signs it). Errors for unknown kinds, unsignable
    inputs and keys (or KeyChoices) that sign nothing."""
    signers = [_Key(key, k) for k, request in enumerate(keys)
               for key in (request.keys if isinstance(request, KeyChoice) else (request,))]
    by_pubkey = {s.pubkey: s for s in signers}
    by_pubkey_hash = {s.pubkey_hash: s for s in signers}
    # RIPEMD-160 is slow in pure Python, and so is a tweak: hash redeem scripts only when some
    # input is P2SH, tweak keys only when some input is P2TR.
    kinds = {classify(script)[0] for script in prev_scripts}
    by_script_hash = {s.p2sh_p2wpkh_hash(): s for s in signers} if P2SH in kinds else {}
    by_output_key = {s.taproot_output_key(): s for s in signers} if P2TR in kinds and taproot else {}

    matches = []
    for i, script in enumerate(prev_scripts):
        kind, payload = classify(script)
        if kind in (P2WPKH, P2SH) and not segwit:
            raise ValueError("input %d spends a %s output, which this chain cannot have" % (i, kind))
        if kind == P2PKH or kind == P2WPKH:
            signer = by_pubkey_hash.get(payload)
        elif kind == P2PK:
            signer = by_pubkey.get(payload)
        elif kind == P2SH:
            signer = by_script_hash.get(payload)
            kind = P2SH_P2WPKH
        elif kind == P2TR and taproot:
            signer = by_output_key.get(payload)
        else:
            raise ValueError("input %d spends a %s output, which kms_ref cannot sign" % (i, kind))
        if signer is None:
            raise ValueError("input %d (%s): none of the %d given keys can sign it" % (i, kind, len(signers)))
        if kind in (P2WPKH, P2SH_P2WPKH) and not signer.key.compressed:
            raise ValueError("input %d (%s): segwit needs a compressed public key (BIP143), key #%d is "
                             "uncompressed" % (i, kind, signer.position))
        matches.append((kind, signer))
    used = {signer.key for _, signer in matches}
    for position, request in enumerate(keys):
        if not used.intersection(request.keys if isinstance(request, KeyChoice) else (request,)):
            raise ValueError("key #%d (of %d) signs no input of this transaction" % (position, len(keys)))
    return matches


def sign_bitcore(tx: Transaction, prevouts: Sequence[PrevOut], keys: Sequence[PrivateKey], chain: str,
                 change_script: Optional[bytes] = None, fee: Optional[int] = None,
                 explain: Explain = None, aux_rand: Optional[bytes] = None) -> Transaction:
    """Sign a BTC/LTC/DOGE transaction (a signed copy is returned; `tx` is not changed).
    `aux_rand` is for Taproot inputs' BIP340 signatures (None: fresh randomness)."""
    chain = chain.upper()
    if chain not in BITCORE_CHAINS:
        raise ValueError("sign_bitcore signs %s, not %s" % ("/".join(BITCORE_CHAINS), chain))
    if len(prevouts) != len(tx.inputs):
        raise ValueError("%d inputs but %d previous outputs" % (len(tx.inputs), len(prevouts)))
    if not keys:
        raise ValueError("no private key to sign with")
    amounts = [p.amount for p in prevouts]
    scripts = [p.script_pubkey for p in prevouts]
    check_amounts(tx, amounts, chain)
    if chain == "DOGE":   # bitcore checks these before "every input signed"
        doge_checks.check_doge(tx, amounts, scripts, change_script, fee)
    matches = match_inputs(scripts, keys, chain in SEGWIT_CHAINS, chain in TAPROOT_CHAINS)

    signed = tx.copy()
    hashes = Bip143Hashes(signed) if any(kind in (P2WPKH, P2SH_P2WPKH) for kind, _ in matches) else None
    taproot_hashes = TaprootHashes(signed, prevouts) if any(kind == P2TR for kind, _ in matches) else None
    for i, (kind, signer) in enumerate(matches):
        txin = signed.inputs[i]
        if kind == P2TR:
            sig = _taproot_key_path(signed, i, prevouts, signer, taproot_hashes, aux_rand, explain)
            txin.script_sig, txin.witness = b"", [sig]
            _explain_result(explain, i, txin)
            continue
        if kind in (P2PKH, P2PK):
            preimage = legacy_preimage(signed, i, scripts[i], SIGHASH_ALL)
        else:
            script_code = p2pkh_script(signer.pubkey_hash)
            preimage = bip143_preimage(signed, i, script_code, amounts[i], SIGHASH_ALL, hashes)
        sig = _ecdsa(signer.key.seckey, preimage, i, kind, explain) + bytes((SIGHASH_ALL,))
        if kind == P2PKH:
            txin.script_sig, txin.witness = push_data(sig) + push_data(signer.pubkey), []
        elif kind == P2PK:
            txin.script_sig, txin.witness = push_data(sig), []
        elif kind == P2WPKH:
            txin.script_sig, txin.witness = b"", [sig, signer.pubkey]
        else:
            txin.script_sig = push_data(p2wpkh_script(signer.pubkey_hash))
            txin.witness = [sig, signer.pubkey]
        _explain_result(explain, i, txin)
    verify_transaction(signed, prevouts, chain)
    return signed


BCH_TX_VERSION = 2          # bitcoincashjs2-lib's TransactionBuilder always builds version 2
BCH_MAX_FEE_RATE = 2500     # sat/byte above which its build() refuses: "absurd fees"


def sign_bch(tx: Transaction, amounts: Sequence[int], keys: Sequence[PrivateKey],
             explain: Explain = None) -> Transaction:
    """Sign BCH input i with keys[i] (Schnorr, ALL|FORKID); a signed copy is returned.

    As Tatum's bitcoincashjs2-lib does: the signed transaction is version 2 whatever the
    unsigned one says (`TransactionBuilder.fromTransaction` does not copy the version), and a
    fee above 2,500 sat/byte is refused. (The library truncates input amounts to 32 bits in that
    check, so it can miss an absurd fee; kms_ref adds them up exactly and refuses it.)"""
    if len(keys) != len(tx.inputs):
        raise ValueError("BCH signs input i with key i: %d inputs but %d keys" % (len(tx.inputs), len(keys)))
    if len(amounts) != len(tx.inputs):
        raise ValueError("%d inputs but %d amounts" % (len(tx.inputs), len(amounts)))
    check_amounts(tx, amounts, "BCH")
    hash_type = SIGHASH_ALL | SIGHASH_FORKID
    signed = tx.copy()
    signed.version = BCH_TX_VERSION
    hashes = Bip143Hashes(signed)
    prevouts = []
    for i, key in enumerate(keys):
        signer = _Key(key, i)
        script_code = p2pkh_script(signer.pubkey_hash)
        prevouts.append(PrevOut(amounts[i], script_code))
        preimage = forkid_preimage(signed, i, script_code, amounts[i], hash_type, hashes=hashes)
        digest = hash256(preimage)
        if explain:
            explain("input %d (p2pkh, BCH forkid): sighash preimage %s" % (i, preimage.hex()))
            explain("input %d: sighash digest %s" % (i, digest.hex()))
        sig = schnorr_sign(key.seckey, digest, explain) + bytes((hash_type,))
        txin = signed.inputs[i]
        txin.script_sig, txin.witness = push_data(sig) + push_data(signer.pubkey), []
        _explain_result(explain, i, txin)
    fee = sum(amounts) - sum(txout.value for txout in signed.outputs)
    if fee > BCH_MAX_FEE_RATE * len(signed.serialize()):
        raise ValueError("Transaction has absurd fees: %d sat for %d bytes (more than %d sat/byte)"
                         % (fee, len(signed.serialize()), BCH_MAX_FEE_RATE))
    verify_transaction(signed, prevouts, "BCH")
    return signed


def _ecdsa(seckey: bytes, preimage: bytes, i: int, kind: str, explain: Explain) -> bytes:
    digest = hash256(preimage)
    if explain:
        explain("input %d (%s): sighash preimage %s" % (i, kind, preimage.hex()))
        explain("input %d: sighash digest %s" % (i, digest.hex()))
    return ecdsa_sign(seckey, digest, explain)


def _taproot_key_path(tx: Transaction, i: int, prevouts: Sequence[PrevOut], signer: _Key,
                      hashes: TaprootHashes, aux_rand: Optional[bytes], explain: Explain) -> bytes:
    """The 64-byte BIP340 signature of input i's BIP341 sighash (SIGHASH_DEFAULT) by the BIP86-
    tweaked secret key of `signer` (BIP341 §Constructing and spending Taproot outputs)."""
    if explain:
        internal = signer.internal_key()
        explain("input %d (p2tr, BIP341 key path): internal key x(P) = %s" % (i, internal.hex()))
        explain("input %d: tweak t = int(hash_TapTweak(x(P))) = %064x (BIP86: no script tree)"
                % (i, taproot_tweak(internal)))
        explain("input %d: output key x(Q), Q = P + t*G: %s = the input's witness program"
                % (i, signer.taproot_output_key().hex()))
        explain("input %d: signing key = (d + t) mod n, d = d' or n - d' so that d*G has even y (withheld);"
                " BIP340 below signs with it, so its P is Q" % i)
        for name, value in sig_msg_fields(tx, i, prevouts, SIGHASH_DEFAULT, hashes):
            explain("input %d: SigMsg %s = %s" % (i, name, value.hex()))
    digest = taproot_sighash(tx, i, prevouts, SIGHASH_DEFAULT, hashes)
    if explain:
        explain("input %d: sighash digest = hash_TapSighash(0x00 || SigMsg) = %s" % (i, digest.hex()))
    return bip340_sign(taproot_tweak_seckey(signer.key.seckey), digest, aux_rand, explain)


def _explain_result(explain: Explain, i: int, txin) -> None:
    if explain:
        explain("input %d: scriptSig %s" % (i, txin.script_sig.hex()))
        if txin.witness:
            explain("input %d: witness [%s]" % (i, ", ".join(item.hex() for item in txin.witness)))


def p2sh_p2wpkh_script(pubkey: bytes) -> bytes:
    """The P2SH scriptPubKey that a P2SH-P2WPKH key's outputs carry (for tests and callers)."""
    return p2sh_script(hash160(p2wpkh_script(hash160(pubkey))))

