"""The daemon's settings: flags and environment, checked before the first request (SPEC §5).

Everything that can be wrong is refused here, before the password is asked and before anything
goes over the network: TATUM_API_KEY set, --chain, 0 < --period ≤ a day, --externalUrlMethod GET or
POST (any case; tatum-kms takes any other word as GET), the URLs, KMS_REF_HTTP_TIMEOUT. Mainnet
without --externalUrl exits 2, as tatum-kms's meow does for a missing required flag.

The URLs must also pass the network rules of SPEC §9 (`kms_ref.net`): plain http:// only to
loopback and link-local hosts unless KMS_REF_ALLOW_HTTP=1, proxy variables kms_ref can use, CA
settings that load — so that a daemon that would fail at its first request does not start.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from typing import List, NamedTuple, Optional

from kms_ref.hd.chains import SYMBOLS
from kms_ref.hd.masking import shown
from kms_ref.net.plain_http import check_url
from kms_ref.net.proxies import describe_route
from kms_ref.net.timeouts import DEFAULT_TIMEOUT, TIMEOUT_ENV

DEFAULT_URL = "https://api.tatum.io"   # tatum-kms: process.env.TATUM_API_URL || "https://api.tatum.io"
DEFAULT_CHAINS = ("BCH", "BTC", "LTC", "DOGE")   # tatum-kms's order, its four Bitcoin-family chains
DEFAULT_PERIOD = 5                               # seconds (tatum-kms: period default 5)
MAX_SIGNATURE_IDS = 25000                        # tatum-kms KMS_CONSTANTS.SIGNATURE_IDS, per chain
MAX_BACKOFF = 60.0                               # seconds between cycles while the API is down
EXIT_MISSING_FLAG, EXIT_UNREACHABLE = 2, 3       # 2: meow's "Missing required flag"; 3: see main
MAX_PERIOD = 86400                               # seconds: a day between cycles at most
MAX_TIMEOUT = 3600                               # seconds for one request, at most
# A pending transaction's ID as Tatum makes them (24 hex digits; kms_ref's sandbox the same; UUIDs
# elsewhere). It is put into URL paths — /v3/kms/{id}, {externalUrl}/{id} — so nothing that a
# URL reads as structure may pass: no "/", "?", "#", "%", and not "." or "..", which name the
# parent path (`is_pending_id`).
ID_PATTERN = re.compile(r"(?!\.\.?\Z)[A-Za-z0-9_.:-]{1,128}")      # whole string: fullmatch
API_KEY_MISSING = ("Required TATUM_API_KEY is not set. Please set it as env variable or pass it "
                   "as argument.")   # tatum-kms's text


def public_url(url: str) -> str:
    """A URL as a log line may show it: without the user:password@ it may carry."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


def is_pending_id(value) -> bool:
    """Whether `value` may name a pending transaction in a URL path (see ID_PATTERN)."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


class StartError(ValueError):
    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


class Settings(NamedTuple):
    path: str
    testnet: bool
    chains: tuple
    period: float
    external_url: Optional[str]
    external_post: bool
    run_once: bool
    wallet_ids: Optional[list]
    transaction_ids: Optional[list]
    api_url: str
    api_key: str
    timeout: float


def _comma_list(value) -> List[str]:
    return [item.strip() for item in str(value).split(",") if item.strip()]


def settings_from(ctx) -> Settings:
    """The daemon's settings from the command line and environment; StartError if any is wrong."""
    flags = ctx.flags
    external_url = flags.get("externalUrl") or None
    if not ctx.testnet and not external_url:
        raise StartError("Missing required flag --externalUrl: on mainnet the daemon signs only what "
                         "an external system approves (four-eye principle); use --testnet for testnet",
                         EXIT_MISSING_FLAG)
    if external_url and not re.match(r"^https?://[^/]", external_url):
        raise StartError("--externalUrl must be an http:// or https:// URL")
    method = str(flags.get("externalUrlMethod") or "GET").upper()
    if method not in ("GET", "POST"):
        raise StartError("--externalUrlMethod must be GET or POST, not %s" % shown(flags.get("externalUrlMethod")))
    chains = []
    for name in _comma_list(flags["chain"]) if flags.get("chain") is not None else DEFAULT_CHAINS:
        if name.upper() not in SYMBOLS:
            raise StartError("unsupported chain %s: the daemon serves %s" % (shown(name), ", ".join(DEFAULT_CHAINS)))
        if name.upper() not in chains:
            chains.append(name.upper())
    if not chains:
        raise StartError("--chain names no chain")
    period = flags.get("period", DEFAULT_PERIOD)
    if isinstance(period, bool) or not isinstance(period, (int, float)) or not 0 < period <= MAX_PERIOD:
        raise StartError("--period must be a number of seconds above 0 and at most %d" % MAX_PERIOD)
    api_key = os.environ.get("TATUM_API_KEY")
    if not api_key:
        raise StartError(API_KEY_MISSING)
    api_url = (os.environ.get("TATUM_API_URL") or DEFAULT_URL).rstrip("/")
    if not re.match(r"^https?://[^/]", api_url):
        raise StartError("TATUM_API_URL must be an http:// or https:// URL")
    check_network({"TATUM_API_URL": api_url, "--externalUrl": external_url})
    text = os.environ.get(TIMEOUT_ENV) or str(DEFAULT_TIMEOUT)
    timeout = float(text) if re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,6})?", text) else -1.0   # ASCII, no "1e308"
    if not 0 < timeout <= MAX_TIMEOUT:
        raise StartError("%s must be a number of seconds above 0 and at most %d" % (TIMEOUT_ENV, MAX_TIMEOUT))
    wallet_ids = _comma_list(flags["wallet"]) if flags.get("wallet") else None
    transaction_ids = _comma_list(flags["transactionIds"]) if flags.get("transactionIds") else None
    return Settings(ctx.path, ctx.testnet, tuple(chains), period, external_url and external_url.rstrip("/"),
                    method == "POST", bool(flags.get("runOnce")), wallet_ids, transaction_ids,
                    api_url, api_key, timeout)


def check_network(urls: dict) -> None:
    """StartError unless every URL ({setting name: URL or None}) may be reached under the rules
    of SPEC §9: plain http:// only to loopback and link-local hosts (or KMS_REF_ALLOW_HTTP=1),
    usable proxy variables, loadable CA settings for an https:// URL."""
    try:
        for what, url in urls.items():
            if url:
                check_url(url, what)
                describe_route(url)
                if url.lower().startswith("https:"):
                    from kms_ref.net.tls import tls_context   # ssl: imported when a URL needs it
                    tls_context()
    except ValueError as e:   # PlainHttpRefused, ProxyError, TlsSettingError, a bad port
        raise StartError(str(e)) from None


def routes(settings: Settings) -> str:
    """How the daemon's requests leave the machine, for the start-up log (no credentials)."""
    text = "Tatum API %s" % describe_route(settings.api_url)
    if settings.external_url:
        text += "; four-eye check %s" % describe_route(settings.external_url)
    return text
