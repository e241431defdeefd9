/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The load generator behind `sgx-quote bench quote --clients-mode epoll`:
 * bench_quote.c builds one request frame, this file replays it on fresh
 * connections with N in flight and times each one, and the caller's check
 * judges each response. It exists so the benchmark measures the daemon, not
 * 64–256 client threads competing with it for the same CPUs: per request it
 * costs socket + connect + send + epoll_ctl + (epoll_wait) + read + close.
 */
#include "bench/loadgen.h"

#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wire/wire.h"

#define MAX_EVENTS 256
/* How often in-flight requests are checked against their deadline. */
#define TIMEOUT_SCAN_S 0.05
/* Wait before retrying a connect() refused for a full accept queue. */
#define RETRY_WAIT_MS 1

typedef enum {
    SLOT_IDLE,    /* nothing in flight (after the deadline) */
    SLOT_RETRY,   /* connect() said EAGAIN; try again shortly */
    SLOT_CONNECT, /* non-blocking connect in progress */
    SLOT_WRITE,   /* part of the request still to send */
    SLOT_READ,    /* waiting for the response frame */
} slot_state;

typedef struct {
    int fd;
    slot_state state;
    double t_start; /* the first connect() of this request */
    size_t sent;
    size_t got, need; /* need: 0 until the prefix is in */
    uint8_t *buf;     /* prefix + max_response_body */
} slot;

/* Holds the threads until all exist, so the load starts at once. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state; /* 0 wait, 1 go, -1 give up */
} start_gate;

typedef struct {
    const loadgen_config *cfg;
    const struct sockaddr_un *sa;
    size_t buf_cap;
    int n_slots;
    slot *slots;
    int ep;
    int active;  /* slots not IDLE */
    int n_retry; /* slots in SLOT_RETRY */
    double deadline;
    size_t budget; /* requests this thread may still start (SIZE_MAX: no cap) */
    start_gate *gate;
    /* results */
    double *lat;
    size_t n_lat, cap_lat;
    size_t failed[LOADGEN_FAIL_KINDS];
    size_t retries;
    double last_done;
    bool oom;
} lg_thread;

const char *loadgen_strerror(int err)
{
    switch (err) {
    case LOADGEN_OK:
        return "ok";
    case LOADGEN_E_INVALID:
        return "invalid load generator configuration";
    case LOADGEN_E_NOMEM:
        return "out of memory";
    case LOADGEN_E_SYS:
        return "epoll or thread creation failed";
    default:
        return "unknown load generator error";
    }
}

const char *loadgen_fail_name(loadgen_fail f)
{
    static const char *const names[LOADGEN_FAIL_KINDS] = {
        [LOADGEN_FAIL_CONNECT] = "connect", [LOADGEN_FAIL_WRITE] = "write",
        [LOADGEN_FAIL_READ] = "read",       [LOADGEN_FAIL_TIMEOUT] = "timeout",
        [LOADGEN_FAIL_FRAME] = "frame",     [LOADGEN_FAIL_RESPONSE] = "response",
    };
    return (unsigned)f < LOADGEN_FAIL_KINDS ? names[f] : "unknown";
}

double loadgen_percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    return sorted[(size_t)((double)(n - 1) * p)];
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether an idle slot may start a new request now; takes one from the
 * budget if so (a retried connect() is the same request, not a new one). */
static bool may_start(lg_thread *t, double now)
{
    if (now >= t->deadline || t->budget == 0)
        return false;
    if (t->budget != SIZE_MAX)
        t->budget--;
    return true;
}

static void slot_close(lg_thread *t, slot *s)
{
    if (s->fd >= 0)
        close(s->fd); /* also drops it from the epoll set */
    s->fd = -1;
    if (s->state == SLOT_RETRY)
        t->n_retry--;
    if (s->state != SLOT_IDLE)
        t->active--;
    s->state = SLOT_IDLE;
}

static void slot_fail(lg_thread *t, slot *s, loadgen_fail why)
{
    t->failed[why]++;
    slot_close(t, s);
}

