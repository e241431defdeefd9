/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the client's handling of a daemon's response (src/client): the
 * input is what arrives on the socket — a 4-byte length and a body. It is
 * split as the transport does, decoded, and applied by all six quote_ex
 * response handlers into heap buffers of exactly the sizes an application
 * could pass, so any copy past a caller's buffer trips ASan. A daemon (or
 * whatever sits on the socket path) is untrusted input to the application.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/client_internal.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void apply_all(const Aesm__Response *r)
{
    static const uint32_t quote_sizes[] = {1, 436, 1200, 8192};
    static const size_t key_buf_sizes[] = {0, 16, 32};

    sgx_att_key_id_t *sel = malloc(sizeof *sel);
    sgx_target_info_t *ti = malloc(sizeof *ti);
    if (sel != NULL)
        (void)client_apply_select(r, sel);
    for (size_t i = 0; ti != NULL && i < sizeof key_buf_sizes / sizeof key_buf_sizes[0]; i++) {
        size_t n = key_buf_sizes[i];
        uint8_t *pkid = n > 0 ? malloc(n) : NULL;
        size_t size = n;
        (void)client_apply_init(r, n, ti, &size, pkid);
        free(pkid);
    }
    uint32_t u = 0;
    (void)client_apply_size(r, &u);
    (void)client_apply_num(r, &u);
    for (size_t i = 0; i < sizeof quote_sizes / sizeof quote_sizes[0]; i++) {
        uint8_t *quote = malloc(quote_sizes[i]);
        sgx_qe_report_info_t *qri = malloc(sizeof *qri);
        if (quote != NULL) {
            (void)client_apply_quote(r, NULL, quote, quote_sizes[i]);
            if (qri != NULL)
                (void)client_apply_quote(r, qri, quote, quote_sizes[i]);
            (void)client_quote_length(quote, quote_sizes[i]);
        }
        free(qri);
        free(quote);
    }
    for (uint32_t n = 1; n <= 2; n++) {
        sgx_att_key_id_ext_t *ids = malloc(n * sizeof *ids);
        if (ids != NULL)
            (void)client_apply_ids(r, ids, n * 256u);
        free(ids);
    }
    free(sel);
    free(ti);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *body = NULL;
    size_t body_len = 0;
    if (wire_frame_split(data, size, WIRE_MAX_FRAME_BODY, &body, &body_len) != WIRE_OK)
        return 0;
    Aesm__Response *r = NULL;
    if (wire_response_decode(body, body_len, &r) != WIRE_OK)
        return 0;
    apply_all(r);
    wire_response_free(r);
    return 0;
}
