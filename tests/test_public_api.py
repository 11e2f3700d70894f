"""The library API the README documents, used exactly as written there, and the promise that
importing kms_ref loads nothing outside the standard library."""

import subprocess
import sys

from tests.cli_helpers import REPO


def test_readme_api():
    from kms_ref.aes import cbc_decrypt, cbc_encrypt, gcm_decrypt, gcm_encrypt
    from kms_ref.base58 import b58check_decode, b58check_encode, b58decode, b58encode
    from kms_ref.bech32 import decode_segwit_address, encode_segwit_address
    from kms_ref.bip32 import ExtendedKey, from_seed, parse
    from kms_ref.bip39 import entropy_to_mnemonic, generate_mnemonic, mnemonic_to_entropy, mnemonic_to_seed
    from kms_ref.bip340 import pubkey_xonly, schnorr_sign, schnorr_verify, tagged_hash
    from kms_ref.ripemd160 import ripemd160
    from kms_ref.secp256k1 import ecdsa_sign, ecdsa_verify, pubkey_from_seckey

    mnemonic = entropy_to_mnemonic(bytes(16))
    assert mnemonic_to_entropy(mnemonic) == bytes(16) and len(generate_mnemonic().split()) == 24
    node = from_seed(mnemonic_to_seed(mnemonic)).derive("m/44'/0'/0'/0")
    xpub = node.public().serialize(0x0488B21E)
    assert parse(xpub).pubkey == ExtendedKey.parse(xpub).pubkey == node.pubkey
    seckey = node.child(0).seckey
    pubkey = pubkey_from_seckey(seckey)
    assert pubkey == node.child(0).pubkey and len(pubkey_from_seckey(seckey, False)) == 65
    digest = bytes(range(32))
    assert ecdsa_verify(pubkey, digest, ecdsa_sign(seckey, digest))
    address = encode_segwit_address("bc", 0, ripemd160(b"x"))
    assert decode_segwit_address("bc", address) == (0, ripemd160(b"x"))
    assert b58check_decode(b58check_encode(b"\x00abc")) == b"\x00abc" and b58decode(b58encode(b"\0\1")) == b"\0\1"
    key, nonce = bytes(32), bytes(12)
    assert gcm_decrypt(key, nonce, gcm_encrypt(key, nonce, b"secret", b"aad"), b"aad") == b"secret"
    assert cbc_decrypt(key, bytes(16), cbc_encrypt(key, bytes(16), b"secret")) == b"secret"
    xonly, message = pubkey_xonly(seckey), b"a message of any length"
    assert xonly == pubkey[1:] and schnorr_verify(xonly, message, schnorr_sign(seckey, message))
    assert schnorr_sign(seckey, message, bytes(32)) == schnorr_sign(seckey, message, aux_rand=bytes(32))
    assert len(tagged_hash("TapTweak", xonly)) == 32


def test_import_loads_only_the_standard_library():
    """Every module that importing kms_ref's modules loads is kms_ref's or the standard library's:
    built in, or a file under the stdlib directory and not in site-packages (this also works on
    Python 3.9, which has no sys.stdlib_module_names)."""
    code = ("import sys, sysconfig, os\n"
            "before = set(sys.modules)\n"
            "import kms_ref, kms_ref.cli.main, kms_ref.cli.wallet_commands, kms_ref.daemon.main, kms_ref.sandbox.server, kms_ref.bench.micro\n"
            "import kms_ref.secp256k1, kms_ref.aes, kms_ref.bip32, kms_ref.bip39, kms_ref.bech32, kms_ref.base58\n"
            "import kms_ref.bip340, kms_ref.hd.bip86, kms_ref.tx.taproot_sighash\n"
            "roots = {os.path.realpath(sysconfig.get_paths()[k]) for k in ('stdlib', 'platstdlib')}\n"
            "def std(name):\n"
            "    f = getattr(sys.modules[name], '__file__', None)\n"
            "    if f is None:\n"
            "        return True\n"
            "    f = os.path.realpath(f)\n"
            "    return 'site-packages' not in f and any(f.startswith(r + os.sep) for r in roots)\n"
            "extra = sorted(n for n in set(sys.modules) - before if not n.startswith('kms_ref') and not std(n))\n"
            "assert not extra, extra\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_import_kms_ref_is_cheap():
    """`import kms_ref` imports no submodule (the 50 ms budget is then Python's own start)."""
    code = "import sys; import kms_ref; assert not [m for m in sys.modules if m.startswith('kms_ref.')]"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
