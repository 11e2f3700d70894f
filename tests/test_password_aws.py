"""`--aws`: the wallet password from AWS Secrets Manager, through the real command line.

The stand-in Secrets Manager (tests/aws_standins.py) recomputes the SigV4 signature of every
request; the stand-in metadata services (IMDSv2, ECS) hand out temporary keys that it then
expects, session token included. Tests reach them with the standard variables:
AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL, AWS_EC2_METADATA_SERVICE_ENDPOINT,
AWS_CONTAINER_CREDENTIALS_FULL_URI.
"""

import json
import os

import pytest

from tests import aws_standins
from tests.aws_standins import ContainerCredentials, InstanceMetadata, SecretsManager
from tests.cli_helpers import PASSWORD
from tests.password_helpers import (assert_source_failure, file_bytes, make_wallet, run_kms)
from tests.standins import Reply, StandIn, closed_port_url

SOURCE = "AWS Secrets Manager"
AKID, SECRET_KEY = "AKIAKMSREFTEST000001", "kms/ref+secret/access/key/0000000000000"
NAME = "prod/tatum-kms"


@pytest.fixture
def wallet(tmp_path):
    return make_wallet(tmp_path)


def tatum_settings(url, **extra):
    """tatum-kms's own variables, and the endpoint override."""
    env = {"TATUM_KMS_AWS_REGION": "eu-west-1", "TATUM_KMS_AWS_ACCESS_KEY_ID": AKID,
           "TATUM_KMS_AWS_SECRET_ACCESS_KEY": SECRET_KEY, "TATUM_KMS_AWS_SECRET_NAME": NAME,
           "TATUM_KMS_AWS_SECRET_KEY": "walletPassword", "AWS_ENDPOINT_URL_SECRETS_MANAGER": url}
    env.update(extra)
    return env


def secret_json(password=PASSWORD):
    return json.dumps({"walletPassword": password, "other": "x"})


def test_tatum_settings_flag_after_the_command(tmp_path, wallet):
    with StandIn(SecretsManager({NAME: secret_json()}, {AKID: SECRET_KEY})) as aws:
        r = run_kms(tmp_path, "--path", wallet.path, "getaddress", wallet.sig_id, "0", "--aws",
                    env=tatum_settings(aws.url))
        assert r.code == 0, r.err
        assert r.json() == {"address": wallet.address}
        [call] = aws.calls
        assert json.loads(call.body) == {"SecretId": NAME}
        assert call.headers["authorization"].startswith(
            "AWS4-HMAC-SHA256 Credential=%s/" % AKID) and "/eu-west-1/secretsmanager/aws4_request" \
            in call.headers["authorization"]
        assert "x-amz-security-token" not in call.headers
        assert SECRET_KEY not in r.out + r.err and PASSWORD not in r.err


def test_standard_variables_with_session_token_flag_before_the_command(tmp_path, wallet):
    """AWS_ACCESS_KEY_ID/…/AWS_SESSION_TOKEN, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL; no
    TATUM_KMS_AWS_SECRET_KEY: the whole SecretString is the password."""
    akid, secret, token = aws_standins.temporary_keys()
    with StandIn(SecretsManager({NAME: PASSWORD}, {akid: secret}, {akid: token})) as aws:
        env = {"AWS_ACCESS_KEY_ID": akid, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token,
               "AWS_DEFAULT_REGION": "us-west-2", "AWS_ENDPOINT_URL": aws.url,
               "TATUM_KMS_AWS_SECRET_NAME": NAME}
        r = run_kms(tmp_path, "--aws", "--path", wallet.path, "export", env=env)
        assert r.code == 0, r.err
        assert wallet.sig_id in r.json()
        [call] = aws.calls
        assert call.headers["x-amz-security-token"] == token
        assert "x-amz-security-token" in call.headers["authorization"].split("SignedHeaders=")[1]


def test_tatum_settings_come_before_the_standard_ones(tmp_path, wallet):
    with StandIn(SecretsManager({NAME: secret_json()}, {AKID: SECRET_KEY})) as aws:
        env = tatum_settings(aws.url, AWS_ACCESS_KEY_ID="AKIAOTHER", AWS_SECRET_ACCESS_KEY="other",
                             AWS_REGION="us-east-1")
        r = run_kms(tmp_path, "--path", wallet.path, "getaddress", wallet.sig_id, "0", "--aws", env=env)
        assert r.code == 0, r.err
        assert "/eu-west-1/" in aws.calls[0].headers["authorization"]


