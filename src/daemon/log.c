/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Log records → one stderr line each. The server (server.c) and main.c
 * build records field by field; this file owns the two renderings: logfmt
 * style `key=value` text and one JSON object per line. Lines are formatted
 * into a bounded buffer and written with one write(2) so that concurrent
 * writers (and log collectors) always see whole lines.
 */
#include "daemon/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static log_format g_format = LOG_FORMAT_TEXT;
static log_level g_level = LOG_INFO;

static const char *const LEVEL_NAMES[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *s, log_level *out)
{
    for (size_t i = 0; i < sizeof LEVEL_NAMES / sizeof LEVEL_NAMES[0]; i++) {
        if (strcasecmp(s, LEVEL_NAMES[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_format_parse(const char *s, log_format *out)
{
    if (strcasecmp(s, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (strcasecmp(s, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

void log_setup(log_format fmt, log_level level)
{
    g_format = fmt;
    g_level = level;
}

bool log_enabled(log_level level)
{
    return level <= g_level;
}

void log_begin(log_record *r, log_level level, const char *event)
{
    r->level = level;
    r->event = event;
    r->n = 0;
    r->overflow = false;
}

static bool log_slot(log_record *r, const char *key)
{
    if (r->n >= LOG_MAX_FIELDS) {
        r->overflow = true;
        return false;
    }
    r->f[r->n].key = key;
    return true;
}

void log_str(log_record *r, const char *key, const char *value)
{
    if (!log_slot(r, key))
        return;
    r->f[r->n].type = LOG_V_STR;
    r->f[r->n++].v.s = value != NULL ? value : "";
}

void log_int(log_record *r, const char *key, long long value)
{
    if (!log_slot(r, key))
        return;
    r->f[r->n].type = LOG_V_INT;
    r->f[r->n++].v.i = value;
}

void log_uint(log_record *r, const char *key, unsigned long long value)
{
    if (!log_slot(r, key))
        return;
    r->f[r->n].type = LOG_V_UINT;
    r->f[r->n++].v.u = value;
}

void log_ms(log_record *r, const char *key, double milliseconds)
{
    if (!log_slot(r, key))
        return;
    r->f[r->n].type = LOG_V_MS;
    r->f[r->n++].v.ms = milliseconds;
}

void log_bool(log_record *r, const char *key, bool value)
{
    if (!log_slot(r, key))
        return;
    r->f[r->n].type = LOG_V_BOOL;
    r->f[r->n++].v.b = value;
}

void log_hex(log_record *r, const char *key, const uint8_t *p, size_t n)
{
    if (!log_slot(r, key))
        return;
    r->f[r->n].type = LOG_V_HEX;
    r->f[r->n].v.hex.p = p;
    r->f[r->n++].v.hex.n = n;
}

void log_peer_fields(log_record *r, const log_peer *peer)
{
    if (peer == NULL || !peer->known)
        return;
    log_int(r, "pid", (long long)peer->pid);
    log_uint(r, "uid", (unsigned long long)peer->uid);
    log_uint(r, "gid", (unsigned long long)peer->gid);
}

/* A bounded string builder: appends until full, then silently truncates
 * (the line still ends in '\n'). */
typedef struct {
    char buf[LOG_LINE_MAX];
    size_t len;
} line_buf;

static void lb_putc(line_buf *lb, char c)
{
    if (lb->len + 1 < sizeof lb->buf)
        lb->buf[lb->len++] = c;
}

static void lb_puts(line_buf *lb, const char *s)
{
    while (*s != '\0')
        lb_putc(lb, *s++);
}

static void lb_printf(line_buf *lb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lb_printf(line_buf *lb, const char *fmt, ...)
{
    size_t room = sizeof lb->buf - 1 - lb->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(lb->buf + lb->len, room + 1, fmt, ap);
    va_end(ap);
    if (n > 0)
        lb->len += (size_t)n < room ? (size_t)n : room;
}

static void lb_hex(line_buf *lb, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        lb_putc(lb, digits[p[i] >> 4]);
        lb_putc(lb, digits[p[i] & 15]);
    }
}

/* JSON string body (RFC 8259 escapes); also used for quoted text values. */
static void lb_escaped(line_buf *lb, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            lb_putc(lb, '\\');
            lb_putc(lb, (char)c);
        } else if (c == '\n') {
            lb_puts(lb, "\\n");
        } else if (c < 0x20 || c == 0x7f) {
            lb_printf(lb, "\\u%04x", c);
        } else {
            lb_putc(lb, (char)c);
        }
    }
}

static bool text_needs_quotes(const char *s)
{
    if (*s == '\0')
        return true;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            return true;
    }
    return false;
}

static void timestamp(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

static void render_value(line_buf *lb, const log_record *r, size_t i, bool json)
{
    switch (r->f[i].type) {
    case LOG_V_STR:
        if (json || text_needs_quotes(r->f[i].v.s)) {
            lb_putc(lb, '"');
            lb_escaped(lb, r->f[i].v.s);
            lb_putc(lb, '"');
        } else {
            lb_puts(lb, r->f[i].v.s);
        }
        break;
    case LOG_V_INT:
        lb_printf(lb, "%lld", r->f[i].v.i);
        break;
    case LOG_V_UINT:
        lb_printf(lb, "%llu", r->f[i].v.u);
        break;
    case LOG_V_MS:
        lb_printf(lb, "%.3f", r->f[i].v.ms);
        break;
    case LOG_V_BOOL:
        lb_puts(lb, r->f[i].v.b ? "true" : "false");
        break;
    case LOG_V_HEX:
        if (json)
            lb_putc(lb, '"');
        lb_hex(lb, r->f[i].v.hex.p, r->f[i].v.hex.n);
        if (json)
            lb_putc(lb, '"');
        break;
    }
}

static void write_line(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report a logging failure */
        }
        p += w;
        n -= (size_t)w;
    }
}

void log_emit(log_record *r)
{
    if (!log_enabled(r->level))
        return;
    line_buf lb;
    lb.len = 0;
    char ts[32];
    timestamp(ts);
    if (g_format == LOG_FORMAT_JSON) {
        lb_printf(&lb, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"", ts, LEVEL_NAMES[r->level]);
        lb_escaped(&lb, r->event);
        lb_putc(&lb, '"');
        for (size_t i = 0; i < r->n; i++) {
            lb_puts(&lb, ",\"");
            lb_escaped(&lb, r->f[i].key);
            lb_puts(&lb, "\":");
            render_value(&lb, r, i, true);
        }
        if (r->overflow)
            lb_puts(&lb, ",\"truncated\":true");
        /* Leave room for the closing brace even when the line was cut. */
        if (lb.len > sizeof lb.buf - 3)
            lb.len = sizeof lb.buf - 3;
        lb_putc(&lb, '}');
    } else {
        lb_printf(&lb, "%s %s %s", ts, LEVEL_NAMES[r->level], r->event);
        for (size_t i = 0; i < r->n; i++) {
            lb_putc(&lb, ' ');
            lb_puts(&lb, r->f[i].key);
            lb_putc(&lb, '=');
            render_value(&lb, r, i, false);
        }
        if (r->overflow)
            lb_puts(&lb, " truncated=true");
        if (lb.len > sizeof lb.buf - 2)
            lb.len = sizeof lb.buf - 2;
    }
    lb.buf[lb.len++] = '\n';
    write_line(lb.buf, lb.len);
}

void log_msg(log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[LOG_LINE_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_record r;
    log_begin(&r, level, "message");
    log_str(&r, "msg", msg);
    log_emit(&r);
}
