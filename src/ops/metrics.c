/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Prometheus registry behind GET /metrics (metrics.h). Request handling
 * on the loop and worker threads updates series; the HTTP thread renders.
 * One registry mutex covers everything: updates are a few adds, rendering
 * is rare, and one lock keeps each rendered page a consistent snapshot
 * (a histogram's buckets, _sum and _count always agree).
 * Text format reference: Prometheus "Exposition formats", text 0.0.4.
 */
#include "ops/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/strbuf.h"

typedef struct {
    char *values[METRICS_MAX_LABELS];
    double value;     /* counter, gauge */
    uint64_t *counts; /* histogram: per bucket (not cumulative), n_bounds + 1 */
    double sum;
    uint64_t count;
} series;

struct metric_family {
    metrics_registry *reg;
    metric_type type;
    char *name;
    char *help;
    char *labels[METRICS_MAX_LABELS];
    size_t n_labels;
    double bounds[METRICS_MAX_BUCKETS];
    size_t n_bounds;
    series **series;
    size_t n_series, cap_series;
};

struct metrics_registry {
    pthread_mutex_t lock;
    metric_family **families;
    size_t n, cap;
};

static bool name_char_ok(char c, bool first, bool allow_colon)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
        return true;
    if (c == ':')
        return allow_colon;
    return !first && c >= '0' && c <= '9';
}

static bool valid_name(const char *s, bool allow_colon)
{
    if (s == NULL || s[0] == '\0' || strnlen(s, METRICS_NAME_MAX + 1) > METRICS_NAME_MAX)
        return false;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (!name_char_ok(s[i], i == 0, allow_colon))
            return false;
    }
    return true;
}

static void series_free(series *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < METRICS_MAX_LABELS; i++)
        free(s->values[i]);
    free(s->counts);
    free(s);
}

static void family_free(metric_family *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n_series; i++)
        series_free(f->series[i]);
    free(f->series);
    for (size_t i = 0; i < f->n_labels; i++)
        free(f->labels[i]);
    free(f->name);
    free(f->help);
    free(f);
}

metrics_registry *metrics_registry_new(void)
{
    metrics_registry *reg = calloc(1, sizeof *reg);
    if (reg != NULL)
        pthread_mutex_init(&reg->lock, NULL);
    return reg;
}

void metrics_registry_free(metrics_registry *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->n; i++)
        family_free(reg->families[i]);
    free(reg->families);
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

/* Caller holds the lock. Finds or (create) adds the series for values. */
static int find_series(metric_family *f, const char *const *values, bool create, series **out)
{
    if (f->n_labels > 0 && values == NULL)
        return METRICS_E_VALUE;
    for (size_t i = 0; i < f->n_labels; i++) {
        if (values[i] == NULL || strnlen(values[i], METRICS_LABEL_VALUE_MAX + 1) >
                                     METRICS_LABEL_VALUE_MAX)
            return METRICS_E_VALUE;
    }
    for (size_t i = 0; i < f->n_series; i++) {
        series *s = f->series[i];
        size_t k = 0;
        while (k < f->n_labels && strcmp(s->values[k], values[k]) == 0)
            k++;
        if (k == f->n_labels) {
            *out = s;
            return METRICS_OK;
        }
    }
    if (!create)
        return METRICS_E_VALUE;
    if (f->n_series == METRICS_MAX_SERIES)
        return METRICS_E_CARDINALITY;
    if (f->n_series == f->cap_series) {
        size_t ncap = f->cap_series ? f->cap_series * 2 : 8;
        series **ns = realloc(f->series, ncap * sizeof *ns);
        if (ns == NULL)
            return METRICS_E_NOMEM;
        f->series = ns;
        f->cap_series = ncap;
    }
    series *s = calloc(1, sizeof *s);
    if (s == NULL)
        return METRICS_E_NOMEM;
    for (size_t i = 0; i < f->n_labels; i++) {
        s->values[i] = strdup(values[i]);
        if (s->values[i] == NULL) {
            series_free(s);
            return METRICS_E_NOMEM;
        }
    }
    if (f->type == METRIC_HISTOGRAM) {
        s->counts = calloc(f->n_bounds + 1, sizeof *s->counts);
        if (s->counts == NULL) {
            series_free(s);
            return METRICS_E_NOMEM;
        }
    }
    f->series[f->n_series++] = s;
    *out = s;
    return METRICS_OK;
}

