"""Keep secrets out of core dumps: RLIMIT_CORE 0 and, on Linux, prctl(PR_SET_DUMPABLE, 0).

A process that holds a wallet password, a decrypted key or the API key must not leave them in a
core file: a daemon killed with SIGABRT once left a 28 MB core holding the password three times,
a WIF and the API key six times. Python cannot wipe its memory (strings are immutable and copied
freely), so the defence is that no image of that memory is written anywhere:

- RLIMIT_CORE = 0, soft and hard: the kernel writes no core file, and the process cannot raise
  the limit again (lowering a hard limit is one-way without privileges);
- PR_SET_DUMPABLE = 0 (Linux, through ctypes): no core even where the core pattern pipes dumps
  to a handler — which ignores RLIMIT_CORE — and other processes of the same user can no longer
  ptrace it or read its /proc/<pid>/mem and environ (TATUM_KMS_PASSWORD is in the environment).

`forbid_core_dumps` does both where the platform allows it and is silent where it does not (no
`resource` module, no libc, not Linux): it is a defence in depth, never a reason to refuse to
run. It is called when a command starts (`kms_ref.cli.main`) and whenever a secret is read
(`kms_ref.passwords.prompt`), so library users who read secrets through kms_ref get it too.
"""

from __future__ import annotations

import sys

PR_SET_DUMPABLE = 4   # <linux/prctl.h>
PR_GET_DUMPABLE = 3


def forbid_core_dumps() -> None:
    """No core file and, on Linux, a non-dumpable process. Idempotent and cheap."""
    try:
        import resource
    except ImportError:   # not a Unix
        pass
    else:
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        except (ValueError, OSError):
            pass
    if sys.platform.startswith("linux"):
        _prctl(PR_SET_DUMPABLE, 0)


def is_dumpable() -> bool:
    """This process's PR_GET_DUMPABLE (Linux); True where it cannot be asked."""
    if not sys.platform.startswith("linux"):
        return True
    return _prctl(PR_GET_DUMPABLE, 0) != 0


def _prctl(option: int, value: int) -> int:
    """prctl(2) through the C library already loaded into this process; -1 if unavailable."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (ImportError, OSError, AttributeError):
        return -1
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl(option, value, 0, 0, 0)
