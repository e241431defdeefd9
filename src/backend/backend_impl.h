/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal seams of the backend module: each implementation's constructor,
 * called by backend_open() (backend.c). Not for code outside src/backend
 * and its tests.
 */
#ifndef SGXQH_BACKEND_IMPL_H
#define SGXQH_BACKEND_IMPL_H

#include <stddef.h>

#include "backend/backend.h"

/* The state directory the simulated seed lives in unless told otherwise. */
#define BACKEND_DEFAULT_STATE_DIR "/var/lib/sgx-quote-helper"
/* Its presence selects the hardware backend under --backend auto. */
#define BACKEND_SGX_DEVICE "/dev/sgx_enclave"

/* Simulated platform (backend_sim.c). */
backend *backend_sim_open(const backend_config *cfg, char *errbuf, size_t errcap);

/* Intel QE3/PCE logic libraries (backend_hw.c). */
backend *backend_hw_open(const backend_config *cfg, char *errbuf, size_t errcap);

/* What --backend auto resolves to: HW when device_path exists, else SIM. */
backend_kind backend_auto_kind(const char *device_path);

#endif
