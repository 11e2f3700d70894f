"""RIPEMD-160 — public name; the code lives in `kms_ref.crypto.ripemd160`."""

from kms_ref.crypto.ripemd160 import ripemd160

__all__ = ["ripemd160"]
