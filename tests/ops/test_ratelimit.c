/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratelimit.c: token buckets under a fake clock. Expected counts follow
 * from the bucket arithmetic by hand (rate r/s refills r tokens per second
 * up to burst), never from the implementation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ops/ratelimit.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static ratelimit *make(double rate, double burst, size_t max_keys)
{
    ratelimit_config cfg = {rate, burst, max_keys};
    int err = -99;
    ratelimit *rl = ratelimit_new(&cfg, fake_clock, NULL, &err);
    assert_int_equal(err, RATELIMIT_OK);
    assert_non_null(rl);
    return rl;
}

static int take_n(ratelimit *rl, const char *key, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += ratelimit_take(rl, key) ? 1 : 0;
    return ok;
}

static void test_burst_then_refill(void **state)
{
    (void)state;
    fake_now = 1000 * SEC;
    ratelimit *rl = make(10, 5, 16);
    assert_int_equal(take_n(rl, "uid:1000", 8), 5); /* burst 5 */
    fake_now += 100 * MS;                          /* 10/s * 0.1 s = 1 token */
    assert_int_equal(take_n(rl, "uid:1000", 3), 1);
    fake_now += 99 * MS; /* 0.99 tokens: not yet */
    assert_false(ratelimit_take(rl, "uid:1000"));
    fake_now += 1 * MS; /* the remaining 0.01 arrives */
    assert_true(ratelimit_take(rl, "uid:1000"));
    fake_now += 60 * SEC; /* refill caps at burst, not 600 */
    assert_int_equal(take_n(rl, "uid:1000", 20), 5);
    ratelimit_free(rl);
}

static void test_fractional_rate(void **state)
{
    (void)state;
    fake_now = 0;
    ratelimit *rl = make(0.5, 1, 4); /* one request every 2 s */
    assert_true(ratelimit_take(rl, "k"));
    fake_now += 1999 * MS;
    assert_false(ratelimit_take(rl, "k"));
    fake_now += 1 * MS;
    assert_true(ratelimit_take(rl, "k"));
    ratelimit_free(rl);
}

static void test_keys_are_independent(void **state)
{
    (void)state;
    fake_now = 5 * SEC;
    ratelimit *rl = make(1, 2, 16);
    assert_int_equal(take_n(rl, "uid:1", 5), 2);
    assert_int_equal(take_n(rl, "uid:2", 5), 2);
    assert_int_equal(take_n(rl, "pod:05b3ee07-a2bd-47e7-9599-7961201f20dd", 5), 2);
    assert_int_equal(ratelimit_key_count(rl), 3);
    ratelimit_free(rl);
}

static void test_off_allows_everything(void **state)
{
    (void)state;
    ratelimit_config cfg;
    ratelimit_config_default(&cfg);
    assert_true(cfg.rate == 0);
    int err;
    ratelimit *rl = ratelimit_new(&cfg, fake_clock, NULL, &err);
    assert_non_null(rl);
    assert_int_equal(take_n(rl, "uid:1", 10000), 10000);
    assert_int_equal(ratelimit_key_count(rl), 0);
    ratelimit_free(rl);
    assert_true(ratelimit_take(NULL, "x")); /* no limiter configured */
}

/* max_keys bounds the table; the least recently used key goes first. */
static void test_bounded_lru(void **state)
{
    (void)state;
    fake_now = 0;
    ratelimit *rl = make(1, 2, 4);
    const char *keys[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        fake_now += 10 * MS;
        assert_true(ratelimit_take(rl, keys[i]));
        assert_true(ratelimit_take(rl, keys[i])); /* now empty */
    }
    fake_now += 10 * MS;
    assert_true(ratelimit_take(rl, "e")); /* evicts "a" (oldest, not full) */
    assert_int_equal(ratelimit_key_count(rl), 4);
    assert_int_equal(ratelimit_evictions(rl), 1);
    /* "b" kept its empty bucket (only ~0.03 tokens refilled). */
    assert_false(ratelimit_take(rl, "b"));
    /* "a" was forgotten: it starts again with a full bucket of 2, evicting
     * the next least recently used key ("c"). */
    assert_int_equal(take_n(rl, "a", 3), 2);
    assert_int_equal(ratelimit_evictions(rl), 2);
    assert_int_equal(ratelimit_key_count(rl), 4);
    for (int i = 0; i < 1000; i++) {
        char k[16];
        snprintf(k, sizeof k, "flood%d", i);
        (void)ratelimit_take(rl, k);
    }
    assert_int_equal(ratelimit_key_count(rl), 4);
    ratelimit_free(rl);
}

/* A key whose bucket has refilled is evicted before an older, still
 * limited one: forgetting a full bucket changes nothing. */
static void test_evicts_full_bucket_first(void **state)
{
    (void)state;
    fake_now = 0;
    ratelimit *rl = make(1, 3, 2);
    assert_int_equal(take_n(rl, "x", 3), 3); /* x empty at t=0, full again at t=3 s */
    fake_now = 100 * MS;
    assert_true(ratelimit_take(rl, "y")); /* y: 2 of 3 left, full at t=1.1 s */
    fake_now = 1500 * MS;
    assert_true(ratelimit_take(rl, "z")); /* table full: y (full) goes, not x (LRU) */
    assert_int_equal(ratelimit_evictions(rl), 1);
    /* x kept its state: 1.5 tokens at t=1.5 s -> one take, then empty. */
    assert_int_equal(take_n(rl, "x", 3), 1);
    ratelimit_free(rl);
}

