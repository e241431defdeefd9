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
 *
 * If SGX_AESM_ADDR is set when the QE3 double is loaded, it refuses to work
 * (every call fails with SGX_QL_ERROR_UNEXPECTED and the log says so): a
 * process that loads Intel's libraries with that variable set is exposed to
 * libsgx_dcap_ql's out-of-proc switch (aesm-protocol §7, §11 item 3).
 */
#ifndef SGXQH_TESTS_HWDOUBLE_H
#define SGXQH_TESTS_HWDOUBLE_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define HWDOUBLE_ENV_STATE_DIR "SGXQH_HWDOUBLE_STATE_DIR"
#define HWDOUBLE_ENV_FAIL "SGXQH_HWDOUBLE_FAIL"
#define HWDOUBLE_ENV_FAIL_ON "SGXQH_HWDOUBLE_FAIL_ON"
#define HWDOUBLE_ENV_LOG "SGXQH_HWDOUBLE_LOG"

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

#endif
