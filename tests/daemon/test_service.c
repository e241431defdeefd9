/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service layer against a fake backend: every recorded client request
 * (shared/vectors/aesm-requests) and every error path of aesmd's quote_ex
 * semantics (aesm-protocol §6.5, §8, §9). Expected values come from the
 * spec and the vectors; responses are decoded independently with
 * protobuf-c's generic unpack (svc_util.c).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_backend.h"
#include "svc_util.h"

static fake_state g_st;
static backend *g_b;
static service *g_s;
static uint8_t KID[256];

static void reopen(const service_config *cfg)
{
    service_free(g_s);
    backend_close(g_b);
    g_b = fake_backend_new(&g_st);
    assert_non_null(g_b);
    g_s = service_new(g_b, cfg);
    assert_non_null(g_s);
}

static int setup(void **state)
{
    (void)state;
    ts_spec_ecdsa_key_id(KID);
    fake_state_init(&g_st);
    g_b = NULL;
    g_s = NULL;
    reopen(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    service_free(g_s);
    backend_close(g_b);
    g_s = NULL;
    g_b = NULL;
    return 0;
}

/* ---- request builders (protobuf-c structs, packed by protobuf-c) ---- */

static void bytes(protobuf_c_boolean *has, ProtobufCBinaryData *f, const uint8_t *p, size_t n)
{
    *has = p != NULL;
    f->data = (uint8_t *)p;
    f->len = n;
}

static uint8_t *req_init(const uint8_t *kid, size_t kid_len, int has_b, int b, int has_buf,
                         uint64_t buf, size_t *len)
{
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__InitQuoteExRequest q = AESM__REQUEST__INIT_QUOTE_EX_REQUEST__INIT;

    bytes(&q.has_att_key_id, &q.att_key_id, kid, kid_len);
    q.has_b_pub_key_id = has_b;
    q.b_pub_key_id = b;
    q.has_buf_size = has_buf;
    q.buf_size = buf;
    req.initquoteexreq = &q;
    return pack_request(&req, len);
}

static uint8_t *req_size(const uint8_t *kid, size_t kid_len, size_t *len)
{
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__GetQuoteSizeExRequest q = AESM__REQUEST__GET_QUOTE_SIZE_EX_REQUEST__INIT;

    bytes(&q.has_att_key_id, &q.att_key_id, kid, kid_len);
    req.getquotesizeexreq = &q;
    return pack_request(&req, len);
}

static uint8_t *req_quote(const uint8_t *report, size_t report_len, const uint8_t *kid,
                          size_t kid_len, const uint8_t *qri, size_t qri_len, int has_buf,
                          uint32_t buf, size_t *len)
{
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__GetQuoteExRequest q = AESM__REQUEST__GET_QUOTE_EX_REQUEST__INIT;

    bytes(&q.has_report, &q.report, report, report_len);
    bytes(&q.has_att_key_id, &q.att_key_id, kid, kid_len);
    bytes(&q.has_qe_report_info, &q.qe_report_info, qri, qri_len);
    q.has_buf_size = has_buf;
    q.buf_size = buf;
    req.getquoteexreq = &q;
    return pack_request(&req, len);
}

static uint8_t *req_select(const uint8_t *list, size_t list_len, size_t *len)
{
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__SelectAttKeyIDRequest q = AESM__REQUEST__SELECT_ATT_KEY_IDREQUEST__INIT;

    bytes(&q.has_att_key_id_list, &q.att_key_id_list, list, list_len);
    req.selectattkeyidreq = &q;
    return pack_request(&req, len);
}

static uint8_t *req_ids(int has_buf, uint32_t buf, size_t *len)
{
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__GetSupportedAttKeyIDsRequest q =
        AESM__REQUEST__GET_SUPPORTED_ATT_KEY_IDS_REQUEST__INIT;

    q.has_buf_size = has_buf;
    q.buf_size = buf;
    req.getsupportedattkeyidsreq = &q;
    return pack_request(&req, len);
}

static uint8_t *req_num(int has_timeout, uint32_t timeout, size_t *len)
{
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__GetSupportedAttKeyIDNumRequest q =
        AESM__REQUEST__GET_SUPPORTED_ATT_KEY_IDNUM_REQUEST__INIT;

    q.has_timeout = has_timeout;
    q.timeout = timeout;
    req.getsupportedattkeyidnumreq = &q;
    return pack_request(&req, len);
}

/* A report like the vectors' synthetic one: byte i = i & 0xff (aesm-clients §5). */
static void synthetic_report(uint8_t r[432])
{
    for (size_t i = 0; i < 432; i++)
        r[i] = (uint8_t)i;
}

/* A 256-byte EPID key id (aesm §6.4): AE signer, prod_id 1, alg 0 or 1. */
static void epid_key_id(uint8_t out[256], uint32_t alg)
{
    static const uint8_t ae_signer[32] = {
        0xec, 0x15, 0xb1, 0x07, 0x87, 0xd2, 0xf8, 0x46, 0x67, 0xce, 0xb0, 0xb5, 0x98, 0xff, 0xc4, 0x4a,
        0x1f, 0x1c, 0xb8, 0x0f, 0x67, 0x0a, 0xae, 0x5d, 0xf9, 0xe8, 0xfa, 0x9f, 0x63, 0x76, 0xe1, 0xf8,
    };
    memset(out, 0, 256);
    out[4] = 32;
    memcpy(out + 6, ae_signer, 32);
    out[54] = 1;
    out[154] = (uint8_t)alg;
    out[174] = (uint8_t)alg; /* att_key_type: 1 for linkable */
}

/* sgx_ql_att_key_id_list_t (aesm §6.4): 8-byte header + n × 256. */
static uint8_t *key_id_list(uint16_t id, uint16_t version, uint32_t num, const uint8_t *entries,
                            size_t n_entries, size_t *len)
{
    size_t n = 8 + n_entries * 256;
    uint8_t *buf = calloc(1, n);

    assert_non_null(buf);
    buf[0] = (uint8_t)id;
    buf[1] = (uint8_t)(id >> 8);
    buf[2] = (uint8_t)version;
    buf[3] = (uint8_t)(version >> 8);
    for (int i = 0; i < 4; i++)
        buf[4 + i] = (uint8_t)(num >> (8 * i));
    if (n_entries > 0)
        memcpy(buf + 8, entries, n_entries * 256);
    *len = n;
    return buf;
}

/* ---- recorded requests ---- */

static void test_vectors_fake_backend(void **state)
{
    service_result res;
    Aesm__Response *r;
    Aesm__Request *q;
    uint32_t num, quote_size;
    (void)state;

    /* 01: GetSupportedAttKeyIDNum */
    r = svc_call_vec(g_s, "01_get_supported_att_key_id_num", 21, &res, NULL);
    assert_string_equal(res.op, "GetSupportedAttKeyIDNum");
    assert_int_equal(r->getsupportedattkeyidnumres->errorcode, 0);
    assert_true(r->getsupportedattkeyidnumres->has_att_key_id_num);
    num = r->getsupportedattkeyidnumres->att_key_id_num;
    assert_int_equal(num, 1); /* ECDSA-only: exactly one id (§6.5) */
    aesm__response__free_unpacked(r, NULL);

    /* 02: GetSupportedAttKeyIDs(num=1): exactly count × 256 bytes */
    r = svc_call_vec(g_s, "02_get_supported_att_key_ids_num1", 22, &res, NULL);
    assert_int_equal(r->getsupportedattkeyidsres->errorcode, 0);
    assert_true(r->getsupportedattkeyidsres->has_att_key_ids);
    assert_int_equal(r->getsupportedattkeyidsres->att_key_ids.len, num * 256);
    assert_memory_equal(r->getsupportedattkeyidsres->att_key_ids.data, KID, 256);
    aesm__response__free_unpacked(r, NULL);

    /* 03 and 08: SelectAttKeyID */
    svc_check_select_vectors(g_s, KID);

    /* 04 and 09: size query (09 with a garbage buf_size, which is ignored) */
    static const char *const sizing[] = {"04_init_quote_ex_sizing",
                                         "09_init_quote_ex_sizing_nonzero_size"};
    for (size_t i = 0; i < 2; i++) {
        r = svc_call_vec(g_s, sizing[i], 15, &res, &q);
        assert_string_equal(res.op, "InitQuoteEx");
        assert_int_equal(r->initquoteexres->errorcode, 0);
        assert_int_equal(r->initquoteexres->target_info.len, 512);
        assert_true(all_bytes(r->initquoteexres->target_info.data, 512, 0)); /* aesmd style */
        assert_true(r->initquoteexres->has_pub_key_id_size);
        assert_int_equal(r->initquoteexres->pub_key_id_size, 32);
        assert_false(r->initquoteexres->has_pub_key_id);
        if (i == 1) {
            assert_true(q->initquoteexreq->has_buf_size);
            assert_int_equal(q->initquoteexreq->buf_size, 140722627616320ULL);
        }
        aesm__request__free_unpacked(q, NULL);
        aesm__response__free_unpacked(r, NULL);
    }
    assert_int_equal(atomic_load(&g_st.calls_init), 0); /* no backend work (§8.2) */

    /* 05 (Intel) and 11 (Gramine): full init */
    static const char *const full[] = {"05_init_quote_ex_with_pub_key_id_buf",
                                       "11_gramine_init_quote_ex"};
    for (size_t i = 0; i < 2; i++) {
        r = svc_call_vec(g_s, full[i], 15, &res, NULL);
        assert_int_equal(r->initquoteexres->errorcode, 0);
        assert_int_equal(r->initquoteexres->target_info.len, 512); /* Gramine: exactly */
        assert_true(all_bytes(r->initquoteexres->target_info.data, 512, FAKE_TI_BYTE));
        assert_int_equal(r->initquoteexres->pub_key_id_size, 32);
        assert_int_equal(r->initquoteexres->pub_key_id.len, r->initquoteexres->pub_key_id_size);
        assert_true(all_bytes(r->initquoteexres->pub_key_id.data, 32, FAKE_PUB_KEY_ID_BYTE));
        aesm__response__free_unpacked(r, NULL);
    }

    /* 06: GetQuoteSizeEx: the exact size */
    r = svc_call_vec(g_s, "06_get_quote_size_ex", 16, &res, NULL);
    assert_int_equal(r->getquotesizeexres->errorcode, 0);
    assert_true(r->getquotesizeexres->has_quote_size);
    quote_size = r->getquotesizeexres->quote_size;
    assert_int_equal(quote_size, g_st.quote_size);
    aesm__response__free_unpacked(r, NULL);

    /* 07, 10 (buf_size 1200) and 12 (Gramine, 8192): padded quotes */
    static const struct {
        const char *name;
        uint32_t buf_size;
        int qri;
    } quotes[] = {
        {"07_get_quote_ex_no_qe_report_info", 1200, 0},
        {"10_get_quote_ex_with_qe_report_info", 1200, 1},
        {"12_gramine_get_quote_ex", 8192, 0},
    };
    for (size_t i = 0; i < 3; i++) {
        Aesm__Response__GetQuoteExResponse *g;
        r = svc_call_vec(g_s, quotes[i].name, 17, &res, &q);
        g = r->getquoteexres;
        assert_string_equal(res.op, "GetQuoteEx");
        assert_int_equal(g->errorcode, 0);
        assert_int_equal(q->getquoteexreq->buf_size, quotes[i].buf_size);
        assert_true(g->has_quote);
        assert_true(g->quote.len <= quotes[i].buf_size);
        assert_int_equal(g->quote.len, quotes[i].buf_size); /* aesmd style */
        assert_int_equal(436 + le32_at(g->quote.data, 432), quote_size);
        assert_true(all_bytes(g->quote.data + quote_size, g->quote.len - quote_size, 0));
        if (quotes[i].qri) {
            assert_true(g->has_qe_report_info);
            assert_int_equal(g->qe_report_info.len, 960);
            assert_memory_equal(g->qe_report_info.data, q->getquoteexreq->qe_report_info.data, 528);
            assert_true(all_bytes(g->qe_report_info.data + 528, 432, FAKE_QE_REPORT_BYTE));
        } else {
            assert_false(g->has_qe_report_info);
        }
        /* Result: the app enclave's identity (synthetic report: byte i = i). */
        assert_true(res.has_enclave);
        assert_int_equal(res.mr_enclave[0], 64);
        assert_int_equal(res.mr_enclave[31], 95);
        assert_int_equal(res.mr_signer[0], 128);
        assert_int_equal(res.mr_signer[31], 159);
        aesm__request__free_unpacked(q, NULL);
        aesm__response__free_unpacked(r, NULL);
    }
}

/* ---- required fields missing: matching response, errorCode 1 (§9.2) ---- */

static void test_missing_required_fields(void **state)
{
    uint8_t report[432];
    uint8_t *body;
    size_t len;
    Aesm__Response *r;
    (void)state;

    synthetic_report(report);

    body = req_init(KID, 256, 0, 0, 1, 32, &len); /* no b_pub_key_id */
    r = svc_call(g_s, body, len, 15, NULL);
    assert_int_equal(r->initquoteexres->errorcode, 1);
    assert_false(r->initquoteexres->has_target_info);
    assert_false(r->initquoteexres->has_pub_key_id);
    aesm__response__free_unpacked(r, NULL);
    free(body);

    body = req_quote(NULL, 0, KID, 256, NULL, 0, 1, 2000, &len); /* no report */
    r = svc_call(g_s, body, len, 17, NULL);
    assert_int_equal(r->getquoteexres->errorcode, 1);
    assert_false(r->getquoteexres->has_quote);
    aesm__response__free_unpacked(r, NULL);
    free(body);

    body = req_quote(report, 432, KID, 256, NULL, 0, 0, 0, &len); /* no buf_size */
    r = svc_call(g_s, body, len, 17, NULL);
    assert_int_equal(r->getquoteexres->errorcode, 1);
    assert_false(r->getquoteexres->has_quote);
    aesm__response__free_unpacked(r, NULL);
    free(body);

    body = req_ids(0, 0, &len); /* no buf_size */
    r = svc_call(g_s, body, len, 22, NULL);
    assert_int_equal(r->getsupportedattkeyidsres->errorcode, 1);
    assert_false(r->getsupportedattkeyidsres->has_att_key_ids);
    aesm__response__free_unpacked(r, NULL);
    free(body);

    assert_int_equal(atomic_load(&g_st.calls_init), 0);
    assert_int_equal(atomic_load(&g_st.calls_quote), 0);
}

/* ---- InitQuoteEx (§8.2) ---- */

static Aesm__Response__InitQuoteExResponse *init_call(Aesm__Response **keep, const uint8_t *kid,
                                                      size_t kid_len, int b, int has_buf,
                                                      uint64_t buf)
{
    size_t len;
    uint8_t *body = req_init(kid, kid_len, 1, b, has_buf, buf, &len);

    *keep = svc_call(g_s, body, len, 15, NULL);
    free(body);
    return (*keep)->initquoteexres;
}

static void test_init_quote_ex_errors(void **state)
{
    uint8_t kid[257];
    Aesm__Response *keep;
    Aesm__Response__InitQuoteExResponse *r;
    (void)state;

    /* att_key_id absent / shorter than 256 → 3 */
    r = init_call(&keep, NULL, 0, 1, 1, 32);
    assert_int_equal(r->errorcode, 3);
    assert_true(r->has_pub_key_id_size);
    assert_int_equal(r->pub_key_id_size, 32); /* echoes the request's buf_size */
    assert_false(r->has_target_info);
    assert_false(r->has_pub_key_id);
    aesm__response__free_unpacked(keep, NULL);

    r = init_call(&keep, KID, 255, 1, 1, 32);
    assert_int_equal(r->errorcode, 3);
    aesm__response__free_unpacked(keep, NULL);

    /* longer than 256: accepted, the first 256 bytes are the key id */
    memcpy(kid, KID, 256);
    kid[256] = 0x99;
    r = init_call(&keep, kid, 257, 1, 1, 32);
    assert_int_equal(r->errorcode, 0);
    aesm__response__free_unpacked(keep, NULL);

    /* base mismatch (anywhere in the first 158 bytes) → 38 */
    static const size_t base_offsets[] = {0, 6, 54, 154, 157};
    for (size_t i = 0; i < sizeof(base_offsets) / sizeof(base_offsets[0]); i++) {
        memcpy(kid, KID, 256);
        kid[base_offsets[i]] ^= 0x01;
        r = init_call(&keep, kid, 256, 1, 1, 32);
        assert_int_equal(r->errorcode, 38);
        assert_false(r->has_target_info);
        aesm__response__free_unpacked(keep, NULL);
        /* also on the size query */
        r = init_call(&keep, kid, 256, 0, 0, 0);
        assert_int_equal(r->errorcode, 38);
        aesm__response__free_unpacked(keep, NULL);
    }

    /* bytes 158..255 are not compared; the backend gets the caller's id */
    memcpy(kid, KID, 256);
    kid[158] = 0x42;
    kid[255] = 0x24;
    r = init_call(&keep, kid, 256, 1, 1, 32);
    assert_int_equal(r->errorcode, 0);
    assert_memory_equal(&g_st.last_key_id, kid, 256);
    aesm__response__free_unpacked(keep, NULL);

    /* full init needs buf_size exactly 32 */
    static const struct {
        int has;
        uint64_t buf;
    } bad[] = {{1, 31}, {1, 33}, {1, 0}, {0, 0}, {1, 140722627616320ULL}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned before = atomic_load(&g_st.calls_init);
        r = init_call(&keep, KID, 256, 1, bad[i].has, bad[i].buf);
        assert_int_equal(r->errorcode, 3);
        assert_true(r->has_pub_key_id_size);
        assert_int_equal(r->pub_key_id_size, bad[i].has ? bad[i].buf : 0);
        assert_false(r->has_target_info);
        assert_false(r->has_pub_key_id);
        assert_int_equal(atomic_load(&g_st.calls_init), before);
        aesm__response__free_unpacked(keep, NULL);
    }

    /* size query: any buf_size (or none) is ignored */
    static const uint64_t any[] = {0, 1, 32, 1024, UINT64_MAX};
    for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
        r = init_call(&keep, KID, 256, 0, 1, any[i]);
        assert_int_equal(r->errorcode, 0);
        assert_int_equal(r->pub_key_id_size, 32);
        assert_int_equal(r->target_info.len, 512);
        aesm__response__free_unpacked(keep, NULL);
    }

    /* backend failure passes through; no target info, size echoed */
    g_st.init_rc = AESM_NO_PLATFORM_CERT_DATA;
    r = init_call(&keep, KID, 256, 1, 1, 32);
    assert_int_equal(r->errorcode, 44);
    assert_int_equal(r->pub_key_id_size, 32);
    assert_false(r->has_target_info);
    assert_false(r->has_pub_key_id);
    aesm__response__free_unpacked(keep, NULL);
}

