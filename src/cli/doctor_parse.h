/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers for the node files `sgx-quote doctor` reads (cmd_doctor.c does the
 * reading, these only look at the bytes): /etc/group, /proc/self/mountinfo or
 * /proc/mounts, /proc/net/unix, /proc/<pid>/comm, /proc/1/cgroup, the QCNL
 * config and Intel library file names. A container image, a --root-dir tree
 * or another tenant (socket paths in /proc/net/unix, process names, cgroup
 * names) can put anything in them, so every parser here is bounded and is
 * fuzzed (fuzz/cli/fuzz_doctor_parse.c).
 *
 * Input convention: text parsers take (text, len). text may be NULL only
 * when len is 0. A text ends at len or at its first NUL byte, whichever
 * comes first (doctor has always read these files as C strings; the kernel
 * writes no NUL into them). Each parser refuses a len above its named
 * maximum with DOCTOR_PARSE_E_TOO_LARGE. Lines end at '\n' (a last line
 * without one counts); empty lines are skipped. File and link names
 * (doctor_lib_version) are C strings: a directory entry cannot hold a NUL.
 *
 * Return convention: a function returning int returns DOCTOR_PARSE_OK (0) on
 * success or a negative DOCTOR_PARSE_E_* code. Output structs are zeroed on
 * entry (when the output pointer is not NULL) and filled only on success, so
 * on failure they hold "" / 0 / false, never half a result. Strings copied
 * out are NUL-terminated and cut at the size of their field (the sizes are
 * named below); a cut is not an error, since they are for display.
 *
 * No function here does I/O or keeps state. doctor_qcnl_parse allocates one
 * scratch copy of the text and frees it before returning.
 */
#ifndef SGXQH_CLI_DOCTOR_PARSE_H
#define SGXQH_CLI_DOCTOR_PARSE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    DOCTOR_PARSE_OK = 0,
    DOCTOR_PARSE_E_INVALID_ARG = -1, /* NULL output or key, NULL text with len > 0 */
    DOCTOR_PARSE_E_TOO_LARGE = -2,   /* len above the parser's maximum */
    DOCTOR_PARSE_E_NOT_FOUND = -3,   /* well-formed enough, but no match */
    DOCTOR_PARSE_E_FORMAT = -4,      /* QCNL: neither a JSON object nor key=value settings */
    DOCTOR_PARSE_E_NOMEM = -5,       /* the QCNL scratch copy could not be allocated */
} doctor_parse_err;

const char *doctor_parse_strerror(int err);

/* ---- /etc/group: "name:password:gid:members" lines ---- */

/* doctor reads at most this much of /etc/group. */
#define DOCTOR_GROUP_TEXT_MAX ((size_t)256 * 1024)
#define DOCTOR_GROUP_NAME_SIZE 64
#define DOCTOR_GROUP_MEMBERS_SIZE 512

typedef struct {
    char name[DOCTOR_GROUP_NAME_SIZE];
    long gid; /* the third field read as atol() does: leading digits, saturating */
    char members[DOCTOR_GROUP_MEMBERS_SIZE]; /* fourth field, up to the next ':'; "" if absent */
} doctor_group;

/* The first line with at least three ':'-separated fields whose first field
 * is exactly name (name != NULL), or, when name is NULL, whose gid field
 * reads as gid. NOT_FOUND when no line matches. */
int doctor_group_find(const char *text, size_t len, const char *name, long gid,
                      doctor_group *out);

/* ---- /proc/self/mountinfo or /proc/mounts: what /dev is mounted with ---- */

#define DOCTOR_MOUNTS_TEXT_MAX ((size_t)1024 * 1024)
#define DOCTOR_MOUNT_POINT_SIZE 8 /* only "/" or "/dev" can cover /dev */
#define DOCTOR_MOUNT_OPTIONS_SIZE 512

typedef enum {
    /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ..." (proc(5) mountinfo):
     * the mount point is field 5, the per-mount options field 6. */
    DOCTOR_MOUNTS_MOUNTINFO = 0,
    /* "SOURCE MOUNTPOINT TYPE OPTIONS 0 0" (fstab(5) layout). */
    DOCTOR_MOUNTS_PROC_MOUNTS = 1,
} doctor_mounts_format;

typedef struct {
    char mount_point[DOCTOR_MOUNT_POINT_SIZE]; /* "/dev" or "/" */
    char options[DOCTOR_MOUNT_OPTIONS_SIZE];   /* as listed, cut at the field size */
    bool noexec; /* the whole options field has an exact "noexec" entry */
} doctor_dev_mount;

/* The mount that covers /dev: a "/dev" mount point beats "/", and of equal
 * ones the later line wins (later mounts shadow earlier ones). Fields are
 * separated by runs of ' '; lines with too few fields are skipped. NOT_FOUND
 * when no line mounts "/" or "/dev". */
int doctor_mounts_find_dev(const char *text, size_t len, doctor_mounts_format fmt,
                           doctor_dev_mount *out);

/* ---- /proc/net/unix: who listens on a socket path ---- */

#define DOCTOR_NET_UNIX_TEXT_MAX ((size_t)4 * 1024 * 1024)
/* Flags bit __SO_ACCEPTCON: the socket listens (net/unix/af_unix.c). */
#define DOCTOR_UNIX_FLAG_ACCEPTCON 0x10000UL

