/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Peer attribution for logs and rate-limit keys: connection → SO_PEERCRED pid
 * → /proc/PID/cgroup text → (pod UID, container id). The daemon calls
 * peer_read_cgroup() once per accepted connection; everything here is a pure
 * function of the text so the layouts are tested with real samples.
 * Lines are split with the bounded reader (src/sgx/reader.h); segments are
 * (pointer, length) slices of a line and are never NUL-terminated.
 */
#include "ops/peer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sgx/reader.h"

typedef struct {
    const char *p;
    size_t n;
} slice;

static bool slice_eq(slice s, const char *lit)
{
    size_t l = strlen(lit);
    return s.n == l && memcmp(s.p, lit, l) == 0;
}

static bool slice_has_prefix(slice s, const char *lit)
{
    size_t l = strlen(lit);
    return s.n >= l && memcmp(s.p, lit, l) == 0;
}

static bool slice_has_suffix(slice s, const char *lit)
{
    size_t l = strlen(lit);
    return s.n >= l && memcmp(s.p + s.n - l, lit, l) == 0;
}

static slice slice_mid(slice s, size_t off, size_t n)
{
    slice r = {s.p + off, n};
    return r;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char lower_hex(char c)
{
    return (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
}

/* 36 characters 8-4-4-4-12, separators '-' (cgroupfs) or '_' (systemd
 * escapes '-' in unit names); written out dashed and lowercase. */
static bool parse_uuid(slice s, char out[PEER_POD_UID_LEN + 1])
{
    if (s.n != PEER_POD_UID_LEN)
        return false;
    for (size_t i = 0; i < PEER_POD_UID_LEN; i++) {
        char c = s.p[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-' && c != '_')
                return false;
            out[i] = '-';
        } else {
            if (hex_value(c) < 0)
                return false;
            out[i] = lower_hex(c);
        }
    }
    out[PEER_POD_UID_LEN] = '\0';
    return true;
}

/* Container ids are written lowercase by every runtime; accept only that. */
static bool parse_container_id(slice s, char out[PEER_CONTAINER_ID_LEN + 1])
{
    if (s.n != PEER_CONTAINER_ID_LEN)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        out[i] = c;
    }
    out[PEER_CONTAINER_ID_LEN] = '\0';
    return true;
}

/* "pod<uuid>" (cgroupfs driver) or "...-pod<uuid_with_underscores>.slice"
 * under a kubepods slice (systemd driver, incl. kind's "kubelet-kubepods-"). */
static bool match_pod_segment(slice seg, char out[PEER_POD_UID_LEN + 1])
{
    if (slice_has_prefix(seg, "pod") && seg.n == 3 + PEER_POD_UID_LEN)
        return parse_uuid(slice_mid(seg, 3, PEER_POD_UID_LEN), out);
    const size_t tail = 3 + PEER_POD_UID_LEN + 6; /* "pod" uuid ".slice" */
    if (seg.n <= tail || !slice_has_suffix(seg, ".slice"))
        return false;
    if (!slice_has_prefix(seg, "kubepods-") && !slice_has_prefix(seg, "kubelet-kubepods-"))
        return false;
    slice pod = slice_mid(seg, seg.n - tail, 3);
    if (!slice_eq(pod, "pod") || seg.p[seg.n - tail - 1] != '-')
        return false;
    return parse_uuid(slice_mid(seg, seg.n - tail + 3, PEER_POD_UID_LEN), out);
}

/* "<prefix><id>.scope" (systemd) or "<prefix><id>" (cgroupfs). */
static bool match_prefixed_id(slice seg, const char *prefix, bool scope_ok, bool bare_ok,
                              char out[PEER_CONTAINER_ID_LEN + 1])
{
    size_t pl = strlen(prefix);
    if (!slice_has_prefix(seg, prefix))
        return false;
    slice rest = slice_mid(seg, pl, seg.n - pl);
    if (scope_ok && slice_has_suffix(rest, ".scope"))
        return parse_container_id(slice_mid(rest, 0, rest.n - 6), out);
    return bare_ok && parse_container_id(rest, out);
}

/* A container segment. Bare 64-hex ids only count right after a pod
 * segment (cgroupfs layout), as the root segment (a runtime that puts each
 * container at the top of the hierarchy), or after "docker" (plain Docker). */
static bool match_container_segment(slice seg, slice prev, bool bare_ok,
                                    char out[PEER_CONTAINER_ID_LEN + 1], peer_runtime *rt)
{
    if (match_prefixed_id(seg, "cri-containerd-", true, false, out)) {
        *rt = PEER_RUNTIME_CONTAINERD;
        return true;
    }
    if (match_prefixed_id(seg, "crio-", true, true, out)) {
        *rt = PEER_RUNTIME_CRIO;
        return true;
    }
    if (match_prefixed_id(seg, "docker-", true, false, out)) {
        *rt = PEER_RUNTIME_DOCKER;
        return true;
    }
    if (match_prefixed_id(seg, "libpod-", true, true, out)) {
        *rt = PEER_RUNTIME_PODMAN;
        return true;
    }
    if (bare_ok && parse_container_id(seg, out)) {
        *rt = PEER_RUNTIME_UNKNOWN; /* containerd or dockershim: the path does not say */
        return true;
    }
    if (slice_eq(prev, "docker") && parse_container_id(seg, out)) {
        *rt = PEER_RUNTIME_DOCKER;
        return true;
    }
    return false;
}

/* Only hierarchies that root (the kubelet, a runtime, systemd) manages may
 * name a pod or container: a delegated subtree such as user.slice could
 * otherwise create "kubepods-pod<someone else's uid>.slice" and be logged as
 * that pod. Leading ".." segments (a path relative to our cgroup namespace
 * root) are skipped before this check. */
static bool trusted_root_segment(slice seg)
{
    char scratch[PEER_CONTAINER_ID_LEN + 1];
    char uid[PEER_POD_UID_LEN + 1];
    peer_runtime rt;
    slice none = {"", 0};
    return slice_has_prefix(seg, "kubepods") || slice_has_prefix(seg, "kubelet") ||
           slice_eq(seg, "besteffort") || slice_eq(seg, "burstable") ||
           match_pod_segment(seg, uid) || slice_eq(seg, "docker") ||
           slice_eq(seg, "system.slice") || slice_eq(seg, "machine.slice") ||
           slice_eq(seg, "libpod_parent") ||
           match_container_segment(seg, none, true, scratch, &rt);
}

/* One cgroup path: fills what it finds into *id. */
static void parse_path(slice path, peer_identity *id)
{
    bool seen_root = false, prev_is_pod = false, have_pod = false, have_ctr = false;
    slice prev = {"", 0};
    size_t i = 0;
    while (i <= path.n && !have_ctr) {
        const char *slash = memchr(path.p + i, '/', path.n - i);
        size_t end = slash != NULL ? (size_t)(slash - path.p) : path.n;
        slice seg = slice_mid(path, i, end - i);
        i = end + 1;
        if (seg.n == 0 || (!seen_root && slice_eq(seg, "..")))
            continue;
        bool is_root = !seen_root;
        if (is_root) {
            if (!trusted_root_segment(seg))
                return;
            seen_root = true;
        }
        /* Matchers write partial output on failure: parse into scratch. */
        char uid[PEER_POD_UID_LEN + 1], cid[PEER_CONTAINER_ID_LEN + 1];
        peer_runtime rt = PEER_RUNTIME_UNKNOWN;
        bool is_pod = false;
        if (!have_pod && match_pod_segment(seg, uid)) {
            memcpy(id->pod_uid, uid, sizeof uid);
            have_pod = is_pod = true;
        } else if (match_container_segment(seg, prev, prev_is_pod || is_root, cid, &rt)) {
            memcpy(id->container_id, cid, sizeof cid);
            id->runtime = rt;
            have_ctr = true;
        }
        prev = seg;
        prev_is_pod = is_pod;
    }
}

int peer_parse_cgroup(const char *text, size_t len, peer_identity *out)
{
    if (out == NULL)
        return PEER_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (text == NULL && len > 0)
        return PEER_E_INVALID_ARG;
    if (len > PEER_CGROUP_TEXT_MAX)
        return PEER_E_TOO_LARGE;

    reader r;
    if (reader_init(&r, text, len) != READER_OK)
        return PEER_E_INVALID_ARG;
    peer_identity partial = {0};
    bool have_partial = false;
    while (reader_remaining(&r) > 0) {
        size_t line_len;
        if (reader_find(&r, "\n", 1, &line_len) != READER_OK)
            line_len = reader_remaining(&r);
        const uint8_t *raw;
        if (reader_bytes(&r, line_len, &raw) != READER_OK)
            break;
        (void)reader_skip(&r, 1); /* the '\n', absent on a last unterminated line */

        /* "hierarchy-id:controllers:path"; the path may itself contain ':'. */
        slice line = {(const char *)raw, line_len};
        const char *c1 = memchr(line.p, ':', line.n);
        if (c1 == NULL)
            continue;
        const char *c2 = memchr(c1 + 1, ':', line.n - (size_t)(c1 + 1 - line.p));
        if (c2 == NULL)
            continue;
        slice path = {c2 + 1, line.n - (size_t)(c2 + 1 - line.p)};
        if (path.n == 0 || path.p[0] != '/')
            continue;

        peer_identity cand = {0};
        parse_path(path, &cand);
        bool pod = cand.pod_uid[0] != '\0', ctr = cand.container_id[0] != '\0';
        if (pod && ctr) {
            *out = cand;
            return PEER_OK;
        }
        if ((pod || ctr) && !have_partial) {
            partial = cand;
            have_partial = true;
        }
    }
    if (!have_partial)
        return PEER_E_NOT_FOUND;
    *out = partial;
    return PEER_OK;
}

int peer_read_cgroup(const char *proc_root, pid_t pid, peer_identity *out)
{
    if (out == NULL)
        return PEER_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (pid <= 0)
        return PEER_E_INVALID_ARG;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%ld/cgroup", proc_root != NULL ? proc_root : "/proc",
                     (long)pid);
    if (n < 0 || (size_t)n >= sizeof path)
        return PEER_E_INVALID_ARG;

    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return PEER_E_IO;
    /* procfs files report size 0: read until EOF into a bounded buffer. One
     * byte of slack tells "exactly the maximum" from "too large". */
    static const size_t cap = 8192;
    char buf[8192 + 1];
    size_t used = 0;
    int rc = PEER_OK;
    for (;;) {
        ssize_t got = read(fd, buf + used, cap + 1 - used);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = PEER_E_IO;
            goto out;
        }
        if (got == 0)
            break;
        used += (size_t)got;
        if (used > cap) {
            rc = PEER_E_TOO_LARGE;
            goto out;
        }
    }
    rc = peer_parse_cgroup(buf, used, out);
