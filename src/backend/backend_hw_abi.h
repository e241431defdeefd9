/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel DCAP's quoting ABI as the hardware backend sees it through dlopen:
 * the quote3_error_t values, the enclave load policy, the PCE error values
 * and the prototypes libsgx_qe3_logic.so.1 / libsgx_pce_logic.so.1 export
 * (aesm-protocol §5.4, §8.1). Our own declarations of Intel's published
 * ABI, written from the spec; the test doubles in tests/hwdouble implement
 * exactly these names so the backend cannot tell them from Intel's.
 */
#ifndef SGXQH_BACKEND_HW_ABI_H
#define SGXQH_BACKEND_HW_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgxqh/sgx_arch.h"

/* quote3_error_t: every error is 0xE000 | n (DCAP sgx_ql_lib_common.h;
 * aesm §5.4 "Other quote3_error_t values"). A plain uint32_t on the ABI. */
typedef uint32_t hw_quote3_error;
#define HW_Q3_SUCCESS 0x0000u
#define HW_Q3_ERROR_UNEXPECTED 0xE001u
#define HW_Q3_ERROR_INVALID_PARAMETER 0xE002u
#define HW_Q3_ERROR_OUT_OF_MEMORY 0xE003u
#define HW_Q3_ERROR_ECDSA_ID_MISMATCH 0xE004u
#define HW_Q3_PATHNAME_BUFFER_OVERFLOW_ERROR 0xE005u
#define HW_Q3_FILE_ACCESS_ERROR 0xE006u
#define HW_Q3_ERROR_STORED_KEY 0xE007u
#define HW_Q3_ERROR_PUB_KEY_ID_MISMATCH 0xE008u
#define HW_Q3_ERROR_INVALID_PCE_SIG_SCHEME 0xE009u
#define HW_Q3_ATT_KEY_BLOB_ERROR 0xE00Au
#define HW_Q3_UNSUPPORTED_ATT_KEY_ID 0xE00Bu
#define HW_Q3_UNSUPPORTED_LOADING_POLICY 0xE00Cu
#define HW_Q3_INTERFACE_UNAVAILABLE 0xE00Du
#define HW_Q3_PLATFORM_LIB_UNAVAILABLE 0xE00Eu
#define HW_Q3_ATT_KEY_NOT_INITIALIZED 0xE00Fu
#define HW_Q3_ATT_KEY_CERT_DATA_INVALID 0xE010u
#define HW_Q3_NO_PLATFORM_CERT_DATA 0xE011u
#define HW_Q3_OUT_OF_EPC 0xE012u
#define HW_Q3_ERROR_REPORT 0xE013u
#define HW_Q3_ENCLAVE_LOST 0xE014u
#define HW_Q3_INVALID_REPORT 0xE015u
#define HW_Q3_ENCLAVE_LOAD_ERROR 0xE016u
#define HW_Q3_UNABLE_TO_GENERATE_QE_REPORT 0xE017u
#define HW_Q3_KEY_CERTIFCATION_ERROR 0xE018u /* sic, Intel's spelling */
#define HW_Q3_NETWORK_ERROR 0xE019u
#define HW_Q3_MESSAGE_ERROR 0xE01Au
#define HW_Q3_ERROR_INVALID_PRIVILEGE 0xE035u
#define HW_Q3_UNSUPPORTED_MODE 0xE03Eu
#define HW_Q3_NO_DEVICE 0xE03Fu
#define HW_Q3_SERVICE_UNAVAILABLE 0xE040u
#define HW_Q3_NETWORK_FAILURE 0xE041u
#define HW_Q3_SERVICE_TIMEOUT 0xE042u
#define HW_Q3_ERROR_BUSY 0xE043u
#define HW_Q3_PLATFORM_UNKNOWN 0xE047u
#define HW_Q3_CERTS_UNAVAILABLE 0xE049u
#define HW_Q3_ROOT_CA_UNTRUSTED 0xE065u
#define HW_Q3_CONFIG_INVALID_JSON 0xE067u

/* sgx_status_t values (SDK sgx_error.h) that libsgx_qe3_logic's load_qe
 * passes up unchanged from sgx_create_enclave: every call that loads QE3
 * (load_qe, init_quote, get_quote_size, get_quote) can return them. */
#define HW_SGX_ERROR_UNEXPECTED 0x0001u
#define HW_SGX_ERROR_OUT_OF_MEMORY 0x0003u
#define HW_SGX_ERROR_ENCLAVE_LOST 0x0004u
#define HW_SGX_ERROR_INVALID_ENCLAVE 0x2001u
#define HW_SGX_ERROR_INVALID_SIGNATURE 0x2003u
#define HW_SGX_ERROR_NDEBUG_ENCLAVE 0x2004u
#define HW_SGX_ERROR_NO_DEVICE 0x2006u
#define HW_SGX_ERROR_MEMORY_MAP_CONFLICT 0x2007u
#define HW_SGX_ERROR_INVALID_METADATA 0x2009u
#define HW_SGX_ERROR_DEVICE_BUSY 0x200Cu
#define HW_SGX_ERROR_MODE_INCOMPATIBLE 0x200Eu
#define HW_SGX_ERROR_ENCLAVE_FILE_ACCESS 0x200Fu
#define HW_SGX_ERROR_SERVICE_INVALID_PRIVILEGE 0x4004u

