"""How long one outbound request may take (SPEC §9): a deadline from connect to the last byte,
enforced by `kms_ref.net.http_client`.

The numbers live apart from the client so that code which only checks a setting — the daemon's
flags and environment, read before its wallet is unlocked — does not import the HTTP machinery
for them (`http.client` and what it pulls in, about 40 ms of a daemon's start).
"""

DEFAULT_TIMEOUT = 30.0                  # seconds, per request, from connect to the last byte
TIMEOUT_ENV = "KMS_REF_HTTP_TIMEOUT"    # the variable that sets it for the daemon and the vaults