out:
    close(fd);
    return rc;
}

const char *peer_strerror(int err)
{
    switch (err) {
    case PEER_OK: return "ok";
    case PEER_E_NOT_FOUND: return "no pod or container in the cgroup path";
    case PEER_E_INVALID_ARG: return "invalid argument";
    case PEER_E_TOO_LARGE: return "cgroup text too large";
    case PEER_E_IO: return "cannot read /proc/<pid>/cgroup (process gone or not visible)";
    default: return "unknown peer error";
    }
}

const char *peer_runtime_name(peer_runtime rt)
{
    switch (rt) {
    case PEER_RUNTIME_CONTAINERD: return "containerd";
    case PEER_RUNTIME_CRIO: return "cri-o";
    case PEER_RUNTIME_DOCKER: return "docker";
    case PEER_RUNTIME_PODMAN: return "podman";
    case PEER_RUNTIME_UNKNOWN: break;
    }
    return "unknown";
}

/* A process never changes its own PID namespace (setns/unshare of
 * CLONE_NEWPID only affect its children), so ours is looked up once. */
static pthread_once_t own_ns_once = PTHREAD_ONCE_INIT;
static struct stat own_ns;
static bool own_ns_ok;

static void own_ns_init(void)
{
    own_ns_ok = stat("/proc/self/ns/pid", &own_ns) == 0;
}

