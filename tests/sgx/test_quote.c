/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quote_parse / quote_v3_build tests against the shared vectors.
 *
 * Expected values come from each vector's meta.json, from the worked
 * examples in quote-format §1.7 / §2.2 / §8, from offsets computed here from
 * the spec tables, and from an independent SHA-256 (OpenSSL) — never from
 * the parser itself. Negative cases mutate real quotes one field at a time.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "sgxqh/quote.h"
#include "testutil.h"

static const char INTEL_VENDOR_HEX[] = "939A7233F79C4CA9940A0DB3957F0607";
static const char BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char END[] = "-----END CERTIFICATE-----";

static uint8_t *load_quote(const char *vector, size_t *len)
{
    return tu_read_vector(vector, "quote.bin", len);
}

/* Pointers the view hands out must lie inside [raw, raw + quote_len). */
static void assert_within(const quote_view *q, const void *p, size_t n)
{
    const uint8_t *b = p;

    assert_non_null(b);
    assert_true(b >= q->raw);
    assert_true((size_t)(b - q->raw) <= q->quote_len);
    assert_true(n <= q->quote_len - (size_t)(b - q->raw));
}

static void assert_view_invariants(const quote_view *q)
{
    assert_true(q->quote_len <= q->raw_len);
    assert_ptr_equal(q->signed_data, q->raw);
    assert_int_equal(q->signed_len, q->body_offset + q->body_len);
    assert_int_equal(q->quote_len, q->signed_len + 4 + q->signature_data_len);
    assert_within(q, q->isv_sig, 64);
    assert_within(q, q->attest_pub_key, 64);
    assert_within(q, q->qe_report_raw, 384);
    assert_within(q, q->qe_report_sig, 64);
    assert_within(q, q->qe_auth_data, q->qe_auth_data_len);
    assert_within(q, q->cert_data, q->cert_data_len);
    for (size_t i = 0; i < q->pem_count; i++) {
        assert_true((const uint8_t *)q->pem[i].pem >= q->cert_data);
        assert_true((const uint8_t *)q->pem[i].pem + q->pem[i].len <=
                    q->cert_data + q->cert_data_len);
        assert_memory_equal(q->pem[i].pem, BEGIN, sizeof(BEGIN) - 1);
        assert_memory_equal(q->pem[i].pem + q->pem[i].len - (sizeof(END) - 1), END,
                            sizeof(END) - 1);
    }
}

static size_t count_occurrences(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- every vector against its meta.json ---- */

static void check_vector(const char *dir, const char *name)
{
    char path[4096];
    json_error_t jerr;
    json_t *meta;
    uint8_t *quote, vendor[16];
    size_t len;
    quote_view q;
    int rc;

    snprintf(path, sizeof(path), "%s/%s/meta.json", dir, name);
    meta = json_load_file(path, 0, &jerr);
    if (meta == NULL)
        fail_msg("%s: %s", path, jerr.text);
    snprintf(path, sizeof(path), "%s/%s/quote.bin", dir, name);
    quote = ts_read_file(path, &len);

    rc = quote_parse(quote, len, &q);
    if (rc != QUOTE_OK)
        fail_msg("%s: quote_parse: %s", name, quote_strerror(rc));
    assert_view_invariants(&q);
    assert_int_equal(q.version, json_integer_value(json_object_get(meta, "quote_version")));
    assert_int_equal(q.header.version, q.version);
    assert_int_equal(q.tee_type,
                     strtoul(json_string_value(json_object_get(meta, "tee_type")), NULL, 16));
    assert_int_equal(q.cert_type,
                     json_integer_value(json_object_get(meta, "cert_type_in_quote")));
    assert_int_equal(q.outer_cert_type, q.version == 3 ? q.cert_type : 6);
    tu_hex(INTEL_VENDOR_HEX, vendor, sizeof(vendor));
    assert_memory_equal(quote_qe_vendor_id(&q), vendor, 16);
    assert_int_equal(q.header.att_key_type, 2);
    /* Every vector here was produced with 32 bytes of auth data except the
     * QVL sample; the binding hash (§3) must hold for all of them. */
    {
        uint8_t msg[64 + 65535], md[32];

        memcpy(msg, q.attest_pub_key, 64);
        memcpy(msg + 64, q.qe_auth_data, q.qe_auth_data_len);
        SHA256(msg, 64 + (size_t)q.qe_auth_data_len, md);
        assert_memory_equal(q.qe_report.report_data, md, 32);
    }
    if (q.cert_type == CERT_DATA_PCK_CHAIN) {
        /* pck_chain.pem is the chain inside the quote (vectors README). */
        uint8_t *chain;
        size_t chain_len;

        snprintf(path, sizeof(path), "%s/%s/pck_chain.pem", dir, name);
        chain = ts_read_file(path, &chain_len);
        assert_int_equal(q.pem_count, count_occurrences((const char *)chain, BEGIN));
        for (size_t i = 0; i < q.pem_count; i++)
            assert_non_null(memmem(chain, chain_len, q.pem[i].pem, q.pem[i].len));
        free(chain);
    } else {
        assert_int_equal(q.pem_count, 0);
    }
    free(quote);
    json_decref(meta);
}

static void test_all_vectors_parse(void **state)
{
    char *dir = tu_quotes_dir();
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t checked = 0;

    (void)state;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s/quote.bin", dir, e->d_name);
        f = fopen(path, "rb");
        if (f == NULL)
            continue;
        fclose(f);
        check_vector(dir, e->d_name);
        checked++;
    }
    closedir(d);
    free(dir);
    /* The vectors README lists six quote directories. */
    assert_true(checked >= 6);
}

