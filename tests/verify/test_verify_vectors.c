/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Acceptance: the verifier's verdicts on every vector in
 * $SGXQH_VECTORS/quotes/ at its pinned time match the table in
 * tests/vectors/README.md (status and advisory ids), from both collateral
 * forms (directory and dcap-qvl JSON), with the built-in Intel root and with
 * each vector's own root; the built-in root is the one spec §5.4
 * describes; the Intel QVL sample verifies with every certification data
 * type the verifier takes from outside the quote (1-4, §1.5); and the
 * rejections that have a fix say it (hint). Expected values come from the
 * README and the spec only.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "sgxqh/quote.h"
#include "sgxqh/verify.h"
#include "vectors.h"

/* quote-format §5.4 */
static const char INTEL_ROOT_SHA256[] =
    "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";
static const char INTEL_ROOT_PUB[] =
    "0ba9c4c0c0c86193a3fe23d6b02cda10a8bbd4e88e48b4458561a36e705525f5"
    "67918e2edc88e40d860bd0cc4ee26aacc988e505a953558c453f6b0904ae7394";

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_builtin_root_is_intel(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *der = verify_intel_root_der(&len);
    uint8_t h[32];
    char hx[129];
    assert_int_equal(crypto_sha256(der, len, h), 0);
    hex(h, 32, hx);
    assert_string_equal(hx, INTEL_ROOT_SHA256);

    x509_cert *c = NULL;
    assert_int_equal(x509_cert_from_der(der, len, &c), 0);
    uint8_t pub[64];
    assert_int_equal(x509_cert_pubkey_raw(c, pub), 0);
    hex(pub, 64, hx);
    assert_string_equal(hx, INTEL_ROOT_PUB);
    x509_cert_free(c);

    /* ... and byte-identical to the vectors' copy of Intel's root. */
    char path[1200];
    size_t pem_len;
    tv_path(path, sizeof path, NULL, "intel-sgx-root-ca.pem");
    uint8_t *pem = ts_read_file(path, &pem_len);
    assert_non_null(pem);
    assert_int_equal(x509_cert_from_pem((const char *)pem, pem_len, &c), 0);
    uint8_t *der2 = NULL;
    size_t der2_len = 0;
    assert_int_equal(x509_cert_to_der(c, &der2, &der2_len), 0);
    assert_int_equal(der2_len, len);
    assert_memory_equal(der2, der, len);
    free(der2);
    x509_cert_free(c);
    free(pem);

    verify_ctx *ctx;
    assert_int_equal(verify_ctx_new(&ctx), 0);
    verify_ctx_root_sha256(ctx, h);
    hex(h, 32, hx);
    assert_string_equal(hx, INTEL_ROOT_SHA256);
    verify_ctx_free(ctx);
}

typedef enum { ROOT_BUILTIN, ROOT_VECTOR, ROOT_INTEL_FILE } root_choice;

typedef struct {
    const char *vector;
    verify_verdict verdict;       /* with every non-revoked status accepted */
    verify_tcb_status status;
    const char *advisories[4];    /* NULL-terminated, any order */
    verify_check_id failed_check; /* when verdict != OK */
    const char *reason_has;       /* substring of the reason, or NULL */
} expectation;

/* tests/vectors/README.md "Expected verdicts at pinned_time". */
static const expectation TABLE[] = {
    {"dcapqvl-sgx-v3", VERIFY_VERDICT_OK, VERIFY_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
     {"INTEL-SA-00289", "INTEL-SA-00615", NULL}, 0, NULL},
    {"dcapqvl-tdx-v4", VERIFY_VERDICT_OK, VERIFY_TCB_UP_TO_DATE, {NULL}, 0, NULL},
    {"dcapqvl-tdx-v5-outdated", VERIFY_VERDICT_TCB_NOT_SUPPORTED, VERIFY_TCB_NONE, {NULL},
     VERIFY_CHECK_TCB_LEVEL, "TCB not supported"},
    {"intelqvl-sample-sgx-v3-testroot", VERIFY_VERDICT_OK, VERIFY_TCB_UP_TO_DATE, {NULL}, 0, NULL},
    {"customroot-dcapqvl-sgx-v3", VERIFY_VERDICT_OK,
     VERIFY_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, {"INTEL-SA-00289", "INTEL-SA-00615", NULL},
     0, NULL},
    {"synth-sgx-v4-customroot", VERIFY_VERDICT_OK, VERIFY_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
     {"INTEL-SA-00289", "INTEL-SA-00615", NULL}, 0, NULL},
};

