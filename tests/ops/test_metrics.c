/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c and ops_metrics.c: the registry's rules, the exact exposition
 * text for a small registry (written by hand from the 0.0.4 format), and the
 * daemon's metric set read back through an independent parser
 * (promparse.h): counters move by exactly the updates made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/metrics.h"
#include "ops/ops_metrics.h"
#include "promparse.h"

static char *render(metrics_registry *reg)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(metrics_render(reg, &text, &len), METRICS_OK);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

/* metrics_hold: several updates under one lock; another thread's update
 * waits for the release and nothing is lost. */
typedef struct {
    metric_family *f;
    int done;
} hold_arg;

static void *add_one(void *arg)
{
    hold_arg *h = arg;
    (void)metrics_counter_add(h->f, NULL, 1);
    __atomic_store_n(&h->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_hold_batches_updates(void **state)
{
    (void)state;
    metrics_registry *reg = metrics_registry_new();
    assert_non_null(reg);
    metric_family *f = metrics_counter_new(reg, "t_total", "t", NULL, 0, NULL);
    assert_non_null(f);
    metrics_hold(reg);
    for (int i = 0; i < 3; i++)
        assert_int_equal(metrics_counter_add(f, NULL, 1), METRICS_OK);
    hold_arg h = {.f = f};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, add_one, &h), 0);
    double v = 0;
    assert_int_equal(metrics_value(f, NULL, &v), METRICS_OK);
    assert_true(v == 3.0);
    struct timespec ms = {0, 20 * 1000 * 1000};
    nanosleep(&ms, NULL);
    assert_int_equal(__atomic_load_n(&h.done, __ATOMIC_SEQ_CST), 0); /* it waits for us */
    metrics_release(reg);
    pthread_join(t, NULL);
    assert_int_equal(metrics_value(f, NULL, &v), METRICS_OK);
    assert_true(v == 4.0);
    metrics_registry_free(reg);
}

static void test_exact_text(void **state)
{
    (void)state;
    metrics_registry *reg = metrics_registry_new();
    assert_non_null(reg);
    static const char *const lbl[] = {"op", "result"};
    static const double bounds[] = {0.01, 0.1, 1};
    int err = 1;
    metric_family *c = metrics_counter_new(reg, "demo_requests_total", "Requests.", lbl, 2, &err);
    assert_int_equal(err, METRICS_OK);
    metric_family *g = metrics_gauge_new(reg, "demo_active", "Open things.", NULL, 0, &err);
    static const char *const oplbl[] = {"op"};
    metric_family *h =
        metrics_histogram_new(reg, "demo_seconds", "Latency.", oplbl, 1, bounds, 3, &err);
    assert_non_null(c);
    assert_non_null(g);
    assert_non_null(h);

    const char *a[] = {"GetQuoteEx", "AESM_SUCCESS"};
    const char *b[] = {"InitQuoteEx", "AESM_BUSY"};
    assert_int_equal(metrics_counter_add(c, a, 1), METRICS_OK);
    assert_int_equal(metrics_counter_add(c, a, 2), METRICS_OK);
    assert_int_equal(metrics_counter_add(c, b, 1), METRICS_OK);
    assert_int_equal(metrics_gauge_add(g, NULL, 2), METRICS_OK);
    assert_int_equal(metrics_gauge_add(g, NULL, -0.5), METRICS_OK);
    const char *q[] = {"GetQuoteEx"};
    assert_int_equal(metrics_histogram_observe(h, q, 0.005), METRICS_OK);
    assert_int_equal(metrics_histogram_observe(h, q, 0.01), METRICS_OK); /* le is inclusive */
    assert_int_equal(metrics_histogram_observe(h, q, 0.5), METRICS_OK);
    assert_int_equal(metrics_histogram_observe(h, q, 7), METRICS_OK);

    char *text = render(reg);
    const char *expected =
        "# HELP demo_requests_total Requests.\n"
        "# TYPE demo_requests_total counter\n"
        "demo_requests_total{op=\"GetQuoteEx\",result=\"AESM_SUCCESS\"} 3\n"
        "demo_requests_total{op=\"InitQuoteEx\",result=\"AESM_BUSY\"} 1\n"
        "# HELP demo_active Open things.\n"
        "# TYPE demo_active gauge\n"
        "demo_active 1.5\n"
        "# HELP demo_seconds Latency.\n"
        "# TYPE demo_seconds histogram\n"
        "demo_seconds_bucket{op=\"GetQuoteEx\",le=\"0.01\"} 2\n"
        "demo_seconds_bucket{op=\"GetQuoteEx\",le=\"0.1\"} 2\n"
        "demo_seconds_bucket{op=\"GetQuoteEx\",le=\"1\"} 3\n"
        "demo_seconds_bucket{op=\"GetQuoteEx\",le=\"+Inf\"} 4\n"
        "demo_seconds_sum{op=\"GetQuoteEx\"} 7.515\n"
        "demo_seconds_count{op=\"GetQuoteEx\"} 4\n";
    assert_string_equal(text, expected);
    free(text);

    double v = -1;
    assert_int_equal(metrics_value(c, a, &v), METRICS_OK);
    assert_true(v == 3);
    assert_int_equal(metrics_value(g, NULL, &v), METRICS_OK);
    assert_true(v == 1.5);
    const char *none[] = {"Nope", "x"};
    assert_int_equal(metrics_value(c, none, &v), METRICS_E_VALUE);
    assert_int_equal(metrics_value(h, q, &v), METRICS_E_TYPE);
    metrics_registry_free(reg);
}

