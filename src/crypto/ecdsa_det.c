/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deterministic ECDSA-P256-SHA256 (RFC 6979): the nonce k comes from an
 * HMAC-DRBG (SHA-256) seeded with the private scalar and the message digest
 * (§3.2), so one key and one message always give one signature. x509.c signs
 * the simulated PKI's certificates and CRLs with it, and sim its collateral,
 * which is what makes a seed yield byte-identical PKI on every node
 * (docs/simulation.md). OpenSSL 3.0 has no deterministic ECDSA, so the
 * arithmetic is done here on BIGNUM / EC_POINT (non-deprecated APIs only).
 */
#include "crypto/crypto.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

/* P-256: qlen = hlen = 256 bits, so bits2int is the plain big-endian
 * integer and one HMAC output is one candidate (RFC 6979 §2.3.2, §3.2 h). */
#define RFC6979_HLEN CRYPTO_SHA256_LEN
/* A candidate is rejected with probability ~2^-32 (k >= n) or ~2^-256
 * (r or s = 0); this bound only stops a broken DRBG from looping forever. */
#define RFC6979_MAX_CANDIDATES 64

typedef struct {
    EVP_MAC_CTX *mac;
    uint8_t K[RFC6979_HLEN];
    uint8_t V[RFC6979_HLEN];
} hmac_drbg;

/* out = HMAC-SHA256(key, a ‖ [sep] ‖ b ‖ c); sep < 0 means no separator. */
static int hmac(hmac_drbg *d, const uint8_t key[RFC6979_HLEN], const uint8_t *a, size_t alen,
                int sep, const uint8_t *b, size_t blen, const uint8_t *c, size_t clen,
                uint8_t out[RFC6979_HLEN])
{
    OSSL_PARAM params[2];
    uint8_t sep_byte = (uint8_t)(sep < 0 ? 0 : sep);
    size_t outl = 0;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(d->mac, key, RFC6979_HLEN, params) != 1)
        return CRYPTO_E_OPENSSL;
    if ((alen != 0 && EVP_MAC_update(d->mac, a, alen) != 1) ||
        (sep >= 0 && EVP_MAC_update(d->mac, &sep_byte, 1) != 1) ||
        (blen != 0 && EVP_MAC_update(d->mac, b, blen) != 1) ||
        (clen != 0 && EVP_MAC_update(d->mac, c, clen) != 1))
        return CRYPTO_E_OPENSSL;
    if (EVP_MAC_final(d->mac, out, &outl, RFC6979_HLEN) != 1 || outl != RFC6979_HLEN)
        return CRYPTO_E_OPENSSL;
    return CRYPTO_OK;
}

/* RFC 6979 §3.2 b–g: V = 0x01…, K = 0x00…, then two rounds of
 * K = HMAC_K(V ‖ 0x00/0x01 ‖ int2octets(x) ‖ bits2octets(h1)), V = HMAC_K(V). */
static int drbg_seed(hmac_drbg *d, const uint8_t x[CRYPTO_P256_PRIV_LEN],
                     const uint8_t h1_octets[RFC6979_HLEN])
{
    int rc;

    memset(d->V, 0x01, sizeof d->V);
    memset(d->K, 0x00, sizeof d->K);
    for (int round = 0; round < 2; round++) {
        if ((rc = hmac(d, d->K, d->V, sizeof d->V, round, x, CRYPTO_P256_PRIV_LEN, h1_octets,
                       RFC6979_HLEN, d->K)) != CRYPTO_OK ||
            (rc = hmac(d, d->K, d->V, sizeof d->V, -1, NULL, 0, NULL, 0, d->V)) != CRYPTO_OK)
            return rc;
    }
    return CRYPTO_OK;
}

/* §3.2 h.2: with qlen == hlen, T is one fresh V. */
static int drbg_candidate(hmac_drbg *d, uint8_t T[RFC6979_HLEN])
{
    int rc = hmac(d, d->K, d->V, sizeof d->V, -1, NULL, 0, NULL, 0, d->V);
    if (rc == CRYPTO_OK)
        memcpy(T, d->V, RFC6979_HLEN);
    return rc;
}

