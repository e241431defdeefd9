/* SPDX-License-Identifier: Apache-2.0 */
/*
 * X.509 certificates and CRLs of the PCK hierarchy (quote-format §5, §6.6).
 * Building: the simulator (sim) mints root / PCK CA / PCK leaf / TCB signer
 * certificates and CRLs in Intel's profile (§5.1, §5.3, Appendix), signed
 * with RFC 6979 ECDSA so one spec gives one DER (QVL trusts roots by bytes).
 * Parsing: the verifier and `inspect` read PEM chains from quotes' type-5
 * certification data and DER CRLs from collateral — untrusted input, parsed
 * strictly (no trailing bytes, bounded sizes). SGX extension DER: sgx_ext.c.
 */
#include "crypto/x509.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Bounds for untrusted input. Real PCK certs are ~1.2 KiB, Intel's largest
 * PCK CRLs a few hundred KiB; a type-5 chain holds 3 certs. */
#define X509_CERT_MAX_DER (64u * 1024u)
#define X509_CRL_MAX_DER (8u * 1024u * 1024u)
#define X509_CHAIN_MAX_CERTS 16u
#define X509_SERIAL_MAX_LEN 20u /* RFC 5280 §4.1.2.2 */

/* quote-format §5.2 */
#define SGX_EXT_OID "1.2.840.113741.1.13.1"

/* Intel's DN profile (quote-format §5.1). */
#define DN_DEFAULT_ORG "Intel Corporation"
#define DN_LOCALITY "Santa Clara"
#define DN_STATE "CA"
#define DN_COUNTRY "US"

/* CRLReason keyCompromise (RFC 5280 §5.3.1), what Intel's PCK CRLs carry. */
#define CRL_REASON_KEY_COMPROMISE 1

static const char PEM_BEGIN_CERT[] = "-----BEGIN CERTIFICATE-----";
static const char PEM_END_CERT[] = "-----END CERTIFICATE-----";
static const char PEM_BEGIN_CRL[] = "-----BEGIN X509 CRL-----";
static const char PEM_END_CRL[] = "-----END X509 CRL-----";

struct x509_cert {
    X509 *x;
    /* SHA-256 of the exact bytes it was parsed from: OpenSSL re-encodes the
     * parts outside tbsCertificate, so X509_digest alone could call a BER
     * variant of a certificate "the same DER" (docs/verify.md, trust anchor). */
    bool has_input_sha256;
    uint8_t input_sha256[32];
    /* Parsed by x509_cert_from_der_lite: OpenSSL holds no key object for
     * it; spki_key is its P-256 key read from the SubjectPublicKeyInfo (NULL
     * if that is not an uncompressed P-256 point) and tbs the exact
     * tbsCertificate bytes its signature covers. */
    bool lite;
    crypto_p256_key *spki_key;
    uint8_t *tbs;
    size_t tbs_len;
};

struct x509_crl {
    X509_CRL *c;
};

/* ---- small helpers ---- */

static int cert_wrap(X509 *x, x509_cert **out)
{
    x509_cert *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CRYPTO_E_NOMEM;
    c->x = x;
    *out = c;
    return CRYPTO_OK;
}

static int crl_wrap(X509_CRL *x, x509_crl **out)
{
    x509_crl *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CRYPTO_E_NOMEM;
    c->c = x;
    *out = c;
    return CRYPTO_OK;
}

/* Bounded substring search (buffers may contain NULs). */
static const char *find_bytes(const char *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || hay_len < n)
        return NULL;
    for (size_t i = 0; i + n <= hay_len; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes a PEM body: base64 with line breaks/spaces; '=' padding only at
 * the end. Returns a malloc'd buffer. */
static int pem_b64_decode(const char *in, size_t len, size_t max_out, uint8_t **out,
                          size_t *out_len)
{
    uint8_t *buf = malloc(len / 4 * 3 + 3);
    uint32_t acc = 0;
    int nacc = 0, pad = 0;
    size_t n = 0;

    if (buf == NULL)
        return CRYPTO_E_NOMEM;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        int v;

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            if (pad > 2)
                goto bad;
            continue;
        }
        if (pad > 0)
            goto bad; /* data after padding */
        v = b64_value(c);
        if (v < 0)
            goto bad;
        acc = (acc << 6) | (uint32_t)v;
        if (++nacc == 4) {
            buf[n++] = (uint8_t)(acc >> 16);
            buf[n++] = (uint8_t)(acc >> 8);
            buf[n++] = (uint8_t)acc;
            acc = 0;
            nacc = 0;
        }
    }
    if (nacc + pad != 0 && nacc + pad != 4)
        goto bad;
    if (nacc == 3) {
        buf[n++] = (uint8_t)(acc >> 10);
        buf[n++] = (uint8_t)(acc >> 2);
    } else if (nacc == 2) {
        buf[n++] = (uint8_t)(acc >> 4);
    } else if (nacc == 1) {
        goto bad;
    }
    if (n == 0 || n > max_out)
        goto bad;
    *out = buf;
    *out_len = n;
    return CRYPTO_OK;
bad:
    free(buf);
    return CRYPTO_E_PARSE;
}

/* Finds the first BEGIN/END block with the given markers at or after *pos;
 * decodes it; advances *pos past the END marker. CRYPTO_E_NOT_FOUND if no
 * BEGIN marker remains. */
static int pem_next_block(const char *pem, size_t len, size_t *pos, const char *begin,
                          const char *end, size_t max_der, uint8_t **der, size_t *der_len)
{
    const char *b = find_bytes(pem + *pos, len - *pos, begin);
    const char *body, *e;

    if (b == NULL)
        return CRYPTO_E_NOT_FOUND;
    body = b + strlen(begin);
    e = find_bytes(body, len - (size_t)(body - pem), end);
    if (e == NULL)
        return CRYPTO_E_PARSE; /* truncated block */
    *pos = (size_t)(e - pem) + strlen(end);
    return pem_b64_decode(body, (size_t)(e - body), max_der, der, der_len);
}

/* Copies a memory BIO's content into buf as a NUL-terminated string. */
static int bio_to_buf(BIO *bio, char *buf, size_t cap)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);

    if (n < 0 || data == NULL)
        return CRYPTO_E_OPENSSL;
    if ((size_t)n + 1 > cap)
        return CRYPTO_E_INVALID;
    memcpy(buf, data, (size_t)n);
    buf[n] = '\0';
    return CRYPTO_OK;
}

static int name_to_string(const X509_NAME *name, char *buf, size_t cap)
{
    BIO *bio;
    int rc = CRYPTO_E_OPENSSL;

    if (name == NULL || buf == NULL || cap == 0)
        return CRYPTO_E_INVALID;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return CRYPTO_E_NOMEM;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0)
        goto out;
    rc = bio_to_buf(bio, buf, cap);
out:
    BIO_free(bio);
    return rc;
}

/* The CN as UTF-8; a name with zero or several CNs, or a CN containing NUL,
 * is refused (CN substrings drive QVL's role checks, quote-format §5.3). */
static int name_cn(const X509_NAME *name, char *buf, size_t cap)
{
    int idx, rc = CRYPTO_E_PARSE;
    unsigned char *utf8 = NULL;
    int n;

    if (name == NULL || buf == NULL || cap == 0)
        return CRYPTO_E_INVALID;
    idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0)
        return CRYPTO_E_NOT_FOUND;
    if (X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
        return CRYPTO_E_PARSE;
    n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
    if (n < 0)
        goto out;
    if (memchr(utf8, '\0', (size_t)n) != NULL)
        goto out;
    if ((size_t)n + 1 > cap) {
        rc = CRYPTO_E_INVALID;
        goto out;
    }
    memcpy(buf, utf8, (size_t)n);
    buf[n] = '\0';
    rc = CRYPTO_OK;
out:
    OPENSSL_free(utf8);
    ERR_clear_error();
    return rc;
}

