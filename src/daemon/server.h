/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection server: a libuv loop that accepts on the listening socket,
 * reads one length-prefixed request per connection under the configured
 * limits, runs the service on the worker pool, writes the one response
 * frame in a single syscall and closes (aesm-protocol §1.3, §2, §9.3).
 */
#ifndef SGXQH_DAEMON_SERVER_H
#define SGXQH_DAEMON_SERVER_H

#include <stdint.h>

#include "daemon/config.h"
#include "daemon/listen.h"
#include "daemon/service.h"

/* Counters the server keeps; the metrics endpoint (operations issue)
 * exports them. Only the loop thread writes them. */
typedef struct {
    uint64_t accepted;          /* connections taken on */
    uint64_t replies;           /* responses written in full */
    uint64_t closed_no_reply;   /* service said close (unknown/unparsable request) */
    uint64_t partial_writes;    /* responses that did not fit one write() */
    uint64_t rejected_limit;    /* closed at once: --max-connections reached */
    uint64_t dropped_oversize;  /* length prefix above --max-request-bytes */
    uint64_t dropped_deadline;  /* --io-timeout-ms passed mid-read or mid-write */
    uint64_t dropped_truncated; /* EOF before the whole request arrived */
    uint64_t dropped_peer_gone; /* peer closed before the response went out */
    uint64_t dropped_io;        /* other socket errors */
    uint64_t closed_empty;      /* connected and closed without sending a byte */
} server_stats;

/* Serves until SIGTERM/SIGINT, then stops accepting (removing the socket
 * path if it is still ours), serves what is already queued and returns the
 * process exit status (0 after a clean drain). Takes over ls->fd. */
int server_run(const daemon_config *cfg, service *svc, listen_socket *ls, server_stats *stats);

#endif
