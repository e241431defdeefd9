/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QGS service: one whole request (framed qgs_msg or bare TDREPORT) in,
 * the bytes to send back out, then the connection closes. A pure function
 * over a backend (the simulated TD quoting enclave, or hardware), like
 * src/daemon/service.c for AESM, so the daemon's listener, tests and
 * fuzzers all drive the same code.
 */
#ifndef SGXQH_QGS_SERVICE_H
#define SGXQH_QGS_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qgs/qgs_msg.h"

/* Collateral a backend hands out: owned items (freed with free()). */
typedef struct {
    uint16_t major, minor;
    uint8_t *item[QGS_COLLATERAL_ITEMS];
    uint32_t size[QGS_COLLATERAL_ITEMS];
} qgs_collateral_data;
void qgs_collateral_data_free(qgs_collateral_data *c);

/* TDX operations. Each returns 0, or a negative backend code whose name
 * and sentence go into err (for the log line only: the wire carries just
 * QGS_MSG_ERROR_UNEXPECTED or a close, as QGS does). */
typedef struct {
    void *ctx;
    const char *name; /* "sim", "hw" */
    int (*get_quote)(void *ctx, const uint8_t *report, size_t report_len, uint8_t **quote,
                     size_t *quote_len, char *err, size_t errcap);
    int (*get_collateral)(void *ctx, const uint8_t *fmspc, size_t fmspc_len, const char *pck_ca,
                          qgs_collateral_data *out, char *err, size_t errcap);
    int (*get_platform_info)(void *ctx, qgs_platform_info *out, char *err, size_t errcap);
    /* As backend_ops.nonblocking: calls may run inline on the event loops. */
    bool nonblocking;
} qgs_backend;

typedef struct {
    uint8_t *reply;     /* malloc'd bytes to send, then close; NULL = close without a reply */
    size_t reply_len;
    const char *op;     /* GetQuote, GetCollateral, GetPlatformInfo, RawGetQuote, Invalid */
    const char *result; /* "ok", or the name of what failed (codec or backend error) */
    int ok;             /* 1 when the operation succeeded */
    char detail[256];   /* why it failed, for the log */
} qgs_result;
void qgs_result_free(qgs_result *r);

/* req/len: every byte the client sent, prefix included, as delimited by
 * qgs_frame_classify (a FRAMED or RAW request). Never fails to fill res. */
void qgs_service_handle(const qgs_backend *b, const uint8_t *req, size_t len, qgs_result *res);

/* The backend over the simulated platform (backend_sim.c). p must outlive it. */
struct sim_platform;
void qgs_backend_sim_init(qgs_backend *b, const struct sim_platform *p);

/* The backend over Intel's TD quoting library (backend_hw.c):
 * libsgx_tdx_logic.so.1 from lib_dir (NULL: the loader's search path), one
 * context per worker, each created and warmed (tee_att_init_quote) here.
 * -1 with a sentence in err. GET_COLLATERAL and GET_PLATFORM_INFO are not
 * served by it. */
int qgs_backend_hw_open(qgs_backend *b, const char *lib_dir, unsigned contexts, char *err,
                        size_t errcap);
void qgs_backend_hw_close(qgs_backend *b);
/* The tee_att_error_t name of code ("TEE_ATT_ERROR" when unknown) and,
 * when why is not NULL, a sentence with the fix. */
const char *qgs_hw_error_name(uint32_t code, const char **why);

#endif