/* Byte-exact DN equality (QVL compares raw DNs, quote-format §7.2). */
static bool names_equal(const X509_NAME *a, const X509_NAME *b)
{
    const unsigned char *da = NULL, *db = NULL;
    size_t la = 0, lb = 0;

    if (a == NULL || b == NULL)
        return false;
    if (X509_NAME_get0_der((X509_NAME *)a, &da, &la) != 1 ||
        X509_NAME_get0_der((X509_NAME *)b, &db, &lb) != 1)
        return false;
    return la == lb && memcmp(da, db, la) == 0;
}

static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    time_t v;

    if (t == NULL)
        return CRYPTO_E_NOT_FOUND;
    memset(&tm, 0, sizeof(tm));
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return CRYPTO_E_PARSE;
    v = timegm(&tm);
    if (v == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31))
        return CRYPTO_E_PARSE;
    *out = v;
    return CRYPTO_OK;
}

static bool is_p256_evp(EVP_PKEY *pkey)
{
    crypto_p256_key *k = NULL;
    if (crypto_p256_from_evp(pkey, &k) != CRYPTO_OK)
        return false;
    crypto_p256_free(k);
    return true;
}

/* ---- building ---- */

static int name_add(X509_NAME *name, int nid, int type, const char *value)
{
    if (X509_NAME_add_entry_by_NID(name, nid, type, (const unsigned char *)value, -1, -1, 0) != 1)
        return CRYPTO_E_OPENSSL;
    return CRYPTO_OK;
}

/* Subject DN in Intel's order and string types: CN, O, L, ST (UTF8String),
 * C (PrintableString), quote-format §5.1. */
static int build_subject(X509 *x, const x509_cert_spec *spec)
{
    X509_NAME *name = X509_NAME_new();
    const char *org = spec->organization != NULL ? spec->organization : DN_DEFAULT_ORG;
    int rc;

    if (name == NULL)
        return CRYPTO_E_NOMEM;
    if ((rc = name_add(name, NID_commonName, V_ASN1_UTF8STRING, spec->common_name)) != CRYPTO_OK ||
        (rc = name_add(name, NID_organizationName, V_ASN1_UTF8STRING, org)) != CRYPTO_OK ||
        (rc = name_add(name, NID_localityName, V_ASN1_UTF8STRING, DN_LOCALITY)) != CRYPTO_OK ||
        (rc = name_add(name, NID_stateOrProvinceName, V_ASN1_UTF8STRING, DN_STATE)) !=
            CRYPTO_OK ||
        (rc = name_add(name, NID_countryName, V_ASN1_PRINTABLESTRING, DN_COUNTRY)) != CRYPTO_OK)
        goto out;
    if (X509_set_subject_name(x, name) != 1)
        rc = CRYPTO_E_OPENSSL;
out:
    X509_NAME_free(name);
    return rc;
}

static ASN1_INTEGER *serial_from_bytes(const uint8_t *serial, size_t len)
{
    BIGNUM *bn = BN_bin2bn(serial, (int)len, NULL);
    ASN1_INTEGER *ai = NULL;

    if (bn != NULL)
        ai = BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    return ai;
}

static bool serial_ok(const uint8_t *serial, size_t len)
{
    bool nonzero = false;

    if (serial == NULL || len == 0 || len > X509_SERIAL_MAX_LEN || (serial[0] & 0x80))
        return false;
    for (size_t i = 0; i < len; i++)
        nonzero |= serial[i] != 0;
    return nonzero;
}

static int add_ext_i2d(X509 *x, int nid, void *value, int crit)
{
    return X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_APPEND) == 1 ? CRYPTO_OK
                                                                         : CRYPTO_E_OPENSSL;
}

/* AKI { keyIdentifier } from the issuer's SKI (quote-format §5.1). */
static AUTHORITY_KEYID *make_akid(const ASN1_OCTET_STRING *issuer_ski)
{
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();

    if (akid == NULL)
        return NULL;
    akid->keyid = ASN1_OCTET_STRING_dup(issuer_ski);
    if (akid->keyid == NULL) {
        AUTHORITY_KEYID_free(akid);
        return NULL;
    }
    return akid;
}

/* SKI = SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 §4.2.1.2 (1)). */
static ASN1_OCTET_STRING *make_ski(X509 *x)
{
    const ASN1_BIT_STRING *pk = X509_get0_pubkey_bitstr(x);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    ASN1_OCTET_STRING *ski;

    if (pk == NULL ||
        EVP_Digest(pk->data, (size_t)pk->length, md, &mdlen, EVP_sha1(), NULL) != 1)
        return NULL;
    ski = ASN1_OCTET_STRING_new();
    if (ski != NULL && ASN1_OCTET_STRING_set(ski, md, (int)mdlen) != 1) {
        ASN1_OCTET_STRING_free(ski);
        ski = NULL;
    }
    return ski;
}

static int add_crl_dp(X509 *x, const char *url)
{
    int rc = CRYPTO_E_OPENSSL;
    CRL_DIST_POINTS *cdp = sk_DIST_POINT_new_null();
    DIST_POINT *dp = DIST_POINT_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *uri = ASN1_IA5STRING_new();

    if (cdp == NULL || dp == NULL || gn == NULL || uri == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    if (ASN1_STRING_set(uri, url, -1) != 1)
        goto out;
    GENERAL_NAME_set0_value(gn, GEN_URI, uri);
    uri = NULL;
    dp->distpoint = DIST_POINT_NAME_new();
    if (dp->distpoint == NULL)
        goto out;
    dp->distpoint->type = 0; /* fullName */
    dp->distpoint->name.fullname = GENERAL_NAMES_new();
    if (dp->distpoint->name.fullname == NULL ||
        sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn) <= 0)
        goto out;
    gn = NULL;
    if (sk_DIST_POINT_push(cdp, dp) <= 0)
        goto out;
    dp = NULL;
    rc = add_ext_i2d(x, NID_crl_distribution_points, cdp, 0);
out:
    ASN1_IA5STRING_free(uri);
    GENERAL_NAME_free(gn);
    DIST_POINT_free(dp);
    sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
    return rc;
}

static int add_key_usage(X509 *x, bool is_ca)
{
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    int rc = CRYPTO_E_OPENSSL;

    if (ku == NULL)
        return CRYPTO_E_NOMEM;
    /* KeyUsage bits (RFC 5280 §4.2.1.3): 0 digitalSignature, 1 nonRepudiation,
     * 5 keyCertSign, 6 cRLSign. */
    if (is_ca) {
        if (ASN1_BIT_STRING_set_bit(ku, 5, 1) != 1 || ASN1_BIT_STRING_set_bit(ku, 6, 1) != 1)
            goto out;
    } else {
        if (ASN1_BIT_STRING_set_bit(ku, 0, 1) != 1 || ASN1_BIT_STRING_set_bit(ku, 1, 1) != 1)
            goto out;
    }
    rc = add_ext_i2d(x, NID_key_usage, ku, 1);
out:
    ASN1_BIT_STRING_free(ku);
    return rc;
}

static int add_basic_constraints(X509 *x, bool is_ca, int pathlen)
{
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    int rc = CRYPTO_E_OPENSSL;

    if (bc == NULL)
        return CRYPTO_E_NOMEM;
    bc->ca = is_ca ? 0xff : 0;
    if (is_ca && pathlen >= 0) {
        bc->pathlen = ASN1_INTEGER_new();
        if (bc->pathlen == NULL || ASN1_INTEGER_set(bc->pathlen, pathlen) != 1)
            goto out;
    }
    rc = add_ext_i2d(x, NID_basic_constraints, bc, 1);
out:
    BASIC_CONSTRAINTS_free(bc);
    return rc;
}

