/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Harness for the daemon integration tests (see harness.h): process
 * control for the real sgx-quote-helperd, raw socket helpers, the
 * dlopen'ed libsgx_quote_ex.so.1, a simulated app enclave, and the
 * independent verifier (@phala/dcap-qvl through tests/node/qvl-verify.js).
 * The helpers marked cmocka-asserting fail the calling test themselves.
 */
#include "harness.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/sim.h"

int64_t itest_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *env_path(const char *var, const char *rel)
{
    const char *base = getenv(var);
    if (base == NULL) {
        fprintf(stderr, "harness: %s is not set (run the tests with meson test)\n", var);
        abort();
    }
    size_t n = strlen(base) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p == NULL)
        abort();
    snprintf(p, n, "%s/%s", base, rel);
    return p;
}

char *itest_build_path(const char *rel)
{
    return env_path("SGXQH_BUILD_DIR", rel);
}

char *itest_vector_path(const char *rel)
{
    char *path = env_path("SGXQH_VECTORS", rel);
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("test vector %s: %s (the vectors live in tests/vectors; see its README)", path,
                 strerror(errno));
    return path;
}

int itest_read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t cap = 4096, used = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (used < cap)
            break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (nb == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    if (buf == NULL)
        return -1;
    *data = buf;
    *len = used;
    return 0;
}

