/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Negative acceptance tests (tests/vectors/README.md, issue 3): on every
 * vector the verifier accepts, each single corruption is rejected and the
 * rejection names the failing check. Offsets come from quote-format §1–2
 * (computed here from the header's version and TEE type, not from our
 * parser). One context serves all cases, and each vector is first verified
 * intact, so the cache is warm: a cached result must never hide a change.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sgxqh/verify.h"
#include "vectors.h"

static const char *const ACCEPTED[] = {
    "dcapqvl-sgx-v3",           "dcapqvl-tdx-v4",          "intelqvl-sample-sgx-v3-testroot",
    "customroot-dcapqvl-sgx-v3", "synth-sgx-v4-customroot",
};

/* Field offsets by layout (quote-format §1.1–1.4, §2.2, §2.3). */
typedef struct {
    size_t report_data, isv_sig, attest_key, qe_report, qe_report_sig;
} layout;

static layout layout_of(const uint8_t *q)
{
    unsigned version = q[0] | q[1] << 8;
    uint32_t tee = q[4] | q[5] << 8 | (uint32_t)q[6] << 16 | (uint32_t)q[7] << 24;
    size_t body = tee == 0x81 ? 584 : 384;      /* §2.2 */
    size_t report_data_in_body = tee == 0x81 ? 520 : 320; /* §2.3 / §1.3 */
    assert_true(version == 3 || version == 4);
    layout l;
    l.report_data = 48 + report_data_in_body;
    l.isv_sig = 48 + body + 4;
    l.attest_key = l.isv_sig + 64;
    if (version == 3) {
        l.qe_report = l.attest_key + 64;        /* 564 */
        l.qe_report_sig = l.qe_report + 384;    /* 948 */
    } else {
        l.qe_report = l.attest_key + 64 + 6;    /* type(2) + size(4) of the type-6 data */
        l.qe_report_sig = l.qe_report + 384;
    }
    return l;
}

static verify_ctx *g_ctx;
static uint8_t g_root[4096];
static size_t g_root_len;

/* Setting a root empties the cache, so only do it when the root changes. */
static void use_root(const uint8_t *root, size_t len)
{
    if (len == g_root_len && memcmp(root, g_root, len) == 0)
        return;
    assert_true(len <= sizeof g_root);
    assert_int_equal(verify_ctx_set_root(g_ctx, root, len), 0);
    memcpy(g_root, root, len);
    g_root_len = len;
}

static void run(test_vector *v, const uint8_t *quote, const verify_collateral *coll, int64_t now,
                verify_result *r)
{
    verify_options opt;
    verify_options_default(&opt);
    opt.now = now;
    opt.accepted = tv_accept_all();
    use_root(v->root, v->root_len);
    assert_int_equal(verify_quote(g_ctx, quote, v->quote_len, coll, &opt, r), 0);
}

static void expect_rejected(const char *vector, const char *what, const verify_result *r,
                            verify_verdict verdict, verify_check_id check)
{
    if (r->verdict != verdict || r->failed_check != check)
        fail_msg("%s / %s: got %s at %s (%s), expected %s at %s", vector, what,
                 verify_verdict_name(r->verdict), verify_check_name(r->failed_check), r->reason,
                 verify_verdict_name(verdict), verify_check_name(check));
    /* the reason names the check */
    assert_non_null(strstr(r->reason, verify_check_name(check)));
    assert_int_equal(r->checks[check].outcome, VERIFY_OUTCOME_FAIL);
}

static void verify_intact(test_vector *v)
{
    verify_result r;
    run(v, v->quote, &v->coll, v->pinned_time, &r);
    if (r.verdict != VERIFY_VERDICT_OK)
        fail_msg("%s intact: %s", v->dir, r.reason);
}

static void flip_quote(test_vector *v, const char *what, size_t off, verify_check_id check)
{
    verify_result r;
    verify_intact(v);
    assert_true(off < v->quote_len);
    uint8_t *q = malloc(v->quote_len);
    assert_non_null(q);
    memcpy(q, v->quote, v->quote_len);
    q[off] ^= 0x01;
    run(v, q, &v->coll, v->pinned_time, &r);
    expect_rejected(v->dir, what, &r, VERIFY_VERDICT_INVALID, check);
    free(q);
}

static void test_quote_bit_flips(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ACCEPTED / sizeof ACCEPTED[0]; i++) {
        test_vector v;
        tv_load(&v, ACCEPTED[i]);
        layout l = layout_of(v.quote);
        flip_quote(&v, "report data", l.report_data + 5, VERIFY_CHECK_QUOTE_SIGNATURE);
        flip_quote(&v, "ISV signature", l.isv_sig + 10, VERIFY_CHECK_QUOTE_SIGNATURE);
        flip_quote(&v, "attestation key", l.attest_key + 3, VERIFY_CHECK_QE_REPORT_DATA);
        flip_quote(&v, "QE report", l.qe_report + 1, VERIFY_CHECK_QE_REPORT_SIGNATURE);
        flip_quote(&v, "QE report signature", l.qe_report_sig + 40,
                   VERIFY_CHECK_QE_REPORT_SIGNATURE);
        if (v.quote[4] == 0x81) /* TDX: MRSIGNERSEAM @ body+64 (§2.3) is judged before the signature */
            flip_quote(&v, "MRSIGNERSEAM", 48 + 64, VERIFY_CHECK_TDX_MODULE);
        tv_free(&v);
    }
}

