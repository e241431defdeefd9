/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listening socket set-up and path hand-over for sgx-quote-helperd (aesm
 * §1.2; docs/daemon.md "Upgrades and hand-over"). Unlike aesmd, which
 * unlinks the path and binds it (a window with no socket) and unlinks it
 * again on exit whatever it then names, each instance binds a private name
 * in the same directory and publishes it by link() + rename() over the
 * public path, hands the path to another live instance's private socket
 * when it leaves, and re-takes the path from a guard thread when it is
 * gone or dead. Under systemd socket activation the sockets come from
 * LISTEN_FDS (the QGS one by its name, LISTEN_FDNAMES) and their paths are
 * never touched.
 */
#include "daemon/listen.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/sdnotify.h"

/* Kernel queue of connections not yet accepted; the kernel caps it at
 * net.core.somaxconn. aesmd uses 32, which a burst of clients overruns. */
#define LISTEN_BACKLOG 1024

#define SUN_PATH_CAP sizeof(((struct sockaddr_un *)0)->sun_path)
#define INSTANCE_ID_HEX 16 /* random: PIDs repeat across PID namespaces */

/* vsnprintf through a function: the error buffers' sizes are not known
 * here, and a message cut short is still a message. */
static void seterr(char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

static int mkdir_parents(const char *path, char *err, size_t errcap)
{
    char dir[PATH_MAX];
    size_t plen = strlen(path);
    if (plen >= sizeof dir) {
        seterr(err, errcap, "socket path is too long: %s", path);
        return -1;
    }
    memcpy(dir, path, plen + 1);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            seterr(err, errcap, "%s exists and is not a directory", dir);
            return -1;
        }
        return 0;
    }
    /* Create each missing component, like mkdir -p, with 0755 (aesm §1.2). */
    for (char *p = dir + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(dir, 0755) == 0) {
                (void)chmod(dir, 0755); /* undo the umask */
            } else if (errno != EEXIST) {
                seterr(err, errcap, "cannot create socket directory %s: %s", dir,
                         strerror(errno));
                return -1;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    return 0;
}

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n >= sizeof sa->sun_path)
        return -1;
    memcpy(sa->sun_path, path, n + 1);
    return 0;
}

/* Joins pieces into out (cap bytes); -1 when they do not fit. Measured
 * copies, so nothing is ever silently truncated. */
static int join(char *out, size_t cap, const char *const *parts, const size_t *lens, size_t n)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] >= cap - used)
            return -1;
        memcpy(out + used, parts[i], lens[i]);
        used += lens[i];
    }
    out[used] = '\0';
    return 0;
}

/* The prefix of every instance's private name for path: ".<name>." in
 * path's directory, or the shorter ".sqh." when that does not fit. dirlen
 * gets the directory's length. -1 when not even that fits in sun_path. */
static int private_prefix(const char *path, char *prefix, size_t cap, size_t *dirlen)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return -1;
    *dirlen = (size_t)(slash - path);
    const char *base = slash + 1;
    size_t baselen = strlen(base);
    /* dir "/" prefix id ".sock" NUL */
    size_t fixed = *dirlen + 1 + INSTANCE_ID_HEX + 5 + 1;
    const char *p[] = {".", base, "."};
    size_t l[] = {1, baselen, 1};
    if (fixed + baselen + 2 <= SUN_PATH_CAP && join(prefix, cap, p, l, 3) == 0)
        return 0;
    if (fixed + 5 <= SUN_PATH_CAP && cap > 5) {
        memcpy(prefix, ".sqh.", 6);
        return 0;
    }
    return -1;
}

