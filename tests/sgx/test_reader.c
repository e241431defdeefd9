/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the bounded reader (src/sgx/reader.h), the cursor every
 * decoder uses on untrusted bytes: exact-end reads, refusal past the end
 * (cursor unchanged), overflow-proof lengths, sub-readers, find.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sgx/reader.h"

static const uint8_t DATA[] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
};

static void test_init(void **state)
{
    reader r;

    (void)state;
    assert_int_equal(reader_init(&r, DATA, sizeof(DATA)), READER_OK);
    assert_int_equal(reader_remaining(&r), 16);
    assert_int_equal(reader_offset(&r), 0);
    assert_int_equal(reader_init(&r, NULL, 0), READER_OK);
    assert_int_equal(reader_remaining(&r), 0);
    assert_int_equal(reader_init(&r, NULL, 1), READER_E_INVALID_ARG);
    assert_int_equal(reader_remaining(&r), 0);
    assert_int_equal(reader_init(NULL, DATA, 1), READER_E_INVALID_ARG);
    assert_int_equal(reader_init(&r, DATA, READER_SIZE_MAX + 1), READER_E_TOO_LARGE);
    assert_int_equal(reader_remaining(&r), 0);
    assert_int_equal(reader_remaining(NULL), 0);
}

static void test_integers_le(void **state)
{
    reader r;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;

    (void)state;
    reader_init(&r, DATA, sizeof(DATA));
    assert_int_equal(reader_u8(&r, &u8), READER_OK);
    assert_int_equal(u8, 0x01);
    assert_int_equal(reader_u16le(&r, &u16), READER_OK);
    assert_int_equal(u16, 0x0302);
    assert_int_equal(reader_u32le(&r, &u32), READER_OK);
    assert_int_equal(u32, 0x07060504u);
    assert_int_equal(reader_u64le(&r, &u64), READER_OK);
    assert_true(u64 == 0x0f0e0d0c0b0a0908ULL);
    assert_int_equal(reader_offset(&r), 15);
    /* One byte left: every wider read fails and leaves the cursor alone. */
    u16 = 0xaaaa;
    assert_int_equal(reader_u16le(&r, &u16), READER_E_SHORT);
    assert_int_equal(u16, 0xaaaa);
    assert_int_equal(reader_u32le(&r, &u32), READER_E_SHORT);
    assert_int_equal(reader_u64le(&r, &u64), READER_E_SHORT);
    assert_int_equal(reader_offset(&r), 15);
    assert_int_equal(reader_u8(&r, &u8), READER_OK);
    assert_int_equal(u8, 0x10);
    assert_int_equal(reader_u8(&r, &u8), READER_E_SHORT);
    assert_int_equal(reader_expect_end(&r), READER_OK);
    assert_int_equal(reader_u8(&r, NULL), READER_E_INVALID_ARG);
}

static void test_high_bits(void **state)
{
    static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80};
    reader r;
    uint64_t u64;
    uint32_t u32;

    (void)state;
    reader_init(&r, ff, sizeof(ff));
    assert_int_equal(reader_u64le(&r, &u64), READER_OK);
    assert_true(u64 == 0x80ffffffffffffffULL);
    reader_init(&r, ff + 4, 4);
    assert_int_equal(reader_u32le(&r, &u32), READER_OK);
    assert_true(u32 == 0x80ffffffu);
}

static void test_bytes_skip_copy(void **state)
{
    const uint8_t *p = NULL;
    uint8_t buf[4];
    reader r;

    (void)state;
    reader_init(&r, DATA, sizeof(DATA));
    assert_int_equal(reader_bytes(&r, 0, &p), READER_OK);
    assert_ptr_equal(p, DATA);
    assert_int_equal(reader_bytes(&r, 3, &p), READER_OK);
    assert_ptr_equal(p, DATA);
    assert_int_equal(reader_peek(&r, 2, &p), READER_OK);
    assert_ptr_equal(p, DATA + 3);
    assert_int_equal(reader_offset(&r), 3);
    assert_int_equal(reader_copy(&r, buf, 4), READER_OK);
    assert_memory_equal(buf, DATA + 3, 4);
    assert_int_equal(reader_skip(&r, 8), READER_OK);
    assert_int_equal(reader_remaining(&r), 1);
    assert_int_equal(reader_expect_end(&r), READER_E_TRAILING);
    p = NULL;
    assert_int_equal(reader_bytes(&r, 2, &p), READER_E_SHORT);
    assert_null(p);
    assert_int_equal(reader_skip(&r, 2), READER_E_SHORT);
    assert_int_equal(reader_copy(&r, buf, 2), READER_E_SHORT);
    assert_int_equal(reader_remaining(&r), 1);
    assert_int_equal(reader_skip(&r, 1), READER_OK);
    assert_int_equal(reader_bytes(&r, 0, &p), READER_OK);
    assert_ptr_equal(p, DATA + 16);
}

