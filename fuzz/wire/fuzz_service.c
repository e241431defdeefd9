/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: hostile bytes through framing, the protobuf codec and the
 * service layer (socket → [framing → codec → service] → backend).
 *
 * Each input is split as a frame when its prefix fits (the recorded client
 * requests are the seeds), otherwise taken as a raw body, and handed to two
 * services: one over the simulated platform (opened once, in a temporary
 * state directory) and one over an accept-everything fake, so quote paths
 * with padding and buf_size capping are reached too. Any reply must be one
 * well-formed frame with exactly one sub-message and errorCode set
 * (aesm-protocol §9.1 items 3–4); otherwise we abort.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/service.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- accept-everything fake backend ---- */

#define FAKE_QUOTE_SIZE 1500u

/* init/size/quote calls so far: service_needs_backend() must be true for
 * every request that makes one. */
static unsigned long g_fake_calls;

static size_t fake_key_ids(backend *b, sgx_att_key_id_ext_t *out, size_t cap)
{
    (void)b;
    if (cap == 0)
        return 0;
    backend_default_ecdsa_key_id(&out[0]);
    return 1;
}

static aesm_error_t fake_init(backend *b, const sgx_att_key_id_ext_t *kid, sgx_target_info_t *ti,
                              uint8_t pk[32])
{
    (void)b;
    (void)kid;
    g_fake_calls++;
    memset(ti, 0xa5, sizeof(*ti));
    memset(pk, 0x11, 32);
    return AESM_SUCCESS;
}

static aesm_error_t fake_size(backend *b, const sgx_att_key_id_ext_t *kid, uint32_t *size)
{
    (void)b;
    (void)kid;
    g_fake_calls++;
    *size = FAKE_QUOTE_SIZE;
    return AESM_SUCCESS;
}

static aesm_error_t fake_quote(backend *b, const sgx_att_key_id_ext_t *kid,
                               const sgx_report_t *report, sgx_qe_report_info_t *qri, uint8_t *out,
                               uint32_t cap, uint32_t *len)
{
    (void)b;
    (void)kid;
    (void)report;
    g_fake_calls++;
    /* The service must cap buf_size before it allocates (§9.3). */
    if (cap > SERVICE_DEFAULT_MAX_BUF_SIZE)
        abort();
    if (cap < FAKE_QUOTE_SIZE)
        return AESM_PARAMETER_ERROR;
    memset(out, 0xcd, FAKE_QUOTE_SIZE);
    if (qri != NULL)
        memset(&qri->qe_report, 0x77, sizeof(qri->qe_report));
    *len = FAKE_QUOTE_SIZE;
    return AESM_SUCCESS;
}

static aesm_error_t fake_health(backend *b)
{
    (void)b;
    return AESM_SUCCESS;
}

static void fake_destroy(backend *b)
{
    (void)b;
}

static const backend_ops FAKE_OPS = {
    .name = "fake",
    .key_ids = fake_key_ids,
    .init_quote = fake_init,
    .quote_size = fake_size,
    .get_quote = fake_quote,
    .health = fake_health,
    .destroy = fake_destroy,
    .thread_safe = false,
};
static backend g_fake = {.ops = &FAKE_OPS, .impl = NULL};

/* ---- one-time setup ---- */

static char g_dir[64];
static backend *g_sim;
static service *g_sim_svc, *g_fake_svc;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    service_free(g_sim_svc);
    service_free(g_fake_svc);
    backend_close(g_sim);
    /* the seed and whatever the platform cached next to it */
    nftw(g_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void init_once(void)
{
    backend_config cfg = {.kind = BACKEND_KIND_SIM, .instance = "fuzz"};
    char err[512] = "";

    if (g_sim_svc != NULL)
        return;
    snprintf(g_dir, sizeof(g_dir), "/tmp/sgxqh-fuzz-service-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        abort();
    cfg.state_dir = g_dir;
    g_sim = backend_open(&cfg, err, sizeof(err));
    if (g_sim == NULL) {
        fprintf(stderr, "fuzz_service: cannot open the simulated backend: %s\n", err);
        abort();
    }
    g_sim_svc = service_new(g_sim, NULL);
    g_fake_svc = service_new(&g_fake, NULL);
    if (g_sim_svc == NULL || g_fake_svc == NULL)
        abort();
    atexit(cleanup);
}

/* ---- invariants on every reply ---- */

static void check_result(const service_result *res)
{
    const ProtobufCMessageDescriptor *d = &aesm__response__descriptor;
    Aesm__Response *resp = NULL;
    unsigned subs = 0;
    uint32_t n;

    if (res->action == SERVICE_CLOSE) {
        if (res->frame != NULL || res->aesm_code != -1)
            abort();
        return;
    }
    if (res->action != SERVICE_REPLY || res->frame == NULL || res->frame_len <= WIRE_PREFIX_SIZE)
        abort();
    if (wire_prefix_decode(res->frame, res->frame_len, WIRE_MAX_FRAME_BODY, &n) != WIRE_OK ||
        n != res->frame_len - WIRE_PREFIX_SIZE)
        abort();
    if (wire_response_decode(res->frame + WIRE_PREFIX_SIZE, n, &resp) != WIRE_OK)
        abort();
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)(const void *)(
            (const uint8_t *)resp + d->fields[i].offset);
        const ProtobufCFieldDescriptor *ef;
        if (sub == NULL)
            continue;
        subs++;
        ef = protobuf_c_message_descriptor_get_field(sub->descriptor, 1);
        if (ef == NULL ||
            !*(const protobuf_c_boolean *)(const void *)((const uint8_t *)sub + ef->quantifier_offset) ||
            *(const uint32_t *)(const void *)((const uint8_t *)sub + ef->offset) !=
                (uint32_t)res->aesm_code)
            abort();
    }
    if (subs != 1)
        abort();
    wire_response_free(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *body = data;
    size_t len = size;
    service_result res;
    Aesm__Response *resp = NULL;

    init_once();
    if (wire_frame_split(data, size, WIRE_MAX_REQUEST_SIZE, &body, &len) != WIRE_OK) {
        body = data;
        len = size;
    }

    service_handle(g_sim_svc, body, len, &res);
    check_result(&res);
    service_result_clear(&res);

    service_handle(g_fake_svc, body, len, &res);
    check_result(&res);
    service_result_clear(&res);

    /* The daemon's rate-limit path (on its event loop): the same request
     * refused with AESM_BUSY must still be closed or answered in its own
     * sub-message, never touching the backend; a request service_handle
     * closes is closed here too. */
    {
        service_result refused;
        bool closed, needs = service_needs_backend(body, len);
        unsigned long before = g_fake_calls;
        service_handle(g_fake_svc, body, len, &res);
        closed = res.action == SERVICE_CLOSE;
        service_result_clear(&res);
        /* The daemon answers requests that need no backend on its loop:
         * the predicate must be true for every request that called it. */
        if (g_fake_calls != before && !needs)
            abort();
        before = g_fake_calls;
        service_refuse(g_fake_svc, body, len, 18 /* AESM_BUSY */, &refused);
        if (g_fake_calls != before)
            abort();
        check_result(&refused);
        if ((refused.action == SERVICE_CLOSE) != closed ||
            (refused.action == SERVICE_REPLY && refused.aesm_code != 18))
            abort();
        service_result_clear(&refused);
    }

    /* the client side decodes responses with the same codec */
    if (wire_response_decode(body, len, &resp) == WIRE_OK)
        wire_response_free(resp);
    return 0;
}
