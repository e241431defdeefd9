/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wire layer: length-prefix framing (aesm-protocol §2), our all-optional
 * aesm.proto against the byte vectors of §3.6 and the recorded client
 * requests (decode, and re-encode byte for byte: Intel's serializer writes
 * fields in tag order, aesm-clients §2), and the aesm_error_t names and
 * operator hints (§5.1, field-notes-operations §5.4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/test_support.h"
#include "sgxqh/aesm_error.h"
#include "wire/wire.h"

/* The recorded frame in a buffer of exactly its length (ts_read_vector's
 * NUL dropped), so ASan catches a decoder reading one byte too far. */
static uint8_t *read_vector(const char *name, size_t *len)
{
    char rel[256];
    uint8_t *buf, *exact;

    snprintf(rel, sizeof(rel), "aesm-requests/%s.bin", name);
    buf = ts_read_vector(rel, len);
    exact = realloc(buf, *len > 0 ? *len : 1);
    assert_non_null(exact);
    return exact;
}

/* ---- framing ---- */

static void test_prefix_encode_is_little_endian(void **state)
{
    uint8_t p[4];
    (void)state;

    wire_prefix_encode(0x01020304u, p);
    assert_int_equal(p[0], 0x04);
    assert_int_equal(p[1], 0x03);
    assert_int_equal(p[2], 0x02);
    assert_int_equal(p[3], 0x01);
    wire_prefix_encode(267, p); /* vector 04: 0b 01 00 00 */
    assert_memory_equal(p, "\x0b\x01\x00\x00", 4);
}

static void test_prefix_decode_limits(void **state)
{
    uint32_t n = 7;
    (void)state;

    assert_int_equal(wire_prefix_decode((const uint8_t *)"\x06\x00\x00\x00", 4, 65536, &n), WIRE_OK);
    assert_int_equal(n, 6);
    /* 0x00010000 = 65536: exactly the limit is fine, one more is not */
    assert_int_equal(wire_prefix_decode((const uint8_t *)"\x00\x00\x01\x00", 4, 65536, &n), WIRE_OK);
    assert_int_equal(n, 65536);
    n = 7;
    assert_int_equal(wire_prefix_decode((const uint8_t *)"\x01\x00\x01\x00", 4, 65536, &n),
                     WIRE_E_TOO_LARGE);
    assert_int_equal(n, 7); /* untouched on failure */
    assert_int_equal(wire_prefix_decode((const uint8_t *)"\xff\xff\xff\xff", 4, WIRE_MAX_REQUEST_SIZE, &n),
                     WIRE_E_TOO_LARGE);
    assert_int_equal(wire_prefix_decode((const uint8_t *)"\x06\x00\x00", 3, 65536, &n), WIRE_E_SHORT);
    assert_int_equal(wire_prefix_decode(NULL, 0, 65536, &n), WIRE_E_SHORT);
    assert_int_equal(wire_prefix_decode((const uint8_t *)"\x06\x00\x00\x00", 4, 65536, NULL),
                     WIRE_E_INVALID_ARG);
    assert_int_equal(WIRE_MAX_REQUEST_SIZE, 64 * 1024);
}

static void test_frame_split(void **state)
{
    static const uint8_t body01[] = {0xaa, 0x01, 0x03, 0x48, 0x98, 0x75};
    uint8_t buf[16];
    const uint8_t *body = NULL;
    size_t len = 0, n;
    uint8_t *frame = read_vector("01_get_supported_att_key_id_num", &n);
    (void)state;

    assert_int_equal(n, 10);
    assert_int_equal(wire_frame_split(frame, n, WIRE_MAX_REQUEST_SIZE, &body, &len), WIRE_OK);
    assert_int_equal(len, 6);
    assert_ptr_equal(body, frame + 4);
    assert_memory_equal(body, body01, 6);

    assert_int_equal(wire_frame_split(frame, n - 1, WIRE_MAX_REQUEST_SIZE, &body, &len), WIRE_E_SHORT);
    memcpy(buf, frame, n);
    buf[n] = 0;
    assert_int_equal(wire_frame_split(buf, n + 1, WIRE_MAX_REQUEST_SIZE, &body, &len), WIRE_E_TRAILING);
    assert_int_equal(wire_frame_split(frame, n, 5, &body, &len), WIRE_E_TOO_LARGE);
    /* a zero-length frame splits into an empty body */
    assert_int_equal(wire_frame_split((const uint8_t *)"\0\0\0\0", 4, 16, &body, &len), WIRE_OK);
    assert_int_equal(len, 0);
    free(frame);
}

/* ---- codec against aesm-protocol §3.6 vectors ---- */

static void expect_frame(const ProtobufCMessage *msg, const uint8_t *want_body, size_t want_len)
{
    uint8_t *frame = NULL;
    size_t len = 0;

    assert_int_equal(wire_frame_encode(msg, &frame, &len), WIRE_OK);
    assert_int_equal(len, 4 + want_len);
    assert_int_equal(frame[0] | frame[1] << 8 | frame[2] << 16 | (uint32_t)frame[3] << 24, want_len);
    assert_memory_equal(frame + 4, want_body, want_len);
    free(frame);
}

static void test_encode_spec_responses(void **state)
{
    Aesm__Response resp;
    (void)state;

    /* GetSupportedAttKeyIDNum response {0, num=1} = aa 01 04 08 00 10 01 */
    {
        Aesm__Response__GetSupportedAttKeyIDNumResponse r =
            AESM__RESPONSE__GET_SUPPORTED_ATT_KEY_IDNUM_RESPONSE__INIT;
        static const uint8_t want[] = {0xaa, 0x01, 0x04, 0x08, 0x00, 0x10, 0x01};
        r.has_errorcode = 1;
        r.errorcode = 0;
        r.has_att_key_id_num = 1;
        r.att_key_id_num = 1;
        resp = (Aesm__Response)AESM__RESPONSE__INIT;
        resp.getsupportedattkeyidnumres = &r;
        expect_frame(&resp.base, want, sizeof(want));
    }
    /* GetQuoteSizeEx response {0, 4734} = 82 01 05 08 00 10 fe 24 */
    {
        Aesm__Response__GetQuoteSizeExResponse r = AESM__RESPONSE__GET_QUOTE_SIZE_EX_RESPONSE__INIT;
        static const uint8_t want[] = {0x82, 0x01, 0x05, 0x08, 0x00, 0x10, 0xfe, 0x24};
        r.has_errorcode = 1;
        r.errorcode = 0;
        r.has_quote_size = 1;
        r.quote_size = 4734;
        resp = (Aesm__Response)AESM__RESPONSE__INIT;
        resp.getquotesizeexres = &r;
        expect_frame(&resp.base, want, sizeof(want));
    }
    /* GetQuoteEx response error 38 = 8a 01 02 08 26 */
    {
        Aesm__Response__GetQuoteExResponse r = AESM__RESPONSE__GET_QUOTE_EX_RESPONSE__INIT;
        static const uint8_t want[] = {0x8a, 0x01, 0x02, 0x08, 0x26};
        r.has_errorcode = 1;
        r.errorcode = 38;
        resp = (Aesm__Response)AESM__RESPONSE__INIT;
        resp.getquoteexres = &r;
        expect_frame(&resp.base, want, sizeof(want));
    }
    /* InitQuoteEx size-query response: 7a 87 04 08 00 12 80 04 <512 zero> 18 20 */
    {
        Aesm__Response__InitQuoteExResponse r = AESM__RESPONSE__INIT_QUOTE_EX_RESPONSE__INIT;
        uint8_t ti[512] = {0}, want[522] = {0x7a, 0x87, 0x04, 0x08, 0x00, 0x12, 0x80, 0x04};
        want[520] = 0x18;
        want[521] = 0x20;
        r.has_errorcode = 1;
        r.errorcode = 0;
        r.has_target_info = 1;
        r.target_info.data = ti;
        r.target_info.len = 512;
        r.has_pub_key_id_size = 1;
        r.pub_key_id_size = 32;
        resp = (Aesm__Response)AESM__RESPONSE__INIT;
        resp.initquoteexres = &r;
        expect_frame(&resp.base, want, sizeof(want));
    }
    /* errorCode is optional in our schema: without "has" it is not sent,
     * which is why the service always sets it. */
    {
        Aesm__Response__GetQuoteExResponse r = AESM__RESPONSE__GET_QUOTE_EX_RESPONSE__INIT;
        static const uint8_t want[] = {0x8a, 0x01, 0x00};
        resp = (Aesm__Response)AESM__RESPONSE__INIT;
        resp.getquoteexres = &r;
        expect_frame(&resp.base, want, sizeof(want));
    }
}

static void test_encode_rejects_empty(void **state)
{
    Aesm__Response resp = AESM__RESPONSE__INIT;
    uint8_t *frame = (uint8_t *)"untouched";
    size_t len = 99;
    (void)state;

    /* an empty body crashes Intel's client (§2): never produce one */
    assert_int_equal(wire_frame_encode(&resp.base, &frame, &len), WIRE_E_INVALID_ARG);
    assert_int_equal(len, 99);
    assert_int_equal(wire_frame_encode(NULL, &frame, &len), WIRE_E_INVALID_ARG);
}

static void test_encode_spec_requests(void **state)
{
    Aesm__Request req;
    (void)state;

    /* the GetSupportedAttKeyIDNum request is exactly recorded vector 01 */
    {
        Aesm__Request__GetSupportedAttKeyIDNumRequest q =
            AESM__REQUEST__GET_SUPPORTED_ATT_KEY_IDNUM_REQUEST__INIT;
        static const uint8_t want[] = {0xaa, 0x01, 0x03, 0x48, 0x98, 0x75};
        q.has_timeout = 1;
        q.timeout = 15000;
        req = (Aesm__Request)AESM__REQUEST__INIT;
        req.getsupportedattkeyidnumreq = &q;
        expect_frame(&req.base, want, sizeof(want));
    }
    /* SelectAttKeyID: timeout is tag 2 there */
    {
        Aesm__Request__SelectAttKeyIDRequest q = AESM__REQUEST__SELECT_ATT_KEY_IDREQUEST__INIT;
        static const uint8_t want[] = {0x9a, 0x01, 0x03, 0x10, 0x98, 0x75};
        q.has_timeout = 1;
        q.timeout = 15000;
        req = (Aesm__Request)AESM__REQUEST__INIT;
        req.selectattkeyidreq = &q;
        expect_frame(&req.base, want, sizeof(want));
    }
    /* legacy InitQuote */
    {
        Aesm__Request__InitQuoteRequest q = AESM__REQUEST__INIT_QUOTE_REQUEST__INIT;
        static const uint8_t want[] = {0x0a, 0x03, 0x48, 0x98, 0x75};
        q.has_timeout = 1;
        q.timeout = 15000;
        req = (Aesm__Request)AESM__REQUEST__INIT;
        req.initquotereq = &q;
        expect_frame(&req.base, want, sizeof(want));
    }
}

/* ---- the recorded requests ---- */

static const struct {
    const char *name;
    unsigned tag; /* outer Request field, ANNOTATED.txt */
} VECTORS[] = {
    {"01_get_supported_att_key_id_num", 21},
    {"02_get_supported_att_key_ids_num1", 22},
    {"03_select_att_key_id_null_list", 19},
    {"04_init_quote_ex_sizing", 15},
    {"05_init_quote_ex_with_pub_key_id_buf", 15},
    {"06_get_quote_size_ex", 16},
    {"07_get_quote_ex_no_qe_report_info", 17},
    {"08_select_att_key_id_with_list", 19},
    {"09_init_quote_ex_sizing_nonzero_size", 15},
    {"10_get_quote_ex_with_qe_report_info", 17},
    {"11_gramine_init_quote_ex", 15},
    {"12_gramine_get_quote_ex", 17},
};

static unsigned request_tag(const Aesm__Request *req, unsigned *count)
{
    const ProtobufCMessageDescriptor *d = &aesm__request__descriptor;
    unsigned tag = 0;

    *count = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const void *const *slot =
            (const void *const *)(const void *)((const uint8_t *)req + d->fields[i].offset);
        if (*slot != NULL) {
            (*count)++;
            tag = d->fields[i].id;
        }
    }
    return tag;
}

