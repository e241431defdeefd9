/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quotes pasted as text: `sgx-quote inspect` takes the raw bytes, but
 * quotes travel as base64 (attestation APIs, JSON fields), inside PEM-like
 * armor, or as hex. This recognises those forms and decodes them, so inspect
 * can say what it was given and look at the quote inside. Untrusted input:
 * bounded, pure, no I/O, fuzzed (fuzz/cli/fuzz_quote_text.c).
 */
#ifndef SGXQH_CLI_QUOTE_TEXT_H
#define SGXQH_CLI_QUOTE_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    QUOTE_TEXT_BINARY = 0, /* not text: use the bytes as they are */
    QUOTE_TEXT_BASE64,     /* standard or URL-safe alphabet, padding optional */
    QUOTE_TEXT_PEM,        /* "-----BEGIN <label>-----", base64, "-----END <label>-----" */
    QUOTE_TEXT_HEX,        /* an even number of hex digits */
    QUOTE_TEXT_UNKNOWN,    /* printable text, but none of the above */
} quote_text_kind;

#define QUOTE_TEXT_MAX ((size_t)4 * 1024 * 1024)
#define QUOTE_TEXT_LABEL_SIZE 64

/* Classifies in[0..len) (len <= QUOTE_TEXT_MAX, else BINARY: the caller's
 * size checks apply). Input with any byte that is not printable ASCII or
 * white space is BINARY (a raw quote's second byte, the high byte of its
 * version, is 0). White space anywhere in the encoded text is ignored. For
 * BASE64, PEM and HEX, *out (malloc'd, free it) holds the decoded bytes; for
 * PEM, label gets the armor's label (cut at QUOTE_TEXT_LABEL_SIZE - 1).
 * Returns 0, or -1 when out of memory. */
int quote_text_decode(const uint8_t *in, size_t len, quote_text_kind *kind, uint8_t **out,
                      size_t *out_len, char label[QUOTE_TEXT_LABEL_SIZE]);

/* "base64", "PEM", "hex", "text" or "binary". */
const char *quote_text_kind_name(quote_text_kind k);

#endif
