/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote bench verify`: verifications per second and CPU per
 * verification of our verifier (src/verify) in three cases (cold: a fresh
 * context per quote; realistic: collateral cached, a PCK certificate never
 * seen before in every quote, from simulated platforms; warm: the same quote
 * again), each next to its signature bound (the ECDSA verifications it needs
 * x one P-256 verify measured in the same run), and @phala/dcap-qvl (node)
 * on the same vectors. `--json` prints it all as one document
 * (docs/verify.md "Benchmark"). A benchmark, never a timed test.
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
#include "crypto/crypto.h"
#include "sgxqh/verify.h"
#include "sim/sim.h"

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
    uint8_t *root; /* the case's trust anchor (root.pem), for fresh contexts */
    size_t root_len;
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
    c->root = buf;
    c->root_len = len;
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
    free(c->root);
    verify_collateral_free(&c->coll);
    verify_ctx_free(c->ctx);
}

/* Wall and CPU time of the measured parts of a case. */
typedef struct {
    double wall, cpu;
    double wall0, cpu0;
    unsigned long count;
} meter;

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void meter_start(meter *m)
{
    m->wall0 = now_s();
    m->cpu0 = cpu_s();
}

static void meter_stop(meter *m, unsigned long done)
{
    m->cpu += cpu_s() - m->cpu0;
    m->wall += now_s() - m->wall0;
    m->count += done;
}

/* One verification with the verdict the case had at load time; -1 if not. */
static int verify_one(verify_ctx *ctx, const bench_case *c, verify_result *r)
{
    if (verify_quote(ctx, c->quote, c->quote_len, &c->coll, &c->opt, r) != 0 ||
        r->verdict != c->verdict || r->status != c->status)
        return -1;
    return 0;
}

/* warm: the cases round-robin on their own long-lived contexts (the same
 * quote and collateral again and again). */
static int run_warm(bench_case *cases, size_t n, double seconds, verify_result *r, meter *m)
{
    for (size_t i = 0; i < n; i++)
        if (verify_one(cases[i].ctx, &cases[i], r) != 0) /* fill the caches */
            return -1;
    while (m->wall < seconds) {
        meter_start(m);
        for (size_t i = 0; i < n; i++)
            if (verify_one(cases[i].ctx, &cases[i], r) != 0)
                return -1;
        meter_stop(m, n);
    }
    return 0;
}

/* cold: nothing cached, as a process that verifies one quote does it: a
 * fresh context with the case's root (its self-signature checked), every
 * certificate, CRL and collateral document parsed and verified. Not
 * inlined, here and in run_realistic, so a profiler can single the case out
 * (valgrind --tool=callgrind --toggle-collect='run_cold*'). */
__attribute__((noinline)) static int run_cold(bench_case *cases, size_t n, double seconds, verify_result *r, meter *m)
{
    while (m->wall < seconds) {
        meter_start(m);
        for (size_t i = 0; i < n; i++) {
            verify_ctx *ctx = NULL;
            int rc = verify_ctx_new(&ctx);
            if (rc == 0)
                rc = verify_ctx_set_root(ctx, cases[i].root, cases[i].root_len);
            if (rc == 0)
                rc = verify_one(ctx, &cases[i], r);
            verify_ctx_free(ctx);
            if (rc != 0)
                return -1;
        }
        meter_stop(m, n);
    }
    return 0;
}

/* ---- realistic: a server verifying quotes of many platforms ---- */

/* Simulated platforms: one seed (so one root, PCK Platform CA and TCB
 * signing key: one collateral set), instances "bench-0".. (so as many PCK
 * certificates, PCK keys and attestation keys). Each quote comes from
 * another platform; a pass over them after one warm-up quote is what a
 * long-running verifier sees: collateral cached, PCK certificate new. */
#define REALISTIC_PLATFORMS 48

typedef struct {
    char state_dir[64];
    bench_case c[REALISTIC_PLATFORMS]; /* c[i].quote: platform i's quote; c[0] holds the rest */
} realistic_set;

static int collateral_from_sim(const sim_collateral_set *set, verify_collateral *out)
{
    char err[256];
    if (verify_collateral_set_crl(&out->root_ca_crl, &out->root_ca_crl_len, set->root_ca_crl,
                                  set->root_ca_crl_len) != 0 ||
        verify_collateral_set_crl(&out->pck_crl, &out->pck_crl_len, set->pck_crl,
                                  set->pck_crl_len) != 0 ||
        verify_collateral_set_text(&out->pck_crl_issuer_chain, &out->pck_crl_issuer_chain_len,
                                   set->pck_crl_issuer_chain,
                                   strlen(set->pck_crl_issuer_chain)) != 0 ||
        verify_collateral_set_text(&out->tcb_info_issuer_chain, &out->tcb_info_issuer_chain_len,
                                   set->tcb_info_issuer_chain,
                                   strlen(set->tcb_info_issuer_chain)) != 0 ||
        verify_collateral_set_text(&out->qe_identity_issuer_chain,
                                   &out->qe_identity_issuer_chain_len,
                                   set->qe_identity_issuer_chain,
                                   strlen(set->qe_identity_issuer_chain)) != 0 ||
        verify_collateral_set_tcb_info_doc(out, set->tcb_info, strlen(set->tcb_info), err,
                                           sizeof err) != 0 ||
        verify_collateral_set_qe_identity_doc(out, set->qe_identity, strlen(set->qe_identity),
                                              err, sizeof err) != 0) {
        fprintf(stderr, "bench verify: the simulated collateral does not load: %s\n", err);
        return -1;
    }
    return 0;
}

static void realistic_free(realistic_set *rs)
{
    for (size_t i = 0; i < REALISTIC_PLATFORMS; i++)
        free_case(&rs->c[i]);
    if (rs->state_dir[0] != '\0') {
        char seed[96];
        snprintf(seed, sizeof seed, "%s/seed", rs->state_dir);
        unlink(seed);
        rmdir(rs->state_dir);
    }
}

/* Builds the platforms' quotes and the collateral (valid at `now`). */
static int realistic_setup(realistic_set *rs)
{
    memset(rs, 0, sizeof *rs);
    snprintf(rs->state_dir, sizeof rs->state_dir, "/tmp/sqh-bench-verify-XXXXXX");
    if (mkdtemp(rs->state_dir) == NULL) {
        fprintf(stderr, "bench verify: mkdtemp: %s\n", strerror(errno));
        rs->state_dir[0] = '\0';
        return -1;
    }
    time_t now = time(NULL);
    sim_enclave_identity app;
    sim_enclave_identity_default(&app);
    for (size_t i = 0; i < REALISTIC_PLATFORMS; i++) {
        bench_case *c = &rs->c[i];
        char instance[32], err[512] = "";
        snprintf(instance, sizeof instance, "bench-%zu", i);
        sim_options so;
        memset(&so, 0, sizeof so);
        so.state_dir = rs->state_dir;
        so.instance = instance;
        so.now = now;
        sim_tcb_config_default(&so.tcb);
        sim_platform *p = NULL;
        if (sim_platform_open(&so, &p, err, sizeof err) != SIM_OK) {
            fprintf(stderr, "bench verify: simulated platform %s: %s\n", instance, err);
            return -1;
        }
        int rc = -1;
        sgx_target_info_t ti;
        sgx_report_t report;
        sim_qe_target_info(p, &ti);
        c->name = "sim";
        c->quote_len = sim_quote_size(p);
        c->quote = malloc(c->quote_len);
        if (c->quote == NULL || sim_ereport(&app, &ti, &report) != SIM_OK ||
            sim_get_quote(p, &report, NULL, c->quote, c->quote_len, &c->quote_len) != SIM_OK)
            goto next;
        if (i == 0) {
            sim_collateral_set set;
            const char *root = sim_root_pem(p);
            if (sim_collateral_build(p, false, now, &set) != SIM_OK)
                goto next;
            rc = collateral_from_sim(&set, &c->coll);
            sim_collateral_set_free(&set);
            if (rc != 0)
                goto next;
            rc = -1;
            c->root_len = strlen(root);
            c->root = malloc(c->root_len);
            if (c->root == NULL)
                goto next;
            memcpy(c->root, root, c->root_len);
            verify_options_default(&c->opt);
            c->opt.now = (int64_t)now;
            verify_result *r = malloc(sizeof *r);
            if (r == NULL || verify_ctx_new(&c->ctx) != 0 ||
                verify_ctx_set_root(c->ctx, c->root, c->root_len) != 0 ||
                verify_quote(c->ctx, c->quote, c->quote_len, &c->coll, &c->opt, r) != 0 ||
                r->verdict != VERIFY_VERDICT_OK) {
                fprintf(stderr, "bench verify: a simulated quote does not verify: %s\n",
                        r != NULL ? r->reason : "out of memory");
                free(r);
                goto next;
            }
            c->verdict = r->verdict;
            c->status = r->status;
            free(r);
        }
        rc = 0;
    next:
        sim_platform_close(p);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* realistic: per pass a fresh context, one untimed quote to cache the
 * collateral, then the other platforms' quotes, timed. */
__attribute__((noinline)) static int run_realistic(realistic_set *rs, double seconds, verify_result *r, meter *m)
{
    const bench_case *base = &rs->c[0];
    while (m->wall < seconds) {
        verify_ctx *ctx = NULL;
        int rc = verify_ctx_new(&ctx);
        if (rc == 0)
            rc = verify_ctx_set_root(ctx, base->root, base->root_len);
        if (rc == 0)
            rc = verify_one(ctx, base, r);
        meter_start(m);
        for (size_t i = 1; i < REALISTIC_PLATFORMS && rc == 0; i++) {
            if (verify_quote(ctx, rs->c[i].quote, rs->c[i].quote_len, &base->coll, &base->opt,
                             r) != 0 ||
                r->verdict != base->verdict || r->status != base->status)
                rc = -1;
        }
        meter_stop(m, REALISTIC_PLATFORMS - 1);
        verify_ctx_free(ctx);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The reference: crypto_p256_verify (the primitive the verifier calls) over
 * a quote-sized message with a ready key. */
static int run_p256(double seconds, meter *m)
{
    crypto_p256_key *key = NULL;
    uint8_t msg[432], sig[CRYPTO_P256_SIG_LEN];
    memset(msg, 0x5a, sizeof msg);
    int rc = -1;
    if (crypto_p256_generate(&key) != 0 || crypto_p256_sign(key, msg, sizeof msg, sig) != 0)
        goto out;
    while (m->wall < seconds) {
        meter_start(m);
        for (int i = 0; i < 64; i++)
            if (crypto_p256_verify(key, msg, sizeof msg, sig) != 0)
                goto out;
        meter_stop(m, 64);
    }
    rc = 0;
out:
    crypto_p256_free(key);
    return rc;
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
            "                              [--no-node] [--json]\n"
            "  Verifications per second and CPU per verification of our verifier, cold (a\n"
            "  fresh context per quote), realistic (collateral cached, a new PCK certificate\n"
            "  in every quote) and warm (the same quote again), each against its signature\n"
            "  bound (the ECDSA verifications it needs x one P-256 verify measured in the\n"
            "  same run; goal: cold and realistic within 3x), and @phala/dcap-qvl under\n"
            "  node on the same vectors. Not a timed test.\n"
            "  --seconds N      time per measurement (default 3)\n"
            "  --vectors DIR    test vectors (default $SGXQH_VECTORS, else\n"
            "                   SOURCE/tests/vectors)\n"
            "  --source-dir DIR source tree, for bench/qvl-bench.js and tests/node (default\n"
            "                   $SGXQH_SOURCE_DIR, else the current directory)\n"
            "  --no-node        skip the dcap-qvl measurement\n"
            "  --json           print one JSON document (docs/verify.md \"Benchmark\")\n");
}

/* The ECDSA verifications each case needs (docs/verify.md "Benchmark"). */
/* cold: the trust anchor's self-signature, the PCK Platform/Processor CA
 * by the root, the PCK certificate by that CA, the root CA CRL, the PCK
 * CRL, the TCB signing certificate by the root (one certificate signs both
 * the TCB info and the QE identity), the TCB info, the QE identity, the QE
 * report by the PCK key, the quote by the attestation key. */
#define COLD_ECDSA 10
/* realistic: the new PCK certificate by its (cached) CA, the QE report, the
 * quote. */
#define REALISTIC_ECDSA 3
/* warm: the QE report and the quote (never cached: they are the quote's). */
#define WARM_ECDSA 2
/* The goal: at most this many times the signature bound (issue 14). */
#define GOAL_RATIO 3.0

typedef struct {
    const char *name, *what;
    meter m;
    unsigned ecdsa;
    bool has_goal;
    double rate, cpu_us, wall_us, bound_us, ratio;
    bool goal_met;
} case_row;

static void row_finish(case_row *row, double p256_cpu_us)
{
    const meter *m = &row->m;
    row->rate = m->wall > 0 ? (double)m->count / m->wall : 0;
    row->cpu_us = m->count > 0 ? m->cpu * 1e6 / (double)m->count : 0;
    row->wall_us = m->count > 0 ? m->wall * 1e6 / (double)m->count : 0;
    row->bound_us = row->ecdsa * p256_cpu_us;
    row->ratio = row->bound_us > 0 ? row->cpu_us / row->bound_us : 0;
    row->goal_met = !row->has_goal || row->ratio <= GOAL_RATIO;
}

static json_t *row_json(const case_row *row)
{
    return json_pack("{s:s, s:s, s:I, s:f, s:f, s:f, s:i, s:f, s:f, s:o, s:o}", "name", row->name,
                     "description", row->what, "verifications", (json_int_t)row->m.count,
                     "verifications_per_second", row->rate, "cpu_us_per_verification",
                     row->cpu_us, "wall_us_per_verification", row->wall_us, "ecdsa_verifies",
                     (int)row->ecdsa, "bound_us", row->bound_us, "ratio_to_bound", row->ratio,
                     "goal_ratio", row->has_goal ? json_real(GOAL_RATIO) : json_null(),
                     "goal_met", row->has_goal ? json_boolean(row->goal_met) : json_null());
}

int bench_verify_main(int argc, char **argv)
{
    static const struct option LONG[] = {
        {"seconds", required_argument, NULL, 's'}, {"vectors", required_argument, NULL, 'v'},
        {"source-dir", required_argument, NULL, 'S'}, {"no-node", no_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double seconds = 3;
    const char *vectors = getenv("SGXQH_VECTORS"), *source = getenv("SGXQH_SOURCE_DIR");
    bool node = true, as_json = false;
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
        case 'j': as_json = true; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bench verify: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return CLI_EXIT_USAGE;
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
    realistic_set *rs = calloc(1, sizeof *rs);
    verify_result *r = malloc(sizeof *r);
    json_t *verdicts = NULL, *doc = NULL;
    int ret = CLI_EXIT_FAIL;
    if (rs == NULL || r == NULL)
        goto out;
    for (size_t i = 0; i < N_ALL; i++) {
        if (load_case(&cases[i], vectors, i < N_COMMON ? COMMON[i] : OURS_ONLY[i - N_COMMON]) != 0)
            goto out;
        if (verify_quote(cases[i].ctx, cases[i].quote, cases[i].quote_len, &cases[i].coll,
                         &cases[i].opt, r) != 0)
            goto out;
        cases[i].verdict = r->verdict;
        cases[i].status = r->status;
    }
    if (realistic_setup(rs) != 0)
        goto out;

    if (!as_json) {
        printf("sgx-quote bench verify: %g s per measurement, vectors at their pinned times\n",
               seconds);
        for (size_t i = 0; i < N_ALL; i++)
            printf("  %-34s %s%s%s\n", cases[i].name, verify_verdict_name(cases[i].verdict),
                   cases[i].status != VERIFY_TCB_NONE ? " " : "",
                   verify_tcb_status_name(cases[i].status));
        fflush(stdout);
    }

    case_row rows[] = {
        {.name = "cold", .ecdsa = COLD_ECDSA, .has_goal = true,
         .what = "nothing cached: a fresh context per quote (trust anchor set), every "
                 "certificate, CRL and collateral document parsed and verified; the 3 vectors "
                 "dcap-qvl reads"},
        {.name = "realistic", .ecdsa = REALISTIC_ECDSA, .has_goal = true,
         .what = "collateral cached, each quote from another simulated platform with a PCK "
                 "certificate the context has not seen"},
        {.name = "warm", .ecdsa = WARM_ECDSA, .has_goal = false,
         .what = "the same quote and collateral again on a long-lived context; the 3 vectors "
                 "dcap-qvl reads"},
        {.name = "warm-all", .ecdsa = WARM_ECDSA, .has_goal = false,
         .what = "as warm, on all 6 vectors (TCB info v2, SGX v4, a rejected TDX v5)"},
    };
    enum { ROW_COLD, ROW_REALISTIC, ROW_WARM, ROW_WARM_ALL, N_ROWS };
    _Static_assert(sizeof rows / sizeof rows[0] == N_ROWS, "one row per case");
    /* The reference before and after the cases, so a load change during
     * the run shows in both. */
    meter p256 = {0};
    if (run_p256(seconds / 2, &p256) != 0 ||
        run_cold(cases, N_COMMON, seconds, r, &rows[ROW_COLD].m) != 0 ||
        run_realistic(rs, seconds, r, &rows[ROW_REALISTIC].m) != 0 ||
        run_warm(cases, N_COMMON, seconds, r, &rows[ROW_WARM].m) != 0 ||
        run_warm(cases, N_ALL, seconds, r, &rows[ROW_WARM_ALL].m) != 0 ||
        run_p256(seconds, &p256) != 0) {
        fprintf(stderr, "bench verify: a verdict changed between runs\n");
        goto out;
    }
    double p256_rate = (double)p256.count / p256.wall;
    double p256_cpu_us = p256.cpu * 1e6 / (double)p256.count;
    bool goals = true;
    for (size_t i = 0; i < N_ROWS; i++) {
        row_finish(&rows[i], p256_cpu_us);
        goals = goals && rows[i].goal_met;
    }

    double theirs = 0;
    if (node) {
        theirs = run_node(script, cases, N_COMMON, seconds, &verdicts);
        if (theirs <= 0) {
            if (theirs != -2)
                fprintf(stderr, "bench verify: the dcap-qvl run failed (node %s; set "
                                "--source-dir or SGXQH_SOURCE_DIR, or pass --no-node)\n",
                        script);
            goto out;
        }
    }

    if (as_json) {
        json_t *jrows = json_array(), *jvec = json_array();
        for (size_t i = 0; i < N_ROWS; i++)
            json_array_append_new(jrows, row_json(&rows[i]));
        for (size_t i = 0; i < N_ALL; i++)
            json_array_append_new(
                jvec, json_pack("{s:s, s:b, s:s, s:s}", "name", cases[i].name, "common",
                                i < N_COMMON, "verdict", verify_verdict_name(cases[i].verdict),
                                "status", verify_tcb_status_name(cases[i].status)));
        json_t *qvl = json_null();
        if (node)
            qvl = json_pack("{s:f, s:f, s:f, s:O}", "verifications_per_second", theirs,
                            "ratio_warm", rows[ROW_WARM].rate / theirs, "ratio_cold",
                            rows[ROW_COLD].rate / theirs, "verdicts", verdicts);
        doc = json_pack("{s:i, s:f, s:{s:f, s:f, s:i, s:I}, s:o, s:b, s:o, s:o}", "schema", 1,
                        "seconds", seconds, "references", "p256_verify_per_second", p256_rate,
                        "p256_verify_cpu_us", p256_cpu_us, "message_bytes", 432,
                        "p256_verifications", (json_int_t)p256.count, "cases", jrows,
                        "goals_met", goals, "vectors", jvec, "dcap_qvl", qvl);
        if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2)) != 0)
            goto out;
        printf("\n");
    } else {
        printf("\nP-256 verify (crypto_p256_verify, 432 bytes, ready key): %.0f/s, %.1f us CPU "
               "(%lu verifications)\n\n",
               p256_rate, p256_cpu_us, p256.count);
        printf("  %-10s %10s %12s %6s %10s %7s  %s\n", "case", "verif/s", "CPU us/verif",
               "ECDSA", "bound us", "ratio", "goal (<= 3x bound)");
        for (size_t i = 0; i < N_ROWS; i++)
            printf("  %-10s %10.0f %12.1f %6u %10.1f %6.2fx  %s\n", rows[i].name, rows[i].rate,
                   rows[i].cpu_us, rows[i].ecdsa, rows[i].bound_us, rows[i].ratio,
                   !rows[i].has_goal ? "-" : rows[i].goal_met ? "met" : "NOT met");
        printf("\n");
        for (size_t i = 0; i < N_ROWS; i++)
            printf("  %-10s %s\n", rows[i].name, rows[i].what);
        printf("bound = ECDSA verifications the case needs x the P-256 verify CPU time; ratio = "
               "CPU per verification / bound (docs/verify.md \"Benchmark\")\n");
        printf("goals: %s\n", goals ? "met" : "NOT met");
        if (node) {
            printf("\n@phala/dcap-qvl (node), same %zu vectors: %.0f quotes/s\n", N_COMMON,
                   theirs);
            const char *k;
            json_t *v;
            json_object_foreach(verdicts, k, v)
                printf("  %-34s %s\n", k, json_string_value(v) ? json_string_value(v) : "?");
            printf("ratio (ours / dcap-qvl): %.1fx warm, %.1fx cold\n",
                   rows[ROW_WARM].rate / theirs, rows[ROW_COLD].rate / theirs);
        }
    }
    ret = CLI_EXIT_OK;
out:
    json_decref(doc);
    json_decref(verdicts);
    free(r);
    for (size_t i = 0; i < N_ALL; i++)
        free_case(&cases[i]);
    if (rs != NULL)
        realistic_free(rs);
    free(rs);
    return ret;
}
