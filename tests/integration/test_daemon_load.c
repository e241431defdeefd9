/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Concurrency: 256 clients at once, 20 quotes each, all through our
 * libsgx_quote_ex.so.1, every one must succeed with a well-formed quote of
 * the announced size carrying that client's own report. This is the load
 * the event loop + worker pool design exists for (DESIGN.md "Operating
 * model"): nothing may be dropped, refused or mixed up between clients.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define N_CLIENTS 256
#define N_REQUESTS 20

static itest_daemon g_daemon;
static itest_qex g_qex;
static sgx_target_info_t g_ti;
static uint32_t g_qsize;
static pthread_barrier_t g_start;
static atomic_int g_ok, g_bad_status, g_bad_quote;
static atomic_int g_first_status;

static int setup(void **state)
{
    (void)state;
    itest_daemon_init(&g_daemon);
    /* Two event loops, whatever the machine has: both must serve. */
    const char *args[] = {"--workers", "2", NULL};
    if (itest_daemon_start(&g_daemon, args) != 0)
        return -1;
    return itest_qex_open(&g_qex, g_daemon.socket);
}

static int teardown(void **state)
{
    (void)state;
    itest_qex_close(&g_qex);
    return itest_daemon_cleanup(&g_daemon);
}

static void *client_thread(void *arg)
{
    int idx = (int)(intptr_t)arg;
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    /* Each client's report carries its own index, so a reply meant for
     * another client would be caught. */
    uint8_t rd[64] = {0};
    memcpy(rd, &idx, sizeof idx);
    sgx_report_t report;
    itest_app_report(&g_ti, rd, &report);
    uint8_t *quote = malloc(g_qsize);
    pthread_barrier_wait(&g_start);
    for (int i = 0; quote != NULL && i < N_REQUESTS; i++) {
        memset(quote, 0, g_qsize);
        sgx_status_t s = g_qex.get_quote_ex(&report, &kid, NULL, quote, g_qsize);
        if (s != SGX_SUCCESS) {
            int zero = 0;
            atomic_compare_exchange_strong(&g_first_status, &zero, (int)s);
            atomic_fetch_add(&g_bad_status, 1);
            continue;
        }
        if (itest_quote_len(quote, g_qsize) != g_qsize ||
            memcmp(quote + 48, &report.body, sizeof report.body) != 0) {
            atomic_fetch_add(&g_bad_quote, 1);
            continue;
        }
        atomic_fetch_add(&g_ok, 1);
    }
    free(quote);
    return NULL;
}

/* CPU time (clock ticks) of the daemon's threads: the main thread (loop
 * 0) and the one named "sqh-loop-1". */
static void loop_ticks(pid_t pid, long long *main_ticks, long long *loop1_ticks)
{
    char path[384];
    *main_ticks = *loop1_ticks = -1;
    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char comm[64] = "", stat[1024] = "";
        snprintf(path, sizeof path, "/proc/%ld/task/%s/comm", (long)pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(comm, sizeof comm, f) == NULL)
            comm[0] = '\0';
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';
        snprintf(path, sizeof path, "/proc/%ld/task/%s/stat", (long)pid, e->d_name);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(stat, sizeof stat, f) == NULL)
            stat[0] = '\0';
        fclose(f);
        /* Fields after the ")" that ends the name: state is 3rd, utime 14th. */
        const char *p = strrchr(stat, ')');
        unsigned long long ut = 0, st = 0;
        if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                                &ut, &st) != 2)
            continue;
        if (atol(e->d_name) == (long)pid)
            *main_ticks = (long long)(ut + st);
        else if (strcmp(comm, "sqh-loop-1") == 0)
            *loop1_ticks = (long long)(ut + st);
    }
    closedir(d);
}

static void test_256_clients_20_requests_each(void **state)
{
    (void)state;
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    size_t size = 32;
    uint8_t pkid[32];
    assert_int_equal(g_qex.init_quote_ex(&kid, &g_ti, &size, pkid), SGX_SUCCESS);
    assert_int_equal(g_qex.get_quote_size_ex(&kid, &g_qsize), SGX_SUCCESS);

    pthread_t th[N_CLIENTS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1024 * 1024);
    pthread_barrier_init(&g_start, NULL, N_CLIENTS + 1);
    for (int i = 0; i < N_CLIENTS; i++)
        assert_int_equal(pthread_create(&th[i], &attr, client_thread, (void *)(intptr_t)i), 0);
    struct timespec t0, t1;
    pthread_barrier_wait(&g_start);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N_CLIENTS; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_barrier_destroy(&g_start);
    pthread_attr_destroy(&attr);

    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "%d quotes in %.2f s (%.0f/s); bad status %d (first 0x%04x), bad quote %d\n",
            atomic_load(&g_ok), secs, atomic_load(&g_ok) / secs, atomic_load(&g_bad_status),
            (unsigned)atomic_load(&g_first_status), atomic_load(&g_bad_quote));
    assert_int_equal(atomic_load(&g_bad_status), 0);
    assert_int_equal(atomic_load(&g_bad_quote), 0);
    assert_int_equal(atomic_load(&g_ok), N_CLIENTS * N_REQUESTS);

    /* The daemon saw every one as a request, and dropped nobody. */
    const char *ok_lines[] = {"request", "op=GetQuoteEx", "result=AESM_SUCCESS", NULL};
    assert_true(itest_log_wait(&g_daemon, ok_lines, N_CLIENTS * N_REQUESTS, 5000));
    const char *drops[] = {" drop ", NULL};
    assert_int_equal(itest_log_count(&g_daemon, drops), 0);
    const char *rejected[] = {" rejected ", NULL};
    assert_int_equal(itest_log_count(&g_daemon, rejected), 0);

    /* The socket work ran on both loops, not on one (issue 14): each has
     * a real share of the CPU the two spent. */
    long long t_main, t_loop1;
    loop_ticks(g_daemon.pid, &t_main, &t_loop1);
    fprintf(stderr, "CPU ticks: main thread (loop 0) %lld, sqh-loop-1 %lld\n", t_main, t_loop1);
    assert_true(t_main >= 0 && t_loop1 >= 0);
    assert_true(t_main * 10 >= t_main + t_loop1 && t_loop1 * 10 >= t_main + t_loop1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_256_clients_20_requests_each),
    };
    /* Group teardown failures do not fail a cmocka run, so the daemon's
     * clean exit is checked here. */
    int failed = cmocka_run_group_tests(tests, setup, NULL);
    if (teardown(NULL) != 0) {
        fprintf(stderr, "[  FAILED  ] daemon teardown: see above\n");
        failed++;
    }
    return failed;
}
