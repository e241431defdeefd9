/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubelet / Prometheus → [http] → metrics registry, readiness canary, loop
 * heartbeat. Our own small HTTP/1.1 server (libmicrohttpd and the TLS stack
 * it links cost ~2.5 MB of an idle daemon's memory, see docs/daemon.md
 * "Memory"): one thread with its own epoll reads request heads (httpreq.c),
 * answers /healthz and errors itself and hands /readyz and /metrics to one
 * answer thread, so a slow canary on a hardware platform (QPL talking to a
 * PCCS) never delays /healthz. One request per connection (Connection:
 * close) under absolute deadlines: the request must be in within
 * HTTP_REQUEST_DEADLINE_MS of the accept however it trickles, the whole
 * exchange done within HTTP_ANSWER_DEADLINE_MS.
 */
#include "daemon/http.h"

#include "daemon/httpreq.h"
#include "daemon/log.h"
#include "ops/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A probe or a scrape is one short request: one whose request is not all
 * in after 2 s is a stuck or hostile client, however it trickles, and so is
 * one that reads nothing of its answer for 2 s. One address may hold 4
 * connections (a node's kubelet plus a scraper or two), all together 128,
 * so slow clients need 32 addresses to fill it and the kubelet's probe
 * finds room (docs/operations.md "Multi-tenant limits"). The answer (a
 * hardware canary may wait for a PCCS) has 30 s. */
#define HTTP_MAX_CONNECTIONS 128
#define HTTP_PER_IP_CONNECTIONS 4
#define HTTP_IDLE_TIMEOUT_MS 2000u
#define HTTP_REQUEST_DEADLINE_MS 2000u
#define HTTP_ANSWER_DEADLINE_MS 30000u
/* After the answer: read and drop what the client still sends (an ignored
 * body) until it closes, so closing with unread bytes does not reset the
 * connection and destroy the answer in flight; at most this long. */
#define HTTP_LINGER_MS 2000u
#define HTTP_LISTEN_BACKLOG 64
#define HTTP_TEXT "text/plain; charset=utf-8"
/* epoll data: these two, else HTTP_EV_CONN + slot. */
#define HTTP_EV_LISTEN 0u
#define HTTP_EV_WAKE 1u
#define HTTP_EV_CONN 2u

typedef enum {
    CONN_FREE = 0,
    CONN_READING,   /* the request head is coming in */
    CONN_ANSWERING, /* the answer thread has it: this thread does not touch it */
    CONN_WRITING,   /* the answer is going out */
    CONN_LINGER,    /* answered; waiting for the client's close */
} conn_state;

typedef enum { ROUTE_READYZ, ROUTE_METRICS } answer_route;

/* One accepted connection. The head buffer is allocated at accept and
 * freed at close: 128 idle slots cost 128 small structs, not 1 MiB. */
typedef struct {
    conn_state state;
    bool abandoned; /* deadline passed while the answer thread had it */
    bool head_only; /* HEAD: headers, no body */
    answer_route route;
    int fd;
    uint8_t addr[16]; /* peer address (IPv4 in the first 4 bytes) */
    int family;
    uint64_t start_ms;
    uint64_t io_ms; /* last progress writing or lingering */
    uint8_t *in;
    size_t in_len;
    size_t scanned; /* bytes httpreq_head_end has looked at */
    char *out;      /* status line, header fields and body */
    size_t out_len;
    size_t out_off;
} http_conn;

struct http_server {
    ops_metrics *metrics;
    readiness *ready;
    daemon_shared *shared;
    int listen_fd;
    int epoll_fd;
    int wake_fd; /* eventfd: an answer is ready, or stop */
    bool loop_started;
    bool answer_started;
    pthread_t loop;
    pthread_t answerer;
    pthread_mutex_t lock; /* the queues below and stopping */
    pthread_cond_t work;
    bool stopping;
    /* Slots handed to the answer thread, and handed back. Each slot is in
     * at most one of them, so HTTP_MAX_CONNECTIONS entries suffice. */
    unsigned todo[HTTP_MAX_CONNECTIONS];
    size_t todo_head, todo_len;
    unsigned done[HTTP_MAX_CONNECTIONS];
    size_t done_len;
    http_conn conns[HTTP_MAX_CONNECTIONS];
};

uint64_t daemon_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *reason_phrase(unsigned status)
{
    switch (status) {
    case 200:
        return "OK";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

/* The whole answer in one buffer: status line, fields, body (none for
 * HEAD, whose Content-Length still gives the body's size, RFC 9110 section
 * 9.3.2). Takes body (malloc'd, may be NULL when len is 0). false when out
 * of memory. */
static bool make_answer(http_conn *c, unsigned status, const char *reason, const char *type,
                        char *body, size_t len)
{
    char head[384];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %u %s\r\n"
                      "Content-Type: %s\r\n"
                      "Content-Length: %zu\r\n"
                      "%s"
                      /* One request per connection: each one meets the deadlines afresh. */
                      "Connection: close\r\n"
                      "Cache-Control: no-store\r\n"
                      "\r\n",
                      status, reason != NULL ? reason : reason_phrase(status), type, len,
                      status == 405 ? "Allow: GET, HEAD\r\n" : "");
    size_t blen = c->head_only ? 0 : len;
    char *out = (hn > 0 && (size_t)hn < sizeof head) ? malloc((size_t)hn + blen) : NULL;
    if (out != NULL) {
        memcpy(out, head, (size_t)hn);
        if (blen > 0)
            memcpy(out + hn, body, blen);
        c->out = out;
        c->out_len = (size_t)hn + blen;
        c->out_off = 0;
    }
    free(body);
    return out != NULL;
}

static bool answer_text(http_conn *c, unsigned status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool answer_text(http_conn *c, unsigned status, const char *reason, const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&body, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    return make_answer(c, status, reason, HTTP_TEXT, body, (size_t)n);
}

static bool answer_healthz(http_server *h, http_conn *c)
{
    uint64_t now = daemon_mono_ms();
    uint64_t beat = atomic_load(&h->shared->heartbeat_ms);
    uint64_t age = now > beat ? now - beat : 0;
    if (age > HTTP_HEALTH_MAX_AGE_MS)
        return answer_text(c, 503, NULL, "unhealthy: the event loop has not turned for %llu ms\n",
                           (unsigned long long)age);
    return answer_text(c, 200, NULL, "ok\n");
}

static bool answer_readyz(http_server *h, http_conn *c)
{
    if (atomic_load(&h->shared->draining))
        return answer_text(c, 503, NULL, "not ready: stopping (SIGTERM), draining connections\n");
    char reason[2048];
    if (readiness_get(h->ready, HTTP_READY_MAX_AGE_MS, reason, sizeof reason))
        return answer_text(c, 200, NULL, "ready\n");
    return answer_text(c, 503, NULL, "not ready: %s\n", reason);
}

static bool answer_metrics(http_server *h, http_conn *c)
{
    /* Keeps sgx_quote_helper_backend_ready current without a /readyz. */
    (void)readiness_get(h->ready, HTTP_METRICS_READY_MAX_AGE_MS, NULL, 0);
    ops_metrics_log_dropped(h->metrics, log_dropped_total());
    char *text = NULL;
    size_t len = 0;
    if (ops_metrics_render(h->metrics, &text, &len) != METRICS_OK)
        return answer_text(c, 500, NULL, "cannot render metrics\n");
    return make_answer(c, 200, NULL, METRICS_CONTENT_TYPE, text, len);
}

/* The answer thread: /readyz and /metrics, which may wait for a canary.
 * One is enough: concurrent /readyz share one run anyway (ready.h), and
 * those queued behind it find its fresh result. */
static void *answer_main(void *arg)
{
    http_server *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (!h->stopping && h->todo_len == 0)
            pthread_cond_wait(&h->work, &h->lock);
        if (h->stopping)
            break;
        unsigned slot = h->todo[h->todo_head];
        h->todo_head = (h->todo_head + 1) % HTTP_MAX_CONNECTIONS;
        h->todo_len--;
        http_conn *c = &h->conns[slot];
        pthread_mutex_unlock(&h->lock);
        /* Until handed back the slot's answer fields are ours: the loop
         * thread only closes its socket and marks it abandoned when its
         * deadline passes, and reads nothing we write. */
        if (c->route == ROUTE_READYZ)
            (void)answer_readyz(h, c);
        else
            (void)answer_metrics(h, c);
        pthread_mutex_lock(&h->lock);
        h->done[h->done_len++] = slot;
        uint64_t one = 1;
        (void)!write(h->wake_fd, &one, sizeof one);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static void conn_free_slot(http_conn *c)
{
    free(c->in);
    free(c->out);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

/* Closes the socket; the slot too unless the answer thread holds it. */
static void conn_close(http_server *h, http_conn *c)
{
    if (c->fd >= 0) {
        (void)epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    if (c->state == CONN_ANSWERING) {
        c->abandoned = true; /* freed when handed back */
        return;
    }
    conn_free_slot(c);
}

/* Watches c for these events (it is unregistered while the answer thread
 * has it: a peer's reset would otherwise report EPOLLHUP again and again). */
static void conn_watch(http_server *h, http_conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = HTTP_EV_CONN + (uint32_t)(c - h->conns)};
    if (epoll_ctl(h->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) != 0 && errno == ENOENT)
        (void)epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Sends what the socket takes; then lingers. */
static void conn_write(http_server *h, http_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_off += (size_t)n;
            c->io_ms = daemon_mono_ms();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_watch(h, c, EPOLLOUT);
            return;
        }
        conn_close(h, c);
        return;
    }
    free(c->out);
    c->out = NULL;
    (void)shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    c->io_ms = daemon_mono_ms();
    conn_watch(h, c, EPOLLIN | EPOLLRDHUP);
}

static void conn_start_answer(http_server *h, http_conn *c)
{
    free(c->in); /* the head is parsed: its buffer is not needed again */
    c->in = NULL;
    c->state = CONN_WRITING;
    c->io_ms = daemon_mono_ms();
    conn_write(h, c);
}

/* 400, 414, 431 or 505 with a sentence on what to change. */
static bool answer_parse_error(http_conn *c, httpreq_status st)
{
    unsigned code = httpreq_status_code(st);
    const char *name = httpreq_status_name(st);
    switch (st) {
    case HTTPREQ_HEAD_TOO_LARGE:
        return answer_text(c, code, name,
                           "request head too large: at most %u bytes and %u header fields\n",
                           HTTPREQ_HEAD_MAX, HTTPREQ_FIELDS_MAX);
    case HTTPREQ_URI_TOO_LONG:
        return answer_text(c, code, name, "request target too long: at most %u bytes\n",
                           HTTPREQ_TARGET_MAX);
    case HTTPREQ_BAD_VERSION:
        return answer_text(c, code, name, "only HTTP/1.0 and HTTP/1.1\n");
    default:
        return answer_text(c, code, name, "malformed HTTP/1.1 request head (RFC 9112)\n");
    }
}

/* The head is in: route it. Errors and /healthz are answered here. */
static void conn_route(http_server *h, http_conn *c, httpreq_status st, const httpreq *r)
{
    bool ok;
    c->head_only = st == HTTPREQ_OK && r->method == HTTPREQ_METHOD_HEAD;
    if (st != HTTPREQ_OK)
        ok = answer_parse_error(c, st);
    else if (r->method == HTTPREQ_METHOD_OTHER)
        ok = answer_text(c, 405, NULL, "only GET and HEAD\n");
    else if (httpreq_path_is(r, "/healthz"))
        ok = answer_healthz(h, c);
    else if (httpreq_path_is(r, "/readyz") || httpreq_path_is(r, "/metrics")) {
        c->route = httpreq_path_is(r, "/readyz") ? ROUTE_READYZ : ROUTE_METRICS;
        free(c->in);
        c->in = NULL;
        (void)epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        pthread_mutex_lock(&h->lock);
        c->state = CONN_ANSWERING;
        h->todo[(h->todo_head + h->todo_len) % HTTP_MAX_CONNECTIONS] =
            (unsigned)(c - h->conns);
        h->todo_len++;
        pthread_cond_signal(&h->work);
        pthread_mutex_unlock(&h->lock);
        return;
    } else
        ok = answer_text(c, 404, NULL, "not found; try /metrics, /healthz or /readyz\n");
    if (!ok) {
        conn_close(h, c);
        return;
    }
    conn_start_answer(h, c);
}

static void conn_read(http_server *h, http_conn *c)
{
    for (;;) {
        if (c->in_len == HTTPREQ_HEAD_MAX) {
            conn_route(h, c, HTTPREQ_HEAD_TOO_LARGE, NULL);
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, HTTPREQ_HEAD_MAX - c->in_len, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            conn_close(h, c); /* gone before its request was in */
            return;
        }
        size_t before = c->in_len;
        c->in_len += (size_t)n;
        /* Search only the new bytes for the end of the head: a client
         * sending one byte at a time costs no rescans. */
        if (httpreq_head_end(c->in, c->in_len, before) != 0 || c->in_len == HTTPREQ_HEAD_MAX) {
            httpreq r;
            httpreq_status st = httpreq_parse(c->in, c->in_len, &r);
            conn_route(h, c, st, &r);
            return;
        }
    }
}

/* Drops what the client sends after its answer until it closes. */
static void conn_linger(http_server *h, http_conn *c)
{
    uint8_t sink[512];
    for (;;) {
        ssize_t n = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_close(h, c);
        return;
    }
}

static bool same_addr(const http_conn *c, int family, const uint8_t *addr)
{
    size_t n = family == AF_INET ? 4u : 16u;
    return c->family == family && memcmp(c->addr, addr, n) == 0;
}

/* Accepts everything pending; over a limit a connection is closed at once
 * (the client sees EOF before any answer, as with a full backlog). */
static void accept_all(http_server *h)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(h->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or EMFILE and the like: the next event retries */
        }
        uint8_t addr[16] = {0};
        int family = ss.ss_family;
        if (family == AF_INET)
            memcpy(addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        else if (family == AF_INET6)
            memcpy(addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        unsigned same = 0;
        http_conn *slot = NULL;
        for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
            http_conn *c = &h->conns[i];
            if (c->state == CONN_FREE) {
                if (slot == NULL)
                    slot = c;
            } else if (!c->abandoned && same_addr(c, family, addr))
                same++;
        }
        uint8_t *in = NULL;
        if (slot == NULL || same >= HTTP_PER_IP_CONNECTIONS ||
            (in = malloc(HTTPREQ_HEAD_MAX)) == NULL) {
            close(fd);
            continue;
        }
        *slot = (http_conn){.state = CONN_READING, .fd = fd, .family = family, .in = in,
                            .start_ms = daemon_mono_ms()};
        memcpy(slot->addr, addr, sizeof addr);
        slot->io_ms = slot->start_ms;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
                                 .data.u32 = HTTP_EV_CONN + (uint32_t)(slot - h->conns)};
        if (epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(in);
            memset(slot, 0, sizeof *slot);
            slot->fd = -1;
            continue;
        }
    }
}

/* When c must be gone: 0 for a slot without a deadline of its own. */
static uint64_t conn_deadline(const http_conn *c)
{
    uint64_t answer = c->start_ms + HTTP_ANSWER_DEADLINE_MS;
    uint64_t idle = c->io_ms + (c->state == CONN_LINGER ? HTTP_LINGER_MS : HTTP_IDLE_TIMEOUT_MS);
    switch (c->state) {
    case CONN_READING:
        return c->start_ms + HTTP_REQUEST_DEADLINE_MS;
    case CONN_ANSWERING:
        return c->abandoned ? 0 : answer;
    case CONN_WRITING:
    case CONN_LINGER:
        return idle < answer ? idle : answer;
    case CONN_FREE:
        break;
    }
    return 0;
}

/* Cuts connections past their deadline; the time to the next one (-1:
 * none). */
static int expire(http_server *h)
{
    uint64_t now = daemon_mono_ms();
    uint64_t next = 0;
    for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
        http_conn *c = &h->conns[i];
        uint64_t d = conn_deadline(c);
        if (d == 0)
            continue;
        if (now >= d) {
            conn_close(h, c);
            continue;
        }
        if (next == 0 || d < next)
            next = d;
    }
    if (next == 0)
        return -1;
    /* +1: wake just after, not just before, the deadline. */
    return (int)(next - now + 1);
}

/* Answers the answer thread has finished go out. */
static void collect_answers(http_server *h)
{
    uint64_t v;
    (void)!read(h->wake_fd, &v, sizeof v);
    unsigned done[HTTP_MAX_CONNECTIONS];
    pthread_mutex_lock(&h->lock);
    size_t n = h->done_len;
    memcpy(done, h->done, n * sizeof done[0]);
    h->done_len = 0;
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < n; i++) {
        http_conn *c = &h->conns[done[i]];
        if (c->abandoned) {
            conn_free_slot(c);
            continue;
        }
        if (c->out == NULL) { /* out of memory making it */
            c->state = CONN_WRITING;
            conn_close(h, c);
            continue;
        }
        conn_start_answer(h, c);
    }
}

