/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Known-answer tests for crypto.h: every expected value comes from a
 * published standard (RFC 5869, RFC 4493, RFC 6979, FIPS 180-2), an
 * independent implementation (Python `cryptography`), the quote-format spec
 * (§4.7 REPORT key vector), a real Intel-signed quote, or P-256 curve
 * constants — never from the code under test.
 */
#include "tutil.h"

#include "crypto/crypto.h"

/* P-256 (SEC 2 / FIPS 186-4) generator G, its negation -G = (Gx, p - Gy),
 * and 2G (computed with textbook affine doubling, independently of OpenSSL). */
#define P256_GX "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
#define P256_GY "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
#define P256_NEG_GY "b01cbd1c01e58065711814b583f061e9d431cca994cea1313449bf97c840ae0a"
#define P256_2GX "7cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978"
#define P256_2GY "07775510db8ed040293d9ac69f7430dbba7dade63ce982299e04b79d227873d1"
#define P256_N "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
#define P256_N_MINUS_1 "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550"
#define P256_N_MINUS_2 "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f"

static void test_strerror(void **state)
{
    (void)state;
    const int codes[] = {CRYPTO_OK,      CRYPTO_E_INVALID, CRYPTO_E_BAD_SIG,
                         CRYPTO_E_BAD_KEY, CRYPTO_E_OPENSSL, CRYPTO_E_NOMEM,
                         CRYPTO_E_PARSE, CRYPTO_E_NOT_FOUND};
    const char *unknown = crypto_strerror(-999);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *s = crypto_strerror(codes[i]);
        assert_non_null(s);
        assert_string_not_equal(s, unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, crypto_strerror(codes[j]));
    }
}

static void test_sha256(void **state)
{
    (void)state;
    uint8_t d[32];
    crypto_buf parts[3] = {{"a", 1}, {NULL, 0}, {"bc", 2}};

    /* FIPS 180-2 appendix B.1 */
    assert_int_equal(crypto_sha256("abc", 3, d), CRYPTO_OK);
    tu_assert_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(crypto_sha256_parts(parts, 3, d), CRYPTO_OK);
    tu_assert_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(crypto_sha256(NULL, 0, d), CRYPTO_OK);
    tu_assert_hex(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* FIPS 180-2 B.2 (two-block message) */
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(crypto_sha256(m2, strlen(m2), d), CRYPTO_OK);
    tu_assert_hex(d, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_int_equal(crypto_sha256(NULL, 5, d), CRYPTO_E_INVALID);
}

static void test_hkdf_rfc5869(void **state)
{
    (void)state;
    uint8_t ikm[22], salt[13], info[10], okm[42];

    memset(ikm, 0x0b, sizeof(ikm));
    for (size_t i = 0; i < sizeof(salt); i++)
        salt[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof(info); i++)
        info[i] = (uint8_t)(0xf0 + i);

    /* RFC 5869 A.1 */
    assert_int_equal(crypto_hkdf_sha256(ikm, sizeof(ikm), salt, sizeof(salt), info, sizeof(info),
                                        okm, sizeof(okm)),
                     CRYPTO_OK);
    tu_assert_hex(okm, 42,
                  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887"
                  "185865");
    /* RFC 5869 A.3: zero-length salt and info */
    assert_int_equal(crypto_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, NULL, 0, okm, sizeof(okm)),
                     CRYPTO_OK);
    tu_assert_hex(okm, 42,
                  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b6"
                  "1a96c8");
    /* RFC 5869: L <= 255*HashLen */
    static uint8_t big[255 * 32 + 1];
    assert_int_equal(crypto_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, NULL, 0, big, sizeof(big)),
                     CRYPTO_E_INVALID);
    assert_int_equal(crypto_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, NULL, 0, big, 255 * 32),
                     CRYPTO_OK);
}

