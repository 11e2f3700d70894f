"""`kms-ref sign --explain` as a student uses it: every number of an --explain --showSecrets trace
is recomputed here independently — the digest from the printed preimage (double SHA-256), k from
d and the digest (RFC 6979 with hmac), R = k*G with this file's own affine arithmetic, s from d,
k, r and e — and without --showSecrets no secret may appear. Plus the pieces: the labelled
preimage fields against sighash.py for every Tatum fixture, and the textbook signers against
the fast ones."""

import hashlib
import hmac
import json
import random
import re

import pytest

from kms_ref.crypto.ecdsa import ecdsa_sign
from kms_ref.crypto.rfc6979 import ALGO16_SCHNORR_BCH, rfc6979_nonces
from kms_ref.crypto.schnorr_bch import schnorr_sign
from kms_ref.crypto.secp256k1 import G as KMS_G, point_mul
from kms_ref.crypto.textbook import DoubleAndAdd, ecdsa_sign_traced, schnorr_sign_traced
from kms_ref.encoding.script import P2PK, P2PKH, classify, p2pkh_script
from kms_ref.encoding.wif import wif_decode
from kms_ref.hd.chains import get_chain
from kms_ref.tx.bitcore_json import parse_bch_pending, parse_bitcore_json
from kms_ref.tx.sighash import bip143_preimage, forkid_preimage, legacy_preimage
from kms_ref.tx.sighash_fields import bip143_fields, forkid_fields, legacy_fields
from tests.cli_helpers import kms
from tests.test_sign_command import SIGN, run_sign, store_entries

# secp256k1, written out again here so that the checks do not lean on kms_ref's arithmetic.
P = 2 ** 256 - 2 ** 32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def add(a, b):
    if a is None:
        return b
    if a[0] == b[0]:
        slope = 3 * a[0] * a[0] * pow(2 * a[1], -1, P)
    else:
        slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, P)
    x = (slope * slope - a[0] - b[0]) % P
    return x, (slope * (a[0] - x) - a[1]) % P


def mul(k, point=G):
    result = None
    for bit in bin(k)[2:]:
        result = add(result, result) if result else None
        if bit == "1":
            result = add(result, point)
    return result


def compressed(point):
    return bytes([2 + (point[1] & 1)]) + point[0].to_bytes(32, "big")


def rfc6979(x: int, digest: bytes, extra: bytes = b""):
    """RFC 6979 §3.2 with HMAC-SHA256: (k, [(K, V) after each step])."""
    seed = x.to_bytes(32, "big") + (int.from_bytes(digest, "big") % N).to_bytes(32, "big") + extra
    V, K, states = b"\1" * 32, b"\0" * 32, []
    states.append((K, V))
    for tag in (b"\0", b"\1"):
        K = hmac.new(K, V + tag + seed, hashlib.sha256).digest()
        states.append((K, V))
        V = hmac.new(K, V, hashlib.sha256).digest()
        states.append((K, V))
    V = hmac.new(K, V, hashlib.sha256).digest()
    states.append((K, V))
    return int.from_bytes(V, "big"), states


# --- reading a trace -----------------------------------------------------------------------------------

def inputs_of(trace: str) -> list:
    """Per input: {name: hex} of its `name = value` lines, plus the field bytes and K/V lines."""
    sections = re.split(r"^\s*== input \d+ ", trace, flags=re.M)[1:]
    found = []
    for text in sections:
        values = {}
        for name, value in re.findall(r"^\s+(\S[^=\n]*?) = ([0-9a-f]+)$", text, re.M):
            values.setdefault(name, value)
        fields = text[text.index("signature hash preimage"):text.index("preimage = ")]
        values["fields"] = "".join(re.findall(r"^ {5}\S.*?\s{2,}([0-9a-f]+)(?:\s|$)", fields, re.M))
        values["states"] = [(bytes.fromhex(k), bytes.fromhex(v)) for k, v in
                            re.findall(r"K = ([0-9a-f]{64})\n\s+V = ([0-9a-f]{64})", text)]
        values["text"] = text
        found.append(values)
    return found


def explained(tmp_path, case, *flags):
    ids = store_entries(tmp_path / "w.dat", [{"privateKey": k, "chain": case["chain"], "testnet": case["testnet"]}
                                             for k in case["privateKeys"]])
    r = run_sign(tmp_path, dict(case["pending"], hashes=ids), case["testnet"], "--explain", *flags)
    assert r.code == 0, r.err
    assert r.json() == {"txData": case["signed"]}
    return r


def secrets_of(case):
    prefix = get_chain(case["chain"], case["testnet"]).wif_prefix
    return {int.from_bytes(wif_decode(wif, prefix)[0], "big") for wif in case["privateKeys"]}


EXPLAINED = [0, 1, 2, 11]   # BTC (P2PK, P2SH-P2WPKH, P2WPKH, P2PKH), LTC, DOGE, BCH: testnet, several inputs
assert all(SIGN[i]["testnet"] and not SIGN[i]["error"] for i in EXPLAINED)


