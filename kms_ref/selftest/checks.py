"""One check per kind of known answer (`"check"` in known_answers.json): run the primitive on the
case's inputs and compare with its published outputs.

Each check calls the primitive through its module (`ripemd160.ripemd160(...)`, not a name
imported once), so that what it tests is what the rest of kms_ref calls at that moment. A check
returns when the case holds and raises `Mismatch` (naming what differed) when it does not; the
runner reports any other exception as a failure too. Hex strings in the cases are lower-case
unless a source wrote them otherwise (CashAddr's data).
"""

from __future__ import annotations

import hashlib

from kms_ref.crypto import aes, cbc, ecdsa, evp_bytes_to_key, gcm, hashes, keys, openssl_salted, rfc6979
from kms_ref.crypto import ripemd160, schnorr_bch
from kms_ref.encoding import base58, bech32, cashaddr, wif
from kms_ref.hd import bip32, bip39, chains, tatum
from kms_ref.tx import pending, sighash, transaction

SEGWIT_HRPS = ("bc", "tb", "bcrt")
BITCOIN_PREFIXES = {False: (0x80, 0x00, 0x05), True: (0xEF, 0x6F, 0xC4)}   # WIF, P2PKH, P2SH by isTestnet
ALL_WIF_PREFIXES = (0x80, 0xEF, 0xB0, 0x9E, 0xF1)                           # SPEC §1's and Bitcoin's
ALL_ADDRESS_VERSIONS = (0x00, 0x05, 0x6F, 0xC4, 0x30, 0x1E, 0x71)


class Mismatch(Exception):
    """A known answer that did not come out."""


def expect(got, want, what: str) -> None:
    if got != want:
        raise Mismatch(what)


def refused(function, *args) -> bool:
    """Does `function(*args)` refuse the input with ValueError?"""
    try:
        function(*args)
    except ValueError:
        return True
    return False


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# -- hashes and key derivation (hashlib, RIPEMD-160 by hand) ---------------------------------------

def check_sha256(c):
    expect(hashes.sha256(h(c["message"])).hex(), c["digest"], "SHA-256 digest")


def check_sha512(c):
    expect(hashlib.sha512(h(c["message"])).hexdigest(), c["digest"], "SHA-512 digest")


def check_hmac_sha256(c):
    expect(hashes.hmac_sha256(h(c["key"]), h(c["data"])).hex(), c["mac"], "HMAC-SHA256")


def check_hmac_sha512(c):
    expect(hashes.hmac_sha512(h(c["key"]), h(c["data"])).hex(), c["mac"], "HMAC-SHA512")


def check_pbkdf2_sha256(c):
    derived = hashlib.pbkdf2_hmac("sha256", h(c["password"]), h(c["salt"]), c["iterations"], len(h(c["derived"])))
    expect(derived.hex(), c["derived"], "PBKDF2-HMAC-SHA256")


def check_scrypt(c):
    derived = hashlib.scrypt(h(c["password"]), salt=h(c["salt"]), n=c["N"], r=c["r"], p=c["p"],
                             maxmem=2 ** 26, dklen=len(h(c["derived"])))
    expect(derived.hex(), c["derived"], "scrypt")


def check_ripemd160(c):
    expect(ripemd160.ripemd160(c["message"].encode("ascii")).hex(), c["digest"], "RIPEMD-160 digest")


# -- the curve: ECDSA with RFC 6979 nonces, Bitcoin Cash Schnorr -----------------------------------

def check_ecdsa_sign(c):
    seckey, msg32 = h(c["seckey"]), h(c["msg32"])
    if c["k"] is not None:
        expect(next(rfc6979.rfc6979_nonces(seckey, msg32)), int(c["k"], 16), "RFC 6979 nonce k")
    expect(ecdsa.ecdsa_sign(seckey, msg32).hex(), c["der"], "DER signature")
    expect(ecdsa.ecdsa_verify(keys.pubkey_from_seckey(seckey), msg32, h(c["der"])), True, "verify of the signature")


