/* SPDX-License-Identifier: Apache-2.0 */
/*
 * socket → [server] → framing → service → backend. One libuv loop owns every
 * socket; a connection reads one 4-byte LE length plus body (aesm §1.3, §2)
 * under a size cap and a deadline (§9.3); the service runs on libuv's worker
 * pool so the loop never waits on crypto; the response frame goes out in one
 * write() (§2 reader quirk) and the connection closes. A client that breaks
 * a limit is dropped and logged once with its SO_PEERCRED identity.
 */
#include "daemon/server.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/log.h"
#include "sgxqh/aesm_error.h"
#include "wire/wire.h"

typedef enum {
    CONN_READ_PREFIX,
    CONN_READ_BODY,
    CONN_WORKING, /* service_handle on a worker thread */
    CONN_WRITING, /* the rest of a partially written frame */
    CONN_DONE,
} conn_state;

static const char *const CONN_STATE_NAMES[] = {"read-prefix", "read-body", "working", "writing",
                                               "done"};

typedef struct server server;

typedef struct conn {
    server *srv;
    uv_pipe_t pipe;
    uv_timer_t timer;
    uv_work_t work;
    uv_write_t write_req;
    conn_state state;
    int open_handles;      /* pipe + timer; freed when both are closed */
    bool closing;
    bool counted;          /* holds one of the --max-connections slots */
    log_peer peer;

    uint8_t prefix[WIRE_PREFIX_SIZE];
    size_t prefix_got;
    uint8_t *body;
    uint32_t body_len;
    size_t body_got;

    service_result res;
    bool partial_write;
    uint64_t t_request_ns; /* when the whole request had arrived */

    struct conn *prev, *next;
} conn;

struct server {
    uv_loop_t loop;
    const daemon_config *cfg;
    service *svc;
    listen_socket *ls;
    uv_pipe_t listener;
    bool listener_open;
    uv_signal_t sig_term, sig_int;
    uv_timer_t drain_timer;
    bool draining;
    uint32_t active; /* counted connections not yet closed */
    conn *conns;
    server_stats *stats;
};

static void conn_close(conn *c);

/* ---- logging ---------------------------------------------------------- */

static void conn_log_drop(conn *c, const char *reason, const char *detail)
{
    log_record r;
    log_begin(&r, LOG_WARN, "drop");
    log_str(&r, "reason", reason);
    if (detail != NULL)
        log_str(&r, "detail", detail);
    log_str(&r, "state", CONN_STATE_NAMES[c->state]);
    log_uint(&r, "bytes_read", (unsigned long long)(c->prefix_got + c->body_got));
    if (c->res.op != NULL)
        log_str(&r, "op", c->res.op);
    log_peer_fields(&r, &c->peer);
    log_emit(&r);
}

static void conn_log_request(conn *c)
{
    double ms = (double)(uv_hrtime() - c->t_request_ns) / 1e6;
    bool replied = c->res.action == SERVICE_REPLY;
    log_record r;
    log_begin(&r, replied ? LOG_INFO : LOG_WARN, "request");
    log_str(&r, "op", c->res.op != NULL ? c->res.op : "unknown");
    if (replied) {
        log_str(&r, "result", aesm_error_name(c->res.aesm_code));
        log_int(&r, "code", c->res.aesm_code);
    } else {
        log_str(&r, "result", "closed-without-reply");
    }
    log_ms(&r, "latency_ms", ms);
    log_peer_fields(&r, &c->peer);
    log_uint(&r, "req_bytes", c->body_len);
    if (replied)
        log_uint(&r, "resp_bytes", (unsigned long long)c->res.frame_len);
    if (c->partial_write)
        log_bool(&r, "partial_write", true);
    if (c->res.has_enclave) {
        log_hex(&r, "mrenclave", c->res.mr_enclave, sizeof c->res.mr_enclave);
        log_hex(&r, "mrsigner", c->res.mr_signer, sizeof c->res.mr_signer);
    }
    log_emit(&r);
}

/* ---- drain / shutdown ------------------------------------------------- */

static void on_handle_closed_noop(uv_handle_t *h)
{
    (void)h;
}

static void server_maybe_finish(server *srv)
{
    if (!srv->draining || srv->active > 0 || srv->conns != NULL)
        return;
    log_msg(LOG_INFO, "drained: every queued request answered, exiting");
    if (!uv_is_closing((uv_handle_t *)&srv->sig_term))
        uv_close((uv_handle_t *)&srv->sig_term, on_handle_closed_noop);
    if (!uv_is_closing((uv_handle_t *)&srv->sig_int))
        uv_close((uv_handle_t *)&srv->sig_int, on_handle_closed_noop);
    if (!uv_is_closing((uv_handle_t *)&srv->drain_timer))
        uv_close((uv_handle_t *)&srv->drain_timer, on_handle_closed_noop);
}

