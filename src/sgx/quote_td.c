/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TDX quote builder: v4 (TD report body 1.0) and v5 body type 3 (TD
 * report 1.5), as Intel's TD quoting enclave lays them out (Intel TDX DCAP
 * Quoting Library API, "Quote Format"; sgx_quote_4.h / sgx_quote_5.h).
 * Signature data nests the certification data: type 6 (QE report, its PCK
 * signature, auth data) wrapping type 5 (the PEM PCK chain). The buffer is
 * always v5-sized, like the TD quoting library's get_quote_size, which is
 * why real v4 TDX quotes end in 70 zero bytes.
 */
#include <string.h>

#include "sgxqh/quote.h"
#include "sgxqh/tdreport.h"
#include "sgx/le.h"

#define TD_HEADER_SIZE 48u
#define TD_V5_BODY_DESC 6u      /* u16 body type + u32 body size */
#define TD_SIG_FIXED 134u       /* sig 64 + key 64 + cert type 2 + cert size 4 */
#define TD_QE_CERT_FIXED 456u   /* QE report 384 + sig 64 + auth size 2 + type 2 + size 4 */
#define TD_BODY_TYPE_TD15 3u

_Static_assert(TD_QE_CERT_FIXED == SGX_REPORT_BODY_SIZE + 64 + 2 + 2 + 4, "type-6 fixed part");
/* The 70 trailing bytes of a v4 quote: v5 header+body minus v4 header+body. */
_Static_assert((TD_HEADER_SIZE + TD_V5_BODY_DESC + TDX_TD_BODY_V15_SIZE) -
                   (TD_HEADER_SIZE + TDX_TD_BODY_V10_SIZE) == 70,
               "v4 TDX quotes carry 70 bytes of padding");

static int spec_ok(const quote_td_spec *s)
{
    return s != NULL && (s->version == 4 || s->version == 5) && s->td_body != NULL &&
           s->qe_report != NULL && s->qe_report_sig != NULL && s->attest_pub_key != NULL &&
           (s->qe_auth_data != NULL || s->qe_auth_data_len == 0) &&
           (s->cert_data != NULL || s->cert_data_len == 0) &&
           s->cert_data_len <= QUOTE_CERT_DATA_MAX;
}

static size_t signature_data_len(const quote_td_spec *s)
{
    return TD_SIG_FIXED + TD_QE_CERT_FIXED + (size_t)s->qe_auth_data_len + s->cert_data_len;
}

size_t quote_td_signed_len(const quote_td_spec *spec)
{
    if (spec == NULL)
        return 0;
    return spec->version == 5 ? TD_HEADER_SIZE + TD_V5_BODY_DESC + TDX_TD_BODY_V15_SIZE
                              : TD_HEADER_SIZE + TDX_TD_BODY_V10_SIZE;
}

size_t quote_td_size(const quote_td_spec *spec)
{
    if (!spec_ok(spec))
        return 0;
    size_t n = TD_HEADER_SIZE + TD_V5_BODY_DESC + TDX_TD_BODY_V15_SIZE + 4 +
               signature_data_len(spec);
    return n > QUOTE_MAX_SIZE ? 0 : n;
}

int quote_td_build(const quote_td_spec *spec, uint8_t *out, size_t cap, size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (len == NULL || !spec_ok(spec))
        return QUOTE_E_INVALID_ARG;
    size_t need = quote_td_size(spec);
    if (need == 0)
        return QUOTE_E_TOO_LARGE;
    *len = need;
    if (out == NULL || cap < need)
        return QUOTE_E_BUFFER_TOO_SMALL;

    memset(out, 0, need);
    /* sgx_quote4_header_t: reserved @8 stays zero (the TD-QE writes no SVNs). */
    le_put_u16(out + 0, spec->version);
    le_put_u16(out + 2, SGX_QUOTE_ATT_KEY_TYPE_ECDSA_P256);
    le_put_u32(out + 4, SGX_TEE_TYPE_TDX);
    memcpy(out + 12, SGX_INTEL_QE_VENDOR_ID, 16);
    memcpy(out + 28, spec->qe_id, 16);
    uint8_t *p = out + TD_HEADER_SIZE;
    size_t body = TDX_TD_BODY_V10_SIZE;
    if (spec->version == 5) {
        body = TDX_TD_BODY_V15_SIZE;
        le_put_u16(p, TD_BODY_TYPE_TD15);
        le_put_u32(p + 2, (uint32_t)body);
        p += TD_V5_BODY_DESC;
    }
    memcpy(p, spec->td_body, body);
    p += body;
    size_t sig_len = signature_data_len(spec);
    le_put_u32(p, (uint32_t)sig_len);
    p += 4 + 64; /* the attestation signature is filled in by the caller */
    memcpy(p, spec->attest_pub_key, 64);
    p += 64;
    le_put_u16(p, CERT_DATA_QE_REPORT);
    le_put_u32(p + 2, (uint32_t)(TD_QE_CERT_FIXED + spec->qe_auth_data_len + spec->cert_data_len));
    p += 6;
    sgx_report_body_encode(spec->qe_report, p);
    p += SGX_REPORT_BODY_SIZE;
    memcpy(p, spec->qe_report_sig, 64);
    p += 64;
    le_put_u16(p, spec->qe_auth_data_len);
    p += 2;
    if (spec->qe_auth_data_len > 0)
        memcpy(p, spec->qe_auth_data, spec->qe_auth_data_len);
    p += spec->qe_auth_data_len;
    le_put_u16(p, CERT_DATA_PCK_CHAIN);
    le_put_u32(p + 2, spec->cert_data_len);
    p += 6;
    if (spec->cert_data_len > 0)
        memcpy(p, spec->cert_data, spec->cert_data_len);
    return QUOTE_OK;
}

void quote_td_set_signature(const quote_td_spec *spec, uint8_t *quote, const uint8_t sig[64])
{
    memcpy(quote + quote_td_signed_len(spec) + 4, sig, 64);
}