static void expect(const expectation *e, const verify_result *r)
{
    if (r->verdict != e->verdict)
        fail_msg("%s: verdict %s, expected %s (%s)", e->vector, verify_verdict_name(r->verdict),
                 verify_verdict_name(e->verdict), r->reason);
    assert_int_equal(r->status, e->status);
    size_t n = 0;
    while (e->advisories[n] != NULL)
        n++;
    assert_int_equal(r->n_advisories, n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < r->n_advisories; j++)
            found |= strcmp(r->advisories[j], e->advisories[i]) == 0;
        if (!found)
            fail_msg("%s: advisory %s missing", e->vector, e->advisories[i]);
    }
    if (e->verdict != VERIFY_VERDICT_OK) {
        assert_int_equal(r->failed_check, e->failed_check);
        assert_int_equal(r->checks[e->failed_check].outcome, VERIFY_OUTCOME_FAIL);
        if (e->reason_has != NULL && strstr(r->reason, e->reason_has) == NULL)
            fail_msg("%s: reason '%s' lacks '%s'", e->vector, r->reason, e->reason_has);
    } else {
        for (int i = 0; i < VERIFY_CHECK__COUNT; i++) {
            verify_outcome o = r->checks[i].outcome;
            if (o != VERIFY_OUTCOME_PASS &&
                !(o == VERIFY_OUTCOME_SKIPPED && i == VERIFY_CHECK_TDX_MODULE))
                fail_msg("%s: check %s is %s", e->vector, verify_check_name((verify_check_id)i),
                         verify_outcome_name(o));
        }
        assert_string_equal(r->reason, "");
    }
}

static void run_vector(const expectation *e, root_choice root, bool qvl_json, bool cache)
{
    test_vector v;
    tv_load(&v, e->vector);
    verify_ctx *ctx;
    assert_int_equal(verify_ctx_new(&ctx), 0);
    verify_ctx_set_cache(ctx, cache);
    if (root == ROOT_VECTOR) {
        assert_int_equal(verify_ctx_set_root(ctx, v.root, v.root_len), 0);
    } else if (root == ROOT_INTEL_FILE) {
        char path[1200];
        size_t len;
        tv_path(path, sizeof path, NULL, "intel-sgx-root-ca.pem");
        uint8_t *pem = ts_read_file(path, &len);
        assert_int_equal(verify_ctx_set_root(ctx, pem, len), 0);
        free(pem);
    }
    verify_collateral coll = {0};
    if (qvl_json) {
        char path[1200], err[512] = "";
        size_t len;
        tv_path(path, sizeof path, e->vector, "collateral.json");
        uint8_t *text = ts_read_file(path, &len);
        assert_non_null(text);
        if (verify_collateral_load_qvl_json((const char *)text, len, &coll, err, sizeof err) != 0)
            fail_msg("%s: %s", path, err);
        free(text);
    }
    verify_options opt;
    verify_options_default(&opt);
    opt.now = v.pinned_time;
    opt.accepted = tv_accept_all();
    verify_result r;
    /* Twice: the second run is served from the cache when it is on. */
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, qvl_json ? &coll : &v.coll, &opt,
                                      &r),
                         0);
        assert_int_equal(r.checked_at, v.pinned_time);
        expect(e, &r);
    }
    verify_cache_stats st;
    verify_ctx_cache_stats(ctx, &st);
    if (cache && e->verdict == VERIFY_VERDICT_OK) {
        assert_true(st.hits > 0);
        assert_true(st.sig_hits > 0);
    }
    if (!cache)
        assert_int_equal(st.hits + st.sig_hits, 0);

    /* With the default policy (UpToDate only) anything else is refused by
     * the status policy, after every other check passed. */
    verify_options_default(&opt);
    opt.now = v.pinned_time;
    assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, &v.coll, &opt, &r), 0);
    if (e->verdict == VERIFY_VERDICT_OK && e->status != VERIFY_TCB_UP_TO_DATE) {
        assert_int_equal(r.verdict, VERIFY_VERDICT_STATUS_NOT_ACCEPTED);
        assert_int_equal(r.failed_check, VERIFY_CHECK_STATUS_POLICY);
        assert_int_equal(r.status, e->status);
        /* the hint says how to widen the policy: the default set plus it */
        char widen[128];
        snprintf(widen, sizeof widen, "--accept UpToDate,%s", verify_tcb_status_name(e->status));
        if (strstr(r.hint, widen) == NULL)
            fail_msg("%s: hint '%s' lacks '%s'", e->vector, r.hint, widen);
        assert_string_equal(r.hint, r.checks[VERIFY_CHECK_STATUS_POLICY].hint);
    } else if (e->verdict == VERIFY_VERDICT_OK) {
        assert_int_equal(r.verdict, VERIFY_VERDICT_OK);
        assert_string_equal(r.hint, "");
    } else {
        assert_int_equal(r.verdict, e->verdict);
    }
    verify_collateral_free(&coll);
    verify_ctx_free(ctx);
    tv_free(&v);
}

