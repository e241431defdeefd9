/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration-test harness: runs the real sgx-quote-helperd on a temporary
 * socket with a temporary state directory, and talks to it the ways real
 * clients do — raw frames on a socket, or our libsgx_quote_ex.so.1 loaded
 * with dlopen as libsgx_dcap_ql loads Intel's (aesm §7).
 */
#ifndef SGXQH_ITEST_HARNESS_H
#define SGXQH_ITEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../ops/promparse.h"
#include "sgxqh/sgx_quote_ex.h"

typedef struct {
    char dir[256];       /* temp root: run/, state/, daemon.log */
    char socket[320];
    char state_dir[320];
    char log_path[320];
    pid_t pid;
    /* Set after itest_daemon_init, before starting: */
    const char *const *env; /* extra "NAME=value" for the daemon only, or NULL */
    bool bare;   /* pass no --socket/--state-dir/--log-format/--init-seed: the test gives all */
    bool no_init_seed; /* without --init-seed: a missing seed must stop the start */
    int stderr_fd; /* >= 0: the daemon's stderr instead of log_path (e.g. a pipe) */
    int listen_fd; /* >= 0: handed over as systemd would (fd 3, LISTEN_FDS=1) */
    /* >= 0 (with listen_fd): also handed over, as fd 4 named "qgs", as
     * sgx-quote-helperd-qgs.socket (FileDescriptorName=qgs) does:
     * LISTEN_FDS=2, LISTEN_FDNAMES=sgx-quote-helperd.socket:qgs. */
    int listen_fd_qgs;
} itest_daemon;

/* Builds paths under a fresh mkdtemp directory (dir empty) or reuses dir. */
void itest_daemon_init(itest_daemon *d);
/* itest_daemon_init, then SGX_AESM_ADDR pointed at its socket so that the
 * dlopen'ed library (read per call) talks to this daemon. */
void itest_daemon_init_qex(itest_daemon *d);
/* Starts the daemon with --log-format text --socket/--state-dir --init-seed (unless
 * bare) plus extra args (NULL-terminated, may be NULL; later flags win) and
 * waits until its socket accepts. Returns 0, or -1 (with a message on
 * stderr). */
int itest_daemon_start(itest_daemon *d, const char *const *extra_args);
/* itest_daemon_start with extra_args plus --http-listen 127.0.0.1:0; returns
 * the HTTP port from its start line (itest_daemon_http_port, 5 s), or -1. */
int itest_daemon_start_http(itest_daemon *d, const char *const *extra_args);
/* Only fork and exec it (no waiting): for tests that wait themselves. */
int itest_daemon_spawn(itest_daemon *d, const char *const *extra_args);
/* Sends sig and waits up to timeout_ms; returns the exit status as
 * waitpid gives it, or -1 on timeout (the daemon is then killed). */
int itest_daemon_stop(itest_daemon *d, int sig, int timeout_ms);
/* Stops the daemon (if running) with SIGTERM and removes the temp
 * directory. Returns -1 if it did not exit 0 or its log holds a sanitizer
 * report, so every test also checks the daemon's own health. */
int itest_daemon_cleanup(itest_daemon *d);
/* The same checks, but the directory (and log) stay for inspection. */
int itest_daemon_cleanup_keep(itest_daemon *d);
/* The daemon's stderr so far (malloc'd, NUL-terminated). */
char *itest_daemon_log(const itest_daemon *d);
/* Count of log lines containing every one of the given substrings. */
size_t itest_log_count(const itest_daemon *d, const char *const *needles);
/* Waits up to timeout_ms until itest_log_count(needles) >= n. */
bool itest_log_wait(const itest_daemon *d, const char *const *needles, size_t n, int timeout_ms);
/* Repeated rejection/drop lines are throttled (one per peer and reason a
 * second); the rest are summed up in lines "<event> reason=R peer=P
 * suppressed=N" (text format). The sum of N over those lines for event,
 * reason and peer ("uid:1000", "pod:<uid>", "self"; NULL = any). */
