/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal verdicts shared by the benchmarks: a goal is a measured value, a
 * limit and a direction (at most / at least). Each is printed as one table
 * line for people and as one JSON object for tools; a goal the run could
 * not measure says so (and what would measure it) instead of passing.
 */
#ifndef SGXQH_BENCH_GOAL_H
#define SGXQH_BENCH_GOAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

typedef enum { BENCH_GOAL_AT_MOST, BENCH_GOAL_AT_LEAST } bench_goal_cmp;

typedef struct {
    const char *name;  /* stable JSON key, e.g. "p99_ms_at_64_clients" */
    const char *label; /* for people, e.g. "p99 at 64 clients" */
    const char *unit;  /* "ms", "x", "KiB" */
    bench_goal_cmp cmp;
    double limit;
    bool measured;
    double value;        /* when measured */
    const char *why_not; /* when not: what the run lacked, e.g. "no 64-client point" */
} bench_goal;

/* Whether a measured goal is met (a goal not measured is never met). */
bool bench_goal_met(const bench_goal *g);

/* The goals as a table: label, value, limit, verdict; then
 * "goals met: K of M measured (N goals)". */
void bench_goals_print(FILE *to, const bench_goal *goals, size_t n);

/* [{"name", "label", "value", "unit", "comparison" ("<=" or ">="), "limit",
 *   "met" (true/false; null when not measured), "not_measured_because"
 *   (string, only when not measured)}, ...]; NULL when out of memory. */
json_t *bench_goals_json(const bench_goal *goals, size_t n);

#endif