/* ---- known values, quote-format §1.7 ---- */

static void test_dcapqvl_sgx_v3_known_values(void **state)
{
    uint8_t *raw, user_data[16], mrsigner[32], auth[32], report_data[64];
    size_t len;
    quote_view q;

    (void)state;
    raw = load_quote("dcapqvl-sgx-v3", &len);
    assert_int_equal(quote_parse(raw, len, &q), QUOTE_OK);

    assert_int_equal(q.version, 3);
    assert_int_equal(q.tee_type, 0);
    assert_int_equal(q.header.qe_svn, 10);
    assert_int_equal(q.header.pce_svn, 15);
    tu_hex("3987622ee6968a54977c8626ef471235", user_data, 16);
    assert_memory_equal(q.header.user_data, user_data, 16);
    assert_memory_equal(q.header.user_data + 16, "\0\0\0\0", 4);

    assert_int_equal(q.body_type, QUOTE_BODY_SGX);
    assert_int_equal(q.body_offset, 48);
    assert_int_equal(q.body_len, 384);
    assert_int_equal(q.signed_len, 432);
    assert_true(q.sgx_body.attributes.flags == 0x05);
    assert_true(q.sgx_body.attributes.xfrm == 0xe7);
    {
        uint8_t cpusvn[8], mre_head[4], mrs_head[4];

        tu_hex("0b0b1a18ffff0400", cpusvn, 8);
        assert_memory_equal(q.sgx_body.cpu_svn, cpusvn, 8);
        tu_hex("33d8736d", mre_head, 4);
        assert_memory_equal(q.sgx_body.mr_enclave, mre_head, 4);
        assert_int_equal(q.sgx_body.mr_enclave[30], 0x2f);
        assert_int_equal(q.sgx_body.mr_enclave[31], 0xbb);
        tu_hex("815f42f1", mrs_head, 4);
        assert_memory_equal(q.sgx_body.mr_signer, mrs_head, 4);
        assert_int_equal(q.sgx_body.mr_signer[30], 0xe0);
        assert_int_equal(q.sgx_body.mr_signer[31], 0xe6);
    }
    memset(report_data, 0, sizeof(report_data));
    memcpy(report_data, "Hello, world!", 13);
    assert_memory_equal(q.sgx_body.report_data, report_data, 64);

    /* Sizes and positions, §1.4: N = 584 + 32 + 3548 = 4164, total 4600. */
    assert_int_equal(q.signature_data_len, 4164);
    assert_int_equal(q.quote_len, 4600);
    assert_int_equal(q.raw_len, 4600);
    assert_ptr_equal(q.isv_sig, raw + 436);
    assert_ptr_equal(q.attest_pub_key, raw + 500);
    assert_ptr_equal(q.qe_report_raw, raw + 564);
    assert_ptr_equal(q.qe_report_sig, raw + 948);
    assert_int_equal(q.qe_auth_data_len, 32);
    assert_ptr_equal(q.qe_auth_data, raw + 1014);
    for (int i = 0; i < 32; i++)
        auth[i] = (uint8_t)i;
    assert_memory_equal(q.qe_auth_data, auth, 32);
    assert_int_equal(q.cert_type, 5);
    assert_int_equal(q.outer_cert_type, 5);
    assert_int_equal(q.cert_data_len, 3548);
    assert_ptr_equal(q.cert_data, raw + 1052);
    assert_int_equal(q.cert_data[3547], 0); /* the counted NUL, §1.5 */
    assert_int_equal(q.pem_count, 3);
    assert_ptr_equal(q.pem[0].pem, (const char *)q.cert_data); /* leaf first */
    assert_true(q.pem[0].pem < q.pem[1].pem && q.pem[1].pem < q.pem[2].pem);

    /* QE report, §1.7. */
    tu_hex("8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF", mrsigner, 32);
    assert_memory_equal(q.qe_report.mr_signer, mrsigner, 32);
    assert_memory_equal(q.qe_report.mr_signer, SGX_QE3_MRSIGNER, 32);
    assert_true(q.qe_report.attributes.flags == 0x15);
    assert_true(q.qe_report.attributes.xfrm == 0xe7);
    assert_int_equal(q.qe_report.isv_prod_id, 1);
    assert_int_equal(q.qe_report.isv_svn, 10);
    memset(report_data, 0, 32);
    assert_memory_equal(q.qe_report.report_data + 32, report_data, 32);
    free(raw);
}

