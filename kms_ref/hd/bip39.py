"""BIP39 mnemonic code for generating deterministic keys (English word list).

A mnemonic is entropy (128–256 bits) plus a checksum (the first ENT/32 bits of SHA-256 of the
entropy), cut into 11-bit groups, each an index into a 2,048-word list. The seed is
PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" + passphrase, 2048 iterations), with both strings in
Unicode NFKD. kms_ref generates 24 words (256 bits), as tatum-kms does, and accepts any valid
12–24 word English mnemonic.

The word list ships beside this file (`bip39_english.txt`, the file of the BIP itself). It is read
once, on first use, as package data (`pkgutil.get_data`), so it is found in a directory, a wheel
or the one-file `kms-ref.pyz` alike. Error messages name the position of a bad word, never the
word itself: the words are the secret.
"""

from __future__ import annotations

import hashlib
import pkgutil
import secrets
import unicodedata

PBKDF2_ROUNDS = 2048  # BIP39 §From mnemonic to seed
ENTROPY_BITS = (128, 160, 192, 224, 256)  # BIP39 §Generating the mnemonic: ENT

_WORDLIST: list[str] | None = None
_WORD_INDEX: dict[str, int] | None = None


def wordlist() -> list[str]:
    """The 2,048 English words, in order (index = the 11-bit value)."""
    global _WORDLIST, _WORD_INDEX
    if _WORDLIST is None:
        data = pkgutil.get_data(__package__, "bip39_english.txt")
        words = (data or b"").decode("utf-8").split()
        if len(words) != 2048:
            raise RuntimeError("bip39_english.txt is damaged: expected 2048 words")
        _WORD_INDEX = {w: i for i, w in enumerate(words)}
        _WORDLIST = words
    return _WORDLIST


def _word_index() -> dict[str, int]:
    wordlist()
    assert _WORD_INDEX is not None
    return _WORD_INDEX


def normalize(mnemonic: str) -> str:
    """NFKD, then single spaces between words (BIP39 §Wordlists: words are separated by spaces)."""
    return " ".join(unicodedata.normalize("NFKD", mnemonic).split())


def entropy_to_mnemonic(entropy: bytes) -> str:
    """BIP39 §Generating the mnemonic: ENT bits + CS = ENT/32 bits of SHA-256, 11 bits per word."""
    ent = len(entropy) * 8
    if ent not in ENTROPY_BITS:
        raise ValueError("entropy must be 16, 20, 24, 28 or 32 bytes")
    cs = ent // 32
    checksum = hashlib.sha256(entropy).digest()[0] >> (8 - cs)
    bits = (int.from_bytes(entropy, "big") << cs) | checksum
    words = wordlist()
    n_words = (ent + cs) // 11
    return " ".join(words[(bits >> (11 * (n_words - 1 - i))) & 0x7FF] for i in range(n_words))


def mnemonic_to_entropy(mnemonic: str) -> bytes:
    """The inverse of `entropy_to_mnemonic`; raises ValueError on a word outside the list, a word
    count other than 12/15/18/21/24, or a checksum mismatch."""
    words = normalize(mnemonic).split(" ") if mnemonic.strip() else []
    if len(words) not in (12, 15, 18, 21, 24):
        raise ValueError("mnemonic must have 12, 15, 18, 21 or 24 words, not %d" % len(words))
    index = _word_index()
    bits = 0
    for position, word in enumerate(words, 1):
        value = index.get(word)
        if value is None:
            raise ValueError("mnemonic word #%d is not in the BIP39 English word list" % position)
        bits = (bits << 11) | value
    total = len(words) * 11
    cs = total // 33  # ENT + CS = 33 * CS
    ent = total - cs
    entropy = (bits >> cs).to_bytes(ent // 8, "big")
    if hashlib.sha256(entropy).digest()[0] >> (8 - cs) != bits & ((1 << cs) - 1):
        raise ValueError("mnemonic checksum is wrong (a word is mistyped or missing)")
    return entropy


def validate_mnemonic(mnemonic: str) -> str:
    """Check a mnemonic (list membership and checksum) and return it normalized."""
    mnemonic_to_entropy(mnemonic)
    return normalize(mnemonic)


def mnemonic_to_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """BIP39 §From mnemonic to seed. Like the reference (and bip39 3.x that Tatum uses), this does
    not check the mnemonic: any string gives a seed. Callers validate first."""
    password = unicodedata.normalize("NFKD", mnemonic).encode("utf-8")
    salt = ("mnemonic" + unicodedata.normalize("NFKD", passphrase)).encode("utf-8")
    return hashlib.pbkdf2_hmac("sha512", password, salt, PBKDF2_ROUNDS)


def generate_mnemonic(strength: int = 256) -> str:
    """A fresh mnemonic from `secrets` (the OS CSPRNG); 256 bits gives 24 words."""
    if strength not in ENTROPY_BITS:
        raise ValueError("strength must be one of 128, 160, 192, 224, 256")
    return entropy_to_mnemonic(secrets.token_bytes(strength // 8))
