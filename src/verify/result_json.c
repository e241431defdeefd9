/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify_result → the stable `--json` document (schema "sgx-quote-verify/1",
 * documented field by field in docs/verify.md). Built with jansson so every
 * string is escaped correctly; fields are only ever added, never renamed.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "verify_internal.h"

#define SCHEMA_NAME "sgx-quote-verify/1"

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 1];
    if (n > 64)
        return json_null();
    crypto_hex_encode(p, n, buf);
    return json_string(buf);
}

/* Details quote certificate names, which come from untrusted input: keep
 * the output printable ASCII whatever they contain. */
static json_t *text_json(const char *s)
{
    char buf[2 * VERIFY_DETAIL_MAX];
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < sizeof buf; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[i] = '\0';
    return json_string(buf);
}

static json_t *time_json(int64_t t)
{
    if (t == 0)
        return json_null();
    char buf[21];
    time_format_iso8601((time_t)t, buf);
    return json_string(buf);
}

static json_t *status_json(verify_tcb_status s)
{
    return s == VERIFY_TCB_NONE ? json_null() : json_string(verify_tcb_status_name(s));
}

/* json_object_set_new that tolerates a NULL value (allocation failure):
 * the caller checks the final document instead of every field. */
static void put(json_t *o, const char *k, json_t *v)
{
    if (o != NULL && v != NULL)
        json_object_set_new(o, k, v);
    else
        json_decref(v);
}

static json_t *identity_json(const verify_identity *id)
{
    json_t *o = json_object();
    if (!id->is_td) {
        char attr[33];
        uint8_t a[16];
        for (size_t i = 0; i < 8; i++) {
            a[i] = (uint8_t)(id->attributes_flags >> (8 * i));
            a[8 + i] = (uint8_t)(id->attributes_xfrm >> (8 * i));
        }
        crypto_hex_encode(a, 16, attr);
        put(o, "type", json_string("sgx-enclave"));
        put(o, "mrenclave", hex_json(id->mr_enclave, 32));
        put(o, "mrsigner", hex_json(id->mr_signer, 32));
        put(o, "isv_prod_id", json_integer(id->isv_prod_id));
        put(o, "isv_svn", json_integer(id->isv_svn));
        put(o, "attributes", json_string(attr));
        put(o, "misc_select", json_integer(id->misc_select));
    } else {
        put(o, "type", json_string("td"));
        put(o, "mr_td", hex_json(id->mr_td, 48));
        put(o, "mr_seam", hex_json(id->mr_seam, 48));
        put(o, "mr_signer_seam", hex_json(id->mr_signer_seam, 48));
        put(o, "td_attributes", hex_json(id->td_attributes, 8));
        put(o, "xfam", hex_json(id->xfam, 8));
        put(o, "tee_tcb_svn", hex_json(id->tee_tcb_svn, 16));
        json_t *rtmr = json_array();
        for (size_t i = 0; i < 4; i++)
            json_array_append_new(rtmr, hex_json(id->rtmr[i], 48));
        put(o, "rtmr", rtmr);
    }
    put(o, "debug", json_boolean(id->debug));
    put(o, "report_data", hex_json(id->report_data, 64));
    return o;
}

char *verify_result_to_json(const verify_result *res, bool pretty)
{
    if (res == NULL)
        return NULL;
    json_t *o = json_object();
    put(o, "schema", json_string(SCHEMA_NAME));
    put(o, "verdict", json_string(verify_verdict_name(res->verdict)));
    put(o, "ok", json_boolean(res->verdict == VERIFY_VERDICT_OK));
    put(o, "failed_check", res->verdict == VERIFY_VERDICT_OK
                               ? json_null()
                               : json_string(verify_check_name(res->failed_check)));
    put(o, "reason", text_json(res->reason));
    put(o, "hint", text_json(res->hint));
    put(o, "checked_at", json_integer(res->checked_at));
    put(o, "checked_at_iso", time_json(res->checked_at));

    json_t *q = json_object();
    put(q, "version", json_integer(res->quote_version));
    put(q, "tee", json_string(res->tee_type == 0x81 ? "TDX" : res->tee_type == 0 ? "SGX" : "unknown"));
    put(q, "cert_data_type", json_integer(res->cert_type));
    put(o, "quote", q);

    put(o, "status", status_json(res->status));
    put(o, "platform_status", status_json(res->platform_status));
    put(o, "qe_status", status_json(res->qe_status));
    put(o, "tdx_module_status", status_json(res->tdx_module_status));
    json_t *adv = json_array();
    for (size_t i = 0; i < res->n_advisories; i++)
        json_array_append_new(adv, text_json(res->advisories[i]));
    put(o, "advisory_ids", adv);
    put(o, "tcb_date", time_json(res->tcb_date));
    put(o, "platform_tcb_date", time_json(res->platform_tcb_date));
    put(o, "qe_tcb_date", time_json(res->qe_tcb_date));
    put(o, "tcb_evaluation_data_number",
        res->tcb_eval_number != 0 ? json_integer(res->tcb_eval_number) : json_null());

    if (res->have_pck) {
        json_t *p = json_object();
        json_t *comps = json_array();
        for (size_t i = 0; i < 16; i++)
            json_array_append_new(comps, json_integer(res->pck_comp_svn[i]));
        put(p, "fmspc", hex_json(res->fmspc, 6));
        put(p, "pce_id", hex_json(res->pceid, 2));
        put(p, "tcb_components", comps);
        put(p, "pce_svn", json_integer(res->pck_pcesvn));
        put(o, "platform", p);
    } else {
        put(o, "platform", json_null());
    }

    json_t *c = json_object();
    put(c, "earliest_issue", res->have_dates ? time_json(res->earliest_issue) : json_null());
    put(c, "latest_issue", res->have_dates ? time_json(res->latest_issue) : json_null());
    put(c, "earliest_expiration",
        res->have_dates ? time_json(res->earliest_expiration) : json_null());
    put(c, "earliest_expiring_item",
        res->have_dates ? text_json(res->earliest_expiring_item) : json_null());
    json_t *issues = json_array();
    for (size_t i = 0; i < res->n_time_issues; i++) {
        const verify_time_issue *ti = &res->time_issues[i];
        json_t *e = json_object();
        put(e, "item", text_json(ti->item));
        put(e, "problem", json_string(ti->not_yet_valid ? "not-yet-valid" : "expired"));
        put(e, "time", time_json(ti->time));
        put(e, "time_unix", json_integer(ti->time));
        json_array_append_new(issues, e);
    }
    put(c, "time_issues", issues);
    put(o, "collateral", c);

    json_t *checks = json_array();
    for (int i = 0; i < VERIFY_CHECK__COUNT; i++) {
        json_t *e = json_object();
        put(e, "name", json_string(verify_check_name((verify_check_id)i)));
        put(e, "outcome", json_string(verify_outcome_name(res->checks[i].outcome)));
        put(e, "detail", text_json(res->checks[i].detail));
        put(e, "hint", text_json(res->checks[i].hint));
        json_array_append_new(checks, e);
    }
    put(o, "checks", checks);
    put(o, "enclave", res->have_identity ? identity_json(&res->identity) : json_null());

    char *out = o != NULL ? json_dumps(o, pretty ? JSON_INDENT(2) | JSON_PRESERVE_ORDER
                                                 : JSON_COMPACT | JSON_PRESERVE_ORDER)
                          : NULL;
    json_decref(o);
    return out;
}
