/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test stand-in for a quote provider library, libdcap_quoteprov.so.1
 * (Intel's libsgx-dcap-default-qpl) or, built with QPL_DOUBLE_AZURE,
 * libdcap_quoteprov.so (Microsoft's az-dcap-client). Tests only. The QE3
 * double dlopens it by the real name, as Intel's QE3 logic does, to fetch
 * the PCK certificate data and the TCBm that certify the attestation key.
 * The "PCCS" is the simulated platform: its PCK chain, taken from a quote it
 * signs once. Delays, errors and a moved TCB come from the environment
 * (hwdouble.h). Exports only the names of the real library (DCAP
 * sgx_default_quote_provider.h; Azure-DCAP-Client dcap_provider.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend_hw_abi.h"
#include "hwdouble.h"
#include "sgx/reader.h"
#include "sim/sim.h"

#define CERT_TYPE_PCK_CHAIN 5

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static hw_ql_logging_callback g_logger;
static hw_ql_log_level g_log_level = HW_QL_LOG_ERROR;
static uint8_t *g_chain;
static uint32_t g_chain_len;

#ifdef QPL_DOUBLE_AZURE
#define QPL_NAME "azure"
#else
#define QPL_NAME "intel"
#endif

static void qpl_say(hw_ql_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void qpl_say(hw_ql_log_level level, const char *fmt, ...)
{
    char msg[384];
    va_list ap;

    if (g_logger == NULL || level > g_log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    g_logger(level, msg);
}

/* The PCCS round trip: SGXQH_QPL_DELAY_MS of waiting. */
static void pccs_wait(void)
{
    const char *v = getenv(HWDOUBLE_ENV_QPL_DELAY_MS);
    long ms = v != NULL ? strtol(v, NULL, 10) : 0;
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The simulated platform's PCK certificate chain, as its quotes carry it
 * (certification data type 5): made once from a quote for a throw-away
 * report, cut out through the bounded reader. */
static uint32_t load_chain_locked(void)
{
    sim_platform *p = NULL;
    sim_enclave_identity id;
    sgx_target_info_t qe_ti;
    sgx_report_t report;
    uint8_t *quote = NULL;
    size_t len = 0;
    uint16_t type = 0;
    uint32_t size = 0;
    size_t at = 0;
    const uint8_t *data;
    reader r;
    char err[256];
    uint32_t rc = HW_Q3_ERROR_UNEXPECTED;

    if (g_chain != NULL)
        return HW_Q3_SUCCESS;
    if (hwdouble_platform_open(&p, err, sizeof(err)) != SIM_OK) {
        qpl_say(HW_QL_LOG_ERROR, "[QPL double] %s", err);
        return HW_Q3_NO_PLATFORM_CERT_DATA;
    }
    sim_qe_target_info(p, &qe_ti);
    sim_enclave_identity_default(&id);
    quote = malloc(sim_quote_size(p));
    if (quote == NULL || sim_ereport(&id, &qe_ti, &report) != SIM_OK ||
        sim_get_quote(p, &report, NULL, quote, sim_quote_size(p), &len) != SIM_OK)
        goto out;
    if (!hwdouble_cert_data_at(quote, len, &at) || reader_init(&r, quote + at, len - at) != READER_OK ||
        reader_u16le(&r, &type) != READER_OK || reader_u32le(&r, &size) != READER_OK ||
        type != CERT_TYPE_PCK_CHAIN || reader_bytes(&r, size, &data) != READER_OK)
        goto out;
    g_chain = malloc(size);
    if (g_chain == NULL)
        goto out;
    memcpy(g_chain, data, size);
    g_chain_len = size;
    rc = HW_Q3_SUCCESS;
out:
    free(quote);
    sim_platform_close(p);
    return rc;
}

__attribute__((destructor)) static void qpl_double_unloaded(void)
{
    free(g_chain);
    g_chain = NULL;
}

hw_quote3_error sgx_ql_get_quote_config(const hw_ql_pck_cert_id *p_pck_cert_id,
                                        hw_ql_config **pp_quote_config)
{
    hw_ql_config *cfg;
    uint32_t rc;
    const char *svn;

    if (p_pck_cert_id == NULL || pp_quote_config == NULL ||
        p_pck_cert_id->p_platform_cpu_svn == NULL || p_pck_cert_id->p_platform_pce_isv_svn == NULL)
        return HW_Q3_ERROR_INVALID_PARAMETER;
    *pp_quote_config = NULL;
    hwdouble_log("qpl %s get_quote_config", QPL_NAME);
    qpl_say(HW_QL_LOG_INFO, "[QPL] Retrieving the PCK certificate chain for this platform");
    pccs_wait();
    rc = hwdouble_env_code(HWDOUBLE_ENV_QPL_INIT_FAIL); /* a broken config breaks every call */
    if (rc == HW_Q3_SUCCESS)
        rc = hwdouble_env_code(HWDOUBLE_ENV_QPL_FAIL);
    if (rc != HW_Q3_SUCCESS) {
        qpl_say(HW_QL_LOG_ERROR, "[QPL] Failed to get quote config. Error code is 0x%04x",
                (unsigned)rc);
        hwdouble_log("qpl %s inject 0x%04x", QPL_NAME, (unsigned)rc);
        return rc;
    }
    pthread_mutex_lock(&g_lock);
    rc = load_chain_locked();
    if (rc == HW_Q3_SUCCESS) {
        cfg = calloc(1, sizeof(*cfg) + g_chain_len);
        if (cfg == NULL) {
            rc = HW_Q3_ERROR_OUT_OF_MEMORY;
        } else {
            cfg->version = HW_QL_CONFIG_VERSION_1;
            memcpy(cfg->cert_cpu_svn, p_pck_cert_id->p_platform_cpu_svn, 16);
            cfg->cert_pce_isv_svn = *p_pck_cert_id->p_platform_pce_isv_svn;
            /* SGXQH_QPL_PCESVN: the PCCS now answers another TCBm (a TCB
             * recovery), so a key certified earlier is stale. */
            svn = getenv(HWDOUBLE_ENV_QPL_PCESVN);
            if (svn != NULL && svn[0] != '\0')
                cfg->cert_pce_isv_svn = (uint16_t)strtoul(svn, NULL, 0);
            cfg->cert_data_size = g_chain_len;
            cfg->p_cert_data = (uint8_t *)(cfg + 1);
            memcpy(cfg->p_cert_data, g_chain, g_chain_len);
            *pp_quote_config = cfg;
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (rc != HW_Q3_SUCCESS)
        qpl_say(HW_QL_LOG_ERROR, "[QPL] No certificate data for this platform.");
    return rc;
}

hw_quote3_error sgx_ql_free_quote_config(hw_ql_config *p_quote_config)
{
    free(p_quote_config);
    return HW_Q3_SUCCESS;
}

#ifdef QPL_DOUBLE_AZURE
/* Azure-DCAP-Client: the older logging entry point only, no global init. */
int sgx_ql_set_logging_function(hw_ql_logging_callback logger)
{
    g_logger = logger;
    g_log_level = HW_QL_LOG_INFO;
    hwdouble_log("qpl azure set_logging_function");
    return 0; /* SGX_PLAT_ERROR_OK */
}
#else
hw_quote3_error sgx_ql_set_logging_callback(hw_ql_logging_callback logger,
                                            hw_ql_log_level loglevel)
{
    g_logger = logger;
    g_log_level = loglevel;
    hwdouble_log("qpl intel set_logging_callback level=%d", (int)loglevel);
    return HW_Q3_SUCCESS;
}

/* Intel's QCNL reads and checks its JSON config here; Intel's QE3 logic
 * calls it on every load by the default name and treats a failure as "no
 * QPL" (certification type 3). SGXQH_QPL_INIT_FAIL plays a bad config. */
hw_quote3_error sgx_qpl_global_init(void)
{
    uint32_t rc = hwdouble_env_code(HWDOUBLE_ENV_QPL_INIT_FAIL);

    hwdouble_log("qpl intel global_init 0x%04x", (unsigned)rc);
    if (rc != HW_Q3_SUCCESS)
        qpl_say(HW_QL_LOG_ERROR, "[QCNL] Invalid JSON in the QCNL configuration (0x%04x)",
                (unsigned)rc);
    return rc;
}

hw_quote3_error sgx_qpl_global_cleanup(void)
{
    return HW_Q3_SUCCESS;
}

hw_quote3_error sgx_qpl_clear_cache(uint32_t cache_type)
{
    (void)cache_type;
    return HW_Q3_SUCCESS;
}
#endif