def test_instance_role_through_imdsv2(tmp_path, wallet):
    keys = aws_standins.temporary_keys()
    metadata = InstanceMetadata("kms-role", keys)
    with StandIn(metadata) as imds, \
            StandIn(SecretsManager({NAME: PASSWORD}, {keys[0]: keys[1]}, {keys[0]: keys[2]})) as aws:
        env = {"AWS_REGION": "eu-central-1", "AWS_ENDPOINT_URL_SECRETS_MANAGER": aws.url,
               "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url, "TATUM_KMS_AWS_SECRET_NAME": NAME}
        r = run_kms(tmp_path, "--path", wallet.path, "getaddress", wallet.sig_id, "0", "--aws", env=env)
        assert r.code == 0, r.err
        assert r.json() == {"address": wallet.address}
        assert [(c.method, c.path) for c in imds.calls] == [
            ("PUT", "/latest/api/token"), ("GET", InstanceMetadata.ROLES),
            ("GET", InstanceMetadata.ROLES + "kms-role")]
        assert imds.calls[0].headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600"
        assert aws.calls[0].headers["x-amz-security-token"] == keys[2]
        for secret in keys + (metadata.token,):
            assert secret not in r.out + r.err


@pytest.mark.parametrize("token_from", ["variable", "file"])
def test_container_credentials_come_before_the_instance_role(tmp_path, wallet, token_from):
    keys = aws_standins.temporary_keys()
    authorization = "Bearer container-auth-token-123"
    with StandIn(ContainerCredentials("/v2/credentials/task-1", keys, authorization)) as ecs, \
            StandIn(InstanceMetadata("kms-role", aws_standins.temporary_keys())) as imds, \
            StandIn(SecretsManager({NAME: PASSWORD}, {keys[0]: keys[1]}, {keys[0]: keys[2]})) as aws:
        env = {"AWS_REGION": "eu-central-1", "AWS_ENDPOINT_URL": aws.url,
               "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url, "TATUM_KMS_AWS_SECRET_NAME": NAME,
               "AWS_CONTAINER_CREDENTIALS_FULL_URI": ecs.url + "/v2/credentials/task-1"}
        if token_from == "file":
            (tmp_path / "token").write_text(authorization + "\n")
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = str(tmp_path / "token")
        else:
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = authorization
        r = run_kms(tmp_path, "--path", wallet.path, "getaddress", wallet.sig_id, "0", "--aws", env=env)
        assert r.code == 0, r.err
        assert len(ecs.calls) == 1 and imds.calls == []
        assert aws.calls[0].headers["x-amz-security-token"] == keys[2]


def test_shared_credentials_file_and_config_region(tmp_path, wallet):
    aws_dir = tmp_path / ".aws"
    aws_dir.mkdir()
    (aws_dir / "credentials").write_text("[default]\naws_access_key_id = AKIAWRONG\n"
                                         "aws_secret_access_key = wrong\n\n[kms]\n"
                                         "aws_access_key_id = %s\naws_secret_access_key = %s\n"
                                         % (AKID, SECRET_KEY))
    (aws_dir / "config").write_text("[profile kms]\nregion = ap-southeast-2\n")
    with StandIn(SecretsManager({NAME: PASSWORD}, {AKID: SECRET_KEY})) as aws:
        env = {"AWS_PROFILE": "kms", "AWS_ENDPOINT_URL": aws.url, "TATUM_KMS_AWS_SECRET_NAME": NAME}
        r = run_kms(tmp_path, "--path", wallet.path, "getaddress", wallet.sig_id, "0", "--aws", env=env)
        assert r.code == 0, r.err
        assert "/ap-southeast-2/secretsmanager/" in aws.calls[0].headers["authorization"]


def test_new_wallet_from_the_vault(tmp_path):
    """generatemanagedwallet creates the file with the vault's password: a later command with
    TATUM_KMS_PASSWORD set to that password opens it."""
    with StandIn(SecretsManager({NAME: secret_json("vault-made-password")}, {AKID: SECRET_KEY})) as aws:
        path = str(tmp_path / "new.dat")
        r = run_kms(tmp_path, "--path", path, "generatemanagedwallet", "BTC", "--testnet", "--aws",
                    env=tatum_settings(aws.url))
        assert r.code == 0, r.err
        sig_id = r.json()["signatureId"]
    r = run_kms(tmp_path, "--path", path, "getmanagedwallet", sig_id,
                env={"TATUM_KMS_PASSWORD": "vault-made-password"})
    assert r.code == 0 and r.json()["chain"] == "BTC"


# -- every failure: one line naming the source, exit ≠ 0, no secret, nothing written -------------

FAILURES = [
    # (id, what the stand-in holds or answers, extra settings, words the message must contain)
    ("403-wrong-secret-key", {NAME: secret_json()}, {"TATUM_KMS_AWS_SECRET_ACCESS_KEY": "not-the-key"},
     "HTTP 403: InvalidSignatureException"),
    ("no-such-secret", {"other": secret_json()}, {}, "HTTP 400: ResourceNotFoundException"),
    ("missing-field", {NAME: json.dumps({"other": "x"})}, {}, "no field 'walletPassword'"),
    ("secret-string-not-json", {NAME: "just a string"}, {}, "SecretString is not JSON"),
    ("field-not-a-string", {NAME: json.dumps({"walletPassword": 12345})}, {}, "is not a string"),
    ("empty-value", {NAME: json.dumps({"walletPassword": ""})}, {}, "empty"),
    ("empty-whole-string", {NAME: ""}, {"TATUM_KMS_AWS_SECRET_KEY": None}, "empty"),
    ("answer-not-json", Reply(200, "<html>oops</html>", "text/html"), {}, "not a JSON object"),
    ("server-error", Reply(500, {"__type": "InternalServiceError", "message": "try later"}), {},
     "HTTP 500: InternalServiceError: try later"),
    ("no-secret-name", {NAME: secret_json()}, {"TATUM_KMS_AWS_SECRET_NAME": None},
     "TATUM_KMS_AWS_SECRET_NAME is not set"),
    ("half-a-key", {NAME: secret_json()}, {"TATUM_KMS_AWS_SECRET_ACCESS_KEY": None},
     "TATUM_KMS_AWS_ACCESS_KEY_ID is set but TATUM_KMS_AWS_SECRET_ACCESS_KEY is not"),
    ("no-region", {NAME: secret_json()}, {"TATUM_KMS_AWS_REGION": None}, "no region"),
]


@pytest.mark.parametrize("case", FAILURES, ids=[f[0] for f in FAILURES])
@pytest.mark.parametrize("command", ["generatemanagedwallet", "export"])
def test_failures(tmp_path, wallet, case, command):
    _, held, extra, words = case
    secrets = [SECRET_KEY, AKID, "not-the-key"]
    with StandIn(SecretsManager(held if isinstance(held, dict) else {}, {AKID: SECRET_KEY})) as aws:
        if isinstance(held, Reply):
            aws.fail_next.append(held)
        before = file_bytes(wallet.path)
        args = ["generatemanagedwallet", "BTC", "--testnet"] if command == "generatemanagedwallet" else ["export"]
        r = run_kms(tmp_path, "--path", wallet.path, *args, "--aws", env=tatum_settings(aws.url, **extra))
        assert_source_failure(r, SOURCE, secrets, contains=words)
        assert r.out == ""
        assert file_bytes(wallet.path) == before
        for call in aws.calls:
            assert PASSWORD not in call.headers.get("authorization", "")


def test_unreachable(tmp_path, wallet):
    r = run_kms(tmp_path, "--path", wallet.path, "export", "--aws", env=tatum_settings(closed_port_url()))
    assert_source_failure(r, SOURCE, [SECRET_KEY, AKID], contains="unreachable")


def test_no_credentials_anywhere(tmp_path, wallet):
    """No keys, no shared file, no container, IMDS disabled: say what to set."""
    env = {"TATUM_KMS_AWS_SECRET_NAME": NAME, "AWS_REGION": "eu-west-1", "AWS_EC2_METADATA_DISABLED": "true"}
    r = run_kms(tmp_path, "--path", wallet.path, "export", "--aws", env=env)
    assert_source_failure(r, SOURCE, contains="no AWS credentials")


def test_instance_metadata_down_names_it(tmp_path, wallet):
    env = {"TATUM_KMS_AWS_SECRET_NAME": NAME, "AWS_REGION": "eu-west-1"}   # IMDS: a closed port
    r = run_kms(tmp_path, "--path", wallet.path, "export", "--aws", env=env)
    assert_source_failure(r, SOURCE, contains="EC2 instance role (IMDSv2")


def test_instance_metadata_refuses_imdsv1_and_leaks_no_token(tmp_path, wallet):
    keys = aws_standins.temporary_keys()
    imds = InstanceMetadata("kms-role", keys)
    with StandIn(imds) as service:
        service.fail_next.append(Reply(200, imds.token, "text/plain"))      # the token
        service.fail_next.append(Reply(403, "token %s rejected" % imds.token, "text/plain"))
        env = {"TATUM_KMS_AWS_SECRET_NAME": NAME, "AWS_REGION": "eu-west-1",
               "AWS_EC2_METADATA_SERVICE_ENDPOINT": service.url}
        r = run_kms(tmp_path, "--path", wallet.path, "export", "--aws", env=env)
        assert_source_failure(r, SOURCE, [imds.token], contains="HTTP 403")


def test_container_credentials_bad_token(tmp_path, wallet):
    keys = aws_standins.temporary_keys()
    with StandIn(ContainerCredentials("/creds", keys, "right-token")) as ecs:
        env = {"TATUM_KMS_AWS_SECRET_NAME": NAME, "AWS_REGION": "eu-west-1",
               "AWS_CONTAINER_CREDENTIALS_FULL_URI": ecs.url + "/creds",
               "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong-token-value"}
        r = run_kms(tmp_path, "--path", wallet.path, "export", "--aws", env=env)
        assert_source_failure(r, SOURCE, ["wrong-token-value"], contains="container credentials")


def test_two_vault_flags_are_refused(tmp_path, wallet):
    r = run_kms(tmp_path, "--path", wallet.path, "export", "--aws", "--vgs")
    assert "--aws or --vgs" in r.error()


def test_checkconfig_names_the_source_and_masks_secrets(tmp_path, wallet):
    akid, secret, token = aws_standins.temporary_keys()
    env = {"AWS_ACCESS_KEY_ID": akid, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token,
           "AWS_REGION": "eu-west-1", "TATUM_KMS_AWS_SECRET_NAME": NAME,
           "TATUM_KMS_AWS_SECRET_KEY": "walletPassword"}
    r = run_kms(tmp_path, "--path", wallet.path, "checkconfig", "--aws", env=env)
    assert r.code == 0, r.err
    rows = dict(line.split(" : ", 1) for line in r.out.splitlines())
    rows = {k.strip(): v for k, v in rows.items()}
    assert rows["Password source"] == "AWS Secrets Manager (--aws)"
    assert rows["TATUM_KMS_AWS_SECRET_NAME"] == NAME
    assert rows["AWS region"] == "eu-west-1 (AWS_REGION)"
    assert rows["AWS endpoint"] == "https://secretsmanager.eu-west-1.amazonaws.com"
    assert rows["AWS credentials"].startswith("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN")
    for value in (akid, secret, token):
        assert value not in r.out + r.err


def test_daemon_reads_the_password_once_at_start(tmp_path, wallet):
    """daemon --runOnce --aws: one GetSecretValue, then the cycle against a stand-in Tatum API."""
    from tests.fake_tatum import FakeTatum

    with StandIn(SecretsManager({NAME: secret_json()}, {AKID: SECRET_KEY})) as aws, FakeTatum() as api:
        env = tatum_settings(aws.url, TATUM_API_KEY=api.api_key, TATUM_API_URL=api.url,
                             KMS_REF_HTTP_TIMEOUT="5")
        r = run_kms(tmp_path, "daemon", "--aws", "--path", wallet.path, "--runOnce", "--testnet",
                    "--chain", "BTC", env=env)
        assert r.code == 0, r.err
        assert len(aws.calls) == 1
        assert [c.path for c in api.calls] == ["/v3/kms/pending/BTC"]
        assert SECRET_KEY not in r.out + r.err and PASSWORD not in r.out + r.err


def test_daemon_stops_before_any_request_when_the_vault_fails(tmp_path, wallet):
    from tests.fake_tatum import FakeTatum

    with StandIn(SecretsManager({}, {AKID: SECRET_KEY})) as aws, FakeTatum() as api:
        env = tatum_settings(aws.url, TATUM_API_KEY=api.api_key, TATUM_API_URL=api.url)
        r = run_kms(tmp_path, "daemon", "--path", wallet.path, "--runOnce", "--testnet", "--aws", env=env)
        assert_source_failure(r, SOURCE, [SECRET_KEY], contains="ResourceNotFoundException")
        assert api.calls == []
        assert not os.path.exists(wallet.path + ".journal")


def test_container_relative_uri_goes_to_the_ecs_address(tmp_path, wallet):
    """AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is always asked at http://169.254.170.2 (ECS's
    link-local address, which no test can serve): checkconfig shows where, without a request."""
    env = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/0ab1c2", "AWS_REGION": "eu-west-1",
           "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/ignored",
           "TATUM_KMS_AWS_SECRET_NAME": NAME}
    r = run_kms(tmp_path, "--path", wallet.path, "checkconfig", "--aws", env=env)
    assert r.code == 0, r.err
    assert "AWS credentials                  : container credentials http://169.254.170.2/v2/credentials/0ab1c2" in r.out


def test_shared_profile_without_static_keys_is_an_error(tmp_path, wallet):
    """kms_ref does not assume roles (no STS): a role_arn profile is refused with a reason."""
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\nrole_arn = arn:aws:iam::1:role/x\n"
                                                   "source_profile = base\n")
    env = {"AWS_REGION": "eu-west-1", "TATUM_KMS_AWS_SECRET_NAME": NAME}
    r = run_kms(tmp_path, "--path", wallet.path, "export", "--aws", env=env)
    assert_source_failure(r, SOURCE, contains="lacks aws_access_key_id or aws_secret_access_key")