/* ---- GetQuoteSizeEx (§8.3) ---- */

static void test_get_quote_size_ex_errors(void **state)
{
    uint8_t kid[256];
    uint8_t *body;
    size_t len;
    Aesm__Response *r;
    (void)state;

    struct {
        const uint8_t *kid;
        size_t len;
        uint32_t want;
    } cases[] = {{NULL, 0, 3}, {KID, 255, 3}, {kid, 256, 38}};
    memcpy(kid, KID, 256);
    kid[155] ^= 0x80;
    for (size_t i = 0; i < 3; i++) {
        body = req_size(cases[i].kid, cases[i].len, &len);
        r = svc_call(g_s, body, len, 16, NULL);
        assert_int_equal(r->getquotesizeexres->errorcode, cases[i].want);
        assert_true(r->getquotesizeexres->has_quote_size); /* always present */
        assert_int_equal(r->getquotesizeexres->quote_size, 0);
        aesm__response__free_unpacked(r, NULL);
        free(body);
    }
    assert_int_equal(atomic_load(&g_st.calls_size), 0);

    g_st.size_rc = AESM_ATT_KEY_NOT_INITIALIZED;
    body = req_size(KID, 256, &len);
    r = svc_call(g_s, body, len, 16, NULL);
    assert_int_equal(r->getquotesizeexres->errorcode, 42);
    assert_true(r->getquotesizeexres->has_quote_size);
    assert_int_equal(r->getquotesizeexres->quote_size, 0);
    aesm__response__free_unpacked(r, NULL);
    free(body);
}

