/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the PCCS client's pure parts and its disk cache: the base
 * URL a user or the QCNL configuration gives (pccs_base_url: API path
 * stripped, never doubled), the cache entry codec (round trip, every kind
 * of damage refused) and the cache directory (mode 0600 entries in a 0700
 * directory, stale and corrupted entries are misses, the size bound
 * evicts the least recently used). Expected values are written out here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sgxqh/verify.h"
#include "verify/pccs_cache.h"
#include "verify/pccs_parse.h"

static void expect_base(const char *in, const char *want)
{
    char out[PCCS_URL_MAX + 1];
    int rc = pccs_base_url(in, out, sizeof out);
    if (rc != 0)
        fail_msg("pccs_base_url(\"%s\") = %d, want \"%s\"", in, rc, want);
    if (strcmp(out, want) != 0)
        fail_msg("pccs_base_url(\"%s\") = \"%s\", want \"%s\"", in, out, want);
}

static void test_base_url(void **state)
{
    char out[PCCS_URL_MAX + 1], big[PCCS_URL_MAX + 16];
    (void)state;
    expect_base("https://pccs.example:8081", "https://pccs.example:8081");
    expect_base("https://pccs.example:8081/", "https://pccs.example:8081");
    /* QCNL's pccs_url form, v3 and v4, SGX and TDX, any case */
    expect_base("https://pccs.example:8081/sgx/certification/v4/", "https://pccs.example:8081");
    expect_base("https://pccs.example:8081/sgx/certification/v4", "https://pccs.example:8081");
    expect_base("https://pccs.example:8081/sgx/certification/v3/", "https://pccs.example:8081");
    expect_base("https://pccs.example:8081/tdx/certification/v4//", "https://pccs.example:8081");
    expect_base("HTTPS://api.trustedservices.intel.com/SGX/Certification/V4/",
                "HTTPS://api.trustedservices.intel.com");
    /* a prefix path before the API path stays (a PCCS behind a proxy) */
    expect_base("http://10.0.0.1/pccs/sgx/certification/v4/", "http://10.0.0.1/pccs");
    expect_base("http://10.0.0.1/pccs/", "http://10.0.0.1/pccs");
    /* every trailing API path goes, so the base of a base is itself (the
     * fuzz target's invariant found this URL); and only whole ones */
    expect_base("http://h/sgx/certification/v4/sgx/certification/v4", "http://h");
    expect_base("https://pc081/tps://pc081/sgx/certification/v3/sgx/certification/v3/",
                "https://pc081/tps://pc081");
    expect_base("http://h/xsgx/certification/v4", "http://h/xsgx/certification/v4");
    expect_base("http://h/sgx/certification/v2", "http://h/sgx/certification/v2");
    /* refused: no scheme, another scheme, no host, white space */
    assert_int_equal(pccs_base_url("pccs.example:8081", out, sizeof out), VERIFY_E_FORMAT);
    assert_int_equal(pccs_base_url("ftp://pccs.example/", out, sizeof out), VERIFY_E_FORMAT);
    assert_int_equal(pccs_base_url("https://", out, sizeof out), VERIFY_E_FORMAT);
    assert_int_equal(pccs_base_url("https:///sgx/certification/v4", out, sizeof out),
                     VERIFY_E_FORMAT);
    assert_int_equal(pccs_base_url("https://h ost/", out, sizeof out), VERIFY_E_FORMAT);
    assert_int_equal(pccs_base_url("https://h/\n", out, sizeof out), VERIFY_E_FORMAT);
    /* refused: empty, too long, NULL, small output */
    assert_int_equal(pccs_base_url("", out, sizeof out), VERIFY_E_INVALID_ARG);
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "https://", 8);
    big[sizeof big - 1] = '\0';
    assert_int_equal(pccs_base_url(big, out, sizeof out), VERIFY_E_INVALID_ARG);
    assert_int_equal(pccs_base_url(NULL, out, sizeof out), VERIFY_E_INVALID_ARG);
    assert_int_equal(pccs_base_url("https://h", out, 16), VERIFY_E_INVALID_ARG);
}

static const char URL[] = "https://pccs.example:8081/sgx/certification/v4/tcb?fmspc=00606A000000";

static void test_cache_entry_codec(void **state)
{
    (void)state;
    const uint8_t body[] = "{\"tcbInfo\":{}}";
    pccs_cache_entry e = {.next_update = 1900000000, .url = URL, .url_len = strlen(URL),
                          .chain = "PEM", .chain_len = 3, .body = body, .body_len = sizeof body - 1};
    pccs_cache_entry d;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(pccs_cache_entry_encode(&e, &buf, &len), 0);
    /* magic 8 + next 8 + three length-prefixed fields + SHA-256 */
    assert_int_equal(len, 8 + 8 + 4 + strlen(URL) + 4 + 3 + 4 + e.body_len + 32);
    assert_memory_equal(buf, "SQHPCC01", 8);
    assert_int_equal(pccs_cache_entry_decode(buf, len, &d), 0);
    assert_int_equal(d.next_update, 1900000000);
    assert_int_equal(d.url_len, strlen(URL));
    assert_memory_equal(d.url, URL, d.url_len);
    assert_int_equal(d.chain_len, 3);
    assert_memory_equal(d.chain, "PEM", 3);
    assert_int_equal(d.body_len, e.body_len);
    assert_memory_equal(d.body, body, d.body_len);
    /* any flipped byte, a cut or an extra byte: refused, output zeroed */
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x01;
        assert_int_equal(pccs_cache_entry_decode(buf, len, &d), VERIFY_E_FORMAT);
        assert_null(d.url);
        buf[i] ^= 0x01;
    }
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(pccs_cache_entry_decode(buf, cut, &d), VERIFY_E_FORMAT);
    uint8_t *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(pccs_cache_entry_decode(longer, len + 1, &d), VERIFY_E_FORMAT);
    free(longer);
    free(buf);
    /* fields above their limits are not encoded */
    e.chain_len = PCCS_HEADER_VALUE_MAX + 1;
    assert_int_equal(pccs_cache_entry_encode(&e, &buf, &len), VERIFY_E_INVALID_ARG);
    assert_int_equal(pccs_cache_entry_decode(NULL, 0, &d), VERIFY_E_FORMAT);
}

