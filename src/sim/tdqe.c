/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated TD quoting enclave and the simulated TDX module's
 * TDG.MR.REPORT. The TD-QE has its own identity (ISVPRODID 2, like Intel's
 * TDQE) and attestation key, certified at open by the same PCE and PCK as
 * QE3, so TDX quotes chain to the same simulated root. Per quote it does
 * what Intel's TDQE gen_quote does: structural checks (src/sgx/tdreport.c),
 * the report MAC (here: HMAC-SHA256 with the platform's simulated key,
 * docs/tdx.md), both SHA-384 hashes, then a signed v4 or v5 quote. Reads
 * only immutable platform state, so it is thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "sgxqh/quote.h"
#include "sgxqh/tdreport.h"
#include "sim_internal.h"

_Static_assert(sizeof(((sim_platform *)0)->td_report_mac_key) == CRYPTO_SHA256_LEN,
               "HMAC-SHA256 key");

int sim_tdqe_init(sim_platform *p)
{
    sim_enclave_identity *qe = &p->tdqe_self;
    uint8_t auth[SIM_QE_AUTH_DATA_LEN], key_id[32];

    memset(qe, 0, sizeof *qe);
    crypto_sha256(SIM_TDQE_MRENCLAVE_LABEL, strlen(SIM_TDQE_MRENCLAVE_LABEL), qe->mr_enclave);
    crypto_sha256(SIM_TDQE_MRSIGNER_LABEL, strlen(SIM_TDQE_MRSIGNER_LABEL), qe->mr_signer);
    qe->flags = SIM_QE_FLAGS;
    qe->xfrm = SIM_QE_XFRM;
    qe->isv_prod_id = SIM_TDQE_ISV_PROD_ID;
    qe->isv_svn = p->tcb.td_qe_svn;
    memcpy(qe->cpu_svn, SIM_SDK_DEFAULT_CPUSVN, sizeof qe->cpu_svn);

    /* The QE report binds SHA-256(AK ‖ auth data), as QE3's does. */
    sim_qe_auth_data(auth);
    crypto_buf parts[2] = {{p->td_att_pub, sizeof p->td_att_pub}, {auth, sizeof auth}};
    if (crypto_sha256_parts(parts, 2, key_id) != 0)
        return SIM_E_CRYPTO;
    return sim_qe_certify(p, qe, key_id, &p->tdqe_report, p->tdqe_report_sig);
}

void sim_td_identity_default(sim_td_identity *id)
{
    memset(id, 0, sizeof *id);
    /* SEPT_VE_DISABLE: QEMU's and libvirt's default policy, and what
     * verifiers require of a production TD. */
    id->td_attributes = 0x10000000ull;
    id->xfam = 0x61ae7ull;
    uint8_t h[CRYPTO_SHA384_LEN];
    crypto_sha384(SIM_DEMO_MRTD_LABEL, strlen(SIM_DEMO_MRTD_LABEL), h);
    memcpy(id->mr_td, h, sizeof id->mr_td);
}

static int report_mac(const sim_platform *p, const tdx_report_t *t, uint8_t mac[32])
{
    return crypto_hmac_sha256(p->td_report_mac_key, sizeof p->td_report_mac_key, t,
                              TDX_REPORT_MAC_COVERS, mac) == 0
               ? SIM_OK
               : SIM_E_CRYPTO;
}

static int hash_parts(const tdx_report_t *t, uint8_t tcb_hash[48], uint8_t info_hash[48])
{
    const uint8_t *raw = (const uint8_t *)t;
    if (crypto_sha384(raw + 256, TDX_TEE_TCB_INFO_SIZE, tcb_hash) != 0 ||
        crypto_sha384(raw + 512, TDX_TD_INFO_SIZE, info_hash) != 0)
        return SIM_E_CRYPTO;
    return SIM_OK;
}

int sim_td_report(const sim_platform *p, const sim_td_identity *id, uint8_t out[1024])
{
    tdx_report_t t;
    int rc;
    if (p == NULL || id == NULL || out == NULL || id->version > 1)
        return SIM_E_INVALID_ARG;
    memset(&t, 0, sizeof t);
    t.report_type[0] = TDX_REPORT_TYPE;
    t.report_type[2] = id->version;
    memcpy(t.cpu_svn, p->tcb.comp_svn, sizeof t.cpu_svn);
    memcpy(t.report_data, id->report_data, sizeof t.report_data);
    /* TEE_TCB_INFO: what the simulated TDX module reports about itself.
     * TEE_TCB_SVN2 = TEE_TCB_SVN (VALID says so on 1.5), so no TD-preserving
     * update is pending and verifiers see the same SVN twice. */
    le_put_u64(t.valid, id->version == 1 ? TDX_VALID_V15 : TDX_VALID_V10);
    memcpy(t.tee_tcb_svn, p->tcb.tee_tcb_svn, sizeof t.tee_tcb_svn);
    uint8_t seam[CRYPTO_SHA384_LEN];
    crypto_sha384(SIM_TDX_MRSEAM_LABEL, strlen(SIM_TDX_MRSEAM_LABEL), seam);
    memcpy(t.mr_seam, seam, sizeof t.mr_seam);
    if (id->version == 1)
        memcpy(t.tee_tcb_svn2, p->tcb.tee_tcb_svn, sizeof t.tee_tcb_svn2);
    /* TDINFO */
    le_put_u64(t.td_attributes, id->td_attributes);
    le_put_u64(t.xfam, id->xfam);
    memcpy(t.mr_td, id->mr_td, 48);
    memcpy(t.mr_config_id, id->mr_config_id, 48);
    memcpy(t.mr_owner, id->mr_owner, 48);
    memcpy(t.mr_owner_config, id->mr_owner_config, 48);
    memcpy(t.rtmr, id->rtmr, sizeof t.rtmr);
    if (id->version == 1)
        memcpy(t.servtd_hash, id->servtd_hash, 48);
    if ((rc = hash_parts(&t, t.tee_tcb_info_hash, t.tee_info_hash)) != SIM_OK ||
        (rc = report_mac(p, &t, t.mac)) != SIM_OK)
        return rc;
    memcpy(out, &t, sizeof t);
    return SIM_OK;
}

