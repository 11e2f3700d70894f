"""AES-GCM: the GCM spec's test cases, every Wycheproof vector, and the fast path vs the plain."""

import importlib
import json
import random
from pathlib import Path

import pytest

from kms_ref.crypto import gcm as gcm_module
from kms_ref.crypto.aes import AES, cipher, key_expansion
from kms_ref.crypto.aes_sliced import CHUNK_BLOCKS
from kms_ref.crypto.gcm import (
    GCM, TAG_SIZE, gcm_ad, gcm_ae, gcm_decrypt, gcm_encrypt, gctr, gf_mult, ghash, ghash_tables, inc32)

VECTORS = Path(__file__).parent.parent / "vectors"
MCGREW_VIEGA = json.loads((VECTORS / "gcm_mcgrew_viega.json").read_text())
WYCHEPROOF = json.loads((VECTORS / "wycheproof_aes_gcm.json").read_text())
WYCHEPROOF_CASES = [(group, test) for group in WYCHEPROOF["testGroups"] for test in group["tests"]]


def _hex(case, *names):
    return [bytes.fromhex(case[name]) for name in names]


def _encrypt_plain(key, nonce, plaintext, aad):
    C, T = gcm_ae(key, nonce, plaintext, aad)
    return C + T


def _decrypt_plain(key, nonce, data, aad):
    return gcm_ad(key, nonce, data[:-16], aad, data[-16:])


PATHS = {
    "module": (gcm_encrypt, gcm_decrypt),
    "object": (lambda k, n, p, a: GCM(k).encrypt(n, p, a),
               lambda k, n, c, a: GCM(k).decrypt(n, c, a)),
    "plain": (_encrypt_plain, _decrypt_plain),
}
# GCM makes its key stream block by block on the T-tables below gcm.MIN_BLOCKS blocks and
# byte-sliced from there on; these paths force one or the other for every message.
FORCED = {"t-tables": 10 ** 9, "sliced": 1}


def _paths(path, monkeypatch):
    if path in FORCED:
        monkeypatch.setattr(gcm_module, "MIN_BLOCKS", FORCED[path])
        return PATHS["object"]
    return PATHS[path]


@pytest.mark.parametrize("path", sorted(PATHS) + sorted(FORCED))
@pytest.mark.parametrize("case", MCGREW_VIEGA["vectors"], ids=lambda c: c["name"])
def test_mcgrew_viega(case, path, monkeypatch):
    encrypt, decrypt = _paths(path, monkeypatch)
    key, iv, pt, aad, ct, tag = _hex(case, "key", "iv", "plaintext", "aad", "ciphertext", "tag")
    assert encrypt(key, iv, pt, aad) == ct + tag
    assert decrypt(key, iv, ct + tag, aad) == pt
    forged = ct + bytes([tag[0] ^ 1]) + tag[1:]
    with pytest.raises(ValueError, match="authentication failed"):
        decrypt(key, iv, forged, aad)


@pytest.mark.parametrize("path", ["plain", "sliced", "t-tables"])
@pytest.mark.parametrize(
    "group,test", WYCHEPROOF_CASES,
    ids=["tc%d-%s" % (t["tcId"], "-".join(t["flags"]) or "none") for _, t in WYCHEPROOF_CASES])
def test_wycheproof(group, test, path, monkeypatch):
    encrypt, decrypt = _paths(path, monkeypatch)
    # Our tags are 16 bytes, the only size this file has; a vector with another size must
    # fail here, loudly, rather than be skipped.
    assert group["tagSize"] == 128 and len(test["tag"]) == 32
    key, iv, msg, aad, ct, tag = _hex(test, "key", "iv", "msg", "aad", "ct", "tag")
    assert (8 * len(key), 8 * len(iv)) == (group["keySize"], group["ivSize"])
    if test["result"] == "valid":
        assert encrypt(key, iv, msg, aad) == ct + tag
        assert decrypt(key, iv, ct + tag, aad) == msg
    else:
        assert test["result"] == "invalid"
        with pytest.raises(ValueError):
            decrypt(key, iv, ct + tag, aad)
        if not iv:  # an invalid parameter: encryption refuses too
            with pytest.raises(ValueError, match="nonce"):
                encrypt(key, iv, msg, aad)


def test_wycheproof_is_read_whole():
    assert len(WYCHEPROOF_CASES) == WYCHEPROOF["numberOfTests"]


def test_inc32_wraps_the_low_word_only():
    assert inc32(bytes.fromhex("00112233445566778899aabbffffffff")).hex() == (
        "00112233445566778899aabb00000000")
    assert inc32(bytes(16)).hex() == "00000000000000000000000000000001"


