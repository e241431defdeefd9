/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Intel SGX PCK certificate extension (OID 1.2.840.113741.1.13.1,
 * quote-format §5.2): a tiny DER writer for the simulated PCK certificates
 * x509.c builds, and a strict bounds-checked DER reader for the extension
 * bytes of untrusted certificates (quotes' type-5 certification data, PCS
 * downloads). The verifier reads FMSPC/PCEID/TCB from here for TCB matching.
 * Only the subset of DER this extension uses is supported, deliberately.
 */
#include "crypto/x509.h"

#include <stdlib.h>
#include <string.h>

/* DER tags used by the extension (X.690). */
#define TAG_BOOLEAN 0x01
#define TAG_INTEGER 0x02
#define TAG_OCTET_STRING 0x04
#define TAG_OID 0x06
#define TAG_ENUMERATED 0x0a
#define TAG_SEQUENCE 0x30

/* Entry counts (quote-format §5.3): 5 for Processor-CA PCKs, 7 for Platform-CA
 * PCKs (+PlatformInstanceID, +Configuration); TCB has exactly 18 entries. */
#define SGX_EXT_ENTRIES_PROCESSOR 5
#define SGX_EXT_ENTRIES_PLATFORM 7
#define SGX_TCB_ENTRIES 18
#define SGX_TCB_COMPONENTS 16
#define SGX_CONFIG_ENTRIES 3
#define SGX_CPUSVN_LEN 16
/* Far above the ~470 bytes of a real 7-entry extension; bounds hostile input. */
#define SGX_EXT_MAX_DER 4096

/* OID content bytes (quote-format §5.2): 1.2.840.113741.1.13.1 and children. */
static const uint8_t OID_SGX_EXT[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
#define OID_SGX_EXT_LEN sizeof(OID_SGX_EXT)

enum {
    ENTRY_PPID = 1,
    ENTRY_TCB = 2,
    ENTRY_PCEID = 3,
    ENTRY_FMSPC = 4,
    ENTRY_SGX_TYPE = 5,
    ENTRY_PLATFORM_INSTANCE_ID = 6,
    ENTRY_CONFIGURATION = 7,
};
#define TCB_PCESVN 17
#define TCB_CPUSVN 18
#define CONFIG_DYNAMIC_PLATFORM 1
#define CONFIG_CACHED_KEYS 2
#define CONFIG_SMT_ENABLED 3

/* ---- writer ---- */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    bool failed;
} der_writer;