static void test_qvl_sample_type1(void **state)
{
    uint8_t *raw;
    size_t len;
    quote_view q;

    (void)state;
    raw = load_quote("intelqvl-sample-sgx-v3-testroot", &len);
    assert_int_equal(len, 1054);
    assert_int_equal(quote_parse(raw, len, &q), QUOTE_OK);
    assert_int_equal(q.version, 3);
    assert_int_equal(q.cert_type, CERT_DATA_PPID_CLEARTEXT);
    assert_int_equal(q.qe_auth_data_len, 0);
    /* N = 584 + 0 + C; the old 34-byte type-1 form (§1.5). */
    assert_int_equal(q.cert_data_len, 34);
    assert_int_equal(q.signature_data_len, 618);
    assert_int_equal(q.quote_len, 1054);
    assert_ptr_equal(q.cert_data, raw + 1020);
    assert_int_equal(q.pem_count, 0);
    free(raw);
}

static void test_tdx_v4(void **state)
{
    uint8_t *raw;
    size_t len;
    quote_view q;

    (void)state;
    raw = load_quote("dcapqvl-tdx-v4", &len);
    assert_int_equal(len, 5006);
    assert_int_equal(quote_parse(raw, len, &q), QUOTE_OK);
    assert_view_invariants(&q);
    assert_int_equal(q.version, 4);
    assert_int_equal(q.tee_type, 0x81);
    assert_int_equal(q.body_type, QUOTE_BODY_TD10);
    assert_int_equal(q.body_len, 584);
    assert_int_equal(q.signed_len, 632);
    /* §2.2: S = 4166, N = 134 + S = 4300, 70 trailing zero bytes. */
    assert_int_equal(q.signature_data_len, 4300);
    assert_int_equal(q.quote_len, 4936);
    assert_int_equal(q.raw_len - q.quote_len, 70);
    for (size_t i = q.quote_len; i < len; i++)
        assert_int_equal(raw[i], 0);
    assert_int_equal(q.outer_cert_type, 6);
    assert_int_equal(q.cert_type, 5);
    assert_ptr_equal(q.isv_sig, raw + 636);
    assert_ptr_equal(q.attest_pub_key, raw + 700);
    assert_ptr_equal(q.qe_report_raw, raw + 770); /* 636 + 128 + 2 + 4 */
    assert_ptr_equal(q.qe_report_sig, raw + 770 + 384);
    assert_int_equal(q.qe_auth_data_len, 32);
    assert_int_equal(q.cert_data_len, 4166 - 456 - 32);
    assert_ptr_equal(q.cert_data, raw + 770 + 456 + 32);
    assert_int_equal(q.pem_count, 3);
    /* TD body field positions, §2.3. */
    assert_ptr_equal(q.td.tee_tcb_svn, raw + 48);
    assert_ptr_equal(q.td.mr_seam, raw + 48 + 16);
    assert_ptr_equal(q.td.td_attributes, raw + 48 + 120);
    assert_ptr_equal(q.td.mr_td, raw + 48 + 136);
    assert_ptr_equal(q.td.mr_owner_config, raw + 48 + 280);
    assert_ptr_equal(q.td.rtmr[0], raw + 48 + 328);
    assert_ptr_equal(q.td.rtmr[3], raw + 48 + 328 + 3 * 48);
    assert_ptr_equal(q.td.report_data, raw + 48 + 520);
    assert_null(q.td.tee_tcb_svn2);
    assert_null(q.td.mr_servicetd);
    free(raw);
}

static void test_tdx_v5(void **state)
{
    uint8_t *raw;
    size_t len;
    quote_view q;

    (void)state;
    raw = load_quote("dcapqvl-tdx-v5-outdated", &len);
    assert_int_equal(quote_parse(raw, len, &q), QUOTE_OK);
    assert_view_invariants(&q);
    assert_int_equal(q.version, 5);
    assert_int_equal(q.tee_type, 0x81);
    assert_int_equal(q.body_type, QUOTE_BODY_TD15);
    assert_int_equal(q.body_offset, 54);
    assert_int_equal(q.body_len, 648);
    assert_int_equal(q.signed_len, 702); /* §1.6 */
    assert_int_equal(q.outer_cert_type, 6);
    assert_int_equal(q.cert_type, 5);
    assert_int_equal(q.quote_len, len);
    assert_ptr_equal(q.td.report_data, raw + 54 + 520);
    assert_ptr_equal(q.td.tee_tcb_svn2, raw + 54 + 584);
    assert_ptr_equal(q.td.mr_servicetd, raw + 54 + 600);
    assert_ptr_equal(q.isv_sig, raw + 54 + 648 + 4);
    free(raw);
}

