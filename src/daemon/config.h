/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgx-quote-helperd's settings: defaults, command-line parsing and
 * validation in one place (docs/daemon.md lists every flag). main.c turns a
 * daemon_config into a backend, a service and a server; nothing else reads
 * argv. Environment variables for every flag (the operations issue) belong
 * here too.
 */
#ifndef SGXQH_DAEMON_CONFIG_H
#define SGXQH_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/backend.h"
#include "daemon/log.h"

#define DAEMON_DEFAULT_SOCKET "/var/run/aesmd/aesm.socket"
#define DAEMON_DEFAULT_STATE_DIR "/var/lib/sgx-quote-helper"
#define DAEMON_DEFAULT_SOCKET_MODE 0666
/* aesm §9.3: the largest legitimate quote_ex request is ~1.7 KB; EPID
 * GetQuote with a SigRL can be larger, so 64 KiB leaves plenty of room. */
#define DAEMON_DEFAULT_MAX_REQUEST 65536u
#define DAEMON_MAX_MAX_REQUEST (16u * 1024 * 1024)
/* Read/write deadline per connection. Honest clients send their request at
 * once (Intel's client writes prefix and body back to back). */
#define DAEMON_DEFAULT_IO_TIMEOUT_MS 5000u
#define DAEMON_DEFAULT_MAX_CONNECTIONS 1024u
/* aesm §9.3: cert data is at most 12294 bytes, so 64 KiB covers any quote. */
#define DAEMON_DEFAULT_MAX_BUF_SIZE 65536u
/* How long SIGTERM waits for in-flight connections before giving up. */
#define DAEMON_DEFAULT_DRAIN_TIMEOUT_MS 30000u

typedef struct {
    const char *socket_path;
    mode_t socket_mode;
    bool socket_group_set;
    gid_t socket_group;

    backend_config backend;

    uint32_t max_request_bytes;
    uint32_t io_timeout_ms;
    uint32_t max_connections;
    uint32_t max_buf_size;
    uint32_t drain_timeout_ms;
    unsigned workers; /* libuv worker threads; 0 = one per online CPU */

    log_format log_fmt;
    log_level log_lvl;
} daemon_config;

void daemon_config_default(daemon_config *cfg);

typedef enum {
    CONFIG_RUN = 0,     /* parsed; start the daemon */
    CONFIG_EXIT_OK = 1, /* --help / --version printed */
    CONFIG_USAGE = 2,   /* bad arguments; message already printed */
} config_parse_result;

/* Parses argv into cfg (which should hold the defaults). Strings in cfg point
 * into argv. Prints help/version to stdout and errors to stderr. */
config_parse_result daemon_config_parse_args(daemon_config *cfg, int argc, char **argv);

#endif
