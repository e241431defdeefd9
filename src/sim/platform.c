/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening the simulated platform: seed (seed.c) + instance name → HKDF-SHA256
 * keys and identifiers → certificate hierarchy (pki.c) → certified QE3
 * (qe.c). After sim_platform_open() the object is never written again, which
 * is what makes concurrent sim_get_quote() calls safe. Also the error names
 * and the TCB configuration (defaults, parsing) of the sim layer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sim_internal.h"

const char *sim_strerror(int err)
{
    switch (err) {
    case SIM_OK: return "success";
    case SIM_E_SEED_SIZE:
        return "SIM_E_SEED_SIZE: seed file is neither a v1 seed nor a 32-byte legacy seed";
    case SIM_E_SEED_CORRUPT:
        return "SIM_E_SEED_CORRUPT: seed file's version, encoding or checksum is wrong";
    case SIM_E_SEED_ABSENT: return "SIM_E_SEED_ABSENT: no seed file, and --init-seed was not given";
    case SIM_E_SEED_OWNER:
        return "SIM_E_SEED_OWNER: seed file or its directory belongs to another user or is "
               "writable by others";
    case SIM_E_SEED_MODE: return "SIM_E_SEED_MODE: seed file is accessible by group or others";
    case SIM_E_SEED_IO: return "SIM_E_SEED_IO: cannot read or create the seed file";
    case SIM_E_STATE_DIR: return "SIM_E_STATE_DIR: cannot create the state directory";
    case SIM_E_CRYPTO: return "SIM_E_CRYPTO: a cryptographic operation failed";
    case SIM_E_INVALID_REPORT:
        return "SIM_E_INVALID_REPORT: the report was not made for the simulated QE's target info";
    case SIM_E_BUFFER_TOO_SMALL: return "SIM_E_BUFFER_TOO_SMALL: output buffer too small";
    case SIM_E_INVALID_ARG: return "SIM_E_INVALID_ARG: invalid argument";
    case SIM_E_IO: return "SIM_E_IO: writing an exported file failed";
    case SIM_E_CONFIG: return "SIM_E_CONFIG: invalid simulated TCB configuration";
    case SIM_E_TD_REPORT:
        return "SIM_E_TD_REPORT: the TDREPORT fails the TD quoting enclave's structural checks";
    case SIM_E_TD_REPORT_MAC:
        return "SIM_E_TD_REPORT_MAC: the TDREPORT was not made by this simulated platform";
    case SIM_E_TD_REPORT_HASH:
        return "SIM_E_TD_REPORT_HASH: TEE_TCB_INFO or TDINFO does not match its SHA-384 in the "
               "TDREPORT";
    default: return "unknown sim error";
    }
}

const char *sim_remedy(int err)
{
    switch (err) {
    case SIM_E_SEED_SIZE:
    case SIM_E_SEED_CORRUPT:
        return "restore the original seed file, or move it away to start a new simulated platform";
    case SIM_E_SEED_ABSENT:
        return "pass --init-seed to create a new simulated platform, or point --state-dir or "
               "--seed-file at the existing seed";
    case SIM_E_SEED_OWNER:
        return "give the seed file and its directory to the user that runs this (chown), and "
               "make the directory writable by that user only";
    case SIM_E_SEED_MODE:
        return "chmod 0600 the seed file (Kubernetes Secret: defaultMode 0400)";
    case SIM_E_SEED_IO:
    case SIM_E_STATE_DIR:
        return "check that the state directory exists and is writable, or pass --state-dir";
    case SIM_E_INVALID_REPORT:
        return "make the enclave report with the QE target info from this platform";
    case SIM_E_CONFIG: return "see docs/simulation.md for the TCB settings";
    case SIM_E_TD_REPORT:
    case SIM_E_TD_REPORT_HASH:
        return "send the 1024 bytes of TDREPORT_STRUCT unchanged (docs/tdx.md)";
    case SIM_E_TD_REPORT_MAC:
        return "a simulated platform quotes only its own reports (sgx-quote tdx report with the "
               "same seed and instance); real TDREPORTs need the hardware backend (docs/tdx.md)";
    default: return "";
    }
}

