/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated SGX platform: one 32-byte seed (+ an instance name) becomes a
 * whole PCK hierarchy, a software QE3 + PCE, and the collateral that lets
 * independent verifiers accept its quotes (DESIGN.md "Simulation platform",
 * quote-format §3–7).
 *
 * A sim_platform is immutable after sim_platform_open() and safe to use from
 * several threads at once (the daemon quotes in parallel on its worker pool).
 */
#ifndef SGXQH_SIM_H
#define SGXQH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sgxqh/sgx_arch.h"

typedef enum {
    SIM_OK = 0,
    SIM_E_SEED_SIZE = -1,        /* seed file is neither a v1 seed nor a 32-byte legacy one */
    SIM_E_SEED_MODE = -2,        /* seed file readable/writable by group or others */
    SIM_E_SEED_IO = -3,          /* cannot read/create the seed (errno logged) */
    SIM_E_STATE_DIR = -4,        /* state directory missing and cannot be created */
    SIM_E_CRYPTO = -5,           /* a crypto operation failed */
    SIM_E_INVALID_REPORT = -6,   /* app report MAC does not verify for the QE target info */
    SIM_E_BUFFER_TOO_SMALL = -7, /* output buffer smaller than the quote */
    SIM_E_INVALID_ARG = -8,
    SIM_E_IO = -9,               /* writing exported files failed */
    SIM_E_CONFIG = -10,          /* bad TCB configuration */
    SIM_E_SEED_CORRUPT = -11,    /* v1 seed: unknown version, bad encoding or checksum */
    SIM_E_SEED_ABSENT = -12,     /* no seed, and creating one was not asked for */
    SIM_E_SEED_OWNER = -13,      /* seed or its directory is another user's, or writable by others */
    SIM_E_TD_REPORT = -14,       /* TDREPORT fails the TD-QE's structural checks */
    SIM_E_TD_REPORT_MAC = -15,   /* TDREPORT MAC is not this simulated platform's */
    SIM_E_TD_REPORT_HASH = -16,  /* TEE_TCB_INFO or TDINFO does not match its SHA-384 */
} sim_err;

const char *sim_strerror(int err);
/* One line a user can act on, e.g. "chmod 0600 the seed file". May be "". */
const char *sim_remedy(int err);

typedef enum {
    SIM_TCB_UP_TO_DATE = 0,
    SIM_TCB_SW_HARDENING_NEEDED,
    SIM_TCB_CONFIGURATION_NEEDED,
    SIM_TCB_OUT_OF_DATE,
    SIM_TCB_REVOKED,
} sim_tcb_status;
int sim_tcb_status_parse(const char *s, sim_tcb_status *out);
const char *sim_tcb_status_name(sim_tcb_status s);

/* The platform TCB the simulated PCK certificate and collateral describe. */
typedef struct {
    uint8_t comp_svn[16];
    uint16_t pcesvn;       /* certified PCE SVN (PCK cert) */
    uint16_t pce_svn_current; /* quote header pce_svn */
    uint16_t qe_svn;       /* QE ISVSVN (header + QE report) */
    uint8_t fmspc[6];
    uint8_t pceid[2];
    int sgx_type;
    sim_tcb_status tcb_status; /* status the collateral assigns to this TCB */
    /* TDX (docs/tdx.md): the TDX module's TEE_TCB_SVN ([0] module SVN,
     * [1] module major version, [2] SEAM last-patch SVN), the TD-QE's ISVSVN,
     * and the status the TDX module identity gives this module SVN. */
    uint8_t tee_tcb_svn[16];
    uint16_t td_qe_svn;
    sim_tcb_status tdx_module_status;
} sim_tcb_config;

/* Sane defaults (documented in docs/simulation.md). */
void sim_tcb_config_default(sim_tcb_config *cfg);

typedef struct {
    const char *state_dir;   /* holds "seed" (0600); created 0700 if missing */
    const char *seed_file;   /* overrides state_dir/seed when non-NULL (e.g. a mounted Secret) */
    bool seed_must_exist;    /* refuse (SIM_E_SEED_ABSENT) instead of creating a missing seed:
                              * the daemon without --init-seed, `collateral export` */
    const char *instance;    /* platform instance name; NULL = host name */
    sim_tcb_config tcb;
    time_t now;              /* 0 = time(NULL); certificate/collateral validity is built around it */
} sim_options;

typedef struct sim_platform sim_platform;

