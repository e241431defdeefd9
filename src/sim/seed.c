/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated platform's one secret: a 32-byte seed file (DESIGN.md
 * "Simulation platform"). Everything else derives from it, so this file is
 * strict: a seed that is the wrong size or readable by group/others is refused
 * by name and never replaced, and a missing seed is created atomically (temp
 * file in the same directory, fsync, no-replace rename, fsync of the
 * directory) so two processes starting at once end up with the same seed.
 */
#include <errno.h>
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

/* 1 = loaded, 0 = does not exist, <0 = sim_err (errbuf set). Follows
 * symlinks on purpose: Kubernetes mounts Secret keys as symlinks. */
static int seed_load(const char *path, uint8_t seed[SIM_SEED_LEN], char *errbuf, size_t errcap)
{
    int rc;
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
               "seed file %s is not a regular file (it must be the 32-byte seed; move it away "
               "to start a new simulated platform, or pass another --state-dir)",
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
    if (st.st_size != SIM_SEED_LEN) {
        seterr(errbuf, errcap,
               "seed file %s is %lld bytes, expected exactly %d; refusing to use or replace it "
               "(restore the original seed, or move it away to start a new simulated platform)",
               path, (long long)st.st_size, SIM_SEED_LEN);
        rc = SIM_E_SEED_SIZE;
        goto out;
    }
    if (read_full(fd, seed, SIM_SEED_LEN) != 0) {
        seterr(errbuf, errcap, "cannot read seed file %s: %s", path,
               errno ? strerror(errno) : "short read");
        rc = SIM_E_SEED_IO;
        goto out;
    }
    rc = 1;
out:
    close(fd);
    return rc;
}

/* Create path with fresh random bytes unless it appeared meanwhile.
 * 1 = created (seed filled), 0 = someone else created it first, <0 = error. */
static int seed_create(const char *dir, const char *path, uint8_t seed[SIM_SEED_LEN],
                       char *errbuf, size_t errcap)
{
    char tmp[PATH_MAX];
    int rc = SIM_E_SEED_IO;
    int fd = -1;
    bool tmp_exists = false;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.seed.XXXXXX", dir) >= sizeof tmp) {
        seterr(errbuf, errcap, "seed directory path too long: %s", dir);
        return SIM_E_SEED_IO;
    }
    if (crypto_random(seed, SIM_SEED_LEN) != 0) {
        seterr(errbuf, errcap, "cannot generate a random seed");
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
    if (fchmod(fd, 0600) != 0 || write_full(fd, seed, SIM_SEED_LEN) != 0 || fsync(fd) != 0) {
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
    if (rc != 1)
        crypto_wipe(seed, SIM_SEED_LEN);
    return rc;
}

int sim_seed_load_or_create(const sim_options *opt, uint8_t seed[SIM_SEED_LEN], char *errbuf,
                            size_t errcap)
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
        if (sim_make_dirs(dir, 0700, NULL) != 0) {
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
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = seed_load(path, seed, errbuf, errcap);
        if (rc != 0)
            return rc < 0 ? rc : SIM_OK;
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
