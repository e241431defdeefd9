/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client side of the AESM socket, for our own tools (sgx-quote, bench,
 * tests) and behind the exported libsgx_quote_ex ABI (sgx_quote_ex.c).
 *
 * Two layers: client_transact() moves one request frame and one response
 * body over a fresh connection (aesm §1.3, §2); the client_* quote_ex calls
 * build Intel's requests and apply Intel's response and status rules
 * (aesm §4, §5.3), with the socket and timeouts taken from client_opts
 * instead of only from the environment.
 */
#ifndef SGXQH_CLIENT_H
#define SGXQH_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "sgxqh/sgx_quote_ex.h"

#define CLIENT_DEFAULT_SOCKET "/var/run/aesmd/aesm.socket"
/* Intel's IPC_LATENCY in release builds (aesm §3.5): per I/O phase. */
#define CLIENT_DEFAULT_IO_TIMEOUT_MS 15000
/* Rides out a daemon restart or upgrade without failing the caller. */
#define CLIENT_DEFAULT_CONNECT_RETRY_MS 2000
/* What Intel's client puts in every request's timeout field (aesm §3.5). */
#define CLIENT_REQUEST_TIMEOUT_FIELD 15000u

typedef struct {
    const char *socket_path; /* NULL: SGX_AESM_ADDR if absolute, else the default */
    int connect_retry_ms;    /* < 0: SGXQH_CONNECT_RETRY_MS, else the default */
    int io_timeout_ms;       /* <= 0: SGXQH_IO_TIMEOUT_MS, else the default */
} client_opts;

/* Everything from the environment / defaults. */
void client_opts_default(client_opts *o);

typedef enum {
    CLIENT_OK = 0,
    CLIENT_E_UNAVAILABLE = -1, /* no daemon: connect failed (→ SGX_ERROR_SERVICE_UNAVAILABLE) */
    CLIENT_E_TIMEOUT = -2,     /* a read/write phase passed its deadline (→ SERVICE_TIMEOUT) */
    CLIENT_E_IO = -3,          /* EOF or error before the whole response (→ UNEXPECTED) */
    CLIENT_E_TOO_LARGE = -4,   /* the response announced more than we accept */
    CLIENT_E_NOMEM = -5,
    CLIENT_E_INVALID = -6,     /* bad argument / request could not be encoded */
} client_err;

const char *client_strerror(int err);

/* The socket path these options resolve to (o may be NULL). */
const char *client_socket_path(const client_opts *o);

/* One exchange on a fresh connection: connect (retrying while the socket
 * is missing or refuses), send the whole request frame (prefix + body) in
 * one call, read the 4-byte prefix and a body of at most max_resp bytes.
 * *resp is malloc'd (free it). Returns 0 or a CLIENT_E_* code. */
int client_transact(const client_opts *o, const uint8_t *req_frame, size_t req_frame_len,
                    size_t max_resp, uint8_t **resp, size_t *resp_len);

/* Intel's transport status → sgx_status_t (aesm §5.2, uae_oal). */
sgx_status_t client_err_to_sgx(int err);

/* "SGX_ERROR_SERVICE_UNAVAILABLE" etc.; "SGX_ERROR_UNKNOWN" otherwise. */
const char *sgx_status_name(sgx_status_t s);

/* The six quote_ex calls; o NULL = client_opts_default. Same contracts as
 * the exported functions in sgxqh/sgx_quote_ex.h. */
sgx_status_t client_select_att_key_id(const client_opts *o, const uint8_t *p_att_key_id_list,
                                      uint32_t att_key_id_list_size,
                                      sgx_att_key_id_t *p_selected_key_id);
sgx_status_t client_init_quote_ex(const client_opts *o, const sgx_att_key_id_t *p_att_key_id,
                                  sgx_target_info_t *p_qe_target_info,
                                  size_t *p_pub_key_id_size, uint8_t *p_pub_key_id);
sgx_status_t client_get_quote_size_ex(const client_opts *o, const sgx_att_key_id_t *p_att_key_id,
                                      uint32_t *p_quote_size);
sgx_status_t client_get_quote_ex(const client_opts *o, const sgx_report_t *p_app_report,
                                 const sgx_att_key_id_t *p_att_key_id,
                                 sgx_qe_report_info_t *p_qe_report_info, uint8_t *p_quote,
                                 uint32_t quote_size);
sgx_status_t client_get_supported_att_key_id_num(const client_opts *o, uint32_t *p_num);
sgx_status_t client_get_supported_att_key_ids(const client_opts *o,
                                              sgx_att_key_id_ext_t *p_att_key_id_list,
                                              uint32_t att_key_id_num);

/* The ECDSA-P256 QE3 key id every ECDSA aesmd offers (aesm §6.4), as DCAP
 * passes it. */
void client_default_ecdsa_key_id(sgx_att_key_id_t *out);

/* Exact length of a v3/v4 quote from its signature_data_len at offset 432
 * (aesm §6.6): 436 + len, or 0 if that does not fit in buf_len. */
size_t client_quote_length(const uint8_t *quote, size_t buf_len);

#endif
