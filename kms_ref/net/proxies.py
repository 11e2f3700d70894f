"""Which proxy a request goes through: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY (SPEC §9).

The variables mean what they mean to curl, axios (tatum-kms) and urllib, in either case (the
lower-case one wins when both are set, as urllib has it):
- `HTTPS_PROXY` for https:// URLs, `HTTP_PROXY` for http:// ones, `ALL_PROXY` for either when
  its own is unset. The value is a proxy URL, `http://[user:password@]host[:port]` (port 80 by
  default; a bare `host:port` means http://). kms_ref speaks plain HTTP to the proxy: an https://
  request goes through a `CONNECT` tunnel, so TLS runs end to end and the proxy sees only the
  target's name and port. `user:password` (percent-encoded in the URL) becomes a
  `Proxy-Authorization: Basic` header, sent to the proxy only.
- `NO_PROXY`: a comma list of host names, each also matching its subdomains (`example.com` and
  `.example.com` match `api.example.com`), optionally with a port (`example.com:8443`), IP
  addresses, or `*` for every host. kms_ref also takes CIDR ranges (`10.0.0.0/8`), as curl and Go
  do; the rest is `urllib.request.proxy_bypass_environment`, read with `getproxies_environment`.
Loopback and link-local hosts are always reached directly: a proxy would reach its own loopback,
or — worse — its own cloud metadata service and the credentials it hands out. So the only plain
http:// requests a proxy ever carries are those KMS_REF_ALLOW_HTTP=1 allowed (`plain_http`); the
proxy reads those whole, headers included, as does everyone else on their way.
"""

from __future__ import annotations

import base64
import ipaddress
import urllib.parse
from typing import NamedTuple, Optional

from kms_ref.net.plain_http import is_local_host


class ProxyError(ValueError):
    """A proxy variable kms_ref cannot use (another scheme than http://, no host, a bad port)."""


class Proxy(NamedTuple):
    host: str
    port: int
    authorization: Optional[str]   # the Proxy-Authorization header's value, or None
    shown: str                     # the proxy's URL without its credentials, for logs and errors

    def __repr__(self) -> str:
        return "Proxy(%s%s)" % (self.shown, ", with credentials" if self.authorization else "")


def _variable_name(scheme: str, proxies: dict) -> str:
    return "%s_PROXY" % (scheme if scheme in proxies else "all").upper()


def parse_proxy(value: str, variable: str) -> Proxy:
    """A proxy URL as the variables hold it; ProxyError (naming the variable, never the
    credentials) when kms_ref cannot use it."""
    text = value.strip()
    parts = urllib.parse.urlsplit(text if "://" in text else "http://" + text)
    if parts.scheme.lower() != "http":
        raise ProxyError("%s: only http:// proxies are supported (an https:// target still gets "
                         "end-to-end TLS through CONNECT), not %s://" % (variable, parts.scheme))
    try:
        port = parts.port or 80
    except ValueError:
        raise ProxyError("%s: the proxy's port is not a number from 1 to 65535" % variable) from None
    if not parts.hostname:
        raise ProxyError("%s: no proxy host in the value" % variable)
    authorization = None
    if parts.username is not None:
        credentials = "%s:%s" % (urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or ""))
        authorization = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")
    host = parts.hostname
    shown = "http://%s:%d" % ("[%s]" % host if ":" in host else host, port)
    return Proxy(host, port, authorization, shown)


def bypassed(host: str, port: int, no_proxy: Optional[str]) -> bool:
    """Does NO_PROXY (its value, or None) send requests to host:port around the proxy?"""
    if not no_proxy:
        return False
    import urllib.request   # see proxy_for
    if urllib.request.proxy_bypass_environment("%s:%d" % (host, port), {"no": no_proxy}):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    for entry in no_proxy.split(","):
        if "/" in entry:
            try:
                if address in ipaddress.ip_network(entry.strip(), strict=False):
                    return True
            except ValueError:
                continue
    return False


def proxy_for(scheme: str, host: str, port: int, environ_proxies: Optional[dict] = None) -> Optional[Proxy]:
    """The proxy a request to scheme://host:port goes through, or None for a direct connection.
    Reads the environment each time (`environ_proxies` is getproxies_environment()'s answer)."""
    if is_local_host(host):
        return None
    # Imported here, not at the top: urllib.request brings in http.client, email and ssl (about
    # 35 ms), and the daemon's start reads its settings (a loopback URL never asks) before it
    # unlocks the wallet, when that time cannot overlap anything.
    import urllib.request
    proxies = urllib.request.getproxies_environment() if environ_proxies is None else environ_proxies
    value = proxies.get(scheme) or proxies.get("all")
    if not value or bypassed(host, port, proxies.get("no")):
        return None
    return parse_proxy(value, _variable_name(scheme, proxies))


def describe_route(url: str) -> str:
    """How a request to `url` leaves the machine, for the daemon's start-up log: "directly" or
    "through proxy http://host:port (CONNECT tunnel)". ProxyError if the variable is unusable."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    proxy = proxy_for(scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80))
    if proxy is None:
        return "directly"
    return "through proxy %s%s%s" % (proxy.shown, " (CONNECT tunnel)" if scheme == "https" else "",
                                     ", with Proxy-Authorization" if proxy.authorization else "")
