/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quote verification (quote-format §5–7): a quote plus its collateral (PCK
 * chain, CRLs, TCB info, QE identity) and a trusted root become a verdict, a
 * TCB status with advisories, and the attested enclave identity.
 *
 * Usage:
 *
 *     verify_ctx *ctx;               verify_ctx_new(&ctx);   // Intel root
 *     verify_collateral coll = {0};  verify_collateral_load_dir(dir, &coll, err, sizeof err);
 *     verify_options opt;            verify_options_default(&opt);
 *     verify_result res;
 *     verify_quote(ctx, quote, quote_len, &coll, &opt, &res);
 *     if (res.verdict == VERIFY_VERDICT_OK) ...
 *
 * The checks run in Intel QVL's order (quote-format §7.1–7.4) and each one is
 * reported by name; the first fatal failure stops the run. Collateral expiry
 * is not fatal (QVL treats it as a flag) but it is a failing verdict with the
 * item and its expiry time. A verify_ctx caches parsed collateral and verified
 * signatures (docs/verify.md "What is cached"); it is not thread-safe: use one
 * per thread.
 *
 * Return convention: 0 on success, a negative VERIFY_E_* on failure;
 * verify_strerror() names it. A verdict other than OK is not an error of the
 * call: verify_quote() returns 0 and the verdict says what failed.
 */
#ifndef SGXQH_VERIFY_H
#define SGXQH_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    VERIFY_OK = 0,
    VERIFY_E_INVALID_ARG = -1, /* NULL argument or option out of range */
    VERIFY_E_NOMEM = -2,
    VERIFY_E_IO = -3,          /* a collateral file could not be read */
    VERIFY_E_FORMAT = -4,      /* a collateral document is malformed */
    VERIFY_E_FETCH = -5,       /* fetching collateral from a PCCS failed */
    VERIFY_E_ROOT = -6,        /* the trusted root certificate is unusable */
    VERIFY_E_UNSUPPORTED = -7, /* feature not built in (e.g. no libcurl) */
    VERIFY_E_INTERNAL = -8,    /* a crypto library call failed unexpectedly */
} verify_err;

const char *verify_strerror(int err);

/* ---- TCB status (quote-format §6.2, §7.5) ---- */
typedef enum {
    VERIFY_TCB_NONE = 0, /* not determined (verification stopped earlier) */
    VERIFY_TCB_UP_TO_DATE,
    VERIFY_TCB_SW_HARDENING_NEEDED,
    VERIFY_TCB_CONFIGURATION_NEEDED,
    VERIFY_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    VERIFY_TCB_OUT_OF_DATE,
    VERIFY_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
    VERIFY_TCB_REVOKED,
    VERIFY_TCB__COUNT
} verify_tcb_status;

/* The PCS spelling ("UpToDate", ...); "" for NONE. */
const char *verify_tcb_status_name(verify_tcb_status s);
/* Parses the PCS spelling (case-sensitive). */
int verify_tcb_status_parse(const char *name, verify_tcb_status *out);
#define VERIFY_TCB_BIT(s) (1u << (unsigned)(s))

/* ---- Checks, in the order they run (quote-format §7.1–7.4) ---- */
typedef enum {
    VERIFY_CHECK_QUOTE_FORMAT = 0,      /* §7.4 #2, #12 */
    VERIFY_CHECK_COLLATERAL_FORMAT,     /* every collateral item present and parseable: #3–#5 */
    VERIFY_CHECK_PCK_CHAIN,             /* §7.2: roles, signatures, trusted root, SGX extension */
    VERIFY_CHECK_CRLS,                  /* §7.2: root CA CRL and PCK CRL issuers, extensions, signatures */
    VERIFY_CHECK_PCK_REVOCATION,        /* §7.2 / #9: intermediate and PCK not revoked */
    VERIFY_CHECK_TCB_INFO_CHAIN,        /* §7.3 */
    VERIFY_CHECK_TCB_INFO_SIGNATURE,    /* §6.5 */
    VERIFY_CHECK_QE_IDENTITY_CHAIN,     /* §7.3 */
    VERIFY_CHECK_QE_IDENTITY_SIGNATURE, /* §6.5 */
    VERIFY_CHECK_TCB_INFO_MATCH,        /* #10, #11: id vs TEE, FMSPC, PCE-ID */
    VERIFY_CHECK_TDX_MODULE,            /* #13 (TDX only) */
    VERIFY_CHECK_QE_REPORT_SIGNATURE,   /* #14 */
    VERIFY_CHECK_QE_REPORT_DATA,        /* #15 */
    VERIFY_CHECK_QE_IDENTITY,           /* #16, #17 */
    VERIFY_CHECK_QUOTE_SIGNATURE,       /* #18 */
    VERIFY_CHECK_TCB_LEVEL,             /* #19, §6.3, §7.5 */
    VERIFY_CHECK_COLLATERAL_TIME,       /* §6.7: every item valid at `now` */
    VERIFY_CHECK_DEBUG_POLICY,          /* enclave not in debug mode unless allowed */
    VERIFY_CHECK_STATUS_POLICY,         /* TCB status in the accepted set */
    VERIFY_CHECK__COUNT
} verify_check_id;

