/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hardware backend: backend_ops over Intel's DCAP logic libraries.
 *
 * service → [backend_hw] → libsgx_qe3_logic.so → QE3 enclave (+ QPL → PCCS)
 *                        → libsgx_pce_logic.so.1 → PCE enclave
 * Both libraries are dlopen'ed at run time (never linked), the same calls
 * aesmd's ECDSA plugin makes (aesm-protocol §8), PERSISTENT load policy, QE3
 * loaded at start, every call under one mutex, quote3_error_t turned into
 * aesmd's aesm_error_t (§5.5). The QPL is the one we hand the QE3 logic;
 * the key is made by a prober thread, so nothing waits for a PCCS on the
 * start-up or readiness path (docs/hardware.md).
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
#include <time.h>
#include <unistd.h>
#include <link.h>

#include "backend/backend_hw_abi.h"
#include "backend/backend_impl.h"
#include "sgx/reader.h"

#define HW_PUB_KEY_ID_SIZE 32 /* ECDSA_ID = SHA-256, aesm §8.2 */
#define HW_QUOTE_SIG_LEN_OFFSET 432 /* quote-format §1.1 / aesm §6.6 */
#define HW_QUOTE_SIG_DATA_OFFSET 436
#define HW_QUOTE_AUTH_SIZE_OFFSET 1012 /* auth_data size u16, aesm §6.6 */
#define HW_QUOTE_TYPE3_SIZE 1456u /* 1052 + 404: encrypted-PPID quote, aesm §6.6 */
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
     "a file the QPL or QE3 logic needed could not be read; with Intel's QPL this comes only "
     "from its sgx_ql_* collateral calls, which the daemon never makes"},
    {HW_Q3_ERROR_STORED_KEY, AESM_ERROR_STORED_KEY, "SGX_QL_ERROR_STORED_KEY", ""},
    {HW_Q3_ERROR_PUB_KEY_ID_MISMATCH, AESM_PUB_KEY_ID_MISMATCH, "SGX_QL_ERROR_PUB_KEY_ID_MISMATCH",
     ""},
    {HW_Q3_ERROR_INVALID_PCE_SIG_SCHEME, AESM_INVALID_PCE_SIG_SCHEME,
     "SGX_QL_ERROR_INVALID_PCE_SIG_SCHEME", "libsgx-pce-logic and libsgx-qe3-logic versions differ"},
    {HW_Q3_ATT_KEY_BLOB_ERROR, AESM_ATT_KEY_BLOB_ERROR, "SGX_QL_ATT_KEY_BLOB_ERROR", ""},
    {HW_Q3_UNSUPPORTED_ATT_KEY_ID, AESM_UNSUPPORTED_ATT_KEY_ID, "SGX_QL_UNSUPPORTED_ATT_KEY_ID",
     "the key id is not the ECDSA-P256 one the daemon offers (the QE3 logic itself only "
     "returns this from sgx_ql_get_keyid on a library built without ECDSA)"},
    {HW_Q3_UNSUPPORTED_LOADING_POLICY, AESM_UNSUPPORTED_LOADING_POLICY,
     "SGX_QL_UNSUPPORTED_LOADING_POLICY", ""},
    {HW_Q3_INTERFACE_UNAVAILABLE, AESM_INTERFACE_UNAVAILABLE, "SGX_QL_INTERFACE_UNAVAILABLE",
     "the PCE enclave could not be loaded or called (libsgx-pce-logic and its libsgx_pce.signed.so "
     "next to it; /dev/sgx_provision access, group sgx_prv)"},
    {HW_Q3_PLATFORM_LIB_UNAVAILABLE, AESM_PLATFORM_LIB_UNAVAILABLE,
     "SGX_QL_PLATFORM_LIB_UNAVAILABLE",
     "a QPL call reported no provider; Intel's QE3 logic never returns this itself (without a "
     "QPL it certifies with the encrypted PPID, cert type 3): install libsgx-dcap-default-qpl or "
     "az-dcap-client"},
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
     "the enclave was lost (EPC loss: suspend/resume, VM migration); the daemon unloads and "
     "reloads QE3 once and retries; if this persists, restart the daemon"},
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
    {HW_Q3_NO_DEVICE, "SGX_QL_NO_DEVICE",
     "a TDX/QGS code; the SGX QE3 logic reports a missing device as sgx_status_t 0x2006"},
    {HW_Q3_ROOT_CA_UNTRUSTED, "SGX_QL_ROOT_CA_UNTRUSTED",
     "the QPL does not trust the PCCS's TLS certificate: set use_secure_cert false in the QCNL "
     "config for a self-signed PCCS, or install its CA"},
    {HW_Q3_CONFIG_INVALID_JSON, "SGX_QL_CONFIG_INVALID_JSON",
     "the QCNL config (/etc/sgx_default_qcnl.conf, or QCNL_CONF_PATH) is not valid JSON; fix it "
     "(Intel's QE3 logic then drops to cert type 3 quotes)"},
    /* sgx_status_t values: Intel's load_qe passes sgx_create_enclave's
     * result up unchanged, and every sgx_ql_* call loads QE3 first. */
    {HW_SGX_ERROR_SERVICE_INVALID_PRIVILEGE, "SGX_ERROR_SERVICE_INVALID_PRIVILEGE",
     "QE3 needs the provisioning key and this process may not use it: give the daemon access to "
     "/dev/sgx_provision (group sgx_prv; Kubernetes: the device plugin's provision resource or "
     "that device mounted)"},
    {HW_SGX_ERROR_ENCLAVE_FILE_ACCESS, "SGX_ERROR_ENCLAVE_FILE_ACCESS",
     "the QE3 enclave file (libsgx_qe3.signed.so) is not next to the QE3 logic library Intel "
     "loaded: reinstall libsgx-ae-qe3; with --hw-lib-dir, point it at the real directory, not "
     "at symlinks elsewhere"},
    {HW_SGX_ERROR_NO_DEVICE, "SGX_ERROR_NO_DEVICE",
     "no SGX device: /dev/sgx_enclave (and /dev/sgx_provision) must exist in this container "
     "and the kernel driver be loaded"},
    {HW_SGX_ERROR_ENCLAVE_LOST, "SGX_ERROR_ENCLAVE_LOST", "the enclave was lost (EPC loss)"},
    {HW_SGX_ERROR_UNEXPECTED, "SGX_ERROR_UNEXPECTED", "sgx_create_enclave failed unexpectedly"},
    {HW_SGX_ERROR_OUT_OF_MEMORY, "SGX_ERROR_OUT_OF_MEMORY", "out of memory loading QE3"},
    {HW_SGX_ERROR_INVALID_ENCLAVE, "SGX_ERROR_INVALID_ENCLAVE",
     "the QE3 enclave file is damaged: reinstall libsgx-ae-qe3"},
    {HW_SGX_ERROR_INVALID_SIGNATURE, "SGX_ERROR_INVALID_SIGNATURE",
     "the QE3 enclave file's signature is bad: reinstall libsgx-ae-qe3"},
    {HW_SGX_ERROR_NDEBUG_ENCLAVE, "SGX_ERROR_NDEBUG_ENCLAVE", ""},
    {HW_SGX_ERROR_MEMORY_MAP_CONFLICT, "SGX_ERROR_MEMORY_MAP_CONFLICT",
     "/dev is mounted noexec or the enclave range is taken: mount /dev exec"},
    {HW_SGX_ERROR_INVALID_METADATA, "SGX_ERROR_INVALID_METADATA",
     "the QE3 enclave does not match this SGX runtime: install matching libsgx-urts and "
     "libsgx-ae-qe3"},
    {HW_SGX_ERROR_DEVICE_BUSY, "SGX_ERROR_DEVICE_BUSY", "the SGX device is busy; retry"},
    {HW_SGX_ERROR_MODE_INCOMPATIBLE, "SGX_ERROR_MODE_INCOMPATIBLE",
     "a simulation-mode SGX runtime is loaded: install the hardware libsgx-urts"},
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
    hw_set_qpl_path_fn set_qpl_path;     /* NULL on old libraries */
    hw_get_qpl_handle_fn get_qpl_handle; /* NULL on old libraries */
    sgx_att_key_id_ext_t key_id;
    char pce_path[PATH_MAX];
    char qe3_path[PATH_MAX];
    /* The quote provider QE3 logic loads: our own reference keeps it
     * loaded (QE3 logic dlopens and dlcloses it around every PCK lookup)
     * so the logging callback we installed stays in place. */
    void *qpl_dl;
    char qpl_path[PATH_MAX]; /* "" when there is none */
    const char *qpl_kind;    /* "intel", "azure", "unknown" or "none" */
    /* Notes are written at open and on failures; read from any thread. */
    pthread_mutex_t notes_lock;
    char notes[HW_NOTES_CAP];
    char last_error[HW_LAST_ERROR_CAP];
    /* Status (under notes_lock): set by the prober thread, read by
     * health() without touching Intel's code, so a /readyz never waits
     * for a PCCS (DESIGN.md "Hardware backend"). */
    backend_hw_state state;
    uint32_t state_q3;  /* the failing quote3/sgx code when FAILED */
    int cert_type;      /* of the last quote or probe; 0 unknown */
    bool warned_type3;
    uint64_t probe_done_ms;
    /* The prober: warms the key at start, re-probes on demand. */
    pthread_t prober;
    bool prober_running;
    pthread_cond_t wake;
    bool probe_wanted, probing, stopping;
    bool warmed;           /* the start-up init_quote was made */
    uint64_t probes_done;  /* counts finished probes (backend_hw_refresh) */
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

