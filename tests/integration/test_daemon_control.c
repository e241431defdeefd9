/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who may quote and how the daemon is run (issue 5 "Access control and
 * limits", "Lifecycle"), each against the real daemon:
 *   - ACL: a denied uid (a forked child that drops to another uid) gets a
 *     clean rejection (no byte; SGX_ERROR_UNEXPECTED through the library),
 *     is counted and logged; allowed uids/gids and the daemon's own uid work;
 *   - rate limit: N requests in a burst, the rest answered AESM_BUSY in the
 *     matching sub-message (SGX_ERROR_BUSY), counted and logged; buckets
 *     are per pod when /proc/PID/cgroup names one, else per uid;
 *   - SIGHUP: a new log level and ACL from --config while a connection is
 *     in flight (it is answered); a bad file is refused and nothing changes;
 *   - settings from SGX_QUOTE_HELPER_* and --config, flags winning;
 *   - sd_notify READY/WATCHDOG/RELOADING/STOPPING on a datagram socket we
 *     own, and socket activation (LISTEN_FDS) with a socket we bound: served,
 *     never unlinked, and a connection queued between two instances served.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../ops/promparse.h"
#include "harness.h"
#include "sgxqh/aesm_error.h"
#include "wire/wire.h"

#define POD_A "11111111-2222-4333-8444-555555555555"
#define POD_B "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define ALLOWED_UID 4242
#define OTHER_UID 4343
#define OTHER_GID 4343
#define ALLOWED_GID 5555

static itest_qex g_qex;

static int setup(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        /* Clients as other uids need setuid(): CI runs these as root. */
        fprintf(stderr, "test_daemon_control: needs root to run clients as other uids\n");
        return -1;
    }
    return itest_qex_open(&g_qex, "/nonexistent/aesm.socket");
}

static int teardown(void **state)
{
    (void)state;
    itest_qex_close(&g_qex);
    return 0;
}

/* Other users must reach the socket: mkdtemp made the test root 0700. */
static void open_up(const itest_daemon *d)
{
    assert_int_equal(chmod(d->dir, 0755), 0);
}

/* Child bodies: exit codes the parent checks. */
enum { CHILD_OK = 0, CHILD_UNEXPECTED = 1, CHILD_BUSY = 2, CHILD_OTHER = 3 };

static int child_ping(void *arg)
{
    (void)arg;
    uint32_t num = 0;
    sgx_status_t s = g_qex.get_supported_att_key_id_num(&num);
    if (s == SGX_SUCCESS && num == 1)
        return CHILD_OK;
    if (s == SGX_ERROR_UNEXPECTED)
        return CHILD_UNEXPECTED;
    return s == SGX_ERROR_BUSY ? CHILD_BUSY : CHILD_OTHER;
}

/* Raw: a valid request, and the daemon closes without a single byte. */
static int child_raw_denied(void *arg)
{
    const char *socket_path = arg;
    size_t len = 0;
    char *path = itest_vector_path("aesm-requests/01_get_supported_att_key_id_num.bin");
    uint8_t *req = NULL;
    if (itest_read_file(path, &req, &len) != 0)
        return CHILD_OTHER;
    free(path);
    int fd = itest_connect(socket_path);
    if (fd < 0)
        return CHILD_OTHER;
    (void)itest_send_all(fd, req, len); /* may fail: the daemon may be gone first */
    uint8_t *resp = NULL;
    ssize_t n = itest_read_to_eof(fd, 5000, &resp);
    free(resp);
    free(req);
    close(fd);
    return n == 0 ? CHILD_OK : CHILD_OTHER;
}

/* ---- ACL ------------------------------------------------------------------- */