static void test_cmac_rfc4493(void **state)
{
    (void)state;
    size_t kl, ml;
    uint8_t *key = tu_hex("2b7e151628aed2a6abf7158809cf4f3c", &kl);
    uint8_t *msg = tu_hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
                          &ml);
    uint8_t mac[16];

    assert_int_equal(ml, 64);
    /* RFC 4493 §4 examples 1-4 (= NIST SP 800-38B D.1) */
    assert_int_equal(crypto_aes128_cmac(key, NULL, 0, mac), CRYPTO_OK);
    tu_assert_hex(mac, 16, "bb1d6929e95937287fa37d129b756746");
    assert_int_equal(crypto_aes128_cmac(key, msg, 16, mac), CRYPTO_OK);
    tu_assert_hex(mac, 16, "070a16b46b4d4144f79bdd9dd04a287c");
    assert_int_equal(crypto_aes128_cmac(key, msg, 40, mac), CRYPTO_OK);
    tu_assert_hex(mac, 16, "dfa66747de9ae63030ca32611497c827");
    assert_int_equal(crypto_aes128_cmac(key, msg, 64, mac), CRYPTO_OK);
    tu_assert_hex(mac, 16, "51f0bebf7e3b9d92fc49741779363cfe");
    free(key);
    free(msg);
}

/* quote-format §4.7: simulated REPORT key and report MAC. */
static void test_cmac_sgx_report_key_vector(void **state)
{
    (void)state;
    size_t dl, kl, cl;
    uint8_t *deriv = tu_hex("0300000000000000"
                            "0100000000000000"
                            "0300000000000000"
                            "00000000"
                            "5448495349534f574e455245504f4348"
                            "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
                            "4820f3376ae6b2f2034d3b7a4b48a778"
                            "0000"
                            "0000000000000000000000000000000000000000000000000000000000000000"
                            "0000000000000000000000000000000000000000000000000000000000000000"
                            "ff00ff00ff00ff00ff00ff00ff00ff00"
                            "00000000000000000000000000000000"
                            "0000",
                            &dl);
    uint8_t *base = tu_hex("ff00ff00ff00ff00ff00ff00ff00ff00", &kl);
    uint8_t *cpusvn = tu_hex("4820f3376ae6b2f2034d3b7a4b48a778", &cl);
    uint8_t key[16], mac[16], body[384];

    assert_int_equal(dl, 192);
    assert_int_equal(crypto_aes128_cmac(base, deriv, dl, key), CRYPTO_OK);
    tu_assert_hex(key, 16, "7b9550cdb15201787224ac1808358272");

    /* Report body (quote-format §1.3 offsets): cpu_svn @0, flags @48,
     * xfrm @56, mr_enclave @64, report_data @320. */
    memset(body, 0, sizeof(body));
    memcpy(body, cpusvn, 16);
    body[48] = 0x07;
    body[56] = 0x03;
    for (int i = 0; i < 32; i++)
        body[64 + i] = (uint8_t)i;
    memset(body + 320, 0x11, 64);
    assert_int_equal(crypto_aes128_cmac(key, body, sizeof(body), mac), CRYPTO_OK);
    tu_assert_hex(mac, 16, "6c07af1bf04a22be01bc55d22a21f468");
    free(deriv);
    free(base);
    free(cpusvn);
}

static void test_ct_equal_and_wipe(void **state)
{
    (void)state;
    uint8_t a[16], b[16];

    memset(a, 0x5a, sizeof(a));
    memcpy(b, a, sizeof(b));
    assert_true(crypto_ct_equal(a, b, sizeof(a)));
    b[15] ^= 1;
    assert_false(crypto_ct_equal(a, b, sizeof(a)));
    b[15] ^= 1;
    b[0] ^= 0x80;
    assert_false(crypto_ct_equal(a, b, sizeof(a)));
    assert_true(crypto_ct_equal(a, b, 0));

    crypto_wipe(a, sizeof(a));
    for (size_t i = 0; i < sizeof(a); i++)
        assert_int_equal(a[i], 0);
}

static void test_random(void **state)
{
    (void)state;
    uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};

    assert_int_equal(crypto_random(a, sizeof(a)), CRYPTO_OK);
    assert_int_equal(crypto_random(b, sizeof(b)), CRYPTO_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, zero, sizeof(a));
}