def test_gf_mult_identity_and_commutativity():
    one = 1 << 127  # the block 10000…0 is the polynomial 1
    seed = 38
    rng = random.Random(seed)
    for _ in range(20):
        x, y = rng.getrandbits(128), rng.getrandbits(128)
        assert gf_mult(x, one) == x and gf_mult(one, y) == y, f"seed={seed}"
        assert gf_mult(x, y) == gf_mult(y, x), f"seed={seed}"


def test_ghash_tables_match_algorithm_1():
    seed = 800
    rng = random.Random(seed)
    for _ in range(10):
        H = rng.getrandbits(128)
        m = ghash_tables(H)
        for _ in range(20):
            X = rng.getrandbits(128)
            fast = 0
            for k, byte in enumerate(X.to_bytes(16, "big")):
                fast ^= m[k][byte]
            assert fast == gf_mult(X, H), f"seed={seed}"


def test_fast_ghash_matches_algorithm_2():
    seed = 642
    rng = random.Random(seed)
    for blocks in range(0, 12):
        key = rng.randbytes(16)
        gcm = GCM(key)
        H = int.from_bytes(AES(key).encrypt_block(bytes(16)), "big")
        X = rng.randbytes(16 * blocks)
        assert gcm._ghash(0, X) == ghash(H, X), f"seed={seed} blocks={blocks}"


def test_fast_matches_plain_random():
    seed = 38_0001
    rng = random.Random(seed)
    for _ in range(40):
        key = rng.randbytes(rng.choice([16, 24, 32]))
        nonce = rng.randbytes(rng.choice([1, 8, 12, 12, 12, 13, 16, 31, 64]))
        plaintext = rng.randbytes(rng.randrange(0, 90))
        aad = rng.randbytes(rng.randrange(0, 40))
        gcm = GCM(key)
        sealed = gcm.encrypt(nonce, plaintext, aad)
        assert sealed == _encrypt_plain(key, nonce, plaintext, aad), f"seed={seed}"
        assert gcm.decrypt(nonce, sealed, aad) == plaintext, f"seed={seed}"


@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_sliced_matches_t_tables_on_every_length(key_size, monkeypatch):
    """Every message length from 0 to 300 bytes, block counts up to several hundred, and a few
    of several chunks: the same sealed bytes with the key stream sliced and block by block."""
    seed = 38_0002 + key_size
    rng = random.Random(seed)
    lengths = list(range(0, 301)) + [16 * b + rng.randrange(16) for b in (99, 256, 511, 700)] \
        + [16 * (CHUNK_BLOCKS - 1), 16 * CHUNK_BLOCKS + 5, 16 * (2 * CHUNK_BLOCKS + 9) + 15]
    for length in lengths:
        key, plaintext, aad = rng.randbytes(key_size), rng.randbytes(length), rng.randbytes(rng.randrange(40))
        nonce = rng.randbytes(rng.choice([12, 12, 12, 8, 16, 60]))
        monkeypatch.setattr(gcm_module, "MIN_BLOCKS", 10 ** 9)
        sealed = GCM(key).encrypt(nonce, plaintext, aad)
        monkeypatch.setattr(gcm_module, "MIN_BLOCKS", 1)
        sliced = GCM(key)
        assert sliced.encrypt(nonce, plaintext, aad) == sealed, f"seed={seed} length={length}"
        assert sliced.decrypt(nonce, sealed, aad) == plaintext, f"seed={seed} length={length}"


def test_counter_wraps_at_2_to_the_32(monkeypatch):
    """inc_32 wraps the low 32 bits only (§6.2), also when the wrap falls inside a chunk."""
    key = bytes(range(16))
    w = key_expansion(key)
    X = bytes(range(256)) * 3  # 48 blocks
    for low in (0xFFFFFFF0, 0xFFFFFFFF, 0):
        ICB = bytes(range(100, 112)) + low.to_bytes(4, "big")
        expected = gctr(lambda block: cipher(block, w), ICB, X)
        for forced in FORCED.values():
            monkeypatch.setattr(gcm_module, "MIN_BLOCKS", forced)
            assert GCM(key)._gctr(ICB, X) == expected, hex(low)
            assert GCM(key)._gctr(ICB, X[:-5]) == expected[:-5], hex(low)


