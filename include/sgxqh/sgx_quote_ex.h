/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libsgx_quote_ex.so.1: sgx-quote-helper's implementation of the six
 * quote_ex entry points of Intel's PSW library of the same name, with the
 * same names, argument types and sgx_status_t results (aesm-protocol §4,
 * §5.2–5.3), so applications and libsgx_dcap_ql (out-of-proc mode, §7)
 * can load it in place of Intel's.
 *
 * Differences from Intel's library, all opt-in through the environment:
 *   SGX_AESM_ADDR           an absolute path is used as the socket path
 *                           (otherwise /var/run/aesmd/aesm.socket);
 *   SGXQH_CONNECT_RETRY_MS  connect retry budget when the socket is missing
 *                           or refuses (default 2000, 0 disables);
 *   SGXQH_IO_TIMEOUT_MS     per-phase I/O deadline (default 15000, Intel's).
 */
#ifndef SGXQH_SGX_QUOTE_EX_H
#define SGXQH_SGX_QUOTE_EX_H

#include <stddef.h>
#include <stdint.h>

#include "sgxqh/sgx_arch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The sgx_status_t values this library returns (aesm-protocol §5.2); the
 * numbers are Intel's (sgx_error.h). */
typedef enum {
    SGX_SUCCESS = 0x0000,
    SGX_ERROR_UNEXPECTED = 0x0001,
    SGX_ERROR_INVALID_PARAMETER = 0x0002,
    SGX_ERROR_OUT_OF_MEMORY = 0x0003,
    SGX_ERROR_OUT_OF_EPC = 0x2005,
    SGX_ERROR_NO_DEVICE = 0x2006,
    SGX_ERROR_MAC_MISMATCH = 0x3001,
    SGX_ERROR_SERVICE_UNAVAILABLE = 0x4001,
    SGX_ERROR_SERVICE_TIMEOUT = 0x4002,
    SGX_ERROR_AE_INVALID_EPIDBLOB = 0x4003,
    SGX_ERROR_SERVICE_INVALID_PRIVILEGE = 0x4004,
    SGX_ERROR_EPID_MEMBER_REVOKED = 0x4005,
    SGX_ERROR_UPDATE_NEEDED = 0x4006,
    SGX_ERROR_NETWORK_FAILURE = 0x4007,
    SGX_ERROR_BUSY = 0x400a,
    SGX_ERROR_UNRECOGNIZED_PLATFORM = 0x4012,
    SGX_ERROR_UNSUPPORTED_CONFIG = 0x4013,
    SGX_ERROR_UNSUPPORTED_ATT_KEY_ID = 0x8001,
    SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE = 0x8002,
    SGX_ERROR_ATT_KEY_UNINITIALIZED = 0x8003,
    SGX_ERROR_INVALID_ATT_KEY_CERT_DATA = 0x8004,
    SGX_ERROR_PLATFORM_CERT_UNAVAILABLE = 0x8005,
} sgx_status_t;

/* aesm §4.1: choose a key id from the verifier's list (8-byte header +
 * n × 256), or the daemon's default when the list is NULL. */
sgx_status_t sgx_select_att_key_id(const uint8_t *p_att_key_id_list,
                                   uint32_t att_key_id_list_size,
                                   sgx_att_key_id_t *p_selected_key_id);

/* aesm §4.2: with p_pub_key_id NULL, only *p_pub_key_id_size is returned
 * (32); otherwise the QE target info and the 32-byte pub key id. */
sgx_status_t sgx_init_quote_ex(const sgx_att_key_id_t *p_att_key_id,
                               sgx_target_info_t *p_qe_target_info, size_t *p_pub_key_id_size,
                               uint8_t *p_pub_key_id);

/* aesm §4.3: the exact size of the quote the next call will produce. */
sgx_status_t sgx_get_quote_size_ex(const sgx_att_key_id_t *p_att_key_id, uint32_t *p_quote_size);

/* aesm §4.4: the quote for an app report targeted at the QE; with
 * p_qe_report_info, also a QE report for the app enclave whose report_data
 * is SHA-256(nonce ‖ quote) ‖ 0^32. */
sgx_status_t sgx_get_quote_ex(const sgx_report_t *p_app_report,
                              const sgx_att_key_id_t *p_att_key_id,
                              sgx_qe_report_info_t *p_qe_report_info, uint8_t *p_quote,
                              uint32_t quote_size);

/* aesm §4.5–4.6 */
sgx_status_t sgx_get_supported_att_key_id_num(uint32_t *p_att_key_id_num);
sgx_status_t sgx_get_supported_att_key_ids(sgx_att_key_id_ext_t *p_att_key_id_list,
                                           uint32_t att_key_id_num);

#ifdef __cplusplus
}
#endif
#endif