/* §3.2 h.3, after a rejected candidate: K = HMAC_K(V ‖ 0x00), V = HMAC_K(V). */
static int drbg_reject(hmac_drbg *d)
{
    int rc = hmac(d, d->K, d->V, sizeof d->V, 0, NULL, 0, NULL, 0, d->K);
    if (rc == CRYPTO_OK)
        rc = hmac(d, d->K, d->V, sizeof d->V, -1, NULL, 0, NULL, 0, d->V);
    return rc;
}

/*
 * Threat model. The keys signed with are the simulator's test keys, but a
 * key must still not leak through this code to a local observer (timing,
 * cache) or through a fault. Secrets (x, k, k^-1 and the products holding
 * them) live in BN_secure_new BIGNUMs (OpenSSL's secure heap if one is set
 * up) with BN_FLG_CONSTTIME, cleared on free, as is the DRBG state; kG uses OpenSSL's constant-time generator multiplication; k^-1 is
 * k^(n-2) by BN_mod_exp_mont_consttime (Fermat, n prime) and the products
 * are Montgomery multiplications: no BN_mod_inverse or BN_div on secrets.
 * Residual leak: the public BN API strips leading zero words, so the word
 * length of some intermediates is visible (OpenSSL's own signer avoids that
 * with internal fixed-width helpers) — a few bits of magnitude at most.
 * Every signature is verified with the public key before it is returned:
 * with deterministic nonces, one faulty signature next to a good one of the
 * same message would reveal the key. s is not normalised to the low half:
 * the RFC's own vectors are not, and OpenSSL, QVL and dcap-qvl accept both.
 */

/* Everything one signature needs. */
typedef struct {
    BN_CTX *bn;
    EC_GROUP *group;
    const BIGNUM *n;
    BN_MONT_CTX *mont;
    BIGNUM *n_minus_2, *e, *x, *k, *kinv, *r, *s, *t, *px;
    EC_POINT *R;
    hmac_drbg drbg;
    EVP_MAC *mac_alg;
} signer;

static void signer_free(signer *g)
{
    EVP_MAC_CTX_free(g->drbg.mac);
    EVP_MAC_free(g->mac_alg);
    OPENSSL_cleanse(&g->drbg, sizeof g->drbg);
    EC_POINT_clear_free(g->R);
    BN_clear_free(g->x);
    BN_clear_free(g->k);
    BN_clear_free(g->kinv);
    BN_clear_free(g->s);
    BN_clear_free(g->t);
    BN_clear_free(g->px);
    BN_free(g->r);
    BN_free(g->e);
    BN_free(g->n_minus_2);
    BN_MONT_CTX_free(g->mont);
    EC_GROUP_free(g->group);
    BN_CTX_free(g->bn);
}

static int signer_init(signer *g)
{
    memset(g, 0, sizeof *g);
    g->bn = BN_CTX_secure_new();
    g->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    g->mont = BN_MONT_CTX_new();
    g->n_minus_2 = BN_new();
    g->e = BN_new();
    g->r = BN_new();
    g->x = BN_secure_new();
    g->k = BN_secure_new();
    g->kinv = BN_secure_new();
    g->s = BN_secure_new();
    g->t = BN_secure_new();
    g->px = BN_secure_new();
    g->R = g->group != NULL ? EC_POINT_new(g->group) : NULL;
    g->mac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    g->drbg.mac = g->mac_alg != NULL ? EVP_MAC_CTX_new(g->mac_alg) : NULL;
    if (g->bn == NULL || g->group == NULL || g->mont == NULL || g->n_minus_2 == NULL ||
        g->e == NULL || g->r == NULL || g->x == NULL || g->k == NULL || g->kinv == NULL ||
        g->s == NULL || g->t == NULL || g->px == NULL || g->R == NULL)
        return CRYPTO_E_NOMEM;
    if (g->drbg.mac == NULL)
        return CRYPTO_E_OPENSSL;
    g->n = EC_GROUP_get0_order(g->group);
    if (g->n == NULL || BN_MONT_CTX_set(g->mont, g->n, g->bn) != 1 ||
        BN_copy(g->n_minus_2, g->n) == NULL || BN_sub_word(g->n_minus_2, 2) != 1)
        return CRYPTO_E_OPENSSL;
    BN_set_flags(g->x, BN_FLG_CONSTTIME);
    BN_set_flags(g->k, BN_FLG_CONSTTIME);
    BN_set_flags(g->kinv, BN_FLG_CONSTTIME);
    BN_set_flags(g->s, BN_FLG_CONSTTIME);
    BN_set_flags(g->t, BN_FLG_CONSTTIME);
    return CRYPTO_OK;
}