/* dlopen the first of `names` from dir, or through the dynamic loader's
 * search path when dir is NULL. The first failure's reason goes to why. */
static void *hw_dlopen(const char *dir, const char *const names[2], int flags, char *path,
                       size_t pathcap, char *why, size_t whycap)
{
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

/* The QPL file in dir by Intel's two names, or false. */
static bool hw_qpl_in(const char *dir, char *found, size_t cap)
{
    static const char *const NAMES[] = {BACKEND_HW_QPL_LIB, BACKEND_HW_QPL_LIB_LEGACY};

    for (size_t i = 0; i < 2; i++) {
        if (dir[0] != '\0' && hw_file_exists(dir, NAMES[i])) {
            snprintf(found, cap, "%s/%s", dir, NAMES[i]);
            return true;
        }
    }
    return false;
}

/* The QPL next to the libraries we were told to use (--hw-lib-dir), then
 * on LD_LIBRARY_PATH and the system directories: where an operator put
 * one. Found, the backend hands the path to QE3 logic (sgx_set_qpl_path),
 * so the provider it reports is the one QE3 loads. */
static bool hw_find_qpl(const char *lib_dir, char *found, size_t cap)
{
    static const char *const SYSTEM_DIRS[] = {
        "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64",
        "/usr/lib",                  "/lib",                  "/usr/local/lib",
    };
    const char *ld = getenv("LD_LIBRARY_PATH");

    if (lib_dir != NULL && hw_qpl_in(lib_dir, found, cap))
        return true;
    if (ld != NULL) {
        char copy[2048];
        char *save = NULL;
        snprintf(copy, sizeof(copy), "%s", ld);
        for (char *d = strtok_r(copy, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
            if (hw_qpl_in(d, found, cap))
                return true;
        }
    }
    for (size_t i = 0; i < sizeof(SYSTEM_DIRS) / sizeof(SYSTEM_DIRS[0]); i++) {
        if (hw_qpl_in(SYSTEM_DIRS[i], found, cap))
            return true;
    }
    return false;
}

/* ---- the QPL's log lines, into ours ---- */

/* The QPL calls this from whatever thread made the QE3 call. Its lines end
 * in a newline and may carry several; one log line each. */
static void hw_qpl_logged(hw_ql_log_level level, const char *message)
{
    char line[512];
    size_t n;

    if (message == NULL)
        return;
    snprintf(line, sizeof(line), "%s", message);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    }
    if (n == 0)
        return;
    hw_log(level == HW_QL_LOG_ERROR ? "error" : "info", "qpl: %s", line);
}

/* Which vendor's QPL this is, by what it exports: Intel's has
 * sgx_qpl_global_init (DCAP 1.15+), Microsoft's az-dcap-client the older
 * sgx_ql_set_logging_function and no global init. */
static const char *hw_qpl_kind(void *dl)
{
    if (hw_sym(dl, "sgx_qpl_global_init") != NULL)
        return "intel";
    if (hw_sym(dl, "sgx_ql_set_logging_function") != NULL)
        return "azure";
    return "unknown";
}

/* Find the QPL, tell QE3 logic where it is, take our own reference to it
 * (as aesmd does through the QE3 logic's get_qpl_handle) and install the
 * logging callback. Never fatal: without a QPL QE3 certifies with the
 * encrypted PPID (type 3), which the notes and the log say loudly. */
static void hw_setup_qpl(hw_backend *h, const char *lib_dir)
{
    char found[PATH_MAX] = "";
    struct link_map *lm = NULL;
    hw_qpl_set_logging_callback_fn set_cb;
    hw_qpl_set_logging_function_fn set_fn;
    hw_qpl_global_init_fn global_init;

    h->qpl_kind = "none";
    if (hw_find_qpl(lib_dir, found, sizeof(found)) && h->set_qpl_path != NULL) {
        uint32_t q3 = h->set_qpl_path(found);
        if (q3 != HW_Q3_SUCCESS)
            hw_log("warn", "sgx_set_qpl_path(%s) failed: 0x%04x %s; QE3 logic searches the "
                           "loader's path itself", found, (unsigned)q3, quote3_error_name(q3));
    }
    /* The handle exactly as QE3 logic loads it: by our path when set, else
     * by Intel's two names through the loader plus sgx_qpl_global_init. */
    if (h->get_qpl_handle != NULL) {
        h->qpl_dl = h->get_qpl_handle();
    } else if (found[0] != '\0') {
        h->qpl_dl = dlopen(found, RTLD_LAZY);
    } else {
        static const char *const NAMES[] = {BACKEND_HW_QPL_LIB, BACKEND_HW_QPL_LIB_LEGACY};
        char why[256];
        h->qpl_dl = hw_dlopen(NULL, NAMES, RTLD_LAZY, found, sizeof(found), why, sizeof(why));
    }
    if (h->qpl_dl == NULL) {
        static const char *const NAMES[] = {BACKEND_HW_QPL_LIB, BACKEND_HW_QPL_LIB_LEGACY};
        char why[256], probe_path[PATH_MAX];
        void *probe = found[0] != '\0' ? dlopen(found, RTLD_LAZY)
                                        : hw_dlopen(NULL, NAMES, RTLD_LAZY, probe_path,
                                                    sizeof(probe_path), why, sizeof(why));
        hw_qpl_global_init_fn init = NULL;
        uint32_t q3 = HW_Q3_SUCCESS;
        /* There but refused: Intel's QE3 logic drops a QPL whose global
         * init fails (a broken QCNL config) and goes on without one. */
        if (probe != NULL) {
            *(void **)&init = hw_sym(probe, "sgx_qpl_global_init");
            if (init != NULL)
                q3 = init();
            dlclose(probe);
        }
        if (probe != NULL && q3 != HW_Q3_SUCCESS)
            hw_note(h, "qpl: found, but its sgx_qpl_global_init failed: 0x%04x %s: %s", (unsigned)q3,
                    quote3_error_name(q3), quote3_error_hint(q3));
        hw_note(h, "qpl: none usable (%s, %s): quotes carry certification data type 3 "
                   "(encrypted PPID), which most verifiers cannot use; install "
                   "libsgx-dcap-default-qpl or az-dcap-client, and check its config",
                BACKEND_HW_QPL_LIB, BACKEND_HW_QPL_LIB_LEGACY);
        hw_log("warn", "NO QUOTE PROVIDER: QE3 logic has no usable %s / %s%s%s, so quotes carry "
                       "certification data type 3 (encrypted PPID) that most verifiers cannot "
                       "use; install libsgx-dcap-default-qpl (or az-dcap-client) and check its "
                       "config",
               BACKEND_HW_QPL_LIB, BACKEND_HW_QPL_LIB_LEGACY,
               probe != NULL && q3 != HW_Q3_SUCCESS ? " (its sgx_qpl_global_init failed: " : "",
               probe != NULL && q3 != HW_Q3_SUCCESS ? quote3_error_name(q3) : "");
        return;
    }
    if (dlinfo(h->qpl_dl, RTLD_DI_LINKMAP, &lm) == 0 && lm != NULL && lm->l_name != NULL &&
        lm->l_name[0] != '\0')
        snprintf(h->qpl_path, sizeof(h->qpl_path), "%s", lm->l_name);
    else
        snprintf(h->qpl_path, sizeof(h->qpl_path), "%s", found);
    h->qpl_kind = hw_qpl_kind(h->qpl_dl);

    *(void **)&set_cb = hw_sym(h->qpl_dl, "sgx_ql_set_logging_callback");
    *(void **)&set_fn = hw_sym(h->qpl_dl, "sgx_ql_set_logging_function");
    if (set_cb != NULL)
        (void)set_cb(hw_qpl_logged, HW_QL_LOG_INFO);
    else if (set_fn != NULL)
        (void)set_fn(hw_qpl_logged);
    /* With a path set, Intel's QE3 logic skips the QPL's global init; run
     * it once here so a broken QCNL config is named at start. */
    *(void **)&global_init = hw_sym(h->qpl_dl, "sgx_qpl_global_init");
    if (global_init != NULL) {
        uint32_t q3 = global_init();
        if (q3 != HW_Q3_SUCCESS) {
            const char *hint = quote3_error_hint(q3);
            hw_note(h, "qpl: sgx_qpl_global_init failed: 0x%04x %s", (unsigned)q3,
                    quote3_error_name(q3));
            hw_log("error", "quote provider %s: sgx_qpl_global_init failed: 0x%04x %s%s%s",
                   h->qpl_path, (unsigned)q3, quote3_error_name(q3), hint[0] ? ": " : "", hint);
        }
    }
    hw_note(h, "qpl: %s (%s)", h->qpl_path, h->qpl_kind);
    hw_log("info", "quote provider library %s (%s) loaded by the QE3 logic; its log lines "
                   "follow as \"qpl: ...\"",
           h->qpl_path, h->qpl_kind);
}

static void hw_check_qcnl(hw_backend *h)
{
    const char *conf = getenv("QCNL_CONF_PATH"); /* Intel's QCNL honours it */
    struct stat st;

    if (conf == NULL || conf[0] == '\0')
        conf = BACKEND_HW_QCNL_CONF;
    if (strcmp(h->qpl_kind, "intel") != 0)
        return; /* only Intel's default QPL reads it */
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

/* ---- status ---- */

static uint64_t hw_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *backend_hw_state_name(backend_hw_state s)
{
    switch (s) {
    case BACKEND_HW_WARMING:
        return "warming";
    case BACKEND_HW_READY:
        return "ready";
    case BACKEND_HW_FAILED:
        return "failed";
    }
    return "unknown";
}

/* Record a certification type seen in a quote or implied by a size; say
 * it loudly the first time it is 3. */
static void hw_saw_cert_type(hw_backend *h, int type)
{
    bool warn = false;

    pthread_mutex_lock(&h->notes_lock);
    h->cert_type = type;
    if (type == 3 && !h->warned_type3) {
        h->warned_type3 = true;
        warn = true;
    }
    if (type != 3)
        h->warned_type3 = false;
    pthread_mutex_unlock(&h->notes_lock);
    if (warn)
        hw_log("warn", "QUOTES CARRY CERTIFICATION DATA TYPE 3 (encrypted PPID), not the PCK "
                       "certificate chain (type 5): most verifiers reject them; the QE3 logic "
                       "had no usable quote provider (provider: %s %s)",
               h->qpl_kind, h->qpl_path[0] ? h->qpl_path : "-");
}

static void hw_set_state(hw_backend *h, backend_hw_state st, uint32_t q3)
{
    backend_hw_state was;

    pthread_mutex_lock(&h->notes_lock);
    was = h->state;
    h->state = st;
    h->state_q3 = q3;
    h->probe_done_ms = hw_mono_ms();
    pthread_mutex_unlock(&h->notes_lock);
    if (was != st) {
        if (st == BACKEND_HW_FAILED) {
            const char *hint = quote3_error_hint(q3);
            hw_log("warn", "backend %s: 0x%04x %s%s%s", backend_hw_state_name(st), (unsigned)q3,
                   quote3_error_name(q3), hint[0] ? ": " : "", hint);
        } else {
            hw_log("info", "backend %s (provider %s, certification data type %d)",
                   backend_hw_state_name(st), h->qpl_kind, h->cert_type);
        }
    }
}

bool backend_hw_status_get(backend *b, backend_hw_status *out)
{
    hw_backend *h;

    if (b == NULL || out == NULL || b->ops != &HW_OPS)
        return false;
    h = hw_of(b);
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&h->notes_lock);
    out->state = h->state;
    out->q3 = h->state_q3;
    out->cert_type = h->cert_type;
    pthread_mutex_unlock(&h->notes_lock);
    snprintf(out->provider_path, sizeof(out->provider_path), "%s", h->qpl_path);
    snprintf(out->provider, sizeof(out->provider), "%s", h->qpl_kind);
    return true;
}

static void hw_free(hw_backend *h)
{
    if (h == NULL)
        return;
    /* Intel's logic unloads QE3 on its own destructor; PERSISTENT until then. */
    if (h->qpl_dl != NULL)
        dlclose(h->qpl_dl);
    if (h->qe3_dl != NULL)
        dlclose(h->qe3_dl);
    if (h->pce_dl != NULL)
        dlclose(h->pce_dl);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->call_lock);
    pthread_mutex_destroy(&h->notes_lock);
    free(h);
}

