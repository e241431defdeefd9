/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier's cache: collateral bytes → parsed objects (certificates,
 * CRLs, TCB info, QE identity) and, on those objects, the signer keys they
 * have already been verified with. verify.c asks for every object through a
 * `vrun` (one verification); with caching off the same calls parse afresh
 * and free at the end of the run, so both paths run the same checks.
 *
 * Why this is sound (docs/verify.md "What is cached"): an entry is keyed by
 * SHA-256 over its exact input bytes (certificates, CRLs, collateral bodies,
 * attestation keys), and parsing and signature verification
 * are pure functions of (bytes, signer key). Nothing that depends on the
 * check time, on revocation lists or on the quote is cached: validity
 * windows, CRL look-ups, TCB matching and the quote's own signatures are
 * evaluated on every call.
 */
#include <stdlib.h>
#include <string.h>

#include "sgx/reader.h"
#include "verify_internal.h"

enum { KIND_CERT = 1, KIND_CRL = 2, KIND_TCB = 3, KIND_QE = 4, KIND_KEY = 5 };

/* 64 buckets × 8 ways: a few contexts' worth of collateral and platforms. */
#define CACHE_BUCKETS 64
#define CACHE_WAYS 8

typedef struct {
    int kind; /* 0 = empty */
    uint8_t key[32];
    void *obj;
    uint64_t last_epoch;
    uint64_t last_use;
} centry;

struct vcache {
    centry e[CACHE_BUCKETS][CACHE_WAYS];
    uint64_t epoch, tick;
    uint64_t hits, misses, sig_hits, sig_misses;
};

static void vcert_free(vcert *c)
{
    if (c == NULL)
        return;
    x509_cert_free(c->cert);
    crypto_p256_free(c->key);
    free(c);
}

static void vcrl_free(vcrl *c)
{
    if (c == NULL)
        return;
    x509_crl_free(c->crl);
    free(c);
}

static void vbody_free(vbody *b)
{
    if (b == NULL)
        return;
    if (b->is_tcb_info)
        tcb_info_free(&b->tcb);
    else
        qe_identity_free(&b->qe);
    free(b);
}

static void obj_free(int kind, void *obj)
{
    switch (kind) {
    case KIND_CERT: vcert_free(obj); break;
    case KIND_CRL: vcrl_free(obj); break;
    case KIND_TCB:
    case KIND_QE: vbody_free(obj); break;
    case KIND_KEY: crypto_p256_free(obj); break;
    default: break;
    }
}

int vcache_new(vcache **out)
{
    *out = calloc(1, sizeof **out);
    return *out == NULL ? VERIFY_E_NOMEM : VERIFY_OK;
}

void vcache_clear(vcache *c)
{
    if (c == NULL)
        return;
    for (size_t b = 0; b < CACHE_BUCKETS; b++) {
        for (size_t w = 0; w < CACHE_WAYS; w++) {
            if (c->e[b][w].kind != 0)
                obj_free(c->e[b][w].kind, c->e[b][w].obj);
            memset(&c->e[b][w], 0, sizeof c->e[b][w]);
        }
    }
}

void vcache_free(vcache *c)
{
    vcache_clear(c);
    free(c);
}

void vcache_stats(const vcache *c, verify_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (c == NULL)
        return;
    out->hits = c->hits;
    out->misses = c->misses;
    out->sig_hits = c->sig_hits;
    out->sig_misses = c->sig_misses;
    for (size_t b = 0; b < CACHE_BUCKETS; b++)
        for (size_t w = 0; w < CACHE_WAYS; w++)
            out->entries += c->e[b][w].kind != 0;
}

void vcache_count_sig(vcache *c, bool hit)
{
    if (c == NULL)
        return;
    if (hit)
        c->sig_hits++;
    else
        c->sig_misses++;
}

void vrun_begin(vrun *run, vcache *cache)
{
    memset(run, 0, sizeof *run);
    run->cache = cache;
    if (cache != NULL)
        run->epoch = ++cache->epoch;
}

void vrun_end(vrun *run)
{
    for (size_t i = 0; i < run->n_scratch; i++)
        obj_free(run->scratch[i].kind, run->scratch[i].obj);
    run->n_scratch = 0;
}

