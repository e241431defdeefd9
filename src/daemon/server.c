/* SPDX-License-Identifier: Apache-2.0 */
/*
 * socket → [server] → framing → service → backend. Several event loops
 * (one thread each, --workers of them) share the listening sockets: each
 * waits on its own epoll instance, where the listeners are registered with
 * EPOLLEXCLUSIVE, so a new connection wakes one idle loop, and that loop
 * does all of the connection's work itself: accept, identify the peer (the
 * daemon's own probe first, then pod UID, network-namespace cookie, uid:
 * docs/operations.md "Multi-tenant limits"; what /proc says about a process
 * is kept per loop and per (pid, start time), see peer_cache_slot), ACL and
 * fair share of connection slots, read one 4-byte LE length plus body (aesm
 * §1.3, §2) under a size cap and a deadline (§9.3), token bucket and
 * unread-reply budget, the service, the response frame in one write() (§2
 * reader quirk), then shut the write side and keep the connection (with its
 * slot and its reply's bytes) until the client has read the reply or
 * closed. A request is served inline on its loop when the backend never
 * waits (backend_ops.nonblocking: the simulated one); otherwise backend
 * calls go to a pool of worker threads and come back to the loop that owns
 * the connection, so no loop ever waits on a device or a PCCS and requests
 * that need no backend are still answered at once. Every request and every
 * rejection is counted in the metrics and logged once with the peer's
 * identity (repeated rejections: one line per peer and reason per second,
 * plus a count of the lines left out).
 * A second protocol, TDX QGS (src/qgs, docs/tdx.md), arrives on its own
 * listeners (--qgs-socket, --qgs-vsock-port) and shares all of the above;
 * only its framing (4-byte big-endian length, or a bare 1024-byte TDREPORT)
 * and its service differ (the `qgs` branches below).
 * What the loops share (connection slots and unread bytes per peer, the log
 * throttle, the settings SIGHUP changes) sits behind short locks; the rest
 * (connections, timers, the /proc cache, counters) belongs to one loop.
 */
#include "daemon/server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/sdnotify.h"
#include "ops/conncount.h"
#include "ops/peer.h"
#include "qgs/qgs_service.h"
#include "sgxqh/aesm_error.h"
#include "wire/wire.h"

/* How often each loop proves it turns (/healthz), unless the systemd
 * watchdog wants it more often (half its interval). */
#define HEARTBEAT_MS 1000u
#define HEARTBEAT_MIN_MS 50u

/* Event loops: at most this many, whatever --workers says. */
#define LOOPS_MAX 64u
/* Events taken from epoll per wait, and connections accepted per wake-up
 * of a listener: a loop serves what it accepted before it accepts more,
 * so a small batch keeps the other loops busy and latency even. */
#define EVENTS_MAX 64
#define ACCEPT_BATCH 8
/* Out of file descriptors: the connection stays in the kernel's queue and
 * the listener stays readable, so the loop stops watching it this long
 * rather than spin. */
#define ACCEPT_PAUSE_MS 100u

/* Requests up to this size (prefix included) are read into the connection
 * itself: every request a real client sends (a GetQuoteEx with its
 * qe_report_info is about 1.5 KB; a QGS GetQuote about 1.1 KB). Larger
 * ones get a buffer that doubles as bytes arrive, up to the announced
 * length, so a client that announces a large request and stalls costs
 * little. */
#define CONN_INLINE 2048u
#define BODY_INITIAL_CAP 4096u
/* Connection state comes from a per-loop free list, allocated this many
 * at a time and never returned: bounded by --max-connections. */
#define CONN_CHUNK 32u
/* Metrics are counted per loop and added to the registry under one lock
 * after each batch of events (or when this many requests are pending). */
#define OBS_MAX 64u

/* Rejection/drop lines: at most one per (peer, reason) per window; the
 * rest are counted and summed up in one line. Direct-mapped slots: a
 * collision only means a line more. Shared by the loops. */
#define LOG_THROTTLE_SLOTS 256u
#define LOG_THROTTLE_WINDOW_MS 1000u
#define PEER_KEY_MAX CONNCOUNT_KEY_MAX

/* What /proc says about a client process, kept per process so a client
 * that connects again and again is looked up once. An entry holds a pidfd
 * of the process it describes: while that process lives (or is a zombie)
 * its pid cannot be anyone else's, so one pidfd_send_signal(0) per
 * connection proves the entry is still about the connecting process; once
 * it is gone the entry is made again. A process's PID namespace never
 * changes; its cgroup can (a privileged process may move), so the cgroup
 * answer is reused for PEER_CACHE_CGROUP_MS only. Direct-mapped by pid,
 * shared by the loops: a collision only means reading /proc again. Each
 * entry costs a file descriptor (config.c FD_HEADROOM counts them). */
#define PEER_CACHE_SLOTS 64u
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
/* After the reply the loop hears (EPOLLOUT, edge-triggered) when the
 * kernel frees the reply's buffer, i.e. when the client has read it, and
 * EPOLLIN when it closes; it also looks (SIOCOUTQ) this often until the
 * deadline, and after the deadline once a second until the client closes
 * (only then does the kernel free what it did not read). */
#define UNREAD_POLL_MS 250u
#define UNREAD_POLL_CUT_MS 1000u

