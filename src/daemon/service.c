/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service layer: aesmd's quote_ex semantics (aesm-protocol §6.5, §8, §9)
 * as a pure function from one request body to one response frame.
 *
 * socket → framing → [codec → service] → backend. service_handle() decodes
 * the Request (wire), picks the sub-message in aesmd's priority order,
 * dispatches through one table (tag, name, handler; STYLE.md: no class per
 * message), and encodes the matching Response sub-message with errorCode
 * always set — or, for requests it cannot answer, tells the caller to close
 * without writing (§1.3, §9.1 item 3). No sockets, no logging, no globals.
 */
#include "daemon/service.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sgx/reader.h"
#include "wire/wire.h"

/* Sizes the quote_ex calls insist on (aesm-protocol §6.1–6.4, §9.1 item 5). */
#define SVC_KEY_ID_SIZE 256u          /* sgx_att_key_id_t */
#define SVC_KEY_ID_BASE_SIZE 158u     /* sgx_ql_att_key_id_t: what is compared, §9.1 item 10 */
#define SVC_KEY_ID_ALG_OFFSET 154u    /* algorithm_id inside the base, §6.4 */
#define SVC_KEY_ID_LIST_HEADER 8u     /* sgx_ql_att_key_id_list_t header, §6.4 */
#define SVC_REPORT_SIZE 432u          /* sgx_report_t, §6.2 */
#define SVC_REPORT_MRENCLAVE_OFF 64u  /* §6.2 */
#define SVC_REPORT_MRSIGNER_OFF 128u  /* §6.2 */
#define SVC_QE_REPORT_INFO_SIZE 960u  /* sgx_qe_report_info_t, §6.3 */
#define SVC_TARGET_INFO_SIZE 512u     /* sgx_target_info_t, §6.1 */
#define SVC_PUB_KEY_ID_SIZE 32u       /* ECDSA_ID, §8.2 */
#define SVC_QUOTE_QE_SVN_OFF 8u       /* quote-format §2 header; pce_svn follows */
/* aesmd's "default quoting type" tie-breaker: ecdsa_256 unless
 * /etc/aesmd.conf says otherwise (§6.5); we do not read that file. */
#define SVC_DEFAULT_QUOTING_TYPE SGX_QL_ALG_ECDSA_P256

_Static_assert(sizeof(sgx_att_key_id_ext_t) == SVC_KEY_ID_SIZE, "key id");
_Static_assert(sizeof(sgx_ql_att_key_id_t) == SVC_KEY_ID_BASE_SIZE, "key id base");
_Static_assert(offsetof(sgx_ql_att_key_id_t, algorithm_id) == SVC_KEY_ID_ALG_OFFSET, "alg");
_Static_assert(sizeof(sgx_ql_att_key_id_list_header_t) == SVC_KEY_ID_LIST_HEADER, "list hdr");
_Static_assert(sizeof(sgx_report_t) == SVC_REPORT_SIZE, "report");
_Static_assert(offsetof(sgx_report_body_t, mr_enclave) == SVC_REPORT_MRENCLAVE_OFF, "mre");
_Static_assert(offsetof(sgx_report_body_t, mr_signer) == SVC_REPORT_MRSIGNER_OFF, "mrs");
_Static_assert(sizeof(sgx_qe_report_info_t) == SVC_QE_REPORT_INFO_SIZE, "qe report info");
_Static_assert(sizeof(sgx_target_info_t) == SVC_TARGET_INFO_SIZE, "target info");
_Static_assert(offsetof(sgx_quote_header_t, qe_svn) == SVC_QUOTE_QE_SVN_OFF, "qe_svn");
_Static_assert(offsetof(sgx_quote_header_t, pce_svn) == SVC_QUOTE_QE_SVN_OFF + 2, "pce_svn");

struct service {
    backend *b;
    service_config cfg;
    bool serialize; /* !b->ops->thread_safe: one backend call at a time */
    pthread_mutex_t lock;
    /* Key ids the backend offers, fetched once (aesmd collects them at
     * start-up, §6.5). Read-only afterwards, so shared by all threads. */
    sgx_att_key_id_ext_t key_ids[BACKEND_MAX_KEY_IDS];
    size_t n_key_ids;
};

/* ---- per-request context ---- */

