/* SPDX-License-Identifier: Apache-2.0 */
/*
 * End to end on a temp socket: sgx-quote-helperd --backend hw pointed at the
 * test doubles of Intel's logic libraries, driven the way applications
 * drive aesmd: raw requests (Intel's own bytes from shared/vectors where
 * they fit) for the aesm errorCode on the wire, and our libsgx_quote_ex.so.1
 * (dlopen'ed, the exported ABI) for the sgx_status_t a DCAP app sees. Each
 * injected quote3_error_t must come out exactly as aesmd's would: expected
 * aesm codes, sgx_status_t and quote3_error_t are typed in from the tables
 * in aesm-protocol §5.4/§5.5, never taken from our mapping code. With
 * --http-listen, a broken QE3 or missing PCK data turns /readyz 503 with
 * the aesm code, and a healthy platform answers 200.
 *
 * argv: DAEMON_EXE DOUBLES_DIR LIBSGX_QUOTE_EX_SO SGX_QUOTE_EXE
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
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
#include <netinet/in.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/client.h"
#include "crypto/crypto.h"
#include "hw_tutil.h"
#include "sgxqh/quote.h"
#include "sim/sim.h"
#include "wire/wire.h"

#define PJOIN(buf, ...) assert_true((size_t)snprintf(buf, sizeof(buf), __VA_ARGS__) < sizeof(buf))

static const char *g_daemon;
static char g_dbl_dir[PATH_MAX];
static const char *g_quote_ex_so;
static const char *g_cli; /* sgx-quote, for doctor */
static char g_tmp[PATH_MAX];
static char g_state[PATH_MAX];

/* ---- our libsgx_quote_ex.so.1, through its exported names ---- */
typedef struct {
    void *dl;
    sgx_status_t (*select_att_key_id)(const uint8_t *, uint32_t, sgx_att_key_id_t *);
    sgx_status_t (*init_quote_ex)(const sgx_att_key_id_t *, sgx_target_info_t *, size_t *,
                                  uint8_t *);
    sgx_status_t (*get_quote_size_ex)(const sgx_att_key_id_t *, uint32_t *);
    sgx_status_t (*get_quote_ex)(const sgx_report_t *, const sgx_att_key_id_t *,
                                 sgx_qe_report_info_t *, uint8_t *, uint32_t);
} quote_ex_lib;
static quote_ex_lib g_qe;

/* The daemon a test started and has not stopped yet: a failed assertion
 * jumps out of the test, and the per-test teardown must not leave it running. */
static pid_t g_live_daemon;

/* Set: the next daemon_start also passes --http-listen with this value. */
static const char *g_http_listen;
/* Set: one more "KEY=VALUE" for the daemon's environment (the QPL
 * double's knobs), and another --hw-lib-dir than the doubles' own. */
static const char *g_extra_env;
static const char *g_lib_dir;

/* ---- a daemon per scenario ---- */
typedef struct {
    pid_t pid;
    char socket[PATH_MAX];
    char log[PATH_MAX];    /* the doubles' event log */
    char stderr_path[PATH_MAX];
} daemon_run;

static void env_add(char **envp, size_t *n, const char *key, const char *value)
{
    size_t len = strlen(key) + strlen(value) + 2;
    char *kv = malloc(len);
    assert_non_null(kv);
    snprintf(kv, len, "%s=%s", key, value);
    envp[(*n)++] = kv;
}

static bool socket_answers(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;
    if (fd < 0)
        return false;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n >= sizeof(sa.sun_path)) {
        close(fd);
        return false;
    }
    memcpy(sa.sun_path, path, n + 1);
    ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Start the daemon; returns 0 when its socket accepts, or the exit status
 * (+1000) if it exited first. fail/on/aesm_addr NULL = unset. */
