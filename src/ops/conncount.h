/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Open connections per peer, for --max-connections-per-peer: the server
 * takes a slot under the peer's key (pod, else uid; ratelimit.h's key
 * strings) when it accepts a connection and gives it back when the
 * connection closes. Entries exist only while a peer has connections open,
 * so memory is bounded by the number of open connections. Not thread-safe:
 * the event loop is its only user.
 */
#ifndef SGXQH_OPS_CONNCOUNT_H
#define SGXQH_OPS_CONNCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest key, NUL included (RATELIMIT_KEY_MAX). */
#define CONNCOUNT_KEY_MAX 48

typedef struct conncount conncount;

conncount *conncount_new(void);
void conncount_free(conncount *t);

/* One more connection for key, unless it already has `limit` (0 = no
 * limit): true when taken. False also when out of memory. */
bool conncount_take(conncount *t, const char *key, uint32_t limit);
/* Gives one back (no-op for a key without connections). */
void conncount_give(conncount *t, const char *key);
/* Open connections under key (0 when none). */
uint32_t conncount_get(const conncount *t, const char *key);
/* Keys with at least one open connection. */
size_t conncount_keys(const conncount *t);

#endif
