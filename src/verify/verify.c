/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier proper: quote (src/sgx) + collateral (collateral.c, pccs.c)
 * + trusted root → verify_result. The checks run in Intel QVL's order
 * (quote-format §7.1–7.4), each recorded by name; the first fatal failure
 * stops the run and becomes the verdict. Collateral validity at `now` (§6.7)
 * and the caller's policy (debug, accepted statuses) are judged last and do
 * not stop the run, like QvE's collateral_expiration_status.
 * Parsed collateral and verified signatures come through the cache
 * (cache.c); nothing here depends on whether an object was cached.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sgxqh/quote.h"
#include "verify_internal.h"

struct verify_ctx {
    vcert *root;
    vcache *cache;
    bool cache_enabled;
};

/* quote-format §5.3: role names QVL finds chain members by. */
#define CN_PCK_LEAF "SGX PCK Certificate"
#define CN_ROOT "SGX Root CA"
#define CN_TCB_SIGNER "SGX TCB Signing"
#define CN_CA "CA"
/* TD attributes bit 0: TUD.DEBUG (quote-format §2.3, td_attributes). */
#define TD_ATTRIBUTES_DEBUG 0x01u

#define MAX_CHAIN QUOTE_MAX_CHAIN_CERTS

const char *verify_strerror(int err)
{
    switch (err) {
    case VERIFY_OK: return "success";
    case VERIFY_E_INVALID_ARG: return "invalid argument";
    case VERIFY_E_NOMEM: return "out of memory";
    case VERIFY_E_IO: return "a collateral file could not be read";
    case VERIFY_E_FORMAT: return "a collateral document is malformed";
    case VERIFY_E_FETCH: return "fetching collateral from the PCCS failed";
    case VERIFY_E_ROOT: return "the trusted root certificate is unusable";
    case VERIFY_E_UNSUPPORTED: return "not supported by this build";
    case VERIFY_E_INTERNAL: return "internal error in a crypto library call";
    default: return "unknown verifier error";
    }
}

static const struct {
    const char *name, *title;
} CHECKS[VERIFY_CHECK__COUNT] = {
    [VERIFY_CHECK_QUOTE_FORMAT] = {"quote-format", "quote structure, version and key type"},
    [VERIFY_CHECK_COLLATERAL_FORMAT] = {"collateral-format", "every collateral item present and parseable"},
    [VERIFY_CHECK_PCK_CHAIN] = {"pck-chain", "PCK certificate chain up to the trusted root"},
    [VERIFY_CHECK_CRLS] = {"crls", "root CA CRL and PCK CRL issuers and signatures"},
    [VERIFY_CHECK_PCK_REVOCATION] = {"pck-revocation", "PCK certificate and PCK CA not revoked"},
    [VERIFY_CHECK_TCB_INFO_CHAIN] = {"tcb-info-chain", "TCB info signing chain up to the trusted root"},
    [VERIFY_CHECK_TCB_INFO_SIGNATURE] = {"tcb-info-signature", "TCB info signature over the exact body"},
    [VERIFY_CHECK_QE_IDENTITY_CHAIN] = {"qe-identity-chain", "QE identity signing chain up to the trusted root"},
    [VERIFY_CHECK_QE_IDENTITY_SIGNATURE] = {"qe-identity-signature", "QE identity signature over the exact body"},
    [VERIFY_CHECK_TCB_INFO_MATCH] = {"tcb-info-match", "TCB info id, FMSPC and PCE-ID match the quote and PCK"},
    [VERIFY_CHECK_TDX_MODULE] = {"tdx-module", "TDX module MRSIGNERSEAM and SEAMATTRIBUTES"},
    [VERIFY_CHECK_QE_REPORT_SIGNATURE] = {"qe-report-signature", "QE report signature by the PCK key"},
    [VERIFY_CHECK_QE_REPORT_DATA] = {"qe-report-data", "QE report data binds the attestation key"},
    [VERIFY_CHECK_QE_IDENTITY] = {"qe-identity", "QE report matches the QE identity"},
    [VERIFY_CHECK_QUOTE_SIGNATURE] = {"quote-signature", "quote signature by the attestation key"},
    [VERIFY_CHECK_TCB_LEVEL] = {"tcb-level", "TCB level and status convergence"},
    [VERIFY_CHECK_COLLATERAL_TIME] = {"collateral-time", "all collateral valid at the check time"},
    [VERIFY_CHECK_DEBUG_POLICY] = {"debug-policy", "enclave not in debug mode (unless allowed)"},
    [VERIFY_CHECK_STATUS_POLICY] = {"status-policy", "TCB status in the accepted set"},
};

const char *verify_check_name(verify_check_id id)
{
    return (unsigned)id < VERIFY_CHECK__COUNT ? CHECKS[id].name : "unknown";
}

const char *verify_check_title(verify_check_id id)
{
    return (unsigned)id < VERIFY_CHECK__COUNT ? CHECKS[id].title : "unknown";
}

const char *verify_outcome_name(verify_outcome o)
{
    switch (o) {
    case VERIFY_OUTCOME_NOT_RUN: return "not-run";
    case VERIFY_OUTCOME_PASS: return "pass";
    case VERIFY_OUTCOME_FAIL: return "fail";
    case VERIFY_OUTCOME_SKIPPED: return "skipped";
    default: return "unknown";
    }
}

const char *verify_verdict_name(verify_verdict v)
{
    switch (v) {
    case VERIFY_VERDICT_OK: return "ok";
    case VERIFY_VERDICT_INVALID: return "invalid";
    case VERIFY_VERDICT_REVOKED: return "revoked";
    case VERIFY_VERDICT_TCB_NOT_SUPPORTED: return "tcb-not-supported";
    case VERIFY_VERDICT_COLLATERAL_EXPIRED: return "collateral-expired";
    case VERIFY_VERDICT_DEBUG_ENCLAVE: return "debug-enclave";
    case VERIFY_VERDICT_STATUS_NOT_ACCEPTED: return "status-not-accepted";
    default: return "unknown";
    }
}

void verify_options_default(verify_options *opt)
{
    if (opt == NULL)
        return;
    memset(opt, 0, sizeof *opt);
    opt->now = (int64_t)time(NULL);
    opt->accepted = VERIFY_TCB_BIT(VERIFY_TCB_UP_TO_DATE);
}

int verify_accept_parse(const char *list, unsigned *out)
{
    if (list == NULL || out == NULL)
        return VERIFY_E_INVALID_ARG;
    unsigned set = 0;
    const char *p = list;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char name[64];
        if (n == 0 || n >= sizeof name)
            return VERIFY_E_FORMAT;
        memcpy(name, p, n);
        name[n] = '\0';
        verify_tcb_status s;
        if (verify_tcb_status_parse(name, &s) != 0 || s == VERIFY_TCB_REVOKED)
            return VERIFY_E_FORMAT;
        set |= VERIFY_TCB_BIT(s);
        p += n;
        if (*p == ',')
            p++;
    }
    if (set == 0)
        return VERIFY_E_FORMAT;
    *out = set;
    return VERIFY_OK;
}

/* ---- context ---- */

int verify_ctx_new(verify_ctx **out)
{
    if (out == NULL)
        return VERIFY_E_INVALID_ARG;
    verify_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return VERIFY_E_NOMEM;
    int rc = vcache_new(&ctx->cache);
    if (rc != 0) {
        free(ctx);
        return rc;
    }
    ctx->cache_enabled = true;
    /* root stays NULL until a verification needs it: the built-in Intel
     * root is parsed (and its self-signature checked) then, so a context
     * whose caller sets its own root never pays for Intel's (cold runs). */
    *out = ctx;
    return VERIFY_OK;
}

void verify_ctx_free(verify_ctx *ctx)
{
    if (ctx == NULL)
        return;
    vcert_destroy(ctx->root);
    vcache_free(ctx->cache);
    free(ctx);
}

