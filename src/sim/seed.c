/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated platform's one secret: a seed file (DESIGN.md "Simulation
 * platform", docs/simulation.md "The seed file"). Everything else derives
 * from it, so this file is strict: the v1 format carries a version and a
 * SHA-256 checksum, so a flipped bit is refused rather than silently
 * re-keying the platform; a legacy raw 32-byte seed still loads (same keys)
 * and is reported as such; a seed, or a directory holding it, that another
 * user owns or others can write is refused; a missing seed is only created
 * when asked (--init-seed), atomically (temp file, fsync, no-replace
 * rename, fsync of the directory), so two processes starting at once end
 * up with the same seed. Bad seeds are refused by name and never replaced.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static void seterr(char *errbuf, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *errbuf, size_t errcap, const char *fmt, ...)
{
    if (errbuf == NULL || errcap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errcap, fmt, ap);
    va_end(ap);
}

int sim_make_dirs(const char *path, mode_t mode, char *failed_at)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST) {
            if (failed_at != NULL)
                memcpy(failed_at, buf, i + 1);
            return -1;
        }
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

static int read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* v1: a text file of exactly three lines, the last one a checksum of the
 * first two (docs/simulation.md gives a shell recipe that writes it). */
#define SEED_V1_HEADER "sgx-quote-helper seed v1\n"
#define SEED_V1_HEADER_LEN (sizeof SEED_V1_HEADER - 1)
#define SEED_V1_BODY_LEN (SEED_V1_HEADER_LEN + 2 * SIM_SEED_LEN + 1)
#define SEED_V1_SUM_TAG "sha256:"
#define SEED_V1_LEN (SEED_V1_BODY_LEN + (sizeof SEED_V1_SUM_TAG - 1) + 2 * CRYPTO_SHA256_LEN + 1)
#define SEED_FIX_HINT                                                                              \
    "restore the original seed file; if the platform may be re-keyed, move it away and start "    \
    "once with --init-seed"

/* The v1 encoding of seed into out (SEED_V1_LEN bytes). */
static int seed_encode(const uint8_t seed[SIM_SEED_LEN], char out[SEED_V1_LEN + 1])
{
    uint8_t md[CRYPTO_SHA256_LEN];
    memcpy(out, SEED_V1_HEADER, SEED_V1_HEADER_LEN);
    crypto_hex_encode(seed, SIM_SEED_LEN, out + SEED_V1_HEADER_LEN);
    out[SEED_V1_BODY_LEN - 1] = '\n';
    if (crypto_sha256(out, SEED_V1_BODY_LEN, md) != 0)
        return -1;
    memcpy(out + SEED_V1_BODY_LEN, SEED_V1_SUM_TAG, sizeof SEED_V1_SUM_TAG - 1);
    crypto_hex_encode(md, sizeof md, out + SEED_V1_BODY_LEN + sizeof SEED_V1_SUM_TAG - 1);
    out[SEED_V1_LEN - 1] = '\n';
    out[SEED_V1_LEN] = '\0';
    crypto_wipe(md, sizeof md);
    return 0;
}

/* Checks a v1 file's version, encoding and checksum; SIM_OK with seed. */
static int seed_decode(const char *path, const char *buf, uint8_t seed[SIM_SEED_LEN],
                       char *errbuf, size_t errcap)
{
    char want[SEED_V1_LEN + 1];
    if (memcmp(buf, SEED_V1_HEADER, SEED_V1_HEADER_LEN) != 0) {
        seterr(errbuf, errcap,
               "seed file %s does not start with \"sgx-quote-helper seed v1\": an unknown "
               "version or a damaged file; refusing to use or replace it (" SEED_FIX_HINT ")",
               path);
        return SIM_E_SEED_CORRUPT;
    }
    size_t got = 0;
    if (crypto_hex_decode(buf + SEED_V1_HEADER_LEN, 2 * SIM_SEED_LEN, seed, SIM_SEED_LEN, &got) !=
            0 || got != SIM_SEED_LEN || seed_encode(seed, want) != 0 ||
        memcmp(buf, want, SEED_V1_LEN) != 0) {
        crypto_wipe(seed, SIM_SEED_LEN);
        crypto_wipe(want, sizeof want);
        seterr(errbuf, errcap,
               "seed file %s fails its checksum: it was changed or damaged, and would give a "
               "different attestation key and root; refusing to use or replace it ("
               SEED_FIX_HINT ")",
               path);
        return SIM_E_SEED_CORRUPT;
    }
    crypto_wipe(want, sizeof want);
    return SIM_OK;
}

/* A seed another user could plant or swap is refused: its directory must
 * be ours or root's, and writable by nobody else (a sticky world-writable
 * directory still lets others plant a file before us). */