/* The real ISV signature of the dcap-qvl SGX sample: quote-format §1.4/§1.6. */
static void test_ecdsa_verify_real_quote(void **state)
{
    (void)state;
    size_t len;
    uint8_t *q = ts_read_vector("quotes/dcapqvl-sgx-v3/quote.bin", &len);
    crypto_p256_key *k = NULL;
    uint8_t pub[64];

    assert_int_equal(len, 4600);
    assert_int_equal(crypto_p256_verify_raw(q + 500, q, 432, q + 436), CRYPTO_OK);
    assert_int_equal(crypto_p256_from_pub(q + 500, &k), CRYPTO_OK);
    assert_int_equal(crypto_p256_pub(k, pub), CRYPTO_OK);
    assert_memory_equal(pub, q + 500, 64);
    assert_int_equal(crypto_p256_verify(k, q, 432, q + 436), CRYPTO_OK);
    /* signature_data_len (bytes 432..435) is not covered: §1.6 */
    assert_int_equal(crypto_p256_verify(k, q, 433, q + 436), CRYPTO_E_BAD_SIG);

    /* One bit flipped in the message, in r, in s. */
    q[100] ^= 0x01;
    assert_int_equal(crypto_p256_verify(k, q, 432, q + 436), CRYPTO_E_BAD_SIG);
    q[100] ^= 0x01;
    q[436] ^= 0x80;
    assert_int_equal(crypto_p256_verify(k, q, 432, q + 436), CRYPTO_E_BAD_SIG);
    q[436] ^= 0x80;
    q[436 + 63] ^= 0x01;
    assert_int_equal(crypto_p256_verify(k, q, 432, q + 436), CRYPTO_E_BAD_SIG);
    q[436 + 63] ^= 0x01;
    assert_int_equal(crypto_p256_verify(k, q, 432, q + 436), CRYPTO_OK);

    /* A public-only key cannot sign. */
    uint8_t sig[64];
    assert_int_equal(crypto_p256_sign(k, "x", 1, sig), CRYPTO_E_BAD_KEY);
    assert_int_equal(crypto_p256_priv(k, sig), CRYPTO_E_BAD_KEY);

    crypto_p256_free(k);
    free(q);
}

static void test_ecdsa_bad_inputs(void **state)
{
    (void)state;
    uint8_t pub[64], sig[64];
    crypto_p256_key *k = NULL;
    size_t n;
    uint8_t *gx = tu_hex(P256_GX, &n), *gy = tu_hex(P256_GY, &n);

    /* Off-curve point: G with Y+1. */
    memcpy(pub, gx, 32);
    memcpy(pub + 32, gy, 32);
    pub[63] ^= 0x01;
    assert_int_equal(crypto_p256_from_pub(pub, &k), CRYPTO_E_BAD_KEY);
    assert_null(k);
    memset(pub, 0, sizeof(pub));
    assert_int_equal(crypto_p256_from_pub(pub, &k), CRYPTO_E_BAD_KEY);

    /* r = s = 0 and r = s = n never verify. */
    memcpy(pub, gx, 32);
    memcpy(pub + 32, gy, 32);
    memset(sig, 0, sizeof(sig));
    assert_int_equal(crypto_p256_verify_raw(pub, "abc", 3, sig), CRYPTO_E_BAD_SIG);
    uint8_t *nn = tu_hex(P256_N, &n);
    memcpy(sig, nn, 32);
    memcpy(sig + 32, nn, 32);
    assert_int_equal(crypto_p256_verify_raw(pub, "abc", 3, sig), CRYPTO_E_BAD_SIG);
    free(nn);
    free(gx);
    free(gy);
}