int verify_ctx_set_root(verify_ctx *ctx, const uint8_t *data, size_t len)
{
    char err[128];
    if (ctx == NULL || data == NULL || len == 0)
        return VERIFY_E_INVALID_ARG;
    vcert *root = vcert_standalone(data, len, err, sizeof err);
    if (root == NULL)
        return VERIFY_E_ROOT;
    if (!root->self_issued || !root->has_pub ||
        x509_cert_verify_signed_by(root->cert, root->cert) != 0) {
        vcert_destroy(root);
        return VERIFY_E_ROOT;
    }
    vcert_destroy(ctx->root);
    ctx->root = root;
    vcache_clear(ctx->cache);
    return VERIFY_OK;
}

void verify_ctx_root_sha256(const verify_ctx *ctx, uint8_t out[32])
{
    if (ctx != NULL && ctx->root != NULL) {
        memcpy(out, ctx->root->der_sha256, 32);
    } else if (ctx != NULL) {
        size_t len;
        const uint8_t *der = verify_intel_root_der(&len);
        crypto_sha256(der, len, out);
    }
}

void verify_ctx_set_cache(verify_ctx *ctx, bool enabled)
{
    if (ctx == NULL)
        return;
    ctx->cache_enabled = enabled;
    if (!enabled)
        vcache_clear(ctx->cache);
}

void verify_ctx_cache_stats(const verify_ctx *ctx, verify_cache_stats *out)
{
    if (out == NULL)
        return;
    vcache_stats(ctx != NULL ? ctx->cache : NULL, out);
}

/* ---- one verification ---- */

typedef struct {
    vcert *c[MAX_CHAIN];
    size_t n;
} chain;

typedef struct {
    const verify_ctx *ctx;
    vrun run;
    verify_result *res;
    const verify_options *opt;
    const verify_collateral *coll;
    bool failed;

    quote_view q;
    vcrl *root_crl, *pck_crl;
    vbody *tcb, *qe;
    chain pck, tcb_chain, qe_chain, crl_chain;
    vcert *leaf, *pck_ca, *pck_root;     /* pck_root: the root inside the chain, may be NULL */
    vcert *tcb_signer, *qe_signer;
    sgx_pck_ext ext;
    const tdx_module_identity *module_id; /* the identity used by the tdx-module check */
} vstate;

