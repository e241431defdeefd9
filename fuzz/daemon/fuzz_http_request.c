/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz httpreq_parse() and httpreq_head_end(): the operations endpoint
 * reads request heads from anyone who can reach --http-listen. Checks the
 * output contract as well as memory safety: OK means the head ends inside
 * the input and the limits, with the path inside the head; any other status
 * leaves the result zeroed; and finding the end a byte at a time (as the
 * server's reader does) agrees with one search over the whole input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    httpreq r;
    httpreq_status st = httpreq_parse(data, size, &r);
    if (st == HTTPREQ_OK) {
        if (r.head_len == 0 || r.head_len > size || r.head_len > HTTPREQ_HEAD_MAX)
            abort();
        if (r.path == NULL || (const uint8_t *)r.path < data ||
            (const uint8_t *)r.path + r.path_len > data + r.head_len)
            abort();
        if (r.path_len > HTTPREQ_TARGET_MAX || r.minor > 1)
            abort();
        if (r.minor == 1 && !r.has_host)
            abort();
        if (r.method != HTTPREQ_METHOD_GET && r.method != HTTPREQ_METHOD_HEAD &&
            r.method != HTTPREQ_METHOD_OTHER)
            abort();
    } else {
        httpreq zero;
        memset(&zero, 0, sizeof zero);
        if (memcmp(&r, &zero, sizeof r) != 0)
            abort();
        unsigned code = httpreq_status_code(st);
        if (st != HTTPREQ_INCOMPLETE && (code < 400 || code > 599))
            abort();
        if (st == HTTPREQ_INCOMPLETE && size >= HTTPREQ_HEAD_MAX)
            abort();
    }
    size_t whole = httpreq_head_end(data, size, 0);
    size_t step = 0;
    for (size_t len = 1; len <= size && step == 0; len++)
        step = httpreq_head_end(data, len, len - 1);
    if (whole != step || whole > size)
        abort();
    return 0;
}
