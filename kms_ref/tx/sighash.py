"""Signature hashes: legacy (Bitcoin Core SignatureHash), BIP143 (segwit v0) and the BCH forkid digest.

What an input's signature commits to. Three algorithms:

- `sighash_legacy` — the original one, for P2PKH/P2PK on every chain but BCH: a modified copy
  of the transaction (other inputs' scripts emptied, this input's script replaced by scriptCode,
  outputs and sequences cut down by the hash type), HASH256 with the hash type appended.
  Quirk kept from Bitcoin Core: SIGHASH_SINGLE on an input with no output of the same index (or an
  input index out of range) signs the number 1 (`SIGHASH_ONE`) instead of a hash.
- `sighash_bip143` — BIP143 §Specification, for P2WPKH and P2SH-P2WPKH: a fixed-layout preimage
  that includes the amount spent and reuses three transaction-wide hashes.
- `sighash_forkid` — Bitcoin Cash (replay-protected sighash, 2017-11 spec "REQ-6-2"): the BIP143
  algorithm with the input amount, for hash types with SIGHASH_FORKID (0x40); the 4-byte type
  field is `hash_type | (fork_id << 8)`, fork_id 0 on BCH.

Digests are returned as HASH256 gives them (the order ECDSA/Schnorr sign); Bitcoin Core's test
data prints them byte-reversed. Each `*_preimage` function returns the bytes hashed, for `explain`.
"""

from __future__ import annotations

import struct
from typing import Optional

from kms_ref.crypto.hashes import hash256
from kms_ref.encoding.script import remove_codeseparators
from kms_ref.tx.transaction import Transaction, ser_compact_size, ser_string

# Bitcoin Core script/interpreter.h
SIGHASH_ALL = 0x01
SIGHASH_NONE = 0x02
SIGHASH_SINGLE = 0x03
SIGHASH_ANYONECANPAY = 0x80
SIGHASH_FORKID = 0x40   # Bitcoin Cash replay protection (2017-11 spec)
FORKID_BCH = 0          # Bitcoin Cash's fork id

# What Bitcoin Core's SignatureHash returns for SIGHASH_SINGLE without a matching output: uint256 1.
SIGHASH_ONE = (1).to_bytes(32, "little")

ZERO32 = bytes(32)


# --- legacy ---

def legacy_preimage(tx: Transaction, input_index: int, script_code: bytes, hash_type: int) -> Optional[bytes]:
    """The bytes the legacy algorithm hashes, or None when it signs SIGHASH_ONE instead.

    As Bitcoin Core's CTransactionSignatureSerializer: only the base type (hash_type & 0x1f) and
    ANYONECANPAY matter; the full 32-bit hash_type is appended."""
    if input_index >= len(tx.inputs):
        return None
    base = hash_type & 0x1F
    anyone_can_pay = bool(hash_type & SIGHASH_ANYONECANPAY)
    if base == SIGHASH_SINGLE and input_index >= len(tx.outputs):
        return None

    parts = [struct.pack("<i", tx.version)]
    signed_inputs = [input_index] if anyone_can_pay else range(len(tx.inputs))
    parts.append(ser_compact_size(len(signed_inputs)))
    code = remove_codeseparators(script_code)
    for i in signed_inputs:
        txin = tx.inputs[i]
        script = code if i == input_index else b""
        # NONE and SINGLE let the other inputs change their sequence: sign 0 for them.
        if i != input_index and base in (SIGHASH_NONE, SIGHASH_SINGLE):
            sequence = 0
        else:
            sequence = txin.sequence
        parts.append(txin.outpoint() + ser_string(script) + struct.pack("<I", sequence))

    if base == SIGHASH_NONE:
        parts.append(ser_compact_size(0))
    elif base == SIGHASH_SINGLE:
        # Outputs up to this input's index; those before it blanked: value -1, empty script.
        parts.append(ser_compact_size(input_index + 1))
        parts.extend(b"\xff" * 8 + b"\x00" for _ in range(input_index))
        parts.append(tx.outputs[input_index].serialize())
    else:
        parts.append(ser_compact_size(len(tx.outputs)))
        parts.extend(txout.serialize() for txout in tx.outputs)
    parts.append(struct.pack("<I", tx.locktime))
    parts.append(struct.pack("<I", hash_type & 0xFFFFFFFF))
    return b"".join(parts)


def sighash_legacy(tx: Transaction, input_index: int, script_code: bytes, hash_type: int) -> bytes:
    """Bitcoin Core SignatureHash(scriptCode, tx, nIn, nHashType, SigVersion::BASE)."""
    preimage = legacy_preimage(tx, input_index, script_code, hash_type)
    return SIGHASH_ONE if preimage is None else hash256(preimage)


