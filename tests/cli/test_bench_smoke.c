/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote bench quote` runs end to end against the real daemon it
 * starts ($SGXQH_BUILD_DIR/src/daemon/sgx-quote-helperd): it exits 0, every
 * quote in the table is good (errors 0), and it prints its measurements,
 * CPU accounting and the three goal-ratio lines. Deliberately no threshold
 * on any number: a shared machine's speed is not a test result.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/test_support.h"

extern char **environ;

typedef struct {
    int status; /* exit code, or -1 if not a normal exit */
    char *out;
} run_result;

static char g_out[256];

static const char *build_path(const char *rel)
{
    static char path[2][1024];
    static int which;
    const char *b = getenv("SGXQH_BUILD_DIR");
    assert_non_null(b);
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", b, rel);
    return path[which];
}

/* Runs `sgx-quote bench quote --daemon D ARGS...` (NULL-terminated). */
static run_result run_bench(const char *first, ...)
{
    const char *argv[24];
    size_t argc = 0;
    argv[argc++] = build_path("src/cli/sgx-quote");
    argv[argc++] = "bench";
    argv[argc++] = "quote";
    argv[argc++] = "--daemon";
    argv[argc++] = build_path("src/daemon/sgx-quote-helperd");
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        assert_true(argc < 23);
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;

    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0), 0);
    assert_int_equal(
        posix_spawn_file_actions_addopen(&fa, 1, g_out, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    run_result r = {.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1};
    r.out = (char *)ts_read_file(g_out, NULL);
    return r;
}

/* The table row for `clients`: quotes/s > 0, errors, and whether the
 * daemon CPU column holds a number. */
static void expect_row(const char *out, int clients, bool daemon_cpu_known)
{
    char key[32];
    snprintf(key, sizeof key, "\n%8d ", clients);
    const char *row = strstr(out, key);
    if (row == NULL)
        fail_msg("no table row for %d clients in:\n%s", clients, out);
    int c = 0;
    double qps = 0, p50 = 0, p90 = 0, p99 = 0;
    unsigned long errors = 99;
    char dcpu[32], lcpu[32];
    assert_int_equal(sscanf(row + 1, "%d %lf %lf %lf %lf %lu %31s %31s", &c, &qps, &p50, &p90,
                            &p99, &errors, dcpu, lcpu),
                     8);
    assert_int_equal(c, clients);
    assert_true(qps > 0);
    assert_true(p50 > 0 && p50 <= p90 && p90 <= p99);
    assert_int_equal(errors, 0);
    assert_true(strtod(lcpu, NULL) > 0);
    if (daemon_cpu_known)
        assert_true(strtod(dcpu, NULL) > 0);
}

static void expect_common(const char *out)
{
    assert_non_null(strstr(out, "machine: "));
    assert_non_null(strstr(out, "P-256 signing (crypto_p256_sign over 432 bytes): "));
    assert_non_null(strstr(out, "in-process quotes (sim_get_quote): "));
    assert_non_null(strstr(out, "\n  throughput / signing rate    "));
    assert_non_null(strstr(out, "\n  p99 latency                  "));
    assert_non_null(strstr(out, "\n  out-of-process / in-process  "));
    assert_non_null(strstr(out, "\nwhere the CPU goes at "));
}

/* The command from the task: one point (1 client), no 64-client point, so
 * the ratio lines are there without a verdict. */
static void test_one_point(void **state)
{
    (void)state;
    run_result r = run_bench("--seconds", "0.2", "--points", "1", NULL);
    if (r.status != 0)
        fail_msg("exit %d:\n%s", r.status, r.out);
    expect_common(r.out);
    expect_row(r.out, 1, true);
    assert_null(strstr(r.out, "\n       8 "));
    assert_non_null(strstr(r.out, "no verdict"));
    assert_null(strstr(r.out, "goals met:"));
    free(r.out);
}

/* At the goal's 64 clients the verdicts are printed, whatever they are. */
static void test_goal_point_epoll_two_threads(void **state)
{
    (void)state;
    run_result r = run_bench("--seconds", "0.2", "--clients", "64", "--loadgen-threads", "2",
                             NULL);
    if (r.status != 0)
        fail_msg("exit %d:\n%s", r.status, r.out);
    expect_common(r.out);
    expect_row(r.out, 64, true);
    assert_non_null(strstr(r.out, "load generator: epoll, 2 thread(s)"));
    assert_non_null(strstr(r.out, "goals at 64 clients:"));
    assert_non_null(strstr(r.out, "goals met: "));
    const char *t = strstr(r.out, "\n  throughput / signing rate    ");
    assert_true(strstr(t, "meets goal") != NULL || strstr(t, "BELOW GOAL") != NULL);
    free(r.out);
}

/* --clients-mode both: the table with one thread per client, then with
 * epoll, and the ratio lines for each. */
static void test_both_modes(void **state)
{
    (void)state;
    run_result r = run_bench("--seconds", "0.2", "--clients", "8", "--clients-mode", "both",
                             NULL);
    if (r.status != 0)
        fail_msg("exit %d:\n%s", r.status, r.out);
    expect_common(r.out);
    const char *threads = strstr(r.out, "load generator: one thread per client");
    const char *epoll = strstr(r.out, "load generator: epoll, 1 thread(s)");
    assert_non_null(threads);
    assert_non_null(epoll);
    assert_true(threads < epoll);
    expect_row(threads, 8, true);
    expect_row(epoll, 8, true);
    assert_non_null(strstr(r.out, "no verdict), load generator one thread per client:"));
    assert_non_null(strstr(r.out, "no verdict), load generator epoll:"));
    free(r.out);
}

static void test_bad_flags_exit_2(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"--clients-mode", "fork"}, {"--points", "0"},     {"--seconds", "0"},
        {"--loadgen-threads", "0"}, {"--clients", "1,,x"}, {"stray", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_result r = run_bench(bad[i][0], bad[i][1], NULL);
        if (r.status != 2)
            fail_msg("%s %s: exit %d", bad[i][0], bad[i][1] ? bad[i][1] : "", r.status);
        free(r.out);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_out, sizeof g_out, "/tmp/sqh-bench-smoke-%ld.out", (long)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_out);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_point),
        cmocka_unit_test(test_goal_point_epoll_two_threads),
        cmocka_unit_test(test_both_modes),
        cmocka_unit_test(test_bad_flags_exit_2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