static const char *const STATUS_NAMES[] = {
    [SIM_TCB_UP_TO_DATE] = "UpToDate",
    [SIM_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [SIM_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [SIM_TCB_OUT_OF_DATE] = "OutOfDate",
    [SIM_TCB_REVOKED] = "Revoked",
};

int sim_tcb_status_parse(const char *s, sim_tcb_status *out)
{
    if (s == NULL)
        return SIM_E_INVALID_ARG;
    for (size_t i = 0; i < sizeof STATUS_NAMES / sizeof STATUS_NAMES[0]; i++) {
        if (strcasecmp(s, STATUS_NAMES[i]) == 0) {
            *out = (sim_tcb_status)i;
            return SIM_OK;
        }
    }
    return SIM_E_CONFIG;
}

const char *sim_tcb_status_name(sim_tcb_status s)
{
    if ((size_t)s < sizeof STATUS_NAMES / sizeof STATUS_NAMES[0])
        return STATUS_NAMES[s];
    return "Unknown";
}

void sim_tcb_config_default(sim_tcb_config *cfg)
{
    /* A plausible recent single-socket server (docs/simulation.md): the
     * component SVNs double as the PCK's CPUSVN octet string (§5.3). */
    static const uint8_t comps[16] = {14, 14, 3, 3, 255, 255, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t fmspc[6] = {0x00, 0x60, 0x6a, 0x00, 0x00, 0x00};
    memset(cfg, 0, sizeof *cfg);
    memcpy(cfg->comp_svn, comps, sizeof comps);
    cfg->pcesvn = 13;
    cfg->pce_svn_current = 13;
    cfg->qe_svn = 8;
    memcpy(cfg->fmspc, fmspc, sizeof fmspc);
    cfg->pceid[0] = cfg->pceid[1] = 0;
    cfg->sgx_type = 0;
    cfg->tcb_status = SIM_TCB_UP_TO_DATE;
    /* TDX module 1.5 SVN 5 with SEAM patch 2; TD-QE ISVSVN 4 (Intel's
     * published TDX collateral has the same numbers). */
    static const uint8_t tee_svn[16] = {5, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(cfg->tee_tcb_svn, tee_svn, sizeof tee_svn);
    cfg->td_qe_svn = 4;
    cfg->tdx_module_status = SIM_TCB_UP_TO_DATE;
}

static int config_err(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int config_err(char *err, size_t cap, const char *fmt, ...)
{
    if (err != NULL && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return SIM_E_CONFIG;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_comps(const char *v, uint8_t comps[16])
{
    if (strchr(v, ',') == NULL) {
        size_t len = strlen(v);
        return len == 32 && crypto_hex_decode(v, len, comps, 16, NULL) == 0 ? 0 : -1;
    }
    const char *p = v;
    for (int i = 0; i < 16; i++) {
        char num[8];
        size_t n = strcspn(p, ",");
        unsigned long svn;
        if (n == 0 || n >= sizeof num)
            return -1;
        memcpy(num, p, n);
        num[n] = '\0';
        if (parse_uint(num, 255, &svn) != 0)
            return -1;
        comps[i] = (uint8_t)svn;
        p += n;
        if (i < 15) {
            if (*p != ',')
                return -1;
            p++;
        }
    }
    return *p == '\0' ? 0 : -1;
}

int sim_tcb_config_apply(sim_tcb_config *cfg, const char *setting, char *err, size_t errcap)
{
    const char *eq = strchr(setting, '=');
    if (eq == NULL)
        return config_err(err, errcap, "TCB setting '%s' is not KEY=VALUE", setting);
    size_t klen = (size_t)(eq - setting);
    const char *v = eq + 1;
    unsigned long n;
#define KEY_IS(k) (klen == strlen(k) && strncmp(setting, k, klen) == 0)
    if (KEY_IS("status")) {
        if (sim_tcb_status_parse(v, &cfg->tcb_status) != SIM_OK)
            return config_err(err, errcap,
                              "unknown TCB status '%s' (UpToDate, SWHardeningNeeded, "
                              "ConfigurationNeeded, OutOfDate, Revoked)", v);
    } else if (KEY_IS("fmspc")) {
        if (strlen(v) != 12 || crypto_hex_decode(v, 12, cfg->fmspc, 6, NULL) != 0)
            return config_err(err, errcap, "fmspc '%s' is not 12 hex digits", v);
    } else if (KEY_IS("pceid")) {
        if (strlen(v) != 4 || crypto_hex_decode(v, 4, cfg->pceid, 2, NULL) != 0)
            return config_err(err, errcap, "pceid '%s' is not 4 hex digits", v);
    } else if (KEY_IS("tcb")) {
        if (parse_comps(v, cfg->comp_svn) != 0)
            return config_err(err, errcap,
                              "tcb '%s' is not 16 comma-separated SVNs (0-255) or 32 hex digits",
                              v);
    } else if (KEY_IS("pcesvn")) {
        if (parse_uint(v, 65535, &n) != 0)
            return config_err(err, errcap, "pcesvn '%s' is not 0-65535", v);
        cfg->pcesvn = (uint16_t)n;
    } else if (KEY_IS("pce-svn")) {
        if (parse_uint(v, 65535, &n) != 0)
            return config_err(err, errcap, "pce-svn '%s' is not 0-65535", v);
        cfg->pce_svn_current = (uint16_t)n;
    } else if (KEY_IS("qe-svn")) {
        if (parse_uint(v, 65535, &n) != 0)
            return config_err(err, errcap, "qe-svn '%s' is not 0-65535", v);
        cfg->qe_svn = (uint16_t)n;
    } else if (KEY_IS("tee-tcb-svn")) {
        if (parse_comps(v, cfg->tee_tcb_svn) != 0)
            return config_err(err, errcap,
                              "tee-tcb-svn '%s' is not 16 comma-separated SVNs (0-255) or 32 "
                              "hex digits", v);
    } else if (KEY_IS("td-qe-svn")) {
        if (parse_uint(v, 65535, &n) != 0)
            return config_err(err, errcap, "td-qe-svn '%s' is not 0-65535", v);
        cfg->td_qe_svn = (uint16_t)n;
    } else if (KEY_IS("tdx-module-status")) {
        sim_tcb_status st;
        if (sim_tcb_status_parse(v, &st) != SIM_OK ||
            (st != SIM_TCB_UP_TO_DATE && st != SIM_TCB_OUT_OF_DATE && st != SIM_TCB_REVOKED))
            return config_err(err, errcap,
                              "tdx-module-status '%s' is not UpToDate, OutOfDate or Revoked", v);
        cfg->tdx_module_status = st;
    } else if (KEY_IS("sgx-type")) {
        if (parse_uint(v, 2, &n) != 0)
            return config_err(err, errcap, "sgx-type '%s' is not 0, 1 or 2", v);
        cfg->sgx_type = (int)n;
    } else {
        return config_err(err, errcap,
                          "unknown TCB setting '%s' (status, fmspc, pceid, tcb, pcesvn, pce-svn, "
                          "qe-svn, sgx-type, tee-tcb-svn, td-qe-svn, tdx-module-status)",
                          setting);
    }
#undef KEY_IS
    return SIM_OK;
}

/* HKDF-SHA256(seed, info = label [‖ 0x00 ‖ instance]) → out. The NUL keeps
 * (label, instance) pairs unambiguous. */
static int derive(const uint8_t seed[SIM_SEED_LEN], const char *label, const char *instance,
                  uint8_t *out, size_t out_len)
{
    uint8_t info[128 + SIM_INSTANCE_MAX];
    size_t ll = strlen(label), il = instance != NULL ? strlen(instance) : 0;
    if (ll > 127 || il > SIM_INSTANCE_MAX)
        return SIM_E_INVALID_ARG;
    memcpy(info, label, ll);
    size_t n = ll;
    if (instance != NULL) {
        info[n++] = 0;
        memcpy(info + n, instance, il);
        n += il;
    }
    return crypto_hkdf_sha256(seed, SIM_SEED_LEN, NULL, 0, info, n, out, out_len) == 0
               ? SIM_OK
               : SIM_E_CRYPTO;
}

static int derive_key(const uint8_t seed[SIM_SEED_LEN], const char *label, const char *instance,
                      crypto_p256_key **out)
{
    /* 48 bytes: reducing 384 bits mod n leaves no practical bias. */
    uint8_t material[48];
    int rc = derive(seed, label, instance, material, sizeof material);
    if (rc == SIM_OK && crypto_p256_from_seed(material, sizeof material, out) != 0)
        rc = SIM_E_CRYPTO;
    crypto_wipe(material, sizeof material);
    return rc;
}

/* Serial numbers: exactly 20 bytes, top bit clear and second-highest set so
 * the DER INTEGER is positive and never shortened (quote-format §5.3). */
static int derive_serial(const uint8_t seed[SIM_SEED_LEN], const char *label,
                         const char *instance, uint8_t serial[SIM_SERIAL_LEN])
{
    int rc = derive(seed, label, instance, serial, SIM_SERIAL_LEN);
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
    return rc;
}

static int derive_all(sim_platform *p, const uint8_t seed[SIM_SEED_LEN])
{
    const char *inst = p->instance;
    int rc;
    if ((rc = derive_key(seed, SIM_LABEL_ROOT_CA_KEY, NULL, &p->root_key)) != SIM_OK ||
        (rc = derive_key(seed, SIM_LABEL_PLATFORM_CA_KEY, NULL, &p->ca_key)) != SIM_OK ||
        (rc = derive_key(seed, SIM_LABEL_TCB_SIGNING_KEY, NULL, &p->tcb_key)) != SIM_OK ||
        (rc = derive_key(seed, SIM_LABEL_PCK_KEY, inst, &p->pck_key)) != SIM_OK ||
        (rc = derive_key(seed, SIM_LABEL_ATTESTATION_KEY, inst, &p->att_key)) != SIM_OK ||
        (rc = derive_key(seed, SIM_LABEL_TD_ATTESTATION_KEY, inst, &p->td_att_key)) != SIM_OK ||
        (rc = derive(seed, SIM_LABEL_TD_REPORT_MAC_KEY, inst, p->td_report_mac_key,
                     sizeof p->td_report_mac_key)) != SIM_OK ||
        (rc = derive(seed, SIM_LABEL_PPID, inst, p->ppid, sizeof p->ppid)) != SIM_OK ||
        (rc = derive(seed, SIM_LABEL_QE_ID, inst, p->qe_id, sizeof p->qe_id)) != SIM_OK ||
        (rc = derive_serial(seed, SIM_LABEL_SERIAL_ROOT, NULL, p->serial_root)) != SIM_OK ||
        (rc = derive_serial(seed, SIM_LABEL_SERIAL_PLATFORM_CA, NULL, p->serial_ca)) != SIM_OK ||
        (rc = derive_serial(seed, SIM_LABEL_SERIAL_TCB_SIGNING, NULL, p->serial_tcb)) != SIM_OK ||
        (rc = derive_serial(seed, SIM_LABEL_SERIAL_DECOY, NULL, p->serial_decoy)) != SIM_OK ||
        (rc = derive_serial(seed, SIM_LABEL_SERIAL_PCK, inst, p->serial_pck)) != SIM_OK)
        return rc;
    if (crypto_p256_pub(p->att_key, p->att_pub) != 0 ||
        crypto_p256_pub(p->td_att_key, p->td_att_pub) != 0)
        return SIM_E_CRYPTO;
    return SIM_OK;
}

static int pick_instance(const sim_options *opt, char out[SIM_INSTANCE_MAX + 1], char *errbuf,
                         size_t errcap)
{
    if (opt->instance != NULL) {
        size_t n = strlen(opt->instance);
        if (n == 0 || n > SIM_INSTANCE_MAX) {
            if (errbuf != NULL)
                snprintf(errbuf, errcap, "instance name must be 1 to %d bytes", SIM_INSTANCE_MAX);
            return SIM_E_INVALID_ARG;
        }
        memcpy(out, opt->instance, n + 1);
        return SIM_OK;
    }
    char host[SIM_INSTANCE_MAX + 1];
    if (gethostname(host, sizeof host) != 0) {
        if (errbuf != NULL)
            snprintf(errbuf, errcap, "cannot read the host name for the instance name: %s",
                     strerror(errno));
        return SIM_E_INVALID_ARG;
    }
    host[SIM_INSTANCE_MAX] = '\0';
    snprintf(out, SIM_INSTANCE_MAX + 1, "%s", host[0] != '\0' ? host : "localhost");
    return SIM_OK;
}

int sim_platform_open(const sim_options *opt, sim_platform **out, char *errbuf, size_t errcap)
{
    uint8_t seed[SIM_SEED_LEN];
    sim_platform *p = NULL;
    int rc;
    if (out == NULL)
        return SIM_E_INVALID_ARG;
    *out = NULL;
    if (errbuf != NULL && errcap > 0)
        errbuf[0] = '\0';
    if (opt == NULL) {
        rc = SIM_E_INVALID_ARG;
        goto out;
    }
    p = calloc(1, sizeof *p);
    if (p == NULL) {
        rc = SIM_E_CRYPTO;
        goto out;
    }
    p->tcb = opt->tcb;
    p->now_fixed = opt->now;
    if (p->tcb.sgx_type < 0 || p->tcb.sgx_type > 2 ||
        (unsigned)p->tcb.tcb_status > (unsigned)SIM_TCB_REVOKED) {
        if (errbuf != NULL)
            snprintf(errbuf, errcap, "invalid TCB configuration (sgx_type or tcb_status; "
                                     "docs/simulation.md lists the settings)");
        rc = SIM_E_CONFIG;
        goto out;
    }
    if ((rc = pick_instance(opt, p->instance, errbuf, errcap)) != SIM_OK)
        goto out;
    if ((rc = sim_seed_load_or_create(opt, seed, &p->seed_legacy, errbuf, errcap)) != SIM_OK)
        goto out;
    rc = derive_all(p, seed);
    crypto_wipe(seed, sizeof seed);
    /* Deterministic certificates: nothing is cached (a pki-v1-*.pem left in
     * the state dir by earlier versions is ignored, docs/simulation.md). */
    if (rc == SIM_OK)
        rc = sim_pki_build(p, opt->now != 0 ? opt->now : time(NULL));
    if (rc == SIM_OK)
        rc = sim_qe_init(p);
    if (rc == SIM_OK)
        rc = sim_tdqe_init(p);
    if (rc != SIM_OK) {
        if (errbuf != NULL && errcap > 0)
            snprintf(errbuf, errcap, "building the simulated platform failed: %s",
                     sim_strerror(rc));
        goto out;
    }
    *out = p;
    p = NULL;
out:
    crypto_wipe(seed, sizeof seed);
    sim_platform_close(p);
    return rc;
}

int sim_root_fingerprint(const sim_platform *p, char out[65])
{
    uint8_t *der = NULL, md[CRYPTO_SHA256_LEN];
    size_t len = 0;
    out[0] = '\0';
    if (p == NULL || x509_cert_to_der(p->root, &der, &len) != 0)
        return SIM_E_CRYPTO;
    int rc = crypto_sha256(der, len, md) == 0 ? SIM_OK : SIM_E_CRYPTO;
    free(der);
    if (rc == SIM_OK)
        crypto_hex_encode(md, sizeof md, out);
    return rc;
}

bool sim_seed_is_legacy(const sim_platform *p)
{
    return p != NULL && p->seed_legacy;
}

void sim_platform_close(sim_platform *p)
{
    if (p == NULL)
        return;
    crypto_p256_free(p->root_key);
    crypto_p256_free(p->ca_key);
    crypto_p256_free(p->tcb_key);
    crypto_p256_free(p->pck_key);
    crypto_p256_free(p->att_key);
    crypto_p256_free(p->td_att_key);
    x509_cert_free(p->root);
    x509_cert_free(p->ca);
    x509_cert_free(p->tcb_signer);
    x509_cert_free(p->pck);
    free(p->root_pem);
    free(p->ca_pem);
    free(p->tcb_pem);
    free(p->pck_pem);
    free(p->cert_data);
    crypto_wipe(p, sizeof *p);
    free(p);
}

const char *sim_root_pem(const sim_platform *p)
{
    return p->root_pem;
}

const char *sim_pck_pem(const sim_platform *p)
{
    return p->pck_pem;
}

const char *sim_instance(const sim_platform *p)
{
    return p->instance;
}

const sim_tcb_config *sim_tcb(const sim_platform *p)
{
    return &p->tcb;
}
