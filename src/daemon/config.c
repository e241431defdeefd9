/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Settings → daemon_config. One table names every setting once; from it
 * come the command-line flags, the SGX_QUOTE_HELPER_* environment names,
 * the config-file keys, --help, and which settings SIGHUP may change.
 * Every limit the server enforces (aesm-protocol §9.3) has a default here,
 * and values are range-checked before anything is opened, so a typo fails
 * at start-up (or is refused on SIGHUP) with a sentence instead of at the
 * first request.
 */
#include "daemon/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ops/ratelimit.h"
#include "sgxqh_config.h"

extern char **environ;

enum {
    OPT_SOCKET = 256,
    OPT_SOCKET_MODE,
    OPT_SOCKET_GROUP,
    OPT_BACKEND,
    OPT_STATE_DIR,
    OPT_SEED_FILE,
    OPT_INIT_SEED,
    OPT_INSTANCE,
    OPT_SIM_TCB_STATUS,
    OPT_HW_LIB_DIR,
    OPT_MAX_REQUEST,
    OPT_IO_TIMEOUT,
    OPT_MAX_CONNECTIONS,
    OPT_MAX_CONNECTIONS_PER_PEER,
    OPT_MAX_BUF_SIZE,
    OPT_MAX_UNREAD_BYTES,
    OPT_MAX_UNREAD_BYTES_PER_PEER,
    OPT_DRAIN_TIMEOUT,
    OPT_WORKERS,
    OPT_ALLOW_UID,
    OPT_ALLOW_GID,
    OPT_RATE_LIMIT,
    OPT_RATE_BURST,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL,
    OPT_HTTP_LISTEN,
    OPT_QGS_SOCKET,
    OPT_QGS_VSOCK_PORT,
    OPT_CONFIG,
    OPT_PROC_ROOT,
    OPT_FAULT_FILE,
    OPT_HELP,
    OPT_VERSION,
};

typedef struct {
    const char *name; /* flag without "--"; also the config-file key */
    int id;
    const char *arg;  /* for --help; NULL: a switch (--name, or --name=false) */
    const char *help;
    const char *section; /* heading printed before this entry, or NULL */
    bool reloadable;     /* SIGHUP takes it over */
} opt_def;

