/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's log sink: one line per event on stderr, in the format and at
 * the level chosen by --log-format/--log-level (both can change on SIGHUP).
 * Records are built with the logfmt_* calls of src/ops/logfmt.h, the one
 * renderer; this file only decides whether a record is written and queues
 * it for a writer thread, which writes each line with a single write(2), so
 * lines from the loop, the worker pool and the HTTP thread never interleave
 * and a stderr that does not drain never blocks them (lines beyond the
 * queue are dropped and counted).
 */
#ifndef SGXQH_DAEMON_LOG_H
#define SGXQH_DAEMON_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ops/logfmt.h"
#include "ops/peer.h"

typedef logfmt_level log_level;
typedef logfmt_format log_format;
#define LOG_DEBUG LOGFMT_LEVEL_DEBUG
#define LOG_INFO LOGFMT_LEVEL_INFO
#define LOG_WARN LOGFMT_LEVEL_WARN
#define LOG_ERROR LOGFMT_LEVEL_ERROR

/* Process-wide settings (defaults: text, info). Safe from any thread. */
void log_setup(log_format fmt, log_level level);
log_format log_get_format(void);
log_level log_get_level(void);
bool log_enabled(log_level level);

/* The peer of a connection: SO_PEERCRED at accept time, plus its pod and
 * container from /proc/PID/cgroup when that could be read. */
typedef struct {
    bool known;      /* SO_PEERCRED worked */
    pid_t pid;       /* 0: outside our PID namespace */
    uid_t uid;
    gid_t gid;
    bool attributed; /* /proc/PID/cgroup was looked at (found or not) */
    peer_identity id;
} log_peer;

/* pid, uid, gid, then pod_uid and container_id when known. */
void log_peer_fields(logfmt_record *r, const log_peer *peer);

/* Render and queue the record (nothing when its level is disabled). Until
 * log_start (and after log_stop) lines are written by the caller. */
void log_emit(const logfmt_record *r);

/* Start the writer thread (call after blocking signals). 0 or -1. */
int log_start(void);
/* Wait up to timeout_ms until every queued line is written; true when
 * done (false: stderr is stuck, the lines stay queued). */
bool log_flush(unsigned timeout_ms);
/* log_flush, then let the writer thread go. true when everything was written. */
bool log_stop(unsigned timeout_ms);
/* Lines dropped so far because the queue was full. */
unsigned long long log_dropped_total(void);

/* Free-form message: event "message", field msg. */
void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