static void test_vectors_decode_and_reencode(void **state)
{
    (void)state;

    for (size_t i = 0; i < sizeof(VECTORS) / sizeof(VECTORS[0]); i++) {
        size_t n, body_len;
        const uint8_t *body;
        uint8_t *frame = read_vector(VECTORS[i].name, &n), *again;
        size_t again_len;
        Aesm__Request *req = NULL;
        unsigned count;

        assert_int_equal(wire_frame_split(frame, n, WIRE_MAX_REQUEST_SIZE, &body, &body_len), WIRE_OK);
        assert_int_equal(wire_request_decode(body, body_len, &req), WIRE_OK);
        assert_int_equal(request_tag(req, &count), VECTORS[i].tag);
        assert_int_equal(count, 1);
        /* canonical encoding: protobuf-c reproduces the client's bytes */
        assert_int_equal(wire_frame_encode(&req->base, &again, &again_len), WIRE_OK);
        assert_int_equal(again_len, n);
        assert_memory_equal(again, frame, n);
        free(again);
        wire_request_free(req);
        free(frame);
    }
}

static Aesm__Request *decode_vector(const char *name)
{
    size_t n;
    uint8_t *frame = read_vector(name, &n);
    Aesm__Request *req = NULL;

    assert_int_equal(wire_request_decode(frame + 4, n - 4, &req), WIRE_OK);
    free(frame);
    return req;
}

