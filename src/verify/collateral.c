/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collateral in → verify_collateral (quote-format §6.1): from a directory in
 * the vectors' layout, from a dcap-qvl QuoteCollateralV3 JSON document, or
 * item by item (pccs.c uses the setters). The TCB info and QE identity keep
 * the exact bytes of the signed `tcbInfo` / `enclaveIdentity` value, located
 * in the envelope text by a small bounded scanner and never re-serialised
 * (§6.5). CRLs are normalised to DER whatever encoding they arrived in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sgx/reader.h"
#include "verify_internal.h"

#define JSON_SCAN_MAX_DEPTH 64

void verify_collateral_free(verify_collateral *c)
{
    if (c == NULL)
        return;
    free(c->root_ca_crl);
    free(c->pck_crl);
    free(c->pck_crl_issuer_chain);
    free(c->tcb_info);
    free(c->tcb_info_issuer_chain);
    free(c->qe_identity);
    free(c->qe_identity_issuer_chain);
    free(c->pck_chain);
    memset(c, 0, sizeof *c);
}

int verify_collateral_set_text(char **dst, size_t *dst_len, const void *in, size_t len)
{
    if (dst == NULL || dst_len == NULL || (in == NULL && len > 0))
        return VERIFY_E_INVALID_ARG;
    if (len > VERIFY_COLLATERAL_ITEM_MAX)
        return VERIFY_E_FORMAT;
    char *p = malloc(len + 1);
    if (p == NULL)
        return VERIFY_E_NOMEM;
    if (len > 0)
        memcpy(p, in, len);
    p[len] = '\0';
    free(*dst);
    *dst = p;
    *dst_len = len;
    return VERIFY_OK;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int verify_collateral_set_crl(uint8_t **dst, size_t *dst_len, const uint8_t *in, size_t len)
{
    if (dst == NULL || dst_len == NULL || in == NULL)
        return VERIFY_E_INVALID_ARG;
    if (len == 0 || len > VERIFY_COLLATERAL_ITEM_MAX)
        return VERIFY_E_FORMAT;
    uint8_t *der = NULL;
    size_t der_len = 0;
    if (in[0] == 0x30) { /* DER SEQUENCE */
        der = malloc(len);
        if (der == NULL)
            return VERIFY_E_NOMEM;
        memcpy(der, in, len);
        der_len = len;
    } else if (len > 10 && memmem(in, len, "-----BEGIN X509 CRL-----", 24) != NULL) {
        x509_crl *crl = NULL;
        int rc = x509_crl_from_pem((const char *)in, len, &crl);
        if (rc != 0)
            return VERIFY_E_FORMAT;
        rc = x509_crl_to_der(crl, &der, &der_len);
        x509_crl_free(crl);
        if (rc != 0)
            return rc == CRYPTO_E_NOMEM ? VERIFY_E_NOMEM : VERIFY_E_FORMAT;
    } else { /* hex-encoded DER (PCCS rootcacrl, QuoteCollateralV3) */
        size_t n = len;
        while (n > 0 && (is_space(in[n - 1]) || in[n - 1] == '\0'))
            n--;
        if (n == 0 || n % 2 != 0)
            return VERIFY_E_FORMAT;
        der = malloc(n / 2);
        if (der == NULL)
            return VERIFY_E_NOMEM;
        if (!hex_exact((const char *)in, n, der, n / 2)) {
            free(der);
            return VERIFY_E_FORMAT;
        }
        der_len = n / 2;
    }
    free(*dst);
    *dst = der;
    *dst_len = der_len;
    return VERIFY_OK;
}

/* ---- A bounded scanner for the raw span of one JSON value ---- */

static int scan_ws(reader *r)
{
    const uint8_t *p;
    while (reader_peek(r, 1, &p) == 0 && is_space(*p))
        reader_skip(r, 1);
    return 0;
}

static int scan_string(reader *r)
{
    uint8_t c;
    if (reader_u8(r, &c) != 0 || c != '"')
        return VERIFY_E_FORMAT;
    for (;;) {
        if (reader_u8(r, &c) != 0)
            return VERIFY_E_FORMAT;
        if (c == '"')
            return 0;
        if (c == '\\' && reader_skip(r, 1) != 0)
            return VERIFY_E_FORMAT;
        if (c < 0x20)
            return VERIFY_E_FORMAT;
    }
}

static int scan_value(reader *r, int depth)
{
    const uint8_t *p;
    uint8_t c;
    if (depth > JSON_SCAN_MAX_DEPTH || reader_peek(r, 1, &p) != 0)
        return VERIFY_E_FORMAT;
    if (*p == '"')
        return scan_string(r);
    if (*p == '{' || *p == '[') {
        uint8_t close = *p == '{' ? '}' : ']';
        bool object = *p == '{';
        reader_skip(r, 1);
        scan_ws(r);
        if (reader_peek(r, 1, &p) == 0 && *p == close) {
            reader_skip(r, 1);
            return 0;
        }
        for (;;) {
            scan_ws(r);
            if (object) {
                if (scan_string(r) != 0)
                    return VERIFY_E_FORMAT;
                scan_ws(r);
                if (reader_u8(r, &c) != 0 || c != ':')
                    return VERIFY_E_FORMAT;
                scan_ws(r);
            }
            if (scan_value(r, depth + 1) != 0)
                return VERIFY_E_FORMAT;
            scan_ws(r);
            if (reader_u8(r, &c) != 0)
                return VERIFY_E_FORMAT;
            if (c == close)
                return 0;
            if (c != ',')
                return VERIFY_E_FORMAT;
        }
    }
    /* number / true / false / null: up to the next delimiter */
    size_t n = 0;
    while (reader_peek(r, 1, &p) == 0 && !is_space(*p) && *p != ',' && *p != '}' && *p != ']') {
        if (*p == '"' || *p == '{' || *p == '[' || *p == ':')
            return VERIFY_E_FORMAT;
        reader_skip(r, 1);
        n++;
    }
    return n > 0 ? 0 : VERIFY_E_FORMAT;
}

int verify_json_value_span(const char *doc, size_t len, const char *key, size_t *off, size_t *vlen)
{
    reader r;
    uint8_t c;
    bool found = false;
    size_t klen = key != NULL ? strlen(key) : 0;
    if (doc == NULL || key == NULL || off == NULL || vlen == NULL)
        return VERIFY_E_INVALID_ARG;
    if (reader_init(&r, doc, len) != 0)
        return VERIFY_E_FORMAT;
    scan_ws(&r);
    if (reader_u8(&r, &c) != 0 || c != '{')
        return VERIFY_E_FORMAT;
    scan_ws(&r);
    const uint8_t *p;
    if (reader_peek(&r, 1, &p) == 0 && *p == '}')
        return VERIFY_E_FORMAT; /* empty object: key absent */
    for (;;) {
        scan_ws(&r);
        size_t kstart = reader_offset(&r);
        if (scan_string(&r) != 0)
            return VERIFY_E_FORMAT;
        size_t kend = reader_offset(&r);
        /* Raw comparison: keys we look for never need escapes, and a key
         * spelled with escapes is simply a different key to us. */
        bool match = kend - kstart == klen + 2 && memcmp(doc + kstart + 1, key, klen) == 0;
        scan_ws(&r);
        if (reader_u8(&r, &c) != 0 || c != ':')
            return VERIFY_E_FORMAT;
        scan_ws(&r);
        size_t vstart = reader_offset(&r);
        if (scan_value(&r, 1) != 0)
            return VERIFY_E_FORMAT;
        if (match) {
            if (found)
                return VERIFY_E_FORMAT; /* duplicate key: ambiguous */
            found = true;
            *off = vstart;
            *vlen = reader_offset(&r) - vstart;
        }
        scan_ws(&r);
        if (reader_u8(&r, &c) != 0)
            return VERIFY_E_FORMAT;
        if (c == '}')
            break;
        if (c != ',')
            return VERIFY_E_FORMAT;
    }
    scan_ws(&r);
    /* a trailing NUL (C strings written out whole) is tolerated */
    while (reader_peek(&r, 1, &p) == 0 && *p == '\0')
        reader_skip(&r, 1);
    if (reader_remaining(&r) != 0)
        return VERIFY_E_FORMAT;
    return found ? VERIFY_OK : VERIFY_E_FORMAT;
}

/* The envelope {"<key>":{…},"signature":"<128 hex>"}. */
static int set_signed_doc(const char *doc, size_t len, const char *key, char **body,
                          size_t *body_len, uint8_t sig[64], char *err, size_t cap)
{
    json_error_t jerr;
    size_t off, vlen;
    int rc = VERIFY_E_FORMAT;
    if (doc == NULL || len == 0 || len > VERIFY_COLLATERAL_ITEM_MAX) {
        vfmt(err, cap, "the %s document is empty or too large", key);
        return VERIFY_E_FORMAT;
    }
    size_t jlen = len;
    while (jlen > 0 && doc[jlen - 1] == '\0')
        jlen--;
    json_t *root = json_loadb(doc, jlen, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        vfmt(err, cap, "the %s document is not a JSON object (%s)", key,
             root == NULL ? jerr.text : "wrong type");
        goto out;
    }
    json_t *s = json_object_get(root, "signature");
    if (!json_is_string(s) || !hex_exact(json_string_value(s), json_string_length(s), sig, 64)) {
        vfmt(err, cap, "the %s document has no 128-hex-digit \"signature\"", key);
        goto out;
    }
    if (!json_is_object(json_object_get(root, key)) ||
        verify_json_value_span(doc, jlen, key, &off, &vlen) != 0) {
        vfmt(err, cap, "the %s document has no \"%s\" object", key, key);
        goto out;
    }
    rc = verify_collateral_set_text(body, body_len, doc + off, vlen);
out:
    json_decref(root);
    return rc;
}

int verify_collateral_set_tcb_info_doc(verify_collateral *c, const char *doc, size_t len,
                                       char *err, size_t errcap)
{
    if (c == NULL)
        return VERIFY_E_INVALID_ARG;
    return set_signed_doc(doc, len, "tcbInfo", &c->tcb_info, &c->tcb_info_len,
                          c->tcb_info_signature, err, errcap);
}

int verify_collateral_set_qe_identity_doc(verify_collateral *c, const char *doc, size_t len,
                                          char *err, size_t errcap)
{
    if (c == NULL)
        return VERIFY_E_INVALID_ARG;
    return set_signed_doc(doc, len, "enclaveIdentity", &c->qe_identity, &c->qe_identity_len,
                          c->qe_identity_signature, err, errcap);
}

/* ---- directory layout ---- */

static int read_file(const char *dir, const char *name, bool optional, uint8_t **data,
                     size_t *len, char *err, size_t cap)
{
    char path[4096];
    int rc = VERIFY_OK;
    uint8_t *buf = NULL;
    size_t used = 0;
    vfmt(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (optional && errno == ENOENT) {
            *data = NULL;
            *len = 0;
            return VERIFY_OK;
        }
        vfmt(err, cap, "cannot read %s: %s", path, strerror(errno));
        return VERIFY_E_IO;
    }
    buf = malloc(VERIFY_COLLATERAL_ITEM_MAX + 1);
    if (buf == NULL) {
        rc = VERIFY_E_NOMEM;
        goto out;
    }
    used = fread(buf, 1, VERIFY_COLLATERAL_ITEM_MAX + 1, f);
    if (ferror(f)) {
        vfmt(err, cap, "cannot read %s", path);
        rc = VERIFY_E_IO;
        goto out;
    }
    if (used > VERIFY_COLLATERAL_ITEM_MAX) {
        vfmt(err, cap, "%s is larger than %u bytes", path, VERIFY_COLLATERAL_ITEM_MAX);
        rc = VERIFY_E_FORMAT;
        goto out;
    }
    *data = buf;
    *len = used;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

int verify_collateral_load_dir(const char *dir, verify_collateral *out, char *err, size_t cap)
{
    static const struct {
        const char *file;
        bool optional;
    } FILES[] = {
        {"tcb_info.json", false}, {"tcb_chain.pem", false},     {"qe_identity.json", false},
        {"qe_chain.pem", false},  {"root_ca_crl.der", false},   {"pck_crl.der", false},
        {"pck_crl_chain.pem", false}, {"pck_chain.pem", true},
    };
    enum { N = sizeof FILES / sizeof FILES[0] };
    uint8_t *data[N] = {0};
    size_t len[N] = {0};
    verify_collateral c = {0};
    int rc = VERIFY_OK;
    if (dir == NULL || out == NULL)
        return VERIFY_E_INVALID_ARG;
    for (size_t i = 0; i < N; i++) {
        if ((rc = read_file(dir, FILES[i].file, FILES[i].optional, &data[i], &len[i], err, cap)) != 0)
            goto out;
    }
    if ((rc = verify_collateral_set_tcb_info_doc(&c, (char *)data[0], len[0], err, cap)) != 0 ||
        (rc = verify_collateral_set_text(&c.tcb_info_issuer_chain, &c.tcb_info_issuer_chain_len,
                                         data[1], len[1])) != 0 ||
        (rc = verify_collateral_set_qe_identity_doc(&c, (char *)data[2], len[2], err, cap)) != 0 ||
        (rc = verify_collateral_set_text(&c.qe_identity_issuer_chain,
                                         &c.qe_identity_issuer_chain_len, data[3], len[3])) != 0)
        goto out;
    if ((rc = verify_collateral_set_crl(&c.root_ca_crl, &c.root_ca_crl_len, data[4], len[4])) != 0) {
        vfmt(err, cap, "%s/root_ca_crl.der is not a CRL (DER, PEM or hex)", dir);
        goto out;
    }
    if ((rc = verify_collateral_set_crl(&c.pck_crl, &c.pck_crl_len, data[5], len[5])) != 0) {
        vfmt(err, cap, "%s/pck_crl.der is not a CRL (DER, PEM or hex)", dir);
        goto out;
    }
    if ((rc = verify_collateral_set_text(&c.pck_crl_issuer_chain, &c.pck_crl_issuer_chain_len,
                                         data[6], len[6])) != 0)
        goto out;
    if (data[7] != NULL &&
        (rc = verify_collateral_set_text(&c.pck_chain, &c.pck_chain_len, data[7], len[7])) != 0)
        goto out;
    verify_collateral_free(out);
    *out = c;
    memset(&c, 0, sizeof c);
out:
    if (rc != 0 && err != NULL && err[0] == '\0')
        vfmt(err, cap, "%s: %s", dir, verify_strerror(rc));
    for (size_t i = 0; i < N; i++)
        free(data[i]);
    verify_collateral_free(&c);
    return rc;
}

/* ---- dcap-qvl QuoteCollateralV3 ---- */

/* Byte fields are hex strings or arrays of byte values. */
static int qvl_bytes(json_t *root, const char *key, uint8_t **out, size_t *out_len, char *err,
                     size_t cap)
{
    json_t *v = json_object_get(root, key);
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        if (n % 2 != 0 || n / 2 > VERIFY_COLLATERAL_ITEM_MAX)
            goto bad;
        uint8_t *buf = malloc(n / 2 + 1);
        if (buf == NULL)
            return VERIFY_E_NOMEM;
        if (n > 0 && !hex_exact(json_string_value(v), n, buf, n / 2)) {
            free(buf);
            goto bad;
        }
        *out = buf;
        *out_len = n / 2;
        return 0;
    }
    if (json_is_array(v) && json_array_size(v) <= VERIFY_COLLATERAL_ITEM_MAX) {
        size_t n = json_array_size(v), i;
        uint8_t *buf = malloc(n + 1);
        json_t *e;
        if (buf == NULL)
            return VERIFY_E_NOMEM;
        json_array_foreach(v, i, e) {
            if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255) {
                free(buf);
                goto bad;
            }
            buf[i] = (uint8_t)json_integer_value(e);
        }
        *out = buf;
        *out_len = n;
        return 0;
    }
bad:
    vfmt(err, cap, "collateral field \"%s\" is missing or not hex / a byte array", key);
    return VERIFY_E_FORMAT;
}