/* Stable kebab-case name ("quote-signature") used in output and docs. */
const char *verify_check_name(verify_check_id id);
/* One-line description ("quote signature by the attestation key"). */
const char *verify_check_title(verify_check_id id);

typedef enum {
    VERIFY_OUTCOME_NOT_RUN = 0, /* an earlier fatal failure stopped the run */
    VERIFY_OUTCOME_PASS,
    VERIFY_OUTCOME_FAIL,
    VERIFY_OUTCOME_SKIPPED,     /* does not apply to this quote (e.g. tdx-module for SGX) */
} verify_outcome;

const char *verify_outcome_name(verify_outcome o); /* "not-run", "pass", "fail", "skipped" */

/* Large enough for every message with its certificate names in full (up to
 * two distinguished names of at most 383 bytes and a common name of at most
 * 159), so the part that says why is never cut off. */
#define VERIFY_DETAIL_MAX 1536
#define VERIFY_HINT_MAX 512
typedef struct {
    verify_outcome outcome;
    char detail[VERIFY_DETAIL_MAX]; /* why it failed (or a note when passed/skipped) */
    char hint[VERIFY_HINT_MAX];     /* what to do about a failure; "" when no general fix applies */
} verify_check_result;

/* ---- Verdict ---- */
typedef enum {
    VERIFY_VERDICT_OK = 0,              /* every check passed and the status is accepted */
    VERIFY_VERDICT_INVALID,             /* a check failed (signature, chain, mismatch, format) */
    VERIFY_VERDICT_REVOKED,             /* a certificate is revoked or the TCB level is Revoked */
    VERIFY_VERDICT_TCB_NOT_SUPPORTED,   /* no TCB level matches the platform / QE / TDX module */
    VERIFY_VERDICT_COLLATERAL_EXPIRED,  /* all else holds, but collateral is not valid at `now` */
    VERIFY_VERDICT_DEBUG_ENCLAVE,       /* the enclave / TD is in debug mode (policy) */
    VERIFY_VERDICT_STATUS_NOT_ACCEPTED, /* the TCB status is not in the accepted set (policy) */
} verify_verdict;

/* "ok", "invalid", "revoked", "tcb-not-supported", "collateral-expired",
 * "debug-enclave", "status-not-accepted" */
const char *verify_verdict_name(verify_verdict v);

/* ---- Trusted root and context ---- */
typedef struct verify_ctx verify_ctx;

/* A context trusting Intel's SGX Root CA (built in, quote-format §5.4). */
int verify_ctx_new(verify_ctx **out);
void verify_ctx_free(verify_ctx *ctx);
/* Replace the trust anchor: one PEM CERTIFICATE block or DER. The root must be
 * self-issued and self-signed with a P-256 key. Clears the caches. */
int verify_ctx_set_root(verify_ctx *ctx, const uint8_t *pem_or_der, size_t len);
/* The built-in Intel SGX Root CA certificate (DER). */
const uint8_t *verify_intel_root_der(size_t *len);
/* SHA-256 of the trusted root's DER. */
void verify_ctx_root_sha256(const verify_ctx *ctx, uint8_t out[32]);

/* Caching (on by default). Turning it off also empties the caches. */
void verify_ctx_set_cache(verify_ctx *ctx, bool enabled);
typedef struct {
    uint64_t hits, misses;        /* parsed-object lookups */
    uint64_t sig_hits, sig_misses; /* certificate / CRL / collateral signature verifications */
    size_t entries;
} verify_cache_stats;
void verify_ctx_cache_stats(const verify_ctx *ctx, verify_cache_stats *out);

/* ---- Options ---- */
typedef struct {
    int64_t now;             /* check time, Unix seconds */
    bool allow_debug;        /* accept debug enclaves / TDs */
    unsigned accepted;       /* set of VERIFY_TCB_BIT(status); Revoked is never accepted */
} verify_options;

/* now = time(NULL), allow_debug = false, accepted = {UpToDate}. */
void verify_options_default(verify_options *opt);
/* Parse "UpToDate,SWHardeningNeeded,..." into a set. Revoked is refused. */
int verify_accept_parse(const char *list, unsigned *out);

/* ---- Collateral (quote-format §6.1) ----
 * All buffers are owned (malloc) by the struct; verify_collateral_free()
 * releases them. CRLs are held as DER (the loaders accept DER, PEM or the
 * hex-encoded DER PCCS serves). tcb_info / qe_identity hold the exact signed
 * bytes of the `tcbInfo` / `enclaveIdentity` value, never re-serialised. */
