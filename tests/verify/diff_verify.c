/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper for the differential test (test_differential.py): verifies
 * many quotes in one process, as `sgx-quote verify --collateral FILE --root
 * FILE --now T --accept <every non-revoked status>` would, and prints the
 * same --json document (docs/verify.md) on one line per request. One
 * process instead of one per mutant keeps the test within a minute on a
 * loaded machine, ASan builds included. The cache is off: every mutant is
 * verified cold, as the command does.
 * stdin: "QUOTE\tCOLLATERAL_JSON\tROOT\tNOW\n" per request.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../common/test_support.h"
#include "sgxqh/verify.h"

static void print_failure(const char *what, const char *detail)
{
    char reason[512];
    snprintf(reason, sizeof reason, "%s: %s", what, detail);
    json_t *o = json_pack("{s:b, s:s, s:s}", "ok", 0, "verdict", "error", "reason", reason);
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    printf("%s\n", s != NULL ? s : "{\"ok\":false,\"verdict\":\"error\"}");
    free(s);
    json_decref(o);
}

static void verify_one(char *line)
{
    char *quote_path = strtok(line, "\t"), *coll_path = strtok(NULL, "\t"),
         *root_path = strtok(NULL, "\t"), *now_text = strtok(NULL, "\t\n");
    uint8_t *quote = NULL, *coll_text = NULL, *root = NULL;
    size_t quote_len = 0, coll_len = 0, root_len = 0;
    verify_collateral coll = {0};
    verify_ctx *ctx = NULL;
    char err[256] = "";
    if (now_text == NULL) {
        print_failure("usage", "QUOTE\\tCOLLATERAL\\tROOT\\tNOW");
        return;
    }
    quote = ts_read_file_or_null(quote_path, &quote_len);
    coll_text = ts_read_file_or_null(coll_path, &coll_len);
    root = ts_read_file_or_null(root_path, &root_len);
    if (quote == NULL || coll_text == NULL || root == NULL) {
        print_failure("read", "a file could not be read");
        goto out;
    }
    if (verify_ctx_new(&ctx) != 0 || verify_ctx_set_root(ctx, root, root_len) != 0) {
        print_failure("root", "the root is unusable");
        goto out;
    }
    verify_ctx_set_cache(ctx, false);
    int rc = verify_collateral_load_qvl_json((const char *)coll_text, coll_len, &coll, err,
                                             sizeof err);
    if (rc != 0) {
        print_failure("collateral", err);
        goto out;
    }
    verify_options opt;
    verify_options_default(&opt);
    opt.now = strtoll(now_text, NULL, 10);
    opt.accepted = 0;
    for (int st = VERIFY_TCB_UP_TO_DATE; st < VERIFY_TCB__COUNT; st++)
        if (st != VERIFY_TCB_REVOKED)
            opt.accepted |= VERIFY_TCB_BIT(st);
    verify_result res;
    if (verify_quote(ctx, quote, quote_len, &coll, &opt, &res) != 0) {
        print_failure("verify", "verify_quote failed");
        goto out;
    }
    char *doc = verify_result_to_json(&res, false);
    printf("%s\n", doc != NULL ? doc : "{\"ok\":false,\"verdict\":\"error\"}");
    free(doc);
out:
    verify_collateral_free(&coll);
    verify_ctx_free(ctx);
    free(quote);
    free(coll_text);
    free(root);
}

int main(void)
{
    char line[8192];
    while (fgets(line, sizeof line, stdin) != NULL) {
        verify_one(line);
        fflush(stdout);
    }
    return 0;
}
