/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The call sequences real clients make, end to end against the running
 * daemon: libsgx_dcap_ql's out-of-proc sequence (aesm §7) and Fortanix's
 * (§10) through our libsgx_quote_ex.so.1 loaded with dlopen, Gramine's two
 * raw requests (captures 11 and 12). Every quote must verify with the
 * simulated collateral under @phala/dcap-qvl (an implementation nobody
 * here wrote) and with our own `sgx-quote verify` when that is built. The
 * qe_report_info answer is checked with the app enclave's own report key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "harness.h"
#include "sim/sim.h"
#include "wire/wire.h"

static itest_daemon g_daemon;
static itest_qex g_qex;
static char g_coll_dir[400];

static int setup(void **state)
{
    (void)state;
    itest_daemon_init(&g_daemon);
    if (itest_daemon_start(&g_daemon, NULL) != 0)
        return -1;
    if (itest_qex_open(&g_qex, g_daemon.socket) != 0)
        return -1;
    snprintf(g_coll_dir, sizeof g_coll_dir, "%s/collateral", g_daemon.dir);
    return itest_export_collateral(&g_daemon, g_coll_dir);
}

static int teardown(void **state)
{
    (void)state;
    itest_qex_close(&g_qex);
    return itest_daemon_cleanup(&g_daemon);
}

/* Both verifiers on one quote (exact length). */
static void verify_quote(const uint8_t *quote, size_t len, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", g_daemon.dir, name);
    assert_int_equal(itest_write_file(path, quote, len), 0);
    assert_int_equal(itest_qvl_verify(path, g_coll_dir, "UpToDate"), 0);

    /* Our own verifier too (sgx-quote is built before these tests run:
     * itest_needs). A missing binary or a refusal is a failure. */
    char *cli = itest_build_path("src/cli/sgx-quote");
    char root[512];
    snprintf(root, sizeof root, "%s/root.pem", g_coll_dir);
    char *argv[] = {cli, "verify", path, "--collateral-dir", g_coll_dir, "--root", root, NULL};
    char *out = NULL;
    if (access(cli, X_OK) != 0)
        fail_msg("%s is missing: build the CLI (it verifies the daemon's quotes here)", cli);
    int rc = itest_run(argv, &out);
    if (rc != 0)
        fprintf(stderr, "sgx-quote verify exited %d:\n%s\n", rc, out != NULL ? out : "");
    assert_int_equal(rc, 0);
    free(out);
    free(cli);
}

/* ECDSA_ID = SHA-256(attestation key ‖ auth data 00..1F) (aesm §8.2), from
 * the quote's own attestation key at offset 500 (aesm §6.6). */
static void assert_pub_key_id_matches(const uint8_t pkid[32], const uint8_t *quote)
{
    uint8_t buf[64 + 32], want[32];
    memcpy(buf, quote + 500, 64);
    for (int i = 0; i < 32; i++)
        buf[64 + i] = (uint8_t)i;
    SHA256(buf, sizeof buf, want);
    assert_memory_equal(pkid, want, 32);
}

/* aesm §7: InitQuoteEx(size query with an uninitialised size), full init,
 * GetQuoteSizeEx, GetQuoteEx without qe_report_info. */
static void test_dcap_sequence(void **state)
{
    (void)state;
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    sgx_target_info_t ti;
    memset(&ti, 0, sizeof ti);
    /* What DCAP's stack happens to hold: the captured garbage of 09. */
    size_t size = (size_t)0x7ffc8a3b1e40ULL;
    assert_int_equal(g_qex.init_quote_ex(&kid, &ti, &size, NULL), SGX_SUCCESS);
    assert_int_equal(size, 32);
    uint8_t pkid[32];
    assert_int_equal(g_qex.init_quote_ex(&kid, &ti, &size, pkid), SGX_SUCCESS);
    assert_int_equal(size, 32);

    sgx_report_t report;
    uint8_t rd[64];
    memset(rd, 0xd5, sizeof rd);
    itest_app_report(&ti, rd, &report);
    uint32_t qsize = 0;
    assert_int_equal(g_qex.get_quote_size_ex(&kid, &qsize), SGX_SUCCESS);
    assert_in_range(qsize, 1053, 1052 + 12294);
    uint8_t *quote = calloc(1, qsize);
    assert_non_null(quote);
    assert_int_equal(g_qex.get_quote_ex(&report, &kid, NULL, quote, qsize), SGX_SUCCESS);
    assert_int_equal(itest_quote_len(quote, qsize), qsize);
    assert_memory_equal(quote + 48, &report.body, sizeof report.body);
    assert_pub_key_id_matches(pkid, quote);
    verify_quote(quote, qsize, "dcap");
    free(quote);
}

