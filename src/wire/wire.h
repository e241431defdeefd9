/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AESM wire: framing (4-byte little-endian length + protobuf body,
 * aesm-protocol §2) and the protobuf-c codec for our own aesm.proto (§3).
 *
 * socket → [framing → codec] → service → backend. The daemon reads a prefix,
 * checks it with wire_prefix_decode() against its request-size limit, reads
 * the body and hands it to the service; the service decodes it with
 * wire_request_decode() and answers with one wire_frame_encode()d buffer so
 * the daemon can write prefix + body in a single syscall (§2 reader quirk).
 * The client library uses the same calls in the other direction.
 *
 * Return convention: 0 (WIRE_OK) or a negative WIRE_E_* code; outputs are
 * untouched on failure. wire_strerror() names every code.
 */
#ifndef SGXQH_WIRE_H
#define SGXQH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "wire/aesm.pb-c.h"

/* aesm-protocol §2: uint32 length in host order, little-endian on x86-64. */
#define WIRE_PREFIX_SIZE 4u

/* Default cap on a request body (aesm-protocol §9.3: the largest legitimate
 * quote_ex request is 1667 bytes; EPID GetQuote with a SigRL can be larger;
 * 64 KiB–1 MiB is reasonable). The daemon's --max-request-size overrides. */
#define WIRE_MAX_REQUEST_SIZE (64u * 1024u)

/* Hard ceiling for any frame body we encode or accept as a client; well
 * above any real response (quotes are ≤ 1052 + 12294 bytes, §6.6). */
#define WIRE_MAX_FRAME_BODY (16u * 1024u * 1024u)

typedef enum {
    WIRE_OK = 0,
    WIRE_E_INVALID_ARG = -1, /* NULL pointer or impossible size */
    WIRE_E_SHORT = -2,       /* fewer bytes than the prefix (or the prefix) needs */
    WIRE_E_TOO_LARGE = -3,   /* announced body length above the limit */
    WIRE_E_TRAILING = -4,    /* bytes left after the announced body */
    WIRE_E_DECODE = -5,      /* body is not a valid protobuf message of that type */
    WIRE_E_NOMEM = -6,
} wire_err;

const char *wire_strerror(int err);

/* Write the 4-byte little-endian length prefix. */
void wire_prefix_encode(uint32_t body_len, uint8_t out[WIRE_PREFIX_SIZE]);

/* Read the length prefix from the first WIRE_PREFIX_SIZE bytes of buf.
 * WIRE_E_SHORT if len < 4, WIRE_E_TOO_LARGE if the announced body length
 * exceeds max_body (the caller then closes without replying, §9.3). */
int wire_prefix_decode(const uint8_t *buf, size_t len, size_t max_body, uint32_t *body_len);

/* Split one complete frame (prefix + body, nothing after it) into its body.
 * *body points into frame. */
int wire_frame_split(const uint8_t *frame, size_t len, size_t max_body, const uint8_t **body,
                     size_t *body_len);

/* Serialize msg (a Request or a Response) into one malloc'd buffer holding
 * prefix + body; free() it. The body must be non-empty (an empty response
 * crashes Intel's client, §2) and ≤ WIRE_MAX_FRAME_BODY. */
int wire_frame_encode(const ProtobufCMessage *msg, uint8_t **frame, size_t *frame_len);

/* Decode a body. All fields in aesm.proto are optional, so this fails only
 * on malformed protobuf (WIRE_E_DECODE) or allocation failure. Free with the
 * matching *_free (NULL is fine). */
int wire_request_decode(const uint8_t *body, size_t len, Aesm__Request **out);
void wire_request_free(Aesm__Request *req);
int wire_response_decode(const uint8_t *body, size_t len, Aesm__Response **out);
void wire_response_free(Aesm__Response *resp);

#endif