static void record_latency(lg_thread *t, double ms)
{
    if (t->n_lat == t->cap_lat) {
        size_t cap = t->cap_lat ? t->cap_lat * 2 : 4096;
        double *nl = realloc(t->lat, cap * sizeof *nl);
        if (nl == NULL) {
            t->oom = true;
            return;
        }
        t->lat = nl;
        t->cap_lat = cap;
    }
    t->lat[t->n_lat++] = ms;
}

static int watch(lg_thread *t, slot *s, uint32_t events, bool added)
{
    struct epoll_event ev = {.events = events, .data.ptr = s};
    return epoll_ctl(t->ep, added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &ev);
}

/* Sends what is left of the request; on completion waits for the answer. */
static void slot_send(lg_thread *t, slot *s, bool added)
{
    const loadgen_config *c = t->cfg;
    while (s->sent < c->request_len) {
        ssize_t n = send(s->fd, c->request + s->sent, c->request_len - s->sent, MSG_NOSIGNAL);
        if (n > 0) {
            s->sent += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            s->state = SLOT_WRITE;
            if (watch(t, s, EPOLLOUT, added) != 0)
                slot_fail(t, s, LOADGEN_FAIL_WRITE);
            return;
        } else {
            slot_fail(t, s, LOADGEN_FAIL_WRITE);
            return;
        }
    }
    s->state = SLOT_READ;
    if (watch(t, s, EPOLLIN, added) != 0)
        slot_fail(t, s, LOADGEN_FAIL_READ);
}

/* Starts (or, after EAGAIN, retries) one request on an idle slot. */
static void slot_start(lg_thread *t, slot *s, double now)
{
    if (s->state == SLOT_IDLE) {
        s->t_start = now;
        t->active++;
    } else if (s->state == SLOT_RETRY) {
        t->n_retry--;
    }
    s->state = SLOT_CONNECT; /* in flight from here; every path below moves it on */
    s->sent = s->got = s->need = 0;
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        slot_fail(t, s, LOADGEN_FAIL_CONNECT);
        return;
    }
    if (connect(s->fd, (const struct sockaddr *)t->sa, sizeof *t->sa) != 0) {
        if (errno == EAGAIN) { /* AF_UNIX: the accept queue is full */
            close(s->fd);
            s->fd = -1;
            s->state = SLOT_RETRY;
            t->n_retry++;
            t->retries++;
            return;
        }
        if (errno != EINPROGRESS) {
            slot_fail(t, s, LOADGEN_FAIL_CONNECT);
            return;
        }
        s->state = SLOT_CONNECT;
        if (watch(t, s, EPOLLOUT, false) != 0)
            slot_fail(t, s, LOADGEN_FAIL_CONNECT);
        return;
    }
    slot_send(t, s, false);
}

static void slot_connected(lg_thread *t, slot *s)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        slot_fail(t, s, LOADGEN_FAIL_CONNECT);
        return;
    }
    slot_send(t, s, true);
}

static void slot_done(lg_thread *t, slot *s, double now)
{
    const loadgen_config *c = t->cfg;
    const uint8_t *body = s->buf + WIRE_PREFIX_SIZE;
    size_t body_len = s->need - WIRE_PREFIX_SIZE;
    close(s->fd); /* before the check: the daemon sees the request end now */
    s->fd = -1;
    if (c->check != NULL && c->check(body, body_len, c->check_arg) != 0) {
        slot_fail(t, s, LOADGEN_FAIL_RESPONSE);
        return;
    }
    record_latency(t, (now - s->t_start) * 1000.0);
    t->last_done = now;
    slot_close(t, s);
}

/* Reads what has arrived; the daemon writes the frame with one write()
 * (aesm §2), so this is normally one read() for the whole response. */
