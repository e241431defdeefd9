/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client → [transport] → socket → daemon. One request per connection
 * (aesm §1.3): connect to the AESM socket, send the frame, read one
 * length-prefixed response, close. Differences from Intel's transport, each
 * for robustness: connect retries briefly on ENOENT/ECONNREFUSED (a daemon
 * restarting or being upgraded), the request goes out in one send() with
 * MSG_NOSIGNAL (a daemon that hangs up cannot SIGPIPE the application), and
 * the response length is capped by what the call can legitimately receive.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "wire/wire.h"

/* Backoff between connect attempts while the socket is missing or refuses. */
#define CONNECT_BACKOFF_FIRST_MS 5
#define CONNECT_BACKOFF_MAX_MS 100
/* First receive buffer: big enough for any response but a quote's. */
#define RECV_FIRST_MAX (64u * 1024u)

const char *client_strerror(int err)
{
    switch (err) {
    case CLIENT_OK:
        return "success";
    case CLIENT_E_UNAVAILABLE:
        return "cannot connect to the AESM socket (is sgx-quote-helperd running?)";
    case CLIENT_E_TIMEOUT:
        return "the daemon did not answer in time";
    case CLIENT_E_IO:
        return "the connection failed or closed before the whole response arrived";
    case CLIENT_E_TOO_LARGE:
        return "the response is larger than this call can receive";
    case CLIENT_E_NOMEM:
        return "out of memory";
    case CLIENT_E_INVALID:
        return "invalid argument";
    default:
        return "unknown client error";
    }
}

sgx_status_t client_err_to_sgx(int err)
{
    switch (err) {
    case CLIENT_OK:
        return SGX_SUCCESS;
    case CLIENT_E_UNAVAILABLE:
        return SGX_ERROR_SERVICE_UNAVAILABLE;
    case CLIENT_E_TIMEOUT:
        return SGX_ERROR_SERVICE_TIMEOUT;
    case CLIENT_E_NOMEM:
        return SGX_ERROR_OUT_OF_MEMORY;
    case CLIENT_E_INVALID:
        return SGX_ERROR_INVALID_PARAMETER;
    default:
        return SGX_ERROR_UNEXPECTED;
    }
}

static int env_ms(const char *name, int fallback)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return fallback;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < 0 || n > 3600000)
        return fallback;
    return (int)n;
}

void client_opts_default(client_opts *o)
{
    o->socket_path = NULL;
    o->connect_retry_ms = -1;
    o->io_timeout_ms = 0;
}

const char *client_socket_path(const client_opts *o)
{
    if (o != NULL && o->socket_path != NULL)
        return o->socket_path;
    /* DESIGN.md: unlike Intel's library (which ignores the value, aesm
     * §1.1), an absolute-path SGX_AESM_ADDR names the socket. */
    const char *env = getenv("SGX_AESM_ADDR");
    if (env != NULL && env[0] == '/')
        return env;
    return CLIENT_DEFAULT_SOCKET;
}

static int resolve_retry_ms(const client_opts *o)
{
    if (o != NULL && o->connect_retry_ms >= 0)
        return o->connect_retry_ms;
    return env_ms("SGXQH_CONNECT_RETRY_MS", CLIENT_DEFAULT_CONNECT_RETRY_MS);
}

static int resolve_io_ms(const client_opts *o)
{
    if (o != NULL && o->io_timeout_ms > 0)
        return o->io_timeout_ms;
    int v = env_ms("SGXQH_IO_TIMEOUT_MS", CLIENT_DEFAULT_IO_TIMEOUT_MS);
    return v > 0 ? v : CLIENT_DEFAULT_IO_TIMEOUT_MS;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* One blocking connect. The socket stays blocking: SO_SNDTIMEO bounds the
 * connect when the daemon's accept queue is full (AF_UNIX connect then
 * sleeps until there is room) and every send; SO_RCVTIMEO every recv. That
 * is one recv for a whole response in the usual case, instead of
 * EAGAIN + poll + recv + recv. */
static int connect_once(const struct sockaddr_un *sa, int io_ms, int *fd_out, int *errno_out)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *errno_out = errno;
        return -1;
    }
    struct timeval tv = {.tv_sec = io_ms / 1000, .tv_usec = (io_ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) != 0) {
        *errno_out = errno;
        close(fd);
        return -1;
    }
    *fd_out = fd;
    return 0;
}

