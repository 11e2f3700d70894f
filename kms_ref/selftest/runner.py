"""Run the known answers: all of them (`kms-ref selftest`), or the fast part (the daemon's
power-on self-test).

    summary = run_all()      # {"passed": N, "failed": ["<case>: <what differed>", ...], "seconds": S}
    failed, seconds = power_on()

The cases come from `known_answers.json` beside this file, read with `pkgutil.get_data` so that
they are found in a directory, a wheel or the one-file kms-ref.pyz alike. A case passes when its
check returns; anything else — a wrong answer, an exception, a check that does not exist — is a
failure, listed by the case's name and what went wrong (the inputs are public test vectors).
"""

from __future__ import annotations

import json
import pkgutil
import time

from kms_ref.selftest.checks import CHECKS, Mismatch

DATA_FILE = "known_answers.json"
REASON_LIMIT = 160           # characters of an unexpected exception's text kept in the summary


def load_cases() -> list:
    data = pkgutil.get_data(__package__, DATA_FILE)
    if data is None:
        raise ValueError("the self-test's data (%s) is missing from this copy of kms_ref" % DATA_FILE)
    return json.loads(data.decode("utf-8"))["cases"]


def run_case(case: dict):
    """None when the case holds, else what went wrong."""
    check = CHECKS.get(case.get("check"))
    if check is None:
        return "no check named %r" % case.get("check")
    try:
        check(case)
    except Mismatch as e:
        return "wrong %s" % e
    except Exception as e:  # noqa: BLE001 — a primitive that raises fails its known answer
        text = " ".join(str(e).split())
        return "%s%s" % (type(e).__name__, ": " + text[:REASON_LIMIT] if text else "")
    return None


def run(cases: list) -> dict:
    """{"passed": N, "failed": ["name: reason", ...], "seconds": S} for these cases."""
    started = time.perf_counter()
    failed = []
    for case in cases:
        reason = run_case(case)
        if reason is not None:
            failed.append("%s: %s" % (case.get("name", "?"), reason))
    seconds = time.perf_counter() - started
    return {"passed": len(cases) - len(failed), "failed": failed, "seconds": round(seconds, 3)}


def run_all() -> dict:
    """Every known answer: `kms-ref selftest`."""
    started = time.perf_counter()
    summary = run(load_cases())
    summary["seconds"] = round(time.perf_counter() - started, 3)   # reading the data included
    return summary


def power_on() -> tuple:
    """The fast part, one or two known answers per primitive (the cases marked "fast"):
    (failed, seconds). The daemon runs it at every start and does not sign if anything failed."""
    started = time.perf_counter()
    summary = run([case for case in load_cases() if case.get("fast")])
    return summary["failed"], time.perf_counter() - started