static metric_family *family_new(metrics_registry *reg, metric_type type, const char *name,
                                 const char *help, const char *const *label_names,
                                 size_t n_labels, const double *bounds, size_t n_bounds,
                                 int *err)
{
    int rc = METRICS_OK;
    metric_family *f = NULL;
    bool locked = false;
    if (reg == NULL || help == NULL || n_labels > METRICS_MAX_LABELS ||
        (n_labels > 0 && label_names == NULL) ||
        strnlen(help, METRICS_HELP_MAX + 1) > METRICS_HELP_MAX) {
        rc = METRICS_E_INVALID_ARG;
        goto out;
    }
    if (!valid_name(name, true)) {
        rc = METRICS_E_NAME;
        goto out;
    }
    for (size_t i = 0; i < n_labels; i++) {
        const char *l = label_names[i];
        if (!valid_name(l, false) || strncmp(l, "__", 2) == 0 ||
            (type == METRIC_HISTOGRAM && strcmp(l, "le") == 0)) {
            rc = METRICS_E_NAME;
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(label_names[j], l) == 0) {
                rc = METRICS_E_NAME;
                goto out;
            }
        }
    }
    if (type == METRIC_HISTOGRAM) {
        if (n_bounds > METRICS_MAX_BUCKETS || (n_bounds > 0 && bounds == NULL)) {
            rc = METRICS_E_BUCKETS;
            goto out;
        }
        for (size_t i = 0; i < n_bounds; i++) {
            if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
                rc = METRICS_E_BUCKETS;
                goto out;
            }
        }
    }

    f = calloc(1, sizeof *f);
    if (f == NULL || (f->name = strdup(name)) == NULL || (f->help = strdup(help)) == NULL) {
        rc = METRICS_E_NOMEM;
        goto out;
    }
    f->reg = reg;
    f->type = type;
    for (size_t i = 0; i < n_labels; i++) {
        if ((f->labels[i] = strdup(label_names[i])) == NULL) {
            rc = METRICS_E_NOMEM;
            goto out;
        }
        f->n_labels = i + 1;
    }
    if (type == METRIC_HISTOGRAM) {
        if (n_bounds > 0)
            memcpy(f->bounds, bounds, n_bounds * sizeof *bounds);
        f->n_bounds = n_bounds;
    }

    pthread_mutex_lock(&reg->lock);
    locked = true;
    for (size_t i = 0; i < reg->n; i++) {
        if (strcmp(reg->families[i]->name, name) == 0) {
            rc = METRICS_E_DUPLICATE;
            goto out;
        }
    }
    if (n_labels == 0) {
        series *s;
        rc = find_series(f, NULL, true, &s);
        if (rc != METRICS_OK)
            goto out;
    }
    if (reg->n == reg->cap) {
        size_t ncap = reg->cap ? reg->cap * 2 : 16;
        metric_family **nf = realloc(reg->families, ncap * sizeof *nf);
        if (nf == NULL) {
            rc = METRICS_E_NOMEM;
            goto out;
        }
        reg->families = nf;
        reg->cap = ncap;
    }
    reg->families[reg->n++] = f;
out:
    if (locked)
        pthread_mutex_unlock(&reg->lock);
    if (rc != METRICS_OK) {
        family_free(f);
        f = NULL;
    }
    if (err != NULL)
        *err = rc;
    return f;
}

metric_family *metrics_counter_new(metrics_registry *reg, const char *name, const char *help,
                                   const char *const *label_names, size_t n_labels, int *err)
{
    return family_new(reg, METRIC_COUNTER, name, help, label_names, n_labels, NULL, 0, err);
}

metric_family *metrics_gauge_new(metrics_registry *reg, const char *name, const char *help,
                                 const char *const *label_names, size_t n_labels, int *err)
{
    return family_new(reg, METRIC_GAUGE, name, help, label_names, n_labels, NULL, 0, err);
}

