/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded cursor over untrusted bytes (see reader.h for the contract).
 *
 * Sits at the very bottom of every decoder: quote_parse (src/sgx), the AESM
 * framing/codec (src/wire) and the collateral/verifier code (src/verify) read
 * hostile bytes only through these functions. Each check is written as
 * "n > remaining" so that it cannot overflow however large n is.
 */
#include "reader.h"

#include <string.h>

const char *reader_strerror(int err)
{
    switch (err) {
    case READER_OK:
        return "success";
    case READER_E_SHORT:
        return "read past the end of the data";
    case READER_E_INVALID_ARG:
        return "invalid argument";
    case READER_E_TOO_LARGE:
        return "buffer exceeds the reader size limit";
    case READER_E_TRAILING:
        return "unexpected trailing bytes";
    case READER_E_NOT_FOUND:
        return "byte sequence not found";
    default:
        return "unknown reader error";
    }
}

int reader_init(reader *r, const void *buf, size_t len)
{
    if (r == NULL)
        return READER_E_INVALID_ARG;
    r->data = NULL;
    r->len = 0;
    r->off = 0;
    if (buf == NULL && len > 0)
        return READER_E_INVALID_ARG;
    if (len > READER_SIZE_MAX)
        return READER_E_TOO_LARGE;
    r->data = buf;
    r->len = len;
    return READER_OK;
}

size_t reader_remaining(const reader *r)
{
    return r == NULL ? 0 : r->len - r->off;
}

size_t reader_offset(const reader *r)
{
    return r == NULL ? 0 : r->off;
}

/* The single place that decides whether n more bytes may be read. */
static int reader_check(const reader *r, size_t n)
{
    if (r == NULL)
        return READER_E_INVALID_ARG;
    if (n > r->len - r->off)
        return READER_E_SHORT;
    return READER_OK;
}

int reader_peek(reader *r, size_t n, const uint8_t **out)
{
    int rc = reader_check(r, n);

    if (rc != READER_OK)
        return rc;
    if (out == NULL)
        return READER_E_INVALID_ARG;
    /* r->data may be NULL only for an empty reader (then n == 0). */
    *out = r->data == NULL ? NULL : r->data + r->off;
    return READER_OK;
}

int reader_bytes(reader *r, size_t n, const uint8_t **out)
{
    int rc = reader_peek(r, n, out);

    if (rc == READER_OK)
        r->off += n;
    return rc;
}

int reader_copy(reader *r, void *dst, size_t n)
{
    int rc = reader_check(r, n);

    if (rc != READER_OK)
        return rc;
    if (dst == NULL && n > 0)
        return READER_E_INVALID_ARG;
    if (n > 0)
        memcpy(dst, r->data + r->off, n);
    r->off += n;
    return READER_OK;
}

int reader_skip(reader *r, size_t n)
{
    int rc = reader_check(r, n);

    if (rc == READER_OK)
        r->off += n;
    return rc;
}

int reader_sub(reader *r, size_t n, reader *child)
{
    int rc = reader_check(r, n);

    if (rc != READER_OK)
        return rc;
    if (child == NULL || child == r)
        return READER_E_INVALID_ARG;
    child->data = r->data == NULL ? NULL : r->data + r->off;
    child->len = n;
    child->off = 0;
    r->off += n;
    return READER_OK;
}

int reader_u8(reader *r, uint8_t *out)
{
    const uint8_t *p;
    int rc;

    if (out == NULL)
        return READER_E_INVALID_ARG;
    rc = reader_bytes(r, 1, &p);
    if (rc == READER_OK)
        *out = p[0];
    return rc;
}

int reader_u16le(reader *r, uint16_t *out)
{
    const uint8_t *p;
    int rc;

    if (out == NULL)
        return READER_E_INVALID_ARG;
    rc = reader_bytes(r, 2, &p);
    if (rc == READER_OK)
        *out = (uint16_t)(p[0] | (uint16_t)p[1] << 8);
    return rc;
}

int reader_u32le(reader *r, uint32_t *out)
{
    const uint8_t *p;
    int rc;

    if (out == NULL)
        return READER_E_INVALID_ARG;
    rc = reader_bytes(r, 4, &p);
    if (rc == READER_OK)
        *out = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
               (uint32_t)p[3] << 24;
    return rc;
}

int reader_u64le(reader *r, uint64_t *out)
{
    const uint8_t *p;
    uint64_t v = 0;
    int rc;

    if (out == NULL)
        return READER_E_INVALID_ARG;
    rc = reader_bytes(r, 8, &p);
    if (rc != READER_OK)
        return rc;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    *out = v;
    return READER_OK;
}

int reader_find(const reader *r, const void *needle, size_t nlen, size_t *offset)
{
    const uint8_t *hay, *hit;
    size_t left;

    if (r == NULL || needle == NULL || nlen == 0 || offset == NULL)
        return READER_E_INVALID_ARG;
    left = r->len - r->off;
    if (nlen > left)
        return READER_E_NOT_FOUND;
    hay = r->data + r->off;
    hit = memmem(hay, left, needle, nlen);
    if (hit == NULL)
        return READER_E_NOT_FOUND;
    *offset = (size_t)(hit - hay);
    return READER_OK;
}

int reader_expect_end(const reader *r)
{
    if (r == NULL)
        return READER_E_INVALID_ARG;
    return r->off == r->len ? READER_OK : READER_E_TRAILING;
}