static void *loop_main(void *arg)
{
    http_server *h = arg;
    struct epoll_event evs[32];
    for (;;) {
        int timeout = expire(h);
        int n = epoll_wait(h->epoll_fd, evs, 32, timeout);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            uint32_t tag = evs[i].data.u32;
            if (tag == HTTP_EV_LISTEN) {
                accept_all(h);
                continue;
            }
            if (tag == HTTP_EV_WAKE) {
                pthread_mutex_lock(&h->lock);
                bool stop = h->stopping;
                pthread_mutex_unlock(&h->lock);
                if (stop)
                    return NULL;
                collect_answers(h);
                continue;
            }
            http_conn *c = &h->conns[tag - HTTP_EV_CONN];
            if (c->state == CONN_READING)
                conn_read(h, c);
            else if (c->state == CONN_WRITING)
                conn_write(h, c);
            else if (c->state == CONN_LINGER)
                conn_linger(h, c);
        }
    }
    return NULL;
}

/* "host:port" / "[v6]:port" → host (without brackets) and port text. */
static int split_hostport(const char *spec, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    const char *h = spec;
    size_t hl;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        h = spec + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        if (colon == NULL)
            return -1;
        hl = (size_t)(colon - spec);
    }
    size_t pl = strlen(colon + 1);
    if (hl == 0 || hl >= hcap || pl == 0 || pl >= pcap)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl + 1);
    return 0;
}

