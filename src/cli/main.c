/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgx-quote: the user command line (DESIGN.md "Stable interfaces"). This file
 * only dispatches to cmd_<name>() and holds the helpers every command uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "crypto/crypto.h"
#include "sgxqh_config.h"

static const struct {
    const char *name;
    const char *summary;
} COMMAND_HELP[] = {
    {"get", "produce a quote (from the daemon, or --in-process)"},
    {"inspect", "print every field of a quote"},
    {"verify", "verify a quote against collateral and a trusted root"},
    {"collateral", "export the simulated platform's collateral"},
    {"enclave", "make a simulated enclave report"},
    {"tdx", "make a simulated TDX TDREPORT"},
    {"ping", "check that the daemon answers (health probe)"},
    {"doctor", "check this node's SGX set-up and explain problems"},
    {"bench", "measure quote and verify throughput"},
};

static cli_command_fn command_fn(const char *name)
{
    if (strcmp(name, "get") == 0) return cmd_get;
    if (strcmp(name, "inspect") == 0) return cmd_inspect;
    if (strcmp(name, "verify") == 0) return cmd_verify;
    if (strcmp(name, "collateral") == 0) return cmd_collateral;
    if (strcmp(name, "enclave") == 0) return cmd_enclave;
    if (strcmp(name, "tdx") == 0) return cmd_tdx;
    if (strcmp(name, "ping") == 0) return cmd_ping;
    if (strcmp(name, "doctor") == 0) return cmd_doctor;
    if (strcmp(name, "bench") == 0) return cmd_bench;
    return NULL;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: sgx-quote COMMAND [OPTIONS]   (sgx-quote COMMAND --help)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof COMMAND_HELP / sizeof COMMAND_HELP[0]; i++) {
        if (command_fn(COMMAND_HELP[i].name) != NULL)
            fprintf(to, "  %-11s %s\n", COMMAND_HELP[i].name, COMMAND_HELP[i].summary);
    }
    fprintf(to, "\nexit codes: 0 ok, 1 operation failed, 2 usage error, 3 file I/O error"
                " (verify: see docs/verify.md)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("sgx-quote %s\n", SGXQH_VERSION);
        return CLI_EXIT_OK;
    }
    cli_command_fn fn = command_fn(name);
    if (fn == NULL) {
        fprintf(stderr, "sgx-quote: unknown command '%s'\n", name);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return fn(argc - 1, argv + 1);
}

int cli_read_file(const char *path, size_t max, uint8_t **data, size_t *len)
{
    int rc = 0;
    uint8_t *buf = NULL;
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 4096, used = 0;
    buf = malloc(cap);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (;;) {
        if (used == cap) {
            if (cap > max) {
                rc = -EFBIG;
                goto out;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    if (used > max) {
        rc = -EFBIG;
        goto out;
    }
    *data = buf;
    *len = used;
    buf = NULL;
out:
    free(buf);
    if (fd != STDIN_FILENO)
        close(fd);
    return rc;
}

int cli_write_file(const char *path, const void *data, size_t len)
{
    int fd = strcmp(path, "-") == 0 ? STDOUT_FILENO
                                    : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    const uint8_t *p = data;
    int rc = 0;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fd != STDOUT_FILENO && close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

int cli_parse_hex(const char *hex, uint8_t *out, size_t n, size_t *got)
{
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    return crypto_hex_decode(hex, strlen(hex), out, n, got) == CRYPTO_OK ? 0 : -EINVAL;
}

void cli_print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}