static void test_sgx_v4(void **state)
{
    uint8_t *raw;
    size_t len;
    quote_view q;

    (void)state;
    raw = load_quote("synth-sgx-v4-customroot", &len);
    assert_int_equal(quote_parse(raw, len, &q), QUOTE_OK);
    assert_int_equal(q.version, 4);
    assert_int_equal(q.tee_type, 0);
    assert_int_equal(q.body_type, QUOTE_BODY_SGX);
    assert_int_equal(q.signed_len, 432);
    assert_int_equal(q.outer_cert_type, 6);
    assert_int_equal(q.cert_type, 5);
    assert_ptr_equal(q.qe_report_raw, raw + 436 + 134);
    assert_memory_equal(q.qe_report.mr_signer, SGX_QE3_MRSIGNER, 32);
    free(raw);
}

static void test_trailing_bytes_allowed(void **state)
{
    uint8_t *raw, *big;
    size_t len;
    quote_view q;

    (void)state;
    raw = load_quote("dcapqvl-sgx-v3", &len);
    big = malloc(len + 100);
    assert_non_null(big);
    memcpy(big, raw, len);
    memset(big + len, 0xa5, 100);
    assert_int_equal(quote_parse(big, len + 100, &q), QUOTE_OK);
    assert_int_equal(q.quote_len, len);
    assert_int_equal(q.raw_len, len + 100);
    free(big);
    free(raw);
}

/* ---- negative cases ---- */

static void check_truncations(const char *vector)
{
    uint8_t *raw;
    size_t len;
    quote_view q;

    raw = load_quote(vector, &len);
    assert_int_equal(quote_parse(raw, len, &q), QUOTE_OK);
    for (size_t n = 0; n < q.quote_len; n++) {
        uint8_t *cut = tu_dup_exact(raw, n);
        quote_view v;
        int rc = quote_parse(cut, n, &v);

        if (rc != QUOTE_E_TRUNCATED)
            fail_msg("%s cut to %zu bytes: got %d (%s)", vector, n, rc, quote_strerror(rc));
        /* No partially filled view on error. */
        assert_null(v.raw);
        assert_int_equal(v.quote_len, 0);
        free(cut);
    }
    free(raw);
}

static void test_every_truncation_fails(void **state)
{
    (void)state;
    check_truncations("dcapqvl-sgx-v3");
    check_truncations("intelqvl-sample-sgx-v3-testroot");
    check_truncations("dcapqvl-tdx-v4");
    check_truncations("dcapqvl-tdx-v5-outdated");
    check_truncations("synth-sgx-v4-customroot");
}

/* Parse a mutated copy of a vector (exactly sized) and return the result. */
typedef void (*mutator)(uint8_t *q, size_t len);

static int parse_mutated(const char *vector, mutator m)
{
    uint8_t *raw, *copy;
    size_t len;
    quote_view q;
    int rc;

    raw = load_quote(vector, &len);
    copy = tu_dup_exact(raw, len);
    m(copy, len);
    rc = quote_parse(copy, len, &q);
    free(copy);
    free(raw);
    return rc;
}