static bool hw_key_id_ok(const hw_backend *h, const sgx_att_key_id_ext_t *key_id)
{
    return key_id != NULL && memcmp(&key_id->base, &h->key_id.base, sizeof(key_id->base)) == 0;
}

static bool hw_lost(uint32_t q3)
{
    return q3 == HW_Q3_ENCLAVE_LOST || q3 == HW_SGX_ERROR_ENCLAVE_LOST;
}

/* After an EPC loss Intel's load_qe keeps handing out the cached, dead
 * enclave id under PERSISTENT, and its ENCLAVE_LOST paths do not reload.
 * Setting EPHEMERAL makes it unload QE3 (and the PCE); PERSISTENT again
 * and load_qe bring up a fresh one. The key blob lives outside the
 * enclave and survives. Caller holds call_lock. */
static void hw_reset_qe_locked(hw_backend *h, const char *call)
{
    uint32_t q3;

    hw_log("warn", "%s: 0x%04x SGX_QL_ENCLAVE_LOST: the QE3 enclave was lost (EPC loss: "
                   "suspend/resume, VM migration); unloading and reloading it, then retrying once",
           call, (unsigned)HW_Q3_ENCLAVE_LOST);
    q3 = h->set_policy(HW_QL_EPHEMERAL);
    if (q3 == HW_Q3_SUCCESS)
        q3 = h->set_policy(HW_QL_PERSISTENT);
    if (q3 == HW_Q3_SUCCESS && h->load_qe != NULL) {
        uint64_t eid = 0;
        hw_misc_attribute attr;
        uint8_t(*token)[HW_LAUNCH_TOKEN_SIZE] = calloc(1, sizeof(*token));
        memset(&attr, 0, sizeof(attr));
        if (token != NULL) {
            q3 = h->load_qe(&eid, &attr, token);
            free(token);
        }
    }
    if (q3 != HW_Q3_SUCCESS)
        hw_log("error", "reloading QE3 after the loss failed: 0x%04x %s", (unsigned)q3,
               quote3_error_name(q3));
}

