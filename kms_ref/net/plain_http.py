"""Plain http:// only to this machine and its cloud host (SPEC §9; the hardening issue, §3).

Over plain HTTP the API key, a vault credential and every pending transaction can be read and
changed by anyone on the path. So kms_ref sends plain http:// only to hosts a packet does not
leave the machine (or its hypervisor) to reach:
- loopback — 127.0.0.0/8, ::1 and the name `localhost`: the sandbox, a local approval service;
- link-local — 169.254.0.0/16 and fe80::/10, and AWS's IPv6 metadata address fd00:ec2::254: the
  cloud metadata services that hand out instance credentials are plain HTTP by design (AWS IMDS
  169.254.169.254, ECS task credentials 169.254.170.2, Azure IMDS 169.254.169.254).
Every other http:// URL is refused unless `KMS_REF_ALLOW_HTTP=1` allows it (for a network where
something else protects the traffic, e.g. a TLS-terminating sidecar). https:// is always fine.

Host names other than `localhost` are not resolved to decide: what a name resolves to can
change between the check and the connection. The daemon checks its URLs at start, before it asks
for the password; `exchange` checks every request again, so the password sources get the rule too.
"""

from __future__ import annotations

import ipaddress
import os
import urllib.parse

ALLOW_HTTP_ENV = "KMS_REF_ALLOW_HTTP"
LINK_LOCAL_EXTRA = (ipaddress.ip_address("fd00:ec2::254"),)   # AWS IMDS over IPv6 (Nitro)


class PlainHttpRefused(ValueError):
    """A plain http:// URL to a host that is neither loopback nor link-local."""


def http_allowed() -> bool:
    """KMS_REF_ALLOW_HTTP=1 (or true/yes): plain http:// to any host."""
    return os.environ.get(ALLOW_HTTP_ENV, "").strip().lower() in ("1", "true", "yes")


def is_local_host(host: str) -> bool:
    """Is `host` (a URL's hostname, without brackets) loopback or link-local?"""
    host = (host or "").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])   # fe80::1%eth0: drop the zone
    except ValueError:
        return False                                          # a name: not resolved, see above
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_link_local or address in LINK_LOCAL_EXTRA


def check_url(url: str, what: str = "URL") -> None:
    """Raise PlainHttpRefused for an http:// `url` that the rule above does not allow. `what`
    names the setting in the message (e.g. "TATUM_API_URL"); the message holds the host only,
    never the rest of the URL, which may carry credentials."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "http" or is_local_host(parts.hostname or "") or http_allowed():
        return
    raise PlainHttpRefused(
        "%s: refusing plain http:// to %s — only loopback and link-local hosts are reached without "
        "TLS; use https://, or set %s=1 to allow it" % (what, parts.hostname or "an empty host", ALLOW_HTTP_ENV))
