/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parts of a PCCS / PCS answer that arrive outside the body (quote-format
 * §6.1): the issuer-chain response headers and their percent-encoded PEM.
 * Network input, so both functions are pure, bounded and read through
 * src/sgx/reader.h; pccs.c feeds them what libcurl hands over, and the unit
 * tests and fuzz/verify/fuzz_pccs.c call them without a network.
 */
#ifndef SGXQH_VERIFY_PCCS_PARSE_H
#define SGXQH_VERIFY_PCCS_PARSE_H

#include <stddef.h>

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

#endif
