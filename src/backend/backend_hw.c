/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hardware backend: backend_ops over Intel's DCAP logic libraries.
 *
 * service → [backend_hw] → libsgx_qe3_logic.so.1 → QE3 enclave (+ QPL/PCCS)
 *                        → libsgx_pce_logic.so.1 → PCE enclave
 * Both libraries are dlopen'ed at run time (never linked), the same four
 * calls aesmd's ECDSA plugin makes (aesm-protocol §8), with the PERSISTENT
 * load policy, QE3 loaded at start, every call under one mutex, and Intel's
 * quote3_error_t turned into aesmd's aesm_error_t (§5.5).
 */
#include "backend/backend_hw.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend_hw_abi.h"
#include "backend/backend_impl.h"
#include "sgx/reader.h"

#define HW_PUB_KEY_ID_SIZE 32 /* ECDSA_ID = SHA-256, aesm §8.2 */
#define HW_QUOTE_SIG_LEN_OFFSET 432 /* quote-format §1.1 / aesm §6.6 */
#define HW_QUOTE_SIG_DATA_OFFSET 436
#define HW_NOTES_CAP 1536
#define HW_LAST_ERROR_CAP 320

/* ---- quote3_error_t → aesm_error_t (aesm §5.5) ---- */

static const struct {
    uint32_t q3;
    aesm_error_t aesm;
    const char *name;
    const char *hint;
} QUOTE3_TABLE[] = {
    {HW_Q3_SUCCESS, AESM_SUCCESS, "SGX_QL_SUCCESS", ""},
    {HW_Q3_ERROR_UNEXPECTED, AESM_UNEXPECTED_ERROR, "SGX_QL_ERROR_UNEXPECTED",
     "an internal error in Intel's quoting library; see the lines before this one"},
    {HW_Q3_ERROR_INVALID_PARAMETER, AESM_PARAMETER_ERROR, "SGX_QL_ERROR_INVALID_PARAMETER",
     "a buffer size or key id the QE3 logic rejected"},
    {HW_Q3_ERROR_OUT_OF_MEMORY, AESM_OUT_OF_MEMORY_ERROR, "SGX_QL_ERROR_OUT_OF_MEMORY",
     "the daemon ran out of memory"},
    {HW_Q3_ERROR_ECDSA_ID_MISMATCH, AESM_ECDSA_ID_MISMATCH, "SGX_QL_ERROR_ECDSA_ID_MISMATCH", ""},
    {HW_Q3_PATHNAME_BUFFER_OVERFLOW_ERROR, AESM_PATHNAME_BUFFER_OVERFLOW_ERROR,
     "SGX_QL_PATHNAME_BUFFER_OVERFLOW_ERROR", "an enclave or QPL path is too long"},
    {HW_Q3_FILE_ACCESS_ERROR, AESM_FILE_ACCESS_ERROR, "SGX_QL_FILE_ACCESS_ERROR",
     "the QE3 logic could not read an enclave file next to libsgx_qe3_logic.so.1"},
    {HW_Q3_ERROR_STORED_KEY, AESM_ERROR_STORED_KEY, "SGX_QL_ERROR_STORED_KEY", ""},
    {HW_Q3_ERROR_PUB_KEY_ID_MISMATCH, AESM_PUB_KEY_ID_MISMATCH, "SGX_QL_ERROR_PUB_KEY_ID_MISMATCH",
     ""},
    {HW_Q3_ERROR_INVALID_PCE_SIG_SCHEME, AESM_INVALID_PCE_SIG_SCHEME,
     "SGX_QL_ERROR_INVALID_PCE_SIG_SCHEME", "libsgx-pce-logic and libsgx-qe3-logic versions differ"},
    {HW_Q3_ATT_KEY_BLOB_ERROR, AESM_ATT_KEY_BLOB_ERROR, "SGX_QL_ATT_KEY_BLOB_ERROR", ""},
    {HW_Q3_UNSUPPORTED_ATT_KEY_ID, AESM_UNSUPPORTED_ATT_KEY_ID, "SGX_QL_UNSUPPORTED_ATT_KEY_ID",
     "the key id is not the ECDSA-P256 one, or QE3 could not be loaded"},
    {HW_Q3_UNSUPPORTED_LOADING_POLICY, AESM_UNSUPPORTED_LOADING_POLICY,
     "SGX_QL_UNSUPPORTED_LOADING_POLICY", ""},
    {HW_Q3_INTERFACE_UNAVAILABLE, AESM_INTERFACE_UNAVAILABLE, "SGX_QL_INTERFACE_UNAVAILABLE",
     "the QE3 enclave could not be loaded (SGX PSW/urts missing?)"},
    {HW_Q3_PLATFORM_LIB_UNAVAILABLE, AESM_PLATFORM_LIB_UNAVAILABLE,
     "SGX_QL_PLATFORM_LIB_UNAVAILABLE",
     "no quote provider library (libdcap_quoteprov.so.1): install libsgx-dcap-default-qpl"},
    {HW_Q3_ATT_KEY_NOT_INITIALIZED, AESM_ATT_KEY_NOT_INITIALIZED, "SGX_QL_ATT_KEY_NOT_INITIALIZED",
     "no attestation key yet (or the platform TCB changed): the client must call init_quote again"},
    {HW_Q3_ATT_KEY_CERT_DATA_INVALID, AESM_ATT_KEY_CERT_DATA_INVALID,
     "SGX_QL_ATT_KEY_CERT_DATA_INVALID",
     "the QPL returned certification data of a bad size; check the PCCS"},
    {HW_Q3_NO_PLATFORM_CERT_DATA, AESM_NO_PLATFORM_CERT_DATA, "SGX_QL_NO_PLATFORM_CERT_DATA",
     "the platform is not registered with the PCCS (no PCK certificate for it)"},
    {HW_Q3_OUT_OF_EPC, AESM_OUT_OF_EPC, "SGX_QL_OUT_OF_EPC",
     "not enough EPC to load QE3/PCE; other enclaves use it all"},
    {HW_Q3_ERROR_REPORT, AESM_ERROR_REPORT, "SGX_QL_ERROR_REPORT", ""},
    {HW_Q3_ENCLAVE_LOST, AESM_ENCLAVE_LOST, "SGX_QL_ENCLAVE_LOST",
     "the enclave was lost (power transition); the next call reloads it"},
    {HW_Q3_INVALID_REPORT, AESM_INVALID_REPORT, "SGX_QL_INVALID_REPORT",
     "the app REPORT was not made for this QE3's target info (stale after a restart?)"},
    {HW_Q3_ENCLAVE_LOAD_ERROR, AESM_ENCLAVE_LOAD_ERROR, "SGX_QL_ENCLAVE_LOAD_ERROR",
     "QE3/PCE failed to load: check /dev/sgx_enclave, /dev/sgx_provision (group sgx_prv) and "
     "that /dev is not mounted noexec"},
    {HW_Q3_UNABLE_TO_GENERATE_QE_REPORT, AESM_UNABLE_TO_GENERATE_QE_REPORT,
     "SGX_QL_UNABLE_TO_GENERATE_QE_REPORT", ""},
    {HW_Q3_KEY_CERTIFCATION_ERROR, AESM_KEY_CERTIFICATION_ERROR, "SGX_QL_KEY_CERTIFCATION_ERROR",
     "the QPL returned a TCB higher than the platform's; check the PCCS data"},
    {HW_Q3_NETWORK_ERROR, AESM_NETWORK_ERROR, "SGX_QL_NETWORK_ERROR",
     "the PCCS is unreachable: check pccs_url in the QCNL config (localhost inside a container "
     "is the container itself)"},
    {HW_Q3_MESSAGE_ERROR, AESM_MSG_ERROR, "SGX_QL_MESSAGE_ERROR",
     "the PCCS answered something the QPL could not parse"},
};

