/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backend selection and the simulated backend: --backend parsing, auto
 * detection, the hardware backend's clear failure without Intel's libraries, the ECDSA key id bytes
 * (aesm-protocol §6.4, checked against the spec's hex and the key id real
 * clients send in the recorded requests), and backend_sim: stable target
 * info and pub_key_id across reopen (no AESM 42 after a restart), quotes,
 * 47 for a bad MAC, 3 for a short buffer, 38 for a foreign key id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/test_support.h"
#include "backend/backend.h"
#include "backend/backend_impl.h"
#include "crypto/crypto.h"
#include "sim/sim.h"

static void test_kind_parse(void **state)
{
    backend_kind k = BACKEND_KIND_AUTO;
    (void)state;

    assert_int_equal(backend_kind_parse("sim", &k), 0);
    assert_int_equal(k, BACKEND_KIND_SIM);
    assert_int_equal(backend_kind_parse("hw", &k), 0);
    assert_int_equal(k, BACKEND_KIND_HW);
    assert_int_equal(backend_kind_parse("auto", &k), 0);
    assert_int_equal(k, BACKEND_KIND_AUTO);
    static const char *const bad[] = {"", "SIM", "hardware", "sim ", "simulated", "h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        k = BACKEND_KIND_SIM;
        assert_int_not_equal(backend_kind_parse(bad[i], &k), 0);
        assert_int_equal(k, BACKEND_KIND_SIM); /* untouched */
    }
    assert_int_not_equal(backend_kind_parse(NULL, &k), 0);
    assert_int_not_equal(backend_kind_parse("sim", NULL), 0);
}

static void test_default_key_id_matches_spec(void **state)
{
    sgx_att_key_id_ext_t kid;
    uint8_t want[256];
    (void)state;

    ts_spec_ecdsa_key_id(want);
    memset(&kid, 0xff, sizeof(kid));
    backend_default_ecdsa_key_id(&kid);
    assert_memory_equal(&kid, want, 256);
}

/* The key id Intel's client (vector 04) and Gramine (vector 11) send is
 * this same id: both put it right after "7a LEN 0a 80 02" (ANNOTATED.txt). */
static void test_default_key_id_matches_clients(void **state)
{
    static const struct {
        const char *name;
        size_t offset; /* prefix 4 + outer key/len 3 + field key/len 3 */
    } vec[] = {{"04_init_quote_ex_sizing", 10}, {"11_gramine_init_quote_ex", 10}};
    sgx_att_key_id_ext_t kid;
    (void)state;

    backend_default_ecdsa_key_id(&kid);
    for (size_t i = 0; i < 2; i++) {
        char rel[256];
        uint8_t *buf;
        size_t n;

        snprintf(rel, sizeof(rel), "aesm-requests/%s.bin", vec[i].name);
        buf = ts_read_vector(rel, &n);
        assert_true(n >= vec[i].offset + 256);
        assert_int_equal(buf[vec[i].offset - 3], 0x0a); /* att_key_id, field 1 */
        assert_memory_equal(buf + vec[i].offset, &kid, 256);
        free(buf);
    }
}

static void test_hw_fails_clearly(void **state)
{
    backend_config cfg = {.kind = BACKEND_KIND_HW};
    char err[512] = "x";
    (void)state;

    assert_null(backend_open(&cfg, err, sizeof(err)));
    assert_true(strlen(err) > 10);
    /* No Intel libraries on this machine: the sentence names what is missing. */
    assert_non_null(strstr(err, "libsgx_pce_logic"));
}

static void test_auto_kind(void **state)
{
    char path[] = "/tmp/sgxqh-fake-sgx-enclave-XXXXXX";
    int fd;
    (void)state;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(backend_auto_kind(path), BACKEND_KIND_HW);
    unlink(path);
    assert_int_equal(backend_auto_kind(path), BACKEND_KIND_SIM);
    assert_int_equal(backend_auto_kind(NULL), BACKEND_KIND_SIM);

    /* auto on this machine: whatever it picks, the result matches the
     * device's presence (hardware → hw's error or a backend). */
    backend_config cfg = {.kind = BACKEND_KIND_AUTO};
    char dir[] = "/tmp/sgxqh-backend-auto-XXXXXX";
    char err[512] = "";
    backend *b;
    assert_non_null(mkdtemp(dir));
    cfg.state_dir = dir;
    b = backend_open(&cfg, err, sizeof(err));
    if (access(BACKEND_SGX_DEVICE, F_OK) == 0) {
        if (b == NULL)
            assert_non_null(strstr(err, BACKEND_SGX_DEVICE));
        else
            assert_string_equal(b->ops->name, "hw");
    } else {
        assert_non_null(b);
        assert_string_equal(b->ops->name, "sim");
    }
    backend_close(b);
    ts_rmtree(dir);
}