/* Opens (creating the seed if absent unless seed_must_exist, never
 * overwriting a bad one; docs/simulation.md "The seed file"). On error
 * *out is NULL and, when errbuf is non-NULL, a sentence naming the file and
 * the fix is written there. */
int sim_platform_open(const sim_options *opt, sim_platform **out, char *errbuf, size_t errcap);
void sim_platform_close(sim_platform *p);

/* ---- QE3 / PCE ---- */
void sim_qe_target_info(const sim_platform *p, sgx_target_info_t *ti);
/* ECDSA_ID = SHA-256(attestation pub key ‖ auth data): aesm §8.2 */
void sim_qe_pub_key_id(const sim_platform *p, uint8_t out[32]);
void sim_attestation_pub_key(const sim_platform *p, uint8_t out[64]);
void sim_qe_id(const sim_platform *p, uint8_t out[16]);
uint32_t sim_quote_size(const sim_platform *p);
/* Verifies app_report's MAC against the QE target info (SIM_E_INVALID_REPORT
 * otherwise), builds and signs a v3 quote into out. If qe_report_info is
 * non-NULL, fills its qe_report: a report targeted at its
 * app_enclave_target_info with report_data = SHA-256(nonce ‖ quote) ‖ 0^32. */
int sim_get_quote(const sim_platform *p, const sgx_report_t *app_report,
                  sgx_qe_report_info_t *qe_report_info, uint8_t *out, size_t cap, size_t *len);

/* ---- Simulated enclave (SDK simulation-mode compatible, quote-format §4.5) ---- */
typedef struct {
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    uint64_t flags;        /* INITTED|MODE64BIT by default; DEBUG with --debug */
    uint64_t xfrm;
    uint32_t misc_select;
    uint16_t isv_prod_id, isv_svn;
    uint8_t report_data[64];
    uint8_t cpu_svn[16];   /* default: SDK DEFAULT_CPUSVN */
    uint16_t config_svn;   /* SECS CONFIGSVN, 0 by default (appended by the sim module) */
} sim_enclave_identity;
void sim_enclave_identity_default(sim_enclave_identity *id);
/* EREPORT as the SDK's simulation mode does it. */
int sim_ereport(const sim_enclave_identity *self, const sgx_target_info_t *target,
                sgx_report_t *out);
/* sgx_verify_report as seen from the enclave whose target info is `self_ti`
 * (EGETKEY(REPORT) with cpu_svn): 0 when the MAC checks. */
int sim_verify_report(const sgx_target_info_t *self_ti, const uint8_t cpu_svn[16],
                      const sgx_report_t *report);
/* The 192-byte derivation + CMAC: the REPORT key of `target`. */
int sim_report_key_derive(const sgx_target_info_t *target, const uint8_t cpu_svn[16],
                          const uint8_t key_id[32], uint8_t key[16]);
extern const uint8_t SIM_SDK_DEFAULT_CPUSVN[16];

/* ---- Collateral & export ---- */
/* Writes the layout of tests/vectors/quotes/<vector>/ into dir (created if
 * missing): pck_chain.pem, tcb_info.json, tcb_chain.pem, qe_identity.json,
 * qe_chain.pem, root_ca_crl.der, pck_crl.der, pck_crl_chain.pem, root.pem,
 * collateral.json (dcap-qvl QuoteCollateralV3), meta.json. */
int sim_collateral_export(const sim_platform *p, const char *dir, char *errbuf, size_t errcap);
/* PEM of the simulated root CA (NUL-terminated, owned by p). */
const char *sim_root_pem(const sim_platform *p);
/* SHA-256 of the root CA certificate's DER as 64 lowercase hex digits: the
 * fingerprint an operator compares to see that the platform was not
 * re-keyed. SIM_OK or SIM_E_CRYPTO. */
int sim_root_fingerprint(const sim_platform *p, char out[65]);
/* True when the seed was a legacy raw 32-byte file (no version, no
 * checksum); docs/simulation.md says how to convert it. */
bool sim_seed_is_legacy(const sim_platform *p);

/* ---- Simulated TD quoting enclave (docs/tdx.md) ----
 * A TDREPORT is authenticated by a MAC only the CPU can check. The simulated
 * platform replaces it with HMAC-SHA256 under a per-platform key derived
 * from the seed and instance, so it quotes only reports its own
 * sim_td_report() made: a real TDREPORT (or one from another simulated
 * platform) is refused with SIM_E_TD_REPORT_MAC, never silently signed. */
