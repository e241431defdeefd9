/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EREPORT / EGETKEY(REPORT) exactly as the SGX SDK's simulation mode does
 * them (quote-format §4.4–4.6). Enclaves built with the SDK in simulation mode
 * make reports our simulated QE accepts, and the QE reports we return pass
 * their sgx_verify_report. All "secrets" are the SDK's public constants, so
 * none of this protects anything: it only has to be byte-compatible.
 */
#include <string.h>

#include "sgxqh/quote.h"
#include "sim_internal.h"

/* quote-format §4.5 (tinst/deriv.cpp, tinst/rts_sim.h) */
const uint8_t SIM_SDK_BASE_REPORT_KEY[16] = {
    0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00,
    0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00,
};
/* "THISISOWNEREPOCH" */
const uint8_t SIM_SDK_OWNER_EPOCH[16] = {
    0x54, 0x48, 0x49, 0x53, 0x49, 0x53, 0x4f, 0x57,
    0x4e, 0x45, 0x52, 0x45, 0x50, 0x4f, 0x43, 0x48,
};
const uint8_t SIM_SDK_DEFAULT_CPUSVN[16] = {
    0x48, 0x20, 0xf3, 0x37, 0x6a, 0xe6, 0xb2, 0xf2,
    0x03, 0x4d, 0x3b, 0x7a, 0x4b, 0x48, 0xa7, 0x78,
};

/* Offsets of the SDK's naturally aligned x86-64 derivation struct for
 * key_name = REPORT (quote-format §4.5 table; padding stays zero). */
enum {
    DERIV_KEY_NAME = 0,
    DERIV_ATTRIBUTES = 8,
    DERIV_MISC_SELECT = 24,
    DERIV_OWNER_EPOCH = 28,
    DERIV_MR_ENCLAVE = 44,
    DERIV_CPU_SVN = 76,
    DERIV_CONFIG_SVN = 92,
    DERIV_CONFIG_ID = 94,
    DERIV_KEY_ID = 158,
};
/* Natural x86-64 alignment: u16, pad to 8, then packed byte arrays. */
_Static_assert(DERIV_MISC_SELECT == DERIV_ATTRIBUTES + 16, "misc_select follows attributes");
_Static_assert(DERIV_OWNER_EPOCH == DERIV_MISC_SELECT + 4, "owner epoch follows misc_select");
_Static_assert(DERIV_MR_ENCLAVE == DERIV_OWNER_EPOCH + 16, "mr_enclave follows owner epoch");
_Static_assert(DERIV_CPU_SVN == DERIV_MR_ENCLAVE + SGX_HASH_SIZE, "cpu_svn follows mr_enclave");
_Static_assert(DERIV_CONFIG_SVN == DERIV_CPU_SVN + SGX_CPUSVN_SIZE, "config_svn follows cpu_svn");
_Static_assert(DERIV_CONFIG_ID == DERIV_CONFIG_SVN + 2, "config_id follows config_svn");
_Static_assert(DERIV_KEY_ID == DERIV_CONFIG_ID + SGX_CONFIGID_SIZE, "key_id follows config_id");
_Static_assert(DERIV_KEY_ID + SGX_KEYID_SIZE + 2 == SIM_REPORT_DERIVATION_LEN,
               "REPORT derivation data is 192 bytes (2 bytes of tail padding)");

void sim_report_derivation_data(const sgx_target_info_t *target, const uint8_t cpu_svn[16],
                                const uint8_t key_id[32], uint8_t out[SIM_REPORT_DERIVATION_LEN])
{
    memset(out, 0, SIM_REPORT_DERIVATION_LEN);
    le_put_u16(out + DERIV_KEY_NAME, SGX_KEYSELECT_REPORT);
    le_put_u64(out + DERIV_ATTRIBUTES, target->attributes.flags);
    le_put_u64(out + DERIV_ATTRIBUTES + 8, target->attributes.xfrm);
    le_put_u32(out + DERIV_MISC_SELECT, target->misc_select);
    memcpy(out + DERIV_OWNER_EPOCH, SIM_SDK_OWNER_EPOCH, 16);
    memcpy(out + DERIV_MR_ENCLAVE, target->mr_enclave, SGX_HASH_SIZE);
    memcpy(out + DERIV_CPU_SVN, cpu_svn, SGX_CPUSVN_SIZE);
    le_put_u16(out + DERIV_CONFIG_SVN, target->config_svn);
    memcpy(out + DERIV_CONFIG_ID, target->config_id, SGX_CONFIGID_SIZE);
    memcpy(out + DERIV_KEY_ID, key_id, SGX_KEYID_SIZE);
}