static void note(vstate *s, verify_check_id id, verify_outcome o, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void note(vstate *s, verify_check_id id, verify_outcome o, const char *fmt, va_list ap)
{
    verify_check_result *c = &s->res->checks[id];
    c->outcome = o;
    if (o != VERIFY_OUTCOME_FAIL)
        c->hint[0] = '\0'; /* hints belong to failures only */
    if (fmt != NULL)
        vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    else
        c->detail[0] = '\0';
}

static void pass(vstate *s, verify_check_id id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pass(vstate *s, verify_check_id id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note(s, id, VERIFY_OUTCOME_PASS, fmt, ap);
    va_end(ap);
}

static void skip(vstate *s, verify_check_id id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void skip(vstate *s, verify_check_id id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note(s, id, VERIFY_OUTCOME_SKIPPED, fmt, ap);
    va_end(ap);
}

/* What the user can do about a failure of `id` (docs/verify.md "Hints").
 * Set it just before fail(), which carries it into the verdict. */
static void hint(vstate *s, verify_check_id id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void hint(vstate *s, verify_check_id id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->res->checks[id].hint, sizeof s->res->checks[id].hint, fmt, ap);
    va_end(ap);
}

/* Records the failure; the first one becomes the verdict (with the check's
 * hint, if one was set). Returns false so callers can `return fail(...)`. */
static bool fail(vstate *s, verify_check_id id, verify_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail(vstate *s, verify_check_id id, verify_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note(s, id, VERIFY_OUTCOME_FAIL, fmt, ap);
    va_end(ap);
    if (!s->failed) {
        s->failed = true;
        s->res->verdict = v;
        s->res->failed_check = id;
        vfmt(s->res->reason, sizeof s->res->reason, "%s: %s", verify_check_name(id),
             s->res->checks[id].detail);
        vfmt(s->res->hint, sizeof s->res->hint, "%s", s->res->checks[id].hint);
    }
    return false;
}

static bool cn_has(const vcert *c, const char *needle)
{
    return strstr(c->cn, needle) != NULL;
}

/* ---- 1. quote-format ---- */

static void fill_identity(vstate *s)
{
    verify_identity *id = &s->res->identity;
    const quote_view *q = &s->q;
    if (q->body_type == QUOTE_BODY_SGX) {
        const sgx_report_body_t *b = &q->sgx_body;
        id->is_td = false;
        memcpy(id->mr_enclave, b->mr_enclave, 32);
        memcpy(id->mr_signer, b->mr_signer, 32);
        id->isv_prod_id = b->isv_prod_id;
        id->isv_svn = b->isv_svn;
        id->attributes_flags = b->attributes.flags;
        id->attributes_xfrm = b->attributes.xfrm;
        id->misc_select = b->misc_select;
        id->debug = (b->attributes.flags & SGX_FLAGS_DEBUG) != 0;
        memcpy(id->report_data, b->report_data, 64);
    } else {
        const quote_td_body *t = &q->td;
        id->is_td = true;
        memcpy(id->mr_td, t->mr_td, 48);
        memcpy(id->mr_seam, t->mr_seam, 48);
        memcpy(id->mr_signer_seam, t->mrsigner_seam, 48);
        memcpy(id->td_attributes, t->td_attributes, 8);
        memcpy(id->xfam, t->xfam, 8);
        for (size_t i = 0; i < 4; i++)
            memcpy(id->rtmr[i], t->rtmr[i], 48);
        memcpy(id->tee_tcb_svn, t->tee_tcb_svn, 16);
        id->debug = (t->td_attributes[0] & TD_ATTRIBUTES_DEBUG) != 0;
        memcpy(id->report_data, t->report_data, 64);
    }
    s->res->have_identity = true;
}

static bool check_quote_format(vstate *s, const uint8_t *quote, size_t len)
{
    const verify_check_id id = VERIFY_CHECK_QUOTE_FORMAT;
    if (quote == NULL || len == 0) {
        hint(s, id, "the quote file is empty: check the path and how it was saved");
        return fail(s, id, VERIFY_VERDICT_INVALID, "no quote bytes");
    }
    int rc = quote_parse(quote, len, &s->q);
    if (rc != 0) {
        hint(s, id, "run `sgx-quote inspect QUOTE` to see the field at fault; the file must be "
                    "the raw binary quote (not base64 or hex)");
        return fail(s, id, VERIFY_VERDICT_INVALID, "the quote does not parse: %s (%s)",
                    quote_strerror(rc), quote_err_name(rc));
    }
    const quote_view *q = &s->q;
    s->res->quote_version = q->version;
    s->res->tee_type = q->tee_type;
    s->res->cert_type = q->cert_type;
    /* §7.4 #2: what QVL accepts. */
    if (q->header.att_key_type != SGX_QUOTE_ATT_KEY_TYPE_ECDSA_P256)
        return fail(s, id, VERIFY_VERDICT_INVALID, "attestation key type %u is not ECDSA-P256",
                    q->header.att_key_type);
    if (memcmp(q->header.qe_vendor_id, SGX_INTEL_QE_VENDOR_ID, 16) != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID, "QE vendor id is not Intel's");
    bool sgx = q->tee_type == SGX_TEE_TYPE_SGX;
    if (!sgx && q->tee_type != SGX_TEE_TYPE_TDX)
        return fail(s, id, VERIFY_VERDICT_INVALID, "TEE type 0x%x is neither SGX nor TDX",
                    q->tee_type);
    if (sgx != (q->body_type == QUOTE_BODY_SGX))
        return fail(s, id, VERIFY_VERDICT_INVALID, "body type %d does not fit TEE type 0x%x",
                    (int)q->body_type, q->tee_type);
    if (q->version == 3 && !sgx)
        return fail(s, id, VERIFY_VERDICT_INVALID, "a v3 quote must be SGX");
    if (q->version >= 4 && q->outer_cert_type != CERT_DATA_QE_REPORT)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "v%u quote: outer certification data type %u, expected 6", q->version,
                    q->outer_cert_type);
    if (q->cert_type < CERT_DATA_PPID_CLEARTEXT || q->cert_type > CERT_DATA_PCK_CHAIN)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "certification data type %u is not supported (1-5)", q->cert_type);
    if (q->qe_report_raw == NULL || q->qe_report_sig == NULL || q->attest_pub_key == NULL ||
        q->isv_sig == NULL)
        return fail(s, id, VERIFY_VERDICT_INVALID, "the quote lacks its signature data");
    fill_identity(s);
    pass(s, id, "%s quote v%u, certification data type %u", sgx ? "SGX" : "TDX", q->version,
         q->cert_type);
    return true;
}

/* ---- 2. collateral-format ---- */

/* Reads one chain strictly (pem_cert_blocks_strict): a block that does not
 * parse is an error naming its position, never skipped. `id` is the check a
 * damaged chain fails: quote-format for the quote's own chain, else
 * collateral-format. */
static bool load_chain(vstate *s, verify_check_id id, const char *what, const char *pem,
                       size_t len, chain *out)
{
    const char *blocks[MAX_CHAIN];
    size_t lens[MAX_CHAIN], n = 0;
    char err[VERIFY_DETAIL_MAX] = "";
    out->n = 0;
    if (pem_cert_blocks_strict(pem, len, blocks, lens, MAX_CHAIN, &n, err, sizeof err) != 0) {
        hint(s, id, "%s", id == VERIFY_CHECK_QUOTE_FORMAT
                              ? "the quote's certification data is damaged: take a new quote"
                              : "the collateral is damaged: export or fetch it again");
        return fail(s, id, VERIFY_VERDICT_INVALID, "the %s: %s", what, err);
    }
    for (size_t i = 0; i < n; i++) {
        err[0] = '\0';
        vcert *c = vrun_cert_pem(&s->run, blocks[i], lens[i], err, sizeof err);
        if (c == NULL) {
            hint(s, id, "%s", id == VERIFY_CHECK_QUOTE_FORMAT
                                  ? "the quote's certification data is damaged: take a new quote"
                                  : "the collateral is damaged: export or fetch it again");
            return fail(s, id, VERIFY_VERDICT_INVALID, "the %s: certificate %zu of %zu: %s", what,
                        i + 1, n, err);
        }
        out->c[out->n++] = c;
    }
    return true;
}

static bool check_collateral_format(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_COLLATERAL_FORMAT;
    const verify_collateral *c = s->coll;
    char err[VERIFY_DETAIL_MAX] = "";
    if (c == NULL)
        return fail(s, id, VERIFY_VERDICT_INVALID, "no collateral");
    const char *missing = c->root_ca_crl == NULL                ? "root CA CRL"
                          : c->pck_crl == NULL                  ? "PCK CRL"
                          : c->tcb_info == NULL                 ? "TCB info"
                          : c->tcb_info_issuer_chain == NULL    ? "TCB info issuer chain"
                          : c->qe_identity == NULL              ? "QE identity"
                          : c->qe_identity_issuer_chain == NULL ? "QE identity issuer chain"
                                                                : NULL;
    if (missing != NULL) {
        hint(s, id, "use a complete collateral set (`sgx-quote collateral export`, --pccs-url, "
                    "or a directory in the layout of docs/verify.md)");
        return fail(s, id, VERIFY_VERDICT_INVALID, "collateral item %s is missing", missing);
    }

    if ((s->root_crl = vrun_crl(&s->run, c->root_ca_crl, c->root_ca_crl_len, err, sizeof err)) == NULL)
        return fail(s, id, VERIFY_VERDICT_INVALID, "root CA CRL: %s", err);
    if ((s->pck_crl = vrun_crl(&s->run, c->pck_crl, c->pck_crl_len, err, sizeof err)) == NULL)
        return fail(s, id, VERIFY_VERDICT_INVALID, "PCK CRL: %s", err);
    if ((s->tcb = vrun_tcb_info(&s->run, c->tcb_info, c->tcb_info_len, err, sizeof err)) == NULL)
        return fail(s, id, VERIFY_VERDICT_INVALID, "TCB info: %s", err);
    if ((s->qe = vrun_qe_identity(&s->run, c->qe_identity, c->qe_identity_len, err, sizeof err)) == NULL)
        return fail(s, id, VERIFY_VERDICT_INVALID, "QE identity: %s", err);

    if (s->q.cert_type == CERT_DATA_PCK_CHAIN) {
        if (!load_chain(s, VERIFY_CHECK_QUOTE_FORMAT, "quote's PCK chain",
                        (const char *)s->q.cert_data, s->q.cert_data_len, &s->pck))
            return false;
    } else {
        if (c->pck_chain == NULL) {
            hint(s, id, "pass the platform's PCK certificate chain (PCK certificate and PCK CA, "
                        "PEM) with --pck-chain FILE, or put it in the collateral as pck_chain.pem");
            return fail(s, id, VERIFY_VERDICT_INVALID,
                        "the quote carries certification data type %u (no PCK chain); supply "
                        "the PCK chain (--pck-chain or pck_chain.pem)",
                        s->q.cert_type);
        }
        if (!load_chain(s, id, "PCK chain", c->pck_chain, c->pck_chain_len, &s->pck))
            return false;
    }
    if (!load_chain(s, id, "TCB info issuer chain", c->tcb_info_issuer_chain,
                    c->tcb_info_issuer_chain_len, &s->tcb_chain) ||
        !load_chain(s, id, "QE identity issuer chain", c->qe_identity_issuer_chain,
                    c->qe_identity_issuer_chain_len, &s->qe_chain))
        return false;
    if (c->pck_crl_issuer_chain != NULL &&
        !load_chain(s, id, "PCK CRL issuer chain", c->pck_crl_issuer_chain,
                    c->pck_crl_issuer_chain_len, &s->crl_chain))
        return false;
    pass(s, id, "TCB info %s v%d, QE identity %s v%d, %zu+%zu+%zu+%zu certificates, 2 CRLs",
         s->tcb->tcb.id, s->tcb->tcb.version, s->qe->qe.id, s->qe->qe.version, s->pck.n,
         s->tcb_chain.n, s->qe_chain.n, s->crl_chain.n);
    return true;
}

/* ---- chains (§7.2, §7.3) ---- */

/* quote-format §7.2/§7.3: how many certificates each chain holds, as QVL
 * counts them (PCK certificate, PCK CA, root; TCB signing certificate, root). */
#define PCK_CHAIN_CERTS 3
#define SIGNING_CHAIN_CERTS 2

static bool same_root_bytes(const vcert *c, const vcert *trust)
{
    return memcmp(c->der_sha256, trust->der_sha256, 32) == 0;
}

/* A chain that carries a root must carry the trusted root itself, byte for
 * byte (docs/verify.md "Certificate chains"): QVL compares the chain root's
 * signature bytes with the trusted root's and dcap-qvl verifies it with the
 * trusted key; DER equality implies both and also covers the fields no
 * signature protects (the outer signatureAlgorithm). Certificate `i` of `ch`
 * (1-based in messages) is the one in the root's place; on a mismatch the
 * failure says what is wrong with it. */
static bool chain_root_ok(vstate *s, verify_check_id id, const char *what, const chain *ch,
                          size_t i, const char *fix)
{
    const vcert *trust = s->ctx->root;
    vcert *c = ch->c[i];
    if (same_root_bytes(c, trust))
        return true;
    char wrong[VERIFY_DETAIL_MAX];
    if (!c->self_issued) {
        vfmt(wrong, sizeof wrong, "is not a root certificate, yet holds the place of the "
             "trusted root 'CN=%s'", trust->cn);
        hint(s, id, "%s", fix);
    } else if (strcmp(c->subject, trust->subject) != 0 ||
               !x509_cert_subject_equals_issuer_of(trust->cert, c->cert)) {
        vfmt(wrong, sizeof wrong, "is a root, but not the trusted root '%s'", trust->subject);
        hint(s, id, "if you trust the root '%s', pass its certificate with --root FILE", c->cn);
    } else if (!c->has_pub || memcmp(c->pub, trust->pub, 64) != 0) {
        vfmt(wrong, sizeof wrong, "has the trusted root's name but not its key: not the trusted "
             "root");
        hint(s, id, "if you trust the root '%s', pass its certificate with --root FILE", c->cn);
    } else if (vcert_check_signed_by(&s->run, c, c) != 0) {
        vfmt(wrong, sizeof wrong, "has the trusted root's name and key, but its self-signature "
             "does not verify: a damaged copy of the root");
        hint(s, id, "%s", fix);
    } else {
        vfmt(wrong, sizeof wrong, "is signed by the trusted root's key but differs from its "
             "bytes: a re-issue, or a field changed outside the signature");
        hint(s, id, "if the chain's copy is the root you trust, pass it with --root FILE; "
                    "else %s", fix);
    }
    return fail(s, id, VERIFY_VERDICT_INVALID, "the %s: certificate %zu of %zu ('%s') %s", what,
                i + 1, ch->n, c->subject, wrong);
}

/* The certificate directly below the root must be issued and signed by the
 * trusted root. */
static bool anchored_on_trust(vstate *s, verify_check_id id, const char *what, vcert *top)
{
    const vcert *trust = s->ctx->root;
    if (strcmp(top->issuer, trust->subject) != 0 ||
        !x509_cert_subject_equals_issuer_of(trust->cert, top->cert)) {
        hint(s, id, "if you trust the root that issued '%s', pass its certificate with --root "
                    "FILE", top->cn);
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the %s's '%s' is issued by '%s', not by the trusted root '%s'", what,
                    top->cn, top->issuer, trust->subject);
    }
    if (vcert_check_signed_by(&s->run, top, trust) != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the %s's '%s' is not signed by the trusted root '%s'", what, top->cn,
                    trust->subject);
    return true;
}

/* QVL's count (quote-format §7.2, §7.3): a chain with a missing, extra or
 * unreadable certificate is refused before any role is looked for. */
static bool chain_count_ok(vstate *s, verify_check_id id, const char *what, const chain *ch,
                           size_t want, const char *roles, const char *fix)
{
    if (ch->n == want)
        return true;
    hint(s, id, "%s", fix);
    return fail(s, id, VERIFY_VERDICT_INVALID,
                "the %s holds %zu certificate%s; it must hold exactly %zu: %s", what, ch->n,
                ch->n == 1 ? "" : "s", want, roles);
}

/* §1.5 type 4: the quote carries the PCK leaf (PEM) but not its CA, so the
 * chain is supplied as for types 1-3 (QVL does the same and ignores the
 * quote's copy). We hold the two to each other: the quote's certificate
 * must be the leaf the supplied chain provides. */
static bool quote_leaf_matches(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_PCK_CHAIN;
    const char *blocks[1];
    size_t lens[1], n = 0;
    char err[VERIFY_DETAIL_MAX] = "";
    if (pem_cert_blocks_strict((const char *)s->q.cert_data, s->q.cert_data_len, blocks, lens, 1,
                               &n, err, sizeof err) != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "certification data type 4 must hold exactly one PEM certificate: %s", err);
    const vcert *c = vrun_cert_pem(&s->run, blocks[0], lens[0], err, sizeof err);
    if (c == NULL)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the PCK certificate in the quote (certification data type 4): %s", err);
    if (memcmp(c->der_sha256, s->leaf->der_sha256, 32) != 0) {
        hint(s, id, "pass the chain of this platform's PCK certificate with --pck-chain FILE");
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the PCK certificate in the quote (certification data type 4, '%s') is not "
                    "the supplied PCK chain's '%s'", c->subject, s->leaf->subject);
    }
    return true;
}