def test_independent_aes_gcm_when_present():
    """Against pycryptodome's GCM (C) when it is importable; against the plain algorithms on a
    short prefix always, so the test never passes vacuously."""
    try:
        crypto_aes = importlib.import_module("Crypto.Cipher.AES")
    except ImportError:
        crypto_aes = None
    seed = 38_0003
    rng = random.Random(seed)
    for _ in range(10):
        key, nonce = rng.randbytes(rng.choice([16, 24, 32])), rng.randbytes(12)
        plaintext, aad = rng.randbytes(rng.randrange(0, 30_000)), rng.randbytes(rng.randrange(30))
        sealed = gcm_encrypt(key, nonce, plaintext, aad)
        assert gcm_decrypt(key, nonce, sealed, aad) == plaintext, f"seed={seed}"
        C, _ = gcm_ae(key, nonce, plaintext[:40], aad)
        assert sealed[:len(C)] == C, f"seed={seed}"
        if crypto_aes is not None:
            expected = crypto_aes.new(key, crypto_aes.MODE_GCM, nonce=nonce)
            expected.update(aad)
            assert sealed == b"".join(expected.encrypt_and_digest(plaintext)), f"seed={seed}"


def test_one_object_many_small_messages():
    """The store's pattern: one key, many ~200-byte entries, each with its own nonce."""
    seed = 200
    rng = random.Random(seed)
    gcm = GCM(rng.randbytes(32))
    for _ in range(50):
        nonce, entry = rng.randbytes(12), rng.randbytes(rng.randrange(150, 260))
        assert gcm.decrypt(nonce, gcm.encrypt(nonce, entry)) == entry, f"seed={seed}"


@pytest.mark.parametrize("count", [0, 1, 3, 40, 400])
def test_decrypt_many_is_decrypt_of_each(count):
    """One batch of `count` messages (lengths 0 to 300 bytes, nonces of 12 and other lengths,
    one in seven tampered, a few too short for a tag): the key streams come from one pass,
    sliced or not by the batch's size, and each answer is what `decrypt` gives — None where it
    raises."""
    seed = 38_0101 + count
    rng = random.Random(seed)
    gcm = GCM(rng.randbytes(32))
    messages, expected = [], []
    for i in range(count):
        nonce, plaintext = rng.randbytes(rng.choice([12, 12, 8, 16])), rng.randbytes(rng.randrange(301))
        aad = rng.randbytes(rng.randrange(30))
        sealed = gcm.encrypt(nonce, plaintext, aad)
        if i % 7 == 3:
            tampered = bytearray(sealed)
            tampered[rng.randrange(len(sealed))] ^= 1 << rng.randrange(8)
            sealed, plaintext = bytes(tampered), None
        elif i % 29 == 5:
            sealed, plaintext = sealed[:TAG_SIZE - 1], None
        messages.append((nonce, sealed, aad))
        expected.append(plaintext)
    answers = gcm.decrypt_many(messages)
    assert answers == expected, f"seed={seed}"
    for (nonce, sealed, aad), answer in zip(messages, answers):
        if answer is None:
            with pytest.raises(ValueError):
                gcm.decrypt(nonce, sealed, aad)
        else:
            assert gcm.decrypt(nonce, sealed, aad) == answer, f"seed={seed}"


def test_every_bit_of_the_message_is_authenticated():
    key, nonce, aad = bytes(range(32)), bytes(range(12)), b"header"
    gcm = GCM(key)
    sealed = gcm.encrypt(nonce, b"a wallet entry of some length", aad)
    for i in range(8 * len(sealed)):
        tampered = bytearray(sealed)
        tampered[i // 8] ^= 0x80 >> (i % 8)
        with pytest.raises(ValueError, match="authentication failed"):
            gcm.decrypt(nonce, bytes(tampered), aad)
    with pytest.raises(ValueError, match="authentication failed"):
        gcm.decrypt(nonce, sealed, b"Header")
    with pytest.raises(ValueError, match="authentication failed"):
        gcm.decrypt(bytes(12), sealed, aad)
    with pytest.raises(ValueError, match="authentication failed"):
        gcm.decrypt(nonce, sealed[:-1], aad)


def test_bad_parameters():
    with pytest.raises(ValueError, match="nonce"):
        gcm_encrypt(bytes(16), b"", b"x")
    with pytest.raises(ValueError, match="nonce"):
        gcm_decrypt(bytes(16), b"", bytes(32))
    with pytest.raises(ValueError, match="16, 24 or 32"):
        gcm_encrypt(bytes(15), bytes(12), b"x")
    with pytest.raises(ValueError, match="shorter than"):
        gcm_decrypt(bytes(16), bytes(12), bytes(15))


def test_accepts_bytes_like():
    key, nonce = bytearray(16), memoryview(bytes(12))
    sealed = gcm_encrypt(key, nonce, bytearray(b"abc"), memoryview(b"aad"))
    assert gcm_decrypt(key, nonce, bytearray(sealed), b"aad") == b"abc"


def test_repr_hides_the_key():
    key = bytes(range(16))
    text = repr(GCM(key))
    assert "redacted" in text and key.hex() not in text