static int add_sgx_ext(X509 *x, const sgx_pck_ext *ext)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    ASN1_OBJECT *obj = NULL;
    ASN1_OCTET_STRING *os = NULL;
    X509_EXTENSION *xe = NULL;
    int rc = sgx_pck_ext_encode(ext, &der, &der_len);

    if (rc != CRYPTO_OK)
        return rc;
    rc = CRYPTO_E_OPENSSL;
    obj = OBJ_txt2obj(SGX_EXT_OID, 1);
    os = ASN1_OCTET_STRING_new();
    if (obj == NULL || os == NULL || ASN1_OCTET_STRING_set(os, der, (int)der_len) != 1)
        goto out;
    xe = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os); /* non-critical, §5.2 */
    if (xe == NULL || X509_add_ext(x, xe, -1) != 1)
        goto out;
    rc = CRYPTO_OK;
out:
    X509_EXTENSION_free(xe);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    free(der);
    return rc;
}

/* ASN1_TIME_set picks UTCTime for 1950..2049 and GeneralizedTime otherwise:
 * RFC 5280 §4.1.2.5, and what Intel's certificates do. */
static int set_time(time_t t, ASN1_TIME **out)
{
    *out = ASN1_TIME_set(NULL, t);
    return *out != NULL ? CRYPTO_OK : CRYPTO_E_OPENSSL;
}

/* ---- deterministic signing ---- */

/* DER identifier + definite length (X.690 §8.1.2-8.1.3); out holds >= 6 bytes. */
static size_t der_header(uint8_t *out, uint8_t tag, size_t len)
{
    size_t n = 0, bytes = 0;

    out[n++] = tag;
    if (len < 0x80) {
        out[n++] = (uint8_t)len;
        return n;
    }
    for (size_t v = len; v != 0; v >>= 8)
        bytes++;
    out[n++] = (uint8_t)(0x80 | bytes);
    for (size_t i = bytes; i > 0; i--)
        out[n++] = (uint8_t)(len >> (8 * (i - 1)));
    return n;
}

/* SEQUENCE { tbs, signatureAlgorithm, signatureValue BIT STRING }, the
 * outer shape of both Certificate (RFC 5280 §4.1) and CertificateList
 * (§5.1), with an RFC 6979 signature of the exact tbs bytes. alg must be
 * ecdsa-with-SHA256, the only algorithm of the PCK profile (§1.6). */
