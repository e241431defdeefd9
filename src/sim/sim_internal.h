/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the files of the simulated platform (src/sim): the
 * platform object, key-derivation labels, and the helpers each file exposes
 * to the others. Nothing outside src/sim and tests/sim includes this.
 */
#ifndef SGXQH_SIM_INTERNAL_H
#define SGXQH_SIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "sgx/le.h" /* le_put_u16/u32/u64 for the encoders here */
#include "sim.h"

#define SIM_SEED_LEN 32
#define SIM_INSTANCE_MAX 255
#define SIM_QE_AUTH_DATA_LEN 32 /* quote-format §1.4: dcap-qvl requires exactly 32 */

/* HKDF-SHA256 labels (info strings). Changing any of them re-keys every
 * simulated platform, so they carry a version. docs/simulation.md lists them. */
#define SIM_LABEL_PREFIX "sgx-quote-helper/sim/v1/"
#define SIM_LABEL_ROOT_CA_KEY SIM_LABEL_PREFIX "root-ca-key"
#define SIM_LABEL_PLATFORM_CA_KEY SIM_LABEL_PREFIX "platform-ca-key"
#define SIM_LABEL_TCB_SIGNING_KEY SIM_LABEL_PREFIX "tcb-signing-key"
#define SIM_LABEL_PPID SIM_LABEL_PREFIX "ppid"
#define SIM_LABEL_PCK_KEY SIM_LABEL_PREFIX "pck-key"
#define SIM_LABEL_QE_ID SIM_LABEL_PREFIX "qe-id"
#define SIM_LABEL_ATTESTATION_KEY SIM_LABEL_PREFIX "attestation-key"
#define SIM_LABEL_TD_ATTESTATION_KEY SIM_LABEL_PREFIX "td-attestation-key"
#define SIM_LABEL_TD_REPORT_MAC_KEY SIM_LABEL_PREFIX "td-report-mac-key"
#define SIM_LABEL_SERIAL_ROOT SIM_LABEL_PREFIX "serial/root-ca"
#define SIM_LABEL_SERIAL_PLATFORM_CA SIM_LABEL_PREFIX "serial/platform-ca"
#define SIM_LABEL_SERIAL_TCB_SIGNING SIM_LABEL_PREFIX "serial/tcb-signing"
#define SIM_LABEL_SERIAL_PCK SIM_LABEL_PREFIX "serial/pck"
#define SIM_LABEL_SERIAL_DECOY SIM_LABEL_PREFIX "serial/revoked-decoy"
/* Seed-independent identities: plain SHA-256 of these strings. */
#define SIM_QE_MRENCLAVE_LABEL SIM_LABEL_PREFIX "qe3-mrenclave"
#define SIM_PCE_MRENCLAVE_LABEL SIM_LABEL_PREFIX "pce-mrenclave"
#define SIM_DEMO_MRENCLAVE_LABEL SIM_LABEL_PREFIX "demo-enclave-mrenclave"
#define SIM_TDQE_MRENCLAVE_LABEL SIM_LABEL_PREFIX "tdqe-mrenclave"
#define SIM_TDQE_MRSIGNER_LABEL SIM_LABEL_PREFIX "tdqe-mrsigner"
#define SIM_TDX_MRSEAM_LABEL SIM_LABEL_PREFIX "tdx-module-mrseam"
#define SIM_DEMO_MRTD_LABEL SIM_LABEL_PREFIX "demo-td-mrtd"
#define SIM_DEMO_MRSIGNER_LABEL SIM_LABEL_PREFIX "demo-enclave-mrsigner"

#define SIM_SERIAL_LEN 20 /* quote-format §5.3: <= 20 bytes, top bit clear */

/* Names (quote-format Appendix: the CN substrings QVL looks for). */
#define SIM_ORG "sgx-quote-helper simulation, not for production"
#define SIM_CN_ROOT "Simulated SGX Root CA (not for production)"
#define SIM_CN_PLATFORM_CA "Simulated SGX PCK Platform CA (not for production)"
#define SIM_CN_PCK "Simulated SGX PCK Certificate (not for production)"
#define SIM_CN_TCB_SIGNING "Simulated SGX TCB Signing (not for production)"
#define SIM_CRL_URL_ROOT "https://sgx-quote-helper.invalid/sim/SGXRootCA.der"
#define SIM_CRL_URL_PCK "https://sgx-quote-helper.invalid/sim/pckcrl?ca=platform&encoding=der"

/* Fixed certificate validity, so that a seed always yields the same
 * certificate fields: 2024-01-01T00:00:00Z .. 2049-12-31T23:59:59Z. A clock
 * too close to either end gets the fixed wide dates instead:
 * 1970-01-01T00:00:00Z, and 9999-12-31T23:59:59Z (RFC 5280 §4.1.2.5's
 * "no well-defined expiration date"). */
#define SIM_CERT_NOT_BEFORE ((time_t)1704067200)
#define SIM_CERT_NOT_AFTER ((time_t)2524607999)
#define SIM_CERT_NOT_BEFORE_WIDE ((time_t)0)
#define SIM_CERT_NOT_AFTER_WIDE ((time_t)253402300799)
_Static_assert(sizeof(time_t) >= 8, "certificate dates past 2038 need a 64-bit time_t");

/* Collateral lifetimes (quote-format §6.6: PCK CRL ~30 days, root CRL ~1 year),
 * counted from the export time `now`. */