char *itest_read_text(const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (itest_read_file(path, &data, &len) != 0)
        return NULL;
    char *text = realloc(data, len + 1);
    if (text == NULL) {
        free(data);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

long itest_status_kb(pid_t pid, const char *field)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    char *text = itest_read_text(path);
    if (text == NULL)
        return -1;
    const char *at = strstr(text, field);
    long kb = at != NULL ? strtol(at + strlen(field), NULL, 10) : -1;
    free(text);
    return kb;
}

uint8_t *itest_request_vector(const char *name, size_t *len)
{
    char rel[128];
    snprintf(rel, sizeof rel, "aesm-requests/%s", name);
    char *path = itest_vector_path(rel);
    uint8_t *data = NULL;
    if (itest_read_file(path, &data, len) != 0)
        fail_msg("test vector %s: cannot read it", path);
    free(path);
    return data;
}

int itest_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int rc = fwrite(data, 1, len, f) == len ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

int itest_run(char *const argv[], char **out)
{
    int pipefd[2] = {-1, -1};
    if (out != NULL && pipe(pipefd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (out != NULL) {
            dup2(pipefd[1], STDOUT_FILENO);
            close(pipefd[0]);
            close(pipefd[1]);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    if (out != NULL) {
        close(pipefd[1]);
        size_t cap = 4096, used = 0;
        char *buf = malloc(cap);
        for (;;) {
            if (used + 1 >= cap) {
                cap *= 2;
                buf = realloc(buf, cap);
            }
            if (buf == NULL)
                abort();
            ssize_t n = read(pipefd[0], buf + used, cap - used - 1);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            used += (size_t)n;
        }
        buf[used] = '\0';
        close(pipefd[0]);
        *out = buf;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- daemon process ---------------------------------------------------- */

void itest_daemon_init(itest_daemon *d)
{
    memset(d, 0, sizeof *d);
    const char *tmp = getenv("TMPDIR");
    snprintf(d->dir, sizeof d->dir, "%s/sqh-itest-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(d->dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    snprintf(d->socket, sizeof d->socket, "%s/run/aesm.socket", d->dir);
    snprintf(d->state_dir, sizeof d->state_dir, "%s/state", d->dir);
    snprintf(d->log_path, sizeof d->log_path, "%s/daemon.log", d->dir);
    d->pid = -1;
    d->listen_fd = -1;
    d->listen_fd_qgs = -1;
    d->stderr_fd = -1;
}

void itest_daemon_init_qex(itest_daemon *d)
{
    itest_daemon_init(d);
    setenv("SGX_AESM_ADDR", d->socket, 1);
}

int itest_connect(const char *socket_path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(socket_path) >= sizeof sa.sun_path)
        return -1;
    strcpy(sa.sun_path, socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int itest_daemon_spawn(itest_daemon *d, const char *const *extra_args)
{
    char *bin = itest_build_path("src/daemon/sgx-quote-helperd");
    const char *argv[64];
    size_t n = 0;
    argv[n++] = bin;
    if (!d->bare) {
        /* Text lines (the default would be JSON: stderr is a file); a test
         * may pass --log-format json after these. */
        argv[n++] = "--log-format";
        argv[n++] = "text";
        argv[n++] = "--socket";
        argv[n++] = d->socket;
        argv[n++] = "--state-dir";
        argv[n++] = d->state_dir;
        if (!d->no_init_seed)
            argv[n++] = "--init-seed"; /* each test's state dir starts empty */
    }
    for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && n < 62; i++)
        argv[n++] = extra_args[i];
    argv[n] = NULL;

    int logfd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) {
        perror(d->log_path);
        free(bin);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        free(bin);
        return -1;
    }
    if (pid == 0) {
        /* A test that fails mid-way (cmocka longjmps past the cleanup)
         * must not leave its daemon behind. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(d->stderr_fd >= 0 ? d->stderr_fd : logfd, STDERR_FILENO);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);
        for (size_t i = 0; d->env != NULL && d->env[i] != NULL; i++)
            putenv((char *)d->env[i]);
        if (d->listen_fd >= 0 && d->listen_fd_qgs >= 0) {
            /* Out of the way first: dup2 onto 3 and 4 must not clobber
             * the other one. Copies made by dup2 are not close-on-exec. */
            int a = fcntl(d->listen_fd, F_DUPFD, 10), q = fcntl(d->listen_fd_qgs, F_DUPFD, 10);
            if (a < 0 || q < 0 || dup2(a, 3) != 3 || dup2(q, 4) != 4)
                _exit(126);
            char pidbuf[32];
            snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
            setenv("LISTEN_PID", pidbuf, 1);
            setenv("LISTEN_FDS", "2", 1);
            setenv("LISTEN_FDNAMES", "sgx-quote-helperd.socket:qgs", 1);
        } else if (d->listen_fd >= 0) {
            /* sd_listen_fds(3): fds from 3 on, LISTEN_PID = the daemon. */
            if (d->listen_fd == 3)
                fcntl(3, F_SETFD, 0);
            else if (dup2(d->listen_fd, 3) != 3)
                _exit(126);
            char pidbuf[32];
            snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
            setenv("LISTEN_PID", pidbuf, 1);
            setenv("LISTEN_FDS", "1", 1);
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(logfd);
    free(bin);
    d->pid = pid;
    return 0;
}

int itest_daemon_start(itest_daemon *d, const char *const *extra_args)
{
    /* Ready = the socket path names a new socket (this instance renames
     * its own into place) and it accepts. Comparing the file's identity,
     * not just connecting, keeps an older instance on the same path from
     * looking like this one, whatever the log format or level. */
    struct stat before;
    bool existed = stat(d->socket, &before) == 0;
    if (itest_daemon_spawn(d, extra_args) != 0)
        return -1;
    pid_t pid = d->pid;
    /* Ready when the socket accepts (ASan builds start slowly). */
    int64_t give_up = itest_now_ms() + 20000;
    while (itest_now_ms() < give_up) {
        struct stat now;
        bool fresh = stat(d->socket, &now) == 0 &&
                     (!existed || now.st_ino != before.st_ino || now.st_dev != before.st_dev ||
                      now.st_ctim.tv_sec != before.st_ctim.tv_sec ||
                      now.st_ctim.tv_nsec != before.st_ctim.tv_nsec);
        if (fresh) {
            int fd = itest_connect(d->socket);
            if (fd >= 0) {
                close(fd);
                return 0;
            }
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            d->pid = -1;
            char *log = itest_daemon_log(d);
            fprintf(stderr, "harness: daemon exited during start-up:\n%s\n", log ? log : "");
            free(log);
            return -1;
        }
        sleep_ms(10);
    }
    fprintf(stderr, "harness: daemon socket %s never became connectable\n", d->socket);
    return -1;
}

int itest_daemon_start_http(itest_daemon *d, const char *const *extra_args)
{
    const char *argv[64];
    size_t n = 0;
    for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && n < 61; i++)
        argv[n++] = extra_args[i];
    argv[n++] = "--http-listen";
    argv[n++] = "127.0.0.1:0";
    argv[n] = NULL;
    if (itest_daemon_start(d, argv) != 0)
        return -1;
    int port = itest_daemon_http_port(d, 5000);
    return port > 0 ? port : -1;
}

int itest_daemon_stop(itest_daemon *d, int sig, int timeout_ms)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, sig);
    int64_t give_up = itest_now_ms() + timeout_ms;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid)
            break;
        if (itest_now_ms() >= give_up) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, &st, 0);
            d->pid = -1;
            return -1;
        }
        sleep_ms(5);
    }
    d->pid = -1;
    return st;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int daemon_stop_checked(itest_daemon *d)
{
    int rc = 0;
    if (d->pid > 0) {
        /* A clean stop, so sanitizer builds run their exit-time checks. */
        int st = itest_daemon_stop(d, SIGTERM, 30000);
        if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "harness: daemon did not exit cleanly (status 0x%x)\n", st);
            rc = -1;
        }
    }
    const char *asan[] = {"Sanitizer", NULL};
    const char *ubsan[] = {"runtime error:", NULL};
    if (itest_log_count(d, asan) > 0 || itest_log_count(d, ubsan) > 0) {
        char *log = itest_daemon_log(d);
        fprintf(stderr, "harness: sanitizer report in the daemon's log:\n%s\n", log ? log : "");
        free(log);
        rc = -1;
    }
    return rc;
}