static const opt_def OPTS[] = {
    {"socket", OPT_SOCKET, "PATH", "listen here (default " DAEMON_DEFAULT_SOCKET ")", "socket",
     false},
    {"socket-mode", OPT_SOCKET_MODE, "OCTAL", "socket file mode (default 0666)", NULL, false},
    {"socket-group", OPT_SOCKET_GROUP, "NAME|GID", "socket file group (default: unchanged)", NULL,
     false},
    {"backend", OPT_BACKEND, "sim|hw|auto", "quoting backend (default sim)", "backend", false},
    {"state-dir", OPT_STATE_DIR, "DIR",
     "simulated seed lives here (default " DAEMON_DEFAULT_STATE_DIR ")", NULL, false},
    {"seed-file", OPT_SEED_FILE, "FILE", "use this seed file instead (e.g. a Secret mount)",
     NULL, false},
    {"init-seed", OPT_INIT_SEED, NULL,
     "create the simulated seed if it is absent (without it: refuse to start)", NULL, false},
    {"instance", OPT_INSTANCE, "NAME", "simulated platform instance (default: host name)", NULL,
     false},
    {"sim-tcb-status", OPT_SIM_TCB_STATUS, "STATUS", "TCB status the simulated collateral assigns",
     NULL, false},
    {"hw-lib-dir", OPT_HW_LIB_DIR, "DIR",
     "hw: load Intel's libsgx_{pce,qe3,tdx}_logic.so.1 from DIR (default: system path)", NULL,
     false},
    {"max-request-bytes", OPT_MAX_REQUEST, "N",
     "larger requests are dropped unanswered (default 16384)", "limits", true},
    {"io-timeout-ms", OPT_IO_TIMEOUT, "N", "per-connection read/write deadline (default 5000)",
     NULL, true},
    {"max-connections", OPT_MAX_CONNECTIONS, "N",
     "connections beyond this are closed at once; a quarter is kept for peers holding "
     "fewer than 4 (default 1024)", NULL, true},
    {"max-connections-per-peer", OPT_MAX_CONNECTIONS_PER_PEER, "N",
     "... and beyond this many from one peer (pod, else network namespace, else uid); 0 = "
     "no cap (default 64)", NULL, true},
    {"max-buf-size", OPT_MAX_BUF_SIZE, "N",
     "quotes are zero-padded up to this buf_size, at most 65536 (default 16384)", NULL, false},
    {"max-unread-bytes", OPT_MAX_UNREAD_BYTES, "N",
     "replies sent and not yet read, all peers (default 8388608)", NULL, true},
    {"max-unread-bytes-per-peer", OPT_MAX_UNREAD_BYTES_PER_PEER, "N",
     "... and by one peer (default 524288)", NULL, true},
    {"drain-timeout-ms", OPT_DRAIN_TIMEOUT, "N",
     "SIGTERM waits this long for in-flight requests (default 30000)", NULL, true},
    {"workers", OPT_WORKERS, "N",
     "event loops serving clients; as many threads again for a backend that may block "
     "(default: one per CPU, at least 2)", NULL, false},
    {"allow-uid", OPT_ALLOW_UID, "LIST",
     "only these peer uids may connect, e.g. 1000,1001 (default: everyone)", "access", true},
    {"allow-gid", OPT_ALLOW_GID, "LIST",
     "... or peers with these gids (also: the daemon's own uid from its own PID namespace)",
     NULL, true},
    {"rate-limit", OPT_RATE_LIMIT, "R",
     "requests per second per peer (pod, else uid); 0 = off (default)", NULL, true},
    {"rate-burst", OPT_RATE_BURST, "B", "requests a peer may make at once (default: R, at least 1)",
     NULL, true},
    {"log-format", OPT_LOG_FORMAT, "text|json",
     "stderr line format (default json, text on a terminal)", "logging and operations", true},
    {"log-level", OPT_LOG_LEVEL, "LEVEL", "error, warn, info or debug (default info)", NULL, true},
    {"http-listen", OPT_HTTP_LISTEN, "ADDR:PORT",
     "serve /metrics, /healthz, /readyz here (default: off)", NULL, false},
    {"qgs-socket", OPT_QGS_SOCKET, "PATH",
     "also serve TDX quotes (Intel QGS protocol) here, e.g. /var/run/tdx-qgs/qgs.socket "
     "(default: off; needs --backend sim, or hw with Intel's libsgx_tdx_logic.so.1)", "tdx",
     false},
    {"qgs-vsock-port", OPT_QGS_VSOCK_PORT, "N",
     "... and on AF_VSOCK port N, any CID (QGS's default is 4050; default: off)", NULL, false},
    {"config", OPT_CONFIG, "FILE", "read settings from FILE (again on SIGHUP)", NULL, false},
    {"proc-root", OPT_PROC_ROOT, "DIR", "read callers' cgroups from DIR/PID/cgroup (default /proc)",
     NULL, false},
    {"fault-file", OPT_FAULT_FILE, "FILE",
     "testing: while FILE exists, backend calls fail with the aesm code in it", NULL, false},
};

#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

static const opt_def *opt_by_id(int id)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (OPTS[i].id == id)
            return &OPTS[i];
    return NULL;
}

static const opt_def *opt_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strlen(OPTS[i].name) == len && strncmp(OPTS[i].name, name, len) == 0)
            return &OPTS[i];
    return NULL;
}

/* SGX_QUOTE_HELPER_ + upper case, '-' → '_'. */
static void env_name(const opt_def *o, char *out, size_t cap)
{
    size_t n = strlen(DAEMON_ENV_PREFIX);
    if (cap < n + strlen(o->name) + 1) {
        out[0] = '\0';
        return;
    }
    memcpy(out, DAEMON_ENV_PREFIX, n);
    for (const char *p = o->name; *p != '\0'; p++)
        out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
}