/* dcapqvl-sgx-v3 offsets, §1.4 with A = 32. */
#define V3_CERT_TYPE_OFF (1014 + 32)
#define V3_CERT_SIZE_OFF (1016 + 32)
#define V3_CERT_DATA_OFF (1020 + 32)
/* dcapqvl-tdx-v4 offsets, §2.2 shifted by +200 for the TD body. */
#define V4T_SIG_LEN_OFF 632
#define V4T_OUTER_TYPE_OFF (636 + 128)
#define V4T_OUTER_SIZE_OFF (636 + 130)
#define V4T_INNER (636 + 134)
#define V4T_INNER_TYPE_OFF (V4T_INNER + 450 + 32)
#define V4T_INNER_SIZE_OFF (V4T_INNER + 452 + 32)

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void m_version2(uint8_t *q, size_t l) { (void)l; tu_put_u16(q, 2); }
static void m_version6(uint8_t *q, size_t l) { (void)l; tu_put_u16(q, 6); }
static void m_keytype3(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + 2, 3); }
static void m_keytype0(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + 2, 0); }
static void m_tee_tdx(uint8_t *q, size_t l) { (void)l; tu_put_u32(q + 4, 0x81); }
static void m_tee_1(uint8_t *q, size_t l) { (void)l; tu_put_u32(q + 4, 1); }
static void m_vendor(uint8_t *q, size_t l) { (void)l; q[12] ^= 0xff; }
static void m_v3_cert6(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + V3_CERT_TYPE_OFF, 6); }
static void m_v3_cert0(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + V3_CERT_TYPE_OFF, 0); }
static void m_v3_cert7(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + V3_CERT_TYPE_OFF, 7); }
static void m_v3_cert4(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + V3_CERT_TYPE_OFF, 4); }
static void m_v3_cert_size_plus(uint8_t *q, size_t l)
{
    (void)l;
    tu_put_u32(q + V3_CERT_SIZE_OFF, get_u32(q + V3_CERT_SIZE_OFF) + 1);
}
static void m_v3_cert_size_minus(uint8_t *q, size_t l)
{
    (void)l;
    tu_put_u32(q + V3_CERT_SIZE_OFF, get_u32(q + V3_CERT_SIZE_OFF) - 1);
}
static void m_v3_cert_size_huge(uint8_t *q, size_t l)
{
    (void)l;
    tu_put_u32(q + V3_CERT_SIZE_OFF, 0xfffffff0u);
}
/* Both N and C grown consistently: the quote now claims more than the buffer. */
static void m_v3_cert_past_end(uint8_t *q, size_t l)
{
    (void)l;
    tu_put_u32(q + V3_CERT_SIZE_OFF, get_u32(q + V3_CERT_SIZE_OFF) + 100);
    tu_put_u32(q + 432, get_u32(q + 432) + 100);
}
static void m_v3_sig_len_huge(uint8_t *q, size_t l) { (void)l; tu_put_u32(q + 432, 0xffffffffu); }
static void m_v3_sig_len_short(uint8_t *q, size_t l) { (void)l; tu_put_u32(q + 432, 100); }
static void m_v3_auth_len_huge(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + 1012, 0xffff); }
static void m_v3_no_pem(uint8_t *q, size_t l)
{
    (void)l;
    memset(q + V3_CERT_DATA_OFF, 'A', 3548);
}
static void m_v3_no_end(uint8_t *q, size_t l)
{
    uint8_t *p = q + V3_CERT_DATA_OFF, *e = p + 3548;

    (void)l;
    /* Break every END marker: each BEGIN now runs off the end. */
    while ((p = memmem(p, (size_t)(e - p), "-----END", 8)) != NULL)
        p[5] = 'X';
}
static void m_v3_last_end_broken(uint8_t *q, size_t l)
{
    uint8_t *p = q + V3_CERT_DATA_OFF, *e = p + 3548, *last = NULL;

    (void)l;
    while ((p = memmem(p, (size_t)(e - p), "-----END", 8)) != NULL)
        last = p++;
    assert_non_null(last);
    last[5] = 'X';
}
static void m_v4_outer5(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + V4T_OUTER_TYPE_OFF, 5); }
/* synth-sgx-v4-customroot: SGX body, so the outer type sits at 564 (§2.2). */
static void m_v4s_outer5(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + 564, 5); }
static void m_v4s_outer1(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + 564, 1); }
static void m_v4_inner6(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + V4T_INNER_TYPE_OFF, 6); }
static void m_v4_inner_minus(uint8_t *q, size_t l)
{
    (void)l;
    tu_put_u32(q + V4T_INNER_SIZE_OFF, get_u32(q + V4T_INNER_SIZE_OFF) - 1);
}
static void m_v4_inner_plus(uint8_t *q, size_t l)
{
    (void)l;
    tu_put_u32(q + V4T_INNER_SIZE_OFF, get_u32(q + V4T_INNER_SIZE_OFF) + 1);
}
/* Outer size grown and N with it: the inner structure now ends 1 byte early. */
static void m_v4_outer_plus_consistent(uint8_t *q, size_t l)
{
    (void)l;
    tu_put_u32(q + V4T_OUTER_SIZE_OFF, get_u32(q + V4T_OUTER_SIZE_OFF) + 1);
    tu_put_u32(q + V4T_SIG_LEN_OFF, get_u32(q + V4T_SIG_LEN_OFF) + 1);
}
static void m_v4_outer_minus(uint8_t *q, size_t l)
{
    (void)l;
    tu_put_u32(q + V4T_OUTER_SIZE_OFF, get_u32(q + V4T_OUTER_SIZE_OFF) - 1);
}
/* N one larger than 134 + S: the extra byte is one of the 70 trailing zeros. */
static void m_v4_sig_len_plus(uint8_t *q, size_t l)
{
    (void)l;
    tu_put_u32(q + V4T_SIG_LEN_OFF, get_u32(q + V4T_SIG_LEN_OFF) + 1);
}
static void m_v4_tee_sgx(uint8_t *q, size_t l) { (void)l; tu_put_u32(q + 4, 0); }
static void m_v5_body_type4(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + 48, 4); }
static void m_v5_body_type2(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + 48, 2); }
static void m_v5_body_type1(uint8_t *q, size_t l) { (void)l; tu_put_u16(q + 48, 1); }
static void m_v5_body_size(uint8_t *q, size_t l) { (void)l; tu_put_u32(q + 50, 647); }
static void m_v5_tee_sgx(uint8_t *q, size_t l) { (void)l; tu_put_u32(q + 4, 0); }

