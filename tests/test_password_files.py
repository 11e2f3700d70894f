"""The password from a file (TATUM_KMS_PASSWORD_FILE, systemd's $CREDENTIALS_DIRECTORY), and
the precedence of all sources: flag, TATUM_KMS_PASSWORD, the file, the credential, the prompt."""

import os

import pytest

from tests.cli_helpers import PASSWORD
from tests.password_helpers import assert_source_failure, file_bytes, make_wallet, run_kms
from tests.standins import StandIn
from tests.test_password_vgs import ALIAS, Vault, settings as vgs_settings

WRONG = "not the wallet password"


@pytest.fixture
def wallet(tmp_path):
    return make_wallet(tmp_path)


def password_file(tmp_path, text, mode=0o600, name="password"):
    path = tmp_path / name
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def credentials_directory(tmp_path, text):
    directory = tmp_path / "credentials"
    directory.mkdir()
    (directory / "tatum-kms-password").write_text(text)
    os.chmod(directory / "tatum-kms-password", 0o400)
    return str(directory)


def getaddress(tmp_path, wallet, env, stdin=""):
    return run_kms(tmp_path, "--path", wallet.path, "getaddress", wallet.sig_id, "0", env=env, stdin=stdin)


@pytest.mark.parametrize("text", [PASSWORD, PASSWORD + "\n", PASSWORD + "\r\n", PASSWORD + "\nsecond line\n"])
@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_password_file(tmp_path, wallet, text, mode):
    r = getaddress(tmp_path, wallet, {"TATUM_KMS_PASSWORD_FILE": password_file(tmp_path, text, mode)})
    assert r.code == 0, r.err
    assert r.json() == {"address": wallet.address}


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_password_file_others_may_read_is_refused(tmp_path, wallet, mode):
    path = password_file(tmp_path, PASSWORD, mode)
    before = file_bytes(wallet.path)
    r = run_kms(tmp_path, "--path", wallet.path, "generatemanagedwallet", "BTC", "--testnet",
                env={"TATUM_KMS_PASSWORD_FILE": path})
    assert_source_failure(r, "TATUM_KMS_PASSWORD_FILE " + path,
                          contains="mode %04o lets others read it" % mode)
    assert file_bytes(wallet.path) == before


def test_password_file_of_another_user_is_refused(tmp_path, wallet):
    if os.geteuid() == 0:
        path = password_file(tmp_path, PASSWORD)
        os.chown(path, 65534, 65534)
        owner = 65534
    else:
        path, owner = "/etc/passwd", 0          # root's, and readable: refused for its owner
    r = getaddress(tmp_path, wallet, {"TATUM_KMS_PASSWORD_FILE": path})
    assert_source_failure(r, "TATUM_KMS_PASSWORD_FILE " + path, contains="owned by uid %d" % owner)


@pytest.mark.parametrize("case,words", [("missing", "cannot open it (No such file or directory)"),
                                        ("directory", "not a regular file"),
                                        ("empty", "its first line is empty"),
                                        ("blank-first-line", "its first line is empty"),
                                        ("binary", "not UTF-8 text")])
def test_password_file_failures(tmp_path, wallet, case, words):
    path = {"missing": lambda: str(tmp_path / "nothing-here"),
            "directory": lambda: str(tmp_path),
            "empty": lambda: password_file(tmp_path, ""),
            "blank-first-line": lambda: password_file(tmp_path, "\n" + PASSWORD),
            "binary": lambda: (password_file(tmp_path, ""), (tmp_path / "password").write_bytes(b"\xff\xfe"))[0],
            }[case]()
    r = getaddress(tmp_path, wallet, {"TATUM_KMS_PASSWORD_FILE": path})
    assert_source_failure(r, "TATUM_KMS_PASSWORD_FILE " + path, contains=words)


def test_systemd_credential(tmp_path, wallet):
    r = getaddress(tmp_path, wallet, {"CREDENTIALS_DIRECTORY": credentials_directory(tmp_path, PASSWORD + "\n")})
    assert r.code == 0, r.err
    assert r.json() == {"address": wallet.address}


def test_credentials_directory_without_ours_falls_to_the_prompt(tmp_path, wallet):
    directory = tmp_path / "credentials"
    directory.mkdir()
    (directory / "some-other-credential").write_text(WRONG)
    r = getaddress(tmp_path, wallet, {"CREDENTIALS_DIRECTORY": str(directory)}, stdin=PASSWORD + "\n")
    assert r.code == 0, r.err


