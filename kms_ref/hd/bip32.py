"""BIP32 hierarchical deterministic keys: master key, child derivation, serialization.

Names follow the BIP: `point(p)` is p·G, `ser_32`/`ser_256` big-endian encodings, `ser_p` the
compressed SEC1 point, `parse_256` a big-endian integer, `ckd_priv`/`ckd_pub` the child key
derivation functions. Tatum derives every key through this module: the wallet xpub at
`m/44'/coin'/0'/0` and key *i* as its non-hardened child *i* (SPEC §1).

`ExtendedKey.parse` is strict, as BIP32 test vector 5 requires: wrong length or checksum, a
version not in the table, a private version with public key data (or the reverse), a private
key that is 0 or ≥ n, a public key not on the curve, depth 0 with a parent fingerprint or
child number — each raises ValueError.
"""

from __future__ import annotations

import re

from kms_ref.crypto.ecmult import point_mul_g, point_mul_g_add
from kms_ref.crypto.hashes import hash160, hmac_sha512
from kms_ref.crypto.secp256k1 import N, parse_pubkey, ser_p
from kms_ref.encoding.base58 import b58check_decode, b58check_encode
from kms_ref.hd.masking import shown

HARDENED = 0x80000000  # BIP32 §Key derivation: indices >= 2^31 are hardened
MASTER_HMAC_KEY = b"Bitcoin seed"  # BIP32 §Master key generation
XPRV_MAINNET, XPUB_MAINNET = 0x0488ADE4, 0x0488B21E  # BIP32 §Serialization format
XPRV_TESTNET, XPUB_TESTNET = 0x04358394, 0x043587CF
# SLIP-0132: the versions other wallets write BIP49/BIP84 (and multisig) keys with —
# yprv/ypub, Yprv/Ypub, zprv/zpub, Zprv/Zpub and the testnet u/U/v/V. `parse` reads them too.
SLIP132_PRIVATE = {0x049D7878, 0x0295B005, 0x04B2430C, 0x02AA7A99,
                   0x044A4E28, 0x024285B5, 0x045F18BC, 0x02575048}
SLIP132_PUBLIC = {0x049D7CB2, 0x0295B43F, 0x04B24746, 0x02AA7ED3,
                  0x044A5262, 0x024289EF, 0x045F1CF6, 0x02575483}


def ser_32(i: int) -> bytes:
    return i.to_bytes(4, "big")


def ser_256(p: int) -> bytes:
    return p.to_bytes(32, "big")


def parse_256(p: bytes) -> int:
    return int.from_bytes(p, "big")


def parse_path(path: str) -> list:
    """'m/44'/0'/0'/0' (also 44h, 44H) → [44 + 2^31, 2^31, 2^31, 0]."""
    parts = path.strip().split("/")
    if not parts or parts[0] != "m":
        raise ValueError("derivation path must start with 'm'")
    indexes = []
    for part in parts[1:]:
        hardened = part[-1:] in ("'", "h", "H")
        digits = part[:-1] if hardened else part
        if not re.fullmatch(r"[0-9]{1,10}", digits) or int(digits) >= HARDENED:   # ASCII digits only
            raise ValueError("bad derivation path component %s" % shown(part))
        indexes.append(int(digits) + (HARDENED if hardened else 0))
    return indexes


