"""Bitcoin Script: the opcodes kms_ref uses, data pushes, parsing, and the output templates.

It sits with the encodings because an address is only a way of writing one of these output
scripts: `kms_ref.hd.addresses` (below the transaction layer) and `kms_ref.tx` both build on it.

Opcode values are Bitcoin Core's (`script/script.h`). Templates (scriptPubKeys) and what spends them:

    P2PKH        OP_DUP OP_HASH160 <20-byte hash160(pubkey)> OP_EQUALVERIFY OP_CHECKSIG
    P2PK         <33- or 65-byte pubkey> OP_CHECKSIG
    P2WPKH       OP_0 <20-byte hash160(pubkey)>                        (BIP141 v0 key hash)
    P2SH         OP_HASH160 <20-byte hash160(redeem script)> OP_EQUAL  (BIP16)
    P2SH-P2WPKH  P2SH whose redeem script is the P2WPKH program 0014<hash160(pubkey)>
    P2TR         OP_1 <32-byte output key>                             (BIP341 v1; key path only)
    P2WSH        OP_0 <32-byte sha256(script)>: recognised, but kms_ref cannot sign it.

Pushes (`push_data`) follow Bitcoin Core's `CScript << bytes` and bitcore's `Script.add(buf)`:
up to 75 bytes the length itself is the opcode, then OP_PUSHDATA1/2/4. BIP62's stricter rule also
wants OP_0, OP_1..OP_16 and OP_1NEGATE for empty and some one-byte data; it never applies to what
kms_ref pushes (signatures, public keys, a 22-byte redeem script), so both rules give the same bytes.
"""

from __future__ import annotations

import struct
from typing import List, Optional, Tuple

# Bitcoin Core script/script.h
OP_0 = 0x00
OP_PUSHDATA1 = 0x4C
OP_PUSHDATA2 = 0x4D
OP_PUSHDATA4 = 0x4E
OP_1NEGATE = 0x4F
OP_1 = 0x51
OP_16 = 0x60
OP_RETURN = 0x6A
OP_DUP = 0x76
OP_EQUAL = 0x87
OP_EQUALVERIFY = 0x88
OP_HASH160 = 0xA9
OP_CODESEPARATOR = 0xAB
OP_CHECKSIG = 0xAC

# Script kinds returned by `classify`.
P2PKH = "p2pkh"
P2PK = "p2pk"
P2WPKH = "p2wpkh"
P2SH = "p2sh"
P2WSH = "p2wsh"
P2TR = "p2tr"
NULLDATA = "nulldata"
UNKNOWN = "unknown"


def push_data(data: bytes) -> bytes:
    """The shortest push of `data` by length: direct (<= 75), OP_PUSHDATA1, 2 or 4."""
    n = len(data)
    if n < OP_PUSHDATA1:
        return bytes((n,)) + data
    if n <= 0xFF:
        return bytes((OP_PUSHDATA1, n)) + data
    if n <= 0xFFFF:
        return bytes((OP_PUSHDATA2,)) + struct.pack("<H", n) + data
    return bytes((OP_PUSHDATA4,)) + struct.pack("<I", n) + data


def get_op(script: bytes, pos: int) -> Tuple[int, Optional[bytes], int]:
    """Read one operation at `pos` (Bitcoin Core GetScriptOp): (opcode, pushed data or None, next pos).

    ValueError if a push runs past the end of the script."""
    opcode = script[pos]
    pos += 1
    if opcode > OP_PUSHDATA4:
        return opcode, None, pos
    if opcode < OP_PUSHDATA1:
        size = opcode
    else:
        width = {OP_PUSHDATA1: 1, OP_PUSHDATA2: 2, OP_PUSHDATA4: 4}[opcode]
        if pos + width > len(script):
            raise ValueError("script push length runs past the end of the script")
        size = int.from_bytes(script[pos:pos + width], "little")
        pos += width
    if pos + size > len(script):
        raise ValueError("script push of %d bytes runs past the end of the script" % size)
    return opcode, script[pos:pos + size], pos + size


