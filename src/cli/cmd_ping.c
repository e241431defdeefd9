/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote ping`: the health probe. One GetSupportedAttKeyIDNum through
 * the client library (aesm §4.5); healthy means the daemon answered with
 * success and offers at least one attestation key id. Fails fast by
 * default (no connect retry), since probes have their own timeouts. A
 * failure names the status, the errno of connecting to the socket and the
 * fix (get_remote.c's diagnosis), as text or as --json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "client/client.h"

static void ping_usage(FILE *to)
{
    fprintf(to, "usage: sgx-quote ping [--socket PATH] [--timeout-ms N] [--retry-ms N] [--quiet]\n"
                "                       [--json]\n"
                "  Asks the daemon how many attestation key ids it offers; exit 0 when it\n"
                "  answers with at least one, 1 otherwise.\n"
                "  --socket PATH    default: SGX_AESM_ADDR if absolute, else "
                CLIENT_DEFAULT_SOCKET "\n"
                "  --timeout-ms N   I/O deadline (default 5000)\n"
                "  --retry-ms N     keep retrying a missing/refusing socket this long (default 0)\n"
                "  --quiet          print nothing, just set the exit code\n"
                "  --json           print the answer as one JSON object on stdout\n"
                "                   (docs/cli.md \"ping\")\n"
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
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    client_opts o;
    client_opts_default(&o);
    o.connect_retry_ms = 0;
    o.io_timeout_ms = 5000;
    bool quiet = false, json = false;
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
        case 'j':
            json = true;
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
    const char *path = client_socket_path(&o);
    sgx_status_t s = client_get_supported_att_key_id_num(&o, &num);
    cli_socket_diag d;
    const char *hint = NULL;
    memset(&d, 0, sizeof d);
    if (s == SGX_ERROR_SERVICE_UNAVAILABLE) {
        cli_socket_diagnose(path, &d);
        hint = d.fix;
    } else if (s != SGX_SUCCESS) {
        hint = cli_status_hint(s);
    } else if (num == 0) {
        hint = "the daemon's backend offers no ECDSA key: see its log (sgx-quote doctor checks "
               "the node)";
    }
    int ret = s == SGX_SUCCESS && num > 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    if (json) {
        json_t *o_ = json_object();
        json_object_set_new(o_, "ok", json_boolean(ret == CLI_EXIT_OK));
        json_object_set_new(o_, "socket", json_string(path));
        json_object_set_new(o_, "status", json_string(sgx_status_name(s)));
        json_object_set_new(o_, "status_code", json_integer((json_int_t)s));
        json_object_set_new(o_, "att_key_ids", s == SGX_SUCCESS ? json_integer(num) : json_null());
        json_object_set_new(o_, "errno", d.err != 0 ? json_string(d.errno_name) : json_null());
        json_object_set_new(o_, "error", d.err != 0 ? json_string(d.text) : json_null());
        json_object_set_new(o_, "hint", hint != NULL ? json_string(hint) : json_null());
        char *text = json_dumps(o_, JSON_COMPACT);
        json_decref(o_);
        if (text != NULL && !quiet)
            printf("%s\n", text);
        free(text);
        return ret;
    }
    if (quiet)
        return ret;
    if (s != SGX_SUCCESS && d.err != 0)
        fprintf(stderr, "sgx-quote ping: %s: %s (0x%04x): connect: %s (%s)\nsgx-quote ping: hint: "
                        "%s\n", path, sgx_status_name(s), (unsigned)s, d.text, d.errno_name, hint);
    else if (s != SGX_SUCCESS)
        fprintf(stderr, "sgx-quote ping: %s: %s (0x%04x)\nsgx-quote ping: hint: %s\n", path,
                sgx_status_name(s), (unsigned)s, hint);
    else if (num == 0)
        fprintf(stderr, "sgx-quote ping: %s answered but offers no attestation key id\n"
                        "sgx-quote ping: hint: %s\n", path, hint);
    else
        printf("ok: %s offers %u attestation key id%s\n", path, num, num == 1 ? "" : "s");
    return ret;
}
