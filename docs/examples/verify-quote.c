/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest program that verifies a quote with libsgxqh_verify: reads a
 * quote, a collateral directory (the layout `sgx-quote collateral export`
 * writes) and optionally a root certificate and a check time, and prints the
 * verdict and TCB status. Build it against the installed library:
 *
 *     cc -o verify-quote verify-quote.c $(pkg-config --cflags --libs sgxqh-verify)
 *     ./verify-quote quote.bin collateral/ [root.pem [UNIX_TIME]]
 *
 * Exit 0 when the verdict is ok, 1 otherwise, 2 on usage or I/O errors.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sgxqh/verify.h>

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    verify_ctx *ctx = NULL;
    verify_collateral coll = {0};
    verify_options opt;
    verify_result res;
    unsigned char *quote = NULL, *root = NULL;
    size_t quote_len = 0, root_len = 0;
    char err[512];
    int rc = 2;

    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s QUOTE COLLATERAL_DIR [ROOT_PEM [UNIX_TIME]]\n", argv[0]);
        return 2;
    }
    if ((quote = read_all(argv[1], &quote_len)) == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        goto out;
    }
    if (verify_ctx_new(&ctx) != 0)
        goto out;
    if (argc >= 4) {
        if ((root = read_all(argv[3], &root_len)) == NULL) {
            fprintf(stderr, "cannot read %s\n", argv[3]);
            goto out;
        }
        int e = verify_ctx_set_root(ctx, root, root_len);
        if (e != 0) {
            fprintf(stderr, "%s: %s\n", argv[3], verify_strerror(e));
            goto out;
        }
    }
    if (verify_collateral_load_dir(argv[2], &coll, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[2], err);
        goto out;
    }
    verify_options_default(&opt);
    if (argc == 5)
        opt.now = strtoll(argv[4], NULL, 10);
    /* Accept every status but Revoked: print what the platform is, let the
     * caller decide. */
    verify_accept_parse("UpToDate,SWHardeningNeeded,ConfigurationNeeded,"
                        "ConfigurationAndSWHardeningNeeded,OutOfDate,OutOfDateConfigurationNeeded",
                        &opt.accepted);
    if (verify_quote(ctx, quote, quote_len, &coll, &opt, &res) != 0)
        goto out;
    printf("verdict: %s\n", verify_verdict_name(res.verdict));
    printf("status: %s\n", verify_tcb_status_name(res.status));
    if (res.verdict != VERIFY_VERDICT_OK)
        printf("reason: %s\n", res.reason);
    rc = res.verdict == VERIFY_VERDICT_OK ? 0 : 1;
out:
    verify_collateral_free(&coll);
    verify_ctx_free(ctx);
    free(quote);
    free(root);
    return rc;
}