/* ---- GetQuoteEx (§8.4, §9.3) ---- */

static Aesm__Response__GetQuoteExResponse *quote_call(Aesm__Response **keep, size_t report_len,
                                                      const uint8_t *kid, size_t kid_len,
                                                      const uint8_t *qri, size_t qri_len,
                                                      uint32_t buf)
{
    uint8_t report[440];
    size_t len;
    uint8_t *body;

    for (size_t i = 0; i < sizeof(report); i++)
        report[i] = (uint8_t)i;
    body = req_quote(report_len > 0 ? report : NULL, report_len, kid, kid_len, qri, qri_len, 1, buf,
                     &len);
    *keep = svc_call(g_s, body, len, 17, NULL);
    free(body);
    return (*keep)->getquoteexres;
}

static void test_get_quote_ex_validation(void **state)
{
    uint8_t qri[961], kid[256];
    Aesm__Response *keep;
    Aesm__Response__GetQuoteExResponse *r;
    (void)state;

    for (size_t i = 0; i < sizeof(qri); i++)
        qri[i] = (uint8_t)(i * 7);
    memcpy(kid, KID, 256);
    kid[100] ^= 0xff;

    /* report must be exactly 432 */
    static const size_t bad_reports[] = {0, 431, 433};
    for (size_t i = 0; i < 3; i++) {
        r = quote_call(&keep, bad_reports[i], KID, 256, NULL, 0, 4096);
        assert_int_equal(r->errorcode, bad_reports[i] == 0 ? 1 : 3);
        assert_false(r->has_quote);
        aesm__response__free_unpacked(keep, NULL);
    }
    /* qe_report_info must be exactly 960; a malformed one is not echoed */
    static const size_t bad_qri[] = {959, 961, 1};
    for (size_t i = 0; i < 3; i++) {
        r = quote_call(&keep, 432, KID, 256, qri, bad_qri[i], 4096);
        assert_int_equal(r->errorcode, 3);
        assert_false(r->has_quote);
        assert_false(r->has_qe_report_info);
        aesm__response__free_unpacked(keep, NULL);
    }
    /* key id: absent/short → 3, other base → 38; qe_report_info echoed unchanged */
    r = quote_call(&keep, 432, NULL, 0, qri, 960, 4096);
    assert_int_equal(r->errorcode, 3);
    assert_int_equal(r->qe_report_info.len, 960);
    assert_memory_equal(r->qe_report_info.data, qri, 960);
    aesm__response__free_unpacked(keep, NULL);
    r = quote_call(&keep, 432, KID, 200, qri, 960, 4096);
    assert_int_equal(r->errorcode, 3);
    aesm__response__free_unpacked(keep, NULL);
    r = quote_call(&keep, 432, kid, 256, qri, 960, 4096);
    assert_int_equal(r->errorcode, 38);
    assert_false(r->has_quote);
    assert_true(r->has_qe_report_info);
    assert_memory_equal(r->qe_report_info.data, qri, 960);
    aesm__response__free_unpacked(keep, NULL);
    assert_int_equal(atomic_load(&g_st.calls_quote), 0);

    /* invalid report MAC → 47: no quote, qe_report_info echoed unchanged */
    g_st.reject_mac = true;
    r = quote_call(&keep, 432, KID, 256, qri, 960, 4096);
    assert_int_equal(r->errorcode, 47);
    assert_false(r->has_quote);
    assert_true(r->has_qe_report_info);
    assert_memory_equal(r->qe_report_info.data, qri, 960);
    aesm__response__free_unpacked(keep, NULL);
    g_st.reject_mac = false;

    /* other backend errors pass through (49: QE report failed) */
    g_st.quote_rc = AESM_UNABLE_TO_GENERATE_QE_REPORT;
    r = quote_call(&keep, 432, KID, 256, qri, 960, 4096);
    assert_int_equal(r->errorcode, 49);
    assert_false(r->has_quote);
    assert_memory_equal(r->qe_report_info.data, qri, 960);
    aesm__response__free_unpacked(keep, NULL);
    g_st.quote_rc = AESM_SUCCESS;
}

