/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubelet / Prometheus → [http] → metrics registry, readiness canary, loop
 * heartbeat. libmicrohttpd runs a thread per connection (at most
 * HTTP_MAX_CONNECTIONS, at most HTTP_PER_IP_CONNECTIONS from one address:
 * slow clients need many addresses to fill it), so a slow canary on a
 * hardware platform (QPL talking to a PCCS) never delays /healthz. One
 * request per connection (Connection: close), under absolute deadlines a
 * watcher thread enforces (a trickling client cannot keep a thread by
 * sending a byte now and then, which resets libmicrohttpd's idle timer):
 * the request must be in within HTTP_REQUEST_DEADLINE_MS of the accept, the
 * whole exchange done within HTTP_ANSWER_DEADLINE_MS. The listening socket
 * is made here (so PORT 0 and IPv6 work and the bound port can be logged)
 * and handed to libmicrohttpd.
 */
#include "daemon/http.h"

#include "daemon/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A probe or a scrape is one short request: a connection idle for 2 s is
 * a stuck or hostile client, and one whose request is not all in after 2 s
 * too, however it trickles. One address may hold 4 connections (a node's
 * kubelet plus a scraper or two), all together 128 (a thread each: small
 * stacks, see docs/operations.md "Multi-tenant limits"), so slow clients
 * need 32 addresses to fill it and the kubelet's probe finds room. The
 * answer (a hardware canary may wait for a PCCS) has 30 s. */
#define HTTP_MAX_CONNECTIONS 128
#define HTTP_PER_IP_CONNECTIONS 4
#define HTTP_CONNECTION_TIMEOUT_S 2
#define HTTP_REQUEST_DEADLINE_MS 2000u
#define HTTP_ANSWER_DEADLINE_MS 30000u
#define HTTP_WATCH_PERIOD_MS 100u
#define HTTP_TEXT "text/plain; charset=utf-8"

/* One accepted connection under the watcher's eye. */
typedef struct {
    bool used;
    bool answering; /* the whole request is in */
    bool cut;       /* shut down by the watcher */
    int fd;
    uint64_t start_ms;
} http_watch;

struct http_server {
    struct MHD_Daemon *mhd;
    ops_metrics *metrics;
    readiness *ready;
    daemon_shared *shared;
    pthread_mutex_t lock; /* watch[], stopping */
    pthread_cond_t wake;
    bool stopping;
    bool watcher_started;
    pthread_t watcher;
    http_watch watch[HTTP_MAX_CONNECTIONS];
};

uint64_t daemon_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static enum MHD_Result send_body(struct MHD_Connection *conn, unsigned status, char *body,
                                 size_t len, const char *type)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    /* One request per connection: each one meets the deadlines afresh. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *fmt,
                                 ...) __attribute__((format(printf, 3, 4)));
static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *fmt,
                                 ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&body, fmt, ap);
    va_end(ap);
    if (n < 0)
        return MHD_NO;
    return send_body(conn, status, body, (size_t)n, HTTP_TEXT);
}

static enum MHD_Result handle_healthz(http_server *h, struct MHD_Connection *conn)
{
    uint64_t now = daemon_mono_ms();
    uint64_t beat = atomic_load(&h->shared->heartbeat_ms);
    uint64_t age = now > beat ? now - beat : 0;
    if (age > HTTP_HEALTH_MAX_AGE_MS)
        return send_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "unhealthy: the event loop has not turned for %llu ms\n",
                         (unsigned long long)age);
    return send_text(conn, MHD_HTTP_OK, "ok\n");
}

static enum MHD_Result handle_readyz(http_server *h, struct MHD_Connection *conn)
{
    if (atomic_load(&h->shared->draining))
        return send_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "not ready: stopping (SIGTERM), draining connections\n");
    char reason[2048];
    if (readiness_get(h->ready, HTTP_READY_MAX_AGE_MS, reason, sizeof reason))
        return send_text(conn, MHD_HTTP_OK, "ready\n");
    return send_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready: %s\n", reason);
}

static enum MHD_Result handle_metrics(http_server *h, struct MHD_Connection *conn)
{
    /* Keeps sgx_quote_helper_backend_ready current without a /readyz. */
    (void)readiness_get(h->ready, HTTP_METRICS_READY_MAX_AGE_MS, NULL, 0);
    ops_metrics_log_dropped(h->metrics, log_dropped_total());
    char *text = NULL;
    size_t len = 0;
    if (ops_metrics_render(h->metrics, &text, &len) != METRICS_OK)
        return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render metrics\n");
    return send_body(conn, MHD_HTTP_OK, text, len, METRICS_CONTENT_TYPE);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)version;
    (void)upload_data;
    http_server *h = cls;
    /* First call per request: headers only. Answer on the second, after
     * any (ignored) body, as libmicrohttpd expects. */
    if (*req_cls == NULL) {
        *req_cls = h;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* no endpoint takes a body */
        return MHD_YES;
    }
    /* All in: from here the answer deadline applies. */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci != NULL && ci->socket_context != NULL) {
        pthread_mutex_lock(&h->lock);
        ((http_watch *)ci->socket_context)->answering = true;
        pthread_mutex_unlock(&h->lock);
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (strcmp(url, "/metrics") == 0)
        return handle_metrics(h, conn);
    if (strcmp(url, "/healthz") == 0)
        return handle_healthz(h, conn);
    if (strcmp(url, "/readyz") == 0)
        return handle_readyz(h, conn);
    return send_text(conn, MHD_HTTP_NOT_FOUND, "not found; try /metrics, /healthz or /readyz\n");
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
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
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

/* libmicrohttpd: a connection starts (its fd goes under watch) or closes
 * (before its fd is closed, so the watcher never touches a reused fd). */
static void on_connection_event(void *cls, struct MHD_Connection *conn, void **socket_context,
                                enum MHD_ConnectionNotificationCode code)
{
    http_server *h = cls;
    pthread_mutex_lock(&h->lock);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = NULL;
        for (size_t i = 0; ci != NULL && i < HTTP_MAX_CONNECTIONS; i++) {
            if (!h->watch[i].used) {
                h->watch[i] = (http_watch){.used = true, .fd = ci->connect_fd,
                                           .start_ms = daemon_mono_ms()};
                *socket_context = &h->watch[i];
                break;
            }
        }
    } else if (*socket_context != NULL) {
        ((http_watch *)*socket_context)->used = false;
        *socket_context = NULL;
    }
    pthread_mutex_unlock(&h->lock);
}

