/* SPDX-License-Identifier: Apache-2.0 */
/*
 * X.509 certificates and CRLs for the PCK hierarchy (quote-format §5, §6.6):
 * building them for the simulated platform and parsing them (including the
 * SGX extension, OID 1.2.840.113741.1.13.1) for inspect and the verifier.
 * Certificates and CRLs are held as OpenSSL objects behind opaque handles.
 *
 * Return convention: 0 on success, a negative CRYPTO_E_* (crypto.h).
 */
#ifndef SGXQH_X509_H
#define SGXQH_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypto.h"

typedef struct x509_cert x509_cert; /* wraps X509* */
typedef struct x509_crl x509_crl;   /* wraps X509_CRL* */

/* ---- SGX extension (quote-format §5.2) ---- */
#define SGX_EXT_PPID_LEN 16
#define SGX_EXT_FMSPC_LEN 6
#define SGX_EXT_PCEID_LEN 2
#define SGX_EXT_PLATFORM_INSTANCE_ID_LEN 16

typedef struct {
    uint8_t ppid[SGX_EXT_PPID_LEN];
    uint8_t comp_svn[16];  /* SGX TCB Comp01..16 SVN (the INTEGER entries) */
    uint16_t pcesvn;
    uint8_t cpusvn[16];    /* TCB/CPUSVN octet string */
    uint8_t pceid[SGX_EXT_PCEID_LEN];
    uint8_t fmspc[SGX_EXT_FMSPC_LEN];
    int sgx_type;          /* 0 Standard, 1 Scalable, 2 Scalable-with-Integrity */
    bool has_platform_instance_id;
    uint8_t platform_instance_id[SGX_EXT_PLATFORM_INSTANCE_ID_LEN];
    bool has_configuration;
    bool dynamic_platform, cached_keys, smt_enabled;
} sgx_pck_ext;

/* DER of the extension's extnValue (the outer SEQUENCE). */
int sgx_pck_ext_encode(const sgx_pck_ext *ext, uint8_t **der, size_t *der_len /* free() */);
/* Parses the extnValue DER; strict: exactly 5 or 7 entries, TCB exactly 18. */
int sgx_pck_ext_decode(const uint8_t *der, size_t der_len, sgx_pck_ext *out);

/* ---- Building (simulated hierarchy) ---- */
typedef struct {
    const char *common_name;        /* CN; O/L/ST/C follow Intel's profile */
    const char *organization;       /* default "Intel Corporation" if NULL */
    const x509_cert *issuer;        /* NULL: self-signed */
    const crypto_p256_key *issuer_key; /* signing key (== subject key if self-signed) */
    const crypto_p256_key *subject_key;
    const uint8_t *serial;          /* big-endian, 1..20 bytes, top bit clear, non-zero */
    size_t serial_len;
    time_t not_before, not_after;
    bool is_ca;
    int pathlen;                    /* CA only; -1 for none */
    const char *crl_dp_url;         /* CRL Distribution Points URI (required: QVL
                                     * demands CRL-DP on every cert, §5.3) */
    const sgx_pck_ext *sgx_ext;     /* non-NULL: add SGX extension (PCK leaf) */
} x509_cert_spec;

/* Always signs deterministically (RFC 6979, crypto_p256_sign_deterministic):
 * the same spec gives the same DER, on every machine and every run. The
 * result is checked with OpenSSL's X509_verify under the issuer key. */
int x509_cert_build(const x509_cert_spec *spec, x509_cert **out);

/* Every entry carries CRLReason keyCompromise, as Intel's PCK CRLs do (§6.6). */
typedef struct {
    const uint8_t *serial;
    size_t serial_len;
    time_t revoked_at;
} x509_crl_entry;

typedef struct {
    const x509_cert *issuer;
    const crypto_p256_key *issuer_key;
    time_t this_update, next_update;
    uint64_t crl_number;
    const x509_crl_entry *entries;
    size_t n_entries;
} x509_crl_spec;

/* Deterministic like x509_cert_build; checked with X509_CRL_verify. */
int x509_crl_build(const x509_crl_spec *spec, x509_crl **out);

/* ---- Parsing / encoding ---- */
int x509_cert_from_der(const uint8_t *der, size_t len, x509_cert **out);
int x509_cert_from_pem(const char *pem, size_t len, x509_cert **out);
/* The verifier's parse: the same checks and fields as x509_cert_from_der,
 * several times faster on OpenSSL 3.0 because OpenSSL does not decode the
 * public key (x509.c says why). Only an uncompressed P-256 key is read (any
 * other: x509_cert_pubkey returns CRYPTO_E_BAD_KEY); signatures by and of it
 * are checked as X509_verify checks them. */
