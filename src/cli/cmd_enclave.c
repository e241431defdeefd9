/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote enclave`: stands in for an application enclave on machines
 * without one. `report` makes the REPORT a simulation-mode enclave would
 * make for a given target info (src/sim, SDK-compatible MAC); `target-info`
 * fetches the QE target info to make it for (from the daemon, or from the
 * simulated platform with --in-process). Also home of the option helpers
 * that `get` and `collateral` share (sim_cli.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sim_cli.h"

const char SIM_PLATFORM_HELP[] =
    "  --state-dir DIR      simulated platform state (seed); default $SGXQH_SIM_STATE_DIR,\n"
    "                       else /var/lib/sgx-quote-helper (root), else\n"
    "                       ${XDG_STATE_HOME:-~/.local/state}/sgx-quote-helper\n"
    "  --seed-file FILE     use this seed file (mode 0600/0400, ours) instead\n"
    "  --init-seed          create the seed if it is absent (collateral export refuses\n"
    "                       a missing seed without it; docs/simulation.md)\n"
    "  --instance NAME      platform instance name (default: the host name)\n"
    "  --sim-tcb-status S   UpToDate, SWHardeningNeeded, ConfigurationNeeded, OutOfDate\n"
    "                       or Revoked: the status the collateral gives this platform\n"
    "  --sim-tcb KEY=VALUE  TCB setting (repeatable): fmspc, pceid, tcb, pcesvn, pce-svn,\n"
    "                       qe-svn, sgx-type; TDX: tee-tcb-svn, td-qe-svn,\n"
    "                       tdx-module-status (docs/simulation.md, docs/tdx.md)\n"
    "  --now TIME           build certificates/collateral around this time: Unix\n"
    "                       seconds or RFC 3339 (2025-01-02T03:04:05Z); default: now\n";

const char SIM_IDENTITY_HELP[] =
    "  --mrenclave HEX      32 bytes (default: a fixed demo value)\n"
    "  --mrsigner HEX       32 bytes (default: a fixed demo value)\n"
    "  --isv-prod-id N      0-65535 (default 0)\n"
    "  --isv-svn N          0-65535 (default 0)\n"
    "  --debug              set the DEBUG attribute, also over --attributes (verifiers\n"
    "                       reject debug enclaves)\n"
    "  --attributes HEX     ATTRIBUTES.FLAGS as a 64-bit hex number, not LE bytes (default\n"
    "                       0x5 = INITTED|MODE64BIT; e.g. 0x85 adds KSS)\n"
    "  --xfrm HEX           ATTRIBUTES.XFRM as a 64-bit hex number (default 0x3 = x87|SSE)\n"
    "  --misc-select HEX    MISCSELECT as a 32-bit hex number (default 0)\n"
    "  --config-svn N       CONFIGSVN, 0-65535 (default 0)\n"
    "  --cpusvn HEX         16 bytes (default: the SGX SDK simulator's DEFAULT_CPUSVN)\n"
    "  --report-data HEX    up to 64 bytes, zero-padded\n"
    "  --report-data-file F up to 64 bytes of raw data, zero-padded\n";

static int usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sgx-quote %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static int parse_u16(const char *s, uint16_t *out)
{
    char *end = NULL;
    errno = 0;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    unsigned long v = strtoul(s, &end, 0);
    if (errno != 0 || *end != '\0' || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

/* A hex number ("0x" optional, 1-16 digits, nothing else) no larger than max. */
static int parse_hex_num(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t digits = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; *s != '\0'; s++, digits++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            return -1;
        if (digits >= 16)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    if (digits == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

void cli_sim_init(cli_sim *s)
{
    memset(s, 0, sizeof *s);
    sim_tcb_config_default(&s->opt.tcb);
}

int cli_sim_option(cli_sim *s, int code, const char *arg, const char *cmd)
{
    char err[256];
    switch (code) {
    case SIMOPT_STATE_DIR: s->opt.state_dir = arg; break;
    case SIMOPT_SEED_FILE: s->opt.seed_file = arg; break;
    case SIMOPT_INSTANCE: s->opt.instance = arg; break;
    case SIMOPT_INIT_SEED: s->init_seed = true; break;
    case SIMOPT_TCB_STATUS:
        if (sim_tcb_status_parse(arg, &s->opt.tcb.tcb_status) != SIM_OK)
            return usage_err(cmd,
                             "--sim-tcb-status: unknown status '%s' (UpToDate, "
                             "SWHardeningNeeded, ConfigurationNeeded, OutOfDate, Revoked)",
                             arg);
        break;
    case SIMOPT_TCB:
        if (sim_tcb_config_apply(&s->opt.tcb, arg, err, sizeof err) != SIM_OK)
            return usage_err(cmd, "--sim-tcb: %s", err);
        break;
    case SIMOPT_NOW: {
        int64_t v;
        if (cli_parse_time(arg, &v) != 0 || v <= 0)
            return usage_err(cmd, "--now: '%s' is not a time after 1970: give " CLI_TIME_FORMS,
                             arg);
        s->opt.now = (time_t)v;
        break;
    }
    default: return 0;
    }
    s->any_set = true;
    return 1;
}

int cli_sim_open(cli_sim *s, sim_platform **out, const char *cmd)
{
    char err[1024] = "";
    if (s->opt.state_dir == NULL && s->opt.seed_file == NULL) {
        if (sim_default_state_dir(s->state_dir, sizeof s->state_dir) == NULL) {
            fprintf(stderr, "sgx-quote %s: no default state directory (HOME is not set); "
                            "pass --state-dir DIR\n", cmd);
            return CLI_EXIT_USAGE;
        }
        s->opt.state_dir = s->state_dir;
    }
    int rc = sim_platform_open(&s->opt, out, err, sizeof err);
    if (rc == SIM_OK)
        return CLI_EXIT_OK;
    /* sim_strerror() is "SIM_E_NAME: words"; name the code after the sentence. */
    const char *what = sim_strerror(rc);
    int name_len = (int)strcspn(what, ":");
    fprintf(stderr, "sgx-quote %s: opening the simulated platform failed: %s (%.*s)\n", cmd,
            err[0] != '\0' ? err : what, name_len, what);
    /* The library's sentence already says how to fix it (sim.h); the generic
     * remedy is only for when there is no sentence. */
    const char *remedy = sim_remedy(rc);
    if (err[0] == '\0' && remedy[0] != '\0')
        fprintf(stderr, "sgx-quote %s: hint: %s\n", cmd, remedy);
    return rc == SIM_E_SEED_IO || rc == SIM_E_STATE_DIR ? CLI_EXIT_IO : CLI_EXIT_FAIL;
}

void cli_identity_init(cli_identity *id)
{
    memset(id, 0, sizeof *id);
    sim_enclave_identity_default(&id->id);
}

int cli_identity_option(cli_identity *id, int code, const char *arg, const char *cmd)
{
    size_t got = 0;
    uint64_t v = 0;
    switch (code) {
    case IDOPT_MRENCLAVE:
        if (cli_parse_hex(arg, id->id.mr_enclave, 32, NULL) != 0)
            return usage_err(cmd, "--mrenclave: '%s' is not 32 bytes of hex", arg);
        break;
    case IDOPT_MRSIGNER:
        if (cli_parse_hex(arg, id->id.mr_signer, 32, NULL) != 0)
            return usage_err(cmd, "--mrsigner: '%s' is not 32 bytes of hex", arg);
        break;
    case IDOPT_ISV_PROD_ID:
        if (parse_u16(arg, &id->id.isv_prod_id) != 0)
            return usage_err(cmd, "--isv-prod-id: '%s' is not 0-65535", arg);
        break;
    case IDOPT_ISV_SVN:
        if (parse_u16(arg, &id->id.isv_svn) != 0)
            return usage_err(cmd, "--isv-svn: '%s' is not 0-65535", arg);
        break;
    case IDOPT_DEBUG:
        id->debug = true;
        id->id.flags |= SGX_FLAGS_DEBUG;
        break;
    case IDOPT_ATTRIBUTES:
        if (parse_hex_num(arg, UINT64_MAX, &v) != 0)
            return usage_err(cmd, "--attributes: '%s' is not a 64-bit hex number (e.g. 0x5)",
                             arg);
        /* --debug wins in either order */
        id->id.flags = v | (id->debug ? SGX_FLAGS_DEBUG : 0);
        break;
    case IDOPT_XFRM:
        if (parse_hex_num(arg, UINT64_MAX, &v) != 0)
            return usage_err(cmd, "--xfrm: '%s' is not a 64-bit hex number (e.g. 0x3)", arg);
        id->id.xfrm = v;
        break;
    case IDOPT_MISC_SELECT:
        if (parse_hex_num(arg, UINT32_MAX, &v) != 0)
            return usage_err(cmd, "--misc-select: '%s' is not a 32-bit hex number", arg);
        id->id.misc_select = (uint32_t)v;
        break;
    case IDOPT_CONFIG_SVN:
        if (parse_u16(arg, &id->id.config_svn) != 0)
            return usage_err(cmd, "--config-svn: '%s' is not 0-65535", arg);
        break;
    case IDOPT_CPUSVN:
        if (cli_parse_hex(arg, id->id.cpu_svn, 16, NULL) != 0)
            return usage_err(cmd, "--cpusvn: '%s' is not 16 bytes of hex", arg);
        break;
    case IDOPT_REPORT_DATA:
        if (id->report_data_set)
            return usage_err(cmd, "%s", "give --report-data or --report-data-file once");
        memset(id->id.report_data, 0, sizeof id->id.report_data);
        if (cli_parse_hex(arg, id->id.report_data, 64, &got) != 0)
            return usage_err(cmd, "--report-data: '%s' is not up to 64 bytes of hex", arg);
        id->report_data_set = true;
        break;
    case IDOPT_REPORT_DATA_FILE: {
        uint8_t *data = NULL;
        size_t len = 0;
        if (id->report_data_set)
            return usage_err(cmd, "%s", "give --report-data or --report-data-file once");
        int rc = cli_read_file(arg, 64, &data, &len);
        if (rc == -EFBIG)
            return usage_err(cmd, "--report-data-file: %s is longer than 64 bytes", arg);
        if (rc != 0) {
            fprintf(stderr, "sgx-quote %s: cannot read report data file %s: %s\n", cmd, arg,
                    strerror(-rc));
            return -1;
        }
        memset(id->id.report_data, 0, sizeof id->id.report_data);
        memcpy(id->id.report_data, data, len);
        free(data);
        id->report_data_set = true;
        break;
    }
    default: return 0;
    }
    id->any_set = true;
    return 1;
}

int cli_read_struct(const char *path, void *out, size_t size, const char *what, const char *cmd)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = cli_read_file(path, size, &data, &len);
    if (rc == -EFBIG || (rc == 0 && len != size)) {
        fprintf(stderr, "sgx-quote %s: %s file %s must be exactly %zu bytes%s\n", cmd, what,
                path, size, rc == 0 ? "" : " (it is larger)");
        if (rc == 0)
            fprintf(stderr, "sgx-quote %s: %s has %zu bytes\n", cmd, path, len);
        free(data);
        return CLI_EXIT_FAIL;
    }
    if (rc != 0) {
        fprintf(stderr, "sgx-quote %s: cannot read %s file %s: %s\n", cmd, what, path,
                strerror(-rc));
        return CLI_EXIT_IO;
    }
    memcpy(out, data, size);
    free(data);
    return CLI_EXIT_OK;
}

int cli_write_out(const char *path, const void *data, size_t len, const char *what,
                  const char *cmd)
{
    int rc = cli_write_file(path, data, len);
    if (rc != 0) {
        fprintf(stderr, "sgx-quote %s: cannot write %s to %s: %s\n", cmd, what, path,
                strerror(-rc));
        return CLI_EXIT_IO;
    }
    return CLI_EXIT_OK;
}

/* ---- sgx-quote enclave report ---- */

static void report_usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote enclave report --target-info FILE [identity options] -o REPORT\n"
            "  Makes the 432-byte REPORT a simulation-mode SGX enclave with this identity\n"
            "  would make for the 512-byte target info in FILE (SGX SDK simulation-mode\n"
            "  MAC, so only a simulated QE accepts it).\n"
            "  --target-info FILE   target info of the enclave the report is for (\"-\" = stdin)\n"
            "  -o, --out REPORT     where to write the report (\"-\" = stdout)\n"
            "%s"
            "exit codes: 0 ok, 1 failed (e.g. target info not 512 bytes), 2 usage,\n"
            "            3 file I/O\n",
            SIM_IDENTITY_HELP);
}

static int enclave_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"target-info", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        SIM_IDENTITY_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "enclave report";
    const char *ti_path = NULL, *out = NULL;
    cli_identity id;
    cli_identity_init(&id);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': ti_path = optarg; break;
        case 'o': out = optarg; break;
        case 'h': report_usage(stdout); return CLI_EXIT_OK;
        default: {
            int r = cli_identity_option(&id, c, optarg, cmd);
            if (r == 1)
                break;
            if (r == 0)
                report_usage(stderr);
            return CLI_EXIT_USAGE;
        }
        }
    }
    if (optind < argc || ti_path == NULL || out == NULL) {
        fprintf(stderr, "sgx-quote %s: %s\n", cmd,
                optind < argc ? "unexpected argument" : "--target-info and -o are required");
        report_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    sgx_target_info_t ti;
    int rc = cli_read_struct(ti_path, &ti, sizeof ti, "target info", cmd);
    if (rc != CLI_EXIT_OK)
        return rc;
    sgx_report_t rep;
    if (sim_ereport(&id.id, &ti, &rep) != SIM_OK) {
        fprintf(stderr, "sgx-quote %s: making the report failed (crypto)\n", cmd);
        return CLI_EXIT_FAIL;
    }
    return cli_write_out(out, &rep, sizeof rep, "the report", cmd);
}

/* ---- sgx-quote enclave target-info ---- */

static void target_info_usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote enclave target-info [--socket PATH | --in-process [platform "
            "options]] -o FILE\n"
            "  Writes the QE's 512-byte target info: what an enclave makes its report for.\n"
            "  --socket PATH        ask the daemon at PATH (default: SGX_AESM_ADDR if absolute,\n"
            "                       else /var/run/aesmd/aesm.socket)\n"
            "  --in-process         use the simulated platform in this process instead\n"
            "  -o, --out FILE       where to write it (\"-\" = stdout)\n"
            "%s"
            "exit codes: 0 ok, 1 failed (daemon unreachable or refused, seed refused),\n"
            "            2 usage, 3 file I/O (output, unreadable seed, state directory)\n",
            SIM_PLATFORM_HELP);
}

static int enclave_target_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"in-process", no_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        SIM_PLATFORM_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "enclave target-info";
    const char *socket_path = NULL, *out = NULL;
    bool in_process = false;
    cli_sim sim;
    cli_sim_init(&sim);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': socket_path = optarg; break;
        case 'i': in_process = true; break;
        case 'o': out = optarg; break;
        case 'h': target_info_usage(stdout); return CLI_EXIT_OK;
        default: {
            int r = cli_sim_option(&sim, c, optarg, cmd);
            if (r == 1)
                break;
            if (r == 0)
                target_info_usage(stderr);
            return CLI_EXIT_USAGE;
        }
        }
    }
    if (optind < argc || out == NULL) {
        fprintf(stderr, "sgx-quote %s: %s\n", cmd,
                optind < argc ? "unexpected argument" : "-o is required");
        target_info_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!in_process && sim.any_set) {
        fprintf(stderr, "sgx-quote %s: simulated-platform options need --in-process\n", cmd);
        return CLI_EXIT_USAGE;
    }
    if (in_process && socket_path != NULL) {
        fprintf(stderr, "sgx-quote %s: --socket and --in-process exclude each other\n", cmd);
        return CLI_EXIT_USAGE;
    }
    sgx_target_info_t ti;
    if (in_process) {
        sim_platform *p = NULL;
        int rc = cli_sim_open(&sim, &p, cmd);
        if (rc != CLI_EXIT_OK)
            return rc;
        sim_qe_target_info(p, &ti);
        sim_platform_close(p);
    } else {
        char err[512] = "";
        if (cli_remote_target_info == NULL) {
            fprintf(stderr, "sgx-quote %s: this build has no daemon client; use --in-process\n",
                    cmd);
            return CLI_EXIT_FAIL;
        }
        if (cli_remote_target_info(socket_path, &ti, err, sizeof err) != 0) {
            fprintf(stderr, "sgx-quote %s: getting the QE target info from the daemon failed: "
                            "%s\n", cmd, err);
            return CLI_EXIT_FAIL;
        }
    }
    return cli_write_out(out, &ti, sizeof ti, "the target info", cmd);
}

static void enclave_usage(FILE *to)
{
    fprintf(to, "usage: sgx-quote enclave SUBCOMMAND [OPTIONS]\n"
                "  report        make a simulated enclave REPORT for a target info\n"
                "  target-info   fetch the QE target info (daemon, or --in-process)\n"
                "  (sgx-quote enclave SUBCOMMAND --help for the options)\n"
                "exit codes: 0 ok, 1 failed, 2 usage, 3 file I/O\n");
}

int cmd_enclave(int argc, char **argv)
{
    if (argc < 2) {
        enclave_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        enclave_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "report") == 0)
        return enclave_report(argc - 1, argv + 1);
    if (strcmp(argv[1], "target-info") == 0)
        return enclave_target_info(argc - 1, argv + 1);
    fprintf(stderr, "sgx-quote enclave: unknown subcommand '%s'\n", argv[1]);
    enclave_usage(stderr);
    return CLI_EXIT_USAGE;
}