static void test_get_quote_ex_buf_size(void **state)
{
    Aesm__Response *keep;
    Aesm__Response__GetQuoteExResponse *r;
    service_config cfg;
    (void)state;

    /* too small → 3, no quote */
    r = quote_call(&keep, 432, KID, 256, NULL, 0, g_st.quote_size - 1);
    assert_int_equal(r->errorcode, 3);
    assert_false(r->has_quote);
    aesm__response__free_unpacked(keep, NULL);
    r = quote_call(&keep, 432, KID, 256, NULL, 0, 0);
    assert_int_equal(r->errorcode, 3);
    aesm__response__free_unpacked(keep, NULL);

    /* exact, padded, and padded up to the cap itself */
    static const uint32_t padded[] = {1100, 1101, 8192, SERVICE_DEFAULT_MAX_BUF_SIZE};
    for (size_t i = 0; i < 4; i++) {
        r = quote_call(&keep, 432, KID, 256, NULL, 0, padded[i]);
        assert_int_equal(r->errorcode, 0);
        assert_int_equal(r->quote.len, padded[i]);
        assert_int_equal(436 + le32_at(r->quote.data, 432), g_st.quote_size);
        assert_true(all_bytes(r->quote.data + 1100, padded[i] - 1100, 0));
        assert_int_equal(atomic_load(&g_st.last_cap), padded[i]);
        aesm__response__free_unpacked(keep, NULL);
    }

    /* above the cap: nothing of buf_size is allocated, the exact quote is sent */
    static const uint32_t huge[] = {SERVICE_DEFAULT_MAX_BUF_SIZE + 1, 1u << 30, UINT32_MAX};
    for (size_t i = 0; i < 3; i++) {
        r = quote_call(&keep, 432, KID, 256, NULL, 0, huge[i]);
        assert_int_equal(r->errorcode, 0);
        assert_int_equal(r->quote.len, g_st.quote_size);
        assert_int_equal(436 + le32_at(r->quote.data, 432), g_st.quote_size);
        assert_true(atomic_load(&g_st.last_cap) <= SERVICE_DEFAULT_MAX_BUF_SIZE);
        aesm__response__free_unpacked(keep, NULL);
    }

    /* a size failure on the capped path is reported, not papered over */
    g_st.size_rc = AESM_ATT_KEY_NOT_INITIALIZED;
    r = quote_call(&keep, 432, KID, 256, NULL, 0, UINT32_MAX);
    assert_int_equal(r->errorcode, 42);
    assert_false(r->has_quote);
    aesm__response__free_unpacked(keep, NULL);
    g_st.size_rc = AESM_SUCCESS;

    /* a smaller configured cap */
    service_config_default(&cfg);
    assert_int_equal(cfg.max_buf_size, 16u * 1024u);
    cfg.max_buf_size = 2000;
    reopen(&cfg);
    r = quote_call(&keep, 432, KID, 256, NULL, 0, 1500);
    assert_int_equal(r->quote.len, 1500);
    aesm__response__free_unpacked(keep, NULL);
    r = quote_call(&keep, 432, KID, 256, NULL, 0, 2000);
    assert_int_equal(r->quote.len, 2000);
    aesm__response__free_unpacked(keep, NULL);
    r = quote_call(&keep, 432, KID, 256, NULL, 0, 2001);
    assert_int_equal(r->errorcode, 0);
    assert_int_equal(r->quote.len, 1100);
    assert_true(atomic_load(&g_st.last_cap) <= 2000);
    aesm__response__free_unpacked(keep, NULL);
}

