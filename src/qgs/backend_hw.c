/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hardware QGS backend: Intel's TD quoting library
 * (libsgx_tdx_logic.so.1, Intel's td_ql_wrapper.h) through dlopen, called
 * as Intel's QGS calls it: one context per worker (each owns its TDQE and
 * attestation key), created and warmed with tee_att_init_quote at start-up
 * so the first TD does not pay for enclave loads and key certification;
 * get_quote_size, then get_quote, retried once after init_quote(refresh)
 * when the key is not initialised. tee_att_error_t codes get their names
 * and a fix (docs/errors.md "TDX hardware backend").
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qgs/qgs_service.h"

#define TDX_LOGIC_SONAME "libsgx_tdx_logic.so.1"
#define TEE_ATT_SUCCESS 0u
#define TEE_ATT_ATT_KEY_NOT_INITIALIZED 0x1100Fu
#define TDREPORT_SIZE 1024u
#define TARGET_INFO_SIZE 512u /* sgx_target_info_t */
#define QGS_HW_MAX_QUOTE (64u * 1024u)

typedef uint32_t (*create_fn)(const void *key_id, const char *qe_path, void **ctx);
typedef uint32_t (*free_fn)(void *ctx);
typedef uint32_t (*init_fn)(const void *ctx, void *target_info, bool refresh, size_t *pub_size,
                            uint8_t *pub);
typedef uint32_t (*size_fn)(const void *ctx, uint32_t *size);
typedef uint32_t (*quote_fn)(const void *ctx, const uint8_t *report, uint32_t report_size,
                             void *qe_report_info, uint8_t *quote, uint32_t quote_size);

struct qgs_hw {
    void *lib;
    create_fn create;
    free_fn free_ctx;
    init_fn init;
    size_fn size;
    quote_fn quote;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned n, n_free;
    void **ctx;      /* n contexts */
    void **free_ctx_stack; /* n_free of them, idle */
};

static const struct {
    uint32_t code;
    const char *name, *why;
} TEE_ATT_ERRORS[] = {
    {0x11001, "TEE_ATT_ERROR_UNEXPECTED", "unexpected error in Intel's TD quoting library"},
    {0x11002, "TEE_ATT_ERROR_INVALID_PARAMETER", "the library refused a parameter"},
    {0x11003, "TEE_ATT_ERROR_OUT_OF_MEMORY", "out of memory"},
    {0x1100b, "TEE_ATT_UNSUPPORTED_ATT_KEY_ID", "unsupported attestation key id"},
    {0x1100e, "TEE_ATT_PLATFORM_LIB_UNAVAILABLE",
     "no quote provider library (libdcap_quoteprov.so.1): install and configure Intel's QPL"},
    {0x1100f, "TEE_ATT_ATT_KEY_NOT_INITIALIZED", "the attestation key is not certified"},
    {0x11010, "TEE_ATT_ATT_KEY_CERT_DATA_INVALID",
     "the PCK certificate data from the QPL is invalid: check the PCCS"},
    {0x11011, "TEE_ATT_NO_PLATFORM_CERT_DATA",
     "the PCCS has no PCK certificate for this platform: register it (PCK Cert ID Retrieval Tool)"},
    {0x11012, "TEE_ATT_OUT_OF_EPC", "not enough EPC to load the TD quoting enclave"},
    {0x11014, "TEE_ATT_ENCLAVE_LOST", "the TD quoting enclave was lost (power transition)"},
    {0x11015, "TEE_ATT_INVALID_REPORT",
     "the TDREPORT did not verify on this CPU (not made by a TD on this host)"},
    {0x11016, "TEE_ATT_ENCLAVE_LOAD_ERROR",
     "cannot load the TD quoting enclave: is libsgx-ae-tdqe installed, /dev/sgx_enclave "
     "accessible?"},
    {0x11019, "TEE_ATT_NETWORK_ERROR", "network error fetching PCK certificates: check the PCCS"},
    {0x11035, "TEE_ATT_ERROR_INVALID_PRIVILEGE",
     "no access to the provisioning key: add the daemon's user to group sgx_prv"},
};

