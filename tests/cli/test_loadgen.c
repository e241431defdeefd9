/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/loadgen.c, the load generator of `sgx-quote bench quote`, against a
 * scripted AF_UNIX server in this test: every request arrives byte for byte
 * on its own connection, the requested number of requests really are in
 * flight at once, and every way a response can go wrong is counted under
 * its own kind, never as a good quote. Frames are built here by hand
 * (4-byte little-endian length, aesm §2), not with src/wire.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench/loadgen.h"

#define MAX_BODY 64u

typedef enum {
    SRV_GOOD,     /* answer "GOOD" */
    SRV_BAD,      /* answer "BAD!" (the check rejects it) */
    SRV_EOF,      /* close without answering */
    SRV_OVERSIZE, /* announce MAX_BODY + 1 bytes */
    SRV_TRAILING, /* a good frame and one more byte in the same write */
    SRV_HOLD,     /* never answer; keep the connection open */
    SRV_BARRIER,  /* answer only once `barrier` requests are waiting at once */
} srv_mode;

typedef struct {
    srv_mode mode;
    int barrier;
    int lfd;
    char path[108];
    char dir[64];
    pthread_t th;
    volatile bool stop;
    /* results, read after join */
    size_t requests, mismatched;
    int held[512];
    int n_held;
} server;

static const uint8_t REQ[] = {6, 0, 0, 0, 'q', 'u', 'o', 't', 'e', '!'};

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static bool read_exact(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

static void answer(server *s, int fd)
{
    uint8_t out[16];
    size_t len = 0;
    switch (s->mode) {
    case SRV_GOOD:
    case SRV_BARRIER:
        put_le32(out, 4);
        memcpy(out + 4, "GOOD", 4);
        len = 8;
        break;
    case SRV_BAD:
        put_le32(out, 4);
        memcpy(out + 4, "BAD!", 4);
        len = 8;
        break;
    case SRV_OVERSIZE:
        put_le32(out, MAX_BODY + 1);
        len = 4;
        break;
    case SRV_TRAILING:
        put_le32(out, 4);
        memcpy(out + 4, "GOODx", 5);
        len = 9;
        break;
    case SRV_EOF:
    case SRV_HOLD:
        break;
    }
    if (len > 0 && write(fd, out, len) != (ssize_t)len)
        s->mismatched++;
    close(fd);
}

static void *server_main(void *arg)
{
    server *s = arg;
    int waiting[512];
    int n_waiting = 0;
    while (!s->stop) {
        struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
        if (poll(&pfd, 1, 20) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        uint8_t req[sizeof REQ];
        if (!read_exact(fd, req, sizeof req) || memcmp(req, REQ, sizeof REQ) != 0)
            s->mismatched++;
        s->requests++;
        if (s->mode == SRV_HOLD && s->n_held < 512) {
            s->held[s->n_held++] = fd;
        } else if (s->mode == SRV_BARRIER) {
            waiting[n_waiting++] = fd;
            if (n_waiting == s->barrier) {
                for (int i = 0; i < n_waiting; i++)
                    answer(s, waiting[i]);
                n_waiting = 0;
            }
        } else {
            answer(s, fd);
        }
    }
    for (int i = 0; i < n_waiting; i++)
        close(waiting[i]);
    return NULL;
}

static void server_start(server *s, srv_mode mode, int barrier)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->barrier = barrier;
    snprintf(s->dir, sizeof s->dir, "/tmp/sqh-loadgen-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->path, sizeof s->path, "%s/s", s->dir);
    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(s->lfd, 1024), 0);
    assert_int_equal(pthread_create(&s->th, NULL, server_main, s), 0);
}

static void server_stop(server *s)
{
    s->stop = true;
    pthread_join(s->th, NULL);
    for (int i = 0; i < s->n_held; i++)
        close(s->held[i]);
    close(s->lfd);
    unlink(s->path);
    rmdir(s->dir);
}

static int check_good(const uint8_t *body, size_t len, void *arg)
{
    (void)arg;
    return len == 4 && memcmp(body, "GOOD", 4) == 0 ? 0 : -1;
}

static loadgen_config config(const server *s, int in_flight, int threads, double seconds)
{
    loadgen_config c = {
        .socket_path = s->path,
        .request = REQ,
        .request_len = sizeof REQ,
        .max_response_body = MAX_BODY,
        .check = check_good,
        .in_flight = in_flight,
        .threads = threads,
        .seconds = seconds,
        .io_timeout_ms = 2000,
    };
    return c;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t others_failed(const loadgen_result *r, loadgen_fail except)
{
    size_t n = 0;
    for (int f = 0; f < LOADGEN_FAIL_KINDS; f++)
        n += f == (int)except ? 0 : r->failed[f];
    return n;
}

/* ---- tests ---- */

static void test_good_responses_counted_and_timed(void **state)
{
    (void)state;
    server s;
    server_start(&s, SRV_GOOD, 0);
    loadgen_config c = config(&s, 4, 2, 0.2);
    loadgen_result r;
    double t0 = now_s();
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_OK);
    double wall = now_s() - t0;
    server_stop(&s);
    assert_true(r.completed > 0);
    assert_int_equal(r.failed_total, 0);
    assert_int_equal(s.mismatched, 0);
    /* Every request the server saw was answered and counted. */
    assert_int_equal(s.requests, r.completed);
    for (size_t i = 1; i < r.completed; i++)
        assert_true(r.latency_ms[i - 1] <= r.latency_ms[i]);
    assert_true(r.latency_ms[0] > 0);
    assert_true(r.elapsed_s > 0 && r.elapsed_s <= wall);
    /* Bounded: new requests stop at 0.2 s; the rest drain at once. */
    assert_true(wall < 0.2 + 1.0);
    loadgen_result_free(&r);
}

/* max_requests caps the run at exactly that many requests, split over
 * the threads (51 over 2: 26 + 25), long before the 30 s would end it;
 * the server saw each once. */
static void test_max_requests_is_exact(void **state)
{
    (void)state;
    server s;
    server_start(&s, SRV_GOOD, 0);
    loadgen_config c = config(&s, 4, 2, 30.0);
    c.max_requests = 51;
    loadgen_result r;
    double t0 = now_s();
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_OK);
    double wall = now_s() - t0;
    server_stop(&s);
    assert_int_equal(r.completed + r.failed_total, 51);
    assert_int_equal(r.failed_total, 0);
    assert_int_equal(s.requests, 51);
    assert_true(wall < 20.0);
    loadgen_result_free(&r);

    /* Fewer requests than threads: the thread with no share starts none. */
    server_start(&s, SRV_GOOD, 0);
    c = config(&s, 4, 2, 30.0);
    c.max_requests = 1;
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_OK);
    server_stop(&s);
    assert_int_equal(r.completed, 1);
    assert_int_equal(s.requests, 1);
    loadgen_result_free(&r);
}

