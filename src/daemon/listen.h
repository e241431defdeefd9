/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The listening socket: where it lives, who may connect, and how the
 * public path is handed between overlapping instances so that it always
 * names a live one (aesm §1.2, §9.1 item 1; docs/daemon.md "Upgrades and
 * hand-over").
 */
#ifndef SGXQH_DAEMON_LISTEN_H
#define SGXQH_DAEMON_LISTEN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

/* How often every instance checks that the public path names a live
 * socket, and re-takes it when it is gone or dead (kill -9 of its owner).
 * This bounds the window in which clients can get
 * SGX_ERROR_SERVICE_UNAVAILABLE after an instance is killed outright. */
#define LISTEN_GUARD_INTERVAL_MS 200

/* A private name older than this whose socket refuses connections belongs
 * to an instance that died; younger ones may be an instance between bind()
 * and listen(), and are left alone. */
#define LISTEN_STALE_AGE_S 10

typedef struct {
    int fd;           /* listening, non-blocking, close-on-exec */
    const char *path; /* public path, borrowed from the config */
    dev_t dev;        /* identity of the socket file we created */
    ino_t ino;
    bool activated;   /* from systemd (LISTEN_FDS): never bound or unlinked by us */
    /* Hand-over (empty private when the names do not fit in sun_path: then
     * the path itself is bound, as a lone instance would). */
    char private_path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* our own name */
    char link_path[sizeof(((struct sockaddr_un *)0)->sun_path)];    /* publish scratch */
    bool guard_running;
    bool guard_stop;          /* under guard_mu; guard_cv wakes the guard */
    pthread_mutex_t guard_mu;
    pthread_cond_t guard_cv;
    pthread_t guard;
} listen_socket;

/* Binds and listens on a private name next to path (".<name>.<id>.sock",
 * id unique per instance even across PID namespaces), with mode and
 * group. Does not touch the public path: call listen_socket_publish once
 * everything else that can fail has succeeded. Creates the directory
 * (0755) if missing; refuses a path that exists and is not a socket.
 * group < 0: leave unchanged. On failure returns -1 with a sentence in err. */
int listen_socket_open(listen_socket *ls, const char *path, mode_t mode, long long group,
                       char *err, size_t errcap);

/* Points the public path at our socket (link + rename over it: clients
 * never see the path missing), removes private names of dead instances,
 * and starts the guard thread that re-takes the path every
 * LISTEN_GUARD_INTERVAL_MS when it is missing or names a dead socket.
 * -1 with a sentence in err. */
int listen_socket_publish(listen_socket *ls, char *err, size_t errcap);

/* systemd socket activation (LISTEN_FDS, daemon/sdnotify.h). The descriptor
 * named LISTEN_FD_NAME_QGS (FileDescriptorName=qgs in
 * sgx-quote-helperd-qgs.socket) becomes the QGS socket in qls (when qls is
 * not NULL; its path, for log lines, is written to qgs_path); the first
 * other listening AF_UNIX stream socket the AESM one in ls; the rest are
 * closed. Returns a mask of LISTEN_ACTIVATED_*, 0 when the process was not
 * socket-activated; -1 with a sentence in err. path is only kept for log
 * lines. */
#define LISTEN_FD_NAME_QGS "qgs"
#define LISTEN_ACTIVATED_AESM 1
#define LISTEN_ACTIVATED_QGS 2
int listen_socket_from_systemd(listen_socket *ls, const char *path, listen_socket *qls,
                               char *qgs_path, size_t qgs_path_cap, char *err, size_t errcap);

/* Gives the path up (on SIGTERM, and on any exit after open): stops the
 * guard; if the path still names our socket, hands it to another live
 * instance's private socket in the same directory, and removes it only
 * when there is none; then removes our private name. A path that already
 * names another instance is never touched; an activated socket's never.
 * Idempotent. */
void listen_socket_remove_if_ours(listen_socket *ls);

#endif