static int daemon_start(daemon_run *d, const char *tag, const char *fail, const char *on,
                        const char *aesm_addr)
{
    char *envp[16];
    size_t n = 0;
    const char *path = getenv("PATH");
    static int seq;

    memset(d, 0, sizeof(*d));
    seq++;
    PJOIN(d->socket, "%s/aesm-%d.socket", g_tmp, seq);
    PJOIN(d->log, "%s/%s-%d.log", g_tmp, tag, seq);
    PJOIN(d->stderr_path, "%s/%s-%d.stderr", g_tmp, tag, seq);
    env_add(envp, &n, "PATH", path != NULL ? path : "/usr/bin:/bin");
    env_add(envp, &n, "SGXQH_HWDOUBLE_STATE_DIR", g_state);
    env_add(envp, &n, "SGXQH_HWDOUBLE_LOG", d->log);
    env_add(envp, &n, "QCNL_CONF_PATH", "/nonexistent/sgx_default_qcnl.conf");
    if (fail != NULL)
        env_add(envp, &n, "SGXQH_HWDOUBLE_FAIL", fail);
    if (on != NULL)
        env_add(envp, &n, "SGXQH_HWDOUBLE_FAIL_ON", on);
    if (aesm_addr != NULL)
        env_add(envp, &n, "SGX_AESM_ADDR", aesm_addr);
    if (g_extra_env != NULL) {
        char key[64];
        const char *eq = strchr(g_extra_env, '=');
        assert_non_null(eq);
        snprintf(key, sizeof(key), "%.*s", (int)(eq - g_extra_env), g_extra_env);
        env_add(envp, &n, key, eq + 1);
    }
    /* Sanitizer settings pass through so the ASan run checks the daemon too. */
    if (getenv("ASAN_OPTIONS") != NULL)
        env_add(envp, &n, "ASAN_OPTIONS", getenv("ASAN_OPTIONS"));
    if (getenv("UBSAN_OPTIONS") != NULL)
        env_add(envp, &n, "UBSAN_OPTIONS", getenv("UBSAN_OPTIONS"));
    envp[n] = NULL;

    d->pid = fork();
    assert_true(d->pid >= 0);
    if (d->pid > 0)
        g_live_daemon = d->pid;
    if (d->pid == 0) {
        int fd = open(d->stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        char *const argv[] = {(char *)g_daemon, "--backend", "hw", "--hw-lib-dir",
                              g_lib_dir != NULL ? (char *)g_lib_dir : g_dbl_dir,
                              "--socket", d->socket,
                              g_http_listen != NULL ? "--http-listen" : NULL,
                              (char *)g_http_listen, NULL};
        execve(g_daemon, argv, envp);
        _exit(127);
    }
    for (size_t i = 0; i < n; i++)
        free(envp[i]);
    for (int waited = 0; waited < 20000; waited += 20) {
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            d->pid = 0;
            g_live_daemon = 0;
            return 1000 + (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        }
        if (socket_answers(d->socket))
            return 0;
        sleep_ms(20);
    }
    fail_msg("the daemon did not open %s within 20 s", d->socket);
    return -1;
}

static void daemon_stop(daemon_run *d)
{
    int st = 0;
    if (d->pid <= 0)
        return;
    g_live_daemon = 0;
    kill(d->pid, SIGTERM);
    for (int waited = 0; waited < 15000; waited += 20) {
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            d->pid = 0;
            assert_true(WIFEXITED(st));
            assert_int_equal(WEXITSTATUS(st), 0);
            return;
        }
        sleep_ms(20);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &st, 0);
    d->pid = 0;
    fail_msg("the daemon did not stop on SIGTERM");
}

static void show_stderr(const daemon_run *d)
{
    char *t = hwt_read_text(d->stderr_path);
    if (t != NULL)
        print_message("--- daemon stderr ---\n%s---\n", t);
    free(t);
}

/* ---- raw requests ---- */

static Aesm__Response *transact(const daemon_run *d, const uint8_t *frame, size_t len)
{
    client_opts o;
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    Aesm__Response *r = NULL;

    client_opts_default(&o);
    o.socket_path = d->socket;
    assert_int_equal(client_transact(&o, frame, len, WIRE_MAX_FRAME_BODY, &resp, &resp_len), 0);
    assert_int_equal(wire_response_decode(resp, resp_len, &r), WIRE_OK);
    free(resp);
    return r;
}

/* A recorded client frame (aesm-requests/<name>) sent as is. */
static Aesm__Response *transact_vector(const daemon_run *d, const char *name)
{
    char rel[PATH_MAX];
    size_t len;
    uint8_t *frame;
    Aesm__Response *r;

    PJOIN(rel, "aesm-requests/%s", name);
    frame = ts_read_vector(rel, &len);
    assert_true(len > 4);
    r = transact(d, frame, len);
    free(frame);
    return r;
}

/* InitQuoteEx(b_pub_key_id = true, buf_size = 32) exactly as Intel's client sends it. */
static int raw_init(const daemon_run *d, sgx_target_info_t *ti)
{
    Aesm__Response *r = transact_vector(d, "05_init_quote_ex_with_pub_key_id_buf.bin");
    int code;
    assert_non_null(r->initquoteexres);
    code = (int)r->initquoteexres->errorcode;
    if (code == 0 && ti != NULL) {
        assert_int_equal(r->initquoteexres->target_info.len, 512);
        memcpy(ti, r->initquoteexres->target_info.data, 512);
    }
    wire_response_free(r);
    return code;
}

