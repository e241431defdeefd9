/* SPDX-License-Identifier: Apache-2.0 */
/*
 * socket → [server] → framing → service → backend. One libuv loop owns every
 * socket. At accept the peer is identified (the daemon's own probe first,
 * then pod UID, network-namespace cookie, uid: docs/operations.md
 * "Multi-tenant limits"; what /proc says about a process is kept per (pid,
 * start time), see peer_cache_slot) and meets the ACL and its fair share of
 * connection slots; then one 4-byte LE length plus body is read (aesm §1.3,
 * §2) under a size cap and a deadline (§9.3), the buffer growing as bytes
 * arrive; the token bucket and the unread-reply budget are checked; requests
 * that need the backend run on libuv's worker pool so the loop never waits
 * on crypto or a PCCS, the others are answered on the loop; the response
 * frame goes out in one write() (§2 reader quirk), then the write side is
 * shut and the connection (with its slot and its reply's bytes) is kept
 * until the client has read the reply or closed. Every request and every
 * rejection is counted in the metrics and logged once with the peer's
 * identity (repeated rejections: one line per peer and reason per second,
 * plus a count of the lines left out).
 * A second protocol, TDX QGS (src/qgs, docs/tdx.md), arrives on its own
 * listeners (--qgs-socket, --qgs-vsock-port) and shares all of the above;
 * only its framing (4-byte big-endian length, or a bare 1024-byte TDREPORT)
 * and its service differ (the `qgs` branches below).
 */
#include "daemon/server.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/log.h"
#include "daemon/sdnotify.h"
#include "ops/conncount.h"
#include "ops/peer.h"
#include "qgs/qgs_service.h"
#include "sgxqh/aesm_error.h"
#include "wire/wire.h"

/* How often the loop proves it turns (/healthz), unless the systemd
 * watchdog wants it more often (half its interval). */
#define HEARTBEAT_MS 1000u
#define HEARTBEAT_MIN_MS 50u

/* A request body buffer starts this small and doubles as bytes arrive, so
 * a client that announces a large request and then stalls costs little. */
#define BODY_INITIAL_CAP 4096u

/* Rejection/drop lines: at most one per (peer, reason) per window; the
 * rest are counted and summed up in one line. Direct-mapped slots: a
 * collision only means a line more. */
#define LOG_THROTTLE_SLOTS 256u
#define LOG_THROTTLE_WINDOW_MS 1000u
#define PEER_KEY_MAX CONNCOUNT_KEY_MAX

/* What /proc says about a client process, kept per (pid, start time) so a
 * client that connects again and again is looked up once: a recycled pid
 * starts later and never matches another process's entry. A process's PID
 * namespace never changes; its cgroup can (a privileged process may move),
 * so the cgroup answer is reused for PEER_CACHE_CGROUP_MS only. Direct-
 * mapped by pid: a collision only means reading /proc again. */
#define PEER_CACHE_SLOTS 128u
#define PEER_CACHE_CGROUP_MS 1000u

/* Fair shares (ops/conncount.h): a quarter of --max-connections and of
 * --max-unread-bytes is kept for peers that hold at most this many
 * connections / replies' worth of bytes, so peers filling the rest (and
 * reconnecting the moment they are cut) never lock a small one out. */
#define SHARE_RESERVE_DIVISOR 4u
#define SHARE_GUARANTEED_CONNECTIONS 4u
#define SHARE_GUARANTEED_REPLIES 4u

/* A reply waits in the kernel, charged to the daemon, until its client
 * reads it. Its cost is estimated from above: the data in whole pages plus
 * the socket buffer's own bookkeeping. */
#define REPLY_PAGE 4096u
#define REPLY_OVERHEAD 1024u
/* An AESM_BUSY refusal frame is a few dozen bytes. */
#define REPLY_BUSY_MAX 256u
/* After the reply: how often to look whether it has been read (SIOCOUTQ),
 * from the first to the slowest; after the deadline, once a second until
 * the client closes (only then does the kernel free what it did not read). */
#define UNREAD_POLL_FIRST_MS 2u
#define UNREAD_POLL_MAX_MS 250u
#define UNREAD_POLL_CUT_MS 1000u

typedef struct {
    pid_t pid;              /* 0: empty */
    unsigned long long start;
    bool ns_known, own_ns;  /* peer_in_own_pid_namespace, once looked at */
    bool attributed;        /* id holds /proc/PID/cgroup as of attributed_ms */
    uint64_t attributed_ms;
    peer_identity id;
} peer_cache_slot;

typedef struct {
    char key[PEER_KEY_MAX + 24]; /* peer key + "/" + reason */
    char peer[PEER_KEY_MAX];
    const char *event;           /* "rejected" or "drop" */
    const char *reason;
    uint64_t window_start_ms;
    uint32_t suppressed;
    bool used;
} log_throttle_slot;

typedef enum {
    CONN_READ_PREFIX,
    CONN_READ_BODY,
    CONN_WORKING, /* service_handle on a worker thread */
    CONN_WRITING, /* the rest of a partially written frame */
    CONN_UNREAD,  /* reply written, write side shut; until the client has read it */
    CONN_DONE,
} conn_state;

static const char *const CONN_STATE_NAMES[] = {"read-prefix", "read-body", "working", "writing",
                                               "unread",      "done"};

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
    bool rate_limited;     /* its request gets AESM_BUSY instead of the service */
    bool request_seen;     /* the whole request arrived (counted in requests_total) */
    bool slot_counted;     /* holds a connection slot under peer_key (srv->slots) */
    bool self;             /* the daemon's own uid from its own PID namespace */
    bool cut;              /* its reply was not read by the deadline (logged once) */
    bool qgs;              /* came in on a QGS listener: QGS framing and service */
    const char *qgs_result; /* QGS: "ok" or what failed (qgs_result.result) */
    char qgs_detail[256];
    log_peer peer;
    unsigned long long peer_start; /* /proc/PID/stat start time, when peer_start_ok */
    bool peer_start_ok;
    ops_id_source id_by;         /* what peer_key was made from */
    char peer_key[PEER_KEY_MAX]; /* "self", "pod:<uid>", "netns:<cookie>", "uid:<n>", "unknown" */
    uint64_t unread_held;        /* reply bytes charged under peer_key (srv->unread) */
    uint64_t unread_deadline_ms; /* the reply must be read by then */
    unsigned poll_ms;            /* next SIOCOUTQ look, CONN_UNREAD */

    uint8_t prefix[WIRE_PREFIX_SIZE];
    size_t prefix_got;
    uint8_t *body;
    uint32_t body_len;
    size_t body_cap; /* allocated; grows towards body_len as bytes arrive */
    size_t body_got;

    service_result res;
    bool partial_write;
    uint64_t t_request_ns; /* when the whole request had arrived */

    struct conn *prev, *next;
} conn;