static char g_dir[256];

static void rm_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* An entry's last use is its mtime (pccs_cache.c); tests set it to be
 * independent of the file system's timestamp granularity. */
static void set_mtime(const char *dir, const char *url, time_t t)
{
    char cmd[800];
    FILE *p;
    char hex[80];
    snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | sha256sum | cut -c1-64", url);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(hex, sizeof hex, p));
    pclose(p);
    hex[strcspn(hex, "\n")] = '\0';
    snprintf(cmd, sizeof cmd, "%s/%s.item", dir, hex);
    struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};
    assert_int_equal(utimensat(AT_FDCWD, cmd, ts, 0), 0);
}

static void test_cache_dir(void **state)
{
    (void)state;
    char dir[300], path[600];
    struct stat st;
    uint8_t *file = NULL;
    pccs_cache_entry e;
    bool corrupt = false;
    int64_t now = (int64_t)time(NULL);
    snprintf(g_dir, sizeof g_dir, "/tmp/sgxqh-pccs-units-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    snprintf(dir, sizeof dir, "%s/a/b/sgx-quote-helper", g_dir);
    /* relative paths are refused; parents are created 0700 */
    assert_int_equal(pccs_cache_open_dir("relative/dir"), -1);
    assert_int_equal(pccs_cache_open_dir(dir), 0);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* a miss, then a put, then a hit */
    assert_int_equal(pccs_cache_get(dir, URL, now, &file, &e, &corrupt), 0);
    assert_false(corrupt);
    assert_int_equal(pccs_cache_put(dir, 1 << 20, URL, now + 100, "C", 1,
                                    (const uint8_t *)"BODY", 4), 0);
    assert_int_equal(pccs_cache_get(dir, URL, now, &file, &e, &corrupt), 1);
    assert_int_equal(e.body_len, 4);
    assert_memory_equal(e.body, "BODY", 4);
    free(file);
    /* its file is 0600 and alone (no temporary file left) */
    int n = 0;
    FILE *ls;
    snprintf(path, sizeof path, "ls -A '%s'", dir);
    ls = popen(path, "r");
    assert_non_null(ls);
    char name[256];
    while (fgets(name, sizeof name, ls) != NULL) {
        name[strcspn(name, "\n")] = '\0';
        assert_non_null(strstr(name, ".item"));
        snprintf(path, sizeof path, "%s/%s", dir, name);
        n++;
    }
    pclose(ls);
    assert_int_equal(n, 1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* at or past its next update: a miss, not corrupt */
    assert_int_equal(pccs_cache_get(dir, URL, now + 100, &file, &e, &corrupt), 0);
    assert_false(corrupt);
    /* damaged: a miss, reported, and removed */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 20, SEEK_SET), 0);
    assert_int_equal(fputc('X', f), 'X');
    assert_int_equal(fclose(f), 0);
    assert_int_equal(pccs_cache_get(dir, URL, now, &file, &e, &corrupt), 0);
    assert_true(corrupt);
    assert_int_not_equal(access(path, F_OK), 0);
    /* the size bound: three 1 KiB entries (about 1.1 KiB each on disk) in
     * 2.9 KiB keep two; the least recently used goes, and a hit counts as a
     * use. item0 and item1 get old times; then item0 is read (used now). */
    static uint8_t kib[1024];
    char u[3][64];
    for (int i = 0; i < 3; i++)
        snprintf(u[i], sizeof u[i], "http://h/item%d", i);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pccs_cache_put(dir, 2920, u[i], now + 100, NULL, 0, kib, sizeof kib), 0);
        set_mtime(dir, u[i], 1000 + 1000 * i);
    }
    uint8_t *x = NULL;
    assert_int_equal(pccs_cache_get(dir, u[0], now, &x, &e, &corrupt), 1);
    free(x);
    assert_int_equal(pccs_cache_put(dir, 2920, u[2], now + 100, NULL, 0, kib, sizeof kib), 0);
    int want[3] = {1, 0, 1};
    for (int i = 0; i < 3; i++) {
        x = NULL;
        assert_int_equal(pccs_cache_get(dir, u[i], now, &x, &e, &corrupt), want[i]);
        free(x);
    }
    /* a directory others can write to is not used */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(pccs_cache_open_dir(dir), -1);
    rm_tree(g_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_url),
        cmocka_unit_test(test_cache_entry_codec),
        cmocka_unit_test(test_cache_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
