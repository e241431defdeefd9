/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Structured log lines (logfmt.h): the last step of every request, after
 * the service produced its result and the metrics were updated. Field values
 * can carry peer-influenced text (a cgroup-derived id is validated, but
 * detail strings may quote anything), so both renderers escape everything
 * and the JSON one repairs invalid UTF-8 rather than emit a line a strict
 * parser would reject.
 */
#include "ops/logfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/strbuf.h"

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static void json_string(strbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    strbuf_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        switch (c) {
        case '"': strbuf_puts(b, "\\\""); i++; continue;
        case '\\': strbuf_puts(b, "\\\\"); i++; continue;
        case '\n': strbuf_puts(b, "\\n"); i++; continue;
        case '\r': strbuf_puts(b, "\\r"); i++; continue;
        case '\t': strbuf_puts(b, "\\t"); i++; continue;
        case '\b': strbuf_puts(b, "\\b"); i++; continue;
        case '\f': strbuf_puts(b, "\\f"); i++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            strbuf_printf(b, "\\u%04x", c);
            i++;
            continue;
        }
        size_t l = utf8_seq_len(p + i, n - i);
        if (l == 0) {
            strbuf_puts(b, "\\ufffd");
            i++;
        } else {
            strbuf_put(b, s + i, l);
            i += l;
        }
    }
    strbuf_putc(b, '"');
}

/* Text values: bare when made of safe printable ASCII, else quoted with the
 * JSON escapes (the daemon's text lines do the same). */
static void text_value(strbuf *b, const char *s)
{
    bool bare = s[0] != '\0';
    for (const char *q = s; *q != '\0' && bare; q++) {
        unsigned char c = (unsigned char)*q;
        bare = c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
    }
    if (bare)
        strbuf_puts(b, s);
    else
        json_string(b, s);
}

static void hex32(const uint8_t v[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = digits[v[i] >> 4];
        out[2 * i + 1] = digits[v[i] & 15];
    }
    out[64] = '\0';
}

static void rfc3339(const struct timespec *ts, char out[80])
{
    struct tm tm;
    time_t sec = ts->tv_sec;
    long ms = ts->tv_nsec / 1000000;
    if (ms < 0 || ms > 999)
        ms = 0;
    if (gmtime_r(&sec, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static bool present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* One emitter for both formats keeps the field order and presence rules in
 * a single place. */
typedef struct {
    strbuf *b;
    logfmt_format fmt;
    bool first;
} emitter;

static void key(emitter *e, const char *k)
{
    if (e->fmt == LOGFMT_JSON) {
        strbuf_printf(e->b, "%s\"%s\":", e->first ? "" : ",", k);
    } else {
        strbuf_printf(e->b, " %s=", k);
    }
    e->first = false;
}

static void field_str(emitter *e, const char *k, const char *v)
{
    if (!present(v))
        return;
    key(e, k);
    if (e->fmt == LOGFMT_JSON)
        json_string(e->b, v);
    else
        text_value(e->b, v);
}

static void field_num(emitter *e, const char *k, const char *fmt_num)
{
    key(e, k);
    strbuf_puts(e->b, fmt_num);
}

int logfmt_render(logfmt_format fmt, const logfmt_fields *f, char **line, size_t *len)
{
    if (f == NULL || line == NULL || f->event == NULL)
        return LOGFMT_E_INVALID_ARG;
    strbuf b;
    strbuf_init(&b);
    emitter e = {&b, fmt, true};
    char ts[80], num[64], hex[65];
    rfc3339(&f->ts, ts);

    if (fmt == LOGFMT_JSON) {
        strbuf_putc(&b, '{');
        field_str(&e, "ts", ts);
        field_str(&e, "level", logfmt_level_name(f->level));
        field_str(&e, "event", f->event);
    } else {
        strbuf_printf(&b, "%s %s ", ts, logfmt_level_name(f->level));
        text_value(&b, f->event);
        e.first = false;
    }
    field_str(&e, "op", f->op);
    if (f->has_aesm) {
        field_str(&e, "result", f->result);
        snprintf(num, sizeof num, "%d", f->code);
        field_num(&e, "code", num);
    }
    if (f->has_latency) {
        /* NaN/inf are not JSON numbers; a day is far beyond any deadline. */
        double ms = f->latency_ms;
        if (!isfinite(ms) || ms < 0)
            ms = 0;
        else if (ms > 86400000.0)
            ms = 86400000.0;
        snprintf(num, sizeof num, "%.3f", ms);
        field_num(&e, "latency_ms", num);
    }
    if (f->has_peer) {
        snprintf(num, sizeof num, "%ld", (long)f->pid);
        field_num(&e, "pid", num);
        snprintf(num, sizeof num, "%u", f->uid);
        field_num(&e, "uid", num);
        snprintf(num, sizeof num, "%u", f->gid);
        field_num(&e, "gid", num);
    }
    field_str(&e, "pod_uid", f->pod_uid);
    field_str(&e, "container_id", f->container_id);
    if (f->has_enclave) {
        hex32(f->mr_enclave, hex);
        field_str(&e, "mrenclave", hex);
        hex32(f->mr_signer, hex);
        field_str(&e, "mrsigner", hex);
    }
    field_str(&e, "reason", f->reason);
    field_str(&e, "msg", f->msg);
    field_str(&e, "hint", f->hint);
    if (fmt == LOGFMT_JSON)
        strbuf_putc(&b, '}');
    strbuf_putc(&b, '\n');

    *line = strbuf_take(&b, len);
    return *line != NULL ? LOGFMT_OK : LOGFMT_E_NOMEM;
}

int logfmt_parse_format(const char *s, logfmt_format *out)
{
    if (s == NULL || out == NULL)
        return LOGFMT_E_INVALID_ARG;
    if (strcmp(s, "json") == 0)
        *out = LOGFMT_JSON;
    else if (strcmp(s, "text") == 0)
        *out = LOGFMT_TEXT;
    else
        return LOGFMT_E_INVALID_ARG;
    return LOGFMT_OK;
}

int logfmt_parse_level(const char *s, logfmt_level *out)
{
    if (s == NULL || out == NULL)
        return LOGFMT_E_INVALID_ARG;
    if (strcmp(s, "debug") == 0)
        *out = LOGFMT_LEVEL_DEBUG;
    else if (strcmp(s, "info") == 0)
        *out = LOGFMT_LEVEL_INFO;
    else if (strcmp(s, "warn") == 0 || strcmp(s, "warning") == 0)
        *out = LOGFMT_LEVEL_WARN;
    else if (strcmp(s, "error") == 0)
        *out = LOGFMT_LEVEL_ERROR;
    else
        return LOGFMT_E_INVALID_ARG;
    return LOGFMT_OK;
}

const char *logfmt_level_name(logfmt_level l)
{
    switch (l) {
    case LOGFMT_LEVEL_DEBUG: return "debug";
    case LOGFMT_LEVEL_INFO: return "info";
    case LOGFMT_LEVEL_WARN: return "warn";
    case LOGFMT_LEVEL_ERROR: return "error";
    }
    return "info";
}

logfmt_format logfmt_default_format(int fd)
{
    return isatty(fd) ? LOGFMT_TEXT : LOGFMT_JSON;
}

const char *logfmt_strerror(int err)
{
    switch (err) {
    case LOGFMT_OK: return "ok";
    case LOGFMT_E_INVALID_ARG: return "invalid argument (log format: text|json; level: debug|info|warn|error)";
    case LOGFMT_E_NOMEM: return "out of memory";
    default: return "unknown log format error";
    }
}
