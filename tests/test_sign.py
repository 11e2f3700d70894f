"""Signing pending transactions: every Tatum fixture byte for byte, the BIP143 examples, the refusals."""

import json
import random
from pathlib import Path

import pytest

from kms_ref.crypto.hashes import hash160
from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.encoding.wif import wif_decode, wif_encode
from kms_ref.hd.chains import get_chain
from kms_ref.hd.tatum import wallet_node
from kms_ref.tx import doge_checks
from kms_ref.tx.bitcore_json import PrevOut, parse_bitcore_json
from kms_ref.tx.pending import sign_pending, sign_withdrawal, to_private_key
from kms_ref.encoding.script import P2SH, classify, p2pkh_script, p2wpkh_script
from kms_ref.tx.sign import PrivateKey, match_inputs, p2sh_p2wpkh_script, sign_bch, sign_bitcore
from kms_ref.tx.transaction import Transaction, TxIn, TxOut, parse_hex
from kms_ref.tx.verify import verify_transaction

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
TATUM_SIGN = json.loads((VECTORS / "tatum_sign.json").read_text())["vectors"]
TATUM_OFFCHAIN = json.loads((VECTORS / "tatum_offchain.json").read_text())["vectors"]
BIP143_SIGNING = json.loads((VECTORS / "bip143_examples.json").read_text())["signing"]


def _case_id(n, case):
    net = "test" if case["testnet"] else "main"
    return "%02d-%s-%s-%din%s" % (n, case["chain"], net, len(case.get("kinds", [])), "-refused" if case["error"] else "")


def _by_id(cases):
    return [pytest.param(c, id=_case_id(n, c)) for n, c in enumerate(cases)]


@pytest.mark.parametrize("case", _by_id(TATUM_SIGN))
def test_tatum_sign(case):
    pending = case["pending"]
    if case["error"]:
        assert case["signed"] is None and case["txid"] is None
        with pytest.raises(ValueError) as refused:
            sign_pending(pending, case["privateKeys"], case["testnet"])
        assert str(refused.value) == case["error"]
        return
    signed_hex = sign_pending(pending, case["privateKeys"], case["testnet"])
    assert signed_hex == case["signed"]
    signed = parse_hex(signed_hex)
    assert signed.txid() == case["txid"]
    # the fixture's input kinds are what kms_ref recognised
    if case["chain"] == "BCH":
        assert case["kinds"] == ["p2pkh"] * len(signed.inputs)
    else:
        prevouts = parse_bitcore_json(pending["serializedTransaction"]).prevouts
        kinds = [classify(p.script_pubkey)[0] for p in prevouts]
        assert [("p2sh-p2wpkh" if k == P2SH else k) for k in kinds] == case["kinds"]


@pytest.mark.parametrize("case", _by_id(TATUM_OFFCHAIN))
def test_tatum_offchain(case):
    chain = get_chain(case["chain"], case["testnet"])
    assert case["pending"]["hashes"] == ["MNEMONIC-WALLET"] and case["error"] is None
    node = wallet_node(chain, case["mnemonic"])            # the wallet "MNEMONIC-WALLET" stands for
    assert node.public().serialize(chain.xpub_version) == case["xpub"]
    asked = []

    def key_at_index(i):
        asked.append(i)
        return PrivateKey(node.ckd_priv(i).seckey, True)

    assert sign_withdrawal(case["pending"], key_at_index, case["testnet"]) == case["signed"]
    expected = [r["address"].get("derivationKey") or 0 for r in case["pending"]["withdrawalResponses"]
                if r["vIn"] != "-1"]
    assert asked == expected


def test_withdrawal_needs_withdrawal_fields():
    case = TATUM_OFFCHAIN[0]
    with pytest.raises(ValueError, match="not an offchain withdrawal"):
        sign_withdrawal(dict(case["pending"], withdrawalId=None), lambda i: PrivateKey(bytes(31) + b"\x01"), True)
    bch = next(c for c in TATUM_OFFCHAIN if c["chain"] == "BCH")
    responses = bch["pending"]["withdrawalResponses"]
    node = wallet_node(get_chain("BCH", bch["testnet"]), bch["mnemonic"])
    short = dict(bch["pending"], withdrawalResponses=[r for r in responses if r["vIn"] != "-1"][:-1])
    with pytest.raises(ValueError, match="do not match the .* inputs one to one"):
        sign_withdrawal(short, lambda i: PrivateKey(node.ckd_priv(i).seckey), bch["testnet"])