/* Change the last digit of "tcbEvaluationDataNumber": still valid JSON,
 * different signed bytes. */
static void edit_body(char *body, size_t len)
{
    static const char KEY[] = "\"tcbEvaluationDataNumber\":";
    char *p = strstr(body, KEY);
    assert_non_null(p);
    p += sizeof KEY - 1;
    char *d = p;
    while (d < body + len && d[1] >= '0' && d[1] <= '9')
        d++;
    assert_true(*d >= '0' && *d <= '9');
    *d = *d == '9' ? '8' : (char)(*d + 1);
}

static void test_collateral_corruptions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ACCEPTED / sizeof ACCEPTED[0]; i++) {
        test_vector v;
        verify_result r;
        tv_load(&v, ACCEPTED[i]);

        verify_intact(&v);
        v.coll.tcb_info_signature[7] ^= 0x10;
        run(&v, v.quote, &v.coll, v.pinned_time, &r);
        expect_rejected(v.dir, "TCB-info signature", &r, VERIFY_VERDICT_INVALID,
                        VERIFY_CHECK_TCB_INFO_SIGNATURE);
        v.coll.tcb_info_signature[7] ^= 0x10;

        verify_intact(&v);
        edit_body(v.coll.tcb_info, v.coll.tcb_info_len);
        run(&v, v.quote, &v.coll, v.pinned_time, &r);
        expect_rejected(v.dir, "TCB-info body", &r, VERIFY_VERDICT_INVALID,
                        VERIFY_CHECK_TCB_INFO_SIGNATURE);
        tv_free(&v);

        tv_load(&v, ACCEPTED[i]);
        verify_intact(&v);
        edit_body(v.coll.qe_identity, v.coll.qe_identity_len);
        run(&v, v.quote, &v.coll, v.pinned_time, &r);
        expect_rejected(v.dir, "QE-identity body", &r, VERIFY_VERDICT_INVALID,
                        VERIFY_CHECK_QE_IDENTITY_SIGNATURE);
        tv_free(&v);

        tv_load(&v, ACCEPTED[i]);
        v.coll.qe_identity_signature[63] ^= 0x01;
        run(&v, v.quote, &v.coll, v.pinned_time, &r);
        expect_rejected(v.dir, "QE-identity signature", &r, VERIFY_VERDICT_INVALID,
                        VERIFY_CHECK_QE_IDENTITY_SIGNATURE);
        tv_free(&v);
    }
}

/* One second past tcbInfo.nextUpdate: reported as expiry of that item, with
 * its time, after every other check passed. */
static void test_past_next_update(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ACCEPTED / sizeof ACCEPTED[0]; i++) {
        test_vector v;
        verify_result r;
        tv_load(&v, ACCEPTED[i]);
        int64_t next = tv_body_date(v.coll.tcb_info, v.coll.tcb_info_len, "nextUpdate");
        run(&v, v.quote, &v.coll, next + 1, &r);
        expect_rejected(v.dir, "past nextUpdate", &r, VERIFY_VERDICT_COLLATERAL_EXPIRED,
                        VERIFY_CHECK_COLLATERAL_TIME);
        bool found = false;
        for (size_t k = 0; k < r.n_time_issues; k++) {
            if (strcmp(r.time_issues[k].item, "tcbInfo") == 0) {
                found = true;
                assert_int_equal(r.time_issues[k].time, next);
                assert_false(r.time_issues[k].not_yet_valid);
            }
        }
        assert_true(found);
        assert_non_null(strstr(r.reason, "tcbInfo expired at"));
        /* the fix: fresh collateral (no clock hint: nothing is early) */
        assert_non_null(strstr(r.hint, "fetch fresh collateral"));
        assert_null(strstr(r.hint, "clock"));
        /* everything cryptographic still held */
        assert_int_equal(r.checks[VERIFY_CHECK_TCB_LEVEL].outcome, VERIFY_OUTCOME_PASS);
        assert_true(r.status != VERIFY_TCB_NONE);
        assert_true(r.earliest_expiration <= next);

        /* and at exactly nextUpdate the TCB info is still valid */
        run(&v, v.quote, &v.coll, next, &r);
        for (size_t k = 0; k < r.n_time_issues; k++)
            assert_string_not_equal(r.time_issues[k].item, "tcbInfo");

        /* one second before issueDate: not yet valid, and the hint is the clock */
        int64_t issued = tv_body_date(v.coll.tcb_info, v.coll.tcb_info_len, "issueDate");
        run(&v, v.quote, &v.coll, issued - 1, &r);
        expect_rejected(v.dir, "before issueDate", &r, VERIFY_VERDICT_COLLATERAL_EXPIRED,
                        VERIFY_CHECK_COLLATERAL_TIME);
        found = false;
        for (size_t k = 0; k < r.n_time_issues; k++) {
            if (strcmp(r.time_issues[k].item, "tcbInfo") == 0) {
                found = true;
                assert_int_equal(r.time_issues[k].time, issued);
                assert_true(r.time_issues[k].not_yet_valid);
            }
        }
        assert_true(found);
        assert_non_null(strstr(r.reason, "tcbInfo is not valid before"));
        assert_non_null(strstr(r.hint, "check the clock"));
        assert_string_equal(r.hint, r.checks[VERIFY_CHECK_COLLATERAL_TIME].hint);
        tv_free(&v);
    }
}

