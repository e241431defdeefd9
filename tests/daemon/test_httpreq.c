/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operations endpoint's request-head parser (src/daemon/httpreq.c):
 * what probes and scrapers send, and the edge cases a hostile client may
 * try (size limits, smuggling-prone framing, bare CR, folded lines), each
 * against the status the server answers with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/httpreq.h"

static httpreq_status parse(const char *text, httpreq *r)
{
    return httpreq_parse((const uint8_t *)text, strlen(text), r);
}

static void test_kubelet_probe(void **state)
{
    (void)state;
    httpreq r;
    const char *req = "GET /readyz HTTP/1.1\r\nHost: 10.0.0.5:9464\r\nUser-Agent: kube-probe/1.29"
                      "\r\nAccept: */*\r\nConnection: close\r\n\r\n";
    assert_int_equal(parse(req, &r), HTTPREQ_OK);
    assert_int_equal(r.method, HTTPREQ_METHOD_GET);
    assert_int_equal(r.minor, 1);
    assert_true(httpreq_path_is(&r, "/readyz"));
    assert_false(httpreq_path_is(&r, "/ready"));
    assert_false(httpreq_path_is(&r, "/readyz/"));
    assert_true(r.has_host);
    assert_false(r.has_body);
    assert_int_equal(r.head_len, strlen(req));
}

static void test_methods_and_query(void **state)
{
    (void)state;
    httpreq r;
    assert_int_equal(parse("HEAD /metrics?name[]=x HTTP/1.0\r\n\r\n", &r), HTTPREQ_OK);
    assert_int_equal(r.method, HTTPREQ_METHOD_HEAD);
    assert_int_equal(r.minor, 0);
    assert_true(httpreq_path_is(&r, "/metrics"));
    assert_int_equal(parse("POST /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\n", &r), HTTPREQ_OK);
    assert_int_equal(r.method, HTTPREQ_METHOD_OTHER);
    assert_true(r.has_body);
    /* Methods are case-sensitive (RFC 9110 section 9.1). */
    assert_int_equal(parse("get /healthz HTTP/1.0\r\n\r\n", &r), HTTPREQ_OK);
    assert_int_equal(r.method, HTTPREQ_METHOD_OTHER);
    assert_int_equal(parse("GET /healthz#frag HTTP/1.0\r\n\r\n", &r), HTTPREQ_OK);
    assert_true(httpreq_path_is(&r, "/healthz"));
    /* absolute-form: the path after the authority. */
    assert_int_equal(parse("GET http://node:9464/healthz HTTP/1.1\r\nHost: node\r\n\r\n", &r),
                     HTTPREQ_OK);
    assert_true(httpreq_path_is(&r, "/healthz"));
    assert_int_equal(parse("GET HTTP://node HTTP/1.1\r\nHost: node\r\n\r\n", &r), HTTPREQ_OK);
    assert_int_equal(r.path_len, 0);
}

static void test_line_ends(void **state)
{
    (void)state;
    httpreq r;
    /* Bare LF ends lines too; empty lines before the request are skipped
     * (RFC 9112 section 2.2). */
    assert_int_equal(parse("GET /healthz HTTP/1.0\n\n", &r), HTTPREQ_OK);
    assert_int_equal(parse("\r\nGET /healthz HTTP/1.0\r\nA: b\n\r\n", &r), HTTPREQ_OK);
    assert_true(httpreq_path_is(&r, "/healthz"));
    /* A bare CR inside a line is invalid. */
    assert_int_equal(parse("GET /healthz HTTP/1.0\r\nA: b\rc\r\n\r\n", &r), HTTPREQ_BAD_REQUEST);
    assert_int_equal(parse("GET /he\ralthz HTTP/1.0\r\n\r\n", &r), HTTPREQ_BAD_REQUEST);
    /* Only empty lines. */
    assert_int_equal(parse("\r\n\r\n", &r), HTTPREQ_BAD_REQUEST);
}

static void test_incomplete(void **state)
{
    (void)state;
    httpreq r;
    assert_int_equal(parse("", &r), HTTPREQ_INCOMPLETE);
    assert_int_equal(parse("GET /metr", &r), HTTPREQ_INCOMPLETE);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n", &r), HTTPREQ_INCOMPLETE);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r", &r), HTTPREQ_INCOMPLETE);
    /* On failure the result is zeroed, never half filled. */
    assert_null(r.path);
    assert_int_equal(r.head_len, 0);
}