/* ---- SelectAttKeyID (§6.5) ---- */

static Aesm__Response__SelectAttKeyIDResponse *select_call(Aesm__Response **keep,
                                                           const uint8_t *list, size_t list_len)
{
    size_t len;
    uint8_t *body = req_select(list, list_len, &len);

    *keep = svc_call(g_s, body, len, 19, NULL);
    free(body);
    return (*keep)->selectattkeyidres;
}

static void test_select_att_key_id(void **state)
{
    uint8_t entries[11 * 256], epid0[256], epid1[256], mine[256];
    uint8_t *list;
    size_t list_len;
    Aesm__Response *keep;
    Aesm__Response__SelectAttKeyIDResponse *r;
    (void)state;

    epid_key_id(epid0, 0);
    epid_key_id(epid1, 1);
    memcpy(mine, KID, 256);
    memset(mine + 158, 0x5a, 16); /* the caller's spid: not part of the base */

    /* header validation → 3 */
    memcpy(entries, KID, 256);
    static const struct {
        uint16_t id, version;
        uint32_t num;
        size_t entries;
    } bad[] = {{1, 0, 1, 1}, {0, 1, 1, 1}, {0, 0, 0, 0}, {0, 0, 2, 1}, {0, 0, 11, 11}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (size_t j = 0; j < bad[i].entries; j++)
            memcpy(entries + j * 256, KID, 256);
        list = key_id_list(bad[i].id, bad[i].version, bad[i].num, entries, bad[i].entries, &list_len);
        r = select_call(&keep, list, list_len);
        assert_int_equal(r->errorcode, 3);
        assert_false(r->has_selected_att_key_id);
        aesm__response__free_unpacked(keep, NULL);
        free(list);
    }
    /* length not exactly 8 + 256 n → 3 */
    list = key_id_list(0, 0, 1, KID, 1, &list_len);
    static const int deltas[] = {-1, +1, -256};
    for (size_t i = 0; i < 3; i++) {
        uint8_t buf[8 + 512] = {0};
        memcpy(buf, list, list_len);
        r = select_call(&keep, buf, (size_t)((long)list_len + deltas[i]));
        assert_int_equal(r->errorcode, 3);
        aesm__response__free_unpacked(keep, NULL);
    }
    free(list);
    /* a header shorter than 8 bytes → 3 */
    r = select_call(&keep, (const uint8_t *)"\0\0\0", 3);
    assert_int_equal(r->errorcode, 3);
    aesm__response__free_unpacked(keep, NULL);

    /* ten entries is the maximum and fine; the caller's entry is returned */
    for (size_t j = 0; j < 10; j++)
        memcpy(entries + j * 256, j == 7 ? mine : epid0, 256);
    list = key_id_list(0, 0, 10, entries, 10, &list_len);
    r = select_call(&keep, list, list_len);
    assert_int_equal(r->errorcode, 0);
    assert_memory_equal(r->selected_att_key_id.data, mine, 256);
    aesm__response__free_unpacked(keep, NULL);
    free(list);

    /* nothing matches → 38 */
    memcpy(entries, epid0, 256);
    memcpy(entries + 256, epid1, 256);
    list = key_id_list(0, 0, 2, entries, 2, &list_len);
    r = select_call(&keep, list, list_len);
    assert_int_equal(r->errorcode, 38);
    assert_false(r->has_selected_att_key_id);
    aesm__response__free_unpacked(keep, NULL);

    /* With EPID ids offered too (aesmd with the EPID plugin): the tie-break
     * picks the ecdsa_256 entry over an earlier EPID match. */
    memcpy(&g_st.key_ids[0], epid0, 256);
    memcpy(&g_st.key_ids[1], KID, 256);
    g_st.n_key_ids = 2;
    reopen(NULL);
    memcpy(entries, epid0, 256);
    memcpy(entries + 256, mine, 256);
    free(list);
    list = key_id_list(0, 0, 2, entries, 2, &list_len);
    r = select_call(&keep, list, list_len);
    assert_int_equal(r->errorcode, 0);
    assert_memory_equal(r->selected_att_key_id.data, mine, 256);
    aesm__response__free_unpacked(keep, NULL);
    free(list);
    /* absent list: all offered ids are candidates, ECDSA wins */
    r = select_call(&keep, NULL, 0);
    assert_int_equal(r->errorcode, 0);
    assert_memory_equal(r->selected_att_key_id.data, KID, 256);
    aesm__response__free_unpacked(keep, NULL);

    /* no ecdsa_256 among the matches: the first match wins */
    memcpy(&g_st.key_ids[0], epid0, 256);
    memcpy(&g_st.key_ids[1], epid1, 256);
    reopen(NULL);
    memcpy(entries, epid1, 256);
    memcpy(entries + 256, epid0, 256);
    list = key_id_list(0, 0, 2, entries, 2, &list_len);
    r = select_call(&keep, list, list_len);
    assert_int_equal(r->errorcode, 0);
    assert_memory_equal(r->selected_att_key_id.data, epid1, 256);
    aesm__response__free_unpacked(keep, NULL);
    free(list);
}

