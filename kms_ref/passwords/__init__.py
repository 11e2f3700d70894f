"""Where the wallet password comes from (SPEC §3, §8): the environment or a hidden prompt.

    prompt.py      `ask_password` (TATUM_KMS_PASSWORD, else a hidden prompt) and `ask_secret`
                   (a mnemonic or key typed at a hidden prompt, or one line of piped stdin)
    core_dumps.py  `forbid_core_dumps`: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0, so that no secret
                   the process holds is ever written to a core file or read by its neighbours

Layer: may import `net` and everything below it; never the daemon or the command line.
"""