/* Names for codes aesmd does not map (they all become 1, §5.5 last row). */
static const struct {
    uint32_t q3;
    const char *name;
    const char *hint;
} QUOTE3_OTHER[] = {
    {HW_Q3_ERROR_INVALID_PRIVILEGE, "SGX_QL_ERROR_INVALID_PRIVILEGE",
     "no access to /dev/sgx_provision: add the daemon's user to group sgx_prv"},
    {HW_Q3_UNSUPPORTED_MODE, "SGX_QL_UNSUPPORTED_MODE", ""},
    {HW_Q3_NO_DEVICE, "SGX_QL_NO_DEVICE", "no SGX device node"},
    {HW_Q3_SERVICE_UNAVAILABLE, "SGX_QL_SERVICE_UNAVAILABLE",
     "the QPL could not reach its service"},
    {HW_Q3_NETWORK_FAILURE, "SGX_QL_NETWORK_FAILURE", "the PCCS is unreachable"},
    {HW_Q3_SERVICE_TIMEOUT, "SGX_QL_SERVICE_TIMEOUT", ""},
    {HW_Q3_ERROR_BUSY, "SGX_QL_ERROR_BUSY", ""},
    {HW_Q3_PLATFORM_UNKNOWN, "SGX_QL_PLATFORM_UNKNOWN",
     "the PCCS does not know this platform: register it"},
    {HW_Q3_CERTS_UNAVAILABLE, "SGX_QL_CERTS_UNAVAILABLE", "the PCCS has no certificates for it"},
};

