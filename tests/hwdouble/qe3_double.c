/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test stand-in for Intel's libsgx_qe3_logic.so (tests only; never
 * installed). The hardware backend dlopens it exactly as it would Intel's
 * library; behind Intel's names and ABI (backend_hw_abi.h, aesm-protocol
 * §8) the simulated platform (src/sim) plays QE3. It keeps Intel's state
 * rules: no key before a full init_quote (AESM 42 otherwise, §8.3), a size
 * query does no enclave work (§8.2), key id re-checks, buffer checks; the
 * QPL loaded per call by its real name (or sgx_set_qpl_path), type 3 when
 * there is none, a key gone stale when the QPL's TCBm moves, a lost
 * enclave kept lost under PERSISTENT. Faults come from the environment
 * (hwdouble.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/backend_hw_abi.h"
#include "crypto/crypto.h"
#include "hwdouble.h"
#include "sgx/le.h"
#include "sgx/reader.h"
#include "sgxqh/quote.h"
#include "sim/sim.h"

#define QE3_PUB_KEY_ID_SIZE 32
#define CERT_TYPE3 3                 /* PPID_RSA3072_ENCRYPTED */
#define CERT_TYPE3_SIZE 404u         /* 384 PPID + 16 CPUSVN + 2 PCESVN + 2 PCEID */
#define QRI_NONCE_SIZE 16
#define QUOTE_TYPE3_SIZE 1456u       /* 1052 + 404 (aesm §6.6) */

enum { CALL_LOAD = 1, CALL_INIT = 2, CALL_SIZE = 4, CALL_QUOTE = 8 };

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_aesm_addr_at_load;
static sim_platform *g_platform;
static bool g_key_ready;
static hw_ql_request_policy g_policy = HW_QL_PERSISTENT;
static bool g_enclave_lost;      /* the loaded QE3 is gone (EPC loss) */
static char g_qpl_path[PATH_MAX]; /* sgx_set_qpl_path */
/* What certified the key (Intel keeps it in the sealed blob): the cert
 * type and the TCBm the QPL answered at init_quote. */
static int g_key_cert_type;
static uint8_t g_key_cert_cpu_svn[16];
static uint16_t g_key_cert_pce_svn;

/* The size of the certification data in the sim's own quotes. */
static uint32_t sim_cert_data_size(void);

#define QE3_ENCLAVE_FILE "libsgx_qe3.signed.so"
/* The QE3 enclave's heap (DCAP qe3 config.xml HeapMaxSize 0x24000): the
 * quote buffer is marshalled into it, so a bigger quote_size fails. */
#define QE3_ENCLAVE_HEAP 0x24000u
#define QPL_SONAME "libdcap_quoteprov.so.1"
#define QPL_LEGACY_NAME "libdcap_quoteprov.so"
#define QE3_MIN_CERT_DATA 500u        /* Intel qe_logic: MIN_CERT_DATA_SIZE */
#define QE3_MAX_CERT_DATA (4098u * 3) /* MAX_CERT_DATA_SIZE */

__attribute__((constructor)) static void qe3_double_loaded(void)
{
    /* libsgx_dcap_ql reads the variable in its constructor (aesm §7); so
     * do we, to catch a process that loads Intel's libraries with it set. */
    g_aesm_addr_at_load = getenv("SGX_AESM_ADDR") != NULL;
    hwdouble_log("qe3 loaded aesm_addr=%s", g_aesm_addr_at_load ? "set" : "unset");
}

__attribute__((destructor)) static void qe3_double_unloaded(void)
{
    sim_platform_close(g_platform);
    g_platform = NULL;
}

/* The fault for this call, or SUCCESS. 0xE00E only switches cert type. */
static uint32_t injected(int call)
{
    const char *on = getenv(HWDOUBLE_ENV_FAIL_ON);
    uint32_t code = hwdouble_env_code(HWDOUBLE_ENV_FAIL);
    int mask = 0;

    if (code == HW_Q3_SUCCESS)
        return HW_Q3_SUCCESS;
    if (code == HW_Q3_PLATFORM_LIB_UNAVAILABLE)
        return HW_Q3_SUCCESS;
    if (on == NULL || on[0] == '\0') {
        mask = CALL_INIT | CALL_SIZE | CALL_QUOTE;
    } else {
        if (strstr(on, "load") != NULL)
            mask |= CALL_LOAD;
        if (strstr(on, "init") != NULL)
            mask |= CALL_INIT;
        if (strstr(on, "size") != NULL)
            mask |= CALL_SIZE;
        if (strstr(on, "quote") != NULL)
            mask |= CALL_QUOTE;
    }
    if ((mask & call) == 0)
        return HW_Q3_SUCCESS;
    hwdouble_log("qe3 inject 0x%04x", (unsigned)code);
    return (uint32_t)code;
}

static bool no_qpl(void)
{
    const char *v = getenv(HWDOUBLE_ENV_FAIL);
    return v != NULL && strtoul(v, NULL, 0) == HW_Q3_PLATFORM_LIB_UNAVAILABLE;
}

/* Entry checks every call shares; returns SUCCESS to go on. */
static uint32_t enter(int call, const char *name)
{
    const char *lose = getenv(HWDOUBLE_ENV_LOSE_ENCLAVE);

    hwdouble_log("qe3 %s", name);
    if (g_aesm_addr_at_load) {
        hwdouble_log("qe3 refusing: SGX_AESM_ADDR was set when the QE3 logic was loaded");
        return HW_Q3_ERROR_UNEXPECTED;
    }
    /* An EPC loss hits the enclave that is loaded now, once. */
    if (lose != NULL && lose[0] != '\0' && g_platform != NULL && unlink(lose) == 0) {
        g_enclave_lost = true;
        hwdouble_log("qe3 enclave lost");
    }
    return injected(call);
}

/* The QPL handle as Intel's QE3 logic gets it for every PCK lookup: the
 * sgx_set_qpl_path path as given (no global init), else the soname then the
 * legacy name through the loader, whose sgx_qpl_global_init must succeed. */
void *get_qpl_handle(void)
{
    void *h;
    hw_qpl_global_init_fn init;

    if (no_qpl())
        return NULL;
    if (g_qpl_path[0] != '\0') {
        h = dlopen(g_qpl_path, RTLD_LAZY);
        hwdouble_log("qe3 qpl %s %s", g_qpl_path, h != NULL ? "loaded" : "missing");
        return h;
    }
    h = dlopen(QPL_SONAME, RTLD_LAZY);
    if (h == NULL)
        h = dlopen(QPL_LEGACY_NAME, RTLD_LAZY);
    if (h == NULL) {
        hwdouble_log("qe3 qpl missing");
        return NULL;
    }
    dlerror();
    *(void **)&init = dlsym(h, "sgx_qpl_global_init");
    if (init != NULL && init() != HW_Q3_SUCCESS) {
        hwdouble_log("qe3 qpl global_init failed");
        dlclose(h);
        return NULL;
    }
    hwdouble_log("qe3 qpl loaded");
    return h;
}

hw_quote3_error sgx_set_qpl_path(const char *p_path)
{
    if (p_path == NULL || strlen(p_path) >= sizeof(g_qpl_path))
        return HW_Q3_ERROR_INVALID_PARAMETER;
    snprintf(g_qpl_path, sizeof(g_qpl_path), "%s", p_path);
    hwdouble_log("qe3 set_qpl_path %s", p_path);
    return HW_Q3_SUCCESS;
}

hw_quote3_error sgx_set_qe3_path(const char *p_path)
{
    if (p_path == NULL)
        return HW_Q3_ERROR_INVALID_PARAMETER;
    return HW_Q3_SUCCESS; /* the simulated QE3 has no enclave file */
}

/* The QPL's answer for this platform (Intel qe_logic's
 * get_platform_quote_cert_data): PLATFORM_LIB_UNAVAILABLE when there is no
 * usable QPL, its own error when it fails. On success *data (malloc'ed,
 * may be NULL when want_data is false) and the TCBm are filled. */
static uint32_t qpl_cert_data(bool want_data, uint8_t **data, uint32_t *size,
                              uint8_t cert_cpu_svn[16], uint16_t *cert_pce_svn)
{
    void *h = get_qpl_handle();
    hw_qpl_get_quote_config_fn get = NULL;
    hw_qpl_free_quote_config_fn release = NULL;
    hw_ql_config *cfg = NULL;
    hw_ql_pck_cert_id id;
    uint8_t qe_id[16], cpu_svn[16];
    uint16_t pce_svn = 0;
    sgx_target_info_t pce_ti;
    uint32_t rc = HW_Q3_PLATFORM_LIB_UNAVAILABLE;

    *data = NULL;
    *size = 0;
    if (h == NULL)
        return rc;
    *(void **)&get = dlsym(h, "sgx_ql_get_quote_config");
    *(void **)&release = dlsym(h, "sgx_ql_free_quote_config");
    if (get == NULL || release == NULL)
        goto out;
    (void)sgx_pce_get_target(&pce_ti, &pce_svn);
    sim_qe_id(g_platform, qe_id);
    memcpy(cpu_svn, sim_tcb(g_platform)->comp_svn, 16);
    memset(&id, 0, sizeof(id));
    id.p_qe3_id = qe_id;
    id.qe3_id_size = sizeof(qe_id);
    id.p_platform_cpu_svn = cpu_svn;
    id.p_platform_pce_isv_svn = &pce_svn;
    id.crypto_suite = HW_PCE_ALG_RSA_OAEP_3072;
    rc = get(&id, &cfg);
    if (rc != HW_Q3_SUCCESS)
        goto out;
    if (cfg == NULL || cfg->version != HW_QL_CONFIG_VERSION_1 || cfg->p_cert_data == NULL) {
        rc = HW_Q3_NO_PLATFORM_CERT_DATA;
        goto out;
    }
    if (cfg->cert_data_size < QE3_MIN_CERT_DATA || cfg->cert_data_size > QE3_MAX_CERT_DATA) {
        rc = HW_Q3_ATT_KEY_CERT_DATA_INVALID;
        goto out;
    }
    memcpy(cert_cpu_svn, cfg->cert_cpu_svn, 16);
    *cert_pce_svn = cfg->cert_pce_isv_svn;
    *size = cfg->cert_data_size;
    if (want_data) {
        *data = malloc(cfg->cert_data_size);
        if (*data == NULL) {
            rc = HW_Q3_ERROR_OUT_OF_MEMORY;
            goto out;
        }
        memcpy(*data, cfg->p_cert_data, cfg->cert_data_size);
    }
out:
    if (cfg != NULL && release != NULL)
        release(cfg);
    dlclose(h);
    return rc;
}

/* The QPL for a key that exists: its cert data (when want_data), or
 * ATT_KEY_NOT_INITIALIZED when the TCBm it answers is not the one that
 * certified the key (Intel's "TCBm in ECDSA blob doesn't match"). *type is
 * 5 with a QPL, 3 without one. */
static uint32_t qpl_for_key(bool want_data, uint8_t **data, uint32_t *size, int *type)
{
    uint8_t cpu[16];
    uint16_t pce = 0;
    uint32_t rc = qpl_cert_data(want_data, data, size, cpu, &pce);

    *type = 5;
    if (rc == HW_Q3_PLATFORM_LIB_UNAVAILABLE) {
        *type = 3;
        return HW_Q3_SUCCESS;
    }
    if (rc != HW_Q3_SUCCESS)
        return rc;
    if (g_key_cert_type != 5 || memcmp(cpu, g_key_cert_cpu_svn, 16) != 0 ||
        pce != g_key_cert_pce_svn) {
        hwdouble_log("qe3 key stale: the QPL's TCBm differs from the key's");
        free(*data);
        *data = NULL;
        return HW_Q3_ATT_KEY_NOT_INITIALIZED;
    }
    return HW_Q3_SUCCESS;
}

/* Intel's QE3 logic finds libsgx_qe3.signed.so in the directory of the
 * path it was itself loaded by (dladdr on its own code), links not
 * followed; so does the double, with a stand-in enclave file. */
static bool enclave_file_next_to_me(void)
{
    Dl_info info;
    char path[PATH_MAX];
    const char *slash;
    struct stat st;

    if (dladdr((void *)enclave_file_next_to_me, &info) == 0 || info.dli_fname == NULL)
        return false;
    slash = strrchr(info.dli_fname, '/');
    if (slash == NULL)
        return true; /* loaded by bare name: the loader's own directory */
    if ((size_t)snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - info.dli_fname),
                         info.dli_fname, QE3_ENCLAVE_FILE) >= sizeof(path))
        return false;
    return stat(path, &st) == 0;
}

