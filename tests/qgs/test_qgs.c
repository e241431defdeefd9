/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QGS framing, codec and service (src/qgs) and the TDREPORT checks
 * (src/sgx/tdreport.c), from the byte layouts of Intel's qgs_msg_lib.h and
 * sgx_report2.h: both framings, every error path and size limit, the
 * padding quirks, and the simulated TD quoting enclave's refusals.
 * Expected bytes are written out by hand, never computed by the encoders.
 */
#include <stdlib.h>
#include <string.h>

#include "../sim/sim_tutil.h"
#include "qgs/qgs_msg.h"
#include "qgs/qgs_service.h"
#include "sgxqh/quote.h"
#include "sgxqh/tdreport.h"
#include "sim/sim.h"

static char *g_dir;
static sim_platform *g_p;
static qgs_backend g_b;

static int setup(void **state)
{
    (void)state;
    g_dir = tu_mkdtemp();
    sim_options o;
    memset(&o, 0, sizeof o);
    o.state_dir = g_dir;
    o.instance = "qgs-test";
    sim_tcb_config_default(&o.tcb);
    char err[256];
    if (sim_platform_open(&o, &g_p, err, sizeof err) != SIM_OK)
        return -1;
    qgs_backend_sim_init(&g_b, g_p);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_platform_close(g_p);
    tu_rmtree(g_dir);
    return 0;
}

