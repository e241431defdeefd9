/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The listening socket: where it lives, who may connect, and clean-up that
 * never removes a socket another instance now owns (aesm §1.2, §9.1 item 1).
 */
#ifndef SGXQH_DAEMON_LISTEN_H
#define SGXQH_DAEMON_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef struct {
    int fd;           /* listening, non-blocking, close-on-exec */
    const char *path; /* borrowed from the config */
    dev_t dev;        /* identity of the socket file we created */
    ino_t ino;
    bool activated;   /* from systemd (LISTEN_FDS): never bound or unlinked by us */
} listen_socket;

/* Creates the directory (0755) if missing, binds a temporary name next to
 * path, applies mode and group, listens, then rename()s it over path, so
 * the path always names a connectable socket (a stale one is replaced, a
 * regular file is refused). group < 0: leave unchanged. On failure returns
 * -1 with a sentence in err. */
int listen_socket_open(listen_socket *ls, const char *path, mode_t mode, long long group,
                       char *err, size_t errcap);

/* systemd socket activation (sd_listen_fds): when LISTEN_FDS passes
 * descriptors to this process, takes the first listening AF_UNIX stream
 * socket among them (closing the others) and returns 1; 0 when the process
 * was not socket-activated; -1 with a sentence in err. path is only kept
 * for log lines. */
int listen_socket_from_systemd(listen_socket *ls, const char *path, char *err, size_t errcap);

/* Unlinks the path only if it still names the socket we created (never for
 * an activated socket). */
void listen_socket_remove_if_ours(const listen_socket *ls);

#endif
