/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the verifier (src/verify): parsed collateral (TCB info, QE
 * identity), the per-context cache of parsed objects and verified
 * signatures, and small helpers shared by the files of this directory.
 * Nothing here is part of the public API (include/sgxqh/verify.h).
 */
#ifndef SGXQH_VERIFY_INTERNAL_H
#define SGXQH_VERIFY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "sgxqh/verify.h"

/* Named limits for collateral JSON (quote-format §6.2, §6.4). Real TCB infos
 * have ~20 levels and a handful of advisories per level. */
#define TCBINFO_MAX_LEVELS 256
#define TCBINFO_MAX_MODULE_IDENTITIES 32
#define ISVSVN_MAX_LEVELS 256
#define LEVEL_MAX_ADVISORIES VERIFY_MAX_ADVISORIES
#define TCB_COMPONENTS 16
#define TDX_MRSIGNER_LEN 48
#define TDX_ATTRIBUTES_LEN 8

/* ---- TCB info (quote-format §6.2) ---- */
typedef struct {
    size_t n;
    char id[LEVEL_MAX_ADVISORIES][VERIFY_ADVISORY_ID_MAX];
} advisory_list;

typedef struct {
    uint8_t sgx_comp[TCB_COMPONENTS];
    uint16_t pcesvn;
    bool has_tdx;
    uint8_t tdx_comp[TCB_COMPONENTS];
    verify_tcb_status status;
    int64_t tcb_date;
    advisory_list adv;
} tcb_level;

/* A level list keyed by an ISVSVN: QE identity and TDX module identities. */
typedef struct {
    uint16_t isvsvn;
    verify_tcb_status status;
    int64_t tcb_date;
    advisory_list adv;
} isvsvn_level;

typedef struct {
    char id[16];                       /* "TDX_03" */
    uint8_t mrsigner[TDX_MRSIGNER_LEN];
    uint8_t attributes[TDX_ATTRIBUTES_LEN];
    uint8_t attributes_mask[TDX_ATTRIBUTES_LEN];
    size_t n_levels;
    isvsvn_level *levels;              /* JSON order */
} tdx_module_identity;

typedef struct {
    bool has_id;
    char id[8];                        /* "SGX" / "TDX"; v2 has none */
    int version;                       /* 2 or 3 */
    int64_t issue_date, next_update;
    uint8_t fmspc[6];
    uint8_t pceid[2];
    uint32_t tcb_type;
    uint32_t eval_number;
    size_t n_levels;
    tcb_level *levels;                 /* sorted highest first (§6.3 step 1) */
    bool has_tdx_module;
    uint8_t tdx_mrsigner[TDX_MRSIGNER_LEN];
    uint8_t tdx_attributes[TDX_ATTRIBUTES_LEN];
    uint8_t tdx_attributes_mask[TDX_ATTRIBUTES_LEN];
    size_t n_module_ids;
    tdx_module_identity *module_ids;
} tcb_info;

/* ---- QE identity (quote-format §6.4) ---- */
typedef struct {
    char id[8];                        /* "QE", "TD_QE", "QVE" */
    int version;
    int64_t issue_date, next_update;
    uint32_t eval_number;
    uint8_t miscselect[4], miscselect_mask[4];
    uint8_t attributes[16], attributes_mask[16];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    size_t n_levels;
    isvsvn_level *levels;              /* JSON order (§6.4: first match wins) */
} qe_identity;

/* Parse the signed body text (not the envelope). err gets a sentence. */
int tcb_info_parse(const char *body, size_t len, tcb_info *out, char *err, size_t errcap);
void tcb_info_free(tcb_info *t);
int qe_identity_parse(const char *body, size_t len, qe_identity *out, char *err, size_t errcap);
void qe_identity_free(qe_identity *q);

/* §6.3: the first level (in sorted order) the PCK SVNs reach, or -1. With
 * tee_tcb_svn (TDX) also returns the first level whose TDX components are
 * reached as well in *tdx_index (-1 if none). */
int tcb_info_match_sgx(const tcb_info *t, const uint8_t comp[16], uint16_t pcesvn);
void tcb_info_match_tdx(const tcb_info *t, const uint8_t comp[16], uint16_t pcesvn,
                        const uint8_t tee_tcb_svn[16], int *sgx_index, int *tdx_index);
/* §6.4: first level in JSON order with level.isvsvn <= isvsvn, or -1. */
int isvsvn_match(const isvsvn_level *levels, size_t n, uint16_t isvsvn);

/* §7.5 convergence (QVL's rules). qe_status is the QE level's tcbStatus. */
verify_tcb_status converge_with_qe(verify_tcb_status platform, verify_tcb_status qe_status);
verify_tcb_status converge_with_tdx_module(verify_tcb_status tdx_level,
                                           verify_tcb_status module_status);

