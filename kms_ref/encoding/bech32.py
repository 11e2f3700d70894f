"""Bech32 (BIP173) and Bech32m (BIP350), and segwit addresses built on them.

A bech32 string is a human-readable part (HRP), the separator '1', and a data part of 5-bit
values in the charset below ending in a 6-character BCH checksum. BIP350 keeps everything and
changes only the constant the checksum is XORed with: witness version 0 addresses use Bech32,
versions 1 to 16 (Taproot is 1) use Bech32m. kms_ref's BTC addresses are P2WPKH, version 0,
with HRP "bc" (mainnet) or "tb" (testnet).

One function per step of the BIPs, named as they name them (the shape of sipa's reference
segwit_addr.py); every invalid input raises ValueError.
"""

from __future__ import annotations

# BIP173 §Bech32: the 32 data characters, value = index.
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {char: value for value, char in enumerate(CHARSET)}

# The constant the polymod must equal for a valid checksum (BIP350 §Specification).
BECH32 = "bech32"
BECH32M = "bech32m"
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3
_CONST = {BECH32: BECH32_CONST, BECH32M: BECH32M_CONST}

MAX_LENGTH = 90  # BIP173 §Bech32: "A Bech32 string is at most 90 characters long"
CHECKSUM_LENGTH = 6

# BIP173 §Checksum: generator coefficients of the BCH code.
GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def bech32_polymod(values) -> int:
    """The BCH checksum: the remainder of the values, as a polynomial over GF(32), modulo the
    code's generator (BIP173 §Checksum)."""
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            if (top >> i) & 1:
                chk ^= GEN[i]
    return chk


def bech32_hrp_expand(hrp: str) -> list:
    """The HRP as checksum input: high 3 bits of each character, a 0, then the low 5 bits."""
    return [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]


def bech32_verify_checksum(hrp: str, data) -> str | None:
    """BECH32 or BECH32M if data (checksum included) carries that variant's checksum, else None."""
    polymod = bech32_polymod(bech32_hrp_expand(hrp) + list(data))
    for spec, const in _CONST.items():
        if polymod == const:
            return spec
    return None


def bech32_create_checksum(hrp: str, data, spec: str) -> list:
    """The six checksum values for hrp and data under spec (BECH32 or BECH32M)."""
    polymod = bech32_polymod(bech32_hrp_expand(hrp) + list(data) + [0] * 6) ^ _CONST[spec]
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]


def _check_hrp(hrp: str) -> None:
    if not 1 <= len(hrp) <= 83:
        raise ValueError("bech32 human-readable part must be 1 to 83 characters")
    if any(not 33 <= ord(char) <= 126 for char in hrp):
        raise ValueError("bech32 human-readable part has a character out of range 33..126")


def bech32_encode(hrp: str, data, spec: str) -> str:
    """hrp + '1' + data and checksum in the charset. Encoders output lowercase only."""
    _check_hrp(hrp)
    if hrp != hrp.lower():
        raise ValueError("bech32 human-readable part must be lowercase")
    if any(not 0 <= value < 32 for value in data):
        raise ValueError("bech32 data values must be 5-bit")
    combined = list(data) + bech32_create_checksum(hrp, data, spec)
    return hrp + "1" + "".join(CHARSET[value] for value in combined)


def bech32_decode(bech: str) -> tuple:
    """(hrp, data without checksum, BECH32 or BECH32M) of a bech32/bech32m string.

    ValueError on: a character outside 33..126, mixed case, length over 90, no separator, an
    empty HRP, a data part shorter than the 6-character checksum, a character not in the
    charset, or a checksum valid under neither constant."""
    if any(not 33 <= ord(char) <= 126 for char in bech):
        raise ValueError("bech32 string has a character out of range 33..126")
    if bech.lower() != bech and bech.upper() != bech:
        raise ValueError("bech32 string mixes upper and lower case")
    if len(bech) > MAX_LENGTH:
        raise ValueError(f"bech32 string longer than {MAX_LENGTH} characters")
    bech = bech.lower()
    separator = bech.rfind("1")  # the last '1': the HRP may contain '1' itself
    if separator == -1:
        raise ValueError("bech32 string has no separator '1'")
    if separator == 0:
        raise ValueError("bech32 human-readable part is empty")
    if len(bech) - separator - 1 < CHECKSUM_LENGTH:
        raise ValueError("bech32 data part shorter than the 6-character checksum")
    hrp, data_part = bech[:separator], bech[separator + 1:]
    data = []
    for char in data_part:
        if char not in _CHARSET_INDEX:
            raise ValueError("bech32 data part has a character outside the charset")
        data.append(_CHARSET_INDEX[char])
    spec = bech32_verify_checksum(hrp, data)
    if spec is None:
        raise ValueError("bech32 checksum is invalid")
    return hrp, data[:-CHECKSUM_LENGTH], spec


def convertbits(data, frombits: int, tobits: int, pad: bool) -> list:
    """Regroup a sequence of frombits-bit values into tobits-bit values, most significant first.

    With pad, a final partial group is padded with zero bits. Without it (decoding), the left-
    over bits must be fewer than frombits and all zero (BIP173 §Segwit address format: "Any
    incomplete group at the end MUST be 4 bits or less, MUST be all zeroes")."""
    acc = 0  # the bits not yet emitted, in its low `bits` bits
    bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            raise ValueError(f"value does not fit in {frombits} bits")
        acc = ((acc << frombits) | value) & ((1 << (bits + frombits)) - 1)
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits:
        raise ValueError(f"more than {frombits - 1} padding bits")
    elif acc & ((1 << bits) - 1):
        raise ValueError("non-zero padding bits")
    return out


def decode_segwit_address(hrp: str, address: str) -> tuple:
    """(witness version, witness program) of a segwit address with the given (lowercase) HRP.

    ValueError on any invalid address: bad bech32 (see `bech32_decode`), another HRP, an empty
    data part, a version above 16, a program not 2..40 bytes (20 or 32 for version 0), bad
    padding, or the wrong checksum variant (Bech32 for version 0, Bech32m above)."""
    hrp_got, data, spec = bech32_decode(address)
    if hrp_got != hrp:
        raise ValueError(f"segwit address is not for this network (expected prefix {hrp!r})")
    if not data:
        raise ValueError("segwit address has an empty data part")
    witver = data[0]
    if witver > 16:
        raise ValueError("segwit address has a witness version above 16")
    program = bytes(convertbits(data[1:], 5, 8, False))
    if not 2 <= len(program) <= 40:
        raise ValueError("segwit witness program must be 2 to 40 bytes")
    if witver == 0 and len(program) not in (20, 32):
        raise ValueError("version 0 witness program must be 20 or 32 bytes (BIP141)")
    if (witver == 0) != (spec == BECH32):
        raise ValueError("segwit address uses the wrong checksum: Bech32 for version 0, "
                         "Bech32m for versions 1 to 16 (BIP350)")
    return witver, program


def encode_segwit_address(hrp: str, witver: int, program: bytes) -> str:
    """The segwit address of (witver, program): Bech32 for version 0, Bech32m for 1..16.

    The result is decoded again before it is returned, so every rule of
    `decode_segwit_address` also holds for what this produces (ValueError otherwise)."""
    if not 0 <= witver <= 16:
        raise ValueError("witness version must be 0 to 16")
    spec = BECH32 if witver == 0 else BECH32M
    address = bech32_encode(hrp, [witver] + convertbits(bytes(program), 8, 5, True), spec)
    decode_segwit_address(hrp, address)
    return address

