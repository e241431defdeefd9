/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An event-driven load generator for the AESM socket, used by
 * `sgx-quote bench quote`: a few threads (one by default), each an epoll
 * loop keeping its share of N requests in flight. Every request is a fresh
 * non-blocking connection (one request per connection, aesm §1.3) that
 * sends one prebuilt frame in one write and reads one length-prefixed
 * response frame (aesm §2). The caller checks each response body.
 *
 * Return convention: 0 (LOADGEN_OK) or a negative LOADGEN_E_* code.
 */
#ifndef SGXQH_BENCH_LOADGEN_H
#define SGXQH_BENCH_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    LOADGEN_OK = 0,
    LOADGEN_E_INVALID = -1, /* bad configuration (NULL, zero sizes, path too long) */
    LOADGEN_E_NOMEM = -2,
    LOADGEN_E_SYS = -3, /* epoll or thread creation failed */
} loadgen_err;

const char *loadgen_strerror(int err);

/* Why a request did not count as a good quote. */
typedef enum {
    LOADGEN_FAIL_CONNECT = 0, /* socket()/connect() failed (a full accept queue is retried) */
    LOADGEN_FAIL_WRITE,       /* the request could not be sent */
    LOADGEN_FAIL_READ,        /* EOF or error before the whole response frame */
    LOADGEN_FAIL_TIMEOUT,     /* not answered within io_timeout_ms */
    LOADGEN_FAIL_FRAME,       /* length prefix above max_response_body, or bytes after the frame */
    LOADGEN_FAIL_RESPONSE,    /* the caller's check rejected the body */
    LOADGEN_FAIL_KINDS
} loadgen_fail;

const char *loadgen_fail_name(loadgen_fail f);

/* Checks one complete response body (without the prefix); 0 = good.
 * Called on the load generator's threads, concurrently: keep it reentrant. */
typedef int (*loadgen_check_fn)(const uint8_t *body, size_t len, void *arg);

typedef struct {
    const char *socket_path;
    const uint8_t *request; /* one whole frame: 4-byte prefix + body */
    size_t request_len;
    size_t max_response_body; /* a larger announced body fails the request */
    loadgen_check_fn check;   /* NULL: any complete frame is good */
    void *check_arg;
    int in_flight;     /* concurrent requests, split over the threads */
    int threads;       /* event loops (1.. in_flight) */
    double seconds;    /* new requests start only this long */
    int io_timeout_ms; /* per request, from connect() to the last byte */
    size_t max_requests; /* and at most this many in all (0: no cap), split over the threads */
} loadgen_config;

typedef struct {
    size_t completed; /* good responses */
    size_t failed[LOADGEN_FAIL_KINDS];
    size_t failed_total;
    size_t connect_retries; /* connect() said EAGAIN (accept queue full) and was retried */
    double elapsed_s;       /* from the first request to the last response */
    double *latency_ms;     /* completed entries, ascending */
} loadgen_result;

/* Runs the load for cfg->seconds (or until cfg->max_requests have been
 * started, whichever comes first), then lets the requests in flight finish
 * (each bounded by io_timeout_ms). *out is filled on LOADGEN_OK; release it
 * with loadgen_result_free(). */
int loadgen_run(const loadgen_config *cfg, loadgen_result *out);
void loadgen_result_free(loadgen_result *r);

/* The value below which a fraction p (0..1) of the sorted samples lie
 * (nearest rank on the lower side); 0 for no samples. */
double loadgen_percentile(const double *sorted, size_t n, double p);

#endif