typedef struct {
    pid_t pid;              /* 0: empty */
    int pidfd;              /* the process this entry describes (-1: none) */
    uint64_t gen;           /* bumped whenever pidfd is replaced (and closed) */
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
typedef struct loop loop;

/* What an epoll event points at: a connection, a listener, a loop's
 * wake-up eventfd or the signalfd. */
typedef enum { WATCH_CONN, WATCH_LISTENER, WATCH_WAKE, WATCH_SIGNAL } watch_kind;
typedef struct {
    watch_kind kind;
} watch;

typedef struct {
    watch w;       /* first: the epoll cookie */
    int fd;
    bool qgs;      /* QGS framing and service */
    const char *what;
} listener;

typedef struct conn {
    watch w; /* first: the epoll cookie */
    loop *lp;
    int fd;
    conn_state state;
    uint32_t events;       /* registered in lp->ep for these; 0: not registered */
    bool counted;          /* holds one of the --max-connections slots (lp->active) */
    bool rate_limit_on;    /* --rate-limit applies to it (set at accept) */
    bool rate_limited;     /* its request gets AESM_BUSY instead of the service */
    bool request_seen;     /* the whole request arrived (counted in requests_total) */
    bool slot_counted;     /* holds a connection slot under peer_key (srv->slots) */
    bool self;             /* the daemon's own uid from its own PID namespace */
    bool cut;              /* its reply was not read by the deadline (logged once) */
    bool qgs;              /* came in on a QGS listener: QGS framing and service */
    bool partial_write;    /* the reply did not fit one write: the rest on EPOLLOUT */
    bool close_after_work; /* closed while a worker had it */
    bool proc_loaded;      /* proc holds the cache's answer (or a fresh one) */
    bool proc_cached;      /* proc came from / goes back to the cache */
    const char *qgs_result; /* QGS: "ok" or what failed (qgs_result.result) */
    log_peer peer;
    peer_cache_slot proc;        /* what /proc says about the peer process */
    ops_id_source id_by;         /* what peer_key was made from */
    char peer_key[PEER_KEY_MAX]; /* "self", "pod:<uid>", "netns:<cookie>", "uid:<n>", "unknown" */
    uint64_t unread_held;        /* reply bytes charged under peer_key (srv->unread) */
    uint64_t unread_deadline_ms; /* the reply must be read by then */
    uint32_t io_timeout_ms;      /* the settings this connection started under */
    uint32_t max_request_bytes;

    uint64_t deadline_ms; /* lp->timers: when on_timer runs */
    uint32_t timer_idx;   /* its place in lp->timers, TIMER_NONE when not there */

    /* The request as the client sent it: prefix, then body. */
    uint8_t *frame;   /* inbuf, or a heap buffer for large requests */
    size_t frame_cap;
    size_t got;       /* bytes of the frame read so far */
    uint32_t body_len;
    size_t need;      /* WIRE_PREFIX_SIZE + body_len once the prefix is read */

    service_result res;
    size_t written;
    uint64_t t_request_ns; /* when the whole request had arrived */

    struct conn *prev, *next; /* lp->conns, or lp->free / lp->zombies (next only) */
    struct conn *job_next;    /* srv->pool queue, then lp->done */
    char qgs_detail[256];
    uint8_t inbuf[CONN_INLINE];
} conn;

#define TIMER_NONE UINT32_MAX

typedef struct {
    const char *op, *result; /* static strings */
    double seconds;
} request_obs;

struct loop {
    server *srv;
    unsigned index;
    pthread_t thread;
    bool thread_started;
    int ep;                 /* epoll instance */
    int wake_fd;            /* eventfd: jobs done, drain, stop */
    watch wake_watch;
    uint64_t now_ms;        /* CLOCK_MONOTONIC, read once per wake-up */
    _Atomic uint64_t beat_ms; /* last turn, for /healthz (server_heartbeat) */
    uint64_t accept_paused_until; /* 0, or listeners unwatched until then (EMFILE) */
    conn *conns;            /* live connections */
    conn *free_conns;       /* ready for reuse */
    conn *zombies;          /* closed during this batch of events: reused after it */
    uint32_t active;        /* counted connections not yet closed */
    uint32_t jobs;          /* connections in the worker pool */
    conn **timers;          /* binary min-heap on deadline_ms */
    uint32_t n_timers, cap_timers; /* cap: one place per connection allocated */
    conn **chunks;          /* the allocations behind the free list */
    unsigned n_chunks;
    pthread_mutex_t done_lock;
    conn *done;             /* back from the worker pool (job_next), under done_lock */
    server_stats stats;
    /* Metrics not yet in the registry (loop_metrics_flush). */
    long conn_delta;
    unsigned long identified[OPS_ID_COUNT_];
    request_obs obs[OBS_MAX];
    unsigned n_obs;
    bool unread_dirty;
    char discard[256];      /* what a client sends after its request */
};

struct server {
    const server_env *env;
    daemon_config *cfg;
    ops_metrics *metrics;
    uid_t euid;
    /* SIGHUP (loop 0) changes cfg in place: the other loops read it under
     * the read lock (conn_start copies what a connection needs). */
    pthread_rwlock_t cfg_lock;
    /* Connection slots and unread reply bytes per peer key. */
    pthread_mutex_t share_lock;
    conncount *slots;
    conncount *unread;
    uint64_t reply_max;            /* largest reply frame (SERVICE_REPLY_MAX) */
    unsigned long long own_netns;  /* our network namespace's cookie, when own_netns_ok */
    bool own_netns_ok;
    bool inline_aesm, inline_qgs;  /* the backend never waits: serve on the loop */
    listener listeners[3];         /* AESM socket, QGS socket, QGS vsock */
    unsigned n_listeners;
    atomic_bool draining;
    _Atomic unsigned loops_running;
    unsigned n_loops;
    loop *loops;
    /* loop 0 only: signals, heartbeat, drain. */
    int sig_fd;
    watch sig_watch;
    bool watchdog;
    unsigned heartbeat_period_ms;
    uint64_t next_heartbeat_ms;
    uint64_t drain_deadline_ms; /* 0: not draining */
    bool drained_logged;
    /* The worker pool (only for a backend that may wait). */
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_cond;
    conn *pool_head, *pool_tail;
    bool pool_stop;
    pthread_t *pool_threads;
    unsigned n_pool;
    /* Client processes (peer_cache_slot), each under its own lock: two
     * loops only wait for each other on connections of one process. */
    pthread_mutex_t cache_locks[PEER_CACHE_SLOTS];
    peer_cache_slot peer_cache[PEER_CACHE_SLOTS];
    bool pidfd_ok; /* pidfd_open works here (Linux >= 5.3) */
    /* Shared by the loops, under throttle_lock. */
    pthread_mutex_t throttle_lock;
    log_throttle_slot throttle[LOG_THROTTLE_SLOTS];
    /* Last QE/PCE SVN put in the metrics: 1 << 32 | qe << 16 | pce. */
    _Atomic uint64_t svn_seen;
};

static void conn_close(conn *c);
static void conn_read(conn *c);
static void conn_unread_check(conn *c);

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- timers: a binary min-heap of connections per loop ------------------ */

static void timer_swap(loop *lp, uint32_t i, uint32_t j)
{
    conn *a = lp->timers[i];
    lp->timers[i] = lp->timers[j];
    lp->timers[j] = a;
    lp->timers[i]->timer_idx = i;
    lp->timers[j]->timer_idx = j;
}

static void timer_sift(loop *lp, uint32_t i)
{
    while (i > 0 && lp->timers[(i - 1) / 2]->deadline_ms > lp->timers[i]->deadline_ms) {
        timer_swap(lp, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < lp->n_timers && lp->timers[l]->deadline_ms < lp->timers[m]->deadline_ms)
            m = l;
        if (r < lp->n_timers && lp->timers[r]->deadline_ms < lp->timers[m]->deadline_ms)
            m = r;
        if (m == i)
            return;
        timer_swap(lp, i, m);
        i = m;
    }
}

static void timer_stop(conn *c)
{
    loop *lp = c->lp;
    uint32_t i = c->timer_idx;
    if (i == TIMER_NONE)
        return;
    c->timer_idx = TIMER_NONE;
    lp->n_timers--;
    if (i == lp->n_timers)
        return;
    lp->timers[i] = lp->timers[lp->n_timers];
    lp->timers[i]->timer_idx = i;
    timer_sift(lp, i);
}

/* Room for every connection was made when it was allocated
 * (loop_conn_alloc), so this never fails. */
static void timer_start(conn *c, uint64_t in_ms)
{
    loop *lp = c->lp;
    c->deadline_ms = lp->now_ms + in_ms;
    if (c->timer_idx == TIMER_NONE) {
        c->timer_idx = lp->n_timers++;
        lp->timers[c->timer_idx] = c;
    }
    timer_sift(lp, c->timer_idx);
}

/* ---- peer identity ------------------------------------------------------ */

static void conn_read_peer(conn *c)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred) {
        c->peer.known = true;
        c->peer.pid = cred.pid;
        c->peer.uid = cred.uid;
        c->peer.gid = cred.gid;
    }
}

