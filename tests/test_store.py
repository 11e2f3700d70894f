"""The wallet store: both formats, wrong passwords, tampering, locking, atomicity, permissions.

Real files in pytest's tmp_path; the concurrency and crash tests start real processes.
kms_ref-format files made here use small scrypt parameters (FAST) to keep the tests quick; the
parameters are stored in the file, so every later open uses them too.
"""

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from kms_ref.store import native_file
from kms_ref.crypto.openssl_salted import openssl_decrypt
from kms_ref.store.filelock import locked
from kms_ref.store import StoreError, WalletStore, convert, new_signature_id
from kms_ref.store.errors import DamagedFile, NoSuchWallet, UnsupportedFormat, WrongPassword
from kms_ref.store.tatum_file import stringify

ROOT = Path(__file__).parent.parent
TATUM = json.loads((ROOT / "vectors" / "tatum_walletdat.json").read_text())
FAST = (2**10, 8, 1)
PASSWORD = "correct horse Ünïcødé"
MNEMONIC = ("calm castle fantasy almost warm danger various client decorate burden sad language "
            "sudden turn melody brush chuckle trim sketch region strong world lady cereal")
WALLET = {"mnemonic": MNEMONIC, "xpub": "tpubDFSo1yEmwopqe2aejY8P7zKk7yaboJzEDER8DeHMTLuVfwPsDay"
          "mzCP3ujERuyY6Ec9RpZTQPTCSJubi2nxRAWn9wy2kbQynXpyrzXRBkRj", "chain": "BTC",
          "testnet": True}
KEY = {"privateKey": "cNGKL7WAMoN7WDVEgWe2WeQgyzkSfsThoSY4UDJTUwGLhS7Ew5AU", "chain": "BTC",
       "testnet": True}
LTC_KEY = {"privateKey": "T3ZEfNZ1qnPwBtrxyuZw5hvYgrDGaSvEmk6HwQqArFHMBJjwmUa5", "chain": "LTC",
           "testnet": False}


def native_store(tmp_path, entries=(WALLET, KEY, LTC_KEY), name="wallet.dat"):
    """A kms_ref-format store holding `entries`; returns (store, ids in stored order)."""
    store = WalletStore(str(tmp_path / name))
    with store.transaction(PASSWORD, scrypt_params=FAST) as wallet:
        ids = [wallet.add(entry) for entry in entries]
    return store, ids[::-1]


def tatum_store(tmp_path, case=0):
    path = tmp_path / "tatum.dat"
    path.write_text(TATUM["vectors"][case]["walletDat"])
    return WalletStore(str(path)), TATUM["vectors"][case]


# -- Tatum's format ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", TATUM["vectors"], ids=lambda c: "password-" + c["password"][:6])
def test_tatum_fixture_opens(tmp_path, case):
    path = tmp_path / "wallet.dat"
    path.write_text(case["walletDat"])
    store = WalletStore(str(path))
    assert store.format() == "tatum"
    expected = json.loads(case["plaintext"])
    with store.open(case["password"]) as wallet:
        assert list(wallet.to_dict().items()) == list(expected.items())
        assert wallet.ids() == list(expected)
        for sig_id, entry in expected.items():
            assert wallet.get(sig_id) == entry
            assert wallet.meta(sig_id) == (entry["chain"], entry["testnet"])
    assert path.read_text() == case["walletDat"]


def test_tatum_file_stays_tatum_and_decrypts_with_openssl(tmp_path):
    store, case = tatum_store(tmp_path)
    with store.transaction(case["password"]) as wallet:
        sig_id = wallet.add(KEY)
    text = Path(store.path).read_text()
    assert store.format() == "tatum" and text[:10] == "U2FsdGVkX1"
    assert text[10:30] != case["walletDat"][10:30], "every write draws a new salt"
    expected = {sig_id: KEY, **json.loads(case["plaintext"])}  # tatum-kms puts new entries first
    assert openssl_decrypt(text, case["password"].encode()) == stringify(expected)


