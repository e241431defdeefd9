/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request head of the operations HTTP endpoint (http.c), parsed from
 * untrusted bytes: request line and header fields of HTTP/1.0 and 1.1
 * (RFC 9112 sections 2-5), bounded to HTTPREQ_HEAD_MAX bytes in all. Only
 * what the endpoint needs comes out: the method, the path without its
 * query, the version, and whether a body was announced. Pure functions, no
 * allocation: unit-tested in tests/daemon/test_httpreq.c and fuzzed in
 * fuzz/daemon/fuzz_http_request.c.
 */
#ifndef SGXQH_DAEMON_HTTPREQ_H
#define SGXQH_DAEMON_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A probe or scrape sends a request line and a handful of fields (~200
 * bytes); 8 KiB is the common server default (nginx, Apache) and bounds the
 * buffer a connection may hold. */
#define HTTPREQ_HEAD_MAX 8192u
/* The longest request target kept apart from "too long" (our paths are
 * short; a long one is a scanner or an attack). */
#define HTTPREQ_TARGET_MAX 2048u
/* Header fields, however short: 100 is Apache's default (LimitRequestFields). */
#define HTTPREQ_FIELDS_MAX 100u

typedef enum {
    HTTPREQ_OK = 0,
    HTTPREQ_INCOMPLETE,      /* no end of head yet: read more */
    HTTPREQ_BAD_REQUEST,     /* malformed: answer 400 */
    HTTPREQ_HEAD_TOO_LARGE,  /* head (or one field) beyond the limits: 431 */
    HTTPREQ_URI_TOO_LONG,    /* target beyond HTTPREQ_TARGET_MAX: 414 */
    HTTPREQ_BAD_VERSION,     /* not HTTP/1.0 or HTTP/1.1: 505 */
} httpreq_status;

typedef enum {
    HTTPREQ_METHOD_GET,
    HTTPREQ_METHOD_HEAD,
    HTTPREQ_METHOD_OTHER, /* a valid token we do not serve: 405 */
} httpreq_method;

typedef struct {
    httpreq_method method;
    unsigned minor;     /* HTTP/1.<minor>: 0 or 1 */
    const char *path;   /* into the caller's buffer, not NUL-terminated */
    size_t path_len;    /* the target up to '?' or '#' */
    bool has_host;
    bool has_body;      /* Content-Length > 0 or Transfer-Encoding */
    size_t head_len;    /* bytes of the head, its final empty line included */
} httpreq;

/* Where the head ends in buf[0..len): the offset just past its empty line
 * (CRLF CRLF, or bare LFs), or 0 when it has not arrived. from: bytes
 * already searched (a reader calls this after each read without scanning
 * the start again); 0 the first time. */
size_t httpreq_head_end(const uint8_t *buf, size_t len, size_t from);

/* Parses the head at the start of buf. HTTPREQ_INCOMPLETE while no end is
 * in buf and len < HTTPREQ_HEAD_MAX; HTTPREQ_HEAD_TOO_LARGE when none is
 * in the first HTTPREQ_HEAD_MAX bytes. On HTTPREQ_OK *out is filled (path
 * points into buf); on any other result *out is zeroed. */
httpreq_status httpreq_parse(const uint8_t *buf, size_t len, httpreq *out);

/* The status code and reason phrase a failed parse is answered with. */
unsigned httpreq_status_code(httpreq_status st);
const char *httpreq_status_name(httpreq_status st);

/* true when the path equals the NUL-terminated literal. */
bool httpreq_path_is(const httpreq *r, const char *literal);

#endif