typedef struct {
    uint8_t *root_ca_crl;
    size_t root_ca_crl_len;
    uint8_t *pck_crl;
    size_t pck_crl_len;
    char *pck_crl_issuer_chain; /* PEM */
    size_t pck_crl_issuer_chain_len;
    char *tcb_info;             /* signed body text */
    size_t tcb_info_len;
    uint8_t tcb_info_signature[64]; /* r‖s */
    char *tcb_info_issuer_chain;
    size_t tcb_info_issuer_chain_len;
    char *qe_identity;
    size_t qe_identity_len;
    uint8_t qe_identity_signature[64];
    char *qe_identity_issuer_chain;
    size_t qe_identity_issuer_chain_len;
    char *pck_chain;            /* optional: PCK leaf + CA (+ root), for quotes without type-5 data */
    size_t pck_chain_len;
} verify_collateral;

#define VERIFY_COLLATERAL_ITEM_MAX (1u << 20) /* no collateral document is near 1 MiB */

void verify_collateral_free(verify_collateral *c);

/* A directory in the layout of tests/vectors/quotes/<vector>/ (tcb_info.json,
 * tcb_chain.pem, qe_identity.json, qe_chain.pem, root_ca_crl.der,
 * pck_crl.der, pck_crl_chain.pem, and pck_chain.pem when present). root.pem
 * is never read: the trust anchor is the caller's choice. On failure err gets
 * a sentence naming the file. */
int verify_collateral_load_dir(const char *dir, verify_collateral *out, char *err, size_t errcap);

/* A dcap-qvl QuoteCollateralV3 JSON document (hex CRLs and signatures, inner
 * body strings, optional pck_certificate_chain). */
int verify_collateral_load_qvl_json(const char *text, size_t len, verify_collateral *out,
                                    char *err, size_t errcap);

/* Fetch from a PCCS / PCS, API v4 (docs/verify.md "Collateral from a
 * PCCS"). base_url is the server ("https://pccs.example:8081"), with or
 * without an API path ("/sgx/certification/v4", "/v3", "/tdx/..."): the
 * v4 paths, "/tdx/" ones for a TDX quote's TCB info and QE identity, are
 * appended to the server part. The quote supplies FMSPC and the CA type;
 * quotes without type-5 data need pck_chain (else NULL). System CA store,
 * no cache: verify_collateral_fetch_pccs_ex with opt NULL. */
int verify_collateral_fetch_pccs(const char *base_url, const uint8_t *quote, size_t quote_len,
                                 const char *pck_chain, size_t pck_chain_len,
                                 verify_collateral *out, char *err, size_t errcap);

#define VERIFY_PCCS_CACHE_MAX_DEFAULT ((uint64_t)16 * 1024 * 1024)

typedef struct {
    const char *ca_file;      /* PEM CA certificate(s) to trust for the PCCS's TLS
                               * certificate; NULL: the system's CA store */
    bool insecure;            /* no TLS certificate / host name check (QCNL's
                               * "use_secure_cert": false); collateral signatures
                               * are checked all the same */
    const char *cache_dir;    /* absolute; NULL: no on-disk cache */
    uint64_t cache_max_bytes; /* 0: VERIFY_PCCS_CACHE_MAX_DEFAULT */
} verify_pccs_options;

typedef struct {
    unsigned requests;      /* HTTP requests made */
    unsigned cache_hits;    /* items taken from the cache */
    unsigned cache_ignored; /* cache files that were corrupted or refused (then refetched) */
} verify_pccs_stats;

/* verify_collateral_fetch_pccs with TLS and cache options (opt NULL: the
 * defaults) and counters (stats may be NULL). Each item fetched is cached in
 * opt->cache_dir and reused until its own nextUpdate (TCB info, QE identity)
 * or next update (CRLs); what comes from the cache is checked as a fresh
 * answer would be. On failure err names the URL, the HTTP status or the
 * transfer error (libcurl's detailed message), and what to do. */
int verify_collateral_fetch_pccs_ex(const char *base_url, const verify_pccs_options *opt,
                                    const uint8_t *quote, size_t quote_len,
                                    const char *pck_chain, size_t pck_chain_len,
                                    verify_collateral *out, verify_pccs_stats *stats, char *err,
                                    size_t errcap);

/* The per-user cache directory: $XDG_CACHE_HOME/sgx-quote-helper when that
 * is an absolute path, else $HOME/.cache/sgx-quote-helper. Returns 0, or -1
 * when neither gives an absolute path (or it does not fit cap). */
int verify_pccs_default_cache_dir(char *out, size_t cap);

