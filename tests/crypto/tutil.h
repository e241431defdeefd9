/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers shared by the crypto tests: hex literals to bytes and
 * comparisons against them (files: ../common/test_support.h).
 */
#ifndef SGXQH_TESTS_CRYPTO_TUTIL_H
#define SGXQH_TESTS_CRYPTO_TUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/test_support.h"

/* Decode a hex literal (no separators) into a fresh buffer; fails the test on error. */
static inline uint8_t *tu_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    uint8_t *out;

    assert_true(n % 2 == 0);
    out = malloc(n / 2 + 1);
    assert_non_null(out);
    ts_unhex(hex, out, n / 2);
    if (len != NULL)
        *len = n / 2;
    return out;
}

/* Compare bytes against a hex literal. */
static inline void tu_assert_hex(const uint8_t *got, size_t got_len, const char *hex)
{
    size_t n = 0;
    uint8_t *want = tu_hex(hex, &n);

    assert_int_equal(got_len, n);
    assert_memory_equal(got, want, n);
    free(want);
}

#endif
