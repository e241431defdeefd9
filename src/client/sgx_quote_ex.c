/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exported face of libsgx_quote_ex.so.1: Intel's six quote_ex entry
 * points (aesm §4; sgxqh/sgx_quote_ex.h), each a thin call into the client
 * layer with the socket and timeouts taken from the environment. The
 * version script (libsgx_quote_ex.map) exports exactly these six names.
 */
#include "client/client.h"
#include "sgxqh/sgx_quote_ex.h"

sgx_status_t sgx_select_att_key_id(const uint8_t *p_att_key_id_list,
                                   uint32_t att_key_id_list_size,
                                   sgx_att_key_id_t *p_selected_key_id)
{
    return client_select_att_key_id(NULL, p_att_key_id_list, att_key_id_list_size,
                                    p_selected_key_id);
}

sgx_status_t sgx_init_quote_ex(const sgx_att_key_id_t *p_att_key_id,
                               sgx_target_info_t *p_qe_target_info, size_t *p_pub_key_id_size,
                               uint8_t *p_pub_key_id)
{
    return client_init_quote_ex(NULL, p_att_key_id, p_qe_target_info, p_pub_key_id_size,
                                p_pub_key_id);
}

sgx_status_t sgx_get_quote_size_ex(const sgx_att_key_id_t *p_att_key_id, uint32_t *p_quote_size)
{
    return client_get_quote_size_ex(NULL, p_att_key_id, p_quote_size);
}

sgx_status_t sgx_get_quote_ex(const sgx_report_t *p_app_report,
                              const sgx_att_key_id_t *p_att_key_id,
                              sgx_qe_report_info_t *p_qe_report_info, uint8_t *p_quote,
                              uint32_t quote_size)
{
    return client_get_quote_ex(NULL, p_app_report, p_att_key_id, p_qe_report_info, p_quote,
                               quote_size);
}

sgx_status_t sgx_get_supported_att_key_id_num(uint32_t *p_att_key_id_num)
{
    return client_get_supported_att_key_id_num(NULL, p_att_key_id_num);
}

sgx_status_t sgx_get_supported_att_key_ids(sgx_att_key_id_ext_t *p_att_key_id_list,
                                           uint32_t att_key_id_num)
{
    return client_get_supported_att_key_ids(NULL, p_att_key_id_list, att_key_id_num);
}
