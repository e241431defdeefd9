/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Report-structure tests: the report-body wire codec against hand-placed
 * bytes at quote-format §1.3 offsets, target-info derivation against the
 * §4.1 byte-copy rule applied independently here, and the two constants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sgxqh/quote.h"
#include "testutil.h"

/* Pseudo-random bytes (fixed LCG): no field's bytes repeat at another
 * offset, so a copy from the wrong offset or a missed (zeroed) field shows. */
static void fill_pattern(uint8_t *raw, size_t n)
{
    uint32_t x = 0x2545f491u;

    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        raw[i] = (uint8_t)(x >> 16);
    }
}

static void test_body_decode_offsets(void **state)
{
    uint8_t raw[384];
    sgx_report_body_t b;

    (void)state;
    fill_pattern(raw, sizeof(raw));
    /* Integers at their §1.3 offsets, little-endian. */
    raw[16] = 0x11; raw[17] = 0x22; raw[18] = 0x33; raw[19] = 0x44;
    for (int i = 0; i < 8; i++) {
        raw[48 + i] = (uint8_t)(0xa0 + i);
        raw[56 + i] = (uint8_t)(0xb0 + i);
    }
    raw[256] = 0x01; raw[257] = 0x02;
    raw[258] = 0x0a; raw[259] = 0x0b;
    raw[260] = 0xc1; raw[261] = 0xc2;

    sgx_report_body_decode(raw, &b);
    assert_int_equal(b.misc_select, 0x44332211u);
    assert_true(b.attributes.flags == 0xa7a6a5a4a3a2a1a0ULL);
    assert_true(b.attributes.xfrm == 0xb7b6b5b4b3b2b1b0ULL);
    assert_int_equal(b.isv_prod_id, 0x0201);
    assert_int_equal(b.isv_svn, 0x0b0a);
    assert_int_equal(b.config_svn, 0xc2c1);
    assert_memory_equal(b.cpu_svn, raw + 0, 16);
    assert_memory_equal(b.reserved1, raw + 20, 12);
    assert_memory_equal(b.isv_ext_prod_id, raw + 32, 16);
    assert_memory_equal(b.mr_enclave, raw + 64, 32);
    assert_memory_equal(b.reserved2, raw + 96, 32);
    assert_memory_equal(b.mr_signer, raw + 128, 32);
    assert_memory_equal(b.reserved3, raw + 160, 32);
    assert_memory_equal(b.config_id, raw + 192, 64);
    assert_memory_equal(b.reserved4, raw + 262, 42);
    assert_memory_equal(b.isv_family_id, raw + 304, 16);
    assert_memory_equal(b.report_data, raw + 320, 64);
}

static void test_body_encode_roundtrip(void **state)
{
    uint8_t raw[384], again[384];
    sgx_report_body_t b;

    (void)state;
    fill_pattern(raw, sizeof(raw));
    sgx_report_body_decode(raw, &b);
    memset(again, 0, sizeof(again));
    sgx_report_body_encode(&b, again);
    assert_memory_equal(again, raw, sizeof(raw));
}

/* quote-format §4.1, applied byte by byte on the wire form. */
static void expected_target_info(const uint8_t report[384], uint8_t ti[512])
{
    memset(ti, 0, 512);
    memcpy(ti + 0, report + 64, 32);   /* mr_enclave */
    memcpy(ti + 32, report + 48, 16);  /* attributes */
    ti[48] = report[20];               /* CET attributes */
    memcpy(ti + 50, report + 260, 2);  /* config_svn */
    memcpy(ti + 52, report + 16, 4);   /* misc_select */
    memcpy(ti + 64, report + 192, 64); /* config_id */
}

static void test_target_info_from_report(void **state)
{
    uint8_t raw[384], expect[512];
    sgx_report_body_t body;
    sgx_target_info_t ti;

    (void)state;
    fill_pattern(raw, sizeof(raw));
    sgx_report_body_decode(raw, &body);
    memset(&ti, 0xcc, sizeof(ti));
    sgx_target_info_from_report(&body, &ti);
    expected_target_info(raw, expect);
    /* sgx_target_info_t is the packed wire layout on this (LE) host. */
    assert_memory_equal(&ti, expect, sizeof(expect));
    /* And the fields the daemon reads by name. */
    assert_int_equal(ti.reserved1[0], raw[20]);
    assert_int_equal(ti.reserved1[1], 0);
    assert_int_equal(ti.config_svn, raw[260] | raw[261] << 8);
    assert_memory_equal(ti.mr_enclave, raw + 64, 32);
}

/* The QE report of the real dcap-qvl sample: the target info a client would
 * get for that QE has its mr_enclave and attributes 0x15/0xE7. */
static void test_target_info_real_qe(void **state)
{
    uint8_t *quote, expect[512];
    sgx_report_body_t body;
    sgx_target_info_t ti;
    size_t len;

    (void)state;
    quote = tu_read_vector("dcapqvl-sgx-v3", "quote.bin", &len);
    assert_true(len >= 948);
    sgx_report_body_decode(quote + 564, &body); /* QE report body, §1.4 */
    sgx_target_info_from_report(&body, &ti);
    expected_target_info(quote + 564, expect);
    assert_memory_equal(&ti, expect, sizeof(expect));
    assert_true(ti.attributes.flags == 0x15);
    assert_true(ti.attributes.xfrm == 0xe7);
    free(quote);
}

static void test_constants(void **state)
{
    uint8_t vendor[16], mrsigner[32];

    (void)state;
    tu_hex("939A7233F79C4CA9940A0DB3957F0607", vendor, sizeof(vendor));
    tu_hex("8c4f5775 d796503e 96137f77 c68a829a 0056ac8d ed70140b 081b0944 90c57bff",
           mrsigner, sizeof(mrsigner));
    assert_memory_equal(SGX_INTEL_QE_VENDOR_ID, vendor, 16);
    assert_memory_equal(SGX_QE3_MRSIGNER, mrsigner, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_decode_offsets),
        cmocka_unit_test(test_body_encode_roundtrip),
        cmocka_unit_test(test_target_info_from_report),
        cmocka_unit_test(test_target_info_real_qe),
        cmocka_unit_test(test_constants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