static void make_report(uint8_t version, uint8_t out[1024])
{
    sim_td_identity id;
    sim_td_identity_default(&id);
    id.version = version;
    id.report_data[0] = 0xAB;
    assert_int_equal(sim_td_report(g_p, &id, out), SIM_OK);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* libtdx_attest's GET_QUOTE request: 1052 bytes, prefix 1048. */
static uint8_t *get_quote_req(const uint8_t report[1024], size_t *len)
{
    static const uint8_t head[28] = {
        0x00, 0x00, 0x04, 0x18,                         /* BE length 1048 */
        0x01, 0x00, 0x01, 0x00,                         /* major 1, minor 1 */
        0x00, 0x00, 0x00, 0x00,                         /* type GET_QUOTE_REQ */
        0x18, 0x04, 0x00, 0x00,                         /* size 1048 */
        0x00, 0x00, 0x00, 0x00,                         /* error_code */
        0x00, 0x04, 0x00, 0x00,                         /* report_size 1024 */
        0x00, 0x00, 0x00, 0x00,                         /* id_list_size 0 */
    };
    uint8_t *b = malloc(1052);
    assert_non_null(b);
    memcpy(b, head, sizeof head);
    memcpy(b + 28, report, 1024);
    *len = 1052;
    return b;
}

static void test_encoder_matches_intel_bytes(void **state)
{
    (void)state;
    uint8_t report[1024], *enc = NULL;
    size_t want_len, enc_len = 0;
    make_report(0, report);
    uint8_t *want = get_quote_req(report, &want_len);
    assert_int_equal(qgs_encode_get_quote_req(report, 1024, 1, &enc, &enc_len), QGS_OK);
    assert_int_equal(enc_len, want_len);
    assert_memory_equal(enc, want, want_len);
    free(enc);
    free(want);
}

static void test_frame_classify(void **state)
{
    (void)state;
    uint8_t b[1024] = {0};
    size_t need = 0;
    assert_int_equal(qgs_frame_classify(b, 3, &need), QGS_FRAME_NEED_MORE);
    assert_int_equal(need, 4);
    /* length 0 and lengths below the 16-byte header are never valid */
    assert_int_equal(qgs_frame_classify(b, 4, &need), QGS_FRAME_INVALID);
    b[3] = 15;
    assert_int_equal(qgs_frame_classify(b, 4, &need), QGS_FRAME_INVALID);
    b[3] = 16;
    assert_int_equal(qgs_frame_classify(b, 4, &need), QGS_FRAME_NEED_MORE);
    assert_int_equal(need, 20);
    assert_int_equal(qgs_frame_classify(b, 20, &need), QGS_FRAME_FRAMED);
    /* 64 KiB is the cap; one more is refused before anything is read */
    b[1] = 0x01, b[2] = 0x00, b[3] = 0x00;
    assert_int_equal(qgs_frame_classify(b, 4, &need), QGS_FRAME_NEED_MORE);
    assert_int_equal(need, 4 + 65536);
    b[3] = 0x01;
    assert_int_equal(qgs_frame_classify(b, 4, &need), QGS_FRAME_INVALID);
    /* a TDREPORT: 81 00 00 00 would be a 2 GiB length; it is the raw form */
    memset(b, 0, sizeof b);
    b[0] = 0x81;
    assert_int_equal(qgs_frame_classify(b, 4, &need), QGS_FRAME_NEED_MORE);
    assert_int_equal(need, 1024);
    assert_int_equal(qgs_frame_classify(b, 1023, &need), QGS_FRAME_NEED_MORE);
    assert_int_equal(qgs_frame_classify(b, 1024, &need), QGS_FRAME_RAW);
    /* any other first byte with a huge length is invalid */
    b[0] = 0x80;
    assert_int_equal(qgs_frame_classify(b, 1024, &need), QGS_FRAME_INVALID);
}

static void test_get_quote_framed(void **state)
{
    (void)state;
    uint8_t report[1024];
    size_t len;
    qgs_result res;
    make_report(0, report);
    uint8_t *req = get_quote_req(report, &len);
    qgs_service_handle(&g_b, req, len, &res);
    assert_int_equal(res.ok, 1);
    assert_string_equal(res.op, "GetQuote");
    size_t qlen = sim_td_quote_size(g_p);
    assert_int_equal(res.reply_len, 4 + 24 + qlen);
    const uint8_t *r = res.reply;
    assert_int_equal(((uint32_t)r[0] << 24 | r[1] << 16 | r[2] << 8 | r[3]), 24 + qlen);
    assert_int_equal(r[4], 1);  /* major */
    assert_int_equal(r[6], 1);  /* minor: exactly 1 for upstream QEMU */
    assert_int_equal(le32(r + 8), QGS_GET_QUOTE_RESP);
    assert_int_equal(le32(r + 12), 24 + qlen);
    assert_int_equal(le32(r + 16), 0);   /* error */
    assert_int_equal(le32(r + 20), 0);   /* selected_id_size */
    assert_int_equal(le32(r + 24), qlen);
    const uint8_t *quote = r + 28;
    quote_view v;
    assert_int_equal(quote_parse(quote, qlen, &v), QUOTE_OK);
    assert_int_equal(v.version, 4);
    assert_int_equal(v.tee_type, 0x81);
    assert_int_equal(v.outer_cert_type, 6);
    assert_int_equal(v.cert_type, 5);
    assert_int_equal(v.td.report_data[0], 0xAB);
    /* v4 in the v5-sized buffer: exactly 70 trailing zero bytes */
    assert_int_equal(qlen - v.quote_len, 70);
    for (size_t i = v.quote_len; i < qlen; i++)
        assert_int_equal(quote[i], 0);
    /* the client-side decoder agrees */
    const uint8_t *q2;
    uint32_t qs, remote;
    assert_int_equal(qgs_get_quote_resp_decode(r + 4, res.reply_len - 4, &q2, &qs, &remote),
                     QGS_OK);
    assert_int_equal(qs, qlen);
    qgs_result_free(&res);
    free(req);
}

static void test_get_quote_v5(void **state)
{
    (void)state;
    uint8_t report[1024], q[8192];
    size_t len = 0;
    quote_view v;
    make_report(1, report);
    assert_int_equal(sim_td_get_quote(g_p, report, 1024, q, sizeof q, &len, NULL, 0), SIM_OK);
    assert_int_equal(quote_parse(q, len, &v), QUOTE_OK);
    assert_int_equal(v.version, 5);
    assert_int_equal(v.body_type, QUOTE_BODY_TD15);
    assert_int_equal(v.quote_len, len); /* v5 fills the buffer exactly */
    assert_memory_equal(v.td.tee_tcb_svn2, v.td.tee_tcb_svn, 16);
}

static void test_raw_form(void **state)
{
    (void)state;
    uint8_t report[1024];
    qgs_result res;
    make_report(0, report);
    qgs_service_handle(&g_b, report, sizeof report, &res);
    assert_int_equal(res.ok, 1);
    assert_string_equal(res.op, "RawGetQuote");
    assert_int_equal(res.reply_len, sim_td_quote_size(g_p)); /* the bare quote */
    assert_int_equal(le32(res.reply) & 0xffff, 4);
    qgs_result_free(&res);

    /* Intel's test_client: zeros with only byte 0 = 0x81 -> close, no bytes */
    memset(report, 0, sizeof report);
    report[0] = 0x81;
    qgs_service_handle(&g_b, report, sizeof report, &res);
    assert_int_equal(res.ok, 0);
    assert_null(res.reply);
    assert_string_equal(res.op, "RawGetQuote");
    qgs_result_free(&res);
}

/* Asserts an error reply of `type` with only QGS_MSG_ERROR_UNEXPECTED. */
static void assert_error_reply(const qgs_result *res, uint32_t type, size_t msg_len)
{
    assert_int_equal(res->ok, 0);
    assert_non_null(res->reply);
    assert_int_equal(res->reply_len, 4 + msg_len);
    assert_int_equal(le32(res->reply + 4 + 4), type);
    assert_int_equal(le32(res->reply + 4 + 8), msg_len);
    assert_int_equal(le32(res->reply + 4 + 12), 0x00012001);
    for (size_t i = 4 + 16; i < res->reply_len; i++)
        assert_int_equal(res->reply[i], 0); /* every size zero */
}

static void test_get_quote_errors(void **state)
{
    (void)state;
    uint8_t report[1024];
    size_t len;
    qgs_result res;
    make_report(0, report);
    uint8_t *req = get_quote_req(report, &len);

    req[28 + 300] ^= 1; /* TEE_TCB_INFO byte: hash mismatch -> backend refuses */
    qgs_service_handle(&g_b, req, len, &res);
    assert_error_reply(&res, QGS_GET_QUOTE_RESP, 24);
    assert_string_equal(res.result, "backend");
    assert_non_null(strstr(res.detail, "SIM_E_TD_REPORT_HASH"));
    qgs_result_free(&res);
    req[28 + 300] ^= 1;

    req[28 + 230] ^= 1; /* MAC byte */
    qgs_service_handle(&g_b, req, len, &res);
    assert_error_reply(&res, QGS_GET_QUOTE_RESP, 24);
    assert_non_null(strstr(res.detail, "SIM_E_TD_REPORT_MAC"));
    qgs_result_free(&res);
    req[28 + 230] ^= 1;

    req[4 + 12] = 1; /* error_code in a request */
    qgs_service_handle(&g_b, req, len, &res);
    assert_error_reply(&res, QGS_GET_QUOTE_RESP, 24);
    assert_string_equal(res.result, "QGS_E_ERROR_CODE");
    qgs_result_free(&res);
    req[4 + 12] = 0;

    req[4 + 8] = 0x17; /* header size 1047 != frame length 1048 */
    qgs_service_handle(&g_b, req, len, &res);
    assert_error_reply(&res, QGS_GET_QUOTE_RESP, 24);
    assert_string_equal(res.result, "QGS_E_SIZE");
    qgs_result_free(&res);
    req[4 + 8] = 0x18;

    req[4 + 20] = 1; /* id_list_size 1: sizes no longer add up */
    qgs_service_handle(&g_b, req, len, &res);
    assert_error_reply(&res, QGS_GET_QUOTE_RESP, 24);
    assert_string_equal(res.result, "QGS_E_SIZE");
    qgs_result_free(&res);
    req[4 + 20] = 0;

    req[4 + 0] = 2; /* major 2: cannot be dispatched -> close */
    qgs_service_handle(&g_b, req, len, &res);
    assert_null(res.reply);
    assert_string_equal(res.result, "QGS_E_VERSION");
    qgs_result_free(&res);
    req[4 + 0] = 1;

    for (uint8_t t = 1; t <= 7; t += 2) { /* response types and type >= 6 -> close */
        req[4 + 4] = t;
        qgs_service_handle(&g_b, req, len, &res);
        assert_null(res.reply);
        assert_string_equal(res.result, "QGS_E_TYPE");
        qgs_result_free(&res);
    }
    req[4 + 4] = 0;

    /* report_size 0 (id list carries the bytes): error reply */
    uint8_t zero[28];
    memcpy(zero, req, 28);
    zero[3] = 24, zero[2] = 0, zero[4 + 8] = 24, zero[4 + 9] = 0, zero[4 + 17] = 0;
    qgs_service_handle(&g_b, zero, 28, &res);
    assert_error_reply(&res, QGS_GET_QUOTE_RESP, 24);
    assert_string_equal(res.result, "QGS_E_REPORT_SIZE");
    qgs_result_free(&res);

    /* trailing byte after a complete frame: not the framing the server reads */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, req, len);
    longer[len] = 0;
    qgs_service_handle(&g_b, longer, len + 1, &res);
    assert_null(res.reply);
    qgs_result_free(&res);
    free(longer);
    free(req);
}