static void test_wrong_root(void **state)
{
    (void)state;
    char other[1200];
    size_t other_len;
    for (size_t i = 0; i < sizeof ACCEPTED / sizeof ACCEPTED[0]; i++) {
        test_vector v;
        verify_result r;
        tv_load(&v, ACCEPTED[i]);
        /* the custom root for Intel-rooted vectors, Intel's for the others */
        bool intel = strncmp(ACCEPTED[i], "dcapqvl-", 8) == 0;
        tv_path(other, sizeof other, intel ? "customroot-dcapqvl-sgx-v3" : NULL,
                intel ? "root.pem" : "intel-sgx-root-ca.pem");
        uint8_t *pem = ts_read_file(other, &other_len);
        assert_non_null(pem);
        free(v.root);
        v.root = pem;
        v.root_len = other_len;
        run(&v, v.quote, &v.coll, v.pinned_time, &r);
        expect_rejected(v.dir, "wrong root", &r, VERIFY_VERDICT_INVALID, VERIFY_CHECK_PCK_CHAIN);
        assert_non_null(strstr(r.reason, "trusted root"));
        assert_non_null(strstr(r.hint, "--root FILE"));
        tv_free(&v);
    }
}

/* Re-sign the synthetic v4 quote (whose attestation key is in keys/) with
 * the DEBUG attribute set: refused by the debug policy unless allowed. The
 * signature is made with OpenSSL directly, independently of our wrappers. */
static void test_debug_enclave_policy(void **state)
{
    (void)state;
    test_vector v;
    verify_result r;
    char key[1200];
    tv_load(&v, "synth-sgx-v4-customroot");
    verify_intact(&v);
    uint8_t *q = malloc(v.quote_len);
    assert_non_null(q);
    memcpy(q, v.quote, v.quote_len);
    q[48 + 48] |= 0x02; /* §1.3: attributes.flags @48 of the body; DEBUG = 0x2 */
    tv_path(key, sizeof key, "synth-sgx-v4-customroot", "keys/attestation.key.pem");
    tv_sign_p256(key, q, 432, q + 436); /* §1.6: [0, 432) signed, r||s @436 */

    run(&v, q, &v.coll, v.pinned_time, &r);
    expect_rejected(v.dir, "debug enclave", &r, VERIFY_VERDICT_DEBUG_ENCLAVE,
                    VERIFY_CHECK_DEBUG_POLICY);
    assert_true(r.identity.debug);
    assert_int_equal(r.checks[VERIFY_CHECK_QUOTE_SIGNATURE].outcome, VERIFY_OUTCOME_PASS);
    assert_non_null(strstr(r.hint, "--allow-debug"));

    verify_options opt;
    verify_options_default(&opt);
    opt.now = v.pinned_time;
    opt.accepted = tv_accept_all();
    opt.allow_debug = true;
    assert_int_equal(verify_quote(g_ctx, q, v.quote_len, &v.coll, &opt, &r), 0);
    assert_int_equal(r.verdict, VERIFY_VERDICT_OK);
    assert_int_equal(r.checks[VERIFY_CHECK_DEBUG_POLICY].outcome, VERIFY_OUTCOME_PASS);
    assert_string_equal(r.hint, "");
    assert_string_equal(r.checks[VERIFY_CHECK_DEBUG_POLICY].hint, "");

    /* the unmodified quote is not debug */
    run(&v, v.quote, &v.coll, v.pinned_time, &r);
    assert_false(r.identity.debug);
    free(q);
    tv_free(&v);
}

