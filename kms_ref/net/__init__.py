"""Outbound HTTP(S) (SPEC §9): the one place where kms_ref opens a connection to another host.

    http_client.py   `exchange`: one request with a deadline from connect to last byte, a cap
                     on the answer's size, TLS verified, no redirects followed

The Tatum v3 client and the four-eye check (`kms_ref.daemon`) and the password sources
(`kms_ref.passwords`) send every request through it, so that deadlines, caps, TLS and proxy
rules hold for all of them alike.

Layer: may import the layers below it (`crypto`, `encoding`, `hd`, `tx`, `store`) and the
standard library; in practice it needs only the standard library.
"""
