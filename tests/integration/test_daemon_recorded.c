/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recorded client requests over the real socket: every capture in
 * $SGXQH_VECTORS/aesm-requests/ (Intel's libsgx_quote_ex 01–10, Gramine
 * 11–12) is sent byte for byte to a running sgx-quote-helperd, and each
 * response is checked against the hard requirements of aesm-protocol §9.1
 * (one assertion per rule). The service unit tests go deeper into the
 * semantics; this file proves the socket path carries them intact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "wire/wire.h"

static itest_daemon g_daemon;

static int setup(void **state)
{
    (void)state;
    itest_daemon_init(&g_daemon);
    return itest_daemon_start(&g_daemon, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return itest_daemon_cleanup(&g_daemon);
}

typedef struct {
    uint8_t *req;      /* the capture, prefix included */
    size_t req_len;
    uint8_t *raw;      /* the whole response as read until EOF */
    size_t raw_len;
    Aesm__Response *resp;
    uint32_t tag;      /* field number of the one sub-message set */
    size_t n_sub;      /* how many sub-messages are set */
} exchange;

/* Response sub-message field numbers (aesm §3.2): each equals the tag of
 * the request it answers. */
enum {
    TAG_INIT_QUOTE_EX = 15,
    TAG_GET_QUOTE_SIZE_EX = 16,
    TAG_GET_QUOTE_EX = 17,
    TAG_SELECT_ATT_KEY_ID = 19,
    TAG_SUPPORTED_NUM = 21,
    TAG_SUPPORTED_IDS = 22,
};

static void load_capture(const char *name, exchange *x)
{
    char file[128];
    snprintf(file, sizeof file, "%s.bin", name);
    x->req = itest_request_vector(file, &x->req_len);
}

/* Send x->req; decode what comes back. Checks §9.1 item 2 (one frame,
 * little-endian prefix, then close) and item 3 (exactly the sub-message
 * whose tag equals the request's) for every exchange. */
static void send_and_decode(exchange *x, uint32_t request_tag)
{
    assert_int_equal(itest_exchange(g_daemon.socket, x->req, x->req_len, &x->raw, &x->raw_len),
                     0);
    /* §9.1 item 2: 4-byte LE length, that many body bytes, then EOF. */
    assert_true(x->raw_len > 4);
    uint32_t body_len = (uint32_t)x->raw[0] | (uint32_t)x->raw[1] << 8 |
                        (uint32_t)x->raw[2] << 16 | (uint32_t)x->raw[3] << 24;
    assert_int_equal(body_len, x->raw_len - 4);
    assert_int_equal(wire_response_decode(x->raw + 4, body_len, &x->resp), WIRE_OK);
    /* Which sub-messages are set, found through the descriptor so that a
     * stray one cannot hide. */
    const ProtobufCMessageDescriptor *d = x->resp->base.descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        void *sub = *(void **)((char *)x->resp + f->offset);
        if (sub != NULL) {
            x->n_sub++;
            x->tag = f->id;
        }
    }
    /* §9.1 item 3. */
    assert_int_equal(x->n_sub, 1);
    assert_int_equal(x->tag, request_tag);
}

/* A capture as recorded, sent and checked as above. */
static void capture_exchange(const char *name, uint32_t request_tag, exchange *x)
{
    load_capture(name, x);
    send_and_decode(x, request_tag);
}

/* §9.1 item 4: errorCode is always sent; item 11: the code expected. A
 * macro so that a failure names the test's line. */
#define assert_errorcode(r, want)                                                              \
    do {                                                                                       \
        assert_true((r)->has_errorcode);                                                       \
        assert_int_equal((r)->errorcode, (want));                                              \
    } while (0)

static void exchange_free(exchange *x)
{
    wire_response_free(x->resp);
    free(x->raw);
    free(x->req);
    memset(x, 0, sizeof *x);
}