static void test_td_identity_offsets(void **state)
{
    (void)state;
    test_vector v;
    verify_result r;
    tv_load(&v, "dcapqvl-tdx-v4");
    run(&v, v.quote, &v.coll, v.pinned_time, &r);
    assert_int_equal(r.verdict, VERIFY_VERDICT_OK);
    assert_true(r.identity.is_td);
    assert_false(r.identity.debug);
    /* quote-format §2.3: td_attributes at body+120, mr_td at +136, report_data at +520 */
    assert_memory_equal(r.identity.td_attributes, v.quote + 48 + 120, 8);
    assert_memory_equal(r.identity.mr_td, v.quote + 48 + 136, 48);
    assert_memory_equal(r.identity.report_data, v.quote + 48 + 520, 64);
    tv_free(&v);
}

/* Collateral edited and re-signed with the custom root's TCB signing key
 * (keys/tcb_signer.key.pem): every signature holds, so the semantic checks
 * and the status convergence (§7.5) decide. */
static char *replaced(const char *body, size_t len, const char *old, const char *new_, size_t *out_len)
{
    const char *at = strstr(body, old);
    if (at == NULL)
        fail_msg("'%s' not in the body", old);
    size_t pre = (size_t)(at - body), ol = strlen(old), nl = strlen(new_);
    if (strcmp(old, "\"tcbLevels\":") == 0) { /* replace everything after it */
        pre += ol;
        ol = len - pre;
    }
    char *out = malloc(len - ol + nl + 1);
    assert_non_null(out);
    memcpy(out, body, pre);
    memcpy(out + pre, new_, nl);
    memcpy(out + pre + nl, at + ol, len - pre - ol);
    *out_len = len - ol + nl;
    out[*out_len] = '\0';
    return out;
}

static void resigned(const char *what, bool tcb, const char *old, const char *new_,
                     verify_verdict verdict, verify_check_id check, verify_tcb_status status,
                     const char *reason_has, const char *hint_has)
{
    static const char V[] = "customroot-dcapqvl-sgx-v3";
    test_vector v;
    verify_result r;
    char key[1200];
    tv_load(&v, V);
    tv_path(key, sizeof key, V, "keys/tcb_signer.key.pem");
    char **body = tcb ? &v.coll.tcb_info : &v.coll.qe_identity;
    size_t *len = tcb ? &v.coll.tcb_info_len : &v.coll.qe_identity_len;
    size_t nlen;
    char *nb = replaced(*body, *len, old, new_, &nlen);
    free(*body);
    *body = nb;
    *len = nlen;
    tv_sign_p256(key, (const uint8_t *)nb, nlen,
                 tcb ? v.coll.tcb_info_signature : v.coll.qe_identity_signature);
    run(&v, v.quote, &v.coll, v.pinned_time, &r);
    if (r.verdict != verdict || (verdict != VERIFY_VERDICT_OK && r.failed_check != check))
        fail_msg("%s: got %s at %s (%s)", what, verify_verdict_name(r.verdict),
                 verify_check_name(r.failed_check), r.reason);
    assert_int_equal(r.checks[tcb ? VERIFY_CHECK_TCB_INFO_SIGNATURE : VERIFY_CHECK_QE_IDENTITY_SIGNATURE]
                         .outcome, VERIFY_OUTCOME_PASS);
    assert_int_equal(r.status, status);
    if (reason_has != NULL && strstr(r.reason, reason_has) == NULL)
        fail_msg("%s: reason '%s' lacks '%s'", what, r.reason, reason_has);
    if (hint_has != NULL && strstr(r.hint, hint_has) == NULL)
        fail_msg("%s: hint '%s' lacks '%s'", what, r.hint, hint_has);
    tv_free(&v);
}