@pytest.mark.parametrize("case", BIP143_SIGNING, ids=[c["name"] for c in BIP143_SIGNING])
def test_bip143_examples_sign(case):
    tx = parse_hex(case["unsigned_tx"])
    prevouts = [PrevOut(p["amount"], bytes.fromhex(p["script"])) for p in case["prevouts"]]
    keys = [PrivateKey(bytes.fromhex(k), True) for k in case["private_keys"]]
    signed = sign_bitcore(tx, prevouts, keys, "BTC")
    assert signed.serialize().hex() == case["signed_tx"]
    assert tx.serialize().hex() == case["unsigned_tx"]          # the input is left alone


# --- refusals ---

BTC_CASE = TATUM_SIGN[0]       # BTC testnet: p2pk, p2sh-p2wpkh, p2wpkh, p2pk, p2pkh
BCH_CASE = TATUM_SIGN[3]
# DOGE testnet, one P2PKH input, one output, fee 0.3 DOGE
DOGE_CASE = next(c for c in TATUM_SIGN if c["chain"] == "DOGE" and c["testnet"] and len(c["kinds"]) == 1)


def _pending_with(case, mutate):
    pending = dict(case["pending"])
    obj = json.loads(pending["serializedTransaction"])
    mutate(obj)
    obj.pop("hash", None)
    pending["serializedTransaction"] = json.dumps(obj)
    return pending


def _random_wif(seed, prefix=0xEF):
    return wif_encode(random.Random(seed).randbytes(32), prefix)


def test_key_that_signs_nothing():
    keys = BTC_CASE["privateKeys"] + [_random_wif(1)]
    with pytest.raises(ValueError, match="key #5 \\(of 6\\) signs no input"):
        sign_pending(BTC_CASE["pending"], keys, True)


def test_input_no_key_can_sign():
    with pytest.raises(ValueError, match="input 4 \\(p2pkh\\): none of the 4 given keys"):
        sign_pending(BTC_CASE["pending"], BTC_CASE["privateKeys"][:4], True)
    with pytest.raises(ValueError, match="no private key"):
        sign_pending(BTC_CASE["pending"], [], True)


@pytest.mark.parametrize("case", [BTC_CASE, DOGE_CASE], ids=["BTC", "DOGE"])
def test_outputs_above_inputs(case):
    pending = _pending_with(case, lambda o: o["outputs"][0].update(satoshis=o["outputs"][0]["satoshis"] + 10 ** 9))
    with pytest.raises(ValueError, match="outputs .* are above inputs"):
        sign_pending(pending, case["privateKeys"], True)


def test_outputs_above_inputs_bch():
    raw, amounts = BCH_CASE["pending"]["serializedTransaction"].split(":")
    pending = dict(BCH_CASE["pending"], serializedTransaction=raw + ":[1000]")
    with pytest.raises(ValueError, match="outputs .* are above inputs"):
        sign_pending(pending, BCH_CASE["privateKeys"], True)


@pytest.mark.parametrize("script,kind", [("0020" + "11" * 32, "p2wsh"), ("51", "unknown")])
def test_unknown_input_kind(script, kind):
    pending = _pending_with(BTC_CASE, lambda o: o["inputs"][2]["output"].update(script=script))
    with pytest.raises(ValueError, match="input 2 spends a %s output, which kms_ref cannot sign" % kind):
        sign_pending(pending, BTC_CASE["privateKeys"], True)


def test_taproot_input_of_nobodys_key():
    """P2TR is signable (BIP86 key path, test_taproot_sign.py), but not by keys that do not own it."""
    pending = _pending_with(BTC_CASE, lambda o: o["inputs"][2]["output"].update(script="5120" + "22" * 32))
    with pytest.raises(ValueError, match=r"input 2 \(p2tr\): none of the \d+ given keys can sign it"):
        sign_pending(pending, BTC_CASE["privateKeys"], True)


def test_doge_refuses_segwit_inputs():
    seckey, _ = wif_decode(DOGE_CASE["privateKeys"][0])
    program = hash160(pubkey_from_seckey(seckey))
    pending = _pending_with(DOGE_CASE, lambda o: o["inputs"][0]["output"].update(script=p2wpkh_script(program).hex()))
    with pytest.raises(ValueError, match="input 0: DOGE inputs must spend P2PKH or P2PK"):
        sign_pending(pending, DOGE_CASE["privateKeys"], True)
    with pytest.raises(ValueError, match="input 0 spends a p2wpkh output, which this chain cannot have"):
        match_inputs([p2wpkh_script(program)], [PrivateKey(seckey, True)], segwit=False)