static void slot_read(lg_thread *t, slot *s)
{
    const loadgen_config *c = t->cfg;
    for (;;) {
        size_t want = (s->need != 0 ? s->need : t->buf_cap) - s->got;
        ssize_t n = read(s->fd, s->buf + s->got, want);
        if (n == 0) {
            slot_fail(t, s, LOADGEN_FAIL_READ);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                slot_fail(t, s, LOADGEN_FAIL_READ);
            return;
        }
        s->got += (size_t)n;
        if (s->need == 0 && s->got >= WIRE_PREFIX_SIZE) {
            uint32_t body_len = 0;
            if (wire_prefix_decode(s->buf, s->got, c->max_response_body, &body_len) != WIRE_OK) {
                slot_fail(t, s, LOADGEN_FAIL_FRAME);
                return;
            }
            s->need = WIRE_PREFIX_SIZE + (size_t)body_len;
            if (s->got > s->need) { /* one response per connection (aesm §1.3) */
                slot_fail(t, s, LOADGEN_FAIL_FRAME);
                return;
            }
        }
        if (s->need != 0 && s->got == s->need) {
            slot_done(t, s, now_s());
            return;
        }
    }
}

static void scan_timeouts(lg_thread *t, double now)
{
    double limit = (double)t->cfg->io_timeout_ms / 1000.0;
    for (int i = 0; i < t->n_slots; i++) {
        slot *s = &t->slots[i];
        if (s->state != SLOT_IDLE && now - s->t_start > limit)
            slot_fail(t, s, LOADGEN_FAIL_TIMEOUT);
    }
}

