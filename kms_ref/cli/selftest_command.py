"""`kms-ref selftest`: known answers of every primitive, from data inside the package (SPEC §10).

For an operator who carried kms_ref onto a locked-down host: no pytest, no network, no files of
its own — `kms_ref.selftest` checks the copy computes what the published vectors say. Prints one
JSON summary `{"passed": N, "failed": [...], "seconds": S}`; exit 0 only when nothing failed.
"""

from __future__ import annotations

from kms_ref.cli.output import emit, fail
from kms_ref.cli.flags import EXIT_OK


def selftest(ctx) -> int:
    from kms_ref.selftest.runner import run_all

    summary = run_all()
    emit(summary)
    if summary["failed"]:
        return fail("self-test failed: %d known answer(s) wrong; do not use this copy of kms_ref"
                    % len(summary["failed"]))
    return EXIT_OK