# --- BIP143 ---

class Bip143Hashes:
    """hashPrevouts, hashSequence and hashOutputs of BIP143 for SIGHASH_ALL, computed once.

    These three are the same for every input signed with SIGHASH_ALL, so a signer that computes
    them per input does O(n) hashing per input and O(n²) in all. BIP143 names this reuse as its
    fix for the quadratic hashing of the legacy algorithm. With the cache, a 100-input
    transaction hashes its inputs and outputs 3 times instead of 300; `sighash_bip143` without a
    cache computes them on the spot (the plain form, which tests compare against)."""

    def __init__(self, tx: Transaction):
        self.hash_prevouts = hash256(b"".join(txin.outpoint() for txin in tx.inputs))
        self.hash_sequence = hash256(b"".join(struct.pack("<I", txin.sequence) for txin in tx.inputs))
        self.hash_outputs = hash256(b"".join(txout.serialize() for txout in tx.outputs))


def bip143_preimage(tx: Transaction, input_index: int, script_code: bytes, amount: int, hash_type: int,
                    hashes: Optional[Bip143Hashes] = None, type_field: Optional[int] = None) -> bytes:
    """BIP143 §Specification items 1-10. `script_code` is the script itself (its length is
    prefixed here); `type_field` overrides item 10 (the BCH forkid form), default hash_type."""
    if not 0 <= input_index < len(tx.inputs):
        raise ValueError("input index %d out of range (%d inputs)" % (input_index, len(tx.inputs)))
    base = hash_type & 0x1F
    anyone_can_pay = bool(hash_type & SIGHASH_ANYONECANPAY)
    all_hashes = hashes if hashes is not None else Bip143Hashes(tx)

    hash_prevouts = ZERO32 if anyone_can_pay else all_hashes.hash_prevouts
    if anyone_can_pay or base in (SIGHASH_SINGLE, SIGHASH_NONE):
        hash_sequence = ZERO32
    else:
        hash_sequence = all_hashes.hash_sequence
    if base not in (SIGHASH_SINGLE, SIGHASH_NONE):
        hash_outputs = all_hashes.hash_outputs
    elif base == SIGHASH_SINGLE and input_index < len(tx.outputs):
        hash_outputs = hash256(tx.outputs[input_index].serialize())
    else:
        hash_outputs = ZERO32

    txin = tx.inputs[input_index]
    return b"".join((
        struct.pack("<i", tx.version),                      # 1. nVersion
        hash_prevouts,                                      # 2. hashPrevouts
        hash_sequence,                                      # 3. hashSequence
        txin.outpoint(),                                    # 4. outpoint
        ser_string(script_code),                            # 5. scriptCode
        struct.pack("<q", amount),                          # 6. value
        struct.pack("<I", txin.sequence),                   # 7. nSequence
        hash_outputs,                                       # 8. hashOutputs
        struct.pack("<I", tx.locktime),                     # 9. nLockTime
        struct.pack("<I", (hash_type if type_field is None else type_field) & 0xFFFFFFFF),  # 10.
    ))


def sighash_bip143(tx: Transaction, input_index: int, script_code: bytes, amount: int, hash_type: int,
                   hashes: Optional[Bip143Hashes] = None) -> bytes:
    """BIP143 signature hash of one input spending `amount` satoshis."""
    return hash256(bip143_preimage(tx, input_index, script_code, amount, hash_type, hashes))


# --- Bitcoin Cash ---

def forkid_preimage(tx: Transaction, input_index: int, script_code: bytes, amount: int,
                    hash_type: int = SIGHASH_ALL | SIGHASH_FORKID, fork_id: int = FORKID_BCH,
                    hashes: Optional[Bip143Hashes] = None) -> bytes:
    if not hash_type & SIGHASH_FORKID:
        raise ValueError("a Bitcoin Cash signature hash needs SIGHASH_FORKID (0x40) in the hash type")
    type_field = (hash_type & 0xFF) | (fork_id << 8)
    return bip143_preimage(tx, input_index, script_code, amount, hash_type, hashes, type_field)


def sighash_forkid(tx: Transaction, input_index: int, script_code: bytes, amount: int,
                   hash_type: int = SIGHASH_ALL | SIGHASH_FORKID, fork_id: int = FORKID_BCH,
                   hashes: Optional[Bip143Hashes] = None) -> bytes:
    """The BCH digest: BIP143 with hash type 0x41 (ALL|FORKID) by default."""
    return hash256(forkid_preimage(tx, input_index, script_code, amount, hash_type, fork_id, hashes))
