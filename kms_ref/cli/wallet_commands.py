"""The wallet commands of SPEC §3, as functions: arguments in, the object to print out.

Each returns what tatum-kms prints (`None` for nothing) and raises ValueError (or a StoreError)
with a user-readable message for bad input; `kms_ref.cli.main` prints and turns errors into
`{"error": ...}`. Every check happens before the store is opened for writing, and a store
transaction writes only when its block finishes, so bad input never changes the file.

Where tatum-kms is wrong, kms_ref differs on purpose: mnemonics and WIFs are validated before
they are stored; `getprivatekey`/`getaddress` on a private-key wallet return that key and its
address; unknown signature IDs and indexes outside 0..2^31−1 are errors.

`--taproot` (BTC only, an addition): `getaddress` prints the BIP86 address (bc1p…/tb1p…) of key
m/86'/coin'/0'/0/I, or of a private-key wallet's key tweaked as BIP86 does; `getprivatekey`
prints the BIP86 *internal* key as WIF — what BIP86 wallets export, and what gives the same
address when stored back with `storemanagedprivatekey` (see `kms_ref.hd.bip86`).
"""

from __future__ import annotations

import re

from kms_ref.encoding.wif import wif_decode, wif_encode
from kms_ref.hd import bip39, bip86, tatum
from kms_ref.hd.addresses import address_from_pubkey
from kms_ref.hd.chains import get_chain
from kms_ref.cli.args import UsageError
from kms_ref.cli.output import Lines
from kms_ref.passwords.prompt import ask_secret
from kms_ref.store.wallet_store import WalletStore

MNEMONIC_PROMPT = "Enter mnemonic to store:"
PRIVATE_KEY_PROMPT = "Enter private key to store:"
MAX_BATCH = 100_000


def _chain(args, testnet):
    if not args:
        raise UsageError("missing argument: the chain (BTC, LTC, DOGE or BCH)")
    return get_chain(args[0], testnet)


def _arg(args, position, what):
    if len(args) <= position or args[position] == "":
        raise UsageError("missing argument: %s" % what)
    return args[position]


def entry_chain(entry):
    chain = entry.get("chain")
    if not isinstance(chain, str) or not isinstance(entry.get("testnet"), bool):
        raise ValueError("this wallet entry has no chain or network")
    return get_chain(chain, entry["testnet"])


def mnemonic_entry(chain, mnemonic):
    """What a mnemonic wallet looks like in the store (keys in tatum-kms's order)."""
    return {"mnemonic": mnemonic, "xpub": tatum.xpub_from_mnemonic(chain, mnemonic),
            "chain": chain.symbol, "testnet": chain.testnet}


def _store(ctx, entries):
    """Add entries in one locked transaction; returns their signature IDs."""
    store = WalletStore(ctx.path)
    password = ctx.password(confirm_new=not store.exists())
    with store.transaction(password) as wallet:
        return [wallet.add(entry) for entry in entries]


def generatewallet(ctx, args):
    chain = _chain(args, ctx.testnet)
    mnemonic = bip39.generate_mnemonic(256)
    return {"mnemonic": mnemonic, "xpub": tatum.xpub_from_mnemonic(chain, mnemonic)}


def generatemanagedwallet(ctx, args):
    chain = _chain(args, ctx.testnet)
    entry = mnemonic_entry(chain, bip39.generate_mnemonic(256))
    [sig_id] = _store(ctx, [entry])
    return {"signatureId": sig_id, "xpub": entry["xpub"]}


def storemanagedwallet(ctx, args):
    chain = _chain(args, ctx.testnet)
    store = WalletStore(ctx.path)
    password = ctx.password(confirm_new=not store.exists())  # tatum-kms asks this first
    mnemonic = bip39.validate_mnemonic(ask_secret(MNEMONIC_PROMPT))
    entry = mnemonic_entry(chain, mnemonic)
    with store.transaction(password) as wallet:
        sig_id = wallet.add(entry)
    return {"signatureId": sig_id, "xpub": entry["xpub"]}


def storemanagedprivatekey(ctx, args):
    chain = _chain(args, ctx.testnet)
    wif = ask_secret(PRIVATE_KEY_PROMPT).strip()  # tatum-kms asks the key first, then the password
    try:
        wif_decode(wif, chain.wif_prefix)
    except ValueError as e:
        raise ValueError("not a private key (WIF) of %s: %s" % (chain, e)) from None
    [sig_id] = _store(ctx, [{"privateKey": wif, "chain": chain.symbol, "testnet": chain.testnet}])
    return {"signatureId": sig_id}