static void test_head_end_incremental(void **state)
{
    (void)state;
    const char *req = "GET / HTTP/1.0\r\nA: b\r\n\r\nbody";
    size_t end = strlen(req) - 4;
    /* One byte at a time, searching only from what was seen: found exactly
     * when the last byte of the terminator arrives. */
    size_t seen = 0;
    for (size_t len = 1; len <= strlen(req); len++) {
        size_t got = httpreq_head_end((const uint8_t *)req, len, seen);
        seen = len;
        if (len < end)
            assert_int_equal(got, 0);
        else if (len == end) {
            assert_int_equal(got, end);
            break;
        }
    }
    assert_int_equal(httpreq_head_end((const uint8_t *)"a\n\nb", 4, 0), 3);
    assert_int_equal(httpreq_head_end((const uint8_t *)"\n", 1, 0), 0);
}

static void test_request_line_errors(void **state)
{
    (void)state;
    httpreq r;
    static const char *const bad[] = {
        "GET  /healthz HTTP/1.0\r\n\r\n",    /* two spaces */
        "GET /healthz  HTTP/1.0\r\n\r\n",
        " GET /healthz HTTP/1.0\r\n\r\n",
        "GET /healthz\r\n\r\n",               /* HTTP/0.9 */
        "GET /healthz HTTP/1.0 \r\n\r\n",
        "GET /healthz HTTP/1\r\n\r\n",
        "GET /healthz HTTP/1.x\r\n\r\n",
        "GET /healthz http/1.0\r\n\r\n",
        "G(T /healthz HTTP/1.0\r\n\r\n",      /* not a token */
        "GET /a\x01 HTTP/1.0\r\n\r\n",        /* control in the target */
        "GET /a\x80 HTTP/1.0\r\n\r\n",
        "GET /healthz HTTP/1.1\r\n\r\n",      /* 1.1 without Host */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        httpreq_status st = parse(bad[i], &r);
        if (st != HTTPREQ_BAD_REQUEST)
            fail_msg("case %zu: %d, expected HTTPREQ_BAD_REQUEST", i, (int)st);
    }
    assert_int_equal(parse("GET /healthz HTTP/2.0\r\n\r\n", &r), HTTPREQ_BAD_VERSION);
    assert_int_equal(parse("GET /healthz HTTP/0.9\r\n\r\n", &r), HTTPREQ_BAD_VERSION);
    /* A later 1.x minor is served as 1.1. */
    assert_int_equal(parse("GET /healthz HTTP/1.7\r\nHost: a\r\n\r\n", &r), HTTPREQ_OK);
    assert_int_equal(r.minor, 1);
    assert_int_equal(httpreq_status_code(HTTPREQ_BAD_VERSION), 505);
    assert_int_equal(httpreq_status_code(HTTPREQ_BAD_REQUEST), 400);
}

static void test_field_errors(void **state)
{
    (void)state;
    httpreq r;
    static const char *const bad[] = {
        "GET / HTTP/1.0\r\nHost : x\r\n\r\n",             /* space before ':' */
        "GET / HTTP/1.0\r\nA: b\r\n c\r\n\r\n",            /* obs-fold */
        "GET / HTTP/1.0\r\nA: b\r\n\tc\r\n\r\n",
        "GET / HTTP/1.0\r\nno colon\r\n\r\n",
        "GET / HTTP/1.0\r\n: empty name\r\n\r\n",
        "GET / HTTP/1.0\r\nA: b\x01\r\n\r\n",             /* control in a value */
        "GET / HTTP/1.0\r\nA: b\x7f\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",     /* two Hosts */
        "GET / HTTP/1.0\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.0\r\nContent-Length: 1,1\r\n\r\n",
        "GET / HTTP/1.0\r\nContent-Length:\r\n\r\n",
        "GET / HTTP/1.0\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "GET / HTTP/1.0\r\nContent-Length: 0\r\ncontent-length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        httpreq_status st = parse(bad[i], &r);
        if (st != HTTPREQ_BAD_REQUEST)
            fail_msg("case %zu: %d, expected HTTPREQ_BAD_REQUEST", i, (int)st);
    }
    /* Allowed: OWS around values, tabs inside, obs-text, case-insensitive
     * names, an empty value, a zero length. */
    assert_int_equal(parse("GET / HTTP/1.1\r\nhOsT:\t x \t\r\nX: a\tb\xe9\r\nE:\r\n"
                           "Content-Length: 000\r\n\r\n", &r),
                     HTTPREQ_OK);
    assert_true(r.has_host);
    assert_false(r.has_body);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
                     HTTPREQ_OK);
    assert_true(r.has_body);
}

