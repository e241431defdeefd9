/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seed handling and key derivation of the simulated platform (seed.c,
 * platform.c): creation (0600, atomic, state dir 0700), refusal of corrupt
 * seeds without touching them, determinism per seed+instance, and
 * known-answer keys computed independently (Python `cryptography`: HKDF-SHA256
 * with our labels, scalar = OS2IP mod (n-1) + 1).
 */
#include <dirent.h>
#include <pthread.h>

#include "sim_tutil.h"

#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "sgxqh/quote.h"
#include "sim/sim.h"

#define KAT_INSTANCE "test-node"
/* Seed 00 01 .. 1f, instance "test-node" (independent computation). */
static const char KAT_AK_PUB[] =
    "5c711d36271086710917926e3b8b7963cfb524fe23b0a8ec4a6927064769742b"
    "48629024d8197aa4ea53bb2f55eb9eabaf7f918a68b76196773a28087f474436";
static const char KAT_ROOT_PUB[] =
    "98adb5bb327ab280673f30606f55584ac06618673a833e92ba7994517f56795d"
    "9b4dcb4aea9cafb9382bfb9c186197158f36c6f6d77f96d62918df2b35b210e4";
static const char KAT_PCK_PUB[] =
    "1338c73d72c5324b14783d01c8a7e490e5428fce7ccaf216cd2edb6471df9890"
    "c65669ac424948cf317c28b4528d0e396de4afb15486eaf293dfa13d8a698450";
static const char KAT_QE_ID[] = "7b85688aeaeb10822d0bc8ebdc3f4131";
static const char KAT_PPID[] = "1834356a5fec0aa342fa9811fdaabe73";

static sim_options opts(const char *state_dir, const char *seed_file, const char *instance)
{
    sim_options o;
    memset(&o, 0, sizeof o);
    o.state_dir = state_dir;
    o.seed_file = seed_file;
    o.instance = instance;
    sim_tcb_config_default(&o.tcb);
    o.now = time(NULL);
    return o;
}

static sim_platform *open_ok(const sim_options *o)
{
    sim_platform *p = NULL;
    char err[512] = "";
    int rc = sim_platform_open(o, &p, err, sizeof err);
    if (rc != SIM_OK)
        fail_msg("sim_platform_open: %d %s", rc, err);
    assert_non_null(p);
    return p;
}

static void pem_pub(const char *pem, uint8_t pub[64])
{
    x509_cert *c = NULL;
    assert_int_equal(x509_cert_from_pem(pem, strlen(pem), &c), 0);
    assert_int_equal(x509_cert_pubkey_raw(c, pub), 0);
    x509_cert_free(c);
}

static mode_t file_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static int count_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, ".seed.", 6) == 0)
            n++;
    closedir(d);
    return n;
}

static void test_seed_created_0600(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *sd = tu_path(dir, "nested/state");
    char *seed = tu_path(sd, "seed");
    sim_options o = opts(sd, NULL, KAT_INSTANCE);
    sim_platform *p = open_ok(&o);

    assert_int_equal(file_mode(seed), 0600);
    assert_int_equal(file_mode(sd) & 0777, 0700);
    size_t len = 0;
    uint8_t *first = tu_read(seed, &len);
    assert_int_equal(len, 32);
    assert_int_equal(count_temp_files(sd), 0); /* the temp file was renamed, not left */
    uint8_t ak1[64], ak2[64];
    sim_attestation_pub_key(p, ak1);
    sim_platform_close(p);

    /* Second open loads the same seed (never re-keys). */
    p = open_ok(&o);
    sim_attestation_pub_key(p, ak2);
    assert_memory_equal(ak1, ak2, 64);
    uint8_t *second = tu_read(seed, &len);
    assert_int_equal(len, 32);
    assert_memory_equal(first, second, 32);
    sim_platform_close(p);
    free(first);
    free(second);
    free(seed);
    free(sd);
    tu_rmtree(dir);
}

