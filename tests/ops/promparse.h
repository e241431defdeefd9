/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small, independent reader of the Prometheus text exposition format
 * (0.0.4) for tests: it shares no code with src/ops/metrics.c and checks
 * what a scraper relies on (HELP/TYPE before samples, one TYPE per family,
 * sample names matching their family and type, label syntax and escapes,
 * histogram buckets cumulative and ending in +Inf == _count).
 * Header-only on purpose: tests include it directly.
 */
#ifndef SGXQH_TESTS_PROMPARSE_H
#define SGXQH_TESTS_PROMPARSE_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PP_MAX_SAMPLES 2048
#define PP_MAX_FAMILIES 64

typedef struct {
    char name[160];
    char labels[512]; /* canonical: k1="v1",k2="v2" in input order, values unescaped */
    double value;
} pp_sample;

typedef struct {
    char name[160];
    char type[16];
    char help[1024]; /* unescaped */
    bool has_help;
} pp_family;

typedef struct {
    pp_sample samples[PP_MAX_SAMPLES];
    size_t n_samples;
    pp_family families[PP_MAX_FAMILIES];
    size_t n_families;
    char error[256];
} pp_doc;

static inline int pp_fail(pp_doc *d, int line, const char *what)
{
    snprintf(d->error, sizeof d->error, "line %d: %s", line, what);
    return -1;
}

static inline bool pp_name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/* Reads a metric or label name at *p; returns its length (0 if none). */
static inline size_t pp_name(const char *p)
{
    size_t n = 0;
    while (pp_name_char(p[n], n == 0))
        n++;
    return n;
}

static inline pp_family *pp_find_family(pp_doc *d, const char *name)
{
    for (size_t i = 0; i < d->n_families; i++) {
        if (strcmp(d->families[i].name, name) == 0)
            return &d->families[i];
    }
    return NULL;
}

/* The family a sample belongs to: exact name, or histogram suffixes. */
static inline pp_family *pp_owner(pp_doc *d, const char *sample, const char **suffix)
{
    pp_family *f = pp_find_family(d, sample);
    *suffix = "";
    if (f != NULL)
        return f;
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < 3; i++) {
        size_t sl = strlen(sample), xl = strlen(sfx[i]);
        if (sl > xl && strcmp(sample + sl - xl, sfx[i]) == 0) {
            char base[160];
            snprintf(base, sizeof base, "%.*s", (int)(sl - xl), sample);
            f = pp_find_family(d, base);
            if (f != NULL && strcmp(f->type, "histogram") == 0) {
                *suffix = sfx[i];
                return f;
            }
        }
    }
    return NULL;
}

static inline bool pp_parse_value(const char *s, double *out)
{
    if (strcmp(s, "+Inf") == 0) {
        *out = INFINITY;
        return true;
    }
    if (strcmp(s, "-Inf") == 0) {
        *out = -INFINITY;
        return true;
    }
    if (strcmp(s, "NaN") == 0) {
        *out = NAN;
        return true;
    }
    char *end;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && strchr(s, 'n') == NULL && strchr(s, 'N') == NULL;
}