static void test_ecdsa_sign_roundtrip(void **state)
{
    (void)state;
    crypto_p256_key *k = NULL, *pk = NULL, *other = NULL;
    uint8_t pub[64], sig[64], sig2[64];
    const char msg[] = "sgx-quote-helper";

    assert_int_equal(crypto_p256_generate(&k), CRYPTO_OK);
    assert_int_equal(crypto_p256_generate(&other), CRYPTO_OK);
    assert_int_equal(crypto_p256_pub(k, pub), CRYPTO_OK);
    assert_int_equal(crypto_p256_from_pub(pub, &pk), CRYPTO_OK);
    assert_int_equal(crypto_p256_sign(k, msg, sizeof(msg), sig), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify(pk, msg, sizeof(msg), sig), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify(k, msg, sizeof(msg), sig), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify_raw(pub, msg, sizeof(msg), sig), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify(other, msg, sizeof(msg), sig), CRYPTO_E_BAD_SIG);
    assert_int_equal(crypto_p256_verify(pk, msg, sizeof(msg) - 1, sig), CRYPTO_E_BAD_SIG);
    /* ECDSA is randomized: a second signature differs but also verifies. */
    assert_int_equal(crypto_p256_sign(k, msg, sizeof(msg), sig2), CRYPTO_OK);
    assert_memory_not_equal(sig, sig2, 64);
    assert_int_equal(crypto_p256_verify(pk, msg, sizeof(msg), sig2), CRYPTO_OK);
    /* Empty message. */
    assert_int_equal(crypto_p256_sign(k, NULL, 0, sig), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify(pk, NULL, 0, sig), CRYPTO_OK);

    /* EVP wrapping keeps both halves. */
    crypto_p256_key *w = NULL;
    assert_int_equal(crypto_p256_from_evp(crypto_p256_evp(k), &w), CRYPTO_OK);
    assert_int_equal(crypto_p256_sign(w, msg, sizeof(msg), sig), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify(pk, msg, sizeof(msg), sig), CRYPTO_OK);
    crypto_p256_free(w);
    assert_int_equal(crypto_p256_from_evp(crypto_p256_evp(pk), &w), CRYPTO_OK);
    assert_int_equal(crypto_p256_sign(w, msg, sizeof(msg), sig), CRYPTO_E_BAD_KEY);
    crypto_p256_free(w);

    crypto_p256_free(k);
    crypto_p256_free(pk);
    crypto_p256_free(other);
}

