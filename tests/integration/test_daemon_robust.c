/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The project rule "no input crashes the daemon, grows its memory without
 * bound, or blocks other clients", against the real daemon, one hole per
 * test (each failed before its fix):
 *   - idle HTTP connections cannot take /healthz away (per-address limit,
 *     short idle timeout, more connections in all);
 *   - one uid holding many connections cannot lock out another uid
 *     (--max-connections-per-peer, counted as peer_limit);
 *   - the daemon's own uid passes the ACL only from its own PID namespace;
 *   - a stderr nobody reads does not stall quotes or /healthz (lines are
 *     dropped and counted), and repeated rejections are logged once per
 *     second with a count of the rest;
 *   - half-sent requests cannot grow memory (16 KiB default cap; buffers
 *     grow as bytes arrive, checked with a request sent in pieces);
 *   - requests that need no backend do not wait behind slow backend calls;
 *   - --backend auto falling back to simulation says so loudly;
 *   - --max-buf-size stops at 64 KiB, and 64 KiB itself works.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../ops/promparse.h"
#include "harness.h"
#include "sgxqh/aesm_error.h"
#include "wire/wire.h"

#define HOG_UID 4343
#define OTHER_UID 4242

static itest_qex g_qex;

static int setup(void **state)
{
    (void)state;
    /* Hundreds of client sockets at once. */
    return itest_root_setup("test_daemon_robust", 8192, &g_qex);
}

static int teardown(void **state)
{
    (void)state;
    itest_qex_close(&g_qex);
    return 0;
}

/* One recorded request; returns the response frame length (0: closed
 * without a reply, -1: no answer within timeout_ms). */
static long exchange_vector(const char *socket_path, const char *vector, int timeout_ms,
                            Aesm__Response **out)
{
    size_t len = 0;
    uint8_t *req = itest_request_vector(vector, &len);
    int fd = itest_connect(socket_path);
    assert_true(fd >= 0);
    assert_int_equal(itest_send_all(fd, req, len), 0);
    uint8_t *resp = NULL;
    ssize_t n = itest_read_to_eof(fd, timeout_ms, &resp);
    close(fd);
    free(req);
    if (out != NULL) {
        *out = NULL;
        if (n > 4)
            assert_int_equal(wire_response_decode(resp + 4, (size_t)n - 4, out), WIRE_OK);
    }
    free(resp);
    return (long)n;
}

/* A full quote through the library. */
static void assert_quote_works(const char *socket_path)
{
    setenv("SGX_AESM_ADDR", socket_path, 1);
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    sgx_target_info_t ti;
    size_t size = 32;
    uint8_t pk[32];
    assert_int_equal(g_qex.init_quote_ex(&kid, &ti, &size, pk), SGX_SUCCESS);
    itest_qex_assert_quote(&g_qex, &ti);
}

static int free_tcp_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* ---- 1. HTTP: idle connections do not take /healthz away ------------------ */