static void test_empty_families_and_escapes(void **state)
{
    (void)state;
    metrics_registry *reg = metrics_registry_new();
    static const char *const lbl[] = {"path"};
    metric_family *c = metrics_counter_new(reg, "esc_total", "Back\\slash and\nnewline \"as is\".",
                                           lbl, 1, NULL);
    metric_family *unused = metrics_counter_new(reg, "unused_total", "Never updated.", lbl, 1,
                                                NULL);
    assert_non_null(c);
    assert_non_null(unused);
    const char *v[] = {"a\"b\\c\nd"};
    assert_int_equal(metrics_counter_add(c, v, 1), METRICS_OK);
    char *text = render(reg);
    const char *expected = "# HELP esc_total Back\\\\slash and\\nnewline \"as is\".\n"
                           "# TYPE esc_total counter\n"
                           "esc_total{path=\"a\\\"b\\\\c\\nd\"} 1\n"
                           "# HELP unused_total Never updated.\n"
                           "# TYPE unused_total counter\n";
    assert_string_equal(text, expected);

    pp_doc *doc = malloc(sizeof *doc);
    assert_non_null(doc);
    assert_int_equal(pp_parse(text, doc), 0);
    double x = -1;
    assert_true(pp_get(doc, "esc_total", "path=\"a\"b\\c\nd\"", &x));
    assert_true(x == 1);
    assert_string_equal(doc->families[0].help, "Back\\slash and\nnewline \"as is\".");
    free(doc);
    free(text);
    metrics_registry_free(reg);
}