def _tx_and_prevouts(pending):
    parsed = parse_bitcore_json(pending["serializedTransaction"])
    return parsed.tx, parsed.prevouts


def test_segwit_needs_compressed_key():
    seckey = random.Random(7).randbytes(32)
    pubkey = pubkey_from_seckey(seckey, compressed=False)
    tx = Transaction(2, [TxIn(bytes(32), 0)], [TxOut(900, p2pkh_script(bytes(20)))], 0)
    for script in (p2wpkh_script(hash160(pubkey)), p2sh_p2wpkh_script(pubkey)):
        with pytest.raises(ValueError, match="compressed public key"):
            sign_bitcore(tx, [PrevOut(1000, script)], [PrivateKey(seckey, False)], "BTC")


def test_wif_of_another_network_is_refused():
    seckey, _ = wif_decode(BTC_CASE["privateKeys"][0])
    with pytest.raises(ValueError, match="another network"):
        sign_pending(BTC_CASE["pending"], [wif_encode(seckey, 0x80)] + BTC_CASE["privateKeys"][1:], True)


def test_bch_needs_one_key_per_input():
    keys = BCH_CASE["privateKeys"]
    with pytest.raises(ValueError, match="1 inputs but 2 keys"):
        sign_pending(BCH_CASE["pending"], keys + keys, True)


def test_duplicate_keys_are_dropped():
    keys = BTC_CASE["privateKeys"]
    assert sign_pending(BTC_CASE["pending"], keys + keys[::-1], True) == BTC_CASE["signed"]


def test_key_forms():
    seckey, compressed = wif_decode(BTC_CASE["privateKeys"][0])
    assert to_private_key(seckey, 0xEF) == PrivateKey(seckey, True)
    assert to_private_key((seckey, False), 0xEF) == PrivateKey(seckey, False)
    assert to_private_key(BTC_CASE["privateKeys"][0], 0xEF) == PrivateKey(seckey, compressed)
    assert seckey.hex() not in repr(PrivateKey(seckey)) and "redacted" in repr(PrivateKey(seckey))
    with pytest.raises(ValueError):
        to_private_key(b"\x01" * 31, 0xEF)


# --- DOGE checks (bitcore-lib-doge getSerializationError) ---

DOCS = doge_checks.DOCS


def _doge_fee_pending(unspent, **extra):
    """DOGE_CASE (1 P2PKH input, 1 output) with the output adjusted to leave `unspent` as fee."""
    def mutate(o):
        o["outputs"][0]["satoshis"] = o["inputs"][0]["output"]["satoshis"] - unspent
        o.update(extra)
    return _pending_with(DOGE_CASE, mutate)


def test_doge_estimate_matches_spec_formula():
    tx, prevouts = _tx_and_prevouts(DOGE_CASE["pending"])
    size = doge_checks.estimate_size(tx, [p.script_pubkey for p in prevouts])
    assert size == 26 + (36 + 107) + (9 + 25)
    assert doge_checks.estimate_fee(tx, [p.script_pubkey for p in prevouts], 0, False) == size * 100000