static void test_table_dir_vector_root(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        run_vector(&TABLE[i], ROOT_VECTOR, false, true);
}

static void test_table_qvl_json(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        run_vector(&TABLE[i], ROOT_VECTOR, true, true);
}

static void test_table_without_cache(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        run_vector(&TABLE[i], ROOT_VECTOR, false, false);
}

/* The real Intel quotes with the built-in anchor and with the PEM file. */
static void test_intel_vectors_with_intel_root(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        run_vector(&TABLE[i], ROOT_BUILTIN, false, true);
        run_vector(&TABLE[i], ROOT_INTEL_FILE, true, true);
    }
}

/* Chained to another root than the trusted one: refused, naming both. */
static void test_other_root_rejected_by_name(void **state)
{
    (void)state;
    static const char *const OTHERS[] = {"customroot-dcapqvl-sgx-v3", "synth-sgx-v4-customroot",
                                         "intelqvl-sample-sgx-v3-testroot"};
    for (size_t i = 0; i < 3; i++) {
        test_vector v;
        tv_load(&v, OTHERS[i]);
        verify_ctx *ctx;
        assert_int_equal(verify_ctx_new(&ctx), 0); /* Intel's root */
        verify_options opt;
        verify_options_default(&opt);
        opt.now = v.pinned_time;
        opt.accepted = tv_accept_all();
        verify_result r;
        assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, &v.coll, &opt, &r), 0);
        assert_int_equal(r.verdict, VERIFY_VERDICT_INVALID);
        assert_int_equal(r.failed_check, VERIFY_CHECK_PCK_CHAIN);
        assert_non_null(strstr(r.reason, "not the trusted root"));
        assert_non_null(strstr(r.reason, "CN=Intel SGX Root CA"));
        /* the fix, if that root is trusted: --root, naming the root */
        assert_non_null(strstr(r.hint, "pass its certificate with --root FILE"));
        assert_non_null(strstr(r.hint, "Root CA'"));
        assert_string_equal(r.hint, r.checks[VERIFY_CHECK_PCK_CHAIN].hint);
        /* the checks after the failure did not run */
        assert_int_equal(r.checks[VERIFY_CHECK_QUOTE_SIGNATURE].outcome, VERIFY_OUTCOME_NOT_RUN);
        assert_int_equal(r.status, VERIFY_TCB_NONE);
        verify_ctx_free(ctx);
        tv_free(&v);
    }
}

/* The README: customroot rejected with neg_pck_crl_revoking_pck.der. */
static void test_revoking_pck_crl(void **state)
{
    (void)state;
    static const char *const WITH_NEG[] = {"customroot-dcapqvl-sgx-v3", "synth-sgx-v4-customroot"};
    for (size_t i = 0; i < 2; i++) {
        test_vector v;
        char path[1200];
        size_t len;
        tv_load(&v, WITH_NEG[i]);
        tv_path(path, sizeof path, WITH_NEG[i], "neg_pck_crl_revoking_pck.der");
        uint8_t *crl = ts_read_file(path, &len);
        assert_non_null(crl);
        assert_int_equal(verify_collateral_set_crl(&v.coll.pck_crl, &v.coll.pck_crl_len, crl, len), 0);
        free(crl);
        verify_ctx *ctx;
        assert_int_equal(verify_ctx_new(&ctx), 0);
        assert_int_equal(verify_ctx_set_root(ctx, v.root, v.root_len), 0);
        verify_options opt;
        verify_options_default(&opt);
        opt.now = v.pinned_time;
        opt.accepted = tv_accept_all();
        verify_result r;
        assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, &v.coll, &opt, &r), 0);
        assert_int_equal(r.verdict, VERIFY_VERDICT_REVOKED);
        assert_int_equal(r.failed_check, VERIFY_CHECK_PCK_REVOCATION);
        assert_non_null(strstr(r.reason, "revoked"));
        verify_ctx_free(ctx);
        tv_free(&v);
    }
}