static void test_resigned_collateral(void **state)
{
    (void)state;
    const verify_verdict INVALID = VERIFY_VERDICT_INVALID;
    /* QE identity vs the QE report (§6.4, #16, #17) */
    resigned("QE MRSIGNER", false, "\"mrsigner\":\"8C4F", "\"mrsigner\":\"0C4F", INVALID,
             VERIFY_CHECK_QE_IDENTITY, VERIFY_TCB_NONE, "MRSIGNER", NULL);
    resigned("QE ISVPRODID", false, "\"isvprodid\":1", "\"isvprodid\":2", INVALID,
             VERIFY_CHECK_QE_IDENTITY, VERIFY_TCB_NONE, "ISVPRODID", NULL);
    resigned("QE MISCSELECT", false, "\"miscselect\":\"00000000\"", "\"miscselect\":\"00000001\"",
             INVALID, VERIFY_CHECK_QE_IDENTITY, VERIFY_TCB_NONE, "MISCSELECT", NULL);
    resigned("QE ATTRIBUTES", false, "\"attributes\":\"11", "\"attributes\":\"13", INVALID,
             VERIFY_CHECK_QE_IDENTITY, VERIFY_TCB_NONE, "ATTRIBUTES", NULL);
    resigned("QE id", false, "\"id\":\"QE\"", "\"id\":\"TD_QE\"", INVALID,
             VERIFY_CHECK_QE_IDENTITY, VERIFY_TCB_NONE, "TD_QE", NULL);
    /* TCB info vs the PCK certificate and the TEE (#10, #11) */
    resigned("FMSPC", true, "\"fmspc\":\"00A067110000\"", "\"fmspc\":\"00A067110001\"", INVALID,
             VERIFY_CHECK_TCB_INFO_MATCH, VERIFY_TCB_NONE, "FMSPC",
             "use the TCB info for FMSPC 00a067110000");
    resigned("PCE-ID", true, "\"pceId\":\"0000\"", "\"pceId\":\"0100\"", INVALID,
             VERIFY_CHECK_TCB_INFO_MATCH, VERIFY_TCB_NONE, "PCE-ID", NULL);
    /* §7.5: QE ISVSVN 10 (§1.7) now only reaches the OutOfDate level (isvsvn 6):
     * platform ConfigurationAndSWHardeningNeeded + QE out of date. */
    resigned("QE out of date", false, "\"isvsvn\":8", "\"isvsvn\":11", VERIFY_VERDICT_OK, 0,
             VERIFY_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, NULL, NULL);
    resigned("QE revoked", false, "\"tcbStatus\":\"UpToDate\"", "\"tcbStatus\":\"Revoked\"",
             VERIFY_VERDICT_REVOKED, VERIFY_CHECK_TCB_LEVEL, VERIFY_TCB_REVOKED, "Revoked",
             "update the platform's quoting software");
    resigned("QE below every level", false, "\"tcbLevels\":",
             "[{\"tcb\":{\"isvsvn\":11},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":"
             "\"UpToDate\"}]}", VERIFY_VERDICT_TCB_NOT_SUPPORTED,
             VERIFY_CHECK_TCB_LEVEL, VERIFY_TCB_NONE, "QE ISVSVN",
             "update the platform's quoting software");
}

/* Intel-signed TDX TCB info and TD_QE identity offered for an SGX quote:
 * every signature holds, the id checks refuse them (#10, #16). */
static void test_mixed_tee_collateral(void **state)
{
    (void)state;
    test_vector sgx, tdx;
    verify_result r;
    tv_load(&sgx, "dcapqvl-sgx-v3");
    tv_load(&tdx, "dcapqvl-tdx-v4");
    verify_collateral c = sgx.coll;
    c.tcb_info = tdx.coll.tcb_info;
    c.tcb_info_len = tdx.coll.tcb_info_len;
    memcpy(c.tcb_info_signature, tdx.coll.tcb_info_signature, 64);
    run(&sgx, sgx.quote, &c, sgx.pinned_time, &r);
    expect_rejected("sgx+tdx", "TDX TCB info", &r, VERIFY_VERDICT_INVALID,
                    VERIFY_CHECK_TCB_INFO_MATCH);
    assert_non_null(strstr(r.reason, "TDX"));
    c = sgx.coll;
    c.qe_identity = tdx.coll.qe_identity;
    c.qe_identity_len = tdx.coll.qe_identity_len;
    memcpy(c.qe_identity_signature, tdx.coll.qe_identity_signature, 64);
    run(&sgx, sgx.quote, &c, sgx.pinned_time, &r);
    expect_rejected("sgx+tdx", "TD_QE identity", &r, VERIFY_VERDICT_INVALID,
                    VERIFY_CHECK_QE_IDENTITY);
    assert_non_null(strstr(r.reason, "TD_QE"));
    tv_free(&sgx);
    tv_free(&tdx);
}

static int setup(void **state)
{
    (void)state;
    return verify_ctx_new(&g_ctx);
}

static int teardown(void **state)
{
    (void)state;
    verify_ctx_free(g_ctx);
    return 0;
}

/* ---- issue 11: chains hold exactly their certificates, the root as trusted ---- */

#define MAX_TEST_CERTS 4
typedef struct {
    size_t n;
    uint8_t der[MAX_TEST_CERTS][2048];
    size_t len[MAX_TEST_CERTS];
} test_chain;

/* PEM text → DER certificates, with OpenSSL's base64 (not our parser). */
static void chain_split(const char *pem, test_chain *out)
{
    static const char B[] = "-----BEGIN CERTIFICATE-----", E[] = "-----END CERTIFICATE-----";
    out->n = 0;
    for (const char *p = strstr(pem, B); p != NULL; p = strstr(p, B)) {
        const char *e = strstr(p, E);
        assert_non_null(e);
        char b64[4096];
        size_t k = 0;
        for (const char *c = p + strlen(B); c < e; c++)
            if (*c != '\n' && *c != '\r')
                b64[k++] = *c;
        assert_true(out->n < MAX_TEST_CERTS && k / 4 * 3 <= sizeof out->der[0]);
        int n = EVP_DecodeBlock(out->der[out->n], (const unsigned char *)b64, (int)k);
        assert_true(n > 0);
        size_t pad = (k > 0 && b64[k - 1] == '=') + (k > 1 && b64[k - 2] == '=');
        out->len[out->n++] = (size_t)n - pad;
        p = e;
    }
}