static void test_sim_bad_config(void **state)
{
    backend_config cfg = {.kind = BACKEND_KIND_SIM, .sim_tcb_status = "Bogus"};
    char dir[] = "/tmp/sgxqh-backend-bad-XXXXXX";
    char err[512] = "";
    (void)state;

    assert_non_null(mkdtemp(dir));
    cfg.state_dir = dir;
    assert_null(backend_open(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "Bogus"));

    /* a state directory that cannot exist */
    cfg.sim_tcb_status = NULL;
    cfg.state_dir = "/proc/self/sgxqh-cannot-create/state";
    err[0] = '\0';
    assert_null(backend_open(&cfg, err, sizeof(err)));
    assert_true(strlen(err) > 0);

    assert_null(backend_open(NULL, err, sizeof(err)));
    ts_rmtree(dir);
}

/* ---- the simulated backend ---- */

typedef struct {
    char dir[64];
    backend *b;
} sim_fixture;

static int sim_setup(void **state)
{
    static sim_fixture fx;
    backend_config cfg = {.kind = BACKEND_KIND_SIM, .instance = "test-node"};
    char err[512] = "";

    snprintf(fx.dir, sizeof(fx.dir), "/tmp/sgxqh-backend-sim-XXXXXX");
    if (mkdtemp(fx.dir) == NULL)
        return -1;
    cfg.state_dir = fx.dir;
    fx.b = backend_open(&cfg, err, sizeof(err));
    if (fx.b == NULL) {
        fprintf(stderr, "backend_open: %s\n", err);
        return -1;
    }
    *state = &fx;
    return 0;
}

static int sim_teardown(void **state)
{
    sim_fixture *fx = *state;
    backend_close(fx->b);
    ts_rmtree(fx->dir);
    return 0;
}

static backend *reopen_sim(const char *dir)
{
    backend_config cfg = {.kind = BACKEND_KIND_SIM, .state_dir = dir, .instance = "test-node"};
    char err[512] = "";
    backend *b = backend_open(&cfg, err, sizeof(err));
    if (b == NULL)
        fail_msg("reopen: %s", err);
    return b;
}

static void test_sim_key_ids_and_init(void **state)
{
    sim_fixture *fx = *state;
    backend *b = fx->b;
    sgx_att_key_id_ext_t ids[BACKEND_MAX_KEY_IDS], kid;
    sgx_target_info_t ti, ti2;
    uint8_t pk[32], pk2[32], ak[64], want_pk[32];
    uint8_t auth[32];
    crypto_buf parts[2];

    assert_string_equal(b->ops->name, "sim");
    assert_true(b->ops->thread_safe);
    assert_non_null(backend_sim_platform(b));
    assert_int_equal(b->ops->health(b), AESM_SUCCESS);

    assert_int_equal(b->ops->key_ids(b, ids, BACKEND_MAX_KEY_IDS), 1);
    backend_default_ecdsa_key_id(&kid);
    assert_memory_equal(&ids[0], &kid, 256);
    assert_int_equal(b->ops->key_ids(b, ids, 0), 0);

    assert_int_equal(b->ops->init_quote(b, &kid, &ti, pk), AESM_SUCCESS);
    /* ECDSA_ID = SHA-256(attestation pub key ‖ auth data 00..1f), aesm §8.2 */
    sim_attestation_pub_key(backend_sim_platform(b), ak);
    for (int i = 0; i < 32; i++)
        auth[i] = (uint8_t)i;
    parts[0] = (crypto_buf){ak, 64};
    parts[1] = (crypto_buf){auth, 32};
    assert_int_equal(crypto_sha256_parts(parts, 2, want_pk), 0);
    assert_memory_equal(pk, want_pk, 32);
    /* the target info is a real one (not all zero) and QE3's own */
    sim_qe_target_info(backend_sim_platform(b), &ti2);
    assert_memory_equal(&ti, &ti2, sizeof(ti));
    assert_true(ti.attributes.flags & SGX_FLAGS_INITTED);

    /* idempotent */
    assert_int_equal(b->ops->init_quote(b, &kid, &ti2, pk2), AESM_SUCCESS);
    assert_memory_equal(&ti, &ti2, sizeof(ti));
    assert_memory_equal(pk, pk2, 32);

    /* a foreign key id → 38 */
    kid.base.algorithm_id = SGX_QL_ALG_ECDSA_P384;
    assert_int_equal(b->ops->init_quote(b, &kid, &ti2, pk2), AESM_UNSUPPORTED_ATT_KEY_ID);
    assert_int_equal(b->ops->init_quote(b, NULL, &ti2, pk2), AESM_UNSUPPORTED_ATT_KEY_ID);
}

static void make_app_report(backend *b, sgx_report_t *report)
{
    sgx_target_info_t ti;
    sim_enclave_identity id;
    sgx_att_key_id_ext_t kid;
    uint8_t pk[32];

    backend_default_ecdsa_key_id(&kid);
    assert_int_equal(b->ops->init_quote(b, &kid, &ti, pk), AESM_SUCCESS);
    sim_enclave_identity_default(&id);
    memset(id.mr_enclave, 0x3c, 32);
    memset(id.report_data, 0x5e, 64);
    assert_int_equal(sim_ereport(&id, &ti, report), 0);
}

