"""Sign a Tatum pending transaction (SPEC §4): the entry point of the CLI and the daemon.

    sign_pending(pending, keys, testnet)            keys the caller collected from `hashes`/`signatures`
    sign_withdrawal(pending, key_at_index, testnet) offchain withdrawals: keys from one mnemonic wallet

Both return the signed raw transaction as hex. `pending["chain"]` picks the form of
`serializedTransaction` and the signer: BTC/LTC/DOGE bitcore JSON (`sign_bitcore`, every key
signs what it can), BCH "<hex>:<amounts>" (`sign_bch`, input i with key i).

Keys are `PrivateKey(seckey, compressed)` (kms_ref.tx.sign; its repr is redacted). Where a key is
accepted, a WIF string (for this chain and network) or a bare 32-byte secret (taken as
compressed, as every key kms_ref derives) will do too, and so will a `KeyChoice` of such keys
(one request, several candidate keys: the BIP44 and BIP86 keys of a mnemonic wallet's index).

Taproot (BTC): `spends_taproot(pending)` says whether any input spends a P2TR output, so that a
caller derives BIP86 keys only then; `aux_rand` goes to the BIP340 signatures of those inputs
(None: fresh randomness; the daemon passes 32 zero bytes).
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Union

from kms_ref.encoding.script import P2TR, classify
from kms_ref.encoding.wif import wif_decode
from kms_ref.hd.chains import get_chain
from kms_ref.tx.bitcore_json import parse_bch_pending, parse_bitcore_json
from kms_ref.tx.sign import KeyChoice, PrivateKey, sign_bch, sign_bitcore

KeyLike = Union[PrivateKey, str, bytes]
Explain = Optional[Callable[[str], None]]

WITHDRAWAL_NO_INPUT = "-1"   # a withdrawalResponses entry with this vIn carries no input


def to_private_key(key: KeyLike, wif_prefix: int) -> PrivateKey:
    """A PrivateKey from a PrivateKey, a (seckey, compressed) pair, a WIF text or 32 raw bytes;
    a KeyChoice of any of these becomes a KeyChoice of PrivateKeys."""
    if isinstance(key, KeyChoice):
        return KeyChoice(tuple(to_private_key(k, wif_prefix) for k in key.keys))
    if isinstance(key, str):
        return PrivateKey(*wif_decode(key.strip(), wif_prefix))
    if isinstance(key, (bytes, bytearray)):
        if len(key) != 32:
            raise ValueError("a raw private key must be 32 bytes")
        return PrivateKey(bytes(key), True)
    if isinstance(key, tuple) and len(key) == 2:
        seckey, compressed = key
        if not isinstance(seckey, (bytes, bytearray)) or len(seckey) != 32:
            raise ValueError("a private key must be 32 bytes")
        return PrivateKey(bytes(seckey), bool(compressed))
    raise ValueError("unsupported private key type %s" % type(key).__name__)


def _dedupe(keys: List[PrivateKey]) -> List[PrivateKey]:
    """Drop repeated keys, keeping the first occurrence's place (SPEC §4: duplicates are dropped)."""
    seen, unique = set(), []
    for key in keys:
        if key not in seen:
            seen.add(key)
            unique.append(key)
    return unique


def _chain_of(pending: dict, testnet: bool):
    if not isinstance(pending, dict):
        raise ValueError("pending transaction must be a JSON object")
    if not pending.get("chain"):
        raise ValueError("pending transaction %s has no chain" % pending.get("id"))
    if not isinstance(pending.get("serializedTransaction"), str):
        raise ValueError("pending transaction %s has no serializedTransaction" % pending.get("id"))
    return get_chain(pending["chain"], testnet)


def spends_taproot(pending: dict) -> bool:
    """Whether a BTC pending transaction (bitcore JSON) has an input spending a P2TR output.
    A transaction that does not parse answers False: signing it reports why, as before."""
    if not isinstance(pending, dict) or str(pending.get("chain")).upper() != "BTC" \
            or not isinstance(pending.get("serializedTransaction"), str):
        return False
    try:
        prevouts = parse_bitcore_json(pending["serializedTransaction"]).prevouts
    except ValueError:
        return False
    return any(classify(p.script_pubkey)[0] == P2TR for p in prevouts)