/* DER certificates → PEM text (64-column lines); malloc'd, *len set. */
static char *chain_join(const test_chain *c, size_t *len)
{
    char *out = calloc(1, 16384);
    assert_non_null(out);
    size_t used = 0;
    for (size_t i = 0; i < c->n; i++) {
        char b64[4096];
        int n = EVP_EncodeBlock((unsigned char *)b64, c->der[i], (int)c->len[i]);
        used += (size_t)sprintf(out + used, "-----BEGIN CERTIFICATE-----\n");
        for (int j = 0; j < n; j += 64)
            used += (size_t)sprintf(out + used, "%.*s\n", n - j < 64 ? n - j : 64, b64 + j);
        used += (size_t)sprintf(out + used, "-----END CERTIFICATE-----\n");
    }
    *len = used;
    return out;
}

static void set_tcb_chain(test_vector *v, const test_chain *c)
{
    free(v->coll.tcb_info_issuer_chain);
    v->coll.tcb_info_issuer_chain = chain_join(c, &v->coll.tcb_info_issuer_chain_len);
}

static void expect_chain_rejected(test_vector *v, const char *what, verify_check_id check,
                                  const char *reason_has)
{
    verify_result r;
    run(v, v->quote, &v->coll, v->pinned_time, &r);
    expect_rejected(v->dir, what, &r, VERIFY_VERDICT_INVALID, check);
    if (strstr(r.reason, reason_has) == NULL)
        fail_msg("%s: reason '%s' lacks '%s'", what, r.reason, reason_has);
}

/* The root copy inside a chain, damaged in every way a bit flip can: each
 * one was accepted before (the root was looked up by name and skipped). */
static void test_damaged_chain_root(void **state)
{
    (void)state;
    test_vector v, other;
    test_chain c;
    uint8_t *q;
    tv_load(&v, "customroot-dcapqvl-sgx-v3");
    verify_intact(&v);

    /* the quote's chain: the root's BEGIN line damaged, so the block no
     * longer reads as PEM */
    q = malloc(v.quote_len);
    assert_non_null(q);
    memcpy(q, v.quote, v.quote_len);
    uint8_t *last = NULL;
    for (uint8_t *p = q; (p = memmem(p, v.quote_len - (size_t)(p - q), "-----BEGIN", 10)); p++)
        last = p;
    assert_non_null(last);
    last[5] ^= 0x01; /* 'B' -> 'C' */
    verify_result r;
    run(&v, q, &v.coll, v.pinned_time, &r);
    expect_rejected(v.dir, "root BEGIN line", &r, VERIFY_VERDICT_INVALID,
                    VERIFY_CHECK_QUOTE_FORMAT);
    assert_non_null(strstr(r.reason, "quote's PCK chain"));
    assert_non_null(strstr(r.hint, "take a new quote"));
    last[5] ^= 0x01;

    /* the quote's chain: one base64 character of the root's signature */
    uint8_t *end = memmem(last, v.quote_len - (size_t)(last - q), "-----END", 8);
    assert_non_null(end);
    uint8_t *ch = end - 1;
    while (*ch == '\n' || *ch == '=')
        ch--;
    ch -= 3;
    *ch = *ch == 'A' ? 'B' : 'A';
    run(&v, q, &v.coll, v.pinned_time, &r);
    expect_rejected(v.dir, "root signature", &r, VERIFY_VERDICT_INVALID, VERIFY_CHECK_PCK_CHAIN);
    assert_non_null(strstr(r.reason, "certificate 3 of 3"));
    assert_non_null(strstr(r.reason, "CN=Test SGX Root CA"));
    assert_non_null(strstr(r.reason, "self-signature does not verify"));
    free(q);

    chain_split(v.coll.tcb_info_issuer_chain, &c);
    assert_int_equal(c.n, 2);
    tv_free(&v);

    /* the TCB info chain without its root, with it twice, with the PCK CA in
     * its place */
    tv_load(&v, "customroot-dcapqvl-sgx-v3");
    test_chain m = c;
    m.n = 1;
    set_tcb_chain(&v, &m);
    expect_chain_rejected(&v, "root dropped", VERIFY_CHECK_TCB_INFO_CHAIN,
                          "holds 1 certificate; it must hold exactly 2");
    m = c;
    memcpy(m.der[2], c.der[1], c.len[1]);
    m.len[2] = c.len[1];
    m.n = 3;
    set_tcb_chain(&v, &m);
    expect_chain_rejected(&v, "root twice", VERIFY_CHECK_TCB_INFO_CHAIN, "holds 3 certificates");
    /* the signer twice, in the root's place: identical blocks are one cached
     * object, which must not hide the place the copy took */
    m = c;
    memcpy(m.der[1], c.der[0], c.len[0]);
    m.len[1] = c.len[0];
    set_tcb_chain(&v, &m);
    expect_chain_rejected(&v, "signer twice", VERIFY_CHECK_TCB_INFO_CHAIN,
                          "certificate 2 of 2 (");
    expect_chain_rejected(&v, "signer twice", VERIFY_CHECK_TCB_INFO_CHAIN,
                          "CN=Test SGX TCB Signing') is not a root certificate");
    tv_free(&v);

    tv_load(&v, "customroot-dcapqvl-sgx-v3");
    tv_load(&other, "customroot-dcapqvl-sgx-v3");
    test_chain pq;
    char *text = calloc(1, other.quote_len + 1); /* NUL-terminated for chain_split */
    assert_non_null(text);
    memcpy(text, other.quote, other.quote_len);
    const char *pem = memmem(text, other.quote_len, "-----BEGIN", 10);
    assert_non_null(pem);
    chain_split(pem, &pq);
    free(text);
    assert_int_equal(pq.n, 3);
    m = c;
    memcpy(m.der[1], pq.der[1], pq.len[1]); /* the PCK CA */
    m.len[1] = pq.len[1];
    set_tcb_chain(&v, &m);
    expect_chain_rejected(&v, "CA in the root's place", VERIFY_CHECK_TCB_INFO_CHAIN,
                          "is not a root certificate, yet holds the place of the trusted root");
    tv_free(&other);
    tv_free(&v);

    /* another root with the trusted root's name (Intel's test root, for an
     * Intel-rooted vector) */
    tv_load(&v, "dcapqvl-sgx-v3");
    tv_load(&other, "intelqvl-sample-sgx-v3-testroot");
    test_chain intel, test_root;
    chain_split(v.coll.qe_identity_issuer_chain, &intel);
    chain_split((const char *)other.root, &test_root);
    intel.len[1] = test_root.len[0];
    memcpy(intel.der[1], test_root.der[0], test_root.len[0]);
    free(v.coll.qe_identity_issuer_chain);
    v.coll.qe_identity_issuer_chain = chain_join(&intel, &v.coll.qe_identity_issuer_chain_len);
    expect_chain_rejected(&v, "same-name root", VERIFY_CHECK_QE_IDENTITY_CHAIN,
                          "has the trusted root's name but not its key");
    tv_free(&other);
    tv_free(&v);
}