static void cache_key(int kind, const void *data, size_t len, uint8_t key[32])
{
    uint8_t tag = (uint8_t)kind;
    crypto_buf parts[2] = {{&tag, 1}, {data, len}};
    if (crypto_sha256_parts(parts, 2, key) != 0)
        memset(key, 0, 32); /* cannot happen with valid args; a zero key only costs a miss */
}

static void *cache_find(vrun *run, int kind, const uint8_t key[32])
{
    vcache *c = run->cache;
    if (c == NULL)
        return NULL;
    centry *bucket = c->e[key[0] % CACHE_BUCKETS];
    for (size_t w = 0; w < CACHE_WAYS; w++) {
        if (bucket[w].kind == kind && memcmp(bucket[w].key, key, 32) == 0) {
            bucket[w].last_epoch = run->epoch;
            bucket[w].last_use = ++c->tick;
            c->hits++;
            return bucket[w].obj;
        }
    }
    c->misses++;
    return NULL;
}

/* Takes ownership of obj: into the cache, else into the run's scratch list
 * (freed by vrun_end). Entries used during this run are never evicted, so
 * every pointer handed out stays valid until vrun_end. */
static bool keep(vrun *run, int kind, const uint8_t key[32], void *obj)
{
    vcache *c = run->cache;
    if (c != NULL) {
        centry *bucket = c->e[key[0] % CACHE_BUCKETS];
        centry *victim = NULL;
        for (size_t w = 0; w < CACHE_WAYS; w++) {
            centry *e = &bucket[w];
            if (e->kind == 0) {
                victim = e;
                break;
            }
            if (e->last_epoch != run->epoch && (victim == NULL || e->last_use < victim->last_use))
                victim = e;
        }
        if (victim != NULL) {
            if (victim->kind != 0)
                obj_free(victim->kind, victim->obj);
            victim->kind = kind;
            memcpy(victim->key, key, 32);
            victim->obj = obj;
            victim->last_epoch = run->epoch;
            victim->last_use = ++c->tick;
            return true;
        }
    }
    if (run->n_scratch >= VRUN_MAX_SCRATCH) {
        obj_free(kind, obj);
        return false;
    }
    run->scratch[run->n_scratch].kind = kind;
    run->scratch[run->n_scratch].obj = obj;
    run->n_scratch++;
    return true;
}

/* ---- certificates ---- */

static int vcert_fill(vcert *v, char *err, size_t cap)
{
    if (x509_cert_sha256(v->cert, v->der_sha256) != 0 ||
        x509_cert_subject(v->cert, v->subject, sizeof v->subject) != 0 ||
        x509_cert_issuer(v->cert, v->issuer, sizeof v->issuer) != 0 ||
        x509_cert_validity(v->cert, &v->not_before, &v->not_after) != 0) {
        vfmt(err, cap, "certificate fields could not be read");
        return VERIFY_E_FORMAT;
    }
    if (x509_cert_subject_cn(v->cert, v->cn, sizeof v->cn) != 0)
        v->cn[0] = '\0';
    v->self_issued = x509_cert_is_self_issued(v->cert);
    v->is_ca = x509_cert_is_ca(v->cert);
    v->has_required_exts = x509_cert_has_required_exts(v->cert);
    if (x509_cert_pubkey(v->cert, &v->key) == 0 && x509_cert_pubkey_raw(v->cert, v->pub) == 0)
        v->has_pub = true;
    return 0;
}

/* Certificates are keyed by the SHA-256 of their DER (the PEM text around
 * it may differ between chains: line breaks, a trailing NUL), which is also
 * the DER hash the chain checks compare with the trusted root's. */
