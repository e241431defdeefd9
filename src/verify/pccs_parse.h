/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parts of a PCCS / PCS answer that arrive outside the body (Intel's
 * "PCK Certificate and Certificate Revocation List Infrastructure" API, v4):
 * the issuer-chain response headers and their percent-encoded PEM; the base
 * URL a user or the QCNL configuration gives; and the on-disk cache entries
 * pccs_cache.c keeps. Untrusted input, so every function here is pure,
 * bounded and reads through src/sgx/reader.h; pccs.c feeds them what libcurl
 * and the cache directory hand over, and the unit tests and
 * fuzz/verify/fuzz_pccs.c call them without a network or a disk.
 */
#ifndef SGXQH_VERIFY_PCCS_PARSE_H
#define SGXQH_VERIFY_PCCS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "sgxqh/verify.h"

/* An issuer chain is two or three PEM certificates of about 1 KiB each;
 * percent-encoded that stays under 10 KiB. A longer header value is refused,
 * never truncated. */
#define PCCS_HEADER_VALUE_MAX (64u * 1024u)

/* One header line as libcurl delivers it ("Name: value\r\n", not
 * NUL-terminated). If its name equals one of names[0..n_names) (ASCII
 * case-insensitive, RFC 9110 §5.1), *which is that index and
 * [*value, *value + *value_len) the value without leading blanks and
 * trailing blanks / CR / LF; the pointers point into `line`.
 * Returns 1 for a match, 0 for any other line (another header, the status
 * line, the blank end line), VERIFY_E_FORMAT when the value of a wanted
 * header is longer than PCCS_HEADER_VALUE_MAX, VERIFY_E_INVALID_ARG on NULL
 * arguments. Outputs are written only on a match. */
int pccs_header_match(const char *line, size_t len, const char *const *names, size_t n_names,
                      size_t *which, const char **value, size_t *value_len);

/* Percent-decoding (RFC 3986 §2.1) of in[0..len) into out, NUL-terminated;
 * *out_len is the decoded length (never more than len). "%XX" with two hex
 * digits (either case) becomes the byte; anything else, including a '%'
 * without two hex digits after it, is copied as is. '+' stays '+': it is a
 * base64 character, which the PCS sends as %2B. out may equal in (decoding
 * in place); cap must be at least len + 1.
 * Returns 0, VERIFY_E_FORMAT when len > PCCS_HEADER_VALUE_MAX, or
 * VERIFY_E_INVALID_ARG (NULL arguments, cap too small). */
int pccs_percent_decode(const char *in, size_t len, char *out, size_t cap, size_t *out_len);

/* ---- Base URL ---- */

/* Longest PCCS base URL we accept; a request URL adds at most
 * PCCS_URL_SUFFIX_MAX bytes (path and query) to it. */
#define PCCS_URL_MAX 2048u
#define PCCS_URL_SUFFIX_MAX 128u

/* The PCCS base ("scheme://host[:port][/prefix]") of url, into out
 * (NUL-terminated): trailing '/' removed, then one API path suffix
 * "/sgx/certification/v4" or "/v3", or "/tdx/certification/v4" or "/v3"
 * (any case, as QCNL's pccs_url and collateral_service carry them), and
 * the '/' before it. pccs.c appends its own v4 paths, so a URL given with
 * or without the suffix gives the same requests and the path is never
 * doubled. url must start with "http://" or "https://" (any case) and have
 * a host. Returns 0, VERIFY_E_FORMAT (no http(s) scheme, no host, or control
 * characters / spaces, which libcurl would reject less clearly) or
 * VERIFY_E_INVALID_ARG (NULL, empty, longer than PCCS_URL_MAX, or cap
 * smaller than PCCS_URL_MAX + 1). */
int pccs_base_url(const char *url, char *out, size_t cap);

/* ---- Cache entries (pccs_cache.c) ----
 *
 * One fetched item per file:
 *   magic "SQHPCC01" | u64le next_update (Unix seconds) |
 *   u32le url_len | url | u32le chain_len | chain (decoded PEM, may be 0) |
 *   u32le body_len | body | SHA-256 of everything before it (32 bytes).
 * The hash catches a torn or corrupted file (the item is refetched); it is
 * not a security boundary: what the cache returns goes through the same
 * signature and chain checks as a fresh answer. */
#define PCCS_CACHE_MAGIC "SQHPCC01"
#define PCCS_CACHE_MAGIC_LEN 8u
#define PCCS_CACHE_ENTRY_MAX                                                                       \
    ((size_t)PCCS_CACHE_MAGIC_LEN + 8u + 4u + PCCS_URL_MAX + PCCS_URL_SUFFIX_MAX + 4u +             \
     PCCS_HEADER_VALUE_MAX + 4u + VERIFY_COLLATERAL_ITEM_MAX + 32u)

typedef struct {
    int64_t next_update;
    const char *url; /* not NUL-terminated */
    size_t url_len;
    const char *chain;
    size_t chain_len;
    const uint8_t *body;
    size_t body_len;
} pccs_cache_entry;

/* Decodes buf[0..len); on success the pointers in *out point into buf.
 * Returns 0, VERIFY_E_FORMAT (bad magic, a length past the end or above its
 * limit, trailing bytes, a wrong hash) or VERIFY_E_INVALID_ARG. *out is
 * zeroed on failure. */
int pccs_cache_entry_decode(const uint8_t *buf, size_t len, pccs_cache_entry *out);

/* Encodes *e into a malloc'd buffer (*out, *out_len). Returns 0,
 * VERIFY_E_INVALID_ARG (a field above its limit) or VERIFY_E_NOMEM. */
int pccs_cache_entry_encode(const pccs_cache_entry *e, uint8_t **out, size_t *out_len);

#endif
