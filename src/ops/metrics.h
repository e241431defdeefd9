/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small thread-safe Prometheus registry: counters, gauges and fixed-bucket
 * histograms, each a family with up to METRICS_MAX_LABELS label names, and a
 * renderer for the text exposition format 0.0.4 (what GET /metrics serves,
 * Content-Type "text/plain; version=0.0.4; charset=utf-8").
 *
 * Families render in registration order, series in creation order. A
 * family without labels has its one series from the start (so it renders as
 * 0 before the first update). Label cardinality is bounded per family
 * (METRICS_MAX_SERIES): callers pass values from closed sets (operation
 * names, aesm error names, reject reasons), and an update that would create
 * one more series fails with METRICS_E_CARDINALITY instead of growing.
 *
 * Return convention: 0 (METRICS_OK) or a negative METRICS_E_* code.
 */
#ifndef SGXQH_OPS_METRICS_H
#define SGXQH_OPS_METRICS_H

#include <stddef.h>

#define METRICS_MAX_LABELS 4
#define METRICS_MAX_SERIES 512
#define METRICS_MAX_BUCKETS 32
#define METRICS_NAME_MAX 128
#define METRICS_LABEL_VALUE_MAX 256
#define METRICS_HELP_MAX 1024
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef enum {
    METRICS_OK = 0,
    METRICS_E_INVALID_ARG = -1, /* NULL, bad count, NaN/negative counter increment */
    METRICS_E_NAME = -2,        /* metric or label name not [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no ':', no "__", no "le" on histograms) */
    METRICS_E_DUPLICATE = -3,   /* a family with this name exists */
    METRICS_E_TYPE = -4,        /* e.g. observe() on a counter */
    METRICS_E_CARDINALITY = -5, /* METRICS_MAX_SERIES reached */
    METRICS_E_VALUE = -6,       /* label value NULL or too long */
    METRICS_E_BUCKETS = -7,     /* bounds not finite and strictly increasing, or too many */
    METRICS_E_NOMEM = -8,
} metrics_err;

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_type;

typedef struct metrics_registry metrics_registry;
typedef struct metric_family metric_family;

const char *metrics_strerror(int err);

metrics_registry *metrics_registry_new(void);
/* Frees the registry and every family in it. */
void metrics_registry_free(metrics_registry *reg);

/* Register a family. label_names has n_labels entries (n_labels may be 0,
 * label_names then NULL). On failure returns NULL and sets *err (if given).
 * help is copied; it may contain any text (escaped on output). */
metric_family *metrics_counter_new(metrics_registry *reg, const char *name, const char *help,
                                   const char *const *label_names, size_t n_labels, int *err);
metric_family *metrics_gauge_new(metrics_registry *reg, const char *name, const char *help,
                                 const char *const *label_names, size_t n_labels, int *err);
/* bounds: the finite upper bounds, strictly increasing; "+Inf" is implied. */
metric_family *metrics_histogram_new(metrics_registry *reg, const char *name, const char *help,
                                     const char *const *label_names, size_t n_labels,
                                     const double *bounds, size_t n_bounds, int *err);

/* Updates. label_values has the family's n_labels entries (NULL when 0). */
/* Take the registry's lock for several updates in a row from this thread
 * (one lock for a batch instead of one per update); updates and
 * metrics_value from this thread in between do not lock again. Nothing
 * else of the registry may be called in between. */
void metrics_hold(metrics_registry *reg);
void metrics_release(metrics_registry *reg);

int metrics_counter_add(metric_family *f, const char *const *label_values, double v); /* v >= 0 */
int metrics_gauge_set(metric_family *f, const char *const *label_values, double v);
int metrics_gauge_add(metric_family *f, const char *const *label_values, double delta);
int metrics_histogram_observe(metric_family *f, const char *const *label_values, double v);
/* Make a series exist (value 0) without changing it: pre-declares a label
 * combination so dashboards see 0 rather than nothing. */
int metrics_touch(metric_family *f, const char *const *label_values);

/* Current value of a counter or gauge series (tests, /readyz logic);
 * METRICS_E_VALUE when the series does not exist. */
int metrics_value(metric_family *f, const char *const *label_values, double *out);

/* Render the whole registry. *text is malloc'd and NUL-terminated; *len
 * excludes the NUL. */
int metrics_render(metrics_registry *reg, char **text, size_t *len);

/* Format a sample value as the exposition format writes it: "NaN", "+Inf",
 * "-Inf", integers without exponent or point, else the shortest decimal
 * that reads back as the same double. buf needs 32 bytes. */
void metrics_format_value(double v, char buf[32]);

#endif