/* Opening must fail with `expect`, name the file, and leave it untouched. */
static void expect_refused(const uint8_t *content, size_t len, mode_t mode, int expect)
{
    char *dir = tu_mkdtemp();
    char *seed = tu_path(dir, "seed");
    tu_write(seed, content, len, mode);
    sim_options o = opts(dir, NULL, KAT_INSTANCE);
    sim_platform *p = (sim_platform *)0x1;
    char err[512] = "";
    assert_int_equal(sim_platform_open(&o, &p, err, sizeof err), expect);
    assert_null(p);
    assert_non_null(strstr(err, seed));
    size_t after_len = 0;
    uint8_t *after = tu_read(seed, &after_len);
    assert_int_equal(after_len, len);
    if (len > 0)
        assert_memory_equal(after, content, len);
    assert_int_equal(file_mode(seed), mode);
    assert_int_equal(count_temp_files(dir), 0);
    free(after);
    free(seed);
    tu_rmtree(dir);
}

static void test_seed_wrong_size(void **state)
{
    (void)state;
    uint8_t buf[64];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(0xa0 + i);
    expect_refused(buf, 31, 0600, SIM_E_SEED_SIZE);
    expect_refused(buf, 33, 0600, SIM_E_SEED_SIZE);
    expect_refused(buf, 64, 0400, SIM_E_SEED_SIZE);
    expect_refused(buf, 0, 0600, SIM_E_SEED_SIZE);
}

static void test_seed_wrong_mode(void **state)
{
    (void)state;
    uint8_t buf[32];
    memset(buf, 0x5a, sizeof buf);
    expect_refused(buf, 32, 0644, SIM_E_SEED_MODE);
    expect_refused(buf, 32, 0640, SIM_E_SEED_MODE);
    expect_refused(buf, 32, 0604, SIM_E_SEED_MODE);
    expect_refused(buf, 32, 0620, SIM_E_SEED_MODE);
}

static void test_seed_not_a_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *seed = tu_path(dir, "seed");
    assert_int_equal(mkdir(seed, 0700), 0);
    sim_options o = opts(dir, NULL, KAT_INSTANCE);
    sim_platform *p = NULL;
    char err[512] = "";
    assert_int_equal(sim_platform_open(&o, &p, err, sizeof err), SIM_E_SEED_IO);
    assert_null(p);
    free(seed);
    tu_rmtree(dir);
}

static void test_state_dir_uncreatable(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *file = tu_path(dir, "plain-file");
    tu_write(file, "x", 1, 0600);
    char *sd = tu_path(file, "state");
    sim_options o = opts(sd, NULL, KAT_INSTANCE);
    sim_platform *p = NULL;
    char err[512] = "";
    assert_int_equal(sim_platform_open(&o, &p, err, sizeof err), SIM_E_STATE_DIR);
    assert_null(p);
    assert_non_null(strstr(err, sd));
    free(sd);
    free(file);
    tu_rmtree(dir);
}

static char *kat_seed_file(char *dir)
{
    char *seed = tu_path(dir, "secret-seed");
    uint8_t s[32];
    for (int i = 0; i < 32; i++)
        s[i] = (uint8_t)i;
    tu_write(seed, s, sizeof s, 0400);
    return seed;
}

