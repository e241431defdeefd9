/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collateral from a PCCS or Intel PCS, API v4 (Intel's "PCK Certificate and
 * Certificate Revocation List Infrastructure" spec), fetched with libcurl:
 * TCB info for the quote's FMSPC, QE identity, the PCK CRL for the PCK
 * certificate's CA and the root CA CRL, each with its issuer chain from the
 * URL-encoded response header (parsed by pccs_parse.c). Items are cached on
 * disk (pccs_cache.c) until their own nextUpdate. The result is the same
 * verify_collateral the other loaders produce, so verify.c checks it the
 * same way; nothing fetched or cached is trusted before those checks.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "pccs_cache.h"
#include "pccs_parse.h"
#include "sgxqh/quote.h"
#include "verify_internal.h"

int verify_pccs_default_cache_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (out == NULL || cap == 0)
        return -1;
    /* XDG Base Directory: a relative $XDG_CACHE_HOME is invalid, ignore it. */
    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(out, cap, "%s/sgx-quote-helper", xdg);
    else if (home != NULL && home[0] == '/')
        n = snprintf(out, cap, "%s/.cache/sgx-quote-helper", home);
    else
        return -1;
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

#ifdef SGXQH_HAVE_LIBCURL
#include <curl/curl.h>

#define PCCS_TIMEOUT_SECONDS 30L
#define INTEL_PCS_HOST "api.trustedservices.intel.com"
#define INTEL_ROOT_CA_CRL_URL "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"

typedef struct {
    uint8_t *body;
    size_t len;
    bool too_large;
    const char *const *want; /* header names of interest, first match wins */
    size_t n_want;
    char *header;            /* raw (still URL-encoded) value, then decoded */
    size_t header_len;
    bool header_too_large;   /* a wanted header exceeded PCCS_HEADER_VALUE_MAX */
} fetch;

/* One verify_collateral_fetch_pccs_ex call. */
typedef struct {
    const verify_pccs_options *opt;
    verify_pccs_stats *stats;
    const char *cache_dir; /* NULL: no cache (none asked for, or unusable) */
    uint64_t cache_max;
    int64_t now;           /* wall clock: cache freshness, not the check time */
} session;

typedef enum { ITEM_TCB_INFO, ITEM_QE_IDENTITY, ITEM_PCK_CRL, ITEM_ROOT_CA_CRL } item_kind;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    fetch *f = userdata;
    size_t n = size * nmemb;
    if (f->len + n > VERIFY_COLLATERAL_ITEM_MAX) {
        f->too_large = true;
        return 0; /* aborts the transfer */
    }
    uint8_t *nb = realloc(f->body, f->len + n + 1);
    if (nb == NULL)
        return 0;
    memcpy(nb + f->len, ptr, n);
    f->body = nb;
    f->len += n;
    f->body[f->len] = '\0';
    return n;
}

/* libcurl calls this once per header line; the first wanted header wins. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    fetch *f = userdata;
    size_t n = size * nitems, which, vlen;
    const char *v;
    if (f->header != NULL || f->header_too_large)
        return n;
    int m = pccs_header_match(buf, n, f->want, f->n_want, &which, &v, &vlen);
    if (m == VERIFY_E_FORMAT)
        f->header_too_large = true;
    if (m != 1)
        return n;
    f->header = malloc(vlen + 1);
    if (f->header != NULL) {
        memcpy(f->header, v, vlen);
        f->header[vlen] = '\0';
        f->header_len = vlen;
    }
    return n;
}

/* What to do about a transfer that failed (docs/verify.md "PCCS errors"). */
static const char *curl_fix(CURLcode cc)
{
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
        return "the PCCS's TLS certificate is not trusted: pass the CA that issued it with "
               "--pccs-ca FILE; for a test PCCS with a self-signed certificate, --insecure "
               "(QCNL: \"use_secure_cert\": false) skips the check";
    case CURLE_SSL_CACERT_BADFILE:
        return "the --pccs-ca file could not be read as PEM CA certificates";
    case CURLE_SSL_CONNECT_ERROR:
        return "the TLS handshake failed: does the server speak HTTPS on that port "
               "(http:// for a plain one)?";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "the host name does not resolve: check the URL and DNS";
    case CURLE_COULDNT_CONNECT:
        return "nothing accepts connections there: is the PCCS running, and are the host and "
               "port right (PCCS listens on 8081 by default)?";
    case CURLE_OPERATION_TIMEDOUT:
        return "no answer within 30 s: check the network path (proxy, firewall) to the PCCS";
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "use an https:// (or http://) URL";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
        return "the server closed the connection: is this a PCCS, and is the scheme (https:// "
               "or http://) the one it speaks?";
    default:
        return "check the URL and that the PCCS is reachable from here";
    }
}

