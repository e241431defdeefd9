/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Log records → stderr. The server (server.c), main.c, the HTTP endpoint
 * and the backend's logger build records field by field; src/ops/logfmt.c
 * renders them (JSON or text, escaped, UTF-8 safe, bounded); this file holds
 * the format and level, which SIGHUP may change while other threads log,
 * and writes each line with one write(2).
 */
#include "daemon/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic int g_format = LOGFMT_TEXT;
static _Atomic int g_level = LOGFMT_LEVEL_INFO;

void log_setup(log_format fmt, log_level level)
{
    atomic_store(&g_format, (int)fmt);
    atomic_store(&g_level, (int)level);
}

log_format log_get_format(void)
{
    return (log_format)atomic_load(&g_format);
}

log_level log_get_level(void)
{
    return (log_level)atomic_load(&g_level);
}

bool log_enabled(log_level level)
{
    return (int)level >= atomic_load(&g_level);
}

void log_peer_fields(logfmt_record *r, const log_peer *peer)
{
    if (peer == NULL || !peer->known)
        return;
    logfmt_int(r, "pid", (long long)peer->pid);
    logfmt_uint(r, "uid", (unsigned long long)peer->uid);
    logfmt_uint(r, "gid", (unsigned long long)peer->gid);
    logfmt_str_opt(r, "pod_uid", peer->id.pod_uid);
    logfmt_str_opt(r, "container_id", peer->id.container_id);
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

void log_emit(const logfmt_record *r)
{
    if (!log_enabled(r->level))
        return;
    char *line = NULL;
    size_t len = 0;
    if (logfmt_render(log_get_format(), r, &line, &len) != LOGFMT_OK)
        return; /* out of memory: nothing sensible to write */
    write_line(line, len);
    free(line);
}

void log_msg(log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    /* logfmt cuts values at LOGFMT_VALUE_MAX anyway; a cut here that lands
     * inside a UTF-8 character is repaired to U+FFFD by the renderer. */
    char msg[LOGFMT_VALUE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    logfmt_record r;
    logfmt_begin(&r, level, "message");
    logfmt_str(&r, "msg", msg);
    log_emit(&r);
}
