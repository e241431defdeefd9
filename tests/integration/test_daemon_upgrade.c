/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Upgrades lose no request (issue 5 acceptance): client threads loop through
 * our libsgx_quote_ex.so.1 (mostly GetSupportedAttKeyIDNum, with InitQuoteEx,
 * GetQuoteSizeEx and real quotes mixed in) while the daemon is replaced 10
 * times by overlapping instances, as a Kubernetes rolling update with
 * maxSurge 1 / maxUnavailable 0 does: the new instance starts on the same
 * socket path (and state directory), then the old one gets SIGTERM. At
 * least 5,000 requests, 0 failures; after every hand-off the path still
 * names the new instance's socket (the old one never removes it); every old
 * instance exits 0; and the instances' reply counts add up to exactly the
 * requests made, so each was answered once.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define MIN_REQUESTS 5000
#define REPLACEMENTS 10
#define CLIENT_THREADS 2

static itest_qex g_qex;
static sgx_report_t g_report;
static atomic_bool g_stop;
static atomic_int g_ok, g_fail;
static atomic_int g_first_fail_status = -1;
static const char *_Atomic g_first_fail_op;

static int setup(void **state)
{
    (void)state;
    return itest_qex_open(&g_qex, "/nonexistent/aesm.socket");
}

static int teardown(void **state)
{
    (void)state;
    itest_qex_close(&g_qex);
    return 0;
}

static void note_result(const char *op, sgx_status_t s)
{
    if (s == SGX_SUCCESS) {
        atomic_fetch_add(&g_ok, 1);
        return;
    }
    if (atomic_fetch_add(&g_fail, 1) == 0) {
        atomic_store(&g_first_fail_status, (int)s);
        atomic_store(&g_first_fail_op, op);
    }
}

static void *client_thread(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    uint8_t quote[8192];
    while (!atomic_load(&g_stop)) {
        i++;
        if (i % 16 == 0) {
            note_result("GetQuoteEx",
                        g_qex.get_quote_ex(&g_report, &kid, NULL, quote, sizeof quote));
        } else if (i % 16 == 8) {
            sgx_target_info_t ti;
            uint8_t pk[32];
            size_t size = 32;
            note_result("InitQuoteEx", g_qex.init_quote_ex(&kid, &ti, &size, pk));
        } else if (i % 4 == 2) {
            uint32_t qs = 0;
            note_result("GetQuoteSizeEx", g_qex.get_quote_size_ex(&kid, &qs));
        } else {
            uint32_t num = 0;
            sgx_status_t s = g_qex.get_supported_att_key_id_num(&num);
            note_result("GetSupportedAttKeyIDNum", s == SGX_SUCCESS && num != 1
                                                       ? SGX_ERROR_UNEXPECTED
                                                       : s);
        }
    }
    return NULL;
}

static int done(void)
{
    return atomic_load(&g_ok) + atomic_load(&g_fail);
}

static void wait_requests(int n)
{
    for (int spins = 0; done() < n && spins < 120000; spins++)
        usleep(500);
}

/* "replies=N" from an instance's stop line. */
static long replies_of(const itest_daemon *d)
{
    char *log = itest_daemon_log(d);
    assert_non_null(log);
    const char *stop = strstr(log, " stop exit_code=0 ");
    assert_non_null(stop);
    const char *r = strstr(stop, " replies=");
    assert_non_null(r);
    long n = strtol(r + 9, NULL, 10);
    free(log);
    return n;
}

static void test_overlapping_replacements_lose_nothing(void **state)
{
    (void)state;
    char base[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/sqh-upgrade-XXXXXX", tmp != NULL ? tmp : "/tmp");
    assert_non_null(mkdtemp(base));
    char sock[320], state_dir[320];
    snprintf(sock, sizeof sock, "%s/run/aesm.socket", base);
    snprintf(state_dir, sizeof state_dir, "%s/state", base);
    setenv("SGX_AESM_ADDR", sock, 1);

    static itest_daemon d[REPLACEMENTS + 1];
    for (int i = 0; i <= REPLACEMENTS; i++) {
        itest_daemon_init(&d[i]);
        snprintf(d[i].socket, sizeof d[i].socket, "%s", sock);
        snprintf(d[i].state_dir, sizeof d[i].state_dir, "%s", state_dir);
    }
    assert_int_equal(itest_daemon_start(&d[0], NULL), 0);

    /* One report for the whole run: every instance shares the seed, so
     * the QE target info, and with it the report's target, never change. */
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    sgx_target_info_t ti;
    uint8_t pk[32];
    size_t size = 32;
    assert_int_equal(g_qex.init_quote_ex(&kid, &ti, &size, pk), SGX_SUCCESS);
    itest_app_report(&ti, NULL, &g_report);

    pthread_t th[CLIENT_THREADS];
    for (int i = 0; i < CLIENT_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, client_thread, (void *)(uintptr_t)(i * 7)),
                         0);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 1; i <= REPLACEMENTS; i++) {
        /* Spread the hand-offs over the run. */
        wait_requests(i * (MIN_REQUESTS / (REPLACEMENTS + 2)));
        assert_int_equal(itest_daemon_start(&d[i], NULL), 0); /* renamed over the path */
        struct stat mine;
        assert_int_equal(stat(sock, &mine), 0);
        int st = itest_daemon_stop(&d[i - 1], SIGTERM, 30000);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        struct stat now;
        assert_int_equal(stat(sock, &now), 0); /* the old one left it alone */
        assert_true(now.st_ino == mine.st_ino && now.st_dev == mine.st_dev);
    }
    /* Past the last hand-off, on to at least MIN_REQUESTS. */
    int after = done() + 200;
    wait_requests(after > MIN_REQUESTS ? after : MIN_REQUESTS);
    atomic_store(&g_stop, true);
    for (int i = 0; i < CLIENT_THREADS; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "%d requests (%d failed) across %d replacements in %.1f s\n", done(),
            atomic_load(&g_fail), REPLACEMENTS, secs);
    if (atomic_load(&g_fail) != 0)
        fprintf(stderr, "first failure: %s -> 0x%04x\n", atomic_load(&g_first_fail_op),
                (unsigned)atomic_load(&g_first_fail_status));
    assert_int_equal(atomic_load(&g_fail), 0);
    assert_true(atomic_load(&g_ok) >= MIN_REQUESTS);

    /* Each request was answered by exactly one instance (+1: the init). */
    assert_int_equal(itest_daemon_cleanup_keep(&d[REPLACEMENTS]), 0);
    long replies = 0;
    for (int i = 0; i <= REPLACEMENTS; i++) {
        long r = replies_of(&d[i]);
        assert_true(r > 0); /* every instance really served part of the loop */
        replies += r;
        assert_int_equal(itest_daemon_cleanup(&d[i]), 0);
    }
    assert_int_equal(replies, atomic_load(&g_ok) + 1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlapping_replacements_lose_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