/* Shuts down connections past their deadline: the connection's thread
 * then sees EOF/an error and libmicrohttpd closes it. */
static void *watcher_main(void *arg)
{
    http_server *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        uint64_t now = daemon_mono_ms();
        for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
            http_watch *w = &h->watch[i];
            if (!w->used || w->cut)
                continue;
            uint64_t age = now - w->start_ms;
            if (age > HTTP_ANSWER_DEADLINE_MS || (!w->answering && age > HTTP_REQUEST_DEADLINE_MS)) {
                (void)shutdown(w->fd, SHUT_RDWR);
                w->cut = true;
            }
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)HTTP_WATCH_PERIOD_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&h->wake, &h->lock, &until);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
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
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    int fd = bind_listener(listen_spec, bound, bound_cap, err, err_cap);
    if (fd < 0) {
        http_stop(h);
        return NULL;
    }
    if (pthread_create(&h->watcher, NULL, watcher_main, h) != 0) {
        snprintf(err, err_cap, "--http-listen %s: cannot start the deadline thread", listen_spec);
        close(fd);
        http_stop(h);
        return NULL;
    }
    h->watcher_started = true;
    h->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                              0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                              (unsigned)HTTP_PER_IP_CONNECTIONS,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S,
                              MHD_OPTION_NOTIFY_CONNECTION, on_connection_event, h,
                              MHD_OPTION_END);
    if (h->mhd == NULL) {
        snprintf(err, err_cap, "--http-listen %s: libmicrohttpd did not start", listen_spec);
        close(fd);
        http_stop(h);
        return NULL;
    }
    return h;
}

void http_stop(http_server *h)
{
    if (h == NULL)
        return;
    if (h->mhd != NULL)
        MHD_stop_daemon(h->mhd); /* also closes the listening socket */
    if (h->watcher_started) {
        pthread_mutex_lock(&h->lock);
        h->stopping = true;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->watcher, NULL);
    }
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