static void test_registration_rules(void **state)
{
    (void)state;
    metrics_registry *reg = metrics_registry_new();
    int err = 0;
    assert_null(metrics_counter_new(reg, "9starts_with_digit", "h", NULL, 0, &err));
    assert_int_equal(err, METRICS_E_NAME);
    assert_null(metrics_counter_new(reg, "has-dash", "h", NULL, 0, &err));
    assert_int_equal(err, METRICS_E_NAME);
    assert_null(metrics_counter_new(reg, "", "h", NULL, 0, &err));
    assert_int_equal(err, METRICS_E_NAME);
    static const char *const colon[] = {"a:b"};
    assert_null(metrics_counter_new(reg, "ok_total", "h", colon, 1, &err));
    assert_int_equal(err, METRICS_E_NAME);
    static const char *const reserved[] = {"__name"};
    assert_null(metrics_counter_new(reg, "ok_total", "h", reserved, 1, &err));
    assert_int_equal(err, METRICS_E_NAME);
    static const char *const dup[] = {"a", "a"};
    assert_null(metrics_counter_new(reg, "ok_total", "h", dup, 2, &err));
    assert_int_equal(err, METRICS_E_NAME);
    static const char *const le[] = {"le"};
    static const double b1[] = {1};
    assert_null(metrics_histogram_new(reg, "h_seconds", "h", le, 1, b1, 1, &err));
    assert_int_equal(err, METRICS_E_NAME);
    static const double unsorted[] = {1, 0.5};
    assert_null(metrics_histogram_new(reg, "h_seconds", "h", NULL, 0, unsorted, 2, &err));
    assert_int_equal(err, METRICS_E_BUCKETS);
    static const double inf[] = {1, INFINITY};
    assert_null(metrics_histogram_new(reg, "h_seconds", "h", NULL, 0, inf, 2, &err));
    assert_int_equal(err, METRICS_E_BUCKETS);
    assert_null(metrics_counter_new(reg, "many_total", "h", dup, METRICS_MAX_LABELS + 1, &err));
    assert_int_equal(err, METRICS_E_INVALID_ARG);

    metric_family *ok = metrics_counter_new(reg, "ns:ok_total", "h", NULL, 0, &err);
    assert_non_null(ok);
    assert_null(metrics_gauge_new(reg, "ns:ok_total", "h", NULL, 0, &err));
    assert_int_equal(err, METRICS_E_DUPLICATE);

    /* Type rules. */
    assert_int_equal(metrics_counter_add(ok, NULL, -1), METRICS_E_INVALID_ARG);
    assert_int_equal(metrics_counter_add(ok, NULL, NAN), METRICS_E_INVALID_ARG);
    assert_int_equal(metrics_gauge_set(ok, NULL, 1), METRICS_E_TYPE);
    assert_int_equal(metrics_gauge_add(ok, NULL, 1), METRICS_E_TYPE);
    assert_int_equal(metrics_histogram_observe(ok, NULL, 1), METRICS_E_TYPE);
    metric_family *h = metrics_histogram_new(reg, "h_seconds", "h", NULL, 0, b1, 1, &err);
    assert_non_null(h);
    assert_int_equal(metrics_counter_add(h, NULL, 1), METRICS_E_TYPE);
    assert_int_equal(metrics_histogram_observe(h, NULL, NAN), METRICS_E_INVALID_ARG);

    /* Label values: present, bounded. */
    static const char *const one[] = {"k"};
    metric_family *lab = metrics_counter_new(reg, "lab_total", "h", one, 1, &err);
    assert_int_equal(metrics_counter_add(lab, NULL, 1), METRICS_E_VALUE);
    const char *nullv[] = {NULL};
    assert_int_equal(metrics_counter_add(lab, nullv, 1), METRICS_E_VALUE);
    char longv[METRICS_LABEL_VALUE_MAX + 2];
    memset(longv, 'x', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    const char *lv[] = {longv};
    assert_int_equal(metrics_counter_add(lab, lv, 1), METRICS_E_VALUE);

    /* Cardinality is capped, existing series keep working. */
    for (int i = 0; i < METRICS_MAX_SERIES; i++) {
        char val[16];
        snprintf(val, sizeof val, "v%d", i);
        const char *vv[] = {val};
        assert_int_equal(metrics_counter_add(lab, vv, 1), METRICS_OK);
    }
    const char *extra[] = {"one-too-many"};
    assert_int_equal(metrics_counter_add(lab, extra, 1), METRICS_E_CARDINALITY);
    const char *first[] = {"v0"};
    assert_int_equal(metrics_counter_add(lab, first, 1), METRICS_OK);
    assert_string_not_equal(metrics_strerror(METRICS_E_CARDINALITY),
                            metrics_strerror(METRICS_E_TYPE));
    metrics_registry_free(reg);
}

static void test_format_value(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *s;
    } cases[] = {
        {0, "0"},          {-0.0, "0"},        {3, "3"},         {-42, "-42"},
        {0.1, "0.1"},      {2.5, "2.5"},       {1e-05, "1e-05"}, {0.0005, "0.0005"},
        {1e20, "1e+20"},   {123456789012345, "123456789012345"}, {1.0 / 3, "0.3333333333333333"},
        {INFINITY, "+Inf"}, {-INFINITY, "-Inf"}, {NAN, "NaN"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        metrics_format_value(cases[i].v, buf);
        assert_string_equal(buf, cases[i].s);
    }
}

/* Every value of the label is present, at 0. */
static void assert_all_zero(const pp_doc *doc, const char *family, const char *label,
                            const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char l[64];
        double v = -1;
        snprintf(l, sizeof l, "%s=\"%s\"", label, values[i]);
        assert_true(pp_get(doc, family, l, &v));
        assert_true(v == 0);
    }
}

