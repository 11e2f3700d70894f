"""The text of `kms-ref --help`."""

from kms_ref import __version__

HELP = """kms_ref %s — a pure-Python Tatum Key Management System (BTC, LTC, DOGE, BCH)

Usage: kms-ref <command> [options]

Wallets (the password comes from TATUM_KMS_PASSWORD or a hidden prompt; mnemonics and private
keys are only ever typed at a hidden prompt, or piped on standard input):
  generatewallet <chain>                     new mnemonic and xpub, not stored
  generatemanagedwallet <chain>              new mnemonic, stored; prints signatureId and xpub
  storemanagedwallet <chain>                 store a mnemonic you type
  storemanagedprivatekey <chain>             store a private key (WIF) you type
  generatemanagedprivatekeybatch <chain> <n> n stored keys, one JSON line each
  getmanagedwallet <signatureId>             the stored entry
  getprivatekey <signatureId> <i>            private key i (WIF)
  getaddress <signatureId> <i>               address i
  removewallet <signatureId>                 delete an entry
  export                                     the whole decrypted store
  convert --to native|tatum                  rewrite the file in kms_ref's or Tatum's format
  checkconfig                                paths and environment (secrets masked)
  report [<id>,<id>,...]                     wallet types and warnings, no secrets

Signing:
  daemon                                     sign and broadcast pending transactions
  sign [FILE|-] [--explain]                  sign one pending transaction offline

Trying it out:
  sandbox [--host H] [--port P] [--api-key K] [--state FILE]   a local Tatum-compatible API
  demo                                       the whole walkthrough against a private sandbox
  selftest                                   known answers of every primitive; exit 0 if all pass

Options:
  --path=FILE            wallet file (default ~/.tatumrc/wallet.dat)
  --testnet              testnet (mainnet otherwise)
  --envFile=FILE         .env file (default ~/.tatumrc/.env)
  --apiKey=KEY           Tatum API key (or TATUM_API_KEY); TATUM_API_URL picks the server
  --chain=BTC,LTC        daemon: chains to serve (default all four)
  --period=SECONDS       daemon: seconds between cycles (default 5)
  --externalUrl=URL      daemon: four-eye check URL (required on mainnet)
  --externalUrlMethod=GET|POST
  --runOnce              daemon: one cycle, then exit
  --wallet=ID[,ID]       daemon --runOnce: only these signature IDs
  --transactionIds=A,B   daemon --runOnce: only these pending transactions

Network (daemon): HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY are honoured (https:// through
CONNECT); TLS is always verified — SSL_CERT_FILE, SSL_CERT_DIR or KMS_REF_CA_FILE add a private
CA; plain http:// only to loopback and link-local hosts unless KMS_REF_ALLOW_HTTP=1;
KMS_REF_HTTP_TIMEOUT (seconds, default 30) bounds each request.
""" % __version__