size_t itest_log_suppressed(const itest_daemon *d, const char *event, const char *reason,
                            const char *peer);
/* Waits up to timeout_ms until itest_log_count(needles) plus
 * itest_log_suppressed(event, reason, peer) reaches n; returns that sum. */
size_t itest_log_wait_total(const itest_daemon *d, const char *const *needles, const char *event,
                            const char *reason, const char *peer, size_t n, int timeout_ms);

/* ---- the HTTP endpoint (--http-listen 127.0.0.1:0) ---- */
/* The port from the daemon's start line (http_listen=ADDR:PORT, text or
 * JSON); waits up to timeout_ms; 0 when not found. */
int itest_daemon_http_port(const itest_daemon *d, int timeout_ms);
/* GET http://127.0.0.1:port/path (HTTP/1.0). Returns 0 with the status and
 * the body (malloc'd, NUL-terminated; headers dropped), or -1. */
int itest_http_get(int port, const char *path, int *status, char **body);
/* cmocka-asserting: GET /metrics answers 200 with Prometheus text; the
 * parsed document (heap: it is large; free() it). */
pp_doc *itest_metrics_scrape(int port);
/* cmocka-asserting: one sample of a fresh scrape, or -1 when the series
 * does not exist (so that it never passes for a count of 0). */
double itest_metric(int port, const char *name, const char *labels);

/* ---- clients as other processes and users ---- */
typedef struct {
    pid_t pid;
    int go_fd; /* write end: one byte lets the child run */
} itest_child;
/* Forks a child that drops to gid/uid (each unless -1; needs root), waits
 * for itest_child_go, then exits with fn(arg) (0..255). The parent learns
 * the child's pid first, e.g. to write a fake /proc/PID/cgroup for it. */
int itest_child_start(itest_child *c, long long uid, long long gid, int (*fn)(void *),
                      void *arg);
void itest_child_go(itest_child *c);
/* The child's exit code, or -1 (killed, or not done within timeout_ms). */
int itest_child_wait(itest_child *c, int timeout_ms);
/* cmocka-asserting: start (the start must work), go, and the exit code
 * within 20 s (-1 as itest_child_wait). */
int itest_child_run(long long uid, long long gid, int (*fn)(void *), void *arg);

/* In a new PID namespace (as another pod of the same uid would be: the
 * daemon then sees pid 0): fn(arg) in the namespace's first process;
 * returns its exit code, or 90..92 when the namespace could not be made. */
int itest_in_new_pidns(int (*fn)(void *), void *arg);

/* A TCP connection to 127.0.0.1:port from src_ip (any 127.0.0.0/8 address:
 * a client from "another host" for per-address limits); -1 on failure. */
int itest_tcp_connect_from(const char *src_ip, int port);

/* $SGXQH_BUILD_DIR/rel (static buffer per call site is not needed: malloc'd). */
char *itest_build_path(const char *rel);
char *itest_vector_path(const char *rel);
int itest_read_file(const char *path, uint8_t **data, size_t *len);
/* The file as a NUL-terminated string (malloc'd), or NULL. */
char *itest_read_text(const char *path);
/* A "Field:" of /proc/PID/status in kB (field with its colon, e.g.
 * "VmRSS:"), or -1. */
long itest_status_kb(pid_t pid, const char *field);
/* cmocka-asserting: $SGXQH_VECTORS/aesm-requests/name (malloc'd). */
uint8_t *itest_request_vector(const char *name, size_t *len);
int itest_write_file(const char *path, const void *data, size_t len);
/* Runs argv (argv[0] a path), waits; returns the exit code or -1. stdout
 * (if out != NULL) is captured, malloc'd and NUL-terminated. */
int itest_run(char *const argv[], char **out);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t itest_now_ms(void);

