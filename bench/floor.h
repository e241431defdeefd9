/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor for `sgx-quote bench quote --floor`: the least any server can
 * do per request on this kernel under the protocol's one connection per
 * request (aesm §1.3). A child process whose threads only accept, read one
 * length-prefixed frame, write a reply cached from the real daemon, and
 * close: no quote, no peer identity, no log, no event loop. Its CPU per
 * request measured beside the daemon's, in the same run, shows how much
 * of the daemon's cost any server would pay on this machine.
 *
 * Return convention: 0, or -1 with a message on stderr.
 */
#ifndef SGXQH_BENCH_FLOOR_H
#define SGXQH_BENCH_FLOOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

/* Threads comm name in /proc, so the bench's CPU split names them. */
#define BENCH_FLOOR_THREAD_NAME "sqh-floor"

typedef struct {
    pid_t pid; /* 0: not running */
    char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
} bench_floor;

/* Listens on socket_path (which must not exist) and forks the server with
 * `threads` blocking accept loops, each answering every request (a frame
 * of at most max_body) with `reply`. The child dies with the caller. */
int bench_floor_start(bench_floor *f, const char *socket_path, const uint8_t *reply,
                      size_t reply_len, size_t max_body, int threads);

/* Kills and reaps the server and removes its socket; a no-op if not running. */
void bench_floor_stop(bench_floor *f);

#endif
