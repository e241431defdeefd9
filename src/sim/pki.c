/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated PCK hierarchy (quote-format §5, Appendix): Root CA → "SGX PCK
 * Platform CA" → "SGX PCK Certificate" (SGX extension from the TCB config),
 * the "SGX TCB Signing" certificate, and the CRLs. Every field derives from
 * the seed (and instance, for the PCK leaf) and x509.c signs with RFC 6979,
 * so the same seed gives byte-identical certificates on every node and run
 * (QVL's same-root check compares bytes), and CRLs are a function of `now`.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

enum { CERT_ROOT, CERT_CA, CERT_TCB, CERT_PCK, CERT_COUNT };

static void cert_validity(time_t now, time_t *nb, time_t *na)
{
    /* Fixed dates keep certificates identical on every node and run. A
     * clock within a day of notBefore or a year of notAfter (or outside)
     * switches to other fixed dates, never to ones computed from `now`, so
     * even such nodes agree with each other. */
    *nb = SIM_CERT_NOT_BEFORE;
    *na = SIM_CERT_NOT_AFTER;
    if (now < SIM_CERT_NOT_BEFORE + 86400)
        *nb = SIM_CERT_NOT_BEFORE_WIDE;
    if (now > SIM_CERT_NOT_AFTER - 365 * 86400)
        *na = SIM_CERT_NOT_AFTER_WIDE;
}

static void pck_extension(const sim_platform *p, sgx_pck_ext *ext)
{
    /* quote-format §5.2: 5 entries for a Standard platform; the two
     * multi-package entries (7 in all) only for the Scalable types, which is
     * when QVL parses them. CPUSVN octet string == the 16 component SVNs. */
    memset(ext, 0, sizeof *ext);
    memcpy(ext->ppid, p->ppid, sizeof ext->ppid);
    memcpy(ext->comp_svn, p->tcb.comp_svn, sizeof ext->comp_svn);
    memcpy(ext->cpusvn, p->tcb.comp_svn, sizeof ext->cpusvn);
    ext->pcesvn = p->tcb.pcesvn;
    memcpy(ext->pceid, p->tcb.pceid, sizeof ext->pceid);
    memcpy(ext->fmspc, p->tcb.fmspc, sizeof ext->fmspc);
    ext->sgx_type = p->tcb.sgx_type;
    if (p->tcb.sgx_type != 0) {
        uint8_t h[32];
        /* Stable per instance; the PPID is as good a source as any. */
        crypto_sha256(p->ppid, sizeof p->ppid, h);
        ext->has_platform_instance_id = true;
        memcpy(ext->platform_instance_id, h, sizeof ext->platform_instance_id);
        ext->has_configuration = true;
        ext->dynamic_platform = false;
        ext->cached_keys = true;
        ext->smt_enabled = true;
    }
}

int sim_pki_build(sim_platform *p, time_t now)
{
    time_t nb, na;
    x509_cert **slot[CERT_COUNT] = {&p->root, &p->ca, &p->tcb_signer, &p->pck};
    char **pem[CERT_COUNT] = {&p->root_pem, &p->ca_pem, &p->tcb_pem, &p->pck_pem};
    sgx_pck_ext ext;

    cert_validity(now, &nb, &na);
    pck_extension(p, &ext);
    x509_cert_spec spec[CERT_COUNT] = {
        [CERT_ROOT] = {.common_name = SIM_CN_ROOT, .issuer_key = p->root_key,
                       .subject_key = p->root_key, .serial = p->serial_root, .is_ca = true,
                       .pathlen = 1, .crl_dp_url = SIM_CRL_URL_ROOT},
        [CERT_CA] = {.common_name = SIM_CN_PLATFORM_CA, .issuer_key = p->root_key,
                     .subject_key = p->ca_key, .serial = p->serial_ca, .is_ca = true,
                     .pathlen = 0, .crl_dp_url = SIM_CRL_URL_ROOT},
        [CERT_TCB] = {.common_name = SIM_CN_TCB_SIGNING, .issuer_key = p->root_key,
                      .subject_key = p->tcb_key, .serial = p->serial_tcb, .is_ca = false,
                      .pathlen = -1, .crl_dp_url = SIM_CRL_URL_ROOT},
        [CERT_PCK] = {.common_name = SIM_CN_PCK, .issuer_key = p->ca_key,
                      .subject_key = p->pck_key, .serial = p->serial_pck, .is_ca = false,
                      .pathlen = -1, .crl_dp_url = SIM_CRL_URL_PCK, .sgx_ext = &ext},
    };

    for (int i = 0; i < CERT_COUNT; i++) {
        size_t len;
        spec[i].organization = SIM_ORG;
        spec[i].serial_len = SIM_SERIAL_LEN;
        spec[i].not_before = nb;
        spec[i].not_after = na;
        /* Issuers are built before their children. */
        spec[i].issuer = i == CERT_ROOT ? NULL : i == CERT_PCK ? p->ca : p->root;
        if (x509_cert_build(&spec[i], slot[i]) != 0 ||
            x509_cert_to_pem(*slot[i], pem[i], &len) != 0)
            return SIM_E_CRYPTO; /* sim_platform_close frees what was built */
    }

    /* Certification data type 5 (quote-format §1.5): leaf, intermediate,
     * root, and the NUL the DCAP quote provider counts in the size. */
    size_t l1 = strlen(p->pck_pem), l2 = strlen(p->ca_pem), l3 = strlen(p->root_pem);
    p->cert_data_len = l1 + l2 + l3 + 1;
    p->cert_data = malloc(p->cert_data_len);
    if (p->cert_data == NULL)
        return SIM_E_CRYPTO;
    memcpy(p->cert_data, p->pck_pem, l1);
    memcpy(p->cert_data + l1, p->ca_pem, l2);
    memcpy(p->cert_data + l1 + l2, p->root_pem, l3);
    p->cert_data[l1 + l2 + l3] = '\0';
    return SIM_OK;
}

int sim_pki_root_crl(const sim_platform *p, time_t now, x509_crl **out)
{
    x509_crl_spec spec = {
        .issuer = p->root,
        .issuer_key = p->root_key,
        .this_update = sim_issue_time(now), /* backdated: clock skew */
        .next_update = now + SIM_ROOT_CRL_LIFETIME,
        .crl_number = (uint64_t)now, /* increases with every newer CRL */
        .entries = NULL,
        .n_entries = 0,
    };
    return x509_crl_build(&spec, out) == 0 ? SIM_OK : SIM_E_CRYPTO;
}

int sim_pki_pck_crl(const sim_platform *p, time_t now, x509_crl **out)
{
    /* One revoked serial that is none of ours, so verifiers that treat an
     * empty CRL specially still get exercised. */
    x509_crl_entry decoy = {
        .serial = p->serial_decoy,
        .serial_len = SIM_SERIAL_LEN,
        .revoked_at = SIM_CERT_NOT_BEFORE,
    };
    x509_crl_spec spec = {
        .issuer = p->ca,
        .issuer_key = p->ca_key,
        .this_update = sim_issue_time(now), /* backdated: clock skew */
        .next_update = now + SIM_COLLATERAL_LIFETIME,
        .crl_number = (uint64_t)now,
        .entries = &decoy,
        .n_entries = 1,
    };
    return x509_crl_build(&spec, out) == 0 ? SIM_OK : SIM_E_CRYPTO;
}
