/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QGS client (qgs_client.h): connect, one write, read the reply under one
 * deadline, decode. Replies are untrusted: the prefix is bounded before
 * anything is allocated, and framed replies go through the strict decoders
 * of codec.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qgs/qgs_client.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

/* Reads until want bytes or EOF (eof_ok); returns bytes read or -errno. */
static long read_some(int fd, uint8_t *buf, size_t want, long long deadline)
{
    size_t got = 0;
    while (got < want) {
        int rc = wait_fd(fd, POLLIN, deadline);
        if (rc != 0)
            return rc;
        ssize_t n = read(fd, buf + got, want - got);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    return (long)got;
}

static int connect_unix(const char *path, char *err, size_t errcap)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errcap, "QGS socket path is too long: %s", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errcap,
                 "cannot connect to the QGS socket %s: %s (is sgx-quote-helperd running with "
                 "--qgs-socket? docs/tdx.md)",
                 path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int qgs_client_exchange(const char *socket_path, const uint8_t *req, size_t req_len, bool raw,
                        int timeout_ms, uint8_t **reply, size_t *reply_len, char *err,
                        size_t errcap)
{
    long long deadline = now_ms() + timeout_ms;
    uint8_t *buf = NULL;
    int rc = -1;
    *reply = NULL;
    *reply_len = 0;
    int fd = connect_unix(socket_path, err, errcap);
    if (fd < 0)
        return -1;
    size_t sent = 0;
    while (sent < req_len) {
        if (wait_fd(fd, POLLOUT, deadline) != 0) {
            snprintf(err, errcap, "timed out sending the request to %s", socket_path);
            goto out;
        }
        ssize_t n = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            snprintf(err, errcap, "sending the request to %s failed: %s", socket_path,
                     strerror(errno));
            goto out;
        }
        sent += (size_t)n;
    }
    size_t cap = raw ? QGS_RAW_QUOTE_MAX + 1 : QGS_FRAME_PREFIX_SIZE;
    buf = malloc(raw ? cap : QGS_REPLY_LEN_MAX);
    if (buf == NULL) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    long got = read_some(fd, buf, cap, deadline);
    if (got < 0) {
        snprintf(err, errcap, "reading the reply from %s failed: %s", socket_path,
                 strerror((int)-got));
        goto out;
    }
    if (raw) {
        if ((size_t)got > QGS_RAW_QUOTE_MAX) {
            snprintf(err, errcap, "the raw reply exceeds %u bytes", QGS_RAW_QUOTE_MAX);
            goto out;
        }
        *reply_len = (size_t)got;
    } else {
        if (got == 0) {
            *reply_len = 0; /* closed without a reply */
        } else if (got < (long)QGS_FRAME_PREFIX_SIZE) {
            snprintf(err, errcap, "the reply ends inside its 4-byte length prefix");
            goto out;
        } else {
            uint32_t len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
                           (uint32_t)buf[2] << 8 | buf[3];
            if (len > QGS_REPLY_LEN_MAX) {
                snprintf(err, errcap, "the reply length %u exceeds %u (libtdx_attest's limit)",
                         len, QGS_REPLY_LEN_MAX);
                goto out;
            }
            got = read_some(fd, buf, len, deadline);
            if (got < 0 || (uint32_t)got != len) {
                snprintf(err, errcap, "the reply is shorter than its length prefix (%ld of %u)",
                         got, len);
                goto out;
            }
            *reply_len = len;
        }
    }
    *reply = buf;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}

int qgs_client_get_quote(const char *socket_path, const uint8_t *report, size_t report_len,
                         bool raw, int timeout_ms, uint8_t **quote, size_t *quote_len, char *err,
                         size_t errcap)
{
    uint8_t *req = NULL, *reply = NULL;
    size_t req_len = 0, reply_len = 0;
    int rc = -1;
    *quote = NULL;
    *quote_len = 0;
    if (report_len > QGS_REQUEST_MAX) {
        snprintf(err, errcap, "the report is too large");
        return -1;
    }
    if (raw) {
        if (qgs_client_exchange(socket_path, report, report_len, true, timeout_ms, &reply,
                                &reply_len, err, errcap) != 0)
            return -1;
        if (reply_len == 0) {
            snprintf(err, errcap, "the QGS closed the connection without a quote (the raw form "
                                  "has no error reply; the daemon's log says why)");
            free(reply);
            return -1;
        }
        *quote = reply;
        *quote_len = reply_len;
        return 0;
    }
    if (qgs_encode_get_quote_req(report, (uint32_t)report_len, QGS_MSG_MINOR_VER, &req,
                                 &req_len) != QGS_OK) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    if (qgs_client_exchange(socket_path, req, req_len, false, timeout_ms, &reply, &reply_len,
                            err, errcap) != 0)
        goto out;
    if (reply_len == 0) {
        snprintf(err, errcap, "the QGS closed the connection without a reply (it could not "
                              "decode the request; the daemon's log says why)");
        goto out;
    }
    const uint8_t *q = NULL;
    uint32_t qs = 0, remote = 0;
    int d = qgs_get_quote_resp_decode(reply, reply_len, &q, &qs, &remote);
    if (d == QGS_E_REMOTE) {
        snprintf(err, errcap, "the QGS answered 0x%08x (%s); the daemon's log says why", remote,
                 qgs_msg_error_name(remote));
        goto out;
    }
    if (d != QGS_OK) {
        snprintf(err, errcap, "malformed GET_QUOTE reply: %s (%s)", qgs_strerror(d),
                 qgs_err_name(d));
        goto out;
    }
    *quote = malloc(qs);
    if (*quote == NULL) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    memcpy(*quote, q, qs);
    *quote_len = qs;
    rc = 0;
out:
    free(req);
    free(reply);
    return rc;
}
