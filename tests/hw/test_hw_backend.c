/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hardware backend (src/backend/backend_hw.c) driven through backend_ops
 * against the test doubles of Intel's logic libraries (tests/hwdouble). It
 * proves the load order (PCE global, then QE3), SGX_AESM_ADDR removal before
 * anything loads, PERSISTENT policy and eager QE3 load at open, the quote
 * flow, error mapping per call, the no-QPL (cert type 3) path and the
 * operator notes. Expected values come from the spec (key id bytes, sizes)
 * or from the simulated platform opened independently by this test.
 *
 * argv[1]: the build directory holding the doubles.
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "backend/backend_hw.h"
#include "backend/backend_hw_abi.h"
#include "crypto/crypto.h"
#include "hw_tutil.h"
#include "sgxqh/quote.h"
#include "sim/sim.h"

/* snprintf into an array, failing the test on truncation. */
#define PJOIN(buf, ...) assert_true((size_t)snprintf(buf, sizeof(buf), __VA_ARGS__) < sizeof(buf))

static const char *g_dbl_dir;
static char g_tmp[PATH_MAX];
static char g_state[PATH_MAX];
static char g_log[PATH_MAX];

static void clear_faults(void)
{
    unsetenv("SGXQH_HWDOUBLE_FAIL");
    unsetenv("SGXQH_HWDOUBLE_FAIL_ON");
    unsetenv("QCNL_CONF_PATH");
    unsetenv("SGXQH_QPL_FAIL");
    unsetenv("SGXQH_QPL_INIT_FAIL");
    unsetenv("SGXQH_QPL_DELAY_MS");
    unsetenv("SGXQH_QPL_PCESVN");
    unsetenv("SGXQH_HWDOUBLE_LOAD_STATUS");
    unsetenv("SGXQH_HWDOUBLE_LOSE_ENCLAVE");
}

static backend *open_hw(const char *dir, char *err, size_t errcap)
{
    backend_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.kind = BACKEND_KIND_HW;
    cfg.hw_lib_dir = dir;
    return backend_open(&cfg, err, errcap);
}

static sim_platform *open_sim_twin(void)
{
    sim_options opt;
    sim_platform *p = NULL;
    char err[256];
    memset(&opt, 0, sizeof(opt));
    sim_tcb_config_default(&opt.tcb);
    opt.state_dir = g_state;
    opt.instance = "hwdouble"; /* what the QE3 double uses */
    assert_int_equal(sim_platform_open(&opt, &p, err, sizeof(err)), SIM_OK);
    return p;
}

static void make_app_report(const sgx_target_info_t *qe_ti, sgx_report_t *report,
                            sgx_target_info_t *app_ti)
{
    sim_enclave_identity id;
    sim_enclave_identity_default(&id);
    memset(id.report_data, 0xA5, sizeof(id.report_data));
    assert_int_equal(sim_ereport(&id, qe_ti, report), SIM_OK);
    sgx_target_info_from_report(&report->body, app_ti);
}

static int group_setup(void **state)
{
    (void)state;
    if (hwt_mkdtemp(g_tmp, sizeof(g_tmp), "hwbackend") != 0)
        return -1;
    PJOIN(g_state, "%s/state", g_tmp);
    PJOIN(g_log, "%s/double.log", g_tmp);
    setenv("SGXQH_HWDOUBLE_STATE_DIR", g_state, 1);
    setenv("SGXQH_HWDOUBLE_LOG", g_log, 1);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    hwt_rmtree(g_tmp);
    return 0;
}

/* Intel's QE3 logic calls the PCE logic by name: without the PCE library
 * loaded RTLD_GLOBAL first, the QE3 library cannot be loaded at all. Runs
 * in a child so nothing stays loaded in this process. */
