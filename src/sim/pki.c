/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated PCK hierarchy (quote-format §5, Appendix): Root CA → "SGX PCK
 * Platform CA" → "SGX PCK Certificate" (SGX extension from the TCB config),
 * the "SGX TCB Signing" certificate, and the CRLs. Fields derive from the
 * seed; OpenSSL 3.0 ECDSA signatures do not, so certificates are cached in
 * the state dir to keep their bytes (and QVL's same-root check) stable across
 * restarts and processes. A cached certificate is reused only if it matches
 * what we would build now, field by field, and verifies under its issuer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"

#define PKI_CACHE_MAX (64 * 1024)
enum { CERT_ROOT, CERT_CA, CERT_TCB, CERT_PCK, CERT_COUNT };

static void cert_validity(time_t now, time_t *nb, time_t *na)
{
    /* Fixed dates keep certificates identical across restarts; widen them
     * only if the clock is outside (so they are always valid now). */
    *nb = SIM_CERT_NOT_BEFORE;
    *na = SIM_CERT_NOT_AFTER;
    if (now - 86400 < *nb)
        *nb = now - 86400;
    if (now + 365 * 86400 > *na)
        *na = now + 365 * 86400;
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

static bool ext_equal(const sgx_pck_ext *a, const sgx_pck_ext *b)
{
    return memcmp(a->ppid, b->ppid, sizeof a->ppid) == 0 &&
           memcmp(a->comp_svn, b->comp_svn, sizeof a->comp_svn) == 0 &&
           memcmp(a->cpusvn, b->cpusvn, sizeof a->cpusvn) == 0 && a->pcesvn == b->pcesvn &&
           memcmp(a->pceid, b->pceid, sizeof a->pceid) == 0 &&
           memcmp(a->fmspc, b->fmspc, sizeof a->fmspc) == 0 && a->sgx_type == b->sgx_type &&
           a->has_platform_instance_id == b->has_platform_instance_id &&
           (!a->has_platform_instance_id ||
            memcmp(a->platform_instance_id, b->platform_instance_id,
                   sizeof a->platform_instance_id) == 0) &&
           a->has_configuration == b->has_configuration &&
           (!a->has_configuration ||
            (a->dynamic_platform == b->dynamic_platform && a->cached_keys == b->cached_keys &&
             a->smt_enabled == b->smt_enabled));
}

/* Does a cached certificate say exactly what `spec` would, and verify
 * under `issuer` (itself for the root), valid at now? */
static bool cert_matches(const x509_cert *c, const x509_cert_spec *spec, const x509_cert *issuer,
                         time_t now)
{
    uint8_t want_pub[CRYPTO_P256_PUB_LEN], got_pub[CRYPTO_P256_PUB_LEN], serial[32];
    char cn[256];
    size_t serial_len = 0;
    time_t nb, na;
    if (crypto_p256_pub(spec->subject_key, want_pub) != 0 ||
        x509_cert_pubkey_raw(c, got_pub) != 0 ||
        memcmp(want_pub, got_pub, sizeof want_pub) != 0)
        return false;
    if (x509_cert_serial(c, serial, sizeof serial, &serial_len) != 0 ||
        serial_len != spec->serial_len || memcmp(serial, spec->serial, serial_len) != 0)
        return false;
    if (x509_cert_subject_cn(c, cn, sizeof cn) != 0 || strcmp(cn, spec->common_name) != 0)
        return false;
    if (x509_cert_validity(c, &nb, &na) != 0 || now < nb || now > na)
        return false;
    if (x509_cert_is_ca(c) != spec->is_ca || !x509_cert_has_required_exts(c))
        return false;
    if (issuer == NULL ? !x509_cert_is_self_issued(c)
                       : !x509_cert_subject_equals_issuer_of(issuer, c))
        return false;
    if (x509_cert_verify_signed_by(c, issuer != NULL ? issuer : c) != 0)
        return false;
    sgx_pck_ext got;
    int ext_rc = x509_cert_sgx_ext(c, &got);
    if (spec->sgx_ext == NULL)
        return ext_rc == CRYPTO_E_NOT_FOUND;
    return ext_rc == 0 && ext_equal(&got, spec->sgx_ext);
}

/* Certificates of a previous run, in CERT_* order; missing/unreadable
 * files simply give none. */
static void cache_load(const char *path, x509_cert *cached[CERT_COUNT])
{
    char *buf = NULL;
    x509_cert **certs = NULL;
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        st.st_size > PKI_CACHE_MAX)
        goto out;
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL)
        goto out;
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        got += (size_t)r;
    }
    buf[got] = '\0';
    if (x509_chain_from_pem(buf, got, &certs, &n) != 0 || n != CERT_COUNT)
        goto out;
    for (size_t i = 0; i < CERT_COUNT; i++) {
        cached[i] = certs[i];
        certs[i] = NULL;
    }