/* Setters used by the loaders; each replaces what was there. */
/* A PCS envelope {"tcbInfo":{…},"signature":"…"}: keeps the raw body bytes. */
int verify_collateral_set_tcb_info_doc(verify_collateral *c, const char *doc, size_t len,
                                       char *err, size_t errcap);
/* A PCS envelope {"enclaveIdentity":{…},"signature":"…"}. */
int verify_collateral_set_qe_identity_doc(verify_collateral *c, const char *doc, size_t len,
                                          char *err, size_t errcap);
/* DER, PEM ("-----BEGIN X509 CRL-----") or hex-encoded DER. */
int verify_collateral_set_crl(uint8_t **dst, size_t *dst_len, const uint8_t *in, size_t len);
int verify_collateral_set_text(char **dst, size_t *dst_len, const void *in, size_t len);

/* Locate the raw text of the value of top-level key `key` in a JSON object
 * document. Exposed for tests and the fuzzer. */
int verify_json_value_span(const char *doc, size_t len, const char *key, size_t *off,
                           size_t *vlen);

/* ---- Result ---- */
#define VERIFY_MAX_ADVISORIES 32
#define VERIFY_ADVISORY_ID_MAX 32
#define VERIFY_MAX_TIME_ISSUES 24
#define VERIFY_ITEM_NAME_MAX 96

typedef struct {
    char item[VERIFY_ITEM_NAME_MAX]; /* "tcbInfo", "qeIdentity", "pckCrl", "rootCaCrl", "pckChain[1] CN=…" */
    int64_t time;                    /* when it expired (or becomes valid) */
    bool not_yet_valid;              /* true: `now` is before `time` */
} verify_time_issue;

/* What the quote attests (SGX enclave or TD). */
typedef struct {
    bool is_td;
    /* SGX enclave (is_td == false) */
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    uint16_t isv_prod_id, isv_svn;
    uint64_t attributes_flags, attributes_xfrm;
    uint32_t misc_select;
    /* TD (is_td == true) */
    uint8_t mr_td[48];
    uint8_t mr_seam[48];
    uint8_t mr_signer_seam[48];
    uint8_t td_attributes[8];
    uint8_t xfam[8];
    uint8_t rtmr[4][48];
    uint8_t tee_tcb_svn[16];
    /* both */
    bool debug;
    uint8_t report_data[64];
} verify_identity;

typedef struct {
    verify_verdict verdict;
    verify_check_id failed_check;   /* the first failing check (valid when verdict != OK) */
    char reason[2 * VERIFY_DETAIL_MAX]; /* "<check>: <detail>" or "" */
    char hint[VERIFY_HINT_MAX];     /* the failed check's hint (what to do), or "" */
    verify_check_result checks[VERIFY_CHECK__COUNT];

    /* Quote */
    uint16_t quote_version;
    uint32_t tee_type;
    uint16_t cert_type;             /* inner certification data type */
    bool have_identity;
    verify_identity identity;

    /* Platform (from the PCK certificate) */
    bool have_pck;
    uint8_t fmspc[6];
    uint8_t pceid[2];
    uint8_t pck_comp_svn[16];
    uint16_t pck_pcesvn;

    /* Status (§7.5); NONE until the tcb-level check ran */
    verify_tcb_status status;       /* converged */
    verify_tcb_status platform_status;
    verify_tcb_status qe_status;
    verify_tcb_status tdx_module_status; /* NONE unless a TDX module identity applied */
    size_t n_advisories;
    char advisories[VERIFY_MAX_ADVISORIES][VERIFY_ADVISORY_ID_MAX];
    int64_t tcb_date;               /* min(platform level date, QE level date); 0 = unknown */
    int64_t platform_tcb_date, qe_tcb_date;
    uint32_t tcb_eval_number;       /* tcbEvaluationDataNumber of the TCB info */

    /* Collateral validity (§6.7) */
    bool have_dates;
    int64_t earliest_issue;         /* latest issueDate/thisUpdate is `latest_issue` */
    int64_t latest_issue;
    int64_t earliest_expiration;
    char earliest_expiring_item[VERIFY_ITEM_NAME_MAX];
    size_t n_time_issues;
    verify_time_issue time_issues[VERIFY_MAX_TIME_ISSUES];

    int64_t checked_at;             /* options.now */
} verify_result;

/* Verify `quote` against `coll`. Returns 0 once a verdict is reached (any
 * verdict), a negative VERIFY_E_* only when the call itself failed (no
 * memory, bad arguments). */
int verify_quote(verify_ctx *ctx, const uint8_t *quote, size_t quote_len,
                 const verify_collateral *coll, const verify_options *opt, verify_result *res);

/* The result in the stable --json schema (docs/verify.md), NUL-terminated,
 * free() it. pretty: indented; else one line. NULL on allocation failure. */
char *verify_result_to_json(const verify_result *res, bool pretty);

#ifdef __cplusplus
}
#endif
#endif
