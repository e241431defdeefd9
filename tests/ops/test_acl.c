/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acl.c: the --allow-uid/--allow-gid list syntax and the allow/deny rule
 * (uid in the uid list OR gid in the gid list; no lists = open).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ops/acl.h"

static void test_parse_lists(void **state)
{
    (void)state;
    uint32_t ids[8];
    size_t n = 99;
    assert_int_equal(acl_parse_ids("1000,1001", ids, 8, &n), ACL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 1000);
    assert_int_equal(ids[1], 1001);

    assert_int_equal(acl_parse_ids(" 0 , 65532,\t4294967294 ", ids, 8, &n), ACL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], 0);
    assert_int_equal(ids[1], 65532);
    assert_int_equal(ids[2], 4294967294u);

    assert_int_equal(acl_parse_ids("", ids, 8, &n), ACL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(acl_parse_ids("   ", ids, 8, &n), ACL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(acl_parse_ids(NULL, ids, 8, &n), ACL_OK);
    assert_int_equal(n, 0);
}

static void test_parse_errors(void **state)
{
    (void)state;
    uint32_t ids[4];
    size_t n;
    static const char *const bad[] = {
        "1000,", ",1000", "1000,,1001", "-1", "+5", "10a", "abc", "1000 1001", "0x10", "1;2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 7;
        assert_int_equal(acl_parse_ids(bad[i], ids, 4, &n), ACL_E_SYNTAX);
        assert_int_equal(n, 0);
    }
    /* (uid_t)-1 means "no change" to the kernel: never an identity. */
    assert_int_equal(acl_parse_ids("4294967295", ids, 4, &n), ACL_E_RANGE);
    assert_int_equal(acl_parse_ids("99999999999999999999999", ids, 4, &n), ACL_E_RANGE);
    assert_int_equal(acl_parse_ids("1,2,3,4,5", ids, 4, &n), ACL_E_TOO_MANY);
    assert_int_equal(n, 0);
    assert_int_equal(acl_parse_ids("1", ids, 4, NULL), ACL_E_INVALID_ARG);

    char longlist[ACL_LIST_TEXT_MAX + 8];
    memset(longlist, ' ', sizeof longlist - 1);
    longlist[sizeof longlist - 1] = '\0';
    assert_int_not_equal(acl_parse_ids(longlist, ids, 4, &n), ACL_OK);
    assert_string_not_equal(acl_strerror(ACL_E_SYNTAX), acl_strerror(ACL_E_RANGE));
}

static void test_open_by_default(void **state)
{
    (void)state;
    ops_acl acl;
    assert_int_equal(acl_init(&acl, NULL, ""), ACL_OK);
    assert_true(acl_is_open(&acl));
    assert_true(acl_allows(&acl, 0, 0));
    assert_true(acl_allows(&acl, 12345, 54321));
    /* Adding our own uid to an open ACL must not close it. */
    assert_int_equal(acl_add_uid(&acl, 65532), ACL_OK);
    assert_true(acl_is_open(&acl));
    assert_true(acl_allows(&acl, 1, 1));
}

static void test_uid_or_gid(void **state)
{
    (void)state;
    ops_acl acl;
    assert_int_equal(acl_init(&acl, "1000,1001", "2000"), ACL_OK);
    assert_false(acl_is_open(&acl));
    assert_true(acl_allows(&acl, 1000, 5));
    assert_true(acl_allows(&acl, 1001, 5));
    assert_true(acl_allows(&acl, 7, 2000));
    assert_false(acl_allows(&acl, 1002, 1000)); /* a gid equal to an allowed uid is not enough */
    assert_false(acl_allows(&acl, 0, 0));       /* root is not special */

    assert_int_equal(acl_init(&acl, NULL, "2000"), ACL_OK);
    assert_false(acl_allows(&acl, 1000, 1000));
    assert_true(acl_allows(&acl, 1000, 2000));

    assert_int_equal(acl_add_uid(&acl, 65532), ACL_OK);
    assert_true(acl_allows(&acl, 65532, 65532));
    assert_int_equal(acl_add_uid(&acl, 65532), ACL_OK);
    assert_int_equal(acl.n_uids, 1);
}

static void test_init_error_leaves_open_marker(void **state)
{
    (void)state;
    ops_acl acl;
    assert_int_equal(acl_init(&acl, "1000", "x"), ACL_E_SYNTAX);
    assert_int_equal(acl.n_uids, 0);
    assert_int_equal(acl.n_gids, 0);
    assert_int_equal(acl_init(NULL, "1", "2"), ACL_E_INVALID_ARG);
}

static void test_full_list(void **state)
{
    (void)state;
    char list[ACL_MAX_IDS * 6 + 1];
    size_t off = 0;
    for (int i = 0; i < ACL_MAX_IDS; i++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%d", i ? "," : "", 100 + i);
    ops_acl acl;
    assert_int_equal(acl_init(&acl, list, NULL), ACL_OK);
    assert_int_equal(acl.n_uids, ACL_MAX_IDS);
    assert_true(acl_allows(&acl, 100 + ACL_MAX_IDS - 1, 0));
    assert_false(acl_allows(&acl, 100 + ACL_MAX_IDS, 0));
    assert_int_equal(acl_add_uid(&acl, 1), ACL_E_TOO_MANY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_lists),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_open_by_default),
        cmocka_unit_test(test_uid_or_gid),
        cmocka_unit_test(test_init_error_leaves_open_marker),
        cmocka_unit_test(test_full_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