/* aesm §10 (Fortanix aesm-client): size query without buf_size, init with
 * the returned size, GetQuoteSizeEx, GetQuoteEx with a qe_report_info of
 * nonce ‖ app target info ‖ 432 zero bytes; the QE report is taken from
 * offset 528 of what comes back. */
static void test_fortanix_sequence_and_qe_report(void **state)
{
    (void)state;
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    uint32_t num = 0;
    assert_int_equal(g_qex.get_supported_att_key_id_num(&num), SGX_SUCCESS);
    assert_int_equal(num, 1);
    sgx_att_key_id_ext_t ids[1];
    assert_int_equal(g_qex.get_supported_att_key_ids(ids, num), SGX_SUCCESS);
    assert_memory_equal(ids, &kid, sizeof kid);

    sgx_target_info_t ti;
    size_t size = 0;
    assert_int_equal(g_qex.init_quote_ex(&kid, &ti, &size, NULL), SGX_SUCCESS);
    assert_int_equal(size, 32);
    uint8_t pkid[32];
    assert_int_equal(g_qex.init_quote_ex(&kid, &ti, &size, pkid), SGX_SUCCESS);

    sgx_report_t report;
    itest_app_report(&ti, NULL, &report);
    uint32_t qsize = 0;
    assert_int_equal(g_qex.get_quote_size_ex(&kid, &qsize), SGX_SUCCESS);

    sgx_qe_report_info_t qri;
    memset(&qri, 0, sizeof qri);
    for (int i = 0; i < 16; i++)
        qri.nonce[i] = (uint8_t)(0xa0 + i);
    itest_app_target_info(&qri.app_enclave_target_info);
    sgx_qe_report_info_t sent = qri;

    uint8_t *quote = calloc(1, qsize);
    assert_non_null(quote);
    assert_int_equal(g_qex.get_quote_ex(&report, &kid, &qri, quote, qsize), SGX_SUCCESS);
    assert_int_equal(itest_quote_len(quote, qsize), qsize);
    assert_pub_key_id_matches(pkid, quote);

    /* Nonce and target info come back as sent (aesm §3.3). */
    assert_memory_equal(qri.nonce, sent.nonce, sizeof qri.nonce);
    assert_memory_equal(&qri.app_enclave_target_info, &sent.app_enclave_target_info,
                        sizeof qri.app_enclave_target_info);
    /* The QE report (offset 528, aesm §6.3): made by the QE whose target
     * info we were given, for our enclave, MAC'd with our report key. */
    const uint8_t *raw = (const uint8_t *)&qri;
    sgx_report_t qe_report;
    memcpy(&qe_report, raw + 528, sizeof qe_report);
    assert_memory_equal(qe_report.body.mr_enclave, ti.mr_enclave, 32);
    sim_enclave_identity app;
    sim_enclave_identity_default(&app);
    assert_int_equal(sim_verify_report(&qri.app_enclave_target_info, app.cpu_svn, &qe_report),
                     SIM_OK);
    /* report_data = SHA-256(nonce ‖ quote) ‖ 0^32 (aesm §6.3). */
    uint8_t *cat = malloc(16 + qsize);
    assert_non_null(cat);
    memcpy(cat, qri.nonce, 16);
    memcpy(cat + 16, quote, qsize);
    uint8_t want[64] = {0};
    SHA256(cat, 16 + qsize, want);
    free(cat);
    assert_memory_equal(qe_report.body.report_data, want, 64);

    /* The MAC check can fail: one flipped body bit and it does. */
    qe_report.body.report_data[0] ^= 1;
    assert_int_not_equal(sim_verify_report(&qri.app_enclave_target_info, app.cpu_svn,
                                           &qe_report), SIM_OK);
    verify_quote(quote, qsize, "fortanix");
    free(quote);
}

/* Gramine (aesm §10): capture 11 as recorded, then a capture-12-shaped
 * request carrying a real report; Gramine trims by signature_data_len. */