/* Parses the whole text into d. Returns 0 or -1 with d->error set. */
static inline int pp_parse(const char *text, pp_doc *d)
{
    memset(d, 0, sizeof *d);
    int lineno = 0;
    const char *p = text;
    char last_family[160] = "";
    if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
        return pp_fail(d, 0, "text does not end with a newline");
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = (size_t)(nl - p);
        char line[2048];
        lineno++;
        if (len >= sizeof line)
            return pp_fail(d, lineno, "line too long");
        memcpy(line, p, len);
        line[len] = '\0';
        p = nl + 1;
        if (len == 0)
            continue;
        if (line[0] == '#') {
            char kind[8], name[160];
            int off = 0;
            if (sscanf(line, "# %7s %159s %n", kind, name, &off) < 2 ||
                (strcmp(kind, "HELP") != 0 && strcmp(kind, "TYPE") != 0))
                continue; /* a plain comment */
            if (pp_name(name) != strlen(name))
                return pp_fail(d, lineno, "bad family name");
            pp_family *f = pp_find_family(d, name);
            if (f == NULL) {
                if (d->n_families == PP_MAX_FAMILIES)
                    return pp_fail(d, lineno, "too many families");
                f = &d->families[d->n_families++];
                snprintf(f->name, sizeof f->name, "%s", name);
            } else if (strcmp(last_family, name) != 0) {
                return pp_fail(d, lineno, "family metadata not contiguous");
            }
            snprintf(last_family, sizeof last_family, "%s", name);
            const char *rest = line + off;
            if (strcmp(kind, "TYPE") == 0) {
                if (f->type[0] != '\0')
                    return pp_fail(d, lineno, "second TYPE line");
                if (strcmp(rest, "counter") && strcmp(rest, "gauge") && strcmp(rest, "histogram") &&
                    strcmp(rest, "summary") && strcmp(rest, "untyped"))
                    return pp_fail(d, lineno, "unknown TYPE");
                snprintf(f->type, sizeof f->type, "%s", rest);
            } else {
                if (f->has_help)
                    return pp_fail(d, lineno, "second HELP line");
                size_t o = 0;
                for (const char *q = rest; *q != '\0'; q++) {
                    char c = *q;
                    if (c == '\\') {
                        q++;
                        if (*q == '\\') c = '\\';
                        else if (*q == 'n') c = '\n';
                        else return pp_fail(d, lineno, "bad escape in HELP");
                    }
                    if (o + 1 < sizeof f->help)
                        f->help[o++] = c;
                }
                f->help[o] = '\0';
                f->has_help = true;
            }
            continue;
        }
        /* A sample: name [{labels}] value [timestamp] */
        if (d->n_samples == PP_MAX_SAMPLES)
            return pp_fail(d, lineno, "too many samples");
        pp_sample *s = &d->samples[d->n_samples];
        size_t nl_ = pp_name(line);
        if (nl_ == 0 || nl_ >= sizeof s->name)
            return pp_fail(d, lineno, "bad sample name");
        memcpy(s->name, line, nl_);
        s->name[nl_] = '\0';
        const char *q = line + nl_;
        size_t lo = 0;
        s->labels[0] = '\0';
        if (*q == '{') {
            q++;
            while (*q != '}') {
                size_t ln = pp_name(q);
                if (ln == 0 || q[ln] != '=' || q[ln + 1] != '"')
                    return pp_fail(d, lineno, "bad label");
                lo += (size_t)snprintf(s->labels + lo, sizeof s->labels - lo, "%s%.*s=\"",
                                       lo ? "," : "", (int)ln, q);
                q += ln + 2;
                while (*q != '"') {
                    char c = *q;
                    if (c == '\0' || c == '\n')
                        return pp_fail(d, lineno, "unterminated label value");
                    if (c == '\\') {
                        q++;
                        if (*q == '\\') c = '\\';
                        else if (*q == '"') c = '"';
                        else if (*q == 'n') c = '\n';
                        else return pp_fail(d, lineno, "bad escape in label value");
                    }
                    if (lo + 2 < sizeof s->labels)
                        s->labels[lo++] = c;
                    q++;
                }
                q++;
                if (lo + 2 < sizeof s->labels)
                    s->labels[lo++] = '"';
                s->labels[lo] = '\0';
                if (*q == ',')
                    q++;
                else if (*q != '}')
                    return pp_fail(d, lineno, "expected , or }");
            }
            q++;
        }
        if (*q != ' ')
            return pp_fail(d, lineno, "expected a space before the value");
        q++;
        char val[64];
        const char *sp = strchr(q, ' ');
        size_t vl = sp ? (size_t)(sp - q) : strlen(q);
        if (vl == 0 || vl >= sizeof val)
            return pp_fail(d, lineno, "bad value");
        memcpy(val, q, vl);
        val[vl] = '\0';
        if (!pp_parse_value(val, &s->value))
            return pp_fail(d, lineno, "value is not a float");
        const char *suffix;
        pp_family *f = pp_owner(d, s->name, &suffix);
        if (f == NULL || f->type[0] == '\0')
            return pp_fail(d, lineno, "sample without a TYPE line before it");
        if (strcmp(f->name, last_family) != 0)
            return pp_fail(d, lineno, "samples of a family are not contiguous");
        if (strcmp(f->type, "histogram") == 0) {
            if (suffix[0] == '\0')
                return pp_fail(d, lineno, "histogram sample without _bucket/_sum/_count");
            if (strcmp(suffix, "_bucket") == 0 && strstr(s->labels, "le=\"") == NULL)
                return pp_fail(d, lineno, "bucket without le");
        }
        d->n_samples++;
    }
    /* Histogram invariants, per series: buckets non-decreasing in le order,
     * the last is +Inf and equals _count. */
    for (size_t i = 0; i < d->n_samples; i++) {
        const pp_sample *s = &d->samples[i];
        size_t nlen = strlen(s->name);
        if (nlen < 7 || strcmp(s->name + nlen - 7, "_bucket") != 0)
            continue;
        const char *le = strstr(s->labels, "le=\"");
        if (strncmp(le, "le=\"+Inf\"", 9) != 0)
            continue;
        /* Walk back over this series' buckets. */
        double prev = INFINITY;
        size_t j = i;
        while (j > 0 && strcmp(d->samples[j - 1].name, s->name) == 0 &&
               strncmp(d->samples[j - 1].labels, s->labels, (size_t)(le - s->labels)) == 0) {
            if (d->samples[j].value < d->samples[j - 1].value)
                return pp_fail(d, 0, "histogram buckets not cumulative");
            prev = d->samples[j - 1].value;
            j--;
        }
        (void)prev;
        char cname[160];
        snprintf(cname, sizeof cname, "%.*s_count", (int)(nlen - 7), s->name);
        bool found = false;
        for (size_t k = 0; k < d->n_samples; k++) {
            if (strcmp(d->samples[k].name, cname) != 0)
                continue;
            /* Same labels minus le. */
            size_t base = (size_t)(le - s->labels);
            if (base > 0)
                base--; /* the comma before le */
            if (strlen(d->samples[k].labels) == base &&
                strncmp(d->samples[k].labels, s->labels, base) == 0) {
                if (d->samples[k].value != s->value)
                    return pp_fail(d, 0, "+Inf bucket differs from _count");
                found = true;
            }
        }
        if (!found)
            return pp_fail(d, 0, "histogram series without _count");
    }
    return 0;
}

/* Value of the sample name{labels}; labels as in pp_sample ("" for none). */
static inline bool pp_get(const pp_doc *d, const char *name, const char *labels, double *out)
{
    for (size_t i = 0; i < d->n_samples; i++) {
        if (strcmp(d->samples[i].name, name) == 0 && strcmp(d->samples[i].labels, labels) == 0) {
            *out = d->samples[i].value;
            return true;
        }
    }
    return false;
}

#endif
