/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for quote_parse, the first code to touch quote bytes
 * from the network, the CLI and the verifier. Besides "no crash, no
 * over-read" it checks the view's invariants on success: everything it
 * points at lies inside [buf, buf + quote_len) and quote_len <= len. Inputs
 * that parse are also rebuilt with the v3 builder, which must reproduce them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sgxqh/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) \
    do {            \
        if (!(cond)) \
            abort(); \
    } while (0)

static void check_within(const quote_view *q, const void *p, size_t n)
{
    const uint8_t *b = p;

    CHECK(b != NULL);
    CHECK(b >= q->raw);
    CHECK((size_t)(b - q->raw) <= q->quote_len);
    CHECK(n <= q->quote_len - (size_t)(b - q->raw));
}

static void check_rebuild_v3(const quote_view *q)
{
    quote_v3_spec s;
    uint8_t *out;
    size_t len = 0;

    if (q->version != 3)
        return;
    memset(&s, 0, sizeof(s));
    s.qe_svn = q->header.qe_svn;
    s.pce_svn = q->header.pce_svn;
    memcpy(s.qe_id, q->header.user_data, 16);
    s.app_report = &q->sgx_body;
    s.qe_report = &q->qe_report;
    s.qe_report_sig = q->qe_report_sig;
    s.attest_pub_key = q->attest_pub_key;
    s.qe_auth_data = q->qe_auth_data;
    s.qe_auth_data_len = q->qe_auth_data_len;
    s.cert_type = q->cert_type;
    s.cert_data = q->cert_data;
    s.cert_data_len = q->cert_data_len;
    CHECK(quote_v3_size(&s) == q->quote_len);
    out = malloc(q->quote_len);
    CHECK(out != NULL);
    CHECK(quote_v3_build(&s, out, q->quote_len, &len) == QUOTE_OK);
    CHECK(len == q->quote_len);
    quote_v3_set_signature(out, q->isv_sig);
    /* Identical except the vendor id (the builder always writes Intel's; the
     * parser does not judge it) and user_data[16..20), which the builder
     * zeroes (§1.2). */
    CHECK(memcmp(out, q->raw, 12) == 0);
    CHECK(memcmp(out + 12, SGX_INTEL_QE_VENDOR_ID, 16) == 0);
    CHECK(memcmp(out + 28, q->raw + 28, 16) == 0);
    CHECK(memcmp(out + 48, q->raw + 48, len - 48) == 0);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    quote_view q;
    int rc = quote_parse(data, size, &q);

    CHECK(quote_strerror(rc) != NULL);
    if (rc != QUOTE_OK) {
        CHECK(rc < 0);
        CHECK(q.raw == NULL && q.quote_len == 0);
        return 0;
    }
    CHECK(q.raw == data && q.raw_len == size);
    CHECK(q.quote_len <= size);
    CHECK(q.signed_data == data);
    CHECK(q.signed_len == q.body_offset + q.body_len);
    CHECK(q.quote_len == q.signed_len + 4 + q.signature_data_len);
    CHECK(q.version >= 3 && q.version <= 5);
    check_within(&q, q.isv_sig, 64);
    check_within(&q, q.attest_pub_key, 64);
    check_within(&q, q.qe_report_raw, 384);
    check_within(&q, q.qe_report_sig, 64);
    check_within(&q, q.qe_auth_data, q.qe_auth_data_len);
    check_within(&q, q.cert_data, q.cert_data_len);
    CHECK(q.cert_type >= 1 && q.cert_type <= 5);
    CHECK(q.pem_count <= QUOTE_MAX_CHAIN_CERTS);
    CHECK((q.pem_count > 0) == (q.cert_type == CERT_DATA_PCK_CHAIN));
    for (size_t i = 0; i < q.pem_count; i++) {
        const uint8_t *p = (const uint8_t *)q.pem[i].pem;

        CHECK(p >= q.cert_data && q.pem[i].len <= q.cert_data_len &&
              (size_t)(p - q.cert_data) <= q.cert_data_len - q.pem[i].len);
        CHECK(memcmp(p, "-----BEGIN CERTIFICATE-----", 27) == 0);
    }
    if (q.body_type != QUOTE_BODY_SGX) {
        check_within(&q, q.td.report_data, 64);
        for (int i = 0; i < 4; i++)
            check_within(&q, q.td.rtmr[i], 48);
    }
    check_rebuild_v3(&q);
    return 0;
}