def generatemanagedprivatekeybatch(ctx, args):
    """N fresh mnemonics; each stores only its key at index 1 (as tatum-kms). One line each."""
    chain = _chain(args, ctx.testnet)
    count = _arg(args, 1, "the number of keys")
    if not re.fullmatch(r"[0-9]{1,6}", count) or not 0 < int(count) <= MAX_BATCH:   # ASCII digits
        raise ValueError("the number of keys must be a whole number from 1 to %d" % MAX_BATCH)
    entries, addresses = [], []
    for _ in range(int(count)):
        node = tatum.wallet_node(chain, bip39.generate_mnemonic(256)).ckd_priv(1)
        entries.append({"privateKey": wif_encode(node.seckey, chain.wif_prefix),
                        "chain": chain.symbol, "testnet": chain.testnet})
        addresses.append(address_from_pubkey(chain, node.pubkey))
    ids = _store(ctx, entries)
    return Lines({"signatureId": i, "address": a} for i, a in zip(ids, addresses))


def _open(ctx):
    return WalletStore(ctx.path).open(ctx.password())


def getmanagedwallet(ctx, args):
    sig_id = _arg(args, 0, "the signature ID")
    with _open(ctx) as wallet:
        return wallet.get(sig_id)


def _entry_at(ctx, args):
    """(signature ID, entry, its chain row, index) for `getprivatekey`/`getaddress ID I`."""
    sig_id = _arg(args, 0, "the signature ID")
    index = tatum.check_index(_arg(args, 1, "the index"))
    with _open(ctx) as wallet:
        entry = wallet.get(sig_id)
    chain = entry_chain(entry)
    _warn_on_other_network(ctx, sig_id, chain)
    return sig_id, entry, chain, index


def _warn_on_other_network(ctx, sig_id, chain):
    """The wallet's own network decides the answer, as in tatum-kms; a --testnet (or its absence)
    that says otherwise is pointed out on stderr, so that nobody funds an address of the wrong
    network believing the flag chose it."""
    if chain.testnet == ctx.testnet:
        return
    if chain.testnet:
        ctx.warn("wallet %s is a %s wallet: this answer is for testnet, as the wallet is; add "
                 "--testnet to say so" % (sig_id, chain))
    else:
        ctx.warn("wallet %s is a %s wallet: this answer is for mainnet, as the wallet is; "
                 "--testnet does not change it" % (sig_id, chain))


def _taproot(ctx, chain) -> bool:
    """Whether --taproot was given; refused for chains other than BTC."""
    if not ctx.flags.get("taproot"):
        return False
    bip86.check_taproot_chain(chain)
    return True


def getprivatekey(ctx, args):
    sig_id, entry, chain, index = _entry_at(ctx, args)
    taproot = _taproot(ctx, chain)
    if "privateKey" in entry:
        return {"privateKey": entry["privateKey"]}
    if "mnemonic" not in entry:
        raise ValueError("wallet %s holds neither a mnemonic nor a private key" % sig_id)
    if taproot:
        return {"privateKey": bip86.wif_from_mnemonic(chain, entry["mnemonic"], index)}
    return {"privateKey": tatum.wif_from_mnemonic(chain, entry["mnemonic"], index)}


def getaddress(ctx, args):
    sig_id, entry, chain, index = _entry_at(ctx, args)
    if _taproot(ctx, chain):
        if "privateKey" in entry:
            return {"address": bip86.address_from_wif(chain, entry["privateKey"])}
        if "mnemonic" not in entry:
            raise ValueError("wallet %s has no mnemonic: a Taproot (BIP86) address is not derived from "
                             "its xpub, which is BIP44's" % sig_id)
        return {"address": bip86.address_from_mnemonic(chain, entry["mnemonic"], index)}
    if "privateKey" in entry:
        return {"address": tatum.address_from_wif(chain, entry["privateKey"])}
    if "xpub" in entry:
        return {"address": tatum.address_from_xpub(chain, entry["xpub"], index)}
    raise ValueError("wallet %s has no xpub or private key" % sig_id)


def removewallet(ctx, args):
    sig_id = _arg(args, 0, "the signature ID")
    with WalletStore(ctx.path).transaction(ctx.password()) as wallet:
        wallet.remove(sig_id)
    return None


def export(ctx, args):
    with _open(ctx) as wallet:
        return wallet.to_dict()


def convert(ctx, args):
    target = ctx.flags.get("to")
    if target not in ("native", "tatum"):
        raise ValueError("convert needs --to native or --to tatum")
    store = WalletStore(ctx.path)
    if not store.exists():
        raise ValueError("wallet file %s does not exist" % ctx.path)
    store.convert(ctx.password(), target)
    return {"path": ctx.path, "format": target}