def check_rfc6979_nonces(c):
    nonces = rfc6979.rfc6979_nonces(h(c["seckey"]), h(c["msg32"]))
    ks = [next(nonces) for _ in range(16)]
    expect((ks[0], ks[1], ks[15]), tuple(int(c[k], 16) for k in ("k0", "k1", "k15")), "RFC 6979 candidates 1, 2, 16")


def check_ecdsa_verify(c):
    msg32 = hashes.sha256(h(c["msg"]))
    verdict = ecdsa.ecdsa_verify(h(c["publicKey"]), msg32, h(c["sig"]))
    expect(verdict, c["result"] == "valid", "verdict (%s)" % c["result"])


def check_schnorr_bch_sign(c):
    seckey, msg32 = h(c["seckey"]), h(c["msg32"])
    expect(keys.pubkey_from_seckey(seckey).hex(), c["pubkey"], "public key")
    signature = schnorr_bch.schnorr_sign(seckey, msg32)
    expect(signature.hex(), c["sig"], "Schnorr signature")
    expect(schnorr_bch.schnorr_verify(h(c["pubkey"]), msg32, signature), True, "verify of the signature")


def check_schnorr_bch_verify(c):
    verdict = schnorr_bch.schnorr_verify(h(c["pubkey"]), h(c["msg32"]), h(c["sig"]))
    expect(verdict, c["valid"], "verdict (%s)" % ("valid" if c["valid"] else "invalid"))


# -- keys: BIP32, BIP39 ----------------------------------------------------------------------------

def check_bip32_derive(c):
    node = bip32.ExtendedKey.from_seed(h(c["seed"])).derive(c["path"])
    expect(node.serialize(bip32.XPRV_MAINNET), c["xprv"], "xprv")
    expect(node.public().serialize(bip32.XPUB_MAINNET), c["xpub"], "xpub")
    expect(bip32.ExtendedKey.parse(c["xpub"]).serialize(bip32.XPUB_MAINNET), c["xpub"], "xpub parsed back")


def check_bip32_invalid(c):
    expect(refused(bip32.ExtendedKey.parse, c["key"]), True, "refusal (%s)" % c["reason"])


def check_bip39(c):
    expect(bip39.entropy_to_mnemonic(h(c["entropy"])), c["mnemonic"], "mnemonic")
    expect(bip39.mnemonic_to_entropy(c["mnemonic"]).hex(), c["entropy"], "entropy")
    seed = bip39.mnemonic_to_seed(c["mnemonic"], c["passphrase"])
    expect(seed.hex(), c["seed"], "seed")
    expect(bip32.ExtendedKey.from_seed(seed).serialize(bip32.XPRV_MAINNET), c["xprv"], "master xprv")


# -- encodings: bech32/bech32m, CashAddr, Base58(Check), WIF ---------------------------------------

def check_bech32_string(c):
    if not c["valid"]:
        expect(refused(bech32.bech32_decode, c["string"]), True, "refusal (%s)" % c["reason"])
        return
    hrp, data, spec = bech32.bech32_decode(c["string"])
    expect(spec, bech32.BECH32 if c["spec"] == "bech32" else bech32.BECH32M, "checksum kind")
    expect(bech32.bech32_encode(hrp, data, spec), c["string"].lower(), "encoding")


def check_segwit_address(c):
    if not c["valid"]:
        expect(all(refused(bech32.decode_segwit_address, hrp, c["address"]) for hrp in SEGWIT_HRPS), True,
               "refusal (%s)" % c["reason"])
        return
    witver, program = bech32.decode_segwit_address(c["hrp"], c["address"])
    script = bytes([witver + 0x50 if witver else 0, len(program)]) + program
    expect(script.hex(), c["scriptPubKey"], "scriptPubKey")
    expect(bech32.encode_segwit_address(c["hrp"], witver, program), c["address"].lower(), "address")


