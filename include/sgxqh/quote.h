/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quote parsing (v3, v4, v5; SGX and TDX) and v3 building.
 *
 * quote_parse() reads untrusted bytes through one bounds-checked cursor
 * (src/sgx/reader.h) and yields a quote_view: pointers *into the caller's
 * buffer* plus decoded scalars. The view is valid as long as that buffer is.
 * It never reads out of bounds and returns a typed error instead of a partly
 * filled view. Layouts: docs/internals/quote-format.md §1–2.
 */
#ifndef SGXQH_QUOTE_H
#define SGXQH_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgx_arch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Named limits (quote-format §1.1, aesm §6.6). */
#define QUOTE_V3_MIN_SIZE 1020u
#define QUOTE_MAX_SIZE (1u << 20)      /* nothing legitimate is near 1 MiB */
#define QUOTE_CERT_DATA_MAX (1u << 20)
#define QUOTE_MAX_CHAIN_CERTS 8

typedef enum {
    QUOTE_OK = 0,
    QUOTE_E_TRUNCATED = -1,         /* a field runs past the end of the buffer */
    QUOTE_E_VERSION = -2,           /* version not 3, 4 or 5 */
    QUOTE_E_ATT_KEY_TYPE = -3,      /* not ECDSA-256-with-P-256 */
    QUOTE_E_TEE_TYPE = -4,          /* tee_type not SGX/TDX or not allowed for the version */
    QUOTE_E_BODY_TYPE = -5,         /* v5 body type/size inconsistent */
    QUOTE_E_CERT_TYPE = -6,         /* certification data type not allowed here */
    QUOTE_E_SIZE_MISMATCH = -7,     /* declared sizes disagree with each other */
    QUOTE_E_TOO_LARGE = -8,         /* exceeds a named limit */
    QUOTE_E_PEM = -9,               /* type-5 data has no parseable PEM certificate */
    QUOTE_E_INVALID_ARG = -10,
    QUOTE_E_BUFFER_TOO_SMALL = -11, /* builder: output buffer too small */
} quote_err;

const char *quote_strerror(int err);
/* "QUOTE_E_TRUNCATED" etc.; "QUOTE_E_UNKNOWN" for other values. */
const char *quote_err_name(int err);

typedef enum {
    QUOTE_BODY_SGX = 1,   /* sgx_report_body_t, 384 */
    QUOTE_BODY_TD10 = 2,  /* TD report 1.0, 584 */
    QUOTE_BODY_TD15 = 3,  /* TD report 1.5, 648 */
} quote_body_type;

/* quote-format §1.5 */
typedef enum {
    CERT_DATA_PPID_CLEARTEXT = 1,
    CERT_DATA_PPID_RSA2048 = 2,
    CERT_DATA_PPID_RSA3072 = 3,
    CERT_DATA_PCK_CLEARTEXT = 4,
    CERT_DATA_PCK_CHAIN = 5,
    CERT_DATA_QE_REPORT = 6,
    CERT_DATA_PLATFORM_MANIFEST = 7,
} cert_data_type;

/* A PEM certificate block found inside type-5 certification data. */
typedef struct {
    const char *pem; /* points at "-----BEGIN CERTIFICATE-----" */
    size_t len;      /* through the end of "-----END CERTIFICATE-----" */
} quote_pem_block;

/* TDX TD report body fields (quote-format §2.3), pointers into the quote. */
typedef struct {
    const uint8_t *tee_tcb_svn;    /* 16 */
    const uint8_t *mr_seam;        /* 48 */
    const uint8_t *mrsigner_seam;  /* 48 */
    const uint8_t *seam_attributes; /* 8 */
    const uint8_t *td_attributes;  /* 8 */
    const uint8_t *xfam;           /* 8 */
    const uint8_t *mr_td;          /* 48 */
    const uint8_t *mr_config_id;   /* 48 */
    const uint8_t *mr_owner;       /* 48 */
    const uint8_t *mr_owner_config; /* 48 */
    const uint8_t *rtmr[4];        /* 48 each */
    const uint8_t *report_data;    /* 64 */
    const uint8_t *tee_tcb_svn2;   /* 16, TD 1.5 only, else NULL */
    const uint8_t *mr_servicetd;   /* 48, TD 1.5 only, else NULL */
} quote_td_body;

typedef struct {
    const uint8_t *raw;      /* whole input */
    size_t raw_len;          /* input length (may include trailing bytes) */
    size_t quote_len;        /* bytes actually covered: end of signature data */

    sgx_quote_header_t header; /* decoded copy (host order) */
    uint16_t version;
    uint32_t tee_type;
    quote_body_type body_type;
    size_t body_offset, body_len;

    /* SGX enclave report body (when body_type == QUOTE_BODY_SGX): copy. */
    sgx_report_body_t sgx_body;
    /* TDX body (when body_type is TD): pointers into raw. */
    quote_td_body td;

    const uint8_t *signed_data; /* quote bytes covered by the ISV signature */
    size_t signed_len;          /* 432 / 632 (v3/v4) or 54+size (v5) */

    uint32_t signature_data_len;
    const uint8_t *isv_sig;      /* 64, r‖s */
    const uint8_t *attest_pub_key; /* 64, X‖Y */

    const uint8_t *qe_report_raw; /* 384 bytes of QE report body (signed by PCK) */
    sgx_report_body_t qe_report;  /* decoded copy */
    const uint8_t *qe_report_sig; /* 64 */
    const uint8_t *qe_auth_data;
    uint16_t qe_auth_data_len;

    uint16_t outer_cert_type;     /* 6 for v4/v5, else == cert_type */
    uint16_t cert_type;           /* the (inner) certification data type */
    const uint8_t *cert_data;
    uint32_t cert_data_len;

    /* Type 5 only: the PEM blocks found, in the order they appear. */
    quote_pem_block pem[QUOTE_MAX_CHAIN_CERTS];
    size_t pem_count;
} quote_view;

