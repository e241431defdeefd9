/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon as a process: restart stability (same QE target info and
 * pub_key_id, an old report still quotes, no AESM 42), SIGTERM draining
 * what is queued and exiting 0, the client riding out a restart with its
 * connect retry, the socket's directory/mode/group, stale-socket takeover,
 * never clobbering a non-socket file, an old instance leaving a newer
 * instance's socket alone, and flag handling.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
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
#include <jansson.h>

#include "harness.h"
#include "wire/wire.h"

static itest_qex g_qex;

static int setup(void **state)
{
    (void)state;
    /* The library is loaded once; SGX_AESM_ADDR is read per call. */
    return itest_qex_open(&g_qex, "/nonexistent/aesm.socket");
}

static int teardown(void **state)
{
    (void)state;
    itest_qex_close(&g_qex);
    return 0;
}

static void full_init(sgx_target_info_t *ti, uint8_t pkid[32])
{
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    size_t size = 32;
    assert_int_equal(g_qex.init_quote_ex(&kid, ti, &size, pkid), SGX_SUCCESS);
}

static sgx_status_t quote_with(const sgx_report_t *report)
{
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    uint8_t quote[8192];
    sgx_status_t s = g_qex.get_quote_ex(report, &kid, NULL, quote, sizeof quote);
    if (s == SGX_SUCCESS)
        assert_true(itest_quote_len(quote, sizeof quote) > 436);
    return s;
}

