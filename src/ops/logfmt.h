/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one structured-log renderer (docs/operations.md "Logs"): a record of
 * typed key/value fields becomes one line of JSON (the default when stderr
 * is not a TTY) or human text. Rendering is pure: the caller fills a
 * logfmt_record, gets a malloc'd line ending in '\n', and writes it with one
 * write(2) so concurrent lines never interleave (src/daemon/log.c is the
 * daemon's sink; it holds the process-wide format and level).
 *
 * JSON:  {"ts":"<RFC 3339 UTC, ms>","level":"info","event":"request",<fields in order>}
 * text:  <ts> <level> <event> key=value ...   (values quoted only when needed)
 *
 * Fields render in the order they were added. Request lines use the keys
 *   op result code latency_ms pid uid gid pod_uid container_id mrenclave
 *   mrsigner reason hint
 * (result = the aesm error name, code = its value). Strings are escaped per
 * RFC 8259 in both formats; bytes that are not valid UTF-8 become U+FFFD;
 * a string longer than LOGFMT_VALUE_MAX bytes is cut at a character
 * boundary and ends in "…". So every JSON line parses with a strict parser
 * and no line is ever cut inside an escape or a character.
 */
#ifndef SGXQH_OPS_LOGFMT_H
#define SGXQH_OPS_LOGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum { LOGFMT_TEXT = 0, LOGFMT_JSON = 1 } logfmt_format;

typedef enum {
    LOGFMT_LEVEL_DEBUG = 0,
    LOGFMT_LEVEL_INFO = 1,
    LOGFMT_LEVEL_WARN = 2,
    LOGFMT_LEVEL_ERROR = 3,
} logfmt_level;

typedef enum {
    LOGFMT_OK = 0,
    LOGFMT_E_INVALID_ARG = -1, /* NULL, or an unknown format/level name */
    LOGFMT_E_NOMEM = -2,
} logfmt_err;

/* Fields per record; more are dropped and the line says "truncated":true. */
#define LOGFMT_MAX_FIELDS 32
/* Input bytes kept per string value (before escaping). */
#define LOGFMT_VALUE_MAX 2048
/* Bytes of a hex field rendered (64 = a 32-byte measurement). */
#define LOGFMT_HEX_MAX 64

typedef enum {
    LOGFMT_V_STR,
    LOGFMT_V_INT,
    LOGFMT_V_UINT,
    LOGFMT_V_MS, /* milliseconds, 3 decimals; NaN/inf/negative render as 0 */
    LOGFMT_V_BOOL,
    LOGFMT_V_HEX, /* lowercase hex string of bytes */
} logfmt_vtype;

typedef struct {
    const char *key; /* borrowed; [a-z0-9_] by convention, escaped anyway */
    logfmt_vtype type;
    union {
        const char *s; /* borrowed until rendered */
        long long i;
        unsigned long long u;
        double ms;
        bool b;
        struct {
            const uint8_t *p; /* borrowed */
            size_t n;
        } hex;
    } v;
} logfmt_field;

typedef struct {
    struct timespec ts; /* CLOCK_REALTIME; rendered as RFC 3339 UTC with ms */
    logfmt_level level;
    const char *event; /* "request", "rejected", "start", ... (required) */
    size_t n;
    bool overflow; /* a field was dropped: more than LOGFMT_MAX_FIELDS */
    logfmt_field f[LOGFMT_MAX_FIELDS];
} logfmt_record;

const char *logfmt_strerror(int err);

/* "text" | "json". */
int logfmt_parse_format(const char *s, logfmt_format *out);
/* "debug" | "info" | "warn" (or "warning") | "error". */
int logfmt_parse_level(const char *s, logfmt_level *out);
const char *logfmt_level_name(logfmt_level l); /* "debug", "info", "warn", "error" */
const char *logfmt_format_name(logfmt_format f); /* "text", "json" */
/* The default: JSON unless fd is a terminal. */
logfmt_format logfmt_default_format(int fd);

/* Start a record: no fields, ts = now. */
void logfmt_begin(logfmt_record *r, logfmt_level level, const char *event);
/* Append a field. A NULL string renders as "". Never fails: past
 * LOGFMT_MAX_FIELDS the field is dropped and r->overflow set. */
void logfmt_str(logfmt_record *r, const char *key, const char *value);
void logfmt_int(logfmt_record *r, const char *key, long long value);
void logfmt_uint(logfmt_record *r, const char *key, unsigned long long value);
void logfmt_ms(logfmt_record *r, const char *key, double milliseconds);
void logfmt_bool(logfmt_record *r, const char *key, bool value);
void logfmt_hex(logfmt_record *r, const char *key, const uint8_t *p, size_t n);
/* Only when value is non-NULL and non-empty. */
void logfmt_str_opt(logfmt_record *r, const char *key, const char *value);

/* Render one line ('\n'-terminated, NUL-terminated; *len, if given,
 * excludes the NUL). Returns LOGFMT_OK, or LOGFMT_E_INVALID_ARG (NULL
 * r/line/event), LOGFMT_E_NOMEM. */
int logfmt_render(logfmt_format fmt, const logfmt_record *r, char **line, size_t *len);

#endif
