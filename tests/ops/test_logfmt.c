/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logfmt.c: JSON lines parsed back with jansson (strict, rejects invalid
 * UTF-8 and control characters), every field, escape and the length cut
 * checked; the text format checked against hand-written lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/logfmt.h"

/* The fields of a request line, as the daemon adds them (server.c). */
static uint8_t g_mre[32], g_mrs[32];

static void request_record(logfmt_record *r, bool with_ids, bool with_enclave)
{
    logfmt_begin(r, LOGFMT_LEVEL_INFO, "request");
    r->ts.tv_sec = 1716199872; /* 2024-05-20T10:11:12Z */
    r->ts.tv_nsec = 345678901;
    logfmt_str(r, "op", "GetQuoteEx");
    logfmt_str(r, "result", "AESM_SUCCESS");
    logfmt_int(r, "code", 0);
    logfmt_ms(r, "latency_ms", 1.2345);
    logfmt_int(r, "pid", 4242);
    logfmt_uint(r, "uid", 1000);
    logfmt_uint(r, "gid", 2000);
    logfmt_str_opt(r, "pod_uid", "05b3ee07-a2bd-47e7-9599-7961201f20dd");
    if (with_ids)
        logfmt_str_opt(r, "container_id",
                       "1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119");
    if (with_enclave) {
        for (int i = 0; i < 32; i++) {
            g_mre[i] = (uint8_t)i;
            g_mrs[i] = (uint8_t)(0xff - i);
        }
        logfmt_hex(r, "mrenclave", g_mre, 32);
        logfmt_hex(r, "mrsigner", g_mrs, 32);
    }
}

static void bare_record(logfmt_record *r, logfmt_level lv, const char *event)
{
    logfmt_begin(r, lv, event);
    r->ts.tv_sec = 0;
    r->ts.tv_nsec = 0;
}

static json_t *parse_line(const char *line, size_t len)
{
    assert_true(len > 0);
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1)); /* exactly one line */
    json_error_t jerr;
    json_t *j = json_loadb(line, len, 0, &jerr);
    if (j == NULL)
        fail_msg("jansson: %s in %s", jerr.text, line);
    assert_true(json_is_object(j));
    return j;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (v == NULL || !json_is_string(v))
        fail_msg("key %s missing or not a string", k);
    return json_string_value(v);
}

static void test_json_request(void **state)
{
    (void)state;
    logfmt_record r;
    request_record(&r, true, true);
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_OK);
    assert_int_equal(strlen(line), len);
    json_t *j = parse_line(line, len);
    assert_string_equal(jstr(j, "ts"), "2024-05-20T10:11:12.345Z");
    assert_string_equal(jstr(j, "level"), "info");
    assert_string_equal(jstr(j, "event"), "request");
    assert_string_equal(jstr(j, "op"), "GetQuoteEx");
    assert_int_equal(json_integer_value(json_object_get(j, "code")), 0);
    assert_true(json_is_integer(json_object_get(j, "code")));
    assert_string_equal(jstr(j, "result"), "AESM_SUCCESS");
    assert_true(json_is_real(json_object_get(j, "latency_ms")));
    assert_true(json_real_value(json_object_get(j, "latency_ms")) == 1.234 ||
                json_real_value(json_object_get(j, "latency_ms")) == 1.235);
    assert_int_equal(json_integer_value(json_object_get(j, "pid")), 4242);
    assert_int_equal(json_integer_value(json_object_get(j, "uid")), 1000);
    assert_int_equal(json_integer_value(json_object_get(j, "gid")), 2000);
    assert_string_equal(jstr(j, "pod_uid"), "05b3ee07-a2bd-47e7-9599-7961201f20dd");
    assert_string_equal(jstr(j, "container_id"),
                        "1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119");
    assert_string_equal(jstr(j, "mrenclave"),
                        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    assert_string_equal(jstr(j, "mrsigner"),
                        "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0");
    assert_null(json_object_get(j, "hint"));
    assert_int_equal(json_object_size(j), 14);
    json_decref(j);
    /* Keys come out in the order they were added. */
    const char *order[] = {"\"ts\"", "\"level\"", "\"event\"", "\"op\"", "\"result\"",
                           "\"code\"", "\"latency_ms\"", "\"pid\"", "\"uid\"", "\"gid\"",
                           "\"pod_uid\"", "\"container_id\"", "\"mrenclave\"", "\"mrsigner\""};
    const char *at = line;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *next = strstr(at, order[i]);
        assert_non_null(next);
        at = next;
    }
    free(line);
}

