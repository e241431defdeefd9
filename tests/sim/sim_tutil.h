/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the sim unit tests: scratch directories, writing files. Included
 * by each test_*.c; everything is static so each test binary stands alone.
 */
#ifndef SGXQH_SIM_TUTIL_H
#define SGXQH_SIM_TUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "../common/test_support.h" /* ts_read_file, ts_unhex */

/* A fresh directory under $TMPDIR; caller frees and removes with tu_rmtree. */
static inline char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/sqh-sim-test.XXXXXX", base != NULL ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static inline void tu_rmtree(char *dir)
{
    if (dir != NULL)
        ts_rmtree(dir);
    free(dir);
}

static inline char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static inline void tu_write(const char *path, const void *data, size_t len, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

#endif
