/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated platform cannot be re-keyed silently (issue 9 item 7,
 * docs/simulation.md "The seed file"): the real daemon refuses a missing
 * seed without --init-seed, a seed with one flipped bit (even with
 * --init-seed: it never replaces a seed), a state directory others can
 * write, and a seed another user owns, each with a message naming the file
 * and the fix and without touching the socket path; and it logs the root
 * CA's fingerprint at start, the same root `sgx-quote collateral export`
 * publishes from that seed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "harness.h"

/* Runs the daemon (no --init-seed unless in args) to its exit; returns the
 * exit code, or -1 when it was still running after 20 s. */
static int run_to_exit(itest_daemon *d, const char *const *args)
{
    d->no_init_seed = true;
    if (itest_daemon_spawn(d, args) != 0)
        return -1;
    for (int i = 0; i < 2000; i++) {
        int st = 0;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            d->pid = -1;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        usleep(10000);
    }
    (void)itest_daemon_stop(d, SIGKILL, 5000);
    return -1;
}

static char *seed_path(const itest_daemon *d)
{
    char *p = malloc(strlen(d->state_dir) + 6);
    assert_non_null(p);
    sprintf(p, "%s/seed", d->state_dir);
    return p;
}

/* "root_sha256=<hex>" from the daemon's log once it holds n of them (the
 * last one), into out. */
static void logged_fingerprint(const itest_daemon *d, size_t n, char out[65])
{
    const char *needle[] = {"root_sha256=", NULL};
    assert_true(itest_log_wait(d, needle, n, 10000)); /* lines go out from a writer thread */
    char *log = itest_daemon_log(d);
    assert_non_null(log);
    const char *at = NULL;
    for (const char *p = log; (p = strstr(p, "root_sha256=")) != NULL; p++)
        at = p;
    assert_non_null(at);
    memcpy(out, at + 12, 64);
    out[64] = '\0';
    free(log);
}

