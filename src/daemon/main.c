/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgx-quote-helperd: the node-local quote service (DESIGN.md). This file
 * only assembles the pieces in order — settings (config.c), quoting backend
 * (src/backend, optionally behind the --fault-file wrapper), service
 * (quote_ex semantics, service.c), metrics, rate limiter and readiness
 * canary (src/ops, ready.c), the listening socket (listen.c, or systemd's),
 * the HTTP endpoint (http.c) and the event loop (server.c) — and tears them
 * down again. Foreground, logs to stderr.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#include "backend/backend.h"
#include "backend/backend_hw.h"
#include "daemon/config.h"
#include "daemon/fault.h"
#include "daemon/http.h"
#include "daemon/listen.h"
#include "daemon/log.h"
#include "daemon/ready.h"
#include "daemon/server.h"
#include "daemon/service.h"
#include "ops/ops_metrics.h"
#include "ops/ratelimit.h"
#include "qgs/qgs_service.h"
#include "sim/sim.h"
#include "sgxqh/aesm_error.h"
#include "sgxqh_config.h"

static void ignore_sigpipe(void)
{
    /* aesm §1.2: a client that hangs up early must not kill the daemon. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}

/* Event loops (and, for a backend that may wait, as many worker threads):
 * --workers, else one per CPU this process may run on, at least 2. One per
 * CPU measured best (bench quote): the simulated backend's work is CPU
 * bound, the hardware one is serialized, so more threads only add context
 * switches. */
static unsigned setup_workers(unsigned requested)
{
    if (requested != 0)
        return requested;
    cpu_set_t set;
    long cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                           : sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 2 ? (unsigned)cpus : 2u;
}

/* The hardware backend's own lines (QPL, QCNL, Intel errors) go through our
 * log, so they are JSON like everything else. */
static void hw_logger(void *ctx, const char *level, const char *message)
{
    (void)ctx;
    log_level lv = LOG_INFO;
    if (strcmp(level, "error") == 0)
        lv = LOG_ERROR;
    else if (strcmp(level, "warn") == 0)
        lv = LOG_WARN;
    if (!log_enabled(lv))
        return;
    logfmt_record r;
    logfmt_begin(&r, lv, "backend");
    logfmt_str(&r, "backend", "hw");
    logfmt_str(&r, "msg", message);
    log_emit(&r);
}

/* The simulated platform's identity, so an operator sees a re-keying: the
 * root CA's fingerprint at every start, and a warning for a legacy seed
 * that carries no checksum (docs/simulation.md "The seed file"). */
static void log_sim_platform(backend *inner, const backend_config *bc)
{
    struct sim_platform *p = backend_sim_platform(inner);
    char fp[65];
    if (p == NULL || sim_root_fingerprint(p, fp) != SIM_OK)
        return;
    char seed[4096];
    if (bc->seed_file != NULL)
        snprintf(seed, sizeof seed, "%s", bc->seed_file);
    else
        snprintf(seed, sizeof seed, "%s/seed", bc->state_dir != NULL ? bc->state_dir : "");
    logfmt_record r;
    logfmt_begin(&r, LOG_INFO, "sim_platform");
    logfmt_str(&r, "root_sha256", fp);
    logfmt_str(&r, "seed", seed);
    logfmt_str(&r, "seed_format", sim_seed_is_legacy(p) ? "legacy-raw" : "v1");
    log_emit(&r);
    if (sim_seed_is_legacy(p))
        log_msg(LOG_WARN, "seed %s is a legacy raw 32-byte seed without a checksum: a damaged "
                          "seed would re-key the platform unnoticed; convert it to the v1 "
                          "format (docs/simulation.md \"The seed file\")", seed);
}

/* TDX QGS listeners (docs/tdx.md): the Unix socket (bound privately like
 * the AESM one, published later; or passed by systemd, qgs_activated, which
 * turns QGS on by itself) and the vsock port, over the simulated TD quoting
 * enclave (--backend sim) or Intel's TD quoting library (--backend hw, one
 * context per worker, warmed here). A TDX backend that cannot start stops
 * the daemon rather than answer TDs with errors. 0, or -1 after logging
 * why. */
static int open_qgs_listeners(const daemon_config *cfg, backend *inner, unsigned workers,
                              qgs_backend *qgs, listen_socket *qls, bool qgs_activated,
                              int *vsock_fd)
{
    char err[512];
    if (cfg->qgs_socket == NULL && cfg->qgs_vsock_port == 0 && !qgs_activated)
        return 0;
    struct sim_platform *p = backend_sim_platform(inner);
    if (p != NULL) {
        qgs_backend_sim_init(qgs, p);
    } else if (strcmp(inner->ops->name, "hw") == 0) {
        if (qgs_backend_hw_open(qgs, cfg->backend.hw_lib_dir, workers, err, sizeof err) != 0) {
            log_msg(LOG_ERROR, "QGS (TDX) hardware backend: %s", err);
            return -1;
        }
    } else {
        log_msg(LOG_ERROR, "--qgs-socket/--qgs-vsock-port (or a socket unit's QGS socket, "
                           "FileDescriptorName=qgs) need --backend sim or hw (docs/tdx.md)");
        return -1;
    }
    /* An activated QGS socket wins over --qgs-socket, as the AESM one does
     * over --socket: systemd owns that path. */
    if (!qgs_activated && cfg->qgs_socket != NULL &&
        listen_socket_open(qls, cfg->qgs_socket, cfg->socket_mode,
                           cfg->socket_group_set ? (long long)cfg->socket_group : -1, err,
                           sizeof err) != 0) {
        log_msg(LOG_ERROR, "QGS socket: %s", err);
        return -1;
    }
    if (cfg->qgs_vsock_port != 0) {
        struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
                                 .svm_port = cfg->qgs_vsock_port};
        int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1024) != 0) {
            log_msg(LOG_ERROR, "QGS vsock port %u: %s (is the vhost-vsock / vsock module "
                               "loaded?)", cfg->qgs_vsock_port, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        *vsock_fd = fd;
    }
    return 0;
}

/* The first readiness check (a canary quote), off the main thread. */
static void *first_readiness(void *arg)
{
    char reason[2048];
    (void)pthread_setname_np(pthread_self(), "sqh-warm-up");
    (void)readiness_check(arg, reason, sizeof reason);
    return NULL;
}

/* At exit, the first readiness check gets this long to finish. */
#define WARM_JOIN_S 5

static bool warm_joined(pthread_t warm)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WARM_JOIN_S;
    return pthread_timedjoin_np(warm, NULL, &until) == 0;
}