/* What fixes a damaged or incomplete PCK chain depends on where it came from. */
static const char *pck_chain_fix(const vstate *s)
{
    return s->q.cert_type == CERT_DATA_PCK_CHAIN
               ? "the quote's certification data is damaged: take a new quote"
               : "pass the complete PCK chain (PCK certificate, PCK CA and root, PEM) with "
                 "--pck-chain FILE";
}

static bool check_pck_chain(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_PCK_CHAIN;
    const char *what = s->q.cert_type == CERT_DATA_PCK_CHAIN ? "quote's PCK chain" : "PCK chain";
    if (!chain_count_ok(s, id, what, &s->pck, PCK_CHAIN_CERTS,
                        "the PCK certificate, its PCK CA and the root", pck_chain_fix(s)))
        return false;
    /* Roles by position, not by object: the cache hands out one object for
     * identical blocks, and a duplicated certificate must not hide the
     * place it took. */
    size_t li = s->pck.n, ci = s->pck.n;
    for (size_t i = 0; i < s->pck.n && li == s->pck.n; i++) {
        if (cn_has(s->pck.c[i], CN_PCK_LEAF) && !s->pck.c[i]->is_ca)
            li = i;
    }
    if (li == s->pck.n)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "no PCK certificate (a non-CA certificate whose CN contains \"%s\")",
                    CN_PCK_LEAF);
    s->leaf = s->pck.c[li];
    for (size_t i = 0; i < s->pck.n && ci == s->pck.n; i++) {
        const vcert *c = s->pck.c[i];
        if (i != li && !c->self_issued && strcmp(c->subject, s->leaf->issuer) == 0)
            ci = i;
    }
    if (ci < s->pck.n)
        s->pck_ca = s->pck.c[ci];
    if (s->pck_ca == NULL || !x509_cert_subject_equals_issuer_of(s->pck_ca->cert, s->leaf->cert))
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the PCK certificate's issuer '%s' is not in the chain", s->leaf->issuer);
    if (!cn_has(s->pck_ca, CN_CA) || !s->pck_ca->is_ca)
        return fail(s, id, VERIFY_VERDICT_INVALID, "the PCK issuer '%s' is not a CA",
                    s->pck_ca->subject);
    for (size_t i = 0; i < s->pck.n; i++) {
        if (i == li || i == ci)
            continue;
        if (!chain_root_ok(s, id, what, &s->pck, i, pck_chain_fix(s)))
            return false;
        s->pck_root = s->pck.c[i];
    }
    if (!anchored_on_trust(s, id, what, s->pck_ca))
        return false;
    if (vcert_check_signed_by(&s->run, s->leaf, s->pck_ca) != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the PCK certificate is not signed by '%s'", s->pck_ca->cn);
    if (s->q.cert_type == CERT_DATA_PCK_CLEARTEXT && !quote_leaf_matches(s))
        return false;
    const vcert *need_exts[3] = {s->leaf, s->pck_ca, s->pck_root};
    for (size_t i = 0; i < 3; i++) {
        if (need_exts[i] != NULL && !need_exts[i]->has_required_exts)
            return fail(s, id, VERIFY_VERDICT_INVALID,
                        "'%s' lacks a required extension (AKI, SKI, key usage, basic "
                        "constraints, CRL distribution points)", need_exts[i]->cn);
    }
    int rc = x509_cert_sgx_ext(s->leaf->cert, &s->ext);
    if (rc != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the PCK certificate has no valid SGX extension (%s)", crypto_strerror(rc));
    verify_result *res = s->res;
    res->have_pck = true;
    memcpy(res->fmspc, s->ext.fmspc, 6);
    memcpy(res->pceid, s->ext.pceid, 2);
    memcpy(res->pck_comp_svn, s->ext.comp_svn, 16);
    res->pck_pcesvn = s->ext.pcesvn;
    pass(s, id, "'%s' <- '%s' <- trusted root '%s'", s->leaf->cn, s->pck_ca->cn,
         s->ctx->root->cn);
    return true;
}

static bool check_crls(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_CRLS;
    const vcert *trust = s->ctx->root;
    if (strcmp(s->root_crl->issuer, trust->subject) != 0 ||
        !x509_crl_issued_by(s->root_crl->crl, trust->cert))
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the root CA CRL is issued by '%s', not by the trusted root '%s'",
                    s->root_crl->issuer, trust->subject);
    if (!s->root_crl->has_required_exts)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the root CA CRL lacks a CRL number or authority key id");
    if (vcrl_check_signed_by(&s->run, s->root_crl, trust) != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the root CA CRL signature does not verify with the trusted root");
    if (strcmp(s->pck_crl->issuer, s->pck_ca->subject) != 0 ||
        !x509_crl_issued_by(s->pck_crl->crl, s->pck_ca->cert))
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the PCK CRL is issued by '%s', but the PCK certificate by '%s'",
                    s->pck_crl->issuer, s->pck_ca->subject);
    if (!s->pck_crl->has_required_exts)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the PCK CRL lacks a CRL number or authority key id");
    if (vcrl_check_signed_by(&s->run, s->pck_crl, s->pck_ca) != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the PCK CRL signature does not verify with '%s'", s->pck_ca->cn);
    /* The PCK CRL issuer chain is not needed for trust: the PCK CRL is checked
     * against the PCK chain's CA, which is anchored at the trusted root. Like
     * QvE we only use its certificates' dates (§6.7); Intel's own QVL sample
     * ships one that does not even contain the CA. A root it carries must
     * still be the trusted one, as in every other chain. */
    for (size_t i = 0; i < s->crl_chain.n; i++) {
        if (s->crl_chain.c[i]->self_issued &&
            !chain_root_ok(s, id, "PCK CRL issuer chain", &s->crl_chain, i,
                           "the collateral is damaged: export or fetch it again"))
            return false;
    }
    pass(s, id, "root CA CRL signed by the trusted root, PCK CRL by '%s'", s->pck_ca->cn);
    return true;
}

static void serial_hex(const vcert *c, char *out, size_t cap)
{
    uint8_t serial[32];
    size_t len = 0;
    out[0] = '\0';
    if (cap < 2 * sizeof serial + 1 || x509_cert_serial(c->cert, serial, sizeof serial, &len) != 0)
        return;
    crypto_hex_encode(serial, len, out);
}

static bool check_pck_revocation(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_PCK_REVOCATION;
    char serial[65];
    if (x509_crl_revokes(s->root_crl->crl, s->pck_ca->cert)) {
        serial_hex(s->pck_ca, serial, sizeof serial);
        return fail(s, id, VERIFY_VERDICT_REVOKED,
                    "the PCK CA '%s' (serial %s) is revoked by the root CA CRL", s->pck_ca->cn,
                    serial);
    }
    if (x509_crl_revokes(s->pck_crl->crl, s->leaf->cert)) {
        serial_hex(s->leaf, serial, sizeof serial);
        return fail(s, id, VERIFY_VERDICT_REVOKED,
                    "the PCK certificate (serial %s) is revoked by the PCK CRL", serial);
    }
    pass(s, id, "neither the PCK certificate nor '%s' is listed", s->pck_ca->cn);
    return true;
}

static bool check_signing_chain(vstate *s, verify_check_id id, const char *what, const chain *ch,
                                vcert **signer_out)
{
    static const char FIX[] = "the collateral is damaged or incomplete: export or fetch it again";
    if (!chain_count_ok(s, id, what, ch, SIGNING_CHAIN_CERTS,
                        "the TCB signing certificate and the root", FIX))
        return false;
    size_t si = ch->n; /* by position, as in check_pck_chain */
    for (size_t i = 0; i < ch->n && si == ch->n; i++) {
        if (cn_has(ch->c[i], CN_TCB_SIGNER) && !ch->c[i]->self_issued)
            si = i;
    }
    if (si == ch->n)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the %s has no certificate whose CN contains \"%s\"", what, CN_TCB_SIGNER);
    vcert *signer = ch->c[si];
    for (size_t i = 0; i < ch->n; i++) {
        if (i != si && !chain_root_ok(s, id, what, ch, i, FIX))
            return false;
    }
    if (!anchored_on_trust(s, id, what, signer))
        return false;
    if (!signer->has_required_exts)
        return fail(s, id, VERIFY_VERDICT_INVALID, "'%s' lacks a required extension", signer->cn);
    if (x509_crl_revokes(s->root_crl->crl, signer->cert)) {
        char serial[65];
        serial_hex(signer, serial, sizeof serial);
        return fail(s, id, VERIFY_VERDICT_REVOKED,
                    "the TCB signing certificate (serial %s) is revoked by the root CA CRL",
                    serial);
    }
    *signer_out = signer;
    pass(s, id, "'%s' <- trusted root '%s'", signer->cn, s->ctx->root->cn);
    return true;
}

