/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SGX report structures: the report-body wire codec and target-info
 * derivation.
 *
 * quote_parse decodes the ISV and QE report bodies through here; the
 * simulator encodes bodies before MACing them (the MAC covers the 384 wire
 * bytes, quote-format §4.2) and derives the QE's target info from its own
 * report (§4.1), as the SDK's sgx_self_target does.
 */
#include <string.h>

#include "le.h"
#include "reader.h"
#include "sgxqh/quote.h"

_Static_assert(sizeof(sgx_report_body_t) == SGX_REPORT_BODY_SIZE, "report body size");

void sgx_report_body_decode(const uint8_t raw[SGX_REPORT_BODY_SIZE], sgx_report_body_t *out)
{
    /* Integers go through locals: the struct is packed, so its members may
     * not be addressed directly. */
    uint64_t flags = 0, xfrm = 0;
    uint32_t misc_select = 0;
    uint16_t isv_prod_id = 0, isv_svn = 0, config_svn = 0;
    reader r;
    int rc = 0;

    /* Fixed-size input: no read below can fail, but keep them checked so a
     * layout slip shows up as a zeroed body rather than an over-read. */
    memset(out, 0, sizeof(*out));
    rc |= reader_init(&r, raw, SGX_REPORT_BODY_SIZE);
    rc |= reader_copy(&r, out->cpu_svn, sizeof(out->cpu_svn));
    rc |= reader_u32le(&r, &misc_select);
    rc |= reader_copy(&r, out->reserved1, sizeof(out->reserved1));
    rc |= reader_copy(&r, out->isv_ext_prod_id, sizeof(out->isv_ext_prod_id));
    rc |= reader_u64le(&r, &flags);
    rc |= reader_u64le(&r, &xfrm);
    rc |= reader_copy(&r, out->mr_enclave, sizeof(out->mr_enclave));
    rc |= reader_copy(&r, out->reserved2, sizeof(out->reserved2));
    rc |= reader_copy(&r, out->mr_signer, sizeof(out->mr_signer));
    rc |= reader_copy(&r, out->reserved3, sizeof(out->reserved3));
    rc |= reader_copy(&r, out->config_id, sizeof(out->config_id));
    rc |= reader_u16le(&r, &isv_prod_id);
    rc |= reader_u16le(&r, &isv_svn);
    rc |= reader_u16le(&r, &config_svn);
    rc |= reader_copy(&r, out->reserved4, sizeof(out->reserved4));
    rc |= reader_copy(&r, out->isv_family_id, sizeof(out->isv_family_id));
    rc |= reader_copy(&r, out->report_data, sizeof(out->report_data));
    rc |= reader_expect_end(&r);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        return;
    }
    out->misc_select = misc_select;
    out->attributes.flags = flags;
    out->attributes.xfrm = xfrm;
    out->isv_prod_id = isv_prod_id;
    out->isv_svn = isv_svn;
    out->config_svn = config_svn;
}

void sgx_report_body_encode(const sgx_report_body_t *body, uint8_t raw[SGX_REPORT_BODY_SIZE])
{
    /* Offsets: quote-format §1.3 (asserted against the struct in sgx_arch.h). */
    memcpy(raw + 0, body->cpu_svn, 16);
    le_put_u32(raw + 16, body->misc_select);
    memcpy(raw + 20, body->reserved1, 12);
    memcpy(raw + 32, body->isv_ext_prod_id, 16);
    le_put_u64(raw + 48, body->attributes.flags);
    le_put_u64(raw + 56, body->attributes.xfrm);
    memcpy(raw + 64, body->mr_enclave, 32);
    memcpy(raw + 96, body->reserved2, 32);
    memcpy(raw + 128, body->mr_signer, 32);
    memcpy(raw + 160, body->reserved3, 32);
    memcpy(raw + 192, body->config_id, 64);
    le_put_u16(raw + 256, body->isv_prod_id);
    le_put_u16(raw + 258, body->isv_svn);
    le_put_u16(raw + 260, body->config_svn);
    memcpy(raw + 262, body->reserved4, 42);
    memcpy(raw + 304, body->isv_family_id, 16);
    memcpy(raw + 320, body->report_data, 64);
}

void sgx_target_info_from_report(const sgx_report_body_t *body, sgx_target_info_t *ti)
{
    /* quote-format §4.1: copy what identifies the target, zero the rest. */
    memset(ti, 0, sizeof(*ti));
    memcpy(ti->mr_enclave, body->mr_enclave, sizeof(ti->mr_enclave));
    ti->attributes = body->attributes;
    ti->reserved1[0] = body->reserved1[0]; /* report byte 20 (CET) -> ti byte 48 */
    ti->config_svn = body->config_svn;
    ti->misc_select = body->misc_select;
    memcpy(ti->config_id, body->config_id, sizeof(ti->config_id));
}
