/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service layer over the real simulated backend: the recorded client
 * requests answered as aesmd would (§9.1 rules, one assertion per rule), and
 * the three client call sequences — DCAP (§7), Fortanix (§10), Gramine
 * (captures 11, 12) — producing quotes whose signature, pub_key_id and QE
 * report check out against independent computations. Also: a restart keeps
 * the target info and pub_key_id, and old reports still get quotes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "sgxqh/quote.h"
#include "sim/sim.h"
#include "svc_util.h"

static char g_dir[64];
static backend *g_b;
static service *g_s;
static uint8_t KID[256];

static void open_service(void)
{
    backend_config cfg = {.kind = BACKEND_KIND_SIM, .state_dir = g_dir, .instance = "svc-test"};
    char err[512] = "";

    g_b = backend_open(&cfg, err, sizeof(err));
    if (g_b == NULL)
        fail_msg("backend_open: %s", err);
    g_s = service_new(g_b, NULL);
    assert_non_null(g_s);
}

static void close_service(void)
{
    service_free(g_s);
    backend_close(g_b);
    g_s = NULL;
    g_b = NULL;
}

static int group_setup(void **state)
{
    (void)state;
    ts_spec_ecdsa_key_id(KID);
    snprintf(g_dir, sizeof(g_dir), "/tmp/sgxqh-svc-sim-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    open_service();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    close_service();
    ts_rmtree(g_dir);
    return 0;
}

/* ---- helpers ---- */

static void qe_target_info(sgx_target_info_t *ti, uint8_t pub_key_id[32])
{
    Aesm__Response *r = svc_call_vec(g_s, "05_init_quote_ex_with_pub_key_id_buf", 15, NULL, NULL);

    assert_int_equal(r->initquoteexres->errorcode, 0);
    assert_int_equal(r->initquoteexres->target_info.len, 512);
    memcpy(ti, r->initquoteexres->target_info.data, 512);
    if (pub_key_id != NULL)
        memcpy(pub_key_id, r->initquoteexres->pub_key_id.data, 32);
    aesm__response__free_unpacked(r, NULL);
}

static sim_enclave_identity app_identity(void)
{
    sim_enclave_identity id;

    sim_enclave_identity_default(&id);
    memset(id.mr_enclave, 0xe1, 32);
    memset(id.mr_signer, 0x51, 32);
    for (int i = 0; i < 64; i++)
        id.report_data[i] = (uint8_t)(0x80 + i);
    return id;
}

/* The target info an enclave with this identity would give (§6.1 fields
 * that feed its report key). */
static void app_target_info(const sim_enclave_identity *id, sgx_target_info_t *ti)
{
    memset(ti, 0, sizeof(*ti));
    memcpy(ti->mr_enclave, id->mr_enclave, 32);
    ti->attributes.flags = id->flags;
    ti->attributes.xfrm = id->xfrm;
    ti->misc_select = id->misc_select;
}

/* Re-encode a recorded GetQuoteEx request with a real report (and
 * optionally another buf_size / qe_report_info); everything else as sent. */
static uint8_t *vec_with_report(const char *name, const sgx_report_t *report, int64_t buf_size,
                                const uint8_t *qri, size_t *len)
{
    size_t n;
    uint8_t *body = vec_body(name, &n), *out;
    Aesm__Request *req = aesm__request__unpack(NULL, n, body);
    Aesm__Request__GetQuoteExRequest *q;
    ProtobufCBinaryData saved_report, saved_qri;

    assert_non_null(req);
    q = req->getquoteexreq;
    assert_non_null(q);
    saved_report = q->report;
    saved_qri = q->qe_report_info;
    q->report.data = (uint8_t *)report;
    q->report.len = sizeof(*report);
    if (buf_size >= 0)
        q->buf_size = (uint32_t)buf_size;
    if (qri != NULL) {
        q->has_qe_report_info = 1;
        q->qe_report_info.data = (uint8_t *)qri;
        q->qe_report_info.len = 960;
    }
    out = pack_request(req, len);
    q->report = saved_report;
    q->qe_report_info = saved_qri;
    aesm__request__free_unpacked(req, NULL);
    free(body);
    return out;
}

static uint32_t quote_size_now(void)
{
    Aesm__Response *r = svc_call_vec(g_s, "06_get_quote_size_ex", 16, NULL, NULL);
    uint32_t size;

    assert_int_equal(r->getquotesizeexres->errorcode, 0);
    assert_true(r->getquotesizeexres->has_quote_size);
    size = r->getquotesizeexres->quote_size;
    aesm__response__free_unpacked(r, NULL);
    return size;
}

/* Independent checks of a quote (aesm §6.6, §8.2): the header, the app
 * body, the ISV signature under the attestation key, and that key's hash
 * being the pub_key_id InitQuoteEx returned. */
static void check_quote(const uint8_t *q, size_t len, const sgx_report_t *report,
                        const uint8_t pub_key_id[32])
{
    quote_view v;
    uint8_t auth[32], h[32];
    crypto_buf parts[2];

    assert_true(len >= 1052);
    assert_int_equal(q[0] | q[1] << 8, 3);
    assert_int_equal(q[2] | q[3] << 8, 2);
    assert_memory_equal(q + 48, &report->body, 384);
    assert_int_equal(436 + le32_at(q, 432), len);
    assert_int_equal(quote_parse(q, len, &v), QUOTE_OK);
    assert_int_equal(v.quote_len, len);
    /* ISV signature over bytes [0, 432) with the key at offset 500 */
    assert_int_equal(crypto_p256_verify_raw(q + 500, q, 432, q + 436), 0);
    /* ECDSA_ID = SHA-256(attestation key ‖ auth data 00..1f) */
    for (int i = 0; i < 32; i++)
        auth[i] = (uint8_t)i;
    parts[0] = (crypto_buf){q + 500, 64};
    parts[1] = (crypto_buf){auth, 32};
    assert_int_equal(crypto_sha256_parts(parts, 2, h), 0);
    assert_memory_equal(h, pub_key_id, 32);
}

/* ---- the recorded requests, byte for byte ---- */

static void test_vectors_sim(void **state)
{
    Aesm__Response *r;
    Aesm__Request *q;
    sgx_target_info_t ti;
    uint32_t num;
    (void)state;

    r = svc_call_vec(g_s, "01_get_supported_att_key_id_num", 21, NULL, NULL);
    assert_int_equal(r->getsupportedattkeyidnumres->errorcode, 0);
    num = r->getsupportedattkeyidnumres->att_key_id_num;
    assert_int_equal(num, 1);
    aesm__response__free_unpacked(r, NULL);

    r = svc_call_vec(g_s, "02_get_supported_att_key_ids_num1", 22, NULL, NULL);
    assert_int_equal(r->getsupportedattkeyidsres->errorcode, 0);
    assert_int_equal(r->getsupportedattkeyidsres->att_key_ids.len, num * 256);
    assert_memory_equal(r->getsupportedattkeyidsres->att_key_ids.data, KID, 256);
    aesm__response__free_unpacked(r, NULL);

    svc_check_select_vectors(g_s, KID);

    static const char *const sizing[] = {"04_init_quote_ex_sizing",
                                         "09_init_quote_ex_sizing_nonzero_size"};
    for (size_t i = 0; i < 2; i++) {
        r = svc_call_vec(g_s, sizing[i], 15, NULL, NULL);
        assert_int_equal(r->initquoteexres->errorcode, 0); /* 09's garbage buf_size ignored */
        assert_int_equal(r->initquoteexres->target_info.len, 512);
        assert_int_equal(r->initquoteexres->pub_key_id_size, 32);
        assert_false(r->initquoteexres->has_pub_key_id);
        aesm__response__free_unpacked(r, NULL);
    }

    sim_qe_target_info(backend_sim_platform(g_b), &ti);
    static const char *const full[] = {"05_init_quote_ex_with_pub_key_id_buf",
                                       "11_gramine_init_quote_ex"};
    for (size_t i = 0; i < 2; i++) {
        r = svc_call_vec(g_s, full[i], 15, NULL, NULL);
        assert_int_equal(r->initquoteexres->errorcode, 0);
        assert_int_equal(r->initquoteexres->target_info.len, 512);
        assert_memory_equal(r->initquoteexres->target_info.data, &ti, 512);
        assert_int_equal(r->initquoteexres->pub_key_id_size, 32);
        assert_int_equal(r->initquoteexres->pub_key_id.len, r->initquoteexres->pub_key_id_size);
        aesm__response__free_unpacked(r, NULL);
    }

    assert_true(quote_size_now() > 1052);

    /* 07, 10, 12 carry a synthetic report (byte i = i), whose MAC cannot
     * verify: 47, no quote, qe_report_info echoed unchanged. */
    static const char *const quotes[] = {"07_get_quote_ex_no_qe_report_info",
                                         "10_get_quote_ex_with_qe_report_info",
                                         "12_gramine_get_quote_ex"};
    for (size_t i = 0; i < 3; i++) {
        r = svc_call_vec(g_s, quotes[i], 17, NULL, &q);
        assert_int_equal(r->getquoteexres->errorcode, 47);
        assert_false(r->getquoteexres->has_quote);
        assert_int_equal(r->getquoteexres->has_qe_report_info, q->getquoteexreq->has_qe_report_info);
        if (q->getquoteexreq->has_qe_report_info) {
            assert_int_equal(r->getquoteexres->qe_report_info.len, 960);
            assert_memory_equal(r->getquoteexres->qe_report_info.data,
                                q->getquoteexreq->qe_report_info.data, 960);
        }
        aesm__request__free_unpacked(q, NULL);
        aesm__response__free_unpacked(r, NULL);
    }
}

/* ---- DCAP out-of-proc sequence (§7): 09, 05, 06, 07' ---- */

static void test_dcap_sequence(void **state)
{
    sgx_target_info_t ti;
    sim_enclave_identity id = app_identity();
    sgx_report_t report;
    uint8_t pub_key_id[32], *body;
    uint32_t size;
    size_t len;
    service_result res;
    Aesm__Response *r;
    (void)state;

    r = svc_call_vec(g_s, "09_init_quote_ex_sizing_nonzero_size", 15, NULL, NULL);
    assert_int_equal(r->initquoteexres->errorcode, 0);
    assert_int_equal(r->initquoteexres->pub_key_id_size, 32); /* DCAP insists on 32 */
    aesm__response__free_unpacked(r, NULL);
    qe_target_info(&ti, pub_key_id);
    size = quote_size_now();

    assert_int_equal(sim_ereport(&id, &ti, &report), 0);
    body = vec_with_report("07_get_quote_ex_no_qe_report_info", &report, size, NULL, &len);
    r = svc_call(g_s, body, len, 17, &res);
    free(body);
    assert_int_equal(r->getquoteexres->errorcode, 0);
    assert_true(r->getquoteexres->has_quote);
    assert_int_equal(r->getquoteexres->quote.len, size); /* exact size = buf_size */
    check_quote(r->getquoteexres->quote.data, r->getquoteexres->quote.len, &report, pub_key_id);
    assert_false(r->getquoteexres->has_qe_report_info);
    assert_true(res.has_enclave);
    assert_memory_equal(res.mr_enclave, id.mr_enclave, 32);
    assert_memory_equal(res.mr_signer, id.mr_signer, 32);
    aesm__response__free_unpacked(r, NULL);

    /* the recorded buf_size (1200) is below the real size: 3, no quote */
    assert_true(size > 1200);
    body = vec_with_report("07_get_quote_ex_no_qe_report_info", &report, -1, NULL, &len);
    r = svc_call(g_s, body, len, 17, NULL);
    free(body);
    assert_int_equal(r->getquoteexres->errorcode, 3);
    assert_false(r->getquoteexres->has_quote);
    aesm__response__free_unpacked(r, NULL);

    /* a buf_size far above the cap: the exact quote, nothing huge allocated */
    body = vec_with_report("07_get_quote_ex_no_qe_report_info", &report, UINT32_MAX, NULL, &len);
    r = svc_call(g_s, body, len, 17, NULL);
    free(body);
    assert_int_equal(r->getquoteexres->errorcode, 0);
    assert_int_equal(r->getquoteexres->quote.len, size);
    aesm__response__free_unpacked(r, NULL);

    /* a report whose MAC was tampered with: 47 */
    report.body.report_data[0] ^= 1;
    body = vec_with_report("07_get_quote_ex_no_qe_report_info", &report, size, NULL, &len);
    r = svc_call(g_s, body, len, 17, NULL);
    free(body);
    assert_int_equal(r->getquoteexres->errorcode, 47);
    assert_false(r->getquoteexres->has_quote);
    aesm__response__free_unpacked(r, NULL);
}

/* ---- Fortanix aesm-client sequence (§10) ---- */

static Aesm__Response *call_req(const Aesm__Request *req, unsigned tag)
{
    size_t len;
    uint8_t *body = pack_request(req, &len);
    Aesm__Response *r = svc_call(g_s, body, len, tag, NULL);
    free(body);
    return r;
}

static void test_fortanix_sequence(void **state)
{
    Aesm__Response *r;
    Aesm__Request req;
    uint32_t num, size;
    uint64_t pk_size;
    uint8_t ids[256], selected[256], pub_key_id[32], qri[960], mac[16], key[16];
    sgx_target_info_t qe_ti, app_ti;
    sim_enclave_identity id = app_identity();
    sgx_report_t report;
    (void)state;

    /* Num, then IDs with buf_size = n × 256; the reply must be exactly that */
    {
        Aesm__Request__GetSupportedAttKeyIDNumRequest q =
            AESM__REQUEST__GET_SUPPORTED_ATT_KEY_IDNUM_REQUEST__INIT;
        q.has_timeout = 1;
        q.timeout = 30000000; /* µs, as Fortanix sends */
        req = (Aesm__Request)AESM__REQUEST__INIT;
        req.getsupportedattkeyidnumreq = &q;
        r = call_req(&req, 21);
        num = r->getsupportedattkeyidnumres->att_key_id_num;
        assert_int_equal(num, 1);
        aesm__response__free_unpacked(r, NULL);
    }
    {
        Aesm__Request__GetSupportedAttKeyIDsRequest q =
            AESM__REQUEST__GET_SUPPORTED_ATT_KEY_IDS_REQUEST__INIT;
        q.has_buf_size = 1;
        q.buf_size = num * 256;
        q.has_timeout = 1;
        q.timeout = 30000000;
        req = (Aesm__Request)AESM__REQUEST__INIT;
        req.getsupportedattkeyidsreq = &q;
        r = call_req(&req, 22);
        assert_int_equal(r->getsupportedattkeyidsres->errorcode, 0);
        assert_int_equal(r->getsupportedattkeyidsres->att_key_ids.len, num * 256);
        memcpy(ids, r->getsupportedattkeyidsres->att_key_ids.data, 256);
        aesm__response__free_unpacked(r, NULL);
    }
    /* select from what we were offered */
    {
        uint8_t list[8 + 256] = {0, 0, 0, 0, 1, 0, 0, 0};
        Aesm__Request__SelectAttKeyIDRequest q = AESM__REQUEST__SELECT_ATT_KEY_IDREQUEST__INIT;
        memcpy(list + 8, ids, 256);
        q.has_att_key_id_list = 1;
        q.att_key_id_list.data = list;
        q.att_key_id_list.len = sizeof(list);
        req = (Aesm__Request)AESM__REQUEST__INIT;
        req.selectattkeyidreq = &q;
        r = call_req(&req, 19);
        assert_int_equal(r->selectattkeyidres->errorcode, 0);
        memcpy(selected, r->selectattkeyidres->selected_att_key_id.data, 256);
        assert_memory_equal(selected, KID, 256);
        aesm__response__free_unpacked(r, NULL);
    }
    /* init_quote_ex: false without buf_size, then true with the size returned */
    {
        Aesm__Request__InitQuoteExRequest q = AESM__REQUEST__INIT_QUOTE_EX_REQUEST__INIT;
        q.has_att_key_id = 1;
        q.att_key_id.data = selected;
        q.att_key_id.len = 256;
        q.has_b_pub_key_id = 1;
        q.b_pub_key_id = 0;
        req = (Aesm__Request)AESM__REQUEST__INIT;
        req.initquoteexreq = &q;
        r = call_req(&req, 15);
        assert_int_equal(r->initquoteexres->errorcode, 0);
        assert_true(r->initquoteexres->has_pub_key_id_size);
        pk_size = r->initquoteexres->pub_key_id_size;
        assert_int_equal(pk_size, 32);
        aesm__response__free_unpacked(r, NULL);

        q.b_pub_key_id = 1;
        q.has_buf_size = 1;
        q.buf_size = pk_size;
        r = call_req(&req, 15);
        assert_int_equal(r->initquoteexres->errorcode, 0);
        assert_int_equal(r->initquoteexres->pub_key_id.len, 32);
        memcpy(pub_key_id, r->initquoteexres->pub_key_id.data, 32);
        memcpy(&qe_ti, r->initquoteexres->target_info.data, 512);
        aesm__response__free_unpacked(r, NULL);
    }
    /* GetQuoteSizeEx: quote_size must be present */
    {
        Aesm__Request__GetQuoteSizeExRequest q = AESM__REQUEST__GET_QUOTE_SIZE_EX_REQUEST__INIT;
        q.has_att_key_id = 1;
        q.att_key_id.data = selected;
        q.att_key_id.len = 256;
        req = (Aesm__Request)AESM__REQUEST__INIT;
        req.getquotesizeexreq = &q;
        r = call_req(&req, 16);
        assert_true(r->getquotesizeexres->has_quote_size);
        size = r->getquotesizeexres->quote_size;
        aesm__response__free_unpacked(r, NULL);
    }
    /* GetQuoteEx with buf_size = quote_size and nonce ‖ app TI ‖ 0^432 */
    assert_int_equal(sim_ereport(&id, &qe_ti, &report), 0);
    app_target_info(&id, &app_ti);
    memset(qri, 0, sizeof(qri));
    for (int i = 0; i < 16; i++)
        qri[i] = (uint8_t)(0xf0 + i);
    memcpy(qri + 16, &app_ti, 512);
    {
        Aesm__Request__GetQuoteExRequest q = AESM__REQUEST__GET_QUOTE_EX_REQUEST__INIT;
        const uint8_t *echo, *qe_body;
        uint8_t want_rd[64];
        crypto_buf parts[2];

        q.has_report = 1;
        q.report.data = (uint8_t *)&report;
        q.report.len = 432;
        q.has_att_key_id = 1;
        q.att_key_id.data = selected;
        q.att_key_id.len = 256;
        q.has_qe_report_info = 1;
        q.qe_report_info.data = qri;
        q.qe_report_info.len = 960;
        q.has_buf_size = 1;
        q.buf_size = size;
        q.has_timeout = 1;
        q.timeout = 30000000;
        req = (Aesm__Request)AESM__REQUEST__INIT;
        req.getquoteexreq = &q;
        r = call_req(&req, 17);
        assert_int_equal(r->getquoteexres->errorcode, 0);
        assert_int_equal(r->getquoteexres->quote.len, size);
        check_quote(r->getquoteexres->quote.data, size, &report, pub_key_id);

        /* qe_report_info: 960 bytes, nonce and target info unchanged, QE
         * report at offset 528 (where Fortanix reads it) */
        assert_int_equal(r->getquoteexres->qe_report_info.len, 960);
        echo = r->getquoteexres->qe_report_info.data;
        assert_memory_equal(echo, qri, 528);
        qe_body = echo + 528;
        /* report_data = SHA-256(nonce ‖ quote) ‖ 0^32 (§6.3) */
        parts[0] = (crypto_buf){qri, 16};
        parts[1] = (crypto_buf){r->getquoteexres->quote.data, size};
        memset(want_rd, 0, sizeof(want_rd));
        assert_int_equal(crypto_sha256_parts(parts, 2, want_rd), 0);
        assert_memory_equal(qe_body + 320, want_rd, 64);
        /* the QE report is QE3's (its MRSIGNER is in the quote's QE report) */
        assert_memory_equal(qe_body + 128, r->getquoteexres->quote.data + 564 + 128, 32);
        /* its MAC checks with the app's report key: CMAC over the 384 body
         * bytes with the key derived for the app's target info */
        assert_int_equal(sim_report_key_derive(&app_ti, qe_body, qe_body + 384, key), 0);
        assert_int_equal(crypto_aes128_cmac(key, qe_body, 384, mac), 0);
        assert_memory_equal(mac, qe_body + 416, 16);
        /* ... and not with the QE's own (a report for someone else fails) */
        assert_int_equal(sim_report_key_derive(&qe_ti, qe_body, qe_body + 384, key), 0);
        assert_int_equal(crypto_aes128_cmac(key, qe_body, 384, mac), 0);
        assert_memory_not_equal(mac, qe_body + 416, 16);
        aesm__response__free_unpacked(r, NULL);
    }
}

/* ---- Gramine: capture 11, then 12 (never GetQuoteSizeEx) ---- */

static void test_gramine_sequence(void **state)
{
    Aesm__Response *r;
    sgx_target_info_t ti;
    sim_enclave_identity id = app_identity();
    sgx_report_t report;
    uint8_t pub_key_id[32], *body;
    size_t len;
    uint32_t sig_len;
    (void)state;

    r = svc_call_vec(g_s, "11_gramine_init_quote_ex", 15, NULL, NULL);
    assert_int_equal(r->initquoteexres->errorcode, 0);
    assert_int_equal(r->initquoteexres->target_info.len, 512); /* Gramine: == 512 */
    memcpy(&ti, r->initquoteexres->target_info.data, 512);
    memcpy(pub_key_id, r->initquoteexres->pub_key_id.data, 32);
    aesm__response__free_unpacked(r, NULL);

    assert_int_equal(sim_ereport(&id, &ti, &report), 0);
    body = vec_with_report("12_gramine_get_quote_ex", &report, -1, NULL, &len);
    r = svc_call(g_s, body, len, 17, NULL);
    free(body);
    assert_int_equal(r->getquoteexres->errorcode, 0);
    assert_int_equal(r->getquoteexres->quote.len, 8192); /* aesmd style: buf_size bytes */
    assert_true(r->getquoteexres->quote.len >= 436);
    sig_len = le32_at(r->getquoteexres->quote.data, 432);
    assert_true(436 + sig_len <= 8192); /* Gramine trims to this */
    assert_int_equal(436 + sig_len, quote_size_now());
    assert_true(all_bytes(r->getquoteexres->quote.data + 436 + sig_len, 8192 - 436 - sig_len, 0));
    check_quote(r->getquoteexres->quote.data, 436 + sig_len, &report, pub_key_id);
    aesm__response__free_unpacked(r, NULL);
}

/* ---- restart: same target info and pub_key_id; old reports still quote ---- */

static void test_restart_keeps_identity(void **state)
{
    sgx_target_info_t ti1, ti2;
    uint8_t pk1[32], pk2[32], *body;
    sim_enclave_identity id = app_identity();
    sgx_report_t report;
    size_t len;
    uint32_t size;
    Aesm__Response *r;
    (void)state;

    qe_target_info(&ti1, pk1);
    assert_int_equal(sim_ereport(&id, &ti1, &report), 0);

    close_service();
    open_service();

    /* straight to size and quote, no InitQuoteEx: no 42 after a restart */
    size = quote_size_now();
    body = vec_with_report("07_get_quote_ex_no_qe_report_info", &report, size, NULL, &len);
    r = svc_call(g_s, body, len, 17, NULL);
    free(body);
    assert_int_equal(r->getquoteexres->errorcode, 0);
    check_quote(r->getquoteexres->quote.data, r->getquoteexres->quote.len, &report, pk1);
    aesm__response__free_unpacked(r, NULL);

    qe_target_info(&ti2, pk2);
    assert_memory_equal(&ti1, &ti2, 512);
    assert_memory_equal(pk1, pk2, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_sim),
        cmocka_unit_test(test_dcap_sequence),
        cmocka_unit_test(test_fortanix_sequence),
        cmocka_unit_test(test_gramine_sequence),
        cmocka_unit_test(test_restart_keeps_identity),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
