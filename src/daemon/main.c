/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgx-quote-helperd: the node-local quote service (DESIGN.md). This file
 * only assembles the pieces in order — flags (config.c), quoting backend
 * (src/backend), service (quote_ex semantics, service.c), listening socket
 * (listen.c) and the event loop (server.c) — and tears them down again.
 * Foreground, logs to stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "backend/backend.h"
#include "daemon/config.h"
#include "daemon/listen.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/service.h"
#include "sgxqh/aesm_error.h"
#include "sgxqh_config.h"

/* File descriptors kept aside for the listener, logs and the backend. */
#define FD_HEADROOM 64

static void ignore_sigpipe(void)
{
    /* aesm §1.2: a client that hangs up early must not kill the daemon. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}

/* libuv sizes its worker pool from UV_THREADPOOL_SIZE when the first work
 * item is queued. An explicit --workers wins over the environment. */
static unsigned setup_workers(unsigned requested)
{
    char buf[16];
    if (requested == 0) {
        const char *env = getenv("UV_THREADPOOL_SIZE");
        if (env != NULL && *env != '\0')
            return (unsigned)strtoul(env, NULL, 10);
        /* One per CPU: backend work is CPU-bound (sim) or serialized (hw),
         * so more threads only add context switches (bench quote). */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        requested = cpus > 2 ? (unsigned)cpus : 2u;
    }
    snprintf(buf, sizeof buf, "%u", requested);
    setenv("UV_THREADPOOL_SIZE", buf, 1);
    return requested;
}

/* Every connection costs a descriptor: raise the soft limit as far as the
 * hard limit allows, and lower --max-connections if it still does not fit. */
static void fit_connection_limit(daemon_config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)cfg->max_connections + FD_HEADROOM;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want) {
        uint32_t fit = rl.rlim_cur > 2 * FD_HEADROOM ? (uint32_t)(rl.rlim_cur - FD_HEADROOM) : 16;
        log_msg(LOG_WARN, "open-file limit %llu is too low for --max-connections %u; using %u",
                (unsigned long long)rl.rlim_cur, cfg->max_connections, fit);
        cfg->max_connections = fit;
    }
}

int main(int argc, char **argv)
{
    int exit_code = 1;
    backend *b = NULL;
    service *svc = NULL;
    listen_socket ls = {.fd = -1};
    bool listening = false;
    char err[512] = "";
    daemon_config cfg;

    daemon_config_default(&cfg);
    switch (daemon_config_parse_args(&cfg, argc, argv)) {
    case CONFIG_RUN:
        break;
    case CONFIG_EXIT_OK:
        return 0;
    default:
        return 2;
    }
    log_setup(cfg.log_fmt, cfg.log_lvl);
    ignore_sigpipe();
    unsigned workers = setup_workers(cfg.workers);
    fit_connection_limit(&cfg);

    b = backend_open(&cfg.backend, err, sizeof err);
    if (b == NULL) {
        log_msg(LOG_ERROR, "backend: %s", err[0] != '\0' ? err : "cannot open the backend");
        goto out;
    }
    /* Warm up and report readiness now rather than at the first client. */
    aesm_error_t health = b->ops->health(b);
    if (health != AESM_SUCCESS)
        log_msg(LOG_WARN, "backend %s is not ready: %s (%d) %s", b->ops->name,
                aesm_error_name(health), health, aesm_error_hint(health));

    service_config scfg;
    service_config_default(&scfg);
    scfg.max_buf_size = cfg.max_buf_size;
    svc = service_new(b, &scfg);
    if (svc == NULL) {
        log_msg(LOG_ERROR, "cannot create the service (out of memory?)");
        goto out;
    }

    if (listen_socket_open(&ls, cfg.socket_path, cfg.socket_mode,
                           cfg.socket_group_set ? (long long)cfg.socket_group : -1, err,
                           sizeof err) != 0) {
        log_msg(LOG_ERROR, "socket: %s", err);
        goto out;
    }
    listening = true;

    log_record r;
    log_begin(&r, LOG_INFO, "start");
    log_str(&r, "version", SGXQH_VERSION);
    log_str(&r, "socket", cfg.socket_path);
    log_str(&r, "backend", b->ops->name);
    log_str(&r, "backend_ready", health == AESM_SUCCESS ? "yes" : aesm_error_name(health));
    log_uint(&r, "workers", workers);
    log_uint(&r, "max_request_bytes", cfg.max_request_bytes);
    log_uint(&r, "io_timeout_ms", cfg.io_timeout_ms);
    log_uint(&r, "max_connections", cfg.max_connections);
    log_uint(&r, "max_buf_size", cfg.max_buf_size);
    log_int(&r, "pid", (long long)getpid());
    log_emit(&r);

    server_stats stats;
    exit_code = server_run(&cfg, svc, &ls, &stats);

    log_begin(&r, LOG_INFO, "stop");
    log_int(&r, "exit_code", exit_code);
    log_uint(&r, "accepted", stats.accepted);
    log_uint(&r, "replies", stats.replies);
    log_uint(&r, "closed_no_reply", stats.closed_no_reply);
    log_uint(&r, "rejected_limit", stats.rejected_limit);
    log_uint(&r, "dropped_oversize", stats.dropped_oversize);
    log_uint(&r, "dropped_deadline", stats.dropped_deadline);
    log_uint(&r, "dropped_truncated", stats.dropped_truncated);
    log_uint(&r, "dropped_peer_gone", stats.dropped_peer_gone);
    log_uint(&r, "partial_writes", stats.partial_writes);
    log_emit(&r);
out:
    if (listening)
        listen_socket_remove_if_ours(&ls);
    if (ls.fd >= 0)
        close(ls.fd);
    if (svc != NULL)
        service_free(svc);
    if (b != NULL)
        backend_close(b);
    return exit_code;
}
