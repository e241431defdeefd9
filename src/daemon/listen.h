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
} listen_socket;

/* Creates the directory (0755) if missing, binds a temporary name next to
 * path, applies mode and group, listens, then rename()s it over path, so
 * the path always names a connectable socket (a stale one is replaced, a
 * regular file is refused). group < 0: leave unchanged. On failure returns
 * -1 with a sentence in err. */
int listen_socket_open(listen_socket *ls, const char *path, mode_t mode, long long group,
                       char *err, size_t errcap);

/* Unlinks the path only if it still names the socket we created. */
void listen_socket_remove_if_ours(const listen_socket *ls);

#endif