/* The enclave identity reported is the quote's, at the spec's offsets. */
static void test_identity_reported(void **state)
{
    (void)state;
    test_vector v;
    tv_load(&v, "dcapqvl-sgx-v3");
    verify_ctx *ctx;
    assert_int_equal(verify_ctx_new(&ctx), 0);
    verify_options opt;
    verify_options_default(&opt);
    opt.now = v.pinned_time;
    opt.accepted = tv_accept_all();
    verify_result r;
    assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, &v.coll, &opt, &r), 0);
    assert_true(r.have_identity);
    assert_false(r.identity.is_td);
    /* quote-format §1.3 + 48: MRENCLAVE @112, MRSIGNER @176, ISVPRODID @304,
     * ISVSVN @306, REPORTDATA @368; §1.7: report data "Hello, world!". */
    assert_memory_equal(r.identity.mr_enclave, v.quote + 112, 32);
    assert_memory_equal(r.identity.mr_signer, v.quote + 176, 32);
    assert_int_equal(r.identity.isv_prod_id, v.quote[304] | v.quote[305] << 8);
    assert_int_equal(r.identity.isv_svn, v.quote[306] | v.quote[307] << 8);
    assert_memory_equal(r.identity.report_data, "Hello, world!", 13);
    assert_false(r.identity.debug);
    /* §5.2 example: FMSPC 00A067110000, PCESVN 13 */
    static const uint8_t FMSPC[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};
    assert_memory_equal(r.fmspc, FMSPC, 6);
    assert_int_equal(r.pck_pcesvn, 13);

    char *json = verify_result_to_json(&r, false);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"schema\":\"sgx-quote-verify/1\""));
    assert_non_null(strstr(json, "\"status\":\"ConfigurationAndSWHardeningNeeded\""));
    assert_non_null(strstr(json, "\"advisory_ids\":[\"INTEL-SA-00289\",\"INTEL-SA-00615\"]"));
    assert_non_null(strstr(json, "\"report_data\":\"48656c6c6f2c20776f726c6421"));
    free(json);
    verify_ctx_free(ctx);
    tv_free(&v);
}


/* ---- certification data types 1-4 (quote-format §1.5) ----
 * The QVL sample is a v3 quote with type-1 data. Certification data is not
 * covered by any signature (§1.6: the ISV signature covers [0, 432), the QE
 * report signature the QE report), so the same quote with type-2, -3 or -4
 * data verifies exactly as the original, given the PCK chain. */
static const char QVL_SAMPLE[] = "intelqvl-sample-sgx-v3-testroot";

/* §1.4 (v3): QE auth data size u16 @1012, data @1014, then cert type u16,
 * cert size u32, cert data. */
static size_t cert_type_offset(const uint8_t *q)
{
    return 1014 + (size_t)(q[1012] | q[1013] << 8);
}

/* The PEM block of `pem` whose subject CN contains `cn` (parsed with
 * src/crypto, not with the verifier), as a NUL-terminated copy. */
static char *pem_block_with_cn(const char *pem, size_t len, const char *cn)
{
    static const char BEGIN[] = "-----BEGIN CERTIFICATE-----", END[] = "-----END CERTIFICATE-----";
    const char *p = pem, *stop = pem + len;
    while ((p = strstr(p, BEGIN)) != NULL && p < stop) {
        const char *e = strstr(p, END);
        assert_non_null(e);
        size_t n = (size_t)(e + strlen(END) - p);
        x509_cert *c = NULL;
        char name[160];
        assert_int_equal(x509_cert_from_pem(p, n, &c), 0);
        assert_int_equal(x509_cert_subject_cn(c, name, sizeof name), 0);
        x509_cert_free(c);
        if (strstr(name, cn) != NULL) {
            char *out = malloc(n + 2);
            assert_non_null(out);
            memcpy(out, p, n);
            out[n] = '\n';
            out[n + 1] = '\0';
            return out;
        }
        p = e;
    }
    fail_msg("no certificate with CN '%s'", cn);
    return NULL;
}

/* The sample rebuilt by quote_v3_build from its parsed pieces, with other
 * certification data. */
