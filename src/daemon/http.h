/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operations HTTP endpoint (--http-listen ADDR:PORT, our own HTTP/1.1
 * server in http.c, its own threads, never the event loop's):
 *   GET /metrics  Prometheus text 0.0.4 (src/ops/ops_metrics.h);
 *   GET /healthz  200 while the event loop's heartbeat is recent;
 *   GET /readyz   200 when the backend is healthy and the canary through
 *                 the service works (ready.h), 503 with the reason
 *                 otherwise, and 503 while the daemon drains on SIGTERM.
 * Anything else: 404; methods other than GET/HEAD: 405; a malformed or
 * oversized request head: 400, 414, 431 or 505 (httpreq.h).
 */
#ifndef SGXQH_DAEMON_HTTP_H
#define SGXQH_DAEMON_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/ready.h"
#include "ops/ops_metrics.h"

/* What the loop shares with the HTTP threads. */
typedef struct {
    _Atomic uint64_t heartbeat_ms; /* CLOCK_MONOTONIC ms of the loop's last tick */
    _Atomic bool draining;         /* SIGTERM received */
} daemon_shared;

/* /healthz fails when the loop has not ticked for this long. The loop
 * ticks every second (more often under a short systemd watchdog). */
#define HTTP_HEALTH_MAX_AGE_MS 5000u
/* /readyz reuses a check younger than this; /metrics one younger than
 * HTTP_METRICS_READY_MAX_AGE_MS, so polling cannot make the daemon quote
 * more than once a second. */
#define HTTP_READY_MAX_AGE_MS 1000u
#define HTTP_METRICS_READY_MAX_AGE_MS 10000u

uint64_t daemon_mono_ms(void);

typedef struct http_server http_server;

/* Binds ADDR:PORT (PORT 0: any free port) and starts serving. bound gets
 * the address actually bound ("127.0.0.1:9464", "[::]:9464"). NULL on
 * failure with a sentence in err. */
http_server *http_start(const char *listen, ops_metrics *metrics, readiness *ready,
                        daemon_shared *shared, char *bound, size_t bound_cap, char *err,
                        size_t err_cap);
void http_stop(http_server *h);

#endif
