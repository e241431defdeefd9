/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qgs_msg 1.1 framing and codec (qgs_msg.h): socket bytes -> framing
 * (qgs_frame_classify) -> requests (qgs_request_decode) -> service.c, and
 * back through the encoders. Sizes, padding and error replies follow Intel's
 * qgs_msg_lib (DCAP 1.21+) byte for byte, including its two padding quirks,
 * so Intel's codec, libtdx_attest and QEMU read our replies as QGS's. Reads
 * use the bounded reader only; 64-bit sums keep declared sizes from wrapping.
 */
#include <stdlib.h>
#include <string.h>

#include "qgs/qgs_msg.h"
#include "sgx/le.h"
#include "sgx/reader.h"

const char *qgs_msg_error_name(uint32_t code)
{
    switch (code) {
    case QGS_MSG_SUCCESS: return "QGS_MSG_SUCCESS";
    case QGS_MSG_ERROR_UNEXPECTED: return "QGS_MSG_ERROR_UNEXPECTED";
    case QGS_MSG_ERROR_OUT_OF_MEMORY: return "QGS_MSG_ERROR_OUT_OF_MEMORY";
    case QGS_MSG_ERROR_INVALID_PARAMETER: return "QGS_MSG_ERROR_INVALID_PARAMETER";
    case QGS_MSG_ERROR_INVALID_VERSION: return "QGS_MSG_ERROR_INVALID_VERSION";
    case QGS_MSG_ERROR_INVALID_TYPE: return "QGS_MSG_ERROR_INVALID_TYPE";
    case QGS_MSG_ERROR_INVALID_SIZE: return "QGS_MSG_ERROR_INVALID_SIZE";
    case QGS_MSG_ERROR_INVALID_CODE: return "QGS_MSG_ERROR_INVALID_CODE";
    default: return "QGS_MSG_ERROR_UNKNOWN";
    }
}

const char *qgs_err_name(int err)
{
    switch (err) {
    case QGS_OK: return "QGS_OK";
    case QGS_E_TRUNCATED: return "QGS_E_TRUNCATED";
    case QGS_E_VERSION: return "QGS_E_VERSION";
    case QGS_E_TYPE: return "QGS_E_TYPE";
    case QGS_E_SIZE: return "QGS_E_SIZE";
    case QGS_E_ERROR_CODE: return "QGS_E_ERROR_CODE";
    case QGS_E_REPORT_SIZE: return "QGS_E_REPORT_SIZE";
    case QGS_E_FMSPC: return "QGS_E_FMSPC";
    case QGS_E_PCK_CA: return "QGS_E_PCK_CA";
    case QGS_E_TOO_LARGE: return "QGS_E_TOO_LARGE";
    case QGS_E_REMOTE: return "QGS_E_REMOTE";
    case QGS_E_MINOR: return "QGS_E_MINOR";
    case QGS_E_INVALID_ARG: return "QGS_E_INVALID_ARG";
    case QGS_E_NOMEM: return "QGS_E_NOMEM";
    default: return "QGS_E_UNKNOWN";
    }
}