typedef struct {
    uint8_t version;          /* REPORTTYPE.VERSION: 0 (TDX 1.0) or 1 (TDX 1.5) */
    uint64_t td_attributes;   /* default SEPT_VE_DISABLE (0x10000000) */
    uint64_t xfam;            /* default 0x61ae7 (x87, SSE, AVX, AVX-512, PK, ...) */
    uint8_t mr_td[48], mr_config_id[48], mr_owner[48], mr_owner_config[48];
    uint8_t rtmr[4][48];
    uint8_t servtd_hash[48];  /* version 1 only */
    uint8_t report_data[64];
} sim_td_identity;
void sim_td_identity_default(sim_td_identity *id);
/* TDG.MR.REPORT as this simulated platform's TDX module would answer it. */
int sim_td_report(const sim_platform *p, const sim_td_identity *id, uint8_t out[1024]);
/* Bytes sim_td_get_quote writes (the v5-sized buffer, see quote_td_size). */
size_t sim_td_quote_size(const sim_platform *p);
/* Checks the report (structure, MAC, both SHA-384 hashes) and builds the
 * signed v4 or v5 TDX quote. On a refused report, err gets the reason. */
int sim_td_get_quote(const sim_platform *p, const uint8_t *report, size_t report_len,
                     uint8_t *out, size_t cap, size_t *len, char *err, size_t errcap);
typedef struct {
    uint8_t qe_id[16];
    uint8_t cpu_svn[16];     /* raw CPUSVN: the PCK certificate's TCB components */
    uint16_t tdqe_isvsvn;
    uint16_t pce_isvsvn;
} sim_td_platform_info;
void sim_td_platform_info_get(const sim_platform *p, sim_td_platform_info *out);
/* The TD-QE's attestation public key (X‖Y). */
void sim_td_attestation_pub_key(const sim_platform *p, uint8_t out[64]);

/* The collateral set in the order of Intel's GET_COLLATERAL response
 * (qgs_msg_lib.h: qgs_msg_get_collateral_resp_t), for SGX or TDX, valid at
 * now (0 = the platform's time). Strings are NUL-terminated PEM / JSON;
 * tcb_info and qe_identity are the signed documents. */
typedef struct {
    char *pck_crl_issuer_chain;
    uint8_t *root_ca_crl;
    size_t root_ca_crl_len;
    uint8_t *pck_crl;
    size_t pck_crl_len;
    char *tcb_info_issuer_chain;
    char *tcb_info;
    char *qe_identity_issuer_chain;
    char *qe_identity;
} sim_collateral_set;
int sim_collateral_build(const sim_platform *p, bool tdx, time_t now, sim_collateral_set *out);
void sim_collateral_set_free(sim_collateral_set *set);
/* sim_collateral_export's layout for TDX quotes: TDX TCB info v3 and the
 * TD_QE identity instead of the SGX ones (docs/tdx.md). */
int sim_collateral_export_tdx(const sim_platform *p, const char *dir, char *errbuf,
                              size_t errcap);

/* ---- Appended by the sim module (not part of the original contract) ---- */

/* Default state directory when none is given: $SGXQH_SIM_STATE_DIR, else
 * /var/lib/sgx-quote-helper for root (the daemon's default too), else
 * ${XDG_STATE_HOME:-$HOME/.local/state}/sgx-quote-helper. Writes into buf
 * and returns it, or NULL when no safe default exists (no HOME). */
const char *sim_default_state_dir(char *buf, size_t cap);

/* Applies one "key=value" setting to a TCB configuration (the CLI's
 * --sim-tcb and the daemon can share it). Keys: status, fmspc (12 hex),
 * pceid (4 hex), tcb (16 comma-separated SVNs or 32 hex), pcesvn, pce-svn
 * (header's current PCE SVN), qe-svn, sgx-type (0..2). On error writes a
 * sentence into err and returns SIM_E_CONFIG. */
int sim_tcb_config_apply(sim_tcb_config *cfg, const char *setting, char *err, size_t errcap);

/* Instance name, PCK leaf PEM and the effective TCB
 * configuration of an open platform (owned by p). */
const char *sim_instance(const sim_platform *p);
const char *sim_pck_pem(const sim_platform *p);
const sim_tcb_config *sim_tcb(const sim_platform *p);

#endif
