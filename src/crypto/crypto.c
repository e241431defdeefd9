/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Primitive crypto for the whole project on top of OpenSSL 3 EVP: SHA-256,
 * HKDF-SHA256, AES-128-CMAC (SGX report MACs and simulated key derivation,
 * quote-format §4), and ECDSA-P256 in SGX's raw encodings (X‖Y keys, r‖s
 * signatures, quote-format §0). Quote parsing (sgx), the simulator (sim) and
 * the verifier call in here; nothing above this layer touches libcrypto
 * directly except x509.c.
 */
#include "crypto/crypto.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>

/* RFC 5869 §2.3: L <= 255 * HashLen. */
#define HKDF_SHA256_MAX_OUT (255u * CRYPTO_SHA256_LEN)
/* Seed material longer than this is certainly a caller bug. */
#define P256_SEED_MAX_LEN 4096u
/* Uncompressed SEC1 point: 0x04 ‖ X ‖ Y. */
#define P256_SEC1_LEN (1 + CRYPTO_P256_PUB_LEN)
#define P256_GROUP_NAME "prime256v1"
/* SEQUENCE{INTEGER r, INTEGER s} with 33-byte integers: 2 + 2*(2+33). */
#define P256_SIG_DER_MAX 72

struct crypto_p256_key {
    EVP_PKEY *pkey;
    bool has_priv;
};

const char *crypto_strerror(int err)
{
    switch (err) {
    case CRYPTO_OK:
        return "success";
    case CRYPTO_E_INVALID:
        return "invalid argument or malformed encoding";
    case CRYPTO_E_BAD_SIG:
        return "signature verification failed";
    case CRYPTO_E_BAD_KEY:
        return "invalid key (not on curve, out of range or wrong type)";
    case CRYPTO_E_OPENSSL:
        return "OpenSSL operation failed";
    case CRYPTO_E_NOMEM:
        return "out of memory";
    case CRYPTO_E_PARSE:
        return "DER/PEM parse error";
    case CRYPTO_E_NOT_FOUND:
        return "extension or field not found";
    default:
        return "unknown crypto error";
    }
}

/* ---- hashes, MACs, KDF ---- */

int crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
    crypto_buf part = {data, len};
    return crypto_sha256_parts(&part, 1, out);
}

int crypto_sha384(const void *data, size_t len, uint8_t out[CRYPTO_SHA384_LEN])
{
    if (out == NULL || (data == NULL && len > 0))
        return CRYPTO_E_INVALID;
    return EVP_Digest(data, len, out, NULL, EVP_sha384(), NULL) == 1 ? CRYPTO_OK
                                                                     : CRYPTO_E_OPENSSL;
}

int crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
                       uint8_t out[CRYPTO_SHA256_LEN])
{
    size_t outl = 0;
    if (key == NULL || out == NULL || (data == NULL && len > 0))
        return CRYPTO_E_INVALID;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, data, len, out,
                  CRYPTO_SHA256_LEN, &outl) == NULL ||
        outl != CRYPTO_SHA256_LEN)
        return CRYPTO_E_OPENSSL;
    return CRYPTO_OK;
}

/* SHA-256 by EVP_sha256(), not a fetched EVP_MD kept in a static: this
 * code is also linked into the hardware test doubles, which are dlopen'ed
 * and dlclose'd, and a static's object would be lost (a leak) with them. */
static const EVP_MD *sha256_md(void)
{
    return EVP_sha256();
}

