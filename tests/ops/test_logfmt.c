/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logfmt.c: JSON lines parsed back with jansson (strict, rejects invalid
 * UTF-8 and control characters), every field and escape checked; the text
 * format checked against hand-written lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/logfmt.h"

static logfmt_fields request_fields(void)
{
    logfmt_fields f;
    memset(&f, 0, sizeof f);
    f.ts.tv_sec = 1716199872; /* 2024-05-20T10:11:12Z */
    f.ts.tv_nsec = 345678901;
    f.level = LOGFMT_LEVEL_INFO;
    f.event = "request";
    f.op = "GetQuoteEx";
    f.has_aesm = true;
    f.code = 0;
    f.result = "AESM_SUCCESS";
    f.has_latency = true;
    f.latency_ms = 1.2345;
    f.has_peer = true;
    f.pid = 4242;
    f.uid = 1000;
    f.gid = 2000;
    f.pod_uid = "05b3ee07-a2bd-47e7-9599-7961201f20dd";
    f.container_id = "1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119";
    f.has_enclave = true;
    for (int i = 0; i < 32; i++) {
        f.mr_enclave[i] = (uint8_t)i;
        f.mr_signer[i] = (uint8_t)(0xff - i);
    }
    return f;
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
    logfmt_fields f = request_fields();
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &f, &line, &len), LOGFMT_OK);
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
    assert_null(json_object_get(j, "reason"));
    assert_null(json_object_get(j, "msg"));
    assert_int_equal(json_object_size(j), 14);
    json_decref(j);
    free(line);
}

/* An error line: the aesm code, name and the remediation hint. */
static void test_json_error_with_hint(void **state)
{
    (void)state;
    logfmt_fields f = request_fields();
    f.level = LOGFMT_LEVEL_ERROR;
    f.op = "InitQuoteEx";
    f.has_enclave = false;
    f.code = 44;
    f.result = "AESM_NO_PLATFORM_CERT_DATA";
    f.hint = "the platform is not registered with the PCCS (0xe011); register it with "
             "PCKIDRetrievalTool";
    f.pod_uid = "";
    f.container_id = NULL;
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &f, &line, &len), LOGFMT_OK);
    json_t *j = parse_line(line, len);
    assert_string_equal(jstr(j, "level"), "error");
    assert_int_equal(json_integer_value(json_object_get(j, "code")), 44);
    assert_string_equal(jstr(j, "result"), "AESM_NO_PLATFORM_CERT_DATA");
    assert_string_equal(jstr(j, "hint"), f.hint);
    assert_null(json_object_get(j, "pod_uid"));
    assert_null(json_object_get(j, "container_id"));
    assert_null(json_object_get(j, "mrenclave"));
    json_decref(j);
    free(line);
}

/* Every byte value, quotes, backslashes and broken UTF-8 survive a strict
 * parser; valid UTF-8 comes back unchanged. */
static void test_json_escaping(void **state)
{
    (void)state;
    logfmt_fields f;
    memset(&f, 0, sizeof f);
    f.event = "rejected";
    f.reason = "acl";

    char all[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    f.msg = all;
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &f, &line, &len), LOGFMT_OK);
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
        f.msg = cases[i].in;
        assert_int_equal(logfmt_render(LOGFMT_JSON, &f, &line, &len), LOGFMT_OK);
        j = parse_line(line, len);
        assert_string_equal(jstr(j, "msg"), cases[i].out);
        json_decref(j);
        free(line);
    }
    /* Control characters are escaped, never raw, in the line itself. */
    f.msg = "a\x01" "b";
    assert_int_equal(logfmt_render(LOGFMT_JSON, &f, &line, &len), LOGFMT_OK);
    assert_non_null(strstr(line, "\"a\\u0001b\""));
    free(line);
}

