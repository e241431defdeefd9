/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TDREPORT_STRUCT checks and the quote body made from it (include/sgxqh/
 * tdreport.h). Input is untrusted (a TD guest sends it through QEMU or
 * vsock), so it is read only through the bounded reader and judged before
 * anything is copied into a quote. The version rules follow Intel's TD
 * quoting enclave (DCAP QuoteGeneration, td_ql / tdqe gen_quote): a 1.0
 * report with TEE_TCB_SVN2 that differs from TEE_TCB_SVN, or any 1.5
 * report, gets a v5 quote with a 1.5 body; everything else gets v4.
 */
#include <string.h>

#include "sgxqh/tdreport.h"
#include "sgx/le.h"
#include "sgx/reader.h"

const char *tdx_report_err_name(int err)
{
    switch (err) {
    case TDX_REPORT_OK: return "TDX_REPORT_OK";
    case TDX_REPORT_E_SIZE: return "TDX_REPORT_E_SIZE";
    case TDX_REPORT_E_TYPE: return "TDX_REPORT_E_TYPE";
    case TDX_REPORT_E_VERSION: return "TDX_REPORT_E_VERSION";
    case TDX_REPORT_E_RESERVED: return "TDX_REPORT_E_RESERVED";
    case TDX_REPORT_E_VALID: return "TDX_REPORT_E_VALID";
    case TDX_REPORT_E_INVALID_ARG: return "TDX_REPORT_E_INVALID_ARG";
    default: return "TDX_REPORT_E_UNKNOWN";
    }
}

const char *tdx_report_strerror(int err)
{
    switch (err) {
    case TDX_REPORT_OK: return "success";
    case TDX_REPORT_E_SIZE: return "a TDREPORT is exactly 1024 bytes";
    case TDX_REPORT_E_TYPE: return "REPORTTYPE is not TDX (type 0x81, subtype 0)";
    case TDX_REPORT_E_VERSION: return "REPORTTYPE.VERSION is neither 0 (TDX 1.0) nor 1 (TDX 1.5)";
    case TDX_REPORT_E_RESERVED: return "a reserved field of the TDREPORT is not zero";
    case TDX_REPORT_E_VALID: return "TEE_TCB_INFO.VALID is not a supported bitmap";
    case TDX_REPORT_E_INVALID_ARG: return "invalid argument";
    default: return "unknown TDREPORT error";
    }
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* VALID[0..1] must say "all TDX 1.0 fields" (0x1FF); VALID[2] may add
 * TEE_TCB_SVN2 (3); nothing above that is defined. Returns 1 when SVN2 is
 * valid, 0 when not, or TDX_REPORT_E_VALID. */
static int valid_bitmap(const uint8_t v[8])
{
    if (v[0] != 0xFF || v[1] != 0x01 || !all_zero(v + 3, 5))
        return TDX_REPORT_E_VALID;
    if (v[2] == 3)
        return 1;
    return v[2] == 0 ? 0 : TDX_REPORT_E_VALID;
}

int tdx_report_check(const uint8_t *buf, size_t len, tdx_report_info *out)
{
    tdx_report_info info;
    reader r;
    int rc;

    if (out == NULL)
        return TDX_REPORT_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (len != TDX_REPORT_SIZE)
        return TDX_REPORT_E_SIZE;
    memset(&info, 0, sizeof info);
    if (reader_init(&r, buf, len) != READER_OK ||
        reader_copy(&r, &info.report, sizeof info.report) != READER_OK)
        return TDX_REPORT_E_INVALID_ARG;
    const tdx_report_t *t = &info.report;

    if (t->report_type[0] != TDX_REPORT_TYPE || t->report_type[1] != 0)
        return TDX_REPORT_E_TYPE;
    if (t->report_type[2] > 1)
        return TDX_REPORT_E_VERSION;
    if (t->report_type[3] != 0 || !all_zero(t->reserved1, sizeof t->reserved1) ||
        !all_zero(t->reserved2, sizeof t->reserved2) ||
        !all_zero(t->reserved3, sizeof t->reserved3))
        return TDX_REPORT_E_RESERVED;
    info.version = t->report_type[2];
    if (info.version == 0 && (!all_zero(t->servtd_hash, sizeof t->servtd_hash) ||
                              !all_zero(t->td_info_reserved, sizeof t->td_info_reserved)))
        return TDX_REPORT_E_RESERVED; /* 1.0: 112 reserved bytes from SERVTD_HASH on */
    if (info.version == 1 && !all_zero(t->td_info_reserved, sizeof t->td_info_reserved))
        return TDX_REPORT_E_RESERVED;
    if ((rc = valid_bitmap(t->valid)) < 0)
        return rc;
    int svn2_differs = rc == 1 && memcmp(t->tee_tcb_svn2, t->tee_tcb_svn, 16) != 0;
    if (info.version == 1 || svn2_differs) {
        info.quote_version = 5;
        info.body_size = TDX_TD_BODY_V15_SIZE;
    } else {
        info.quote_version = 4;
        info.body_size = TDX_TD_BODY_V10_SIZE;
    }
    *out = info;
    return TDX_REPORT_OK;
}

void tdx_report_quote_body(const tdx_report_info *info, uint8_t *body)
{
    const tdx_report_t *t = &info->report;
    uint8_t *p = body;
    memset(body, 0, info->body_size);
#define PUT(field)                                                                                 \
    do {                                                                                           \
        memcpy(p, (field), sizeof(field));                                                         \
        p += sizeof(field);                                                                        \
    } while (0)
    PUT(t->tee_tcb_svn);
    PUT(t->mr_seam);
    p += 48 + 8; /* mrsigner_seam, seam_attributes: never copied (stay zero) */
    PUT(t->td_attributes);
    PUT(t->xfam);
    PUT(t->mr_td);
    PUT(t->mr_config_id);
    PUT(t->mr_owner);
    PUT(t->mr_owner_config);
    PUT(t->rtmr);
    PUT(t->report_data);
    if (info->body_size == TDX_TD_BODY_V15_SIZE) {
        /* TEE_TCB_SVN2 when VALID says so, else TEE_TCB_SVN (what Intel's
         * comment intends; its code copies the other way round, docs/tdx.md). */
        if (t->valid[2] == 3)
            PUT(t->tee_tcb_svn2);
        else
            PUT(t->tee_tcb_svn);
        if (info->version == 1)
            PUT(t->servtd_hash);
    }
#undef PUT
}