static bool pidfd_alive(int pidfd)
{
    /* Signal 0 only checks: 0 or EPERM, the process (or its zombie) is
     * still there and holds its pid. */
    return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

/* c->proc: the cache's entry for the connecting process when it is still
 * about that process, else a new one (pidfd opened now; pid 0 or no pidfd:
 * nothing is kept, /proc is read as needed). Once per connection. */
static void conn_proc_load(conn *c)
{
    if (c->proc_loaded)
        return;
    c->proc_loaded = true;
    memset(&c->proc, 0, sizeof c->proc);
    c->proc.pidfd = -1;
    server *srv = c->lp->srv;
    if (!c->peer.known || c->peer.pid <= 0 || !srv->pidfd_ok)
        return;
    uint32_t slot = (uint32_t)c->peer.pid % PEER_CACHE_SLOTS;
    pthread_mutex_t *lock = &srv->cache_locks[slot];
    peer_cache_slot *e = &srv->peer_cache[slot];
    /* The liveness check runs outside the lock (two loops serving one
     * client would otherwise queue on it): the entry's generation tells
     * afterwards whether its pidfd was replaced, and so possibly closed
     * and its number reused, while we looked. */
    pthread_mutex_lock(lock);
    peer_cache_slot seen = *e;
    pthread_mutex_unlock(lock);
    bool alive = seen.pid == c->peer.pid && seen.pidfd >= 0 && pidfd_alive(seen.pidfd);
    pthread_mutex_lock(lock);
    if (alive && e->gen == seen.gen) {
        c->proc = *e;
        c->proc_cached = true;
        pthread_mutex_unlock(lock);
        return;
    }
    /* After SO_PEERCRED: should the pid have been recycled in between,
     * the entry is about a process that did not connect; the same holds
     * for every look at /proc by pid, and the next connection of the real
     * one finds it gone (its pidfd says so). */
    int fd = (int)syscall(SYS_pidfd_open, c->peer.pid, 0);
    if (fd < 0) {
        pthread_mutex_unlock(lock);
        return;
    }
    if (e->pidfd >= 0)
        close(e->pidfd);
    uint64_t gen = e->gen + 1;
    memset(e, 0, sizeof *e);
    e->pid = c->peer.pid;
    e->pidfd = fd;
    e->gen = gen;
    c->proc = *e;
    c->proc_cached = true;
    pthread_mutex_unlock(lock);
}

/* What this connection learnt goes back to the cache entry, if it is still
 * the one it came from. */
static void conn_proc_store(conn *c)
{
    if (!c->proc_cached)
        return;
    server *srv = c->lp->srv;
    uint32_t slot = (uint32_t)c->peer.pid % PEER_CACHE_SLOTS;
    pthread_mutex_lock(&srv->cache_locks[slot]);
    peer_cache_slot *e = &srv->peer_cache[slot];
    if (e->pid == c->proc.pid && e->gen == c->proc.gen)
        *e = c->proc;
    pthread_mutex_unlock(&srv->cache_locks[slot]);
}

static bool conn_in_own_pid_namespace(conn *c)
{
    conn_proc_load(c);
    if (c->proc.ns_known)
        return c->proc.own_ns;
    bool own = peer_in_own_pid_namespace(c->peer.pid);
    c->proc.ns_known = true;
    c->proc.own_ns = own;
    conn_proc_store(c);
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
    uint64_t now = c->lp->now_ms;
    conn_proc_load(c);
    if (c->proc.attributed && now - c->proc.attributed_ms < PEER_CACHE_CGROUP_MS) {
        c->peer.id = c->proc.id;
        return;
    }
    (void)peer_read_cgroup(c->lp->srv->cfg->proc_root, c->peer.pid, &c->peer.id);
    c->proc.attributed = true;
    c->proc.attributed_ms = now;
    c->proc.id = c->peer.id;
    conn_proc_store(c);
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
    c->self = c->peer.uid == c->lp->srv->euid && conn_in_own_pid_namespace(c);
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
    unsigned long long cookie = 0;
    server *srv = c->lp->srv;
    if (srv->own_netns_ok && peer_netns_cookie(c->fd, &cookie) == PEER_OK &&
        cookie != srv->own_netns) {
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
    server *srv = c->lp->srv;
    if (c->self || n == 0)
        return true;
    pthread_mutex_lock(&srv->share_lock);
    bool ok = conncount_take_n(srv->unread, c->peer_key, n, lim) == CONNCOUNT_OK;
    pthread_mutex_unlock(&srv->share_lock);
    if (!ok)
        return false;
    c->unread_held += n;
    c->lp->unread_dirty = true;
    return true;
}

static void conn_unread_give(conn *c, uint64_t n)
{
    if (n > c->unread_held)
        n = c->unread_held;
    if (n == 0)
        return;
    server *srv = c->lp->srv;
    pthread_mutex_lock(&srv->share_lock);
    conncount_give_n(srv->unread, c->peer_key, n);
    pthread_mutex_unlock(&srv->share_lock);
    c->unread_held -= n;
    c->lp->unread_dirty = true;
}

/* ---- metrics, per loop ------------------------------------------------ */

/* Everything counted since the last flush goes into the registry under
 * one lock: the replies of a batch of events are out before their counts
 * are, by microseconds. */
static void loop_metrics_flush(loop *lp)
{
    server *srv = lp->srv;
    bool any = lp->conn_delta != 0 || lp->n_obs > 0 || lp->unread_dirty;
    for (unsigned i = 0; !any && i < OPS_ID_COUNT_; i++)
        any = lp->identified[i] != 0;
    if (!any)
        return;
    uint64_t unread_total = 0;
    if (lp->unread_dirty) {
        pthread_mutex_lock(&srv->share_lock);
        unread_total = conncount_total(srv->unread);
        pthread_mutex_unlock(&srv->share_lock);
    }
    ops_metrics_hold(srv->metrics);
    ops_metrics_connections_delta(srv->metrics, lp->conn_delta);
    for (unsigned i = 0; i < OPS_ID_COUNT_; i++)
        ops_metrics_identified_n(srv->metrics, (ops_id_source)i, lp->identified[i]);
    for (unsigned i = 0; i < lp->n_obs; i++)
        ops_metrics_request(srv->metrics, lp->obs[i].op, lp->obs[i].result, lp->obs[i].seconds);
    if (lp->unread_dirty)
        ops_metrics_unread_bytes(srv->metrics, (double)unread_total);
    ops_metrics_release(srv->metrics);
    lp->conn_delta = 0;
    memset(lp->identified, 0, sizeof lp->identified);
    lp->n_obs = 0;
    lp->unread_dirty = false;
}

static void loop_observe(loop *lp, const char *op, const char *result, double seconds)
{
    if (lp->n_obs == OBS_MAX)
        loop_metrics_flush(lp);
    lp->obs[lp->n_obs++] = (request_obs){op, result, seconds};
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
    uint64_t now = c->lp->now_ms;
    pthread_mutex_lock(&srv->throttle_lock);
    log_throttle_slot *t = &srv->throttle[throttle_hash(key)];
    if (t->used && strcmp(t->key, key) == 0 &&
        now - t->window_start_ms < LOG_THROTTLE_WINDOW_MS) {
        t->suppressed++;
        pthread_mutex_unlock(&srv->throttle_lock);
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
    pthread_mutex_unlock(&srv->throttle_lock);
    return true;
}

/* From the heartbeat (and at exit: all): sum up finished windows. */
static void throttle_flush(server *srv, uint64_t now, bool all)
{
    pthread_mutex_lock(&srv->throttle_lock);
    for (size_t i = 0; i < LOG_THROTTLE_SLOTS; i++) {
        log_throttle_slot *t = &srv->throttle[i];
        if (t->used && t->suppressed > 0 &&
            (all || now - t->window_start_ms >= LOG_THROTTLE_WINDOW_MS)) {
            throttle_summary(t);
            t->used = false;
        }
    }
    pthread_mutex_unlock(&srv->throttle_lock);
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
    server *srv = c->lp->srv;
    if (!log_enabled(LOG_WARN) ||
        !throttle_allow(srv, c, "rejected", ops_reject_reason_name(reason)))
        return;
    pthread_rwlock_rdlock(&srv->cfg_lock);
    uint32_t max_conn = srv->cfg->max_connections;
    uint32_t max_per_peer = srv->cfg->max_connections_per_peer;
    pthread_rwlock_unlock(&srv->cfg_lock);
    uint64_t unread_peer = 0, unread_total = 0;
    if (reason == OPS_REJECT_UNREAD) {
        pthread_mutex_lock(&srv->share_lock);
        unread_peer = conncount_get(srv->unread, c->peer_key);
        unread_total = conncount_total(srv->unread);
        pthread_mutex_unlock(&srv->share_lock);
    }
    conn_attribute(c);
    logfmt_record r;
    logfmt_begin(&r, LOG_WARN, "rejected");
    logfmt_str(&r, "reason", ops_reject_reason_name(reason));
    logfmt_str_opt(&r, "detail", detail);
    logfmt_str(&r, "state", CONN_STATE_NAMES[c->state]);
    logfmt_uint(&r, "bytes_read", (unsigned long long)c->got);
    if (reason == OPS_REJECT_LIMIT)
        logfmt_uint(&r, "max_connections", max_conn);
    logfmt_str(&r, "peer", c->peer_key);
    logfmt_str(&r, "identity", ops_id_source_name(c->id_by));
    if (reason == OPS_REJECT_PEER_LIMIT)
        logfmt_uint(&r, "max_connections_per_peer", max_per_peer);
    if (reason == OPS_REJECT_UNREAD) {
        logfmt_uint(&r, "unread_bytes_peer", unread_peer);
        logfmt_uint(&r, "unread_bytes_total", unread_total);
    }
    log_peer_fields(&r, &c->peer);
    logfmt_str(&r, "hint", reject_hint(reason));
    log_emit(&r);
}

/* Connection problems that are not a policy decision: "drop" lines. */
static void conn_log_drop(conn *c, const char *reason, const char *detail)
{
    if (!log_enabled(LOG_WARN) || !throttle_allow(c->lp->srv, c, "drop", reason))
        return;
    conn_attribute(c);
    logfmt_record r;
    logfmt_begin(&r, LOG_WARN, "drop");
    logfmt_str(&r, "reason", reason);
    logfmt_str_opt(&r, "detail", detail);
    logfmt_str(&r, "state", CONN_STATE_NAMES[c->state]);
    logfmt_uint(&r, "bytes_read", (unsigned long long)c->got);
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
    server *srv = c->lp->srv;
    if (!c->request_seen)
        return;
    c->request_seen = false;
    bool replied = delivered && c->res.action == SERVICE_REPLY;
    double seconds = (double)(mono_ns() - c->t_request_ns) / 1e9;
    const char *op = c->res.op != NULL ? c->res.op : "unknown";
    const char *result = replied ? aesm_error_name(c->res.aesm_code) : "closed";
    if (c->qgs)
        result = c->rate_limited ? "rate-limited" : c->qgs_result != NULL ? c->qgs_result : "closed";
    loop_observe(c->lp, op, result, seconds);
    if (c->res.has_svn && replied) {
        uint64_t svn = 1ull << 32 | (uint64_t)c->res.qe_svn << 16 | c->res.pce_svn;
        if (atomic_exchange(&srv->svn_seen, svn) != svn)
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


/* ---- epoll registration --------------------------------------------------- */

/* Watch c's socket for exactly `events` (0: not at all). */
static int conn_watch(conn *c, uint32_t events)
{
    if (c->events == events)
        return 0;
    struct epoll_event ev = {.events = events, .data.ptr = &c->w};
    int op = c->events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(c->lp->ep, op, c->fd, &ev) != 0)
        return -errno;
    c->events = events;
    return 0;
}

/* ---- drain / shutdown ------------------------------------------------- */

static void loop_wake(loop *lp)
{
    uint64_t one = 1;
    ssize_t n = write(lp->wake_fd, &one, sizeof one);
    (void)n; /* EAGAIN: the counter is already non-zero, the loop wakes anyway */
}

static bool server_draining(const server *srv)
{
    return atomic_load_explicit(&srv->draining, memory_order_relaxed);
}

/* ---- connection lifetime ---------------------------------------------- */

/* The connection's resources go back now; the memory after this batch of
 * events (a later event of the same batch may still name it). */
static void conn_release(conn *c)
{
    loop *lp = c->lp;
    server *srv = lp->srv;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        lp->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (c->counted) {
        lp->active--;
        lp->conn_delta--;
    }
    if (c->slot_counted) {
        pthread_mutex_lock(&srv->share_lock);
        conncount_give(srv->slots, c->peer_key);
        pthread_mutex_unlock(&srv->share_lock);
    }
    conn_unread_give(c, c->unread_held);
    if (c->frame != c->inbuf)
        free(c->frame);
    c->frame = NULL;
    service_result_clear(&c->res);
    c->prev = NULL;
    c->next = lp->zombies;
    lp->zombies = c;
}

static void conn_close(conn *c)
{
    if (c->state == CONN_WORKING) {
        /* The worker still owns the request and the result; the loop
         * closes it when the job comes back (loop_take_done). */
        c->close_after_work = true;
        return;
    }
    if (c->fd < 0)
        return;
    c->state = CONN_DONE;
    timer_stop(c);
    /* Closing the descriptor also takes it out of the epoll set. */
    close(c->fd);
    c->fd = -1;
    c->events = 0;
    conn_release(c);
}

static void conn_drop(conn *c, const char *reason, const char *detail, uint64_t *counter)
{
    if (c->fd < 0)
        return;
    (*counter)++;
    conn_log_drop(c, reason, detail);
    conn_finish_request(c, false);
    conn_close(c);
}

static void conn_reject(conn *c, ops_reject_reason reason, const char *detail, uint64_t *counter)
{
    if (c->fd < 0)
        return;
    (*counter)++;
    ops_metrics_rejected(c->lp->srv->metrics, reason);
    conn_log_rejected(c, reason, detail);
    conn_finish_request(c, false);
    conn_close(c);
}

/* A connection's state from the loop's free list (grown CONN_CHUNK at a
 * time), with room in the timer heap. NULL when out of memory. */
static conn *loop_conn_alloc(loop *lp, int fd)
{
    if (lp->free_conns == NULL) {
        conn **timers = realloc(lp->timers, (lp->cap_timers + CONN_CHUNK) * sizeof *timers);
        if (timers == NULL)
            return NULL;
        lp->timers = timers;
        conn **chunks = realloc(lp->chunks, (lp->n_chunks + 1) * sizeof *chunks);
        if (chunks == NULL)
            return NULL;
        lp->chunks = chunks;
        conn *chunk = calloc(CONN_CHUNK, sizeof *chunk);
        if (chunk == NULL)
            return NULL;
        lp->chunks[lp->n_chunks++] = chunk;
        lp->cap_timers += CONN_CHUNK;
        for (size_t i = 0; i < CONN_CHUNK; i++) {
            chunk[i].next = lp->free_conns;
            lp->free_conns = &chunk[i];
        }
    }
    conn *c = lp->free_conns;
    lp->free_conns = c->next;
    /* Everything up to the buffers is reset; inbuf and qgs_detail are
     * written before they are read. */
    memset(c, 0, offsetof(conn, qgs_detail));
    c->qgs_detail[0] = '\0';
    c->w.kind = WATCH_CONN;
    c->lp = lp;
    c->fd = fd;
    c->state = CONN_READ_PREFIX;
    c->timer_idx = TIMER_NONE;
    c->res.aesm_code = -1;
    c->frame = c->inbuf;
    c->frame_cap = sizeof c->inbuf;
    c->next = lp->conns;
    if (lp->conns != NULL)
        lp->conns->prev = c;
    lp->conns = c;
    return c;
}

/* After a batch of events: closed connections may be reused. */
static void loop_reap(loop *lp)
{
    while (lp->zombies != NULL) {
        conn *c = lp->zombies;
        lp->zombies = c->next;
        c->next = lp->free_conns;
        lp->free_conns = c;
    }
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
    c->lp->stats.dropped_deadline++;
    ops_metrics_rejected(c->lp->srv->metrics, OPS_REJECT_DEADLINE);
    conn_log_rejected(c, OPS_REJECT_DEADLINE, "reply not read in time; held until the client "
                                              "closes");
}

/* CONN_UNREAD: has the client read the whole reply (nothing left in our
 * send queue)? Then we are done. Else look again later. */
static void conn_unread_check(conn *c)
{
    int queued = 0;
    if (ioctl(c->fd, SIOCOUTQ, &queued) != 0 || queued <= 0) {
        conn_close(c);
        return;
    }
    loop *lp = c->lp;
    if (!c->cut && lp->now_ms >= c->unread_deadline_ms)
        conn_cut(c);
    if (c->cut && server_draining(lp->srv)) {
        conn_close(c);
        return;
    }
    uint64_t next = UNREAD_POLL_CUT_MS;
    if (!c->cut) {
        uint64_t left = c->unread_deadline_ms - lp->now_ms;
        next = UNREAD_POLL_MS < left ? UNREAD_POLL_MS : left;
    }
    timer_start(c, next);
}

/* QGS: the service wants the request as the client sent it (prefix and
 * all); its reply, or its close, is handed on as an AESM service result so
 * the write/unread/close path is shared. */
static void conn_qgs_handle(conn *c)
{
    qgs_result q;
    memset(&c->res, 0, sizeof c->res);
    c->res.action = SERVICE_CLOSE;
    c->res.aesm_code = -1;
    qgs_service_handle(c->lp->srv->env->qgs, c->frame, c->need, &q);
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

/* The service proper, on a loop or on a worker thread. */
static void conn_serve(conn *c)
{
    if (c->qgs)
        conn_qgs_handle(c);
    else
        service_handle(c->lp->srv->env->svc, c->frame + WIRE_PREFIX_SIZE, c->body_len, &c->res);
}

/* The whole reply is in the kernel: shut our write side (a client that
 * reads to EOF sees it at once) and keep the connection, its slot and its
 * bytes until the client has read the reply or closed (conn_unread_check,
 * conn_on_event), or for good when it never does (conn_cut). */
static void conn_replied(conn *c)
{
    loop *lp = c->lp;
    lp->stats.replies++;
    conn_finish_request(c, true);
    service_result_clear(&c->res);
    c->state = CONN_UNREAD;
    c->unread_deadline_ms = lp->now_ms + c->io_timeout_ms;
    /* Usually the client has read it already (it was waiting in read()):
     * then close, which is all the EOF it needs. */
    int queued = 0;
    if (ioctl(c->fd, SIOCOUTQ, &queued) != 0 || queued <= 0 || shutdown(c->fd, SHUT_WR) != 0) {
        conn_close(c);
        return;
    }
    /* Edge-triggered: EPOLLOUT comes when the kernel frees the reply's
     * buffer (the client read it), EPOLLIN when the client sends more or
     * closes. */
    if (conn_watch(c, EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLET) != 0) {
        conn_close(c);
        return;
    }
    timer_start(c, UNREAD_POLL_MS < c->io_timeout_ms ? UNREAD_POLL_MS : c->io_timeout_ms);
}

/* Write what is left of the reply frame: the whole frame in one write()
 * (aesm §2, §9.3) unless the socket buffer cannot take it. */
static void conn_write(conn *c)
{
    loop *lp = c->lp;
    size_t len = c->res.frame_len;
    ssize_t n;
    do
        n = send(c->fd, c->res.frame + c->written, len - c->written, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        conn_drop(c, "peer-gone", strerror(errno), &lp->stats.dropped_peer_gone);
        return;
    }
    if (n > 0)
        c->written += (size_t)n;
    if (c->written == len) {
        timer_stop(c);
        conn_replied(c);
        return;
    }
    if (!c->partial_write) {
        /* The socket buffer could not take it all (a reader that is not
         * reading, or a huge frame): the rest goes out as the client reads,
         * under the deadline, and the request's log line says so. */
        c->partial_write = true;
        lp->stats.partial_writes++;
        timer_start(c, c->io_timeout_ms);
        /* EPOLLOUT only: a client that shut its write side but still
         * reads would keep EPOLLRDHUP set and spin the loop; one that
         * closed shows as EPOLLHUP and the next send fails. */
        if (conn_watch(c, EPOLLOUT) != 0)
            conn_drop(c, "io-error", strerror(errno), &lp->stats.dropped_io);
    }
}

static void conn_reply(conn *c)
{
    /* The reservation made at dispatch becomes what this reply costs. */
    uint64_t cost = reply_cost(c->res.frame_len);
    if (cost < c->unread_held)
        conn_unread_give(c, c->unread_held - cost);
    else
        (void)conn_unread_take(c, cost - c->unread_held, NULL);
    c->written = 0;
    conn_write(c);
}

/* The service (or the rate limit's refusal) has produced c->res; failed:
 * the connection was closed while the worker had it. */
static void conn_after_service(conn *c, bool failed)
{
    loop *lp = c->lp;
    c->state = CONN_WRITING;
    if (c->frame != c->inbuf) {
        free(c->frame);
        c->frame = c->inbuf;
    }
    if (failed) {
        c->res.action = SERVICE_CLOSE;
        conn_finish_request(c, false);
        conn_close(c);
        return;
    }
    if (c->rate_limited)
        lp->stats.rejected_ratelimit++;
    if (c->res.action != SERVICE_REPLY || c->res.frame == NULL || c->res.frame_len == 0) {
        /* Unknown or unparsable request: close without a byte (aesm §1.3). */
        c->res.action = SERVICE_CLOSE;
        lp->stats.closed_no_reply++;
        conn_finish_request(c, false);
        conn_close(c);
        return;
    }
    conn_reply(c);
}

/* ---- the worker pool (a backend that may wait) -------------------------- */

static void *pool_main(void *arg)
{
    server *srv = arg;
    (void)pthread_setname_np(pthread_self(), "sqh-backend");
    for (;;) {
        pthread_mutex_lock(&srv->pool_lock);
        while (srv->pool_head == NULL && !srv->pool_stop)
            pthread_cond_wait(&srv->pool_cond, &srv->pool_lock);
        conn *c = srv->pool_head;
        if (c == NULL) {
            pthread_mutex_unlock(&srv->pool_lock);
            return NULL;
        }
        srv->pool_head = c->job_next;
        if (srv->pool_head == NULL)
            srv->pool_tail = NULL;
        pthread_mutex_unlock(&srv->pool_lock);

        conn_serve(c);

        loop *lp = c->lp;
        pthread_mutex_lock(&lp->done_lock);
        c->job_next = lp->done;
        lp->done = c;
        pthread_mutex_unlock(&lp->done_lock);
        loop_wake(lp);
    }
}

static void pool_submit(server *srv, conn *c)
{
    c->job_next = NULL;
    pthread_mutex_lock(&srv->pool_lock);
    if (srv->pool_tail != NULL)
        srv->pool_tail->job_next = c;
    else
        srv->pool_head = c;
    srv->pool_tail = c;
    pthread_cond_signal(&srv->pool_cond);
    pthread_mutex_unlock(&srv->pool_lock);
}

/* Jobs the pool finished for this loop: write their replies. */
static void loop_take_done(loop *lp)
{
    pthread_mutex_lock(&lp->done_lock);
    conn *c = lp->done;
    lp->done = NULL;
    pthread_mutex_unlock(&lp->done_lock);
    while (c != NULL) {
        conn *next = c->job_next;
        lp->jobs--;
        c->state = CONN_WRITING;
        conn_after_service(c, c->close_after_work);
        c = next;
    }
}

/* ---- dispatch -------------------------------------------------------- */

static void conn_dispatch(conn *c)
{
    loop *lp = c->lp;
    server *srv = lp->srv;
    timer_stop(c);
    c->t_request_ns = mono_ns();
    c->request_seen = true;
    const uint8_t *body = c->frame + WIRE_PREFIX_SIZE;
    if (c->rate_limit_on) {
        /* One token per request (a probe that connects and leaves costs
         * none), from the bucket of the caller's peer key; the daemon's
         * own probe has none. */
        c->rate_limited = !ratelimit_take(srv->env->rl, c->peer.known ? c->peer_key : NULL);
    }
    /* Room for the answer among the peer's (and all) unread replies:
     * reserve the largest it can be, settled when it is written. */
    pthread_rwlock_rdlock(&srv->cfg_lock);
    conncount_limits ul = unread_limits(srv);
    pthread_rwlock_unlock(&srv->cfg_lock);
    if (!conn_unread_take(c, reply_cost(c->rate_limited ? REPLY_BUSY_MAX : srv->reply_max),
                          &ul)) {
        conn_reject(c, OPS_REJECT_UNREAD, "unread answers at --max-unread-bytes(-per-peer)",
                    &lp->stats.rejected_unread);
        return;
    }
    /* No more reading until the reply is out. */
    if (conn_watch(c, 0) != 0) {
        conn_drop(c, "io-error", strerror(errno), &lp->stats.dropped_io);
        return;
    }
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
        service_refuse(srv->env->svc, body, c->body_len, AESM_BUSY, &c->res);
        conn_after_service(c, false);
        return;
    }
    bool on_loop = c->qgs ? srv->inline_qgs : srv->inline_aesm;
    if (!on_loop && !c->qgs && !service_needs_backend(body, c->body_len))
        /* GetSupportedAttKeyIDNum/IDs, SelectAttKeyID, the InitQuoteEx size
         * query, legacy and unknown requests: no backend, no crypto, a few
         * microseconds. Answered here, they never queue behind quotes that
         * wait for a PCCS (so `sgx-quote ping` stays a true liveness check). */
        on_loop = true;
    if (on_loop) {
        conn_serve(c);
        conn_after_service(c, false);
        return;
    }
    c->state = CONN_WORKING;
    lp->jobs++;
    pool_submit(srv, c);
}

/* Read what the client has sent; dispatch once the request is complete. */
static void conn_read(conn *c)
{
    loop *lp = c->lp;
    server_stats *st = &lp->stats;
    for (;;) {
        size_t want;
        if (c->state == CONN_READ_PREFIX)
            /* As much as fits: usually the whole request is there already
             * and arrives in one read. Bytes past the request are dropped,
             * as they would be after the reply. */
            want = c->frame_cap - c->got;
        else
            want = (c->need < c->frame_cap ? c->need : c->frame_cap) - c->got;
        ssize_t n = read(c->fd, c->frame + c->got, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (conn_watch(c, EPOLLIN | EPOLLRDHUP) != 0)
                conn_drop(c, "io-error", strerror(errno), &st->dropped_io);
            return;
        }
        if (n < 0) {
            conn_drop(c, "io-error", strerror(errno), &st->dropped_io);
            return;
        }
        if (n == 0) {
            if (c->got == 0) {
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
            } else {
                conn_drop(c, "truncated", "peer closed mid-request", &st->dropped_truncated);
            }
            return;
        }
        c->got += (size_t)n;
        if (c->state == CONN_READ_PREFIX) {
            if (c->got < WIRE_PREFIX_SIZE)
                continue;
            uint32_t len = 0;
            int rc = WIRE_OK;
            if (c->qgs) {
                /* Big-endian length, or the first bytes of a bare TDREPORT
                 * (then exactly 1020 more): qgs_frame_classify. */
                size_t need = 0;
                qgs_frame_kind k = qgs_frame_classify(c->frame, WIRE_PREFIX_SIZE, &need);
                if (k == QGS_FRAME_INVALID || need - WIRE_PREFIX_SIZE > c->max_request_bytes)
                    rc = WIRE_E_TOO_LARGE;
                else
                    len = (uint32_t)(need - WIRE_PREFIX_SIZE);
            } else {
                rc = wire_prefix_decode(c->frame, WIRE_PREFIX_SIZE, c->max_request_bytes, &len);
            }
            if (rc != WIRE_OK) {
                /* aesm §9.3: oversize → close without replying. */
                c->got = WIRE_PREFIX_SIZE; /* what the log line reports as read */
                conn_reject(c, OPS_REJECT_OVERSIZE, "length prefix above --max-request-bytes",
                            &st->dropped_oversize);
                return;
            }
            c->body_len = len;
            c->need = WIRE_PREFIX_SIZE + (size_t)len;
            c->state = CONN_READ_BODY;
            if (c->need > c->frame_cap) {
                /* Small at first: the buffer doubles as bytes arrive. */
                size_t cap = c->need < BODY_INITIAL_CAP ? c->need : BODY_INITIAL_CAP;
                if (cap < c->got)
                    cap = c->got;
                uint8_t *big = malloc(cap);
                if (big == NULL) {
                    conn_drop(c, "internal", "out of memory", &st->dropped_io);
                    return;
                }
                memcpy(big, c->frame, c->got);
                c->frame = big;
                c->frame_cap = cap;
            }
        }
        if (c->got >= c->need) {
            c->got = c->need;
            conn_dispatch(c);
            return;
        }
        if (c->got == c->frame_cap) {
            /* Full: double, up to the announced length. */
            size_t cap = c->frame_cap * 2 < c->need ? c->frame_cap * 2 : c->need;
            uint8_t *more = realloc(c->frame, cap);
            if (more == NULL) {
                conn_drop(c, "internal", "out of memory", &st->dropped_io);
                return;
            }
            c->frame = more;
            c->frame_cap = cap;
        }
    }
}

/* CONN_UNREAD: whatever the client sends after its request is read and
 * dropped, only to see its EOF (edge-triggered: read until EAGAIN). */
static void conn_unread_event(conn *c, uint32_t events)
{
    for (;;) {
        ssize_t n = read(c->fd, c->lp->discard, sizeof c->lp->discard);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            /* The client closed (or broke off): the kernel freed the reply. */
            conn_close(c);
            return;
        }
        break;
    }
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        conn_unread_check(c);
}

static void conn_on_event(conn *c, uint32_t events)
{
    switch (c->state) {
    case CONN_READ_PREFIX:
    case CONN_READ_BODY:
        conn_read(c);
        break;
    case CONN_WRITING:
        if (events & EPOLLERR) {
            conn_drop(c, "peer-gone", "socket error", &c->lp->stats.dropped_peer_gone);
            return;
        }
        conn_write(c);
        break;
    case CONN_UNREAD:
        conn_unread_event(c, events);
        break;
    case CONN_WORKING:
    case CONN_DONE:
        break;
    }
}

static void conn_on_timer(conn *c)
{
    loop *lp = c->lp;
    switch (c->state) {
    case CONN_READ_PREFIX:
    case CONN_READ_BODY:
        conn_reject(c, OPS_REJECT_DEADLINE, "request not complete in time",
                    &lp->stats.dropped_deadline);
        break;
    case CONN_WRITING:
        /* The write completes or fails when the client reads or closes. */
        conn_cut(c);
        if (server_draining(lp->srv))
            conn_close(c);
        else
            timer_start(c, UNREAD_POLL_CUT_MS);
        break;
    case CONN_UNREAD:
        conn_unread_check(c);
        break;
    case CONN_WORKING:
    case CONN_DONE:
        break;
    }
}

/* A new connection: who it is, whether it may stay, then its request. */
static void conn_start(loop *lp, conn *c)
{
    server *srv = lp->srv;
    conn_read_peer(c);
    conn_identify(c); /* reads /proc/PID/cgroup now, while the caller surely exists */
    lp->stats.accepted++;
    lp->identified[c->id_by]++;
    pthread_rwlock_rdlock(&srv->cfg_lock);
    const daemon_config *cfg = srv->cfg;
    c->io_timeout_ms = cfg->io_timeout_ms;
    c->max_request_bytes = cfg->max_request_bytes;
    c->rate_limit_on = cfg->rate_limit > 0 && !c->self;
    /* The daemon's own probe first: exempt from every limit (ACL, slots,
     * rate, unread bytes), so tenants can never get a healthy daemon
     * restarted. It is one short connection at a time. ACL before anything
     * is read: a denied peer's bytes are never parsed. Without SO_PEERCRED
     * there is no identity to allow. */
    bool denied = !c->self && !acl_is_open(&cfg->acl) &&
                  (!c->peer.known ||
                   !acl_allows(&cfg->acl, (uint32_t)c->peer.uid, (uint32_t)c->peer.gid));
    conncount_limits sl = slot_limits(cfg);
    pthread_rwlock_unlock(&srv->cfg_lock);
    if (denied) {
        conn_reject(c, OPS_REJECT_ACL,
                    c->peer.known ? "peer not in the allow lists" : "no SO_PEERCRED identity",
                    &lp->stats.rejected_acl);
        return;
    }
    if (!c->self) {
        pthread_mutex_lock(&srv->share_lock);
        int rc = conncount_take_n(srv->slots, c->peer_key, 1, &sl);
        pthread_mutex_unlock(&srv->share_lock);
        if (rc == CONNCOUNT_E_KEY) {
            conn_reject(c, OPS_REJECT_PEER_LIMIT, "--max-connections-per-peer reached",
                        &lp->stats.rejected_peer_limit);
            return;
        }
        if (rc != CONNCOUNT_OK) {
            conn_reject(c, OPS_REJECT_LIMIT, "--max-connections reached (the rest is kept for "
                                             "peers holding fewer than 4)",
                        &lp->stats.rejected_limit);
            return;
        }
        c->slot_counted = true;
    }
    /* One reply frame (at most reply_max) is all a connection ever sends,
     * so what the kernel queues per connection is bounded by that; the
     * unread budget charges it from the moment of the write. */
    c->counted = true;
    lp->active++;
    lp->conn_delta++;
    timer_start(c, c->io_timeout_ms);
    conn_read(c);
}

/* Stop (or start again) watching the listeners in this loop. */
static void loop_watch_listeners(loop *lp, bool on)
{
    server *srv = lp->srv;
    for (unsigned j = 0; j < srv->n_listeners; j++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
                                 .data.ptr = &srv->listeners[j].w};
        (void)epoll_ctl(lp->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, srv->listeners[j].fd, &ev);
    }
}

static void loop_pause_accept(loop *lp)
{
    if (lp->accept_paused_until != 0)
        return;
    loop_watch_listeners(lp, false);
    lp->accept_paused_until = lp->now_ms + ACCEPT_PAUSE_MS;
}

/* Take a connection the kernel queued on l and start it on lp. false:
 * nothing (more) to take. */
static bool loop_accept_one(loop *lp, const listener *l)
{
    int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED)
            return true;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            log_msg(LOG_WARN, "accept on the %s failed: %s; not accepting for %u ms (raise the "
                    "open-file limit or lower --max-connections)", l->what, strerror(errno),
                    ACCEPT_PAUSE_MS);
            loop_pause_accept(lp);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            log_msg(LOG_WARN, "accept on the %s failed: %s", l->what, strerror(errno));
        }
        return false;
    }
    conn *c = loop_conn_alloc(lp, fd);
    if (c == NULL) {
        log_msg(LOG_ERROR, "out of memory accepting a connection");
        close(fd);
        return true;
    }
    c->qgs = l->qgs;
    conn_start(lp, c);
    return true;
}

