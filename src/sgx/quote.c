/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECDSA quote codec: quote_parse (v3/v4/v5, SGX and TDX) and the v3 builder.
 *
 * Parsing sits between whoever holds quote bytes (CLI inspect/verify, the
 * verifier, the daemon's self-checks) and everything that judges a quote: it
 * only checks structure (quote-format §1–2, §7.4 row 2 minus the vendor id)
 * and hands back a quote_view of pointers into the caller's buffer. The
 * builder is what the simulated and hardware backends use to lay out a v3
 * quote before the attestation key signs bytes [0, 432).
 */
#include <string.h>

#include "le.h"
#include "reader.h"
#include "sgxqh/quote.h"

/* Layout constants, quote-format §1–2. */
#define QUOTE_HEADER_SIZE 48u        /* §1.2 */
#define QUOTE_V5_BODY_DESC_SIZE 6u   /* §2.4: u16 body type + u32 body size */
#define QUOTE_TD10_BODY_SIZE 584u    /* §2.3 */
#define QUOTE_TD15_BODY_SIZE 648u    /* §2.3 */
#define QUOTE_ECDSA_SIG_SIZE 64u     /* §0: raw r‖s */
#define QUOTE_ECDSA_KEY_SIZE 64u     /* §0: raw X‖Y */
#define QUOTE_V3_SIG_FIXED 584u      /* §1.4: N = 584 + A + C */
#define QUOTE_QE_CERT_FIXED 456u     /* §2.2: S = 456 + A + C */
#define QUOTE_V3_USER_DATA_QE_ID 16u /* §1.2: user_data = QE_ID ‖ 0^4 */

_Static_assert(QUOTE_V3_SIG_OFFSET == sizeof(sgx_quote3_t), "v3 sig offset");
_Static_assert(QUOTE_V3_SIGNED_LEN == QUOTE_HEADER_SIZE + SGX_REPORT_BODY_SIZE, "v3 signed len");
_Static_assert(QUOTE_V3_MIN_SIZE == QUOTE_V3_SIG_OFFSET + QUOTE_V3_SIG_FIXED, "v3 min size");
_Static_assert(QUOTE_V3_SIG_FIXED == QUOTE_ECDSA_SIG_SIZE + QUOTE_ECDSA_KEY_SIZE + QUOTE_QE_CERT_FIXED,
               "v3 signature data = ISV sig + key + the v4 QE certification block");
_Static_assert(QUOTE_QE_CERT_FIXED == SGX_REPORT_BODY_SIZE + QUOTE_ECDSA_SIG_SIZE + 2 + 2 + 4,
               "QE block: report, signature, A, type, C");
_Static_assert(QUOTE_CERT_DATA_MAX <= QUOTE_MAX_SIZE, "cert data limit within quote limit");
_Static_assert(QUOTE_MAX_SIZE <= READER_SIZE_MAX, "quote limit within reader limit");

static const char PEM_BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char PEM_END[] = "-----END CERTIFICATE-----";

const char *quote_strerror(int err)
{
    switch (err) {
    case QUOTE_OK:
        return "success";
    case QUOTE_E_TRUNCATED:
        return "quote is truncated: a field runs past the end of the buffer";
    case QUOTE_E_VERSION:
        return "unsupported quote version (expected 3, 4 or 5)";
    case QUOTE_E_ATT_KEY_TYPE:
        return "unsupported attestation key type (expected 2, ECDSA-256-with-P-256)";
    case QUOTE_E_TEE_TYPE:
        return "unsupported TEE type for this quote version (v3: SGX only; v4/v5: SGX or TDX)";
    case QUOTE_E_BODY_TYPE:
        return "v5 body type, body size and TEE type are inconsistent";
    case QUOTE_E_CERT_TYPE:
        return "certification data type not allowed here (v3: 1-5; v4/v5: outer 6 wrapping 1-5)";
    case QUOTE_E_SIZE_MISMATCH:
        return "declared sizes inside the signature data disagree";
    case QUOTE_E_TOO_LARGE:
        return "quote field exceeds a size limit";
    case QUOTE_E_PEM:
        return "PCK certificate chain data has no well-formed PEM certificate";
    case QUOTE_E_INVALID_ARG:
        return "invalid argument";
    case QUOTE_E_BUFFER_TOO_SMALL:
        return "output buffer too small for the quote";
    default:
        return "unknown quote error";
    }
}

/* The enum name, so every tool reports a parse failure the same way. */
const char *quote_err_name(int err)
{
    switch (err) {
    case QUOTE_OK: return "QUOTE_OK";
    case QUOTE_E_TRUNCATED: return "QUOTE_E_TRUNCATED";
    case QUOTE_E_VERSION: return "QUOTE_E_VERSION";
    case QUOTE_E_ATT_KEY_TYPE: return "QUOTE_E_ATT_KEY_TYPE";
    case QUOTE_E_TEE_TYPE: return "QUOTE_E_TEE_TYPE";
    case QUOTE_E_BODY_TYPE: return "QUOTE_E_BODY_TYPE";
    case QUOTE_E_CERT_TYPE: return "QUOTE_E_CERT_TYPE";
    case QUOTE_E_SIZE_MISMATCH: return "QUOTE_E_SIZE_MISMATCH";
    case QUOTE_E_TOO_LARGE: return "QUOTE_E_TOO_LARGE";
    case QUOTE_E_PEM: return "QUOTE_E_PEM";
    case QUOTE_E_INVALID_ARG: return "QUOTE_E_INVALID_ARG";
    case QUOTE_E_BUFFER_TOO_SMALL: return "QUOTE_E_BUFFER_TOO_SMALL";
    default: return "QUOTE_E_UNKNOWN";
    }
}

/* A reader error means "ran out of bytes" in one of two senses: past the end
 * of the caller's buffer (truncated) or past a length the quote itself
 * declared (size mismatch). The caller says which one applies. */
static int map_reader_err(int rc, int short_err)
{
    switch (rc) {
    case READER_OK:
        return QUOTE_OK;
    case READER_E_SHORT:
    case READER_E_TRAILING:
        return short_err;
    case READER_E_TOO_LARGE:
        return QUOTE_E_TOO_LARGE;
    default:
        return QUOTE_E_INVALID_ARG;
    }
}

/* quote-format §1.2 / §2.1 */
static int parse_header(reader *r, quote_view *q)
{
    sgx_quote_header_t *h = &q->header;
    uint16_t version, key_type, qe_svn, pce_svn;
    uint32_t tee_type;
    reader hr;
    int rc;

    rc = reader_sub(r, QUOTE_HEADER_SIZE, &hr);
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_TRUNCATED);
    /* Cannot fail: hr holds exactly 48 bytes. */
    if (reader_u16le(&hr, &version) || reader_u16le(&hr, &key_type) ||
        reader_u32le(&hr, &tee_type) || reader_u16le(&hr, &qe_svn) ||
        reader_u16le(&hr, &pce_svn) ||
        reader_copy(&hr, h->qe_vendor_id, sizeof(h->qe_vendor_id)) ||
        reader_copy(&hr, h->user_data, sizeof(h->user_data)))
        return QUOTE_E_TRUNCATED;
    h->version = version;
    h->att_key_type = key_type;
    h->tee_type = tee_type;
    h->qe_svn = qe_svn;
    h->pce_svn = pce_svn;
    q->version = version;
    q->tee_type = tee_type;

    if (version != 3 && version != 4 && version != 5)
        return QUOTE_E_VERSION;
    if (key_type != SGX_QUOTE_ATT_KEY_TYPE_ECDSA_P256)
        return QUOTE_E_ATT_KEY_TYPE;
    if (tee_type != SGX_TEE_TYPE_SGX && tee_type != SGX_TEE_TYPE_TDX)
        return QUOTE_E_TEE_TYPE;
    if (version == 3 && tee_type != SGX_TEE_TYPE_SGX)
        return QUOTE_E_TEE_TYPE;
    return QUOTE_OK;
}