/* ---- connection lifetime ---------------------------------------------- */

static void on_conn_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    server *srv = c->srv;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (c->counted)
        srv->active--;
    free(c->body);
    service_result_clear(&c->res);
    free(c);
    server_maybe_finish(srv);
}

static void conn_close(conn *c)
{
    if (c->closing)
        return;
    if (c->state == CONN_WORKING) {
        /* The worker still owns body/res; after_work closes us. */
        c->state = CONN_DONE;
        return;
    }
    c->closing = true;
    c->state = CONN_DONE;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->pipe, on_conn_handle_closed);
}

static void conn_drop(conn *c, const char *reason, const char *detail, uint64_t *counter)
{
    if (c->closing)
        return;
    (*counter)++;
    conn_log_drop(c, reason, detail);
    conn_close(c);
}

static conn *conn_new(server *srv)
{
    conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->srv = srv;
    c->state = CONN_READ_PREFIX;
    c->res.aesm_code = -1;
    if (uv_pipe_init(&srv->loop, &c->pipe, 0) != 0) {
        free(c);
        return NULL;
    }
    c->pipe.data = c;
    c->open_handles = 1;
    /* uv_timer_init cannot fail on a live loop. */
    uv_timer_init(&srv->loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 2;
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    return c;
}

static void conn_read_peer(conn *c)
{
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred) {
        c->peer.known = true;
        c->peer.pid = cred.pid;
        c->peer.uid = cred.uid;
        c->peer.gid = cred.gid;
    }
}

/* ---- the request: read, work, write ------------------------------------ */

static void on_deadline(uv_timer_t *t)
{
    conn *c = t->data;
    conn_drop(c, "deadline", c->state == CONN_WRITING ? "response not taken in time"
                                                       : "request not complete in time",
              &c->srv->stats->dropped_deadline);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn *c = h->data;
    /* Hand libuv exactly the bytes still missing from the current part, so
     * nothing past the one request is ever read. */
    if (c->state == CONN_READ_PREFIX) {
        *buf = uv_buf_init((char *)c->prefix + c->prefix_got,
                           (unsigned)(WIRE_PREFIX_SIZE - c->prefix_got));
    } else if (c->state == CONN_READ_BODY) {
        *buf = uv_buf_init((char *)c->body + c->body_got, (unsigned)(c->body_len - c->body_got));
    } else {
        *buf = uv_buf_init(NULL, 0);
    }
}

static void work_run(uv_work_t *w)
{
    conn *c = w->data;
    service_handle(c->srv->svc, c->body, c->body_len, &c->res);
}

static void on_write_done(uv_write_t *req, int status)
{
    conn *c = req->data;
    if (c->closing)
        return; /* cancelled by a deadline drop; already logged */
    uv_timer_stop(&c->timer);
    if (status != 0) {
        conn_drop(c, "peer-gone", uv_strerror(status), &c->srv->stats->dropped_peer_gone);
        return;
    }
    c->srv->stats->replies++;
    conn_log_request(c);
    conn_close(c);
}

static void conn_reply(conn *c)
{
    size_t len = c->res.frame_len;
    uv_buf_t buf = uv_buf_init((char *)c->res.frame, (unsigned)len);
    /* The whole frame in one write() (aesm §2, §9.3). */
    int n = uv_try_write((uv_stream_t *)&c->pipe, &buf, 1);
    if (n >= 0 && (size_t)n == len) {
        c->srv->stats->replies++;
        conn_log_request(c);
        conn_close(c);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        conn_drop(c, "peer-gone", uv_strerror(n), &c->srv->stats->dropped_peer_gone);
        return;
    }
    /* The socket buffer could not take it all (a reader that is not
     * reading, or a huge frame): queue the rest under the deadline and note
     * it in the request's log line. */
    size_t done = n > 0 ? (size_t)n : 0;
    c->partial_write = true;
    c->srv->stats->partial_writes++;
    c->state = CONN_WRITING;
    buf = uv_buf_init((char *)c->res.frame + done, (unsigned)(len - done));
    c->write_req.data = c;
    uv_timer_start(&c->timer, on_deadline, c->srv->cfg->io_timeout_ms, 0);
    int rc = uv_write(&c->write_req, (uv_stream_t *)&c->pipe, &buf, 1, on_write_done);
    if (rc != 0)
        conn_drop(c, "peer-gone", uv_strerror(rc), &c->srv->stats->dropped_peer_gone);
}

