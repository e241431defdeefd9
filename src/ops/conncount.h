/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-peer shares of a counted resource: connection slots
 * (--max-connections, --max-connections-per-peer) and unread-reply bytes
 * (--max-unread-bytes, --max-unread-bytes-per-peer). The server takes an
 * amount under the peer's key (docs/operations.md "Multi-tenant limits":
 * "pod:<uid>", "netns:<cookie>" or "uid:<n>") and gives it back when the
 * resource is free again. Entries exist only while a key holds something,
 * so memory is bounded by what is held. Protocol-agnostic: any listener may
 * use it. Not thread-safe: the event loop is its only user.
 *
 * The fair-share rule (conncount_take_n): a key never holds more than
 * per_key; all keys together never more than total; and the top `reserve`
 * of total is only for keys that stay within `guaranteed` after the take.
 * So however many keys fill the rest, and however fast they come back when
 * cut, a key that holds little (a pod under its share, a liveness probe of
 * another tenant) still finds room.
 */
#ifndef SGXQH_OPS_CONNCOUNT_H
#define SGXQH_OPS_CONNCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest key, NUL included (RATELIMIT_KEY_MAX). */
#define CONNCOUNT_KEY_MAX 48

typedef struct conncount conncount;

typedef struct {
    uint64_t total;      /* all keys together; 0 = no cap */
    uint64_t per_key;    /* one key; 0 = no cap */
    uint64_t reserve;    /* top part of total only for keys within guaranteed */
    uint64_t guaranteed; /* a key holding at most this (after the take) may use the reserve */
} conncount_limits;

typedef enum {
    CONNCOUNT_OK = 0,
    CONNCOUNT_E_KEY = -1,   /* the key would exceed per_key */
    CONNCOUNT_E_TOTAL = -2, /* total (or, for a key above guaranteed, total - reserve) */
    CONNCOUNT_E_NOMEM = -3, /* also: NULL table or key, key too long */
} conncount_err;

conncount *conncount_new(void);
void conncount_free(conncount *t);

/* n more for key under lim (NULL: no limits, always taken unless out of
 * memory). CONNCOUNT_OK or a conncount_err; nothing is taken on error. */
int conncount_take_n(conncount *t, const char *key, uint64_t n, const conncount_limits *lim);
/* Gives n back (clamped to what key holds; no-op for an unknown key). */
void conncount_give_n(conncount *t, const char *key, uint64_t n);

/* One more connection for key, unless it already has `limit` (0 = no
 * limit): true when taken. False also when out of memory. */
bool conncount_take(conncount *t, const char *key, uint32_t limit);
/* Gives one back (no-op for a key without connections). */
void conncount_give(conncount *t, const char *key);
/* Held under key (0 when none). */
uint64_t conncount_get(const conncount *t, const char *key);
/* Held by all keys together. */
uint64_t conncount_total(const conncount *t);
/* Keys holding something. */
size_t conncount_keys(const conncount *t);

#endif