/* Body kind and size: implied by tee_type in v3/v4, declared in v5 (§2.4). */
static int parse_body_desc(reader *r, quote_view *q)
{
    uint16_t type;
    uint32_t size;
    int rc;

    if (q->version != 5) {
        q->body_type = q->tee_type == SGX_TEE_TYPE_SGX ? QUOTE_BODY_SGX : QUOTE_BODY_TD10;
        q->body_len = q->body_type == QUOTE_BODY_SGX ? SGX_REPORT_BODY_SIZE : QUOTE_TD10_BODY_SIZE;
        q->body_offset = QUOTE_HEADER_SIZE;
        return QUOTE_OK;
    }
    rc = reader_u16le(r, &type);
    if (rc == READER_OK)
        rc = reader_u32le(r, &size);
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_TRUNCATED);
    switch (type) {
    case QUOTE_BODY_SGX:
        if (size != SGX_REPORT_BODY_SIZE || q->tee_type != SGX_TEE_TYPE_SGX)
            return QUOTE_E_BODY_TYPE;
        break;
    case QUOTE_BODY_TD10:
        if (size != QUOTE_TD10_BODY_SIZE || q->tee_type != SGX_TEE_TYPE_TDX)
            return QUOTE_E_BODY_TYPE;
        break;
    case QUOTE_BODY_TD15:
        if (size != QUOTE_TD15_BODY_SIZE || q->tee_type != SGX_TEE_TYPE_TDX)
            return QUOTE_E_BODY_TYPE;
        break;
    default:
        return QUOTE_E_BODY_TYPE;
    }
    q->body_type = (quote_body_type)type;
    q->body_len = size;
    q->body_offset = QUOTE_HEADER_SIZE + QUOTE_V5_BODY_DESC_SIZE;
    return QUOTE_OK;
}

