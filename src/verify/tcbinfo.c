/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collateral bodies → structs: TCB info v2/v3 (quote-format §6.2) and QE
 * identity v2 (§6.4), parsed from the exact signed bytes with jansson
 * (duplicate keys rejected, so what we read is unambiguously what was
 * signed). Also the pure decision functions on top of them: TCB level
 * matching (§6.3) and QVL's status convergence (§7.5). verify.c calls these
 * after the body's signature has been checked.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "verify_internal.h"

void vfmt(char *buf, size_t cap, const char *fmt, ...)
{
    if (buf == NULL || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0)
        buf[0] = '\0';
}

bool hex_exact(const char *s, size_t slen, uint8_t *out, size_t n)
{
    if (s == NULL || slen != 2 * n)
        return false;
    size_t got = 0;
    return crypto_hex_decode(s, slen, out, n, &got) == 0 && got == n;
}

static const char *const TCB_STATUS_NAMES[VERIFY_TCB__COUNT] = {
    [VERIFY_TCB_NONE] = "",
    [VERIFY_TCB_UP_TO_DATE] = "UpToDate",
    [VERIFY_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [VERIFY_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [VERIFY_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [VERIFY_TCB_OUT_OF_DATE] = "OutOfDate",
    [VERIFY_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [VERIFY_TCB_REVOKED] = "Revoked",
};

const char *verify_tcb_status_name(verify_tcb_status s)
{
    if ((unsigned)s >= VERIFY_TCB__COUNT)
        return "";
    return TCB_STATUS_NAMES[s];
}

int verify_tcb_status_parse(const char *name, verify_tcb_status *out)
{
    if (name == NULL || out == NULL)
        return VERIFY_E_INVALID_ARG;
    for (int s = VERIFY_TCB_UP_TO_DATE; s < VERIFY_TCB__COUNT; s++) {
        if (strcmp(name, TCB_STATUS_NAMES[s]) == 0) {
            *out = (verify_tcb_status)s;
            return VERIFY_OK;
        }
    }
    return VERIFY_E_FORMAT;
}

/* ---- jansson helpers: every one fills err with the field's name ---- */

static int get_obj(json_t *o, const char *key, json_t **out, char *err, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_object(v)) {
        vfmt(err, cap, "\"%s\" is missing or not an object", key);
        return VERIFY_E_FORMAT;
    }
    *out = v;
    return 0;
}

static int get_array(json_t *o, const char *key, size_t max, json_t **out, char *err, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_array(v)) {
        vfmt(err, cap, "\"%s\" is missing or not an array", key);
        return VERIFY_E_FORMAT;
    }
    if (json_array_size(v) > max) {
        vfmt(err, cap, "\"%s\" has %zu entries (limit %zu)", key, json_array_size(v), max);
        return VERIFY_E_FORMAT;
    }
    *out = v;
    return 0;
}

static int get_uint(json_t *o, const char *key, json_int_t max, json_int_t *out, char *err,
                    size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
        vfmt(err, cap, "\"%s\" is missing or not an integer in 0..%lld", key, (long long)max);
        return VERIFY_E_FORMAT;
    }
    *out = json_integer_value(v);
    return 0;
}

static int get_str(json_t *o, const char *key, const char **s, size_t *len, char *err, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) {
        vfmt(err, cap, "\"%s\" is missing or not a string", key);
        return VERIFY_E_FORMAT;
    }
    *s = json_string_value(v);
    *len = json_string_length(v);
    return 0;
}

static int get_hex(json_t *o, const char *key, uint8_t *out, size_t n, char *err, size_t cap)
{
    const char *s;
    size_t len;
    int rc = get_str(o, key, &s, &len, err, cap);
    if (rc != 0)
        return rc;
    if (!hex_exact(s, len, out, n)) {
        vfmt(err, cap, "\"%s\" is not %zu hex characters", key, 2 * n);
        return VERIFY_E_FORMAT;
    }
    return 0;
}

