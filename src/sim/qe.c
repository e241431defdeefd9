/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software QE3 and PCE. At open, the QE makes a report targeted at the
 * PCE whose report_data binds the attestation key (quote-format §3, aesm
 * §8.2); the PCE checks its MAC and PROVISION_KEY and signs the body with
 * the PCK key. Per quote: verify the app's report as the QE would
 * (sgx_verify_report), build a v3 quote (src/sgx builder), sign [0, 432)
 * with the attestation key, and optionally return a QE report to the app
 * (aesm §6.3). Reads only immutable platform state, so it is thread-safe.
 */
#include <string.h>

#include "sgxqh/quote.h"
#include "sim_internal.h"

/* quote-format §1.4: the Intel reference QE's auth data, 00 01 … 1F. */
static void qe_auth_data(uint8_t out[SIM_QE_AUTH_DATA_LEN])
{
    for (int i = 0; i < SIM_QE_AUTH_DATA_LEN; i++)
        out[i] = (uint8_t)i;
}

static void enclave_target_info(const sim_enclave_identity *id, sgx_target_info_t *ti)
{
    memset(ti, 0, sizeof *ti);
    memcpy(ti->mr_enclave, id->mr_enclave, sizeof ti->mr_enclave);
    ti->attributes.flags = id->flags;
    ti->attributes.xfrm = id->xfrm;
    ti->misc_select = id->misc_select;
    ti->config_svn = id->config_svn;
}

/* The PCE's side of certify_enclave: accept only a report made for the PCE
 * by an enclave holding PROVISION_KEY, then sign its body with the PCK. */
static int pce_certify(const sim_platform *p, const sgx_target_info_t *pce_ti,
                       const sgx_report_t *qe_report, uint8_t sig[CRYPTO_P256_SIG_LEN])
{
    int rc = sim_verify_report(pce_ti, qe_report->body.cpu_svn, qe_report);
    if (rc != SIM_OK)
        return rc;
    if ((qe_report->body.attributes.flags & SGX_FLAGS_PROVISION_KEY) == 0)
        return SIM_E_INVALID_REPORT;
    /* quote-format §1.6: the PCK signs the 384 body bytes as they appear in the quote. */
    uint8_t raw[SGX_REPORT_BODY_SIZE];
    sgx_report_body_encode(&qe_report->body, raw);
    return crypto_p256_sign(p->pck_key, raw, sizeof raw, sig) == 0 ? SIM_OK : SIM_E_CRYPTO;
}

/* The PCE's certification of a quoting enclave (QE3 or TD-QE): a report
 * from `qe` targeted at the PCE with report_data = key_id ‖ 0^32, checked
 * and signed with the PCK (Intel ECDSA Quote Library Reference, QE certification). */
int sim_qe_certify(const sim_platform *p, const sim_enclave_identity *qe,
                   const uint8_t key_id[32], sgx_report_body_t *body,
                   uint8_t sig[CRYPTO_P256_SIG_LEN])
{
    sim_enclave_identity pce, qe_now = *qe;
    sgx_target_info_t pce_ti;
    sgx_report_t report;
    int rc;

    memset(&pce, 0, sizeof pce);
    crypto_sha256(SIM_PCE_MRENCLAVE_LABEL, strlen(SIM_PCE_MRENCLAVE_LABEL), pce.mr_enclave);
    pce.flags = SIM_QE_FLAGS;
    pce.xfrm = SIM_QE_XFRM;
    enclave_target_info(&pce, &pce_ti);
    memcpy(qe_now.report_data, key_id, 32);
    memset(qe_now.report_data + 32, 0, 32);
    if ((rc = sim_ereport(&qe_now, &pce_ti, &report)) != SIM_OK)
        return rc;
    if ((rc = pce_certify(p, &pce_ti, &report, sig)) != SIM_OK)
        return rc;
    *body = report.body;
    return SIM_OK;
}

void sim_qe_auth_data(uint8_t out[SIM_QE_AUTH_DATA_LEN])
{
    qe_auth_data(out);
}

int sim_qe_init(sim_platform *p)
{
    sim_enclave_identity *qe = &p->qe_self;
    uint8_t auth[SIM_QE_AUTH_DATA_LEN];

    memset(qe, 0, sizeof *qe);
    crypto_sha256(SIM_QE_MRENCLAVE_LABEL, strlen(SIM_QE_MRENCLAVE_LABEL), qe->mr_enclave);
    /* Intel's QE3 signer and product id, so the QE Identity looks like
     * Intel's and the aesm key id (which names this signer) is consistent. */
    memcpy(qe->mr_signer, SGX_QE3_MRSIGNER, sizeof qe->mr_signer);
    qe->flags = SIM_QE_FLAGS;
    qe->xfrm = SIM_QE_XFRM;
    qe->misc_select = 0;
    qe->isv_prod_id = SIM_QE_ISV_PROD_ID;
    qe->isv_svn = p->tcb.qe_svn;
    memcpy(qe->cpu_svn, SIM_SDK_DEFAULT_CPUSVN, sizeof qe->cpu_svn);
    enclave_target_info(qe, &p->qe_ti);

    /* aesm §8.2: ECDSA_ID = SHA-256(AK.X ‖ AK.Y ‖ auth data) */
    qe_auth_data(auth);
    crypto_buf parts[2] = {{p->att_pub, sizeof p->att_pub}, {auth, sizeof auth}};
    if (crypto_sha256_parts(parts, 2, p->pub_key_id) != 0)
        return SIM_E_CRYPTO;
    /* quote-format §3: report_data = ECDSA_ID ‖ 0^32, report targeted at the PCE. */
    return sim_qe_certify(p, qe, p->pub_key_id, &p->qe_report, p->qe_report_sig);
}