const char *qgs_strerror(int err)
{
    switch (err) {
    case QGS_OK: return "success";
    case QGS_E_TRUNCATED: return "the message is shorter than its fixed part or a declared size";
    case QGS_E_VERSION: return "qgs_msg major version is not 1";
    case QGS_E_TYPE: return "unexpected qgs_msg type";
    case QGS_E_SIZE: return "the header size, frame length and body sizes disagree";
    case QGS_E_ERROR_CODE: return "a request carries a nonzero error_code";
    case QGS_E_REPORT_SIZE: return "GET_QUOTE report_size is zero";
    case QGS_E_FMSPC: return "GET_COLLATERAL fmspc_size is zero or too large";
    case QGS_E_PCK_CA: return "GET_COLLATERAL PCK CA name is empty, too long or not NUL-terminated";
    case QGS_E_TOO_LARGE: return "the message exceeds a size limit";
    case QGS_E_REMOTE: return "the service answered with an error code";
    case QGS_E_MINOR: return "the reply's minor version is not 1 (upstream QEMU rejects it)";
    case QGS_E_INVALID_ARG: return "invalid argument";
    case QGS_E_NOMEM: return "out of memory";
    default: return "unknown QGS codec error";
    }
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

qgs_frame_kind qgs_frame_classify(const uint8_t *buf, size_t have, size_t *need)
{
    *need = QGS_FRAME_PREFIX_SIZE;
    if (have < QGS_FRAME_PREFIX_SIZE)
        return QGS_FRAME_NEED_MORE;
    uint32_t len = be32(buf);
    if (buf[0] == QGS_RAW_REPORT_FIRST) {
        /* A TDREPORT's first byte as a length prefix is >= 0x81000000, far
         * above any frame we accept: unambiguous (QGS 1.21+ raw mode). */
        *need = QGS_RAW_REPORT_SIZE;
        return have >= QGS_RAW_REPORT_SIZE ? QGS_FRAME_RAW : QGS_FRAME_NEED_MORE;
    }
    if (len < QGS_MSG_HEADER_SIZE || len > QGS_REQUEST_MAX)
        return QGS_FRAME_INVALID;
    *need = QGS_FRAME_PREFIX_SIZE + (size_t)len;
    return have >= *need ? QGS_FRAME_FRAMED : QGS_FRAME_NEED_MORE;
}

int qgs_header_decode(const uint8_t *msg, size_t len, qgs_msg_header *out)
{
    qgs_msg_header h;
    reader r;
    if (out == NULL)
        return QGS_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (reader_init(&r, msg, len) != READER_OK)
        return QGS_E_INVALID_ARG;
    if (reader_u16le(&r, &h.major) || reader_u16le(&r, &h.minor) || reader_u32le(&r, &h.type) ||
        reader_u32le(&r, &h.size) || reader_u32le(&r, &h.error_code))
        return QGS_E_TRUNCATED;
    if (h.major != QGS_MSG_MAJOR_VER)
        return QGS_E_VERSION;
    if (h.type >= QGS_MSG_TYPE_MAX)
        return QGS_E_TYPE;
    *out = h;
    return QGS_OK;
}

/* Two u32 sizes after the header, and the two blobs they declare, which
 * must end exactly at the end of the message. */
static int two_blobs(reader *r, uint32_t *a_size, const uint8_t **a, uint32_t *b_size,
                     const uint8_t **b)
{
    if (reader_u32le(r, a_size) || reader_u32le(r, b_size))
        return QGS_E_TRUNCATED;
    if ((uint64_t)*a_size + *b_size != reader_remaining(r))
        return QGS_E_SIZE;
    if (reader_bytes(r, *a_size, a) || reader_bytes(r, *b_size, b))
        return QGS_E_TRUNCATED;
    return QGS_OK;
}

int qgs_request_decode(const uint8_t *msg, size_t len, qgs_request *out)
{
    qgs_request q;
    reader r;
    int rc;
    if (out == NULL)
        return QGS_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    memset(&q, 0, sizeof q);
    if (len > QGS_REQUEST_MAX)
        return QGS_E_TOO_LARGE;
    if ((rc = qgs_header_decode(msg, len, &q.hdr)) != QGS_OK)
        return rc;
    if (q.hdr.type != QGS_GET_QUOTE_REQ && q.hdr.type != QGS_GET_COLLATERAL_REQ &&
        q.hdr.type != QGS_GET_PLATFORM_INFO_REQ)
        return QGS_E_TYPE;
    out->hdr = q.hdr; /* from here on the server can answer with an error reply */
    if (q.hdr.size != len)
        return QGS_E_SIZE;
    if (q.hdr.error_code != 0)
        return QGS_E_ERROR_CODE;
    reader_init(&r, msg, len);
    reader_skip(&r, QGS_MSG_HEADER_SIZE);
    switch (q.hdr.type) {
    case QGS_GET_QUOTE_REQ:
        if ((rc = two_blobs(&r, &q.report_size, &q.report, &q.id_list_size, &q.id_list)) != 0)
            return rc;
        if (q.report_size == 0)
            return QGS_E_REPORT_SIZE;
        break;
    case QGS_GET_COLLATERAL_REQ: {
        const uint8_t *ca = NULL;
        if ((rc = two_blobs(&r, &q.fmspc_size, &q.fmspc, &q.pck_ca_size, &ca)) != 0)
            return rc;
        if (q.fmspc_size == 0 || q.fmspc_size >= QGS_FMSPC_SIZE_LIMIT)
            return QGS_E_FMSPC;
        /* QGS hands the name on as a C string: it must end inside the message. */
        if (q.pck_ca_size == 0 || q.pck_ca_size > QGS_PCK_CA_MAX ||
            memchr(ca, 0, q.pck_ca_size) == NULL)
            return QGS_E_PCK_CA;
        q.pck_ca = (const char *)ca;
        break;
    }
    default: /* GET_PLATFORM_INFO_REQ: the header alone */
        if (reader_expect_end(&r) != READER_OK)
            return QGS_E_SIZE;
        break;
    }
    *out = q;
    return QGS_OK;
}

/* ---- encoders ---- */

static int frame_alloc(uint32_t type, uint32_t error, size_t msg_len, uint8_t **out,
                       size_t *out_len)
{
    if (out == NULL || out_len == NULL)
        return QGS_E_INVALID_ARG;
    *out = NULL;
    *out_len = 0;
    if (msg_len > UINT32_MAX - QGS_FRAME_PREFIX_SIZE)
        return QGS_E_TOO_LARGE;
    uint8_t *b = calloc(1, QGS_FRAME_PREFIX_SIZE + msg_len);
    if (b == NULL)
        return QGS_E_NOMEM;
    b[0] = (uint8_t)(msg_len >> 24);
    b[1] = (uint8_t)(msg_len >> 16);
    b[2] = (uint8_t)(msg_len >> 8);
    b[3] = (uint8_t)msg_len;
    uint8_t *h = b + QGS_FRAME_PREFIX_SIZE;
    le_put_u16(h, QGS_MSG_MAJOR_VER);
    le_put_u16(h + 2, QGS_MSG_MINOR_VER);
    le_put_u32(h + 4, type);
    le_put_u32(h + 8, (uint32_t)msg_len);
    le_put_u32(h + 12, error);
    *out = b;
    *out_len = QGS_FRAME_PREFIX_SIZE + msg_len;
    return QGS_OK;
}

/* The message inside a framed buffer. */
static uint8_t *msg_of(uint8_t *frame)
{
    return frame + QGS_FRAME_PREFIX_SIZE;
}

int qgs_encode_get_quote_req(const uint8_t *report, uint32_t report_size, uint16_t minor,
                             uint8_t **out, size_t *out_len)
{
    if (report == NULL && report_size > 0)
        return QGS_E_INVALID_ARG;
    int rc = frame_alloc(QGS_GET_QUOTE_REQ, 0, (size_t)QGS_GET_QUOTE_FIXED + report_size, out,
                         out_len);
    if (rc != QGS_OK)
        return rc;
    uint8_t *m = msg_of(*out);
    le_put_u16(m + 2, minor);
    le_put_u32(m + 16, report_size);
    if (report_size > 0)
        memcpy(m + QGS_GET_QUOTE_FIXED, report, report_size);
    return QGS_OK;
}

int qgs_encode_get_quote_resp(uint32_t error, const uint8_t *quote, uint32_t quote_size,
                              uint8_t **out, size_t *out_len)
{
    if (error == 0 && (quote == NULL || quote_size == 0))
        return QGS_E_INVALID_ARG;
    if (error != 0)
        quote_size = 0;
    /* selected_id_size is always 0: QGS ignores the ID list. */
    int rc = frame_alloc(QGS_GET_QUOTE_RESP, error, (size_t)QGS_GET_QUOTE_FIXED + quote_size,
                         out, out_len);
    if (rc != QGS_OK)
        return rc;
    uint8_t *m = msg_of(*out);
    le_put_u32(m + 20, quote_size);
    if (quote_size > 0)
        memcpy(m + QGS_GET_QUOTE_FIXED, quote, quote_size);
    return QGS_OK;
}

int qgs_encode_get_collateral_req(const uint8_t *fmspc, uint32_t fmspc_size, const char *pck_ca,
                                  uint16_t minor, uint8_t **out, size_t *out_len)
{
    if (fmspc == NULL || pck_ca == NULL || fmspc_size > QGS_REQUEST_MAX)
        return QGS_E_INVALID_ARG;
    size_t ca_size = strlen(pck_ca) + 1; /* with the NUL, as Intel's tdx_verify sends it */
    if (ca_size > QGS_PCK_CA_MAX)
        return QGS_E_INVALID_ARG;
    int rc = frame_alloc(QGS_GET_COLLATERAL_REQ, 0,
                         QGS_GET_COLLATERAL_REQ_FIXED + (size_t)fmspc_size + ca_size, out,
                         out_len);
    if (rc != QGS_OK)
        return rc;
    uint8_t *m = msg_of(*out);
    le_put_u16(m + 2, minor);
    le_put_u32(m + 16, fmspc_size);
    le_put_u32(m + 20, (uint32_t)ca_size);
    memcpy(m + QGS_GET_COLLATERAL_REQ_FIXED, fmspc, fmspc_size);
    memcpy(m + QGS_GET_COLLATERAL_REQ_FIXED + fmspc_size, pck_ca, ca_size);
    return QGS_OK;
}

int qgs_encode_get_collateral_resp(uint32_t error, const qgs_collateral *c, bool pad_minor0,
                                   uint8_t **out, size_t *out_len)
{
    uint64_t total = 0;
    if (error == 0) {
        if (c == NULL)
            return QGS_E_INVALID_ARG;
        for (unsigned i = 0; i < QGS_COLLATERAL_ITEMS; i++) {
            if (c->size[i] == 0 || c->item[i] == NULL)
                return QGS_E_INVALID_ARG; /* success needs all seven */
            total += c->size[i];
        }
    }
    total += QGS_GET_COLLATERAL_RESP_FIXED + (pad_minor0 ? QGS_COLLATERAL_MINOR0_PAD : 0);
    if (total > UINT32_MAX - QGS_FRAME_PREFIX_SIZE)
        return QGS_E_TOO_LARGE;
    int rc = frame_alloc(QGS_GET_COLLATERAL_RESP, error, (size_t)total, out, out_len);
    if (rc != QGS_OK || error != 0)
        return rc; /* the error reply: 48 bytes (+4), every size zero */
    uint8_t *m = msg_of(*out);
    le_put_u16(m + 16, c->major);
    le_put_u16(m + 18, c->minor);
    uint8_t *p = m + QGS_GET_COLLATERAL_RESP_FIXED;
    for (unsigned i = 0; i < QGS_COLLATERAL_ITEMS; i++) {
        le_put_u32(m + 20 + 4 * i, c->size[i]);
        memcpy(p, c->item[i], c->size[i]);
        p += c->size[i];
    }
    return QGS_OK;
}

int qgs_encode_get_platform_info_req(uint16_t minor, uint8_t **out, size_t *out_len)
{
    int rc = frame_alloc(QGS_GET_PLATFORM_INFO_REQ, 0, QGS_GET_PLATFORM_INFO_REQ_SIZE, out,
                         out_len);
    if (rc == QGS_OK)
        le_put_u16(msg_of(*out) + 2, minor);
    return rc;
}

int qgs_encode_get_platform_info_resp(uint32_t error, const qgs_platform_info *info,
                                      uint8_t **out, size_t *out_len)
{
    if (error == 0 && info == NULL)
        return QGS_E_INVALID_ARG;
    /* Error: the 28-byte fixed part only (Intel's own client expects 32 and
     * says INVALID_SIZE; QGS sends 28 and so do we). */
    size_t len = error != 0 ? QGS_GET_PLATFORM_INFO_RESP_FIXED : QGS_GET_PLATFORM_INFO_RESP_SIZE;
    int rc = frame_alloc(QGS_GET_PLATFORM_INFO_RESP, error, len, out, out_len);
    if (rc != QGS_OK || error != 0)
        return rc;
    uint8_t *m = msg_of(*out);
    le_put_u16(m + 16, info->tdqe_isvsvn);
    le_put_u16(m + 18, info->pce_isvsvn);
    le_put_u32(m + 20, QGS_PLATFORM_ID_SIZE);
    le_put_u32(m + 24, QGS_CPUSVN_SIZE);
    memcpy(m + 28, info->platform_id, QGS_PLATFORM_ID_SIZE);
    memcpy(m + 44, info->cpusvn, QGS_CPUSVN_SIZE);
    return QGS_OK; /* bytes 60..63: the always-present zero padding */
}

/* ---- response decoders ---- */

static int resp_header(const uint8_t *msg, size_t len, uint32_t type, size_t fixed,
                       qgs_msg_header *h, reader *r)
{
    int rc = qgs_header_decode(msg, len, h);
    if (rc != QGS_OK)
        return rc;
    if (h->minor != QGS_MSG_MINOR_VER)
        return QGS_E_MINOR;
    if (h->type != type)
        return QGS_E_TYPE;
    if (h->size != len)
        return QGS_E_SIZE;
    if (len < fixed)
        return QGS_E_TRUNCATED;
    if (h->error_code != 0 && h->error_code >= QGS_MSG_ERROR_MAX)
        return QGS_E_SIZE;
    reader_init(r, msg, len);
    reader_skip(r, QGS_MSG_HEADER_SIZE);
    return QGS_OK;
}

int qgs_get_quote_resp_decode(const uint8_t *msg, size_t len, const uint8_t **quote,
                              uint32_t *quote_size, uint32_t *remote_error)
{
    qgs_msg_header h;
    uint32_t sel = 0, qs = 0;
    const uint8_t *sel_p = NULL, *q = NULL;
    reader r;
    int rc;
    if (quote == NULL || quote_size == NULL || remote_error == NULL)
        return QGS_E_INVALID_ARG;
    *quote = NULL;
    *quote_size = 0;
    *remote_error = 0;
    if ((rc = resp_header(msg, len, QGS_GET_QUOTE_RESP, QGS_GET_QUOTE_FIXED, &h, &r)) != 0)
        return rc;
    if ((rc = two_blobs(&r, &sel, &sel_p, &qs, &q)) != QGS_OK)
        return rc;
    if (h.error_code != 0) {
        *remote_error = h.error_code;
        return sel != 0 || qs != 0 ? QGS_E_SIZE : QGS_E_REMOTE;
    }
    if (sel != 0 || qs == 0)
        return QGS_E_SIZE; /* upstream QEMU: no selected id, a nonempty quote */
    *quote = q;
    *quote_size = qs;
    return QGS_OK;
}

int qgs_get_collateral_resp_decode(const uint8_t *msg, size_t len, qgs_collateral *out,
                                   uint32_t *remote_error)
{
    qgs_msg_header h;
    qgs_collateral c;
    reader r;
    uint64_t total = 0;
    int rc;
    if (out == NULL || remote_error == NULL)
        return QGS_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    memset(&c, 0, sizeof c);
    *remote_error = 0;
    if ((rc = resp_header(msg, len, QGS_GET_COLLATERAL_RESP, QGS_GET_COLLATERAL_RESP_FIXED, &h,
                          &r)) != 0)
        return rc;
    if (reader_u16le(&r, &c.major) || reader_u16le(&r, &c.minor))
        return QGS_E_TRUNCATED;
    for (unsigned i = 0; i < QGS_COLLATERAL_ITEMS; i++) {
        if (reader_u32le(&r, &c.size[i]))
            return QGS_E_TRUNCATED;
        total += c.size[i];
    }
    if (h.error_code != 0) {
        *remote_error = h.error_code;
        return total != 0 ? QGS_E_SIZE : QGS_E_REMOTE;
    }
    /* Exactly the items, or the items and the 4 zero bytes a minor-0
     * requester gets. */
    size_t left = reader_remaining(&r);
    if (total != left && total + QGS_COLLATERAL_MINOR0_PAD != left)
        return QGS_E_SIZE;
    for (unsigned i = 0; i < QGS_COLLATERAL_ITEMS; i++) {
        if (c.size[i] == 0)
            return QGS_E_SIZE;
        if (reader_bytes(&r, c.size[i], &c.item[i]))
            return QGS_E_TRUNCATED;
    }
    *out = c;
    return QGS_OK;
}

int qgs_get_platform_info_resp_decode(const uint8_t *msg, size_t len, qgs_platform_info *out,
                                      uint32_t *remote_error)
{
    qgs_msg_header h;
    qgs_platform_info pi;
    uint32_t id_size = 0, svn_size = 0;
    reader r;
    int rc;
    if (out == NULL || remote_error == NULL)
        return QGS_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    memset(&pi, 0, sizeof pi);
    *remote_error = 0;
    if ((rc = resp_header(msg, len, QGS_GET_PLATFORM_INFO_RESP, QGS_GET_PLATFORM_INFO_RESP_FIXED,
                          &h, &r)) != 0)
        return rc;
    if (reader_u16le(&r, &pi.tdqe_isvsvn) || reader_u16le(&r, &pi.pce_isvsvn) ||
        reader_u32le(&r, &id_size) || reader_u32le(&r, &svn_size))
        return QGS_E_TRUNCATED;
    if (h.error_code != 0) {
        *remote_error = h.error_code;
        return QGS_E_REMOTE;
    }
    if (len != QGS_GET_PLATFORM_INFO_RESP_SIZE || id_size != QGS_PLATFORM_ID_SIZE ||
        svn_size != QGS_CPUSVN_SIZE)
        return QGS_E_SIZE;
    if (reader_copy(&r, pi.platform_id, sizeof pi.platform_id) ||
        reader_copy(&r, pi.cpusvn, sizeof pi.cpusvn))
        return QGS_E_TRUNCATED;
    *out = pi;
    return QGS_OK;
}