static vcert *cert_get_der(vrun *run, const uint8_t *der, size_t len, char *err, size_t cap)
{
    uint8_t key[32];
    if (crypto_sha256(der, len, key) != 0) {
        vfmt(err, cap, "hashing failed");
        return NULL;
    }
    if (run->anchor != NULL && memcmp(key, run->anchor->der_sha256, 32) == 0)
        return run->anchor;
    vcert *v = cache_find(run, KIND_CERT, key);
    if (v != NULL)
        return v;
    v = calloc(1, sizeof *v);
    if (v == NULL) {
        vfmt(err, cap, "out of memory");
        return NULL;
    }
    int rc = x509_cert_from_der_lite(der, len, &v->cert);
    if (rc != 0) {
        vfmt(err, cap, "certificate does not parse (%s)", crypto_strerror(rc));
        vcert_free(v);
        return NULL;
    }
    if (vcert_fill(v, err, cap) != 0) {
        vcert_free(v);
        return NULL;
    }
    if (!keep(run, KIND_CERT, key, v)) {
        vfmt(err, cap, "too many objects in one verification");
        return NULL;
    }
    return v;
}

static vcert *cert_get(vrun *run, const void *data, size_t len, bool pem, char *err, size_t cap)
{
    if (!pem)
        return cert_get_der(run, data, len, err, cap);
    uint8_t *der = NULL;
    size_t der_len = 0;
    int rc = x509_cert_pem_to_der(data, len, &der, &der_len);
    if (rc != 0) {
        vfmt(err, cap, "certificate does not parse (%s)", crypto_strerror(rc));
        return NULL;
    }
    vcert *v = cert_get_der(run, der, der_len, err, cap);
    free(der);
    return v;
}

vcert *vcert_standalone(const uint8_t *data, size_t len, char *err, size_t cap)
{
    vcert *v = calloc(1, sizeof *v);
    if (v == NULL) {
        vfmt(err, cap, "out of memory");
        return NULL;
    }
    bool pem = len > 0 && memmem(data, len, "-----BEGIN CERTIFICATE-----", 27) != NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    int rc = pem ? x509_cert_pem_to_der((const char *)data, len, &der, &der_len) : 0;
    if (rc == 0)
        rc = pem ? x509_cert_from_der_lite(der, der_len, &v->cert)
                 : x509_cert_from_der_lite(data, len, &v->cert);
    free(der);
    if (rc != 0) {
        vfmt(err, cap, "certificate does not parse (%s)", crypto_strerror(rc));
        vcert_free(v);
        return NULL;
    }
    if (vcert_fill(v, err, cap) != 0) {
        vcert_free(v);
        return NULL;
    }
    return v;
}

void vcert_destroy(vcert *c)
{
    vcert_free(c);
}

vcert *vrun_cert_pem(vrun *run, const char *pem, size_t len, char *err, size_t errcap)
{
    return cert_get(run, pem, len, true, err, errcap);
}

vcert *vrun_cert_der(vrun *run, const uint8_t *der, size_t len, char *err, size_t errcap)
{
    return cert_get(run, der, len, false, err, errcap);
}

vcrl *vrun_crl(vrun *run, const uint8_t *der, size_t len, char *err, size_t cap)
{
    uint8_t key[32];
    cache_key(KIND_CRL, der, len, key);
    vcrl *v = cache_find(run, KIND_CRL, key);
    if (v != NULL)
        return v;
    v = calloc(1, sizeof *v);
    if (v == NULL) {
        vfmt(err, cap, "out of memory");
        return NULL;
    }
    int rc = x509_crl_from_der(der, len, &v->crl);
    if (rc != 0) {
        vfmt(err, cap, "CRL does not parse (%s)", crypto_strerror(rc));
        goto fail;
    }
    if (x509_crl_issuer(v->crl, v->issuer, sizeof v->issuer) != 0 ||
        x509_crl_dates(v->crl, &v->this_update, &v->next_update) != 0) {
        vfmt(err, cap, "CRL issuer or dates could not be read");
        goto fail;
    }
    v->has_required_exts = x509_crl_has_required_exts(v->crl);
    crypto_sha256(der, len, v->der_sha256);
    if (!keep(run, KIND_CRL, key, v)) {
        vfmt(err, cap, "too many objects in one verification");
        return NULL;
    }
    return v;
fail:
    vcrl_free(v);
    return NULL;
}