/* Issue 11 class 2: stricter than QVL, on purpose (docs/verify.md). */
static void test_stricter_than_qvl(void **state)
{
    (void)state;
    test_vector v;
    test_chain c;
    verify_result r;
    /* the outer signatureAlgorithm of the TCB signing certificate differs
     * from tbsCertificate.signature (RFC 5280 §4.1.1.2) */
    tv_load(&v, "customroot-dcapqvl-sgx-v3");
    verify_intact(&v);
    chain_split(v.coll.tcb_info_issuer_chain, &c);
    static const uint8_t ECDSA_SHA256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
                                           0x3d, 0x04, 0x03, 0x02};
    uint8_t *outer = NULL;
    for (uint8_t *p = c.der[0]; (p = memmem(p, c.len[0] - (size_t)(p - c.der[0]), ECDSA_SHA256,
                                            sizeof ECDSA_SHA256)) != NULL; p++)
        outer = p;
    assert_non_null(outer);
    assert_true(outer > c.der[0] + c.len[0] / 2); /* the outer one, after tbsCertificate */
    outer[sizeof ECDSA_SHA256 - 1] = 0x03;        /* ecdsa-with-SHA384 */
    set_tcb_chain(&v, &c);
    run(&v, v.quote, &v.coll, v.pinned_time, &r);
    expect_rejected(v.dir, "outer signatureAlgorithm", &r, VERIFY_VERDICT_INVALID,
                    VERIFY_CHECK_TCB_INFO_CHAIN);
    tv_free(&v);

    /* signature_data_len one more than the signature data holds (§1.1, @432) */
    tv_load(&v, "customroot-dcapqvl-sgx-v3");
    v.quote[432] = (uint8_t)(v.quote[432] + 1);
    run(&v, v.quote, &v.coll, v.pinned_time, &r);
    expect_rejected(v.dir, "signature_data_len", &r, VERIFY_VERDICT_INVALID,
                    VERIFY_CHECK_QUOTE_FORMAT);
    tv_free(&v);
}

/* Issue 14: a context caches parsed certificates and the signatures they
 * were verified with, keyed by the SHA-256 of their DER. After a good chain
 * is cached, the same PCK certificate with one changed signature byte is
 * another key, parsed and verified again, and rejected; and a cached chain
 * is still held to its validity at every call's `now`. */
