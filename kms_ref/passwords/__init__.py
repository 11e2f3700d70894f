"""Where the wallet password comes from (SPEC §3, §8): the environment or a hidden prompt.

    prompt.py   `ask_password` (TATUM_KMS_PASSWORD, else a hidden prompt) and `ask_secret`
                (a mnemonic or key typed at a hidden prompt, or one line of piped stdin)

Layer: may import `net` and everything below it; never the daemon or the command line.
"""