int crypto_sha256_parts(const crypto_buf *parts, size_t n, uint8_t out[CRYPTO_SHA256_LEN])
{
    int rc = CRYPTO_E_OPENSSL;
    EVP_MD_CTX *ctx = NULL;
    unsigned int outl = 0;

    if (out == NULL || (n > 0 && parts == NULL))
        return CRYPTO_E_INVALID;
    for (size_t i = 0; i < n; i++)
        if (parts[i].ptr == NULL && parts[i].len != 0)
            return CRYPTO_E_INVALID;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    if (EVP_DigestInit_ex(ctx, sha256_md(), NULL) != 1)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (parts[i].len != 0 && EVP_DigestUpdate(ctx, parts[i].ptr, parts[i].len) != 1)
            goto out;
    if (EVP_DigestFinal_ex(ctx, out, &outl) != 1 || outl != CRYPTO_SHA256_LEN)
        goto out;
    rc = CRYPTO_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

int crypto_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    static const uint8_t empty[1] = {0};
    int rc = CRYPTO_E_OPENSSL;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[5];
    size_t np = 0;

    if ((ikm == NULL && ikm_len != 0) || (salt == NULL && salt_len != 0) ||
        (info == NULL && info_len != 0) || out == NULL || out_len == 0 ||
        out_len > HKDF_SHA256_MAX_OUT)
        return CRYPTO_E_INVALID;

    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL)
        goto out;
    kctx = EVP_KDF_CTX_new(kdf);
    if (kctx == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    params[np++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[np++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_KEY, (void *)(ikm_len ? ikm : empty), ikm_len);
    /* Absent salt: RFC 5869 uses HashLen zeros, which OpenSSL does too. */
    if (salt_len != 0)
        params[np++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    if (info_len != 0)
        params[np++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    params[np] = OSSL_PARAM_construct_end();

    if (EVP_KDF_derive(kctx, out, out_len, params) != 1)
        goto out;
    rc = CRYPTO_OK;
out:
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return rc;
}

int crypto_aes128_cmac(const uint8_t key[16], const void *data, size_t len,
                       uint8_t out[CRYPTO_CMAC_LEN])
{
    int rc = CRYPTO_E_OPENSSL;
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *mctx = NULL;
    OSSL_PARAM params[2];
    size_t outl = 0;

    if (key == NULL || out == NULL || (data == NULL && len != 0))
        return CRYPTO_E_INVALID;

    mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    if (mac == NULL)
        goto out;
    mctx = EVP_MAC_CTX_new(mac);
    if (mctx == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(mctx, key, 16, params) != 1)
        goto out;
    if (len != 0 && EVP_MAC_update(mctx, data, len) != 1)
        goto out;
    if (EVP_MAC_final(mctx, out, &outl, CRYPTO_CMAC_LEN) != 1 || outl != CRYPTO_CMAC_LEN)
        goto out;
    rc = CRYPTO_OK;
out:
    EVP_MAC_CTX_free(mctx);
    EVP_MAC_free(mac);
    return rc;
}

bool crypto_ct_equal(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return true;
    if (a == NULL || b == NULL)
        return false;
    return CRYPTO_memcmp(a, b, len) == 0;
}

void crypto_wipe(void *p, size_t len)
{
    if (p != NULL && len != 0)
        OPENSSL_cleanse(p, len);
}

int crypto_random(void *out, size_t len)
{
    uint8_t *p = out;

    if (out == NULL && len != 0)
        return CRYPTO_E_INVALID;
    while (len > 0) {
        int chunk = len > (size_t)INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, chunk) != 1)
            return CRYPTO_E_OPENSSL;
        p += chunk;
        len -= (size_t)chunk;
    }
    return CRYPTO_OK;
}

/* ---- P-256 keys ---- */

static int key_wrap(EVP_PKEY *pkey, bool has_priv, crypto_p256_key **out)
{
    crypto_p256_key *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return CRYPTO_E_NOMEM;
    k->pkey = pkey;
    k->has_priv = has_priv;
    *out = k;
    return CRYPTO_OK;
}

/* Builds an EVP_PKEY from a SEC1 public point and an optional private BN. */
static int pkey_from_parts(const uint8_t sec1[P256_SEC1_LEN], const BIGNUM *priv,
                           EVP_PKEY **out)
{
    int rc = CRYPTO_E_OPENSSL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY_CTX *check = NULL;
    EVP_PKEY *pkey = NULL;

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, P256_GROUP_NAME, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, sec1, P256_SEC1_LEN) != 1)
        goto out;
    if (priv != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL)
        goto out;
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1)
        goto out;
    if (EVP_PKEY_fromdata(pctx, &pkey, priv != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params) != 1) {
        rc = CRYPTO_E_BAD_KEY;
        goto out;
    }
    /* Public-key validation for untrusted X‖Y: coordinates in range, on the
     * curve, not infinity. For a public key alone the "quick" check is the
     * full validation: P-256 has cofactor 1, so every other point on it has
     * order n, and the check OpenSSL adds (n·P == O, a scalar
     * multiplication as costly as half a signature verification) cannot
     * fail. Key pairs (our own keys, built once) keep the full check. */
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (check == NULL)
        goto out;
    if ((priv != NULL ? EVP_PKEY_public_check(check) : EVP_PKEY_public_check_quick(check)) != 1) {
        rc = CRYPTO_E_BAD_KEY;
        goto out;
    }
    *out = pkey;
    pkey = NULL;
    rc = CRYPTO_OK;