/* quote-format §2.3: TD report body 1.0 (584) and the 1.5 extension (648). */
static int parse_td_body(const uint8_t *body, size_t len, quote_td_body *td)
{
    reader r;
    int rc = reader_init(&r, body, len);

    if (rc == READER_OK)
        rc = reader_bytes(&r, 16, &td->tee_tcb_svn);
    if (rc == READER_OK)
        rc = reader_bytes(&r, 48, &td->mr_seam);
    if (rc == READER_OK)
        rc = reader_bytes(&r, 48, &td->mrsigner_seam);
    if (rc == READER_OK)
        rc = reader_bytes(&r, 8, &td->seam_attributes);
    if (rc == READER_OK)
        rc = reader_bytes(&r, 8, &td->td_attributes);
    if (rc == READER_OK)
        rc = reader_bytes(&r, 8, &td->xfam);
    if (rc == READER_OK)
        rc = reader_bytes(&r, 48, &td->mr_td);
    if (rc == READER_OK)
        rc = reader_bytes(&r, 48, &td->mr_config_id);
    if (rc == READER_OK)
        rc = reader_bytes(&r, 48, &td->mr_owner);
    if (rc == READER_OK)
        rc = reader_bytes(&r, 48, &td->mr_owner_config);
    for (int i = 0; i < 4 && rc == READER_OK; i++)
        rc = reader_bytes(&r, 48, &td->rtmr[i]);
    if (rc == READER_OK)
        rc = reader_bytes(&r, 64, &td->report_data);
    if (rc == READER_OK && len == QUOTE_TD15_BODY_SIZE) {
        rc = reader_bytes(&r, 16, &td->tee_tcb_svn2);
        if (rc == READER_OK)
            rc = reader_bytes(&r, 48, &td->mr_servicetd);
    }
    if (rc == READER_OK)
        rc = reader_expect_end(&r);
    return map_reader_err(rc, QUOTE_E_SIZE_MISMATCH);
}

static int parse_body(reader *r, quote_view *q)
{
    const uint8_t *body;
    int rc = reader_bytes(r, q->body_len, &body);

    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_TRUNCATED);
    if (q->body_type == QUOTE_BODY_SGX) {
        sgx_report_body_decode(body, &q->sgx_body);
        return QUOTE_OK;
    }
    return parse_td_body(body, q->body_len, &q->td);
}

static bool cert_type_is_leaf(uint16_t type)
{
    return type >= CERT_DATA_PPID_CLEARTEXT && type <= CERT_DATA_PCK_CHAIN;
}

/* The part v3 signature data and v4/v5 type-6 data share (§1.4 from abs 564,
 * §2.2 table 2): QE report body, its PCK signature, QE auth data and the
 * certification data proper. r covers a region whose length the quote
 * declared, so running out of bytes is a size mismatch. */
static int parse_qe_block(reader *r, quote_view *q)
{
    const uint8_t *qe_report;
    uint16_t auth_len, cert_type;
    uint32_t cert_len;
    int rc;

    rc = reader_bytes(r, SGX_REPORT_BODY_SIZE, &qe_report);
    if (rc == READER_OK)
        rc = reader_bytes(r, QUOTE_ECDSA_SIG_SIZE, &q->qe_report_sig);
    if (rc == READER_OK)
        rc = reader_u16le(r, &auth_len);
    if (rc == READER_OK)
        rc = reader_bytes(r, auth_len, &q->qe_auth_data);
    if (rc == READER_OK)
        rc = reader_u16le(r, &cert_type);
    if (rc == READER_OK)
        rc = reader_u32le(r, &cert_len);
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_SIZE_MISMATCH);

    q->qe_report_raw = qe_report;
    sgx_report_body_decode(qe_report, &q->qe_report);
    q->qe_auth_data_len = auth_len;
    if (!cert_type_is_leaf(cert_type))
        return QUOTE_E_CERT_TYPE;
    q->cert_type = cert_type;
    if (cert_len > QUOTE_CERT_DATA_MAX)
        return QUOTE_E_TOO_LARGE;
    rc = reader_bytes(r, cert_len, &q->cert_data);
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_SIZE_MISMATCH);
    q->cert_data_len = cert_len;
    /* The region must end exactly with the certification data (§2.2). */
    return map_reader_err(reader_expect_end(r), QUOTE_E_SIZE_MISMATCH);
}

