"""The user's edge: tatum-kms's command line (SPEC §3) and kms_ref's own commands.

    main.py             argv → a command, its output, its exit code (the only place that
                        prints results and chooses exit codes)
    args.py             flags as tatum-kms takes them (camelCase and kebab spellings)
    dotenv.py           `.env` files; help.py the help text; output.py JSON out, errors
    wallet_commands.py  generatewallet, store…, get…, removewallet, export, convert
    diagnostics.py      checkconfig, report
    journal_command.py  `journal`: the daemon's journal, for audits
    sign.py             `sign`: one pending transaction, offline
    demo.py             `demo`: the walkthrough against a private sandbox

Layer: the top but for `bench`/`pyz`; it may import everything below (sandbox, daemon,
passwords, net, store, tx, hd, encoding, crypto). Nothing in kms_ref imports it except
`kms_ref.__main__`.
"""
