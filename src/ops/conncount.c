/* SPDX-License-Identifier: Apache-2.0 */
/*
 * accept / reply (server.c) → [conncount] → per-peer shares of connection
 * slots and unread-reply bytes. A chained hash table of key → amount held
 * plus the sum over all keys; an entry is freed when its amount drops to
 * zero, so a flood of distinct peers costs memory only while they hold
 * something (and that is capped by the totals).
 */
#include "ops/conncount.h"

#include <stdlib.h>
#include <string.h>

#define CONNCOUNT_BUCKETS 1024u

typedef struct entry {
    struct entry *next;
    uint64_t count;
    char key[CONNCOUNT_KEY_MAX];
} entry;

struct conncount {
    entry *buckets[CONNCOUNT_BUCKETS];
    size_t n_keys;
    uint64_t total;
};

/* FNV-1a: keys are short and partly peer-chosen (a pod UID); chains stay
 * short because the number of entries is bounded by open connections. */
static uint32_t hash_key(const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h % CONNCOUNT_BUCKETS;
}

conncount *conncount_new(void)
{
    return calloc(1, sizeof(conncount));
}

void conncount_free(conncount *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < CONNCOUNT_BUCKETS; i++) {
        entry *e = t->buckets[i];
        while (e != NULL) {
            entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(t);
}

static entry **find(conncount *t, const char *key)
{
    entry **pp = &t->buckets[hash_key(key)];
    while (*pp != NULL && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* The fair-share rule of conncount.h. */
static int share_check(const conncount *t, uint64_t held, uint64_t n, const conncount_limits *lim)
{
    if (lim == NULL)
        return CONNCOUNT_OK;
    if (lim->per_key != 0 && (held + n > lim->per_key || n > lim->per_key))
        return CONNCOUNT_E_KEY;
    if (lim->total == 0)
        return CONNCOUNT_OK;
    if (t->total + n > lim->total || n > lim->total)
        return CONNCOUNT_E_TOTAL;
    uint64_t shared = lim->reserve < lim->total ? lim->total - lim->reserve : 0;
    if (t->total + n > shared && held + n > lim->guaranteed)
        return CONNCOUNT_E_TOTAL;
    return CONNCOUNT_OK;
}

int conncount_take_n(conncount *t, const char *key, uint64_t n, const conncount_limits *lim)
{
    if (t == NULL || key == NULL || strlen(key) >= CONNCOUNT_KEY_MAX)
        return CONNCOUNT_E_NOMEM;
    entry **pp = find(t, key);
    int rc = share_check(t, *pp != NULL ? (*pp)->count : 0, n, lim);
    if (rc != CONNCOUNT_OK)
        return rc;
    if (*pp == NULL) {
        entry *e = calloc(1, sizeof *e);
        if (e == NULL)
            return CONNCOUNT_E_NOMEM;
        memcpy(e->key, key, strlen(key) + 1);
        *pp = e;
        t->n_keys++;
    }
    (*pp)->count += n;
    t->total += n;
    if ((*pp)->count == 0) { /* n == 0 for a new key: hold nothing */
        entry *e = *pp;
        *pp = e->next;
        free(e);
        t->n_keys--;
    }
    return CONNCOUNT_OK;
}

void conncount_give_n(conncount *t, const char *key, uint64_t n)
{
    if (t == NULL || key == NULL)
        return;
    entry **pp = find(t, key);
    entry *e = *pp;
    if (e == NULL)
        return;
    if (n > e->count)
        n = e->count;
    e->count -= n;
    t->total -= n;
    if (e->count == 0) {
        *pp = e->next;
        free(e);
        t->n_keys--;
    }
}

bool conncount_take(conncount *t, const char *key, uint32_t limit)
{
    conncount_limits lim = {.per_key = limit};
    return conncount_take_n(t, key, 1, &lim) == CONNCOUNT_OK;
}

void conncount_give(conncount *t, const char *key)
{
    conncount_give_n(t, key, 1);
}

uint64_t conncount_get(const conncount *t, const char *key)
{
    if (t == NULL || key == NULL)
        return 0;
    entry **pp = find((conncount *)t, key);
    return *pp != NULL ? (*pp)->count : 0;
}

uint64_t conncount_total(const conncount *t)
{
    return t != NULL ? t->total : 0;
}

size_t conncount_keys(const conncount *t)
{
    return t != NULL ? t->n_keys : 0;
}
