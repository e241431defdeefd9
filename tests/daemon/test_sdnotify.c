/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Our systemd protocol module (src/daemon/sdnotify.c) against the
 * documented behaviour of sd_notify(3), sd_watchdog_enabled(3) and
 * sd_listen_fds(3): datagrams to path and abstract sockets, the watchdog
 * variables, and the LISTEN_* variables with and without names, for us or
 * for another process, well-formed or not.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/sdnotify.h"

/* A datagram socket bound where NOTIFY_SOCKET will say: a path in a fresh
 * directory, or an abstract name ("@..."). */
static int bind_notify(const char *name, char *env, size_t cap)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(name);
    assert_true(n < sizeof sa.sun_path);
    memcpy(sa.sun_path, name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    else
        len++;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
    snprintf(env, cap, "%s", name);
    return fd;
}

static void expect_datagram(int fd, const char *want)
{
    char buf[SDNOTIFY_MESSAGE_MAX + 1];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    assert_true(n >= 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void test_notify_path_socket(void **state)
{
    (void)state;
    char dir[] = "/tmp/i14-sdnotify.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], env[128];
    snprintf(path, sizeof path, "%s/notify", dir);
    int fd = bind_notify(path, env, sizeof env);
    assert_int_equal(setenv("NOTIFY_SOCKET", env, 1), 0);
    assert_int_equal(sdnotify_send(false, "READY=1"), 1);
    expect_datagram(fd, "READY=1");
    assert_int_equal(sdnotify_sendf(false, "RELOADING=1\nMONOTONIC_USEC=%llu", 1234567ULL), 1);
    expect_datagram(fd, "RELOADING=1\nMONOTONIC_USEC=1234567");
    /* unset_environment: sent, then gone. */
    assert_int_equal(sdnotify_send(true, "STOPPING=1"), 1);
    expect_datagram(fd, "STOPPING=1");
    assert_null(getenv("NOTIFY_SOCKET"));
    assert_int_equal(sdnotify_send(false, "WATCHDOG=1"), 0);
    close(fd);
    unlink(path);
    rmdir(dir);
}

static void test_notify_abstract_socket(void **state)
{
    (void)state;
    char name[64], env[64];
    snprintf(name, sizeof name, "@i14-sdnotify-%ld", (long)getpid());
    int fd = bind_notify(name, env, sizeof env);
    assert_int_equal(setenv("NOTIFY_SOCKET", env, 1), 0);
    assert_int_equal(sdnotify_send(false, "WATCHDOG=1"), 1);
    expect_datagram(fd, "WATCHDOG=1");
    close(fd);
    unsetenv("NOTIFY_SOCKET");
}

static void test_notify_errors(void **state)
{
    (void)state;
    /* Not under systemd: nothing to do, no error. */
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(sdnotify_send(false, "READY=1"), 0);
    /* Forms we cannot reach, and nobody listening. */
    setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
    assert_int_equal(sdnotify_send(false, "READY=1"), -EAFNOSUPPORT);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(sdnotify_send(false, "READY=1"), -EAFNOSUPPORT);
    setenv("NOTIFY_SOCKET", "@", 1);
    assert_int_equal(sdnotify_send(false, "READY=1"), -EAFNOSUPPORT);
    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    setenv("NOTIFY_SOCKET", longp, 1);
    assert_int_equal(sdnotify_send(false, "READY=1"), -ENAMETOOLONG);
    setenv("NOTIFY_SOCKET", "/nonexistent-i14-sdnotify/notify", 1);
    assert_true(sdnotify_send(false, "READY=1") < 0);
    /* A message longer than the limit is refused, not cut. */
    char big[SDNOTIFY_MESSAGE_MAX + 8];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sdnotify_sendf(true, "STATUS=%s", big), -EMSGSIZE);
    assert_null(getenv("NOTIFY_SOCKET"));
}

static void test_watchdog(void **state)
{
    (void)state;
    uint64_t usec = 0;
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    assert_int_equal(sdnotify_watchdog_usec(false, &usec), 0);
    setenv("WATCHDOG_USEC", "300000", 1);
    assert_int_equal(sdnotify_watchdog_usec(false, &usec), 1);
    assert_int_equal(usec, 300000);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    usec = 0;
    assert_int_equal(sdnotify_watchdog_usec(false, &usec), 1);
    assert_int_equal(usec, 300000);
    /* For another process (our parent): not ours to ping. */
    snprintf(pid, sizeof pid, "%ld", (long)getppid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(sdnotify_watchdog_usec(false, &usec), 0);
    /* Malformed values. */
    static const char *const bad_pid[] = {"", "0", "-1", "12x", "99999999999"};
    for (size_t i = 0; i < sizeof bad_pid / sizeof bad_pid[0]; i++) {
        setenv("WATCHDOG_PID", bad_pid[i], 1);
        assert_int_equal(sdnotify_watchdog_usec(false, &usec), -EINVAL);
    }
    unsetenv("WATCHDOG_PID");
    static const char *const bad_usec[] = {"", "0", " 5", "5s", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_usec / sizeof bad_usec[0]; i++) {
        setenv("WATCHDOG_USEC", bad_usec[i], 1);
        assert_int_equal(sdnotify_watchdog_usec(false, &usec), -EINVAL);
    }
    setenv("WATCHDOG_USEC", "1000", 1);
    assert_int_equal(sdnotify_watchdog_usec(true, &usec), 1);
    assert_null(getenv("WATCHDOG_USEC"));
}

static void test_listen_env(void **state)
{
    (void)state;
    char **names = NULL;
    pid_t self = 4242;
    /* Not activated, or for another process. */
    assert_int_equal(sdnotify_parse_listen_env(NULL, "1", NULL, self, &names), 0);
    assert_int_equal(sdnotify_parse_listen_env("4242", NULL, NULL, self, &names), 0);
    assert_int_equal(sdnotify_parse_listen_env("4243", "1", NULL, self, &names), 0);
    assert_null(names);
    assert_int_equal(sdnotify_parse_listen_env("4242", "0", NULL, self, &names), 0);
    /* Without LISTEN_FDNAMES every name is "unknown". */
    assert_int_equal(sdnotify_parse_listen_env("4242", "2", NULL, self, &names), 2);
    assert_non_null(names);
    assert_string_equal(names[0], SDNOTIFY_UNKNOWN_NAME);
    assert_string_equal(names[1], SDNOTIFY_UNKNOWN_NAME);
    assert_null(names[2]);
    sdnotify_names_free(names);
    /* Named, an empty name included. */
    assert_int_equal(
        sdnotify_parse_listen_env("4242", "3", "sgx-quote-helperd.socket::qgs", self, &names), 3);
    assert_string_equal(names[0], "sgx-quote-helperd.socket");
    assert_string_equal(names[1], "");
    assert_string_equal(names[2], "qgs");
    assert_null(names[3]);
    sdnotify_names_free(names);
    /* names may be NULL. */
    assert_int_equal(sdnotify_parse_listen_env("4242", "1", "a", self, NULL), 1);
    /* Malformed: the count and names disagree, or numbers are not numbers. */
    static const char *const bad[][3] = {
        {"4242", "2", "a"},   {"4242", "1", "a:b"}, {"x", "1", NULL},  {"", "1", NULL},
        {"0", "1", NULL},     {"4242", "-1", NULL}, {"4242", "1x", NULL},
        {"4242", "65", NULL}, {"4242", "99999999999999999999", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        names = NULL;
        int rc = sdnotify_parse_listen_env(bad[i][0], bad[i][1], bad[i][2], self, &names);
        if (rc != -EINVAL)
            fail_msg("case %zu: %d, expected -EINVAL", i, rc);
        assert_null(names);
    }
}

/* The real thing: descriptors at 3 and 4 as systemd passes them. */
static void test_listen_fds_and_socket_kinds(void **state)
{
    (void)state;
    char dir[] = "/tmp/i14-sdnotify.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/listen", dir);
    int lst = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    assert_int_equal(bind(lst, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lst, 4), 0);
    int dgram = socket(AF_UNIX, SOCK_DGRAM, 0);
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    int unbound = socket(AF_UNIX, SOCK_STREAM, 0);

    assert_int_equal(sdnotify_is_socket_unix(lst, SOCK_STREAM, 1), 1);
    assert_int_equal(sdnotify_is_socket_unix(lst, SOCK_STREAM, -1), 1);
    assert_int_equal(sdnotify_is_socket_unix(lst, SOCK_STREAM, 0), 0);
    assert_int_equal(sdnotify_is_socket_unix(lst, SOCK_DGRAM, 1), 0);
    assert_int_equal(sdnotify_is_socket_unix(unbound, SOCK_STREAM, 1), 0);
    assert_int_equal(sdnotify_is_socket_unix(unbound, SOCK_STREAM, 0), 1);
    assert_int_equal(sdnotify_is_socket_unix(dgram, SOCK_DGRAM, -1), 1);
    assert_int_equal(sdnotify_is_socket_unix(tcp, SOCK_STREAM, -1), 0);
    assert_int_equal(sdnotify_is_socket_unix(pipefd[0], 0, -1), 0);
    assert_int_equal(sdnotify_is_socket_unix(1000, SOCK_STREAM, 1), -EBADF);

    /* Move them to 3 and 4 (whatever the test runner left there is not
     * ours: we only replace descriptors, never look at them). */
    int a = fcntl(lst, F_DUPFD, 20), b = fcntl(dgram, F_DUPFD, 20);
    assert_true(a >= 0 && b >= 0);
    assert_int_equal(dup2(a, 3), 3);
    assert_int_equal(dup2(b, 4), 4);
    close(a);
    close(b);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "2", 1);
    setenv("LISTEN_FDNAMES", "aesm:qgs", 1);
    char **names = NULL;
    assert_int_equal(sdnotify_listen_fds(true, &names), 2);
    assert_string_equal(names[0], "aesm");
    assert_string_equal(names[1], "qgs");
    sdnotify_names_free(names);
    /* Close-on-exec now, and the variables are gone. */
    assert_true(fcntl(3, F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(4, F_GETFD) & FD_CLOEXEC);
    assert_null(getenv("LISTEN_PID"));
    assert_null(getenv("LISTEN_FDS"));
    assert_null(getenv("LISTEN_FDNAMES"));
    assert_int_equal(sdnotify_listen_fds(true, &names), 0);
    assert_int_equal(sdnotify_is_socket_unix(SDNOTIFY_LISTEN_FDS_START, SOCK_STREAM, 1), 1);
    assert_int_equal(sdnotify_is_socket_unix(SDNOTIFY_LISTEN_FDS_START + 1, SOCK_STREAM, 1), 0);
    /* unset_environment even when malformed. */
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "2", 1);
    setenv("LISTEN_FDNAMES", "only-one", 1);
    assert_int_equal(sdnotify_listen_fds(true, &names), -EINVAL);
    assert_null(names);
    assert_null(getenv("LISTEN_FDS"));

    close(3);
    close(4);
    close(lst);
    close(dgram);
    close(tcp);
    close(unbound);
    close(pipefd[0]);
    close(pipefd[1]);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_path_socket),
        cmocka_unit_test(test_notify_abstract_socket),
        cmocka_unit_test(test_notify_errors),
        cmocka_unit_test(test_watchdog),
        cmocka_unit_test(test_listen_env),
        cmocka_unit_test(test_listen_fds_and_socket_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