static void assert_key_id_is_ecdsa(const uint8_t *p, size_t len)
{
    sgx_att_key_id_t want;
    itest_ecdsa_key_id(&want);
    assert_int_equal(len, 256);
    assert_memory_equal(p, want.att_key_id, 256);
}

static void test_01_supported_num(void **state)
{
    (void)state;
    exchange x = {0};
    capture_exchange("01_get_supported_att_key_id_num", TAG_SUPPORTED_NUM, &x);
    const Aesm__Response__GetSupportedAttKeyIDNumResponse *r = x.resp->getsupportedattkeyidnumres;
    assert_errorcode(r, 0);                   /* §9.1 items 4, 11 */
    assert_true(r->has_att_key_id_num);       /* §9.2: always sent */
    assert_int_equal(r->att_key_id_num, 1);   /* §6.5: exactly the ECDSA id */
    exchange_free(&x);
}

static void test_02_supported_ids(void **state)
{
    (void)state;
    exchange x = {0};
    capture_exchange("02_get_supported_att_key_ids_num1", TAG_SUPPORTED_IDS, &x);
    const Aesm__Response__GetSupportedAttKeyIDsResponse *r = x.resp->getsupportedattkeyidsres;
    assert_errorcode(r, 0);
    /* §9.1 item 5: exactly count × 256 = the request's buf_size (256);
     * item 10: the ECDSA key id of §6.4. */
    assert_true(r->has_att_key_ids);
    assert_key_id_is_ecdsa(r->att_key_ids.data, r->att_key_ids.len);
    exchange_free(&x);
}

/* SelectAttKeyID that succeeds; §9.1 item 5: the 256-byte id is sent. */
static const Aesm__Response__SelectAttKeyIDResponse *select_ok(const char *capture, exchange *x)
{
    capture_exchange(capture, TAG_SELECT_ATT_KEY_ID, x);
    const Aesm__Response__SelectAttKeyIDResponse *r = x->resp->selectattkeyidres;
    assert_errorcode(r, 0);
    assert_true(r->has_selected_att_key_id);
    assert_int_equal(r->selected_att_key_id.len, 256);
    return r;
}

static void test_03_select_null_list(void **state)
{
    (void)state;
    exchange x = {0};
    const Aesm__Response__SelectAttKeyIDResponse *r =
        select_ok("03_select_att_key_id_null_list", &x);
    assert_key_id_is_ecdsa(r->selected_att_key_id.data, r->selected_att_key_id.len);
    exchange_free(&x);
}

/* §9.1 item 6: the size query answers 32 whatever buf_size says. */
static void check_size_query(const char *capture)
{
    exchange x = {0};
    capture_exchange(capture, TAG_INIT_QUOTE_EX, &x);
    const Aesm__Response__InitQuoteExResponse *r = x.resp->initquoteexres;
    assert_errorcode(r, 0);
    assert_true(r->has_pub_key_id_size);
    assert_int_equal(r->pub_key_id_size, 32);
    if (r->has_target_info) /* §9.1 item 5: exactly 512 when sent */
        assert_int_equal(r->target_info.len, 512);
    assert_false(r->has_pub_key_id); /* nothing was asked for */
    exchange_free(&x);
}

static void test_04_init_size_query(void **state)
{
    (void)state;
    check_size_query("04_init_quote_ex_sizing");
}

static void test_09_init_size_query_garbage_buf_size(void **state)
{
    (void)state;
    check_size_query("09_init_quote_ex_sizing_nonzero_size");
}

/* §9.1 item 7: full init: 512-byte target info, size 32, 32-byte id. */
static void check_full_init(const char *capture, uint8_t ti_out[512], uint8_t pkid_out[32])
{
    exchange x = {0};
    capture_exchange(capture, TAG_INIT_QUOTE_EX, &x);
    const Aesm__Response__InitQuoteExResponse *r = x.resp->initquoteexres;
    assert_errorcode(r, 0);
    assert_true(r->has_target_info);
    assert_int_equal(r->target_info.len, 512);
    assert_true(r->has_pub_key_id_size);
    assert_int_equal(r->pub_key_id_size, 32);
    assert_true(r->has_pub_key_id);
    assert_int_equal(r->pub_key_id.len, r->pub_key_id_size); /* §9.1 item 5 */
    memcpy(ti_out, r->target_info.data, 512);
    memcpy(pkid_out, r->pub_key_id.data, 32);
    exchange_free(&x);
}