static void test_limits(void **state)
{
    (void)state;
    httpreq r;
    size_t cap = HTTPREQ_HEAD_MAX + 64;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);

    /* A head of exactly HTTPREQ_HEAD_MAX bytes passes; one byte more, or
     * no end within the limit, is 431. */
    const char *start = "GET /healthz HTTP/1.0\r\nX: ";
    size_t fill = HTTPREQ_HEAD_MAX - strlen(start) - 4;
    memcpy(buf, start, strlen(start));
    memset(buf + strlen(start), 'a', fill);
    memcpy(buf + strlen(start) + fill, "\r\n\r\n", 5);
    assert_int_equal(strlen(buf), HTTPREQ_HEAD_MAX);
    assert_int_equal(httpreq_parse((uint8_t *)buf, strlen(buf), &r), HTTPREQ_OK);
    assert_int_equal(r.head_len, HTTPREQ_HEAD_MAX);
    memset(buf + strlen(start), 'a', fill + 1);
    memcpy(buf + strlen(start) + fill + 1, "\r\n\r\n", 5);
    assert_int_equal(httpreq_parse((uint8_t *)buf, strlen(buf), &r), HTTPREQ_HEAD_TOO_LARGE);
    memset(buf, 'a', HTTPREQ_HEAD_MAX);
    assert_int_equal(httpreq_parse((uint8_t *)buf, HTTPREQ_HEAD_MAX - 1, &r), HTTPREQ_INCOMPLETE);
    assert_int_equal(httpreq_parse((uint8_t *)buf, HTTPREQ_HEAD_MAX, &r), HTTPREQ_HEAD_TOO_LARGE);
    assert_int_equal(httpreq_status_code(HTTPREQ_HEAD_TOO_LARGE), 431);

    /* Target: HTTPREQ_TARGET_MAX bytes pass, one more is 414. */
    for (size_t extra = 0; extra <= 1; extra++) {
        size_t tl = HTTPREQ_TARGET_MAX + extra;
        memcpy(buf, "GET /", 5);
        memset(buf + 5, 'p', tl - 1);
        memcpy(buf + 4 + tl, " HTTP/1.0\r\n\r\n", 14);
        assert_int_equal(httpreq_parse((uint8_t *)buf, 4 + tl + 13, &r),
                         extra == 0 ? HTTPREQ_OK : HTTPREQ_URI_TOO_LONG);
    }
    assert_int_equal(httpreq_status_code(HTTPREQ_URI_TOO_LONG), 414);

    /* HTTPREQ_FIELDS_MAX fields pass, one more is 431. */
    for (unsigned extra = 0; extra <= 1; extra++) {
        size_t off = (size_t)snprintf(buf, cap, "GET / HTTP/1.0\r\n");
        for (unsigned i = 0; i < HTTPREQ_FIELDS_MAX + extra; i++)
            off += (size_t)snprintf(buf + off, cap - off, "a:\r\n");
        off += (size_t)snprintf(buf + off, cap - off, "\r\n");
        assert_int_equal(httpreq_parse((uint8_t *)buf, off, &r),
                         extra == 0 ? HTTPREQ_OK : HTTPREQ_HEAD_TOO_LARGE);
    }
    free(buf);
}

static void test_bytes_after_head_ignored(void **state)
{
    (void)state;
    httpreq r;
    /* A pipelined second request or a body is not part of the head. */
    const char *req = "GET /healthz HTTP/1.0\r\n\r\nGET /metrics HTTP/1.0\r\n\r\n";
    assert_int_equal(parse(req, &r), HTTPREQ_OK);
    assert_true(httpreq_path_is(&r, "/healthz"));
    assert_int_equal(r.head_len, strlen("GET /healthz HTTP/1.0\r\n\r\n"));
    /* NUL bytes in the head are not text. */
    static const uint8_t nul[] = "GET / HTTP/1.0\r\nA: \0b\r\n\r\n";
    assert_int_equal(httpreq_parse(nul, sizeof nul - 1, &r), HTTPREQ_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubelet_probe),
        cmocka_unit_test(test_methods_and_query),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_head_end_incremental),
        cmocka_unit_test(test_request_line_errors),
        cmocka_unit_test(test_field_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bytes_after_head_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