/* sgx_ql_request_policy_t (DCAP sgx_pce.h): an int-sized C enum. */
typedef enum {
    HW_QL_PERSISTENT = 0, /* load QE3/PCE once, keep them until unload */
    HW_QL_EPHEMERAL = 1,  /* load and unload around every call */
} hw_ql_request_policy;

/* sgx_pce_error_t: 0xF000 | n (DCAP sgx_pce.h). */
typedef uint32_t hw_pce_error;
#define HW_PCE_SUCCESS 0xF000u
#define HW_PCE_UNEXPECTED 0xF001u
#define HW_PCE_INVALID_PARAMETER 0xF002u
#define HW_PCE_OUT_OF_EPC 0xF003u
#define HW_PCE_INTERFACE_UNAVAILABLE 0xF004u
#define HW_PCE_INVALID_REPORT 0xF005u
#define HW_PCE_CRYPTO_ERROR 0xF006u
#define HW_PCE_INVALID_PRIVILEGE 0xF007u
#define HW_PCE_INVALID_TCB 0xF008u

/* sgx_misc_attribute_t as the SDK lays it out: not packed, so 8-aligned
 * and 24 bytes (16 attributes + 4 misc_select + 4 padding). load_qe fills
 * it; we never read it. */
typedef struct {
    uint64_t flags;
    uint64_t xfrm;
    uint32_t misc_select;
} hw_misc_attribute;
_Static_assert(sizeof(hw_misc_attribute) == 24, "sgx_misc_attribute_t");
_Static_assert(offsetof(hw_misc_attribute, misc_select) == 16, "misc_select");

#define HW_LAUNCH_TOKEN_SIZE 1024 /* sgx_launch_token_t */
#define HW_PCE_ENCRYPTED_PPID_SIZE 384 /* RSA-3072-OAEP, aesm §6.6 type 3 */
#define HW_PCE_ALG_RSA_OAEP_3072 1

/* ---- the quote provider library, libdcap_quoteprov.so[.1] ----
 * DCAP sgx_ql_lib_common.h: what QE3 logic asks the QPL for (the platform
 * identity) and gets back (the TCBm and the PCK certificate chain). */
typedef struct {
    uint8_t *p_qe3_id;
    uint32_t qe3_id_size;
    uint8_t *p_platform_cpu_svn;     /* sgx_cpu_svn_t *, 16 bytes */
    uint16_t *p_platform_pce_isv_svn; /* sgx_isv_svn_t * */
    uint8_t *p_encrypted_ppid;
    uint32_t encrypted_ppid_size;
    uint8_t crypto_suite;
    uint16_t pce_id;
} hw_ql_pck_cert_id;
_Static_assert(sizeof(hw_ql_pck_cert_id) == 48, "sgx_ql_pck_cert_id_t");

#define HW_QL_CONFIG_VERSION_1 1
typedef struct {
    uint32_t version; /* sgx_ql_config_version_t, an int-sized enum */
    uint8_t cert_cpu_svn[16];
    uint16_t cert_pce_isv_svn;
    uint32_t cert_data_size;
    uint8_t *p_cert_data;
} hw_ql_config;
_Static_assert(offsetof(hw_ql_config, cert_data_size) == 24, "sgx_ql_config_t");
_Static_assert(sizeof(hw_ql_config) == 40, "sgx_ql_config_t");

typedef enum { /* sgx_ql_log_level_t */
    HW_QL_LOG_ERROR = 0,
    HW_QL_LOG_INFO = 1,
    HW_QL_LOG_DEBUG = 2,
    HW_QL_LOG_TRACE = 3,
} hw_ql_log_level;
typedef void (*hw_ql_logging_callback)(hw_ql_log_level level, const char *message);

/* Intel's QPL: sgx_ql_set_logging_callback(logger, level) and
 * sgx_qpl_global_init(); Azure's: sgx_ql_set_logging_function(logger). */
typedef hw_quote3_error (*hw_qpl_set_logging_callback_fn)(hw_ql_logging_callback logger,
                                                          hw_ql_log_level level);
typedef int (*hw_qpl_set_logging_function_fn)(hw_ql_logging_callback logger);
typedef hw_quote3_error (*hw_qpl_global_init_fn)(void);
typedef hw_quote3_error (*hw_qpl_get_quote_config_fn)(const hw_ql_pck_cert_id *p_pck_cert_id,
                                                      hw_ql_config **pp_quote_config);
typedef hw_quote3_error (*hw_qpl_free_quote_config_fn)(hw_ql_config *p_quote_config);

hw_quote3_error sgx_ql_get_quote_config(const hw_ql_pck_cert_id *p_pck_cert_id,
                                        hw_ql_config **pp_quote_config);
hw_quote3_error sgx_ql_free_quote_config(hw_ql_config *p_quote_config);
hw_quote3_error sgx_ql_set_logging_callback(hw_ql_logging_callback logger,
                                            hw_ql_log_level loglevel);
