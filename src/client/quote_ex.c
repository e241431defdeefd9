/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The quote_ex calls, client side: caller arguments → Intel's request
 * (aesm §4.1–4.6, the exact fields Intel's library sends) → transport →
 * response fields copied back under Intel's rules (a field longer than the
 * caller's buffer is an error, a shorter one is copied as is, fields are
 * copied whatever the errorCode) → errorCode mapped to sgx_status_t with
 * the common table and each call's own table (aesm §5.3, §4). Where Intel's
 * library would crash (no matching sub-message, §2) we return UNEXPECTED.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/client_internal.h"
#include "sgx/reader.h"
#include "wire/wire.h"

/* Response bodies we accept: the largest fixed-size reply (InitQuoteEx,
 * 556 bytes, aesm §3.6) with room to spare; quote-carrying replies add the
 * caller's buffer size. */
#define RESP_SMALL_MAX 4096u
#define REPORT_SIZE 432u       /* aesm §6.2 */
#define TARGET_INFO_SIZE 512u  /* aesm §6.1 */
#define QE_REPORT_INFO_SIZE 960u /* aesm §6.3 */
#define KEY_ID_SIZE 256u       /* aesm §6.4 */
#define PUB_KEY_ID_SIZE_MAX ((size_t)UINT32_MAX) /* aesm §4.2: >= UINT32_MAX is invalid */

_Static_assert(sizeof(sgx_report_t) == REPORT_SIZE, "report size");
_Static_assert(sizeof(sgx_target_info_t) == TARGET_INFO_SIZE, "target info size");
_Static_assert(sizeof(sgx_qe_report_info_t) == QE_REPORT_INFO_SIZE, "qe_report_info size");
_Static_assert(sizeof(sgx_att_key_id_t) == KEY_ID_SIZE, "key id size");

typedef struct {
    uint32_t aesm;
    sgx_status_t status;
} code_map;

/* aesm §5.3 (oal_map_result). */
static sgx_status_t map_common(uint32_t code)
{
    switch (code) {
    case 0:
        return SGX_SUCCESS;
    case 1:
        return SGX_ERROR_UNEXPECTED;
    case 2:
        return SGX_ERROR_NO_DEVICE;
    case 3:
        return SGX_ERROR_INVALID_PARAMETER;
    case 12:
    case 13:
    case 14:
        return SGX_ERROR_NETWORK_FAILURE;
    case 17:
    case 30:
    case 46:
    case 48:
        return SGX_ERROR_SERVICE_UNAVAILABLE;
    case 18:
        return SGX_ERROR_BUSY;
    case 20:
        return SGX_ERROR_UPDATE_NEEDED;
    case 21:
        return SGX_ERROR_OUT_OF_MEMORY;
    case 31:
        return SGX_ERROR_UNRECOGNIZED_PLATFORM;
    default:
        return SGX_ERROR_UNEXPECTED;
    }
}

/* The per-API table applies only when the common one gave UNEXPECTED for
 * a code other than 1 (aesm §4.0 step 6). */