static void td_quote_spec(const sim_platform *p, uint16_t version, const uint8_t *body,
                          const uint8_t *auth, quote_td_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->version = version;
    spec->td_body = body;
    memcpy(spec->qe_id, p->qe_id, sizeof spec->qe_id);
    spec->qe_report = &p->tdqe_report;
    spec->qe_report_sig = p->tdqe_report_sig;
    spec->attest_pub_key = p->td_att_pub;
    spec->qe_auth_data = auth;
    spec->qe_auth_data_len = SIM_QE_AUTH_DATA_LEN;
    spec->cert_data = p->cert_data;
    spec->cert_data_len = (uint32_t)p->cert_data_len;
}

size_t sim_td_quote_size(const sim_platform *p)
{
    uint8_t auth[SIM_QE_AUTH_DATA_LEN], body[TDX_TD_BODY_V15_SIZE] = {0};
    quote_td_spec spec;
    sim_qe_auth_data(auth);
    td_quote_spec(p, 5, body, auth, &spec);
    return quote_td_size(&spec); /* v4 and v5 share the (v5-sized) buffer */
}

static int refuse(int rc, char *err, size_t cap, const char *what)
{
    if (err != NULL && cap > 0)
        snprintf(err, cap, "%s", what);
    return rc;
}

int sim_td_get_quote(const sim_platform *p, const uint8_t *report, size_t report_len,
                     uint8_t *out, size_t cap, size_t *len, char *err, size_t errcap)
{
    tdx_report_info info;
    uint8_t mac[32], tcb_hash[48], info_hash[48];
    uint8_t auth[SIM_QE_AUTH_DATA_LEN], body[TDX_TD_BODY_V15_SIZE], sig[CRYPTO_P256_SIG_LEN];
    quote_td_spec spec;
    size_t written = 0;
    int rc;

    if (err != NULL && errcap > 0)
        err[0] = '\0';
    if (p == NULL || report == NULL || len == NULL)
        return SIM_E_INVALID_ARG;
    *len = 0;
    rc = tdx_report_check(report, report_len, &info);
    if (rc != TDX_REPORT_OK) {
        if (err != NULL && errcap > 0)
            snprintf(err, errcap, "%s: %s", tdx_report_err_name(rc), tdx_report_strerror(rc));
        return SIM_E_TD_REPORT;
    }
    /* EVERIFYREPORT2's place: the simulated MAC over REPORTMACSTRUCT[0, 224). */
    if ((rc = report_mac(p, &info.report, mac)) != SIM_OK)
        return rc;
    if (!crypto_ct_equal(mac, info.report.mac, sizeof mac))
        return refuse(SIM_E_TD_REPORT_MAC, err, errcap,
                      "the TDREPORT MAC does not verify with this simulated platform's key");
    if ((rc = hash_parts(&info.report, tcb_hash, info_hash)) != SIM_OK)
        return rc;
    if (!crypto_ct_equal(tcb_hash, info.report.tee_tcb_info_hash, sizeof tcb_hash))
        return refuse(SIM_E_TD_REPORT_HASH, err, errcap,
                      "TEE_TCB_INFO_HASH is not the SHA-384 of TEE_TCB_INFO");
    if (!crypto_ct_equal(info_hash, info.report.tee_info_hash, sizeof info_hash))
        return refuse(SIM_E_TD_REPORT_HASH, err, errcap,
                      "TEE_INFO_HASH is not the SHA-384 of TDINFO");

    tdx_report_quote_body(&info, body);
    sim_qe_auth_data(auth);
    td_quote_spec(p, info.quote_version, body, auth, &spec);
    size_t need = quote_td_size(&spec);
    if (out == NULL || cap < need) {
        *len = need;
        return SIM_E_BUFFER_TOO_SMALL;
    }
    if (quote_td_build(&spec, out, cap, &written) != QUOTE_OK || written != need)
        return SIM_E_CRYPTO;
    if (crypto_p256_sign(p->td_att_key, out, quote_td_signed_len(&spec), sig) != 0)
        return SIM_E_CRYPTO;
    quote_td_set_signature(&spec, out, sig);
    *len = written;
    return SIM_OK;
}

void sim_td_platform_info_get(const sim_platform *p, sim_td_platform_info *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->qe_id, p->qe_id, sizeof out->qe_id);
    memcpy(out->cpu_svn, p->tcb.comp_svn, sizeof out->cpu_svn);
    out->tdqe_isvsvn = p->tcb.td_qe_svn;
    out->pce_isvsvn = p->tcb.pce_svn_current;
}

void sim_td_attestation_pub_key(const sim_platform *p, uint8_t out[64])
{
    memcpy(out, p->td_att_pub, 64);
}
