"""Which source gives the wallet password, in this order (the first that applies is used):

1. `--aws`, `--azure` or `--vgs` (at most one): AWS Secrets Manager, Azure Key Vault, VGS. A
   flag is the most explicit choice there is, typed for this very command; as in tatum-kms, with
   a flag nothing else is read (not even TATUM_KMS_PASSWORD).
2. `TATUM_KMS_PASSWORD`, when set and not empty: tatum-kms's variable, set for this process
   (or by a .env file), so it overrides the password files that a host configures once.
3. `TATUM_KMS_PASSWORD_FILE`: the first line of a private file (files.py).
4. The systemd credential `$CREDENTIALS_DIRECTORY/tatum-kms-password` (files.py), when the
   unit loads one: the unit's own configuration, so anything set for the process goes first.
5. A hidden prompt (or one line of standard input when it is not a terminal): nothing is
   configured, so ask the person at the keyboard.

A source that is chosen and fails is an error naming it (`SourceError`); kms_ref never falls
back to the next one, which would quietly use a password nobody meant.

Choosing reads only flags and the environment; nothing is fetched until `read()`. Each source
also describes itself for `checkconfig`, with every secret masked. A vault's module is imported
only when its flag chooses it: the vaults bring in the HTTP client (http.client, email, ssl:
about 40 ms at every start) that the other sources never use.
"""

from __future__ import annotations

import os
from typing import Callable, List, NamedTuple, Tuple

from kms_ref.passwords import files, prompt

VAULT_FLAGS = {
    "aws": "AWS Secrets Manager (--aws)",
    "azure": "Azure Key Vault (--azure)",
    "vgs": "VGS (--vgs)",
}


def _vault(flag: str):
    """The module of the vault that `flag` names, imported now (see the module docstring)."""
    if flag == "aws":
        from kms_ref.passwords import aws_secrets_manager as module
    elif flag == "azure":
        from kms_ref.passwords import azure_key_vault as module
    else:
        from kms_ref.passwords import vgs as module
    return module


class Source(NamedTuple):
    name: str                                          # for checkconfig and messages
    read_password: Callable[[bool], str]               # confirm_new → the password
    describe: Callable[[], List[Tuple[str, str]]]      # checkconfig's rows, secrets masked

    def read(self, confirm_new: bool = False) -> str:
        return self.read_password(confirm_new)


def choose(flags: dict, environ=os.environ) -> Source:
    """The source the flags and the environment select (see the module docstring)."""
    chosen = [flag for flag in VAULT_FLAGS if flags.get(flag)]
    if len(chosen) > 1:
        raise ValueError("choose one password source: %s" % " or ".join("--" + f for f in chosen))
    if chosen:
        name, module = VAULT_FLAGS[chosen[0]], _vault(chosen[0])
        return Source(name, lambda confirm_new: module.read_password(environ),
                      lambda: module.describe(environ))
    if environ.get(prompt.PASSWORD_ENV):
        return Source(prompt.PASSWORD_ENV, lambda confirm_new: environ[prompt.PASSWORD_ENV],
                      lambda: [])
    path = environ.get(files.FILE_ENV)
    if path:
        return Source("%s (%s)" % (files.FILE_ENV, path),
                      lambda confirm_new: files.read_password_file(path),
                      lambda: [(files.FILE_ENV, path)])
    credential = files.credential_path(environ)
    if credential:
        return Source("systemd credential (%s)" % credential,
                      lambda confirm_new: files.read_credential(credential),
                      lambda: [("Credential file", credential)])
    return Source("prompt", prompt.ask_password, lambda: [])