static void test_known_answer_keys(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *seed = kat_seed_file(dir);
    sim_options o = opts(NULL, seed, KAT_INSTANCE);
    sim_platform *p = open_ok(&o);
    uint8_t got[64], expect[64], id[16], expect_id[16];

    sim_attestation_pub_key(p, got);
    tu_unhex(KAT_AK_PUB, expect, 64);
    assert_memory_equal(got, expect, 64);

    pem_pub(sim_root_pem(p), got);
    tu_unhex(KAT_ROOT_PUB, expect, 64);
    assert_memory_equal(got, expect, 64);

    pem_pub(sim_pck_pem(p), got);
    tu_unhex(KAT_PCK_PUB, expect, 64);
    assert_memory_equal(got, expect, 64);

    sim_qe_id(p, id);
    tu_unhex(KAT_QE_ID, expect_id, 16);
    assert_memory_equal(id, expect_id, 16);

    x509_cert *leaf = NULL;
    sgx_pck_ext ext;
    assert_int_equal(x509_cert_from_pem(sim_pck_pem(p), strlen(sim_pck_pem(p)), &leaf), 0);
    assert_int_equal(x509_cert_sgx_ext(leaf, &ext), 0);
    tu_unhex(KAT_PPID, expect_id, 16);
    assert_memory_equal(ext.ppid, expect_id, 16);
    x509_cert_free(leaf);

    /* pub_key_id = SHA-256(AK ‖ 00..1f) (aesm §8.2) */
    uint8_t buf[96], h[32], pkid[32];
    tu_unhex(KAT_AK_PUB, buf, 64);
    for (int i = 0; i < 32; i++)
        buf[64 + i] = (uint8_t)i;
    crypto_sha256(buf, sizeof buf, h);
    sim_qe_pub_key_id(p, pkid);
    assert_memory_equal(pkid, h, 32);

    sim_platform_close(p);
    /* The seed file given explicitly was only read. */
    assert_int_equal(file_mode(seed), 0400);
    free(seed);
    tu_rmtree(dir);
}

static void test_same_seed_same_platform(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *seed = kat_seed_file(dir);
    sim_options o = opts(NULL, seed, "node-1");
    sim_platform *a = open_ok(&o);
    o.now += 12345; /* a later restart */
    sim_platform *b = open_ok(&o);
    uint8_t ka[64], kb[64];
    sgx_target_info_t ta, tb;

    sim_attestation_pub_key(a, ka);
    sim_attestation_pub_key(b, kb);
    assert_memory_equal(ka, kb, 64);
    sim_qe_target_info(a, &ta);
    sim_qe_target_info(b, &tb);
    assert_memory_equal(&ta, &tb, sizeof ta);
    uint8_t ia[32], ib[32];
    sim_qe_pub_key_id(a, ia);
    sim_qe_pub_key_id(b, ib);
    assert_memory_equal(ia, ib, 32);
    sim_qe_id(a, ia);
    sim_qe_id(b, ib);
    assert_memory_equal(ia, ib, 16);
    pem_pub(sim_pck_pem(a), ka);
    pem_pub(sim_pck_pem(b), kb);
    assert_memory_equal(ka, kb, 64);
    /* Certificate fields are derived too (signatures are not: OpenSSL 3.0
     * ECDSA is randomized, docs/simulation.md). */
    x509_cert *ra = NULL, *rb = NULL;
    assert_int_equal(x509_cert_from_pem(sim_root_pem(a), strlen(sim_root_pem(a)), &ra), 0);
    assert_int_equal(x509_cert_from_pem(sim_root_pem(b), strlen(sim_root_pem(b)), &rb), 0);
    uint8_t sa[32], sb[32];
    size_t la = 0, lb = 0;
    assert_int_equal(x509_cert_serial(ra, sa, sizeof sa, &la), 0);
    assert_int_equal(x509_cert_serial(rb, sb, sizeof sb, &lb), 0);
    assert_int_equal(la, 20);
    assert_int_equal(lb, 20);
    assert_memory_equal(sa, sb, 20);
    assert_int_equal(sa[0] & 0x80, 0);
    time_t nba, naa, nbb, nab;
    assert_int_equal(x509_cert_validity(ra, &nba, &naa), 0);
    assert_int_equal(x509_cert_validity(rb, &nbb, &nab), 0);
    assert_true(nba == nbb && naa == nab);
    x509_cert_free(ra);
    x509_cert_free(rb);

    /* QE target info is what the QE advertises: non-debug, PROVISION_KEY. */
    assert_true((ta.attributes.flags & SGX_FLAGS_PROVISION_KEY) != 0);
    assert_true((ta.attributes.flags & SGX_FLAGS_DEBUG) == 0);

    sim_platform_close(a);
    sim_platform_close(b);
    free(seed);
    tu_rmtree(dir);
}

