/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QGS request handling (qgs_service.h): framing -> codec -> backend ->
 * encoded reply. What goes on the wire matches Intel's QGS (DCAP 1.21+):
 * a malformed body of a known request, or any backend failure, gets that
 * type's error reply with the only code QGS sends, QGS_MSG_ERROR_UNEXPECTED;
 * a message that cannot be dispatched, or a failed raw request, gets a
 * close with no bytes. Replies never exceed what libtdx_attest accepts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qgs/qgs_service.h"

void qgs_collateral_data_free(qgs_collateral_data *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < QGS_COLLATERAL_ITEMS; i++)
        free(c->item[i]);
    memset(c, 0, sizeof *c);
}

void qgs_result_free(qgs_result *r)
{
    if (r == NULL)
        return;
    free(r->reply);
    r->reply = NULL;
    r->reply_len = 0;
}

static void failed(qgs_result *res, const char *result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void failed(qgs_result *res, const char *result, const char *fmt, ...)
{
    va_list ap;
    res->ok = 0;
    res->result = result;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof res->detail, fmt, ap);
    va_end(ap);
}

/* The error reply of a request type (sizes zero). */
static void error_reply(qgs_result *res, uint32_t type, bool pad_minor0)
{
    int rc;
    switch (type) {
    case QGS_GET_QUOTE_REQ:
        rc = qgs_encode_get_quote_resp(QGS_MSG_ERROR_UNEXPECTED, NULL, 0, &res->reply,
                                       &res->reply_len);
        break;
    case QGS_GET_COLLATERAL_REQ:
        rc = qgs_encode_get_collateral_resp(QGS_MSG_ERROR_UNEXPECTED, NULL, pad_minor0,
                                            &res->reply, &res->reply_len);
        break;
    default:
        rc = qgs_encode_get_platform_info_resp(QGS_MSG_ERROR_UNEXPECTED, NULL, &res->reply,
                                               &res->reply_len);
        break;
    }
    if (rc != QGS_OK) { /* out of memory: close instead */
        res->reply = NULL;
        res->reply_len = 0;
    }
}

static const char *op_name(uint32_t type)
{
    switch (type) {
    case QGS_GET_QUOTE_REQ: return "GetQuote";
    case QGS_GET_COLLATERAL_REQ: return "GetCollateral";
    case QGS_GET_PLATFORM_INFO_REQ: return "GetPlatformInfo";
    default: return "Invalid";
    }
}

static void get_quote(const qgs_backend *b, const qgs_request *q, qgs_result *res)
{
    uint8_t *quote = NULL;
    size_t quote_len = 0;
    char err[192] = "";
    /* The attestation-key ID list is ignored, as QGS does: there is one key. */
    int rc = b->get_quote(b->ctx, q->report, q->report_size, &quote, &quote_len, err, sizeof err);
    if (rc != 0) {
        failed(res, "backend", "%s", err);
    } else if (quote_len + QGS_GET_QUOTE_FIXED > QGS_REPLY_LEN_MAX) {
        failed(res, "QGS_E_TOO_LARGE", "a %zu-byte quote exceeds the %u-byte reply clients accept",
               quote_len, QGS_REPLY_LEN_MAX);
    } else if (qgs_encode_get_quote_resp(0, quote, (uint32_t)quote_len, &res->reply,
                                         &res->reply_len) != QGS_OK) {
        failed(res, "QGS_E_NOMEM", "out of memory encoding the reply");
    } else {
        res->ok = 1;
        res->result = "ok";
    }
    free(quote);
}