/* Loads x and h1, seeds the DRBG. h1_octets = bits2octets(h1) = int2octets(h1 mod n)
 * (§2.3.4); e = h1 mod n is also the z of the signature equation. */
static int signer_start(signer *g, const uint8_t x[CRYPTO_P256_PRIV_LEN],
                        const uint8_t h1[RFC6979_HLEN])
{
    uint8_t h1_octets[RFC6979_HLEN];
    int rc = CRYPTO_E_OPENSSL;

    if (BN_bin2bn(x, CRYPTO_P256_PRIV_LEN, g->x) == NULL ||
        BN_bin2bn(h1, RFC6979_HLEN, g->e) == NULL || BN_nnmod(g->e, g->e, g->n, g->bn) != 1 ||
        BN_bn2binpad(g->e, h1_octets, sizeof h1_octets) != (int)sizeof h1_octets)
        goto out;
    if (BN_is_zero(g->x) || BN_cmp(g->x, g->n) >= 0) {
        rc = CRYPTO_E_BAD_KEY;
        goto out;
    }
    rc = drbg_seed(&g->drbg, x, h1_octets);
out:
    OPENSSL_cleanse(h1_octets, sizeof h1_octets);
    return rc;
}

/* One candidate T: k = bits2int(T). *usable is false when k is not in
 * [1, n-1] or r or s comes out zero (§3.2 h.3, §3.4: take the next k). */
static int sign_with_candidate(signer *g, const uint8_t T[RFC6979_HLEN], bool *usable,
                               uint8_t sig[CRYPTO_P256_SIG_LEN])
{
    *usable = false;
    if (BN_bin2bn(T, RFC6979_HLEN, g->k) == NULL)
        return CRYPTO_E_OPENSSL;
    /* The comparison branches on k >= n, an event of probability 2^-32
     * that is also visible as a retry: nothing more about k leaks. */
    if (BN_is_zero(g->k) || BN_cmp(g->k, g->n) >= 0)
        return CRYPTO_OK;
    /* r = x(kG) mod n; the point's x is public (it is r). */
    if (EC_POINT_mul(g->group, g->R, g->k, NULL, NULL, g->bn) != 1 ||
        EC_POINT_get_affine_coordinates(g->group, g->R, g->px, NULL, g->bn) != 1 ||
        BN_nnmod(g->r, g->px, g->n, g->bn) != 1)
        return CRYPTO_E_OPENSSL;
    if (BN_is_zero(g->r))
        return CRYPTO_OK;
    /* s = k^-1 (e + x r) mod n, with Montgomery products (x R)(r) = x r and
     * ((e + x r) R)(k^-1) = s, and k^-1 = k^(n-2) in constant time. */
    if (BN_mod_exp_mont_consttime(g->kinv, g->k, g->n_minus_2, g->n, g->bn, g->mont) != 1 ||
        BN_to_montgomery(g->t, g->x, g->mont, g->bn) != 1 ||
        BN_mod_mul_montgomery(g->t, g->t, g->r, g->mont, g->bn) != 1 ||
        BN_mod_add_quick(g->t, g->t, g->e, g->n) != 1 ||
        BN_to_montgomery(g->t, g->t, g->mont, g->bn) != 1 ||
        BN_mod_mul_montgomery(g->s, g->t, g->kinv, g->mont, g->bn) != 1)
        return CRYPTO_E_OPENSSL;
    if (BN_is_zero(g->s))
        return CRYPTO_OK;
    if (BN_bn2binpad(g->r, sig, 32) != 32 || BN_bn2binpad(g->s, sig + 32, 32) != 32)
        return CRYPTO_E_OPENSSL;
    *usable = true;
    return CRYPTO_OK;
}

