/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service layer: aesmd's quote_ex semantics as a pure function from one
 * request body (the bytes after the 4-byte length prefix) to one response
 * frame, plus backend calls. No sockets in here (DESIGN.md), so tests drive
 * it directly with tests/vectors/aesm-requests. Safe to call from several
 * worker threads at once; it serializes backend calls itself when the
 * backend is not thread-safe.
 */
#ifndef SGXQH_SERVICE_H
#define SGXQH_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"

typedef struct service service;

typedef struct {
    uint32_t max_buf_size; /* cap on a request's buf_size before allocating (default 64 KiB) */
} service_config;
void service_config_default(service_config *cfg);

service *service_new(backend *b, const service_config *cfg);
void service_free(service *s);

typedef enum {
    SERVICE_REPLY = 0, /* write `frame` (prefix + body) in one syscall, then close */
    SERVICE_CLOSE = 1, /* unknown/unparsable request: close without writing */
} service_action;

/* What one request did, for logs and metrics. */
typedef struct {
    service_action action;
    uint8_t *frame;      /* malloc'd: 4-byte LE length + Response body; NULL on CLOSE */
    size_t frame_len;
    const char *op;      /* "InitQuoteEx", "GetQuoteEx", ..., "unknown" */
    int aesm_code;       /* errorCode sent (or -1 when closed without reply) */
    bool has_enclave;    /* GetQuoteEx with a parseable report */
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    /* Appended (operations issue): successful GetQuoteEx, from the quote
     * header (quote-format §2), for the daemon's QE/PCE SVN metrics. */
    bool has_svn;
    uint16_t qe_svn;
    uint16_t pce_svn;
} service_result;

/* Handle one request body. Always fills *res; free with service_result_clear. */
void service_handle(service *s, const uint8_t *body, size_t len, service_result *res);
void service_result_clear(service_result *res);

/* ---- Additions after the initial contract (appended, service owner) ---- */

/* Default service_config.max_buf_size: pads what real clients ask for
 * (Intel's library: the quote_size, at most 1052 + 12294 = 13346 bytes,
 * aesm-protocol §6.6; Gramine: 8192) exactly as aesmd would; larger
 * buf_size values get the exact-size quote (§9.1 item 9, §9.3). */
#define SERVICE_DEFAULT_MAX_BUF_SIZE (16u * 1024u)
/* No quote is larger (§6.6: 13346 at most); a backend that asks for more
 * is answered AESM_UNEXPECTED_ERROR, so every reply has a known bound. */
#define SERVICE_QUOTE_MAX (16u * 1024u)
/* The largest response frame for a given max_buf_size, prefix included:
 * a GetQuoteExResponse with the (padded or exact) quote, the 960-byte
 * qe_report_info and protobuf framing (< 64 bytes). Every other response
 * is smaller. The server budgets unread replies with it. */
#define SERVICE_REPLY_MAX(max_buf_size)                                                        \
    (4u + ((max_buf_size) > SERVICE_QUOTE_MAX ? (max_buf_size) : SERVICE_QUOTE_MAX) + 960u + 64u)

/* Answer the request in body with errorCode = code (non-zero) without
 * calling the backend: the matching response sub-message with the fields
 * it carries on every error path (att_key_id_num, pub_key_id_size,
 * quote_size, the echoed qe_report_info). Requests service_handle would
 * close on are closed here too. The daemon's rate limit answers with
 * AESM_BUSY (18), which Intel's client maps to SGX_ERROR_BUSY (aesm §5.3). */
void service_refuse(service *s, const uint8_t *body, size_t len, int code, service_result *res);

/* Whether service_handle would call the backend for this request body:
 * true for InitQuoteEx with b_pub_key_id set, GetQuoteSizeEx and
 * GetQuoteEx; false for everything else (key id queries, SelectAttKeyID,
 * the InitQuoteEx size query, legacy and unparsable requests), which
 * service_handle answers from memory. The daemon answers those on its
 * event loop, so they never wait behind a slow backend call. */
bool service_needs_backend(const uint8_t *body, size_t len);

/* Whether service_handle never waits (backend_ops.nonblocking): then the
 * daemon runs every request inline on the event loop that accepted it;
 * otherwise backend calls go to its worker threads. */
bool service_nonblocking(const service *s);

#endif
