/* SPDX-License-Identifier: Apache-2.0 */
/*
 * systemd → [sdnotify] → listen.c (passed sockets), server.c (READY=1,
 * WATCHDOG=1, RELOADING=1, STOPPING=1). Our own small implementation of the
 * documented environment protocols (systemd's sd_notify(3), sd_listen_fds(3),
 * sd_watchdog_enabled(3)): the daemon only needs these few lines of it, and
 * linking libsystemd for them cost more resident memory than the rest of the
 * daemon's own code. Environment values are untrusted text: every number is
 * parsed strictly, every name bounded.
 */
#include "daemon/sdnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Digits only, no sign, no blanks, no overflow: "0" .. UINT64_MAX. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (s == NULL || *s == '\0')
        return -EINVAL;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10u)
            return -ERANGE;
        v = v * 10u + d;
    }
    *out = v;
    return 0;
}

/* $NOTIFY_SOCKET → address: "/path" or "@abstract" (the '@' stands for the
 * leading NUL of Linux's abstract namespace). */
static int notify_address(const char *e, struct sockaddr_un *sa, socklen_t *len)
{
    size_t n = strlen(e);
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if ((e[0] != '/' && e[0] != '@') || n < 2)
        return -EAFNOSUPPORT; /* e.g. systemd's vsock: form: not ours to reach */
    if (n > sizeof sa->sun_path - (e[0] == '/' ? 1u : 0u))
        return -ENAMETOOLONG;
    memcpy(sa->sun_path, e, n);
    if (e[0] == '@')
        sa->sun_path[0] = '\0';
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/' ? 1u : 0u));
    return 0;
}

int sdnotify_send(bool unset_environment, const char *state)
{
    int rc = 0;
    int fd = -1;
    const char *e = getenv("NOTIFY_SOCKET");
    if (e == NULL || state == NULL)
        goto out;
    struct sockaddr_un sa;
    socklen_t len = 0;
    rc = notify_address(e, &sa, &len);
    if (rc != 0)
        goto out;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    size_t n = strlen(state);
    ssize_t sent = sendto(fd, state, n, MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
    if (sent < 0)
        rc = -errno;
    else
        rc = (size_t)sent == n ? 1 : -EMSGSIZE;
out:
    if (fd >= 0)
        close(fd);
    if (unset_environment)
        (void)unsetenv("NOTIFY_SOCKET");
    return rc;
}

int sdnotify_sendf(bool unset_environment, const char *fmt, ...)
{
    char msg[SDNOTIFY_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof msg) {
        if (unset_environment)
            (void)unsetenv("NOTIFY_SOCKET");
        return -EMSGSIZE;
    }
    return sdnotify_send(unset_environment, msg);
}

int sdnotify_watchdog_usec(bool unset_environment, uint64_t *usec)
{
    int rc = 0;
    const char *us = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    uint64_t v = 0, p = 0;
    if (us == NULL)
        goto out;
    if (parse_u64(us, &v) != 0 || v == 0) {
        rc = -EINVAL;
        goto out;
    }
    if (pid != NULL) {
        if (parse_u64(pid, &p) != 0 || p == 0 || p > INT_MAX) {
            rc = -EINVAL;
            goto out;
        }
        if ((pid_t)p != getpid())
            goto out; /* meant for the process that started us */
    }
    if (usec != NULL)
        *usec = v;
    rc = 1;
out:
    if (unset_environment) {
        (void)unsetenv("WATCHDOG_USEC");
        (void)unsetenv("WATCHDOG_PID");
    }
    return rc;
}

void sdnotify_names_free(char **names)
{
    for (size_t i = 0; names != NULL && names[i] != NULL; i++)
        free(names[i]);
    free(names);
}

/* n names from "a:b:c", or n times "unknown" when fdnames is NULL. */
static int split_names(const char *fdnames, int n, char ***names)
{
    char **arr = calloc((size_t)n + 1u, sizeof *arr);
    if (arr == NULL)
        return -ENOMEM;
    const char *p = fdnames;
    for (int i = 0; i < n; i++) {
        const char *start = fdnames != NULL ? p : SDNOTIFY_UNKNOWN_NAME;
        size_t len = strlen(start);
        if (fdnames != NULL) {
            const char *colon = strchr(p, ':');
            if (colon != NULL)
                len = (size_t)(colon - p);
            p += len + (colon != NULL ? 1u : 0u);
        }
        arr[i] = strndup(start, len);
        if (arr[i] == NULL) {
            sdnotify_names_free(arr);
            return -ENOMEM;
        }
    }
    *names = arr;
    return 0;
}

int sdnotify_parse_listen_env(const char *listen_pid, const char *listen_fds,
                              const char *listen_fdnames, pid_t self, char ***names)
{
    uint64_t pid = 0, n = 0;
    if (names != NULL)
        *names = NULL;
    if (listen_pid == NULL || listen_fds == NULL)
        return 0;
    if (parse_u64(listen_pid, &pid) != 0 || pid == 0 || pid > INT_MAX)
        return -EINVAL;
    if ((pid_t)pid != self)
        return 0; /* inherited from the process systemd started */
    if (parse_u64(listen_fds, &n) != 0 || n > SDNOTIFY_LISTEN_FDS_MAX)
        return -EINVAL;
    if (n == 0)
        return 0;
    if (listen_fdnames != NULL) {
        /* As many names as descriptors: "a:b" names two. */
        uint64_t count = 1;
        for (const char *c = listen_fdnames; *c != '\0'; c++)
            count += *c == ':';
        if (count != n)
            return -EINVAL;
    }
    if (names != NULL) {
        int rc = split_names(listen_fdnames, (int)n, names);
        if (rc != 0)
            return rc;
    }
    return (int)n;
}

int sdnotify_listen_fds(bool unset_environment, char ***names)
{
    int n = sdnotify_parse_listen_env(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
                                      getenv("LISTEN_FDNAMES"), getpid(), names);
    /* Passed descriptors must not leak into anything we exec. */
    for (int i = 0; i < n; i++) {
        int fd = SDNOTIFY_LISTEN_FDS_START + i;
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
            int e = errno;
            if (names != NULL) {
                sdnotify_names_free(*names);
                *names = NULL;
            }
            n = -e;
            break;
        }
    }
    if (unset_environment) {
        (void)unsetenv("LISTEN_PID");
        (void)unsetenv("LISTEN_FDS");
        (void)unsetenv("LISTEN_FDNAMES");
    }
    return n;
}

int sdnotify_is_socket_unix(int fd, int type, int listening)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    if (!S_ISSOCK(st.st_mode))
        return 0;
    int v = 0;
    socklen_t l = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) != 0)
        return -errno;
    if (type != 0 && v != type)
        return 0;
    if (listening >= 0) {
        l = sizeof v;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) != 0)
            return -errno;
        if ((v != 0) != (listening > 0))
            return 0;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return -errno;
    return ss.ss_family == AF_UNIX ? 1 : 0;
}