#define SVC_MAX_OWNED 4

typedef struct {
    service *s;
    service_result *res;
    void *owned[SVC_MAX_OWNED]; /* response buffers, freed after packing */
    size_t n_owned;
} op_ctx;

/* Zeroed buffer that lives until the response is packed. */
static uint8_t *ctx_alloc(op_ctx *c, size_t n)
{
    uint8_t *p;

    if (c->n_owned == SVC_MAX_OWNED)
        return NULL;
    p = calloc(1, n > 0 ? n : 1);
    if (p != NULL)
        c->owned[c->n_owned++] = p;
    return p;
}

static void ctx_release(op_ctx *c)
{
    for (size_t i = 0; i < c->n_owned; i++)
        free(c->owned[i]);
    c->n_owned = 0;
}

static void backend_enter(service *s)
{
    if (s->serialize)
        pthread_mutex_lock(&s->lock);
}

static void backend_leave(service *s)
{
    if (s->serialize)
        pthread_mutex_unlock(&s->lock);
}

static void set_bytes(protobuf_c_boolean *has, ProtobufCBinaryData *field, uint8_t *data,
                      size_t len)
{
    *has = 1;
    field->data = data;
    field->len = len;
}

/* aesm §8.2 entry checks 3–4 (shared by init, size and quote): present and at
 * least 256 bytes, else 3; first 158 bytes equal to an offered id, else 38.
 * On success *out is the caller's own 256-byte entry. */
static aesm_error_t key_id_check(const service *s, protobuf_c_boolean has,
                                 const ProtobufCBinaryData *kid, sgx_att_key_id_ext_t *out)
{
    reader rd;
    const uint8_t *id = NULL;

    /* Longer is accepted; only the first 256 bytes are the key id. */
    if (!has || reader_init(&rd, kid->data, kid->len) != READER_OK ||
        reader_bytes(&rd, SVC_KEY_ID_SIZE, &id) != READER_OK)
        return AESM_PARAMETER_ERROR;
    for (size_t i = 0; i < s->n_key_ids; i++) {
        if (memcmp(id, &s->key_ids[i], SVC_KEY_ID_BASE_SIZE) == 0) {
            memcpy(out, id, SVC_KEY_ID_SIZE);
            return AESM_SUCCESS;
        }
    }
    return AESM_UNSUPPORTED_ATT_KEY_ID;
}

/* Copy a bytes field that must be exactly n bytes long. */
static bool copy_exact(const ProtobufCBinaryData *f, void *dst, size_t n)
{
    reader rd;

    return reader_init(&rd, f->data, f->len) == READER_OK && reader_copy(&rd, dst, n) == READER_OK &&
           reader_expect_end(&rd) == READER_OK;
}

/* ---- handlers: fill the response sub-message, return its errorCode ---- */

/* Legacy, launch and EPID calls (§3.4): an ECDSA-only aesmd answers every
 * one with its matching response and 30, and so do we. */
static aesm_error_t op_legacy(op_ctx *c, const ProtobufCMessage *reqm, ProtobufCMessage *respm)
{
    (void)c;
    (void)reqm;
    (void)respm;
    return AESM_SERVICE_UNAVAILABLE;
}

/* §6.5, §9.2: att_key_id_num is sent even on error. */
static aesm_error_t op_get_supported_num(op_ctx *c, const ProtobufCMessage *reqm,
                                         ProtobufCMessage *respm)
{
    (void)reqm;
    (void)respm; /* att_key_id_num: response_defaults() */
    return c->s->n_key_ids == 0 ? AESM_SERVICE_UNAVAILABLE : AESM_SUCCESS;
}

/* §6.5: buf_size must be exactly count × 256 (Fortanix insists on an exact
 * reply length), else 3. */
