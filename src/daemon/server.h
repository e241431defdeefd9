/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection server: --workers event loops share the listening
 * sockets; each accepts, checks each peer (SO_PEERCRED: ACL, connection
 * limit, rate limit), reads one length-prefixed request per connection
 * under the configured limits, runs the service (inline when the backend
 * never waits, else on worker threads), writes the one response frame in a
 * single syscall and closes (aesm-protocol §1.3, §2, §9.3). Every request
 * and every rejection is counted (ops_metrics) and logged once. SIGTERM
 * drains, SIGHUP reloads the settings, and systemd hears READY/STOPPING/
 * WATCHDOG (sd_notify).
 */
#ifndef SGXQH_DAEMON_SERVER_H
#define SGXQH_DAEMON_SERVER_H

#include <stdint.h>

#include "daemon/config.h"
#include "daemon/http.h"
#include "daemon/listen.h"
#include "daemon/service.h"
#include "qgs/qgs_service.h"
#include "ops/ops_metrics.h"
#include "ops/ratelimit.h"

/* Counters for the "stop" log line: each loop counts its own, summed at
 * the end. */
typedef struct {
    uint64_t accepted;          /* connections taken on */
    uint64_t replies;           /* responses written in full */
    uint64_t closed_no_reply;   /* service said close (unknown/unparsable request) */
    uint64_t partial_writes;    /* responses that did not fit one write() */
    uint64_t rejected_limit;    /* closed at once: --max-connections reached */
    uint64_t rejected_peer_limit; /* closed at once: --max-connections-per-peer reached */
    uint64_t rejected_acl;      /* closed at once: --allow-uid/--allow-gid */
    uint64_t rejected_ratelimit; /* answered AESM_BUSY: the peer's bucket was empty */
    uint64_t rejected_unread;   /* closed unanswered: the peer's unread replies at budget */
    uint64_t dropped_oversize;  /* length prefix above --max-request-bytes */
    uint64_t dropped_deadline;  /* --io-timeout-ms passed mid-read or mid-write */
    uint64_t dropped_truncated; /* EOF before the whole request arrived */
    uint64_t dropped_peer_gone; /* peer closed before the response went out */
    uint64_t dropped_io;        /* other socket errors */
    uint64_t closed_empty;      /* connected and closed without sending a byte */
    uint64_t reloads;           /* SIGHUPs that applied new settings */
} server_stats;

typedef struct {
    daemon_config *cfg; /* the live settings; SIGHUP updates them in place */
    int argc;           /* argv as given at start: SIGHUP loads the settings */
    char **argv;        /* again from argv, the environment and --config */
    service *svc;
    listen_socket *ls;
    ops_metrics *metrics;
    ratelimit *rl;
    daemon_shared *shared;
    server_stats *stats;
    unsigned workers;   /* event loops; as many worker threads for a backend that may wait */
    /* TDX QGS (docs/tdx.md): its service backend and listeners; NULL / -1
     * when --qgs-socket / --qgs-vsock-port are not given. */
    const qgs_backend *qgs;
    listen_socket *qgs_ls;
    int qgs_vsock_fd;
} server_env;

/* Blocks SIGTERM, SIGINT and SIGHUP in the calling thread, so that every
 * thread created afterwards (event loops, workers, HTTP) inherits the mask; the
 * server reads them from a signalfd. Call first thing in main. 0 or -1. */
int server_block_signals(void);

/* Serves until SIGTERM/SIGINT, then stops accepting (removing the socket
 * path if it is still ours), serves what is already queued and returns the
 * process exit status (0 after a clean drain). Takes over env->ls->fd. */
int server_run(const server_env *env);

#endif
