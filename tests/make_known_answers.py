"""Make kms_ref/selftest/known_answers.json: the self-test's curated cases (SPEC §10).

    python3 -m tests.make_known_answers          # from the repository root; rewrites the file

Every case is copied field for field from a published vector in vectors/ (whose files name their
sources), except the SHA-2, HMAC, PBKDF2 and scrypt cases, typed here from their RFCs because
kms_ref takes those functions from `hashlib` and keeps no vector file for them. The choice: a
few cases of every primitive and of Tatum's derivations — valid and invalid — small enough that
the whole self-test takes well under 3 s; `"fast": true` marks the one or two known answers per
primitive that the daemon checks at every start (the power-on self-test).

tests/test_selftest.py checks that the file is exactly what this script makes.
"""

import json
import os

from tests.vectors import VECTORS, load

TARGET = os.path.join(os.path.dirname(VECTORS), "kms_ref", "selftest", "known_answers.json")

RFC_CASES = [
    # RFC 6234 §8.4 test inputs TEST1 ("abc") and TEST2_1, with FIPS 180-4's digests.
    {"name": "sha256/abc", "check": "sha256", "source": "RFC 6234 §8.4 TEST1 (FIPS 180-4 example)",
     "fast": True, "message": "616263",
     "digest": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"name": "sha256/448-bit", "check": "sha256", "source": "RFC 6234 §8.4 TEST2_1 (FIPS 180-4 example)",
     "message": "6162636462636465636465666465666765666768666768696768696a68696a6b696a6b6c6a6b6c6d6b6c6d6e6c6d6e6f6d6e6f706e6f7071",
     "digest": "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"name": "sha512/abc", "check": "sha512", "source": "RFC 6234 §8.4 TEST1 (FIPS 180-4 example)",
     "message": "616263",
     "digest": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
               "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {"name": "hmac-sha256/rfc4231-1", "check": "hmac_sha256", "source": "RFC 4231 §4.2, Test Case 1",
     "key": "0b" * 20, "data": "4869205468657265",
     "mac": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {"name": "hmac-sha256/rfc4231-2", "check": "hmac_sha256", "source": "RFC 4231 §4.3, Test Case 2",
     "key": "4a656665", "data": "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "mac": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {"name": "hmac-sha512/rfc4231-1", "check": "hmac_sha512", "source": "RFC 4231 §4.2, Test Case 1",
     "fast": True, "key": "0b" * 20, "data": "4869205468657265",
     "mac": "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
            "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
    {"name": "hmac-sha512/rfc4231-2", "check": "hmac_sha512", "source": "RFC 4231 §4.3, Test Case 2",
     "key": "4a656665", "data": "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "mac": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
    {"name": "pbkdf2-sha256/rfc7914-1", "check": "pbkdf2_sha256", "source": "RFC 7914 §11, first vector",
     "fast": True, "password": "706173737764", "salt": "73616c74", "iterations": 1,
     "derived": "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
    {"name": "scrypt/rfc7914-1", "check": "scrypt", "source": "RFC 7914 §12, first vector",
     "fast": True, "password": "", "salt": "", "N": 16, "r": 1, "p": 1,
     "derived": "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"},
    {"name": "scrypt/rfc7914-3", "check": "scrypt", "source": "RFC 7914 §12, third vector",
     "password": "706c656173656c65746d65696e", "salt": "536f6469756d43686c6f72696465", "N": 16384, "r": 8, "p": 1,
     "derived": "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
                "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"},
]


def case(name, check, source, fields, fast=False):
    entry = {"name": name, "check": check, "source": source}
    if fast:
        entry["fast"] = True
    entry.update((k, v) for k, v in fields.items() if k not in ("name", "source"))   # named above
    return entry


def curated() -> list:
    cases = list(RFC_CASES)

    data = load("ripemd160.json")
    for v in data["vectors"]:
        cases.append(case("ripemd160/" + v["id"], "ripemd160", "Dobbertin, Bosselaers, Preneel, RIPEMD-160 (FSE 1996), "
                          "table of test values", v, fast=v["id"] == "abc"))

    data = load("rfc6979_secp256k1.json")
    chosen = {"bitcointalk-satoshi-key1", "bitcointalk-tears-key1", "bitcointalk-satoshi-keyN-1",
              "bitcointalk-alan-turing", "bitcoinjs-ecdsa-0", "bitcoinjs-ecdsa-1", "bitcoin-core-key1",
              "bitcoin-core-key2", "bitcore-lib-0", "bitcore-lib-1"}
    for v in data["ecdsa"]:
        if v["id"] in chosen:
            cases.append(case("ecdsa-rfc6979/" + v["id"], "ecdsa_sign", _source_by_prefix(data, v["id"]), v,
                              fast=v["id"] == "bitcoin-core-key1"))
    for v in data["nonce_sequences"][:2]:
        cases.append(case("rfc6979-nonces/" + v["id"], "rfc6979_nonces", _source_by_prefix(data, v["id"]), v))

    data = load("wycheproof_ecdsa_secp256k1_bitcoin.json")
    seen = set()
    for group in data["testGroups"]:
        for test in group["tests"]:
            flag = test["flags"][0] if test["flags"] else "none"
            if flag in seen:
                continue
            seen.add(flag)
            fields = {"publicKey": group["publicKey"]["uncompressed"], "tcId": test["tcId"], "comment": test["comment"],
                      "flags": test["flags"], "msg": test["msg"], "sig": test["sig"], "result": test["result"]}
            cases.append(case("wycheproof-ecdsa/tc%d" % test["tcId"], "ecdsa_verify",
                              "Project Wycheproof ecdsa_secp256k1_sha256_bitcoin_test.json (0.9rc5), tcId %d" % test["tcId"],
                              fields, fast=flag == "ValidSignature"))

    data = load("bch_schnorr.json")
    for v in data["sign"][:3]:
        cases.append(case("schnorr-bch-sign/" + v["id"], "schnorr_bch_sign", _source_by_prefix(data, v["id"]), v,
                          fast=v["id"] == "bitcoin-abc-key1"))
    for v in data["verify"]:
        cases.append(case("schnorr-bch-verify/" + v["id"], "schnorr_bch_verify", _source_by_prefix(data, v["id"]), v))

    data = load("bip32.json")
    for v in data["valid"]:
        cases.append(case("bip32/tv%d-%s" % (v["vector"], v["path"]), "bip32_derive",
                          "BIP-0032 §Test Vectors, test vector %d" % v["vector"], v,
                          fast=(v["vector"], v["path"]) == (1, "m/0'")))
    for n, v in enumerate(data["invalid"]):
        cases.append(case("bip32/tv5-%02d" % n, "bip32_invalid", "BIP-0032 §Test Vectors, test vector 5", v))

    data = load("bip39_trezor.json")
    for n in (0, 1, 3, 8, 12, 20):
        entropy, mnemonic, seed, xprv = data["vectors"]["english"][n]
        cases.append(case("bip39/english-%d" % n, "bip39", "trezor/python-mnemonic vectors.json, english #%d "
                          "(passphrase TREZOR)" % n,
                          {"entropy": entropy, "mnemonic": mnemonic, "passphrase": data["passphrase"],
                           "seed": seed, "xprv": xprv}, fast=n == 0))

    data = load("bech32.json")
    for kind in ("bech32_valid", "bech32m_valid", "bech32_invalid", "bech32m_invalid"):
        for v in data[kind]:
            cases.append(case("%s/%s" % (kind.replace("_", "-"), v["id"]), "bech32_string", v["source"],
                              dict(v, spec=kind.split("_")[0], valid=kind.endswith("_valid")),
                              fast=v["id"] == "bip350-valid-1" and kind == "bech32m_valid"))
    for kind in ("segwit_valid", "segwit_invalid"):
        for v in data[kind]:
            cases.append(case("%s/%s" % (kind.replace("_", "-"), v["id"]), "segwit_address", v["source"],
                              dict(v, valid=kind == "segwit_valid"),
                              fast=v["id"] == "bip350-valid-1" and kind == "segwit_valid"))

    data = load("cashaddr.json")
    source = "CashAddr specification 1.1 (bitcoincash.org spec/cashaddr.md), §Test vectors"
    for v in data["translation"]:
        cases.append(case("cashaddr/" + v["id"], "cashaddr_translation", source + ", examples of address translation",
                          v, fast=v is data["translation"][0]))
    for v in data["larger"][::3]:
        cases.append(case("cashaddr/" + v["id"], "cashaddr_larger", source + ", larger test vectors", v))
    for v in data["checksum_only"]:
        cases.append(case("cashaddr/" + v["id"], "cashaddr_checksum_only", source.replace("§Test vectors", "§Checksum"), v))

    data = load("base58_encode_decode.json")
    for v in data["vectors"]:
        cases.append(case("base58/" + v["id"], "base58", "Bitcoin Core src/test/data/base58_encode_decode.json", v))
    data = load("base58_keys_valid.json")
    for v in data["vectors"][:12]:
        cases.append(case("base58check/" + v["id"], "base58check_valid", "Bitcoin Core src/test/data/base58_keys_valid.json",
                          v, fast=v is data["vectors"][0]))
    data = load("base58_keys_invalid.json")
    for v in data["vectors"][:12]:
        cases.append(case("base58check/invalid-" + v["id"], "base58check_invalid",
                          "Bitcoin Core src/test/data/base58_keys_invalid.json", v))

    data = load("aes_fips197.json")
    for v in data["example_vectors"]:
        cases.append(case("aes/fips197-" + v["name"], "aes_block", "NIST FIPS 197, Appendix " + v["name"], v,
                          fast=v["name"] == "C.3"))
    data = load("nist_sp800_38a_cbc.json")
    for v in data["vectors"]:
        cases.append(case("aes-cbc/sp800-38a-" + v["name"], "aes_cbc_raw", "NIST SP 800-38A, Appendix " + v["name"], v,
                          fast=v["mode"] == "CBC-AES256"))
    data = load("wycheproof_aes_cbc_pkcs5.json")
    _wycheproof_aes(cases, data, "aes_cbc_pkcs7", "wycheproof-aes-cbc", "aes_cbc_pkcs5_test.json", keep=8)
    data = load("gcm_mcgrew_viega.json")
    for v in data["vectors"]:
        if v["name"] in ("TC2", "TC3", "TC4", "TC14", "TC15", "TC16"):
            cases.append(case("aes-gcm/" + v["name"], "aes_gcm", "McGrew and Viega, The Galois/Counter Mode of "
                              "Operation (2005), Appendix B, Test Case " + v["name"][2:], v, fast=v["name"] == "TC14"))
    data = load("wycheproof_aes_gcm.json")
    _wycheproof_aes(cases, data, "aes_gcm_wycheproof", "wycheproof-aes-gcm", "aes_gcm_test.json", keep=8)

    data = load("openssl_enc_md5.json")
    for v in data["vectors"]:
        cases.append(case("openssl-salted/" + v["name"], "openssl_salted", "OpenSSL 3.0.19 `openssl enc -aes-256-cbc "
                          "-md md5` (EVP_BytesToKey, Salted__)", v, fast=v is data["vectors"][0]))

    data = load("bitcoin_core_sighash.json")
    for n, v in enumerate(data["vectors"][:12]):
        raw, script_code, input_index, hash_type, digest = v
        cases.append(case("sighash-legacy/core-%03d" % n, "sighash_legacy", "Bitcoin Core src/test/data/sighash.json, "
                          "row %d" % n, {"tx": raw, "script_code": script_code, "input_index": input_index,
                                         "hash_type": hash_type, "sighash_reversed": digest}, fast=n == 0))
    data = load("bip143_examples.json")
    for v in data["sighash"]:
        cases.append(case("sighash-bip143/" + v["name"], "sighash_bip143", "BIP-0143 §Example, " + v["name"],
                          {k: v[k] for k in ("tx", "input_index", "script_code", "amount", "hash_type", "preimage", "sighash")},
                          fast=v["name"] == "native-p2wpkh-1"))

    data = load("tatum_keys.json")
    seen = set()
    for v in data["vectors"]:
        if (v["chain"], v["testnet"]) in seen:
            continue
        seen.add((v["chain"], v["testnet"]))
        indexes = sorted(v["addresses"], key=int)
        fields = {"chain": v["chain"], "testnet": v["testnet"], "mnemonic": v["mnemonic"], "xpub": v["xpub"],
                  "addresses": {i: v["addresses"][i] for i in (indexes[0], indexes[-1])},
                  "privateKeys": {i: v["privateKeys"][i] for i in (indexes[0], indexes[-1])}}
        cases.append(case("tatum-keys/%s-%s" % (v["chain"], "testnet" if v["testnet"] else "mainnet"), "tatum_keys",
                          "vectors/tatum_keys.json: @tatumio/tatum 1.37 generateWallet, generateAddressFromXPub, "
                          "generatePrivateKeyFromMnemonic", fields))
    data = load("tatum_sign.json")
    for n in (8, 4, 33, 10, 3, 30):
        v = data["vectors"][n]
        cases.append(case("tatum-sign/%02d-%s-%s%s" % (n, v["chain"], "testnet" if v["testnet"] else "mainnet",
                                                       "-refused" if v["error"] else ""), "tatum_sign",
                          "vectors/tatum_sign.json case %d: signed by bitcore-lib 10.8.0 / bitcore-lib-ltc, -doge 10.0.0 "
                          "/ bitcoincashjs2-lib 4.1.2 as tatum-kms 8.x signs" % n,
                          {k: v[k] for k in ("chain", "testnet", "privateKeys", "pending", "signed", "error", "txid")}))
    return cases


def _source_by_prefix(data, case_id) -> str:
    """The entry of the file's "sources" whose key starts the case's id."""
    for prefix, text in data["sources"].items():
        if case_id.startswith(prefix):
            return text
    raise KeyError(case_id)


def _wycheproof_aes(cases, data, check, prefix, file_name, keep):
    """The first `keep` valid and `keep` invalid tests, spread over the groups (key sizes)."""
    taken = {"valid": 0, "invalid": 0}
    for group in data["testGroups"]:
        for test in group["tests"]:
            if test["result"] not in taken or taken[test["result"]] >= keep:
                continue
            if sum(1 for c in cases if c["check"] == check and c["keySize"] == group["keySize"]
                   and c["result"] == test["result"]) >= 2:
                continue
            taken[test["result"]] += 1
            fields = dict(test, keySize=group["keySize"])
            cases.append(case("%s/tc%d" % (prefix, test["tcId"]), check, "Project Wycheproof %s (%s), tcId %d"
                              % (file_name, group["source"]["version"] if "source" in group else data.get("generatorVersion", ""),
                                 test["tcId"]), fields))


def render() -> str:
    document = {
        "source": "kms_ref's self-test: a curated copy of published vectors (each case names its source; "
                  "made by tests/make_known_answers.py from the repository's vectors/ and the RFCs)",
        "cases": curated(),
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    with open(TARGET, "w", encoding="utf-8") as f:
        f.write(render())
    print("wrote %s" % TARGET)