static void test_idle_http_connections_keep_healthz(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    int port = itest_daemon_start_http(&d, NULL);
    assert_true(port > 0);

    /* 40 half-open connections from one address (127.0.0.2): some idle,
     * some with a request line they never finish. The kubelet's /healthz
     * (from 127.0.0.1) still gets its answer, at once. */
    enum { N = 40 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = itest_tcp_connect_from("127.0.0.2", port);
        assert_true(fds[i] >= 0);
        if (i % 2 == 1)
            (void)send(fds[i], "GET /metr", 9, MSG_NOSIGNAL);
    }
    usleep(200 * 1000);
    for (int k = 0; k < 3; k++) {
        int status = 0;
        char *body = NULL;
        int64_t t0 = itest_now_ms();
        assert_int_equal(itest_http_get(port, "/healthz", &status, &body), 0);
        assert_int_equal(status, 200);
        assert_string_equal(body, "ok\n");
        assert_true(itest_now_ms() - t0 < 1000);
        free(body);
    }
    /* The idle ones are cut after the short idle timeout (2 s). */
    uint8_t *buf = NULL;
    assert_true(itest_read_to_eof(fds[0], 6000, &buf) >= 0);
    free(buf);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- 2. one uid cannot lock another out ------------------------------------- */

typedef struct {
    const char *socket;
    int n;
    int ready_fd; /* write: one byte once the connections are open */
    int hold_fd;  /* read: EOF = let go */
    int hold_wr;  /* the parent's end of that pipe, closed here */
} hog_arg;

static int child_hog(void *arg)
{
    hog_arg *h = arg;
    close(h->hold_wr); /* else our own copy keeps the pipe from reaching EOF */
    int *fds = calloc((size_t)h->n, sizeof *fds);
    if (fds == NULL)
        return 3;
    for (int i = 0; i < h->n; i++) {
        fds[i] = itest_connect(h->socket);
        if (fds[i] < 0)
            return 4;
        (void)send(fds[i], "\x06", 1, MSG_NOSIGNAL); /* mid-request, then nothing */
    }
    usleep(300 * 1000);
    (void)!write(h->ready_fd, "r", 1);
    char c;
    while (read(h->hold_fd, &c, 1) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < h->n; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

static int child_ping(void *arg)
{
    (void)arg;
    return itest_qex_ping(&g_qex);
}

static void test_one_uid_cannot_lock_out_another(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    assert_int_equal(chmod(d.dir, 0755), 0);
    const char *args[] = {"--max-connections", "32", "--max-connections-per-peer", "8",
                          "--io-timeout-ms", "20000", NULL};
    int port = itest_daemon_start_http(&d, args);
    assert_true(port > 0);
    const char *start[] = {" start ", "max_connections_per_peer=8", NULL};
    assert_int_equal(itest_log_count(&d, start), 1);

    int ready[2], hold[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
    hog_arg h = {.socket = d.socket, .n = 40, .ready_fd = ready[1], .hold_fd = hold[0],
                 .hold_wr = hold[1]};
    itest_child hog;
    assert_int_equal(itest_child_start(&hog, HOG_UID, HOG_UID, child_hog, &h), 0);
    close(ready[1]);
    close(hold[0]);
    itest_child_go(&hog);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);

    /* The hog holds 8 connections; the other 32 were closed at once. */
    assert_true(itest_metric(port, "sgx_quote_helper_connections_rejected_total",
                             "reason=\"peer_limit\"") == 32);
    assert_true(itest_metric(port, "sgx_quote_helper_connections_active", "") == 8);
    /* Another uid, and the daemon's own (root here), still get served. */
    itest_child other;
    assert_int_equal(itest_child_start(&other, OTHER_UID, OTHER_UID, child_ping, NULL), 0);
    assert_int_equal(itest_child_wait(&other, 20000), 0);
    assert_quote_works(d.socket);

    char uidf[32];
    snprintf(uidf, sizeof uidf, "uid=%d", HOG_UID);
    const char *lines[] = {" rejected ", "reason=peer_limit", uidf, NULL};
    char peer[32];
    snprintf(peer, sizeof peer, "uid:%d", HOG_UID);
    assert_int_equal(itest_log_wait_total(&d, lines, "rejected", "peer_limit", peer, 32, 5000),
                     32);

    close(hold[1]); /* let go */
    assert_int_equal(itest_child_wait(&hog, 20000), 0);
    close(ready[0]);
    unsetenv("SGX_AESM_ADDR");
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- 3. the daemon's own uid passes the ACL only from its PID namespace -- */

/* In a new PID namespace (as another pod running as the same "nonroot"
 * uid would be), then ping. */
static int child_ping_other_pidns(void *arg)
{
    (void)arg;
    return itest_in_new_pidns(child_ping, NULL);
}

static void test_own_uid_only_from_own_pid_namespace(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    char uidlist[32];
    snprintf(uidlist, sizeof uidlist, "%d", OTHER_UID);
    const char *args[] = {"--allow-uid", uidlist, NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);
    /* Same uid (root), same PID namespace: the exec probe's case. */
    assert_int_equal(itest_qex_ping(&g_qex), 0);
    /* Same uid, another PID namespace: denied (no byte; SGX_ERROR_UNEXPECTED). */
    itest_child c;
    assert_int_equal(itest_child_start(&c, -1, -1, child_ping_other_pidns, NULL), 0);
    assert_int_equal(itest_child_wait(&c, 20000), SGX_ERROR_UNEXPECTED);
    const char *lines[] = {" rejected ", "reason=acl", "uid=0 ", NULL};
    assert_true(itest_log_wait(&d, lines, 1, 3000));
    unsetenv("SGX_AESM_ADDR");
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- 4. logging cannot freeze the loop --------------------------------------- */

static void test_unread_stderr_does_not_stall(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    (void)fcntl(p[1], F_SETPIPE_SZ, 4096); /* fills after a dozen lines */
    d.stderr_fd = p[1];
    int port = free_tcp_port();
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *args[] = {"--http-listen", listen, "--log-level", "info", NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);
    close(p[1]);
    d.stderr_fd = -1;

    /* Each request logs a line; nobody reads them. */
    for (int i = 0; i < 4500; i++) {
        Aesm__Response *r = NULL;
        long n = exchange_vector(d.socket, "01_get_supported_att_key_id_num.bin", 3000, &r);
        if (n <= 0)
            fail_msg("request %d not answered (stderr full stalls the loop?)", i);
        assert_non_null(r);
        wire_response_free(r);
    }
    assert_quote_works(d.socket);
    int status = 0;
    char *body = NULL;
    assert_int_equal(itest_http_get(port, "/healthz", &status, &body), 0);
    assert_int_equal(status, 200);
    free(body);
    assert_true(itest_metric(port, "sgx_quote_helper_log_lines_dropped_total", "") > 0);
    assert_true(itest_metric(port, "sgx_quote_helper_requests_total",
                             "op=\"GetSupportedAttKeyIDNum\",result=\"AESM_SUCCESS\"") == 4500);
    /* SIGTERM still ends it, promptly and with 0, though its last lines
     * cannot be written. */
    int64_t t0 = itest_now_ms();
    int st = itest_daemon_stop(&d, SIGTERM, 15000);
    assert_true(st != -1 && WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(itest_now_ms() - t0 < 10000);
    close(p[0]);
    unsetenv("SGX_AESM_ADDR");
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

static void test_repeated_rejections_are_throttled(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    int port = itest_daemon_start_http(&d, NULL);
    assert_true(port > 0);
    /* 50 oversize prefixes in a row from one peer (this process: "self"). */
    enum { N = 50 };
    for (int i = 0; i < N; i++) {
        int fd = itest_connect(d.socket);
        assert_true(fd >= 0);
        uint8_t prefix[4];
        itest_put_le32(prefix, 1u << 30);
        assert_int_equal(itest_send_all(fd, prefix, 4), 0);
        uint8_t *buf = NULL;
        assert_int_equal(itest_read_to_eof(fd, 3000, &buf), 0);
        free(buf);
        close(fd);
    }
    const char *lines[] = {" rejected ", "reason=oversize", " pid=", NULL};
    /* Every one is accounted for: a line, or in a "suppressed=" count. */
    assert_int_equal(itest_log_wait_total(&d, lines, "rejected", "oversize", "self", N, 5000), N);
    assert_true(itest_log_count(&d, lines) >= 1);
    assert_true(itest_log_count(&d, lines) <= 10);
    assert_true(itest_metric(port, "sgx_quote_helper_connections_rejected_total",
                             "reason=\"oversize\"") == N);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- 5. half-sent requests cannot grow memory -------------------------------- */

static void test_half_sent_requests_stay_bounded(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    /* Default --max-request-bytes; room for every connection. */
    const char *args[] = {"--max-connections", "2000", "--max-connections-per-peer", "0",
                          "--io-timeout-ms", "30000", NULL};
    int port = itest_daemon_start_http(&d, args);
    assert_true(port > 0);
    const char *start[] = {" start ", "max_request_bytes=16384 ", NULL};
    assert_int_equal(itest_log_count(&d, start), 1);
    assert_quote_works(d.socket); /* warm: the quote path's own memory */
    usleep(200 * 1000);
    long before = itest_status_kb(d.pid, "VmRSS:");
    assert_true(before > 0);

    /* 800 clients announce 60000 bytes and send half of them: 24 MB had
     * the daemon kept them all (the old 64 KiB default). */
    enum { N = 800, ANNOUNCED = 60000, SENT = 30000 };
    static uint8_t chunk[SENT];
    memset(chunk, 0x41, sizeof chunk);
    itest_put_le32(chunk, ANNOUNCED);
    int *fds = calloc(N, sizeof *fds);
    assert_non_null(fds);
    for (int i = 0; i < N; i++) {
        fds[i] = itest_connect(d.socket);
        assert_true(fds[i] >= 0);
        (void)send(fds[i], chunk, sizeof chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    usleep(500 * 1000);
    long after = itest_status_kb(d.pid, "VmRSS:");
    print_message("daemon VmRSS: %ld kB before, %ld kB with %d half-sent requests\n", before,
                  after, N);
    assert_true(after - before < 10 * 1024);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    free(fds);
    assert_true(itest_metric(port, "sgx_quote_helper_connections_rejected_total",
                             "reason=\"oversize\"") == N);

    /* A request larger than the first buffer, in pieces: the buffer grows
     * and the request is answered (SelectAttKeyID with a 10000-byte list:
     * not a multiple of the entry size, so errorCode 2, in its own
     * sub-message). */
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__SelectAttKeyIDRequest sel = AESM__REQUEST__SELECT_ATT_KEY_IDREQUEST__INIT;
    static uint8_t list[10000];
    sel.has_att_key_id_list = 1;
    sel.att_key_id_list.data = list;
    sel.att_key_id_list.len = sizeof list;
    req.selectattkeyidreq = &sel;
    uint8_t *frame = NULL;
    size_t flen = 0;
    assert_int_equal(wire_frame_encode(&req.base, &frame, &flen), WIRE_OK);
    int fd = itest_connect(d.socket);
    assert_true(fd >= 0);
    for (size_t off = 0; off < flen; off += 1500) {
        size_t n = flen - off < 1500 ? flen - off : 1500;
        assert_int_equal(itest_send_all(fd, frame + off, n), 0);
        usleep(5 * 1000);
    }
    uint8_t *resp = NULL;
    ssize_t rn = itest_read_to_eof(fd, 5000, &resp);
    close(fd);
    free(frame);
    assert_true(rn > 4);
    Aesm__Response *r = NULL;
    assert_int_equal(wire_response_decode(resp + 4, (size_t)rn - 4, &r), WIRE_OK);
    assert_non_null(r->selectattkeyidres);
    assert_int_equal(r->selectattkeyidres->errorcode, AESM_PARAMETER_ERROR);
    wire_response_free(r);
    free(resp);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- 6. cheap requests do not queue behind slow backend calls --------------- */

typedef struct {
    const char *socket;
    long n;
    int code;
} slow_arg;

static void *slow_quote_size(void *arg)
{
    slow_arg *a = arg;
    size_t len = 0;
    char *path = itest_vector_path("aesm-requests/06_get_quote_size_ex.bin");
    uint8_t *req = NULL, *resp = NULL;
    size_t rlen = 0;
    a->n = -1;
    a->code = -1;
    if (itest_read_file(path, &req, &len) == 0 &&
        itest_exchange(a->socket, req, len, &resp, &rlen) == 0 && rlen > 4) {
        Aesm__Response *r = NULL;
        a->n = (long)rlen;
        if (wire_response_decode(resp + 4, rlen - 4, &r) == WIRE_OK &&
            r->getquotesizeexres != NULL)
            a->code = (int)r->getquotesizeexres->errorcode;
        wire_response_free(r);
    }
    free(path);
    free(req);
    free(resp);
    return NULL;
}

static void test_cheap_requests_skip_the_backend_queue(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    char fault[400];
    snprintf(fault, sizeof fault, "%s/fault", d.dir);
    const char *args[] = {"--workers", "2", "--fault-file", fault, NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);
    /* Every backend call now takes 3 s (a PCCS that hangs). */
    assert_int_equal(itest_write_file(fault, "delay=3000\n", 11), 0);
    enum { SLOW = 3 };
    pthread_t th[SLOW];
    slow_arg sa[SLOW];
    for (int i = 0; i < SLOW; i++) {
        sa[i].socket = d.socket;
        assert_int_equal(pthread_create(&th[i], NULL, slow_quote_size, &sa[i]), 0);
    }
    usleep(300 * 1000); /* both workers are now asleep in the backend */
    static const char *const cheap[] = {
        "01_get_supported_att_key_id_num.bin", "02_get_supported_att_key_ids_num1.bin",
        "03_select_att_key_id_null_list.bin", "04_init_quote_ex_sizing.bin"};
    for (size_t i = 0; i < sizeof cheap / sizeof cheap[0]; i++) {
        int64_t t0 = itest_now_ms();
        Aesm__Response *r = NULL;
        long n = exchange_vector(d.socket, cheap[i], 10000, &r);
        int64_t took = itest_now_ms() - t0;
        print_message("%s: %ld bytes in %lld ms\n", cheap[i], n, (long long)took);
        assert_true(n > 4);
        assert_non_null(r);
        wire_response_free(r);
        assert_true(took < 1000);
    }
    for (int i = 0; i < SLOW; i++) {
        pthread_join(th[i], NULL);
        assert_true(sa[i].n > 4);
        assert_int_equal(sa[i].code, 0); /* slow, but answered */
    }
    assert_int_equal(unlink(fault), 0);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- 7. --backend auto falling back to simulation is loud ------------------- */

static void test_auto_fallback_warns(void **state)
{
    (void)state;
    /* This machine has no SGX device; the test is about the fallback. */
    if (access("/dev/sgx_enclave", F_OK) == 0)
        fail_msg("/dev/sgx_enclave exists: --backend auto would not fall back here");
    itest_daemon d;
    itest_daemon_init(&d);
    const char *args[] = {"--backend", "auto", NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);
    const char *warn[] = {" warn backend ", "backend=sim", "SIMULATED", "not for production",
                          NULL};
    assert_true(itest_log_wait(&d, warn, 1, 3000));
    const char *start[] = {" start ", "backend=sim", NULL};
    assert_true(itest_log_wait(&d, start, 1, 3000));
    assert_int_equal(itest_daemon_cleanup(&d), 0);

    /* Chosen on purpose: no such warning. */
    itest_daemon_init(&d);
    const char *sim[] = {"--backend", "sim", NULL};
    assert_int_equal(itest_daemon_start(&d, sim), 0);
    assert_true(itest_log_wait(&d, start, 1, 3000));
    assert_int_equal(itest_log_count(&d, warn), 0);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- 9. --max-buf-size boundary ------------------------------------------- */

static void test_max_buf_size_boundary(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    char *bin = itest_build_path("src/daemon/sgx-quote-helperd");
    char *over[] = {bin, "--socket", d.socket, "--max-buf-size", "65537", NULL};
    assert_int_equal(itest_run(over, NULL), 2);
    char *huge[] = {bin, "--socket", d.socket, "--max-buf-size", "67108864", NULL};
    assert_int_equal(itest_run(huge, NULL), 2);
    free(bin);

    /* 64 KiB works: the quote comes back zero-padded to the buffer. */
    const char *args[] = {"--max-buf-size", "65536", NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);
    setenv("SGX_AESM_ADDR", d.socket, 1);
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    sgx_target_info_t ti;
    size_t size = 32;
    uint8_t pk[32];
    assert_int_equal(g_qex.init_quote_ex(&kid, &ti, &size, pk), SGX_SUCCESS);
    sgx_report_t report;
    itest_app_report(&ti, NULL, &report);
    uint32_t cap = 65536;
    uint8_t *quote = malloc(cap);
    assert_non_null(quote);
    memset(quote, 0xee, cap);
    assert_int_equal(g_qex.get_quote_ex(&report, &kid, NULL, quote, cap), SGX_SUCCESS);
    size_t qlen = itest_quote_len(quote, cap);
    assert_true(qlen > 1052 && qlen < 20000);
    for (size_t i = qlen; i < cap; i++)
        if (quote[i] != 0)
            fail_msg("byte %zu after the quote is 0x%02x, not padding", i, quote[i]);
    free(quote);
    /* One byte more than the cap: nothing that size is allocated; the
     * exact-size quote comes back instead (aesm §9.1 item 9). */
    quote = malloc(cap + 1);
    assert_non_null(quote);
    assert_int_equal(g_qex.get_quote_ex(&report, &kid, NULL, quote, cap + 1), SGX_SUCCESS);
    assert_int_equal(itest_quote_len(quote, cap + 1), qlen);
    free(quote);
    unsetenv("SGX_AESM_ADDR");
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_http_connections_keep_healthz),
        cmocka_unit_test(test_one_uid_cannot_lock_out_another),
        cmocka_unit_test(test_own_uid_only_from_own_pid_namespace),
        cmocka_unit_test(test_unread_stderr_does_not_stall),
        cmocka_unit_test(test_repeated_rejections_are_throttled),
        cmocka_unit_test(test_half_sent_requests_stay_bounded),
        cmocka_unit_test(test_cheap_requests_skip_the_backend_queue),
        cmocka_unit_test(test_auto_fallback_warns),
        cmocka_unit_test(test_max_buf_size_boundary),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