static int check_dir(const char *dir, char *errbuf, size_t errcap)
{
    uid_t me = geteuid();
    struct stat ds;
    if (stat(dir, &ds) != 0) {
        seterr(errbuf, errcap, "cannot stat the seed's directory %s: %s", dir, strerror(errno));
        return SIM_E_SEED_IO;
    }
    if (ds.st_uid != me && ds.st_uid != 0) {
        seterr(errbuf, errcap,
               "the seed's directory %s is owned by uid %lu, neither this process's uid %lu nor "
               "root: its owner could replace the seed; refusing it (chown %lu it, or use "
               "another --state-dir)",
               dir, (unsigned long)ds.st_uid, (unsigned long)me, (unsigned long)me);
        return SIM_E_SEED_OWNER;
    }
    if ((ds.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        seterr(errbuf, errcap,
               "the seed's directory %s has mode %04o: group or others can write it and so "
               "replace the seed; refusing it (chmod go-w it, e.g. chmod 0700)",
               dir, (unsigned)(ds.st_mode & 07777));
        return SIM_E_SEED_OWNER;
    }
    return SIM_OK;
}

/* 1 = loaded, 0 = does not exist, <0 = sim_err (errbuf set). Follows
 * symlinks on purpose: Kubernetes mounts Secret keys as symlinks. */
static int seed_load(const char *path, const char *dir, uint8_t seed[SIM_SEED_LEN],
                     bool *legacy, char *errbuf, size_t errcap)
{
    int rc;
    char buf[SEED_V1_LEN];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        seterr(errbuf, errcap,
               "cannot open seed file %s: %s (make it readable by this user, or pass another "
               "--state-dir or --seed-file)",
               path, strerror(errno));
        return SIM_E_SEED_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        seterr(errbuf, errcap, "cannot stat seed file %s: %s", path, strerror(errno));
        rc = SIM_E_SEED_IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        seterr(errbuf, errcap,
               "seed file %s is not a regular file (move it away to start a new simulated "
               "platform with --init-seed, or pass another --state-dir)",
               path);
        rc = SIM_E_SEED_IO;
        goto out;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        seterr(errbuf, errcap,
               "seed file %s has mode %04o: it must not be accessible by group or others "
               "(chmod 0600 it, or defaultMode: 0400 for a Kubernetes Secret); refusing to use it",
               path, (unsigned)(st.st_mode & 07777));
        rc = SIM_E_SEED_MODE;
        goto out;
    }
    if (st.st_uid != geteuid()) {
        seterr(errbuf, errcap,
               "seed file %s is owned by uid %lu, not by this process's uid %lu: another user "
               "could have planted it; refusing to use it (if it is the right seed, chown %lu "
               "it)",
               path, (unsigned long)st.st_uid, (unsigned long)geteuid(),
               (unsigned long)geteuid());
        rc = SIM_E_SEED_OWNER;
        goto out;
    }
    if ((rc = check_dir(dir, errbuf, errcap)) != SIM_OK)
        goto out;
    if (st.st_size != SIM_SEED_LEN && st.st_size != (off_t)SEED_V1_LEN) {
        seterr(errbuf, errcap,
               "seed file %s is %lld bytes: neither a v1 seed (%zu bytes) nor a legacy raw seed "
               "(%d bytes); refusing to use or replace it (" SEED_FIX_HINT ")",
               path, (long long)st.st_size, SEED_V1_LEN, SIM_SEED_LEN);
        rc = SIM_E_SEED_SIZE;
        goto out;
    }
    size_t len = (size_t)st.st_size;
    if (read_full(fd, (uint8_t *)buf, len) != 0) {
        seterr(errbuf, errcap, "cannot read seed file %s: %s", path,
               errno ? strerror(errno) : "short read");
        rc = SIM_E_SEED_IO;
        goto out;
    }
    *legacy = len == SIM_SEED_LEN;
    if (*legacy)
        memcpy(seed, buf, SIM_SEED_LEN);
    else if ((rc = seed_decode(path, buf, seed, errbuf, errcap)) != SIM_OK)
        goto out;
    rc = 1;
out:
    crypto_wipe(buf, sizeof buf);
    close(fd);
    return rc;
}

/* Create path with fresh random bytes unless it appeared meanwhile.
 * 1 = created (seed filled), 0 = someone else created it first, <0 = error. */
