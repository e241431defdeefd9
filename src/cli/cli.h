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

/* Whole-file helpers; return 0 or -errno. read caps the size at max. */
int cli_read_file(const char *path, size_t max, uint8_t **data, size_t *len);
int cli_write_file(const char *path, const void *data, size_t len);
/* Parse exactly n bytes of hex (or fewer with *got when got != NULL). */
int cli_parse_hex(const char *hex, uint8_t *out, size_t n, size_t *got);
void cli_print_hex(const uint8_t *p, size_t n); /* to stdout, lowercase */

#endif
