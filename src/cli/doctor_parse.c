/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The text parsers behind `sgx-quote doctor`: node file bytes in (read by
 * cmd_doctor.c), typed facts out (doctor_parse.h), no I/O. The files are
 * untrusted, so the bytes are walked line by line with the bounded reader
 * (src/sgx/reader.h) and every field after that is a (pointer, length) span
 * inside the line; nothing here relies on a NUL it did not write itself,
 * except the C-string inputs the header names as such.
 */
#include "doctor_parse.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "sgx/reader.h"

typedef struct {
    const char *p;
    size_t n;
} span;

const char *doctor_parse_strerror(int err)
{
    switch (err) {
    case DOCTOR_PARSE_OK: return "ok";
    case DOCTOR_PARSE_E_INVALID_ARG: return "invalid argument";
    case DOCTOR_PARSE_E_TOO_LARGE: return "text larger than this file may be";
    case DOCTOR_PARSE_E_NOT_FOUND: return "no matching entry";
    case DOCTOR_PARSE_E_FORMAT: return "neither a JSON object nor KEY=VALUE settings";
    case DOCTOR_PARSE_E_NOMEM: return "out of memory";
    default: return "unknown doctor parse error";
    }
}

/* ---- text, lines, fields ---- */

/* A reader over text up to len or its first NUL (header: input convention). */
static int text_open(const char *text, size_t len, size_t max, reader *r)
{
    const char *nul;

    if (text == NULL && len > 0)
        return DOCTOR_PARSE_E_INVALID_ARG;
    if (len > max)
        return DOCTOR_PARSE_E_TOO_LARGE;
    nul = len > 0 ? memchr(text, '\0', len) : NULL;
    if (nul != NULL)
        len = (size_t)(nul - text);
    return reader_init(r, text, len) == READER_OK ? DOCTOR_PARSE_OK : DOCTOR_PARSE_E_INVALID_ARG;
}

/* The next non-empty line, without its '\n'; false when none is left. */
static bool next_line(reader *r, span *line)
{
    while (reader_remaining(r) > 0) {
        size_t n;
        const uint8_t *p;
        if (reader_find(r, "\n", 1, &n) != READER_OK)
            n = reader_remaining(r);
        if (reader_bytes(r, n, &p) != READER_OK)
            return false;
        (void)reader_skip(r, 1); /* the '\n'; absent after an unterminated last line */
        if (n > 0) {
            line->p = (const char *)p;
            line->n = n;
            return true;
        }
    }
    return false;
}

static bool is_space_char(char c)
{
    return c == ' ';
}

static bool is_comma(char c)
{
    return c == ',';
}

static bool is_white(char c)
{
    return isspace((unsigned char)c) != 0;
}

/* The next token of *rest between runs of delimiters (strtok's rule: no
 * empty tokens); advances *rest past it. */
static bool next_token(span *rest, bool (*is_delim)(char), span *tok)
{
    size_t i = 0, start;

    while (i < rest->n && is_delim(rest->p[i]))
        i++;
    if (i == rest->n) {
        rest->p += i;
        rest->n = 0;
        return false;
    }
    start = i;
    while (i < rest->n && !is_delim(rest->p[i]))
        i++;
    tok->p = rest->p + start;
    tok->n = i - start;
    rest->p += i;
    rest->n -= i;
    return true;
}

static bool span_eq(span s, const char *str)
{
    size_t n = strlen(str);
    return s.n == n && memcmp(s.p, str, n) == 0;
}

static bool span_eq_nocase(span s, const char *str)
{
    size_t n = strlen(str);
    return s.n == n && strncasecmp(s.p, str, n) == 0;
}

static span span_trim(span s)
{
    while (s.n > 0 && is_white(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_white(s.p[s.n - 1]))
        s.n--;
    return s;
}

/* Copies s into dst[cap] (cap >= 1), cut to fit, NUL-terminated. */
static void span_copy(char *dst, size_t cap, span s)
{
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    if (n > 0)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
}

/* atol() of a span: leading white space, a sign, then decimal digits up to
 * the first other byte; saturates at LONG_MIN/LONG_MAX as glibc's does. */
static long span_atol(span s)
{
    size_t i = 0;
    bool neg = false;
    long v = 0;

    while (i < s.n && is_white(s.p[i]))
        i++;
    if (i < s.n && (s.p[i] == '+' || s.p[i] == '-'))
        neg = s.p[i++] == '-';
    for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
        int d = s.p[i] - '0';
        if (!neg)
            v = v > (LONG_MAX - d) / 10 ? LONG_MAX : v * 10 + d;
        else
            v = v < (LONG_MIN + d) / 10 ? LONG_MIN : v * 10 - d;
    }
    return v;
}

