"""An independent Taproot implementation to compare with, when one is importable: btclib (its
script interpreter and BIP341 sighash) on top of the `ecc` package (its BIP340). kms_ref never
imports them; tests load them by name and compare only when they are there (the development
machine keeps them in /work/venv-compare: `/work/venv-compare/bin/python -m pytest ...`)."""

import importlib


def _load(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def available() -> bool:
    return all(_load(name) is not None for name in ("btclib.tx.tx", "btclib.script.engine", "ecc.ecc.ssa"))


def _tx_and_prevouts(raw: bytes, prevouts):
    tx_module, tx_out = _load("btclib.tx.tx"), _load("btclib.tx.tx_out")
    tx = tx_module.Tx.parse(raw)
    outs = [tx_out.TxOut(p.amount, p.script_pubkey) for p in prevouts]
    return tx, outs


def verify_transaction(raw: bytes, prevouts) -> None:
    """btclib's script interpreter over every input, all consensus flags; raises when one fails."""
    tx, outs = _tx_and_prevouts(raw, prevouts)
    _load("btclib.script.engine").verify_transaction(outs, tx)


def taproot_sighash(raw: bytes, input_index: int, prevouts, hash_type: int) -> bytes:
    tx, outs = _tx_and_prevouts(raw, prevouts)
    return _load("btclib.script.sig_hash").taproot(tx, input_index, outs, hash_type, 0, b"", b"")


def bip340_verify(pubkey_x: bytes, msg: bytes, sig: bytes) -> bool:
    return bool(_load("ecc.ecc.ssa").verify_(msg, pubkey_x, sig))
