/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readiness (GET /readyz, the backend_ready metric): the backend's own
 * health() plus a canary through the real service, exactly as a client's
 * request would go. With the simulated backend the canary is a whole quote:
 * InitQuoteEx → a report from the default simulated enclave for that QE
 * target info → GetQuoteSizeEx → GetQuoteEx, and the quote's header gives
 * the QE/PCE SVN metrics. With the hardware backend (no enclave of our own
 * to make a REPORT) it is GetQuoteSizeEx, which walks QE3, the attestation
 * key and the quote provider's certification data. The canary never shows
 * in the request metrics or logs.
 */
#ifndef SGXQH_DAEMON_READY_H
#define SGXQH_DAEMON_READY_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"
#include "daemon/service.h"
#include "ops/ops_metrics.h"

typedef struct readiness readiness;

/* outer: the backend the service uses (maybe the --fault-file wrapper);
 * inner: the real one (sim or hw), for its kind and the hardware notes.
 * metrics may be NULL. */
readiness *readiness_new(service *svc, backend *outer, backend *inner, ops_metrics *metrics);
void readiness_free(readiness *r);

/* Run the check now, or, when one is running already (from any thread),
 * wait for it and take its result: runs never pile up. true = ready.
 * reason gets a sentence (and, for hw, the backend's notes) when not ready,
 * "ready" otherwise. Logs a line when readiness changes. */
bool readiness_check(readiness *r, char *reason, size_t cap);

/* The last result when younger than max_age_ms, else readiness_check. */
bool readiness_get(readiness *r, unsigned max_age_ms, char *reason, size_t cap);

#endif