void daemon_config_usage(FILE *to)
{
    fprintf(to, "usage: sgx-quote-helperd [OPTIONS]\n"
                "\n"
                "Node-local SGX quote service speaking aesmd's quote_ex protocol.\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        char flag[64];
        if (OPTS[i].section != NULL)
            fprintf(to, "%s:\n", OPTS[i].section);
        snprintf(flag, sizeof flag, "--%s%s%s", OPTS[i].name, OPTS[i].arg != NULL ? " " : "",
                 OPTS[i].arg != NULL ? OPTS[i].arg : "");
        if (strlen(flag) > 26)
            fprintf(to, "  %s\n  %-26s %s\n", flag, "", OPTS[i].help);
        else
            fprintf(to, "  %-26s %s\n", flag, OPTS[i].help);
    }
    fprintf(to, "\n"
                "  --help, --version\n"
                "\n"
                "Every flag can also be set as an environment variable " DAEMON_ENV_PREFIX
                "<FLAG>\n"
                "(upper case, '-' as '_', e.g. " DAEMON_ENV_PREFIX "LOG_LEVEL=debug) or as a\n"
                "`flag-name = value` line in the --config file; a flag wins over the\n"
                "environment, which wins over the file. SIGHUP re-reads them and applies\n"
                "log level/format, limits, ACL and rate limit without dropping connections.\n");
}

/* ---- defaults and owned strings ---- */

void daemon_config_default(daemon_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->socket_path = DAEMON_DEFAULT_SOCKET;
    cfg->socket_mode = DAEMON_DEFAULT_SOCKET_MODE;
    cfg->backend.kind = BACKEND_KIND_SIM;
    cfg->backend.state_dir = DAEMON_DEFAULT_STATE_DIR;
    cfg->backend.seed_must_exist = true; /* --init-seed: docs/simulation.md */
    cfg->max_request_bytes = DAEMON_DEFAULT_MAX_REQUEST;
    cfg->io_timeout_ms = DAEMON_DEFAULT_IO_TIMEOUT_MS;
    cfg->max_connections = DAEMON_DEFAULT_MAX_CONNECTIONS;
    cfg->max_connections_per_peer = DAEMON_DEFAULT_MAX_CONNECTIONS_PER_PEER;
    cfg->max_buf_size = DAEMON_DEFAULT_MAX_BUF_SIZE;
    cfg->max_unread_bytes = DAEMON_DEFAULT_MAX_UNREAD_BYTES;
    cfg->max_unread_bytes_per_peer = DAEMON_DEFAULT_MAX_UNREAD_BYTES_PER_PEER;
    cfg->drain_timeout_ms = DAEMON_DEFAULT_DRAIN_TIMEOUT_MS;
    cfg->workers = 0;
    cfg->log_fmt = logfmt_default_format(STDERR_FILENO);
    cfg->log_lvl = LOG_INFO;
}

void daemon_config_free(daemon_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_owned; i++)
        free(cfg->owned[i]);
    free(cfg->owned);
    cfg->owned = NULL;
    cfg->n_owned = 0;
}

static const char *own(daemon_config *cfg, const char *s)
{
    char **more = realloc(cfg->owned, (cfg->n_owned + 1) * sizeof *more);
    if (more == NULL)
        return NULL;
    cfg->owned = more;
    char *copy = strdup(s);
    if (copy == NULL)
        return NULL;
    cfg->owned[cfg->n_owned++] = copy;
    return copy;
}

/* ---- value parsers: 0, or -1 with a sentence in err ---- */

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_u32(const char *where, const char *s, uint32_t lo, uint32_t hi, uint32_t *out,
                     char *err, size_t cap)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi)
        return fail(err, cap, "%s expects a number from %u to %u, got '%s'", where, lo, hi, s);
    *out = (uint32_t)v;
    return 0;
}

/* ceil() for 1 <= v <= RATELIMIT_RATE_MAX, without libm (docs/daemon.md
 * "Memory"): the truncation is exact at these magnitudes. */
static double ceil_small(double v)
{
    double whole = (double)(long long)v;
    return whole < v ? whole + 1.0 : whole;
}

static int parse_double(const char *where, const char *s, double lo, double hi, double *out,
                        char *err, size_t cap)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
        return fail(err, cap, "%s expects a number from %g to %g, got '%s'", where, lo, hi, s);
    *out = v;
    return 0;
}

