/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote ping`: the health probe. One GetSupportedAttKeyIDNum through
 * the client library (aesm §4.5); healthy means the daemon answered with
 * success and offers at least one attestation key id. Fails fast by
 * default (no connect retry), since probes have their own timeouts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client/client.h"

static void ping_usage(FILE *to)
{
    fprintf(to, "usage: sgx-quote ping [--socket PATH] [--timeout-ms N] [--retry-ms N] [--quiet]\n"
                "  Asks the daemon how many attestation key ids it offers; exit 0 when it\n"
                "  answers with at least one, 1 otherwise.\n"
                "  --socket PATH    default: SGX_AESM_ADDR if absolute, else "
                CLIENT_DEFAULT_SOCKET "\n"
                "  --timeout-ms N   I/O deadline (default 5000)\n"
                "  --retry-ms N     keep retrying a missing/refusing socket this long (default 0)\n"
                "  --quiet          print nothing, just set the exit code\n"
                "exit codes: 0 the daemon answered, 1 no answer or no key id, 2 usage\n");
}

static int parse_ms(const char *s, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 0 || v > 3600000)
        return -1;
    *out = (int)v;
    return 0;
}

int cmd_ping(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"retry-ms", required_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    client_opts o;
    client_opts_default(&o);
    o.connect_retry_ms = 0;
    o.io_timeout_ms = 5000;
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:t:r:qh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            o.socket_path = optarg;
            break;
        case 't':
            if (parse_ms(optarg, &o.io_timeout_ms) != 0 || o.io_timeout_ms == 0) {
                fprintf(stderr, "sgx-quote ping: --timeout-ms expects 1..3600000\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'r':
            if (parse_ms(optarg, &o.connect_retry_ms) != 0) {
                fprintf(stderr, "sgx-quote ping: --retry-ms expects 0..3600000\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            ping_usage(stdout);
            return CLI_EXIT_OK;
        default:
            ping_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sgx-quote ping: unexpected argument '%s'\n", argv[optind]);
        return CLI_EXIT_USAGE;
    }

    uint32_t num = 0;
    sgx_status_t s = client_get_supported_att_key_id_num(&o, &num);
    if (s != SGX_SUCCESS) {
        if (!quiet)
            fprintf(stderr, "sgx-quote ping: %s: %s (0x%04x)\n", client_socket_path(&o),
                    sgx_status_name(s), (unsigned)s);
        return CLI_EXIT_FAIL;
    }
    if (num == 0) {
        if (!quiet)
            fprintf(stderr, "sgx-quote ping: %s answered but offers no attestation key id\n",
                    client_socket_path(&o));
        return CLI_EXIT_FAIL;
    }
    if (!quiet)
        printf("ok: %s offers %u attestation key id%s\n", client_socket_path(&o), num,
               num == 1 ? "" : "s");
    return CLI_EXIT_OK;
}
