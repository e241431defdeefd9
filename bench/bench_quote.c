/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote bench quote`: what the daemon costs. In one run, on this
 * machine: quotes/s and latency percentiles through the socket at 1, 8, 64
 * and 256 concurrent clients (each quote a fresh connection, as real
 * clients do, aesm §1.3), with the CPU time the daemon (per thread name)
 * and the load generator (bench/loadgen.c, or one thread per client) spend
 * per quote and the daemon's memory (RSS at start, peak, end; --soak N for
 * growth over N requests); the raw P-256 signing rate and the in-process
 * sim_get_quote rate on one thread and on all CPUs. Then issue 14's goals
 * (bench/bench_goal.h), as a table or, with --json, one JSON document.
 * Ratios from one run are what matter: absolute numbers on a shared
 * machine are noise.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT, struct ucred */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
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

#include <jansson.h>

#include "bench/bench.h"
#include "bench/bench_goal.h"
#include "bench/floor.h"
#include "bench/loadgen.h"
#include "client/client.h"
#include "crypto/crypto.h"
#include "sim/sim.h"
#include "wire/wire.h"

#define MAX_POINTS 8
/* Issue 14's goals ("Performance"), all judged in one run. */
#define GOAL_CLIENTS 64
#define GOAL_DAEMON_VS_INPROC_CPU 1.4 /* daemon CPU per quote / in-process quote CPU */
#define GOAL_CEILING_VS_SIGN 0.7      /* all-CPU ceiling estimate / all-CPU signing rate */
#define GOAL_P99_MS_AT_64 2.0
#define GOAL_P99_MS_AT_1 0.2
#define GOAL_IDLE_RSS_KIB 8192 /* 8 MiB */
/* RSS growth a soak may show after its warm-up. A leak is at least one
 * malloc chunk (32 bytes with glibc) per leaking request: over the 900 000
 * requests after a million-request soak's warm-up that is 27 MiB, far
 * above this; what stays below it is page-granular allocator noise (a
 * few arenas trimming or not). */
#define GOAL_SOAK_GROWTH_KIB 1024
/* The soak runs at the goals' concurrency, in this many equal parts: the
 * first is the warm-up (the daemon's first burst at 64 clients legitimately
 * grows its heap once), RSS is sampled after each. */
#define SOAK_CLIENTS GOAL_CLIENTS
#define SOAK_PARTS 10
#define SOAK_MIN 1000
#define SOAK_MAX 1000000000L
/* A soak part is bounded by its request count; this only stops a stuck
 * daemon from holding the bench forever. */
#define SOAK_PART_MAX_SECONDS 3600.0

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
/* How long a daemon the bench starts may take to answer its first call. */
#define DAEMON_START_TIMEOUT_MS 20000

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
    bool json;      /* one JSON document on stdout instead of the tables */
    long soak;      /* requests of the soak at SOAK_CLIENTS; 0: no soak */
    bool floor;     /* also measure the floor server (bench/floor.h) */
} bench_opts;

/* With --json stdout carries only the document: every line for people
 * goes through say(), which is silent then. One flag for the whole
 * command, set once by bench_quote_main before anything is printed. */
static bool g_quiet;

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    if (g_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

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
            "                             [--soak N] [--floor] [--json]\n"
            "  Without --socket, starts sgx-quote-helperd on a temporary socket (found next\n"
            "  to sgx-quote, in the build tree, or on PATH; or --daemon PATH) with its\n"
            "  default flags, and stops it afterwards. --seconds is per measurement point\n"
            "  (default 2). --points N measures only the first N client counts.\n"
            "  --clients-mode: epoll (default) keeps the requests in flight from\n"
            "  --loadgen-threads event loops (default 1); threads runs one blocking client\n"
            "  thread per concurrent client, through the same client code as\n"
            "  libsgx_quote_ex; both measures the table each way in this run.\n"
            "  --threads sets the threads of the all-CPU signing and in-process rates\n"
            "  (default: the CPUs this process may use, which the daemon inherits).\n"
            "  --soak N (%d..%ld) then sends N more requests at %d clients and reports\n"
            "  the daemon's RSS before, after the first tenth (warm-up) and at the end.\n"
            "  --floor also measures, at the same client counts with the epoll load\n"
            "  generator, a server that only accepts, reads, writes a cached reply and\n"
            "  closes, and prints the bounds its cost puts on any server on this machine.\n"
            "  --json prints one JSON document (rows, references, daemon_rss_kib, soak,\n"
            "  floor, goals) instead of the tables.\n",
            SOAK_MIN, SOAK_MAX, SOAK_CLIENTS);
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

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    long v = 0;
    if (parse_long(s, lo, hi, &v) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* ---- CPU and memory accounting -------------------------------------------- */

/* CPUs a process may run on (0: this one; the daemon it starts inherits
 * the mask). */
static int usable_cpus(pid_t pid)
{
    cpu_set_t set;
    if (sched_getaffinity(pid, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
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
 * threads, also those that have exited; tid 0) or of one of its threads,
 * and the command name (field 2, which may hold spaces and ')'; at most 15
 * bytes, the kernel's TASK_COMM_LEN) into comm when not NULL. -1 when
 * unreadable. */
static double proc_stat_cpu_s(pid_t pid, pid_t tid, char *comm, size_t comm_cap)
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
    const char *open = strchr(buf, '(');
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    /* After ')': fields 3 (state) .. 13, then utime, stime. */
    if (open == NULL || p == NULL || p < open ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    if (comm != NULL && comm_cap > 0) {
        size_t len = (size_t)(p - open - 1);
        if (len >= comm_cap)
            len = comm_cap - 1;
        memcpy(comm, open + 1, len);
        comm[len] = '\0';
    }
    return ticks_to_s(ut + st);
}

static double proc_cpu_s(pid_t pid)
{
    return proc_stat_cpu_s(pid, 0, NULL, 0);
}

/* VmRSS and VmHWM (its peak since the process started) from
 * /proc/PID/status, in KiB; -1 each when unreadable. */
static void proc_rss_kib(pid_t pid, long *rss, long *hwm)
{
    *rss = *hwm = -1;
    if (pid <= 0)
        return;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        long v = 0;
        if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
            *rss = v;
        else if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
            *hwm = v;
    }
    fclose(f);
}

/* The daemon's RSS over the run: start is idle (after the reference
 * quote, before any load), peak the largest VmHWM or sampled VmRSS, end
 * after the last request. */
typedef struct {
    long start, peak, end; /* KiB; -1 unknown */
} rss_track;

/* Samples VmRSS now, raises the peak; returns VmRSS (-1 unknown). */
static long rss_sample(pid_t pid, rss_track *t)
{
    long rss, hwm;
    proc_rss_kib(pid, &rss, &hwm);
    if (rss > t->peak)
        t->peak = rss;
    if (hwm > t->peak)
        t->peak = hwm;
    return rss;
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

/* The daemon's threads by name. The split says nothing about how the
 * daemon is built (one loop and a pool, or several loops): whatever
 * threads it has, their names (/proc/PID/task/TID/stat field 2, set with
 * PR_SET_NAME or else the program's) and the main thread (tid == pid) are
 * what the bench reports. More threads than this are left out of the
 * split (never of the process total). */
#define MAX_TASKS 512
#define COMM_CAP 16 /* TASK_COMM_LEN */

typedef struct {
    pid_t tid;
    char comm[COMM_CAP];
    double cpu;
} task_cpu;

typedef struct {
    int n;
    task_cpu t[MAX_TASKS];
} task_snap;

static void task_snapshot(pid_t pid, task_snap *s)
{
    s->n = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *e;
    while (s->n < MAX_TASKS && (e = readdir(d)) != NULL) {
        char *end = NULL;
        long tid = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || tid <= 0)
            continue;
        task_cpu *t = &s->t[s->n];
        t->tid = (pid_t)tid;
        t->cpu = proc_stat_cpu_s(pid, t->tid, t->comm, sizeof t->comm);
        if (t->cpu >= 0)
            s->n++;
    }
    closedir(d);
}

typedef struct {
    double t, daemon, self, busy, idle;
    bool have_machine;
    task_snap *tasks; /* NULL: not taken */
} cpu_snap;

static void cpu_snapshot(pid_t daemon_pid, cpu_snap *s)
{
    s->have_machine = machine_cpu_s(&s->busy, &s->idle) == 0;
    s->daemon = daemon_pid > 0 ? proc_cpu_s(daemon_pid) : -1;
    if (s->tasks != NULL) {
        s->tasks->n = 0;
        if (daemon_pid > 0)
            task_snapshot(daemon_pid, s->tasks);
    }
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
    double start_ms; /* from fork to its first answer */
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

/* Waits for the daemon's first answer (GetSupportedAttKeyIDNum), trying
 * once a millisecond so the start time is not the client's back-off; -1
 * if it exits or stays silent for DAEMON_START_TIMEOUT_MS. */
static int wait_daemon_up(bench_daemon *d, const char *path, const char *log, double t_fork)
{
    client_opts o;
    client_opts_default(&o);
    o.socket_path = d->socket;
    o.connect_retry_ms = 0; /* one connect() per try */
    for (;;) {
        uint32_t num = 0;
        if (client_get_supported_att_key_id_num(&o, &num) == SGX_SUCCESS && num > 0) {
            d->start_ms = (now_s() - t_fork) * 1000.0;
            return 0;
        }
        int st = 0;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            fprintf(stderr, "bench: the daemon (%s) exited (%s %d) before answering; see %s\n",
                    path, WIFEXITED(st) ? "status" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), log);
            d->pid = 0;
            return -1;
        }
        if ((now_s() - t_fork) * 1000.0 > DAEMON_START_TIMEOUT_MS) {
            fprintf(stderr, "bench: the daemon (%s) did not answer within %d ms; see %s\n", path,
                    DAEMON_START_TIMEOUT_MS, log);
            return -1;
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 1000000};
        nanosleep(&ts, NULL);
    }
}

/* As in production: the daemon's default flags, plus only what a fresh
 * temporary state needs (its socket, its state dir, --init-seed to create
 * the simulated seed there). Its stdout and stderr go to a log file, so
 * they can never mix with --json on our stdout. */
static int start_daemon(bench_daemon *d, const char *path)
{
    snprintf(d->dir, sizeof d->dir, "/tmp/sqh-bench-XXXXXX");
    if (mkdtemp(d->dir) == NULL) {
        fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
        d->dir[0] = '\0';
        return -1;
    }
    snprintf(d->socket, sizeof d->socket, "%s/aesm.socket", d->dir);
    snprintf(d->state_dir, sizeof d->state_dir, "%s/state", d->dir);
    char log[256];
    snprintf(log, sizeof log, "%s/daemon.log", d->dir);
    fflush(stdout);
    double t_fork = now_s();
    d->pid = fork();
    if (d->pid < 0) {
        d->pid = 0;
        fprintf(stderr, "bench: fork: %s\n", strerror(errno));
        return -1;
    }
    if (d->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the benchmark */
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            if (fd > STDERR_FILENO)
                close(fd);
        }
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            if (null > STDERR_FILENO)
                close(null);
        }
        execlp(path, path, "--socket", d->socket, "--state-dir", d->state_dir, "--init-seed",
               (char *)NULL);
        fprintf(stderr, "bench: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    return wait_daemon_up(d, path, log, t_fork);
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

/* CPU of the daemon's threads sharing one name (and the main thread, tid
 * == pid, on its own) during one point. */
#define MAX_GROUPS 16

typedef struct {
    char name[COMM_CAP];
    bool main;
    int threads;
    double cpu_s;
    double cpu_us;    /* per good quote */
    double busy_cpus; /* CPU-seconds per second of the point */
} thread_group;

typedef struct {
    int clients;
    double qps, p50, p90, p99;
    size_t completed, errors;
    double daemon_us;   /* daemon CPU per quote; < 0 unknown */
    double loadgen_us;  /* this process's CPU per quote */
    double other_cpus;  /* CPUs busy outside the daemon and this process; < 0 unknown */
    double idle_cpus;   /* CPUs idle during the point; < 0 unknown */
    double seconds;     /* wall time of the point */
    long rss_kib;       /* the daemon's VmRSS after the point; < 0 unknown */
    thread_group groups[MAX_GROUPS];
    int n_groups;       /* 0: the daemon's threads not visible */
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

/* max_requests: 0 runs for `seconds`; else stops after that many. */
static int run_point_epoll(const epoll_setup *e, int clients, double seconds,
                           size_t max_requests, point_result *out)
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
        .max_requests = max_requests,
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

static thread_group *group_for(point_result *p, const task_cpu *t, bool main)
{
    for (int i = 0; i < p->n_groups; i++) {
        if (p->groups[i].main == main && strcmp(p->groups[i].name, t->comm) == 0)
            return &p->groups[i];
    }
    if (p->n_groups == MAX_GROUPS)
        return NULL;
    thread_group *g = &p->groups[p->n_groups++];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", t->comm);
    g->main = main;
    return g;
}

/* Each thread's CPU between the snapshots (a thread born during the point
 * from zero; one that ended is only in the process total), summed by
 * name; the main thread first, then the busiest. */
static void thread_groups(const cpu_snap *a, const cpu_snap *b, pid_t pid, point_result *p)
{
    p->n_groups = 0;
    if (a->tasks == NULL || b->tasks == NULL)
        return;
    for (int i = 0; i < b->tasks->n; i++) {
        const task_cpu *t = &b->tasks->t[i];
        double before = 0;
        for (int j = 0; j < a->tasks->n; j++) {
            if (a->tasks->t[j].tid == t->tid)
                before = a->tasks->t[j].cpu;
        }
        thread_group *g = group_for(p, t, t->tid == pid);
        if (g == NULL)
            continue;
        g->threads++;
        g->cpu_s += t->cpu > before ? t->cpu - before : 0;
    }
    double wall = b->t - a->t;
    double q = p->completed > 0 ? (double)p->completed : 1;
    for (int i = 0; i < p->n_groups; i++) {
        p->groups[i].cpu_us = p->groups[i].cpu_s / q * 1e6;
        p->groups[i].busy_cpus = wall > 0 ? p->groups[i].cpu_s / wall : 0;
    }
    for (int i = 1; i < p->n_groups; i++) { /* insertion sort: a handful of groups */
        thread_group g = p->groups[i];
        int j = i;
        while (j > 0 && !p->groups[j - 1].main &&
               (g.main || p->groups[j - 1].cpu_s < g.cpu_s)) {
            p->groups[j] = p->groups[j - 1];
            j--;
        }
        p->groups[j] = g;
    }
}

/* The CPU columns of a point from the snapshots around it. */
static void point_cpu(const cpu_snap *a, const cpu_snap *b, pid_t pid, point_result *p)
{
    double wall = b->t - a->t;
    double dd = a->daemon >= 0 && b->daemon >= 0 ? b->daemon - a->daemon : -1;
    double ds = b->self - a->self;
    double q = p->completed > 0 ? (double)p->completed : 1;
    p->seconds = wall;
    p->daemon_us = dd >= 0 ? dd / q * 1e6 : -1;
    p->loadgen_us = ds / q * 1e6;
    p->other_cpus = p->idle_cpus = -1;
    if (a->have_machine && b->have_machine && wall > 0) {
        double other = (b->busy - a->busy) - ds - (dd >= 0 ? dd : 0);
        p->other_cpus = dd >= 0 ? (other > 0 ? other : 0) / wall : -1;
        p->idle_cpus = (b->idle - a->idle) / wall;
    }
    if (dd >= 0)
        thread_groups(a, b, pid, p);
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
    cpu_snap before = {0}, after = {0}; /* no per-thread split */
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

static void print_us(double us)
{
    if (us >= 0)
        say(" %9.1f", us);
    else
        say(" %9s", "n/a");
}

static void print_cpus(double cpus)
{
    if (cpus >= 0)
        say(" %6.2f", cpus);
    else
        say(" %6s", "n/a");
}

/* "12345 KiB" or "n/a KiB" inside a sentence. */
static const char *kib_text(long kib, char *buf, size_t cap)
{
    if (kib >= 0)
        snprintf(buf, cap, "%ld KiB", kib);
    else
        snprintf(buf, cap, "n/a KiB");
    return buf;
}

static void print_kib(long kib)
{
    if (kib >= 0)
        say(" %9ld", kib);
    else
        say(" %9s", "n/a");
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
        {"soak", required_argument, NULL, 'k'},
        {"floor", no_argument, NULL, 'F'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bad = NULL;
    char soak_msg[64];
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
        case 'k':
            if (parse_long(optarg, SOAK_MIN, SOAK_MAX, &o->soak) != 0) {
                snprintf(soak_msg, sizeof soak_msg, "--soak expects %d..%ld requests", SOAK_MIN,
                         SOAK_MAX);
                bad = soak_msg;
            }
            break;
        case 'F':
            o->floor = true;
            break;
        case 'J':
            o->json = true;
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
 * on --socket (its pid then from SO_PEERCRED, for its CPU time and RSS). */
typedef struct {
    bench_daemon d; /* pid 0 when not ours */
    char path[PATH_MAX]; /* the binary we started; "" for --socket */
    const char *socket;
    pid_t pid;      /* 0: CPU time and memory not visible */
    int workers;    /* 0: unknown */
    int cpus;       /* the CPUs it may run on */
} daemon_under_test;

extern char **environ;

/* Settings the daemon inherits from our environment instead of its
 * defaults (sgx-quote-helperd(8): every flag is also an environment
 * variable), so a run that is not "as in production" says so. */
static size_t daemon_env(const char **out, size_t cap)
{
    static const char prefix[] = "SGX_QUOTE_HELPER_";
    size_t n = 0;
    for (char **e = environ; e != NULL && *e != NULL; e++) {
        if (strncmp(*e, prefix, sizeof prefix - 1) == 0 && n < cap)
            out[n++] = *e;
    }
    return n;
}

static int open_daemon(const bench_opts *o, int bench_cpus, daemon_under_test *dut)
{
    if (o->socket != NULL) {
        dut->socket = o->socket;
        dut->pid = socket_server_pid(o->socket);
        if (dut->pid > 0 && proc_cpu_s(dut->pid) < 0)
            dut->pid = 0;
        dut->cpus = dut->pid > 0 ? usable_cpus(dut->pid) : bench_cpus;
        return 0;
    }
    char buf[PATH_MAX];
    const char *path = o->daemon_path != NULL ? o->daemon_path : find_daemon(buf, sizeof buf);
    snprintf(dut->path, sizeof dut->path, "%s", path);
    if (start_daemon(&dut->d, dut->path) != 0)
        return -1;
    dut->socket = dut->d.socket;
    dut->pid = dut->d.pid;
    dut->cpus = usable_cpus(dut->pid);
    return 0;
}

/* After the set-up calls, so the daemon's start line has surely been
 * written (its log writer batches lines for a few milliseconds). */
static void describe_daemon(daemon_under_test *dut)
{
    if (dut->path[0] == '\0') {
        say("daemon: already running on %s (", dut->socket);
        if (dut->pid > 0)
            say("pid %ld, %d CPU(s))\n", (long)dut->pid, dut->cpus);
        else
            say("pid or its /proc not visible: daemon CPU and RSS not reported)\n");
        return;
    }
    dut->workers = daemon_workers(&dut->d);
    say("daemon: %s on %s (pid %ld, ", dut->path, dut->socket, (long)dut->pid);
    if (dut->workers > 0)
        say("%d workers", dut->workers);
    else
        say("worker count not in its log");
    say("), default flags but --socket, --state-dir, --init-seed; first answer %.1f ms "
        "after fork\n",
        dut->d.start_ms);
    const char *env[16];
    size_t n_env = daemon_env(env, 16);
    for (size_t i = 0; i < n_env; i++)
        say("  not a default: its environment has %s\n", env[i]);
}

static const char *mode_name(clients_mode m)
{
    return m == MODE_EPOLL ? "epoll" : m == MODE_THREADS ? "threads" : "both";
}

static void print_table_head(const bench_opts *o, clients_mode mode, const quote_setup *q,
                             int cpus)
{
    if (mode == MODE_EPOLL)
        say("load generator: epoll, %d thread(s), the client count = requests in flight; "
            "one %zu-byte GetQuoteEx frame per fresh connection\n",
            o->lg_threads, q->frame_len);
    else
        say("load generator: one thread per client, each a blocking client_get_quote_ex "
            "(libsgx_quote_ex's code) per fresh connection\n");
    say("quote size %u bytes (%zu used), %.1f s per point; the load generator and the "
        "daemon share the %d CPU(s)\n\n",
        q->qsize, client_quote_length(q->ref_quote, q->qsize), o->seconds, cpus);
    say("%8s %10s %9s %9s %9s %7s %9s %9s %6s %6s %9s\n", "", "", "", "", "", "", "daemon",
        "loadgen", "other", "idle", "daemon");
    say("%8s %10s %9s %9s %9s %7s %9s %9s %6s %6s %9s\n", "clients", "quotes/s", "p50 ms",
        "p90 ms", "p99 ms", "errors", "CPU us/q", "CPU us/q", "CPUs", "CPUs", "RSS KiB");
}

static void print_row(const point_result *p)
{
    say("%8d %10.0f %9.3f %9.3f %9.3f %7zu", p->clients, p->qps, p->p50, p->p90, p->p99,
        p->errors);
    print_us(p->daemon_us);
    print_us(p->loadgen_us);
    print_cpus(p->other_cpus);
    print_cpus(p->idle_cpus);
    print_kib(p->rss_kib);
    say("\n");
    fflush(stdout);
}

/* The server the points measure: the daemon, or the floor (--floor). */
typedef struct {
    const char *socket;
    pid_t pid;      /* 0: its CPU not visible */
    rss_track *rss; /* NULL: its memory is not reported (the floor's says nothing) */
} point_server;

/* Every client count in turn, with the CPU snapshots around each. */

static int measure_points(const bench_opts *o, clients_mode mode, const point_server *srv,
                          const client_opts *co, const quote_setup *q, point_result *res)
{
    quote_check qc = {.qsize = q->qsize, .ref = q->ref_quote};
    epoll_setup es = {.socket = srv->socket, .frame = q->frame, .frame_len = q->frame_len,
                      .qc = &qc, .lg_threads = o->lg_threads};
    cpu_snap before = {.tasks = malloc(sizeof(task_snap))};
    cpu_snap after = {.tasks = malloc(sizeof(task_snap))};
    int rc = -1;
    if (before.tasks == NULL || after.tasks == NULL)
        goto out;
    for (int i = 0; i < o->n_points; i++) {
        memset(&res[i], 0, sizeof res[i]);
        res[i].clients = o->clients[i];
        cpu_snapshot(srv->pid, &before);
        int prc = mode == MODE_EPOLL
                      ? run_point_epoll(&es, o->clients[i], o->seconds, 0, &res[i])
                      : run_point_threads(co, &q->report, &qc, o->clients[i], o->seconds,
                                          &res[i]);
        cpu_snapshot(srv->pid, &after);
        if (prc != 0) {
            fprintf(stderr, "bench: no quote succeeded at %d clients\n", o->clients[i]);
            goto out;
        }
        point_cpu(&before, &after, srv->pid, &res[i]);
        res[i].rss_kib = srv->rss != NULL ? rss_sample(srv->pid, srv->rss) : -1;
        print_row(&res[i]);
    }
    if (srv->rss != NULL)
        say("(CPU us/q: CPU time, user + system, per good quote: the daemon process from "
            "/proc/PID/stat, the load generator from getrusage; other/idle CPUs: the rest of "
            "the machine busy / idle during the point, from /proc/stat; daemon RSS: its VmRSS "
            "after the point)\n");
    rc = 0;
out:
    free(before.tasks);
    free(after.tasks);
    return rc;
}

typedef struct {
    ref_result sign1, signN, inproc1, inprocN;
    int threads;
} references;

/* The other load during the two runs of a reference, like the table's
 * "other CPUs" column: a busy machine depresses the rate. */
static void print_other(const ref_result *one, const ref_result *all)
{
    if (one->other_cpus >= 0 && all->other_cpus >= 0)
        say(" (other load %.2f / %.2f CPUs)", one->other_cpus, all->other_cpus);
    say("\n");
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
    r->threads = o->threads;
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
    say("\nP-256 signing (crypto_p256_sign over 432 bytes): %.0f/s on 1 thread, %.0f/s on "
        "%d; CPU %.1f us each",
        r->sign1.rate, r->signN.rate, o->threads, r->signN.cpu_us);
    print_other(&r->sign1, &r->signN);
    say("in-process quotes (sim_get_quote):                %.0f/s on 1 thread, %.0f/s on "
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

/* ---- the soak: RSS over N requests ----------------------------------------- */

typedef struct {
    long requests; /* asked for */
    size_t completed, errors;
    double seconds, qps;
    double daemon_us; /* daemon CPU per quote over the whole soak; < 0 unknown */
    long warmup_requests;
    long rss_before, rss_after_warmup, rss_after; /* KiB; < 0 unknown */
    int n_parts;
    struct {
        long requests; /* sent so far */
        long rss_kib;
        double qps, p99;
    } part[SOAK_PARTS];
} soak_result;

/* RSS growth after the warm-up, in KiB; < 0 (LONG_MIN) when unknown. */
static long soak_growth(const soak_result *s)
{
    if (s->rss_after_warmup < 0 || s->rss_after < 0)
        return LONG_MIN;
    return s->rss_after - s->rss_after_warmup;
}

/* o->soak requests at SOAK_CLIENTS in flight (epoll load generator), in
 * SOAK_PARTS parts with the daemon's VmRSS after each: the first part is
 * the warm-up, the growth is from its end to the last part's. */
static int run_soak(const bench_opts *o, const daemon_under_test *dut, const quote_setup *q,
                    rss_track *rss, soak_result *s)
{
    quote_check qc = {.qsize = q->qsize, .ref = q->ref_quote};
    epoll_setup es = {.socket = dut->socket, .frame = q->frame, .frame_len = q->frame_len,
                      .qc = &qc, .lg_threads = o->lg_threads};
    memset(s, 0, sizeof *s);
    s->requests = o->soak;
    s->rss_before = rss_sample(dut->pid, rss);
    char kb[32];
    say("\nsoak: %ld requests at %d clients (epoll, %d thread(s)) in %d parts, the first the "
        "warm-up; daemon RSS before: %s\n",
        o->soak, SOAK_CLIENTS, o->lg_threads, SOAK_PARTS, kib_text(s->rss_before, kb, sizeof kb));
    say("%10s %10s %9s %9s\n", "requests", "quotes/s", "p99 ms", "RSS KiB");
    cpu_snap before = {0}, after = {0};
    cpu_snapshot(dut->pid, &before);
    long sent = 0;
    for (int i = 0; i < SOAK_PARTS; i++) {
        long n = o->soak / SOAK_PARTS + (i < o->soak % SOAK_PARTS);
        point_result p;
        memset(&p, 0, sizeof p);
        p.clients = SOAK_CLIENTS;
        if (run_point_epoll(&es, SOAK_CLIENTS, SOAK_PART_MAX_SECONDS, (size_t)n, &p) != 0) {
            fprintf(stderr, "bench: soak: no quote succeeded in part %d\n", i + 1);
            return -1;
        }
        sent += n;
        s->completed += p.completed;
        s->errors += p.errors;
        s->seconds += (double)p.completed / (p.qps > 0 ? p.qps : 1);
        s->part[i].requests = sent;
        s->part[i].rss_kib = rss_sample(dut->pid, rss);
        s->part[i].qps = p.qps;
        s->part[i].p99 = p.p99;
        s->n_parts = i + 1;
        if (i == 0) {
            s->warmup_requests = n;
            s->rss_after_warmup = s->part[i].rss_kib;
        }
        say("%10ld %10.0f %9.3f", sent, p.qps, p.p99);
        print_kib(s->part[i].rss_kib);
        say("%s\n", i == 0 ? "  (end of the warm-up)" : "");
        fflush(stdout);
    }
    cpu_snapshot(dut->pid, &after);
    s->rss_after = s->part[s->n_parts - 1].rss_kib;
    s->qps = s->seconds > 0 ? (double)s->completed / s->seconds : 0;
    s->daemon_us = before.daemon >= 0 && after.daemon >= 0 && s->completed > 0
                       ? (after.daemon - before.daemon) / (double)s->completed * 1e6
                       : -1;
    long growth = soak_growth(s);
    if (growth != LONG_MIN)
        say("soak: %zu good, %zu errors; RSS growth after the warm-up %ld KiB over %ld "
            "requests (a leak of %.1f bytes per request would show as %d KiB)\n",
            s->completed, s->errors, growth, o->soak - s->warmup_requests,
            (double)GOAL_SOAK_GROWTH_KIB * 1024.0 / (double)(o->soak - s->warmup_requests),
            GOAL_SOAK_GROWTH_KIB);
    else
        say("soak: %zu good, %zu errors; the daemon's RSS is not visible\n", s->completed,
            s->errors);
    return 0;
}

/* ---- goals ------------------------------------------------------------------ */

enum {
    G_CPU_VS_INPROC,
    G_CEILING,
    G_P99_64,
    G_P99_1,
    G_IDLE_RSS,
    G_SOAK_GROWTH,
    N_GOALS
};

static const point_result *find_point(const point_result *res, int n, int clients)
{
    for (int i = 0; i < n; i++) {
        if (res[i].clients == clients)
            return &res[i];
    }
    return NULL;
}

/* The daemon's ceiling with all its CPUs to itself: CPUs / CPU per quote.
 * An estimate from the 64-client point, not a measurement; < 0 unknown. */
static double ceiling_qps(const daemon_under_test *dut, const point_result *p64)
{
    if (p64 == NULL || !(p64->daemon_us > 0))
        return -1;
    return (double)dut->cpus / (p64->daemon_us / 1e6);
}

/* Issue 14's goals for the rows of one load generator. */
static void build_goals(const bench_opts *o, const daemon_under_test *dut,
                        const point_result *res, const references *r, const rss_track *rss,
                        const soak_result *soak, bench_goal g[N_GOALS])
{
    const point_result *p64 = find_point(res, o->n_points, GOAL_CLIENTS);
    const point_result *p1 = find_point(res, o->n_points, 1);
    const char *no64 = "no 64-client point";
    const char *nocpu = "daemon CPU not visible";
    const char *nomem = "daemon RSS not visible";
    double ceiling = ceiling_qps(dut, p64);
    g[G_CPU_VS_INPROC] = (bench_goal){
        .name = "daemon_cpu_vs_in_process_at_64_clients",
        .label = "daemon CPU / in-process quote CPU",
        .unit = "x",
        .cmp = BENCH_GOAL_AT_MOST,
        .limit = GOAL_DAEMON_VS_INPROC_CPU,
        .measured = p64 != NULL && p64->daemon_us > 0 && r->inprocN.cpu_us > 0,
        .value = p64 != NULL ? p64->daemon_us / r->inprocN.cpu_us : 0,
        .why_not = p64 == NULL ? no64 : nocpu,
    };
    g[G_CEILING] = (bench_goal){
        .name = "ceiling_ratio_to_signing",
        .label = "all-CPU ceiling / signing rate",
        .unit = "x",
        .cmp = BENCH_GOAL_AT_LEAST,
        .limit = GOAL_CEILING_VS_SIGN,
        .measured = ceiling > 0 && r->signN.rate > 0,
        .value = ceiling / r->signN.rate,
        .why_not = p64 == NULL ? no64 : nocpu,
    };
    g[G_P99_64] = (bench_goal){
        .name = "p99_ms_at_64_clients",
        .label = "p99 at 64 clients",
        .unit = "ms",
        .cmp = BENCH_GOAL_AT_MOST,
        .limit = GOAL_P99_MS_AT_64,
        .measured = p64 != NULL,
        .value = p64 != NULL ? p64->p99 : 0,
        .why_not = no64,
    };
    g[G_P99_1] = (bench_goal){
        .name = "p99_ms_at_1_client",
        .label = "p99 at 1 client",
        .unit = "ms",
        .cmp = BENCH_GOAL_AT_MOST,
        .limit = GOAL_P99_MS_AT_1,
        .measured = p1 != NULL,
        .value = p1 != NULL ? p1->p99 : 0,
        .why_not = "no 1-client point",
    };
    g[G_IDLE_RSS] = (bench_goal){
        .name = "idle_rss_kib",
        .label = "idle RSS (daemon_rss_kib.start)",
        .unit = "KiB",
        .cmp = BENCH_GOAL_AT_MOST,
        .limit = GOAL_IDLE_RSS_KIB,
        .measured = rss->start >= 0,
        .value = (double)rss->start,
        .why_not = nomem,
    };
    long growth = soak != NULL ? soak_growth(soak) : LONG_MIN;
    g[G_SOAK_GROWTH] = (bench_goal){
        .name = "soak_rss_growth_kib",
        .label = "RSS growth after the soak warm-up",
        .unit = "KiB",
        .cmp = BENCH_GOAL_AT_MOST,
        .limit = GOAL_SOAK_GROWTH_KIB,
        .measured = growth != LONG_MIN,
        .value = (double)growth,
        .why_not = soak == NULL ? "no --soak N" : nomem,
    };
}

/* The goals of one load generator, then where the daemon's CPU went at 64
 * clients (or, without that point, at the last one) and the informative
 * throughput ratios. */
static void print_goals(const bench_opts *o, clients_mode mode, const daemon_under_test *dut,
                        const point_result *res, const references *r, const bench_goal *g)
{
    const point_result *p64 = find_point(res, o->n_points, GOAL_CLIENTS);
    const point_result *p = p64 != NULL ? p64 : &res[o->n_points - 1];
    const char *lg = mode == MODE_EPOLL ? "epoll" : "one thread per client";
    say("\ngoals (issue 14), load generator %s:\n", lg);
    bench_goals_print(stdout, g, N_GOALS);

    say("\nwhere the CPU goes at %d client(s), per quote:\n", p->clients);
    if (p->daemon_us >= 0)
        say("  daemon          %6.1f us  = %.2f x an in-process quote (%.1f us); a P-256 "
            "signature: %.1f us\n",
            p->daemon_us, p->daemon_us / r->inprocN.cpu_us, r->inprocN.cpu_us,
            r->signN.cpu_us);
    else
        say("  daemon             n/a\n");
    for (int i = 0; i < p->n_groups; i++) {
        const thread_group *t = &p->groups[i];
        char who[64];
        if (t->main)
            snprintf(who, sizeof who, "main thread \"%s\"", t->name);
        else
            snprintf(who, sizeof who, "%d thread(s) \"%s\"", t->threads, t->name);
        say("    %-34s %6.1f us  (busy %.0f%% of one CPU)\n", who, t->cpu_us,
            t->busy_cpus * 100);
    }
    say("  load generator  %6.1f us  (%s), on the same CPUs as the daemon\n", p->loadgen_us, lg);
    double ceiling = ceiling_qps(dut, p64);
    if (ceiling > 0)
        say("  estimate, not a measurement: with all %d CPU(s) to itself the daemon could do "
            "at most %.0f quotes/s (%.2f x signing, %.2f x in-process)\n",
            dut->cpus, ceiling, ceiling / r->signN.rate, ceiling / r->inprocN.rate);
    say("  throughput at %d client(s): %.2f x the signing rate and %.2f x the in-process rate "
        "on %d threads (%.2f and %.2f x the 1-thread rates)\n",
        p->clients, p->qps / r->signN.rate, p->qps / r->inprocN.rate, r->threads,
        p->qps / r->sign1.rate, p->qps / r->inproc1.rate);
}

/* ---- the floor: what any server pays here ---------------------------------- */

typedef struct {
    int n_points;
    point_result res[MAX_POINTS];
} floor_result;

/* The floor server (bench/floor.h) answering with one real reply of the
 * daemon's, at the table's client counts, with the epoll load generator
 * and the same check of every response. */
static int measure_floor(const bench_opts *o, const daemon_under_test *dut,
                         const client_opts *co, const quote_setup *q, floor_result *fr)
{
    memset(fr, 0, sizeof *fr);
    char dir[64], path[96];
    snprintf(dir, sizeof dir, "/tmp/sqh-bench-floor-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/floor.socket", dir);
    size_t max_body = (size_t)q->qsize + RESP_SLACK;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    bench_floor f = {0};
    int rc = -1;
    uint8_t *body = NULL;
    size_t body_len = 0;
    int crc = client_transact(co, q->frame, q->frame_len, max_body, &body, &body_len);
    if (crc != CLIENT_OK) {
        fprintf(stderr, "bench: floor: the daemon did not answer the request to cache: %s\n",
                client_strerror(crc));
        goto out;
    }
    reply_len = WIRE_PREFIX_SIZE + body_len;
    reply = malloc(reply_len);
    if (reply != NULL) {
        wire_prefix_encode((uint32_t)body_len, reply);
        memcpy(reply + WIRE_PREFIX_SIZE, body, body_len);
    }
    free(body);
    if (reply == NULL ||
        bench_floor_start(&f, path, reply, reply_len, WIRE_MAX_REQUEST_SIZE, dut->cpus) != 0)
        goto out;
    say("\nfloor (--floor): a server of %d blocking thread(s) that only accepts, reads the "
        "request, writes a cached reply of the daemon's and closes: no quote, no peer "
        "identity, no log. Same load generator (epoll, %d thread(s)), same check of every "
        "reply; its CPU is in the daemon column\n",
        dut->cpus, o->lg_threads);
    print_table_head(o, MODE_EPOLL, q, dut->cpus);
    point_server srv = {.socket = path, .pid = f.pid, .rss = NULL};
    if (measure_points(o, MODE_EPOLL, &srv, co, q, fr->res) != 0)
        goto out;
    fr->n_points = o->n_points;
    rc = 0;
out:
    bench_floor_stop(&f);
    rmdir(dir);
    free(reply);
    return rc;
}

/* What the floor at GOAL_CLIENTS implies for any server on this machine,
 * taking the quote's own cost as the in-process one (for the CPU ratio)
 * or as a bare signature (for the ceiling, the most generous case).
 * Estimates; each < 0 when unknown. */
typedef struct {
    double cpu_vs_inproc_at_least;
    double ceiling_vs_sign_at_most;
    double p99_ms_at_64;
    double p99_ms_at_1;
} floor_bounds;

static floor_bounds floor_bounds_of(const floor_result *fr, const references *r, int cpus)
{
    floor_bounds b = {-1, -1, -1, -1};
    const point_result *p64 = find_point(fr->res, fr->n_points, GOAL_CLIENTS);
    const point_result *p1 = find_point(fr->res, fr->n_points, 1);
    if (p64 != NULL && p64->daemon_us > 0) {
        b.cpu_vs_inproc_at_least = (p64->daemon_us + r->inprocN.cpu_us) / r->inprocN.cpu_us;
        b.ceiling_vs_sign_at_most =
            (double)cpus / ((p64->daemon_us + r->signN.cpu_us) / 1e6) / r->signN.rate;
    }
    if (p64 != NULL)
        b.p99_ms_at_64 = p64->p99;
    if (p1 != NULL)
        b.p99_ms_at_1 = p1->p99;
    return b;
}

static void print_floor_bounds(const floor_result *fr, const references *r, int cpus)
{
    floor_bounds b = floor_bounds_of(fr, r, cpus);
    const point_result *p64 = find_point(fr->res, fr->n_points, GOAL_CLIENTS);
    say("\nwhat the floor leaves any server on this machine (estimates):\n");
    if (b.cpu_vs_inproc_at_least < 0) {
        say("  CPU and ceiling bounds n/a: no %d-client point with the floor's CPU\n",
            GOAL_CLIENTS);
    } else {
        say("  daemon CPU / in-process quote CPU  >= %.2f x  ((floor %.1f us + quote %.1f us) "
            "/ quote; goal <= %.2f x)\n",
            b.cpu_vs_inproc_at_least, p64->daemon_us, r->inprocN.cpu_us,
            GOAL_DAEMON_VS_INPROC_CPU);
        say("  all-CPU ceiling / signing rate     <= %.2f x  (%d CPU(s) / (floor %.1f us + "
            "signature %.1f us) / %.0f signatures/s; goal >= %.2f x)\n",
            b.ceiling_vs_sign_at_most, cpus, p64->daemon_us, r->signN.cpu_us, r->signN.rate,
            GOAL_CEILING_VS_SIGN);
    }
    if (b.p99_ms_at_64 >= 0)
        say("  p99 at %d clients with no quote at all: %.3f ms (goal <= %.3f ms)\n",
            GOAL_CLIENTS, b.p99_ms_at_64, GOAL_P99_MS_AT_64);
    if (b.p99_ms_at_1 >= 0)
        say("  p99 at 1 client with no quote at all:  %.3f ms (goal <= %.3f ms)\n",
            b.p99_ms_at_1, GOAL_P99_MS_AT_1);
}

/* ---- JSON ------------------------------------------------------------------ */

/* A number, or null when unknown (negative) or not finite. */
static json_t *jnum(double v)
{
    return v >= 0 && isfinite(v) ? json_real(v) : json_null();
}

static json_t *jkib(long v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

/* Sets o[key] = v, remembering a failure (out of memory) in *ok. */
static void jset(json_t *o, const char *key, json_t *v, bool *ok)
{
    if (o == NULL || v == NULL || json_object_set_new(o, key, v) != 0)
        *ok = false;
}

static void jappend(json_t *a, json_t *v, bool *ok)
{
    if (a == NULL || v == NULL || json_array_append_new(a, v) != 0)
        *ok = false;
}

static json_t *row_json(const point_result *p, clients_mode mode, bool *ok)
{
    json_t *o = json_object();
    jset(o, "load_generator", json_string(mode_name(mode)), ok);
    jset(o, "clients", json_integer(p->clients), ok);
    jset(o, "quotes_per_second", json_real(p->qps), ok);
    jset(o, "completed", json_integer((json_int_t)p->completed), ok);
    jset(o, "errors", json_integer((json_int_t)p->errors), ok);
    jset(o, "p50_ms", json_real(p->p50), ok);
    jset(o, "p90_ms", json_real(p->p90), ok);
    jset(o, "p99_ms", json_real(p->p99), ok);
    jset(o, "daemon_cpu_us_per_quote", jnum(p->daemon_us), ok);
    jset(o, "loadgen_cpu_us_per_quote", jnum(p->loadgen_us), ok);
    jset(o, "other_cpus", jnum(p->other_cpus), ok);
    jset(o, "idle_cpus", jnum(p->idle_cpus), ok);
    jset(o, "seconds", json_real(p->seconds), ok);
    jset(o, "daemon_rss_kib", jkib(p->rss_kib), ok);
    json_t *th = json_array();
    for (int i = 0; i < p->n_groups; i++) {
        const thread_group *g = &p->groups[i];
        json_t *t = json_object();
        jset(t, "name", json_string(g->name), ok);
        jset(t, "main", json_boolean(g->main), ok);
        jset(t, "threads", json_integer(g->threads), ok);
        jset(t, "cpu_us_per_quote", json_real(g->cpu_us), ok);
        jset(t, "busy_cpus", json_real(g->busy_cpus), ok);
        jappend(th, t, ok);
    }
    jset(o, "daemon_threads", th, ok);
    return o;
}

static json_t *references_json(const references *r, bool *ok)
{
    json_t *o = json_object();
    jset(o, "threads", json_integer(r->threads), ok);
    jset(o, "sign_per_second_1_thread", jnum(r->sign1.rate), ok);
    jset(o, "sign_per_second_all_cpus", jnum(r->signN.rate), ok);
    jset(o, "sign_cpu_us", jnum(r->signN.cpu_us), ok);
    jset(o, "sign_other_cpus", jnum(r->signN.other_cpus), ok);
    jset(o, "in_process_per_second_1_thread", jnum(r->inproc1.rate), ok);
    jset(o, "in_process_per_second_all_cpus", jnum(r->inprocN.rate), ok);
    jset(o, "in_process_cpu_us_per_quote", jnum(r->inprocN.cpu_us), ok);
    jset(o, "in_process_cpu_us_per_quote_1_thread", jnum(r->inproc1.cpu_us), ok);
    jset(o, "in_process_other_cpus", jnum(r->inprocN.other_cpus), ok);
    return o;
}

static json_t *soak_json(const soak_result *s, bool *ok)
{
    json_t *o = json_object();
    long growth = soak_growth(s);
    long after_warmup = s->requests - s->warmup_requests;
    jset(o, "requests", json_integer(s->requests), ok);
    jset(o, "clients", json_integer(SOAK_CLIENTS), ok);
    jset(o, "completed", json_integer((json_int_t)s->completed), ok);
    jset(o, "errors", json_integer((json_int_t)s->errors), ok);
    jset(o, "quotes_per_second", json_real(s->qps), ok);
    jset(o, "daemon_cpu_us_per_quote", jnum(s->daemon_us), ok);
    jset(o, "warmup_requests", json_integer(s->warmup_requests), ok);
    jset(o, "rss_kib_before", jkib(s->rss_before), ok);
    jset(o, "rss_kib_after_warmup", jkib(s->rss_after_warmup), ok);
    jset(o, "rss_kib_after", jkib(s->rss_after), ok);
    jset(o, "growth_kib", growth != LONG_MIN ? json_integer(growth) : json_null(), ok);
    jset(o, "tolerance_kib", json_integer(GOAL_SOAK_GROWTH_KIB), ok);
    jset(o, "smallest_visible_leak_bytes_per_request",
         json_real((double)GOAL_SOAK_GROWTH_KIB * 1024.0 / (double)after_warmup), ok);
    json_t *parts = json_array();
    for (int i = 0; i < s->n_parts; i++) {
        json_t *p = json_object();
        jset(p, "requests", json_integer(s->part[i].requests), ok);
        jset(p, "rss_kib", jkib(s->part[i].rss_kib), ok);
        jset(p, "quotes_per_second", json_real(s->part[i].qps), ok);
        jset(p, "p99_ms", json_real(s->part[i].p99), ok);
        jappend(parts, p, ok);
    }
    jset(o, "parts", parts, ok);
    return o;
}

/* The floor's rows have the shape of "rows" (its server in the daemon
 * columns), with the bounds they imply. */
static json_t *floor_json(const floor_result *fr, const references *r, int cpus, bool *ok)
{
    json_t *o = json_object();
    floor_bounds b = floor_bounds_of(fr, r, cpus);
    jset(o, "threads", json_integer(cpus), ok); /* one per CPU the daemon may use */
    json_t *rows = json_array();
    for (int i = 0; i < fr->n_points; i++)
        jappend(rows, row_json(&fr->res[i], MODE_EPOLL, ok), ok);
    jset(o, "rows", rows, ok);
    jset(o, "daemon_cpu_vs_in_process_at_least", jnum(b.cpu_vs_inproc_at_least), ok);
    jset(o, "ceiling_ratio_to_signing_at_most", jnum(b.ceiling_vs_sign_at_most), ok);
    jset(o, "p99_ms_at_64_clients", jnum(b.p99_ms_at_64), ok);
    jset(o, "p99_ms_at_1_client", jnum(b.p99_ms_at_1), ok);
    return o;
}

/* Everything the run measured, in one document (docs/daemon.md, "Benchmark
 * notes", lists the keys scripts may rely on). */
typedef struct {
    const bench_opts *o;
    int bench_cpus;
    const daemon_under_test *dut;
    const quote_setup *q;
    const clients_mode *modes;
    int n_modes;
    point_result (*res)[MAX_POINTS];
    const references *refs;
    const rss_track *rss;
    const soak_result *soak; /* NULL: no --soak */
    const floor_result *floor; /* NULL: no --floor */
    bench_goal (*goals)[N_GOALS];
} bench_report;

static json_t *report_json(const bench_report *b, bool *ok)
{
    json_t *doc = json_object();
    char model[128];
    struct utsname un;
    cpu_model(model, sizeof model);
    if (uname(&un) != 0)
        memset(&un, 0, sizeof un);
    jset(doc, "format", json_integer(1), ok);
    jset(doc, "machine",
         json_pack("{s:i, s:I, s:s, s:s, s:s, s:s}", "cpus_usable", b->bench_cpus,
                   "cpus_online", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "cpu_model", model,
                   "kernel", un.sysname, "release", un.release, "arch", un.machine),
         ok);

    const daemon_under_test *dut = b->dut;
    bool ours = dut->path[0] != '\0';
    json_t *d = json_object();
    jset(d, "started_by_bench", json_boolean(ours), ok);
    jset(d, "path", ours ? json_string(dut->path) : json_null(), ok);
    jset(d, "socket", json_string(dut->socket), ok);
    jset(d, "pid", dut->pid > 0 ? json_integer(dut->pid) : json_null(), ok);
    jset(d, "cpus", json_integer(dut->cpus), ok);
    jset(d, "workers", dut->workers > 0 ? json_integer(dut->workers) : json_null(), ok);
    jset(d, "start_ms", ours ? json_real(dut->d.start_ms) : json_null(), ok);
    json_t *env = json_array();
    const char *e[16];
    size_t n_env = daemon_env(e, 16);
    for (size_t i = 0; ours && i < n_env; i++)
        jappend(env, json_string(e[i]), ok);
    jset(d, "environment", env, ok);
    jset(doc, "daemon", d, ok);

    const bench_opts *o = b->o;
    json_t *st = json_object();
    json_t *clients = json_array();
    for (int i = 0; i < o->n_points; i++)
        jappend(clients, json_integer(o->clients[i]), ok);
    jset(st, "seconds", json_real(o->seconds), ok);
    jset(st, "clients", clients, ok);
    jset(st, "clients_mode", json_string(mode_name(o->mode)), ok);
    jset(st, "loadgen_threads", json_integer(o->lg_threads), ok);
    jset(st, "reference_threads", json_integer(o->threads), ok);
    jset(st, "soak_requests", json_integer(o->soak), ok);
    jset(st, "quote_size", json_integer(b->q->qsize), ok);
    jset(st, "quote_bytes_used",
         json_integer((json_int_t)client_quote_length(b->q->ref_quote, b->q->qsize)), ok);
    jset(st, "request_frame_bytes", json_integer((json_int_t)b->q->frame_len), ok);
    jset(doc, "settings", st, ok);

    json_t *rows = json_array();
    for (int m = 0; m < b->n_modes; m++) {
        for (int i = 0; i < o->n_points; i++)
            jappend(rows, row_json(&b->res[m][i], b->modes[m], ok), ok);
    }
    jset(doc, "rows", rows, ok);
    jset(doc, "references", references_json(b->refs, ok), ok);
    jset(doc, "daemon_rss_kib",
         json_pack("{s:o, s:o, s:o}", "start", jkib(b->rss->start), "peak", jkib(b->rss->peak),
                   "end", jkib(b->rss->end)),
         ok);
    jset(doc, "soak", b->soak != NULL ? soak_json(b->soak, ok) : json_null(), ok);
    jset(doc, "floor",
         b->floor != NULL ? floor_json(b->floor, b->refs, dut->cpus, ok) : json_null(), ok);

    /* Per load generator; the top-level goals are the last one's (epoll
     * when both were measured: the default load generator). */
    json_t *verdicts = json_array();
    json_t *last_goals = NULL;
    double last_ceiling = -1, last_ratio = -1;
    int met = 0, measured = 0;
    for (int m = 0; m < b->n_modes; m++) {
        const point_result *p64 = find_point(b->res[m], o->n_points, GOAL_CLIENTS);
        double ceiling = ceiling_qps(dut, p64);
        const bench_goal *g = b->goals[m];
        json_t *v = json_object();
        jset(v, "load_generator", json_string(mode_name(b->modes[m])), ok);
        jset(v, "ceiling_quotes_per_second", jnum(ceiling), ok);
        jset(v, "ceiling_ratio_to_signing",
             g[G_CEILING].measured ? json_real(g[G_CEILING].value) : json_null(), ok);
        jset(v, "goals", bench_goals_json(g, N_GOALS), ok);
        jappend(verdicts, v, ok);
        last_goals = bench_goals_json(g, N_GOALS);
        last_ceiling = ceiling;
        last_ratio = g[G_CEILING].measured ? g[G_CEILING].value : -1;
        met = measured = 0;
        for (int i = 0; i < N_GOALS; i++) {
            measured += g[i].measured;
            met += bench_goal_met(&g[i]);
        }
    }
    jset(doc, "ceiling_quotes_per_second", jnum(last_ceiling), ok);
    jset(doc, "ceiling_ratio_to_signing", jnum(last_ratio), ok);
    jset(doc, "goals_load_generator", json_string(mode_name(b->modes[b->n_modes - 1])), ok);
    jset(doc, "goals", last_goals, ok);
    jset(doc, "goals_met", json_integer(met), ok);
    jset(doc, "goals_measured", json_integer(measured), ok);
    jset(doc, "verdicts", verdicts, ok);
    return doc;
}

static int print_report_json(const bench_report *b)
{
    bool ok = true;
    json_t *doc = report_json(b, &ok);
    int rc = -1;
    if (!ok || doc == NULL) {
        fprintf(stderr, "bench: out of memory building the JSON report\n");
        goto out;
    }
    if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) != 0) {
        fprintf(stderr, "bench: cannot write the JSON report\n");
        goto out;
    }
    printf("\n");
    rc = fflush(stdout) == 0 ? 0 : -1;
out:
    json_decref(doc);
    return rc;
}

/* ---- main ------------------------------------------------------------------ */

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

static void print_rss(const rss_track *rss)
{
    char a[32], b[32], c[32];
    say("\ndaemon RSS: %s at start (idle, after the reference quote), %s at peak (VmHWM), %s "
        "at the end\n",
        kib_text(rss->start, a, sizeof a), kib_text(rss->peak, b, sizeof b),
        kib_text(rss->end, c, sizeof c));
}

int bench_quote_main(int argc, char **argv)
{
    int cpus = usable_cpus(0);
    bench_opts o = {.seconds = 2.0, .clients = {1, 8, 64, 256}, .n_points = 4,
                    .mode = MODE_EPOLL, .lg_threads = 1, .threads = cpus};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    g_quiet = o.json;
    rc = 1;
    static daemon_under_test dut; /* holds a PATH_MAX path: off the stack */
    quote_setup q;
    rss_track rss = {.start = -1, .peak = -1, .end = -1};
    memset(&dut, 0, sizeof dut);
    memset(&q, 0, sizeof q);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();

    char model[128];
    struct utsname un;
    cpu_model(model, sizeof model);
    if (uname(&un) != 0)
        memset(&un, 0, sizeof un);
    say("machine: %d CPU(s) usable (%ld online), %s, %s %s %s\n", cpus,
        sysconf(_SC_NPROCESSORS_ONLN), model, un.sysname, un.release, un.machine);
    if (open_daemon(&o, cpus, &dut) != 0)
        goto out;
    client_opts co;
    client_opts_default(&co);
    co.socket_path = dut.socket;
    co.connect_retry_ms = 2000;
    if (make_quote_setup(&co, &q) != 0)
        goto out;
    rss.start = rss_sample(dut.pid, &rss);
    describe_daemon(&dut);

    clients_mode modes[2] = {o.mode, o.mode};
    int n_modes = 1;
    if (o.mode == MODE_BOTH) {
        modes[0] = MODE_THREADS;
        modes[1] = MODE_EPOLL;
        n_modes = 2;
    }
    static point_result res[2][MAX_POINTS];
    for (int m = 0; m < n_modes; m++) {
        if (m > 0)
            say("\n");
        print_table_head(&o, modes[m], &q, cpus);
        point_server srv = {.socket = dut.socket, .pid = dut.pid, .rss = &rss};
        if (measure_points(&o, modes[m], &srv, &co, &q, res[m]) != 0)
            goto out;
    }
    static floor_result floor_res;
    if (o.floor && measure_floor(&o, &dut, &co, &q, &floor_res) != 0)
        goto out;
    references refs;
    if (measure_references(&o, &dut, &q, &refs) != 0)
        goto out;
    soak_result soak;
    if (o.soak > 0 && run_soak(&o, &dut, &q, &rss, &soak) != 0)
        goto out;
    rss.end = rss_sample(dut.pid, &rss);
    print_rss(&rss);

    bench_goal goals[2][N_GOALS];
    for (int m = 0; m < n_modes; m++) {
        build_goals(&o, &dut, res[m], &refs, &rss, o.soak > 0 ? &soak : NULL, goals[m]);
        if (!o.json)
            print_goals(&o, modes[m], &dut, res[m], &refs, goals[m]);
    }
    if (o.floor)
        print_floor_bounds(&floor_res, &refs, dut.cpus);
    rc = 0;
    if (o.json) {
        bench_report b = {.o = &o, .bench_cpus = cpus, .dut = &dut, .q = &q, .modes = modes,
                          .n_modes = n_modes, .res = res, .refs = &refs, .rss = &rss,
                          .soak = o.soak > 0 ? &soak : NULL,
                          .floor = o.floor ? &floor_res : NULL, .goals = goals};
        rc = print_report_json(&b) == 0 ? 0 : 1;
    }
out:
    free(q.frame);
    free(q.ref_quote);
    stop_daemon(&dut.d);
    return rc;
}