int x509_cert_from_der_lite(const uint8_t *der, size_t len, x509_cert **out);
/* The DER of the first CERTIFICATE block of pem (malloc'd: free it), decoded
 * as x509_cert_from_pem decodes it. CRYPTO_E_PARSE when there is none. */
int x509_cert_pem_to_der(const char *pem, size_t len, uint8_t **der, size_t *der_len);
/* Parse every PEM CERTIFICATE block in buf (any order, trailing NUL and
 * garbage between blocks ignored). Caller frees with x509_chain_free.
 * CRYPTO_E_NOT_FOUND if there is no block; CRYPTO_E_PARSE if any block is
 * truncated or does not decode (never a partial chain); at most 16 certs. */
int x509_chain_from_pem(const char *pem, size_t len, x509_cert ***certs, size_t *n);
void x509_chain_free(x509_cert **certs, size_t n);
int x509_cert_to_der(const x509_cert *c, uint8_t **der, size_t *len /* free() */);
int x509_cert_to_pem(const x509_cert *c, char **pem, size_t *len /* free(), NUL-terminated */);
x509_cert *x509_cert_dup(const x509_cert *c); /* new reference */
void x509_cert_free(x509_cert *c);

int x509_crl_from_der(const uint8_t *der, size_t len, x509_crl **out);
int x509_crl_from_pem(const char *pem, size_t len, x509_crl **out);
int x509_crl_to_der(const x509_crl *c, uint8_t **der, size_t *len /* free() */);
void x509_crl_free(x509_crl *c);

/* ---- Inspection ---- */
/* One-line RFC 2253 DN into buf. */
int x509_cert_subject(const x509_cert *c, char *buf, size_t cap);
int x509_cert_issuer(const x509_cert *c, char *buf, size_t cap);
int x509_cert_subject_cn(const x509_cert *c, char *buf, size_t cap);
int x509_cert_issuer_cn(const x509_cert *c, char *buf, size_t cap);
/* DN comparisons here and in x509_crl_issued_by are byte-exact on the DER
 * (QVL compares raw DNs), not RFC 5280 case-folded matching. */
bool x509_cert_subject_equals_issuer_of(const x509_cert *issuer, const x509_cert *subject);
bool x509_cert_is_self_issued(const x509_cert *c);
int x509_cert_serial(const x509_cert *c, uint8_t *buf, size_t cap, size_t *len);
int x509_cert_validity(const x509_cert *c, time_t *not_before, time_t *not_after);
int x509_cert_pubkey(const x509_cert *c, crypto_p256_key **out); /* must be P-256 */
int x509_cert_pubkey_raw(const x509_cert *c, uint8_t pub[CRYPTO_P256_PUB_LEN]);
/* Signature of subject verifies with issuer's key (0 / CRYPTO_E_BAD_SIG).
 * Only ecdsa-with-SHA256 by a P-256 issuer key is accepted. */
int x509_cert_verify_signed_by(const x509_cert *subject, const x509_cert *issuer);
/* Raw signature BIT STRING bytes, for QVL's "same root" comparison. */
int x509_cert_signature_bytes(const x509_cert *c, const uint8_t **sig, size_t *len);
bool x509_cert_has_required_exts(const x509_cert *c); /* AKI, SKI, KU, BC, CRL-DP */
bool x509_cert_is_ca(const x509_cert *c);
/* SGX extension of a PCK certificate; CRYPTO_E_NOT_FOUND if absent. */
int x509_cert_sgx_ext(const x509_cert *c, sgx_pck_ext *out);
/* Of the exact DER it was parsed from (of OpenSSL's encoding for a
 * certificate built here). */
int x509_cert_sha256(const x509_cert *c, uint8_t out[32]);
void *x509_cert_raw(const x509_cert *c); /* borrowed X509* */

int x509_crl_issuer(const x509_crl *c, char *buf, size_t cap);
bool x509_crl_issued_by(const x509_crl *crl, const x509_cert *issuer); /* DN equal */
int x509_crl_verify_signed_by(const x509_crl *crl, const x509_cert *issuer);
int x509_crl_dates(const x509_crl *c, time_t *this_update, time_t *next_update);
bool x509_crl_has_required_exts(const x509_crl *c); /* CRL number + AKI */
int x509_crl_number(const x509_crl *c, uint64_t *out);
bool x509_crl_revokes(const x509_crl *crl, const x509_cert *c); /* by serial */
size_t x509_crl_count(const x509_crl *c);

/* Time helpers shared by collateral code: "YYYY-MM-DDThh:mm:ssZ" <-> time_t.
 * Parsing accepts exactly that form (CRYPTO_E_PARSE otherwise, *out
 * untouched); formatting writes "" for years outside 0000..9999. */
int time_parse_iso8601(const char *s, time_t *out);
void time_format_iso8601(time_t t, char out[21]);

#endif
