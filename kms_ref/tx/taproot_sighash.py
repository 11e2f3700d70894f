"""The Taproot signature hash (BIP341 §Signature validation rules), for key-path spends.

A Taproot input signs hash_TapSighash(0x00 ‖ SigMsg(hash_type, 0)): the epoch byte 0x00, then
the common signature message of BIP341 §Common signature message, whose fields are listed here
in the BIP's order with the BIP's names (`sig_msg_fields`, so that `--explain` can print them
labelled). Differences from BIP143 that matter to a signer: single SHA256 everywhere, and unless
ANYONECANPAY the message commits to the amounts and scriptPubKeys of *all* inputs' previous
outputs — so signing any Taproot input needs every prevout, not just its own.

hash_type: SIGHASH_DEFAULT 0x00 (like ALL; kms_ref signs with it, giving 64-byte signatures),
ALL/NONE/SINGLE 0x01–0x03, and those with ANYONECANPAY 0x81–0x83; anything else fails, as does
SINGLE without an output at the input's index. ext_flag is 0 (key path; BIP342's script-path
extension is not implemented). An annex, when the caller passes one, is committed as the BIP says.
"""

from __future__ import annotations

import hashlib
import struct
from typing import List, Optional, Sequence, Tuple

from kms_ref.crypto.bip340 import tagged_hash
from kms_ref.tx.bitcore_json import PrevOut
from kms_ref.tx.sighash import SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE
from kms_ref.tx.transaction import Transaction, ser_string

SIGHASH_DEFAULT = 0x00  # BIP341: signs like SIGHASH_ALL; implied by a 64-byte signature
TAPROOT_HASH_TYPES = (0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83)
SIGHASH_EPOCH = b"\x00"  # BIP341: "the sighash epoch"
KEY_PATH_EXT_FLAG = 0


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class TaprootHashes:
    """The five transaction-wide SHA256s of SigMsg, computed once per transaction (every input
    that signs without ANYONECANPAY reuses them, as BIP341's footnote on caching intends):

        sha_prevouts        all outpoints             sha_amounts   all spent amounts (int64 LE)
        sha_scriptpubkeys   all spent scriptPubKeys   sha_sequences all nSequence (uint32 LE)
        sha_outputs         all outputs, CTxOut format
    """

    def __init__(self, tx: Transaction, prevouts: Sequence[PrevOut]):
        if len(prevouts) != len(tx.inputs):
            raise ValueError("BIP341 signs every input's previous output: %d inputs but %d previous outputs"
                             % (len(tx.inputs), len(prevouts)))
        self.sha_prevouts = sha256(b"".join(txin.outpoint() for txin in tx.inputs))
        self.sha_amounts = sha256(b"".join(struct.pack("<q", p.amount) for p in prevouts))
        self.sha_scriptpubkeys = sha256(b"".join(ser_string(p.script_pubkey) for p in prevouts))
        self.sha_sequences = sha256(b"".join(struct.pack("<I", txin.sequence) for txin in tx.inputs))
        self.sha_outputs = sha256(b"".join(txout.serialize() for txout in tx.outputs))


def sig_msg_fields(tx: Transaction, input_index: int, prevouts: Sequence[PrevOut], hash_type: int,
                   hashes: Optional[TaprootHashes] = None, annex: Optional[bytes] = None) -> List[Tuple[str, bytes]]:
    """SigMsg(hash_type, 0) as (BIP341 name, bytes) pairs, in order; ValueError for an undefined
    hash_type, SINGLE without a corresponding output, or a bad input index."""
    if hash_type not in TAPROOT_HASH_TYPES:
        raise ValueError("undefined Taproot hash type 0x%02x" % hash_type)
    if not 0 <= input_index < len(tx.inputs):
        raise ValueError("input index %d out of range (%d inputs)" % (input_index, len(tx.inputs)))
    base = hash_type & 3
    anyone_can_pay = hash_type & 0x80 == SIGHASH_ANYONECANPAY
    if base == SIGHASH_SINGLE and input_index >= len(tx.outputs):
        raise ValueError("SIGHASH_SINGLE on input %d, which has no corresponding output" % input_index)
    hashes = hashes if hashes is not None else TaprootHashes(tx, prevouts)

    fields = [("hash_type", bytes((hash_type,))),                              # Control
              ("nVersion", struct.pack("<i", tx.version)),                     # Transaction data
              ("nLockTime", struct.pack("<I", tx.locktime))]
    if not anyone_can_pay:
        fields += [("sha_prevouts", hashes.sha_prevouts), ("sha_amounts", hashes.sha_amounts),
                   ("sha_scriptpubkeys", hashes.sha_scriptpubkeys), ("sha_sequences", hashes.sha_sequences)]
    if base not in (SIGHASH_NONE, SIGHASH_SINGLE):
        fields.append(("sha_outputs", hashes.sha_outputs))
    annex_present = 0 if annex is None else 1
    fields.append(("spend_type", bytes((KEY_PATH_EXT_FLAG * 2 + annex_present,))))  # Data about this input
    txin = tx.inputs[input_index]
    if anyone_can_pay:
        prevout = prevouts[input_index]
        fields += [("outpoint", txin.outpoint()), ("amount", struct.pack("<q", prevout.amount)),
                   ("scriptPubKey", ser_string(prevout.script_pubkey)),
                   ("nSequence", struct.pack("<I", txin.sequence))]
    else:
        fields.append(("input_index", struct.pack("<I", input_index)))
    if annex is not None:
        fields.append(("sha_annex", sha256(ser_string(annex))))
    if base == SIGHASH_SINGLE:                                                # Data about this output
        fields.append(("sha_single_output", sha256(tx.outputs[input_index].serialize())))
    return fields


def sig_msg(tx: Transaction, input_index: int, prevouts: Sequence[PrevOut], hash_type: int,
            hashes: Optional[TaprootHashes] = None, annex: Optional[bytes] = None) -> bytes:
    """SigMsg(hash_type, 0): the fields above, concatenated (at most 206 bytes)."""
    return b"".join(value for _, value in sig_msg_fields(tx, input_index, prevouts, hash_type, hashes, annex))


def taproot_sighash(tx: Transaction, input_index: int, prevouts: Sequence[PrevOut], hash_type: int = SIGHASH_DEFAULT,
                    hashes: Optional[TaprootHashes] = None, annex: Optional[bytes] = None) -> bytes:
    """hash_TapSighash(0x00 ‖ SigMsg(hash_type, 0)): the 32-byte message a key-path signature signs."""
    return tagged_hash("TapSighash", SIGHASH_EPOCH + sig_msg(tx, input_index, prevouts, hash_type, hashes, annex))