static void test_instance_changes_pck_not_root(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *seed = kat_seed_file(dir);
    sim_options oa = opts(NULL, seed, "node-a");
    sim_options ob = opts(NULL, seed, "node-b");
    sim_platform *a = open_ok(&oa);
    sim_platform *b = open_ok(&ob);
    uint8_t ka[64], kb[64];

    pem_pub(sim_pck_pem(a), ka);
    pem_pub(sim_pck_pem(b), kb);
    assert_memory_not_equal(ka, kb, 64);
    sim_attestation_pub_key(a, ka);
    sim_attestation_pub_key(b, kb);
    assert_memory_not_equal(ka, kb, 64);
    uint8_t qa[16], qb[16];
    sim_qe_id(a, qa);
    sim_qe_id(b, qb);
    assert_memory_not_equal(qa, qb, 16);

    pem_pub(sim_root_pem(a), ka);
    pem_pub(sim_root_pem(b), kb);
    assert_memory_equal(ka, kb, 64);

    /* Each node's PCK chains to the shared root. */
    x509_cert *root = NULL, *leaf_b = NULL;
    assert_int_equal(x509_cert_from_pem(sim_root_pem(a), strlen(sim_root_pem(a)), &root), 0);
    assert_int_equal(x509_cert_from_pem(sim_pck_pem(b), strlen(sim_pck_pem(b)), &leaf_b), 0);
    char cn[256];
    assert_int_equal(x509_cert_issuer_cn(leaf_b, cn, sizeof cn), 0);
    assert_non_null(strstr(cn, "SGX PCK Platform CA"));
    x509_cert_free(root);
    x509_cert_free(leaf_b);

    sim_platform_close(a);
    sim_platform_close(b);
    free(seed);
    tu_rmtree(dir);
}

static void test_default_instance_is_hostname(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    sim_options o = opts(dir, NULL, NULL);
    sim_platform *p = open_ok(&o);
    char host[256];
    assert_int_equal(gethostname(host, sizeof host), 0);
    host[255] = '\0';
    if (host[0] != '\0')
        assert_string_equal(sim_instance(p), host);
    sim_platform_close(p);
    tu_rmtree(dir);
}

typedef struct {
    sim_options o;
    uint8_t ak[64];
    int rc;
} race_arg;

static void *race_open(void *v)
{
    race_arg *r = v;
    sim_platform *p = NULL;
    r->rc = sim_platform_open(&r->o, &p, NULL, 0);
    if (r->rc == SIM_OK)
        sim_attestation_pub_key(p, r->ak);
    sim_platform_close(p);
    return NULL;
}

/* Several processes starting at once on an empty state dir must all end
 * up with the one seed that won (no-replace rename). */
static void test_concurrent_first_start(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    race_arg r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        r[i].o = opts(dir, NULL, "racer");
        assert_int_equal(pthread_create(&t[i], NULL, race_open, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r[i].rc, SIM_OK);
        assert_memory_equal(r[i].ak, r[0].ak, 64);
    }
    assert_int_equal(count_temp_files(dir), 0);
    tu_rmtree(dir);
}

static char *find_cache(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char *found = NULL;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "pki-v1-", 7) == 0 && strstr(e->d_name, ".pem") != NULL &&
            strlen(e->d_name) == 7 + 16 + 4)
            found = tu_path(dir, e->d_name);
    closedir(d);
    return found;
}

/* Certificate bytes are kept in the state dir, so the root a verifier was
 * given stays byte-identical across restarts (QVL compares roots by bytes). */