static int assemble_signed(const uint8_t *tbs, size_t tbs_len, const X509_ALGOR *alg,
                           const crypto_p256_key *key, uint8_t **der, size_t *der_len)
{
    const ASN1_OBJECT *obj = NULL;
    uint8_t raw[CRYPTO_P256_SIG_LEN], sig[80], bs_hdr[8], seq_hdr[8];
    unsigned char *alg_der = NULL;
    size_t sig_len = 0, bs_hdr_len, seq_hdr_len, content, total;
    uint8_t *buf = NULL, *p;
    int alg_len, rc;

    X509_ALGOR_get0(&obj, NULL, NULL, alg);
    if (obj == NULL || OBJ_obj2nid(obj) != NID_ecdsa_with_SHA256)
        return CRYPTO_E_INVALID;
    alg_len = i2d_X509_ALGOR(alg, &alg_der);
    if (alg_len <= 0)
        return CRYPTO_E_OPENSSL;
    if ((rc = crypto_p256_sign_deterministic(key, tbs, tbs_len, raw)) != CRYPTO_OK ||
        (rc = crypto_sig_raw_to_der(raw, sig, sizeof sig, &sig_len)) != CRYPTO_OK)
        goto out;
    bs_hdr_len = der_header(bs_hdr, V_ASN1_BIT_STRING, 1 + sig_len);
    content = tbs_len + (size_t)alg_len + bs_hdr_len + 1 + sig_len;
    seq_hdr_len = der_header(seq_hdr, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, content);
    total = seq_hdr_len + content;
    buf = malloc(total);
    if (buf == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    p = buf;
    memcpy(p, seq_hdr, seq_hdr_len);
    p += seq_hdr_len;
    memcpy(p, tbs, tbs_len);
    p += tbs_len;
    memcpy(p, alg_der, (size_t)alg_len);
    p += alg_len;
    memcpy(p, bs_hdr, bs_hdr_len);
    p += bs_hdr_len;
    *p++ = 0x00; /* no unused bits */
    memcpy(p, sig, sig_len);
    *der = buf;
    *der_len = total;
    rc = CRYPTO_OK;
out:
    OPENSSL_free(alg_der);
    return rc;
}

/* Replaces *x by the same certificate with an RFC 6979 signature. X509_sign
 * has already filled both AlgorithmIdentifiers and encoded the TBS; its
 * (randomized) signature is discarded. The result is parsed afresh from
 * DER, so no cached encoding or hash of the old object survives, and is
 * checked with X509_verify before it replaces *x. */
static int cert_sign_deterministic(X509 **x, EVP_PKEY *issuer_pkey, const crypto_p256_key *key)
{
    const X509_ALGOR *alg = NULL;
    unsigned char *tbs = NULL, *q;
    uint8_t *der = NULL;
    const unsigned char *p;
    size_t der_len = 0;
    X509 *fresh = NULL;
    int tbs_len, rc = CRYPTO_E_OPENSSL;

    tbs_len = i2d_re_X509_tbs(*x, NULL);
    if (tbs_len <= 0)
        goto out;
    tbs = malloc((size_t)tbs_len);
    if (tbs == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    q = tbs;
    if (i2d_re_X509_tbs(*x, &q) != tbs_len)
        goto out;
    X509_get0_signature(NULL, &alg, *x);
    if ((rc = assemble_signed(tbs, (size_t)tbs_len, alg, key, &der, &der_len)) != CRYPTO_OK)
        goto out;
    rc = CRYPTO_E_OPENSSL;
    p = der;
    fresh = d2i_X509(NULL, &p, (long)der_len);
    if (fresh == NULL || (size_t)(p - der) != der_len || X509_verify(fresh, issuer_pkey) != 1)
        goto out;
    X509_free(*x);
    *x = fresh;
    fresh = NULL;
    rc = CRYPTO_OK;
out:
    X509_free(fresh);
    free(der);
    free(tbs);
    return rc;
}

/* The same for a CRL (X509_CRL_sign first, then X509_CRL_verify). */
static int crl_sign_deterministic(X509_CRL **crl, EVP_PKEY *issuer_pkey,
                                  const crypto_p256_key *key)
{
    const X509_ALGOR *alg = NULL;
    unsigned char *tbs = NULL, *q;
    uint8_t *der = NULL;
    const unsigned char *p;
    size_t der_len = 0;
    X509_CRL *fresh = NULL;
    int tbs_len, rc = CRYPTO_E_OPENSSL;

    tbs_len = i2d_re_X509_CRL_tbs(*crl, NULL);
    if (tbs_len <= 0)
        goto out;
    tbs = malloc((size_t)tbs_len);
    if (tbs == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    q = tbs;
    if (i2d_re_X509_CRL_tbs(*crl, &q) != tbs_len)
        goto out;
    X509_CRL_get0_signature(*crl, NULL, &alg);
    if ((rc = assemble_signed(tbs, (size_t)tbs_len, alg, key, &der, &der_len)) != CRYPTO_OK)
        goto out;
    rc = CRYPTO_E_OPENSSL;
    p = der;
    fresh = d2i_X509_CRL(NULL, &p, (long)der_len);
    if (fresh == NULL || (size_t)(p - der) != der_len ||
        X509_CRL_verify(fresh, issuer_pkey) != 1)
        goto out;
    X509_CRL_free(*crl);
    *crl = fresh;
    fresh = NULL;
    rc = CRYPTO_OK;
out:
    X509_CRL_free(fresh);
    free(der);
    free(tbs);
    return rc;
}

int x509_cert_build(const x509_cert_spec *spec, x509_cert **out)
{
    int rc = CRYPTO_E_INVALID;
    X509 *x = NULL;
    ASN1_INTEGER *serial = NULL;
    ASN1_TIME *nb = NULL, *na = NULL;
    ASN1_OCTET_STRING *ski = NULL;
    AUTHORITY_KEYID *akid = NULL;
    EVP_PKEY *subject_pkey, *issuer_pkey;
    const ASN1_OCTET_STRING *issuer_ski;

    if (spec == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    if (spec->common_name == NULL || spec->common_name[0] == '\0' || spec->subject_key == NULL ||
        spec->issuer_key == NULL || spec->crl_dp_url == NULL || spec->crl_dp_url[0] == '\0' ||
        !serial_ok(spec->serial, spec->serial_len) || spec->not_after <= spec->not_before ||
        (spec->is_ca && spec->pathlen < -1))
        return CRYPTO_E_INVALID;
    subject_pkey = crypto_p256_evp(spec->subject_key);
    issuer_pkey = crypto_p256_evp(spec->issuer_key);
    if (subject_pkey == NULL || issuer_pkey == NULL)
        return CRYPTO_E_INVALID;
    /* The signing key must belong to the issuer (or be the subject's own key). */
    if (spec->issuer == NULL) {
        if (EVP_PKEY_eq(subject_pkey, issuer_pkey) != 1)
            return CRYPTO_E_BAD_KEY;
    } else {
        if (EVP_PKEY_eq(X509_get0_pubkey(spec->issuer->x), issuer_pkey) != 1)
            return CRYPTO_E_BAD_KEY;
    }

    rc = CRYPTO_E_OPENSSL;
    x = X509_new();
    if (x == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    serial = serial_from_bytes(spec->serial, spec->serial_len);
    if (serial == NULL)
        goto out;
    if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_serialNumber(x, serial) != 1)
        goto out;
    if ((rc = build_subject(x, spec)) != CRYPTO_OK)
        goto out;
    rc = CRYPTO_E_OPENSSL;
    if (X509_set_issuer_name(x, spec->issuer != NULL ? X509_get_subject_name(spec->issuer->x)
                                                     : X509_get_subject_name(x)) != 1)
        goto out;
    if (set_time(spec->not_before, &nb) != CRYPTO_OK ||
        set_time(spec->not_after, &na) != CRYPTO_OK || X509_set1_notBefore(x, nb) != 1 ||
        X509_set1_notAfter(x, na) != 1)
        goto out;
    if (X509_set_pubkey(x, subject_pkey) != 1)
        goto out;

    ski = make_ski(x);
    if (ski == NULL)
        goto out;
    issuer_ski = spec->issuer != NULL ? X509_get0_subject_key_id(spec->issuer->x) : ski;
    if (issuer_ski == NULL) {
        rc = CRYPTO_E_INVALID; /* issuer without SKI: cannot form the AKI */
        goto out;
    }
    akid = make_akid(issuer_ski);
    if (akid == NULL)
        goto out;

    /* Extension order as in Intel's certificates: AKI, CRL DP, SKI, KU, BC, SGX. */
    if ((rc = add_ext_i2d(x, NID_authority_key_identifier, akid, 0)) != CRYPTO_OK ||
        (rc = add_crl_dp(x, spec->crl_dp_url)) != CRYPTO_OK ||
        (rc = add_ext_i2d(x, NID_subject_key_identifier, ski, 0)) != CRYPTO_OK ||
        (rc = add_key_usage(x, spec->is_ca)) != CRYPTO_OK ||
        (rc = add_basic_constraints(x, spec->is_ca, spec->pathlen)) != CRYPTO_OK)
        goto out;
    if (spec->sgx_ext != NULL && (rc = add_sgx_ext(x, spec->sgx_ext)) != CRYPTO_OK)
        goto out;

    rc = CRYPTO_E_OPENSSL;
    if (X509_sign(x, issuer_pkey, EVP_sha256()) <= 0)
        goto out;
    if ((rc = cert_sign_deterministic(&x, issuer_pkey, spec->issuer_key)) != CRYPTO_OK)
        goto out;
    rc = cert_wrap(x, out);
    if (rc == CRYPTO_OK)
        x = NULL;
out:
    if (rc != CRYPTO_OK)
        ERR_clear_error();
    AUTHORITY_KEYID_free(akid);
    ASN1_OCTET_STRING_free(ski);
    ASN1_TIME_free(nb);
    ASN1_TIME_free(na);
    ASN1_INTEGER_free(serial);
    X509_free(x);
    return rc;
}

static int add_crl_ext_i2d(X509_CRL *crl, int nid, void *value)
{
    return X509_CRL_add1_ext_i2d(crl, nid, value, 0, X509V3_ADD_APPEND) == 1 ? CRYPTO_OK
                                                                             : CRYPTO_E_OPENSSL;
}

static int crl_add_entry(X509_CRL *crl, const x509_crl_entry *e)
{
    X509_REVOKED *rev = NULL;
    ASN1_INTEGER *serial = NULL;
    ASN1_TIME *when = NULL;
    ASN1_ENUMERATED *reason = NULL;
    int rc = CRYPTO_E_INVALID;

    if (!serial_ok(e->serial, e->serial_len))
        return CRYPTO_E_INVALID;
    rc = CRYPTO_E_OPENSSL;
    rev = X509_REVOKED_new();
    serial = serial_from_bytes(e->serial, e->serial_len);
    when = ASN1_TIME_set(NULL, e->revoked_at);
    reason = ASN1_ENUMERATED_new();
    if (rev == NULL || serial == NULL || when == NULL || reason == NULL)
        goto out;
    if (X509_REVOKED_set_serialNumber(rev, serial) != 1 ||
        X509_REVOKED_set_revocationDate(rev, when) != 1 ||
        ASN1_ENUMERATED_set(reason, CRL_REASON_KEY_COMPROMISE) != 1 ||
        X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, X509V3_ADD_APPEND) != 1)
        goto out;
    if (X509_CRL_add0_revoked(crl, rev) != 1)
        goto out;
    rev = NULL;
    rc = CRYPTO_OK;
out:
    ASN1_ENUMERATED_free(reason);
    ASN1_TIME_free(when);
    ASN1_INTEGER_free(serial);
    X509_REVOKED_free(rev);
    return rc;
}

int x509_crl_build(const x509_crl_spec *spec, x509_crl **out)
{
    int rc = CRYPTO_E_INVALID;
    X509_CRL *crl = NULL;
    ASN1_TIME *tu = NULL, *nu = NULL;
    ASN1_INTEGER *num = NULL;
    AUTHORITY_KEYID *akid = NULL;
    const ASN1_OCTET_STRING *issuer_ski;
    EVP_PKEY *issuer_pkey;

    if (spec == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    if (spec->issuer == NULL || spec->issuer_key == NULL ||
        spec->next_update <= spec->this_update || (spec->n_entries > 0 && spec->entries == NULL))
        return CRYPTO_E_INVALID;
    issuer_pkey = crypto_p256_evp(spec->issuer_key);
    if (issuer_pkey == NULL)
        return CRYPTO_E_INVALID;
    if (EVP_PKEY_eq(X509_get0_pubkey(spec->issuer->x), issuer_pkey) != 1)
        return CRYPTO_E_BAD_KEY;
    issuer_ski = X509_get0_subject_key_id(spec->issuer->x);
    if (issuer_ski == NULL)
        return CRYPTO_E_INVALID;

    rc = CRYPTO_E_OPENSSL;
    crl = X509_CRL_new();
    if (crl == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    tu = ASN1_TIME_set(NULL, spec->this_update);
    nu = ASN1_TIME_set(NULL, spec->next_update);
    num = ASN1_INTEGER_new();
    akid = make_akid(issuer_ski);
    if (tu == NULL || nu == NULL || num == NULL || akid == NULL)
        goto out;
    if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(spec->issuer->x)) != 1 ||
        X509_CRL_set1_lastUpdate(crl, tu) != 1 || X509_CRL_set1_nextUpdate(crl, nu) != 1)
        goto out;
    for (size_t i = 0; i < spec->n_entries; i++)
        if ((rc = crl_add_entry(crl, &spec->entries[i])) != CRYPTO_OK)
            goto out;
    rc = CRYPTO_E_OPENSSL;
    /* Extension order as in Intel's CRLs: CRL Number, AKI (quote-format §6.6). */
    if (ASN1_INTEGER_set_uint64(num, spec->crl_number) != 1 ||
        (rc = add_crl_ext_i2d(crl, NID_crl_number, num)) != CRYPTO_OK ||
        (rc = add_crl_ext_i2d(crl, NID_authority_key_identifier, akid)) != CRYPTO_OK)
        goto out;
    rc = CRYPTO_E_OPENSSL;
    if (X509_CRL_sort(crl) != 1 || X509_CRL_sign(crl, issuer_pkey, EVP_sha256()) <= 0)
        goto out;
    if ((rc = crl_sign_deterministic(&crl, issuer_pkey, spec->issuer_key)) != CRYPTO_OK)
        goto out;
    rc = crl_wrap(crl, out);
    if (rc == CRYPTO_OK)
        crl = NULL;
out:
    if (rc != CRYPTO_OK)
        ERR_clear_error();
    AUTHORITY_KEYID_free(akid);
    ASN1_INTEGER_free(num);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    X509_CRL_free(crl);
    return rc;
}

/* ---- parsing / encoding ---- */

int x509_cert_from_der(const uint8_t *der, size_t len, x509_cert **out)
{
    const unsigned char *p = der;
    X509 *x;
    int rc;

    if (der == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    if (len == 0 || len > X509_CERT_MAX_DER)
        return CRYPTO_E_PARSE;
    x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL || (size_t)(p - der) != len) {
        ERR_clear_error();
        X509_free(x);
        return CRYPTO_E_PARSE;
    }
    rc = cert_wrap(x, out);
    if (rc != CRYPTO_OK) {
        X509_free(x);
        return rc;
    }
    if (crypto_sha256(der, len, (*out)->input_sha256) == CRYPTO_OK)
        (*out)->has_input_sha256 = true;
    return rc;
}

int x509_cert_from_pem(const char *pem, size_t len, x509_cert **out)
{
    size_t pos = 0, der_len = 0;
    uint8_t *der = NULL;
    int rc;

    if (pem == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    rc = pem_next_block(pem, len, &pos, PEM_BEGIN_CERT, PEM_END_CERT, X509_CERT_MAX_DER, &der,
                        &der_len);
    if (rc == CRYPTO_E_NOT_FOUND)
        return CRYPTO_E_PARSE;
    if (rc != CRYPTO_OK)
        return rc;
    rc = x509_cert_from_der(der, der_len, out);
    free(der);
    return rc;
}

int x509_cert_pem_to_der(const char *pem, size_t len, uint8_t **der, size_t *der_len)
{
    size_t pos = 0;
    int rc;

    if (pem == NULL || der == NULL || der_len == NULL)
        return CRYPTO_E_INVALID;
    *der = NULL;
    *der_len = 0;
    rc = pem_next_block(pem, len, &pos, PEM_BEGIN_CERT, PEM_END_CERT, X509_CERT_MAX_DER, der,
                        der_len);
    return rc == CRYPTO_E_NOT_FOUND ? CRYPTO_E_PARSE : rc;
}

int x509_chain_from_pem(const char *pem, size_t len, x509_cert ***certs, size_t *n)
{
    x509_cert **list = NULL;
    size_t count = 0, pos = 0;
    int rc;

    if (pem == NULL || certs == NULL || n == NULL)
        return CRYPTO_E_INVALID;
    *certs = NULL;
    *n = 0;
    list = calloc(X509_CHAIN_MAX_CERTS, sizeof(*list));
    if (list == NULL)
        return CRYPTO_E_NOMEM;
    for (;;) {
        uint8_t *der = NULL;
        size_t der_len = 0;

        rc = pem_next_block(pem, len, &pos, PEM_BEGIN_CERT, PEM_END_CERT, X509_CERT_MAX_DER,
                            &der, &der_len);
        if (rc == CRYPTO_E_NOT_FOUND)
            break;
        if (rc != CRYPTO_OK)
            goto fail;
        if (count == X509_CHAIN_MAX_CERTS) {
            free(der);
            rc = CRYPTO_E_PARSE;
            goto fail;
        }
        rc = x509_cert_from_der(der, der_len, &list[count]);
        free(der);
        if (rc != CRYPTO_OK)
            goto fail;
        count++;
    }
    if (count == 0) {
        rc = CRYPTO_E_NOT_FOUND;
        goto fail;
    }
    *certs = list;
    *n = count;
    return CRYPTO_OK;
fail:
    x509_chain_free(list, count);
    return rc;
}

void x509_chain_free(x509_cert **certs, size_t n)
{
    if (certs == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        x509_cert_free(certs[i]);
    free(certs);
}

int x509_cert_to_der(const x509_cert *c, uint8_t **der, size_t *len)
{
    unsigned char *p;
    int n;

    if (c == NULL || der == NULL || len == NULL)
        return CRYPTO_E_INVALID;
    n = i2d_X509(c->x, NULL);
    if (n <= 0)
        return CRYPTO_E_OPENSSL;
    *der = malloc((size_t)n);
    if (*der == NULL)
        return CRYPTO_E_NOMEM;
    p = *der;
    if (i2d_X509(c->x, &p) != n) {
        free(*der);
        *der = NULL;
        return CRYPTO_E_OPENSSL;
    }
    *len = (size_t)n;
    return CRYPTO_OK;
}

int x509_cert_to_pem(const x509_cert *c, char **pem, size_t *len)
{
    BIO *bio;
    char *data = NULL;
    long n;
    int rc = CRYPTO_E_OPENSSL;

    if (c == NULL || pem == NULL || len == NULL)
        return CRYPTO_E_INVALID;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return CRYPTO_E_NOMEM;
    if (PEM_write_bio_X509(bio, c->x) != 1)
        goto out;
    n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || data == NULL)
        goto out;
    *pem = malloc((size_t)n + 1);
    if (*pem == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    memcpy(*pem, data, (size_t)n);
    (*pem)[n] = '\0';
    *len = (size_t)n;
    rc = CRYPTO_OK;
out:
    BIO_free(bio);
    return rc;
}

x509_cert *x509_cert_dup(const x509_cert *c)
{
    x509_cert *d = NULL;

    if (c == NULL || X509_up_ref(c->x) != 1)
        return NULL;
    if (cert_wrap(c->x, &d) != CRYPTO_OK) {
        X509_free(c->x);
        return NULL;
    }
    return d;
}

void x509_cert_free(x509_cert *c)
{
    if (c == NULL)
        return;
    X509_free(c->x);
    crypto_p256_free(c->spki_key);
    free(c->tbs);
    free(c);
}

/* ---- the verifier's certificates (x509_cert_from_der_lite) ---- */

/* OpenSSL 3.0 decodes a certificate's public key while decoding the
 * certificate, through its provider decoders: setting up that decoder
 * costs several times the ECDSA verification of the certificate itself
 * (callgrind, issue 14). Decoded in a library context that holds only the
 * "null" provider, the key finds no decoder and is skipped; everything
 * else (names, extensions, dates, the cached tbsCertificate encoding) is
 * decoded as d2i_X509 decodes it. The key is then read from the
 * SubjectPublicKeyInfo here, and signatures are checked with the default
 * context's ECDSA exactly as X509_verify checks them. */
static OSSL_LIB_CTX *g_lite_ctx;
static pthread_once_t g_lite_once = PTHREAD_ONCE_INIT;

static void lite_ctx_init(void)
{
    OSSL_LIB_CTX *lc = OSSL_LIB_CTX_new();
    /* Loading any provider also stops the default one being loaded as a
     * fallback into this context. */
    if (lc != NULL && OSSL_PROVIDER_load(lc, "null") == NULL) {
        OSSL_LIB_CTX_free(lc);
        lc = NULL;
    }
    g_lite_ctx = lc;
}

/* A definite-length DER header with tag `tag` at p: header and content
 * sizes, the whole TLV within avail. */
static bool der_tlv_header(const uint8_t *p, size_t avail, uint8_t tag, size_t *hdr,
                           size_t *content)
{
    size_t len = 0, h;
    if (avail < 2 || p[0] != tag)
        return false;
    if (p[1] < 0x80) {
        len = p[1];
        h = 2;
    } else {
        size_t n = p[1] & 0x7fu;
        if (n == 0 || n > 4 || avail < 2 + n)
            return false;
        for (size_t i = 0; i < n; i++)
            len = len << 8 | p[2 + i];
        h = 2 + n;
    }
    if (len > avail - h)
        return false;
    *hdr = h;
    *content = len;
    return true;
}

/* The key of an id-ecPublicKey / prime256v1 SubjectPublicKeyInfo holding an
 * uncompressed point (what Intel's profile uses), validated. */
static int spki_p256(X509 *x, crypto_p256_key **out)
{
    X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
    ASN1_OBJECT *alg = NULL;
    const unsigned char *bits = NULL;
    int blen = 0, ptype = 0;
    X509_ALGOR *pa = NULL;
    const void *pval = NULL;

    if (pk == NULL || X509_PUBKEY_get0_param(&alg, &bits, &blen, &pa, pk) != 1 || pa == NULL ||
        OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey)
        return CRYPTO_E_BAD_KEY;
    X509_ALGOR_get0(NULL, &ptype, &pval, pa);
    if (ptype != V_ASN1_OBJECT || OBJ_obj2nid(pval) != NID_X9_62_prime256v1)
        return CRYPTO_E_BAD_KEY;
    if (blen != 1 + CRYPTO_P256_PUB_LEN || bits[0] != 0x04)
        return CRYPTO_E_BAD_KEY;
    return crypto_p256_from_pub(bits + 1, out);
}

int x509_cert_from_der_lite(const uint8_t *der, size_t len, x509_cert **out)
{
    const unsigned char *p = der;
    size_t hdr, content, tbs_hdr, tbs_content;
    X509 *x = NULL;
    int rc;

    if (der == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    pthread_once(&g_lite_once, lite_ctx_init);
    if (g_lite_ctx == NULL)
        return x509_cert_from_der(der, len, out);
    if (len == 0 || len > X509_CERT_MAX_DER)
        return CRYPTO_E_PARSE;
    /* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, ... }: the bytes
     * the signature covers, located before OpenSSL parses the rest. */
    if (!der_tlv_header(der, len, 0x30, &hdr, &content) || hdr + content != len ||
        !der_tlv_header(der + hdr, content, 0x30, &tbs_hdr, &tbs_content))
        return CRYPTO_E_PARSE;
    x = (X509 *)ASN1_item_d2i_ex((ASN1_VALUE **)&x, &p, (long)len, ASN1_ITEM_rptr(X509),
                                 g_lite_ctx, NULL);
    if (x == NULL || (size_t)(p - der) != len) {
        ERR_clear_error();
        X509_free(x);
        return CRYPTO_E_PARSE;
    }
    ERR_clear_error(); /* the key decoder that was not found */
    rc = cert_wrap(x, out);
    if (rc != CRYPTO_OK) {
        X509_free(x);
        return rc;
    }
    x509_cert *c = *out;
    c->lite = true;
    c->tbs_len = tbs_hdr + tbs_content;
    c->tbs = malloc(c->tbs_len);
    if (c->tbs == NULL) {
        x509_cert_free(c);
        *out = NULL;
        return CRYPTO_E_NOMEM;
    }
    memcpy(c->tbs, der + hdr, c->tbs_len);
    if (spki_p256(x, &c->spki_key) != CRYPTO_OK)
        c->spki_key = NULL; /* not a P-256 key: every key use fails with BAD_KEY */
    ERR_clear_error();
    if (crypto_sha256(der, len, c->input_sha256) == CRYPTO_OK)
        c->has_input_sha256 = true;
    return CRYPTO_OK;
}

/* The key a certificate's signatures are checked with. */
static EVP_PKEY *cert_pkey(const x509_cert *c)
{
    if (c->lite)
        return c->spki_key != NULL ? crypto_p256_evp(c->spki_key) : NULL;
    return X509_get0_pubkey(c->x);
}

/* X509_verify's checks for a lite certificate: the outer signatureAlgorithm
 * equal to the inner one, a signature BIT STRING without unused bits, and
 * ECDSA-SHA256 over the tbsCertificate bytes as received (X509_verify uses
 * the same cached encoding), DER signature checked strictly by OpenSSL. */
static int verify_lite(const x509_cert *subject, EVP_PKEY *pkey)
{
    const ASN1_BIT_STRING *sig = NULL;
    const X509_ALGOR *outer = NULL;
    EVP_MD_CTX *ctx = NULL;
    int v = 0;

    X509_get0_signature(&sig, &outer, subject->x);
    if (sig == NULL || outer == NULL || subject->tbs == NULL ||
        X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(subject->x)) != 0 || (sig->flags & 0x7) != 0)
        return CRYPTO_E_BAD_SIG;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return CRYPTO_E_NOMEM;
    if (EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, pkey, NULL) == 1)
        v = EVP_DigestVerify(ctx, sig->data, (size_t)sig->length, subject->tbs, subject->tbs_len);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return v == 1 ? CRYPTO_OK : CRYPTO_E_BAD_SIG;
}

int x509_crl_from_der(const uint8_t *der, size_t len, x509_crl **out)
{
    const unsigned char *p = der;
    X509_CRL *crl;
    int rc;

    if (der == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    if (len == 0 || len > X509_CRL_MAX_DER)
        return CRYPTO_E_PARSE;
    crl = d2i_X509_CRL(NULL, &p, (long)len);
    if (crl == NULL || (size_t)(p - der) != len) {
        ERR_clear_error();
        X509_CRL_free(crl);
        return CRYPTO_E_PARSE;
    }
    rc = crl_wrap(crl, out);
    if (rc != CRYPTO_OK)
        X509_CRL_free(crl);
    return rc;
}

int x509_crl_from_pem(const char *pem, size_t len, x509_crl **out)
{
    size_t pos = 0, der_len = 0;
    uint8_t *der = NULL;
    int rc;

    if (pem == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    rc = pem_next_block(pem, len, &pos, PEM_BEGIN_CRL, PEM_END_CRL, X509_CRL_MAX_DER, &der,
                        &der_len);
    if (rc == CRYPTO_E_NOT_FOUND)
        return CRYPTO_E_PARSE;
    if (rc != CRYPTO_OK)
        return rc;
    rc = x509_crl_from_der(der, der_len, out);
    free(der);
    return rc;
}

int x509_crl_to_der(const x509_crl *c, uint8_t **der, size_t *len)
{
    unsigned char *p;
    int n;

    if (c == NULL || der == NULL || len == NULL)
        return CRYPTO_E_INVALID;
    n = i2d_X509_CRL(c->c, NULL);
    if (n <= 0)
        return CRYPTO_E_OPENSSL;
    *der = malloc((size_t)n);
    if (*der == NULL)
        return CRYPTO_E_NOMEM;
    p = *der;
    if (i2d_X509_CRL(c->c, &p) != n) {
        free(*der);
        *der = NULL;
        return CRYPTO_E_OPENSSL;
    }
    *len = (size_t)n;
    return CRYPTO_OK;
}

void x509_crl_free(x509_crl *c)
{
    if (c == NULL)
        return;
    X509_CRL_free(c->c);
    free(c);
}

/* ---- inspection ---- */

int x509_cert_subject(const x509_cert *c, char *buf, size_t cap)
{
    if (c == NULL)
        return CRYPTO_E_INVALID;
    return name_to_string(X509_get_subject_name(c->x), buf, cap);
}

int x509_cert_issuer(const x509_cert *c, char *buf, size_t cap)
{
    if (c == NULL)
        return CRYPTO_E_INVALID;
    return name_to_string(X509_get_issuer_name(c->x), buf, cap);
}

int x509_cert_subject_cn(const x509_cert *c, char *buf, size_t cap)
{
    if (c == NULL)
        return CRYPTO_E_INVALID;
    return name_cn(X509_get_subject_name(c->x), buf, cap);
}

int x509_cert_issuer_cn(const x509_cert *c, char *buf, size_t cap)
{
    if (c == NULL)
        return CRYPTO_E_INVALID;
    return name_cn(X509_get_issuer_name(c->x), buf, cap);
}

bool x509_cert_subject_equals_issuer_of(const x509_cert *issuer, const x509_cert *subject)
{
    if (issuer == NULL || subject == NULL)
        return false;
    return names_equal(X509_get_subject_name(issuer->x), X509_get_issuer_name(subject->x));
}

bool x509_cert_is_self_issued(const x509_cert *c)
{
    if (c == NULL)
        return false;
    return names_equal(X509_get_subject_name(c->x), X509_get_issuer_name(c->x));
}

static int asn1_int_bytes(const ASN1_INTEGER *ai, uint8_t *buf, size_t cap, size_t *len)
{
    BIGNUM *bn;
    int n, rc = CRYPTO_E_PARSE;

    if (ai == NULL)
        return CRYPTO_E_NOT_FOUND;
    bn = ASN1_INTEGER_to_BN(ai, NULL);
    if (bn == NULL) {
        ERR_clear_error();
        return CRYPTO_E_PARSE;
    }
    if (BN_is_negative(bn))
        goto out;
    n = BN_num_bytes(bn);
    if (n == 0) {
        if (cap < 1) {
            rc = CRYPTO_E_INVALID;
            goto out;
        }
        buf[0] = 0;
        *len = 1;
        rc = CRYPTO_OK;
        goto out;
    }
    if ((size_t)n > cap) {
        rc = CRYPTO_E_INVALID;
        goto out;
    }
    if (BN_bn2bin(bn, buf) != n) {
        rc = CRYPTO_E_OPENSSL;
        goto out;
    }
    *len = (size_t)n;
    rc = CRYPTO_OK;
out:
    BN_free(bn);
    return rc;
}

int x509_cert_serial(const x509_cert *c, uint8_t *buf, size_t cap, size_t *len)
{
    if (c == NULL || buf == NULL || len == NULL)
        return CRYPTO_E_INVALID;
    return asn1_int_bytes(X509_get0_serialNumber(c->x), buf, cap, len);
}

int x509_cert_validity(const x509_cert *c, time_t *not_before, time_t *not_after)
{
    time_t nb = 0, na = 0;
    int rc;

    if (c == NULL || not_before == NULL || not_after == NULL)
        return CRYPTO_E_INVALID;
    if ((rc = asn1_time_to_time_t(X509_get0_notBefore(c->x), &nb)) != CRYPTO_OK ||
        (rc = asn1_time_to_time_t(X509_get0_notAfter(c->x), &na)) != CRYPTO_OK)
        return rc;
    *not_before = nb;
    *not_after = na;
    return CRYPTO_OK;
}

int x509_cert_pubkey(const x509_cert *c, crypto_p256_key **out)
{
    EVP_PKEY *pkey;

    if (c == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    pkey = cert_pkey(c);
    if (pkey == NULL) {
        ERR_clear_error();
        return CRYPTO_E_BAD_KEY;
    }
    return crypto_p256_from_evp(pkey, out);
}

int x509_cert_pubkey_raw(const x509_cert *c, uint8_t pub[CRYPTO_P256_PUB_LEN])
{
    crypto_p256_key *k = NULL;
    const ASN1_BIT_STRING *bits;
    int rc;

    if (c == NULL || pub == NULL)
        return CRYPTO_E_INVALID;
    rc = x509_cert_pubkey(c, &k); /* a P-256 key, or an error */
    if (rc != CRYPTO_OK)
        return rc;
    /* An uncompressed point (what Intel's certificates carry) is X‖Y as it
     * stands in the certificate, and d2i already checked it is on the curve;
     * asking the key object for X and Y costs two provider round trips. */
    bits = X509_get0_pubkey_bitstr(c->x);
    if (bits != NULL && bits->length == 1 + CRYPTO_P256_PUB_LEN && bits->data[0] == 0x04) {
        memcpy(pub, bits->data + 1, CRYPTO_P256_PUB_LEN);
        crypto_p256_free(k);
        return CRYPTO_OK;
    }
    rc = crypto_p256_pub(k, pub);
    crypto_p256_free(k);
    return rc;
}

int x509_cert_verify_signed_by(const x509_cert *subject, const x509_cert *issuer)
{
    EVP_PKEY *pkey;
    int v;

    if (subject == NULL || issuer == NULL)
        return CRYPTO_E_INVALID;
    pkey = cert_pkey(issuer);
    if (pkey == NULL || !is_p256_evp(pkey)) {
        ERR_clear_error();
        return CRYPTO_E_BAD_KEY;
    }
    /* Only ecdsa-with-SHA256 is part of the PCK profile (quote-format §1.6). */
    if (X509_get_signature_nid(subject->x) != NID_ecdsa_with_SHA256)
        return CRYPTO_E_BAD_SIG;
    if (subject->lite)
        return verify_lite(subject, pkey);
    v = X509_verify(subject->x, pkey);
    ERR_clear_error();
    return v == 1 ? CRYPTO_OK : CRYPTO_E_BAD_SIG;
}

int x509_cert_signature_bytes(const x509_cert *c, const uint8_t **sig, size_t *len)
{
    const ASN1_BIT_STRING *bs = NULL;

    if (c == NULL || sig == NULL || len == NULL)
        return CRYPTO_E_INVALID;
    X509_get0_signature(&bs, NULL, c->x);
    if (bs == NULL || bs->length <= 0)
        return CRYPTO_E_PARSE;
    *sig = bs->data;
    *len = (size_t)bs->length;
    return CRYPTO_OK;
}

bool x509_cert_has_required_exts(const x509_cert *c)
{
    static const int nids[] = {NID_authority_key_identifier, NID_subject_key_identifier,
                               NID_key_usage, NID_basic_constraints,
                               NID_crl_distribution_points};

    if (c == NULL)
        return false;
    for (size_t i = 0; i < sizeof(nids) / sizeof(nids[0]); i++)
        if (X509_get_ext_by_NID(c->x, nids[i], -1) < 0)
            return false;
    return true;
}

bool x509_cert_is_ca(const x509_cert *c)
{
    uint32_t flags;

    if (c == NULL)
        return false;
    flags = X509_get_extension_flags(c->x);
    if (flags & EXFLAG_INVALID)
        return false;
    return (flags & EXFLAG_BCONS) && (flags & EXFLAG_CA);
}

int x509_cert_sgx_ext(const x509_cert *c, sgx_pck_ext *out)
{
    ASN1_OBJECT *obj = NULL;
    int idx, rc = CRYPTO_E_NOT_FOUND;
    const ASN1_OCTET_STRING *os;

    if (c == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    obj = OBJ_txt2obj(SGX_EXT_OID, 1);
    if (obj == NULL)
        return CRYPTO_E_OPENSSL;
    idx = X509_get_ext_by_OBJ(c->x, obj, -1);
    if (idx < 0)
        goto out;
    if (X509_get_ext_by_OBJ(c->x, obj, idx) >= 0) {
        rc = CRYPTO_E_PARSE; /* duplicated extension */
        goto out;
    }
    os = X509_EXTENSION_get_data(X509_get_ext(c->x, idx));
    if (os == NULL || os->length < 0) {
        rc = CRYPTO_E_PARSE;
        goto out;
    }
    rc = sgx_pck_ext_decode(os->data, (size_t)os->length, out);
out:
    ASN1_OBJECT_free(obj);
    return rc;
}

int x509_cert_sha256(const x509_cert *c, uint8_t out[32])
{
    unsigned int n = 0;

    if (c == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    if (c->has_input_sha256) {
        memcpy(out, c->input_sha256, 32);
        return CRYPTO_OK;
    }
    if (X509_digest(c->x, EVP_sha256(), out, &n) != 1 || n != 32)
        return CRYPTO_E_OPENSSL;
    return CRYPTO_OK;
}

void *x509_cert_raw(const x509_cert *c)
{
    return c != NULL ? c->x : NULL;
}

int x509_crl_issuer(const x509_crl *c, char *buf, size_t cap)
{
    if (c == NULL)
        return CRYPTO_E_INVALID;
    return name_to_string(X509_CRL_get_issuer(c->c), buf, cap);
}

bool x509_crl_issued_by(const x509_crl *crl, const x509_cert *issuer)
{
    if (crl == NULL || issuer == NULL)
        return false;
    return names_equal(X509_CRL_get_issuer(crl->c), X509_get_subject_name(issuer->x));
}

int x509_crl_verify_signed_by(const x509_crl *crl, const x509_cert *issuer)
{
    EVP_PKEY *pkey;
    int v;

    if (crl == NULL || issuer == NULL)
        return CRYPTO_E_INVALID;
    pkey = cert_pkey(issuer);
    if (pkey == NULL || !is_p256_evp(pkey)) {
        ERR_clear_error();
        return CRYPTO_E_BAD_KEY;
    }
    if (X509_CRL_get_signature_nid(crl->c) != NID_ecdsa_with_SHA256)
        return CRYPTO_E_BAD_SIG;
    v = X509_CRL_verify(crl->c, pkey);
    ERR_clear_error();
    return v == 1 ? CRYPTO_OK : CRYPTO_E_BAD_SIG;
}

int x509_crl_dates(const x509_crl *c, time_t *this_update, time_t *next_update)
{
    time_t tu = 0, nu = 0;
    int rc;

    if (c == NULL || this_update == NULL || next_update == NULL)
        return CRYPTO_E_INVALID;
    if ((rc = asn1_time_to_time_t(X509_CRL_get0_lastUpdate(c->c), &tu)) != CRYPTO_OK ||
        (rc = asn1_time_to_time_t(X509_CRL_get0_nextUpdate(c->c), &nu)) != CRYPTO_OK)
        return rc;
    *this_update = tu;
    *next_update = nu;
    return CRYPTO_OK;
}

bool x509_crl_has_required_exts(const x509_crl *c)
{
    if (c == NULL)
        return false;
    return X509_CRL_get_ext_by_NID(c->c, NID_crl_number, -1) >= 0 &&
           X509_CRL_get_ext_by_NID(c->c, NID_authority_key_identifier, -1) >= 0;
}

int x509_crl_number(const x509_crl *c, uint64_t *out)
{
    ASN1_INTEGER *num;
    int crit = 0, rc = CRYPTO_E_PARSE;
    uint64_t v = 0;

    if (c == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    num = X509_CRL_get_ext_d2i(c->c, NID_crl_number, &crit, NULL);
    if (num == NULL) {
        ERR_clear_error();
        return crit == -1 ? CRYPTO_E_NOT_FOUND : CRYPTO_E_PARSE;
    }
    if (ASN1_INTEGER_get_uint64(&v, num) == 1) {
        *out = v;
        rc = CRYPTO_OK;
    }
    ERR_clear_error();
    ASN1_INTEGER_free(num);
    return rc;
}

bool x509_crl_revokes(const x509_crl *crl, const x509_cert *c)
{
    STACK_OF(X509_REVOKED) *revs;
    const ASN1_INTEGER *serial;

    if (crl == NULL || c == NULL)
        return false;
    revs = X509_CRL_get_REVOKED(crl->c);
    serial = X509_get0_serialNumber(c->x);
    for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
        const X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
        if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(r), serial) == 0)
            return true;
    }
    return false;
}

size_t x509_crl_count(const x509_crl *c)
{
    int n;

    if (c == NULL)
        return 0;
    n = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(c->c));
    return n > 0 ? (size_t)n : 0;
}

/* ---- time ---- */

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int time_parse_iso8601(const char *s, time_t *out)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct tm tm;
    int y, mo, d, h, mi, se, dim;
    time_t t;

    if (s == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    /* Exactly "YYYY-MM-DDThh:mm:ssZ" (quote-format §6.2): 20 characters. */
    if (strnlen(s, 21) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return CRYPTO_E_PARSE;
    y = digits(s, 4);
    mo = digits(s + 5, 2);
    d = digits(s + 8, 2);
    h = digits(s + 11, 2);
    mi = digits(s + 14, 2);
    se = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
        se > 59)
        return CRYPTO_E_PARSE;
    dim = mdays[mo - 1] + (mo == 2 && is_leap(y) ? 1 : 0);
    if (d > dim)
        return CRYPTO_E_PARSE;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    t = timegm(&tm);
    if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31 && h == 23 && mi == 59 && se == 59))
        return CRYPTO_E_PARSE;
    *out = t;
    return CRYPTO_OK;
}

/* Writes v (0 <= v < 10^n) as exactly n decimal digits. */
static void put_digits(char *p, int v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void time_format_iso8601(time_t t, char out[21])
{
    struct tm tm;

    if (out == NULL)
        return;
    /* Years outside 0000..9999 do not fit the format: empty string. */
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
        out[0] = '\0';
        return;
    }
    put_digits(out, tm.tm_year + 1900, 4);
    out[4] = '-';
    put_digits(out + 5, tm.tm_mon + 1, 2);
    out[7] = '-';
    put_digits(out + 8, tm.tm_mday, 2);
    out[10] = 'T';
    put_digits(out + 11, tm.tm_hour, 2);
    out[13] = ':';
    put_digits(out + 14, tm.tm_min, 2);
    out[16] = ':';
    put_digits(out + 17, tm.tm_sec, 2);
    out[19] = 'Z';
    out[20] = '\0';
}
