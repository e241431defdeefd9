/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The response half of each quote_ex call, split from the transport so the
 * untrusted-response path can be fuzzed (fuzz/client) and unit-tested on
 * its own: a decoded Response in, the caller's buffers filled under Intel's
 * rules (aesm §4.1–4.6), an sgx_status_t out. Not exported from
 * libsgx_quote_ex.so.1.
 */
#ifndef SGXQH_CLIENT_INTERNAL_H
#define SGXQH_CLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sgxqh/sgx_quote_ex.h"
#include "wire/wire.h"

sgx_status_t client_apply_select(const Aesm__Response *resp, sgx_att_key_id_t *p_selected_key_id);
/* buf_size: the *p_pub_key_id_size the caller passed (the pub_key_id buffer). */
sgx_status_t client_apply_init(const Aesm__Response *resp, size_t buf_size,
                               sgx_target_info_t *p_qe_target_info, size_t *p_pub_key_id_size,
                               uint8_t *p_pub_key_id);
sgx_status_t client_apply_size(const Aesm__Response *resp, uint32_t *p_quote_size);
sgx_status_t client_apply_quote(const Aesm__Response *resp, sgx_qe_report_info_t *p_qe_report_info,
                                uint8_t *p_quote, uint32_t quote_size);
sgx_status_t client_apply_num(const Aesm__Response *resp, uint32_t *p_num);
/* buf_size: att_key_id_num × 256, the size of p_att_key_id_list. */
sgx_status_t client_apply_ids(const Aesm__Response *resp, sgx_att_key_id_ext_t *p_att_key_id_list,
                              uint32_t buf_size);

#endif