int main(int argc, char **argv)
{
    int exit_code = 1;
    backend *inner = NULL, *b = NULL;
    service *svc = NULL;
    ratelimit *rl = NULL;
    readiness *ready = NULL;
    http_server *http = NULL;
    ops_metrics metrics;
    bool have_metrics = false;
    listen_socket ls = {.fd = -1};
    listen_socket qls = {.fd = -1};
    char qgs_activated_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 32] = "";
    bool qgs_listening = false;
    int vsock_fd = -1;
    qgs_backend qgs = {0};
    pthread_t warm;
    bool warm_started = false;
    bool listening = false;
    char err[1024] = "";
    daemon_config cfg;
    static daemon_shared shared;

    switch (daemon_config_load(&cfg, argc, argv, err, sizeof err)) {
    case CONFIG_RUN:
        break;
    case CONFIG_EXIT_OK:
        daemon_config_free(&cfg);
        return 0;
    default:
        fprintf(stderr, "sgx-quote-helperd: %s\n", err);
        daemon_config_free(&cfg);
        return 2;
    }
    log_setup(cfg.log_fmt, cfg.log_lvl);
    if (server_block_signals() != 0) {
        log_msg(LOG_ERROR, "cannot block SIGTERM/SIGINT/SIGHUP for the event loop");
        daemon_config_free(&cfg);
        return 1;
    }
    /* From here on lines go through the writer thread: a stderr that does
     * not drain cannot stall the event loop (log.h). */
    if (log_start() != 0)
        log_msg(LOG_WARN, "cannot start the log writer thread; logging directly");
    char unknown[512];
    daemon_config_unknown_env(unknown, sizeof unknown);
    if (unknown[0] != '\0')
        log_msg(LOG_WARN, "ignoring unknown environment variable(s) %s (settings are "
                          DAEMON_ENV_PREFIX "<FLAG>, see --help)", unknown);
    ignore_sigpipe();
    unsigned workers = setup_workers(cfg.workers);
    unsigned long long nofile = 0;
    uint32_t asked = daemon_config_fit_connections(&cfg, &nofile);
    if (asked != 0)
        log_msg(LOG_WARN, "open-file limit %llu is too low for --max-connections %u; using %u",
                nofile, asked, cfg.max_connections);
    struct timespec start;
    clock_gettime(CLOCK_REALTIME, &start);

    backend_hw_set_logger(hw_logger, NULL);
    inner = backend_open(&cfg.backend, err, sizeof err);
    if (inner == NULL) {
        log_msg(LOG_ERROR, "backend: %s", err[0] != '\0' ? err : "cannot open the backend");
        goto out;
    }
    b = inner;
    if (cfg.backend.kind == BACKEND_KIND_AUTO && strcmp(inner->ops->name, "sim") == 0) {
        /* DESIGN.md: a fallback to the simulator is logged loudly. */
        logfmt_record w;
        logfmt_begin(&w, LOG_WARN, "backend");
        logfmt_str(&w, "backend", "sim");
        logfmt_str(&w, "msg", "--backend auto found no /dev/sgx_enclave"
                              ": serving SIMULATED quotes, which prove nothing and are not "
                              "for production");
        logfmt_str(&w, "hint", "on an SGX node check the driver and the device mount "
                               "(sgx-quote doctor); to simulate on purpose, say --backend sim");
        log_emit(&w);
    }
    log_sim_platform(inner, &cfg.backend);
    if (cfg.fault_file != NULL) {
        b = fault_backend_wrap(inner, cfg.fault_file);
        if (b == NULL) {
            log_msg(LOG_ERROR, "out of memory wrapping the backend");
            b = inner;
            goto out;
        }
        log_msg(LOG_WARN, "--fault-file %s: backend calls fail while that file exists "
                          "(testing only)", cfg.fault_file);
    }

    service_config scfg;
    service_config_default(&scfg);
    scfg.max_buf_size = cfg.max_buf_size;
    svc = service_new(b, &scfg);
    if (svc == NULL) {
        log_msg(LOG_ERROR, "cannot create the service (out of memory?)");
        goto out;
    }
    if (ops_metrics_init(&metrics, SGXQH_VERSION, inner->ops->name,
                         (double)start.tv_sec + (double)start.tv_nsec / 1e9) != METRICS_OK) {
        log_msg(LOG_ERROR, "cannot set up the metrics (out of memory?)");
        goto out;
    }
    have_metrics = true;
    ratelimit_config rlc;
    ratelimit_config_default(&rlc);
    rlc.rate = cfg.rate_limit;
    rlc.burst = cfg.rate_burst;
    int rc = 0;
    rl = ratelimit_new(&rlc, NULL, NULL, &rc);
    if (rl == NULL) {
        log_msg(LOG_ERROR, "rate limit: %s", ratelimit_strerror(rc));
        goto out;
    }
    ready = readiness_new(svc, b, inner, &metrics);
    if (ready == NULL) {
        log_msg(LOG_ERROR, "out of memory");
        goto out;
    }
    /* Everything that can fail comes before the socket path is taken
     * (docs/daemon.md "Upgrades and hand-over"): an instance that cannot
     * start must leave the path to the instance already serving it. */
    rc = listen_socket_from_systemd(&ls, cfg.socket_path, &qls, qgs_activated_path,
                                    sizeof qgs_activated_path, err, sizeof err);
    if (rc < 0) {
        log_msg(LOG_ERROR, "%s", err);
        goto out;
    }
    int activated = rc;
    if (!(activated & LISTEN_ACTIVATED_AESM) && listen_socket_open(&ls, cfg.socket_path, cfg.socket_mode,
                                      cfg.socket_group_set ? (long long)cfg.socket_group : -1,
                                      err, sizeof err) != 0) {
        log_msg(LOG_ERROR, "socket: %s", err);
        goto out;
    }
    listening = true;
    if (open_qgs_listeners(&cfg, inner, workers, &qgs, &qls,
                           (activated & LISTEN_ACTIVATED_QGS) != 0, &vsock_fd) != 0)
        goto out;
    qgs_listening = qls.fd >= 0;

    atomic_store(&shared.heartbeat_ms, daemon_mono_ms());
    char http_bound[128] = "";
    if (cfg.http_listen != NULL) {
        http = http_start(cfg.http_listen, &metrics, ready, &shared, http_bound,
                          sizeof http_bound, err, sizeof err);
        if (http == NULL) {
            log_msg(LOG_ERROR, "%s; not starting, the socket path %s is left as it was", err,
                    cfg.socket_path);
            goto out;
        }
    }
    if (listen_socket_publish(&ls, err, sizeof err) != 0) {
        log_msg(LOG_ERROR, "socket: %s", err);
        goto out;
    }
    if (qgs_listening && listen_socket_publish(&qls, err, sizeof err) != 0) {
        log_msg(LOG_ERROR, "QGS socket: %s", err);
        goto out;
    }

    logfmt_record r;
    logfmt_begin(&r, LOG_INFO, "start");
    logfmt_str(&r, "version", SGXQH_VERSION);
    logfmt_str(&r, "socket", cfg.socket_path);
    logfmt_bool(&r, "socket_activated", ls.activated);
    logfmt_str_opt(&r, "socket_private", ls.private_path);
    logfmt_str(&r, "backend", inner->ops->name);
    logfmt_uint(&r, "workers", workers);
    logfmt_uint(&r, "max_request_bytes", cfg.max_request_bytes);
    logfmt_uint(&r, "io_timeout_ms", cfg.io_timeout_ms);
    logfmt_uint(&r, "max_connections", cfg.max_connections);
    logfmt_uint(&r, "max_connections_per_peer", cfg.max_connections_per_peer);
    logfmt_uint(&r, "max_buf_size", cfg.max_buf_size);
    logfmt_str_opt(&r, "http_listen", http_bound);
    logfmt_str_opt(&r, "qgs_socket", qgs_listening ? qls.path : NULL);
    if (qgs_listening)
        logfmt_bool(&r, "qgs_socket_activated", qls.activated);
    if (cfg.qgs_vsock_port != 0)
        logfmt_uint(&r, "qgs_vsock_port", cfg.qgs_vsock_port);
    logfmt_str_opt(&r, "allow_uid", cfg.allow_uid);
    logfmt_str_opt(&r, "allow_gid", cfg.allow_gid);
    if (cfg.rate_limit > 0) {
        logfmt_ms(&r, "rate_limit", cfg.rate_limit);
        logfmt_ms(&r, "rate_burst", cfg.rate_burst);
    }
    logfmt_str_opt(&r, "config", cfg.config_file);
    logfmt_str(&r, "log_level", logfmt_level_name(cfg.log_lvl));
    logfmt_int(&r, "pid", (long long)getpid());
    log_emit(&r);

    /* Warm up and report readiness now rather than at the first client:
     * after "start", so the log never says ready before the listeners are
     * up, and on its own thread, so a slow backend (a PCCS that hangs)
     * never holds up the clients the event loop can already answer. */
    warm_started = pthread_create(&warm, NULL, first_readiness, ready) == 0;
    if (!warm_started)
        (void)first_readiness(ready);

    server_stats stats;
    server_env env = {
        .cfg = &cfg,
        .argc = argc,
        .argv = argv,
        .svc = svc,
        .ls = &ls,
        .metrics = &metrics,
        .rl = rl,
        .shared = &shared,
        .stats = &stats,
        .workers = workers,
        .qgs = qgs_listening || vsock_fd >= 0 ? &qgs : NULL,
        .qgs_ls = qgs_listening ? &qls : NULL,
        .qgs_vsock_fd = vsock_fd,
    };
    exit_code = server_run(&env);

    logfmt_begin(&r, LOG_INFO, "stop");
    logfmt_int(&r, "exit_code", exit_code);
    logfmt_uint(&r, "accepted", stats.accepted);
    logfmt_uint(&r, "replies", stats.replies);
    logfmt_uint(&r, "closed_no_reply", stats.closed_no_reply);
    logfmt_uint(&r, "rejected_limit", stats.rejected_limit);
    logfmt_uint(&r, "rejected_peer_limit", stats.rejected_peer_limit);
    logfmt_uint(&r, "rejected_acl", stats.rejected_acl);
    logfmt_uint(&r, "rejected_ratelimit", stats.rejected_ratelimit);
    logfmt_uint(&r, "dropped_oversize", stats.dropped_oversize);
    logfmt_uint(&r, "dropped_deadline", stats.dropped_deadline);
    logfmt_uint(&r, "dropped_truncated", stats.dropped_truncated);
    logfmt_uint(&r, "dropped_peer_gone", stats.dropped_peer_gone);
    logfmt_uint(&r, "partial_writes", stats.partial_writes);
    logfmt_uint(&r, "reloads", stats.reloads);
    logfmt_uint(&r, "log_lines_dropped", log_dropped_total());
    log_emit(&r);
