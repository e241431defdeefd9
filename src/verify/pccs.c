/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collateral from a PCCS or Intel PCS, API v4 (quote-format §6.1), fetched
 * with libcurl: TCB info for the quote's FMSPC, QE identity, the PCK CRL for
 * the PCK certificate's CA and the root CA CRL, each with its issuer chain
 * from the URL-encoded response header (parsed by pccs_parse.c). The result
 * is the same verify_collateral the other loaders produce, so verify.c
 * checks it the same way; nothing fetched is trusted before those checks.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pccs_parse.h"
#include "sgxqh/quote.h"
#include "verify_internal.h"

#ifdef SGXQH_HAVE_LIBCURL
#include <curl/curl.h>

#define PCCS_TIMEOUT_SECONDS 30L
#define PCCS_URL_MAX 2048
#define INTEL_PCS_HOST "api.trustedservices.intel.com"
#define INTEL_ROOT_CA_CRL_URL "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"

typedef struct {
    uint8_t *body;
    size_t len;
    bool too_large;
    const char *const *want; /* header names of interest, first match wins */
    size_t n_want;
    char *header;            /* raw (still URL-encoded) value */
    size_t header_len;
    bool header_too_large;   /* a wanted header exceeded PCCS_HEADER_VALUE_MAX */
} fetch;

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