static bool check_body_signature(vstate *s, verify_check_id id, const char *what, vbody *b,
                                 const char *body, size_t len, const uint8_t sig[64],
                                 const vcert *signer)
{
    int rc = vbody_check_signature(&s->run, b, body, len, sig, signer);
    if (rc != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the %s signature does not verify over its body with '%s' (%s)", what,
                    signer->cn, crypto_strerror(rc));
    pass(s, id, "signed by '%s' over %zu body bytes", signer->cn, len);
    return true;
}

/* ---- §7.4 ---- */

static bool check_tcb_info_match(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_TCB_INFO_MATCH;
    const tcb_info *t = &s->tcb->tcb;
    bool tdx = s->q.tee_type == SGX_TEE_TYPE_TDX;
    char a[13], b[13];
    if (t->version >= 3) {
        if (strcmp(t->id, "TDX") == 0 && !tdx)
            return fail(s, id, VERIFY_VERDICT_INVALID, "the TCB info is for TDX, the quote is SGX");
        if (strcmp(t->id, "SGX") == 0 && tdx)
            return fail(s, id, VERIFY_VERDICT_INVALID, "the TCB info is for SGX, the quote is TDX");
    } else if (tdx) {
        return fail(s, id, VERIFY_VERDICT_INVALID, "TCB info v2 cannot describe a TDX platform");
    }
    s->res->tcb_eval_number = t->eval_number;
    if (memcmp(s->ext.fmspc, t->fmspc, 6) != 0) {
        crypto_hex_encode(s->ext.fmspc, 6, a);
        crypto_hex_encode(t->fmspc, 6, b);
        hint(s, id, "the TCB info is for another platform: use the TCB info for FMSPC %s", a);
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "FMSPC %s of the PCK certificate differs from FMSPC %s of the TCB info", a, b);
    }
    if (memcmp(s->ext.pceid, t->pceid, 2) != 0) {
        crypto_hex_encode(s->ext.pceid, 2, a);
        crypto_hex_encode(t->pceid, 2, b);
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "PCE-ID %s of the PCK certificate differs from PCE-ID %s of the TCB info", a, b);
    }
    crypto_hex_encode(t->fmspc, 6, a);
    pass(s, id, "%s TCB info v%d, FMSPC %s, evaluation data number %u", t->id, t->version, a,
         t->eval_number);
    return true;
}

static const tdx_module_identity *find_module_identity(const tcb_info *t, uint8_t version)
{
    char want[8];
    vfmt(want, sizeof want, "TDX_%02X", version);
    for (size_t i = 0; i < t->n_module_ids; i++) {
        if (strcasecmp(t->module_ids[i].id, want) == 0)
            return &t->module_ids[i];
    }
    return NULL;
}

