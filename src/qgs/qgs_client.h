/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A QGS client over a Unix socket, as a TD's VMM or libtdx_attest talks to
 * QGS: one request per connection, then read the reply (framed: prefix then
 * exactly that many bytes; raw: until the server closes). Used by
 * `sgx-quote get --tdx`, the bench and the tests.
 */
#ifndef SGXQH_QGS_CLIENT_H
#define SGXQH_QGS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qgs/qgs_msg.h"

#define QGS_CLIENT_TIMEOUT_MS 30000 /* QEMU's and the kernel's 30 s */

/* Sends req (already framed, or a bare report) and reads the reply: with
 * raw, every byte until EOF (at most QGS_RAW_QUOTE_MAX); else the 4-byte
 * prefix and exactly that many bytes (at most QGS_REPLY_LEN_MAX), returned
 * without the prefix. A close with no bytes gives *reply_len 0. Returns 0,
 * or -1 with a sentence in err. */
int qgs_client_exchange(const char *socket_path, const uint8_t *req, size_t req_len, bool raw,
                        int timeout_ms, uint8_t **reply, size_t *reply_len, char *err,
                        size_t errcap);

/* GET_QUOTE (framed, decoded as strictly as upstream QEMU) or the raw form. */
int qgs_client_get_quote(const char *socket_path, const uint8_t *report, size_t report_len,
                         bool raw, int timeout_ms, uint8_t **quote, size_t *quote_len, char *err,
                         size_t errcap);

#endif
