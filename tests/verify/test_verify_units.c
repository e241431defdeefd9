/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the verifier's pieces: the raw-body scanner (§6.5), the
 * collateral envelopes and CRL encodings (§6.1), TCB info / QE identity
 * parsing (§6.2, §6.4), TCB level matching (§6.3), QVL's status
 * convergence (§7.5), the --accept parser, the PCCS response headers
 * (§6.1, pccs_parse.c) and the hints of rejections. Expected values are
 * written out from the spec (and RFC 3986 §2.1 for percent-encoding).
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "sgxqh/verify.h"
#include "vectors.h"
#include "verify/pccs_parse.h"
#include "verify/verify_internal.h"

static void expect_span(const char *doc, const char *key, const char *want)
{
    size_t off = 0, len = 0;
    int rc = verify_json_value_span(doc, strlen(doc), key, &off, &len);
    if (want == NULL) {
        assert_int_not_equal(rc, 0);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(doc + off, want, len);
}

static void test_json_value_span(void **state)
{
    (void)state;
    expect_span("{\"a\":1,\"tcbInfo\":{\"x\":\"}\\\"{\",\"y\":[1,{\"z\":2}]},\"signature\":\"ab\"}",
                "tcbInfo", "{\"x\":\"}\\\"{\",\"y\":[1,{\"z\":2}]}");
    expect_span("{ \"tcbInfo\" :  {\"a\": 1 }\n, \"signature\":\"00\"}", "tcbInfo", "{\"a\": 1 }");
    expect_span("{\"signature\":\"00\",\"enclaveIdentity\":{\"id\":\"QE\"}}", "enclaveIdentity",
                "{\"id\":\"QE\"}");
    expect_span("{\"n\":-1.5e3,\"k\":true,\"tcbInfo\":null}", "tcbInfo", "null");
    /* a key nested deeper is not a top-level key */
    expect_span("{\"x\":{\"tcbInfo\":{}}}", "tcbInfo", NULL);
    /* duplicate key: ambiguous, refused */
    expect_span("{\"tcbInfo\":{},\"tcbInfo\":{\"a\":1}}", "tcbInfo", NULL);
    /* escaped spelling is a different key to the scanner */
    expect_span("{\"tcb\\u0049nfo\":{}}", "tcbInfo", NULL);
    expect_span("{\"tcbInfo\":{}} trailing", "tcbInfo", NULL);
    expect_span("{\"tcbInfo\":{\"a\":[1,2}}", "tcbInfo", NULL);
    expect_span("{\"tcbInfo\":{\"a\":\"unterminated}}", "tcbInfo", NULL);
    expect_span("{\"tcbInfo\":{},}", "tcbInfo", NULL);
    expect_span("[\"tcbInfo\"]", "tcbInfo", NULL);
    expect_span("{}", "tcbInfo", NULL);
    expect_span("", "tcbInfo", NULL);
    /* nesting beyond the scanner's depth limit */
    char deep[400];
    size_t n = 0;
    n += (size_t)sprintf(deep, "{\"tcbInfo\":");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    expect_span(deep, "tcbInfo", NULL);
}

static void test_envelope_keeps_exact_bytes(void **state)
{
    (void)state;
    /* Odd spacing and key order inside the body must survive verbatim. */
    static const char DOC[] =
        "{\"tcbInfo\": {\"b\" : 2,  \"a\":1},\n \"signature\": \""
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3F\"}";
    verify_collateral c = {0};
    char err[256] = "";
    assert_int_equal(verify_collateral_set_tcb_info_doc(&c, DOC, strlen(DOC), err, sizeof err), 0);
    assert_int_equal(c.tcb_info_len, strlen("{\"b\" : 2,  \"a\":1}"));
    assert_memory_equal(c.tcb_info, "{\"b\" : 2,  \"a\":1}", c.tcb_info_len);
    for (int i = 0; i < 64; i++)
        assert_int_equal(c.tcb_info_signature[i], i);

    static const char BAD_SIG[] = "{\"tcbInfo\":{},\"signature\":\"abcd\"}";
    assert_int_not_equal(verify_collateral_set_tcb_info_doc(&c, BAD_SIG, strlen(BAD_SIG), err,
                                                            sizeof err), 0);
    assert_non_null(strstr(err, "signature"));
    static const char WRONG_KEY[] = "{\"tcbInfo\":{},\"signature\":\"00\"}";
    assert_int_not_equal(verify_collateral_set_qe_identity_doc(&c, WRONG_KEY, strlen(WRONG_KEY),
                                                               err, sizeof err), 0);
    verify_collateral_free(&c);
}

static void test_crl_encodings(void **state)
{
    (void)state;
    char path[1200];
    size_t der_len;
    tv_path(path, sizeof path, "dcapqvl-sgx-v3", "pck_crl.der");
    uint8_t *der = ts_read_file(path, &der_len);
    assert_non_null(der);

    /* hex (what PCCS /rootcacrl and QuoteCollateralV3 carry) */
    char *hex = malloc(2 * der_len + 2);
    for (size_t i = 0; i < der_len; i++)
        sprintf(hex + 2 * i, "%02X", der[i]);
    strcat(hex, "\n");
    /* PEM, base64 by OpenSSL's encoder */
    size_t b64_cap = 4 * ((der_len + 2) / 3) + 1;
    char *b64 = malloc(b64_cap);
    EVP_EncodeBlock((unsigned char *)b64, der, (int)der_len);
    size_t pem_cap = b64_cap + 128;
    char *pem = malloc(pem_cap);
    snprintf(pem, pem_cap, "-----BEGIN X509 CRL-----\n%s\n-----END X509 CRL-----\n", b64);

    const char *inputs[3] = {(const char *)der, hex, pem};
    size_t lens[3] = {der_len, strlen(hex), strlen(pem)};
    for (int i = 0; i < 3; i++) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        assert_int_equal(verify_collateral_set_crl(&out, &out_len, (const uint8_t *)inputs[i],
                                                   lens[i]),
                         0);
        assert_int_equal(out_len, der_len);
        assert_memory_equal(out, der, der_len);
        free(out);
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_not_equal(verify_collateral_set_crl(&out, &out_len, (const uint8_t *)"xyz", 3), 0);
    assert_int_not_equal(verify_collateral_set_crl(&out, &out_len, (const uint8_t *)"abc", 3), 0);
    assert_null(out);
    free(der);
    free(hex);
    free(b64);
    free(pem);
}

static void test_status_names_and_accept(void **state)
{
    (void)state;
    /* quote-format §6.2: the seven tcbStatus spellings */
    static const char *const NAMES[] = {"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                                        "ConfigurationAndSWHardeningNeeded", "OutOfDate",
                                        "OutOfDateConfigurationNeeded", "Revoked"};
    for (size_t i = 0; i < 7; i++) {
        verify_tcb_status s;
        assert_int_equal(verify_tcb_status_parse(NAMES[i], &s), 0);
        assert_string_equal(verify_tcb_status_name(s), NAMES[i]);
    }
    verify_tcb_status s;
    assert_int_not_equal(verify_tcb_status_parse("uptodate", &s), 0);
    assert_int_not_equal(verify_tcb_status_parse("TCB_OK", &s), 0);

    unsigned set = 0;
    assert_int_equal(verify_accept_parse("UpToDate,SWHardeningNeeded", &set), 0);
    assert_int_equal(set, VERIFY_TCB_BIT(VERIFY_TCB_UP_TO_DATE) |
                              VERIFY_TCB_BIT(VERIFY_TCB_SW_HARDENING_NEEDED));
    assert_int_not_equal(verify_accept_parse("UpToDate,Revoked", &set), 0);
    assert_int_not_equal(verify_accept_parse("", &set), 0);
    assert_int_not_equal(verify_accept_parse("UpToDate,,OutOfDate", &set), 0);
    assert_int_not_equal(verify_accept_parse("Bogus", &set), 0);

    verify_options opt;
    verify_options_default(&opt);
    assert_int_equal(opt.accepted, VERIFY_TCB_BIT(VERIFY_TCB_UP_TO_DATE));
    assert_false(opt.allow_debug);
    assert_true(opt.now > 1700000000);
}

/* quote-format §7.5, QVL's convergence. */
static void test_convergence(void **state)
{
    (void)state;
    const verify_tcb_status U = VERIFY_TCB_UP_TO_DATE, SW = VERIFY_TCB_SW_HARDENING_NEEDED,
                            C = VERIFY_TCB_CONFIGURATION_NEEDED,
                            CSW = VERIFY_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
                            O = VERIFY_TCB_OUT_OF_DATE,
                            OC = VERIFY_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
                            R = VERIFY_TCB_REVOKED;
    const verify_tcb_status PLATFORMS[] = {U, SW, C, CSW, O, OC, R};
    /* QE out of date */
    const verify_tcb_status WITH_QE_OOD[] = {O, O, OC, OC, O, OC, R};
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(converge_with_qe(PLATFORMS[i], O), WITH_QE_OOD[i]);
        /* any non-UpToDate, non-Revoked QE level counts as "out of date" */
        assert_int_equal(converge_with_qe(PLATFORMS[i], OC), WITH_QE_OOD[i]);
        assert_int_equal(converge_with_qe(PLATFORMS[i], R), R);
        assert_int_equal(converge_with_qe(PLATFORMS[i], U), PLATFORMS[i]);
        /* TDX module: only OutOfDate and Revoked change the level's status */
        assert_int_equal(converge_with_tdx_module(PLATFORMS[i], O), WITH_QE_OOD[i]);
        assert_int_equal(converge_with_tdx_module(PLATFORMS[i], R), R);
        assert_int_equal(converge_with_tdx_module(PLATFORMS[i], U), PLATFORMS[i]);
        assert_int_equal(converge_with_tdx_module(PLATFORMS[i], SW), PLATFORMS[i]);
    }
}