static void test_header_errors(void **state)
{
    (void)state;
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_version2), QUOTE_E_VERSION);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_version6), QUOTE_E_VERSION);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_keytype3), QUOTE_E_ATT_KEY_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v4", m_keytype0), QUOTE_E_ATT_KEY_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_tee_tdx), QUOTE_E_TEE_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_tee_1), QUOTE_E_TEE_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v4", m_tee_1), QUOTE_E_TEE_TYPE);
    /* The vendor id is the verifier's call, not the parser's. */
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_vendor), QUOTE_OK);
}

static void test_v3_cert_errors(void **state)
{
    (void)state;
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_cert6), QUOTE_E_CERT_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_cert0), QUOTE_E_CERT_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_cert7), QUOTE_E_CERT_TYPE);
    /* Types 1–5 are all accepted in v3 (type 4 is not PEM-scanned). */
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_cert4), QUOTE_OK);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_cert_size_plus),
                     QUOTE_E_SIZE_MISMATCH);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_cert_size_minus),
                     QUOTE_E_SIZE_MISMATCH);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_cert_size_huge), QUOTE_E_TOO_LARGE);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_cert_past_end), QUOTE_E_TRUNCATED);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_sig_len_huge), QUOTE_E_TOO_LARGE);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_sig_len_short),
                     QUOTE_E_SIZE_MISMATCH);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_auth_len_huge),
                     QUOTE_E_SIZE_MISMATCH);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_no_pem), QUOTE_E_PEM);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_no_end), QUOTE_E_PEM);
    assert_int_equal(parse_mutated("dcapqvl-sgx-v3", m_v3_last_end_broken), QUOTE_E_PEM);
}

static void test_v4_v5_errors(void **state)
{
    (void)state;
    assert_int_equal(parse_mutated("dcapqvl-tdx-v4", m_v4_outer5), QUOTE_E_CERT_TYPE);
    assert_int_equal(parse_mutated("synth-sgx-v4-customroot", m_v4s_outer5), QUOTE_E_CERT_TYPE);
    assert_int_equal(parse_mutated("synth-sgx-v4-customroot", m_v4s_outer1), QUOTE_E_CERT_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v4", m_v4_inner6), QUOTE_E_CERT_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v4", m_v4_inner_minus), QUOTE_E_SIZE_MISMATCH);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v4", m_v4_inner_plus), QUOTE_E_SIZE_MISMATCH);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v4", m_v4_outer_plus_consistent),
                     QUOTE_E_SIZE_MISMATCH);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v4", m_v4_outer_minus), QUOTE_E_SIZE_MISMATCH);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v4", m_v4_sig_len_plus), QUOTE_E_SIZE_MISMATCH);
    /* A TDX body relabelled SGX: the SGX layout puts garbage where the
     * outer type should be. */
    assert_int_equal(parse_mutated("dcapqvl-tdx-v4", m_v4_tee_sgx) < 0, 1);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v5-outdated", m_v5_body_type4),
                     QUOTE_E_BODY_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v5-outdated", m_v5_body_type2),
                     QUOTE_E_BODY_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v5-outdated", m_v5_body_type1),
                     QUOTE_E_BODY_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v5-outdated", m_v5_body_size),
                     QUOTE_E_BODY_TYPE);
    assert_int_equal(parse_mutated("dcapqvl-tdx-v5-outdated", m_v5_tee_sgx), QUOTE_E_BODY_TYPE);
}

static void test_parse_args(void **state)
{
    quote_view q;
    uint8_t b[4] = {0};

    (void)state;
    assert_int_equal(quote_parse(NULL, 10, &q), QUOTE_E_INVALID_ARG);
    assert_int_equal(quote_parse(b, sizeof(b), NULL), QUOTE_E_INVALID_ARG);
}

