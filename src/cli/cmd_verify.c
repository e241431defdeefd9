/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote verify`: the command-line face of the verifier library
 * (include/sgxqh/verify.h). Reads the quote, gathers collateral from a
 * directory, a dcap-qvl JSON file or a PCCS, picks the trust anchor, runs
 * verify_quote() and prints a short verdict (or the --json document). The
 * exit status says what kind of answer it was; docs/verify.md lists them.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "crypto/x509.h"
#include "sgxqh/quote.h"
#include "sgxqh/verify.h"

/* Verify's own exit codes on top of cli.h's 0-3 (docs/verify.md). */
#define VERIFY_EXIT_POLICY 4   /* verified, but the status / debug mode is not accepted */
#define VERIFY_EXIT_EXPIRED 5  /* verified, but some collateral is not valid at --now */
#define VERIFY_EXIT_INVALID 6  /* a check failed (signature, chain, mismatch, no TCB level) */
#define VERIFY_EXIT_REVOKED 7  /* a certificate or the TCB level is revoked */

#define QUOTE_FILE_MAX (1u << 20)

static void usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote verify QUOTE (--collateral-dir DIR | --collateral FILE | --pccs-url URL)\n"
            "                        [--pck-chain PEM] [--root PEM] [--now UNIX] [--allow-debug]\n"
            "                        [--accept STATUS,...] [--json]\n"
            "\n"
            "Verifies an SGX (v3/v4) or TDX (v4/v5) quote like Intel's QVL does.\n"
            "  QUOTE                 the raw quote file ('-' = stdin)\n"
            "  --collateral-dir DIR  collateral files as `sgx-quote collateral export` writes them\n"
            "  --collateral FILE     a dcap-qvl QuoteCollateralV3 JSON document\n"
            "  --pccs-url URL        fetch collateral from a PCCS / PCS v4 base URL\n"
            "  --pck-chain PEM       PCK chain for quotes without one (certification data 1-4)\n"
            "  --root PEM            trust this root instead of Intel's SGX Root CA\n"
            "  --now UNIX            check time in Unix seconds (default: now)\n"
            "  --allow-debug         accept debug enclaves / TDs\n"
            "  --accept S1,S2        accepted TCB statuses (default UpToDate); any of UpToDate,\n"
            "                        SWHardeningNeeded, ConfigurationNeeded,\n"
            "                        ConfigurationAndSWHardeningNeeded, OutOfDate,\n"
            "                        OutOfDateConfigurationNeeded\n"
            "  --json                print the result as JSON (schema in docs/verify.md)\n"
            "\n"
            "exit: 0 verified and accepted; 1 operation failed (e.g. PCCS unreachable);\n"
            "      2 usage; 3 file unreadable; 4 status or debug mode not accepted;\n"
            "      5 collateral expired / not yet valid; 6 verification failed; 7 revoked\n");
}

static int exit_code_for(verify_verdict v)
{
    switch (v) {
    case VERIFY_VERDICT_OK: return CLI_EXIT_OK;
    case VERIFY_VERDICT_STATUS_NOT_ACCEPTED:
    case VERIFY_VERDICT_DEBUG_ENCLAVE: return VERIFY_EXIT_POLICY;
    case VERIFY_VERDICT_COLLATERAL_EXPIRED: return VERIFY_EXIT_EXPIRED;
    case VERIFY_VERDICT_REVOKED: return VERIFY_EXIT_REVOKED;
    case VERIFY_VERDICT_INVALID:
    case VERIFY_VERDICT_TCB_NOT_SUPPORTED:
    default: return VERIFY_EXIT_INVALID;
    }
}

static void print_hex_line(const char *label, const uint8_t *p, size_t n)
{
    printf("    %-12s ", label);
    cli_print_hex(p, n);
    printf("\n");
}

static void print_time(const char *label, int64_t t)
{
    char buf[21];
    time_format_iso8601((time_t)t, buf);
    printf("  %-11s %s\n", label, buf);
}

static void print_human(const verify_result *r)
{
    if (r->verdict == VERIFY_VERDICT_OK)
        printf("VERIFIED: %s\n", verify_tcb_status_name(r->status));
    else
        printf("REJECTED (%s): %s\n", verify_verdict_name(r->verdict), r->reason);
    if (r->hint[0] != '\0')
        printf("  hint        %s\n", r->hint);
    if (r->quote_version != 0)
        printf("  quote       %s v%u, certification data type %u\n",
               r->tee_type == SGX_TEE_TYPE_TDX ? "TDX" : "SGX", r->quote_version, r->cert_type);
    if (r->status != VERIFY_TCB_NONE) {
        printf("  status      %s (platform %s, QE %s", verify_tcb_status_name(r->status),
               verify_tcb_status_name(r->platform_status), verify_tcb_status_name(r->qe_status));
        if (r->tdx_module_status != VERIFY_TCB_NONE)
            printf(", TDX module %s", verify_tcb_status_name(r->tdx_module_status));
        printf(")\n  advisories  ");
        for (size_t i = 0; i < r->n_advisories; i++)
            printf("%s%s", i ? ", " : "", r->advisories[i]);
        printf("%s\n", r->n_advisories == 0 ? "none" : "");
        if (r->tcb_date != 0)
            print_time("TCB date", r->tcb_date);
    }
    if (r->have_dates) {
        char buf[21];
        time_format_iso8601((time_t)r->earliest_expiration, buf);
        printf("  collateral  valid until %s (%s)\n", buf, r->earliest_expiring_item);
        for (size_t i = 0; i < r->n_time_issues; i++) {
            time_format_iso8601((time_t)r->time_issues[i].time, buf);
            printf("              %s %s %s\n", r->time_issues[i].item,
                   r->time_issues[i].not_yet_valid ? "is not valid before" : "EXPIRED at", buf);
        }
    }
    printf("  checks\n");
    for (int i = 0; i < VERIFY_CHECK__COUNT; i++) {
        const verify_check_result *c = &r->checks[i];
        printf("    %-8s %-22s %s\n", verify_outcome_name(c->outcome),
               verify_check_name((verify_check_id)i), c->detail);
        /* a second failing policy check has its own hint */
        if (c->hint[0] != '\0' && strcmp(c->hint, r->hint) != 0)
            printf("    %-8s %-22s hint: %s\n", "", "", c->hint);
    }
    if (!r->have_identity)
        return;
    const verify_identity *id = &r->identity;
    printf("  %s%s\n", id->is_td ? "TD" : "enclave",
           r->verdict == VERIFY_VERDICT_OK ? "" : " (as claimed by the unverified quote)");
    if (!id->is_td) {
        print_hex_line("MRENCLAVE", id->mr_enclave, 32);
        print_hex_line("MRSIGNER", id->mr_signer, 32);
        printf("    %-12s %u\n    %-12s %u\n", "ISVPRODID", id->isv_prod_id, "ISVSVN", id->isv_svn);
        printf("    %-12s flags 0x%016" PRIx64 " xfrm 0x%016" PRIx64 "%s\n", "ATTRIBUTES",
               id->attributes_flags, id->attributes_xfrm, id->debug ? " (DEBUG)" : "");
    } else {
        print_hex_line("MRTD", id->mr_td, 48);
        print_hex_line("MRSEAM", id->mr_seam, 48);
        print_hex_line("TDATTRIBUTES", id->td_attributes, 8);
        for (size_t i = 0; i < 4; i++) {
            char label[8];
            snprintf(label, sizeof label, "RTMR%zu", i);
            print_hex_line(label, id->rtmr[i], 48);
        }
    }
    print_hex_line("REPORTDATA", id->report_data, 64);
}

static int read_input(const char *what, const char *path, size_t max, uint8_t **data, size_t *len)
{
    int rc = cli_read_file(path, max, data, len);
    if (rc != 0) {
        fprintf(stderr, "sgx-quote verify: cannot read %s %s: %s\n", what, path, strerror(-rc));
        return CLI_EXIT_IO;
    }
    return 0;
}

int cmd_verify(int argc, char **argv)
{
    enum { OPT_DIR = 256, OPT_COLL, OPT_PCCS, OPT_CHAIN, OPT_ROOT, OPT_NOW, OPT_DEBUG,
           OPT_ACCEPT, OPT_JSON, OPT_HELP };
    static const struct option LONG[] = {
        {"collateral-dir", required_argument, NULL, OPT_DIR},
        {"collateral", required_argument, NULL, OPT_COLL},
        {"pccs-url", required_argument, NULL, OPT_PCCS},
        {"pck-chain", required_argument, NULL, OPT_CHAIN},
        {"root", required_argument, NULL, OPT_ROOT},
        {"now", required_argument, NULL, OPT_NOW},
        {"allow-debug", no_argument, NULL, OPT_DEBUG},
        {"accept", required_argument, NULL, OPT_ACCEPT},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *coll_file = NULL, *pccs = NULL, *chain_file = NULL, *root_file = NULL;
    bool json = false;
    verify_options opt;
    verify_options_default(&opt);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
        switch (c) {
        case OPT_DIR: dir = optarg; break;
        case OPT_COLL: coll_file = optarg; break;
        case OPT_PCCS: pccs = optarg; break;
        case OPT_CHAIN: chain_file = optarg; break;
        case OPT_ROOT: root_file = optarg; break;
        case OPT_NOW: {
            char *end;
            errno = 0;
            long long v = strtoll(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || v < 0) {
                fprintf(stderr, "sgx-quote verify: --now wants Unix seconds, got '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            opt.now = (int64_t)v;
            break;
        }
        case OPT_DEBUG: opt.allow_debug = true; break;
        case OPT_ACCEPT:
            if (verify_accept_parse(optarg, &opt.accepted) != 0) {
                fprintf(stderr, "sgx-quote verify: --accept '%s': give PCS status names separated "
                                "by commas (Revoked can never be accepted)\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_JSON: json = true; break;
        case OPT_HELP: usage(stdout); return CLI_EXIT_OK;
        default:
            fprintf(stderr, "sgx-quote verify: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "sgx-quote verify: give exactly one QUOTE file\n");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if ((dir != NULL) + (coll_file != NULL) + (pccs != NULL) != 1) {
        fprintf(stderr, "sgx-quote verify: give exactly one of --collateral-dir, --collateral, "
                        "--pccs-url\n");
        return CLI_EXIT_USAGE;
    }

    int ret = CLI_EXIT_FAIL, rc;
    uint8_t *quote = NULL, *coll_text = NULL, *chain = NULL, *root = NULL;
    size_t quote_len = 0, coll_len = 0, chain_len = 0, root_len = 0;
    verify_ctx *ctx = NULL;
    verify_collateral coll = {0};
    verify_result *res = NULL;
    char err[512] = "";

    if ((ret = read_input("quote", argv[optind], QUOTE_FILE_MAX, &quote, &quote_len)) != 0 ||
        (chain_file != NULL &&
         (ret = read_input("PCK chain", chain_file, VERIFY_COLLATERAL_ITEM_MAX, &chain,
                           &chain_len)) != 0) ||
        (root_file != NULL &&
         (ret = read_input("root", root_file, VERIFY_COLLATERAL_ITEM_MAX, &root, &root_len)) != 0) ||
        (coll_file != NULL &&
         (ret = read_input("collateral", coll_file, 8 * VERIFY_COLLATERAL_ITEM_MAX, &coll_text,
                           &coll_len)) != 0))
        goto out;
    ret = CLI_EXIT_FAIL;
    if ((rc = verify_ctx_new(&ctx)) != 0) {
        fprintf(stderr, "sgx-quote verify: %s\n", verify_strerror(rc));
        goto out;
    }
    if (root != NULL && (rc = verify_ctx_set_root(ctx, root, root_len)) != 0) {
        fprintf(stderr, "sgx-quote verify: --root %s is not a self-signed P-256 certificate\n",
                root_file);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (dir != NULL)
        rc = verify_collateral_load_dir(dir, &coll, err, sizeof err);
    else if (coll_file != NULL)
        rc = verify_collateral_load_qvl_json((const char *)coll_text, coll_len, &coll, err,
                                             sizeof err);
    else
        rc = verify_collateral_fetch_pccs(pccs, quote, quote_len, (const char *)chain, chain_len,
                                          &coll, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "sgx-quote verify: collateral: %s\n", err[0] ? err : verify_strerror(rc));
        ret = rc == VERIFY_E_IO ? CLI_EXIT_IO
              : rc == VERIFY_E_FORMAT ? VERIFY_EXIT_INVALID
              : rc == VERIFY_E_INVALID_ARG ? CLI_EXIT_USAGE
                                           : CLI_EXIT_FAIL;
        goto out;
    }
    if (chain != NULL &&
        (rc = verify_collateral_set_text(&coll.pck_chain, &coll.pck_chain_len, chain, chain_len)) != 0) {
        fprintf(stderr, "sgx-quote verify: --pck-chain: %s\n", verify_strerror(rc));
        goto out;
    }
    res = malloc(sizeof *res);
    if (res == NULL || (rc = verify_quote(ctx, quote, quote_len, &coll, &opt, res)) != 0) {
        fprintf(stderr, "sgx-quote verify: %s\n", verify_strerror(res == NULL ? VERIFY_E_NOMEM : rc));
        goto out;
    }
    if (json) {
        char *doc = verify_result_to_json(res, true);
        if (doc == NULL) {
            fprintf(stderr, "sgx-quote verify: out of memory\n");
            goto out;
        }
        printf("%s\n", doc);
        free(doc);
    } else {
        print_human(res);
    }
    ret = exit_code_for(res->verdict);
out:
    fflush(stdout);
    free(res);
    verify_collateral_free(&coll);
    verify_ctx_free(ctx);
    free(quote);
    free(coll_text);
    free(chain);
    free(root);
    return ret;
}