static int parse_mode(const char *where, const char *s, mode_t *out, char *err, size_t cap)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 8);
    if (errno != 0 || end == s || *end != '\0' || v > 07777)
        return fail(err, cap, "%s expects an octal mode such as 0660, got '%s'", where, s);
    *out = (mode_t)v;
    return 0;
}

static int parse_group(const char *where, const char *s, gid_t *out, char *err, size_t cap)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno == 0 && end != s && *end == '\0' && v < (unsigned long)UINT32_MAX) {
        *out = (gid_t)v;
        return 0;
    }
    struct group *g = getgrnam(s);
    if (g == NULL)
        return fail(err, cap, "%s: no group named '%s'", where, s);
    *out = g->gr_gid;
    return 0;
}

/* ADDR:PORT with a numeric port; ADDR may be a name, an IPv4 address or
 * [IPv6]. The address itself is resolved when the endpoint starts. */
static int check_hostport(const char *where, const char *s, char *err, size_t cap)
{
    const char *colon = NULL;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close != NULL && close[1] == ':')
            colon = close + 1;
    } else {
        colon = strrchr(s, ':');
    }
    uint32_t port;
    char tmp[8];
    if (colon == NULL || colon == s || strlen(colon + 1) == 0 || strlen(colon + 1) > 5)
        return fail(err, cap, "%s expects ADDR:PORT (e.g. 0.0.0.0:9464 or [::1]:9464), got '%s'",
                    where, s);
    snprintf(tmp, sizeof tmp, "%s", colon + 1);
    return parse_u32(where, tmp, 0, 65535, &port, err, cap);
}

static int check_id_list(const char *where, const char *s, char *err, size_t cap)
{
    uint32_t ids[ACL_MAX_IDS];
    size_t n = 0;
    if (strlen(s) > ACL_LIST_TEXT_MAX)
        return fail(err, cap, "%s: list longer than %d characters", where, ACL_LIST_TEXT_MAX);
    int rc = acl_parse_ids(s, ids, ACL_MAX_IDS, &n);
    if (rc != ACL_OK)
        return fail(err, cap, "%s: %s in '%s'", where, acl_strerror(rc), s);
    return 0;
}

