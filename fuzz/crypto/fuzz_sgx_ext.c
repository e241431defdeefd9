/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the SGX PCK extension decoder (src/crypto/sgx_ext.c,
 * quote-format §5.2): the extension bytes come from untrusted certificates.
 * Whatever decodes must re-encode and decode back to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const sgx_pck_ext *a, const sgx_pck_ext *b)
{
    if (memcmp(a->ppid, b->ppid, sizeof(a->ppid)) != 0 ||
        memcmp(a->comp_svn, b->comp_svn, sizeof(a->comp_svn)) != 0 || a->pcesvn != b->pcesvn ||
        memcmp(a->cpusvn, b->cpusvn, sizeof(a->cpusvn)) != 0 ||
        memcmp(a->pceid, b->pceid, sizeof(a->pceid)) != 0 ||
        memcmp(a->fmspc, b->fmspc, sizeof(a->fmspc)) != 0 || a->sgx_type != b->sgx_type ||
        a->has_platform_instance_id != b->has_platform_instance_id ||
        a->has_configuration != b->has_configuration)
        abort();
    if (a->has_platform_instance_id &&
        memcmp(a->platform_instance_id, b->platform_instance_id, 16) != 0)
        abort();
    if (a->has_configuration &&
        (a->dynamic_platform != b->dynamic_platform || a->cached_keys != b->cached_keys ||
         a->smt_enabled != b->smt_enabled))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sgx_pck_ext e, again;
    uint8_t *der = NULL;
    size_t len = 0;

    if (sgx_pck_ext_decode(data, size, &e) != CRYPTO_OK)
        return 0;
    if (sgx_pck_ext_encode(&e, &der, &len) != CRYPTO_OK)
        abort();
    if (sgx_pck_ext_decode(der, len, &again) != CRYPTO_OK)
        abort();
    check_same(&e, &again);
    free(der);
    return 0;
}
