/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one parser of `--now` for every command that has it (verify, and the
 * simulated-platform options of get, enclave and collateral): Unix seconds
 * or an RFC 3339 date-time. Command-line text, so it is strict: the whole
 * argument must be one of the two forms, and out-of-range fields are
 * refused rather than normalised by timegm().
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 §5.6 date-time: YYYY-MM-DD (T|t|space) hh:mm:ss[.frac] (Z|z|±hh:mm).
 * A fraction is dropped (the check times here are whole seconds); a leap
 * second (ss = 60) has no Unix time and is refused. */
static int parse_rfc3339(const char *s, int64_t *out)
{
    static const int MDAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t len = strlen(s);
    if (len < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
        se > 59 || d > MDAYS[mo - 1] + (mo == 2 && is_leap(y)))
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = digits(p + 1, 2), om = strlen(p) >= 6 && p[3] == ':' ? digits(p + 4, 2) : -1;
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        offset = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    errno = 0;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 && errno != 0)
        return -1;
    /* local time = UTC + offset, so UTC = local - offset */
    *out = (int64_t)t - offset;
    return 0;
}

int cli_parse_time(const char *s, int64_t *out)
{
    if (s == NULL || out == NULL || s[0] == '\0')
        return -1;
    if (isdigit((unsigned char)s[0]) && strchr(s, '-') == NULL && strchr(s, ':') == NULL) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0')
            return -1;
        *out = (int64_t)v;
        return 0;
    }
    return parse_rfc3339(s, out);
}
