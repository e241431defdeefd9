/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TDX Quote Generation Service wire format: Intel's qgs_msg 1.1
 * (DCAP QuoteGeneration, qgs_msg_lib.h) under a 4-byte big-endian length,
 * plus the bare 1024-byte TDREPORT that pass-through QEMU forwards. Every
 * field inside a qgs_msg is little-endian and packed; only the prefix is
 * big-endian. docs/protocol.md ("QGS") has the byte layouts and quirks.
 *
 * Decoders read untrusted bytes through the bounded reader (src/sgx/
 * reader.h) and return a typed error, never a half-filled struct. Encoders
 * return one malloc'd buffer holding the whole framed message, so a server
 * can send it with one write and close (nothing may follow a reply).
 */
#ifndef SGXQH_QGS_MSG_H
#define SGXQH_QGS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QGS_MSG_MAJOR_VER 1u
#define QGS_MSG_MINOR_VER 1u /* upstream QEMU accepts replies of exactly 1.1 */

#define QGS_FRAME_PREFIX_SIZE 4u
#define QGS_MSG_HEADER_SIZE 16u
#define QGS_GET_QUOTE_FIXED 24u             /* header + two u32 sizes, both directions */
#define QGS_GET_COLLATERAL_REQ_FIXED 24u
#define QGS_GET_COLLATERAL_RESP_FIXED 48u   /* header + u16 major/minor + 7 u32 sizes */
#define QGS_GET_PLATFORM_INFO_REQ_SIZE 16u  /* header only */
#define QGS_GET_PLATFORM_INFO_RESP_FIXED 28u
#define QGS_PLATFORM_ID_SIZE 16u
#define QGS_CPUSVN_SIZE 16u
/* Intel's codec counts the two 16-byte fields twice (2+2 bytes of sizes
 * added twice), so every success reply carries 4 zero bytes at the end. */
#define QGS_PLATFORM_INFO_PAD 4u
#define QGS_GET_PLATFORM_INFO_RESP_SIZE                                                            \
    (QGS_GET_PLATFORM_INFO_RESP_FIXED + QGS_PLATFORM_ID_SIZE + QGS_CPUSVN_SIZE +                 \
     QGS_PLATFORM_INFO_PAD)
/* A collateral reply to a minor-0 requester is 4 bytes longer (codec 1.0's
 * size miscalculation, kept by QGS); its header still says 1.1. */
#define QGS_COLLATERAL_MINOR0_PAD 4u
#define QGS_COLLATERAL_ITEMS 7u

#define QGS_RAW_REPORT_SIZE 1024u  /* TDREPORT_STRUCT */
#define QGS_RAW_REPORT_FIRST 0x81u /* REPORTTYPE.TYPE: a prefix >= 0x81000000 can never be valid */
/* Our cap on a request's length prefix: a GET_QUOTE is 1048 bytes, so
 * 64 KiB is far above anything legitimate (QGS itself reads at most 4 KiB). */
#define QGS_REQUEST_MAX (64u * 1024u)
/* libtdx_attest rejects a reply prefix above 16 KiB - 24 - 4 (its buffer). */
#define QGS_REPLY_LEN_MAX 16356u
/* Linux's 8 KiB GetQuote buffer minus its 24-byte header: the largest quote
 * the configfs-tsm path (and so the raw form) can carry. */
#define QGS_RAW_QUOTE_MAX 8168u
#define QGS_FMSPC_SIZE 6u
#define QGS_FMSPC_SIZE_LIMIT 65535u /* fmspc_size must be below this */
#define QGS_PCK_CA_MAX 64u

#define QGS_DEFAULT_SOCKET "/var/run/tdx-qgs/qgs.socket"

typedef enum {
    QGS_GET_QUOTE_REQ = 0,
    QGS_GET_QUOTE_RESP = 1,
    QGS_GET_COLLATERAL_REQ = 2,
    QGS_GET_COLLATERAL_RESP = 3,
    QGS_GET_PLATFORM_INFO_REQ = 4,
    QGS_GET_PLATFORM_INFO_RESP = 5,
    QGS_MSG_TYPE_MAX = 6,
} qgs_msg_type;

/* qgs_msg_lib.h: qgs_msg_error_t. QGS puts only UNEXPECTED on the wire. */
#define QGS_MSG_SUCCESS 0x00000000u
#define QGS_MSG_ERROR_UNEXPECTED 0x00012001u
#define QGS_MSG_ERROR_OUT_OF_MEMORY 0x00012002u
#define QGS_MSG_ERROR_INVALID_PARAMETER 0x00012003u
#define QGS_MSG_ERROR_INVALID_VERSION 0x00012004u
#define QGS_MSG_ERROR_INVALID_TYPE 0x00012005u
#define QGS_MSG_ERROR_INVALID_SIZE 0x00012006u
#define QGS_MSG_ERROR_INVALID_CODE 0x00012007u
#define QGS_MSG_ERROR_MAX 0x00012008u
const char *qgs_msg_error_name(uint32_t code);