static void get_collateral(const qgs_backend *b, const qgs_request *q, qgs_result *res)
{
    qgs_collateral_data data;
    char err[192] = "";
    memset(&data, 0, sizeof data);
    int rc = b->get_collateral(b->ctx, q->fmspc, q->fmspc_size, q->pck_ca, &data, err, sizeof err);
    if (rc != 0) {
        failed(res, "backend", "%s", err);
        return;
    }
    qgs_collateral c = {.major = data.major, .minor = data.minor};
    for (unsigned i = 0; i < QGS_COLLATERAL_ITEMS; i++) {
        c.item[i] = data.item[i];
        c.size[i] = data.size[i];
    }
    if (qgs_encode_get_collateral_resp(0, &c, q->hdr.minor == 0, &res->reply, &res->reply_len) !=
        QGS_OK) {
        failed(res, "QGS_E_NOMEM", "encoding the collateral reply failed");
    } else {
        res->ok = 1;
        res->result = "ok";
    }
    qgs_collateral_data_free(&data);
}

static void get_platform_info(const qgs_backend *b, qgs_result *res)
{
    qgs_platform_info info;
    char err[192] = "";
    memset(&info, 0, sizeof info);
    if (b->get_platform_info(b->ctx, &info, err, sizeof err) != 0) {
        failed(res, "backend", "%s", err);
        return;
    }
    if (qgs_encode_get_platform_info_resp(0, &info, &res->reply, &res->reply_len) != QGS_OK) {
        failed(res, "QGS_E_NOMEM", "out of memory encoding the reply");
        return;
    }
    res->ok = 1;
    res->result = "ok";
}

static void raw_get_quote(const qgs_backend *b, const uint8_t *report, size_t len,
                          qgs_result *res)
{
    uint8_t *quote = NULL;
    size_t quote_len = 0;
    char err[192] = "";
    res->op = "RawGetQuote";
    if (b->get_quote(b->ctx, report, len, &quote, &quote_len, err, sizeof err) != 0) {
        failed(res, "backend", "%s", err);
    } else if (quote_len > QGS_RAW_QUOTE_MAX) {
        /* The guest's 8 KiB buffer would truncate it: a close is honest. */
        failed(res, "QGS_E_TOO_LARGE", "a %zu-byte quote exceeds the %u bytes of the raw path",
               quote_len, QGS_RAW_QUOTE_MAX);
    } else {
        res->reply = quote; /* the bare quote, no prefix, then close */
        res->reply_len = quote_len;
        quote = NULL;
        res->ok = 1;
        res->result = "ok";
    }
    free(quote);
}

void qgs_service_handle(const qgs_backend *b, const uint8_t *req, size_t len, qgs_result *res)
{
    size_t need = 0;
    qgs_request q;
    memset(res, 0, sizeof *res);
    res->op = "Invalid";
    res->result = "QGS_E_FRAME";

    qgs_frame_kind kind = req != NULL ? qgs_frame_classify(req, len, &need) : QGS_FRAME_INVALID;
    if (kind == QGS_FRAME_RAW && len == QGS_RAW_REPORT_SIZE) {
        raw_get_quote(b, req, len, res);
        return;
    }
    if (kind != QGS_FRAME_FRAMED || need != len) {
        failed(res, "QGS_E_FRAME",
               "neither a length-prefixed qgs_msg nor a bare 1024-byte TDREPORT (%zu bytes)", len);
        return;
    }
    const uint8_t *msg = req + QGS_FRAME_PREFIX_SIZE;
    size_t msg_len = len - QGS_FRAME_PREFIX_SIZE;
    int rc = qgs_request_decode(msg, msg_len, &q);
    if (rc == QGS_E_VERSION || rc == QGS_E_TYPE) {
        /* Cannot be dispatched: QGS closes without a reply. */
        failed(res, qgs_err_name(rc), "%s", qgs_strerror(rc));
        return;
    }
    res->op = op_name(q.hdr.type);
    if (rc != QGS_OK) {
        failed(res, qgs_err_name(rc), "%s", qgs_strerror(rc));
        error_reply(res, q.hdr.type, q.hdr.minor == 0);
        return;
    }
    switch (q.hdr.type) {
    case QGS_GET_QUOTE_REQ: get_quote(b, &q, res); break;
    case QGS_GET_COLLATERAL_REQ: get_collateral(b, &q, res); break;
    default: get_platform_info(b, res); break;
    }
    if (!res->ok && res->reply == NULL)
        error_reply(res, q.hdr.type, q.hdr.minor == 0);
}