static void test_vector_fields(void **state)
{
    Aesm__Request *r;
    (void)state;

    r = decode_vector("02_get_supported_att_key_ids_num1");
    assert_true(r->getsupportedattkeyidsreq->has_buf_size);
    assert_int_equal(r->getsupportedattkeyidsreq->buf_size, 256);
    assert_int_equal(r->getsupportedattkeyidsreq->timeout, 15000);
    wire_request_free(r);

    r = decode_vector("03_select_att_key_id_null_list");
    assert_false(r->selectattkeyidreq->has_att_key_id_list);
    assert_true(r->selectattkeyidreq->has_timeout);
    assert_int_equal(r->selectattkeyidreq->timeout, 15000);
    wire_request_free(r);

    r = decode_vector("04_init_quote_ex_sizing");
    assert_int_equal(r->initquoteexreq->att_key_id.len, 256);
    assert_true(r->initquoteexreq->has_b_pub_key_id);
    assert_false(r->initquoteexreq->b_pub_key_id);
    assert_false(r->initquoteexreq->has_buf_size);
    wire_request_free(r);

    /* 09: buf_size is a uint64 holding an uninitialised value */
    r = decode_vector("09_init_quote_ex_sizing_nonzero_size");
    assert_false(r->initquoteexreq->b_pub_key_id);
    assert_true(r->initquoteexreq->has_buf_size);
    assert_int_equal(r->initquoteexreq->buf_size, 140722627616320ULL);
    wire_request_free(r);

    r = decode_vector("10_get_quote_ex_with_qe_report_info");
    assert_int_equal(r->getquoteexreq->report.len, 432);
    assert_int_equal(r->getquoteexreq->att_key_id.len, 256);
    assert_int_equal(r->getquoteexreq->qe_report_info.len, 960);
    assert_int_equal(r->getquoteexreq->buf_size, 1200);
    assert_int_equal(r->getquoteexreq->report.data[431], 431 & 0xff);
    wire_request_free(r);

    /* Gramine: no timeout, buf_size 8192 */
    r = decode_vector("12_gramine_get_quote_ex");
    assert_false(r->getquoteexreq->has_timeout);
    assert_false(r->getquoteexreq->has_qe_report_info);
    assert_int_equal(r->getquoteexreq->buf_size, 8192);
    wire_request_free(r);
}