/* Full sgx_ql_init_quote under the lock (the caller holds it). */
static uint32_t hw_init_locked(hw_backend *h, sgx_ql_att_key_id_t *base, sgx_target_info_t *ti,
                               uint8_t pub_key_id[HW_PUB_KEY_ID_SIZE])
{
    size_t size = HW_PUB_KEY_ID_SIZE;
    uint32_t q3;

    /* refresh_att_key false: aesmd always passes false (§8.2 step 3). */
    q3 = h->init_quote(base, ti, false, &size, pub_key_id);
    if (hw_lost(q3)) {
        hw_reset_qe_locked(h, "sgx_ql_init_quote");
        size = HW_PUB_KEY_ID_SIZE;
        q3 = h->init_quote(base, ti, false, &size, pub_key_id);
    }
    if (q3 == HW_Q3_SUCCESS && size != HW_PUB_KEY_ID_SIZE)
        q3 = HW_Q3_ERROR_UNEXPECTED; /* ECDSA_ID is 32 bytes; anything else is a broken lib */
    return q3;
}

static uint32_t hw_size_locked(hw_backend *h, sgx_ql_att_key_id_t *base, uint32_t *size)
{
    uint32_t q3 = h->get_quote_size(base, size);

    if (hw_lost(q3)) {
        hw_reset_qe_locked(h, "sgx_ql_get_quote_size");
        q3 = h->get_quote_size(base, size);
    }
    return q3;
}