/* The daemon's metric set, updated as a daemon would, read back. */
static void test_ops_metrics(void **state)
{
    (void)state;
    ops_metrics m;
    assert_int_equal(ops_metrics_init(&m, "0.1.0", "sim", 1716200000), METRICS_OK);

    /* Before any traffic: every reject reason at 0, gauges at 0. */
    char *text;
    size_t len;
    assert_int_equal(ops_metrics_render(&m, &text, &len), METRICS_OK);
    pp_doc *doc = malloc(sizeof *doc);
    assert_non_null(doc);
    assert_int_equal(pp_parse(text, doc), 0);
    static const char *const reasons[] = {"limit", "deadline", "oversize", "acl", "ratelimit",
                                          "peer_limit", "unread"};
    double v = -1;
    assert_all_zero(doc, "sgx_quote_helper_connections_rejected_total", "reason", reasons, 7);
    assert_true(pp_get(doc, "sgx_quote_helper_connections_active", "", &v));
    assert_true(v == 0);
    static const char *const bys[] = {"self", "pod", "netns", "uid", "unknown"};
    assert_all_zero(doc, "sgx_quote_helper_peers_identified_total", "by", bys, 5);
    assert_true(pp_get(doc, "sgx_quote_helper_unread_reply_bytes", "", &v));
    assert_true(v == 0);
    assert_true(pp_get(doc, "sgx_quote_helper_readiness_checks_total", "", &v));
    assert_true(v == 0);
    assert_true(pp_get(doc, "sgx_quote_helper_build_info", "version=\"0.1.0\",backend=\"sim\"", &v));
    assert_true(v == 1);
    assert_true(pp_get(doc, "process_start_time_seconds", "", &v));
    assert_true(v == 1716200000);
    assert_false(pp_get(doc, "sgx_quote_helper_requests_total",
                        "op=\"GetQuoteEx\",result=\"AESM_SUCCESS\"", &v));
    free(text);

    /* Traffic: 3 quotes, 1 failed init, 1 dropped request, 2 rejections. */
    for (int i = 0; i < 3; i++) {
        ops_metrics_connection_opened(&m);
        ops_metrics_request(&m, "GetQuoteEx", "AESM_SUCCESS", 0.003);
    }
    ops_metrics_connection_closed(&m);
    ops_metrics_request(&m, "InitQuoteEx", "AESM_ATT_KEY_NOT_INITIALIZED", 0.2);
    ops_metrics_request(&m, "unknown", NULL, 0.0001);
    ops_metrics_rejected(&m, OPS_REJECT_ACL);
    ops_metrics_rejected(&m, OPS_REJECT_ACL);
    ops_metrics_rejected(&m, OPS_REJECT_RATELIMIT);
    ops_metrics_backend_ready(&m, true);
    ops_metrics_svn(&m, 8, 13);

    assert_int_equal(ops_metrics_render(&m, &text, &len), METRICS_OK);
    assert_int_equal(pp_parse(text, doc), 0);
    assert_true(pp_get(doc, "sgx_quote_helper_requests_total",
                       "op=\"GetQuoteEx\",result=\"AESM_SUCCESS\"", &v));
    assert_true(v == 3);
    assert_true(pp_get(doc, "sgx_quote_helper_requests_total",
                       "op=\"InitQuoteEx\",result=\"AESM_ATT_KEY_NOT_INITIALIZED\"", &v));
    assert_true(v == 1);
    assert_true(pp_get(doc, "sgx_quote_helper_requests_total",
                       "op=\"unknown\",result=\"closed\"", &v));
    assert_true(v == 1);
    /* 0.003 s lands in le=0.005 and every bucket above, not in le=0.0025. */
    assert_true(pp_get(doc, "sgx_quote_helper_request_duration_seconds_bucket",
                       "op=\"GetQuoteEx\",le=\"0.0025\"", &v));
    assert_true(v == 0);
    assert_true(pp_get(doc, "sgx_quote_helper_request_duration_seconds_bucket",
                       "op=\"GetQuoteEx\",le=\"0.005\"", &v));
    assert_true(v == 3);
    assert_true(pp_get(doc, "sgx_quote_helper_request_duration_seconds_bucket",
                       "op=\"GetQuoteEx\",le=\"15\"", &v));
    assert_true(v == 3);
    assert_true(pp_get(doc, "sgx_quote_helper_request_duration_seconds_count",
                       "op=\"GetQuoteEx\"", &v));
    assert_true(v == 3);
    assert_true(pp_get(doc, "sgx_quote_helper_request_duration_seconds_sum",
                       "op=\"GetQuoteEx\"", &v));
    assert_true(fabs(v - 0.009) < 1e-12);
    assert_true(pp_get(doc, "sgx_quote_helper_request_duration_seconds_bucket",
                       "op=\"InitQuoteEx\",le=\"0.1\"", &v));
    assert_true(v == 0);
    assert_true(pp_get(doc, "sgx_quote_helper_request_duration_seconds_bucket",
                       "op=\"InitQuoteEx\",le=\"0.25\"", &v));
    assert_true(v == 1);
    assert_true(pp_get(doc, "sgx_quote_helper_connections_active", "", &v));
    assert_true(v == 2);
    assert_true(pp_get(doc, "sgx_quote_helper_connections_rejected_total", "reason=\"acl\"", &v));
    assert_true(v == 2);
    assert_true(pp_get(doc, "sgx_quote_helper_connections_rejected_total",
                       "reason=\"ratelimit\"", &v));
    assert_true(v == 1);
    assert_true(pp_get(doc, "sgx_quote_helper_connections_rejected_total", "reason=\"limit\"",
                       &v));
    assert_true(v == 0);
    assert_true(pp_get(doc, "sgx_quote_helper_backend_ready", "", &v));
    assert_true(v == 1);
    assert_true(pp_get(doc, "sgx_quote_helper_qe_svn", "", &v));
    assert_true(v == 8);
    assert_true(pp_get(doc, "sgx_quote_helper_pce_svn", "", &v));
    assert_true(v == 13);
    /* Every family is typed. */
    for (size_t i = 0; i < doc->n_families; i++)
        assert_true(doc->families[i].type[0] != '\0' && doc->families[i].has_help);
    /* + log_lines_dropped, backend_info, unread_reply_bytes, peers_identified,
     * readiness_checks */
    assert_int_equal(doc->n_families, 14);
    free(text);
    free(doc);

    assert_string_equal(ops_reject_reason_name(OPS_REJECT_OVERSIZE), "oversize");
    assert_string_equal(ops_reject_reason_name(OPS_REJECT_DEADLINE), "deadline");
    assert_string_equal(ops_reject_reason_name(OPS_REJECT_LIMIT), "limit");
    assert_string_equal(ops_reject_reason_name((ops_reject_reason)99), "unknown");
    ops_metrics_free(&m);
}

