"""Byte-sliced AES (FIPS 197) for many independent blocks at once: CBC decryption and CTR.

CBC decryption (SP 800-38A §6.2) and the counter mode inside GCM (SP 800-38D §6.5) apply the
block cipher to blocks that do not depend on each other. `AES` (aes.py) pays Python's
interpreter for every block: ~11 µs for AES-256, whatever the trick. Here the interpreter works
once per *round*, on all blocks together, and every byte of every block goes through C loops:

- Byte slicing. Byte j of the state (row r = j mod 4, column c = j div 4, §3.4) of all n blocks
  is kept as one `bytes` object of length n: `data[j::16]`, a "slice".
- SubBytes and AddRoundKey are one `bytes.translate` per slice. The key byte is a constant for a
  whole slice, so x -> S(x xor k) is just another 256-byte table: one per round and byte
  position, built per key (`_round_tables`), and the key addition costs nothing at all.
- ShiftRows only renames slices: it is the order in which they are joined.
- MixColumns (§5.1.3) is linear over GF(2^8), so it acts on whole rows: the four slices of row
  r, joined, are read as one integer A_r of 4n bytes, and XOR of integers xors 4n bytes at a
  time. With Y_r = A_r xor A_(r+1) and T = A_0 xor A_1 xor A_2 xor A_3,

      A'_r = {02}·A_r + {03}·A_(r+1) + A_(r+2) + A_(r+3) = xtime(Y_r) xor A_r xor T

  and xtime, {02}· on every byte at once, is shifts and masks on the integer (`_xtime`). It is
  linear too, and Y_3 = Y_0 xor Y_1 xor Y_2: three xtimes a round, not four.
- InvMixColumns is MixColumns after multiplying each column by {04}x^2 + {05}, because
  a^-1(x) = a(x)·({04}x^2 + {05}) mod x^4 + 1 (§5.3.3's {0b}x^3 + {0d}x^2 + {09}x + {0e}, when
  multiplied out; tests/test_aes_sliced.py checks it): A_r xor= {04}·(A_r xor A_(r+2)), then
  the MixColumns above. Decryption runs the equivalent inverse cipher (§5.3.5), so its rounds
  have the encryption's shape: translate, rename, mix.

A round is then ~80 C-level operations (~110 decrypting) whatever n is, each a pass over n or
4n bytes. `translate` and the conversions `int.from_bytes`/`int.to_bytes` cost ~1.2 ns a byte
each, more than all the XORs, shifts and multiplications by 0x1b together (~0.1-0.4 ns a byte
each). Work goes in chunks of `CHUNK_BLOCKS` blocks, so memory stays a few times the chunk and
the integers stay in the CPU cache.

A call costs ~1,100-1,500 operations before the first byte, ~0.1 ms: for a few blocks the
T-tables are faster, so the modes use this path from `MIN_BLOCKS` blocks on (cbc.py, gcm.py;
the crossover measured at 10-16 blocks). Figures: `SlicedAES`.

`AES` stays the yardstick: tests compare the two on random keys of all three sizes and every
length from 0 to 69 blocks, then up to several chunks, and every published vector goes through
both.
"""

from __future__ import annotations

import functools
import struct
from typing import Optional

from kms_ref.crypto.aes import AES, INV_SBOX, SBOX

_FOUR_WORDS = struct.Struct(">4I")
CHUNK_BLOCKS = 4096  # 64 KiB: as fast as any larger chunk measured (to 1 MiB), 20% faster than 16 KiB
MIN_BLOCKS = 16  # from here on this path beats the T-tables (see SlicedAES)

# ShiftRows (§5.1.2): s'[r][c] = s[r][(c + r) mod 4]. Output column c of row r comes from input
# position r + 4·((c + r) mod 4); InvShiftRows (§5.3.1) from r + 4·((c - r) mod 4).
SHIFT_SOURCE = tuple(tuple(r + 4 * ((c + r) % 4) for c in range(4)) for r in range(4))
INV_SHIFT_SOURCE = tuple(tuple(r + 4 * ((c - r) % 4) for c in range(4)) for r in range(4))


