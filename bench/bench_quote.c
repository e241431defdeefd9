/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote bench quote`: what the daemon costs. In one run, on this
 * machine: quotes/s and latency percentiles through the socket at 1, 8, 64
 * and 256 concurrent clients (each quote a fresh connection, as real
 * clients do, aesm §1.3); the raw P-256 signing rate; the in-process
 * sim_get_quote rate. Then the ratios against issue 4's goals. Ratios from
 * one run are what matter: absolute numbers on a shared machine are noise.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "client/client.h"
#include "crypto/crypto.h"
#include "sim/sim.h"

#define MAX_POINTS 8
/* Goals from issue 4 ("compass", not pass/fail). */
#define GOAL_TPUT_VS_SIGN 0.8
#define GOAL_P99_MS 2.0
#define GOAL_OOP_VS_INPROC 0.8

typedef struct {
    const char *socket;
    double seconds;
    int clients[MAX_POINTS];
    int n_points;
    const char *daemon_path;
    int threads; /* for the signing / in-process loops */
} bench_opts;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote bench quote [--socket PATH] [--seconds S] [--clients 1,8,64,256]\n"
            "                             [--daemon PATH] [--threads N]\n"
            "  Without --socket, starts sgx-quote-helperd on a temporary socket (found next\n"
            "  to sgx-quote, in the build tree, or on PATH; or --daemon PATH) and stops it\n"
            "  afterwards. --seconds is per measurement point (default 2). --threads sets\n"
            "  the threads for the signing and in-process loops (default: online CPUs).\n");
}

static int parse_clients(const char *s, bench_opts *o)
{
    o->n_points = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *end = NULL;
        long v = strtol(tok, &end, 10);
        if (end == tok || *end != '\0' || v < 1 || v > 4096 || o->n_points == MAX_POINTS)
            return -1;
        o->clients[o->n_points++] = (int)v;
    }
    return o->n_points > 0 ? 0 : -1;
}

/* ---- the daemon under test ---------------------------------------------- */

typedef struct {
    pid_t pid;
    char dir[128];
    char socket[200];
    char state_dir[200];
} bench_daemon;

static bool is_executable(const char *p)
{
    return access(p, X_OK) == 0;
}

/* Next to this sgx-quote (installed), in the build tree
 * (src/cli → src/daemon), or on PATH. */
static const char *find_daemon(char *buf, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            static const char *const rel[] = {"/sgx-quote-helperd",
                                              "/../daemon/sgx-quote-helperd"};
            for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
                if (strlen(self) + strlen(rel[i]) + 1 > cap)
                    continue;
                strcpy(buf, self);
                strcat(buf, rel[i]);
                if (is_executable(buf))
                    return buf;
            }
        }
    }
    snprintf(buf, cap, "sgx-quote-helperd");
    return buf;
}

static int start_daemon(bench_daemon *d, const char *path)
{
    snprintf(d->dir, sizeof d->dir, "/tmp/sqh-bench-XXXXXX");
    if (mkdtemp(d->dir) == NULL) {
        fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    snprintf(d->socket, sizeof d->socket, "%s/aesm.socket", d->dir);
    snprintf(d->state_dir, sizeof d->state_dir, "%s/state", d->dir);
    char log[256];
    snprintf(log, sizeof log, "%s/daemon.log", d->dir);
    d->pid = fork();
    if (d->pid < 0)
        return -1;
    if (d->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the benchmark */
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            dup2(fd, STDERR_FILENO);
        execlp(path, path, "--socket", d->socket, "--state-dir", d->state_dir,
               (char *)NULL);
        fprintf(stderr, "bench: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    client_opts o;
    client_opts_default(&o);
    o.socket_path = d->socket;
    o.connect_retry_ms = 20000;
    uint32_t num = 0;
    if (client_get_supported_att_key_id_num(&o, &num) != SGX_SUCCESS || num == 0) {
        fprintf(stderr, "bench: the daemon (%s) did not come up; see %s\n", path, log);
        return -1;
    }
    return 0;
}

static void stop_daemon(bench_daemon *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        int st;
        waitpid(d->pid, &st, 0);
        d->pid = 0;
    }
    if (d->dir[0] != '\0') {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench: could not remove %s\n", d->dir);
    }
}

/* ---- out-of-process: N clients, one quote per connection ----------------- */

typedef struct {
    const client_opts *opts;
    const sgx_report_t *report;
    uint32_t qsize;
    double deadline;
    pthread_barrier_t *start;
    double *lat_ms; /* grown by the thread */
    size_t n, cap;
    size_t errors;
    sgx_status_t first_error;
} client_worker;

static void *client_loop(void *arg)
{
    client_worker *w = arg;
    sgx_att_key_id_t kid;
    client_default_ecdsa_key_id(&kid);
    uint8_t *quote = malloc(w->qsize);
    pthread_barrier_wait(w->start);
    while (quote != NULL && now_s() < w->deadline) {
        double t0 = now_s();
        sgx_status_t s = client_get_quote_ex(w->opts, w->report, &kid, NULL, quote, w->qsize);
        double t1 = now_s();
        if (s != SGX_SUCCESS) {
            if (w->errors++ == 0)
                w->first_error = s;
            continue;
        }
        if (w->n == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 1024;
            double *nl = realloc(w->lat_ms, cap * sizeof *nl);
            if (nl == NULL)
                break;
            w->lat_ms = nl;
            w->cap = cap;
        }
        w->lat_ms[w->n++] = (t1 - t0) * 1000.0;
    }
    free(quote);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    int clients;
    double qps, p50, p90, p99;
    size_t errors;
} point_result;

static int run_point(const client_opts *o, const sgx_report_t *report, uint32_t qsize,
                     int clients, double seconds, point_result *out)
{
    client_worker *w = calloc((size_t)clients, sizeof *w);
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    pthread_barrier_t start;
    int rc = -1;
    if (w == NULL || th == NULL)
        goto out;
    pthread_barrier_init(&start, NULL, (unsigned)clients + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    double begin = now_s() + 0.05;
    for (int i = 0; i < clients; i++) {
        w[i] = (client_worker){.opts = o, .report = report, .qsize = qsize,
                               .deadline = begin + seconds, .start = &start};
        if (pthread_create(&th[i], &attr, client_loop, &w[i]) != 0) {
            fprintf(stderr, "bench: cannot start client thread %d\n", i);
            abort();
        }
    }
    pthread_barrier_wait(&start);
    double t0 = now_s();
    size_t total = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        total += w[i].n;
    }
    double elapsed = now_s() - t0;
    pthread_attr_destroy(&attr);
    pthread_barrier_destroy(&start);

    double *all = malloc((total ? total : 1) * sizeof *all);
    if (all == NULL)
        goto out;
    size_t k = 0;
    out->errors = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, w[i].lat_ms, w[i].n * sizeof *all);
        k += w[i].n;
        out->errors += w[i].errors;
        if (w[i].errors > 0 && out->errors == w[i].errors)
            fprintf(stderr, "bench: %d clients: errors, first %s (0x%04x)\n", clients,
                    sgx_status_name(w[i].first_error), (unsigned)w[i].first_error);
    }
    qsort(all, total, sizeof *all, cmp_double);
    out->clients = clients;
    out->qps = (double)total / elapsed;
    out->p50 = total ? all[(size_t)((double)(total - 1) * 0.50)] : 0;
    out->p90 = total ? all[(size_t)((double)(total - 1) * 0.90)] : 0;
    out->p99 = total ? all[(size_t)((double)(total - 1) * 0.99)] : 0;
    free(all);
    rc = total > 0 ? 0 : -1;
out:
    for (int i = 0; w != NULL && i < clients; i++)
        free(w[i].lat_ms);
    free(w);
    free(th);
    return rc;
}

/* ---- in-process references ------------------------------------------- */

typedef struct {
    const crypto_p256_key *key;
    const sim_platform *plat;
    const sgx_report_t *report;
    uint32_t qsize;
    double deadline;
    pthread_barrier_t *start;
    size_t count;
    bool failed;
} ref_worker;

static void *sign_loop(void *arg)
{
    ref_worker *w = arg;
    uint8_t msg[432], sig[CRYPTO_P256_SIG_LEN]; /* a quote signs bytes [0, 432) */
    memset(msg, 0x5c, sizeof msg);
    pthread_barrier_wait(w->start);
    while (now_s() < w->deadline) {
        if (crypto_p256_sign(w->key, msg, sizeof msg, sig) != 0) {
            w->failed = true;
            break;
        }
        msg[0]++;
        w->count++;
    }
    return NULL;
}

static void *inproc_loop(void *arg)
{
    ref_worker *w = arg;
    uint8_t *quote = malloc(w->qsize);
    pthread_barrier_wait(w->start);
    while (quote != NULL && now_s() < w->deadline) {
        size_t len = 0;
        if (sim_get_quote(w->plat, w->report, NULL, quote, w->qsize, &len) != SIM_OK) {
            w->failed = true;
            break;
        }
        w->count++;
    }
    free(quote);
    return NULL;
}

static double run_ref(void *(*fn)(void *), ref_worker proto, int threads, double seconds)
{
    ref_worker *w = calloc((size_t)threads, sizeof *w);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    if (w == NULL || th == NULL) {
        free(w);
        free(th);
        return -1;
    }
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    double begin = now_s() + 0.02;
    for (int i = 0; i < threads; i++) {
        w[i] = proto;
        w[i].deadline = begin + seconds;
        w[i].start = &start;
        if (pthread_create(&th[i], NULL, fn, &w[i]) != 0)
            abort();
    }
    pthread_barrier_wait(&start);
    double t0 = now_s();
    size_t total = 0;
    bool failed = false;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += w[i].count;
        failed |= w[i].failed;
    }
    double rate = (double)total / (now_s() - t0);
    pthread_barrier_destroy(&start);
    free(w);
    free(th);
    return failed ? -1 : rate;
}

static const char *verdict(bool ok)
{
    return ok ? "meets goal" : "BELOW GOAL";
}

int bench_quote_main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"seconds", required_argument, NULL, 't'},
        {"clients", required_argument, NULL, 'c'},
        {"daemon", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bench_opts o = {.seconds = 2.0, .clients = {1, 8, 64, 256}, .n_points = 4};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o.threads = cpus > 0 ? (int)cpus : 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 's':
            o.socket = optarg;
            break;
        case 't':
            o.seconds = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || o.seconds <= 0 || o.seconds > 600) {
                fprintf(stderr, "sgx-quote bench quote: --seconds expects 0 < S <= 600\n");
                return 2;
            }
            break;
        case 'c':
            if (parse_clients(optarg, &o) != 0) {
                fprintf(stderr, "sgx-quote bench quote: --clients expects e.g. 1,8,64,256\n");
                return 2;
            }
            break;
        case 'd':
            o.daemon_path = optarg;
            break;
        case 'j':
            o.threads = atoi(optarg);
            if (o.threads < 1 || o.threads > 1024) {
                fprintf(stderr, "sgx-quote bench quote: --threads expects 1..1024\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }

    int rc = 1;
    bench_daemon d;
    memset(&d, 0, sizeof d);
    sim_platform *plat = NULL;
    crypto_p256_key *key = NULL;
    char ref_dir[128] = "";
    signal(SIGPIPE, SIG_IGN);

    if (o.socket == NULL) {
        char buf[PATH_MAX];
        const char *path = o.daemon_path != NULL ? o.daemon_path : find_daemon(buf, sizeof buf);
        if (start_daemon(&d, path) != 0)
            goto out;
        o.socket = d.socket;
        printf("daemon: %s on %s (pid %ld)\n", path, d.socket, (long)d.pid);
    } else {
        printf("daemon: already running on %s\n", o.socket);
    }

    client_opts co;
    client_opts_default(&co);
    co.socket_path = o.socket;
    co.connect_retry_ms = 2000;

    /* A report for the daemon's QE, as an application would make it. */
    sgx_att_key_id_t kid;
    client_default_ecdsa_key_id(&kid);
    sgx_target_info_t qe_ti;
    size_t pk_size = 32;
    uint8_t pkid[32];
    uint32_t qsize = 0;
    sgx_status_t s = client_init_quote_ex(&co, &kid, &qe_ti, &pk_size, pkid);
    if (s == SGX_SUCCESS)
        s = client_get_quote_size_ex(&co, &kid, &qsize);
    if (s != SGX_SUCCESS) {
        fprintf(stderr, "bench: the daemon refused the set-up calls: %s\n", sgx_status_name(s));
        goto out;
    }
    sim_enclave_identity app;
    sim_enclave_identity_default(&app);
    sgx_report_t report;
    if (sim_ereport(&app, &qe_ti, &report) != SIM_OK)
        goto out;

    printf("quote size %u bytes, %.1f s per point, %d CPU(s); client threads and the daemon "
           "share this machine\n\n",
           qsize, o.seconds, (int)cpus);
    printf("%8s %12s %10s %10s %10s %8s\n", "clients", "quotes/s", "p50 ms", "p90 ms", "p99 ms",
           "errors");
    point_result res[MAX_POINTS];
    int idx64 = -1;
    for (int i = 0; i < o.n_points; i++) {
        if (run_point(&co, &report, qsize, o.clients[i], o.seconds, &res[i]) != 0) {
            fprintf(stderr, "bench: no quote succeeded at %d clients\n", o.clients[i]);
            goto out;
        }
        printf("%8d %12.0f %10.3f %10.3f %10.3f %8zu\n", res[i].clients, res[i].qps, res[i].p50,
               res[i].p90, res[i].p99, res[i].errors);
        fflush(stdout);
        if (o.clients[i] == 64)
            idx64 = i;
    }

    /* References, same run, same machine. */
    if (crypto_p256_generate(&key) != 0)
        goto out;
    ref_worker proto = {.key = key};
    double sign1 = run_ref(sign_loop, proto, 1, o.seconds);
    double signN = run_ref(sign_loop, proto, o.threads, o.seconds);

    sim_options so;
    memset(&so, 0, sizeof so);
    if (d.state_dir[0] != '\0') {
        so.state_dir = d.state_dir; /* the daemon's own platform */
    } else {
        snprintf(ref_dir, sizeof ref_dir, "/tmp/sqh-bench-ref-XXXXXX");
        if (mkdtemp(ref_dir) == NULL)
            goto out;
        so.state_dir = ref_dir;
    }
    sim_tcb_config_default(&so.tcb);
    char err[256];
    if (sim_platform_open(&so, &plat, err, sizeof err) != SIM_OK) {
        fprintf(stderr, "bench: in-process platform: %s\n", err);
        goto out;
    }
    sgx_target_info_t local_ti;
    sim_qe_target_info(plat, &local_ti);
    sgx_report_t local_report;
    if (sim_ereport(&app, &local_ti, &local_report) != SIM_OK)
        goto out;
    ref_worker iproto = {.plat = plat, .report = &local_report, .qsize = sim_quote_size(plat)};
    double inproc1 = run_ref(inproc_loop, iproto, 1, o.seconds);
    double inprocN = run_ref(inproc_loop, iproto, o.threads, o.seconds);
    if (sign1 <= 0 || signN <= 0 || inproc1 <= 0 || inprocN <= 0) {
        fprintf(stderr, "bench: a reference loop failed\n");
        goto out;
    }

    printf("\nP-256 signing (crypto_p256_sign over 432 bytes): %.0f/s on 1 thread, %.0f/s on "
           "%d\n", sign1, signN, o.threads);
    printf("in-process quotes (sim_get_quote):                %.0f/s on 1 thread, %.0f/s on "
           "%d\n", inproc1, inprocN, o.threads);
    if (idx64 >= 0) {
        const point_result *p = &res[idx64];
        double r1 = p->qps / signN, r3 = p->qps / inprocN;
        printf("\ngoals at 64 clients:\n");
        printf("  throughput / signing rate    %.2f  (goal >= %.1f)  %s\n", r1, GOAL_TPUT_VS_SIGN,
               verdict(r1 >= GOAL_TPUT_VS_SIGN));
        printf("  p99 latency                  %.3f ms (goal <= %.1f ms)  %s\n", p->p99,
               GOAL_P99_MS, verdict(p->p99 <= GOAL_P99_MS));
        printf("  out-of-process / in-process  %.2f  (goal >= %.1f)  %s\n", r3,
               GOAL_OOP_VS_INPROC, verdict(r3 >= GOAL_OOP_VS_INPROC));
    } else {
        printf("\n(no 64-client point measured: goal ratios not computed)\n");
    }
    rc = 0;
out:
    if (plat != NULL)
        sim_platform_close(plat);
    crypto_p256_free(key);
    if (ref_dir[0] != '\0') {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", ref_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench: could not remove %s\n", ref_dir);
    }
    stop_daemon(&d);
    return rc;
}
