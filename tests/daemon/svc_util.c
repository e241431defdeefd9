/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared helpers for the service tests (see svc_util.h): vector loading and
 * independent response decoding.
 */
#include "svc_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* aesm-protocol §6.4 "First 160 bytes in hex" (the rest is zero). */
static const char SPEC_KEY_ID_HEX[] =
    "0000" "0000" "2000"
    "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff"
    "00000000000000000000000000000000"
    "01000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "02000000" "0000";

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

void spec_ecdsa_key_id(uint8_t out[256])
{
    size_t n = strlen(SPEC_KEY_ID_HEX) / 2;

    assert_int_equal(n, 160);
    memset(out, 0, 256);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hexval(SPEC_KEY_ID_HEX[2 * i]) << 4 | hexval(SPEC_KEY_ID_HEX[2 * i + 1]));
}

uint8_t *vec_body(const char *name, size_t *len)
{
    const char *dir = getenv("SGXQH_VECTORS");
    char path[4096];
    uint8_t *buf, *body;
    long sz;
    FILE *f;

    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/aesm-requests/%s.bin", dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    sz = ftell(f);
    assert_true(sz >= 4);
    rewind(f);
    buf = malloc((size_t)sz);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    /* aesm-protocol §2: 4-byte little-endian length, then exactly that. */
    assert_int_equal(le32_at(buf, 0), (uint32_t)(sz - 4));
    body = malloc((size_t)sz - 4 + 1);
    assert_non_null(body);
    memcpy(body, buf + 4, (size_t)sz - 4);
    free(buf);
    *len = (size_t)sz - 4;
    return body;
}

unsigned response_subs(const Aesm__Response *r, unsigned *tag)
{
    const ProtobufCMessageDescriptor *d = &aesm__response__descriptor;
    unsigned n = 0;

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *const *slot = (const void *const *)(const void *)((const uint8_t *)r + f->offset);
        if (*slot != NULL) {
            n++;
            if (tag != NULL)
                *tag = f->id;
        }
    }
    return n;
}

uint32_t response_error(const Aesm__Response *r, unsigned tag)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&aesm__response__descriptor, tag);
    const ProtobufCMessage *sub;
    const ProtobufCFieldDescriptor *ef;

    assert_non_null(f);
    sub = *(const ProtobufCMessage *const *)(const void *)((const uint8_t *)r + f->offset);
    assert_non_null(sub);
    ef = protobuf_c_message_descriptor_get_field(sub->descriptor, 1);
    assert_non_null(ef);
    /* §9.1 item 4: errorCode is always on the wire. */
    assert_true(*(const protobuf_c_boolean *)(const void *)((const uint8_t *)sub +
                                                            ef->quantifier_offset));
    return *(const uint32_t *)(const void *)((const uint8_t *)sub + ef->offset);
}

Aesm__Response *svc_call(service *s, const uint8_t *body, size_t len, unsigned want_tag,
                         service_result *res)
{
    service_result local;
    service_result *rr = res != NULL ? res : &local;
    Aesm__Response *resp;
    unsigned tag = 0;

    service_handle(s, body, len, rr);
    assert_int_equal(rr->action, SERVICE_REPLY);
    assert_non_null(rr->frame);
    assert_true(rr->frame_len > 4);
    /* One frame: prefix + body, the prefix is the body length (§2). */
    assert_int_equal(le32_at(rr->frame, 0), (uint32_t)(rr->frame_len - 4));
    /* protobuf-c's generic unpack against the generated descriptor: not
     * the service's own codec. */
    resp = (Aesm__Response *)protobuf_c_message_unpack(&aesm__response__descriptor, NULL,
                                                       rr->frame_len - 4, rr->frame + 4);
    assert_non_null(resp);
    /* §9.1 item 3: exactly the matching sub-message. */
    assert_int_equal(response_subs(resp, &tag), 1);
    assert_int_equal(tag, want_tag);
    assert_int_equal(rr->aesm_code, (int)response_error(resp, want_tag));
    service_result_clear(rr);
    assert_null(rr->frame);
    return resp;
}

void svc_expect_close(service *s, const uint8_t *body, size_t len)
{
    service_result res;

    service_handle(s, body, len, &res);
    assert_int_equal(res.action, SERVICE_CLOSE);
    assert_null(res.frame);
    assert_int_equal(res.frame_len, 0);
    assert_int_equal(res.aesm_code, -1);
    service_result_clear(&res);
}

uint8_t *pack_request(const Aesm__Request *req, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(&req->base);
    uint8_t *buf = malloc(n + 1);

    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(&req->base, buf), n);
    *len = n;
    return buf;
}

uint32_t le32_at(const uint8_t *p, size_t off)
{
    return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
           (uint32_t)p[off + 3] << 24;
}

int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}
