"""The README cannot rot: its shell sessions run, its Python sessions pass as doctests, its test
command is .ci/run's and its exit-code table is the program's.

A shell block runs in bash, line for line as written, with `kms-ref` on PATH and HOME in a
temporary directory. Only the placeholders change, the way a reader fills them in:
- `W=<signatureId from step 1>` becomes `W=$(last_json signatureId)`: that field of the last JSON
  object printed before it;
- a command ending in `# type: <privateKey from step 2>` gets that value on standard input, as if
  typed at its hidden prompt;
- the walkthrough's sandbox (README: "in a second terminal: `kms-ref sandbox --apiKey=my-key`")
  is started by the test with that command plus --port=0, and its address replaces
  http://127.0.0.1:8080, so that two test runs never fight over a port.
`set -e`: a command that fails fails the test, with the session's output in the message.
"""

import doctest
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap

from kms_ref.cli.flags import EXIT_CODES
from kms_ref.tx.transaction import parse_hex
from tests.cli_helpers import REPO

README = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
PLACEHOLDER = re.compile(r"^(\w+)=<(\w+) from [^>]*>$")
TYPED = re.compile(r"^(.*?)\s+# type: <(\w+) from [^>]*>$")
SANDBOX = re.compile(r"in a second terminal: `(kms-ref sandbox[^`]*)`")
README_URL = "http://127.0.0.1:8080"
TIMEOUT = 300

LAST_JSON = '''
import json, sys
field, log = sys.argv[1], sys.argv[2]
text, decoder, found, i = open(log, encoding="utf-8").read(), json.JSONDecoder(), None, 0
while True:
    i = text.find("{", i)
    if i < 0:
        break
    try:
        value, end = decoder.raw_decode(text, i)
    except ValueError:
        i += 1
        continue
    if isinstance(value, dict) and field in value:
        found = value[field]
    i = end
if found is None:
    sys.exit("README placeholder: no JSON with %r printed before it" % field)
print(found)
'''

# A stand-in for curl where it is not installed: the options the README uses, nothing more.
CURL = '''
import sys, urllib.request, urllib.error
args, method, headers, data, url = sys.argv[1:], None, {}, None, None
while args:
    a = args.pop(0)
    if a == "-s":
        continue
    if a == "-X":
        method = args.pop(0)
    elif a == "-H":
        name, _, value = args.pop(0).partition(":")
        headers[name.strip()] = value.strip()
    elif a == "-d":
        data = args.pop(0).encode()
    elif a.startswith("-"):
        sys.exit("curl stand-in: option %s unknown" % a)
    else:
        url = a
request = urllib.request.Request(url, data=data, headers=headers, method=method)
try:
    body = urllib.request.urlopen(request).read()
except urllib.error.HTTPError as e:
    body = e.read()
sys.stdout.write(body.decode())
'''


def blocks(language):
    """(heading, text) of every ``` block of this language, in order."""
    found = []
    for match in BLOCK.finditer(README):
        if match.group(1) == language:
            headings = re.findall(r"^## (.+)$", README[:match.start()], re.M)
            found.append((headings[-1] if headings else "", match.group(2)))
    return found


def script(text):
    lines = []
    for line in text.splitlines():
        placeholder = PLACEHOLDER.match(line.strip())
        typed = TYPED.match(line)
        if placeholder:
            lines.append("%s=$(last_json %s)" % placeholder.groups())
        elif typed:
            lines.append("last_json %s | %s" % (typed.group(2), typed.group(1)))
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


