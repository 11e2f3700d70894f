"""The user's edge: tatum-kms's command line (SPEC §3) and kms_ref's own commands.

    commands.py         the registry: one entry per command (usage, arguments, flags, environment,
                        examples, exit codes, where its code is); flags.py the shared vocabulary
                        (every flag, argument, environment variable and exit code, defined once)
    args.py             argv → (command, arguments, flags) by argparse, built from the registry
    help.py             `--help` and `COMMAND --help`, written from the registry
    main.py             argv → a command, its output, its exit code (the only place that prints
                        results and chooses exit codes)
    dotenv.py           `.env` files; output.py JSON out, errors
    wallet_commands.py  generatewallet, store…, get…, removewallet, export, convert
    diagnostics.py      checkconfig, report
    journal_command.py  `journal`: the daemon's journal, for audits
    sign.py             `sign`: one pending transaction, offline (--explain: kms_ref.tx.explain)
    serve.py            `sandbox`: kms_ref.sandbox.server from the command line
    demo.py             `demo`: the walkthrough against a private sandbox

Layer: the top but for `bench`/`pyz`; it may import everything below (sandbox, daemon,
passwords, net, store, tx, hd, encoding, crypto). Nothing in kms_ref imports it except
`kms_ref.__main__`.
"""