static void test_05_and_11_full_init(void **state)
{
    (void)state;
    uint8_t ti_intel[512], ti_gramine[512], pk_intel[32], pk_gramine[32];
    check_full_init("05_init_quote_ex_with_pub_key_id_buf", ti_intel, pk_intel);
    check_full_init("11_gramine_init_quote_ex", ti_gramine, pk_gramine);
    /* Both clients must land on the same QE (the key is per platform). */
    assert_memory_equal(ti_intel, ti_gramine, 512);
    assert_memory_equal(pk_intel, pk_gramine, 32);
    /* A real target info: not all zero (the size query may be). */
    uint8_t zero[32] = {0};
    assert_memory_not_equal(ti_intel, zero, 32); /* mr_enclave */
}

static uint32_t quote_size_from_06(void)
{
    exchange x = {0};
    capture_exchange("06_get_quote_size_ex", TAG_GET_QUOTE_SIZE_EX, &x);
    const Aesm__Response__GetQuoteSizeExResponse *r = x.resp->getquotesizeexres;
    assert_errorcode(r, 0);
    assert_true(r->has_quote_size);
    /* aesm §6.6: 1052 + cert data bytes; cert data ≤ 12294. */
    assert_in_range(r->quote_size, 1052 + 1, 1052 + 12294);
    uint32_t size = r->quote_size;
    exchange_free(&x);
    return size;
}

static void test_06_quote_size(void **state)
{
    (void)state;
    (void)quote_size_from_06();
}

/* The recorded reports are synthetic (byte i = i), so their MAC cannot
 * check: GetQuoteEx must answer 47 with no quote (aesm §8.4, §9.1 item 11). */
static const Aesm__Response__GetQuoteExResponse *quote_refused_47(const char *capture, exchange *x)
{
    capture_exchange(capture, TAG_GET_QUOTE_EX, x);
    const Aesm__Response__GetQuoteExResponse *r = x->resp->getquoteexres;
    assert_errorcode(r, 47);
    assert_false(r->has_quote);
    return r;
}

static void test_07_quote_synthetic_report(void **state)
{
    (void)state;
    exchange x = {0};
    const Aesm__Response__GetQuoteExResponse *r =
        quote_refused_47("07_get_quote_ex_no_qe_report_info", &x);
    assert_false(r->has_qe_report_info); /* none was sent */
    exchange_free(&x);
}

static void test_08_select_with_list(void **state)
{
    (void)state;
    exchange x = {0};
    const Aesm__Response__SelectAttKeyIDResponse *r =
        select_ok("08_select_att_key_id_with_list", &x);
    /* aesm §6.5: the caller's own 256-byte entry comes back. The list sits
     * after prefix(4) + 9a 01 8e 02(4) + 0a 88 02(3) and its 8-byte header
     * (capture 08 in aesm-clients §2). */
    assert_memory_equal(r->selected_att_key_id.data, x.req + 4 + 4 + 3 + 8, 256);
    exchange_free(&x);
}

static void test_10_quote_with_qri_synthetic_report(void **state)
{
    (void)state;
    exchange x = {0};
    const Aesm__Response__GetQuoteExResponse *r =
        quote_refused_47("10_get_quote_ex_with_qe_report_info", &x);
    /* aesm §3.3: qe_report_info is echoed even on error, 960 bytes. It is
     * the request's field 3: after prefix(4) + 8a 01 ff 0c(4) + report
     * (3 + 432) + key id (3 + 256) + 1a c0 07(3). */
    assert_true(r->has_qe_report_info);
    assert_int_equal(r->qe_report_info.len, 960);
    assert_memory_equal(r->qe_report_info.data, x.req + 4 + 4 + 435 + 259 + 3, 960);
    exchange_free(&x);
}