/* One setting from one source. `where` names it for error messages. */
static int apply_option(daemon_config *cfg, int id, const char *value, const char *where,
                        char *err, size_t cap)
{
    uint32_t v = 0;
    const char *s = NULL;
    if (id != OPT_ALLOW_UID && id != OPT_ALLOW_GID) {
        s = own(cfg, value);
        if (s == NULL)
            return fail(err, cap, "out of memory");
    }
    switch (id) {
    case OPT_SOCKET:
        if (s[0] != '/')
            return fail(err, cap, "%s needs an absolute path, got '%s'", where, s);
        cfg->socket_path = s;
        return 0;
    case OPT_SOCKET_MODE:
        return parse_mode(where, s, &cfg->socket_mode, err, cap);
    case OPT_SOCKET_GROUP:
        if (parse_group(where, s, &cfg->socket_group, err, cap) != 0)
            return -1;
        cfg->socket_group_set = true;
        return 0;
    case OPT_BACKEND:
        if (backend_kind_parse(s, &cfg->backend.kind) != 0)
            return fail(err, cap, "%s is sim, hw or auto, got '%s'", where, s);
        return 0;
    case OPT_STATE_DIR:
        cfg->backend.state_dir = s;
        return 0;
    case OPT_SEED_FILE:
        cfg->backend.seed_file = s;
        return 0;
    case OPT_INIT_SEED:
        if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "yes") == 0)
            cfg->backend.seed_must_exist = false;
        else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcmp(s, "no") == 0)
            cfg->backend.seed_must_exist = true;
        else
            return fail(err, cap, "%s is true or false, got '%s'", where, s);
        return 0;
    case OPT_INSTANCE:
        cfg->backend.instance = s;
        return 0;
    case OPT_SIM_TCB_STATUS:
        cfg->backend.sim_tcb_status = s;
        return 0;
    case OPT_HW_LIB_DIR:
        cfg->backend.hw_lib_dir = s;
        return 0;
    case OPT_MAX_REQUEST:
        /* 8: the smallest quote_ex request body is 6 bytes (aesm §3.6). */
        return parse_u32(where, s, 8, DAEMON_MAX_MAX_REQUEST, &cfg->max_request_bytes, err, cap);
    case OPT_IO_TIMEOUT:
        return parse_u32(where, s, 1, 3600000, &cfg->io_timeout_ms, err, cap);
    case OPT_MAX_CONNECTIONS:
        return parse_u32(where, s, 1, 1000000, &cfg->max_connections, err, cap);
    case OPT_MAX_CONNECTIONS_PER_PEER:
        return parse_u32(where, s, 0, 1000000, &cfg->max_connections_per_peer, err, cap);
    case OPT_MAX_BUF_SIZE:
        /* A quote is at least 1052 bytes (aesm §6.6); the top: config.h. */
        return parse_u32(where, s, 1052, DAEMON_MAX_MAX_BUF_SIZE, &cfg->max_buf_size, err, cap);
    case OPT_MAX_UNREAD_BYTES:
        return parse_u32(where, s, 1, DAEMON_MAX_MAX_UNREAD_BYTES, &cfg->max_unread_bytes, err,
                         cap);
    case OPT_MAX_UNREAD_BYTES_PER_PEER:
        return parse_u32(where, s, 1, DAEMON_MAX_MAX_UNREAD_BYTES,
                         &cfg->max_unread_bytes_per_peer, err, cap);
    case OPT_DRAIN_TIMEOUT:
        return parse_u32(where, s, 1, 3600000, &cfg->drain_timeout_ms, err, cap);
    case OPT_WORKERS:
        if (parse_u32(where, s, 1, 1024, &v, err, cap) != 0)
            return -1;
        cfg->workers = v;
        return 0;
    case OPT_ALLOW_UID:
        if (check_id_list(where, value, err, cap) != 0)
            return -1;
        snprintf(cfg->allow_uid, sizeof cfg->allow_uid, "%s", value);
        return 0;
    case OPT_ALLOW_GID:
        if (check_id_list(where, value, err, cap) != 0)
            return -1;
        snprintf(cfg->allow_gid, sizeof cfg->allow_gid, "%s", value);
        return 0;
    case OPT_RATE_LIMIT:
        return parse_double(where, s, 0, RATELIMIT_RATE_MAX, &cfg->rate_limit, err, cap);
    case OPT_RATE_BURST:
        return parse_double(where, s, 1, RATELIMIT_BURST_MAX, &cfg->rate_burst, err, cap);
    case OPT_LOG_FORMAT:
        if (logfmt_parse_format(s, &cfg->log_fmt) != LOGFMT_OK)
            return fail(err, cap, "%s is text or json, got '%s'", where, s);
        return 0;
    case OPT_LOG_LEVEL:
        if (logfmt_parse_level(s, &cfg->log_lvl) != LOGFMT_OK)
            return fail(err, cap, "%s is error, warn, info or debug, got '%s'", where, s);
        return 0;
    case OPT_HTTP_LISTEN:
        if (s[0] == '\0' || strcmp(s, "off") == 0) {
            cfg->http_listen = NULL;
            return 0;
        }
        if (check_hostport(where, s, err, cap) != 0)
            return -1;
        cfg->http_listen = s;
        return 0;
    case OPT_QGS_SOCKET:
        if (s[0] == '\0' || strcmp(s, "off") == 0) {
            cfg->qgs_socket = NULL;
            return 0;
        }
        if (s[0] != '/')
            return fail(err, cap, "%s needs an absolute path, got '%s'", where, s);
        cfg->qgs_socket = s;
        return 0;
    case OPT_QGS_VSOCK_PORT:
        return parse_u32(where, s, 0, UINT32_MAX - 1, &cfg->qgs_vsock_port, err, cap);
    case OPT_CONFIG:
        cfg->config_file = s;
        return 0;
    case OPT_PROC_ROOT:
        if (s[0] != '/')
            return fail(err, cap, "%s needs an absolute path, got '%s'", where, s);
        cfg->proc_root = s;
        return 0;
    case OPT_FAULT_FILE:
        cfg->fault_file = s[0] != '\0' ? s : NULL;
        return 0;
    default:
        return fail(err, cap, "%s: unknown setting", where);
    }
}