/* ---- raw sockets ---- */
/* p[0..3] = v, little-endian (the frame's length prefix, aesm §2). */
void itest_put_le32(uint8_t *p, uint32_t v);
int itest_connect(const char *socket_path);
int itest_send_all(int fd, const void *p, size_t len);
/* Reads until EOF or timeout; returns bytes read, -1 on timeout/error.
 * *buf malloc'd (may be NULL when 0 bytes). */
ssize_t itest_read_to_eof(int fd, int timeout_ms, uint8_t **buf);
/* One request frame → whole response frame (prefix included) and EOF. */
int itest_exchange(const char *socket_path, const uint8_t *frame, size_t len, uint8_t **resp,
                   size_t *resp_len);

/* ---- libsgx_quote_ex.so.1 via dlopen ---- */
typedef struct {
    void *handle;
    sgx_status_t (*select_att_key_id)(const uint8_t *, uint32_t, sgx_att_key_id_t *);
    sgx_status_t (*init_quote_ex)(const sgx_att_key_id_t *, sgx_target_info_t *, size_t *,
                                  uint8_t *);
    sgx_status_t (*get_quote_size_ex)(const sgx_att_key_id_t *, uint32_t *);
    sgx_status_t (*get_quote_ex)(const sgx_report_t *, const sgx_att_key_id_t *,
                                 sgx_qe_report_info_t *, uint8_t *, uint32_t);
    sgx_status_t (*get_supported_att_key_id_num)(uint32_t *);
    sgx_status_t (*get_supported_att_key_ids)(sgx_att_key_id_ext_t *, uint32_t);
} itest_qex;
/* Loads $SGXQH_BUILD_DIR/src/client/libsgx_quote_ex.so.1 and points it at
 * socket_path through SGX_AESM_ADDR. */
int itest_qex_open(itest_qex *q, const char *socket_path);
void itest_qex_close(itest_qex *q);
/* Group setup for tests that need root (clients as other uids,
 * namespaces): checks for root (else a message naming test), raises the
 * open-file limit to nofile, ignores SIGPIPE and opens q (pointed at no
 * daemon yet). 0, or -1. */
int itest_root_setup(const char *test, unsigned long nofile, itest_qex *q);

/* GetSupportedAttKeyIDNum through q: 0 when answered with one key id, else
 * the sgx_status_t (the liveness probe's request). */
int itest_qex_ping(const itest_qex *q);
/* cmocka-asserting: a full quote through q for the simulated app's report
 * targeted at qe_ti: GetQuoteSizeEx, then GetQuoteEx into exactly that many
 * bytes, which the quote fills (436 + signature length, aesm §6.6). */
void itest_qex_assert_quote(const itest_qex *q, const sgx_target_info_t *qe_ti);

/* ---- simulated app enclave ---- */
/* A report from the default simulated enclave, targeted at qe_ti, with
 * report_data = the given 64 bytes (or zeros). */
void itest_app_report(const sgx_target_info_t *qe_ti, const uint8_t *report_data,
                      sgx_report_t *out);
/* Target info of that same enclave (for qe_report_info). */
void itest_app_target_info(sgx_target_info_t *out);
/* The ECDSA key id of aesm §6.4, assembled from the spec's bytes. */
void itest_ecdsa_key_id(sgx_att_key_id_t *out);
/* 436 + signature_data_len, or 0 when it does not fit. */
size_t itest_quote_len(const uint8_t *q, size_t cap);

/* ---- verification of a quote made by the daemon ---- */
/* Exports the collateral of the daemon's state dir into out_dir through
 * `sgx-quote collateral export`; -1 (with its output on stderr) when that
 * fails. */
int itest_export_collateral(const itest_daemon *d, const char *out_dir);
/* Checks the quote with @phala/dcap-qvl; returns 0 when it verifies and
 * the status is `expect_status`. Prints the verdict on failure. */
int itest_qvl_verify(const char *quote_path, const char *coll_dir, const char *expect_status);

#endif