static int seed_create(const char *dir, const char *path, uint8_t seed[SIM_SEED_LEN],
                       char *errbuf, size_t errcap)
{
    char tmp[PATH_MAX];
    char text[SEED_V1_LEN + 1];
    int rc = SIM_E_SEED_IO;
    int fd = -1;
    bool tmp_exists = false;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.seed.XXXXXX", dir) >= sizeof tmp) {
        seterr(errbuf, errcap, "seed directory path too long: %s", dir);
        return SIM_E_SEED_IO;
    }
    if (crypto_random(seed, SIM_SEED_LEN) != 0 || seed_encode(seed, text) != 0) {
        seterr(errbuf, errcap, "cannot generate a random seed");
        crypto_wipe(seed, SIM_SEED_LEN);
        return SIM_E_CRYPTO;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        seterr(errbuf, errcap,
               "cannot create a temporary seed file in %s: %s (the directory must be writable "
               "by this user)",
               dir, strerror(errno));
        goto out;
    }
    tmp_exists = true;
    if (fchmod(fd, 0600) != 0 || write_full(fd, (const uint8_t *)text, SEED_V1_LEN) != 0 ||
        fsync(fd) != 0) {
        seterr(errbuf, errcap, "cannot write temporary seed file %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        seterr(errbuf, errcap, "cannot write temporary seed file %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    /* Never replace an existing seed: RENAME_NOREPLACE, or link() where the
     * filesystem lacks it. Both fail with EEXIST if another process won. */
    int mv = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
    if (mv != 0 && (errno == EINVAL || errno == ENOSYS)) {
        mv = link(tmp, path);
        if (mv == 0 || errno == EEXIST) {
            int saved = errno;
            unlink(tmp);
            errno = saved;
        }
    }
    if (mv != 0) {
        if (errno == EEXIST) {
            rc = 0;
            goto out;
        }
        seterr(errbuf, errcap, "cannot create seed file %s: %s", path, strerror(errno));
        goto out;
    }
    tmp_exists = false;
    if (fsync_dir(dir) != 0) {
        seterr(errbuf, errcap, "cannot sync directory %s after creating the seed: %s", dir,
               strerror(errno));
        goto out;
    }
    rc = 1;
out:
    if (fd >= 0)
        close(fd);
    if (tmp_exists)
        unlink(tmp);
    crypto_wipe(text, sizeof text);
    if (rc != 1)
        crypto_wipe(seed, SIM_SEED_LEN);
    return rc;
}

int sim_seed_load_or_create(const sim_options *opt, uint8_t seed[SIM_SEED_LEN], bool *legacy,
                            char *errbuf, size_t errcap)
{
    char path[PATH_MAX], dir[PATH_MAX];
    if (opt->seed_file != NULL && opt->seed_file[0] != '\0') {
        if ((size_t)snprintf(path, sizeof path, "%s", opt->seed_file) >= sizeof path) {
            seterr(errbuf, errcap, "seed file path too long");
            return SIM_E_INVALID_ARG;
        }
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash == NULL)
            snprintf(dir, sizeof dir, ".");
        else if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
    } else if (opt->state_dir != NULL && opt->state_dir[0] != '\0') {
        if ((size_t)snprintf(dir, sizeof dir, "%s", opt->state_dir) >= sizeof dir ||
            (size_t)snprintf(path, sizeof path, "%s/seed", opt->state_dir) >= sizeof path) {
            seterr(errbuf, errcap, "state directory path too long");
            return SIM_E_INVALID_ARG;
        }
        if (!opt->seed_must_exist && sim_make_dirs(dir, 0700, NULL) != 0) {
            seterr(errbuf, errcap,
                   "cannot create state directory %s: %s (create it writable for this user, "
                   "or pass another --state-dir)",
                   dir, strerror(errno));
            return SIM_E_STATE_DIR;
        }
    } else {
        seterr(errbuf, errcap, "no state directory or seed file given");
        return SIM_E_INVALID_ARG;
    }

    /* Load; if absent, create; if another process created it between the
     * two steps, load theirs. */
    *legacy = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = seed_load(path, dir, seed, legacy, errbuf, errcap);
        if (rc != 0)
            return rc < 0 ? rc : SIM_OK;
        if (opt->seed_must_exist) {
            seterr(errbuf, errcap,
                   "no seed file at %s: refusing to create a new simulated platform (a new "
                   "attestation key and root) without being told; pass --init-seed to create "
                   "it, or point --state-dir or --seed-file at the existing seed",
                   path);
            return SIM_E_SEED_ABSENT;
        }
        if ((rc = check_dir(dir, errbuf, errcap)) != SIM_OK)
            return rc;
        rc = seed_create(dir, path, seed, errbuf, errcap);
        if (rc < 0)
            return rc;
        if (rc == 1)
            return SIM_OK;
    }
    seterr(errbuf, errcap, "seed file %s vanished while it was being created", path);
    return SIM_E_SEED_IO;
}

const char *sim_default_state_dir(char *buf, size_t cap)
{
    const char *env = getenv("SGXQH_SIM_STATE_DIR");
    if (env != NULL && env[0] != '\0')
        snprintf(buf, cap, "%s", env);
    else if (geteuid() == 0)
        snprintf(buf, cap, "/var/lib/sgx-quote-helper");
    else if ((env = getenv("XDG_STATE_HOME")) != NULL && env[0] == '/')
        snprintf(buf, cap, "%s/sgx-quote-helper", env);
    else if ((env = getenv("HOME")) != NULL && env[0] == '/')
        snprintf(buf, cap, "%s/.local/state/sgx-quote-helper", env);
    else
        return NULL; /* no safe default (a shared /tmp path could be squatted) */
    return buf;
}