static void gate_open(start_gate *g, int state)
{
    pthread_mutex_lock(&g->mu);
    g->state = state;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static int gate_wait(start_gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (g->state == 0)
        pthread_cond_wait(&g->cv, &g->mu);
    int state = g->state;
    pthread_mutex_unlock(&g->mu);
    return state;
}

static void *lg_thread_main(void *arg)
{
    lg_thread *t = arg;
    struct epoll_event evs[MAX_EVENTS];
    if (gate_wait(t->gate) < 0)
        return NULL;
    double now = now_s(), last_scan = now;
    for (int i = 0; i < t->n_slots && may_start(t, now); i++)
        slot_start(t, &t->slots[i], now);
    while (t->active > 0 || (now < t->deadline && t->budget > 0)) {
        bool retrying = t->n_retry > 0;
        int n = epoll_wait(t->ep, evs, MAX_EVENTS, retrying ? RETRY_WAIT_MS : 50);
        for (int i = 0; i < n; i++) {
            slot *s = evs[i].data.ptr;
            if (s->state == SLOT_CONNECT)
                slot_connected(t, s);
            else if (s->state == SLOT_WRITE)
                slot_send(t, s, true);
            else if (s->state == SLOT_READ)
                slot_read(t, s);
            if (s->state == SLOT_IDLE) {
                now = now_s();
                if (may_start(t, now))
                    slot_start(t, s, now);
            }
        }
        now = now_s();
        for (int i = 0; retrying && i < t->n_slots; i++) {
            slot *s = &t->slots[i];
            if (s->state != SLOT_RETRY)
                continue;
            if (now - s->t_start > (double)t->cfg->io_timeout_ms / 1000.0)
                slot_fail(t, s, LOADGEN_FAIL_TIMEOUT);
            else
                slot_start(t, s, now);
        }
        if (now - last_scan >= TIMEOUT_SCAN_S) {
            scan_timeouts(t, now);
            last_scan = now;
            for (int i = 0; i < t->n_slots; i++) {
                if (t->slots[i].state == SLOT_IDLE && may_start(t, now))
                    slot_start(t, &t->slots[i], now);
            }
        }
    }
    return NULL;
}

static void thread_free(lg_thread *t)
{
    if (t->slots != NULL) {
        for (int i = 0; i < t->n_slots; i++) {
            if (t->slots[i].fd >= 0)
                close(t->slots[i].fd);
            free(t->slots[i].buf);
        }
    }
    free(t->slots);
    free(t->lat);
    if (t->ep >= 0)
        close(t->ep);
}

static int thread_init(lg_thread *t, const loadgen_config *cfg, const struct sockaddr_un *sa,
                       int n_slots, start_gate *gate)
{
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->sa = sa;
    t->gate = gate;
    t->n_slots = n_slots;
    t->buf_cap = WIRE_PREFIX_SIZE + cfg->max_response_body;
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    if (t->ep < 0)
        return LOADGEN_E_SYS;
    t->slots = calloc((size_t)n_slots, sizeof *t->slots);
    if (t->slots == NULL)
        return LOADGEN_E_NOMEM;
    for (int i = 0; i < n_slots; i++)
        t->slots[i].fd = -1;
    for (int i = 0; i < n_slots; i++) {
        t->slots[i].buf = malloc(t->buf_cap);
        if (t->slots[i].buf == NULL)
            return LOADGEN_E_NOMEM;
    }
    return LOADGEN_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void loadgen_result_free(loadgen_result *r)
{
    if (r != NULL) {
        free(r->latency_ms);
        r->latency_ms = NULL;
    }
}

int loadgen_run(const loadgen_config *cfg, loadgen_result *out)
{
    if (cfg == NULL || out == NULL || cfg->socket_path == NULL || cfg->request == NULL ||
        cfg->request_len <= WIRE_PREFIX_SIZE || cfg->max_response_body == 0 ||
        cfg->max_response_body > WIRE_MAX_FRAME_BODY || cfg->in_flight < 1 ||
        cfg->threads < 1 || cfg->seconds <= 0 || cfg->io_timeout_ms < 1)
        return LOADGEN_E_INVALID;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t plen = strlen(cfg->socket_path);
    if (plen >= sizeof sa.sun_path)
        return LOADGEN_E_INVALID;
    memcpy(sa.sun_path, cfg->socket_path, plen + 1);

    int nthreads = cfg->threads < cfg->in_flight ? cfg->threads : cfg->in_flight;
    lg_thread *th = calloc((size_t)nthreads, sizeof *th);
    pthread_t *tid = calloc((size_t)nthreads, sizeof *tid);
    int started = 0, rc = LOADGEN_E_NOMEM;
    start_gate gate = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    if (th == NULL || tid == NULL)
        goto out;
    for (int i = 0; i < nthreads; i++)
        th[i].ep = -1;
    for (int i = 0; i < nthreads; i++) {
        int share = cfg->in_flight / nthreads + (i < cfg->in_flight % nthreads);
        if ((rc = thread_init(&th[i], cfg, &sa, share, &gate)) != LOADGEN_OK)
            goto out;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (; started < nthreads; started++) {
        if (pthread_create(&tid[started], &attr, lg_thread_main, &th[started]) != 0)
            break;
    }
    pthread_attr_destroy(&attr);
    if (started < nthreads) {
        gate_open(&gate, -1); /* the threads already waiting return at once */
        rc = LOADGEN_E_SYS;
        goto out;
    }
    double t0 = now_s();
    for (int i = 0; i < nthreads; i++) {
        th[i].deadline = t0 + cfg->seconds;
        th[i].budget = cfg->max_requests == 0
                           ? SIZE_MAX
                           : cfg->max_requests / (size_t)nthreads +
                                 ((size_t)i < cfg->max_requests % (size_t)nthreads);
    }
    gate_open(&gate, 1);
    size_t total = 0;
    double last = t0;
    bool oom = false;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(tid[i], NULL);
        total += th[i].n_lat;
        if (th[i].last_done > last)
            last = th[i].last_done;
        oom |= th[i].oom;
    }
    started = 0;
    if (oom) {
        rc = LOADGEN_E_NOMEM;
        goto out;
    }
    memset(out, 0, sizeof *out);
    out->latency_ms = malloc((total ? total : 1) * sizeof *out->latency_ms);
    if (out->latency_ms == NULL) {
        rc = LOADGEN_E_NOMEM;
        goto out;
    }
    size_t k = 0;
    for (int i = 0; i < nthreads; i++) {
        if (th[i].n_lat > 0)
            memcpy(out->latency_ms + k, th[i].lat, th[i].n_lat * sizeof *out->latency_ms);
        k += th[i].n_lat;
        for (int f = 0; f < LOADGEN_FAIL_KINDS; f++) {
            out->failed[f] += th[i].failed[f];
            out->failed_total += th[i].failed[f];
        }
        out->connect_retries += th[i].retries;
    }
    qsort(out->latency_ms, total, sizeof *out->latency_ms, cmp_double);
    out->completed = total;
    out->elapsed_s = last - t0;
    rc = LOADGEN_OK;
out:
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    for (int i = 0; th != NULL && i < nthreads; i++)
        thread_free(&th[i]);
    free(th);
    free(tid);
    return rc;
}