static bool is_hex_id(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Is name (a directory entry) a private socket name under prefix? */
static bool is_private_name(const char *name, const char *prefix)
{
    size_t pl = strlen(prefix), nl = strlen(name);
    return nl == pl + INSTANCE_ID_HEX + 5 && memcmp(name, prefix, pl) == 0 &&
           is_hex_id(name + pl, INSTANCE_ID_HEX) && memcmp(name + nl - 5, ".sock", 5) == 0;
}

/* Connects without blocking: 1 = a live listener (connected, or its
 * queue is full, or we may not connect: someone else's, not ours to
 * judge), 0 = nobody listens there (refused, gone), -1 = cannot tell. */
static int probe(const char *path)
{
    struct sockaddr_un sa;
    if (fill_addr(&sa, path) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS || e == EACCES || e == EPERM)
        return 1;
    if (e == ECONNREFUSED || e == ENOENT)
        return 0;
    return -1;
}

/* Makes path name the same socket as target: a fresh hard link at scratch,
 * renamed over path, so path never goes missing. */
static int point_path_at(const char *target, const char *scratch, const char *path)
{
    (void)unlink(scratch);
    if (link(target, scratch) != 0)
        return -1;
    int rc = rename(scratch, path);
    int e = errno;
    /* rename() of two links to one file succeeds and leaves both. */
    (void)unlink(scratch);
    errno = e;
    return rc;
}

/* Calls fn on every other instance's private socket next to ours (full
 * path in a scratch buffer); stops when fn returns true. */
static void for_each_peer(const listen_socket *ls, bool (*fn)(const listen_socket *, const char *,
                                                              const struct stat *))
{
    char prefix[SUN_PATH_CAP], dir[SUN_PATH_CAP], full[SUN_PATH_CAP];
    size_t dirlen;
    if (private_prefix(ls->path, prefix, sizeof prefix, &dirlen) != 0 || dirlen >= sizeof dir)
        return;
    memcpy(dir, ls->path, dirlen);
    dir[dirlen] = '\0';
    DIR *d = opendir(dirlen == 0 ? "/" : dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_private_name(e->d_name, prefix))
            continue;
        const char *p[] = {dir, "/", e->d_name};
        size_t l[] = {dirlen, 1, strlen(e->d_name)};
        struct stat st;
        if (join(full, sizeof full, p, l, 3) != 0 || strcmp(full, ls->private_path) == 0 ||
            lstat(full, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        if (fn(ls, full, &st))
            break;
    }
    closedir(d);
}

/* Removes a private name whose instance died: refused connections, and
 * older than LISTEN_STALE_AGE_S (a younger one may not listen yet). */
static bool remove_if_stale(const listen_socket *ls, const char *peer, const struct stat *st)
{
    (void)ls;
    if (time(NULL) - st->st_ctim.tv_sec < LISTEN_STALE_AGE_S || probe(peer) != 0)
        return false;
    if (unlink(peer) == 0)
        log_msg(LOG_INFO, "removed %s: the socket of an instance that is gone", peer);
    return false;
}

static bool hand_to(const listen_socket *ls, const char *peer, const struct stat *st)
{
    (void)st;
    if (probe(peer) != 1 || point_path_at(peer, ls->link_path, ls->path) != 0)
        return false;
    log_msg(LOG_INFO, "handed %s over to the live instance at %s", ls->path, peer);
    return true;
}

static bool path_is_ours(const listen_socket *ls, const struct stat *st)
{
    return st->st_dev == ls->dev && st->st_ino == ls->ino;
}

/* One guard round: re-take the path when it is missing or names a socket
 * nobody listens on. Another live instance's socket is left alone (the
 * newest instance to publish owns the path). */
static void guard_check(listen_socket *ls)
{
    struct stat st;
    const char *why = NULL;
    if (lstat(ls->path, &st) != 0) {
        if (errno != ENOENT)
            return;
        why = "was missing";
    } else if (path_is_ours(ls, &st) || !S_ISSOCK(st.st_mode)) {
        return; /* ours, or not a socket: never replace a file */
    } else if (probe(ls->path) == 0) {
        why = "named a socket nobody listens on";
    }
    if (why == NULL)
        return;
    if (point_path_at(ls->private_path, ls->link_path, ls->path) == 0)
        log_msg(LOG_WARN, "socket path %s %s; took it over (checked every %d ms)", ls->path, why,
                LISTEN_GUARD_INTERVAL_MS);
    else
        log_msg(LOG_WARN, "socket path %s %s, and taking it over failed: %s", ls->path, why,
                strerror(errno));
}

static void *guard_main(void *arg)
{
    listen_socket *ls = arg;
    unsigned rounds = 0;
    (void)pthread_setname_np(pthread_self(), "sqh-guard");
    pthread_mutex_lock(&ls->guard_mu);
    while (!ls->guard_stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)LISTEN_GUARD_INTERVAL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        int rc = 0;
        while (!ls->guard_stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&ls->guard_cv, &ls->guard_mu, &until);
        if (ls->guard_stop)
            break;
        pthread_mutex_unlock(&ls->guard_mu);
        guard_check(ls);
        /* Stale private names: rarely, they only cost a directory entry. */
        if (++rounds % (5000 / LISTEN_GUARD_INTERVAL_MS) == 0)
            for_each_peer(ls, remove_if_stale);
        pthread_mutex_lock(&ls->guard_mu);
    }
    pthread_mutex_unlock(&ls->guard_mu);
    return NULL;
}

static int guard_start(listen_socket *ls)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc != 0)
        return rc;
    (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&ls->guard_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return rc;
    if ((rc = pthread_mutex_init(&ls->guard_mu, NULL)) != 0) {
        pthread_cond_destroy(&ls->guard_cv);
        return rc;
    }
    ls->guard_stop = false;
    if ((rc = pthread_create(&ls->guard, NULL, guard_main, ls)) != 0) {
        pthread_mutex_destroy(&ls->guard_mu);
        pthread_cond_destroy(&ls->guard_cv);
        return rc;
    }
    ls->guard_running = true;
    return 0;
}