static void test_acl_denies_cleanly_and_counts(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    open_up(&d);
    char uidlist[32];
    snprintf(uidlist, sizeof uidlist, "%d", ALLOWED_UID);
    const char *args[] = {"--allow-uid", uidlist, NULL};
    int port = itest_daemon_start_http(&d, args);
    assert_true(port > 0);

    /* The daemon's own uid (the exec probe's) is allowed from the daemon's
     * own PID namespace (test_daemon_robust: not from another one). */
    assert_int_equal(child_ping(NULL), CHILD_OK);
    assert_int_equal(itest_child_run(ALLOWED_UID, ALLOWED_UID, child_ping, NULL), CHILD_OK);
    /* Denied: no byte back; through the library SGX_ERROR_UNEXPECTED. */
    assert_int_equal(itest_child_run(OTHER_UID, OTHER_GID, child_ping, NULL), CHILD_UNEXPECTED);
    assert_int_equal(itest_child_run(OTHER_UID, OTHER_GID, child_raw_denied, d.socket), CHILD_OK);

    char uidf[32];
    snprintf(uidf, sizeof uidf, "uid=%d", OTHER_UID);
    /* At least the first line; a second one within the same second is
     * summed up in a "suppressed=" line instead (log throttling). */
    const char *lines[] = {" rejected ", "reason=acl", uidf, NULL};
    char peer[32];
    snprintf(peer, sizeof peer, "uid:%d", OTHER_UID);
    assert_int_equal(itest_log_wait_total(&d, lines, "rejected", "acl", peer, 2, 5000), 2);
    assert_true(itest_log_count(&d, lines) >= 1);
    usleep(100 * 1000);
    assert_int_equal(itest_log_count(&d, lines) + itest_log_suppressed(&d, "rejected", "acl", peer),
                     2);
    assert_true(itest_metric(port, "sgx_quote_helper_connections_rejected_total",
                             "reason=\"acl\"") == 2);
    /* Only the two allowed requests reached the service. */
    assert_true(itest_metric(port, "sgx_quote_helper_requests_total",
                             "op=\"GetSupportedAttKeyIDNum\",result=\"AESM_SUCCESS\"") == 2);
    assert_int_equal(itest_daemon_cleanup(&d), 0);

    /* By group: uid OTHER with gid ALLOWED_GID gets in, with OTHER_GID not. */
    itest_daemon_init_qex(&d);
    open_up(&d);
    char gidlist[32];
    snprintf(gidlist, sizeof gidlist, "1,%d", ALLOWED_GID);
    const char *gargs[] = {"--allow-gid", gidlist, NULL};
    assert_int_equal(itest_daemon_start(&d, gargs), 0);
    assert_int_equal(itest_child_run(OTHER_UID, ALLOWED_GID, child_ping, NULL), CHILD_OK);
    assert_int_equal(itest_child_run(OTHER_UID, OTHER_GID, child_ping, NULL), CHILD_UNEXPECTED);
    assert_int_equal(itest_daemon_cleanup(&d), 0);

    /* A list that does not parse: refuse to start (exit 2). */
    char *bin = itest_build_path("src/daemon/sgx-quote-helperd");
    char *argv[] = {bin, "--socket", d.socket, "--allow-uid", "1000,,1001", NULL};
    assert_int_equal(itest_run(argv, NULL), 2);
    char *argv2[] = {bin, "--socket", d.socket, "--allow-gid", "-5", NULL};
    assert_int_equal(itest_run(argv2, NULL), 2);
    free(bin);
}

/* ---- rate limit ------------------------------------------------------------ */

static Aesm__Response *exchange_decoded(const char *socket_path, const char *vector,
                                        Aesm__Request **req_out)
{
    size_t len = 0;
    uint8_t *req = itest_request_vector(vector, &len);
    uint8_t *resp = NULL;
    size_t rlen = 0;
    assert_int_equal(itest_exchange(socket_path, req, len, &resp, &rlen), 0);
    assert_true(rlen > 4);
    Aesm__Response *r = NULL;
    assert_int_equal(wire_response_decode(resp + 4, rlen - 4, &r), WIRE_OK);
    if (req_out != NULL)
        assert_int_equal(wire_request_decode(req + 4, len - 4, req_out), WIRE_OK);
    free(req);
    free(resp);
    return r;
}

