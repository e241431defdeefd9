/* SPDX-License-Identifier: Apache-2.0 */
/*
 * accept (server.c) → [conncount] → per-peer connection cap. A chained hash
 * table of key → open connections; an entry is freed when its count drops
 * to zero, so a flood of distinct peers costs memory only while their
 * connections are open (and those are capped by --max-connections).
 */
#include "ops/conncount.h"

#include <stdlib.h>
#include <string.h>

#define CONNCOUNT_BUCKETS 1024u

typedef struct entry {
    struct entry *next;
    uint32_t count;
    char key[CONNCOUNT_KEY_MAX];
} entry;

struct conncount {
    entry *buckets[CONNCOUNT_BUCKETS];
    size_t n_keys;
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

bool conncount_take(conncount *t, const char *key, uint32_t limit)
{
    if (t == NULL || key == NULL || strlen(key) >= CONNCOUNT_KEY_MAX)
        return false;
    entry **pp = find(t, key);
    if (*pp == NULL) {
        entry *e = calloc(1, sizeof *e);
        if (e == NULL)
            return false;
        memcpy(e->key, key, strlen(key) + 1);
        *pp = e;
        t->n_keys++;
    }
    if (limit != 0 && (*pp)->count >= limit)
        return false;
    (*pp)->count++;
    return true;
}

void conncount_give(conncount *t, const char *key)
{
    if (t == NULL || key == NULL)
        return;
    entry **pp = find(t, key);
    entry *e = *pp;
    if (e == NULL)
        return;
    if (e->count > 0)
        e->count--;
    if (e->count == 0) {
        *pp = e->next;
        free(e);
        t->n_keys--;
    }
}

uint32_t conncount_get(const conncount *t, const char *key)
{
    if (t == NULL || key == NULL)
        return 0;
    entry **pp = find((conncount *)t, key);
    return *pp != NULL ? (*pp)->count : 0;
}

size_t conncount_keys(const conncount *t)
{
    return t != NULL ? t->n_keys : 0;
}