out:
    if (warm_started && !warm_joined(warm)) {
        /* It is inside the backend: leave without unwinding what it uses. */
        log_msg(LOG_WARN, "the start-up readiness check is still running after %d s; exiting "
                          "without waiting for it", WARM_JOIN_S);
        (void)log_stop(2000);
        _exit(exit_code);
    }
    http_stop(http);
    if (listening)
        listen_socket_remove_if_ours(&ls);
    if (ls.fd >= 0)
        close(ls.fd);
    if (qgs_listening)
        listen_socket_remove_if_ours(&qls);
    if (qls.fd >= 0)
        close(qls.fd);
    if (vsock_fd >= 0)
        close(vsock_fd);
    if (qgs.name != NULL && strcmp(qgs.name, "hw") == 0)
        qgs_backend_hw_close(&qgs);
    readiness_free(ready);
    ratelimit_free(rl);
    if (svc != NULL)
        service_free(svc);
    if (b != NULL)
        backend_close(b); /* the fault wrapper closes inner too */
    else if (inner != NULL)
        backend_close(inner);
    if (have_metrics)
        ops_metrics_free(&metrics);
    daemon_config_free(&cfg);
    /* Bounded: a stderr nobody reads must not keep a stopping daemon. */
    (void)log_stop(2000);
    return exit_code;
}
