/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for what a PCCS sends outside the response body
 * (src/verify/pccs_parse.c): the input is a header block as libcurl hands
 * it to pccs.c, one line per callback; the first issuer-chain header found
 * is percent-decoded (out of place and in place, which must agree) and its
 * PEM certificates parsed as the collateral checks would. The whole input
 * is also decoded once as a bare value, read as a PCCS base URL (as the
 * command line or QCNL configuration gives it) and as an on-disk cache
 * entry, whose decode must round-trip through the encoder.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sgxqh/quote.h"
#include "sgxqh/verify.h"
#include "verify/pccs_parse.h"
#include "verify/verify_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every header name pccs.c asks for (quote-format §6.1). */
static const char *const NAMES[] = {
    "TCB-Info-Issuer-Chain",
    "SGX-TCB-Info-Issuer-Chain",
    "SGX-Enclave-Identity-Issuer-Chain",
    "SGX-PCK-CRL-Issuer-Chain",
};

/* Decode both ways, check the contract, return the decoded copy (or NULL). */
static char *decode_checked(const char *in, size_t len, size_t *out_len)
{
    char *out = malloc(len + 1), *inplace = malloc(len + 1);
    size_t n1 = 0, n2 = 0;
    if (out == NULL || inplace == NULL)
        goto fail;
    int rc = pccs_percent_decode(in, len, out, len + 1, &n1);
    if (len > PCCS_HEADER_VALUE_MAX) {
        if (rc != VERIFY_E_FORMAT)
            abort();
        goto fail;
    }
    if (rc != 0 || n1 > len || out[n1] != '\0')
        abort();
    if (memchr(in, '%', len) == NULL && (n1 != len || memcmp(out, in, len) != 0))
        abort(); /* nothing to decode: unchanged */
    memcpy(inplace, in, len);
    if (pccs_percent_decode(inplace, len, inplace, len + 1, &n2) != 0 || n2 != n1 ||
        memcmp(inplace, out, n1) != 0)
        abort();
    free(inplace);
    *out_len = n1;
    return out;
fail:
    free(out);
    free(inplace);
    return NULL;
}

static void parse_chain(const char *pem, size_t len)
{
    const char *blocks[QUOTE_MAX_CHAIN_CERTS];
    size_t lens[QUOTE_MAX_CHAIN_CERTS];
    char err[256];
    vrun run;
    vrun_begin(&run, NULL);
    size_t n = pem_cert_blocks(pem, len, blocks, lens, QUOTE_MAX_CHAIN_CERTS);
    vcert *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        vcert *c = vrun_cert_pem(&run, blocks[i], lens[i], err, sizeof err);
        if (c == NULL)
            continue;
        if (prev != NULL)
            (void)vcert_check_signed_by(&run, prev, c);
        prev = c;
    }
    vrun_end(&run);
}

/* The base URL is never longer than its input, never ends in '/' past the
 * scheme, and normalising it again changes nothing. */
static void check_base_url(const char *text, size_t size)
{
    static char url[PCCS_URL_MAX + 2], base[PCCS_URL_MAX + 1], again[PCCS_URL_MAX + 1];
    size_t n = size < sizeof url - 1 ? size : sizeof url - 1;
    memcpy(url, text, n);
    url[n] = '\0';
    if (pccs_base_url(url, base, sizeof base) != 0)
        return;
    if (strlen(base) > strlen(url) || pccs_base_url(base, again, sizeof again) != 0 ||
        strcmp(base, again) != 0)
        abort();
}

/* A decoded cache entry stays inside the input and encodes back to it. */
static void check_cache_entry(const uint8_t *data, size_t size)
{
    pccs_cache_entry e;
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    if (pccs_cache_entry_decode(data, size, &e) != 0)
        return;
    if ((const uint8_t *)e.url < data || (const uint8_t *)e.url + e.url_len > data + size ||
        e.body + e.body_len > data + size)
        abort();
    if (pccs_cache_entry_encode(&e, &enc, &enc_len) != 0 || enc_len != size ||
        memcmp(enc, data, size) != 0)
        abort();
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t pos = 0, len;
    bool found = false;
    char *dec;
    /* The header block, line by line (each with its LF), as on_header sees it. */
    while (pos < size && !found) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t line_len = nl != NULL ? (size_t)(nl - (text + pos)) + 1 : size - pos;
        size_t which = 0, vlen = 0;
        const char *v = NULL;
        int m = pccs_header_match(text + pos, line_len, NAMES, 4, &which, &v, &vlen);
        if (m == 1) {
            if (which >= 4 || v < text + pos || vlen > PCCS_HEADER_VALUE_MAX ||
                v + vlen > text + pos + line_len)
                abort();
            found = true;
            if ((dec = decode_checked(v, vlen, &len)) != NULL) {
                parse_chain(dec, len);
                free(dec);
            }
        } else if (m != 0 && m != VERIFY_E_FORMAT) {
            abort();
        }
        pos += line_len;
    }
    if ((dec = decode_checked(text, size, &len)) != NULL)
        free(dec);
    check_base_url(text, size);
    check_cache_entry(data, size);
    return 0;
}
