"""The text of `kms-ref --help`."""

from kms_ref import __version__

HELP = """kms_ref %s — a pure-Python Tatum Key Management System (BTC, LTC, DOGE, BCH)

Usage: kms-ref <command> [options]

Wallets (the password comes from --aws, --azure or --vgs, else TATUM_KMS_PASSWORD, else
TATUM_KMS_PASSWORD_FILE, else $CREDENTIALS_DIRECTORY/tatum-kms-password, else a hidden prompt;
mnemonics and private keys are only ever typed at a hidden prompt, or piped on standard input):
  generatewallet <chain>                     new mnemonic and xpub, not stored
  generatemanagedwallet <chain>              new mnemonic, stored; prints signatureId and xpub
  storemanagedwallet <chain>                 store a mnemonic you type
  storemanagedprivatekey <chain>             store a private key (WIF) you type
  generatemanagedprivatekeybatch <chain> <n> n stored keys, one JSON line each
  getmanagedwallet <signatureId>             the stored entry
  getprivatekey <signatureId> <i>            private key i (WIF)
  getaddress <signatureId> <i>               address i
      --taproot                              BTC: BIP86 Taproot, key m/86'/coin'/0'/0/i: its bc1p/tb1p
                                             address, or its internal key (what BIP86 wallets
                                             export; stored back, it keeps the same address)
  removewallet <signatureId>                 delete an entry
  export                                     the whole decrypted store
  convert --to native|tatum                  rewrite the file in kms_ref's or Tatum's format
  checkconfig                                paths and environment (secrets masked)
  report [<id>,<id>,...]                     wallet types and warnings, no secrets

Signing:
  daemon                                     sign and broadcast pending transactions
  sign [FILE|-] [--explain]                  sign one pending transaction offline

Audit (the daemon's journal, beside the wallet; no password asked):
  journal                                    where the journal is, its size, in-doubt IDs
  journal <pendingId>                        every event of one pending transaction, and its state
  journal --from=DATE [--to=DATE]            what the daemon broadcast from DATE up to (not
                                             including) --to; DATE is 2024-01-31 or
                                             2024-01-31T12:00:00Z (UTC)

Trying it out:
  sandbox [--host H] [--port P] [--api-key K] [--state FILE]   a local Tatum-compatible API
  demo [--chain C] [--taproot]               the whole walkthrough against a private sandbox
                                             (--taproot: BTC, from and to Taproot addresses)

Options:
  --path=FILE            wallet file (default ~/.tatumrc/wallet.dat)
  --testnet              testnet (mainnet otherwise)
  --aws                  password from AWS Secrets Manager (TATUM_KMS_AWS_SECRET_NAME, ...)
  --azure                password from Azure Key Vault (TATUM_KMS_AZURE_VAULTURL, ...)
  --vgs                  password from a VGS alias (TATUM_KMS_VGS_ALIAS, ...)
  --envFile=FILE         .env file (default ~/.tatumrc/.env)
  --apiKey=KEY           Tatum API key (or TATUM_API_KEY); TATUM_API_URL picks the server
  --chain=BTC,LTC        daemon: chains to serve (default all four)
  --period=SECONDS       daemon: seconds between cycles (default 5)
  --externalUrl=URL      daemon: four-eye check URL (required on mainnet)
  --externalUrlMethod=GET|POST
  --runOnce              daemon: one cycle, then exit
  --wallet=ID[,ID]       daemon --runOnce: only these signature IDs
  --transactionIds=A,B   daemon --runOnce: only these pending transactions
""" % __version__