def test_new_tatum_store_is_json_stringify(tmp_path):
    store = WalletStore(str(tmp_path / "w.dat"))
    with store.transaction(PASSWORD, create_format="tatum") as wallet:
        first, second = wallet.add(WALLET), wallet.add({**KEY, "privateKey": "Ü"})
    plaintext = openssl_decrypt(Path(store.path).read_text(), PASSWORD.encode())
    assert plaintext == json.dumps({second: {**KEY, "privateKey": "Ü"}, first: WALLET},
                                   separators=(",", ":"), ensure_ascii=False).encode()


def test_tatum_damaged(tmp_path):
    path = tmp_path / "w.dat"
    path.write_text("U2FsdGVkX1!!!")
    with pytest.raises(DamagedFile, match="damaged or was modified outside kms_ref"):
        WalletStore(str(path)).open(PASSWORD)


# -- kms_ref's format ----------------------------------------------------------------------------

def test_native_round_trip(tmp_path):
    store, ids = native_store(tmp_path)
    assert store.format() == "native"
    with store.open(PASSWORD) as wallet:
        assert wallet.format == "native"
        assert wallet.ids() == ids
        assert wallet.to_dict() == {ids[0]: LTC_KEY, ids[1]: KEY, ids[2]: WALLET}
        assert list(wallet.to_dict()) == ids
        assert wallet.ids_for("BTC", True) == ids[1:]
        assert wallet.ids_for("LTC", False) == ids[:1] and wallet.ids_for("LTC", True) == []
        assert wallet.meta(ids[0]) == ("LTC", False)
        entry = wallet.get(ids[2])
        assert list(entry) == ["mnemonic", "xpub", "chain", "testnet"]
        entry["mnemonic"] = "changed"
        assert wallet.get(ids[2]) == WALLET, "get() returns a copy"
        assert ids[0] in wallet and "nope" not in wallet


def test_secrets_only_inside_ciphertexts(tmp_path):
    store, ids = native_store(tmp_path)
    text = Path(store.path).read_text()
    assert MNEMONIC.split()[0] not in text and KEY["privateKey"] not in text
    records = [json.loads(line) for line in text.splitlines()[1:-1]]
    assert [r["id"] for r in records] == ids
    assert [(r["chain"], r["testnet"]) for r in records] == [("LTC", False), ("BTC", True),
                                                             ("BTC", True)]


def test_remove_and_add_in_one_transaction(tmp_path):
    store, ids = native_store(tmp_path)
    with store.transaction(PASSWORD) as wallet:
        wallet.remove(ids[1])
        new = wallet.add(KEY)
        dropped = wallet.add(KEY)
        wallet.remove(dropped)
        assert wallet.ids() == [new, ids[0], ids[2]]
        with pytest.raises(NoSuchWallet, match=f"no wallet with signature ID {ids[1]}"):
            wallet.get(ids[1])
    with store.open(PASSWORD) as wallet:
        assert wallet.to_dict() == {new: KEY, ids[0]: LTC_KEY, ids[2]: WALLET}


def test_unknown_id(tmp_path):
    store, _ = native_store(tmp_path)
    unknown = str(uuid.uuid4())
    with store.open(PASSWORD) as wallet:
        for call in (wallet.get, wallet.meta, wallet.remove):
            with pytest.raises(StoreError, match=f"^no wallet with signature ID {unknown}$"):
                call(unknown)


def test_many_lookups_use_the_index_and_agree_with_the_scan(tmp_path):
    """The first INDEX_AFTER lookups scan, later ones use the index: both find every entry, in
    any order, and neither finds an unknown ID."""
    entries = [dict(KEY, privateKey=KEY["privateKey"]) for _ in range(12)] + [WALLET, LTC_KEY]
    store, ids = native_store(tmp_path, entries)
    with store.open(PASSWORD) as wallet:
        order = ids[::-1] + ids
        for sig_id in order:
            assert sig_id in wallet and wallet.meta(sig_id)[0] in ("BTC", "LTC")
            assert wallet.get(sig_id) in entries
        assert wallet._backend._index is not None and len(wallet._backend._index) == len(ids)
        assert str(uuid.uuid4()) not in wallet


