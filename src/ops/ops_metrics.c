/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's metric families (ops_metrics.h): registered once at start-up,
 * updated from the accept path (connections, rejections), the request
 * completion path (counts, latency) and backend initialisation (readiness,
 * SVNs); rendered by the HTTP thread for GET /metrics.
 */
#include "ops/ops_metrics.h"

#include <stdio.h>
#include <string.h>

static const char *const REJECT_NAMES[OPS_REJECT_COUNT_] = {
    [OPS_REJECT_LIMIT] = "limit",       [OPS_REJECT_DEADLINE] = "deadline",
    [OPS_REJECT_OVERSIZE] = "oversize", [OPS_REJECT_ACL] = "acl",
    [OPS_REJECT_RATELIMIT] = "ratelimit", [OPS_REJECT_PEER_LIMIT] = "peer_limit",
    [OPS_REJECT_UNREAD] = "unread",
};

static const char *const ID_NAMES[OPS_ID_COUNT_] = {
    [OPS_ID_SELF] = "self", [OPS_ID_POD] = "pod",         [OPS_ID_NETNS] = "netns",
    [OPS_ID_UID] = "uid",   [OPS_ID_UNKNOWN] = "unknown",
};

const char *ops_id_source_name(ops_id_source s)
{
    if ((unsigned)s >= OPS_ID_COUNT_)
        return "unknown";
    return ID_NAMES[s];
}

const char *ops_reject_reason_name(ops_reject_reason r)
{
    if ((unsigned)r >= OPS_REJECT_COUNT_)
        return "unknown";
    return REJECT_NAMES[r];
}

int ops_metrics_init(ops_metrics *m, const char *version, const char *backend_name,
                     double start_time_unix)
{
    static const double bounds[] = OPS_LATENCY_BUCKETS;
    static const char *const op_result[] = {"op", "result"};
    static const char *const op[] = {"op"};
    static const char *const reason[] = {"reason"};
    static const char *const by[] = {"by"};
    static const char *const build[] = {"version", "backend"};
    int rc = METRICS_OK;
    memset(m, 0, sizeof *m);
    m->reg = metrics_registry_new();
    if (m->reg == NULL)
        return METRICS_E_NOMEM;

    m->requests = metrics_counter_new(m->reg, "sgx_quote_helper_requests_total",
        "Requests handled, by AESM operation and result (aesm error name, or closed).",
        op_result, 2, &rc);
    if (rc != METRICS_OK) goto out;
    m->duration = metrics_histogram_new(m->reg, "sgx_quote_helper_request_duration_seconds",
        "Time from a complete request to its reply, by AESM operation.", op, 1, bounds,
        sizeof bounds / sizeof bounds[0], &rc);
    if (rc != METRICS_OK) goto out;
    m->active = metrics_gauge_new(m->reg, "sgx_quote_helper_connections_active",
        "Client connections currently open.", NULL, 0, &rc);
    if (rc != METRICS_OK) goto out;
    m->rejected = metrics_counter_new(m->reg, "sgx_quote_helper_connections_rejected_total",
        "Connections refused or cut, by reason (limit, peer_limit, deadline, oversize, acl, "
        "ratelimit, unread).",
        reason, 1, &rc);
    if (rc != METRICS_OK) goto out;
    for (int r = 0; r < OPS_REJECT_COUNT_; r++) {
        const char *v[] = {REJECT_NAMES[r]};
        if ((rc = metrics_touch(m->rejected, v)) != METRICS_OK) goto out;
    }
    m->backend_ready = metrics_gauge_new(m->reg, "sgx_quote_helper_backend_ready",
        "1 when the quoting backend is initialised and its canary quote path works.", NULL, 0,
        &rc);
    if (rc != METRICS_OK) goto out;
    {
        static const char *const info_labels[] = {"provider", "cert_type"};
        m->backend_info = metrics_gauge_new(m->reg, "sgx_quote_helper_backend_info",
            "1 for the hardware backend's quote provider library (intel, azure, unknown, none) "
            "and the certification data type its quotes carry (5 PCK chain, 3 encrypted PPID).",
            info_labels, 2, &rc);
        if (rc != METRICS_OK) goto out;
    }
    m->qe_svn = metrics_gauge_new(m->reg, "sgx_quote_helper_qe_svn",
        "ISVSVN of the Quoting Enclave in use.", NULL, 0, &rc);
    if (rc != METRICS_OK) goto out;
    m->pce_svn = metrics_gauge_new(m->reg, "sgx_quote_helper_pce_svn",
        "ISVSVN of the Provisioning Certification Enclave in use.", NULL, 0, &rc);
    if (rc != METRICS_OK) goto out;
    m->build_info = metrics_gauge_new(m->reg, "sgx_quote_helper_build_info",
        "Always 1; labels name the daemon version and the quoting backend.", build, 2, &rc);
    if (rc != METRICS_OK) goto out;
    {
        const char *v[] = {version != NULL ? version : "unknown",
                           backend_name != NULL ? backend_name : "unknown"};
        if ((rc = metrics_gauge_set(m->build_info, v, 1)) != METRICS_OK) goto out;
    }
    m->start_time = metrics_gauge_new(m->reg, "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.", NULL, 0, &rc);
    if (rc != METRICS_OK) goto out;
    rc = metrics_gauge_set(m->start_time, NULL, start_time_unix);
    if (rc != METRICS_OK) goto out;
    m->log_dropped = metrics_counter_new(m->reg, "sgx_quote_helper_log_lines_dropped_total",
        "Log lines dropped because stderr did not take them fast enough.", NULL, 0, &rc);
    if (rc != METRICS_OK) goto out;
    rc = metrics_counter_add(m->log_dropped, NULL, 0);
    if (rc != METRICS_OK) goto out;
    m->unread_bytes = metrics_gauge_new(m->reg, "sgx_quote_helper_unread_reply_bytes",
        "Reply bytes sent to clients and not yet read by them (kernel memory the daemon is "
        "charged for), all peers.", NULL, 0, &rc);
    if (rc != METRICS_OK) goto out;
    if ((rc = metrics_gauge_set(m->unread_bytes, NULL, 0)) != METRICS_OK) goto out;
    m->identified = metrics_counter_new(m->reg, "sgx_quote_helper_peers_identified_total",
        "Accepted connections by what identified the peer for the per-peer limits (self, pod, "
        "netns, uid, unknown).",
        by, 1, &rc);
    if (rc != METRICS_OK) goto out;
    for (int i = 0; i < OPS_ID_COUNT_; i++) {
        const char *v[] = {ID_NAMES[i]};
        if ((rc = metrics_touch(m->identified, v)) != METRICS_OK) goto out;
    }
    m->ready_checks = metrics_counter_new(m->reg, "sgx_quote_helper_readiness_checks_total",
        "Readiness canary runs (concurrent /readyz calls share one).", NULL, 0, &rc);
    if (rc != METRICS_OK) goto out;
    rc = metrics_counter_add(m->ready_checks, NULL, 0);
out:
    if (rc != METRICS_OK)
        ops_metrics_free(m);
    return rc;
}