static int client_connect(const client_opts *o, int io_ms, int *fd_out)
{
    struct sockaddr_un sa;
    const char *path = client_socket_path(o);
    size_t n = strlen(path);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (n >= sizeof sa.sun_path)
        return CLIENT_E_UNAVAILABLE;
    memcpy(sa.sun_path, path, n + 1);

    int retry_ms = resolve_retry_ms(o);
    int64_t give_up = now_ms() + retry_ms;
    int backoff = CONNECT_BACKOFF_FIRST_MS;
    for (;;) {
        int e = 0;
        if (connect_once(&sa, io_ms, fd_out, &e) == 0)
            return CLIENT_OK;
        if (e == EAGAIN || e == EINPROGRESS)
            return CLIENT_E_TIMEOUT; /* waited io_ms for room in the accept queue */
        bool transient = e == ENOENT || e == ECONNREFUSED || e == EINTR;
        int64_t left = give_up - now_ms();
        if (!transient || left <= 0)
            return CLIENT_E_UNAVAILABLE;
        sleep_ms(backoff < left ? backoff : (int)left);
        backoff = backoff * 2 > CONNECT_BACKOFF_MAX_MS ? CONNECT_BACKOFF_MAX_MS : backoff * 2;
    }
}

static int send_all(int fd, const uint8_t *p, size_t len, int io_ms)
{
    int64_t deadline = now_ms() + io_ms;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            return CLIENT_E_TIMEOUT; /* SO_SNDTIMEO expired */
        } else if (!(n < 0 && errno == EINTR)) {
            return CLIENT_E_IO;
        }
        if (len > 0 && now_ms() >= deadline)
            return CLIENT_E_TIMEOUT;
    }
    return CLIENT_OK;
}

/* Receives one frame into a buffer that grows to the announced length
 * (never past max_resp). Returns the body moved to the buffer's start. */
static int recv_frame(int fd, size_t max_resp, int io_ms, uint8_t **out, size_t *out_len)
{
    int rc = CLIENT_E_IO;
    size_t cap = WIRE_PREFIX_SIZE + (max_resp < RECV_FIRST_MAX ? max_resp : RECV_FIRST_MAX);
    size_t got = 0, need = WIRE_PREFIX_SIZE;
    uint32_t body_len = 0;
    bool have_len = false;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return CLIENT_E_NOMEM;
    /* Each phase (prefix, body) has its own deadline, as in Intel's client
     * (aesm §4.0); SO_RCVTIMEO bounds each single wait. */
    int64_t deadline = now_ms() + io_ms;
    while (got < need) {
        ssize_t n = recv(fd, buf + got, cap - got, 0);
        if (n == 0) {
            rc = CLIENT_E_IO; /* closed without (the rest of) a response */
            goto out;
        }
        if (n < 0) {
            if (errno == EINTR)
                goto check_deadline;
            rc = errno == EAGAIN ? CLIENT_E_TIMEOUT : CLIENT_E_IO;
            goto out;
        }
        got += (size_t)n;
        if (!have_len && got >= WIRE_PREFIX_SIZE) {
            if (wire_prefix_decode(buf, got, max_resp, &body_len) != WIRE_OK) {
                rc = CLIENT_E_TOO_LARGE;
                goto out;
            }
            have_len = true;
            need = WIRE_PREFIX_SIZE + (size_t)body_len;
            if (need > cap) {
                uint8_t *nb = realloc(buf, need);
                if (nb == NULL) {
                    rc = CLIENT_E_NOMEM;
                    goto out;
                }
                buf = nb;
                cap = need;
            }
            deadline = now_ms() + io_ms; /* the body phase starts */
            continue;
        }
    check_deadline:
        if (got < need && now_ms() >= deadline) {
            rc = CLIENT_E_TIMEOUT;
            goto out;
        }
    }
    /* Anything after the frame is not ours to read (aesm §1.3). */
    memmove(buf, buf + WIRE_PREFIX_SIZE, body_len);
    *out = buf;
    *out_len = body_len;
    buf = NULL;
    rc = CLIENT_OK;
out:
    free(buf);
    return rc;
}

int client_transact(const client_opts *o, const uint8_t *req_frame, size_t req_frame_len,
                    size_t max_resp, uint8_t **resp, size_t *resp_len)
{
    int rc;
    int fd = -1;

    if (req_frame == NULL || req_frame_len <= WIRE_PREFIX_SIZE || resp == NULL ||
        resp_len == NULL)
        return CLIENT_E_INVALID;
    int io_ms = resolve_io_ms(o);
    rc = client_connect(o, io_ms, &fd);
    if (rc != CLIENT_OK)
        goto out;
    if ((rc = send_all(fd, req_frame, req_frame_len, io_ms)) != CLIENT_OK)
        goto out;
    rc = recv_frame(fd, max_resp, io_ms, resp, resp_len);
out:
    if (fd >= 0)
        close(fd);
    return rc;
}
