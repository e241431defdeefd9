/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers shared by the crypto tests: hex literals to bytes and reading
 * files from the shared vectors directory ($SGXQH_VECTORS, set by meson).
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

/* Decode a hex literal (no separators) into a fresh buffer; fails the test on error. */
static inline uint8_t *tu_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    uint8_t *out;

    assert_true(n % 2 == 0);
    out = malloc(n / 2 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
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

/* Read $SGXQH_VECTORS/<rel> fully; appends a NUL (not counted in *len). */
static inline uint8_t *tu_read_vector(const char *rel, size_t *len)
{
    const char *dir = getenv("SGXQH_VECTORS");
    char path[4096];
    FILE *f;
    uint8_t *buf;
    long sz;

    assert_non_null(dir);
    assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) < sizeof(path));
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open vector %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    sz = ftell(f);
    assert_true(sz >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = malloc((size_t)sz + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    buf[sz] = 0;
    *len = (size_t)sz;
    return buf;
}

#endif