struct server {
    uv_loop_t loop;
    const server_env *env;
    daemon_config *cfg;
    server_stats *stats;
    ops_metrics *metrics;
    uv_pipe_t listener;
    uv_pipe_t qgs_listener, qgs_vsock; /* when env->qgs_ls / env->qgs_vsock_fd are given */
    bool qgs_listening, vsock_listening;
    int sig_fd;          /* signalfd for SIGTERM, SIGINT, SIGHUP */
    uv_poll_t sig_poll;
    uv_timer_t drain_timer, heartbeat;
    bool watchdog;
    bool draining;
    uint32_t active; /* counted connections not yet closed */
    conn *conns;
    conncount *slots;  /* connection slots per peer key (the own probe holds none) */
    conncount *unread; /* reply bytes sent and not yet read, per peer key */
    uint64_t reply_max;            /* largest reply frame (SERVICE_REPLY_MAX) */
    unsigned long long own_netns;  /* our network namespace's cookie, when own_netns_ok */
    bool own_netns_ok;
    char discard[256];             /* what a client sends after its request */
    log_throttle_slot throttle[LOG_THROTTLE_SLOTS];
    peer_cache_slot peer_cache[PEER_CACHE_SLOTS];
    bool have_svn;
    uint16_t qe_svn, pce_svn;
};

static void conn_close(conn *c);
static void on_unread_tick(uv_timer_t *t);
static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- peer identity ------------------------------------------------------ */

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
        /* The process behind the pid, for the cache below. A peer gone
         * already (or pid 0) gets no cache entry: /proc is read as before. */
        c->peer_start_ok =
            cred.pid > 0 && peer_read_start_time(cred.pid, &c->peer_start) == PEER_OK;
    }
}

/* This connection's process's cache slot, or NULL (no start time). */
static peer_cache_slot *conn_cache_slot(conn *c, bool claim)
{
    if (!c->peer_start_ok)
        return NULL;
    peer_cache_slot *e = &c->srv->peer_cache[(uint32_t)c->peer.pid % PEER_CACHE_SLOTS];
    if (e->pid == c->peer.pid && e->start == c->peer_start)
        return e;
    if (!claim)
        return NULL;
    memset(e, 0, sizeof *e);
    e->pid = c->peer.pid;
    e->start = c->peer_start;
    return e;
}

static bool conn_in_own_pid_namespace(conn *c)
{
    peer_cache_slot *e = conn_cache_slot(c, true);
    if (e != NULL && e->ns_known)
        return e->own_ns;
    /* Read after the start time: should the pid have been recycled in
     * between, the entry is keyed to a process that is gone, and no
     * connection finds it again (the same holds for the cgroup below). */
    bool own = peer_in_own_pid_namespace(c->peer.pid);
    if (e != NULL) {
        e->ns_known = true;
        e->own_ns = own;
    }
    return own;
}

/* Pod UID and container id from /proc/PID/cgroup (ops/peer.h). pid 0 is a
 * peer outside our PID namespace: nothing to read. Done once per
 * connection, at accept when the rate limit or info-level logs need it,
 * else just before a warning is logged. */
static void conn_attribute(conn *c)
{
    if (c->peer.attributed || !c->peer.known || c->peer.pid <= 0)
        return;
    c->peer.attributed = true;
    uint64_t now = uv_now(&c->srv->loop);
    peer_cache_slot *e = conn_cache_slot(c, true);
    if (e != NULL && e->attributed && now - e->attributed_ms < PEER_CACHE_CGROUP_MS) {
        c->peer.id = e->id;
        return;
    }
    (void)peer_read_cgroup(c->srv->cfg->proc_root, c->peer.pid, &c->peer.id);
    if (e != NULL) {
        e->attributed = true;
        e->attributed_ms = now;
        e->id = c->peer.id;
    }
}

/* The key that every per-peer limit (connection slots, rate limit, unread
 * replies) and log throttling use, in the documented fallback order
 * (docs/operations.md "Multi-tenant limits"):
 *   1. "self": the daemon's own uid in its own PID namespace (its exec
 *      probe; in a pod, other pods running as the same uid are outside
 *      that namespace). Exempt from every limit.
 *   2. "pod:<uid>" when /proc/PID/cgroup names a pod (a visible pid:
 *      hostPID, or no containers at all);
 *   3. "netns:<cookie>" when the client's network namespace is not ours
 *      (SO_NETNS_COOKIE: every pod without hostNetwork has its own, and it
 *      is all that tells same-uid pods apart when SO_PEERCRED gives pid 0);
 *   4. "uid:<n>".
 * Which one it was is logged (identity=) and counted. */
static void conn_identify(conn *c)
{
    c->id_by = OPS_ID_UNKNOWN;
    if (!c->peer.known) {
        snprintf(c->peer_key, sizeof c->peer_key, "unknown");
        return;
    }
    c->self = c->peer.uid == geteuid() && conn_in_own_pid_namespace(c);
    if (c->self) {
        c->id_by = OPS_ID_SELF;
        snprintf(c->peer_key, sizeof c->peer_key, "self");
        return;
    }
    conn_attribute(c);
    if (c->peer.id.pod_uid[0] != '\0' &&
        ratelimit_key_pod(c->peer_key, sizeof c->peer_key, c->peer.id.pod_uid) == RATELIMIT_OK) {
        c->id_by = OPS_ID_POD;
        return;
    }
    uv_os_fd_t fd;
    unsigned long long cookie = 0;
    if (c->srv->own_netns_ok && uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 &&
        peer_netns_cookie(fd, &cookie) == PEER_OK && cookie != c->srv->own_netns) {
        c->id_by = OPS_ID_NETNS;
        snprintf(c->peer_key, sizeof c->peer_key, "netns:%llu", cookie);
        return;
    }
    c->id_by = OPS_ID_UID;
    (void)ratelimit_key_uid(c->peer_key, sizeof c->peer_key, (uint32_t)c->peer.uid);
}

/* ---- fair shares: connection slots and unread replies ------------------ */

static conncount_limits slot_limits(const daemon_config *cfg)
{
    conncount_limits l = {
        .total = cfg->max_connections,
        .per_key = cfg->max_connections_per_peer,
        .reserve = cfg->max_connections / SHARE_RESERVE_DIVISOR,
        .guaranteed = SHARE_GUARANTEED_CONNECTIONS,
    };
    if (l.per_key != 0 && l.guaranteed > l.per_key)
        l.guaranteed = l.per_key;
    return l;
}