out:
    if (rc != CRYPTO_OK)
        ERR_clear_error();
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

int crypto_p256_from_seed(const uint8_t *material, size_t len, crypto_p256_key **out)
{
    int rc = CRYPTO_E_OPENSSL;
    EC_GROUP *group = NULL;
    EC_POINT *pub = NULL;
    BN_CTX *bnctx = NULL;
    BIGNUM *m = NULL, *nm1 = NULL, *scalar = NULL;
    EVP_PKEY *pkey = NULL;
    uint8_t sec1[P256_SEC1_LEN];

    if (material == NULL || out == NULL || len < CRYPTO_P256_PRIV_LEN || len > P256_SEED_MAX_LEN)
        return CRYPTO_E_INVALID;
    *out = NULL;

    bnctx = BN_CTX_secure_new();
    group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    m = BN_secure_new();
    nm1 = BN_new();
    scalar = BN_secure_new();
    pub = group != NULL ? EC_POINT_new(group) : NULL;
    if (bnctx == NULL || group == NULL || m == NULL || nm1 == NULL || scalar == NULL ||
        pub == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    /* scalar = (OS2IP(material) mod (n-1)) + 1, always in [1, n-1]. */
    if (BN_bin2bn(material, (int)len, m) == NULL || BN_copy(nm1, EC_GROUP_get0_order(group)) == NULL ||
        BN_sub_word(nm1, 1) != 1 || BN_mod(scalar, m, nm1, bnctx) != 1 ||
        BN_add_word(scalar, 1) != 1)
        goto out;
    BN_set_flags(scalar, BN_FLG_CONSTTIME);
    if (EC_POINT_mul(group, pub, scalar, NULL, NULL, bnctx) != 1)
        goto out;
    if (EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, sec1, sizeof(sec1), bnctx) !=
        sizeof(sec1))
        goto out;
    rc = pkey_from_parts(sec1, scalar, &pkey);
    if (rc != CRYPTO_OK)
        goto out;
    rc = key_wrap(pkey, true, out);
    if (rc == CRYPTO_OK)
        pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    BN_clear_free(m);
    BN_clear_free(scalar);
    BN_free(nm1);
    EC_POINT_free(pub);
    EC_GROUP_free(group);
    BN_CTX_free(bnctx);
    return rc;
}

