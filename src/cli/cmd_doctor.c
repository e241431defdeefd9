/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote doctor`: checks what a node needs for quoting and says, one
 * line per check, OK / WARN / FAIL and the fix (field notes §2.4, §3, §5;
 * docs/hardware.md "What doctor checks"). It only reads: device nodes,
 * /proc, the Intel libraries and QCNL config under --root-dir, one PCCS GET
 * and a few AESM requests to the socket (the same a DCAP app sends).
 * Facts are gathered first, then judged, because some verdicts depend on
 * others (no SGX device is fine for a simulated daemon, not for real use).
 * Node files are read here and parsed only by doctor_parse.c (fuzzed).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#if __has_include(<curl/curl.h>)
#include <curl/curl.h>
#define DOCTOR_HAVE_CURL 1
#else
#define DOCTOR_HAVE_CURL 0
#endif

#include "cli.h"
#include "client/client.h"
#include "crypto/x509.h"
#include "doctor_parse.h"
#include "sgx/reader.h"
#include "sim/sim.h"
#include "wire/wire.h"

#define DOCTOR_MAX_CHECKS 32
#define DOCTOR_PCCS_TIMEOUT_MAX_MS 2000
#define DOCTOR_SOCKET_TIMEOUT_MS 2000
#define DOCTOR_DEFAULT_SOCKET "/var/run/aesmd/aesm.socket"
#define DOCTOR_DEFAULT_QCNL "/etc/sgx_default_qcnl.conf"
/* Test mode (tests/hw/test_doctor.c when it cannot mknod): regular files
 * and FIFOs stand in for device nodes, and say so. */
#define DOCTOR_FAKE_DEVICES_ENV "SGXQH_DOCTOR_FAKE_DEVICES"

typedef enum { ST_OK = 0, ST_WARN = 1, ST_FAIL = 2 } doc_status;
static const char *const STATUS_NAME[] = {"OK", "WARN", "FAIL"};

typedef struct {
    const char *name;
    doc_status st;
    char msg[640];
    char fix[400];
} doc_check;

typedef struct {
    bool exists;
    bool is_dev; /* a character device (or a stand-in in test mode) */
    bool stand_in;
    struct stat st;
} dev_fact;

typedef enum { MODE_UNKNOWN, MODE_SIM, MODE_HW } daemon_mode;

typedef struct {
    /* options */
    const char *root; /* "" for / */
    const char *socket_path;
    const char *hw_lib_dir;
    bool json;
    int pccs_timeout_ms;
    bool fake_devices;

    /* facts */
    dev_fact enclave, provision, legacy_enclave, legacy_provision, isgx;
    bool in_container;
    char container_why[160];
    bool ping_ok;
    daemon_mode mode;
    char mode_how[400];
    int cert_type; /* of the daemon's quote: 5, 3, or 0 when none was made */

    doc_check checks[DOCTOR_MAX_CHECKS];
    size_t n;
} doctor;

static void add(doctor *d, const char *name, doc_status st, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void add(doctor *d, const char *name, doc_status st, const char *fix, const char *fmt, ...)
{
    va_list ap;
    doc_check *c;

    if (d->n >= DOCTOR_MAX_CHECKS)
        return;
    c = &d->checks[d->n++];
    c->name = name;
    c->st = st;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
    /* Messages quote node files (process names, URLs, mount options): keep
     * terminal controls off the screen and the text valid for --json. */
    doctor_display_sanitize(c->msg);
    snprintf(c->fix, sizeof(c->fix), "%s", fix != NULL ? fix : "");
}

/* <root><abs> into buf; false if it does not fit. */
static bool rpath(const doctor *d, const char *abs, char *buf, size_t cap)
{
    return (size_t)snprintf(buf, cap, "%s%s", d->root, abs) < cap;
}

static bool rexists(const doctor *d, const char *abs)
{
    char p[PATH_MAX];
    struct stat st;
    return rpath(d, abs, p, sizeof(p)) && lstat(p, &st) == 0;
}

/* Whole small file (NUL-terminated) or NULL. */
static char *read_small(const char *path, size_t max, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (f == NULL)
        return NULL;
    buf = malloc(max + 1);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    n = fread(buf, 1, max, f);
    fclose(f);
    buf[n] = '\0';
    if (len_out != NULL)
        *len_out = n;
    return buf;
}

static char *rread(const doctor *d, const char *abs, size_t max, size_t *len_out)
{
    char p[PATH_MAX];
    return rpath(d, abs, p, sizeof(p)) ? read_small(p, max, len_out) : NULL;
}

/* ---- groups, from <root>/etc/group (the node's view, not ours) ---- */

static bool group_lookup(const doctor *d, const char *name, long gid, char *name_out,
                         size_t name_cap, long *gid_out, char *members, size_t mcap)
{
    size_t len = 0;
    char *text = rread(d, "/etc/group", DOCTOR_GROUP_TEXT_MAX, &len);
    doctor_group g;
    bool found;

    if (text == NULL)
        return false;
    found = doctor_group_find(text, len, name, gid, &g) == DOCTOR_PARSE_OK;
    free(text);
    if (!found)
        return false;
    if (name_out != NULL)
        snprintf(name_out, name_cap, "%s", g.name);
    if (gid_out != NULL)
        *gid_out = g.gid;
    if (members != NULL)
        snprintf(members, mcap, "%s", g.members);
    return true;
}

static void group_name(const doctor *d, gid_t gid, char *out, size_t cap)
{
    if (!group_lookup(d, NULL, (long)gid, out, cap, NULL, NULL, 0))
        snprintf(out, cap, "%u", (unsigned)gid);
}

/* ---- devices ---- */

static void stat_dev(const doctor *d, const char *abs, dev_fact *f)
{
    char p[PATH_MAX];

    memset(f, 0, sizeof(*f));
    if (!rpath(d, abs, p, sizeof(p)) || stat(p, &f->st) != 0)
        return;
    f->exists = true;
    if (S_ISCHR(f->st.st_mode)) {
        f->is_dev = true;
    } else if (d->fake_devices && (S_ISREG(f->st.st_mode) || S_ISFIFO(f->st.st_mode))) {
        f->is_dev = true;
        f->stand_in = true;
    }
}

static void describe_dev(const doctor *d, const dev_fact *f, char *out, size_t cap)
{
    char grp[64];
    group_name(d, f->st.st_gid, grp, sizeof(grp));
    if (f->stand_in)
        snprintf(out, cap, "stand-in (test mode), mode %04o, owner %u, group %s",
                 (unsigned)(f->st.st_mode & 07777), (unsigned)f->st.st_uid, grp);
    else
        snprintf(out, cap, "character device %u:%u, mode %04o, owner %u, group %s",
                 major(f->st.st_rdev), minor(f->st.st_rdev), (unsigned)(f->st.st_mode & 07777),
                 (unsigned)f->st.st_uid, grp);
}

static bool hw_present(const doctor *d)
{
    return d->enclave.is_dev || d->legacy_enclave.is_dev || d->isgx.is_dev;
}

static void check_devices(doctor *d)
{
    char desc[200], grp[64];
    /* Missing hardware is expected when the daemon runs simulated. */
    doc_status missing = d->mode == MODE_SIM ? ST_WARN : ST_FAIL;

    if (d->enclave.is_dev) {
        unsigned mode = d->enclave.st.st_mode & 0777;
        describe_dev(d, &d->enclave, desc, sizeof(desc));
        if ((mode & 0006) == 0006 || (mode & 0060) == 0060)
            add(d, "sgx_enclave", ST_OK, NULL, "/dev/sgx_enclave: %s", desc);
        else
            add(d, "sgx_enclave", ST_WARN,
                "make it 0666 (Intel's udev rule) or group-accessible to the daemon's user",
                "/dev/sgx_enclave: %s: only its owner can open it, so a non-root daemon gets "
                "EACCES (Docker --device nodes are root-only)",
                desc);
    } else if (d->enclave.exists) {
        add(d, "sgx_enclave", ST_FAIL, "remove it and let the kernel (udev) or the device plugin "
                                       "create the node",
            "/dev/sgx_enclave exists but is not a character device");
    } else if (d->legacy_enclave.is_dev || d->isgx.is_dev) {
        add(d, "sgx_enclave", ST_WARN,
            "use a kernel >= 5.11 (in-kernel SGX driver) or the DCAP driver's udev symlinks",
            "/dev/sgx_enclave is missing; only the legacy %s exists",
            d->legacy_enclave.is_dev ? "/dev/sgx/enclave" : "/dev/isgx");
    } else {
        add(d, "sgx_enclave", missing,
            d->mode == MODE_SIM
                ? "nothing to do for simulation; for real quotes run on an SGX node"
                : "enable SGX (and FLC) in the BIOS, use a kernel >= 5.11; in Kubernetes request "
                  "sgx.intel.com/enclave; without SGX run the daemon with --backend sim",
            "/dev/sgx_enclave is missing: no SGX device here%s",
            d->mode == MODE_SIM ? " (fine: the daemon runs simulated)" : "");
    }

    if (d->provision.is_dev) {
        unsigned mode = d->provision.st.st_mode & 0777;
        describe_dev(d, &d->provision, desc, sizeof(desc));
        group_name(d, d->provision.st.st_gid, grp, sizeof(grp));
        if ((mode & 0006) != 0)
            add(d, "sgx_provision", ST_WARN,
                "chgrp sgx_prv /dev/sgx_provision && chmod 0660 /dev/sgx_provision (Intel's "
                "92-sgx-provision.rules)",
                "/dev/sgx_provision: %s: every local process can get the provisioning key", desc);
        else if (strcmp(grp, "sgx_prv") == 0 && (mode & 0060) == 0060)
            add(d, "sgx_provision", ST_OK, NULL, "/dev/sgx_provision: %s", desc);
        else
            add(d, "sgx_provision", ST_WARN,
                "chgrp sgx_prv /dev/sgx_provision && chmod 0660 it, and add the daemon's user to "
                "sgx_prv (usermod -aG sgx_prv USER); root needs nothing",
                "/dev/sgx_provision: %s: not group sgx_prv 0660, so only %s can use it", desc,
                (mode & 0060) == 0060 ? "its owner and group" : "its owner");
    } else if (d->legacy_provision.is_dev) {
        add(d, "sgx_provision", ST_WARN, "use a kernel >= 5.11 (in-kernel SGX driver)",
            "/dev/sgx_provision is missing; only the legacy /dev/sgx/provision exists");
    } else {
        add(d, "sgx_provision", missing,
            d->mode == MODE_SIM ? "nothing to do for simulation"
                                : "mount /dev/sgx_provision into the daemon (Kubernetes: request "
                                  "sgx.intel.com/provision); the PCE needs it to certify keys",
            "/dev/sgx_provision is missing: the PCE cannot get its provisioning key%s",
            d->mode == MODE_SIM ? " (fine: the daemon runs simulated)" : "");
    }

    {
        char found[160] = "";
        if (d->legacy_enclave.exists)
            strcat(found, " /dev/sgx/enclave");
        if (d->legacy_provision.exists)
            strcat(found, " /dev/sgx/provision");
        if (d->isgx.exists)
            strcat(found, " /dev/isgx");
        if (found[0] == '\0')
            add(d, "legacy_devices", ST_OK, NULL, "no legacy SGX device names");
        else if (d->isgx.exists && !d->enclave.is_dev)
            add(d, "legacy_devices", ST_WARN,
                "DCAP quoting needs FLC and the in-kernel driver (/dev/sgx_enclave); the isgx "
                "driver serves EPID-era launch control only",
                "legacy nodes:%s (out-of-tree driver)", found);
        else
            add(d, "legacy_devices", ST_OK, NULL,
                "legacy names present:%s (udev compatibility links; harmless)", found);
    }
}

static void check_sgx_prv(doctor *d)
{
    char members[512];
    long gid = -1;

    if (!group_lookup(d, "sgx_prv", -1, NULL, 0, &gid, members, sizeof(members))) {
        add(d, "sgx_prv_group", d->provision.is_dev ? ST_WARN : ST_OK,
            d->provision.is_dev ? "groupadd -r sgx_prv and install Intel's udev rule "
                                  "(92-sgx-provision.rules), or run the daemon as root"
                                : NULL,
            "no sgx_prv group in %s/etc/group%s", d->root,
            d->provision.is_dev ? "" : " (no /dev/sgx_provision either)");
        return;
    }
    if (members[0] == '\0')
        add(d, "sgx_prv_group", ST_WARN,
            "usermod -aG sgx_prv USER for the user the daemon runs as (not needed for root)",
            "group sgx_prv (gid %ld) has no members", gid);
    else
        add(d, "sgx_prv_group", ST_OK, NULL, "group sgx_prv (gid %ld): %s", gid, members);
}

/* ---- /dev noexec (field notes §2.4) ---- */

static void check_dev_noexec(doctor *d)
{
    size_t len = 0;
    char *text = rread(d, "/proc/self/mountinfo", DOCTOR_MOUNTS_TEXT_MAX, &len);
    bool mountinfo = text != NULL;
    char src[64];
    doctor_dev_mount m;
    int rc;

    if (text == NULL)
        text = rread(d, "/proc/mounts", DOCTOR_MOUNTS_TEXT_MAX, &len);
    snprintf(src, sizeof(src), "%s", mountinfo ? "/proc/self/mountinfo" : "/proc/mounts");
    if (text == NULL) {
        add(d, "dev_noexec", ST_WARN, "run doctor where /proc is mounted",
            "cannot read %s/proc/self/mountinfo or /proc/mounts", d->root);
        return;
    }
    rc = doctor_mounts_find_dev(
        text, len, mountinfo ? DOCTOR_MOUNTS_MOUNTINFO : DOCTOR_MOUNTS_PROC_MOUNTS, &m);
    free(text);
    if (rc != DOCTOR_PARSE_OK) {
        add(d, "dev_noexec", ST_WARN, NULL, "no mount covering /dev in %s%s", d->root, src);
        return;
    }
    if (m.noexec)
        add(d, "dev_noexec", hw_present(d) ? ST_FAIL : ST_WARN,
            "mount -o remount,exec /dev (aesmd's unit pulls in remount-dev-exec.service for "
            "this); in containers do not mount /dev noexec",
            "/dev is mounted noexec (%s on %s): enclaves cannot map their pages executable, "
            "so QE3/PCE fail to load",
            m.options, m.mount_point);
    else
        add(d, "dev_noexec", ST_OK, NULL, "/dev is mounted exec (%s on %s)", m.options,
            m.mount_point);
}

/* ---- Intel libraries ---- */

/* Older DCAP releases than this predate the QPL logging callback
 * (sgx_ql_set_logging_callback, DCAP 1.14) that the hardware backend
 * installs through the QE3 logic's exported QPL handle. */
#define DOCTOR_MIN_DCAP_VERSION "1.14"

/* Finds base.so* in the library dirs under root; the version is the suffix
 * after ".so." of the file (or of the symlink's target), the longest one
 * wins. Returns false when nothing matches. */
static bool find_lib(const doctor *d, const char *base, char *dir_out, size_t dcap, char *ver,
                     size_t vcap)
{
    static const char *const DIRS[] = {
        "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64",
        "/usr/lib", "/lib", "/usr/local/lib", "/opt/intel/sgx-dcap/lib64",
    };
    bool found = false;

    ver[0] = '\0';
    for (size_t i = 0; i < sizeof(DIRS) / sizeof(DIRS[0]) + 1; i++) {
        char dir[PATH_MAX];
        DIR *dh;
        struct dirent *e;
        if (i == 0) {
            if (d->hw_lib_dir == NULL)
                continue;
            snprintf(dir, sizeof(dir), "%s", d->hw_lib_dir); /* a daemon flag: not under root */
        } else if (!rpath(d, DIRS[i - 1], dir, sizeof(dir))) {
            continue;
        }
        dh = opendir(dir);
        if (dh == NULL)
            continue;
        while ((e = readdir(dh)) != NULL) {
            char full[PATH_MAX], target[PATH_MAX];
            const char *v;
            ssize_t tl;
            if (doctor_lib_version(e->d_name, base, NULL, &v) != DOCTOR_PARSE_OK)
                continue;
            if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, e->d_name) >= sizeof(full))
                continue;
            tl = readlink(full, target, sizeof(target) - 1);
            if (tl > 0) {
                target[tl] = '\0';
                if (doctor_lib_version(e->d_name, base, target, &v) != DOCTOR_PARSE_OK)
                    continue; /* cannot happen: the name matched above */
            }
            if (!found || doctor_version_cmp(v, ver) > 0) {
                snprintf(ver, vcap, "%s", v);
                snprintf(dir_out, dcap, "%s", dir);
            }
            found = true;
        }
        closedir(dh);
        if (found)
            break; /* the first directory that has it is what the loader would use */
    }
    return found;
}

static void check_libs(doctor *d, bool *qpl_found)
{
    struct {
        const char *check, *base, *pkg;
        int role; /* 0: the daemon's hw backend needs it, 1: apps only, 2: QPL */
    } const LIBS[] = {
        {"lib_qe3_logic", "libsgx_qe3_logic", "libsgx-qe3-logic", 0},
        {"lib_pce_logic", "libsgx_pce_logic", "libsgx-pce-logic", 0},
        {"lib_dcap_ql", "libsgx_dcap_ql", "libsgx-dcap-ql", 1},
        {"lib_qpl", "libdcap_quoteprov", "libsgx-dcap-default-qpl", 2},
    };
    char vers[2][64] = {"", ""};

    for (size_t i = 0; i < sizeof(LIBS) / sizeof(LIBS[0]); i++) {
        char dir[PATH_MAX], ver[64];
        bool found = find_lib(d, LIBS[i].base, dir, sizeof(dir), ver, sizeof(ver));
        if (LIBS[i].role == 2)
            *qpl_found = found;
        if (found) {
            if (LIBS[i].role == 0)
                snprintf(vers[i], sizeof(vers[i]), "%s", ver);
            add(d, LIBS[i].check, ST_OK, NULL, "%s.so %s in %s", LIBS[i].base,
                ver[0] ? ver : "(unversioned)", dir);
            continue;
        }
        if (LIBS[i].role == 0) {
            char fix[200];
            snprintf(fix, sizeof(fix), "apt-get install %s (Intel's SGX repository), or start the "
                                       "daemon with --hw-lib-dir DIR",
                     LIBS[i].pkg);
            add(d, LIBS[i].check, hw_present(d) ? ST_FAIL : ST_WARN, fix,
                "%s.so not found: the hardware backend cannot start%s", LIBS[i].base,
                hw_present(d) ? "" : " (not needed for simulation)");
        } else if (LIBS[i].role == 1) {
            add(d, LIBS[i].check, ST_OK, NULL,
                "%s.so not installed: the daemon never uses it (applications that quote through "
                "DCAP bring %s in their own image)",
                LIBS[i].base, LIBS[i].pkg);
        } else {
            add(d, LIBS[i].check, hw_present(d) ? ST_WARN : ST_OK,
                !hw_present(d)
                    ? NULL
                    : "apt-get install libsgx-dcap-default-qpl (or your cloud's QPL, e.g. "
                      "az-dcap-client)",
                "no quote provider library (libdcap_quoteprov.so): QE3 falls back to cert data "
                "type 3 (encrypted PPID), which most verifiers cannot use directly%s",
                hw_present(d) ? "" : " (not needed for simulation)");
        }
    }
    /* libsgx_qe3_logic.so carries no version in its name and the PCE's
     * soname version never moves: the packages' versions tell releases
     * apart. File-name versions are the fallback (other distributions). */
    {
        size_t len = 0;
        char *status = rread(d, "/var/lib/dpkg/status", DOCTOR_DPKG_STATUS_TEXT_MAX, &len);
        char pkg_ver[2][64] = {"", ""};
        if (status != NULL) {
            (void)doctor_dpkg_version(status, len, "libsgx-qe3-logic", pkg_ver[0],
                                      sizeof(pkg_ver[0]));
            (void)doctor_dpkg_version(status, len, "libsgx-pce-logic", pkg_ver[1],
                                      sizeof(pkg_ver[1]));
            free(status);
        }
        for (int i = 0; i < 2; i++) {
            if (pkg_ver[i][0] != '\0')
                snprintf(vers[i], sizeof(vers[i]), "%s", pkg_ver[i]);
        }
    }
    if (vers[0][0] != '\0' && vers[1][0] != '\0' && strcmp(vers[0], vers[1]) != 0)
        add(d, "lib_versions", ST_WARN,
            "install libsgx-qe3-logic and libsgx-pce-logic from the same DCAP release",
            "libsgx_qe3_logic %s and libsgx_pce_logic %s come from different DCAP releases",
            vers[0], vers[1]);
    else if (vers[0][0] != '\0' && doctor_version_cmp(vers[0], DOCTOR_MIN_DCAP_VERSION) < 0)
        add(d, "lib_versions", ST_WARN,
            "install a current DCAP release (libsgx-qe3-logic, libsgx-pce-logic)",
            "libsgx_qe3_logic %s is older than DCAP %s: its QE3 logic and QPL may lack the "
            "exports the daemon uses (load_qe, sgx_set_qpl_path, get_qpl_handle, the QPL "
            "logging callback), so QE3 loads late, the provider cannot be chosen and QPL log "
            "lines are lost",
            vers[0], DOCTOR_MIN_DCAP_VERSION);
    else if (vers[0][0] != '\0')
        add(d, "lib_versions", ST_OK, NULL, "libsgx_qe3_logic %s, libsgx_pce_logic %s", vers[0],
            vers[1][0] != '\0' ? vers[1] : "(unknown)");
}

/* ---- environment, QPL config, PCCS ---- */

static void detect_container(doctor *d)
{
    char *cg;
    size_t len = 0;
    if (rexists(d, "/.dockerenv")) {
        d->in_container = true;
        snprintf(d->container_why, sizeof(d->container_why), "/.dockerenv exists");
        return;
    }
    if (rexists(d, "/run/.containerenv")) {
        d->in_container = true;
        snprintf(d->container_why, sizeof(d->container_why), "/run/.containerenv exists");
        return;
    }
    cg = rread(d, "/proc/1/cgroup", DOCTOR_CGROUP_TEXT_MAX, &len);
    if (cg != NULL) {
        const char *mark;
        if (doctor_cgroup_container_mark(cg, len, &mark) == DOCTOR_PARSE_OK) {
            d->in_container = true;
            snprintf(d->container_why, sizeof(d->container_why), "/proc/1/cgroup mentions %s",
                     mark);
        }
        free(cg);
    }
    if (!d->in_container)
        snprintf(d->container_why, sizeof(d->container_why),
                 "no /.dockerenv, /run/.containerenv or container cgroup");
}

#if DOCTOR_HAVE_CURL
static size_t curl_discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}
#endif

static void check_pccs(doctor *d, const doctor_qcnl *q)
{
    char url[600], host[256];
    if (!q->have_url) {
        add(d, "pccs", ST_WARN, "set pccs_url in the QCNL config",
            "no PCCS URL configured, nothing to reach");
        return;
    }
    doctor_url_host(q->url, host, sizeof(host));
    /* The PCCS API's cheapest unauthenticated GET: the root CA CRL. */
    snprintf(url, sizeof(url), "%s%srootcacrl", q->url,
             q->url[0] != '\0' && q->url[strlen(q->url) - 1] == '/' ? "" : "/");
#if DOCTOR_HAVE_CURL
    {
        CURL *c = curl_easy_init();
        char errbuf[CURL_ERROR_SIZE] = "";
        long code = 0;
        double secs = 0;
        CURLcode rc;
        if (c == NULL) {
            add(d, "pccs", ST_WARN, NULL, "libcurl could not start; PCCS not checked");
            return;
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)d->pccs_timeout_ms);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)d->pccs_timeout_ms);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_discard);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, q->secure ? 1L : 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, q->secure ? 2L : 0L);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &secs);
        curl_easy_cleanup(c);
        if (rc == CURLE_OK && code == 200)
            add(d, "pccs", ST_OK, NULL, "GET %s: HTTP 200 in %.0f ms", url, secs * 1000.0);
        else if (rc == CURLE_OK)
            add(d, "pccs", ST_WARN,
                "check that pccs_url names the PCCS API base (…/sgx/certification/v4/)",
                "GET %s: reachable, but HTTP %ld", url, code);
        else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
                 rc == CURLE_SSL_CONNECT_ERROR)
            add(d, "pccs", ST_FAIL,
                "install the PCCS's CA certificate, or set \"use_secure_cert\": false for a "
                "self-signed PCCS",
                "GET %s: TLS failed: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        else
            add(d, "pccs", ST_FAIL,
                d->in_container && doctor_host_is_loopback(host)
                    ? "point pccs_url at the node's PCCS address, not localhost"
                    : "check the PCCS is running and reachable from here (firewall, proxy, DNS)",
                "GET %s failed within %d ms: %s (quotes will fail with 0xe019 "
                "SGX_QL_NETWORK_ERROR)",
                url, d->pccs_timeout_ms, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
#else
    add(d, "pccs", ST_WARN, "rebuild with libcurl", "built without libcurl: %s not checked", url);
#endif
}

static void check_qcnl(doctor *d, bool qpl_found)
{
    const char *envp = getenv("QCNL_CONF_PATH"); /* Intel's QCNL honours it too */
    const char *abs = envp != NULL && envp[0] != '\0' ? envp : DOCTOR_DEFAULT_QCNL;
    char path[PATH_MAX], host[256];
    char *text;
    size_t len = 0;
    doctor_qcnl q;
    int rc;

    add(d, "environment", ST_OK, NULL, "%s (%s)", d->in_container ? "inside a container" : "on a host",
        d->container_why);
    if (!rpath(d, abs, path, sizeof(path)) ||
        (text = read_small(path, DOCTOR_QCNL_TEXT_MAX, &len)) == NULL) {
        add(d, "qcnl_config", qpl_found && hw_present(d) ? ST_FAIL : ST_WARN,
            "mount the node's sgx_default_qcnl.conf there (Kubernetes: ConfigMap or hostPath), "
            "with pccs_url pointing at your PCCS",
            "%s missing: Intel's default QPL then tries its built-in https://localhost:8081",
            path);
        return;
    }
    rc = doctor_qcnl_parse(text, len, &q);
    free(text);
    if (rc == DOCTOR_PARSE_E_NOMEM) {
        add(d, "qcnl_config", ST_WARN, NULL, "%s: out of memory while reading it", path);
        return;
    }
    if (rc != DOCTOR_PARSE_OK) {
        add(d, "qcnl_config", ST_FAIL,
            "fix the file: JSON with \"pccs_url\" (DCAP >= 1.15) or PCCS_URL=... lines",
            "%s: neither JSON nor key=value settings", path);
        return;
    }
    if (!q.have_url) {
        add(d, "qcnl_config", ST_WARN, "set \"pccs_url\"",
            "%s (%s) has no pccs_url: the QPL uses its default (localhost)", path,
            doctor_qcnl_format_name(q.format));
    } else {
        doctor_url_host(q.url, host, sizeof(host));
        if (doctor_host_is_loopback(host) && d->in_container)
            add(d, "qcnl_config", ST_FAIL,
                "use the node's address or the PCCS Service name in pccs_url; localhost inside a "
                "container is the container itself",
                "%s: pccs_url %s points at %s, but this is a container (%s)", path, q.url, host,
                d->container_why);
        else
            add(d, "qcnl_config", ST_OK, NULL, "%s (%s): pccs_url %s%s", path,
                doctor_qcnl_format_name(q.format), q.url,
                q.secure ? "" : ", use_secure_cert false");
    }
    check_pccs(d, &q);
}

/* ---- the socket and the daemon ---- */

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Who has the socket bound: /proc/net/unix inode → a process's fd. */
static bool socket_owner(const doctor *d, const char *sock, long *pid_out, char *comm,
                         size_t ccap)
{
    size_t len = 0;
    char *text = rread(d, "/proc/net/unix", DOCTOR_NET_UNIX_TEXT_MAX, &len);
    char want[64] = "";
    unsigned long inode;
    DIR *proc;
    struct dirent *e;
    char procdir[PATH_MAX];
    bool found = false;

    if (text == NULL)
        return false;
    if (doctor_net_unix_find_listener(text, len, sock, &inode) == DOCTOR_PARSE_OK)
        snprintf(want, sizeof(want), "socket:[%lu]", inode);
    free(text);
    if (want[0] == '\0' || !rpath(d, "/proc", procdir, sizeof(procdir)) ||
        (proc = opendir(procdir)) == NULL)
        return false;
    while (!found && (e = readdir(proc)) != NULL) {
        char fddir[PATH_MAX];
        DIR *fds;
        struct dirent *f;
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        if ((size_t)snprintf(fddir, sizeof(fddir), "%s/%s/fd", procdir, e->d_name) >= sizeof(fddir))
            continue;
        fds = opendir(fddir);
        if (fds == NULL)
            continue;
        while ((f = readdir(fds)) != NULL) {
            char link[PATH_MAX], target[128];
            ssize_t n;
            if ((size_t)snprintf(link, sizeof(link), "%s/%s", fddir, f->d_name) >= sizeof(link))
                continue;
            n = readlink(link, target, sizeof(target) - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (strcmp(target, want) == 0) {
                char cpath[PATH_MAX], name[DOCTOR_COMM_SIZE];
                char *c;
                size_t clen = 0;
                found = true;
                *pid_out = atol(e->d_name);
                c = (size_t)snprintf(cpath, sizeof(cpath), "%s/%s/comm", procdir, e->d_name) <
                            sizeof(cpath)
                        ? read_small(cpath, DOCTOR_COMM_TEXT_MAX, &clen)
                        : NULL;
                if (c == NULL || doctor_comm_parse(c, clen, name) != DOCTOR_PARSE_OK)
                    snprintf(name, sizeof(name), "?");
                snprintf(comm, ccap, "%s", name);
                free(c);
                break;
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return found;
}

/* Intel's aesmd processes (comm "aesm_service") under <root>/proc. */
static size_t find_aesm_service(const doctor *d, long *pids, size_t cap)
{
    char procdir[PATH_MAX];
    DIR *proc;
    struct dirent *e;
    size_t n = 0;

    if (!rpath(d, "/proc", procdir, sizeof(procdir)) || (proc = opendir(procdir)) == NULL)
        return 0;
    while ((e = readdir(proc)) != NULL) {
        char cpath[PATH_MAX], name[DOCTOR_COMM_SIZE];
        char *c;
        size_t clen = 0;
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        if ((size_t)snprintf(cpath, sizeof(cpath), "%s/%s/comm", procdir, e->d_name) >= sizeof(cpath))
            continue;
        c = read_small(cpath, DOCTOR_COMM_TEXT_MAX, &clen);
        if (c == NULL)
            continue;
        if (doctor_comm_parse(c, clen, name) == DOCTOR_PARSE_OK &&
            strcmp(name, "aesm_service") == 0 && n < cap)
            pids[n++] = atol(e->d_name);
        free(c);
    }
    closedir(proc);
    return n;
}

static int raw_connect(const char *path)
{
    struct sockaddr_un sa;
    int fd, rc, err;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    err = errno;
    close(fd);
    return rc == 0 ? 0 : -err;
}

static void check_socket(doctor *d)
{
    const char *sock = d->socket_path;
    struct stat st;
    long pids[8];
    size_t naesm = find_aesm_service(d, pids, 8);
    long owner_pid = 0;
    char owner_comm[64] = "";
    bool owned = false;

    if (lstat(sock, &st) != 0) {
        add(d, "socket", ST_FAIL,
            "start sgx-quote-helperd; in a pod, mount the host's /var/run/aesmd directory (not "
            "the socket file)",
            "%s does not exist: no quote service here", sock);
    } else if (!S_ISSOCK(st.st_mode)) {
        add(d, "socket", ST_FAIL, "remove it; the daemon creates the socket itself",
            "%s exists but is not a socket", sock);
    } else if ((st.st_mode & 0006) != 0006) {
        add(d, "socket", ST_WARN,
            "start the daemon with --socket-mode 0666 (aesmd uses 0777), or give clients its group",
            "%s: socket, mode %04o, owner %u:%u: processes of other users (other pods) cannot "
            "connect",
            sock, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid);
    } else {
        add(d, "socket", ST_OK, NULL, "%s: socket, mode %04o, owner %u:%u", sock,
            (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid);
    }

    /* ping: GetSupportedAttKeyIDNum, Intel's exact bytes (aesm §3.6). */
    {
        static const uint8_t PING[] = {0x06, 0x00, 0x00, 0x00, 0xaa, 0x01, 0x03, 0x48, 0x98, 0x75};
        client_opts o;
        uint8_t *resp = NULL;
        size_t resp_len = 0;
        Aesm__Response *r = NULL;
        struct timespec t0;
        int rc, crc;

        client_opts_default(&o);
        o.socket_path = sock;
        o.connect_retry_ms = 0;
        o.io_timeout_ms = DOCTOR_SOCKET_TIMEOUT_MS;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = client_transact(&o, PING, sizeof(PING), 65536, &resp, &resp_len);
        if (rc == CLIENT_E_UNAVAILABLE && (crc = raw_connect(sock)) != 0) {
            /* Only now connect by hand, to tell why (the client says "unavailable"). */
            add(d, "socket_ping", ST_FAIL,
                crc == -ECONNREFUSED ? "nothing listens: a stale file from a stopped daemon; "
                                       "restart sgx-quote-helperd (it replaces it)"
                : crc == -EACCES     ? "run as a user allowed by the socket's mode, or fix the mode"
                                     : "start sgx-quote-helperd",
                "cannot connect to %s: %s", sock, strerror(-crc));
        } else if (rc != 0) {
            add(d, "socket_ping", ST_FAIL,
                "check the daemon's log; something accepts connections but does not answer AESM "
                "requests",
                "%s did not answer GetSupportedAttKeyIDNum: %s", sock, client_strerror(rc));
        } else if (wire_response_decode(resp, resp_len, &r) != WIRE_OK ||
                   r->getsupportedattkeyidnumres == NULL) {
            add(d, "socket_ping", ST_FAIL, "is an AESM-compatible service bound there?",
                "%s answered something that is not a GetSupportedAttKeyIDNum response", sock);
        } else if (r->getsupportedattkeyidnumres->errorcode != 0) {
            add(d, "socket_ping", ST_WARN, "see the daemon's log for the backend's state",
                "%s answered errorCode %u in %.0f ms", sock,
                (unsigned)r->getsupportedattkeyidnumres->errorcode, ms_since(&t0));
        } else {
            d->ping_ok = true;
            add(d, "socket_ping", ST_OK, NULL, "%s answered in %.0f ms: %u attestation key id(s)",
                sock, ms_since(&t0), (unsigned)r->getsupportedattkeyidnumres->att_key_id_num);
        }
        wire_response_free(r);
        free(resp);
    }

    owned = socket_owner(d, sock, &owner_pid, owner_comm, sizeof(owner_comm));
    if (owned && strcmp(owner_comm, "aesm_service") == 0)
        add(d, "other_aesmd", ST_WARN,
            "stop Intel's aesmd (systemctl disable --now aesmd) if sgx-quote-helperd should serve "
            "this node; two services must not share /var/run/aesmd",
            "%s is served by Intel's aesm_service (pid %ld), not sgx-quote-helperd", sock, owner_pid);
    else if (naesm > 0)
        add(d, "other_aesmd", ST_WARN,
            "run only one AESM service per node: systemctl disable --now aesmd, or remove the "
            "aesmd DaemonSet",
            "Intel's aesm_service runs too (pid %ld%s): whichever binds last owns the socket, and "
            "aesmd unlinks it on exit%s%s",
            pids[0], naesm > 1 ? " and others" : "", owned ? "; the socket is bound by " : "",
            owned ? owner_comm : "");
    else
        add(d, "other_aesmd", ST_OK, NULL, "no aesm_service process%s%s",
            owned ? "; the socket is bound by " : "", owned ? owner_comm : "");
}

static void check_sgx_aesm_addr(doctor *d)
{
    const char *v = getenv("SGX_AESM_ADDR");
    if (v == NULL) {
        add(d, "sgx_aesm_addr", ST_OK, NULL,
            "SGX_AESM_ADDR is not set here: libsgx_dcap_ql in this environment quotes in-process "
            "(needs /dev/sgx_provision and Intel's enclaves in the image); set SGX_AESM_ADDR=1 to "
            "use the quote service");
    } else if (v[0] == '/') {
        bool dflt = strcmp(v, DOCTOR_DEFAULT_SOCKET) == 0;
        add(d, "sgx_aesm_addr", dflt ? ST_OK : ST_WARN,
            dflt ? NULL
                 : "mount the service's directory at /var/run/aesmd for Intel's clients; keep the "
                   "path only if every client uses our libsgx_quote_ex",
            "SGX_AESM_ADDR=%s: libsgx_dcap_ql goes out-of-proc; Intel's libsgx_quote_ex ignores "
            "the value and always uses " DOCTOR_DEFAULT_SOCKET "%s",
            v, dflt ? "" : ", only our libsgx_quote_ex connects to this path");
    } else {
        add(d, "sgx_aesm_addr", v[0] == '\0' || strcmp(v, "0") == 0 ? ST_WARN : ST_OK,
            v[0] == '\0' || strcmp(v, "0") == 0
                ? "unset the variable to quote in-process; any value, even 0 or empty, means "
                  "out-of-proc"
                : NULL,
            "SGX_AESM_ADDR=\"%s\": libsgx_dcap_ql goes out-of-proc and sends quote requests to "
            DOCTOR_DEFAULT_SOCKET " (only the variable's presence counts, not its value; it is "
            "read when the library loads)",
            v);
    }
}

/* Ask the daemon which platform signs its quotes: InitQuoteEx, a
 * simulation-mode report for that QE, GetQuoteEx; a simulated PCK
 * certificate says "Simulated" in its CN, and a real QE3 rejects a
 * simulation-mode report (AESM 47, client 0x3001). */
static void probe_mode(doctor *d)
{
    client_opts o;
    sgx_att_key_id_t kid;
    sgx_target_info_t ti;
    sgx_report_t report;
    sim_enclave_identity id;
    size_t pub_size = 32;
    uint8_t pub[32];
    uint32_t size = 0;
    uint8_t *quote = NULL;
    sgx_status_t s;

    client_opts_default(&o);
    o.socket_path = d->socket_path;
    o.connect_retry_ms = 0;
    o.io_timeout_ms = 5000;
    client_default_ecdsa_key_id(&kid);
    if ((s = client_init_quote_ex(&o, &kid, &ti, &pub_size, pub)) != SGX_SUCCESS) {
        snprintf(d->mode_how, sizeof(d->mode_how), "InitQuoteEx failed: %s (0x%04x)",
                 sgx_status_name(s), (unsigned)s);
        return;
    }
    sim_enclave_identity_default(&id);
    if (sim_ereport(&id, &ti, &report) != SIM_OK)
        return;
    if ((s = client_get_quote_size_ex(&o, &kid, &size)) != SGX_SUCCESS || size < 1052 ||
        size > 1052 + 65536) {
        snprintf(d->mode_how, sizeof(d->mode_how), "GetQuoteSizeEx failed: %s (0x%04x)",
                 sgx_status_name(s), (unsigned)s);
        return;
    }
    quote = calloc(1, size);
    if (quote == NULL)
        return;
    s = client_get_quote_ex(&o, &report, &kid, NULL, quote, size);
    if (s == SGX_ERROR_MAC_MISMATCH) {
        d->mode = MODE_HW;
        snprintf(d->mode_how, sizeof(d->mode_how),
                 "asked the daemon: its QE rejected a simulation-mode report (AESM 47), as a real "
                 "QE3 does");
    } else if (s != SGX_SUCCESS) {
        snprintf(d->mode_how, sizeof(d->mode_how), "GetQuoteEx failed: %s (0x%04x)",
                 sgx_status_name(s), (unsigned)s);
    } else {
        /* Cert data (aesm §6.6): type at 1046, size at 1048, data at 1052. */
        reader r;
        uint16_t type = 0;
        uint32_t clen = 0;
        const uint8_t *cdata = NULL;
        if (reader_init(&r, quote, size) == READER_OK && reader_skip(&r, 1046) == READER_OK &&
            reader_u16le(&r, &type) == READER_OK && reader_u32le(&r, &clen) == READER_OK &&
            reader_bytes(&r, clen, &cdata) == READER_OK && type == 5) {
            d->cert_type = 5;
            x509_cert *leaf = NULL;
            char cn[256] = "";
            if (x509_cert_from_pem((const char *)cdata, clen, &leaf) == 0 &&
                x509_cert_subject_cn(leaf, cn, sizeof(cn)) == 0) {
                bool sim = strcasestr(cn, "simulated") != NULL;
                d->mode = sim ? MODE_SIM : MODE_HW;
                snprintf(d->mode_how, sizeof(d->mode_how),
                         "asked the daemon for a quote: its PCK certificate is \"%s\"", cn);
            }
            x509_cert_free(leaf);
        } else if (type == 3) {
            d->cert_type = 3;
            d->mode = MODE_HW;
            snprintf(d->mode_how, sizeof(d->mode_how),
                     "asked the daemon for a quote: cert data type 3 (encrypted PPID) comes "
                     "only from Intel's QE3 without a QPL");
        }
    }
    free(quote);
}

static void check_mode(doctor *d)
{
    if (d->mode == MODE_SIM)
        add(d, "daemon_mode", hw_present(d) ? ST_FAIL : ST_WARN,
            hw_present(d) ? "restart the daemon with --backend hw (or auto) on this SGX node"
                          : "fine for development and CI; real verifiers reject these quotes",
            "the daemon runs in SIMULATION mode (%s)%s", d->mode_how,
            hw_present(d) ? ", although this node has SGX hardware" : "");
    else if (d->mode == MODE_HW)
        add(d, "daemon_mode", ST_OK, NULL, "the daemon quotes with SGX hardware (%s)", d->mode_how);
    else
        add(d, "daemon_mode", ST_WARN,
            d->ping_ok ? "see the daemon's log" : "start the daemon, then run doctor again",
            "unknown: %s; inferred from the devices: %s", d->ping_ok ? d->mode_how
                                                                     : "the daemon did not answer",
            hw_present(d) ? "SGX device present, so --backend auto would use the hardware"
                          : "no SGX device, so --backend auto would run simulated");
}

/* What the daemon's quotes carry: the PCK chain (5), or the encrypted PPID
 * (3) that QE3 falls back to without a usable quote provider. */
static void check_cert_type(doctor *d)
{
    if (d->cert_type == 5)
        add(d, "daemon_cert_type", ST_OK, NULL,
            "the daemon's quotes carry the PCK certificate chain (certification data type 5)");
    else if (d->cert_type == 3)
        add(d, "daemon_cert_type", ST_FAIL,
            "give the daemon a quote provider: install libsgx-dcap-default-qpl (or "
            "az-dcap-client) in its image and check its config; the daemon's log names the "
            "provider it found at start (\"quote provider library ...\" or \"NO QUOTE "
            "PROVIDER\")",
            "the daemon's quotes carry certification data type 3 (encrypted PPID): its QE3 "
            "logic has no usable quote provider, and most verifiers reject these quotes");
}

/* ---- output ---- */

static int emit(const doctor *d)
{
    size_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < d->n; i++)
        counts[d->checks[i].st]++;
    if (d->json) {
        json_t *root = json_object(), *arr = json_array();
        char *text;
        for (size_t i = 0; i < d->n; i++) {
            const doc_check *c = &d->checks[i];
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "check", c->name,
                                                 "status", STATUS_NAME[c->st], "message", c->msg,
                                                 "fix", c->fix));
        }
        json_object_set_new(root, "root_dir", json_string(d->root[0] ? d->root : "/"));
        json_object_set_new(root, "socket", json_string(d->socket_path));
        json_object_set_new(root, "checks", arr);
        json_object_set_new(root, "summary", json_pack("{s:I, s:I, s:I}", "ok",
                                                       (json_int_t)counts[0], "warn",
                                                       (json_int_t)counts[1], "fail",
                                                       (json_int_t)counts[2]));
        text = json_dumps(root, JSON_INDENT(2));
        json_decref(root);
        if (text == NULL)
            return CLI_EXIT_FAIL;
        printf("%s\n", text);
        free(text);
    } else {
        for (size_t i = 0; i < d->n; i++) {
            const doc_check *c = &d->checks[i];
            printf("%-4s %-15s %s%s%s\n", STATUS_NAME[c->st], c->name, c->msg,
                   c->fix[0] ? " -> fix: " : "", c->fix);
        }
        printf("doctor: %zu OK, %zu WARN, %zu FAIL\n", counts[0], counts[1], counts[2]);
    }
    return counts[ST_FAIL] > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static void doctor_usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote doctor [--root-dir DIR] [--socket PATH] [--hw-lib-dir DIR]\n"
            "                        [--pccs-timeout-ms N] [--json]\n"
            "  Checks SGX devices and groups, /dev noexec, Intel's libraries, the QPL config\n"
            "  and PCCS, the AESM socket and the daemon; one line each: OK, WARN or FAIL and\n"
            "  the fix. Exit 1 when any check FAILs.\n"
            "  --root-dir DIR        look at DIR as / (a host mount, an image); default /\n"
            "  --socket PATH         default <root>" DOCTOR_DEFAULT_SOCKET "\n"
            "  --hw-lib-dir DIR      also look for Intel's libraries here (the daemon's flag)\n"
            "  --pccs-timeout-ms N   at most 2000 (default 2000)\n"
            "  --json                machine-readable output\n"
            "  %s=1 (tests) accepts regular files and FIFOs as device nodes.\n",
            DOCTOR_FAKE_DEVICES_ENV);
}

int cmd_doctor(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root-dir", required_argument, NULL, 'r'},
        {"socket", required_argument, NULL, 's'},
        {"hw-lib-dir", required_argument, NULL, 'l'},
        {"pccs-timeout-ms", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    doctor *d = calloc(1, sizeof(*d));
    char root[PATH_MAX] = "";
    char sock[PATH_MAX];
    const char *fake;
    bool qpl_found = false;
    int c, rc;

    if (d == NULL)
        return CLI_EXIT_FAIL;
    d->root = "";
    d->pccs_timeout_ms = DOCTOR_PCCS_TIMEOUT_MAX_MS;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            snprintf(root, sizeof(root), "%s", optarg);
            while (strlen(root) > 0 && root[strlen(root) - 1] == '/')
                root[strlen(root) - 1] = '\0'; /* "/" becomes "" */
            d->root = root;
            break;
        case 's':
            d->socket_path = optarg;
            break;
        case 'l':
            d->hw_lib_dir = optarg;
            break;
        case 't': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v < 1 || v > DOCTOR_PCCS_TIMEOUT_MAX_MS) {
                fprintf(stderr, "sgx-quote doctor: --pccs-timeout-ms is 1..%d\n",
                        DOCTOR_PCCS_TIMEOUT_MAX_MS);
                free(d);
                return CLI_EXIT_USAGE;
            }
            d->pccs_timeout_ms = (int)v;
            break;
        }
        case 'j':
            d->json = true;
            break;
        case 'h':
            doctor_usage(stdout);
            free(d);
            return CLI_EXIT_OK;
        default:
            doctor_usage(stderr);
            free(d);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        doctor_usage(stderr);
        free(d);
        return CLI_EXIT_USAGE;
    }
    if (d->socket_path == NULL) {
        snprintf(sock, sizeof(sock), "%s" DOCTOR_DEFAULT_SOCKET, d->root);
        d->socket_path = sock;
    }
    fake = getenv(DOCTOR_FAKE_DEVICES_ENV);
    d->fake_devices = fake != NULL && strcmp(fake, "1") == 0;

    /* Facts first. */
    stat_dev(d, "/dev/sgx_enclave", &d->enclave);
    stat_dev(d, "/dev/sgx_provision", &d->provision);
    stat_dev(d, "/dev/sgx/enclave", &d->legacy_enclave);
    stat_dev(d, "/dev/sgx/provision", &d->legacy_provision);
    stat_dev(d, "/dev/isgx", &d->isgx);
    detect_container(d);
#if DOCTOR_HAVE_CURL
    curl_global_init(CURL_GLOBAL_DEFAULT);
#endif

    /* Then the verdicts, in the order an operator fixes things. */
    check_socket(d);
    if (d->ping_ok)
        probe_mode(d);
    {
        /* Re-order: platform checks first, socket/daemon checks last. */
        doc_check sock_checks[4];
        size_t ns = d->n < 4 ? d->n : 4;
        memcpy(sock_checks, d->checks, ns * sizeof(doc_check));
        d->n = 0;
        check_devices(d);
        check_sgx_prv(d);
        check_dev_noexec(d);
        check_libs(d, &qpl_found);
        check_qcnl(d, qpl_found);
        for (size_t i = 0; i < ns && d->n < DOCTOR_MAX_CHECKS; i++)
            d->checks[d->n++] = sock_checks[i];
        check_sgx_aesm_addr(d);
        check_mode(d);
        check_cert_type(d);
    }
#if DOCTOR_HAVE_CURL
    curl_global_cleanup();
#endif
    rc = emit(d);
    free(d);
    return rc;
}