/* What a reply of len bytes costs while its client has not read it. */
static uint64_t reply_cost(uint64_t len)
{
    return (len + REPLY_PAGE - 1) / REPLY_PAGE * REPLY_PAGE + REPLY_OVERHEAD;
}

/* Never below one reply of the largest size, or a peer could never get one. */
static conncount_limits unread_limits(const server *srv)
{
    uint64_t one = reply_cost(srv->reply_max);
    uint64_t total = srv->cfg->max_unread_bytes > one ? srv->cfg->max_unread_bytes : one;
    uint64_t per = srv->cfg->max_unread_bytes_per_peer > one ? srv->cfg->max_unread_bytes_per_peer
                                                             : one;
    conncount_limits l = {
        .total = total,
        .per_key = per < total ? per : total,
        .reserve = total / SHARE_RESERVE_DIVISOR,
        .guaranteed = SHARE_GUARANTEED_REPLIES * one,
    };
    if (l.guaranteed > l.per_key)
        l.guaranteed = l.per_key;
    return l;
}

/* Charge n more unread bytes to c's peer (lim NULL: unconditionally).
 * The own probe is never charged. */
static bool conn_unread_take(conn *c, uint64_t n, const conncount_limits *lim)
{
    if (c->self || n == 0)
        return true;
    if (conncount_take_n(c->srv->unread, c->peer_key, n, lim) != CONNCOUNT_OK)
        return false;
    c->unread_held += n;
    ops_metrics_unread_bytes(c->srv->metrics, (double)conncount_total(c->srv->unread));
    return true;
}

static void conn_unread_give(conn *c, uint64_t n)
{
    if (n > c->unread_held)
        n = c->unread_held;
    if (n == 0)
        return;
    conncount_give_n(c->srv->unread, c->peer_key, n);
    c->unread_held -= n;
    ops_metrics_unread_bytes(c->srv->metrics, (double)conncount_total(c->srv->unread));
}

/* ---- log throttling --------------------------------------------------- */

static uint32_t throttle_hash(const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h % LOG_THROTTLE_SLOTS;
}

/* "N more lines like this": the count for one slot's finished window. */
static void throttle_summary(log_throttle_slot *t)
{
    if (!t->used || t->suppressed == 0)
        return;
    logfmt_record r;
    logfmt_begin(&r, LOG_WARN, t->event);
    logfmt_str(&r, "reason", t->reason);
    logfmt_str(&r, "peer", t->peer);
    logfmt_uint(&r, "suppressed", t->suppressed);
    logfmt_str(&r, "msg", "more lines like the previous one for this peer and reason were left "
                          "out (at most one per second is logged); the metrics count each");
    log_emit(&r);
    t->suppressed = 0;
}

/* true: log this line now. false: counted, to be summed up later. */
static bool throttle_allow(server *srv, const conn *c, const char *event, const char *reason)
{
    char key[sizeof srv->throttle[0].key];
    snprintf(key, sizeof key, "%s/%s", c->peer_key[0] != '\0' ? c->peer_key : "unknown", reason);
    log_throttle_slot *t = &srv->throttle[throttle_hash(key)];
    uint64_t now = uv_now(&srv->loop);
    if (t->used && strcmp(t->key, key) == 0 &&
        now - t->window_start_ms < LOG_THROTTLE_WINDOW_MS) {
        t->suppressed++;
        return false;
    }
    throttle_summary(t); /* the previous window of this slot, whoever had it */
    memcpy(t->key, key, sizeof key);
    snprintf(t->peer, sizeof t->peer, "%s", c->peer_key[0] != '\0' ? c->peer_key : "unknown");
    t->event = event;
    t->reason = reason;
    t->window_start_ms = now;
    t->suppressed = 0;
    t->used = true;
    return true;
}

/* From the heartbeat (and at exit: all): sum up finished windows. */
static void throttle_flush(server *srv, bool all)
{
    uint64_t now = uv_now(&srv->loop);
    for (size_t i = 0; i < LOG_THROTTLE_SLOTS; i++) {
        log_throttle_slot *t = &srv->throttle[i];
        if (t->used && t->suppressed > 0 &&
            (all || now - t->window_start_ms >= LOG_THROTTLE_WINDOW_MS)) {
            throttle_summary(t);
            t->used = false;
        }
    }
}

/* ---- logging and counting ----------------------------------------------- */

static const char *reject_hint(ops_reject_reason reason)
{
    switch (reason) {
    case OPS_REJECT_LIMIT:
        return "too many connections at once (a quarter of --max-connections is kept for "
               "peers holding fewer than 4): raise --max-connections (and the open-file "
               "limit), or find the clients that keep connections open";
    case OPS_REJECT_PEER_LIMIT:
        return "this peer (pod, network namespace or uid) holds --max-connections-per-peer "
               "connections already: find the client that keeps connections open, or raise "
               "the limit";
    case OPS_REJECT_DEADLINE:
        return "the client did not send its whole request (or read the answer) within "
               "--io-timeout-ms: a stuck or hostile client; an unread answer keeps its "
               "connection slot until the client closes";
    case OPS_REJECT_UNREAD:
        return "this peer (or all peers together) has --max-unread-bytes-per-peer "
               "(--max-unread-bytes) of answers it has not read: closed without an answer; "
               "find the client that does not read its answers, or raise the limit";
    case OPS_REJECT_OVERSIZE:
        return "length prefix above --max-request-bytes: not an AESM client, or a corrupt "
               "request";
    case OPS_REJECT_ACL:
        return "this uid/gid is not in --allow-uid/--allow-gid; the client sees "
               "SGX_ERROR_UNEXPECTED (0x0001)";
    case OPS_REJECT_RATELIMIT:
        return "this peer exceeded --rate-limit/--rate-burst; it was answered AESM_BUSY "
               "(SGX_ERROR_BUSY, 0x400a) and may retry later";
    default:
        return "";
    }
}

