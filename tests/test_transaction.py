"""Transaction serialization (Bitcoin Core tx_valid.json round trips), scripts, and the pending
transaction forms Tatum sends (bitcore JSON, BCH hex:amounts)."""

import json
import random
from pathlib import Path

import pytest

from kms_ref.encoding import script as S
from kms_ref.tx.bitcore_json import parse_bch_pending, parse_bitcore_json
from kms_ref.tx.transaction import Reader, Transaction, TxIn, TxOut, parse, parse_hex, ser_compact_size

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
TX_VALID = json.loads((VECTORS / "bitcoin_core_tx_valid.json").read_text())["vectors"]
TATUM_SIGN = json.loads((VECTORS / "tatum_sign.json").read_text())["vectors"]


@pytest.mark.parametrize("case", TX_VALID, ids=["tx_valid-%02d" % n for n in range(len(TX_VALID))])
def test_tx_valid_round_trip(case):
    _prevouts, raw, _flags = case
    tx = parse_hex(raw)
    assert tx.serialize().hex() == raw
    assert parse(tx.serialize()) == tx
    if not tx.has_witness():
        assert tx.wtxid() == tx.txid()


def test_segwit_serialization_only_with_witness():
    raw = ("0100000000010115e180dc28a2327e687facc33f10f2a20da717e5548406f7ae8b4c811072f856040000002322"
           "0020ff25429251b5a84f452230a3c75fd886b7fc5a7865ce4a7bb7a9d7c5be6da3dbffffffff01000000000000"
           "00001976a9144c9c3dfac4207d5d8cb89df5722cb3d712385e3f88ac02483045022100aa5d8aa40a90f23ce2c3"
           "d11bc845ca4a12acd99cbea37de6b9f6d86edebba8cb022022dedc2aa0a255f74d04c0b76ece2d7c691f9dd11a"
           "64a8ac49f62a99c3a05f9d01232103596d3451025c19dbbdeb932d6bf8bfb4ad499b95b6f88db8899efac102e5"
           "fc71ac00000000")
    tx = parse_hex(raw)
    assert tx.serialize().hex() == raw
    legacy = tx.serialize(include_witness=False)
    assert legacy[4:6] != b"\x00\x01"
    for txin in tx.inputs:
        txin.witness = []
    assert tx.serialize() == legacy


def test_txid_display_order():
    tx = Transaction(1, [TxIn(bytes(range(32)), 7)], [TxOut(5, b"\x51")], 0)
    assert tx.inputs[0].prev_txid == bytes(range(32))[::-1].hex()
    from kms_ref.crypto.hashes import hash256
    assert tx.txid() == hash256(tx.serialize())[::-1].hex()


@pytest.mark.parametrize("n,encoded", [
    (0, "00"), (0xFC, "fc"), (0xFD, "fdfd00"), (0xFFFF, "fdffff"), (0x10000, "fe00000100"),
    (0x2000000, "fe00000002")])
def test_compact_size(n, encoded):
    assert ser_compact_size(n).hex() == encoded
    assert Reader(bytes.fromhex(encoded)).compact_size() == n


def test_compact_size_round_trip_random():
    seed = 1143
    rng = random.Random(seed)
    for _ in range(1000):
        n = rng.choice([rng.randrange(0x100), rng.randrange(0x10000), rng.randrange(0x2000001)])
        assert Reader(ser_compact_size(n)).compact_size() == n, "seed %d n %d" % (seed, n)


@pytest.mark.parametrize("encoded,reason", [
    ("fd0100", "non-canonical"), ("feffff0000", "non-canonical"), ("ffffffffff00000000", "non-canonical"),
    ("fe01000002", "MAX_SIZE"), ("fd01", "truncated")])
def test_compact_size_rejects(encoded, reason):
    with pytest.raises(ValueError, match=reason):
        Reader(bytes.fromhex(encoded)).compact_size()


SIMPLE = TATUM_SIGN[3]["signed"]  # a one-input BCH transaction