/* <asm-generic/socket.h> since Linux 5.14; older headers lack it, while
 * the running kernel may well have it. */
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int peer_netns_cookie(int fd, unsigned long long *cookie)
{
    uint64_t v = 0;
    socklen_t len = sizeof v;
    if (cookie == NULL || fd < 0)
        return PEER_E_INVALID_ARG;
    if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &v, &len) != 0 || len != sizeof v)
        return PEER_E_IO;
    *cookie = (unsigned long long)v;
    return PEER_OK;
}

bool peer_in_own_pid_namespace(pid_t pid)
{
    char path[64];
    struct stat theirs;
    if (pid <= 0)
        return false;
    (void)pthread_once(&own_ns_once, own_ns_init);
    if (!own_ns_ok)
        return false;
    snprintf(path, sizeof path, "/proc/%ld/ns/pid", (long)pid);
    if (stat(path, &theirs) != 0)
        return false;
    return theirs.st_dev == own_ns.st_dev && theirs.st_ino == own_ns.st_ino;
}

int peer_parse_start_time(const char *text, size_t len, unsigned long long *start)
{
    if (start == NULL || (text == NULL && len > 0))
        return PEER_E_INVALID_ARG;
    *start = 0;
    /* "pid (comm) state ppid ...": the last ')' ends the command name. */
    size_t i = len;
    while (i > 0 && text[i - 1] != ')')
        i--;
    if (i == 0)
        return PEER_E_INVALID_ARG;
    /* Fields 3.. follow, each preceded by one space; field 22 is the 20th. */
    unsigned field = 2;
    while (i < len && field < 22) {
        if (text[i] == ' ')
            field++;
        i++;
    }
    if (field != 22 || i >= len)
        return PEER_E_INVALID_ARG;
    unsigned long long v = 0;
    size_t digits = 0;
    for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, digits++) {
        unsigned d = (unsigned)(text[i] - '0');
        if (v > (ULLONG_MAX - d) / 10u)
            return PEER_E_INVALID_ARG;
        v = v * 10u + d;
    }
    if (digits == 0 || (i < len && text[i] != ' ' && text[i] != '\n'))
        return PEER_E_INVALID_ARG;
    *start = v;
    return PEER_OK;
}

int peer_read_start_time(pid_t pid, unsigned long long *start)
{
    if (start == NULL || pid <= 0)
        return PEER_E_INVALID_ARG;
    *start = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return PEER_E_IO;
    /* One line of a few hundred bytes; procfs hands it out in one read. */
    char buf[1024];
    ssize_t got;
    do {
        got = read(fd, buf, sizeof buf);
    } while (got < 0 && errno == EINTR);
    close(fd);
    if (got <= 0)
        return PEER_E_IO;
    return peer_parse_start_time(buf, (size_t)got, start);
}