static void test_strerror(void **state)
{
    const char *unknown = quote_strerror(12345);

    (void)state;
    for (int e = QUOTE_E_BUFFER_TOO_SMALL; e <= QUOTE_OK; e++) {
        assert_non_null(quote_strerror(e));
        assert_string_not_equal(quote_strerror(e), unknown);
        for (int f = QUOTE_E_BUFFER_TOO_SMALL; f < e; f++)
            assert_string_not_equal(quote_strerror(e), quote_strerror(f));
    }
    assert_string_equal(quote_strerror(1), unknown);
    assert_string_equal(quote_strerror(QUOTE_E_BUFFER_TOO_SMALL - 1), unknown);
}

/* ---- builder ---- */

static void spec_from_view(const quote_view *q, quote_v3_spec *s)
{
    memset(s, 0, sizeof(*s));
    s->qe_svn = q->header.qe_svn;
    s->pce_svn = q->header.pce_svn;
    memcpy(s->qe_id, q->header.user_data, 16);
    s->app_report = &q->sgx_body;
    s->qe_report = &q->qe_report;
    s->qe_report_sig = q->qe_report_sig;
    s->attest_pub_key = q->attest_pub_key;
    s->qe_auth_data = q->qe_auth_data;
    s->qe_auth_data_len = q->qe_auth_data_len;
    s->cert_type = q->cert_type;
    s->cert_data = q->cert_data;
    s->cert_data_len = q->cert_data_len;
}

static void check_rebuild(const char *vector)
{
    uint8_t *raw, *out;
    size_t len, out_len = 0;
    quote_view q;
    quote_v3_spec s;

    raw = load_quote(vector, &len);
    assert_int_equal(quote_parse(raw, len, &q), QUOTE_OK);
    spec_from_view(&q, &s);
    assert_int_equal(quote_v3_size(&s), q.quote_len);
    out = malloc(q.quote_len);
    assert_non_null(out);
    memset(out, 0xee, q.quote_len);
    assert_int_equal(quote_v3_build(&s, out, q.quote_len, &out_len), QUOTE_OK);
    assert_int_equal(out_len, q.quote_len);
    /* Unsigned: the ISV signature slot is zero. */
    for (size_t i = 436; i < 500; i++)
        assert_int_equal(out[i], 0);
    quote_v3_set_signature(out, raw + QUOTE_V3_SIG_OFFSET);
    assert_memory_equal(out, raw, q.quote_len);
    free(out);
    free(raw);
}

static void test_build_matches_real_quote(void **state)
{
    (void)state;
    check_rebuild("dcapqvl-sgx-v3");
    check_rebuild("customroot-dcapqvl-sgx-v3");
    /* Type 1, no auth data; its user_data[16..20) is not zero, so only the
     * first 44 bytes of the header can match — compare the rest piecewise. */
    {
        uint8_t *raw, *out;
        size_t len, out_len;
        quote_view q;
        quote_v3_spec s;

        raw = load_quote("intelqvl-sample-sgx-v3-testroot", &len);
        assert_int_equal(quote_parse(raw, len, &q), QUOTE_OK);
        spec_from_view(&q, &s);
        out = malloc(len);
        assert_non_null(out);
        assert_int_equal(quote_v3_build(&s, out, len, &out_len), QUOTE_OK);
        assert_int_equal(out_len, len);
        quote_v3_set_signature(out, raw + 436);
        assert_memory_equal(out, raw, 44);
        assert_memory_equal(out + 44, "\0\0\0\0", 4);
        assert_memory_equal(out + 48, raw + 48, len - 48);
        free(out);
        free(raw);
    }
}

static void test_build_errors(void **state)
{
    uint8_t *raw, small[16];
    size_t len, out_len = 1;
    quote_view q;
    quote_v3_spec s;

    (void)state;
    raw = load_quote("dcapqvl-sgx-v3", &len);
    assert_int_equal(quote_parse(raw, len, &q), QUOTE_OK);
    spec_from_view(&q, &s);

    assert_int_equal(quote_v3_build(&s, small, sizeof(small), &out_len),
                     QUOTE_E_BUFFER_TOO_SMALL);
    assert_int_equal(out_len, 4600); /* tells the caller what to allocate */
    assert_int_equal(quote_v3_build(&s, NULL, 0, &out_len), QUOTE_E_BUFFER_TOO_SMALL);
    assert_int_equal(quote_v3_build(&s, small, sizeof(small), NULL), QUOTE_E_INVALID_ARG);
    assert_int_equal(quote_v3_build(NULL, small, sizeof(small), &out_len), QUOTE_E_INVALID_ARG);
    assert_int_equal(quote_v3_size(NULL), 0);

    s.cert_type = 6;
    assert_int_equal(quote_v3_build(&s, small, sizeof(small), &out_len), QUOTE_E_CERT_TYPE);
    s.cert_type = 0;
    assert_int_equal(quote_v3_build(&s, small, sizeof(small), &out_len), QUOTE_E_CERT_TYPE);
    s.cert_type = 5;
    s.cert_data_len = QUOTE_CERT_DATA_MAX + 1;
    assert_int_equal(quote_v3_size(&s), 0);
    assert_int_equal(quote_v3_build(&s, small, sizeof(small), &out_len), QUOTE_E_TOO_LARGE);
    s.cert_data_len = q.cert_data_len;
    s.qe_report = NULL;
    assert_int_equal(quote_v3_build(&s, small, sizeof(small), &out_len), QUOTE_E_INVALID_ARG);
    s.qe_report = &q.qe_report;
    s.qe_auth_data = NULL;
    assert_int_equal(quote_v3_build(&s, small, sizeof(small), &out_len), QUOTE_E_INVALID_ARG);
    free(raw);
}

