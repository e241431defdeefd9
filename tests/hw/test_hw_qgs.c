/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hardware TDX backend (src/qgs/backend_hw.c) against the TD quoting
 * library double (tests/hwdouble/tdx_double.c, loaded by Intel's soname):
 * contexts created and warmed at open, one per worker; quotes that verify
 * with the simulated TDX collateral; a stale key refreshed and retried once
 * as QGS does; tee_att_error_t codes named; a missing library or a context
 * that cannot be created stops the open, and the daemon with --backend hw
 * --qgs-socket serves TDs through it or refuses to start, saying why.
 * argv: daemon, doubles dir, sgx-quote.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "hw_tutil.h"
#include "qgs/qgs_client.h"
#include "qgs/qgs_service.h"

static const char *g_daemon, *g_dbl_dir, *g_cli;
static char g_tmp[PATH_MAX], g_state[PATH_MAX + 8], g_log[PATH_MAX + 16];
static char g_report_path[PATH_MAX + 16];
static uint8_t g_report[1024];

/* Runs argv (stdout to out when not NULL); its exit status (or 128 + signal). */
static int run_out(char *const argv[], const char *out)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (out != NULL && freopen(out, "w", stdout) == NULL)
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run(char *const argv[])
{
    return run_out(argv, NULL);
}

static int setup(void **state)
{
    (void)state;
    if (hwt_mkdtemp(g_tmp, sizeof g_tmp, "hwqgs") != 0)
        return -1;
    snprintf(g_state, sizeof g_state, "%s/state", g_tmp);
    snprintf(g_log, sizeof g_log, "%s/double.log", g_tmp);
    snprintf(g_report_path, sizeof g_report_path, "%s/td.report", g_tmp);
    /* The TD side: a TDREPORT of the double's platform (instance hwdouble). */
    char *const argv[] = {(char *)g_cli, "tdx", "report", "--state-dir", g_state, "--init-seed",
                          "--instance", "hwdouble", "--report-data", "68772d746478", "-o",
                          g_report_path, NULL};
    if (run(argv) != 0)
        return -1;
    size_t len = 0;
    uint8_t *r = ts_read_file_or_null(g_report_path, &len);
    if (r == NULL || len != sizeof g_report) {
        free(r);
        return -1;
    }
    memcpy(g_report, r, len);
    free(r);
    setenv("SGXQH_HWDOUBLE_STATE_DIR", g_state, 1);
    setenv("SGXQH_HWDOUBLE_LOG", g_log, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hwt_rmtree(g_tmp);
    return 0;
}

static int reset(void **state)
{
    (void)state;
    unsetenv("SGXQH_HWDOUBLE_TDX_FAIL");
    unsetenv("SGXQH_HWDOUBLE_TDX_FAIL_ON");
    unsetenv("SGXQH_HWDOUBLE_TDX_STALE");
    unlink(g_log);
    return 0;
}

static size_t count_lines(const char *needle)
{
    char *t = hwt_read_text(g_log);
    size_t n = 0;
    for (const char *p = t; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(t);
    return n;
}

/* The quote verifies with the simulated TDX collateral (UpToDate). */
static void verify_quote(const uint8_t *q, size_t len, const char *name)
{
    char qpath[PATH_MAX + 32], coll[PATH_MAX + 32], root[PATH_MAX + 48];
    snprintf(qpath, sizeof qpath, "%s/%s", g_tmp, name);
    snprintf(coll, sizeof coll, "%s/coll-%s", g_tmp, name);
    snprintf(root, sizeof root, "%s/root.pem", coll);
    FILE *f = fopen(qpath, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(q, 1, len, f), len);
    fclose(f);
    char *const exp[] = {(char *)g_cli, "collateral", "export", "--tdx", "--state-dir", g_state,
                         "--instance", "hwdouble", "-o", coll, NULL};
    assert_int_equal(run(exp), 0);
    char *const ver[] = {(char *)g_cli, "verify", qpath, "--collateral-dir", coll, "--root", root,
                         NULL};
    char out[PATH_MAX + 48];
    snprintf(out, sizeof out, "%s.verify", qpath);
    int rc = run_out(ver, out);
    char *text = hwt_read_text(out);
    if (rc != 0 || text == NULL || strstr(text, "VERIFIED: UpToDate") == NULL)
        fail_msg("sgx-quote verify %s exited %d:\n%s", name, rc, text != NULL ? text : "");
    free(text);
}

static void test_open_warms_one_context_per_worker(void **state)
{
    (void)state;
    qgs_backend b;
    char err[512] = "";
    assert_int_equal(qgs_backend_hw_open(&b, g_dbl_dir, 3, err, sizeof err), 0);
    assert_string_equal(b.name, "hw");
    assert_int_equal(count_lines("tdx create_context"), 3);
    assert_int_equal(count_lines("tdx init_quote refresh=0"), 3);
    uint8_t *q = NULL;
    size_t len = 0;
    assert_int_equal(b.get_quote(b.ctx, g_report, sizeof g_report, &q, &len, err, sizeof err), 0);
    assert_true(len > 1000);
    assert_int_equal(hwt_le16(q), 4);          /* v4 ... */
    assert_int_equal(hwt_le32(q + 4), 0x81);   /* ... TDX */
    assert_memory_equal(q + 48 + 520, "hw-tdx", 6); /* the TD's report data */
    assert_int_equal(count_lines("tdx create_context"), 3); /* no context per request */
    verify_quote(q, len, "hw.quote");
    free(q);
    qgs_backend_hw_close(&b);
    assert_int_equal(count_lines("tdx free_context"), 3);
}

static void test_stale_key_refreshed_once(void **state)
{
    (void)state;
    char stale[PATH_MAX + 16];
    snprintf(stale, sizeof stale, "%s/stale", g_tmp);
    assert_int_equal(hwt_write_text(stale, "x"), 0);
    setenv("SGXQH_HWDOUBLE_TDX_STALE", stale, 1);
    qgs_backend b;
    char err[512] = "";
    assert_int_equal(qgs_backend_hw_open(&b, g_dbl_dir, 1, err, sizeof err), 0);
    uint8_t *q = NULL;
    size_t len = 0;
    assert_int_equal(b.get_quote(b.ctx, g_report, sizeof g_report, &q, &len, err, sizeof err), 0);
    assert_int_equal(count_lines("tdx init_quote refresh=1"), 1);
    assert_int_equal(count_lines("tdx get_quote"), 2);
    free(q);
    qgs_backend_hw_close(&b);
}

static void test_errors_named(void **state)
{
    (void)state;
    qgs_backend b;
    char err[512] = "";
    uint8_t *q = NULL;
    size_t len = 0;
    assert_int_equal(qgs_backend_hw_open(&b, g_dbl_dir, 1, err, sizeof err), 0);
    /* Not a TDREPORT of this platform: the TD-QE's report check refuses it. */
    uint8_t foreign[1024];
    memcpy(foreign, g_report, sizeof foreign);
    foreign[300] ^= 1;
    assert_true(b.get_quote(b.ctx, foreign, sizeof foreign, &q, &len, err, sizeof err) < 0);
    assert_non_null(strstr(err, "TEE_ATT_INVALID_REPORT (0x11015)"));
    assert_null(q);
    assert_true(b.get_quote(b.ctx, g_report, 1023, &q, &len, err, sizeof err) < 0);
    assert_non_null(strstr(err, "1024 bytes"));
    setenv("SGXQH_HWDOUBLE_TDX_FAIL", "0x11019", 1);
    assert_true(b.get_quote(b.ctx, g_report, sizeof g_report, &q, &len, err, sizeof err) < 0);
    assert_non_null(strstr(err, "tee_att_get_quote: TEE_ATT_NETWORK_ERROR (0x11019)"));
    assert_non_null(strstr(err, "PCCS"));
    assert_true(b.get_platform_info(b.ctx, &(qgs_platform_info){0}, err, sizeof err) < 0);
    qgs_backend_hw_close(&b);

    const char *why = NULL;
    assert_string_equal(qgs_hw_error_name(0x11035, &why), "TEE_ATT_ERROR_INVALID_PRIVILEGE");
    assert_non_null(strstr(why, "sgx_prv"));
    assert_string_equal(qgs_hw_error_name(0x110ff, NULL), "TEE_ATT_ERROR");
}

static void test_open_fails(void **state)
{
    (void)state;
    qgs_backend b;
    char err[512] = "";
    assert_int_equal(qgs_backend_hw_open(&b, "/nonexistent", 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/libsgx_tdx_logic.so.1"));
    assert_non_null(strstr(err, "--hw-lib-dir"));
    assert_null(b.ctx);
    setenv("SGXQH_HWDOUBLE_TDX_FAIL", "0x11016", 1);
    setenv("SGXQH_HWDOUBLE_TDX_FAIL_ON", "init", 1);
    assert_int_equal(qgs_backend_hw_open(&b, g_dbl_dir, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "tee_att_init_quote: TEE_ATT_ENCLAVE_LOAD_ERROR (0x11016)"));
    assert_int_equal(count_lines("tdx free_context"), 1); /* the one it made */
}

/* The daemon: --backend hw --qgs-socket serves TDs through the library
 * (framed and raw); a library that cannot start stops the daemon. */
static pid_t start_daemon(const char *qgs, const char *aesm, const char *errpath)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f = freopen(errpath, "w", stderr);
        (void)f;
        setenv("QCNL_CONF_PATH", "/nonexistent/sgx_default_qcnl.conf", 1);
        char *const argv[] = {(char *)g_daemon, "--backend", "hw", "--hw-lib-dir",
                              (char *)g_dbl_dir, "--socket", (char *)aesm, "--qgs-socket",
                              (char *)qgs, "--workers", "2", "--log-format", "text", NULL};
        execv(g_daemon, argv);
        _exit(127);
    }
    return pid;
}

static void test_daemon_serves_tds(void **state)
{
    (void)state;
    char qgs[PATH_MAX + 16], aesm[PATH_MAX + 16], errpath[PATH_MAX + 16];
    snprintf(qgs, sizeof qgs, "%s/qgs.socket", g_tmp);
    snprintf(aesm, sizeof aesm, "%s/aesm.socket", g_tmp);
    snprintf(errpath, sizeof errpath, "%s/daemon.stderr", g_tmp);
    pid_t pid = start_daemon(qgs, aesm, errpath);
    uint8_t *q = NULL;
    size_t len = 0;
    char err[512] = "";
    int rc = -1;
    for (int i = 0; i < 400 && rc != 0; i++) {
        rc = qgs_client_get_quote(qgs, g_report, sizeof g_report, false, 20000, &q, &len, err,
                                  sizeof err);
        if (rc != 0)
            nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    if (rc != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("no quote from the daemon: %s", err);
    }
    verify_quote(q, len, "daemon.quote");
    free(q);
    assert_int_equal(qgs_client_get_quote(qgs, g_report, sizeof g_report, true, 20000, &q, &len,
                                          err, sizeof err), 0);
    verify_quote(q, len, "daemon-raw.quote");
    free(q);
    assert_int_equal(count_lines("tdx create_context"), 2); /* --workers 2, at start-up */
    kill(pid, SIGTERM);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(count_lines("tdx free_context"), 2);

    setenv("SGXQH_HWDOUBLE_TDX_FAIL", "0x11035", 1);
    setenv("SGXQH_HWDOUBLE_TDX_FAIL_ON", "create", 1);
    pid = start_daemon(qgs, aesm, errpath);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    char *log = hwt_read_text(errpath);
    assert_non_null(log);
    assert_non_null(strstr(log, "TEE_ATT_ERROR_INVALID_PRIVILEGE"));
    assert_non_null(strstr(log, "sgx_prv"));
    free(log);
    assert_int_equal(access(qgs, F_OK), -1); /* never published */
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s DAEMON DOUBLES_DIR SGX_QUOTE\n", argv[0]);
        return 2;
    }
    g_daemon = argv[1];
    g_dbl_dir = argv[2];
    g_cli = argv[3];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_open_warms_one_context_per_worker, reset),
        cmocka_unit_test_setup(test_stale_key_refreshed_once, reset),
        cmocka_unit_test_setup(test_errors_named, reset),
        cmocka_unit_test_setup(test_open_fails, reset),
        cmocka_unit_test_setup(test_daemon_serves_tds, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
