/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the src/sgx unit tests: load files from the shared
 * vectors directory ($SGXQH_VECTORS) and decode hex literals from the spec.
 */
#ifndef SGXQH_TESTS_SGX_TESTUTIL_H
#define SGXQH_TESTS_SGX_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "../common/test_support.h" /* ts_read_file, ts_read_vector */

/* $SGXQH_VECTORS/quotes, or fails the test. Caller frees. */
char *tu_quotes_dir(void);
/* $SGXQH_VECTORS/quotes/<vector>/<name>, read as ts_read_vector does. */
uint8_t *tu_read_vector(const char *vector, const char *name, size_t *len);
/* Decode exactly n bytes of hex (spaces ignored); fails the test otherwise. */
void tu_hex(const char *hex, uint8_t *out, size_t n);
/* Copy buf into a fresh allocation of exactly len bytes (so ASan sees any
 * read past len). len 0 gives a 1-byte allocation. */
uint8_t *tu_dup_exact(const uint8_t *buf, size_t len);
void tu_put_u16(uint8_t *p, uint16_t v);
void tu_put_u32(uint8_t *p, uint32_t v);

#endif
