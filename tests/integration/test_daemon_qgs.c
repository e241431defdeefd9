/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's TDX QGS listener (--qgs-socket) over the real socket, the
 * ways TD-side clients use it: upstream QEMU and libtdx_attest send a framed
 * qgs_msg GET_QUOTE (1052 bytes), pass-through QEMU the bare TDREPORT; TD
 * verifiers ask GET_COLLATERAL and GET_PLATFORM_INFO. Quotes for a
 * simulated TDREPORT (`sgx-quote tdx report`, same state dir) must verify
 * with our verifier and @phala/dcap-qvl; malformed input is closed as QGS
 * does; a request written one byte at a time is still read whole. Under
 * socket activation the descriptor named "qgs" is the QGS socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static itest_daemon g_daemon;
static char g_qgs[400];
static uint8_t g_report[1024];

static int setup(void **state)
{
    (void)state;
    itest_daemon_init(&g_daemon);
    snprintf(g_qgs, sizeof g_qgs, "%s/run/tdx-qgs/qgs.socket", g_daemon.dir);
    const char *extra[] = {"--qgs-socket", g_qgs, NULL};
    if (itest_daemon_start(&g_daemon, extra) != 0)
        return -1;
    /* A TDREPORT from the same simulated platform (state dir, host name). */
    char rpath[512];
    snprintf(rpath, sizeof rpath, "%s/tdreport.bin", g_daemon.dir);
    char *cli = itest_build_path("src/cli/sgx-quote");
    char *argv[] = {cli, "tdx", "report", "--state-dir", g_daemon.state_dir, "--report-data",
                    "7464782d696e746567726174696f6e", "-o", rpath, NULL};
    int rc = itest_run(argv, NULL);
    free(cli);
    uint8_t *data = NULL;
    size_t len = 0;
    if (rc != 0 || itest_read_file(rpath, &data, &len) != 0 || len != sizeof g_report) {
        free(data);
        return -1;
    }
    memcpy(g_report, data, len);
    free(data);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int rc = itest_daemon_cleanup(&g_daemon);
    /* The QGS path was ours: it is gone after the daemon stopped. */
    if (access(g_qgs, F_OK) == 0)
        rc = -1;
    return rc;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Sends req (in pieces of `chunk` bytes when > 0) to the QGS socket at
 * path and reads to EOF. */
static ssize_t exchange_at(const char *path, const uint8_t *req, size_t len, size_t chunk,
                           uint8_t **reply)
{
    int fd = itest_connect(path);
    assert_true(fd >= 0);
    if (chunk == 0) {
        assert_int_equal(itest_send_all(fd, req, len), 0);
    } else {
        for (size_t off = 0; off < len; off += chunk) {
            size_t n = len - off < chunk ? len - off : chunk;
            assert_int_equal(itest_send_all(fd, req + off, n), 0);
            if (off < 64)
                usleep(2000); /* the prefix and header arrive in pieces */
        }
    }
    ssize_t got = itest_read_to_eof(fd, 30000, reply);
    close(fd);
    return got;
}

static ssize_t exchange(const uint8_t *req, size_t len, size_t chunk, uint8_t **reply)
{
    return exchange_at(g_qgs, req, len, chunk, reply);
}

static void get_quote_request(uint8_t out[1052])
{
    static const uint8_t head[28] = {0x00, 0x00, 0x04, 0x18, 0x01, 0x00, 0x01, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x18, 0x04, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x00};
    memcpy(out, head, sizeof head);
    memcpy(out + 28, g_report, 1024);
}

/* Our verifier and dcap-qvl, on a quote written to name. */
static void verify_both(const uint8_t *quote, size_t len, const char *name)
{
    char qpath[512], coll[512];
    snprintf(qpath, sizeof qpath, "%s/%s", g_daemon.dir, name);
    snprintf(coll, sizeof coll, "%s/coll-%s", g_daemon.dir, name);
    assert_int_equal(itest_write_file(qpath, quote, len), 0);
    char *cli = itest_build_path("src/cli/sgx-quote");
    char *exp[] = {cli, "collateral", "export", "--tdx", "--state-dir", g_daemon.state_dir, "-o",
                   coll, NULL};
    assert_int_equal(itest_run(exp, NULL), 0);
    char root[560];
    snprintf(root, sizeof root, "%s/root.pem", coll);
    char *ver[] = {cli, "verify", qpath, "--collateral-dir", coll, "--root", root, NULL};
    char *out = NULL;
    int rc = itest_run(ver, &out);
    if (rc != 0 || strstr(out, "VERIFIED: UpToDate") == NULL)
        fail_msg("sgx-quote verify exited %d:\n%s", rc, out != NULL ? out : "");
    free(out);
    free(cli);
    assert_int_equal(itest_qvl_verify(qpath, coll, "UpToDate"), 0);
}

static void test_framed_get_quote(void **state)
{
    (void)state;
    uint8_t req[1052], *r = NULL;
    get_quote_request(req);
    ssize_t n = exchange(req, sizeof req, 0, &r);
    assert_true(n > 28);
    /* One frame and nothing after it; header 1.1, GET_QUOTE_RESP, success */
    assert_int_equal(be32(r), (uint32_t)n - 4);
    assert_int_equal(r[4], 1);
    assert_int_equal(r[6], 1);
    assert_int_equal(le32(r + 8), 1);
    assert_int_equal(le32(r + 12), (uint32_t)n - 4);
    assert_int_equal(le32(r + 16), 0);
    assert_int_equal(le32(r + 20), 0);
    assert_int_equal(le32(r + 24), (uint32_t)n - 28);
    assert_true(n - 28 <= 8140); /* fits upstream QEMU's 8 KiB guest buffer */
    assert_int_equal(r[28], 4);  /* a v4 quote */
    for (ssize_t i = n - 70; i < n; i++)
        assert_int_equal(r[i], 0); /* its 70 trailing zero bytes */
    verify_both(r + 28, (size_t)n - 28, "framed.quote");
    free(r);
}

static void test_raw_get_quote(void **state)
{
    (void)state;
    uint8_t *r = NULL;
    ssize_t n = exchange(g_report, sizeof g_report, 0, &r);
    assert_true(n > 1000);
    assert_int_equal(le32(r) & 0xffff, 4);      /* the bare quote: version 4 ... */
    assert_int_equal(le32(r + 4), 0x81);        /* ... TDX */
    verify_both(r, (size_t)n, "raw.quote");
    free(r);
}

static void test_byte_by_byte(void **state)
{
    (void)state;
    uint8_t req[1052], *r = NULL;
    get_quote_request(req);
    ssize_t n = exchange(req, sizeof req, 1, &r);
    assert_true(n > 28);
    assert_int_equal(le32(r + 16), 0);
    free(r);
    n = exchange(g_report, sizeof g_report, 7, &r);
    assert_true(n > 1000);
    free(r);
}

static void test_closes(void **state)
{
    (void)state;
    uint8_t *r = NULL;
    /* Intel's test_client: zeros with byte 0 = 0x81 -> a close, no bytes */
    uint8_t zero[1024] = {0x81};
    assert_int_equal(exchange(zero, sizeof zero, 0, &r), 0);
    free(r);
    r = NULL;
    /* length 0: neither framing */
    static const uint8_t empty[4] = {0, 0, 0, 0};
    assert_int_equal(exchange(empty, sizeof empty, 0, &r), 0);
    free(r);
    r = NULL;
    /* a response type as a request: closed unanswered */
    uint8_t req[1052];
    get_quote_request(req);
    req[8] = 1;
    assert_int_equal(exchange(req, sizeof req, 0, &r), 0);
    free(r);
    r = NULL;
    /* a report the TD-QE refuses: the 24-byte error reply, code 0x00012001 */
    get_quote_request(req);
    req[28 + 600] ^= 1;
    assert_int_equal(exchange(req, sizeof req, 0, &r), 28);
    assert_int_equal(le32(r + 16), 0x00012001);
    free(r);
    const char *needles[] = {"protocol=qgs", "result=backend", "SIM_E_TD_REPORT_HASH", NULL};
    assert_true(itest_log_wait(&g_daemon, needles, 1, 5000));
}

static void test_platform_info_and_collateral(void **state)
{
    (void)state;
    static const uint8_t pi[20] = {0, 0, 0, 16, 1, 0, 1, 0, 4, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0};
    uint8_t *r = NULL;
    assert_int_equal(exchange(pi, sizeof pi, 0, &r), 68);
    assert_int_equal(le32(r + 8), 5);
    assert_int_equal(le32(r + 64), 0); /* the 4 bytes of padding */
    free(r);
    r = NULL;
    /* GET_COLLATERAL for the FMSPC in our quotes (default 00606A000000) */
    static const uint8_t coll[43] = {0, 0, 0, 39, 1, 0, 1, 0, 2, 0, 0, 0, 39, 0, 0, 0, 0, 0, 0,
                                     0, 6, 0, 0, 0, 9, 0, 0, 0, 0x00, 0x60, 0x6a, 0, 0, 0,
                                     'p', 'l', 'a', 't', 'f', 'o', 'r', 'm', 0};
    ssize_t n = exchange(coll, sizeof coll, 0, &r);
    assert_true(n > 52);
    assert_int_equal(le32(r + 8), 3);
    assert_int_equal(le32(r + 16), 0);
    const char *found = memmem(r, (size_t)n, "\"id\":\"TDX\"", 10);
    assert_non_null(found);
    free(r);
    const char *needles[] = {"op=GetCollateral", "result=ok", NULL};
    assert_true(itest_log_wait(&g_daemon, needles, 1, 5000));
}

/* A listening Unix socket at path, as a systemd .socket unit makes it. */
static int bound_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

/* Socket activation with both units (docs/operations.md "systemd"): the
 * descriptor named "qgs" turns QGS on without --qgs-socket and is served;
 * neither path is replaced or removed when the daemon stops. */
static void test_socket_activation_qgs(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    char run[400], qpath[420];
    snprintf(run, sizeof run, "%s/run", d.dir);
    assert_int_equal(mkdir(run, 0755), 0);
    snprintf(qpath, sizeof qpath, "%s/qgs.socket", run);
    int aesm = bound_socket(d.socket), qgs = bound_socket(qpath);
    struct stat a0, q0, a1, q1;
    assert_int_equal(stat(d.socket, &a0), 0);
    assert_int_equal(stat(qpath, &q0), 0);
    d.listen_fd = aesm;
    d.listen_fd_qgs = qgs;
    /* The same simulated platform as g_report's. */
    const char *extra[] = {"--state-dir", g_daemon.state_dir, NULL};
    assert_int_equal(itest_daemon_spawn(&d, extra), 0);
    char want_path[440];
    snprintf(want_path, sizeof want_path, "qgs_socket=%s", qpath);
    const char *started[] = {" start ", "socket_activated=true", want_path,
                             "qgs_socket_activated=true", NULL};
    assert_true(itest_log_wait(&d, started, 1, 20000));

    uint8_t req[1052], *r = NULL;
    get_quote_request(req);
    ssize_t n = exchange_at(qpath, req, sizeof req, 0, &r);
    assert_true(n > 28);
    assert_int_equal(le32(r + 16), 0); /* success */
    verify_both(r + 28, (size_t)n - 28, "activated.quote");
    free(r);

    int st = itest_daemon_stop(&d, SIGTERM, 20000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(stat(d.socket, &a1), 0);
    assert_int_equal(stat(qpath, &q1), 0);
    assert_true(a1.st_ino == a0.st_ino && q1.st_ino == q0.st_ino);
    close(aesm);
    close(qgs);
    d.listen_fd = d.listen_fd_qgs = -1;
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* A unit whose "qgs" descriptor is not a listening stream socket (e.g.
 * ListenDatagram=): the daemon refuses to start and says which unit. */
static void test_socket_activation_qgs_wrong_type(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    char run[400];
    snprintf(run, sizeof run, "%s/run", d.dir);
    assert_int_equal(mkdir(run, 0755), 0);
    int aesm = bound_socket(d.socket);
    int dgram = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(dgram >= 0);
    d.listen_fd = aesm;
    d.listen_fd_qgs = dgram;
    assert_int_equal(itest_daemon_spawn(&d, NULL), 0);
    const char *refused[] = {"not a listening AF_UNIX stream socket",
                             "sgx-quote-helperd-qgs.socket", NULL};
    assert_true(itest_log_wait(&d, refused, 1, 20000));
    int st = itest_daemon_stop(&d, SIGTERM, 20000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    close(aesm);
    close(dgram);
    d.listen_fd = d.listen_fd_qgs = -1;
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framed_get_quote),
        cmocka_unit_test(test_raw_get_quote),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_closes),
        cmocka_unit_test(test_platform_info_and_collateral),
        cmocka_unit_test(test_socket_activation_qgs),
        cmocka_unit_test(test_socket_activation_qgs_wrong_type),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
