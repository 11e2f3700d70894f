"""The one file (SPEC §10): `python3 -m kms_ref.pyz OUTDIR` builds kms-ref.pyz and SHA256SUMS,
the same bytes every time, and the file alone is the program on every Python ≥ 3.9 found here,
run with -I -S from an empty directory; an older Python gets one line, not a traceback."""

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.cli_helpers import PASSWORD, REPO

OLD_PYTHON = "kms_ref needs Python 3.9 or newer\n"


def find_pythons() -> dict:
    """{"3.X": interpreter} for every CPython 3.6-3.13 that runs here (on PATH, or pyenv's)."""
    candidates = [shutil.which("python3.%d" % minor) for minor in range(6, 14)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")))
    found = {"%d.%d" % sys.version_info[:2]: sys.executable}
    for exe in filter(None, candidates):
        try:
            version = subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                     capture_output=True, text=True, timeout=30).stdout.strip()
        except OSError:
            continue
        if version and version not in found:
            found[version] = exe
    return found


PYTHONS = find_pythons()
CURRENT = sorted((v, exe) for v, exe in PYTHONS.items() if tuple(map(int, v.split("."))) >= (3, 9))
OLD = sorted((v, exe) for v, exe in PYTHONS.items() if tuple(map(int, v.split("."))) < (3, 9))


def build(outdir) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kms_ref.pyz", str(outdir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pyz(tmp_path_factory):
    """A built kms-ref.pyz, copied alone into an empty directory."""
    proc = build(tmp_path_factory.mktemp("dist"))
    assert proc.returncode == 0, proc.stderr
    alone = tmp_path_factory.mktemp("host") / "kms-ref.pyz"
    shutil.copy(json.loads(proc.stdout)["pyz"], str(alone))
    return alone


def test_two_builds_give_the_same_bytes(tmp_path):
    first, second = build(tmp_path / "a"), build(tmp_path / "b")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    data = (tmp_path / "a" / "kms-ref.pyz").read_bytes()
    assert data == (tmp_path / "b" / "kms-ref.pyz").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert (tmp_path / "a" / "SHA256SUMS").read_text() == "%s  kms-ref.pyz\n" % digest
    assert json.loads(first.stdout) == {"pyz": str(tmp_path / "a" / "kms-ref.pyz"), "sha256": digest,
                                        "bytes": len(data)}
    assert data.startswith(b"#!/usr/bin/env python3\n")
    assert os.access(str(tmp_path / "a" / "kms-ref.pyz"), os.X_OK)


def test_what_differs_between_checkouts_does_not_reach_the_archive(tmp_path):
    """Another checkout of the same tree — other times, other permissions, compiled files and
    editor leftovers beside the sources — gives the same archive."""
    from kms_ref.pyz.build import archive_bytes

    copy = tmp_path / "kms_ref"
    shutil.copytree(os.path.join(REPO, "kms_ref"), str(copy))
    for n, path in enumerate(sorted(glob.glob(str(copy / "**" / "*.*"), recursive=True))):
        os.utime(path, (1e9 + n * 7919, 1e9 + n * 7919))
        os.chmod(path, 0o600 if n % 2 else 0o664)
    (copy / "hd" / "__pycache__").mkdir(exist_ok=True)
    (copy / "hd" / "__pycache__" / "bip39.cpython-311.pyc").write_bytes(b"compiled")
    (copy / "cli" / ".main.py.swp").write_bytes(b"editor")
    (copy / "cli" / "main.py.orig").write_bytes(b"merge leftover")
    assert archive_bytes(str(copy)) == archive_bytes(os.path.join(REPO, "kms_ref"))


def test_the_archive_holds_the_program_and_nothing_else(pyz):
    with zipfile.ZipFile(str(pyz)) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names[0] == "__main__.py" and names[1:] == sorted(names[1:])
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("kms_ref/bench/", "kms_ref/pyz/"))]
    assert {"kms_ref/hd/bip39_english.txt", "kms_ref/selftest/known_answers.json", "kms_ref/cli/main.py", "kms_ref/daemon/main.py",
            "kms_ref/sandbox/server.py"} <= set(names)
    on_disk = {os.path.relpath(p, REPO).replace(os.sep, "/")
               for p in glob.glob(os.path.join(REPO, "kms_ref", "**", "*.py"), recursive=True)}
    assert {n for n in on_disk if not n.startswith(("kms_ref/bench/", "kms_ref/pyz/"))} <= set(names)


def run(python, pyz, *args, stdin="", home=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TATUM_", "PYTHON"))}
    env.update({"HOME": str(home or pyz.parent), "TATUM_KMS_PASSWORD": PASSWORD})
    return subprocess.run([python, "-I", "-S", str(pyz), *args], input=stdin, cwd=str(pyz.parent),
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("version, python", CURRENT, ids=[v for v, _ in CURRENT])
def test_the_file_alone_is_the_program(pyz, version, python, tmp_path):
    """Under -I -S from an empty directory: a command that needs the word list, a stored wallet,
    the self-test, and errors that exit non-zero with one JSON line."""
    r = run(python, pyz, "generatewallet", "BTC", "--testnet")
    assert r.returncode == 0, r.stderr
    wallet = json.loads(r.stdout)
    assert len(wallet["mnemonic"].split()) == 24 and wallet["xpub"].startswith("tpub")
    path = str(tmp_path / "w.dat")
    r = run(python, pyz, "--path", path, "--testnet", "storemanagedwallet", "BTC", stdin=wallet["mnemonic"] + "\n")
    assert r.returncode == 0, r.stderr
    signature_id = json.loads(r.stdout)["signatureId"]
    r = run(python, pyz, "--path", path, "--testnet", "getaddress", signature_id, "0")
    assert r.returncode == 0 and json.loads(r.stdout)["address"].startswith("tb1q"), r.stderr
    r = run(python, pyz, "selftest")                    # its data is read from inside the zip
    assert r.returncode == 0 and json.loads(r.stdout)["failed"] == [], r.stdout + r.stderr
    for bad, code in ((["bogus"], 2), (["--path", path, "getaddress", "no-such-id", "0"], 1),
                      (["generatewallet", "XRP"], 1)):
        r = run(python, pyz, *bad)
        assert r.returncode == code and "Traceback" not in r.stderr, (bad, r.stderr)
        assert list(json.loads(r.stderr.splitlines()[-1])) == ["error"], r.stderr   # a usage line may come first


@pytest.mark.parametrize("version, python", OLD, ids=[v for v, _ in OLD])
def test_an_old_python_gets_one_line(pyz, version, python):
    for command in ([python, str(pyz), "--version"], [python, "-m", "kms_ref", "--version"]):
        proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60,
                              env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})
        assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", OLD_PYTHON), command




def test_the_builder_refuses_bad_arguments_in_one_line(tmp_path):
    for argv in (["a", "b"], ["--help"], [str(tmp_path / "file" / "below-a-file")]):
        (tmp_path / "file").write_text("")
        proc = subprocess.run([sys.executable, "-m", "kms_ref.pyz", *argv], cwd=REPO, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 1 and proc.stdout == "" and "Traceback" not in proc.stderr, argv
        assert list(json.loads(proc.stderr)) == ["error"]