def test_listing_the_ids_leaves_find_its_index(tmp_path):
    # The daemon lists a chain's IDs, then looks up the few with pending transactions: the
    # listing's walk over the records leaves the index behind, so no line is parsed twice.
    store, ids = native_store(tmp_path)
    with store.open(PASSWORD) as wallet:
        assert wallet._backend._index is None
        assert wallet.ids() == ids
        assert wallet._backend._index is not None and sorted(wallet._backend._index) == sorted(ids)
        assert [wallet.get(i) for i in ids] == [LTC_KEY, KEY, WALLET]


@pytest.mark.parametrize("fmt", ["native", "tatum"])
def test_prefetch_decrypts_together_what_get_would_one_by_one(tmp_path, fmt):
    if fmt == "native":
        store, ids = native_store(tmp_path, [dict(KEY) for _ in range(20)] + [WALLET, LTC_KEY])
        password = PASSWORD
    else:
        store, case = tatum_store(tmp_path)
        password = case["password"]
        with store.open(password) as wallet:
            ids = wallet.ids()
    with store.open(password) as one_by_one:
        expected = {i: one_by_one.get(i) for i in ids}
    with store.open(password) as wallet:
        unknown = str(uuid.uuid4())
        wallet.prefetch(ids[::2] + [unknown] + ids[::2])
        assert sorted(wallet._plain) == sorted(ids[::2])
        assert {i: wallet.get(i) for i in ids} == expected
        with pytest.raises(NoSuchWallet):
            wallet.get(unknown)


def test_a_record_that_does_not_decrypt_is_none_in_a_batch(tmp_path):
    store, ids = native_store(tmp_path)
    with store.open(PASSWORD) as wallet:
        backend = wallet._backend
        good = [backend.find(i) for i in ids]
        flipped = bytearray(good[1].ciphertext)
        flipped[3] ^= 0x10
        bad_text = good[1]._replace(ciphertext=bytes(flipped))
        bad_chain = good[0]._replace(chain="BTC")      # the AAD no longer matches the entry
        assert backend.decrypt_many(good) == [LTC_KEY, KEY, WALLET]
        assert backend.decrypt_many([bad_text, good[2], bad_chain]) == [None, WALLET, None]
        for record in (bad_text, bad_chain):
            with pytest.raises(DamagedFile):
                backend.decrypt(record)


@pytest.mark.parametrize("entry", [["x"], {"chain": "BTC"}, {"chain": "BTC", "testnet": "yes"},
                                   {"chain": "BTC", "testnet": True, "index": 3}],
                         ids=["not-object", "no-testnet", "testnet-not-bool", "number-value"])
def test_add_refuses_bad_entries(tmp_path, entry):
    store = WalletStore(str(tmp_path / "w.dat"))
    with pytest.raises(ValueError):
        with store.transaction(PASSWORD, scrypt_params=FAST) as wallet:
            wallet.add(entry)
    assert not store.exists()


def test_signature_ids_are_uuid4():
    for _ in range(200):
        sig_id = new_signature_id()
        assert str(uuid.UUID(sig_id)) == sig_id and uuid.UUID(sig_id).version == 4


def test_open_wallet_keeps_reading_the_version_it_opened(tmp_path):
    store, ids = native_store(tmp_path)
    with store.open(PASSWORD) as wallet:
        with store.transaction(PASSWORD) as writer:
            writer.remove(ids[0])
        assert wallet.get(ids[0]) == LTC_KEY
    with store.open(PASSWORD) as wallet:
        assert ids[0] not in wallet