/* A call that still finds the enclave lost after the reload: the daemon
 * cannot quote until it restarts, so readiness says so at once. */
static void hw_after_call(hw_backend *h, uint32_t q3)
{
    if (hw_lost(q3))
        hw_set_state(h, BACKEND_HW_FAILED, q3);
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
    hw_after_call(h, q3);
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
    q3 = hw_size_locked(h, &base, size);
    pthread_mutex_unlock(&h->call_lock);
    if (q3 != HW_Q3_SUCCESS)
        *size = 0; /* aesm §8.3: quote_size is 0 on error */
    hw_after_call(h, q3);
    return hw_result(h, "sgx_ql_get_quote_size", q3);
}

/* The exact quote length: 436 + signature_data_len (aesm §6.6), and the
 * certification data type after the auth data, read through the bounded
 * reader because they come from outside our code. */
static int hw_quote_length(const uint8_t *quote, uint32_t cap, uint32_t *len, int *cert_type)
{
    reader r;
    uint32_t sig_len;
    uint16_t auth_len = 0, type = 0;

    if (reader_init(&r, quote, cap) != READER_OK || reader_skip(&r, HW_QUOTE_SIG_LEN_OFFSET) != READER_OK ||
        reader_u32le(&r, &sig_len) != READER_OK)
        return -1;
    if (sig_len > reader_remaining(&r))
        return -1;
    *len = HW_QUOTE_SIG_DATA_OFFSET + sig_len;
    *cert_type = 0;
    if (reader_init(&r, quote, *len) == READER_OK &&
        reader_skip(&r, HW_QUOTE_AUTH_SIZE_OFFSET) == READER_OK &&
        reader_u16le(&r, &auth_len) == READER_OK && reader_skip(&r, auth_len) == READER_OK &&
        reader_u16le(&r, &type) == READER_OK)
        *cert_type = type;
    return 0;
}