def check_cashaddr_translation(c):
    payload = base58.b58check_decode(c["legacy"])
    kind = {0x00: cashaddr.P2PKH, 0x05: cashaddr.P2SH}[payload[0]]
    expect(cashaddr.cashaddr_encode("bitcoincash", kind, payload[1:]), c["cashaddr"], "CashAddr")
    expect(cashaddr.cashaddr_decode(c["cashaddr"], "bitcoincash"), (kind, payload[1:]), "decoded")


def check_cashaddr_larger(c):
    prefix, data = c["address"].split(":")[0], h(c["data"])
    expect(cashaddr.cashaddr_encode(prefix, c["type"], data), c["address"], "CashAddr")
    expect(cashaddr.cashaddr_decode(c["address"].upper(), prefix), (c["type"], data), "decoded")


def check_cashaddr_checksum_only(c):
    prefix, _, body = c["address"].partition(":")
    expect(cashaddr.cashaddr_verify_checksum(prefix, [bech32.CHARSET.index(x) for x in body]), True, "checksum")
    expect(refused(cashaddr.cashaddr_decode, c["address"], prefix), True, "refusal of the payload")


def check_base58(c):
    expect(base58.b58encode(h(c["hex"])), c["base58"], "Base58")
    expect(base58.b58decode(c["base58"]), h(c["hex"]), "decoded")


def check_base58check_valid(c):
    text, payload, meta = c["base58"], c["hex"], c["metadata"]
    wif_prefix, p2pkh, p2sh = BITCOIN_PREFIXES[meta["isTestnet"]]
    if meta["isPrivkey"]:
        expect(wif.wif_decode(text, wif_prefix), (h(payload), meta["isCompressed"]), "WIF decoded")
        expect(wif.wif_encode(h(payload), wif_prefix, meta["isCompressed"]), text, "WIF")
    else:
        version = p2pkh if meta["addrType"] == "pubkey" else p2sh
        expect(base58.b58check_decode(text).hex(), "%02x%s" % (version, payload), "address decoded")
        expect(base58.b58check_encode(bytes([version]) + h(payload)), text, "address")


def check_base58check_invalid(c):
    def address(version):
        payload = base58.b58check_decode(c["base58"])
        if len(payload) != 21 or payload[0] != version:
            raise ValueError("not an address of this version")

    expect(all(refused(wif.wif_decode, c["base58"], p) for p in ALL_WIF_PREFIXES), True, "refusal as a WIF key")
    expect(all(refused(address, v) for v in ALL_ADDRESS_VERSIONS), True, "refusal as an address")


# -- AES: the block cipher, CBC (raw and PKCS#7), GCM; OpenSSL's Salted__ ---------------------------

def check_aes_block(c):
    cipher = aes.AES(h(c["key"]))
    expect(cipher.encrypt_block(h(c["plaintext"])).hex(), c["ciphertext"], "AES encryption")
    expect(cipher.decrypt_block(h(c["ciphertext"])).hex(), c["plaintext"], "AES decryption")


def check_aes_cbc_raw(c):
    cipher, iv = aes.AES(h(c["key"])), h(c["iv"])
    expect(cbc.cbc_encrypt_blocks(cipher, iv, h(c["plaintext"])).hex(), c["ciphertext"], "CBC encryption")
    expect(cbc.cbc_decrypt_blocks(cipher, iv, h(c["ciphertext"])).hex(), c["plaintext"], "CBC decryption")


def check_aes_cbc_pkcs7(c):
    key, iv, msg, ct = h(c["key"]), h(c["iv"]), h(c["msg"]), h(c["ct"])
    if c["result"] == "valid":
        expect(cbc.cbc_encrypt(key, iv, msg).hex(), c["ct"], "CBC-PKCS#7 encryption")
        expect(cbc.cbc_decrypt(key, iv, ct).hex(), c["msg"], "CBC-PKCS#7 decryption")
    else:
        expect(refused(cbc.cbc_decrypt, key, iv, ct), True, "refusal (%s)" % c["comment"])