def test_stamp_changes_with_every_rewrite_and_open_stamped_takes_it_first(tmp_path):
    store, ids = native_store(tmp_path)
    before = store.stamp()
    stamp, wallet = store.open_stamped(PASSWORD)
    with wallet:
        assert stamp == before == store.stamp() and wallet.get(ids[0]) == LTC_KEY
    with store.transaction(PASSWORD) as writer:
        writer.remove(ids[0])
    assert store.stamp() not in (None, before)
    assert WalletStore(str(tmp_path / "missing.dat")).stamp() is None


# -- errors leave the file as it was -------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["native", "tatum"])
def test_wrong_password(tmp_path, fmt):
    store = native_store(tmp_path)[0] if fmt == "native" else tatum_store(tmp_path)[0]
    before = Path(store.path).read_bytes()
    for attempt in (lambda: store.open("wrong"), lambda: store.convert("wrong", "native"),
                    lambda: store.convert("wrong", "tatum")):
        with pytest.raises(WrongPassword, match="^Wrong password$"):
            attempt()
    with pytest.raises(WrongPassword):
        with store.transaction("wrong") as wallet:
            wallet.add(KEY)
    assert Path(store.path).read_bytes() == before


def test_exception_in_transaction_writes_nothing(tmp_path):
    store, _ = native_store(tmp_path)
    before = Path(store.path).read_bytes()
    with pytest.raises(RuntimeError):
        with store.transaction(PASSWORD) as wallet:
            wallet.add(KEY)
            raise RuntimeError("stop")
    with store.transaction(PASSWORD):
        pass  # no change, no write
    assert Path(store.path).read_bytes() == before
    empty = WalletStore(str(tmp_path / "never.dat"))
    with empty.transaction(PASSWORD):
        pass
    assert not empty.exists()


def _swap_lines(lines):
    lines[1], lines[2] = lines[2], lines[1]


def _set_record(lines, i, **fields):
    record = json.loads(lines[i])
    record.update(fields)
    lines[i] = json.dumps(record, separators=(",", ":"))


TAMPERING = {
    "flip-ciphertext": lambda lines: _set_record(
        lines, 1, ciphertext=("A" if json.loads(lines[1])["ciphertext"][0] != "A" else "B")
        + json.loads(lines[1])["ciphertext"][1:]),
    "relabel-chain": lambda lines: _set_record(lines, 1, chain="DOGE"),
    "relabel-network": lambda lines: _set_record(lines, 2, testnet=False),
    "reorder": _swap_lines,
    "remove-record": lambda lines: lines.pop(2),
    "duplicate-record": lambda lines: lines.insert(2, lines[1]),
    "remove-mac": lambda lines: lines.pop(),
    "bad-mac": lambda lines: lines.__setitem__(-1, '{"mac":"' + "0" * 64 + '"}'),
    "extra-line": lambda lines: lines.append(lines[1]),
    "scrypt-n": lambda lines: lines.__setitem__(0, lines[0].replace('"n":1024', '"n":1023')),
}


@pytest.mark.parametrize("name", TAMPERING)
def test_tampered_native_file_is_damaged(tmp_path, name):
    store, _ = native_store(tmp_path)
    lines = Path(store.path).read_text().splitlines()
    TAMPERING[name](lines)
    Path(store.path).write_text("\n".join(lines) + "\n")
    with pytest.raises(DamagedFile, match="^wallet file is damaged or was modified outside"):
        store.open(PASSWORD)


def test_tampered_header(tmp_path):
    store, _ = native_store(tmp_path)
    path = Path(store.path)
    text = path.read_text()
    salt = json.loads(text.splitlines()[0])["kdf"]["salt"]
    path.write_text(text.replace(salt, "00" * 16))
    with pytest.raises(WrongPassword):  # a changed salt cannot be told from a wrong password
        store.open(PASSWORD)
    path.write_text(text.replace('"version":1', '"version":2'))
    with pytest.raises(UnsupportedFormat, match="version 2 is not supported"):
        store.open(PASSWORD)


