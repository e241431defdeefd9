/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The 1024-byte TDX TDREPORT_STRUCT a TD gets from TDG.MR.REPORT (Intel TDX
 * Module ABI specification, "TDREPORT_STRUCT"; linux-sgx sgx_report2.h:
 * sgx_report2_t, tee_tcb_info_t, tee_info_t) and the structural checks the
 * TD quoting enclave makes before it signs one (tdx_report_check). The MAC
 * is keyed inside the CPU: only the platform's quoting enclave can check it,
 * so nothing here judges it (the simulated TD-QE has its own scheme,
 * docs/tdx.md).
 */
#ifndef SGXQH_TDREPORT_H
#define SGXQH_TDREPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TDX_REPORT_SIZE 1024u
#define TDX_REPORT_TYPE 0x81u       /* REPORTTYPE.TYPE: TEE report type 2, TDX */
#define TDX_REPORT_MAC_SIZE 32u
#define TDX_REPORT_MAC_COVERS 224u  /* the MAC covers REPORTMACSTRUCT[0, 224) */
#define TDX_TEE_TCB_INFO_SIZE 239u
#define TDX_TD_INFO_SIZE 512u
#define TDX_SHA384_SIZE 48u
#define TDX_TD_BODY_V10_SIZE 584u   /* sgx_quote_4.h: sgx_report2_body_t */
#define TDX_TD_BODY_V15_SIZE 648u   /* sgx_quote_5.h: sgx_report2_body_v1_5_t */

/* VALID bitmap of TEE_TCB_INFO (little-endian u64): which fields are valid. */
#define TDX_VALID_V10 0x00000000000001FFull  /* TDX 1.0 fields */
#define TDX_VALID_V15 0x00000000000301FFull  /* ... plus TEE_TCB_SVN2 */

/* TD ATTRIBUTES bits (TDX Module ABI, "ATTRIBUTES"). */
#define TDX_TD_ATTR_DEBUG 0x0000000000000001ull
#define TDX_TD_ATTR_SEPT_VE_DISABLE 0x0000000010000000ull

/* All fields are byte arrays (integers inside are little-endian), so the
 * struct has no padding and its bytes are the wire bytes. */
typedef struct {
    /* REPORTMACSTRUCT (256) */
    uint8_t report_type[4]; /* type 0x81, subtype 0, version 0|1, reserved 0 */
    uint8_t reserved1[12];
    uint8_t cpu_svn[16];
    uint8_t tee_tcb_info_hash[TDX_SHA384_SIZE]; /* SHA-384 of tee_tcb_info (239 bytes) */
    uint8_t tee_info_hash[TDX_SHA384_SIZE];     /* SHA-384 of td_info (512 bytes) */
    uint8_t report_data[64];
    uint8_t reserved2[32];
    uint8_t mac[TDX_REPORT_MAC_SIZE];
    /* TEE_TCB_INFO (239) */
    uint8_t valid[8];
    uint8_t tee_tcb_svn[16]; /* [0] module SVN, [1] module major version, [2] SEAM last patch */
    uint8_t mr_seam[48];
    uint8_t mrsigner_seam[48];
    uint8_t attributes[8];   /* SEAM attributes */
    uint8_t tee_tcb_svn2[16];
    uint8_t tcb_info_reserved[95];
    uint8_t reserved3[17];   /* zero */
    /* TDINFO (512) */
    uint8_t td_attributes[8];
    uint8_t xfam[8];
    uint8_t mr_td[48];
    uint8_t mr_config_id[48];
    uint8_t mr_owner[48];
    uint8_t mr_owner_config[48];
    uint8_t rtmr[4][48];
    uint8_t servtd_hash[48]; /* version 1 only; reserved (zero) in version 0 */
    uint8_t td_info_reserved[64];
} tdx_report_t;

_Static_assert(sizeof(tdx_report_t) == TDX_REPORT_SIZE, "TDREPORT_STRUCT is 1024 bytes");
_Static_assert(__builtin_offsetof(tdx_report_t, cpu_svn) == 16, "CPUSVN at 16");
_Static_assert(__builtin_offsetof(tdx_report_t, report_data) == 128, "REPORTDATA at 128");
_Static_assert(__builtin_offsetof(tdx_report_t, reserved2) == 192, "reserved2 at 192");
_Static_assert(__builtin_offsetof(tdx_report_t, mac) == TDX_REPORT_MAC_COVERS, "MAC at 224");
_Static_assert(__builtin_offsetof(tdx_report_t, valid) == 256, "TEE_TCB_INFO at 256");
_Static_assert(__builtin_offsetof(tdx_report_t, tee_tcb_svn2) == 384, "TEE_TCB_SVN2 at 384");
_Static_assert(__builtin_offsetof(tdx_report_t, reserved3) == 256 + TDX_TEE_TCB_INFO_SIZE,
               "TEE_TCB_INFO is 239 bytes");
_Static_assert(__builtin_offsetof(tdx_report_t, td_attributes) == 512, "TDINFO at 512");
_Static_assert(__builtin_offsetof(tdx_report_t, rtmr) == 720, "RTMR0 at 720");
_Static_assert(__builtin_offsetof(tdx_report_t, servtd_hash) == 912, "SERVTD_HASH at 912");
_Static_assert(__builtin_offsetof(tdx_report_t, td_info_reserved) == 960, "reserved at 960");

typedef enum {
    TDX_REPORT_OK = 0,
    TDX_REPORT_E_SIZE = -1,        /* not exactly 1024 bytes */
    TDX_REPORT_E_TYPE = -2,        /* REPORTTYPE.TYPE is not 0x81 or SUBTYPE is not 0 */
    TDX_REPORT_E_VERSION = -3,     /* REPORTTYPE.VERSION is neither 0 nor 1 */
    TDX_REPORT_E_RESERVED = -4,    /* a reserved field that must be zero is not */
    TDX_REPORT_E_VALID = -5,       /* unsupported TEE_TCB_INFO.VALID bitmap */
    TDX_REPORT_E_INVALID_ARG = -6,
} tdx_report_err;

const char *tdx_report_strerror(int err);
const char *tdx_report_err_name(int err);

/* What the quote for a report looks like (Intel's TD quoting enclave,
 * gen_quote: version selection). */
typedef struct {
    tdx_report_t report;    /* a copy of the checked bytes */
    uint8_t version;        /* REPORTTYPE.VERSION, 0 or 1 */
    uint16_t quote_version; /* 4 (TD report body 1.0) or 5 (body 1.5, type 3) */
    uint32_t body_size;     /* 584 or 648 */
} tdx_report_info;

/* Structural checks: size, REPORTTYPE, reserved bytes (REPORTMACSTRUCT and
 * the 17 after TEE_TCB_INFO, and those of TDINFO for the version), VALID.
 * Neither the MAC nor the two SHA-384 hashes (the caller has the crypto). */
int tdx_report_check(const uint8_t *buf, size_t len, tdx_report_info *out);

/* The TD report body of the quote (quote_version 4: 584 bytes, 5: 648),
 * as the TD quoting enclave copies it: MRSIGNERSEAM and SEAMATTRIBUTES are
 * left zero (it never copies them). body must hold info->body_size bytes. */
void tdx_report_quote_body(const tdx_report_info *info, uint8_t *body);

#ifdef __cplusplus
}
#endif
#endif