static aesm_error_t op_get_supported_ids(op_ctx *c, const ProtobufCMessage *reqm,
                                         ProtobufCMessage *respm)
{
    const Aesm__Request__GetSupportedAttKeyIDsRequest *q = (const void *)reqm;
    Aesm__Response__GetSupportedAttKeyIDsResponse *r = (void *)respm;
    service *s = c->s;
    size_t need = s->n_key_ids * SVC_KEY_ID_SIZE;
    uint8_t *buf;

    if (!q->has_buf_size)
        return AESM_UNEXPECTED_ERROR; /* required field missing, §9.2 */
    if (s->n_key_ids == 0)
        return AESM_SERVICE_UNAVAILABLE;
    if ((size_t)q->buf_size != need)
        return AESM_PARAMETER_ERROR;
    buf = ctx_alloc(c, need);
    if (buf == NULL)
        return AESM_OUT_OF_MEMORY_ERROR;
    memcpy(buf, s->key_ids, need);
    set_bytes(&r->has_att_key_ids, &r->att_key_ids, buf, need);
    return AESM_SUCCESS;
}

static uint32_t key_id_algorithm(const uint8_t entry[SVC_KEY_ID_SIZE])
{
    reader r;
    uint32_t alg = UINT32_MAX;

    if (reader_init(&r, entry, SVC_KEY_ID_SIZE) != READER_OK ||
        reader_skip(&r, SVC_KEY_ID_ALG_OFFSET) != READER_OK || reader_u32le(&r, &alg) != READER_OK)
        return UINT32_MAX;
    return alg;
}

/* §6.5 select_att_key_id: absent/empty list = every offered id; otherwise
 * validate the list (header id 0, version 0, 1 ≤ num ≤ 10, exact length),
 * keep every caller entry whose base matches an offered id (the caller's
 * full 256 bytes), none → 38, several → the first whose algorithm_id is
 * the default quoting type, else the first. */
static aesm_error_t op_select_att_key_id(op_ctx *c, const ProtobufCMessage *reqm,
                                         ProtobufCMessage *respm)
{
    const Aesm__Request__SelectAttKeyIDRequest *q = (const void *)reqm;
    Aesm__Response__SelectAttKeyIDResponse *r = (void *)respm;
    service *s = c->s;
    const uint8_t *cands[SGX_ATT_KEY_ID_LIST_MAX + BACKEND_MAX_KEY_IDS];
    size_t n_cands = 0;
    const uint8_t *pick;
    uint8_t *buf;

    if (s->n_key_ids == 0)
        return AESM_SERVICE_UNAVAILABLE;

    if (!q->has_att_key_id_list || q->att_key_id_list.len == 0) {
        for (size_t i = 0; i < s->n_key_ids; i++)
            cands[n_cands++] = (const uint8_t *)&s->key_ids[i];
    } else {
        reader rd;
        uint16_t id = 0, version = 0;
        uint32_t num = 0;

        if (reader_init(&rd, q->att_key_id_list.data, q->att_key_id_list.len) != READER_OK ||
            reader_u16le(&rd, &id) != READER_OK || reader_u16le(&rd, &version) != READER_OK ||
            reader_u32le(&rd, &num) != READER_OK)
            return AESM_PARAMETER_ERROR;
        if (id != 0 || version != 0 || num == 0 || num > SGX_ATT_KEY_ID_LIST_MAX)
            return AESM_PARAMETER_ERROR;
        if (reader_remaining(&rd) != (size_t)num * SVC_KEY_ID_SIZE)
            return AESM_PARAMETER_ERROR;
        for (uint32_t j = 0; j < num; j++) {
            const uint8_t *entry = NULL;
            if (reader_bytes(&rd, SVC_KEY_ID_SIZE, &entry) != READER_OK)
                return AESM_PARAMETER_ERROR;
            for (size_t i = 0; i < s->n_key_ids; i++) {
                if (memcmp(entry, &s->key_ids[i], SVC_KEY_ID_BASE_SIZE) == 0) {
                    cands[n_cands++] = entry;
                    break;
                }
            }
        }
    }
    if (n_cands == 0)
        return AESM_UNSUPPORTED_ATT_KEY_ID;

    pick = cands[0];
    for (size_t i = 0; i < n_cands; i++) {
        if (key_id_algorithm(cands[i]) == SVC_DEFAULT_QUOTING_TYPE) {
            pick = cands[i];
            break;
        }
    }
    buf = ctx_alloc(c, SVC_KEY_ID_SIZE);
    if (buf == NULL)
        return AESM_OUT_OF_MEMORY_ERROR;
    memcpy(buf, pick, SVC_KEY_ID_SIZE);
    set_bytes(&r->has_selected_att_key_id, &r->selected_att_key_id, buf, SVC_KEY_ID_SIZE);
    return AESM_SUCCESS;
}