static void test_qe3_needs_pce_loaded_global(void **state)
{
    char qe3[PATH_MAX], pce[PATH_MAX];
    pid_t pid;
    int st = 0;

    (void)state;
    PJOIN(qe3, "%s/libsgx_qe3_logic.so", g_dbl_dir);
    PJOIN(pce, "%s/libsgx_pce_logic.so.1", g_dbl_dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *e;
        if (dlopen(qe3, RTLD_NOW | RTLD_LOCAL) != NULL)
            _exit(10); /* loaded without the PCE: the order would not matter */
        e = dlerror();
        /* "undefined symbol: sgx_pce_get_target" (or another PCE call) */
        if (e == NULL || strstr(e, "undefined symbol") == NULL || strstr(e, "pce") == NULL)
            _exit(11);
        if (dlopen(pce, RTLD_NOW | RTLD_LOCAL) == NULL)
            _exit(12);
        if (dlopen(qe3, RTLD_NOW | RTLD_LOCAL) != NULL)
            _exit(13); /* a local PCE is not enough */
        if (dlopen(pce, RTLD_NOW | RTLD_GLOBAL) == NULL)
            _exit(14);
        if (dlopen(qe3, RTLD_NOW | RTLD_LOCAL) == NULL)
            _exit(15);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        print_message("child: %s %d\n", WIFEXITED(st) ? "exit" : "signal",
                      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* The double notices SGX_AESM_ADDR at load time and refuses to work: the
 * control for test_open_sequence, which shows the backend hides it. */
static void test_double_detects_sgx_aesm_addr(void **state)
{
    char qe3[PATH_MAX], pce[PATH_MAX];
    pid_t pid;
    int st = 0;

    (void)state;
    PJOIN(qe3, "%s/libsgx_qe3_logic.so", g_dbl_dir);
    PJOIN(pce, "%s/libsgx_pce_logic.so.1", g_dbl_dir);
    unlink(g_log);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        void *q;
        uint32_t (*set_policy)(int);
        setenv("SGX_AESM_ADDR", "1", 1);
        if (dlopen(pce, RTLD_NOW | RTLD_GLOBAL) == NULL || (q = dlopen(qe3, RTLD_NOW)) == NULL)
            _exit(20);
        *(void **)&set_policy = dlsym(q, "sgx_ql_set_enclave_load_policy");
        if (set_policy == NULL)
            _exit(21);
        _exit(set_policy(0) == 0xE001 ? 0 : 22);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    char *log = hwt_read_text(g_log);
    assert_non_null(log);
    assert_non_null(strstr(log, "qe3 loaded aesm_addr=set"));
    free(log);
}

/* Open: SGX_AESM_ADDR gone before loading, PERSISTENT policy (forwarded to
 * the PCE), key id, QE3 loaded eagerly, key warmed; then the full flow. */
static void test_open_sequence_and_quote(void **state)
{
    char err[512] = "";
    backend *b;
    sim_platform *twin;
    sgx_att_key_id_ext_t ids[BACKEND_MAX_KEY_IDS];
    uint8_t want_kid[256];
    sgx_target_info_t ti, twin_ti, app_ti;
    uint8_t pub[32], twin_pub[32];
    uint32_t size = 0, len = 0;
    sgx_report_t report;
    sgx_qe_report_info_t qri;
    uint8_t *quote;
    uint8_t digest[32];

    (void)state;
    clear_faults();
    unlink(g_log);
    setenv("SGX_AESM_ADDR", "1", 1);
    b = open_hw(g_dbl_dir, err, sizeof(err));
    assert_non_null(b);
    assert_null(getenv("SGX_AESM_ADDR"));
    assert_string_equal(b->ops->name, "hw");
    assert_false(b->ops->thread_safe);
    assert_true(backend_hw_wait_warm(b, 60000));

    {
        char *log = hwt_read_text(g_log);
        const char *const order[] = {
            "qe3 loaded aesm_addr=unset", "qe3 set_policy 0", "pce set_policy 0",
            "qe3 get_keyid", "qe3 load_qe", "pce get_target", "qe3 init_quote", NULL,
        };
        assert_non_null(log);
        assert_true(hwt_lines_in_order(log, order));
        /* load_qe comes before any init: QE3 is loaded eagerly. */
        assert_true(strstr(log, "qe3 load_qe") < strstr(log, "qe3 init_quote"));
        free(log);
    }

    /* Key id: exactly sgx_ql_get_keyid's (aesm §6.4). */
    assert_int_equal(b->ops->key_ids(b, ids, BACKEND_MAX_KEY_IDS), 1);
    _Static_assert(sizeof(ids[0]) == sizeof(want_kid), "the key id is 256 bytes");
    ts_spec_ecdsa_key_id(want_kid); /* 160 bytes from the spec, then zeros */
    assert_memory_equal(&ids[0], want_kid, sizeof(want_kid));

    twin = open_sim_twin();
    assert_int_equal(b->ops->init_quote(b, &ids[0], &ti, pub), AESM_SUCCESS);
    sim_qe_target_info(twin, &twin_ti);
    sim_qe_pub_key_id(twin, twin_pub);
    assert_memory_equal(&ti, &twin_ti, sizeof(ti));
    assert_memory_equal(pub, twin_pub, 32);

    /* The size is the quote's: 1052 + cert data (aesm §6.6), with the QPL's
     * cert data in [500, 12294]. (The twin's own chain differs in length:
     * its certificates carry fresh ECDSA signatures.) */
    assert_int_equal(b->ops->quote_size(b, &ids[0], &size), AESM_SUCCESS);
    assert_in_range(size, 1052 + 500, 1052 + 12294);

    make_app_report(&ti, &report, &app_ti);
    memset(&qri, 0, sizeof(qri));
    memset(qri.nonce, 0x3C, sizeof(qri.nonce));
    qri.app_enclave_target_info = app_ti;
    quote = calloc(1, size + 100);
    assert_non_null(quote);
    assert_int_equal(b->ops->get_quote(b, &ids[0], &report, &qri, quote, size + 100, &len),
                     AESM_SUCCESS);
    assert_int_equal(len, size);
    assert_int_equal(hwt_le16(quote), 3);                        /* version */
    assert_int_equal(hwt_le16(quote + 2), 2);                    /* ECDSA-P256 */
    assert_memory_equal(quote + 48, &report.body, 384);      /* app body */
    assert_int_equal(436 + hwt_le32(quote + 432), len);          /* signature_data_len */
    assert_int_equal(hwt_le16(quote + 1046), 5);                 /* PCK chain */
    assert_int_equal(1052 + hwt_le32(quote + 1048), len);        /* cert data size */
    /* QE report for the app (aesm §6.3): SHA-256(nonce ‖ quote) ‖ 0^32. */
    {
        crypto_buf parts[2] = {{qri.nonce, 16}, {quote, len}};
        uint8_t zero[32] = {0};
        assert_int_equal(crypto_sha256_parts(parts, 2, digest), 0);
        assert_memory_equal(qri.qe_report.body.report_data, digest, 32);
        assert_memory_equal(qri.qe_report.body.report_data + 32, zero, 32);
        assert_int_equal(sim_verify_report(&app_ti, report.body.cpu_svn, &qri.qe_report), SIM_OK);
    }
    /* A report made for another target is rejected as QE3 does (47). */
    report.mac[0] ^= 1;
    assert_int_equal(b->ops->get_quote(b, &ids[0], &report, NULL, quote, size + 100, &len),
                     AESM_INVALID_REPORT);
    /* Too small a buffer: INVALID_PARAMETER → 3 (aesm §8.4 step 2). */
    report.mac[0] ^= 1;
    assert_int_equal(b->ops->get_quote(b, &ids[0], &report, NULL, quote, size - 1, &len),
                     AESM_PARAMETER_ERROR);
    /* A key id with another base is not ours: 38. */
    {
        sgx_att_key_id_ext_t other = ids[0];
        other.base.algorithm_id = 3;
        assert_int_equal(b->ops->quote_size(b, &other, &size), AESM_UNSUPPORTED_ATT_KEY_ID);
    }
    assert_int_equal(b->ops->health(b), AESM_SUCCESS);

    free(quote);
    sim_platform_close(twin);
    backend_close(b);
}

/* Injected quote3 errors come out of each call as aesmd's aesm codes
 * (aesm §5.5; numbers typed from the table). */
static void test_injected_errors_per_call(void **state)
{
    static const struct {
        const char *fail;
        const char *on;
        int init, size, quote; /* expected aesm codes */
    } cases[] = {
        {"0xE011", NULL, 44, 44, 44},          /* NO_PLATFORM_CERT_DATA */
        {"0xE019", NULL, 12, 12, 12},          /* NETWORK_ERROR */
        {"0xE016", NULL, 48, 48, 48},          /* ENCLAVE_LOAD_ERROR (after start) */
        {"0xE00F", "size,quote", 0, 42, 42},   /* ATT_KEY_NOT_INITIALIZED */
        {"0xE012", "quote", 0, 0, 29},         /* OUT_OF_EPC */
        {"0xE040", "init", 1, 0, 0},           /* QPL SERVICE_UNAVAILABLE: not mapped → 1 */
    };
    char err[512] = "";
    sgx_att_key_id_ext_t kid;
    sgx_target_info_t ti, app_ti;
    sgx_report_t report;
    uint8_t pub[32];
    uint8_t quote[8192];
    uint32_t size = 0, len = 0;
    backend *b;

    (void)state;
    clear_faults();
    b = open_hw(g_dbl_dir, err, sizeof(err));
    assert_non_null(b);
    assert_int_equal(b->ops->key_ids(b, &kid, 1), 1);
    assert_int_equal(b->ops->init_quote(b, &kid, &ti, pub), AESM_SUCCESS);
    make_app_report(&ti, &report, &app_ti);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("SGXQH_HWDOUBLE_FAIL", cases[i].fail, 1);
        if (cases[i].on != NULL)
            setenv("SGXQH_HWDOUBLE_FAIL_ON", cases[i].on, 1);
        else
            unsetenv("SGXQH_HWDOUBLE_FAIL_ON");
        print_message("inject %s on %s\n", cases[i].fail, cases[i].on ? cases[i].on : "all");
        assert_int_equal(b->ops->init_quote(b, &kid, &ti, pub), cases[i].init);
        assert_int_equal(b->ops->quote_size(b, &kid, &size), cases[i].size);
        if (cases[i].size != 0)
            assert_int_equal(size, 0); /* aesm §8.3: 0 on error */
        assert_int_equal(b->ops->get_quote(b, &kid, &report, NULL, quote, sizeof(quote), &len),
                         cases[i].quote);
    }
    /* The last failure is in the notes with Intel's name and a hint. */
    setenv("SGXQH_HWDOUBLE_FAIL", "0xE011", 1);
    unsetenv("SGXQH_HWDOUBLE_FAIL_ON");
    assert_true(backend_hw_refresh(b, 60000));
    assert_int_equal(b->ops->health(b), AESM_NO_PLATFORM_CERT_DATA);
    {
        char notes[2048];
        assert_true(backend_hw_notes(b, notes, sizeof(notes)) > 0);
        assert_non_null(strstr(notes, "last error: sgx_ql_get_quote_size: 0xe011 "
                                      "SGX_QL_NO_PLATFORM_CERT_DATA (aesm 44)"));
        assert_non_null(strstr(notes, "PCCS"));
    }
    clear_faults();
    assert_true(backend_hw_refresh(b, 60000));
    assert_int_equal(b->ops->health(b), AESM_SUCCESS);
    backend_close(b);
}

/* No QPL: Intel's QE3 logic certifies with the encrypted PPID instead
 * (cert type 3, 1456-byte quotes, aesm §6.6); still a valid flow. */
static void test_no_qpl_gives_cert_type3(void **state)
{
    char err[512] = "";
    sgx_att_key_id_ext_t kid;
    sgx_target_info_t ti, app_ti;
    sgx_report_t report;
    sgx_qe_report_info_t qri;
    uint8_t pub[32], digest[32];
    uint8_t quote[4096];
    uint32_t size = 0, len = 0;
    backend *b;

    (void)state;
    clear_faults();
    setenv("SGXQH_HWDOUBLE_FAIL", "0xE00E", 1);
    b = open_hw(g_dbl_dir, err, sizeof(err));
    assert_non_null(b);
    assert_int_equal(b->ops->key_ids(b, &kid, 1), 1);
    assert_int_equal(b->ops->init_quote(b, &kid, &ti, pub), AESM_SUCCESS);
    assert_int_equal(b->ops->quote_size(b, &kid, &size), AESM_SUCCESS);
    assert_int_equal(size, 1456);
    make_app_report(&ti, &report, &app_ti);
    memset(&qri, 0, sizeof(qri));
    memset(qri.nonce, 0x77, 16);
    qri.app_enclave_target_info = app_ti;
    assert_int_equal(b->ops->get_quote(b, &kid, &report, &qri, quote, sizeof(quote), &len),
                     AESM_SUCCESS);
    assert_int_equal(len, 1456);
    assert_int_equal(hwt_le32(quote + 432), 1456 - 436);
    assert_int_equal(hwt_le16(quote + 1046), 3);
    assert_int_equal(hwt_le32(quote + 1048), 404);
    {
        crypto_buf parts[2] = {{qri.nonce, 16}, {quote, len}};
        assert_int_equal(crypto_sha256_parts(parts, 2, digest), 0);
        assert_memory_equal(qri.qe_report.body.report_data, digest, 32);
        assert_int_equal(sim_verify_report(&app_ti, report.body.cpu_svn, &qri.qe_report), SIM_OK);
    }
    clear_faults();
    backend_close(b);
}

/* A platform that cannot load QE3 is reported at open, not at the first
 * request (aesmd's ECDSA bundle refuses to start the same way). */
static void test_enclave_load_failure_fails_open(void **state)
{
    char err[512] = "";
    backend *b;

    (void)state;
    clear_faults();
    setenv("SGXQH_HWDOUBLE_FAIL", "0xE016", 1);
    setenv("SGXQH_HWDOUBLE_FAIL_ON", "load", 1);
    b = open_hw(g_dbl_dir, err, sizeof(err));
    assert_null(b);
    print_message("open: %s\n", err);
    assert_non_null(strstr(err, "0xe016 SGX_QL_ENCLAVE_LOAD_ERROR"));
    assert_non_null(strstr(err, "sgx_prv"));
    clear_faults();
}

/* PCCS trouble at start is not fatal: the daemon runs, answers each request
 * with aesmd's code, and the notes say why. */
static void test_warm_failure_is_not_fatal(void **state)
{
    char err[512] = "", notes[2048];
    backend *b;

    (void)state;
    clear_faults();
    setenv("SGXQH_HWDOUBLE_FAIL", "0xE019", 1);
    setenv("SGXQH_HWDOUBLE_FAIL_ON", "init", 1);
    b = open_hw(g_dbl_dir, err, sizeof(err));
    assert_non_null(b);
    assert_true(backend_hw_wait_warm(b, 60000));
    assert_int_equal(b->ops->health(b), AESM_NETWORK_ERROR);
    assert_true(backend_hw_notes(b, notes, sizeof(notes)) > 0);
    assert_non_null(strstr(notes, "last error: sgx_ql_init_quote: 0xe019 SGX_QL_NETWORK_ERROR"));
    assert_null(strstr(notes, "attestation key: initialised at start"));
    clear_faults();
    backend_close(b);
}

static void test_missing_libraries(void **state)
{
    char empty[PATH_MAX], err[512] = "";

    (void)state;
    clear_faults();
    PJOIN(empty, "%s/empty-libdir", g_tmp);
    assert_int_equal(mkdir(empty, 0700), 0);
    assert_null(open_hw(empty, err, sizeof(err)));
    print_message("open: %s\n", err);
    assert_non_null(strstr(err, "libsgx_pce_logic.so.1"));
    assert_non_null(strstr(err, "install the libsgx-pce-logic package"));
    assert_non_null(strstr(err, empty));

    /* PCE there, QE3 missing: names the QE3 package. */
    {
        char link[PATH_MAX], target[PATH_MAX];
        PJOIN(link, "%s/libsgx_pce_logic.so.1", empty);
        PJOIN(target, "%s/libsgx_pce_logic.so.1", g_dbl_dir);
        assert_int_equal(symlink(target, link), 0);
    }
    err[0] = '\0';
    assert_null(open_hw(empty, err, sizeof(err)));
    assert_non_null(strstr(err, "libsgx_qe3_logic.so"));
    assert_non_null(strstr(err, "libsgx-qe3-logic"));
}

/* Opens the backend on `dir` in a child (Intel's libraries keep process
 * state: a QE3 logic once told a QPL path keeps it), waits for the
 * warm-up, and returns 0 when the notes contain `want` (and, when given,
 * health() answers want_health). */
static int child_notes_main(const char *dir, const char *want, int want_health)
{
    char err[512] = "", notes[4096];
    backend *b = open_hw(dir, err, sizeof(err));
    if (want_health == -2) { /* open must fail, naming `want` */
        fprintf(stderr, "child open: %s\n", err);
        return b == NULL && strstr(err, want) != NULL ? 0 : 34;
    }
    if (b == NULL) {
        fprintf(stderr, "child open: %s\n", err);
        return 30;
    }
    if (!backend_hw_wait_warm(b, 60000))
        return 31;
    backend_hw_notes(b, notes, sizeof(notes));
    fprintf(stderr, "child notes:\n%s", notes);
    if (strstr(notes, want) == NULL)
        return 32;
    if (want_health >= 0 && (int)b->ops->health(b) != want_health)
        return 33;
    backend_close(b);
    return 0;
}

static int notes_in_child(const char *dir, const char *want, int want_health)
{
    char health[16];
    pid_t pid;
    int st = 0;

    snprintf(health, sizeof(health), "%d", want_health);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* A fresh process: nothing of Intel's (or ours) loaded yet. */
        char *const args[] = {(char *)"test_hw_backend", (char *)"--child-notes", (char *)dir,
                              (char *)want, health, NULL};
        execv("/proc/self/exe", args);
        _exit(40);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* The QPL and its config are only looked at, never loaded; their presence
 * shows in the notes with the fix. */
static void test_qpl_and_qcnl_notes(void **state)
{
    static const char *const SYSTEM_DIRS[] = {
        "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64",
        "/usr/lib", "/lib", "/usr/local/lib",
    };
    char dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX], conf[PATH_MAX], want[PATH_MAX + 64];
    char err[512] = "", notes[2048];
    bool system_qpl = false;
    backend *b;

    (void)state;
    clear_faults();
    /* Our own look at the system: is a QPL installed on this machine? */
    for (size_t i = 0; i < sizeof(SYSTEM_DIRS) / sizeof(SYSTEM_DIRS[0]); i++) {
        struct stat st;
        PJOIN(path, "%s/libdcap_quoteprov.so.1", SYSTEM_DIRS[i]);
        if (stat(path, &st) == 0)
            system_qpl = true;
    }
    unsetenv("LD_LIBRARY_PATH");

    /* 1: the doubles' dir holds the QPL double: QE3 logic is told its path,
     * it is Intel's kind, and there is no QCNL config at the set path. */
    PJOIN(conf, "%s/no-such-qcnl.conf", g_tmp);
    setenv("QCNL_CONF_PATH", conf, 1);
    b = open_hw(g_dbl_dir, err, sizeof(err));
    assert_non_null(b);
    assert_true(backend_hw_notes(b, notes, sizeof(notes)) > 0);
    print_message("%s", notes);
    PJOIN(want, "qcnl: %s missing", conf);
    assert_non_null(strstr(notes, want));
    PJOIN(want, "qpl: %s/libdcap_quoteprov.so.1 (intel)", g_dbl_dir);
    assert_non_null(strstr(notes, want));
    assert_true(backend_hw_wait_warm(b, 60000));
    backend_close(b);

    /* 2: a lib dir of links to PCE and QE3 with no QPL: none usable (unless
     * this machine has a real one), and the links are loaded through. */
    PJOIN(dir, "%s/libdir-no-qpl", g_tmp);
    assert_int_equal(mkdir(dir, 0700), 0);
    for (int i = 0; i < 2; i++) {
        const char *name = i == 0 ? "libsgx_pce_logic.so.1" : "libsgx_qe3_logic.so";
        PJOIN(path, "%s/%s", dir, name);
        PJOIN(target, "%s/%s", g_dbl_dir, name);
        assert_int_equal(symlink(target, path), 0);
    }
    if (!system_qpl)
        assert_int_equal(
            notes_in_child(dir, "qpl: none usable", AESM_PLATFORM_LIB_UNAVAILABLE), 0);

    /* 3: a file named like the QPL that is not a library: named, and QE3
     * logic (told that path) goes on without it; a QCNL config present. */
    PJOIN(path, "%s/libdcap_quoteprov.so.1", dir);
    assert_int_equal(hwt_write_text(path, "not a library\n"), 0);
    PJOIN(conf, "%s/qcnl.conf", g_tmp);
    assert_int_equal(hwt_write_text(conf, "{\"pccs_url\": \"https://pccs:8081/sgx/certification/v4/\"}\n"), 0);
    setenv("QCNL_CONF_PATH", conf, 1);
    assert_int_equal(notes_in_child(dir, "qpl: none usable", AESM_PLATFORM_LIB_UNAVAILABLE), 0);
    clear_faults();
}

/* ---- the backend against Intel's own code (issue: hardware backend) ---- */

static char g_lines[16384];
static void capture_log(void *ctx, const char *level, const char *message)
{
    size_t used = strlen(g_lines);
    (void)ctx;
    snprintf(g_lines + used, sizeof(g_lines) - used, "%s: %s\n", level, message);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A backend on the doubles, warmed up, with a key and an app REPORT for
 * its QE: where most of the tests below start. */
typedef struct {
    backend *b;
    sgx_att_key_id_ext_t kid;
    sgx_target_info_t ti, app_ti;
    sgx_report_t report;
} warm_hw;

static void warm_open(warm_hw *w)
{
    char err[512] = "";
    uint8_t pub[32];

    w->b = open_hw(g_dbl_dir, err, sizeof(err));
    assert_non_null(w->b);
    assert_true(backend_hw_wait_warm(w->b, 60000));
    assert_int_equal(w->b->ops->key_ids(w->b, &w->kid, 1), 1);
    assert_int_equal(w->b->ops->init_quote(w->b, &w->kid, &w->ti, pub), AESM_SUCCESS);
    make_app_report(&w->ti, &w->report, &w->app_ti);
}

/* QE3 logic loads the provider by the path the backend reports (set with
 * sgx_set_qpl_path), fetches the PCK chain from it, and the QPL's own log
 * lines arrive in ours through the callback installed on its handle. */
static void test_provider_is_the_one_qe3_loads(void **state)
{
    char want[PATH_MAX + 64];
    uint8_t quote[8192];
    uint32_t len = 0;
    backend_hw_status st;
    warm_hw w;
    backend *b;
    char *log;

    (void)state;
    clear_faults();
    unlink(g_log);
    g_lines[0] = '\0';
    backend_hw_set_logger(capture_log, NULL);
    warm_open(&w);
    b = w.b;
    assert_int_equal(b->ops->get_quote(b, &w.kid, &w.report, NULL, quote, sizeof(quote), &len),
                     AESM_SUCCESS);
    assert_int_equal(hwt_le16(quote + 1046), 5);
    assert_true(backend_hw_status_get(b, &st));
    assert_string_equal(st.provider, "intel");
    PJOIN(want, "%s/libdcap_quoteprov.so.1", g_dbl_dir);
    assert_string_equal(st.provider_path, want);
    assert_int_equal(st.cert_type, 5);
    assert_int_equal(st.state, BACKEND_HW_READY);
    log = hwt_read_text(g_log);
    assert_non_null(log);
    PJOIN(want, "qe3 set_qpl_path %s/libdcap_quoteprov.so.1", g_dbl_dir);
    {
        const char *const order[] = {want, "qpl intel set_logging_callback level=1",
                                     "qe3 init_quote", "qpl intel get_quote_config", NULL};
        assert_true(hwt_lines_in_order(log, order));
    }
    free(log);
    backend_close(b);
    backend_hw_set_logger(NULL, NULL);
    print_message("%s", g_lines);
    assert_non_null(strstr(g_lines, "info: qpl: [QPL] Retrieving the PCK certificate chain"));
    PJOIN(want, "quote provider library %s/libdcap_quoteprov.so.1 (intel)", g_dbl_dir);
    assert_non_null(strstr(g_lines, want));
}

/* az-dcap-client installs libdcap_quoteprov.so only and exports the older
 * logging entry point: found, told to QE3 logic, reported as azure. */
static void test_azure_provider(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX], want[PATH_MAX + 64];

    (void)state;
    clear_faults();
    PJOIN(dir, "%s/libdir-azure", g_tmp);
    assert_int_equal(mkdir(dir, 0700), 0);
    for (int i = 0; i < 3; i++) {
        const char *name = i == 0   ? "libsgx_pce_logic.so.1"
                           : i == 1 ? "libsgx_qe3_logic.so"
                                    : "azure/libdcap_quoteprov.so";
        PJOIN(path, "%s/%s", dir, i == 2 ? "libdcap_quoteprov.so" : name);
        PJOIN(target, "%s/%s", g_dbl_dir, name);
        assert_int_equal(symlink(target, path), 0);
    }
    PJOIN(want, "qpl: %s/libdcap_quoteprov.so (azure)", dir);
    assert_int_equal(notes_in_child(dir, want, AESM_SUCCESS), 0);
}

/* A provider that fails is named, and readiness says so: the QPL's own
 * error (PCCS unreachable), and a QCNL config its global init rejects. */
static void test_broken_provider_is_named(void **state)
{
    char err[512] = "", notes[4096];
    backend *b;

    (void)state;
    clear_faults();
    b = open_hw(g_dbl_dir, err, sizeof(err));
    assert_non_null(b);
    assert_true(backend_hw_wait_warm(b, 60000));
    setenv("SGXQH_QPL_FAIL", "0xE019", 1);
    assert_true(backend_hw_refresh(b, 60000));
    assert_int_equal(b->ops->health(b), AESM_NETWORK_ERROR);
    backend_hw_notes(b, notes, sizeof(notes));
    assert_non_null(strstr(notes, "0xe019 SGX_QL_NETWORK_ERROR"));
    assert_non_null(strstr(notes, "status: failed"));
    unsetenv("SGXQH_QPL_FAIL");
    assert_true(backend_hw_refresh(b, 60000));
    assert_int_equal(b->ops->health(b), AESM_SUCCESS);
    backend_close(b);

    setenv("SGXQH_QPL_INIT_FAIL", "0xE067", 1);
    assert_int_equal(notes_in_child(g_dbl_dir,
                                    "qpl: sgx_qpl_global_init failed: 0xe067 "
                                    "SGX_QL_CONFIG_INVALID_JSON",
                                    AESM_UNEXPECTED_ERROR),
                     0);
    unsetenv("SGXQH_QPL_INIT_FAIL");
}

/* Intel's QE3 logic, loading the QPL by its default name, drops it when
 * its sgx_qpl_global_init fails and certifies with the encrypted PPID:
 * the double does the same (checked on the double itself, in a child). */
static void test_double_global_init_failure_means_type3(void **state)
{
    char qe3[PATH_MAX], pce[PATH_MAX], qpl[PATH_MAX];
    pid_t pid;
    int st = 0;

    (void)state;
    clear_faults();
    PJOIN(qe3, "%s/libsgx_qe3_logic.so", g_dbl_dir);
    PJOIN(pce, "%s/libsgx_pce_logic.so.1", g_dbl_dir);
    PJOIN(qpl, "%s/libdcap_quoteprov.so.1", g_dbl_dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        void *q;
        uint32_t (*init)(sgx_ql_att_key_id_t *, sgx_target_info_t *, bool, size_t *, uint8_t *);
        uint32_t (*size_fn)(sgx_ql_att_key_id_t *, uint32_t *);
        uint32_t (*keyid)(sgx_att_key_id_ext_t *);
        sgx_att_key_id_ext_t kid;
        sgx_target_info_t ti;
        uint8_t pub[32];
        size_t pub_size = 32;
        uint32_t size = 0;
        /* Loaded by path first, so QE3's dlopen by soname finds it. */
        if (dlopen(qpl, RTLD_NOW | RTLD_LOCAL) == NULL ||
            dlopen(pce, RTLD_NOW | RTLD_GLOBAL) == NULL || (q = dlopen(qe3, RTLD_NOW)) == NULL)
            _exit(20);
        *(void **)&init = dlsym(q, "sgx_ql_init_quote");
        *(void **)&size_fn = dlsym(q, "sgx_ql_get_quote_size");
        *(void **)&keyid = dlsym(q, "sgx_ql_get_keyid");
        if (init == NULL || size_fn == NULL || keyid == NULL || keyid(&kid) != 0)
            _exit(21);
        setenv("SGXQH_QPL_INIT_FAIL", "0xE067", 1);
        if (init(&kid.base, &ti, false, &pub_size, pub) != 0 || size_fn(&kid.base, &size) != 0)
            _exit(22);
        if (size != 1456)
            _exit(23); /* type 3 */
        unsetenv("SGXQH_QPL_INIT_FAIL");
        if (init(&kid.base, &ti, false, &pub_size, pub) != 0 || size_fn(&kid.base, &size) != 0)
            _exit(24);
        _exit(size > 1456 ? 0 : 25);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* An EPC loss: under PERSISTENT the double (like Intel's load_qe) keeps
 * the dead enclave, so every call fails until it is unloaded; the backend
 * resets the policy, reloads and retries once, and the client never sees
 * AESM 46. */
static void test_lost_enclave_is_reloaded(void **state)
{
    char lose[PATH_MAX];
    uint8_t pub[32], quote[8192];
    uint32_t len = 0, size = 0;
    warm_hw w;
    backend *b;
    char *log;

    (void)state;
    clear_faults();
    PJOIN(lose, "%s/lose-enclave", g_tmp);
    setenv("SGXQH_HWDOUBLE_LOSE_ENCLAVE", lose, 1);
    warm_open(&w);
    b = w.b;

    unlink(g_log);
    assert_int_equal(hwt_write_text(lose, "x"), 0);
    assert_int_equal(b->ops->get_quote(b, &w.kid, &w.report, NULL, quote, sizeof(quote), &len),
                     AESM_SUCCESS);
    assert_int_equal(hwt_write_text(lose, "x"), 0);
    assert_int_equal(b->ops->quote_size(b, &w.kid, &size), AESM_SUCCESS);
    assert_int_equal(hwt_write_text(lose, "x"), 0);
    assert_int_equal(b->ops->init_quote(b, &w.kid, &w.ti, pub), AESM_SUCCESS);
    log = hwt_read_text(g_log);
    assert_non_null(log);
    {
        const char *const order[] = {"qe3 enclave lost", "qe3 set_policy 1", "qe3 unloaded",
                                     "qe3 set_policy 0", "qe3 get_quote", NULL};
        assert_true(hwt_lines_in_order(log, order));
    }
    free(log);
    assert_true(backend_hw_refresh(b, 60000));
    assert_int_equal(b->ops->health(b), AESM_SUCCESS);
    unsetenv("SGXQH_HWDOUBLE_LOSE_ENCLAVE");
    backend_close(b);
}

/* Start-up never waits for the PCCS: open returns at once while the key
 * is made in the background, health says "warming" (not ready) without
 * waiting, and becomes ready when the QPL answers. */
static void test_open_does_not_wait_for_pccs(void **state)
{
    char err[512] = "", notes[4096];
    uint64_t t0, took;
    backend *b;

    (void)state;
    clear_faults();
    setenv("SGXQH_QPL_DELAY_MS", "4000", 1);
    t0 = now_ms();
    b = open_hw(g_dbl_dir, err, sizeof(err));
    took = now_ms() - t0;
    assert_non_null(b);
    print_message("open took %llu ms\n", (unsigned long long)took);
    assert_true(took < 3000);
    t0 = now_ms();
    assert_int_equal(b->ops->health(b), AESM_BUSY);
    assert_true(now_ms() - t0 < 1000);
    backend_hw_notes(b, notes, sizeof(notes));
    assert_non_null(strstr(notes, "status: warming"));
    assert_true(backend_hw_wait_warm(b, 60000));
    assert_int_equal(b->ops->health(b), AESM_SUCCESS);
    unsetenv("SGXQH_QPL_DELAY_MS");
    backend_close(b);
}

/* load_qe's raw sgx_status_t values stop the start with their own name
 * and fix, not SGX_QL_UNKNOWN_ERROR (each in a fresh process: the QE3
 * double only loads once per process, as Intel's does under PERSISTENT). */
static void test_load_status_is_named(void **state)
{
    static const struct {
        const char *status, *want;
    } cases[] = {
        {"0x4004", "0x4004 SGX_ERROR_SERVICE_INVALID_PRIVILEGE: QE3 needs the provisioning key"},
        {"0x200F", "0x200f SGX_ERROR_ENCLAVE_FILE_ACCESS"},
        {"0x2006", "0x2006 SGX_ERROR_NO_DEVICE"},
    };

    (void)state;
    clear_faults();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("SGXQH_HWDOUBLE_LOAD_STATUS", cases[i].status, 1);
        assert_int_equal(notes_in_child(g_dbl_dir, cases[i].want, -2), 0);
    }
    unsetenv("SGXQH_HWDOUBLE_LOAD_STATUS");
}

/* Intel's QE3 logic answers AESM 42 again when the QPL's TCBm no longer
 * matches the one that certified the key (a TCB recovery at the PCCS);
 * the next probe makes a new key and the daemon is ready again. */
static void test_stale_key_is_remade(void **state)
{
    char err[512] = "";
    sgx_att_key_id_ext_t kid;
    uint32_t size = 0;
    backend *b;

    (void)state;
    clear_faults();
    b = open_hw(g_dbl_dir, err, sizeof(err));
    assert_non_null(b);
    assert_true(backend_hw_wait_warm(b, 60000));
    assert_int_equal(b->ops->key_ids(b, &kid, 1), 1);
    assert_int_equal(b->ops->quote_size(b, &kid, &size), AESM_SUCCESS);
    setenv("SGXQH_QPL_PCESVN", "99", 1);
    assert_int_equal(b->ops->quote_size(b, &kid, &size), AESM_ATT_KEY_NOT_INITIALIZED);
    assert_true(backend_hw_refresh(b, 60000));
    assert_int_equal(b->ops->health(b), AESM_SUCCESS);
    assert_int_equal(b->ops->quote_size(b, &kid, &size), AESM_SUCCESS);
    unsetenv("SGXQH_QPL_PCESVN");
    assert_int_equal(b->ops->quote_size(b, &kid, &size), AESM_ATT_KEY_NOT_INITIALIZED);
    assert_true(backend_hw_refresh(b, 60000));
    assert_int_equal(b->ops->quote_size(b, &kid, &size), AESM_SUCCESS);
    backend_close(b);
}

/* QE3 marshals the whole quote buffer into its 0x24000-byte enclave heap:
 * a client's large buf_size must not reach it. */
static void test_big_buffer_is_capped(void **state)
{
    uint32_t cap = 0x30000, len = 0;
    uint8_t *quote = calloc(1, cap);
    warm_hw w;

    (void)state;
    clear_faults();
    assert_non_null(quote);
    warm_open(&w);
    assert_int_equal(w.b->ops->get_quote(w.b, &w.kid, &w.report, NULL, quote, cap, &len),
                     AESM_SUCCESS);
    assert_in_range(len, 1052 + 500, BACKEND_HW_MAX_BUF_SIZE);
    backend_close(w.b);
    free(quote);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qe3_needs_pce_loaded_global),
        cmocka_unit_test(test_double_detects_sgx_aesm_addr),
        cmocka_unit_test(test_open_sequence_and_quote),
        cmocka_unit_test(test_injected_errors_per_call),
        cmocka_unit_test(test_no_qpl_gives_cert_type3),
        cmocka_unit_test(test_enclave_load_failure_fails_open),
        cmocka_unit_test(test_warm_failure_is_not_fatal),
        cmocka_unit_test(test_missing_libraries),
        cmocka_unit_test(test_qpl_and_qcnl_notes),
        cmocka_unit_test(test_provider_is_the_one_qe3_loads),
        cmocka_unit_test(test_azure_provider),
        cmocka_unit_test(test_broken_provider_is_named),
        cmocka_unit_test(test_double_global_init_failure_means_type3),
        cmocka_unit_test(test_lost_enclave_is_reloaded),
        cmocka_unit_test(test_open_does_not_wait_for_pccs),
        cmocka_unit_test(test_load_status_is_named),
        cmocka_unit_test(test_stale_key_is_remade),
        cmocka_unit_test(test_big_buffer_is_capped),
    };
    if (argc == 5 && strcmp(argv[1], "--child-notes") == 0)
        return child_notes_main(argv[2], argv[3], atoi(argv[4]));
    if (argc < 2) {
        fprintf(stderr, "usage: %s DOUBLES_DIR\n", argv[0]);
        return 2;
    }
    static char dbl_abs[PATH_MAX];
    if (realpath(argv[1], dbl_abs) == NULL) {
        perror(argv[1]);
        return 2;
    }
    g_dbl_dir = dbl_abs;
    return cmocka_run_group_tests_name("hw_backend", tests, group_setup, group_teardown);
}
