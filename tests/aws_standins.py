"""Stand-ins for AWS Secrets Manager, the EC2 instance metadata service (IMDSv2) and the ECS
container credentials endpoint — each checks what the real service checks.

Secrets Manager recomputes the SigV4 signature of every request it receives, from the headers
named in SignedHeaders and the secret key it knows for the access key ID: with its own minimal
computation below (written from the AWS documentation for this one request shape, POST / with
no query; it shares no code with kms_ref), and also with botocore's `SigV4Auth` when botocore
is importable. A signature that does not match is answered as AWS does: 403
InvalidSignatureException.
"""

import datetime
import hashlib
import hmac
import importlib
import json
import re
import secrets

from tests.standins import Reply

AUTHORIZATION = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                           r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def check_sigv4(method, path, headers, body, keys, service, tokens=None, max_skew=None):
    """None when the request's SigV4 signature is right; else what is wrong. `headers` maps
    names (any case) to values; `keys` access key ID → secret key; `tokens` access key ID →
    the session token that must be signed with it; `max_skew` (seconds) how far X-Amz-Date may
    be from now (AWS allows 15 minutes)."""
    headers = {k.lower(): v for k, v in headers.items()}
    match = AUTHORIZATION.match(headers.get("authorization", ""))
    if not match:
        return "no SigV4 Authorization header"
    akid, date, region, scope_service, signed_names, signature = match.groups()
    if akid not in keys:
        return "unknown access key"
    if scope_service != service:
        return "credential scope names service %r" % scope_service
    names = signed_names.split(";")
    if names != sorted(names) or not {"host", "x-amz-date"} <= set(names):
        return "SignedHeaders must be sorted and include host and x-amz-date"
    if not headers.get("x-amz-date", "").startswith(date):
        return "X-Amz-Date is not the scope's date"
    amz_date = headers["x-amz-date"]
    if tokens is not None and tokens.get(akid) != headers.get("x-amz-security-token"):
        return "the session token is missing or wrong"
    if "x-amz-security-token" in headers and "x-amz-security-token" not in names:
        return "the session token is not signed"
    if path != "/" or any(name not in headers for name in names):
        return "unexpected path or a signed header that was not sent"
    canonical = "\n".join([method, "/", ""]
                          + ["%s:%s" % (n, " ".join(headers[n].split())) for n in names]
                          + ["", signed_names, hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + keys[akid]).encode("utf-8"), date), region), service),
                "aws4_request")
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "signature mismatch (independent computation)"
    botocore = _botocore_signature(method, headers, names, body, akid, keys[akid],
                                   headers.get("x-amz-security-token"), region, service, amz_date)
    if botocore is not None and botocore != signature:
        return "signature mismatch (botocore)"
    if max_skew is not None:
        sent = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        if abs((datetime.datetime.now(datetime.timezone.utc) - sent).total_seconds()) > max_skew:
            return "request time too skewed"
    return None


def _botocore_signature(method, headers, names, body, akid, secret, token, region, service, amz_date):
    """botocore's SigV4 over the same signed headers, when botocore is importable; else None."""
    try:
        auth = importlib.import_module("botocore.auth")
        awsrequest = importlib.import_module("botocore.awsrequest")
        credentials = importlib.import_module("botocore.credentials")
    except ImportError:
        return None
    request = awsrequest.AWSRequest(method=method, url="https://%s/" % headers["host"], data=body,
                                    headers={name: headers[name] for name in names})
    request.context["timestamp"] = amz_date
    signer = auth.SigV4Auth(credentials.Credentials(akid, secret, token), service, region)
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


def botocore_available():
    try:
        importlib.import_module("botocore.auth")
        return True
    except ImportError:
        return False


def _aws_error(status, kind, message):
    return Reply(status, {"__type": kind, "message": message}, "application/x-amz-json-1.1")


class SecretsManager:
    """GetSecretValue over `secret_strings` (name → SecretString), for the keys it knows."""

    def __init__(self, secret_strings, keys, tokens=None):
        self.secret_strings = secret_strings
        self.keys = keys                    # access key ID → secret access key
        self.tokens = tokens or {}          # access key ID → session token it must carry

    def __call__(self, call):
        if call.method != "POST" or call.headers.get("x-amz-target") != "secretsmanager.GetSecretValue" \
                or call.headers.get("content-type") != "application/x-amz-json-1.1":
            return _aws_error(400, "UnknownOperationException", "not a GetSecretValue call")
        problem = check_sigv4(call.method, call.path, call.headers, call.body, self.keys,
                              "secretsmanager", self.tokens, max_skew=15 * 60)
        if problem:
            return _aws_error(403, "InvalidSignatureException", "The request signature we calculated "
                              "does not match the signature you provided (%s)." % problem)
        name = json.loads(call.body)["SecretId"]
        if name not in self.secret_strings:
            return _aws_error(400, "ResourceNotFoundException",
                              "Secrets Manager can't find the specified secret.")
        return Reply(200, {"ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:%s-AbCdEf" % name,
                           "Name": name, "VersionId": "v1", "SecretString": self.secret_strings[name],
                           "VersionStages": ["AWSCURRENT"], "CreatedDate": 1700000000.0},
                     "application/x-amz-json-1.1")


def temporary_keys():
    """A fresh (access key ID, secret access key, session token) as the metadata services hand out."""
    return ("ASIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30), secrets.token_urlsafe(90))


def _credentials_json(keys):
    akid, secret, token = keys
    return {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": akid, "SecretAccessKey": secret,
            "Token": token, "Expiration": "2999-01-01T00:00:00Z", "LastUpdated": "2024-01-01T00:00:00Z"}


class InstanceMetadata:
    """IMDSv2: PUT /latest/api/token (with the TTL header) → a token; every GET must carry it."""
    ROLES = "/latest/meta-data/iam/security-credentials/"

    def __init__(self, role, keys):
        self.role, self.keys = role, keys
        self.token = secrets.token_urlsafe(40)

    def __call__(self, call):
        if call.method == "PUT" and call.path == "/latest/api/token":
            if not call.headers.get("x-aws-ec2-metadata-token-ttl-seconds", "").isdigit():
                return Reply(400, "missing TTL", "text/plain")
            return Reply(200, self.token, "text/plain")
        if call.method != "GET" or call.headers.get("x-aws-ec2-metadata-token") != self.token:
            return Reply(401, "", "text/plain")           # IMDSv2 only: no token, no answer
        if call.path == self.ROLES:
            return Reply(200, self.role, "text/plain")
        if call.path == self.ROLES + self.role:
            return Reply(200, _credentials_json(self.keys))
        return Reply(404, "not found", "text/plain")


class ContainerCredentials:
    """The ECS/EKS credentials endpoint: GET {path} (with Authorization when a token is set)."""

    def __init__(self, path, keys, authorization=None):
        self.path, self.keys, self.authorization = path, keys, authorization

    def __call__(self, call):
        if call.path != self.path:
            return Reply(404, {"message": "not found"})
        if self.authorization and call.headers.get("authorization") != self.authorization:
            return Reply(401, {"message": "bad authorization token"})
        return Reply(200, _credentials_json(self.keys))