static int get_date(json_t *o, const char *key, int64_t *out, char *err, size_t cap)
{
    const char *s;
    size_t len;
    int rc = get_str(o, key, &s, &len, err, cap);
    if (rc != 0)
        return rc;
    time_t t;
    if (len != 20 || time_parse_iso8601(s, &t) != 0) {
        vfmt(err, cap, "\"%s\" is not a YYYY-MM-DDThh:mm:ssZ date", key);
        return VERIFY_E_FORMAT;
    }
    *out = (int64_t)t;
    return 0;
}

static int get_status(json_t *o, verify_tcb_status *out, char *err, size_t cap)
{
    const char *s;
    size_t len;
    int rc = get_str(o, "tcbStatus", &s, &len, err, cap);
    if (rc != 0)
        return rc;
    if (verify_tcb_status_parse(s, out) != 0) {
        vfmt(err, cap, "unrecognised tcbStatus \"%.40s\"", s);
        return VERIFY_E_FORMAT;
    }
    return 0;
}

static int get_advisories(json_t *o, advisory_list *adv, char *err, size_t cap)
{
    adv->n = 0;
    json_t *a = json_object_get(o, "advisoryIDs");
    if (a == NULL)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > LEVEL_MAX_ADVISORIES) {
        vfmt(err, cap, "\"advisoryIDs\" is not an array of at most %d strings",
             LEVEL_MAX_ADVISORIES);
        return VERIFY_E_FORMAT;
    }
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) >= VERIFY_ADVISORY_ID_MAX) {
            vfmt(err, cap, "advisory id %zu is not a short string", i);
            return VERIFY_E_FORMAT;
        }
        memcpy(adv->id[adv->n], json_string_value(v), json_string_length(v) + 1);
        adv->n++;
    }
    return 0;
}

static int parse_isvsvn_levels(json_t *o, isvsvn_level **out, size_t *n_out, char *err,
                               size_t cap)
{
    json_t *arr;
    int rc = get_array(o, "tcbLevels", ISVSVN_MAX_LEVELS, &arr, err, cap);
    if (rc != 0)
        return rc;
    size_t n = json_array_size(arr);
    if (n == 0) {
        vfmt(err, cap, "\"tcbLevels\" is empty");
        return VERIFY_E_FORMAT;
    }
    isvsvn_level *levels = calloc(n, sizeof *levels);
    if (levels == NULL)
        return VERIFY_E_NOMEM;
    size_t i;
    json_t *lv;
    json_array_foreach(arr, i, lv) {
        json_t *tcb;
        json_int_t svn;
        if (!json_is_object(lv)) {
            vfmt(err, cap, "tcbLevels[%zu] is not an object", i);
            rc = VERIFY_E_FORMAT;
            goto out;
        }
        if ((rc = get_obj(lv, "tcb", &tcb, err, cap)) != 0 ||
            (rc = get_uint(tcb, "isvsvn", 0xffff, &svn, err, cap)) != 0 ||
            (rc = get_date(lv, "tcbDate", &levels[i].tcb_date, err, cap)) != 0 ||
            (rc = get_status(lv, &levels[i].status, err, cap)) != 0 ||
            (rc = get_advisories(lv, &levels[i].adv, err, cap)) != 0)
            goto out;
        levels[i].isvsvn = (uint16_t)svn;
    }
    *out = levels;
    *n_out = n;
    levels = NULL;
out:
    free(levels);
    return rc;
}

/* ---- TCB info ---- */

static const char *const V2_COMP_KEYS[TCB_COMPONENTS] = {
    "sgxtcbcomp01svn", "sgxtcbcomp02svn", "sgxtcbcomp03svn", "sgxtcbcomp04svn",
    "sgxtcbcomp05svn", "sgxtcbcomp06svn", "sgxtcbcomp07svn", "sgxtcbcomp08svn",
    "sgxtcbcomp09svn", "sgxtcbcomp10svn", "sgxtcbcomp11svn", "sgxtcbcomp12svn",
    "sgxtcbcomp13svn", "sgxtcbcomp14svn", "sgxtcbcomp15svn", "sgxtcbcomp16svn",
};