static void guard_stop(listen_socket *ls)
{
    if (!ls->guard_running)
        return;
    pthread_mutex_lock(&ls->guard_mu);
    ls->guard_stop = true;
    pthread_cond_signal(&ls->guard_cv);
    pthread_mutex_unlock(&ls->guard_mu);
    (void)pthread_join(ls->guard, NULL);
    pthread_mutex_destroy(&ls->guard_mu);
    pthread_cond_destroy(&ls->guard_cv);
    ls->guard_running = false;
}

/* Private and scratch names for this instance, or -1 when they do not
 * fit (then the path itself is bound, without hand-over). */
static int instance_names(listen_socket *ls)
{
    char prefix[SUN_PATH_CAP], id[INSTANCE_ID_HEX + 1];
    uint8_t rnd[INSTANCE_ID_HEX / 2];
    size_t dirlen;
    if (private_prefix(ls->path, prefix, sizeof prefix, &dirlen) != 0)
        return -1;
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        /* No entropy yet: pid and time still tell instances apart. */
        uint64_t v = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
        memcpy(rnd, &v, sizeof rnd);
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof rnd; i++) {
        id[2 * i] = hex[rnd[i] >> 4];
        id[2 * i + 1] = hex[rnd[i] & 15];
    }
    id[INSTANCE_ID_HEX] = '\0';
    const char *p[] = {ls->path, "/", prefix, id, ".sock"};
    size_t l[] = {dirlen, 1, strlen(prefix), INSTANCE_ID_HEX, 5};
    if (join(ls->private_path, sizeof ls->private_path, p, l, 5) != 0)
        return -1;
    p[4] = ".lnk";
    l[4] = 4;
    return join(ls->link_path, sizeof ls->link_path, p, l, 5);
}