/* Lengths near SIZE_MAX must be refused, not wrap around. */
static void test_huge_lengths(void **state)
{
    const uint8_t *p;
    reader r, child;

    (void)state;
    reader_init(&r, DATA, sizeof(DATA));
    reader_skip(&r, 4);
    assert_int_equal(reader_bytes(&r, SIZE_MAX, &p), READER_E_SHORT);
    assert_int_equal(reader_skip(&r, SIZE_MAX - 3), READER_E_SHORT);
    assert_int_equal(reader_sub(&r, SIZE_MAX, &child), READER_E_SHORT);
    assert_int_equal(reader_peek(&r, (size_t)0 - 4, &p), READER_E_SHORT);
    assert_int_equal(reader_offset(&r), 4);
}

static void test_sub(void **state)
{
    reader r, child, grandchild;
    uint32_t u32;
    const uint8_t *p;

    (void)state;
    reader_init(&r, DATA, sizeof(DATA));
    reader_skip(&r, 2);
    assert_int_equal(reader_sub(&r, 6, &child), READER_OK);
    assert_int_equal(reader_offset(&r), 8);
    assert_int_equal(reader_offset(&child), 0);
    assert_int_equal(reader_remaining(&child), 6);
    assert_int_equal(reader_u32le(&child, &u32), READER_OK);
    assert_int_equal(u32, 0x06050403u);
    /* The child ends at its own length even though the parent has more. */
    assert_int_equal(reader_u32le(&child, &u32), READER_E_SHORT);
    assert_int_equal(reader_sub(&child, 3, &grandchild), READER_E_SHORT);
    assert_int_equal(reader_sub(&child, 2, &grandchild), READER_OK);
    assert_int_equal(reader_bytes(&grandchild, 2, &p), READER_OK);
    assert_ptr_equal(p, DATA + 6);
    assert_int_equal(reader_expect_end(&child), READER_OK);
    assert_int_equal(reader_sub(&r, 9, &child), READER_E_SHORT);
    assert_int_equal(reader_sub(&r, 8, &r), READER_E_INVALID_ARG);
    assert_int_equal(reader_sub(&r, 8, NULL), READER_E_INVALID_ARG);
    assert_int_equal(reader_offset(&r), 8);
}

static void test_find(void **state)
{
    static const char text[] = "xx-----BEGIN--END--BEGIN";
    size_t at = 99;
    reader r;

    (void)state;
    reader_init(&r, text, sizeof(text) - 1);
    assert_int_equal(reader_find(&r, "BEGIN", 5, &at), READER_OK);
    assert_int_equal(at, 7);
    reader_skip(&r, 8);
    assert_int_equal(reader_find(&r, "BEGIN", 5, &at), READER_OK);
    assert_int_equal(at, 19 - 8);
    assert_int_equal(reader_offset(&r), 8);
    assert_int_equal(reader_find(&r, "nope", 4, &at), READER_E_NOT_FOUND);
    /* A needle crossing the end of the data is not found. */
    reader_init(&r, text, sizeof(text) - 2);
    assert_int_equal(reader_find(&r, "BEGIN", 5, &at), READER_OK);
    assert_int_equal(at, 7);
    reader_skip(&r, 8);
    assert_int_equal(reader_find(&r, "BEGIN", 5, &at), READER_E_NOT_FOUND);
    assert_int_equal(reader_find(&r, "", 0, &at), READER_E_INVALID_ARG);
    assert_int_equal(reader_find(&r, "x", 1, NULL), READER_E_INVALID_ARG);
}

static void test_strerror(void **state)
{
    const int codes[] = {READER_OK, READER_E_SHORT, READER_E_INVALID_ARG, READER_E_TOO_LARGE,
                         READER_E_TRAILING, READER_E_NOT_FOUND};
    const char *unknown = reader_strerror(-1000);

    (void)state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_non_null(reader_strerror(codes[i]));
        assert_string_not_equal(reader_strerror(codes[i]), unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(reader_strerror(codes[i]), reader_strerror(codes[j]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_integers_le),
        cmocka_unit_test(test_high_bits),
        cmocka_unit_test(test_bytes_skip_copy),
        cmocka_unit_test(test_huge_lengths),
        cmocka_unit_test(test_sub),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