@functools.lru_cache(maxsize=None)
def _keyed_boxes(box: bytes) -> tuple:
    """The 256 tables x -> box[x xor k], k = 0 .. 255: AddRoundKey with a key byte k followed
    by the S-box, as one translate table. Made once per process in one pass over 64 KiB:
    the xor of (0, 1, …, 255) repeated with each k repeated 256 times, translated by the box."""
    xs = int.from_bytes(bytes(range(256)) * 256, "big")
    ks = int.from_bytes(b"".join([bytes((k,)) * 256 for k in range(256)]), "big")
    tables = (xs ^ ks).to_bytes(65536, "big").translate(box)
    return tuple(tables[256 * k:256 * k + 256] for k in range(256))


def _key_bytes(words) -> bytes:
    """The 16 bytes of one round key by state position j = r + 4c (word c, byte r): the four
    words big-endian, one after the other (§3.4's in[r + 4c])."""
    return _FOUR_WORDS.pack(*words)


def _round_tables(box: bytes, round_keys: list, shift_source: tuple) -> tuple:
    """Per round, the 16 translate tables by input position: box(x xor the key byte of the
    round before). The last round's tables also add the final round key, at the position
    ShiftRows moves the byte to: box(x xor k) xor k' is box(x xor k) translated by x -> x xor k'."""
    keyed = _keyed_boxes(box)
    identity = _keyed_boxes(bytes(range(256)))  # the identity box: identity[k'] is x -> x xor k'
    keys = [_key_bytes(words) for words in round_keys]
    Nr = len(round_keys) - 1
    rounds = tuple(tuple(keyed[k] for k in keys[i]) for i in range(Nr - 1))
    last = [b""] * 16
    for r in range(4):
        for c in range(4):
            j = shift_source[r][c]
            last[j] = keyed[keys[Nr - 1][j]].translate(identity[keys[Nr][r + 4 * c]])
    return rounds, tuple(last)


@functools.lru_cache(maxsize=8)
def _lane_masks(size: int) -> tuple:
    """Integers of `size` bytes 0x80, 0xc0, 0x01 and 0x02 each: bits of every byte lane at once,
    for `_xtime` and `_times4`."""
    return tuple(int.from_bytes(bytes((b,)) * size, "big") for b in (0x80, 0xC0, 0x01, 0x02))


def _xtime(Y: int, m80: int) -> int:
    """xtime (§4.2.1) on every byte of the integer Y at once: each byte shifted left by one,
    and {1b} added where its top bit fell out. The top bits, moved down by 7 to the bottom of
    their own byte and multiplied by 0x1b, stay inside that byte (0x1b < 0x100): no carry
    crosses from one block's byte into the next."""
    high = Y & m80
    return (Y ^ high) << 1 ^ (high >> 7) * 0x1B


def _times4(Z: int, mc0: int, m01: int, m02: int) -> int:
    """{04}· on every byte of Z at once (xtime twice, in ten operations instead of twelve: 27%
    faster measured). Each byte shifts left by two; its bit b6 falls out as x^8 = {1b} and its
    bit b7 as x^9 = {36} = 2·{1b}. Moved down by 6, b7b6 sit at the bottom of the byte, and
    b6·{1b} xor (2·b7)·{1b} stays inside it."""
    top = Z & mc0
    t = top >> 6
    return (Z ^ top) << 2 ^ (t & m01) * 0x1B ^ (t & m02) * 0x1B


def _rounds(pieces: list, n: int, tables: tuple, last: tuple, source: tuple, inverse: bool) -> list:
    """Every round of the cipher over the 16 slices `pieces` (by state position j = r + 4c,
    n bytes each); returns the 16 output slices by position. `tables`/`last` come from
    `_round_tables`, `source` is SHIFT_SOURCE or INV_SHIFT_SOURCE, `inverse` adds the
    {04}x^2 + {05} step that turns MixColumns into InvMixColumns."""
    from_bytes = int.from_bytes
    m80, mc0, m01, m02 = _lane_masks(4 * n)
    size = 4 * n
    columns = [slice(c * n, c * n + n) for c in range(4)]
    for keyed in tables:
        # AddRoundKey + (Inv)SubBytes by translate, (Inv)ShiftRows by the order of the join.
        A0, A1, A2, A3 = [from_bytes(b"".join([pieces[j].translate(keyed[j]) for j in row]), "big")
                          for row in source]
        if inverse:  # multiply by {04}x^2 + {05}: then MixColumns is InvMixColumns
            Z = _times4(A0 ^ A2, mc0, m01, m02)
            A0 ^= Z
            A2 ^= Z
            Z = _times4(A1 ^ A3, mc0, m01, m02)
            A1 ^= Z
            A3 ^= Z
        T = A0 ^ A1 ^ A2 ^ A3
        X0, X1, X2 = _xtime(A0 ^ A1, m80), _xtime(A1 ^ A2, m80), _xtime(A2 ^ A3, m80)
        X3 = X0 ^ X1 ^ X2  # xtime(Y3): xtime is linear and Y3 = Y0 ^ Y1 ^ Y2
        rows = [(X0 ^ A0 ^ T).to_bytes(size, "big"), (X1 ^ A1 ^ T).to_bytes(size, "big"),
                (X2 ^ A2 ^ T).to_bytes(size, "big"), (X3 ^ A3 ^ T).to_bytes(size, "big")]
        pieces = [row[column] for column in columns for row in rows]  # j = r + 4c
    out = [b""] * 16
    for r in range(4):  # the last round: no MixColumns; both round keys are in `last`
        for c in range(4):
            j = source[r][c]
            out[r + 4 * c] = pieces[j].translate(last[j])
    return out


