/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quote3_error_t → aesm_error_t, one cmocka test per row of aesmd's table
 * (aesm-protocol §5.5, ecdsa_quote_service_bundle.cpp). The expected codes
 * are typed in here from the spec's table as plain numbers, not taken from
 * backend_hw.c, so a wrong row in the code fails its own test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend_hw.h"

typedef struct {
    uint32_t q3;
    int aesm;
    const char *name; /* Intel's name, for the failure message and name check */
} row;

/* aesm-protocol §5.5, top to bottom; then "anything else → 1" samples. */
static const row ROWS[] = {
    {0x0000, 0, "SGX_QL_SUCCESS"},
    {0xE001, 1, "SGX_QL_ERROR_UNEXPECTED"},
    {0xE002, 3, "SGX_QL_ERROR_INVALID_PARAMETER"},
    {0xE003, 21, "SGX_QL_ERROR_OUT_OF_MEMORY"},
    {0xE004, 32, "SGX_QL_ERROR_ECDSA_ID_MISMATCH"},
    {0xE005, 33, "SGX_QL_PATHNAME_BUFFER_OVERFLOW_ERROR"},
    {0xE006, 15, "SGX_QL_FILE_ACCESS_ERROR"},
    {0xE007, 34, "SGX_QL_ERROR_STORED_KEY"},
    {0xE008, 35, "SGX_QL_ERROR_PUB_KEY_ID_MISMATCH"},
    {0xE009, 36, "SGX_QL_ERROR_INVALID_PCE_SIG_SCHEME"},
    {0xE00A, 37, "SGX_QL_ATT_KEY_BLOB_ERROR"},
    {0xE00B, 38, "SGX_QL_UNSUPPORTED_ATT_KEY_ID"},
    {0xE00C, 39, "SGX_QL_UNSUPPORTED_LOADING_POLICY"},
    {0xE00D, 40, "SGX_QL_INTERFACE_UNAVAILABLE"},
    {0xE00E, 41, "SGX_QL_PLATFORM_LIB_UNAVAILABLE"},
    {0xE00F, 42, "SGX_QL_ATT_KEY_NOT_INITIALIZED"},
    {0xE010, 43, "SGX_QL_ATT_KEY_CERT_DATA_INVALID"},
    {0xE011, 44, "SGX_QL_NO_PLATFORM_CERT_DATA"},
    {0xE012, 29, "SGX_QL_OUT_OF_EPC"},
    {0xE013, 45, "SGX_QL_ERROR_REPORT"},
    {0xE014, 46, "SGX_QL_ENCLAVE_LOST"},
    {0xE015, 47, "SGX_QL_INVALID_REPORT"},
    {0xE016, 48, "SGX_QL_ENCLAVE_LOAD_ERROR"},
    {0xE017, 49, "SGX_QL_UNABLE_TO_GENERATE_QE_REPORT"},
    {0xE018, 50, "SGX_QL_KEY_CERTIFCATION_ERROR"},
    {0xE019, 12, "SGX_QL_NETWORK_ERROR"},
    {0xE01A, 22, "SGX_QL_MESSAGE_ERROR"},
    /* "anything else (e.g. QPL's SERVICE_UNAVAILABLE 0xE040, PLATFORM_UNKNOWN
     * 0xE047, CERTS_UNAVAILABLE 0xE049) → 1" */
    {0xE040, 1, "SGX_QL_SERVICE_UNAVAILABLE"},
    {0xE047, 1, "SGX_QL_PLATFORM_UNKNOWN"},
    {0xE049, 1, "SGX_QL_CERTS_UNAVAILABLE"},
    {0xE03F, 1, "SGX_QL_NO_DEVICE"},
    {0xE035, 1, "SGX_QL_ERROR_INVALID_PRIVILEGE"},
    {0xE067, 1, "SGX_QL_CONFIG_INVALID_JSON"},
    {0xE0FF, 1, NULL},
    /* sgx_status_t values Intel's load_qe passes up raw (SDK sgx_error.h):
     * not quote3 codes, so aesm 1, but named. */
    {0x0001, 1, "SGX_ERROR_UNEXPECTED"},
    {0x4004, 1, "SGX_ERROR_SERVICE_INVALID_PRIVILEGE"},
    {0x200F, 1, "SGX_ERROR_ENCLAVE_FILE_ACCESS"},
    {0x2006, 1, "SGX_ERROR_NO_DEVICE"},
    {0xFFFFFFFFu, 1, NULL},
};

static void test_row(void **state)
{
    const row *r = *state;

    print_message("0x%04x %s -> aesm %d\n", (unsigned)r->q3, r->name ? r->name : "(unlisted)",
                  r->aesm);
    assert_int_equal(backend_hw_aesm_from_quote3(r->q3), r->aesm);
    if (r->name != NULL)
        assert_string_equal(quote3_error_name(r->q3), r->name);
    else
        assert_string_equal(quote3_error_name(r->q3), "SGX_QL_UNKNOWN_ERROR");
}

/* The codes operators meet most (field notes §5.4) carry a remedy. */
static void test_hints_for_common_failures(void **state)
{
    (void)state;
    assert_non_null(strstr(quote3_error_hint(0xE011), "PCCS"));
    assert_non_null(strstr(quote3_error_hint(0xE019), "localhost"));
    assert_non_null(strstr(quote3_error_hint(0xE016), "sgx_prv"));
    assert_non_null(strstr(quote3_error_hint(0xE00E), "libsgx-dcap-default-qpl"));
    assert_string_equal(quote3_error_hint(0x1234), "");
    /* start-up failures from load_qe (raw sgx_status_t) carry their fix */
    assert_non_null(strstr(quote3_error_hint(0x4004), "sgx_prv"));
    assert_non_null(strstr(quote3_error_hint(0x200F), "libsgx-ae-qe3"));
    assert_non_null(strstr(quote3_error_hint(0x2006), "/dev/sgx_enclave"));
    /* codes Intel's QE3 logic never returns say so, and 0xE00D is the PCE */
    assert_non_null(strstr(quote3_error_hint(0xE00E), "never returns"));
    assert_non_null(strstr(quote3_error_hint(0xE00D), "PCE"));
    assert_non_null(strstr(quote3_error_hint(0xE03F), "0x2006"));
    assert_null(strstr(quote3_error_hint(0xE00B), "could not be loaded"));
    assert_non_null(strstr(quote3_error_hint(0xE006), "never makes"));
}

#define ROW(i) cmocka_unit_test_prestate(test_row, (void *)&ROWS[i])

int main(void)
{
    const struct CMUnitTest tests[] = {
        ROW(0),  ROW(1),  ROW(2),  ROW(3),  ROW(4),  ROW(5),  ROW(6),  ROW(7),  ROW(8),
        ROW(9),  ROW(10), ROW(11), ROW(12), ROW(13), ROW(14), ROW(15), ROW(16), ROW(17),
        ROW(18), ROW(19), ROW(20), ROW(21), ROW(22), ROW(23), ROW(24), ROW(25), ROW(26),
        ROW(27), ROW(28), ROW(29), ROW(30), ROW(31), ROW(32), ROW(33), ROW(34), ROW(35),
        ROW(36), ROW(37), ROW(38),
        cmocka_unit_test(test_hints_for_common_failures),
    };
    _Static_assert(sizeof(ROWS) / sizeof(ROWS[0]) == 39, "one ROW() per table row");
    return cmocka_run_group_tests_name("hw_quote3_map", tests, NULL, NULL);
}