void ops_metrics_free(ops_metrics *m)
{
    if (m == NULL)
        return;
    metrics_registry_free(m->reg);
    memset(m, 0, sizeof *m);
}

/* Updates below ignore errors on purpose: the label values come from closed
 * sets, and a metrics failure must never fail a request. */
void ops_metrics_request(ops_metrics *m, const char *op, const char *result, double seconds)
{
    const char *opv = op != NULL ? op : "unknown";
    const char *v[] = {opv, result != NULL ? result : "closed"};
    const char *d[] = {opv};
    (void)metrics_counter_add(m->requests, v, 1);
    (void)metrics_histogram_observe(m->duration, d, seconds);
}

void ops_metrics_hold(ops_metrics *m)
{
    metrics_hold(m->reg);
}

void ops_metrics_release(ops_metrics *m)
{
    metrics_release(m->reg);
}

void ops_metrics_connections_delta(ops_metrics *m, long n)
{
    if (n != 0)
        (void)metrics_gauge_add(m->active, NULL, (double)n);
}

void ops_metrics_identified_n(ops_metrics *m, ops_id_source by, unsigned long n)
{
    const char *v[] = {ops_id_source_name(by)};
    if (n != 0)
        (void)metrics_counter_add(m->identified, v, (double)n);
}

void ops_metrics_connection_opened(ops_metrics *m)
{
    (void)metrics_gauge_add(m->active, NULL, 1);
}

void ops_metrics_connection_closed(ops_metrics *m)
{
    (void)metrics_gauge_add(m->active, NULL, -1);
}

void ops_metrics_rejected(ops_metrics *m, ops_reject_reason reason)
{
    const char *v[] = {ops_reject_reason_name(reason)};
    (void)metrics_counter_add(m->rejected, v, 1);
}

void ops_metrics_backend_ready(ops_metrics *m, bool ready)
{
    (void)metrics_gauge_set(m->backend_ready, NULL, ready ? 1 : 0);
}

void ops_metrics_backend_info(ops_metrics *m, const char *provider, const char *cert_type)
{
    const char *now[] = {provider, cert_type};

    if (strcmp(m->backend_info_last[0], provider) == 0 &&
        strcmp(m->backend_info_last[1], cert_type) == 0)
        return;
    if (m->backend_info_last[0][0] != '\0') {
        const char *was[] = {m->backend_info_last[0], m->backend_info_last[1]};
        (void)metrics_gauge_set(m->backend_info, was, 0);
    }
    (void)metrics_gauge_set(m->backend_info, now, 1);
    snprintf(m->backend_info_last[0], sizeof m->backend_info_last[0], "%s", provider);
    snprintf(m->backend_info_last[1], sizeof m->backend_info_last[1], "%s", cert_type);
}

void ops_metrics_unread_bytes(ops_metrics *m, double bytes)
{
    (void)metrics_gauge_set(m->unread_bytes, NULL, bytes);
}

void ops_metrics_identified(ops_metrics *m, ops_id_source by)
{
    const char *v[] = {ops_id_source_name(by)};
    (void)metrics_counter_add(m->identified, v, 1);
}

void ops_metrics_readiness_check(ops_metrics *m)
{
    (void)metrics_counter_add(m->ready_checks, NULL, 1);
}

void ops_metrics_svn(ops_metrics *m, unsigned qe_svn, unsigned pce_svn)
{
    (void)metrics_gauge_set(m->qe_svn, NULL, qe_svn);
    (void)metrics_gauge_set(m->pce_svn, NULL, pce_svn);
}

void ops_metrics_log_dropped(ops_metrics *m, unsigned long long total_dropped)
{
    unsigned long long seen = atomic_load(&m->log_dropped_seen);
    while (total_dropped > seen) {
        if (atomic_compare_exchange_weak(&m->log_dropped_seen, &seen, total_dropped)) {
            (void)metrics_counter_add(m->log_dropped, NULL, (double)(total_dropped - seen));
            return;
        }
    }
}

int ops_metrics_render(ops_metrics *m, char **text, size_t *len)
{
    return metrics_render(m->reg, text, len);
}
