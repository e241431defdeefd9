/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thin wrappers over OpenSSL 3 (libcrypto): the only file set in the project
 * that includes OpenSSL headers for primitives. Callers above (sgx, sim,
 * verify) speak SGX's raw encodings: P-256 keys as X‖Y (64 bytes, big-endian,
 * no 0x04), signatures as r‖s (64 bytes), hashes as 32 raw bytes
 * (quote-format §0). X.509/CRL helpers live in x509.h.
 *
 * Return convention everywhere: 0 on success, a negative CRYPTO_E_* code on
 * failure; crypto_strerror() names it.
 */
#ifndef SGXQH_CRYPTO_H
#define SGXQH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_P256_PUB_LEN 64  /* X‖Y */
#define CRYPTO_P256_PRIV_LEN 32 /* big-endian scalar */
#define CRYPTO_P256_SIG_LEN 64  /* r‖s */
#define CRYPTO_CMAC_LEN 16

typedef enum {
    CRYPTO_OK = 0,
    CRYPTO_E_INVALID = -1,   /* bad argument or malformed encoding */
    CRYPTO_E_BAD_SIG = -2,   /* signature did not verify */
    CRYPTO_E_BAD_KEY = -3,   /* key not on curve / out of range */
    CRYPTO_E_OPENSSL = -4,   /* an OpenSSL call failed unexpectedly */
    CRYPTO_E_NOMEM = -5,
    CRYPTO_E_PARSE = -6,     /* DER/PEM could not be parsed */
    CRYPTO_E_NOT_FOUND = -7, /* extension / field absent */
} crypto_err;

const char *crypto_strerror(int err);

/* Hashes */
int crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);
/* SHA-256 over the concatenation of n (ptr,len) parts. */
typedef struct {
    const void *ptr;
    size_t len;
} crypto_buf;
int crypto_sha256_parts(const crypto_buf *parts, size_t n, uint8_t out[CRYPTO_SHA256_LEN]);

/* SHA-384 (TDX measurements and the TDREPORT hashes are SHA-384). */
#define CRYPTO_SHA384_LEN 48
int crypto_sha384(const void *data, size_t len, uint8_t out[CRYPTO_SHA384_LEN]);

/* HMAC-SHA256 (RFC 2104); the simulated TDREPORT MAC (docs/tdx.md). */
int crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
                       uint8_t out[CRYPTO_SHA256_LEN]);

/* HKDF-SHA256 (RFC 5869). salt may be NULL/0. */
int crypto_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* AES-128-CMAC (NIST SP 800-38B). */
int crypto_aes128_cmac(const uint8_t key[16], const void *data, size_t len,
                       uint8_t out[CRYPTO_CMAC_LEN]);

/* Constant-time equality; returns true when equal. */
bool crypto_ct_equal(const void *a, const void *b, size_t len);

/* Wipe secrets (OPENSSL_cleanse). */
void crypto_wipe(void *p, size_t len);

/* Fill with CSPRNG bytes. */
int crypto_random(void *out, size_t len);

/* P-256 keys. A crypto_p256_key holds a private key (and its public half) or
 * a public key only. Opaque; free with crypto_p256_free. */
typedef struct crypto_p256_key crypto_p256_key;

/* Derive a private key deterministically from 32+ bytes of key material:
 * scalar = (OS2IP(material) mod (n-1)) + 1, so every input gives a valid key.
 * Used by the simulated platform (seed → HKDF → key). */
int crypto_p256_from_seed(const uint8_t *material, size_t len, crypto_p256_key **out);
int crypto_p256_generate(crypto_p256_key **out);
int crypto_p256_from_pub(const uint8_t pub[CRYPTO_P256_PUB_LEN], crypto_p256_key **out);
int crypto_p256_pub(const crypto_p256_key *k, uint8_t pub[CRYPTO_P256_PUB_LEN]);
void crypto_p256_free(crypto_p256_key *k);
/* The underlying EVP_PKEY* (borrowed), for x509.c. Declared void* so this
 * header stays OpenSSL-free. */
void *crypto_p256_evp(const crypto_p256_key *k);
/* Wrap an EVP_PKEY* (takes a reference; caller keeps its own). */
int crypto_p256_from_evp(void *evp_pkey, crypto_p256_key **out);

/* ECDSA-P256-SHA256 over msg, raw r‖s. */
int crypto_p256_sign(const crypto_p256_key *k, const void *msg, size_t len,
                     uint8_t sig[CRYPTO_P256_SIG_LEN]);
/* Returns 0 if valid, CRYPTO_E_BAD_SIG if not, other codes on bad input. */
int crypto_p256_verify(const crypto_p256_key *k, const void *msg, size_t len,
                       const uint8_t sig[CRYPTO_P256_SIG_LEN]);
/* Convenience: verify with a raw X‖Y key. */
int crypto_p256_verify_raw(const uint8_t pub[CRYPTO_P256_PUB_LEN], const void *msg, size_t len,
                           const uint8_t sig[CRYPTO_P256_SIG_LEN]);
/* Convert between raw r‖s and DER ECDSA-Sig-Value. der_cap >= 72 suffices. */
int crypto_sig_raw_to_der(const uint8_t sig[CRYPTO_P256_SIG_LEN], uint8_t *der, size_t der_cap,
                          size_t *der_len);
int crypto_sig_der_to_raw(const uint8_t *der, size_t der_len, uint8_t sig[CRYPTO_P256_SIG_LEN]);

/* Hex helpers (lowercase output). hex_decode accepts either case, rejects
 * odd length / non-hex, and requires exactly out_len bytes unless out_len_var
 * is non-NULL (then up to out_cap). */
void crypto_hex_encode(const uint8_t *in, size_t len, char *out /* 2*len+1 */);
int crypto_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_cap,
                      size_t *out_len);

/* ---- Additions after the initial contract (appended) ---- */

/* Export the private scalar (big-endian, 32 bytes); CRYPTO_E_BAD_KEY for a
 * public-only key. Wipe the output when done. */
int crypto_p256_priv(const crypto_p256_key *k, uint8_t priv[CRYPTO_P256_PRIV_LEN]);

/* Deterministic ECDSA-P256-SHA256 over msg (RFC 6979 §3.2: the nonce is an
 * HMAC-DRBG(SHA-256) output keyed by the private key and SHA-256(msg)), raw
 * r‖s. The same key and message give the same signature on every machine;
 * the simulated PKI relies on it (docs/simulation.md). s is not normalised
 * to the low half (matches the RFC's vectors; verifiers accept both). The
 * signature is verified before it is returned. ecdsa_det.c. */
int crypto_p256_sign_deterministic(const crypto_p256_key *k, const void *msg, size_t len,
                                   uint8_t sig[CRYPTO_P256_SIG_LEN]);
/* The RFC 6979 nonce k (big-endian) that signing `digest` (a SHA-256 value)
 * with k uses. Only for the RFC 6979 known-answer test; never publish it
 * (k and a signature give the private key). */
int crypto_p256_rfc6979_nonce(const crypto_p256_key *k, const uint8_t digest[CRYPTO_SHA256_LEN],
                              uint8_t nonce[CRYPTO_P256_PRIV_LEN]);

#endif