def parse_script(script: bytes) -> List[Tuple[int, Optional[bytes]]]:
    """Split a script into (opcode, data) operations; data is None for non-push opcodes."""
    ops = []
    pos = 0
    while pos < len(script):
        opcode, data, pos = get_op(script, pos)
        ops.append((opcode, data))
    return ops


def parse_pushes(script: bytes) -> List[bytes]:
    """The data of a push-only script (a scriptSig); ValueError on any other opcode."""
    items = []
    for opcode, data in parse_script(script):
        if data is None:
            raise ValueError("scriptSig is not push-only (opcode 0x%02x)" % opcode)
        items.append(data)
    return items


# --- templates ---

def p2pkh_script(pubkey_hash: bytes) -> bytes:
    _need(pubkey_hash, 20, "P2PKH key hash")
    return bytes((OP_DUP, OP_HASH160, 20)) + pubkey_hash + bytes((OP_EQUALVERIFY, OP_CHECKSIG))


def p2pk_script(pubkey: bytes) -> bytes:
    return push_data(pubkey) + bytes((OP_CHECKSIG,))


def p2wpkh_script(pubkey_hash: bytes) -> bytes:
    """BIP141: version 0 witness program of 20 bytes. Also the P2SH-P2WPKH redeem script."""
    _need(pubkey_hash, 20, "P2WPKH key hash")
    return bytes((OP_0, 20)) + pubkey_hash


def p2sh_script(script_hash: bytes) -> bytes:
    _need(script_hash, 20, "P2SH script hash")
    return bytes((OP_HASH160, 20)) + script_hash + bytes((OP_EQUAL,))


def _need(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise ValueError("%s must be %d bytes, got %d" % (what, size, len(data)))


def is_pubkey_encoding(data: bytes) -> bool:
    """SEC1 shape of a public key: 33 bytes 02/03 + x, or 65 bytes 04 + x + y (not checked on curve)."""
    return (len(data) == 33 and data[0] in (2, 3)) or (len(data) == 65 and data[0] == 4)


def classify(script: bytes) -> Tuple[str, bytes]:
    """(kind, payload) of a scriptPubKey, by exact byte template as Bitcoin Core's Solver:
    P2PKH/P2WPKH/P2SH -> the 20-byte hash, P2PK -> the public key, P2WSH/P2TR -> the 32-byte
    program, NULLDATA/UNKNOWN -> b""."""
    n = len(script)
    if (n == 25 and script[:3] == bytes((OP_DUP, OP_HASH160, 20))
            and script[23:] == bytes((OP_EQUALVERIFY, OP_CHECKSIG))):
        return P2PKH, script[3:23]
    if n == 23 and script[:2] == bytes((OP_HASH160, 20)) and script[22] == OP_EQUAL:
        return P2SH, script[2:22]
    if n == 22 and script[:2] == bytes((OP_0, 20)):
        return P2WPKH, script[2:]
    if n == 34 and script[:2] == bytes((OP_0, 32)):
        return P2WSH, script[2:]
    if n == 34 and script[:2] == bytes((OP_1, 32)):
        return P2TR, script[2:]
    if n in (35, 67) and script[0] == n - 2 and script[-1] == OP_CHECKSIG and is_pubkey_encoding(script[1:-1]):
        return P2PK, script[1:-1]
    if n >= 1 and script[0] == OP_RETURN:
        return NULLDATA, b""
    return UNKNOWN, b""


def remove_codeseparators(script: bytes) -> bytes:
    """scriptCode without its OP_CODESEPARATOR operations, as the legacy signature hash wants it.

    FindAndDelete(scriptCode, CScript(OP_CODESEPARATOR)) of old Bitcoin Core: walk the script
    operation by operation (so a 0xab *inside* pushed data stays) and drop each OP_CODESEPARATOR.
    A push that runs past the end stops the walk and the rest is kept as it is; such a script
    fails when executed, so no valid transaction depends on that case."""
    out = bytearray()
    pos = 0
    while pos < len(script):
        try:
            opcode, _, end = get_op(script, pos)
        except ValueError:
            out += script[pos:]
            break
        if opcode != OP_CODESEPARATOR:
            out += script[pos:end]
        pos = end
    return bytes(out)