/* §8.2. Size query (b_pub_key_id false): ignore buf_size (DCAP sends an
 * uninitialised one, §7), answer 512 zero bytes of target info and
 * pub_key_id_size 32, as aesmd does. Full init: buf_size must be exactly 32;
 * real target info + 32-byte pub_key_id. On any error pub_key_id_size
 * echoes the request's buf_size (or 0) and nothing else is sent. */
static aesm_error_t op_init_quote_ex(op_ctx *c, const ProtobufCMessage *reqm,
                                     ProtobufCMessage *respm)
{
    const Aesm__Request__InitQuoteExRequest *q = (const void *)reqm;
    Aesm__Response__InitQuoteExResponse *r = (void *)respm;
    service *s = c->s;
    sgx_att_key_id_ext_t kid;
    sgx_target_info_t ti;
    uint8_t pub_key_id[SVC_PUB_KEY_ID_SIZE];
    uint8_t *ti_buf, *pk_buf;
    aesm_error_t rc;

    /* pub_key_id_size echoes buf_size (or 0) until success: response_defaults() */
    if (!q->has_b_pub_key_id)
        return AESM_UNEXPECTED_ERROR; /* required field missing, §9.2 */
    if (s->n_key_ids == 0)
        return AESM_SERVICE_UNAVAILABLE;
    rc = key_id_check(s, q->has_att_key_id, &q->att_key_id, &kid);
    if (rc != AESM_SUCCESS)
        return rc;

    if (!q->b_pub_key_id) {
        ti_buf = ctx_alloc(c, SVC_TARGET_INFO_SIZE);
        if (ti_buf == NULL)
            return AESM_OUT_OF_MEMORY_ERROR;
        set_bytes(&r->has_target_info, &r->target_info, ti_buf, SVC_TARGET_INFO_SIZE);
        r->pub_key_id_size = SVC_PUB_KEY_ID_SIZE;
        return AESM_SUCCESS;
    }

    if (!q->has_buf_size || q->buf_size != SVC_PUB_KEY_ID_SIZE)
        return AESM_PARAMETER_ERROR;
    backend_enter(s);
    rc = s->b->ops->init_quote(s->b, &kid, &ti, pub_key_id);
    backend_leave(s);
    if (rc != AESM_SUCCESS)
        return rc;

    ti_buf = ctx_alloc(c, SVC_TARGET_INFO_SIZE);
    pk_buf = ctx_alloc(c, SVC_PUB_KEY_ID_SIZE);
    if (ti_buf == NULL || pk_buf == NULL)
        return AESM_OUT_OF_MEMORY_ERROR;
    memcpy(ti_buf, &ti, SVC_TARGET_INFO_SIZE);
    memcpy(pk_buf, pub_key_id, SVC_PUB_KEY_ID_SIZE);
    set_bytes(&r->has_target_info, &r->target_info, ti_buf, SVC_TARGET_INFO_SIZE);
    set_bytes(&r->has_pub_key_id, &r->pub_key_id, pk_buf, SVC_PUB_KEY_ID_SIZE);
    r->pub_key_id_size = SVC_PUB_KEY_ID_SIZE;
    return AESM_SUCCESS;
}

/* §8.3: the exact quote length; quote_size always present, 0 on error. */
static aesm_error_t op_get_quote_size_ex(op_ctx *c, const ProtobufCMessage *reqm,
                                         ProtobufCMessage *respm)
{
    const Aesm__Request__GetQuoteSizeExRequest *q = (const void *)reqm;
    Aesm__Response__GetQuoteSizeExResponse *r = (void *)respm;
    service *s = c->s;
    sgx_att_key_id_ext_t kid;
    uint32_t size = 0;
    aesm_error_t rc;

    /* quote_size is 0 until success: response_defaults() */
    if (s->n_key_ids == 0)
        return AESM_SERVICE_UNAVAILABLE;
    rc = key_id_check(s, q->has_att_key_id, &q->att_key_id, &kid);
    if (rc != AESM_SUCCESS)
        return rc;
    backend_enter(s);
    rc = s->b->ops->quote_size(s->b, &kid, &size);
    backend_leave(s);
    if (rc != AESM_SUCCESS)
        return rc;
    r->quote_size = size;
    return AESM_SUCCESS;
}

