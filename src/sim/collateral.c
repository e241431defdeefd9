/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collateral for the simulated platform (quote-format §6): TCB Info v3
 * ("id":"SGX") and QE Identity v2 as compact JSON in Intel's key order,
 * signed over their exact bytes by the simulated TCB-signing key; the root
 * and PCK CRLs; the issuer chains. sim_collateral_export() writes them in the
 * layout of tests/vectors/quotes/ (incl. dcap-qvl's QuoteCollateralV3
 * collateral.json) so any verifier that reads those vectors reads ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_internal.h"

#define TCB_EVALUATION_DATA_NUMBER 17
/* tcbDate of each level we publish (fixed, so bodies differ only by dates
 * of issue). */
#define TCB_DATE_NEWER "2025-05-13T00:00:00Z"
#define TCB_DATE_PLATFORM "2024-11-12T00:00:00Z"
#define TCB_DATE_OLDER "2023-08-08T00:00:00Z"

#define JSON_BODY_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

typedef struct {
    uint8_t comps[16];
    uint16_t pcesvn;
    const uint8_t *tdx_comps; /* 16 tdxtcbcomponents (TDX TCB info), else NULL */
    const char *date;
    const char *status;
    const char *const *advisories; /* NULL-terminated, may be NULL */
} tcb_level;

static const char *const ADV_SW_HARDENING[] = {"INTEL-SA-00615", NULL};
static const char *const ADV_CONFIGURATION[] = {"INTEL-SA-00289", NULL};
static const char *const ADV_OUT_OF_DATE[] = {"INTEL-SA-00828", "INTEL-SA-00837", NULL};
static const char *const ADV_REVOKED[] = {"INTEL-SA-00233", NULL};
static const char *const ADV_OLDER[] = {"INTEL-SA-00657", "INTEL-SA-00767", NULL};
static const char *const ADV_QE_OLDER[] = {"INTEL-SA-00615", NULL};

static void hex_upper(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xf];
    }
    out[2 * len] = '\0';
}

/* The levels, highest first (both verifiers take the first level the
 * platform reaches, §6.3), so that the platform's own TCB lands on a level
 * whose status is exactly cfg->tcb_status. */
static int tcb_levels(const sim_tcb_config *cfg, tcb_level levels[4], size_t *n)
{
    size_t k = 0;
    tcb_level plat = {.pcesvn = cfg->pcesvn, .date = TCB_DATE_PLATFORM};
    memcpy(plat.comps, cfg->comp_svn, 16);

    switch (cfg->tcb_status) {
    case SIM_TCB_UP_TO_DATE: plat.status = "UpToDate"; break;
    case SIM_TCB_SW_HARDENING_NEEDED:
        plat.status = "SWHardeningNeeded";
        plat.advisories = ADV_SW_HARDENING;
        break;
    case SIM_TCB_CONFIGURATION_NEEDED:
        plat.status = "ConfigurationNeeded";
        plat.advisories = ADV_CONFIGURATION;
        break;
    case SIM_TCB_OUT_OF_DATE: {
        /* A newer level the platform does not reach makes it out of date. */
        tcb_level newer = plat;
        newer.date = TCB_DATE_NEWER;
        newer.status = "UpToDate";
        newer.advisories = NULL;
        size_t i = 0;
        while (i < 16 && newer.comps[i] == 255)
            i++;
        if (i < 16)
            newer.comps[i]++;
        else if (newer.pcesvn < 65535)
            newer.pcesvn++;
        else
            return SIM_E_CONFIG; /* nothing is newer than an all-maximum TCB */
        levels[k++] = newer;
        plat.status = "OutOfDate";
        plat.advisories = ADV_OUT_OF_DATE;
        break;
    }
    case SIM_TCB_REVOKED:
        plat.status = "Revoked";
        plat.advisories = ADV_REVOKED;
        break;
    default: return SIM_E_CONFIG;
    }
    levels[k++] = plat;

    /* An older, out-of-date level below, as real TCB Info always has. */
    tcb_level older = plat;
    older.date = TCB_DATE_OLDER;
    older.status = "OutOfDate";
    older.advisories = ADV_OLDER;
    bool have_older = true;
    if (older.pcesvn > 0) {
        older.pcesvn--;
    } else {
        int i = 15;
        while (i >= 0 && older.comps[i] == 0)
            i--;
        if (i >= 0)
            older.comps[i]--;
        else
            have_older = false;
    }
    if (have_older)
        levels[k++] = older;
    *n = k;
    return SIM_OK;
}

