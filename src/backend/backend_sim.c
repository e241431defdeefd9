/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated backend: backend_ops over a sim_platform (src/sim).
 *
 * service → [backend_sim] → sim (software QE3/PCE, PCK hierarchy) → crypto.
 * Everything the platform hands out (QE target info, attestation key and so
 * pub_key_id) derives from the seed in the state directory, so it is the
 * same after a daemon restart: the attestation key is always "initialised"
 * and clients never see AESM 42 (ATT_KEY_NOT_INITIALIZED) the way they do
 * after an aesmd restart (aesm-protocol §8.2 "Key caching"). The platform is
 * immutable and thread-safe, so the service may call in parallel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "sim/sim.h"

typedef struct {
    sim_platform *platform;
    bool owned;
} sim_backend;

static const backend_ops SIM_OPS;

static sim_platform *sim_of(backend *b)
{
    return ((sim_backend *)b->impl)->platform;
}

/* The service already matched the 158-byte base (aesm §6.5); checking again
 * keeps this backend safe to call on its own (in-process quoting, tests). */
static bool sim_key_id_ok(const sgx_att_key_id_ext_t *key_id)
{
    sgx_att_key_id_ext_t ours;

    if (key_id == NULL)
        return false;
    backend_default_ecdsa_key_id(&ours);
    return memcmp(&ours.base, &key_id->base, sizeof(ours.base)) == 0;
}

static aesm_error_t sim_err_to_aesm(int err)
{
    switch (err) {
    case SIM_OK:
        return AESM_SUCCESS;
    case SIM_E_INVALID_REPORT:
        return AESM_INVALID_REPORT; /* aesm §8.4 step 1: client sees 0x3001 */
    case SIM_E_BUFFER_TOO_SMALL:
    case SIM_E_INVALID_ARG:
        return AESM_PARAMETER_ERROR; /* §8.4 step 2 */
    default:
        return AESM_UNEXPECTED_ERROR;
    }
}

static size_t sim_key_ids(backend *b, sgx_att_key_id_ext_t *out, size_t cap)
{
    (void)b;
    if (out == NULL || cap == 0)
        return 0;
    backend_default_ecdsa_key_id(&out[0]);
    return 1;
}

static aesm_error_t sim_init_quote(backend *b, const sgx_att_key_id_ext_t *key_id,
                                   sgx_target_info_t *qe_ti, uint8_t pub_key_id[32])
{
    if (qe_ti == NULL || pub_key_id == NULL)
        return AESM_PARAMETER_ERROR;
    if (!sim_key_id_ok(key_id))
        return AESM_UNSUPPORTED_ATT_KEY_ID;
    sim_qe_target_info(sim_of(b), qe_ti);
    sim_qe_pub_key_id(sim_of(b), pub_key_id);
    return AESM_SUCCESS;
}

static aesm_error_t sim_quote_size_op(backend *b, const sgx_att_key_id_ext_t *key_id,
                                      uint32_t *size)
{
    if (size == NULL)
        return AESM_PARAMETER_ERROR;
    if (!sim_key_id_ok(key_id))
        return AESM_UNSUPPORTED_ATT_KEY_ID;
    *size = sim_quote_size(sim_of(b));
    return AESM_SUCCESS;
}

static aesm_error_t sim_get_quote_op(backend *b, const sgx_att_key_id_ext_t *key_id,
                                     const sgx_report_t *report,
                                     sgx_qe_report_info_t *qe_report_info, uint8_t *out,
                                     uint32_t cap, uint32_t *len)
{
    size_t n = 0;
    int rc;

    if (report == NULL || len == NULL || (out == NULL && cap > 0))
        return AESM_PARAMETER_ERROR;
    if (!sim_key_id_ok(key_id))
        return AESM_UNSUPPORTED_ATT_KEY_ID;
    rc = sim_get_quote(sim_of(b), report, qe_report_info, out, cap, &n);
    if (rc != SIM_OK)
        return sim_err_to_aesm(rc);
    if (n > cap)
        return AESM_UNEXPECTED_ERROR;
    *len = (uint32_t)n;
    return AESM_SUCCESS;
}

static aesm_error_t sim_health(backend *b)
{
    return sim_of(b) != NULL ? AESM_SUCCESS : AESM_SERVICE_UNAVAILABLE;
}

static void sim_destroy(backend *b)
{
    sim_backend *sb;

    if (b == NULL)
        return;
    sb = b->impl;
    if (sb != NULL && sb->owned)
        sim_platform_close(sb->platform);
    free(sb);
    free(b);
}

static const backend_ops SIM_OPS = {
    .name = "sim",
    .key_ids = sim_key_ids,
    .init_quote = sim_init_quote,
    .quote_size = sim_quote_size_op,
    .get_quote = sim_get_quote_op,
    .health = sim_health,
    .destroy = sim_destroy,
    .thread_safe = true, /* sim.h: immutable after open, safe from many threads */
    .nonblocking = true, /* a signature from memory: no I/O, no lock */
};

backend *backend_sim_wrap(struct sim_platform *p, bool take_ownership)
{
    backend *b;
    sim_backend *sb;

    if (p == NULL)
        return NULL;
    b = calloc(1, sizeof(*b));
    sb = calloc(1, sizeof(*sb));
    if (b == NULL || sb == NULL) {
        free(b);
        free(sb);
        return NULL;
    }
    sb->platform = p;
    sb->owned = take_ownership;
    b->ops = &SIM_OPS;
    b->impl = sb;
    return b;
}

struct sim_platform *backend_sim_platform(backend *b)
{
    if (b == NULL || b->ops != &SIM_OPS)
        return NULL;
    return sim_of(b);
}

backend *backend_sim_open(const backend_config *cfg, char *errbuf, size_t errcap)
{
    sim_options opt;
    sim_platform *p = NULL;
    backend *b;
    int rc;

    if (cfg == NULL) {
        if (errbuf != NULL && errcap > 0)
            snprintf(errbuf, errcap, "no backend configuration given");
        return NULL;
    }
    memset(&opt, 0, sizeof(opt));
    sim_tcb_config_default(&opt.tcb);
    if (cfg->sim_tcb_status != NULL) {
        sim_tcb_status st;
        if (sim_tcb_status_parse(cfg->sim_tcb_status, &st) != 0) {
            if (errbuf != NULL && errcap > 0)
                snprintf(errbuf, errcap,
                         "unknown simulated TCB status \"%s\" (expected UpToDate, "
                         "SWHardeningNeeded, ConfigurationNeeded, OutOfDate or Revoked)",
                         cfg->sim_tcb_status);
            return NULL;
        }
        opt.tcb.tcb_status = st;
    }
    opt.state_dir = cfg->state_dir != NULL ? cfg->state_dir : BACKEND_DEFAULT_STATE_DIR;
    opt.seed_file = cfg->seed_file;
    opt.seed_must_exist = cfg->seed_must_exist;
    opt.instance = cfg->instance;
    opt.now = 0;

    rc = sim_platform_open(&opt, &p, errbuf, errcap);
    if (rc != SIM_OK || p == NULL) {
        if (errbuf != NULL && errcap > 0 && errbuf[0] == '\0')
            snprintf(errbuf, errcap, "cannot open the simulated platform in %s: %s", opt.state_dir,
                     sim_strerror(rc));
        return NULL;
    }
    b = backend_sim_wrap(p, true);
    if (b == NULL) {
        sim_platform_close(p);
        if (errbuf != NULL && errcap > 0)
            snprintf(errbuf, errcap, "out of memory opening the simulated backend");
        return NULL;
    }
    return b;
}