/* quote-format §1.5 type 5: PEM blocks anywhere, in any order, with or
 * without a trailing NUL. Each block runs from its BEGIN line through the
 * END marker; a BEGIN without END, or a BEGIN nested inside a block, is
 * malformed rather than something to skip over. */
static int scan_pem_chain(quote_view *q)
{
    const size_t begin_len = sizeof(PEM_BEGIN) - 1, end_len = sizeof(PEM_END) - 1;
    size_t at, end_at, nested_at;
    const uint8_t *block;
    reader r;
    int rc;

    rc = reader_init(&r, q->cert_data, q->cert_data_len);
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_SIZE_MISMATCH);
    q->pem_count = 0;
    while (reader_find(&r, PEM_BEGIN, begin_len, &at) == READER_OK) {
        reader after_begin;

        if (reader_skip(&r, at) != READER_OK)
            return QUOTE_E_PEM;
        after_begin = r;
        if (reader_skip(&after_begin, begin_len) != READER_OK)
            return QUOTE_E_PEM;
        if (reader_find(&after_begin, PEM_END, end_len, &end_at) != READER_OK)
            return QUOTE_E_PEM;
        if (reader_find(&after_begin, PEM_BEGIN, begin_len, &nested_at) == READER_OK &&
            nested_at < end_at)
            return QUOTE_E_PEM;
        if (q->pem_count == QUOTE_MAX_CHAIN_CERTS)
            return QUOTE_E_TOO_LARGE;
        if (reader_bytes(&r, begin_len + end_at + end_len, &block) != READER_OK)
            return QUOTE_E_PEM;
        q->pem[q->pem_count].pem = (const char *)block;
        q->pem[q->pem_count].len = begin_len + end_at + end_len;
        q->pem_count++;
    }
    return q->pem_count == 0 ? QUOTE_E_PEM : QUOTE_OK;
}

/* Signature data: §1.4 (v3) or §2.2 (v4/v5, outer type 6). */
static int parse_signature_data(reader *sig, quote_view *q)
{
    uint16_t outer_type;
    uint32_t outer_len;
    reader inner;
    int rc;

    rc = reader_bytes(sig, QUOTE_ECDSA_SIG_SIZE, &q->isv_sig);
    if (rc == READER_OK)
        rc = reader_bytes(sig, QUOTE_ECDSA_KEY_SIZE, &q->attest_pub_key);
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_SIZE_MISMATCH);

    if (q->version == 3) {
        rc = parse_qe_block(sig, q);
        q->outer_cert_type = q->cert_type;
        return rc;
    }

    rc = reader_u16le(sig, &outer_type);
    if (rc == READER_OK)
        rc = reader_u32le(sig, &outer_len);
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_SIZE_MISMATCH);
    if (outer_type != CERT_DATA_QE_REPORT)
        return QUOTE_E_CERT_TYPE;
    q->outer_cert_type = outer_type;
    if (outer_len > QUOTE_CERT_DATA_MAX)
        return QUOTE_E_TOO_LARGE;
    rc = reader_sub(sig, outer_len, &inner);
    if (rc == READER_OK)
        rc = reader_expect_end(sig); /* N = 134 + S exactly */
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_SIZE_MISMATCH);
    return parse_qe_block(&inner, q);
}

int quote_parse(const uint8_t *buf, size_t len, quote_view *out)
{
    quote_view q;
    reader r, sig;
    uint32_t sig_len;
    int rc;

    if (out == NULL)
        return QUOTE_E_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    if (buf == NULL)
        return QUOTE_E_INVALID_ARG;
    memset(&q, 0, sizeof(q));
    q.raw = buf;
    q.raw_len = len;

    /* Trailing bytes are allowed, so only the part we read is limited:
     * cover at most QUOTE_MAX_SIZE bytes. */
    rc = reader_init(&r, buf, len < QUOTE_MAX_SIZE ? len : QUOTE_MAX_SIZE);
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_TRUNCATED);

    rc = parse_header(&r, &q);
    if (rc == QUOTE_OK)
        rc = parse_body_desc(&r, &q);
    if (rc == QUOTE_OK)
        rc = parse_body(&r, &q);
    if (rc != QUOTE_OK)
        return rc;
    q.signed_data = buf;
    q.signed_len = q.body_offset + q.body_len; /* §1.6 */

    rc = reader_u32le(&r, &sig_len);
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_TRUNCATED);
    if (sig_len > QUOTE_MAX_SIZE - reader_offset(&r))
        return QUOTE_E_TOO_LARGE;
    q.signature_data_len = sig_len;
    rc = reader_sub(&r, sig_len, &sig);
    if (rc != READER_OK)
        return map_reader_err(rc, QUOTE_E_TRUNCATED);
    q.quote_len = reader_offset(&r);

    rc = parse_signature_data(&sig, &q);
    if (rc == QUOTE_OK && q.cert_type == CERT_DATA_PCK_CHAIN)
        rc = scan_pem_chain(&q);
    if (rc != QUOTE_OK)
        return rc;
    *out = q;
    return QUOTE_OK;
}