static void test_gramine_sequence(void **state)
{
    (void)state;
    uint8_t *req = NULL, *resp = NULL;
    size_t req_len = 0, resp_len = 0;
    char *p11 = itest_vector_path("aesm-requests/11_gramine_init_quote_ex.bin");
    assert_int_equal(itest_read_file(p11, &req, &req_len), 0);
    free(p11);
    assert_int_equal(itest_exchange(g_daemon.socket, req, req_len, &resp, &resp_len), 0);
    assert_true(resp_len > 4);
    Aesm__Response *r = NULL;
    assert_int_equal(wire_response_decode(resp + 4, resp_len - 4, &r), WIRE_OK);
    assert_non_null(r->initquoteexres);
    assert_int_equal(r->initquoteexres->errorcode, 0);
    assert_int_equal(r->initquoteexres->target_info.len, 512); /* Gramine insists */
    sgx_target_info_t ti;
    memcpy(&ti, r->initquoteexres->target_info.data, sizeof ti);
    wire_response_free(r);
    free(req);
    free(resp);

    sgx_report_t report;
    itest_app_report(&ti, NULL, &report);
    char *p12 = itest_vector_path("aesm-requests/12_gramine_get_quote_ex.bin");
    assert_int_equal(itest_read_file(p12, &req, &req_len), 0);
    free(p12);
    memcpy(req + 11, &report, sizeof report); /* field 1, after 4 + 4 + 3 bytes */
    assert_int_equal(itest_exchange(g_daemon.socket, req, req_len, &resp, &resp_len), 0);
    assert_int_equal(wire_response_decode(resp + 4, resp_len - 4, &r), WIRE_OK);
    assert_non_null(r->getquoteexres);
    assert_int_equal(r->getquoteexres->errorcode, 0);
    assert_true(r->getquoteexres->quote.len >= 436);
    size_t qlen = itest_quote_len(r->getquoteexres->quote.data, r->getquoteexres->quote.len);
    assert_true(qlen > 436 && qlen <= 8192);
    verify_quote(r->getquoteexres->quote.data, qlen, "gramine");
    wire_response_free(r);
    free(req);
    free(resp);
}

/* Select with the verifier's list (aesm §6.5) through the library. */
static void test_select_through_library(void **state)
{
    (void)state;
    sgx_att_key_id_t kid, sel;
    itest_ecdsa_key_id(&kid);
    uint8_t list[8 + 256];
    memset(list, 0, sizeof list);
    list[4] = 1; /* num_att_ids */
    memcpy(list + 8, &kid, 256);
    list[8 + 200] = 0x5a; /* bytes past the 158-byte base are the caller's */
    assert_int_equal(g_qex.select_att_key_id(list, sizeof list, &sel), SGX_SUCCESS);
    assert_memory_equal(&sel, list + 8, 256);
    assert_int_equal(g_qex.select_att_key_id(NULL, 0, &sel), SGX_SUCCESS);
    assert_memory_equal(&sel, &kid, 256);
    /* An EPID key id is not offered: 38 → SGX_ERROR_UNSUPPORTED_ATT_KEY_ID. */
    list[8 + 154] = 0; /* algorithm_id = EPID */
    assert_int_equal(g_qex.select_att_key_id(list, sizeof list, &sel),
                     SGX_ERROR_UNSUPPORTED_ATT_KEY_ID);
}

/* A report for some other target: 47 → SGX_ERROR_MAC_MISMATCH (aesm §4.4). */
static void test_wrong_target_is_mac_mismatch(void **state)
{
    (void)state;
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    sgx_target_info_t other;
    itest_app_target_info(&other);
    sgx_report_t report;
    itest_app_report(&other, NULL, &report);
    uint32_t qsize = 0;
    assert_int_equal(g_qex.get_quote_size_ex(&kid, &qsize), SGX_SUCCESS);
    uint8_t *quote = calloc(1, qsize);
    assert_non_null(quote);
    assert_int_equal(g_qex.get_quote_ex(&report, &kid, NULL, quote, qsize),
                     SGX_ERROR_MAC_MISMATCH);
    free(quote);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dcap_sequence),
        cmocka_unit_test(test_fortanix_sequence_and_qe_report),
        cmocka_unit_test(test_gramine_sequence),
        cmocka_unit_test(test_select_through_library),
        cmocka_unit_test(test_wrong_target_is_mac_mismatch),
    };
    /* Group teardown failures do not fail a cmocka run, so the daemon's
     * clean exit is checked here. */
    int failed = cmocka_run_group_tests(tests, setup, NULL);
    if (teardown(NULL) != 0) {
        fprintf(stderr, "[  FAILED  ] daemon teardown: see above\n");
        failed++;
    }
    return failed;
}