/* The server answers only when 8 requests wait at once, so any completed
 * request proves 8 were really in flight together, over 3 threads
 * (3 + 3 + 2). At the deadline some slots may stop before others, leaving
 * a last batch short of 8: those, and only those, time out. */
static void test_in_flight_really_concurrent(void **state)
{
    (void)state;
    server s;
    server_start(&s, SRV_BARRIER, 8);
    loadgen_config c = config(&s, 8, 3, 0.2);
    c.io_timeout_ms = 300;
    loadgen_result r;
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_OK);
    server_stop(&s);
    assert_true(r.completed >= 8);
    assert_int_equal(r.completed % 8, 0);
    assert_true(r.failed[LOADGEN_FAIL_TIMEOUT] < 8);
    assert_int_equal(others_failed(&r, LOADGEN_FAIL_TIMEOUT), 0);
    assert_int_equal(s.mismatched, 0);
    loadgen_result_free(&r);
}

/* With 7 in flight the barrier of 8 is never reached: all time out. */
static void test_fewer_in_flight_times_out(void **state)
{
    (void)state;
    server s;
    server_start(&s, SRV_BARRIER, 8);
    loadgen_config c = config(&s, 7, 1, 0.1);
    c.io_timeout_ms = 150;
    loadgen_result r;
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_OK);
    server_stop(&s);
    assert_int_equal(r.completed, 0);
    assert_int_equal(r.failed[LOADGEN_FAIL_TIMEOUT], 7);
    assert_int_equal(others_failed(&r, LOADGEN_FAIL_TIMEOUT), 0);
    loadgen_result_free(&r);
}

static void expect_only(srv_mode mode, loadgen_fail kind)
{
    server s;
    server_start(&s, mode, 0);
    loadgen_config c = config(&s, 3, 1, 0.1);
    loadgen_result r;
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_OK);
    server_stop(&s);
    assert_int_equal(r.completed, 0);
    assert_true(r.failed[kind] > 0);
    assert_int_equal(r.failed_total, r.failed[kind]);
    assert_int_equal(others_failed(&r, kind), 0);
    assert_int_equal(r.failed[kind], s.requests);
    loadgen_result_free(&r);
}

static void test_rejected_body_is_a_response_failure(void **state)
{
    (void)state;
    expect_only(SRV_BAD, LOADGEN_FAIL_RESPONSE);
}