/* Parse a quote. Trailing bytes after the signature data are allowed (and
 * reported through quote_len < raw_len). Structure only: the QE vendor id
 * and all signatures are left to the verifier. The signature data must be
 * consumed exactly (v3: N = 584 + A + C; v4/v5: N = 134 + S, S = 456 + A + C);
 * QUOTE_E_TRUNCATED means the buffer ends before a declared length,
 * QUOTE_E_SIZE_MISMATCH that declared lengths disagree with each other.
 * On any error *out is all zero. */
int quote_parse(const uint8_t *buf, size_t len, quote_view *out);

/* ---- v3 builder (quote-format §1) ---- */
typedef struct {
    uint16_t qe_svn;
    uint16_t pce_svn;
    uint8_t qe_id[16];                  /* goes to user_data[0..16) */
    const sgx_report_body_t *app_report; /* copied verbatim */
    const sgx_report_body_t *qe_report;  /* certified QE report body */
    const uint8_t *qe_report_sig;        /* 64 */
    const uint8_t *attest_pub_key;       /* 64 */
    const uint8_t *qe_auth_data;
    uint16_t qe_auth_data_len;
    uint16_t cert_type;
    const uint8_t *cert_data;
    uint32_t cert_data_len;
} quote_v3_spec;

/* Exact size of the quote the spec would produce (0 if spec is NULL or the
 * quote would exceed QUOTE_CERT_DATA_MAX / QUOTE_MAX_SIZE). */
size_t quote_v3_size(const quote_v3_spec *spec);

/* Write header, body and signature data with a zero ISV signature; the
 * caller signs out[0, 432) and stores r‖s with quote_v3_set_signature.
 * On QUOTE_OK and QUOTE_E_BUFFER_TOO_SMALL, *len is the quote's size (so a
 * NULL/0 call asks for it); cert_type must be 1-5. */
int quote_v3_build(const quote_v3_spec *spec, uint8_t *out, size_t cap, size_t *len);
#define QUOTE_V3_SIGNED_LEN 432u
#define QUOTE_V3_SIG_OFFSET 436u
void quote_v3_set_signature(uint8_t *quote, const uint8_t sig[64]);

/* ---- TDX v4/v5 builder (Intel TDX DCAP Quoting Library API, quote v4;
 * sgx_quote_5.h for v5) ---- */
typedef struct {
    uint16_t version;             /* 4 (TD body 1.0, 584 bytes) or 5 (type 3, 648 bytes) */
    const uint8_t *td_body;       /* 584 or 648 bytes, as tdx_report_quote_body makes it */
    uint8_t qe_id[16];            /* goes to user_data[0..16) */
    const sgx_report_body_t *qe_report; /* certified TD-QE report body */
    const uint8_t *qe_report_sig;  /* 64, PCK signature over the QE report */
    const uint8_t *attest_pub_key; /* 64 */
    const uint8_t *qe_auth_data;
    uint16_t qe_auth_data_len;
    const uint8_t *cert_data;      /* type 5: PEM chain (+ NUL) */
    uint32_t cert_data_len;
} quote_td_spec;

/* Size of the buffer the TD quoting library hands out, which is what QGS
 * sends: always the v5 size (54 + 648 + 4 + signature data), so a v4 quote
 * ends in 70 zero bytes. 0 on a bad spec or a quote over QUOTE_MAX_SIZE. */
size_t quote_td_size(const quote_td_spec *spec);
/* Bytes the signature covers: 632 (v4) or 702 (v5). */
size_t quote_td_signed_len(const quote_td_spec *spec);
/* Writes the quote with a zero attestation signature (the caller signs
 * out[0, quote_td_signed_len) and stores r‖s with quote_td_set_signature),
 * zero-padded to quote_td_size. *len as for quote_v3_build. */
int quote_td_build(const quote_td_spec *spec, uint8_t *out, size_t cap, size_t *len);
void quote_td_set_signature(const quote_td_spec *spec, uint8_t *quote, const uint8_t sig[64]);

/* ---- reports ---- */
/* quote-format §4.1: the target info an enclave's report describes. */
void sgx_target_info_from_report(const sgx_report_body_t *body, sgx_target_info_t *ti);

/* quote-format §1.3: the 384-byte wire form of a report body <-> the host
 * struct, field by field (integers little-endian on the wire). Use these
 * rather than memcpy when bytes come from or go to the wire or a MAC. */
#define SGX_REPORT_BODY_SIZE 384u
void sgx_report_body_decode(const uint8_t raw[SGX_REPORT_BODY_SIZE], sgx_report_body_t *out);
void sgx_report_body_encode(const sgx_report_body_t *body, uint8_t raw[SGX_REPORT_BODY_SIZE]);

/* The QE vendor id a parsed quote carries (quote-format §1.2), for the
 * verifier's "vendor == Intel" check; the parser does not judge it. */
static inline const uint8_t *quote_qe_vendor_id(const quote_view *q)
{
    return q->header.qe_vendor_id;
}

#ifdef __cplusplus
}
#endif
#endif