/* ---- GetSupportedAttKeyIDNum / IDs (§6.5, §9.2) ---- */

static void test_supported_key_ids(void **state)
{
    uint8_t epid0[256];
    uint8_t *body;
    size_t len;
    Aesm__Response *r;
    (void)state;

    static const uint32_t bad[] = {0, 255, 257, 512};
    for (size_t i = 0; i < 4; i++) {
        body = req_ids(1, bad[i], &len);
        r = svc_call(g_s, body, len, 22, NULL);
        assert_int_equal(r->getsupportedattkeyidsres->errorcode, 3);
        assert_false(r->getsupportedattkeyidsres->has_att_key_ids);
        aesm__response__free_unpacked(r, NULL);
        free(body);
    }

    epid_key_id(epid0, 0);
    memcpy(&g_st.key_ids[1], epid0, 256);
    g_st.n_key_ids = 2;
    reopen(NULL);
    body = req_num(1, 15000, &len);
    r = svc_call(g_s, body, len, 21, NULL);
    assert_int_equal(r->getsupportedattkeyidnumres->att_key_id_num, 2);
    aesm__response__free_unpacked(r, NULL);
    free(body);
    body = req_ids(1, 512, &len);
    r = svc_call(g_s, body, len, 22, NULL);
    assert_int_equal(r->getsupportedattkeyidsres->errorcode, 0);
    assert_int_equal(r->getsupportedattkeyidsres->att_key_ids.len, 512);
    assert_memory_equal(r->getsupportedattkeyidsres->att_key_ids.data, KID, 256);
    assert_memory_equal(r->getsupportedattkeyidsres->att_key_ids.data + 256, epid0, 256);
    aesm__response__free_unpacked(r, NULL);
    free(body);
    body = req_ids(1, 256, &len);
    r = svc_call(g_s, body, len, 22, NULL);
    assert_int_equal(r->getsupportedattkeyidsres->errorcode, 3);
    aesm__response__free_unpacked(r, NULL);
    free(body);
}