class ExtendedKey:
    """A BIP32 node: a private key k (or a public point K), its chain code c, and where it sits
    (depth, parent fingerprint, child number). `repr` never shows the private key."""

    __slots__ = ("depth", "parent_fingerprint", "child_number", "chain_code", "k", "_point", "_pubkey",
                 "_fingerprint")

    def __init__(self, chain_code: bytes, k: int | None = None, point=None,
                 depth: int = 0, parent_fingerprint: bytes = b"\0\0\0\0", child_number: int = 0):
        self.chain_code = chain_code
        self.k = k
        self._point = point
        self._pubkey = None
        self._fingerprint = None
        self.depth = depth
        self.parent_fingerprint = parent_fingerprint
        self.child_number = child_number

    @property
    def is_private(self) -> bool:
        return self.k is not None

    @property
    def point(self):
        """K = point(k) for a private node, computed once, by the secret-safe `point_mul_g`
        (fixed schedule, randomized: SECURITY.md, "Timing side channels")."""
        if self._point is None:
            self._point = point_mul_g(self.k)
        return self._point

    @property
    def pubkey(self) -> bytes:
        """ser_P(K), the 33-byte compressed public key."""
        if self._pubkey is None:
            self._pubkey = ser_p(self.point)
        return self._pubkey

    @property
    def seckey(self) -> bytes:
        if self.k is None:
            raise ValueError("a public extended key has no private key")
        return ser_256(self.k)

    def fingerprint(self) -> bytes:
        """The first 32 bits of the key identifier HASH160(ser_P(K)) (BIP32 §Key identifiers),
        computed once: every child's serialization needs its parent's."""
        if self._fingerprint is None:
            self._fingerprint = hash160(self.pubkey)[:4]
        return self._fingerprint

    def __repr__(self) -> str:
        kind = "private <redacted>" if self.is_private else "public " + self.pubkey.hex()
        return "ExtendedKey(depth=%d, child=%d, %s)" % (self.depth, self.child_number, kind)

    # -- BIP32 §Master key generation ----------------------------------------------------------
    @classmethod
    def from_seed(cls, seed: bytes) -> "ExtendedKey":
        """I = HMAC-SHA512(Key = "Bitcoin seed", Data = S); master key IL, chain code IR."""
        if not 16 <= len(seed) <= 64:
            raise ValueError("BIP32 seed must be 16 to 64 bytes")
        i = hmac_sha512(MASTER_HMAC_KEY, seed)
        k = parse_256(i[:32])
        if not 0 < k < N:
            raise ValueError("invalid master key for this seed (probability below 2^-127)")
        return cls(i[32:], k=k)

    # -- BIP32 §Child key derivation (CKD) functions -------------------------------------------
    def ckd_priv(self, i: int) -> "ExtendedKey":
        """Private parent → private child: I = HMAC-SHA512(c_par, 0x00‖ser_256(k_par)‖ser_32(i))
        if hardened, else HMAC-SHA512(c_par, ser_P(point(k_par))‖ser_32(i)); k_i = IL + k_par.
        point(k_par), for the data and for the fingerprint, is `self.point`: a secret
        multiplication on the fixed schedule."""
        if self.k is None:
            raise ValueError("cannot derive a private child from a public key")
        if i >= HARDENED:
            data = b"\0" + ser_256(self.k) + ser_32(i)
        else:
            data = self.pubkey + ser_32(i)
        I = hmac_sha512(self.chain_code, data)
        il = parse_256(I[:32])
        k_i = (il + self.k) % N
        if il >= N or k_i == 0:
            raise ValueError("invalid child key at index %d; use the next index (BIP32)" % i)
        return ExtendedKey(I[32:], k=k_i, depth=self.depth + 1,
                           parent_fingerprint=self.fingerprint(), child_number=i)

    def ckd_pub(self, i: int) -> "ExtendedKey":
        """Public parent → public child (non-hardened only):
        I = HMAC-SHA512(c_par, ser_P(K_par)‖ser_32(i)); K_i = point(IL) + K_par."""
        if i >= HARDENED:
            raise ValueError("cannot derive a hardened child from a public key")
        I = hmac_sha512(self.chain_code, self.pubkey + ser_32(i))
        il = parse_256(I[:32])
        if il >= N:
            raise ValueError("invalid child key at index %d; use the next index (BIP32)" % i)
        K_i = point_mul_g_add(il, self.point)  # point(IL) + K_par, one inversion (IL is public here)
        if K_i is None:
            raise ValueError("invalid child key at index %d; use the next index (BIP32)" % i)
        return ExtendedKey(I[32:], point=K_i, depth=self.depth + 1,
                           parent_fingerprint=self.fingerprint(), child_number=i)

    def child(self, i: int) -> "ExtendedKey":
        if not 0 <= i < 2 ** 32:
            raise ValueError("child index must be between 0 and 2^32 - 1")
        return self.ckd_priv(i) if self.is_private else self.ckd_pub(i)

    def derive(self, path) -> "ExtendedKey":
        """Follow a path ('m/44'/0'/0'/0' from this node, or a list of indexes)."""
        node = self
        for i in parse_path(path) if isinstance(path, str) else path:
            node = node.child(i)
        return node

    def public(self) -> "ExtendedKey":
        """N(k, c) → (K, c): the neutered node (BIP32 §Private parent key → public child key)."""
        return ExtendedKey(self.chain_code, point=self.point, depth=self.depth,
                           parent_fingerprint=self.parent_fingerprint, child_number=self.child_number)

    neuter = public

    # -- BIP32 §Serialization format ------------------------------------------------------------
    def serialize(self, version: int) -> str:
        """version(4) ‖ depth(1) ‖ parent fingerprint(4) ‖ child number(4) ‖ chain code(32) ‖
        key data(33: 0x00‖k or ser_P(K)), in Base58Check."""
        if not 0 <= self.depth <= 255:
            raise ValueError("depth above 255 cannot be serialized")
        key_data = b"\0" + ser_256(self.k) if self.is_private else self.pubkey
        return b58check_encode(ser_32(version) + bytes([self.depth]) + self.parent_fingerprint
                               + ser_32(self.child_number) + self.chain_code + key_data)

    @classmethod
    def parse(cls, text: str, private_versions=None, public_versions=None) -> "ExtendedKey":
        """Strict parse of an xprv/xpub-style string. By default every version of the chain
        table (`kms_ref.hd.chains`) and of SLIP-0132 is accepted; pass sets to narrow it."""
        if private_versions is None or public_versions is None:
            from kms_ref.hd.chains import xprv_versions, xpub_versions

            if private_versions is None:
                private_versions = xprv_versions() | SLIP132_PRIVATE
            if public_versions is None:
                public_versions = xpub_versions() | SLIP132_PUBLIC
        data = b58check_decode(text)
        if len(data) != 78:
            raise ValueError("extended key must be 78 bytes, not %d" % len(data))
        version = parse_256(data[0:4])
        depth = data[4]
        parent_fingerprint = data[5:9]
        child_number = parse_256(data[9:13])
        chain_code = data[13:45]
        key_data = data[45:78]
        if depth == 0 and parent_fingerprint != b"\0\0\0\0":
            raise ValueError("zero depth with a non-zero parent fingerprint")
        if depth == 0 and child_number != 0:
            raise ValueError("zero depth with a non-zero child number")
        if version in private_versions:
            if key_data[0] != 0:
                raise ValueError("private key data must start with 0x00")
            k = parse_256(key_data[1:])
            if not 0 < k < N:
                raise ValueError("private key is not in 1..n-1")
            return cls(chain_code, k=k, depth=depth,
                       parent_fingerprint=parent_fingerprint, child_number=child_number)
        if version in public_versions:
            if key_data[0] not in (2, 3):
                raise ValueError("public key data must be a compressed point (02/03)")
            node = cls(chain_code, point=parse_pubkey(key_data), depth=depth,
                       parent_fingerprint=parent_fingerprint, child_number=child_number)
            node._pubkey = key_data
            return node
        raise ValueError("unknown extended key version 0x%08x" % version)


def from_seed(seed: bytes) -> ExtendedKey:
    return ExtendedKey.from_seed(seed)


def parse(text: str, private_versions=None, public_versions=None) -> ExtendedKey:
    return ExtendedKey.parse(text, private_versions, public_versions)
