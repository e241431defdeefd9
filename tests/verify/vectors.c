/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading of the quote vectors (tests/vectors/quotes) for the verifier tests. Facts the
 * tests compare against (pinned time, dates) are read here with jansson and
 * timegm directly from the files, not through the code under test.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "vectors.h"

void tv_path(char *out, size_t cap, const char *vector, const char *file)
{
    const char *base = ts_vectors_dir();
    if (file == NULL)
        snprintf(out, cap, "%s/quotes/%s", base, vector);
    else if (vector == NULL)
        snprintf(out, cap, "%s/quotes/%s", base, file);
    else
        snprintf(out, cap, "%s/quotes/%s/%s", base, vector, file);
}

void tv_load(test_vector *v, const char *name)
{
    char path[1200], err[512] = "";
    size_t len;
    memset(v, 0, sizeof *v);
    tv_path(v->dir, sizeof v->dir, name, NULL);
    tv_path(path, sizeof path, name, "quote.bin");
    v->quote = ts_read_file(path, &v->quote_len);
    tv_path(path, sizeof path, name, "root.pem");
    v->root = ts_read_file(path, &v->root_len);
    tv_path(path, sizeof path, name, "meta.json");
    uint8_t *meta = ts_read_file(path, &len);
    json_error_t jerr;
    json_t *j = json_loadb((const char *)meta, len, 0, &jerr);
    if (j == NULL)
        fail_msg("test vector %s: not JSON (line %d: %s)", path, jerr.line, jerr.text);
    if (!json_is_integer(json_object_get(j, "pinned_time")))
        fail_msg("test vector %s: no integer \"pinned_time\"", path);
    v->pinned_time = json_integer_value(json_object_get(j, "pinned_time"));
    json_decref(j);
    free(meta);
    int rc = verify_collateral_load_dir(v->dir, &v->coll, err, sizeof err);
    if (rc != 0)
        fail_msg("loading %s: %s", v->dir, err);
}

void tv_free(test_vector *v)
{
    free(v->quote);
    free(v->root);
    verify_collateral_free(&v->coll);
    memset(v, 0, sizeof *v);
}

unsigned tv_accept_all(void)
{
    unsigned set = 0;
    for (int s = VERIFY_TCB_UP_TO_DATE; s < VERIFY_TCB__COUNT; s++)
        if (s != VERIFY_TCB_REVOKED)
            set |= VERIFY_TCB_BIT(s);
    return set;
}

int64_t tv_body_date(const char *body, size_t len, const char *key)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    assert_non_null(j);
    const char *s = json_string_value(json_object_get(j, key));
    assert_non_null(s);
    struct tm tm = {0};
    assert_int_equal(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    json_decref(j);
    return (int64_t)timegm(&tm);
}

void tv_sign_p256(const char *key_path, const uint8_t *msg, size_t len, uint8_t raw[64])
{
    FILE *f = fopen(key_path, "r");
    assert_non_null(f);
    EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(pk);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t der_len = sizeof der;
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk), 1);
    assert_int_equal(EVP_DigestSign(md, der, &der_len, msg, len), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pk);
    const uint8_t *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    assert_non_null(sig);
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    assert_int_equal(BN_bn2binpad(r, raw, 32), 32);
    assert_int_equal(BN_bn2binpad(s, raw + 32, 32), 32);
    ECDSA_SIG_free(sig);
}
