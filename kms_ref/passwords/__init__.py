"""Where the wallet password comes from (SPEC §3, §8): a vault, the environment, a file, a prompt.

    sources.py              which source, in order: --aws/--azure/--vgs, TATUM_KMS_PASSWORD,
                            TATUM_KMS_PASSWORD_FILE, the systemd credential, the prompt
    prompt.py               `ask_password` (TATUM_KMS_PASSWORD, else a hidden prompt) and
                            `ask_secret` (a mnemonic or key typed at a hidden prompt, or one line
                            of piped stdin)
    files.py                a private password file; systemd's $CREDENTIALS_DIRECTORY
    aws_sigv4.py            AWS Signature Version 4, the four tasks of AWS's documentation
    aws_credentials.py      AWS keys and region: tatum-kms's settings, then the SDKs' chain
                            (environment, shared file, container, IMDSv2)
    aws_secrets_manager.py  --aws: GetSecretValue
    azure_identity.py       an Entra ID token for Key Vault (service principal, workload or
                            managed identity)
    azure_key_vault.py      --azure: Get Secret
    vgs.py                  --vgs: reveal an alias
    vault_http.py           one JSON request through kms_ref.net, failures as SourceError
    errors.py               SourceError: one line naming the source and the reason
    core_dumps.py           `forbid_core_dumps`: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0, so that no
                            secret the process holds is ever written to a core file or read by
                            its neighbours

Layer: may import `net` and everything below it; never the daemon or the command line.
"""