static aesm_error_t hw_get_quote(backend *b, const sgx_att_key_id_ext_t *key_id,
                                 const sgx_report_t *report, sgx_qe_report_info_t *qe_report_info,
                                 uint8_t *out, uint32_t cap, uint32_t *len)
{
    hw_backend *h = hw_of(b);
    sgx_ql_att_key_id_t base;
    uint32_t q3, qe_cap;
    int cert_type = 0;

    if (report == NULL || len == NULL || out == NULL || cap == 0)
        return AESM_PARAMETER_ERROR;
    if (!hw_key_id_ok(h, key_id))
        return AESM_UNSUPPORTED_ATT_KEY_ID;
    base = key_id->base;
    /* aesmd hands QE3 a zero-filled buffer (§8.4 "Generation"). */
    memset(out, 0, cap);
    /* QE3 copies quote_size bytes into its 0x24000-byte enclave heap: hand
     * it no more than BACKEND_HW_MAX_BUF_SIZE; the rest stays zero padding. */
    qe_cap = cap < BACKEND_HW_MAX_BUF_SIZE ? cap : BACKEND_HW_MAX_BUF_SIZE;
    pthread_mutex_lock(&h->call_lock);
    q3 = h->get_quote(report, &base, qe_report_info, out, qe_cap);
    if (hw_lost(q3)) {
        hw_reset_qe_locked(h, "sgx_ql_get_quote");
        memset(out, 0, cap);
        q3 = h->get_quote(report, &base, qe_report_info, out, qe_cap);
    }
    pthread_mutex_unlock(&h->call_lock);
    if (q3 == HW_Q3_SUCCESS && hw_quote_length(out, qe_cap, len, &cert_type) != 0) {
        hw_log("error", "sgx_ql_get_quote succeeded but its quote's signature_data_len does not "
                        "fit the %u-byte buffer",
               (unsigned)qe_cap);
        q3 = HW_Q3_ERROR_UNEXPECTED;
    }
    if (q3 == HW_Q3_SUCCESS && cert_type != 0)
        hw_saw_cert_type(h, cert_type);
    hw_after_call(h, q3);
    return hw_result(h, "sgx_ql_get_quote", q3);
}

/* Calls that say "the platform cannot run QE3 at all": at start these fail
 * the backend (as aesmd's ECDSA bundle refuses to start, §8.1 step 3).
 * QPL/PCCS trouble does not: the daemon starts, reports it in health(), and
 * answers each request with aesmd's code for it. Raw sgx_status_t values
 * (below 0xE000) are sgx_create_enclave's, passed up by load_qe. */
static bool hw_platform_fatal(uint32_t q3)
{
    if (q3 != HW_Q3_SUCCESS && q3 < 0xE000u)
        return true;
    switch (q3) {
    case HW_Q3_ENCLAVE_LOAD_ERROR:
    case HW_Q3_ENCLAVE_LOST:
    case HW_Q3_OUT_OF_EPC:
    case HW_Q3_INTERFACE_UNAVAILABLE:
    case HW_Q3_UNSUPPORTED_LOADING_POLICY:
    case HW_Q3_NO_DEVICE:
    case HW_Q3_ERROR_INVALID_PRIVILEGE:
        return true;
    default:
        return false;
    }
}

/* One probe, under the call lock: can we size a quote right now? That
 * walks QE3, the key blob and the QPL (cert data size). With no key yet
 * (first start, or Intel dropped it after a TCB change: AESM 42) make one,
 * so the daemon heals itself and clients do not see AESM 42 after our own
 * restart. Runs on the prober thread only: it may wait for a PCCS. */
static void hw_probe(hw_backend *h)
{
    sgx_ql_att_key_id_t base = h->key_id.base;
    sgx_target_info_t ti;
    uint8_t pub[HW_PUB_KEY_ID_SIZE];
    uint32_t size = 0;
    uint32_t q3;
    const char *call = "sgx_ql_get_quote_size";

    pthread_mutex_lock(&h->call_lock);
    if (!h->warmed) {
        /* The warm-up: make the key first, as the old start-up did. */
        h->warmed = true;
        call = "sgx_ql_init_quote";
        q3 = hw_init_locked(h, &base, &ti, pub);
        if (q3 == HW_Q3_SUCCESS) {
            call = "sgx_ql_get_quote_size";
            q3 = hw_size_locked(h, &base, &size);
        }
    } else {
        q3 = hw_size_locked(h, &base, &size);
    }
    if (q3 == HW_Q3_ATT_KEY_NOT_INITIALIZED) {
        call = "sgx_ql_init_quote";
        q3 = hw_init_locked(h, &base, &ti, pub);
        if (q3 == HW_Q3_SUCCESS) {
            call = "sgx_ql_get_quote_size";
            q3 = hw_size_locked(h, &base, &size);
        }
    }
    pthread_mutex_unlock(&h->call_lock);
    (void)hw_result(h, call, q3);
    if (hw_platform_fatal(q3))
        hw_log("error", "%s: 0x%04x %s: the platform cannot run QE3; fix it and restart the "
                        "daemon (%s)",
               call, (unsigned)q3, quote3_error_name(q3), quote3_error_hint(q3));
    if (q3 == HW_Q3_SUCCESS) {
        /* 1052 + 404: QE3's encrypted-PPID quote (aesm §6.6); PCK chains
         * are kilobytes. */
        hw_saw_cert_type(h, size == HW_QUOTE_TYPE3_SIZE ? 3 : 5);
        hw_set_state(h, BACKEND_HW_READY, 0);
    } else {
        hw_set_state(h, BACKEND_HW_FAILED, q3);
    }
}