@pytest.mark.parametrize("raw,reason", [
    (SIMPLE[:-2], "truncated"),
    (SIMPLE + "00", "unexpected bytes"),
    ("zz" + SIMPLE[2:], "not valid hex"),
    ("0100000000020000000000", "flag"),                                      # unknown BIP144 flag
    ("01000000000100000000", "superfluous|truncated"),
])
def test_parse_rejects(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_hex(raw)


def test_parse_rejects_superfluous_witness():
    tx = parse_hex(SIMPLE)
    legacy = tx.serialize()
    # Insert marker and flag, then an empty witness for the one input: Bitcoin Core refuses this.
    body = legacy[4:-4]
    raw = legacy[:4] + b"\x00\x01" + body + b"\x00" + legacy[-4:]
    with pytest.raises(ValueError, match="superfluous"):
        parse(raw)


# --- script ---

@pytest.mark.parametrize("size,prefix", [
    (0, "00"), (1, "01"), (75, "4b"), (76, "4c4c"), (255, "4cff"), (256, "4d0001"), (65535, "4dffff"),
    (65536, "4e00000100")])
def test_push_data(size, prefix):
    data = bytes(size)
    pushed = S.push_data(data)
    assert pushed.hex().startswith(prefix) and pushed.endswith(data)
    assert S.parse_script(pushed) == [(int(prefix[:2], 16), data)]


def test_classify_templates():
    h20, h32, pub = bytes(range(20)), bytes(range(32)), bytes([2]) + bytes(range(32))
    assert S.classify(S.p2pkh_script(h20)) == (S.P2PKH, h20)
    assert S.classify(S.p2wpkh_script(h20)) == (S.P2WPKH, h20)
    assert S.classify(S.p2sh_script(h20)) == (S.P2SH, h20)
    assert S.classify(S.p2pk_script(pub)) == (S.P2PK, pub)
    assert S.classify(S.p2pk_script(b"\x04" + bytes(64)))[0] == S.P2PK
    assert S.classify(b"\x00\x20" + h32) == (S.P2WSH, h32)
    assert S.classify(b"\x51\x20" + h32) == (S.P2TR, h32)
    assert S.classify(b"\x6a\x04abcd")[0] == S.NULLDATA
    assert S.classify(b"\x51")[0] == S.UNKNOWN
    assert S.classify(S.p2pk_script(b"\x05" + bytes(32)))[0] == S.UNKNOWN     # not a pubkey shape
    assert S.classify(b"\x4c\x14" + h20)[0] == S.UNKNOWN                      # not the exact template


def test_remove_codeseparators_is_op_aligned():
    # OP_CODESEPARATOR inside pushed data stays; as an opcode it goes.
    script = bytes([0xAB, 0x02, 0xAB, 0xAB, 0xAB, 0xAC])
    assert S.remove_codeseparators(script) == bytes([0x02, 0xAB, 0xAB, 0xAC])
    # A push running past the end is kept as is.
    assert S.remove_codeseparators(bytes([0xAB, 0x05, 0xAB])) == bytes([0x05, 0xAB])


def test_parse_script_rejects_truncated_push():
    for script in ("05aabb", "4c", "4d01", "4e010000"):
        with pytest.raises(ValueError, match="past the end"):
            S.parse_script(bytes.fromhex(script))
    with pytest.raises(ValueError, match="push-only"):
        S.parse_pushes(bytes.fromhex("01aaac"))


# --- pending forms ---

BITCORE_CASE = json.loads(TATUM_SIGN[0]["pending"]["serializedTransaction"])
BCH_CASE = TATUM_SIGN[3]["pending"]["serializedTransaction"]


@pytest.mark.parametrize("case", TATUM_SIGN, ids=["sign-%02d-%s" % (n, c["chain"]) for n, c in enumerate(TATUM_SIGN)])
def test_pending_forms_parse(case):
    text = case["pending"]["serializedTransaction"]
    if case["chain"] == "BCH":
        tx, amounts = parse_bch_pending(text)
        assert len(amounts) == len(tx.inputs) == len(case["kinds"])
        assert tx.serialize().hex() == text.split(":")[0]
    else:
        parsed = parse_bitcore_json(text)
        obj = json.loads(text)
        assert parsed.tx.txid() == obj["hash"]
        assert [p.amount for p in parsed.prevouts] == [i["output"]["satoshis"] for i in obj["inputs"]]
        assert [p.script_pubkey.hex() for p in parsed.prevouts] == [i["output"]["script"] for i in obj["inputs"]]
        assert [o.value for o in parsed.tx.outputs] == [o["satoshis"] for o in obj["outputs"]]


def _mutated(mutate):
    obj = json.loads(json.dumps(BITCORE_CASE))
    mutate(obj)
    return obj


@pytest.mark.parametrize("name,mutate,reason", [
    ("no-version", lambda o: o.pop("version"), "missing field 'version'"),
    ("no-inputs", lambda o: o.update(inputs=[]), "non-empty list"),
    ("no-output-info", lambda o: o["inputs"][1].pop("output"), "input 1: missing field 'output'"),
    ("no-script", lambda o: o["inputs"][0].pop("script"), "input 0: missing field 'script'"),
    ("bad-txid", lambda o: o["inputs"][0].update(prevTxId="xy" * 32), "prevTxId is not valid hex"),
    ("short-txid", lambda o: o["inputs"][0].update(prevTxId="00" * 31), "must be 32 bytes"),
    ("negative-amount", lambda o: o["outputs"][0].update(satoshis=-1), "out of range"),
    ("huge-amount", lambda o: o["inputs"][0]["output"].update(satoshis=2 ** 53), "out of range"),
    ("float-amount", lambda o: o["outputs"][0].update(satoshis=1.5), "must be an integer"),
    ("string-amount", lambda o: o["outputs"][0].update(satoshis="100"), "must be an integer"),
    ("bad-script", lambda o: o["outputs"][0].update(script="0g"), "script is not valid hex"),
    ("wrong-hash", lambda o: o.update(hash="00" * 32), "does not match"),
    ("bad-vout", lambda o: o["inputs"][0].update(outputIndex=2 ** 32), "out of range"),
    ("change-index-without-script", lambda o: o.update(changeIndex=0), "changeScript is missing"),
    ("change-index-wrong-output", lambda o: o.update(changeIndex=0, changeScript="51"), "does not pay"),
])
def test_bitcore_json_rejects(name, mutate, reason):
    with pytest.raises(ValueError, match=reason):
        parse_bitcore_json(_mutated(mutate))


def test_bitcore_json_rejects_non_json():
    for text in ("{", "[]", "42"):
        with pytest.raises(ValueError):
            parse_bitcore_json(text)


def test_bitcore_json_optional_fields():
    obj = _mutated(lambda o: (o.pop("hash"), o["inputs"][0].pop("sequenceNumber")))
    obj["changeScript"] = obj["outputs"][1]["script"]
    obj["changeIndex"] = 1
    obj["fee"] = 1234
    parsed = parse_bitcore_json(obj)
    assert parsed.tx.inputs[0].sequence == 0xFFFFFFFF
    assert parsed.change_index == 1 and parsed.change_script.hex() == obj["changeScript"] and parsed.fee == 1234


@pytest.mark.parametrize("text,reason", [
    (BCH_CASE.split(":")[0], "must be"),
    (BCH_CASE.replace(":[4560203]", ":[4560203,1]"), "1 inputs but 2 amounts"),
    (BCH_CASE.replace(":[4560203]", ":[]"), "1 inputs but 0 amounts"),
    (BCH_CASE.replace(":[4560203]", ":[-5]"), "out of range"),
    (BCH_CASE.replace(":[4560203]", ":[2100000000000001]"), "out of range"),
    (BCH_CASE.replace(":[4560203]", ":[4560203.5]"), "must be an integer"),
    (BCH_CASE.replace(":[4560203]", ":{}"), "JSON list"),
    (BCH_CASE.replace(":[4560203]", ":[1"), "not valid JSON"),
    ("zz" + BCH_CASE[2:], "not valid hex"),
])
def test_bch_pending_rejects(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_bch_pending(text)