static int raw_size(const daemon_run *d, uint32_t *size)
{
    Aesm__Response *r = transact_vector(d, "06_get_quote_size_ex.bin");
    int code;
    assert_non_null(r->getquotesizeexres);
    code = (int)r->getquotesizeexres->errorcode;
    if (size != NULL)
        *size = r->getquotesizeexres->quote_size;
    wire_response_free(r);
    return code;
}

static int raw_quote(const daemon_run *d, const sgx_report_t *report, uint32_t buf_size)
{
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__GetQuoteExRequest q = AESM__REQUEST__GET_QUOTE_EX_REQUEST__INIT;
    sgx_att_key_id_t kid;
    uint8_t *frame = NULL;
    size_t len = 0;
    Aesm__Response *r;
    int code;

    client_default_ecdsa_key_id(&kid);
    q.has_report = 1;
    q.report.data = (uint8_t *)report;
    q.report.len = sizeof(*report);
    q.has_att_key_id = 1;
    q.att_key_id.data = kid.att_key_id;
    q.att_key_id.len = sizeof(kid);
    q.has_buf_size = 1;
    q.buf_size = buf_size;
    q.has_timeout = 1;
    q.timeout = 15000;
    req.getquoteexreq = &q;
    assert_int_equal(wire_frame_encode(&req.base, &frame, &len), WIRE_OK);
    r = transact(d, frame, len);
    free(frame);
    assert_non_null(r->getquoteexres);
    code = (int)r->getquoteexres->errorcode;
    wire_response_free(r);
    return code;
}

/* ---- expectations from the spec ---- */

/* What libsgx_dcap_ql makes of an sgx_status_t (sgx_status_to_quote3_error,
 * aesm §5.4 table and §7; unknown values → 0xE001). */
static uint32_t dcap_quote3_from_status(uint32_t s)
{
    switch (s) {
    case 0x0000: return 0x0000;
    case 0x0001: return 0xE001;
    case 0x0002: return 0xE002;
    case 0x0003: return 0xE003;
    case 0x2005: return 0xE001;
    case 0x2006: return 0xE03F;
    case 0x3001: return 0xE001;
    case 0x4001: return 0xE040;
    case 0x4002: return 0xE042;
    case 0x4007: return 0xE041;
    case 0x400A: return 0xE043;
    case 0x8001: return 0xE00B;
    case 0x8002: return 0xE010;
    case 0x8003: return 0xE00F;
    case 0x8005: return 0xE011;
    default: return 0xE001;
    }
}

static void app_report_for(const sgx_target_info_t *qe_ti, sgx_report_t *report,
                           sgx_target_info_t *app_ti)
{
    sim_enclave_identity id;
    sim_enclave_identity_default(&id);
    memset(id.report_data, 0x42, sizeof(id.report_data));
    assert_int_equal(sim_ereport(&id, qe_ti, report), SIM_OK);
    sgx_target_info_from_report(&report->body, app_ti);
}

/* The QE3 target info every scenario's report is made for: the double's
 * simulated QE, read from the platform twin (same state dir and instance). */
static void qe_target_info(sgx_target_info_t *ti)
{
    sim_options opt;
    sim_platform *p = NULL;
    char err[256];
    memset(&opt, 0, sizeof(opt));
    sim_tcb_config_default(&opt.tcb);
    opt.state_dir = g_state;
    opt.instance = "hwdouble";
    assert_int_equal(sim_platform_open(&opt, &p, err, sizeof(err)), SIM_OK);
    sim_qe_target_info(p, ti);
    sim_platform_close(p);
}

/* ---- tests ---- */

/* DCAP's sequence through our libsgx_quote_ex against --backend hw, with
 * SGX_AESM_ADDR=1 in the daemon's environment (as Intel's webhook injects
 * it): the daemon must not see it when it loads Intel's libraries. */