int crypto_p256_generate(crypto_p256_key **out)
{
    EVP_PKEY *pkey = NULL;
    int rc;

    if (out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    pkey = EVP_EC_gen(P256_GROUP_NAME);
    if (pkey == NULL)
        return CRYPTO_E_OPENSSL;
    rc = key_wrap(pkey, true, out);
    if (rc != CRYPTO_OK)
        EVP_PKEY_free(pkey);
    return rc;
}

int crypto_p256_from_pub(const uint8_t pub[CRYPTO_P256_PUB_LEN], crypto_p256_key **out)
{
    uint8_t sec1[P256_SEC1_LEN];
    EVP_PKEY *pkey = NULL;
    int rc;

    if (pub == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    sec1[0] = 0x04;
    memcpy(sec1 + 1, pub, CRYPTO_P256_PUB_LEN);
    rc = pkey_from_parts(sec1, NULL, &pkey);
    if (rc != CRYPTO_OK)
        return rc;
    rc = key_wrap(pkey, false, out);
    if (rc != CRYPTO_OK)
        EVP_PKEY_free(pkey);
    return rc;
}

int crypto_p256_pub(const crypto_p256_key *k, uint8_t pub[CRYPTO_P256_PUB_LEN])
{
    int rc = CRYPTO_E_OPENSSL;
    BIGNUM *x = NULL, *y = NULL;

    if (k == NULL || k->pkey == NULL || pub == NULL)
        return CRYPTO_E_INVALID;
    if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
        goto out;
    if (BN_bn2binpad(x, pub, 32) != 32 || BN_bn2binpad(y, pub + 32, 32) != 32)
        goto out;
    rc = CRYPTO_OK;
out:
    BN_free(x);
    BN_free(y);
    return rc;
}

void crypto_p256_free(crypto_p256_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

void *crypto_p256_evp(const crypto_p256_key *k)
{
    return k != NULL ? k->pkey : NULL;
}

int crypto_p256_from_evp(void *evp_pkey, crypto_p256_key **out)
{
    EVP_PKEY *pkey = evp_pkey;
    char group[32];
    size_t glen = 0;
    BIGNUM *priv = NULL;
    bool has_priv;
    int rc;

    if (pkey == NULL || out == NULL)
        return CRYPTO_E_INVALID;
    *out = NULL;
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1 ||
        (strcmp(group, P256_GROUP_NAME) != 0 && strcmp(group, "P-256") != 0)) {
        ERR_clear_error();
        return CRYPTO_E_BAD_KEY;
    }
    has_priv = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1;
    BN_clear_free(priv);
    ERR_clear_error();
    if (EVP_PKEY_up_ref(pkey) != 1)
        return CRYPTO_E_OPENSSL;
    rc = key_wrap(pkey, has_priv, out);
    if (rc != CRYPTO_OK)
        EVP_PKEY_free(pkey);
    return rc;
}

int crypto_p256_priv(const crypto_p256_key *k, uint8_t priv[CRYPTO_P256_PRIV_LEN])
{
    BIGNUM *d = NULL;
    int rc = CRYPTO_E_OPENSSL;

    if (k == NULL || k->pkey == NULL || priv == NULL)
        return CRYPTO_E_INVALID;
    if (!k->has_priv)
        return CRYPTO_E_BAD_KEY;
    if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1)
        goto out;
    if (BN_bn2binpad(d, priv, CRYPTO_P256_PRIV_LEN) != CRYPTO_P256_PRIV_LEN)
        goto out;
    rc = CRYPTO_OK;
out:
    BN_clear_free(d);
    return rc;
}

/* ---- ECDSA ---- */

int crypto_sig_raw_to_der(const uint8_t sig[CRYPTO_P256_SIG_LEN], uint8_t *der, size_t der_cap,
                          size_t *der_len)
{
    int rc = CRYPTO_E_OPENSSL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *p = NULL;
    int n;

    if (sig == NULL || der == NULL || der_len == NULL)
        return CRYPTO_E_INVALID;
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, 32, NULL);
    s = BN_bin2bn(sig + 32, 32, NULL);
    if (es == NULL || r == NULL || s == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    if (ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL;
    n = i2d_ECDSA_SIG(es, NULL);
    if (n <= 0)
        goto out;
    if ((size_t)n > der_cap) {
        rc = CRYPTO_E_INVALID;
        goto out;
    }
    p = der;
    if (i2d_ECDSA_SIG(es, &p) != n)
        goto out;
    *der_len = (size_t)n;
    rc = CRYPTO_OK;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return rc;
}

int crypto_sig_der_to_raw(const uint8_t *der, size_t der_len, uint8_t sig[CRYPTO_P256_SIG_LEN])
{
    int rc = CRYPTO_E_PARSE;
    ECDSA_SIG *es = NULL;
    const unsigned char *p = der;
    const BIGNUM *r = NULL, *s = NULL;
    uint8_t reenc[P256_SIG_DER_MAX];
    unsigned char *q = reenc;
    int n;

    if (der == NULL || sig == NULL)
        return CRYPTO_E_INVALID;
    if (der_len == 0 || der_len > P256_SIG_DER_MAX)
        return CRYPTO_E_PARSE;
    es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (es == NULL || (size_t)(p - der) != der_len)
        goto out;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_is_negative(r) || BN_is_negative(s) || BN_num_bytes(r) > 32 || BN_num_bytes(s) > 32)
        goto out;
    /* Strict DER: the re-encoding must be byte-identical to the input. */
    n = i2d_ECDSA_SIG(es, NULL);
    if (n <= 0 || (size_t)n != der_len || i2d_ECDSA_SIG(es, &q) != n ||
        memcmp(reenc, der, der_len) != 0)
        goto out;
    if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
        goto out;
    rc = CRYPTO_OK;
out:
    if (rc != CRYPTO_OK)
        ERR_clear_error();
    ECDSA_SIG_free(es);
    return rc;
}

int crypto_p256_sign(const crypto_p256_key *k, const void *msg, size_t len,
                     uint8_t sig[CRYPTO_P256_SIG_LEN])
{
    int rc = CRYPTO_E_OPENSSL;
    EVP_MD_CTX *ctx = NULL;
    uint8_t der[P256_SIG_DER_MAX + 8];
    size_t der_len = sizeof(der);

    if (k == NULL || k->pkey == NULL || sig == NULL || (msg == NULL && len != 0))
        return CRYPTO_E_INVALID;
    if (!k->has_priv)
        return CRYPTO_E_BAD_KEY;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    if (EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, k->pkey, NULL) != 1)
        goto out;
    if (EVP_DigestSign(ctx, der, &der_len, msg != NULL ? msg : (const void *)"", len) != 1)
        goto out;
    rc = crypto_sig_der_to_raw(der, der_len, sig);
    if (rc != CRYPTO_OK)
        rc = CRYPTO_E_OPENSSL;
out:
    if (rc != CRYPTO_OK)
        ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return rc;
}