def _sign(pending: dict, chain, keys: List[PrivateKey], explain: Explain, aux_rand: Optional[bytes] = None) -> str:
    if chain.symbol == "BCH":
        tx, amounts = parse_bch_pending(pending["serializedTransaction"])
        return sign_bch(tx, amounts, keys, explain).serialize().hex()
    parsed = parse_bitcore_json(pending["serializedTransaction"])
    signed = sign_bitcore(parsed.tx, parsed.prevouts, _dedupe(keys), chain.symbol,
                          parsed.change_script, parsed.fee, explain, aux_rand)
    return signed.serialize().hex()


def sign_pending(pending: dict, keys: Sequence[KeyLike], testnet: bool, explain: Explain = None,
                 aux_rand: Optional[bytes] = None) -> str:
    """Sign a pending transaction with the keys of its signature IDs.

    BTC/LTC/DOGE: each distinct key signs every input it can spend. BCH: keys are positional —
    keys[i] signs input i, so there must be exactly one per input (repeats allowed)."""
    chain = _chain_of(pending, testnet)
    private_keys = [to_private_key(key, chain.wif_prefix) for key in keys]
    if not private_keys:
        raise ValueError("no private key for pending transaction %s" % pending.get("id"))
    return _sign(pending, chain, private_keys, explain, aux_rand)


def derivation_index(entry: dict, position: int) -> int:
    """The wallet index of a withdrawal response: address.derivationKey, 0 if absent (Tatum's `|| 0`)."""
    if not isinstance(entry, dict):
        raise ValueError("withdrawalResponses[%d] must be a JSON object" % position)
    address = entry.get("address") or {}
    if not isinstance(address, dict):
        raise ValueError("withdrawalResponses[%d].address must be a JSON object" % position)
    index = address.get("derivationKey") or 0
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 2 ** 31:
        raise ValueError("withdrawalResponses[%d]: derivationKey must be an integer in [0, 2^31)" % position)
    return index


def sign_withdrawal(pending: dict, key_at_index: Callable[[int], KeyLike], testnet: bool,
                    explain: Explain = None) -> str:
    """Sign an offchain withdrawal with one mnemonic wallet (`key_at_index(i)` = its key i).

    Entries of `withdrawalResponses` whose vIn is "-1" are skipped. BTC/LTC/DOGE: the keys of the
    others each sign what they can. BCH: entry i's key signs input i (Tatum's loop index)."""
    chain = _chain_of(pending, testnet)
    responses = pending.get("withdrawalResponses")
    if not pending.get("withdrawalId") or not isinstance(responses, list):
        raise ValueError("pending transaction %s is not an offchain withdrawal" % pending.get("id"))
    positional = {}
    for position, entry in enumerate(responses):
        if not isinstance(entry, dict):
            raise ValueError("withdrawalResponses[%d] must be a JSON object" % position)
        if str(entry.get("vIn")) == WITHDRAWAL_NO_INPUT:
            continue
        index = derivation_index(entry, position)
        positional[position] = to_private_key(key_at_index(index), chain.wif_prefix)
    if not positional:
        raise ValueError("withdrawal %s has no input to sign" % pending.get("withdrawalId"))
    if chain.symbol == "BCH":
        n_inputs = len(parse_bch_pending(pending["serializedTransaction"])[0].inputs)
        if sorted(positional) != list(range(n_inputs)):
            raise ValueError("BCH withdrawal %s: responses %s do not match the %d inputs one to one"
                             % (pending.get("withdrawalId"), sorted(positional), n_inputs))
        keys = [positional[i] for i in range(n_inputs)]
    else:
        keys = list(positional.values())
    return _sign(pending, chain, keys, explain)