static void test_sig_raw_der(void **state)
{
    (void)state;
    uint8_t raw[64] = {0}, back[64], der[80];
    size_t der_len = 0, n;

    /* r = 0x7f (short, no padding needed); s = 0x80 00.. (high bit → 0x00 pad). */
    raw[31] = 0x7f;
    raw[32] = 0x80;
    assert_int_equal(crypto_sig_raw_to_der(raw, der, sizeof(der), &der_len), CRYPTO_OK);
    tu_assert_hex(der, der_len,
                  "3026"
                  "02017f"
                  "0221008000000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(crypto_sig_der_to_raw(der, der_len, back), CRYPTO_OK);
    assert_memory_equal(back, raw, 64);

    /* Both max-length: 72 bytes. */
    memset(raw, 0xff, sizeof(raw));
    assert_int_equal(crypto_sig_raw_to_der(raw, der, sizeof(der), &der_len), CRYPTO_OK);
    assert_int_equal(der_len, 72);
    assert_int_equal(der[0], 0x30);
    assert_int_equal(der[1], 70);
    assert_int_equal(crypto_sig_der_to_raw(der, der_len, back), CRYPTO_OK);
    assert_memory_equal(back, raw, 64);
    assert_int_equal(crypto_sig_raw_to_der(raw, der, 71, &der_len), CRYPTO_E_INVALID);

    /* Strictness: trailing byte, non-minimal INTEGER, negative INTEGER, 33-byte value. */
    uint8_t *bad;
    bad = tu_hex("3006020101020101" "00", &n);
    assert_int_equal(crypto_sig_der_to_raw(bad, n, back), CRYPTO_E_PARSE);
    free(bad);
    bad = tu_hex("3007020101020101", &n); /* length overruns */
    assert_int_equal(crypto_sig_der_to_raw(bad, n, back), CRYPTO_E_PARSE);
    free(bad);
    bad = tu_hex("30070202000102010" "1", &n);
    assert_int_equal(crypto_sig_der_to_raw(bad, n, back), CRYPTO_E_PARSE);
    free(bad);
    bad = tu_hex("3006020181020101", &n);
    assert_int_equal(crypto_sig_der_to_raw(bad, n, back), CRYPTO_E_PARSE);
    free(bad);
    bad = tu_hex("3027"
                 "0221010000000000000000000000000000000000000000000000000000000000000000"
                 "020101",
                 &n);
    assert_int_equal(crypto_sig_der_to_raw(bad, n, back), CRYPTO_E_PARSE);
    free(bad);
    bad = tu_hex("3006020101020101", &n);
    assert_int_equal(crypto_sig_der_to_raw(bad, n, back), CRYPTO_OK);
    assert_int_equal(back[31], 1);
    assert_int_equal(back[63], 1);
    free(bad);
}

/* crypto.h: scalar = (OS2IP(material) mod (n-1)) + 1. Edge inputs land on
 * multiples of G whose coordinates are curve constants. */
static void check_seed_gives(const char *material_hex, const char *want_priv, const char *x,
                             const char *y)
{
    size_t ml;
    uint8_t *m = tu_hex(material_hex, &ml);
    crypto_p256_key *k = NULL;
    uint8_t pub[64], priv[32];

    assert_int_equal(crypto_p256_from_seed(m, ml, &k), CRYPTO_OK);
    assert_int_equal(crypto_p256_priv(k, priv), CRYPTO_OK);
    tu_assert_hex(priv, 32, want_priv);
    assert_int_equal(crypto_p256_pub(k, pub), CRYPTO_OK);
    tu_assert_hex(pub, 32, x);
    tu_assert_hex(pub + 32, 32, y);
    crypto_p256_free(k);
    free(m);
}

#define ZERO32 "0000000000000000000000000000000000000000000000000000000000000000"
#define ONE32 "0000000000000000000000000000000000000000000000000000000000000001"
#define TWO32 "0000000000000000000000000000000000000000000000000000000000000002"

static void test_from_seed_known(void **state)
{
    (void)state;
    check_seed_gives(ZERO32, ONE32, P256_GX, P256_GY);              /* 0 → 1 → G */
    check_seed_gives(P256_N_MINUS_1, ONE32, P256_GX, P256_GY);      /* n-1 ≡ 0 → 1 */
    check_seed_gives(P256_N_MINUS_2, P256_N_MINUS_1, P256_GX, P256_NEG_GY); /* → n-1 → -G */
    check_seed_gives(ONE32, TWO32, P256_2GX, P256_2GY);             /* 1 → 2 → 2G */
    check_seed_gives(P256_N, TWO32, P256_2GX, P256_2GY);            /* n ≡ 1 → 2 */
    /* 64-byte material: 2^256 * 0 + 1 → 2G (leading zero bytes don't matter). */
    check_seed_gives(ZERO32 ONE32, TWO32, P256_2GX, P256_2GY);
}

static void test_from_seed_determinism(void **state)
{
    (void)state;
    uint8_t seed[48], pub1[64], pub2[64], pub3[64], sig[64];
    crypto_p256_key *a = NULL, *b = NULL, *c = NULL;

    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(crypto_p256_from_seed(seed, sizeof(seed), &a), CRYPTO_OK);
    assert_int_equal(crypto_p256_from_seed(seed, sizeof(seed), &b), CRYPTO_OK);
    seed[47] ^= 1;
    assert_int_equal(crypto_p256_from_seed(seed, sizeof(seed), &c), CRYPTO_OK);
    assert_int_equal(crypto_p256_pub(a, pub1), CRYPTO_OK);
    assert_int_equal(crypto_p256_pub(b, pub2), CRYPTO_OK);
    assert_int_equal(crypto_p256_pub(c, pub3), CRYPTO_OK);
    assert_memory_equal(pub1, pub2, 64);
    assert_memory_not_equal(pub1, pub3, 64);
    /* The derived key pair is consistent: signature checks against the raw public half. */
    assert_int_equal(crypto_p256_sign(a, "m", 1, sig), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify_raw(pub2, "m", 1, sig), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify_raw(pub3, "m", 1, sig), CRYPTO_E_BAD_SIG);

    /* Fewer than 32 bytes of material is refused. */
    crypto_p256_key *d = NULL;
    assert_int_equal(crypto_p256_from_seed(seed, 31, &d), CRYPTO_E_INVALID);
    assert_null(d);

    crypto_p256_free(a);
    crypto_p256_free(b);
    crypto_p256_free(c);
}

/* ---- RFC 6979 deterministic ECDSA ---- */

/* RFC 6979 Appendix A.2.5: NIST P-256 key, and the SHA-256 signatures of
 * "sample" and "test" (k, r, s as printed in the RFC). */
#define RFC6979_X "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
#define RFC6979_UX "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
#define RFC6979_UY "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
#define RFC6979_SAMPLE_K "a6e3c57dd01abe90086538398355dd4c3b17aa873382b0f24d6129493d8aad60"
#define RFC6979_SAMPLE_R "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
#define RFC6979_SAMPLE_S "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
#define RFC6979_TEST_K "d16b6ae827f17175e040871a1c7ec3500192c4c92677336ec2537acaee0008e0"
#define RFC6979_TEST_R "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
#define RFC6979_TEST_S "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"

/* A private key with exactly the scalar d (1 <= d <= n-1): from_seed maps
 * material m to (m mod (n-1)) + 1, so m = d - 1 gives d. */
static crypto_p256_key *key_with_scalar(const uint8_t d[32])
{
    uint8_t m[32];
    crypto_p256_key *k = NULL;

    memcpy(m, d, 32);
    for (int i = 31; i >= 0; i--)
        if (m[i]-- != 0)
            break;
    assert_int_equal(crypto_p256_from_seed(m, 32, &k), CRYPTO_OK);
    return k;
}

static crypto_p256_key *key_with_scalar_hex(const char *hex)
{
    uint8_t *d = tu_hex(hex, NULL);
    crypto_p256_key *k = key_with_scalar(d);
    free(d);
    return k;
}

static void check_rfc6979(crypto_p256_key *k, const char *msg, const char *want_k,
                          const char *want_r, const char *want_s)
{
    uint8_t h[32], nonce[32], sig[64], sig2[64], pub[64];
    char want_sig[129];

    assert_int_equal(crypto_sha256(msg, strlen(msg), h), CRYPTO_OK);
    assert_int_equal(crypto_p256_rfc6979_nonce(k, h, nonce), CRYPTO_OK);
    tu_assert_hex(nonce, 32, want_k);
    assert_int_equal(crypto_p256_sign_deterministic(k, msg, strlen(msg), sig), CRYPTO_OK);
    snprintf(want_sig, sizeof(want_sig), "%s%s", want_r, want_s);
    tu_assert_hex(sig, 64, want_sig);
    /* Again: same bytes; and it verifies under the RFC's public key. */
    assert_int_equal(crypto_p256_sign_deterministic(k, msg, strlen(msg), sig2), CRYPTO_OK);
    assert_memory_equal(sig, sig2, 64);
    assert_int_equal(crypto_p256_pub(k, pub), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify_raw(pub, msg, strlen(msg), sig), CRYPTO_OK);
}

static void test_rfc6979_p256_sha256_vectors(void **state)
{
    (void)state;
    crypto_p256_key *k = key_with_scalar_hex(RFC6979_X);
    uint8_t pub[64];

    assert_int_equal(crypto_p256_pub(k, pub), CRYPTO_OK);
    tu_assert_hex(pub, 32, RFC6979_UX);
    tu_assert_hex(pub + 32, 32, RFC6979_UY);
    check_rfc6979(k, "sample", RFC6979_SAMPLE_K, RFC6979_SAMPLE_R, RFC6979_SAMPLE_S);
    /* "test": s has a leading 0x01 byte, so fixed-width output is exercised. */
    check_rfc6979(k, "test", RFC6979_TEST_K, RFC6979_TEST_R, RFC6979_TEST_S);
    crypto_p256_free(k);
}

/* A digest >= n: bits2octets reduces it mod n before it seeds the DRBG
 * (RFC 6979 §2.3.4), so FF…FF and FF…FF − n give the same k. The r for FF…FF
 * comes from Python `cryptography` 48 (its OpenSSL 4.0, deterministic
 * signing, Prehashed SHA-256) with the A.2.5 key. */
static void test_rfc6979_digest_above_order(void **state)
{
    (void)state;
    static const char D_MINUS_N[] =
        "00000000ffffffff00000000000000004319055258e8617b0c46353d039cdaae";
    static const char R_FOR_FF[] =
        "1f2adbc54b88764c279f689fc9505959fc9e73e80dc20889a4e0be91865de75b";
    crypto_p256_key *k = key_with_scalar_hex(RFC6979_X);
    uint8_t ff[32], k1[32], k2[32], rpub[64];
    uint8_t *reduced = tu_hex(D_MINUS_N, NULL);

    memset(ff, 0xff, sizeof(ff));
    assert_int_equal(crypto_p256_rfc6979_nonce(k, ff, k1), CRYPTO_OK);
    assert_int_equal(crypto_p256_rfc6979_nonce(k, reduced, k2), CRYPTO_OK);
    assert_memory_equal(k1, k2, 32);
    /* r = x(kG) (here below n already). */
    crypto_p256_key *kg = key_with_scalar(k1);
    assert_int_equal(crypto_p256_pub(kg, rpub), CRYPTO_OK);
    tu_assert_hex(rpub, 32, R_FOR_FF);
    crypto_p256_free(kg);
    free(reduced);
    crypto_p256_free(k);
}

/* A second key and messages other than the RFC's, against Python
 * `cryptography` 48 (ECDSA(SHA256(), deterministic_signing=True)):
 * scalar 01 02 … 20, message bytes (7i + 3) mod 256 for i < 1000, and the
 * empty message. */
static void test_rfc6979_independent(void **state)
{
    (void)state;
    static const char X2[] = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    static const char PUB2[] =
        "515c3d6eb9e396b904d3feca7f54fdcd0cc1e997bf375dca515ad0a6c3b4035f"
        "4536be3a50f318fbf9a5475902a221502bef0d57e08c53b2cc0a56f17d9f9354";
    static const char SIG_LONG[] =
        "09ab31271c4fb9928f0bb9c17c56e8f40cb9641c85d9256aeebcdb7d8fc03f3a"
        "df6d894786dad3cd050e734e64f2aa991370d2643cc89bde3de6812980b2605c";
    static const char SIG_EMPTY[] =
        "df47019e04a8fc70aaf0b60046ec123cdea3f015b3b2c3bdcb2e69d42ce028bb"
        "48564f29fc34b222924af30fd6ae174b3262738fc4dbc8585aedb13f19d7cd24";
    crypto_p256_key *k = key_with_scalar_hex(X2), *rfc = key_with_scalar_hex(RFC6979_X);
    uint8_t msg[1000], pub[64], sig[64], other[64];

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(crypto_p256_pub(k, pub), CRYPTO_OK);
    tu_assert_hex(pub, 64, PUB2);
    assert_int_equal(crypto_p256_sign_deterministic(k, msg, sizeof(msg), sig), CRYPTO_OK);
    tu_assert_hex(sig, 64, SIG_LONG);
    assert_int_equal(crypto_p256_sign_deterministic(k, NULL, 0, sig), CRYPTO_OK);
    tu_assert_hex(sig, 64, SIG_EMPTY);

    /* One bit of message or key changes the signature. */
    assert_int_equal(crypto_p256_sign_deterministic(k, msg, sizeof(msg), sig), CRYPTO_OK);
    msg[500] ^= 1;
    assert_int_equal(crypto_p256_sign_deterministic(k, msg, sizeof(msg), other), CRYPTO_OK);
    assert_memory_not_equal(sig, other, 64);
    assert_int_equal(crypto_p256_verify_raw(pub, msg, sizeof(msg), other), CRYPTO_OK);
    assert_int_equal(crypto_p256_verify_raw(pub, msg, sizeof(msg), sig), CRYPTO_E_BAD_SIG);
    assert_int_equal(crypto_p256_sign_deterministic(rfc, msg, sizeof(msg), sig), CRYPTO_OK);
    assert_memory_not_equal(sig, other, 64);

    crypto_p256_free(rfc);
    crypto_p256_free(k);
}

static void test_rfc6979_bad_inputs(void **state)
{
    (void)state;
    crypto_p256_key *k = key_with_scalar_hex(RFC6979_X), *pk = NULL;
    uint8_t pub[64], sig[64], h[32] = {0};

    assert_int_equal(crypto_p256_pub(k, pub), CRYPTO_OK);
    assert_int_equal(crypto_p256_from_pub(pub, &pk), CRYPTO_OK);
    /* A public key cannot sign. */
    assert_int_equal(crypto_p256_sign_deterministic(pk, "m", 1, sig), CRYPTO_E_BAD_KEY);
    assert_int_equal(crypto_p256_rfc6979_nonce(pk, h, sig), CRYPTO_E_BAD_KEY);
    assert_int_equal(crypto_p256_sign_deterministic(NULL, "m", 1, sig), CRYPTO_E_INVALID);
    assert_int_equal(crypto_p256_sign_deterministic(k, NULL, 1, sig), CRYPTO_E_INVALID);
    assert_int_equal(crypto_p256_sign_deterministic(k, "m", 1, NULL), CRYPTO_E_INVALID);
    assert_int_equal(crypto_p256_rfc6979_nonce(k, NULL, sig), CRYPTO_E_INVALID);
    assert_int_equal(crypto_p256_rfc6979_nonce(k, h, NULL), CRYPTO_E_INVALID);
    crypto_p256_free(pk);
    crypto_p256_free(k);
}

static void test_hex(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0x0a, 0xff, 0x5c};
    char s[9];
    uint8_t out[8];
    size_t n = 0;

    crypto_hex_encode(in, sizeof(in), s);
    assert_string_equal(s, "000aff5c");
    assert_int_equal(crypto_hex_decode("000AfF5c", 8, out, 4, NULL), CRYPTO_OK);
    assert_memory_equal(out, in, 4);
    assert_int_equal(crypto_hex_decode("000aff5c", 8, out, 5, NULL), CRYPTO_E_INVALID);
    assert_int_equal(crypto_hex_decode("000aff5c", 8, out, 8, &n), CRYPTO_OK);
    assert_int_equal(n, 4);
    assert_int_equal(crypto_hex_decode("000aff5c", 8, out, 3, &n), CRYPTO_E_INVALID);
    assert_int_equal(crypto_hex_decode("000aff5", 7, out, 8, &n), CRYPTO_E_INVALID);
    assert_int_equal(crypto_hex_decode("0g", 2, out, 1, NULL), CRYPTO_E_INVALID);
    assert_int_equal(crypto_hex_decode(" 0", 2, out, 1, NULL), CRYPTO_E_INVALID);
    assert_int_equal(crypto_hex_decode("", 0, out, 8, &n), CRYPTO_OK);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_hkdf_rfc5869),
        cmocka_unit_test(test_cmac_rfc4493),
        cmocka_unit_test(test_cmac_sgx_report_key_vector),
        cmocka_unit_test(test_ct_equal_and_wipe),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_ecdsa_verify_real_quote),
        cmocka_unit_test(test_ecdsa_bad_inputs),
        cmocka_unit_test(test_ecdsa_sign_roundtrip),
        cmocka_unit_test(test_sig_raw_der),
        cmocka_unit_test(test_from_seed_known),
        cmocka_unit_test(test_from_seed_determinism),
        cmocka_unit_test(test_rfc6979_p256_sha256_vectors),
        cmocka_unit_test(test_rfc6979_digest_above_order),
        cmocka_unit_test(test_rfc6979_independent),
        cmocka_unit_test(test_rfc6979_bad_inputs),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
