"""AWS credentials and region for `--aws`: tatum-kms's settings, then the AWS SDKs' default chain.

The order (the first provider that is configured is used; one that is configured but fails is
an error, as in the SDKs — kms_ref never falls through to another identity):

1. tatum-kms's `TATUM_KMS_AWS_ACCESS_KEY_ID` + `TATUM_KMS_AWS_SECRET_ACCESS_KEY`.
2. The environment: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`).
3. The shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`),
   profile `AWS_PROFILE` (default `default`): `aws_access_key_id`, `aws_secret_access_key`,
   `aws_session_token`. Only static keys: kms_ref does not run SSO, `credential_process` or
   `role_arn` profiles, nor web identity (STS), and says so rather than guess.
4. Container credentials (ECS, EKS Pod Identity): `GET http://169.254.170.2` +
   `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, or `AWS_CONTAINER_CREDENTIALS_FULL_URI` with
   `Authorization:` from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `_TOKEN`.
5. The EC2 instance role through IMDSv2 (unless `AWS_EC2_METADATA_DISABLED=true`): `PUT
   /latest/api/token` (a session token valid 6 hours), `GET
   /latest/meta-data/iam/security-credentials/` (the role's name), then `GET …/{role}` (its
   keys). The endpoint is `http://169.254.169.254`, or `AWS_EC2_METADATA_SERVICE_ENDPOINT` as
   in the SDKs (this is how tests reach a stand-in). IMDSv1 is never used.

This is the order of the AWS SDKs (the SDKs and Tools Reference Guide, "Understand the
credential provider chain": environment, shared files, container, instance metadata), with
tatum-kms's own settings first since they name kms_ref's secret explicitly. The metadata
services get `AWS_METADATA_SERVICE_TIMEOUT` seconds (default 1, as in the SDKs): on a host
that is not in AWS they do not answer, and `--aws` should say so quickly.

Region: `TATUM_KMS_AWS_REGION`, `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`
in the shared config file (`AWS_CONFIG_FILE`, default `~/.aws/config`).
"""

from __future__ import annotations

import configparser
import os
import urllib.parse
from typing import Callable, List, NamedTuple, Optional, Tuple

from kms_ref.passwords.aws_sigv4 import Credentials
from kms_ref.passwords.errors import SourceError
from kms_ref.passwords.vault_http import ask_json, ask_text, checked_url

SOURCE = "AWS Secrets Manager"
ECS_HOST = "http://169.254.170.2"                    # ECS task metadata endpoint (RELATIVE_URI)
IMDS_ENDPOINT = "http://169.254.169.254"             # EC2 instance metadata service
IMDS_TOKEN_TTL = "21600"                             # seconds: the longest IMDSv2 allows
IMDS_ROLES = "/latest/meta-data/iam/security-credentials/"
DEFAULT_METADATA_TIMEOUT = 1.0                       # seconds, as the SDKs


class Provider(NamedTuple):
    """The first provider of the chain that is configured: `where` says which (for checkconfig,
    no secrets), `fetch()` gets the keys (for the metadata services, over the network)."""
    where: str
    fetch: Callable[[], Credentials]


def _pair(environ, key_id: str, secret: str, token: Optional[str] = None) -> Optional[Credentials]:
    """Static keys from two (or three) variables; one without the other is an error."""
    akid, sak = environ.get(key_id), environ.get(secret)
    if not akid and not sak:
        return None
    if not akid or not sak:
        raise SourceError(SOURCE, "%s is set but %s is not" % ((key_id, secret) if akid else (secret, key_id)))
    return Credentials(akid, sak, environ.get(token) if token else None)


def _home_file(environ, variable: str, default: str) -> str:
    return os.path.expanduser(environ.get(variable) or default)


def _profile(environ) -> str:
    return environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"


