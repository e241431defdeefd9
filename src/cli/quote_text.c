/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding a quote given as text (quote_text.h) for `sgx-quote inspect`:
 * one pass to decide whether the bytes are text at all, then the PEM armor,
 * then hex (crypto_hex_decode) or base64 over the bytes that are not white
 * space. Every index stays below the input length; output is at most the
 * input length.
 */
#include "quote_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int b64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Base64 (either alphabet); '=' only as one or two final characters. */
static bool decode_base64(const uint8_t *s, size_t n, uint8_t *out, size_t *out_len)
{
    size_t o = 0, count = 0, pad = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            pad++;
            continue;
        }
        int v = b64_value(s[i]);
        if (v < 0 || pad > 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        if (++count % 4 == 0) {
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    switch (count % 4) {
    case 0: break;
    case 1: return false;
    case 2: out[o++] = (uint8_t)(acc >> 4); break;
    case 3:
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
        break;
    }
    if (pad > 2 || (pad > 0 && (count + pad) % 4 != 0))
        return false;
    *out_len = o;
    return o > 0;
}

/* "-----BEGIN <label>-----" ... "-----END <label>-----": the span between
 * them in *body, the label copied out. */
static bool strip_armor(const uint8_t *s, size_t n, const uint8_t **body, size_t *body_len,
                        char label[QUOTE_TEXT_LABEL_SIZE])
{
    static const char BEGIN[] = "-----BEGIN ", END[] = "-----END ", DASHES[] = "-----";
    size_t i = 0;
    while (i < n && is_space(s[i]))
        i++;
    if (n - i < sizeof BEGIN - 1 || memcmp(s + i, BEGIN, sizeof BEGIN - 1) != 0)
        return false;
    i += sizeof BEGIN - 1;
    size_t lab = i;
    while (i + sizeof DASHES - 1 <= n && memcmp(s + i, DASHES, sizeof DASHES - 1) != 0) {
        if (s[i] == '\n')
            return false;
        i++;
    }
    if (i + sizeof DASHES - 1 > n)
        return false;
    size_t lab_len = i - lab < QUOTE_TEXT_LABEL_SIZE - 1 ? i - lab : QUOTE_TEXT_LABEL_SIZE - 1;
    memcpy(label, s + lab, lab_len);
    label[lab_len] = '\0';
    i += sizeof DASHES - 1;
    size_t start = i;
    while (i + sizeof END - 1 <= n && memcmp(s + i, END, sizeof END - 1) != 0)
        i++;
    if (i + sizeof END - 1 > n)
        return false;
    *body = s + start;
    *body_len = i - start;
    return true;
}

int quote_text_decode(const uint8_t *in, size_t len, quote_text_kind *kind, uint8_t **out,
                      size_t *out_len, char label[QUOTE_TEXT_LABEL_SIZE])
{
    const uint8_t *body = in;
    size_t body_len = len;
    *kind = QUOTE_TEXT_BINARY;
    *out = NULL;
    *out_len = 0;
    label[0] = '\0';
    if (in == NULL || len == 0 || len > QUOTE_TEXT_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_space(in[i]) && (in[i] < 0x20 || in[i] > 0x7e))
            return 0;
    }
    *kind = QUOTE_TEXT_UNKNOWN;
    size_t first = 0;
    while (first < len && is_space(in[first]))
        first++;
    bool armored = strip_armor(in, len, &body, &body_len, label);
    if (!armored && len - first >= 5 && memcmp(in + first, "-----", 5) == 0)
        return 0; /* broken armor: its dashes would pass for URL-safe base64 */
    /* The text without white space, then decoded into the same buffer's
     * second half: neither is longer than the input. */
    uint8_t *compact = malloc(2 * len), *buf;
    size_t n = 0;
    if (compact == NULL)
        return -1;
    for (size_t i = 0; i < body_len; i++) {
        if (!is_space(body[i]))
            compact[n++] = body[i];
    }
    buf = compact + len;
    if (!armored && n > 0 && crypto_hex_decode((const char *)compact, n, buf, len, out_len) == 0)
        *kind = QUOTE_TEXT_HEX; /* all hex digits: a base64 quote of any size has other letters */
    else if (decode_base64(compact, n, buf, out_len))
        *kind = armored ? QUOTE_TEXT_PEM : QUOTE_TEXT_BASE64;
    if (*kind == QUOTE_TEXT_UNKNOWN) {
        free(compact);
        *out_len = 0;
        return 0;
    }
    /* Hand out a buffer of its own (the caller frees it). */
    memmove(compact, buf, *out_len);
    *out = compact;
    return 0;
}

const char *quote_text_kind_name(quote_text_kind k)
{
    switch (k) {
    case QUOTE_TEXT_BASE64: return "base64";
    case QUOTE_TEXT_PEM: return "PEM";
    case QUOTE_TEXT_HEX: return "hex";
    case QUOTE_TEXT_UNKNOWN: return "text";
    case QUOTE_TEXT_BINARY: break;
    }
    return "binary";
}