def test_ciphertext_is_bound_to_its_id(tmp_path):
    """Swap two ciphertexts and re-MAC the file with the right key: the per-entry GCM additional
    data still refuses them."""
    store, ids = native_store(tmp_path, entries=(KEY, {**KEY, "privateKey": "other"}))
    path = Path(store.path)
    lines = path.read_text().splitlines()
    a, b = json.loads(lines[1]), json.loads(lines[2])
    _set_record(lines, 1, ciphertext=b["ciphertext"], nonce=b["nonce"])
    _set_record(lines, 2, ciphertext=a["ciphertext"], nonce=a["nonce"])
    kdf = json.loads(lines[0])["kdf"]
    _, mac_key = native_file.derive_keys(PASSWORD.encode(), bytes.fromhex(kdf["salt"]),
                                          kdf["n"], kdf["r"], kdf["p"])
    body = "".join(line + "\n" for line in lines[:-1]).encode()
    mac = native_file.hmac.new(mac_key, body, "sha256").hexdigest()
    path.write_bytes(body + b'{"mac":"' + mac.encode() + b'"}\n')
    with store.open(PASSWORD) as wallet:
        assert wallet.ids() == ids
        with pytest.raises(DamagedFile, match=f"entry {ids[0]} does not authenticate"):
            wallet.get(ids[0])


def test_files_that_are_no_wallet(tmp_path):
    path = tmp_path / "w.dat"
    store = WalletStore(str(path))
    assert store.format() is None and not store.exists()
    with pytest.raises(StoreError, match=f"^wallet file {path} does not exist$"):
        store.open(PASSWORD)
    path.write_text("")
    with pytest.raises(StoreError, match="is empty"):
        store.open(PASSWORD)
    path.write_text("hello")
    with pytest.raises(StoreError, match="neither a kms_ref nor a Tatum wallet file"):
        store.format()
    path.write_text('{"format":"something-else"}\n')
    with pytest.raises(UnsupportedFormat):
        store.open(PASSWORD)
    with pytest.raises(StoreError, match="not readable: not a regular file"):
        WalletStore(str(tmp_path)).open(PASSWORD)


def test_no_secret_in_reprs_or_errors(tmp_path):
    store, ids = native_store(tmp_path)
    with store.open(PASSWORD) as wallet:
        wallet.get(ids[2])
        shown = repr(wallet) + repr(store) + repr(wallet._backend) + repr(wallet._backend._gcm)
    try:
        store.open("wrong " + PASSWORD)
    except StoreError as e:
        shown += str(e)
    for secret in (MNEMONIC.split()[0], KEY["privateKey"], PASSWORD):
        assert secret not in shown


# -- conversion ----------------------------------------------------------------------------------

def test_convert_both_ways(tmp_path):
    store, ids = native_store(tmp_path)
    with store.open(PASSWORD) as wallet:
        content = list(wallet.to_dict().items())
    convert(store.path, PASSWORD, "tatum")
    assert store.format() == "tatum"
    assert json.loads(openssl_decrypt(Path(store.path).read_text(), PASSWORD.encode())) \
        == dict(content)
    before = Path(store.path).read_bytes()
    convert(store.path, PASSWORD, "tatum")
    assert Path(store.path).read_bytes() == before, "already in that format: untouched"
    store.convert(PASSWORD, "native", scrypt_params=FAST)
    assert store.format() == "native"
    with store.open(PASSWORD) as wallet:
        assert list(wallet.to_dict().items()) == content


def test_convert_tatum_fixture_to_native(tmp_path):
    store, case = tatum_store(tmp_path)
    store.convert(case["password"], "native", scrypt_params=FAST)
    with store.open(case["password"]) as wallet:
        assert list(wallet.to_dict().items()) == list(json.loads(case["plaintext"]).items())


# -- files, permissions, locks ------------------------------------------------------------------

