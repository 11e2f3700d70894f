"""Outbound HTTP(S) (SPEC §9): the one place where kms_ref opens a connection to another host.

    http_client.py   `exchange`: one request with a deadline from connect to last byte, a cap
                     on the answer's size, no redirects followed; `HttpError.sent`
    plain_http.py    plain http:// only to loopback and link-local hosts (KMS_REF_ALLOW_HTTP=1)
    proxies.py       HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY; CONNECT for https://
    tls.py           the verifying TLS context: the system store plus SSL_CERT_FILE,
                     SSL_CERT_DIR and KMS_REF_CA_FILE
    pool.py          keep-alive: idle connections reused only while surely alive
    timeouts.py      the deadline's default and its variable, KMS_REF_HTTP_TIMEOUT

The Tatum v3 client and the four-eye check (`kms_ref.daemon`) and the password sources
(`kms_ref.passwords`) send every request through `exchange`, so that deadlines, caps, TLS, proxy
and plain-http rules hold for all of them alike.

Layer: may import the layers below it (`crypto`, `encoding`, `hd`, `tx`, `store`) and the
standard library; in practice it needs only the standard library.
"""
