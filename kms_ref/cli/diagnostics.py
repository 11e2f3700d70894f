"""`checkconfig` and `report`: what kms_ref sees of its configuration and wallets, never a secret.

`checkconfig` uses tatum-kms's layout (labels padded to 33) with every secret masked entirely,
and names the .env files it actually read;
`report` lists wallet types, chains and networks with warnings (tatum-kms 8.0.1 crashes on this
command; kms_ref prints what it meant to print).
"""

from __future__ import annotations

import os
import platform

from kms_ref import __version__
from kms_ref.cli.output import Text
from kms_ref.cli.wallet_commands import entry_chain
from kms_ref.encoding.wif import wif_decode
from kms_ref.hd import bip39, tatum
from kms_ref.store.errors import NoSuchWallet
from kms_ref.store.wallet_store import WalletStore


def _mask(value):
    return "N/A" if not value else "*" * 8


def checkconfig(ctx, args):
    """tatum-kms's layout (labels padded to 33), with every secret masked entirely — tatum-kms
    shows the first six characters of the password — and which source gives the password."""
    store = WalletStore(ctx.path)
    fmt = store.format() if store.exists() else None
    rows = [
        ("Version", "kms_ref %s" % __version__),
        ("Wallet file path", ctx.path),
        ("Wallet exists", "true" if fmt else "false"),
        ("Wallet store type", "LOCAL"),
        ("Wallet file format", fmt or "N/A"),
        ("Environment vars file", ctx.env_file),
        ("Environment files read", ", ".join(ctx.env_files_read) or "none"),
        ("TATUM_API_URL", os.environ.get("TATUM_API_URL") or "N/A"),
        ("TATUM_API_KEY", _mask(os.environ.get("TATUM_API_KEY"))),
        ("TATUM_KMS_PASSWORD", _mask(os.environ.get("TATUM_KMS_PASSWORD"))),
        ("TATUM_KMS_DEBUG_MODE", os.environ.get("TATUM_KMS_DEBUG_MODE") or "N/A"),
        ("Password source", ctx.password_source.name),
    ] + ctx.password_source.describe()   # the source's settings, secrets masked; no request
    return Text("\n".join("%-33s: %s" % row for row in rows))


def report(ctx, args):
    """Wallet types, chains and networks with warnings — never a secret (SPEC §3). With no IDs,
    every wallet in the file."""
    ids = [i.strip() for i in args[0].split(",") if i.strip()] if args else []
    store = WalletStore(ctx.path)
    system = {"kmsVersion": "kms_ref %s" % __version__,
              "pythonVersion": platform.python_version(),
              "store": {"type": "LOCAL", "exists": store.exists()}}
    warnings, wallets = [], {}
    if store.exists():
        with store.open(ctx.password()) as wallet:
            system["store"]["format"] = wallet.format
            if wallet.format == "tatum":
                warnings.append("The wallet file uses Tatum's format (MD5 key derivation, no "
                                "integrity check); `kms-ref convert --to native` upgrades it")
            for sig_id in ids or wallet.ids():
                try:
                    wallets[sig_id] = _report_entry(wallet.get(sig_id))
                except NoSuchWallet:
                    warnings.append("No wallet found for signatureId: %s" % sig_id)
    out = {"system": system, "wallets": wallets}
    if os.environ.get("TATUM_API_KEY"):
        out["apiKey"] = _mask(os.environ["TATUM_API_KEY"])
    if warnings:
        out["warnings"] = warnings
    return out


def _report_entry(entry):
    if not isinstance(entry, dict):
        return {"type": "OTHER", "warnings": ["Wallet is not an object"]}
    kind = ("MNEMONIC" if "mnemonic" in entry else "PRIVATE_KEY" if "privateKey" in entry
            else "SECRET" if "secret" in entry else "OTHER")
    info = {"type": kind, "chain": entry.get("chain"), "testnet": entry.get("testnet")}
    warnings = []
    for field in ("chain", "mnemonic", "xpub", "privateKey"):
        if field in entry and not isinstance(entry[field], str):
            warnings.append("Field '%s' is not string. Its type is: %s" % (field, type(entry[field]).__name__))
    if not isinstance(entry.get("testnet"), bool):
        warnings.append("Field 'testnet' is not boolean")
    if kind == "OTHER":
        warnings.append("Wallet type is not recognized. Mnemonic, privateKey or secret are absent")
    try:
        chain = entry_chain(entry)
    except ValueError as e:
        warnings.append(str(e))
    else:
        try:
            if kind == "MNEMONIC":
                bip39.validate_mnemonic(entry["mnemonic"])
                if tatum.xpub_from_mnemonic(chain, entry["mnemonic"]) != entry.get("xpub"):
                    warnings.append("The stored xpub does not belong to the stored mnemonic")
            elif kind == "PRIVATE_KEY":
                wif_decode(entry["privateKey"], chain.wif_prefix)
        except (ValueError, TypeError) as e:
            warnings.append("Wallet secret is not valid for %s: %s" % (chain, e))
    if warnings:
        info["warnings"] = warnings
    return info