def _shared_credentials(environ) -> Optional[Tuple[str, Credentials]]:
    path = _home_file(environ, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    profile = _profile(environ)
    parser = configparser.RawConfigParser()
    try:
        if not parser.read(path, encoding="utf-8"):
            return None
    except (configparser.Error, UnicodeDecodeError):
        raise SourceError(SOURCE, "the shared credentials file %s cannot be parsed" % path) from None
    if not parser.has_section(profile):
        return None
    section = dict(parser.items(profile))
    akid, sak = section.get("aws_access_key_id"), section.get("aws_secret_access_key")
    if not (akid and sak):
        raise SourceError(SOURCE, "profile [%s] of %s lacks aws_access_key_id or aws_secret_access_key "
                          "(kms_ref reads static keys only)" % (profile, path))
    keys = Credentials(akid, sak, section.get("aws_session_token") or None)
    return "shared credentials file %s [%s]" % (path, profile), keys


def region_from(environ=os.environ) -> Tuple[str, str]:
    """(region, the setting it came from)."""
    for variable in ("TATUM_KMS_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(variable):
            return environ[variable], variable
    path = _home_file(environ, "AWS_CONFIG_FILE", "~/.aws/config")
    profile = _profile(environ)
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        raise SourceError(SOURCE, "the shared config file %s cannot be parsed" % path) from None
    section = "default" if profile == "default" else "profile " + profile
    if parser.has_option(section, "region"):
        return parser.get(section, "region"), "%s [%s]" % (path, section)
    raise SourceError(SOURCE, "no region: set TATUM_KMS_AWS_REGION or AWS_REGION")


def metadata_timeout(environ) -> float:
    try:
        timeout = float(environ.get("AWS_METADATA_SERVICE_TIMEOUT") or DEFAULT_METADATA_TIMEOUT)
    except ValueError:
        timeout = -1.0
    if not 0 < timeout < float("inf"):
        raise SourceError(SOURCE, "AWS_METADATA_SERVICE_TIMEOUT must be a number of seconds above 0")
    return timeout


def _keys_from(data: dict, where: str) -> Credentials:
    """{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}: what both the container and
    the instance metadata services answer."""
    akid, sak, token = data.get("AccessKeyId"), data.get("SecretAccessKey"), data.get("Token")
    if not (isinstance(akid, str) and akid and isinstance(sak, str) and sak):
        raise SourceError(SOURCE, "%s answered without AccessKeyId/SecretAccessKey" % where)
    return Credentials(akid, sak, token if isinstance(token, str) and token else None)


def container_provider(environ) -> Optional[Provider]:
    relative = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    full = environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if relative:
        url = ECS_HOST + relative
    elif full:
        url = checked_url(SOURCE, full, "AWS_CONTAINER_CREDENTIALS_FULL_URI")
    else:
        return None

    def fetch() -> Credentials:
        headers = {"Accept": "application/json"}
        token_file = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        token = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        if token_file:
            try:
                with open(token_file, encoding="utf-8") as f:
                    token = f.read().strip()
            except OSError as e:
                raise SourceError(SOURCE, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %s"
                                  % (e.strerror or type(e).__name__)) from None
        if token and not relative:
            headers["Authorization"] = token
        data = ask_json(SOURCE, "GET", url, headers=headers, timeout=metadata_timeout(environ),
                        secrets=[token])
        return _keys_from(data, "the container credentials service")

    return Provider("container credentials %s" % urllib.parse.urlsplit(url)._replace(query="").geturl(), fetch)


def imds_endpoint(environ) -> str:
    endpoint = environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
    if endpoint:
        return checked_url(SOURCE, endpoint, "AWS_EC2_METADATA_SERVICE_ENDPOINT").rstrip("/")
    if (environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") or "").lower() == "ipv6":
        return "http://[fd00:ec2::254]"
    return IMDS_ENDPOINT


def instance_provider(environ) -> Optional[Provider]:
    if (environ.get("AWS_EC2_METADATA_DISABLED") or "").lower() == "true":
        return None
    endpoint = imds_endpoint(environ)

    def fetch() -> Credentials:
        timeout = metadata_timeout(environ)
        where = "the EC2 instance metadata service"
        token = ask_text(SOURCE, "PUT", endpoint + "/latest/api/token",
                         {"X-aws-ec2-metadata-token-ttl-seconds": IMDS_TOKEN_TTL}, timeout)
        headers = {"X-aws-ec2-metadata-token": token}
        roles = ask_text(SOURCE, "GET", endpoint + IMDS_ROLES, headers, timeout, [token]).split()
        if not roles:
            raise SourceError(SOURCE, "%s lists no instance role" % where)
        role = urllib.parse.quote(roles[0], safe="")
        data = ask_json(SOURCE, "GET", endpoint + IMDS_ROLES + role, headers=headers,
                        timeout=timeout, secrets=[token])
        return _keys_from(data, where)

    return Provider("EC2 instance role (IMDSv2 at %s)" % endpoint, fetch)


def credential_provider(environ=os.environ) -> Provider:
    """The first configured provider of the chain; no request is made until `fetch()`."""
    for key_id, secret, token in (
            ("TATUM_KMS_AWS_ACCESS_KEY_ID", "TATUM_KMS_AWS_SECRET_ACCESS_KEY", None),
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")):
        keys = _pair(environ, key_id, secret, token)
        if keys:
            where = "%s and %s%s (********)" % (key_id, secret, " and %s" % token
                                                if keys.session_token else "")
            return Provider(where, lambda keys=keys: keys)
    shared = _shared_credentials(environ)
    if shared:
        return Provider(shared[0], lambda keys=shared[1]: keys)
    for provider in (container_provider(environ), instance_provider(environ)):
        if provider:
            return Provider(provider.where, _naming(provider))
    raise SourceError(SOURCE, "no AWS credentials: set TATUM_KMS_AWS_ACCESS_KEY_ID and "
                      "TATUM_KMS_AWS_SECRET_ACCESS_KEY, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


def _naming(provider: Provider) -> Callable[[], Credentials]:
    """The provider's fetch, its failures prefixed with which provider failed."""
    def fetch() -> Credentials:
        try:
            return provider.fetch()
        except SourceError as e:
            raise SourceError(SOURCE, "no credentials from the %s: %s" % (provider.where, e.reason)) from None
    return fetch


def credential_rows(environ=os.environ) -> List[Tuple[str, str]]:
    """What checkconfig shows of the chain: which provider, never a key."""
    try:
        return [("AWS credentials", credential_provider(environ).where)]
    except SourceError as e:
        return [("AWS credentials", e.reason)]