static void test_eof_is_a_read_failure(void **state)
{
    (void)state;
    expect_only(SRV_EOF, LOADGEN_FAIL_READ);
}

static void test_oversize_prefix_is_a_frame_failure(void **state)
{
    (void)state;
    expect_only(SRV_OVERSIZE, LOADGEN_FAIL_FRAME);
}

static void test_bytes_after_the_frame_are_a_frame_failure(void **state)
{
    (void)state;
    expect_only(SRV_TRAILING, LOADGEN_FAIL_FRAME);
}

static void test_silent_server_times_out(void **state)
{
    (void)state;
    server s;
    server_start(&s, SRV_HOLD, 0);
    loadgen_config c = config(&s, 5, 2, 0.05);
    c.io_timeout_ms = 100;
    loadgen_result r;
    double t0 = now_s();
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_OK);
    double wall = now_s() - t0;
    server_stop(&s);
    assert_int_equal(r.completed, 0);
    /* The 5 first requests hang; new ones start only before 0.05 s. */
    assert_int_equal(r.failed[LOADGEN_FAIL_TIMEOUT], 5);
    assert_int_equal(r.failed_total, 5);
    assert_true(wall >= 0.1 && wall < 1.0);
    loadgen_result_free(&r);
}

static void test_no_server_is_a_connect_failure(void **state)
{
    (void)state;
    server s;
    memset(&s, 0, sizeof s);
    snprintf(s.path, sizeof s.path, "/tmp/sqh-loadgen-missing-%ld/s", (long)getpid());
    loadgen_config c = config(&s, 2, 1, 0.1);
    loadgen_result r;
    double t0 = now_s();
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_OK);
    assert_true(now_s() - t0 < 1.0);
    assert_int_equal(r.completed, 0);
    assert_true(r.failed[LOADGEN_FAIL_CONNECT] >= 2);
    assert_int_equal(others_failed(&r, LOADGEN_FAIL_CONNECT), 0);
    loadgen_result_free(&r);
}

static void test_invalid_config(void **state)
{
    (void)state;
    server s;
    memset(&s, 0, sizeof s);
    snprintf(s.path, sizeof s.path, "/tmp/x");
    loadgen_result r;
    loadgen_config c = config(&s, 1, 1, 0.1);
    c.in_flight = 0;
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_E_INVALID);
    c = config(&s, 1, 0, 0.1);
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_E_INVALID);
    c = config(&s, 1, 1, 0);
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_E_INVALID);
    c = config(&s, 1, 1, 0.1);
    c.request_len = 4; /* a prefix without a body */
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_E_INVALID);
    c = config(&s, 1, 1, 0.1);
    c.socket_path = NULL;
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_E_INVALID);
    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    c = config(&s, 1, 1, 0.1);
    c.socket_path = longp; /* longer than sun_path */
    assert_int_equal(loadgen_run(&c, &r), LOADGEN_E_INVALID);
    assert_int_equal(loadgen_run(NULL, &r), LOADGEN_E_INVALID);
    assert_string_equal(loadgen_strerror(LOADGEN_E_INVALID), "invalid load generator configuration");
    assert_string_equal(loadgen_fail_name(LOADGEN_FAIL_TIMEOUT), "timeout");
    assert_string_equal(loadgen_fail_name(LOADGEN_FAIL_KINDS), "unknown");
}

/* Nearest rank on the lower side: index floor((n - 1) p) of the sorted
 * samples. */
static void test_percentile(void **state)
{
    (void)state;
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = (double)(i + 1);
    assert_true(loadgen_percentile(v, 100, 0.50) == 50.0); /* v[49] */
    assert_true(loadgen_percentile(v, 100, 0.90) == 90.0); /* v[89] */
    assert_true(loadgen_percentile(v, 100, 0.99) == 99.0); /* v[98] */
    assert_true(loadgen_percentile(v, 100, 1.0) == 100.0);
    assert_true(loadgen_percentile(v, 1, 0.99) == 1.0);
    assert_true(loadgen_percentile(v, 0, 0.5) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_responses_counted_and_timed),
        cmocka_unit_test(test_max_requests_is_exact),
        cmocka_unit_test(test_in_flight_really_concurrent),
        cmocka_unit_test(test_fewer_in_flight_times_out),
        cmocka_unit_test(test_rejected_body_is_a_response_failure),
        cmocka_unit_test(test_eof_is_a_read_failure),
        cmocka_unit_test(test_oversize_prefix_is_a_frame_failure),
        cmocka_unit_test(test_bytes_after_the_frame_are_a_frame_failure),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_no_server_is_a_connect_failure),
        cmocka_unit_test(test_invalid_config),
        cmocka_unit_test(test_percentile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
