/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers shared by the hardware-backend tests (tests/hw): LE loads,
 * temp dirs, whole-file reads, and "does this log contain these lines in
 * this order".
 * Header-only so each test binary stays one .c file.
 */
#ifndef SGXQH_TESTS_HW_TUTIL_H
#define SGXQH_TESTS_HW_TUTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/test_support.h"

/* Little-endian loads for checking quote fields by offset; written out here
 * rather than taken from src/sgx, the code that parses them. */
static inline uint16_t hwt_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t hwt_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A fresh directory under $TMPDIR (or /tmp); path written into out. */
static inline int hwt_mkdtemp(char *out, size_t cap, const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    if ((size_t)snprintf(out, cap, "%s/sgxqh-%s-XXXXXX", base, tag) >= cap)
        return -1;
    return mkdtemp(out) != NULL ? 0 : -1;
}

/* rm -r for the trees these tests make (files, links, fifos, dirs). */
static inline void hwt_rmtree(const char *path)
{
    ts_rmtree(path);
}

/* NUL-terminated contents, or NULL. Caller frees. */
static inline char *hwt_read_text(const char *path)
{
    return (char *)ts_read_file_or_null(path, NULL);
}

static inline int hwt_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

/* True when every line of `want` (NULL-terminated list) appears as a whole
 * line of `text`, in that order (other lines may come between). */
static inline bool hwt_lines_in_order(const char *text, const char *const *want)
{
    const char *p = text;
    for (size_t i = 0; want[i] != NULL; i++) {
        size_t wl = strlen(want[i]);
        bool found = false;
        while (p != NULL && *p != '\0') {
            const char *eol = strchr(p, '\n');
            size_t ll = eol != NULL ? (size_t)(eol - p) : strlen(p);
            const char *next = eol != NULL ? eol + 1 : p + ll;
            if (ll == wl && strncmp(p, want[i], wl) == 0) {
                found = true;
                p = next;
                break;
            }
            p = next;
        }
        if (!found)
            return false;
    }
    return true;
}

#endif
