/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hardware quoting backend: Intel's QE3 and PCE through DCAP's logic
 * libraries (libsgx_pce_logic.so.1, libsgx_qe3_logic.so.1), loaded with
 * dlopen at run time, exactly as aesmd's ECDSA plugin uses them
 * (aesm-protocol §8, DESIGN.md "Hardware backend"). backend.c calls
 * backend_hw_open() for --backend hw (and auto on an SGX node).
 */
#ifndef SGXQH_BACKEND_HW_H
#define SGXQH_BACKEND_HW_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"

/* Default directory searched by the dynamic loader when hw_lib_dir is NULL:
 * none (the plain soname goes to ld.so, i.e. the system library path). */
#define BACKEND_HW_PCE_LIB "libsgx_pce_logic.so.1"
#define BACKEND_HW_QE3_LIB "libsgx_qe3_logic.so.1"
#define BACKEND_HW_QPL_LIB "libdcap_quoteprov.so.1"
#define BACKEND_HW_QCNL_CONF "/etc/sgx_default_qcnl.conf"

/* Opens the hardware backend:
 *  1. unsetenv("SGX_AESM_ADDR") in this process (see backend_hw.c);
 *  2. dlopen libsgx_pce_logic (RTLD_GLOBAL) then libsgx_qe3_logic, from
 *     cfg->hw_lib_dir when set, else the system path (.so.1, then .so);
 *  3. sgx_ql_set_enclave_load_policy(PERSISTENT), sgx_ql_get_keyid;
 *  4. loads QE3 now (load_qe when exported) and warms the attestation key,
 *     so a broken platform shows at start and in health().
 * On failure returns NULL with a sentence (what failed, the fix) in errbuf.
 * Missing QPL / QCNL config are not failures: they are logged and kept in
 * the notes (backend_hw_notes). */
backend *backend_hw_open(const backend_config *cfg, char *errbuf, size_t errcap);

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