#define SIM_COLLATERAL_LIFETIME (30 * 24 * 3600)
#define SIM_ROOT_CRL_LIFETIME (365 * 24 * 3600)
/* Clock-skew margin: TCB Info / QE Identity issueDate and both CRLs'
 * thisUpdate are `now` minus this, so a verifier whose clock is up to an hour
 * behind the exporting node still finds them valid (dcap-qvl fails hard when
 * t < issueDate, and CRLs need thisUpdate <= t: quote-format §6.7). A
 * constant, so the same `now` still gives the same bytes on every node. */
#define SIM_CLOCK_SKEW_MARGIN (60 * 60)
/* The issue time for an export at `now` (never before the epoch). */
static inline time_t sim_issue_time(time_t now)
{
    return now > SIM_CLOCK_SKEW_MARGIN ? now - SIM_CLOCK_SKEW_MARGIN : 0;
}

/* QE3 as the simulation presents it (quote-format §1.7, §6.4). */
#define SIM_QE_FLAGS (SGX_FLAGS_INITTED | SGX_FLAGS_MODE64BIT | SGX_FLAGS_PROVISION_KEY)
#define SIM_QE_XFRM 0xE7u
#define SIM_QE_ISV_PROD_ID 1
#define SIM_PCE_ISV_PROD_ID 2
#define SIM_TDQE_ISV_PROD_ID 2 /* Intel's TD_QE identity: isvprodid 2 */

struct sim_platform {
    char instance[SIM_INSTANCE_MAX + 1];
    sim_tcb_config tcb;
    time_t now_fixed; /* 0: use the clock at export time */
    bool seed_legacy; /* loaded from a raw 32-byte seed file */

    crypto_p256_key *root_key, *ca_key, *tcb_key; /* seed only */
    crypto_p256_key *pck_key, *att_key;           /* seed + instance */
    uint8_t ppid[16];
    uint8_t qe_id[16];
    uint8_t att_pub[CRYPTO_P256_PUB_LEN];
    uint8_t pub_key_id[32];
    uint8_t serial_root[SIM_SERIAL_LEN], serial_ca[SIM_SERIAL_LEN];
    uint8_t serial_tcb[SIM_SERIAL_LEN], serial_pck[SIM_SERIAL_LEN];
    uint8_t serial_decoy[SIM_SERIAL_LEN];

    x509_cert *root, *ca, *tcb_signer, *pck;
    char *root_pem, *ca_pem, *tcb_pem, *pck_pem; /* NUL-terminated */

    /* Certification data type 5: leaf ‖ platform CA ‖ root ‖ NUL. */
    uint8_t *cert_data;
    size_t cert_data_len;

    sim_enclave_identity qe_self; /* the QE3's own SECS values */
    sgx_target_info_t qe_ti;
    sgx_report_body_t qe_report;  /* certified by the PCE at open */
    uint8_t qe_report_sig[CRYPTO_P256_SIG_LEN];

    /* The TD quoting enclave (tdqe.c): own identity and attestation key,
     * certified by the same PCE/PCK; the simulated TDREPORT MAC key. */
    crypto_p256_key *td_att_key;
    uint8_t td_att_pub[CRYPTO_P256_PUB_LEN];
    uint8_t td_report_mac_key[32];
    sim_enclave_identity tdqe_self;
    sgx_report_body_t tdqe_report;
    uint8_t tdqe_report_sig[CRYPTO_P256_SIG_LEN];
};

/* seed.c */
/* Loads the seed (creating it when absent, unless opt->seed_must_exist);
 * *legacy tells a raw 32-byte file from a v1 one. */
int sim_seed_load_or_create(const sim_options *opt, uint8_t seed[SIM_SEED_LEN], bool *legacy,
                            char *errbuf, size_t errcap);

/* pki.c: the four certificates (deterministic: a function of the seed,
 * instance and TCB config; `now` matters only outside the fixed validity). */
int sim_pki_build(sim_platform *p, time_t now);
/* CRLs valid at now (collateral.c); the same p and now give the same DER. */
int sim_pki_root_crl(const sim_platform *p, time_t now, x509_crl **out);
int sim_pki_pck_crl(const sim_platform *p, time_t now, x509_crl **out);

/* qe.c */
int sim_qe_init(sim_platform *p);
int sim_qe_certify(const sim_platform *p, const sim_enclave_identity *qe,
                   const uint8_t key_id[32], sgx_report_body_t *body,
                   uint8_t sig[CRYPTO_P256_SIG_LEN]);
void sim_qe_auth_data(uint8_t out[SIM_QE_AUTH_DATA_LEN]);

/* tdqe.c */
int sim_tdqe_init(sim_platform *p);

/* report.c: the 192-byte REPORT key derivation data (quote-format §4.5). */
#define SIM_REPORT_DERIVATION_LEN 192
void sim_report_derivation_data(const sgx_target_info_t *target, const uint8_t cpu_svn[16],
                                const uint8_t key_id[32],
                                uint8_t out[SIM_REPORT_DERIVATION_LEN]);
extern const uint8_t SIM_SDK_BASE_REPORT_KEY[16];
extern const uint8_t SIM_SDK_OWNER_EPOCH[16];

/* seed.c: mkdir -p, making missing components with mode. 0, or -1 with
 * errno set (ENOTDIR: path exists but is no directory); when making a
 * component failed and failed_at (PATH_MAX bytes) is given, it gets that
 * component's path. */
int sim_make_dirs(const char *path, mode_t mode, char *failed_at);

/* collateral.c: the signed JSON bodies (exact bytes, NUL-terminated, free()). */
int sim_tcb_info_body(const sim_platform *p, time_t now, char **out);
int sim_qe_identity_body(const sim_platform *p, time_t now, char **out);
int sim_tdx_tcb_info_body(const sim_platform *p, time_t now, char **out);
int sim_td_qe_identity_body(const sim_platform *p, time_t now, char **out);

#endif
