"""The Bitcoin transaction and its wire format (Bitcoin Core `CTransaction`; BIP144 for segwit).

    version   int32 LE
    [marker 0x00, flag 0x01]                      BIP144, only when some input has a witness
    n_in      CompactSize, then per input: prev txid (32 bytes, wire order), vout uint32 LE,
              scriptSig (CompactSize length + bytes), sequence uint32 LE
    n_out     CompactSize, then per output: value int64 LE, scriptPubKey (length + bytes)
    [witness] per input: item count, then each item as length + bytes   (BIP144)
    locktime  uint32 LE

The txid is HASH256 of the form without marker, flag and witnesses; the wtxid (BIP141) is HASH256
of the full form. Both are *displayed* byte-reversed, as every explorer and RPC shows them; inside
a transaction (an input's `prev_hash`) the txid is in wire order. LTC, DOGE and BCH use the same
format (DOGE and BCH never carry witnesses).
"""

from __future__ import annotations

import struct
from typing import List, Optional

from kms_ref.crypto.hashes import hash256

MAX_SIZE = 0x02000000  # Bitcoin Core serialize.h: the largest CompactSize a reader accepts
SEQUENCE_FINAL = 0xFFFFFFFF  # CTxIn::SEQUENCE_FINAL


# --- CompactSize (Bitcoin Core serialize.h WriteCompactSize / ReadCompactSize) ---

def ser_compact_size(n: int) -> bytes:
    """n < 0xfd: one byte; then 0xfd + uint16, 0xfe + uint32, 0xff + uint64 (all little-endian)."""
    if n < 0:
        raise ValueError("CompactSize cannot be negative")
    if n < 0xFD:
        return bytes((n,))
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


def ser_string(data: bytes) -> bytes:
    """A byte string with its CompactSize length in front (scripts, witness items)."""
    return ser_compact_size(len(data)) + data


class Reader:
    """A cursor over bytes that raises ValueError (never IndexError) when the data runs out."""

    def __init__(self, data: bytes):
        self.data = bytes(data)
        self.pos = 0

    def read(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("transaction truncated at byte %d (wanted %d more)" % (self.pos, n))
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def peek(self) -> int:
        if self.pos >= len(self.data):
            raise ValueError("transaction truncated at byte %d" % self.pos)
        return self.data[self.pos]

    def uint32(self) -> int:
        return struct.unpack("<I", self.read(4))[0]

    def int32(self) -> int:
        return struct.unpack("<i", self.read(4))[0]

    def int64(self) -> int:
        return struct.unpack("<q", self.read(8))[0]

    def compact_size(self) -> int:
        """ReadCompactSize: the shortest encoding only ("non-canonical" otherwise), at most MAX_SIZE."""
        first = self.read(1)[0]
        if first < 0xFD:
            n = first
        elif first == 0xFD:
            n = struct.unpack("<H", self.read(2))[0]
            if n < 0xFD:
                raise ValueError("non-canonical CompactSize")
        elif first == 0xFE:
            n = struct.unpack("<I", self.read(4))[0]
            if n <= 0xFFFF:
                raise ValueError("non-canonical CompactSize")
        else:
            n = struct.unpack("<Q", self.read(8))[0]
            if n <= 0xFFFFFFFF:
                raise ValueError("non-canonical CompactSize")
        if n > MAX_SIZE:
            raise ValueError("CompactSize %d is larger than MAX_SIZE" % n)
        return n

    def string(self) -> bytes:
        return self.read(self.compact_size())

    def at_end(self) -> bool:
        return self.pos == len(self.data)


# --- the model ---

class Record:
    """Equality and repr by the fields named in `FIELDS`, as a dataclass gives them. Written out
    because `dataclasses` imports inspect, ast and dis: about 15 ms of every command's start."""

    FIELDS: tuple = ()
    __hash__ = None   # mutable, compared by value: not hashable (as a dataclass with eq)

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.FIELDS)

    def __repr__(self) -> str:
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % (name, getattr(self, name)) for name in self.FIELDS))


class TxIn(Record):
    FIELDS = ("prev_hash", "vout", "script_sig", "sequence", "witness")

    def __init__(self, prev_hash: bytes, vout: int, script_sig: bytes = b"", sequence: int = SEQUENCE_FINAL,
                 witness: Optional[List[bytes]] = None):
        self.prev_hash = prev_hash     # txid of the spent transaction, wire (internal) byte order
        self.vout = vout               # index of the spent output in that transaction
        self.script_sig = script_sig
        self.sequence = sequence
        self.witness = [] if witness is None else witness

    @property
    def prev_txid(self) -> str:
        """The spent txid as displayed (byte-reversed hex)."""
        return self.prev_hash[::-1].hex()

    def outpoint(self) -> bytes:
        """COutPoint serialization: prev txid (wire order) + vout uint32 LE."""
        return self.prev_hash + struct.pack("<I", self.vout)


