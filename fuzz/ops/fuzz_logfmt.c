/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz logfmt_render(): whatever bytes end up in a string field, the JSON
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
    logfmt_fields f;
    memset(&f, 0, sizeof f);
    f.event = s;
    f.msg = s;
    f.hint = s;
    f.op = s;
    for (int fmt = LOGFMT_TEXT; fmt <= LOGFMT_JSON; fmt++) {
        char *line = NULL;
        size_t len = 0;
        if (logfmt_render((logfmt_format)fmt, &f, &line, &len) != LOGFMT_OK)
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