/* ---- no quote provider: 30 everywhere, num still sent (§6.5) ---- */

static void check_all_unavailable(service *s)
{
    uint8_t report[432];
    uint8_t *body;
    size_t len;
    Aesm__Response *r;

    synthetic_report(report);
    body = req_num(0, 0, &len);
    r = svc_call(s, body, len, 21, NULL);
    assert_int_equal(r->getsupportedattkeyidnumres->errorcode, 30);
    assert_true(r->getsupportedattkeyidnumres->has_att_key_id_num);
    assert_int_equal(r->getsupportedattkeyidnumres->att_key_id_num, 0);
    aesm__response__free_unpacked(r, NULL);
    free(body);

    body = req_ids(1, 256, &len);
    r = svc_call(s, body, len, 22, NULL);
    assert_int_equal(response_error(r, 22), 30);
    aesm__response__free_unpacked(r, NULL);
    free(body);

    body = req_select(NULL, 0, &len);
    r = svc_call(s, body, len, 19, NULL);
    assert_int_equal(response_error(r, 19), 30);
    aesm__response__free_unpacked(r, NULL);
    free(body);

    body = req_init(KID, 256, 1, 1, 1, 32, &len);
    r = svc_call(s, body, len, 15, NULL);
    assert_int_equal(response_error(r, 15), 30);
    aesm__response__free_unpacked(r, NULL);
    free(body);

    body = req_size(KID, 256, &len);
    r = svc_call(s, body, len, 16, NULL);
    assert_int_equal(response_error(r, 16), 30);
    assert_true(r->getquotesizeexres->has_quote_size);
    aesm__response__free_unpacked(r, NULL);
    free(body);

    body = req_quote(report, 432, KID, 256, NULL, 0, 1, 4096, &len);
    r = svc_call(s, body, len, 17, NULL);
    assert_int_equal(response_error(r, 17), 30);
    assert_false(r->getquoteexres->has_quote);
    aesm__response__free_unpacked(r, NULL);
    free(body);
}

static void test_no_key_ids(void **state)
{
    service *bare;
    (void)state;

    g_st.n_key_ids = 0;
    reopen(NULL);
    check_all_unavailable(g_s);

    bare = service_new(NULL, NULL);
    assert_non_null(bare);
    check_all_unavailable(bare);
    service_free(bare);
}

/* ---- legacy / EPID requests (§3.4, §9.2) ---- */

static void test_legacy_requests(void **state)
{
    static const struct {
        unsigned tag;
        const char *op;
    } legacy[] = {
        {1, "InitQuote"},         {2, "GetQuote"},
        {3, "GetLaunchToken"},    {4, "ReportAttestationError"},
        {10, "GetWhiteListSize"}, {11, "GetWhiteList"},
        {12, "SGXGetExtendedEpidGroupId"}, {13, "SGXSwitchExtendedEpidGroup"},
        {14, "SGXRegister"},      {18, "CheckUpdateStatus"},
    };
    service_result res;
    Aesm__Response *r;
    (void)state;

    for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
        uint8_t body[3];
        size_t n = 0;
        unsigned key = legacy[i].tag << 3 | 2; /* length-delimited, empty sub-message */
        if (key < 0x80) {
            body[n++] = (uint8_t)key;
        } else {
            body[n++] = (uint8_t)(key | 0x80);
            body[n++] = (uint8_t)(key >> 7);
        }
        body[n++] = 0;
        r = svc_call(g_s, body, n, legacy[i].tag, &res);
        assert_int_equal(response_error(r, legacy[i].tag), 30);
        assert_string_equal(res.op, legacy[i].op);
        assert_int_equal(res.aesm_code, 30);
        aesm__response__free_unpacked(r, NULL);
    }

    /* aesm-protocol §3.6: the InitQuote request vector, timeout 15000 */
    static const uint8_t init_quote[] = {0x0a, 0x03, 0x48, 0x98, 0x75};
    r = svc_call(g_s, init_quote, sizeof(init_quote), 1, NULL);
    assert_int_equal(r->initquoteres->errorcode, 30);
    assert_false(r->initquoteres->has_targetinfo);
    aesm__response__free_unpacked(r, NULL);
}

/* ---- several sub-messages: aesmd's priority order (§3.1) ---- */

static void test_priority_order(void **state)
{
    static const struct {
        uint8_t body[6];
        size_t len;
        unsigned want;
    } cases[] = {
        /* 17 and 15 → 15 */
        {{0x8a, 0x01, 0x00, 0x7a, 0x00}, 5, 15},
        /* 15 and 3 → 3 (launch token first) */
        {{0x7a, 0x00, 0x1a, 0x00}, 4, 3},
        /* 10 and 18 → 18 (CheckUpdateStatus before the whitelist) */
        {{0x52, 0x00, 0x92, 0x01, 0x00}, 5, 18},
        /* 22 and 21 → 21 */
        {{0xb2, 0x01, 0x00, 0xaa, 0x01, 0x00}, 6, 21},
        /* 19 and 16 → 16 */
        {{0x9a, 0x01, 0x00, 0x82, 0x01, 0x00}, 6, 16},
        /* 1 and 2 → 1 */
        {{0x12, 0x00, 0x0a, 0x00}, 4, 1},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Aesm__Response *r = svc_call(g_s, cases[i].body, cases[i].len, cases[i].want, NULL);
        aesm__response__free_unpacked(r, NULL);
    }
}