int sgx_ql_set_logging_function(hw_ql_logging_callback logger);
hw_quote3_error sgx_qpl_global_init(void);
hw_quote3_error sgx_qpl_global_cleanup(void);
hw_quote3_error sgx_qpl_clear_cache(uint32_t cache_type);

/* ---- libsgx_qe3_logic.so (aesm §8.1; DCAP sgx_ql_core_wrapper.h) ---- */
typedef hw_quote3_error (*hw_ql_set_enclave_load_policy_fn)(hw_ql_request_policy policy);
typedef hw_quote3_error (*hw_ql_get_keyid_fn)(sgx_att_key_id_ext_t *p_att_key_id_ext);
/* p_pub_key_id NULL: size query (no enclave work, *size = 32). */
typedef hw_quote3_error (*hw_ql_init_quote_fn)(sgx_ql_att_key_id_t *p_att_key_id,
                                               sgx_target_info_t *p_qe_target_info,
                                               bool refresh_att_key, size_t *p_pub_key_id_size,
                                               uint8_t *p_pub_key_id);
typedef hw_quote3_error (*hw_ql_get_quote_size_fn)(sgx_ql_att_key_id_t *p_att_key_id,
                                                   uint32_t *p_quote_size);
typedef hw_quote3_error (*hw_ql_get_quote_fn)(const sgx_report_t *p_app_report,
                                              sgx_ql_att_key_id_t *p_att_key_id,
                                              sgx_qe_report_info_t *p_qe_report_info,
                                              uint8_t *p_quote, uint32_t quote_size);
/* Exported by current DCAP (aesmd's ECDSA bundle calls it at start);
 * optional for us: older libraries keep it static. */
typedef hw_quote3_error (*hw_load_qe_fn)(uint64_t *p_qe_eid, hw_misc_attribute *p_qe_attributes,
                                         uint8_t (*p_launch_token)[HW_LAUNCH_TOKEN_SIZE]);

/* The same names as real prototypes, for the test doubles that define them. */
hw_quote3_error sgx_ql_set_enclave_load_policy(hw_ql_request_policy policy);
hw_quote3_error sgx_ql_get_keyid(sgx_att_key_id_ext_t *p_att_key_id_ext);
hw_quote3_error sgx_ql_init_quote(sgx_ql_att_key_id_t *p_att_key_id,
                                  sgx_target_info_t *p_qe_target_info, bool refresh_att_key,
                                  size_t *p_pub_key_id_size, uint8_t *p_pub_key_id);
hw_quote3_error sgx_ql_get_quote_size(sgx_ql_att_key_id_t *p_att_key_id, uint32_t *p_quote_size);
hw_quote3_error sgx_ql_get_quote(const sgx_report_t *p_app_report,
                                 sgx_ql_att_key_id_t *p_att_key_id,
                                 sgx_qe_report_info_t *p_qe_report_info, uint8_t *p_quote,
                                 uint32_t quote_size);
hw_quote3_error load_qe(uint64_t *p_qe_eid, hw_misc_attribute *p_qe_attributes,
                        uint8_t (*p_launch_token)[HW_LAUNCH_TOKEN_SIZE]);
/* Where QE3 logic loads the QPL from: set, it dlopens exactly that path
 * (and skips sgx_qpl_global_init); unset, "libdcap_quoteprov.so.1" then
 * "libdcap_quoteprov.so" through the loader, then sgx_qpl_global_init. */
typedef hw_quote3_error (*hw_set_qpl_path_fn)(const char *p_path);
/* The QPL handle exactly as QE3 logic loads it (NULL: none); aesmd installs
 * its logging callback through it. The caller dlcloses it. */
typedef void *(*hw_get_qpl_handle_fn)(void);
hw_quote3_error sgx_set_qpl_path(const char *p_path);
hw_quote3_error sgx_set_qe3_path(const char *p_path);
void *get_qpl_handle(void);

/* ---- libsgx_pce_logic.so.1 (DCAP sgx_pce.h); QE3 logic calls these ---- */
hw_pce_error sgx_set_pce_enclave_load_policy(hw_ql_request_policy policy);
hw_pce_error sgx_pce_get_target(sgx_target_info_t *p_pce_target, uint16_t *p_pce_isv_svn);
hw_pce_error sgx_get_pce_info(const sgx_report_t *p_report, const uint8_t *p_public_key,
                              uint32_t key_size, uint8_t crypto_suite, uint8_t *p_encrypted_ppid,
                              uint32_t encrypted_ppid_buf_size,
                              uint32_t *p_encrypted_ppid_out_size, uint16_t *p_pce_isvsvn,
                              uint16_t *p_pce_id, uint8_t *p_signature_scheme);
hw_pce_error sgx_pce_sign_report(const uint16_t *isv_svn, const uint8_t (*cpu_svn)[16],
                                 const sgx_report_t *p_report, uint8_t *p_signature,
                                 uint32_t signature_buf_size, uint32_t *p_signature_out_size);

#endif