/* One "rejected" line: the counted reasons of the metrics. */
static void conn_log_rejected(conn *c, ops_reject_reason reason, const char *detail)
{
    if (!log_enabled(LOG_WARN) ||
        !throttle_allow(c->srv, c, "rejected", ops_reject_reason_name(reason)))
        return;
    conn_attribute(c);
    logfmt_record r;
    logfmt_begin(&r, LOG_WARN, "rejected");
    logfmt_str(&r, "reason", ops_reject_reason_name(reason));
    logfmt_str_opt(&r, "detail", detail);
    logfmt_str(&r, "state", CONN_STATE_NAMES[c->state]);
    logfmt_uint(&r, "bytes_read", (unsigned long long)(c->prefix_got + c->body_got));
    if (reason == OPS_REJECT_LIMIT)
        logfmt_uint(&r, "max_connections", c->srv->cfg->max_connections);
    logfmt_str(&r, "peer", c->peer_key);
    logfmt_str(&r, "identity", ops_id_source_name(c->id_by));
    if (reason == OPS_REJECT_PEER_LIMIT)
        logfmt_uint(&r, "max_connections_per_peer", c->srv->cfg->max_connections_per_peer);
    if (reason == OPS_REJECT_UNREAD) {
        logfmt_uint(&r, "unread_bytes_peer", conncount_get(c->srv->unread, c->peer_key));
        logfmt_uint(&r, "unread_bytes_total", conncount_total(c->srv->unread));
    }
    log_peer_fields(&r, &c->peer);
    logfmt_str(&r, "hint", reject_hint(reason));
    log_emit(&r);
}

/* Connection problems that are not a policy decision: "drop" lines. */
static void conn_log_drop(conn *c, const char *reason, const char *detail)
{
    if (!log_enabled(LOG_WARN) || !throttle_allow(c->srv, c, "drop", reason))
        return;
    conn_attribute(c);
    logfmt_record r;
    logfmt_begin(&r, LOG_WARN, "drop");
    logfmt_str(&r, "reason", reason);
    logfmt_str_opt(&r, "detail", detail);
    logfmt_str(&r, "state", CONN_STATE_NAMES[c->state]);
    logfmt_uint(&r, "bytes_read", (unsigned long long)(c->prefix_got + c->body_got));
    if (c->res.op != NULL)
        logfmt_str(&r, "op", c->res.op);
    logfmt_str(&r, "peer", c->peer_key);
    logfmt_str(&r, "identity", ops_id_source_name(c->id_by));
    log_peer_fields(&r, &c->peer);
    log_emit(&r);
}

/* The request is over (answered, closed without an answer, or the answer
 * could not be delivered): count it once and write its one line. */
static void conn_finish_request(conn *c, bool delivered)
{
    server *srv = c->srv;
    if (!c->request_seen)
        return;
    c->request_seen = false;
    bool replied = delivered && c->res.action == SERVICE_REPLY;
    double seconds = (double)(uv_hrtime() - c->t_request_ns) / 1e9;
    const char *op = c->res.op != NULL ? c->res.op : "unknown";
    const char *result = replied ? aesm_error_name(c->res.aesm_code) : "closed";
    if (c->qgs)
        result = c->rate_limited ? "rate-limited" : c->qgs_result != NULL ? c->qgs_result : "closed";
    ops_metrics_request(srv->metrics, op, result, seconds);
    if (c->res.has_svn && replied &&
        (!srv->have_svn || srv->qe_svn != c->res.qe_svn || srv->pce_svn != c->res.pce_svn)) {
        srv->have_svn = true;
        srv->qe_svn = c->res.qe_svn;
        srv->pce_svn = c->res.pce_svn;
        ops_metrics_svn(srv->metrics, c->res.qe_svn, c->res.pce_svn);
    }
    if (c->rate_limited)
        ops_metrics_rejected(srv->metrics, OPS_REJECT_RATELIMIT);

    bool ok = replied && c->res.aesm_code == AESM_SUCCESS && !c->rate_limited;
    if (c->qgs)
        ok = c->qgs_result != NULL && strcmp(c->qgs_result, "ok") == 0 && !c->rate_limited;
    log_level lv = ok ? LOG_INFO : LOG_WARN;
    if (!log_enabled(lv))
        return;
    if (c->rate_limited &&
        !throttle_allow(srv, c, "rejected", ops_reject_reason_name(OPS_REJECT_RATELIMIT)))
        return;
    conn_attribute(c);
    logfmt_record r;
    logfmt_begin(&r, lv, c->rate_limited ? "rejected" : "request");
    if (c->rate_limited)
        logfmt_str(&r, "reason", ops_reject_reason_name(OPS_REJECT_RATELIMIT));
    logfmt_str(&r, "op", op);
    logfmt_str(&r, "peer", c->peer_key);
    logfmt_str(&r, "identity", ops_id_source_name(c->id_by));
    if (c->qgs) {
        logfmt_str(&r, "protocol", "qgs");
        logfmt_str(&r, "result", result);
        if (c->res.action != SERVICE_REPLY)
            logfmt_str(&r, "reply", "none");
        logfmt_str_opt(&r, "detail", c->qgs_detail);
    } else if (c->res.action == SERVICE_REPLY) {
        logfmt_str(&r, "result", aesm_error_name(c->res.aesm_code));
        logfmt_int(&r, "code", c->res.aesm_code);
    } else {
        logfmt_str(&r, "result", "closed-without-reply");
    }
    logfmt_ms(&r, "latency_ms", seconds * 1e3);
    log_peer_fields(&r, &c->peer);
    logfmt_uint(&r, "req_bytes", c->body_len);
    if (c->res.action == SERVICE_REPLY)
        logfmt_uint(&r, "resp_bytes", (unsigned long long)c->res.frame_len);
    if (c->partial_write)
        logfmt_bool(&r, "partial_write", true);
    if (c->res.has_enclave) {
        logfmt_hex(&r, "mrenclave", c->res.mr_enclave, sizeof c->res.mr_enclave);
        logfmt_hex(&r, "mrsigner", c->res.mr_signer, sizeof c->res.mr_signer);
    }
    if (c->rate_limited)
        logfmt_str(&r, "hint", reject_hint(OPS_REJECT_RATELIMIT));
    else if (c->res.action == SERVICE_REPLY && c->res.aesm_code != AESM_SUCCESS)
        logfmt_str_opt(&r, "hint", aesm_error_hint(c->res.aesm_code));
    else if (c->qgs && !ok)
        logfmt_str(&r, "hint", "QGS answers failures with 0x00012001 or a close; docs/tdx.md");
    else if (c->res.action != SERVICE_REPLY)
        logfmt_str(&r, "hint", "not a request this service knows (aesm §1.3): closed unanswered");
    log_emit(&r);
}

/* ---- drain / shutdown ------------------------------------------------- */

static void on_handle_closed_noop(uv_handle_t *h)
{
    (void)h;
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, on_handle_closed_noop);
}

static void server_maybe_finish(server *srv)
{
    if (!srv->draining || srv->active > 0 || srv->conns != NULL)
        return;
    log_msg(LOG_INFO, "drained: every queued request answered, exiting");
    /* Signals, timers: nothing is left to wait for. */
    uv_walk(&srv->loop, close_any, NULL);
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
    if (c->counted) {
        srv->active--;
        ops_metrics_connection_closed(srv->metrics);
    }
    if (c->slot_counted)
        conncount_give(srv->slots, c->peer_key);
    conn_unread_give(c, c->unread_held);
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
    conn_finish_request(c, false);
    conn_close(c);
}

