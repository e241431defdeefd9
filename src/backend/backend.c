/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backend selection and the pieces every backend shares.
 *
 * The daemon turns --backend sim|hw|auto and the sim flags into a
 * backend_config; backend_open() picks the implementation (auto: hardware
 * when the SGX device exists, else the simulated platform) and the service
 * layer then talks only to backend_ops. Also home of the one ECDSA-P256
 * attestation key id an ECDSA-only aesmd offers (aesm-protocol §6.4).
 */
#include "backend/backend.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend_impl.h"
#include "sgx/le.h"

int backend_kind_parse(const char *s, backend_kind *out)
{
    static const struct {
        const char *name;
        backend_kind kind;
    } kinds[] = {
        {"sim", BACKEND_KIND_SIM},
        {"hw", BACKEND_KIND_HW},
        {"auto", BACKEND_KIND_AUTO},
    };

    if (s == NULL || out == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(s, kinds[i].name) == 0) {
            *out = kinds[i].kind;
            return 0;
        }
    }
    return -1;
}

backend_kind backend_auto_kind(const char *device_path)
{
    return (device_path != NULL && access(device_path, F_OK) == 0) ? BACKEND_KIND_HW
                                                                   : BACKEND_KIND_SIM;
}

backend *backend_open(const backend_config *cfg, char *errbuf, size_t errcap)
{
    backend_kind kind;
    backend *b;

    if (errbuf != NULL && errcap > 0)
        errbuf[0] = '\0';
    if (cfg == NULL) {
        if (errbuf != NULL && errcap > 0)
            snprintf(errbuf, errcap, "no backend configuration given");
        return NULL;
    }
    kind = cfg->kind;
    if (kind == BACKEND_KIND_AUTO)
        kind = backend_auto_kind(BACKEND_SGX_DEVICE);

    switch (kind) {
    case BACKEND_KIND_SIM:
        return backend_sim_open(cfg, errbuf, errcap);
    case BACKEND_KIND_HW:
        b = backend_hw_open(cfg, errbuf, errcap);
        /* Under auto, say why hardware was chosen: a silent fallback to the
         * simulator on a real SGX node would hand out untrusted quotes. */
        if (b == NULL && cfg->kind == BACKEND_KIND_AUTO && errbuf != NULL && errcap > 0) {
            char why[512];
            snprintf(why, sizeof(why), "%s", errbuf);
            snprintf(errbuf, errcap, "--backend auto chose hardware because %s exists: %s",
                     BACKEND_SGX_DEVICE, why);
        }
        return b;
    case BACKEND_KIND_AUTO:
    default:
        break;
    }
    if (errbuf != NULL && errcap > 0)
        snprintf(errbuf, errcap, "unknown backend kind %d (expected sim, hw or auto)", (int)cfg->kind);
    return NULL;
}

void backend_close(backend *b)
{
    if (b != NULL && b->ops != NULL && b->ops->destroy != NULL)
        b->ops->destroy(b);
}

void backend_default_ecdsa_key_id(sgx_att_key_id_ext_t *out)
{
    /* aesm-protocol §6.4: what sgx_ql_get_keyid() yields; every byte not
     * set below is zero (spid, att_key_type and reserved included). */
    uint8_t raw[sizeof(sgx_att_key_id_ext_t)];

    _Static_assert(sizeof(raw) == 256, "key id size");
    memset(raw, 0, sizeof(raw));
    le_put_u16(raw + offsetof(sgx_ql_att_key_id_t, id), 0);
    le_put_u16(raw + offsetof(sgx_ql_att_key_id_t, version), 0);
    le_put_u16(raw + offsetof(sgx_ql_att_key_id_t, mrsigner_length), 32);
    memcpy(raw + offsetof(sgx_ql_att_key_id_t, mrsigner), SGX_QE3_MRSIGNER, 32);
    le_put_u32(raw + offsetof(sgx_ql_att_key_id_t, prod_id), 1);
    le_put_u32(raw + offsetof(sgx_ql_att_key_id_t, algorithm_id), SGX_QL_ALG_ECDSA_P256);
    memcpy(out, raw, sizeof(raw));
}