static void test_certificates_stable_across_restarts(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    sim_options o = opts(dir, NULL, "stable");
    sim_platform *a = open_ok(&o);
    char *root_a = strdup(sim_root_pem(a)), *pck_a = strdup(sim_pck_pem(a));
    sim_platform_close(a);
    char *cache = find_cache(dir);
    assert_non_null(cache);

    o.now += 3600;
    sim_platform *b = open_ok(&o);
    assert_string_equal(sim_root_pem(b), root_a);
    assert_string_equal(sim_pck_pem(b), pck_a);
    sim_platform_close(b);

    /* A different TCB changes the leaf, never the root. */
    assert_int_equal(sim_tcb_config_apply(&o.tcb, "pcesvn=9", NULL, 0), SIM_OK);
    b = open_ok(&o);
    assert_string_equal(sim_root_pem(b), root_a);
    assert_string_not_equal(sim_pck_pem(b), pck_a);
    x509_cert *leaf = NULL;
    sgx_pck_ext ext;
    assert_int_equal(x509_cert_from_pem(sim_pck_pem(b), strlen(sim_pck_pem(b)), &leaf), 0);
    assert_int_equal(x509_cert_sgx_ext(leaf, &ext), 0);
    assert_int_equal(ext.pcesvn, 9);
    x509_cert_free(leaf);
    sim_platform_close(b);

    /* A cache holding another seed's certificates is not trusted. */
    char *other = tu_mkdtemp();
    sim_options oo = opts(other, NULL, "stable");
    sim_platform *c = open_ok(&oo);
    char *foreign = find_cache(other);
    size_t flen = 0;
    uint8_t *fbytes = tu_read(foreign, &flen);
    tu_write(cache, fbytes, flen, 0644);
    sim_platform_close(c);
    sim_options od = opts(dir, NULL, "stable");
    b = open_ok(&od);
    uint8_t k1[64], k2[64];
    pem_pub(sim_root_pem(b), k1);
    pem_pub(root_a, k2);
    assert_memory_equal(k1, k2, 64);
    sim_platform_close(b);

    /* Garbage in the cache is ignored too. */
    tu_write(cache, "not a certificate", 17, 0644);
    b = open_ok(&od);
    pem_pub(sim_root_pem(b), k1);
    assert_memory_equal(k1, k2, 64);
    sim_platform_close(b);

    free(fbytes);
    free(foreign);
    tu_rmtree(other);
    free(cache);
    free(root_a);
    free(pck_a);
    tu_rmtree(dir);
}

static void test_default_state_dir(void **state)
{
    (void)state;
    char buf[512];
    setenv("SGXQH_SIM_STATE_DIR", "/some/where", 1);
    assert_string_equal(sim_default_state_dir(buf, sizeof buf), "/some/where");
    unsetenv("SGXQH_SIM_STATE_DIR");
    if (geteuid() != 0) {
        setenv("XDG_STATE_HOME", "/xdg", 1);
        assert_string_equal(sim_default_state_dir(buf, sizeof buf), "/xdg/sgx-quote-helper");
        unsetenv("XDG_STATE_HOME");
    } else {
        assert_string_equal(sim_default_state_dir(buf, sizeof buf),
                            "/var/lib/sgx-quote-helper");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_created_0600),
        cmocka_unit_test(test_seed_wrong_size),
        cmocka_unit_test(test_seed_wrong_mode),
        cmocka_unit_test(test_seed_not_a_file),
        cmocka_unit_test(test_state_dir_uncreatable),
        cmocka_unit_test(test_known_answer_keys),
        cmocka_unit_test(test_same_seed_same_platform),
        cmocka_unit_test(test_instance_changes_pck_not_root),
        cmocka_unit_test(test_default_instance_is_hostname),
        cmocka_unit_test(test_concurrent_first_start),
        cmocka_unit_test(test_certificates_stable_across_restarts),
        cmocka_unit_test(test_default_state_dir),
    };
    return cmocka_run_group_tests_name("sim_seed", tests, NULL, NULL);
}