/* ---- v3 builder ---- */

size_t quote_v3_size(const quote_v3_spec *spec)
{
    size_t n;

    if (spec == NULL || spec->cert_data_len > QUOTE_CERT_DATA_MAX)
        return 0;
    n = (size_t)QUOTE_V3_MIN_SIZE + spec->qe_auth_data_len + spec->cert_data_len;
    return n > QUOTE_MAX_SIZE ? 0 : n;
}

int quote_v3_build(const quote_v3_spec *spec, uint8_t *out, size_t cap, size_t *len)
{
    size_t need;
    uint8_t *p;

    if (len != NULL)
        *len = 0;
    if (spec == NULL || len == NULL || spec->app_report == NULL || spec->qe_report == NULL ||
        spec->qe_report_sig == NULL || spec->attest_pub_key == NULL ||
        (spec->qe_auth_data == NULL && spec->qe_auth_data_len > 0) ||
        (spec->cert_data == NULL && spec->cert_data_len > 0))
        return QUOTE_E_INVALID_ARG;
    if (!cert_type_is_leaf(spec->cert_type))
        return QUOTE_E_CERT_TYPE;
    need = quote_v3_size(spec);
    if (need == 0)
        return QUOTE_E_TOO_LARGE;
    *len = need;
    if (out == NULL || cap < need)
        return QUOTE_E_BUFFER_TOO_SMALL;

    memset(out, 0, need);
    /* Header, §1.2. */
    le_put_u16(out + 0, 3);
    le_put_u16(out + 2, SGX_QUOTE_ATT_KEY_TYPE_ECDSA_P256);
    le_put_u32(out + 4, SGX_TEE_TYPE_SGX);
    le_put_u16(out + 8, spec->qe_svn);
    le_put_u16(out + 10, spec->pce_svn);
    memcpy(out + 12, SGX_INTEL_QE_VENDOR_ID, 16);
    memcpy(out + 28, spec->qe_id, QUOTE_V3_USER_DATA_QE_ID); /* 44..47 stay 0 */
    /* ISV report body @48, signature_data_len @432, §1.1. */
    sgx_report_body_encode(spec->app_report, out + QUOTE_HEADER_SIZE);
    le_put_u32(out + QUOTE_V3_SIGNED_LEN, (uint32_t)(need - QUOTE_V3_SIG_OFFSET));
    /* Signature data, §1.4: ISV signature @436 stays zero until signed. */
    p = out + QUOTE_V3_SIG_OFFSET + QUOTE_ECDSA_SIG_SIZE;
    memcpy(p, spec->attest_pub_key, QUOTE_ECDSA_KEY_SIZE);            /* 500 */
    p += QUOTE_ECDSA_KEY_SIZE;
    sgx_report_body_encode(spec->qe_report, p);                        /* 564 */
    p += SGX_REPORT_BODY_SIZE;
    memcpy(p, spec->qe_report_sig, QUOTE_ECDSA_SIG_SIZE);              /* 948 */
    p += QUOTE_ECDSA_SIG_SIZE;
    le_put_u16(p, spec->qe_auth_data_len);                             /* 1012 */
    p += 2;
    if (spec->qe_auth_data_len > 0)
        memcpy(p, spec->qe_auth_data, spec->qe_auth_data_len);
    p += spec->qe_auth_data_len;
    le_put_u16(p, spec->cert_type);                                    /* 1014+A */
    le_put_u32(p + 2, spec->cert_data_len);                            /* 1016+A */
    p += 6;
    if (spec->cert_data_len > 0)
        memcpy(p, spec->cert_data, spec->cert_data_len);               /* 1020+A */
    return QUOTE_OK;
}

void quote_v3_set_signature(uint8_t *quote, const uint8_t sig[64])
{
    memcpy(quote + QUOTE_V3_SIG_OFFSET, sig, QUOTE_ECDSA_SIG_SIZE);
}
