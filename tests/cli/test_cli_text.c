/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the command line's small text parsers: `--now` (Unix
 * seconds or RFC 3339, src/cli/cli_time.c) and quotes given as text to
 * `inspect` (base64, PEM-like armor, hex; src/cli/quote_text.c). Expected
 * Unix times are written out (checked with `date -u -d ... +%s`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/quote_text.h"

static void expect_time(const char *s, int64_t want)
{
    int64_t got = -12345;
    if (cli_parse_time(s, &got) != 0)
        fail_msg("cli_parse_time(\"%s\") refused, want %lld", s, (long long)want);
    if (got != want)
        fail_msg("cli_parse_time(\"%s\") = %lld, want %lld", s, (long long)got, (long long)want);
}

static void test_now(void **state)
{
    int64_t t;
    (void)state;
    expect_time("0", 0);
    expect_time("1735787045", 1735787045);
    expect_time("2025-01-02T03:04:05Z", 1735787045);
    expect_time("2025-01-02t03:04:05z", 1735787045);
    expect_time("2025-01-02 03:04:05Z", 1735787045);
    expect_time("2025-01-02T03:04:05.999Z", 1735787045);
    expect_time("2025-01-02T04:34:05+01:30", 1735787045);
    expect_time("2025-01-01T22:04:05-05:00", 1735787045);
    expect_time("1970-01-01T00:00:00Z", 0);
    expect_time("2024-02-29T00:00:00Z", 1709164800);
    expect_time("1969-12-31T23:59:59Z", -1);
    const char *bad[] = {
        "", "now", "-5", "12x", "1e9", "2025-01-02", "2025-01-02T03:04:05",
        "2025-01-02T03:04Z", "2025-13-02T03:04:05Z", "2025-02-29T00:00:00Z",
        "2025-01-32T00:00:00Z", "2025-01-02T24:00:00Z", "2025-01-02T03:60:00Z",
        "2025-01-02T03:04:60Z", "2025-01-02T03:04:05.Z", "2025-01-02T03:04:05+0100",
        "2025-01-02T03:04:05+01:00x", "2025-01-02T03:04:05Zjunk", "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cli_parse_time(bad[i], &t) == 0)
            fail_msg("cli_parse_time(\"%s\") accepted (%lld)", bad[i], (long long)t);
    }
    assert_int_equal(cli_parse_time(NULL, &t), -1);
}

static void expect_text(const char *in, quote_text_kind want, const char *bytes, size_t n)
{
    quote_text_kind k;
    uint8_t *out = NULL;
    size_t len = 0;
    char label[QUOTE_TEXT_LABEL_SIZE];
    assert_int_equal(quote_text_decode((const uint8_t *)in, strlen(in), &k, &out, &len, label), 0);
    if (k != want)
        fail_msg("\"%s\": %s, want %s", in, quote_text_kind_name(k), quote_text_kind_name(want));
    if (bytes != NULL) {
        assert_int_equal(len, n);
        assert_memory_equal(out, bytes, n);
    } else {
        assert_null(out);
    }
    free(out);
}

static void test_quote_text(void **state)
{
    (void)state;
    /* a raw quote: byte 1 (version's high byte) is 0 */
    const uint8_t raw[] = {0x03, 0x00, 0x02, 0x00, 'A', 'B'};
    quote_text_kind k;
    uint8_t *out = NULL;
    size_t len = 0;
    char label[QUOTE_TEXT_LABEL_SIZE];
    assert_int_equal(quote_text_decode(raw, sizeof raw, &k, &out, &len, label), 0);
    assert_int_equal(k, QUOTE_TEXT_BINARY);
    assert_null(out);
    /* base64 of 03 00 02 00 81 00 is "AwACAIEA"; URL-safe and unpadded too */
    expect_text("AwACAIEA", QUOTE_TEXT_BASE64, "\x03\x00\x02\x00\x81\x00", 6);
    expect_text("AwAC\r\nAIEA\n", QUOTE_TEXT_BASE64, "\x03\x00\x02\x00\x81\x00", 6);
    expect_text("AwACAP+/", QUOTE_TEXT_BASE64, "\x03\x00\x02\x00\xff\xbf", 6);
    expect_text("AwACAP-_", QUOTE_TEXT_BASE64, "\x03\x00\x02\x00\xff\xbf", 6);
    expect_text("AwACAA==", QUOTE_TEXT_BASE64, "\x03\x00\x02\x00", 4);
    expect_text("AwACAA", QUOTE_TEXT_BASE64, "\x03\x00\x02\x00", 4);
    expect_text("AwACAAE=", QUOTE_TEXT_BASE64, "\x03\x00\x02\x00\x01", 5);
    /* PEM-like armor, any label */
    expect_text("-----BEGIN SGX QUOTE-----\nAwACAIEA\n-----END SGX QUOTE-----\n", QUOTE_TEXT_PEM,
                "\x03\x00\x02\x00\x81\x00", 6);
    assert_int_equal(quote_text_decode((const uint8_t *)"-----BEGIN Q-----\nAwAC\n-----END Q-----",
                                       36, &k, &out, &len, label), 0);
    assert_int_equal(k, QUOTE_TEXT_PEM);
    assert_string_equal(label, "Q");
    free(out);
    /* hex wins when every character is a hex digit */
    expect_text("0300020081 00\n", QUOTE_TEXT_HEX, "\x03\x00\x02\x00\x81\x00", 6);
    /* text that is none of them */
    expect_text("hello, world", QUOTE_TEXT_UNKNOWN, NULL, 0);
    expect_text("AwA=AIEA", QUOTE_TEXT_UNKNOWN, NULL, 0);
    expect_text("A", QUOTE_TEXT_UNKNOWN, NULL, 0);
    expect_text("AwACA===", QUOTE_TEXT_UNKNOWN, NULL, 0);
    expect_text("-----BEGIN X-----\nAwAC\n", QUOTE_TEXT_UNKNOWN, NULL, 0);
    expect_text("   \n", QUOTE_TEXT_UNKNOWN, NULL, 0);
    /* nothing at all */
    assert_int_equal(quote_text_decode(NULL, 0, &k, &out, &len, label), 0);
    assert_int_equal(k, QUOTE_TEXT_BINARY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_quote_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