aesm_error_t backend_hw_aesm_from_quote3(uint32_t q3)
{
    for (size_t i = 0; i < sizeof(QUOTE3_TABLE) / sizeof(QUOTE3_TABLE[0]); i++) {
        if (QUOTE3_TABLE[i].q3 == q3)
            return QUOTE3_TABLE[i].aesm;
    }
    return AESM_UNEXPECTED_ERROR;
}

const char *quote3_error_name(uint32_t q3)
{
    for (size_t i = 0; i < sizeof(QUOTE3_TABLE) / sizeof(QUOTE3_TABLE[0]); i++) {
        if (QUOTE3_TABLE[i].q3 == q3)
            return QUOTE3_TABLE[i].name;
    }
    for (size_t i = 0; i < sizeof(QUOTE3_OTHER) / sizeof(QUOTE3_OTHER[0]); i++) {
        if (QUOTE3_OTHER[i].q3 == q3)
            return QUOTE3_OTHER[i].name;
    }
    return "SGX_QL_UNKNOWN_ERROR";
}

const char *quote3_error_hint(uint32_t q3)
{
    for (size_t i = 0; i < sizeof(QUOTE3_TABLE) / sizeof(QUOTE3_TABLE[0]); i++) {
        if (QUOTE3_TABLE[i].q3 == q3)
            return QUOTE3_TABLE[i].hint;
    }
    for (size_t i = 0; i < sizeof(QUOTE3_OTHER) / sizeof(QUOTE3_OTHER[0]); i++) {
        if (QUOTE3_OTHER[i].q3 == q3)
            return QUOTE3_OTHER[i].hint;
    }
    return "";
}

/* ---- logging ---- */

static backend_hw_log_fn g_log_fn;
static void *g_log_ctx;

void backend_hw_set_logger(backend_hw_log_fn fn, void *ctx)
{
    g_log_fn = fn;
    g_log_ctx = ctx;
}

static void hw_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hw_log(const char *level, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (g_log_fn != NULL)
        g_log_fn(g_log_ctx, level, msg);
    else
        fprintf(stderr, "sgx-quote-helperd: backend hw: %s: %s\n", level, msg);
}

/* ---- the backend ---- */

typedef struct {
    /* Intel's QE3 logic keeps global state (the cached key blob, the loaded
     * enclave) and aesmd calls it under one bundle-wide mutex (§8.1
     * "Serialization"); so do we, whatever the service does. */
    pthread_mutex_t call_lock;
    void *pce_dl;
    void *qe3_dl;
    hw_ql_set_enclave_load_policy_fn set_policy;
    hw_ql_get_keyid_fn get_keyid;
    hw_ql_init_quote_fn init_quote;
    hw_ql_get_quote_size_fn get_quote_size;
    hw_ql_get_quote_fn get_quote;
    hw_load_qe_fn load_qe; /* NULL when the library keeps it private */
    sgx_att_key_id_ext_t key_id;
    char pce_path[PATH_MAX];
    char qe3_path[PATH_MAX];
    /* Notes are written at open and on failures; read from any thread. */
    pthread_mutex_t notes_lock;
    char notes[HW_NOTES_CAP];
    char last_error[HW_LAST_ERROR_CAP];
} hw_backend;

static const backend_ops HW_OPS;

static hw_backend *hw_of(backend *b)
{
    return (hw_backend *)b->impl;
}

