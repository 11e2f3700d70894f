"""A script check for the templates kms_ref signs (SPEC §4: verify before broadcast).

Not a Script interpreter: for each input it recognises the previous output's template and checks
exactly what executing that template would, plus the standardness rules a node applies:

- P2PKH: scriptSig is exactly <sig> <pubkey> (shortest pushes), hash160(pubkey) is the key hash,
  and the signature is valid over the legacy sighash with the signature's own hash type.
- P2PK: scriptSig is exactly <sig>, valid for the script's public key.
- P2WPKH (BIP141): empty scriptSig, exactly two witness items [sig, pubkey], a 20-byte program
  equal to hash160(pubkey), a compressed pubkey (BIP143 §Restrictions on public key type), and
  the signature valid over the BIP143 sighash with scriptCode = P2PKH of the program.
- P2SH-P2WPKH (BIP16 + BIP141): the scriptSig is exactly one push of the redeem script, whose
  hash160 is the P2SH hash and which is a P2WPKH program; then the P2WPKH rules.
- P2TR (BIP341, BTC only), key path: empty scriptSig, exactly one witness item, a 64-byte BIP340
  signature (SIGHASH_DEFAULT) or 65 bytes whose last byte is a defined hash type other than 0x00,
  valid for the 32-byte output key over the Taproot sighash — which commits to every input's
  amount and scriptPubKey, so it is checked by `verify_transaction` (or with `prevouts` given).
  Script-path spends and an annex (non-standard in Bitcoin Core) are refused.
- BCH: P2PKH, and the hash type must carry SIGHASH_FORKID; a 65-byte signature (64 + hash type)
  is Schnorr, any other length DER ECDSA; both over the forkid digest with the input's amount.

ECDSA is checked strictly (`ecdsa_verify`: strict DER, low S — BIP66, BIP146). Hash types must
be defined ones (Bitcoin Core STRICTENC): base ALL/NONE/SINGLE, optionally ANYONECANPAY, and
FORKID on BCH only. The first failure raises ValueError naming the input and the reason.
"""

from __future__ import annotations

from typing import Optional, Sequence

import functools

from kms_ref.crypto.bip340 import schnorr_verify as bip340_verify
from kms_ref.crypto.ecdsa import ecdsa_verify
from kms_ref.crypto.hashes import hash160 as _hash160
from kms_ref.crypto.schnorr_bch import schnorr_verify
from kms_ref.tx.bitcore_json import PrevOut
from kms_ref.encoding.script import (P2PK, P2PKH, P2SH, P2TR, P2WPKH, classify, p2pkh_script, parse_pushes,
                               push_data)
from kms_ref.tx.sighash import (SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_FORKID, SIGHASH_SINGLE,
                                Bip143Hashes, sighash_bip143, sighash_forkid, sighash_legacy)
from kms_ref.tx.taproot_sighash import SIGHASH_DEFAULT, TaprootHashes, taproot_sighash
from kms_ref.tx.transaction import Transaction

# The inputs of one transaction usually share a few keys, and pure-Python RIPEMD-160 costs
# ~0.1 ms: remember the hashes of recent public keys and redeem scripts (public data, a pure
# function — the check itself is unchanged).
hash160 = functools.lru_cache(maxsize=1024)(_hash160)

SEGWIT_CHAINS = ("BTC", "LTC")
CHAINS = ("BTC", "LTC", "DOGE", "BCH")


class _Failure(ValueError):
    pass


def _fail(reason: str):
    raise _Failure(reason)


def split_hash_type(sig: bytes, forkid: bool) -> int:
    """The hash type byte at the end of a signature, checked to be a defined one for the chain."""
    if len(sig) < 2:
        _fail("signature is empty")
    hash_type = sig[-1]
    if forkid != bool(hash_type & SIGHASH_FORKID):
        _fail("hash type 0x%02x: SIGHASH_FORKID is %s on this chain" % (hash_type, "required" if forkid else "not allowed"))
    base = hash_type & ~(SIGHASH_ANYONECANPAY | SIGHASH_FORKID)
    if not SIGHASH_ALL <= base <= SIGHASH_SINGLE:
        _fail("undefined hash type 0x%02x" % hash_type)
    return hash_type


def _exact_pushes(script_sig: bytes, count: int) -> list:
    try:
        items = parse_pushes(script_sig)
    except ValueError as exc:
        _fail(str(exc))
    if len(items) != count or b"".join(push_data(item) for item in items) != script_sig:
        _fail("scriptSig must be exactly %d push(es) in shortest form" % count)
    return items


def _check_ecdsa(pubkey: bytes, digest: bytes, der: bytes) -> None:
    if not ecdsa_verify(pubkey, digest, der):
        _fail("ECDSA signature does not verify (or is not strict low-S DER)")


def _check_p2wpkh(tx: Transaction, i: int, program: bytes, amount: int, hashes) -> None:
    txin = tx.inputs[i]
    if len(txin.witness) != 2:
        _fail("P2WPKH needs exactly 2 witness items, found %d" % len(txin.witness))
    sig, pubkey = txin.witness
    if len(pubkey) != 33 or pubkey[0] not in (2, 3):
        _fail("P2WPKH needs a compressed public key")
    if hash160(pubkey) != program:
        _fail("hash160 of the witness public key is not the witness program")
    hash_type = split_hash_type(sig, forkid=False)
    digest = sighash_bip143(tx, i, p2pkh_script(program), amount, hash_type, hashes)
    _check_ecdsa(pubkey, digest, sig[:-1])


