"""Sign a pending transaction with the keys of an opened wallet store (SPEC §4, "Keys").

This is the glue between the store and `kms_ref.tx.pending`, shared by `kms-ref sign` and the
daemon:

- every ID of `hashes` that is a private-key wallet gives its key (a mnemonic wallet there needs
  the transaction's `index`, as Tatum's older API had it);
- every `{"id", "index"}` of `signatures` gives the mnemonic wallet's key at that index (or the
  private-key wallet's key);
- an offchain withdrawal (`withdrawalId` set) is signed by the mnemonic wallet of `hashes[0]`,
  one key per `withdrawalResponses` entry.

Every wallet used must be of the transaction's chain and network — a testnet key never signs a
mainnet transaction. BTC, LTC and DOGE drop repeated keys and let each key sign what it can; an
ID kms_ref does not hold is passed over (another signer may hold it) and any input left unsigned
makes the transaction fail. BCH is positional: the keys, in the order of `hashes` then
`signatures`, sign inputs 0, 1, 2, … — there tatum-kms drops unknown and repeated IDs and so
shifts every later key onto the wrong input; kms_ref refuses an unknown ID instead and keeps
repeats (two inputs of one address share a key).

Taproot (BTC; not something Tatum builds): when a pending transaction spends a P2TR output, each
mnemonic wallet's `{id, index}` (and `hashes` + `index`) offers two keys, its BIP44 key and its
BIP86 key at that index (m/86'/coin'/0'/0/index), as one `KeyChoice`: the signer picks whichever
spends an input — the BIP86 key's tweaked output key matches a P2TR program, the BIP44 key a
P2WPKH one — and the request is fine as long as one of them signs something. A private-key
wallet's key signs a P2TR input whose program is its own BIP86-tweaked key. Transactions without
a P2TR input derive no BIP86 key at all. Offchain withdrawals stay BIP44 (Tatum's addresses).
`aux_rand` goes to the BIP340 signatures (`sign_with_wallet`; the daemon passes 32 zero bytes).
"""

from __future__ import annotations

from kms_ref.hd import bip86, tatum
from kms_ref.hd.chains import get_chain
from kms_ref.store.errors import NoSuchWallet
from kms_ref.tx.pending import sign_pending, sign_withdrawal, spends_taproot
from kms_ref.tx.sign import KeyChoice


class SigningError(ValueError):
    """A pending transaction kms_ref will not sign; the message names IDs, never keys."""


def _wallet_entry(wallet, sig_id, chain):
    entry = wallet.get(sig_id)
    if entry.get("chain") != chain.symbol or entry.get("testnet") is not chain.testnet:
        hint = ""
        if entry.get("chain") == chain.symbol:   # the network differs: say which flag signs it
            hint = "; add --testnet" if entry.get("testnet") else "; drop --testnet (or --testnet=false)"
        raise SigningError("wallet %s is for %s %s, the transaction is %s%s"
                           % (sig_id, entry.get("chain"), "testnet" if entry.get("testnet") else "mainnet",
                              chain, hint))
    return entry


def _key(entry, sig_id, chain, index, nodes, taproot=lambda: False):
    """The WIF of a private-key wallet, or of a mnemonic wallet's key at `index` — when
    `taproot()` says the transaction spends a P2TR output, a KeyChoice of its BIP44 and BIP86
    keys there."""
    if "privateKey" in entry:
        return entry["privateKey"]
    if "mnemonic" not in entry:
        raise SigningError("wallet %s holds neither a mnemonic nor a private key" % sig_id)
    if index is None:
        raise SigningError("mnemonic wallet %s needs an index to sign" % sig_id)
    index = tatum.check_index(index)
    if sig_id not in nodes:  # PBKDF2 + BIP32 path once per wallet, not once per key
        nodes[sig_id] = tatum.wallet_node(chain, entry["mnemonic"])
    seckey = nodes[sig_id].ckd_priv(index).seckey
    if not taproot():
        return seckey
    if (sig_id, bip86.PURPOSE) not in nodes:
        nodes[(sig_id, bip86.PURPOSE)] = bip86.bip86_node(chain, entry["mnemonic"])
    return KeyChoice((seckey, bip86.internal_seckey(nodes[(sig_id, bip86.PURPOSE)], index)))


