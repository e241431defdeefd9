/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helpers: load one vector ($SGXQH_VECTORS/quotes/<name>/) the
 * way a user would hand it to the verifier, plus its meta.json facts.
 */
#ifndef SGXQH_TESTS_VERIFY_VECTORS_H
#define SGXQH_TESTS_VERIFY_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/test_support.h" /* ts_read_file for whole files */
#include "sgxqh/verify.h"

typedef struct {
    char dir[1024];
    uint8_t *quote;
    size_t quote_len;
    uint8_t *root;          /* root.pem */
    size_t root_len;
    int64_t pinned_time;    /* meta.json */
    verify_collateral coll; /* from the directory */
} test_vector;

/* Path under $SGXQH_VECTORS/quotes (static buffer per call site use). */
void tv_path(char *out, size_t cap, const char *vector, const char *file);
void tv_load(test_vector *v, const char *name);
void tv_free(test_vector *v);
/* All statuses except Revoked: so the verdict reflects the checks only. */
unsigned tv_accept_all(void);
/* A string field of meta.json / a date field (issueDate/nextUpdate) of the
 * signed body, read with jansson straight from the files. */
int64_t tv_body_date(const char *body, size_t len, const char *key);
/* ECDSA-P256-SHA256 with a PEM private key, raw r||s out; done with
 * OpenSSL directly, independently of src/crypto. */
void tv_sign_p256(const char *key_path, const uint8_t *msg, size_t len, uint8_t raw[64]);

#endif
