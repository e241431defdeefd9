/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one bounded reader for untrusted bytes (STYLE.md, after OpenSSH sshbuf).
 *
 * Quotes, reports, certification data, AESM frames and collateral are all
 * hostile input. Every decoder walks them with a `reader`: a cursor over a
 * caller-owned (ptr, len) that never reads past len. Nothing else in the tree
 * does pointer arithmetic on wire data.
 *
 * Return convention: every function that can fail returns 0 (READER_OK) on
 * success or a negative READER_E_* code. On failure the cursor does not move
 * and output parameters are left untouched, so a caller may try something
 * else or map the code to its own layer's error enum. The only functions that
 * cannot fail are reader_remaining() and reader_offset(), which return counts.
 *
 * Pointers handed out by reader_bytes()/reader_peek() point into the caller's
 * buffer and stay valid as long as that buffer does. A reader holds no
 * resources: copy it by value to save a position, drop it when done.
 */
#ifndef SGXQH_SGX_READER_H
#define SGXQH_SGX_READER_H

#include <stddef.h>
#include <stdint.h>

/* Hard ceiling on any buffer a reader will cover. Formats name their own,
 * tighter limits next to their definitions (e.g. QUOTE_MAX_SIZE). */
#define READER_SIZE_MAX ((size_t)128 * 1024 * 1024)

typedef enum {
    READER_OK = 0,
    READER_E_SHORT = -1,       /* the read would go past the end of the data */
    READER_E_INVALID_ARG = -2, /* NULL reader/output, or NULL data with len > 0 */
    READER_E_TOO_LARGE = -3,   /* buffer larger than READER_SIZE_MAX */
    READER_E_TRAILING = -4,    /* reader_expect_end: bytes left over */
    READER_E_NOT_FOUND = -5,   /* reader_find: needle not in the remaining bytes */
} reader_err;

/* Fields are private: use the functions below. Stack-allocate freely. */
typedef struct reader {
    const uint8_t *data;
    size_t len;
    size_t off; /* invariant: off <= len */
} reader;

const char *reader_strerror(int err);

/* Cover [buf, buf+len). On error the reader is set to an empty cursor. */
int reader_init(reader *r, const void *buf, size_t len);

/* Bytes left between the cursor and the end (0 for a NULL reader). */
size_t reader_remaining(const reader *r);
/* How far the cursor is from the start of this reader's data. */
size_t reader_offset(const reader *r);

/* Little-endian integers (all multi-byte SGX fields are LE, quote-format §0). */
int reader_u8(reader *r, uint8_t *out);
int reader_u16le(reader *r, uint16_t *out);
int reader_u32le(reader *r, uint32_t *out);
int reader_u64le(reader *r, uint64_t *out);

/* Point *out at the next n bytes and advance past them. n may be 0. */
int reader_bytes(reader *r, size_t n, const uint8_t **out);
/* Like reader_bytes but without advancing. */
int reader_peek(reader *r, size_t n, const uint8_t **out);
/* Copy the next n bytes into dst (which must hold n) and advance. */
int reader_copy(reader *r, void *dst, size_t n);
/* Advance by n bytes. */
int reader_skip(reader *r, size_t n);
/* Carve the next n bytes out as an independent child reader (offsets in the
 * child start at 0) and advance the parent past them. */
int reader_sub(reader *r, size_t n, reader *child);

/* Search the remaining bytes for needle (nlen >= 1) without advancing; on
 * success *offset is its distance from the cursor. */
int reader_find(const reader *r, const void *needle, size_t nlen, size_t *offset);

/* READER_OK if nothing is left, READER_E_TRAILING otherwise. */
int reader_expect_end(const reader *r);

#endif