/* ---- signals, heartbeat, reload, drain (loop 0) ----------------------- */

static void on_drain_timeout(server *srv)
{
    unsigned active = 0;
    for (unsigned i = 0; i < srv->n_loops; i++)
        active += srv->loops[i].active; /* a racy count is fine for a last log line */
    log_msg(LOG_ERROR, "drain timed out after %u ms with %u connection(s) unfinished; exiting",
            srv->cfg->drain_timeout_ms, active);
    throttle_flush(srv, mono_ms(), true);
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
                     (unsigned long long)(mono_ns() / 1000u));
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
    pthread_rwlock_wrlock(&srv->cfg_lock);
    daemon_config_reload(srv->cfg, &fresh, changed, sizeof changed, ignored, sizeof ignored);
    pthread_rwlock_unlock(&srv->cfg_lock);
    daemon_config_free(&fresh);
    /* Loop 0 is the only writer of cfg: it reads it without the lock. */
    log_setup(srv->cfg->log_fmt, srv->cfg->log_lvl);
    ratelimit_config rc;
    ratelimit_config_default(&rc);
    rc.rate = srv->cfg->rate_limit;
    rc.burst = srv->cfg->rate_burst;
    (void)ratelimit_reconfigure(srv->env->rl, &rc); /* values were checked when loaded */
    srv->loops[0].stats.reloads++;

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

