/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's log: one line per event on stderr, built from key/value
 * fields so the same record can be printed as `key=value` text or as one
 * JSON object (docs/daemon.md "Logs"). Only the event-loop thread logs, and
 * each line goes out in a single write(2), so lines never interleave.
 */
#ifndef SGXQH_DAEMON_LOG_H
#define SGXQH_DAEMON_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 } log_level;
typedef enum { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 } log_format;

int log_level_parse(const char *s, log_level *out);
int log_format_parse(const char *s, log_format *out);

/* Process-wide settings; call once before logging (defaults: text, info). */
void log_setup(log_format fmt, log_level level);
bool log_enabled(log_level level);

/* The peer of a connection as SO_PEERCRED saw it at accept time. */
typedef struct {
    bool known;
    pid_t pid;
    uid_t uid;
    gid_t gid;
} log_peer;

/* A record under construction: an event name plus ordered fields. Fixed
 * capacity; fields past it are dropped (and the line says so). */
#define LOG_MAX_FIELDS 24
typedef struct {
    log_level level;
    const char *event;
    size_t n;
    bool overflow;
    struct {
        const char *key;
        enum { LOG_V_STR, LOG_V_INT, LOG_V_UINT, LOG_V_MS, LOG_V_BOOL, LOG_V_HEX } type;
        union {
            const char *s;
            long long i;
            unsigned long long u;
            double ms;
            bool b;
            struct {
                const uint8_t *p;
                size_t n;
            } hex;
        } v;
    } f[LOG_MAX_FIELDS];
} log_record;

void log_begin(log_record *r, log_level level, const char *event);
/* Strings are borrowed until log_emit. */
void log_str(log_record *r, const char *key, const char *value);
void log_int(log_record *r, const char *key, long long value);
void log_uint(log_record *r, const char *key, unsigned long long value);
void log_ms(log_record *r, const char *key, double milliseconds);
void log_bool(log_record *r, const char *key, bool value);
void log_hex(log_record *r, const char *key, const uint8_t *p, size_t n);
void log_peer_fields(log_record *r, const log_peer *peer);
/* Format and write the record (nothing when its level is disabled). */
void log_emit(log_record *r);

/* Free-form message: event "message", field msg. */
void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
