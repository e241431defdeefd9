/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Structured log lines (logfmt.h): the last step of every daemon event,
 * after the service produced its result and the metrics were updated. Field
 * values can carry peer-influenced text (a cgroup-derived id is validated,
 * but messages may quote anything), so both renderers escape everything,
 * the JSON one repairs invalid UTF-8, and long values are cut at a
 * character boundary, never inside an escape: a strict parser accepts
 * every line.
 */
#include "ops/logfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/strbuf.h"

/* U+2026 HORIZONTAL ELLIPSIS: marks a value cut at LOGFMT_VALUE_MAX. */
#define ELLIPSIS "\xe2\x80\xa6"

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

/* A quoted JSON string of at most LOGFMT_VALUE_MAX input bytes. Each step
 * emits one whole escape or one whole character, so a cut never splits
 * either. */
static void json_string(strbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    bool cut = false;
    strbuf_putc(b, '"');
    size_t lim = n < LOGFMT_VALUE_MAX ? n : LOGFMT_VALUE_MAX;
    for (size_t i = 0; i < n;) {
        /* A run of printable ASCII that needs no escape goes in at once. */
        size_t run = i;
        while (run < lim && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            strbuf_put(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        size_t l = c < 0x80 ? 1 : utf8_seq_len(p + i, n - i);
        if (i + (l == 0 ? 1 : l) > LOGFMT_VALUE_MAX) {
            cut = true;
            break;
        }
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
        } else if (l == 0) {
            strbuf_puts(b, "\\ufffd");
            i++;
        } else {
            strbuf_put(b, s + i, l);
            i += l;
        }
    }
    if (cut)
        strbuf_puts(b, ELLIPSIS);
    strbuf_putc(b, '"');
}

/* Text values: bare when made of safe printable ASCII (and short enough),
 * else quoted with the JSON escapes. */
static void text_value(strbuf *b, const char *s)
{
    size_t n = strlen(s);
    bool bare = n > 0 && n <= LOGFMT_VALUE_MAX;
    for (size_t i = 0; i < n && bare; i++) {
        unsigned char c = (unsigned char)s[i];
        bare = c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
    }
    if (bare)
        strbuf_puts(b, s);
    else
        json_string(b, s);
}

static void hex_value(strbuf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (p == NULL)
        n = 0;
    if (n > LOGFMT_HEX_MAX)
        n = LOGFMT_HEX_MAX;
    char out[2 * 64];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; i < n && k < sizeof out; i++) {
            out[k++] = digits[p[i] >> 4];
            out[k++] = digits[p[i] & 15];
        }
        strbuf_put(b, out, k);
    }
}

/* Decimal digits of v into out (at least 20 bytes), no printf: every
 * request line carries a dozen numbers. Returns the length. */
static size_t u64_digits(unsigned long long v, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static void put_u64(strbuf *b, unsigned long long v)
{
    char d[20];
    strbuf_put(b, d, u64_digits(v, d));
}

static void put_i64(strbuf *b, long long v)
{
    if (v < 0) {
        strbuf_putc(b, '-');
        /* -(v + 1) + 1 reaches LLONG_MIN's magnitude without overflow. */
        put_u64(b, (unsigned long long)(-(v + 1)) + 1u);
        return;
    }
    put_u64(b, (unsigned long long)v);
}

/* n digits of v, zero-padded (v < 10^n). */
static void pad_digits(char *out, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10u);
        v /= 10u;
    }
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes + NUL). gmtime_r runs once per
 * second per thread: the date and time part is kept. */
static void rfc3339(const struct timespec *ts, char out[80])
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[20];
    time_t sec = ts->tv_sec;
    long ms = ts->tv_nsec / 1000000;
    if (ms < 0 || ms > 999)
        ms = 0;
    if (sec != cached_sec) {
        struct tm tm;
        if (gmtime_r(&sec, &tm) == NULL)
            memset(&tm, 0, sizeof tm);
        int year = tm.tm_year + 1900;
        if (year < 0 || year > 9999)
            year = 0;
        pad_digits(cached, (unsigned)year, 4);
        cached[4] = '-';
        pad_digits(cached + 5, (unsigned)(tm.tm_mon + 1) % 100u, 2);
        cached[7] = '-';
        pad_digits(cached + 8, (unsigned)tm.tm_mday % 100u, 2);
        cached[10] = 'T';
        pad_digits(cached + 11, (unsigned)tm.tm_hour % 100u, 2);
        cached[13] = ':';
        pad_digits(cached + 14, (unsigned)tm.tm_min % 100u, 2);
        cached[16] = ':';
        pad_digits(cached + 17, (unsigned)tm.tm_sec % 100u, 2);
        cached_sec = sec;
    }
    memcpy(out, cached, 19);
    out[19] = '.';
    pad_digits(out + 20, (unsigned)ms, 3);
    out[23] = 'Z';
    out[24] = '\0';
}

/* ms with exactly three decimals, as "%.3f" prints it (0 <= ms <=
 * 86400000 here): the nearest thousandth of the exact binary value, ties
 * to even. ms * 1000 is rounded once; whether the exact product lies above
 * or below a computed .5 comes from its rounding error (Dekker's product,
 * exact without fma: 1000 needs no splitting). */
static void put_ms(strbuf *b, double ms)
{
    double p = ms * 1000.0;
    double big = ms * 134217729.0; /* 2^27 + 1: Veltkamp's split */
    double hi = big - (big - ms);
    double lo = ms - hi;
    double err = (hi * 1000.0 - p) + lo * 1000.0; /* p + err == ms * 1000 exactly */
    unsigned long long t = (unsigned long long)p;
    double frac = p - (double)t;
    if (frac > 0.5 || (frac == 0.5 && (err > 0 || (err == 0 && (t & 1u) != 0))))
        t++;
    put_u64(b, t / 1000u);
    char d[4] = {'.', 0, 0, 0};
    pad_digits(d + 1, (unsigned)(t % 1000u), 3);
    strbuf_put(b, d, 4);
}