/* ---- unknown or unparsable: close without writing (§1.3, §9.1 item 3) ---- */

static void test_unknown_and_garbage_close(void **state)
{
    static const struct {
        uint8_t body[8];
        size_t len;
    } cases[] = {
        {{0}, 0},                              /* empty body: no sub-message */
        {{0xa2, 0x01, 0x00}, 3},               /* 20: response-only tag */
        {{0x2a, 0x00}, 2},                     /* 5: removed PSE call */
        {{0xba, 0x01, 0x00}, 3},               /* 23: unknown */
        {{0x48, 0x98, 0x75}, 3},               /* a bare varint field, no sub-message */
        {{0xff, 0xff, 0xff, 0xff, 0xff}, 5},   /* garbage */
        {{0x7a, 0x05, 0x08}, 3},               /* sub-message runs past the end */
        {{0x7a, 0x01, 0x18}, 3},               /* truncated field inside */
        {{0xaa, 0x01, 0x03, 0x48, 0x98}, 5},   /* vector 01 cut short */
        {{0x7f}, 1},                           /* invalid wire type 7 */
    };
    size_t len;
    uint8_t *body;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        svc_expect_close(g_s, cases[i].body, cases[i].len);

    body = vec_body("10_get_quote_ex_with_qe_report_info", &len);
    for (size_t cut = 1; cut < len; cut += 97)
        svc_expect_close(g_s, body, len - cut);
    free(body);

    svc_expect_close(NULL, (const uint8_t *)"\xaa\x01\x00", 3);
    service_handle(g_s, NULL, 0, NULL); /* must not crash */
}

/* Unknown fields inside or next to a known sub-message are ignored. */
static void test_unknown_fields_ignored(void **state)
{
    /* 21 { timeout 15000, field 7 = 1 }, then outer field 30 = 5 */
    static const uint8_t body[] = {0xaa, 0x01, 0x05, 0x48, 0x98, 0x75, 0x38, 0x01, 0xf0, 0x01, 0x05};
    Aesm__Response *r;
    (void)state;

    r = svc_call(g_s, body, sizeof(body), 21, NULL);
    assert_int_equal(r->getsupportedattkeyidnumres->errorcode, 0);
    assert_int_equal(r->getsupportedattkeyidnumres->att_key_id_num, 1);
    aesm__response__free_unpacked(r, NULL);
}

/* ---- timeout is accepted and ignored (§3.5, §9.2) ---- */

static void test_timeout_ignored(void **state)
{
    static const struct {
        int has;
        uint32_t t;
    } timeouts[] = {{0, 0}, {1, 0}, {1, 1}, {1, 15000}, {1, 30000000}, {1, UINT32_MAX}};
    uint8_t first[64];
    size_t first_len = 0;
    (void)state;

    for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
        service_result res;
        size_t len;
        uint8_t *body = req_num(timeouts[i].has, timeouts[i].t, &len);
        service_handle(g_s, body, len, &res);
        assert_int_equal(res.action, SERVICE_REPLY);
        if (i == 0) {
            assert_true(res.frame_len <= sizeof(first));
            memcpy(first, res.frame, res.frame_len);
            first_len = res.frame_len;
            /* aesm-protocol §3.6: response {0, num=1} = aa 01 04 08 00 10 01 */
            static const uint8_t want[] = {0x07, 0, 0, 0, 0xaa, 0x01, 0x04, 0x08, 0x00, 0x10, 0x01};
            assert_int_equal(res.frame_len, sizeof(want));
            assert_memory_equal(res.frame, want, sizeof(want));
        } else {
            assert_int_equal(res.frame_len, first_len);
            assert_memory_equal(res.frame, first, first_len);
        }
        service_result_clear(&res);
        free(body);
    }
}

/* ---- backend calls are serialized only when the backend needs it ---- */

typedef struct {
    const uint8_t *body;
    size_t len;
    int failures;
} worker_arg;

static void *quote_worker(void *p)
{
    worker_arg *a = p;
    for (int i = 0; i < 3; i++) {
        service_result res;
        service_handle(g_s, a->body, a->len, &res);
        if (res.action != SERVICE_REPLY || res.aesm_code != 0)
            a->failures++;
        service_result_clear(&res);
    }
    return NULL;
}

static int run_workers(size_t n)
{
    uint8_t report[432];
    pthread_t th[4];
    worker_arg args[4];
    size_t len;
    uint8_t *body;
    int failures = 0;

    synthetic_report(report);
    body = req_quote(report, 432, KID, 256, NULL, 0, 1, 2048, &len);
    for (size_t i = 0; i < n; i++) {
        args[i] = (worker_arg){body, len, 0};
        assert_int_equal(pthread_create(&th[i], NULL, quote_worker, &args[i]), 0);
    }
    for (size_t i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        failures += args[i].failures;
    }
    free(body);
    return failures;
}

static void test_serializes_unsafe_backend(void **state)
{
    (void)state;
    g_st.thread_safe = false;
    g_st.hold_us = 3000;
    reopen(NULL);
    assert_int_equal(run_workers(4), 0);
    assert_int_equal(atomic_load(&g_st.calls_quote), 12);
    assert_int_equal(atomic_load(&g_st.max_inside), 1);
}

static void test_parallel_safe_backend(void **state)
{
    (void)state;
    g_st.thread_safe = true;
    g_st.rendezvous = true; /* each call waits until a second one is inside */
    reopen(NULL);
    assert_int_equal(run_workers(2), 0);
    assert_true(atomic_load(&g_st.max_inside) >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vectors_fake_backend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_required_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_quote_ex_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_quote_size_ex_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_quote_ex_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_quote_ex_buf_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_att_key_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supported_key_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_key_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_garbage_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_fields_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serializes_unsafe_backend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parallel_safe_backend, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