#define COMPS(a, b) "[{\"svn\":" #a "},{\"svn\":" #b "},{\"svn\":0},{\"svn\":0},{\"svn\":0},"   \
    "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"       \
    "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}]"
#define LEVEL(a, b, pce, status, extra) "{\"tcb\":{\"sgxtcbcomponents\":" COMPS(a, b)           \
    ",\"pcesvn\":" #pce extra "},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"" status "\"}"
#define HEAD(id) "{\"id\":\"" id "\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","      \
    "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00a067110000\",\"pceId\":\"0000\","     \
    "\"tcbType\":0,\"tcbEvaluationDataNumber\":17,"

static void test_tcb_level_matching(void **state)
{
    (void)state;
    /* Deliberately not in descending order: matching must sort (§6.3 step 1). */
    static const char BODY[] = HEAD("SGX") "\"tcbLevels\":["
        LEVEL(2, 2, 10, "OutOfDate", "") ","
        LEVEL(3, 3, 5, "SWHardeningNeeded", "") ","
        LEVEL(3, 3, 11, "UpToDate", "") ","
        LEVEL(3, 2, 11, "ConfigurationNeeded", "") "]}";
    tcb_info t;
    char err[256] = "";
    if (tcb_info_parse(BODY, strlen(BODY), &t, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(t.n_levels, 4);
    assert_int_equal(t.eval_number, 17);
    uint8_t comp[16] = {3, 3};
    int i = tcb_info_match_sgx(&t, comp, 11);
    assert_true(i >= 0);
    assert_int_equal(t.levels[i].status, VERIFY_TCB_UP_TO_DATE);
    i = tcb_info_match_sgx(&t, comp, 7);
    assert_int_equal(t.levels[i].status, VERIFY_TCB_SW_HARDENING_NEEDED);
    comp[1] = 2;
    i = tcb_info_match_sgx(&t, comp, 11);
    assert_int_equal(t.levels[i].status, VERIFY_TCB_CONFIGURATION_NEEDED);
    comp[0] = 2;
    i = tcb_info_match_sgx(&t, comp, 10);
    assert_int_equal(t.levels[i].status, VERIFY_TCB_OUT_OF_DATE);
    assert_int_equal(tcb_info_match_sgx(&t, comp, 9), -1);
    comp[0] = 1;
    assert_int_equal(tcb_info_match_sgx(&t, comp, 100), -1);
    /* a single component below is enough to skip a level */
    uint8_t high[16] = {255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0};
    assert_true(tcb_info_match_sgx(&t, high, 11) >= 0);
    tcb_info_free(&t);
}

#define TDX_LEVEL(t0, t1, t2, status) "{\"tcb\":{\"sgxtcbcomponents\":" COMPS(1, 1)              \
    ",\"pcesvn\":1,\"tdxtcbcomponents\":[{\"svn\":" #t0 "},{\"svn\":" #t1 "},{\"svn\":" #t2      \
    "},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"     \
    "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}]},"                  \
    "\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"" status "\"}"

static void test_tdx_level_matching(void **state)
{
    (void)state;
    static const char BODY[] = HEAD("TDX")
        "\"tdxModule\":{\"mrsigner\":\"" "000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000\",\"attributes\":\"0000000000000000\","
        "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tcbLevels\":["
        TDX_LEVEL(5, 0, 3, "UpToDate") "," TDX_LEVEL(5, 0, 2, "OutOfDate") "]}";
    tcb_info t;
    char err[256] = "";
    if (tcb_info_parse(BODY, strlen(BODY), &t, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(t.has_tdx_module);
    uint8_t comp[16] = {1, 1}, tee[16] = {5, 0, 3};
    int si, ti;
    tcb_info_match_tdx(&t, comp, 1, tee, &si, &ti);
    assert_int_equal(t.levels[ti].status, VERIFY_TCB_UP_TO_DATE);
    tee[2] = 2;
    tcb_info_match_tdx(&t, comp, 1, tee, &si, &ti);
    assert_int_equal(t.levels[ti].status, VERIFY_TCB_OUT_OF_DATE);
    assert_true(si >= 0);
    tee[0] = 4; /* module SVN below every level, module version 0: no TDX level */
    tcb_info_match_tdx(&t, comp, 1, tee, &si, &ti);
    assert_int_equal(ti, -1);
    assert_true(si >= 0);
    tee[1] = 1; /* with a module version the first two bytes are not compared */
    tcb_info_match_tdx(&t, comp, 1, tee, &si, &ti);
    assert_int_equal(t.levels[ti].status, VERIFY_TCB_OUT_OF_DATE);
    tcb_info_free(&t);
}

static void expect_tcb_info_error(const char *body, const char *field)
{
    tcb_info t;
    char err[256] = "";
    assert_int_not_equal(tcb_info_parse(body, strlen(body), &t, err, sizeof err), 0);
    if (strstr(err, field) == NULL)
        fail_msg("error '%s' does not name '%s'", err, field);
}

static void test_tcb_info_errors(void **state)
{
    (void)state;
    expect_tcb_info_error(HEAD("SGX") "\"tcbLevels\":[]}", "tcbLevels");
    expect_tcb_info_error("{\"id\":\"SGX\",\"version\":4}", "version");
    expect_tcb_info_error(HEAD("XYZ") "\"tcbLevels\":[]}", "XYZ");
    expect_tcb_info_error(HEAD("SGX") "\"tcbLevels\":[" LEVEL(1, 1, 1, "Bogus", "") "]}", "Bogus");
    expect_tcb_info_error(HEAD("SGX") "\"tcbLevels\":[" LEVEL(1, 1, 1, "UpToDate", "") ","
                          LEVEL(1, 1, 1, "OutOfDate", "") "]}", "twice");
    expect_tcb_info_error(HEAD("SGX") "\"tcbLevels\":[" LEVEL(1, 300, 1, "UpToDate", "") "]}",
                          "sgxtcbcomponents");
    expect_tcb_info_error("{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01 00:00:00\"}",
                          "issueDate");
    expect_tcb_info_error("{\"version\":3,\"version\":3}", "JSON");
    expect_tcb_info_error(HEAD("SGX") "\"tdxModule\":{},\"tcbLevels\":[]}", "TDX");
}

static void test_qe_identity_parse(void **state)
{
    (void)state;
    static const char BODY[] =
        "{\"id\":\"QE\",\"version\":2,\"issueDate\":\"2025-06-19T10:01:18Z\",\"nextUpdate\":"
        "\"2025-07-19T10:01:18Z\",\"tcbEvaluationDataNumber\":17,\"miscselect\":\"D182B18C\","
        "\"miscselectMask\":\"FFFFFFFF\",\"attributes\":\"11000000000000000000000000000000\","
        "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":"
        "\"8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF\",\"isvprodid\":1,"
        "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":"
        "\"UpToDate\"},{\"tcb\":{\"isvsvn\":6},\"tcbDate\":\"2021-11-10T00:00:00Z\",\"tcbStatus\":"
        "\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-00615\"]}]}";
    qe_identity q;
    char err[256] = "";
    if (qe_identity_parse(BODY, strlen(BODY), &q, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(q.id, "QE");
    assert_int_equal(q.isvprodid, 1);
    static const uint8_t MISC[4] = {0xd1, 0x82, 0xb1, 0x8c};
    assert_memory_equal(q.miscselect, MISC, 4);
    assert_int_equal(q.mrsigner[0], 0x8c);
    assert_int_equal(q.n_levels, 2);
    /* §6.4: first level in JSON order with isvsvn <= the report's */
    assert_int_equal(isvsvn_match(q.levels, q.n_levels, 10), 0);
    assert_int_equal(isvsvn_match(q.levels, q.n_levels, 8), 0);
    assert_int_equal(isvsvn_match(q.levels, q.n_levels, 7), 1);
    assert_int_equal(isvsvn_match(q.levels, q.n_levels, 5), -1);
    assert_int_equal(q.levels[1].adv.n, 1);
    assert_string_equal(q.levels[1].adv.id[0], "INTEL-SA-00615");
    qe_identity_free(&q);

    assert_int_not_equal(qe_identity_parse("{\"id\":\"QE\"}", 11, &q, err, sizeof err), 0);
    assert_non_null(strstr(err, "version"));
}

static void test_collateral_loaders_errors(void **state)
{
    (void)state;
    verify_collateral c = {0};
    char err[512] = "";
    assert_int_equal(verify_collateral_load_dir("/nonexistent-dir", &c, err, sizeof err),
                     VERIFY_E_IO);
    assert_non_null(strstr(err, "/nonexistent-dir/tcb_info.json"));
    static const char NOT_OBJ[] = "[1,2]";
    assert_int_equal(verify_collateral_load_qvl_json(NOT_OBJ, strlen(NOT_OBJ), &c, err, sizeof err),
                     VERIFY_E_FORMAT);
    static const char MISSING[] = "{\"pck_crl_issuer_chain\":\"x\"}";
    assert_int_equal(verify_collateral_load_qvl_json(MISSING, strlen(MISSING), &c, err, sizeof err),
                     VERIFY_E_FORMAT);
    assert_non_null(strstr(err, "tcb_info_issuer_chain"));

    /* A quote verified against empty collateral names what is missing. */
    verify_ctx *ctx;
    assert_int_equal(verify_ctx_new(&ctx), 0);
    test_vector v;
    tv_load(&v, "dcapqvl-sgx-v3");
    verify_options opt;
    verify_options_default(&opt);
    verify_result r;
    assert_int_equal(verify_quote(ctx, v.quote, v.quote_len, &c, &opt, &r), 0);
    assert_int_equal(r.verdict, VERIFY_VERDICT_INVALID);
    assert_int_equal(r.failed_check, VERIFY_CHECK_COLLATERAL_FORMAT);
    assert_non_null(strstr(r.reason, "missing"));
    /* ... and says what to do about it */
    assert_non_null(strstr(r.hint, "sgx-quote collateral export"));
    assert_string_equal(r.hint, r.checks[VERIFY_CHECK_COLLATERAL_FORMAT].hint);
    /* and garbage instead of a quote is a quote-format failure */
    static const uint8_t JUNK[1100] = {3, 0, 2, 0};
    assert_int_equal(verify_quote(ctx, JUNK, sizeof JUNK, &v.coll, &opt, &r), 0);
    assert_int_equal(r.verdict, VERIFY_VERDICT_INVALID);
    assert_int_equal(r.failed_check, VERIFY_CHECK_QUOTE_FORMAT);
    assert_non_null(strstr(r.reason, "(QUOTE_E_"));
    /* A quote cut after 100 bytes ends inside the 384-byte report body that
     * starts at 48 (quote-format §1.1): the parser's name for that, as
     * `sgx-quote inspect` prints it, and the pointer to inspect. */
    assert_int_equal(verify_quote(ctx, v.quote, 100, &v.coll, &opt, &r), 0);
    assert_int_equal(r.failed_check, VERIFY_CHECK_QUOTE_FORMAT);
    assert_non_null(strstr(r.reason, "does not parse"));
    assert_non_null(strstr(r.reason, "(QUOTE_E_TRUNCATED)"));
    assert_non_null(strstr(r.hint, "sgx-quote inspect QUOTE"));
    assert_non_null(strstr(r.checks[VERIFY_CHECK_QUOTE_FORMAT].hint, "sgx-quote inspect"));
    /* hints belong to failures only */
    for (int i = VERIFY_CHECK_COLLATERAL_FORMAT; i < VERIFY_CHECK__COUNT; i++)
        assert_string_equal(r.checks[i].hint, "");
    /* a root that is not self-signed is refused */
    char path[1200];
    size_t len;
    tv_path(path, sizeof path, "dcapqvl-sgx-v3", "tcb_chain.pem");
    uint8_t *pem = ts_read_file(path, &len);
    assert_int_equal(verify_ctx_set_root(ctx, pem, len), VERIFY_E_ROOT);
    free(pem);
    tv_free(&v);
    verify_ctx_free(ctx);
}


/* ---- PCCS response headers (quote-format §6.1; pccs_parse.c) ---- */

static const char *const CHAIN_HDRS[] = {"TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"};

/* Expect `line` to match header index `which` with exactly `value`, or
 * (value == NULL) not to match. */
static void expect_header(const char *line, size_t want_which, const char *value)
{
    size_t which = 99, vlen = 12345;
    const char *v = (const char *)&vlen; /* untouched unless it matches */
    int rc = pccs_header_match(line, strlen(line), CHAIN_HDRS, 2, &which, &v, &vlen);
    if (value == NULL) {
        assert_int_equal(rc, 0);
        assert_int_equal(which, 99);
        assert_int_equal(vlen, 12345);
        return;
    }
    if (rc != 1)
        fail_msg("'%s': %d", line, rc);
    assert_int_equal(which, want_which);
    assert_int_equal(vlen, strlen(value));
    assert_memory_equal(v, value, vlen);
    /* the value points into the line */
    assert_true(v >= line && v + vlen <= line + strlen(line));
}

static void test_pccs_header_match(void **state)
{
    (void)state;
    expect_header("TCB-Info-Issuer-Chain: -----BEGIN%20CERT\r\n", 0, "-----BEGIN%20CERT");
    expect_header("sgx-tcb-info-issuer-chain:abc\r\n", 1, "abc");          /* case, no blank */
    expect_header("TCB-INFO-ISSUER-CHAIN:\t  a b \t\r\n", 0, "a b");     /* inner blank kept */
    expect_header("TCB-Info-Issuer-Chain: x\n", 0, "x");                   /* bare LF */
    expect_header("TCB-Info-Issuer-Chain: x", 0, "x");                      /* no line end */
    expect_header("TCB-Info-Issuer-Chain:\r\n", 0, "");                    /* empty value */
    expect_header("TCB-Info-Issuer-Chain: a:b\r\n", 0, "a:b");             /* first colon */
    expect_header("HTTP/1.1 200 OK\r\n", 0, NULL);                         /* status line */
    expect_header("\r\n", 0, NULL);                                         /* end of headers */
    expect_header("", 0, NULL);
    expect_header("Content-Type: application/json\r\n", 0, NULL);
    expect_header("TCB-Info-Issuer-Chain-X: a\r\n", 0, NULL);              /* longer name */
    expect_header("TCB-Info-Issuer-Chai: a\r\n", 0, NULL);                 /* shorter name */
    expect_header("TCB-Info-Issuer-Chain : a\r\n", 0, NULL);               /* blank in name */
    expect_header(" TCB-Info-Issuer-Chain: a\r\n", 0, NULL);

    /* a NUL inside the name never matches; inside the value it is kept */
    static const char NUL_NAME[] = "TCB-Info\0Issuer-Chain: a\r\n";
    static const char NUL_VALUE[] = "TCB-Info-Issuer-Chain: a\0b\r\n";
    size_t which, vlen;
    const char *v;
    assert_int_equal(pccs_header_match(NUL_NAME, sizeof NUL_NAME - 1, CHAIN_HDRS, 2, &which, &v,
                                       &vlen), 0);
    assert_int_equal(pccs_header_match(NUL_VALUE, sizeof NUL_VALUE - 1, CHAIN_HDRS, 2, &which, &v,
                                       &vlen), 1);
    assert_int_equal(vlen, 3);
    assert_memory_equal(v, "a\0b", 3);

    /* only the given length is read: the name would continue past it */
    assert_int_equal(pccs_header_match("TCB-Info-Issuer-Chain: x", 10, CHAIN_HDRS, 2, &which, &v,
                                       &vlen), 0);
    assert_int_equal(pccs_header_match("TCB-Info-Issuer-Chain: xyz", 24, CHAIN_HDRS, 2, &which,
                                       &v, &vlen), 1);
    assert_int_equal(vlen, 1);

    /* a value at the limit is taken, one byte more is refused */
    size_t name_len = strlen("TCB-Info-Issuer-Chain: ");
    char *big = malloc(name_len + PCCS_HEADER_VALUE_MAX + 3);
    assert_non_null(big);
    memcpy(big, "TCB-Info-Issuer-Chain: ", name_len);
    memset(big + name_len, 'A', PCCS_HEADER_VALUE_MAX + 1);
    memcpy(big + name_len + PCCS_HEADER_VALUE_MAX + 1, "\r\n", 2);
    assert_int_equal(pccs_header_match(big, name_len + PCCS_HEADER_VALUE_MAX + 3, CHAIN_HDRS, 2,
                                       &which, &v, &vlen), VERIFY_E_FORMAT);
    big[name_len + PCCS_HEADER_VALUE_MAX] = '\r';
    big[name_len + PCCS_HEADER_VALUE_MAX + 1] = '\n';
    assert_int_equal(pccs_header_match(big, name_len + PCCS_HEADER_VALUE_MAX + 2, CHAIN_HDRS, 2,
                                       &which, &v, &vlen), 1);
    assert_int_equal(vlen, PCCS_HEADER_VALUE_MAX);
    /* an unwanted header is not judged by its size */
    memcpy(big, "Some-Other-Header-Xyz: ", name_len);
    assert_int_equal(pccs_header_match(big, name_len + PCCS_HEADER_VALUE_MAX + 2, CHAIN_HDRS, 2,
                                       &which, &v, &vlen), 0);
    free(big);

    assert_int_equal(pccs_header_match(NULL, 0, CHAIN_HDRS, 2, &which, &v, &vlen),
                     VERIFY_E_INVALID_ARG);
    assert_int_equal(pccs_header_match("a: b", 4, NULL, 0, &which, &v, &vlen),
                     VERIFY_E_INVALID_ARG);
}

static void expect_decoded(const char *in, const char *want, size_t want_len)
{
    char out[64];
    size_t len = 999;
    assert_int_equal(pccs_percent_decode(in, strlen(in), out, sizeof out, &len), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[len], '\0');
    /* in place gives the same */
    char buf[64];
    size_t n = strlen(in);
    memcpy(buf, in, n + 1);
    assert_int_equal(pccs_percent_decode(buf, n, buf, n + 1, &len), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, want_len);
}

static void test_pccs_percent_decode(void **state)
{
    (void)state;
    /* RFC 3986 §2.1: %XX, hex digits in either case */
    expect_decoded("-----BEGIN%20CERTIFICATE-----%0AMIIC", "-----BEGIN CERTIFICATE-----\nMIIC", 32);
    expect_decoded("%2B%2b%2F", "++/", 3);
    expect_decoded("a+b", "a+b", 3);             /* '+' is base64, not a space */
    expect_decoded("%41%4a%4A", "AJJ", 3);
    expect_decoded("%00x", "\0x", 2);
    expect_decoded("%zz%4", "%zz%4", 5);         /* not an escape: kept as is */
    expect_decoded("%", "%", 1);
    expect_decoded("%%41", "%A", 2);
    expect_decoded("%2", "%2", 2);
    expect_decoded("%g1", "%g1", 3);
    expect_decoded("%1g", "%1g", 3);
    expect_decoded("", "", 0);
    expect_decoded("%2541", "%41", 3);           /* decoded once, not twice */

    char out[8];
    size_t len;
    assert_int_equal(pccs_percent_decode("abcdefgh", 8, out, 8, &len), VERIFY_E_INVALID_ARG);
    assert_int_equal(pccs_percent_decode("abcdefg", 7, out, 8, &len), 0);
    assert_int_equal(pccs_percent_decode(NULL, 1, out, 8, &len), VERIFY_E_INVALID_ARG);
    assert_int_equal(pccs_percent_decode(NULL, 0, out, 8, &len), 0);
    assert_int_equal(len, 0);
    char *big = malloc(PCCS_HEADER_VALUE_MAX + 2);
    assert_non_null(big);
    memset(big, '%', PCCS_HEADER_VALUE_MAX + 1);
    assert_int_equal(pccs_percent_decode(big, PCCS_HEADER_VALUE_MAX + 1, big,
                                         PCCS_HEADER_VALUE_MAX + 2, &len), VERIFY_E_FORMAT);
    free(big);
}

/* The strict chain reader (docs/verify.md "Certificate chains"): blocks
 * found exactly, a damaged block an error naming where. */
static void test_pem_strict(void **state)
{
    (void)state;
    static const char B[] = "-----BEGIN CERTIFICATE-----\n", E[] = "-----END CERTIFICATE-----\n";
    const char *blocks[4];
    size_t lens[4], n;
    char err[256], text[512];
    /* two blocks, whitespace and trailing NULs around them */
    int len = snprintf(text, sizeof text, "\n%sQUJD\nREVG\n%s\r\n%sR0hJ\n%s", B, E, B, E);
    text[len] = '\0';
    assert_int_equal(pem_cert_blocks_strict(text, (size_t)len + 1, blocks, lens, 4, &n, err,
                                            sizeof err), 0);
    assert_int_equal(n, 2);
    assert_ptr_equal(blocks[0], text + 1);
    assert_int_equal(lens[0], strlen(B) + 10 + strlen(E) - 1);
    /* a damaged BEGIN line: an error at certificate 2, never skipped */
    len = snprintf(text, sizeof text, "%sQUJD\n%s-----BEGIN CERTIFICATF-----\nR0hJ\n%s", B, E, E);
    assert_int_equal(pem_cert_blocks_strict(text, (size_t)len, blocks, lens, 4, &n, err,
                                            sizeof err), VERIFY_E_FORMAT);
    assert_non_null(strstr(err, "certificate 2 (at byte"));
    assert_int_equal(n, 0);
    /* text between blocks */
    len = snprintf(text, sizeof text, "%sQUJD\n%sBag Attributes\n%sR0hJ\n%s", B, E, B, E);
    assert_int_equal(pem_cert_blocks_strict(text, (size_t)len, blocks, lens, 4, &n, err,
                                            sizeof err), VERIFY_E_FORMAT);
    assert_non_null(strstr(err, "\"Bag Attributes"));
    /* a character that is not base64 inside a block, a damaged END line */
    len = snprintf(text, sizeof text, "%sQU*D\n%s", B, E);
    assert_int_equal(pem_cert_blocks_strict(text, (size_t)len, blocks, lens, 4, &n, err,
                                            sizeof err), VERIFY_E_FORMAT);
    assert_non_null(strstr(err, "certificate 1 (the PEM block at byte 0) is damaged: \"*D"));
    len = snprintf(text, sizeof text, "%sQUJD\n-----END CERTIFICATF-----\n", B);
    assert_int_equal(pem_cert_blocks_strict(text, (size_t)len, blocks, lens, 4, &n, err,
                                            sizeof err), VERIFY_E_FORMAT);
    /* more blocks than the caller takes; none at all */
    len = snprintf(text, sizeof text, "%sQUJD\n%s%sQUJD\n%s", B, E, B, E);
    assert_int_equal(pem_cert_blocks_strict(text, (size_t)len, blocks, lens, 1, &n, err,
                                            sizeof err), VERIFY_E_FORMAT);
    assert_int_equal(pem_cert_blocks_strict("\n \0", 3, blocks, lens, 4, &n, err, sizeof err),
                     VERIFY_E_FORMAT);
    assert_non_null(strstr(err, "no PEM certificate"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_value_span),
        cmocka_unit_test(test_envelope_keeps_exact_bytes),
        cmocka_unit_test(test_crl_encodings),
        cmocka_unit_test(test_status_names_and_accept),
        cmocka_unit_test(test_convergence),
        cmocka_unit_test(test_tcb_level_matching),
        cmocka_unit_test(test_tdx_level_matching),
        cmocka_unit_test(test_tcb_info_errors),
        cmocka_unit_test(test_qe_identity_parse),
        cmocka_unit_test(test_collateral_loaders_errors),
        cmocka_unit_test(test_pccs_header_match),
        cmocka_unit_test(test_pccs_percent_decode),
        cmocka_unit_test(test_pem_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
