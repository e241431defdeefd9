/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strbuf: the output side of the ops renderers (strbuf.h). Output only ever
 * holds text we produced; nothing here parses input.
 */
#include "ops/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A rendered /metrics page or log line never gets near this. */
#define STRBUF_MAX ((size_t)64 * 1024 * 1024)

void strbuf_init(strbuf *b)
{
    memset(b, 0, sizeof *b);
}

void strbuf_free(strbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static bool reserve(strbuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > STRBUF_MAX - b->len - 1) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *np = realloc(b->p, cap);
    if (np == NULL) {
        b->failed = true;
        return false;
    }
    b->p = np;
    b->cap = cap;
    return true;
}

void strbuf_put(strbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void strbuf_putc(strbuf *b, char c)
{
    strbuf_put(b, &c, 1);
}

void strbuf_puts(strbuf *b, const char *s)
{
    strbuf_put(b, s, strlen(s));
}

void strbuf_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *strbuf_take(strbuf *b, size_t *len)
{
    if (b->failed || !reserve(b, 0)) {
        strbuf_free(b);
        return NULL;
    }
    char *p = b->p;
    if (len != NULL)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}