metric_family *metrics_histogram_new(metrics_registry *reg, const char *name, const char *help,
                                     const char *const *label_names, size_t n_labels,
                                     const double *bounds, size_t n_bounds, int *err)
{
    return family_new(reg, METRIC_HISTOGRAM, name, help, label_names, n_labels, bounds, n_bounds,
                      err);
}

/* The registry this thread holds locked across several updates
 * (metrics_hold): its updates skip taking the lock again. */
static _Thread_local metrics_registry *held_by_thread;

void metrics_hold(metrics_registry *reg)
{
    pthread_mutex_lock(&reg->lock);
    held_by_thread = reg;
}

void metrics_release(metrics_registry *reg)
{
    held_by_thread = NULL;
    pthread_mutex_unlock(&reg->lock);
}

static void reg_lock(metrics_registry *reg)
{
    if (held_by_thread != reg)
        pthread_mutex_lock(&reg->lock);
}

static void reg_unlock(metrics_registry *reg)
{
    if (held_by_thread != reg)
        pthread_mutex_unlock(&reg->lock);
}

typedef enum { OP_ADD, OP_SET, OP_OBSERVE, OP_TOUCH } update_op;

static int update(metric_family *f, const char *const *values, update_op op, double v)
{
    if (f == NULL)
        return METRICS_E_INVALID_ARG;
    switch (op) {
    case OP_ADD:
        if (f->type == METRIC_HISTOGRAM)
            return METRICS_E_TYPE;
        if (f->type == METRIC_COUNTER && !(v >= 0))
            return METRICS_E_INVALID_ARG; /* also rejects NaN */
        break;
    case OP_SET:
        if (f->type != METRIC_GAUGE)
            return METRICS_E_TYPE;
        break;
    case OP_OBSERVE:
        if (f->type != METRIC_HISTOGRAM)
            return METRICS_E_TYPE;
        if (isnan(v))
            return METRICS_E_INVALID_ARG;
        break;
    case OP_TOUCH:
        break;
    }
    reg_lock(f->reg);
    series *s;
    int rc = find_series(f, values, true, &s);
    if (rc == METRICS_OK) {
        switch (op) {
        case OP_ADD: s->value += v; break;
        case OP_SET: s->value = v; break;
        case OP_OBSERVE: {
            size_t b = 0;
            while (b < f->n_bounds && v > f->bounds[b]) /* le: v <= bound */
                b++;
            s->counts[b]++;
            s->sum += v;
            s->count++;
            break;
        }
        case OP_TOUCH: break;
        }
    }
    reg_unlock(f->reg);
    return rc;
}

int metrics_counter_add(metric_family *f, const char *const *label_values, double v)
{
    if (f != NULL && f->type != METRIC_COUNTER)
        return METRICS_E_TYPE;
    return update(f, label_values, OP_ADD, v);
}

int metrics_gauge_set(metric_family *f, const char *const *label_values, double v)
{
    return update(f, label_values, OP_SET, v);
}

int metrics_gauge_add(metric_family *f, const char *const *label_values, double delta)
{
    if (f != NULL && f->type != METRIC_GAUGE)
        return METRICS_E_TYPE;
    return update(f, label_values, OP_ADD, delta);
}

int metrics_histogram_observe(metric_family *f, const char *const *label_values, double v)
{
    return update(f, label_values, OP_OBSERVE, v);
}

int metrics_touch(metric_family *f, const char *const *label_values)
{
    return update(f, label_values, OP_TOUCH, 0);
}

int metrics_value(metric_family *f, const char *const *label_values, double *out)
{
    if (f == NULL || out == NULL)
        return METRICS_E_INVALID_ARG;
    if (f->type == METRIC_HISTOGRAM)
        return METRICS_E_TYPE;
    reg_lock(f->reg);
    series *s;
    int rc = find_series(f, label_values, false, &s);
    if (rc == METRICS_OK)
        *out = s->value;
    reg_unlock(f->reg);
    return rc;
}