@pytest.mark.parametrize("index", EXPLAINED, ids=["%s-%d" % (SIGN[i]["chain"], i) for i in EXPLAINED])
def test_a_student_recomputes_every_signature(tmp_path, index):
    case = SIGN[index]
    trace = explained(tmp_path, case, "--showSecrets").err
    inputs = inputs_of(trace)
    assert len(inputs) == len(re.findall(r"== input \d+ spends", trace)) > 0
    for v in inputs:
        preimage = bytes.fromhex(v["preimage"])
        assert v["fields"] == v["preimage"], "the labelled fields make up the preimage"
        digest = hashlib.sha256(hashlib.sha256(preimage).digest()).digest()
        assert v["digest"] == digest.hex()
        d = int(v["d"], 16)
        assert d in secrets_of(case)
        if case["chain"] == "BCH":
            assert v["m"] == digest.hex()
            k0, states = rfc6979(d, digest, ALGO16_SCHNORR_BCH)
            assert int(v["k0"], 16) == k0 and v["states"] == states
            R = mul(k0)
            k = k0 if pow(R[1], (P - 1) // 2, P) == 1 else N - k0    # Euler's criterion for jacobi
            assert int(v["k"], 16) == k and int(v["r"], 16) == R[0]
            public = compressed(mul(d))
            e = int.from_bytes(hashlib.sha256(R[0].to_bytes(32, "big") + public + digest).digest(), "big") % N
            assert int(v["e"], 16) == e
            assert int(v["s"], 16) == (k + e * d) % N
        else:
            e = int.from_bytes(digest, "big")
            assert int(v["e"], 16) == e
            k, states = rfc6979(d, digest)
            assert int(v["k"], 16) == k and v["states"] == states
            r = mul(k)[0] % N
            assert int(v["r"], 16) == r
            s = pow(k, -1, N) * (e + r * d) % N
            assert int(v["k^-1 (e + r*d) mod n"], 16) == s
            assert int(v["s"], 16) == min(s, N - s)                   # BIP62 low S
            der_r = re.search(r"INTEGER of \d+ bytes: r.*\n\s+([0-9a-f]+)", v["text"]).group(1)
            assert int(der_r, 16) == r


@pytest.mark.parametrize("index", [0, 11], ids=["BTC", "BCH"])
def test_without_show_secrets_no_secret_is_printed(tmp_path, index):
    case = SIGN[index]
    r = explained(tmp_path, case)
    inputs = inputs_of(r.err)
    assert inputs and all("r" in v and "s" in v and "digest" in v for v in inputs)
    printed = r.err.lower()
    for d in secrets_of(case):
        assert "%064x" % d not in printed
        for v in inputs:
            digest = bytes.fromhex(v["digest"])
            for extra in (b"", ALGO16_SCHNORR_BCH):
                k, states = rfc6979(d, digest, extra)
                assert "%064x" % k not in printed and "%064x" % (N - k) not in printed
                assert all(K.hex() not in printed and V.hex() not in printed for K, V in states[1:])
    for wif in case["privateKeys"]:
        assert wif.lower() not in printed
    assert "withheld" in printed and not re.search(r"^\s+(d|k|k0) = ", printed, re.M)


@pytest.mark.parametrize("flag", ["--showSecrets", "--textbook"])
def test_secrets_and_textbook_are_refused_on_mainnet(tmp_path, flag):
    case = next(c for c in SIGN if c["chain"] == "BTC" and not c["testnet"] and not c["error"])
    ids = store_entries(tmp_path / "w.dat", [{"privateKey": k, "chain": "BTC", "testnet": False}
                                             for k in case["privateKeys"]])
    before = (tmp_path / "w.dat").read_bytes()
    r = run_sign(tmp_path, dict(case["pending"], hashes=ids), False, "--explain", flag)
    assert r.code == 1 and "testnet only" in r.error() and r.out == ""
    assert (tmp_path / "w.dat").read_bytes() == before
    assert "== input" not in r.err


@pytest.mark.parametrize("index", [8, 3], ids=["BTC", "BCH"])
def test_textbook_counts_the_double_and_add_steps(tmp_path, index):
    case = SIGN[index]
    trace = explained(tmp_path, case, "--textbook", "--showSecrets").err
    for v in inputs_of(trace):
        k = int(v.get("k0", v["k"]), 16)
        counts = re.search(r"(\d+) doublings and (\d+) additions", v["text"]).groups()
        assert (int(counts[0]), int(counts[1])) == (k.bit_length(), bin(k).count("1"))
        assert "these very bytes" in v["text"]


def test_the_answer_of_step_7_is_told_where_the_transaction_is(tmp_path):
    store_entries(tmp_path / "w.dat", [{"privateKey": SIGN[8]["privateKeys"][0], "chain": "BTC", "testnet": True}])
    r = run_sign(tmp_path, {"signatureId": "61fe7c68cf2fbc595cbb89dd"}, True)
    assert "GET /v3/kms/61fe7c68cf2fbc595cbb89dd" in r.error()
    r = run_sign(tmp_path, [SIGN[8]["pending"], SIGN[8]["pending"]], True)
    assert "sign one at a time" in r.error()


def test_a_network_mismatch_names_the_flag(tmp_path):
    case = SIGN[8]
    ids = store_entries(tmp_path / "w.dat", [{"privateKey": k, "chain": "BTC", "testnet": True}
                                             for k in case["privateKeys"]])
    r = run_sign(tmp_path, dict(case["pending"], hashes=ids), False)
    assert "is for BTC testnet, the transaction is BTC mainnet; add --testnet" in r.error()
    assert "(wallet file %s)" % (tmp_path / "w.dat") in r.error()


# --- the pieces -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", SIGN, ids=["%d-%s" % (i, c["chain"]) for i, c in enumerate(SIGN)])
def test_preimage_fields_add_up(case):
    code = p2pkh_script(bytes(range(20)))   # any script code: the fields carry it as given
    if case["chain"] == "BCH":
        tx, amounts = parse_bch_pending(case["pending"]["serializedTransaction"])
        for i, amount in enumerate(amounts):
            fields = forkid_fields(tx, i, code, amount)
            assert b"".join(f.data for f in fields) == forkid_preimage(tx, i, code, amount)
            assert [f.label.split(".")[0] for f in fields] == [str(n) for n in range(1, 11)]
        return
    parsed = parse_bitcore_json(case["pending"]["serializedTransaction"])
    for i, prevout in enumerate(parsed.prevouts):
        if classify(prevout.script_pubkey)[0] in (P2PKH, P2PK):
            fields = legacy_fields(parsed.tx, i, prevout.script_pubkey, 1)
            assert b"".join(f.data for f in fields) == legacy_preimage(parsed.tx, i, prevout.script_pubkey, 1)
        else:
            fields = bip143_fields(parsed.tx, i, code, prevout.amount, 1)
            assert b"".join(f.data for f in fields) == bip143_preimage(parsed.tx, i, code, prevout.amount, 1)


def test_textbook_signers_equal_the_fast_ones():
    seed = 20250113
    rng = random.Random(seed)
    for _ in range(25):
        seckey, msg = (bytes(rng.getrandbits(8) for _ in range(32)) for _ in range(2))
        if not 0 < int.from_bytes(seckey, "big") < N:
            continue
        ecdsa = ecdsa_sign_traced(seckey, msg)
        assert ecdsa.der == ecdsa_sign(seckey, msg), "seed %d" % seed
        assert ecdsa.k == next(rfc6979_nonces(seckey, msg)), "seed %d" % seed
        schnorr = schnorr_sign_traced(seckey, msg)
        assert schnorr.signature == schnorr_sign(seckey, msg), "seed %d" % seed
        assert schnorr.k0 == next(rfc6979_nonces(seckey, msg, algo16=ALGO16_SCHNORR_BCH)), "seed %d" % seed


def test_point_mul_steps_are_the_bits():
    k = 0b1011001
    counter = DoubleAndAdd()
    assert point_mul(k, KMS_G, counter) == point_mul(k, KMS_G) == mul(k)
    assert (counter.doublings, counter.additions) == (7, 4)
    assert counter.first_steps == [("double", 6), ("add", 6), ("double", 5), ("double", 4), ("add", 4), ("double", 3)]


def test_explain_of_a_pending_list_of_one(tmp_path):
    """`/v3/kms/pending` answers a list; one element of it is accepted as it was before."""
    case = SIGN[8]
    ids = store_entries(tmp_path / "w.dat", [{"privateKey": k, "chain": "BTC", "testnet": True}
                                             for k in case["privateKeys"]])
    (tmp_path / "pending.json").write_text(json.dumps([dict(case["pending"], hashes=ids)]))
    r = kms(tmp_path, "--path", str(tmp_path / "w.dat"), "sign", str(tmp_path / "pending.json"), "--testnet", "--explain")
    assert r.json() == {"txData": case["signed"]} and "== input 0" in r.err


def test_an_input_explain_does_not_take_apart_shows_what_the_signer_said():
    """A kind tx.explain has no page for (here P2TR) is not an error: its section shows the lines
    the signer's own explain callback gave for that input."""
    from kms_ref.tx.explain import explain_signed
    from kms_ref.tx.transaction import Transaction, TxIn, TxOut

    tx = Transaction(2, [TxIn(bytes(32), 0, b"", witness=[bytes(64)])], [TxOut(1000, bytes(22))])
    lines = []
    explain_signed(tx, "BTC", [2000], [bytes([0x51, 32]) + bytes(32)], lines.append,
                   signer_lines={0: ["input 0 (p2tr, BIP341 key path): ...", "a BIP340 step"]})
    text = "\n".join(lines)
    assert "locked by P2TR 5120" in text and "not taken apart here" in text
    assert "input 0 (p2tr, BIP341 key path): ..." in text and "a BIP340 step" in text
