/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placeholder for the hardware backend (Intel's libsgx_qe3_logic and
 * libsgx_pce_logic behind the backend interface, DESIGN.md "Hardware
 * backend"). backend_open() calls backend_hw_open() for --backend hw (and
 * for auto on a machine with /dev/sgx_enclave); until the hardware issue
 * lands backend_hw.c, which replaces this file, it fails with a sentence
 * saying so instead of pretending to quote.
 */
#include <stdio.h>

#include "backend/backend_impl.h"

backend *backend_hw_open(const backend_config *cfg, char *errbuf, size_t errcap)
{
    (void)cfg;
    if (errbuf != NULL && errcap > 0)
        snprintf(errbuf, errcap,
                 "the hardware backend is not built yet; use --backend sim (simulated SGX platform)");
    return NULL;
}
