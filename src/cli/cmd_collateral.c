/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote collateral export`: writes the simulated platform's collateral
 * (TCB Info, QE Identity, CRLs, issuer chains, the root to trust) in the
 * layout of tests/vectors/quotes/, including dcap-qvl's collateral.json,
 * so verifiers can check our quotes offline (src/sim/collateral.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sim_cli.h"

static void export_usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote collateral export [--tdx] [platform options] -o DIR\n"
            "  Writes the simulated platform's collateral into DIR (created if missing):\n"
            "  pck_chain.pem tcb_info.json tcb_chain.pem qe_identity.json qe_chain.pem\n"
            "  root_ca_crl.der pck_crl.der pck_crl_chain.pem root.pem collateral.json\n"
            "  (dcap-qvl QuoteCollateralV3) meta.json. Valid from an hour before now (for\n"
            "  verifiers whose clock is behind) until 30 days after now.\n"
            "  Use the same platform options as for `sgx-quote get` (the TCB settings\n"
            "  must match the quotes'); trust DIR/root.pem only for testing.\n"
            "  -o, --out DIR        output directory\n"
            "  --tdx                the set for TDX quotes: TDX TCB info v3 (tdxModule,\n"
            "                       tdxModuleIdentities) and the TD_QE identity (docs/tdx.md)\n"
            "%s"
            "exit codes: 0 ok, 1 failed (seed refused, impossible TCB setting), 2 usage,\n"
            "            3 file I/O (output, unreadable seed, state directory)\n",
            SIM_PLATFORM_HELP);
}

static int collateral_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"tdx", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        SIM_PLATFORM_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "collateral export";
    const char *out = NULL;
    bool tdx = false;
    cli_sim sim;
    cli_sim_init(&sim);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 't': tdx = true; break;
        case 'h': export_usage(stdout); return CLI_EXIT_OK;
        default: {
            int r = cli_sim_option(&sim, c, optarg, cmd);
            if (r == 1)
                break;
            if (r == 0)
                export_usage(stderr);
            return CLI_EXIT_USAGE;
        }
        }
    }
    if (optind < argc || out == NULL) {
        fprintf(stderr, "sgx-quote %s: %s\n", cmd,
                optind < argc ? "unexpected argument" : "-o DIR is required");
        export_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    sim_platform *p = NULL;
    /* Exporting is for an existing platform (usually the daemon's): a new
     * seed here would publish a root that no quote chains to. */
    sim.opt.seed_must_exist = !sim.init_seed;
    int rc = cli_sim_open(&sim, &p, cmd);
    if (rc != CLI_EXIT_OK)
        return rc;
    char err[1024] = "";
    int s = tdx ? sim_collateral_export_tdx(p, out, err, sizeof err)
                : sim_collateral_export(p, out, err, sizeof err);
    if (s != SIM_OK) {
        fprintf(stderr, "sgx-quote %s: %s\n", cmd, err[0] != '\0' ? err : sim_strerror(s));
        rc = s == SIM_E_IO ? CLI_EXIT_IO : CLI_EXIT_FAIL;
    } else {
        printf("exported %s collateral for instance '%s' (TCB status %s) to %s; trust anchor: "
               "%s/root.pem\n",
               tdx ? "TDX" : "SGX", sim_instance(p), sim_tcb_status_name(sim_tcb(p)->tcb_status), out, out);
    }
    sim_platform_close(p);
    return rc;
}

static void collateral_usage(FILE *to)
{
    fprintf(to, "usage: sgx-quote collateral SUBCOMMAND [OPTIONS]\n"
                "  export   write the simulated platform's collateral to a directory\n"
                "  (sgx-quote collateral export --help for the options)\n"
                "exit codes: 0 ok, 1 failed, 2 usage, 3 file I/O\n");
}

int cmd_collateral(int argc, char **argv)
{
    if (argc < 2) {
        collateral_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        collateral_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "export") == 0)
        return collateral_export(argc - 1, argv + 1);
    fprintf(stderr, "sgx-quote collateral: unknown subcommand '%s'\n", argv[1]);
    collateral_usage(stderr);
    return CLI_EXIT_USAGE;
}