static unsigned server_active(const server *srv)
{
    unsigned active = 0;
    for (unsigned i = 0; i < srv->n_loops; i++)
        active += srv->loops[i].active; /* racy, for a log line */
    return active;
}

static void server_start_drain(server *srv, int signum)
{
    loop *lp0 = &srv->loops[0];
    atomic_store(&srv->draining, true);
    atomic_store(&srv->env->shared->draining, true);
    (void)sdnotify_send(false, "STOPPING=1\nSTATUS=draining");
    log_msg(LOG_INFO, "%s: no longer accepting; answering %u queued connection(s)",
            strsignal(signum), server_active(srv));
    /* Stop new clients first (they retry and find the next instance), then
     * take the ones the kernel already queued: those clients connected
     * before we stopped, so they get served (DESIGN.md "Upgrades"). */
    listen_socket_remove_if_ours(srv->env->ls);
    if (srv->env->qgs_ls != NULL)
        listen_socket_remove_if_ours(srv->env->qgs_ls);
    for (unsigned i = 0; i < srv->n_loops; i++)
        for (unsigned j = 0; j < srv->n_listeners; j++)
            (void)epoll_ctl(srv->loops[i].ep, EPOLL_CTL_DEL, srv->listeners[j].fd, NULL);
    for (unsigned j = 0; j < srv->n_listeners; j++)
        while (loop_accept_one(lp0, &srv->listeners[j])) {
        }
    srv->drain_deadline_ms = mono_ms() + srv->cfg->drain_timeout_ms;
    for (unsigned i = 0; i < srv->n_loops; i++)
        loop_wake(&srv->loops[i]);
}