int itest_daemon_cleanup_keep(itest_daemon *d)
{
    return daemon_stop_checked(d);
}

int itest_daemon_cleanup(itest_daemon *d)
{
    int rc = daemon_stop_checked(d);
    if (d->dir[0] != '\0' && getenv("SGXQH_KEEP_TEST_DIRS") == NULL)
        nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

char *itest_daemon_log(const itest_daemon *d)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (itest_read_file(d->log_path, &data, &len) != 0)
        return NULL;
    char *s = realloc(data, len + 1);
    if (s == NULL) {
        free(data);
        return NULL;
    }
    s[len] = '\0';
    return s;
}

size_t itest_log_count(const itest_daemon *d, const char *const *needles)
{
    char *log = itest_daemon_log(d);
    if (log == NULL)
        return 0;
    size_t count = 0;
    char *save = NULL;
    for (char *line = strtok_r(log, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        bool all = true;
        for (size_t i = 0; needles[i] != NULL && all; i++)
            all = strstr(line, needles[i]) != NULL;
        if (all)
            count++;
    }
    free(log);
    return count;
}

bool itest_log_wait(const itest_daemon *d, const char *const *needles, size_t n, int timeout_ms)
{
    int64_t give_up = itest_now_ms() + timeout_ms;
    do {
        if (itest_log_count(d, needles) >= n)
            return true;
        sleep_ms(10);
    } while (itest_now_ms() < give_up);
    return itest_log_count(d, needles) >= n;
}

size_t itest_log_suppressed(const itest_daemon *d, const char *event, const char *reason,
                            const char *peer)
{
    char ev[64], rs[96], pr[96];
    snprintf(ev, sizeof ev, " %s ", event);
    snprintf(rs, sizeof rs, " reason=%s ", reason);
    snprintf(pr, sizeof pr, " peer=%s ", peer != NULL ? peer : "");
    char *log = itest_daemon_log(d);
    if (log == NULL)
        return 0;
    size_t sum = 0;
    char *save = NULL;
    for (char *line = strtok_r(log, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        const char *n = strstr(line, " suppressed=");
        if (n == NULL || strstr(line, ev) == NULL || strstr(line, rs) == NULL ||
            (peer != NULL && strstr(line, pr) == NULL))
            continue;
        sum += strtoul(n + strlen(" suppressed="), NULL, 10);
    }
    free(log);
    return sum;
}

size_t itest_log_wait_total(const itest_daemon *d, const char *const *needles, const char *event,
                            const char *reason, const char *peer, size_t n, int timeout_ms)
{
    int64_t give_up = itest_now_ms() + timeout_ms;
    size_t total;
    for (;;) {
        total = itest_log_count(d, needles) + itest_log_suppressed(d, event, reason, peer);
        if (total >= n || itest_now_ms() >= give_up)
            return total;
        sleep_ms(20);
    }
}

/* ---- child processes ------------------------------------------------------ */

int itest_child_start(itest_child *c, long long uid, long long gid, int (*fn)(void *),
                      void *arg)
{
    int p[2];
    c->pid = -1;
    c->go_fd = -1;
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(p[1]);
        if (gid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)gid) != 0))
            _exit(120);
        if (uid >= 0 && setuid((uid_t)uid) != 0)
            _exit(121);
        char go;
        ssize_t n;
        do {
            n = read(p[0], &go, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1)
            _exit(122);
        _exit(fn(arg) & 0xff);
    }
    close(p[0]);
    c->pid = pid;
    c->go_fd = p[1];
    return 0;
}