static int parse_components(json_t *tcb, const char *key, uint8_t comp[16], char *err, size_t cap)
{
    json_t *arr;
    int rc = get_array(tcb, key, TCB_COMPONENTS, &arr, err, cap);
    if (rc != 0)
        return rc;
    if (json_array_size(arr) != TCB_COMPONENTS) {
        vfmt(err, cap, "\"%s\" must have exactly 16 entries", key);
        return VERIFY_E_FORMAT;
    }
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        json_int_t svn;
        if (!json_is_object(c) || get_uint(c, "svn", 255, &svn, err, cap) != 0) {
            vfmt(err, cap, "\"%s\"[%zu] has no svn in 0..255", key, i);
            return VERIFY_E_FORMAT;
        }
        comp[i] = (uint8_t)svn;
    }
    return 0;
}

static int parse_tcb_level(json_t *lv, const tcb_info *t, tcb_level *out, char *err, size_t cap)
{
    json_t *tcb;
    json_int_t v;
    int rc;
    if (!json_is_object(lv)) {
        vfmt(err, cap, "a tcbLevels entry is not an object");
        return VERIFY_E_FORMAT;
    }
    if ((rc = get_obj(lv, "tcb", &tcb, err, cap)) != 0)
        return rc;
    if (t->version == 2) {
        for (size_t i = 0; i < TCB_COMPONENTS; i++) {
            if ((rc = get_uint(tcb, V2_COMP_KEYS[i], 255, &v, err, cap)) != 0)
                return rc;
            out->sgx_comp[i] = (uint8_t)v;
        }
    } else {
        if ((rc = parse_components(tcb, "sgxtcbcomponents", out->sgx_comp, err, cap)) != 0)
            return rc;
        if (strcmp(t->id, "TDX") == 0) {
            if ((rc = parse_components(tcb, "tdxtcbcomponents", out->tdx_comp, err, cap)) != 0)
                return rc;
            out->has_tdx = true;
        }
    }
    if ((rc = get_uint(tcb, "pcesvn", 0xffff, &v, err, cap)) != 0)
        return rc;
    out->pcesvn = (uint16_t)v;
    if ((rc = get_date(lv, "tcbDate", &out->tcb_date, err, cap)) != 0 ||
        (rc = get_status(lv, &out->status, err, cap)) != 0 ||
        (rc = get_advisories(lv, &out->adv, err, cap)) != 0)
        return rc;
    return 0;
}

/* §6.3 step 1: QVL's order, highest first: SGX components as a vector, then
 * PCESVN, then (TDX) the TDX components. */
static int tcb_level_cmp_desc(const void *a, const void *b)
{
    const tcb_level *x = a, *y = b;
    int c = memcmp(y->sgx_comp, x->sgx_comp, TCB_COMPONENTS);
    if (c != 0)
        return c;
    if (x->pcesvn != y->pcesvn)
        return x->pcesvn < y->pcesvn ? 1 : -1;
    return memcmp(y->tdx_comp, x->tdx_comp, TCB_COMPONENTS);
}