/* Our codec's errors (each has a name and a sentence). */
typedef enum {
    QGS_OK = 0,
    QGS_E_TRUNCATED = -1,   /* shorter than its fixed part or a declared size */
    QGS_E_VERSION = -2,     /* major version is not 1 */
    QGS_E_TYPE = -3,        /* type is not a request (or not the response expected) */
    QGS_E_SIZE = -4,        /* header size, frame length and body sizes disagree */
    QGS_E_ERROR_CODE = -5,  /* a request carries a nonzero error_code */
    QGS_E_REPORT_SIZE = -6, /* GET_QUOTE report_size is 0 */
    QGS_E_FMSPC = -7,       /* GET_COLLATERAL fmspc_size is 0 or too large */
    QGS_E_PCK_CA = -8,      /* GET_COLLATERAL pck_ca_size is 0 or too large */
    QGS_E_TOO_LARGE = -9,   /* over a named limit */
    QGS_E_REMOTE = -10,     /* a response carries an error code */
    QGS_E_MINOR = -11,      /* a response's minor version is not 1 */
    QGS_E_INVALID_ARG = -12,
    QGS_E_NOMEM = -13,
} qgs_err;
const char *qgs_err_name(int err);
const char *qgs_strerror(int err);

typedef struct {
    uint16_t major, minor;
    uint32_t type, size, error_code;
} qgs_msg_header;

/* Framing of what a client sent so far (buf holds `have` bytes from the
 * start of the connection): */
typedef enum {
    QGS_FRAME_NEED_MORE, /* read until *need bytes in total */
    QGS_FRAME_FRAMED,    /* a whole prefix + qgs_msg of *need bytes */
    QGS_FRAME_RAW,       /* a whole bare TDREPORT (1024 bytes) */
    QGS_FRAME_INVALID,   /* neither: close the connection */
} qgs_frame_kind;
/* Bytes beyond *need are never part of the request (one request per
 * connection); the caller reads exactly *need bytes. */
qgs_frame_kind qgs_frame_classify(const uint8_t *buf, size_t have, size_t *need);

/* A decoded request; pointers into the caller's buffer. */
typedef struct {
    qgs_msg_header hdr;
    const uint8_t *report;   /* GET_QUOTE */
    uint32_t report_size;
    const uint8_t *id_list;
    uint32_t id_list_size;
    const uint8_t *fmspc;    /* GET_COLLATERAL */
    uint32_t fmspc_size;
    const char *pck_ca;      /* NUL-terminated inside the message ("processor"/"platform") */
    uint32_t pck_ca_size;
} qgs_request;

/* Header of a qgs_msg (msg starts after the prefix). QGS_E_VERSION and
 * QGS_E_TYPE mean the message cannot be dispatched at all. */
int qgs_header_decode(const uint8_t *msg, size_t len, qgs_msg_header *out);
/* A whole request: header and the body of its type, every size checked. On
 * an error after a valid request header, out->hdr is still filled so the
 * server can answer with that type's error reply. */
int qgs_request_decode(const uint8_t *msg, size_t len, qgs_request *out);

/* ---- encoders: one malloc'd framed buffer (*out, *out_len) ---- */
int qgs_encode_get_quote_req(const uint8_t *report, uint32_t report_size, uint16_t minor,
                             uint8_t **out, size_t *out_len);
/* error != 0: the 24-byte error reply (sizes zero, quote ignored). */
int qgs_encode_get_quote_resp(uint32_t error, const uint8_t *quote, uint32_t quote_size,
                              uint8_t **out, size_t *out_len);
int qgs_encode_get_collateral_req(const uint8_t *fmspc, uint32_t fmspc_size, const char *pck_ca,
                                  uint16_t minor, uint8_t **out, size_t *out_len);

/* Collateral items in wire order: PCK CRL issuer chain, root CA CRL, PCK
 * CRL, TCB info issuer chain, TCB info, QE identity issuer chain, QE
 * identity (sgx_ql_qve_collateral_t). */
typedef struct {
    uint16_t major, minor;  /* collateral version (3.1 for DER CRLs) */
    const uint8_t *item[QGS_COLLATERAL_ITEMS];
    uint32_t size[QGS_COLLATERAL_ITEMS];
} qgs_collateral;
/* pad_minor0: the request said minor 0 (adds QGS_COLLATERAL_MINOR0_PAD). */
int qgs_encode_get_collateral_resp(uint32_t error, const qgs_collateral *c, bool pad_minor0,
                                   uint8_t **out, size_t *out_len);
int qgs_encode_get_platform_info_req(uint16_t minor, uint8_t **out, size_t *out_len);

typedef struct {
    uint16_t tdqe_isvsvn;
    uint16_t pce_isvsvn;
    uint8_t platform_id[QGS_PLATFORM_ID_SIZE]; /* the QE_ID */
    uint8_t cpusvn[QGS_CPUSVN_SIZE];
} qgs_platform_info;
int qgs_encode_get_platform_info_resp(uint32_t error, const qgs_platform_info *info,
                                      uint8_t **out, size_t *out_len);

/* ---- response decoders (client side; msg starts after the prefix) ----
 * As strict as upstream QEMU: major 1 and minor exactly 1, the expected
 * type, sizes that add up; QGS_E_REMOTE (with *remote_error) for an error
 * reply. */
int qgs_get_quote_resp_decode(const uint8_t *msg, size_t len, const uint8_t **quote,
                              uint32_t *quote_size, uint32_t *remote_error);
int qgs_get_collateral_resp_decode(const uint8_t *msg, size_t len, qgs_collateral *out,
                                   uint32_t *remote_error);
int qgs_get_platform_info_resp_decode(const uint8_t *msg, size_t len, qgs_platform_info *out,
                                      uint32_t *remote_error);

#endif