static void note_enclave(service_result *res, const ProtobufCBinaryData *report)
{
    reader rd;

    if (reader_init(&rd, report->data, report->len) != READER_OK ||
        reader_skip(&rd, SVC_REPORT_MRENCLAVE_OFF) != READER_OK ||
        reader_copy(&rd, res->mr_enclave, sizeof(res->mr_enclave)) != READER_OK ||
        reader_skip(&rd, SVC_REPORT_MRSIGNER_OFF - SVC_REPORT_MRENCLAVE_OFF - 32) != READER_OK ||
        reader_copy(&rd, res->mr_signer, sizeof(res->mr_signer)) != READER_OK)
        return;
    res->has_enclave = true;
}

/* quote-format §2 header: qe_svn at offset 8, pce_svn at 10 (metrics). */
static void note_svn(service_result *res, const uint8_t *quote, size_t len)
{
    reader rd;
    uint16_t qe = 0, pce = 0;

    if (reader_init(&rd, quote, len) != READER_OK ||
        reader_skip(&rd, SVC_QUOTE_QE_SVN_OFF) != READER_OK ||
        reader_u16le(&rd, &qe) != READER_OK || reader_u16le(&rd, &pce) != READER_OK)
        return;
    res->has_svn = true;
    res->qe_svn = qe;
    res->pce_svn = pce;
}

/* §8.4. Checks before any backend work: report exactly 432 (absent → 1),
 * qe_report_info exactly 960, key id (3/38). buf_size is capped by
 * max_buf_size before anything is allocated (§9.3): up to the cap the quote
 * is zero-padded to buf_size (aesmd style); above it the exact-size quote is
 * sent, which every client accepts (§9.1 item 9). Errors send no quote and
 * echo qe_report_info unchanged. */
static aesm_error_t op_get_quote_ex(op_ctx *c, const ProtobufCMessage *reqm,
                                    ProtobufCMessage *respm)
{
    const Aesm__Request__GetQuoteExRequest *q = (const void *)reqm;
    Aesm__Response__GetQuoteExResponse *r = (void *)respm;
    service *s = c->s;
    sgx_att_key_id_ext_t kid;
    sgx_report_t report;
    sgx_qe_report_info_t *qri = NULL;
    uint32_t alloc, quote_len = 0;
    bool pad;
    uint8_t *out;
    aesm_error_t rc;

    /* A well-formed qe_report_info is already echoed: response_defaults() */
    if (!q->has_report || !q->has_buf_size)
        return AESM_UNEXPECTED_ERROR; /* required fields missing, §9.2 */
    if (s->n_key_ids == 0)
        return AESM_SERVICE_UNAVAILABLE;
    if (q->report.len != SVC_REPORT_SIZE)
        return AESM_PARAMETER_ERROR;
    note_enclave(c->res, &q->report);
    if (q->has_qe_report_info && q->qe_report_info.len != SVC_QE_REPORT_INFO_SIZE)
        return AESM_PARAMETER_ERROR;
    rc = key_id_check(s, q->has_att_key_id, &q->att_key_id, &kid);
    if (rc != AESM_SUCCESS)
        return rc;

    pad = q->buf_size <= s->cfg.max_buf_size;
    alloc = q->buf_size;
    if (!pad) {
        uint32_t need = 0;
        backend_enter(s);
        rc = s->b->ops->quote_size(s->b, &kid, &need);
        backend_leave(s);
        if (rc != AESM_SUCCESS)
            return rc;
        if (need > SERVICE_QUOTE_MAX) /* no real quote is near this (§6.6) */
            return AESM_UNEXPECTED_ERROR;
        alloc = need < q->buf_size ? need : q->buf_size;
    }

    if (!copy_exact(&q->report, &report, SVC_REPORT_SIZE))
        return AESM_PARAMETER_ERROR;
    if (r->has_qe_report_info) {
        qri = (sgx_qe_report_info_t *)ctx_alloc(c, SVC_QE_REPORT_INFO_SIZE);
        if (qri == NULL)
            return AESM_OUT_OF_MEMORY_ERROR;
        if (!copy_exact(&q->qe_report_info, qri, SVC_QE_REPORT_INFO_SIZE))
            return AESM_PARAMETER_ERROR;
    }
    out = ctx_alloc(c, alloc); /* zero-filled: the padding */
    if (out == NULL)
        return AESM_OUT_OF_MEMORY_ERROR;

    backend_enter(s);
    rc = s->b->ops->get_quote(s->b, &kid, &report, qri, out, alloc, &quote_len);
    backend_leave(s);
    if (rc != AESM_SUCCESS)
        return rc;
    if (quote_len == 0 || quote_len > alloc)
        return AESM_UNEXPECTED_ERROR;

    set_bytes(&r->has_quote, &r->quote, out, pad ? q->buf_size : quote_len);
    note_svn(c->res, out, quote_len);
    if (qri != NULL)
        set_bytes(&r->has_qe_report_info, &r->qe_report_info, (uint8_t *)qri,
                  SVC_QE_REPORT_INFO_SIZE);
    return AESM_SUCCESS;
}

