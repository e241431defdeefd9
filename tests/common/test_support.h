/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the unit tests of every module need the same way: reading a whole
 * file or a test vector ($SGXQH_VECTORS, set by meson), removing a
 * scratch tree, hex literals from the specs, and the spec's ECDSA key id.
 * Written against libc only, so expected values never come from src/ (the
 * code under test). Header-only: each test includes it as
 * "../common/test_support.h".
 */
#ifndef SGXQH_TESTS_COMMON_TEST_SUPPORT_H
#define SGXQH_TESTS_COMMON_TEST_SUPPORT_H

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

/* The whole file at path in a buffer of exactly *len + 1 bytes, the last a
 * NUL not counted in *len (text works as a C string; the buffer is not
 * oversized, so ASan sees reads past it); len may be NULL. NULL with errno
 * set when the file cannot be opened or read. Caller frees. Not inlined:
 * gcc 12 would otherwise track the realloc'd size into the callers and warn
 * (-Wstringop-overread) about reads the callers' length checks guard. */
__attribute__((noinline, unused)) static uint8_t *ts_read_file_or_null(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL, *exact;
    size_t used = 0, cap = 0, got;

    if (len != NULL)
        *len = 0;
    if (f == NULL)
        return NULL;
    do {
        if (cap - used < 4096 + 1) {
            uint8_t *nb = realloc(buf, cap == 0 ? 8192 : 2 * cap);
            if (nb == NULL)
                goto fail;
            buf = nb;
            cap = cap == 0 ? 8192 : 2 * cap;
        }
        got = fread(buf + used, 1, cap - used - 1, f);
        used += got;
    } while (got > 0);
    if (ferror(f))
        goto fail;
    fclose(f);
    exact = realloc(buf, used + 1);
    if (exact == NULL) {
        free(buf);
        errno = ENOMEM;
        return NULL;
    }
    exact[used] = '\0';
    if (len != NULL)
        *len = used;
    return exact;
fail:
    free(buf);
    fclose(f);
    errno = EIO;
    return NULL;
}

/* The same, failing the test when the file cannot be read. */
static inline uint8_t *ts_read_file(const char *path, size_t *len)
{
    uint8_t *buf = ts_read_file_or_null(path, len);
    if (buf == NULL)
        fail_msg("cannot read %s: %s", path, strerror(errno));
    return buf;
}

/* The test vectors directory: $SGXQH_VECTORS, which meson sets from the
 * vectors_dir option (default tests/vectors in the source tree). */
static inline const char *ts_vectors_dir(void)
{
    const char *dir = getenv("SGXQH_VECTORS");

    if (dir == NULL || dir[0] == '\0')
        fail_msg("SGXQH_VECTORS is not set: run the tests through `meson test`, which sets it "
                 "from the vectors_dir option (default tests/vectors)");
    return dir;
}

/* $SGXQH_VECTORS/<rel>, failing the test with the file's path when it does
 * not exist, so a missing vector reads as such and not as a later assertion.
 * The result lives in one of four static buffers (enough for the calls one
 * expression makes). */
static inline const char *ts_vector_path(const char *rel)
{
    static char paths[4][4096];
    static unsigned next;
    char *path = paths[next++ % 4];
    struct stat st;

    if ((size_t)snprintf(path, sizeof paths[0], "%s/%s", ts_vectors_dir(), rel) >=
        sizeof paths[0])
        fail_msg("vector path too long: %s/%s", ts_vectors_dir(), rel);
    if (stat(path, &st) != 0)
        fail_msg("test vector %s: %s (the vectors live in tests/vectors; see its README)", path,
                 strerror(errno));
    return path;
}

/* $SGXQH_VECTORS/<rel> (e.g. "quotes/dcapqvl-sgx-v3/quote.bin"), as above. */
static inline uint8_t *ts_read_vector(const char *rel, size_t *len)
{
    return ts_read_file(ts_vector_path(rel), len);
}

static inline int ts_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0; /* best effort: keep removing the rest */
}

/* rm -r for the scratch trees tests make (files, links, FIFOs, dirs). */
static inline void ts_rmtree(const char *path)
{
    nftw(path, ts_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int ts_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes exactly 2n hex digits (either case, nothing else) into out;
 * fails the test otherwise. */
static inline void ts_unhex(const char *hex, uint8_t *out, size_t n)
{
    if (strlen(hex) != 2 * n)
        fail_msg("hex literal of %zu digits, want %zu: %s", strlen(hex), 2 * n, hex);
    for (size_t i = 0; i < n; i++) {
        int hi = ts_hex_digit(hex[2 * i]), lo = ts_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            fail_msg("not hex at digit %zu: %s", 2 * i, hex);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
}

/* aesm-protocol §6.4: the ECDSA-P256 QE3 key id, "first 160 bytes in hex"
 * (the remaining 96 are zero). */
static inline void ts_spec_ecdsa_key_id(uint8_t out[256])
{
    static const char KEY_ID_HEX[] =
        "0000" "0000" "2000"
        "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff"
        "00000000000000000000000000000000"
        "01000000"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "02000000" "0000";

    memset(out, 0, 256);
    ts_unhex(KEY_ID_HEX, out, 160);
}

#endif