static vbody *body_get(vrun *run, int kind, const char *body, size_t len, char *err, size_t cap)
{
    uint8_t key[32];
    cache_key(kind, body, len, key);
    vbody *b = cache_find(run, kind, key);
    if (b != NULL)
        return b;
    b = calloc(1, sizeof *b);
    if (b == NULL) {
        vfmt(err, cap, "out of memory");
        return NULL;
    }
    b->is_tcb_info = kind == KIND_TCB;
    int rc = b->is_tcb_info ? tcb_info_parse(body, len, &b->tcb, err, cap)
                            : qe_identity_parse(body, len, &b->qe, err, cap);
    if (rc != 0) {
        free(b);
        return NULL;
    }
    if (!keep(run, kind, key, b)) {
        vfmt(err, cap, "too many objects in one verification");
        return NULL;
    }
    return b;
}

vbody *vrun_tcb_info(vrun *run, const char *body, size_t len, char *err, size_t errcap)
{
    return body_get(run, KIND_TCB, body, len, err, errcap);
}

vbody *vrun_qe_identity(vrun *run, const char *body, size_t len, char *err, size_t errcap)
{
    return body_get(run, KIND_QE, body, len, err, errcap);
}

/* An attestation key is per platform: parsing its 64 bytes into a key
 * object (a point validation in OpenSSL) is a pure function of them. */
crypto_p256_key *vrun_p256_key(vrun *run, const uint8_t pub[64])
{
    uint8_t key[32];
    cache_key(KIND_KEY, pub, 64, key);
    crypto_p256_key *k = cache_find(run, KIND_KEY, key);
    if (k != NULL)
        return k;
    if (crypto_p256_from_pub(pub, &k) != 0)
        return NULL;
    return keep(run, KIND_KEY, key, k) ? k : NULL;
}

/* ---- signatures ---- */

/* Each cached object remembers the facts it was verified with (an issuer
 * key for certificates and CRLs; signature ‖ signer key for bodies) in a
 * small array of `size`-byte entries, so a second run skips the ECDSA
 * verification. memo_seen counts the lookup as a hit or a miss. */
_Static_assert(sizeof(((vcert *)0)->verified_by[0]) == 64 &&
                   sizeof(((vcrl *)0)->verified_by[0]) == 64 &&
                   sizeof(((vbody *)0)->verified[0]) == 128,
               "memo entries: a P-256 key X||Y, or signature r||s || key");

static bool memo_seen(vrun *run, const void *facts, size_t n, const uint8_t *fact, size_t size)
{
    const uint8_t *p = facts;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(p + i * size, fact, size) == 0) {
            vcache_count_sig(run->cache, true);
            return true;
        }
    }
    vcache_count_sig(run->cache, false);
    return false;
}

static void memo_add(void *facts, size_t *n, size_t cap, const uint8_t *fact, size_t size)
{
    if (*n < cap)
        memcpy((uint8_t *)facts + (*n)++ * size, fact, size);
}

int vcert_check_signed_by(vrun *run, vcert *subject, const vcert *issuer)
{
    if (!issuer->has_pub)
        return CRYPTO_E_BAD_KEY;
    if (memo_seen(run, subject->verified_by, subject->n_verified, issuer->pub, 64))
        return 0;
    int rc = x509_cert_verify_signed_by(subject->cert, issuer->cert);
    if (rc == 0)
        memo_add(subject->verified_by, &subject->n_verified, VCERT_MAX_VERIFIERS, issuer->pub, 64);
    return rc;
}

int vcrl_check_signed_by(vrun *run, vcrl *crl, const vcert *issuer)
{
    if (!issuer->has_pub)
        return CRYPTO_E_BAD_KEY;
    if (memo_seen(run, crl->verified_by, crl->n_verified, issuer->pub, 64))
        return 0;
    int rc = x509_crl_verify_signed_by(crl->crl, issuer->cert);
    if (rc == 0)
        memo_add(crl->verified_by, &crl->n_verified, VCERT_MAX_VERIFIERS, issuer->pub, 64);
    return rc;
}

