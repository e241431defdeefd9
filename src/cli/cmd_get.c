/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote get`: produce a quote the way an application does. The report
 * comes from a file (made by a real or SDK-simulation enclave) or from a
 * simulated enclave targeted at the QE; the quote comes from the daemon
 * (get_remote.c, through our client library) or, with --in-process, straight
 * from the simulated platform (src/sim). With --nonce the QE also returns a
 * report for the app, which we check as the app would (aesm §6.3).
 * --json reports the outcome as one object on stdout (docs/cli.md "get").
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "crypto/crypto.h"
#include "sgxqh/quote.h"
#include "sim_cli.h"

static void get_usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote get [--in-process | --socket PATH] [platform options]\n"
            "                     (--report FILE | --sim-enclave [identity options])\n"
            "                     [--nonce HEX --qe-report-out FILE] -o QUOTE\n"
            "  Produces an SGX ECDSA (v3) quote for an enclave report.\n"
            "  (TDX quotes: sgx-quote get --tdx --help)\n"
            "  --in-process         quote with the simulated platform in this process\n"
            "                       (default: ask the daemon through the aesm socket)\n"
            "  --socket PATH        daemon socket (default: SGX_AESM_ADDR if absolute, else\n"
            "                       /var/run/aesmd/aesm.socket)\n"
            "  --report FILE        a 432-byte REPORT made for the QE's target info\n"
            "                       (see `sgx-quote enclave target-info`)\n"
            "  --sim-enclave        make the report here, as a simulated enclave\n"
            "  --nonce HEX          16 bytes; ask the QE for a report back to the app\n"
            "  --qe-report-out FILE write that 432-byte QE report here (needs --nonce)\n"
            "  -o, --out QUOTE      where to write the quote (\"-\" = stdout)\n"
            "  --json               report the outcome as one JSON object on stdout\n"
            "                       (needs -o FILE)\n"
            "simulated platform options (with --in-process):\n%s"
            "identity options (with --sim-enclave):\n%s"
            "exit codes: 0 ok, 1 quoting failed, 2 usage, 3 file I/O\n",
            SIM_PLATFORM_HELP, SIM_IDENTITY_HELP);
}

typedef struct {
    bool in_process, sim_enclave, json;
    const char *socket_path, *report_path, *out, *qe_report_out;
    bool have_nonce;
    uint8_t nonce[16];
    cli_sim sim;
    cli_identity id;
} get_args;

static int parse_args(int argc, char **argv, get_args *a)
{
    static const struct option opts[] = {
        {"in-process", no_argument, NULL, 'i'},
        {"socket", required_argument, NULL, 's'},
        {"report", required_argument, NULL, 'r'},
        {"sim-enclave", no_argument, NULL, 'e'},
        {"nonce", required_argument, NULL, 'n'},
        {"qe-report-out", required_argument, NULL, 'q'},
        {"out", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        SIM_PLATFORM_LONGOPTS,
        SIM_IDENTITY_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': a->in_process = true; break;
        case 's': a->socket_path = optarg; break;
        case 'r': a->report_path = optarg; break;
        case 'e': a->sim_enclave = true; break;
        case 'n':
            if (cli_parse_hex(optarg, a->nonce, sizeof a->nonce, NULL) != 0) {
                fprintf(stderr, "sgx-quote get: --nonce: '%s' is not 16 bytes of hex\n", optarg);
                return CLI_EXIT_USAGE;
            }
            a->have_nonce = true;
            break;
        case 'q': a->qe_report_out = optarg; break;
        case 'o': a->out = optarg; break;
        case 'J': a->json = true; break;
        case 'h': get_usage(stdout); return -1;
        default: {
            int r = cli_sim_option(&a->sim, c, optarg, "get");
            if (r == 0)
                r = cli_identity_option(&a->id, c, optarg, "get");
            if (r == 1)
                break;
            if (r == 0)
                get_usage(stderr);
            return CLI_EXIT_USAGE;
        }
        }
    }
    const char *problem = NULL;
    if (optind < argc)
        problem = "unexpected argument";
    else if (a->out == NULL)
        problem = "-o QUOTE is required";
    else if ((a->report_path != NULL) == a->sim_enclave)
        problem = "give exactly one of --report FILE and --sim-enclave";
    else if (a->id.any_set && !a->sim_enclave)
        problem = "identity options (--mrenclave, --report-data, ...) need --sim-enclave";
    else if (a->sim.any_set && !a->in_process)
        problem = "simulated-platform options (--state-dir, --sim-tcb-status, ...) need "
                  "--in-process";
    else if (a->in_process && a->socket_path != NULL)
        problem = "--socket and --in-process exclude each other";
    else if (a->have_nonce != (a->qe_report_out != NULL))
        problem = "--nonce and --qe-report-out go together";
    else if (a->json && (strcmp(a->out, "-") == 0 ||
                         (a->qe_report_out != NULL && strcmp(a->qe_report_out, "-") == 0)))
        problem = "--json prints to stdout: write the quote (and QE report) to files with -o FILE";
    if (problem != NULL) {
        fprintf(stderr, "sgx-quote get: %s\n", problem);
        get_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* What the application does with the QE's report (aesm §6.3): its
 * report_data must be SHA-256(nonce ‖ quote) ‖ 0^32, and (simulation only,
 * where the REPORT key is computable) its MAC must verify for the app. */
static int check_qe_report(const get_args *a, const sgx_report_t *app,
                           const sgx_qe_report_info_t *qri, const uint8_t *quote, size_t len)
{
    uint8_t h[32], zero[32] = {0};
    crypto_buf parts[2] = {{qri->nonce, sizeof qri->nonce}, {quote, len}};
    if (crypto_sha256_parts(parts, 2, h) != 0 ||
        !crypto_ct_equal(qri->qe_report.body.report_data, h, 32) ||
        memcmp(qri->qe_report.body.report_data + 32, zero, 32) != 0) {
        fprintf(stderr, "sgx-quote get: the QE report's report_data is not "
                        "SHA-256(nonce || quote) || 0: the quote and QE report do not belong "
                        "together\n");
        return CLI_EXIT_FAIL;
    }
    if (a->in_process) {
        if (sim_verify_report(&qri->app_enclave_target_info, app->body.cpu_svn,
                              &qri->qe_report) != SIM_OK) {
            fprintf(stderr, "sgx-quote get: the QE report's MAC does not verify for the app\n");
            return CLI_EXIT_FAIL;
        }
    }
    return CLI_EXIT_OK;
}

/* A failure: to stderr as always, and kept for the --json report. */
static void get_fail(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void get_fail(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sgx-quote get: %s\n", msg);
}

static void print_json(const get_args *a, int rc, const char *error, size_t quote_len)
{
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_boolean(rc == CLI_EXIT_OK));
    json_object_set_new(o, "exit", json_integer(rc));
    json_object_set_new(o, "source", json_string(a->in_process ? "in-process" : "daemon"));
    const char *sock = a->socket_path;
    if (sock == NULL && cli_remote_socket_path != NULL)
        sock = cli_remote_socket_path(NULL);
    json_object_set_new(o, "socket", a->in_process || sock == NULL ? json_null() : json_string(sock));
    json_object_set_new(o, "quote_file", json_string(a->out));
    json_object_set_new(o, "quote_size", rc == CLI_EXIT_OK ? json_integer((json_int_t)quote_len)
                                                           : json_null());
    json_object_set_new(o, "qe_report_file",
                        a->qe_report_out != NULL ? json_string(a->qe_report_out) : json_null());
    json_object_set_new(o, "error", rc == CLI_EXIT_OK ? json_null()
                                    : json_string(error[0] != '\0' ? error
                                                                   : "see the message on stderr"));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text != NULL)
        printf("%s\n", text);
    free(text);
}

int cmd_get(int argc, char **argv)
{
    /* TDX quotes take other inputs (a TDREPORT) and another socket (QGS). */
    for (int i = 1; i < argc && cli_get_tdx != NULL; i++) {
        if (strcmp(argv[i], "--tdx") == 0)
            return cli_get_tdx(argc, argv);
    }
    get_args a;
    memset(&a, 0, sizeof a);
    cli_sim_init(&a.sim);
    cli_identity_init(&a.id);
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;

    sim_platform *p = NULL;
    uint8_t *quote = NULL;
    size_t quote_len = 0;
    sgx_report_t report;
    sgx_qe_report_info_t qri;
    sgx_target_info_t qe_ti;
    char err[2048] = "", msg[2048] = "";

    if (a.in_process) {
        if ((rc = cli_sim_open(&a.sim, &p, "get")) != CLI_EXIT_OK)
            goto out;
    } else if (cli_remote_target_info == NULL || cli_remote_quote == NULL) {
        get_fail(msg, sizeof msg, "this build has no daemon client; use --in-process");
        rc = CLI_EXIT_FAIL;
        goto out;
    }

    /* The app's report. */
    if (a.report_path != NULL) {
        if ((rc = cli_read_struct(a.report_path, &report, sizeof report, "report", "get")) !=
            CLI_EXIT_OK)
            goto out;
    } else {
        if (p != NULL) {
            sim_qe_target_info(p, &qe_ti);
        } else if (cli_remote_target_info(a.socket_path, &qe_ti, err, sizeof err) != 0) {
            get_fail(msg, sizeof msg, "getting the QE target info failed: %s", err);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        if (sim_ereport(&a.id.id, &qe_ti, &report) != SIM_OK) {
            get_fail(msg, sizeof msg, "making the simulated enclave report failed");
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    }
    memset(&qri, 0, sizeof qri);
    if (a.have_nonce) {
        memcpy(qri.nonce, a.nonce, sizeof qri.nonce);
        /* The app's own target info, from its report (quote-format §4.1). */
        sgx_target_info_from_report(&report.body, &qri.app_enclave_target_info);
    }

    /* The quote. */
    if (p != NULL) {
        size_t cap = sim_quote_size(p);
        quote = malloc(cap);
        if (quote == NULL) {
            get_fail(msg, sizeof msg, "out of memory");
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        int s = sim_get_quote(p, &report, a.have_nonce ? &qri : NULL, quote, cap, &quote_len);
        if (s != SIM_OK) {
            get_fail(msg, sizeof msg, "the simulated QE refused: %s", sim_strerror(s));
            if (sim_remedy(s)[0] != '\0')
                fprintf(stderr, "sgx-quote get: hint: %s (`sgx-quote enclave target-info "
                                "--in-process` gives it)\n", sim_remedy(s));
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    } else if (cli_remote_quote(a.socket_path, &report, a.have_nonce ? &qri : NULL, &quote,
                                &quote_len, err, sizeof err) != 0) {
        get_fail(msg, sizeof msg, "%s", err);
        rc = CLI_EXIT_FAIL;
        goto out;
    }

    if (a.have_nonce && (rc = check_qe_report(&a, &report, &qri, quote, quote_len)) != CLI_EXIT_OK)
        goto out;
    if ((rc = cli_write_out(a.out, quote, quote_len, "the quote", "get")) != CLI_EXIT_OK)
        goto out;
    if (a.have_nonce &&
        (rc = cli_write_out(a.qe_report_out, &qri.qe_report, sizeof qri.qe_report,
                            "the QE report", "get")) != CLI_EXIT_OK)
        goto out;
    if (!a.json && strcmp(a.out, "-") != 0 &&
        (a.qe_report_out == NULL || strcmp(a.qe_report_out, "-") != 0))
        printf("wrote a %zu-byte quote to %s (%s)%s%s\n", quote_len, a.out,
               p != NULL ? "simulated platform, in-process" : "from the daemon",
               a.have_nonce ? "; QE report checked and written to " : "",
               a.have_nonce ? a.qe_report_out : "");
    rc = CLI_EXIT_OK;
out:
    if (a.json)
        print_json(&a, rc, msg, quote_len);
    free(quote);
    sim_platform_close(p);
    return rc;
}
