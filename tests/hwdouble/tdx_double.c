/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test stand-in for Intel's libsgx_tdx_logic.so.1 (tests only; never
 * installed): the tee_att_* ABI of Intel's td_ql_wrapper.h, with the
 * simulated platform (src/sim, $SGXQH_HWDOUBLE_STATE_DIR, instance
 * "hwdouble") as the TD quoting enclave, so its quotes verify. Intel's
 * state rule is kept: no quote before init_quote (ATT_KEY_NOT_INITIALIZED).
 * Faults: SGXQH_HWDOUBLE_TDX_FAIL (a tee_att_error_t, e.g. 0x11016) on the
 * calls in SGXQH_HWDOUBLE_TDX_FAIL_ON (create, init, size, quote; default
 * quote); SGXQH_HWDOUBLE_TDX_STALE, a file: when it exists at get_quote it
 * is removed and the context's key turns stale (as after a TCB change).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwdouble.h"

#define TEE_OK 0u
#define TEE_UNEXPECTED 0x11001u
#define TEE_INVALID_PARAMETER 0x11002u
#define TEE_KEY_NOT_INITIALIZED 0x1100Fu
#define TEE_INVALID_REPORT 0x11015u
#define TEE_ENCLAVE_LOAD_ERROR 0x11016u
#define CTX_MAGIC 0x54445843u /* "TDXC" */

typedef struct {
    uint32_t magic;
    bool key_ready;
} tdx_ctx;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static sim_platform *g_platform;

/* dlclose (the backend's close, or process exit): the platform goes too. */
__attribute__((destructor)) static void tdx_double_unloaded(void)
{
    sim_platform_close(g_platform);
    g_platform = NULL;
}

/* The fault for call, or 0. A code that does not parse is UNEXPECTED, so a
 * typo in a test cannot pass silently. */
static uint32_t fault(const char *call)
{
    const char *code = getenv("SGXQH_HWDOUBLE_TDX_FAIL");
    const char *on = getenv("SGXQH_HWDOUBLE_TDX_FAIL_ON");
    if (code == NULL || code[0] == '\0')
        return 0;
    if (on == NULL || on[0] == '\0')
        on = "quote";
    if (strstr(on, call) == NULL)
        return 0;
    char *end = NULL;
    unsigned long v = strtoul(code, &end, 0);
    return end == code || *end != '\0' || v == 0 || v > 0xFFFFFFFFul ? TEE_UNEXPECTED
                                                                      : (uint32_t)v;
}

static bool ctx_ok(const void *p)
{
    return p != NULL && ((const tdx_ctx *)p)->magic == CTX_MAGIC;
}

uint32_t tee_att_create_context(const void *key_id, const char *qe_path, void **pp_context);
uint32_t tee_att_free_context(void *p_context);
uint32_t tee_att_init_quote(const void *p_context, uint8_t *p_target_info, bool refresh,
                            size_t *p_pub_key_id_size, uint8_t *p_pub_key_id);
uint32_t tee_att_get_quote_size(const void *p_context, uint32_t *p_quote_size);
uint32_t tee_att_get_quote(const void *p_context, const uint8_t *p_report, uint32_t report_size,
                           void *p_qe_report_info, uint8_t *p_quote, uint32_t quote_size);

uint32_t tee_att_create_context(const void *key_id, const char *qe_path, void **pp_context)
{
    char err[256];
    uint32_t f = fault("create");
    hwdouble_log("tdx create_context");
    if (pp_context == NULL || key_id != NULL || qe_path != NULL)
        return TEE_INVALID_PARAMETER; /* QGS passes the defaults */
    if (f != 0)
        return f;
    pthread_mutex_lock(&g_mu);
    if (g_platform == NULL && hwdouble_platform_open(&g_platform, err, sizeof err) != SIM_OK) {
        fprintf(stderr, "tdx double: %s\n", err);
        g_platform = NULL;
    }
    pthread_mutex_unlock(&g_mu);
    if (g_platform == NULL)
        return TEE_ENCLAVE_LOAD_ERROR;
    tdx_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return TEE_UNEXPECTED;
    c->magic = CTX_MAGIC;
    *pp_context = c;
    return TEE_OK;
}

uint32_t tee_att_free_context(void *p_context)
{
    hwdouble_log("tdx free_context");
    if (!ctx_ok(p_context))
        return TEE_INVALID_PARAMETER;
    ((tdx_ctx *)p_context)->magic = 0;
    free(p_context);
    return TEE_OK;
}

uint32_t tee_att_init_quote(const void *p_context, uint8_t *p_target_info, bool refresh,
                            size_t *p_pub_key_id_size, uint8_t *p_pub_key_id)
{
    uint32_t f = fault("init");
    if (!ctx_ok(p_context) || p_pub_key_id_size == NULL)
        return TEE_INVALID_PARAMETER;
    if (p_pub_key_id == NULL) { /* the size query: no enclave work */
        *p_pub_key_id_size = 32;
        return TEE_OK;
    }
    hwdouble_log("tdx init_quote refresh=%d", refresh ? 1 : 0);
    if (p_target_info == NULL || *p_pub_key_id_size < 32)
        return TEE_INVALID_PARAMETER;
    if (f != 0)
        return f;
    uint8_t pub[64];
    sim_td_attestation_pub_key(g_platform, pub);
    memset(p_target_info, 0, 512);
    memcpy(p_pub_key_id, pub, 32);
    *p_pub_key_id_size = 32;
    ((tdx_ctx *)p_context)->key_ready = true;
    return TEE_OK;
}

uint32_t tee_att_get_quote_size(const void *p_context, uint32_t *p_quote_size)
{
    uint32_t f = fault("size");
    if (!ctx_ok(p_context) || p_quote_size == NULL)
        return TEE_INVALID_PARAMETER;
    if (f != 0)
        return f;
    if (!((const tdx_ctx *)p_context)->key_ready)
        return TEE_KEY_NOT_INITIALIZED;
    *p_quote_size = (uint32_t)sim_td_quote_size(g_platform);
    return TEE_OK;
}

uint32_t tee_att_get_quote(const void *p_context, const uint8_t *p_report, uint32_t report_size,
                           void *p_qe_report_info, uint8_t *p_quote, uint32_t quote_size)
{
    char err[256];
    size_t len = 0;
    uint32_t f = fault("quote");
    const char *stale = getenv("SGXQH_HWDOUBLE_TDX_STALE");
    hwdouble_log("tdx get_quote");
    if (!ctx_ok(p_context) || p_report == NULL || p_quote == NULL || p_qe_report_info != NULL)
        return TEE_INVALID_PARAMETER;
    if (report_size != 1024 || quote_size < sim_td_quote_size(g_platform))
        return TEE_INVALID_PARAMETER;
    if (stale != NULL && stale[0] != '\0' && unlink(stale) == 0)
        ((tdx_ctx *)(uintptr_t)p_context)->key_ready = false;
    if (!((const tdx_ctx *)p_context)->key_ready)
        return TEE_KEY_NOT_INITIALIZED;
    if (f != 0)
        return f;
    /* Like Intel's, the buffer is v5-sized; a v4 quote leaves zeros after it. */
    memset(p_quote, 0, quote_size);
    if (sim_td_get_quote(g_platform, p_report, report_size, p_quote, quote_size, &len, err,
                         sizeof err) != SIM_OK) {
        hwdouble_log("tdx report refused: %s", err);
        return TEE_INVALID_REPORT;
    }
    return TEE_OK;
}
