/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal verdicts for `sgx-quote bench`: the benchmark measures, this file
 * only judges and prints (bench_goal.h). Verdicts compare one run's values
 * with the limits; "not measured" is a verdict of its own, so a
 * short run can never show a goal as met that it did not measure.
 */
#include "bench/bench_goal.h"

#include <math.h>
#include <string.h>

bool bench_goal_met(const bench_goal *g)
{
    if (!g->measured || !isfinite(g->value))
        return false;
    return g->cmp == BENCH_GOAL_AT_MOST ? g->value <= g->limit : g->value >= g->limit;
}

static const char *cmp_text(bench_goal_cmp c)
{
    return c == BENCH_GOAL_AT_MOST ? "<=" : ">=";
}

/* KiB are whole; milliseconds need the third decimal (0.2 ms goals). */
static int decimals(const char *unit)
{
    if (strcmp(unit, "KiB") == 0)
        return 0;
    return strcmp(unit, "ms") == 0 ? 3 : 2;
}

void bench_goals_print(FILE *to, const bench_goal *goals, size_t n)
{
    size_t measured = 0, met = 0;
    fprintf(to, "  %-34s %12s %14s  %s\n", "goal", "value", "limit", "verdict");
    for (size_t i = 0; i < n; i++) {
        const bench_goal *g = &goals[i];
        int d = decimals(g->unit);
        char limit[48];
        snprintf(limit, sizeof limit, "%s %.*f %s", cmp_text(g->cmp), d, g->limit, g->unit);
        if (!g->measured) {
            fprintf(to, "  %-34s %12s %14s  not measured (%s)\n", g->label, "n/a", limit,
                    g->why_not != NULL ? g->why_not : "no data");
            continue;
        }
        bool ok = bench_goal_met(g);
        measured++;
        met += ok;
        fprintf(to, "  %-34s %8.*f %-3s %14s  %s\n", g->label, d, g->value, g->unit, limit,
                ok ? "met" : "NOT met");
    }
    fprintf(to, "  goals met: %zu of %zu measured (%zu goals)\n", met, measured, n);
}

json_t *bench_goals_json(const bench_goal *goals, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        const bench_goal *g = &goals[i];
        bool measured = g->measured && isfinite(g->value);
        json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:s, s:f, s:o}", "name", g->name, "label",
                              g->label, "value", measured ? json_real(g->value) : json_null(),
                              "unit", g->unit, "comparison", cmp_text(g->cmp), "limit",
                              g->limit, "met",
                              measured ? json_boolean(bench_goal_met(g)) : json_null());
        if (o != NULL && !measured)
            json_object_set_new(o, "not_measured_because",
                                json_string(g->why_not != NULL ? g->why_not : "no data"));
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
