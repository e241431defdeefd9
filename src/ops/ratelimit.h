/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-peer rate limit: one token bucket per key ("uid:<n>", or "pod:<uid>"
 * when the peer's pod is known), in a table bounded by max_keys so a flood
 * of distinct callers cannot grow memory. Each accepted connection takes one
 * token; an empty bucket means reject (counted as
 * rejected{reason="ratelimit"}).
 *
 * When the table is full a new key reuses the slot of a key whose bucket has
 * refilled completely (forgetting it changes nothing: a new key starts full),
 * else the slot of the key used least recently. Thread-safe (one mutex).
 * Time comes from a clock function so tests drive it.
 */
#ifndef SGXQH_OPS_RATELIMIT_H
#define SGXQH_OPS_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_KEY_MAX 48 /* incl. NUL; "pod:" + 36-char UID fits */
#define RATELIMIT_RATE_MAX 1000000.0
#define RATELIMIT_BURST_MAX 1000000.0
#define RATELIMIT_MAX_KEYS_LIMIT ((size_t)1 << 20)
#define RATELIMIT_DEFAULT_MAX_KEYS 4096

typedef enum {
    RATELIMIT_OK = 0,
    RATELIMIT_E_INVALID_ARG = -1, /* NULL, key too long or empty */
    RATELIMIT_E_CONFIG = -2,      /* rate/burst/max_keys out of range */
    RATELIMIT_E_NOMEM = -3,
} ratelimit_err;

typedef struct {
    double rate;     /* tokens per second; 0 turns limiting off */
    double burst;    /* bucket size (requests allowed at once); >= 1 when rate > 0 */
    size_t max_keys; /* table bound, 1..RATELIMIT_MAX_KEYS_LIMIT */
} ratelimit_config;

/* Monotonic time in nanoseconds. */
typedef uint64_t (*ratelimit_clock_fn)(void *ctx);

typedef struct ratelimit ratelimit;

const char *ratelimit_strerror(int err);

/* rate 0 (off), burst 0, max_keys RATELIMIT_DEFAULT_MAX_KEYS. */
void ratelimit_config_default(ratelimit_config *cfg);
int ratelimit_config_check(const ratelimit_config *cfg);

/* clock NULL means CLOCK_MONOTONIC. Returns NULL with *err set on failure. */
ratelimit *ratelimit_new(const ratelimit_config *cfg, ratelimit_clock_fn clock, void *clock_ctx,
                         int *err);
void ratelimit_free(ratelimit *rl);

/* Take one token for key; true = allowed. Always true when rate is 0. A key
 * that is NULL, empty or too long is limited under the shared key "?". */
bool ratelimit_take(ratelimit *rl, const char *key);

/* SIGHUP: new rate/burst apply to existing buckets (tokens are clamped to
 * the new burst); a smaller max_keys drops the least recently used keys. */
int ratelimit_reconfigure(ratelimit *rl, const ratelimit_config *cfg);

size_t ratelimit_key_count(ratelimit *rl);
uint64_t ratelimit_evictions(ratelimit *rl);

/* Key builders: "uid:1000" and "pod:<uid>". Return RATELIMIT_OK or
 * RATELIMIT_E_INVALID_ARG when buf is too small / pod_uid empty. */
int ratelimit_key_uid(char *buf, size_t cap, uint32_t uid);
int ratelimit_key_pod(char *buf, size_t cap, const char *pod_uid);

#endif
