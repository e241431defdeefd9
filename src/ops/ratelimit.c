/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token buckets for the per-peer rate limit (ratelimit.h). The daemon calls
 * ratelimit_take() once per accepted connection, after the ACL and before
 * reading the request. Tokens are kept in integer micro-tokens so refills
 * are exact and repeatable under a fake clock; the table is a fixed array of
 * entries chained into a power-of-two bucket index, allocated once.
 */
#include "ops/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MICRO 1000000ULL

/* v (a rate or burst, >= 0, at most RATELIMIT_*_MAX) in millionths,
 * rounded half away from zero as llround() would: done here so the
 * daemon does not load libm (~300 KiB resident, its IFUNC resolvers run
 * at load) for one call. */
static uint64_t to_micro(double v)
{
    double x = v * (double)MICRO;
    if (!(x > 0))
        return 0;
    if (x >= 18446744073709549568.0) /* the largest double below 2^64 */
        return UINT64_MAX;
    uint64_t whole = (uint64_t)x; /* truncates toward zero */
    return x - (double)whole >= 0.5 ? whole + 1u : whole;
}
#define NS_PER_SEC 1000000000ULL
#define NO_ENTRY (-1)

typedef struct {
    char key[RATELIMIT_KEY_MAX];
    uint64_t hash;
    uint64_t tokens; /* micro-tokens, <= burst */
    uint64_t last_ns; /* last refill == last use */
    int32_t next;     /* next in bucket chain, or in the free list */
    bool used;
} rl_entry;

typedef struct {
    rl_entry *entries;
    size_t cap;      /* number of entries == max_keys */
    int32_t *heads;  /* bucket chain heads */
    size_t nbuckets; /* power of two >= cap */
    int32_t free_head; /* entries freed by eviction or shrink */
    size_t fresh;      /* entries[fresh..cap) were never used */
    size_t count;
} rl_table;

struct ratelimit {
    pthread_mutex_t lock;
    ratelimit_clock_fn clock;
    void *clock_ctx;
    uint64_t rate;  /* micro-tokens per second; 0 = off */
    uint64_t burst; /* micro-tokens */
    rl_table t;
    uint64_t evictions;
};

static uint64_t monotonic_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* FNV-1a: keys are short and come from the kernel (uid) or our own parser
 * (pod UID), so flooding one chain needs many real identities. */
static uint64_t key_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void ratelimit_config_default(ratelimit_config *cfg)
{
    cfg->rate = 0;
    cfg->burst = 0;
    cfg->max_keys = RATELIMIT_DEFAULT_MAX_KEYS;
}

int ratelimit_config_check(const ratelimit_config *cfg)
{
    if (cfg == NULL)
        return RATELIMIT_E_INVALID_ARG;
    if (!(cfg->rate >= 0 && cfg->rate <= RATELIMIT_RATE_MAX))
        return RATELIMIT_E_CONFIG;
    if (!(cfg->burst >= 0 && cfg->burst <= RATELIMIT_BURST_MAX))
        return RATELIMIT_E_CONFIG;
    if (cfg->rate > 0 && cfg->burst < 1)
        return RATELIMIT_E_CONFIG;
    if (cfg->max_keys < 1 || cfg->max_keys > RATELIMIT_MAX_KEYS_LIMIT)
        return RATELIMIT_E_CONFIG;
    return RATELIMIT_OK;
}

static void table_free(rl_table *t)
{
    free(t->entries);
    free(t->heads);
    memset(t, 0, sizeof *t);
}

static int table_init(rl_table *t, size_t cap)
{
    memset(t, 0, sizeof *t);
    size_t nb = 1;
    while (nb < cap)
        nb <<= 1;
    t->entries = calloc(cap, sizeof *t->entries);
    t->heads = malloc(nb * sizeof *t->heads);
    if (t->entries == NULL || t->heads == NULL) {
        table_free(t);
        return RATELIMIT_E_NOMEM;
    }
    t->cap = cap;
    t->nbuckets = nb;
    for (size_t i = 0; i < nb; i++)
        t->heads[i] = NO_ENTRY;
    /* Entries are handed out from the never-used tail before the free
     * list: no write touches them until a peer needs one, so a daemon with
     * the rate limit off (the default) keeps the table's pages unmapped
     * (4096 keys: 320 KiB of an idle daemon's RSS). */
    t->free_head = NO_ENTRY;
    t->fresh = 0;
    return RATELIMIT_OK;
}

