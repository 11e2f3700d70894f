"""AWS Signature Version 4 (kms_ref/passwords/aws_sigv4.py) against every case of AWS's test suite.

Each case compares the four tasks separately — canonical request, string to sign, signature,
Authorization header — and then the headers of the signed request (.sreq). botocore skips four
of these cases (`normalize-path/get-space`, and the repeated query names of
`get-vanilla-query-order-key`, `-key-case`, `-value`); nothing is skipped here.
"""

import datetime
import random

import pytest

from kms_ref.passwords import aws_sigv4
from tests import aws_standins
from tests.vectors import load

SUITE = load("aws_sigv4_testsuite.json")
CONSTANTS = SUITE["constants"]
NOW = datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.timezone.utc)


def sign_case(case):
    request = case["request"]
    path, _, query = request["target"].partition("?")
    token = case.get("session_token")
    credentials = aws_sigv4.Credentials(CONSTANTS["access_key_id"], CONSTANTS["secret_access_key"],
                                        token["value"] if token and token["signed"] else None)
    return aws_sigv4.sign(request["method"], path, query, [tuple(h) for h in request["headers"]],
                          request["body"].encode("utf-8"), credentials, CONSTANTS["region"],
                          CONSTANTS["service"], NOW)


def header_lines(signed_request):
    """The headers of a .sreq as (lower-case name, value with white space collapsed)."""
    head = signed_request.split("\n\n", 1)[0].split("\n")[1:]
    headers = []
    for line in head:
        if line[:1] in (" ", "\t"):
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line)
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    return sorted((name.lower(), " ".join(value.split())) for name, value in headers)


@pytest.mark.parametrize("case", SUITE["cases"], ids=lambda c: c["id"])
def test_suite(case):
    signed = sign_case(case)
    assert signed.canonical_request == case["canonical_request"], "task 1"
    assert signed.string_to_sign == case["string_to_sign"], "task 2"
    assert signed.signature == case["signature"], "task 3"
    assert signed.authorization == case["authorization"], "task 4"
    headers = list(signed.headers)
    token = case.get("session_token")
    if token and not token["signed"]:                   # post-sts-header-after
        headers.append(("X-Amz-Security-Token", token["value"]))
    ours = sorted((name.lower(), " ".join(value.split())) for name, value in headers)
    theirs = header_lines(case["signed_request"])
    if "erratum" in case:
        # The suite's .sreq of this case carries get-vanilla's signature; everything else agrees.
        vanilla = next(c for c in SUITE["cases"] if c["id"] == "get-vanilla")
        their_signature = dict(theirs)["authorization"].rsplit("Signature=", 1)[1]
        assert their_signature == vanilla["signature"] != signed.signature
        ours = [h for h in ours if h[0] != "authorization"]
        theirs = [h for h in theirs if h[0] != "authorization"]
    assert ours == theirs, "the signed request's headers"


def test_every_suite_case_is_in_the_vector_file():
    """34 cases, botocore's four skipped ones among them."""
    ids = {c["id"] for c in SUITE["cases"]}
    assert len(ids) == len(SUITE["cases"]) == 34
    assert {"normalize-path/get-space", "get-vanilla-query-order-key",
            "get-vanilla-query-order-key-case", "get-vanilla-query-order-value"} <= ids


def test_signing_key_example_from_the_documentation():
    """The AWS General Reference's example of deriving a signing key (secret
    wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam)."""
    key = aws_sigv4.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_random_requests_verify_independently():
    """Random GetSecretValue-shaped requests signed by kms_ref are accepted by the stand-in's
    own SigV4 check (and botocore's, when it is installed). Seed printed on failure."""
    seed = random.randrange(2 ** 32)
    rng = random.Random(seed)
    alphabet = "abcXYZ019-_.~ /+=&%ሴé\""
    for _ in range(50):
        body = ('{"SecretId": "%s"}' % "".join(rng.choice(alphabet) for _ in range(rng.randrange(20))))
        credentials = aws_sigv4.Credentials(
            "AKID" + "".join(rng.choice("ABCDEF0123") for _ in range(16)),
            "".join(rng.choice("abcdefXYZ/+0123") for _ in range(40)),
            rng.choice([None, "".join(rng.choice("abc/+=") for _ in range(60))]))
        region = rng.choice(["us-east-1", "eu-central-1", "ap-southeast-2"])
        now = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc) + \
            datetime.timedelta(seconds=rng.randrange(10 ** 8))
        headers = [("Host", "secretsmanager.%s.amazonaws.com" % region),
                   ("Content-Type", "application/x-amz-json-1.1"),
                   ("X-Amz-Target", "secretsmanager.GetSecretValue")]
        signed = aws_sigv4.sign("POST", "/", "", headers, body.encode("utf-8"), credentials,
                                region, "secretsmanager", now)
        problem = aws_standins.check_sigv4("POST", "/", dict(signed.headers), body.encode("utf-8"),
                                           {credentials.access_key_id: credentials.secret_access_key},
                                           "secretsmanager")
        assert problem is None, "seed %d: %s" % (seed, problem)


def test_credentials_repr_hides_secrets():
    text = repr(aws_sigv4.Credentials("AKIDSECRETID", "s3cr3t-key", "tok3n"))
    assert "s3cr3t" not in text and "tok3n" not in text and "AKIDSECRETID" not in text