/* "Load QE3": open the simulated platform once (PERSISTENT), and ask the
 * PCE for its target as Intel's logic does on every key operation. */
static uint32_t ensure_loaded(void)
{
    sgx_target_info_t pce_ti;
    uint16_t pce_svn = 0;
    char err[256] = "";

    if (sgx_pce_get_target(&pce_ti, &pce_svn) != HW_PCE_SUCCESS)
        return HW_Q3_INTERFACE_UNAVAILABLE;
    /* PERSISTENT: Intel's load_qe hands back the cached enclave id, lost or
     * not; its ecalls then fail with ENCLAVE_LOST. */
    if (g_enclave_lost)
        return HW_Q3_ENCLAVE_LOST;
    if (g_platform == NULL) {
        const char *status = getenv(HWDOUBLE_ENV_LOAD_STATUS);
        if (status != NULL && status[0] != '\0') {
            /* sgx_create_enclave's sgx_status_t, passed up raw by load_qe */
            hwdouble_log("qe3 load status %s", status);
            return (uint32_t)strtoul(status, NULL, 0);
        }
        if (!enclave_file_next_to_me()) {
            hwdouble_log("qe3 enclave file missing");
            return HW_SGX_ERROR_ENCLAVE_FILE_ACCESS;
        }
        if (hwdouble_platform_open(&g_platform, err, sizeof(err)) != SIM_OK) {
            fprintf(stderr, "qe3 double: %s\n", err);
            g_platform = NULL;
            return HW_Q3_ENCLAVE_LOAD_ERROR;
        }
    }
    return HW_Q3_SUCCESS;
}

