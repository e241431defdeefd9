/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for certificate and CRL parsing (src/crypto/x509.c): the
 * PEM chain scanner used on quotes' type-5 certification data, DER
 * certificates and DER CRLs from collateral, and every inspector the verifier
 * calls on the results, with the verifier's lighter certificate parse
 * checked against the full one. The first byte selects the input kind.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inspect_cert(const x509_cert *c, const x509_cert *other)
{
    char buf[512];
    uint8_t serial[64], pub[CRYPTO_P256_PUB_LEN], digest[32];
    size_t n = 0;
    time_t nb, na;
    sgx_pck_ext ext;
    crypto_p256_key *k = NULL;
    const uint8_t *sig = NULL;

    (void)x509_cert_subject(c, buf, sizeof(buf));
    (void)x509_cert_issuer(c, buf, sizeof(buf));
    (void)x509_cert_subject_cn(c, buf, sizeof(buf));
    (void)x509_cert_issuer_cn(c, buf, sizeof(buf));
    (void)x509_cert_is_self_issued(c);
    (void)x509_cert_subject_equals_issuer_of(other, c);
    (void)x509_cert_serial(c, serial, sizeof(serial), &n);
    (void)x509_cert_validity(c, &nb, &na);
    (void)x509_cert_pubkey_raw(c, pub);
    if (x509_cert_pubkey(c, &k) == CRYPTO_OK)
        crypto_p256_free(k);
    (void)x509_cert_verify_signed_by(c, other);
    (void)x509_cert_signature_bytes(c, &sig, &n);
    (void)x509_cert_has_required_exts(c);
    (void)x509_cert_is_ca(c);
    (void)x509_cert_sgx_ext(c, &ext);
    (void)x509_cert_sha256(c, digest);
}

static void fuzz_pem(const char *pem, size_t len)
{
    x509_cert **certs = NULL;
    size_t n = 0;

    if (x509_chain_from_pem(pem, len, &certs, &n) != CRYPTO_OK)
        return;
    for (size_t i = 0; i < n; i++)
        inspect_cert(certs[i], certs[(i + 1) % n]);
    x509_chain_free(certs, n);
}

/* The verifier's parse (x509_cert_from_der_lite) against the full one: on
 * what both read, with a P-256 key in both, every fact and the
 * self-signature verdict must agree (the lite path re-implements
 * X509_verify's checks). */
static void compare_lite(const x509_cert *full, const x509_cert *lite)
{
    char a[512], b[512];
    crypto_p256_key *kf = NULL, *kl = NULL;
    uint8_t pf[CRYPTO_P256_PUB_LEN], pl[CRYPTO_P256_PUB_LEN];

    if (x509_cert_subject(full, a, sizeof a) == CRYPTO_OK &&
        (x509_cert_subject(lite, b, sizeof b) != CRYPTO_OK || strcmp(a, b) != 0))
        abort();
    if (x509_cert_is_ca(full) != x509_cert_is_ca(lite) ||
        x509_cert_has_required_exts(full) != x509_cert_has_required_exts(lite))
        abort();
    bool both = x509_cert_pubkey(full, &kf) == CRYPTO_OK && x509_cert_pubkey(lite, &kl) == CRYPTO_OK;
    crypto_p256_free(kf);
    crypto_p256_free(kl);
    if (!both)
        return;
    if (x509_cert_pubkey_raw(full, pf) != CRYPTO_OK || x509_cert_pubkey_raw(lite, pl) != CRYPTO_OK ||
        memcmp(pf, pl, sizeof pf) != 0)
        abort();
    if ((x509_cert_verify_signed_by(full, full) == CRYPTO_OK) !=
        (x509_cert_verify_signed_by(lite, lite) == CRYPTO_OK))
        abort();
}

static void fuzz_cert_der(const uint8_t *der, size_t len)
{
    x509_cert *c = NULL, *l = NULL;

    if (x509_cert_from_der_lite(der, len, &l) == CRYPTO_OK)
        inspect_cert(l, l);
    if (x509_cert_from_der(der, len, &c) != CRYPTO_OK) {
        x509_cert_free(l);
        return;
    }
    inspect_cert(c, c);
    if (l != NULL)
        compare_lite(c, l);
    x509_cert_free(c);
    x509_cert_free(l);
}

static void fuzz_crl_der(const uint8_t *der, size_t len)
{
    x509_crl *crl = NULL;
    x509_cert *self = NULL;
    char buf[512];
    time_t tu, nu;
    uint64_t num;

    if (x509_crl_from_der(der, len, &crl) != CRYPTO_OK)
        return;
    (void)x509_crl_issuer(crl, buf, sizeof(buf));
    (void)x509_crl_dates(crl, &tu, &nu);
    (void)x509_crl_has_required_exts(crl);
    (void)x509_crl_number(crl, &num);
    (void)x509_crl_count(crl);
    /* A fixed certificate to exercise issuer/serial comparisons. */
    if (x509_cert_from_der(der, len, &self) == CRYPTO_OK) {
        (void)x509_crl_issued_by(crl, self);
        (void)x509_crl_revokes(crl, self);
        (void)x509_crl_verify_signed_by(crl, self);
        x509_cert_free(self);
    }
    x509_crl_free(crl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* Seeds are whole files: PEM text starts with '-', DER with 0x30. */
    switch (data[0]) {
    case 0x30:
        fuzz_cert_der(data, size);
        fuzz_crl_der(data, size);
        break;
    default:
        fuzz_pem((const char *)data, size);
        break;
    }
    return 0;
}