static int parse_tdx_module(json_t *info, tcb_info *t, char *err, size_t cap)
{
    json_t *m = json_object_get(info, "tdxModule");
    int rc;
    if (m != NULL) {
        if (!json_is_object(m)) {
            vfmt(err, cap, "\"tdxModule\" is not an object");
            return VERIFY_E_FORMAT;
        }
        if ((rc = get_hex(m, "mrsigner", t->tdx_mrsigner, TDX_MRSIGNER_LEN, err, cap)) != 0 ||
            (rc = get_hex(m, "attributes", t->tdx_attributes, TDX_ATTRIBUTES_LEN, err, cap)) != 0 ||
            (rc = get_hex(m, "attributesMask", t->tdx_attributes_mask, TDX_ATTRIBUTES_LEN, err,
                          cap)) != 0)
            return rc;
        t->has_tdx_module = true;
    }
    json_t *ids = json_object_get(info, "tdxModuleIdentities");
    if (ids == NULL)
        return 0;
    if (!json_is_array(ids) || json_array_size(ids) > TCBINFO_MAX_MODULE_IDENTITIES) {
        vfmt(err, cap, "\"tdxModuleIdentities\" is not an array of at most %d entries",
             TCBINFO_MAX_MODULE_IDENTITIES);
        return VERIFY_E_FORMAT;
    }
    t->module_ids = calloc(json_array_size(ids) + 1, sizeof *t->module_ids);
    if (t->module_ids == NULL)
        return VERIFY_E_NOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(ids, i, e) {
        tdx_module_identity *mi = &t->module_ids[i];
        const char *id;
        size_t idlen;
        if (!json_is_object(e)) {
            vfmt(err, cap, "tdxModuleIdentities[%zu] is not an object", i);
            return VERIFY_E_FORMAT;
        }
        if ((rc = get_str(e, "id", &id, &idlen, err, cap)) != 0)
            return rc;
        if (idlen == 0 || idlen >= sizeof mi->id) {
            vfmt(err, cap, "tdxModuleIdentities[%zu].id is not a short string", i);
            return VERIFY_E_FORMAT;
        }
        memcpy(mi->id, id, idlen + 1);
        if ((rc = get_hex(e, "mrsigner", mi->mrsigner, TDX_MRSIGNER_LEN, err, cap)) != 0 ||
            (rc = get_hex(e, "attributes", mi->attributes, TDX_ATTRIBUTES_LEN, err, cap)) != 0 ||
            (rc = get_hex(e, "attributesMask", mi->attributes_mask, TDX_ATTRIBUTES_LEN, err,
                          cap)) != 0)
            return rc;
        t->n_module_ids = i + 1; /* so tcb_info_free frees the levels parsed so far */
        if ((rc = parse_isvsvn_levels(e, &mi->levels, &mi->n_levels, err, cap)) != 0)
            return rc;
    }
    t->n_module_ids = json_array_size(ids);
    return 0;
}

void tcb_info_free(tcb_info *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_module_ids; i++)
        free(t->module_ids[i].levels);
    free(t->module_ids);
    free(t->levels);
    memset(t, 0, sizeof *t);
}