static void test_12_gramine_quote_synthetic_report(void **state)
{
    (void)state;
    exchange x = {0};
    (void)quote_refused_47("12_gramine_get_quote_ex", &x);
    exchange_free(&x);
}

/* The same recorded bytes with only the report replaced by a real one
 * (from the daemon's own target info, capture 05): Gramine's 12 (buf_size
 * 8192) succeeds; Intel's 07 (buf_size 1200) is too small for the quote and
 * gets 3 (aesm §8.4 step 2). The report is field 1 of GetQuoteEx: prefix(4)
 * + 8a 01 LL LL(4) (b9 05 in 12, bc 05 in 07) + 0a b0 03(3), then 432
 * bytes (aesm-clients §2). */
static void send_with_real_report(const char *capture, exchange *x, sgx_report_t *report)
{
    exchange init = {0};
    capture_exchange("05_init_quote_ex_with_pub_key_id_buf", TAG_INIT_QUOTE_EX, &init);
    assert_int_equal(init.resp->initquoteexres->errorcode, 0);
    sgx_target_info_t ti;
    memcpy(&ti, init.resp->initquoteexres->target_info.data, sizeof ti);
    exchange_free(&init);
    itest_app_report(&ti, NULL, report);

    load_capture(capture, x);
    assert_int_equal(x->req[8], 0x0a);
    memcpy(x->req + 11, report, sizeof *report);
    send_and_decode(x, TAG_GET_QUOTE_EX);
}

static void test_12_with_real_report(void **state)
{
    (void)state;
    uint32_t size = quote_size_from_06();
    exchange x = {0};
    sgx_report_t report;
    send_with_real_report("12_gramine_get_quote_ex", &x, &report);
    const Aesm__Response__GetQuoteExResponse *r = x.resp->getquoteexres;
    assert_errorcode(r, 0);
    /* §9.1 item 9: a quote, at most buf_size (8192) bytes. */
    assert_true(r->has_quote);
    assert_in_range(r->quote.len, 436, 8192);
    /* §9.1 item 8: GetQuoteSizeEx is the exact length, 436 + sig len. */
    assert_int_equal(itest_quote_len(r->quote.data, r->quote.len), size);
    /* Padding, if any, is zeros. */
    for (size_t i = size; i < r->quote.len; i++)
        assert_int_equal(r->quote.data[i], 0);
    /* The app's report body is in the quote at 48 (aesm §6.6). */
    assert_memory_equal(r->quote.data + 48, &report.body, sizeof report.body);
    exchange_free(&x);
}

static void test_07_with_real_report_small_buffer(void **state)
{
    (void)state;
    exchange x = {0};
    sgx_report_t report;
    send_with_real_report("07_get_quote_ex_no_qe_report_info", &x, &report);
    const Aesm__Response__GetQuoteExResponse *r = x.resp->getquoteexres;
    assert_errorcode(r, 3);
    assert_false(r->has_quote);
    exchange_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_01_supported_num),
        cmocka_unit_test(test_02_supported_ids),
        cmocka_unit_test(test_03_select_null_list),
        cmocka_unit_test(test_04_init_size_query),
        cmocka_unit_test(test_09_init_size_query_garbage_buf_size),
        cmocka_unit_test(test_05_and_11_full_init),
        cmocka_unit_test(test_06_quote_size),
        cmocka_unit_test(test_07_quote_synthetic_report),
        cmocka_unit_test(test_08_select_with_list),
        cmocka_unit_test(test_10_quote_with_qri_synthetic_report),
        cmocka_unit_test(test_12_gramine_quote_synthetic_report),
        cmocka_unit_test(test_12_with_real_report),
        cmocka_unit_test(test_07_with_real_report_small_buffer),
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
