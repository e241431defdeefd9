/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The quoting-backend interface: what the service layer (quote_ex semantics)
 * needs from whatever actually makes quotes. Two implementations: the
 * simulated platform (backend_sim.c) and Intel's QE3/PCE logic libraries
 * (backend_hw.c, the hardware issue). Results are aesm_error_t values so the
 * service can pass them straight to the wire (aesm-protocol §5.1, §8).
 */
#ifndef SGXQH_BACKEND_H
#define SGXQH_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgxqh/aesm_error.h"
#include "sgxqh/sgx_arch.h"

#define BACKEND_MAX_KEY_IDS 2

typedef struct backend backend;

typedef struct {
    const char *name; /* "sim" or "hw" */
    /* The key ids offered (aesm §6.4–6.5); at most BACKEND_MAX_KEY_IDS. */
    size_t (*key_ids)(backend *b, sgx_att_key_id_ext_t *out, size_t cap);
    /* Full init: QE target info and the 32-byte pub_key_id. */
    aesm_error_t (*init_quote)(backend *b, const sgx_att_key_id_ext_t *key_id,
                               sgx_target_info_t *qe_ti, uint8_t pub_key_id[32]);
    aesm_error_t (*quote_size)(backend *b, const sgx_att_key_id_ext_t *key_id, uint32_t *size);
    /* Writes the quote (exact length in *len) into out[0, cap). qe_report_info
     * may be NULL; when given, its qe_report is filled. */
    aesm_error_t (*get_quote)(backend *b, const sgx_att_key_id_ext_t *key_id,
                              const sgx_report_t *report, sgx_qe_report_info_t *qe_report_info,
                              uint8_t *out, uint32_t cap, uint32_t *len);
    /* Canary for readiness: 0 when the backend can quote right now. */
    aesm_error_t (*health)(backend *b);
    void (*destroy)(backend *b);
    /* false: the service serializes calls (Intel's libraries need it). */
    bool thread_safe;
    /* true: every call finishes on the CPU without waiting for I/O or for
     * another caller (thread-safe too), so the daemon may run it inline on
     * its event loops. false (a PCCS fetch, a device, a lock): the calls
     * run on worker threads so the loops keep answering everything else. */
    bool nonblocking;
} backend_ops;

struct backend {
    const backend_ops *ops;
    void *impl;
};

typedef enum { BACKEND_KIND_SIM, BACKEND_KIND_HW, BACKEND_KIND_AUTO } backend_kind;
int backend_kind_parse(const char *s, backend_kind *out);

typedef struct {
    backend_kind kind;
    const char *state_dir;   /* sim: where the seed lives */
    const char *seed_file;   /* sim: explicit seed path (Secret mount) or NULL */
    bool seed_must_exist;    /* sim: refuse a missing seed instead of creating one (the
                              * daemon, unless --init-seed) */
    const char *instance;    /* sim: platform instance name or NULL (host name) */
    const char *sim_tcb_status; /* sim: collateral status, NULL = UpToDate */
    const char *hw_lib_dir;  /* hw: where to dlopen Intel's logic libraries, NULL = default */
} backend_config;

/* Creates the backend; on failure returns NULL and writes a sentence naming
 * the problem and its fix into errbuf. */
backend *backend_open(const backend_config *cfg, char *errbuf, size_t errcap);
void backend_close(backend *b);

/* The ECDSA-P256 key id every ECDSA-only aesmd offers (aesm §6.4). */
void backend_default_ecdsa_key_id(sgx_att_key_id_ext_t *out);

/* Simulated backend over an already opened platform (tests, in-process). */
struct sim_platform;
backend *backend_sim_wrap(struct sim_platform *p, bool take_ownership);
struct sim_platform *backend_sim_platform(backend *b); /* NULL if not sim */

#endif