def test_doge_fee_bounds():
    estimate = (26 + 143 + 34) * 100000
    low, high = -(-estimate // 15), 15 * estimate
    keys = DOGE_CASE["privateKeys"]
    for fee in (low, high):
        sign_pending(_doge_fee_pending(fee), keys, True)
    with pytest.raises(ValueError) as refused:
        sign_pending(_doge_fee_pending(low - 1), keys, True)
    assert str(refused.value) == "Fee is too small: expected more than %d but got %d" % (low, low - 1) + DOCS
    with pytest.raises(ValueError, match="^Change address is missing: fee is too large"):
        sign_pending(_doge_fee_pending(high + 1), keys, True)


def test_doge_fee_with_change_script():
    keys = DOGE_CASE["privateKeys"]
    change = json.loads(DOGE_CASE["pending"]["serializedTransaction"])["outputs"][0]["script"]
    with_change = (26 + 143 + 34 + 62) * 100000
    # with a change script the estimate grows by CHANGE_OUTPUT_MAX_SIZE once the fee covers it
    sign_pending(_doge_fee_pending(15 * with_change, changeScript=change), keys, True)
    with pytest.raises(ValueError) as refused:
        sign_pending(_doge_fee_pending(15 * with_change + 1, changeScript=change), keys, True)
    assert str(refused.value) == "Fee is too large: expected less than %d but got %d" % (
        15 * with_change, 15 * with_change + 1) + DOCS


def test_doge_specified_fee_must_match():
    keys = DOGE_CASE["privateKeys"]
    sign_pending(_doge_fee_pending(30000000, fee=30000000), keys, True)
    with pytest.raises(ValueError, match="^Unspent value is different from specified fee: "
                                         "Unspent value is 30000000 but specified fee is 29999999"):
        sign_pending(_doge_fee_pending(30000000, fee=29999999), keys, True)


def test_doge_dust_spares_op_return():
    keys = DOGE_CASE["privateKeys"]

    def add_output(script):
        return _pending_with(DOGE_CASE, lambda o: o["outputs"].append({"satoshis": 0, "script": script}))

    sign_pending(add_output("6a0b68656c6c6f20776f726c64"), keys, True)          # OP_RETURN "hello world"
    sign_pending(add_output("6a"), keys, True)
    for script in ("6a4c51" + "00" * 81, "6a0101" + "0102", p2pkh_script(bytes(20)).hex()):
        with pytest.raises(ValueError, match="^Dust amount detected in one output - For more"):
            sign_pending(add_output(script), keys, True)


# --- explain and size ---

def test_explain_shows_steps_but_no_secret():
    lines = []
    sign_pending(BTC_CASE["pending"], BTC_CASE["privateKeys"], True, explain=lines.append)
    text = "\n".join(lines)
    signed = parse_hex(BTC_CASE["signed"])
    for i, txin in enumerate(signed.inputs):
        assert "input %d (" % i in text and ("input %d: scriptSig %s" % (i, txin.script_sig.hex())) in text
    assert "sighash preimage" in text
    for wif in BTC_CASE["privateKeys"]:
        assert wif not in text and wif_decode(wif)[0].hex() not in text
    lines = []
    sign_pending(BCH_CASE["pending"], BCH_CASE["privateKeys"], True, explain=lines.append)
    assert any("BCH forkid" in line for line in lines)
    assert wif_decode(BCH_CASE["privateKeys"][0])[0].hex() not in "\n".join(lines)


def test_hundred_input_p2wpkh():
    """The shape the speed target is about (100 P2WPKH inputs, one key each); no timing here."""
    rng = random.Random(100)
    keys = [PrivateKey(rng.randbytes(32), True) for _ in range(100)]
    prevouts = [PrevOut(10000 + i, p2wpkh_script(hash160(pubkey_from_seckey(k.seckey)))) for i, k in enumerate(keys)]
    tx = Transaction(2, [TxIn(rng.randbytes(32), i % 3) for i in range(100)], [TxOut(900000, p2pkh_script(bytes(20)))])
    signed = sign_bitcore(tx, prevouts, keys, "BTC")
    assert all(len(txin.witness) == 2 and not txin.script_sig for txin in signed.inputs)
    verify_transaction(signed, prevouts, "BTC")


def test_sign_bch_direct():
    tx_hex, amounts = BCH_CASE["pending"]["serializedTransaction"].split(":")
    keys = [PrivateKey(*wif_decode(w)) for w in BCH_CASE["privateKeys"]]
    assert sign_bch(parse_hex(tx_hex), json.loads(amounts), keys).serialize().hex() == BCH_CASE["signed"]


def test_bch_signs_as_version_2_like_bitcoincashjs2_lib():
    """An unsigned version-1 BCH transaction comes out version 2 (Tatum's library never copies the
    version), signed over version 2, and verifies."""
    from kms_ref.tx.verify import verify_transaction
    from kms_ref.tx.bitcore_json import PrevOut

    tx_hex, amounts = BCH_CASE["pending"]["serializedTransaction"].split(":")
    assert tx_hex.startswith("02000000")
    tx = parse_hex("01000000" + tx_hex[8:])
    keys = [PrivateKey(*wif_decode(w)) for w in BCH_CASE["privateKeys"]]
    signed = sign_bch(tx, json.loads(amounts), keys)
    assert signed.version == 2 and signed.serialize().hex() == BCH_CASE["signed"]


def test_bch_absurd_fee_is_refused():
    """Above 2,500 sat/byte bitcoincashjs2-lib's build() refuses ("absurd fees"); so does kms_ref."""
    tx_hex, amounts = BCH_CASE["pending"]["serializedTransaction"].split(":")
    amounts = json.loads(amounts)
    pending = dict(BCH_CASE["pending"], serializedTransaction=tx_hex + ":" + json.dumps([a + 10 ** 8 for a in amounts]))
    with pytest.raises(ValueError, match="absurd fees"):
        sign_pending(pending, BCH_CASE["privateKeys"], True)
