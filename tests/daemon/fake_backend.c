/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fake quoting backend for tests/daemon and the service fuzz target: the
 * service layer's error paths (42, 44, 47, 49, buffer sizes, no key ids,
 * serialization) are driven from here without a real platform.
 */
#include "fake_backend.h"

#include "svc_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    backend b;
    backend_ops ops;
    fake_state *st;
} fake_backend;

static fake_state *st_of(backend *b)
{
    return ((fake_backend *)(void *)b)->st;
}

static void sleep_us(unsigned us)
{
    struct timespec ts = {.tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000L};
    nanosleep(&ts, NULL);
}

static size_t fake_key_ids(backend *b, sgx_att_key_id_ext_t *out, size_t cap)
{
    fake_state *st = st_of(b);
    size_t n = st->n_key_ids < cap ? st->n_key_ids : cap;
    memcpy(out, st->key_ids, n * sizeof(*out));
    return n;
}

static aesm_error_t fake_init(backend *b, const sgx_att_key_id_ext_t *key_id,
                              sgx_target_info_t *ti, uint8_t pub_key_id[32])
{
    fake_state *st = st_of(b);
    atomic_fetch_add(&st->calls_init, 1);
    memcpy(&st->last_key_id, key_id, sizeof(*key_id));
    if (st->init_rc != AESM_SUCCESS)
        return st->init_rc;
    memset(ti, FAKE_TI_BYTE, sizeof(*ti));
    memset(pub_key_id, FAKE_PUB_KEY_ID_BYTE, 32);
    return AESM_SUCCESS;
}

static aesm_error_t fake_size(backend *b, const sgx_att_key_id_ext_t *key_id, uint32_t *size)
{
    fake_state *st = st_of(b);
    atomic_fetch_add(&st->calls_size, 1);
    memcpy(&st->last_key_id, key_id, sizeof(*key_id));
    if (st->size_rc != AESM_SUCCESS)
        return st->size_rc;
    *size = st->quote_size;
    return AESM_SUCCESS;
}

static aesm_error_t fake_quote(backend *b, const sgx_att_key_id_ext_t *key_id,
                               const sgx_report_t *report, sgx_qe_report_info_t *qri, uint8_t *out,
                               uint32_t cap, uint32_t *len)
{
    fake_state *st = st_of(b);
    int now = atomic_fetch_add(&st->inside, 1) + 1;
    int prev = atomic_load(&st->max_inside);
    aesm_error_t rc = AESM_SUCCESS;

    while (now > prev && !atomic_compare_exchange_weak(&st->max_inside, &prev, now))
        ;
    atomic_fetch_add(&st->calls_quote, 1);
    atomic_store(&st->last_cap, cap);
    memcpy(&st->last_key_id, key_id, sizeof(*key_id));
    /* Wait (≤ 2 s) for a second caller, until two have met once. */
    if (st->rendezvous) {
        for (int i = 0; i < 2000 && atomic_load(&st->max_inside) < 2; i++)
            sleep_us(1000);
    }
    if (st->hold_us > 0)
        sleep_us(st->hold_us);

    /* Same order as QE3's gen_quote (aesm §8.4): MAC, then buffer size. */
    if (st->quote_rc != AESM_SUCCESS) {
        rc = st->quote_rc;
    } else if (st->reject_mac) {
        rc = AESM_INVALID_REPORT;
    } else if (cap < st->quote_size) {
        rc = AESM_PARAMETER_ERROR;
    } else {
        uint32_t sig_len = st->quote_size - 436;
        memset(out, FAKE_QUOTE_FILL, st->quote_size);
        memset(out, 0, 48);
        out[0] = 3; /* version, aesm §6.6 */
        out[2] = 2; /* att_key_type */
        memcpy(out + 48, &report->body, 384);
        out[432] = (uint8_t)sig_len;
        out[433] = (uint8_t)(sig_len >> 8);
        out[434] = (uint8_t)(sig_len >> 16);
        out[435] = (uint8_t)(sig_len >> 24);
        if (qri != NULL)
            memset(&qri->qe_report, FAKE_QE_REPORT_BYTE, sizeof(qri->qe_report));
        *len = st->quote_size;
    }
    atomic_fetch_sub(&st->inside, 1);
    return rc;
}

static aesm_error_t fake_health(backend *b)
{
    (void)b;
    return AESM_SUCCESS;
}

static void fake_destroy(backend *b)
{
    free(b);
}

void fake_state_init(fake_state *st)
{
    memset(st, 0, sizeof(*st));
    ts_spec_ecdsa_key_id((uint8_t *)&st->key_ids[0]);
    st->n_key_ids = 1;
    st->quote_size = 1100;
    st->thread_safe = true;
}

backend *fake_backend_new(fake_state *st)
{
    fake_backend *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->st = st;
    f->ops.name = "fake";
    f->ops.key_ids = fake_key_ids;
    f->ops.init_quote = fake_init;
    f->ops.quote_size = fake_size;
    f->ops.get_quote = fake_quote;
    f->ops.health = fake_health;
    f->ops.destroy = fake_destroy;
    f->ops.thread_safe = st->thread_safe;
    f->b.ops = &f->ops;
    f->b.impl = f;
    return &f->b;
}
