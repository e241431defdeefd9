/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote verify`: the command-line face of the verifier library
 * (include/sgxqh/verify.h). Reads the quote, gathers collateral from a
 * directory, a dcap-qvl JSON file or a PCCS (named on the command line or
 * in the QCNL configuration, cached on disk), picks the trust anchor, runs
 * verify_quote() and prints a short verdict (or the --json document). The
 * exit status says what kind of answer it was; docs/verify.md lists them.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "crypto/x509.h"
#include "doctor_parse.h"
#include "sgxqh/quote.h"
#include "sgxqh/verify.h"

/* Verify's own exit codes on top of cli.h's 0-3 (docs/verify.md). */
#define VERIFY_EXIT_POLICY 4   /* verified, but the status / debug mode is not accepted */
#define VERIFY_EXIT_EXPIRED 5  /* verified, but some collateral is not valid at --now */
#define VERIFY_EXIT_INVALID 6  /* a check failed (signature, chain, mismatch, no TCB level) */
#define VERIFY_EXIT_REVOKED 7  /* a certificate or the TCB level is revoked */

#define QUOTE_FILE_MAX (1u << 20)
#define QCNL_DEFAULT_PATH "/etc/sgx_default_qcnl.conf"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: sgx-quote verify QUOTE [--collateral-dir DIR | --collateral FILE |\n"
            "                               --pccs-url URL | --qcnl-config FILE]\n"
            "                        [--pccs-ca PEM | --insecure] [--no-cache]\n"
            "                        [--pck-chain PEM] [--root PEM] [--now TIME] [--allow-debug]\n"
            "                        [--accept STATUS,...] [--json]\n"
            "\n"
            "Verifies an SGX (v3/v4) or TDX (v4/v5) quote like Intel's QVL does.\n"
            "  QUOTE                 the raw quote file ('-' = stdin)\n"
            "  --collateral-dir DIR  collateral files as `sgx-quote collateral export` writes\n"
            "                        them (tcb_info.json, qe_identity.json, ...; docs/verify.md)\n"
            "  --collateral FILE     a dcap-qvl QuoteCollateralV3 JSON document\n"
            "  --pccs-url URL        fetch collateral from a PCCS or Intel's PCS (API v4):\n"
            "                        https://HOST[:PORT], with or without /sgx/certification/v4\n"
            "  --qcnl-config FILE    take the PCCS from this QCNL configuration\n"
            "                        (collateral_service, else pccs_url; use_secure_cert);\n"
            "                        read from " QCNL_DEFAULT_PATH " when no\n"
            "                        collateral option is given\n"
            "  --pccs-ca PEM         trust these CA certificates for the PCCS's TLS certificate\n"
            "                        (default: the system's CA store)\n"
            "  --insecure            do not check the PCCS's TLS certificate (QCNL's\n"
            "                        use_secure_cert: false); prints a warning\n"
            "  --no-cache            neither read nor write the collateral cache\n"
            "                        ($XDG_CACHE_HOME/sgx-quote-helper, else ~/.cache/...)\n"
            "  --pck-chain PEM       PCK chain for quotes without one (certification data 1-4)\n"
            "  --root PEM            trust this root (one certificate) instead of Intel's\n"
            "                        SGX Root CA\n"
            "  --now TIME            check time: Unix seconds or RFC 3339\n"
            "                        (2025-01-02T03:04:05Z); default: now\n"
            "  --allow-debug         accept debug enclaves / TDs\n"
            "  --accept S1,S2        accepted TCB statuses (default UpToDate); any of UpToDate,\n"
            "                        SWHardeningNeeded, ConfigurationNeeded,\n"
            "                        ConfigurationAndSWHardeningNeeded, OutOfDate,\n"
            "                        OutOfDateConfigurationNeeded (any case)\n"
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

/* --accept: PCS status names separated by commas, in any case; an unknown
 * one is named together with the valid ones. */
static int parse_accept(const char *list, unsigned *out)
{
    char canon[512] = "", name[64];
    size_t used = 0;
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof name) {
            fprintf(stderr, "sgx-quote verify: --accept '%s': give status names separated by "
                            "commas, e.g. --accept UpToDate,SWHardeningNeeded\n", list);
            return -1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        const char *match = NULL;
        for (int st = VERIFY_TCB_UP_TO_DATE; st < VERIFY_TCB__COUNT; st++) {
            if (strcasecmp(name, verify_tcb_status_name((verify_tcb_status)st)) == 0)
                match = verify_tcb_status_name((verify_tcb_status)st);
        }
        if (match == NULL || strcmp(match, "Revoked") == 0) {
            fprintf(stderr, "sgx-quote verify: --accept: %s '%s'; the statuses that can be "
                            "accepted are", match == NULL ? "unknown TCB status" :
                            "a Revoked platform can never be accepted, not even with", name);
            for (int st = VERIFY_TCB_UP_TO_DATE; st < VERIFY_TCB__COUNT; st++) {
                if (st != VERIFY_TCB_REVOKED)
                    fprintf(stderr, "%s %s", st == VERIFY_TCB_UP_TO_DATE ? "" : ",",
                            verify_tcb_status_name((verify_tcb_status)st));
            }
            fprintf(stderr, "\n");
            return -1;
        }
        int w = snprintf(canon + used, sizeof canon - used, "%s%s", used ? "," : "", match);
        if (w < 0 || (size_t)w >= sizeof canon - used)
            return -1;
        used += (size_t)w;
        p += n;
        if (*p == '\0')
            break;
        p++;
    }
    return verify_accept_parse(canon, out) == 0 ? 0 : -1;
}

/* --root takes exactly one certificate: a PEM bundle is a common mistake
 * (the whole chain), and which one is the anchor must not be guessed. */
static size_t pem_cert_count(const uint8_t *data, size_t len)
{
    static const char BEGIN[] = "-----BEGIN CERTIFICATE-----";
    size_t n = 0;
    const uint8_t *p = data, *end = data + len;
    while ((p = memmem(p, (size_t)(end - p), BEGIN, sizeof BEGIN - 1)) != NULL) {
        n++;
        p += sizeof BEGIN - 1;
    }
    return n;
}

/* Where verify takes a PCCS from when no collateral option names one: the
 * QCNL configuration, read as Intel's QCNL reads it (doctor_parse.c).
 * collateral_service wins over pccs_url for collateral, as in QCNL. */
typedef struct {
    char url[DOCTOR_QCNL_URL_SIZE];
    bool secure;
    const char *key; /* which setting the URL came from */
} qcnl_source;

static int read_qcnl(const char *path, bool explicit, qcnl_source *out)
{
    uint8_t *text = NULL;
    size_t len = 0;
    doctor_qcnl q;
    int rc = cli_read_file(path, DOCTOR_QCNL_TEXT_MAX, &text, &len);
    if (rc == -ENOENT && !explicit) {
        fprintf(stderr, "sgx-quote verify: no collateral source: give --collateral-dir DIR, "
                        "--collateral FILE or --pccs-url URL (or a QCNL configuration; "
                        "%s does not exist)\n", path);
        return CLI_EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "sgx-quote verify: cannot read the QCNL configuration %s: %s\n", path,
                strerror(-rc));
        return CLI_EXIT_IO;
    }
    rc = doctor_qcnl_parse((const char *)text, len, &q);
    free(text);
    if (rc != DOCTOR_PARSE_OK) {
        fprintf(stderr, "sgx-quote verify: the QCNL configuration %s: %s; it should be JSON "
                        "({\"pccs_url\": \"https://HOST:8081/sgx/certification/v4/\", ...}) or "
                        "PCCS_URL=... lines\n", path, doctor_parse_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    const char *url = q.have_collateral_url && q.collateral_url[0] != '\0' ? q.collateral_url
                      : q.have_url && q.url[0] != '\0'                     ? q.url
                                                                           : NULL;
    if (url == NULL) {
        fprintf(stderr, "sgx-quote verify: the QCNL configuration %s sets neither "
                        "collateral_service nor pccs_url; set one, or give --pccs-url URL\n",
                path);
        return CLI_EXIT_USAGE;
    }
    snprintf(out->url, sizeof out->url, "%s", url);
    out->secure = q.secure;
    out->key = url == q.collateral_url
                   ? (q.format == DOCTOR_QCNL_JSON ? "collateral_service" : "COLLATERAL_SERVICE")
                   : (q.format == DOCTOR_QCNL_JSON ? "pccs_url" : "PCCS_URL");
    return 0;
}

int cmd_verify(int argc, char **argv)
{
    enum { OPT_DIR = 256, OPT_COLL, OPT_PCCS, OPT_CHAIN, OPT_ROOT, OPT_NOW, OPT_DEBUG,
           OPT_ACCEPT, OPT_JSON, OPT_HELP, OPT_PCCS_CA, OPT_INSECURE, OPT_QCNL, OPT_NO_CACHE };
    static const struct option LONG[] = {
        {"collateral-dir", required_argument, NULL, OPT_DIR},
        {"collateral", required_argument, NULL, OPT_COLL},
        {"pccs-url", required_argument, NULL, OPT_PCCS},
        {"pccs-ca", required_argument, NULL, OPT_PCCS_CA},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"qcnl-config", required_argument, NULL, OPT_QCNL},
        {"no-cache", no_argument, NULL, OPT_NO_CACHE},
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
    const char *pccs_ca = NULL, *qcnl_path = NULL;
    bool json = false, insecure = false, no_cache = false;
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
        case OPT_PCCS_CA: pccs_ca = optarg; break;
        case OPT_INSECURE: insecure = true; break;
        case OPT_QCNL: qcnl_path = optarg; break;
        case OPT_NO_CACHE: no_cache = true; break;
        case OPT_CHAIN: chain_file = optarg; break;
        case OPT_ROOT: root_file = optarg; break;
        case OPT_NOW: {
            int64_t v;
            if (cli_parse_time(optarg, &v) != 0 || v < 0) {
                fprintf(stderr, "sgx-quote verify: --now '%s': give " CLI_TIME_FORMS "\n", optarg);
                return CLI_EXIT_USAGE;
            }
            opt.now = v;
            break;
        }
        case OPT_DEBUG: opt.allow_debug = true; break;
        case OPT_ACCEPT:
            if (parse_accept(optarg, &opt.accepted) != 0)
                return CLI_EXIT_USAGE;
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
    const char *problem = NULL;
    if ((dir != NULL) + (coll_file != NULL) + (pccs != NULL) + (qcnl_path != NULL) > 1)
        problem = "give only one of --collateral-dir, --collateral, --pccs-url, --qcnl-config";
    else if ((dir != NULL || coll_file != NULL) && (pccs_ca != NULL || insecure || no_cache))
        problem = "--pccs-ca, --insecure and --no-cache apply to a PCCS, not to collateral files";
    else if (pccs_ca != NULL && insecure)
        problem = "--pccs-ca and --insecure exclude each other (--insecure checks no "
                  "certificate at all)";
    if (problem != NULL) {
        fprintf(stderr, "sgx-quote verify: %s\n", problem);
        return CLI_EXIT_USAGE;
    }

    int ret = CLI_EXIT_FAIL, rc;
    uint8_t *quote = NULL, *coll_text = NULL, *chain = NULL, *root = NULL;
    size_t quote_len = 0, coll_len = 0, chain_len = 0, root_len = 0;
    verify_ctx *ctx = NULL;
    verify_collateral coll = {0};
    verify_result *res = NULL;
    qcnl_source qcnl;
    char err[4096] = "", cache_dir[4096];

    if (dir == NULL && coll_file == NULL && pccs == NULL) {
        if ((ret = read_qcnl(qcnl_path != NULL ? qcnl_path : QCNL_DEFAULT_PATH,
                             qcnl_path != NULL, &qcnl)) != 0)
            return ret;
        pccs = qcnl.url;
        if (!qcnl.secure && pccs_ca == NULL && !insecure) {
            insecure = true;
            fprintf(stderr, "sgx-quote verify: warning: not checking the TLS certificate of %s "
                            "(use_secure_cert is false in %s); the collateral's signatures are "
                            "still checked\n", pccs, qcnl_path != NULL ? qcnl_path
                                                                       : QCNL_DEFAULT_PATH);
        } else if (insecure) {
            fprintf(stderr, "sgx-quote verify: warning: --insecure: not checking the TLS "
                            "certificate of %s; the collateral's signatures are still checked\n",
                    pccs);
        }
    } else if (insecure) {
        fprintf(stderr, "sgx-quote verify: warning: --insecure: not checking the TLS certificate "
                        "of %s; the collateral's signatures are still checked\n", pccs);
    }

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
    if (root != NULL) {
        size_t n = pem_cert_count(root, root_len);
        if (n > 1) {
            fprintf(stderr, "sgx-quote verify: --root %s holds %zu certificates; give a file "
                            "with only the trusted root (the self-signed one): the rest of the "
                            "chain comes with the quote and the collateral\n", root_file, n);
            ret = CLI_EXIT_USAGE;
            goto out;
        }
        if ((rc = verify_ctx_set_root(ctx, root, root_len)) != 0) {
            fprintf(stderr, "sgx-quote verify: --root %s is not a self-signed P-256 "
                            "certificate\n", root_file);
            ret = CLI_EXIT_USAGE;
            goto out;
        }
    }
    if (dir != NULL) {
        rc = verify_collateral_load_dir(dir, &coll, err, sizeof err);
    } else if (coll_file != NULL) {
        rc = verify_collateral_load_qvl_json((const char *)coll_text, coll_len, &coll, err,
                                             sizeof err);
    } else {
        verify_pccs_options po = {.ca_file = pccs_ca, .insecure = insecure};
        if (!no_cache && verify_pccs_default_cache_dir(cache_dir, sizeof cache_dir) == 0)
            po.cache_dir = cache_dir;
        rc = verify_collateral_fetch_pccs_ex(pccs, &po, quote, quote_len, (const char *)chain,
                                             chain_len, &coll, NULL, err, sizeof err);
    }
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