static void render_value(strbuf *b, const logfmt_field *f, bool json)
{
    switch (f->type) {
    case LOGFMT_V_STR: {
        const char *s = f->v.s != NULL ? f->v.s : "";
        if (json)
            json_string(b, s);
        else
            text_value(b, s);
        break;
    }
    case LOGFMT_V_INT:
        put_i64(b, f->v.i);
        break;
    case LOGFMT_V_UINT:
        put_u64(b, f->v.u);
        break;
    case LOGFMT_V_MS: {
        /* NaN/inf are not JSON numbers; a day is far beyond any deadline. */
        double ms = f->v.ms;
        if (!isfinite(ms) || ms < 0)
            ms = 0;
        else if (ms > 86400000.0)
            ms = 86400000.0;
        put_ms(b, ms);
        break;
    }
    case LOGFMT_V_BOOL:
        strbuf_puts(b, f->v.b ? "true" : "false");
        break;
    case LOGFMT_V_HEX:
        strbuf_putc(b, '"');
        hex_value(b, f->v.hex.p, f->v.hex.n);
        strbuf_putc(b, '"');
        break;
    }
}

int logfmt_render(logfmt_format fmt, const logfmt_record *r, char **line, size_t *len)
{
    if (r == NULL || line == NULL || r->event == NULL)
        return LOGFMT_E_INVALID_ARG;
    bool json = fmt == LOGFMT_JSON;
    strbuf b;
    strbuf_init(&b);
    char ts[80];
    rfc3339(&r->ts, ts);
    size_t n = r->n <= LOGFMT_MAX_FIELDS ? r->n : LOGFMT_MAX_FIELDS;

    if (json) {
        strbuf_puts(&b, "{\"ts\":\"");
        strbuf_puts(&b, ts);
        strbuf_puts(&b, "\",\"level\":\"");
        strbuf_puts(&b, logfmt_level_name(r->level));
        strbuf_puts(&b, "\",\"event\":");
        json_string(&b, r->event);
        for (size_t i = 0; i < n; i++) {
            strbuf_putc(&b, ',');
            json_string(&b, r->f[i].key != NULL ? r->f[i].key : "");
            strbuf_putc(&b, ':');
            render_value(&b, &r->f[i], true);
        }
        if (r->overflow)
            strbuf_puts(&b, ",\"truncated\":true");
        strbuf_putc(&b, '}');
    } else {
        strbuf_puts(&b, ts);
        strbuf_putc(&b, ' ');
        strbuf_puts(&b, logfmt_level_name(r->level));
        strbuf_putc(&b, ' ');
        text_value(&b, r->event);
        for (size_t i = 0; i < n; i++) {
            strbuf_putc(&b, ' ');
            text_value(&b, r->f[i].key != NULL ? r->f[i].key : "");
            strbuf_putc(&b, '=');
            render_value(&b, &r->f[i], false);
        }
        if (r->overflow)
            strbuf_puts(&b, " truncated=true");
    }
    strbuf_putc(&b, '\n');

    *line = strbuf_take(&b, len);
    return *line != NULL ? LOGFMT_OK : LOGFMT_E_NOMEM;
}

/* ---- building records ---- */

void logfmt_begin(logfmt_record *r, logfmt_level level, const char *event)
{
    clock_gettime(CLOCK_REALTIME, &r->ts);
    r->level = level;
    r->event = event;
    r->n = 0;
    r->overflow = false;
}

static logfmt_field *slot(logfmt_record *r, const char *key, logfmt_vtype type)
{
    if (r->n >= LOGFMT_MAX_FIELDS) {
        r->overflow = true;
        return NULL;
    }
    logfmt_field *f = &r->f[r->n++];
    f->key = key;
    f->type = type;
    return f;
}

void logfmt_str(logfmt_record *r, const char *key, const char *value)
{
    logfmt_field *f = slot(r, key, LOGFMT_V_STR);
    if (f != NULL)
        f->v.s = value;
}

void logfmt_str_opt(logfmt_record *r, const char *key, const char *value)
{
    if (value != NULL && value[0] != '\0')
        logfmt_str(r, key, value);
}

void logfmt_int(logfmt_record *r, const char *key, long long value)
{
    logfmt_field *f = slot(r, key, LOGFMT_V_INT);
    if (f != NULL)
        f->v.i = value;
}

void logfmt_uint(logfmt_record *r, const char *key, unsigned long long value)
{
    logfmt_field *f = slot(r, key, LOGFMT_V_UINT);
    if (f != NULL)
        f->v.u = value;
}

void logfmt_ms(logfmt_record *r, const char *key, double milliseconds)
{
    logfmt_field *f = slot(r, key, LOGFMT_V_MS);
    if (f != NULL)
        f->v.ms = milliseconds;
}

void logfmt_bool(logfmt_record *r, const char *key, bool value)
{
    logfmt_field *f = slot(r, key, LOGFMT_V_BOOL);
    if (f != NULL)
        f->v.b = value;
}

void logfmt_hex(logfmt_record *r, const char *key, const uint8_t *p, size_t n)
{
    logfmt_field *f = slot(r, key, LOGFMT_V_HEX);
    if (f != NULL) {
        f->v.hex.p = p;
        f->v.hex.n = n;
    }
}

/* ---- names ---- */

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

const char *logfmt_format_name(logfmt_format f)
{
    return f == LOGFMT_JSON ? "json" : "text";
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
