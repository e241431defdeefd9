/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --fault-file: a backend wrapper for testing probes, alerts and client
 * error handling without breaking a real platform. While the file exists,
 * every backend call (init, size, quote, health) fails with the aesm code
 * written in it (decimal, e.g. "44" for AESM_NO_PLATFORM_CERT_DATA; empty
 * or unreadable: 30, AESM_SERVICE_UNAVAILABLE; "0": no fault); remove the
 * file and the backend works again. Key ids are passed through, so the
 * service keeps offering the ECDSA key. Off unless the flag is given.
 *
 * Test-only delay: a word "delay=MS" in the file (alone, or after the
 * code: "delay=3000", "44 delay=500") makes every such call first sleep MS
 * milliseconds (at most 60000) on its worker thread, then go on (or fail
 * with the code). It stands in for a slow PCCS in tests of what must not
 * wait for the backend.
 */
#ifndef SGXQH_DAEMON_FAULT_H
#define SGXQH_DAEMON_FAULT_H

#include "backend/backend.h"

/* Wraps inner (which the wrapper then owns: backend_close closes both).
 * Returns NULL on allocation failure (inner is then still the caller's). */
backend *fault_backend_wrap(backend *inner, const char *path);

/* The code the file asks for right now: 0 when it does not exist. */
int fault_file_code(const char *path);

/* The same, and the delay in milliseconds it asks for (0 when none). */
int fault_file_read(const char *path, unsigned *delay_ms);

#endif
