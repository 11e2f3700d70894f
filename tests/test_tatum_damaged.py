"""A damaged wallet file in Tatum's format (no integrity check) against a wrong password.

Bad PKCS#7 padding stays "Wrong password", tatum-kms's wording; good padding over plaintext that
is not a UTF-8 JSON object says the password is wrong *or* the file damaged. Both are
WrongPassword (so callers treat them alike), neither repeats a decrypted byte, and the file is
left as it was — in the library and through the command line.
"""

import base64
import json
from pathlib import Path

import pytest

from kms_ref.crypto import cbc
from kms_ref.crypto.openssl_salted import openssl_encrypt
from kms_ref.store.errors import StoreError, WrongPassword
from kms_ref.store.tatum_file import WRONG_PASSWORD_OR_DAMAGED, WrongPasswordOrDamaged
from kms_ref.store.wallet_store import WalletStore
from tests.cli_helpers import kms
from tests.vectors import load

CASE = load("tatum_walletdat.json")["vectors"][0]
PASSWORD = CASE["password"]


def _damaged(flip_at) -> str:
    """CASE's file with one ciphertext byte flipped; `flip_at(n)` picks the byte of n."""
    raw = bytearray(base64.b64decode(CASE["walletDat"]))
    body = len(raw) - 16  # "Salted__" + salt
    assert body % 16 == 0 and body >= 48
    raw[16 + flip_at(body)] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


# Byte 0 of C_1 garbles P_1 (the opening `{"<id>":{...`) and leaves the padding intact.
IN_THE_MIDDLE = _damaged(lambda n: 0)
# The last byte of C_(n-1) flips only the last plaintext byte: the padding length itself.
IN_THE_PADDING = _damaged(lambda n: n - 17)


def _write(tmp_path, text) -> Path:
    path = tmp_path / "wallet.dat"
    path.write_text(text)
    return path


@pytest.mark.parametrize("sliced", [False, True], ids=["t-tables", "sliced"])
def test_damage_in_the_middle_is_wrong_password_or_damaged(tmp_path, monkeypatch, sliced):
    monkeypatch.setattr(cbc, "MIN_BLOCKS", 1 if sliced else 10 ** 9)
    path = _write(tmp_path, IN_THE_MIDDLE)
    with pytest.raises(WrongPasswordOrDamaged) as failure:
        WalletStore(str(path)).open(PASSWORD)
    assert str(failure.value) == WRONG_PASSWORD_OR_DAMAGED == "Wrong password, or the wallet file is damaged"
    assert isinstance(failure.value, WrongPassword) and isinstance(failure.value, StoreError)
    assert path.read_text() == IN_THE_MIDDLE


def test_damaged_padding_is_wrong_password(tmp_path):
    path = _write(tmp_path, IN_THE_PADDING)
    with pytest.raises(WrongPassword) as failure:
        WalletStore(str(path)).open(PASSWORD)
    assert str(failure.value) == "Wrong password" and type(failure.value) is WrongPassword
    assert path.read_text() == IN_THE_PADDING


def test_wrong_password_with_valid_padding(tmp_path):
    """About one wrong password in 256 decrypts to valid padding; the first such one of a fixed
    list gets the longer message, the others "Wrong password"."""
    path = _write(tmp_path, CASE["walletDat"])
    store = WalletStore(str(path))
    seen = set()
    for i in range(3000):
        try:
            store.open("wrong password %d" % i)
        except WrongPasswordOrDamaged as e:
            seen.add(str(e))
            break
        except WrongPassword as e:
            assert str(e) == "Wrong password"
            seen.add(str(e))
    assert seen == {"Wrong password", WRONG_PASSWORD_OR_DAMAGED}
    assert path.read_text() == CASE["walletDat"]


@pytest.mark.parametrize("plaintext", [b"\xff\xfe not UTF-8", b"[1, 2]", b'"a string"', b"{not json",
                                       b"[" * 100_000], ids=["not-utf8", "list", "string", "not-json", "deep"])
def test_plaintext_that_is_no_json_object(tmp_path, plaintext):
    path = _write(tmp_path, openssl_encrypt(plaintext, PASSWORD.encode()))
    with pytest.raises(WrongPasswordOrDamaged, match="^Wrong password, or the wallet file is damaged$"):
        WalletStore(str(path)).open(PASSWORD)


# -- through the command line: one line on stderr, exit 1, the file unchanged ---------------------

@pytest.mark.parametrize("text,message", [
    (IN_THE_MIDDLE, WRONG_PASSWORD_OR_DAMAGED),
    (IN_THE_PADDING, "Wrong password"),
], ids=["middle", "padding"])
def test_cli(tmp_path, text, message):
    path = _write(tmp_path, text)
    sig_id = next(iter(json.loads(CASE["plaintext"])))
    for args in (["export"], ["getaddress", sig_id, "0"], ["generatemanagedwallet", "BTC"],
                 ["removewallet", sig_id], ["convert", "--to", "native"]):
        r = kms(tmp_path, "--path", str(path), *args, password=PASSWORD)
        assert r.error() == message, args
        assert r.out == "" and r.err.count("\n") == 1, args
        assert path.read_text() == text, args


@pytest.mark.parametrize("data", [b"U2FsdGVkX1\xff\xfe", "U2FsdGVkX1Ü".encode(), b"U2FsdGVkX1AAAA\n\nAAAA",
                                  b"U2FsdGVkX1AAAA", CASE["walletDat"][:-4].encode()],
                         ids=["not-ascii", "not-ascii-utf8", "inner-newlines", "truncated", "ragged"])
def test_no_container_at_all_is_damaged(tmp_path, data):
    """Text that is not base64 of "Salted__" ‖ salt ‖ whole blocks: damaged, not a password."""
    path = tmp_path / "wallet.dat"
    path.write_bytes(data)
    with pytest.raises(StoreError, match="^wallet file is damaged or was modified outside kms_ref") as failure:
        WalletStore(str(path)).open(PASSWORD)
    assert not isinstance(failure.value, WrongPassword)
    assert path.read_bytes() == data


def test_an_entry_that_is_no_object_is_named_only_by_a_signature_id(tmp_path):
    secret = "abandon " * 11 + "about"
    for store, shown in (({"8c813069-fc40-422d-aead-b6aaa68ee2e3": "x"}, "8c813069-fc40-422d-aead-b6aaa68ee2e3"),
                         ({secret: "x"}, "<not shown")):
        path = _write(tmp_path, openssl_encrypt(json.dumps(store).encode(), PASSWORD.encode()))
        with pytest.raises(StoreError) as failure:
            WalletStore(str(path)).open(PASSWORD)
        assert "is not a JSON object" in str(failure.value) and shown in str(failure.value)
        assert secret not in str(failure.value)