out:
    if (certs != NULL)
        x509_chain_free(certs, n);
    free(buf);
    close(fd);
}

/* Best effort: a cache that cannot be written only costs stability. */
static void cache_store(const sim_platform *p, const char *dir, const char *path)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp)
        return;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(tmp);
        return;
    }
    fchmod(fd, 0644);
    fprintf(f,
            "# sgx-quote-helper simulated PKI for instance '%s' (cache; safe to delete).\n"
            "# Order: root CA, PCK platform CA, TCB signing, PCK certificate.\n",
            p->instance);
    fputs(p->root_pem, f);
    fputs(p->ca_pem, f);
    fputs(p->tcb_pem, f);
    fputs(p->pck_pem, f);
    bool ok = fflush(f) == 0 && fsync(fd) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
}

int sim_pki_build(sim_platform *p, time_t now, const char *cache_dir)
{
    time_t nb, na;
    int rc = SIM_OK;
    char path[PATH_MAX];
    x509_cert *cached[CERT_COUNT] = {NULL};
    x509_cert **slot[CERT_COUNT] = {&p->root, &p->ca, &p->tcb_signer, &p->pck};
    char **pem[CERT_COUNT] = {&p->root_pem, &p->ca_pem, &p->tcb_pem, &p->pck_pem};
    sgx_pck_ext ext;
    bool rebuilt = false;

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

    path[0] = '\0';
    if (cache_dir != NULL) {
        /* One file per instance; the name hashes the instance (any bytes). */
        uint8_t h[32];
        char hex[65];
        crypto_sha256(p->instance, strlen(p->instance), h);
        crypto_hex_encode(h, 8, hex);
        if ((size_t)snprintf(path, sizeof path, "%s/pki-v1-%s.pem", cache_dir, hex) >=
            sizeof path)
            path[0] = '\0';
        else
            cache_load(path, cached);
    }

    for (int i = 0; i < CERT_COUNT; i++) {
        spec[i].organization = SIM_ORG;
        spec[i].serial_len = SIM_SERIAL_LEN;
        spec[i].not_before = nb;
        spec[i].not_after = na;
        /* Issuers are final before their children are looked at. */
        spec[i].issuer = i == CERT_ROOT ? NULL : i == CERT_PCK ? p->ca : p->root;
        if (cached[i] != NULL && cert_matches(cached[i], &spec[i], spec[i].issuer, now)) {
            *slot[i] = cached[i];
            cached[i] = NULL;
        } else if (x509_cert_build(&spec[i], slot[i]) != 0) {
            rc = SIM_E_CRYPTO;
            goto out;
        } else {
            rebuilt = true;
        }
        size_t len;
        if (x509_cert_to_pem(*slot[i], pem[i], &len) != 0) {
            rc = SIM_E_CRYPTO;
            goto out;
        }
    }
    if (rebuilt && path[0] != '\0')
        cache_store(p, cache_dir, path);

    /* Certification data type 5 (quote-format §1.5): leaf, intermediate,
     * root, and the NUL the DCAP quote provider counts in the size. */
    size_t l1 = strlen(p->pck_pem), l2 = strlen(p->ca_pem), l3 = strlen(p->root_pem);
    p->cert_data_len = l1 + l2 + l3 + 1;
    p->cert_data = malloc(p->cert_data_len);
    if (p->cert_data == NULL) {
        rc = SIM_E_CRYPTO;
        goto out;
    }
    memcpy(p->cert_data, p->pck_pem, l1);
    memcpy(p->cert_data + l1, p->ca_pem, l2);
    memcpy(p->cert_data + l1 + l2, p->root_pem, l3);
    p->cert_data[l1 + l2 + l3] = '\0';
out:
    for (int i = 0; i < CERT_COUNT; i++)
        x509_cert_free(cached[i]);
    return rc;
}

int sim_pki_root_crl(const sim_platform *p, time_t now, x509_crl **out)
{
    x509_crl_spec spec = {
        .issuer = p->root,
        .issuer_key = p->root_key,
        .this_update = now,
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
        .this_update = now,
        .next_update = now + SIM_COLLATERAL_LIFETIME,
        .crl_number = (uint64_t)now,
        .entries = &decoy,
        .n_entries = 1,
    };
    return x509_crl_build(&spec, out) == 0 ? SIM_OK : SIM_E_CRYPTO;
}