int listen_socket_open(listen_socket *ls, const char *path, mode_t mode, long long group,
                       char *err, size_t errcap)
{
    int rc = -1;
    int fd = -1;
    bool bound = false;
    struct sockaddr_un sa;
    struct stat st;

    memset(ls, 0, sizeof *ls);
    ls->fd = -1;
    ls->path = path;
    if (fill_addr(&sa, path) != 0) {
        seterr(err, errcap, "socket path is longer than %zu bytes: %s", sizeof sa.sun_path - 1,
               path);
        goto out;
    }
    if (mkdir_parents(path, err, errcap) != 0)
        goto out;
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        seterr(err, errcap, "%s exists and is not a socket; refusing to replace it", path);
        goto out;
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        seterr(err, errcap, "socket(AF_UNIX): %s", strerror(errno));
        goto out;
    }

    /* A private name in the same directory, so link() and rename() work.
     * If none fits in sun_path, publishing binds the path itself. */
    const char *bind_path = ls->private_path;
    if (instance_names(ls) != 0) {
        ls->private_path[0] = ls->link_path[0] = '\0';
        bind_path = path;
        if (unlink(path) != 0 && errno != ENOENT) {
            seterr(err, errcap, "cannot remove stale socket %s: %s", path, strerror(errno));
            goto out;
        }
    }
    (void)fill_addr(&sa, bind_path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        seterr(err, errcap, "cannot bind %s: %s", bind_path, strerror(errno));
        goto out;
    }
    bound = true;
    if (chmod(bind_path, mode) != 0) {
        seterr(err, errcap, "chmod %o %s: %s", (unsigned)mode, bind_path, strerror(errno));
        goto out;
    }
    if (group >= 0 && chown(bind_path, (uid_t)-1, (gid_t)group) != 0) {
        seterr(err, errcap, "cannot give %s to group %lld: %s", bind_path, group,
               strerror(errno));
        goto out;
    }
    if (listen(fd, LISTEN_BACKLOG) != 0) {
        seterr(err, errcap, "listen on %s: %s", bind_path, strerror(errno));
        goto out;
    }
    /* Our socket's identity, from the name only we use: fstat of a Unix
     * socket's descriptor does not give the file's inode. */
    if (lstat(bind_path, &st) != 0) {
        seterr(err, errcap, "lstat %s: %s", bind_path, strerror(errno));
        goto out;
    }
    ls->fd = fd;
    ls->dev = st.st_dev;
    ls->ino = st.st_ino;
    fd = -1;
    rc = 0;
out:
    if (rc != 0 && bound)
        (void)unlink(bind_path);
    if (fd >= 0)
        close(fd);
    return rc;
}

int listen_socket_publish(listen_socket *ls, char *err, size_t errcap)
{
    if (ls->activated || ls->private_path[0] == '\0')
        return 0; /* systemd's, or the path itself is bound */
    for_each_peer(ls, remove_if_stale);
    if (point_path_at(ls->private_path, ls->link_path, ls->path) != 0) {
        seterr(err, errcap, "cannot move socket into place at %s: %s", ls->path,
               strerror(errno));
        return -1;
    }
    int rc = guard_start(ls);
    if (rc != 0) {
        /* Serving still works; only the re-take after a kill -9 is lost. */
        log_msg(LOG_WARN, "cannot start the socket path guard: %s; a dead socket left at %s "
                          "by another instance will not be replaced", strerror(rc), ls->path);
        return 0;
    }
    return 0;
}

/* Makes fd ours: non-blocking, close-on-exec, activated. 0 or -1. */
static int adopt_activated(listen_socket *ls, int fd, const char *path, char *err, size_t errcap)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        seterr(err, errcap, "socket activation: fcntl: %s", strerror(errno));
        return -1;
    }
    ls->fd = fd;
    ls->path = path;
    ls->activated = true;
    return 0;
}