def _check_p2tr(tx: Transaction, i: int, output_key: bytes, prevouts, taproot_hashes) -> None:
    """BIP341 §Taproot key path spending signature validation."""
    txin = tx.inputs[i]
    if txin.script_sig:
        _fail("P2TR needs an empty scriptSig")
    if prevouts is None:
        _fail("a Taproot signature commits to every input's previous output (BIP341): check it with all of them")
    if len(txin.witness) >= 2 and txin.witness[-1][:1] == b"\x50":
        _fail("P2TR witness carries an annex, which is non-standard (and not checked here)")
    if len(txin.witness) != 1:
        _fail("P2TR key path needs exactly 1 witness item, found %d (script-path spends are not checked)"
              % len(txin.witness))
    sig = txin.witness[0]
    if len(sig) == 64:
        hash_type = SIGHASH_DEFAULT
    elif len(sig) == 65 and sig[64] != SIGHASH_DEFAULT:
        hash_type = sig[64]
    elif len(sig) == 65:
        _fail("a 65-byte Taproot signature must not end in hash type 0x00 (BIP341)")
    else:
        _fail("a Taproot signature is 64 or 65 bytes, found %d" % len(sig))
    try:
        digest = taproot_sighash(tx, i, prevouts, hash_type, taproot_hashes)
    except ValueError as exc:
        _fail(str(exc))
    if not bip340_verify(output_key, digest, sig[:64]):
        _fail("BIP340 signature does not verify for the output key")


def verify_input(tx: Transaction, i: int, prevout: PrevOut, chain: str,
                 hashes: Optional[Bip143Hashes] = None, prevouts: Optional[Sequence[PrevOut]] = None,
                 taproot_hashes: Optional[TaprootHashes] = None) -> None:
    """Check input i against the output it spends; ValueError("input i: ...") on failure.
    A Taproot input also needs `prevouts`, every input's previous output."""
    chain = chain.upper()
    if chain not in CHAINS:
        raise ValueError("unknown chain %r" % chain)
    try:
        _verify_input(tx, i, prevout, chain, hashes, prevouts, taproot_hashes)
    except _Failure as exc:
        raise ValueError("signature check failed: input %d: %s" % (i, exc)) from None


def _verify_input(tx: Transaction, i: int, prevout: PrevOut, chain: str, hashes, prevouts, taproot_hashes) -> None:
    txin = tx.inputs[i]
    kind, payload = classify(prevout.script_pubkey)
    segwit = chain in SEGWIT_CHAINS
    if kind in (P2PKH, P2PK) and txin.witness:
        _fail("unexpected witness on a %s input" % kind)

    if chain == "BCH":
        if kind != P2PKH:
            _fail("BCH inputs must spend P2PKH, not %s" % kind)
        sig, pubkey = _exact_pushes(txin.script_sig, 2)
        if hash160(pubkey) != payload:
            _fail("hash160 of the public key is not the P2PKH key hash")
        hash_type = split_hash_type(sig, forkid=True)
        digest = sighash_forkid(tx, i, prevout.script_pubkey, prevout.amount, hash_type, hashes=hashes)
        if len(sig) == 65:
            if not schnorr_verify(pubkey, digest, sig[:64]):
                _fail("Schnorr signature does not verify")
        else:
            _check_ecdsa(pubkey, digest, sig[:-1])
    elif kind == P2PKH:
        sig, pubkey = _exact_pushes(txin.script_sig, 2)
        if hash160(pubkey) != payload:
            _fail("hash160 of the public key is not the P2PKH key hash")
        hash_type = split_hash_type(sig, forkid=False)
        _check_ecdsa(pubkey, sighash_legacy(tx, i, prevout.script_pubkey, hash_type), sig[:-1])
    elif kind == P2PK:
        (sig,) = _exact_pushes(txin.script_sig, 1)
        hash_type = split_hash_type(sig, forkid=False)
        _check_ecdsa(payload, sighash_legacy(tx, i, prevout.script_pubkey, hash_type), sig[:-1])
    elif kind == P2WPKH and segwit:
        if txin.script_sig:
            _fail("P2WPKH needs an empty scriptSig")
        _check_p2wpkh(tx, i, payload, prevout.amount, hashes)
    elif kind == P2SH and segwit:
        (redeem_script,) = _exact_pushes(txin.script_sig, 1)
        if hash160(redeem_script) != payload:
            _fail("hash160 of the redeem script is not the P2SH script hash")
        redeem_kind, program = classify(redeem_script)
        if redeem_kind != P2WPKH:
            _fail("P2SH redeem script is %s, only P2SH-P2WPKH is checked" % redeem_kind)
        _check_p2wpkh(tx, i, program, prevout.amount, hashes)
    elif kind == P2TR and chain == "BTC":
        _check_p2tr(tx, i, payload, prevouts, taproot_hashes)
    else:
        _fail("cannot check a %s output on %s" % (kind, chain))


def verify_transaction(tx: Transaction, prevouts: Sequence[PrevOut], chain: str) -> None:
    """Check every input; returns None when all pass, else ValueError naming the first bad input."""
    if len(prevouts) != len(tx.inputs):
        raise ValueError("%d inputs but %d previous outputs" % (len(tx.inputs), len(prevouts)))
    if chain.upper() not in SEGWIT_CHAINS and tx.has_witness():
        raise ValueError("signature check failed: %s transactions cannot carry witnesses" % chain.upper())
    hashes = Bip143Hashes(tx)
    taproot_hashes = None
    if any(classify(p.script_pubkey)[0] == P2TR for p in prevouts):
        taproot_hashes = TaprootHashes(tx, prevouts)
    for i, prevout in enumerate(prevouts):
        verify_input(tx, i, prevout, chain, hashes, prevouts, taproot_hashes)