static void test_platform_info(void **state)
{
    (void)state;
    static const uint8_t req[20] = {0, 0, 0, 16, 1, 0, 1, 0, 4, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0};
    qgs_result res;
    qgs_service_handle(&g_b, req, sizeof req, &res);
    assert_int_equal(res.ok, 1);
    assert_string_equal(res.op, "GetPlatformInfo");
    assert_int_equal(res.reply_len, 4 + 64);
    const uint8_t *m = res.reply + 4;
    assert_int_equal(le32(m + 4), QGS_GET_PLATFORM_INFO_RESP);
    assert_int_equal(le32(m + 8), 64);
    assert_int_equal(m[16], 4);  /* TD-QE ISVSVN (default) */
    assert_int_equal(m[18], 13); /* PCE SVN (default) */
    assert_int_equal(le32(m + 20), 16);
    assert_int_equal(le32(m + 24), 16);
    uint8_t qe_id[16];
    sim_qe_id(g_p, qe_id);
    assert_memory_equal(m + 28, qe_id, 16);
    assert_int_equal(le32(m + 60), 0); /* the always-present 4 zero bytes */
    qgs_platform_info pi;
    uint32_t remote;
    assert_int_equal(qgs_get_platform_info_resp_decode(m, 64, &pi, &remote), QGS_OK);
    qgs_result_free(&res);

    /* A body on a header-only request: the 28-byte error reply */
    uint8_t longer[21];
    memcpy(longer, req, 20);
    longer[3] = 17, longer[4 + 8] = 17, longer[20] = 0;
    qgs_service_handle(&g_b, longer, sizeof longer, &res);
    assert_error_reply(&res, QGS_GET_PLATFORM_INFO_RESP, 28);
    qgs_result_free(&res);
}