static bool key_id_ok(const sgx_ql_att_key_id_t *k)
{
    /* What sgx_ql_init_quote re-checks (aesm §8.2 entry check 5). */
    return k != NULL && k->id == 0 && k->version == 0 && k->mrsigner_length == 32 &&
           memcmp(k->mrsigner, SGX_QE3_MRSIGNER, 32) == 0 && k->prod_id == 1 &&
           k->algorithm_id == SGX_QL_ALG_ECDSA_P256;
}

hw_quote3_error sgx_ql_set_enclave_load_policy(hw_ql_request_policy policy)
{
    hwdouble_log("qe3 set_policy %d", (int)policy);
    if (g_aesm_addr_at_load)
        return HW_Q3_ERROR_UNEXPECTED;
    if (policy != HW_QL_PERSISTENT && policy != HW_QL_EPHEMERAL)
        return HW_Q3_UNSUPPORTED_LOADING_POLICY;
    pthread_mutex_lock(&g_lock);
    g_policy = policy;
    /* Intel's ecdsa_set_enclave_load_policy ends with unload_qe(), which
     * destroys QE3 unless the policy is PERSISTENT: the only way to drop a
     * lost enclave. The key (sealed blob, kept outside) survives. */
    if (policy == HW_QL_EPHEMERAL && g_platform != NULL) {
        sim_platform_close(g_platform);
        g_platform = NULL;
        g_enclave_lost = false;
        hwdouble_log("qe3 unloaded");
    }
    pthread_mutex_unlock(&g_lock);
    /* Intel's QE3 logic forwards the policy to the PCE logic. */
    if (sgx_set_pce_enclave_load_policy(policy) != HW_PCE_SUCCESS)
        return HW_Q3_ERROR_UNEXPECTED;
    return HW_Q3_SUCCESS;
}