/* Build a v3 quote around arbitrary type-5 data and parse it back. */
static int build_and_parse_type5(const char *cert, size_t cert_len, uint8_t **buf,
                                 quote_view *q)
{
    uint8_t key[64] = {1}, sig[64] = {2};
    sgx_report_body_t app, qe;
    quote_v3_spec s;
    size_t len;

    memset(&app, 0x11, sizeof(app));
    memset(&qe, 0x22, sizeof(qe));
    memset(&s, 0, sizeof(s));
    s.app_report = &app;
    s.qe_report = &qe;
    s.qe_report_sig = sig;
    s.attest_pub_key = key;
    s.cert_type = CERT_DATA_PCK_CHAIN;
    s.cert_data = (const uint8_t *)cert;
    s.cert_data_len = (uint32_t)cert_len;
    len = quote_v3_size(&s);
    assert_int_equal(len, 1020 + cert_len);
    *buf = malloc(len);
    assert_non_null(*buf);
    assert_int_equal(quote_v3_build(&s, *buf, len, &len), QUOTE_OK);
    return quote_parse(*buf, len, q);
}

#define CERT_A "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
#define CERT_B "-----BEGIN CERTIFICATE-----\nBBBBBB\n-----END CERTIFICATE-----"

static void test_pem_scan(void **state)
{
    static const char any_order[] = "junk\n" CERT_B "\r\n\n" CERT_A "\n";
    static const char nested[] = "-----BEGIN CERTIFICATE-----\n" CERT_A "\n";
    static const char key_only[] =
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    char many[16 * sizeof(CERT_A)];
    uint8_t *buf;
    quote_view q;

    (void)state;
    /* Any order, junk around, trailing NUL counted in C. */
    assert_int_equal(build_and_parse_type5(any_order, sizeof(any_order), &buf, &q), QUOTE_OK);
    assert_int_equal(q.pem_count, 2);
    assert_int_equal(q.pem[0].len, strlen(CERT_B));
    assert_memory_equal(q.pem[0].pem, CERT_B, strlen(CERT_B));
    assert_int_equal(q.pem[1].len, strlen(CERT_A));
    assert_memory_equal(q.pem[1].pem, CERT_A, strlen(CERT_A));
    assert_ptr_equal(q.pem[0].pem, (const char *)buf + 1020 + 5);
    free(buf);

    assert_int_equal(build_and_parse_type5(nested, strlen(nested), &buf, &q), QUOTE_E_PEM);
    free(buf);
    assert_int_equal(build_and_parse_type5(key_only, strlen(key_only), &buf, &q), QUOTE_E_PEM);
    free(buf);
    assert_int_equal(build_and_parse_type5("", 0, &buf, &q), QUOTE_E_PEM);
    free(buf);

    /* QUOTE_MAX_CHAIN_CERTS blocks fit; one more is refused. */
    many[0] = '\0';
    for (int i = 0; i < QUOTE_MAX_CHAIN_CERTS; i++)
        strcat(many, CERT_A "\n");
    assert_int_equal(build_and_parse_type5(many, strlen(many), &buf, &q), QUOTE_OK);
    assert_int_equal(q.pem_count, QUOTE_MAX_CHAIN_CERTS);
    free(buf);
    strcat(many, CERT_A "\n");
    assert_int_equal(build_and_parse_type5(many, strlen(many), &buf, &q), QUOTE_E_TOO_LARGE);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_vectors_parse),
        cmocka_unit_test(test_dcapqvl_sgx_v3_known_values),
        cmocka_unit_test(test_qvl_sample_type1),
        cmocka_unit_test(test_tdx_v4),
        cmocka_unit_test(test_tdx_v5),
        cmocka_unit_test(test_sgx_v4),
        cmocka_unit_test(test_trailing_bytes_allowed),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_v3_cert_errors),
        cmocka_unit_test(test_v4_v5_errors),
        cmocka_unit_test(test_parse_args),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_build_matches_real_quote),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_pem_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
