/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for x509.h. Parsing is checked against Intel's real PCK chain and
 * CRLs (values from quote-format §5.1-§5.4 and `openssl x509 -text` of the
 * vectors); building is checked by re-parsing and by looking for hand-built
 * DER byte strings (names, extensions, the SGX extension of §5.2) in the
 * output — the same byte strings are first shown to occur in Intel's certs —
 * and signatures by splitting the DER by hand and checking its RFC 6979
 * signature over the TBS bytes (crypto_p256_sign_deterministic has its own
 * RFC vectors in test_crypto.c).
 */
#include "tutil.h"

#include <time.h>

#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "crypto/x509.h"

#define VEC_SGX "quotes/dcapqvl-sgx-v3/"
#define VEC_CUSTOM "quotes/customroot-dcapqvl-sgx-v3/"

/* ---- DER byte-string helpers (test side, independent of the code under test) ---- */

static size_t count_hex(const uint8_t *hay, size_t hay_len, const char *needle_hex)
{
    size_t n, count = 0;
    uint8_t *needle = tu_hex(needle_hex, &n);

    for (size_t i = 0; n > 0 && i + n <= hay_len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            count++;
    free(needle);
    return count;
}

/* Offset of the first occurrence of needle, or fails the test. */
static size_t find_hex(const uint8_t *hay, size_t hay_len, const char *needle_hex)
{
    size_t n;
    uint8_t *needle = tu_hex(needle_hex, &n);

    for (size_t i = 0; i + n <= hay_len; i++)
        if (memcmp(hay + i, needle, n) == 0) {
            free(needle);
            return i;
        }
    free(needle);
    fail_msg("byte string %s not found", needle_hex);
    return 0;
}

static uint8_t *cert_der(const x509_cert *c, size_t *len)
{
    uint8_t *der = NULL;
    assert_int_equal(x509_cert_to_der(c, &der, len), CRYPTO_OK);
    return der;
}

/* ---- the SGX extension, hand-encoded from quote-format §5.2 ---- */

#define SGX_OID1(n) "060a2a864886f84d010d01" n   /* 1.2.840.113741.1.13.1.n */
#define SGX_OID2(n) "060b2a864886f84d010d0102" n /* ...13.1.2.n (TCB) */
#define SGX_OID7(n) "060b2a864886f84d010d0107" n /* ...13.1.7.n (Configuration) */
#define TCB_INT(n, v) "3010" SGX_OID2(n) "0201" v

/* The sample PCK of §5.2: PPID D04E…2DDF, comps 11,11,2,2,255,1,0…,
 * PCESVN 13, CPUSVN 0B0B0202FF01…, PCEID 0000, FMSPC 00A067110000, type 0. */
#define SGX_EXT_PPID_ENTRY "301e" SGX_OID1("01") "0410" "d04ec06d4e6d92dc90d0ad3cf5ee2ddf"
#define SGX_EXT_TCB_ENTRY                                                                         \
    "30820164" SGX_OID1("02") "30820154" TCB_INT("01", "0b") TCB_INT("02", "0b")                 \
        TCB_INT("03", "02") TCB_INT("04", "02") "3011" SGX_OID2("05") "020200ff"                 \
        TCB_INT("06", "01") TCB_INT("07", "00") TCB_INT("08", "00") TCB_INT("09", "00")          \
            TCB_INT("0a", "00") TCB_INT("0b", "00") TCB_INT("0c", "00") TCB_INT("0d", "00")      \
                TCB_INT("0e", "00") TCB_INT("0f", "00") TCB_INT("10", "00")                      \
                    TCB_INT("11", "0d") "301f" SGX_OID2("12")                                    \
        "04100b0b0202ff0100000000000000000000"
#define SGX_EXT_TAIL_ENTRIES                                                                      \
    "3010" SGX_OID1("03") "04020000"                                                              \
    "3014" SGX_OID1("04") "040600a067110000"                                                      \
    "300f" SGX_OID1("05") "0a0100"
#define SGX_EXT_5_HEX                                                                             \
    "308201c1" SGX_EXT_PPID_ENTRY SGX_EXT_TCB_ENTRY SGX_EXT_TAIL_ENTRIES
/* Platform-CA shape: + PlatformInstanceID 00..0f, Configuration (T, F, T). */
#define SGX_EXT_PLATFORM_ENTRIES                                                                  \
    "301e" SGX_OID1("06") "0410" "000102030405060708090a0b0c0d0e0f"                               \
    "3044" SGX_OID1("07") "3036"                                                                  \
    "3010" SGX_OID7("01") "0101ff"                                                                \
    "3010" SGX_OID7("02") "010100"                                                                \
    "3010" SGX_OID7("03") "0101ff"
#define SGX_EXT_7_HEX                                                                             \
    "30820227" SGX_EXT_PPID_ENTRY SGX_EXT_TCB_ENTRY SGX_EXT_TAIL_ENTRIES SGX_EXT_PLATFORM_ENTRIES

static void sample_ext(sgx_pck_ext *e)
{
    static const uint8_t comps[16] = {11, 11, 2, 2, 255, 1};
    size_t n;
    uint8_t *p;

    memset(e, 0, sizeof(*e));
    p = tu_hex("d04ec06d4e6d92dc90d0ad3cf5ee2ddf", &n);
    memcpy(e->ppid, p, 16);
    free(p);
    memcpy(e->comp_svn, comps, 16);
    memcpy(e->cpusvn, comps, 16); /* byte i == comp i+1 in real certs, §5.2 */
    e->pcesvn = 13;
    p = tu_hex("00a067110000", &n);
    memcpy(e->fmspc, p, 6);
    free(p);
    e->sgx_type = 0;
}

static void assert_ext_equal(const sgx_pck_ext *a, const sgx_pck_ext *b)
{
    assert_memory_equal(a->ppid, b->ppid, 16);
    assert_memory_equal(a->comp_svn, b->comp_svn, 16);
    assert_int_equal(a->pcesvn, b->pcesvn);
    assert_memory_equal(a->cpusvn, b->cpusvn, 16);
    assert_memory_equal(a->pceid, b->pceid, 2);
    assert_memory_equal(a->fmspc, b->fmspc, 6);
    assert_int_equal(a->sgx_type, b->sgx_type);
    assert_int_equal(a->has_platform_instance_id, b->has_platform_instance_id);
    if (a->has_platform_instance_id)
        assert_memory_equal(a->platform_instance_id, b->platform_instance_id, 16);
    assert_int_equal(a->has_configuration, b->has_configuration);
    if (a->has_configuration) {
        assert_int_equal(a->dynamic_platform, b->dynamic_platform);
        assert_int_equal(a->cached_keys, b->cached_keys);
        assert_int_equal(a->smt_enabled, b->smt_enabled);
    }
}

static void test_sgx_ext_encode_known(void **state)
{
    (void)state;
    sgx_pck_ext e, d;
    uint8_t *der = NULL;
    size_t len = 0;

    sample_ext(&e);
    assert_int_equal(sgx_pck_ext_encode(&e, &der, &len), CRYPTO_OK);
    tu_assert_hex(der, len, SGX_EXT_5_HEX);
    assert_int_equal(sgx_pck_ext_decode(der, len, &d), CRYPTO_OK);
    assert_ext_equal(&e, &d);
    free(der);

    e.has_platform_instance_id = true;
    for (int i = 0; i < 16; i++)
        e.platform_instance_id[i] = (uint8_t)i;
    e.has_configuration = true;
    e.dynamic_platform = true;
    e.cached_keys = false;
    e.smt_enabled = true;
    assert_int_equal(sgx_pck_ext_encode(&e, &der, &len), CRYPTO_OK);
    tu_assert_hex(der, len, SGX_EXT_7_HEX);
    assert_int_equal(sgx_pck_ext_decode(der, len, &d), CRYPTO_OK);
    assert_ext_equal(&e, &d);
    free(der);

    /* Only the 5- and 7-entry shapes exist (§5.3). */
    e.has_configuration = false;
    assert_int_equal(sgx_pck_ext_encode(&e, &der, &len), CRYPTO_E_INVALID);
}

static void test_sgx_ext_encode_integers(void **state)
{
    (void)state;
    sgx_pck_ext e, d;
    uint8_t *der = NULL;
    size_t len = 0;

    sample_ext(&e);
    e.comp_svn[0] = 0x7f; /* 02 01 7f */
    e.comp_svn[1] = 0x80; /* 02 02 00 80 */
    e.pcesvn = 0xffff;    /* 02 03 00 ff ff */
    e.sgx_type = 2;
    assert_int_equal(sgx_pck_ext_encode(&e, &der, &len), CRYPTO_OK);
    assert_int_equal(count_hex(der, len, SGX_OID2("01") "02017f"), 1);
    assert_int_equal(count_hex(der, len, "3011" SGX_OID2("02") "02020080"), 1);
    assert_int_equal(count_hex(der, len, "3012" SGX_OID2("11") "020300ffff"), 1);
    assert_int_equal(count_hex(der, len, SGX_OID1("05") "0a0102"), 1);
    assert_int_equal(sgx_pck_ext_decode(der, len, &d), CRYPTO_OK);
    assert_ext_equal(&e, &d);
    free(der);
}

static void expect_decode_fails(const char *hex)
{
    size_t n;
    uint8_t *der = tu_hex(hex, &n);
    sgx_pck_ext d;
    assert_int_equal(sgx_pck_ext_decode(der, n, &d), CRYPTO_E_PARSE);
    free(der);
}

/* Replace the first occurrence of `from` with `to` (same length) in hex text. */
static char *hex_subst(const char *hex, const char *from, const char *to)
{
    char *s = strdup(hex);
    char *p;

    assert_non_null(s);
    assert_int_equal(strlen(from), strlen(to));
    p = strstr(s, from);
    assert_non_null(p);
    memcpy(p, to, strlen(to));
    return s;
}

static void test_sgx_ext_decode_strict(void **state)
{
    (void)state;
    size_t n;
    uint8_t *der = tu_hex(SGX_EXT_5_HEX, &n);
    sgx_pck_ext d;
    char *s;

    assert_int_equal(sgx_pck_ext_decode(der, n, &d), CRYPTO_OK);
    /* Every truncation fails, and so does a trailing byte. */
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(sgx_pck_ext_decode(der, cut, &d), CRYPTO_E_PARSE);
    free(der);
    expect_decode_fails(SGX_EXT_5_HEX "00");

    /* Wrong OID arc for PPID (→ .8, unknown). */
    s = hex_subst(SGX_EXT_5_HEX, SGX_OID1("01"), SGX_OID1("08"));
    expect_decode_fails(s);
    free(s);
    /* Duplicate entry: FMSPC's OID renamed to PCE-ID. */
    s = hex_subst(SGX_EXT_5_HEX, SGX_OID1("04") "0406", SGX_OID1("03") "0406");
    expect_decode_fails(s);
    free(s);
    /* SGX Type must be ENUMERATED. */
    s = hex_subst(SGX_EXT_5_HEX, SGX_OID1("05") "0a01", SGX_OID1("05") "0201");
    expect_decode_fails(s);
    free(s);
    /* Negative component SVN. */
    s = hex_subst(SGX_EXT_5_HEX, SGX_OID2("01") "02010b", SGX_OID2("01") "020180");
    expect_decode_fails(s);
    free(s);
    /* Non-minimal INTEGER for comp05 (00 7f is not minimal). */
    s = hex_subst(SGX_EXT_5_HEX, "020200ff", "0202007f");
    expect_decode_fails(s);
    free(s);
    /* Comp > 255 (01 ff). */
    s = hex_subst(SGX_EXT_5_HEX, "020200ff", "020201ff");
    expect_decode_fails(s);
    free(s);
    /* TCB entry OID duplicated (comp02 renamed comp01). */
    s = hex_subst(SGX_EXT_5_HEX, SGX_OID2("02") "02010b", SGX_OID2("01") "02010b");
    expect_decode_fails(s);
    free(s);
    /* FMSPC of the wrong size can't be expressed same-length; PCE-ID 2→ OCTET tag changed. */
    s = hex_subst(SGX_EXT_5_HEX, SGX_OID1("03") "0402", SGX_OID1("03") "0502");
    expect_decode_fails(s);
    free(s);
    /* Non-DER BOOLEAN in Configuration. */
    s = hex_subst(SGX_EXT_7_HEX, "0101ff", "010101");
    expect_decode_fails(s);
    free(s);
    /* Long-form length where short form is required (outer 30 82 01c1 is fine;
     * a 30 81 1e PPID entry is not minimal). */
    expect_decode_fails("308201c2" "30811e" SGX_OID1("01") "0410" "d04ec06d4e6d92dc90d0ad3cf5ee2ddf"
                        SGX_EXT_TCB_ENTRY SGX_EXT_TAIL_ENTRIES);
    /* Six entries (5 + PlatformInstanceID only). */
    expect_decode_fails("308201e1" SGX_EXT_PPID_ENTRY SGX_EXT_TCB_ENTRY SGX_EXT_TAIL_ENTRIES
                        "301e" SGX_OID1("06") "0410"
                        "000102030405060708090a0b0c0d0e0f");
    /* Four entries (no SGX Type). */
    expect_decode_fails("308201b0" SGX_EXT_PPID_ENTRY SGX_EXT_TCB_ENTRY "3010" SGX_OID1("03")
                        "04020000"
                        "3014" SGX_OID1("04") "040600a067110000");
}

/* ---- Intel's real chain (dcap-qvl sample, quote-format §5) ---- */

typedef struct {
    x509_cert **certs;
    size_t n;
    x509_cert *leaf, *ca, *root;
} chain;

static void load_chain(const char *rel, chain *ch)
{
    size_t len;
    uint8_t *pem = ts_read_vector(rel, &len);

    memset(ch, 0, sizeof(*ch));
    assert_int_equal(x509_chain_from_pem((const char *)pem, len, &ch->certs, &ch->n), CRYPTO_OK);
    assert_int_equal(ch->n, 3);
    /* Order in the type-5 data: leaf, intermediate, root (§1.5). */
    ch->leaf = ch->certs[0];
    ch->ca = ch->certs[1];
    ch->root = ch->certs[2];
    free(pem);
}

static void test_real_chain_names(void **state)
{
    (void)state;
    chain ch;
    char buf[256];
    size_t len;
    uint8_t *pem = ts_read_vector(VEC_SGX "pck_chain.pem", &len);

    /* The vector carries the NUL counted in C (§1.5). */
    assert_int_equal(pem[len - 1], 0);
    free(pem);
    load_chain(VEC_SGX "pck_chain.pem", &ch);

    assert_int_equal(x509_cert_subject_cn(ch.leaf, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf, "Intel SGX PCK Certificate");
    assert_int_equal(x509_cert_issuer_cn(ch.leaf, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf, "Intel SGX PCK Processor CA");
    assert_int_equal(x509_cert_subject_cn(ch.ca, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf, "Intel SGX PCK Processor CA");
    assert_int_equal(x509_cert_subject_cn(ch.root, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf, "Intel SGX Root CA");
    assert_int_equal(x509_cert_subject(ch.root, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf, "C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN=Intel SGX Root CA");
    assert_int_equal(x509_cert_issuer(ch.leaf, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf,
                        "C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN=Intel SGX PCK Processor CA");
    /* Too-small buffers are refused rather than truncated. */
    assert_int_equal(x509_cert_subject_cn(ch.root, buf, 17), CRYPTO_E_INVALID);
    assert_int_equal(x509_cert_subject_cn(ch.root, buf, 18), CRYPTO_OK);

    assert_true(x509_cert_is_self_issued(ch.root));
    assert_false(x509_cert_is_self_issued(ch.ca));
    assert_false(x509_cert_is_self_issued(ch.leaf));
    assert_true(x509_cert_subject_equals_issuer_of(ch.ca, ch.leaf));
    assert_true(x509_cert_subject_equals_issuer_of(ch.root, ch.ca));
    assert_false(x509_cert_subject_equals_issuer_of(ch.root, ch.leaf));
    assert_true(x509_cert_is_ca(ch.root));
    assert_true(x509_cert_is_ca(ch.ca));
    assert_false(x509_cert_is_ca(ch.leaf));
    for (size_t i = 0; i < 3; i++)
        assert_true(x509_cert_has_required_exts(ch.certs[i]));
    x509_chain_free(ch.certs, ch.n);
}

static void test_real_chain_fields(void **state)
{
    (void)state;
    chain ch;
    uint8_t buf[32], pub[64], digest[32];
    size_t n;
    time_t nb, na;

    load_chain(VEC_SGX "pck_chain.pem", &ch);

    /* §5.4: the Intel SGX Root CA. */
    assert_int_equal(x509_cert_serial(ch.root, buf, sizeof(buf), &n), CRYPTO_OK);
    tu_assert_hex(buf, n, "22650cd65a9d3489f383b49552bf501b392706ac");
    assert_int_equal(x509_cert_validity(ch.root, &nb, &na), CRYPTO_OK);
    assert_int_equal(nb, 1526899510); /* 2018-05-21T10:45:10Z */
    assert_int_equal(na, 2524607999); /* 2049-12-31T23:59:59Z */
    assert_int_equal(x509_cert_pubkey_raw(ch.root, pub), CRYPTO_OK);
    tu_assert_hex(pub, 64,
                  "0ba9c4c0c0c86193a3fe23d6b02cda10a8bbd4e88e48b4458561a36e705525f5"
                  "67918e2edc88e40d860bd0cc4ee26aacc988e505a953558c453f6b0904ae7394");
    assert_int_equal(x509_cert_sha256(ch.root, digest), CRYPTO_OK);
    tu_assert_hex(digest, 32, "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");

    /* Processor CA: serial == SKI (§5.1). */
    assert_int_equal(x509_cert_serial(ch.ca, buf, sizeof(buf), &n), CRYPTO_OK);
    tu_assert_hex(buf, n, "d0e8aada75d7f92e4917983c7b1465d0d5f2594d");
    assert_int_equal(x509_cert_validity(ch.ca, &nb, &na), CRYPTO_OK);
    assert_int_equal(nb, 1526899810);
    assert_int_equal(na, 2000285410);

    /* Leaf (openssl x509 -text of the vector). The serial's top bit is set. */
    assert_int_equal(x509_cert_serial(ch.leaf, buf, sizeof(buf), &n), CRYPTO_OK);
    tu_assert_hex(buf, n, "81b77732b761e98eb9b963a4abd1e5b9bf5dd8d6");
    assert_int_equal(x509_cert_serial(ch.leaf, buf, 19, &n), CRYPTO_E_INVALID);
    assert_int_equal(x509_cert_validity(ch.leaf, &nb, &na), CRYPTO_OK);
    assert_int_equal(nb, 1695246823); /* 2023-09-20T21:53:43Z */
    assert_int_equal(na, 1916171623); /* 2030-09-20T21:53:43Z */
    x509_chain_free(ch.certs, ch.n);
}

static void test_real_chain_signatures(void **state)
{
    (void)state;
    chain ch;
    size_t qlen;
    uint8_t *q = ts_read_vector(VEC_SGX "quote.bin", &qlen);
    crypto_p256_key *pck = NULL;
    uint8_t pck_pub[64];

    load_chain(VEC_SGX "pck_chain.pem", &ch);
    assert_int_equal(x509_cert_verify_signed_by(ch.root, ch.root), CRYPTO_OK);
    assert_int_equal(x509_cert_verify_signed_by(ch.ca, ch.root), CRYPTO_OK);
    assert_int_equal(x509_cert_verify_signed_by(ch.leaf, ch.ca), CRYPTO_OK);
    assert_int_equal(x509_cert_verify_signed_by(ch.leaf, ch.root), CRYPTO_E_BAD_SIG);
    assert_int_equal(x509_cert_verify_signed_by(ch.ca, ch.ca), CRYPTO_E_BAD_SIG);

    /* The PCK key signs the QE report body [564, 948), signature at 948 (§1.4). */
    assert_int_equal(x509_cert_pubkey(ch.leaf, &pck), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify(pck, q + 564, 384, q + 948), CRYPTO_OK);
    assert_int_equal(x509_cert_pubkey_raw(ch.leaf, pck_pub), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify_raw(pck_pub, q + 564, 384, q + 948), CRYPTO_OK);
    q[600] ^= 0x04;
    assert_int_equal(crypto_p256_verify(pck, q + 564, 384, q + 948), CRYPTO_E_BAD_SIG);
    crypto_p256_free(pck);

    /* Root signature bytes equal those of Intel's published root (QVL's trust check). */
    size_t rlen;
    uint8_t *rpem = ts_read_vector("quotes/intel-sgx-root-ca.pem", &rlen);
    x509_cert *intel_root = NULL;
    const uint8_t *s1, *s2;
    size_t l1, l2;
    assert_int_equal(x509_cert_from_pem((const char *)rpem, rlen, &intel_root), CRYPTO_OK);
    assert_int_equal(x509_cert_signature_bytes(ch.root, &s1, &l1), CRYPTO_OK);
    assert_int_equal(x509_cert_signature_bytes(intel_root, &s2, &l2), CRYPTO_OK);
    assert_int_equal(l1, l2);
    assert_memory_equal(s1, s2, l1);
    assert_int_equal(x509_cert_signature_bytes(ch.ca, &s2, &l2), CRYPTO_OK);
    assert_false(l1 == l2 && memcmp(s1, s2, l1) == 0);
    /* The root signature is a DER ECDSA-Sig-Value (30 ...). */
    uint8_t raw[64];
    assert_int_equal(crypto_sig_der_to_raw(s1, l1, raw), CRYPTO_OK);
    x509_cert_free(intel_root);
    free(rpem);
    free(q);
    x509_chain_free(ch.certs, ch.n);
}

static void test_real_chain_sgx_ext(void **state)
{
    (void)state;
    chain ch;
    sgx_pck_ext e, want;
    uint8_t *der;
    size_t len;

    load_chain(VEC_SGX "pck_chain.pem", &ch);
    assert_int_equal(x509_cert_sgx_ext(ch.leaf, &e), CRYPTO_OK);
    sample_ext(&want);
    /* The real cert's CPUSVN is 0B0B0202FF01 00… (§5.2), equal to the comps. */
    assert_ext_equal(&e, &want);
    assert_int_equal(x509_cert_sgx_ext(ch.ca, &e), CRYPTO_E_NOT_FOUND);
    assert_int_equal(x509_cert_sgx_ext(ch.root, &e), CRYPTO_E_NOT_FOUND);

    /* Our hand-built §5.2 encoding is byte-for-byte the extension in Intel's
     * cert: extnID, no critical flag, OCTET STRING { SGX_EXT_5_HEX }. */
    der = cert_der(ch.leaf, &len);
    assert_int_equal(count_hex(der, len, "06092a864886f84d010d01" "048201c5" SGX_EXT_5_HEX), 1);
    /* ...and Intel's KU/BC encodings are the ones the builder tests expect below. */
    assert_int_equal(count_hex(der, len, "0603551d0f0101ff0404030206c0"), 1);
    assert_int_equal(count_hex(der, len, "0603551d130101ff04023000"), 1);
    assert_int_equal(count_hex(der, len, "0603551d25"), 0); /* no EKU */
    free(der);
    der = cert_der(ch.root, &len);
    assert_int_equal(count_hex(der, len, "0603551d0f0101ff040403020106"), 1);
    assert_int_equal(count_hex(der, len, "0603551d130101ff040830060101ff020101"), 1);
    free(der);
    x509_chain_free(ch.certs, ch.n);
}

static void test_real_crls(void **state)
{
    (void)state;
    chain ch;
    size_t len;
    uint8_t *der;
    x509_crl *pck_crl = NULL, *root_crl = NULL;
    char buf[256];
    time_t tu, nu;
    uint64_t num;

    load_chain(VEC_SGX "pck_chain.pem", &ch);
    der = ts_read_vector(VEC_SGX "pck_crl.der", &len);
    assert_int_equal(x509_crl_from_der(der, len, &pck_crl), CRYPTO_OK);
    /* Strict: a trailing byte is refused. */
    x509_crl *tmp = NULL;
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(x509_crl_from_der(longer, len + 1, &tmp), CRYPTO_E_PARSE);
    assert_null(tmp);
    free(longer);
    free(der);

    assert_int_equal(x509_crl_issuer(pck_crl, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf,
                        "C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN=Intel SGX PCK Processor CA");
    assert_true(x509_crl_issued_by(pck_crl, ch.ca));
    assert_false(x509_crl_issued_by(pck_crl, ch.root));
    assert_int_equal(x509_crl_verify_signed_by(pck_crl, ch.ca), CRYPTO_OK);
    assert_int_equal(x509_crl_verify_signed_by(pck_crl, ch.root), CRYPTO_E_BAD_SIG);
    assert_int_equal(x509_crl_dates(pck_crl, &tu, &nu), CRYPTO_OK);
    assert_int_equal(tu, 1750328598); /* 2025-06-19T10:23:18Z */
    assert_int_equal(nu, 1752920598); /* 2025-07-19T10:23:18Z */
    assert_true(x509_crl_has_required_exts(pck_crl));
    assert_int_equal(x509_crl_number(pck_crl, &num), CRYPTO_OK);
    assert_int_equal(num, 1);
    assert_int_equal(x509_crl_count(pck_crl), 0);
    assert_false(x509_crl_revokes(pck_crl, ch.leaf));

    der = ts_read_vector(VEC_SGX "root_ca_crl.der", &len);
    assert_int_equal(x509_crl_from_der(der, len, &root_crl), CRYPTO_OK);
    free(der);
    assert_true(x509_crl_issued_by(root_crl, ch.root));
    assert_int_equal(x509_crl_verify_signed_by(root_crl, ch.root), CRYPTO_OK);
    assert_int_equal(x509_crl_verify_signed_by(root_crl, ch.ca), CRYPTO_E_BAD_SIG);
    assert_int_equal(x509_crl_dates(root_crl, &tu, &nu), CRYPTO_OK);
    assert_int_equal(tu, 1742469717); /* 2025-03-20T11:21:57Z */
    assert_int_equal(nu, 1775215317); /* 2026-04-03T11:21:57Z */
    assert_true(x509_crl_has_required_exts(root_crl));
    assert_int_equal(x509_crl_number(root_crl, &num), CRYPTO_OK);
    assert_int_equal(num, 1);
    assert_false(x509_crl_revokes(root_crl, ch.ca));

    x509_crl_free(pck_crl);
    x509_crl_free(root_crl);
    x509_chain_free(ch.certs, ch.n);
}

/* customroot vector: a PCK CRL that revokes the leaf (serial 2C77AD…7844). */
static void test_real_crl_revoking(void **state)
{
    (void)state;
    chain ch;
    size_t len;
    uint8_t *der, serial[20];
    x509_crl *crl = NULL, *good = NULL;
    size_t n;

    load_chain(VEC_CUSTOM "pck_chain.pem", &ch);
    assert_int_equal(x509_cert_serial(ch.leaf, serial, sizeof(serial), &n), CRYPTO_OK);
    tu_assert_hex(serial, n, "2c77ad428e12ba5a852bbc6fa308afaf98f27844");
    der = ts_read_vector(VEC_CUSTOM "neg_pck_crl_revoking_pck.der", &len);
    assert_int_equal(x509_crl_from_der(der, len, &crl), CRYPTO_OK);
    free(der);
    assert_int_equal(x509_crl_count(crl), 1);
    assert_true(x509_crl_revokes(crl, ch.leaf));
    assert_false(x509_crl_revokes(crl, ch.ca));
    assert_true(x509_crl_issued_by(crl, ch.ca));
    assert_int_equal(x509_crl_verify_signed_by(crl, ch.ca), CRYPTO_OK);

    der = ts_read_vector(VEC_CUSTOM "pck_crl.der", &len);
    assert_int_equal(x509_crl_from_der(der, len, &good), CRYPTO_OK);
    free(der);
    assert_false(x509_crl_revokes(good, ch.leaf));
    x509_crl_free(crl);
    x509_crl_free(good);
    x509_chain_free(ch.certs, ch.n);
}

/* Chain scanning: any order, junk between blocks, trailing NUL; errors for
 * truncated or corrupt blocks. */
static void test_chain_scanning(void **state)
{
    (void)state;
    size_t len;
    char *pem = (char *)ts_read_vector(VEC_SGX "pck_chain.pem", &len);
    const char *b1 = strstr(pem, "-----BEGIN");
    const char *b2 = strstr(b1 + 1, "-----BEGIN");
    const char *b3 = strstr(b2 + 1, "-----BEGIN");
    size_t l1 = (size_t)(b2 - b1), l2 = (size_t)(b3 - b2), l3 = strlen(b3);
    char *mix = malloc(len + 64);
    size_t m = 0;
    x509_cert **certs = NULL;
    size_t n = 0;
    char cn[64];

    /* root, junk, leaf, junk, CA, NUL, junk */
    memcpy(mix + m, b3, l3), m += l3;
    memcpy(mix + m, "garbage\r\n", 9), m += 9;
    memcpy(mix + m, b1, l1), m += l1;
    memcpy(mix + m, "\0\0--x--\n", 8), m += 8;
    memcpy(mix + m, b2, l2), m += l2;
    mix[m++] = '\0';
    memcpy(mix + m, "tail", 4), m += 4;
    assert_int_equal(x509_chain_from_pem(mix, m, &certs, &n), CRYPTO_OK);
    assert_int_equal(n, 3);
    assert_int_equal(x509_cert_subject_cn(certs[0], cn, sizeof(cn)), CRYPTO_OK);
    assert_string_equal(cn, "Intel SGX Root CA");
    assert_int_equal(x509_cert_subject_cn(certs[1], cn, sizeof(cn)), CRYPTO_OK);
    assert_string_equal(cn, "Intel SGX PCK Certificate");
    assert_int_equal(x509_cert_subject_cn(certs[2], cn, sizeof(cn)), CRYPTO_OK);
    assert_string_equal(cn, "Intel SGX PCK Processor CA");
    x509_chain_free(certs, n);

    /* Truncated last block. */
    assert_int_equal(x509_chain_from_pem(pem, (size_t)(b3 - pem) + 200, &certs, &n),
                     CRYPTO_E_PARSE);
    assert_null(certs);
    /* No blocks at all. */
    assert_int_equal(x509_chain_from_pem("hello", 5, &certs, &n), CRYPTO_E_NOT_FOUND);
    /* A corrupted base64 character inside the second block. */
    char *bad = malloc(len);
    memcpy(bad, pem, len);
    bad[(b2 - pem) + 40] = '*';
    assert_int_equal(x509_chain_from_pem(bad, len, &certs, &n), CRYPTO_E_PARSE);
    /* Valid base64 but a flipped DER byte inside the first block's header. */
    memcpy(bad, pem, len);
    bad[(b1 - pem) + 28] = bad[(b1 - pem) + 28] == 'A' ? 'B' : 'A';
    assert_int_equal(x509_chain_from_pem(bad, len, &certs, &n), CRYPTO_E_PARSE);
    free(bad);

    /* Single-cert parse takes the first block. */
    x509_cert *c = NULL;
    assert_int_equal(x509_cert_from_pem(pem, len, &c), CRYPTO_OK);
    assert_int_equal(x509_cert_subject_cn(c, cn, sizeof(cn)), CRYPTO_OK);
    assert_string_equal(cn, "Intel SGX PCK Certificate");
    x509_cert *d = x509_cert_dup(c);
    assert_non_null(d);
    x509_cert_free(c);
    assert_int_equal(x509_cert_subject_cn(d, cn, sizeof(cn)), CRYPTO_OK);
    x509_cert_free(d);
    assert_int_equal(x509_cert_from_pem("nothing", 7, &c), CRYPTO_E_PARSE);

    free(mix);
    free(pem);
}

/* ---- building a simulated hierarchy ---- */

#define T_2025 1735689600 /* 2025-01-01T00:00:00Z */
#define T_2032 1956528000 /* 2032-01-01T00:00:00Z */
#define T_2049_END 2524607999 /* 2049-12-31T23:59:59Z */
#define T_2050 2524608000     /* 2050-01-01T00:00:00Z */
#define ROOT_CRL_URL "https://sim.invalid/IntelSGXRootCA.der"
#define PCK_CRL_URL "https://sim.invalid/pckcrl?ca=processor&encoding=der"

typedef struct {
    crypto_p256_key *root_key, *ca_key, *leaf_key, *tcb_key;
    x509_cert *root, *ca, *leaf, *tcb;
    sgx_pck_ext ext;
} hierarchy;

static crypto_p256_key *seed_key(uint8_t tag)
{
    uint8_t seed[32];
    crypto_p256_key *k = NULL;
    memset(seed, tag, sizeof(seed));
    assert_int_equal(crypto_p256_from_seed(seed, sizeof(seed), &k), CRYPTO_OK);
    return k;
}

static void build_hierarchy(hierarchy *h)
{
    static const uint8_t root_serial[] = {0x11, 0x22, 0x33, 0x44};
    static const uint8_t ca_serial[] = {0x55, 0x66};
    static const uint8_t leaf_serial[20] = {0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                            10,   11, 12, 13, 14, 15, 16, 17, 18, 19};
    static const uint8_t tcb_serial[] = {0x01};

    memset(h, 0, sizeof(*h));
    h->root_key = seed_key(1);
    h->ca_key = seed_key(2);
    h->leaf_key = seed_key(3);
    h->tcb_key = seed_key(4);
    sample_ext(&h->ext);

    x509_cert_spec root = {
        .common_name = "Test SGX Root CA",
        .issuer = NULL,
        .issuer_key = h->root_key,
        .subject_key = h->root_key,
        .serial = root_serial,
        .serial_len = sizeof(root_serial),
        .not_before = T_2025,
        .not_after = T_2049_END,
        .is_ca = true,
        .pathlen = 1,
        .crl_dp_url = ROOT_CRL_URL,
    };
    assert_int_equal(x509_cert_build(&root, &h->root), CRYPTO_OK);

    x509_cert_spec ca = root;
    ca.common_name = "Test SGX PCK Processor CA";
    ca.issuer = h->root;
    ca.subject_key = h->ca_key;
    ca.serial = ca_serial;
    ca.serial_len = sizeof(ca_serial);
    ca.not_after = T_2050; /* → GeneralizedTime */
    ca.pathlen = 0;
    assert_int_equal(x509_cert_build(&ca, &h->ca), CRYPTO_OK);

    x509_cert_spec leaf = {
        .common_name = "Test SGX PCK Certificate",
        .issuer = h->ca,
        .issuer_key = h->ca_key,
        .subject_key = h->leaf_key,
        .serial = leaf_serial,
        .serial_len = sizeof(leaf_serial),
        .not_before = T_2025,
        .not_after = T_2032,
        .is_ca = false,
        .pathlen = -1,
        .crl_dp_url = PCK_CRL_URL,
        .sgx_ext = &h->ext,
    };
    assert_int_equal(x509_cert_build(&leaf, &h->leaf), CRYPTO_OK);

    x509_cert_spec tcb = leaf;
    tcb.common_name = "Test SGX TCB Signing";
    tcb.organization = "Example Org";
    tcb.issuer = h->root;
    tcb.issuer_key = h->root_key;
    tcb.subject_key = h->tcb_key;
    tcb.serial = tcb_serial;
    tcb.serial_len = sizeof(tcb_serial);
    tcb.crl_dp_url = ROOT_CRL_URL;
    tcb.sgx_ext = NULL;
    assert_int_equal(x509_cert_build(&tcb, &h->tcb), CRYPTO_OK);
}

static void free_hierarchy(hierarchy *h)
{
    x509_cert_free(h->root);
    x509_cert_free(h->ca);
    x509_cert_free(h->leaf);
    x509_cert_free(h->tcb);
    crypto_p256_free(h->root_key);
    crypto_p256_free(h->ca_key);
    crypto_p256_free(h->leaf_key);
    crypto_p256_free(h->tcb_key);
}

/* Name DER for CN=<cn_hex> with Intel's O/L/ST/C, by hand (§5.1). */
#define NAME_TAIL_HEX                                                                             \
    "311a3018060355040a0c11" "496e74656c20436f72706f726174696f6e"  /* O UTF8 "Intel Corporation" */ \
    "3114301206035504070c0b" "53616e746120436c617261"               /* L UTF8 "Santa Clara" */    \
    "310b300906035504080c02" "4341"                                 /* ST UTF8 "CA" */            \
    "310b3009060355040613025553"                                    /* C PrintableString "US" */
/* "Test SGX Root CA" = 16 bytes */
#define ROOT_NAME_HEX                                                                             \
    "3067" "3119301706035504030c10" "546573742053475820526f6f74204341" NAME_TAIL_HEX

static void test_build_root_profile(void **state)
{
    (void)state;
    hierarchy h;
    uint8_t *der, ski[20], pub[64], sec1[65], sha1[20];
    size_t len, off;
    unsigned int mdlen = 0;

    build_hierarchy(&h);
    der = cert_der(h.root, &len);

    /* v3, ecdsa-with-SHA256 (inside TBS and outside), serial. */
    assert_int_equal(count_hex(der, len, "a003020102" "020411223344"), 1);
    assert_int_equal(count_hex(der, len, "300a06082a8648ce3d040302"), 2);
    /* Subject == issuer, exact DER with the string types of §5.1. */
    assert_int_equal(count_hex(der, len, ROOT_NAME_HEX), 2);
    /* UTCTime validity: 250101000000Z .. 491231235959Z. */
    assert_int_equal(count_hex(der, len, "301e170d3235303130313030303030305a"
                                         "170d3439313233313233353935395a"),
                     1);
    /* KU critical keyCertSign|cRLSign; BC critical CA:TRUE pathlen 1 (same as Intel). */
    assert_int_equal(count_hex(der, len, "0603551d0f0101ff040403020106"), 1);
    assert_int_equal(count_hex(der, len, "0603551d130101ff040830060101ff020101"), 1);
    /* CRL DP with the URI; no EKU; no SGX extension. */
    assert_int_equal(count_hex(der, len, "0603551d1f"), 1);
    assert_int_equal(count_hex(der, len, "0603551d25"), 0);
    assert_int_equal(count_hex(der, len, "2a864886f84d010d01"), 0);

    /* SKI = SHA-1(04‖X‖Y) (RFC 5280 method 1, computed here with libcrypto
     * directly), and the root's AKI keyid is its own SKI. */
    assert_int_equal(crypto_p256_pub(h.root_key, pub), CRYPTO_OK);
    sec1[0] = 0x04;
    memcpy(sec1 + 1, pub, 64);
    assert_int_equal(EVP_Digest(sec1, 65, sha1, &mdlen, EVP_sha1(), NULL), 1);
    off = find_hex(der, len, "0603551d0e04160414");
    memcpy(ski, der + off + 9, 20);
    assert_memory_equal(ski, sha1, 20);
    off = find_hex(der, len, "0603551d23041830168014");
    assert_memory_equal(der + off + 11, ski, 20);
    /* Extension order AKI, CRL DP, SKI, KU, BC as in Intel's certs. */
    size_t o_aki = find_hex(der, len, "0603551d23"), o_dp = find_hex(der, len, "0603551d1f"),
           o_ski = find_hex(der, len, "0603551d0e"), o_ku = find_hex(der, len, "0603551d0f"),
           o_bc = find_hex(der, len, "0603551d13");
    assert_true(o_aki < o_dp && o_dp < o_ski && o_ski < o_ku && o_ku < o_bc);

    /* Re-parse: fields come back. */
    x509_cert *re = NULL;
    char buf[256];
    uint8_t ser[32], pub2[64];
    size_t n;
    time_t nb, na;
    assert_int_equal(x509_cert_from_der(der, len, &re), CRYPTO_OK);
    assert_int_equal(x509_cert_subject(re, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf, "C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN=Test SGX Root CA");
    assert_true(x509_cert_is_self_issued(re));
    assert_true(x509_cert_is_ca(re));
    assert_true(x509_cert_has_required_exts(re));
    assert_int_equal(x509_cert_serial(re, ser, sizeof(ser), &n), CRYPTO_OK);
    tu_assert_hex(ser, n, "11223344");
    assert_int_equal(x509_cert_validity(re, &nb, &na), CRYPTO_OK);
    assert_int_equal(nb, T_2025);
    assert_int_equal(na, T_2049_END);
    assert_int_equal(x509_cert_pubkey_raw(re, pub2), CRYPTO_OK);
    assert_memory_equal(pub2, pub, 64);
    assert_int_equal(x509_cert_verify_signed_by(re, re), CRYPTO_OK);
    x509_cert_free(re);
    free(der);
    free_hierarchy(&h);
}

static void test_build_chain(void **state)
{
    (void)state;
    hierarchy h;
    uint8_t *der, pub[64];
    size_t len;
    char buf[256];
    sgx_pck_ext e;
    time_t nb, na;

    build_hierarchy(&h);

    /* Signatures and name links. */
    assert_int_equal(x509_cert_verify_signed_by(h.root, h.root), CRYPTO_OK);
    assert_int_equal(x509_cert_verify_signed_by(h.ca, h.root), CRYPTO_OK);
    assert_int_equal(x509_cert_verify_signed_by(h.leaf, h.ca), CRYPTO_OK);
    assert_int_equal(x509_cert_verify_signed_by(h.tcb, h.root), CRYPTO_OK);
    assert_int_equal(x509_cert_verify_signed_by(h.leaf, h.root), CRYPTO_E_BAD_SIG);
    assert_true(x509_cert_subject_equals_issuer_of(h.root, h.ca));
    assert_true(x509_cert_subject_equals_issuer_of(h.ca, h.leaf));
    assert_true(x509_cert_subject_equals_issuer_of(h.root, h.tcb));
    assert_false(x509_cert_is_ca(h.leaf));
    assert_false(x509_cert_is_ca(h.tcb));
    assert_true(x509_cert_is_ca(h.ca));

    /* CA: pathlen 0, GeneralizedTime notAfter 20500101000000Z, AKI == root SKI. */
    der = cert_der(h.ca, &len);
    assert_int_equal(count_hex(der, len, "0603551d130101ff040830060101ff020100"), 1);
    assert_int_equal(count_hex(der, len, "180f32303530303130313030303030305a"), 1);
    assert_int_equal(count_hex(der, len, "170d3235303130313030303030305a"), 1);
    free(der);
    assert_int_equal(x509_cert_validity(h.ca, &nb, &na), CRYPTO_OK);
    assert_int_equal(na, T_2050);

    uint8_t *root_der, root_ski[20];
    size_t root_len, off;
    root_der = cert_der(h.root, &root_len);
    off = find_hex(root_der, root_len, "0603551d0e04160414");
    memcpy(root_ski, root_der + off + 9, 20);
    free(root_der);
    der = cert_der(h.ca, &len);
    off = find_hex(der, len, "0603551d23041830168014");
    assert_memory_equal(der + off + 11, root_ski, 20);
    free(der);

    /* Leaf: digitalSignature|nonRepudiation, CA:FALSE as 30 00, the exact
     * non-critical SGX extension of §5.2, no EKU, 20-byte serial. */
    der = cert_der(h.leaf, &len);
    assert_int_equal(count_hex(der, len, "0603551d0f0101ff0404030206c0"), 1);
    assert_int_equal(count_hex(der, len, "0603551d130101ff04023000"), 1);
    assert_int_equal(count_hex(der, len, "06092a864886f84d010d01" "048201c5" SGX_EXT_5_HEX), 1);
    assert_int_equal(count_hex(der, len, "0603551d25"), 0);
    assert_int_equal(count_hex(der, len, "0214" "7f0102030405060708090a0b0c0d0e0f10111213"), 1);
    assert_true(find_hex(der, len, "0603551d13") < find_hex(der, len, "06092a864886f84d010d01"));
    free(der);
    assert_int_equal(x509_cert_sgx_ext(h.leaf, &e), CRYPTO_OK);
    assert_ext_equal(&e, &h.ext);
    assert_int_equal(x509_cert_sgx_ext(h.tcb, &e), CRYPTO_E_NOT_FOUND);
    assert_int_equal(x509_cert_subject_cn(h.leaf, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf, "Test SGX PCK Certificate");
    assert_int_equal(x509_cert_issuer_cn(h.leaf, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf, "Test SGX PCK Processor CA");
    assert_int_equal(x509_cert_pubkey_raw(h.leaf, pub), CRYPTO_OK);
    uint8_t want[64];
    assert_int_equal(crypto_p256_pub(h.leaf_key, want), CRYPTO_OK);
    assert_memory_equal(pub, want, 64);

    /* The organization override is honoured. */
    assert_int_equal(x509_cert_subject(h.tcb, buf, sizeof(buf)), CRYPTO_OK);
    assert_string_equal(buf, "C=US,ST=CA,L=Santa Clara,O=Example Org,CN=Test SGX TCB Signing");

    /* A tampered certificate no longer verifies. */
    der = cert_der(h.leaf, &len);
    size_t ppid_off = find_hex(der, len, "d04ec06d4e6d92dc90d0ad3cf5ee2ddf");
    der[ppid_off] ^= 0x01;
    x509_cert *bad = NULL;
    assert_int_equal(x509_cert_from_der(der, len, &bad), CRYPTO_OK);
    assert_int_equal(x509_cert_verify_signed_by(bad, h.ca), CRYPTO_E_BAD_SIG);
    x509_cert_free(bad);
    free(der);

    free_hierarchy(&h);
}

static void test_build_pem_roundtrip(void **state)
{
    (void)state;
    hierarchy h;
    x509_cert *order[3];
    char *pems[3];
    size_t lens[3], total = 0;
    x509_cert **certs = NULL;
    size_t n = 0;

    build_hierarchy(&h);
    order[0] = h.leaf;
    order[1] = h.ca;
    order[2] = h.root;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(x509_cert_to_pem(order[i], &pems[i], &lens[i]), CRYPTO_OK);
        assert_int_equal(strlen(pems[i]), lens[i]);
        assert_int_equal(strncmp(pems[i], "-----BEGIN CERTIFICATE-----\n", 28), 0);
        total += lens[i];
    }
    /* Type-5 certification data shape: leaf, CA, root, NUL (§1.5). */
    char *cat = malloc(total + 1);
    size_t m = 0;
    for (int i = 0; i < 3; i++) {
        memcpy(cat + m, pems[i], lens[i]);
        m += lens[i];
    }
    cat[m++] = '\0';
    assert_int_equal(x509_chain_from_pem(cat, m, &certs, &n), CRYPTO_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        uint8_t *a, *b;
        size_t la, lb;
        a = cert_der(order[i], &la);
        b = cert_der(certs[i], &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a);
        free(b);
        free(pems[i]);
    }
    assert_int_equal(x509_cert_verify_signed_by(certs[0], certs[1]), CRYPTO_OK);
    x509_chain_free(certs, n);
    free(cat);
    free_hierarchy(&h);
}

static void test_build_rejects(void **state)
{
    (void)state;
    hierarchy h;
    x509_cert *c = NULL;
    static const uint8_t high[] = {0x80, 0x01};
    static const uint8_t zero[] = {0x00, 0x00};
    static const uint8_t s21[21] = {0x01};

    build_hierarchy(&h);
    x509_cert_spec s = {
        .common_name = "X",
        .issuer = h.ca,
        .issuer_key = h.ca_key,
        .subject_key = h.leaf_key,
        .serial = (const uint8_t *)"\x01",
        .serial_len = 1,
        .not_before = T_2025,
        .not_after = T_2032,
        .pathlen = -1,
        .crl_dp_url = PCK_CRL_URL,
    };
    assert_int_equal(x509_cert_build(&s, &c), CRYPTO_OK);
    x509_cert_free(c);
    c = NULL;

    x509_cert_spec t = s;
    t.issuer_key = h.root_key; /* not the issuer's key */
    assert_int_equal(x509_cert_build(&t, &c), CRYPTO_E_BAD_KEY);
    t = s;
    t.issuer = NULL; /* self-signed but signing key != subject key */
    assert_int_equal(x509_cert_build(&t, &c), CRYPTO_E_BAD_KEY);
    t = s;
    t.serial = high;
    t.serial_len = sizeof(high);
    assert_int_equal(x509_cert_build(&t, &c), CRYPTO_E_INVALID);
    t.serial = zero;
    assert_int_equal(x509_cert_build(&t, &c), CRYPTO_E_INVALID);
    t.serial = s21;
    t.serial_len = sizeof(s21);
    assert_int_equal(x509_cert_build(&t, &c), CRYPTO_E_INVALID);
    t = s;
    t.crl_dp_url = NULL;
    assert_int_equal(x509_cert_build(&t, &c), CRYPTO_E_INVALID);
    t = s;
    t.not_after = t.not_before;
    assert_int_equal(x509_cert_build(&t, &c), CRYPTO_E_INVALID);
    t = s;
    t.common_name = NULL;
    assert_int_equal(x509_cert_build(&t, &c), CRYPTO_E_INVALID);
    assert_null(c);
    free_hierarchy(&h);
}

static void test_build_crl(void **state)
{
    (void)state;
    hierarchy h;
    x509_crl *crl = NULL, *re = NULL, *empty = NULL;
    uint8_t *der, leaf_serial[20];
    size_t len, n;
    char buf[256], want[256];
    time_t tu, nu;
    uint64_t num;
    static const uint8_t other[] = {0x42};

    build_hierarchy(&h);
    assert_int_equal(x509_cert_serial(h.leaf, leaf_serial, sizeof(leaf_serial), &n), CRYPTO_OK);
    x509_crl_entry entries[2] = {
        {.serial = other, .serial_len = sizeof(other), .revoked_at = T_2025 + 60},
        {.serial = leaf_serial, .serial_len = n, .revoked_at = T_2025 + 120},
    };
    x509_crl_spec spec = {
        .issuer = h.ca,
        .issuer_key = h.ca_key,
        .this_update = T_2025,
        .next_update = T_2025 + 30 * 86400,
        .crl_number = 7,
        .entries = entries,
        .n_entries = 2,
    };
    assert_int_equal(x509_crl_build(&spec, &crl), CRYPTO_OK);
    assert_int_equal(x509_crl_to_der(crl, &der, &len), CRYPTO_OK);

    /* v2, CRL Number 7, keyCompromise reason, UTCTime dates. */
    assert_int_equal(der[0], 0x30);
    assert_int_equal(count_hex(der, len, "020101300a06082a8648ce3d040302"), 1);
    assert_int_equal(count_hex(der, len, "0603551d14040302010" "7"), 1);
    assert_int_equal(count_hex(der, len, "0603551d1504030a0101"), 2);
    assert_int_equal(count_hex(der, len, "170d3235303130313030303030305a"
                                         "170d3235303133313030303030305a"),
                     1);
    assert_int_equal(count_hex(der, len, "020142170d3235303130313030303130305a"), 1);

    assert_int_equal(x509_crl_from_der(der, len, &re), CRYPTO_OK);
    free(der);
    assert_int_equal(x509_crl_issuer(re, buf, sizeof(buf)), CRYPTO_OK);
    assert_int_equal(x509_cert_subject(h.ca, want, sizeof(want)), CRYPTO_OK);
    assert_string_equal(buf, want);
    assert_true(x509_crl_issued_by(re, h.ca));
    assert_false(x509_crl_issued_by(re, h.root));
    assert_int_equal(x509_crl_verify_signed_by(re, h.ca), CRYPTO_OK);
    assert_int_equal(x509_crl_verify_signed_by(re, h.root), CRYPTO_E_BAD_SIG);
    assert_int_equal(x509_crl_dates(re, &tu, &nu), CRYPTO_OK);
    assert_int_equal(tu, T_2025);
    assert_int_equal(nu, T_2025 + 30 * 86400);
    assert_true(x509_crl_has_required_exts(re));
    assert_int_equal(x509_crl_number(re, &num), CRYPTO_OK);
    assert_int_equal(num, 7);
    assert_int_equal(x509_crl_count(re), 2);
    assert_true(x509_crl_revokes(re, h.leaf));
    assert_false(x509_crl_revokes(re, h.tcb));
    assert_false(x509_crl_revokes(re, h.ca));

    /* The AKI keyid is the CA's SKI. */
    uint8_t *ca_der, *crl_der;
    size_t ca_len, crl_len, o1, o2;
    ca_der = cert_der(h.ca, &ca_len);
    assert_int_equal(x509_crl_to_der(re, &crl_der, &crl_len), CRYPTO_OK);
    o1 = find_hex(ca_der, ca_len, "0603551d0e04160414");
    o2 = find_hex(crl_der, crl_len, "0603551d23041830168014");
    assert_memory_equal(ca_der + o1 + 9, crl_der + o2 + 11, 20);
    free(ca_der);
    free(crl_der);

    /* An empty root CRL (the usual case, §6.6). */
    x509_crl_spec rs = {
        .issuer = h.root,
        .issuer_key = h.root_key,
        .this_update = T_2025,
        .next_update = T_2025 + 365 * 86400,
        .crl_number = 1,
    };
    assert_int_equal(x509_crl_build(&rs, &empty), CRYPTO_OK);
    assert_int_equal(x509_crl_count(empty), 0);
    assert_false(x509_crl_revokes(empty, h.ca));
    assert_int_equal(x509_crl_verify_signed_by(empty, h.root), CRYPTO_OK);
    assert_true(x509_crl_issued_by(empty, h.root));

    /* Wrong signing key for the issuer. */
    x509_crl *fail = NULL;
    rs.issuer_key = h.ca_key;
    assert_int_equal(x509_crl_build(&rs, &fail), CRYPTO_E_BAD_KEY);
    assert_null(fail);

    x509_crl_free(crl);
    x509_crl_free(re);
    x509_crl_free(empty);
    free_hierarchy(&h);
}

/* ---- deterministic signatures (RFC 6979) ---- */

/* Header of the DER TLV at p (test-side, definite lengths up to 4 bytes). */
static void der_tlv(const uint8_t *p, size_t avail, uint8_t tag, size_t *hdr, size_t *len)
{
    assert_true(avail >= 2);
    assert_int_equal(p[0], tag);
    if (p[1] < 0x80) {
        *hdr = 2;
        *len = p[1];
    } else {
        size_t nb = p[1] & 0x7f;
        assert_true(nb >= 1 && nb <= 4 && avail >= 2 + nb);
        *len = 0;
        for (size_t i = 0; i < nb; i++)
            *len = (*len << 8) | p[2 + i];
        *hdr = 2 + nb;
    }
    assert_true(*hdr + *len <= avail);
}

/* Splits Certificate / CertificateList DER into TBS and the raw r‖s of its
 * signature BIT STRING, and checks the signature algorithm is
 * ecdsa-with-SHA256 and that nothing trails. */
static void split_signed(const uint8_t *der, size_t len, const uint8_t **tbs, size_t *tbs_len,
                         uint8_t raw[64])
{
    size_t h, l, off, th, tl, bh, bl;

    der_tlv(der, len, 0x30, &h, &l);
    assert_int_equal(h + l, len);
    off = h;
    der_tlv(der + off, len - off, 0x30, &th, &tl);
    *tbs = der + off;
    *tbs_len = th + tl;
    off += th + tl;
    assert_true(off + 12 <= len);
    tu_assert_hex(der + off, 12, "300a06082a8648ce3d040302");
    off += 12;
    der_tlv(der + off, len - off, 0x03, &bh, &bl);
    assert_int_equal(off + bh + bl, len);
    assert_int_equal(der[off + bh], 0x00); /* no unused bits */
    assert_int_equal(crypto_sig_der_to_raw(der + off + bh + 1, bl - 1, raw), CRYPTO_OK);
}

/* The signature in der is the RFC 6979 signature of its TBS by key. */
static void assert_rfc6979_signed(const uint8_t *der, size_t len, const crypto_p256_key *key)
{
    const uint8_t *tbs = NULL;
    size_t tbs_len = 0;
    uint8_t got[64], want[64];

    split_signed(der, len, &tbs, &tbs_len, got);
    assert_int_equal(crypto_p256_sign_deterministic(key, tbs, tbs_len, want), CRYPTO_OK);
    assert_memory_equal(got, want, 64);
}

static void test_build_deterministic(void **state)
{
    (void)state;
    hierarchy a, b;

    /* Two independent builds of the same specs: the same bytes. */
    build_hierarchy(&a);
    build_hierarchy(&b);
    const x509_cert *from_a[4] = {a.root, a.ca, a.leaf, a.tcb};
    const x509_cert *from_b[4] = {b.root, b.ca, b.leaf, b.tcb};
    const crypto_p256_key *signer[4] = {a.root_key, a.root_key, a.ca_key, a.root_key};
    for (int i = 0; i < 4; i++) {
        size_t la, lb;
        uint8_t *da = cert_der(from_a[i], &la), *db = cert_der(from_b[i], &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(da, db, la);
        assert_rfc6979_signed(da, la, signer[i]);
        /* The object's own view of its signature matches the DER. */
        const uint8_t *sig = NULL;
        size_t sig_len = 0;
        assert_int_equal(x509_cert_signature_bytes(from_a[i], &sig, &sig_len), CRYPTO_OK);
        assert_true(sig_len < la);
        assert_memory_equal(sig, da + la - sig_len, sig_len);
        /* Parsing the DER and encoding it again is byte-identical. */
        x509_cert *re = NULL;
        uint8_t *dr;
        size_t lr;
        assert_int_equal(x509_cert_from_der(da, la, &re), CRYPTO_OK);
        dr = cert_der(re, &lr);
        assert_int_equal(lr, la);
        assert_memory_equal(dr, da, la);
        free(dr);
        x509_cert_free(re);
        free(da);
        free(db);
    }
    /* The chain still verifies (OpenSSL X509_verify). */
    assert_int_equal(x509_cert_verify_signed_by(b.root, a.root), CRYPTO_OK);
    assert_int_equal(x509_cert_verify_signed_by(b.leaf, a.ca), CRYPTO_OK);

    /* Any field changed → another signature. */
    static const uint8_t serial2[] = {0x11, 0x22, 0x33, 0x45};
    x509_cert_spec root = {
        .common_name = "Test SGX Root CA",
        .issuer_key = a.root_key,
        .subject_key = a.root_key,
        .serial = serial2,
        .serial_len = sizeof(serial2),
        .not_before = T_2025,
        .not_after = T_2049_END,
        .is_ca = true,
        .pathlen = 1,
        .crl_dp_url = ROOT_CRL_URL,
    };
    x509_cert *other = NULL;
    const uint8_t *s1, *s2;
    size_t l1, l2;
    assert_int_equal(x509_cert_build(&root, &other), CRYPTO_OK);
    assert_int_equal(x509_cert_signature_bytes(other, &s1, &l1), CRYPTO_OK);
    assert_int_equal(x509_cert_signature_bytes(a.root, &s2, &l2), CRYPTO_OK);
    assert_false(l1 == l2 && memcmp(s1, s2, l1) == 0);
    assert_int_equal(x509_cert_verify_signed_by(other, other), CRYPTO_OK);
    x509_cert_free(other);

    /* CRLs: the same spec twice → the same DER; another thisUpdate → not. */
    x509_crl_entry e = {.serial = serial2, .serial_len = sizeof(serial2), .revoked_at = T_2025};
    x509_crl_spec cs = {
        .issuer = a.ca,
        .issuer_key = a.ca_key,
        .this_update = T_2025,
        .next_update = T_2025 + 30 * 86400,
        .crl_number = 9,
        .entries = &e,
        .n_entries = 1,
    };
    x509_crl *c1 = NULL, *c2 = NULL, *c3 = NULL;
    uint8_t *d1, *d2, *d3;
    size_t n1, n2, n3;
    assert_int_equal(x509_crl_build(&cs, &c1), CRYPTO_OK);
    cs.issuer = b.ca; /* an equal issuer certificate from the other build */
    assert_int_equal(x509_crl_build(&cs, &c2), CRYPTO_OK);
    cs.this_update += 1;
    assert_int_equal(x509_crl_build(&cs, &c3), CRYPTO_OK);
    assert_int_equal(x509_crl_to_der(c1, &d1, &n1), CRYPTO_OK);
    assert_int_equal(x509_crl_to_der(c2, &d2, &n2), CRYPTO_OK);
    assert_int_equal(x509_crl_to_der(c3, &d3, &n3), CRYPTO_OK);
    assert_int_equal(n1, n2);
    assert_memory_equal(d1, d2, n1);
    assert_false(n1 == n3 && memcmp(d1, d3, n1) == 0);
    assert_rfc6979_signed(d1, n1, a.ca_key);
    assert_rfc6979_signed(d3, n3, a.ca_key);
    assert_int_equal(x509_crl_verify_signed_by(c1, a.ca), CRYPTO_OK);
    assert_int_equal(x509_crl_verify_signed_by(c3, b.ca), CRYPTO_OK);
    free(d1);
    free(d2);
    free(d3);
    x509_crl_free(c1);
    x509_crl_free(c2);
    x509_crl_free(c3);

    free_hierarchy(&a);
    free_hierarchy(&b);
}

/* ---- time ---- */

static void test_time_iso8601(void **state)
{
    (void)state;
    time_t t = 0;
    char out[21];

    /* quote-format §8: window of vector 1. */
    assert_int_equal(time_parse_iso8601("2025-06-19T10:56:11Z", &t), CRYPTO_OK);
    assert_int_equal(t, 1750330571);
    assert_int_equal(time_parse_iso8601("2025-07-19T10:01:18Z", &t), CRYPTO_OK);
    assert_int_equal(t, 1752919278);
    assert_int_equal(time_parse_iso8601("1970-01-01T00:00:00Z", &t), CRYPTO_OK);
    assert_int_equal(t, 0);
    assert_int_equal(time_parse_iso8601("2024-02-29T23:59:59Z", &t), CRYPTO_OK);
    assert_int_equal(t, 1709251199);

    static const char *bad[] = {
        "2025-06-19T10:56:11",      "2025-06-19 10:56:11Z",      "2025-06-19T10:56:11.000Z",
        "2025-06-19T10:56:11+00:00", "2025-06-19T10:56:11z",     "2025-06-19t10:56:11Z",
        "2025-06-19T10:56:11ZZ",    "2025-6-19T10:56:11Z",       "2025-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",     "2025-13-01T00:00:00Z",      "2025-00-01T00:00:00Z",
        "2025-04-31T00:00:00Z",     "2025-06-00T00:00:00Z",      "2025-06-19T24:00:00Z",
        "2025-06-19T10:60:00Z",     "2025-06-19T10:56:60Z",      "+025-06-19T10:56:11Z",
        "2025-06-19T1 :56:11Z",     "",                          " 2025-06-19T10:56:11Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = 42;
        if (time_parse_iso8601(bad[i], &t) != CRYPTO_E_PARSE)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(t, 42);
    }

    time_format_iso8601(1750330571, out);
    assert_string_equal(out, "2025-06-19T10:56:11Z");
    time_format_iso8601(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    time_format_iso8601(T_2049_END, out);
    assert_string_equal(out, "2049-12-31T23:59:59Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgx_ext_encode_known),
        cmocka_unit_test(test_sgx_ext_encode_integers),
        cmocka_unit_test(test_sgx_ext_decode_strict),
        cmocka_unit_test(test_real_chain_names),
        cmocka_unit_test(test_real_chain_fields),
        cmocka_unit_test(test_real_chain_signatures),
        cmocka_unit_test(test_real_chain_sgx_ext),
        cmocka_unit_test(test_real_crls),
        cmocka_unit_test(test_real_crl_revoking),
        cmocka_unit_test(test_chain_scanning),
        cmocka_unit_test(test_build_root_profile),
        cmocka_unit_test(test_build_chain),
        cmocka_unit_test(test_build_pem_roundtrip),
        cmocka_unit_test(test_build_rejects),
        cmocka_unit_test(test_build_crl),
        cmocka_unit_test(test_build_deterministic),
        cmocka_unit_test(test_time_iso8601),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
