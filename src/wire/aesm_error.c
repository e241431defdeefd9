/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names and operator hints for aesm_error_t, the errorCode every AESM
 * response carries (aesm-protocol §5.1). The service's one log line per
 * request and the CLI print these; the hints condense what the codes
 * usually mean in the field (field-notes-operations §5.4, aesm §5.3–5.5, §8).
 */
#include "sgxqh/aesm_error.h"

#include <stddef.h>

typedef struct {
    const char *name;
    const char *hint;
} aesm_error_info;

/* Indexed by value; value 27 is unused in Intel's enum (aesm §5.1). */
static const aesm_error_info AESM_ERRORS[] = {
    [AESM_SUCCESS] = {"AESM_SUCCESS", ""},
    [AESM_UNEXPECTED_ERROR] =
        {"AESM_UNEXPECTED_ERROR",
         "malformed request (a required field is missing) or an internal failure; the daemon log has the details"},
    [AESM_NO_DEVICE_ERROR] =
        {"AESM_NO_DEVICE_ERROR",
         "no SGX device: check /dev/sgx_enclave and the SGX device plugin, or run with --backend sim"},
    [AESM_PARAMETER_ERROR] =
        {"AESM_PARAMETER_ERROR",
         "the client sent a bad size or key id (report not 432 bytes, qe_report_info not 960, buf_size too small, att_key_id shorter than 256)"},
    [AESM_EPIDBLOB_ERROR] = {"AESM_EPIDBLOB_ERROR", "EPID blob problem; EPID is not served here, use ECDSA (DCAP)"},
    [AESM_EPID_REVOKED_ERROR] = {"AESM_EPID_REVOKED_ERROR", "the EPID member is revoked; use ECDSA (DCAP)"},
    [AESM_GET_LICENSETOKEN_ERROR] =
        {"AESM_GET_LICENSETOKEN_ERROR", "launch tokens are not served; use a flexible-launch-control platform"},
    [AESM_SESSION_INVALID] = {"AESM_SESSION_INVALID", "PSE sessions were removed in PSW 2.6"},
    [AESM_MAX_NUM_SESSION_REACHED] = {"AESM_MAX_NUM_SESSION_REACHED", "PSE sessions were removed in PSW 2.6"},
    [AESM_PSDA_UNAVAILABLE] = {"AESM_PSDA_UNAVAILABLE", "PSE is not available on Linux"},
    [AESM_EPH_SESSION_FAILED] = {"AESM_EPH_SESSION_FAILED", "PSE sessions were removed in PSW 2.6"},
    [AESM_LONG_TERM_PAIRING_FAILED] = {"AESM_LONG_TERM_PAIRING_FAILED", "PSE pairing was removed in PSW 2.6"},
    [AESM_NETWORK_ERROR] =
        {"AESM_NETWORK_ERROR",
         "the PCCS is unreachable or TLS failed (often 'localhost' inside a container): check the PCCS URL in /etc/sgx_default_qcnl.conf"},
    [AESM_NETWORK_BUSY_ERROR] = {"AESM_NETWORK_BUSY_ERROR", "the PCCS or Intel PCS is busy; retry later"},
    [AESM_PROXY_SETTING_ASSIST] =
        {"AESM_PROXY_SETTING_ASSIST", "network access needs proxy settings; check the proxy configuration"},
    [AESM_FILE_ACCESS_ERROR] =
        {"AESM_FILE_ACCESS_ERROR", "a state or configuration file could not be read or written; check permissions"},
    [AESM_SGX_PROVISION_FAILED] =
        {"AESM_SGX_PROVISION_FAILED", "provisioning failed; check /dev/sgx_provision access (sgx_prv group)"},
    [AESM_SERVICE_STOPPED] = {"AESM_SERVICE_STOPPED", "the quote service is shutting down; retry against the new instance"},
    [AESM_BUSY] = {"AESM_BUSY", "the quoting backend is busy; retry"},
    [AESM_BACKEND_SERVER_BUSY] = {"AESM_BACKEND_SERVER_BUSY", "the attestation backend server is busy; retry later"},
    [AESM_UPDATE_AVAILABLE] = {"AESM_UPDATE_AVAILABLE", "a platform software or microcode update is available"},
    [AESM_OUT_OF_MEMORY_ERROR] = {"AESM_OUT_OF_MEMORY_ERROR", "the daemon ran out of memory"},
    [AESM_MSG_ERROR] = {"AESM_MSG_ERROR", "a message from the backend could not be processed"},
    [AESM_THREAD_ERROR] = {"AESM_THREAD_ERROR", "an internal thread failed; restart the daemon"},
    [AESM_SGX_DEVICE_NOT_AVAILABLE] =
        {"AESM_SGX_DEVICE_NOT_AVAILABLE", "SGX is not enabled or the device is not exposed to this container"},
    [AESM_ENABLE_SGX_DEVICE_FAILED] =
        {"AESM_ENABLE_SGX_DEVICE_FAILED", "SGX could not be enabled; enable it in the BIOS"},
    [AESM_PLATFORM_INFO_BLOB_INVALID_SIG] =
        {"AESM_PLATFORM_INFO_BLOB_INVALID_SIG", "the platform info blob's signature is invalid (EPID)"},
    [AESM_KDF_MISMATCH] = {"AESM_KDF_MISMATCH", "key derivation mismatch (PSE)"},
    [AESM_OUT_OF_EPC] =
        {"AESM_OUT_OF_EPC",
         "out of EPC: nothing is reserved for the quoting enclaves; free EPC or move enclave workloads"},
    [AESM_SERVICE_UNAVAILABLE] =
        {"AESM_SERVICE_UNAVAILABLE",
         "the quoting backend is unavailable, or the call is a legacy/EPID one that this ECDSA-only service does not serve"},
    [AESM_UNRECOGNIZED_PLATFORM] =
        {"AESM_UNRECOGNIZED_PLATFORM", "the platform is not recognized by the attestation service"},
    [AESM_ECDSA_ID_MISMATCH] = {"AESM_ECDSA_ID_MISMATCH", "the stored attestation key does not match; re-run InitQuoteEx"},
    [AESM_PATHNAME_BUFFER_OVERFLOW_ERROR] =
        {"AESM_PATHNAME_BUFFER_OVERFLOW_ERROR", "an enclave or library path is too long"},
    [AESM_ERROR_STORED_KEY] = {"AESM_ERROR_STORED_KEY", "the stored attestation key blob is invalid; re-run InitQuoteEx"},
    [AESM_PUB_KEY_ID_MISMATCH] =
        {"AESM_PUB_KEY_ID_MISMATCH", "the attestation key changed since InitQuoteEx; re-run it"},
    [AESM_INVALID_PCE_SIG_SCHEME] = {"AESM_INVALID_PCE_SIG_SCHEME", "the PCE reported an unsupported signature scheme"},
    [AESM_ATT_KEY_BLOB_ERROR] =
        {"AESM_ATT_KEY_BLOB_ERROR", "the attestation key blob is corrupt or from another platform"},
    [AESM_UNSUPPORTED_ATT_KEY_ID] =
        {"AESM_UNSUPPORTED_ATT_KEY_ID",
         "unknown attestation key id: use the ECDSA-P256 QE3 id from GetSupportedAttKeyIDs (on hardware: the ECDSA plugin or QE3 may be missing)"},
    [AESM_UNSUPPORTED_LOADING_POLICY] =
        {"AESM_UNSUPPORTED_LOADING_POLICY", "the enclave load policy is not supported"},
    [AESM_INTERFACE_UNAVAILABLE] = {"AESM_INTERFACE_UNAVAILABLE", "a required platform interface is missing"},
    [AESM_PLATFORM_LIB_UNAVAILABLE] =
        {"AESM_PLATFORM_LIB_UNAVAILABLE", "the quote provider library (libdcap_quoteprov.so.1) is missing"},
    [AESM_ATT_KEY_NOT_INITIALIZED] =
        {"AESM_ATT_KEY_NOT_INITIALIZED",
         "no attestation key is initialized (the quote service restarted): call InitQuoteEx again and rebuild the REPORT"},
    [AESM_ATT_KEY_CERT_DATA_INVALID] =
        {"AESM_ATT_KEY_CERT_DATA_INVALID", "the PCK certificate data from the PCCS is invalid or for another TCB"},
    [AESM_NO_PLATFORM_CERT_DATA] =
        {"AESM_NO_PLATFORM_CERT_DATA",
         "the platform is not registered with the PCCS ('No cache data for this platform'): register it"},
    [AESM_ERROR_REPORT] = {"AESM_ERROR_REPORT", "the quoting enclave could not process the app REPORT"},
    [AESM_ENCLAVE_LOST] = {"AESM_ENCLAVE_LOST", "the quoting enclave was lost (power event); retry"},
    [AESM_INVALID_REPORT] =
        {"AESM_INVALID_REPORT",
         "the app REPORT's MAC does not verify: build it for the QE target info from InitQuoteEx (again after a platform change)"},
    [AESM_ENCLAVE_LOAD_ERROR] =
        {"AESM_ENCLAVE_LOAD_ERROR",
         "QE3/PCE could not be loaded: check /dev/sgx_enclave and /dev/sgx_provision access (sgx_prv group)"},
    [AESM_UNABLE_TO_GENERATE_QE_REPORT] =
        {"AESM_UNABLE_TO_GENERATE_QE_REPORT", "the QE report could not be made; check qe_report_info's target info"},
    [AESM_KEY_CERTIFICATION_ERROR] =
        {"AESM_KEY_CERTIFICATION_ERROR", "the PCE could not certify the attestation key"},
    [AESM_CONFIG_UNSUPPORTED] = {"AESM_CONFIG_UNSUPPORTED", "the requested configuration is not supported"},
};

static const aesm_error_info *aesm_error_lookup(int code)
{
    if (code < 0 || (size_t)code >= sizeof(AESM_ERRORS) / sizeof(AESM_ERRORS[0]))
        return NULL;
    if (AESM_ERRORS[code].name == NULL)
        return NULL;
    return &AESM_ERRORS[code];
}

const char *aesm_error_name(int code)
{
    const aesm_error_info *e = aesm_error_lookup(code);
    return e != NULL ? e->name : "AESM_UNKNOWN_ERROR";
}

const char *aesm_error_hint(int code)
{
    const aesm_error_info *e = aesm_error_lookup(code);
    return e != NULL ? e->hint : "";
}
