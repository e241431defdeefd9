/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk side of the PCCS collateral cache (pccs_cache.h): file names from
 * SHA-256 of the request URL, bounded reads, atomic writes (mkstemp in the
 * same directory, fsync, rename) and size-bounded eviction by last use.
 * Sits between pccs.c (which decides what to cache and checks what comes
 * back) and the entry codec in pccs_parse.c (which parses the bytes).
 */
#include "pccs_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"

#define ENTRY_SUFFIX ".item"
#define TMP_PREFIX "tmp."
/* A temporary file this old is a leftover of a killed run. */
#define TMP_STALE_SECONDS 3600

static int entry_path(const char *dir, const char *url, char *out, size_t cap)
{
    uint8_t h[32];
    char hex[65];
    if (crypto_sha256(url, strlen(url), h) != 0)
        return -1;
    crypto_hex_encode(h, sizeof h, hex);
    int n = snprintf(out, cap, "%s/%s%s", dir, hex, ENTRY_SUFFIX);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int pccs_cache_open_dir(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    size_t n = dir != NULL ? strlen(dir) : 0;
    if (n == 0 || n >= sizeof path || dir[0] != '/')
        return -1;
    memcpy(path, dir, n + 1);
    /* mkdir -p, each new level 0700 (the XDG base directory rule for the
     * cache home, and nobody else's business below it). */
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return -1;
    return 0;
}

/* The whole file, if it is a regular file of at most max bytes. */
static int read_bounded(const char *path, size_t max, uint8_t **out, size_t *len)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t got = 0;
    int rc = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > max)
        goto out;
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL)
        goto out;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        got += (size_t)r;
    }
    *out = buf;
    *len = got;
    buf = NULL;
    rc = 1;
out:
    free(buf);
    close(fd);
    return rc;
}

int pccs_cache_get(const char *dir, const char *url, int64_t now, uint8_t **file,
                   pccs_cache_entry *e, bool *corrupt)
{
    char path[PATH_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    *corrupt = false;
    if (entry_path(dir, url, path, sizeof path) != 0)
        return 0;
    int r = read_bounded(path, PCCS_CACHE_ENTRY_MAX, &buf, &len);
    if (r == 0)
        return 0;
    if (r < 0 || pccs_cache_entry_decode(buf, len, e) != 0 || e->url_len != strlen(url) ||
        memcmp(e->url, url, e->url_len) != 0) {
        *corrupt = true;
        (void)unlink(path);
        free(buf);
        return 0;
    }
    if (e->next_update <= now) {
        free(buf);
        return 0;
    }
    /* Last use is the file's mtime: eviction drops the least recently used. */
    (void)utimensat(AT_FDCWD, path, NULL, 0);
    *file = buf;
    return 1;
}

typedef struct {
    char name[80];
    off_t size;
    time_t used;
} cache_file;

static int by_last_use(const void *a, const void *b)
{
    const cache_file *x = a, *y = b;
    return x->used < y->used ? -1 : x->used > y->used ? 1 : strcmp(x->name, y->name);
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Keeps the directory's entries within max_bytes (oldest use first) and
 * removes temporary files a killed run left behind. */
static void evict(const char *dir, uint64_t max_bytes)
{
    DIR *d = opendir(dir);
    cache_file *files = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    struct dirent *de;
    time_t now = time(NULL);
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        bool entry = ends_with(de->d_name, ENTRY_SUFFIX);
        bool tmp = strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0;
        if ((!entry && !tmp) || strlen(de->d_name) >= sizeof files[0].name ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (tmp) {
            if (now - st.st_mtime > TMP_STALE_SECONDS)
                (void)unlinkat(dirfd(d), de->d_name, 0);
            continue;
        }
        if (n == cap) {
            size_t nc = cap == 0 ? 64 : cap * 2;
            cache_file *nf = realloc(files, nc * sizeof *nf);
            if (nf == NULL)
                goto out;
            files = nf;
            cap = nc;
        }
        snprintf(files[n].name, sizeof files[n].name, "%s", de->d_name);
        files[n].size = st.st_size;
        files[n].used = st.st_mtime;
        total += (uint64_t)st.st_size;
        n++;
    }
    if (total > max_bytes) {
        qsort(files, n, sizeof *files, by_last_use);
        for (size_t i = 0; i < n && total > max_bytes; i++) {
            if (unlinkat(dirfd(d), files[i].name, 0) == 0)
                total -= (uint64_t)files[i].size;
        }
    }
out:
    free(files);
    closedir(d);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int pccs_cache_put(const char *dir, uint64_t max_bytes, const char *url, int64_t next_update,
                   const char *chain, size_t chain_len, const uint8_t *body, size_t body_len)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    int fd = -1, rc = -1;
    pccs_cache_entry e = {
        .next_update = next_update, .url = url, .url_len = strlen(url),
        .chain = chain, .chain_len = chain_len, .body = body, .body_len = body_len,
    };
    if (entry_path(dir, url, path, sizeof path) != 0 ||
        snprintf(tmp, sizeof tmp, "%s/" TMP_PREFIX "XXXXXX", dir) >= (int)sizeof tmp ||
        pccs_cache_entry_encode(&e, &buf, &len) != 0)
        goto out;
    if (len > max_bytes)
        goto out; /* would only evict everything else */
    /* mkstemp creates the file 0600; the rename makes the entry appear
     * whole or not at all, so a reader never sees half of it. */
    fd = mkstemp(tmp);
    if (fd < 0)
        goto out;
    if (write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        (void)unlink(tmp);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        (void)unlink(tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        (void)unlink(tmp);
        goto out;
    }
    evict(dir, max_bytes);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

void pccs_cache_drop(const char *dir, const char *url)
{
    char path[PATH_MAX];
    if (entry_path(dir, url, path, sizeof path) == 0)
        (void)unlink(path);
}
