/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote inspect QUOTE [--json]`: every field of a quote, for people and
 * for scripts. File bytes go through quote_parse (src/sgx) for the structure
 * and through the x509 layer (src/crypto) for the PCK chain and its SGX
 * extension; nothing is verified here. One walk over the parsed quote drives
 * an emitter that either prints the text table or builds the JSON document of
 * docs/inspect.md, so both forms always carry the same fields. When
 * quote_parse refuses the bytes, a second bounded walk names the field at fault.
 * A quote given as base64, PEM-like armor or hex is decoded first
 * (quote_text.c), and stderr says so.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "quote_text.h"
#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "sgx/reader.h"
#include "sgxqh/quote.h"

/* docs/inspect.md: bump when a key changes meaning or disappears. */
#define INSPECT_SCHEMA_VERSION 1

/* Layout sizes the error walk needs (quote-format §1–2); quote.c keeps the
 * authoritative copies, these only name fields in messages. */
#define QF_HEADER_SIZE 48u       /* §1.2 */
#define QF_TD10_BODY_SIZE 584u   /* §2.3: v4 TDX body (v5 declares its size) */
#define QF_SIG_SIZE 64u          /* §0: raw r‖s */
#define QF_KEY_SIZE 64u          /* §0: raw X‖Y */
#define QF_V4_SIG_FIXED 134u     /* §2.2: N = 134 + S */
#define QF_QE_ID_SIZE 16u        /* §1.2: user_data = QE_ID ‖ 0^4 */

/* quote-format §1.5: PPID forms of cert data types 1/2/3, then CPUSVN(16),
 * PCESVN(u16) and, except in the older form, PCEID(u16). */
#define CD_PPID_CLEAR_LEN 16u
#define CD_PPID_RSA2048_LEN 256u
#define CD_PPID_RSA3072_LEN 384u
#define CD_CPUSVN_LEN 16u
#define CD_TRAILER_WITH_PCEID (CD_CPUSVN_LEN + 2u + 2u)
#define CD_TRAILER_OLD (CD_CPUSVN_LEN + 2u)

#define INSPECT_MAX_ERRORS 8
#define INSPECT_MSG_LEN 320
#define INSPECT_DN_LEN 2048

/* ------------------------------------------------------------------ */
/* Emitter: the same calls produce the text table or the JSON tree.     */
/* A NULL key means "text only", a NULL label "JSON only".             */
/* ------------------------------------------------------------------ */

#define EM_MAX_DEPTH 8
#define EM_VALUE_COLUMN 30 /* text: where values start */
#define EM_HEX_PER_LINE 32 /* text: bytes of hex per line */

typedef struct {
    bool json;
    FILE *out;
    int depth;                   /* open frames; 1 = top level */
    int indent;                  /* text: titled frames open */
    json_t *stack[EM_MAX_DEPTH]; /* JSON containers; stack[0] is the root */
    bool titled[EM_MAX_DEPTH];   /* text: did this frame print a title */
    int overflow;                /* frames past EM_MAX_DEPTH (never, by construction) */
    bool failed;                 /* JSON: out of memory or depth exceeded */
} emitter;

/* Text from a certificate is hostile: keep terminals safe. */
static void print_sanitized(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

/* jansson insists on valid UTF-8; anything else becomes ASCII with '?'. */
static json_t *json_text(const char *s)
{
    json_t *v = json_string(s);
    if (v != NULL)
        return v;
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        copy[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
    v = json_string(copy);
    free(copy);
    return v;
}

/* Adds v (reference stolen) under key, or appends it when the open
 * container is an array. */
static void em_put(emitter *e, const char *key, json_t *v)
{
    json_t *parent = e->depth >= 1 ? e->stack[e->depth - 1] : NULL;
    int rc = -1;

    if (v != NULL && parent != NULL) {
        if (json_is_array(parent))
            rc = json_array_append_new(parent, v);
        else if (key != NULL)
            rc = json_object_set_new(parent, key, v);
        else
            json_decref(v);
    } else {
        json_decref(v);
    }
    if (rc != 0)
        e->failed = true;
}

static void em_label(emitter *e, const char *label)
{
    int indent = 2 * e->indent, width = EM_VALUE_COLUMN - indent;
    if (width < 2)
        width = 2;
    fprintf(e->out, "%*s%-*s ", indent, "", width - 1, label);
}

/* Opens an object (or array) under key; text prints title, if any, and
 * indents what follows. Every em_begin is closed by one em_end. */
static void em_begin(emitter *e, const char *key, const char *title, bool array)
{
    if (e->depth >= EM_MAX_DEPTH) {
        e->failed = true; /* callers nest at most 5 deep */
        e->overflow++;
        return;
    }
    if (e->json) {
        json_t *v = array ? json_array() : json_object();
        e->stack[e->depth] = v;
        em_put(e, key, json_incref(v));
        json_decref(v); /* the parent holds it now (or nobody, on failure) */
        if (e->failed)
            e->stack[e->depth] = NULL;
    } else {
        e->titled[e->depth] = title != NULL;
        if (title != NULL) {
            if (e->indent == 0)
                fputc('\n', e->out);
            fprintf(e->out, "%*s", 2 * e->indent, "");
            print_sanitized(e->out, title);
            fputc('\n', e->out);
            e->indent++;
        }
    }
    e->depth++;
}

static void em_end(emitter *e)
{
    if (e->overflow > 0) {
        e->overflow--;
        return;
    }
    if (e->depth <= 1)
        return;
    e->depth--;
    if (!e->json && e->titled[e->depth])
        e->indent--;
}

static void em_hex(emitter *e, const char *key, const char *label, const uint8_t *p, size_t n)
{
    if (e->json) {
        if (key == NULL)
            return;
        char *s = malloc(2 * n + 1);
        if (s == NULL) {
            e->failed = true;
            return;
        }
        crypto_hex_encode(p, n, s);
        em_put(e, key, json_string(s));
        free(s);
        return;
    }
    if (label == NULL)
        return;
    em_label(e, label);
    if (n == 0)
        fputs("(empty)", e->out);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && i % EM_HEX_PER_LINE == 0)
            fprintf(e->out, "\n%*s", EM_VALUE_COLUMN, "");
        fprintf(e->out, "%02x", p[i]);
    }
    fputc('\n', e->out);
}

/* An unsigned field; hex_digits > 0 prints it as 0x%0*x in text. JSON gets
 * an integer (every field passed here fits in 32 bits). */
static void em_uint(emitter *e, const char *key, const char *label, uint64_t v, int hex_digits,
                    const char *note)
{
    if (e->json) {
        if (key != NULL)
            em_put(e, key, json_integer((json_int_t)v));
        return;
    }
    if (label == NULL)
        return;
    em_label(e, label);
    if (hex_digits > 0)
        fprintf(e->out, "0x%0*llx", hex_digits, (unsigned long long)v);
    else
        fprintf(e->out, "%llu", (unsigned long long)v);
    if (note != NULL && note[0] != '\0') {
        fputs(" (", e->out);
        print_sanitized(e->out, note);
        fputc(')', e->out);
    }
    fputc('\n', e->out);
}

/* A 64-bit bit field: "0x%016" in both forms (JSON integers above 2^53 are
 * not portable). */
static void em_u64_hex(emitter *e, const char *key, const char *label, uint64_t v,
                       const char *note)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%016llx", (unsigned long long)v);
    if (e->json) {
        if (key != NULL)
            em_put(e, key, json_string(buf));
        return;
    }
    if (label == NULL)
        return;
    em_label(e, label);
    fputs(buf, e->out);
    if (note != NULL && note[0] != '\0')
        fprintf(e->out, " (%s)", note);
    fputc('\n', e->out);
}

/* s == NULL: JSON null, text `none_text` (or nothing when that is NULL). */
static void em_str(emitter *e, const char *key, const char *label, const char *s,
                   const char *none_text)
{
    if (e->json) {
        if (key != NULL)
            em_put(e, key, s != NULL ? json_text(s) : json_null());
        return;
    }
    if (label == NULL || (s == NULL && none_text == NULL))
        return;
    em_label(e, label);
    print_sanitized(e->out, s != NULL ? s : none_text);
    fputc('\n', e->out);
}

static void em_bool(emitter *e, const char *key, const char *label, bool b)
{
    if (e->json) {
        if (key != NULL)
            em_put(e, key, json_boolean(b));
        return;
    }
    if (label == NULL)
        return;
    em_label(e, label);
    fputs(b ? "yes\n" : "no\n", e->out);
}

/* JSON null for a key whose object is absent; text shows `text` if given. */
static void em_null(emitter *e, const char *key, const char *label, const char *text)
{
    em_str(e, key, label, NULL, text);
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

static const char *crypto_err_name(int err)
{
    switch (err) {
    case CRYPTO_OK: return "CRYPTO_OK";
    case CRYPTO_E_INVALID: return "CRYPTO_E_INVALID";
    case CRYPTO_E_BAD_SIG: return "CRYPTO_E_BAD_SIG";
    case CRYPTO_E_BAD_KEY: return "CRYPTO_E_BAD_KEY";
    case CRYPTO_E_OPENSSL: return "CRYPTO_E_OPENSSL";
    case CRYPTO_E_NOMEM: return "CRYPTO_E_NOMEM";
    case CRYPTO_E_PARSE: return "CRYPTO_E_PARSE";
    case CRYPTO_E_NOT_FOUND: return "CRYPTO_E_NOT_FOUND";
    default: return "CRYPTO_E_UNKNOWN";
    }
}

/* quote-format §1.5 */
static const char *cert_type_name(unsigned type)
{
    switch (type) {
    case CERT_DATA_PPID_CLEARTEXT: return "PPID_CLEARTEXT";
    case CERT_DATA_PPID_RSA2048: return "PPID_RSA2048_ENCRYPTED";
    case CERT_DATA_PPID_RSA3072: return "PPID_RSA3072_ENCRYPTED";
    case CERT_DATA_PCK_CLEARTEXT: return "PCK_CLEARTEXT";
    case CERT_DATA_PCK_CHAIN: return "PCK_CERT_CHAIN";
    case CERT_DATA_QE_REPORT: return "QE_REPORT_CERTIFICATION_DATA";
    case CERT_DATA_PLATFORM_MANIFEST: return "PLATFORM_MANIFEST";
    default: return "unknown";
    }
}

static const char *tee_name(uint32_t tee_type)
{
    switch (tee_type) {
    case SGX_TEE_TYPE_SGX: return "SGX";
    case SGX_TEE_TYPE_TDX: return "TDX";
    default: return "unknown";
    }
}

/* quote-format §2.4 */
static const char *body_type_name(quote_body_type t)
{
    switch (t) {
    case QUOTE_BODY_SGX: return "SGX enclave report";
    case QUOTE_BODY_TD10: return "TD report 1.0";
    case QUOTE_BODY_TD15: return "TD report 1.5";
    default: return "unknown";
    }
}

/* quote-format §5.2 */
static const char *sgx_type_name(int t)
{
    switch (t) {
    case 0: return "Standard";
    case 1: return "Scalable";
    case 2: return "Scalable-with-Integrity";
    default: return "unknown";
    }
}

/* quote-format §1.3: attribute flag bits. */
static const struct {
    uint64_t bit;
    const char *name;
} ATTRIBUTE_FLAGS[] = {
    {SGX_FLAGS_INITTED, "INITTED"},
    {SGX_FLAGS_DEBUG, "DEBUG"},
    {SGX_FLAGS_MODE64BIT, "MODE64BIT"},
    {SGX_FLAGS_PROVISION_KEY, "PROVISION_KEY"},
    {SGX_FLAGS_EINITTOKEN_KEY, "EINITTOKEN_KEY"},
    {SGX_FLAGS_KSS, "KSS"},
    {SGX_FLAGS_AEX_NOTIFY, "AEX_NOTIFY"},
};

/* ------------------------------------------------------------------ */
/* Inspection state                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
    emitter em;
    const char *name; /* file name as the user gave it */
    char errors[INSPECT_MAX_ERRORS][INSPECT_MSG_LEN];
    size_t n_errors;
    /* The first certificate that carries the SGX extension (§5.2). */
    bool have_pck_ext;
    size_t pck_ext_index;
    sgx_pck_ext pck_ext;
} inspect_ctx;

static void add_error(inspect_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_error(inspect_ctx *ctx, const char *fmt, ...)
{
    if (ctx->n_errors == INSPECT_MAX_ERRORS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->errors[ctx->n_errors++], INSPECT_MSG_LEN, fmt, ap);
    va_end(ap);
}

/* "Hello, world!" from printable ASCII followed only by zero bytes. */
static bool report_data_as_text(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    while (k < n && p[k] >= 0x20 && p[k] < 0x7f)
        k++;
    if (k == 0 || k + 1 > cap)
        return false;
    for (size_t i = k; i < n; i++) {
        if (p[i] != 0)
            return false;
    }
    memcpy(out, p, k);
    out[k] = '\0';
    return true;
}

static void show_report_data(emitter *e, const uint8_t *p)
{
    char text[SGX_REPORT_DATA_SIZE + 1], quoted[SGX_REPORT_DATA_SIZE + 3];
    bool is_text = report_data_as_text(p, SGX_REPORT_DATA_SIZE, text, sizeof text);

    em_hex(e, "report_data", "report_data", p, SGX_REPORT_DATA_SIZE);
    if (is_text)
        snprintf(quoted, sizeof quoted, "\"%s\"", text);
    if (e->json)
        em_str(e, "report_data_text", NULL, is_text ? text : NULL, NULL);
    else if (is_text)
        em_str(e, NULL, "report_data (as text)", quoted, NULL);
}

static void show_attributes(emitter *e, const sgx_attributes_t *a)
{
    char names[160] = "";
    json_t *list = e->json ? json_array() : NULL;
    uint64_t known = 0;

    for (size_t i = 0; i < sizeof ATTRIBUTE_FLAGS / sizeof ATTRIBUTE_FLAGS[0]; i++) {
        known |= ATTRIBUTE_FLAGS[i].bit;
        if ((a->flags & ATTRIBUTE_FLAGS[i].bit) == 0)
            continue;
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", used ? "|" : "",
                 ATTRIBUTE_FLAGS[i].name);
        if (list != NULL)
            json_array_append_new(list, json_string(ATTRIBUTE_FLAGS[i].name));
    }
    if (a->flags & ~known) {
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%sunknown 0x%llx", used ? "|" : "",
                 (unsigned long long)(a->flags & ~known));
    }
    em_begin(e, "attributes", NULL, false);
    em_u64_hex(e, "flags", "attributes.flags", a->flags, names);
    em_u64_hex(e, "xfrm", "attributes.xfrm", a->xfrm, NULL);
    if (e->json)
        em_put(e, "flag_names", list);
    em_bool(e, "debug", NULL, (a->flags & SGX_FLAGS_DEBUG) != 0);
    em_end(e);
}

/* quote-format §1.3: the ISV report body and the QE report body alike. */
static void show_sgx_report_body(emitter *e, const sgx_report_body_t *b)
{
    em_hex(e, "cpu_svn", "cpu_svn", b->cpu_svn, sizeof b->cpu_svn);
    em_uint(e, "misc_select", "misc_select", b->misc_select, 8, NULL);
    em_hex(e, "reserved1", "reserved1", b->reserved1, sizeof b->reserved1);
    em_hex(e, "isv_ext_prod_id", "isv_ext_prod_id", b->isv_ext_prod_id,
           sizeof b->isv_ext_prod_id);
    show_attributes(e, &b->attributes);
    em_hex(e, "mr_enclave", "mr_enclave", b->mr_enclave, sizeof b->mr_enclave);
    em_hex(e, "reserved2", "reserved2", b->reserved2, sizeof b->reserved2);
    em_hex(e, "mr_signer", "mr_signer", b->mr_signer, sizeof b->mr_signer);
    em_hex(e, "reserved3", "reserved3", b->reserved3, sizeof b->reserved3);
    em_hex(e, "config_id", "config_id", b->config_id, sizeof b->config_id);
    em_uint(e, "isv_prod_id", "isv_prod_id", b->isv_prod_id, 0, NULL);
    em_uint(e, "isv_svn", "isv_svn", b->isv_svn, 0, NULL);
    em_uint(e, "config_svn", "config_svn", b->config_svn, 0, NULL);
    em_hex(e, "reserved4", "reserved4", b->reserved4, sizeof b->reserved4);
    em_hex(e, "isv_family_id", "isv_family_id", b->isv_family_id, sizeof b->isv_family_id);
    show_report_data(e, b->report_data);
}

/* quote-format §2.3 */
static void show_td_body(emitter *e, const quote_view *q)
{
    const quote_td_body *td = &q->td;
    static const char *const rtmr_names[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};

    em_hex(e, "tee_tcb_svn", "tee_tcb_svn", td->tee_tcb_svn, 16);
    em_hex(e, "mr_seam", "mr_seam", td->mr_seam, 48);
    em_hex(e, "mrsigner_seam", "mrsigner_seam", td->mrsigner_seam, 48);
    em_hex(e, "seam_attributes", "seam_attributes", td->seam_attributes, 8);
    em_hex(e, "td_attributes", "td_attributes", td->td_attributes, 8);
    em_hex(e, "xfam", "xfam", td->xfam, 8);
    em_hex(e, "mr_td", "mr_td", td->mr_td, 48);
    em_hex(e, "mr_config_id", "mr_config_id", td->mr_config_id, 48);
    em_hex(e, "mr_owner", "mr_owner", td->mr_owner, 48);
    em_hex(e, "mr_owner_config", "mr_owner_config", td->mr_owner_config, 48);
    for (int i = 0; i < 4; i++)
        em_hex(e, rtmr_names[i], rtmr_names[i], td->rtmr[i], 48);
    show_report_data(e, td->report_data);
    if (q->body_type == QUOTE_BODY_TD15) {
        em_hex(e, "tee_tcb_svn2", "tee_tcb_svn2", td->tee_tcb_svn2, 16);
        em_hex(e, "mr_servicetd", "mr_servicetd", td->mr_servicetd, 48);
    } else {
        em_null(e, "tee_tcb_svn2", NULL, NULL);
        em_null(e, "mr_servicetd", NULL, NULL);
    }
}

/* quote-format §1.2 / §2.1 */
static void show_header(emitter *e, const quote_view *q)
{
    const sgx_quote_header_t *h = &q->header;
    bool intel = memcmp(h->qe_vendor_id, SGX_INTEL_QE_VENDOR_ID, sizeof h->qe_vendor_id) == 0;

    em_begin(e, "header", h->version == 3 ? "Header (sgx_quote_header_t)" : "Header (sgx_quote4_header_t)",
             false);
    em_uint(e, "version", "version", h->version, 0, NULL);
    em_uint(e, "att_key_type", "att_key_type", h->att_key_type, 0, "ECDSA-256-with-P-256");
    em_uint(e, "tee_type", "tee_type", h->tee_type, 8, tee_name(h->tee_type));
    em_str(e, "tee", NULL, tee_name(h->tee_type), NULL);
    em_uint(e, "qe_svn", "qe_svn", h->qe_svn, 0,
            q->tee_type == SGX_TEE_TYPE_TDX ? "reserved for TDX" : NULL);
    em_uint(e, "pce_svn", "pce_svn", h->pce_svn, 0,
            q->tee_type == SGX_TEE_TYPE_TDX ? "reserved for TDX" : NULL);
    em_hex(e, "qe_vendor_id", "qe_vendor_id", h->qe_vendor_id, sizeof h->qe_vendor_id);
    em_str(e, NULL, "qe_vendor", intel ? "Intel" : "not Intel's QE vendor id", NULL);
    em_bool(e, "qe_vendor_is_intel", NULL, intel);
    em_hex(e, "user_data", "user_data", h->user_data, sizeof h->user_data);
    em_hex(e, "qe_id", "qe_id (user_data[0..16))", h->user_data, QF_QE_ID_SIZE);
    em_end(e);
}

/* The structure Intel's headers give each body: sgx_report.h for SGX,
 * sgx_quote_4.h / sgx_quote_5.h for the TD report bodies. */
static const char *body_struct_name(quote_body_type t)
{
    switch (t) {
    case QUOTE_BODY_SGX: return "sgx_report_body_t";
    case QUOTE_BODY_TD10: return "sgx_report2_body_t";
    case QUOTE_BODY_TD15: return "sgx_report2_body_v1_5_t";
    default: return "unknown body type";
    }
}

static void show_body(emitter *e, const quote_view *q)
{
    char title[96];

    snprintf(title, sizeof title, "%s body (%s)",
             q->body_type == QUOTE_BODY_SGX ? "ISV enclave report" : body_type_name(q->body_type),
             body_struct_name(q->body_type));
    em_begin(e, "body", title, false);
    em_uint(e, "body_type", "body_type", (unsigned)q->body_type, 0, body_type_name(q->body_type));
    em_str(e, "body_type_name", NULL, body_type_name(q->body_type), NULL);
    em_uint(e, "offset", "offset", q->body_offset, 0, NULL);
    em_uint(e, "size", "size", q->body_len, 0, NULL);
    if (q->body_type == QUOTE_BODY_SGX)
        show_sgx_report_body(e, &q->sgx_body);
    else
        show_td_body(e, q);
    em_end(e);
}

/* ---- certification data ---- */

/* Types 1/2/3 (quote-format §1.5): PPID (clear or encrypted) ‖ CPUSVN ‖
 * PCESVN ‖ PCEID, or the older form without PCEID. */
static void show_ppid_cert_data(inspect_ctx *ctx, const quote_view *q)
{
    emitter *e = &ctx->em;
    size_t ppid_len = q->cert_type == CERT_DATA_PPID_CLEARTEXT  ? CD_PPID_CLEAR_LEN
                      : q->cert_type == CERT_DATA_PPID_RSA2048 ? CD_PPID_RSA2048_LEN
                                                                : CD_PPID_RSA3072_LEN;
    const char *ppid_key = q->cert_type == CERT_DATA_PPID_CLEARTEXT ? "ppid" : "encrypted_ppid";
    const uint8_t *ppid = NULL, *cpusvn = NULL;
    uint16_t pcesvn = 0, pceid = 0;
    bool with_pceid = q->cert_data_len == ppid_len + CD_TRAILER_WITH_PCEID;
    reader r;

    if (!with_pceid && q->cert_data_len != ppid_len + CD_TRAILER_OLD) {
        add_error(ctx, "certification data type %u is %u bytes, expected %zu or %zu",
                  q->cert_type, q->cert_data_len, ppid_len + CD_TRAILER_WITH_PCEID,
                  ppid_len + CD_TRAILER_OLD);
        em_hex(e, "data", "data", q->cert_data, q->cert_data_len);
        return;
    }
    /* Sizes were checked just above, so these reads cannot fail. */
    if (reader_init(&r, q->cert_data, q->cert_data_len) != READER_OK ||
        reader_bytes(&r, ppid_len, &ppid) != READER_OK ||
        reader_bytes(&r, CD_CPUSVN_LEN, &cpusvn) != READER_OK ||
        reader_u16le(&r, &pcesvn) != READER_OK ||
        (with_pceid && reader_u16le(&r, &pceid) != READER_OK)) {
        add_error(ctx, "certification data type %u could not be read", q->cert_type);
        return;
    }
    em_hex(e, ppid_key, ppid_key, ppid, ppid_len);
    em_hex(e, "cpusvn", "cpusvn", cpusvn, CD_CPUSVN_LEN);
    em_uint(e, "pcesvn", "pcesvn", pcesvn, 0, NULL);
    if (with_pceid) {
        char hex[8];
        snprintf(hex, sizeof hex, "%04x", pceid);
        em_str(e, "pceid", "pceid", hex, NULL);
    } else {
        em_str(e, "pceid", "pceid", NULL, "(absent: older form without PCEID)");
    }
}

/* quote-format §5.3: roles are recognised by CN substrings. */
static const char *cert_role(const char *cn, bool self_issued)
{
    if (self_issued && strstr(cn, "SGX Root CA") != NULL)
        return "root";
    if (strstr(cn, "SGX PCK Certificate") != NULL)
        return "pck";
    if (strstr(cn, "CA") != NULL)
        return "intermediate";
    return "other";
}

static void show_cert(inspect_ctx *ctx, size_t index, const x509_cert *c)
{
    emitter *e = &ctx->em;
    char *subject = NULL, *issuer = NULL, title[64];
    char subject_cn[256], issuer_cn[256], nb_s[21], na_s[21];
    uint8_t serial[64], digest[32];
    size_t serial_len = 0;
    time_t nb = 0, na = 0;
    bool self_issued = x509_cert_is_self_issued(c);
    sgx_pck_ext ext;
    int rc;

    subject = malloc(INSPECT_DN_LEN);
    issuer = malloc(INSPECT_DN_LEN);
    if (subject == NULL || issuer == NULL) {
        e->failed = true;
        goto out;
    }
    if (x509_cert_subject(c, subject, INSPECT_DN_LEN) != CRYPTO_OK)
        snprintf(subject, INSPECT_DN_LEN, "(unreadable)");
    if (x509_cert_issuer(c, issuer, INSPECT_DN_LEN) != CRYPTO_OK)
        snprintf(issuer, INSPECT_DN_LEN, "(unreadable)");
    if (x509_cert_subject_cn(c, subject_cn, sizeof subject_cn) != CRYPTO_OK)
        subject_cn[0] = '\0';
    if (x509_cert_issuer_cn(c, issuer_cn, sizeof issuer_cn) != CRYPTO_OK)
        issuer_cn[0] = '\0';
    nb_s[0] = na_s[0] = '\0';
    if (x509_cert_validity(c, &nb, &na) == CRYPTO_OK) {
        time_format_iso8601(nb, nb_s);
        time_format_iso8601(na, na_s);
    }

    rc = x509_cert_sgx_ext(c, &ext);
    if (rc == CRYPTO_OK && !ctx->have_pck_ext) {
        ctx->have_pck_ext = true;
        ctx->pck_ext_index = index;
        ctx->pck_ext = ext;
    } else if (rc != CRYPTO_OK && rc != CRYPTO_E_NOT_FOUND) {
        add_error(ctx, "certificate %zu (%s) has an SGX extension that does not decode (%s)",
                  index, subject_cn, crypto_err_name(rc));
    }

    snprintf(title, sizeof title, "certificate %zu", index);
    em_begin(e, NULL, title, false);
    em_uint(e, "index", NULL, index, 0, NULL);
    em_str(e, "role", "role", cert_role(subject_cn, self_issued), NULL);
    em_str(e, "subject", "subject", subject, NULL);
    em_str(e, "subject_cn", NULL, subject_cn, NULL);
    em_str(e, "issuer", "issuer", issuer, NULL);
    em_str(e, "issuer_cn", NULL, issuer_cn, NULL);
    if (x509_cert_serial(c, serial, sizeof serial, &serial_len) == CRYPTO_OK)
        em_hex(e, "serial", "serial", serial, serial_len);
    else
        em_null(e, "serial", "serial", "(unreadable)");
    em_str(e, "not_before", "not_before", nb_s[0] ? nb_s : NULL, "(unreadable)");
    em_str(e, "not_after", "not_after", na_s[0] ? na_s : NULL, "(unreadable)");
    em_bool(e, "self_issued", "self_issued", self_issued);
    em_bool(e, "is_ca", "is_ca", x509_cert_is_ca(c));
    em_bool(e, "has_sgx_extension", "has_sgx_extension", rc != CRYPTO_E_NOT_FOUND);
    if (x509_cert_sha256(c, digest) == CRYPTO_OK)
        em_hex(e, "sha256", "sha256", digest, sizeof digest);
    else
        em_null(e, "sha256", "sha256", "(unavailable)");
    em_null(e, "error", NULL, NULL);
    em_end(e);
out:
    free(subject);
    free(issuer);
}

static void show_bad_cert(inspect_ctx *ctx, size_t index, int rc)
{
    emitter *e = &ctx->em;
    char title[64], msg[128];

    snprintf(msg, sizeof msg, "PEM block does not decode as a certificate (%s)",
             crypto_err_name(rc));
    add_error(ctx, "certificate %zu: %s", index, msg);
    snprintf(title, sizeof title, "certificate %zu", index);
    em_begin(e, NULL, title, false);
    em_uint(e, "index", NULL, index, 0, NULL);
    em_str(e, "error", "error", msg, NULL);
    em_end(e);
}

/* Type 5: one certificate per PEM block quote_parse found; type 4: every
 * PEM block in the data (quote-format §1.5). */
static void show_chain(inspect_ctx *ctx, const quote_view *q)
{
    emitter *e = &ctx->em;
    x509_cert **certs = NULL;
    size_t n = 0;

    em_begin(e, "chain", NULL, true);
    if (q->cert_type == CERT_DATA_PCK_CHAIN) {
        for (size_t i = 0; i < q->pem_count; i++) {
            x509_cert *c = NULL;
            int rc = x509_cert_from_pem(q->pem[i].pem, q->pem[i].len, &c);
            if (rc == CRYPTO_OK)
                show_cert(ctx, i, c);
            else
                show_bad_cert(ctx, i, rc);
            x509_cert_free(c);
        }
    } else {
        int rc = x509_chain_from_pem((const char *)q->cert_data, q->cert_data_len, &certs, &n);
        if (rc != CRYPTO_OK)
            add_error(ctx, "certification data type 4 holds no readable PEM certificate (%s)",
                      crypto_err_name(rc));
        for (size_t i = 0; i < n; i++)
            show_cert(ctx, i, certs[i]);
        x509_chain_free(certs, n);
    }
    em_end(e);
}

static void show_cert_data(inspect_ctx *ctx, const quote_view *q)
{
    emitter *e = &ctx->em;

    em_begin(e, "certification_data", "certification data (sgx_ql_certification_data_t)", false);
    em_uint(e, "type", "type", q->cert_type, 0, cert_type_name(q->cert_type));
    em_str(e, "type_name", NULL, cert_type_name(q->cert_type), NULL);
    em_uint(e, "size", "size", q->cert_data_len, 0, NULL);
    switch (q->cert_type) {
    case CERT_DATA_PPID_CLEARTEXT:
    case CERT_DATA_PPID_RSA2048:
    case CERT_DATA_PPID_RSA3072:
        show_ppid_cert_data(ctx, q);
        break;
    case CERT_DATA_PCK_CLEARTEXT:
    case CERT_DATA_PCK_CHAIN:
        show_chain(ctx, q);
        break;
    default: /* quote_parse admits only 1-5; keep the bytes if that changes */
        em_hex(e, "data", "data", q->cert_data, q->cert_data_len);
        break;
    }
    em_end(e);
}

/* quote-format §1.4 (v3) and §2.2 (v4/v5, outer type 6). */
static void show_signature_data(inspect_ctx *ctx, const quote_view *q)
{
    emitter *e = &ctx->em;
    bool nested = q->version != 3;

    em_begin(e, "signature_data",
             nested ? "Signature data (sgx_ecdsa_sig_data_v4_t)"
                    : "Signature data (sgx_ql_ecdsa_sig_data_t)",
             false);
    em_uint(e, "size", "size", q->signature_data_len, 0, NULL);
    em_hex(e, "isv_signature", "report signature (r||s)", q->isv_sig, QF_SIG_SIZE);
    em_hex(e, "attestation_public_key", "attestation key (X||Y)", q->attest_pub_key, QF_KEY_SIZE);
    if (nested) {
        em_uint(e, "outer_certification_data_type", "outer cert data type", q->outer_cert_type, 0,
                cert_type_name(q->outer_cert_type));
        /* quote_parse enforced N = 134 + S. */
        em_uint(e, "outer_certification_data_size", "outer cert data size",
                q->signature_data_len - QF_V4_SIG_FIXED, 0, NULL);
    } else {
        em_null(e, "outer_certification_data_type", NULL, NULL);
        em_null(e, "outer_certification_data_size", NULL, NULL);
    }
    em_begin(e, "qe_report", "QE report body (sgx_report_body_t)", false);
    show_sgx_report_body(e, &q->qe_report);
    em_end(e);
    em_hex(e, "qe_report_signature", "QE report signature (r||s)", q->qe_report_sig, QF_SIG_SIZE);
    em_uint(e, "qe_auth_data_size", "QE auth data size", q->qe_auth_data_len, 0, NULL);
    em_hex(e, "qe_auth_data", "QE auth data", q->qe_auth_data, q->qe_auth_data_len);
    show_cert_data(ctx, q);
    em_end(e);
}

/* quote-format §5.2 */
static void show_pck_ext(inspect_ctx *ctx)
{
    emitter *e = &ctx->em;
    const sgx_pck_ext *x = &ctx->pck_ext;
    char svns[16 * 4 + 1] = "";

    if (!ctx->have_pck_ext) {
        em_null(e, "pck_sgx_extension", NULL, NULL);
        return;
    }
    em_begin(e, "pck_sgx_extension", "PCK certificate SGX extension (OID 1.2.840.113741.1.13.1)",
             false);
    em_uint(e, "cert_index", "in certificate", ctx->pck_ext_index, 0, NULL);
    em_hex(e, "ppid", "ppid", x->ppid, sizeof x->ppid);
    if (e->json) {
        json_t *list = json_array();
        for (size_t i = 0; list != NULL && i < 16; i++)
            json_array_append_new(list, json_integer(x->comp_svn[i]));
        em_put(e, "tcb_comp_svn", list);
    } else {
        for (size_t i = 0; i < 16; i++) {
            size_t used = strlen(svns);
            snprintf(svns + used, sizeof svns - used, "%s%u", i ? " " : "", x->comp_svn[i]);
        }
        em_str(e, NULL, "tcb comp01..16 svn", svns, NULL);
    }
    em_uint(e, "pcesvn", "pcesvn", x->pcesvn, 0, NULL);
    em_hex(e, "cpusvn", "cpusvn", x->cpusvn, sizeof x->cpusvn);
    em_hex(e, "pce_id", "pce_id", x->pceid, sizeof x->pceid);
    em_hex(e, "fmspc", "fmspc", x->fmspc, sizeof x->fmspc);
    em_uint(e, "sgx_type", "sgx_type", (unsigned)x->sgx_type, 0, sgx_type_name(x->sgx_type));
    em_str(e, "sgx_type_name", NULL, sgx_type_name(x->sgx_type), NULL);
    if (x->has_platform_instance_id)
        em_hex(e, "platform_instance_id", "platform_instance_id", x->platform_instance_id,
               sizeof x->platform_instance_id);
    else
        em_null(e, "platform_instance_id", NULL, NULL);
    if (x->has_configuration) {
        em_begin(e, "configuration", "configuration", false);
        em_bool(e, "dynamic_platform", "dynamic_platform", x->dynamic_platform);
        em_bool(e, "cached_keys", "cached_keys", x->cached_keys);
        em_bool(e, "smt_enabled", "smt_enabled", x->smt_enabled);
        em_end(e);
    } else {
        em_null(e, "configuration", NULL, NULL);
    }
    em_end(e);
}

static void show_summary(inspect_ctx *ctx, const quote_view *q)
{
    emitter *e = &ctx->em;

    em_uint(e, "schema_version", NULL, INSPECT_SCHEMA_VERSION, 0, NULL);
    em_str(e, "file", NULL, ctx->name, NULL);
    em_uint(e, "file_size", NULL, q->raw_len, 0, NULL);
    em_uint(e, "quote_size", NULL, q->quote_len, 0, NULL);
    em_uint(e, "trailing_bytes", NULL, q->raw_len - q->quote_len, 0, NULL);
    if (e->json)
        return;
    fprintf(e->out, "%s: %s quote v%u, %zu bytes", ctx->name, tee_name(q->tee_type), q->version,
            q->quote_len);
    if (q->raw_len > q->quote_len)
        fprintf(e->out, " (+%zu trailing bytes ignored)", q->raw_len - q->quote_len);
    fprintf(e->out, ", certification data type %u (%s)\n", q->cert_type,
            cert_type_name(q->cert_type));
}

static void show_errors(inspect_ctx *ctx)
{
    emitter *e = &ctx->em;

    if (!e->json)
        return;
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < ctx->n_errors; i++)
        json_array_append_new(list, json_text(ctx->errors[i]));
    em_put(e, "errors", list);
}

/* ------------------------------------------------------------------ */
/* Naming what quote_parse refused                                     */
/* ------------------------------------------------------------------ */

/* A second walk over the raw bytes that follows the declared lengths and
 * stops at the first field that does not fit. `file_only`: judge fields
 * against the end of the file (QUOTE_E_TRUNCATED); otherwise against the
 * regions the quote itself declares (QUOTE_E_SIZE_MISMATCH). Along the way
 * it notes the size and type fields, for the other error kinds. */
typedef struct {
    reader r; /* over the whole file (at most QUOTE_MAX_SIZE bytes) */
    size_t file_len;
    bool file_only;
    size_t region_end;       /* absolute; SIZE_MAX = none yet */
    const char *region_name; /* e.g. "the signature data" */
    size_t region_start, region_len;
    char *msg;
    size_t cap;
    bool found; /* msg holds the answer */
    /* Values read so far (valid when the have_ flag is set). */
    bool have_sig_len, have_outer, have_cert;
    uint32_t sig_len, outer_len, cert_len;
    uint16_t outer_type, cert_type;
    size_t outer_type_at, cert_type_at;
} layout_walk;

static bool walk_check(layout_walk *w, const char *what, size_t n)
{
    size_t at = reader_offset(&w->r);

    if (!w->file_only && w->region_end != SIZE_MAX && n > w->region_end - at) {
        snprintf(w->msg, w->cap,
                 "%s (%zu bytes at offset %zu) runs past the end of %s (%zu bytes declared at "
                 "offset %zu)",
                 what, n, at, w->region_name, w->region_len, w->region_start);
        w->found = true;
        return false;
    }
    if (n > w->file_len - at) {
        snprintf(w->msg, w->cap,
                 "%s (%zu bytes at offset %zu) runs past the end of the quote (%zu bytes)", what,
                 n, at, w->file_len);
        w->found = true;
        return false;
    }
    return true;
}

static bool walk_skip(layout_walk *w, const char *what, size_t n)
{
    return walk_check(w, what, n) && reader_skip(&w->r, n) == READER_OK;
}

static bool walk_u16(layout_walk *w, const char *what, uint16_t *v)
{
    return walk_check(w, what, 2) && reader_u16le(&w->r, v) == READER_OK;
}

static bool walk_u32(layout_walk *w, const char *what, uint32_t *v)
{
    return walk_check(w, what, 4) && reader_u32le(&w->r, v) == READER_OK;
}

/* Enter a region of n declared bytes starting at the cursor. */
static bool walk_region(layout_walk *w, const char *what, size_t n)
{
    if (!walk_check(w, what, n))
        return false;
    w->region_start = reader_offset(&w->r);
    w->region_len = n;
    w->region_end = w->region_start + n;
    w->region_name = what;
    return true;
}

/* Bytes left inside the current region once its last field is read. */
static bool walk_region_done(layout_walk *w, const char *last)
{
    size_t at = reader_offset(&w->r);

    if (w->file_only || w->region_end == SIZE_MAX || at == w->region_end)
        return true;
    snprintf(w->msg, w->cap,
             "%zu byte%s follow%s the %s inside %s (%zu bytes declared at offset %zu): the "
             "declared sizes disagree",
             w->region_end - at, w->region_end - at == 1 ? "" : "s",
             w->region_end - at == 1 ? "s" : "", last, w->region_name, w->region_len,
             w->region_start);
    w->found = true;
    return false;
}

/* QE report, its signature, auth data and certification data: §1.4 from
 * abs 564 (v3) and §2.2 (inside type 6). */
static bool walk_qe_block(layout_walk *w)
{
    uint16_t auth_len;

    if (!walk_skip(w, "the QE report", SGX_REPORT_BODY_SIZE) ||
        !walk_skip(w, "the QE report signature", QF_SIG_SIZE) ||
        !walk_u16(w, "the QE auth data size", &auth_len) ||
        !walk_skip(w, "the QE auth data", auth_len))
        return false;
    w->cert_type_at = reader_offset(&w->r);
    if (!walk_u16(w, "the certification data type", &w->cert_type) ||
        !walk_u32(w, "the certification data size", &w->cert_len))
        return false;
    w->have_cert = true;
    return walk_skip(w, "the certification data", w->cert_len) &&
           walk_region_done(w, "certification data");
}

static void walk_layout(layout_walk *w)
{
    uint16_t version = 0, body_type = 0;
    uint32_t tee_type = 0, body_len = 0;
    size_t sig_at;

    if (!walk_check(w, "the quote header", QF_HEADER_SIZE) ||
        reader_u16le(&w->r, &version) != READER_OK || reader_skip(&w->r, 2) != READER_OK ||
        reader_u32le(&w->r, &tee_type) != READER_OK ||
        reader_skip(&w->r, QF_HEADER_SIZE - 8) != READER_OK)
        return;
    if (version == 5) {
        if (!walk_u16(w, "the v5 body type", &body_type) ||
            !walk_u32(w, "the v5 body size", &body_len))
            return;
    } else {
        body_len = tee_type == SGX_TEE_TYPE_SGX ? SGX_REPORT_BODY_SIZE : QF_TD10_BODY_SIZE;
    }
    if (!walk_skip(w, tee_type == SGX_TEE_TYPE_SGX ? "the report body" : "the TD report body",
                   body_len) ||
        !walk_u32(w, "the signature data size", &w->sig_len))
        return;
    w->have_sig_len = true;
    sig_at = reader_offset(&w->r);
    /* file_only: the region runs past the end of the file by definition;
     * name the field inside it that crosses the end. */
    if (!w->file_only && !walk_region(w, "the signature data", w->sig_len))
        return;
    if (!walk_skip(w, "the report signature", QF_SIG_SIZE) ||
        !walk_skip(w, "the attestation key", QF_KEY_SIZE))
        return;
    if (version == 3) {
        if (!walk_qe_block(w))
            return;
    } else {
        w->outer_type_at = reader_offset(&w->r);
        if (!walk_u16(w, "the outer certification data type", &w->outer_type) ||
            !walk_u32(w, "the outer certification data size", &w->outer_len))
            return;
        w->have_outer = true;
        if (!walk_check(w, "the type-6 QE report certification data", w->outer_len))
            return;
        /* N = 134 + S (§2.2): nothing may follow the type-6 data. */
        if (!w->file_only && reader_offset(&w->r) + w->outer_len != w->region_end) {
            snprintf(w->msg, w->cap,
                     "the signature data declares %zu bytes but its type-6 certification data "
                     "(%u bytes) makes it %zu (N = 134 + S)",
                     w->region_len, w->outer_len, (size_t)QF_V4_SIG_FIXED + w->outer_len);
            w->found = true;
            return;
        }
        if (!w->file_only && !walk_region(w, "the QE report certification data", w->outer_len))
            return;
        if (!walk_qe_block(w))
            return;
    }
    if (w->file_only) {
        snprintf(w->msg, w->cap,
                 "the signature data (%u bytes declared at offset %zu) runs past the end of the "
                 "quote (%zu bytes)",
                 w->sig_len, sig_at, w->file_len);
        w->found = true;
    }
}

/* Header values for the errors quote_parse reports about the header. */
static void describe_header_error(const uint8_t *buf, size_t len, int err, char *msg, size_t cap)
{
    uint16_t version = 0, key_type = 0, body_type = 0;
    uint32_t tee_type = 0, body_size = 0;
    reader r;

    if (reader_init(&r, buf, len) != READER_OK || reader_u16le(&r, &version) != READER_OK ||
        reader_u16le(&r, &key_type) != READER_OK || reader_u32le(&r, &tee_type) != READER_OK) {
        snprintf(msg, cap, "%s", quote_strerror(err));
        return;
    }
    switch (err) {
    case QUOTE_E_VERSION:
        snprintf(msg, cap, "not a quote: version field is %u (expected 3, 4 or 5)", version);
        break;
    case QUOTE_E_ATT_KEY_TYPE:
        snprintf(msg, cap,
                 "attestation key type is %u; only 2 (ECDSA-256-with-P-256) is supported",
                 key_type);
        break;
    case QUOTE_E_TEE_TYPE:
        snprintf(msg, cap,
                 "tee_type 0x%08x is not allowed in a version %u quote (v3: SGX 0x00000000; "
                 "v4/v5: SGX or TDX 0x00000081)",
                 tee_type, version);
        break;
    default: /* QUOTE_E_BODY_TYPE, §2.4 */
        if (reader_skip(&r, QF_HEADER_SIZE - 8) == READER_OK &&
            reader_u16le(&r, &body_type) == READER_OK && reader_u32le(&r, &body_size) == READER_OK)
            snprintf(msg, cap,
                     "v5 body type %u with size %u does not fit tee_type 0x%08x (SGX: type 1, "
                     "384; TDX: type 2, 584 or type 3, 648)",
                     body_type, body_size, tee_type);
        else
            snprintf(msg, cap, "%s", quote_strerror(err));
        break;
    }
}

/* The fields behind QUOTE_E_CERT_TYPE and QUOTE_E_TOO_LARGE. */
static void describe_field_error(const layout_walk *w, int err, char *msg, size_t cap)
{
    if (err == QUOTE_E_CERT_TYPE && w->have_outer && w->outer_type != CERT_DATA_QE_REPORT)
        snprintf(msg, cap,
                 "outer certification data type %u at offset %zu must be 6 (QE report "
                 "certification data) in a v4/v5 quote",
                 w->outer_type, w->outer_type_at);
    else if (err == QUOTE_E_CERT_TYPE && w->have_cert)
        snprintf(msg, cap,
                 "certification data type %u at offset %zu is not allowed here (expected 1-5)",
                 w->cert_type, w->cert_type_at);
    else if (err == QUOTE_E_TOO_LARGE && w->have_cert && w->cert_len > QUOTE_CERT_DATA_MAX)
        snprintf(msg, cap, "the certification data size %u exceeds the %u-byte limit",
                 w->cert_len, QUOTE_CERT_DATA_MAX);
    else if (err == QUOTE_E_TOO_LARGE && w->have_outer && w->outer_len > QUOTE_CERT_DATA_MAX)
        snprintf(msg, cap, "the outer certification data size %u exceeds the %u-byte limit",
                 w->outer_len, QUOTE_CERT_DATA_MAX);
    else if (err == QUOTE_E_TOO_LARGE && w->have_sig_len && w->sig_len > QUOTE_MAX_SIZE)
        snprintf(msg, cap, "the signature data size %u exceeds the %u-byte quote limit",
                 w->sig_len, QUOTE_MAX_SIZE);
    else if (err == QUOTE_E_TOO_LARGE && w->have_cert && w->cert_type == CERT_DATA_PCK_CHAIN)
        snprintf(msg, cap, "the PCK certificate chain holds more than %d PEM certificates",
                 QUOTE_MAX_CHAIN_CERTS);
    else
        snprintf(msg, cap, "%s", quote_strerror(err));
}

static void describe_parse_error(const uint8_t *buf, size_t len, int err, char *msg, size_t cap)
{
    layout_walk w;

    switch (err) {
    case QUOTE_E_VERSION:
    case QUOTE_E_ATT_KEY_TYPE:
    case QUOTE_E_TEE_TYPE:
    case QUOTE_E_BODY_TYPE:
        describe_header_error(buf, len, err, msg, cap);
        return;
    case QUOTE_E_PEM:
        snprintf(msg, cap,
                 "the certification data (type 5) holds no well-formed PEM certificate (none "
                 "at all, a BEGIN line without its END line, or a BEGIN inside a block)");
        return;
    default:
        break;
    }
    memset(&w, 0, sizeof w);
    w.msg = msg;
    w.cap = cap;
    w.file_len = len < QUOTE_MAX_SIZE ? len : QUOTE_MAX_SIZE;
    w.region_end = SIZE_MAX;
    w.file_only = err == QUOTE_E_TRUNCATED;
    if (reader_init(&w.r, buf, w.file_len) == READER_OK)
        walk_layout(&w);
    if (err == QUOTE_E_CERT_TYPE || err == QUOTE_E_TOO_LARGE)
        describe_field_error(&w, err, msg, cap);
    else if (!w.found)
        snprintf(msg, cap, "%s", quote_strerror(err));
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

static void inspect_usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote inspect QUOTE [--json]\n"
            "  Prints every header, body and signature field of an SGX or TDX ECDSA quote\n"
            "  (v3, v4, v5), the certification data (PPID fields for types 1-3, the PCK\n"
            "  certificate chain for types 4-5: subject, issuer, validity), and the PCK\n"
            "  certificate's SGX extension (FMSPC, TCB component SVNs, PCESVN, CPUSVN,\n"
            "  PCE-ID, SGX type, PPID). Nothing is verified. QUOTE may be '-' for stdin;\n"
            "  a quote in base64, in PEM-like armor or in hex is decoded first (stderr\n"
            "  says which).\n"
            "  --json   one JSON document on stdout (schema: docs/inspect.md)\n"
            "  --help   this text\n"
            "exit codes: 0 printed; 1 not a well-formed quote, or a certificate in it\n"
            "  does not decode (stderr names what failed); 2 usage error; 3 QUOTE\n"
            "  could not be read.\n");
}

static int inspect_quote(const char *name, const uint8_t *buf, size_t len, bool json)
{
    inspect_ctx *ctx = NULL;
    quote_view q;
    char msg[INSPECT_MSG_LEN];
    int rc, ret = CLI_EXIT_FAIL;

    rc = quote_parse(buf, len, &q);
    if (rc != QUOTE_OK) {
        describe_parse_error(buf, len, rc, msg, sizeof msg);
        fprintf(stderr, "sgx-quote inspect: %s: %s (%s)\n", name, msg, quote_err_name(rc));
        return CLI_EXIT_FAIL;
    }
    ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        goto oom;
    ctx->name = name;
    ctx->em.json = json;
    ctx->em.out = stdout;
    ctx->em.depth = 1;
    if (json) {
        ctx->em.stack[0] = json_object();
        if (ctx->em.stack[0] == NULL)
            goto oom;
    }

    show_summary(ctx, &q);
    show_header(&ctx->em, &q);
    show_body(&ctx->em, &q);
    show_signature_data(ctx, &q);
    show_pck_ext(ctx);
    show_errors(ctx);
    if (ctx->em.failed)
        goto oom;
    if (json) {
        if (json_dumpf(ctx->em.stack[0], stdout, JSON_INDENT(2)) != 0)
            goto oom;
        fputc('\n', stdout);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "sgx-quote inspect: writing to stdout: %s\n", strerror(errno));
        ret = CLI_EXIT_IO;
        goto out;
    }
    for (size_t i = 0; i < ctx->n_errors; i++)
        fprintf(stderr, "sgx-quote inspect: %s: %s\n", name, ctx->errors[i]);
    ret = ctx->n_errors == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    goto out;
oom:
    fprintf(stderr, "sgx-quote inspect: %s: out of memory\n", name);
    ret = CLI_EXIT_FAIL;
out:
    if (ctx != NULL)
        json_decref(ctx->em.stack[0]);
    free(ctx);
    return ret;
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *path, *name;
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'h':
            inspect_usage(stdout);
            return CLI_EXIT_OK;
        default:
            fprintf(stderr, "sgx-quote inspect: unknown option '%s'\n", argv[optind - 1]);
            inspect_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "sgx-quote inspect: missing QUOTE (a file, or '-' for stdin)\n");
        inspect_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (argc - optind > 1) {
        fprintf(stderr, "sgx-quote inspect: unexpected argument '%s' (one QUOTE at a time)\n",
                argv[optind + 1]);
        return CLI_EXIT_USAGE;
    }
    path = argv[optind];
    name = strcmp(path, "-") == 0 ? "<stdin>" : path;

    rc = cli_read_file(path, QUOTE_MAX_SIZE, &buf, &len);
    if (rc == -EFBIG) {
        fprintf(stderr, "sgx-quote inspect: %s: larger than %u bytes, not a quote (%s)\n", name,
                QUOTE_MAX_SIZE, quote_err_name(QUOTE_E_TOO_LARGE));
        return CLI_EXIT_FAIL;
    }
    if (rc != 0) {
        fprintf(stderr, "sgx-quote inspect: %s: cannot read: %s\n", name, strerror(-rc));
        return CLI_EXIT_IO;
    }
    {
        quote_text_kind kind;
        uint8_t *decoded = NULL;
        size_t dlen = 0;
        char label[QUOTE_TEXT_LABEL_SIZE];
        if (quote_text_decode(buf, len, &kind, &decoded, &dlen, label) != 0) {
            fprintf(stderr, "sgx-quote inspect: %s: out of memory\n", name);
            free(buf);
            return CLI_EXIT_FAIL;
        }
        if (kind == QUOTE_TEXT_UNKNOWN) {
            fprintf(stderr, "sgx-quote inspect: %s: text that is not a quote, and neither base64 "
                            "nor hex: give the raw quote bytes (or the quote in base64 or hex)\n",
                    name);
            free(buf);
            return CLI_EXIT_FAIL;
        }
        /* PEM armor that names something else: a certificate, CRL or key
         * (people do point inspect at the chain files). */
        if (kind == QUOTE_TEXT_PEM &&
            (strstr(label, "CERTIFICATE") != NULL || strstr(label, "CRL") != NULL ||
             strstr(label, "KEY") != NULL || strstr(label, "PARAMETERS") != NULL)) {
            fprintf(stderr, "sgx-quote inspect: %s: a PEM \"%s\", not a quote (inspect reads "
                            "SGX and TDX quotes: raw, or as base64, PEM-like text or hex; "
                            "`openssl x509 -text` reads certificates)\n", name, label);
            free(decoded);
            free(buf);
            return CLI_EXIT_FAIL;
        }
        if (kind != QUOTE_TEXT_BINARY) {
            if (kind == QUOTE_TEXT_PEM)
                fprintf(stderr, "sgx-quote inspect: %s: PEM-like text (\"%s\"), base64-decoded "
                                "to %zu bytes\n", name, label, dlen);
            else
                fprintf(stderr, "sgx-quote inspect: %s: %s text, decoded to %zu bytes\n", name,
                        quote_text_kind_name(kind), dlen);
            free(buf);
            buf = decoded;
            len = dlen;
        }
    }
    rc = inspect_quote(name, buf, len, json);
    free(buf);
    return rc;
}
