/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A scriptable backend for the service tests: fixed, recognisable outputs,
 * injectable error codes, and counters that show what the service asked
 * for (the capacity it allocated, whether calls overlapped).
 */
#ifndef SGXQH_TEST_FAKE_BACKEND_H
#define SGXQH_TEST_FAKE_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"

#define FAKE_TI_BYTE 0xA5      /* every byte of the fake QE target info */
#define FAKE_PUB_KEY_ID_BYTE 0x11
#define FAKE_QUOTE_FILL 0xCD   /* quote bytes after the 436-byte prefix */
#define FAKE_QE_REPORT_BYTE 0x77

typedef struct {
    /* configuration */
    sgx_att_key_id_ext_t key_ids[BACKEND_MAX_KEY_IDS];
    size_t n_key_ids;
    aesm_error_t init_rc, size_rc, quote_rc; /* returned when non-zero */
    uint32_t quote_size;                     /* exact quote length (≥ 436) */
    bool reject_mac;                         /* get_quote → 47 */
    bool thread_safe;
    unsigned hold_us;      /* get_quote sleeps this long while "inside" */
    bool rendezvous;       /* get_quote waits (≤ 2 s) until 2 calls are inside */
    /* observations */
    atomic_uint calls_init, calls_size, calls_quote;
    atomic_uint last_cap;
    atomic_int inside, max_inside;
    sgx_att_key_id_ext_t last_key_id;
} fake_state;

/* Defaults: one key id (the ECDSA one), quote_size 1100, thread-safe. */
void fake_state_init(fake_state *st);
backend *fake_backend_new(fake_state *st);

#endif