void sim_qe_target_info(const sim_platform *p, sgx_target_info_t *ti)
{
    *ti = p->qe_ti;
}

void sim_qe_pub_key_id(const sim_platform *p, uint8_t out[32])
{
    memcpy(out, p->pub_key_id, 32);
}

void sim_attestation_pub_key(const sim_platform *p, uint8_t out[64])
{
    memcpy(out, p->att_pub, 64);
}

void sim_qe_id(const sim_platform *p, uint8_t out[16])
{
    memcpy(out, p->qe_id, 16);
}

static void quote_spec(const sim_platform *p, const sgx_report_body_t *app,
                       const uint8_t *auth, quote_v3_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->qe_svn = p->tcb.qe_svn;
    spec->pce_svn = p->tcb.pce_svn_current;
    memcpy(spec->qe_id, p->qe_id, sizeof spec->qe_id);
    spec->app_report = app;
    spec->qe_report = &p->qe_report;
    spec->qe_report_sig = p->qe_report_sig;
    spec->attest_pub_key = p->att_pub;
    spec->qe_auth_data = auth;
    spec->qe_auth_data_len = SIM_QE_AUTH_DATA_LEN;
    spec->cert_type = CERT_DATA_PCK_CHAIN;
    spec->cert_data = p->cert_data;
    spec->cert_data_len = (uint32_t)p->cert_data_len;
}

uint32_t sim_quote_size(const sim_platform *p)
{
    uint8_t auth[SIM_QE_AUTH_DATA_LEN];
    quote_v3_spec spec;
    qe_auth_data(auth);
    quote_spec(p, &p->qe_report, auth, &spec);
    return (uint32_t)quote_v3_size(&spec);
}

/* aesm §6.3: a report for the app whose report_data is
 * SHA-256(nonce ‖ quote[0, len)) ‖ 0^32. The report key comes from the app's
 * target info and its CPUSVN, which is what its EGETKEY will use. */
static int qe_report_for_app(const sim_platform *p, const sgx_report_t *app_report,
                             const uint8_t *quote, size_t len, sgx_qe_report_info_t *qri)
{
    sim_enclave_identity qe = p->qe_self;
    memcpy(qe.cpu_svn, app_report->body.cpu_svn, sizeof qe.cpu_svn);
    memset(qe.report_data, 0, sizeof qe.report_data);
    crypto_buf parts[2] = {{qri->nonce, sizeof qri->nonce}, {quote, len}};
    if (crypto_sha256_parts(parts, 2, qe.report_data) != 0)
        return SIM_E_CRYPTO;
    return sim_ereport(&qe, &qri->app_enclave_target_info, &qri->qe_report);
}

int sim_get_quote(const sim_platform *p, const sgx_report_t *app_report,
                  sgx_qe_report_info_t *qe_report_info, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t auth[SIM_QE_AUTH_DATA_LEN];
    uint8_t sig[CRYPTO_P256_SIG_LEN];
    quote_v3_spec spec;
    size_t need, written = 0;
    int rc;

    if (p == NULL || app_report == NULL || out == NULL || len == NULL)
        return SIM_E_INVALID_ARG;
    *len = 0;
    /* What QE3's gen_quote does first (aesm §8.4 step 1): the report must have
     * been made for our target info; any CPUSVN is accepted since it is
     * covered by the MAC and feeds the key derivation. */
    rc = sim_verify_report(&p->qe_ti, app_report->body.cpu_svn, app_report);
    if (rc != SIM_OK)
        return rc;

    qe_auth_data(auth);
    quote_spec(p, &app_report->body, auth, &spec);
    need = quote_v3_size(&spec);
    if (cap < need) {
        *len = need;
        return SIM_E_BUFFER_TOO_SMALL;
    }
    if (quote_v3_build(&spec, out, cap, &written) != QUOTE_OK || written != need)
        return SIM_E_CRYPTO;
    /* quote-format §1.6: the attestation key signs header ‖ body. */
    if (crypto_p256_sign(p->att_key, out, QUOTE_V3_SIGNED_LEN, sig) != 0)
        return SIM_E_CRYPTO;
    quote_v3_set_signature(out, sig);

    if (qe_report_info != NULL &&
        (rc = qe_report_for_app(p, app_report, out, written, qe_report_info)) != SIM_OK)
        return rc;
    *len = written;
    return SIM_OK;
}