/* ---- the three sources ---- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* `name = value` per line; '#' starts a comment line; a value may be in
 * double quotes. Unknown names are errors: a typo must not go unnoticed. */
static int apply_file(daemon_config *cfg, const char *path, char *err, size_t cap)
{
    int rc = -1;
    char *text = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fail(err, cap, "cannot read --config %s: %s", path, strerror(errno));
    text = malloc(DAEMON_CONFIG_FILE_MAX + 1);
    if (text == NULL) {
        fail(err, cap, "out of memory");
        goto out;
    }
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd, text + used, DAEMON_CONFIG_FILE_MAX + 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fail(err, cap, "cannot read --config %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > DAEMON_CONFIG_FILE_MAX) {
            fail(err, cap, "--config %s is larger than %u bytes", path, DAEMON_CONFIG_FILE_MAX);
            goto out;
        }
    }
    text[used] = '\0';
    if (memchr(text, '\0', used) != NULL) {
        fail(err, cap, "--config %s is not a text file", path);
        goto out;
    }
    unsigned lineno = 0;
    char *p = text;
    /* strsep keeps empty lines, so line numbers stay right. */
    for (char *line; (line = strsep(&p, "\n")) != NULL;) {
        lineno++;
        char *l = trim(line);
        if (*l == '\0' || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (eq == NULL) {
            fail(err, cap, "%s:%u: expected `name = value`", path, lineno);
            goto out;
        }
        *eq = '\0';
        char *name = trim(l);
        char *value = trim(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        const opt_def *o = opt_by_name(name, strlen(name));
        if (o == NULL || o->id == OPT_CONFIG) {
            fail(err, cap, "%s:%u: unknown setting '%s' (names are the flags without --)", path,
                 lineno, name);
            goto out;
        }
        char where[512];
        snprintf(where, sizeof where, "%s:%u: %s", path, lineno, o->name);
        if (apply_option(cfg, o->id, value, where, err, cap) != 0)
            goto out;
    }
    rc = 0;
out:
    free(text);
    close(fd);
    return rc;
}

static int apply_env(daemon_config *cfg, char *err, size_t cap)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        char name[96];
        env_name(&OPTS[i], name, sizeof name);
        if (OPTS[i].id == OPT_CONFIG || name[0] == '\0')
            continue; /* the file itself was found before */
        const char *v = getenv(name);
        if (v == NULL || v[0] == '\0')
            continue; /* an empty variable is "not set" (templating leaves those) */
        if (apply_option(cfg, OPTS[i].id, v, name, err, cap) != 0)
            return -1;
    }
    return 0;
}

void daemon_config_unknown_env(char *out, size_t cap)
{
    size_t plen = strlen(DAEMON_ENV_PREFIX);
    size_t used = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    for (char **e = environ; e != NULL && *e != NULL; e++) {
        if (strncmp(*e, DAEMON_ENV_PREFIX, plen) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - *e) : strlen(*e);
        bool known = nlen == plen + 4 && strncmp(*e + plen, "OPTS", 4) == 0;
        for (size_t i = 0; i < N_OPTS && !known; i++) {
            char name[96];
            env_name(&OPTS[i], name, sizeof name);
            known = strlen(name) == nlen && strncmp(name, *e, nlen) == 0;
        }
        if (known)
            continue;
        int n = snprintf(out + used, cap - used, "%s%.*s", used > 0 ? "," : "", (int)nlen, *e);
        if (n < 0 || (size_t)n >= cap - used)
            return;
        used += (size_t)n;
    }
}

typedef struct {
    int id;
    const char *value;
} argv_entry;