static bool check_tdx_module(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_TDX_MODULE;
    if (s->q.tee_type != SGX_TEE_TYPE_TDX) {
        skip(s, id, "not a TDX quote");
        return true;
    }
    const tcb_info *t = &s->tcb->tcb;
    const uint8_t *svn = s->q.td.tee_tcb_svn;
    const uint8_t *mrsigner = t->tdx_mrsigner, *attr = t->tdx_attributes,
                  *mask = t->tdx_attributes_mask;
    const char *source = "tdxModule";
    if (s->q.version > 3 && svn[1] > 0) {
        s->module_id = find_module_identity(t, svn[1]);
        if (s->module_id == NULL)
            return fail(s, id, VERIFY_VERDICT_INVALID,
                        "the TCB info has no TDX module identity TDX_%02X for module version %u",
                        svn[1], svn[1]);
        mrsigner = s->module_id->mrsigner;
        attr = s->module_id->attributes;
        mask = s->module_id->attributes_mask;
        source = s->module_id->id;
    } else if (!t->has_tdx_module) {
        return fail(s, id, VERIFY_VERDICT_INVALID, "the TCB info has no tdxModule");
    }
    if (memcmp(s->q.td.mrsigner_seam, mrsigner, TDX_MRSIGNER_LEN) != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "MRSIGNERSEAM of the TD report differs from the MRSIGNER of %s", source);
    for (size_t i = 0; i < TDX_ATTRIBUTES_LEN; i++) {
        if ((s->q.td.seam_attributes[i] & mask[i]) != (attr[i] & mask[i]))
            return fail(s, id, VERIFY_VERDICT_INVALID,
                        "SEAMATTRIBUTES of the TD report differ from the attributes of %s", source);
    }
    pass(s, id, "TDX module matches %s", source);
    return true;
}

static bool check_qe_report_signature(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_QE_REPORT_SIGNATURE;
    if (s->leaf->key == NULL)
        return fail(s, id, VERIFY_VERDICT_INVALID, "the PCK certificate has no P-256 key");
    int rc = crypto_p256_verify(s->leaf->key, s->q.qe_report_raw, sizeof(sgx_report_body_t),
                                s->q.qe_report_sig);
    if (rc != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the QE report signature does not verify with the PCK certificate's key (%s)",
                    crypto_strerror(rc));
    pass(s, id, "signed by the PCK key");
    return true;
}

static bool check_qe_report_data(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_QE_REPORT_DATA;
    uint8_t h[32];
    crypto_buf parts[2] = {{s->q.attest_pub_key, 64}, {s->q.qe_auth_data, s->q.qe_auth_data_len}};
    if (crypto_sha256_parts(parts, s->q.qe_auth_data_len > 0 ? 2 : 1, h) != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID, "hashing failed");
    if (memcmp(h, s->q.qe_report.report_data, 32) != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "SHA-256(attestation key || QE auth data) differs from the QE report data: "
                    "the attestation key is not the one the QE certified");
    pass(s, id, "SHA-256(attestation key || %u bytes of QE auth data) matches",
         s->q.qe_auth_data_len);
    return true;
}

static bool check_qe_identity(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_QE_IDENTITY;
    const qe_identity *e = &s->qe->qe;
    const sgx_report_body_t *r = &s->q.qe_report;
    bool tdx = s->q.tee_type == SGX_TEE_TYPE_TDX;
    const char *want = tdx ? "TD_QE" : "QE";
    if (strcmp(e->id, want) != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the QE identity is for '%s', this quote needs '%s'", e->id, want);
    if (e->version != 2 && !(tdx && e->version == 3))
        return fail(s, id, VERIFY_VERDICT_INVALID, "QE identity version %d is not accepted for %s",
                    e->version, want);
    /* §6.4: the hex fields are bytes in report order (misc_select is LE). */
    uint32_t misc = (uint32_t)e->miscselect[0] | (uint32_t)e->miscselect[1] << 8 |
                    (uint32_t)e->miscselect[2] << 16 | (uint32_t)e->miscselect[3] << 24;
    uint32_t mask = (uint32_t)e->miscselect_mask[0] | (uint32_t)e->miscselect_mask[1] << 8 |
                    (uint32_t)e->miscselect_mask[2] << 16 | (uint32_t)e->miscselect_mask[3] << 24;
    if ((r->misc_select & mask) != misc)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "QE MISCSELECT %08x (masked %08x) is not %08x", r->misc_select,
                    r->misc_select & mask, misc);
    /* ATTRIBUTES as the report stores them: flags then xfrm, little-endian (§1.3). */
    uint8_t attr[16];
    for (size_t i = 0; i < 8; i++) {
        attr[i] = (uint8_t)(r->attributes.flags >> (8 * i));
        attr[8 + i] = (uint8_t)(r->attributes.xfrm >> (8 * i));
    }
    for (size_t i = 0; i < 16; i++) {
        if ((attr[i] & e->attributes_mask[i]) != e->attributes[i])
            return fail(s, id, VERIFY_VERDICT_INVALID,
                        "QE ATTRIBUTES byte %zu is %02x (masked %02x), expected %02x", i, attr[i],
                        attr[i] & e->attributes_mask[i], e->attributes[i]);
    }
    if (memcmp(r->mr_signer, e->mrsigner, 32) != 0) {
        char a[65], b[65];
        crypto_hex_encode(r->mr_signer, 32, a);
        crypto_hex_encode(e->mrsigner, 32, b);
        return fail(s, id, VERIFY_VERDICT_INVALID, "QE MRSIGNER %s is not %s", a, b);
    }
    if (r->isv_prod_id != e->isvprodid)
        return fail(s, id, VERIFY_VERDICT_INVALID, "QE ISVPRODID %u is not %u", r->isv_prod_id,
                    e->isvprodid);
    pass(s, id, "%s: MRSIGNER, ISVPRODID %u, MISCSELECT and ATTRIBUTES match", e->id,
         e->isvprodid);
    return true;
}

static bool check_quote_signature(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_QUOTE_SIGNATURE;
    crypto_p256_key *ak = vrun_p256_key(&s->run, s->q.attest_pub_key);
    if (ak == NULL)
        return fail(s, id, VERIFY_VERDICT_INVALID, "the attestation key is not a P-256 point");
    int rc = crypto_p256_verify(ak, s->q.signed_data, s->q.signed_len, s->q.isv_sig);
    if (rc != 0)
        return fail(s, id, VERIFY_VERDICT_INVALID,
                    "the quote signature over bytes [0, %zu) does not verify with the "
                    "attestation key (%s)", s->q.signed_len, crypto_strerror(rc));
    pass(s, id, "bytes [0, %zu) signed by the attestation key", s->q.signed_len);
    return true;
}

static void add_advisories(verify_result *res, const advisory_list *adv)
{
    for (size_t i = 0; i < adv->n; i++) {
        bool dup = false;
        for (size_t j = 0; j < res->n_advisories && !dup; j++)
            dup = strcmp(res->advisories[j], adv->id[i]) == 0;
        if (!dup && res->n_advisories < VERIFY_MAX_ADVISORIES)
            memcpy(res->advisories[res->n_advisories++], adv->id[i], VERIFY_ADVISORY_ID_MAX);
    }
}

/* What brings a platform back to a listed, non-revoked TCB level. */
#define HINT_PLATFORM_TCB                                                                    \
    "update the platform TCB (BIOS/microcode, then refresh its PCK certificates at the "      \
    "PCCS), or check that the TCB info is current"
/* ... and the quoting enclave back to a listed, non-revoked QE level. */
#define HINT_QE_TCB                                                                          \
    "update the platform's quoting software (the QE in Intel's DCAP packages), or check "   \
    "that the QE identity is current"