static void on_signal(server *srv, int signum)
{
    if (signum == SIGHUP) {
        server_reload(srv);
        return;
    }
    if (server_draining(srv)) {
        if (signum == SIGINT) {
            log_msg(LOG_WARN, "second SIGINT: exiting without waiting for %u connection(s)",
                    server_active(srv));
            listen_socket_remove_if_ours(srv->env->ls);
            if (srv->env->qgs_ls != NULL)
                listen_socket_remove_if_ours(srv->env->qgs_ls);
            (void)log_flush(1000);
            _exit(1);
        }
        log_msg(LOG_INFO, "%s again: still draining %u connection(s)", strsignal(signum),
                server_active(srv));
        return;
    }
    server_start_drain(srv, signum);
}

static void on_signalfd(server *srv)
{
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

/* /healthz and the systemd watchdog: the oldest turn of any loop, so one
 * stuck loop stops both. */
static void server_heartbeat(server *srv, uint64_t now)
{
    uint64_t oldest = now;
    for (unsigned i = 0; i < srv->n_loops; i++) {
        uint64_t b = atomic_load_explicit(&srv->loops[i].beat_ms, memory_order_relaxed);
        if (b < oldest)
            oldest = b;
    }
    /* beat_ms is on our clock; /healthz compares with daemon_mono_ms(). */
    uint64_t age = now - oldest;
    uint64_t d = daemon_mono_ms();
    atomic_store(&srv->env->shared->heartbeat_ms, d > age ? d - age : 0);
    throttle_flush(srv, now, false);
    if (srv->watchdog && age < 2u * srv->heartbeat_period_ms + HEARTBEAT_MS)
        (void)sdnotify_send(false, "WATCHDOG=1");
}

/* ---- the loops ---------------------------------------------------------- */

/* While draining: replies nobody reads are not waited for. */
static void loop_drain_sweep(loop *lp)
{
    conn *next;
    for (conn *c = lp->conns; c != NULL; c = next) {
        next = c->next;
        if (c->cut)
            conn_close(c);
    }
}

static bool loop_finished(loop *lp)
{
    server *srv = lp->srv;
    if (!server_draining(srv) || lp->conns != NULL || lp->jobs > 0)
        return false;
    if (lp->index != 0)
        return true;
    /* Loop 0 stays for the signals and the drain deadline until the others
     * are done. */
    return atomic_load(&srv->loops_running) == 1;
}

static int loop_timeout(const loop *lp)
{
    const server *srv = lp->srv;
    uint64_t until = lp->now_ms + HEARTBEAT_MS;
    if (lp->index == 0) {
        if (srv->next_heartbeat_ms < until)
            until = srv->next_heartbeat_ms;
        if (srv->drain_deadline_ms != 0 && srv->drain_deadline_ms < until)
            until = srv->drain_deadline_ms;
    } else if (lp->now_ms + srv->heartbeat_period_ms < until) {
        until = lp->now_ms + srv->heartbeat_period_ms;
    }
    if (lp->n_timers > 0 && lp->timers[0]->deadline_ms < until)
        until = lp->timers[0]->deadline_ms;
    if (lp->accept_paused_until != 0 && lp->accept_paused_until < until)
        until = lp->accept_paused_until;
    return until <= lp->now_ms ? 0 : (int)(until - lp->now_ms);
}

static void loop_run(loop *lp)
{
    server *srv = lp->srv;
    struct epoll_event evs[EVENTS_MAX];
    bool drained_seen = false;
    for (;;) {
        lp->now_ms = mono_ms();
        atomic_store_explicit(&lp->beat_ms, lp->now_ms, memory_order_relaxed);
        while (lp->n_timers > 0 && lp->timers[0]->deadline_ms <= lp->now_ms) {
            conn *c = lp->timers[0];
            timer_stop(c);
            conn_on_timer(c);
        }
        if (lp->accept_paused_until != 0 && lp->now_ms >= lp->accept_paused_until) {
            lp->accept_paused_until = 0;
            if (!server_draining(srv))
                loop_watch_listeners(lp, true);
        }
        if (lp->index == 0) {
            if (lp->now_ms >= srv->next_heartbeat_ms) {
                server_heartbeat(srv, lp->now_ms);
                srv->next_heartbeat_ms = lp->now_ms + srv->heartbeat_period_ms;
            }
            if (srv->drain_deadline_ms != 0 && lp->now_ms >= srv->drain_deadline_ms)
                on_drain_timeout(srv);
        }
        if (server_draining(srv) && !drained_seen) {
            drained_seen = true;
            loop_drain_sweep(lp);
        }
        loop_reap(lp);
        if (loop_finished(lp))
            break;
        loop_metrics_flush(lp); /* before waiting: what the last batch and the timers did */
        int n = epoll_wait(lp->ep, evs, EVENTS_MAX, loop_timeout(lp));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_ERROR, "epoll_wait: %s", strerror(errno));
            _exit(1); /* cannot happen with a valid epoll fd; never spin */
        }
        lp->now_ms = mono_ms();
        for (int i = 0; i < n; i++) {
            watch *w = evs[i].data.ptr;
            switch (w->kind) {
            case WATCH_CONN: {
                conn *c = (conn *)w;
                if (c->fd >= 0) /* not closed earlier in this batch */
                    conn_on_event(c, evs[i].events);
                break;
            }
            case WATCH_LISTENER:
                if (server_draining(srv)) {
                    /* Taken off at the drain, but watched again by a
                     * pause that ended just then: off for good, or the
                     * level-triggered listener would spin this loop. */
                    loop_watch_listeners(lp, false);
                    break;
                }
                for (unsigned k = 0; k < ACCEPT_BATCH; k++)
                    if (!loop_accept_one(lp, (const listener *)w))
                        break;
                break;
            case WATCH_WAKE: {
                uint64_t v;
                ssize_t r = read(lp->wake_fd, &v, sizeof v);
                (void)r;
                loop_take_done(lp);
                break;
            }
            case WATCH_SIGNAL:
                on_signalfd(srv);
                break;
            }
        }
        loop_reap(lp);
    }
    loop_metrics_flush(lp);
    if (lp->index != 0) {
        atomic_fetch_sub(&srv->loops_running, 1);
        loop_wake(&srv->loops[0]);
    }
}

