/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for everything the verifier reads from collateral
 * (src/verify): PCS envelopes and the raw-body scanner, TCB info / QE
 * identity bodies and the level matching on them, dcap-qvl
 * QuoteCollateralV3 documents, CRLs in any encoding and PEM chains. The same
 * input is offered to every reader, so seeds need no mode byte. When
 * $VECTORS (or $SGXQH_VECTORS) is set, a QuoteCollateralV3 input that loads
 * is also verified against a real quote, driving the chain, CRL and
 * signature checks with hostile collateral.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgxqh/verify.h"
#include "verify/verify_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static verify_ctx *g_ctx;
static uint8_t *g_quote;
static size_t g_quote_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (verify_ctx_new(&g_ctx) != 0)
        abort();
    const char *v = getenv("VECTORS");
    if (v == NULL)
        v = getenv("SGXQH_VECTORS");
    if (v == NULL)
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/quotes/dcapqvl-sgx-v3/quote.bin", v);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    g_quote = malloc(1 << 16);
    if (g_quote != NULL)
        g_quote_len = fread(g_quote, 1, 1 << 16, f);
    fclose(f);
    return 0;
}

static void exercise_tcb_info(const tcb_info *t)
{
    uint8_t comp[16], tee[16];
    for (size_t i = 0; i < 16; i++) {
        comp[i] = (uint8_t)(i * 17);
        tee[i] = (uint8_t)(255 - i);
    }
    int si, ti;
    (void)tcb_info_match_sgx(t, comp, 13);
    tcb_info_match_tdx(t, comp, 13, tee, &si, &ti);
    for (size_t i = 0; i < t->n_module_ids; i++)
        (void)isvsvn_match(t->module_ids[i].levels, t->module_ids[i].n_levels, 3);
}

static void fuzz_bodies(const char *text, size_t size)
{
    char err[256];
    tcb_info t;
    qe_identity q;
    if (tcb_info_parse(text, size, &t, err, sizeof err) == 0) {
        exercise_tcb_info(&t);
        tcb_info_free(&t);
    }
    if (qe_identity_parse(text, size, &q, err, sizeof err) == 0) {
        (void)isvsvn_match(q.levels, q.n_levels, 8);
        qe_identity_free(&q);
    }
}

static void fuzz_envelopes(const char *text, size_t size)
{
    verify_collateral c = {0};
    char err[256];
    size_t off, len;
    (void)verify_json_value_span(text, size, "tcbInfo", &off, &len);
    if (verify_collateral_set_tcb_info_doc(&c, text, size, err, sizeof err) == 0)
        fuzz_bodies(c.tcb_info, c.tcb_info_len);
    if (verify_collateral_set_qe_identity_doc(&c, text, size, err, sizeof err) == 0)
        fuzz_bodies(c.qe_identity, c.qe_identity_len);
    verify_collateral_free(&c);
}

static void fuzz_x509(const uint8_t *data, size_t size)
{
    vrun run;
    char err[256];
    uint8_t *der = NULL;
    size_t der_len = 0;
    vrun_begin(&run, NULL);
    if (verify_collateral_set_crl(&der, &der_len, data, size) == 0) {
        vcrl *crl = vrun_crl(&run, der, der_len, err, sizeof err);
        if (crl != NULL)
            (void)x509_crl_count(crl->crl);
        free(der);
    }
    const char *blocks[8];
    size_t lens[8];
    size_t n = pem_cert_blocks((const char *)data, size, blocks, lens, 8);
    /* the strict reader every verified chain goes through: whatever it
     * accepts is a subset of what the lenient scanner finds */
    const char *sblocks[8];
    size_t slens[8], sn = 0;
    if (pem_cert_blocks_strict((const char *)data, size, sblocks, slens, 8, &sn, err,
                               sizeof err) == 0 && sn > n)
        abort();
    vcert *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        vcert *c = vrun_cert_pem(&run, blocks[i], lens[i], err, sizeof err);
        if (c == NULL)
            continue;
        sgx_pck_ext ext;
        (void)x509_cert_sgx_ext(c->cert, &ext);
        if (prev != NULL)
            (void)vcert_check_signed_by(&run, prev, c);
        prev = c;
    }
    vrun_end(&run);
}

static void fuzz_qvl_json(const char *text, size_t size)
{
    verify_collateral c = {0};
    char err[256];
    if (verify_collateral_load_qvl_json(text, size, &c, err, sizeof err) != 0)
        return;
    if (g_quote != NULL) {
        verify_options opt;
        verify_result r;
        verify_options_default(&opt);
        opt.now = 1750330572; /* dcapqvl-sgx-v3 pinned_time */
        (void)verify_quote(g_ctx, g_quote, g_quote_len, &c, &opt, &r);
        char *json = verify_result_to_json(&r, false);
        free(json);
    }
    verify_collateral_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > VERIFY_COLLATERAL_ITEM_MAX)
        return 0;
    /* jansson and the scanner take (ptr, len); a NUL-terminated copy keeps
     * the str* calls of the body editors honest too. */
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    fuzz_envelopes(text, size);
    fuzz_bodies(text, size);
    fuzz_qvl_json(text, size);
    fuzz_x509(data, size);
    free(text);
    return 0;
}