def test_permissions(tmp_path, monkeypatch):
    """The default directory ~/.tatumrc is created 0700 whatever the umask; a file is 0600, and
    stays so after a rewrite."""
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    monkeypatch.setenv("HOME", str(home))
    old_umask = os.umask(0)
    try:
        store = WalletStore("~/.tatumrc/wallet.dat")
        with store.transaction(PASSWORD, scrypt_params=FAST) as wallet:
            wallet.add(KEY)
    finally:
        os.umask(old_umask)
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(home / ".tatumrc") == 0o700
    assert mode(store.path) == 0o600 and mode(store.path + ".lock") == 0o600
    assert mode(home) == 0o755, "an existing directory is left alone"
    os.chmod(store.path, 0o644)
    with store.transaction(PASSWORD) as wallet:
        wallet.add(KEY)
    assert mode(store.path) == 0o600
    assert sorted(os.listdir(home / ".tatumrc")) == ["wallet.dat", "wallet.dat.lock"]


def test_explicit_path_needs_its_directory(tmp_path, monkeypatch):
    """Only ~/.tatumrc is ever created: `--path a/b/c/w.dat` with a missing (mistyped) directory
    is an error, not a new wallet in a tree of new directories; a directory the user made keeps
    its mode."""
    monkeypatch.setenv("HOME", str(tmp_path))
    store = WalletStore(str(tmp_path / "a" / "b" / "c" / "w.dat"))
    with pytest.raises(StoreError, match="does not exist; create it first"):
        with store.transaction(PASSWORD, scrypt_params=FAST) as wallet:
            wallet.add(KEY)
    assert os.listdir(tmp_path) == []
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    os.chmod(mine, 0o755)
    native_store(mine)
    assert stat.S_IMODE(os.stat(mine).st_mode) == 0o755


@pytest.mark.parametrize("n,r,p", [(2**10, 8, 2_000_000), (2**21, 1, 1), (2**10, 1000, 1), (2**10, 8, 65),
                                   (2**16, 32, 64)], ids=["p-2000000", "n-2^21", "r-1000", "p-65", "work"])
def test_scrypt_parameters_are_bounded_before_any_work(tmp_path, n, r, p):
    """An edited header ("p": 2000000 is about four hours of scrypt) is refused before scrypt runs
    (were it not, this test would hang rather than fail); and no file is made with such values."""
    store, _ = native_store(tmp_path)
    path = Path(store.path)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["kdf"].update(n=n, r=r, p=p)
    lines[0] = json.dumps(header, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DamagedFile, match=r"\(scrypt parameters out of range\)$"):
        store.open(PASSWORD)
    with pytest.raises(ValueError, match="scrypt parameters out of range"):
        with WalletStore(str(tmp_path / "new.dat")).transaction(PASSWORD, scrypt_params=(n, r, p)) as wallet:
            wallet.add(KEY)


def test_deeply_nested_header_is_damaged(tmp_path):
    path = tmp_path / "w.dat"
    path.write_text('{"a":' + "[" * 20000 + "\n")   # within the 64 KiB header block
    with pytest.raises(DamagedFile, match="header is not JSON"):
        WalletStore(str(path)).open(PASSWORD)


def test_password_that_is_not_utf8(tmp_path):
    """A password read as surrogate escapes (stray bytes in the environment or on stdin) is refused
    without its bytes or their position."""
    store, _ = native_store(tmp_path)
    with pytest.raises(StoreError) as refused:
        store.open("pass\udcffword")
    assert str(refused.value) == "the password is not valid UTF-8 text (its bytes are not shown)"


def test_write_through_symlink_keeps_the_link(tmp_path):
    store, _ = native_store(tmp_path, name="real.dat")
    link = tmp_path / "link.dat"
    link.symlink_to(tmp_path / "real.dat")
    with WalletStore(str(link)).transaction(PASSWORD) as wallet:
        wallet.add(KEY)
    assert link.is_symlink()
    with store.open(PASSWORD) as wallet:
        assert len(wallet.ids()) == 4