static void hw_note(hw_backend *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hw_note(hw_backend *h, const char *fmt, ...)
{
    size_t used = strlen(h->notes);
    va_list ap;

    if (used + 2 >= sizeof(h->notes))
        return;
    va_start(ap, fmt);
    vsnprintf(h->notes + used, sizeof(h->notes) - used, fmt, ap);
    va_end(ap);
    used = strlen(h->notes);
    if (used + 1 < sizeof(h->notes)) {
        h->notes[used] = '\n';
        h->notes[used + 1] = '\0';
    }
}

/* Remember (and log) the last Intel failure with its name and hint, so
 * health text and logs say more than a number (STYLE.md, curl habit). */
static aesm_error_t hw_result(hw_backend *h, const char *call, uint32_t q3)
{
    aesm_error_t a = backend_hw_aesm_from_quote3(q3);

    if (q3 != HW_Q3_SUCCESS) {
        const char *hint = quote3_error_hint(q3);
        pthread_mutex_lock(&h->notes_lock);
        snprintf(h->last_error, sizeof(h->last_error), "%s: 0x%04x %s (aesm %d)%s%s", call,
                 (unsigned)q3, quote3_error_name(q3), (int)a, hint[0] ? ": " : "", hint);
        pthread_mutex_unlock(&h->notes_lock);
    }
    return a;
}

static void hw_set_err(char *errbuf, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void hw_set_err(char *errbuf, size_t errcap, const char *fmt, ...)
{
    va_list ap;

    if (errbuf == NULL || errcap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errcap, fmt, ap);
    va_end(ap);
}

/* dlopen `soname` (then the unversioned name) from dir, or through the
 * dynamic loader's search path when dir is NULL. */
static void *hw_dlopen(const char *dir, const char *soname, int flags, char *path, size_t pathcap,
                       char *why, size_t whycap)
{
    char names[2][128];
    size_t n = strlen(soname);

    snprintf(names[0], sizeof(names[0]), "%s", soname);
    snprintf(names[1], sizeof(names[1]), "%s", soname);
    if (n > 2 && strcmp(soname + n - 2, ".1") == 0)
        names[1][n - 2] = '\0'; /* libX.so.1 -> libX.so */
    why[0] = '\0';
    for (size_t i = 0; i < 2; i++) {
        void *h;
        if (dir != NULL)
            snprintf(path, pathcap, "%s/%s", dir, names[i]);
        else
            snprintf(path, pathcap, "%s", names[i]);
        dlerror();
        h = dlopen(path, flags);
        if (h != NULL)
            return h;
        if (i == 0) {
            const char *e = dlerror();
            snprintf(why, whycap, "%s", e != NULL ? e : "unknown dlopen error");
        }
    }
    return NULL;
}

static void *hw_sym(void *dl, const char *name)
{
    dlerror();
    return dlsym(dl, name);
}

static bool hw_file_exists(const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;

    if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p))
        return false;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Where Intel's QE3 logic will dlopen("libdcap_quoteprov.so.1") from: the
 * loader's path. We look without loading: the QPL belongs to Intel's code,
 * and loading it here would run its constructors in our process twice. */
static bool hw_find_qpl(const char *lib_dir, char *found, size_t cap)
{
    static const char *const SYSTEM_DIRS[] = {
        "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64",
        "/usr/lib",                  "/lib",                  "/usr/local/lib",
    };
    const char *ld = getenv("LD_LIBRARY_PATH");

    if (lib_dir != NULL && hw_file_exists(lib_dir, BACKEND_HW_QPL_LIB)) {
        snprintf(found, cap, "%s/%s", lib_dir, BACKEND_HW_QPL_LIB);
        return true;
    }
    if (ld != NULL) {
        char copy[2048];
        char *save = NULL;
        snprintf(copy, sizeof(copy), "%s", ld);
        for (char *d = strtok_r(copy, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
            if (d[0] != '\0' && hw_file_exists(d, BACKEND_HW_QPL_LIB)) {
                snprintf(found, cap, "%s/%s", d, BACKEND_HW_QPL_LIB);
                return true;
            }
        }
    }
    for (size_t i = 0; i < sizeof(SYSTEM_DIRS) / sizeof(SYSTEM_DIRS[0]); i++) {
        if (hw_file_exists(SYSTEM_DIRS[i], BACKEND_HW_QPL_LIB)) {
            snprintf(found, cap, "%s/%s", SYSTEM_DIRS[i], BACKEND_HW_QPL_LIB);
            return true;
        }
    }
    return false;
}

static void hw_check_qpl(hw_backend *h, const char *lib_dir)
{
    char qpl[PATH_MAX];
    const char *conf = getenv("QCNL_CONF_PATH"); /* Intel's QCNL honours it */
    struct stat st;

    if (conf == NULL || conf[0] == '\0')
        conf = BACKEND_HW_QCNL_CONF;
    if (hw_find_qpl(lib_dir, qpl, sizeof(qpl))) {
        hw_note(h, "qpl: %s found", qpl);
        hw_log("info", "quote provider library %s found", qpl);
    } else {
        hw_note(h, "qpl: %s not found: quotes carry certification data type 3 (encrypted PPID, "
                   "1456-byte quotes) that verifiers must resolve with the PCS; install "
                   "libsgx-dcap-default-qpl (or your cloud's QPL)",
                BACKEND_HW_QPL_LIB);
        hw_log("warn",
               "quote provider library %s not found on the library path: QE3 falls back to "
               "certification data type 3 (encrypted PPID); install libsgx-dcap-default-qpl "
               "for type-5 quotes with the PCK certificate chain",
               BACKEND_HW_QPL_LIB);
    }
    if (stat(conf, &st) == 0) {
        hw_note(h, "qcnl: %s present", conf);
    } else {
        int e = errno;
        hw_note(h, "qcnl: %s missing: the default QPL will use its built-in PCCS URL; mount the "
                   "node's QCNL config there",
                conf);
        hw_log("warn",
               "QPL config %s missing (%s): Intel's default QPL needs it to find the PCCS; mount "
               "the node's copy (Kubernetes: a ConfigMap or hostPath at that path)",
               conf, strerror(e));
    }
}

static void hw_free(hw_backend *h)
{
    if (h == NULL)
        return;
    /* Intel's logic unloads QE3 on its own destructor; PERSISTENT until then. */
    if (h->qe3_dl != NULL)
        dlclose(h->qe3_dl);
    if (h->pce_dl != NULL)
        dlclose(h->pce_dl);
    pthread_mutex_destroy(&h->call_lock);
    pthread_mutex_destroy(&h->notes_lock);
    free(h);
}

static bool hw_key_id_ok(const hw_backend *h, const sgx_att_key_id_ext_t *key_id)
{
    return key_id != NULL && memcmp(&key_id->base, &h->key_id.base, sizeof(key_id->base)) == 0;
}

/* Full sgx_ql_init_quote under the lock (the caller holds it). */
static uint32_t hw_init_locked(hw_backend *h, sgx_ql_att_key_id_t *base, sgx_target_info_t *ti,
                               uint8_t pub_key_id[HW_PUB_KEY_ID_SIZE])
{
    size_t size = HW_PUB_KEY_ID_SIZE;
    uint32_t q3;

    /* refresh_att_key false: aesmd always passes false (§8.2 step 3). */
    q3 = h->init_quote(base, ti, false, &size, pub_key_id);
    if (q3 == HW_Q3_SUCCESS && size != HW_PUB_KEY_ID_SIZE)
        q3 = HW_Q3_ERROR_UNEXPECTED; /* ECDSA_ID is 32 bytes; anything else is a broken lib */
    return q3;
}

static size_t hw_key_ids(backend *b, sgx_att_key_id_ext_t *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return 0;
    out[0] = hw_of(b)->key_id;
    return 1;
}

static aesm_error_t hw_init_quote(backend *b, const sgx_att_key_id_ext_t *key_id,
                                  sgx_target_info_t *qe_ti, uint8_t pub_key_id[32])
{
    hw_backend *h = hw_of(b);
    sgx_ql_att_key_id_t base;
    uint32_t q3;

    if (qe_ti == NULL || pub_key_id == NULL)
        return AESM_PARAMETER_ERROR;
    if (!hw_key_id_ok(h, key_id))
        return AESM_UNSUPPORTED_ATT_KEY_ID;
    base = key_id->base; /* Intel's prototype is non-const */
    memset(qe_ti, 0, sizeof(*qe_ti));
    pthread_mutex_lock(&h->call_lock);
    q3 = hw_init_locked(h, &base, qe_ti, pub_key_id);
    pthread_mutex_unlock(&h->call_lock);
    return hw_result(h, "sgx_ql_init_quote", q3);
}

static aesm_error_t hw_quote_size(backend *b, const sgx_att_key_id_ext_t *key_id, uint32_t *size)
{
    hw_backend *h = hw_of(b);
    sgx_ql_att_key_id_t base;
    uint32_t q3;

    if (size == NULL)
        return AESM_PARAMETER_ERROR;
    if (!hw_key_id_ok(h, key_id))
        return AESM_UNSUPPORTED_ATT_KEY_ID;
    base = key_id->base;
    *size = 0;
    pthread_mutex_lock(&h->call_lock);
    q3 = h->get_quote_size(&base, size);
    pthread_mutex_unlock(&h->call_lock);
    if (q3 != HW_Q3_SUCCESS)
        *size = 0; /* aesm §8.3: quote_size is 0 on error */
    return hw_result(h, "sgx_ql_get_quote_size", q3);
}

/* The exact quote length: 436 + signature_data_len (aesm §6.6), read
 * through the bounded reader because it comes from outside our code. */
static int hw_quote_length(const uint8_t *quote, uint32_t cap, uint32_t *len)
{
    reader r;
    uint32_t sig_len;

    if (reader_init(&r, quote, cap) != READER_OK || reader_skip(&r, HW_QUOTE_SIG_LEN_OFFSET) != READER_OK ||
        reader_u32le(&r, &sig_len) != READER_OK)
        return -1;
    if (sig_len > reader_remaining(&r))
        return -1;
    *len = HW_QUOTE_SIG_DATA_OFFSET + sig_len;
    return 0;
}

static aesm_error_t hw_get_quote(backend *b, const sgx_att_key_id_ext_t *key_id,
                                 const sgx_report_t *report, sgx_qe_report_info_t *qe_report_info,
                                 uint8_t *out, uint32_t cap, uint32_t *len)
{
    hw_backend *h = hw_of(b);
    sgx_ql_att_key_id_t base;
    uint32_t q3;

    if (report == NULL || len == NULL || out == NULL || cap == 0)
        return AESM_PARAMETER_ERROR;
    if (!hw_key_id_ok(h, key_id))
        return AESM_UNSUPPORTED_ATT_KEY_ID;
    base = key_id->base;
    /* aesmd hands QE3 a zero-filled buffer (§8.4 "Generation"). */
    memset(out, 0, cap);
    pthread_mutex_lock(&h->call_lock);
    q3 = h->get_quote(report, &base, qe_report_info, out, cap);
    pthread_mutex_unlock(&h->call_lock);
    if (q3 == HW_Q3_SUCCESS && hw_quote_length(out, cap, len) != 0) {
        hw_log("error", "sgx_ql_get_quote succeeded but its quote's signature_data_len does not "
                        "fit the %u-byte buffer",
               (unsigned)cap);
        q3 = HW_Q3_ERROR_UNEXPECTED;
    }
    return hw_result(h, "sgx_ql_get_quote", q3);
}

/* Readiness canary: can we size a quote right now? That walks QE3, the key
 * blob and the QPL (cert data size). If no key exists yet (first start, or
 * Intel dropped it after a TCB change), make one, so the daemon heals
 * itself and clients do not see AESM 42 after our own restart. */
static aesm_error_t hw_health(backend *b)
{
    hw_backend *h = hw_of(b);
    sgx_ql_att_key_id_t base = h->key_id.base;
    sgx_target_info_t ti;
    uint8_t pub[HW_PUB_KEY_ID_SIZE];
    uint32_t size = 0;
    uint32_t q3;
    const char *call = "sgx_ql_get_quote_size";

    pthread_mutex_lock(&h->call_lock);
    q3 = h->get_quote_size(&base, &size);
    if (q3 == HW_Q3_ATT_KEY_NOT_INITIALIZED) {
        call = "sgx_ql_init_quote";
        q3 = hw_init_locked(h, &base, &ti, pub);
        if (q3 == HW_Q3_SUCCESS) {
            call = "sgx_ql_get_quote_size";
            q3 = h->get_quote_size(&base, &size);
        }
    }
    pthread_mutex_unlock(&h->call_lock);
    return hw_result(h, call, q3);
}

static void hw_destroy(backend *b)
{
    if (b == NULL)
        return;
    hw_free(b->impl);
    free(b);
}

static const backend_ops HW_OPS = {
    .name = "hw",
    .key_ids = hw_key_ids,
    .init_quote = hw_init_quote,
    .quote_size = hw_quote_size,
    .get_quote = hw_get_quote,
    .health = hw_health,
    .destroy = hw_destroy,
    .thread_safe = false, /* Intel's QE3 logic: one call at a time (§9.2) */
};

size_t backend_hw_notes(backend *b, char *out, size_t cap)
{
    hw_backend *h;
    int n;

    if (out == NULL || cap == 0)
        return 0;
    out[0] = '\0';
    if (b == NULL || b->ops != &HW_OPS)
        return 0;
    h = hw_of(b);
    pthread_mutex_lock(&h->notes_lock);
    n = snprintf(out, cap, "%s%s%s%s", h->notes, h->last_error[0] ? "last error: " : "",
                 h->last_error, h->last_error[0] ? "\n" : "");
    pthread_mutex_unlock(&h->notes_lock);
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Calls that say "the platform cannot run QE3 at all": at start these fail
 * the backend (as aesmd's ECDSA bundle refuses to start, §8.1 step 3).
 * QPL/PCCS trouble does not: the daemon starts, reports it in health(), and
 * answers each request with aesmd's code for it. */
static bool hw_platform_fatal(uint32_t q3)
{
    switch (q3) {
    case HW_Q3_ENCLAVE_LOAD_ERROR:
    case HW_Q3_ENCLAVE_LOST:
    case HW_Q3_OUT_OF_EPC:
    case HW_Q3_INTERFACE_UNAVAILABLE:
    case HW_Q3_UNSUPPORTED_LOADING_POLICY:
    case HW_Q3_FILE_ACCESS_ERROR:
    case HW_Q3_NO_DEVICE:
    case HW_Q3_ERROR_INVALID_PRIVILEGE:
        return true;
    default:
        return false;
    }
}

backend *backend_hw_open(const backend_config *cfg, char *errbuf, size_t errcap)
{
    const char *dir = cfg != NULL ? cfg->hw_lib_dir : NULL;
    const char *where = dir != NULL ? dir : "the system library path";
    hw_backend *h = NULL;
    backend *b = NULL;
    char why[512];
    uint32_t q3;
    bool had_aesm_addr;

    if (errbuf != NULL && errcap > 0)
        errbuf[0] = '\0';

    /* Intel's SGX webhook injects SGX_AESM_ADDR=1 into every container of an
     * annotated pod, ours included (aesm-protocol §1.1, §11 item 3). If any
     * libsgx_dcap_ql got loaded into this process (a dependency of a
     * dependency, a QPL, a preload), its constructor would read the variable
     * and switch to out-of-proc mode: the daemon would send quote requests
     * to its own socket and deadlock on itself. We never use libsgx_dcap_ql,
     * and we remove the variable before loading anything so nothing we load
     * can see it. Called at start, before any worker thread exists. */
    had_aesm_addr = getenv("SGX_AESM_ADDR") != NULL;
    unsetenv("SGX_AESM_ADDR");

    h = calloc(1, sizeof(*h));
    b = calloc(1, sizeof(*b));
    if (h == NULL || b == NULL) {
        hw_set_err(errbuf, errcap, "out of memory opening the hardware backend");
        free(h);
        free(b);
        return NULL;
    }
    pthread_mutex_init(&h->call_lock, NULL);
    pthread_mutex_init(&h->notes_lock, NULL);
    if (had_aesm_addr) {
        hw_note(h, "SGX_AESM_ADDR: removed from the daemon's environment (it is for "
                   "applications; in the daemon it would make libsgx_dcap_ql call the daemon "
                   "itself)");
        hw_log("info", "SGX_AESM_ADDR was set in the daemon's environment (Intel's webhook sets "
                       "it in every container of the pod); removed it so no Intel library in "
                       "this process can switch to out-of-proc mode and call this daemon");
    }

    /* PCE logic first and global: QE3 logic calls sgx_pce_get_target and
     * friends by name (aesm §8.1 "Re-exported PCE calls"). RTLD_NOW makes a
     * missing dependency (libsgx_urts, libsgx_enclave_common) fail here, at
     * start, rather than at the first request. */
    h->pce_dl = hw_dlopen(dir, BACKEND_HW_PCE_LIB, RTLD_NOW | RTLD_GLOBAL, h->pce_path,
                          sizeof(h->pce_path), why, sizeof(why));
    if (h->pce_dl == NULL) {
        hw_set_err(errbuf, errcap,
                   "cannot load %s from %s (%s): install the libsgx-pce-logic package, or point "
                   "--hw-lib-dir at the directory holding Intel's DCAP libraries",
                   BACKEND_HW_PCE_LIB, where, why);
        goto fail;
    }
    h->qe3_dl = hw_dlopen(dir, BACKEND_HW_QE3_LIB, RTLD_NOW | RTLD_LOCAL, h->qe3_path,
                          sizeof(h->qe3_path), why, sizeof(why));
    if (h->qe3_dl == NULL) {
        hw_set_err(errbuf, errcap,
                   "cannot load %s from %s (%s): install the libsgx-qe3-logic package, or point "
                   "--hw-lib-dir at the directory holding Intel's DCAP libraries",
                   BACKEND_HW_QE3_LIB, where, why);
        goto fail;
    }

    {
        static const char *const REQUIRED[] = {
            "sgx_ql_set_enclave_load_policy", "sgx_ql_get_keyid", "sgx_ql_init_quote",
            "sgx_ql_get_quote_size",          "sgx_ql_get_quote",
        };
        void *syms[5];
        _Static_assert(sizeof(REQUIRED) / sizeof(REQUIRED[0]) == 5, "symbol table");
        for (size_t i = 0; i < 5; i++) {
            syms[i] = hw_sym(h->qe3_dl, REQUIRED[i]);
            if (syms[i] == NULL) {
                hw_set_err(errbuf, errcap,
                           "%s does not export %s: it is not Intel's QE3 logic library, or too "
                           "old (DCAP 1.4+ needed); reinstall libsgx-qe3-logic",
                           h->qe3_path, REQUIRED[i]);
                goto fail;
            }
        }
        /* POSIX lets a void * from dlsym become a function pointer. */
        *(void **)&h->set_policy = syms[0];
        *(void **)&h->get_keyid = syms[1];
        *(void **)&h->init_quote = syms[2];
        *(void **)&h->get_quote_size = syms[3];
        *(void **)&h->get_quote = syms[4];
        *(void **)&h->load_qe = hw_sym(h->qe3_dl, "load_qe");
    }

    /* aesmd's ECDSA bundle start-up, step by step (§8.1 "Start-up"). */
    q3 = h->set_policy(HW_QL_PERSISTENT);
    if (q3 != HW_Q3_SUCCESS) {
        hw_set_err(errbuf, errcap, "sgx_ql_set_enclave_load_policy(PERSISTENT) failed: 0x%04x %s",
                   (unsigned)q3, quote3_error_name(q3));
        goto fail;
    }
    q3 = h->get_keyid(&h->key_id);
    if (q3 != HW_Q3_SUCCESS) {
        hw_set_err(errbuf, errcap, "sgx_ql_get_keyid failed: 0x%04x %s", (unsigned)q3,
                   quote3_error_name(q3));
        goto fail;
    }
    if (h->key_id.base.algorithm_id != SGX_QL_ALG_ECDSA_P256) {
        hw_set_err(errbuf, errcap, "sgx_ql_get_keyid returned algorithm %u, not ECDSA-P256 (2)",
                   (unsigned)h->key_id.base.algorithm_id);
        goto fail;
    }

    hw_check_qpl(h, dir);

    if (h->load_qe != NULL) {
        uint64_t eid = 0;
        hw_misc_attribute attr;
        uint8_t(*token)[HW_LAUNCH_TOKEN_SIZE] = calloc(1, sizeof(*token));
        memset(&attr, 0, sizeof(attr));
        if (token == NULL) {
            hw_set_err(errbuf, errcap, "out of memory opening the hardware backend");
            goto fail;
        }
        q3 = h->load_qe(&eid, &attr, token);
        free(token);
        if (q3 != HW_Q3_SUCCESS) {
            const char *hint = quote3_error_hint(q3);
            hw_set_err(errbuf, errcap, "loading the QE3 enclave failed: 0x%04x %s%s%s",
                       (unsigned)q3, quote3_error_name(q3), hint[0] ? ": " : "", hint);
            goto fail;
        }
        hw_note(h, "qe3: loaded at start (PERSISTENT policy)");
    }

    /* Warm the attestation key (aesm §9.1 item 12): the first key takes a
     * QE3 key generation, a PCE signature and a PCCS round trip, which must
     * not eat into a client's 15 s budget. It also loads QE3 on libraries
     * that keep load_qe private. */
    {
        sgx_ql_att_key_id_t base = h->key_id.base;
        sgx_target_info_t ti;
        uint8_t pub[HW_PUB_KEY_ID_SIZE];
        q3 = hw_init_locked(h, &base, &ti, pub);
    }
    if (q3 != HW_Q3_SUCCESS) {
        const char *hint = quote3_error_hint(q3);
        /* Without load_qe this init was the QE3 load itself. With it, QE3 is
         * up and the failure is in key certification (PCE, QPL, PCCS):
         * logged, kept for health(), and the daemon starts. */
        if (h->load_qe == NULL && hw_platform_fatal(q3)) {
            hw_set_err(errbuf, errcap, "QE3 could not start: sgx_ql_init_quote: 0x%04x %s%s%s",
                       (unsigned)q3, quote3_error_name(q3), hint[0] ? ": " : "", hint);
            goto fail;
        }
        (void)hw_result(h, "sgx_ql_init_quote", q3);
        hw_log("warn",
               "warming the attestation key failed: 0x%04x %s%s%s; the daemon runs and answers "
               "each request with aesmd's code for it until this is fixed",
               (unsigned)q3, quote3_error_name(q3), hint[0] ? ": " : "", hint);
    } else {
        hw_note(h, "attestation key: initialised at start");
    }

    b->ops = &HW_OPS;
    b->impl = h;
    hw_log("info", "QE3 logic %s and PCE logic %s loaded; quoting through Intel's enclaves",
           h->qe3_path, h->pce_path);
    return b;

fail:
    hw_log("error", "%s", errbuf != NULL && errcap > 0 ? errbuf : "hardware backend failed");
    hw_free(h);
    free(b);
    return NULL;
}