const char *qgs_hw_error_name(uint32_t code, const char **why)
{
    for (size_t i = 0; i < sizeof TEE_ATT_ERRORS / sizeof TEE_ATT_ERRORS[0]; i++)
        if (TEE_ATT_ERRORS[i].code == code) {
            if (why != NULL)
                *why = TEE_ATT_ERRORS[i].why;
            return TEE_ATT_ERRORS[i].name;
        }
    if (why != NULL)
        *why = "see Intel's td_ql_wrapper.h (tee_att_error_t)";
    return "TEE_ATT_ERROR";
}

static int att_fail(const char *call, uint32_t code, char *err, size_t errcap)
{
    const char *why = NULL;
    const char *name = qgs_hw_error_name(code, &why);
    snprintf(err, errcap, "%s: %s (0x%05x): %s", call, name, (unsigned)code, why);
    return -(int)(code & 0x7fffffff);
}

/* init_quote as QGS does it: size the public key id, then the real call. */
static uint32_t warm(struct qgs_hw *h, void *ctx, bool refresh)
{
    uint8_t ti[TARGET_INFO_SIZE];
    uint8_t pub[512];
    size_t pub_size = 0;
    uint32_t rc = h->init(ctx, ti, refresh, &pub_size, NULL);
    if (rc != TEE_ATT_SUCCESS)
        return rc;
    if (pub_size > sizeof pub)
        return 0x11001u;
    return h->init(ctx, ti, refresh, &pub_size, pub);
}

static void *take(struct qgs_hw *h)
{
    pthread_mutex_lock(&h->mu);
    while (h->n_free == 0)
        pthread_cond_wait(&h->cv, &h->mu);
    void *ctx = h->free_ctx_stack[--h->n_free];
    pthread_mutex_unlock(&h->mu);
    return ctx;
}

