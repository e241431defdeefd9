/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's metric set (docs/operations.md "Metrics"), on top of the
 * generic registry in metrics.h. Names are a stable interface: dashboards
 * and alerts depend on them.
 *
 *   sgx_quote_helper_requests_total{op,result}           counter
 *   sgx_quote_helper_request_duration_seconds{op}        histogram
 *   sgx_quote_helper_connections_active                  gauge
 *   sgx_quote_helper_connections_rejected_total{reason}  counter
 *       reason: limit | peer_limit | deadline | oversize | acl | ratelimit |
 *       unread (all present from start)
 *   sgx_quote_helper_unread_reply_bytes                  gauge (replies sent, not yet read)
 *   sgx_quote_helper_peers_identified_total{by}          counter
 *       by: self | pod | netns | uid | unknown (all present from start)
 *   sgx_quote_helper_readiness_checks_total              counter (canary runs)
 *   sgx_quote_helper_log_lines_dropped_total             counter
 *   sgx_quote_helper_backend_ready                       gauge 0/1
 *   sgx_quote_helper_backend_info{provider,cert_type}    gauge 1 (hardware backend)
 *   sgx_quote_helper_qe_svn / sgx_quote_helper_pce_svn   gauge (0 until the backend reports)
 *   sgx_quote_helper_build_info{version,backend}         gauge 1
 *   process_start_time_seconds                           gauge (Unix time)
 *
 * `op` is the service's operation name ("GetQuoteEx", ..., "unknown");
 * `result` is the aesm error name sent ("AESM_SUCCESS", ...) or "closed"
 * when the request was dropped without a reply.
 */
#ifndef SGXQH_OPS_OPS_METRICS_H
#define SGXQH_OPS_OPS_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "ops/metrics.h"

typedef enum {
    OPS_REJECT_LIMIT = 0, /* --max-connections reached */
    OPS_REJECT_DEADLINE,  /* the per-connection deadline expired */
    OPS_REJECT_OVERSIZE,  /* the length prefix exceeded the request size cap */
    OPS_REJECT_ACL,       /* --allow-uid/--allow-gid */
    OPS_REJECT_RATELIMIT, /* the peer's token bucket was empty */
    OPS_REJECT_PEER_LIMIT, /* --max-connections-per-peer reached */
    OPS_REJECT_UNREAD,     /* the peer's (or all) unread replies at --max-unread-bytes* */
    OPS_REJECT_COUNT_,
} ops_reject_reason;

/* "limit", "deadline", "oversize", "acl", "ratelimit", "peer_limit",
 * "unread". */
const char *ops_reject_reason_name(ops_reject_reason r);

/* What identified a peer for the per-peer limits, in the documented
 * fallback order (docs/operations.md "Multi-tenant limits"). */
typedef enum {
    OPS_ID_SELF = 0, /* the daemon's own uid in its own PID namespace (its probe) */
    OPS_ID_POD,      /* pod UID from /proc/PID/cgroup (needs a visible pid: hostPID) */
    OPS_ID_NETNS,    /* SO_NETNS_COOKIE of the accepted socket (another netns) */
    OPS_ID_UID,      /* SO_PEERCRED uid */
    OPS_ID_UNKNOWN,  /* no SO_PEERCRED */
    OPS_ID_COUNT_,
} ops_id_source;

/* "self", "pod", "netns", "uid", "unknown". */
const char *ops_id_source_name(ops_id_source s);

/* Seconds: from 0.5 ms (sim backend) to 15 s (the client's IPC budget). */
#define OPS_LATENCY_BUCKETS \
    {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15}

typedef struct {
    metrics_registry *reg;
    metric_family *requests;
    metric_family *duration;
    metric_family *active;
    metric_family *rejected;
    metric_family *backend_ready;
    metric_family *backend_info;
    char backend_info_last[2][16]; /* labels of the series now at 1 */
    metric_family *qe_svn;
    metric_family *pce_svn;
    metric_family *build_info;
    metric_family *start_time;
    metric_family *log_dropped;
    metric_family *unread_bytes;
    metric_family *identified;
    metric_family *ready_checks;
    _Atomic unsigned long long log_dropped_seen; /* total already added to log_dropped */
} ops_metrics;

/* Registers everything. start_time_unix: process start (Unix seconds). */
int ops_metrics_init(ops_metrics *m, const char *version, const char *backend_name,
                     double start_time_unix);
void ops_metrics_free(ops_metrics *m);

/* Several of the updates below in a row under one lock (metrics_hold). */
void ops_metrics_hold(ops_metrics *m);
void ops_metrics_release(ops_metrics *m);
/* n connections opened (n > 0) or closed (n < 0) at once. */
void ops_metrics_connections_delta(ops_metrics *m, long n);
/* n more peers identified by `by`. */
void ops_metrics_identified_n(ops_metrics *m, ops_id_source by, unsigned long n);

/* One answered (or dropped) request. */
void ops_metrics_request(ops_metrics *m, const char *op, const char *result, double seconds);
void ops_metrics_connection_opened(ops_metrics *m);
void ops_metrics_connection_closed(ops_metrics *m);
void ops_metrics_rejected(ops_metrics *m, ops_reject_reason reason);
void ops_metrics_backend_ready(ops_metrics *m, bool ready);
/* The hardware backend's quote provider ("intel", "azure", "unknown",
 * "none") and the certification data type of its quotes ("5", "3", or
 * "unknown"): one series at 1, the previous one set to 0. Called with the
 * readiness lock held (one caller at a time). */
void ops_metrics_backend_info(ops_metrics *m, const char *provider, const char *cert_type);
/* Reply bytes sent and not yet read by their clients, all peers. */
void ops_metrics_unread_bytes(ops_metrics *m, double bytes);
void ops_metrics_identified(ops_metrics *m, ops_id_source by);
/* One readiness canary run (coalesced /readyz calls count once). */
void ops_metrics_readiness_check(ops_metrics *m);
/* SVNs as reported by the backend (QE ISVSVN, PCE ISVSVN). */
void ops_metrics_svn(ops_metrics *m, unsigned qe_svn, unsigned pce_svn);

/* Log lines dropped because stderr did not keep up: total_dropped is the
 * sink's running total (daemon/log.h); the counter catches up to it. Safe
 * from several threads. */
void ops_metrics_log_dropped(ops_metrics *m, unsigned long long total_dropped);

/* The /metrics body (metrics_render). */
int ops_metrics_render(ops_metrics *m, char **text, size_t *len);

#endif