static void *hw_prober_main(void *arg)
{
    hw_backend *h = arg;

    pthread_mutex_lock(&h->notes_lock);
    for (;;) {
        while (!h->probe_wanted && !h->stopping)
            pthread_cond_wait(&h->wake, &h->notes_lock);
        if (h->stopping)
            break;
        h->probe_wanted = false;
        h->probing = true;
        pthread_mutex_unlock(&h->notes_lock);
        hw_probe(h);
        pthread_mutex_lock(&h->notes_lock);
        h->probing = false;
        h->probes_done++;
        pthread_cond_broadcast(&h->wake);
    }
    pthread_mutex_unlock(&h->notes_lock);
    return NULL;
}

/* Readiness: the prober's last answer, at once; never a call into Intel's
 * code (which may wait minutes for a PCCS) on the caller's thread. An old
 * answer asks the prober for a fresh one. */
static aesm_error_t hw_health(backend *b)
{
    hw_backend *h = hw_of(b);
    aesm_error_t rc;

    pthread_mutex_lock(&h->notes_lock);
    if (!h->probing && !h->probe_wanted && h->state != BACKEND_HW_WARMING &&
        hw_mono_ms() - h->probe_done_ms > BACKEND_HW_PROBE_MAX_AGE_MS) {
        h->probe_wanted = true;
        pthread_cond_broadcast(&h->wake);
    }
    switch (h->state) {
    case BACKEND_HW_WARMING:
        rc = AESM_BUSY;
        break;
    case BACKEND_HW_READY:
        /* Type 3 quotes (no usable provider) are served, as aesmd serves
         * them, but most verifiers cannot use them: not ready, named. */
        rc = h->cert_type == 3 ? AESM_PLATFORM_LIB_UNAVAILABLE : AESM_SUCCESS;
        break;
    default:
        rc = backend_hw_aesm_from_quote3(h->state_q3);
        if (rc == AESM_SUCCESS)
            rc = AESM_UNEXPECTED_ERROR;
        break;
    }
    pthread_mutex_unlock(&h->notes_lock);
    return rc;
}

/* Stop the prober. It may be inside Intel's code waiting for a PCCS; give
 * it a moment, and if it does not come back leave the libraries loaded
 * (the process is exiting) rather than unmap code it is running. */
static bool hw_stop_prober(hw_backend *h)
{
    struct timespec until;

    if (!h->prober_running)
        return true;
    pthread_mutex_lock(&h->notes_lock);
    h->stopping = true;
    pthread_cond_broadcast(&h->wake);
    pthread_mutex_unlock(&h->notes_lock);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    if (pthread_timedjoin_np(h->prober, NULL, &until) != 0) {
        pthread_detach(h->prober);
        hw_log("warn", "the prober is still inside Intel's libraries (a PCCS wait?); leaving them "
                       "loaded as the daemon exits");
        return false;
    }
    h->prober_running = false;
    return true;
}

/* A backend whose prober could not be stopped: still in use by that
 * thread until the process exits, so kept reachable rather than freed. */
static hw_backend *g_abandoned;

static void hw_destroy(backend *b)
{
    if (b == NULL)
        return;
    if (hw_stop_prober(b->impl))
        hw_free(b->impl);
    else
        g_abandoned = b->impl;
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
    char status[160];

    if (out == NULL || cap == 0)
        return 0;
    out[0] = '\0';
    if (b == NULL || b->ops != &HW_OPS)
        return 0;
    h = hw_of(b);
    pthread_mutex_lock(&h->notes_lock);
    if (h->state == BACKEND_HW_WARMING)
        snprintf(status, sizeof(status), "status: warming: making the attestation key in the "
                                         "background (QE3, PCE, quote provider, PCCS)\n");
    else
        snprintf(status, sizeof(status), "status: %s (provider %s, certification data type %d)\n",
                 backend_hw_state_name(h->state), h->qpl_kind, h->cert_type);
    n = snprintf(out, cap, "%s%s%s%s%s", status, h->notes, h->last_error[0] ? "last error: " : "",
                 h->last_error, h->last_error[0] ? "\n" : "");
    pthread_mutex_unlock(&h->notes_lock);
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* --hw-lib-dir with symlinks: Intel's logic finds its enclave files
 * (libsgx_qe3.signed.so, libsgx_pce.signed.so) next to the path the
 * library was loaded by, so a directory of links to the real files finds
 * none (SGX_ERROR_ENCLAVE_FILE_ACCESS). Load through the link target. */
static void hw_resolve(const char *dir, const char *const names[2], char *out, size_t cap,
                       char *target_dir, size_t tcap)
{
    char p[PATH_MAX], real[PATH_MAX];

    out[0] = '\0';
    target_dir[0] = '\0';
    for (size_t i = 0; i < 2; i++) {
        if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, names[i]) >= sizeof(p))
            continue;
        if (realpath(p, real) == NULL)
            continue;
        snprintf(out, cap, "%s", real);
        snprintf(target_dir, tcap, "%s", real);
        {
            char *slash = strrchr(target_dir, '/');
            if (slash != NULL)
                *slash = '\0';
        }
        return;
    }
}