class TxOut(Record):
    FIELDS = ("value", "script_pubkey")

    def __init__(self, value: int, script_pubkey: bytes):
        self.value = value             # satoshis
        self.script_pubkey = script_pubkey

    def serialize(self) -> bytes:
        return struct.pack("<q", self.value) + ser_string(self.script_pubkey)


class Transaction(Record):
    FIELDS = ("version", "inputs", "outputs", "locktime")

    def __init__(self, version: int, inputs: List[TxIn], outputs: List[TxOut], locktime: int = 0):
        self.version = version
        self.inputs = inputs
        self.outputs = outputs
        self.locktime = locktime

    def has_witness(self) -> bool:
        return any(txin.witness for txin in self.inputs)

    def serialize(self, include_witness: bool = True) -> bytes:
        """The wire form; BIP144 (marker, flag, witnesses) only when some input has a witness."""
        segwit = include_witness and self.has_witness()
        parts = [struct.pack("<i", self.version)]
        if segwit:
            parts.append(b"\x00\x01")  # BIP144 marker and flag
        parts.append(ser_compact_size(len(self.inputs)))
        for txin in self.inputs:
            parts.append(txin.outpoint() + ser_string(txin.script_sig) + struct.pack("<I", txin.sequence))
        parts.append(ser_compact_size(len(self.outputs)))
        parts.extend(txout.serialize() for txout in self.outputs)
        if segwit:
            for txin in self.inputs:
                parts.append(ser_compact_size(len(txin.witness)))
                parts.extend(ser_string(item) for item in txin.witness)
        parts.append(struct.pack("<I", self.locktime))
        return b"".join(parts)

    def txid(self) -> str:
        """HASH256 of the form without witnesses, displayed byte-reversed."""
        return hash256(self.serialize(include_witness=False))[::-1].hex()

    def wtxid(self) -> str:
        """BIP141 wtxid: HASH256 of the full form (equals the txid when there is no witness)."""
        return hash256(self.serialize())[::-1].hex()

    def copy(self) -> "Transaction":
        return Transaction(
            self.version,
            [TxIn(i.prev_hash, i.vout, i.script_sig, i.sequence, list(i.witness)) for i in self.inputs],
            [TxOut(o.value, o.script_pubkey) for o in self.outputs],
            self.locktime,
        )


def parse(raw: bytes) -> Transaction:
    """Parse the wire form (legacy or BIP144). ValueError on truncation, trailing bytes,
    non-canonical sizes, unknown BIP144 flags or a witness flag with no witness (as Bitcoin Core)."""
    r = Reader(raw)
    version = r.int32()
    n_in = r.compact_size()
    flags = 0
    if n_in == 0:
        # BIP144: an empty input list followed by a non-zero flag byte marks the extended form.
        flags = r.read(1)[0]
        if flags != 0:
            n_in = r.compact_size()
        else:
            raise ValueError("transaction has no inputs")
    if flags & ~1:
        raise ValueError("unknown BIP144 flag 0x%02x" % flags)
    inputs = []
    for _ in range(n_in):
        prev_hash = r.read(32)
        vout = r.uint32()
        script_sig = r.string()
        sequence = r.uint32()
        inputs.append(TxIn(prev_hash, vout, script_sig, sequence))
    outputs = []
    for _ in range(r.compact_size()):
        value = r.int64()
        outputs.append(TxOut(value, r.string()))
    if flags & 1:
        for txin in inputs:
            txin.witness = [r.string() for _ in range(r.compact_size())]
        if not any(txin.witness for txin in inputs):
            raise ValueError("superfluous witness record (BIP144 flag set, every witness empty)")
    locktime = r.uint32()
    if not r.at_end():
        raise ValueError("%d unexpected bytes after the transaction" % (len(r.data) - r.pos))
    return Transaction(version, inputs, outputs, locktime)


def parse_hex(text: str) -> Transaction:
    """parse() of a hex string, with a clear message for text that is not hex."""
    try:
        raw = bytes.fromhex(text)
    except (ValueError, TypeError):
        raise ValueError("transaction is not valid hex") from None
    return parse(raw)
