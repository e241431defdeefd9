/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Log records → stderr. The server (server.c), main.c, the HTTP endpoint
 * and the backend's logger build records field by field; src/ops/logfmt.c
 * renders them (JSON or text, escaped, UTF-8 safe, bounded); this file holds
 * the format and level, which SIGHUP may change while other threads log,
 * and hands each rendered line to a bounded queue that one writer thread
 * empties, a batch of lines per writev(2). A stderr nobody reads (a full pipe)
 * therefore stalls only that thread: the event loop drops the lines the
 * queue cannot hold and counts them (log_dropped_total).
 */
#include "daemon/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

/* What may wait for stderr: enough for bursts, small next to the daemon's
 * memory limit (64 MiB in the DaemonSet, from the worst case in
 * docs/operations.md "Multi-tenant limits", which counts this 1 MiB). */
#define LOG_QUEUE_LINES 4096u
#define LOG_QUEUE_BYTES (1024u * 1024u)

typedef struct {
    char *line;
    size_t len;
} queued_line;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* lines queued, or stop */
    pthread_cond_t drained; /* the writer emptied the queue */
    queued_line ring[LOG_QUEUE_LINES];
    size_t head, count, bytes;
    bool running;  /* the writer thread exists and takes lines */
    bool stopping;
    bool writing;  /* the writer holds lines it has not written yet */
    bool idle;     /* the writer waits for a first line (only then is it woken) */
    pthread_t thread;
} g_q = {.mu = PTHREAD_MUTEX_INITIALIZER,
         .wake = PTHREAD_COND_INITIALIZER,
         .drained = PTHREAD_COND_INITIALIZER};

static _Atomic unsigned long long g_dropped;

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

/* Lines written per writev(2), and how long the writer lets lines gather
 * after the first one wakes it: at a busy daemon's rate (a line per request)
 * one wake-up and one system call then carry dozens of lines, instead of
 * one each; a lone line still reaches stderr within LOG_LINGER_NS. */
#define LOG_BATCH_LINES 64u
#define LOG_LINGER_NS 2000000L
/* After the queue empties, the writer looks this many more times (one
 * linger apart) before it sleeps until woken. */
#define LOG_LOOKS_BEFORE_IDLE 10u

static void write_batch(queued_line *lines, size_t n)
{
    struct iovec iov[LOG_BATCH_LINES];
    size_t first = 0, off = 0; /* bytes of lines[first] already written */
    while (first < n) {
        size_t k = 0;
        for (size_t i = first; i < n; i++, k++) {
            iov[k].iov_base = lines[i].line + (i == first ? off : 0);
            iov[k].iov_len = lines[i].len - (i == first ? off : 0);
        }
        ssize_t w = writev(STDERR_FILENO, iov, (int)k);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report a logging failure */
        }
        size_t left = (size_t)w;
        while (first < n && left >= lines[first].len - off) {
            left -= lines[first].len - off;
            off = 0;
            first++;
        }
        off += left;
    }
}