static int http_get(const char *url, fetch *f, char *err, size_t cap)
{
    CURL *h = curl_easy_init();
    if (h == NULL) {
        vfmt(err, cap, "libcurl could not start");
        return VERIFY_E_FETCH;
    }
    int rc = VERIFY_OK;
    long status = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, PCCS_TIMEOUT_SECONDS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        vfmt(err, cap, "GET %s: %s", url,
             f->too_large ? "response larger than 1 MiB" : curl_easy_strerror(cc));
        rc = VERIFY_E_FETCH;
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        vfmt(err, cap, "GET %s: HTTP status %ld", url, status);
        rc = VERIFY_E_FETCH;
        goto out;
    }
    if (f->body == NULL) {
        vfmt(err, cap, "GET %s: empty response", url);
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
static int get_item(const char *url, const char *const *names, size_t n_names, fetch *f,
                    char *err, size_t cap)
{
    memset(f, 0, sizeof *f);
    f->want = names;
    f->n_want = n_names;
    int rc = http_get(url, f, err, cap);
    if (rc != 0)
        return rc;
    if (n_names > 0) {
        if (f->header_too_large) {
            vfmt(err, cap, "GET %s: the %s header is longer than %u bytes", url, names[0],
                 PCCS_HEADER_VALUE_MAX);
            return VERIFY_E_FETCH;
        }
        if (f->header == NULL) {
            vfmt(err, cap, "GET %s: response lacks the %s header", url, names[0]);
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

int verify_collateral_fetch_pccs(const char *base_url, const uint8_t *quote, size_t quote_len,
                                 const char *pck_chain, size_t pck_chain_len,
                                 verify_collateral *out, char *err, size_t cap)
{
    static const char *const TCB_HDR[] = {"TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"};
    static const char *const QE_HDR[] = {"SGX-Enclave-Identity-Issuer-Chain"};
    static const char *const CRL_HDR[] = {"SGX-PCK-CRL-Issuer-Chain"};
    verify_collateral c = {0};
    fetch f = {0};
    quote_view q;
    uint8_t fmspc[6];
    char fmspc_hex[13], url[PCCS_URL_MAX], base[PCCS_URL_MAX];
    const char *ca = NULL;
    int rc;
    if (base_url == NULL || quote == NULL || out == NULL)
        return VERIFY_E_INVALID_ARG;
    if ((rc = quote_parse(quote, quote_len, &q)) != 0) {
        vfmt(err, cap, "the quote does not parse: %s", quote_strerror(rc));
        return VERIFY_E_FORMAT;
    }
    if ((rc = platform_of(&q, pck_chain, pck_chain_len, fmspc, &ca, err, cap)) != 0)
        return rc;
    size_t blen = strlen(base_url);
    while (blen > 0 && base_url[blen - 1] == '/')
        blen--;
    if (blen == 0 || blen + 128 >= sizeof base) {
        vfmt(err, cap, "the PCCS URL is empty or too long");
        return VERIFY_E_INVALID_ARG;
    }
    memcpy(base, base_url, blen);
    base[blen] = '\0';
    const char *tee = q.tee_type == SGX_TEE_TYPE_TDX ? "tdx" : "sgx";
    crypto_hex_encode(fmspc, 6, fmspc_hex);
    for (char *p = fmspc_hex; *p; p++)
        *p = (char)toupper((unsigned char)*p);

    vfmt(url, sizeof url, "%s/%s/certification/v4/tcb?fmspc=%s", base, tee, fmspc_hex);
    if ((rc = get_item(url, TCB_HDR, 2, &f, err, cap)) != 0 ||
        (rc = verify_collateral_set_tcb_info_doc(&c, (char *)f.body, f.len, err, cap)) != 0 ||
        (rc = verify_collateral_set_text(&c.tcb_info_issuer_chain, &c.tcb_info_issuer_chain_len,
                                         f.header, f.header_len)) != 0)
        goto out;
    fetch_free(&f);

    vfmt(url, sizeof url, "%s/%s/certification/v4/qe/identity", base, tee);
    if ((rc = get_item(url, QE_HDR, 1, &f, err, cap)) != 0 ||
        (rc = verify_collateral_set_qe_identity_doc(&c, (char *)f.body, f.len, err, cap)) != 0 ||
        (rc = verify_collateral_set_text(&c.qe_identity_issuer_chain,
                                         &c.qe_identity_issuer_chain_len, f.header,
                                         f.header_len)) != 0)
        goto out;
    fetch_free(&f);

    vfmt(url, sizeof url, "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", base, ca);
    if ((rc = get_item(url, CRL_HDR, 1, &f, err, cap)) != 0)
        goto out;
    if ((rc = verify_collateral_set_crl(&c.pck_crl, &c.pck_crl_len, f.body, f.len)) != 0) {
        vfmt(err, cap, "GET %s: the response is not a CRL", url);
        goto out;
    }
    if ((rc = verify_collateral_set_text(&c.pck_crl_issuer_chain, &c.pck_crl_issuer_chain_len,
                                         f.header, f.header_len)) != 0)
        goto out;
    fetch_free(&f);

    /* PCCS serves the root CA CRL itself; Intel's PCS does not, and the CRL
     * lives at the root's CRL distribution point instead (§5.1, §6.1). */
    if (strstr(base, INTEL_PCS_HOST) != NULL)
        vfmt(url, sizeof url, "%s", INTEL_ROOT_CA_CRL_URL);
    else
        vfmt(url, sizeof url, "%s/sgx/certification/v4/rootcacrl", base);
    if ((rc = get_item(url, NULL, 0, &f, err, cap)) != 0)
        goto out;
    if ((rc = verify_collateral_set_crl(&c.root_ca_crl, &c.root_ca_crl_len, f.body, f.len)) != 0) {
        vfmt(err, cap, "GET %s: the response is not a CRL", url);
        goto out;
    }
    fetch_free(&f);

    if (pck_chain != NULL &&
        (rc = verify_collateral_set_text(&c.pck_chain, &c.pck_chain_len, pck_chain,
                                         pck_chain_len)) != 0)
        goto out;
    verify_collateral_free(out);
    *out = c;
    memset(&c, 0, sizeof c);
out:
    fetch_free(&f);
    verify_collateral_free(&c);
    return rc;
}

#else /* !SGXQH_HAVE_LIBCURL */

int verify_collateral_fetch_pccs(const char *base_url, const uint8_t *quote, size_t quote_len,
                                 const char *pck_chain, size_t pck_chain_len,
                                 verify_collateral *out, char *err, size_t cap)
{
    (void)base_url;
    (void)quote;
    (void)quote_len;
    (void)pck_chain;
    (void)pck_chain_len;
    (void)out;
    vfmt(err, cap, "this build has no libcurl: --pccs-url is not available");
    return VERIFY_E_UNSUPPORTED;
}

#endif