static void test_restart_keeps_identity(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    assert_int_equal(itest_daemon_start(&d, NULL), 0);
    sgx_target_info_t ti1, ti2;
    uint8_t pk1[32], pk2[32];
    full_init(&ti1, pk1);
    sgx_report_t report;
    itest_app_report(&ti1, NULL, &report);
    assert_int_equal(quote_with(&report), SGX_SUCCESS);

    int st = itest_daemon_stop(&d, SIGTERM, 20000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(itest_daemon_start(&d, NULL), 0);

    /* First call after the restart is the quote itself, no init: an app
     * holding an old report must not see AESM 42 (issue 4). */
    assert_int_equal(quote_with(&report), SGX_SUCCESS);
    full_init(&ti2, pk2);
    assert_memory_equal(&ti1, &ti2, sizeof ti1);
    assert_memory_equal(pk1, pk2, sizeof pk1);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

typedef struct {
    sgx_status_t status;
    uint32_t num;
} ping_result;

static void *ping_thread(void *arg)
{
    ping_result *r = arg;
    r->status = g_qex.get_supported_att_key_id_num(&r->num);
    return NULL;
}

/* The client library retries a missing socket for a bounded time
 * (SGXQH_CONNECT_RETRY_MS, default 2 s), so a restart costs no request. */
static void test_client_rides_out_restart(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);

    /* Retry disabled: no daemon → SERVICE_UNAVAILABLE at once. */
    setenv("SGXQH_CONNECT_RETRY_MS", "0", 1);
    uint32_t num = 0;
    assert_int_equal(g_qex.get_supported_att_key_id_num(&num), SGX_ERROR_SERVICE_UNAVAILABLE);

    setenv("SGXQH_CONNECT_RETRY_MS", "10000", 1);
    ping_result r = {SGX_ERROR_UNEXPECTED, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, ping_thread, &r), 0);
    usleep(300 * 1000); /* the call is now retrying against no socket */
    assert_int_equal(itest_daemon_start(&d, NULL), 0);
    pthread_join(th, NULL);
    unsetenv("SGXQH_CONNECT_RETRY_MS");
    assert_int_equal(r.status, SGX_SUCCESS);
    assert_int_equal(r.num, 1);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

static uint8_t *gramine_quote_request(const sgx_target_info_t *ti, size_t *len)
{
    char *path = itest_vector_path("aesm-requests/12_gramine_get_quote_ex.bin");
    uint8_t *req = NULL;
    assert_int_equal(itest_read_file(path, &req, len), 0);
    free(path);
    sgx_report_t report;
    itest_app_report(ti, NULL, &report);
    memcpy(req + 11, &report, sizeof report); /* field 1 of capture 12 */
    return req;
}

static void assert_quote_response(const uint8_t *raw, size_t len)
{
    assert_true(len > 4);
    Aesm__Response *r = NULL;
    assert_int_equal(wire_response_decode(raw + 4, len - 4, &r), WIRE_OK);
    assert_non_null(r->getquoteexres);
    assert_int_equal(r->getquoteexres->errorcode, 0);
    assert_true(r->getquoteexres->has_quote);
    wire_response_free(r);
}

/* Requests that arrived before SIGTERM are all answered, then exit 0 and
 * the socket is gone. The daemon is stopped (SIGSTOP) while the clients
 * connect and send, so their connections wait in the kernel's accept queue
 * when SIGTERM arrives: the drain must take them from there. */
static void test_sigterm_drains_queue(void **state)
{
    (void)state;
    enum { N = 24 };
    itest_daemon d;
    itest_daemon_init_qex(&d);
    assert_int_equal(itest_daemon_start(&d, NULL), 0);
    sgx_target_info_t ti;
    uint8_t pk[32];
    full_init(&ti, pk);
    size_t len = 0;
    uint8_t *req = gramine_quote_request(&ti, &len);

    assert_int_equal(kill(d.pid, SIGSTOP), 0);
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = itest_connect(d.socket);
        assert_true(fds[i] >= 0);
        assert_int_equal(itest_send_all(fds[i], req, len), 0);
    }
    assert_int_equal(kill(d.pid, SIGTERM), 0);
    assert_int_equal(kill(d.pid, SIGCONT), 0);
    for (int i = 0; i < N; i++) {
        uint8_t *resp = NULL;
        ssize_t n = itest_read_to_eof(fds[i], 20000, &resp);
        assert_true(n > 0);
        assert_quote_response(resp, (size_t)n);
        free(resp);
        close(fds[i]);
    }
    int st = itest_daemon_stop(&d, 0, 20000); /* signal 0: just wait */
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    struct stat sb;
    assert_int_equal(stat(d.socket, &sb), -1); /* removed on the way out */
    const char *stop[] = {"stop", "exit_code=0", NULL};
    assert_int_equal(itest_log_count(&d, stop), 1);
    free(req);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

static void test_socket_directory_and_modes(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    assert_int_equal(itest_daemon_start(&d, NULL), 0);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/run", d.dir);
    struct stat sb;
    /* aesm §1.2: directory created 0755, socket world-connectable 0666. */
    assert_int_equal(stat(dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0755);
    assert_int_equal(stat(d.socket, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0666);
    itest_daemon_stop(&d, SIGTERM, 20000);

    /* --socket-mode / --socket-group */
    char gid[32];
    snprintf(gid, sizeof gid, "%lu", (unsigned long)getgid());
    const char *args[] = {"--socket-mode", "0660", "--socket-group", gid, NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);
    assert_int_equal(stat(d.socket, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0660);
    assert_int_equal(sb.st_gid, getgid());
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

static void test_stale_socket_replaced_regular_file_refused(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/run", d.dir);
    assert_int_equal(mkdir(dir, 0755), 0);

    /* A stale socket: bound, then its owner is gone. */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, d.socket);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    close(s);
    assert_int_equal(itest_daemon_start(&d, NULL), 0);
    assert_int_equal(itest_daemon_stop(&d, SIGTERM, 20000), 0);

    /* A regular file where the socket should go is never replaced. */
    assert_int_equal(itest_write_file(d.socket, "keep me", 7), 0);
    char *bin = itest_build_path("src/daemon/sgx-quote-helperd");
    char *argv[] = {bin, "--socket", d.socket, "--state-dir", d.state_dir, NULL};
    int rc = itest_run(argv, NULL);
    assert_int_equal(rc, 1);
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(itest_read_file(d.socket, &data, &len), 0);
    assert_int_equal(len, 7);
    assert_memory_equal(data, "keep me", 7);
    free(data);
    free(bin);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* Overlapping instances (the upgrade pattern): the newer one takes the
 * path over; when the older one stops it must not remove it. */
static void test_old_instance_leaves_new_socket(void **state)
{
    (void)state;
    itest_daemon a, b;
    itest_daemon_init(&a);
    assert_int_equal(itest_daemon_start(&a, NULL), 0);
    itest_daemon_init(&b);
    snprintf(b.socket, sizeof b.socket, "%s", a.socket);
    assert_int_equal(itest_daemon_start(&b, NULL), 0);
    int st = itest_daemon_stop(&a, SIGTERM, 20000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct stat sb;
    assert_int_equal(stat(b.socket, &sb), 0);
    setenv("SGX_AESM_ADDR", b.socket, 1);
    uint32_t num = 0;
    assert_int_equal(g_qex.get_supported_att_key_id_num(&num), SGX_SUCCESS);
    assert_int_equal(num, 1);
    assert_int_equal(itest_daemon_cleanup(&b), 0);
    assert_int_equal(itest_daemon_cleanup(&a), 0);
}

static int run_daemon(char **out, const char *a1, const char *a2, const char *a3)
{
    char *bin = itest_build_path("src/daemon/sgx-quote-helperd");
    char *argv[] = {bin, (char *)a1, (char *)a2, (char *)a3, NULL};
    int rc = itest_run(argv, out);
    free(bin);
    return rc;
}

static void test_flags(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(run_daemon(&out, "--version", NULL, NULL), 0);
    assert_non_null(strstr(out, "sgx-quote-helperd "));
    free(out);
    assert_int_equal(run_daemon(&out, "--help", NULL, NULL), 0);
    assert_non_null(strstr(out, "--max-request-bytes"));
    assert_non_null(strstr(out, "--io-timeout-ms"));
    free(out);
    assert_int_equal(run_daemon(NULL, "--max-request-bytes", "0", NULL), 2);
    assert_int_equal(run_daemon(NULL, "--io-timeout-ms", "soon", NULL), 2);
    assert_int_equal(run_daemon(NULL, "--backend", "quantum", NULL), 2);
    assert_int_equal(run_daemon(NULL, "--socket", "relative.sock", NULL), 2);
    assert_int_equal(run_daemon(NULL, "--no-such-flag", NULL, NULL), 2);

    /* --backend hw that cannot start (no Intel libraries in --hw-lib-dir,
     * with or without an SGX device on this machine) fails clearly at
     * start, exit 1 with the reason, and never falls back to simulation. */
    itest_daemon d;
    itest_daemon_init(&d);
    char empty[400];
    snprintf(empty, sizeof empty, "%s/no-libs", d.dir);
    assert_int_equal(mkdir(empty, 0755), 0);
    const char *hw[] = {"--backend", "hw", "--hw-lib-dir", empty, NULL};
    assert_int_equal(itest_daemon_spawn(&d, hw), 0);
    int st = itest_daemon_stop(&d, 0, 20000); /* signal 0: only wait */
    assert_true(st != -1 && WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    struct stat sb;
    assert_int_equal(stat(d.socket, &sb), -1);
    const char *why[] = {" error message ", "msg=\"backend: ", empty, NULL};
    assert_int_equal(itest_log_count(&d, why), 1);
    const char *start[] = {" start ", NULL};
    assert_int_equal(itest_log_count(&d, start), 0);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}


/* --log-format json: every line one JSON object with the request fields;
 * --log-level warn: request lines (info) are not written. */
static void test_json_logs_and_level(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    const char *args[] = {"--log-format", "json", NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);
    uint32_t num = 0;
    assert_int_equal(g_qex.get_supported_att_key_id_num(&num), SGX_SUCCESS);
    const char *req[] = {"\"event\":\"request\"", NULL};
    assert_true(itest_log_wait(&d, req, 1, 3000));
    assert_int_equal(itest_daemon_cleanup_keep(&d), 0);

    char *log = itest_daemon_log(&d);
    assert_non_null(log);
    size_t lines = 0, requests = 0;
    char *save = NULL;
    for (char *line = strtok_r(log, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *j = json_loads(line, 0, &jerr);
        if (j == NULL)
            fprintf(stderr, "not JSON: %s (%s)\n", line, jerr.text);
        assert_non_null(j);
        assert_true(json_is_string(json_object_get(j, "ts")));
        assert_true(json_is_string(json_object_get(j, "level")));
        const char *ev = json_string_value(json_object_get(j, "event"));
        assert_non_null(ev);
        if (strcmp(ev, "request") == 0) {
            requests++;
            assert_string_equal(json_string_value(json_object_get(j, "op")),
                                "GetSupportedAttKeyIDNum");
            assert_string_equal(json_string_value(json_object_get(j, "result")), "AESM_SUCCESS");
            assert_int_equal(json_integer_value(json_object_get(j, "code")), 0);
            assert_true(json_is_number(json_object_get(j, "latency_ms")));
            assert_int_equal(json_integer_value(json_object_get(j, "pid")), getpid());
            assert_int_equal(json_integer_value(json_object_get(j, "uid")), getuid());
        }
        json_decref(j);
        lines++;
    }
    free(log);
    assert_true(lines >= 3); /* start, request, ..., stop */
    assert_int_equal(requests, 1);
    assert_int_equal(itest_daemon_cleanup(&d), 0);

    /* At warn, a successful request leaves no line. */
    itest_daemon_init_qex(&d);
    const char *quiet[] = {"--log-level", "warn", NULL};
    assert_int_equal(itest_daemon_start(&d, quiet), 0);
    assert_int_equal(g_qex.get_supported_att_key_id_num(&num), SGX_SUCCESS);
    usleep(200 * 1000);
    const char *any_req[] = {"request", NULL};
    assert_int_equal(itest_log_count(&d, any_req), 0);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_keeps_identity),
        cmocka_unit_test(test_client_rides_out_restart),
        cmocka_unit_test(test_sigterm_drains_queue),
        cmocka_unit_test(test_socket_directory_and_modes),
        cmocka_unit_test(test_stale_socket_replaced_regular_file_refused),
        cmocka_unit_test(test_old_instance_leaves_new_socket),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_json_logs_and_level),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
