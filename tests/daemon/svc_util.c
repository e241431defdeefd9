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

uint8_t *vec_body(const char *name, size_t *len)
{
    char rel[256];
    size_t n;
    uint8_t *buf, *body;

    snprintf(rel, sizeof(rel), "aesm-requests/%s.bin", name);
    buf = ts_read_vector(rel, &n);
    assert_true(n >= 4);
    /* aesm-protocol §2: 4-byte little-endian length, then exactly that. */
    assert_int_equal(le32_at(buf, 0), (uint32_t)(n - 4));
    body = malloc(n - 4 + 1);
    assert_non_null(body);
    memcpy(body, buf + 4, n - 4);
    free(buf);
    *len = n - 4;
    return body;
}

Aesm__Response *svc_call_vec(service *s, const char *name, unsigned tag, service_result *res,
                             Aesm__Request **req_out)
{
    size_t len;
    uint8_t *body = vec_body(name, &len);
    Aesm__Response *resp = svc_call(s, body, len, tag, res);

    if (req_out != NULL) {
        *req_out = aesm__request__unpack(NULL, len, body);
        assert_non_null(*req_out);
    }
    free(body);
    return resp;
}

void svc_check_select_vectors(service *s, const uint8_t kid[256])
{
    Aesm__Response *r;
    Aesm__Request *q;

    /* 03: no list: the offered ECDSA id, 256 bytes */
    r = svc_call_vec(s, "03_select_att_key_id_null_list", 19, NULL, NULL);
    assert_int_equal(r->selectattkeyidres->errorcode, 0);
    assert_int_equal(r->selectattkeyidres->selected_att_key_id.len, 256);
    assert_memory_equal(r->selectattkeyidres->selected_att_key_id.data, kid, 256);
    aesm__response__free_unpacked(r, NULL);

    /* 08: with a list: the caller's own entry comes back */
    r = svc_call_vec(s, "08_select_att_key_id_with_list", 19, NULL, &q);
    assert_int_equal(r->selectattkeyidres->errorcode, 0);
    assert_int_equal(r->selectattkeyidres->selected_att_key_id.len, 256);
    assert_memory_equal(r->selectattkeyidres->selected_att_key_id.data,
                        q->selectattkeyidreq->att_key_id_list.data + 8, 256);
    aesm__request__free_unpacked(q, NULL);
    aesm__response__free_unpacked(r, NULL);
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
