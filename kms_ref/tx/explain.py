"""A signed transaction taken apart, input by input, so that a student can check every signature
with pencil and a calculator (`kms-ref sign --explain`; README "How a KMS signs").

For each input, from the signed transaction and what each input spends:
1. the signature hash preimage as labelled fields (`sighash_fields`: legacy's modified
   transaction, BIP143's items 1–10, BCH's forkid form), the preimage, and its digest
   HASH256 = SHA256(SHA256(preimage)) — checked against `sighash.py`;
2. the signature: ECDSA (SEC 1 §4.1.3) with e = int(digest), r and s, DER broken into its parts
   (30 len 02 len r 02 len s) and the hash type byte named; or BCH Schnorr with R, e and s; and
   its verification from public data only;
3. the scriptSig as its pushes, and the witness as its items.

Secrets appear only on request (`show_secrets`: the private key d, the nonce k and the RFC 6979
state K, V — testnet only, `kms-ref sign` decides) and so does the textbook path (`textbook`: R
by the plain double-and-add, with its step counts, which also tell about k). Either recomputes
the signature by `kms_ref.crypto.textbook` and raises ValueError unless its bytes equal the
signature in the transaction. Lines are ASCII, `name = value` where a value is to be checked.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Dict, Optional, Sequence

from kms_ref.crypto.hashes import hash160, hash256
from kms_ref.crypto.secp256k1 import G, N, jacobi, lift_x, parse_pubkey, point_add, point_neg
from kms_ref.crypto.textbook import ecdsa_sign_traced, multiply, schnorr_sign_traced
from kms_ref.encoding.script import P2PK, P2PKH, P2SH, P2WPKH, classify, p2pkh_script, parse_pushes, push_data
from kms_ref.tx.sighash import bip143_preimage, forkid_preimage, legacy_preimage
from kms_ref.tx.sighash_fields import bip143_fields, forkid_fields, hash_type_name, legacy_fields
from kms_ref.tx.transaction import Transaction

Say = Callable[[str], None]
INDENT = "   "


def explain_signed(signed: Transaction, chain: str, amounts: Sequence[int], scripts: Optional[Sequence[bytes]],
                   say: Say, keys: Optional[Dict[bytes, bytes]] = None,
                   show_secrets: bool = False, textbook: bool = False,
                   signer_lines: Optional[Dict[int, list]] = None) -> None:
    """Explain every input of `signed`. `scripts` are the spent outputs' scripts (None for BCH:
    Tatum sends none, each input spends P2PKH of its key). `keys` maps a public key (as the input
    shows it) to its 32-byte secret, needed for show_secrets and textbook. An input of a kind
    this module does not take apart is shown by what the signer itself said about it while
    signing (`signer_lines`: input index → the lines of tx.sign's `explain` callback)."""
    if (show_secrets or textbook) and keys is None:
        raise ValueError("showing secrets or the textbook path needs the keys")
    for i in range(len(signed.inputs)):
        script = scripts[i] if scripts is not None else None
        _Input(signed, i, chain, amounts[i], script, say, keys or {}, show_secrets, textbook,
               (signer_lines or {}).get(i, [])).explain()


class _Input:
    def __init__(self, tx, i, chain, amount, script, say, keys, show_secrets, textbook, signer_lines):
        self.tx, self.i, self.chain, self.amount, self.script = tx, i, chain, amount, script
        self.keys, self.show_secrets, self.textbook = keys, show_secrets, textbook
        self.signer_lines = signer_lines
        self.say = lambda text="": say(INDENT + text if text else "")
        self.txin = tx.inputs[i]

    def explain(self) -> None:
        kind, label, sig, pubkey = self._parts()
        self.say()
        self.say("== input %d spends %s:%d, %d sat, locked by %s"
                 % (self.i, self.txin.prev_txid, self.txin.vout, self.amount, label))
        if sig is None:
            self.say("not taken apart here; what the signer said while signing it:")
            for line in self.signer_lines or ["(nothing)"]:
                self.say("  " + line)
            return
        hash_type = sig[-1]
        if self.chain == "BCH":
            script_code = p2pkh_script(hash160(pubkey))
            fields = forkid_fields(self.tx, self.i, script_code, self.amount, hash_type)
            expected = forkid_preimage(self.tx, self.i, script_code, self.amount, hash_type)
            title = "BIP143 items 1-10 in BCH's forkid form (the spent script is P2PKH of the key)"
        elif kind in (P2PKH, P2PK):
            fields = legacy_fields(self.tx, self.i, self.script, hash_type)
            expected = legacy_preimage(self.tx, self.i, self.script, hash_type)
            title = "legacy: the transaction with this input's script code in place, then the hash type"
        else:
            script_code = p2pkh_script(hash160(pubkey))
            fields = bip143_fields(self.tx, self.i, script_code, self.amount, hash_type)
            expected = bip143_preimage(self.tx, self.i, script_code, self.amount, hash_type)
            title = "BIP143 (segwit version 0) items 1-10"
        preimage = b"".join(f.data for f in fields)
        if preimage != expected:
            raise ValueError("input %d: the preimage's fields do not add up (explain is wrong)" % self.i)
        self.say("signature hash preimage, %s:" % title)
        width = max(len(f.label) for f in fields) + 2
        for f in fields:
            self.say("  %s%s%s" % (f.label.ljust(width), f.data.hex(), "   " + f.note if f.note else ""))
        digest = hash256(preimage)
        self.say("preimage = %s" % preimage.hex())
        self.say("digest = %s" % digest.hex())
        self.say("  (digest = SHA256(SHA256(preimage)), the %d bytes above)" % len(preimage))
        if self.chain == "BCH":
            self._schnorr(sig[:-1], pubkey, digest)
        else:
            self._ecdsa(sig[:-1], pubkey, digest)
        self.say("  %02x = %s" % (hash_type, hash_type_name(hash_type)))
        self._scripts(kind, sig, pubkey)

    # -- which bytes are the signature and the key ---------------------------------------------------

    def _parts(self):
        txin = self.txin
        if self.chain == "BCH":
            sig, pubkey = parse_pushes(txin.script_sig)
            return P2PKH, "P2PKH of its key (Tatum sends no scripts for BCH)", sig, pubkey
        kind, payload = classify(self.script)
        if kind == P2PKH:
            sig, pubkey = parse_pushes(txin.script_sig)
        elif kind == P2PK:
            [sig], pubkey = parse_pushes(txin.script_sig), payload
        elif kind in (P2WPKH, P2SH):
            sig, pubkey = txin.witness
        else:
            return kind, kind.upper() + " " + self.script.hex(), None, None
        return kind, ("P2SH-P2WPKH" if kind == P2SH else kind.upper()) + " " + self.script.hex(), sig, pubkey

    def _secret(self, pubkey: bytes) -> bytes:
        if pubkey not in self.keys:
            raise ValueError("input %d: no key of this wallet has its public key" % self.i)
        return self.keys[pubkey]

    # -- ECDSA -------------------------------------------------------------------------------------

    def _ecdsa(self, der: bytes, pubkey: bytes, digest: bytes) -> None:
        len_r = der[3]
        r_bytes, s_bytes = der[4:4 + len_r], der[6 + len_r:]
        r, s, e = int.from_bytes(r_bytes, "big"), int.from_bytes(s_bytes, "big"), int.from_bytes(digest, "big")
        self.say("ECDSA signature (SEC 1 4.1.3) by public key P = %s:" % pubkey.hex())
        self.say("e = %064x" % e)
        self.say("  (e = the digest as a 256-bit number; n has 256 bits, so nothing is cut off)")
        trace = None
        if self.show_secrets or self.textbook:
            trace = ecdsa_sign_traced(self._secret(pubkey), digest, count_steps=self.textbook)
            if trace.der != der:
                raise ValueError("input %d: the textbook signature differs from the fast one" % self.i)
        if self.show_secrets:
            self.say("d = %064x" % trace.d)
            self.say("  (d = the private key)")
            self._nonce(trace.nonce_steps, ", seed = d || (e mod n)")
            self.say("k = %064x" % trace.k)
        if self.textbook:
            self._steps(trace.counter, "k")
        if self.show_secrets:
            self.say("R = k*G = (%064x, %064x)" % trace.R)
        self.say("r = %064x" % r)
        self.say("  (r = x(R) mod n, R = k*G, k the RFC 6979 nonce of d and the digest)")
        if self.show_secrets:
            self.say("k^-1 (e + r*d) mod n = %064x" % trace.s_computed)
            self.say("  (n = %064x; s must not be above n/2 = %064x)" % (N, N // 2))
        self.say("s = %064x" % s)
        self.say("  (s = k^-1 (e + r*d) mod n, replaced by n - s when above n/2: BIP62 low S%s)"
                 % ("" if self.show_secrets else "; d and k withheld, --showSecrets on testnet shows them"))
        if self.textbook:
            self.say("  the textbook computation gives these very bytes: the fast path's signature")
        Q = parse_pubkey(pubkey)
        w = pow(s, -1, N)
        u1, u2 = e * w % N, r * w % N
        X = point_add(multiply(u1, G), multiply(u2, Q))
        self.say("check with the public key P: w = s^-1, u1 = e*w, u2 = r*w mod n; "
                 "x(u1*G + u2*P) mod n = %064x %s" % (X[0] % N, "= r: valid" if X[0] % N == r else "!= r"))
        self.say("signature, DER (BIP66), then the hash type byte:")
        self.say("  30 %02x      SEQUENCE of %d bytes" % (der[1], der[1]))
        self.say("  02 %02x      INTEGER of %d bytes: r%s" % (len_r, len_r, self._sign_byte(r_bytes)))
        self.say("  %s" % r_bytes.hex())
        self.say("  02 %02x      INTEGER of %d bytes: s%s" % (len(s_bytes), len(s_bytes), self._sign_byte(s_bytes)))
        self.say("  %s" % s_bytes.hex())

    @staticmethod
    def _sign_byte(value: bytes) -> str:
        return " (a 00 in front: its top bit is set, and DER integers are signed)" if value[0] == 0 else ""

    def _nonce(self, steps, algo: str) -> None:
        self.say("nonce, RFC 6979 3.2 with HMAC-SHA256%s (K, V after each step):" % algo)
        for step in steps:
            self.say("  %-58s K = %s" % (step.label, step.K.hex()))
            self.say("  %-58s V = %s" % ("", step.V.hex()))

    def _steps(self, counter, name: str) -> None:
        by_bit = {}
        for op, bit in counter.first_steps:
            by_bit.setdefault(bit, []).append(op)
        first = "; ".join("bit %d = %d: %s" % (bit, len(ops) - 1, ", ".join(ops)) for bit, ops in by_bit.items())
        self.say("textbook: R = %s*G by double-and-add (secp256k1.point_mul, the most significant bit "
                 "first): %d doublings and %d additions (one doubling per bit of %s, one addition per "
                 "1 bit; the first doubling is of the point at infinity)" % (name, counter.doublings,
                                                                            counter.additions, name))
        self.say("  first steps: %s; ..." % first)

    # -- BCH Schnorr -------------------------------------------------------------------------------

    def _schnorr(self, sig64: bytes, pubkey: bytes, digest: bytes) -> None:
        r, s = int.from_bytes(sig64[:32], "big"), int.from_bytes(sig64[32:], "big")
        e = int.from_bytes(hashlib.sha256(sig64[:32] + pubkey + digest).digest(), "big") % N
        self.say("BCH Schnorr signature (2019-05-15 specification) by public key P = %s:" % pubkey.hex())
        self.say("m = %s" % digest.hex())
        if self.show_secrets or self.textbook:
            trace = schnorr_sign_traced(self._secret(pubkey), digest, count_steps=self.textbook)
            if self.show_secrets:
                self.say("d = %064x" % trace.d)
                self._nonce(trace.nonce_steps, ", seed = d || (m mod n) || \"Schnorr+SHA256  \"")
                self.say("k0 = %064x" % trace.k0)
            if self.textbook:
                self._steps(trace.counter, "k0")
            if self.show_secrets:
                self.say("R = k0*G = (%064x, %064x)" % trace.R)
                self.say("jacobi(y(R)) = %d: %s" % (trace.jacobi_y, "k = k0" if trace.jacobi_y == 1 else
                                                    "k = n - k0, so that R = k*G has a square y"))
                self.say("k = %064x" % trace.k)
            if trace.signature != sig64:
                raise ValueError("input %d: the textbook signature differs from the fast one" % self.i)
            if self.textbook:
                self.say("  the textbook computation gives these very bytes: the fast path's signature")
        self.say("r = %064x" % r)
        self.say("  (r = x(R), R = k*G with jacobi(y(R)) = 1: the spec's choice of the nonce's sign)")
        self.say("e = %064x" % e)
        self.say("  (e = SHA256(r || P || m) mod n, over 32 + %d + 32 bytes)" % len(pubkey))
        self.say("s = %064x" % s)
        self.say("  (s = k + e*d mod n%s)" % ("" if self.show_secrets else
                                            "; d and k withheld, --showSecrets on testnet shows them"))
        R = point_add(multiply(s, G), point_neg(multiply(e, parse_pubkey(pubkey))))
        ok = R is not None and R[0] == r and jacobi(R[1]) == 1 and lift_x(r) is not None
        self.say("check with the public key P: R' = s*G - e*P; x(R') = %064x, jacobi(y(R')) = %d: %s"
                 % (R[0] if R else 0, jacobi(R[1]) if R else 0, "= r and 1, valid" if ok else "INVALID"))
        self.say("signature = r || s (64 bytes), then the hash type byte:")
        self.say("  %s" % sig64[:32].hex())
        self.say("  %s" % sig64[32:].hex())

    # -- where the signature goes ------------------------------------------------------------------

    def _scripts(self, kind: str, sig: bytes, pubkey: bytes) -> None:
        names = {sig: "the signature and its hash type byte", pubkey: "the public key"}
        script_sig = self.txin.script_sig
        if script_sig:
            self.say("scriptSig (%d bytes), its pushes:" % len(script_sig))
            for data in parse_pushes(script_sig):
                opcode = push_data(data)[:-len(data)].hex()
                what = names.get(data, "the redeem script 0014 || HASH160(public key), whose HASH160 is "
                                       "the P2SH script's hash")
                self.say("  push %s (%d bytes): %s" % (opcode, len(data), what))
                self.say("    %s" % data.hex())
        else:
            self.say("scriptSig: empty (segwit: the signature is in the witness)")
        if self.txin.witness:
            self.say("witness, %d items:" % len(self.txin.witness))
            for n, item in enumerate(self.txin.witness):
                self.say("  [%d] %d bytes, %s: %s" % (n, len(item), names.get(item, "?"), item.hex()))