/* An error line: the aesm code, name and the remediation hint; optional
 * strings that are empty or NULL leave no key. */
static void test_json_error_with_hint(void **state)
{
    (void)state;
    static const char hint[] = "the platform is not registered with the PCCS (0xe011); "
                               "register it with PCKIDRetrievalTool";
    logfmt_record r;
    logfmt_begin(&r, LOGFMT_LEVEL_ERROR, "request");
    logfmt_str(&r, "op", "InitQuoteEx");
    logfmt_str(&r, "result", "AESM_NO_PLATFORM_CERT_DATA");
    logfmt_int(&r, "code", 44);
    logfmt_str_opt(&r, "pod_uid", "");
    logfmt_str_opt(&r, "container_id", NULL);
    logfmt_str_opt(&r, "hint", hint);
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_OK);
    json_t *j = parse_line(line, len);
    assert_string_equal(jstr(j, "level"), "error");
    assert_int_equal(json_integer_value(json_object_get(j, "code")), 44);
    assert_string_equal(jstr(j, "result"), "AESM_NO_PLATFORM_CERT_DATA");
    assert_string_equal(jstr(j, "hint"), hint);
    assert_null(json_object_get(j, "pod_uid"));
    assert_null(json_object_get(j, "container_id"));
    assert_null(json_object_get(j, "mrenclave"));
    assert_int_equal(json_object_size(j), 7);
    json_decref(j);
    free(line);
}

/* Every byte value, quotes, backslashes and broken UTF-8 survive a strict
 * parser; valid UTF-8 comes back unchanged. */
static void test_json_escaping(void **state)
{
    (void)state;
    logfmt_record r;
    char *line;
    size_t len;

    char all[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    bare_record(&r, LOGFMT_LEVEL_WARN, "rejected");
    logfmt_str(&r, "reason", "acl");
    logfmt_str(&r, "msg", all);
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_OK);
    json_t *j = parse_line(line, len);
    const char *d = jstr(j, "msg");
    /* ASCII 1..127 round-trip exactly; 128..255 alone are invalid UTF-8 and
     * each becomes U+FFFD (EF BF BD). */
    assert_memory_equal(d, all, 127);
    for (int i = 0; i < 128; i++)
        assert_memory_equal(d + 127 + 3 * i, "\xef\xbf\xbd", 3);
    assert_int_equal(strlen(d), 127 + 3 * 128);
    json_decref(j);
    free(line);

    static const struct {
        const char *in, *out;
    } cases[] = {
        {"quote \" backslash \\ slash /", "quote \" backslash \\ slash /"},
        {"tab\tnl\ncr\r", "tab\tnl\ncr\r"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"},
        {"overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd"},
        {"overlong3 \xe0\x9f\xbf", "overlong3 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"surrogate \xed\xa0\x80", "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"truncated \xe2\x82", "truncated \xef\xbf\xbd\xef\xbf\xbd"},
        {"too big \xf4\x90\x80\x80", "too big \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"del \x7f", "del \x7f"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bare_record(&r, LOGFMT_LEVEL_INFO, "message");
        logfmt_str(&r, "msg", cases[i].in);
        assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_OK);
        j = parse_line(line, len);
        assert_string_equal(jstr(j, "msg"), cases[i].out);
        json_decref(j);
        free(line);
    }
    /* Control characters are escaped, never raw, in the line itself. */
    bare_record(&r, LOGFMT_LEVEL_INFO, "message");
    logfmt_str(&r, "msg", "a\x01" "b");
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_OK);
    assert_non_null(strstr(line, "\"a\\u0001b\""));
    free(line);
    /* Hostile event names and keys are escaped too. */
    bare_record(&r, LOGFMT_LEVEL_INFO, "ev\"il\n");
    logfmt_str(&r, "k\"ey", "v");
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_OK);
    j = parse_line(line, len);
    assert_string_equal(jstr(j, "event"), "ev\"il\n");
    assert_string_equal(jstr(j, "k\"ey"), "v");
    json_decref(j);
    free(line);
}

