/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test stand-in for Intel's libsgx_pce_logic.so.1 (tests only; never
 * installed). Exports the PCE calls our QE3 stand-in makes by name, with
 * Intel's ABI (DCAP sgx_pce.h; backend_hw_abi.h): the backend must load this
 * library first and RTLD_GLOBAL for the QE3 stand-in to link at all
 * (aesm-protocol §8.1 "Re-exported PCE calls"). Deterministic values only:
 * the real signing happens inside the simulated platform.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_hw_abi.h"
#include "hwdouble.h"

#define PCE_DOUBLE_ISVSVN 13
#define PCE_DOUBLE_ID 0

static hw_ql_request_policy g_pce_policy = HW_QL_PERSISTENT;

hw_pce_error sgx_set_pce_enclave_load_policy(hw_ql_request_policy policy)
{
    if (policy != HW_QL_PERSISTENT && policy != HW_QL_EPHEMERAL)
        return HW_PCE_INVALID_PARAMETER;
    g_pce_policy = policy;
    hwdouble_log("pce set_policy %d", (int)g_pce_policy);
    return HW_PCE_SUCCESS;
}

hw_pce_error sgx_pce_get_target(sgx_target_info_t *p_pce_target, uint16_t *p_pce_isv_svn)
{
    if (p_pce_target == NULL || p_pce_isv_svn == NULL)
        return HW_PCE_INVALID_PARAMETER;
    memset(p_pce_target, 0, sizeof(*p_pce_target));
    memset(p_pce_target->mr_enclave, 0xCE, sizeof(p_pce_target->mr_enclave));
    p_pce_target->attributes.flags = SGX_FLAGS_INITTED | SGX_FLAGS_MODE64BIT |
                                     SGX_FLAGS_PROVISION_KEY;
    p_pce_target->attributes.xfrm = 3;
    *p_pce_isv_svn = PCE_DOUBLE_ISVSVN;
    hwdouble_log("pce get_target");
    return HW_PCE_SUCCESS;
}

hw_pce_error sgx_get_pce_info(const sgx_report_t *p_report, const uint8_t *p_public_key,
                              uint32_t key_size, uint8_t crypto_suite, uint8_t *p_encrypted_ppid,
                              uint32_t encrypted_ppid_buf_size,
                              uint32_t *p_encrypted_ppid_out_size, uint16_t *p_pce_isvsvn,
                              uint16_t *p_pce_id, uint8_t *p_signature_scheme)
{
    if (p_report == NULL || p_public_key == NULL || key_size == 0 ||
        crypto_suite != HW_PCE_ALG_RSA_OAEP_3072 || p_encrypted_ppid == NULL ||
        encrypted_ppid_buf_size < HW_PCE_ENCRYPTED_PPID_SIZE ||
        p_encrypted_ppid_out_size == NULL || p_pce_isvsvn == NULL || p_pce_id == NULL ||
        p_signature_scheme == NULL)
        return HW_PCE_INVALID_PARAMETER;
    /* A stand-in "encrypted PPID": a fixed pattern, 384 bytes (aesm §6.6). */
    for (uint32_t i = 0; i < HW_PCE_ENCRYPTED_PPID_SIZE; i++)
        p_encrypted_ppid[i] = (uint8_t)(0x5A ^ (i * 7u));
    *p_encrypted_ppid_out_size = HW_PCE_ENCRYPTED_PPID_SIZE;
    *p_pce_isvsvn = PCE_DOUBLE_ISVSVN;
    *p_pce_id = PCE_DOUBLE_ID;
    *p_signature_scheme = 0; /* PCE_NIST_P256_ECDSA_SHA256 */
    hwdouble_log("pce get_pce_info");
    return HW_PCE_SUCCESS;
}
