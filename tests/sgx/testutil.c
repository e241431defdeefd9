/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test-side file and hex helpers for tests/sgx. Deliberately independent of
 * src/sgx (no reader, no codec) so expected values never come from the code
 * under test.
 */
#include "testutil.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

char *tu_quotes_dir(void)
{
    const char *v = ts_vectors_dir();
    char *out;

    out = malloc(strlen(v) + sizeof("/quotes"));
    assert_non_null(out);
    strcpy(out, v);
    strcat(out, "/quotes");
    return out;
}

uint8_t *tu_read_vector(const char *vector, const char *name, size_t *len)
{
    char rel[1024];

    snprintf(rel, sizeof(rel), "quotes/%s/%s", vector, name);
    return ts_read_vector(rel, len);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

void tu_hex(const char *hex, uint8_t *out, size_t n)
{
    size_t i = 0;

    while (*hex != '\0') {
        int hi, lo;

        if (isspace((unsigned char)*hex)) {
            hex++;
            continue;
        }
        hi = hexval(hex[0]);
        lo = hex[1] == '\0' ? -1 : hexval(hex[1]);
        if (hi < 0 || lo < 0 || i >= n)
            fail_msg("bad hex literal");
        out[i++] = (uint8_t)(hi << 4 | lo);
        hex += 2;
    }
    assert_int_equal(i, n);
}

uint8_t *tu_dup_exact(const uint8_t *buf, size_t len)
{
    uint8_t *p = malloc(len == 0 ? 1 : len);

    assert_non_null(p);
    if (len > 0)
        memcpy(p, buf, len);
    return p;
}

void tu_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void tu_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