class Session:
    """A directory with `kms-ref` (and `curl`, if missing) on PATH and a bash that runs blocks."""

    def __init__(self, tmp_path):
        self.home = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self._tool("kms-ref", '#!/bin/sh\nexec "%s" -m kms_ref "$@"\n' % sys.executable)
        (self.bin / "last_json.py").write_text(LAST_JSON)
        if shutil.which("curl") is None:
            (self.bin / "curl.py").write_text(CURL)
            self._tool("curl", '#!/bin/sh\nexec "%s" "%s" "$@"\n' % (sys.executable, self.bin / "curl.py"))
        self.log = tmp_path / "session.out"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TATUM_", "KMS_REF_"))}
        self.env.update({"HOME": str(tmp_path), "PYTHONPATH": REPO,
                         "PATH": "%s%s%s" % (self.bin, os.pathsep, os.environ.get("PATH", ""))})

    def _tool(self, name, text):
        path = self.bin / name
        path.write_text(text)
        path.chmod(0o755)

    def run(self, text):
        body = ('set -eo pipefail\nlast_json() { "%s" "%s" "$1" "%s"; }\n'
                % (sys.executable, self.bin / "last_json.py", self.log)) + script(text)
        (self.home / "session.sh").write_text(body)
        err_path = self.home / "session.err"
        with open(self.log, "w") as out, open(err_path, "w") as err:
            proc = subprocess.Popen(["bash", str(self.home / "session.sh")], cwd=str(self.home), env=self.env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
            try:
                code = proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                code = "timeout"
            finally:   # the session's process group: the background daemon of step 5 too
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        self.out, self.err = self.log.read_text(), err_path.read_text()
        assert code == 0, "README session failed (%s):\n%s\n--- stdout\n%s\n--- stderr\n%s" % (
            code, body, self.out[-3000:], self.err[-3000:])
        return self

    def last(self, field):
        return subprocess.run([sys.executable, str(self.bin / "last_json.py"), field, str(self.log)],
                              capture_output=True, text=True, check=True).stdout.strip()


def test_every_shell_block_is_run_or_checked():
    headings = [heading for heading, _ in blocks("sh")]
    assert headings == ["", "Commands", "The walkthrough, step by step", "The walkthrough, step by step",
                        "How a KMS signs", "Running the daemon on a server"], \
        "a README shell block no test runs or checks: %s" % headings


def test_the_high_availability_block_gives_each_daemon_its_own_wallet_copy():
    """Not run (it starts mainnet daemons under /var/lib); checked for what
    tests/test_daemons_ha.py relies on: every daemon has its own copy of the wallet file (one
    journal admits one daemon), the same API key from the environment and the four-eye URL."""
    [text] = [text for heading, text in blocks("sh") if heading == "Running the daemon on a server"]
    assert re.search(r"cp \S*wallet\.dat \S*\$n/", text), text
    assert re.search(r"kms-ref daemon --path=\S*\$n/wallet\.dat", text), text
    assert "--externalUrl=" in text and "--apiKey" not in text


def test_the_test_command_is_what_ci_runs():
    top = blocks("sh")[0][1].splitlines()
    readme_command = re.sub(r"\s+#.*$", "", top[1])
    assert readme_command.startswith("python3 -m venv .venv && ")   # PEP 668: never pip outside a venv
    ci = open(os.path.join(REPO, ".ci", "run"), encoding="utf-8").read()
    assert "TEST_COMMAND='%s'" % readme_command in ci
    assert re.search(r'^bash -c "\$\{TEST_COMMAND', ci, re.M)
    assert top[0].startswith("python3 -m kms_ref demo")   # tests/test_demo.py runs the demo


def test_exit_code_table_is_the_programs():
    section = README[README.index("## Exit codes"):]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section[:section.index("\n## ")], re.M)
    assert {int(code): text for code, text in rows} == EXIT_CODES


def test_python_sessions_pass_as_doctests():
    sessions = blocks("python")
    assert [h for h, _ in sessions] == ["How a KMS signs", "Library API"]
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for heading, text in sessions:
        test = doctest.DocTestParser().get_doctest(text, {}, heading, "README.md", 0)
        assert test.examples, heading
        result = runner.run(test, out=lambda s: None)
        assert result.failed == 0, "README %r: %d of %d examples fail" % (heading, result.failed, result.attempted)


def test_the_explained_output_adds_up():
    """The excerpt of "How a KMS signs" is real: its digest is the double SHA-256 of its
    preimage, its fields make up the preimage, and s = k^-1 (e + r*d) mod n, low S."""
    text = blocks("text")[0][1]
    value = lambda name: re.search(r"^\s*%s = ([0-9a-f]+)$" % re.escape(name), text, re.M).group(1)   # noqa: E731
    import hashlib
    preimage = bytes.fromhex(value("preimage"))
    fields = re.findall(r"^\s+\d+\. \S.*?\s{2,}([0-9a-f]+)(?:\s|$)", text, re.M)
    assert "".join(fields) == preimage.hex()
    assert hashlib.sha256(hashlib.sha256(preimage).digest()).hexdigest() == value("digest") == value("e")
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    e, d, k, r, s = (int(value(x), 16) for x in "edkrs")
    s_raw = pow(k, -1, n) * (e + r * d) % n
    assert s == min(s_raw, n - s_raw) and int(value("k^-1 (e + r*d) mod n"), 16) == s_raw


def test_commands_examples_session(tmp_path):
    [(_, text)] = [b for b in blocks("sh") if b[0] == "Commands"]
    session = Session(tmp_path).run(text)
    assert "Usage: kms-ref getaddress SIGNATURE_ID INDEX" in session.out
    assert json.loads(open(tmp_path / "wallet.dat").readline())   # converted back to native


def test_walkthrough_session_against_a_sandbox(tmp_path):
    """Steps 1-8 and "How a KMS signs", as one reader's session: the daemon signs and broadcasts
    step 7's transaction, and signing it again offline gives the very same transaction."""
    walkthrough = [t for h, t in blocks("sh") if h in ("The walkthrough, step by step", "How a KMS signs")]
    text = "\n".join(walkthrough)
    assert README_URL in text
    session = Session(tmp_path)
    command = SANDBOX.search(README).group(1).split() + ["--port=0"]
    sandbox = subprocess.Popen(command, cwd=str(tmp_path), env=session.env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        url = json.loads(sandbox.stdout.readline())["listening"]
        session.run(text.replace(README_URL, url))
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=30)
    tx_id = session.last("txId")
    assert re.fullmatch(r"[0-9a-f]{64}", tx_id), session.out[-2000:]
    assert parse_hex(session.last("txData")).txid() == tx_id
    assert "== input 0 spends" in session.err and re.search(r"^\s+k = [0-9a-f]{64}$", session.err, re.M)
    daemon_log = (tmp_path / "daemon.log").read_text()
    assert "Tx was processed" in daemon_log, textwrap.shorten(daemon_log, 2000)
