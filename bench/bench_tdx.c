/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote bench quote --tdx`: quotes/s and latency of the daemon's TDX
 * QGS path (framed GetQuote, and the raw form) side by side with its AESM
 * path (GetQuoteSizeEx + GetQuoteEx, as libsgx_dcap_ql does), in one run
 * on one daemon, closed loop, at a few client counts. Without sockets it
 * starts sgx-quote-helperd itself on temporary sockets and makes the
 * simulated TDREPORT and enclave REPORT for that daemon's platform.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "qgs/qgs_client.h"
#include "sim/sim.h"
#include "src/cli/cli.h"

#define TDX_BENCH_MAX_SAMPLES 200000u
#define TDX_BENCH_MAX_CLIENTS 64

typedef enum { PATH_QGS, PATH_QGS_RAW, PATH_AESM } bench_path;

typedef struct {
    bench_path path;
    const char *qgs_socket, *aesm_socket;
    const uint8_t *tdreport;
    const sgx_report_t *report;
    double until;
    double *lat;      /* seconds, per request */
    size_t n;
    size_t failures;
} bench_worker;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker_loop(void *arg)
{
    bench_worker *w = arg;
    char err[256];
    while (mono_s() < w->until && w->n < TDX_BENCH_MAX_SAMPLES) {
        uint8_t *q = NULL;
        size_t ql = 0;
        double t0 = mono_s();
        int rc;
        if (w->path == PATH_AESM)
            rc = cli_remote_quote(w->aesm_socket, w->report, NULL, &q, &ql, err, sizeof err);
        else
            rc = qgs_client_get_quote(w->qgs_socket, w->tdreport, 1024, w->path == PATH_QGS_RAW,
                                      QGS_CLIENT_TIMEOUT_MS, &q, &ql, err, sizeof err);
        double t1 = mono_s();
        free(q);
        if (rc != 0) {
            w->failures++;
            continue;
        }
        w->lat[w->n++] = t1 - t0;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run_point(bench_path path, int clients, double seconds, const bench_worker *proto)
{
    static const char *const NAMES[] = {"qgs framed", "qgs raw", "aesm"};
    bench_worker ws[TDX_BENCH_MAX_CLIENTS];
    pthread_t th[TDX_BENCH_MAX_CLIENTS];
    double start = mono_s();
    for (int i = 0; i < clients; i++) {
        ws[i] = *proto;
        ws[i].path = path;
        ws[i].until = start + seconds;
        ws[i].lat = malloc(TDX_BENCH_MAX_SAMPLES * sizeof(double));
        if (ws[i].lat == NULL || pthread_create(&th[i], NULL, worker_loop, &ws[i]) != 0) {
            fprintf(stderr, "bench: cannot start client %d\n", i);
            exit(1);
        }
    }
    size_t total = 0, failures = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        total += ws[i].n;
        failures += ws[i].failures;
    }
    double elapsed = mono_s() - start;
    double *all = malloc((total + 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < clients && all != NULL; i++) {
        memcpy(all + k, ws[i].lat, ws[i].n * sizeof(double));
        k += ws[i].n;
    }
    for (int i = 0; i < clients; i++)
        free(ws[i].lat);
    if (all == NULL || total == 0) {
        printf("  %-11s %3d clients: no successful quote (%zu failures)\n", NAMES[path], clients,
               failures);
        free(all);
        return;
    }
    qsort(all, total, sizeof(double), cmp_double);
    printf("  %-11s %3d clients: %8.1f quotes/s  p50 %7.2f ms  p99 %7.2f ms%s\n", NAMES[path],
           clients, (double)total / elapsed, all[total / 2] * 1e3,
           all[(size_t)((double)(total - 1) * 0.99)] * 1e3, failures ? "  (failures!)" : "");
    free(all);
}

static int find_daemon(char *buf, size_t cap)
{
    char self[PATH_MAX - 64]; /* room for the suffixes below */
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(buf, cap, "%s/../daemon/sgx-quote-helperd", self);
            if (access(buf, X_OK) == 0)
                return 0;
            snprintf(buf, cap, "%s/sgx-quote-helperd", self);
            if (access(buf, X_OK) == 0)
                return 0;
        }
    }
    snprintf(buf, cap, "sgx-quote-helperd");
    return 0;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: sgx-quote bench quote --tdx [--seconds S] [--clients 1,8]\n"
                "  Starts sgx-quote-helperd (simulated backend) on temporary AESM and QGS\n"
                "  sockets and measures, one after the other, the QGS path (framed GetQuote),\n"
                "  the raw form and the AESM path (GetQuoteSizeEx + GetQuoteEx) with the same\n"
                "  number of closed-loop clients. --seconds per point (default 2).\n");
}

int bench_tdx_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tdx", no_argument, NULL, 't'},
        {"seconds", required_argument, NULL, 's'},
        {"clients", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double seconds = 2;
    int clients[8] = {1, 8}, nclients = 2, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't': break;
        case 's':
            seconds = atof(optarg);
            if (!(seconds > 0 && seconds <= 600)) {
                fprintf(stderr, "bench: --seconds expects 0 < S <= 600\n");
                return 2;
            }
            break;
        case 'c': {
            nclients = 0;
            char *save = NULL, *copy = strdup(optarg);
            for (char *t = strtok_r(copy, ",", &save); t != NULL && nclients < 8;
                 t = strtok_r(NULL, ",", &save)) {
                int v = atoi(t);
                if (v < 1 || v > TDX_BENCH_MAX_CLIENTS) {
                    fprintf(stderr, "bench: --clients values are 1..%d\n", TDX_BENCH_MAX_CLIENTS);
                    free(copy);
                    return 2;
                }
                clients[nclients++] = v;
            }
            free(copy);
            if (nclients == 0)
                return 2;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    char dir[] = "/tmp/sqh-bench-tdx-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char aesm[128], qgs[128], state[128], log[128], daemon[PATH_MAX];
    snprintf(aesm, sizeof aesm, "%s/aesm.socket", dir);
    snprintf(qgs, sizeof qgs, "%s/qgs.socket", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    snprintf(log, sizeof log, "%s/daemon.log", dir);
    find_daemon(daemon, sizeof daemon);
    int rc = 1;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (freopen(log, "w", stderr) == NULL)
            _exit(127);
        execlp(daemon, daemon, "--socket", aesm, "--qgs-socket", qgs, "--state-dir", state,
               "--init-seed", "--instance", "bench", (char *)NULL);
        _exit(127);
    }
    /* The daemon's platform, in this process, for the reports. */
    sim_platform *p = NULL;
    sgx_target_info_t ti;
    sgx_report_t report;
    uint8_t tdreport[1024];
    char err[512] = "";
    for (int i = 0; i < 200 && access(qgs, F_OK) != 0; i++)
        usleep(50000);
    sim_options o;
    memset(&o, 0, sizeof o);
    o.state_dir = state;
    o.instance = "bench";
    o.seed_must_exist = true;
    sim_tcb_config_default(&o.tcb);
    if (access(qgs, F_OK) != 0 || sim_platform_open(&o, &p, err, sizeof err) != SIM_OK ||
        cli_remote_target_info(aesm, &ti, err, sizeof err) != 0) {
        fprintf(stderr, "bench: the daemon (%s) did not come up: %s; see %s\n", daemon, err, log);
        goto out;
    }
    sim_td_identity tid;
    sim_td_identity_default(&tid);
    sim_enclave_identity eid;
    sim_enclave_identity_default(&eid);
    if (sim_td_report(p, &tid, tdreport) != SIM_OK || sim_ereport(&eid, &ti, &report) != SIM_OK) {
        fprintf(stderr, "bench: cannot make the reports\n");
        goto out;
    }
    bench_worker proto = {.qgs_socket = qgs, .aesm_socket = aesm, .tdreport = tdreport,
                          .report = &report};
    printf("TDX QGS vs AESM through one sgx-quote-helperd (simulated backend), %.1f s per point\n",
           seconds);
    for (int i = 0; i < nclients; i++) {
        run_point(PATH_QGS, clients[i], seconds, &proto);
        run_point(PATH_QGS_RAW, clients[i], seconds, &proto);
        run_point(PATH_AESM, clients[i], seconds, &proto);
    }
    printf("(aesm: two connections per quote, GetQuoteSizeEx then GetQuoteEx, as "
           "libsgx_dcap_ql makes them; TD guests behind configfs-tsm see >= 1 s per quote "
           "whatever these numbers are: docs/tdx.md)\n");
    rc = 0;
out:
    sim_platform_close(p);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", dir);
    return rc;
}