static const char *http_fix(long status, item_kind k)
{
    if (status == 404 && k == ITEM_TCB_INFO)
        return "the PCCS has no TCB info for this FMSPC: is the platform registered with it "
               "(PCKIDRetrievalTool), can the PCCS reach Intel's PCS, and is the URL the "
               "PCCS's base (https://HOST:8081, optionally ending in /sgx/certification/v4)?";
    if (status == 404)
        return "is the URL the PCCS's base (https://HOST:8081, optionally ending in "
               "/sgx/certification/v4), and does it serve API v4?";
    if (status == 401 || status == 403)
        return "the server refused the request: is the URL a PCCS (or Intel's PCS), and does a "
               "proxy in between need credentials?";
    if (status >= 500)
        return "the PCCS failed to answer: see its log (it may be unable to reach Intel's PCS)";
    return "check the URL: it should be a PCCS or Intel's PCS";
}

static int http_get(session *s, const char *url, item_kind k, fetch *f, char *err, size_t cap)
{
    char curl_err[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    if (h == NULL) {
        vfmt(err, cap, "libcurl could not start");
        return VERIFY_E_FETCH;
    }
    int rc = VERIFY_OK;
    long status = 0;
    if (s->stats != NULL)
        s->stats->requests++;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, PCCS_TIMEOUT_SECONDS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (s->opt->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, s->opt->ca_file);
    if (s->opt->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        if (f->too_large)
            vfmt(err, cap, "GET %s: the response is larger than 1 MiB; hint: is the URL a PCCS?",
                 url);
        else
            vfmt(err, cap, "GET %s: %s%s%s%s; hint: %s", url, curl_easy_strerror(cc),
                 curl_err[0] ? " (" : "", curl_err, curl_err[0] ? ")" : "", curl_fix(cc));
        rc = VERIFY_E_FETCH;
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        vfmt(err, cap, "GET %s: HTTP status %ld; hint: %s", url, status, http_fix(status, k));
        rc = VERIFY_E_FETCH;
        goto out;
    }
    if (f->body == NULL) {
        vfmt(err, cap, "GET %s: empty response; hint: is the URL a PCCS?", url);
        rc = VERIFY_E_FETCH;
    }
out:
    curl_easy_cleanup(h);
    return rc;
}

static void fetch_free(fetch *f)
{
    free(f->body);
    free(f->header);
    memset(f, 0, sizeof *f);
}

/* GET and require the issuer-chain header when names are given. */
static int get_item(session *s, const char *url, item_kind k, const char *const *names,
                    size_t n_names, fetch *f, char *err, size_t cap)
{
    memset(f, 0, sizeof *f);
    f->want = names;
    f->n_want = n_names;
    int rc = http_get(s, url, k, f, err, cap);
    if (rc != 0)
        return rc;
    if (n_names > 0) {
        if (f->header_too_large) {
            vfmt(err, cap, "GET %s: the %s header is longer than %u bytes", url, names[0],
                 PCCS_HEADER_VALUE_MAX);
            return VERIFY_E_FETCH;
        }
        if (f->header == NULL) {
            vfmt(err, cap, "GET %s: response lacks the %s header; hint: is the URL a PCCS "
                           "or Intel's PCS (API v4)?", url, names[0]);
            return VERIFY_E_FETCH;
        }
        if (pccs_percent_decode(f->header, f->header_len, f->header, f->header_len + 1,
                                &f->header_len) != 0) {
            vfmt(err, cap, "GET %s: the %s header cannot be decoded", url, names[0]);
            return VERIFY_E_FETCH;
        }
    }
    return 0;
}

/* nextUpdate of a TCB info / QE identity envelope; 0 when absent. */
static int64_t doc_next_update(const fetch *f, const char *key)
{
    json_t *doc = json_loadb((const char *)f->body, f->len, 0, NULL);
    const char *t = json_string_value(json_object_get(json_object_get(doc, key), "nextUpdate"));
    time_t v = 0;
    if (t == NULL || time_parse_iso8601(t, &v) != 0)
        v = 0;
    json_decref(doc);
    return (int64_t)v;
}

static int64_t crl_next_update(const uint8_t *der, size_t len)
{
    x509_crl *crl = NULL;
    time_t this_update = 0, next_update = 0;
    if (x509_crl_from_der(der, len, &crl) != 0 ||
        x509_crl_dates(crl, &this_update, &next_update) != 0)
        next_update = 0;
    x509_crl_free(crl);
    return (int64_t)next_update;
}

/* Puts one item into c (the same setters for a fresh and a cached answer)
 * and tells until when it may be reused (0: do not cache). */
static int apply_item(item_kind k, verify_collateral *c, const fetch *f, const char *url,
                      int64_t *next_update, char *err, size_t cap)
{
    int rc;
    switch (k) {
    case ITEM_TCB_INFO:
        if ((rc = verify_collateral_set_tcb_info_doc(c, (const char *)f->body, f->len, err,
                                                     cap)) != 0 ||
            (rc = verify_collateral_set_text(&c->tcb_info_issuer_chain,
                                             &c->tcb_info_issuer_chain_len, f->header,
                                             f->header_len)) != 0)
            return rc;
        *next_update = doc_next_update(f, "tcbInfo");
        return 0;
    case ITEM_QE_IDENTITY:
        if ((rc = verify_collateral_set_qe_identity_doc(c, (const char *)f->body, f->len, err,
                                                        cap)) != 0 ||
            (rc = verify_collateral_set_text(&c->qe_identity_issuer_chain,
                                             &c->qe_identity_issuer_chain_len, f->header,
                                             f->header_len)) != 0)
            return rc;
        *next_update = doc_next_update(f, "enclaveIdentity");
        return 0;
    case ITEM_PCK_CRL:
        if ((rc = verify_collateral_set_crl(&c->pck_crl, &c->pck_crl_len, f->body, f->len)) != 0) {
            vfmt(err, cap, "GET %s: the response is not a CRL", url);
            return rc;
        }
        if ((rc = verify_collateral_set_text(&c->pck_crl_issuer_chain,
                                             &c->pck_crl_issuer_chain_len, f->header,
                                             f->header_len)) != 0)
            return rc;
        *next_update = crl_next_update(c->pck_crl, c->pck_crl_len);
        return 0;
    case ITEM_ROOT_CA_CRL:
        if ((rc = verify_collateral_set_crl(&c->root_ca_crl, &c->root_ca_crl_len, f->body,
                                            f->len)) != 0) {
            vfmt(err, cap, "GET %s: the response is not a CRL", url);
            return rc;
        }
        *next_update = crl_next_update(c->root_ca_crl, c->root_ca_crl_len);
        return 0;
    }
    return VERIFY_E_INVALID_ARG;
}

/* A cached entry as if it had just been fetched (NUL-terminated copies). */
static int fetch_from_entry(const pccs_cache_entry *e, fetch *f)
{
    memset(f, 0, sizeof *f);
    f->body = malloc(e->body_len + 1);
    f->header = malloc(e->chain_len + 1);
    if (f->body == NULL || f->header == NULL) {
        fetch_free(f);
        return VERIFY_E_NOMEM;
    }
    if (e->body_len > 0)
        memcpy(f->body, e->body, e->body_len);
    f->body[e->body_len] = '\0';
    f->len = e->body_len;
    if (e->chain_len > 0)
        memcpy(f->header, e->chain, e->chain_len);
    f->header[e->chain_len] = '\0';
    f->header_len = e->chain_len;
    return 0;
}

/* From the cache when a fresh entry is there and passes the setters, else
 * from the network (and then into the cache). */
static int fetch_item(session *s, item_kind k, const char *url, const char *const *names,
                      size_t n_names, verify_collateral *c, char *err, size_t cap)
{
    fetch f = {0};
    int64_t next = 0;
    int rc;
    if (s->cache_dir != NULL) {
        uint8_t *file = NULL;
        pccs_cache_entry e;
        bool corrupt = false;
        if (pccs_cache_get(s->cache_dir, url, s->now, &file, &e, &corrupt) == 1) {
            char ignored[256];
            rc = fetch_from_entry(&e, &f);
            free(file);
            if (rc == 0 && apply_item(k, c, &f, url, &next, ignored, sizeof ignored) == 0) {
                if (s->stats != NULL)
                    s->stats->cache_hits++;
                fetch_free(&f);
                return 0;
            }
            fetch_free(&f);
            pccs_cache_drop(s->cache_dir, url);
            corrupt = true;
        }
        if (corrupt && s->stats != NULL)
            s->stats->cache_ignored++;
    }
    if ((rc = get_item(s, url, k, names, n_names, &f, err, cap)) != 0 ||
        (rc = apply_item(k, c, &f, url, &next, err, cap)) != 0)
        goto out;
    if (s->cache_dir != NULL && next > s->now)
        (void)pccs_cache_put(s->cache_dir, s->cache_max, url, next, n_names > 0 ? f.header : NULL,
                             n_names > 0 ? f.header_len : 0, f.body, f.len);
out:
    fetch_free(&f);
    return rc;
}

/* FMSPC and CA type from the PCK certificate the quote will be checked with. */
static int platform_of(const quote_view *q, const char *pck_chain, size_t pck_chain_len,
                       uint8_t fmspc[6], const char **ca, char *err, size_t cap)
{
    const char *blocks[QUOTE_MAX_CHAIN_CERTS];
    size_t lens[QUOTE_MAX_CHAIN_CERTS], n = 0;
    if (q->cert_type == CERT_DATA_PCK_CHAIN) {
        for (size_t i = 0; i < q->pem_count && i < QUOTE_MAX_CHAIN_CERTS; i++) {
            blocks[n] = q->pem[i].pem;
            lens[n++] = q->pem[i].len;
        }
    } else if (pck_chain != NULL) {
        n = pem_cert_blocks(pck_chain, pck_chain_len, blocks, lens, QUOTE_MAX_CHAIN_CERTS);
    } else {
        vfmt(err, cap, "the quote has certification data type %u: the PCK chain must be "
                       "supplied to know its FMSPC", q->cert_type);
        return VERIFY_E_INVALID_ARG;
    }
    for (size_t i = 0; i < n; i++) {
        x509_cert *c = NULL;
        char cn[160], issuer_cn[160];
        sgx_pck_ext ext;
        if (x509_cert_from_pem(blocks[i], lens[i], &c) != 0)
            continue;
        bool ok = x509_cert_subject_cn(c, cn, sizeof cn) == 0 &&
                  strstr(cn, "SGX PCK Certificate") != NULL &&
                  x509_cert_issuer_cn(c, issuer_cn, sizeof issuer_cn) == 0 &&
                  x509_cert_sgx_ext(c, &ext) == 0;
        x509_cert_free(c);
        if (!ok)
            continue;
        memcpy(fmspc, ext.fmspc, 6);
        *ca = strstr(issuer_cn, "Platform") != NULL ? "platform" : "processor";
        return 0;
    }
    vfmt(err, cap, "no PCK certificate with an SGX extension in the PCK chain");
    return VERIFY_E_FORMAT;
}

int verify_collateral_fetch_pccs_ex(const char *base_url, const verify_pccs_options *opt,
                                    const uint8_t *quote, size_t quote_len,
                                    const char *pck_chain, size_t pck_chain_len,
                                    verify_collateral *out, verify_pccs_stats *stats, char *err,
                                    size_t cap)
{
    static const char *const TCB_HDR[] = {"TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"};
    static const char *const QE_HDR[] = {"SGX-Enclave-Identity-Issuer-Chain"};
    static const char *const CRL_HDR[] = {"SGX-PCK-CRL-Issuer-Chain"};
    static const verify_pccs_options DEFAULTS = {0};
    verify_collateral c = {0};
    quote_view q;
    uint8_t fmspc[6];
    char fmspc_hex[13], url[PCCS_URL_MAX + PCCS_URL_SUFFIX_MAX], base[PCCS_URL_MAX + 1];
    const char *ca = NULL;
    session s = {.opt = opt != NULL ? opt : &DEFAULTS, .stats = stats};
    int rc;
    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    if (base_url == NULL || quote == NULL || out == NULL)
        return VERIFY_E_INVALID_ARG;
    if ((rc = pccs_base_url(base_url, base, sizeof base)) != 0) {
        if (rc == VERIFY_E_FORMAT)
            vfmt(err, cap, "the PCCS URL '%.200s' is not an https:// or http:// URL with a host "
                           "(e.g. https://pccs.example:8081)", base_url);
        else
            vfmt(err, cap, "the PCCS URL is empty or longer than %u bytes", PCCS_URL_MAX);
        return VERIFY_E_INVALID_ARG;
    }
    if ((rc = quote_parse(quote, quote_len, &q)) != 0) {
        vfmt(err, cap, "the quote does not parse: %s", quote_strerror(rc));
        return VERIFY_E_FORMAT;
    }
    if ((rc = platform_of(&q, pck_chain, pck_chain_len, fmspc, &ca, err, cap)) != 0)
        return rc;
    if (s.opt->cache_dir != NULL && pccs_cache_open_dir(s.opt->cache_dir) == 0) {
        s.cache_dir = s.opt->cache_dir;
        s.cache_max = s.opt->cache_max_bytes != 0 ? s.opt->cache_max_bytes
                                                  : VERIFY_PCCS_CACHE_MAX_DEFAULT;
        s.now = (int64_t)time(NULL);
    }
    const char *tee = q.tee_type == SGX_TEE_TYPE_TDX ? "tdx" : "sgx";
    crypto_hex_encode(fmspc, 6, fmspc_hex);
    for (char *p = fmspc_hex; *p; p++)
        *p = (char)toupper((unsigned char)*p);

    vfmt(url, sizeof url, "%s/%s/certification/v4/tcb?fmspc=%s", base, tee, fmspc_hex);
    if ((rc = fetch_item(&s, ITEM_TCB_INFO, url, TCB_HDR, 2, &c, err, cap)) != 0)
        goto out;
    vfmt(url, sizeof url, "%s/%s/certification/v4/qe/identity", base, tee);
    if ((rc = fetch_item(&s, ITEM_QE_IDENTITY, url, QE_HDR, 1, &c, err, cap)) != 0)
        goto out;
    vfmt(url, sizeof url, "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", base, ca);
    if ((rc = fetch_item(&s, ITEM_PCK_CRL, url, CRL_HDR, 1, &c, err, cap)) != 0)
        goto out;
    /* PCCS serves the root CA CRL itself; Intel's PCS does not, and the CRL
     * lives at the root's CRL distribution point instead. */
    if (strstr(base, INTEL_PCS_HOST) != NULL)
        vfmt(url, sizeof url, "%s", INTEL_ROOT_CA_CRL_URL);
    else
        vfmt(url, sizeof url, "%s/sgx/certification/v4/rootcacrl", base);
    if ((rc = fetch_item(&s, ITEM_ROOT_CA_CRL, url, NULL, 0, &c, err, cap)) != 0)
        goto out;

    if (pck_chain != NULL &&
        (rc = verify_collateral_set_text(&c.pck_chain, &c.pck_chain_len, pck_chain,
                                         pck_chain_len)) != 0)
        goto out;
    verify_collateral_free(out);
    *out = c;
    memset(&c, 0, sizeof c);
out:
    verify_collateral_free(&c);
    return rc;
}

#else /* !SGXQH_HAVE_LIBCURL */

int verify_collateral_fetch_pccs_ex(const char *base_url, const verify_pccs_options *opt,
                                    const uint8_t *quote, size_t quote_len,
                                    const char *pck_chain, size_t pck_chain_len,
                                    verify_collateral *out, verify_pccs_stats *stats, char *err,
                                    size_t cap)
{
    (void)base_url;
    (void)opt;
    (void)quote;
    (void)quote_len;
    (void)pck_chain;
    (void)pck_chain_len;
    (void)out;
    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    vfmt(err, cap, "this build has no libcurl: fetching from a PCCS is not available");
    return VERIFY_E_UNSUPPORTED;
}

#endif

int verify_collateral_fetch_pccs(const char *base_url, const uint8_t *quote, size_t quote_len,
                                 const char *pck_chain, size_t pck_chain_len,
                                 verify_collateral *out, char *err, size_t cap)
{
    return verify_collateral_fetch_pccs_ex(base_url, NULL, quote, quote_len, pck_chain,
                                           pck_chain_len, out, NULL, err, cap);
}