static void conn_reject(conn *c, ops_reject_reason reason, const char *detail, uint64_t *counter)
{
    if (c->closing)
        return;
    (*counter)++;
    ops_metrics_rejected(c->srv->metrics, reason);
    conn_log_rejected(c, reason, detail);
    conn_finish_request(c, false);
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

/* ---- the request: read, work, write ------------------------------------ */

/* The reply was not read by the deadline: counted and logged once. The
 * connection stays (with its slot and its bytes) until the client closes,
 * because only then does the kernel free what it did not read: closing our
 * end would leave the bytes charged to us and let the client come back for
 * more. While draining there is no coming back: close. */
static void conn_cut(conn *c)
{
    if (c->cut)
        return;
    c->cut = true;
    c->srv->stats->dropped_deadline++;
    ops_metrics_rejected(c->srv->metrics, OPS_REJECT_DEADLINE);
    conn_log_rejected(c, OPS_REJECT_DEADLINE, "reply not read in time; held until the client "
                                              "closes");
}

static void on_deadline(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->state == CONN_WRITING) {
        conn_cut(c); /* the write completes or fails when the client reads or closes */
        return;
    }
    conn_reject(c, OPS_REJECT_DEADLINE, "request not complete in time",
                &c->srv->stats->dropped_deadline);
}

/* CONN_UNREAD: has the client read the whole reply (nothing left in our
 * send queue)? Then we are done. Else look again later, less often. */
static void conn_unread_check(conn *c)
{
    uv_os_fd_t fd;
    int queued = 0;
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 || ioctl(fd, SIOCOUTQ, &queued) != 0 ||
        queued <= 0) {
        conn_close(c);
        return;
    }
    uint64_t now = uv_now(&c->srv->loop);
    if (!c->cut && now >= c->unread_deadline_ms)
        conn_cut(c);
    if (c->cut && c->srv->draining) {
        conn_close(c);
        return;
    }
    uint64_t next = UNREAD_POLL_CUT_MS;
    if (!c->cut) {
        uint64_t left = c->unread_deadline_ms - now;
        next = c->poll_ms < left ? c->poll_ms : left;
        c->poll_ms = c->poll_ms * 2 < UNREAD_POLL_MAX_MS ? c->poll_ms * 2 : UNREAD_POLL_MAX_MS;
    }
    uv_timer_start(&c->timer, on_unread_tick, next, 0);
}

static void on_unread_tick(uv_timer_t *t)
{
    conn_unread_check(t->data);
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
    } else if (c->state == CONN_UNREAD) {
        /* Whatever the client sends after its request: read and dropped,
         * only to see its EOF. */
        *buf = uv_buf_init(c->srv->discard, sizeof c->srv->discard);
    } else if (c->state == CONN_READ_BODY) {
        if (c->body_got == c->body_cap && c->body_cap < c->body_len) {
            /* Full: double, up to the announced length. */
            size_t cap = c->body_cap * 2 < c->body_len ? c->body_cap * 2 : c->body_len;
            uint8_t *more = realloc(c->body, cap);
            if (more == NULL) {
                *buf = uv_buf_init(NULL, 0); /* → UV_ENOBUFS in conn_on_read */
                return;
            }
            c->body = more;
            c->body_cap = cap;
        }
        *buf = uv_buf_init((char *)c->body + c->body_got, (unsigned)(c->body_cap - c->body_got));
    } else {
        *buf = uv_buf_init(NULL, 0);
    }
}

/* QGS: the service wants the request as the client sent it (prefix and
 * all); its reply, or its close, is handed on as an AESM service result so
 * the write/unread/close path is shared. */
static void conn_qgs_handle(conn *c)
{
    qgs_result q;
    size_t len = WIRE_PREFIX_SIZE + c->body_len;
    uint8_t *req = malloc(len);
    memset(&c->res, 0, sizeof c->res);
    c->res.action = SERVICE_CLOSE;
    c->res.aesm_code = -1;
    c->res.op = "Invalid";
    c->qgs_result = "QGS_E_NOMEM";
    if (req == NULL)
        return;
    memcpy(req, c->prefix, WIRE_PREFIX_SIZE);
    if (c->body_len > 0)
        memcpy(req + WIRE_PREFIX_SIZE, c->body, c->body_len);
    qgs_service_handle(c->srv->env->qgs, req, len, &q);
    free(req);
    c->res.op = q.op; /* static strings */
    c->qgs_result = q.result;
    snprintf(c->qgs_detail, sizeof c->qgs_detail, "%s", q.detail);
    if (q.reply != NULL) {
        c->res.action = SERVICE_REPLY;
        c->res.aesm_code = 0;
        c->res.frame = q.reply;
        c->res.frame_len = q.reply_len;
    }
}

static void work_run(uv_work_t *w)
{
    conn *c = w->data;
    if (c->qgs) {
        conn_qgs_handle(c);
        return;
    }
    service_handle(c->srv->env->svc, c->body, c->body_len, &c->res);
}

/* The whole reply is in the kernel: shut our write side (a client that
 * reads to EOF sees it at once) and keep the connection, its slot and its
 * bytes until the client has read the reply or closed (conn_unread_check,
 * conn_on_read), or for good when it never does (conn_cut). */
static void conn_replied(conn *c)
{
    c->srv->stats->replies++;
    conn_finish_request(c, true);
    service_result_clear(&c->res);
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 || shutdown(fd, SHUT_WR) != 0) {
        conn_close(c);
        return;
    }
    c->state = CONN_UNREAD;
    c->unread_deadline_ms = uv_now(&c->srv->loop) + c->srv->cfg->io_timeout_ms;
    c->poll_ms = UNREAD_POLL_FIRST_MS;
    if (uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_on_read) != 0) {
        conn_close(c);
        return;
    }
    conn_unread_check(c);
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
    conn_replied(c);
}