static void test_reconfigure(void **state)
{
    (void)state;
    fake_now = 0;
    ratelimit *rl = make(1, 10, 8);
    assert_int_equal(take_n(rl, "a", 2), 2); /* a: 8 left */
    fake_now = 1 * SEC;
    assert_true(ratelimit_take(rl, "b")); /* b: 9 left, most recent */
    ratelimit_config cfg = {100, 3, 8};
    assert_int_equal(ratelimit_reconfigure(rl, &cfg), RATELIMIT_OK);
    /* a had 9 tokens at t=1 (8 + 1 s * 1/s), clamped to the new burst of 3. */
    assert_int_equal(take_n(rl, "a", 10), 3);
    fake_now += 10 * MS; /* new rate: 100/s * 10 ms = 1 token */
    assert_int_equal(take_n(rl, "a", 10), 1);

    /* Shrinking the table keeps the most recently used key. */
    ratelimit_config small = {100, 3, 1};
    assert_int_equal(ratelimit_reconfigure(rl, &small), RATELIMIT_OK);
    assert_int_equal(ratelimit_key_count(rl), 1);
    assert_false(ratelimit_take(rl, "a")); /* "a" survived, still empty */
    assert_int_equal(ratelimit_evictions(rl), 1); /* "b" dropped */

    ratelimit_config bad = {-1, 3, 8};
    assert_int_equal(ratelimit_reconfigure(rl, &bad), RATELIMIT_E_CONFIG);
    assert_int_equal(ratelimit_key_count(rl), 1);
    ratelimit_free(rl);
}

static void test_config_and_keys(void **state)
{
    (void)state;
    ratelimit_config c = {10, 0.5, 16};
    assert_int_equal(ratelimit_config_check(&c), RATELIMIT_E_CONFIG); /* burst < 1 */
    c = (ratelimit_config){2e6, 10, 16};
    assert_int_equal(ratelimit_config_check(&c), RATELIMIT_E_CONFIG);
    c = (ratelimit_config){10, 10, 0};
    assert_int_equal(ratelimit_config_check(&c), RATELIMIT_E_CONFIG);
    c = (ratelimit_config){NAN, 10, 16};
    assert_int_equal(ratelimit_config_check(&c), RATELIMIT_E_CONFIG);
    c = (ratelimit_config){10, 10, 16};
    assert_int_equal(ratelimit_config_check(&c), RATELIMIT_OK);
    int err = 0;
    c.max_keys = 0;
    assert_null(ratelimit_new(&c, NULL, NULL, &err));
    assert_int_equal(err, RATELIMIT_E_CONFIG);

    char k[RATELIMIT_KEY_MAX];
    assert_int_equal(ratelimit_key_uid(k, sizeof k, 4294967294u), RATELIMIT_OK);
    assert_string_equal(k, "uid:4294967294");
    assert_int_equal(ratelimit_key_pod(k, sizeof k, "05b3ee07-a2bd-47e7-9599-7961201f20dd"),
                     RATELIMIT_OK);
    assert_string_equal(k, "pod:05b3ee07-a2bd-47e7-9599-7961201f20dd");
    assert_int_equal(ratelimit_key_pod(k, sizeof k, ""), RATELIMIT_E_INVALID_ARG);
    assert_int_equal(ratelimit_key_uid(k, 6, 1000), RATELIMIT_E_INVALID_ARG);
}

/* Oversized and empty keys share one bucket rather than being unlimited. */
static void test_odd_keys(void **state)
{
    (void)state;
    fake_now = 0;
    ratelimit *rl = make(1, 2, 8);
    char longkey[RATELIMIT_KEY_MAX + 10];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_true(ratelimit_take(rl, longkey));
    assert_true(ratelimit_take(rl, ""));
    assert_false(ratelimit_take(rl, NULL));
    ratelimit_free(rl);
}

/* Real clock, many threads, one key, negligible refill: exactly burst pass. */
typedef struct {
    ratelimit *rl;
    int allowed;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    for (int i = 0; i < 500; i++)
        a->allowed += ratelimit_take(a->rl, "uid:7") ? 1 : 0;
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    ratelimit_config cfg = {0.000001, 300, 16};
    int err;
    ratelimit *rl = ratelimit_new(&cfg, NULL, NULL, &err);
    assert_non_null(rl);
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){rl, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += args[i].allowed;
    }
    assert_int_equal(total, 300);
    ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refill),
        cmocka_unit_test(test_fractional_rate),
        cmocka_unit_test(test_keys_are_independent),
        cmocka_unit_test(test_off_allows_everything),
        cmocka_unit_test(test_bounded_lru),
        cmocka_unit_test(test_evicts_full_bucket_first),
        cmocka_unit_test(test_reconfigure),
        cmocka_unit_test(test_config_and_keys),
        cmocka_unit_test(test_odd_keys),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
