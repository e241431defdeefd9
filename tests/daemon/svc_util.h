/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the service tests: recorded requests from
 * $SGXQH_VECTORS/aesm-requests, one call through service_handle() with the
 * response frame checked and decoded independently (protobuf-c's generic
 * unpack of the generated Response), and spec constants written out from
 * aesm-protocol.md rather than taken from the code under test.
 */
#ifndef SGXQH_TEST_SVC_UTIL_H
#define SGXQH_TEST_SVC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "../common/test_support.h" /* ts_spec_ecdsa_key_id, ts_read_vector */
#include "daemon/service.h"
#include "wire/aesm.pb-c.h"

/* Reads aesm-requests/<name>.bin, checks its 4-byte LE prefix equals the
 * body length, returns the malloc'd body. */
uint8_t *vec_body(const char *name, size_t *len);

/* Runs one body through the service; asserts a reply whose prefix matches
 * the frame, decodes it with aesm__response__unpack, asserts exactly one
 * sub-message is set and that its tag is want_tag. *res keeps the result
 * (frame freed). Free the response with aesm__response__free_unpacked. */
Aesm__Response *svc_call(service *s, const uint8_t *body, size_t len, unsigned want_tag,
                         service_result *res);
/* vec_body(name) through svc_call; with req_out, also the request decoded
 * (free with aesm__request__free_unpacked). */
Aesm__Response *svc_call_vec(service *s, const char *name, unsigned tag, service_result *res,
                             Aesm__Request **req_out);
/* The recorded SelectAttKeyID requests (03 without a list, 08 with one)
 * answered as aesm §6.4 says, for a service offering exactly kid. */
void svc_check_select_vectors(service *s, const uint8_t kid[256]);
/* Asserts the service closes without writing. */
void svc_expect_close(service *s, const uint8_t *body, size_t len);

/* protobuf_c_message_pack into a malloc'd buffer. */
uint8_t *pack_request(const Aesm__Request *req, size_t *len);

/* Number of sub-messages set in r; *tag gets the last one's field number. */
unsigned response_subs(const Aesm__Response *r, unsigned *tag);
/* errorCode of the sub-message with this tag (asserts it is present). */
uint32_t response_error(const Aesm__Response *r, unsigned tag);

/* Little-endian u32 at off. */
uint32_t le32_at(const uint8_t *p, size_t off);
int all_bytes(const uint8_t *p, size_t n, uint8_t v);

#endif