static int qvl_text(json_t *root, const char *key, bool optional, char **dst, size_t *dst_len,
                    char *err, size_t cap)
{
    json_t *v = json_object_get(root, key);
    if (v == NULL && optional)
        return 0;
    if (!json_is_string(v)) {
        vfmt(err, cap, "collateral field \"%s\" is missing or not a string", key);
        return VERIFY_E_FORMAT;
    }
    return verify_collateral_set_text(dst, dst_len, json_string_value(v), json_string_length(v));
}

static int qvl_sig(json_t *root, const char *key, uint8_t sig[64], char *err, size_t cap)
{
    uint8_t *b = NULL;
    size_t n = 0;
    int rc = qvl_bytes(root, key, &b, &n, err, cap);
    if (rc != 0)
        return rc;
    if (n != 64) {
        /* Some producers store the signature DER-encoded (§6.5, fortanix). */
        if (crypto_sig_der_to_raw(b, n, sig) != 0) {
            vfmt(err, cap, "collateral field \"%s\" is not a 64-byte r||s signature", key);
            rc = VERIFY_E_FORMAT;
        }
    } else {
        memcpy(sig, b, 64);
    }
    free(b);
    return rc;
}

int verify_collateral_load_qvl_json(const char *text, size_t len, verify_collateral *out,
                                    char *err, size_t cap)
{
    json_error_t jerr;
    verify_collateral c = {0};
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    int rc = VERIFY_E_FORMAT;
    if (text == NULL || out == NULL)
        return VERIFY_E_INVALID_ARG;
    if (len > 8 * (size_t)VERIFY_COLLATERAL_ITEM_MAX) {
        vfmt(err, cap, "collateral document is too large");
        return VERIFY_E_FORMAT;
    }
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        vfmt(err, cap, "collateral is not a JSON object (%s, line %d)",
             root == NULL ? jerr.text : "wrong type", jerr.line);
        goto out;
    }
    if ((rc = qvl_text(root, "pck_crl_issuer_chain", false, &c.pck_crl_issuer_chain,
                       &c.pck_crl_issuer_chain_len, err, cap)) != 0 ||
        (rc = qvl_text(root, "tcb_info_issuer_chain", false, &c.tcb_info_issuer_chain,
                       &c.tcb_info_issuer_chain_len, err, cap)) != 0 ||
        (rc = qvl_text(root, "tcb_info", false, &c.tcb_info, &c.tcb_info_len, err, cap)) != 0 ||
        (rc = qvl_text(root, "qe_identity_issuer_chain", false, &c.qe_identity_issuer_chain,
                       &c.qe_identity_issuer_chain_len, err, cap)) != 0 ||
        (rc = qvl_text(root, "qe_identity", false, &c.qe_identity, &c.qe_identity_len, err,
                       cap)) != 0 ||
        (rc = qvl_text(root, "pck_certificate_chain", true, &c.pck_chain, &c.pck_chain_len, err,
                       cap)) != 0 ||
        (rc = qvl_sig(root, "tcb_info_signature", c.tcb_info_signature, err, cap)) != 0 ||
        (rc = qvl_sig(root, "qe_identity_signature", c.qe_identity_signature, err, cap)) != 0)
        goto out;
    static const char *const CRLS[2] = {"root_ca_crl", "pck_crl"};
    for (size_t i = 0; i < 2; i++) {
        uint8_t **dst = i == 0 ? &c.root_ca_crl : &c.pck_crl;
        size_t *dst_len = i == 0 ? &c.root_ca_crl_len : &c.pck_crl_len;
        if ((rc = qvl_bytes(root, CRLS[i], &raw, &raw_len, err, cap)) != 0)
            goto out;
        if ((rc = verify_collateral_set_crl(dst, dst_len, raw, raw_len)) != 0) {
            vfmt(err, cap, "collateral field \"%s\" is not a CRL", CRLS[i]);
            goto out;
        }
        free(raw);
        raw = NULL;
    }
    verify_collateral_free(out);
    *out = c;
    memset(&c, 0, sizeof c);
    rc = 0;
out:
    free(raw);
    json_decref(root);
    verify_collateral_free(&c);
    return rc;
}