static int32_t table_find(const rl_table *t, const char *key, uint64_t h)
{
    for (int32_t i = t->heads[h & (t->nbuckets - 1)]; i != NO_ENTRY; i = t->entries[i].next) {
        if (t->entries[i].hash == h && strcmp(t->entries[i].key, key) == 0)
            return i;
    }
    return NO_ENTRY;
}

static void table_unlink(rl_table *t, int32_t idx)
{
    rl_entry *e = &t->entries[idx];
    int32_t *link = &t->heads[e->hash & (t->nbuckets - 1)];
    while (*link != idx)
        link = &t->entries[*link].next;
    *link = e->next;
    e->used = false;
    e->next = t->free_head;
    t->free_head = idx;
    t->count--;
}

/* Takes a free entry (the caller made sure there is one) and indexes it. */
static int32_t table_insert(rl_table *t, const char *key, uint64_t h)
{
    int32_t idx = t->free_head;
    if (idx != NO_ENTRY)
        t->free_head = t->entries[idx].next;
    else
        idx = (int32_t)t->fresh++;
    rl_entry *e = &t->entries[idx];
    snprintf(e->key, sizeof e->key, "%s", key);
    e->hash = h;
    e->used = true;
    int32_t *head = &t->heads[h & (t->nbuckets - 1)];
    e->next = *head;
    *head = idx;
    t->count++;
    return idx;
}

/* Refill e up to now; the clock never runs backwards for us. */
static void refill(const ratelimit *rl, rl_entry *e, uint64_t now)
{
    if (now <= e->last_ns) {
        return;
    }
    unsigned __int128 add = (unsigned __int128)(now - e->last_ns) * rl->rate / NS_PER_SEC;
    unsigned __int128 room = rl->burst - e->tokens;
    e->tokens = add >= room ? rl->burst : e->tokens + (uint64_t)add;
    e->last_ns = now;
}

static bool would_be_full(const ratelimit *rl, const rl_entry *e, uint64_t now)
{
    if (e->tokens >= rl->burst)
        return true;
    if (now <= e->last_ns)
        return false;
    unsigned __int128 add = (unsigned __int128)(now - e->last_ns) * rl->rate / NS_PER_SEC;
    return add >= (unsigned __int128)(rl->burst - e->tokens);
}

/* Table full: free a slot whose bucket is full (nothing is lost), else the
 * least recently used one. */
static void evict_one(ratelimit *rl, uint64_t now)
{
    rl_table *t = &rl->t;
    int32_t victim = NO_ENTRY;
    for (size_t i = 0; i < t->cap; i++) {
        rl_entry *e = &t->entries[i];
        if (!e->used)
            continue;
        if (would_be_full(rl, e, now)) {
            victim = (int32_t)i;
            break;
        }
        if (victim == NO_ENTRY || e->last_ns < t->entries[victim].last_ns)
            victim = (int32_t)i;
    }
    table_unlink(t, victim);
    rl->evictions++;
}