int sim_report_key_derive(const sgx_target_info_t *target, const uint8_t cpu_svn[16],
                          const uint8_t key_id[32], uint8_t key[16])
{
    if (target == NULL || cpu_svn == NULL || key_id == NULL || key == NULL)
        return SIM_E_INVALID_ARG;
    uint8_t data[SIM_REPORT_DERIVATION_LEN];
    sim_report_derivation_data(target, cpu_svn, key_id, data);
    int rc = crypto_aes128_cmac(SIM_SDK_BASE_REPORT_KEY, data, sizeof data, key);
    crypto_wipe(data, sizeof data);
    return rc == 0 ? SIM_OK : SIM_E_CRYPTO;
}

/* quote-format §4.2: the MAC covers the 384 wire bytes of the body. */
static int body_mac(const uint8_t key[16], const sgx_report_body_t *body, uint8_t mac[16])
{
    uint8_t raw[SGX_REPORT_BODY_SIZE];
    sgx_report_body_encode(body, raw);
    return crypto_aes128_cmac(key, raw, sizeof raw, mac) == 0 ? SIM_OK : SIM_E_CRYPTO;
}

void sim_enclave_identity_default(sim_enclave_identity *id)
{
    memset(id, 0, sizeof *id);
    crypto_sha256(SIM_DEMO_MRENCLAVE_LABEL, strlen(SIM_DEMO_MRENCLAVE_LABEL), id->mr_enclave);
    crypto_sha256(SIM_DEMO_MRSIGNER_LABEL, strlen(SIM_DEMO_MRSIGNER_LABEL), id->mr_signer);
    id->flags = SGX_FLAGS_INITTED | SGX_FLAGS_MODE64BIT;
    /* x87|SSE: what the SDK's simulator uses when XCR0 cannot be read. */
    id->xfrm = 0x3;
    memcpy(id->cpu_svn, SIM_SDK_DEFAULT_CPUSVN, sizeof id->cpu_svn);
}

int sim_ereport(const sim_enclave_identity *self, const sgx_target_info_t *target,
                sgx_report_t *out)
{
    if (self == NULL || target == NULL || out == NULL)
        return SIM_E_INVALID_ARG;
    uint8_t key[16];
    memset(out, 0, sizeof *out);
    sgx_report_body_t *b = &out->body;
    memcpy(b->cpu_svn, self->cpu_svn, SGX_CPUSVN_SIZE);
    b->misc_select = self->misc_select;
    b->attributes.flags = self->flags;
    b->attributes.xfrm = self->xfrm;
    memcpy(b->mr_enclave, self->mr_enclave, SGX_HASH_SIZE);
    memcpy(b->mr_signer, self->mr_signer, SGX_HASH_SIZE);
    b->isv_prod_id = self->isv_prod_id;
    b->isv_svn = self->isv_svn;
    b->config_svn = self->config_svn;
    memcpy(b->report_data, self->report_data, SGX_REPORT_DATA_SIZE);
    /* quote-format §4.5: the simulator's KEYID is BASE_REPORT_KEY ‖ 0^16. */
    memcpy(out->key_id, SIM_SDK_BASE_REPORT_KEY, sizeof SIM_SDK_BASE_REPORT_KEY);

    int rc = sim_report_key_derive(target, self->cpu_svn, out->key_id, key);
    if (rc != SIM_OK)
        goto out;
    rc = body_mac(key, &out->body, out->mac);
out:
    crypto_wipe(key, sizeof key);
    return rc;
}

int sim_verify_report(const sgx_target_info_t *self_ti, const uint8_t cpu_svn[16],
                      const sgx_report_t *report)
{
    if (self_ti == NULL || cpu_svn == NULL || report == NULL)
        return SIM_E_INVALID_ARG;
    uint8_t key[16], mac[16];
    int rc = sim_report_key_derive(self_ti, cpu_svn, report->key_id, key);
    if (rc != SIM_OK)
        goto out;
    if ((rc = body_mac(key, &report->body, mac)) != SIM_OK)
        goto out;
    rc = crypto_ct_equal(mac, report->mac, sizeof mac) ? SIM_OK : SIM_E_INVALID_REPORT;
out:
    crypto_wipe(key, sizeof key);
    crypto_wipe(mac, sizeof mac);
    return rc;
}