static int bind_listener(const char *spec, char *bound, size_t bcap, char *err, size_t ecap)
{
    char host[256], port[16];
    if (split_hostport(spec, host, sizeof host, port, sizeof port) != 0) {
        snprintf(err, ecap, "--http-listen: expected ADDR:PORT, got '%s'", spec);
        return -1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, ecap, "--http-listen %s: %s", spec, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    int last_errno = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        /* SO_REUSEPORT: an overlapping instance on the same network
         * namespace (an upgrade outside Kubernetes, hostNetwork) can bind
         * the same port; Linux only allows it for the same user. */
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, HTTP_LISTEN_BACKLOG) != 0) {
            last_errno = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, ecap, "--http-listen %s: cannot listen: %s", spec, strerror(last_errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned p = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
            p = ntohs(in->sin_port);
            snprintf(bound, bcap, "%s:%u", ip, p);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
            p = ntohs(in6->sin6_port);
            snprintf(bound, bcap, "[%s]:%u", ip, p);
        }
    }
    return fd;
}

http_server *http_start(const char *listen_spec, ops_metrics *metrics, readiness *ready,
                        daemon_shared *shared, char *bound, size_t bound_cap, char *err,
                        size_t err_cap)
{
    bound[0] = '\0';
    http_server *h = calloc(1, sizeof *h);
    if (h == NULL) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    h->metrics = metrics;
    h->ready = ready;
    h->shared = shared;
    h->listen_fd = h->epoll_fd = h->wake_fd = -1;
    for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++)
        h->conns[i].fd = -1;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->work, NULL);
    h->listen_fd = bind_listener(listen_spec, bound, bound_cap, err, err_cap);
    if (h->listen_fd < 0)
        goto fail;
    h->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event lev = {.events = EPOLLIN, .data.u32 = HTTP_EV_LISTEN};
    struct epoll_event wev = {.events = EPOLLIN, .data.u32 = HTTP_EV_WAKE};
    int fl = fcntl(h->listen_fd, F_GETFL);
    if (h->epoll_fd < 0 || h->wake_fd < 0 || fl < 0 ||
        fcntl(h->listen_fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
        epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, h->listen_fd, &lev) != 0 ||
        epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, h->wake_fd, &wev) != 0) {
        snprintf(err, err_cap, "--http-listen %s: cannot set up its event loop: %s", listen_spec,
                 strerror(errno));
        goto fail;
    }
    if (pthread_create(&h->answerer, NULL, answer_main, h) != 0) {
        snprintf(err, err_cap, "--http-listen %s: cannot start the answer thread", listen_spec);
        goto fail;
    }
    h->answer_started = true;
    if (pthread_create(&h->loop, NULL, loop_main, h) != 0) {
        snprintf(err, err_cap, "--http-listen %s: cannot start its thread", listen_spec);
        goto fail;
    }
    h->loop_started = true;
    return h;
fail:
    http_stop(h);
    return NULL;
}

void http_stop(http_server *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->lock);
    if (h->wake_fd >= 0) {
        uint64_t one = 1;
        (void)!write(h->wake_fd, &one, sizeof one);
    }
    if (h->loop_started)
        pthread_join(h->loop, NULL);
    /* Waits for a canary in progress, as the connection threads did. */
    if (h->answer_started)
        pthread_join(h->answerer, NULL);
    for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
        http_conn *c = &h->conns[i];
        if (c->fd >= 0)
            close(c->fd);
        free(c->in);
        free(c->out);
    }
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    if (h->epoll_fd >= 0)
        close(h->epoll_fd);
    if (h->wake_fd >= 0)
        close(h->wake_fd);
    pthread_cond_destroy(&h->work);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
