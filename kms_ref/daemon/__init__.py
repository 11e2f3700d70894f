"""The signing daemon (SPEC §5): pull pending transactions from the Tatum v3 API, sign, broadcast.

    tatum_client.py  the Tatum v3 REST calls (pending, broadcast, complete, batch, ...)
    settings.py      flags and environment, all checked before the first request
    signer.py        the keys of a pending transaction, from the open wallet store
    four_eye.py      --externalUrl: sign only what an external system approves
    journal.py       what was signed and broadcast, so that nothing is ever sent twice; its
                     history: journal_events (what each line means), journal_index (runs of
                     settled IDs), journal_store (the history directory and its manifest),
                     journal_compact (live lines into history), journal_audit (`kms-ref journal`)
    broadcast.py     one broadcast and what each outcome means; the cycle's batch report
    retry.py         transactions held back after a transient failure, and their back-off
    log.py           tatum-kms's log line format
    cycle.py         one cycle over every chain, and the loop of cycles
    main.py          the `daemon` command: check everything, ask the password, run

Layer: may import `passwords`, `net`, `store`, `tx`, `hd`, `encoding`, `crypto`; never the
sandbox or the command line.
"""