def named_wallet_ids(pending) -> list:
    """The signature IDs a pending transaction names — `hashes`, then the `id` of each
    `signatures` item — as far as they are strings; for reading their entries ahead
    (`Wallet.prefetch`). Nothing is checked here: `collect_keys` refuses what is malformed."""
    if not isinstance(pending, dict):
        return []
    hashes, signatures = pending.get("hashes"), pending.get("signatures")
    ids = list(hashes) if isinstance(hashes, list) else []
    ids += [item.get("id") for item in signatures if isinstance(item, dict)] if isinstance(signatures, list) else []
    return [i for i in ids if isinstance(i, str)]


def collect_keys(wallet, pending, chain):
    """The keys of a (non-withdrawal) pending transaction, in order: hashes, then signatures."""
    positional = chain.symbol == "BCH"
    keys, nodes, answer = [], {}, []

    def taproot():   # parses the transaction once more: asked only for a mnemonic's key, since
        if not answer:   # a private key signs P2TR and other inputs alike
            answer.append(chain.symbol == "BTC" and spends_taproot(pending))
        return answer[0]
    requests = [(h, pending.get("index")) for h in pending.get("hashes") or []]
    for item in pending.get("signatures") or []:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise SigningError("pending transaction %s: signatures must be {id, index} objects" % pending.get("id"))
        requests.append((item["id"], item.get("index")))
    for sig_id, index in requests:
        if not isinstance(sig_id, str):
            raise SigningError("pending transaction %s: signature IDs must be strings" % pending.get("id"))
        try:
            entry = _wallet_entry(wallet, sig_id, chain)  # one lookup: no `in` before the `get`
        except NoSuchWallet:
            if positional:
                raise SigningError("no wallet with signature ID %s (BCH keys are positional)" % sig_id) from None
            continue
        keys.append(_key(entry, sig_id, chain, index, nodes, taproot))
    if not keys:
        raise SigningError("none of the signature IDs of pending transaction %s is in this wallet "
                           "file" % pending.get("id"))
    return keys


def sign_with_wallet(wallet, pending, testnet, explain=None, aux_rand=None, keys_used=None):
    """The signed raw transaction (hex) of `pending`, with keys from `wallet` (an open store).
    `aux_rand`: BIP340's auxiliary randomness for Taproot inputs (None: fresh). `keys_used`, a
    list, receives the keys handed to the signer (`kms-ref sign --explain --showSecrets` shows
    them; nothing else should want them)."""
    if not isinstance(pending, dict):
        raise SigningError("a pending transaction is a JSON object")
    try:
        chain = get_chain(pending.get("chain"), testnet)
    except ValueError as e:
        raise SigningError(str(e)) from None
    try:
        if pending.get("withdrawalId"):
            hashes = pending.get("hashes") or []
            if not hashes or not isinstance(hashes[0], str):
                raise SigningError("withdrawal %s names no wallet in hashes" % pending.get("withdrawalId"))
            entry = _wallet_entry(wallet, hashes[0], chain)
            if "mnemonic" not in entry:
                raise SigningError("withdrawal %s needs a mnemonic wallet, %s is not one"
                                   % (pending.get("withdrawalId"), hashes[0]))
            nodes = {}

            def key_at(index):
                key = _key(entry, hashes[0], chain, index, nodes)
                if keys_used is not None:
                    keys_used.append(key)
                return key
            return sign_withdrawal(pending, key_at, testnet, explain)
        keys = collect_keys(wallet, pending, chain)
        if keys_used is not None:
            keys_used.extend(keys)
        return sign_pending(pending, keys, testnet, explain, aux_rand)
    except NoSuchWallet as e:
        raise SigningError(str(e)) from None