static void test_json_numbers_stay_numbers(void **state)
{
    (void)state;
    logfmt_fields f;
    memset(&f, 0, sizeof f);
    f.event = "request";
    f.has_latency = true;
    static const double odd[] = {-1.0, INFINITY, -INFINITY, NAN, 1e300};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        f.latency_ms = odd[i];
        char *line;
        size_t len;
        assert_int_equal(logfmt_render(LOGFMT_JSON, &f, &line, &len), LOGFMT_OK);
        json_t *j = parse_line(line, len);
        assert_true(json_is_number(json_object_get(j, "latency_ms")));
        json_decref(j);
        free(line);
    }
    f.has_latency = false;
    f.has_peer = true;
    f.pid = 0; /* peer outside our PID namespace */
    f.uid = 4294967294u;
    f.gid = 0;
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &f, &line, &len), LOGFMT_OK);
    json_t *j = parse_line(line, len);
    assert_int_equal(json_integer_value(json_object_get(j, "pid")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "uid")), 4294967294LL);
    json_decref(j);
    free(line);
}

static void test_text_format(void **state)
{
    (void)state;
    logfmt_fields f = request_fields();
    f.has_enclave = false;
    f.container_id = NULL;
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_TEXT, &f, &line, &len), LOGFMT_OK);
    assert_string_equal(line, "2024-05-20T10:11:12.345Z info request op=GetQuoteEx "
                              "result=AESM_SUCCESS code=0 latency_ms=1.234 pid=4242 uid=1000 "
                              "gid=2000 pod_uid=05b3ee07-a2bd-47e7-9599-7961201f20dd\n");
    free(line);

    logfmt_fields e;
    memset(&e, 0, sizeof e);
    e.level = LOGFMT_LEVEL_WARN;
    e.event = "rejected";
    e.reason = "ratelimit";
    e.hint = "raise --rate-limit or spread \"requests\" = fewer\nbursts \\ \x01 caf\xc3\xa9 \xff";
    assert_int_equal(logfmt_render(LOGFMT_TEXT, &e, &line, &len), LOGFMT_OK);
    assert_string_equal(line, "1970-01-01T00:00:00.000Z warn rejected reason=ratelimit "
                              "hint=\"raise --rate-limit or spread \\\"requests\\\" = fewer\\nbursts "
                              "\\\\ \\u0001 caf\xc3\xa9 \\ufffd\"\n");
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
    logfmt_level lv;
    assert_int_equal(logfmt_parse_level("warning", &lv), LOGFMT_OK);
    assert_int_equal(lv, LOGFMT_LEVEL_WARN);
    assert_int_equal(logfmt_parse_level("debug", &lv), LOGFMT_OK);
    assert_int_equal(lv, LOGFMT_LEVEL_DEBUG);
    assert_int_equal(logfmt_parse_level("error", &lv), LOGFMT_OK);
    assert_int_equal(lv, LOGFMT_LEVEL_ERROR);
    assert_int_equal(logfmt_parse_level("verbose", &lv), LOGFMT_E_INVALID_ARG);
    assert_string_equal(logfmt_level_name(LOGFMT_LEVEL_ERROR), "error");

    logfmt_fields f;
    memset(&f, 0, sizeof f);
    char *line;
    size_t len;
    assert_int_equal(logfmt_render(LOGFMT_JSON, &f, &line, &len), LOGFMT_E_INVALID_ARG);
    assert_int_equal(logfmt_render(LOGFMT_JSON, NULL, &line, &len), LOGFMT_E_INVALID_ARG);
    f.event = "x";
    assert_int_equal(logfmt_render(LOGFMT_JSON, &f, NULL, &len), LOGFMT_E_INVALID_ARG);
    assert_int_equal(logfmt_render(LOGFMT_JSON, &f, &line, NULL), LOGFMT_OK);
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
        cmocka_unit_test(test_json_numbers_stay_numbers),
        cmocka_unit_test(test_text_format),
        cmocka_unit_test(test_parsers_and_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
