/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote bench verify`: quotes verified per second by our verifier
 * (src/verify) on the test vectors at their pinned times, with the cache
 * warm and with it off, and, in the same run, the rate of @phala/dcap-qvl
 * (bench/qvl-bench.js under node) on the same vectors; prints the ratios.
 * A benchmark, never a timed test: the machines are noisy, the ratio
 * measured side by side is what means something (goal: >= 20x).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "sgxqh/verify.h"

/* The vectors both verifiers can read (dcap-qvl JS: SGX v3 / TDX, TCB info v3). */
static const char *const COMMON[] = {"dcapqvl-sgx-v3", "dcapqvl-tdx-v4",
                                     "customroot-dcapqvl-sgx-v3"};
/* Ours only (TCB info v2 / SGX v4 / rejected), reported separately. */
static const char *const OURS_ONLY[] = {"intelqvl-sample-sgx-v3-testroot",
                                        "synth-sgx-v4-customroot", "dcapqvl-tdx-v5-outdated"};
#define N_COMMON (sizeof COMMON / sizeof COMMON[0])
#define N_OURS_ONLY (sizeof OURS_ONLY / sizeof OURS_ONLY[0])
#define N_ALL (N_COMMON + N_OURS_ONLY)

typedef struct {
    const char *name;
    char dir[2048];
    uint8_t *quote;
    size_t quote_len;
    verify_collateral coll;
    verify_ctx *ctx;
    verify_options opt;
    verify_verdict verdict;
    verify_tcb_status status;
} bench_case;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* snprintf that reports truncation, so long paths fail loudly. */
static bool fmt_ok(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap;
}

static int load_case(bench_case *c, const char *vectors, const char *name)
{
    char path[2300], err[512] = "";
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;
    c->name = name;
    if (!fmt_ok(snprintf(c->dir, sizeof c->dir, "%s/quotes/%s", vectors, name), sizeof c->dir) ||
        !fmt_ok(snprintf(path, sizeof path, "%s/quote.bin", c->dir), sizeof path)) {
        fprintf(stderr, "bench verify: the vectors path is too long\n");
        return -1;
    }
    if ((rc = cli_read_file(path, 1u << 20, &c->quote, &c->quote_len)) != 0) {
        fprintf(stderr, "bench verify: %s: %s\n", path, strerror(-rc));
        return -1;
    }
    if (verify_collateral_load_dir(c->dir, &c->coll, err, sizeof err) != 0) {
        fprintf(stderr, "bench verify: %s\n", err);
        return -1;
    }
    if (verify_ctx_new(&c->ctx) != 0)
        return -1;
    if (!fmt_ok(snprintf(path, sizeof path, "%s/root.pem", c->dir), sizeof path))
        return -1;
    if (cli_read_file(path, 1u << 20, &buf, &len) != 0 || verify_ctx_set_root(c->ctx, buf, len) != 0) {
        fprintf(stderr, "bench verify: %s is not a usable root\n", path);
        free(buf);
        return -1;
    }
    free(buf);
    if (!fmt_ok(snprintf(path, sizeof path, "%s/meta.json", c->dir), sizeof path))
        return -1;
    json_t *meta = json_load_file(path, 0, NULL);
    if (!json_is_integer(json_object_get(meta, "pinned_time"))) {
        fprintf(stderr, "bench verify: %s has no pinned_time\n", path);
        json_decref(meta);
        return -1;
    }
    verify_options_default(&c->opt);
    c->opt.now = json_integer_value(json_object_get(meta, "pinned_time"));
    json_decref(meta);
    for (int s = VERIFY_TCB_UP_TO_DATE; s < VERIFY_TCB__COUNT; s++)
        if (s != VERIFY_TCB_REVOKED)
            c->opt.accepted |= VERIFY_TCB_BIT(s);
    return 0;
}

static void free_case(bench_case *c)
{
    free(c->quote);
    verify_collateral_free(&c->coll);
    verify_ctx_free(c->ctx);
}

/* Verifies the cases round-robin for `seconds`; returns quotes per second,
 * or -1 if any verdict differs from the case's first one. */
static double run_ours(bench_case *cases, size_t n, double seconds, bool cache, unsigned long *count)
{
    verify_result *r = malloc(sizeof *r);
    if (r == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        verify_ctx_set_cache(cases[i].ctx, cache);
    unsigned long done = 0;
    double start = now_s(), elapsed = 0;
    while (elapsed < seconds) {
        for (size_t i = 0; i < n; i++) {
            bench_case *c = &cases[i];
            if (verify_quote(c->ctx, c->quote, c->quote_len, &c->coll, &c->opt, r) != 0 ||
                r->verdict != c->verdict || r->status != c->status) {
                free(r);
                return -1;
            }
            done++;
        }
        elapsed = now_s() - start;
    }
    free(r);
    *count = done;
    return (double)done / elapsed;
}

/* The npm verifier's directory: $SGXQH_NODE_DIR (as qvl-bench.js reads it),
 * else SOURCE/tests/node. 0 when @phala/dcap-qvl is installed there; else
 * says what to install and returns -1, before anything is measured (a
 * missing module would otherwise end in a node stack trace). */
static int check_npm_verifier(const char *source)
{
    const char *dir = getenv("SGXQH_NODE_DIR");
    char node_dir[2048], pkg[2200];
    if (dir == NULL || dir[0] == '\0') {
        if (!fmt_ok(snprintf(node_dir, sizeof node_dir, "%s/tests/node", source),
                    sizeof node_dir))
            return -1;
        dir = node_dir;
    }
    if (!fmt_ok(snprintf(pkg, sizeof pkg, "%s/node_modules/@phala/dcap-qvl/package.json", dir),
                sizeof pkg))
        return -1;
    if (access(pkg, R_OK) == 0)
        return 0;
    fprintf(stderr, "bench verify: the npm verifier @phala/dcap-qvl is not installed in %s: "
                    "install it with `npm ci --prefix %s` (scripts/install-deps.sh check does "
                    "this for a source tree), point SGXQH_NODE_DIR or --source-dir at a tree "
                    "that has it, or pass --no-node to measure only ours\n", dir, dir);
    return -1;
}

/* Runs node on bench/qvl-bench.js and returns its rate (-1 on failure, -2
 * when node itself is missing, which is already reported). */
static double run_node(const char *script, bench_case *cases, size_t n, double seconds,
                       json_t **verdicts)
{
    char secs[32], *argv[3 + N_COMMON + 1];
    char specs[N_COMMON][2200];
    int fd[2];
    snprintf(secs, sizeof secs, "%g", seconds);
    argv[0] = "node";
    argv[1] = (char *)script;
    argv[2] = secs;
    for (size_t i = 0; i < n; i++) {
        if (!fmt_ok(snprintf(specs[i], sizeof specs[i], "%s:%lld", cases[i].dir,
                             (long long)cases[i].opt.now), sizeof specs[i]))
            return -1;
        argv[3 + i] = specs[i];
    }
    argv[3 + n] = NULL;
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execvp("node", argv);
        _exit(127); /* the parent says what to install */
    }
    close(fd[1]);
    char out[8192];
    size_t used = 0;
    ssize_t got;
    while ((got = read(fd[0], out + used, sizeof out - 1 - used)) > 0)
        used += (size_t)got;
    out[used] = '\0';
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        fprintf(stderr, "bench verify: node is not installed or not on PATH: install Node.js "
                        "(apt-get install nodejs), or pass --no-node to measure only ours\n");
        return -2;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    json_t *doc = json_loads(out, 0, NULL);
    double rate = json_is_number(json_object_get(doc, "rate"))
                      ? json_number_value(json_object_get(doc, "rate"))
                      : -1;
    *verdicts = json_incref(json_object_get(doc, "verdicts"));
    json_decref(doc);
    return rate;
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote bench verify [--seconds N] [--vectors DIR] [--source-dir DIR]\n"
            "                              [--no-node]\n"
            "  Quotes verified per second on the test vectors at their pinned times: ours\n"
            "  with the cache warm and off, and @phala/dcap-qvl under node on the same\n"
            "  vectors in the same run, with the ratios. Not a timed test.\n"
            "  --seconds N      time per measurement (default 3)\n"
            "  --vectors DIR    test vectors (default $SGXQH_VECTORS, else\n"
            "                   SOURCE/tests/vectors)\n"
            "  --source-dir DIR source tree, for bench/qvl-bench.js and tests/node (default\n"
            "                   $SGXQH_SOURCE_DIR, else the current directory)\n"
            "  --no-node        skip the dcap-qvl measurement\n");
}

int bench_verify_main(int argc, char **argv)
{
    static const struct option LONG[] = {
        {"seconds", required_argument, NULL, 's'}, {"vectors", required_argument, NULL, 'v'},
        {"source-dir", required_argument, NULL, 'S'}, {"no-node", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    double seconds = 3;
    const char *vectors = getenv("SGXQH_VECTORS"), *source = getenv("SGXQH_SOURCE_DIR");
    bool node = true;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
        switch (c) {
        case 's':
            seconds = strtod(optarg, NULL);
            if (!(seconds > 0 && seconds <= 600)) {
                fprintf(stderr, "bench verify: --seconds wants 0 < N <= 600\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'v': vectors = optarg; break;
        case 'S': source = optarg; break;
        case 'n': node = false; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (source == NULL)
        source = ".";
    char vbuf[2048], script[2048];
    if (vectors == NULL) {
        if (!fmt_ok(snprintf(vbuf, sizeof vbuf, "%s/tests/vectors", source), sizeof vbuf))
            return CLI_EXIT_USAGE;
        vectors = vbuf;
    }
    if (!fmt_ok(snprintf(script, sizeof script, "%s/bench/qvl-bench.js", source), sizeof script))
        return CLI_EXIT_USAGE;

    if (node && check_npm_verifier(source) != 0)
        return CLI_EXIT_FAIL;

    bench_case cases[N_ALL];
    memset(cases, 0, sizeof cases);
    int ret = CLI_EXIT_FAIL;
    for (size_t i = 0; i < N_ALL; i++) {
        if (load_case(&cases[i], vectors, i < N_COMMON ? COMMON[i] : OURS_ONLY[i - N_COMMON]) != 0)
            goto out;
        verify_result r;
        if (verify_quote(cases[i].ctx, cases[i].quote, cases[i].quote_len, &cases[i].coll,
                         &cases[i].opt, &r) != 0)
            goto out;
        cases[i].verdict = r.verdict;
        cases[i].status = r.status;
    }

    printf("sgx-quote bench verify: %g s per measurement, vectors at their pinned times\n",
           seconds);
    for (size_t i = 0; i < N_ALL; i++)
        printf("  %-34s %s%s%s\n", cases[i].name, verify_verdict_name(cases[i].verdict),
               cases[i].status != VERIFY_TCB_NONE ? " " : "",
               verify_tcb_status_name(cases[i].status));

    unsigned long n_warm = 0, n_cold = 0, n_all = 0;
    double warm = run_ours(cases, N_COMMON, seconds, true, &n_warm);
    double cold = run_ours(cases, N_COMMON, seconds, false, &n_cold);
    double all = run_ours(cases, N_ALL, seconds, true, &n_all);
    if (warm < 0 || cold < 0 || all < 0) {
        fprintf(stderr, "bench verify: a verdict changed between runs\n");
        goto out;
    }
    verify_cache_stats st;
    verify_ctx_cache_stats(cases[0].ctx, &st);
    printf("\nours, %zu vectors both verifiers read (%s, %s, %s):\n", N_COMMON, COMMON[0],
           COMMON[1], COMMON[2]);
    printf("  cache warm   %10.0f quotes/s  (%lu verifications)\n", warm, n_warm);
    printf("  cache off    %10.0f quotes/s  (%lu verifications)\n", cold, n_cold);
    printf("ours, all %zu vectors, cache warm: %.0f quotes/s\n", N_ALL, all);
    printf("cache (first vector's context): %llu/%llu object hits, %llu/%llu signature hits\n",
           (unsigned long long)st.hits, (unsigned long long)(st.hits + st.misses),
           (unsigned long long)st.sig_hits, (unsigned long long)(st.sig_hits + st.sig_misses));
    printf("cached: parsed certificates, CRLs, TCB info, QE identity and attestation keys\n"
           "(keyed by SHA-256 of their bytes) and the signer keys each certificate, CRL and\n"
           "body verified with; never cached: validity at --now, revocation look-ups, TCB\n"
           "matching, the quote and QE report signatures (docs/verify.md)\n");

    if (node) {
        json_t *verdicts = NULL;
        double theirs = run_node(script, cases, N_COMMON, seconds, &verdicts);
        if (theirs <= 0) {
            if (theirs != -2)
                fprintf(stderr, "bench verify: the dcap-qvl run failed (node %s; set "
                                "--source-dir or SGXQH_SOURCE_DIR, or pass --no-node)\n",
                        script);
            json_decref(verdicts);
            goto out;
        }
        printf("\n@phala/dcap-qvl (node), same %zu vectors: %.0f quotes/s\n", N_COMMON, theirs);
        const char *k;
        json_t *v;
        json_object_foreach(verdicts, k, v)
            printf("  %-34s %s\n", k, json_string_value(v) ? json_string_value(v) : "?");
        json_decref(verdicts);
        printf("\nratio (ours / dcap-qvl): %.1fx with the cache warm, %.1fx with it off "
               "(goal >= 20x)\n", warm / theirs, cold / theirs);
    }
    ret = CLI_EXIT_OK;
out:
    for (size_t i = 0; i < N_ALL; i++)
        free_case(&cases[i]);
    return ret;
}
