"""The daemon's settings: flags and environment, checked before the first request (SPEC §5).

Everything that can be wrong is refused here, before the password is asked and before anything
goes over the network: TATUM_API_KEY set, --chain, --period > 0, --externalUrlMethod GET or
POST (any case; tatum-kms takes any other word as GET), the URLs, KMS_REF_HTTP_TIMEOUT. Mainnet
without --externalUrl exits 2, as tatum-kms's meow does for a missing required flag.

The URLs must also pass the network rules of SPEC §9 (`kms_ref.net`): plain http:// only to
loopback and link-local hosts unless KMS_REF_ALLOW_HTTP=1, proxy variables kms_ref can use, CA
settings that load — so that a daemon that would fail at its first request does not start.
"""

from __future__ import annotations

import os
import re
from typing import List, NamedTuple, Optional

from kms_ref.daemon.tatum_client import DEFAULT_URL
from kms_ref.hd.chains import SYMBOLS
from kms_ref.net.http_client import DEFAULT_TIMEOUT
from kms_ref.net.plain_http import check_url
from kms_ref.net.proxies import describe_route
from kms_ref.net.tls import tls_context

DEFAULT_CHAINS = ("BCH", "BTC", "LTC", "DOGE")   # tatum-kms's order, its four Bitcoin-family chains
DEFAULT_PERIOD = 5                               # seconds (tatum-kms: period default 5)
MAX_SIGNATURE_IDS = 25000                        # tatum-kms KMS_CONSTANTS.SIGNATURE_IDS, per chain
MAX_BACKOFF = 60.0                               # seconds between cycles while the API is down
TIMEOUT_ENV = "KMS_REF_HTTP_TIMEOUT"
EXIT_MISSING_FLAG, EXIT_UNREACHABLE = 2, 3       # 2: meow's "Missing required flag"; 3: see main
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")   # what a pending ID may look like here
API_KEY_MISSING = ("Required TATUM_API_KEY is not set. Please set it as env variable or pass it "
                   "as argument.")   # tatum-kms's text


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
        raise StartError("--externalUrlMethod must be GET or POST, not %r" % flags.get("externalUrlMethod"))
    chains = []
    for name in _comma_list(flags["chain"]) if flags.get("chain") is not None else DEFAULT_CHAINS:
        if name.upper() not in SYMBOLS:
            raise StartError("unsupported chain %r: the daemon serves %s" % (name, ", ".join(DEFAULT_CHAINS)))
        if name.upper() not in chains:
            chains.append(name.upper())
    if not chains:
        raise StartError("--chain names no chain")
    period = flags.get("period", DEFAULT_PERIOD)
    if not isinstance(period, (int, float)) or not period > 0:
        raise StartError("--period must be a number of seconds above 0")
    api_key = os.environ.get("TATUM_API_KEY")
    if not api_key:
        raise StartError(API_KEY_MISSING)
    api_url = (os.environ.get("TATUM_API_URL") or DEFAULT_URL).rstrip("/")
    if not re.match(r"^https?://[^/]", api_url):
        raise StartError("TATUM_API_URL must be an http:// or https:// URL")
    check_network({"TATUM_API_URL": api_url, "--externalUrl": external_url})
    try:
        timeout = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT)
    except ValueError:
        timeout = -1.0
    if not 0 < timeout < float("inf"):
        raise StartError("%s must be a number of seconds above 0" % TIMEOUT_ENV)
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
                    tls_context()
    except ValueError as e:   # PlainHttpRefused, ProxyError, TlsSettingError, a bad port
        raise StartError(str(e)) from None


def routes(settings: Settings) -> str:
    """How the daemon's requests leave the machine, for the start-up log (no credentials)."""
    text = "Tatum API %s" % describe_route(settings.api_url)
    if settings.external_url:
        text += "; four-eye check %s" % describe_route(settings.external_url)
    return text
