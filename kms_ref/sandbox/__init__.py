"""The sandbox (SPEC §6): a local, standard-library stand-in for the Tatum v3 API.

It runs the whole KMS walkthrough on one machine with no account: a faucet funds an address
(step 6), `POST /v3/{chain}/transaction` builds the unsigned transaction in the formats of SPEC §4
and queues it for the KMS (step 7), broadcast checks every input's signature before it spends
anything, and `GET /v3/kms/{id}` shows the txId (step 8).

    amounts.py   coins (decimal strings, as Tatum writes them) <-> satoshis
    unsigned.py  the unsigned transaction Tatum hands the KMS: bitcore JSON, BCH "hex:amounts"
    ledger.py    the UTXO ledger per chain and network, pending KMS transactions, broadcasts
    server.py    HTTP routes, x-api-key, JSON in and out; `main(ctx)` and `start_sandbox()`

Layer: above the daemon, below the command line. It may import `store`, `tx`, `hd`, `encoding`,
`crypto` (it checks broadcasts with the same script checker as the signer); nothing below it
imports the sandbox.
"""