/* The RFC 6979 signature of digest h1 under scalar x; the k used goes to
 * k_out when non-NULL (known-answer test only). */
static int rfc6979_sign_digest(const uint8_t x[CRYPTO_P256_PRIV_LEN],
                               const uint8_t h1[RFC6979_HLEN], uint8_t sig[CRYPTO_P256_SIG_LEN],
                               uint8_t k_out[RFC6979_HLEN])
{
    signer g;
    uint8_t T[RFC6979_HLEN];
    bool usable = false;
    int rc = signer_init(&g);

    if (rc != CRYPTO_OK)
        goto out;
    if ((rc = signer_start(&g, x, h1)) != CRYPTO_OK)
        goto out;
    for (int i = 0; i < RFC6979_MAX_CANDIDATES && !usable; i++) {
        if (i > 0 && (rc = drbg_reject(&g.drbg)) != CRYPTO_OK)
            goto out;
        if ((rc = drbg_candidate(&g.drbg, T)) != CRYPTO_OK ||
            (rc = sign_with_candidate(&g, T, &usable, sig)) != CRYPTO_OK)
            goto out;
    }
    if (!usable) {
        rc = CRYPTO_E_OPENSSL;
        goto out;
    }
    if (k_out != NULL)
        memcpy(k_out, T, RFC6979_HLEN);
    rc = CRYPTO_OK;
out:
    if (rc != CRYPTO_OK) {
        ERR_clear_error();
        OPENSSL_cleanse(sig, CRYPTO_P256_SIG_LEN);
    }
    OPENSSL_cleanse(T, sizeof T);
    signer_free(&g);
    return rc;
}

int crypto_p256_sign_deterministic(const crypto_p256_key *k, const void *msg, size_t len,
                                   uint8_t sig[CRYPTO_P256_SIG_LEN])
{
    uint8_t x[CRYPTO_P256_PRIV_LEN], h1[RFC6979_HLEN];
    int rc;

    if (k == NULL || sig == NULL || (msg == NULL && len != 0))
        return CRYPTO_E_INVALID;
    if ((rc = crypto_sha256(msg, len, h1)) != CRYPTO_OK)
        return rc;
    if ((rc = crypto_p256_priv(k, x)) != CRYPTO_OK)
        return rc;
    rc = rfc6979_sign_digest(x, h1, sig, NULL);
    OPENSSL_cleanse(x, sizeof x);
    if (rc != CRYPTO_OK)
        return rc;
    /* Fault check (see the top of the file): never release a signature
     * that does not verify. */
    if (crypto_p256_verify(k, msg, len, sig) != CRYPTO_OK) {
        OPENSSL_cleanse(sig, CRYPTO_P256_SIG_LEN);
        return CRYPTO_E_OPENSSL;
    }
    return CRYPTO_OK;
}

int crypto_p256_rfc6979_nonce(const crypto_p256_key *k, const uint8_t digest[CRYPTO_SHA256_LEN],
                              uint8_t nonce[CRYPTO_P256_PRIV_LEN])
{
    uint8_t x[CRYPTO_P256_PRIV_LEN], sig[CRYPTO_P256_SIG_LEN];
    int rc;

    if (k == NULL || digest == NULL || nonce == NULL)
        return CRYPTO_E_INVALID;
    if ((rc = crypto_p256_priv(k, x)) != CRYPTO_OK)
        return rc;
    rc = rfc6979_sign_digest(x, digest, sig, nonce);
    OPENSSL_cleanse(x, sizeof x);
    OPENSSL_cleanse(sig, sizeof sig);
    return rc;
}
