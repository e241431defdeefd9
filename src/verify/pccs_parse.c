/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCCS response headers (quote-format §6.1): picking the issuer-chain header
 * out of the lines libcurl reports, and percent-decoding its value into the
 * PEM chain pccs.c hands to the collateral setters. Everything here reads
 * the untrusted line through the bounded reader (src/sgx/reader.h) and
 * writes only within the caller's stated capacity.
 */
#include "pccs_parse.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sgx/reader.h"
#include "sgxqh/verify.h"

static uint8_t ascii_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

static bool name_equals(const uint8_t *name, size_t len, const char *want)
{
    if (strlen(want) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (ascii_lower(name[i]) != ascii_lower((uint8_t)want[i]))
            return false;
    }
    return true;
}

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

int pccs_header_match(const char *line, size_t len, const char *const *names, size_t n_names,
                      size_t *which, const char **value, size_t *value_len)
{
    reader r;
    size_t colon, want;
    const uint8_t *name, *v;
    uint8_t c;
    if (line == NULL || names == NULL || which == NULL || value == NULL || value_len == NULL)
        return VERIFY_E_INVALID_ARG;
    if (reader_init(&r, line, len) != READER_OK)
        return VERIFY_E_FORMAT; /* beyond READER_SIZE_MAX */
    if (reader_find(&r, ":", 1, &colon) != READER_OK)
        return 0; /* the status line or the blank line ending the headers */
    if (reader_bytes(&r, colon, &name) != READER_OK || reader_skip(&r, 1) != READER_OK)
        return 0;
    for (want = 0; want < n_names; want++) {
        if (names[want] != NULL && name_equals(name, colon, names[want]))
            break;
    }
    if (want == n_names)
        return 0;
    /* optional whitespace before the value (RFC 9110 §5.6.3) */
    while (reader_peek(&r, 1, &v) == READER_OK && is_blank(v[0]))
        (void)reader_u8(&r, &c);
    size_t vlen = reader_remaining(&r);
    if (reader_bytes(&r, vlen, &v) != READER_OK)
        return 0;
    while (vlen > 0 && (is_blank(v[vlen - 1]) || v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
        vlen--;
    if (vlen > PCCS_HEADER_VALUE_MAX)
        return VERIFY_E_FORMAT;
    *which = want;
    *value = (const char *)v;
    *value_len = vlen;
    return 1;
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int pccs_percent_decode(const char *in, size_t len, char *out, size_t cap, size_t *out_len)
{
    reader r;
    size_t o = 0;
    uint8_t c;
    const uint8_t *hx;
    if ((in == NULL && len > 0) || out == NULL || out_len == NULL)
        return VERIFY_E_INVALID_ARG;
    if (len > PCCS_HEADER_VALUE_MAX)
        return VERIFY_E_FORMAT;
    if (cap < len + 1)
        return VERIFY_E_INVALID_ARG;
    if (reader_init(&r, in, len) != READER_OK)
        return VERIFY_E_INVALID_ARG;
    /* In place is safe: o never passes the reader's offset, and the two
     * digits of an escape are read before anything is written. */
    while (reader_u8(&r, &c) == READER_OK) {
        int hi, lo;
        if (c == '%' && reader_peek(&r, 2, &hx) == READER_OK && (hi = hex_digit(hx[0])) >= 0 &&
            (lo = hex_digit(hx[1])) >= 0) {
            c = (uint8_t)(hi << 4 | lo);
            (void)reader_skip(&r, 2);
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *out_len = o;
    return 0;
}