/* ---- dispatch ---- */

typedef aesm_error_t (*op_fn)(op_ctx *c, const ProtobufCMessage *req, ProtobufCMessage *resp);

typedef struct {
    unsigned tag;  /* same in Request and Response (§3.2) */
    const char *name;
    size_t req_off;  /* the sub-message pointer in Aesm__Request */
    size_t resp_off; /* ... and in Aesm__Response */
    const ProtobufCMessageDescriptor *resp_desc;
    op_fn fn;
} service_op;

#define OP(tag, name, reqf, resf, rdesc, fn)                                                        \
    {                                                                                              \
        tag, name, offsetof(Aesm__Request, reqf), offsetof(Aesm__Response, resf), &rdesc, fn       \
    }

/* In aesmd's priority order (§3.1, ProtobufSerializer): when several
 * sub-messages are set, the first one in this table wins. */
static const service_op SERVICE_OPS[] = {
    OP(3, "GetLaunchToken", getlictokenreq, getlictokenres,
       aesm__response__get_launch_token_response__descriptor, op_legacy),
    OP(1, "InitQuote", initquotereq, initquoteres, aesm__response__init_quote_response__descriptor,
       op_legacy),
    OP(2, "GetQuote", getquotereq, getquoteres, aesm__response__get_quote_response__descriptor,
       op_legacy),
    OP(4, "ReportAttestationError", reporterrreq, reporterrres,
       aesm__response__report_attestation_error_response__descriptor, op_legacy),
    OP(18, "CheckUpdateStatus", checkupdatestatusreq, checkupdatestatusres,
       aesm__response__check_update_status_response__descriptor, op_legacy),
    OP(10, "GetWhiteListSize", getwhitelistsizereq, getwhitelistsizeres,
       aesm__response__get_white_list_size_response__descriptor, op_legacy),
    OP(11, "GetWhiteList", getwhitelistreq, getwhitelistres,
       aesm__response__get_white_list_response__descriptor, op_legacy),
    OP(12, "SGXGetExtendedEpidGroupId", sgxgetextendedepidgroupidreq, sgxgetextendedepidgroupidres,
       aesm__response__sgxget_extended_epid_group_id_response__descriptor, op_legacy),
    OP(13, "SGXSwitchExtendedEpidGroup", sgxswitchextendedepidgroupreq,
       sgxswitchextendedepidgroupres,
       aesm__response__sgxswitch_extended_epid_group_response__descriptor, op_legacy),
    OP(14, "SGXRegister", sgxregisterreq, sgxregisterres,
       aesm__response__sgxregister_response__descriptor, op_legacy),
    OP(15, "InitQuoteEx", initquoteexreq, initquoteexres,
       aesm__response__init_quote_ex_response__descriptor, op_init_quote_ex),
    OP(16, "GetQuoteSizeEx", getquotesizeexreq, getquotesizeexres,
       aesm__response__get_quote_size_ex_response__descriptor, op_get_quote_size_ex),
    OP(17, "GetQuoteEx", getquoteexreq, getquoteexres,
       aesm__response__get_quote_ex_response__descriptor, op_get_quote_ex),
    OP(19, "SelectAttKeyID", selectattkeyidreq, selectattkeyidres,
       aesm__response__select_att_key_idresponse__descriptor, op_select_att_key_id),
    OP(21, "GetSupportedAttKeyIDNum", getsupportedattkeyidnumreq, getsupportedattkeyidnumres,
       aesm__response__get_supported_att_key_idnum_response__descriptor, op_get_supported_num),
    OP(22, "GetSupportedAttKeyIDs", getsupportedattkeyidsreq, getsupportedattkeyidsres,
       aesm__response__get_supported_att_key_ids_response__descriptor, op_get_supported_ids),
};