/* A value longer than LOGFMT_VALUE_MAX is cut before the character or
 * escape that would cross the limit, never inside one, and ends in "…". */
static void test_long_values_cut_at_boundaries(void **state)
{
    (void)state;
    /* Unit sizes 1 (needs an escape: 6 bytes out), 2, 3 and 4 bytes in, each
     * starting at every offset below the limit. */
    static const char *const units[] = {"\x01", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91",
                                        "\"", "\xff"};
    char *big = malloc(LOGFMT_VALUE_MAX + 64);
    assert_non_null(big);
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t ul = strlen(units[u]);
        for (size_t pad = 0; pad < 4; pad++) {
            size_t n = 0;
            for (size_t k = 0; k < pad; k++)
                big[n++] = 'x';
            while (n + ul <= LOGFMT_VALUE_MAX + 32) {
                memcpy(big + n, units[u], ul);
                n += ul;
            }
            big[n] = '\0';
            for (int fmt = LOGFMT_TEXT; fmt <= LOGFMT_JSON; fmt++) {
                logfmt_record r;
                bare_record(&r, LOGFMT_LEVEL_INFO, "message");
                logfmt_str(&r, "msg", big);
                char *line;
                size_t len;
                assert_int_equal(logfmt_render((logfmt_format)fmt, &r, &line, &len), LOGFMT_OK);
                assert_int_equal(line[len - 1], '\n');
                assert_null(memchr(line, '\n', len - 1));
                /* The ellipsis sits right before the closing quote. */
                const char *tail = fmt == LOGFMT_JSON ? "\xe2\x80\xa6\"}\n" : "\xe2\x80\xa6\"\n";
                assert_true(len > strlen(tail));
                assert_string_equal(line + len - strlen(tail), tail);
                if (fmt == LOGFMT_JSON) {
                    json_t *j = parse_line(line, len);
                    const char *m = jstr(j, "msg");
                    /* Whole units only: pad, k units, the ellipsis. */
                    size_t ml = strlen(m);
                    size_t out_unit = units[u][0] == '\xff' ? 3 : ul;
                    assert_int_equal((ml - pad - 3) % out_unit, 0);
                    size_t units_kept = (ml - pad - 3) / out_unit;
                    assert_true(pad + units_kept * ul <= LOGFMT_VALUE_MAX);
                    assert_true(pad + (units_kept + 1) * ul > LOGFMT_VALUE_MAX);
                    json_decref(j);
                }
                free(line);
            }
        }
    }
    /* Exactly at the limit: kept whole, no ellipsis. */
    memset(big, 'y', LOGFMT_VALUE_MAX);
    big[LOGFMT_VALUE_MAX] = '\0';
    logfmt_record r;
    bare_record(&r, LOGFMT_LEVEL_INFO, "message");
    logfmt_str(&r, "msg", big);
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_OK);
    json_t *j = parse_line(line, len);
    assert_int_equal(strlen(jstr(j, "msg")), LOGFMT_VALUE_MAX);
    json_decref(j);
    free(line);
    free(big);
}

/* More fields than fit: the rest are dropped and the line says so. */
static void test_field_overflow(void **state)
{
    (void)state;
    static char keys[LOGFMT_MAX_FIELDS + 5][8];
    logfmt_record r;
    bare_record(&r, LOGFMT_LEVEL_INFO, "message");
    for (int i = 0; i < LOGFMT_MAX_FIELDS + 5; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        logfmt_int(&r, keys[i], i);
    }
    assert_true(r.overflow);
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_OK);
    json_t *j = parse_line(line, len);
    assert_int_equal(json_object_size(j), 3 + LOGFMT_MAX_FIELDS + 1);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    assert_int_equal(json_integer_value(json_object_get(j, "k31")), 31);
    assert_null(json_object_get(j, "k32"));
    json_decref(j);
    free(line);
}