static bool check_tcb_level(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_TCB_LEVEL;
    const tcb_info *t = &s->tcb->tcb;
    const qe_identity *e = &s->qe->qe;
    verify_result *res = s->res;
    const tcb_level *level;
    const isvsvn_level *module_level = NULL;
    char comps[33];
    crypto_hex_encode(s->ext.comp_svn, 16, comps);
    if (s->q.tee_type == SGX_TEE_TYPE_TDX) {
        int si, ti;
        const uint8_t *svn = s->q.td.tee_tcb_svn;
        tcb_info_match_tdx(t, s->ext.comp_svn, s->ext.pcesvn, svn, &si, &ti);
        if (si < 0) {
            hint(s, id, "%s", HINT_PLATFORM_TCB);
            return fail(s, id, VERIFY_VERDICT_TCB_NOT_SUPPORTED,
                        "no TCB level matches the PCK SVNs %s / PCESVN %u (TCB not supported)",
                        comps, s->ext.pcesvn);
        }
        if (ti < 0) {
            char tee[33];
            crypto_hex_encode(svn, 16, tee);
            hint(s, id, "update the TDX module and the platform (BIOS/microcode), or fetch "
                        "current TCB info");
            return fail(s, id, VERIFY_VERDICT_TCB_NOT_SUPPORTED,
                        "no TCB level matches the TD's TEE_TCB_SVN %s (TCB not supported)", tee);
        }
        level = &t->levels[ti];
        verify_tcb_status module_status = VERIFY_TCB_UP_TO_DATE;
        if (!(s->q.version > 3 && svn[1] == 0)) {
            if (s->module_id == NULL)
                s->module_id = find_module_identity(t, svn[1]);
            if (s->module_id == NULL)
                return fail(s, id, VERIFY_VERDICT_INVALID,
                            "no TDX module identity TDX_%02X", svn[1]);
            int mi = isvsvn_match(s->module_id->levels, s->module_id->n_levels, svn[0]);
            if (mi < 0) {
                hint(s, id, "update the TDX module, or fetch current TCB info");
                return fail(s, id, VERIFY_VERDICT_TCB_NOT_SUPPORTED,
                            "TDX module ISVSVN %u matches no level of %s (TCB not supported)",
                            svn[0], s->module_id->id);
            }
            module_level = &s->module_id->levels[mi];
            module_status = module_level->status;
            res->tdx_module_status = module_status;
        }
        res->platform_status = converge_with_tdx_module(level->status, module_status);
    } else {
        int si = tcb_info_match_sgx(t, s->ext.comp_svn, s->ext.pcesvn);
        if (si < 0) {
            hint(s, id, "%s", HINT_PLATFORM_TCB);
            return fail(s, id, VERIFY_VERDICT_TCB_NOT_SUPPORTED,
                        "no TCB level matches the PCK SVNs %s / PCESVN %u (TCB not supported)",
                        comps, s->ext.pcesvn);
        }
        level = &t->levels[si];
        res->platform_status = level->status;
    }
    int qi = isvsvn_match(e->levels, e->n_levels, s->q.qe_report.isv_svn);
    if (qi < 0) {
        hint(s, id, "%s", HINT_QE_TCB);
        return fail(s, id, VERIFY_VERDICT_TCB_NOT_SUPPORTED,
                    "QE ISVSVN %u is below every level of the QE identity (TCB not supported)",
                    s->q.qe_report.isv_svn);
    }
    const isvsvn_level *qlevel = &e->levels[qi];
    res->qe_status = qlevel->status;
    res->status = converge_with_qe(res->platform_status, qlevel->status);
    add_advisories(res, &level->adv);
    if (module_level != NULL)
        add_advisories(res, &module_level->adv);
    add_advisories(res, &qlevel->adv);
    res->platform_tcb_date = level->tcb_date;
    res->qe_tcb_date = qlevel->tcb_date;
    res->tcb_date = level->tcb_date < qlevel->tcb_date ? level->tcb_date : qlevel->tcb_date;
    if (res->status == VERIFY_TCB_REVOKED) {
        hint(s, id, "%s", res->platform_status == VERIFY_TCB_REVOKED ? HINT_PLATFORM_TCB
                                                                     : HINT_QE_TCB);
        return fail(s, id, VERIFY_VERDICT_REVOKED,
                    "the TCB status is Revoked (platform %s, QE %s)",
                    verify_tcb_status_name(res->platform_status),
                    verify_tcb_status_name(res->qe_status));
    }
    pass(s, id, "%s (platform %s, QE ISVSVN %u %s)", verify_tcb_status_name(res->status),
         verify_tcb_status_name(res->platform_status), s->q.qe_report.isv_svn,
         verify_tcb_status_name(res->qe_status));
    return true;
}

/* ---- §6.7 ---- */

typedef struct {
    vstate *s;
    int64_t now;
} timecheck;

static void time_item(timecheck *tc, const char *name, int64_t from, int64_t until)
{
    verify_result *res = tc->s->res;
    if (!res->have_dates) {
        res->have_dates = true;
        res->earliest_issue = res->latest_issue = from;
        res->earliest_expiration = until;
        vfmt(res->earliest_expiring_item, sizeof res->earliest_expiring_item, "%s", name);
    } else {
        if (from < res->earliest_issue)
            res->earliest_issue = from;
        if (from > res->latest_issue)
            res->latest_issue = from;
        if (until < res->earliest_expiration) {
            res->earliest_expiration = until;
            vfmt(res->earliest_expiring_item, sizeof res->earliest_expiring_item, "%s", name);
        }
    }
    bool expired = tc->now > until, early = tc->now < from;
    if ((expired || early) && res->n_time_issues < VERIFY_MAX_TIME_ISSUES) {
        verify_time_issue *ti = &res->time_issues[res->n_time_issues++];
        vfmt(ti->item, sizeof ti->item, "%s", name);
        ti->time = expired ? until : from;
        ti->not_yet_valid = !expired;
    }
}

static void time_cert(timecheck *tc, const char *role, const vcert *c)
{
    char name[VERIFY_ITEM_NAME_MAX];
    if (c == NULL)
        return;
    vfmt(name, sizeof name, "%s (%s)", role, c->cn);
    time_item(tc, name, (int64_t)c->not_before, (int64_t)c->not_after);
}

static void time_chain(timecheck *tc, const char *what, const chain *ch)
{
    char role[64];
    for (size_t i = 0; i < ch->n; i++) {
        vfmt(role, sizeof role, "%s[%zu]", what, i);
        time_cert(tc, role, ch->c[i]);
    }
}

/* The fix depends on what is out of its window: collateral documents and
 * issuer chains are fetched again, the PCK chain comes with the platform,
 * and an item not valid yet points at the clock. */
static void collateral_time_hint(vstate *s)
{
    const verify_result *res = s->res;
    bool fresh = false, pck = false, root = false, early = false;
    for (size_t i = 0; i < res->n_time_issues; i++) {
        const verify_time_issue *ti = &res->time_issues[i];
        if (ti->not_yet_valid)
            early = true;
        else if (strncmp(ti->item, "pckChain", 8) == 0)
            pck = true;
        else if (strncmp(ti->item, "trustedRoot", 11) == 0)
            root = true;
        else
            fresh = true;
    }
    char h[VERIFY_HINT_MAX] = "";
    size_t used = 0;
    const char *parts[4] = {
        early ? "check the clock (or --now): some items are not valid yet" : NULL,
        fresh ? "fetch fresh collateral (`sgx-quote collateral export` or --pccs-url)" : NULL,
        pck ? "renew the platform's PCK certificates at the PCCS and take a new quote" : NULL,
        root ? "replace the expired trusted root certificate" : NULL,
    };
    for (size_t i = 0; i < 4; i++) {
        if (parts[i] == NULL || used >= sizeof h)
            continue;
        int n = snprintf(h + used, sizeof h - used, "%s%s", used > 0 ? "; " : "", parts[i]);
        if (n > 0)
            used += (size_t)n;
    }
    hint(s, VERIFY_CHECK_COLLATERAL_TIME, "%s", h);
}

