"""AES block cipher: FIPS 197's own examples, and the T-table path against the plain one."""

import json
import random
from pathlib import Path

import pytest

from kms_ref.crypto.aes import (
    AES, INV_SBOX, SBOX, add_round_key, bytes_to_state, cipher, gf_mul, inv_cipher,
    inv_mix_columns, key_expansion, mix_columns, shift_rows, state_to_bytes, sub_bytes, xtime)
from kms_ref.crypto.aes_sliced import SlicedAES

FIPS197 = json.loads((Path(__file__).parent.parent / "vectors" / "aes_fips197.json").read_text())


@pytest.mark.parametrize("case", FIPS197["gf_multiplication"], ids=lambda c: c["name"])
def test_gf_multiplication_examples(case):
    a, b = int(case["a"], 16), int(case["b"], 16)
    assert gf_mul(a, b) == int(case["product"], 16)
    if b == 2:
        assert xtime(a) == int(case["product"], 16)


def test_sbox_is_figure_7():
    assert bytes(SBOX) == bytes.fromhex(FIPS197["sbox"]["hex"])
    assert all(INV_SBOX[SBOX[x]] == x for x in range(256))


@pytest.mark.parametrize("case", FIPS197["key_expansion"], ids=lambda c: c["name"])
def test_key_expansion_appendix_a(case):
    w = key_expansion(bytes.fromhex(case["key"]))
    assert ["%08x" % word for word in w] == case["w"]


def test_cipher_example_appendix_b_round_1():
    case = FIPS197["cipher_example"]
    w = key_expansion(bytes.fromhex(case["key"]))
    r1 = case["round1"]
    state = add_round_key(bytes_to_state(bytes.fromhex(case["input"])), w[0:4])
    assert state_to_bytes(state).hex() == r1["start"]
    state = sub_bytes(state)
    assert state_to_bytes(state).hex() == r1["after_sub_bytes"]
    state = shift_rows(state)
    assert state_to_bytes(state).hex() == r1["after_shift_rows"]
    state = mix_columns(state)
    assert state_to_bytes(state).hex() == r1["after_mix_columns"]
    assert "".join("%08x" % word for word in w[4:8]) == r1["round_key"]
    assert cipher(bytes.fromhex(case["input"]), w).hex() == case["output"]
    fast = AES(bytes.fromhex(case["key"])).encrypt_block(bytes.fromhex(case["input"]))
    assert fast.hex() == case["output"]


@pytest.mark.parametrize("path", ["plain", "t-tables", "sliced"])
@pytest.mark.parametrize("case", FIPS197["example_vectors"], ids=lambda c: c["name"])
def test_example_vectors_appendix_c(case, path):
    key, pt, ct = (bytes.fromhex(case[k]) for k in ("key", "plaintext", "ciphertext"))
    if path == "plain":
        w = key_expansion(key)
        assert cipher(pt, w) == ct
        assert inv_cipher(ct, w) == pt
    elif path == "sliced":
        sliced = SlicedAES(AES(key))
        assert sliced.encrypt_blocks(pt) == ct
        assert sliced.decrypt_blocks(ct) == pt
    else:
        aes = AES(key)
        assert aes.encrypt_block(pt) == ct
        assert aes.decrypt_block(ct) == pt


@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_t_tables_match_plain(key_size):
    seed = 197 + key_size
    rng = random.Random(seed)
    for _ in range(60):
        key, block = rng.randbytes(key_size), rng.randbytes(16)
        aes, w = AES(key), key_expansion(key)
        assert aes.encrypt_block(block) == cipher(block, w), f"seed={seed} key_size={key_size}"
        assert aes.decrypt_block(block) == inv_cipher(block, w), f"seed={seed} key_size={key_size}"


@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_inverse_round_keys_are_inv_mix_columns(key_size):
    """dw of §5.3.5, read from the Td tables, against InvMixColumns written out."""
    seed = 535 + key_size
    rng = random.Random(seed)
    for _ in range(10):
        key = rng.randbytes(key_size)
        aes = AES(key)
        ek = aes.round_keys
        assert [w for words in ek for w in words] == key_expansion(key), f"seed={seed}"
        expected = [ek[-1]]
        for words in ek[-2:0:-1]:
            state = inv_mix_columns([[w >> (24 - 8 * r) & 0xFF for w in words] for r in range(4)])
            block = state_to_bytes(state)
            expected.append(tuple(int.from_bytes(block[4 * c:4 * c + 4], "big") for c in range(4)))
        expected.append(ek[0])
        assert aes.inverse_round_keys() == expected, f"seed={seed}"


def test_one_key_many_blocks_round_trip():
    seed = 1970
    rng = random.Random(seed)
    aes = AES(rng.randbytes(32))
    for _ in range(300):
        block = rng.randbytes(16)
        assert aes.decrypt_block(aes.encrypt_block(block)) == block, f"seed={seed}"


@pytest.mark.parametrize("length", [0, 1, 15, 17, 20, 31, 33, 64])
def test_bad_key_length(length):
    with pytest.raises(ValueError, match="16, 24 or 32"):
        AES(bytes(length))
    with pytest.raises(ValueError):
        key_expansion(bytes(length))


@pytest.mark.parametrize("length", [0, 15, 17, 32])
def test_bad_block_length(length):
    aes = AES(bytes(16))
    with pytest.raises(ValueError, match="16 bytes"):
        aes.encrypt_block(bytes(length))
    with pytest.raises(ValueError, match="16 bytes"):
        aes.decrypt_block(bytes(length))
    with pytest.raises(ValueError, match="16 bytes"):
        cipher(bytes(length), key_expansion(bytes(16)))


def test_repr_hides_the_key():
    key = bytes(range(32))
    text = repr(AES(key))
    assert "redacted" in text and key.hex() not in text and "AES-256" in text
