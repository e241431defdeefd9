/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one parser of `--now` for every command that has it (verify, and the
 * simulated-platform options of get, enclave and collateral): Unix seconds
 * or an RFC 3339 date-time. Command-line text, so it is strict: the whole
 * argument must be one of the two forms, and out-of-range fields are
 * refused (by time_parse_iso8601, the parser of the collateral's own
 * timestamps) rather than normalised.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "crypto/x509.h"

/* RFC 3339 §5.6 date-time: YYYY-MM-DD (T|t|space) hh:mm:ss[.frac] (Z|z|±hh:mm).
 * A fraction is dropped (the check times here are whole seconds); a leap
 * second (ss = 60) has no Unix time and is refused. */
static int two_digits(const char *p)
{
    return isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])
               ? (p[0] - '0') * 10 + (p[1] - '0')
               : -1;
}

static int parse_rfc3339(const char *s, int64_t *out)
{
    char utc[21];
    time_t t;
    if (strlen(s) < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
        return -1;
    /* The date and time fields as the collateral's own timestamps are
     * written ("YYYY-MM-DDThh:mm:ssZ"), checked by the same function. */
    memcpy(utc, s, 19);
    utc[10] = 'T';
    utc[19] = 'Z';
    utc[20] = '\0';
    if (time_parse_iso8601(utc, &t) != 0)
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
        int oh = two_digits(p + 1), om = strlen(p) >= 6 && p[3] == ':' ? two_digits(p + 4) : -1;
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        offset = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
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