/* ---- Cached objects ---- */
#define VCERT_MAX_VERIFIERS 4
typedef struct {
    x509_cert *cert;
    crypto_p256_key *key;              /* its public key (NULL if not P-256) */
    uint8_t pub[64];
    bool has_pub;
    uint8_t der_sha256[32];
    char subject[384], issuer[384], cn[160];
    bool self_issued, is_ca, has_required_exts;
    time_t not_before, not_after;
    /* Issuer keys this exact DER has been verified with (cache of
     * x509_cert_verify_signed_by results; keyed by DER hash + issuer key). */
    size_t n_verified;
    uint8_t verified_by[VCERT_MAX_VERIFIERS][64];
} vcert;

typedef struct {
    x509_crl *crl;
    uint8_t der_sha256[32];
    char issuer[384];
    time_t this_update, next_update;
    bool has_required_exts;
    size_t n_verified;
    uint8_t verified_by[VCERT_MAX_VERIFIERS][64];
} vcrl;

/* A parsed, signed collateral body with the (signature, key) pairs it has
 * been verified with. */
#define VBODY_MAX_VERIFIED 4
typedef struct {
    bool is_tcb_info;
    tcb_info tcb;
    qe_identity qe;
    size_t n_verified;
    uint8_t verified[VBODY_MAX_VERIFIED][128]; /* signature r‖s ‖ signer key X‖Y */
} vbody;

typedef struct vcache vcache;

int vcache_new(vcache **out);
void vcache_free(vcache *c);
void vcache_clear(vcache *c);
void vcache_stats(const vcache *c, verify_cache_stats *out);
void vcache_count_sig(vcache *c, bool hit);

/* One verification run: objects looked up during the run stay valid until
 * run_end(). With cache == NULL every object is parsed fresh and freed at
 * run_end(). */
#define VRUN_MAX_SCRATCH 64
typedef struct {
    vcache *cache;                 /* may be NULL */
    vcert *anchor;                 /* the trusted root: a chain's byte-equal copy of it
                                    * is handed out as this object, never parsed again */
    uint64_t epoch;                /* objects used in this run are not evicted */
    size_t n_scratch;
    struct {
        int kind;
        void *obj;
    } scratch[VRUN_MAX_SCRATCH];
} vrun;

void vrun_begin(vrun *run, vcache *cache);
void vrun_end(vrun *run);
/* Each returns NULL on parse failure (err filled) or allocation failure. */
vcert *vrun_cert_pem(vrun *run, const char *pem, size_t len, char *err, size_t errcap);
vcert *vrun_cert_der(vrun *run, const uint8_t *der, size_t len, char *err, size_t errcap);
vcrl *vrun_crl(vrun *run, const uint8_t *der, size_t len, char *err, size_t errcap);
vbody *vrun_tcb_info(vrun *run, const char *body, size_t len, char *err, size_t errcap);
vbody *vrun_qe_identity(vrun *run, const char *body, size_t len, char *err, size_t errcap);

/* A P-256 public key from raw X‖Y; NULL if not a valid point. */
crypto_p256_key *vrun_p256_key(vrun *run, const uint8_t pub[64]);

/* A certificate outside any cache (the trust anchor); PEM or DER. */
vcert *vcert_standalone(const uint8_t *data, size_t len, char *err, size_t errcap);
void vcert_destroy(vcert *c);

/* Signature checks that consult and fill the cache. Return 0 when valid,
 * CRYPTO_E_BAD_SIG when not, another CRYPTO_E_* on bad input. */
int vcert_check_signed_by(vrun *run, vcert *subject, const vcert *issuer);
int vcrl_check_signed_by(vrun *run, vcrl *crl, const vcert *issuer);
int vbody_check_signature(vrun *run, vbody *b, const char *body, size_t len,
                          const uint8_t sig[64], const vcert *signer);

/* Split concatenated PEM into CERTIFICATE blocks (any order; text between
 * blocks and a trailing NUL ignored). Returns the number found (≤ max). */
size_t pem_cert_blocks(const char *pem, size_t len, const char **blocks, size_t *lens,
                       size_t max);

/* The same, strictly (docs/verify.md "Certificate chains"): only whitespace
 * and NULs around blocks, only base64 and line breaks inside. Fills *count
 * and returns VERIFY_OK, or VERIFY_E_FORMAT with err naming the byte and the
 * block at fault. */
int pem_cert_blocks_strict(const char *pem, size_t len, const char **blocks, size_t *lens,
                           size_t max, size_t *count, char *err, size_t cap);

/* Case-insensitive fixed-length hex decode (exactly n bytes from 2n chars). */
bool hex_exact(const char *s, size_t slen, uint8_t *out, size_t n);

/* snprintf into a fixed buffer, never failing. */
void vfmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