static void check_collateral_time(vstate *s)
{
    const verify_check_id id = VERIFY_CHECK_COLLATERAL_TIME;
    timecheck tc = {s, s->opt->now};
    time_item(&tc, "tcbInfo", s->tcb->tcb.issue_date, s->tcb->tcb.next_update);
    time_item(&tc, "qeIdentity", s->qe->qe.issue_date, s->qe->qe.next_update);
    time_item(&tc, "rootCaCrl", (int64_t)s->root_crl->this_update,
              (int64_t)s->root_crl->next_update);
    time_item(&tc, "pckCrl", (int64_t)s->pck_crl->this_update, (int64_t)s->pck_crl->next_update);
    time_cert(&tc, "trustedRoot", s->ctx->root);
    time_chain(&tc, "pckChain", &s->pck);
    time_chain(&tc, "tcbInfoIssuerChain", &s->tcb_chain);
    time_chain(&tc, "qeIdentityIssuerChain", &s->qe_chain);
    time_chain(&tc, "pckCrlIssuerChain", &s->crl_chain);
    verify_result *res = s->res;
    if (res->n_time_issues == 0) {
        char when[21];
        time_format_iso8601((time_t)res->earliest_expiration, when);
        pass(s, id, "valid until %s (%s)", when, res->earliest_expiring_item);
        return;
    }
    char msg[VERIFY_DETAIL_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < res->n_time_issues && used < sizeof msg; i++) {
        char when[21];
        const verify_time_issue *ti = &res->time_issues[i];
        time_format_iso8601((time_t)ti->time, when);
        int n = snprintf(msg + used, sizeof msg - used, "%s%s %s %s", i > 0 ? "; " : "", ti->item,
                         ti->not_yet_valid ? "is not valid before" : "expired at", when);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    collateral_time_hint(s);
    fail(s, id, VERIFY_VERDICT_COLLATERAL_EXPIRED, "%s", msg);
}

/* §6.2: what each status asks of the platform owner, then how to widen the
 * policy instead (a copy-pastable --accept with the current set plus it). */
static void status_hint(vstate *s, verify_tcb_status st, const char *accepted)
{
    const char *fix;
    switch (st) {
    case VERIFY_TCB_OUT_OF_DATE:
    case VERIFY_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED:
        fix = "update the platform TCB (BIOS/microcode, then refresh its PCK certificates)";
        break;
    case VERIFY_TCB_SW_HARDENING_NEEDED:
        fix = "make sure the enclave mitigates the listed advisories";
        break;
    case VERIFY_TCB_CONFIGURATION_NEEDED:
        fix = "change the platform configuration the listed advisories name";
        break;
    case VERIFY_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
        fix = "change the platform configuration and mitigate in the enclave what the listed "
              "advisories name";
        break;
    default:
        fix = NULL;
        break;
    }
    const char *name = verify_tcb_status_name(st);
    if (fix != NULL)
        hint(s, VERIFY_CHECK_STATUS_POLICY, "%s; or, if you accept the risk, widen the policy "
             "with --accept %s%s%s", fix, accepted, accepted[0] ? "," : "", name);
    else
        hint(s, VERIFY_CHECK_STATUS_POLICY, "widen the policy with --accept %s%s%s", accepted,
             accepted[0] ? "," : "", name);
}

static void check_policies(vstate *s)
{
    verify_result *res = s->res;
    if (res->identity.debug && !s->opt->allow_debug) {
        hint(s, VERIFY_CHECK_DEBUG_POLICY,
             "a debug %s's memory is readable by the host: build production %ss without DEBUG; "
             "--allow-debug accepts it for testing", res->identity.is_td ? "TD" : "enclave",
             res->identity.is_td ? "TD" : "enclave");
        fail(s, VERIFY_CHECK_DEBUG_POLICY, VERIFY_VERDICT_DEBUG_ENCLAVE,
             "the %s is in debug mode; pass --allow-debug to accept it",
             res->identity.is_td ? "TD" : "enclave");
    } else
        pass(s, VERIFY_CHECK_DEBUG_POLICY, "%s",
             res->identity.debug ? "debug mode allowed by option" : "not in debug mode");

    unsigned accepted = s->opt->accepted & ~VERIFY_TCB_BIT(VERIFY_TCB_REVOKED);
    if ((accepted & VERIFY_TCB_BIT(res->status)) == 0) {
        char list[256] = "";
        size_t used = 0;
        for (int st = VERIFY_TCB_UP_TO_DATE; st < VERIFY_TCB__COUNT; st++) {
            if (accepted & VERIFY_TCB_BIT(st)) {
                int n = snprintf(list + used, sizeof list - used, "%s%s", used ? "," : "",
                                 verify_tcb_status_name((verify_tcb_status)st));
                if (n > 0 && (size_t)n < sizeof list - used)
                    used += (size_t)n;
            }
        }
        status_hint(s, res->status, list);
        fail(s, VERIFY_CHECK_STATUS_POLICY, VERIFY_VERDICT_STATUS_NOT_ACCEPTED,
             "TCB status %s is not accepted (accepted: %s)", verify_tcb_status_name(res->status),
             list[0] ? list : "none");
    } else {
        pass(s, VERIFY_CHECK_STATUS_POLICY, "%s is accepted", verify_tcb_status_name(res->status));
    }
}

static void run_checks(vstate *s, const uint8_t *quote, size_t quote_len)
{
    if (!check_quote_format(s, quote, quote_len) || !check_collateral_format(s) ||
        !check_pck_chain(s) || !check_crls(s) || !check_pck_revocation(s) ||
        !check_signing_chain(s, VERIFY_CHECK_TCB_INFO_CHAIN, "TCB info issuer chain",
                             &s->tcb_chain, &s->tcb_signer) ||
        !check_body_signature(s, VERIFY_CHECK_TCB_INFO_SIGNATURE, "TCB info", s->tcb,
                              s->coll->tcb_info, s->coll->tcb_info_len,
                              s->coll->tcb_info_signature, s->tcb_signer) ||
        !check_signing_chain(s, VERIFY_CHECK_QE_IDENTITY_CHAIN, "QE identity issuer chain",
                             &s->qe_chain, &s->qe_signer) ||
        !check_body_signature(s, VERIFY_CHECK_QE_IDENTITY_SIGNATURE, "QE identity", s->qe,
                              s->coll->qe_identity, s->coll->qe_identity_len,
                              s->coll->qe_identity_signature, s->qe_signer) ||
        !check_tcb_info_match(s) || !check_tdx_module(s) || !check_qe_report_signature(s) ||
        !check_qe_report_data(s) || !check_qe_identity(s) || !check_quote_signature(s) ||
        !check_tcb_level(s))
        return;
    check_collateral_time(s);
    check_policies(s);
}

int verify_quote(verify_ctx *ctx, const uint8_t *quote, size_t quote_len,
                 const verify_collateral *coll, const verify_options *opt, verify_result *res)
{
    if (ctx == NULL || opt == NULL || res == NULL)
        return VERIFY_E_INVALID_ARG;
    memset(res, 0, sizeof *res);
    res->checked_at = opt->now;
    vstate *s = calloc(1, sizeof *s);
    if (s == NULL)
        return VERIFY_E_NOMEM;
    s->ctx = ctx;
    s->res = res;
    s->opt = opt;
    s->coll = coll;
    if (ctx->root == NULL) { /* the built-in root, on first use */
        size_t len;
        const uint8_t *der = verify_intel_root_der(&len);
        int rc = verify_ctx_set_root(ctx, der, len);
        if (rc != 0) {
            free(s);
            return rc;
        }
    }
    vrun_begin(&s->run, ctx->cache_enabled ? ctx->cache : NULL);
    s->run.anchor = ctx->root;
    run_checks(s, quote, quote_len);
    vrun_end(&s->run);
    if (!s->failed)
        res->verdict = VERIFY_VERDICT_OK;
    free(s);
    return VERIFY_OK;
}