static void *loop_main(void *arg)
{
    loop *lp = arg;
    char name[16];
    snprintf(name, sizeof name, "sqh-loop-%u", lp->index);
    (void)pthread_setname_np(pthread_self(), name);
    loop_run(lp);
    return NULL;
}

/* ---- entry point ------------------------------------------------------- */

static int loop_init(server *srv, loop *lp, unsigned index)
{
    lp->srv = srv;
    lp->index = index;
    lp->ep = lp->wake_fd = -1;
    lp->wake_watch.kind = WATCH_WAKE;
    lp->ep = epoll_create1(EPOLL_CLOEXEC);
    lp->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (lp->ep < 0 || lp->wake_fd < 0) {
        log_msg(LOG_ERROR, "event loop %u: %s", index, strerror(errno));
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &lp->wake_watch};
    if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, lp->wake_fd, &ev) != 0)
        goto fail;
    for (unsigned j = 0; j < srv->n_listeners; j++) {
        /* Exclusive: a new connection wakes one waiting loop, not all. */
        ev = (struct epoll_event){.events = EPOLLIN | EPOLLEXCLUSIVE,
                                  .data.ptr = &srv->listeners[j].w};
        if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, srv->listeners[j].fd, &ev) != 0) {
            log_msg(LOG_ERROR, "cannot use the %s: %s", srv->listeners[j].what,
                    strerror(errno));
            return -1;
        }
    }
    if (index == 0) {
        ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &srv->sig_watch};
        if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, srv->sig_fd, &ev) != 0)
            goto fail;
    }
    atomic_store(&lp->beat_ms, mono_ms());
    return 0;
fail:
    log_msg(LOG_ERROR, "event loop %u: epoll_ctl: %s", index, strerror(errno));
    return -1;
}

static void loop_free(loop *lp)
{
    /* Every connection is closed by now (their buffers freed with them). */
    for (unsigned i = 0; i < lp->n_chunks; i++)
        free(lp->chunks[i]);
    free(lp->chunks);
    free(lp->timers);
    if (lp->ep >= 0)
        close(lp->ep);
    if (lp->wake_fd >= 0)
        close(lp->wake_fd);
    pthread_mutex_destroy(&lp->done_lock);
}

