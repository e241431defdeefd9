/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listening socket set-up for sgx-quote-helperd (aesm §1.2): the daemon's
 * front door, before the event loop (server.c) takes the fd over. Unlike
 * aesmd, which unlinks the path and binds it (a window with no socket) and
 * unlinks it again on exit whatever it then names, we bind a temporary name
 * in the same directory and rename() it into place, and on exit remove the
 * path only while it is still our inode. Under systemd socket activation
 * the socket comes from LISTEN_FDS and its path is never touched.
 */
#include "daemon/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* Kernel queue of connections not yet accepted; the kernel caps it at
 * net.core.somaxconn. aesmd uses 32, which a burst of clients overruns. */
#define LISTEN_BACKLOG 1024

static int mkdir_parents(const char *path, char *err, size_t errcap)
{
    char dir[PATH_MAX];
    size_t plen = strlen(path);
    if (plen >= sizeof dir) {
        snprintf(err, errcap, "socket path is too long: %s", path);
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
            snprintf(err, errcap, "%s exists and is not a directory", dir);
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
                snprintf(err, errcap, "cannot create socket directory %s: %s", dir,
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

/* "<dir>/.<name>.<pid>.tmp" next to path, or the shorter "<dir>/.sqh.<pid>"
 * when that does not fit; -1 when neither fits in cap. Built from measured
 * pieces, so nothing is ever silently truncated. */
static int temp_name(char *out, size_t cap, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return -1;
    size_t dirlen = (size_t)(slash - path);
    const char *base = slash + 1;
    size_t baselen = strlen(base);
    char pid[24];
    int pl = snprintf(pid, sizeof pid, "%ld", (long)getpid());
    if (pl <= 0 || (size_t)pl >= sizeof pid)
        return -1;
    /* dir "/." base "." pid ".tmp" NUL */
    size_t need = dirlen + 2 + baselen + 1 + (size_t)pl + 4 + 1;
    size_t n = 0;
    if (need <= cap) {
        memcpy(out, path, dirlen);
        n = dirlen;
        memcpy(out + n, "/.", 2);
        n += 2;
        memcpy(out + n, base, baselen);
        n += baselen;
        out[n++] = '.';
        memcpy(out + n, pid, (size_t)pl);
        n += (size_t)pl;
        memcpy(out + n, ".tmp", 5);
        return 0;
    }
    /* dir "/.sqh." pid NUL */
    need = dirlen + 6 + (size_t)pl + 1;
    if (need > cap)
        return -1;
    memcpy(out, path, dirlen);
    n = dirlen;
    memcpy(out + n, "/.sqh.", 6);
    n += 6;
    memcpy(out + n, pid, (size_t)pl);
    out[n + (size_t)pl] = '\0';
    return 0;
}

int listen_socket_open(listen_socket *ls, const char *path, mode_t mode, long long group,
                       char *err, size_t errcap)
{
    int rc = -1;
    int fd = -1;
    bool tmp_bound = false;
    char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct sockaddr_un sa;
    struct stat st;

    memset(ls, 0, sizeof *ls);
    ls->fd = -1;
    ls->path = path;
    if (fill_addr(&sa, path) != 0) {
        snprintf(err, errcap, "socket path is longer than %zu bytes: %s",
                 sizeof sa.sun_path - 1, path);
        goto out;
    }
    if (mkdir_parents(path, err, errcap) != 0)
        goto out;
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        snprintf(err, errcap, "%s exists and is not a socket; refusing to replace it", path);
        goto out;
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errcap, "socket(AF_UNIX): %s", strerror(errno));
        goto out;
    }

    /* A temporary name in the same directory, so rename() is atomic. If it
     * does not fit in sun_path, bind the path itself after unlinking it. */
    const char *bind_path = tmp;
    if (temp_name(tmp, sizeof tmp, path) != 0 || fill_addr(&sa, tmp) != 0) {
        bind_path = path;
        if (unlink(path) != 0 && errno != ENOENT) {
            snprintf(err, errcap, "cannot remove stale socket %s: %s", path, strerror(errno));
            goto out;
        }
        (void)fill_addr(&sa, path);
    } else {
        (void)unlink(tmp);
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errcap, "cannot bind %s: %s", bind_path, strerror(errno));
        goto out;
    }
    tmp_bound = bind_path == tmp;
    if (chmod(bind_path, mode) != 0) {
        snprintf(err, errcap, "chmod %o %s: %s", (unsigned)mode, bind_path, strerror(errno));
        goto out;
    }
    if (group >= 0 && chown(bind_path, (uid_t)-1, (gid_t)group) != 0) {
        snprintf(err, errcap, "cannot give %s to group %lld: %s", bind_path, group,
                 strerror(errno));
        goto out;
    }
    if (listen(fd, LISTEN_BACKLOG) != 0) {
        snprintf(err, errcap, "listen on %s: %s", bind_path, strerror(errno));
        goto out;
    }
    /* Our socket's identity, taken from the name we bound and nobody else
     * uses: after the rename, path may already name a newer instance's
     * socket (it renamed over ours in between), and remembering that one
     * would make us unlink it on exit. fstat of the descriptor does not
     * give the file's inode for a Unix socket, hence lstat of the name. */
    if (lstat(bind_path, &st) != 0) {
        snprintf(err, errcap, "lstat %s: %s", bind_path, strerror(errno));
        goto out;
    }
    if (tmp_bound && rename(tmp, path) != 0) {
        snprintf(err, errcap, "cannot move socket into place at %s: %s", path, strerror(errno));
        goto out;
    }
    tmp_bound = false;
    ls->fd = fd;
    ls->dev = st.st_dev;
    ls->ino = st.st_ino;
    fd = -1;
    rc = 0;
out:
    if (tmp_bound)
        (void)unlink(tmp);
    if (fd >= 0)
        close(fd);
    return rc;
}

int listen_socket_from_systemd(listen_socket *ls, const char *path, char *err, size_t errcap)
{
    memset(ls, 0, sizeof *ls);
    ls->fd = -1;
    ls->path = path;
    /* unset_environment = 1: children (none today) must not inherit them. */
    int n = sd_listen_fds(1);
    if (n < 0) {
        snprintf(err, errcap, "socket activation: sd_listen_fds: %s", strerror(-n));
        return -1;
    }
    if (n == 0)
        return 0;
    int fd = -1;
    for (int i = 0; i < n; i++) {
        int cand = SD_LISTEN_FDS_START + i;
        if (fd < 0 && sd_is_socket_unix(cand, SOCK_STREAM, 1, NULL, 0) > 0)
            fd = cand;
        else
            close(cand); /* not ours to serve: one listening AF_UNIX stream socket */
    }
    if (fd < 0) {
        snprintf(err, errcap, "socket activation: none of the %d passed descriptor(s) is a "
                              "listening AF_UNIX stream socket (check ListenStream= in the "
                              ".socket unit)", n);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(err, errcap, "socket activation: fcntl: %s", strerror(errno));
        close(fd);
        return -1;
    }
    ls->fd = fd;
    ls->activated = true;
    return 1;
}

void listen_socket_remove_if_ours(const listen_socket *ls)
{
    struct stat st;
    /* systemd owns an activated socket and its path (they outlive us). */
    if (ls->activated || ls->path == NULL || lstat(ls->path, &st) != 0)
        return;
    if (st.st_dev == ls->dev && st.st_ino == ls->ino)
        (void)unlink(ls->path);
}
