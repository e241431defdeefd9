/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP /readyz → [readiness] → service → backend. Builds the canary
 * requests with the wire codec, runs them through service_handle() like
 * the server's workers do, and reads the answers back (errorCode, the
 * quote's length and header, quote-format §2). Results are cached briefly
 * so a scrape of /metrics does not quote every time.
 */
#include "daemon/ready.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend_hw.h"
#include "daemon/log.h"
#include "sgxqh/aesm_error.h"
#include "sim/sim.h"
#include "wire/wire.h"

/* A v3 quote is at least its header and report body plus the signature
 * length field (quote-format §2). */
#define READY_MIN_QUOTE 436u
#define READY_PUB_KEY_ID_SIZE 32u
/* The reason text: a sentence plus the hardware backend's notes. */
#define READY_REASON_MAX 2048

struct readiness {
    service *svc;
    backend *outer;
    backend *inner;
    ops_metrics *metrics;
    bool sim;
    pthread_mutex_t lock;
    bool have_result;
    bool last_ok;
    uint64_t last_ms;
    char last_reason[READY_REASON_MAX];
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Bounded copy (cut text stays NUL-terminated; callers pass buffers big
 * enough for the reasons made here). */
static void copy_text(char *dst, size_t cap, const char *src)
{
    if (dst == NULL || cap == 0)
        return;
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

readiness *readiness_new(service *svc, backend *outer, backend *inner, ops_metrics *metrics)
{
    readiness *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->svc = svc;
    r->outer = outer;
    r->inner = inner;
    r->metrics = metrics;
    r->sim = backend_sim_platform(inner) != NULL;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void readiness_free(readiness *r)
{
    if (r == NULL)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* One request through the service; *resp decoded (free with
 * wire_response_free). Returns 0, or -1 when the service closed or the
 * answer does not decode. */
static int roundtrip(readiness *r, Aesm__Request *req, Aesm__Response **resp)
{
    uint8_t *frame = NULL;
    size_t flen = 0;
    service_result res;
    int rc = -1;
    *resp = NULL;
    if (wire_frame_encode(&req->base, &frame, &flen) != WIRE_OK)
        return -1;
    service_handle(r->svc, frame + WIRE_PREFIX_SIZE, flen - WIRE_PREFIX_SIZE, &res);
    if (res.action == SERVICE_REPLY && res.frame_len > WIRE_PREFIX_SIZE &&
        wire_response_decode(res.frame + WIRE_PREFIX_SIZE, res.frame_len - WIRE_PREFIX_SIZE,
                             resp) == WIRE_OK)
        rc = 0;
    if (rc == 0 && res.has_svn && r->metrics != NULL)
        ops_metrics_svn(r->metrics, res.qe_svn, res.pce_svn);
    service_result_clear(&res);
    free(frame);
    return rc;
}

static bool says(char *reason, size_t cap, const char *what, int code)
{
    const char *hint = aesm_error_hint(code);
    snprintf(reason, cap, "%s: %s (%d)%s%s", what, aesm_error_name(code), code,
             hint[0] != '\0' ? ": " : "", hint);
    return false;
}

static bool canary(readiness *r, char *reason, size_t cap)
{
    sgx_att_key_id_ext_t kid;
    backend_default_ecdsa_key_id(&kid);
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Response *resp = NULL;
    bool ok = false;

    /* Hardware: health() already answered from the backend's prober, which
     * sized a quote within the last few seconds. A size query here would
     * hold the backend lock across the QPL's PCCS round trip, on the
     * /readyz caller's clock (docs/hardware.md). */
    if (!r->sim)
        return true;

    /* GetQuoteSizeEx (simulated backend). */
    Aesm__Request__GetQuoteSizeExRequest qs = AESM__REQUEST__GET_QUOTE_SIZE_EX_REQUEST__INIT;
    qs.has_att_key_id = 1;
    qs.att_key_id.data = (uint8_t *)&kid;
    qs.att_key_id.len = sizeof kid;
    req.getquotesizeexreq = &qs;
    if (roundtrip(r, &req, &resp) != 0 || resp->getquotesizeexres == NULL) {
        snprintf(reason, cap, "canary GetQuoteSizeEx: the service gave no answer");
        goto out;
    }
    if (resp->getquotesizeexres->errorcode != AESM_SUCCESS) {
        says(reason, cap, "canary GetQuoteSizeEx", (int)resp->getquotesizeexres->errorcode);
        goto out;
    }
    uint32_t quote_size = resp->getquotesizeexres->quote_size;
    wire_response_free(resp);
    resp = NULL;
    if (quote_size < READY_MIN_QUOTE) {
        snprintf(reason, cap, "canary GetQuoteSizeEx: impossible quote size %u", quote_size);
        goto out;
    }
    /* Simulated backend: a whole quote for the default simulated enclave. */
    Aesm__Request__InitQuoteExRequest iq = AESM__REQUEST__INIT_QUOTE_EX_REQUEST__INIT;
    iq.has_att_key_id = 1;
    iq.att_key_id.data = (uint8_t *)&kid;
    iq.att_key_id.len = sizeof kid;
    iq.has_b_pub_key_id = 1;
    iq.b_pub_key_id = 1;
    iq.has_buf_size = 1;
    iq.buf_size = READY_PUB_KEY_ID_SIZE;
    req.getquotesizeexreq = NULL;
    req.initquoteexreq = &iq;
    if (roundtrip(r, &req, &resp) != 0 || resp->initquoteexres == NULL) {
        snprintf(reason, cap, "canary InitQuoteEx: the service gave no answer");
        goto out;
    }
    if (resp->initquoteexres->errorcode != AESM_SUCCESS) {
        says(reason, cap, "canary InitQuoteEx", (int)resp->initquoteexres->errorcode);
        goto out;
    }
    sgx_target_info_t ti;
    if (!resp->initquoteexres->has_target_info ||
        resp->initquoteexres->target_info.len != sizeof ti) {
        snprintf(reason, cap, "canary InitQuoteEx: no 512-byte target info");
        goto out;
    }
    memcpy(&ti, resp->initquoteexres->target_info.data, sizeof ti);
    wire_response_free(resp);
    resp = NULL;

    sim_enclave_identity id;
    sgx_report_t report;
    sim_enclave_identity_default(&id);
    if (sim_ereport(&id, &ti, &report) != SIM_OK) {
        snprintf(reason, cap, "canary: cannot make a simulated report for the QE");
        goto out;
    }
    Aesm__Request__GetQuoteExRequest gq = AESM__REQUEST__GET_QUOTE_EX_REQUEST__INIT;
    gq.has_report = 1;
    gq.report.data = (uint8_t *)&report;
    gq.report.len = sizeof report;
    gq.has_att_key_id = 1;
    gq.att_key_id.data = (uint8_t *)&kid;
    gq.att_key_id.len = sizeof kid;
    gq.has_buf_size = 1;
    gq.buf_size = quote_size;
    req.initquoteexreq = NULL;
    req.getquoteexreq = &gq;
    if (roundtrip(r, &req, &resp) != 0 || resp->getquoteexres == NULL) {
        snprintf(reason, cap, "canary GetQuoteEx: the service gave no answer");
        goto out;
    }
    if (resp->getquoteexres->errorcode != AESM_SUCCESS) {
        says(reason, cap, "canary GetQuoteEx", (int)resp->getquoteexres->errorcode);
        goto out;
    }
    if (!resp->getquoteexres->has_quote || resp->getquoteexres->quote.len < READY_MIN_QUOTE) {
        snprintf(reason, cap, "canary GetQuoteEx: no quote in the answer");
        goto out;
    }
    ok = true;
out:
    wire_response_free(resp);
    return ok;
}

bool readiness_check(readiness *r, char *reason, size_t cap)
{
    char why[READY_REASON_MAX] = "";
    pthread_mutex_lock(&r->lock);
    bool ok = false;
    int h = r->outer->ops->health(r->outer);
    if (h != AESM_SUCCESS)
        says(why, sizeof why, "backend health", h);
    else
        ok = canary(r, why, sizeof why);
    if (ok)
        snprintf(why, sizeof why, "ready");
    if (!r->sim) {
        /* Operator-facing facts about the platform (QPL, QCNL, last error). */
        char notes[1024];
        size_t nl = backend_hw_notes(r->inner, notes, sizeof notes);
        backend_hw_status st;
        if (r->metrics != NULL && backend_hw_status_get(r->inner, &st))
            ops_metrics_backend_info(r->metrics, st.provider,
                                     st.cert_type == 5   ? "5"
                                     : st.cert_type == 3 ? "3"
                                                         : "unknown");
        size_t used = strlen(why);
        if (nl > 0 && !ok && used + 1 + nl < sizeof why) {
            why[used] = '\n';
            memcpy(why + used + 1, notes, nl + 1);
        }
    }
    bool changed = !r->have_result || r->last_ok != ok;
    r->have_result = true;
    r->last_ok = ok;
    r->last_ms = mono_ms();
    copy_text(r->last_reason, sizeof r->last_reason, why);
    if (r->metrics != NULL)
        ops_metrics_backend_ready(r->metrics, ok);
    pthread_mutex_unlock(&r->lock);

    if (changed) {
        logfmt_record rec;
        logfmt_begin(&rec, ok ? LOG_INFO : LOG_WARN, "readiness");
        logfmt_bool(&rec, "ready", ok);
        if (!ok)
            logfmt_str(&rec, "reason", why);
        log_emit(&rec);
    }
    copy_text(reason, cap, why);
    return ok;
}

bool readiness_get(readiness *r, unsigned max_age_ms, char *reason, size_t cap)
{
    pthread_mutex_lock(&r->lock);
    if (r->have_result && mono_ms() - r->last_ms <= max_age_ms) {
        bool ok = r->last_ok;
        copy_text(reason, cap, r->last_reason);
        pthread_mutex_unlock(&r->lock);
        return ok;
    }
    pthread_mutex_unlock(&r->lock);
    return readiness_check(r, reason, cap);
}