static void test_sim_quote(void **state)
{
    sim_fixture *fx = *state;
    backend *b = fx->b;
    sgx_att_key_id_ext_t kid;
    sgx_report_t report;
    uint32_t size = 0, len = 0;
    uint8_t *out;

    backend_default_ecdsa_key_id(&kid);
    make_app_report(b, &report);
    assert_int_equal(b->ops->quote_size(b, &kid, &size), AESM_SUCCESS);
    /* quote-format / aesm §6.6: 1052 + cert data; type 5 is ≥ 500 bytes */
    assert_true(size >= 1052 + 500);
    out = calloc(1, size + 16);
    assert_non_null(out);

    assert_int_equal(b->ops->get_quote(b, &kid, &report, NULL, out, size + 16, &len), AESM_SUCCESS);
    assert_int_equal(len, size); /* GetQuoteSizeEx is exact */
    assert_int_equal(out[0] | out[1] << 8, 3);     /* version, aesm §6.6 */
    assert_int_equal(out[2] | out[3] << 8, 2);     /* att_key_type ECDSA-P256 */
    assert_memory_equal(out + 48, &report.body, 384);
    assert_int_equal(436 + (out[432] | out[433] << 8 | out[434] << 16 | (uint32_t)out[435] << 24), size);

    /* one byte short → 3 (aesm §8.4 step 2) */
    assert_int_equal(b->ops->get_quote(b, &kid, &report, NULL, out, size - 1, &len),
                     AESM_PARAMETER_ERROR);
    /* a MAC that does not verify → 47 (step 1) */
    report.mac[3] ^= 1;
    assert_int_equal(b->ops->get_quote(b, &kid, &report, NULL, out, size, &len), AESM_INVALID_REPORT);
    report.mac[3] ^= 1;
    /* foreign key id → 38 */
    kid.base.mrsigner[0] ^= 1;
    assert_int_equal(b->ops->get_quote(b, &kid, &report, NULL, out, size, &len),
                     AESM_UNSUPPORTED_ATT_KEY_ID);
    assert_int_equal(b->ops->quote_size(b, &kid, &size), AESM_UNSUPPORTED_ATT_KEY_ID);
    free(out);
}

/* The whole point of the seed: a restart gives the same QE target info and
 * pub_key_id, and a report made before it still gets a quote. */
static void test_sim_stable_across_reopen(void **state)
{
    sim_fixture *fx = *state;
    sgx_att_key_id_ext_t kid;
    sgx_target_info_t ti1, ti2;
    uint8_t pk1[32], pk2[32];
    sgx_report_t report;
    uint32_t size = 0, len = 0;
    uint8_t *out;
    backend *b2;

    backend_default_ecdsa_key_id(&kid);
    assert_int_equal(fx->b->ops->init_quote(fx->b, &kid, &ti1, pk1), AESM_SUCCESS);
    make_app_report(fx->b, &report);
    backend_close(fx->b);

    b2 = reopen_sim(fx->dir);
    fx->b = b2;
    /* no init first: quote_size must not be 42 after a restart */
    assert_int_equal(b2->ops->quote_size(b2, &kid, &size), AESM_SUCCESS);
    out = calloc(1, size);
    assert_non_null(out);
    assert_int_equal(b2->ops->get_quote(b2, &kid, &report, NULL, out, size, &len), AESM_SUCCESS);
    assert_int_equal(len, size);
    free(out);
    assert_int_equal(b2->ops->init_quote(b2, &kid, &ti2, pk2), AESM_SUCCESS);
    assert_memory_equal(&ti1, &ti2, sizeof(ti1));
    assert_memory_equal(pk1, pk2, 32);
}

static void test_sim_wrap_borrowed(void **state)
{
    sim_fixture *fx = *state;
    struct sim_platform *p = backend_sim_platform(fx->b);
    backend *w = backend_sim_wrap(p, false);
    sgx_att_key_id_ext_t kid;
    uint32_t a = 0, c = 0;

    assert_non_null(w);
    assert_ptr_equal(backend_sim_platform(w), p);
    backend_default_ecdsa_key_id(&kid);
    assert_int_equal(w->ops->quote_size(w, &kid, &a), AESM_SUCCESS);
    backend_close(w); /* borrowed: the platform stays open */
    assert_int_equal(fx->b->ops->quote_size(fx->b, &kid, &c), AESM_SUCCESS);
    assert_int_equal(a, c);
    assert_null(backend_sim_wrap(NULL, false));
    assert_null(backend_sim_platform(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_parse),
        cmocka_unit_test(test_default_key_id_matches_spec),
        cmocka_unit_test(test_default_key_id_matches_clients),
        cmocka_unit_test(test_hw_fails_clearly),
        cmocka_unit_test(test_auto_kind),
        cmocka_unit_test(test_sim_bad_config),
        cmocka_unit_test_setup_teardown(test_sim_key_ids_and_init, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_quote, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_stable_across_reopen, sim_setup, sim_teardown),
        cmocka_unit_test_setup_teardown(test_sim_wrap_borrowed, sim_setup, sim_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