def check_aes_gcm(c):
    key, iv, pt, aad, ct, tag = (h(c[k]) for k in ("key", "iv", "plaintext", "aad", "ciphertext", "tag"))
    expect(gcm.gcm_encrypt(key, iv, pt, aad).hex(), (ct + tag).hex(), "GCM encryption and tag")
    expect(gcm.gcm_decrypt(key, iv, ct + tag, aad), pt, "GCM decryption")
    forged = ct + bytes([tag[0] ^ 1]) + tag[1:]
    expect(refused(gcm.gcm_decrypt, key, iv, forged, aad), True, "refusal of a forged tag")


def check_aes_gcm_wycheproof(c):
    key, iv, msg, aad, ct, tag = (h(c[k]) for k in ("key", "iv", "msg", "aad", "ct", "tag"))
    if c["result"] == "valid":
        expect(gcm.gcm_encrypt(key, iv, msg, aad).hex(), (ct + tag).hex(), "GCM encryption and tag")
        expect(gcm.gcm_decrypt(key, iv, ct + tag, aad), msg, "GCM decryption")
    else:
        expect(refused(gcm.gcm_decrypt, key, iv, ct + tag, aad), True, "refusal (%s)" % c["comment"])


def check_openssl_salted(c):
    password, plaintext, salt = c["password"].encode("utf-8"), c["plaintext"].encode("utf-8"), h(c["salt"])
    key, iv = evp_bytes_to_key.evp_bytes_to_key(password, salt)
    expect((key.hex(), iv.hex()), (c["key"], c["iv"]), "EVP_BytesToKey key and IV")
    expect(openssl_salted.openssl_decrypt(c["openssl_enc"], password), plaintext, "decryption")
    expect(openssl_salted.openssl_encrypt(plaintext, password, salt), "".join(c["openssl_enc"].split()), "encryption")


# -- transactions: signature hashes, Tatum's derivations and signed transactions -------------------

def check_sighash_legacy(c):
    tx = transaction.parse_hex(c["tx"])
    digest = sighash.sighash_legacy(tx, c["input_index"], h(c["script_code"]), c["hash_type"])
    expect(digest[::-1].hex(), c["sighash_reversed"], "legacy signature hash")


def check_sighash_bip143(c):
    args = (transaction.parse_hex(c["tx"]), c["input_index"], h(c["script_code"]), c["amount"], c["hash_type"])
    expect(sighash.bip143_preimage(*args).hex(), c["preimage"], "BIP143 preimage")
    expect(sighash.sighash_bip143(*args).hex(), c["sighash"], "BIP143 signature hash")


def check_tatum_keys(c):
    chain = chains.get_chain(c["chain"], c["testnet"])
    expect(tatum.xpub_from_mnemonic(chain, c["mnemonic"]), c["xpub"], "xpub")
    for index, address in c["addresses"].items():
        expect(tatum.address_from_xpub(chain, c["xpub"], index), address, "address %s" % index)
        expect(tatum.wif_from_mnemonic(chain, c["mnemonic"], int(index)), c["privateKeys"][index], "WIF %s" % index)


def check_tatum_sign(c):
    if c["error"]:
        try:
            pending.sign_pending(c["pending"], c["privateKeys"], c["testnet"])
        except ValueError as e:
            expect(str(e), c["error"], "the refusal's message")
            return
        raise Mismatch("a refusal")
    signed = pending.sign_pending(c["pending"], c["privateKeys"], c["testnet"])
    expect(signed, c["signed"], "signed transaction bytes")
    expect(transaction.parse_hex(signed).txid(), c["txid"], "txid")


CHECKS = {name[len("check_"):]: function for name, function in globals().items() if name.startswith("check_")}