int vbody_check_signature(vrun *run, vbody *b, const char *body, size_t len,
                          const uint8_t sig[64], const vcert *signer)
{
    if (!signer->has_pub || signer->key == NULL)
        return CRYPTO_E_BAD_KEY;
    uint8_t fact[128];
    memcpy(fact, sig, 64);
    memcpy(fact + 64, signer->pub, 64);
    if (memo_seen(run, b->verified, b->n_verified, fact, sizeof fact))
        return 0;
    int rc = crypto_p256_verify(signer->key, body, len, sig);
    if (rc == 0)
        memo_add(b->verified, &b->n_verified, VBODY_MAX_VERIFIED, fact, sizeof fact);
    return rc;
}

/* ---- PEM ---- */

size_t pem_cert_blocks(const char *pem, size_t len, const char **blocks, size_t *lens, size_t max)
{
    static const char BEGIN[] = "-----BEGIN CERTIFICATE-----";
    static const char END[] = "-----END CERTIFICATE-----";
    reader r;
    size_t n = 0;
    if (pem == NULL || reader_init(&r, pem, len) != 0)
        return 0;
    while (n < max) {
        size_t at, end;
        if (reader_find(&r, BEGIN, sizeof BEGIN - 1, &at) != 0 || reader_skip(&r, at) != 0)
            break;
        size_t start = reader_offset(&r);
        if (reader_find(&r, END, sizeof END - 1, &end) != 0)
            break;
        if (reader_skip(&r, end + sizeof END - 1) != 0)
            break;
        blocks[n] = pem + start;
        lens[n] = reader_offset(&r) - start;
        n++;
    }
    return n;
}

/* The strict form every chain the verifier trusts is read with (docs/verify.md
 * "Certificate chains"): blocks separated only by whitespace (and the NULs a
 * quote's certification data may end with), bodies of base64 and line breaks
 * only. Anything else is a damaged block, never text to skip: a bit flip in a
 * BEGIN line must not make a certificate silently disappear from a chain. */
static bool pem_gap_byte(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

static bool pem_body_byte(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '=' || c == '\r' || c == '\n';
}

static void pem_excerpt(const char *p, size_t avail, char out[24])
{
    size_t n = 0;
    for (size_t i = 0; i < avail && n < 20; i++)
        out[n++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
    out[n] = '\0';
}

int pem_cert_blocks_strict(const char *pem, size_t len, const char **blocks, size_t *lens,
                           size_t max, size_t *count, char *err, size_t cap)
{
    static const char BEGIN[] = "-----BEGIN CERTIFICATE-----";
    static const char END[] = "-----END CERTIFICATE-----";
    const size_t begin_len = sizeof BEGIN - 1, end_len = sizeof END - 1;
    char ex[24];
    size_t n = 0, i = 0;
    *count = 0;
    if (pem == NULL) {
        vfmt(err, cap, "no PEM text");
        return VERIFY_E_FORMAT;
    }
    while (i < len) {
        if (pem_gap_byte(pem[i])) {
            i++;
            continue;
        }
        if (len - i < begin_len || memcmp(pem + i, BEGIN, begin_len) != 0) {
            pem_excerpt(pem + i, len - i, ex);
            vfmt(err, cap, "certificate %zu (at byte %zu) is damaged: \"%s\" where a \"%s\" "
                 "line or the end must be", n + 1, i, ex, BEGIN);
            return VERIFY_E_FORMAT;
        }
        size_t start = i, body = i + begin_len, j = body;
        while (j < len && pem_body_byte(pem[j]))
            j++;
        if (len - j < end_len || memcmp(pem + j, END, end_len) != 0) {
            pem_excerpt(pem + j, len - j, ex);
            vfmt(err, cap, "certificate %zu (the PEM block at byte %zu) is damaged: \"%s\" at "
                 "byte %zu, where only base64 or its \"%s\" line may be", n + 1, start, ex, j,
                 END);
            return VERIFY_E_FORMAT;
        }
        if (n == max) {
            vfmt(err, cap, "more than %zu certificates", max);
            return VERIFY_E_FORMAT;
        }
        blocks[n] = pem + start;
        lens[n] = j + end_len - start;
        n++;
        i = j + end_len;
    }
    if (n == 0) {
        vfmt(err, cap, "no PEM certificate");
        return VERIFY_E_FORMAT;
    }
    *count = n;
    return VERIFY_OK;
}