/* Fields Intel marks required are optional here, so their absence decodes
 * (the service then answers errorCode 1, §9.2). */
static void test_missing_required_still_decodes(void **state)
{
    /* InitQuoteEx { timeout 15000 }: no b_pub_key_id */
    static const uint8_t init[] = {0x7a, 0x03, 0x48, 0x98, 0x75};
    /* GetQuoteEx { }: no report, no buf_size */
    static const uint8_t quote[] = {0x8a, 0x01, 0x00};
    /* GetSupportedAttKeyIDs { }: no buf_size */
    static const uint8_t ids[] = {0xb2, 0x01, 0x00};
    Aesm__Request *r = NULL;
    (void)state;

    assert_int_equal(wire_request_decode(init, sizeof(init), &r), WIRE_OK);
    assert_non_null(r->initquoteexreq);
    assert_false(r->initquoteexreq->has_b_pub_key_id);
    wire_request_free(r);
    assert_int_equal(wire_request_decode(quote, sizeof(quote), &r), WIRE_OK);
    assert_non_null(r->getquoteexreq);
    assert_false(r->getquoteexreq->has_report);
    assert_false(r->getquoteexreq->has_buf_size);
    wire_request_free(r);
    assert_int_equal(wire_request_decode(ids, sizeof(ids), &r), WIRE_OK);
    assert_false(r->getsupportedattkeyidsreq->has_buf_size);
    wire_request_free(r);
}