/* The parser itself rejects what a scraper would. */
static void test_parser_rejects(void **state)
{
    (void)state;
    pp_doc *doc = malloc(sizeof *doc);
    assert_non_null(doc);
    assert_int_equal(pp_parse("x_total 1\n", doc), -1); /* no TYPE */
    assert_int_equal(pp_parse("# TYPE x counter\nx{a=\"1} 1\n", doc), -1);
    assert_int_equal(pp_parse("# TYPE x counter\nx 1", doc), -1); /* no final newline */
    assert_int_equal(pp_parse("# TYPE x counter\nx one\n", doc), -1);
    assert_int_equal(pp_parse("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                              "h_count 1\n", doc),
                     -1);
    assert_int_equal(pp_parse("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\n", doc), -1);
    assert_int_equal(pp_parse("# TYPE x counter\n# TYPE x counter\n", doc), -1);
    assert_int_equal(pp_parse("# TYPE x counter\nx 1\n# TYPE y gauge\ny 1\nx 2\n", doc), -1);
    assert_int_equal(pp_parse("# TYPE x counter\nx{a=\"\\q\"} 1\n", doc), -1);
    assert_int_equal(pp_parse("# TYPE x counter\nx{a=\"v\"} 1\n", doc), 0);
    free(doc);
}

typedef struct {
    metric_family *f;
    metric_family *h;
} thread_arg;

static void *hammer(void *p)
{
    thread_arg *a = p;
    const char *v[] = {"x"};
    for (int i = 0; i < 2000; i++) {
        metrics_counter_add(a->f, v, 1);
        metrics_histogram_observe(a->h, NULL, 0.5);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    metrics_registry *reg = metrics_registry_new();
    static const char *const l[] = {"k"};
    static const double b[] = {1};
    thread_arg a = {metrics_counter_new(reg, "t_total", "h", l, 1, NULL),
                    metrics_histogram_new(reg, "t_seconds", "h", NULL, 0, b, 1, NULL)};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &a), 0);
    /* Render concurrently: each page must be self-consistent. */
    pp_doc *doc = malloc(sizeof *doc);
    assert_non_null(doc);
    for (int i = 0; i < 20; i++) {
        char *text = render(reg);
        assert_int_equal(pp_parse(text, doc), 0);
        free(text);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *text = render(reg);
    assert_int_equal(pp_parse(text, doc), 0);
    double v = -1;
    assert_true(pp_get(doc, "t_total", "k=\"x\"", &v));
    assert_true(v == 8000);
    assert_true(pp_get(doc, "t_seconds_count", "", &v));
    assert_true(v == 8000);
    assert_true(pp_get(doc, "t_seconds_sum", "", &v));
    assert_true(v == 4000);
    free(text);
    free(doc);
    metrics_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hold_batches_updates),
        cmocka_unit_test(test_exact_text),
        cmocka_unit_test(test_empty_families_and_escapes),
        cmocka_unit_test(test_registration_rules),
        cmocka_unit_test(test_format_value),
        cmocka_unit_test(test_ops_metrics),
        cmocka_unit_test(test_parser_rejects),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
