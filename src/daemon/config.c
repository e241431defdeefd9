/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command line → daemon_config. Every limit the server enforces
 * (aesm-protocol §9.3) has a flag and a default here; values are checked
 * for range before anything is opened, so a typo fails at start-up with a
 * sentence instead of at the first request.
 */
#include "daemon/config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgxqh_config.h"

void daemon_config_default(daemon_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->socket_path = DAEMON_DEFAULT_SOCKET;
    cfg->socket_mode = DAEMON_DEFAULT_SOCKET_MODE;
    cfg->backend.kind = BACKEND_KIND_SIM;
    cfg->backend.state_dir = DAEMON_DEFAULT_STATE_DIR;
    cfg->max_request_bytes = DAEMON_DEFAULT_MAX_REQUEST;
    cfg->io_timeout_ms = DAEMON_DEFAULT_IO_TIMEOUT_MS;
    cfg->max_connections = DAEMON_DEFAULT_MAX_CONNECTIONS;
    cfg->max_buf_size = DAEMON_DEFAULT_MAX_BUF_SIZE;
    cfg->drain_timeout_ms = DAEMON_DEFAULT_DRAIN_TIMEOUT_MS;
    cfg->workers = 0;
    cfg->log_fmt = LOG_FORMAT_TEXT;
    cfg->log_lvl = LOG_INFO;
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote-helperd [OPTIONS]\n"
            "\n"
            "Node-local SGX quote service speaking aesmd's quote_ex protocol.\n"
            "\n"
            "socket:\n"
            "  --socket PATH             listen here (default " DAEMON_DEFAULT_SOCKET ")\n"
            "  --socket-mode OCTAL       socket file mode (default 0666)\n"
            "  --socket-group NAME|GID   socket file group (default: unchanged)\n"
            "backend:\n"
            "  --backend sim|hw|auto     quoting backend (default sim)\n"
            "  --state-dir DIR           simulated seed lives here (default " DAEMON_DEFAULT_STATE_DIR ")\n"
            "  --seed-file FILE          use this 32-byte seed instead (e.g. a Secret mount)\n"
            "  --instance NAME           simulated platform instance (default: host name)\n"
            "  --sim-tcb-status STATUS   TCB status the simulated collateral assigns\n"
            "  --hw-lib-dir DIR          hw: load Intel's libsgx_{pce,qe3}_logic.so.1 from DIR\n"
            "                            (default: the system library path)\n"
            "limits:\n"
            "  --max-request-bytes N     larger requests are dropped unanswered (default %u)\n"
            "  --io-timeout-ms N         per-connection read/write deadline (default %u)\n"
            "  --max-connections N       connections beyond this are closed at once (default %u)\n"
            "  --max-buf-size N          cap on a request's buf_size (default %u)\n"
            "  --drain-timeout-ms N      SIGTERM waits this long for in-flight requests (default %u)\n"
            "  --workers N               worker threads for backend calls (default: one per CPU, at least 2)\n"
            "logging:\n"
            "  --log-format text|json    stderr line format (default text)\n"
            "  --log-level LEVEL         error, warn, info or debug (default info)\n"
            "\n"
            "  --help, --version\n",
            DAEMON_DEFAULT_MAX_REQUEST, DAEMON_DEFAULT_IO_TIMEOUT_MS,
            DAEMON_DEFAULT_MAX_CONNECTIONS, DAEMON_DEFAULT_MAX_BUF_SIZE,
            DAEMON_DEFAULT_DRAIN_TIMEOUT_MS);
}

/* Decimal in [lo, hi]. */
static int parse_u32(const char *flag, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "sgx-quote-helperd: %s expects a number from %u to %u, got '%s'\n", flag,
                lo, hi, s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_mode(const char *s, mode_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 8);
    if (errno != 0 || end == s || *end != '\0' || v > 07777) {
        fprintf(stderr, "sgx-quote-helperd: --socket-mode expects an octal mode such as 0660, "
                        "got '%s'\n", s);
        return -1;
    }
    *out = (mode_t)v;
    return 0;
}

static int parse_group(const char *s, gid_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno == 0 && end != s && *end == '\0' && v < (unsigned long)UINT32_MAX) {
        *out = (gid_t)v;
        return 0;
    }
    struct group *g = getgrnam(s);
    if (g == NULL) {
        fprintf(stderr, "sgx-quote-helperd: --socket-group: no group named '%s'\n", s);
        return -1;
    }
    *out = g->gr_gid;
    return 0;
}

enum {
    OPT_SOCKET = 256,
    OPT_SOCKET_MODE,
    OPT_SOCKET_GROUP,
    OPT_BACKEND,
    OPT_STATE_DIR,
    OPT_SEED_FILE,
    OPT_INSTANCE,
    OPT_SIM_TCB_STATUS,
    OPT_HW_LIB_DIR,
    OPT_MAX_REQUEST,
    OPT_IO_TIMEOUT,
    OPT_MAX_CONNECTIONS,
    OPT_MAX_BUF_SIZE,
    OPT_DRAIN_TIMEOUT,
    OPT_WORKERS,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION,
};