static void test_full_sequence_with_sgx_aesm_addr_set(void **state)
{
    daemon_run d;
    sgx_att_key_id_t kid;
    sgx_target_info_t ti, twin_ti, app_ti;
    sgx_report_t report;
    sgx_qe_report_info_t qri;
    size_t pub_size = 0;
    uint8_t pub[32];
    uint32_t size = 0;
    uint8_t *quote;

    (void)state;
    assert_int_equal(daemon_start(&d, "full", NULL, NULL, "1"), 0);
    setenv("SGX_AESM_ADDR", d.socket, 1); /* our client: an absolute path is the socket */

    /* sgx_select_att_key_id with no list → the one ECDSA key id. */
    assert_int_equal(g_qe.select_att_key_id(NULL, 0, &kid), SGX_SUCCESS);
    /* DCAP's two-step init (aesm §7): size query, then the real one. */
    assert_int_equal(g_qe.init_quote_ex(&kid, &ti, &pub_size, NULL), SGX_SUCCESS);
    assert_int_equal(pub_size, 32);
    assert_int_equal(g_qe.init_quote_ex(&kid, &ti, &pub_size, pub), SGX_SUCCESS);
    qe_target_info(&twin_ti);
    assert_memory_equal(&ti, &twin_ti, sizeof(ti));
    assert_int_equal(g_qe.get_quote_size_ex(&kid, &size), SGX_SUCCESS);
    assert_in_range(size, 1052 + 500, 1052 + 12294);

    app_report_for(&ti, &report, &app_ti);
    memset(&qri, 0, sizeof(qri));
    memset(qri.nonce, 0x19, 16);
    qri.app_enclave_target_info = app_ti;
    quote = calloc(1, size);
    assert_non_null(quote);
    assert_int_equal(g_qe.get_quote_ex(&report, &kid, &qri, quote, size), SGX_SUCCESS);
    assert_int_equal(436 + hwt_le32(quote + 432), size);
    assert_memory_equal(quote + 48, &report.body, 384);
    assert_int_equal(quote[1046] | quote[1047] << 8, 5);
    {
        uint8_t digest[32];
        crypto_buf parts[2] = {{qri.nonce, 16}, {quote, size}};
        assert_int_equal(crypto_sha256_parts(parts, 2, digest), 0);
        assert_memory_equal(qri.qe_report.body.report_data, digest, 32);
        assert_int_equal(sim_verify_report(&app_ti, report.body.cpu_svn, &qri.qe_report), SIM_OK);
    }
    free(quote);

    /* Intel's own request bytes work too (aesm vectors 05, 06). */
    assert_int_equal(raw_init(&d, NULL), 0);
    assert_int_equal(raw_size(&d, &size), 0);

    daemon_stop(&d);
    {
        char *log = hwt_read_text(d.log);
        assert_non_null(log);
        /* Loaded by the daemon with the variable already gone, never refused. */
        assert_non_null(strstr(log, "qe3 loaded aesm_addr=unset"));
        assert_null(strstr(log, "aesm_addr=set"));
        assert_null(strstr(log, "refusing"));
        /* PERSISTENT, and QE3 loaded before the first client request. */
        assert_non_null(strstr(log, "qe3 set_policy 0"));
        assert_true(strstr(log, "qe3 load_qe") < strstr(log, "qe3 init_quote"));
        free(log);
    }
    unsetenv("SGX_AESM_ADDR");
}

typedef struct {
    const char *fail;
    const char *on;
    int aesm;            /* §5.5: what aesmd sends for this quote3_error_t */
    uint32_t sgx[3];     /* §5.4: sgx_status_t via init, size, quote */
    uint32_t quote3[3];  /* §5.4: what a DCAP app finally sees */
} scenario;

/* aesm-protocol §5.4 rows for the injected codes. */
static const scenario SCENARIOS[] = {
    /* NO_PLATFORM_CERT_DATA → 44: 0x8005→0xE011 on init, else 0x0001→0xE001 */
    {"0xE011", NULL, 44, {0x8005, 0x0001, 0x0001}, {0xE011, 0xE001, 0xE001}},
    /* NETWORK_ERROR → 12 → 0x4007 → 0xE041 */
    {"0xE019", NULL, 12, {0x4007, 0x4007, 0x4007}, {0xE041, 0xE041, 0xE041}},
    /* ENCLAVE_LOAD_ERROR (after start) → 48 → 0x4001 → 0xE040 */
    {"0xE016", NULL, 48, {0x4001, 0x4001, 0x4001}, {0xE040, 0xE040, 0xE040}},
    /* ATT_KEY_NOT_INITIALIZED → 42: init 0x0001→0xE001, size/quote 0x8003→0xE00F */
    {"0xE00F", NULL, 42, {0x0001, 0x8003, 0x8003}, {0xE001, 0xE00F, 0xE00F}},
    /* OUT_OF_EPC → 29: 0x2005 / 0x0001 / 0x2005, all → 0xE001 */
    {"0xE012", NULL, 29, {0x2005, 0x0001, 0x2005}, {0xE001, 0xE001, 0xE001}},
    /* UNSUPPORTED_ATT_KEY_ID → 38 → 0x8001 → 0xE00B */
    {"0xE00B", NULL, 38, {0x8001, 0x8001, 0x8001}, {0xE00B, 0xE00B, 0xE00B}},
    /* KEY_CERTIFCATION_ERROR → 50: init 0x8002→0xE010, else 0xE001 */
    {"0xE018", NULL, 50, {0x8002, 0x0001, 0x0001}, {0xE010, 0xE001, 0xE001}},
    /* QPL's SERVICE_UNAVAILABLE: not in aesmd's table → 1 → 0x0001 → 0xE001 */
    {"0xE040", NULL, 1, {0x0001, 0x0001, 0x0001}, {0xE001, 0xE001, 0xE001}},
};