static void test_json_numbers_stay_numbers(void **state)
{
    (void)state;
    static const double odd[] = {-1.0, INFINITY, -INFINITY, NAN, 1e300};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        logfmt_record r;
        bare_record(&r, LOGFMT_LEVEL_INFO, "request");
        logfmt_ms(&r, "latency_ms", odd[i]);
        char *line;
        size_t len;
        assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_OK);
        json_t *j = parse_line(line, len);
        assert_true(json_is_number(json_object_get(j, "latency_ms")));
        json_decref(j);
        free(line);
    }
    logfmt_record r;
    bare_record(&r, LOGFMT_LEVEL_INFO, "request");
    logfmt_int(&r, "pid", 0); /* peer outside our PID namespace */
    logfmt_uint(&r, "uid", 4294967294u);
    logfmt_int(&r, "neg", -7);
    logfmt_bool(&r, "flag", true);
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_OK);
    json_t *j = parse_line(line, len);
    assert_int_equal(json_integer_value(json_object_get(j, "pid")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "uid")), 4294967294LL);
    assert_int_equal(json_integer_value(json_object_get(j, "neg")), -7);
    assert_true(json_is_true(json_object_get(j, "flag")));
    json_decref(j);
    free(line);
}

/* Numbers are rendered without printf; they must read exactly as printf
 * would print them, edge cases included. */