/* Intel tdx_verify's request: 43 bytes, raw FMSPC and "platform\0". */
static void collateral_req(uint16_t minor, const uint8_t fmspc[6], uint8_t out[43])
{
    uint8_t head[28] = {0, 0, 0, 39, 1, 0, 0, 0, 2, 0, 0, 0, 39, 0, 0, 0,
                        0, 0, 0, 0, 6, 0, 0, 0, 9, 0, 0, 0};
    head[6] = (uint8_t)minor;
    memcpy(out, head, 28);
    memcpy(out + 28, fmspc, 6);
    memcpy(out + 34, "platform", 9);
}

static size_t items_total(const qgs_collateral *c)
{
    size_t total = 0;
    for (unsigned i = 0; i < QGS_COLLATERAL_ITEMS; i++)
        total += c->size[i];
    return total;
}

static void test_collateral(void **state)
{
    (void)state;
    uint8_t req[43];
    qgs_result res;
    const uint8_t *fmspc = sim_tcb(g_p)->fmspc;
    collateral_req(1, fmspc, req);
    qgs_service_handle(&g_b, req, sizeof req, &res);
    assert_int_equal(res.ok, 1);
    assert_string_equal(res.op, "GetCollateral");
    qgs_collateral c;
    uint32_t remote;
    assert_int_equal(qgs_get_collateral_resp_decode(res.reply + 4, res.reply_len - 4, &c, &remote),
                     QGS_OK);
    assert_int_equal(c.major, 3);
    assert_int_equal(c.minor, 1);
    assert_non_null(strstr((const char *)c.item[4], "\"id\":\"TDX\""));
    assert_non_null(strstr((const char *)c.item[6], "\"id\":\"TD_QE\""));
    assert_int_equal(c.item[4][c.size[4] - 1], 0); /* strings carry their NUL */
    /* prefix, fixed part, then exactly the items */
    assert_int_equal(res.reply_len, 4 + QGS_GET_COLLATERAL_RESP_FIXED + items_total(&c));
    qgs_result_free(&res);

    /* minor-0 requester: 4 more zero bytes, header still says 1.1. (The
     * simulated collateral is made anew per request and its signatures'
     * DER lengths vary, so compare with this reply's own items, not the
     * previous reply's length.) */
    collateral_req(0, fmspc, req);
    qgs_service_handle(&g_b, req, sizeof req, &res);
    assert_int_equal(res.ok, 1);
    assert_int_equal(qgs_get_collateral_resp_decode(res.reply + 4, res.reply_len - 4, &c, &remote),
                     QGS_OK);
    assert_int_equal(res.reply_len, 4 + QGS_GET_COLLATERAL_RESP_FIXED + items_total(&c) +
                                        QGS_COLLATERAL_MINOR0_PAD);
    assert_int_equal(res.reply[4 + 2], 1);
    assert_int_equal(le32(res.reply + res.reply_len - 4), 0);
    qgs_result_free(&res);

    /* unknown FMSPC: the 48-byte error reply (52 for minor 0) */
    uint8_t other[6] = {1, 2, 3, 4, 5, 6};
    collateral_req(1, other, req);
    qgs_service_handle(&g_b, req, sizeof req, &res);
    assert_error_reply(&res, QGS_GET_COLLATERAL_RESP, 48);
    qgs_result_free(&res);
    collateral_req(0, other, req);
    qgs_service_handle(&g_b, req, sizeof req, &res);
    assert_error_reply(&res, QGS_GET_COLLATERAL_RESP, 52);
    qgs_result_free(&res);

    /* the CA name without its NUL */
    collateral_req(1, fmspc, req);
    req[42] = 'x';
    qgs_service_handle(&g_b, req, sizeof req, &res);
    assert_error_reply(&res, QGS_GET_COLLATERAL_RESP, 48);
    assert_string_equal(res.result, "QGS_E_PCK_CA");
    qgs_result_free(&res);

    /* fmspc_size 0 */
    collateral_req(1, fmspc, req);
    req[4 + 16] = 0, req[4 + 20] = 15;
    qgs_service_handle(&g_b, req, sizeof req, &res);
    assert_error_reply(&res, QGS_GET_COLLATERAL_RESP, 48);
    assert_string_equal(res.result, "QGS_E_FMSPC");
    qgs_result_free(&res);

    /* "processor": the simulated PCK comes from the Platform CA */
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    assert_int_equal(qgs_encode_get_collateral_req(fmspc, 6, "processor", 1, &enc, &enc_len),
                     QGS_OK);
    qgs_service_handle(&g_b, enc, enc_len, &res);
    assert_error_reply(&res, QGS_GET_COLLATERAL_RESP, 48);
    qgs_result_free(&res);
    free(enc);
}

