/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QGS backend over the simulated platform: GET_QUOTE through the
 * simulated TD quoting enclave (src/sim/tdqe.c), GET_COLLATERAL from the
 * same TDX collateral `sgx-quote collateral export --tdx` writes, and
 * GET_PLATFORM_INFO from the simulated QE_ID, CPUSVN and SVNs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qgs/qgs_service.h"
#include "sim/sim.h"

static int sim_fail(int rc, const char *detail, char *err, size_t errcap)
{
    snprintf(err, errcap, "%s%s%s", sim_strerror(rc), detail[0] != '\0' ? "; " : "", detail);
    return rc;
}

static int sim_get_quote_op(void *ctx, const uint8_t *report, size_t report_len, uint8_t **quote,
                            size_t *quote_len, char *err, size_t errcap)
{
    const sim_platform *p = ctx;
    char why[160] = "";
    size_t cap = sim_td_quote_size(p);
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return sim_fail(SIM_E_CRYPTO, "out of memory", err, errcap);
    int rc = sim_td_get_quote(p, report, report_len, buf, cap, quote_len, why, sizeof why);
    if (rc != SIM_OK) {
        free(buf);
        return sim_fail(rc, why, err, errcap);
    }
    *quote = buf;
    return 0;
}

/* Strings go out with their NUL, as Intel's QPL returns them. */
static int take_str(char **s, uint8_t **item, uint32_t *size)
{
    *size = (uint32_t)strlen(*s) + 1;
    *item = (uint8_t *)*s;
    *s = NULL;
    return 0;
}

static int sim_get_collateral_op(void *ctx, const uint8_t *fmspc, size_t fmspc_len,
                                 const char *pck_ca, qgs_collateral_data *out, char *err,
                                 size_t errcap)
{
    const sim_platform *p = ctx;
    sim_collateral_set set;
    if (fmspc_len != 6 || memcmp(fmspc, sim_tcb(p)->fmspc, 6) != 0) {
        snprintf(err, errcap, "SIM_E_CONFIG: no collateral for that FMSPC (this platform has "
                              "one FMSPC; see sgx-quote inspect of a quote)");
        return SIM_E_CONFIG;
    }
    /* The simulated PCK is issued by the Platform CA. */
    if (strcmp(pck_ca, "platform") != 0) {
        snprintf(err, errcap, "SIM_E_CONFIG: PCK CA '%.16s' is not 'platform' (the simulated "
                              "PCK is issued by the Platform CA)", pck_ca);
        return SIM_E_CONFIG;
    }
    int rc = sim_collateral_build(p, true, 0, &set);
    if (rc != SIM_OK)
        return sim_fail(rc, "", err, errcap);
    out->major = 3;
    out->minor = 1; /* 3.1: CRLs are DER */
    take_str(&set.pck_crl_issuer_chain, &out->item[0], &out->size[0]);
    out->item[1] = set.root_ca_crl;
    out->size[1] = (uint32_t)set.root_ca_crl_len;
    set.root_ca_crl = NULL;
    out->item[2] = set.pck_crl;
    out->size[2] = (uint32_t)set.pck_crl_len;
    set.pck_crl = NULL;
    take_str(&set.tcb_info_issuer_chain, &out->item[3], &out->size[3]);
    take_str(&set.tcb_info, &out->item[4], &out->size[4]);
    take_str(&set.qe_identity_issuer_chain, &out->item[5], &out->size[5]);
    take_str(&set.qe_identity, &out->item[6], &out->size[6]);
    sim_collateral_set_free(&set);
    return 0;
}

static int sim_get_platform_info_op(void *ctx, qgs_platform_info *out, char *err, size_t errcap)
{
    sim_td_platform_info info;
    (void)err;
    (void)errcap;
    sim_td_platform_info_get(ctx, &info);
    out->tdqe_isvsvn = info.tdqe_isvsvn;
    out->pce_isvsvn = info.pce_isvsvn;
    memcpy(out->platform_id, info.qe_id, sizeof out->platform_id);
    memcpy(out->cpusvn, info.cpu_svn, sizeof out->cpusvn);
    return 0;
}

void qgs_backend_sim_init(qgs_backend *b, const struct sim_platform *p)
{
    memset(b, 0, sizeof *b);
    b->ctx = (void *)p;
    b->name = "sim";
    b->get_quote = sim_get_quote_op;
    b->get_collateral = sim_get_collateral_op;
    b->get_platform_info = sim_get_platform_info_op;
    b->nonblocking = true; /* signs from memory, like the AESM sim backend */
}
