/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --fault-file: a backend wrapper for testing probes, alerts and client
 * error handling without breaking a real platform. While the file exists,
 * every backend call (init, size, quote, health) fails with the aesm code
 * written in it (decimal, e.g. "44" for AESM_NO_PLATFORM_CERT_DATA; empty
 * or unreadable: 30, AESM_SERVICE_UNAVAILABLE; "0": no fault); remove the
 * file and the backend works again. Key ids are passed through, so the
 * service keeps offering the ECDSA key. Off unless the flag is given.
 */
#ifndef SGXQH_DAEMON_FAULT_H
#define SGXQH_DAEMON_FAULT_H

#include "backend/backend.h"

/* Wraps inner (which the wrapper then owns: backend_close closes both).
 * Returns NULL on allocation failure (inner is then still the caller's). */
backend *fault_backend_wrap(backend *inner, const char *path);

/* The code the file asks for right now: 0 when it does not exist. */
int fault_file_code(const char *path);

#endif
