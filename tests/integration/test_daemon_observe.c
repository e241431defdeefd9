/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What operators see (issue 5 "Observability"): the real daemon with
 * --http-listen. /metrics parses as Prometheus text (tests/ops/promparse.h,
 * an independent reader) and its counters move by exactly the requests this
 * test sends; /healthz and /readyz answer, and /readyz fails while the
 * backend is deliberately broken (--fault-file) and recovers after; each
 * request's JSON log line names our pid/uid/gid, and with a fake
 * /proc/PID/cgroup (--proc-root) the pod UID and container id; quote lines
 * carry the app's MRENCLAVE/MRSIGNER and error lines a remediation hint.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../ops/promparse.h"
#include "harness.h"
#include "sim/sim.h"

#define POD_UID "05b3ee07-a2bd-47e7-9599-7961201f20dd"
#define CONTAINER_ID "1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119"

static itest_qex g_qex;

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

static double val(const pp_doc *d, const char *name, const char *labels)
{
    double v = 0;
    if (!pp_get(d, name, labels, &v))
        return 0; /* a series that does not exist yet counts as 0 */
    return v;
}

static double delta(const pp_doc *a, const pp_doc *b, const char *name, const char *labels)
{
    return val(b, name, labels) - val(a, name, labels);
}

static int get_status(int port, const char *path, char **body)
{
    int status = 0;
    char *b = NULL;
    assert_int_equal(itest_http_get(port, path, &status, &b), 0);
    if (body != NULL)
        *body = b;
    else
        free(b);
    return status;
}

/* Polls path until it answers `want` (the readiness result is cached for
 * up to a second). */
static char *wait_status(int port, const char *path, int want)
{
    int64_t give_up = itest_now_ms() + 8000;
    for (;;) {
        char *body = NULL;
        int st = get_status(port, path, &body);
        if (st == want)
            return body;
        if (itest_now_ms() > give_up)
            fail_msg("%s stayed %d (wanted %d): %s", path, st, want, body);
        free(body);
        usleep(100 * 1000);
    }
}

static void full_init(sgx_target_info_t *ti)
{
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    size_t size = 32;
    uint8_t pk[32];
    assert_int_equal(g_qex.init_quote_ex(&kid, ti, &size, pk), SGX_SUCCESS);
}

/* ---- the HTTP server itself ---------------------------------------------- */

/* Sends req (len bytes) on a fresh connection and reads the answer to EOF
 * (NUL-terminated, malloc'd); the status code, or -1. */
static int raw_http(int port, const char *req, size_t len, char **resp)
{
    int fd = itest_tcp_connect_from("127.0.0.1", port);
    assert_true(fd >= 0);
    assert_int_equal(itest_send_all(fd, req, len), 0);
    uint8_t *buf = NULL;
    long n = itest_read_to_eof(fd, 5000, &buf);
    close(fd);
    assert_true(n >= 0);
    char *text = realloc(buf, (size_t)n + 1);
    assert_non_null(text);
    text[n] = '\0';
    *resp = text;
    if (n < 12 || memcmp(text, "HTTP/1.1 ", 9) != 0)
        return -1;
    return atoi(text + 9);
}

/* The body after the head, or NULL. */
static const char *body_of(const char *resp)
{
    const char *at = strstr(resp, "\r\n\r\n");
    return at != NULL ? at + 4 : NULL;
}

