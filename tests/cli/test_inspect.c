/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote inspect` end to end: runs the built binary
 * ($SGXQH_BUILD_DIR/src/cli/sgx-quote) on the shared vectors and on quotes
 * made here, and reads its JSON with jansson and its text line by line.
 * Expected values come from each vector's meta.json, from quote-format
 * §1.2/§1.7/§2.2/§5.2/§5.4, from hex dumps of the vectors written down
 * below, and from the bytes this test itself puts into built quotes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../common/test_support.h"
#include "sgxqh/quote.h"

extern char **environ;

/* quote-format §1.2 */
static const char INTEL_VENDOR_HEX[] = "939a7233f79c4ca9940a0db3957f0607";

/* The documented top-level keys (docs/inspect.md), in order. */
static const char *const TOP_KEYS[] = {
    "schema_version", "file", "file_size", "quote_size", "trailing_bytes", "header",
    "body", "signature_data", "pck_sgx_extension", "errors",
};

static char g_tmpdir[256];

/* ---- helpers ---- */

typedef struct {
    int status; /* exit code, or -1 if not a normal exit */
    char *out;  /* NUL-terminated */
    char *err;
} run_result;

static void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static const char *binary(void)
{
    static char path[1024];
    const char *b = getenv("SGXQH_BUILD_DIR");
    assert_non_null(b);
    snprintf(path, sizeof path, "%s/src/cli/sgx-quote", b);
    return path;
}

static const char *vector_path(const char *vector, const char *file)
{
    char rel[512];
    snprintf(rel, sizeof rel, "quotes/%s/%s", vector, file);
    return ts_vector_path(rel);
}

static const char *tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", g_tmpdir, name);
    return path;
}

/* Runs `sgx-quote inspect ARGS...` (NULL-terminated), stdin from stdin_path
 * (or /dev/null). */
static run_result run_inspect_stdin(const char *stdin_path, ...)
{
    char out_path[512], err_path[512];
    const char *argv[16];
    size_t argc = 0;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int wstatus = 0;
    va_list ap;

    argv[argc++] = binary();
    argv[argc++] = "inspect";
    va_start(ap, stdin_path);
    for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
        assert_true(argc < 15);
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;

    snprintf(out_path, sizeof out_path, "%s/stdout", g_tmpdir);
    snprintf(err_path, sizeof err_path, "%s/stderr", g_tmpdir);
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 0, stdin_path ? stdin_path : "/dev/null",
                                                      O_RDONLY, 0),
                     0);
    assert_int_equal(
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
    assert_int_equal(
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    while (waitpid(pid, &wstatus, 0) < 0)
        assert_int_equal(errno, EINTR);

    run_result r;
    r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    r.out = (char *)ts_read_file(out_path, NULL);
    r.err = (char *)ts_read_file(err_path, NULL);
    /* Under ASan+UBSan the binary is instrumented too: any report fails. */
    if (strstr(r.err, "Sanitizer") != NULL || strstr(r.err, "runtime error:") != NULL)
        fail_msg("sanitizer report from sgx-quote inspect:\n%s", r.err);
    return r;
}

#define run_inspect(...) run_inspect_stdin(NULL, __VA_ARGS__, (const char *)NULL)

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

static json_t *parse_json(const run_result *r)
{
    json_error_t jerr;
    json_t *j = json_loads(r->out, 0, &jerr);
    if (j == NULL)
        fail_msg("inspect --json output is not JSON: %s (line %d)\n%s", jerr.text, jerr.line,
                 r->out);
    assert_true(json_is_object(j));
    return j;
}

/* Follows a dotted path ("a.b.0.c": numbers index arrays); fails the test
 * if any step is absent. */
static json_t *jget(json_t *root, const char *path)
{
    char buf[256], *save = NULL;
    json_t *cur = root;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok_r(buf, ".", &save); tok != NULL; tok = strtok_r(NULL, ".", &save)) {
        json_t *next = json_is_object(cur)  ? json_object_get(cur, tok)
                       : json_is_array(cur) ? json_array_get(cur, strtoul(tok, NULL, 10))
                                            : NULL;
        if (next == NULL)
            fail_msg("JSON path %s: key '%s' missing", path, tok);
        cur = next;
    }
    return cur;
}

static long long jint(json_t *root, const char *path)
{
    json_t *v = jget(root, path);
    if (!json_is_integer(v))
        fail_msg("JSON path %s is not an integer", path);
    return json_integer_value(v);
}

static const char *jstr(json_t *root, const char *path)
{
    json_t *v = jget(root, path);
    if (!json_is_string(v))
        fail_msg("JSON path %s is not a string", path);
    return json_string_value(v);
}

static void assert_jstr(json_t *root, const char *path, const char *want)
{
    const char *got = jstr(root, path);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got '%s', want '%s'", path, got, want);
}

static void assert_jint(json_t *root, const char *path, long long want)
{
    long long got = jint(root, path);
    if (got != want)
        fail_msg("%s: got %lld, want %lld", path, got, want);
}

static void assert_jnull(json_t *root, const char *path)
{
    if (!json_is_null(jget(root, path)))
        fail_msg("%s: expected null", path);
}

static void assert_jbool(json_t *root, const char *path, bool want)
{
    json_t *v = jget(root, path);
    if (!json_is_boolean(v) || json_is_true(v) != want)
        fail_msg("%s: expected %s", path, want ? "true" : "false");
}

/* A text line "<indent><label><spaces><value>" with exactly that value. */
static bool text_has_field(const char *text, const char *label, const char *value)
{
    size_t ll = strlen(label), vl = strlen(value);
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        const char *end = nl != NULL ? nl : line + strlen(line);
        const char *p = line;
        while (p < end && *p == ' ')
            p++;
        if ((size_t)(end - p) > ll && strncmp(p, label, ll) == 0 && p[ll] == ' ') {
            const char *v = p + ll;
            while (v < end && *v == ' ')
                v++;
            if ((size_t)(end - v) == vl && strncmp(v, value, vl) == 0)
                return true;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return false;
}

#define assert_text_field(text, label, value)                                                  \
    do {                                                                                       \
        if (!text_has_field((text), (label), (value)))                                         \
            fail_msg("text output has no line '%s  %s'", (label), (value));                    \
    } while (0)

#define assert_contains(hay, needle)                                                           \
    do {                                                                                       \
        if (strstr((hay), (needle)) == NULL)                                                   \
            fail_msg("expected '%s' in:\n%s", (needle), (hay));                                \
    } while (0)

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(g_tmpdir, sizeof g_tmpdir, "%s/sgxqh-inspect-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    return mkdtemp(g_tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(g_tmpdir);
    if (d != NULL) {
        struct dirent *de;
        char p[600];
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", g_tmpdir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(g_tmpdir);
    return 0;
}

/* ---- every vector against its meta.json ---- */

static void check_vector(const char *vector)
{
    json_error_t jerr;
    struct stat st;
    json_t *meta = json_load_file(vector_path(vector, "meta.json"), 0, &jerr);
    if (meta == NULL)
        fail_msg("%s/meta.json: %s", vector, jerr.text);
    const char *quote = vector_path(vector, "quote.bin");
    assert_int_equal(stat(quote, &st), 0);

    run_result r = run_inspect("--json", quote);
    if (r.status != 0)
        fail_msg("%s: exit %d, stderr: %s", vector, r.status, r.err);
    assert_string_equal(r.err, "");
    json_t *j = parse_json(&r);

    /* The schema's top level: exactly the documented keys, in order. */
    assert_int_equal(json_object_size(j), sizeof TOP_KEYS / sizeof TOP_KEYS[0]);
    {
        size_t i = 0;
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v) {
            (void)v;
            assert_string_equal(key, TOP_KEYS[i]);
            i++;
        }
    }
    assert_jint(j, "schema_version", 1);
    assert_jint(j, "file_size", (long long)st.st_size);
    assert_true(json_is_array(jget(j, "errors")) && json_array_size(jget(j, "errors")) == 0);

    long long version = json_integer_value(json_object_get(meta, "quote_version"));
    unsigned long tee = strtoul(json_string_value(json_object_get(meta, "tee_type")), NULL, 16);
    long long cert_type = json_integer_value(json_object_get(meta, "cert_type_in_quote"));
    assert_true(version >= 3 && version <= 5);

    assert_jint(j, "header.version", version);
    assert_jint(j, "header.att_key_type", 2);
    assert_jint(j, "header.tee_type", (long long)tee);
    assert_jstr(j, "header.tee", tee == 0 ? "SGX" : "TDX");
    assert_jstr(j, "header.qe_vendor_id", INTEL_VENDOR_HEX);
    assert_jbool(j, "header.qe_vendor_is_intel", true);
    assert_jint(j, "signature_data.certification_data.type", cert_type);
    /* quote-format §2.2: v4/v5 wrap everything in outer type 6, N = 134 + S. */
    if (version == 3) {
        assert_jnull(j, "signature_data.outer_certification_data_type");
    } else {
        assert_jint(j, "signature_data.outer_certification_data_type", 6);
        assert_jint(j, "signature_data.outer_certification_data_size",
                    jint(j, "signature_data.size") - 134);
    }
    /* §1.1 / §2.4: body kind from tee_type (v3/v4) or the v5 descriptor. */
    if (tee == 0) {
        assert_jint(j, "body.body_type", 1);
        assert_jint(j, "body.size", 384);
    } else {
        assert_true(jint(j, "body.body_type") == 2 || jint(j, "body.body_type") == 3);
    }
    assert_jint(j, "body.offset", version == 5 ? 54 : 48);
    assert_jint(j, "quote_size", 48 + (version == 5 ? 6 : 0) + jint(j, "body.size") + 4 +
                                     jint(j, "signature_data.size"));
    assert_jint(j, "trailing_bytes", jint(j, "file_size") - jint(j, "quote_size"));

    if (cert_type == 5) {
        const char *fmspc = json_string_value(json_object_get(meta, "fmspc"));
        const char *root_sha = json_string_value(json_object_get(meta, "root_sha256"));
        json_t *chain = jget(j, "signature_data.certification_data.chain");
        assert_non_null(fmspc);
        if (strcasecmp(jstr(j, "pck_sgx_extension.fmspc"), fmspc) != 0)
            fail_msg("%s: fmspc %s, meta.json says %s", vector,
                     jstr(j, "pck_sgx_extension.fmspc"), fmspc);
        /* Every type-5 vector carries leaf, intermediate, root (§1.5). */
        assert_int_equal(json_array_size(chain), 3);
        assert_contains(jstr(json_array_get(chain, 0), "subject_cn"), "SGX PCK Certificate");
        assert_contains(jstr(json_array_get(chain, 1), "subject_cn"), "CA");
        assert_contains(jstr(json_array_get(chain, 2), "subject_cn"), "SGX Root CA");
        assert_jstr(json_array_get(chain, 0), "role", "pck");
        assert_jstr(json_array_get(chain, 1), "role", "intermediate");
        assert_jstr(json_array_get(chain, 2), "role", "root");
        /* The root in the quote is the vector's trust anchor. */
        assert_true(strcasecmp(jstr(json_array_get(chain, 2), "sha256"), root_sha) == 0);
        assert_jint(j, "pck_sgx_extension.cert_index", 0);
    } else {
        assert_jnull(j, "pck_sgx_extension");
    }

    /* Text mode works on the same quote and shows the same vendor id. */
    run_result t = run_inspect(quote);
    assert_int_equal(t.status, 0);
    assert_text_field(t.out, "qe_vendor_id", INTEL_VENDOR_HEX);
    run_free(&t);

    json_decref(j);
    json_decref(meta);
    run_free(&r);
}

static void test_every_vector_matches_meta(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", ts_vector_path("quotes"));
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t checked = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        char quote[1400];
        snprintf(quote, sizeof quote, "%s/%s/quote.bin", dir, de->d_name);
        if (stat(quote, &st) != 0)
            continue; /* intel-sgx-root-ca.pem, README */
        check_vector(de->d_name);
        checked++;
    }
    closedir(d);
    /* vectors/README.md lists six quote vectors. */
    assert_true(checked >= 6);
}

/* ---- known values: dcapqvl-sgx-v3 (quote-format §1.7, §5.2, §5.4) ---- */

static void test_sgx_v3_known_values_json(void **state)
{
    (void)state;
    static const int comps[16] = {11, 11, 2, 2, 255, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    char report_data[129];
    run_result r = run_inspect("--json", vector_path("dcapqvl-sgx-v3", "quote.bin"));
    assert_int_equal(r.status, 0);
    json_t *j = parse_json(&r);

    assert_jint(j, "file_size", 4600);
    assert_jint(j, "quote_size", 4600);
    assert_jint(j, "trailing_bytes", 0);
    assert_jint(j, "header.qe_svn", 10);
    assert_jint(j, "header.pce_svn", 15);
    assert_jint(j, "header.tee_type", 0);
    assert_jstr(j, "header.user_data", "3987622ee6968a54977c8626ef47123500000000");
    assert_jstr(j, "header.qe_id", "3987622ee6968a54977c8626ef471235");

    /* ISV report: "Hello, world!" zero-padded, flags 0x05, xfrm 0xE7. */
    memset(report_data, '0', 128);
    report_data[128] = '\0';
    memcpy(report_data, "48656c6c6f2c20776f726c6421", 26);
    assert_jstr(j, "body.report_data", report_data);
    assert_jstr(j, "body.report_data_text", "Hello, world!");
    assert_jstr(j, "body.attributes.flags", "0x0000000000000005");
    assert_jstr(j, "body.attributes.xfrm", "0x00000000000000e7");
    assert_jbool(j, "body.attributes.debug", false);
    json_t *names = jget(j, "body.attributes.flag_names");
    assert_int_equal(json_array_size(names), 2);
    assert_string_equal(json_string_value(json_array_get(names, 0)), "INITTED");
    assert_string_equal(json_string_value(json_array_get(names, 1)), "MODE64BIT");
    assert_true(strncmp(jstr(j, "body.cpu_svn"), "0b0b1a18ffff0400", 16) == 0);
    assert_true(strncmp(jstr(j, "body.mr_enclave"), "33d8736d", 8) == 0);
    assert_int_equal(strlen(jstr(j, "body.mr_enclave")), 64);
    assert_string_equal(jstr(j, "body.mr_enclave") + 60, "2fbb");
    assert_true(strncmp(jstr(j, "body.mr_signer"), "815f42f1", 8) == 0);
    assert_string_equal(jstr(j, "body.mr_signer") + 60, "e0e6");
    assert_int_equal(strlen(jstr(j, "body.config_id")), 128);
    assert_int_equal(strlen(jstr(j, "body.reserved4")), 84);

    /* Signature data §1.4 / §1.7: A = 32 (00..1F), C = 3548, N = 4164. */
    assert_jint(j, "signature_data.size", 4164);
    assert_int_equal(strlen(jstr(j, "signature_data.isv_signature")), 128);
    assert_int_equal(strlen(jstr(j, "signature_data.attestation_public_key")), 128);
    assert_jstr(j, "signature_data.qe_report.attributes.flags", "0x0000000000000015");
    assert_jstr(j, "signature_data.qe_report.attributes.xfrm", "0x00000000000000e7");
    assert_jstr(j, "signature_data.qe_report.mr_signer",
                "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff");
    assert_jint(j, "signature_data.qe_report.isv_prod_id", 1);
    assert_jint(j, "signature_data.qe_report.isv_svn", 10);
    assert_jnull(j, "signature_data.qe_report.report_data_text");
    assert_jint(j, "signature_data.qe_auth_data_size", 32);
    assert_jstr(j, "signature_data.qe_auth_data",
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    assert_jint(j, "signature_data.certification_data.type", 5);
    assert_jstr(j, "signature_data.certification_data.type_name", "PCK_CERT_CHAIN");
    assert_jint(j, "signature_data.certification_data.size", 3548);

    /* PCK SGX extension, §5.2 real example. */
    assert_jstr(j, "pck_sgx_extension.ppid", "d04ec06d4e6d92dc90d0ad3cf5ee2ddf");
    json_t *svn = jget(j, "pck_sgx_extension.tcb_comp_svn");
    assert_int_equal(json_array_size(svn), 16);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(json_integer_value(json_array_get(svn, i)), comps[i]);
    assert_jint(j, "pck_sgx_extension.pcesvn", 13);
    assert_jstr(j, "pck_sgx_extension.cpusvn", "0b0b0202ff0100000000000000000000");
    assert_jstr(j, "pck_sgx_extension.pce_id", "0000");
    assert_true(strcasecmp(jstr(j, "pck_sgx_extension.fmspc"), "00A067110000") == 0);
    assert_jint(j, "pck_sgx_extension.sgx_type", 0);
    assert_jstr(j, "pck_sgx_extension.sgx_type_name", "Standard");
    assert_jnull(j, "pck_sgx_extension.platform_instance_id");
    assert_jnull(j, "pck_sgx_extension.configuration");

    /* Chain §1.7: PCK → Intel SGX PCK Processor CA → Intel SGX Root CA. */
    json_t *chain = jget(j, "signature_data.certification_data.chain");
    assert_int_equal(json_array_size(chain), 3);
    json_t *leaf = json_array_get(chain, 0), *ca = json_array_get(chain, 1),
           *root = json_array_get(chain, 2);
    assert_jstr(leaf, "subject_cn", "Intel SGX PCK Certificate");
    assert_jstr(leaf, "issuer_cn", "Intel SGX PCK Processor CA");
    assert_jstr(leaf, "issuer", jstr(ca, "subject"));
    assert_jbool(leaf, "has_sgx_extension", true);
    assert_jbool(leaf, "is_ca", false);
    assert_jnull(leaf, "error");
    assert_jstr(ca, "subject_cn", "Intel SGX PCK Processor CA");
    assert_jstr(ca, "issuer", jstr(root, "subject"));
    /* §5.1: CA serial = SKI, Processor CA D0E8AADA... */
    assert_jstr(ca, "serial", "d0e8aada75d7f92e4917983c7b1465d0d5f2594d");
    assert_jbool(ca, "is_ca", true);
    assert_jstr(root, "subject_cn", "Intel SGX Root CA");
    assert_jstr(root, "issuer", jstr(root, "subject"));
    assert_jbool(root, "self_issued", true);
    assert_jbool(root, "has_sgx_extension", false);
    assert_contains(jstr(root, "subject"), "O=Intel Corporation");
    /* §5.4: the Intel root. */
    assert_jstr(root, "serial", "22650cd65a9d3489f383b49552bf501b392706ac");
    assert_jstr(root, "not_before", "2018-05-21T10:45:10Z");
    assert_jstr(root, "not_after", "2049-12-31T23:59:59Z");
    assert_jstr(root, "sha256", "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");

    json_decref(j);
    run_free(&r);
}

static void test_sgx_v3_known_values_text(void **state)
{
    (void)state;
    run_result r = run_inspect(vector_path("dcapqvl-sgx-v3", "quote.bin"));
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    const char *t = r.out;

    assert_text_field(t, "version", "3");
    assert_text_field(t, "qe_svn", "10");
    assert_text_field(t, "pce_svn", "15");
    assert_text_field(t, "tee_type", "0x00000000 (SGX)");
    assert_text_field(t, "report_data (as text)", "\"Hello, world!\"");
    assert_text_field(t, "attributes.flags", "0x0000000000000005 (INITTED|MODE64BIT)");
    assert_text_field(t, "isv_svn", "10"); /* the QE's */
    assert_text_field(t, "QE auth data size", "32");
    assert_text_field(t, "type", "5 (PCK_CERT_CHAIN)");
    assert_text_field(t, "size", "3548");
    assert_text_field(t, "ppid", "d04ec06d4e6d92dc90d0ad3cf5ee2ddf");
    assert_text_field(t, "tcb comp01..16 svn", "11 11 2 2 255 1 0 0 0 0 0 0 0 0 0 0");
    assert_text_field(t, "pcesvn", "13");
    assert_text_field(t, "cpusvn", "0b0b0202ff0100000000000000000000");
    assert_text_field(t, "pce_id", "0000");
    assert_text_field(t, "fmspc", "00a067110000");
    assert_text_field(t, "sgx_type", "0 (Standard)");
    assert_text_field(t, "not_before", "2018-05-21T10:45:10Z");
    assert_text_field(t, "not_after", "2049-12-31T23:59:59Z");
    assert_contains(t, "CN=Intel SGX PCK Certificate");
    assert_contains(t, "CN=Intel SGX PCK Processor CA");
    assert_contains(t, "CN=Intel SGX Root CA");
    assert_text_field(t, "role", "root");
    /* Blocks are labelled by Intel's structure names, never by sections of a
     * document the user does not have (issue 12). */
    assert_contains(t, "Header (sgx_quote_header_t)");
    assert_contains(t, "ISV enclave report body (sgx_report_body_t)");
    assert_contains(t, "Signature data (sgx_ql_ecdsa_sig_data_t)");
    assert_contains(t, "QE report body (sgx_report_body_t)");
    assert_contains(t, "certification data (sgx_ql_certification_data_t)");
    assert_null(strstr(t, "§"));
    run_free(&r);
}

/* ---- TDX: v4 (TD 1.0) and v5 (TD 1.5), quote-format §1.1, §2.2–2.4 ---- */

static void test_tdx_v4_and_v5(void **state)
{
    (void)state;
    run_result r = run_inspect("--json", vector_path("dcapqvl-tdx-v4", "quote.bin"));
    assert_int_equal(r.status, 0);
    json_t *j = parse_json(&r);
    assert_jint(j, "body.body_type", 2);
    assert_jstr(j, "body.body_type_name", "TD report 1.0");
    assert_jint(j, "body.size", 584);
    assert_jint(j, "trailing_bytes", 70);       /* §1.1: 70 zero bytes */
    assert_jint(j, "signature_data.size", 4300); /* §2.2: N = 4300, S = 4166 */
    assert_jint(j, "signature_data.outer_certification_data_size", 4166);
    assert_jint(j, "header.qe_svn", 0); /* §2.1: TDX QE writes zeros */
    assert_jnull(j, "body.tee_tcb_svn2");
    assert_jnull(j, "body.mr_servicetd");
    for (int i = 0; i < 4; i++) {
        char key[16];
        snprintf(key, sizeof key, "body.rtmr%d", i);
        assert_int_equal(strlen(jstr(j, key)), 96);
    }
    /* A Platform-CA PCK: SGX type and the two extra entries (§5.1, §5.2). */
    assert_jstr(j, "signature_data.certification_data.chain.0.issuer_cn",
                "Intel SGX PCK Platform CA");
    assert_jint(j, "pck_sgx_extension.sgx_type", 1);
    assert_jstr(j, "pck_sgx_extension.sgx_type_name", "Scalable");
    assert_int_equal(strlen(jstr(j, "pck_sgx_extension.platform_instance_id")), 32);
    assert_true(json_is_boolean(jget(j, "pck_sgx_extension.configuration.dynamic_platform")));
    assert_true(json_is_boolean(jget(j, "pck_sgx_extension.configuration.cached_keys")));
    assert_true(json_is_boolean(jget(j, "pck_sgx_extension.configuration.smt_enabled")));
    /* §5.3: CPUSVN octet string equals the 16 component SVNs. */
    {
        char hex[33];
        json_t *svn = jget(j, "pck_sgx_extension.tcb_comp_svn");
        assert_int_equal(json_array_size(svn), 16);
        for (size_t i = 0; i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02llx",
                     (long long)json_integer_value(json_array_get(svn, i)));
        assert_jstr(j, "pck_sgx_extension.cpusvn", hex);
    }
    json_decref(j);
    run_free(&r);

    r = run_inspect("--json", vector_path("dcapqvl-tdx-v5-outdated", "quote.bin"));
    assert_int_equal(r.status, 0);
    j = parse_json(&r);
    assert_jint(j, "header.version", 5);
    assert_jint(j, "body.body_type", 3);
    assert_jstr(j, "body.body_type_name", "TD report 1.5");
    assert_jint(j, "body.offset", 54);
    assert_jint(j, "body.size", 648);
    assert_int_equal(strlen(jstr(j, "body.tee_tcb_svn2")), 32);
    assert_int_equal(strlen(jstr(j, "body.mr_servicetd")), 96);
    assert_jint(j, "trailing_bytes", 0);
    json_decref(j);
    run_free(&r);

    r = run_inspect(vector_path("dcapqvl-tdx-v5-outdated", "quote.bin"));
    assert_int_equal(r.status, 0);
    assert_text_field(r.out, "tee_type", "0x00000081 (TDX)");
    assert_text_field(r.out, "body_type", "3 (TD report 1.5)");
    assert_text_field(r.out, "outer cert data type", "6 (QE_REPORT_CERTIFICATION_DATA)");
    assert_text_field(r.out, "outer cert data size", "4166");
    assert_contains(r.out, "Header (sgx_quote4_header_t)");
    assert_contains(r.out, "TD report 1.5 body (sgx_report2_body_v1_5_t)");
    assert_contains(r.out, "Signature data (sgx_ecdsa_sig_data_v4_t)");
    assert_null(strstr(r.out, "§"));
    run_free(&r);
}

/* ---- certification data type 1, older 34-byte form (intelqvl sample) ---- */

static void test_type1_cert_data(void **state)
{
    (void)state;
    run_result r =
        run_inspect("--json", vector_path("intelqvl-sample-sgx-v3-testroot", "quote.bin"));
    assert_int_equal(r.status, 0);
    json_t *j = parse_json(&r);
    /* From a hex dump of the vector at offset 1016: type 1, 0x22 bytes. */
    assert_jint(j, "signature_data.certification_data.type", 1);
    assert_jint(j, "signature_data.certification_data.size", 34);
    assert_jstr(j, "signature_data.certification_data.ppid", "8461863bb7ece31f64c8e9b77fd31cad");
    assert_jstr(j, "signature_data.certification_data.cpusvn", "00030000000101000000000000000000");
    assert_jint(j, "signature_data.certification_data.pcesvn", 3);
    assert_jnull(j, "signature_data.certification_data.pceid");
    assert_null(json_object_get(jget(j, "signature_data.certification_data"), "chain"));
    assert_jint(j, "signature_data.qe_auth_data_size", 0);
    assert_jstr(j, "signature_data.qe_auth_data", "");
    assert_jint(j, "header.pce_svn", 3);
    assert_jnull(j, "pck_sgx_extension");
    json_decref(j);
    run_free(&r);

    r = run_inspect(vector_path("intelqvl-sample-sgx-v3-testroot", "quote.bin"));
    assert_int_equal(r.status, 0);
    assert_text_field(r.out, "ppid", "8461863bb7ece31f64c8e9b77fd31cad");
    assert_text_field(r.out, "pcesvn", "3");
    run_free(&r);
}

/* ---- quotes built here: cert data types 2, 3, 4 and a malformed type 1 ---- */

/* Writes a v3 quote (zero signatures) with the given certification data
 * to tmp_path(name). The ISV report is DEBUG and carries binary report data. */
static const char *write_built_quote(const char *name, uint16_t cert_type, const uint8_t *cd,
                                     uint32_t cd_len)
{
    static sgx_report_body_t app, qe;
    static const uint8_t zero64[64];
    quote_v3_spec spec;
    size_t len = 0;

    memset(&app, 0, sizeof app);
    memset(&qe, 0, sizeof qe);
    app.attributes.flags = 0x7; /* INITTED | DEBUG | MODE64BIT */
    app.attributes.xfrm = 0x3;
    app.isv_prod_id = 0x1234;
    app.isv_svn = 7;
    app.report_data[0] = 0xff;
    qe.isv_svn = 9;
    memset(&spec, 0, sizeof spec);
    spec.qe_svn = 4;
    spec.pce_svn = 5;
    spec.app_report = &app;
    spec.qe_report = &qe;
    spec.qe_report_sig = zero64;
    spec.attest_pub_key = zero64;
    spec.cert_type = cert_type;
    spec.cert_data = cd;
    spec.cert_data_len = cd_len;
    assert_int_equal(quote_v3_build(&spec, NULL, 0, &len), QUOTE_E_BUFFER_TOO_SMALL);
    uint8_t *q = malloc(len);
    assert_non_null(q);
    assert_int_equal(quote_v3_build(&spec, q, len, &len), QUOTE_OK);
    const char *path = tmp_path(name);
    spit(path, q, len);
    free(q);
    return path;
}

static void check_encrypted_ppid(uint16_t type, size_t ppid_len)
{
    uint8_t cd[384 + 20];
    char want[2 * 384 + 1];
    char fname[32];

    memset(cd, 0xa5, ppid_len);
    for (size_t i = 0; i < 16; i++)
        cd[ppid_len + i] = (uint8_t)i;      /* CPUSVN 00..0f */
    cd[ppid_len + 16] = 0x34;               /* PCESVN 0x1234, little-endian */
    cd[ppid_len + 17] = 0x12;
    cd[ppid_len + 18] = 0x01;               /* PCEID 0x0001 */
    cd[ppid_len + 19] = 0x00;
    snprintf(fname, sizeof fname, "type%u.bin", type);
    const char *path = write_built_quote(fname, type, cd, (uint32_t)(ppid_len + 20));

    run_result r = run_inspect("--json", path);
    assert_int_equal(r.status, 0);
    json_t *j = parse_json(&r);
    for (size_t i = 0; i < ppid_len; i++)
        memcpy(want + 2 * i, "a5", 2);
    want[2 * ppid_len] = '\0';
    assert_jint(j, "signature_data.certification_data.type", type);
    assert_jint(j, "signature_data.certification_data.size", (long long)ppid_len + 20);
    assert_jstr(j, "signature_data.certification_data.encrypted_ppid", want);
    assert_jstr(j, "signature_data.certification_data.cpusvn", "000102030405060708090a0b0c0d0e0f");
    assert_jint(j, "signature_data.certification_data.pcesvn", 0x1234);
    assert_jstr(j, "signature_data.certification_data.pceid", "0001");
    assert_jnull(j, "pck_sgx_extension");
    /* What the builder was given comes back. */
    assert_jint(j, "header.qe_svn", 4);
    assert_jint(j, "header.pce_svn", 5);
    assert_jint(j, "body.isv_prod_id", 0x1234);
    assert_jint(j, "body.isv_svn", 7);
    assert_jint(j, "signature_data.qe_report.isv_svn", 9);
    assert_jstr(j, "body.attributes.flags", "0x0000000000000007");
    assert_jbool(j, "body.attributes.debug", true);
    assert_int_equal(json_array_size(jget(j, "body.attributes.flag_names")), 3);
    assert_jnull(j, "body.report_data_text");
    json_decref(j);
    run_free(&r);
}

static void test_built_types_2_and_3(void **state)
{
    (void)state;
    check_encrypted_ppid(2, 256); /* quote-format §1.5: 276 bytes */
    check_encrypted_ppid(3, 384); /* 404 bytes */
}

static void test_built_type4_pck_leaf(void **state)
{
    (void)state;
    size_t len;
    char *pem = (char *)ts_read_file(vector_path("dcapqvl-sgx-v3", "pck_chain.pem"), &len);
    const char *end = strstr(pem, "-----END CERTIFICATE-----");
    assert_non_null(end);
    size_t leaf_len = (size_t)(end - pem) + strlen("-----END CERTIFICATE-----");
    const char *path = write_built_quote("type4.bin", 4, (const uint8_t *)pem, (uint32_t)leaf_len);
    free(pem);

    run_result r = run_inspect("--json", path);
    assert_int_equal(r.status, 0);
    json_t *j = parse_json(&r);
    assert_jstr(j, "signature_data.certification_data.type_name", "PCK_CLEARTEXT");
    assert_int_equal(json_array_size(jget(j, "signature_data.certification_data.chain")), 1);
    assert_jstr(j, "signature_data.certification_data.chain.0.role", "pck");
    assert_jstr(j, "pck_sgx_extension.fmspc", "00a067110000");
    assert_jint(j, "pck_sgx_extension.pcesvn", 13);
    json_decref(j);
    run_free(&r);
}

static void test_built_type1_wrong_size(void **state)
{
    (void)state;
    uint8_t cd[30];
    memset(cd, 0x11, sizeof cd);
    const char *path = write_built_quote("type1bad.bin", 1, cd, sizeof cd);

    run_result r = run_inspect("--json", path);
    assert_int_equal(r.status, 1); /* printed, but the data is malformed */
    json_t *j = parse_json(&r);
    /* Undecodable: the raw bytes instead (30 x 0x11). */
    char want[61];
    memset(want, '1', 60);
    want[60] = '\0';
    assert_jstr(j, "signature_data.certification_data.data", want);
    assert_int_equal(json_array_size(jget(j, "errors")), 1);
    assert_contains(jstr(j, "errors.0"), "type 1 is 30 bytes");
    assert_contains(r.err, "type1bad.bin");
    assert_contains(r.err, "type 1 is 30 bytes");
    json_decref(j);
    run_free(&r);
}

/* ---- errors ---- */

static uint8_t *vector_bytes(const char *vector, size_t *len)
{
    return ts_read_file(vector_path(vector, "quote.bin"), len);
}

static void expect_parse_failure(const char *path, const char *what, const char *code)
{
    const char *modes[2] = {"--json", NULL};
    for (int m = 0; m < 2; m++) {
        run_result r = modes[m] ? run_inspect(modes[m], path) : run_inspect(path);
        assert_int_equal(r.status, 1);
        assert_string_equal(r.out, ""); /* nothing half-printed */
        assert_contains(r.err, path);
        assert_contains(r.err, what);
        assert_contains(r.err, code);
        run_free(&r);
    }
}

static void test_truncated_quotes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *q = vector_bytes("dcapqvl-sgx-v3", &len);

    /* §1.4: certification data starts at 1020 + A = 1052, 3548 bytes. */
    spit(tmp_path("cut4000.bin"), q, 4000);
    expect_parse_failure(tmp_path("cut4000.bin"),
                         "certification data (3548 bytes at offset 1052) runs past the end of "
                         "the quote (4000 bytes)",
                         "QUOTE_E_TRUNCATED");
    spit(tmp_path("cut20.bin"), q, 20);
    expect_parse_failure(tmp_path("cut20.bin"), "quote header", "QUOTE_E_TRUNCATED");
    spit(tmp_path("cut600.bin"), q, 600);
    expect_parse_failure(tmp_path("cut600.bin"), "QE report (384 bytes at offset 564)",
                         "QUOTE_E_TRUNCATED");
    spit(tmp_path("empty.bin"), q, 0);
    expect_parse_failure(tmp_path("empty.bin"), "quote header", "QUOTE_E_TRUNCATED");
    free(q);

    /* v4 TDX: the type-6 block (§2.2) starts at 48 + 584 + 4 + 128 + 6 = 770. */
    q = vector_bytes("dcapqvl-tdx-v4", &len);
    spit(tmp_path("tdxcut.bin"), q, 1000);
    expect_parse_failure(tmp_path("tdxcut.bin"),
                         "type-6 QE report certification data (4166 bytes at offset 770)",
                         "QUOTE_E_TRUNCATED");
    free(q);
}

static void test_inconsistent_sizes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *q = vector_bytes("dcapqvl-sgx-v3", &len);

    /* C at abs 1016 + A = 1048 (§1.4): one byte more than N allows. */
    q[1048] = (uint8_t)(3549 & 0xff);
    q[1049] = (uint8_t)(3549 >> 8);
    spit(tmp_path("c_plus1.bin"), q, len);
    expect_parse_failure(tmp_path("c_plus1.bin"),
                         "certification data (3549 bytes at offset 1052) runs past the end of "
                         "the signature data (4164 bytes declared at offset 436)",
                         "QUOTE_E_SIZE_MISMATCH");
    /* One byte less: a byte is left over. */
    q[1048] = (uint8_t)(3547 & 0xff);
    spit(tmp_path("c_minus1.bin"), q, len);
    expect_parse_failure(tmp_path("c_minus1.bin"), "1 byte follows the certification data",
                         "QUOTE_E_SIZE_MISMATCH");
    /* Certification data type 9 at 1014 + A = 1046. */
    q[1048] = (uint8_t)(3548 & 0xff);
    q[1046] = 9;
    spit(tmp_path("type9.bin"), q, len);
    expect_parse_failure(tmp_path("type9.bin"), "certification data type 9 at offset 1046",
                         "QUOTE_E_CERT_TYPE");
    free(q);
}

static void test_not_a_quote(void **state)
{
    (void)state;
    /* A PEM certificate is recognised as one, and other text is named as
     * text (quotes given as base64 / PEM-like text / hex are decoded). */
    const char *pem = vector_path("dcapqvl-sgx-v3", "root.pem");
    expect_parse_failure(pem, "a PEM \"CERTIFICATE\", not a quote", "openssl x509");
    const char *json = vector_path("dcapqvl-sgx-v3", "meta.json");
    expect_parse_failure(json, "text that is not a quote", "neither base64 nor hex");
    /* Binary that is no quote still gets the parser's verdict. */
    const char *der = vector_path("dcapqvl-sgx-v3", "pck_crl.der");
    expect_parse_failure(der, "not a quote: version field is", "QUOTE_E_VERSION");
}

static void test_bad_certificate_in_chain(void **state)
{
    (void)state;
    size_t len;
    uint8_t *q = vector_bytes("dcapqvl-sgx-v3", &len);
    const char *begin = "-----BEGIN CERTIFICATE-----";
    uint8_t *first = memmem(q, len, begin, strlen(begin));
    assert_non_null(first);
    uint8_t *second = memmem(first + 1, len - (size_t)(first + 1 - q), begin, strlen(begin));
    assert_non_null(second);
    memset(second + strlen(begin) + 40, '!', 8); /* not base64 */
    spit(tmp_path("badcert.bin"), q, len);
    free(q);

    run_result r = run_inspect("--json", tmp_path("badcert.bin"));
    assert_int_equal(r.status, 1);
    json_t *j = parse_json(&r); /* still a full document */
    assert_jnull(j, "signature_data.certification_data.chain.0.error");
    assert_contains(jstr(j, "signature_data.certification_data.chain.1.error"), "does not decode");
    assert_jint(j, "signature_data.certification_data.chain.1.index", 1);
    assert_jstr(j, "signature_data.certification_data.chain.2.role", "root");
    assert_jstr(j, "pck_sgx_extension.fmspc", "00a067110000");
    assert_int_equal(json_array_size(jget(j, "errors")), 1);
    assert_contains(jstr(j, "errors.0"), "certificate 1");
    assert_contains(r.err, "badcert.bin: certificate 1");
    json_decref(j);
    run_free(&r);
}

static void test_unreadable_files(void **state)
{
    (void)state;
    const char *path = tmp_path("does-not-exist.bin");
    run_result r = run_inspect(path);
    assert_int_equal(r.status, 3); /* CLI_EXIT_IO */
    assert_contains(r.err, path);
    assert_contains(r.err, "No such file");
    run_free(&r);
    r = run_inspect("--json", path);
    assert_int_equal(r.status, 3);
    assert_string_equal(r.out, "");
    run_free(&r);

    r = run_inspect(g_tmpdir); /* a directory cannot be read either */
    assert_int_equal(r.status, 3);
    assert_contains(r.err, g_tmpdir);
    run_free(&r);

    /* One byte over QUOTE_MAX_SIZE: content refused, not an I/O error. */
    size_t big = QUOTE_MAX_SIZE + 1u;
    uint8_t *buf = calloc(1, big);
    assert_non_null(buf);
    spit(tmp_path("big.bin"), buf, big);
    free(buf);
    r = run_inspect(tmp_path("big.bin"));
    assert_int_equal(r.status, 1);
    assert_contains(r.err, "QUOTE_E_TOO_LARGE");
    run_free(&r);
}

static void test_usage(void **state)
{
    (void)state;
    run_result r = run_inspect("--help");
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "usage: sgx-quote inspect QUOTE [--json]");
    assert_contains(r.out, "exit codes");
    run_free(&r);

    r = run_inspect_stdin(NULL, (const char *)NULL); /* no QUOTE */
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "missing QUOTE");
    run_free(&r);

    r = run_inspect("a.bin", "b.bin");
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "unexpected argument 'b.bin'");
    run_free(&r);

    r = run_inspect("--frobnicate", "a.bin");
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "unknown option '--frobnicate'");
    run_free(&r);
}

static void test_stdin(void **state)
{
    (void)state;
    run_result r = run_inspect_stdin(vector_path("dcapqvl-sgx-v3", "quote.bin"), "--json", "-",
                                     (const char *)NULL);
    assert_int_equal(r.status, 0);
    json_t *j = parse_json(&r);
    assert_jstr(j, "file", "<stdin>");
    assert_jint(j, "file_size", 4600);
    assert_jstr(j, "body.report_data_text", "Hello, world!");
    json_decref(j);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_vector_matches_meta),
        cmocka_unit_test(test_sgx_v3_known_values_json),
        cmocka_unit_test(test_sgx_v3_known_values_text),
        cmocka_unit_test(test_tdx_v4_and_v5),
        cmocka_unit_test(test_type1_cert_data),
        cmocka_unit_test(test_built_types_2_and_3),
        cmocka_unit_test(test_built_type4_pck_leaf),
        cmocka_unit_test(test_built_type1_wrong_size),
        cmocka_unit_test(test_truncated_quotes),
        cmocka_unit_test(test_inconsistent_sizes),
        cmocka_unit_test(test_not_a_quote),
        cmocka_unit_test(test_bad_certificate_in_chain),
        cmocka_unit_test(test_unreadable_files),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_stdin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
