"""AWS Signature Version 4 (AWS General Reference, "Signing AWS API requests": "Create a signed
AWS API request", and the IAM User Guide's "Elements of an AWS API request signature").

kms_ref signs one request with it — Secrets Manager's `GetSecretValue` (`aws_secrets_manager.py`)
— but the signer is the general one and passes every case of AWS's Signature Version 4 test
suite (`vectors/aws_sigv4_testsuite.json`). The four tasks of the documentation are the four
parts of this file:

    Task 1: create a canonical request      canonical_request()
    Task 2: create a string to sign          string_to_sign()
    Task 3: calculate the signature          signing_key(), signature()
    Task 4: add the signature to the request authorization_header(), sign()

What may surprise: the path is normalised (RFC 3986 dot segments removed, repeated slashes
merged) and then URI-encoded once more — every service does this except S3, which kms_ref does
not call; query parameters are decoded and encoded again, then sorted by name and value; a
header that appears twice is signed as one header with its values joined by commas.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import urllib.parse
from typing import List, NamedTuple, Optional, Tuple

ALGORITHM = "AWS4-HMAC-SHA256"      # the only algorithm of SigV4 with HMAC-SHA256
TERMINATION = "aws4_request"        # the last element of every credential scope
# UriEncode: "URI encode every byte except the unreserved characters" (RFC 3986 §2.3).
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

Header = Tuple[str, str]


class Credentials(NamedTuple):
    """An access key (ID and secret) and, for temporary credentials, the session token."""
    access_key_id: str
    secret_access_key: str
    session_token: Optional[str] = None

    def __repr__(self) -> str:      # a stray log line never shows a secret
        return "Credentials(access_key_id=<redacted>, secret_access_key=<redacted>, " \
               "session_token=%s)" % ("<redacted>" if self.session_token else None)


class Signed(NamedTuple):
    """Every intermediate value of the four tasks, and the headers the request must carry."""
    canonical_request: str
    string_to_sign: str
    signature: str
    authorization: str
    headers: List[Header]           # the request's headers + X-Amz-Date (+ token) + Authorization


def uri_encode(text: str, encode_slash: bool = True) -> str:
    """UriEncode from the documentation: every UTF-8 byte that is not unreserved becomes %XY
    with upper-case hex digits; '/' too, except in a path."""
    out = []
    for byte in text.encode("utf-8"):
        if byte in UNRESERVED or (byte == ord("/") and not encode_slash):
            out.append(chr(byte))
        else:
            out.append("%%%02X" % byte)
    return "".join(out)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hmac_sha256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


# --- Task 1: create a canonical request --------------------------------------------------------

def normalized_path(path: str) -> str:
    """The absolute path with "." and ".." segments resolved (RFC 3986 §5.2.4) and empty
    segments ("//") dropped; a path that ended in a directory keeps its final "/"."""
    segments: List[str] = []
    parts = path.split("/")
    for segment in parts:
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = "/" if segments and parts[-1] in ("", ".", "..") else ""
    return "/" + "/".join(segments) + trailing


def canonical_uri(path: str, normalize: bool = True) -> str:
    """CanonicalURI: the URI-encoded path ("/" when empty). `path` is the path as the request
    line carries it; encoding it again is the documentation's "encode twice" for every service
    but S3 (whose signer passes normalize=False and an unencoded path)."""
    path = path or "/"
    return uri_encode(normalized_path(path) if normalize else path, encode_slash=False)


def canonical_query_string(query: str) -> str:
    """CanonicalQueryString: each name and value percent-decoded, then UriEncoded, sorted by
    name and then value (byte order), joined as name=value with '&'. A name without '=' has an
    empty value."""
    pairs = []
    for parameter in query.split("&"):
        if not parameter:
            continue
        name, _, value = parameter.partition("=")
        pairs.append((uri_encode(urllib.parse.unquote(name)),
                      uri_encode(urllib.parse.unquote(value))))
    return "&".join("%s=%s" % pair for pair in sorted(pairs))


def canonical_headers(headers: List[Header]) -> Tuple[str, str]:
    """(CanonicalHeaders, SignedHeaders): names in lower case, sorted; each value trimmed with
    inner runs of white space (folded lines included) turned into one space; the values of a
    repeated name joined by ',' in the order they came. Every header given is signed."""
    values: dict = {}
    for name, value in headers:
        values.setdefault(name.strip().lower(), []).append(" ".join(value.split()))
    names = sorted(values)
    text = "".join("%s:%s\n" % (name, ",".join(values[name])) for name in names)
    return text, ";".join(names)


def canonical_request(method: str, path: str, query: str, headers: List[Header], body: bytes,
                      normalize: bool = True) -> Tuple[str, str]:
    """Task 1. (CanonicalRequest, SignedHeaders):

        HTTPMethod \\n CanonicalURI \\n CanonicalQueryString \\n CanonicalHeaders \\n
        SignedHeaders \\n HexEncode(Hash(RequestPayload))
    """
    header_text, signed_headers = canonical_headers(headers)
    lines = [method.upper(), canonical_uri(path, normalize), canonical_query_string(query),
             header_text, signed_headers, sha256_hex(body)]
    return "\n".join(lines), signed_headers


# --- Task 2: create a string to sign -----------------------------------------------------------

def credential_scope(date: str, region: str, service: str) -> str:
    """date/region/service/aws4_request, the date as YYYYMMDD."""
    return "/".join((date, region, service, TERMINATION))


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    """Task 2: Algorithm \\n RequestDateTime \\n CredentialScope \\n HexEncode(Hash(CanonicalRequest))."""
    return "\n".join((ALGORITHM, amz_date, scope, sha256_hex(canonical.encode("utf-8"))))


# --- Task 3: calculate the signature -----------------------------------------------------------

def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + kSecret, Date), Region), Service), "aws4_request")."""
    k_date = hmac_sha256(("AWS4" + secret_access_key).encode("utf-8"), date)
    k_region = hmac_sha256(k_date, region)
    k_service = hmac_sha256(k_region, service)
    return hmac_sha256(k_service, TERMINATION)