static void test_cache_after_good_chain(void **state)
{
    (void)state;
    test_vector v;
    verify_result r;
    verify_cache_stats st0, st1;
    verify_options opt;
    verify_ctx *ctx = NULL;
    tv_load(&v, "dcapqvl-sgx-v3");
    assert_int_equal(verify_ctx_new(&ctx), 0);
    assert_int_equal(verify_ctx_set_root(ctx, v.root, v.root_len), 0);
    verify_options_default(&opt);
    opt.now = v.pinned_time;
    opt.accepted = tv_accept_all();

    /* Twice: the second run takes its chain signatures from the cache. */
    assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, &v.coll, &opt, &r), 0);
    assert_int_equal(r.verdict, VERIFY_VERDICT_OK);
    verify_ctx_cache_stats(ctx, &st0);
    /* A cold run verifies each signature once (docs/verify.md "Benchmark"):
     * PCK CA, PCK certificate, both CRLs, the TCB signing certificate, TCB
     * info and QE identity; the TCB signing certificate of the QE identity
     * chain is the same DER, so the second chain finds it verified. */
    assert_int_equal(st0.sig_misses, 7);
    assert_int_equal(st0.sig_hits, 1);
    assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, &v.coll, &opt, &r), 0);
    assert_int_equal(r.verdict, VERIFY_VERDICT_OK);
    verify_ctx_cache_stats(ctx, &st1);
    assert_true(st1.sig_hits > st0.sig_hits);
    assert_int_equal(st1.sig_misses, st0.sig_misses);

    /* The quote's first PEM block is the PCK certificate (checked here with
     * OpenSSL); change one base64 character 20 before its END line, inside
     * the signature value (the DER's last 72 bytes), keeping the length. */
    static const char END[] = "-----END CERTIFICATE-----";
    uint8_t *q = malloc(v.quote_len);
    assert_non_null(q);
    memcpy(q, v.quote, v.quote_len);
    uint8_t *begin = memmem(q, v.quote_len, "-----BEGIN CERTIFICATE-----", 27);
    assert_non_null(begin);
    uint8_t *end = memmem(begin, v.quote_len - (size_t)(begin - q), END, sizeof END - 1);
    assert_non_null(end);
    BIO *bio = BIO_new_mem_buf(begin, (int)(end + sizeof END - 1 - begin));
    X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(leaf);
    char cn[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn);
    assert_non_null(strstr(cn, "SGX PCK Certificate"));
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm), 1);
    int64_t not_after = (int64_t)timegm(&tm);
    X509_free(leaf);
    uint8_t *p = end;
    for (int n = 0; n < 20; p--)
        if (p[-1] != '\n' && p[-1] != '\r' && p[-1] != '=')
            n++;
    p[0] = p[0] == 'A' ? 'B' : 'A';
    assert_int_equal(verify_quote(ctx, q, v.quote_len, &v.coll, &opt, &r), 0);
    expect_rejected(v.dir, "changed PCK certificate after a cached good one", &r,
                    VERIFY_VERDICT_INVALID, VERIFY_CHECK_PCK_CHAIN);
    verify_ctx_cache_stats(ctx, &st0);
    assert_true(st0.sig_misses > st1.sig_misses); /* verified, not looked up */
    free(q);
    /* ... and the intact quote still verifies on the same context. */
    assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, &v.coll, &opt, &r), 0);
    assert_int_equal(r.verdict, VERIFY_VERDICT_OK);

    /* A cached chain past its PCK certificate's notAfter: expired. */
    opt.now = not_after + 1;
    assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, &v.coll, &opt, &r), 0);
    expect_rejected(v.dir, "cached chain past notAfter", &r, VERIFY_VERDICT_COLLATERAL_EXPIRED,
                    VERIFY_CHECK_COLLATERAL_TIME);
    bool found = false;
    for (size_t k = 0; k < r.n_time_issues; k++)
        if (strncmp(r.time_issues[k].item, "pckChain[0]", 11) == 0) {
            found = true;
            assert_int_equal(r.time_issues[k].time, not_after);
            assert_false(r.time_issues[k].not_yet_valid);
        }
    assert_true(found);
    /* at notAfter itself the certificate is still valid */
    opt.now = not_after;
    assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, &v.coll, &opt, &r), 0);
    for (size_t k = 0; k < r.n_time_issues; k++)
        assert_int_not_equal(strncmp(r.time_issues[k].item, "pckChain[0]", 11), 0);
    verify_ctx_free(ctx);
    tv_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_bit_flips),
        cmocka_unit_test(test_collateral_corruptions),
        cmocka_unit_test(test_past_next_update),
        cmocka_unit_test(test_wrong_root),
        cmocka_unit_test(test_debug_enclave_policy),
        cmocka_unit_test(test_td_identity_offsets),
        cmocka_unit_test(test_resigned_collateral),
        cmocka_unit_test(test_mixed_tee_collateral),
        cmocka_unit_test(test_damaged_chain_root),
        cmocka_unit_test(test_stricter_than_qvl),
        cmocka_unit_test(test_cache_after_good_chain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
