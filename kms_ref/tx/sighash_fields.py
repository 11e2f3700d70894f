"""The signature-hash preimages of `sighash.py`, taken apart into labelled fields, for
`kms-ref sign --explain`: a student reads each field, joins their bytes, and gets the preimage
whose double SHA-256 is the digest that was signed.

- `legacy_fields`: Bitcoin Core's modified transaction — this input's scriptSig replaced by the
  script code (the spent output's script), every other input's emptied — then the 4-byte hash
  type;
- `bip143_fields`: BIP143 §Specification items 1–10;
- `forkid_fields`: the same ten items, with BCH's additions named: the amount spent (item 6) and
  item 10, the hash type with SIGHASH_FORKID (0x40) and the fork id (0 on BCH) in bits 8–31.

Only SIGHASH_ALL (and ALL|FORKID), the types kms_ref signs with, are taken apart; the bytes of
every field list are checked against the `*_preimage` functions (tests/test_sighash_fields.py),
and `tx.explain` checks them again for each input it explains.
"""

from __future__ import annotations

import struct
from typing import List, NamedTuple

from kms_ref.crypto.hashes import hash256
from kms_ref.encoding.script import remove_codeseparators
from kms_ref.tx.sighash import SIGHASH_ALL, SIGHASH_FORKID, FORKID_BCH
from kms_ref.tx.transaction import Transaction, ser_compact_size, ser_string

HASH_TYPE_NAMES = {SIGHASH_ALL: "SIGHASH_ALL", SIGHASH_ALL | SIGHASH_FORKID: "SIGHASH_ALL | SIGHASH_FORKID"}


class Field(NamedTuple):
    label: str
    data: bytes
    note: str = ""


def hash_type_name(hash_type: int) -> str:
    return HASH_TYPE_NAMES.get(hash_type, "hash type 0x%02x" % hash_type)


def _only_all(hash_type: int, forkid: bool) -> None:
    expected = SIGHASH_ALL | (SIGHASH_FORKID if forkid else 0)
    if hash_type != expected:
        raise ValueError("explain takes apart %s signatures only, not 0x%02x"
                         % (hash_type_name(expected), hash_type))


def _outpoint_note(tx: Transaction, i: int) -> str:
    txin = tx.inputs[i]
    return "txid %s (bytes reversed), output %d" % (txin.prev_txid, txin.vout)


def legacy_fields(tx: Transaction, input_index: int, script_code: bytes, hash_type: int) -> List[Field]:
    """The legacy preimage (SIGHASH_ALL): the transaction with the script code in place."""
    _only_all(hash_type, forkid=False)
    code = remove_codeseparators(script_code)
    fields = [Field("nVersion", struct.pack("<i", tx.version), "version %d" % tx.version),
              Field("input count", ser_compact_size(len(tx.inputs)))]
    for i, txin in enumerate(tx.inputs):
        fields.append(Field("input %d outpoint" % i, txin.outpoint(), _outpoint_note(tx, i)))
        if i == input_index:
            fields.append(Field("input %d script" % i, ser_string(code),
                                "the script code in place: the spent output's script, with its length"))
        else:
            fields.append(Field("input %d script" % i, ser_string(b""), "emptied: not the input being signed"))
        fields.append(Field("input %d nSequence" % i, struct.pack("<I", txin.sequence)))
    fields.append(Field("output count", ser_compact_size(len(tx.outputs))))
    for i, txout in enumerate(tx.outputs):
        fields.append(Field("output %d value" % i, struct.pack("<q", txout.value), "%d sat" % txout.value))
        fields.append(Field("output %d script" % i, ser_string(txout.script_pubkey), "with its length"))
    fields.append(Field("nLockTime", struct.pack("<I", tx.locktime)))
    fields.append(Field("hash type", struct.pack("<I", hash_type), hash_type_name(hash_type) + ", 4 bytes"))
    return fields


def bip143_fields(tx: Transaction, input_index: int, script_code: bytes, amount: int, hash_type: int,
                  forkid: bool = False) -> List[Field]:
    """BIP143 items 1–10 for SIGHASH_ALL (or, with forkid, BCH's ALL|FORKID)."""
    _only_all(hash_type, forkid)
    txin = tx.inputs[input_index]
    outpoints = b"".join(t.outpoint() for t in tx.inputs)
    sequences = b"".join(struct.pack("<I", t.sequence) for t in tx.inputs)
    outputs = b"".join(t.serialize() for t in tx.outputs)
    type_field = (hash_type | (FORKID_BCH << 8)) if forkid else hash_type
    type_note = hash_type_name(hash_type) + (", fork id %d in bits 8-31 (BCH's addition)" % FORKID_BCH
                                             if forkid else "")
    return [
        Field("1. nVersion", struct.pack("<i", tx.version), "version %d" % tx.version),
        Field("2. hashPrevouts", hash256(outpoints), "HASH256 of the %d outpoints" % len(tx.inputs)),
        Field("3. hashSequence", hash256(sequences), "HASH256 of the %d nSequence" % len(tx.inputs)),
        Field("4. outpoint", txin.outpoint(), _outpoint_note(tx, input_index)),
        Field("5. scriptCode", ser_string(script_code), "P2PKH script of the key hash, with its length"),
        Field("6. value", struct.pack("<q", amount), "%d sat, the amount spent%s"
              % (amount, " (what BCH's forkid signs to stop replays)" if forkid else "")),
        Field("7. nSequence", struct.pack("<I", txin.sequence)),
        Field("8. hashOutputs", hash256(outputs), "HASH256 of the %d outputs" % len(tx.outputs)),
        Field("9. nLockTime", struct.pack("<I", tx.locktime)),
        Field("10. hash type", struct.pack("<I", type_field), type_note),
    ]


def forkid_fields(tx: Transaction, input_index: int, script_code: bytes, amount: int,
                  hash_type: int = SIGHASH_ALL | SIGHASH_FORKID) -> List[Field]:
    return bip143_fields(tx, input_index, script_code, amount, hash_type, forkid=True)
