/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote bench quote`: what the daemon costs. In one run, on this
 * machine: quotes/s and latency percentiles through the socket at 1, 8, 64
 * and 256 concurrent clients (each quote a fresh connection, as real
 * clients do, aesm §1.3), with the CPU time the daemon and the load
 * generator (bench/loadgen.c, or one thread per client) spend per quote;
 * the raw P-256 signing rate and the in-process sim_get_quote rate on one
 * thread and on all CPUs. Then the ratios against issue 4's goals. Ratios
 * from one run are what matter: absolute numbers on a shared machine are
 * noise.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT, struct ucred */
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/loadgen.h"
#include "client/client.h"
#include "crypto/crypto.h"
#include "sim/sim.h"
#include "wire/wire.h"

#define MAX_POINTS 8
/* Goals from issue 4 ("compass", not pass/fail). */
#define GOAL_CLIENTS 64
#define GOAL_TPUT_VS_SIGN 0.8
#define GOAL_P99_MS 2.0
#define GOAL_OOP_VS_INPROC 0.8

/* A quote's bytes that are the same for every quote of one report on one
 * platform: header (48) + report body (384) + signature_data_len (4)
 * (aesm §6.6). Each response's quote is compared with a reference quote on
 * these (which also fixes its length); the signature data is not. */
#define QUOTE_FIXED_PREFIX 436u
/* The largest fixed-size part of a GetQuoteEx response besides the quote. */
#define RESP_SLACK 4096u
/* Per request, from connect to the last byte (the daemon's default
 * --io-timeout-ms is 5000). */
#define LOADGEN_IO_TIMEOUT_MS 10000

/* MODE_BOTH: the whole table with threads, then with epoll, in one run. */
typedef enum { MODE_EPOLL, MODE_THREADS, MODE_BOTH } clients_mode;

typedef struct {
    const char *socket;
    double seconds;
    int clients[MAX_POINTS];
    int n_points;
    const char *daemon_path;
    int threads;  /* for the signing / in-process loops (all-CPU rate) */
    clients_mode mode;
    int lg_threads; /* epoll mode: event-loop threads */
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
            "                             [--points N] [--clients-mode epoll|threads|both]\n"
            "                             [--loadgen-threads N] [--daemon PATH] [--threads N]\n"
            "  Without --socket, starts sgx-quote-helperd on a temporary socket (found next\n"
            "  to sgx-quote, in the build tree, or on PATH; or --daemon PATH) and stops it\n"
            "  afterwards. --seconds is per measurement point (default 2). --points N\n"
            "  measures only the first N client counts.\n"
            "  --clients-mode: epoll (default) keeps the requests in flight from\n"
            "  --loadgen-threads event loops (default 1); threads runs one blocking client\n"
            "  thread per concurrent client, through the same client code as\n"
            "  libsgx_quote_ex; both measures the table each way in this run.\n"
            "  --threads sets the threads of the all-CPU signing and in-process rates\n"
            "  (default: the CPUs this process may use, which the daemon inherits).\n");
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

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* ---- CPU accounting -------------------------------------------------------- */

/* CPUs this process may run on (the daemon it starts inherits the mask). */
static int usable_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static double ticks_to_s(unsigned long long ticks)
{
    long hz = sysconf(_SC_CLK_TCK);
    return (double)ticks / (double)(hz > 0 ? hz : 100);
}

/* utime + stime, proc(5) fields 14 and 15, of a whole process (all its
 * threads; tid 0) or of one of its threads; the command name in field 2
 * may hold spaces and ')'. -1 when unreadable. */
static double proc_cpu_s(pid_t pid, pid_t tid)
{
    char path[96], buf[1024];
    if (tid > 0)
        snprintf(path, sizeof path, "/proc/%ld/task/%ld/stat", (long)pid, (long)tid);
    else
        snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    /* After ')': fields 3 (state) .. 13, then utime, stime. */
    if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                            &ut, &st) != 2)
        return -1;
    return ticks_to_s(ut + st);
}

/* This process, all threads: user + system. */
static double self_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The whole machine from /proc/stat's "cpu" line: busy (user, nice,
 * system, irq, softirq) and idle (idle, iowait) CPU-seconds. */
static int machine_cpu_s(double *busy, double *idle)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return -1;
    unsigned long long us = 0, ni = 0, sy = 0, id = 0, io = 0, irq = 0, sirq = 0;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &us, &ni, &sy, &id, &io, &irq,
                   &sirq);
    fclose(f);
    if (n != 7)
        return -1;
    *busy = ticks_to_s(us + ni + sy + irq + sirq);
    *idle = ticks_to_s(id + io);
    return 0;
}

typedef struct {
    double t, daemon, daemon_main, self, busy, idle;
    bool have_machine;
} cpu_snap;

static void cpu_snapshot(pid_t daemon_pid, cpu_snap *s)
{
    s->have_machine = machine_cpu_s(&s->busy, &s->idle) == 0;
    s->daemon = daemon_pid > 0 ? proc_cpu_s(daemon_pid, 0) : -1;
    /* The daemon's main thread runs its event loop (src/daemon/server.c). */
    s->daemon_main = daemon_pid > 0 ? proc_cpu_s(daemon_pid, daemon_pid) : -1;
    s->self = self_cpu_s();
    s->t = now_s();
}

/* The server end of a connection to the socket: its pid (SO_PEERCRED), to
 * account the CPU of a daemon this benchmark did not start. 0 if unknown. */
static pid_t socket_server_pid(const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        return 0;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    pid_t pid = 0;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (connect(fd, (const struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        pid = cred.pid;
    close(fd);
    return pid;
}

/* "model name" from /proc/cpuinfo, or "unknown CPU". */
static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            colon++;
            while (*colon == ' ' || *colon == '\t')
                colon++;
            snprintf(out, cap, "%s", colon);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
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
        execlp(path, path, "--socket", d->socket, "--state-dir", d->state_dir, "--init-seed",
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

/* The worker count from the daemon's start log line (text "workers=N" or
 * JSON "workers":N), 0 if not found. */
static int daemon_workers(const bench_daemon *d)
{
    char log[256], line[1024];
    snprintf(log, sizeof log, "%s/daemon.log", d->dir);
    FILE *f = fopen(log, "r");
    if (f == NULL)
        return 0;
    int workers = 0;
    while (workers == 0 && fgets(line, sizeof line, f) != NULL) {
        static const char *const keys[] = {" workers=", "\"workers\":"};
        for (size_t k = 0; k < 2 && workers == 0; k++) {
            const char *w = strstr(line, keys[k]);
            if (w != NULL)
                workers = atoi(w + strlen(keys[k]));
        }
    }
    fclose(f);
    return workers;
}

/* ---- one measurement point ------------------------------------------------- */

typedef struct {
    int clients;
    double qps, p50, p90, p99;
    size_t completed, errors;
    double daemon_us;   /* daemon CPU per quote; < 0 unknown */
    double main_us;     /* of which its main (event-loop) thread; < 0 unknown */
    double main_busy;   /* that thread's share of one CPU during the point */
    double loadgen_us;  /* this process's CPU per quote */
    double other_cpus;  /* CPUs busy outside the daemon and this process; < 0 unknown */
    double idle_cpus;   /* CPUs idle during the point; < 0 unknown */
} point_result;

/* What every response must be: a GetQuoteEx answer with errorCode 0 and
 * the quote zero-padded to buf_size whose fixed bytes equal the reference
 * quote's (same report, same platform). */
typedef struct {
    uint32_t qsize;
    const uint8_t *ref; /* QUOTE_FIXED_PREFIX bytes */
} quote_check;

static int check_quote_response(const uint8_t *body, size_t len, void *arg)
{
    const quote_check *qc = arg;
    Aesm__Response *resp = NULL;
    if (wire_response_decode(body, len, &resp) != WIRE_OK)
        return -1;
    const Aesm__Response__GetQuoteExResponse *r = resp->getquoteexres;
    bool ok = r != NULL && r->errorcode == 0 && r->has_quote && r->quote.len == qc->qsize &&
              memcmp(r->quote.data, qc->ref, QUOTE_FIXED_PREFIX) == 0;
    wire_response_free(resp);
    return ok ? 0 : -1;
}

/* threads mode: one blocking client per thread, through client_get_quote_ex
 * (the same code as libsgx_quote_ex's sgx_get_quote_ex). */
typedef struct {
    const client_opts *opts;
    const sgx_report_t *report;
    const quote_check *qc;
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
    uint8_t *quote = malloc(w->qc->qsize);
    pthread_barrier_wait(w->start);
    while (quote != NULL && now_s() < w->deadline) {
        double t0 = now_s();
        sgx_status_t s = client_get_quote_ex(w->opts, w->report, &kid, NULL, quote, w->qc->qsize);
        double t1 = now_s();
        if (s == SGX_SUCCESS && memcmp(quote, w->qc->ref, QUOTE_FIXED_PREFIX) != 0)
            s = SGX_ERROR_UNEXPECTED;
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

static int run_point_threads(const client_opts *o, const sgx_report_t *report,
                             const quote_check *qc, int clients, double seconds,
                             point_result *out)
{
    client_worker *w = calloc((size_t)clients, sizeof *w);
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    double *all = NULL;
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
        w[i] = (client_worker){.opts = o, .report = report, .qc = qc,
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

    all = malloc((total ? total : 1) * sizeof *all);
    if (all == NULL)
        goto out;
    size_t k = 0;
    out->errors = 0;
    for (int i = 0; i < clients; i++) {
        if (w[i].n > 0)
            memcpy(all + k, w[i].lat_ms, w[i].n * sizeof *all);
        k += w[i].n;
        out->errors += w[i].errors;
        if (w[i].errors > 0 && out->errors == w[i].errors)
            fprintf(stderr, "bench: %d clients: errors, first %s (0x%04x)\n", clients,
                    sgx_status_name(w[i].first_error), (unsigned)w[i].first_error);
    }
    qsort(all, total, sizeof *all, cmp_double);
    out->completed = total;
    out->qps = (double)total / elapsed;
    out->p50 = loadgen_percentile(all, total, 0.50);
    out->p90 = loadgen_percentile(all, total, 0.90);
    out->p99 = loadgen_percentile(all, total, 0.99);
    rc = total > 0 ? 0 : -1;
out:
    free(all);
    for (int i = 0; w != NULL && i < clients; i++)
        free(w[i].lat_ms);
    free(w);
    free(th);
    return rc;
}

typedef struct {
    const char *socket;
    const uint8_t *frame; /* the prebuilt GetQuoteEx request */
    size_t frame_len;
    const quote_check *qc;
    int lg_threads;
} epoll_setup;

static int run_point_epoll(const epoll_setup *e, int clients, double seconds, point_result *out)
{
    loadgen_config cfg = {
        .socket_path = e->socket,
        .request = e->frame,
        .request_len = e->frame_len,
        .max_response_body = (size_t)e->qc->qsize + RESP_SLACK,
        .check = check_quote_response,
        .check_arg = (void *)(uintptr_t)e->qc,
        .in_flight = clients,
        .threads = e->lg_threads,
        .seconds = seconds,
        .io_timeout_ms = LOADGEN_IO_TIMEOUT_MS,
    };
    loadgen_result r;
    int rc = loadgen_run(&cfg, &r);
    if (rc != LOADGEN_OK) {
        fprintf(stderr, "bench: load generator: %s\n", loadgen_strerror(rc));
        return -1;
    }
    out->completed = r.completed;
    out->errors = r.failed_total;
    out->qps = r.elapsed_s > 0 ? (double)r.completed / r.elapsed_s : 0;
    out->p50 = loadgen_percentile(r.latency_ms, r.completed, 0.50);
    out->p90 = loadgen_percentile(r.latency_ms, r.completed, 0.90);
    out->p99 = loadgen_percentile(r.latency_ms, r.completed, 0.99);
    if (r.failed_total > 0) {
        fprintf(stderr, "bench: %d clients: %zu failed:", clients, r.failed_total);
        for (int f = 0; f < LOADGEN_FAIL_KINDS; f++) {
            if (r.failed[f] > 0)
                fprintf(stderr, " %s=%zu", loadgen_fail_name((loadgen_fail)f), r.failed[f]);
        }
        fprintf(stderr, "\n");
    }
    if (r.connect_retries > 0)
        fprintf(stderr, "bench: %d clients: %zu connects found the accept queue full (retried)\n",
                clients, r.connect_retries);
    loadgen_result_free(&r);
    return out->completed > 0 ? 0 : -1;
}

/* The CPU columns of a point from the snapshots around it. */
static void point_cpu(const cpu_snap *a, const cpu_snap *b, point_result *p)
{
    double wall = b->t - a->t;
    double dd = a->daemon >= 0 && b->daemon >= 0 ? b->daemon - a->daemon : -1;
    double ds = b->self - a->self;
    double q = p->completed > 0 ? (double)p->completed : 1;
    p->daemon_us = dd >= 0 ? dd / q * 1e6 : -1;
    double dm = a->daemon_main >= 0 && b->daemon_main >= 0 ? b->daemon_main - a->daemon_main : -1;
    p->main_us = dm >= 0 ? dm / q * 1e6 : -1;
    p->main_busy = dm >= 0 && wall > 0 ? dm / wall : -1;
    p->loadgen_us = ds / q * 1e6;
    p->other_cpus = p->idle_cpus = -1;
    if (a->have_machine && b->have_machine && wall > 0) {
        double other = (b->busy - a->busy) - ds - (dd >= 0 ? dd : 0);
        p->other_cpus = dd >= 0 ? (other > 0 ? other : 0) / wall : -1;
        p->idle_cpus = (b->idle - a->idle) / wall;
    }
}

/* ---- in-process references ------------------------------------------------- */

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

typedef struct {
    double rate;       /* per second, all threads together; < 0 failed */
    double cpu_us;     /* CPU per operation */
    double other_cpus; /* the rest of the machine meanwhile; < 0 unknown */
} ref_result;

static ref_result run_ref(void *(*fn)(void *), ref_worker proto, int threads, double seconds)
{
    ref_result res = {.rate = -1, .cpu_us = -1, .other_cpus = -1};
    ref_worker *w = calloc((size_t)threads, sizeof *w);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    if (w == NULL || th == NULL) {
        free(w);
        free(th);
        return res;
    }
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    cpu_snap before, after;
    cpu_snapshot(0, &before);
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
    double elapsed = now_s() - t0;
    cpu_snapshot(0, &after);
    double cpu = after.self - before.self;
    if (before.have_machine && after.have_machine && after.t > before.t) {
        double other = (after.busy - before.busy) - cpu;
        res.other_cpus = (other > 0 ? other : 0) / (after.t - before.t);
    }
    pthread_barrier_destroy(&start);
    free(w);
    free(th);
    if (!failed && total > 0) {
        res.rate = (double)total / elapsed;
        res.cpu_us = cpu / (double)total * 1e6;
    }
    return res;
}

static const char *verdict(bool ok)
{
    return ok ? "meets goal" : "BELOW GOAL";
}

/* The GetQuoteEx request frame as Intel's client builds it (aesm §4.4):
 * report, key id, buf_size, timeout; no qe_report_info. */
static int build_quote_frame(const sgx_report_t *report, const sgx_att_key_id_t *kid,
                             uint32_t qsize, uint8_t **frame, size_t *frame_len)
{
    Aesm__Request req = AESM__REQUEST__INIT;
    Aesm__Request__GetQuoteExRequest sub = AESM__REQUEST__GET_QUOTE_EX_REQUEST__INIT;
    sub.has_report = true;
    sub.report.data = (uint8_t *)(uintptr_t)report;
    sub.report.len = sizeof *report;
    sub.has_att_key_id = true;
    sub.att_key_id.data = (uint8_t *)(uintptr_t)kid;
    sub.att_key_id.len = sizeof *kid;
    sub.has_buf_size = true;
    sub.buf_size = qsize;
    sub.has_timeout = true;
    sub.timeout = CLIENT_REQUEST_TIMEOUT_FIELD;
    req.getquoteexreq = &sub;
    return wire_frame_encode(&req.base, frame, frame_len) == WIRE_OK ? 0 : -1;
}

static void print_us(double us)
{
    if (us >= 0)
        printf(" %9.1f", us);
    else
        printf(" %9s", "n/a");
}

static void print_cpus(double cpus)
{
    if (cpus >= 0)
        printf(" %6.2f", cpus);
    else
        printf(" %6s", "n/a");
}

/* Returns -1 to go on, else the exit status (0 for --help, 2 for bad flags). */
static int parse_args(int argc, char **argv, bench_opts *o)
{
    static const struct option lopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"seconds", required_argument, NULL, 't'},
        {"clients", required_argument, NULL, 'c'},
        {"points", required_argument, NULL, 'p'},
        {"clients-mode", required_argument, NULL, 'm'},
        {"loadgen-threads", required_argument, NULL, 'l'},
        {"daemon", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bad = NULL;
    int points = 0, c;
    optind = 1;
    while (bad == NULL && (c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 's':
            o->socket = optarg;
            break;
        case 't':
            o->seconds = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(o->seconds > 0) || o->seconds > 600)
                bad = "--seconds expects 0 < S <= 600";
            break;
        case 'c':
            if (parse_clients(optarg, o) != 0)
                bad = "--clients expects e.g. 1,8,64,256";
            break;
        case 'p':
            if (parse_int(optarg, 1, MAX_POINTS, &points) != 0)
                bad = "--points expects 1..8";
            break;
        case 'm':
            if (strcmp(optarg, "epoll") == 0)
                o->mode = MODE_EPOLL;
            else if (strcmp(optarg, "threads") == 0)
                o->mode = MODE_THREADS;
            else if (strcmp(optarg, "both") == 0)
                o->mode = MODE_BOTH;
            else
                bad = "--clients-mode expects epoll, threads or both";
            break;
        case 'l':
            if (parse_int(optarg, 1, 256, &o->lg_threads) != 0)
                bad = "--loadgen-threads expects 1..256";
            break;
        case 'd':
            o->daemon_path = optarg;
            break;
        case 'j':
            if (parse_int(optarg, 1, 1024, &o->threads) != 0)
                bad = "--threads expects 1..1024";
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (bad == NULL && optind < argc)
        bad = "unexpected argument";
    if (bad != NULL) {
        fprintf(stderr, "sgx-quote bench quote: %s\n", bad);
        usage(stderr);
        return 2;
    }
    _Static_assert(MAX_POINTS == 8, "the --points message says 1..8");
    if (points > 0 && points < o->n_points)
        o->n_points = points;
    return -1;
}

/* The daemon under test: started here on a temporary socket, or the one
 * on --socket (its pid then from SO_PEERCRED, for its CPU time). */
typedef struct {
    bench_daemon d; /* pid 0 when not ours */
    const char *socket;
    pid_t pid;      /* 0: CPU time not visible */
    int workers;    /* 0: unknown */
} daemon_under_test;

static int open_daemon(const bench_opts *o, daemon_under_test *dut)
{
    if (o->socket != NULL) {
        dut->socket = o->socket;
        dut->pid = socket_server_pid(o->socket);
        if (dut->pid > 0 && proc_cpu_s(dut->pid, 0) < 0)
            dut->pid = 0;
        printf("daemon: already running on %s (", o->socket);
        if (dut->pid > 0)
            printf("pid %ld)\n", (long)dut->pid);
        else
            printf("pid or its CPU time not visible: daemon CPU not reported)\n");
        return 0;
    }
    char buf[PATH_MAX];
    const char *path = o->daemon_path != NULL ? o->daemon_path : find_daemon(buf, sizeof buf);
    if (start_daemon(&dut->d, path) != 0)
        return -1;
    dut->socket = dut->d.socket;
    dut->pid = dut->d.pid;
    dut->workers = daemon_workers(&dut->d);
    printf("daemon: %s on %s (pid %ld, ", path, dut->socket, (long)dut->pid);
    if (dut->workers > 0)
        printf("%d workers)\n", dut->workers);
    else
        printf("worker count not in its log)\n");
    return 0;
}

/* What every request of the run sends and expects, made once. */
typedef struct {
    sim_enclave_identity app;
    sgx_att_key_id_t kid;
    sgx_report_t report; /* the app's report for the daemon's QE */
    uint32_t qsize;
    uint8_t *ref_quote;  /* one quote through the client library */
    uint8_t *frame;      /* the GetQuoteEx request */
    size_t frame_len;
} quote_setup;

/* As an application does it: the QE target info (InitQuoteEx), the quote
 * size, a report for that QE; then one quote as the reference. */
static int make_quote_setup(const client_opts *co, quote_setup *q)
{
    sim_enclave_identity_default(&q->app);
    client_default_ecdsa_key_id(&q->kid);
    sgx_target_info_t qe_ti;
    size_t pk_size = 32;
    uint8_t pkid[32];
    sgx_status_t s = client_init_quote_ex(co, &q->kid, &qe_ti, &pk_size, pkid);
    if (s == SGX_SUCCESS)
        s = client_get_quote_size_ex(co, &q->kid, &q->qsize);
    if (s == SGX_SUCCESS && q->qsize < QUOTE_FIXED_PREFIX)
        s = SGX_ERROR_UNEXPECTED;
    if (s == SGX_SUCCESS && sim_ereport(&q->app, &qe_ti, &q->report) != SIM_OK)
        s = SGX_ERROR_UNEXPECTED;
    if (s == SGX_SUCCESS && (q->ref_quote = malloc(q->qsize)) == NULL)
        s = SGX_ERROR_OUT_OF_MEMORY;
    if (s == SGX_SUCCESS)
        s = client_get_quote_ex(co, &q->report, &q->kid, NULL, q->ref_quote, q->qsize);
    if (s == SGX_SUCCESS && client_quote_length(q->ref_quote, q->qsize) == 0)
        s = SGX_ERROR_UNEXPECTED;
    if (s != SGX_SUCCESS) {
        fprintf(stderr, "bench: the daemon refused the set-up calls: %s\n", sgx_status_name(s));
        return -1;
    }
    if (build_quote_frame(&q->report, &q->kid, q->qsize, &q->frame, &q->frame_len) != 0) {
        fprintf(stderr, "bench: cannot encode the GetQuoteEx request\n");
        return -1;
    }
    return 0;
}

static void print_table_head(const bench_opts *o, clients_mode mode, const quote_setup *q,
                             int cpus)
{
    if (mode == MODE_EPOLL)
        printf("load generator: epoll, %d thread(s), the client count = requests in flight; "
               "one %zu-byte GetQuoteEx frame per fresh connection\n",
               o->lg_threads, q->frame_len);
    else
        printf("load generator: one thread per client, each a blocking client_get_quote_ex "
               "(libsgx_quote_ex's code) per fresh connection\n");
    printf("quote size %u bytes (%zu used), %.1f s per point; the load generator and the "
           "daemon share the %d CPU(s)\n\n",
           q->qsize, client_quote_length(q->ref_quote, q->qsize), o->seconds, cpus);
    printf("%8s %10s %9s %9s %9s %7s %9s %9s %6s %6s\n", "", "", "", "", "", "", "daemon",
           "loadgen", "other", "idle");
    printf("%8s %10s %9s %9s %9s %7s %9s %9s %6s %6s\n", "clients", "quotes/s", "p50 ms",
           "p90 ms", "p99 ms", "errors", "CPU us/q", "CPU us/q", "CPUs", "CPUs");
}

static void print_row(const point_result *p)
{
    printf("%8d %10.0f %9.3f %9.3f %9.3f %7zu", p->clients, p->qps, p->p50, p->p90, p->p99,
           p->errors);
    print_us(p->daemon_us);
    print_us(p->loadgen_us);
    print_cpus(p->other_cpus);
    print_cpus(p->idle_cpus);
    printf("\n");
    fflush(stdout);
}

/* Every client count in turn, with the CPU snapshots around each. */
static int measure_points(const bench_opts *o, clients_mode mode, const daemon_under_test *dut,
                          const client_opts *co, const quote_setup *q, point_result *res)
{
    quote_check qc = {.qsize = q->qsize, .ref = q->ref_quote};
    epoll_setup es = {.socket = dut->socket, .frame = q->frame, .frame_len = q->frame_len,
                      .qc = &qc, .lg_threads = o->lg_threads};
    for (int i = 0; i < o->n_points; i++) {
        cpu_snap before, after;
        memset(&res[i], 0, sizeof res[i]);
        res[i].clients = o->clients[i];
        cpu_snapshot(dut->pid, &before);
        int rc = mode == MODE_EPOLL
                     ? run_point_epoll(&es, o->clients[i], o->seconds, &res[i])
                     : run_point_threads(co, &q->report, &qc, o->clients[i], o->seconds,
                                         &res[i]);
        cpu_snapshot(dut->pid, &after);
        if (rc != 0) {
            fprintf(stderr, "bench: no quote succeeded at %d clients\n", o->clients[i]);
            return -1;
        }
        point_cpu(&before, &after, &res[i]);
        print_row(&res[i]);
    }
    printf("(CPU us/q: CPU time, user + system, per good quote: the daemon process from "
           "/proc/PID/stat, the load generator from getrusage; other/idle CPUs: the rest of "
           "the machine busy / idle during the point, from /proc/stat)\n");
    return 0;
}

typedef struct {
    ref_result sign1, signN, inproc1, inprocN;
} references;

/* The other load during the two runs of a reference, like the table's
 * "other CPUs" column: a busy machine depresses the rate. */
static void print_other(const ref_result *one, const ref_result *all)
{
    if (one->other_cpus >= 0 && all->other_cpus >= 0)
        printf(" (other load %.2f / %.2f CPUs)", one->other_cpus, all->other_cpus);
    printf("\n");
}

/* Signing and in-process quoting, on one thread and on o->threads. The
 * in-process platform is the daemon's own (same seed, same quote) when the
 * daemon is ours. */
static int measure_references(const bench_opts *o, const daemon_under_test *dut,
                              const quote_setup *q, references *r)
{
    crypto_p256_key *key = NULL;
    sim_platform *plat = NULL;
    char ref_dir[128] = "";
    int rc = -1;
    if (crypto_p256_generate(&key) != 0)
        goto out;
    ref_worker proto = {.key = key};
    r->sign1 = run_ref(sign_loop, proto, 1, o->seconds);
    r->signN = run_ref(sign_loop, proto, o->threads, o->seconds);

    sim_options so;
    memset(&so, 0, sizeof so);
    if (dut->d.state_dir[0] != '\0') {
        so.state_dir = dut->d.state_dir;
    } else {
        snprintf(ref_dir, sizeof ref_dir, "/tmp/sqh-bench-ref-XXXXXX");
        if (mkdtemp(ref_dir) == NULL) {
            ref_dir[0] = '\0';
            goto out;
        }
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
    if (sim_ereport(&q->app, &local_ti, &local_report) != SIM_OK)
        goto out;
    ref_worker iproto = {.plat = plat, .report = &local_report, .qsize = sim_quote_size(plat)};
    r->inproc1 = run_ref(inproc_loop, iproto, 1, o->seconds);
    r->inprocN = run_ref(inproc_loop, iproto, o->threads, o->seconds);
    if (r->sign1.rate <= 0 || r->signN.rate <= 0 || r->inproc1.rate <= 0 ||
        r->inprocN.rate <= 0) {
        fprintf(stderr, "bench: a reference loop failed\n");
        goto out;
    }
    printf("\nP-256 signing (crypto_p256_sign over 432 bytes): %.0f/s on 1 thread, %.0f/s on "
           "%d; CPU %.1f us each",
           r->sign1.rate, r->signN.rate, o->threads, r->signN.cpu_us);
    print_other(&r->sign1, &r->signN);
    printf("in-process quotes (sim_get_quote):                %.0f/s on 1 thread, %.0f/s on "
           "%d; CPU %.1f us each",
           r->inproc1.rate, r->inprocN.rate, o->threads, r->inprocN.cpu_us);
    print_other(&r->inproc1, &r->inprocN);
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
    return rc;
}

/* The goal ratios at 64 clients (or, without that point, the same ratios
 * at the last point, without a verdict), then where the CPU went. */
static void print_goals(const bench_opts *o, clients_mode mode, const daemon_under_test *dut,
                        int cpus, const point_result *res, const references *r)
{
    int goal_idx = -1;
    for (int i = 0; i < o->n_points; i++) {
        if (res[i].clients == GOAL_CLIENTS)
            goal_idx = i;
    }
    bool at_goal = goal_idx >= 0;
    const point_result *p = &res[at_goal ? goal_idx : o->n_points - 1];
    double r1 = p->qps / r->signN.rate, r3 = p->qps / r->inprocN.rate;
    bool ok[3] = {r1 >= GOAL_TPUT_VS_SIGN, p->p99 <= GOAL_P99_MS, r3 >= GOAL_OOP_VS_INPROC};
    const char *lg = mode == MODE_EPOLL ? "epoll" : "one thread per client";
    const char *label = o->mode == MODE_BOTH ? lg : NULL;
    if (at_goal)
        printf("\ngoals at %d clients", GOAL_CLIENTS);
    else
        printf("\nratios at %d client(s) (the goals are set at %d clients, not measured: no "
               "verdict)",
               p->clients, GOAL_CLIENTS);
    if (label != NULL)
        printf(", load generator %s", label);
    printf(":\n");
    printf("  throughput / signing rate    %.2f  (goal >= %.1f)  %s\n", r1, GOAL_TPUT_VS_SIGN,
           at_goal ? verdict(ok[0]) : "n/a");
    printf("  p99 latency                  %.3f ms (goal <= %.1f ms)  %s\n", p->p99,
           GOAL_P99_MS, at_goal ? verdict(ok[1]) : "n/a");
    printf("  out-of-process / in-process  %.2f  (goal >= %.1f)  %s\n", r3, GOAL_OOP_VS_INPROC,
           at_goal ? verdict(ok[2]) : "n/a");
    printf("  (both rates are the %d-thread ones, the parallelism the daemon has: ", o->threads);
    if (dut->workers > 0)
        printf("its %d workers run", dut->workers);
    else
        printf("its worker pool runs");
    printf(" on the same %d CPU(s); against the 1-thread rates: %.2f and %.2f)\n", cpus,
           p->qps / r->sign1.rate, p->qps / r->inproc1.rate);
    if (at_goal) {
        static const char *const name[3] = {"throughput", "p99 latency", "out-of-process"};
        printf("  goals met: %d of 3:", ok[0] + ok[1] + ok[2]);
        for (int i = 0; i < 3; i++)
            printf("%s %s %s", i ? ";" : "", name[i], ok[i] ? "met" : "NOT met");
        printf("\n");
    }

    printf("\nwhere the CPU goes at %d client(s), per quote:\n", p->clients);
    if (p->daemon_us >= 0)
        printf("  daemon          %6.1f us  = %.2f x an in-process quote (%.1f us); a P-256 "
               "signature: %.1f us\n",
               p->daemon_us, p->daemon_us / r->inprocN.cpu_us, r->inprocN.cpu_us,
               r->signN.cpu_us);
    else
        printf("  daemon             n/a\n");
    if (p->main_us >= 0)
        printf("    its main thread %6.1f us  (the event loop: accept, read, write, close, log; "
               "busy %.0f%% of one CPU), the rest in its other threads (the worker pool)\n",
               p->main_us, p->main_busy * 100);
    printf("  load generator  %6.1f us  (%s), on the same CPUs as the daemon\n", p->loadgen_us,
           lg);
    if (at_goal && p->daemon_us > 0) {
        double ceiling = (double)cpus / (p->daemon_us / 1e6);
        printf("  estimate, not a measurement: with all %d CPU(s) to itself the daemon could do "
               "at most %.0f quotes/s (%.2f x signing, %.2f x in-process)\n",
               cpus, ceiling, ceiling / r->signN.rate, ceiling / r->inprocN.rate);
    }
}

/* Up to 4096 connections in flight need as many descriptors: raise the
 * soft limit to the hard one. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int bench_quote_main(int argc, char **argv)
{
    int cpus = usable_cpus();
    bench_opts o = {.seconds = 2.0, .clients = {1, 8, 64, 256}, .n_points = 4,
                    .mode = MODE_EPOLL, .lg_threads = 1, .threads = cpus};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    rc = 1;
    daemon_under_test dut;
    quote_setup q;
    memset(&dut, 0, sizeof dut);
    memset(&q, 0, sizeof q);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();

    char model[128];
    struct utsname un;
    cpu_model(model, sizeof model);
    if (uname(&un) != 0)
        memset(&un, 0, sizeof un);
    printf("machine: %d CPU(s) usable (%ld online), %s, %s %s %s\n", cpus,
           sysconf(_SC_NPROCESSORS_ONLN), model, un.sysname, un.release, un.machine);
    if (open_daemon(&o, &dut) != 0)
        goto out;
    client_opts co;
    client_opts_default(&co);
    co.socket_path = dut.socket;
    co.connect_retry_ms = 2000;
    if (make_quote_setup(&co, &q) != 0)
        goto out;

    clients_mode modes[2] = {o.mode, o.mode};
    int n_modes = 1;
    if (o.mode == MODE_BOTH) {
        modes[0] = MODE_THREADS;
        modes[1] = MODE_EPOLL;
        n_modes = 2;
    }
    point_result res[2][MAX_POINTS];
    for (int m = 0; m < n_modes; m++) {
        if (m > 0)
            printf("\n");
        print_table_head(&o, modes[m], &q, cpus);
        if (measure_points(&o, modes[m], &dut, &co, &q, res[m]) != 0)
            goto out;
    }
    references refs;
    if (measure_references(&o, &dut, &q, &refs) != 0)
        goto out;
    for (int m = 0; m < n_modes; m++)
        print_goals(&o, modes[m], &dut, cpus, res[m], &refs);
    rc = 0;
out:
    free(q.frame);
    free(q.ref_quote);
    stop_daemon(&dut.d);
    return rc;
}