int crypto_p256_verify(const crypto_p256_key *k, const void *msg, size_t len,
                       const uint8_t sig[CRYPTO_P256_SIG_LEN])
{
    int rc = CRYPTO_E_OPENSSL;
    EVP_MD_CTX *ctx = NULL;
    uint8_t der[P256_SIG_DER_MAX];
    size_t der_len = 0;
    int v;

    if (k == NULL || k->pkey == NULL || sig == NULL || (msg == NULL && len != 0))
        return CRYPTO_E_INVALID;
    rc = crypto_sig_raw_to_der(sig, der, sizeof(der), &der_len);
    if (rc != CRYPTO_OK)
        goto out;
    rc = CRYPTO_E_OPENSSL;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        rc = CRYPTO_E_NOMEM;
        goto out;
    }
    if (EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, k->pkey, NULL) != 1)
        goto out;
    v = EVP_DigestVerify(ctx, der, der_len, msg != NULL ? msg : (const void *)"", len);
    /* 0 = mismatch; <0 = e.g. r or s out of range: also just a bad signature. */
    rc = v == 1 ? CRYPTO_OK : CRYPTO_E_BAD_SIG;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return rc;
}

int crypto_p256_verify_raw(const uint8_t pub[CRYPTO_P256_PUB_LEN], const void *msg, size_t len,
                           const uint8_t sig[CRYPTO_P256_SIG_LEN])
{
    crypto_p256_key *k = NULL;
    int rc;

    if (pub == NULL || sig == NULL)
        return CRYPTO_E_INVALID;
    rc = crypto_p256_from_pub(pub, &k);
    if (rc != CRYPTO_OK)
        return rc;
    rc = crypto_p256_verify(k, msg, len, sig);
    crypto_p256_free(k);
    return rc;
}

/* ---- hex ---- */

void crypto_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    if (out == NULL)
        return;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int crypto_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_cap,
                      size_t *out_len)
{
    size_t n;

    if ((hex == NULL && hex_len != 0) || (out == NULL && out_cap != 0))
        return CRYPTO_E_INVALID;
    if (hex_len % 2 != 0)
        return CRYPTO_E_INVALID;
    n = hex_len / 2;
    if (out_len == NULL ? n != out_cap : n > out_cap)
        return CRYPTO_E_INVALID;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_nibble(hex[2 * i]);
        int lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return CRYPTO_E_INVALID;
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    if (out_len != NULL)
        *out_len = n;
    return CRYPTO_OK;
}