static int set_new(json_t *obj, const char *key, json_t *value)
{
    return value == NULL ? -1 : json_object_set_new(obj, key, value);
}

static json_t *advisory_array(const char *const *adv)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && adv[i] != NULL; i++) {
        if (json_array_append_new(a, json_string(adv[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *svn_components(const uint8_t comps[16])
{
    json_t *arr = json_array();
    for (int i = 0; arr != NULL && i < 16; i++) {
        json_t *c = json_object();
        if (json_array_append_new(arr, c) != 0 || set_new(c, "svn", json_integer(comps[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *tcb_level_json(const tcb_level *l)
{
    json_t *level = json_object();
    json_t *tcb = json_object();
    json_t *comps = json_array();
    if (level == NULL || tcb == NULL || comps == NULL) {
        json_decref(level);
        json_decref(tcb);
        json_decref(comps);
        return NULL;
    }
    /* Attach children first (set_new owns them from here on, even on
     * failure), then fill them through the borrowed pointers. */
    int bad = set_new(level, "tcb", tcb) != 0;
    bad |= set_new(tcb, "sgxtcbcomponents", comps) != 0;
    for (int i = 0; !bad && i < 16; i++) {
        json_t *c = json_object();
        bad |= json_array_append_new(comps, c) != 0;
        bad |= bad || set_new(c, "svn", json_integer(l->comps[i])) != 0;
    }
    bad |= bad || set_new(tcb, "pcesvn", json_integer(l->pcesvn)) != 0;
    if (!bad && l->tdx_comps != NULL)
        bad |= set_new(tcb, "tdxtcbcomponents", svn_components(l->tdx_comps)) != 0;
    bad |= bad || set_new(level, "tcbDate", json_string(l->date)) != 0;
    bad |= bad || set_new(level, "tcbStatus", json_string(l->status)) != 0;
    if (!bad && l->advisories != NULL)
        bad |= set_new(level, "advisoryIDs", advisory_array(l->advisories)) != 0;
    if (bad) {
        json_decref(level);
        return NULL;
    }
    return level;
}

static int dump_body(json_t *obj, char **out)
{
    *out = json_dumps(obj, JSON_BODY_FLAGS);
    json_decref(obj);
    return *out != NULL ? SIM_OK : SIM_E_CRYPTO;
}

static json_t *tdx_module_json(void);

/* A module SVN below the newest one, said in a way both verifiers hear: QVL
 * skips tdxtcbcomponents[0..1] when the module has a major version and asks
 * the module identity (OutOfDate / Revoked there, tdx_module_identities_json);
 * dcap-qvl compares all 16 bytes and ignores module identities. So a level
 * for the next module SVN keeps the platform's status (QVL matches it), and
 * the platform's own level gets the status QVL converges to (dcap-qvl
 * matches that one). */
static int module_status_levels(const sim_tcb_config *cfg, const uint8_t comps[16],
                                uint8_t newer_comps[16], tcb_level levels[4], size_t *n)
{
    size_t plat = 0;
    while (plat < *n && strcmp(levels[plat].date, TCB_DATE_PLATFORM) != 0)
        plat++;
    if (plat == *n || *n >= 4 || comps[0] == 255)
        return SIM_E_CONFIG; /* nothing is newer than module SVN 255 */
    memcpy(newer_comps, comps, 16);
    newer_comps[0]++;
    memmove(&levels[plat + 1], &levels[plat], (*n - plat) * sizeof levels[0]);
    (*n)++;
    levels[plat].tdx_comps = newer_comps;
    levels[plat].date = TCB_DATE_NEWER;
    tcb_level *l = &levels[plat + 1];
    if (cfg->tdx_module_status == SIM_TCB_REVOKED) {
        l->status = "Revoked";
        l->advisories = ADV_REVOKED;
    } else if (strcmp(l->status, "ConfigurationNeeded") == 0) {
        l->status = "OutOfDateConfigurationNeeded";
        l->advisories = ADV_OUT_OF_DATE;
    } else if (strcmp(l->status, "Revoked") != 0) {
        l->status = "OutOfDate";
        l->advisories = ADV_OUT_OF_DATE;
    }
    return SIM_OK;
}
static json_t *tdx_module_identities_json(const sim_tcb_config *cfg);

/* Intel PCS API v4 "TCB Info" key order; TDX ("TDX TCB
 * Info"): id "TDX", tdxModule and tdxModuleIdentities before the levels,
 * and 16 tdxtcbcomponents in every level. */
static int tcb_info_body(const sim_platform *p, time_t now, bool tdx, char **out)
{
    tcb_level levels[4];
    size_t n = 0;
    char issue[21], next[21], fmspc[13], pceid[5];
    uint8_t tdx_comps[16], tdx_newer[16];
    int rc = tcb_levels(&p->tcb, levels, &n);
    if (rc != SIM_OK)
        return rc;
    /* The module's own SVN and major version (bytes 0 and 1) are judged by
     * its module identity; the level asks for module major 0 so that a
     * verifier comparing all 16 bytes (dcap-qvl) and one skipping the first
     * two (QVL) pick the same level. */
    memcpy(tdx_comps, p->tcb.tee_tcb_svn, sizeof tdx_comps);
    tdx_comps[1] = 0;
    for (size_t i = 0; tdx && i < n; i++)
        levels[i].tdx_comps = tdx_comps;
    if (tdx && p->tcb.tdx_module_status != SIM_TCB_UP_TO_DATE &&
        (rc = module_status_levels(&p->tcb, tdx_comps, tdx_newer, levels, &n)) != SIM_OK)
        return rc;
    time_format_iso8601(sim_issue_time(now), issue); /* backdated: clock skew */
    time_format_iso8601(now + SIM_COLLATERAL_LIFETIME, next);
    hex_upper(p->tcb.fmspc, 6, fmspc);
    hex_upper(p->tcb.pceid, 2, pceid);

    json_t *o = json_object();
    json_t *arr = json_array();
    int bad = o == NULL || arr == NULL;
    for (size_t i = 0; !bad && i < n; i++)
        bad |= json_array_append_new(arr, tcb_level_json(&levels[i])) != 0;
    bad |= bad || set_new(o, "id", json_string(tdx ? "TDX" : "SGX")) != 0;
    bad |= bad || set_new(o, "version", json_integer(3)) != 0;
    bad |= bad || set_new(o, "issueDate", json_string(issue)) != 0;
    bad |= bad || set_new(o, "nextUpdate", json_string(next)) != 0;
    bad |= bad || set_new(o, "fmspc", json_string(fmspc)) != 0;
    bad |= bad || set_new(o, "pceId", json_string(pceid)) != 0;
    bad |= bad || set_new(o, "tcbType", json_integer(0)) != 0;
    bad |= bad || set_new(o, "tcbEvaluationDataNumber",
                          json_integer(TCB_EVALUATION_DATA_NUMBER)) != 0;
    if (tdx) {
        bad |= bad || set_new(o, "tdxModule", tdx_module_json()) != 0;
        bad |= bad || set_new(o, "tdxModuleIdentities", tdx_module_identities_json(&p->tcb)) != 0;
    }
    if (bad) {
        json_decref(arr);
        json_decref(o);
        return SIM_E_CRYPTO;
    }
    if (set_new(o, "tcbLevels", arr) != 0) { /* set_new released arr */
        json_decref(o);
        return SIM_E_CRYPTO;
    }
    return dump_body(o, out);
}

int sim_tcb_info_body(const sim_platform *p, time_t now, char **out)
{
    return tcb_info_body(p, now, false, out);
}

int sim_tdx_tcb_info_body(const sim_platform *p, time_t now, char **out)
{
    return tcb_info_body(p, now, true, out);
}

static json_t *qe_level_json(uint16_t isvsvn, const char *date, const char *status,
                             const char *const *adv)
{
    json_t *level = json_object();
    json_t *tcb = json_object();
    if (level == NULL || tcb == NULL) {
        json_decref(level);
        json_decref(tcb);
        return NULL;
    }
    int bad = set_new(level, "tcb", tcb) != 0;
    bad |= bad || set_new(tcb, "isvsvn", json_integer(isvsvn)) != 0;
    bad |= bad || set_new(level, "tcbDate", json_string(date)) != 0;
    bad |= bad || set_new(level, "tcbStatus", json_string(status)) != 0;
    if (!bad && adv != NULL)
        bad |= set_new(level, "advisoryIDs", advisory_array(adv)) != 0;
    if (bad) {
        json_decref(level);
        return NULL;
    }
    return level;
}

/* An enclave identity document (QE, TD_QE): Intel's key order; levels
 * isvsvn UpToDate, then isvsvn - 1 OutOfDate. The quoting enclave itself is
 * always up to date, so the merged verdict is the platform's status. */
static int identity_body(time_t now, const char *id, const uint8_t mr_signer[32],
                         uint16_t isvprodid, uint16_t isvsvn, const char *attributes,
                         const char *mask, char **out)
{
    char issue[21], next[21], mrsigner[65];
    time_format_iso8601(sim_issue_time(now), issue); /* backdated: clock skew */
    time_format_iso8601(now + SIM_COLLATERAL_LIFETIME, next);
    hex_upper(mr_signer, 32, mrsigner);

    json_t *o = json_object();
    json_t *arr = json_array();
    int bad = o == NULL || arr == NULL;
    bad |= bad || json_array_append_new(arr, qe_level_json(isvsvn, TCB_DATE_PLATFORM,
                                                          "UpToDate", NULL)) != 0;
    if (!bad && isvsvn > 0)
        bad |= json_array_append_new(arr, qe_level_json((uint16_t)(isvsvn - 1), TCB_DATE_OLDER,
                                                        "OutOfDate", ADV_QE_OLDER)) != 0;
    bad |= bad || set_new(o, "id", json_string(id)) != 0;
    bad |= bad || set_new(o, "version", json_integer(2)) != 0;
    bad |= bad || set_new(o, "issueDate", json_string(issue)) != 0;
    bad |= bad || set_new(o, "nextUpdate", json_string(next)) != 0;
    bad |= bad || set_new(o, "tcbEvaluationDataNumber",
                          json_integer(TCB_EVALUATION_DATA_NUMBER)) != 0;
    bad |= bad || set_new(o, "miscselect", json_string("00000000")) != 0;
    bad |= bad || set_new(o, "miscselectMask", json_string("FFFFFFFF")) != 0;
    bad |= bad || set_new(o, "attributes", json_string(attributes)) != 0;
    bad |= bad || set_new(o, "attributesMask", json_string(mask)) != 0;
    bad |= bad || set_new(o, "mrsigner", json_string(mrsigner)) != 0;
    bad |= bad || set_new(o, "isvprodid", json_integer(isvprodid)) != 0;
    if (bad) {
        json_decref(arr);
        json_decref(o);
        return SIM_E_CRYPTO;
    }
    if (set_new(o, "tcbLevels", arr) != 0) {
        json_decref(o);
        return SIM_E_CRYPTO;
    }
    return dump_body(o, out);
}

/* QE3's identity (Intel PCS API v4, "QE Identity"). */
int sim_qe_identity_body(const sim_platform *p, time_t now, char **out)
{
    char attributes[33], mask[33];
    uint8_t attr[16] = {0}, attr_mask[16];
    /* Expected attributes ⊆ mask (dcap-qvl masks both sides, QVL only the
     * report): flags of our QE with MODE64BIT masked out, xfrm ignored. */
    uint64_t flags_mask = ~(uint64_t)SGX_FLAGS_MODE64BIT;
    le_put_u64(attr, p->qe_self.flags & flags_mask);
    le_put_u64(attr_mask, flags_mask);
    memset(attr_mask + 8, 0, 8);
    hex_upper(attr, 16, attributes);
    hex_upper(attr_mask, 16, mask);
    return identity_body(now, "QE", p->qe_self.mr_signer, p->qe_self.isv_prod_id,
                         p->tcb.qe_svn, attributes, mask, out);
}

/* Module signer and attributes: Intel signs its TDX modules with an
 * all-zero MRSIGNERSEAM and zero SEAM attributes, and the TD-QE never copies
 * either into the quote, so zeros are the only values that verify. */
#define TDX_MODULE_MRSIGNER_HEX                                                                    \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
#define TDX_MODULE_ATTRIBUTES_HEX "0000000000000000"
#define TDX_MODULE_ATTRIBUTES_MASK_HEX "FFFFFFFFFFFFFFFF"

static json_t *tdx_module_json(void)
{
    return json_pack("{s:s, s:s, s:s}", "mrsigner", TDX_MODULE_MRSIGNER_HEX, "attributes",
                     TDX_MODULE_ATTRIBUTES_HEX, "attributesMask", TDX_MODULE_ATTRIBUTES_MASK_HEX);
}

/* One identity "TDX_<major as 2 hex digits>" for the simulated module,
 * levels highest first so that its SVN (tee_tcb_svn[0]) lands on the
 * status chosen with --sim-tcb tdx-module-status. */
static json_t *tdx_module_identities_json(const sim_tcb_config *cfg)
{
    uint8_t svn = cfg->tee_tcb_svn[0];
    char id[8];
    snprintf(id, sizeof id, "TDX_%02X", cfg->tee_tcb_svn[1]);
    json_t *levels = json_array();
    json_t *ident = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "mrsigner",
                              TDX_MODULE_MRSIGNER_HEX, "attributes", TDX_MODULE_ATTRIBUTES_HEX,
                              "attributesMask", TDX_MODULE_ATTRIBUTES_MASK_HEX);
    json_t *arr = json_array();
    int bad = levels == NULL || ident == NULL || arr == NULL;
    switch (cfg->tdx_module_status) {
    case SIM_TCB_OUT_OF_DATE:
        /* A newer module SVN exists; an all-maximum SVN has nothing newer. */
        bad |= bad || svn == 255;
        bad |= bad || json_array_append_new(levels, qe_level_json((uint16_t)(svn + 1),
                                                                  TCB_DATE_NEWER, "UpToDate",
                                                                  NULL)) != 0;
        bad |= bad || json_array_append_new(levels, qe_level_json(svn, TCB_DATE_PLATFORM,
                                                                  "OutOfDate",
                                                                  ADV_OUT_OF_DATE)) != 0;
        break;
    case SIM_TCB_REVOKED:
        bad |= bad || json_array_append_new(levels, qe_level_json(svn, TCB_DATE_PLATFORM,
                                                                  "Revoked", ADV_REVOKED)) != 0;
        break;
    default:
        bad |= bad || json_array_append_new(levels, qe_level_json(svn, TCB_DATE_PLATFORM,
                                                                  "UpToDate", NULL)) != 0;
        break;
    }
    if (bad) {
        json_decref(levels);
        json_decref(ident);
        json_decref(arr);
        return NULL;
    }
    if (set_new(ident, "tcbLevels", levels) != 0 || json_array_append_new(arr, ident) != 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* The TD_QE enclave identity (Intel PCS API v4, "TD QE Identity"): the
 * simulated TD-QE's signer, ISVPRODID 2 and ISVSVN; attributes
 * INIT|PROVISIONKEY under Intel's mask FBFF..., which ignores MODE64BIT
 * (our TD-QE's flags masked give exactly 0x11). */
int sim_td_qe_identity_body(const sim_platform *p, time_t now, char **out)
{
    return identity_body(now, "TD_QE", p->tdqe_self.mr_signer, p->tdqe_self.isv_prod_id,
                         p->tcb.td_qe_svn, "11000000000000000000000000000000",
                         "FBFFFFFFFFFFFFFF0000000000000000", out);
}

/* ---- export ---- */

typedef struct {
    const char *dir;
    char *errbuf;
    size_t errcap;
} export_ctx;

static int export_err(export_ctx *x, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int export_err(export_ctx *x, int rc, const char *fmt, ...)
{
    if (x->errbuf != NULL && x->errcap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->errbuf, x->errcap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int write_file(export_ctx *x, const char *name, const void *data, size_t len)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", x->dir, name) >= sizeof path)
        return export_err(x, SIM_E_IO, "output path too long: %s/%s", x->dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return export_err(x, SIM_E_IO, "cannot create %s: %s", path, strerror(errno));
    const uint8_t *b = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, b + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = errno;
            close(fd);
            return export_err(x, SIM_E_IO, "cannot write %s: %s", path, strerror(saved));
        }
        done += (size_t)n;
    }
    if (close(fd) != 0)
        return export_err(x, SIM_E_IO, "cannot write %s: %s", path, strerror(errno));
    return SIM_OK;
}

static int write_str(export_ctx *x, const char *name, const char *s)
{
    return write_file(x, name, s, strlen(s));
}

/* {"tcbInfo":<body>,"signature":"<hex r‖s>"}: the body embedded verbatim,
 * so the signed bytes are a substring of the document (quote-format §6.5). */
static char *envelope(const char *key, const char *body, const char *sig_hex)
{
    size_t n = strlen(key) + strlen(body) + strlen(sig_hex) + 32;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "{\"%s\":%s,\"signature\":\"%s\"}", key, body, sig_hex);
    return s;
}

static char *concat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c != NULL ? strlen(c) : 0;
    char *s = malloc(la + lb + lc + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    if (c != NULL)
        memcpy(s + la + lb, c, lc);
    s[la + lb + lc] = '\0';
    return s;
}

/* RFC 6979, so collateral exported for the same `now` is byte-identical on
 * every node sharing the seed (docs/simulation.md). */
static int sign_hex(const sim_platform *p, const char *body, char hex[129])
{
    uint8_t sig[CRYPTO_P256_SIG_LEN];
    if (crypto_p256_sign_deterministic(p->tcb_key, body, strlen(body), sig) != 0)
        return SIM_E_CRYPTO;
    crypto_hex_encode(sig, sizeof sig, hex);
    return SIM_OK;
}

static char *hex_alloc(const uint8_t *b, size_t len)
{
    char *h = malloc(2 * len + 1);
    if (h != NULL)
        crypto_hex_encode(b, len, h);
    return h;
}

static int make_dir(export_ctx *x)
{
    char failed_at[PATH_MAX] = "";
    size_t n = strlen(x->dir);
    if (n == 0 || n >= sizeof failed_at)
        return export_err(x, SIM_E_IO, "invalid output directory '%s'", x->dir);
    if (sim_make_dirs(x->dir, 0755, failed_at) == 0)
        return SIM_OK;
    if (failed_at[0] != '\0')
        return export_err(x, SIM_E_IO, "cannot create directory %s: %s", failed_at,
                          strerror(errno));
    return export_err(x, SIM_E_IO, "%s is not a directory", x->dir);
}

static const char *expected_verdict(sim_tcb_status s)
{
    /* What @phala/dcap-qvl returns for this collateral (docs/simulation.md). */
    return s == SIM_TCB_REVOKED ? "rejected: TCB status Revoked" : sim_tcb_status_name(s);
}

static char *meta_json(const sim_platform *p, time_t now, const uint8_t root_sha[32], bool tdx)
{
    char fmspc[13], iso[21], sha[65];
    hex_upper(p->tcb.fmspc, 6, fmspc);
    time_format_iso8601(now, iso);
    crypto_hex_encode(root_sha, 32, sha);
    json_t *w = json_pack("{s:I, s:s, s:I, s:s, s:b}", "not_before",
                          (json_int_t)sim_issue_time(now),
                          "not_before_by", "tcbInfo.issueDate", "not_after",
                          (json_int_t)(now + SIM_COLLATERAL_LIFETIME), "not_after_by",
                          "tcbInfo.nextUpdate", "consistent", 1);
    json_t *m = json_pack(
        "{s:s, s:i, s:s, s:i, s:i, s:s, s:s, s:s, s:I, s:s, s:o, s:s, s:s, s:s, s:s}", "source",
        "sgx-quote-helper simulated platform (sgx-quote collateral export)", "quote_version",
        tdx ? 4 : 3, "tee_type", tdx ? "0x81" : "0x0", "cert_type_in_quote", tdx ? 6 : 5,
        "tcb_info_version", 3, "tcb_info_id", tdx ? "TDX" : "SGX",
        "fmspc", fmspc, "root_sha256", sha, "pinned_time", (json_int_t)now, "pinned_time_iso",
        iso, "validity_window", w, "instance", p->instance, "sim_tcb_status",
        sim_tcb_status_name(p->tcb.tcb_status), "expected_dcapqvl",
        expected_verdict(p->tcb.tcb_status), "notes",
        "simulated hierarchy, not for production; trust root.pem only for testing");
    if (m == NULL)
        return NULL;
    char *s = json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(m);
    return s;
}

void sim_collateral_set_free(sim_collateral_set *set)
{
    if (set == NULL)
        return;
    free(set->pck_crl_issuer_chain);
    free(set->root_ca_crl);
    free(set->pck_crl);
    free(set->tcb_info_issuer_chain);
    free(set->tcb_info);
    free(set->qe_identity_issuer_chain);
    free(set->qe_identity);
    memset(set, 0, sizeof *set);
}

/* Everything but the files: the signed documents, CRLs and chains, plus the
 * bare bodies and signatures collateral.json needs (when the caller asks). */
static int build_set(const sim_platform *p, bool tdx, time_t now, sim_collateral_set *set,
                     char **tcb_body_out, char **qe_body_out, char tcb_sig[129],
                     char qe_sig[129], char *errbuf, size_t errcap)
{
    export_ctx x = {.dir = "", .errbuf = errbuf, .errcap = errcap};
    char *tcb_body = NULL, *qe_body = NULL;
    x509_crl *root_crl = NULL, *pck_crl = NULL;
    int rc;

    memset(set, 0, sizeof *set);
    rc = tdx ? sim_tdx_tcb_info_body(p, now, &tcb_body) : sim_tcb_info_body(p, now, &tcb_body);
    if (rc != SIM_OK) {
        export_err(&x, rc, "cannot build TCB Info for status %s: %s",
                   sim_tcb_status_name(p->tcb.tcb_status), sim_strerror(rc));
        goto out;
    }
    rc = tdx ? sim_td_qe_identity_body(p, now, &qe_body) : sim_qe_identity_body(p, now, &qe_body);
    if (rc != SIM_OK) {
        export_err(&x, rc, "cannot build the %s identity: %s", tdx ? "TD_QE" : "QE",
                   sim_strerror(rc));
        goto out;
    }
    rc = SIM_E_CRYPTO;
    if (sign_hex(p, tcb_body, tcb_sig) != SIM_OK || sign_hex(p, qe_body, qe_sig) != SIM_OK ||
        sim_pki_root_crl(p, now, &root_crl) != SIM_OK ||
        sim_pki_pck_crl(p, now, &pck_crl) != SIM_OK ||
        x509_crl_to_der(root_crl, &set->root_ca_crl, &set->root_ca_crl_len) != 0 ||
        x509_crl_to_der(pck_crl, &set->pck_crl, &set->pck_crl_len) != 0) {
        export_err(&x, rc, "signing the simulated collateral failed");
        goto out;
    }
    rc = SIM_E_IO; /* the rest can only fail on memory */
    set->tcb_info = envelope("tcbInfo", tcb_body, tcb_sig);
    set->qe_identity = envelope("enclaveIdentity", qe_body, qe_sig);
    set->tcb_info_issuer_chain = concat3(p->tcb_pem, p->root_pem, NULL);
    set->qe_identity_issuer_chain = concat3(p->tcb_pem, p->root_pem, NULL);
    set->pck_crl_issuer_chain = concat3(p->ca_pem, p->root_pem, NULL);
    if (set->tcb_info == NULL || set->qe_identity == NULL || set->tcb_info_issuer_chain == NULL ||
        set->qe_identity_issuer_chain == NULL || set->pck_crl_issuer_chain == NULL) {
        export_err(&x, rc, "out of memory while exporting collateral");
        goto out;
    }
    rc = SIM_OK;
out:
    if (rc == SIM_OK && tcb_body_out != NULL) {
        *tcb_body_out = tcb_body;
        tcb_body = NULL;
    }
    if (rc == SIM_OK && qe_body_out != NULL) {
        *qe_body_out = qe_body;
        qe_body = NULL;
    }
    if (rc != SIM_OK)
        sim_collateral_set_free(set);
    free(tcb_body);
    free(qe_body);
    x509_crl_free(root_crl);
    x509_crl_free(pck_crl);
    return rc;
}

int sim_collateral_build(const sim_platform *p, bool tdx, time_t now, sim_collateral_set *out)
{
    char tcb_sig[129], qe_sig[129];
    if (p == NULL || out == NULL)
        return SIM_E_INVALID_ARG;
    if (now == 0)
        now = p->now_fixed != 0 ? p->now_fixed : time(NULL);
    return build_set(p, tdx, now, out, NULL, NULL, tcb_sig, qe_sig, NULL, 0);
}

static int export_set(const sim_platform *p, bool tdx, const char *dir, char *errbuf,
                      size_t errcap)
{
    export_ctx x = {.dir = dir, .errbuf = errbuf, .errcap = errcap};
    time_t now = p != NULL && p->now_fixed != 0 ? p->now_fixed : time(NULL);
    sim_collateral_set set = {0};
    char *tcb_body = NULL, *qe_body = NULL, *pck_chain = NULL;
    char *root_crl_hex = NULL, *pck_crl_hex = NULL, *meta = NULL, *coll_text = NULL;
    json_t *coll = NULL;
    char tcb_sig[129], qe_sig[129];
    uint8_t root_sha[32];
    int rc;

    if (errbuf != NULL && errcap > 0)
        errbuf[0] = '\0';
    if (p == NULL || dir == NULL)
        return SIM_E_INVALID_ARG;
    if ((rc = make_dir(&x)) != SIM_OK)
        goto out;
    if ((rc = build_set(p, tdx, now, &set, &tcb_body, &qe_body, tcb_sig, qe_sig, errbuf,
                        errcap)) != SIM_OK)
        goto out;
    if (x509_cert_sha256(p->root, root_sha) != 0) {
        rc = export_err(&x, SIM_E_CRYPTO, "hashing the simulated root failed");
        goto out;
    }
    rc = SIM_E_IO; /* the rest can only fail on memory */
    pck_chain = concat3(p->pck_pem, p->ca_pem, p->root_pem);
    root_crl_hex = hex_alloc(set.root_ca_crl, set.root_ca_crl_len);
    pck_crl_hex = hex_alloc(set.pck_crl, set.pck_crl_len);
    meta = meta_json(p, now, root_sha, tdx);
    if (pck_chain == NULL || root_crl_hex == NULL || pck_crl_hex == NULL || meta == NULL) {
        export_err(&x, rc, "out of memory while exporting collateral");
        goto out;
    }
    /* dcap-qvl QuoteCollateralV3 (quote-format §6.1): CRLs and signatures
     * as hex, tcb_info / qe_identity as the exact signed body text. */
    coll = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "pck_crl_issuer_chain",
                     set.pck_crl_issuer_chain, "root_ca_crl", root_crl_hex, "pck_crl",
                     pck_crl_hex, "tcb_info_issuer_chain", set.tcb_info_issuer_chain,
                     "tcb_info", tcb_body, "tcb_info_signature", tcb_sig,
                     "qe_identity_issuer_chain", set.qe_identity_issuer_chain, "qe_identity",
                     qe_body, "qe_identity_signature", qe_sig);
    coll_text = coll != NULL ? json_dumps(coll, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    if (coll_text == NULL) {
        export_err(&x, rc, "out of memory while exporting collateral");
        goto out;
    }

    if ((rc = write_str(&x, "pck_chain.pem", pck_chain)) != SIM_OK ||
        (rc = write_str(&x, "tcb_info.json", set.tcb_info)) != SIM_OK ||
        (rc = write_str(&x, "tcb_chain.pem", set.tcb_info_issuer_chain)) != SIM_OK ||
        (rc = write_str(&x, "qe_identity.json", set.qe_identity)) != SIM_OK ||
        (rc = write_str(&x, "qe_chain.pem", set.qe_identity_issuer_chain)) != SIM_OK ||
        (rc = write_file(&x, "root_ca_crl.der", set.root_ca_crl, set.root_ca_crl_len)) !=
            SIM_OK ||
        (rc = write_file(&x, "pck_crl.der", set.pck_crl, set.pck_crl_len)) != SIM_OK ||
        (rc = write_str(&x, "pck_crl_chain.pem", set.pck_crl_issuer_chain)) != SIM_OK ||
        (rc = write_str(&x, "root.pem", p->root_pem)) != SIM_OK ||
        (rc = write_str(&x, "collateral.json", coll_text)) != SIM_OK ||
        (rc = write_str(&x, "meta.json", meta)) != SIM_OK)
        goto out;
    rc = SIM_OK;
out:
    sim_collateral_set_free(&set);
    free(tcb_body);
    free(qe_body);
    free(pck_chain);
    free(root_crl_hex);
    free(pck_crl_hex);
    free(meta);
    free(coll_text);
    json_decref(coll);
    return rc;
}

int sim_collateral_export(const sim_platform *p, const char *dir, char *errbuf, size_t errcap)
{
    return export_set(p, false, dir, errbuf, errcap);
}

int sim_collateral_export_tdx(const sim_platform *p, const char *dir, char *errbuf,
                              size_t errcap)
{
    return export_set(p, true, dir, errbuf, errcap);
}