static void *writer_main(void *arg)
{
    (void)arg;
    (void)pthread_setname_np(pthread_self(), "sqh-log");
    queued_line batch[LOG_BATCH_LINES];
    pthread_mutex_lock(&g_q.mu);
    unsigned empty_looks = 0;
    for (;;) {
        while (g_q.count == 0 && !g_q.stopping) {
            if (empty_looks < LOG_LOOKS_BEFORE_IDLE) {
                /* Busy a moment ago: look again soon rather than have
                 * every producer's next line wake us (a futex call per
                 * request under load). */
                empty_looks++;
                pthread_mutex_unlock(&g_q.mu);
                struct timespec linger = {0, LOG_LINGER_NS};
                (void)nanosleep(&linger, NULL);
                pthread_mutex_lock(&g_q.mu);
                continue;
            }
            g_q.idle = true;
            pthread_cond_wait(&g_q.wake, &g_q.mu);
            g_q.idle = false;
        }
        empty_looks = 0;
        if (g_q.count == 0)
            break; /* stopping and nothing left */
        g_q.writing = true;
        if (g_q.count < LOG_BATCH_LINES && !g_q.stopping) {
            /* Let more lines gather; producers do not wake us meanwhile. */
            pthread_mutex_unlock(&g_q.mu);
            struct timespec linger = {0, LOG_LINGER_NS};
            (void)nanosleep(&linger, NULL);
            pthread_mutex_lock(&g_q.mu);
        }
        size_t n = 0, bytes = 0;
        while (g_q.count > 0 && n < LOG_BATCH_LINES) {
            batch[n] = g_q.ring[g_q.head];
            bytes += batch[n].len;
            n++;
            g_q.head = (g_q.head + 1) % LOG_QUEUE_LINES;
            g_q.count--;
        }
        pthread_mutex_unlock(&g_q.mu);
        write_batch(batch, n); /* may block: only this thread waits */
        for (size_t i = 0; i < n; i++)
            free(batch[i].line);
        pthread_mutex_lock(&g_q.mu);
        /* The lines count against LOG_QUEUE_BYTES until written. */
        g_q.bytes -= bytes;
        g_q.writing = false;
        if (g_q.count == 0)
            pthread_cond_broadcast(&g_q.drained);
    }
    g_q.running = false;
    pthread_cond_broadcast(&g_q.drained);
    pthread_mutex_unlock(&g_q.mu);
    return NULL;
}

int log_start(void)
{
    pthread_mutex_lock(&g_q.mu);
    int rc = 0;
    if (!g_q.running) {
        g_q.stopping = false;
        rc = pthread_create(&g_q.thread, NULL, writer_main, NULL) == 0 ? 0 : -1;
        if (rc == 0) {
            g_q.running = true;
            pthread_detach(g_q.thread);
        }
    }
    pthread_mutex_unlock(&g_q.mu);
    return rc;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000u;
    ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

bool log_flush(unsigned timeout_ms)
{
    struct timespec until;
    deadline_in(&until, timeout_ms);
    pthread_mutex_lock(&g_q.mu);
    int rc = 0;
    while (g_q.running && (g_q.count > 0 || g_q.writing) && rc == 0)
        rc = pthread_cond_timedwait(&g_q.drained, &g_q.mu, &until);
    bool done = !g_q.running || (g_q.count == 0 && !g_q.writing);
    pthread_mutex_unlock(&g_q.mu);
    return done;
}

bool log_stop(unsigned timeout_ms)
{
    bool done = log_flush(timeout_ms);
    pthread_mutex_lock(&g_q.mu);
    if (done && g_q.running) {
        /* Nothing left: let the (detached) writer leave; later lines, if
         * any, are written directly. */
        g_q.stopping = true;
        pthread_cond_signal(&g_q.wake);
        struct timespec until;
        deadline_in(&until, 200);
        while (g_q.running &&
               pthread_cond_timedwait(&g_q.drained, &g_q.mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&g_q.mu);
    return done;
}

unsigned long long log_dropped_total(void)
{
    return atomic_load(&g_dropped);
}

void log_emit(const logfmt_record *r)
{
    if (!log_enabled(r->level))
        return;
    char *line = NULL;
    size_t len = 0;
    if (logfmt_render(log_get_format(), r, &line, &len) != LOGFMT_OK)
        return; /* out of memory: nothing sensible to write */
    pthread_mutex_lock(&g_q.mu);
    if (!g_q.running || g_q.stopping) {
        /* Before the writer starts (start-up errors) or after it left:
         * write here; nothing else is running that could be stalled. */
        pthread_mutex_unlock(&g_q.mu);
        write_line(line, len);
        free(line);
        return;
    }
    if (g_q.count == LOG_QUEUE_LINES || g_q.bytes + len > LOG_QUEUE_BYTES) {
        pthread_mutex_unlock(&g_q.mu);
        atomic_fetch_add(&g_dropped, 1);
        free(line);
        return;
    }
    g_q.ring[(g_q.head + g_q.count) % LOG_QUEUE_LINES] = (queued_line){line, len};
    g_q.count++;
    g_q.bytes += len;
    if (g_q.idle)
        pthread_cond_signal(&g_q.wake);
    pthread_mutex_unlock(&g_q.mu);
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