static void test_injected_errors_reach_the_client(void **state)
{
    sgx_target_info_t ti, app_ti;
    sgx_report_t report;

    (void)state;
    qe_target_info(&ti);
    app_report_for(&ti, &report, &app_ti);

    for (size_t i = 0; i < sizeof(SCENARIOS) / sizeof(SCENARIOS[0]); i++) {
        const scenario *s = &SCENARIOS[i];
        daemon_run d;
        sgx_att_key_id_t kid;
        sgx_target_info_t got_ti;
        size_t pub_size = 0;
        uint8_t pub[32];
        uint32_t size = 0;
        uint8_t quote[8192];
        uint32_t st[3];

        print_message("inject %s: expect aesm %d\n", s->fail, s->aesm);
        if (daemon_start(&d, "inject", s->fail, s->on, NULL) != 0) {
            show_stderr(&d);
            fail_msg("daemon did not start with %s injected", s->fail);
        }
        /* Wire: aesmd's code for each call. */
        assert_int_equal(raw_init(&d, NULL), s->aesm);
        assert_int_equal(raw_size(&d, &size), s->aesm);
        assert_int_equal(size, 0); /* aesm §8.3: 0 on error */
        assert_int_equal(raw_quote(&d, &report, sizeof(quote)), s->aesm);

        /* Client: the sgx_status_t Intel's libsgx_quote_ex would return. */
        setenv("SGX_AESM_ADDR", d.socket, 1);
        client_default_ecdsa_key_id(&kid);
        /* The size query does no enclave work: it succeeds whatever is broken. */
        assert_int_equal(g_qe.init_quote_ex(&kid, &got_ti, &pub_size, NULL), SGX_SUCCESS);
        assert_int_equal(pub_size, 32);
        st[0] = g_qe.init_quote_ex(&kid, &got_ti, &pub_size, pub);
        st[1] = g_qe.get_quote_size_ex(&kid, &size);
        st[2] = g_qe.get_quote_ex(&report, &kid, NULL, quote, sizeof(quote));
        unsetenv("SGX_AESM_ADDR");
        for (int c = 0; c < 3; c++) {
            print_message("  call %d: sgx 0x%04x -> quote3 0x%04x\n", c, (unsigned)st[c],
                          (unsigned)dcap_quote3_from_status(st[c]));
            assert_int_equal(st[c], s->sgx[c]);
            assert_int_equal(dcap_quote3_from_status(st[c]), s->quote3[c]);
        }
        daemon_stop(&d);
    }
}

/* No QPL: like Intel's QE3 logic, the double certifies with the encrypted
 * PPID; the client gets a 1456-byte type-3 quote (aesm §6.6). */
static void test_no_qpl_type3_quote(void **state)
{
    daemon_run d;
    sgx_att_key_id_t kid;
    sgx_target_info_t ti, app_ti;
    sgx_report_t report;
    size_t pub_size = 32;
    uint8_t pub[32], quote[1456];
    uint32_t size = 0;

    (void)state;
    assert_int_equal(daemon_start(&d, "noqpl", "0xE00E", NULL, NULL), 0);
    setenv("SGX_AESM_ADDR", d.socket, 1);
    client_default_ecdsa_key_id(&kid);
    assert_int_equal(g_qe.init_quote_ex(&kid, &ti, &pub_size, pub), SGX_SUCCESS);
    assert_int_equal(g_qe.get_quote_size_ex(&kid, &size), SGX_SUCCESS);
    assert_int_equal(size, 1456);
    app_report_for(&ti, &report, &app_ti);
    assert_int_equal(g_qe.get_quote_ex(&report, &kid, NULL, quote, size), SGX_SUCCESS);
    assert_int_equal(quote[1046] | quote[1047] << 8, 3);
    assert_int_equal(hwt_le32(quote + 1048), 404);
    unsetenv("SGX_AESM_ADDR");
    daemon_stop(&d);
}