static void work_done(uv_work_t *w, int status)
{
    conn *c = w->data;
    bool close_requested = c->state == CONN_DONE;
    c->state = CONN_WRITING;
    free(c->body);
    c->body = NULL;
    if (status != 0 || close_requested) {
        c->res.action = SERVICE_CLOSE;
        conn_close(c);
        return;
    }
    if (c->res.action != SERVICE_REPLY || c->res.frame == NULL || c->res.frame_len == 0) {
        /* Unknown or unparsable request: close without a byte (aesm §1.3). */
        c->res.action = SERVICE_CLOSE;
        c->srv->stats->closed_no_reply++;
        conn_log_request(c);
        conn_close(c);
        return;
    }
    conn_reply(c);
}

static void conn_dispatch(conn *c)
{
    uv_read_stop((uv_stream_t *)&c->pipe);
    uv_timer_stop(&c->timer);
    c->t_request_ns = uv_hrtime();
    c->state = CONN_WORKING;
    c->work.data = c;
    int rc = uv_queue_work(&c->srv->loop, &c->work, work_run, work_done);
    if (rc != 0) {
        c->state = CONN_READ_BODY;
        conn_drop(c, "internal", uv_strerror(rc), &c->srv->stats->dropped_io);
    }
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    conn *c = s->data;
    server_stats *st = c->srv->stats;
    if (c->closing)
        return;
    if (nread < 0) {
        if (nread == UV_EOF && c->prefix_got == 0) {
            /* Connected and left without a byte: a liveness probe, not a
             * misbehaving client. Worth a debug line only. */
            st->closed_empty++;
            if (log_enabled(LOG_DEBUG)) {
                log_record r;
                log_begin(&r, LOG_DEBUG, "close");
                log_str(&r, "reason", "empty");
                log_peer_fields(&r, &c->peer);
                log_emit(&r);
            }
            conn_close(c);
        } else if (nread == UV_EOF) {
            conn_drop(c, "truncated", "peer closed mid-request", &st->dropped_truncated);
        } else if (nread == UV_ENOBUFS) {
            /* alloc handed out nothing: we are not reading any more. */
            uv_read_stop(s);
        } else {
            conn_drop(c, "io-error", uv_strerror((int)nread), &st->dropped_io);
        }
        return;
    }
    if (nread == 0)
        return;
    if (c->state == CONN_READ_PREFIX) {
        c->prefix_got += (size_t)nread;
        if (c->prefix_got < WIRE_PREFIX_SIZE)
            return;
        uint32_t len = 0;
        int rc = wire_prefix_decode(c->prefix, WIRE_PREFIX_SIZE, c->srv->cfg->max_request_bytes,
                                    &len);
        if (rc != WIRE_OK) {
            /* aesm §9.3: oversize → close without replying. */
            conn_drop(c, "oversize", "length prefix above --max-request-bytes",
                      &st->dropped_oversize);
            return;
        }
        c->body_len = len;
        if (len == 0) {
            conn_dispatch(c);
            return;
        }
        c->body = malloc(len);
        if (c->body == NULL) {
            conn_drop(c, "internal", "out of memory", &st->dropped_io);
            return;
        }
        c->state = CONN_READ_BODY;
        return;
    }
    if (c->state == CONN_READ_BODY) {
        c->body_got += (size_t)nread;
        if (c->body_got == c->body_len)
            conn_dispatch(c);
    }
}

static void conn_start(server *srv, conn *c)
{
    conn_read_peer(c);
    srv->stats->accepted++;
    if (srv->active >= srv->cfg->max_connections) {
        srv->stats->rejected_limit++;
        log_record r;
        log_begin(&r, LOG_WARN, "drop");
        log_str(&r, "reason", "connection-limit");
        log_uint(&r, "max_connections", srv->cfg->max_connections);
        log_peer_fields(&r, &c->peer);
        log_emit(&r);
        conn_close(c);
        return;
    }
    c->counted = true;
    srv->active++;
    uv_timer_start(&c->timer, on_deadline, srv->cfg->io_timeout_ms, 0);
    int rc = uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_on_read);
    if (rc != 0)
        conn_drop(c, "io-error", uv_strerror(rc), &srv->stats->dropped_io);
}

static void on_connection(uv_stream_t *listener, int status)
{
    server *srv = listener->data;
    if (status < 0) {
        log_msg(LOG_WARN, "accept failed: %s", uv_strerror(status));
        return;
    }
    conn *c = conn_new(srv);
    if (c == NULL) {
        log_msg(LOG_ERROR, "out of memory accepting a connection");
        return;
    }
    if (uv_accept(listener, (uv_stream_t *)&c->pipe) != 0) {
        conn_close(c);
        return;
    }
    conn_start(srv, c);
}