static void *hw_load_lib(hw_backend *h, const char *dir, const char *const names[2], int flags,
                         char *path, size_t pathcap, char *why, size_t whycap)
{
    char real[PATH_MAX], real_dir[PATH_MAX];
    void *dl;

    if (dir == NULL)
        return hw_dlopen(NULL, names, flags, path, pathcap, why, whycap);
    hw_resolve(dir, names, real, sizeof(real), real_dir, sizeof(real_dir));
    if (real[0] == '\0')
        return hw_dlopen(dir, names, flags, path, pathcap, why, whycap);
    dl = dlopen(real, flags);
    if (dl == NULL) {
        const char *e = dlerror();
        snprintf(why, whycap, "%s", e != NULL ? e : "unknown dlopen error");
        return NULL;
    }
    snprintf(path, pathcap, "%s", real);
    {
        char given[PATH_MAX];
        snprintf(given, sizeof(given), "%s", dir);
        if (strcmp(given, real_dir) != 0)
            hw_note(h, "lib: %s/%s is a link: loaded %s, so Intel looks for enclave files in %s",
                    dir, names[0], real, real_dir);
    }
    return dl;
}

backend *backend_hw_open(const backend_config *cfg, char *errbuf, size_t errcap)
{
    static const char *const PCE_NAMES[] = {BACKEND_HW_PCE_LIB, "libsgx_pce_logic.so"};
    static const char *const QE3_NAMES[] = {BACKEND_HW_QE3_LIB, BACKEND_HW_QE3_LIB_ALT};
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
    pthread_cond_init(&h->wake, NULL);
    h->qpl_kind = "none";
    h->state = BACKEND_HW_WARMING;
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
    h->pce_dl = hw_load_lib(h, dir, PCE_NAMES, RTLD_NOW | RTLD_GLOBAL, h->pce_path,
                            sizeof(h->pce_path), why, sizeof(why));
    if (h->pce_dl == NULL) {
        hw_set_err(errbuf, errcap,
                   "cannot load %s from %s (%s): install the libsgx-pce-logic package, or point "
                   "--hw-lib-dir at the directory holding Intel's DCAP libraries",
                   BACKEND_HW_PCE_LIB, where, why);
        goto fail;
    }
    h->qe3_dl = hw_load_lib(h, dir, QE3_NAMES, RTLD_NOW | RTLD_LOCAL, h->qe3_path,
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
        *(void **)&h->set_qpl_path = hw_sym(h->qe3_dl, "sgx_set_qpl_path");
        *(void **)&h->get_qpl_handle = hw_sym(h->qe3_dl, "get_qpl_handle");
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

    hw_setup_qpl(h, dir);
    hw_check_qcnl(h);

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

    /* The attestation key is made in the background (aesm §9.1 item 12):
     * the first one takes a QE3 key generation, a PCE signature and a PCCS
     * round trip, which must neither eat into a client's 15 s budget nor
     * hold up start-up: the QPL's network layer retries for a minute by
     * default when the PCCS is unreachable, past a startupProbe. */
    h->probe_wanted = true;
    if (pthread_create(&h->prober, NULL, hw_prober_main, h) != 0) {
        hw_set_err(errbuf, errcap, "cannot start the hardware backend's prober thread");
        goto fail;
    }
    h->prober_running = true;

    b->ops = &HW_OPS;
    b->impl = h;
    hw_log("info", "QE3 logic %s and PCE logic %s loaded; quote provider %s (%s); making the "
                   "attestation key in the background",
           h->qe3_path, h->pce_path, h->qpl_path[0] ? h->qpl_path : "none", h->qpl_kind);
    return b;

fail:
    hw_log("error", "%s", errbuf != NULL && errcap > 0 ? errbuf : "hardware backend failed");
    hw_free(h);
    free(b);
    return NULL;
}

bool backend_hw_refresh(backend *b, unsigned timeout_ms)
{
    hw_backend *h;
    uint64_t want;
    struct timespec until;
    bool ok = true;

    if (b == NULL || b->ops != &HW_OPS)
        return false;
    h = hw_of(b);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000u;
    until.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->notes_lock);
    /* A probe running now may have started before the caller's change. */
    want = h->probes_done + (h->probing ? 2u : 1u);
    h->probe_wanted = true;
    pthread_cond_broadcast(&h->wake);
    while (h->probes_done < want && ok)
        ok = pthread_cond_timedwait(&h->wake, &h->notes_lock, &until) == 0 ||
             h->probes_done >= want;
    pthread_mutex_unlock(&h->notes_lock);
    return ok;
}

/* Wait (tests, one-shot tools) until the prober has answered once. */
bool backend_hw_wait_warm(backend *b, unsigned timeout_ms)
{
    hw_backend *h;
    uint64_t end;

    if (b == NULL || b->ops != &HW_OPS)
        return false;
    h = hw_of(b);
    end = hw_mono_ms() + timeout_ms;
    for (;;) {
        bool warm;
        pthread_mutex_lock(&h->notes_lock);
        warm = h->state != BACKEND_HW_WARMING;
        pthread_mutex_unlock(&h->notes_lock);
        if (warm)
            return true;
        if (hw_mono_ms() >= end)
            return false;
        {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}