static void conn_reply(conn *c)
{
    size_t len = c->res.frame_len;
    /* The reservation made at dispatch becomes what this reply costs. */
    uint64_t cost = reply_cost(len);
    if (cost < c->unread_held)
        conn_unread_give(c, c->unread_held - cost);
    else
        (void)conn_unread_take(c, cost - c->unread_held, NULL);
    uv_buf_t buf = uv_buf_init((char *)c->res.frame, (unsigned)len);
    /* The whole frame in one write() (aesm §2, §9.3). */
    int n = uv_try_write((uv_stream_t *)&c->pipe, &buf, 1);
    if (n >= 0 && (size_t)n == len) {
        conn_replied(c);
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

/* The service (or the rate limit's refusal) has produced c->res. */
static void conn_after_service(conn *c, bool failed)
{
    bool close_requested = c->state == CONN_DONE;
    c->state = CONN_WRITING;
    free(c->body);
    c->body = NULL;
    if (failed || close_requested) {
        c->res.action = SERVICE_CLOSE;
        conn_finish_request(c, false);
        conn_close(c);
        return;
    }
    if (c->rate_limited)
        c->srv->stats->rejected_ratelimit++;
    if (c->res.action != SERVICE_REPLY || c->res.frame == NULL || c->res.frame_len == 0) {
        /* Unknown or unparsable request: close without a byte (aesm §1.3). */
        c->res.action = SERVICE_CLOSE;
        c->srv->stats->closed_no_reply++;
        conn_finish_request(c, false);
        conn_close(c);
        return;
    }
    conn_reply(c);
}

static void work_done(uv_work_t *w, int status)
{
    conn_after_service(w->data, status != 0);
}

static void conn_dispatch(conn *c)
{
    server *srv = c->srv;
    uv_read_stop((uv_stream_t *)&c->pipe);
    uv_timer_stop(&c->timer);
    c->t_request_ns = uv_hrtime();
    c->request_seen = true;
    if (srv->cfg->rate_limit > 0 && !c->self) {
        /* One token per request (a probe that connects and leaves costs
         * none), from the bucket of the caller's peer key; the daemon's
         * own probe has none. */
        if (!ratelimit_take(srv->env->rl, c->peer.known ? c->peer_key : NULL))
            c->rate_limited = true;
    }
    /* Room for the answer among the peer's (and all) unread replies:
     * reserve the largest it can be, settled when it is written. */
    conncount_limits ul = unread_limits(srv);
    if (!conn_unread_take(c, reply_cost(c->rate_limited ? REPLY_BUSY_MAX : srv->reply_max),
                          &ul)) {
        conn_reject(c, OPS_REJECT_UNREAD, "unread answers at --max-unread-bytes(-per-peer)",
                    &srv->stats->rejected_unread);
        return;
    }
    c->state = CONN_WORKING;
    if (c->qgs && c->rate_limited) {
        /* QGS has no "busy" answer: closed unanswered, as it does on any
         * failure it cannot put in a reply. */
        memset(&c->res, 0, sizeof c->res);
        c->res.action = SERVICE_CLOSE;
        c->res.op = "RateLimited";
        conn_after_service(c, false);
        return;
    }
    if (c->rate_limited) {
        /* Decode and answer AESM_BUSY in the matching sub-message: cheap,
         * no backend, so right here on the loop. */
        service_refuse(c->srv->env->svc, c->body, c->body_len, AESM_BUSY, &c->res);
        conn_after_service(c, false);
        return;
    }
    if (!c->qgs && !service_needs_backend(c->body, c->body_len)) {
        /* GetSupportedAttKeyIDNum/IDs, SelectAttKeyID, the InitQuoteEx size
         * query, legacy and unknown requests: no backend, no crypto, a few
         * microseconds. Answered here, they never queue behind quotes that
         * wait for a PCCS (so `sgx-quote ping` stays a true liveness check). */
        service_handle(c->srv->env->svc, c->body, c->body_len, &c->res);
        conn_after_service(c, false);
        return;
    }
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
    if (c->state == CONN_UNREAD) {
        if (nread < 0) /* the client closed (or broke off): the kernel freed the reply */
            conn_close(c);
        return;
    }
    if (nread < 0) {
        if (nread == UV_EOF && c->prefix_got == 0) {
            /* Connected and left without a byte: a liveness probe, not a
             * misbehaving client. Worth a debug line only. */
            st->closed_empty++;
            if (log_enabled(LOG_DEBUG)) {
                conn_attribute(c);
                logfmt_record r;
                logfmt_begin(&r, LOG_DEBUG, "close");
                logfmt_str(&r, "reason", "empty");
                log_peer_fields(&r, &c->peer);
                log_emit(&r);
            }
            conn_close(c);
        } else if (nread == UV_EOF) {
            conn_drop(c, "truncated", "peer closed mid-request", &st->dropped_truncated);
        } else if (nread == UV_ENOBUFS && c->state == CONN_READ_BODY) {
            conn_drop(c, "internal", "out of memory", &st->dropped_io);
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
        int rc = WIRE_OK;
        if (c->qgs) {
            /* Big-endian length, or the first bytes of a bare TDREPORT
             * (then exactly 1020 more): qgs_frame_classify. */
            size_t need = 0;
            qgs_frame_kind k = qgs_frame_classify(c->prefix, WIRE_PREFIX_SIZE, &need);
            if (k == QGS_FRAME_INVALID ||
                need - WIRE_PREFIX_SIZE > c->srv->cfg->max_request_bytes)
                rc = WIRE_E_TOO_LARGE;
            else
                len = (uint32_t)(need - WIRE_PREFIX_SIZE);
        } else {
            rc = wire_prefix_decode(c->prefix, WIRE_PREFIX_SIZE, c->srv->cfg->max_request_bytes,
                                    &len);
        }
        if (rc != WIRE_OK) {
            /* aesm §9.3: oversize → close without replying. */
            conn_reject(c, OPS_REJECT_OVERSIZE, "length prefix above --max-request-bytes",
                        &st->dropped_oversize);
            return;
        }
        c->body_len = len;
        if (len == 0) {
            conn_dispatch(c);
            return;
        }
        /* Small at first: the buffer grows in conn_alloc as bytes arrive. */
        c->body_cap = len < BODY_INITIAL_CAP ? len : BODY_INITIAL_CAP;
        c->body = malloc(c->body_cap);
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
    const daemon_config *cfg = srv->cfg;
    conn_read_peer(c);
    conn_identify(c); /* reads /proc/PID/cgroup now, while the caller surely exists */
    srv->stats->accepted++;
    ops_metrics_identified(srv->metrics, c->id_by);
    /* The daemon's own probe first: exempt from every limit (ACL, slots,
     * rate, unread bytes), so tenants can never get a healthy daemon
     * restarted. It is one short connection at a time. */
    if (!c->self) {
        /* ACL before anything is read: a denied peer's bytes are never
         * parsed. Without SO_PEERCRED there is no identity to allow. */
        if (!acl_is_open(&cfg->acl) &&
            (!c->peer.known ||
             !acl_allows(&cfg->acl, (uint32_t)c->peer.uid, (uint32_t)c->peer.gid))) {
            conn_reject(c, OPS_REJECT_ACL, c->peer.known ? "peer not in the allow lists"
                                                         : "no SO_PEERCRED identity",
                        &srv->stats->rejected_acl);
            return;
        }
        conncount_limits sl = slot_limits(cfg);
        int rc = conncount_take_n(srv->slots, c->peer_key, 1, &sl);
        if (rc == CONNCOUNT_E_KEY) {
            conn_reject(c, OPS_REJECT_PEER_LIMIT, "--max-connections-per-peer reached",
                        &srv->stats->rejected_peer_limit);
            return;
        }
        if (rc != CONNCOUNT_OK) {
            conn_reject(c, OPS_REJECT_LIMIT, "--max-connections reached (the rest is kept for "
                                             "peers holding fewer than 4)",
                        &srv->stats->rejected_limit);
            return;
        }
        c->slot_counted = true;
    }
    /* A send buffer just big enough for the largest reply in one write:
     * whatever happens, one connection never queues more. */
    uv_os_fd_t fd;
    int sndbuf = (int)reply_cost(srv->reply_max);
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    c->counted = true;
    srv->active++;
    ops_metrics_connection_opened(srv->metrics);
    uv_timer_start(&c->timer, on_deadline, cfg->io_timeout_ms, 0);
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
    c->qgs = listener != (uv_stream_t *)&srv->listener;
    if (uv_accept(listener, (uv_stream_t *)&c->pipe) != 0) {
        conn_close(c);
        return;
    }
    conn_start(srv, c);
}

/* ---- signals and timers ------------------------------------------------ */

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
    throttle_flush(srv, true);
    (void)log_flush(1000);
    /* Worker threads may still be inside the backend: leave without
     * unwinding anything they use. */
    _exit(1);
}

static void server_reload(server *srv)
{
    daemon_config fresh;
    char err[1024];
    (void)sdnotify_sendf(false, "RELOADING=1\nMONOTONIC_USEC=%llu",
                         (unsigned long long)(uv_hrtime() / 1000u));
    config_parse_result pr = daemon_config_load(&fresh, srv->env->argc, srv->env->argv, err,
                                                sizeof err);
    if (pr != CONFIG_RUN) {
        logfmt_record r;
        logfmt_begin(&r, LOG_ERROR, "reload");
        logfmt_bool(&r, "applied", false);
        logfmt_str(&r, "error", err);
        logfmt_str(&r, "hint", "fix the setting; the daemon keeps running with the previous "
                               "settings");
        log_emit(&r);
        daemon_config_free(&fresh);
        (void)sdnotify_send(false, "READY=1");
        return;
    }
    unsigned long long nofile = 0;
    uint32_t asked = daemon_config_fit_connections(&fresh, &nofile);
    if (asked != 0)
        log_msg(LOG_WARN, "open-file limit %llu is too low for --max-connections %u; using %u",
                nofile, asked, fresh.max_connections);
    char changed[512], ignored[512];
    daemon_config_reload(srv->cfg, &fresh, changed, sizeof changed, ignored, sizeof ignored);
    daemon_config_free(&fresh);
    log_setup(srv->cfg->log_fmt, srv->cfg->log_lvl);
    ratelimit_config rc;
    ratelimit_config_default(&rc);
    rc.rate = srv->cfg->rate_limit;
    rc.burst = srv->cfg->rate_burst;
    (void)ratelimit_reconfigure(srv->env->rl, &rc); /* values were checked when loaded */
    srv->stats->reloads++;

    logfmt_record r;
    logfmt_begin(&r, ignored[0] != '\0' ? LOG_WARN : LOG_INFO, "reload");
    logfmt_bool(&r, "applied", true);
    logfmt_str(&r, "changed", changed);
    logfmt_str_opt(&r, "needs_restart", ignored);
    logfmt_str(&r, "log_level", logfmt_level_name(srv->cfg->log_lvl));
    logfmt_uint(&r, "max_connections", srv->cfg->max_connections);
    logfmt_uint(&r, "max_connections_per_peer", srv->cfg->max_connections_per_peer);
    logfmt_uint(&r, "max_unread_bytes", srv->cfg->max_unread_bytes);
    logfmt_uint(&r, "max_unread_bytes_per_peer", srv->cfg->max_unread_bytes_per_peer);
    logfmt_uint(&r, "io_timeout_ms", srv->cfg->io_timeout_ms);
    logfmt_str(&r, "allow_uid", srv->cfg->allow_uid);
    logfmt_str(&r, "allow_gid", srv->cfg->allow_gid);
    /* Rates are not milliseconds, but print the same way (3 decimals). */
    logfmt_ms(&r, "rate_limit", srv->cfg->rate_limit);
    logfmt_ms(&r, "rate_burst", srv->cfg->rate_burst);
    if (ignored[0] != '\0')
        logfmt_str(&r, "hint", "these settings only change with a restart");
    log_emit(&r);
    (void)sdnotify_send(false, "READY=1");
}

static void on_signal(server *srv, int signum)
{
    if (signum == SIGHUP) {
        server_reload(srv);
        return;
    }
    if (srv->draining) {
        if (signum == SIGINT) {
            log_msg(LOG_WARN, "second SIGINT: exiting without waiting for %u connection(s)",
                    srv->active);
            listen_socket_remove_if_ours(srv->env->ls);
            if (srv->env->qgs_ls != NULL)
                listen_socket_remove_if_ours(srv->env->qgs_ls);
            (void)log_flush(1000);
            _exit(1);
        }
        log_msg(LOG_INFO, "%s again: still draining %u connection(s)", strsignal(signum),
                srv->active);
        return;
    }
    srv->draining = true;
    atomic_store(&srv->env->shared->draining, true);
    (void)sdnotify_send(false, "STOPPING=1\nSTATUS=draining");
    log_msg(LOG_INFO, "%s: no longer accepting; answering %u queued connection(s)",
            strsignal(signum), srv->active);
    /* Stop new clients first (they retry and find the next instance), then
     * take the ones the kernel already queued. */
    listen_socket_remove_if_ours(srv->env->ls);
    server_accept_backlog(srv);
    uv_close((uv_handle_t *)&srv->listener, on_handle_closed_noop);
    if (srv->env->qgs_ls != NULL)
        listen_socket_remove_if_ours(srv->env->qgs_ls);
    if (srv->qgs_listening)
        uv_close((uv_handle_t *)&srv->qgs_listener, on_handle_closed_noop);
    if (srv->vsock_listening)
        uv_close((uv_handle_t *)&srv->qgs_vsock, on_handle_closed_noop);
    srv->qgs_listening = srv->vsock_listening = false;
    uv_timer_start(&srv->drain_timer, on_drain_timeout, srv->cfg->drain_timeout_ms, 0);
    uv_unref((uv_handle_t *)&srv->drain_timer);
    server_maybe_finish(srv);
}

static void on_signalfd(uv_poll_t *h, int status, int events)
{
    (void)events;
    server *srv = h->data;
    if (status < 0)
        return;
    struct signalfd_siginfo si;
    for (;;) {
        ssize_t n = read(srv->sig_fd, &si, sizeof si);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof si)
            return; /* EAGAIN: all taken */
        on_signal(srv, (int)si.ssi_signo);
    }
}

static void handled_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

int server_block_signals(void)
{
    sigset_t set;
    handled_signals(&set);
    return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -1;
}

static void on_heartbeat(uv_timer_t *t)
{
    server *srv = t->data;
    atomic_store(&srv->env->shared->heartbeat_ms, daemon_mono_ms());
    throttle_flush(srv, false);
    if (srv->watchdog)
        (void)sdnotify_send(false, "WATCHDOG=1");
}

/* ---- entry point ------------------------------------------------------- */

/* A further listener (QGS Unix socket, QGS vsock) in the same loop. */
static int server_listen_extra(server *srv, uv_pipe_t *p, int fd, const char *what)
{
    uv_pipe_init(&srv->loop, p, 0);
    p->data = srv;
    int rc = uv_pipe_open(p, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)p, 1024, on_connection);
    if (rc != 0)
        log_msg(LOG_ERROR, "cannot use the %s: %s", what, uv_strerror(rc));
    return rc;
}

int server_run(const server_env *env)
{
    int exit_code = 1;
    server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        log_msg(LOG_ERROR, "out of memory");
        return 1;
    }
    memset(env->stats, 0, sizeof *env->stats);
    srv->env = env;
    srv->sig_fd = -1;
    srv->cfg = env->cfg;
    srv->stats = env->stats;
    srv->metrics = env->metrics;
    srv->slots = conncount_new();
    srv->unread = conncount_new();
    if (srv->slots == NULL || srv->unread == NULL) {
        log_msg(LOG_ERROR, "out of memory");
        conncount_free(srv->slots);
        conncount_free(srv->unread);
        free(srv);
        return 1;
    }
    srv->reply_max = SERVICE_REPLY_MAX(env->cfg->max_buf_size);
    /* Our own network namespace: a client in it (the host's processes when
     * we run with hostNetwork, or our own pod) is told apart by uid. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    srv->own_netns_ok = probe >= 0 && peer_netns_cookie(probe, &srv->own_netns) == PEER_OK;
    if (probe >= 0)
        close(probe);
    if (!srv->own_netns_ok)
        log_msg(LOG_WARN, "SO_NETNS_COOKIE is not available (Linux < 5.14): pods of the same "
                          "uid without hostPID share one set of per-peer limits");
    int rc = uv_loop_init(&srv->loop);
    if (rc != 0) {
        log_msg(LOG_ERROR, "libuv loop: %s", uv_strerror(rc));
        conncount_free(srv->slots);
        conncount_free(srv->unread);
        free(srv);
        return 1;
    }
    uv_pipe_init(&srv->loop, &srv->listener, 0);
    srv->listener.data = srv;
    uv_timer_init(&srv->loop, &srv->drain_timer);
    uv_timer_init(&srv->loop, &srv->heartbeat);
    srv->drain_timer.data = srv->heartbeat.data = srv;
    /* Signals arrive as reads on a signalfd (main blocked them in every
     * thread, server_block_signals): a SIGTERM that comes after the drain,
     * while the process is already on its way out, stays pending instead
     * of killing it with the default action. */
    sigset_t set;
    handled_signals(&set);
    srv->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (srv->sig_fd < 0) {
        log_msg(LOG_ERROR, "signalfd: %s", strerror(errno));
        goto out;
    }
    uv_poll_init(&srv->loop, &srv->sig_poll, srv->sig_fd);
    srv->sig_poll.data = srv;

    if ((rc = uv_pipe_open(&srv->listener, env->ls->fd)) != 0) {
        log_msg(LOG_ERROR, "cannot use the listening socket: %s", uv_strerror(rc));
        goto out;
    }
    env->ls->fd = -1; /* owned by the loop now */
    /* The backlog was set by listen(2) in listen.c (or by systemd); libuv's
     * listen only installs the accept callback on a listening socket. */
    if ((rc = uv_listen((uv_stream_t *)&srv->listener, 1024, on_connection)) != 0) {
        log_msg(LOG_ERROR, "listen: %s", uv_strerror(rc));
        goto out;
    }
    if (env->qgs_ls != NULL &&
        (rc = server_listen_extra(srv, &srv->qgs_listener, env->qgs_ls->fd, "QGS socket")) == 0) {
        env->qgs_ls->fd = -1;
        srv->qgs_listening = true;
    }
    if (rc == 0 && env->qgs_vsock_fd >= 0 &&
        (rc = server_listen_extra(srv, &srv->qgs_vsock, env->qgs_vsock_fd, "QGS vsock")) == 0)
        srv->vsock_listening = true;
    if (rc != 0)
        goto out;
    uv_poll_start(&srv->sig_poll, UV_READABLE, on_signalfd);

    /* Heartbeat for /healthz and the systemd watchdog (WatchdogSec=): a
     * stuck loop stops both. */
    uint64_t wd_usec = 0;
    unsigned period = HEARTBEAT_MS;
    if (sdnotify_watchdog_usec(false, &wd_usec) > 0 && wd_usec > 0) {
        srv->watchdog = true;
        uint64_t half_ms = wd_usec / 2000u;
        if (half_ms < period)
            period = half_ms < HEARTBEAT_MIN_MS ? HEARTBEAT_MIN_MS : (unsigned)half_ms;
    }
    atomic_store(&env->shared->heartbeat_ms, daemon_mono_ms());
    uv_timer_start(&srv->heartbeat, on_heartbeat, period, period);
    uv_unref((uv_handle_t *)&srv->heartbeat);

    (void)sdnotify_sendf(false, "READY=1\nSTATUS=serving %s", env->cfg->socket_path);
    if (srv->watchdog)
        (void)sdnotify_send(false, "WATCHDOG=1");

    uv_run(&srv->loop, UV_RUN_DEFAULT);
    exit_code = 0;
out:
    uv_walk(&srv->loop, close_any, NULL);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&srv->loop) != 0)
        log_msg(LOG_WARN, "event loop closed with handles still open");
    throttle_flush(srv, true);
    if (srv->sig_fd >= 0)
        close(srv->sig_fd);
    conncount_free(srv->slots);
    conncount_free(srv->unread);
    free(srv);
    return exit_code;
}