config_parse_result daemon_config_load(daemon_config *cfg, int argc, char **argv, char *err,
                                       size_t errcap)
{
    struct option lopts[N_OPTS + 3];
    for (size_t i = 0; i < N_OPTS; i++)
        lopts[i] = (struct option){OPTS[i].name,
                                   OPTS[i].arg != NULL ? required_argument : optional_argument,
                                   NULL, OPTS[i].id};
    lopts[N_OPTS] = (struct option){"help", no_argument, NULL, OPT_HELP};
    lopts[N_OPTS + 1] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    lopts[N_OPTS + 2] = (struct option){NULL, 0, NULL, 0};

    config_parse_result result = CONFIG_USAGE;
    argv_entry *given = calloc((size_t)(argc > 0 ? argc : 1), sizeof *given);
    size_t n_given = 0;
    const char *config_file = NULL;
    daemon_config_default(cfg);
    err[0] = '\0';
    if (given == NULL) {
        fail(err, errcap, "out of memory");
        goto out;
    }

    /* Pass 1: collect the flags (and find --config) without applying them. */
    optind = 0; /* GNU: re-initialise, so SIGHUP can parse argv again */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        if (c == 'h' || c == OPT_HELP) {
            daemon_config_usage(stdout);
            result = CONFIG_EXIT_OK;
            goto out;
        }
        if (c == OPT_VERSION) {
            printf("sgx-quote-helperd %s\n", SGXQH_VERSION);
            result = CONFIG_EXIT_OK;
            goto out;
        }
        if (c == '?' || c == ':' || opt_by_id(c) == NULL) {
            const char *bad = optind >= 1 && optind <= argc ? argv[optind - 1] : "?";
            fail(err, errcap, "unknown flag or missing value: '%s' (see --help)", bad);
            goto out;
        }
        given[n_given].id = c;
        given[n_given].value = optarg != NULL ? optarg : "true"; /* a bare switch */
        n_given++;
        if (c == OPT_CONFIG)
            config_file = optarg;
    }
    if (optind < argc) {
        fail(err, errcap, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (config_file == NULL) {
        const char *e = getenv(DAEMON_ENV_PREFIX "CONFIG");
        if (e != NULL && e[0] != '\0')
            config_file = e;
    }

    /* Pass 2: file, environment, flags: later sources win. */
    if (config_file != NULL) {
        if (apply_option(cfg, OPT_CONFIG, config_file, "--config", err, errcap) != 0 ||
            apply_file(cfg, cfg->config_file, err, errcap) != 0)
            goto out;
    }
    if (apply_env(cfg, err, errcap) != 0)
        goto out;
    for (size_t i = 0; i < n_given; i++) {
        char where[80];
        snprintf(where, sizeof where, "--%s", opt_by_id(given[i].id)->name);
        if (apply_option(cfg, given[i].id, given[i].value, where, err, errcap) != 0)
            goto out;
    }

    /* Settings that depend on each other. */
    if (cfg->rate_limit > 0 && cfg->rate_burst < 1)
        cfg->rate_burst = cfg->rate_limit < 1 ? 1 : ceil_small(cfg->rate_limit);
    int rc = acl_init(&cfg->acl, cfg->allow_uid[0] != '\0' ? cfg->allow_uid : NULL,
                      cfg->allow_gid[0] != '\0' ? cfg->allow_gid : NULL);
    if (rc != ACL_OK) {
        fail(err, errcap, "--allow-uid/--allow-gid: %s", acl_strerror(rc));
        goto out;
    }
    /* No blanket exemption for the daemon's own uid here: in Kubernetes
     * that uid (65532, "nonroot") is shared by other pods. The server lets
     * it past the ACL only from the daemon's own PID namespace (the exec
     * probe in its container). */
    result = CONFIG_RUN;
out:
    free(given);
    return result;
}

/* File descriptors kept aside for the listener, logs, HTTP and the backend
 * (64), the server's cache of client processes (a pidfd each, 64) and two
 * per event loop (at most 64 loops). */
#define FD_HEADROOM (64 + 64 + 2 * 64)

uint32_t daemon_config_fit_connections(daemon_config *cfg, unsigned long long *nofile)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    rlim_t want = (rlim_t)cfg->max_connections + FD_HEADROOM;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= want)
        return 0;
    uint32_t asked = cfg->max_connections;
    cfg->max_connections =
        rl.rlim_cur > 2 * FD_HEADROOM ? (uint32_t)(rl.rlim_cur - FD_HEADROOM) : 16;
    if (nofile != NULL)
        *nofile = (unsigned long long)rl.rlim_cur;
    return asked;
}