hw_quote3_error sgx_ql_get_keyid(sgx_att_key_id_ext_t *p_att_key_id_ext)
{
    uint8_t raw[sizeof(sgx_att_key_id_ext_t)];

    if (p_att_key_id_ext == NULL)
        return HW_Q3_ERROR_INVALID_PARAMETER;
    /* aesm §6.4: zeroes, then the ECDSA-P256 base; prod_id 1, algorithm 2. */
    memset(raw, 0, sizeof(raw));
    le_put_u16(raw + offsetof(sgx_ql_att_key_id_t, mrsigner_length), 32);
    memcpy(raw + offsetof(sgx_ql_att_key_id_t, mrsigner), SGX_QE3_MRSIGNER, 32);
    le_put_u32(raw + offsetof(sgx_ql_att_key_id_t, prod_id), 1);
    le_put_u32(raw + offsetof(sgx_ql_att_key_id_t, algorithm_id), SGX_QL_ALG_ECDSA_P256);
    memcpy(p_att_key_id_ext, raw, sizeof(raw));
    hwdouble_log("qe3 get_keyid");
    return HW_Q3_SUCCESS;
}

hw_quote3_error load_qe(uint64_t *p_qe_eid, hw_misc_attribute *p_qe_attributes,
                        uint8_t (*p_launch_token)[HW_LAUNCH_TOKEN_SIZE])
{
    sgx_target_info_t ti;
    uint32_t rc;

    if (p_qe_eid == NULL || p_qe_attributes == NULL || p_launch_token == NULL)
        return HW_Q3_ERROR_INVALID_PARAMETER;
    pthread_mutex_lock(&g_lock);
    rc = enter(CALL_LOAD, "load_qe");
    if (rc == HW_Q3_SUCCESS)
        rc = ensure_loaded();
    if (rc == HW_Q3_SUCCESS) {
        sim_qe_target_info(g_platform, &ti);
        *p_qe_eid = 0x5153; /* any non-zero enclave id */
        p_qe_attributes->flags = ti.attributes.flags;
        p_qe_attributes->xfrm = ti.attributes.xfrm;
        p_qe_attributes->misc_select = ti.misc_select;
        memset(*p_launch_token, 0, HW_LAUNCH_TOKEN_SIZE);
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

hw_quote3_error sgx_ql_init_quote(sgx_ql_att_key_id_t *p_att_key_id,
                                  sgx_target_info_t *p_qe_target_info, bool refresh_att_key,
                                  size_t *p_pub_key_id_size, uint8_t *p_pub_key_id)
{
    uint32_t rc;

    (void)refresh_att_key; /* the simulated key is derived, never refreshed */
    if (p_att_key_id == NULL || p_qe_target_info == NULL || p_pub_key_id_size == NULL)
        return HW_Q3_ERROR_INVALID_PARAMETER;
    if (!key_id_ok(p_att_key_id))
        return HW_Q3_ERROR_INVALID_PARAMETER;
    if (p_pub_key_id == NULL) {
        /* Size query: answer at once, no enclave work (aesm §8.2). */
        *p_pub_key_id_size = QE3_PUB_KEY_ID_SIZE;
        hwdouble_log("qe3 init_quote size_query");
        return HW_Q3_SUCCESS;
    }
    if (*p_pub_key_id_size != QE3_PUB_KEY_ID_SIZE)
        return HW_Q3_ERROR_INVALID_PARAMETER;
    pthread_mutex_lock(&g_lock);
    rc = enter(CALL_INIT, "init_quote");
    if (rc == HW_Q3_SUCCESS)
        rc = ensure_loaded();
    if (rc == HW_Q3_SUCCESS) {
        /* Certify the key with the QPL's TCBm, or the raw TCB and the
         * encrypted PPID (type 3) when no QPL is usable; a QPL that fails
         * fails the call (Intel: "found but it returned an error"). */
        uint8_t *unused = NULL;
        uint32_t size = 0;
        uint16_t pce = 0;
        uint8_t cpu[16];
        rc = qpl_cert_data(false, &unused, &size, cpu, &pce);
        if (rc == HW_Q3_SUCCESS) {
            g_key_cert_type = 5;
            memcpy(g_key_cert_cpu_svn, cpu, 16);
            g_key_cert_pce_svn = pce;
        } else if (rc == HW_Q3_PLATFORM_LIB_UNAVAILABLE) {
            g_key_cert_type = 3;
            rc = HW_Q3_SUCCESS;
        }
    }
    if (rc == HW_Q3_SUCCESS) {
        sim_qe_target_info(g_platform, p_qe_target_info);
        sim_qe_pub_key_id(g_platform, p_pub_key_id);
        g_key_ready = true;
        hwdouble_log("qe3 key certified cert_type=%d", g_key_cert_type);
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

hw_quote3_error sgx_ql_get_quote_size(sgx_ql_att_key_id_t *p_att_key_id, uint32_t *p_quote_size)
{
    uint32_t rc;

    if (p_att_key_id == NULL || p_quote_size == NULL)
        return HW_Q3_ERROR_INVALID_PARAMETER;
    if (!key_id_ok(p_att_key_id))
        return HW_Q3_ERROR_INVALID_PARAMETER;
    pthread_mutex_lock(&g_lock);
    rc = enter(CALL_SIZE, "get_quote_size");
    if (rc == HW_Q3_SUCCESS)
        rc = ensure_loaded();
    if (rc == HW_Q3_SUCCESS && !g_key_ready)
        rc = HW_Q3_ATT_KEY_NOT_INITIALIZED; /* aesm §8.3 */
    if (rc == HW_Q3_SUCCESS) {
        uint8_t *unused = NULL;
        uint32_t cert_size = 0;
        int type = 5;
        rc = qpl_for_key(false, &unused, &cert_size, &type);
        /* Without a QPL: 1052 + 404 = 1456 (aesm §6.6); with one, the
         * signed part and auth data (as in the sim's own quote) plus the
         * QPL's certification data. */
        if (rc == HW_Q3_SUCCESS)
            *p_quote_size = type == 3 ? QUOTE_TYPE3_SIZE
                                      : sim_quote_size(g_platform) - sim_cert_data_size() +
                                            cert_size;
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

/* Replace the certification data of a type-5 quote (src) with the QPL's
 * (data): same bytes up to it, signature_data_len fixed up. Returns the
 * new length, or 0 when dst is too small. */
static size_t to_cert_type5(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                            const uint8_t *data, uint32_t dlen)
{
    size_t at, total;

    if (!hwdouble_cert_data_at(src, len, &at))
        return 0;
    total = at + 6 + dlen;
    if (total > cap)
        return 0;
    memcpy(dst, src, at);
    le_put_u16(dst + at, 5);
    le_put_u32(dst + at + 2, dlen);
    memcpy(dst + at + 6, data, dlen);
    le_put_u32(dst + QUOTE_V3_SIGNED_LEN, (uint32_t)(total - QUOTE_V3_SIG_OFFSET));
    return total;
}

/* Turn a type-5 quote (src) into the type-3 quote QE3 emits when no QPL is
 * available: same bytes up to the certification data, which becomes the
 * encrypted PPID from the PCE, and signature_data_len fixed up. The ECDSA
 * signature covers [0, 432) and the QE report binds only the attestation
 * key, so both stay valid (aesm §6.6). Returns the new length, or 0 when
 * dst is too small or the PCE fails. */
static size_t to_cert_type3(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                            const sgx_report_t *app)
{
    uint8_t ppid[HW_PCE_ENCRYPTED_PPID_SIZE];
    uint8_t pek[HW_PCE_ENCRYPTED_PPID_SIZE + 4];
    uint32_t ppid_len = 0;
    uint16_t pce_svn = 0, pce_id = 0;
    uint8_t scheme = 0;
    size_t at, total;

    if (!hwdouble_cert_data_at(src, len, &at))
        return 0;
    total = at + 6 + CERT_TYPE3_SIZE;
    if (total > cap)
        return 0;
    memset(pek, 0x01, sizeof(pek));
    if (sgx_get_pce_info(app, pek, sizeof(pek), HW_PCE_ALG_RSA_OAEP_3072, ppid, sizeof(ppid),
                         &ppid_len, &pce_svn, &pce_id, &scheme) != HW_PCE_SUCCESS ||
        ppid_len != sizeof(ppid))
        return 0;
    memcpy(dst, src, at);
    le_put_u16(dst + at, CERT_TYPE3);
    le_put_u32(dst + at + 2, CERT_TYPE3_SIZE);
    memcpy(dst + at + 6, ppid, sizeof(ppid));
    memcpy(dst + at + 6 + 384, app->body.cpu_svn, 16); /* raw CPUSVN as the cert CPUSVN */
    le_put_u16(dst + at + 6 + 400, pce_svn);
    le_put_u16(dst + at + 6 + 402, pce_id);
    le_put_u32(dst + QUOTE_V3_SIGNED_LEN, (uint32_t)(total - QUOTE_V3_SIG_OFFSET));
    return total;
}

/* The QE report for the app (aesm §6.3), made as the simulated QE makes it:
 * the QE's own identity (from the QE report body in the quote, offset 564),
 * the app's CPUSVN, report_data = SHA-256(nonce ‖ quote) ‖ 0^32. */
static int qe_report_for(const uint8_t *quote, size_t len, const sgx_report_t *app,
                         sgx_qe_report_info_t *qri)
{
    sgx_report_body_t qe;
    sim_enclave_identity id;
    crypto_buf parts[2];

    memcpy(&qe, quote + QUOTE_V3_SIG_OFFSET + 128, sizeof(qe));
    memset(&id, 0, sizeof(id));
    memcpy(id.mr_enclave, qe.mr_enclave, 32);
    memcpy(id.mr_signer, qe.mr_signer, 32);
    id.flags = qe.attributes.flags;
    id.xfrm = qe.attributes.xfrm;
    id.misc_select = qe.misc_select;
    id.isv_prod_id = qe.isv_prod_id;
    id.isv_svn = qe.isv_svn;
    memcpy(id.cpu_svn, app->body.cpu_svn, 16);
    parts[0].ptr = qri->nonce;
    parts[0].len = QRI_NONCE_SIZE;
    parts[1].ptr = quote;
    parts[1].len = len;
    if (crypto_sha256_parts(parts, 2, id.report_data) != 0)
        return -1;
    return sim_ereport(&id, &qri->app_enclave_target_info, &qri->qe_report) == SIM_OK ? 0 : -1;
}

hw_quote3_error sgx_ql_get_quote(const sgx_report_t *p_app_report,
                                 sgx_ql_att_key_id_t *p_att_key_id,
                                 sgx_qe_report_info_t *p_qe_report_info, uint8_t *p_quote,
                                 uint32_t quote_size)
{
    size_t len = 0;
    uint32_t rc;
    int sr;
    uint8_t *cert = NULL;
    uint32_t cert_size = 0;
    int type = 5;

    if (p_app_report == NULL || p_att_key_id == NULL || p_quote == NULL)
        return HW_Q3_ERROR_INVALID_PARAMETER;
    if (!key_id_ok(p_att_key_id))
        return HW_Q3_ERROR_INVALID_PARAMETER;
    if (quote_size > QE3_ENCLAVE_HEAP) {
        hwdouble_log("qe3 get_quote quote_size %u does not fit the enclave heap",
                     (unsigned)quote_size);
        return HW_Q3_ERROR_OUT_OF_MEMORY;
    }
    pthread_mutex_lock(&g_lock);
    rc = enter(CALL_QUOTE, "get_quote");
    if (rc == HW_Q3_SUCCESS)
        rc = ensure_loaded();
    if (rc == HW_Q3_SUCCESS && !g_key_ready)
        rc = HW_Q3_ATT_KEY_NOT_INITIALIZED;
    if (rc == HW_Q3_SUCCESS)
        rc = qpl_for_key(true, &cert, &cert_size, &type);
    if (rc != HW_Q3_SUCCESS)
        goto out;
    {
        size_t full = sim_quote_size(g_platform);
        uint8_t *tmp = malloc(full);
        if (tmp == NULL) {
            rc = HW_Q3_ERROR_OUT_OF_MEMORY;
            goto out;
        }
        sr = sim_get_quote(g_platform, p_app_report, NULL, tmp, full, &len);
        if (sr == SIM_OK) {
            len = type == 3 ? to_cert_type3(tmp, len, p_quote, quote_size, p_app_report)
                            : to_cert_type5(tmp, len, p_quote, quote_size, cert, cert_size);
            if (len == 0)
                sr = SIM_E_BUFFER_TOO_SMALL;
        }
        free(tmp);
    }
    if (sr == SIM_E_INVALID_REPORT) {
        rc = HW_Q3_INVALID_REPORT; /* aesm §8.4 step 1 */
        goto out;
    }
    if (sr == SIM_E_BUFFER_TOO_SMALL) {
        rc = HW_Q3_ERROR_INVALID_PARAMETER; /* §8.4 step 2 */
        goto out;
    }
    if (sr != SIM_OK) {
        rc = HW_Q3_ERROR_UNEXPECTED;
        goto out;
    }
    if (p_qe_report_info != NULL &&
        qe_report_for(p_quote, len, p_app_report, p_qe_report_info) != 0) {
        rc = HW_Q3_UNABLE_TO_GENERATE_QE_REPORT;
        goto out;
    }
    hwdouble_log("qe3 quote %zu bytes cert_type=%d", len, type);
out:
    pthread_mutex_unlock(&g_lock);
    free(cert);
    return rc;
}

static uint32_t sim_cert_data_size(void)
{
    /* The sim's quote: 1012 + 2 + auth data + 6 + cert data; its cert data
     * is what the QPL double hands out, so size it by its own quote. */
    sim_enclave_identity id;
    sgx_target_info_t ti;
    sgx_report_t report;
    size_t full = sim_quote_size(g_platform), len = 0, at = 0;
    uint8_t *q = malloc(full);
    uint32_t size = 0;
    reader r;

    if (q == NULL)
        return 0;
    sim_qe_target_info(g_platform, &ti);
    sim_enclave_identity_default(&id);
    if (sim_ereport(&id, &ti, &report) != SIM_OK ||
        sim_get_quote(g_platform, &report, NULL, q, full, &len) != SIM_OK ||
        !(hwdouble_cert_data_at(q, len, &at) && reader_init(&r, q + at, len - at) == READER_OK &&
          reader_skip(&r, 2) == READER_OK && reader_u32le(&r, &size) == READER_OK))
        size = 0;
    free(q);
    return size;
}
