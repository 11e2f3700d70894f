"""BIP39 mnemonics: the public names, re-exported from `kms_ref.hd.bip39` (where the code and the
English word list live).

- entropy_to_mnemonic(entropy) -> str; mnemonic_to_entropy(mnemonic) -> bytes (checksum checked)
- mnemonic_to_seed(mnemonic, passphrase="") -> 64 bytes
- generate_mnemonic(strength=256) -> str (24 words)
"""

from kms_ref.hd.bip39 import (entropy_to_mnemonic, generate_mnemonic, mnemonic_to_entropy,
                              mnemonic_to_seed, validate_mnemonic)

__all__ = ["entropy_to_mnemonic", "mnemonic_to_entropy", "mnemonic_to_seed", "generate_mnemonic",
           "validate_mnemonic"]