static void test_rate_limit_holds(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    /* A burst of 5, and practically no refill during the test. */
    open_up(&d);
    const char *args[] = {"--rate-limit", "0.001", "--rate-burst", "5", NULL};
    int port = itest_daemon_start_http(&d, args);
    assert_true(port > 0);
    /* Under another uid: the daemon's own (root here, same PID namespace)
     * is its probe, which no limit applies to. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(itest_child_run(OTHER_UID, OTHER_GID, child_ping, NULL), CHILD_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(itest_child_run(OTHER_UID, OTHER_GID, child_ping, NULL), CHILD_BUSY);
    assert_int_equal(seteuid(OTHER_UID), 0); /* the raw exchanges below, same peer */

    /* Every quote_ex request is refused in its own response sub-message,
     * errorCode 18, with the fields that response always carries. */
    Aesm__Request *req = NULL;
    Aesm__Response *r = exchange_decoded(d.socket, "01_get_supported_att_key_id_num.bin", NULL);
    assert_non_null(r->getsupportedattkeyidnumres);
    assert_int_equal(r->getsupportedattkeyidnumres->errorcode, AESM_BUSY);
    assert_true(r->getsupportedattkeyidnumres->has_att_key_id_num);
    assert_int_equal(r->getsupportedattkeyidnumres->att_key_id_num, 1);
    wire_response_free(r);
    r = exchange_decoded(d.socket, "02_get_supported_att_key_ids_num1.bin", NULL);
    assert_non_null(r->getsupportedattkeyidsres);
    assert_int_equal(r->getsupportedattkeyidsres->errorcode, AESM_BUSY);
    assert_false(r->getsupportedattkeyidsres->has_att_key_ids);
    wire_response_free(r);
    r = exchange_decoded(d.socket, "03_select_att_key_id_null_list.bin", NULL);
    assert_non_null(r->selectattkeyidres);
    assert_int_equal(r->selectattkeyidres->errorcode, AESM_BUSY);
    assert_false(r->selectattkeyidres->has_selected_att_key_id);
    wire_response_free(r);
    r = exchange_decoded(d.socket, "05_init_quote_ex_with_pub_key_id_buf.bin", NULL);
    assert_non_null(r->initquoteexres);
    assert_int_equal(r->initquoteexres->errorcode, AESM_BUSY);
    assert_true(r->initquoteexres->has_pub_key_id_size);
    assert_int_equal(r->initquoteexres->pub_key_id_size, 32); /* echoes buf_size */
    assert_false(r->initquoteexres->has_target_info);
    assert_false(r->initquoteexres->has_pub_key_id);
    wire_response_free(r);
    r = exchange_decoded(d.socket, "06_get_quote_size_ex.bin", NULL);
    assert_non_null(r->getquotesizeexres);
    assert_int_equal(r->getquotesizeexres->errorcode, AESM_BUSY);
    assert_true(r->getquotesizeexres->has_quote_size);
    assert_int_equal(r->getquotesizeexres->quote_size, 0);
    wire_response_free(r);
    r = exchange_decoded(d.socket, "10_get_quote_ex_with_qe_report_info.bin", &req);
    assert_non_null(r->getquoteexres);
    assert_int_equal(r->getquoteexres->errorcode, AESM_BUSY);
    assert_false(r->getquoteexres->has_quote);
    assert_true(r->getquoteexres->has_qe_report_info);
    assert_int_equal(r->getquoteexres->qe_report_info.len, 960);
    assert_memory_equal(r->getquoteexres->qe_report_info.data,
                        req->getquoteexreq->qe_report_info.data, 960);
    wire_response_free(r);
    wire_request_free(req);
    assert_int_equal(seteuid(0), 0);
    /* The own probe is still answered. */
    assert_int_equal(child_ping(NULL), CHILD_OK);

    /* Nine refusals: lines, or counted in "suppressed=" summaries (at most
     * one line per peer and reason a second). */
    const char *lines[] = {" rejected ", "reason=ratelimit", "result=AESM_BUSY", "code=18",
                           NULL};
    assert_int_equal(itest_log_wait_total(&d, lines, "rejected", "ratelimit", NULL, 9, 5000), 9);
    assert_true(itest_log_count(&d, lines) >= 1);
    assert_true(itest_log_count(&d, lines) < 9);
    assert_true(itest_metric(port, "sgx_quote_helper_connections_rejected_total",
                             "reason=\"ratelimit\"") == 9);
    assert_true(itest_metric(port, "sgx_quote_helper_requests_total",
                             "op=\"GetSupportedAttKeyIDNum\",result=\"AESM_SUCCESS\"") ==
                5 + 1); /* + the own probe's */
    assert_true(itest_metric(port, "sgx_quote_helper_requests_total",
                             "op=\"GetSupportedAttKeyIDNum\",result=\"AESM_BUSY\"") == 4);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

static void write_cgroup(const char *proc, long pid, const char *pod)
{
    char dir[512], path[560], text[512];
    snprintf(dir, sizeof dir, "%s/%ld", proc, pid);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/cgroup", dir);
    /* cgroupfs driver, cgroup v1 lines (Guaranteed QoS pod). */
    char podpath[64];
    snprintf(podpath, sizeof podpath, "%s", pod);
    snprintf(text, sizeof text,
             "12:memory:/kubepods/pod%s/"
             "8c2b6f5b6b1f0e1c9d3a4b5c6d7e8f901234567890abcdef1234567890abcdef\n"
             "0::/kubepods/pod%s/"
             "8c2b6f5b6b1f0e1c9d3a4b5c6d7e8f901234567890abcdef1234567890abcdef\n",
             podpath, podpath);
    assert_int_equal(itest_write_file(path, text, strlen(text)), 0);
}

/* A ping from a process of OTHER_UID in pod (NULL: in none). */
static int ping_in_pod(const char *proc, const char *pod)
{
    itest_child c;
    assert_int_equal(itest_child_start(&c, OTHER_UID, OTHER_GID, child_ping, NULL), 0);
    if (pod != NULL)
        write_cgroup(proc, (long)c.pid, pod);
    return itest_child_wait(&c, 20000);
}

/* Same uid, different pods: separate buckets. */
static void test_rate_limit_keys_by_pod(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    open_up(&d);
    char proc[400];
    snprintf(proc, sizeof proc, "%s/proc", d.dir);
    assert_int_equal(mkdir(proc, 0755), 0);
    const char *args[] = {"--rate-limit", "0.001", "--rate-burst", "2", "--proc-root", proc,
                          NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);
    assert_int_equal(ping_in_pod(proc, POD_A), CHILD_OK);
    assert_int_equal(ping_in_pod(proc, POD_A), CHILD_OK);
    assert_int_equal(ping_in_pod(proc, POD_A), CHILD_BUSY); /* pod A's bucket is empty */

    /* A process of the same uid in pod B has its own bucket. */
    assert_int_equal(ping_in_pod(proc, POD_B), CHILD_OK);
    /* And one outside any pod is limited by uid: a bucket nobody used. */
    assert_int_equal(ping_in_pod(proc, NULL), CHILD_OK);

    const char *a_busy[] = {" rejected ", "reason=ratelimit", "pod_uid=" POD_A, NULL};
    assert_true(itest_log_wait(&d, a_busy, 1, 3000));
    const char *b_ok[] = {" request ", "result=AESM_SUCCESS", "pod_uid=" POD_B, NULL};
    assert_true(itest_log_wait(&d, b_ok, 1, 3000));
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- SIGHUP ---------------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    assert_int_equal(itest_write_file(path, text, strlen(text)), 0);
}

static void test_sighup_reloads_without_dropping(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    open_up(&d);
    char conf[400];
    snprintf(conf, sizeof conf, "%s/sgx-quote-helperd.conf", d.dir);
    write_text(conf, "# warn: no line per request\nlog-level = warn\n");
    const char *args[] = {"--config", conf, NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);

    assert_int_equal(child_ping(NULL), CHILD_OK);
    assert_int_equal(itest_child_run(OTHER_UID, OTHER_GID, child_ping, NULL), CHILD_OK);
    usleep(100 * 1000);
    const char *req_lines[] = {" request ", "op=GetSupportedAttKeyIDNum", NULL};
    assert_int_equal(itest_log_count(&d, req_lines), 0);

    /* In flight across the reload: half a request now, the rest after. */
    size_t len = 0;
    uint8_t *req = itest_request_vector("01_get_supported_att_key_id_num.bin", &len);
    int fd = itest_connect(d.socket);
    assert_true(fd >= 0);
    assert_int_equal(itest_send_all(fd, req, 3), 0);
    usleep(50 * 1000);

    char text[128];
    snprintf(text, sizeof text, "log-level = info\nallow-uid = \"%d\"\n", ALLOWED_UID);
    write_text(conf, text);
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    const char *reloaded[] = {" reload ", "applied=true", "log-level", "allow-uid", NULL};
    assert_true(itest_log_wait(&d, reloaded, 1, 3000));

    assert_int_equal(itest_send_all(fd, req + 3, len - 3), 0);
    uint8_t *resp = NULL;
    ssize_t n = itest_read_to_eof(fd, 5000, &resp);
    assert_int_equal(n, 11);
    Aesm__Response *r = NULL;
    assert_int_equal(wire_response_decode(resp + 4, (size_t)n - 4, &r), WIRE_OK);
    assert_non_null(r->getsupportedattkeyidnumres);
    assert_int_equal(r->getsupportedattkeyidnumres->errorcode, 0);
    wire_response_free(r);
    free(resp);
    close(fd);

    /* The new level: the in-flight request and a new one are logged. */
    assert_true(itest_log_wait(&d, req_lines, 1, 3000));
    assert_int_equal(child_ping(NULL), CHILD_OK);
    assert_true(itest_log_wait(&d, req_lines, 2, 3000));
    /* The new ACL: OTHER_UID, allowed before, is refused now. */
    assert_int_equal(itest_child_run(OTHER_UID, OTHER_GID, child_ping, NULL), CHILD_UNEXPECTED);
    assert_int_equal(itest_child_run(ALLOWED_UID, ALLOWED_UID, child_ping, NULL), CHILD_OK);

    /* A broken file is refused whole; the daemon keeps its settings. */
    write_text(conf, "log-level = error\nio-timeout-ms = soon\n");
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    const char *refused[] = {" reload ", "applied=false", "io-timeout-ms", NULL};
    assert_true(itest_log_wait(&d, refused, 1, 3000));
    assert_int_equal(child_ping(NULL), CHILD_OK);
    assert_true(itest_log_wait(&d, req_lines, 3, 3000)); /* still info */
    /* Settings that need a restart are named, and left alone. */
    snprintf(text, sizeof text, "log-level = info\nallow-uid = %d\nsocket-mode = 0600\n",
             ALLOWED_UID);
    write_text(conf, text);
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    const char *restart[] = {" reload ", "applied=true", "needs_restart=socket-mode", NULL};
    assert_true(itest_log_wait(&d, restart, 1, 3000));
    struct stat sb;
    assert_int_equal(stat(d.socket, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0666);
    free(req);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- environment and config file ------------------------------------------ */

static json_t *find_event(const char *log, const char *event)
{
    char *copy = strdup(log);
    char *save = NULL;
    json_t *found = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL && found == NULL;
         line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *j = json_loads(line, 0, &jerr);
        if (j == NULL)
            fail_msg("not JSON (the default when stderr is not a terminal): %s", line);
        const char *ev = json_string_value(json_object_get(j, "event"));
        if (ev != NULL && strcmp(ev, event) == 0)
            found = j;
        else
            json_decref(j);
    }
    free(copy);
    return found;
}

static void test_environment_and_config_file(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    char conf[400];
    snprintf(conf, sizeof conf, "%s/conf", d.dir);
    write_text(conf, "max-connections = 9\nio-timeout-ms = 1234\n");
    char e_sock[400], e_state[400], e_conf[440];
    snprintf(e_sock, sizeof e_sock, "SGX_QUOTE_HELPER_SOCKET=%s", d.socket);
    snprintf(e_state, sizeof e_state, "SGX_QUOTE_HELPER_STATE_DIR=%s", d.state_dir);
    snprintf(e_conf, sizeof e_conf, "SGX_QUOTE_HELPER_CONFIG=%s", conf);
    const char *env[] = {e_sock, e_state, e_conf,
                         "SGX_QUOTE_HELPER_LOG_LEVEL=warn",   /* the flag below wins */
                         "SGX_QUOTE_HELPER_MAX_CONNECTIONS=7", /* wins over the file */
                         "SGX_QUOTE_HELPER_HTTP_LISTEN=127.0.0.1:0",
                         "SGX_QUOTE_HELPER_SOCKET_MODE=0660",
                         "SGX_QUOTE_HELPER_INIT_SEED=true", /* a switch from the environment */
                         "SGX_QUOTE_HELPER_BOGUS=1", NULL};
    d.env = env;
    d.bare = true; /* no --socket, no --state-dir, no --log-format */
    const char *args[] = {"--log-level", "info", NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);
    int port = itest_daemon_http_port(&d, 5000);
    assert_true(port > 0);
    struct stat sb;
    assert_int_equal(stat(d.socket, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0660);
    assert_int_equal(child_ping(NULL), CHILD_OK);
    const char *req[] = {"\"event\":\"request\"", NULL};
    assert_true(itest_log_wait(&d, req, 1, 3000));

    char *log = itest_daemon_log(&d);
    json_t *start = find_event(log, "start");
    assert_non_null(start);
    assert_int_equal(json_integer_value(json_object_get(start, "max_connections")), 7);
    assert_int_equal(json_integer_value(json_object_get(start, "io_timeout_ms")), 1234);
    assert_string_equal(json_string_value(json_object_get(start, "log_level")), "info");
    assert_string_equal(json_string_value(json_object_get(start, "socket")), d.socket);
    json_decref(start);
    json_t *warn = find_event(log, "message");
    assert_non_null(warn);
    assert_non_null(strstr(json_string_value(json_object_get(warn, "msg")),
                           "SGX_QUOTE_HELPER_BOGUS"));
    json_decref(warn);
    free(log);
    assert_int_equal(itest_daemon_cleanup(&d), 0);

    /* A bad value in the environment or the file stops the start (exit 2). */
    char *bin = itest_build_path("src/daemon/sgx-quote-helperd");
    char *argv[] = {bin, "--socket", d.socket, NULL};
    setenv("SGX_QUOTE_HELPER_IO_TIMEOUT_MS", "soon", 1);
    assert_int_equal(itest_run(argv, NULL), 2);
    unsetenv("SGX_QUOTE_HELPER_IO_TIMEOUT_MS");
    char bad[400];
    snprintf(bad, sizeof bad, "%s/bad.conf", d.dir);
    mkdir(d.dir, 0700);
    write_text(bad, "no-such-setting = 1\n");
    char *argv2[] = {bin, "--socket", d.socket, "--config", bad, NULL};
    assert_int_equal(itest_run(argv2, NULL), 2);
    free(bin);
    unlink(bad);
    rmdir(d.dir);
}

/* ---- systemd ---------------------------------------------------------------- */

static void fill_sun(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    size_t n = strlen(path);
    assert_true(n < sizeof sa->sun_path);
    memcpy(sa->sun_path, path, n + 1);
}

/* Datagrams on the notify socket until `want` shows up (all text kept). */
static bool notify_wait(int fd, char *seen, size_t cap, const char *want, int timeout_ms)
{
    int64_t give_up = itest_now_ms() + timeout_ms;
    for (;;) {
        if (strstr(seen, want) != NULL)
            return true;
        int64_t left = give_up - itest_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        size_t used = strlen(seen);
        snprintf(seen + used, cap - used, "%s\n--\n", buf);
    }
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_sd_notify(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    char path[400];
    snprintf(path, sizeof path, "%s/notify.sock", d.dir);
    int ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(ns >= 0);
    struct sockaddr_un sa;
    fill_sun(&sa, path);
    assert_int_equal(bind(ns, (struct sockaddr *)&sa, sizeof sa), 0);
    char e_notify[440];
    snprintf(e_notify, sizeof e_notify, "NOTIFY_SOCKET=%s", path);
    const char *env[] = {e_notify, "WATCHDOG_USEC=300000", NULL};
    d.env = env;
    assert_int_equal(itest_daemon_start(&d, NULL), 0);

    static char seen[16384];
    seen[0] = '\0';
    assert_true(notify_wait(ns, seen, sizeof seen, "READY=1", 5000));
    /* Served when READY says so. */
    assert_int_equal(child_ping(NULL), CHILD_OK);
    /* WATCHDOG=1 at half of WatchdogSec (150 ms here): several in a second. */
    usleep(1000 * 1000);
    assert_true(notify_wait(ns, seen, sizeof seen, "WATCHDOG=1", 2000));
    int64_t t0 = itest_now_ms();
    while (count_of(seen, "WATCHDOG=1") < 4 && itest_now_ms() - t0 < 3000)
        notify_wait(ns, seen, sizeof seen, "never", 100);
    assert_true(count_of(seen, "WATCHDOG=1") >= 4);
    /* SIGHUP: RELOADING=1, then READY=1 again. */
    size_t ready_before = count_of(seen, "READY=1");
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    assert_true(notify_wait(ns, seen, sizeof seen, "RELOADING=1", 3000));
    t0 = itest_now_ms();
    while (count_of(seen, "READY=1") <= ready_before && itest_now_ms() - t0 < 3000)
        notify_wait(ns, seen, sizeof seen, "never", 100);
    assert_true(count_of(seen, "READY=1") > ready_before);
    /* SIGTERM: STOPPING=1 before the exit. */
    int st = itest_daemon_stop(&d, SIGTERM, 20000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(notify_wait(ns, seen, sizeof seen, "STOPPING=1", 3000));
    assert_true(strstr(seen, "READY=1") < strstr(seen, "STOPPING=1"));
    close(ns);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

static void test_socket_activation(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    /* What systemd's .socket unit does: bind and listen, then pass the fd. */
    char run[400];
    snprintf(run, sizeof run, "%s/run", d.dir);
    assert_int_equal(mkdir(run, 0755), 0);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(ls >= 0);
    struct sockaddr_un sa;
    fill_sun(&sa, d.socket);
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(ls, 16), 0);
    struct stat ours;
    assert_int_equal(stat(d.socket, &ours), 0);

    d.listen_fd = ls;
    assert_int_equal(itest_daemon_spawn(&d, NULL), 0);
    const char *started[] = {" start ", "socket_activated=true", NULL};
    assert_true(itest_log_wait(&d, started, 1, 20000));
    assert_int_equal(child_ping(NULL), CHILD_OK);
    int st = itest_daemon_stop(&d, SIGTERM, 20000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* systemd's socket: neither replaced nor removed. */
    struct stat now;
    assert_int_equal(stat(d.socket, &now), 0);
    assert_true(now.st_ino == ours.st_ino && now.st_dev == ours.st_dev);

    /* A client that connects while no instance runs waits in the queue
     * and is answered by the next one. */
    size_t len = 0;
    uint8_t *req = itest_request_vector("01_get_supported_att_key_id_num.bin", &len);
    int fd = itest_connect(d.socket);
    assert_true(fd >= 0);
    assert_int_equal(itest_send_all(fd, req, len), 0);
    assert_int_equal(itest_daemon_spawn(&d, NULL), 0);
    uint8_t *resp = NULL;
    ssize_t n = itest_read_to_eof(fd, 20000, &resp);
    assert_int_equal(n, 11);
    Aesm__Response *r = NULL;
    assert_int_equal(wire_response_decode(resp + 4, (size_t)n - 4, &r), WIRE_OK);
    assert_non_null(r->getsupportedattkeyidnumres);
    assert_int_equal(r->getsupportedattkeyidnumres->errorcode, 0);
    wire_response_free(r);
    free(resp);
    free(req);
    close(fd);
    assert_int_equal(itest_daemon_cleanup_keep(&d), 0);
    assert_int_equal(stat(d.socket, &now), 0);
    close(ls);
    d.listen_fd = -1;
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acl_denies_cleanly_and_counts),
        cmocka_unit_test(test_rate_limit_holds),
        cmocka_unit_test(test_rate_limit_keys_by_pod),
        cmocka_unit_test(test_sighup_reloads_without_dropping),
        cmocka_unit_test(test_environment_and_config_file),
        cmocka_unit_test(test_sd_notify),
        cmocka_unit_test(test_socket_activation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
