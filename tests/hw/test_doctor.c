/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote doctor` against fake root directories: stand-in device nodes
 * (real character devices via mknod; regular files plus the documented
 * SGXQH_DOCTOR_FAKE_DEVICES=1 test mode where mknod is not allowed), fake
 * /etc/group, /proc (mountinfo, comm, net/unix, fd links), Intel library
 * files, QCNL configs, a loopback "PCCS", and a real daemon or a mute
 * socket. Each scenario asserts every line's status from --json, and the
 * text form's shape.
 *
 * argv: SGX_QUOTE_EXE DAEMON_EXE
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "hw_tutil.h"

#define PJOIN(buf, ...) assert_true((size_t)snprintf(buf, sizeof(buf), __VA_ARGS__) < sizeof(buf))

static const char *g_cli;
static const char *g_daemon;
static char g_tmp[PATH_MAX];
static bool g_fake_devices; /* mknod not permitted: use the test mode */

/* ---- building a fake root ---- */

static void mkdirs(const char *root, const char *rel)
{
    char p[PATH_MAX];
    PJOIN(p, "%s/%s", root, rel);
    for (char *s = p + 1; *s != '\0'; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
    mkdir(p, 0755);
}

static void put(const char *root, const char *rel, const char *text)
{
    char p[PATH_MAX];
    char dir[PATH_MAX];
    PJOIN(dir, "%s", rel);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        mkdirs(root, dir);
    }
    PJOIN(p, "%s/%s", root, rel);
    assert_int_equal(hwt_write_text(p, text), 0);
}

static void link_to(const char *root, const char *rel, const char *target)
{
    char p[PATH_MAX];
    PJOIN(p, "%s/%s", root, rel);
    assert_int_equal(symlink(target, p), 0);
}

static void device(const char *root, const char *rel, unsigned mj, unsigned mn, mode_t mode,
                   gid_t gid)
{
    char p[PATH_MAX];
    mkdirs(root, "dev");
    PJOIN(p, "%s/%s", root, rel);
    if (!g_fake_devices) {
        assert_int_equal(mknod(p, S_IFCHR | mode, makedev(mj, mn)), 0);
    } else {
        assert_int_equal(hwt_write_text(p, ""), 0);
    }
    assert_int_equal(chmod(p, mode), 0);
    assert_int_equal(chown(p, 0, gid), 0);
}

/* ---- a loopback "PCCS" that answers one GET ---- */

typedef struct {
    int fd;
    int port;
    char request_line[256];
} http_stub;

static void *http_serve_one(void *arg)
{
    http_stub *h = arg;
    int c = accept(h->fd, NULL, NULL);
    char buf[2048];
    ssize_t n;
    static const char REPLY[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

    if (c < 0)
        return NULL;
    n = read(c, buf, sizeof(buf) - 1);
    if (n > 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        size_t l = strlen(buf) < sizeof(h->request_line) - 1 ? strlen(buf)
                                                              : sizeof(h->request_line) - 1;
        memcpy(h->request_line, buf, l);
        h->request_line[l] = '\0';
    }
    if (write(c, REPLY, sizeof(REPLY) - 1) < 0) {
        /* the test notices from doctor's verdict */
    }
    close(c);
    return NULL;
}

static int loopback_listener(int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* ---- running doctor ---- */

typedef struct {
    json_t *root;
    int exit_code;
    char *text;
} doctor_run;

static void run_doctor(doctor_run *out, const char *root, const char *socket, const char *aesm_addr,
                       bool json)
{
    char outpath[PATH_MAX];
    static int seq;
    pid_t pid;
    int st = 0;

    PJOIN(outpath, "%s/doctor-%d.out", g_tmp, ++seq);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const char *argv[10];
        int n = 0;
        if (fd < 0)
            _exit(126);
        dup2(fd, 1);
        unsetenv("QCNL_CONF_PATH");
        unsetenv("http_proxy");
        unsetenv("https_proxy");
        unsetenv("HTTP_PROXY");
        unsetenv("HTTPS_PROXY");
        unsetenv("all_proxy");
        unsetenv("ALL_PROXY");
        if (aesm_addr != NULL)
            setenv("SGX_AESM_ADDR", aesm_addr, 1);
        else
            unsetenv("SGX_AESM_ADDR");
        if (g_fake_devices)
            setenv("SGXQH_DOCTOR_FAKE_DEVICES", "1", 1);
        argv[n++] = g_cli;
        argv[n++] = "doctor";
        argv[n++] = "--root-dir";
        argv[n++] = root;
        if (socket != NULL) {
            argv[n++] = "--socket";
            argv[n++] = socket;
        }
        if (json)
            argv[n++] = "--json";
        argv[n] = NULL;
        execv(g_cli, (char *const *)argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    out->exit_code = WEXITSTATUS(st);
    out->text = hwt_read_text(outpath);
    assert_non_null(out->text);
    out->root = NULL;
    if (json) {
        json_error_t err;
        out->root = json_loads(out->text, 0, &err);
        if (out->root == NULL)
            fail_msg("doctor --json printed invalid JSON (%s):\n%s", err.text, out->text);
    }
}

static void free_run(doctor_run *r)
{
    json_decref(r->root);
    free(r->text);
}

static const char *status_of(const doctor_run *r, const char *check, const char **message)
{
    json_t *arr = json_object_get(r->root, "checks");
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "check")), check) == 0) {
            if (message != NULL)
                *message = json_string_value(json_object_get(c, "message"));
            return json_string_value(json_object_get(c, "status"));
        }
    }
    return "(absent)";
}

static void expect(const doctor_run *r, const char *check, const char *status, const char *in_msg)
{
    const char *msg = "";
    const char *got = status_of(r, check, &msg);
    if (strcmp(got, status) != 0)
        fail_msg("check %s: status %s, expected %s (%s)\n%s", check, got, status, msg, r->text);
    if (in_msg != NULL && strstr(msg, in_msg) == NULL)
        fail_msg("check %s: message \"%s\" lacks \"%s\"", check, msg, in_msg);
}

/* ---- a daemon in simulation mode on the fake root's socket ---- */

static pid_t g_live_daemon;

static pid_t start_sim_daemon(const char *socket, const char *state)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    g_live_daemon = pid;
    if (pid == 0) {
        char log[PATH_MAX];
        int fd;
        if ((size_t)snprintf(log, sizeof(log), "%s.log", socket) >= sizeof(log))
            _exit(126);
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0)
            dup2(fd, 2);
        execl(g_daemon, g_daemon, "--backend", "sim", "--state-dir", state, "--socket", socket,
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        struct stat st;
        if (stat(socket, &st) == 0 && S_ISSOCK(st.st_mode))
            return pid;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("daemon did not create %s", socket);
    return -1;
}

static void stop_daemon(pid_t pid)
{
    int st;
    g_live_daemon = 0;
    kill(pid, SIGTERM);
    assert_int_equal(waitpid(pid, &st, 0), pid);
}

/* ---- scenarios ---- */

/* A: an SGX node's container done mostly right, but /dev noexec, a
 * localhost PCCS URL inside a container, and the daemon simulated although
 * the hardware is there. */
static void test_sgx_node_container_with_mistakes(void **state)
{
    char root[PATH_MAX], sock[PATH_MAX], stdir[PATH_MAX], conf[1024];
    http_stub h;
    pthread_t th;
    doctor_run r;
    pid_t daemon;

    (void)state;
    PJOIN(root, "%s/rootA", g_tmp);
    mkdirs(root, "var/run/aesmd");
    put(root, "etc/group", "root:x:0:\nsgx:x:1100:\nsgx_prv:x:1234:aesmd\n");
    device(root, "dev/sgx_enclave", 10, 125, 0666, 1100);
    device(root, "dev/sgx_provision", 10, 126, 0660, 1234);
    put(root, "proc/self/mountinfo",
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "24 27 0:6 / /dev rw,nosuid,noexec,relatime - devtmpfs devtmpfs rw,mode=755\n"
        "25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw\n");
    put(root, "usr/lib/x86_64-linux-gnu/libsgx_qe3_logic.so.1.21.100.3", "x");
    link_to(root, "usr/lib/x86_64-linux-gnu/libsgx_qe3_logic.so.1", "libsgx_qe3_logic.so.1.21.100.3");
    put(root, "usr/lib/x86_64-linux-gnu/libsgx_pce_logic.so.1.21.100.3", "x");
    link_to(root, "usr/lib/x86_64-linux-gnu/libsgx_pce_logic.so.1", "libsgx_pce_logic.so.1.21.100.3");
    put(root, "usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1.13.100.3", "x");
    link_to(root, "usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1", "libdcap_quoteprov.so.1.13.100.3");
    put(root, ".dockerenv", "");

    memset(&h, 0, sizeof(h));
    h.fd = loopback_listener(&h.port);
    assert_int_equal(pthread_create(&th, NULL, http_serve_one, &h), 0);
    /* Intel's JSON flavour, comments included. */
    PJOIN(conf,
          "{\n  // PCCS server address\n  \"pccs_url\": \"http://127.0.0.1:%d/sgx/certification/v4/\",\n"
          "  /* self-signed */ \"use_secure_cert\": false,\n  \"retry_times\": 6\n}\n",
          h.port);
    put(root, "etc/sgx_default_qcnl.conf", conf);

    PJOIN(sock, "%s/var/run/aesmd/aesm.socket", root);
    PJOIN(stdir, "%s/simstate", g_tmp);
    daemon = start_sim_daemon(sock, stdir);

    run_doctor(&r, root, NULL, "1", true); /* default socket: <root>/var/run/aesmd/aesm.socket */
    stop_daemon(daemon);
    pthread_join(th, NULL);
    close(h.fd);

    expect(&r, "sgx_enclave", "OK", g_fake_devices ? "stand-in" : "character device 10:125");
    expect(&r, "sgx_provision", "OK", "group sgx_prv");
    expect(&r, "legacy_devices", "OK", NULL);
    expect(&r, "sgx_prv_group", "OK", "aesmd");
    expect(&r, "dev_noexec", "FAIL", "noexec");
    expect(&r, "lib_qe3_logic", "OK", "1.21.100.3");
    expect(&r, "lib_pce_logic", "OK", "1.21.100.3");
    expect(&r, "lib_dcap_ql", "OK", "never uses it");
    expect(&r, "lib_qpl", "OK", "1.13.100.3");
    expect(&r, "environment", "OK", "/.dockerenv");
    expect(&r, "qcnl_config", "FAIL", "container");
    expect(&r, "pccs", "OK", "HTTP 200");
    expect(&r, "socket", "OK", "mode 0666");
    expect(&r, "socket_ping", "OK", "1 attestation key id");
    expect(&r, "other_aesmd", "OK", NULL);
    expect(&r, "sgx_aesm_addr", "OK", "out-of-proc");
    expect(&r, "daemon_mode", "FAIL", "SIMULATION");
    assert_string_equal(h.request_line, "GET /sgx/certification/v4/rootcacrl HTTP/1.1");
    assert_int_equal(r.exit_code, 1);
    {
        json_t *sum = json_object_get(r.root, "summary");
        assert_int_equal(json_integer_value(json_object_get(sum, "fail")), 3);
    }
    free_run(&r);
}

/* B: a laptop: no SGX, no daemon, legacy QCNL config with an unreachable
 * PCCS, SGX_AESM_ADDR=0 (which still means out-of-proc). */
static void test_laptop_without_sgx_or_daemon(void **state)
{
    char root[PATH_MAX], conf[512];
    int port, fd;
    doctor_run r;

    (void)state;
    PJOIN(root, "%s/rootB", g_tmp);
    mkdirs(root, "dev");
    put(root, "proc/self/mountinfo", "24 27 0:6 / /dev rw,nosuid,relatime - devtmpfs udev rw\n");
    fd = loopback_listener(&port);
    close(fd); /* nothing listens there now */
    PJOIN(conf, "# legacy\nPCCS_URL=http://127.0.0.1:%d/sgx/certification/v3/\nUSE_SECURE_CERT=FALSE\n",
          port);
    put(root, "etc/sgx_default_qcnl.conf", conf);

    run_doctor(&r, root, NULL, "0", true);
    expect(&r, "sgx_enclave", "FAIL", "missing");
    expect(&r, "sgx_provision", "FAIL", "missing");
    expect(&r, "sgx_prv_group", "OK", NULL);
    expect(&r, "dev_noexec", "OK", "exec");
    expect(&r, "lib_qe3_logic", "WARN", "not needed for simulation");
    expect(&r, "lib_qpl", "OK", NULL);
    expect(&r, "environment", "OK", "on a host");
    expect(&r, "qcnl_config", "OK", "key=value");
    expect(&r, "pccs", "FAIL", "0xe019");
    expect(&r, "socket", "FAIL", "does not exist");
    expect(&r, "socket_ping", "FAIL", NULL);
    expect(&r, "sgx_aesm_addr", "WARN", "\"0\"");
    expect(&r, "daemon_mode", "WARN", "no SGX device");
    assert_int_equal(r.exit_code, 1);
    free_run(&r);

    /* The text form: one line per check, each with its status first. */
    run_doctor(&r, root, NULL, NULL, false);
    {
        size_t lines = 0;
        bool saw_fix = false;
        char *save = NULL;
        for (char *l = strtok_r(r.text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
            if (strncmp(l, "doctor: ", 8) == 0)
                continue;
            lines++;
            assert_true(strncmp(l, "OK ", 3) == 0 || strncmp(l, "WARN ", 5) == 0 ||
                        strncmp(l, "FAIL ", 5) == 0);
            if (strncmp(l, "FAIL ", 5) == 0) {
                assert_non_null(strstr(l, " -> fix: "));
                saw_fix = true;
            }
        }
        assert_true(lines >= 15);
        assert_true(saw_fix);
    }
    free_run(&r);
}

/* C: Intel's aesmd owns the socket (found through /proc/net/unix and the
 * fd links), permissions too tight or too loose, an old-style /proc/mounts,
 * mismatched library versions, and a mute socket. */
static void test_other_aesmd_and_permissions(void **state)
{
    char root[PATH_MAX], sock[PATH_MAX], line[PATH_MAX + 128];
    struct sockaddr_un sa;
    int lfd;
    doctor_run r;

    (void)state;
    PJOIN(root, "%s/rootC", g_tmp);
    mkdirs(root, "run");
    put(root, "etc/group", "root:x:0:\nsgx_prv:x:1234:\n");
    device(root, "dev/sgx_enclave", 10, 125, 0600, 0);
    device(root, "dev/sgx_provision", 10, 126, 0666, 0);
    put(root, "proc/mounts", "devtmpfs /dev devtmpfs rw,noexec,nosuid 0 0\n");
    put(root, "usr/lib64/libsgx_qe3_logic.so.1.21.100.3", "x");
    put(root, "usr/lib64/libsgx_pce_logic.so.1.20.100.2", "x");
    put(root, "run/.containerenv", "");

    /* A socket that accepts but never answers, mode 0600. */
    PJOIN(sock, "%s/run/aesm.socket", root);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    assert_true(strlen(sock) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(chmod(sock, 0600), 0);
    /* What the kernel would show for aesm_service (pid 4242) bound there. */
    PJOIN(line,
          "Num       RefCount Protocol Flags    Type St Inode Path\n"
          "0000000000000000: 00000002 00000000 00010000 0001 01 777 %s\n"
          "0000000000000000: 00000003 00000000 00000000 0001 03 778 %s\n",
          sock, sock);
    put(root, "proc/net/unix", line);
    put(root, "proc/4242/comm", "aesm_service\n");
    mkdirs(root, "proc/4242/fd");
    link_to(root, "proc/4242/fd/7", "socket:[777]");
    put(root, "proc/1/comm", "init\n");

    run_doctor(&r, root, sock, "/srv/other.sock", true);
    close(lfd);

    expect(&r, "sgx_enclave", "WARN", "only its owner");
    expect(&r, "sgx_provision", "WARN", "every local process");
    expect(&r, "sgx_prv_group", "WARN", "no members");
    expect(&r, "dev_noexec", "FAIL", "noexec");
    expect(&r, "lib_qe3_logic", "OK", "1.21.100.3");
    expect(&r, "lib_pce_logic", "OK", "1.20.100.2");
    expect(&r, "lib_versions", "WARN", "different DCAP releases");
    expect(&r, "lib_qpl", "WARN", "type 3");
    expect(&r, "environment", "OK", "/run/.containerenv");
    expect(&r, "qcnl_config", "WARN", "missing");
    expect(&r, "socket", "WARN", "mode 0600");
    expect(&r, "socket_ping", "FAIL", "did not answer");
    expect(&r, "other_aesmd", "WARN", "aesm_service (pid 4242)");
    expect(&r, "sgx_aesm_addr", "WARN", "only our libsgx_quote_ex");
    expect(&r, "daemon_mode", "WARN", "SGX device present");
    free_run(&r);
}

/* D: the stand-in test mode itself. A regular file at /dev/sgx_enclave is
 * not a device (FAIL) unless SGXQH_DOCTOR_FAKE_DEVICES=1 says it stands in
 * for one, and then the message says so. */
static void test_stand_in_device_mode(void **state)
{
    char root[PATH_MAX];
    bool saved = g_fake_devices;
    doctor_run r;

    (void)state;
    PJOIN(root, "%s/rootD", g_tmp);
    put(root, "dev/sgx_enclave", "");
    put(root, "dev/sgx_provision", "");
    {
        char p[PATH_MAX];
        PJOIN(p, "%s/dev/sgx_enclave", root);
        assert_int_equal(chmod(p, 0666), 0);
    }

    g_fake_devices = false;
    run_doctor(&r, root, NULL, NULL, true);
    expect(&r, "sgx_enclave", "FAIL", "not a character device");
    free_run(&r);

    g_fake_devices = true;
    run_doctor(&r, root, NULL, NULL, true);
    expect(&r, "sgx_enclave", "OK", "stand-in (test mode)");
    expect(&r, "sgx_provision", "WARN", "stand-in (test mode)");
    free_run(&r);
    g_fake_devices = saved;
}

/* E: the package layout Intel ships: libsgx_qe3_logic.so has no version
 * in its name and the PCE's soname version never moves, so releases are
 * told apart by the packages' versions in dpkg's database. */
static void test_lib_versions_from_packages(void **state)
{
    static const char *const STATUS_FMT =
        "Package: libsgx-urts\nStatus: install ok installed\nVersion: 2.25.100.3-jammy1\n\n"
        "Package: libsgx-qe3-logic\nStatus: install ok installed\nVersion: %s\n"
        "Description: qe3\n\n"
        "Package: libsgx-pce-logic\nStatus: deinstall ok config-files\nVersion: 0.1\n\n"
        "Package: libsgx-pce-logic\nStatus: install ok installed\nVersion: %s\n";
    static const struct {
        const char *qe3, *pce, *status, *msg;
    } cases[] = {
        {"1.22.100.3-jammy1", "1.21.100.3-jammy1", "WARN", "different DCAP releases"},
        {"1.12.100.3-focal1", "1.12.100.3-focal1", "WARN", "older than DCAP 1.14"},
        {"1.22.100.3-jammy1", "1.22.100.3-jammy1", "OK", "libsgx_qe3_logic 1.22.100.3-jammy1"},
    };
    char root[PATH_MAX], status[1024];
    doctor_run r;

    (void)state;
    PJOIN(root, "%s/rootE", g_tmp);
    put(root, "usr/lib/x86_64-linux-gnu/libsgx_qe3_logic.so", "x");
    put(root, "usr/lib/x86_64-linux-gnu/libsgx_pce_logic.so.1.0.0", "x");
    link_to(root, "usr/lib/x86_64-linux-gnu/libsgx_pce_logic.so.1", "libsgx_pce_logic.so.1.0.0");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PJOIN(status, STATUS_FMT, cases[i].qe3, cases[i].pce);
        put(root, "var/lib/dpkg/status", status);
        run_doctor(&r, root, NULL, NULL, true);
        expect(&r, "lib_qe3_logic", "OK", "libsgx_qe3_logic.so");
        expect(&r, "lib_versions", cases[i].status, cases[i].msg);
        free_run(&r);
    }
}

static int group_setup(void **state)
{
    char probe[PATH_MAX];
    (void)state;
    if (hwt_mkdtemp(g_tmp, sizeof(g_tmp), "doctor") != 0)
        return -1;
    if ((size_t)snprintf(probe, sizeof(probe), "%s/probe", g_tmp) >= sizeof(probe))
        return -1;
    if (mknod(probe, S_IFCHR | 0600, makedev(1, 3)) != 0) {
        g_fake_devices = true;
        fprintf(stderr, "mknod not permitted (%s): using doctor's stand-in device test mode\n",
                strerror(errno));
    }
    unlink(probe);
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
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    hwt_rmtree(g_tmp);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sgx_node_container_with_mistakes, reap_daemon),
        cmocka_unit_test(test_laptop_without_sgx_or_daemon),
        cmocka_unit_test(test_other_aesmd_and_permissions),
        cmocka_unit_test(test_stand_in_device_mode),
        cmocka_unit_test(test_lib_versions_from_packages),
    };
    if (argc < 3) {
        fprintf(stderr, "usage: %s SGX_QUOTE DAEMON\n", argv[0]);
        return 2;
    }
    g_cli = argv[1];
    g_daemon = argv[2];
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("doctor", tests, group_setup, group_teardown);
}
