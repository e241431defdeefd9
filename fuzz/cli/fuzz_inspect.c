/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for `sgx-quote inspect`: the whole command, text and
 * --json, on hostile bytes. Past quote_parse it walks the view, decodes the
 * certification data and the PCK chain (x509, SGX extension), and on a parse
 * error walks the raw bytes again to name the bad field; all of that must
 * neither crash nor read out of bounds. The file read is replaced by the
 * fuzz input; the command's output goes to /dev/null.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *g_input;
static size_t g_input_len;

/* Stands in for main.c's file reader (same contract, cli.h). */
int cli_read_file(const char *path, size_t max, uint8_t **data, size_t *len)
{
    (void)path;
    if (g_input_len > max)
        return -EFBIG;
    uint8_t *copy = malloc(g_input_len > 0 ? g_input_len : 1);
    if (copy == NULL)
        return -ENOMEM;
    if (g_input_len > 0)
        memcpy(copy, g_input, g_input_len);
    *data = copy;
    *len = g_input_len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    char arg0[] = "inspect", json[] = "--json", file[] = "fuzz.bin";
    char *argv_json[] = {arg0, json, file, NULL};
    char *argv_text[] = {arg0, file, NULL};

    if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
        abort();
    g_input = data;
    g_input_len = size;
    /* Sanitizer reports write to fd 2 directly and libFuzzer keeps its own
     * FILE*, so swapping the stdio streams silences only the command. */
    FILE *out = stdout, *err = stderr;
    stdout = devnull;
    stderr = devnull;
    int rc_json = cmd_inspect(3, argv_json);
    int rc_text = cmd_inspect(2, argv_text);
    stdout = out;
    stderr = err;
    /* Same bytes, same verdict, whichever the output form. */
    if (rc_json != rc_text || (rc_json != CLI_EXIT_OK && rc_json != CLI_EXIT_FAIL))
        abort();
    return 0;
}