/* Lines are "Num RefCount Protocol Flags Type St Inode Path", fields
 * separated by white space: Flags is hex, Inode decimal (each must be all
 * digits and fit an unsigned long), and the eighth field must equal path.
 * *inode is that of the first such line with the listening flag set.
 * NOT_FOUND when there is none (and always when path is "" or holds white
 * space, which a field cannot). Because a socket path may itself contain
 * '\n', another local user can forge a line here; callers must treat the
 * answer as a hint, not proof of ownership. */
int doctor_net_unix_find_listener(const char *text, size_t len, const char *path,
                                  unsigned long *inode);

/* ---- /proc/<pid>/comm ---- */

/* doctor reads at most this much of a comm file (the kernel's is 16). */
#define DOCTOR_COMM_TEXT_MAX ((size_t)64)
#define DOCTOR_COMM_SIZE 64

/* The first line of a comm file, without its '\n', into out (cut at
 * DOCTOR_COMM_SIZE - 1 bytes). An empty file gives "". */
int doctor_comm_parse(const char *text, size_t len, char out[DOCTOR_COMM_SIZE]);

/* ---- /proc/1/cgroup: are we in a container? ---- */

#define DOCTOR_CGROUP_TEXT_MAX ((size_t)64 * 1024)

/* *mark is the first of "kubepods", "docker", "containerd", "libpod", "lxc",
 * "crio" (in that order) that occurs anywhere in the text; a static string.
 * NOT_FOUND (and *mark NULL) when none does. */
int doctor_cgroup_container_mark(const char *text, size_t len, const char **mark);

/* ---- Intel library file names ---- */

/* file (a directory entry) names library base if it is "<base>.so" or starts
 * with "<base>.so."; NOT_FOUND otherwise. The version is what follows
 * "<base>.so." in link_target's last path component when file is a symlink
 * whose target is named that way (link_target NULL when file is not a link),
 * else what follows it in file; "" for a bare "<base>.so". *version points
 * into file or link_target. */
int doctor_lib_version(const char *file, const char *base, const char *link_target,
                       const char **version);

/* Orders version strings: dot-separated numbers compared as numbers (as
 * strtol reads them), and from the first part that is not a number on, the
 * rest byte by byte. <0, 0 or >0 like strcmp. Both are C strings. */
int doctor_version_cmp(const char *a, const char *b);

/* ---- dpkg's package database (/var/lib/dpkg/status) ---- */

#define DOCTOR_DPKG_STATUS_TEXT_MAX ((size_t)32 * 1024 * 1024)

/* The Version of `package` when a stanza says "Package: <package>" and
 * "Status: install ok installed", copied (truncated) into version; the
 * package versions are what tells DCAP releases apart, since
 * libsgx_qe3_logic.so carries none in its file name. NOT_FOUND (version
 * "") when no such stanza exists. */
int doctor_dpkg_version(const char *text, size_t len, const char *package, char *version,
                        size_t cap);

/* ---- QCNL config (/etc/sgx_default_qcnl.conf) ---- */

#define DOCTOR_QCNL_TEXT_MAX ((size_t)64 * 1024)
#define DOCTOR_QCNL_URL_SIZE 512

typedef enum {
    DOCTOR_QCNL_NONE = 0,      /* only in a zeroed result */
    DOCTOR_QCNL_JSON = 1,      /* DCAP >= 1.15: JSON, with // and block comments */
    DOCTOR_QCNL_KEY_VALUE = 2, /* older: KEY=VALUE lines, '#' comment lines */
} doctor_qcnl_format;

typedef struct {
    doctor_qcnl_format format;
    bool have_url;
    char url[DOCTOR_QCNL_URL_SIZE]; /* pccs_url / PCCS_URL, cut at the field size */
    bool secure; /* use_secure_cert / USE_SECURE_CERT; QCNL's default is true */
} doctor_qcnl;

/* A JSON object (comments outside strings dropped first) gives format JSON,
 * with or without the two keys. Otherwise the text is read as KEY=VALUE
 * lines (keys case-insensitive, white space around key and value trimmed,
 * USE_SECURE_CERT true only for "TRUE" in any case); FORMAT when no line
 * sets PCCS_URL or USE_SECURE_CERT. Later settings win. */
int doctor_qcnl_parse(const char *text, size_t len, doctor_qcnl *out);
/* "JSON", "key=value" or "none". */
const char *doctor_qcnl_format_name(doctor_qcnl_format f);

/* ---- URLs (from the QCNL config) ---- */

/* The host of "scheme://host[:port]/..." (or of "host[:port]/..." without a
 * scheme) into out, cut at cap - 1 bytes; a bracketed IPv6 host keeps its
 * brackets (an unclosed bracket takes the rest). url is a C string; nothing
 * is written when cap is 0. */
void doctor_url_host(const char *url, char *out, size_t cap);
/* localhost, localhost.*, 127.*, [::1], ::1 or 0.0.0.0. */
bool doctor_host_is_loopback(const char *host);

/* ---- what doctor prints ---- */

/* Makes a message safe to print and to put into JSON: every byte of an
 * invalid or truncated UTF-8 sequence, every C0 control (including '\n' and
 * '\t'), DEL, and every C1 control (U+0080..U+009F, which some terminals act
 * on) becomes '?'. Valid UTF-8 otherwise stays. In place; s is a C string. */
void doctor_display_sanitize(char *s);

#endif
