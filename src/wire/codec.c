/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Framing and protobuf codec for the AESM socket (aesm-protocol §2–3).
 *
 * Sits between the daemon's socket I/O and the service layer: prefixes are
 * read through the bounded reader (src/sgx/reader.h), bodies are decoded
 * with protobuf-c against our all-optional aesm.proto, and replies are
 * packed into one malloc'd prefix+body buffer so they go out in one write.
 */
#include "wire/wire.h"

#include <stdlib.h>

#include "sgx/reader.h"

const char *wire_strerror(int err)
{
    switch (err) {
    case WIRE_OK:
        return "success";
    case WIRE_E_INVALID_ARG:
        return "invalid argument";
    case WIRE_E_SHORT:
        return "frame shorter than its length prefix announces";
    case WIRE_E_TOO_LARGE:
        return "frame length above the configured limit";
    case WIRE_E_TRAILING:
        return "bytes after the end of the frame";
    case WIRE_E_DECODE:
        return "body is not a valid AESM protobuf message";
    case WIRE_E_NOMEM:
        return "out of memory";
    default:
        return "unknown wire error";
    }
}

void wire_prefix_encode(uint32_t body_len, uint8_t out[WIRE_PREFIX_SIZE])
{
    /* aesm-protocol §2: little-endian on every platform we serve. */
    out[0] = (uint8_t)body_len;
    out[1] = (uint8_t)(body_len >> 8);
    out[2] = (uint8_t)(body_len >> 16);
    out[3] = (uint8_t)(body_len >> 24);
}

int wire_prefix_decode(const uint8_t *buf, size_t len, size_t max_body, uint32_t *body_len)
{
    reader r;
    uint32_t n = 0;

    if (body_len == NULL || reader_init(&r, buf, len) != READER_OK)
        return WIRE_E_INVALID_ARG;
    if (reader_u32le(&r, &n) != READER_OK)
        return WIRE_E_SHORT;
    if ((size_t)n > max_body)
        return WIRE_E_TOO_LARGE;
    *body_len = n;
    return WIRE_OK;
}

int wire_frame_split(const uint8_t *frame, size_t len, size_t max_body, const uint8_t **body,
                     size_t *body_len)
{
    reader r;
    uint32_t n = 0;
    const uint8_t *p = NULL;
    int rc;

    if (body == NULL || body_len == NULL)
        return WIRE_E_INVALID_ARG;
    rc = wire_prefix_decode(frame, len, max_body, &n);
    if (rc != WIRE_OK)
        return rc;
    if (reader_init(&r, frame, len) != READER_OK || reader_skip(&r, WIRE_PREFIX_SIZE) != READER_OK)
        return WIRE_E_SHORT;
    if (reader_bytes(&r, n, &p) != READER_OK)
        return WIRE_E_SHORT;
    if (reader_expect_end(&r) != READER_OK)
        return WIRE_E_TRAILING;
    *body = p;
    *body_len = n;
    return WIRE_OK;
}

int wire_frame_encode(const ProtobufCMessage *msg, uint8_t **frame, size_t *frame_len)
{
    size_t body_len;
    uint8_t *buf;

    if (msg == NULL || frame == NULL || frame_len == NULL)
        return WIRE_E_INVALID_ARG;
    body_len = protobuf_c_message_get_packed_size(msg);
    /* A zero-length response body is what crashes Intel's client (§2). */
    if (body_len == 0 || body_len > WIRE_MAX_FRAME_BODY)
        return WIRE_E_INVALID_ARG;
    buf = malloc(WIRE_PREFIX_SIZE + body_len);
    if (buf == NULL)
        return WIRE_E_NOMEM;
    wire_prefix_encode((uint32_t)body_len, buf);
    if (protobuf_c_message_pack(msg, buf + WIRE_PREFIX_SIZE) != body_len) {
        free(buf);
        return WIRE_E_INVALID_ARG;
    }
    *frame = buf;
    *frame_len = WIRE_PREFIX_SIZE + body_len;
    return WIRE_OK;
}

int wire_request_decode(const uint8_t *body, size_t len, Aesm__Request **out)
{
    Aesm__Request *req;

    if (out == NULL || (body == NULL && len > 0))
        return WIRE_E_INVALID_ARG;
    if (len > WIRE_MAX_FRAME_BODY)
        return WIRE_E_TOO_LARGE;
    /* protobuf-c bounds every read by len; it returns NULL for malformed
     * input (and for allocation failure, which we cannot tell apart). */
    req = aesm__request__unpack(NULL, len, body);
    if (req == NULL)
        return WIRE_E_DECODE;
    *out = req;
    return WIRE_OK;
}

void wire_request_free(Aesm__Request *req)
{
    if (req != NULL)
        aesm__request__free_unpacked(req, NULL);
}

int wire_response_decode(const uint8_t *body, size_t len, Aesm__Response **out)
{
    Aesm__Response *resp;

    if (out == NULL || (body == NULL && len > 0))
        return WIRE_E_INVALID_ARG;
    if (len > WIRE_MAX_FRAME_BODY)
        return WIRE_E_TOO_LARGE;
    resp = aesm__response__unpack(NULL, len, body);
    if (resp == NULL)
        return WIRE_E_DECODE;
    *out = resp;
    return WIRE_OK;
}

void wire_response_free(Aesm__Response *resp)
{
    if (resp != NULL)
        aesm__response__free_unpacked(resp, NULL);
}