static void test_numbers_as_printf_prints_them(void **state)
{
    (void)state;
    static const struct {
        double ms;
        const char *text;
    } ms[] = {
        {0.0, "0.000"},          {0.0004, "0.000"},     {0.0025, "0.003"},
        {1.2345, "1.234"},       {1.2355, "1.236"},     {2.5, "2.500"},
        {999.9995, "1000.000"},  {0.0015, "0.002"},     {12.0005, "12.001"},
        {86400000.0, "86400000.000"}, {1e300, "86400000.000"}, {-3.0, "0.000"},
    };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        logfmt_record r;
        bare_record(&r, LOGFMT_LEVEL_INFO, "e");
        logfmt_ms(&r, "v", ms[i].ms);
        char *line;
        size_t len;
        assert_int_equal(logfmt_render(LOGFMT_TEXT, &r, &line, &len), LOGFMT_OK);
        char want[128];
        snprintf(want, sizeof want, "1970-01-01T00:00:00.000Z info e v=%s\n", ms[i].text);
        assert_string_equal(line, want);
        free(line);
    }
    /* And against printf itself over many values. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v = (double)(x % 100000000ull) / (i % 2 ? 1000.0 : 10000.0);
        logfmt_record r;
        bare_record(&r, LOGFMT_LEVEL_INFO, "e");
        logfmt_ms(&r, "v", v);
        logfmt_int(&r, "i", (long long)(x >> 1) * (i % 3 ? 1 : -1));
        logfmt_uint(&r, "u", x);
        char *line;
        size_t len;
        assert_int_equal(logfmt_render(LOGFMT_TEXT, &r, &line, &len), LOGFMT_OK);
        char want[256];
        snprintf(want, sizeof want, "1970-01-01T00:00:00.000Z info e v=%.3f i=%lld u=%llu\n", v,
                 (long long)(x >> 1) * (i % 3 ? 1 : -1), (unsigned long long)x);
        assert_string_equal(line, want);
        free(line);
    }
    logfmt_record r;
    bare_record(&r, LOGFMT_LEVEL_INFO, "e");
    logfmt_int(&r, "min", LLONG_MIN);
    logfmt_uint(&r, "max", ULLONG_MAX);
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_TEXT, &r, &line, &len), LOGFMT_OK);
    assert_string_equal(line, "1970-01-01T00:00:00.000Z info e min=-9223372036854775808 "
                              "max=18446744073709551615\n");
    free(line);
}

static void test_text_format(void **state)
{
    (void)state;
    logfmt_record r;
    request_record(&r, false, false);
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_TEXT, &r, &line, &len), LOGFMT_OK);
    assert_string_equal(line, "2024-05-20T10:11:12.345Z info request op=GetQuoteEx "
                              "result=AESM_SUCCESS code=0 latency_ms=1.234 pid=4242 uid=1000 "
                              "gid=2000 pod_uid=05b3ee07-a2bd-47e7-9599-7961201f20dd\n");
    free(line);

    logfmt_record e;
    bare_record(&e, LOGFMT_LEVEL_WARN, "rejected");
    logfmt_str(&e, "reason", "ratelimit");
    logfmt_str(&e, "hint",
               "raise --rate-limit or spread \"requests\" = fewer\nbursts \\ \x01 caf\xc3\xa9 \xff");
    logfmt_str(&e, "empty", "");
    logfmt_hex(&e, "mr", (const uint8_t *)"\x01\xab", 2);
    assert_int_equal(logfmt_render(LOGFMT_TEXT, &e, &line, &len), LOGFMT_OK);
    assert_string_equal(line, "1970-01-01T00:00:00.000Z warn rejected reason=ratelimit "
                              "hint=\"raise --rate-limit or spread \\\"requests\\\" = fewer\\nbursts "
                              "\\\\ \\u0001 caf\xc3\xa9 \\ufffd\" empty=\"\" mr=\"01ab\"\n");
    free(line);
}

static void test_parsers_and_args(void **state)
{
    (void)state;
    logfmt_format fmt;
    assert_int_equal(logfmt_parse_format("json", &fmt), LOGFMT_OK);
    assert_int_equal(fmt, LOGFMT_JSON);
    assert_int_equal(logfmt_parse_format("text", &fmt), LOGFMT_OK);
    assert_int_equal(fmt, LOGFMT_TEXT);
    assert_int_equal(logfmt_parse_format("JSON", &fmt), LOGFMT_E_INVALID_ARG);
    assert_int_equal(logfmt_parse_format(NULL, &fmt), LOGFMT_E_INVALID_ARG);
    assert_string_equal(logfmt_format_name(LOGFMT_JSON), "json");
    assert_string_equal(logfmt_format_name(LOGFMT_TEXT), "text");
    logfmt_level lv;
    assert_int_equal(logfmt_parse_level("warning", &lv), LOGFMT_OK);
    assert_int_equal(lv, LOGFMT_LEVEL_WARN);
    assert_int_equal(logfmt_parse_level("debug", &lv), LOGFMT_OK);
    assert_int_equal(lv, LOGFMT_LEVEL_DEBUG);
    assert_int_equal(logfmt_parse_level("error", &lv), LOGFMT_OK);
    assert_int_equal(lv, LOGFMT_LEVEL_ERROR);
    assert_int_equal(logfmt_parse_level("verbose", &lv), LOGFMT_E_INVALID_ARG);
    assert_string_equal(logfmt_level_name(LOGFMT_LEVEL_ERROR), "error");

    logfmt_record r;
    bare_record(&r, LOGFMT_LEVEL_DEBUG, NULL);
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, &len), LOGFMT_E_INVALID_ARG);
    assert_int_equal(logfmt_render(LOGFMT_JSON, NULL, &line, &len), LOGFMT_E_INVALID_ARG);
    r.event = "x";
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, NULL, &len), LOGFMT_E_INVALID_ARG);
    assert_int_equal(logfmt_render(LOGFMT_JSON, &r, &line, NULL), LOGFMT_OK);
    assert_string_equal(line, "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"debug\",\"event\":\"x\"}\n");
    free(line);
    /* A pipe or file is not a terminal: JSON. */
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    assert_int_equal(logfmt_default_format(fileno(tmp)), LOGFMT_JSON);
    fclose(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_request),
        cmocka_unit_test(test_json_error_with_hint),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_long_values_cut_at_boundaries),
        cmocka_unit_test(test_field_overflow),
        cmocka_unit_test(test_json_numbers_stay_numbers),
        cmocka_unit_test(test_numbers_as_printf_prints_them),
        cmocka_unit_test(test_text_format),
        cmocka_unit_test(test_parsers_and_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
