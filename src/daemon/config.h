/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgx-quote-helperd's settings: defaults, the option table, and the three
 * places a setting can come from, in rising precedence (docs/daemon.md):
 *   1. the --config FILE (`name = value` lines, name = the flag's name);
 *   2. environment variables SGX_QUOTE_HELPER_<NAME> (upper case, '-' → '_');
 *   3. command-line flags.
 * main.c loads it once at start; on SIGHUP the server loads it again the
 * same way (the file may have changed) and takes over what can change
 * without a restart (daemon_config_reload). Nothing else reads argv or the
 * environment for settings.
 */
#ifndef SGXQH_DAEMON_CONFIG_H
#define SGXQH_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "backend/backend.h"
#include "daemon/log.h"
#include "ops/acl.h"

#define DAEMON_DEFAULT_SOCKET "/var/run/aesmd/aesm.socket"
#define DAEMON_DEFAULT_STATE_DIR "/var/lib/sgx-quote-helper"
#define DAEMON_DEFAULT_SOCKET_MODE 0666
/* aesm §9.3: the largest legitimate quote_ex request is ~1.7 KB (a
 * GetQuoteEx with report, key id and qe_report_info); 16 KiB leaves ample
 * room and bounds what a half-sent request can make the daemon hold. */
#define DAEMON_DEFAULT_MAX_REQUEST 16384u
#define DAEMON_MAX_MAX_REQUEST (16u * 1024 * 1024)
/* Read/write deadline per connection. Honest clients send their request at
 * once (Intel's client writes prefix and body back to back). */
#define DAEMON_DEFAULT_IO_TIMEOUT_MS 5000u
#define DAEMON_DEFAULT_MAX_CONNECTIONS 1024u
/* One peer (pod, else uid) may hold this many of them at once, so a single
 * client cannot lock the others out. */
#define DAEMON_DEFAULT_MAX_CONNECTIONS_PER_PEER 64u
/* Up to this buf_size the quote is zero-padded (aesmd style); above it the
 * exact-size quote is sent, which every client accepts (aesm §9.1 item 9).
 * What real clients ask for: Intel's library sends the quote_size that
 * GetQuoteSizeEx gave (436 + signature data, at most 1052 + 12294 = 13346
 * bytes, aesm §6.6), Gramine always 8192. 16 KiB pads both exactly as
 * aesmd would, and keeps every reply small (docs/operations.md
 * "Multi-tenant limits"). */
#define DAEMON_DEFAULT_MAX_BUF_SIZE 16384u
/* Highest --max-buf-size: each reply counts against the unread-reply
 * budgets below, and must fit a fresh socket's send buffer in one write. */
#define DAEMON_MAX_MAX_BUF_SIZE 65536u
/* Replies sent and not yet read by their client: all peers together, and
 * one peer (docs/operations.md "Multi-tenant limits"). Never below one
 * reply of --max-buf-size (server.c raises them to that). */
#define DAEMON_DEFAULT_MAX_UNREAD_BYTES (8u * 1024u * 1024u)
#define DAEMON_DEFAULT_MAX_UNREAD_BYTES_PER_PEER (512u * 1024u)
#define DAEMON_MAX_MAX_UNREAD_BYTES (1024u * 1024u * 1024u)
/* How long SIGTERM waits for in-flight connections before giving up. */
#define DAEMON_DEFAULT_DRAIN_TIMEOUT_MS 30000u
/* Environment variable prefix for every flag. */
#define DAEMON_ENV_PREFIX "SGX_QUOTE_HELPER_"
/* A config file larger than this is a mistake. */
#define DAEMON_CONFIG_FILE_MAX (64u * 1024u)

typedef struct {
    const char *socket_path;
    mode_t socket_mode;
    bool socket_group_set;
    gid_t socket_group;

    backend_config backend;

    uint32_t max_request_bytes;
    uint32_t io_timeout_ms;
    uint32_t max_connections;
    uint32_t max_connections_per_peer; /* 0 = no per-peer cap */
    uint32_t max_buf_size;
    uint32_t max_unread_bytes;          /* all peers' unread replies */
    uint32_t max_unread_bytes_per_peer; /* one peer's */
    uint32_t drain_timeout_ms;
    unsigned workers; /* libuv worker threads; 0 = one per online CPU */

    log_format log_fmt; /* default: json unless stderr is a terminal */
    log_level log_lvl;

    const char *http_listen; /* "ADDR:PORT"; NULL = no HTTP endpoint */
    const char *qgs_socket;  /* TDX QGS Unix socket; NULL = off (docs/tdx.md) */
    uint32_t qgs_vsock_port; /* TDX QGS AF_VSOCK port, any CID; 0 = off */

    /* --allow-uid/--allow-gid as given ("" = not set) and the parsed ACL.
     * The server also admits the daemon's own effective uid, but only from
     * the daemon's own PID namespace (its exec probe), see server.c. */
    char allow_uid[ACL_LIST_TEXT_MAX + 1];
    char allow_gid[ACL_LIST_TEXT_MAX + 1];
    ops_acl acl;

    double rate_limit; /* requests per second per peer; 0 = off */
    double rate_burst; /* bucket size */

    const char *proc_root;   /* where /proc is (tests); NULL = "/proc" */
    const char *config_file; /* NULL = none */
    const char *fault_file;  /* test/chaos hook, see fault.h; NULL = off */

    /* Strings the fields above point to. */
    char **owned;
    size_t n_owned;
} daemon_config;

/* Defaults; the log format from whether stderr is a terminal. */
void daemon_config_default(daemon_config *cfg);
void daemon_config_free(daemon_config *cfg);

typedef enum {
    CONFIG_RUN = 0,     /* parsed; start the daemon */
    CONFIG_EXIT_OK = 1, /* --help / --version printed */
    CONFIG_USAGE = 2,   /* bad settings; a sentence is in err */
} config_parse_result;

/* Defaults, then the config file, the environment and argv, then the
 * checks that span several settings. --help/--version print to stdout and
 * return CONFIG_EXIT_OK. On CONFIG_USAGE err holds one sentence naming the
 * setting and where it came from; cfg must still be freed. */
config_parse_result daemon_config_load(daemon_config *cfg, int argc, char **argv, char *err,
                                       size_t errcap);

/* Names of SGX_QUOTE_HELPER_* variables in the environment that are no
 * setting (typos), comma-separated, "" when none. SGX_QUOTE_HELPER_OPTS
 * (the systemd unit's flag list) is not reported. */
void daemon_config_unknown_env(char *out, size_t cap);

/* SIGHUP: copy what can change at run time from fresh into live: log
 * level and format, --max-request-bytes, --io-timeout-ms,
 * --max-connections, --max-connections-per-peer, --max-unread-bytes,
 * --max-unread-bytes-per-peer, --drain-timeout-ms, the ACL and the rate
 * limit.
 * changed/ignored receive comma-separated flag names (without dashes) of
 * settings that were taken over / that differ but need a restart. */
void daemon_config_reload(daemon_config *live, const daemon_config *fresh, char *changed,
                          size_t changed_cap, char *ignored, size_t ignored_cap);

/* Every connection costs a descriptor: raise the soft RLIMIT_NOFILE as far
 * as the hard limit allows and, if --max-connections still does not fit,
 * lower it. Returns 0 when it fits, else the value asked for (and sets
 * *nofile to the limit) so the caller can say so. */
uint32_t daemon_config_fit_connections(daemon_config *cfg, unsigned long long *nofile);

/* The usage text (also --help). */
void daemon_config_usage(FILE *to);

#endif