static int server_add_listener(server *srv, int fd, bool qgs, const char *what)
{
    /* Several loops accept on it: whoever loses the race must get EAGAIN,
     * never block. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        log_msg(LOG_ERROR, "cannot use the %s: %s", what, strerror(errno));
        return -1;
    }
    listener *l = &srv->listeners[srv->n_listeners++];
    l->w.kind = WATCH_LISTENER;
    l->fd = fd;
    l->qgs = qgs;
    l->what = what;
    return 0;
}

static void sum_stats(server_stats *to, const server_stats *s)
{
    to->accepted += s->accepted;
    to->replies += s->replies;
    to->closed_no_reply += s->closed_no_reply;
    to->partial_writes += s->partial_writes;
    to->rejected_limit += s->rejected_limit;
    to->rejected_peer_limit += s->rejected_peer_limit;
    to->rejected_acl += s->rejected_acl;
    to->rejected_ratelimit += s->rejected_ratelimit;
    to->rejected_unread += s->rejected_unread;
    to->dropped_oversize += s->dropped_oversize;
    to->dropped_deadline += s->dropped_deadline;
    to->dropped_truncated += s->dropped_truncated;
    to->dropped_peer_gone += s->dropped_peer_gone;
    to->dropped_io += s->dropped_io;
    to->closed_empty += s->closed_empty;
    to->reloads += s->reloads;
}

int server_run(const server_env *env)
{
    int exit_code = 1;
    unsigned started = 0;
    server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        log_msg(LOG_ERROR, "out of memory");
        return 1;
    }
    memset(env->stats, 0, sizeof *env->stats);
    srv->env = env;
    srv->sig_fd = -1;
    srv->sig_watch.kind = WATCH_SIGNAL;
    srv->cfg = env->cfg;
    srv->metrics = env->metrics;
    srv->euid = geteuid();
    pthread_rwlock_init(&srv->cfg_lock, NULL);
    pthread_mutex_init(&srv->share_lock, NULL);
    pthread_mutex_init(&srv->throttle_lock, NULL);
    for (unsigned i = 0; i < PEER_CACHE_SLOTS; i++) {
        pthread_mutex_init(&srv->cache_locks[i], NULL);
        srv->peer_cache[i].pidfd = -1;
    }
    /* pidfd_open(2) of ourselves: Linux >= 5.3 (else no cache: /proc is
     * read for every connection that needs it). */
    int self_fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    srv->pidfd_ok = self_fd >= 0;
    if (self_fd >= 0)
        close(self_fd);
    pthread_mutex_init(&srv->pool_lock, NULL);
    pthread_cond_init(&srv->pool_cond, NULL);
    srv->slots = conncount_new();
    srv->unread = conncount_new();
    srv->n_loops = env->workers == 0 ? 1 : env->workers > LOOPS_MAX ? LOOPS_MAX : env->workers;
    srv->loops = calloc(srv->n_loops, sizeof *srv->loops);
    if (srv->slots == NULL || srv->unread == NULL || srv->loops == NULL) {
        log_msg(LOG_ERROR, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < srv->n_loops; i++) {
        srv->loops[i].ep = srv->loops[i].wake_fd = -1;
        pthread_mutex_init(&srv->loops[i].done_lock, NULL);
    }
    srv->reply_max = SERVICE_REPLY_MAX(env->cfg->max_buf_size);
    srv->inline_aesm = service_nonblocking(env->svc);
    srv->inline_qgs = env->qgs != NULL && env->qgs->nonblocking;
    /* Our own network namespace: a client in it (the host's processes when
     * we run with hostNetwork, or our own pod) is told apart by uid. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    srv->own_netns_ok = probe >= 0 && peer_netns_cookie(probe, &srv->own_netns) == PEER_OK;
    if (probe >= 0)
        close(probe);
    if (!srv->own_netns_ok)
        log_msg(LOG_WARN, "SO_NETNS_COOKIE is not available (Linux < 5.14): pods of the same "
                          "uid without hostPID share one set of per-peer limits");

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
    /* The listeners are ours from here on (closed at the end). The
     * backlog was set by listen(2) in listen.c (or by systemd). */
    if (server_add_listener(srv, env->ls->fd, false, "listening socket") != 0)
        goto out;
    env->ls->fd = -1;
    if (env->qgs_ls != NULL) {
        if (server_add_listener(srv, env->qgs_ls->fd, true, "QGS socket") != 0)
            goto out;
        env->qgs_ls->fd = -1;
    }
    if (env->qgs_vsock_fd >= 0 &&
        server_add_listener(srv, env->qgs_vsock_fd, true, "QGS vsock") != 0)
        goto out;
    for (unsigned i = 0; i < srv->n_loops; i++)
        if (loop_init(srv, &srv->loops[i], i) != 0)
            goto out;

    /* Heartbeat for /healthz and the systemd watchdog (WatchdogSec=): a
     * stuck loop stops both. */
    uint64_t wd_usec = 0;
    srv->heartbeat_period_ms = HEARTBEAT_MS;
    if (sdnotify_watchdog_usec(false, &wd_usec) > 0 && wd_usec > 0) {
        srv->watchdog = true;
        uint64_t half_ms = wd_usec / 2000u;
        if (half_ms < srv->heartbeat_period_ms)
            srv->heartbeat_period_ms =
                half_ms < HEARTBEAT_MIN_MS ? HEARTBEAT_MIN_MS : (unsigned)half_ms;
    }
    atomic_store(&env->shared->heartbeat_ms, daemon_mono_ms());
    srv->next_heartbeat_ms = mono_ms() + srv->heartbeat_period_ms;

    /* Backend calls that may wait run on workers, never on a loop. */
    bool need_pool = !srv->inline_aesm || (env->qgs != NULL && !srv->inline_qgs);
    if (need_pool) {
        unsigned n = env->workers == 0 ? 1 : env->workers;
        srv->pool_threads = calloc(n, sizeof *srv->pool_threads);
        for (unsigned i = 0; srv->pool_threads != NULL && i < n; i++) {
            if (pthread_create(&srv->pool_threads[i], NULL, pool_main, srv) != 0)
                break;
            srv->n_pool++;
        }
        if (srv->n_pool == 0) {
            log_msg(LOG_ERROR, "cannot start the worker threads: %s", strerror(errno));
            goto out;
        }
    }

    (void)sdnotify_sendf(false, "READY=1\nSTATUS=serving %s", env->cfg->socket_path);
    if (srv->watchdog)
        (void)sdnotify_send(false, "WATCHDOG=1");

    atomic_store(&srv->loops_running, 1);
    for (started = 1; started < srv->n_loops; started++) {
        atomic_fetch_add(&srv->loops_running, 1);
        if (pthread_create(&srv->loops[started].thread, NULL, loop_main,
                           &srv->loops[started]) != 0) {
            atomic_fetch_sub(&srv->loops_running, 1);
            log_msg(LOG_WARN, "started %u of %u event loops: %s", started, srv->n_loops,
                    strerror(errno));
            break;
        }
        srv->loops[started].thread_started = true;
    }
    loop_run(&srv->loops[0]);
    for (unsigned i = 1; i < srv->n_loops; i++)
        if (srv->loops[i].thread_started)
            pthread_join(srv->loops[i].thread, NULL);
    log_msg(LOG_INFO, "drained: every queued request answered, exiting");
    exit_code = 0;
out:
    if (srv->n_pool > 0) {
        pthread_mutex_lock(&srv->pool_lock);
        srv->pool_stop = true;
        pthread_cond_broadcast(&srv->pool_cond);
        pthread_mutex_unlock(&srv->pool_lock);
        for (unsigned i = 0; i < srv->n_pool; i++)
            pthread_join(srv->pool_threads[i], NULL);
    }
    free(srv->pool_threads);
    for (unsigned i = 0; srv->loops != NULL && i < srv->n_loops; i++) {
        sum_stats(env->stats, &srv->loops[i].stats);
        loop_free(&srv->loops[i]);
    }
    throttle_flush(srv, mono_ms(), true);
    /* The QGS vsock descriptor stays main's. */
    for (unsigned j = 0; j < srv->n_listeners; j++)
        if (srv->listeners[j].fd != env->qgs_vsock_fd)
            close(srv->listeners[j].fd);
    if (srv->sig_fd >= 0)
        close(srv->sig_fd);
    conncount_free(srv->slots);
    conncount_free(srv->unread);
    pthread_rwlock_destroy(&srv->cfg_lock);
    pthread_mutex_destroy(&srv->share_lock);
    pthread_mutex_destroy(&srv->throttle_lock);
    for (unsigned i = 0; i < PEER_CACHE_SLOTS; i++) {
        if (srv->peer_cache[i].pidfd >= 0)
            close(srv->peer_cache[i].pidfd);
        pthread_mutex_destroy(&srv->cache_locks[i]);
    }
    pthread_mutex_destroy(&srv->pool_lock);
    pthread_cond_destroy(&srv->pool_cond);
    free(srv->loops);
    free(srv);
    return exit_code;
}
