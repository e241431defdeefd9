/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hostile clients against the real daemon (aesm §9.3 robustness). Each one
 * must be dropped without a reply and logged exactly once with its
 * SO_PEERCRED pid/uid, while a well-behaved client on the same daemon keeps
 * getting quotes — including while the hostile connection is still open.
 * A second daemon with --max-connections 2 checks the connection limit
 * (clients under another uid: the daemon's own is exempt).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define IO_TIMEOUT_MS 300

static itest_daemon g_daemon;
static itest_qex g_qex;
static sgx_target_info_t g_ti;
static char g_pid_field[32], g_uid_field[32];

static int setup(void **state)
{
    (void)state;
    itest_daemon_init(&g_daemon);
    const char *args[] = {"--io-timeout-ms", "300", NULL};
    if (itest_daemon_start(&g_daemon, args) != 0)
        return -1;
    if (itest_qex_open(&g_qex, g_daemon.socket) != 0)
        return -1;
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    size_t size = 32;
    uint8_t pkid[32];
    if (g_qex.init_quote_ex(&kid, &g_ti, &size, pkid) != SGX_SUCCESS)
        return -1;
    snprintf(g_pid_field, sizeof g_pid_field, " pid=%ld ", (long)getpid());
    snprintf(g_uid_field, sizeof g_uid_field, " uid=%lu ", (unsigned long)getuid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    itest_qex_close(&g_qex);
    return itest_daemon_cleanup(&g_daemon);
}

/* The hostile connection ends with EOF and not one byte of reply. */
static void assert_closed_without_reply(int fd, int timeout_ms)
{
    uint8_t *buf = NULL;
    ssize_t n = itest_read_to_eof(fd, timeout_ms, &buf);
    free(buf);
    assert_int_equal(n, 0);
}

/* Exactly one line for this reason, naming our pid and uid: event
 * "rejected" for the reasons the metrics count (limit, deadline, oversize,
 * acl, ratelimit), "drop" for the others. */
static void assert_dropped_once(const char *reason)
{
    char field[64];
    snprintf(field, sizeof field, "reason=%s", reason);
    bool counted = strcmp(reason, "oversize") == 0 || strcmp(reason, "deadline") == 0;
    const char *needles[] = {counted ? " rejected " : " drop ", field, g_pid_field, g_uid_field,
                             NULL};
    assert_true(itest_log_wait(&g_daemon, needles, 1, 3000));
    usleep(100 * 1000); /* a duplicate would show up by now */
    assert_int_equal(itest_log_count(&g_daemon, needles), 1);
}

static void test_oversize_length_prefix(void **state)
{
    (void)state;
    int fd = itest_connect(g_daemon.socket);
    assert_true(fd >= 0);
    uint8_t prefix[4];
    itest_put_le32(prefix, 64u * 1024 + 1); /* one byte over the 64 KiB default */
    assert_int_equal(itest_send_all(fd, prefix, sizeof prefix), 0);
    assert_closed_without_reply(fd, 3000);
    close(fd);
    assert_dropped_once("oversize");
    itest_qex_assert_quote(&g_qex, &g_ti);
}

static void test_truncated_body(void **state)
{
    (void)state;
    char *path = itest_vector_path("aesm-requests/07_get_quote_ex_no_qe_report_info.bin");
    uint8_t *req = NULL;
    size_t len = 0;
    assert_int_equal(itest_read_file(path, &req, &len), 0);
    free(path);
    int fd = itest_connect(g_daemon.socket);
    assert_true(fd >= 0);
    /* Half of the body, then no more writes. */
    assert_int_equal(itest_send_all(fd, req, len / 2), 0);
    itest_qex_assert_quote(&g_qex, &g_ti); /* while the half request sits there */
    shutdown(fd, SHUT_WR);
    assert_closed_without_reply(fd, 3000);
    close(fd);
    free(req);
    assert_dropped_once("truncated");
    itest_qex_assert_quote(&g_qex, &g_ti);
}

static void test_random_bytes(void **state)
{
    (void)state;
    /* A plausible prefix followed by noise (fixed LCG, so the run is
     * reproducible): not a protobuf Request the daemon knows, so the
     * connection closes without a byte (aesm §1.3). */
    uint8_t frame[4 + 200];
    itest_put_le32(frame, 200);
    uint32_t x = 0x2545f491u;
    for (size_t i = 4; i < sizeof frame; i++) {
        x = x * 1664525u + 1013904223u;
        frame[i] = (uint8_t)(x >> 24);
    }
    int fd = itest_connect(g_daemon.socket);
    assert_true(fd >= 0);
    assert_int_equal(itest_send_all(fd, frame, sizeof frame), 0);
    assert_closed_without_reply(fd, 3000);
    close(fd);
    const char *needles[] = {"request", "result=closed-without-reply", g_pid_field, NULL};
    assert_true(itest_log_wait(&g_daemon, needles, 1, 3000));
    assert_int_equal(itest_log_count(&g_daemon, needles), 1);
    itest_qex_assert_quote(&g_qex, &g_ti);

    /* Noise from the first byte: the prefix itself is garbage. */
    fd = itest_connect(g_daemon.socket);
    assert_true(fd >= 0);
    memset(frame, 0xa7, sizeof frame);
    assert_int_equal(itest_send_all(fd, frame, sizeof frame), 0);
    assert_closed_without_reply(fd, 3000);
    close(fd);
    itest_qex_assert_quote(&g_qex, &g_ti);
}

static void test_one_byte_then_stall(void **state)
{
    (void)state;
    int fd = itest_connect(g_daemon.socket);
    assert_true(fd >= 0);
    int64_t t0 = itest_now_ms();
    assert_int_equal(itest_send_all(fd, "\x0a", 1), 0);
    /* Others are served while this one stalls. */
    for (int i = 0; i < 5; i++)
        itest_qex_assert_quote(&g_qex, &g_ti);
    assert_closed_without_reply(fd, 5000);
    int64_t waited = itest_now_ms() - t0;
    close(fd);
    /* Dropped at the deadline: not before it, and not much after. */
    assert_true(waited >= IO_TIMEOUT_MS - 20);
    assert_true(waited < IO_TIMEOUT_MS + 2500);
    assert_dropped_once("deadline");
    itest_qex_assert_quote(&g_qex, &g_ti);
}

static void test_disconnect_before_answer(void **state)
{
    (void)state;
    /* A full, valid GetQuoteEx, then gone before the quote is made. */
    char *path = itest_vector_path("aesm-requests/12_gramine_get_quote_ex.bin");
    uint8_t *req = NULL;
    size_t len = 0;
    assert_int_equal(itest_read_file(path, &req, &len), 0);
    free(path);
    sgx_report_t report;
    itest_app_report(&g_ti, NULL, &report);
    memcpy(req + 11, &report, sizeof report);
    int fd = itest_connect(g_daemon.socket);
    assert_true(fd >= 0);
    /* Stop receiving first, then send and hang up: the daemon's reply
     * always meets a peer that is gone (EPIPE), however fast it answers.
     * close() alone races the daemon's answer. */
    assert_int_equal(shutdown(fd, SHUT_RD), 0);
    assert_int_equal(itest_send_all(fd, req, len), 0);
    close(fd);
    free(req);
    assert_dropped_once("peer-gone");
    itest_qex_assert_quote(&g_qex, &g_ti);
}

/* Connected with another effective uid (SO_PEERCRED takes the euid at
 * connect): as root in the daemon's own PID namespace this process is the
 * daemon's own probe, which no limit applies to. */
#define LIMITED_UID 4747
static int connect_as_other_uid(const char *socket_path)
{
    assert_int_equal(seteuid(LIMITED_UID), 0);
    int fd = itest_connect(socket_path);
    assert_int_equal(seteuid(0), 0);
    return fd;
}

/* --max-connections: the third concurrent client is closed at once. */
static void test_connection_limit(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    assert_int_equal(chmod(d.dir, 0755), 0);
    const char *args[] = {"--max-connections", "2", "--io-timeout-ms", "5000", NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);
    /* The start-up probe's connection may still be closing. */
    usleep(300 * 1000);
    int a = connect_as_other_uid(d.socket), b = connect_as_other_uid(d.socket);
    assert_true(a >= 0 && b >= 0);
    assert_int_equal(itest_send_all(a, "\x06", 1), 0); /* both mid-request */
    assert_int_equal(itest_send_all(b, "\x06", 1), 0);
    usleep(100 * 1000);
    int c = connect_as_other_uid(d.socket);
    assert_true(c >= 0);
    assert_closed_without_reply(c, 2000);
    close(c);
    const char *needles[] = {" rejected ", "reason=limit", g_pid_field, NULL};
    assert_true(itest_log_wait(&d, needles, 1, 3000));
    /* Slots come back once the two leave. */
    close(a);
    close(b);
    usleep(100 * 1000);
    char *p01 = itest_vector_path("aesm-requests/01_get_supported_att_key_id_num.bin");
    uint8_t *req = NULL, *resp = NULL;
    size_t len = 0, rlen = 0;
    assert_int_equal(itest_read_file(p01, &req, &len), 0);
    free(p01);
    assert_int_equal(itest_exchange(d.socket, req, len, &resp, &rlen), 0);
    assert_int_equal(rlen, 11); /* aesm §3.6: 7-byte body {0, num=1} + prefix */
    free(req);
    free(resp);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oversize_length_prefix),
        cmocka_unit_test(test_truncated_body),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_one_byte_then_stall),
        cmocka_unit_test(test_disconnect_before_answer),
        cmocka_unit_test(test_connection_limit),
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