#define SERVICE_N_OPS (sizeof(SERVICE_OPS) / sizeof(SERVICE_OPS[0]))

static const ProtobufCMessage *request_sub(const Aesm__Request *req, const service_op *op)
{
    const ProtobufCMessage *const *slot =
        (const ProtobufCMessage *const *)(const void *)((const uint8_t *)req + op->req_off);
    return *slot;
}

/* errorCode is field 1 of every response sub-message (§3): an optional
 * uint32 in our schema, so "has" must be set for it to go on the wire. */
static const ProtobufCFieldDescriptor *error_code_field(const ProtobufCMessageDescriptor *d)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, 1);

    if (f == NULL || f->type != PROTOBUF_C_TYPE_UINT32 || f->label != PROTOBUF_C_LABEL_OPTIONAL)
        return NULL;
    return f;
}

static void set_error_code(ProtobufCMessage *m, uint32_t code)
{
    const ProtobufCFieldDescriptor *f = error_code_field(m->descriptor);
    uint8_t *base = (uint8_t *)m;

    /* service_new() verified f for every table entry. */
    *(protobuf_c_boolean *)(void *)(base + f->quantifier_offset) = 1;
    *(uint32_t *)(void *)(base + f->offset) = code;
}

/* Fields a response carries on every path, error or not, filled before the
 * handler runs (and on their own for a refused request): §6.5/§9.2
 * att_key_id_num; §8.2 pub_key_id_size echoing buf_size; §8.3 quote_size
 * 0; §8.4 the caller's qe_report_info echoed, but only a well-formed one:
 * a longer blob would overflow Intel's client (§4.4). Handlers overwrite
 * them on success. */
static void response_defaults(const service *s, const service_op *op,
                              const ProtobufCMessage *reqm, ProtobufCMessage *respm)
{
    switch (op->tag) {
    case 21: {
        Aesm__Response__GetSupportedAttKeyIDNumResponse *r = (void *)respm;
        r->has_att_key_id_num = 1;
        r->att_key_id_num = (uint32_t)s->n_key_ids;
        break;
    }
    case 15: {
        const Aesm__Request__InitQuoteExRequest *q = (const void *)reqm;
        Aesm__Response__InitQuoteExResponse *r = (void *)respm;
        r->has_pub_key_id_size = 1;
        r->pub_key_id_size = q->has_buf_size ? q->buf_size : 0;
        break;
    }
    case 16: {
        Aesm__Response__GetQuoteSizeExResponse *r = (void *)respm;
        r->has_quote_size = 1;
        r->quote_size = 0;
        break;
    }
    case 17: {
        const Aesm__Request__GetQuoteExRequest *q = (const void *)reqm;
        Aesm__Response__GetQuoteExResponse *r = (void *)respm;
        if (q->has_qe_report_info && q->qe_report_info.len == SVC_QE_REPORT_INFO_SIZE)
            set_bytes(&r->has_qe_report_info, &r->qe_report_info, q->qe_report_info.data,
                      q->qe_report_info.len);
        break;
    }
    default:
        break;
    }
}

/* ---- public API ---- */

void service_config_default(service_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_buf_size = SERVICE_DEFAULT_MAX_BUF_SIZE;
}

