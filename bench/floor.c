/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor server of `sgx-quote bench quote --floor` (bench/floor.h):
 * blocking accept loops in a child process that answer every request with
 * one cached reply frame. Deliberately the fewest system calls a request
 * can take (accept4, read, write, close), so that what it costs is the
 * kernel's price of a connection, not a design's. It serves only the
 * bench's own load generator, on a socket in the bench's private
 * temporary directory, for the length of a few measurement points.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include "bench/floor.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire/wire.h"

/* The largest thread count asked of the floor (one per usable CPU). */
#define FLOOR_MAX_THREADS 1024

typedef struct {
    int listen_fd;
    const uint8_t *reply;
    size_t reply_len;
    size_t max_body;
} floor_server;

static int write_full(int fd, const uint8_t *buf, size_t len)
{
    size_t put = 0;
    while (put < len) {
        ssize_t n = write(fd, buf + put, len - put);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        put += (size_t)n;
    }
    return 0;
}

/* One request frame into buf (cap = prefix + max_body). The load generator
 * sends its frame in one write, so the first read normally has it all. */
static int read_frame(int fd, uint8_t *buf, size_t cap, size_t max_body)
{
    size_t got = 0, total = 0; /* total: 0 until the prefix is in */
    while (total == 0 || got < total) {
        ssize_t n = read(fd, buf + got, (total == 0 ? cap : total) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
        if (total == 0 && got >= WIRE_PREFIX_SIZE) {
            uint32_t body = 0;
            if (wire_prefix_decode(buf, got, max_body, &body) != WIRE_OK)
                return -1;
            total = WIRE_PREFIX_SIZE + (size_t)body;
            if (got > total)
                return -1; /* one request per connection (aesm §1.3) */
        }
    }
    return 0;
}

static void *floor_loop(void *arg)
{
    const floor_server *s = arg;
    (void)prctl(PR_SET_NAME, BENCH_FLOOR_THREAD_NAME);
    size_t cap = WIRE_PREFIX_SIZE + s->max_body;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        _exit(1);
    for (;;) {
        int c = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            _exit(1); /* EMFILE and the like: the bench reports failed requests */
        }
        if (read_frame(c, buf, cap, s->max_body) == 0)
            (void)write_full(c, s->reply, s->reply_len);
        close(c);
    }
    return NULL;
}

static void floor_child(const floor_server *s, int threads, pid_t parent)
{
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0); /* the bench is already gone */
    signal(SIGPIPE, SIG_IGN); /* a client that left before the reply */
    for (int i = 1; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, floor_loop, (void *)s) != 0)
            _exit(1);
    }
    floor_loop((void *)s);
    _exit(0); /* not reached: the loops never return */
}

int bench_floor_start(bench_floor *f, const char *socket_path, const uint8_t *reply,
                      size_t reply_len, size_t max_body, int threads)
{
    memset(f, 0, sizeof *f);
    if (threads < 1 || threads > FLOOR_MAX_THREADS || reply_len == 0 ||
        strlen(socket_path) >= sizeof f->socket) {
        fprintf(stderr, "bench: floor: bad settings\n");
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "bench: floor: socket: %s\n", strerror(errno));
        return -1;
    }
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, socket_path, strlen(socket_path) + 1);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, SOMAXCONN) != 0) {
        fprintf(stderr, "bench: floor: cannot listen on %s: %s\n", socket_path, strerror(errno));
        close(fd);
        return -1;
    }
    snprintf(f->socket, sizeof f->socket, "%s", socket_path);
    floor_server s = {
        .listen_fd = fd, .reply = reply, .reply_len = reply_len, .max_body = max_body};
    pid_t parent = getpid();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench: floor: fork: %s\n", strerror(errno));
        close(fd);
        unlink(f->socket);
        return -1;
    }
    if (pid == 0)
        floor_child(&s, threads, parent); /* never returns */
    close(fd); /* the child holds the listener; connects queue on it at once */
    f->pid = pid;
    return 0;
}

void bench_floor_stop(bench_floor *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        int st;
        while (waitpid(f->pid, &st, 0) < 0 && errno == EINTR) {
        }
        f->pid = 0;
    }
    if (f->socket[0] != '\0') {
        unlink(f->socket);
        f->socket[0] = '\0';
    }
}