/* ---- signals ----------------------------------------------------------- */

/* Take whatever already sits in the kernel's accept queue: those clients
 * connected before we stopped, so they get served (DESIGN.md "Upgrades"). */
static void server_accept_backlog(server *srv)
{
    uv_os_fd_t lfd;
    if (uv_fileno((uv_handle_t *)&srv->listener, &lfd) != 0)
        return;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_msg(LOG_WARN, "draining the accept queue: %s", strerror(errno));
            return;
        }
        conn *c = conn_new(srv);
        if (c == NULL) {
            close(fd);
            continue;
        }
        if (uv_pipe_open(&c->pipe, fd) != 0) {
            close(fd);
            conn_close(c);
            continue;
        }
        conn_start(srv, c);
    }
}

static void on_drain_timeout(uv_timer_t *t)
{
    server *srv = t->data;
    log_msg(LOG_ERROR, "drain timed out after %u ms with %u connection(s) unfinished; exiting",
            srv->cfg->drain_timeout_ms, srv->active);
    /* Worker threads may still be inside the backend: leave without
     * unwinding anything they use. */
    _exit(1);
}

static void on_signal(uv_signal_t *h, int signum)
{
    server *srv = h->data;
    if (srv->draining) {
        if (signum == SIGINT) {
            log_msg(LOG_WARN, "second SIGINT: exiting without waiting for %u connection(s)",
                    srv->active);
            listen_socket_remove_if_ours(srv->ls);
            _exit(1);
        }
        log_msg(LOG_INFO, "%s again: still draining %u connection(s)", strsignal(signum),
                srv->active);
        return;
    }
    srv->draining = true;
    log_msg(LOG_INFO, "%s: no longer accepting; answering %u queued connection(s)",
            strsignal(signum), srv->active);
    /* Stop new clients first (they retry and find the next instance), then
     * take the ones the kernel already queued. */
    listen_socket_remove_if_ours(srv->ls);
    server_accept_backlog(srv);
    uv_close((uv_handle_t *)&srv->listener, on_handle_closed_noop);
    srv->listener_open = false;
    uv_timer_start(&srv->drain_timer, on_drain_timeout, srv->cfg->drain_timeout_ms, 0);
    uv_unref((uv_handle_t *)&srv->drain_timer);
    server_maybe_finish(srv);
}

/* ---- entry point ------------------------------------------------------- */

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, on_handle_closed_noop);
}

int server_run(const daemon_config *cfg, service *svc, listen_socket *ls, server_stats *stats)
{
    int exit_code = 1;
    server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        log_msg(LOG_ERROR, "out of memory");
        return 1;
    }
    memset(stats, 0, sizeof *stats);
    srv->cfg = cfg;
    srv->svc = svc;
    srv->ls = ls;
    srv->stats = stats;
    int rc = uv_loop_init(&srv->loop);
    if (rc != 0) {
        log_msg(LOG_ERROR, "libuv loop: %s", uv_strerror(rc));
        free(srv);
        return 1;
    }
    uv_pipe_init(&srv->loop, &srv->listener, 0);
    srv->listener.data = srv;
    uv_signal_init(&srv->loop, &srv->sig_term);
    uv_signal_init(&srv->loop, &srv->sig_int);
    uv_timer_init(&srv->loop, &srv->drain_timer);
    srv->sig_term.data = srv->sig_int.data = srv->drain_timer.data = srv;

    if ((rc = uv_pipe_open(&srv->listener, ls->fd)) != 0) {
        log_msg(LOG_ERROR, "cannot use the listening socket: %s", uv_strerror(rc));
        goto out;
    }
    ls->fd = -1; /* owned by the loop now */
    srv->listener_open = true;
    /* The backlog was set by listen(2) in listen.c; libuv's listen only
     * installs the accept callback on an already listening socket. */
    if ((rc = uv_listen((uv_stream_t *)&srv->listener, 1024, on_connection)) != 0) {
        log_msg(LOG_ERROR, "listen: %s", uv_strerror(rc));
        goto out;
    }
    uv_signal_start(&srv->sig_term, on_signal, SIGTERM);
    uv_signal_start(&srv->sig_int, on_signal, SIGINT);

    uv_run(&srv->loop, UV_RUN_DEFAULT);
    exit_code = 0;
out:
    uv_walk(&srv->loop, close_any, NULL);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&srv->loop) != 0)
        log_msg(LOG_WARN, "event loop closed with handles still open");
    free(srv);
    return exit_code;
}