static uint8_t *rebuild(const test_vector *v, uint16_t type, const uint8_t *data, size_t len,
                        size_t *out_len)
{
    quote_view q;
    assert_int_equal(quote_parse(v->quote, v->quote_len, &q), 0);
    quote_v3_spec spec = {
        .qe_svn = q.header.qe_svn,
        .pce_svn = q.header.pce_svn,
        .app_report = &q.sgx_body,
        .qe_report = &q.qe_report,
        .qe_report_sig = q.qe_report_sig,
        .attest_pub_key = q.attest_pub_key,
        .qe_auth_data = q.qe_auth_data,
        .qe_auth_data_len = q.qe_auth_data_len,
        .cert_type = type,
        .cert_data = data,
        .cert_data_len = (uint32_t)len,
    };
    memcpy(spec.qe_id, q.header.user_data, sizeof spec.qe_id);
    size_t need = 0;
    assert_int_equal(quote_v3_build(&spec, NULL, 0, &need), QUOTE_E_BUFFER_TOO_SMALL);
    uint8_t *out = malloc(need);
    assert_non_null(out);
    assert_int_equal(quote_v3_build(&spec, out, need, out_len), 0);
    /* The builder writes user_data[16..20) as zero (§1.2: QE_ID ‖ 0^4); the
     * sample has other bytes there, and they are signed: keep the
     * original's. Then the original ISV signature. */
    memcpy(out + 28, v->quote + 28, 20);
    quote_v3_set_signature(out, q.isv_sig);

    /* Independently of the builder: everything up to the certification data
     * is the original's, except signature_data_len @432 = 584 + A + C. */
    size_t off = cert_type_offset(v->quote);
    assert_int_equal(*out_len, off + 6 + len);
    assert_memory_equal(out, v->quote, 432);
    assert_memory_equal(out + 436, v->quote + 436, off - 436);
    size_t a = off - 1014, n = 584 + a + len;
    assert_int_equal(out[432] | out[433] << 8 | out[434] << 16 | (uint32_t)out[435] << 24, n);
    assert_int_equal(out[off] | out[off + 1] << 8, type);
    assert_memory_equal(out + off + 6, data, len);
    return out;
}

static void verify_rebuilt(const test_vector *v, const uint8_t *quote, size_t len,
                           const char *pck_chain_pem, size_t pem_len, uint16_t want_type,
                           verify_result *r)
{
    verify_ctx *ctx;
    assert_int_equal(verify_ctx_new(&ctx), 0);
    assert_int_equal(verify_ctx_set_root(ctx, v->root, v->root_len), 0);
    verify_collateral coll = v->coll; /* shallow: only pck_chain is replaced */
    coll.pck_chain = NULL;
    coll.pck_chain_len = 0;
    /* as `--pck-chain FILE` does */
    if (pck_chain_pem != NULL)
        assert_int_equal(verify_collateral_set_text(&coll.pck_chain, &coll.pck_chain_len,
                                                    pck_chain_pem, pem_len), 0);
    verify_options opt;
    verify_options_default(&opt); /* UpToDate only */
    opt.now = v->pinned_time;
    assert_int_equal(verify_quote(ctx, quote, len, &coll, &opt, r), 0);
    assert_int_equal(r->cert_type, want_type);
    free(coll.pck_chain);
    verify_ctx_free(ctx);
}

static void expect_up_to_date(const verify_result *r, const char *what)
{
    if (r->verdict != VERIFY_VERDICT_OK)
        fail_msg("%s: %s (%s)", what, verify_verdict_name(r->verdict), r->reason);
    /* README: the QVL sample is UpToDate without advisories */
    assert_int_equal(r->status, VERIFY_TCB_UP_TO_DATE);
    assert_int_equal(r->n_advisories, 0);
    assert_int_equal(r->checks[VERIFY_CHECK_QE_REPORT_SIGNATURE].outcome, VERIFY_OUTCOME_PASS);
    assert_int_equal(r->checks[VERIFY_CHECK_QUOTE_SIGNATURE].outcome, VERIFY_OUTCOME_PASS);
}