/* QE3 that cannot load stops the daemon at start with the reason, rather
 * than at the first request. */
static void test_enclave_load_failure_stops_start(void **state)
{
    daemon_run d;
    char *err;
    int rc;

    (void)state;
    rc = daemon_start(&d, "loadfail", "0xE016", "load", NULL);
    assert_true(rc > 1000); /* exited */
    assert_int_not_equal(rc, 1000);
    err = hwt_read_text(d.stderr_path);
    assert_non_null(err);
    print_message("%s", err != NULL ? err : "");
    assert_non_null(strstr(err, "SGX_QL_ENCLAVE_LOAD_ERROR"));
    assert_non_null(strstr(err, "sgx_prv"));
    assert_false(socket_answers(d.socket));
    free(err);
}

/* ---- /readyz with the hardware backend ---- */

/* The port from the daemon's start line ("http_listen":"127.0.0.1:PORT"). */
static int http_port_of(const daemon_run *d)
{
    for (int waited = 0; waited < 10000; waited += 20) {
        char *t = hwt_read_text(d->stderr_path);
        const char *at = t != NULL ? strstr(t, "\"http_listen\":\"127.0.0.1:") : NULL;
        int port = at != NULL ? atoi(at + strlen("\"http_listen\":\"127.0.0.1:")) : 0;
        free(t);
        if (port > 0)
            return port;
        sleep_ms(20);
    }
    fail_msg("no http_listen in the daemon's start line");
    return 0;
}

/* GET path → status; *body malloc'd (headers dropped). */
static int http_get(int port, const char *path, char **body)
{
    struct sockaddr_in sa;
    char req[256], buf[16384];
    size_t used = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int status = 0;
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    for (;;) {
        ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    buf[used] = '\0';
    assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &status), 1);
    const char *sep = strstr(buf, "\r\n\r\n");
    assert_non_null(sep);
    *body = strdup(sep + 4);
    assert_non_null(*body);
    return status;
}

/* /readyz once the hardware backend's background warm-up has answered:
 * while it is making the key, /readyz says "warming" (and is cached by
 * the daemon for a second). */
static int readyz_settled(int port, char **body)
{
    int status = 0;
    for (int i = 0; i < 600; i++) {
        status = http_get(port, "/readyz", body);
        if (status != 503 || strstr(*body, "status: warming") == NULL)
            return status;
        free(*body);
        *body = NULL;
        sleep_ms(100);
    }
    return status;
}

/* A broken quote path on hardware (QE3 gone, PCK data unavailable) turns
 * /readyz 503 with the aesm code and its name, while /healthz stays 200
 * (alive: no restart); the same platform healthy answers 200. The doubles
 * read SGXQH_HWDOUBLE_FAIL at start, so each state is its own daemon. */
static void test_readyz_with_hw_backend(void **state)
{
    static const struct {
        const char *fail;
        const char *want; /* aesm-protocol §5.5: the aesm code for it */
    } broken[] = {
        {"0xE016", "AESM_ENCLAVE_LOAD_ERROR (48)"},
        {"0xE011", "AESM_NO_PLATFORM_CERT_DATA (44)"},
    };
    daemon_run d;
    char *body = NULL;
    int port;

    (void)state;
    g_http_listen = "127.0.0.1:0";
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        assert_int_equal(daemon_start(&d, "readyz", broken[i].fail, NULL, NULL), 0);
        port = http_port_of(&d);
        assert_int_equal(readyz_settled(port, &body), 503);
        print_message("%s: /readyz: %s", broken[i].fail, body);
        assert_non_null(strstr(body, "not ready: "));
        assert_non_null(strstr(body, broken[i].want));
        free(body);
        assert_int_equal(http_get(port, "/healthz", &body), 200);
        free(body);
        daemon_stop(&d);
    }
    /* Fault cleared. */
    assert_int_equal(daemon_start(&d, "readyz", NULL, NULL, NULL), 0);
    port = http_port_of(&d);
    assert_int_equal(readyz_settled(port, &body), 200);
    assert_string_equal(body, "ready\n");
    free(body);
    daemon_stop(&d);
    g_http_listen = NULL;
}