ratelimit *ratelimit_new(const ratelimit_config *cfg, ratelimit_clock_fn clock, void *clock_ctx,
                         int *err)
{
    int rc = ratelimit_config_check(cfg);
    ratelimit *rl = NULL;
    if (rc != RATELIMIT_OK)
        goto out;
    rl = calloc(1, sizeof *rl);
    if (rl == NULL) {
        rc = RATELIMIT_E_NOMEM;
        goto out;
    }
    rc = table_init(&rl->t, cfg->max_keys);
    if (rc != RATELIMIT_OK) {
        free(rl);
        rl = NULL;
        goto out;
    }
    pthread_mutex_init(&rl->lock, NULL);
    rl->clock = clock != NULL ? clock : monotonic_ns;
    rl->clock_ctx = clock_ctx;
    rl->rate = to_micro(cfg->rate);
    rl->burst = to_micro(cfg->burst);
out:
    if (err != NULL)
        *err = rc;
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (rl == NULL)
        return;
    table_free(&rl->t);
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

bool ratelimit_take(ratelimit *rl, const char *key)
{
    if (rl == NULL)
        return true;
    if (key == NULL || key[0] == '\0' || strnlen(key, RATELIMIT_KEY_MAX) >= RATELIMIT_KEY_MAX)
        key = "?";
    bool allowed;
    pthread_mutex_lock(&rl->lock);
    if (rl->rate == 0) {
        allowed = true;
        goto out;
    }
    uint64_t now = rl->clock(rl->clock_ctx);
    uint64_t h = key_hash(key);
    int32_t idx = table_find(&rl->t, key, h);
    rl_entry *e;
    if (idx == NO_ENTRY) {
        if (rl->t.count == rl->t.cap)
            evict_one(rl, now);
        idx = table_insert(&rl->t, key, h);
        e = &rl->t.entries[idx];
        e->tokens = rl->burst;
        e->last_ns = now;
    } else {
        e = &rl->t.entries[idx];
        refill(rl, e, now);
    }
    allowed = e->tokens >= MICRO;
    if (allowed)
        e->tokens -= MICRO;
out:
    pthread_mutex_unlock(&rl->lock);
    return allowed;
}

static int by_last_used_desc(const void *a, const void *b)
{
    const rl_entry *x = *(rl_entry *const *)a, *y = *(rl_entry *const *)b;
    return (x->last_ns < y->last_ns) - (x->last_ns > y->last_ns);
}

int ratelimit_reconfigure(ratelimit *rl, const ratelimit_config *cfg)
{
    if (rl == NULL)
        return RATELIMIT_E_INVALID_ARG;
    int rc = ratelimit_config_check(cfg);
    if (rc != RATELIMIT_OK)
        return rc;
    rl_entry **order = NULL;
    rl_table nt = {0};
    pthread_mutex_lock(&rl->lock);
    uint64_t now = rl->clock(rl->clock_ctx);
    /* Settle every bucket at the old rate before switching. */
    for (size_t i = 0; i < rl->t.cap; i++) {
        if (rl->t.entries[i].used)
            refill(rl, &rl->t.entries[i], now);
    }
    if (cfg->max_keys != rl->t.cap) {
        order = malloc((rl->t.count > 0 ? rl->t.count : 1) * sizeof *order);
        rc = order == NULL ? RATELIMIT_E_NOMEM : table_init(&nt, cfg->max_keys);
        if (rc != RATELIMIT_OK)
            goto out;
        size_t n = 0;
        for (size_t i = 0; i < rl->t.cap; i++) {
            if (rl->t.entries[i].used)
                order[n++] = &rl->t.entries[i];
        }
        qsort(order, n, sizeof *order, by_last_used_desc);
        size_t keep = n < nt.cap ? n : nt.cap;
        for (size_t i = 0; i < keep; i++) {
            int32_t idx = table_insert(&nt, order[i]->key, order[i]->hash);
            nt.entries[idx].tokens = order[i]->tokens;
            nt.entries[idx].last_ns = order[i]->last_ns;
        }
        rl->evictions += n - keep;
        table_free(&rl->t);
        rl->t = nt;
    }
    rl->rate = to_micro(cfg->rate);
    rl->burst = to_micro(cfg->burst);
    for (size_t i = 0; i < rl->t.cap; i++) {
        rl_entry *e = &rl->t.entries[i];
        if (e->used && e->tokens > rl->burst)
            e->tokens = rl->burst;
    }
out:
    pthread_mutex_unlock(&rl->lock);
    free(order);
    return rc;
}

size_t ratelimit_key_count(ratelimit *rl)
{
    if (rl == NULL)
        return 0;
    pthread_mutex_lock(&rl->lock);
    size_t n = rl->t.count;
    pthread_mutex_unlock(&rl->lock);
    return n;
}

uint64_t ratelimit_evictions(ratelimit *rl)
{
    if (rl == NULL)
        return 0;
    pthread_mutex_lock(&rl->lock);
    uint64_t n = rl->evictions;
    pthread_mutex_unlock(&rl->lock);
    return n;
}

int ratelimit_key_uid(char *buf, size_t cap, uint32_t uid)
{
    if (buf == NULL)
        return RATELIMIT_E_INVALID_ARG;
    int n = snprintf(buf, cap, "uid:%u", uid);
    return n < 0 || (size_t)n >= cap ? RATELIMIT_E_INVALID_ARG : RATELIMIT_OK;
}

int ratelimit_key_pod(char *buf, size_t cap, const char *pod_uid)
{
    if (buf == NULL || pod_uid == NULL || pod_uid[0] == '\0')
        return RATELIMIT_E_INVALID_ARG;
    int n = snprintf(buf, cap, "pod:%s", pod_uid);
    return n < 0 || (size_t)n >= cap ? RATELIMIT_E_INVALID_ARG : RATELIMIT_OK;
}

const char *ratelimit_strerror(int err)
{
    switch (err) {
    case RATELIMIT_OK: return "ok";
    case RATELIMIT_E_INVALID_ARG: return "invalid argument";
    case RATELIMIT_E_CONFIG:
        return "rate limit out of range: rate 0..1e6/s, burst >= 1 when rate > 0 (max 1e6), "
               "max keys 1..1048576";
    case RATELIMIT_E_NOMEM: return "out of memory";
    default: return "unknown rate-limit error";
    }
}
