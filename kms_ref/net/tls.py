"""TLS for every https:// request (SPEC §9): certificates verified, always.

`tls_context()` is `ssl.create_default_context()` — certificate and host name checked against the
system's trust store, TLS 1.2 or newer — plus the private CAs an operator names:
- `SSL_CERT_FILE` (a PEM bundle) and `SSL_CERT_DIR` (a directory of hashed names, as
  `openssl rehash` makes them), the variables OpenSSL and most tools read. OpenSSL alone would
  use them *instead of* the system store; kms_ref loads the system store as well, so that naming
  a private CA never makes the public ones unknown.
- `KMS_REF_CA_FILE`: one more PEM bundle, for kms_ref only.
A file or directory that cannot be read is an error that names the variable, not a silent
fallback. There is no switch that turns verification off.

A context is built once per combination of these variables and shared: loading the system store
costs milliseconds, and a shared context lets TLS sessions be resumed.
"""

from __future__ import annotations

import os
import ssl
import threading

CA_FILE_ENV = "KMS_REF_CA_FILE"
VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", CA_FILE_ENV)

_contexts = {}
_lock = threading.Lock()


class TlsSettingError(ValueError):
    """SSL_CERT_FILE, SSL_CERT_DIR or KMS_REF_CA_FILE names something that cannot be loaded."""


def tls_context() -> ssl.SSLContext:
    """The verifying context for the current values of SSL_CERT_FILE, SSL_CERT_DIR and
    KMS_REF_CA_FILE; TlsSettingError when one of them cannot be loaded."""
    key = tuple(os.environ.get(name) or None for name in VARIABLES)
    with _lock:
        context = _contexts.get(key)
        if context is None:
            context = _contexts[key] = _build(*key)
        return context


def _build(cert_file, cert_dir, ca_file) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file or cert_dir:          # OpenSSL replaced the system store by them: add it back
        defaults = ssl.get_default_verify_paths()
        if defaults.openssl_cafile and os.path.isfile(defaults.openssl_cafile):
            context.load_verify_locations(cafile=defaults.openssl_cafile)
        if defaults.openssl_capath and os.path.isdir(defaults.openssl_capath):
            context.load_verify_locations(capath=defaults.openssl_capath)
    locations = [("SSL_CERT_FILE", cert_file, "cafile"), (CA_FILE_ENV, ca_file, "cafile")]
    locations += [("SSL_CERT_DIR", path, "capath") for path in (cert_dir or "").split(os.pathsep) if path]
    for variable, value, kind in locations:   # SSL_CERT_DIR may list several, as OpenSSL reads it
        if not value:
            continue
        if not (os.path.isdir(value) if kind == "capath" else os.path.isfile(value)):
            raise TlsSettingError("%s: %s is not a readable %s" % (
                variable, value, "directory" if kind == "capath" else "file"))
        try:
            context.load_verify_locations(**{kind: value})
        except (ssl.SSLError, OSError) as e:
            raise TlsSettingError("%s: cannot load certificates from %s (%s)" % (
                variable, value, getattr(e, "reason", None) or e)) from None
    return context
