"""Taproot in the sandbox: the faucet pays tb1p…/bc1p…, `POST /v3/bitcoin/transaction` spends
from a Taproot address and a P2WPKH one to Taproot addresses, a real `kms-ref daemon --runOnce`
signs and broadcasts it, the sandbox's script check accepts it — and so does btclib's script
interpreter when it is importable. A bad Schnorr signature is refused with 403."""


from kms_ref.crypto.keys import pubkey_from_seckey
from kms_ref.daemon.cycle import TAPROOT_AUX_RAND
from kms_ref.daemon.signer import sign_with_wallet
from kms_ref.encoding.wif import wif_encode
from kms_ref.hd import bip86
from kms_ref.hd.addresses import address_from_pubkey
from kms_ref.hd.chains import get_chain
from kms_ref.store import WalletStore
from kms_ref.tx.bitcore_json import parse_bitcore_json
from kms_ref.tx.pending import sign_pending
from kms_ref.tx.transaction import parse_hex
from kms_ref.tx.verify import verify_transaction
from tests import independent
from tests.cli_helpers import PASSWORD, kms
from tests.test_cli import CHEAP_SCRYPT
from tests.test_sandbox import API_KEY, Api, sandbox  # noqa: F401 (sandbox: the fixture)

TESTNET = get_chain("BTC", True)
MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"


def taproot_key(index):
    """The internal key of BIP86 testnet index `index` of the test mnemonic, as WIF."""
    return bip86.wif_from_mnemonic(TESTNET, MNEMONIC, index)


def test_faucet_pays_taproot_addresses_on_both_networks(sandbox):
    api = Api(sandbox.url)
    for testnet, prefix in ((True, "tb1p"), (False, "bc1p")):
        chain = get_chain("BTC", testnet)
        address = bip86.address_from_mnemonic(chain, MNEMONIC, 0)
        assert address.startswith(prefix)
        api.faucet(address, "0.002")
        assert api.balance(chain, address) == {"incoming": "0.002", "outgoing": "0"}


def test_taproot_spend_through_the_daemon(tmp_path, sandbox):
    api = Api(sandbox.url)
    p2tr_wif = taproot_key(0)
    p2wpkh_wif = wif_encode(bytes(31) + b"\x07", TESTNET.wif_prefix)
    wallet = tmp_path / "w.dat"
    with WalletStore(str(wallet)).transaction(PASSWORD, scrypt_params=CHEAP_SCRYPT) as w:
        p2tr_id = w.add({"privateKey": p2tr_wif, "chain": "BTC", "testnet": True})
        p2wpkh_id = w.add({"privateKey": p2wpkh_wif, "chain": "BTC", "testnet": True})
    sender = bip86.address_from_wif(TESTNET, p2tr_wif)
    segwit_sender = address_from_pubkey(TESTNET, pubkey_from_seckey(bytes(31) + b"\x07"))
    receiver = bip86.address_from_mnemonic(TESTNET, MNEMONIC, 1)
    api.faucet(sender, "0.001")
    api.faucet(segwit_sender, "0.0005")
    body = {"fromAddress": [{"address": sender, "signatureId": p2tr_id},
                            {"address": segwit_sender, "signatureId": p2wpkh_id}],
            "to": [{"address": receiver, "value": 0.0012}], "fee": "0.00001", "changeAddress": sender}
    pending_id = api.ok("POST", "/v3/bitcoin/transaction", body)["signatureId"]
    pending = api.ok("GET", "/v3/kms/%s" % pending_id)
    prevouts = parse_bitcore_json(pending["serializedTransaction"]).prevouts
    assert [p.script_pubkey[:2].hex() for p in prevouts] == ["5120", "0014"]

    r = kms(tmp_path, "daemon", "--path", str(wallet), "--testnet", "--chain=BTC", "--runOnce",
            env={"TATUM_API_KEY": API_KEY, "TATUM_API_URL": sandbox.url})
    assert r.code == 0, r.out + r.err
    txid = api.ok("GET", "/v3/kms/%s" % pending_id).get("txId")
    assert txid, r.out + r.err
    signed = api.ok("GET", "/v3/bitcoin/transaction/%s" % txid)["hex"]
    tx = parse_hex(signed)
    assert len(tx.inputs[0].witness) == 1 and len(tx.inputs[0].witness[0]) == 64
    assert api.balance(TESTNET, receiver) == {"incoming": "0.0012", "outgoing": "0"}

    verify_transaction(tx, prevouts, "BTC")
    if independent.available():                      # an independent script interpreter agrees
        independent.verify_transaction(bytes.fromhex(signed), prevouts)
    # the daemon's aux_rand is 32 zero bytes: a second daemon signs the very same transaction
    with WalletStore(str(wallet)).open(PASSWORD) as w:
        assert sign_with_wallet(w, pending, True, aux_rand=TAPROOT_AUX_RAND) == signed


def test_bad_schnorr_signature_is_refused(sandbox):
    api = Api(sandbox.url)
    wif = taproot_key(2)
    address = bip86.address_from_wif(TESTNET, wif)
    api.faucet(address, "0.001")
    body = {"fromAddress": [{"address": address, "signatureId": "taproot-key"}],
            "to": [{"address": bip86.address_from_mnemonic(TESTNET, MNEMONIC, 3), "value": "0.0009"}]}
    pending = api.ok("GET", "/v3/kms/%s" % api.ok("POST", "/v3/bitcoin/transaction", body)["signatureId"])
    tx = parse_hex(sign_pending(pending, [wif], True))
    sig = bytearray(tx.inputs[0].witness[0])
    sig[40] ^= 1
    tx.inputs[0].witness = [bytes(sig)]
    status, answer = api.broadcast(TESTNET, tx.serialize().hex(), pending["id"])
    assert status == 403 and "BIP340 signature does not verify" in answer["message"], answer
    assert api.balance(TESTNET, address) == {"incoming": "0.001", "outgoing": "0"}   # nothing spent
