/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote get`, out-of-process half: the same call sequences real
 * applications make, through our client library (src/client) to the daemon.
 * Target info as libsgx_dcap_ql fetches it (aesm §7: InitQuoteEx size
 * query, then the full init); the quote as Intel's API user does it
 * (GetQuoteSizeEx, then GetQuoteEx with an optional qe_report_info), with
 * the zero padding trimmed off using signature_data_len (aesm §6.6, §9.1).
 * When the daemon cannot be reached, one direct connect() to its socket
 * finds the errno behind SGX_ERROR_SERVICE_UNAVAILABLE for the message
 * (shared with `ping`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "client/client.h"

#define PUB_KEY_ID_SIZE 32u /* ECDSA_ID, aesm §8.2 */

const char *cli_status_hint(sgx_status_t s)
{
    switch (s) {
    case SGX_ERROR_SERVICE_UNAVAILABLE:
        return "is sgx-quote-helperd running, and is this its socket? (--socket, SGX_AESM_ADDR)";
    case SGX_ERROR_SERVICE_TIMEOUT:
        return "the daemon accepted the connection but did not answer in time";
    case SGX_ERROR_MAC_MISMATCH:
        return "the report was not made for this daemon's QE target info; make it again "
               "against the target info this daemon returns";
    case SGX_ERROR_UNSUPPORTED_ATT_KEY_ID:
        return "the daemon does not offer the ECDSA-P256 key id";
    case SGX_ERROR_ATT_KEY_UNINITIALIZED:
        return "the daemon has no attestation key yet; run the target-info step first";
    case SGX_ERROR_INVALID_PARAMETER:
        return "the daemon rejected the request's sizes";
    default:
        return "see the daemon's log line for this request";
    }
}

void cli_socket_diagnose(const char *path, cli_socket_diag *d)
{
    struct sockaddr_un sa;
    size_t n = strlen(path);
    memset(d, 0, sizeof *d);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (n >= sizeof sa.sun_path) {
        d->err = ENAMETOOLONG;
    } else {
        memcpy(sa.sun_path, path, n + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            d->err = errno;
        else if (connect(fd, (const struct sockaddr *)&sa, sizeof sa) != 0)
            d->err = errno;
        if (fd >= 0)
            close(fd);
    }
    if (d->err != 0) {
        const char *name = strerrorname_np(d->err);
        snprintf(d->errno_name, sizeof d->errno_name, "%s", name != NULL ? name : "E?");
        snprintf(d->text, sizeof d->text, "%s", strerror(d->err));
    }
    switch (d->err) {
    case 0:
        snprintf(d->fix, sizeof d->fix, "the socket accepts connections now: the daemon was "
                 "probably starting or restarting; retry (ping --retry-ms N waits for it)");
        break;
    case ENOENT:
        snprintf(d->fix, sizeof d->fix, "nothing at %s: start the daemon (systemctl start "
                 "sgx-quote-helperd) or point --socket / SGX_AESM_ADDR at its socket", path);
        break;
    case ECONNREFUSED:
        snprintf(d->fix, sizeof d->fix, "the socket file exists but no process listens on it: "
                 "the daemon stopped or crashed; see its log and restart it");
        break;
    case EACCES:
    case EPERM:
        snprintf(d->fix, sizeof d->fix, "this user may not connect to %s: run as a member of "
                 "the socket's group (ls -l %s shows it) or as the daemon's client user", path,
                 path);
        break;
    case ENOTDIR:
    case ENAMETOOLONG:
        snprintf(d->fix, sizeof d->fix, "%s cannot be a socket path: check --socket / "
                 "SGX_AESM_ADDR", path);
        break;
    default:
        snprintf(d->fix, sizeof d->fix, "%s", cli_status_hint(SGX_ERROR_SERVICE_UNAVAILABLE));
        break;
    }
}

static int fail(char *err, size_t errcap, const client_opts *o, const char *step, sgx_status_t s)
{
    if (s == SGX_ERROR_SERVICE_UNAVAILABLE) {
        cli_socket_diag d;
        cli_socket_diagnose(client_socket_path(o), &d);
        if (d.err != 0) {
            snprintf(err, errcap, "%s via %s failed: %s (0x%04x): connect: %s (%s); hint: %s",
                     step, client_socket_path(o), sgx_status_name(s), (unsigned)s, d.text,
                     d.errno_name, d.fix);
            return -1;
        }
    }
    snprintf(err, errcap, "%s via %s failed: %s (0x%04x); hint: %s", step, client_socket_path(o),
             sgx_status_name(s), (unsigned)s, cli_status_hint(s));
    return -1;
}

static int remote_init(const client_opts *o, const sgx_att_key_id_t *kid, sgx_target_info_t *ti,
                       char *err, size_t errcap)
{
    /* Step 1, the size query: no pub key buffer (aesm §7). */
    size_t size = 0;
    sgx_status_t s = client_init_quote_ex(o, kid, ti, &size, NULL);
    if (s != SGX_SUCCESS)
        return fail(err, errcap, o, "InitQuoteEx (size query)", s);
    if (size != PUB_KEY_ID_SIZE) {
        snprintf(err, errcap, "InitQuoteEx (size query) via %s returned pub_key_id_size %zu, "
                 "expected 32 (aesm-protocol §9.1 item 6)", client_socket_path(o), size);
        return -1;
    }
    /* Step 2, the full init: the real QE target info. */
    uint8_t pub_key_id[PUB_KEY_ID_SIZE];
    s = client_init_quote_ex(o, kid, ti, &size, pub_key_id);
    if (s != SGX_SUCCESS)
        return fail(err, errcap, o, "InitQuoteEx", s);
    return 0;
}

const char *cli_remote_socket_path(const char *socket_path)
{
    client_opts o;
    client_opts_default(&o);
    o.socket_path = socket_path;
    return client_socket_path(&o);
}

int cli_remote_target_info(const char *socket_path, sgx_target_info_t *ti, char *err,
                           size_t errcap)
{
    client_opts o;
    client_opts_default(&o);
    o.socket_path = socket_path;
    sgx_att_key_id_t kid;
    client_default_ecdsa_key_id(&kid);
    memset(ti, 0, sizeof *ti);
    return remote_init(&o, &kid, ti, err, errcap);
}

int cli_remote_quote(const char *socket_path, const sgx_report_t *report,
                     sgx_qe_report_info_t *qe_report_info, uint8_t **quote, size_t *quote_len,
                     char *err, size_t errcap)
{
    int rc = -1;
    uint8_t *buf = NULL;
    client_opts o;
    client_opts_default(&o);
    o.socket_path = socket_path;
    sgx_att_key_id_t kid;
    client_default_ecdsa_key_id(&kid);

    uint32_t size = 0;
    sgx_status_t s = client_get_quote_size_ex(&o, &kid, &size);
    if (s == SGX_ERROR_ATT_KEY_UNINITIALIZED) {
        /* What the API asks callers to do (sgx_uae_quote_ex.h): init, retry. */
        sgx_target_info_t ti;
        if (remote_init(&o, &kid, &ti, err, errcap) != 0)
            goto out;
        s = client_get_quote_size_ex(&o, &kid, &size);
    }
    if (s != SGX_SUCCESS) {
        fail(err, errcap, &o, "GetQuoteSizeEx", s);
        goto out;
    }
    if (size < sizeof(sgx_quote3_t)) {
        snprintf(err, errcap, "GetQuoteSizeEx via %s returned %u bytes, too small for a quote",
                 client_socket_path(&o), size);
        goto out;
    }
    buf = calloc(1, size);
    if (buf == NULL) {
        snprintf(err, errcap, "out of memory for a %u-byte quote", size);
        goto out;
    }
    s = client_get_quote_ex(&o, report, &kid, qe_report_info, buf, size);
    if (s != SGX_SUCCESS) {
        fail(err, errcap, &o, "GetQuoteEx", s);
        goto out;
    }
    size_t real = client_quote_length(buf, size);
    if (real == 0) {
        snprintf(err, errcap, "GetQuoteEx via %s returned a quote whose signature_data_len "
                 "does not fit its %u bytes", client_socket_path(&o), size);
        goto out;
    }
    *quote = buf;
    *quote_len = real;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    return rc;
}
