"""`python -m kms_ref.bench [--quick] [--json] [--side-channel]`: how fast kms_ref's pure-Python code is.

Median times (and operations per second) of the operations a KMS spends its time on. When
python-ecdsa (`ecdsa`), btclib's pure-Python curve (`ecc`, the package btclib signs with, its
libsecp256k1 path refused with ECC_NO_LIBSECP256K1=1) or libsecp256k1's binding (`coincurve`)
happen to be importable, the same operations are timed with them in the same run and the ratios
printed — machine noise cancels in a ratio. They are optional comparisons, never dependencies:
kms_ref imports none of them.

Targets (issues "Speed" and "Speed, round two" §4, with the nonce-independent schedule in place):
sign ≥ 3.3× python-ecdsa and ≥ 1.6× btclib; verify with a key seen for the first time ≥ 2.8×
python-ecdsa and ≥ 1.8× btclib — reported twice, with the key given as bytes (the other
libraries decompress it, a square root mod p; kms_ref needs none, `ecdsa_compressed_key`) and
with the key handed over parsed; public
key ≥ 3.3× python-ecdsa; sign
within 8× of libsecp256k1; BIP32 public derivation ≥ 2,000/s; a 100-input P2WPKH transaction
signed (and every input verified) in ≤ 0.1 s. `--side-channel` measures whether signing time
follows the nonce (`kms_ref.bench.side_channel`).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
import timeit

from kms_ref.bench.machine import field_product_us
from kms_ref.bench.units import fmt_seconds

TARGETS = {  # (operation, comparison): how many times faster kms_ref must be
    ("pubkey_from_seckey", "python-ecdsa"): 3.3,
    ("ecdsa_sign", "python-ecdsa"): 3.3,
    ("ecdsa_sign", "btclib"): 1.6,
    ("ecdsa_verify", "python-ecdsa"): 2.8,
    ("ecdsa_verify", "btclib"): 1.8,
    ("ecdsa_verify_parsed_key", "python-ecdsa"): 2.8,
    ("ecdsa_verify_parsed_key", "btclib"): 1.8,
}
LIBSECP_SIGN_MAX_RATIO = 8.0


def measure(fn, quick: bool) -> float:
    """Median seconds per call: repeats of a loop long enough to time (autoranged like timeit).
    The clock is the process's CPU time, not the wall clock: on a shared machine the time spent
    waiting for a core is not the code's, and it would fall unevenly on the two sides of a ratio."""
    timer = timeit.Timer(fn, timer=time.process_time)
    number, _ = timer.autorange()
    if quick:
        number = max(1, number // 5)
    repeats = 3 if quick else 7
    return statistics.median(t / number for t in timer.repeat(repeat=repeats, number=number))


def _short_timer(fn):
    """A function returning seconds per call of fn over a loop of about 20 ms (CPU time): short
    enough for many alternating rounds, so that the state of a shared machine (a busy sibling
    hyperthread halves a core's speed) changes little within a round and evens out across them."""
    timer = timeit.Timer(fn, timer=time.process_time)
    number, elapsed = timer.autorange()
    number = max(1, int(number * 0.02 / max(elapsed, 1e-9)))
    return lambda: timer.timeit(number) / number


def _p2wpkh_pending(n_inputs: int, seckey: bytes):
    """A bitcore-JSON pending transaction spending n P2WPKH outputs of one key."""
    from kms_ref.crypto.hashes import hash160
    from kms_ref.crypto.keys import pubkey_from_seckey
    from kms_ref.encoding.script import p2wpkh_script
    from kms_ref.tx.transaction import Transaction, TxIn, TxOut

    script = p2wpkh_script(hash160(pubkey_from_seckey(seckey)))
    inputs = [TxIn(hashlib.sha256(b"prev %d" % i).digest(), i % 3, b"", 0xFFFFFFFF, []) for i in range(n_inputs)]
    tx = Transaction(2, inputs, [TxOut(n_inputs * 10_000 - 5_000, script)], 0)
    body = {"hash": tx.txid(), "version": 2,
            "inputs": [{"prevTxId": txin.prev_txid, "outputIndex": txin.vout, "sequenceNumber": 0xFFFFFFFF,
                        "script": "", "scriptString": "", "output": {"satoshis": 10_000, "script": script.hex()}}
                       for txin in inputs],
            "outputs": [{"satoshis": n_inputs * 10_000 - 5_000, "script": script.hex()}], "nLockTime": 0}
    return {"id": "bench", "chain": "BTC", "serializedTransaction": json.dumps(body), "hashes": ["k"]}


def kms_ref_cases(tmp: str):
    """(name, function) pairs timing kms_ref."""
    from kms_ref.crypto import ecmult
    from kms_ref.crypto.aes import AES
    from kms_ref.crypto.bip340 import pubkey_xonly, schnorr_sign as bip340_sign, schnorr_verify as bip340_verify
    from kms_ref.crypto.ecdsa import ecdsa_sign, ecdsa_verify
    from kms_ref.crypto.gcm import GCM
    from kms_ref.crypto.ripemd160 import ripemd160
    from kms_ref.crypto.schnorr_bch import schnorr_sign
    from kms_ref.crypto.keys import pubkey_from_seckey
    from kms_ref.hd import bip39, tatum
    from kms_ref.hd.bip32 import ExtendedKey
    from kms_ref.hd.chains import get_chain
    from kms_ref.store.wallet_store import WalletStore
    from kms_ref.tx.pending import sign_pending

    ecmult.precompute_g()  # a signing process builds the k·G table once; time the steady state
    seckey = hashlib.sha256(b"kms_ref bench key").digest()
    digest = hashlib.sha256(b"kms_ref bench message").digest()
    pubkey = pubkey_from_seckey(seckey)
    signature = ecdsa_sign(seckey, digest)
    other_key = hashlib.sha256(b"kms_ref bench key seen once").digest()
    other_pubkey, other_signature = pubkey_from_seckey(other_key), ecdsa_sign(other_key, digest)
    xonly, bip340_signature = pubkey_xonly(seckey), bip340_sign(seckey, digest, bytes(32))
    mnemonic = bip39.entropy_to_mnemonic(bytes(32))
    chain = get_chain("BTC", False)
    node = tatum.wallet_node(chain, mnemonic)
    xpub = node.public().serialize(chain.xpub_version)
    public_node = node.public()
    counter = iter(range(10 ** 9))
    gcm = GCM(bytes(32))
    aes = AES(bytes(32))
    block, chunk = bytes(16), bytes(64 * 1024)
    wallet_path = os.path.join(tmp, "wallet.dat")
    with WalletStore(wallet_path).transaction("bench password") as wallet:
        wallet.add({"privateKey": "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn", "chain": "BTC",
                    "testnet": False})
    tx10, tx100 = _p2wpkh_pending(10, seckey), _p2wpkh_pending(100, seckey)
    return [
        ("pubkey_from_seckey", lambda: pubkey_from_seckey(seckey)),
        ("ecdsa_sign", lambda: ecdsa_sign(seckey, digest)),
        ("ecdsa_verify", lambda: _without_key_tables(ecdsa_verify, other_pubkey, digest, other_signature)),
        ("ecdsa_verify_parsed_key", lambda: _without_key_tables(ecdsa_verify, other_pubkey, digest, other_signature,
                                                                parsed=True)),
        ("ecdsa_verify_same_key", lambda: ecdsa_verify(pubkey, digest, signature)),
        ("bch_schnorr_sign", lambda: schnorr_sign(seckey, digest)),
        ("bip340_sign", lambda: bip340_sign(seckey, digest, bytes(32))),
        ("bip340_verify", lambda: bip340_verify(xonly, digest, bip340_signature)),
        ("bip32_private_child", lambda: node.ckd_priv(next(counter) % 2 ** 31)),
        ("bip32_public_child", lambda: public_node.ckd_pub(next(counter) % 2 ** 31)),
        ("address_for_index", lambda: tatum.address_from_xpub(chain, xpub, next(counter) % 2 ** 31)),
        ("mnemonic_to_seed", lambda: bip39.mnemonic_to_seed(mnemonic)),
        ("ripemd160_33_bytes", lambda: ripemd160(pubkey)),
        ("aes256_block", lambda: aes.encrypt_block(block)),
        ("aes256_gcm_64KiB", lambda: gcm.encrypt(bytes(12), chunk)),
        ("wallet_unlock", lambda: WalletStore(wallet_path).open("bench password").close()),
        ("sign_10_input_p2wpkh", lambda: sign_pending(tx10, [seckey], False)),
        ("sign_100_input_p2wpkh", lambda: sign_pending(tx100, [seckey], False)),
    ]


def _without_key_tables(verify, *args, parsed: bool = False):
    """A verification as for a key seen once: no per-key comb table (`ecmult._key_table`) and,
    unless `parsed`, the memory of recent keys emptied (`secp256k1.forget_pubkeys`), so that
    the key comes as bytes never seen: the other libraries' `ecdsa_verify` decompress theirs on
    every call — a square root mod p — where kms_ref verifies without one
    (`kms_ref.crypto.ecdsa_compressed_key`). `ecdsa_verify_parsed_key` hands every library the
    parsed key: the verification alone. `ecdsa_verify_same_key` shows the repeated-key case — the inputs of one
    transaction — where kms_ref reuses both the parsed key and a comb table of it."""
    from kms_ref.crypto import ecmult, secp256k1

    saved, ecmult.KEY_TABLE_AFTER = ecmult.KEY_TABLE_AFTER, float("inf")
    if not parsed:
        secp256k1.forget_pubkeys()
    try:
        return verify(*args)
    finally:
        ecmult.KEY_TABLE_AFTER = saved


def _optional(name: str):
    """The module `name` if this Python happens to have it, else None. Loaded by name, at run
    time, only here: the comparison libraries are never a dependency of kms_ref."""
    try:
        if name == "ecc":  # btclib's curve: its pure-Python path, as kms_ref's is
            os.environ["ECC_NO_LIBSECP256K1"] = "1"
        module = importlib.import_module(name)
        if name == "ecdsa":
            importlib.import_module("ecdsa.util")
        if name == "ecc":
            importlib.import_module("ecc.ecc.dsa")
            importlib.import_module("ecc.curves")
            if module.curves.is_libsecp256k1_serving():  # imported earlier with its C path on
                module.curves.set_libsecp256k1_serving(serving=False)
        return module
    except ImportError:
        return None


def comparison_cases():
    """{library: {name: function}} for whichever comparison libraries are importable."""
    seckey = hashlib.sha256(b"kms_ref bench key").digest()
    digest = hashlib.sha256(b"kms_ref bench message").digest()
    other = hashlib.sha256(b"kms_ref bench key seen once").digest()  # the key kms_ref verifies with
    out = {}
    ecdsa, ecc, coincurve = _optional("ecdsa"), _optional("ecc"), _optional("coincurve")
    if ecdsa is not None:
        sigencode_der, sigdecode_der = ecdsa.util.sigencode_der, ecdsa.util.sigdecode_der
        curve = ecdsa.SECP256k1
        sk = ecdsa.SigningKey.from_string(seckey, curve=curve)
        other_sk = ecdsa.SigningKey.from_string(other, curve=curve)
        pub = other_sk.get_verifying_key().to_string("compressed")
        vk = ecdsa.VerifyingKey.from_string(pub, curve=curve)
        sig = other_sk.sign_digest_deterministic(digest, hashfunc=hashlib.sha256, sigencode=sigencode_der)
        out["python-ecdsa"] = {
            "pubkey_from_seckey": lambda: ecdsa.SigningKey.from_string(seckey, curve=curve)
            .get_verifying_key().to_string("compressed"),
            "ecdsa_sign": lambda: sk.sign_digest_deterministic(digest, hashfunc=hashlib.sha256, sigencode=sigencode_der),
            "ecdsa_verify": lambda: ecdsa.VerifyingKey.from_string(pub, curve=curve)
            .verify_digest(sig, digest, sigdecode=sigdecode_der),
            "ecdsa_verify_parsed_key": lambda: vk.verify_digest(sig, digest, sigdecode=sigdecode_der),
        }
    if ecc is not None:
        dsa, curves = ecc.ecc.dsa, ecc.curves
        d, other_d = int.from_bytes(seckey, "big"), int.from_bytes(other, "big")
        point = curves.mult(other_d)
        pub = curves.bytes_from_point(point)
        sig = dsa.sign_(digest, other_d, grind=False, verify=False)
        out["btclib"] = {  # the same work as kms_ref: RFC 6979, low S, no low-R grinding, no self-check
            "pubkey_from_seckey": lambda: curves.bytes_from_point(curves.mult(d)),
            "ecdsa_sign": lambda: dsa.sign_(digest, d, grind=False, verify=False),
            "ecdsa_verify": lambda: dsa.verify_(digest, pub, sig),
            "ecdsa_verify_parsed_key": lambda: dsa.verify_(digest, point, sig),
        }
    if coincurve is not None:
        key, other_key = coincurve.PrivateKey(seckey), coincurve.PrivateKey(other)
        pub, public_key = other_key.public_key.format(), other_key.public_key
        sig = other_key.sign(digest, hasher=None)
        out["libsecp256k1"] = {
            "pubkey_from_seckey": lambda: coincurve.PrivateKey(seckey).public_key.format(),
            "ecdsa_sign": lambda: key.sign(digest, hasher=None),
            "ecdsa_verify": lambda: coincurve.PublicKey(pub).verify(sig, digest, hasher=None),
            "ecdsa_verify_parsed_key": lambda: public_key.verify(sig, digest, hasher=None),
        }
    return out


def run(quick: bool = False):
    """{"kms_ref": {name: seconds}, "<library>": {name: seconds}, ..., "ratios": {library: {name:
    how many times faster kms_ref is}}}

    An operation with comparisons is timed in alternating rounds — kms_ref, then each library,
    again and again — and each side's median kept; the ratio is the median of the ratios of the
    same round, so that a slow spell of the machine (common on shared VMs) falls on both sides
    of a ratio instead of on one."""
    results = {"kms_ref": {}, "ratios": {}, "machine": [field_product_us()]}
    others = comparison_cases()
    for library in others:
        results[library] = {}
        results["ratios"][library] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in kms_ref_cases(tmp):
            rivals = [(lib, cases[name]) for lib, cases in others.items() if name in cases]
            if not rivals:
                results["kms_ref"][name] = measure(fn, quick)
                continue
            samples = {"kms_ref": []}
            samples.update({lib: [] for lib, _ in rivals})
            timers = [("kms_ref", _short_timer(fn))] + [(lib, _short_timer(rival)) for lib, rival in rivals]
            for _ in range(9 if quick else 25):
                for lib, sample in timers:
                    samples[lib].append(sample())
            for lib, values in samples.items():
                results[lib][name] = statistics.median(values)
                if lib != "kms_ref":
                    results["ratios"][lib][name] = statistics.median(
                        theirs / ours for theirs, ours in zip(values, samples["kms_ref"]))
    results["machine"].append(field_product_us())
    return results


def report(results) -> str:
    ours = results["kms_ref"]
    lines = ["kms_ref %s benchmark, Python %s (median of repeated runs)" % (_version(), sys.version.split()[0]),
             "this machine: a 256-bit a·b mod p takes %s µs (at the start and the end of these timings)"
             % " and ".join("%.2f" % us for us in results.get("machine", [])),
             "", "%-24s %11s %12s" % ("operation", "time", "per second")]
    for name, seconds in ours.items():
        extra = ""
        if name == "aes256_gcm_64KiB":
            extra = "   %.2f MB/s" % (64 * 1024 / seconds / 1e6)
        lines.append("%-24s %s %12.0f%s" % (name, fmt_seconds(seconds), 1 / seconds, extra))
    others = [lib for lib in results if lib not in ("kms_ref", "ratios", "machine")]
    if not others:
        lines += ["", "(python-ecdsa, btclib and coincurve are not installed: no comparison this run)"]
    for lib in others:
        lines += ["", "compared with %s (same run):" % lib]
        for name, seconds in results[lib].items():
            ratio = results.get("ratios", {}).get(lib, {}).get(name, seconds / ours[name])
            target = ""
            if (name, lib) in TARGETS:
                goal = TARGETS[name, lib]
                target = "  target ≥ %.1f× faster: %s" % (goal, "met" if ratio >= goal else "MISSED")
            if lib == "libsecp256k1" and name == "ecdsa_sign":
                target = "  target within %.0f×: %s" % (LIBSECP_SIGN_MAX_RATIO,
                                                      "met" if 1 / ratio <= LIBSECP_SIGN_MAX_RATIO else "MISSED")
            relation = "%.2f× faster" % ratio if ratio >= 1 else "%.1f× slower" % (1 / ratio)
            lines.append("  %-22s %s  kms_ref is %s%s" % (name, fmt_seconds(seconds), relation, target))
    bip32 = 1 / ours["bip32_public_child"]
    tx100 = ours["sign_100_input_p2wpkh"]
    lines += ["", "BIP32 public derivation: %.0f/s (target ≥ 2,000/s: %s)" % (bip32, "met" if bip32 >= 2000 else "MISSED"),
              "100-input P2WPKH sign + verify: %.3f s (target ≤ 0.1 s: %s)" % (tx100, "met" if tx100 <= 0.1 else "MISSED")]
    return "\n".join(lines)


def _version() -> str:
    from kms_ref import __version__
    return __version__


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kms_ref.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--json", action="store_true", help="print the raw seconds as JSON")
    parser.add_argument("--side-channel", action="store_true",
                        help="only measure whether signing time follows the nonce (Welch t, fastest 1%%)")
    parser.add_argument("--messages", type=int, default=50000,
                        help="messages signed by --side-channel (default 50000; at least 20000)")
    parser.add_argument("--flows", action="store_true",
                        help="also time whole commands: getaddress on small and 25,000-key wallets, "
                             "daemon cycles against a sandbox (a few minutes)")
    parser.add_argument("--aes", action="store_true", help="only the AES figures (kms_ref.bench.ciphers)")
    args = parser.parse_args(argv)
    if args.side_channel:
        from kms_ref.bench.side_channel import report as side_channel_report

        print(side_channel_report(args.messages))
        return 0
    from kms_ref.bench import ciphers

    results = {} if args.aes else run(args.quick)
    aes_results = ciphers.run(args.quick)
    if args.json:
        print(json.dumps(dict(results, aes=aes_results), indent=2))
    else:
        if results:
            print(report(results))
            print()
        print(ciphers.report(aes_results))
    if args.flows:
        from kms_ref.bench.flows import report as flows_report

        print()
        print(flows_report())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