static void give_back(struct qgs_hw *h, void *ctx)
{
    pthread_mutex_lock(&h->mu);
    h->free_ctx_stack[h->n_free++] = ctx;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static int hw_get_quote(void *arg, const uint8_t *report, size_t report_len, uint8_t **quote,
                        size_t *quote_len, char *err, size_t errcap)
{
    struct qgs_hw *h = arg;
    *quote = NULL;
    *quote_len = 0;
    if (report_len != TDREPORT_SIZE) {
        snprintf(err, errcap, "a TDREPORT has %u bytes, not %zu", TDREPORT_SIZE, report_len);
        return -1;
    }
    void *ctx = take(h);
    int rc = -1;
    uint8_t *buf = NULL;
    uint32_t size = 0, q = TEE_ATT_SUCCESS;
    /* As QGS: one retry after a refresh when the key needs (re)certifying. */
    for (int attempt = 0; attempt < 2; attempt++) {
        q = h->size(ctx, &size);
        if (q == TEE_ATT_SUCCESS) {
            if (size == 0 || size > QGS_HW_MAX_QUOTE) {
                snprintf(err, errcap, "tee_att_get_quote_size: %u bytes is not a quote size",
                         (unsigned)size);
                goto out;
            }
            free(buf);
            buf = malloc(size);
            if (buf == NULL) {
                snprintf(err, errcap, "out of memory for a %u-byte quote", (unsigned)size);
                goto out;
            }
            q = h->quote(ctx, report, TDREPORT_SIZE, NULL, buf, size);
        }
        if (q != TEE_ATT_ATT_KEY_NOT_INITIALIZED || attempt == 1)
            break;
        uint32_t w = warm(h, ctx, true);
        if (w != TEE_ATT_SUCCESS) {
            rc = att_fail("tee_att_init_quote(refresh)", w, err, errcap);
            goto out;
        }
    }
    if (q != TEE_ATT_SUCCESS) {
        rc = att_fail("tee_att_get_quote", q, err, errcap);
        goto out;
    }
    *quote = buf;
    *quote_len = size;
    buf = NULL;
    rc = 0;
out:
    give_back(h, ctx);
    free(buf);
    return rc;
}

static int hw_get_collateral(void *arg, const uint8_t *fmspc, size_t fmspc_len,
                             const char *pck_ca, qgs_collateral_data *out, char *err,
                             size_t errcap)
{
    (void)arg, (void)fmspc, (void)fmspc_len, (void)pck_ca, (void)out;
    snprintf(err, errcap, "GET_COLLATERAL is not served by the hardware backend: TD verifiers "
                          "fetch collateral from the PCCS (docs/tdx.md)");
    return -1;
}

static int hw_get_platform_info(void *arg, qgs_platform_info *out, char *err, size_t errcap)
{
    (void)arg, (void)out;
    snprintf(err, errcap, "GET_PLATFORM_INFO is not served by the hardware backend "
                          "(docs/tdx.md)");
    return -1;
}

void qgs_backend_hw_close(qgs_backend *b)
{
    struct qgs_hw *h = b->ctx;
    if (h == NULL)
        return;
    for (unsigned i = 0; i < h->n; i++)
        if (h->ctx[i] != NULL)
            h->free_ctx(h->ctx[i]);
    free(h->ctx);
    free(h->free_ctx_stack);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    if (h->lib != NULL)
        dlclose(h->lib);
    free(h);
    b->ctx = NULL;
}

int qgs_backend_hw_open(qgs_backend *b, const char *lib_dir, unsigned contexts, char *err,
                        size_t errcap)
{
    memset(b, 0, sizeof *b);
    struct qgs_hw *h = calloc(1, sizeof *h);
    if (h == NULL || contexts == 0) {
        free(h);
        snprintf(err, errcap, "out of memory (or no worker)");
        return -1;
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    b->ctx = h;
    b->name = "hw";
    b->get_quote = hw_get_quote;
    b->get_collateral = hw_get_collateral;
    b->get_platform_info = hw_get_platform_info;

    char path[4096];
    if (lib_dir != NULL)
        snprintf(path, sizeof path, "%s/%s", lib_dir, TDX_LOGIC_SONAME);
    else
        snprintf(path, sizeof path, "%s", TDX_LOGIC_SONAME);
    h->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h->lib == NULL) {
        snprintf(err, errcap, "cannot load Intel's TD quoting library %s: %s (install "
                              "libsgx-tdx-logic1, or point --hw-lib-dir at it)", path, dlerror());
        goto fail;
    }
    static const char *const names[] = {"tee_att_create_context", "tee_att_free_context",
                                        "tee_att_init_quote", "tee_att_get_quote_size",
                                        "tee_att_get_quote"};
    void *sym[5];
    for (size_t i = 0; i < 5; i++) {
        sym[i] = dlsym(h->lib, names[i]);
        if (sym[i] == NULL) {
            snprintf(err, errcap, "%s has no %s: not Intel's TD quoting library, or too old",
                     path, names[i]);
            goto fail;
        }
    }
    /* POSIX: function pointers round-trip through dlsym's void *. */
    memcpy(&h->create, &sym[0], sizeof h->create);
    memcpy(&h->free_ctx, &sym[1], sizeof h->free_ctx);
    memcpy(&h->init, &sym[2], sizeof h->init);
    memcpy(&h->size, &sym[3], sizeof h->size);
    memcpy(&h->quote, &sym[4], sizeof h->quote);

    h->ctx = calloc(contexts, sizeof *h->ctx);
    h->free_ctx_stack = calloc(contexts, sizeof *h->free_ctx_stack);
    if (h->ctx == NULL || h->free_ctx_stack == NULL) {
        snprintf(err, errcap, "out of memory for %u contexts", contexts);
        goto fail;
    }
    for (unsigned i = 0; i < contexts; i++) {
        uint32_t q = h->create(NULL, NULL, &h->ctx[i]);
        if (q != TEE_ATT_SUCCESS) {
            h->ctx[i] = NULL;
            att_fail("tee_att_create_context", q, err, errcap);
            goto fail;
        }
        h->n = i + 1;
        q = warm(h, h->ctx[i], false);
        if (q != TEE_ATT_SUCCESS) {
            att_fail("tee_att_init_quote", q, err, errcap);
            goto fail;
        }
        h->free_ctx_stack[h->n_free++] = h->ctx[i];
    }
    return 0;
fail:
    qgs_backend_hw_close(b);
    return -1;
}