static uint64_t mono_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A PCCS that does not answer for 60 s (the QPL's default retries): the
 * daemon still binds and serves at once, liveness is fine, readiness says
 * "warming" without waiting, and SIGTERM still stops it promptly. */
static void test_startup_with_pccs_outage(void **state)
{
    daemon_run d;
    char *body = NULL;
    uint64_t t0, took;
    int port;

    (void)state;
    g_http_listen = "127.0.0.1:0";
    g_extra_env = "SGXQH_QPL_DELAY_MS=60000";
    t0 = mono_now_ms();
    assert_int_equal(daemon_start(&d, "pccs-outage", NULL, NULL, NULL), 0);
    port = http_port_of(&d);
    assert_int_equal(http_get(port, "/healthz", &body), 200);
    took = mono_now_ms() - t0;
    free(body);
    print_message("socket and /healthz after %llu ms\n", (unsigned long long)took);
    assert_true(took < 20000); /* far below the 60 s outage */
    t0 = mono_now_ms();
    assert_int_equal(http_get(port, "/readyz", &body), 503);
    assert_true(mono_now_ms() - t0 < 5000); /* the canary did not wait either */
    print_message("/readyz: %s", body);
    assert_non_null(strstr(body, "status: warming"));
    free(body);
    daemon_stop(&d);

    /* A short outage: ready once the QPL answered. */
    g_extra_env = "SGXQH_QPL_DELAY_MS=1500";
    assert_int_equal(daemon_start(&d, "pccs-slow", NULL, NULL, NULL), 0);
    port = http_port_of(&d);
    assert_int_equal(readyz_settled(port, &body), 200);
    free(body);
    /* The provider and the certification type, as a metric. */
    assert_int_equal(http_get(port, "/metrics", &body), 200);
    assert_non_null(strstr(body, "sgx_quote_helper_backend_info{provider=\"intel\",cert_type=\"5\"} 1"));
    free(body);
    daemon_stop(&d);
    g_extra_env = NULL;
    g_http_listen = NULL;
}

/* The provider fails (the PCCS does not know the platform): the daemon
 * keeps serving, /readyz is 503 naming the code, the log carries the
 * QPL's own line, and the app gets aesmd's status for it. */
static void test_broken_provider_keeps_serving(void **state)
{
    daemon_run d;
    char *body = NULL, *err;
    sgx_att_key_id_t kid;
    sgx_target_info_t ti;
    size_t pub_size = 32;
    uint8_t pub[32];
    int port;

    (void)state;
    g_http_listen = "127.0.0.1:0";
    g_extra_env = "SGXQH_QPL_FAIL=0xE011";
    assert_int_equal(daemon_start(&d, "qpl-broken", NULL, NULL, NULL), 0);
    port = http_port_of(&d);
    assert_int_equal(readyz_settled(port, &body), 503);
    print_message("/readyz: %s", body);
    assert_non_null(strstr(body, "AESM_NO_PLATFORM_CERT_DATA (44)"));
    assert_non_null(strstr(body, "SGX_QL_NO_PLATFORM_CERT_DATA"));
    free(body);
    setenv("SGX_AESM_ADDR", d.socket, 1); /* our client: an absolute path is the socket */
    client_default_ecdsa_key_id(&kid);
    /* aesm 44 on init: sgx_status_t 0x8005 (aesm-protocol §5.4) */
    assert_int_equal(g_qe.init_quote_ex(&kid, &ti, &pub_size, pub), 0x8005);
    unsetenv("SGX_AESM_ADDR");
    assert_true(socket_answers(d.socket));
    daemon_stop(&d);
    err = hwt_read_text(d.stderr_path);
    assert_non_null(err);
    assert_non_null(strstr(err, "qpl: [QPL] Failed to get quote config. Error code is 0xe011"));
    assert_non_null(strstr(err, "0xe011 SGX_QL_NO_PLATFORM_CERT_DATA"));
    free(err);
    g_extra_env = NULL;
    g_http_listen = NULL;
}

/* No provider at all (the QPL stand-in removed): QE3 logic falls back to
 * encrypted-PPID quotes, which the daemon still serves as aesmd would,
 * but says so loudly and keeps readiness false with AESM 41. */
static void test_missing_provider_is_not_ready(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
    daemon_run d;
    char *body = NULL, *err;
    int port;

    (void)state;
    PJOIN(dir, "%s/libdir-no-qpl", g_tmp);
    assert_int_equal(mkdir(dir, 0700), 0);
    for (int i = 0; i < 2; i++) {
        const char *name = i == 0 ? "libsgx_pce_logic.so.1" : "libsgx_qe3_logic.so";
        PJOIN(path, "%s/%s", dir, name);
        PJOIN(target, "%s/%s", g_dbl_dir, name);
        assert_int_equal(symlink(target, path), 0);
    }
    g_lib_dir = dir;
    g_http_listen = "127.0.0.1:0";
    assert_int_equal(daemon_start(&d, "qpl-missing", NULL, NULL, NULL), 0);
    port = http_port_of(&d);
    assert_int_equal(readyz_settled(port, &body), 503);
    print_message("/readyz: %s", body);
    assert_non_null(strstr(body, "AESM_PLATFORM_LIB_UNAVAILABLE (41)"));
    assert_non_null(strstr(body, "certification data type 3"));
    free(body);
    assert_int_equal(http_get(port, "/metrics", &body), 200);
    assert_non_null(strstr(body, "sgx_quote_helper_backend_info{provider=\"none\",cert_type=\"3\"} 1"));
    free(body);
    assert_true(socket_answers(d.socket));
    /* doctor asks the daemon for a quote and names the type-3 problem. */
    {
        char cmd[2 * PATH_MAX + 64], out[8192];
        size_t n;
        FILE *p;
        PJOIN(cmd, "%s doctor --socket %s 2>&1", g_cli, d.socket);
        p = popen(cmd, "r");
        assert_non_null(p);
        n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = '\0';
        pclose(p);
        print_message("%s", out);
        assert_non_null(strstr(out, "FAIL daemon_cert_type"));
        assert_non_null(strstr(out, "certification data type 3"));
    }
    daemon_stop(&d);
    err = hwt_read_text(d.stderr_path);
    assert_non_null(err);
    assert_non_null(strstr(err, "NO QUOTE PROVIDER"));
    free(err);
    g_lib_dir = NULL;
    g_http_listen = NULL;
}

static int group_setup(void **state)
{
    (void)state;
    if (hwt_mkdtemp(g_tmp, sizeof(g_tmp), "hwdaemon") != 0)
        return -1;
    if ((size_t)snprintf(g_state, sizeof(g_state), "%s/state", g_tmp) >= sizeof(g_state))
        return -1;
    g_qe.dl = dlopen(g_quote_ex_so, RTLD_NOW | RTLD_LOCAL);
    if (g_qe.dl == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return -1;
    }
    *(void **)&g_qe.select_att_key_id = dlsym(g_qe.dl, "sgx_select_att_key_id");
    *(void **)&g_qe.init_quote_ex = dlsym(g_qe.dl, "sgx_init_quote_ex");
    *(void **)&g_qe.get_quote_size_ex = dlsym(g_qe.dl, "sgx_get_quote_size_ex");
    *(void **)&g_qe.get_quote_ex = dlsym(g_qe.dl, "sgx_get_quote_ex");
    if (g_qe.select_att_key_id == NULL || g_qe.init_quote_ex == NULL ||
        g_qe.get_quote_size_ex == NULL || g_qe.get_quote_ex == NULL)
        return -1;
    return 0;
}

static int reap_daemon(void **state)
{
    (void)state;
    if (g_live_daemon > 0) {
        kill(g_live_daemon, SIGKILL);
        waitpid(g_live_daemon, NULL, 0);
        g_live_daemon = 0;
    }
    unsetenv("SGX_AESM_ADDR");
    g_http_listen = NULL;
    g_extra_env = NULL;
    g_lib_dir = NULL;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    hwt_rmtree(g_tmp);
    if (g_qe.dl != NULL)
        dlclose(g_qe.dl);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_full_sequence_with_sgx_aesm_addr_set, reap_daemon),
        cmocka_unit_test_teardown(test_injected_errors_reach_the_client, reap_daemon),
        cmocka_unit_test_teardown(test_no_qpl_type3_quote, reap_daemon),
        cmocka_unit_test_teardown(test_enclave_load_failure_stops_start, reap_daemon),
        cmocka_unit_test_teardown(test_readyz_with_hw_backend, reap_daemon),
        cmocka_unit_test_teardown(test_startup_with_pccs_outage, reap_daemon),
        cmocka_unit_test_teardown(test_broken_provider_keeps_serving, reap_daemon),
        cmocka_unit_test_teardown(test_missing_provider_is_not_ready, reap_daemon),
    };
    if (argc < 5) {
        fprintf(stderr, "usage: %s DAEMON DOUBLES_DIR LIBSGX_QUOTE_EX_SO SGX_QUOTE\n", argv[0]);
        return 2;
    }
    g_daemon = argv[1];
    if (realpath(argv[2], g_dbl_dir) == NULL) {
        perror(argv[2]);
        return 2;
    }
    g_quote_ex_so = argv[3];
    g_cli = argv[4];
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("hw_daemon", tests, group_setup, group_teardown);
}
