/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for src/cli/doctor_parse.c: the node files `sgx-quote
 * doctor` reads (/etc/group, mountinfo and /proc/mounts, /proc/net/unix,
 * comm, /proc/1/cgroup, the QCNL config, dpkg's status file, library file
 * names) and what it
 * prints. Every parser sees the same input, and the header's contracts are
 * checked as well as memory safety: results are NUL-terminated within their
 * fields, outputs are empty on failure, answers are consistent with the
 * input (a found group has the asked name or gid, a cgroup mark occurs in
 * the text, a version points into the name it came from), version_cmp is
 * antisymmetric and a sanitized message is printable UTF-8.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/doctor_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond))                                                                              \
            abort();                                                                              \
    } while (0)

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

static void fuzz_group(const char *text, size_t len)
{
    doctor_group g, by_gid;
    int rc = doctor_group_find(text, len, "sgx_prv", -1, &g);
    if (rc != DOCTOR_PARSE_OK) {
        CHECK(all_zero(&g, sizeof(g)));
        rc = doctor_group_find(text, len, NULL, 0, &by_gid);
        CHECK(rc != DOCTOR_PARSE_OK || by_gid.gid == 0);
        return;
    }
    CHECK(strcmp(g.name, "sgx_prv") == 0);
    CHECK(terminated(g.members, sizeof(g.members)) && strchr(g.members, ':') == NULL);
    /* Looking its gid up finds a line (maybe an earlier one) with that gid. */
    CHECK(doctor_group_find(text, len, NULL, g.gid, &by_gid) == DOCTOR_PARSE_OK);
    CHECK(by_gid.gid == g.gid && terminated(by_gid.name, sizeof(by_gid.name)));
}

static void fuzz_mounts(const char *text, size_t len, doctor_mounts_format fmt)
{
    doctor_dev_mount m;
    int rc = doctor_mounts_find_dev(text, len, fmt, &m);
    if (rc != DOCTOR_PARSE_OK) {
        CHECK(all_zero(&m, sizeof(m)));
        return;
    }
    CHECK(strcmp(m.mount_point, "/") == 0 || strcmp(m.mount_point, "/dev") == 0);
    CHECK(terminated(m.options, sizeof(m.options)) && strchr(m.options, ' ') == NULL);
    CHECK(m.options[0] != '\0');
}

static void fuzz_net_unix(const char *text, size_t len)
{
    static const char *const PATHS[] = {"/var/run/aesmd/aesm.socket", "/s", ""};
    for (size_t i = 0; i < sizeof(PATHS) / sizeof(PATHS[0]); i++) {
        unsigned long inode = 1;
        int rc = doctor_net_unix_find_listener(text, len, PATHS[i], &inode);
        CHECK(rc == DOCTOR_PARSE_OK || inode == 0);
        CHECK(rc != DOCTOR_PARSE_OK || PATHS[i][0] != '\0');
    }
}

static void fuzz_comm(const char *text, size_t len)
{
    char out[DOCTOR_COMM_SIZE];
    size_t n = len < DOCTOR_COMM_TEXT_MAX ? len : DOCTOR_COMM_TEXT_MAX;
    CHECK(doctor_comm_parse(text, n, out) == DOCTOR_PARSE_OK);
    CHECK(terminated(out, sizeof(out)) && strchr(out, '\n') == NULL);
    /* the name is a prefix of the input */
    CHECK(strlen(out) <= n && memcmp(out, text, strlen(out)) == 0);
}

static void fuzz_cgroup(const char *text, size_t len)
{
    const char *mark;
    int rc = doctor_cgroup_container_mark(text, len, &mark);
    size_t eff = len;
    const char *nul = len > 0 ? memchr(text, '\0', len) : NULL;
    if (nul != NULL)
        eff = (size_t)(nul - text);
    if (rc != DOCTOR_PARSE_OK) {
        CHECK(mark == NULL);
        return;
    }
    CHECK(mark != NULL && eff > 0 && memmem(text, eff, mark, strlen(mark)) != NULL);
}

static void fuzz_qcnl(const char *text, size_t len)
{
    doctor_qcnl q;
    char host[256];
    int rc = doctor_qcnl_parse(text, len, &q);
    if (rc != DOCTOR_PARSE_OK) {
        CHECK(all_zero(&q, sizeof(q)));
        return;
    }
    CHECK(q.format == DOCTOR_QCNL_JSON || q.format == DOCTOR_QCNL_KEY_VALUE);
    CHECK(terminated(q.url, sizeof(q.url)));
    CHECK(q.have_url || q.url[0] == '\0');
    doctor_url_host(q.url, host, sizeof(host));
    CHECK(terminated(host, sizeof(host)) && strlen(host) <= strlen(q.url));
    (void)doctor_host_is_loopback(host);
}

/* str: the input as a C string (up to its first NUL). The first line is a
 * directory entry name, the second a symlink target. */
static void fuzz_lib_names(char *str)
{
    const char *version;
    char *nl = strchr(str, '\n');
    const char *target = NULL;
    int rc;

    if (nl != NULL) {
        *nl = '\0';
        target = nl + 1;
    }
    rc = doctor_lib_version(str, "libsgx_qe3_logic", target, &version);
    if (rc == DOCTOR_PARSE_OK) {
        uintptr_t v = (uintptr_t)version, f = (uintptr_t)str, t = (uintptr_t)target;
        bool in_file = v >= f && v <= f + strlen(str);
        bool in_target = target != NULL && v >= t && v <= t + strlen(target);
        CHECK(in_file || in_target || version[0] == '\0');
        CHECK(doctor_version_cmp(version, version) == 0);
    } else {
        CHECK(version == NULL);
    }
    if (target != NULL)
        CHECK(sign(doctor_version_cmp(str, target)) == -sign(doctor_version_cmp(target, str)));
    if (nl != NULL)
        *nl = '\n';
}

static void fuzz_sanitize(char *str)
{
    size_t n = strlen(str);
    json_t *js;
    doctor_display_sanitize(str);
    CHECK(strlen(str) == n);
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)str[i] >= 0x20 && (unsigned char)str[i] != 0x7f);
    js = json_string(str); /* NULL if not valid UTF-8 */
    CHECK(js != NULL);
    json_decref(js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char *str = malloc(size + 1);

    if (str == NULL)
        return 0;
    fuzz_group(text, size);
    fuzz_mounts(text, size, DOCTOR_MOUNTS_MOUNTINFO);
    fuzz_mounts(text, size, DOCTOR_MOUNTS_PROC_MOUNTS);
    fuzz_net_unix(text, size);
    fuzz_comm(text, size);
    fuzz_cgroup(text, size);
    fuzz_qcnl(text, size);
    {
        char ver[64];
        int rc = doctor_dpkg_version(text, size, "libsgx-qe3-logic", ver, sizeof(ver));
        CHECK(rc == DOCTOR_PARSE_OK ? ver[0] != '\0' : ver[0] == '\0');
        CHECK(strlen(ver) < sizeof(ver));
    }

    if (size > 0)
        memcpy(str, data, size);
    str[size] = '\0';
    fuzz_lib_names(str);
    fuzz_sanitize(str);
    free(str);
    return 0;
}
