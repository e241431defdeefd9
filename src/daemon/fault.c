/* SPDX-License-Identifier: Apache-2.0 */
/*
 * service → [fault wrapper] → backend (sim | hw). Only present with
 * --fault-file (fault.h): each backend call first looks at the file (one
 * open/read, a few microseconds) and fails with the code in it, so
 * /readyz, the backend_ready metric, request logs with their hints and the
 * client's status mapping can all be exercised against a deliberately
 * broken backend.
 */
#include "daemon/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    backend_ops ops; /* inner's name and thread_safe, our functions */
    backend *inner;
    char *path;
} fault_backend;

#define FAULT_MAX_DELAY_MS 60000ul

int fault_file_read(const char *path, unsigned *delay_ms)
{
    char buf[64];
    *delay_ms = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? 0 : AESM_SERVICE_UNAVAILABLE;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return AESM_SERVICE_UNAVAILABLE;
    buf[n] = '\0';
    /* Words: an optional decimal code, an optional delay=MS. */
    long code = -1;
    bool bad = false;
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t\r\n", &save); w != NULL;
         w = strtok_r(NULL, " \t\r\n", &save)) {
        char *end = NULL;
        if (strncmp(w, "delay=", 6) == 0) {
            unsigned long ms = strtoul(w + 6, &end, 10);
            if (end == w + 6 || *end != '\0' || ms > FAULT_MAX_DELAY_MS)
                bad = true;
            else
                *delay_ms = (unsigned)ms;
            continue;
        }
        long v = strtol(w, &end, 10);
        if (end == w || *end != '\0' || v < 0 || v > 0xffff || code >= 0)
            bad = true;
        else
            code = v;
    }
    if (bad)
        return AESM_SERVICE_UNAVAILABLE;
    if (code < 0) /* no code: empty file is 30; "delay=MS" alone is only a delay */
        return *delay_ms > 0 ? 0 : AESM_SERVICE_UNAVAILABLE;
    return (int)code;
}

int fault_file_code(const char *path)
{
    unsigned delay_ms = 0;
    return fault_file_read(path, &delay_ms);
}

/* Look at the file; sleep if it asks for a delay. */
static int fault_now(const char *path)
{
    unsigned delay_ms = 0;
    int code = fault_file_read(path, &delay_ms);
    if (delay_ms > 0) {
        struct timespec ts = {(time_t)(delay_ms / 1000u), (long)(delay_ms % 1000u) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    return code;
}

static fault_backend *fb_of(backend *b)
{
    return b->impl;
}

static size_t fb_key_ids(backend *b, sgx_att_key_id_ext_t *out, size_t cap)
{
    backend *in = fb_of(b)->inner;
    return in->ops->key_ids(in, out, cap);
}

static aesm_error_t fb_init_quote(backend *b, const sgx_att_key_id_ext_t *key_id,
                                  sgx_target_info_t *qe_ti, uint8_t pub_key_id[32])
{
    int code = fault_now(fb_of(b)->path);
    if (code != 0)
        return (aesm_error_t)code;
    backend *in = fb_of(b)->inner;
    return in->ops->init_quote(in, key_id, qe_ti, pub_key_id);
}

static aesm_error_t fb_quote_size(backend *b, const sgx_att_key_id_ext_t *key_id, uint32_t *size)
{
    int code = fault_now(fb_of(b)->path);
    if (code != 0)
        return (aesm_error_t)code;
    backend *in = fb_of(b)->inner;
    return in->ops->quote_size(in, key_id, size);
}

static aesm_error_t fb_get_quote(backend *b, const sgx_att_key_id_ext_t *key_id,
                                 const sgx_report_t *report, sgx_qe_report_info_t *qe_report_info,
                                 uint8_t *out, uint32_t cap, uint32_t *len)
{
    int code = fault_now(fb_of(b)->path);
    if (code != 0)
        return (aesm_error_t)code;
    backend *in = fb_of(b)->inner;
    return in->ops->get_quote(in, key_id, report, qe_report_info, out, cap, len);
}

static aesm_error_t fb_health(backend *b)
{
    int code = fault_now(fb_of(b)->path);
    if (code != 0)
        return (aesm_error_t)code;
    backend *in = fb_of(b)->inner;
    return in->ops->health(in);
}

static void fb_destroy(backend *b)
{
    if (b == NULL)
        return;
    fault_backend *fb = b->impl;
    if (fb != NULL) {
        backend_close(fb->inner);
        free(fb->path);
        free(fb);
    }
    free(b);
}

backend *fault_backend_wrap(backend *inner, const char *path)
{
    if (inner == NULL || path == NULL)
        return NULL;
    backend *b = calloc(1, sizeof *b);
    fault_backend *fb = calloc(1, sizeof *fb);
    char *p = strdup(path);
    if (b == NULL || fb == NULL || p == NULL) {
        free(b);
        free(fb);
        free(p);
        return NULL;
    }
    fb->ops = (backend_ops){
        .name = inner->ops->name,
        .key_ids = fb_key_ids,
        .init_quote = fb_init_quote,
        .quote_size = fb_quote_size,
        .get_quote = fb_get_quote,
        .health = fb_health,
        .destroy = fb_destroy,
        .thread_safe = inner->ops->thread_safe,
        /* delay= makes any call sleep: never on an event loop. */
        .nonblocking = false,
    };
    fb->inner = inner;
    fb->path = p;
    b->ops = &fb->ops;
    b->impl = fb;
    return b;
}