/* ---- SIGHUP ---- */

static bool same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static void note(char *buf, size_t cap, const char *name)
{
    size_t used = strlen(buf);
    if (used + strlen(name) + 2 < cap)
        snprintf(buf + used, cap - used, "%s%s", used > 0 ? "," : "", name);
}

void daemon_config_reload(daemon_config *live, const daemon_config *fresh, char *changed,
                          size_t changed_cap, char *ignored, size_t ignored_cap)
{
    changed[0] = '\0';
    ignored[0] = '\0';
#define TAKE(field, name)                                                                      \
    do {                                                                                       \
        if (live->field != fresh->field) {                                                     \
            live->field = fresh->field;                                                        \
            note(changed, changed_cap, name);                                                  \
        }                                                                                      \
    } while (0)
    TAKE(log_lvl, "log-level");
    TAKE(log_fmt, "log-format");
    TAKE(max_request_bytes, "max-request-bytes");
    TAKE(io_timeout_ms, "io-timeout-ms");
    TAKE(max_connections, "max-connections");
    TAKE(max_connections_per_peer, "max-connections-per-peer");
    TAKE(max_unread_bytes, "max-unread-bytes");
    TAKE(max_unread_bytes_per_peer, "max-unread-bytes-per-peer");
    TAKE(drain_timeout_ms, "drain-timeout-ms");
    TAKE(rate_limit, "rate-limit");
    TAKE(rate_burst, "rate-burst");
#undef TAKE
    bool acl_changed = false;
    if (strcmp(live->allow_uid, fresh->allow_uid) != 0) {
        memcpy(live->allow_uid, fresh->allow_uid, sizeof live->allow_uid);
        note(changed, changed_cap, "allow-uid");
        acl_changed = true;
    }
    if (strcmp(live->allow_gid, fresh->allow_gid) != 0) {
        memcpy(live->allow_gid, fresh->allow_gid, sizeof live->allow_gid);
        note(changed, changed_cap, "allow-gid");
        acl_changed = true;
    }
    if (acl_changed)
        live->acl = fresh->acl;

#define DIFF(cond, name)                                                                       \
    do {                                                                                       \
        if (cond)                                                                              \
            note(ignored, ignored_cap, name);                                                  \
    } while (0)
    DIFF(!same_str(live->socket_path, fresh->socket_path), "socket");
    DIFF(live->socket_mode != fresh->socket_mode, "socket-mode");
    DIFF(live->socket_group_set != fresh->socket_group_set ||
             live->socket_group != fresh->socket_group,
         "socket-group");
    DIFF(live->backend.kind != fresh->backend.kind, "backend");
    DIFF(!same_str(live->backend.state_dir, fresh->backend.state_dir), "state-dir");
    DIFF(!same_str(live->backend.seed_file, fresh->backend.seed_file), "seed-file");
    DIFF(live->backend.seed_must_exist != fresh->backend.seed_must_exist, "init-seed");
    DIFF(!same_str(live->backend.instance, fresh->backend.instance), "instance");
    DIFF(!same_str(live->backend.sim_tcb_status, fresh->backend.sim_tcb_status),
         "sim-tcb-status");
    DIFF(!same_str(live->backend.hw_lib_dir, fresh->backend.hw_lib_dir), "hw-lib-dir");
    DIFF(live->max_buf_size != fresh->max_buf_size, "max-buf-size");
    DIFF(live->workers != fresh->workers, "workers");
    DIFF(!same_str(live->http_listen, fresh->http_listen), "http-listen");
    DIFF(!same_str(live->qgs_socket, fresh->qgs_socket), "qgs-socket");
    DIFF(live->qgs_vsock_port != fresh->qgs_vsock_port, "qgs-vsock-port");
    DIFF(!same_str(live->proc_root, fresh->proc_root), "proc-root");
    DIFF(!same_str(live->fault_file, fresh->fault_file), "fault-file");
#undef DIFF
}
