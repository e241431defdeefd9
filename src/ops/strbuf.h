/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable, always NUL-terminated output buffer for the ops renderers
 * (metrics exposition, log lines). Errors are sticky: after a failed
 * allocation every append is a no-op and strbuf_take() returns NULL, so
 * renderers append freely and check once at the end.
 */
#ifndef SGXQH_OPS_STRBUF_H
#define SGXQH_OPS_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *p;
    size_t len;
    size_t cap;
    bool failed;
} strbuf;

void strbuf_init(strbuf *b);
void strbuf_free(strbuf *b);
void strbuf_putc(strbuf *b, char c);
void strbuf_put(strbuf *b, const char *s, size_t n);
void strbuf_puts(strbuf *b, const char *s);
void strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the text over (caller frees); NULL after an allocation failure. */
char *strbuf_take(strbuf *b, size_t *len);

#endif