static void test_decode_garbage(void **state)
{
    static const struct {
        uint8_t b[6];
        size_t n;
    } bad[] = {
        {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 6},
        {{0x7a, 0x05, 0x08}, 3},       /* sub-message longer than the body */
        {{0x7a, 0x01, 0x18}, 3},       /* varint without a value */
        {{0x7f}, 1},                   /* wire type 7 */
    };
    Aesm__Request *r = NULL;
    Aesm__Response *resp = NULL;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(wire_request_decode(bad[i].b, bad[i].n, &r), WIRE_E_DECODE);
        assert_null(r);
    }
    /* empty: a valid, empty Request */
    assert_int_equal(wire_request_decode(NULL, 0, &r), WIRE_OK);
    assert_null(r->initquoteexreq);
    wire_request_free(r);
    assert_int_equal(wire_request_decode(NULL, 5, &r), WIRE_E_INVALID_ARG);
    assert_int_equal(wire_response_decode(bad[0].b, bad[0].n, &resp), WIRE_E_DECODE);
    wire_request_free(NULL);
    wire_response_free(NULL);
}

static void test_response_roundtrip(void **state)
{
    static const uint8_t body[] = {0x82, 0x01, 0x05, 0x08, 0x00, 0x10, 0xfe, 0x24};
    Aesm__Response *r = NULL;
    (void)state;

    assert_int_equal(wire_response_decode(body, sizeof(body), &r), WIRE_OK);
    assert_non_null(r->getquotesizeexres);
    assert_true(r->getquotesizeexres->has_errorcode);
    assert_int_equal(r->getquotesizeexres->errorcode, 0);
    assert_int_equal(r->getquotesizeexres->quote_size, 4734);
    wire_response_free(r);

    /* a sub-message without errorCode reads as the schema default, 1 */
    assert_int_equal(wire_response_decode((const uint8_t *)"\x8a\x01\x00", 3, &r), WIRE_OK);
    assert_false(r->getquoteexres->has_errorcode);
    assert_int_equal(r->getquoteexres->errorcode, 1);
    wire_response_free(r);
}

static void test_wire_strerror(void **state)
{
    static const int codes[] = {WIRE_OK,        WIRE_E_INVALID_ARG, WIRE_E_SHORT, WIRE_E_TOO_LARGE,
                                WIRE_E_TRAILING, WIRE_E_DECODE,     WIRE_E_NOMEM};
    (void)state;

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *s = wire_strerror(codes[i]);
        assert_true(strlen(s) > 3);
        assert_null(strstr(s, "unknown"));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, wire_strerror(codes[j]));
    }
    assert_non_null(strstr(wire_strerror(-99), "unknown"));
}

/* ---- aesm_error_t names (§5.1) and hints ---- */

static void test_aesm_error_names(void **state)
{
    /* aesm-protocol §5.1, written out independently of aesm_error.c */
    static const char *const names[52] = {
        "AESM_SUCCESS", "AESM_UNEXPECTED_ERROR", "AESM_NO_DEVICE_ERROR", "AESM_PARAMETER_ERROR",
        "AESM_EPIDBLOB_ERROR", "AESM_EPID_REVOKED_ERROR", "AESM_GET_LICENSETOKEN_ERROR",
        "AESM_SESSION_INVALID", "AESM_MAX_NUM_SESSION_REACHED", "AESM_PSDA_UNAVAILABLE",
        "AESM_EPH_SESSION_FAILED", "AESM_LONG_TERM_PAIRING_FAILED", "AESM_NETWORK_ERROR",
        "AESM_NETWORK_BUSY_ERROR", "AESM_PROXY_SETTING_ASSIST", "AESM_FILE_ACCESS_ERROR",
        "AESM_SGX_PROVISION_FAILED", "AESM_SERVICE_STOPPED", "AESM_BUSY", "AESM_BACKEND_SERVER_BUSY",
        "AESM_UPDATE_AVAILABLE", "AESM_OUT_OF_MEMORY_ERROR", "AESM_MSG_ERROR", "AESM_THREAD_ERROR",
        "AESM_SGX_DEVICE_NOT_AVAILABLE", "AESM_ENABLE_SGX_DEVICE_FAILED",
        "AESM_PLATFORM_INFO_BLOB_INVALID_SIG", NULL /* 27 unused */, "AESM_KDF_MISMATCH",
        "AESM_OUT_OF_EPC", "AESM_SERVICE_UNAVAILABLE", "AESM_UNRECOGNIZED_PLATFORM",
        "AESM_ECDSA_ID_MISMATCH", "AESM_PATHNAME_BUFFER_OVERFLOW_ERROR", "AESM_ERROR_STORED_KEY",
        "AESM_PUB_KEY_ID_MISMATCH", "AESM_INVALID_PCE_SIG_SCHEME", "AESM_ATT_KEY_BLOB_ERROR",
        "AESM_UNSUPPORTED_ATT_KEY_ID", "AESM_UNSUPPORTED_LOADING_POLICY",
        "AESM_INTERFACE_UNAVAILABLE", "AESM_PLATFORM_LIB_UNAVAILABLE",
        "AESM_ATT_KEY_NOT_INITIALIZED", "AESM_ATT_KEY_CERT_DATA_INVALID",
        "AESM_NO_PLATFORM_CERT_DATA", "AESM_ERROR_REPORT", "AESM_ENCLAVE_LOST",
        "AESM_INVALID_REPORT", "AESM_ENCLAVE_LOAD_ERROR", "AESM_UNABLE_TO_GENERATE_QE_REPORT",
        "AESM_KEY_CERTIFICATION_ERROR", "AESM_CONFIG_UNSUPPORTED",
    };
    (void)state;

    for (int c = 0; c < 52; c++) {
        if (names[c] == NULL) {
            assert_string_equal(aesm_error_name(c), "AESM_UNKNOWN_ERROR");
            assert_string_equal(aesm_error_hint(c), "");
            continue;
        }
        assert_string_equal(aesm_error_name(c), names[c]);
        /* every listed failure has a hint; success has none */
        if (c == 0)
            assert_string_equal(aesm_error_hint(c), "");
        else
            assert_true(strlen(aesm_error_hint(c)) > 10);
    }
    static const int unknown[] = {-1, 52, 1000, 0x7fffffff, -2147483647 - 1};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_string_equal(aesm_error_name(unknown[i]), "AESM_UNKNOWN_ERROR");
        assert_string_equal(aesm_error_hint(unknown[i]), "");
    }
    /* enum values agree with the names (header vs table) */
    assert_string_equal(aesm_error_name(AESM_INVALID_REPORT), "AESM_INVALID_REPORT");
    assert_string_equal(aesm_error_name(AESM_CONFIG_UNSUPPORTED), "AESM_CONFIG_UNSUPPORTED");
}

