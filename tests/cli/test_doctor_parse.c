/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/cli/doctor_parse.c, the parsers behind `sgx-quote
 * doctor`. Each parser gets a real-looking sample (as the kernel, Debian's
 * /etc/group, Intel's sample QCNL config or an SGX library directory would
 * show it) with the answer written down from reading the sample, then
 * malformed input: truncated lines, huge fields, embedded NULs, no trailing
 * newline, over-long input and bad arguments.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli/doctor_parse.h"

/* A string literal as (text, len), embedded NULs included. */
#define LIT(s) (s), (sizeof(s) - 1)

/* A buffer of n bytes of c (not NUL-terminated: the parsers take a length). */
static char *filled(size_t n, char c)
{
    char *p = malloc(n > 0 ? n : 1);
    assert_non_null(p);
    memset(p, c, n);
    return p;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

/* ---- errors ---- */

static void test_strerror_names_every_code(void **state)
{
    static const int CODES[] = {DOCTOR_PARSE_OK, DOCTOR_PARSE_E_INVALID_ARG,
                                DOCTOR_PARSE_E_TOO_LARGE, DOCTOR_PARSE_E_NOT_FOUND,
                                DOCTOR_PARSE_E_FORMAT, DOCTOR_PARSE_E_NOMEM};
    const char *unknown = doctor_parse_strerror(-99);
    (void)state;
    for (size_t i = 0; i < sizeof(CODES) / sizeof(CODES[0]); i++) {
        const char *s = doctor_parse_strerror(CODES[i]);
        assert_non_null(s);
        assert_true(s[0] != '\0');
        assert_string_not_equal(s, unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, doctor_parse_strerror(CODES[j]));
    }
}

/* ---- /etc/group ---- */

/* A Debian host with Intel's packages: sgx and sgx_prv made by the udev
 * rules' postinst, aesmd in sgx_prv. */
static const char GROUP_SAMPLE[] = "root:x:0:\n"
                                   "daemon:x:1:\n"
                                   "sudo:x:27:alice\n"
                                   "sgx:x:998:\n"
                                   "sgx_prv:x:997:aesmd,alice\n"
                                   "alice:x:1000:\n";

static void test_group_by_name_and_by_gid(void **state)
{
    doctor_group g;
    (void)state;

    assert_int_equal(doctor_group_find(LIT(GROUP_SAMPLE), "sgx_prv", -1, &g), DOCTOR_PARSE_OK);
    assert_string_equal(g.name, "sgx_prv");
    assert_int_equal(g.gid, 997);
    assert_string_equal(g.members, "aesmd,alice");

    assert_int_equal(doctor_group_find(LIT(GROUP_SAMPLE), NULL, 998, &g), DOCTOR_PARSE_OK);
    assert_string_equal(g.name, "sgx");
    assert_int_equal(g.gid, 998);
    assert_string_equal(g.members, "");

    assert_int_equal(doctor_group_find(LIT(GROUP_SAMPLE), NULL, 0, &g), DOCTOR_PARSE_OK);
    assert_string_equal(g.name, "root");

    /* name is matched exactly, not as a prefix or case-insensitively */
    assert_int_equal(doctor_group_find(LIT(GROUP_SAMPLE), "sgx_pr", -1, &g),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(doctor_group_find(LIT(GROUP_SAMPLE), "SGX_PRV", -1, &g),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_true(all_zero(&g, sizeof(g)));
    assert_int_equal(doctor_group_find(LIT(GROUP_SAMPLE), NULL, 4242, &g),
                     DOCTOR_PARSE_E_NOT_FOUND);
}

static void test_group_malformed_lines(void **state)
{
    doctor_group g;
    (void)state;

    /* Fewer than three fields: skipped, even when the name matches. The
     * next line has three (an empty gid reads as 0). */
    assert_int_equal(doctor_group_find(LIT("sgx_prv:x\nsgx_prv::\n"), "sgx_prv", -1, &g),
                     DOCTOR_PARSE_OK);
    assert_int_equal(g.gid, 0);
    assert_string_equal(g.members, "");
    assert_int_equal(doctor_group_find(LIT("sgx_prv\nsgx_prv:x\n"), "sgx_prv", -1, &g),
                     DOCTOR_PARSE_E_NOT_FOUND);

    /* The members field ends at the next ':'. No trailing newline. */
    assert_int_equal(doctor_group_find(LIT("\n\n:::\nsgx_prv:x:12:a,b:junk:more"), "sgx_prv", -1,
                                       &g),
                     DOCTOR_PARSE_OK);
    assert_int_equal(g.gid, 12);
    assert_string_equal(g.members, "a,b");

    /* The gid field read as atol() reads it. */
    assert_int_equal(doctor_group_find(LIT("g:x:+0099junk:\n"), "g", -1, &g), DOCTOR_PARSE_OK);
    assert_int_equal(g.gid, 99);
    assert_int_equal(doctor_group_find(LIT("g:x: -5:\n"), "g", -1, &g), DOCTOR_PARSE_OK);
    assert_int_equal(g.gid, -5);
    assert_int_equal(doctor_group_find(LIT("g:x:99999999999999999999999:\n"), "g", -1, &g),
                     DOCTOR_PARSE_OK);
    assert_int_equal(g.gid, LONG_MAX);
    assert_int_equal(doctor_group_find(LIT("g:x:-99999999999999999999999:\n"), "g", -1, &g),
                     DOCTOR_PARSE_OK);
    assert_int_equal(g.gid, LONG_MIN);
    assert_int_equal(doctor_group_find(LIT("g:x:12\n"), NULL, 12, &g), DOCTOR_PARSE_OK);
    assert_string_equal(g.name, "g");
}

static void test_group_huge_fields_are_cut(void **state)
{
    /* name (100 bytes) : x : 7 : members (1000 bytes) */
    size_t n = 100 + 5 + 1 + 1000;
    char *text = filled(n, 'm');
    doctor_group g;
    (void)state;

    memset(text, 'n', 100);
    memcpy(text + 100, ":x:7:", 5);
    assert_int_equal(doctor_group_find(text, n, NULL, 7, &g), DOCTOR_PARSE_OK);
    assert_int_equal(strlen(g.name), DOCTOR_GROUP_NAME_SIZE - 1);
    assert_int_equal(strspn(g.name, "n"), DOCTOR_GROUP_NAME_SIZE - 1);
    assert_int_equal(strlen(g.members), DOCTOR_GROUP_MEMBERS_SIZE - 1);
    assert_int_equal(strspn(g.members, "m"), DOCTOR_GROUP_MEMBERS_SIZE - 1);
    free(text);
}

static void test_group_nul_ends_the_text(void **state)
{
    doctor_group g;
    (void)state;
    assert_int_equal(doctor_group_find(LIT("root:x:0:\0\nsgx_prv:x:5:a\n"), "sgx_prv", -1, &g),
                     DOCTOR_PARSE_E_NOT_FOUND);
    /* a NUL inside the matching line cuts its members */
    assert_int_equal(doctor_group_find(LIT("sgx_prv:x:5:ab\0cd\n"), "sgx_prv", -1, &g),
                     DOCTOR_PARSE_OK);
    assert_string_equal(g.members, "ab");
}

static void test_group_limits_and_arguments(void **state)
{
    char *big = filled(DOCTOR_GROUP_TEXT_MAX + 1, '\n');
    doctor_group g;
    (void)state;

    memcpy(big, "g:x:1:\n", 7);
    assert_int_equal(doctor_group_find(big, DOCTOR_GROUP_TEXT_MAX + 1, "g", -1, &g),
                     DOCTOR_PARSE_E_TOO_LARGE);
    assert_int_equal(doctor_group_find(big, DOCTOR_GROUP_TEXT_MAX, "g", -1, &g), DOCTOR_PARSE_OK);
    assert_int_equal(g.gid, 1);
    free(big);
    assert_int_equal(doctor_group_find(NULL, 1, "g", -1, &g), DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_group_find(NULL, 0, "g", -1, &g), DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(doctor_group_find(LIT("g:x:1:\n"), "g", -1, NULL),
                     DOCTOR_PARSE_E_INVALID_ARG);
}

/* ---- mountinfo / mounts ---- */

/* A Docker container started with --device /dev/sgx_enclave and a tmpfs
 * /dev mounted noexec (proc(5) mountinfo layout). */
static const char MOUNTINFO_CONTAINER[] =
    "612 545 0:52 / / rw,relatime master:268 - overlay overlay "
    "rw,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,"
    "upperdir=/var/lib/docker/overlay2/123/diff,workdir=/var/lib/docker/overlay2/123/work\n"
    "613 612 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "614 612 0:56 / /dev rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755\n"
    "615 614 0:57 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620\n"
    "616 614 0:5 /sgx_enclave /dev/sgx_enclave rw,nosuid - devtmpfs udev rw,mode=755\n"
    "617 614 0:54 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k\n";

static void test_mounts_mountinfo_container(void **state)
{
    doctor_dev_mount m;
    (void)state;
    assert_int_equal(doctor_mounts_find_dev(LIT(MOUNTINFO_CONTAINER), DOCTOR_MOUNTS_MOUNTINFO, &m),
                     DOCTOR_PARSE_OK);
    assert_string_equal(m.mount_point, "/dev");
    assert_string_equal(m.options, "rw,nosuid,noexec");
    assert_true(m.noexec);
}

static void test_mounts_host_dev_exec(void **state)
{
    /* A systemd host: /dev is devtmpfs without noexec. No trailing newline. */
    static const char HOST[] =
        "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
        "24 28 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=8131596k\n"
        "28 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro";
    doctor_dev_mount m;
    (void)state;
    assert_int_equal(doctor_mounts_find_dev(LIT(HOST), DOCTOR_MOUNTS_MOUNTINFO, &m),
                     DOCTOR_PARSE_OK);
    assert_string_equal(m.mount_point, "/dev");
    assert_string_equal(m.options, "rw,nosuid,relatime");
    assert_false(m.noexec);
}

static void test_mounts_shadowing_and_root(void **state)
{
    doctor_dev_mount m;
    (void)state;
    /* The later /dev mount shadows the earlier; "/" never beats "/dev". */
    assert_int_equal(doctor_mounts_find_dev(LIT("1 0 0:1 / /dev rw,noexec - t t rw\n"
                                                "2 0 0:2 / /dev rw,exec - t t rw\n"
                                                "3 0 0:3 / / ro,noexec - t t rw\n"),
                                            DOCTOR_MOUNTS_MOUNTINFO, &m),
                     DOCTOR_PARSE_OK);
    assert_string_equal(m.mount_point, "/dev");
    assert_string_equal(m.options, "rw,exec");
    assert_false(m.noexec);

    /* Only "/" covers /dev here. */
    assert_int_equal(doctor_mounts_find_dev(LIT("1 0 0:1 / / rw,noexec - t t rw\n"),
                                            DOCTOR_MOUNTS_MOUNTINFO, &m),
                     DOCTOR_PARSE_OK);
    assert_string_equal(m.mount_point, "/");
    assert_true(m.noexec);

    /* Mount points that look like /dev but do not cover it. */
    assert_int_equal(doctor_mounts_find_dev(LIT("1 0 0:1 / /dev/ rw,noexec\n"
                                                "2 0 0:1 / /de rw,noexec\n"
                                                "3 0 0:1 / /d rw,noexec\n"
                                                "4 0 0:1 / /devices rw,noexec\n"
                                                "5 0 0:1 / /dev/shm rw,noexec\n"
                                                "6 0 0:1 / //dev rw,noexec\n"),
                                            DOCTOR_MOUNTS_MOUNTINFO, &m),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_true(all_zero(&m, sizeof(m)));
}

static void test_mounts_proc_mounts_layout(void **state)
{
    static const char MOUNTS[] = "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
                                 "udev /dev devtmpfs rw,nosuid,noexec,relatime,mode=755 0 0\n"
                                 "/dev/sda1 / ext4 rw,relatime 0 0\n";
    doctor_dev_mount m;
    (void)state;
    assert_int_equal(doctor_mounts_find_dev(LIT(MOUNTS), DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_OK);
    assert_string_equal(m.mount_point, "/dev");
    assert_string_equal(m.options, "rw,nosuid,noexec,relatime,mode=755");
    assert_true(m.noexec);
    /* The same text read as mountinfo has its fields elsewhere. */
    assert_int_equal(doctor_mounts_find_dev(LIT(MOUNTS), DOCTOR_MOUNTS_MOUNTINFO, &m),
                     DOCTOR_PARSE_E_NOT_FOUND);
}

static void test_mounts_option_matching(void **state)
{
    doctor_dev_mount m;
    (void)state;
    /* Only an exact "noexec" entry counts; empty entries are skipped. */
    assert_int_equal(doctor_mounts_find_dev(LIT("d /dev t noexecx,xnoexec,noexec=1 0 0\n"),
                                            DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_OK);
    assert_false(m.noexec);
    assert_int_equal(doctor_mounts_find_dev(LIT("d /dev t ,,noexec,, 0 0\n"),
                                            DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_OK);
    assert_true(m.noexec);
    assert_string_equal(m.options, ",,noexec,,");
    /* Runs of spaces separate fields. */
    assert_int_equal(doctor_mounts_find_dev(LIT("   d    /dev  t   rw,noexec\n"),
                                            DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_OK);
    assert_true(m.noexec);
    /* Tabs do not (mountinfo and mounts escape them as \011). */
    assert_int_equal(doctor_mounts_find_dev(LIT("d\t/dev\tt\trw,noexec\n"),
                                            DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_E_NOT_FOUND);
}

static void test_mounts_huge_options(void **state)
{
    /* "d /dev t " + 2000 bytes of options ending in ",noexec" */
    static const char HEAD[] = "d /dev t ";
    size_t opt_len = 2000, n = sizeof(HEAD) - 1 + opt_len;
    char *text = filled(n, 'o');
    doctor_dev_mount m;
    (void)state;

    memcpy(text, HEAD, sizeof(HEAD) - 1);
    memcpy(text + n - 7, ",noexec", 7);
    assert_int_equal(doctor_mounts_find_dev(text, n, DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_OK);
    /* noexec is found in the whole field though the copy is cut */
    assert_true(m.noexec);
    assert_int_equal(strlen(m.options), DOCTOR_MOUNT_OPTIONS_SIZE - 1);
    assert_int_equal(strspn(m.options, "o"), DOCTOR_MOUNT_OPTIONS_SIZE - 1);
    free(text);
}

static void test_mounts_truncated_and_nul(void **state)
{
    doctor_dev_mount m;
    (void)state;
    /* Lines cut before the options field are skipped. */
    assert_int_equal(doctor_mounts_find_dev(LIT("614 612 0:56 / /dev\n614 612 0:56 /"),
                                            DOCTOR_MOUNTS_MOUNTINFO, &m),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(doctor_mounts_find_dev(LIT("udev /dev devtmpfs\n"),
                                            DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_E_NOT_FOUND);
    /* Fields 5 and 6 are enough (the rest of the line may be cut). */
    assert_int_equal(doctor_mounts_find_dev(LIT("614 612 0:56 / /dev rw,noexec"),
                                            DOCTOR_MOUNTS_MOUNTINFO, &m),
                     DOCTOR_PARSE_OK);
    assert_true(m.noexec);
    /* The text ends at a NUL: the /dev line after it is not seen. */
    assert_int_equal(doctor_mounts_find_dev(LIT("1 0 0:1 / / rw - t t rw\n\0"
                                                "2 1 0:2 / /dev rw,noexec - t t rw\n"),
                                            DOCTOR_MOUNTS_MOUNTINFO, &m),
                     DOCTOR_PARSE_OK);
    assert_string_equal(m.mount_point, "/");
    assert_false(m.noexec);
    /* A NUL inside the options field cuts it. */
    assert_int_equal(doctor_mounts_find_dev(LIT("d /dev t rw,noe\0xec 0 0\n"),
                                            DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_OK);
    assert_string_equal(m.options, "rw,noe");
    assert_false(m.noexec);
}

static void test_mounts_limits_and_arguments(void **state)
{
    char *big = filled(DOCTOR_MOUNTS_TEXT_MAX + 1, ' ');
    doctor_dev_mount m;
    (void)state;

    memcpy(big, "d /dev t noexec\n", 16);
    assert_int_equal(doctor_mounts_find_dev(big, DOCTOR_MOUNTS_TEXT_MAX + 1,
                                            DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_E_TOO_LARGE);
    assert_int_equal(doctor_mounts_find_dev(big, DOCTOR_MOUNTS_TEXT_MAX,
                                            DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_OK);
    assert_true(m.noexec);
    free(big);
    assert_int_equal(doctor_mounts_find_dev(LIT("d /dev t rw\n"), (doctor_mounts_format)7, &m),
                     DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_mounts_find_dev(LIT("d /dev t rw\n"), DOCTOR_MOUNTS_PROC_MOUNTS, NULL),
                     DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_mounts_find_dev(NULL, 3, DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_mounts_find_dev(NULL, 0, DOCTOR_MOUNTS_PROC_MOUNTS, &m),
                     DOCTOR_PARSE_E_NOT_FOUND);
}

/* ---- /proc/net/unix ---- */

#define AESM_SOCK "/var/run/aesmd/aesm.socket"

/* As the kernel prints it ("%pK: %08X %08X %08X %04X %02X %5lu path"): a
 * header, an abstract socket, a connected client of the aesm socket (same
 * path, no listening flag) listed before the listener itself, and others. */
static const char NET_UNIX_SAMPLE[] =
    "Num       RefCount Protocol Flags    Type St Inode Path\n"
    "0000000000000000: 00000002 00000000 00010000 0001 01 18650 @/tmp/.X11-unix/X0\n"
    "0000000000000000: 00000003 00000000 00000000 0001 03 40001 " AESM_SOCK "\n"
    "0000000000000000: 00000002 00000000 00010000 0001 01 31337 " AESM_SOCK "\n"
    "0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/systemd/private\n"
    "0000000000000000: 00000003 00000000 00000000 0001 03   777\n";

static void test_net_unix_finds_the_listener(void **state)
{
    unsigned long inode = 1;
    (void)state;
    assert_int_equal(doctor_net_unix_find_listener(LIT(NET_UNIX_SAMPLE), AESM_SOCK, &inode),
                     DOCTOR_PARSE_OK);
    assert_int_equal(inode, 31337);
    assert_int_equal(
        doctor_net_unix_find_listener(LIT(NET_UNIX_SAMPLE), "/run/systemd/private", &inode),
        DOCTOR_PARSE_OK);
    assert_int_equal(inode, 12345);
    /* abstract names are shown with '@' and matched as shown */
    assert_int_equal(
        doctor_net_unix_find_listener(LIT(NET_UNIX_SAMPLE), "@/tmp/.X11-unix/X0", &inode),
        DOCTOR_PARSE_OK);
    assert_int_equal(inode, 18650);
    /* not a prefix or suffix match; the header's "Path" is no socket */
    assert_int_equal(doctor_net_unix_find_listener(LIT(NET_UNIX_SAMPLE), "/var/run/aesmd", &inode),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(inode, 0);
    assert_int_equal(doctor_net_unix_find_listener(LIT(NET_UNIX_SAMPLE), "Path", &inode),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(doctor_net_unix_find_listener(LIT(NET_UNIX_SAMPLE), "", &inode),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(doctor_net_unix_find_listener(LIT(NET_UNIX_SAMPLE), "/a b", &inode),
                     DOCTOR_PARSE_E_NOT_FOUND);
}

static void test_net_unix_flags(void **state)
{
    unsigned long inode;
    (void)state;
    /* Only the listening bit (0x10000) counts, in upper- or lowercase hex. */
    assert_int_equal(doctor_net_unix_find_listener(LIT("0: 2 0 0000FFFF 1 1 5 /s\n"
                                                       "0: 2 0 FFFeFFFF 1 1 6 /s\n"
                                                       "0: 2 0 0001ffff 1 1 7 /s\n"),
                                                   "/s", &inode),
                     DOCTOR_PARSE_OK);
    assert_int_equal(inode, 7);
    assert_int_equal(doctor_net_unix_find_listener(LIT("0: 2 0 00000000 1 1 5 /s\n"), "/s", &inode),
                     DOCTOR_PARSE_E_NOT_FOUND);
}

static void test_net_unix_malformed_lines(void **state)
{
    unsigned long inode;
    (void)state;
    /* Bad flags, bad inode, inode overflow, a missing path, a cut line:
     * each skipped; the well-formed last line (no trailing newline) wins. */
    assert_int_equal(doctor_net_unix_find_listener(LIT("0: 2 0 0001000g 1 1 5 /s\n"
                                                       "0: 2 0 +0010000 1 1 5 /s\n"
                                                       "0: 2 0 00010000 1 1 77a /s\n"
                                                       "0: 2 0 00010000 1 1 -77 /s\n"
                                                       "0: 2 0 00010000 1 1 "
                                                       "999999999999999999999999 /s\n"
                                                       "0: 2 0 00010000 1 1 11\n"
                                                       "0: 2 0 00010000 1 1\n"
                                                       "0: 2 0 00010000 1 1 42 /s"),
                                                   "/s", &inode),
                     DOCTOR_PARSE_OK);
    assert_int_equal(inode, 42);
    /* White space of any kind separates fields; fields after the path are
     * ignored. */
    assert_int_equal(doctor_net_unix_find_listener(LIT("0:\t2 0\v00010000 1 1 \t 43 /s trailing\r\n"),
                                                   "/s", &inode),
                     DOCTOR_PARSE_OK);
    assert_int_equal(inode, 43);
    /* A NUL ends the text. */
    assert_int_equal(doctor_net_unix_find_listener(LIT("0: 2 0 00010000 1 1 4\0""4 /s\n"), "/s",
                                                   &inode),
                     DOCTOR_PARSE_E_NOT_FOUND);
}

static void test_net_unix_huge_path_field(void **state)
{
    /* An 8000-byte path (a tenant may bind any length under a deep
     * directory): no match against ours, and it matches itself in full. */
    static const char HEAD[] = "0: 2 0 00010000 1 1 9 ";
    size_t path_len = 8000, n = sizeof(HEAD) - 1 + path_len;
    char *text = filled(n, 'p');
    char *path = filled(path_len + 1, 'p');
    unsigned long inode;
    (void)state;

    memcpy(text, HEAD, sizeof(HEAD) - 1);
    path[path_len] = '\0';
    assert_int_equal(doctor_net_unix_find_listener(text, n, AESM_SOCK, &inode),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(doctor_net_unix_find_listener(text, n, path, &inode), DOCTOR_PARSE_OK);
    assert_int_equal(inode, 9);
    path[path_len - 1] = '\0';
    assert_int_equal(doctor_net_unix_find_listener(text, n, path, &inode),
                     DOCTOR_PARSE_E_NOT_FOUND);
    free(text);
    free(path);
}

static void test_net_unix_limits_and_arguments(void **state)
{
    char *big = filled(DOCTOR_NET_UNIX_TEXT_MAX + 1, '\n');
    unsigned long inode;
    (void)state;
    memcpy(big, "0: 2 0 00010000 1 1 5 /s\n", 25);
    assert_int_equal(doctor_net_unix_find_listener(big, DOCTOR_NET_UNIX_TEXT_MAX + 1, "/s", &inode),
                     DOCTOR_PARSE_E_TOO_LARGE);
    assert_int_equal(doctor_net_unix_find_listener(big, DOCTOR_NET_UNIX_TEXT_MAX, "/s", &inode),
                     DOCTOR_PARSE_OK);
    assert_int_equal(inode, 5);
    free(big);
    assert_int_equal(doctor_net_unix_find_listener(LIT("x"), NULL, &inode),
                     DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_net_unix_find_listener(LIT("x"), "/s", NULL),
                     DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_net_unix_find_listener(NULL, 2, "/s", &inode),
                     DOCTOR_PARSE_E_INVALID_ARG);
}

/* ---- /proc/<pid>/comm ---- */

static void test_comm(void **state)
{
    char out[DOCTOR_COMM_SIZE];
    char *long_line = filled(DOCTOR_COMM_TEXT_MAX, 'c');
    (void)state;

    assert_int_equal(doctor_comm_parse(LIT("aesm_service\n"), out), DOCTOR_PARSE_OK);
    assert_string_equal(out, "aesm_service");
    assert_int_equal(doctor_comm_parse(LIT("aesm_service"), out), DOCTOR_PARSE_OK);
    assert_string_equal(out, "aesm_service");
    assert_int_equal(doctor_comm_parse(LIT("init\nsecond\n"), out), DOCTOR_PARSE_OK);
    assert_string_equal(out, "init");
    assert_int_equal(doctor_comm_parse(LIT("\naesm_service\n"), out), DOCTOR_PARSE_OK);
    assert_string_equal(out, "");
    assert_int_equal(doctor_comm_parse(LIT(""), out), DOCTOR_PARSE_OK);
    assert_string_equal(out, "");
    assert_int_equal(doctor_comm_parse(NULL, 0, out), DOCTOR_PARSE_OK);
    assert_string_equal(out, "");
    assert_int_equal(doctor_comm_parse(LIT("aesm\0_service\n"), out), DOCTOR_PARSE_OK);
    assert_string_equal(out, "aesm");
    /* Control bytes pass through (doctor_display_sanitize is for display). */
    assert_int_equal(doctor_comm_parse(LIT("a\x1b[0m\n"), out), DOCTOR_PARSE_OK);
    assert_string_equal(out, "a\x1b[0m");

    /* 64 bytes, no newline: cut to 63. */
    assert_int_equal(doctor_comm_parse(long_line, DOCTOR_COMM_TEXT_MAX, out), DOCTOR_PARSE_OK);
    assert_int_equal(strlen(out), DOCTOR_COMM_SIZE - 1);
    free(long_line);

    long_line = filled(DOCTOR_COMM_TEXT_MAX + 1, 'c');
    assert_int_equal(doctor_comm_parse(long_line, DOCTOR_COMM_TEXT_MAX + 1, out),
                     DOCTOR_PARSE_E_TOO_LARGE);
    assert_string_equal(out, "");
    free(long_line);
    assert_int_equal(doctor_comm_parse(NULL, 1, out), DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_comm_parse(LIT("x"), NULL), DOCTOR_PARSE_E_INVALID_ARG);
}

/* ---- /proc/1/cgroup ---- */

static void test_cgroup_marks(void **state)
{
    const char *mark = "unset";
    (void)state;

    /* cgroup v1 under Docker */
    assert_int_equal(doctor_cgroup_container_mark(
                         LIT("12:pids:/docker/4a1c2b3d\n"
                             "11:memory:/docker/4a1c2b3d\n"
                             "0::/docker/4a1c2b3d\n"),
                         &mark),
                     DOCTOR_PARSE_OK);
    assert_string_equal(mark, "docker");
    /* cgroup v2 in a Kubernetes pod via containerd: "kubepods" is first in
     * the list, so it is the answer although "containerd" is there too. */
    assert_int_equal(doctor_cgroup_container_mark(
                         LIT("0::/kubepods.slice/kubepods-burstable.slice/"
                             "kubepods-burstable-pod1234.slice/cri-containerd-abcd.scope\n"),
                         &mark),
                     DOCTOR_PARSE_OK);
    assert_string_equal(mark, "kubepods");
    /* cgroup v1, kubelet's systemd driver with the Docker runtime */
    assert_int_equal(doctor_cgroup_container_mark(
                         LIT("4:memory:/kubepods.slice/kubepods-besteffort.slice/"
                             "kubepods-besteffort-pod5678.slice/docker-ef01.scope\n"),
                         &mark),
                     DOCTOR_PARSE_OK);
    assert_string_equal(mark, "kubepods");
    assert_int_equal(doctor_cgroup_container_mark(LIT("0::/machine.slice/libpod-77.scope"), &mark),
                     DOCTOR_PARSE_OK);
    assert_string_equal(mark, "libpod");
    assert_int_equal(doctor_cgroup_container_mark(LIT("0::/lxc.payload.c1\n"), &mark),
                     DOCTOR_PARSE_OK);
    assert_string_equal(mark, "lxc");
    assert_int_equal(doctor_cgroup_container_mark(LIT("0::/crio-9f.scope"), &mark),
                     DOCTOR_PARSE_OK);
    assert_string_equal(mark, "crio");

    /* A host: no mark. */
    assert_int_equal(doctor_cgroup_container_mark(LIT("0::/init.scope\n"), &mark),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_null(mark);
    /* A mark cut by the end of the text, or hidden behind a NUL. */
    assert_int_equal(doctor_cgroup_container_mark(LIT("0::/dock"), &mark),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(doctor_cgroup_container_mark(LIT("0::/\0docker\n"), &mark),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(doctor_cgroup_container_mark(LIT(""), &mark), DOCTOR_PARSE_E_NOT_FOUND);
}

static void test_cgroup_limits_and_arguments(void **state)
{
    char *big = filled(DOCTOR_CGROUP_TEXT_MAX + 1, 'x');
    const char *mark;
    (void)state;
    memcpy(big + DOCTOR_CGROUP_TEXT_MAX - 3, "lxc", 3);
    assert_int_equal(doctor_cgroup_container_mark(big, DOCTOR_CGROUP_TEXT_MAX + 1, &mark),
                     DOCTOR_PARSE_E_TOO_LARGE);
    assert_int_equal(doctor_cgroup_container_mark(big, DOCTOR_CGROUP_TEXT_MAX, &mark),
                     DOCTOR_PARSE_OK);
    assert_string_equal(mark, "lxc");
    assert_int_equal(doctor_cgroup_container_mark(big, DOCTOR_CGROUP_TEXT_MAX - 1, &mark),
                     DOCTOR_PARSE_E_NOT_FOUND);
    free(big);
    assert_int_equal(doctor_cgroup_container_mark(LIT("docker"), NULL),
                     DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_cgroup_container_mark(NULL, 1, &mark), DOCTOR_PARSE_E_INVALID_ARG);
}

/* ---- library names ---- */

/* dpkg's status file: the installed stanza's Version, nothing from other
 * packages or removed ones, cut to the buffer, and limits. */
static void test_dpkg_version(void **state)
{
    static const char STATUS[] =
        "Package: libsgx-qe3-logic-dev\nStatus: install ok installed\nVersion: 9.9\n\n"
        "Package: libsgx-qe3-logic\nStatus: deinstall ok config-files\nVersion: 1.1\n\n\n"
        "Package: libsgx-qe3-logic\nVersion:   1.22.100.3-jammy1  \nStatus: install ok installed\n"
        "Package: ignored-after-a-missing-blank-line\n";
    char v[64], small[5];

    (void)state;
    assert_int_equal(doctor_dpkg_version(STATUS, sizeof(STATUS) - 1, "libsgx-qe3-logic", v,
                                         sizeof(v)),
                     DOCTOR_PARSE_E_NOT_FOUND); /* the Package line after it wins the stanza */
    {
        static const char OK[] =
            "Package: libsgx-qe3-logic\nStatus: deinstall ok config-files\nVersion: 1.1\n\n"
            "Package: libsgx-qe3-logic\nVersion:   1.22.100.3-jammy1  \nStatus: install ok "
            "installed\n";
        assert_int_equal(doctor_dpkg_version(OK, sizeof(OK) - 1, "libsgx-qe3-logic", v,
                                             sizeof(v)),
                         DOCTOR_PARSE_OK);
        assert_string_equal(v, "1.22.100.3-jammy1");
        assert_int_equal(doctor_dpkg_version(OK, sizeof(OK) - 1, "libsgx-qe3-logic", small,
                                             sizeof(small)),
                         DOCTOR_PARSE_OK);
        assert_string_equal(small, "1.22");
        assert_int_equal(doctor_dpkg_version(OK, sizeof(OK) - 1, "libsgx-pce-logic", v,
                                             sizeof(v)),
                         DOCTOR_PARSE_E_NOT_FOUND);
        assert_string_equal(v, "");
    }
    assert_int_equal(doctor_dpkg_version("", 0, "x", v, sizeof(v)), DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(doctor_dpkg_version(NULL, 1, "x", v, sizeof(v)), DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_dpkg_version("x", 1, NULL, v, sizeof(v)), DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_dpkg_version("x", DOCTOR_DPKG_STATUS_TEXT_MAX + 1, "x", v, sizeof(v)),
                     DOCTOR_PARSE_E_TOO_LARGE);
}

static void test_lib_version_from_names(void **state)
{
    const char *v = "unset";
    (void)state;

    assert_int_equal(doctor_lib_version("libsgx_qe3_logic.so.1.21.100.3", "libsgx_qe3_logic", NULL,
                                        &v),
                     DOCTOR_PARSE_OK);
    assert_string_equal(v, "1.21.100.3");
    assert_int_equal(doctor_lib_version("libsgx_qe3_logic.so", "libsgx_qe3_logic", NULL, &v),
                     DOCTOR_PARSE_OK);
    assert_string_equal(v, "");
    assert_int_equal(doctor_lib_version("libsgx_qe3_logic.so.", "libsgx_qe3_logic", NULL, &v),
                     DOCTOR_PARSE_OK);
    assert_string_equal(v, "");

    static const char *const NOT_IT[] = {
        "libsgx_qe3_logic.sox", "libsgx_qe3_logic.s", "libsgx_qe3_logic",
        "libsgx_qe3_logic_x.so.1", "libsgx_qe3_logi.so.1", "xlibsgx_qe3_logic.so.1", "",
    };
    for (size_t i = 0; i < sizeof(NOT_IT) / sizeof(NOT_IT[0]); i++) {
        assert_int_equal(doctor_lib_version(NOT_IT[i], "libsgx_qe3_logic", NULL, &v),
                         DOCTOR_PARSE_E_NOT_FOUND);
        assert_null(v);
    }
}

static void test_lib_version_from_link_targets(void **state)
{
    const char *v;
    (void)state;

    /* libx.so.1 -> libx.so.1.21.100.3 (relative or absolute): the target's */
    assert_int_equal(doctor_lib_version("libsgx_pce_logic.so.1", "libsgx_pce_logic",
                                        "libsgx_pce_logic.so.1.21.100.3", &v),
                     DOCTOR_PARSE_OK);
    assert_string_equal(v, "1.21.100.3");
    assert_int_equal(doctor_lib_version("libsgx_pce_logic.so", "libsgx_pce_logic",
                                        "/opt/intel/lib/libsgx_pce_logic.so.2.0", &v),
                     DOCTOR_PARSE_OK);
    assert_string_equal(v, "2.0");
    /* Targets not named "<base>.so.*": the entry's own version. */
    static const char *const OTHER[] = {"other.so.9", "libsgx_pce_logic.so", "dir/",
                                        "libsgx_pce_logic.so.9/", ""};
    for (size_t i = 0; i < sizeof(OTHER) / sizeof(OTHER[0]); i++) {
        assert_int_equal(
            doctor_lib_version("libsgx_pce_logic.so.1", "libsgx_pce_logic", OTHER[i], &v),
            DOCTOR_PARSE_OK);
        assert_string_equal(v, "1");
    }
    /* A good target does not rescue an entry with the wrong name. */
    assert_int_equal(doctor_lib_version("evil", "libsgx_pce_logic", "libsgx_pce_logic.so.1", &v),
                     DOCTOR_PARSE_E_NOT_FOUND);
    assert_int_equal(doctor_lib_version(NULL, "b", NULL, &v), DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_lib_version("b.so", NULL, NULL, &v), DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_lib_version("b.so", "b", NULL, NULL), DOCTOR_PARSE_E_INVALID_ARG);
}

static void test_lib_version_huge_name(void **state)
{
    /* NAME_MAX is 255: "libx.so." + 247 bytes of version */
    char name[256];
    const char *v;
    (void)state;
    memcpy(name, "libx.so.", 8);
    memset(name + 8, '7', 247);
    name[255] = '\0';
    assert_int_equal(doctor_lib_version(name, "libx", NULL, &v), DOCTOR_PARSE_OK);
    assert_ptr_equal(v, name + 8);
    assert_int_equal(strlen(v), 247);
}

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

static void test_version_cmp(void **state)
{
    static const struct {
        const char *a, *b;
        int want;
    } CASES[] = {
        {"1.21.100.3", "1.20.100.2", 1},
        {"1.21.100.3", "1.21.100.3", 0},
        {"1.9", "1.10", -1},  /* numbers, not bytes */
        {"2", "10", -1},
        {"1.2", "1.2.0", 0},  /* a missing part reads as 0 */
        {"1.2", "1.2.1", -1},
        {"", "", 0},
        {"", "1", -1},
        {"1.a", "1.b", -1},   /* from the first non-number on: bytes */
        {"1.b", "1.a", 1},
        {"1.5a", "1.5b", -1},
        {"99999999999999999999999", "99999999999999999999998", 0}, /* saturates */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        int got = sign(doctor_version_cmp(CASES[i].a, CASES[i].b));
        int back = sign(doctor_version_cmp(CASES[i].b, CASES[i].a));
        if (got != CASES[i].want || back != -CASES[i].want)
            fail_msg("version_cmp(\"%s\", \"%s\") = %d (reverse %d), want %d", CASES[i].a,
                     CASES[i].b, got, back, CASES[i].want);
    }
}

/* ---- QCNL ---- */

/* The shape of Intel's sample /etc/sgx_default_qcnl.conf (DCAP >= 1.15):
 * JSON with // and block comments, URLs with "//" inside strings. */
static const char QCNL_JSON_SAMPLE[] =
    "{\n"
    "  // *** ATTENTION : This file is in JSON format so the keys are case sensitive. ***\n"
    "\n"
    "  // PCCS server address\n"
    "  \"pccs_url\": \"https://pccs.example.internal:8081/sgx/certification/v4/\",\n"
    "\n"
    "  // To accept insecure HTTPS certificate, set this option to false\n"
    "  \"use_secure_cert\": false,\n"
    "\n"
    "  /* You can use the Intel PCS or another PCCS to get quote verification\n"
    "     collateral. */\n"
    "  //\"collateral_service\": \"https://api.trustedservices.intel.com/sgx/certification/v4/\",\n"
    "  \"retry_times\": 6,\n"
    "  \"retry_delay\": 10,\n"
    "  \"pck_cache_expire_hours\": 168\n"
    "}\n";

static void test_qcnl_json_sample(void **state)
{
    doctor_qcnl q;
    (void)state;
    assert_int_equal(doctor_qcnl_parse(LIT(QCNL_JSON_SAMPLE), &q), DOCTOR_PARSE_OK);
    assert_int_equal(q.format, DOCTOR_QCNL_JSON);
    assert_string_equal(doctor_qcnl_format_name(q.format), "JSON");
    assert_true(q.have_url);
    assert_string_equal(q.url, "https://pccs.example.internal:8081/sgx/certification/v4/");
    assert_false(q.secure);
}

static void test_qcnl_json_variants(void **state)
{
    doctor_qcnl q;
    (void)state;

    /* No use_secure_cert: QCNL's default, true. No trailing newline. */
    assert_int_equal(doctor_qcnl_parse(LIT("{\"pccs_url\":\"https://p:8081/v4/\"}"), &q),
                     DOCTOR_PARSE_OK);
    assert_true(q.secure);
    assert_string_equal(q.url, "https://p:8081/v4/");

    /* An object without the keys, or with the wrong types, is still JSON. */
    assert_int_equal(doctor_qcnl_parse(LIT("{}"), &q), DOCTOR_PARSE_OK);
    assert_int_equal(q.format, DOCTOR_QCNL_JSON);
    assert_false(q.have_url);
    assert_true(q.secure);
    assert_int_equal(doctor_qcnl_parse(LIT("{\"pccs_url\": 8081, \"use_secure_cert\": \"no\"}"), &q),
                     DOCTOR_PARSE_OK);
    assert_false(q.have_url);
    assert_true(q.secure);

    /* Comment markers inside strings stay; an escaped quote does not end
     * the string; an unterminated block comment runs to the end. */
    assert_int_equal(doctor_qcnl_parse(LIT("{\"pccs_url\": \"http://h/a\\\"//b/*c*/\"} /* open"),
                                       &q),
                     DOCTOR_PARSE_OK);
    assert_int_equal(q.format, DOCTOR_QCNL_JSON);
    assert_string_equal(q.url, "http://h/a\"//b/*c*/");

    /* The same key twice: the later one. */
    assert_int_equal(doctor_qcnl_parse(LIT("{\"pccs_url\":\"http://a/\",\"pccs_url\":\"http://b/\"}"),
                                       &q),
                     DOCTOR_PARSE_OK);
    assert_string_equal(q.url, "http://b/");
}

static void test_qcnl_key_value(void **state)
{
    /* DCAP < 1.15: KEY=VALUE, '#' comments, CRLF, spaces around '=', lower
     * case keys, no trailing newline. The URL keeps its "//" (doctor's first
     * version cut legacy URLs to "https:" by stripping JSON comments). */
    static const char LEGACY[] = "# PCCS server address\r\n"
                                 "PCCS_URL = https://pccs.example.internal:8081/sgx/certification/v3/ \r\n"
                                 "\r\n"
                                 "# To accept insecure HTTPS cert, set this option to FALSE\r\n"
                                 "use_secure_cert=false";
    doctor_qcnl q;
    (void)state;

    assert_int_equal(doctor_qcnl_parse(LIT(LEGACY), &q), DOCTOR_PARSE_OK);
    assert_int_equal(q.format, DOCTOR_QCNL_KEY_VALUE);
    assert_string_equal(doctor_qcnl_format_name(q.format), "key=value");
    assert_true(q.have_url);
    assert_string_equal(q.url, "https://pccs.example.internal:8081/sgx/certification/v3/");
    assert_false(q.secure);

    /* Only "TRUE" (any case) is true; later lines win; '=' inside a value. */
    assert_int_equal(doctor_qcnl_parse(LIT("USE_SECURE_CERT=yes\n"), &q), DOCTOR_PARSE_OK);
    assert_false(q.secure);
    assert_false(q.have_url);
    assert_int_equal(doctor_qcnl_parse(LIT("USE_SECURE_CERT=false\nUSE_SECURE_CERT=True\n"), &q),
                     DOCTOR_PARSE_OK);
    assert_true(q.secure);
    assert_int_equal(doctor_qcnl_parse(LIT("PCCS_URL=http://a/\nPCCS_URL=http://b/?x=y\n"), &q),
                     DOCTOR_PARSE_OK);
    assert_string_equal(q.url, "http://b/?x=y");

    /* A JSON array is not the JSON config; as lines it sets nothing. */
    assert_int_equal(doctor_qcnl_parse(LIT("[\"PCCS_URL\"]"), &q), DOCTOR_PARSE_E_FORMAT);
}

static void test_qcnl_malformed(void **state)
{
    doctor_qcnl q;
    (void)state;

    static const char *const BAD[] = {
        "hello world\n",
        "# PCCS_URL=http://commented/\n",
        " #PCCS_URL=http://x/\n", /* key "#PCCS_URL" */
        "PCCS_URLX=http://x/\n",
        "{\n  \"pccs_url\": \"https://p/\",\n}\n", /* trailing comma: not JSON, no '=' */
        "{\"pccs_url\": \"https://p/",              /* truncated */
        "{\"pccs_url\": \"a\\u0000b\"}",            /* jansson refuses \u0000 */
        "",
        "=\n==\n",
    };
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        int rc = doctor_qcnl_parse(BAD[i], strlen(BAD[i]), &q);
        if (rc != DOCTOR_PARSE_E_FORMAT)
            fail_msg("\"%s\": %d (%s), want FORMAT", BAD[i], rc, doctor_parse_strerror(rc));
        assert_true(all_zero(&q, sizeof(q)));
    }

    /* A NUL ends the text: the second setting is not seen. */
    assert_int_equal(doctor_qcnl_parse(LIT("PCCS_URL=http://a/\n\0PCCS_URL=http://b/\n"), &q),
                     DOCTOR_PARSE_OK);
    assert_string_equal(q.url, "http://a/");
    assert_int_equal(doctor_qcnl_parse(LIT("{\"pccs_url\":\"http://a/\"}\0 trailing"), &q),
                     DOCTOR_PARSE_OK);
    assert_int_equal(q.format, DOCTOR_QCNL_JSON);
}

static void test_qcnl_huge_url(void **state)
{
    /* JSON and legacy with a 3000-byte URL: cut to the field, still a URL. */
    size_t url_len = 3000;
    char *text = filled(url_len + 64, 'u');
    int n;
    doctor_qcnl q;
    (void)state;

    memcpy(text, "{\"pccs_url\":\"http://h/", 22);
    memcpy(text + 22 + url_len, "\"}", 2);
    assert_int_equal(doctor_qcnl_parse(text, 22 + url_len + 2, &q), DOCTOR_PARSE_OK);
    assert_int_equal(strlen(q.url), DOCTOR_QCNL_URL_SIZE - 1);
    assert_memory_equal(q.url, "http://h/uuu", 12);

    n = snprintf(text, 16, "PCCS_URL=");
    memset(text + n, 'v', url_len);
    assert_int_equal(doctor_qcnl_parse(text, (size_t)n + url_len, &q), DOCTOR_PARSE_OK);
    assert_int_equal(q.format, DOCTOR_QCNL_KEY_VALUE);
    assert_int_equal(strlen(q.url), DOCTOR_QCNL_URL_SIZE - 1);
    free(text);
}

static void test_qcnl_limits_and_arguments(void **state)
{
    char *big = filled(DOCTOR_QCNL_TEXT_MAX + 1, ' ');
    doctor_qcnl q;
    (void)state;
    memcpy(big, "{}", 2);
    assert_int_equal(doctor_qcnl_parse(big, DOCTOR_QCNL_TEXT_MAX + 1, &q),
                     DOCTOR_PARSE_E_TOO_LARGE);
    assert_int_equal(doctor_qcnl_parse(big, DOCTOR_QCNL_TEXT_MAX, &q), DOCTOR_PARSE_OK);
    assert_int_equal(q.format, DOCTOR_QCNL_JSON);
    free(big);
    assert_int_equal(doctor_qcnl_parse(LIT("{}"), NULL), DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_qcnl_parse(NULL, 1, &q), DOCTOR_PARSE_E_INVALID_ARG);
    assert_int_equal(doctor_qcnl_parse(NULL, 0, &q), DOCTOR_PARSE_E_FORMAT);
    assert_string_equal(doctor_qcnl_format_name(DOCTOR_QCNL_NONE), "none");
}

/* ---- URLs ---- */

static void test_url_host_and_loopback(void **state)
{
    static const struct {
        const char *url, *host;
        bool loopback;
    } CASES[] = {
        {"https://pccs.example.internal:8081/sgx/certification/v4/", "pccs.example.internal", false},
        {"http://127.0.0.1:8081/x", "127.0.0.1", true},
        {"http://localhost/", "localhost", true},
        {"https://LOCALHOST:1", "LOCALHOST", true},
        {"https://localhost.localdomain/", "localhost.localdomain", true},
        {"https://localhostx/", "localhostx", false},
        {"http://[::1]:8081/x", "[::1]", true},
        {"http://[fe80::1]:8081/x", "[fe80::1]", false},
        {"http://[fe80::1", "[fe80::1", false}, /* unclosed bracket: the rest */
        {"http://0.0.0.0/", "0.0.0.0", true},
        {"http://128.0.0.1/", "128.0.0.1", false},
        {"127.0.0.2:8081/x", "127.0.0.2", true}, /* no scheme */
        {"pccs", "pccs", false},
        {"", "", false},
        {"http://", "", false},
    };
    char host[256];
    (void)state;
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        doctor_url_host(CASES[i].url, host, sizeof(host));
        if (strcmp(host, CASES[i].host) != 0)
            fail_msg("host of \"%s\" is \"%s\", want \"%s\"", CASES[i].url, host, CASES[i].host);
        if (doctor_host_is_loopback(host) != CASES[i].loopback)
            fail_msg("\"%s\" loopback %d", host, !CASES[i].loopback);
    }
    /* cut to the buffer */
    doctor_url_host("https://pccs.example.internal/", host, 5);
    assert_string_equal(host, "pccs");
    host[0] = 'z';
    doctor_url_host("https://pccs/", host, 0);
    assert_int_equal(host[0], 'z');
}

/* ---- display ---- */

static void test_display_sanitize(void **state)
{
    static const struct {
        const char *in, *out;
    } CASES[] = {
        {"plain ASCII: /dev is mounted exec (rw on /dev)", "plain ASCII: /dev is mounted exec (rw on /dev)"},
        {"bound by my\x1b[31mdaemon", "bound by my?[31mdaemon"},
        {"a\nb\tc\rd\x7f" "e", "a?b?c?d?e"},
        {"caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80"},
        {"nbsp\xc2\xa0ok", "nbsp\xc2\xa0ok"},
        {"c1\xc2\x9b" "x", "c1??x"},            /* U+009B, CSI on some terminals */
        {"bad\xff\xfe", "bad??"},
        {"cut\xe2\x80", "cut??"},               /* truncated at the end */
        {"cut\xe2\x80z", "cut??z"},
        {"over\xc0\xaf", "over??"},             /* overlong '/' */
        {"over\xe0\x80\xaf", "over???"},
        {"sur\xed\xa0\x80", "sur???"},          /* UTF-16 surrogate */
        {"big\xf4\x90\x80\x80", "big????"},     /* above U+10FFFF */
        {"lone\x80", "lone?"},
        {"", ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        char buf[128];
        json_t *js;
        snprintf(buf, sizeof(buf), "%s", CASES[i].in);
        doctor_display_sanitize(buf);
        if (strcmp(buf, CASES[i].out) != 0)
            fail_msg("case %zu: \"%s\", want \"%s\"", i, buf, CASES[i].out);
        /* jansson's own UTF-8 check accepts every result (a --json message
         * it refused would silently drop the check from the output). */
        js = json_string(buf);
        if (js == NULL)
            fail_msg("case %zu: jansson rejects the sanitized text", i);
        json_decref(js);
    }
    doctor_display_sanitize(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names_every_code),
        cmocka_unit_test(test_group_by_name_and_by_gid),
        cmocka_unit_test(test_group_malformed_lines),
        cmocka_unit_test(test_group_huge_fields_are_cut),
        cmocka_unit_test(test_group_nul_ends_the_text),
        cmocka_unit_test(test_group_limits_and_arguments),
        cmocka_unit_test(test_mounts_mountinfo_container),
        cmocka_unit_test(test_mounts_host_dev_exec),
        cmocka_unit_test(test_mounts_shadowing_and_root),
        cmocka_unit_test(test_mounts_proc_mounts_layout),
        cmocka_unit_test(test_mounts_option_matching),
        cmocka_unit_test(test_mounts_huge_options),
        cmocka_unit_test(test_mounts_truncated_and_nul),
        cmocka_unit_test(test_mounts_limits_and_arguments),
        cmocka_unit_test(test_net_unix_finds_the_listener),
        cmocka_unit_test(test_net_unix_flags),
        cmocka_unit_test(test_net_unix_malformed_lines),
        cmocka_unit_test(test_net_unix_huge_path_field),
        cmocka_unit_test(test_net_unix_limits_and_arguments),
        cmocka_unit_test(test_comm),
        cmocka_unit_test(test_cgroup_marks),
        cmocka_unit_test(test_cgroup_limits_and_arguments),
        cmocka_unit_test(test_dpkg_version),
        cmocka_unit_test(test_lib_version_from_names),
        cmocka_unit_test(test_lib_version_from_link_targets),
        cmocka_unit_test(test_lib_version_huge_name),
        cmocka_unit_test(test_version_cmp),
        cmocka_unit_test(test_qcnl_json_sample),
        cmocka_unit_test(test_qcnl_json_variants),
        cmocka_unit_test(test_qcnl_key_value),
        cmocka_unit_test(test_qcnl_malformed),
        cmocka_unit_test(test_qcnl_huge_url),
        cmocka_unit_test(test_qcnl_limits_and_arguments),
        cmocka_unit_test(test_url_host_and_loopback),
        cmocka_unit_test(test_display_sanitize),
    };
    return cmocka_run_group_tests_name("doctor_parse", tests, NULL, NULL);
}