def test_lock_timeout(tmp_path):
    store, _ = native_store(tmp_path)
    slow = WalletStore(store.path, lock_timeout=0.2)
    with locked(store.path + ".lock", exclusive=True):
        with pytest.raises(StoreError, match="is locked"):
            with slow.transaction(PASSWORD):
                pass
        with pytest.raises(StoreError, match="is locked"):
            slow.open(PASSWORD)
    with locked(store.path + ".lock", exclusive=False):
        slow.open(PASSWORD).close()  # readers share
        with pytest.raises(StoreError, match="is locked"):
            with slow.transaction(PASSWORD):
                pass


def _python(code, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env,
                            stdout=subprocess.PIPE, text=True)


ADDER = """
import sys
from kms_ref.store import WalletStore
store = WalletStore(sys.argv[1])
for i in range(int(sys.argv[2])):
    with store.transaction(sys.argv[3]) as wallet:
        sig_id = wallet.add({"privateKey": "k" * 52, "chain": "BTC", "testnet": True})
    print(sig_id, flush=True)
"""


def test_concurrent_writers_lose_nothing(tmp_path):
    store, ids = native_store(tmp_path)
    writers = [_python(ADDER, store.path, "2", PASSWORD) for _ in range(50)]
    added = [line for w in writers for line in w.communicate(timeout=300)[0].split()]
    assert all(w.returncode == 0 for w in writers)
    assert len(added) == 100
    with store.open(PASSWORD) as wallet:
        assert set(wallet.ids()) == set(added) | set(ids)
        assert len(wallet.ids()) == 103


def test_killed_writer_loses_no_reported_entry(tmp_path):
    seed = 9
    rng = random.Random(seed)
    store, ids = native_store(tmp_path)
    reported = set(ids)
    for round_ in range(8):
        writer = _python(ADDER, store.path, "100000", PASSWORD)
        time.sleep(rng.uniform(0.3, 1.0))
        writer.send_signal(signal.SIGKILL)
        reported |= set(writer.communicate()[0].split())
        assert writer.returncode == -signal.SIGKILL
        with store.open(PASSWORD) as wallet:
            missing = reported - set(wallet.ids())
        assert not missing, f"seed={seed} round={round_}: lost {len(missing)} entries"
    with store.transaction(PASSWORD) as wallet:  # a later write clears the killed ones' temps
        wallet.add(KEY)
    assert sorted(os.listdir(tmp_path)) == ["wallet.dat", "wallet.dat.lock"]


# -- laziness: one entry of a 25,000-key wallet ------------------------------------------------

CHAINS = ("BTC", "LTC", "DOGE", "BCH")


class CountingGCM(native_file.GCM):
    decryptions = 0

    def decrypt(self, nonce, ciphertext_and_tag, aad=b""):
        CountingGCM.decryptions += 1
        return super().decrypt(nonce, ciphertext_and_tag, aad)


def test_big_wallet_decrypts_only_what_is_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(native_file, "GCM", CountingGCM)
    store = WalletStore(str(tmp_path / "big.dat"))
    with store.transaction(PASSWORD, scrypt_params=FAST) as wallet:
        for i in range(25_000):
            wallet.add({**KEY, "chain": CHAINS[i % 4]})
    with store.open(PASSWORD) as wallet:
        ids = wallet.ids()
        assert len(ids) == 25_000 and len(wallet.ids_for("DOGE", True)) == 6_250
        assert wallet.meta(ids[-1]) == ("BTC", True)
        assert CountingGCM.decryptions == 0
        expected = {**KEY, "chain": CHAINS[(24_999 - 12_345) % 4]}  # stored newest first
        assert wallet.get(ids[12_345]) == expected
        assert wallet.get(ids[12_345]) == expected
        assert CountingGCM.decryptions == 1