static void test_aesm_error_hints_say_what_to_do(void **state)
{
    /* field-notes-operations §5.4 and aesm-protocol §8–9: what each common
     * code usually means in the field */
    static const struct {
        int code;
        const char *must_mention;
    } hints[] = {
        {AESM_ATT_KEY_NOT_INITIALIZED, "InitQuoteEx"}, /* restart → re-init (gramine#1881) */
        {AESM_ATT_KEY_NOT_INITIALIZED, "restart"},
        {AESM_INVALID_REPORT, "MAC"},
        {AESM_INVALID_REPORT, "target info"},
        {AESM_NO_PLATFORM_CERT_DATA, "registered"},
        {AESM_NO_PLATFORM_CERT_DATA, "PCCS"},
        {AESM_NETWORK_ERROR, "PCCS"},
        {AESM_NETWORK_ERROR, "localhost"},
        {AESM_UNSUPPORTED_ATT_KEY_ID, "key id"},
        {AESM_SERVICE_UNAVAILABLE, "legacy"},
        {AESM_OUT_OF_EPC, "EPC"},
        {AESM_PARAMETER_ERROR, "buf_size"},
        {AESM_ENCLAVE_LOAD_ERROR, "sgx_prv"},
        {AESM_NO_DEVICE_ERROR, "/dev/sgx_enclave"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        const char *h = aesm_error_hint(hints[i].code);
        if (strstr(h, hints[i].must_mention) == NULL)
            fail_msg("hint for %d (%s) lacks \"%s\": %s", hints[i].code,
                     aesm_error_name(hints[i].code), hints[i].must_mention, h);
        assert_null(strchr(h, '\n')); /* one line */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_encode_is_little_endian),
        cmocka_unit_test(test_prefix_decode_limits),
        cmocka_unit_test(test_frame_split),
        cmocka_unit_test(test_encode_spec_responses),
        cmocka_unit_test(test_encode_rejects_empty),
        cmocka_unit_test(test_encode_spec_requests),
        cmocka_unit_test(test_vectors_decode_and_reencode),
        cmocka_unit_test(test_vector_fields),
        cmocka_unit_test(test_missing_required_still_decodes),
        cmocka_unit_test(test_decode_garbage),
        cmocka_unit_test(test_response_roundtrip),
        cmocka_unit_test(test_wire_strerror),
        cmocka_unit_test(test_aesm_error_names),
        cmocka_unit_test(test_aesm_error_hints_say_what_to_do),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