int tcb_info_parse(const char *body, size_t len, tcb_info *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (body == NULL || len == 0 || len > VERIFY_COLLATERAL_ITEM_MAX) {
        vfmt(err, cap, "TCB info is empty or too large");
        return VERIFY_E_FORMAT;
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = VERIFY_E_FORMAT;
    json_int_t v;
    json_t *arr;
    if (root == NULL) {
        vfmt(err, cap, "TCB info is not JSON: %s (offset %d)", jerr.text, jerr.position);
        goto out;
    }
    if (!json_is_object(root)) {
        vfmt(err, cap, "TCB info is not a JSON object");
        goto out;
    }
    if ((rc = get_uint(root, "version", 1000, &v, err, cap)) != 0)
        goto out;
    if (v != 2 && v != 3) {
        vfmt(err, cap, "TCB info version %lld is not supported (2 or 3)", (long long)v);
        rc = VERIFY_E_FORMAT;
        goto out;
    }
    out->version = (int)v;
    if (out->version == 3) {
        const char *id;
        size_t idlen;
        if ((rc = get_str(root, "id", &id, &idlen, err, cap)) != 0)
            goto out;
        if (strcmp(id, "SGX") != 0 && strcmp(id, "TDX") != 0) {
            vfmt(err, cap, "TCB info id \"%.16s\" is neither SGX nor TDX", id);
            rc = VERIFY_E_FORMAT;
            goto out;
        }
        memcpy(out->id, id, idlen + 1);
        out->has_id = true;
    } else {
        strcpy(out->id, "SGX"); /* v2 predates TDX */
    }
    if ((rc = get_date(root, "issueDate", &out->issue_date, err, cap)) != 0 ||
        (rc = get_date(root, "nextUpdate", &out->next_update, err, cap)) != 0 ||
        (rc = get_hex(root, "fmspc", out->fmspc, sizeof out->fmspc, err, cap)) != 0 ||
        (rc = get_hex(root, "pceId", out->pceid, sizeof out->pceid, err, cap)) != 0 ||
        (rc = get_uint(root, "tcbType", 0xffff, &v, err, cap)) != 0)
        goto out;
    out->tcb_type = (uint32_t)v;
    if (out->tcb_type != 0) {
        vfmt(err, cap, "tcbType %u is not supported (0)", out->tcb_type);
        rc = VERIFY_E_FORMAT;
        goto out;
    }
    if ((rc = get_uint(root, "tcbEvaluationDataNumber", 0xffffffffLL, &v, err, cap)) != 0)
        goto out;
    out->eval_number = (uint32_t)v;
    if (strcmp(out->id, "TDX") == 0) {
        if ((rc = parse_tdx_module(root, out, err, cap)) != 0)
            goto out;
    } else if (json_object_get(root, "tdxModule") != NULL ||
               json_object_get(root, "tdxModuleIdentities") != NULL) {
        vfmt(err, cap, "SGX TCB info carries TDX module fields");
        rc = VERIFY_E_FORMAT;
        goto out;
    }
    if ((rc = get_array(root, "tcbLevels", TCBINFO_MAX_LEVELS, &arr, err, cap)) != 0)
        goto out;
    out->n_levels = json_array_size(arr);
    if (out->n_levels == 0) {
        vfmt(err, cap, "\"tcbLevels\" is empty");
        rc = VERIFY_E_FORMAT;
        goto out;
    }
    out->levels = calloc(out->n_levels, sizeof *out->levels);
    if (out->levels == NULL) {
        rc = VERIFY_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < out->n_levels; i++) {
        if ((rc = parse_tcb_level(json_array_get(arr, i), out, &out->levels[i], err, cap)) != 0)
            goto out;
    }
    qsort(out->levels, out->n_levels, sizeof *out->levels, tcb_level_cmp_desc);
    for (size_t i = 1; i < out->n_levels; i++) {
        if (tcb_level_cmp_desc(&out->levels[i - 1], &out->levels[i]) == 0) {
            vfmt(err, cap, "\"tcbLevels\" lists the same TCB twice");
            rc = VERIFY_E_FORMAT;
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        tcb_info_free(out);
    return rc;
}

/* ---- QE identity ---- */

void qe_identity_free(qe_identity *q)
{
    if (q == NULL)
        return;
    free(q->levels);
    memset(q, 0, sizeof *q);
}

int qe_identity_parse(const char *body, size_t len, qe_identity *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (body == NULL || len == 0 || len > VERIFY_COLLATERAL_ITEM_MAX) {
        vfmt(err, cap, "QE identity is empty or too large");
        return VERIFY_E_FORMAT;
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = VERIFY_E_FORMAT;
    json_int_t v;
    const char *id;
    size_t idlen;
    if (root == NULL) {
        vfmt(err, cap, "QE identity is not JSON: %s (offset %d)", jerr.text, jerr.position);
        goto out;
    }
    if (!json_is_object(root)) {
        vfmt(err, cap, "QE identity is not a JSON object");
        goto out;
    }
    if ((rc = get_str(root, "id", &id, &idlen, err, cap)) != 0)
        goto out;
    if (idlen == 0 || idlen >= sizeof out->id) {
        vfmt(err, cap, "QE identity id is not a short string");
        rc = VERIFY_E_FORMAT;
        goto out;
    }
    memcpy(out->id, id, idlen + 1);
    if ((rc = get_uint(root, "version", 1000, &v, err, cap)) != 0)
        goto out;
    if (v != 2 && v != 3) {
        vfmt(err, cap, "QE identity version %lld is not supported (2)", (long long)v);
        rc = VERIFY_E_FORMAT;
        goto out;
    }
    out->version = (int)v;
    if ((rc = get_date(root, "issueDate", &out->issue_date, err, cap)) != 0 ||
        (rc = get_date(root, "nextUpdate", &out->next_update, err, cap)) != 0 ||
        (rc = get_uint(root, "tcbEvaluationDataNumber", 0xffffffffLL, &v, err, cap)) != 0)
        goto out;
    out->eval_number = (uint32_t)v;
    if ((rc = get_hex(root, "miscselect", out->miscselect, 4, err, cap)) != 0 ||
        (rc = get_hex(root, "miscselectMask", out->miscselect_mask, 4, err, cap)) != 0 ||
        (rc = get_hex(root, "attributes", out->attributes, 16, err, cap)) != 0 ||
        (rc = get_hex(root, "attributesMask", out->attributes_mask, 16, err, cap)) != 0 ||
        (rc = get_hex(root, "mrsigner", out->mrsigner, 32, err, cap)) != 0 ||
        (rc = get_uint(root, "isvprodid", 0xffff, &v, err, cap)) != 0)
        goto out;
    out->isvprodid = (uint16_t)v;
    rc = parse_isvsvn_levels(root, &out->levels, &out->n_levels, err, cap);
out:
    json_decref(root);
    if (rc != 0)
        qe_identity_free(out);
    return rc;
}

/* ---- Decisions ---- */

static bool comps_reach(const uint8_t have[16], const uint8_t need[16], size_t from)
{
    for (size_t i = from; i < TCB_COMPONENTS; i++) {
        if (have[i] < need[i])
            return false;
    }
    return true;
}

int tcb_info_match_sgx(const tcb_info *t, const uint8_t comp[16], uint16_t pcesvn)
{
    for (size_t i = 0; i < t->n_levels; i++) {
        if (comps_reach(comp, t->levels[i].sgx_comp, 0) && pcesvn >= t->levels[i].pcesvn)
            return (int)i;
    }
    return -1;
}

void tcb_info_match_tdx(const tcb_info *t, const uint8_t comp[16], uint16_t pcesvn,
                        const uint8_t tee_tcb_svn[16], int *sgx_index, int *tdx_index)
{
    *sgx_index = -1;
    *tdx_index = -1;
    /* With a TDX module version (byte 1) the first two bytes are the module's
     * own SVN and version, judged by the module identity instead (QVL). */
    size_t from = tee_tcb_svn[1] > 0 ? 2 : 0;
    for (size_t i = 0; i < t->n_levels; i++) {
        const tcb_level *l = &t->levels[i];
        if (!comps_reach(comp, l->sgx_comp, 0) || pcesvn < l->pcesvn)
            continue;
        if (*sgx_index < 0)
            *sgx_index = (int)i;
        if (l->has_tdx && comps_reach(tee_tcb_svn, l->tdx_comp, from)) {
            *tdx_index = (int)i;
            return;
        }
    }
}

int isvsvn_match(const isvsvn_level *levels, size_t n, uint16_t isvsvn)
{
    for (size_t i = 0; i < n; i++) {
        if (levels[i].isvsvn <= isvsvn)
            return (int)i;
    }
    return -1;
}

verify_tcb_status converge_with_qe(verify_tcb_status platform, verify_tcb_status qe_status)
{
    bool qe_out_of_date = qe_status != VERIFY_TCB_UP_TO_DATE && qe_status != VERIFY_TCB_REVOKED;
    if (qe_out_of_date) {
        if (platform == VERIFY_TCB_UP_TO_DATE || platform == VERIFY_TCB_SW_HARDENING_NEEDED)
            return VERIFY_TCB_OUT_OF_DATE;
        if (platform == VERIFY_TCB_CONFIGURATION_NEEDED ||
            platform == VERIFY_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
            return VERIFY_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
    if (qe_status == VERIFY_TCB_REVOKED)
        return VERIFY_TCB_REVOKED;
    return platform;
}

verify_tcb_status converge_with_tdx_module(verify_tcb_status tdx_level,
                                           verify_tcb_status module_status)
{
    if (module_status == VERIFY_TCB_OUT_OF_DATE) {
        if (tdx_level == VERIFY_TCB_UP_TO_DATE || tdx_level == VERIFY_TCB_SW_HARDENING_NEEDED)
            return VERIFY_TCB_OUT_OF_DATE;
        if (tdx_level == VERIFY_TCB_CONFIGURATION_NEEDED ||
            tdx_level == VERIFY_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
            return VERIFY_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
    if (module_status == VERIFY_TCB_REVOKED)
        return VERIFY_TCB_REVOKED;
    return tdx_level;
}