static sgx_status_t map_code(uint32_t code, const code_map *extra, size_t n)
{
    sgx_status_t s = map_common(code);
    if (s != SGX_ERROR_UNEXPECTED || code == 1)
        return s;
    for (size_t i = 0; i < n; i++) {
        if (extra[i].aesm == code)
            return extra[i].status;
    }
    return SGX_ERROR_UNEXPECTED;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* aesm §4.1 */
static const code_map SELECT_MAP[] = {{38, SGX_ERROR_UNSUPPORTED_ATT_KEY_ID}};
/* aesm §4.2 */
static const code_map INIT_MAP[] = {
    {38, SGX_ERROR_UNSUPPORTED_ATT_KEY_ID}, {50, SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE},
    {44, SGX_ERROR_PLATFORM_CERT_UNAVAILABLE}, {4, SGX_ERROR_AE_INVALID_EPIDBLOB},
    {5, SGX_ERROR_EPID_MEMBER_REVOKED}, {19, SGX_ERROR_BUSY},
    {16, SGX_ERROR_UNEXPECTED}, {29, SGX_ERROR_OUT_OF_EPC},
};
/* aesm §4.3 */
static const code_map SIZE_MAP[] = {
    {42, SGX_ERROR_ATT_KEY_UNINITIALIZED}, {43, SGX_ERROR_UNEXPECTED},
    {38, SGX_ERROR_UNSUPPORTED_ATT_KEY_ID},
};
/* aesm §4.4 */
static const code_map QUOTE_MAP[] = {
    {42, SGX_ERROR_ATT_KEY_UNINITIALIZED}, {43, SGX_ERROR_UNEXPECTED},
    {38, SGX_ERROR_UNSUPPORTED_ATT_KEY_ID}, {45, SGX_ERROR_MAC_MISMATCH},
    {47, SGX_ERROR_MAC_MISMATCH}, {49, SGX_ERROR_UNEXPECTED},
    {4, SGX_ERROR_AE_INVALID_EPIDBLOB}, {5, SGX_ERROR_EPID_MEMBER_REVOKED},
    {19, SGX_ERROR_BUSY}, {16, SGX_ERROR_UNEXPECTED}, {29, SGX_ERROR_OUT_OF_EPC},
};

/* Encode, exchange, decode. On success *out holds the decoded Response. */
static sgx_status_t exchange(const client_opts *o, const Aesm__Request *req, size_t max_resp,
                             Aesm__Response **out)
{
    uint8_t *frame = NULL, *body = NULL;
    size_t frame_len = 0, body_len = 0;
    sgx_status_t st;

    if (wire_frame_encode(&req->base, &frame, &frame_len) != WIRE_OK) {
        st = SGX_ERROR_UNEXPECTED;
        goto out;
    }
    int rc = client_transact(o, frame, frame_len, max_resp, &body, &body_len);
    if (rc != CLIENT_OK) {
        st = client_err_to_sgx(rc);
        goto out;
    }
    st = wire_response_decode(body, body_len, out) == WIRE_OK ? SGX_SUCCESS
                                                               : SGX_ERROR_UNEXPECTED;
out:
    free(frame);
    free(body);
    return st;
}

static ProtobufCBinaryData bytes_of(const void *p, size_t n)
{
    ProtobufCBinaryData b = {.len = n, .data = (uint8_t *)(uintptr_t)p};
    return b;
}

/* Copies a response field into dst[0, cap); false when it is longer (a
 * response the client cannot have asked for). protobuf-c leaves .data NULL
 * for an empty field, and memcpy from NULL is undefined even for zero bytes
 * (found by fuzz_client_response). */
static bool copy_field(void *dst, size_t cap, const ProtobufCBinaryData *field)
{
    if (field->len > cap)
        return false;
    if (field->len > 0)
        memcpy(dst, field->data, field->len);
    return true;
}

sgx_status_t client_select_att_key_id(const client_opts *o, const uint8_t *p_att_key_id_list,
                                      uint32_t att_key_id_list_size,
                                      sgx_att_key_id_t *p_selected_key_id)
{
    if ((p_att_key_id_list == NULL && att_key_id_list_size != 0) || p_selected_key_id == NULL)
        return SGX_ERROR_INVALID_PARAMETER;
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__SelectAttKeyIDRequest sub = AESM__REQUEST__SELECT_ATT_KEY_IDREQUEST__INIT;
    if (p_att_key_id_list != NULL && att_key_id_list_size != 0) {
        sub.has_att_key_id_list = true;
        sub.att_key_id_list = bytes_of(p_att_key_id_list, att_key_id_list_size);
    }
    sub.has_timeout = true;
    sub.timeout = CLIENT_REQUEST_TIMEOUT_FIELD;
    req.selectattkeyidreq = &sub;

    Aesm__Response *resp = NULL;
    sgx_status_t st = exchange(o, &req, RESP_SMALL_MAX, &resp);
    if (st != SGX_SUCCESS)
        return st;
    st = client_apply_select(resp, p_selected_key_id);
    wire_response_free(resp);
    return st;
}

sgx_status_t client_apply_select(const Aesm__Response *resp, sgx_att_key_id_t *p_selected_key_id)
{
    const Aesm__Response__SelectAttKeyIDResponse *r = resp->selectattkeyidres;
    if (r == NULL)
        return SGX_ERROR_UNEXPECTED;
    if (r->has_selected_att_key_id &&
        !copy_field(p_selected_key_id, sizeof *p_selected_key_id, &r->selected_att_key_id))
        return SGX_ERROR_UNEXPECTED;
    return map_code(r->errorcode, SELECT_MAP, N_OF(SELECT_MAP));
}

sgx_status_t client_init_quote_ex(const client_opts *o, const sgx_att_key_id_t *p_att_key_id,
                                  sgx_target_info_t *p_qe_target_info,
                                  size_t *p_pub_key_id_size, uint8_t *p_pub_key_id)
{
    if (p_pub_key_id_size == NULL || p_qe_target_info == NULL || p_att_key_id == NULL)
        return SGX_ERROR_INVALID_PARAMETER;
    if (p_pub_key_id != NULL &&
        (*p_pub_key_id_size == 0 || *p_pub_key_id_size >= PUB_KEY_ID_SIZE_MAX))
        return SGX_ERROR_INVALID_PARAMETER;
    size_t buf_size = *p_pub_key_id_size;

    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__InitQuoteExRequest sub = AESM__REQUEST__INIT_QUOTE_EX_REQUEST__INIT;
    sub.has_att_key_id = true;
    sub.att_key_id = bytes_of(p_att_key_id, KEY_ID_SIZE);
    sub.has_b_pub_key_id = true;
    sub.b_pub_key_id = p_pub_key_id != NULL;
    /* Sent whenever non-zero, even on the size query (aesm §3.3, §7). */
    if (buf_size != 0) {
        sub.has_buf_size = true;
        sub.buf_size = (uint64_t)buf_size;
    }
    sub.has_timeout = true;
    sub.timeout = CLIENT_REQUEST_TIMEOUT_FIELD;
    req.initquoteexreq = &sub;

    Aesm__Response *resp = NULL;
    sgx_status_t st = exchange(o, &req, RESP_SMALL_MAX, &resp);
    if (st != SGX_SUCCESS)
        return st;
    st = client_apply_init(resp, buf_size, p_qe_target_info, p_pub_key_id_size, p_pub_key_id);
    wire_response_free(resp);
    return st;
}

sgx_status_t client_apply_init(const Aesm__Response *resp, size_t buf_size,
                               sgx_target_info_t *p_qe_target_info, size_t *p_pub_key_id_size,
                               uint8_t *p_pub_key_id)
{
    const Aesm__Response__InitQuoteExResponse *r = resp->initquoteexres;
    if (r == NULL)
        return SGX_ERROR_UNEXPECTED;
    if (r->has_target_info && !copy_field(p_qe_target_info, TARGET_INFO_SIZE, &r->target_info))
        return SGX_ERROR_UNEXPECTED;
    if (r->has_pub_key_id_size)
        *p_pub_key_id_size = (size_t)r->pub_key_id_size;
    /* Copied only when its length matches the size just returned; a
     * mismatch is silently ignored (aesm §4.2 step 3). */
    if (r->has_pub_key_id && r->pub_key_id.len == *p_pub_key_id_size && p_pub_key_id != NULL &&
        !copy_field(p_pub_key_id, buf_size, &r->pub_key_id))
        return SGX_ERROR_UNEXPECTED;
    return map_code(r->errorcode, INIT_MAP, N_OF(INIT_MAP));
}

sgx_status_t client_get_quote_size_ex(const client_opts *o, const sgx_att_key_id_t *p_att_key_id,
                                      uint32_t *p_quote_size)
{
    if (p_quote_size == NULL)
        return SGX_ERROR_INVALID_PARAMETER;
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__GetQuoteSizeExRequest sub = AESM__REQUEST__GET_QUOTE_SIZE_EX_REQUEST__INIT;
    if (p_att_key_id != NULL) {
        sub.has_att_key_id = true;
        sub.att_key_id = bytes_of(p_att_key_id, KEY_ID_SIZE);
    }
    sub.has_timeout = true;
    sub.timeout = CLIENT_REQUEST_TIMEOUT_FIELD;
    req.getquotesizeexreq = &sub;

    Aesm__Response *resp = NULL;
    sgx_status_t st = exchange(o, &req, RESP_SMALL_MAX, &resp);
    if (st != SGX_SUCCESS)
        return st;
    st = client_apply_size(resp, p_quote_size);
    wire_response_free(resp);
    return st;
}

sgx_status_t client_apply_size(const Aesm__Response *resp, uint32_t *p_quote_size)
{
    const Aesm__Response__GetQuoteSizeExResponse *r = resp->getquotesizeexres;
    if (r == NULL)
        return SGX_ERROR_UNEXPECTED;
    /* Assigned unconditionally, 0 when absent (aesm §4.3). */
    *p_quote_size = r->has_quote_size ? r->quote_size : 0;
    return map_code(r->errorcode, SIZE_MAP, N_OF(SIZE_MAP));
}

sgx_status_t client_get_quote_ex(const client_opts *o, const sgx_report_t *p_app_report,
                                 const sgx_att_key_id_t *p_att_key_id,
                                 sgx_qe_report_info_t *p_qe_report_info, uint8_t *p_quote,
                                 uint32_t quote_size)
{
    if (p_app_report == NULL || p_att_key_id == NULL || p_quote == NULL || quote_size == 0)
        return SGX_ERROR_INVALID_PARAMETER;
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__GetQuoteExRequest sub = AESM__REQUEST__GET_QUOTE_EX_REQUEST__INIT;
    sub.has_report = true;
    sub.report = bytes_of(p_app_report, REPORT_SIZE);
    sub.has_att_key_id = true;
    sub.att_key_id = bytes_of(p_att_key_id, KEY_ID_SIZE);
    if (p_qe_report_info != NULL) {
        sub.has_qe_report_info = true;
        sub.qe_report_info = bytes_of(p_qe_report_info, QE_REPORT_INFO_SIZE);
    }
    sub.has_buf_size = true;
    sub.buf_size = quote_size;
    sub.has_timeout = true;
    sub.timeout = CLIENT_REQUEST_TIMEOUT_FIELD;
    req.getquoteexreq = &sub;

    Aesm__Response *resp = NULL;
    size_t max_resp = (size_t)quote_size + QE_REPORT_INFO_SIZE + RESP_SMALL_MAX;
    sgx_status_t st = exchange(o, &req, max_resp, &resp);
    if (st != SGX_SUCCESS)
        return st;
    st = client_apply_quote(resp, p_qe_report_info, p_quote, quote_size);
    wire_response_free(resp);
    return st;
}

sgx_status_t client_apply_quote(const Aesm__Response *resp, sgx_qe_report_info_t *p_qe_report_info,
                                uint8_t *p_quote, uint32_t quote_size)
{
    const Aesm__Response__GetQuoteExResponse *r = resp->getquoteexres;
    if (r == NULL)
        return SGX_ERROR_UNEXPECTED;
    if (r->has_quote && !copy_field(p_quote, quote_size, &r->quote))
        return SGX_ERROR_UNEXPECTED;
    if (r->has_qe_report_info && p_qe_report_info != NULL &&
        !copy_field(p_qe_report_info, QE_REPORT_INFO_SIZE, &r->qe_report_info))
        return SGX_ERROR_UNEXPECTED;
    return map_code(r->errorcode, QUOTE_MAP, N_OF(QUOTE_MAP));
}

sgx_status_t client_get_supported_att_key_id_num(const client_opts *o, uint32_t *p_num)
{
    if (p_num == NULL)
        return SGX_ERROR_INVALID_PARAMETER;
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__GetSupportedAttKeyIDNumRequest sub =
        AESM__REQUEST__GET_SUPPORTED_ATT_KEY_IDNUM_REQUEST__INIT;
    sub.has_timeout = true;
    sub.timeout = CLIENT_REQUEST_TIMEOUT_FIELD;
    req.getsupportedattkeyidnumreq = &sub;

    Aesm__Response *resp = NULL;
    sgx_status_t st = exchange(o, &req, RESP_SMALL_MAX, &resp);
    if (st != SGX_SUCCESS)
        return st;
    st = client_apply_num(resp, p_num);
    wire_response_free(resp);
    return st;
}

sgx_status_t client_apply_num(const Aesm__Response *resp, uint32_t *p_num)
{
    const Aesm__Response__GetSupportedAttKeyIDNumResponse *r = resp->getsupportedattkeyidnumres;
    if (r == NULL)
        return SGX_ERROR_UNEXPECTED;
    *p_num = r->has_att_key_id_num ? r->att_key_id_num : 0; /* aesm §4.5 */
    return map_code(r->errorcode, NULL, 0);
}

sgx_status_t client_get_supported_att_key_ids(const client_opts *o,
                                              sgx_att_key_id_ext_t *p_att_key_id_list,
                                              uint32_t att_key_id_num)
{
    if (p_att_key_id_list == NULL || att_key_id_num == 0 ||
        (uint64_t)att_key_id_num * KEY_ID_SIZE > UINT32_MAX)
        return SGX_ERROR_INVALID_PARAMETER;
    uint32_t buf_size = att_key_id_num * KEY_ID_SIZE;
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__GetSupportedAttKeyIDsRequest sub =
        AESM__REQUEST__GET_SUPPORTED_ATT_KEY_IDS_REQUEST__INIT;
    sub.has_buf_size = true;
    sub.buf_size = buf_size;
    sub.has_timeout = true;
    sub.timeout = CLIENT_REQUEST_TIMEOUT_FIELD;
    req.getsupportedattkeyidsreq = &sub;

    Aesm__Response *resp = NULL;
    sgx_status_t st = exchange(o, &req, (size_t)buf_size + RESP_SMALL_MAX, &resp);
    if (st != SGX_SUCCESS)
        return st;
    st = client_apply_ids(resp, p_att_key_id_list, buf_size);
    wire_response_free(resp);
    return st;
}

sgx_status_t client_apply_ids(const Aesm__Response *resp, sgx_att_key_id_ext_t *p_att_key_id_list,
                              uint32_t buf_size)
{
    const Aesm__Response__GetSupportedAttKeyIDsResponse *r = resp->getsupportedattkeyidsres;
    if (r == NULL)
        return SGX_ERROR_UNEXPECTED;
    if (r->has_att_key_ids && !copy_field(p_att_key_id_list, buf_size, &r->att_key_ids))
        return SGX_ERROR_UNEXPECTED;
    return map_code(r->errorcode, NULL, 0);
}

void client_default_ecdsa_key_id(sgx_att_key_id_t *out)
{
    /* aesm §6.4: id 0, version 0, mrsigner_length 32, QE3 MRSIGNER,
     * prod_id 1, algorithm_id 2 (ECDSA-P256), everything else zero. */
    sgx_att_key_id_ext_t k;
    memset(&k, 0, sizeof k);
    k.base.mrsigner_length = 32;
    memcpy(k.base.mrsigner, SGX_QE3_MRSIGNER, 32);
    k.base.prod_id = 1;
    k.base.algorithm_id = SGX_QL_ALG_ECDSA_P256;
    memcpy(out, &k, sizeof *out);
}

size_t client_quote_length(const uint8_t *quote, size_t buf_len)
{
    reader r;
    uint32_t sig_len = 0;
    /* aesm §6.6: signature_data_len is the u32 at offset 432. */
    if (reader_init(&r, quote, buf_len) != READER_OK || reader_skip(&r, 432) != READER_OK ||
        reader_u32le(&r, &sig_len) != READER_OK)
        return 0;
    if ((size_t)sig_len > reader_remaining(&r))
        return 0;
    return 436 + (size_t)sig_len;
}

const char *sgx_status_name(sgx_status_t s)
{
    switch (s) {
    case SGX_SUCCESS: return "SGX_SUCCESS";
    case SGX_ERROR_UNEXPECTED: return "SGX_ERROR_UNEXPECTED";
    case SGX_ERROR_INVALID_PARAMETER: return "SGX_ERROR_INVALID_PARAMETER";
    case SGX_ERROR_OUT_OF_MEMORY: return "SGX_ERROR_OUT_OF_MEMORY";
    case SGX_ERROR_OUT_OF_EPC: return "SGX_ERROR_OUT_OF_EPC";
    case SGX_ERROR_NO_DEVICE: return "SGX_ERROR_NO_DEVICE";
    case SGX_ERROR_MAC_MISMATCH: return "SGX_ERROR_MAC_MISMATCH";
    case SGX_ERROR_SERVICE_UNAVAILABLE: return "SGX_ERROR_SERVICE_UNAVAILABLE";
    case SGX_ERROR_SERVICE_TIMEOUT: return "SGX_ERROR_SERVICE_TIMEOUT";
    case SGX_ERROR_AE_INVALID_EPIDBLOB: return "SGX_ERROR_AE_INVALID_EPIDBLOB";
    case SGX_ERROR_SERVICE_INVALID_PRIVILEGE: return "SGX_ERROR_SERVICE_INVALID_PRIVILEGE";
    case SGX_ERROR_EPID_MEMBER_REVOKED: return "SGX_ERROR_EPID_MEMBER_REVOKED";
    case SGX_ERROR_UPDATE_NEEDED: return "SGX_ERROR_UPDATE_NEEDED";
    case SGX_ERROR_NETWORK_FAILURE: return "SGX_ERROR_NETWORK_FAILURE";
    case SGX_ERROR_BUSY: return "SGX_ERROR_BUSY";
    case SGX_ERROR_UNRECOGNIZED_PLATFORM: return "SGX_ERROR_UNRECOGNIZED_PLATFORM";
    case SGX_ERROR_UNSUPPORTED_CONFIG: return "SGX_ERROR_UNSUPPORTED_CONFIG";
    case SGX_ERROR_UNSUPPORTED_ATT_KEY_ID: return "SGX_ERROR_UNSUPPORTED_ATT_KEY_ID";
    case SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE: return "SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE";
    case SGX_ERROR_ATT_KEY_UNINITIALIZED: return "SGX_ERROR_ATT_KEY_UNINITIALIZED";
    case SGX_ERROR_INVALID_ATT_KEY_CERT_DATA: return "SGX_ERROR_INVALID_ATT_KEY_CERT_DATA";
    case SGX_ERROR_PLATFORM_CERT_UNAVAILABLE: return "SGX_ERROR_PLATFORM_CERT_UNAVAILABLE";
    }
    return "SGX_ERROR_UNKNOWN";
}
