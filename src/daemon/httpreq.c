/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP bytes (http.c's reader) → [httpreq] → method, path and version for
 * the endpoint's router. One pass over at most HTTPREQ_HEAD_MAX bytes
 * through a line cursor that never reads past the end it was given; every
 * rule cites RFC 9112 ("HTTP/1.1"). Lenient only where the RFC asks a
 * server to be (leading empty lines, bare LF line ends, HTTP/1.x minors
 * above 1); strict where leniency lets requests be smuggled (whitespace
 * before a field's colon, folded lines, bad Content-Length, stray CR).
 */
#include "daemon/httpreq.h"

#include <string.h>

/* A line of the head: [at, at+len) without its LF or the CR before it. */
typedef struct {
    const uint8_t *buf;
    size_t len;
    size_t pos;
} line_cursor;

/* The next line, or false at the end. A CR is allowed only right before
 * the LF (RFC 9112 section 2.2: a bare CR is invalid). -1 in *bad then. */
static bool next_line(line_cursor *c, const uint8_t **at, size_t *len, bool *bad)
{
    if (c->pos >= c->len)
        return false;
    const uint8_t *start = c->buf + c->pos;
    const uint8_t *nl = memchr(start, '\n', c->len - c->pos);
    if (nl == NULL)
        return false;
    size_t n = (size_t)(nl - start);
    c->pos += n + 1;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    if (memchr(start, '\r', n) != NULL)
        *bad = true;
    *at = start;
    *len = n;
    return true;
}

/* tchar (RFC 9110 section 5.6.2). */
static bool is_tchar(uint8_t ch)
{
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
        return true;
    return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool token_is(const uint8_t *p, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

static bool token_is_nocase(const uint8_t *p, size_t n, const char *lit)
{
    if (n != strlen(lit))
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t a = p[i], b = (uint8_t)lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

size_t httpreq_head_end(const uint8_t *buf, size_t len, size_t from)
{
    /* The end is "\n\n" or "\n\r\n": start 2 bytes back so a terminator
     * split across two reads is still found. */
    size_t i = from > 2 ? from - 2 : 0;
    for (; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3). */
static httpreq_status parse_version(const uint8_t *p, size_t n, unsigned *minor)
{
    if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
        p[7] < '0' || p[7] > '9')
        return HTTPREQ_BAD_REQUEST;
    if (p[5] != '1')
        return HTTPREQ_BAD_VERSION;
    /* A higher 1.x minor is answered as 1.1 (RFC 9110 section 2.5). */
    *minor = p[7] == '0' ? 0u : 1u;
    return HTTPREQ_OK;
}

/* method SP request-target SP HTTP-version (RFC 9112 section 3). */
static httpreq_status parse_request_line(const uint8_t *p, size_t n, httpreq *r)
{
    const uint8_t *sp1 = memchr(p, ' ', n);
    if (sp1 == NULL || sp1 == p)
        return HTTPREQ_BAD_REQUEST;
    size_t mlen = (size_t)(sp1 - p);
    for (size_t i = 0; i < mlen; i++)
        if (!is_tchar(p[i]))
            return HTTPREQ_BAD_REQUEST;
    const uint8_t *target = sp1 + 1;
    size_t rest = n - mlen - 1;
    const uint8_t *sp2 = memchr(target, ' ', rest);
    if (sp2 == NULL || sp2 == target)
        return HTTPREQ_BAD_REQUEST;
    size_t tlen = (size_t)(sp2 - target);
    for (size_t i = 0; i < tlen; i++)
        if (target[i] <= 0x20 || target[i] >= 0x7f)
            return HTTPREQ_BAD_REQUEST;
    httpreq_status st = parse_version(sp2 + 1, rest - tlen - 1, &r->minor);
    if (st != HTTPREQ_OK)
        return st;
    if (tlen > HTTPREQ_TARGET_MAX)
        return HTTPREQ_URI_TOO_LONG;
    r->method = token_is(p, mlen, "GET")    ? HTTPREQ_METHOD_GET
                : token_is(p, mlen, "HEAD") ? HTTPREQ_METHOD_HEAD
                                            : HTTPREQ_METHOD_OTHER;
    /* absolute-form (section 3.2.2): the path starts after the authority. */
    const uint8_t *path = target;
    size_t plen = tlen;
    static const char *const schemes[] = {"http://", "https://"};
    for (size_t s = 0; s < 2; s++) {
        size_t sl = strlen(schemes[s]);
        if (plen >= sl && token_is_nocase(path, sl, schemes[s])) {
            const uint8_t *slash = memchr(path + sl, '/', plen - sl);
            plen = slash != NULL ? plen - (size_t)(slash - path) : 0;
            path = slash != NULL ? slash : path + tlen;
            break;
        }
    }
    const uint8_t *q = memchr(path, '?', plen);
    if (q != NULL)
        plen = (size_t)(q - path);
    const uint8_t *frag = memchr(path, '#', plen);
    if (frag != NULL)
        plen = (size_t)(frag - path);
    r->path = (const char *)path;
    r->path_len = plen;
    return HTTPREQ_OK;
}

/* Content-Length: 1*DIGIT (RFC 9112 section 6.3: anything else is an
 * unrecoverable framing error, so 400). */
static bool parse_content_length(const uint8_t *v, size_t n, bool *nonzero)
{
    if (n == 0 || n > 19)
        return false;
    *nonzero = false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        if (v[i] != '0')
            *nonzero = true;
    }
    return true;
}

/* field-name ":" OWS field-value OWS (RFC 9112 section 5). */
static httpreq_status parse_field(const uint8_t *p, size_t n, httpreq *r, bool *seen_length)
{
    const uint8_t *colon = memchr(p, ':', n);
    if (colon == NULL || colon == p)
        return HTTPREQ_BAD_REQUEST;
    size_t nlen = (size_t)(colon - p);
    for (size_t i = 0; i < nlen; i++)
        if (!is_tchar(p[i]))
            return HTTPREQ_BAD_REQUEST; /* also whitespace before ':' (section 5.1) */
    const uint8_t *v = colon + 1;
    size_t vlen = n - nlen - 1;
    while (vlen > 0 && (v[0] == ' ' || v[0] == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    for (size_t i = 0; i < vlen; i++)
        if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
            return HTTPREQ_BAD_REQUEST;
    if (token_is_nocase(p, nlen, "host")) {
        if (r->has_host)
            return HTTPREQ_BAD_REQUEST; /* two Hosts (section 3.2) */
        r->has_host = true;
    } else if (token_is_nocase(p, nlen, "content-length")) {
        bool nonzero = false;
        if (*seen_length || !parse_content_length(v, vlen, &nonzero))
            return HTTPREQ_BAD_REQUEST;
        *seen_length = true;
        r->has_body = r->has_body || nonzero;
    } else if (token_is_nocase(p, nlen, "transfer-encoding")) {
        r->has_body = true;
    }
    return HTTPREQ_OK;
}

httpreq_status httpreq_parse(const uint8_t *buf, size_t len, httpreq *out)
{
    httpreq r;
    memset(&r, 0, sizeof r);
    memset(out, 0, sizeof *out);
    size_t scan = len < HTTPREQ_HEAD_MAX ? len : HTTPREQ_HEAD_MAX;
    size_t end = httpreq_head_end(buf, scan, 0);
    if (end == 0)
        return len >= HTTPREQ_HEAD_MAX ? HTTPREQ_HEAD_TOO_LARGE : HTTPREQ_INCOMPLETE;
    line_cursor c = {.buf = buf, .len = end, .pos = 0};
    const uint8_t *line = NULL;
    size_t n = 0;
    bool bad = false;
    /* Empty lines before the request line are ignored (section 2.2). */
    do {
        if (!next_line(&c, &line, &n, &bad) || bad)
            return HTTPREQ_BAD_REQUEST;
    } while (n == 0 && c.pos < end);
    if (n == 0)
        return HTTPREQ_BAD_REQUEST; /* only empty lines */
    httpreq_status st = parse_request_line(line, n, &r);
    if (st != HTTPREQ_OK)
        return st;
    bool seen_length = false;
    unsigned fields = 0;
    while (next_line(&c, &line, &n, &bad)) {
        if (bad)
            return HTTPREQ_BAD_REQUEST;
        if (n == 0)
            break; /* the empty line that ends the head */
        if (line[0] == ' ' || line[0] == '\t')
            return HTTPREQ_BAD_REQUEST; /* obs-fold (section 5.2) */
        if (++fields > HTTPREQ_FIELDS_MAX)
            return HTTPREQ_HEAD_TOO_LARGE;
        st = parse_field(line, n, &r, &seen_length);
        if (st != HTTPREQ_OK)
            return st;
    }
    if (r.minor >= 1 && !r.has_host)
        return HTTPREQ_BAD_REQUEST; /* section 3.2: an HTTP/1.1 request without Host */
    r.head_len = end;
    *out = r;
    return HTTPREQ_OK;
}

unsigned httpreq_status_code(httpreq_status st)
{
    switch (st) {
    case HTTPREQ_OK:
        return 200;
    case HTTPREQ_HEAD_TOO_LARGE:
        return 431;
    case HTTPREQ_URI_TOO_LONG:
        return 414;
    case HTTPREQ_BAD_VERSION:
        return 505;
    case HTTPREQ_INCOMPLETE:
    case HTTPREQ_BAD_REQUEST:
        break;
    }
    return 400;
}

const char *httpreq_status_name(httpreq_status st)
{
    switch (st) {
    case HTTPREQ_OK:
        return "OK";
    case HTTPREQ_HEAD_TOO_LARGE:
        return "Request Header Fields Too Large";
    case HTTPREQ_URI_TOO_LONG:
        return "URI Too Long";
    case HTTPREQ_BAD_VERSION:
        return "HTTP Version Not Supported";
    case HTTPREQ_INCOMPLETE:
    case HTTPREQ_BAD_REQUEST:
        break;
    }
    return "Bad Request";
}

bool httpreq_path_is(const httpreq *r, const char *literal)
{
    return r->path != NULL && token_is((const uint8_t *)r->path, r->path_len, literal);
}
