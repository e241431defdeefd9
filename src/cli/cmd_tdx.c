/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote tdx report` stands in for a TD guest: it makes the 1024-byte
 * TDREPORT the simulated platform's TDX module would return for
 * TDG.MR.REPORT, MACed with the platform's simulated key (docs/tdx.md).
 * `sgx-quote get --tdx` (cli_get_tdx) turns such a report into a TDX quote:
 * through the daemon's QGS socket (framed qgs_msg, or raw like older QEMU)
 * or with the simulated TD quoting enclave in this process.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "qgs/qgs_client.h"
#include "sgxqh/tdreport.h"
#include "sim_cli.h"

enum {
    TDXOPT_REPORT_DATA = 1200,
    TDXOPT_VERSION,
    TDXOPT_MRTD,
    TDXOPT_RTMR,
    TDXOPT_DEBUG,
    TDXOPT_TDX,
    TDXOPT_QGS_SOCKET,
    TDXOPT_RAW,
    TDXOPT_IN_PROCESS,
    TDXOPT_REPORT,
};

static void report_usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote tdx report [--report-data HEX] [--version 0|1] [--mrtd HEX]\n"
            "                            [--rtmr N=HEX]... [--debug] [platform options] -o FILE\n"
            "  Makes a simulated 1024-byte TDREPORT (TDX 1.0 layout with --version 0, the\n"
            "  default; TDX 1.5 with --version 1) that this simulated platform's TD quoting\n"
            "  enclave accepts (its MAC uses the platform's simulated key: docs/tdx.md).\n"
            "  --report-data HEX    up to 64 bytes, zero-padded (REPORTDATA)\n"
            "  --version 0|1        REPORTTYPE.VERSION: 0 gives a v4 quote, 1 a v5 quote\n"
            "  --mrtd HEX           48 bytes (default: a fixed demo value)\n"
            "  --rtmr N=HEX         RTMR N (0-3), 48 bytes; repeatable\n"
            "  --debug              set TD ATTRIBUTES.DEBUG (verifiers reject debug TDs)\n"
            "  -o, --out FILE       where to write the TDREPORT (\"-\" = stdout)\n"
            "platform options (must match those of the quoting side):\n%s"
            "exit codes: 0 ok, 1 failed, 2 usage, 3 file I/O\n",
            SIM_PLATFORM_HELP);
}

static int usage_fail(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "sgx-quote %s: %s '%s'\n", cmd, what, arg);
    return CLI_EXIT_USAGE;
}

static int parse_rtmr(const char *arg, sim_td_identity *id)
{
    if (arg[0] < '0' || arg[0] > '3' || arg[1] != '=')
        return -1;
    return cli_parse_hex(arg + 2, id->rtmr[arg[0] - '0'], 48, NULL);
}

static int tdx_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"report-data", required_argument, NULL, TDXOPT_REPORT_DATA},
        {"version", required_argument, NULL, TDXOPT_VERSION},
        {"mrtd", required_argument, NULL, TDXOPT_MRTD},
        {"rtmr", required_argument, NULL, TDXOPT_RTMR},
        {"debug", no_argument, NULL, TDXOPT_DEBUG},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        SIM_PLATFORM_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "tdx report";
    const char *out = NULL;
    sim_td_identity id;
    cli_sim sim;
    size_t got = 0;
    int c;

    sim_td_identity_default(&id);
    cli_sim_init(&sim);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'h': report_usage(stdout); return CLI_EXIT_OK;
        case TDXOPT_REPORT_DATA:
            if (cli_parse_hex(optarg, id.report_data, sizeof id.report_data, &got) != 0)
                return usage_fail(cmd, "--report-data is not up to 64 bytes of hex:", optarg);
            break;
        case TDXOPT_VERSION:
            if (strcmp(optarg, "0") != 0 && strcmp(optarg, "1") != 0)
                return usage_fail(cmd, "--version is 0 (TDX 1.0) or 1 (TDX 1.5), not", optarg);
            id.version = (uint8_t)(optarg[0] - '0');
            break;
        case TDXOPT_MRTD:
            if (cli_parse_hex(optarg, id.mr_td, sizeof id.mr_td, NULL) != 0)
                return usage_fail(cmd, "--mrtd is not 48 bytes of hex:", optarg);
            break;
        case TDXOPT_RTMR:
            if (parse_rtmr(optarg, &id) != 0)
                return usage_fail(cmd, "--rtmr is not N=HEX with N 0-3 and 48 bytes:", optarg);
            break;
        case TDXOPT_DEBUG: id.td_attributes |= TDX_TD_ATTR_DEBUG; break;
        default: {
            int r = cli_sim_option(&sim, c, optarg, cmd);
            if (r == 1)
                break;
            if (r == 0)
                report_usage(stderr);
            return CLI_EXIT_USAGE;
        }
        }
    }
    if (optind < argc || out == NULL) {
        fprintf(stderr, "sgx-quote %s: %s\n", cmd,
                optind < argc ? "unexpected argument" : "-o FILE is required");
        report_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    sim_platform *p = NULL;
    int rc = cli_sim_open(&sim, &p, cmd);
    if (rc != CLI_EXIT_OK)
        return rc;
    uint8_t report[TDX_REPORT_SIZE];
    int s = sim_td_report(p, &id, report);
    sim_platform_close(p);
    if (s != SIM_OK) {
        fprintf(stderr, "sgx-quote %s: %s\n", cmd, sim_strerror(s));
        return CLI_EXIT_FAIL;
    }
    return cli_write_out(out, report, sizeof report, "TDREPORT", cmd);
}

static void tdx_usage(FILE *to)
{
    fprintf(to, "usage: sgx-quote tdx SUBCOMMAND [OPTIONS]\n"
                "  report   make a simulated TDREPORT (sgx-quote tdx report --help)\n"
                "  (quotes: sgx-quote get --tdx --help)\n"
                "exit codes: 0 ok, 1 failed, 2 usage, 3 file I/O\n");
}

int cmd_tdx(int argc, char **argv)
{
    if (argc < 2) {
        tdx_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        tdx_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "report") == 0)
        return tdx_report(argc - 1, argv + 1);
    fprintf(stderr, "sgx-quote tdx: unknown subcommand '%s'\n", argv[1]);
    tdx_usage(stderr);
    return CLI_EXIT_USAGE;
}

/* ---- get --tdx ---- */

static void get_tdx_usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote get --tdx [--qgs-socket PATH] [--raw] [--in-process]\n"
            "                     [platform options] --report FILE -o QUOTE\n"
            "  Produces a TDX quote (v4, or v5 for TDX 1.5 reports) for a 1024-byte TDREPORT.\n"
            "  --qgs-socket PATH    the daemon's QGS socket (default "
            QGS_DEFAULT_SOCKET ")\n"
            "  --raw                send the bare TDREPORT and read the bare quote, as\n"
            "                       pass-through QEMU does (default: framed qgs_msg GET_QUOTE)\n"
            "  --in-process         quote with the simulated TD quoting enclave here\n"
            "  --report FILE        the TDREPORT (e.g. from `sgx-quote tdx report`)\n"
            "  -o, --out QUOTE      where to write the quote (\"-\" = stdout)\n"
            "simulated platform options (with --in-process):\n%s"
            "exit codes: 0 ok, 1 quoting failed, 2 usage, 3 file I/O\n",
            SIM_PLATFORM_HELP);
}

int cli_get_tdx(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tdx", no_argument, NULL, TDXOPT_TDX},
        {"qgs-socket", required_argument, NULL, TDXOPT_QGS_SOCKET},
        {"raw", no_argument, NULL, TDXOPT_RAW},
        {"in-process", no_argument, NULL, TDXOPT_IN_PROCESS},
        {"report", required_argument, NULL, TDXOPT_REPORT},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        SIM_PLATFORM_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "get --tdx";
    const char *socket_path = NULL, *report_path = NULL, *out = NULL;
    bool raw = false, in_process = false;
    cli_sim sim;
    uint8_t *report = NULL, *quote = NULL;
    size_t report_len = 0, quote_len = 0;
    char err[512] = "";
    int c, rc;

    cli_sim_init(&sim);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case TDXOPT_TDX: break;
        case TDXOPT_QGS_SOCKET: socket_path = optarg; break;
        case TDXOPT_RAW: raw = true; break;
        case TDXOPT_IN_PROCESS: in_process = true; break;
        case TDXOPT_REPORT: report_path = optarg; break;
        case 'o': out = optarg; break;
        case 'h': get_tdx_usage(stdout); return CLI_EXIT_OK;
        default: {
            int r = cli_sim_option(&sim, c, optarg, cmd);
            if (r == 1)
                break;
            if (r == 0)
                get_tdx_usage(stderr);
            return CLI_EXIT_USAGE;
        }
        }
    }
    const char *bad = optind < argc               ? "unexpected argument"
                      : report_path == NULL       ? "--report FILE is required"
                      : out == NULL               ? "-o QUOTE is required"
                      : in_process && raw         ? "--raw is a socket framing; not with --in-process"
                      : in_process && socket_path ? "--qgs-socket and --in-process exclude each other"
                      : !in_process && sim.any_set
                          ? "platform options need --in-process (the daemon has its own)"
                          : NULL;
    if (bad != NULL) {
        fprintf(stderr, "sgx-quote %s: %s\n", cmd, bad);
        get_tdx_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    rc = cli_read_file(report_path, 2 * TDX_REPORT_SIZE, &report, &report_len);
    if (rc != 0) {
        fprintf(stderr, "sgx-quote %s: cannot read %s: %s\n", cmd, report_path, strerror(-rc));
        return CLI_EXIT_IO;
    }
    if (report_len != TDX_REPORT_SIZE) {
        fprintf(stderr, "sgx-quote %s: %s has %zu bytes; a TDREPORT has exactly %u\n", cmd,
                report_path, report_len, TDX_REPORT_SIZE);
        free(report);
        return CLI_EXIT_FAIL;
    }
    if (in_process) {
        sim_platform *p = NULL;
        if ((rc = cli_sim_open(&sim, &p, cmd)) != CLI_EXIT_OK)
            goto out;
        quote_len = sim_td_quote_size(p);
        quote = malloc(quote_len);
        int s = quote == NULL ? SIM_E_CRYPTO
                              : sim_td_get_quote(p, report, report_len, quote, quote_len,
                                                 &quote_len, err, sizeof err);
        sim_platform_close(p);
        if (s != SIM_OK) {
            const char *what = sim_strerror(s);
            fprintf(stderr, "sgx-quote %s: the simulated TD quoting enclave refused: %s%s%s\n",
                    cmd, what, err[0] != '\0' ? "; " : "", err);
            if (sim_remedy(s)[0] != '\0')
                fprintf(stderr, "sgx-quote %s: hint: %s\n", cmd, sim_remedy(s));
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    } else {
        const char *path = socket_path != NULL ? socket_path : QGS_DEFAULT_SOCKET;
        int q = qgs_client_get_quote(path, report, report_len, raw, QGS_CLIENT_TIMEOUT_MS,
                                     &quote, &quote_len, err, sizeof err);
        if (q != 0) {
            fprintf(stderr, "sgx-quote %s: %s\n", cmd, err);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    }
    rc = cli_write_out(out, quote, quote_len, "quote", cmd);
    if (rc == CLI_EXIT_OK && strcmp(out, "-") != 0)
        fprintf(stderr, "wrote a %zu-byte TDX quote to %s\n", quote_len, out);
out:
    free(report);
    free(quote);
    return rc;
}
