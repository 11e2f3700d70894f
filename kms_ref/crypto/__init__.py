"""Cryptographic primitives, written by hand after their specifications (standard library only).

    hashes.py          SHA-256/HASH256/HASH160, HMAC (hashlib) and RIPEMD-160 (ripemd160.py)
    secp256k1.py       the curve: field, group law, plain double-and-add, SEC 1 encodings
    endomorphism.py    the GLV endomorphism λ(x, y) = (βx, y) and the split k ≡ k1 + k2·λ
    comb.py, wnaf.py   the fast multiplications: the fixed-schedule comb for G and for keys that
                       verify often; GLV + wNAF for a variable point (public inputs only)
    blinding.py        fresh random values that keep secret computations' time from the secret
    ecmult.py          k·G for secret k (fixed schedule, blinded) and u1·G + u2·Q for verification
    keys.py            public key from private key
    rfc6979.py         deterministic nonces; ecdsa.py ECDSA (low S, strict DER);
                       schnorr_bch.py Bitcoin Cash Schnorr; bip340.py BIP340 Schnorr (Taproot)
    aes.py             AES (FIPS 197); cbc.py, gcm.py its modes (SP 800-38A, SP 800-38D)
    aes_sliced.py      AES on many independent blocks at once (CBC decryption, GCM's counter)
    evp_bytes_to_key.py, openssl_salted.py   OpenSSL's "Salted__" container (CryptoJS)

Layer: the bottom. Imports only the standard library and other modules of this folder, and
within it the curve definition is below its fast paths (secp256k1 ← blinding, endomorphism ←
comb, wnaf ← ecmult ← keys, ecdsa, schnorr_bch, bip340), so there is no import cycle.
"""
