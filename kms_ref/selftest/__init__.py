"""The self-test (SPEC §10): known answers of every primitive and of Tatum's derivations, from
data shipped inside the package, so a copy of kms_ref can check itself on the host it runs on.

    known_answers.json   the curated cases, each naming its published source (made from the
                         repository's vectors/ by tests/make_known_answers.py)
    checks.py            one check per kind of case
    runner.py            `run_all` (`kms-ref selftest`) and `power_on` (the daemon, at start)

Layer: just above `tx` — it tests `crypto`, `encoding`, `hd` and `tx` and imports only those,
so that the daemon may run it at start (like a FIPS power-on self-test) while the `selftest`
command lives with the other commands in `cli`.
"""