static void dw_put(der_writer *w, const void *p, size_t n)
{
    if (w->failed || n == 0)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 128;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *nb = realloc(w->buf, cap);
        if (nb == NULL) {
            w->failed = true;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void dw_tlv(der_writer *w, uint8_t tag, const uint8_t *val, size_t n)
{
    uint8_t hdr[6];
    size_t h = 0;

    hdr[h++] = tag;
    if (n < 0x80) {
        hdr[h++] = (uint8_t)n;
    } else if (n <= 0xff) {
        hdr[h++] = 0x81;
        hdr[h++] = (uint8_t)n;
    } else if (n <= 0xffff) {
        hdr[h++] = 0x82;
        hdr[h++] = (uint8_t)(n >> 8);
        hdr[h++] = (uint8_t)n;
    } else {
        w->failed = true; /* never needed for this extension */
        return;
    }
    dw_put(w, hdr, h);
    dw_put(w, val, n);
}

/* Wraps everything in `inner` as one TLV appended to w; frees inner. */
static void dw_wrap(der_writer *w, uint8_t tag, der_writer *inner)
{
    if (inner->failed)
        w->failed = true;
    else
        dw_tlv(w, tag, inner->buf, inner->len);
    free(inner->buf);
    memset(inner, 0, sizeof(*inner));
}

/* OID 1.2.840.113741.1.13.1[.a[.b]] (arcs < 128, so one byte each). */
static void dw_sgx_oid(der_writer *w, int a, int b)
{
    uint8_t oid[OID_SGX_EXT_LEN + 2];
    size_t n = OID_SGX_EXT_LEN;

    memcpy(oid, OID_SGX_EXT, OID_SGX_EXT_LEN);
    if (a > 0)
        oid[n++] = (uint8_t)a;
    if (b > 0)
        oid[n++] = (uint8_t)b;
    dw_tlv(w, TAG_OID, oid, n);
}

/* Non-negative INTEGER/ENUMERATED, minimal two's complement. */
static void dw_uint(der_writer *w, uint8_t tag, uint32_t v)
{
    uint8_t b[5];
    size_t n = 0;
    int shift = 24;

    while (shift > 0 && ((v >> shift) & 0xff) == 0)
        shift -= 8;
    if ((v >> shift) & 0x80)
        b[n++] = 0;
    for (; shift >= 0; shift -= 8)
        b[n++] = (uint8_t)(v >> shift);
    dw_tlv(w, tag, b, n);
}

/* SEQUENCE { OID sgx.a[.b], value } where the value is already in `val`. */
static void dw_entry(der_writer *w, int a, int b, der_writer *val)
{
    der_writer e = {0};

    dw_sgx_oid(&e, a, b);
    if (val->failed)
        e.failed = true;
    else
        dw_put(&e, val->buf, val->len);
    free(val->buf);
    memset(val, 0, sizeof(*val));
    dw_wrap(w, TAG_SEQUENCE, &e);
}

static void dw_entry_octets(der_writer *w, int a, int b, const uint8_t *p, size_t n)
{
    der_writer v = {0};
    dw_tlv(&v, TAG_OCTET_STRING, p, n);
    dw_entry(w, a, b, &v);
}

static void dw_entry_uint(der_writer *w, int a, int b, uint8_t tag, uint32_t x)
{
    der_writer v = {0};
    dw_uint(&v, tag, x);
    dw_entry(w, a, b, &v);
}

static void dw_entry_bool(der_writer *w, int a, int b, bool x)
{
    der_writer v = {0};
    uint8_t byte = x ? 0xff : 0x00;
    dw_tlv(&v, TAG_BOOLEAN, &byte, 1);
    dw_entry(w, a, b, &v);
}

int sgx_pck_ext_encode(const sgx_pck_ext *ext, uint8_t **der, size_t *der_len)
{
    der_writer top = {0}, tcb = {0}, cfg = {0}, v = {0};

    if (ext == NULL || der == NULL || der_len == NULL)
        return CRYPTO_E_INVALID;
    /* Only the two shapes parsers accept (quote-format §5.3). */
    if (ext->has_platform_instance_id != ext->has_configuration)
        return CRYPTO_E_INVALID;
    if (ext->sgx_type < 0 || ext->sgx_type > 255)
        return CRYPTO_E_INVALID;
    *der = NULL;
    *der_len = 0;

    dw_entry_octets(&top, ENTRY_PPID, 0, ext->ppid, SGX_EXT_PPID_LEN);

    for (int i = 1; i <= SGX_TCB_COMPONENTS; i++)
        dw_entry_uint(&tcb, ENTRY_TCB, i, TAG_INTEGER, ext->comp_svn[i - 1]);
    dw_entry_uint(&tcb, ENTRY_TCB, TCB_PCESVN, TAG_INTEGER, ext->pcesvn);
    dw_entry_octets(&tcb, ENTRY_TCB, TCB_CPUSVN, ext->cpusvn, SGX_CPUSVN_LEN);
    dw_wrap(&v, TAG_SEQUENCE, &tcb);
    dw_entry(&top, ENTRY_TCB, 0, &v);

    dw_entry_octets(&top, ENTRY_PCEID, 0, ext->pceid, SGX_EXT_PCEID_LEN);
    dw_entry_octets(&top, ENTRY_FMSPC, 0, ext->fmspc, SGX_EXT_FMSPC_LEN);
    dw_entry_uint(&top, ENTRY_SGX_TYPE, 0, TAG_ENUMERATED, (uint32_t)ext->sgx_type);

    if (ext->has_platform_instance_id) {
        dw_entry_octets(&top, ENTRY_PLATFORM_INSTANCE_ID, 0, ext->platform_instance_id,
                        SGX_EXT_PLATFORM_INSTANCE_ID_LEN);
        dw_entry_bool(&cfg, ENTRY_CONFIGURATION, CONFIG_DYNAMIC_PLATFORM, ext->dynamic_platform);
        dw_entry_bool(&cfg, ENTRY_CONFIGURATION, CONFIG_CACHED_KEYS, ext->cached_keys);
        dw_entry_bool(&cfg, ENTRY_CONFIGURATION, CONFIG_SMT_ENABLED, ext->smt_enabled);
        dw_wrap(&v, TAG_SEQUENCE, &cfg);
        dw_entry(&top, ENTRY_CONFIGURATION, 0, &v);
    }

    der_writer out = {0};
    dw_wrap(&out, TAG_SEQUENCE, &top);
    if (out.failed) {
        free(out.buf);
        return CRYPTO_E_NOMEM;
    }
    *der = out.buf;
    *der_len = out.len;
    return CRYPTO_OK;
}

/* ---- reader ---- */

/* A bounded cursor over DER bytes; every read checks the remaining length. */
typedef struct {
    const uint8_t *p;
    size_t left;
} der_reader;

/* Reads one TLV (low-tag-number form, definite minimal length). */
static int dr_tlv(der_reader *r, uint8_t *tag, der_reader *val)
{
    size_t len;

    if (r->left < 2)
        return CRYPTO_E_PARSE;
    *tag = r->p[0];
    if ((*tag & 0x1f) == 0x1f)
        return CRYPTO_E_PARSE;
    uint8_t l0 = r->p[1];
    size_t hdr = 2;
    if (l0 < 0x80) {
        len = l0;
    } else if (l0 == 0x81) {
        if (r->left < 3 || r->p[2] < 0x80) /* minimal length encoding */
            return CRYPTO_E_PARSE;
        len = r->p[2];
        hdr = 3;
    } else if (l0 == 0x82) {
        if (r->left < 4 || r->p[2] == 0 || ((size_t)r->p[2] << 8 | r->p[3]) < 0x100)
            return CRYPTO_E_PARSE;
        len = (size_t)r->p[2] << 8 | r->p[3];
        hdr = 4;
    } else {
        return CRYPTO_E_PARSE; /* indefinite or > 64 KiB: never valid here */
    }
    if (len > r->left - hdr)
        return CRYPTO_E_PARSE;
    val->p = r->p + hdr;
    val->left = len;
    r->p += hdr + len;
    r->left -= hdr + len;
    return CRYPTO_OK;
}

static int dr_expect(der_reader *r, uint8_t want, der_reader *val)
{
    uint8_t tag;
    int rc = dr_tlv(r, &tag, val);
    if (rc != CRYPTO_OK)
        return rc;
    return tag == want ? CRYPTO_OK : CRYPTO_E_PARSE;
}

/* Non-negative minimal INTEGER/ENUMERATED no larger than max. */
static int dr_uint(der_reader *r, uint8_t tag, uint32_t max, uint32_t *out)
{
    der_reader v;
    uint32_t x = 0;
    int rc = dr_expect(r, tag, &v);

    if (rc != CRYPTO_OK)
        return rc;
    if (v.left == 0 || (v.p[0] & 0x80))
        return CRYPTO_E_PARSE; /* empty or negative */
    if (v.left > 1 && v.p[0] == 0 && !(v.p[1] & 0x80))
        return CRYPTO_E_PARSE; /* non-minimal */
    if (v.left > 5 || (v.left == 5 && v.p[0] != 0))
        return CRYPTO_E_PARSE;
    for (size_t i = 0; i < v.left; i++)
        x = (x << 8) | v.p[i];
    if (x > max)
        return CRYPTO_E_PARSE;
    *out = x;
    return CRYPTO_OK;
}

static int dr_octets(der_reader *r, uint8_t *out, size_t n)
{
    der_reader v;
    int rc = dr_expect(r, TAG_OCTET_STRING, &v);

    if (rc != CRYPTO_OK)
        return rc;
    if (v.left != n)
        return CRYPTO_E_PARSE;
    memcpy(out, v.p, n);
    return CRYPTO_OK;
}

static int dr_bool(der_reader *r, bool *out)
{
    der_reader v;
    int rc = dr_expect(r, TAG_BOOLEAN, &v);

    if (rc != CRYPTO_OK)
        return rc;
    if (v.left != 1 || (v.p[0] != 0x00 && v.p[0] != 0xff))
        return CRYPTO_E_PARSE;
    *out = v.p[0] == 0xff;
    return CRYPTO_OK;
}

/* Reads SEQUENCE { OID, value } and identifies the OID as sgx.a[.b]:
 * with want_a == 0 the OID must be sgx.<a> (a returned in *arc);
 * otherwise it must be sgx.<want_a>.<b> (b returned in *arc).
 * `val` is left positioned on the value, which must be the only element left. */
static int dr_entry(der_reader *r, int want_a, int *arc, der_reader *val)
{
    der_reader oid;
    size_t base = OID_SGX_EXT_LEN + (want_a > 0 ? 1 : 0);
    int rc = dr_expect(r, TAG_SEQUENCE, val);

    if (rc != CRYPTO_OK)
        return rc;
    rc = dr_expect(val, TAG_OID, &oid);
    if (rc != CRYPTO_OK)
        return rc;
    if (oid.left != base + 1 || memcmp(oid.p, OID_SGX_EXT, OID_SGX_EXT_LEN) != 0)
        return CRYPTO_E_PARSE;
    if (want_a > 0 && oid.p[OID_SGX_EXT_LEN] != want_a)
        return CRYPTO_E_PARSE;
    if (oid.p[base] & 0x80)
        return CRYPTO_E_PARSE; /* multi-byte arc: not one of ours */
    *arc = oid.p[base];
    return CRYPTO_OK;
}

/* The value must be the last element of its entry SEQUENCE. */
static int dr_end(const der_reader *r)
{
    return r->left == 0 ? CRYPTO_OK : CRYPTO_E_PARSE;
}

/* The rule the three SEQUENCEs of entries (top level, TCB, Configuration;
 * quote-format §5.2) share: arcs 1..max, none twice. Callers check which
 * sets are complete from n and seen (bit `arc` set once read). */
typedef struct {
    int n;
    uint32_t seen;
} entry_set;

_Static_assert(SGX_TCB_ENTRIES < 32 && ENTRY_CONFIGURATION < 32, "arcs fit entry_set.seen");
_Static_assert(ENTRY_PPID == 1 && ENTRY_CONFIGURATION == SGX_EXT_ENTRIES_PLATFORM,
               "top-level arcs run 1..SGX_EXT_ENTRIES_PLATFORM");

static int dr_next_entry(der_reader *seq, int want_a, int max, entry_set *set, int *arc,
                         der_reader *val)
{
    int rc;

    if (++set->n > max)
        return CRYPTO_E_PARSE;
    rc = dr_entry(seq, want_a, arc, val);
    if (rc != CRYPTO_OK)
        return rc;
    if (*arc < 1 || *arc > max || (set->seen & (1u << *arc)))
        return CRYPTO_E_PARSE;
    set->seen |= 1u << *arc;
    return CRYPTO_OK;
}

static int decode_tcb(der_reader *val, sgx_pck_ext *out)
{
    der_reader seq;
    entry_set set = {0, 0};
    int rc = dr_expect(val, TAG_SEQUENCE, &seq);

    if (rc != CRYPTO_OK)
        return rc;
    while (seq.left > 0) {
        der_reader e;
        int arc = 0;
        uint32_t x = 0;

        rc = dr_next_entry(&seq, ENTRY_TCB, SGX_TCB_ENTRIES, &set, &arc, &e);
        if (rc != CRYPTO_OK)
            return rc;
        if (arc <= SGX_TCB_COMPONENTS) {
            rc = dr_uint(&e, TAG_INTEGER, 255, &x);
            out->comp_svn[arc - 1] = (uint8_t)x;
        } else if (arc == TCB_PCESVN) {
            rc = dr_uint(&e, TAG_INTEGER, 65535, &x);
            out->pcesvn = (uint16_t)x;
        } else {
            rc = dr_octets(&e, out->cpusvn, SGX_CPUSVN_LEN);
        }
        if (rc != CRYPTO_OK || (rc = dr_end(&e)) != CRYPTO_OK)
            return rc;
    }
    return set.n == SGX_TCB_ENTRIES ? dr_end(val) : CRYPTO_E_PARSE;
}

static int decode_configuration(der_reader *val, sgx_pck_ext *out)
{
    der_reader seq;
    entry_set set = {0, 0};
    int rc = dr_expect(val, TAG_SEQUENCE, &seq);

    if (rc != CRYPTO_OK)
        return rc;
    while (seq.left > 0) {
        der_reader e;
        int arc = 0;
        bool b = false;

        rc = dr_next_entry(&seq, ENTRY_CONFIGURATION, SGX_CONFIG_ENTRIES, &set, &arc, &e);
        if (rc != CRYPTO_OK)
            return rc;
        if ((rc = dr_bool(&e, &b)) != CRYPTO_OK || (rc = dr_end(&e)) != CRYPTO_OK)
            return rc;
        if (arc == CONFIG_DYNAMIC_PLATFORM)
            out->dynamic_platform = b;
        else if (arc == CONFIG_CACHED_KEYS)
            out->cached_keys = b;
        else
            out->smt_enabled = b;
    }
    if (set.n != SGX_CONFIG_ENTRIES)
        return CRYPTO_E_PARSE;
    out->has_configuration = true;
    return dr_end(val);
}

int sgx_pck_ext_decode(const uint8_t *der, size_t der_len, sgx_pck_ext *out)
{
    der_reader all = {der, der_len}, top;
    sgx_pck_ext tmp;
    entry_set set = {0, 0};
    int rc;

    if (der == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    if (der_len > SGX_EXT_MAX_DER)
        return CRYPTO_E_PARSE;
    memset(&tmp, 0, sizeof(tmp));
    rc = dr_expect(&all, TAG_SEQUENCE, &top);
    if (rc != CRYPTO_OK)
        return rc;
    if (all.left != 0)
        return CRYPTO_E_PARSE; /* trailing bytes after the extension */

    while (top.left > 0) {
        der_reader e;
        int arc = 0;
        uint32_t x = 0;

        rc = dr_next_entry(&top, 0, SGX_EXT_ENTRIES_PLATFORM, &set, &arc, &e);
        if (rc != CRYPTO_OK)
            return rc;
        switch (arc) {
        case ENTRY_PPID:
            rc = dr_octets(&e, tmp.ppid, SGX_EXT_PPID_LEN);
            break;
        case ENTRY_TCB:
            rc = decode_tcb(&e, &tmp);
            break;
        case ENTRY_PCEID:
            rc = dr_octets(&e, tmp.pceid, SGX_EXT_PCEID_LEN);
            break;
        case ENTRY_FMSPC:
            rc = dr_octets(&e, tmp.fmspc, SGX_EXT_FMSPC_LEN);
            break;
        case ENTRY_SGX_TYPE:
            rc = dr_uint(&e, TAG_ENUMERATED, 255, &x);
            tmp.sgx_type = (int)x;
            break;
        case ENTRY_PLATFORM_INSTANCE_ID:
            rc = dr_octets(&e, tmp.platform_instance_id, SGX_EXT_PLATFORM_INSTANCE_ID_LEN);
            tmp.has_platform_instance_id = true;
            break;
        default:
            rc = decode_configuration(&e, &tmp);
            break;
        }
        if (rc != CRYPTO_OK || (rc = dr_end(&e)) != CRYPTO_OK)
            return rc;
    }
    /* Exactly the five mandatory entries, or those plus both platform ones. */
    const uint32_t five = 0x3eu, seven = 0xfeu;
    if (!((set.n == SGX_EXT_ENTRIES_PROCESSOR && set.seen == five) ||
          (set.n == SGX_EXT_ENTRIES_PLATFORM && set.seen == seven)))
        return CRYPTO_E_PARSE;
    *out = tmp;
    return CRYPTO_OK;
}
