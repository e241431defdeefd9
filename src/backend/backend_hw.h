/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hardware quoting backend: Intel's QE3 and PCE through DCAP's logic
 * libraries (libsgx_pce_logic.so.1, libsgx_qe3_logic.so), loaded with
 * dlopen at run time, exactly as aesmd's ECDSA plugin uses them
 * (aesm-protocol §8, DESIGN.md "Hardware backend"). backend.c calls
 * backend_hw_open() for --backend hw (and auto on an SGX node).
 */
#ifndef SGXQH_BACKEND_HW_H
#define SGXQH_BACKEND_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"

/* Default directory searched by the dynamic loader when hw_lib_dir is NULL:
 * none (the plain soname goes to ld.so, i.e. the system library path). */
#define BACKEND_HW_PCE_LIB "libsgx_pce_logic.so.1"
/* libsgx-qe3-logic ships libsgx_qe3_logic.so only (no .so.1); the .so.1
 * name is tried second for builds that add one. */
#define BACKEND_HW_QE3_LIB "libsgx_qe3_logic.so"
#define BACKEND_HW_QE3_LIB_ALT "libsgx_qe3_logic.so.1"
#define BACKEND_HW_QPL_LIB "libdcap_quoteprov.so.1"
/* az-dcap-client installs only this name; Intel's QE3 logic tries it
 * second. */
#define BACKEND_HW_QPL_LIB_LEGACY "libdcap_quoteprov.so"
/* QE3 logic copies the whole quote buffer into its enclave, whose heap is
 * 0x24000 bytes (DCAP qe3 enclave config.xml HeapMaxSize): a buf_size
 * near that fails inside the enclave. The daemon caps --max-buf-size for
 * the hardware backend here, well below, still far above the largest
 * quote (1052 + 3 * 4098 bytes of certification data). */
#define BACKEND_HW_MAX_BUF_SIZE (64u * 1024u)
/* How old the prober's last answer may be before health() asks for a new
 * one (it still answers at once with the last one). */
#define BACKEND_HW_PROBE_MAX_AGE_MS 5000u
#define BACKEND_HW_QCNL_CONF "/etc/sgx_default_qcnl.conf"

/* Opens the hardware backend:
 *  1. unsetenv("SGX_AESM_ADDR") in this process (see backend_hw.c);
 *  2. dlopen libsgx_pce_logic (RTLD_GLOBAL) then libsgx_qe3_logic, from
 *     cfg->hw_lib_dir (symlinks resolved, as Intel finds its enclave files
 *     next to the library's real path) when set, else the system path;
 *  3. sgx_ql_set_enclave_load_policy(PERSISTENT), sgx_ql_get_keyid;
 *  4. finds the quote provider library, tells QE3 logic with
 *     sgx_set_qpl_path, installs its logging callback (as aesmd does);
 *  5. loads QE3 now (load_qe when exported): a platform that cannot run
 *     QE3 fails here, with the sgx_status_t named;
 *  6. starts the prober thread, which makes the attestation key in the
 *     background (it may wait minutes for a PCCS): open never waits for it,
 *     and health() is "warming" until it is done.
 * On failure returns NULL with a sentence (what failed, the fix) in errbuf.
 * A missing QPL / QCNL config is not a failure: it is logged and kept in
 * the notes (backend_hw_notes). */
backend *backend_hw_open(const backend_config *cfg, char *errbuf, size_t errcap);

/* What health() answers from, without calling Intel's code. */
typedef enum {
    BACKEND_HW_WARMING = 0, /* the attestation key is being made (PCCS) */
    BACKEND_HW_READY,       /* the last probe could size a quote */
    BACKEND_HW_FAILED,      /* the last probe failed: state_q3 says why */
} backend_hw_state;

typedef struct {
    backend_hw_state state;
    uint32_t q3;          /* failing quote3_error_t / sgx_status_t (FAILED) */
    int cert_type;        /* 5 PCK chain, 3 encrypted PPID, 0 not known yet */
    char provider_path[4096]; /* the QPL QE3 logic loads; "" none */
    char provider[16];    /* "intel", "azure", "unknown" or "none" */
} backend_hw_status;

/* Fills *out; false when b is not the hardware backend. Any thread. */
bool backend_hw_status_get(backend *b, backend_hw_status *out);
/* Waits until the background warm-up has answered once (ready or
 * failed); false on timeout. For tests and one-shot tools. */
bool backend_hw_wait_warm(backend *b, unsigned timeout_ms);
/* Asks for a fresh probe and waits for it (after a change the caller
 * made); false on timeout. health() then answers from it. */
bool backend_hw_refresh(backend *b, unsigned timeout_ms);
/* "warming", "ready", "failed". */
const char *backend_hw_state_name(backend_hw_state s);

/* Operator-facing text about the platform: QPL and QCNL config presence,
 * the SGX_AESM_ADDR removal, and the last Intel error with its hint. One
 * fact per line. Returns the length written (truncated to cap-1).
 * Safe to call from any thread while the backend is open. */
size_t backend_hw_notes(backend *b, char *out, size_t cap);

/* Where the hardware backend writes its log lines. Default (fn NULL):
 * "sgx-quote-helperd: backend hw: <level>: <message>" on stderr.
 * level is "info", "warn" or "error". Set before backend_hw_open. */
typedef void (*backend_hw_log_fn)(void *ctx, const char *level, const char *message);
void backend_hw_set_logger(backend_hw_log_fn fn, void *ctx);

/* quote3_error_t -> aesm_error_t exactly as aesmd's ECDSA bundle maps it
 * (aesm-protocol §5.5): listed codes map 1:1, anything else is 1. */
aesm_error_t backend_hw_aesm_from_quote3(uint32_t q3);

/* "SGX_QL_NO_PLATFORM_CERT_DATA" etc.; "SGX_QL_UNKNOWN_ERROR" otherwise. */
const char *quote3_error_name(uint32_t q3);
/* One line: the usual cause and the fix (field notes §5.4); "" if none. */
const char *quote3_error_hint(uint32_t q3);

#endif
