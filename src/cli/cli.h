/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared pieces of the sgx-quote command line: exit codes, the command
 * table's signature, small file helpers. Each command lives in cmd_<name>.c
 * and is found by main.c through a weak symbol, so a build without a command
 * says so instead of failing to link.
 */
#ifndef SGXQH_CLI_H
#define SGXQH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgxqh/sgx_arch.h"
#include "sgxqh/sgx_quote_ex.h"

/* Exit codes common to every command (docs/cli.md). `verify` adds its own
 * policy codes on top (docs/verify.md). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* the operation failed; stderr names what failed */
#define CLI_EXIT_USAGE 2 /* bad arguments; see --help */
#define CLI_EXIT_IO 3    /* an input or output file could not be read or written */

typedef int (*cli_command_fn)(int argc, char **argv);

/* Commands (argv[0] is the command name). Weak: absent in a build => NULL. */
int cmd_get(int argc, char **argv) __attribute__((weak));
int cmd_inspect(int argc, char **argv) __attribute__((weak));
int cmd_verify(int argc, char **argv) __attribute__((weak));
int cmd_collateral(int argc, char **argv) __attribute__((weak));
int cmd_ping(int argc, char **argv) __attribute__((weak));
int cmd_doctor(int argc, char **argv) __attribute__((weak));
int cmd_bench(int argc, char **argv) __attribute__((weak));
int cmd_enclave(int argc, char **argv) __attribute__((weak));
int cmd_tdx(int argc, char **argv) __attribute__((weak));
/* `get --tdx` (cmd_tdx.c): cmd_get hands its arguments over unchanged. */
int cli_get_tdx(int argc, char **argv) __attribute__((weak));

/* Out-of-process quoting through our libsgx_quote_ex (src/client); used by
 * `get` without --in-process. socket_path NULL = the client's default
 * (SGX_AESM_ADDR if absolute, else /var/run/aesmd/aesm.socket). On failure
 * returns non-zero and writes a sentence into err. */
int cli_remote_target_info(const char *socket_path, sgx_target_info_t *ti, char *err,
                           size_t errcap) __attribute__((weak));
int cli_remote_quote(const char *socket_path, const sgx_report_t *report,
                     sgx_qe_report_info_t *qe_report_info, uint8_t **quote, size_t *quote_len,
                     char *err, size_t errcap) __attribute__((weak));
/* The socket path the client resolves socket_path to (NULL: its default). */
const char *cli_remote_socket_path(const char *socket_path) __attribute__((weak));

/* What to say when the daemon cannot be reached (get_remote.c, used by get
 * and ping): the hint for a status, and the errno of one connect() to the
 * socket now with the fix for it. err 0 means the connect worked now. */
const char *cli_status_hint(sgx_status_t s);
typedef struct {
    int err;
    char errno_name[24]; /* "ENOENT"; "" when err is 0 */
    char text[128];      /* strerror(err) */
    char fix[768];
} cli_socket_diag;
void cli_socket_diagnose(const char *path, cli_socket_diag *d);

/* Whole-file helpers; return 0 or -errno. read caps the size at max. */
int cli_read_file(const char *path, size_t max, uint8_t **data, size_t *len);
int cli_write_file(const char *path, const void *data, size_t len);
/* Parse exactly n bytes of hex (or fewer with *got when got != NULL). */
int cli_parse_hex(const char *hex, uint8_t *out, size_t n, size_t *got);
void cli_print_hex(const uint8_t *p, size_t n); /* to stdout, lowercase */

/* `--now` wherever it exists (cli_time.c): Unix seconds ("1735787045") or an
 * RFC 3339 date-time ("2025-01-02T03:04:05Z", "2025-01-02T04:04:05+01:00",
 * a fraction of a second is dropped). Returns 0 with *out, or -1; callers
 * check the range they need. CLI_TIME_FORMS is the phrase for messages. */
int cli_parse_time(const char *s, int64_t *out);
#define CLI_TIME_FORMS "Unix seconds or an RFC 3339 time such as 2025-01-02T03:04:05Z"

#endif