class SlicedAES:
    """An AES key (`AES`, already expanded) applied to many blocks at once; the results equal
    `AES.encrypt_block`/`decrypt_block` block by block.

    Measured on 3.45 MB (the ciphertext of a 25,000-key Tatum wallet), CPU time, CPython 3.11
    on the project's shared 2-core box, T-tables in the same run at ~900 ns a byte (14 µs a
    block): AES-256 decryption 60-105 ns a byte (9-16 MiB/s), encryption 55-70 ns; AES-128
    60-70 ns both ways. That is 9-15× the T-tables; pyaes, in `python -m kms_ref.bench`, is
    45-120× slower than the byte-sliced CBC decryption (its ratio moves with the machine's load).

    Per key only the 16 tables of the last round are made (~0.05 ms); the rounds before share
    `_keyed_boxes`, made once per process and direction (~0.3 ms).
    """

    __slots__ = ("_aes", "_enc", "_dec")

    def __init__(self, aes: AES):
        self._aes = aes
        self._enc = self._dec = None

    def __repr__(self) -> str:
        return "<SlicedAES-%d key=<redacted>>" % (8 * self._aes.key_size)

    def encrypt_slices(self, pieces: list) -> list:
        """Cipher (§5.1) of n blocks given as 16 slices (byte j of every block, n bytes each)."""
        if self._enc is None:
            self._enc = _round_tables(bytes(SBOX), self._aes.round_keys, SHIFT_SOURCE)
        tables, last = self._enc
        return _rounds(list(pieces), len(pieces[0]), tables, last, SHIFT_SOURCE, False)

    def decrypt_slices(self, pieces: list) -> list:
        """InvCipher of n blocks given as 16 slices, as the equivalent inverse cipher (§5.3.5):
        its round keys dw come from `AES.inverse_round_keys`."""
        if self._dec is None:
            self._dec = _round_tables(bytes(INV_SBOX), self._aes.inverse_round_keys(),
                                      INV_SHIFT_SOURCE)
        tables, last = self._dec
        return _rounds(list(pieces), len(pieces[0]), tables, last, INV_SHIFT_SOURCE, True)

    def encrypt_blocks(self, data: bytes) -> bytes:
        """Cipher applied to each 16-byte block of `data` (ECB: the counter mode's core)."""
        return _by_chunks(data, self.encrypt_slices)

    def decrypt_blocks(self, data: bytes) -> bytes:
        """InvCipher applied to each 16-byte block of `data` (the core of CBC decryption)."""
        return _by_chunks(data, self.decrypt_slices)


def to_slices(data: bytes, start: int = 0, stop: Optional[int] = None) -> list:
    """The blocks of data[start:stop] as 16 slices: slice j is byte j of every block."""
    stop = len(data) if stop is None else stop
    return [data[start + j:stop:16] for j in range(16)]


def _by_chunks(data: bytes, run) -> bytes:
    """`run` on the blocks of `data`, CHUNK_BLOCKS at a time, the slices woven back in place."""
    if len(data) % 16:
        raise ValueError("AES input must be a whole number of 16-byte blocks")
    data = bytes(data)
    out = bytearray(len(data))
    step = 16 * CHUNK_BLOCKS
    for start in range(0, len(data), step):
        stop = min(start + step, len(data))
        for j, piece in enumerate(run(to_slices(data, start, stop))):
            out[start + j:stop:16] = piece
    return bytes(out)
