"""Run `python -m kms_ref` as a real process, in a private HOME and working directory.

With KMS_REF_TEST_PYZ naming a built kms-ref.pyz (`.ci/run` sets it for a second pass of the
command-line tests), every such process is `python -I -S kms-ref.pyz` instead: the one file, with
no site-packages and no current directory, as on a locked-down host.
"""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "correct horse battery staple"
PYZ = os.environ.get("KMS_REF_TEST_PYZ")


def kms_command() -> list:
    """The command line of kms-ref: the built .pyz under -I -S when KMS_REF_TEST_PYZ is set."""
    if PYZ:
        return [sys.executable, "-I", "-S", os.path.abspath(PYZ)]
    return [sys.executable, "-m", "kms_ref"]


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def error(self):
        """The one-line JSON error on stderr (asserting its shape)."""
        lines = [line for line in self.err.splitlines() if line.startswith("{")]
        assert self.code != 0, "expected a failure, got exit 0: %r" % self.out
        assert "Traceback" not in self.err, self.err
        assert len(lines) == 1, self.err
        data = json.loads(lines[0])
        assert list(data) == ["error"] and data["error"], data
        return data["error"]


def kms(tmp_path, *args, stdin="", password=PASSWORD, env=None, timeout=120):
    """Run kms-ref with HOME and cwd in tmp_path (so no real ~/.tatumrc or ./.env is read)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TATUM_")}
    environ.update({"HOME": str(tmp_path), "PYTHONPATH": REPO})
    if password is not None:
        environ["TATUM_KMS_PASSWORD"] = password
    environ.update(env or {})
    proc = subprocess.run([*kms_command(), *args], input=stdin, cwd=str(tmp_path),
                          env=environ, capture_output=True, text=True, timeout=timeout)
    return Result(proc)
