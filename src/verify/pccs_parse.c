/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCCS response headers (Intel's PCS API v4): picking the issuer-chain
 * header out of the lines libcurl reports, and percent-decoding its value
 * into the PEM chain pccs.c hands to the collateral setters; the PCCS base
 * URL from the command line or the QCNL configuration; and the on-disk
 * cache entry codec. Everything here reads untrusted bytes through the
 * bounded reader (src/sgx/reader.h) and writes only within the caller's
 * stated capacity.
 */
#include "pccs_parse.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
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

/* ---- Base URL ---- */

static bool has_prefix_nocase(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && name_equals((const uint8_t *)s, n, p);
}

static bool has_suffix_nocase(const char *s, size_t len, const char *suf)
{
    size_t n = strlen(suf);
    return len >= n && name_equals((const uint8_t *)s + len - n, n, suf);
}

int pccs_base_url(const char *url, char *out, size_t cap)
{
    static const char *const SUFFIXES[] = {
        "/sgx/certification/v4", "/sgx/certification/v3",
        "/tdx/certification/v4", "/tdx/certification/v3",
    };
    if (url == NULL || out == NULL || cap < PCCS_URL_MAX + 1)
        return VERIFY_E_INVALID_ARG;
    size_t len = strnlen(url, PCCS_URL_MAX + 1);
    if (len == 0 || len > PCCS_URL_MAX)
        return VERIFY_E_INVALID_ARG;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)url[i];
        if (ch <= ' ' || ch == 0x7f)
            return VERIFY_E_FORMAT;
    }
    size_t scheme;
    if (has_prefix_nocase(url, len, "https://"))
        scheme = 8;
    else if (has_prefix_nocase(url, len, "http://"))
        scheme = 7;
    else
        return VERIFY_E_FORMAT;
    /* Strip API paths until none is left, so the base of a base is itself
     * (a URL that repeats the path would otherwise keep one copy). */
    bool stripped = true;
    while (stripped) {
        stripped = false;
        while (len > scheme && url[len - 1] == '/')
            len--;
        for (size_t i = 0; i < sizeof SUFFIXES / sizeof SUFFIXES[0]; i++) {
            if (has_suffix_nocase(url, len, SUFFIXES[i]) && len - strlen(SUFFIXES[i]) > scheme) {
                len -= strlen(SUFFIXES[i]);
                stripped = true;
                break;
            }
        }
    }
    if (len == scheme || url[scheme] == '/' || url[scheme] == '?' || url[scheme] == '#')
        return VERIFY_E_FORMAT; /* no host */
    memcpy(out, url, len);
    out[len] = '\0';
    return 0;
}

/* ---- Cache entries ---- */

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int pccs_cache_entry_encode(const pccs_cache_entry *e, uint8_t **out, size_t *out_len)
{
    if (e == NULL || out == NULL || out_len == NULL || (e->url == NULL && e->url_len > 0) ||
        (e->chain == NULL && e->chain_len > 0) || (e->body == NULL && e->body_len > 0))
        return VERIFY_E_INVALID_ARG;
    if (e->url_len > PCCS_URL_MAX + PCCS_URL_SUFFIX_MAX || e->chain_len > PCCS_HEADER_VALUE_MAX ||
        e->body_len > VERIFY_COLLATERAL_ITEM_MAX)
        return VERIFY_E_INVALID_ARG;
    size_t n = PCCS_CACHE_MAGIC_LEN + 8 + 4 + e->url_len + 4 + e->chain_len + 4 + e->body_len;
    uint8_t *b = malloc(n + 32), *p = b;
    if (b == NULL)
        return VERIFY_E_NOMEM;
    memcpy(p, PCCS_CACHE_MAGIC, PCCS_CACHE_MAGIC_LEN);
    p += PCCS_CACHE_MAGIC_LEN;
    put_le(p, (uint64_t)e->next_update, 8);
    p += 8;
    const void *parts[3] = {e->url, e->chain, e->body};
    size_t lens[3] = {e->url_len, e->chain_len, e->body_len};
    for (size_t i = 0; i < 3; i++) {
        put_le(p, lens[i], 4);
        p += 4;
        if (lens[i] > 0)
            memcpy(p, parts[i], lens[i]);
        p += lens[i];
    }
    if (crypto_sha256(b, n, p) != 0) {
        free(b);
        return VERIFY_E_NOMEM;
    }
    *out = b;
    *out_len = n + 32;
    return 0;
}

static int read_field(reader *r, size_t max, const uint8_t **p, size_t *len)
{
    uint32_t n;
    if (reader_u32le(r, &n) != READER_OK || n > max || reader_bytes(r, n, p) != READER_OK)
        return VERIFY_E_FORMAT;
    *len = n;
    return 0;
}

int pccs_cache_entry_decode(const uint8_t *buf, size_t len, pccs_cache_entry *out)
{
    reader r;
    const uint8_t *magic, *url, *chain, *hash;
    uint64_t next;
    uint8_t want[32];
    pccs_cache_entry e;
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (out == NULL || (buf == NULL && len > 0))
        return VERIFY_E_INVALID_ARG;
    if (len > PCCS_CACHE_ENTRY_MAX || len < 32 || reader_init(&r, buf, len - 32) != READER_OK)
        return VERIFY_E_FORMAT;
    memset(&e, 0, sizeof e);
    if (reader_bytes(&r, PCCS_CACHE_MAGIC_LEN, &magic) != READER_OK ||
        memcmp(magic, PCCS_CACHE_MAGIC, PCCS_CACHE_MAGIC_LEN) != 0 ||
        reader_u64le(&r, &next) != READER_OK || next > INT64_MAX ||
        read_field(&r, PCCS_URL_MAX + PCCS_URL_SUFFIX_MAX, &url, &e.url_len) != 0 ||
        read_field(&r, PCCS_HEADER_VALUE_MAX, &chain, &e.chain_len) != 0 ||
        read_field(&r, VERIFY_COLLATERAL_ITEM_MAX, &e.body, &e.body_len) != 0 ||
        reader_expect_end(&r) != READER_OK)
        return VERIFY_E_FORMAT;
    hash = buf + len - 32;
    if (crypto_sha256(buf, len - 32, want) != 0 || memcmp(want, hash, 32) != 0)
        return VERIFY_E_FORMAT;
    e.next_update = (int64_t)next;
    e.url = (const char *)url;
    e.chain = (const char *)chain;
    *out = e;
    return 0;
}