void itest_child_go(itest_child *c)
{
    if (c->go_fd >= 0) {
        (void)!write(c->go_fd, "g", 1);
        close(c->go_fd);
        c->go_fd = -1;
    }
}

int itest_child_wait(itest_child *c, int timeout_ms)
{
    if (c->pid <= 0)
        return -1;
    itest_child_go(c);
    int64_t give_up = itest_now_ms() + timeout_ms;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid)
            break;
        if (itest_now_ms() >= give_up) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &st, 0);
            c->pid = -1;
            return -1;
        }
        sleep_ms(2);
    }
    c->pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int itest_child_run(long long uid, long long gid, int (*fn)(void *), void *arg)
{
    itest_child c;
    assert_int_equal(itest_child_start(&c, uid, gid, fn, arg), 0);
    return itest_child_wait(&c, 20000);
}

/* ---- HTTP ---------------------------------------------------------------- */

int itest_daemon_http_port(const itest_daemon *d, int timeout_ms)
{
    int64_t give_up = itest_now_ms() + timeout_ms;
    do {
        char *log = itest_daemon_log(d);
        const char *at = log != NULL ? strstr(log, "http_listen") : NULL;
        int port = 0;
        if (at != NULL) {
            /* http_listen=127.0.0.1:PORT or "http_listen":"127.0.0.1:PORT":
             * the port follows the value's last ':'. */
            const char *v = at + strlen("http_listen");
            while (*v == '"' || *v == '=' || *v == ':')
                v++;
            size_t vl = strcspn(v, "\" \n");
            const char *colon = NULL;
            for (size_t i = 0; i < vl; i++)
                if (v[i] == ':')
                    colon = v + i;
            if (colon != NULL)
                port = atoi(colon + 1);
        }
        free(log);
        if (port > 0)
            return port;
        sleep_ms(20);
    } while (itest_now_ms() < give_up);
    return 0;
}

int itest_http_get(int port, const char *path, int *status, char **body)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = -1;
    uint8_t *resp = NULL;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        goto out;
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (n < 0 || (size_t)n >= sizeof req || itest_send_all(fd, req, (size_t)n) != 0)
        goto out;
    ssize_t got = itest_read_to_eof(fd, 20000, &resp);
    if (got <= 0)
        goto out;
    char *text = malloc((size_t)got + 1);
    if (text == NULL)
        goto out;
    memcpy(text, resp, (size_t)got);
    text[got] = '\0';
    int st = 0;
    char *sep = strstr(text, "\r\n\r\n");
    if (sscanf(text, "HTTP/1.%*d %d", &st) != 1 || sep == NULL) {
        free(text);
        goto out;
    }
    memmove(text, sep + 4, strlen(sep + 4) + 1);
    *status = st;
    *body = text;
    rc = 0;
out:
    free(resp);
    close(fd);
    return rc;
}

pp_doc *itest_metrics_scrape(int port)
{
    int status = 0;
    char *body = NULL;
    assert_int_equal(itest_http_get(port, "/metrics", &status, &body), 0);
    assert_int_equal(status, 200);
    pp_doc *doc = calloc(1, sizeof *doc);
    assert_non_null(doc);
    if (pp_parse(body, doc) != 0)
        fail_msg("/metrics is not Prometheus text: %s\n%s", doc->error, body);
    free(body);
    return doc;
}

double itest_metric(int port, const char *name, const char *labels)
{
    pp_doc *doc = itest_metrics_scrape(port);
    double v = -1;
    if (!pp_get(doc, name, labels, &v))
        v = -1;
    free(doc);
    return v;
}

/* ---- raw sockets ------------------------------------------------------- */

