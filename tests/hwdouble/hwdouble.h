/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the two hardware test doubles (tests only): the environment
 * variables that steer them and the event log tests read back.
 *
 *   SGXQH_HWDOUBLE_STATE_DIR  simulated platform state dir (seed); required
 *   SGXQH_HWDOUBLE_FAIL       a quote3_error_t to fail with, e.g. 0xE011.
 *                             0xE00E (PLATFORM_LIB_UNAVAILABLE) is not
 *                             returned: like Intel's QE3 logic without a
 *                             QPL, the double then makes cert type 3 quotes.
 *   SGXQH_HWDOUBLE_FAIL_ON    which calls fail: comma list of load, init,
 *                             size, quote (default init,size,quote)
 *   SGXQH_HWDOUBLE_LOG        file that gets one line per call (appended)
 *   SGXQH_HWDOUBLE_LOAD_STATUS  a raw sgx_status_t that loading QE3 fails
 *                             with, as sgx_create_enclave's result reaches
 *                             callers of Intel's load_qe: 0x4004 (no access
 *                             to the provisioning key), 0x200F (enclave file
 *                             missing), 0x2006 (no SGX device)
 *   SGXQH_HWDOUBLE_LOSE_ENCLAVE file; when it exists at a call, the double
 *                             deletes it and its loaded QE3 is lost (an EPC
 *                             loss): as Intel's load_qe under PERSISTENT
 *                             reuses the cached enclave id, every later call
 *                             fails with 0xE014 until the policy is set to
 *                             EPHEMERAL (which unloads QE3)
 *
 * The QPL double (libdcap_quoteprov.so.1; the Azure flavour
 * azure/libdcap_quoteprov.so):
 *   SGXQH_QPL_DELAY_MS        milliseconds every sgx_ql_get_quote_config
 *                             waits first (an unreachable PCCS)
 *   SGXQH_QPL_FAIL            a quote3_error_t sgx_ql_get_quote_config
 *                             returns, e.g. 0xE019 (network), 0xE011
 *   SGXQH_QPL_INIT_FAIL       a quote3_error_t sgx_qpl_global_init returns
 *                             (0xE067: invalid QCNL JSON); every
 *                             get_quote_config fails with it too
 *   SGXQH_QPL_PCESVN          the cert PCE SVN (TCBm) it answers instead of
 *                             the platform's: a key certified before is stale
 * Without a QPL (none loadable, or its global init failed) the QE3 double
 * makes cert type 3 quotes, as Intel's QE3 logic does.
 *
 * If SGX_AESM_ADDR is set when the QE3 double is loaded, it refuses to work
 * (every call fails with SGX_QL_ERROR_UNEXPECTED and the log says so): a
 * process that loads Intel's libraries with that variable set is exposed to
 * libsgx_dcap_ql's out-of-proc switch (aesm-protocol §7, §11 item 3).
 */
#ifndef SGXQH_TESTS_HWDOUBLE_H
#define SGXQH_TESTS_HWDOUBLE_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sgx/reader.h"
#include "sim/sim.h"

#define HWDOUBLE_ENV_STATE_DIR "SGXQH_HWDOUBLE_STATE_DIR"
#define HWDOUBLE_ENV_FAIL "SGXQH_HWDOUBLE_FAIL"
#define HWDOUBLE_ENV_FAIL_ON "SGXQH_HWDOUBLE_FAIL_ON"
#define HWDOUBLE_ENV_LOG "SGXQH_HWDOUBLE_LOG"
#define HWDOUBLE_ENV_LOAD_STATUS "SGXQH_HWDOUBLE_LOAD_STATUS"
#define HWDOUBLE_ENV_LOSE_ENCLAVE "SGXQH_HWDOUBLE_LOSE_ENCLAVE"
#define HWDOUBLE_ENV_QPL_DELAY_MS "SGXQH_QPL_DELAY_MS"
#define HWDOUBLE_ENV_QPL_FAIL "SGXQH_QPL_FAIL"
#define HWDOUBLE_ENV_QPL_INIT_FAIL "SGXQH_QPL_INIT_FAIL"
#define HWDOUBLE_ENV_QPL_PCESVN "SGXQH_QPL_PCESVN"

/* One line into $SGXQH_HWDOUBLE_LOG with a single append write. */
static inline void hwdouble_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void hwdouble_log(const char *fmt, ...)
{
    const char *path = getenv(HWDOUBLE_ENV_LOG);
    char line[512];
    va_list ap;
    int n, fd;

    if (path == NULL || path[0] == '\0')
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) < 0) {
        /* a test log; nothing useful to do */
    }
    close(fd);
}

/* A quote3_error_t (or sgx_status_t) from the environment variable name:
 * 0 when unset, 0xE001 (SGX_QL_ERROR_UNEXPECTED) when it is not a number
 * up to 0xFFFF, so a typo in a test cannot pass silently. */
static inline uint32_t hwdouble_env_code(const char *name)
{
    const char *v = getenv(name);
    unsigned long code;
    char *end = NULL;

    if (v == NULL || v[0] == '\0')
        return 0;
    errno = 0;
    code = strtoul(v, &end, 0);
    if (errno != 0 || end == v || *end != '\0' || code > 0xFFFFu)
        return 0xE001u;
    return (uint32_t)code;
}

/* aesm §6.6: the auth_data size (u16) sits at 1012 of a v3 quote; the
 * certification data (type u16, size u32, data) follows the auth data. */
#define HWDOUBLE_QUOTE_AUTH_SIZE_OFFSET 1012u

/* Offset of the certification data header in a v3 quote, through the
 * bounded reader; false when the quote is too short for it. */
static inline bool hwdouble_cert_data_at(const uint8_t *quote, size_t len, size_t *at)
{
    uint16_t auth_len = 0;
    reader r;

    if (reader_init(&r, quote, len) != READER_OK ||
        reader_skip(&r, HWDOUBLE_QUOTE_AUTH_SIZE_OFFSET) != READER_OK ||
        reader_u16le(&r, &auth_len) != READER_OK || reader_skip(&r, auth_len) != READER_OK)
        return false;
    *at = reader_offset(&r);
    return true;
}

/* The simulated platform both doubles play Intel's enclaves (and PCCS)
 * with: $SGXQH_HWDOUBLE_STATE_DIR, default TCB, instance "hwdouble". */
static inline int hwdouble_platform_open(sim_platform **out, char *err, size_t cap)
{
    const char *dir = getenv(HWDOUBLE_ENV_STATE_DIR);
    sim_options opt;

    *out = NULL;
    if (dir == NULL || dir[0] == '\0') {
        snprintf(err, cap, "set %s to a state directory", HWDOUBLE_ENV_STATE_DIR);
        return SIM_E_CONFIG;
    }
    memset(&opt, 0, sizeof(opt));
    sim_tcb_config_default(&opt.tcb);
    opt.state_dir = dir;
    opt.instance = "hwdouble";
    return sim_platform_open(&opt, out, err, cap);
}

#endif