/* Starts with --init-seed (harness default) to make a seed, stops. */
static void make_seed(itest_daemon *d, char fp[65])
{
    assert_int_equal(itest_daemon_start(d, NULL), 0);
    logged_fingerprint(d, 1, fp);
    int st = itest_daemon_stop(d, SIGTERM, 20000);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void assert_log_has(const itest_daemon *d, const char *a, const char *b, const char *c)
{
    const char *needles[] = {a, b, c, NULL};
    if (!itest_log_wait(d, needles, 1, 10000)) {
        char *log = itest_daemon_log(d);
        fail_msg("no log line with '%s' '%s' '%s' in:\n%s", a, b ? b : "", c ? c : "", log);
    }
}

static void test_missing_seed_needs_init_seed(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    assert_int_equal(run_to_exit(&d, NULL), 1);
    char *seed = seed_path(&d);
    assert_log_has(&d, "no seed file at", seed, "--init-seed");
    struct stat st;
    assert_int_equal(stat(seed, &st), -1); /* nothing created */
    assert_int_equal(stat(d.socket, &st), -1); /* the path was never taken */

    /* Told to: created, and the fingerprint is logged at every start. */
    char fp1[65], fp2[65];
    d.no_init_seed = false;
    make_seed(&d, fp1);
    assert_log_has(&d, "sim_platform", "seed_format=v1", seed);
    /* Restarted without --init-seed: the same platform. */
    d.no_init_seed = true;
    assert_int_equal(itest_daemon_start(&d, NULL), 0);
    logged_fingerprint(&d, 2, fp2);
    assert_string_equal(fp1, fp2);

    /* The CLI reads the same seed and publishes the root with that
     * fingerprint. */
    char coll[400];
    snprintf(coll, sizeof coll, "%s/coll", d.dir);
    assert_int_equal(itest_export_collateral(&d, coll), 0);
    char root_path[420];
    snprintf(root_path, sizeof root_path, "%s/root.pem", coll);
    uint8_t *pem = NULL, *der = NULL, md[32];
    size_t pem_len = 0, der_len = 0;
    assert_int_equal(itest_read_file(root_path, &pem, &pem_len), 0);
    x509_cert *root = NULL;
    assert_int_equal(x509_cert_from_pem((const char *)pem, pem_len, &root), 0);
    assert_int_equal(x509_cert_to_der(root, &der, &der_len), 0);
    assert_int_equal(crypto_sha256(der, der_len, md), 0);
    char hex[65];
    crypto_hex_encode(md, sizeof md, hex);
    assert_string_equal(hex, fp1);
    x509_cert_free(root);
    free(der);
    free(pem);
    free(seed);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

static void test_flipped_bit_refused(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    char fp[65];
    make_seed(&d, fp);
    char *seed = seed_path(&d);
    uint8_t *orig = NULL, *after = NULL;
    size_t len = 0, after_len = 0;
    assert_int_equal(itest_read_file(seed, &orig, &len), 0);
    uint8_t *flipped = malloc(len);
    assert_non_null(flipped);
    memcpy(flipped, orig, len);
    flipped[40] ^= 0x01; /* a seed digit */
    assert_int_equal(itest_write_file(seed, flipped, len), 0);
    assert_int_equal(chmod(seed, 0600), 0);

    const char *init[] = {"--init-seed", NULL};
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(run_to_exit(&d, pass == 0 ? NULL : init), 1);
        assert_log_has(&d, seed, "fails its checksum", "restore the original seed");
        assert_int_equal(itest_read_file(seed, &after, &after_len), 0);
        assert_int_equal(after_len, len);
        assert_memory_equal(after, flipped, len); /* never replaced */
        free(after);
    }
    free(flipped);
    free(orig);

    /* A legacy raw 32-byte seed still works, with a warning. */
    uint8_t raw[32];
    memset(raw, 0x42, sizeof raw);
    assert_int_equal(itest_write_file(seed, raw, sizeof raw), 0);
    assert_int_equal(chmod(seed, 0600), 0);
    assert_int_equal(itest_daemon_start(&d, NULL), 0);
    assert_log_has(&d, "sim_platform", "seed_format=legacy-raw", NULL);
    assert_log_has(&d, "warn", "legacy raw 32-byte seed", seed);
    free(seed);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

static void test_state_dir_writable_by_others_refused(void **state)
{
    (void)state;
    itest_daemon d;
    itest_daemon_init(&d);
    char fp[65];
    make_seed(&d, fp);
    assert_int_equal(chmod(d.state_dir, 0777), 0);
    assert_int_equal(run_to_exit(&d, NULL), 1);
    assert_log_has(&d, d.state_dir, "group or others can write it", "chmod");
    /* Fresh, with --init-seed: no seed is created there either. */
    char *seed = seed_path(&d);
    assert_int_equal(unlink(seed), 0);
    const char *init[] = {"--init-seed", NULL};
    assert_int_equal(run_to_exit(&d, init), 1);
    struct stat st;
    assert_int_equal(stat(seed, &st), -1);
    free(seed);
    assert_int_equal(chmod(d.state_dir, 0700), 0);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

static void test_foreign_seed_refused(void **state)
{
    (void)state;
    if (geteuid() != 0)
        fail_msg("needs root: the daemon must refuse a seed of another uid (CI runs as root)");
    itest_daemon d;
    itest_daemon_init(&d);
    char fp[65];
    make_seed(&d, fp);
    char *seed = seed_path(&d);
    assert_int_equal(chown(seed, 1000, 1000), 0); /* planted by uid 1000 */
    assert_int_equal(run_to_exit(&d, NULL), 1);
    assert_log_has(&d, seed, "owned by uid 1000", "chown");
    assert_int_equal(chown(seed, 0, 0), 0);
    free(seed);
    assert_int_equal(itest_daemon_cleanup(&d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_seed_needs_init_seed),
        cmocka_unit_test(test_flipped_bit_refused),
        cmocka_unit_test(test_state_dir_writable_by_others_refused),
        cmocka_unit_test(test_foreign_seed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