static void test_reply_decoders_strict(void **state)
{
    (void)state;
    uint8_t *r = NULL;
    size_t n = 0;
    const uint8_t *q;
    uint32_t qs, remote;
    static const uint8_t quote[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(qgs_encode_get_quote_resp(0, quote, 8, &r, &n), QGS_OK);
    assert_int_equal(n, 4 + 24 + 8);
    r[4 + 2] = 0; /* minor 0: upstream QEMU rejects it */
    assert_int_equal(qgs_get_quote_resp_decode(r + 4, n - 4, &q, &qs, &remote), QGS_E_MINOR);
    r[4 + 2] = 1;
    r[4 + 20] = 1; /* selected_id_size 1 */
    assert_int_equal(qgs_get_quote_resp_decode(r + 4, n - 4, &q, &qs, &remote), QGS_E_SIZE);
    free(r);
    assert_int_equal(qgs_encode_get_quote_resp(0x00012001, NULL, 0, &r, &n), QGS_OK);
    assert_int_equal(n, 4 + 24);
    assert_int_equal(qgs_get_quote_resp_decode(r + 4, n - 4, &q, &qs, &remote), QGS_E_REMOTE);
    assert_int_equal(remote, 0x00012001);
    free(r);
    assert_int_equal(qgs_encode_get_quote_resp(0, NULL, 0, &r, &n), QGS_E_INVALID_ARG);
}

/* ---- TDREPORT structure ---- */

static int check_mutated(size_t off, uint8_t value)
{
    uint8_t report[1024];
    tdx_report_info info;
    make_report(0, report);
    report[off] = value;
    return tdx_report_check(report, sizeof report, &info);
}

static void test_tdreport_checks(void **state)
{
    (void)state;
    uint8_t report[1024];
    tdx_report_info info;
    make_report(0, report);
    assert_int_equal(tdx_report_check(report, 1024, &info), TDX_REPORT_OK);
    assert_int_equal(info.quote_version, 4);
    assert_int_equal(info.body_size, 584);
    assert_int_equal(tdx_report_check(report, 1023, &info), TDX_REPORT_E_SIZE);
    assert_int_equal(check_mutated(0, 0x80), TDX_REPORT_E_TYPE);
    assert_int_equal(check_mutated(1, 1), TDX_REPORT_E_TYPE);       /* subtype */
    assert_int_equal(check_mutated(2, 2), TDX_REPORT_E_VERSION);
    assert_int_equal(check_mutated(3, 1), TDX_REPORT_E_RESERVED);   /* REPORTTYPE reserved */
    assert_int_equal(check_mutated(4, 1), TDX_REPORT_E_RESERVED);   /* reserved1 start */
    assert_int_equal(check_mutated(15, 1), TDX_REPORT_E_RESERVED);  /* reserved1 end */
    assert_int_equal(check_mutated(192, 1), TDX_REPORT_E_RESERVED); /* reserved2 */
    assert_int_equal(check_mutated(223, 1), TDX_REPORT_E_RESERVED);
    assert_int_equal(check_mutated(495, 1), TDX_REPORT_E_RESERVED); /* the 17 bytes */
    assert_int_equal(check_mutated(511, 1), TDX_REPORT_E_RESERVED);
    assert_int_equal(check_mutated(912, 1), TDX_REPORT_E_RESERVED); /* 1.0: SERVTD_HASH */
    assert_int_equal(check_mutated(1023, 1), TDX_REPORT_E_RESERVED);
    assert_int_equal(check_mutated(256, 0xFE), TDX_REPORT_E_VALID); /* VALID[0] */
    assert_int_equal(check_mutated(257, 0x03), TDX_REPORT_E_VALID);
    assert_int_equal(check_mutated(258, 0x01), TDX_REPORT_E_VALID);
    assert_int_equal(check_mutated(259, 0x01), TDX_REPORT_E_VALID);
    assert_int_equal(check_mutated(263, 0x80), TDX_REPORT_E_VALID);
    /* VALID 0x301FF with SVN2 == SVN: still v4 */
    assert_int_equal(check_mutated(258, 0x03), TDX_REPORT_OK);
    /* VALID 0x301FF with SVN2 != SVN: v5 */
    make_report(0, report);
    report[258] = 3;
    report[384] = 9;
    assert_int_equal(tdx_report_check(report, 1024, &info), TDX_REPORT_OK);
    assert_int_equal(info.quote_version, 5);
    uint8_t body[648];
    tdx_report_quote_body(&info, body);
    assert_int_equal(body[584], 9);           /* tee_tcb_svn2 */
    for (int i = 600; i < 648; i++)
        assert_int_equal(body[i], 0);         /* no SERVTD_HASH in 1.0 */
    /* version 1: v5, SERVTD_HASH is a field, only the last 64 bytes reserved */
    make_report(1, report);
    report[912] = 0x5A;
    assert_int_equal(tdx_report_check(report, 1024, &info), TDX_REPORT_OK);
    assert_int_equal(info.quote_version, 5);
    tdx_report_quote_body(&info, body);
    assert_int_equal(body[600], 0x5A);
    report[960] = 1;
    assert_int_equal(tdx_report_check(report, 1024, &info), TDX_REPORT_E_RESERVED);
    /* the quote never carries MRSIGNERSEAM or SEAM attributes */
    make_report(0, report);
    report[328] = 0x77, report[376] = 0x77;
    assert_int_equal(tdx_report_check(report, 1024, &info), TDX_REPORT_OK);
    tdx_report_quote_body(&info, body);
    for (int i = 64; i < 120; i++)
        assert_int_equal(body[i], 0);
}

static void test_sim_refuses_other_platforms(void **state)
{
    (void)state;
    sim_options o;
    sim_platform *other = NULL;
    uint8_t report[1024], q[8192];
    size_t len = 0;
    char err[256];
    memset(&o, 0, sizeof o);
    o.state_dir = g_dir;
    o.instance = "another-node";
    sim_tcb_config_default(&o.tcb);
    assert_int_equal(sim_platform_open(&o, &other, err, sizeof err), SIM_OK);
    make_report(0, report); /* made by g_p */
    assert_int_equal(sim_td_get_quote(other, report, 1024, q, sizeof q, &len, err, sizeof err),
                     SIM_E_TD_REPORT_MAC);
    /* a TDREPORT of the right shape but no simulated MAC (a real one) */
    memset(report + 224, 0x11, 32);
    assert_int_equal(sim_td_get_quote(g_p, report, 1024, q, sizeof q, &len, err, sizeof err),
                     SIM_E_TD_REPORT_MAC);
    make_report(0, report);
    report[600] ^= 1; /* TDINFO (MRTD): TEE_INFO_HASH no longer matches */
    assert_int_equal(sim_td_get_quote(g_p, report, 1024, q, sizeof q, &len, err, sizeof err),
                     SIM_E_TD_REPORT_HASH);
    assert_non_null(strstr(err, "TEE_INFO_HASH"));
    make_report(0, report);
    report[2] = 7;
    assert_int_equal(sim_td_get_quote(g_p, report, 1024, q, sizeof q, &len, err, sizeof err),
                     SIM_E_TD_REPORT);
    assert_non_null(strstr(err, "TDX_REPORT_E_VERSION"));
    sim_platform_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoder_matches_intel_bytes),
        cmocka_unit_test(test_frame_classify),
        cmocka_unit_test(test_get_quote_framed),
        cmocka_unit_test(test_get_quote_v5),
        cmocka_unit_test(test_raw_form),
        cmocka_unit_test(test_get_quote_errors),
        cmocka_unit_test(test_platform_info),
        cmocka_unit_test(test_collateral),
        cmocka_unit_test(test_reply_decoders_strict),
        cmocka_unit_test(test_tdreport_checks),
        cmocka_unit_test(test_sim_refuses_other_platforms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