config_parse_result daemon_config_parse_args(daemon_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
        {"socket-group", required_argument, NULL, OPT_SOCKET_GROUP},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"seed-file", required_argument, NULL, OPT_SEED_FILE},
        {"instance", required_argument, NULL, OPT_INSTANCE},
        {"sim-tcb-status", required_argument, NULL, OPT_SIM_TCB_STATUS},
        {"hw-lib-dir", required_argument, NULL, OPT_HW_LIB_DIR},
        {"max-request-bytes", required_argument, NULL, OPT_MAX_REQUEST},
        {"io-timeout-ms", required_argument, NULL, OPT_IO_TIMEOUT},
        {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
        {"max-buf-size", required_argument, NULL, OPT_MAX_BUF_SIZE},
        {"drain-timeout-ms", required_argument, NULL, OPT_DRAIN_TIMEOUT},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 1;
    int c;
    uint32_t v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_SOCKET:
            if (optarg[0] != '/') {
                fprintf(stderr, "sgx-quote-helperd: --socket needs an absolute path\n");
                return CONFIG_USAGE;
            }
            cfg->socket_path = optarg;
            break;
        case OPT_SOCKET_MODE:
            if (parse_mode(optarg, &cfg->socket_mode) != 0)
                return CONFIG_USAGE;
            break;
        case OPT_SOCKET_GROUP:
            if (parse_group(optarg, &cfg->socket_group) != 0)
                return CONFIG_USAGE;
            cfg->socket_group_set = true;
            break;
        case OPT_BACKEND:
            if (backend_kind_parse(optarg, &cfg->backend.kind) != 0) {
                fprintf(stderr, "sgx-quote-helperd: --backend is sim, hw or auto, got '%s'\n",
                        optarg);
                return CONFIG_USAGE;
            }
            break;
        case OPT_STATE_DIR:
            cfg->backend.state_dir = optarg;
            break;
        case OPT_SEED_FILE:
            cfg->backend.seed_file = optarg;
            break;
        case OPT_INSTANCE:
            cfg->backend.instance = optarg;
            break;
        case OPT_HW_LIB_DIR:
            cfg->backend.hw_lib_dir = optarg;
            break;
        case OPT_SIM_TCB_STATUS:
            cfg->backend.sim_tcb_status = optarg;
            break;
        case OPT_MAX_REQUEST:
            /* 8: the smallest quote_ex request body is 6 bytes (aesm §3.6). */
            if (parse_u32("--max-request-bytes", optarg, 8, DAEMON_MAX_MAX_REQUEST,
                          &cfg->max_request_bytes) != 0)
                return CONFIG_USAGE;
            break;
        case OPT_IO_TIMEOUT:
            if (parse_u32("--io-timeout-ms", optarg, 1, 3600000, &cfg->io_timeout_ms) != 0)
                return CONFIG_USAGE;
            break;
        case OPT_MAX_CONNECTIONS:
            if (parse_u32("--max-connections", optarg, 1, 1000000, &cfg->max_connections) != 0)
                return CONFIG_USAGE;
            break;
        case OPT_MAX_BUF_SIZE:
            /* A quote is at least 1052 bytes (aesm §6.6). */
            if (parse_u32("--max-buf-size", optarg, 1052, 64u * 1024 * 1024,
                          &cfg->max_buf_size) != 0)
                return CONFIG_USAGE;
            break;
        case OPT_DRAIN_TIMEOUT:
            if (parse_u32("--drain-timeout-ms", optarg, 1, 3600000, &cfg->drain_timeout_ms) != 0)
                return CONFIG_USAGE;
            break;
        case OPT_WORKERS:
            if (parse_u32("--workers", optarg, 1, 1024, &v) != 0)
                return CONFIG_USAGE;
            cfg->workers = v;
            break;
        case OPT_LOG_FORMAT:
            if (log_format_parse(optarg, &cfg->log_fmt) != 0) {
                fprintf(stderr, "sgx-quote-helperd: --log-format is text or json\n");
                return CONFIG_USAGE;
            }
            break;
        case OPT_LOG_LEVEL:
            if (log_level_parse(optarg, &cfg->log_lvl) != 0) {
                fprintf(stderr, "sgx-quote-helperd: --log-level is error, warn, info or debug\n");
                return CONFIG_USAGE;
            }
            break;
        case 'h':
        case OPT_HELP:
            usage(stdout);
            return CONFIG_EXIT_OK;
        case OPT_VERSION:
            printf("sgx-quote-helperd %s\n", SGXQH_VERSION);
            return CONFIG_EXIT_OK;
        default:
            usage(stderr);
            return CONFIG_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sgx-quote-helperd: unexpected argument '%s'\n", argv[optind]);
        return CONFIG_USAGE;
    }
    return CONFIG_RUN;
}
