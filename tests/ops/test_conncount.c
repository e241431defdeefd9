/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ops/conncount: per-key shares with a total, a per-key cap and a reserve
 * only keys within their guaranteed amount may use — the rule the daemon's
 * connection slots and unread-reply bytes follow (docs/operations.md
 * "Multi-tenant limits"). Expected values are worked out by hand here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ops/conncount.h"

/* 17 keys filling a 1024/64 table (256 reserved for keys holding <= 4):
 * 12 fill the shared 768, the other 5 get 4 each, and a new key still
 * gets in; no key goes past 64. */
static void test_reserve_leaves_room(void **state)
{
    (void)state;
    conncount *t = conncount_new();
    assert_non_null(t);
    conncount_limits lim = {.total = 1024, .per_key = 64, .reserve = 256, .guaranteed = 4};
    char key[32];
    uint64_t refused_total = 0, refused_key = 0;
    for (int k = 0; k < 17; k++) {
        snprintf(key, sizeof key, "uid:%d", 5000 + k);
        for (int i = 0; i < 70; i++) {
            int rc = conncount_take_n(t, key, 1, &lim);
            refused_total += rc == CONNCOUNT_E_TOTAL;
            refused_key += rc == CONNCOUNT_E_KEY;
        }
    }
    assert_int_equal(conncount_total(t), 12 * 64 + 5 * 4);
    assert_int_equal(conncount_get(t, "uid:5000"), 64);
    assert_int_equal(conncount_get(t, "uid:5016"), 4);
    assert_int_equal(refused_key, 12 * 6);
    assert_int_equal(refused_total, 5 * 66);
    /* A newcomer: 4 in the reserve, not a 5th. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(conncount_take_n(t, "netns:42", 1, &lim), CONNCOUNT_OK);
    assert_int_equal(conncount_take_n(t, "netns:42", 1, &lim), CONNCOUNT_E_TOTAL);
    /* Giving back frees the shared part for anyone again. */
    conncount_give_n(t, "uid:5000", 64);
    assert_int_equal(conncount_get(t, "uid:5000"), 0);
    assert_int_equal(conncount_take_n(t, "netns:42", 1, &lim), CONNCOUNT_OK);
    conncount_free(t);
}

/* The total is hard, also for keys within their guarantee. */
static void test_total_is_hard(void **state)
{
    (void)state;
    conncount *t = conncount_new();
    conncount_limits lim = {.total = 8, .per_key = 0, .reserve = 4, .guaranteed = 2};
    char key[32];
    int taken = 0;
    for (int k = 0; k < 10; k++) {
        snprintf(key, sizeof key, "pod:%d", k);
        for (int i = 0; i < 3; i++)
            taken += conncount_take_n(t, key, 1, &lim) == CONNCOUNT_OK;
    }
    assert_int_equal(taken, 8);
    assert_int_equal(conncount_total(t), 8);
    conncount_free(t);
}

/* Amounts (bytes): a take never lands half; give clamps; NULL limits
 * always take; unknown keys and zero are harmless. */
static void test_amounts(void **state)
{
    (void)state;
    conncount *t = conncount_new();
    conncount_limits lim = {.total = 1000, .per_key = 300, .reserve = 0, .guaranteed = 0};
    assert_int_equal(conncount_take_n(t, "a", 200, &lim), CONNCOUNT_OK);
    assert_int_equal(conncount_take_n(t, "a", 101, &lim), CONNCOUNT_E_KEY);
    assert_int_equal(conncount_get(t, "a"), 200);
    assert_int_equal(conncount_take_n(t, "a", 500, NULL), CONNCOUNT_OK);
    assert_int_equal(conncount_get(t, "a"), 700);
    conncount_give_n(t, "a", 10000);
    assert_int_equal(conncount_get(t, "a"), 0);
    assert_int_equal(conncount_keys(t), 0);
    assert_int_equal(conncount_total(t), 0);
    conncount_give_n(t, "nobody", 5);
    assert_int_equal(conncount_take_n(t, "z", 0, &lim), CONNCOUNT_OK);
    assert_int_equal(conncount_keys(t), 0);
    char longkey[CONNCOUNT_KEY_MAX + 1];
    for (size_t i = 0; i < sizeof longkey - 1; i++)
        longkey[i] = 'k';
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(conncount_take_n(t, longkey, 1, NULL), CONNCOUNT_E_NOMEM);
    /* The old one-at-a-time interface on top. */
    assert_true(conncount_take(t, "b", 2));
    assert_true(conncount_take(t, "b", 2));
    assert_false(conncount_take(t, "b", 2));
    conncount_give(t, "b");
    assert_int_equal(conncount_get(t, "b"), 1);
    conncount_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_leaves_room),
        cmocka_unit_test(test_total_is_hard),
        cmocka_unit_test(test_amounts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
