"""BIP32 extended keys: the public names, re-exported from `kms_ref.hd.bip32`.

    key = ExtendedKey.from_seed(seed)            # or from_seed(seed)
    node = key.derive("m/44'/0'/0'/0")           # paths with ', h or H for hardened
    node.public()                                 # (also .neuter()) the public node
    node.serialize(0x0488B21E)                    # any version bytes
    ExtendedKey.parse("xpub...")                  # strict; or parse(text)
"""

from kms_ref.hd.bip32 import HARDENED, ExtendedKey, from_seed, parse, parse_path

__all__ = ["ExtendedKey", "from_seed", "parse", "parse_path", "HARDENED"]