void itest_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int itest_send_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len > 0) {
        ssize_t n = send(fd, b, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t itest_read_to_eof(int fd, int timeout_ms, uint8_t **buf)
{
    size_t cap = 0, used = 0;
    uint8_t *b = NULL;
    int64_t give_up = itest_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = give_up - itest_now_ms();
        if (left <= 0)
            goto fail;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            goto fail;
        if (used == cap) {
            cap = cap == 0 ? 16384 : cap * 2;
            uint8_t *nb = realloc(b, cap);
            if (nb == NULL)
                goto fail;
            b = nb;
        }
        ssize_t n = recv(fd, b + used, cap - used, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ECONNRESET)
            break; /* the daemon closed with our unread bytes: EOF for us */
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        used += (size_t)n;
    }
    *buf = b;
    return (ssize_t)used;
fail:
    free(b);
    *buf = NULL;
    return -1;
}

int itest_exchange(const char *socket_path, const uint8_t *frame, size_t len, uint8_t **resp,
                   size_t *resp_len)
{
    int fd = itest_connect(socket_path);
    if (fd < 0)
        return -1;
    int rc = -1;
    uint8_t *buf = NULL;
    if (itest_send_all(fd, frame, len) != 0)
        goto out;
    ssize_t n = itest_read_to_eof(fd, 20000, &buf);
    if (n < 0)
        goto out;
    *resp = buf;
    *resp_len = (size_t)n;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}

/* ---- libsgx_quote_ex.so.1 ---------------------------------------------- */

int itest_qex_open(itest_qex *q, const char *socket_path)
{
    memset(q, 0, sizeof *q);
    setenv("SGX_AESM_ADDR", socket_path, 1);
    char *path = itest_build_path("src/client/libsgx_quote_ex.so.1");
    /* RTLD_LAZY by the soname path, as libsgx_dcap_ql does (aesm §7). */
    q->handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    free(path);
    if (q->handle == NULL) {
        fprintf(stderr, "harness: dlopen: %s\n", dlerror());
        return -1;
    }
#define SYM(field, name)                                                                       \
    do {                                                                                       \
        *(void **)&q->field = dlsym(q->handle, name);                                          \
        if (q->field == NULL) {                                                                \
            fprintf(stderr, "harness: %s not exported\n", name);                               \
            return -1;                                                                         \
        }                                                                                      \
    } while (0)
    SYM(select_att_key_id, "sgx_select_att_key_id");
    SYM(init_quote_ex, "sgx_init_quote_ex");
    SYM(get_quote_size_ex, "sgx_get_quote_size_ex");
    SYM(get_quote_ex, "sgx_get_quote_ex");
    SYM(get_supported_att_key_id_num, "sgx_get_supported_att_key_id_num");
    SYM(get_supported_att_key_ids, "sgx_get_supported_att_key_ids");
#undef SYM
    return 0;
}

void itest_qex_close(itest_qex *q)
{
    if (q->handle != NULL)
        dlclose(q->handle);
    q->handle = NULL;
}

void itest_qex_assert_quote(const itest_qex *q, const sgx_target_info_t *qe_ti)
{
    sgx_att_key_id_t kid;
    itest_ecdsa_key_id(&kid);
    sgx_report_t report;
    itest_app_report(qe_ti, NULL, &report);
    uint32_t qsize = 0;
    assert_int_equal(q->get_quote_size_ex(&kid, &qsize), SGX_SUCCESS);
    uint8_t *quote = calloc(1, qsize);
    assert_non_null(quote);
    assert_int_equal(q->get_quote_ex(&report, &kid, NULL, quote, qsize), SGX_SUCCESS);
    assert_int_equal(itest_quote_len(quote, qsize), qsize);
    free(quote);
}

/* ---- simulated app enclave --------------------------------------------- */

void itest_app_report(const sgx_target_info_t *qe_ti, const uint8_t *report_data,
                      sgx_report_t *out)
{
    sim_enclave_identity id;
    sim_enclave_identity_default(&id);
    if (report_data != NULL)
        memcpy(id.report_data, report_data, sizeof id.report_data);
    if (sim_ereport(&id, qe_ti, out) != SIM_OK)
        abort();
}

void itest_app_target_info(sgx_target_info_t *out)
{
    /* quote-format §4.1: target info carries the enclave's MRENCLAVE,
     * attributes and MISCSELECT; everything else zero. */
    sim_enclave_identity id;
    sim_enclave_identity_default(&id);
    memset(out, 0, sizeof *out);
    memcpy(out->mr_enclave, id.mr_enclave, sizeof out->mr_enclave);
    out->attributes.flags = id.flags;
    out->attributes.xfrm = id.xfrm;
    out->misc_select = id.misc_select;
}

void itest_ecdsa_key_id(sgx_att_key_id_t *out)
{
    /* aesm §6.4, the hex given there; every byte not listed is zero. */
    static const uint8_t mrsigner[32] = {
        0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e, 0x96, 0x13, 0x7f,
        0x77, 0xc6, 0x8a, 0x82, 0x9a, 0x00, 0x56, 0xac, 0x8d, 0xed, 0x70,
        0x14, 0x0b, 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff};
    memset(out, 0, sizeof *out);
    out->att_key_id[4] = 0x20;                 /* mrsigner_length = 32 */
    memcpy(&out->att_key_id[6], mrsigner, 32); /* mrsigner */
    out->att_key_id[54] = 0x01;                /* prod_id = 1 */
    out->att_key_id[154] = 0x02;               /* algorithm_id = ECDSA-P256 */
}

size_t itest_quote_len(const uint8_t *q, size_t cap)
{
    if (cap < 436)
        return 0;
    uint32_t sig = (uint32_t)q[432] | (uint32_t)q[433] << 8 | (uint32_t)q[434] << 16 |
                   (uint32_t)q[435] << 24;
    if (sig > cap - 436)
        return 0;
    return 436 + (size_t)sig;
}

/* ---- verification ------------------------------------------------------ */

int itest_export_collateral(const itest_daemon *d, const char *out_dir)
{
    /* Through the CLI only: falling back to an in-process export would let
     * a broken `sgx-quote collateral export` go unnoticed. */
    char *cli = itest_build_path("src/cli/sgx-quote");
    char *argv[] = {cli, "collateral", "export", "--state-dir", (char *)d->state_dir, "-o",
                    (char *)out_dir, NULL};
    char *out = NULL;
    int rc = access(cli, X_OK) == 0 ? itest_run(argv, &out) : 127;
    if (rc != 0)
        fprintf(stderr, "harness: %s collateral export exited %d:\n%s\n", cli, rc,
                out != NULL ? out : "");
    free(out);
    free(cli);
    return rc == 0 ? 0 : -1;
}

int itest_qvl_verify(const char *quote_path, const char *coll_dir, const char *expect_status)
{
    char *script = env_path("SGXQH_NODE_DIR", "qvl-verify.js");
    char coll[512], root[512], now[32];
    snprintf(coll, sizeof coll, "%s/collateral.json", coll_dir);
    snprintf(root, sizeof root, "%s/root.pem", coll_dir);
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    char node[] = "/usr/bin/env";
    char *argv[] = {node, "node", script, (char *)quote_path, coll, root, now, NULL};
    char *out = NULL;
    int rc = itest_run(argv, &out);
    char want[128];
    snprintf(want, sizeof want, "\"status\":\"%s\"", expect_status);
    int ok = rc == 0 && out != NULL && strstr(out, "\"ok\":true") != NULL &&
             strstr(out, want) != NULL;
    if (!ok)
        fprintf(stderr, "harness: dcap-qvl verdict (exit %d): %s\n", rc, out ? out : "");
    free(out);
    free(script);
    return ok ? 0 : -1;
}

/* ---- namespaces and addresses ------------------------------------------- */

int itest_in_new_pidns(int (*fn)(void *), void *arg)
{
    if (unshare(CLONE_NEWPID) != 0)
        return 90;
    pid_t pid = fork(); /* the first child lives in the new namespace */
    if (pid < 0)
        return 91;
    if (pid == 0)
        _exit(fn(arg) & 0xff);
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return 92;
    return WEXITSTATUS(st);
}

int itest_tcp_connect_from(const char *src_ip, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, src_ip, &src.sin_addr);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int itest_qex_ping(const itest_qex *q)
{
    uint32_t num = 0;
    sgx_status_t s = q->get_supported_att_key_id_num(&num);
    return s == SGX_SUCCESS && num == 1 ? 0 : (int)s;
}

int itest_root_setup(const char *test, unsigned long nofile, itest_qex *q)
{
    if (geteuid() != 0) {
        fprintf(stderr, "%s: needs root (clients as other uids, namespaces)\n", test);
        return -1;
    }
    struct rlimit rl = {nofile, nofile};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return itest_qex_open(q, "/nonexistent/aesm.socket");
}