def test_empty_systemd_credential(tmp_path, wallet):
    directory = credentials_directory(tmp_path, "\n")
    r = getaddress(tmp_path, wallet, {"CREDENTIALS_DIRECTORY": directory})
    assert_source_failure(r, "systemd credential %s/tatum-kms-password" % directory,
                          contains="its first line is empty")


# -- precedence: each source is shown to win over the next by giving the next a wrong password ---

def test_flag_beats_environment_and_files(tmp_path, wallet):
    with StandIn(Vault({ALIAS: PASSWORD})) as vgs:
        env = dict(vgs_settings(vgs.url), TATUM_KMS_PASSWORD=WRONG,
                   TATUM_KMS_PASSWORD_FILE=password_file(tmp_path, WRONG),
                   CREDENTIALS_DIRECTORY=credentials_directory(tmp_path, WRONG))
        r = run_kms(tmp_path, "--path", wallet.path, "getaddress", wallet.sig_id, "0", "--vgs", env=env)
        assert r.code == 0, r.err


@pytest.mark.parametrize("right", ["environment", "file", "credential", "prompt"])
def test_order_environment_file_credential_prompt(tmp_path, wallet, right):
    """The right password sits in one source; every source after it holds a wrong one, so the
    command works only if that source wins over all those after it."""
    order = ["environment", "file", "credential", "prompt"]
    values = {name: (PASSWORD if name == right else WRONG) for name in order[order.index(right):]}
    env = {}
    if "environment" in values:
        env["TATUM_KMS_PASSWORD"] = values["environment"]
    if "file" in values:
        env["TATUM_KMS_PASSWORD_FILE"] = password_file(tmp_path, values["file"])
    if "credential" in values:
        env["CREDENTIALS_DIRECTORY"] = credentials_directory(tmp_path, values["credential"])
    r = getaddress(tmp_path, wallet, env, stdin=values["prompt"] + "\n")
    assert r.code == 0, r.err
    assert r.json() == {"address": wallet.address}


def test_a_failing_source_does_not_fall_back(tmp_path, wallet):
    """A refused password file is an error even though a credential and the prompt would work."""
    path = password_file(tmp_path, PASSWORD, 0o644)
    env = {"TATUM_KMS_PASSWORD_FILE": path, "CREDENTIALS_DIRECTORY": credentials_directory(tmp_path, PASSWORD)}
    r = getaddress(tmp_path, wallet, env, stdin=PASSWORD + "\n")
    assert_source_failure(r, "TATUM_KMS_PASSWORD_FILE " + path, contains="lets others read it")


@pytest.mark.parametrize("setup,expected", [
    ("environment", "TATUM_KMS_PASSWORD"),
    ("file", "TATUM_KMS_PASSWORD_FILE ("),
    ("credential", "systemd credential ("),
    ("nothing", "prompt"),
])
def test_checkconfig_names_the_source(tmp_path, wallet, setup, expected):
    env = {"environment": lambda: {"TATUM_KMS_PASSWORD": PASSWORD},
           "file": lambda: {"TATUM_KMS_PASSWORD_FILE": password_file(tmp_path, PASSWORD)},
           "credential": lambda: {"CREDENTIALS_DIRECTORY": credentials_directory(tmp_path, PASSWORD)},
           "nothing": lambda: {}}[setup]()
    r = run_kms(tmp_path, "--path", wallet.path, "checkconfig", env=env)
    assert r.code == 0, r.err
    source = [line for line in r.out.splitlines() if line.startswith("Password source")]
    assert source and source[0].split(": ", 1)[1].startswith(expected)
    assert PASSWORD not in r.out


def test_daemon_with_systemd_credential(tmp_path, wallet):
    """The README's unit: LoadCredential= gives the daemon its password."""
    from tests.fake_tatum import FakeTatum

    with FakeTatum() as api:
        env = {"CREDENTIALS_DIRECTORY": credentials_directory(tmp_path, PASSWORD),
               "TATUM_API_KEY": api.api_key, "TATUM_API_URL": api.url}
        r = run_kms(tmp_path, "daemon", "--path", wallet.path, "--runOnce", "--testnet", "--chain", "BTC",
                    env=env)
        assert r.code == 0, r.err
        assert [c.path for c in api.calls] == ["/v3/kms/pending/BTC"]