service *service_new(backend *b, const service_config *cfg)
{
    service *s;

    /* The reflective errorCode setter relies on the schema; check it once. */
    for (size_t i = 0; i < SERVICE_N_OPS; i++) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(&aesm__response__descriptor, SERVICE_OPS[i].tag);
        if (error_code_field(SERVICE_OPS[i].resp_desc) == NULL || f == NULL ||
            f->offset != SERVICE_OPS[i].resp_off || f->descriptor != SERVICE_OPS[i].resp_desc)
            return NULL;
    }

    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->b = b;
    if (cfg != NULL)
        s->cfg = *cfg;
    else
        service_config_default(&s->cfg);
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return NULL;
    }
    if (b != NULL && b->ops != NULL) {
        s->serialize = !b->ops->thread_safe;
        if (b->ops->key_ids != NULL) {
            size_t n = b->ops->key_ids(b, s->key_ids, BACKEND_MAX_KEY_IDS);
            s->n_key_ids = n > BACKEND_MAX_KEY_IDS ? BACKEND_MAX_KEY_IDS : n;
        }
    }
    /* No key ids (or no backend): every quote_ex call answers 30, as aesmd
     * does when no quote provider is loaded (§6.5). */
    return s;
}

void service_free(service *s)
{
    if (s == NULL)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void service_result_clear(service_result *res)
{
    if (res == NULL)
        return;
    free(res->frame);
    res->frame = NULL;
    res->frame_len = 0;
}

/* refuse_code 0: run the operation; else answer it with that code and no
 * backend call (service_refuse). */
static void handle(service *s, const uint8_t *body, size_t len, int refuse_code,
                   service_result *res)
{
    Aesm__Request *req = NULL;
    Aesm__Response resp = AESM__RESPONSE__INIT;
    ProtobufCMessage *sub_resp = NULL;
    const ProtobufCMessage *sub_req = NULL;
    const service_op *op = NULL;
    op_ctx ctx;
    aesm_error_t code;

    if (res == NULL)
        return;
    memset(res, 0, sizeof(*res));
    res->action = SERVICE_CLOSE;
    res->op = "unknown";
    res->aesm_code = -1;
    memset(&ctx, 0, sizeof(ctx));
    ctx.s = s;
    ctx.res = res;
    if (s == NULL)
        goto out;

    /* Unparsable, or no sub-message we know: close without writing
     * (§1.3); any frame we wrote instead could crash Intel's client (§2). */
    if (wire_request_decode(body, len, &req) != WIRE_OK)
        goto out;
    for (size_t i = 0; i < SERVICE_N_OPS && op == NULL; i++) {
        sub_req = request_sub(req, &SERVICE_OPS[i]);
        if (sub_req != NULL)
            op = &SERVICE_OPS[i];
    }
    if (op == NULL)
        goto out;
    res->op = op->name;

    /* The matching sub-message exists before the handler runs, so every
     * reply carries it (§9.1 item 3). */
    sub_resp = calloc(1, op->resp_desc->sizeof_message);
    if (sub_resp == NULL)
        goto out;
    protobuf_c_message_init(op->resp_desc, sub_resp);
    *(ProtobufCMessage **)(void *)((uint8_t *)&resp + op->resp_off) = sub_resp;

    response_defaults(s, op, sub_req, sub_resp);
    code = refuse_code != 0 ? (aesm_error_t)refuse_code : op->fn(&ctx, sub_req, sub_resp);
    set_error_code(sub_resp, (uint32_t)code);

    if (wire_frame_encode(&resp.base, &res->frame, &res->frame_len) != WIRE_OK)
        goto out;
    res->action = SERVICE_REPLY;
    res->aesm_code = (int)code;

out:
    ctx_release(&ctx);
    free(sub_resp);
    wire_request_free(req);
}

void service_handle(service *s, const uint8_t *body, size_t len, service_result *res)
{
    handle(s, body, len, 0, res);
}

void service_refuse(service *s, const uint8_t *body, size_t len, int code, service_result *res)
{
    /* 0 would mean "run it"; a refusal with success makes no sense. */
    handle(s, body, len, code != 0 ? code : AESM_UNEXPECTED_ERROR, res);
}

bool service_needs_backend(const uint8_t *body, size_t len)
{
    Aesm__Request *req = NULL;
    bool needs;

    if (wire_request_decode(body, len, &req) != WIRE_OK)
        return false; /* closed unanswered by service_handle */
    needs = req->getquotesizeexreq != NULL || req->getquoteexreq != NULL ||
            (req->initquoteexreq != NULL && req->initquoteexreq->has_b_pub_key_id &&
             req->initquoteexreq->b_pub_key_id);
    wire_request_free(req);
    return needs;
}

bool service_nonblocking(const service *s)
{
    return s->b->ops->nonblocking;
}