def signature(key: bytes, to_sign: str) -> str:
    """Task 3: HexEncode(HMAC-SHA256(kSigning, StringToSign))."""
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


# --- Task 4: add the signature to the request --------------------------------------------------

def authorization_header(access_key_id: str, scope: str, signed_headers: str, sig: str) -> str:
    """Task 4, in the Authorization header:
    AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=a;b, Signature=hex."""
    return "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        ALGORITHM, access_key_id, scope, signed_headers, sig)


def amz_date(now: datetime.datetime) -> str:
    """The request time as X-Amz-Date wants it: ISO 8601 basic format in UTC, 20150830T123600Z."""
    return now.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def sign(method: str, path: str, query: str, headers: List[Header], body: bytes,
         credentials: Credentials, region: str, service: str, now: datetime.datetime,
         normalize: bool = True) -> Signed:
    """All four tasks for one request. `headers` must include Host; X-Amz-Date (from `now`) is
    added unless present, and X-Amz-Security-Token when the credentials carry a session token —
    both before Task 1, so both are signed."""
    request_time = amz_date(now)
    headers = list(headers)
    names = {name.lower() for name, _ in headers}
    if "host" not in names:
        raise ValueError("SigV4: the request has no Host header to sign")
    if "x-amz-date" not in names:
        headers.append(("X-Amz-Date", request_time))
    if credentials.session_token:
        headers.append(("X-Amz-Security-Token", credentials.session_token))
    canonical, signed_headers = canonical_request(method, path, query, headers, body, normalize)
    scope = credential_scope(request_time[:8], region, service)
    to_sign = string_to_sign(request_time, scope, canonical)
    sig = signature(signing_key(credentials.secret_access_key, request_time[:8], region, service),
                    to_sign)
    authorization = authorization_header(credentials.access_key_id, scope, signed_headers, sig)
    return Signed(canonical, to_sign, sig, authorization, headers + [("Authorization", authorization)])
