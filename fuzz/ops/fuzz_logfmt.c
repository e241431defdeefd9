/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz logfmt_render(): whatever bytes end up in a string field or key, the JSON
 * line must parse with a strict parser (jansson) and stay one line; the
 * text line must stay one line too.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/logfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* The same bytes as event name, key and several values, and the tail
     * of the input (which may start inside a UTF-8 sequence) as one more. */
    logfmt_record r;
    logfmt_begin(&r, LOGFMT_LEVEL_INFO, s);
    logfmt_str(&r, "op", s);
    logfmt_str(&r, s, s);
    logfmt_str(&r, "msg", s + size / 2);
    logfmt_hex(&r, "hex", data, size);
    logfmt_int(&r, "code", (long long)size);
    for (int fmt = LOGFMT_TEXT; fmt <= LOGFMT_JSON; fmt++) {
        char *line = NULL;
        size_t len = 0;
        if (logfmt_render((logfmt_format)fmt, &r, &line, &len) != LOGFMT_OK)
            abort();
        if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1) != NULL)
            abort();
        if (fmt == LOGFMT_JSON) {
            json_error_t err;
            json_t *j = json_loadb(line, len, 0, &err);
            if (j == NULL || !json_is_object(j))
                abort();
            json_decref(j);
        }
        free(line);
    }
    free(s);
    return 0;
}