static void test_http_methods_and_malformed_requests(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    int port = itest_daemon_start_http(&d, NULL);
    assert_true(port > 0);
    char *resp = NULL;

    /* HEAD: the fields GET would get, Content-Length included, no body. */
    static const char head[] = "HEAD /healthz HTTP/1.0\r\n\r\n";
    assert_int_equal(raw_http(port, head, sizeof head - 1, &resp), 200);
    assert_non_null(strstr(resp, "\r\nContent-Length: 3\r\n"));
    assert_non_null(strstr(resp, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(resp, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(resp, "\r\nCache-Control: no-store\r\n"));
    assert_string_equal(body_of(resp), "");
    free(resp);

    /* A query string does not change the path. */
    static const char query[] = "GET /healthz?verbose=1 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(raw_http(port, query, sizeof query - 1, &resp), 200);
    assert_string_equal(body_of(resp), "ok\n");
    free(resp);

    /* Another method, with a body the daemon reads and drops: 405 arrives
     * whole (no reset for unread bytes). */
    static const char post[] = "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    assert_int_equal(raw_http(port, post, sizeof post - 1, &resp), 405);
    assert_non_null(strstr(resp, "\r\nAllow: GET, HEAD\r\n"));
    assert_string_equal(body_of(resp), "only GET and HEAD\n");
    free(resp);

    static const char no_host[] = "GET /healthz HTTP/1.1\r\n\r\n";
    assert_int_equal(raw_http(port, no_host, sizeof no_host - 1, &resp), 400);
    free(resp);
    static const char fold[] = "GET /healthz HTTP/1.0\r\nA: b\r\n c\r\n\r\n";
    assert_int_equal(raw_http(port, fold, sizeof fold - 1, &resp), 400);
    free(resp);
    static const char v2[] = "GET /healthz HTTP/2.0\r\n\r\n";
    assert_int_equal(raw_http(port, v2, sizeof v2 - 1, &resp), 505);
    free(resp);

    /* A head that does not end within 8 KiB: 431 at once, not a wait for
     * the deadline. */
    enum { BIG = 9000 };
    char *big = malloc(BIG);
    assert_non_null(big);
    memcpy(big, "GET /healthz HTTP/1.0\r\nX: ", 26);
    memset(big + 26, 'a', BIG - 26);
    int64_t t0 = itest_now_ms();
    assert_int_equal(raw_http(port, big, BIG, &resp), 431);
    assert_true(itest_now_ms() - t0 < 1500);
    free(resp);
    free(big);

    /* And the endpoint still answers. */
    assert_int_equal(get_status(port, "/healthz", NULL), 200);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- metrics and probes ------------------------------------------------- */

static void test_metrics_move_by_exactly_our_requests(void **state)
{
    (void)state;
    time_t t_start = time(NULL);
    itest_daemon d;
    itest_daemon_init_qex(&d);
    int port = itest_daemon_start_http(&d, NULL);
    assert_true(port > 0);

    char *body = NULL;
    assert_int_equal(get_status(port, "/healthz", &body), 200);
    assert_string_equal(body, "ok\n");
    free(body);
    assert_int_equal(get_status(port, "/readyz", &body), 200);
    assert_string_equal(body, "ready\n");
    free(body);
    assert_int_equal(get_status(port, "/nothing-here", NULL), 404);

    pp_doc *a = itest_metrics_scrape(port);
    /* Every family the issue asks for is there from the start. */
    static const char *const families[] = {
        "sgx_quote_helper_requests_total", "sgx_quote_helper_request_duration_seconds",
        "sgx_quote_helper_connections_active", "sgx_quote_helper_connections_rejected_total",
        "sgx_quote_helper_backend_ready", "sgx_quote_helper_qe_svn", "sgx_quote_helper_pce_svn",
        "sgx_quote_helper_build_info", "process_start_time_seconds"};
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        assert_non_null(pp_find_family(a, families[i]));
    static const char *const reasons[] = {"limit", "deadline", "oversize", "acl", "ratelimit"};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        char l[64];
        double v = -1;
        snprintf(l, sizeof l, "reason=\"%s\"", reasons[i]);
        assert_true(pp_get(a, "sgx_quote_helper_connections_rejected_total", l, &v));
        assert_true(v == 0);
    }
    assert_true(val(a, "sgx_quote_helper_backend_ready", "") == 1);
    assert_true(val(a, "sgx_quote_helper_build_info", "version=\"0.1.0\",backend=\"sim\"") == 1);
    double started = val(a, "process_start_time_seconds", "");
    assert_true(started >= (double)t_start - 2 && started <= (double)time(NULL) + 1);

    /* The requests: 3 + 2 + 2 + 4 through the client library, one request
     * the service does not know (closed), one oversize prefix (rejected). */
    uint32_t num = 0;
    for (int i = 0; i < 3; i++)
        assert_int_equal(g_qex.get_supported_att_key_id_num(&num), SGX_SUCCESS);
    sgx_target_info_t ti;
    full_init(&ti);
    full_init(&ti);
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    uint32_t qsize = 0;
    assert_int_equal(g_qex.get_quote_size_ex(&kid, &qsize), SGX_SUCCESS);
    assert_int_equal(g_qex.get_quote_size_ex(&kid, &qsize), SGX_SUCCESS);
    sgx_report_t report;
    itest_app_report(&ti, NULL, &report);
    uint8_t *quote = malloc(qsize);
    assert_non_null(quote);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g_qex.get_quote_ex(&report, &kid, NULL, quote, qsize), SGX_SUCCESS);
    /* Independent of the daemon: QE and PCE SVN from our quote's header
     * (quote-format §2: little-endian u16 at 8 and 10). */
    double qe_svn = quote[8] | quote[9] << 8, pce_svn = quote[10] | quote[11] << 8;
    free(quote);

    uint8_t junk[4 + 16] = {16, 0, 0, 0};
    memset(junk + 4, 0xff, 16); /* not a protobuf Request */
    uint8_t *resp = NULL;
    size_t rlen = 0;
    assert_int_equal(itest_exchange(d.socket, junk, sizeof junk, &resp, &rlen), 0);
    assert_int_equal(rlen, 0);
    free(resp);
    uint8_t oversize[4] = {0x01, 0x00, 0x01, 0x00}; /* 65537 > 64 KiB default */
    assert_int_equal(itest_exchange(d.socket, oversize, sizeof oversize, &resp, &rlen), 0);
    assert_int_equal(rlen, 0);
    free(resp);

    /* Every connection is closed and counted once the log says so. */
    const char *done[] = {"op=unknown", "closed-without-reply", NULL};
    assert_true(itest_log_wait(&d, done, 1, 3000));
    const char *rej[] = {" rejected ", "reason=oversize", NULL};
    assert_true(itest_log_wait(&d, rej, 1, 3000));
    /* A connection leaves the active gauge when its handles are closed,
     * just after its log line: wait for that. */
    pp_doc *b = NULL;
    int64_t settle = itest_now_ms() + 3000;
    for (;;) {
        b = itest_metrics_scrape(port);
        if (val(b, "sgx_quote_helper_connections_active", "") == 0 || itest_now_ms() > settle)
            break;
        free(b);
        usleep(20 * 1000);
    }

    const char *R = "sgx_quote_helper_requests_total";
    assert_true(delta(a, b, R, "op=\"GetSupportedAttKeyIDNum\",result=\"AESM_SUCCESS\"") == 3);
    assert_true(delta(a, b, R, "op=\"InitQuoteEx\",result=\"AESM_SUCCESS\"") == 2);
    assert_true(delta(a, b, R, "op=\"GetQuoteSizeEx\",result=\"AESM_SUCCESS\"") == 2);
    assert_true(delta(a, b, R, "op=\"GetQuoteEx\",result=\"AESM_SUCCESS\"") == 4);
    assert_true(delta(a, b, R, "op=\"unknown\",result=\"closed\"") == 1);
    /* Nothing else moved: the sum over all series is exactly 12. */
    double total_a = 0, total_b = 0;
    for (size_t i = 0; i < a->n_samples; i++)
        if (strcmp(a->samples[i].name, R) == 0)
            total_a += a->samples[i].value;
    for (size_t i = 0; i < b->n_samples; i++)
        if (strcmp(b->samples[i].name, R) == 0)
            total_b += b->samples[i].value;
    assert_true(total_b - total_a == 12);
    const char *H = "sgx_quote_helper_request_duration_seconds_count";
    assert_true(delta(a, b, H, "op=\"GetQuoteEx\"") == 4);
    assert_true(delta(a, b, H, "op=\"InitQuoteEx\"") == 2);
    assert_true(val(b, "sgx_quote_helper_request_duration_seconds_bucket",
                    "op=\"GetQuoteEx\",le=\"+Inf\"") >= 4);
    const char *J = "sgx_quote_helper_connections_rejected_total";
    assert_true(delta(a, b, J, "reason=\"oversize\"") == 1);
    assert_true(delta(a, b, J, "reason=\"deadline\"") == 0);
    assert_true(delta(a, b, J, "reason=\"limit\"") == 0);
    assert_true(val(b, "sgx_quote_helper_connections_active", "") == 0);
    assert_true(val(b, "sgx_quote_helper_qe_svn", "") == qe_svn);
    assert_true(val(b, "sgx_quote_helper_pce_svn", "") == pce_svn);
    free(a);
    free(b);

    /* A connection that is open shows as active. */
    int fd = itest_connect(d.socket);
    assert_true(fd >= 0);
    assert_int_equal(itest_send_all(fd, "\x06", 1), 0); /* mid-request */
    int64_t give_up = itest_now_ms() + 3000;
    double active = 0;
    do {
        pp_doc *c = itest_metrics_scrape(port);
        active = val(c, "sgx_quote_helper_connections_active", "");
        free(c);
    } while (active != 1 && itest_now_ms() < give_up);
    assert_true(active == 1);
    close(fd);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* --fault-file breaks the backend on demand: /readyz turns 503 with the
 * reason and its hint, the gauge drops to 0, requests fail with the code
 * and a hint in their log line, /healthz stays 200; removing the file
 * makes it ready again. */
static void test_readyz_fails_while_backend_broken(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    char fault[400];
    snprintf(fault, sizeof fault, "%s/fault", d.dir);
    const char *args[] = {"--fault-file", fault, NULL};
    int port = itest_daemon_start_http(&d, args);
    assert_true(port > 0);
    free(wait_status(port, "/readyz", 200));

    assert_int_equal(itest_write_file(fault, "44\n", 3), 0); /* AESM_NO_PLATFORM_CERT_DATA */
    char *body = wait_status(port, "/readyz", 503);
    assert_non_null(strstr(body, "not ready"));
    assert_non_null(strstr(body, "AESM_NO_PLATFORM_CERT_DATA (44)"));
    free(body);
    assert_int_equal(get_status(port, "/healthz", NULL), 200);
    pp_doc *m = itest_metrics_scrape(port);
    assert_true(val(m, "sgx_quote_helper_backend_ready", "") == 0);
    free(m);
    const char *changed[] = {" readiness ", "ready=false", "AESM_NO_PLATFORM_CERT_DATA", NULL};
    assert_true(itest_log_wait(&d, changed, 1, 3000));

    /* Clients see the failure too: 44 via GetQuoteSizeEx is 0x0001 (aesm
     * §5.4), and the daemon's line says why, with a hint. */
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    uint32_t qsize = 0;
    assert_int_equal(g_qex.get_quote_size_ex(&kid, &qsize), SGX_ERROR_UNEXPECTED);
    const char *failed[] = {" request ", "op=GetQuoteSizeEx", "result=AESM_NO_PLATFORM_CERT_DATA",
                            "code=44", "hint=", NULL};
    assert_true(itest_log_wait(&d, failed, 1, 3000));

    assert_int_equal(unlink(fault), 0);
    free(wait_status(port, "/readyz", 200));
    m = itest_metrics_scrape(port);
    assert_true(val(m, "sgx_quote_helper_backend_ready", "") == 1);
    free(m);
    assert_int_equal(g_qex.get_quote_size_ex(&kid, &qsize), SGX_SUCCESS);

    /* While draining after SIGTERM, /readyz says so (a held connection
     * keeps the daemon draining). */
    int fd = itest_connect(d.socket);
    assert_true(fd >= 0);
    assert_int_equal(itest_send_all(fd, "\x06", 1), 0);
    assert_int_equal(kill(d.pid, SIGTERM), 0);
    body = wait_status(port, "/readyz", 503);
    assert_non_null(strstr(body, "stopping"));
    free(body);
    close(fd);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

/* ---- log lines and attribution ----------------------------------------- */

typedef struct {
    json_t *lines[256];
    size_t n;
} json_log;

static void read_json_log(const itest_daemon *d, json_log *out)
{
    out->n = 0;
    char *log = itest_daemon_log(d);
    assert_non_null(log);
    char *save = NULL;
    for (char *line = strtok_r(log, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *j = json_loads(line, 0, &jerr);
        if (j == NULL)
            fail_msg("not a JSON line: %s (%s)", line, jerr.text);
        if (out->n < sizeof out->lines / sizeof out->lines[0])
            out->lines[out->n++] = j;
        else
            json_decref(j);
    }
    free(log);
}

static void free_json_log(json_log *l)
{
    for (size_t i = 0; i < l->n; i++)
        json_decref(l->lines[i]);
    l->n = 0;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The request line of op from pid (the last one), or NULL. */
static json_t *find_request(const json_log *l, const char *op, long long pid)
{
    json_t *found = NULL;
    for (size_t i = 0; i < l->n; i++) {
        json_t *j = l->lines[i];
        const char *ev = jstr(j, "event");
        if (ev != NULL && strcmp(ev, "request") == 0 && jstr(j, "op") != NULL &&
            strcmp(jstr(j, "op"), op) == 0 && json_integer_value(json_object_get(j, "pid")) == pid)
            found = j;
    }
    return found;
}

static void hex64(const uint8_t v[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", v[i]);
}

static int child_ping(void *arg)
{
    (void)arg;
    uint32_t num = 0;
    return g_qex.get_supported_att_key_id_num(&num) == SGX_SUCCESS && num == 1 ? 0 : 1;
}

static void test_log_lines_carry_peer_pod_and_enclave(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init_qex(&d);
    /* A fake /proc: our pid sits in a kubelet-made cgroup (cgroup v2,
     * systemd driver, containerd), exactly as on a node. */
    char proc[400], dir[480], path[520];
    snprintf(proc, sizeof proc, "%s/proc", d.dir);
    snprintf(dir, sizeof dir, "%s/%ld", proc, (long)getpid());
    assert_int_equal(mkdir(proc, 0755), 0);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/cgroup", dir);
    static const char cgroup[] =
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
        "05b3ee07_a2bd_47e7_9599_7961201f20dd.slice/cri-containerd-" CONTAINER_ID ".scope\n";
    assert_int_equal(itest_write_file(path, cgroup, strlen(cgroup)), 0);

    const char *args[] = {"--log-format", "json", "--proc-root", proc, NULL};
    assert_int_equal(itest_daemon_start(&d, args), 0);

    uint32_t num = 0;
    assert_int_equal(g_qex.get_supported_att_key_id_num(&num), SGX_SUCCESS);
    sgx_target_info_t ti;
    full_init(&ti);
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    sgx_report_t report;
    itest_app_report(&ti, NULL, &report);
    uint8_t quote[8192];
    assert_int_equal(g_qex.get_quote_ex(&report, &kid, NULL, quote, sizeof quote), SGX_SUCCESS);
    /* A report whose MAC is broken: AESM_INVALID_REPORT (47), with a hint. */
    report.mac[0] ^= 1;
    assert_int_equal(g_qex.get_quote_ex(&report, &kid, NULL, quote, sizeof quote),
                     SGX_ERROR_MAC_MISMATCH);
    /* Another process, with no cgroup file under the fake /proc. */
    itest_child child;
    assert_int_equal(itest_child_start(&child, -1, -1, child_ping, NULL), 0);
    long long child_pid = child.pid;
    assert_int_equal(itest_child_wait(&child, 10000), 0);

    const char *want[] = {"\"event\":\"request\"", NULL};
    assert_true(itest_log_wait(&d, want, 5, 3000));
    json_log l;
    read_json_log(&d, &l);

    json_t *ping = find_request(&l, "GetSupportedAttKeyIDNum", getpid());
    assert_non_null(ping);
    assert_string_equal(jstr(ping, "result"), "AESM_SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(ping, "code")), 0);
    assert_true(json_is_number(json_object_get(ping, "latency_ms")));
    assert_int_equal(json_integer_value(json_object_get(ping, "uid")), getuid());
    assert_int_equal(json_integer_value(json_object_get(ping, "gid")), getgid());
    assert_string_equal(jstr(ping, "pod_uid"), POD_UID);
    assert_string_equal(jstr(ping, "container_id"), CONTAINER_ID);
    assert_null(json_object_get(ping, "hint"));

    /* The quote line: the app enclave's identity, from the simulated
     * enclave's own definition (not from the daemon). */
    sim_enclave_identity id;
    sim_enclave_identity_default(&id);
    char mre[65], mrs[65];
    hex64(id.mr_enclave, mre);
    hex64(id.mr_signer, mrs);
    json_t *q = NULL;
    for (size_t i = 0; i < l.n; i++) {
        json_t *j = l.lines[i];
        if (jstr(j, "op") != NULL && strcmp(jstr(j, "op"), "GetQuoteEx") == 0 &&
            json_integer_value(json_object_get(j, "code")) == 0)
            q = j;
    }
    assert_non_null(q);
    assert_string_equal(jstr(q, "mrenclave"), mre);
    assert_string_equal(jstr(q, "mrsigner"), mrs);
    assert_string_equal(jstr(q, "pod_uid"), POD_UID);

    json_t *bad = NULL;
    for (size_t i = 0; i < l.n; i++) {
        json_t *j = l.lines[i];
        if (jstr(j, "op") != NULL && strcmp(jstr(j, "op"), "GetQuoteEx") == 0 &&
            json_integer_value(json_object_get(j, "code")) == 47)
            bad = j;
    }
    assert_non_null(bad);
    assert_string_equal(jstr(bad, "result"), "AESM_INVALID_REPORT");
    assert_string_equal(jstr(bad, "level"), "warn");
    assert_non_null(jstr(bad, "hint"));
    assert_true(strlen(jstr(bad, "hint")) > 10);
    assert_null(strchr(jstr(bad, "hint"), '\n'));

    json_t *other = find_request(&l, "GetSupportedAttKeyIDNum", child_pid);
    assert_non_null(other);
    assert_int_equal(json_integer_value(json_object_get(other, "uid")), getuid());
    assert_null(json_object_get(other, "pod_uid"));
    assert_null(json_object_get(other, "container_id"));
    free_json_log(&l);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_move_by_exactly_our_requests),
        cmocka_unit_test(test_http_methods_and_malformed_requests),
        cmocka_unit_test(test_readyz_fails_while_backend_broken),
        cmocka_unit_test(test_log_lines_carry_peer_pod_and_enclave),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
