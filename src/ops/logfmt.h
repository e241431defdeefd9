/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One structured log line per event (docs/operations.md "Logs"): JSON (the
 * default when stderr is not a TTY) or human text. Rendering is pure: the
 * caller fills a logfmt_fields, gets a malloc'd line ending in '\n', and
 * writes it with one write(2) so concurrent lines never interleave.
 *
 * Keys, in this order (absent when the field is unset); the same names as
 * the daemon's own log records (src/daemon/log.h), so lines from either
 * renderer form one schema:
 *   ts level event op result code latency_ms pid uid gid pod_uid
 *   container_id mrenclave mrsigner reason msg hint
 * (result = the aesm error name, code = its value). Strings are escaped per
 * RFC 8259 in both formats; bytes that are not valid UTF-8 become U+FFFD, so
 * every JSON line parses with a strict parser. Text lines read
 * "<ts> <level> <event> key=value ...", values quoted only when needed.
 */
#ifndef SGXQH_OPS_LOGFMT_H
#define SGXQH_OPS_LOGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
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

typedef struct {
    struct timespec ts; /* CLOCK_REALTIME; rendered as RFC 3339 UTC with ms */
    logfmt_level level;
    const char *event;  /* "request", "rejected", "start", ... (required) */
    const char *op;     /* AESM operation, NULL to omit */
    bool has_aesm;
    int code;           /* aesm_error_t value sent */
    const char *result; /* its name, e.g. "AESM_SUCCESS"; NULL to omit */
    bool has_latency;
    double latency_ms;
    bool has_peer; /* SO_PEERCRED */
    pid_t pid;     /* 0 = peer outside our PID namespace */
    uint32_t uid;
    uint32_t gid;
    const char *pod_uid;      /* NULL/"" to omit */
    const char *container_id; /* NULL/"" to omit */
    bool has_enclave;         /* GetQuoteEx: the app enclave's identity */
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    const char *reason; /* rejection reason ("acl", ...), NULL to omit */
    const char *msg;    /* free text, NULL to omit */
    const char *hint;   /* one-line remediation, NULL/"" to omit */
} logfmt_fields;

const char *logfmt_strerror(int err);

/* "text" | "json". */
int logfmt_parse_format(const char *s, logfmt_format *out);
/* "debug" | "info" | "warn" (or "warning") | "error". */
int logfmt_parse_level(const char *s, logfmt_level *out);
const char *logfmt_level_name(logfmt_level l); /* "debug", "info", "warn", "error" */
/* The default: JSON unless fd is a terminal. */
logfmt_format logfmt_default_format(int fd);

/* Render one line ('\n'-terminated, NUL-terminated; *len excludes the NUL).
 * Returns LOGFMT_OK, or LOGFMT_E_INVALID_ARG (NULL f/line/event), LOGFMT_E_NOMEM. */
int logfmt_render(logfmt_format fmt, const logfmt_fields *f, char **line, size_t *len);

#endif
