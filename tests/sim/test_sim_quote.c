/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quotes and collateral from the simulated platform (qe.c, pki.c,
 * collateral.c), checked the way a verifier would: parse with quote_parse,
 * verify every signature with the key it should come from, the QE report
 * binding (quote-format §3), the chain to the sim root and both CRLs, the
 * QE report returned to the app (aesm §6.3), and the signed JSON collateral
 * (§6) including which TCB level the platform lands on for each status.
 */
#include <jansson.h>
#include <pthread.h>

#include "sim_tutil.h"

#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "sgxqh/quote.h"
#include "sim/sim.h"

typedef struct {
    char *dir;
    sim_platform *p;
    time_t now;
} fixture;

static sim_options base_opts(const char *dir, time_t now)
{
    sim_options o;
    memset(&o, 0, sizeof o);
    o.state_dir = dir;
    o.instance = "quote-test";
    sim_tcb_config_default(&o.tcb);
    o.now = now;
    return o;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp();
    f->now = time(NULL);
    sim_options o = base_opts(f->dir, f->now);
    char err[512] = "";
    if (sim_platform_open(&o, &f->p, err, sizeof err) != SIM_OK) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sim_platform_close(f->p);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

static void app_identity(sim_enclave_identity *id)
{
    sim_enclave_identity_default(id);
    memset(id->mr_enclave, 0xab, 32);
    id->isv_prod_id = 7;
    id->isv_svn = 3;
    for (int i = 0; i < 64; i++)
        id->report_data[i] = (uint8_t)(0xc0 ^ i);
}

/* An app report made for the platform's QE, as the SDK's sgx_create_report would. */
static void app_report(const sim_platform *p, const sim_enclave_identity *id, sgx_report_t *rep)
{
    sgx_target_info_t qe_ti;
    sim_qe_target_info(p, &qe_ti);
    assert_int_equal(sim_ereport(id, &qe_ti, rep), SIM_OK);
}

static uint8_t *make_quote(const sim_platform *p, const sgx_report_t *rep,
                           sgx_qe_report_info_t *qri, size_t *len)
{
    size_t cap = sim_quote_size(p);
    assert_true(cap > 1052);
    uint8_t *q = malloc(cap);
    assert_non_null(q);
    assert_int_equal(sim_get_quote(p, rep, qri, q, cap, len), SIM_OK);
    assert_int_equal(*len, cap);
    return q;
}

static x509_cert *cert_with_cn(x509_cert **certs, size_t n, const char *needle)
{
    char cn[256];
    for (size_t i = 0; i < n; i++)
        if (x509_cert_subject_cn(certs[i], cn, sizeof cn) == 0 && strstr(cn, needle) != NULL)
            return certs[i];
    fail_msg("no certificate with CN containing '%s'", needle);
    return NULL;
}

static void test_quote_structure_and_signatures(void **state)
{
    fixture *f = *state;
    sim_enclave_identity id;
    sgx_report_t rep;
    size_t len = 0;
    app_identity(&id);
    app_report(f->p, &id, &rep);
    uint8_t *q = make_quote(f->p, &rep, NULL, &len);

    quote_view v;
    assert_int_equal(quote_parse(q, len, &v), QUOTE_OK);
    assert_int_equal(v.version, 3);
    assert_int_equal(v.header.att_key_type, 2);
    assert_int_equal(v.tee_type, 0);
    assert_int_equal(v.quote_len, len);
    const uint8_t intel_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                      0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
    assert_memory_equal(v.header.qe_vendor_id, intel_vendor, 16);
    uint8_t qe_id[16], zero4[4] = {0};
    sim_qe_id(f->p, qe_id);
    assert_memory_equal(v.header.user_data, qe_id, 16);
    assert_memory_equal(v.header.user_data + 16, zero4, 4);
    sim_tcb_config def;
    sim_tcb_config_default(&def);
    assert_int_equal(v.header.qe_svn, def.qe_svn);
    assert_int_equal(v.header.pce_svn, def.pce_svn_current);

    /* The app report body verbatim (quote-format §1.1: bytes 48..432). */
    uint8_t raw_body[384];
    sgx_report_body_encode(&rep.body, raw_body);
    assert_memory_equal(q + 48, raw_body, 384);

    /* ISV signature over [0, 432) with the attestation key. */
    uint8_t ak[64];
    sim_attestation_pub_key(f->p, ak);
    assert_memory_equal(v.attest_pub_key, ak, 64);
    assert_int_equal(v.signed_len, 432);
    assert_int_equal(crypto_p256_verify_raw(ak, q, 432, v.isv_sig), 0);

    /* QE auth data 00..1f and report_data = SHA-256(AK ‖ auth) ‖ 0^32. */
    assert_int_equal(v.qe_auth_data_len, 32);
    for (int i = 0; i < 32; i++)
        assert_int_equal(v.qe_auth_data[i], i);
    uint8_t bind[96], h[32], zero32[32] = {0};
    memcpy(bind, ak, 64);
    memcpy(bind + 64, v.qe_auth_data, 32);
    crypto_sha256(bind, sizeof bind, h);
    assert_memory_equal(v.qe_report.report_data, h, 32);
    assert_memory_equal(v.qe_report.report_data + 32, zero32, 32);
    uint8_t pkid[32];
    sim_qe_pub_key_id(f->p, pkid);
    assert_memory_equal(pkid, h, 32);

    /* QE report: PROVISION_KEY, not DEBUG, Intel QE3 signer, prod id 1. */
    assert_int_equal(v.qe_report.attributes.flags, 0x15);
    assert_int_equal(v.qe_report.attributes.flags & SGX_FLAGS_DEBUG, 0);
    const uint8_t qe3_signer[32] = {0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e,
                                    0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
                                    0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b,
                                    0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff};
    assert_memory_equal(v.qe_report.mr_signer, qe3_signer, 32);
    assert_int_equal(v.qe_report.isv_prod_id, 1);
    assert_int_equal(v.qe_report.isv_svn, def.qe_svn);
    sgx_target_info_t qe_ti;
    sim_qe_target_info(f->p, &qe_ti);
    assert_memory_equal(v.qe_report.mr_enclave, qe_ti.mr_enclave, 32);

    /* Certification data type 5: leaf, platform CA, root, then a NUL. */
    assert_int_equal(v.cert_type, 5);
    assert_int_equal(v.pem_count, 3);
    assert_int_equal(v.cert_data[v.cert_data_len - 1], 0);
    x509_cert **certs = NULL;
    size_t n = 0;
    assert_int_equal(x509_chain_from_pem((const char *)v.cert_data, v.cert_data_len, &certs, &n),
                     0);
    assert_int_equal(n, 3);
    char cn[256];
    assert_int_equal(x509_cert_subject_cn(certs[0], cn, sizeof cn), 0);
    assert_non_null(strstr(cn, "SGX PCK Certificate"));
    assert_int_equal(x509_cert_subject_cn(certs[1], cn, sizeof cn), 0);
    assert_non_null(strstr(cn, "SGX PCK Platform CA"));
    assert_int_equal(x509_cert_subject_cn(certs[2], cn, sizeof cn), 0);
    assert_non_null(strstr(cn, "SGX Root CA"));

    /* QE report signature with the PCK leaf key over the 384 body bytes. */
    uint8_t pck_pub[64];
    assert_int_equal(x509_cert_pubkey_raw(certs[0], pck_pub), 0);
    assert_int_equal(crypto_p256_verify_raw(pck_pub, v.qe_report_raw, 384, v.qe_report_sig), 0);

    /* The tests can fail: one flipped bit breaks each signature. */
    q[48 + 320] ^= 1;
    assert_int_equal(crypto_p256_verify_raw(ak, q, 432, v.isv_sig), CRYPTO_E_BAD_SIG);
    q[48 + 320] ^= 1;
    q[564 + 100] ^= 1;
    assert_int_equal(crypto_p256_verify_raw(pck_pub, v.qe_report_raw, 384, v.qe_report_sig),
                     CRYPTO_E_BAD_SIG);

    x509_chain_free(certs, n);
    free(q);
}

static void test_pck_certificate_profile(void **state)
{
    fixture *f = *state;
    x509_cert *leaf = NULL, *root = NULL;
    const char *pem = sim_pck_pem(f->p);
    assert_int_equal(x509_cert_from_pem(pem, strlen(pem), &leaf), 0);
    assert_int_equal(x509_cert_from_pem(sim_root_pem(f->p), strlen(sim_root_pem(f->p)), &root), 0);

    sgx_pck_ext ext;
    sim_tcb_config def;
    sim_tcb_config_default(&def);
    assert_int_equal(x509_cert_sgx_ext(leaf, &ext), 0);
    assert_memory_equal(ext.comp_svn, def.comp_svn, 16);
    assert_memory_equal(ext.cpusvn, def.comp_svn, 16); /* §5.3: both verifiers' views agree */
    assert_int_equal(ext.pcesvn, def.pcesvn);
    assert_memory_equal(ext.fmspc, def.fmspc, 6);
    assert_memory_equal(ext.pceid, def.pceid, 2);
    assert_int_equal(ext.sgx_type, 0);
    assert_false(ext.has_platform_instance_id);

    char subj[512];
    assert_int_equal(x509_cert_subject(leaf, subj, sizeof subj), 0);
    assert_non_null(strstr(subj, "not for production"));
    assert_int_equal(x509_cert_subject(root, subj, sizeof subj), 0);
    assert_non_null(strstr(subj, "not for production"));
    assert_true(x509_cert_has_required_exts(leaf));
    assert_true(x509_cert_has_required_exts(root));
    assert_false(x509_cert_is_ca(leaf));
    assert_true(x509_cert_is_ca(root));
    assert_true(x509_cert_is_self_issued(root));

    time_t nb, na;
    assert_int_equal(x509_cert_validity(leaf, &nb, &na), 0);
    assert_true(nb <= f->now && f->now <= na);
    assert_int_equal(x509_cert_validity(root, &nb, &na), 0);
    assert_true(nb <= f->now && f->now <= na);

    uint8_t serial[32];
    size_t sl = 0;
    assert_int_equal(x509_cert_serial(leaf, serial, sizeof serial, &sl), 0);
    assert_true(sl >= 1 && sl <= 20);
    assert_int_equal(serial[0] & 0x80, 0);
    x509_cert_free(leaf);
    x509_cert_free(root);
}

static x509_crl *load_crl(const char *dir, const char *name)
{
    char *path = tu_path(dir, name);
    size_t len = 0;
    uint8_t *der = ts_read_file(path, &len);
    x509_crl *crl = NULL;
    assert_int_equal(x509_crl_from_der(der, len, &crl), 0);
    free(der);
    free(path);
    return crl;
}

static x509_cert **load_chain(const char *dir, const char *name, size_t *n)
{
    char *path = tu_path(dir, name);
    size_t len = 0;
    uint8_t *pem = ts_read_file(path, &len);
    x509_cert **certs = NULL;
    assert_int_equal(x509_chain_from_pem((const char *)pem, len, &certs, n), 0);
    free(pem);
    free(path);
    return certs;
}

static void test_chain_and_crls(void **state)
{
    fixture *f = *state;
    char *out = tu_path(f->dir, "export");
    char err[512] = "";
    assert_int_equal(sim_collateral_export(f->p, out, err, sizeof err), SIM_OK);

    /* Chain from a quote, verified against the exported root. */
    sim_enclave_identity id;
    sgx_report_t rep;
    size_t len = 0;
    app_identity(&id);
    app_report(f->p, &id, &rep);
    uint8_t *q = make_quote(f->p, &rep, NULL, &len);
    quote_view v;
    assert_int_equal(quote_parse(q, len, &v), QUOTE_OK);
    x509_cert **chain = NULL, **roots = NULL;
    size_t n = 0, nr = 0;
    assert_int_equal(x509_chain_from_pem((const char *)v.cert_data, v.cert_data_len, &chain, &n),
                     0);
    roots = load_chain(out, "root.pem", &nr);
    assert_int_equal(nr, 1);
    x509_cert *leaf = cert_with_cn(chain, n, "SGX PCK Certificate");
    x509_cert *ca = cert_with_cn(chain, n, "SGX PCK Platform CA");
    x509_cert *root = roots[0];
    assert_int_equal(x509_cert_verify_signed_by(leaf, ca), 0);
    assert_int_equal(x509_cert_verify_signed_by(ca, root), 0);
    assert_int_equal(x509_cert_verify_signed_by(root, root), 0);
    assert_int_equal(x509_cert_verify_signed_by(leaf, root), CRYPTO_E_BAD_SIG);
    /* The root inside the quote is the exported trust anchor, byte for byte. */
    uint8_t h1[32], h2[32];
    assert_int_equal(x509_cert_sha256(cert_with_cn(chain, n, "SGX Root CA"), h1), 0);
    assert_int_equal(x509_cert_sha256(root, h2), 0);
    assert_memory_equal(h1, h2, 32);

    /* CRLs: right issuer, signed, CRL number + AKI, valid now, not revoking us. */
    x509_crl *root_crl = load_crl(out, "root_ca_crl.der");
    x509_crl *pck_crl = load_crl(out, "pck_crl.der");
    assert_true(x509_crl_issued_by(root_crl, root));
    assert_true(x509_crl_issued_by(pck_crl, ca));
    assert_int_equal(x509_crl_verify_signed_by(root_crl, root), 0);
    assert_int_equal(x509_crl_verify_signed_by(pck_crl, ca), 0);
    assert_int_equal(x509_crl_verify_signed_by(pck_crl, root), CRYPTO_E_BAD_SIG);
    assert_true(x509_crl_has_required_exts(root_crl));
    assert_true(x509_crl_has_required_exts(pck_crl));
    /* docs/simulation.md: thisUpdate = now - 1 h (clock-skew margin), nextUpdate
     * = now + 1 year (root CRL) / now + 30 days (PCK CRL); CRL number = now. */
    time_t tu, nu;
    uint64_t number = 0;
    assert_int_equal(x509_crl_dates(root_crl, &tu, &nu), 0);
    assert_int_equal(tu, f->now - 3600);
    assert_int_equal(nu, f->now + 365 * 86400);
    assert_int_equal(x509_crl_number(root_crl, &number), 0);
    assert_int_equal(number, (uint64_t)f->now);
    assert_int_equal(x509_crl_dates(pck_crl, &tu, &nu), 0);
    assert_int_equal(tu, f->now - 3600);
    assert_int_equal(nu, f->now + 30 * 86400);
    assert_int_equal(x509_crl_number(pck_crl, &number), 0);
    assert_int_equal(number, (uint64_t)f->now);
    assert_false(x509_crl_revokes(root_crl, ca));
    assert_false(x509_crl_revokes(pck_crl, leaf));
    assert_int_equal(x509_crl_count(pck_crl), 1); /* one decoy entry */

    /* TCB-signing chain: exactly signer + root, signer issued by root. */
    x509_cert **tcb = NULL;
    size_t nt = 0;
    tcb = load_chain(out, "tcb_chain.pem", &nt);
    assert_int_equal(nt, 2);
    char cn[256];
    assert_int_equal(x509_cert_subject_cn(tcb[0], cn, sizeof cn), 0);
    assert_non_null(strstr(cn, "SGX TCB Signing"));
    assert_int_equal(x509_cert_verify_signed_by(tcb[0], root), 0);
    assert_false(x509_crl_revokes(root_crl, tcb[0]));
    assert_true(x509_cert_has_required_exts(tcb[0]));

    x509_chain_free(tcb, nt);
    x509_crl_free(root_crl);
    x509_crl_free(pck_crl);
    x509_chain_free(chain, n);
    x509_chain_free(roots, nr);
    free(q);
    free(out);
}

static void test_report_not_for_qe_rejected(void **state)
{
    fixture *f = *state;
    sim_enclave_identity id;
    sgx_report_t rep;
    app_identity(&id);
    size_t cap = sim_quote_size(f->p), len = 99;
    uint8_t *q = malloc(cap);

    /* Made for some other enclave's target info. */
    sgx_target_info_t other;
    sim_qe_target_info(f->p, &other);
    other.mr_enclave[5] ^= 0x20;
    assert_int_equal(sim_ereport(&id, &other, &rep), SIM_OK);
    assert_int_equal(sim_get_quote(f->p, &rep, NULL, q, cap, &len), SIM_E_INVALID_REPORT);
    assert_int_equal(len, 0);

    /* Made for the QE, then altered. */
    app_report(f->p, &id, &rep);
    rep.body.report_data[0] ^= 1;
    assert_int_equal(sim_get_quote(f->p, &rep, NULL, q, cap, &len), SIM_E_INVALID_REPORT);

    /* Good report, buffer one byte short: size reported. */
    app_report(f->p, &id, &rep);
    assert_int_equal(sim_get_quote(f->p, &rep, NULL, q, cap - 1, &len), SIM_E_BUFFER_TOO_SMALL);
    assert_int_equal(len, cap);
    free(q);
}

static void test_qe_report_info(void **state)
{
    fixture *f = *state;
    /* Twice: the SDK default CPUSVN and another ("UPGRADED_CPUSVN", §4.5). */
    uint8_t upgraded[16];
    ts_unhex("5339ae8c93ae8f3ce432db924d0f0733", upgraded, 16);
    for (int round = 0; round < 2; round++) {
        sim_enclave_identity id;
        sgx_report_t rep;
        app_identity(&id);
        if (round == 1)
            memcpy(id.cpu_svn, upgraded, 16);
        app_report(f->p, &id, &rep);

        sgx_qe_report_info_t qri;
        memset(&qri, 0, sizeof qri);
        for (int i = 0; i < 16; i++)
            qri.nonce[i] = (uint8_t)(0x30 + i + round);
        sgx_target_info_from_report(&rep.body, &qri.app_enclave_target_info);
        size_t len = 0;
        uint8_t *q = make_quote(f->p, &rep, &qri, &len);

        /* The app's sgx_verify_report: EGETKEY with its own SECS values. */
        assert_int_equal(sim_verify_report(&qri.app_enclave_target_info, id.cpu_svn,
                                           &qri.qe_report),
                         SIM_OK);
        uint8_t *buf = malloc(16 + len), h[32], zero[32] = {0};
        memcpy(buf, qri.nonce, 16);
        memcpy(buf + 16, q, len);
        crypto_sha256(buf, 16 + len, h);
        assert_memory_equal(qri.qe_report.body.report_data, h, 32);
        assert_memory_equal(qri.qe_report.body.report_data + 32, zero, 32);
        sgx_target_info_t qe_ti;
        sim_qe_target_info(f->p, &qe_ti);
        assert_memory_equal(qri.qe_report.body.mr_enclave, qe_ti.mr_enclave, 32);

        /* Not verifiable by anyone else. */
        sgx_target_info_t other = qri.app_enclave_target_info;
        other.mr_enclave[0] ^= 1;
        assert_int_equal(sim_verify_report(&other, id.cpu_svn, &qri.qe_report),
                         SIM_E_INVALID_REPORT);
        free(buf);
        free(q);
    }
}

/* ---- collateral ---- */

static char *between(const char *s, const char *start, const char *end)
{
    const char *a = strstr(s, start);
    assert_non_null(a);
    a += strlen(start);
    const char *b = strstr(a, end);
    assert_non_null(b);
    return strndup(a, (size_t)(b - a));
}

/* Verify {"<key>":BODY,"signature":"HEX"} with the TCB signer; return BODY. */
static char *signed_body(const char *dir, const char *file, const char *key,
                         const uint8_t signer_pub[64])
{
    char *path = tu_path(dir, file);
    char *doc = (char *)ts_read_file(path, NULL);
    char start[64];
    snprintf(start, sizeof start, "{\"%s\":", key);
    assert_int_equal(strncmp(doc, start, strlen(start)), 0);
    char *body = between(doc, start, ",\"signature\":\"");
    char *sig_hex = between(doc, ",\"signature\":\"", "\"}");
    uint8_t sig[64];
    ts_unhex(sig_hex, sig, 64);
    assert_int_equal(crypto_p256_verify_raw(signer_pub, body, strlen(body), sig), 0);
    /* a single changed byte of the body no longer verifies */
    body[10] ^= 1;
    assert_int_equal(crypto_p256_verify_raw(signer_pub, body, strlen(body), sig),
                     CRYPTO_E_BAD_SIG);
    body[10] ^= 1;
    free(sig_hex);
    free(doc);
    free(path);
    return body;
}

/* Independent level matching (quote-format §6.3): the first level (JSON
 * order) the platform's comps and pcesvn reach. */
static const char *match_level(json_t *levels, const uint8_t comps[16], unsigned pcesvn)
{
    size_t i;
    json_t *l;
    json_array_foreach(levels, i, l) {
        json_t *tcb = json_object_get(l, "tcb");
        json_t *c = json_object_get(tcb, "sgxtcbcomponents");
        assert_int_equal(json_array_size(c), 16);
        bool ok = (unsigned)json_integer_value(json_object_get(tcb, "pcesvn")) <= pcesvn;
        for (size_t k = 0; k < 16; k++)
            ok = ok && json_integer_value(json_object_get(json_array_get(c, k), "svn")) <=
                           comps[k];
        if (ok)
            return json_string_value(json_object_get(l, "tcbStatus"));
    }
    return NULL;
}

static void check_collateral(const char *dir, const sim_tcb_config *cfg, time_t now)
{
    size_t nt = 0;
    x509_cert **tcb = load_chain(dir, "tcb_chain.pem", &nt);
    uint8_t signer[64];
    assert_int_equal(x509_cert_pubkey_raw(tcb[0], signer), 0);
    char *tcb_body = signed_body(dir, "tcb_info.json", "tcbInfo", signer);
    char *qe_body = signed_body(dir, "qe_identity.json", "enclaveIdentity", signer);

    /* collateral.json carries exactly the signed bodies. */
    char *cpath = tu_path(dir, "collateral.json");
    json_error_t jerr;
    json_t *coll = json_load_file(cpath, 0, &jerr);
    assert_non_null(coll);
    assert_string_equal(json_string_value(json_object_get(coll, "tcb_info")), tcb_body);
    assert_string_equal(json_string_value(json_object_get(coll, "qe_identity")), qe_body);
    static const char *keys[] = {"pck_crl_issuer_chain", "root_ca_crl", "pck_crl",
                                 "tcb_info_issuer_chain", "tcb_info_signature",
                                 "qe_identity_issuer_chain", "qe_identity_signature"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_true(json_is_string(json_object_get(coll, keys[i])));
    assert_int_equal(strlen(json_string_value(json_object_get(coll, "tcb_info_signature"))),
                     128);

    /* Compact, Intel key order, integers only. */
    assert_null(strchr(tcb_body, ' '));
    assert_null(strchr(tcb_body, '\n'));
    assert_int_equal(strncmp(tcb_body, "{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"", 37), 0);
    assert_non_null(strstr(tcb_body, "\"tcbType\":0,\"tcbEvaluationDataNumber\":"));
    assert_int_equal(strncmp(qe_body, "{\"id\":\"QE\",\"version\":2,\"issueDate\":\"", 36), 0);
    assert_null(strchr(tcb_body, '.'));

    json_t *ti = json_loads(tcb_body, 0, &jerr);
    assert_non_null(ti);
    /* docs/simulation.md: issueDate = now - 1 h (clock-skew margin), nextUpdate
     * = now + 30 days, in both signed bodies. */
    char iso[21], fmspc[13];
    time_format_iso8601(now - 3600, iso);
    assert_string_equal(json_string_value(json_object_get(ti, "issueDate")), iso);
    time_format_iso8601(now + 30 * 24 * 3600, iso);
    assert_string_equal(json_string_value(json_object_get(ti, "nextUpdate")), iso);
    snprintf(fmspc, sizeof fmspc, "%02X%02X%02X%02X%02X%02X", cfg->fmspc[0], cfg->fmspc[1],
             cfg->fmspc[2], cfg->fmspc[3], cfg->fmspc[4], cfg->fmspc[5]);
    assert_string_equal(json_string_value(json_object_get(ti, "fmspc")), fmspc);
    const char *status = match_level(json_object_get(ti, "tcbLevels"), cfg->comp_svn,
                                     cfg->pcesvn);
    assert_non_null(status);
    assert_string_equal(status, sim_tcb_status_name(cfg->tcb_status));
    if (cfg->tcb_status == SIM_TCB_OUT_OF_DATE) {
        /* ... because a newer UpToDate level exists above. */
        json_t *first = json_array_get(json_object_get(ti, "tcbLevels"), 0);
        assert_string_equal(json_string_value(json_object_get(first, "tcbStatus")), "UpToDate");
    }
    if (cfg->tcb_status == SIM_TCB_SW_HARDENING_NEEDED) {
        size_t i;
        json_t *l;
        bool found = false;
        json_array_foreach(json_object_get(ti, "tcbLevels"), i, l) {
            if (strcmp(json_string_value(json_object_get(l, "tcbStatus")), status) == 0)
                found = json_array_size(json_object_get(l, "advisoryIDs")) > 0;
        }
        assert_true(found);
    }

    /* QE Identity: the first level the QE's ISVSVN reaches is UpToDate. */
    json_t *qi = json_loads(qe_body, 0, &jerr);
    assert_non_null(qi);
    time_format_iso8601(now - 3600, iso);
    assert_string_equal(json_string_value(json_object_get(qi, "issueDate")), iso);
    time_format_iso8601(now + 30 * 24 * 3600, iso);
    assert_string_equal(json_string_value(json_object_get(qi, "nextUpdate")), iso);
    json_t *ql = json_array_get(json_object_get(qi, "tcbLevels"), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ql, "tcb"), "isvsvn")),
                     cfg->qe_svn);
    assert_string_equal(json_string_value(json_object_get(ql, "tcbStatus")), "UpToDate");
    assert_string_equal(json_string_value(json_object_get(qi, "mrsigner")),
                        "8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF");
    assert_int_equal(json_integer_value(json_object_get(qi, "isvprodid")), 1);
    /* The QE's attributes (0x15) under the mask equal the expected value. */
    uint8_t attr[16], mask[16];
    ts_unhex(json_string_value(json_object_get(qi, "attributes")), attr, 16);
    ts_unhex(json_string_value(json_object_get(qi, "attributesMask")), mask, 16);
    assert_int_equal(0x15 & mask[0], attr[0] & mask[0]);
    assert_int_equal(attr[0] & mask[0], attr[0]); /* expected ⊆ mask */

    json_decref(ti);
    json_decref(qi);
    json_decref(coll);
    free(cpath);
    free(tcb_body);
    free(qe_body);
    x509_chain_free(tcb, nt);
}

static void test_collateral_every_status(void **state)
{
    fixture *f = *state;
    for (int s = SIM_TCB_UP_TO_DATE; s <= SIM_TCB_REVOKED; s++) {
        sim_options o = base_opts(f->dir, f->now);
        o.tcb.tcb_status = (sim_tcb_status)s;
        sim_platform *p = NULL;
        char err[512] = "";
        assert_int_equal(sim_platform_open(&o, &p, err, sizeof err), SIM_OK);
        char name[64];
        snprintf(name, sizeof name, "coll-%d", s);
        char *out = tu_path(f->dir, name);
        assert_int_equal(sim_collateral_export(p, out, err, sizeof err), SIM_OK);
        check_collateral(out, &o.tcb, f->now);

        /* meta.json names the pinned time and the FMSPC. */
        char *mpath = tu_path(out, "meta.json");
        json_error_t jerr;
        json_t *meta = json_load_file(mpath, 0, &jerr);
        assert_non_null(meta);
        assert_int_equal(json_integer_value(json_object_get(meta, "pinned_time")), f->now);
        json_t *w = json_object_get(meta, "validity_window");
        assert_int_equal(json_integer_value(json_object_get(w, "not_before")), f->now - 3600);
        assert_int_equal(json_integer_value(json_object_get(w, "not_after")),
                         f->now + 30 * 86400);
        assert_string_equal(json_string_value(json_object_get(meta, "fmspc")), "00606A000000");
        json_decref(meta);
        free(mpath);
        free(out);
        sim_platform_close(p);
    }
}

static void test_collateral_edge_tcbs(void **state)
{
    fixture *f = *state;
    /* All-zero TCB (no older level possible) and all-maximum components
     * with OutOfDate (the newer level bumps the PCE SVN). */
    const char *settings[][3] = {
        {"tcb=0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0", "pcesvn=0", "status=UpToDate"},
        {"tcb=ffffffffffffffffffffffffffffffff", "pcesvn=5", "status=OutOfDate"},
        {"fmspc=00906ED50000", "qe-svn=0", "status=SWHardeningNeeded"},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        sim_options o = base_opts(f->dir, f->now);
        char err[512] = "";
        for (int k = 0; k < 3; k++)
            assert_int_equal(sim_tcb_config_apply(&o.tcb, settings[i][k], err, sizeof err),
                             SIM_OK);
        sim_platform *p = NULL;
        assert_int_equal(sim_platform_open(&o, &p, err, sizeof err), SIM_OK);
        char name[64];
        snprintf(name, sizeof name, "edge-%zu", i);
        char *out = tu_path(f->dir, name);
        assert_int_equal(sim_collateral_export(p, out, err, sizeof err), SIM_OK);
        check_collateral(out, &o.tcb, f->now);
        free(out);
        sim_platform_close(p);
    }
    /* Nothing can be newer than all-maximum components and PCE SVN. */
    sim_options o = base_opts(f->dir, f->now);
    char err[512] = "";
    sim_tcb_config_apply(&o.tcb, "tcb=ffffffffffffffffffffffffffffffff", err, sizeof err);
    sim_tcb_config_apply(&o.tcb, "pcesvn=65535", err, sizeof err);
    sim_tcb_config_apply(&o.tcb, "status=OutOfDate", err, sizeof err);
    sim_platform *p = NULL;
    assert_int_equal(sim_platform_open(&o, &p, err, sizeof err), SIM_OK);
    char *out = tu_path(f->dir, "edge-impossible");
    err[0] = '\0';
    assert_int_equal(sim_collateral_export(p, out, err, sizeof err), SIM_E_CONFIG);
    assert_true(strlen(err) > 0);
    free(out);
    sim_platform_close(p);
}

static void test_export_unwritable(void **state)
{
    fixture *f = *state;
    char *file = tu_path(f->dir, "a-file");
    tu_write(file, "x", 1, 0600);
    char *out = tu_path(file, "sub");
    char err[512] = "";
    assert_int_equal(sim_collateral_export(f->p, out, err, sizeof err), SIM_E_IO);
    assert_non_null(strstr(err, f->dir));
    free(out);
    free(file);
}

/* ---- concurrency: the daemon quotes from several worker threads ---- */

typedef struct {
    const sim_platform *p;
    int ok;
} worker_arg;

static void *quote_worker(void *v)
{
    worker_arg *w = v;
    sim_enclave_identity id;
    sim_enclave_identity_default(&id);
    uint8_t ak[64];
    sim_attestation_pub_key(w->p, ak);
    size_t cap = sim_quote_size(w->p);
    uint8_t *q = malloc(cap);
    w->ok = 0;
    for (int i = 0; i < 20; i++) {
        id.report_data[0] = (uint8_t)i;
        sgx_target_info_t ti;
        sgx_report_t rep;
        sgx_qe_report_info_t qri;
        size_t len = 0;
        sim_qe_target_info(w->p, &ti);
        memset(&qri, 0, sizeof qri);
        qri.nonce[0] = (uint8_t)i;
        if (sim_ereport(&id, &ti, &rep) != SIM_OK)
            break;
        sgx_target_info_from_report(&rep.body, &qri.app_enclave_target_info);
        if (sim_get_quote(w->p, &rep, &qri, q, cap, &len) != SIM_OK)
            break;
        if (crypto_p256_verify_raw(ak, q, 432, q + 436) != 0 || q[48 + 320] != (uint8_t)i)
            break;
        if (sim_verify_report(&qri.app_enclave_target_info, id.cpu_svn, &qri.qe_report) != 0)
            break;
        w->ok++;
    }
    free(q);
    return NULL;
}

static void test_parallel_quotes(void **state)
{
    fixture *f = *state;
    pthread_t t[4];
    worker_arg w[4];
    for (int i = 0; i < 4; i++) {
        w[i].p = f->p;
        assert_int_equal(pthread_create(&t[i], NULL, quote_worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].ok, 20);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_structure_and_signatures),
        cmocka_unit_test(test_pck_certificate_profile),
        cmocka_unit_test(test_chain_and_crls),
        cmocka_unit_test(test_report_not_for_qe_rejected),
        cmocka_unit_test(test_qe_report_info),
        cmocka_unit_test(test_collateral_every_status),
        cmocka_unit_test(test_collateral_edge_tcbs),
        cmocka_unit_test(test_export_unwritable),
        cmocka_unit_test(test_parallel_quotes),
    };
    return cmocka_run_group_tests_name("sim_quote", tests, setup, teardown);
}