void metrics_format_value(double v, char buf[32])
{
    if (isnan(v)) {
        snprintf(buf, 32, "NaN");
    } else if (isinf(v)) {
        snprintf(buf, 32, v > 0 ? "+Inf" : "-Inf");
    } else if (fabs(v) < 1e15 && v == (double)(long long)v) {
        /* Integral and exact in a long long; also turns -0 into "0". The
         * cast, not floor(): no libm in the daemon (docs/daemon.md
         * "Memory"). */
        snprintf(buf, 32, "%lld", (long long)v);
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, 32, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
}

/* HELP text escapes '\' and newline; label values also '"' (format 0.0.4). */
static void put_escaped(strbuf *b, const char *s, bool quote)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            strbuf_puts(b, "\\\\");
        else if (*s == '\n')
            strbuf_puts(b, "\\n");
        else if (quote && *s == '"')
            strbuf_puts(b, "\\\"");
        else
            strbuf_putc(b, *s);
    }
}

/* name{l1="v1",...[,le="x"]} value\n */
static void put_sample(strbuf *b, const metric_family *f, const char *suffix, const series *s,
                       const char *le, double value)
{
    char num[32];
    strbuf_puts(b, f->name);
    strbuf_puts(b, suffix);
    if (f->n_labels > 0 || le != NULL) {
        strbuf_putc(b, '{');
        for (size_t i = 0; i < f->n_labels; i++) {
            if (i > 0)
                strbuf_putc(b, ',');
            strbuf_printf(b, "%s=\"", f->labels[i]);
            put_escaped(b, s->values[i], true);
            strbuf_putc(b, '"');
        }
        if (le != NULL)
            strbuf_printf(b, "%sle=\"%s\"", f->n_labels > 0 ? "," : "", le);
        strbuf_putc(b, '}');
    }
    metrics_format_value(value, num);
    strbuf_printf(b, " %s\n", num);
}

static const char *type_name(metric_type t)
{
    switch (t) {
    case METRIC_COUNTER: return "counter";
    case METRIC_GAUGE: return "gauge";
    case METRIC_HISTOGRAM: return "histogram";
    }
    return "untyped";
}

int metrics_render(metrics_registry *reg, char **text, size_t *len)
{
    if (reg == NULL || text == NULL)
        return METRICS_E_INVALID_ARG;
    strbuf b;
    strbuf_init(&b);
    pthread_mutex_lock(&reg->lock);
    for (size_t i = 0; i < reg->n; i++) {
        const metric_family *f = reg->families[i];
        strbuf_printf(&b, "# HELP %s ", f->name);
        put_escaped(&b, f->help, false);
        strbuf_printf(&b, "\n# TYPE %s %s\n", f->name, type_name(f->type));
        for (size_t k = 0; k < f->n_series; k++) {
            const series *s = f->series[k];
            if (f->type != METRIC_HISTOGRAM) {
                put_sample(&b, f, "", s, NULL, s->value);
                continue;
            }
            uint64_t cum = 0;
            char le[32];
            for (size_t j = 0; j < f->n_bounds; j++) {
                cum += s->counts[j];
                metrics_format_value(f->bounds[j], le);
                put_sample(&b, f, "_bucket", s, le, (double)cum);
            }
            put_sample(&b, f, "_bucket", s, "+Inf", (double)s->count);
            put_sample(&b, f, "_sum", s, NULL, s->sum);
            put_sample(&b, f, "_count", s, NULL, (double)s->count);
        }
    }
    pthread_mutex_unlock(&reg->lock);
    *text = strbuf_take(&b, len);
    return *text != NULL ? METRICS_OK : METRICS_E_NOMEM;
}

const char *metrics_strerror(int err)
{
    switch (err) {
    case METRICS_OK: return "ok";
    case METRICS_E_INVALID_ARG: return "invalid argument";
    case METRICS_E_NAME: return "invalid metric or label name";
    case METRICS_E_DUPLICATE: return "metric already registered";
    case METRICS_E_TYPE: return "operation does not fit the metric type";
    case METRICS_E_CARDINALITY: return "too many label combinations for one metric";
    case METRICS_E_VALUE: return "label value missing or too long, or no such series";
    case METRICS_E_BUCKETS: return "histogram bounds must be finite and strictly increasing";
    case METRICS_E_NOMEM: return "out of memory";
    default: return "unknown metrics error";
    }
}