int listen_socket_from_systemd(listen_socket *ls, const char *path, listen_socket *qls,
                               char *qgs_path, size_t qgs_path_cap, char *err, size_t errcap)
{
    memset(ls, 0, sizeof *ls);
    ls->fd = -1;
    ls->path = path;
    if (qls != NULL) {
        memset(qls, 0, sizeof *qls);
        qls->fd = -1;
    }
    /* unset_environment = 1: children (none today) must not inherit them.
     * Without LISTEN_FDNAMES every name is "unknown": the AESM socket, as
     * before socket units had names. */
    char **names = NULL;
    int n = sdnotify_listen_fds(true, &names);
    if (n < 0) {
        seterr(err, errcap,
               "socket activation: malformed LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES (%s): "
               "start the daemon from its .socket units, and do not set these variables by "
               "hand",
               strerror(-n));
        return -1;
    }
    int aesm_fd = -1, qgs_fd = -1, rc = -1;
    for (int i = 0; i < n; i++) {
        int cand = SDNOTIFY_LISTEN_FDS_START + i;
        bool qgs_named = names != NULL && names[i] != NULL &&
                         strcmp(names[i], LISTEN_FD_NAME_QGS) == 0;
        bool usable = sdnotify_is_socket_unix(cand, SOCK_STREAM, 1) > 0;
        if (qgs_named && qls != NULL && qgs_fd < 0 && usable)
            qgs_fd = cand;
        else if (!qgs_named && aesm_fd < 0 && usable)
            aesm_fd = cand;
        else if (qgs_named && qgs_fd < 0 && !usable) {
            seterr(err, errcap, "socket activation: the descriptor named \"%s\" is not a "
                                "listening AF_UNIX stream socket (check ListenStream= in "
                                "sgx-quote-helperd-qgs.socket)", LISTEN_FD_NAME_QGS);
            goto out;
        } else
            close(cand); /* not ours to serve */
    }
    if (n > 0 && aesm_fd < 0 && qgs_fd < 0) {
        seterr(err, errcap, "socket activation: none of the %d passed descriptor(s) is a "
                              "listening AF_UNIX stream socket (check ListenStream= in the "
                              ".socket unit)", n);
        goto out;
    }
    rc = 0;
    if (aesm_fd >= 0) {
        if (adopt_activated(ls, aesm_fd, path, err, errcap) != 0) {
            rc = -1;
            goto out;
        }
        aesm_fd = -1;
        rc |= LISTEN_ACTIVATED_AESM;
    }
    if (qgs_fd >= 0) {
        /* The path is only for log lines: the socket unit's ListenStream=. */
        struct sockaddr_un sa;
        socklen_t len = sizeof sa;
        memset(&sa, 0, sizeof sa);
        if (getsockname(qgs_fd, (struct sockaddr *)&sa, &len) != 0 || sa.sun_path[0] == '\0')
            snprintf(qgs_path, qgs_path_cap, "(systemd socket \"%s\")", LISTEN_FD_NAME_QGS);
        else
            snprintf(qgs_path, qgs_path_cap, "%.*s", (int)sizeof sa.sun_path, sa.sun_path);
        if (adopt_activated(qls, qgs_fd, qgs_path, err, errcap) != 0) {
            if (rc & LISTEN_ACTIVATED_AESM) {
                close(ls->fd);
                ls->fd = -1;
                ls->activated = false;
            }
            rc = -1;
            goto out;
        }
        qgs_fd = -1;
        rc |= LISTEN_ACTIVATED_QGS;
    }
out:
    if (aesm_fd >= 0)
        close(aesm_fd);
    if (qgs_fd >= 0)
        close(qgs_fd);
    sdnotify_names_free(names);
    return rc;
}

void listen_socket_remove_if_ours(listen_socket *ls)
{
    struct stat st;
    guard_stop(ls);
    /* systemd owns an activated socket and its path (they outlive us). */
    if (ls->activated || ls->path == NULL || ls->ino == 0)
        return;
    if (lstat(ls->path, &st) == 0 && path_is_ours(ls, &st)) {
        bool handed = false;
        if (ls->private_path[0] != '\0') {
            for_each_peer(ls, hand_to);
            handed = lstat(ls->path, &st) != 0 || !path_is_ours(ls, &st);
        }
        if (!handed)
            (void)unlink(ls->path);
    }
    if (ls->private_path[0] != '\0')
        (void)unlink(ls->private_path);
    ls->ino = 0; /* done: a second call must not touch a path reused since */
}