static void test_cert_data_types(void **state)
{
    (void)state;
    test_vector v;
    char path[1200];
    size_t chain_len, qlen;
    verify_result r;
    tv_load(&v, QVL_SAMPLE);
    tv_path(path, sizeof path, QVL_SAMPLE, "pck_chain.pem");
    char *chain = (char *)ts_read_file(path, &chain_len);
    assert_non_null(chain);

    /* The original: type 1 in the older 34-byte form (§1.5), PPID ‖ CPUSVN ‖ PCESVN. */
    size_t off = cert_type_offset(v.quote);
    assert_int_equal(v.quote[off] | v.quote[off + 1] << 8, 1);
    assert_int_equal(v.quote[off + 2] | v.quote[off + 3] << 8, 34);
    const uint8_t *t1 = v.quote + off + 6;
    verify_rebuilt(&v, v.quote, v.quote_len, chain, chain_len, 1, &r);
    expect_up_to_date(&r, "type 1");

    /* Types 2 and 3: RSA-OAEP(PPID) ‖ CPUSVN(16) ‖ PCESVN(2) ‖ PCEID(2), 276 / 404 bytes.
     * The ciphertext is opaque to a verifier; any bytes do. */
    static const struct {
        uint16_t type;
        size_t rsa_len, total;
    } PPID_ENC[] = {{2, 256, 276}, {3, 384, 404}};
    for (size_t i = 0; i < 2; i++) {
        uint8_t data[404];
        size_t n = PPID_ENC[i].rsa_len;
        for (size_t k = 0; k < n; k++)
            data[k] = (uint8_t)(0xA5 ^ k);
        memcpy(data + n, t1 + 16, 16);     /* CPUSVN */
        memcpy(data + n + 16, t1 + 32, 2); /* PCESVN */
        data[n + 18] = 0;                  /* PCEID 0000 (the TCB info's pceId) */
        data[n + 19] = 0;
        assert_int_equal(n + 20, PPID_ENC[i].total);
        uint8_t *q = rebuild(&v, PPID_ENC[i].type, data, n + 20, &qlen);
        verify_rebuilt(&v, q, qlen, chain, chain_len, PPID_ENC[i].type, &r);
        expect_up_to_date(&r, PPID_ENC[i].type == 2 ? "type 2" : "type 3");

        /* without the PCK chain: named, with the fix */
        verify_rebuilt(&v, q, qlen, NULL, 0, PPID_ENC[i].type, &r);
        assert_int_equal(r.verdict, VERIFY_VERDICT_INVALID);
        assert_int_equal(r.failed_check, VERIFY_CHECK_COLLATERAL_FORMAT);
        assert_non_null(strstr(r.reason, "no PCK chain"));
        assert_non_null(strstr(r.hint, "--pck-chain FILE"));
        free(q);
    }

    /* Type 4: the PCK leaf (PEM) in the quote, the chain supplied; the
     * quote's certificate must be the supplied leaf. */
    char *leaf = pem_block_with_cn(chain, chain_len, "SGX PCK Certificate");
    uint8_t *q = rebuild(&v, 4, (const uint8_t *)leaf, strlen(leaf), &qlen);
    verify_rebuilt(&v, q, qlen, chain, chain_len, 4, &r);
    expect_up_to_date(&r, "type 4");
    free(q);
    /* another certificate in the quote (the PCK CA): refused at pck-chain */
    char *ca = pem_block_with_cn(chain, chain_len, "SGX PCK Processor CA");
    q = rebuild(&v, 4, (const uint8_t *)ca, strlen(ca), &qlen);
    verify_rebuilt(&v, q, qlen, chain, chain_len, 4, &r);
    assert_int_equal(r.verdict, VERIFY_VERDICT_INVALID);
    assert_int_equal(r.failed_check, VERIFY_CHECK_PCK_CHAIN);
    assert_non_null(strstr(r.reason, "is not the supplied PCK chain's"));
    assert_non_null(strstr(r.reason, "Intel SGX PCK Processor CA"));
    free(q);
    /* no certificate at all in type-4 data */
    q = rebuild(&v, 4, t1, 34, &qlen);
    verify_rebuilt(&v, q, qlen, chain, chain_len, 4, &r);
    assert_int_equal(r.failed_check, VERIFY_CHECK_PCK_CHAIN);
    assert_non_null(strstr(r.reason, "must hold exactly one PEM certificate"));
    free(q);
    free(ca);
    free(leaf);
    free(chain);
    tv_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_root_is_intel),
        cmocka_unit_test(test_table_dir_vector_root),
        cmocka_unit_test(test_table_qvl_json),
        cmocka_unit_test(test_table_without_cache),
        cmocka_unit_test(test_intel_vectors_with_intel_root),
        cmocka_unit_test(test_other_root_rejected_by_name),
        cmocka_unit_test(test_revoking_pck_crl),
        cmocka_unit_test(test_identity_reported),
        cmocka_unit_test(test_cert_data_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