/* All of s as an unsigned number in base 10 or 16; false on an empty span,
 * any other byte, or overflow. */
static bool span_to_ulong(span s, unsigned base, unsigned long *out)
{
    unsigned long v = 0;

    if (s.n == 0)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        if (v > (ULONG_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

/* ---- /etc/group ---- */

int doctor_group_find(const char *text, size_t len, const char *name, long gid,
                      doctor_group *out)
{
    reader r;
    span line;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (out == NULL)
        return DOCTOR_PARSE_E_INVALID_ARG;
    if ((rc = text_open(text, len, DOCTOR_GROUP_TEXT_MAX, &r)) != DOCTOR_PARSE_OK)
        return rc;
    while (next_line(&r, &line)) {
        /* name:password:gid:members; a field runs to the next ':' */
        span f[4];
        size_t nf = 0;
        span rest = line;
        while (nf < 4) {
            const char *colon = memchr(rest.p, ':', rest.n);
            size_t n = colon != NULL ? (size_t)(colon - rest.p) : rest.n;
            f[nf].p = rest.p;
            f[nf].n = n;
            nf++;
            if (colon == NULL)
                break;
            rest.p = colon + 1;
            rest.n -= n + 1;
        }
        if (nf < 3)
            continue;
        if (name != NULL ? span_eq(f[0], name) : span_atol(f[2]) == gid) {
            span_copy(out->name, sizeof(out->name), f[0]);
            out->gid = span_atol(f[2]);
            if (nf > 3)
                span_copy(out->members, sizeof(out->members), f[3]);
            return DOCTOR_PARSE_OK;
        }
    }
    return DOCTOR_PARSE_E_NOT_FOUND;
}

/* ---- mounts ---- */

static bool options_have(span opts, const char *want)
{
    span o;
    while (next_token(&opts, is_comma, &o))
        if (span_eq(o, want))
            return true;
    return false;
}

int doctor_mounts_find_dev(const char *text, size_t len, doctor_mounts_format fmt,
                           doctor_dev_mount *out)
{
    /* proc(5): mountinfo fields 5 and 6, mounts fields 2 and 4 (1-based). */
    const size_t mp_field = fmt == DOCTOR_MOUNTS_MOUNTINFO ? 4 : 1;
    const size_t opts_field = fmt == DOCTOR_MOUNTS_MOUNTINFO ? 5 : 3;
    span best_mp = {NULL, 0}, best_opts = {NULL, 0};
    reader r;
    span line;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (out == NULL || (fmt != DOCTOR_MOUNTS_MOUNTINFO && fmt != DOCTOR_MOUNTS_PROC_MOUNTS))
        return DOCTOR_PARSE_E_INVALID_ARG;
    if ((rc = text_open(text, len, DOCTOR_MOUNTS_TEXT_MAX, &r)) != DOCTOR_PARSE_OK)
        return rc;
    while (next_line(&r, &line)) {
        span f[6], rest = line;
        size_t nf = 0;
        while (nf < 6 && next_token(&rest, is_space_char, &f[nf]))
            nf++;
        if (nf <= opts_field)
            continue;
        /* Only "/" and "/dev" cover /dev (mount points are absolute and
         * listed without a trailing '/'); the longer one, or of two equal
         * ones the later one, is what /dev really is. */
        if ((span_eq(f[mp_field], "/") || span_eq(f[mp_field], "/dev")) &&
            f[mp_field].n >= best_mp.n) {
            best_mp = f[mp_field];
            best_opts = f[opts_field];
        }
    }
    if (best_mp.n == 0)
        return DOCTOR_PARSE_E_NOT_FOUND;
    span_copy(out->mount_point, sizeof(out->mount_point), best_mp);
    span_copy(out->options, sizeof(out->options), best_opts);
    out->noexec = options_have(best_opts, "noexec");
    return DOCTOR_PARSE_OK;
}

/* ---- /proc/net/unix ---- */

int doctor_net_unix_find_listener(const char *text, size_t len, const char *path,
                                  unsigned long *inode)
{
    reader r;
    span line;
    int rc;

    if (inode != NULL)
        *inode = 0;
    if (inode == NULL || path == NULL)
        return DOCTOR_PARSE_E_INVALID_ARG;
    if ((rc = text_open(text, len, DOCTOR_NET_UNIX_TEXT_MAX, &r)) != DOCTOR_PARSE_OK)
        return rc;
    while (next_line(&r, &line)) {
        /* Num RefCount Protocol Flags Type St Inode Path */
        span f[8], rest = line;
        size_t nf = 0;
        unsigned long flags, ino;
        while (nf < 8 && next_token(&rest, is_white, &f[nf]))
            nf++;
        if (nf < 8 || !span_eq(f[7], path) || !span_to_ulong(f[3], 16, &flags) ||
            !span_to_ulong(f[6], 10, &ino) || (flags & DOCTOR_UNIX_FLAG_ACCEPTCON) == 0)
            continue;
        *inode = ino;
        return DOCTOR_PARSE_OK;
    }
    return DOCTOR_PARSE_E_NOT_FOUND;
}

/* ---- /proc/<pid>/comm ---- */

int doctor_comm_parse(const char *text, size_t len, char out[DOCTOR_COMM_SIZE])
{
    reader r;
    span first = {NULL, 0};
    size_t n;
    const uint8_t *p;
    int rc;

    if (out != NULL)
        out[0] = '\0';
    if (out == NULL)
        return DOCTOR_PARSE_E_INVALID_ARG;
    if ((rc = text_open(text, len, DOCTOR_COMM_TEXT_MAX, &r)) != DOCTOR_PARSE_OK)
        return rc;
    /* Not next_line(): an empty first line means an empty name. */
    if (reader_find(&r, "\n", 1, &n) != READER_OK)
        n = reader_remaining(&r);
    if (reader_bytes(&r, n, &p) == READER_OK) {
        first.p = (const char *)p;
        first.n = n;
    }
    span_copy(out, DOCTOR_COMM_SIZE, first);
    return DOCTOR_PARSE_OK;
}

/* ---- /proc/1/cgroup ---- */

int doctor_cgroup_container_mark(const char *text, size_t len, const char **mark)
{
    static const char *const MARKS[] = {"kubepods", "docker", "containerd", "libpod", "lxc",
                                        "crio"};
    reader r;
    const uint8_t *all;
    size_t n;
    int rc;

    if (mark != NULL)
        *mark = NULL;
    if (mark == NULL)
        return DOCTOR_PARSE_E_INVALID_ARG;
    if ((rc = text_open(text, len, DOCTOR_CGROUP_TEXT_MAX, &r)) != DOCTOR_PARSE_OK)
        return rc;
    n = reader_remaining(&r);
    if (reader_bytes(&r, n, &all) != READER_OK)
        return DOCTOR_PARSE_E_INVALID_ARG;
    for (size_t i = 0; i < sizeof(MARKS) / sizeof(MARKS[0]); i++) {
        if (n > 0 && memmem(all, n, MARKS[i], strlen(MARKS[i])) != NULL) {
            *mark = MARKS[i];
            return DOCTOR_PARSE_OK;
        }
    }
    return DOCTOR_PARSE_E_NOT_FOUND;
}

/* ---- dpkg's package database (/var/lib/dpkg/status) ---- */

int doctor_dpkg_version(const char *text, size_t len, const char *package, char *version,
                        size_t cap)
{
    reader r;
    span ver = {NULL, 0};
    bool in_pkg = false, installed = false, found = false;
    int rc;

    if (version != NULL && cap > 0)
        version[0] = '\0';
    if (package == NULL || version == NULL || cap == 0)
        return DOCTOR_PARSE_E_INVALID_ARG;
    if ((rc = text_open(text, len, DOCTOR_DPKG_STATUS_TEXT_MAX, &r)) != DOCTOR_PARSE_OK)
        return rc;
    /* Stanzas of "Field: value" lines, separated by empty lines. */
    for (;;) {
        size_t n;
        const uint8_t *p;
        bool end = reader_remaining(&r) == 0;
        span line = {NULL, 0};
        if (!end) {
            if (reader_find(&r, "\n", 1, &n) != READER_OK)
                n = reader_remaining(&r);
            if (reader_bytes(&r, n, &p) != READER_OK)
                return DOCTOR_PARSE_E_INVALID_ARG;
            (void)reader_skip(&r, 1);
            line.p = (const char *)p;
            line.n = n;
        }
        if (end || span_trim(line).n == 0) {
            if (in_pkg && installed && ver.n > 0) {
                span_copy(version, cap, ver);
                found = true;
            }
            in_pkg = installed = false;
            ver.n = 0;
            if (end || found)
                break;
            continue;
        }
        if (line.n > 8 && memcmp(line.p, "Package:", 8) == 0) {
            span v = {line.p + 8, line.n - 8};
            in_pkg = span_eq(span_trim(v), package);
        } else if (line.n > 7 && memcmp(line.p, "Status:", 7) == 0) {
            span v = {line.p + 7, line.n - 7};
            installed = span_eq(span_trim(v), "install ok installed");
        } else if (line.n > 8 && memcmp(line.p, "Version:", 8) == 0) {
            span v = {line.p + 8, line.n - 8};
            ver = span_trim(v);
        }
    }
    return found ? DOCTOR_PARSE_OK : DOCTOR_PARSE_E_NOT_FOUND;
}

/* ---- library file names ---- */

/* Past "<base>.so" at the start of name, or NULL. */
static const char *after_so(const char *name, const char *base, size_t base_len)
{
    if (strncmp(name, base, base_len) != 0 || strncmp(name + base_len, ".so", 3) != 0)
        return NULL;
    return name + base_len + 3;
}

int doctor_lib_version(const char *file, const char *base, const char *link_target,
                       const char **version)
{
    size_t bl;
    const char *tail;

    if (version != NULL)
        *version = NULL;
    if (file == NULL || base == NULL || version == NULL)
        return DOCTOR_PARSE_E_INVALID_ARG;
    bl = strlen(base);
    tail = after_so(file, base, bl);
    if (tail == NULL || (*tail != '\0' && *tail != '.'))
        return DOCTOR_PARSE_E_NOT_FOUND;
    if (link_target != NULL) {
        /* libx.so.1 -> libx.so.1.21.100.3: the target names the release. */
        const char *tb = strrchr(link_target, '/');
        const char *tt = after_so(tb != NULL ? tb + 1 : link_target, base, bl);
        if (tt != NULL && *tt == '.')
            tail = tt;
    }
    *version = *tail == '.' ? tail + 1 : "";
    return DOCTOR_PARSE_OK;
}

int doctor_version_cmp(const char *a, const char *b)
{
    while (*a != '\0' || *b != '\0') {
        char *ea, *eb;
        long x = strtol(a, &ea, 10), y = strtol(b, &eb, 10);
        a = ea;
        b = eb;
        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
        if ((*a != '\0' && !isdigit((unsigned char)*a)) ||
            (*b != '\0' && !isdigit((unsigned char)*b)))
            return strcmp(a, b);
    }
    return 0;
}

/* ---- QCNL config ---- */

/* Drops // and block comments outside strings, in place: Intel's sample
 * QCNL config is JSON with comments. s is the NUL-terminated scratch copy. */
static void strip_json_comments(char *s)
{
    char *w = s;
    bool in_str = false;

    for (char *r = s; *r != '\0';) {
        if (in_str) {
            if (*r == '\\' && r[1] != '\0') {
                *w++ = *r++;
                *w++ = *r++;
                continue;
            }
            if (*r == '"')
                in_str = false;
            *w++ = *r++;
        } else if (r[0] == '/' && r[1] == '/') {
            while (*r != '\0' && *r != '\n')
                r++;
        } else if (r[0] == '/' && r[1] == '*') {
            r += 2;
            while (*r != '\0' && !(r[0] == '*' && r[1] == '/'))
                r++;
            if (*r != '\0')
                r += 2;
        } else {
            if (*r == '"')
                in_str = true;
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* Legacy "KEY=VALUE" lines (DCAP before 1.15). True when a line set one of
 * the two keys doctor uses. */
static bool qcnl_key_value(reader *r, doctor_qcnl *q)
{
    bool any = false;
    span line;

    while (next_line(r, &line)) {
        const char *eq = memchr(line.p, '=', line.n);
        span k, v;
        if (line.p[0] == '#' || eq == NULL)
            continue;
        k.p = line.p;
        k.n = (size_t)(eq - line.p);
        v.p = eq + 1;
        v.n = line.n - k.n - 1;
        k = span_trim(k);
        v = span_trim(v);
        if (span_eq_nocase(k, "PCCS_URL")) {
            span_copy(q->url, sizeof(q->url), v);
            q->have_url = true;
            any = true;
        } else if (span_eq_nocase(k, "USE_SECURE_CERT")) {
            q->secure = span_eq_nocase(v, "TRUE");
            any = true;
        }
    }
    return any;
}

int doctor_qcnl_parse(const char *text, size_t len, doctor_qcnl *out)
{
    doctor_qcnl q;
    reader r;
    char *scratch = NULL;
    json_t *root = NULL;
    json_error_t jerr;
    size_t n;
    const uint8_t *all;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (out == NULL)
        return DOCTOR_PARSE_E_INVALID_ARG;
    if ((rc = text_open(text, len, DOCTOR_QCNL_TEXT_MAX, &r)) != DOCTOR_PARSE_OK)
        return rc;
    memset(&q, 0, sizeof(q));
    q.secure = true;

    /* JSON first, from a NUL-terminated copy with the comments dropped. */
    {
        reader whole = r;
        n = reader_remaining(&whole);
        if (reader_bytes(&whole, n, &all) != READER_OK) {
            rc = DOCTOR_PARSE_E_INVALID_ARG;
            goto out;
        }
    }
    scratch = malloc(n + 1);
    if (scratch == NULL) {
        rc = DOCTOR_PARSE_E_NOMEM;
        goto out;
    }
    if (n > 0)
        memcpy(scratch, all, n);
    scratch[n] = '\0';
    strip_json_comments(scratch);
    root = json_loads(scratch, 0, &jerr);
    if (root != NULL && json_is_object(root)) {
        json_t *u = json_object_get(root, "pccs_url");
        json_t *s = json_object_get(root, "use_secure_cert");
        q.format = DOCTOR_QCNL_JSON;
        if (json_is_string(u)) {
            const char *url = json_string_value(u);
            span_copy(q.url, sizeof(q.url), (span){url, strlen(url)});
            q.have_url = true;
        }
        if (json_is_boolean(s))
            q.secure = json_is_true(s);
        rc = DOCTOR_PARSE_OK;
        goto out;
    }

    /* Not JSON: key=value lines of the original text. (Not of the copy:
     * comment stripping would cut every "https://" URL.) */
    q.format = DOCTOR_QCNL_KEY_VALUE;
    rc = qcnl_key_value(&r, &q) ? DOCTOR_PARSE_OK : DOCTOR_PARSE_E_FORMAT;

out:
    if (rc == DOCTOR_PARSE_OK)
        *out = q;
    json_decref(root);
    free(scratch);
    return rc;
}

const char *doctor_qcnl_format_name(doctor_qcnl_format f)
{
    switch (f) {
    case DOCTOR_QCNL_JSON: return "JSON";
    case DOCTOR_QCNL_KEY_VALUE: return "key=value";
    case DOCTOR_QCNL_NONE: break;
    }
    return "none";
}

/* ---- URLs ---- */

void doctor_url_host(const char *url, char *out, size_t cap)
{
    const char *h;
    size_t n = 0;

    if (cap == 0)
        return;
    if (url == NULL) {
        out[0] = '\0';
        return;
    }
    h = strstr(url, "://");
    h = h != NULL ? h + 3 : url;
    if (*h == '[') {
        const char *e = strchr(h, ']');
        n = e != NULL ? (size_t)(e - h + 1) : strlen(h);
    } else {
        while (h[n] != '\0' && h[n] != ':' && h[n] != '/')
            n++;
    }
    span_copy(out, cap, (span){h, n});
}

bool doctor_host_is_loopback(const char *host)
{
    return strcasecmp(host, "localhost") == 0 || strncasecmp(host, "localhost.", 10) == 0 ||
           strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0 ||
           strcmp(host, "::1") == 0 || strcmp(host, "0.0.0.0") == 0;
}

/* ---- display ---- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 §4: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    /* s is NUL-terminated and NUL is no continuation byte, so this stops
     * at the end of the string. */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

void doctor_display_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;

    if (s == NULL)
        return;
    while (*p != '\0') {
        size_t n = utf8_seq_len(p);
        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)) ||
            (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)) { /* C1: U+0080..U+009F */
            *p++ = '?';
            continue;
        }
        p += n;
    }
}
