/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: hostile bytes from a QGS client through framing, the
 * qgs_msg codec and the QGS service (socket -> [framing -> codec ->
 * service] -> backend), and the same bytes as a reply through the client's
 * strict response decoders. Two backends: the simulated platform (opened
 * once in a temporary state directory) and an accept-everything fake, so the
 * success encoders run too. Every reply must be one well-formed frame whose
 * header names the response type of the request and whose sizes add up;
 * a raw request gets a bare quote or nothing. Otherwise we abort.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qgs/qgs_msg.h"
#include "qgs/qgs_service.h"
#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static char g_dir[64];
static sim_platform *g_p;
static qgs_backend g_sim, g_fake;

static int fake_quote(void *ctx, const uint8_t *r, size_t n, uint8_t **q, size_t *ql, char *e,
                      size_t ec)
{
    (void)ctx, (void)r, (void)e, (void)ec;
    *ql = 16 + n % 64;
    *q = calloc(1, *ql);
    return *q == NULL ? -1 : 0;
}

static int fake_collateral(void *ctx, const uint8_t *f, size_t fl, const char *ca,
                           qgs_collateral_data *out, char *e, size_t ec)
{
    (void)ctx, (void)f, (void)fl, (void)ca, (void)e, (void)ec;
    for (unsigned i = 0; i < QGS_COLLATERAL_ITEMS; i++) {
        out->size[i] = i + 1;
        out->item[i] = calloc(1, i + 1);
        if (out->item[i] == NULL)
            return -1;
    }
    return 0;
}

static int fake_info(void *ctx, qgs_platform_info *out, char *e, size_t ec)
{
    (void)ctx, (void)e, (void)ec;
    memset(out, 0x5a, sizeof *out);
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    sim_platform_close(g_p);
    nftw(g_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void init_once(void)
{
    if (g_p != NULL)
        return;
    snprintf(g_dir, sizeof g_dir, "/tmp/sgxqh-fuzz-qgs-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        abort();
    sim_options o;
    memset(&o, 0, sizeof o);
    o.state_dir = g_dir;
    o.instance = "fuzz";
    sim_tcb_config_default(&o.tcb);
    char err[256];
    if (sim_platform_open(&o, &g_p, err, sizeof err) != SIM_OK) {
        fprintf(stderr, "fuzz_qgs_frame: cannot open the simulated platform: %s\n", err);
        abort();
    }
    qgs_backend_sim_init(&g_sim, g_p);
    g_fake = (qgs_backend){.name = "fake", .get_quote = fake_quote,
                           .get_collateral = fake_collateral, .get_platform_info = fake_info};
    atexit(cleanup);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check_reply(const uint8_t *req, size_t len, const qgs_result *res)
{
    CHECK(res->op != NULL && res->result != NULL);
    if (res->reply == NULL) {
        CHECK(res->reply_len == 0 && !res->ok);
        return;
    }
    if (strcmp(res->op, "RawGetQuote") == 0) {
        CHECK(len == QGS_RAW_REPORT_SIZE && req[0] == QGS_RAW_REPORT_FIRST);
        CHECK(res->reply_len > 0 && res->reply_len <= QGS_RAW_QUOTE_MAX);
        return;
    }
    /* a framed reply: prefix = rest, header 1.1, type = request type + 1 */
    CHECK(res->reply_len >= QGS_FRAME_PREFIX_SIZE + QGS_MSG_HEADER_SIZE);
    const uint8_t *r = res->reply;
    uint32_t n = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
    CHECK(n == res->reply_len - QGS_FRAME_PREFIX_SIZE);
    const uint8_t *m = r + QGS_FRAME_PREFIX_SIZE;
    CHECK(m[0] == 1 && m[1] == 0 && m[2] == 1 && m[3] == 0);
    uint32_t type = le32(m + 4), err = le32(m + 12);
    CHECK(type == le32(req + QGS_FRAME_PREFIX_SIZE + 4) + 1);
    CHECK(le32(m + 8) == n);
    CHECK(err == 0 ? res->ok : (err == QGS_MSG_ERROR_UNEXPECTED && !res->ok));
    uint32_t remote = 0;
    int rc;
    if (type == QGS_GET_QUOTE_RESP) {
        const uint8_t *q;
        uint32_t qs;
        CHECK(n <= QGS_REPLY_LEN_MAX);
        rc = qgs_get_quote_resp_decode(m, n, &q, &qs, &remote);
    } else if (type == QGS_GET_COLLATERAL_RESP) {
        qgs_collateral c;
        rc = qgs_get_collateral_resp_decode(m, n, &c, &remote);
    } else {
        qgs_platform_info pi;
        CHECK(type == QGS_GET_PLATFORM_INFO_RESP);
        rc = qgs_get_platform_info_resp_decode(m, n, &pi, &remote);
        /* Intel's error reply is 28 bytes; our decoder still reads the code */
    }
    CHECK(err == 0 ? rc == QGS_OK : (rc == QGS_E_REMOTE && remote == err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    qgs_result res;
    size_t need = 0;
    qgs_frame_kind k = qgs_frame_classify(data, size, &need);
    CHECK(k != QGS_FRAME_FRAMED || need <= size);
    CHECK(k != QGS_FRAME_RAW || need == QGS_RAW_REPORT_SIZE);
    /* the server hands over exactly the bytes the framing delimits */
    if (k == QGS_FRAME_FRAMED || k == QGS_FRAME_RAW) {
        const qgs_backend *bs[2] = {&g_sim, &g_fake};
        for (int i = 0; i < 2; i++) {
            qgs_service_handle(bs[i], data, need, &res);
            check_reply(data, need, &res);
            qgs_result_free(&res);
        }
    }
    /* the same bytes as a reply a client must survive */
    if (size >= QGS_FRAME_PREFIX_SIZE) {
        const uint8_t *q;
        uint32_t qs, remote;
        qgs_collateral c;
        qgs_platform_info pi;
        const uint8_t *m = data + QGS_FRAME_PREFIX_SIZE;
        size_t n = size - QGS_FRAME_PREFIX_SIZE;
        if (qgs_get_quote_resp_decode(m, n, &q, &qs, &remote) == QGS_OK)
            CHECK(q >= m && qs > 0 && (size_t)(q - m) + qs == n);
        if (qgs_get_collateral_resp_decode(m, n, &c, &remote) == QGS_OK) {
            for (unsigned i = 0; i < QGS_COLLATERAL_ITEMS; i++)
                CHECK(c.item[i] >= m && (size_t)(c.item[i] - m) + c.size[i] <= n);
        }
        (void)qgs_get_platform_info_resp_decode(m, n, &pi, &remote);
    }
    return 0;
}
