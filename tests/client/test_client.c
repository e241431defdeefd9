/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client library against a scripted fake aesmd on a temporary socket.
 * What is checked, and where the expected values come from:
 *   - the requests are byte for byte the captures Intel's libsgx_quote_ex
 *     sent (tests/vectors/aesm-requests 01–10), and the responses Intel's
 *     library accepted (aesm-responses) come back out the same way;
 *   - errorCode → sgx_status_t, common and per API (aesm §5.3, §5.4, §4);
 *   - Intel's field rules: too long is an error, too short is copied, a
 *     pub_key_id of the wrong length is ignored, fields are copied even on
 *     error, a missing sub-message is UNEXPECTED (Intel crashes there);
 *   - transport failures → UNAVAILABLE / TIMEOUT / UNEXPECTED (aesm §4.0);
 *   - argument checks that never touch the socket (aesm-clients §2);
 *   - the shared object exports exactly Intel's six names.
 * Responses are hand-encoded protobuf here, independent of protobuf-c.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/test_support.h"
#include "client/client.h"

/* ---- a scripted fake aesmd ------------------------------------------- */

typedef enum {
    FAKE_REPLY,     /* read the request, write `reply` (any bytes), close */
    FAKE_CLOSE,     /* read the request, close without a byte */
    FAKE_STALL,     /* read the request, say nothing for stall_ms */
    FAKE_NO_ACCEPT, /* expect nobody to connect within 300 ms */
} fake_mode;

typedef struct {
    fake_mode mode;
    uint8_t reply[8192];
    size_t reply_len;
    int stall_ms;
    /* results */
    bool connected;
    uint8_t got[4096];
    size_t got_len;
} fake_script;

static char g_dir[128], g_sock[200];
static int g_listen_fd = -1;
static pthread_t g_thread;
static fake_script g_fake;

static size_t read_exact(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void *fake_main(void *arg)
{
    fake_script *s = arg;
    struct pollfd p = {.fd = g_listen_fd, .events = POLLIN};
    int wait_ms = s->mode == FAKE_NO_ACCEPT ? 300 : 5000;
    if (poll(&p, 1, wait_ms) <= 0)
        return NULL;
    int fd = accept(g_listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    s->connected = true;
    /* One framed request: prefix, then that many bytes. */
    size_t n = read_exact(fd, s->got, 4);
    if (n == 4) {
        uint32_t len = (uint32_t)s->got[0] | (uint32_t)s->got[1] << 8 |
                       (uint32_t)s->got[2] << 16 | (uint32_t)s->got[3] << 24;
        if (len <= sizeof s->got - 4)
            n += read_exact(fd, s->got + 4, len);
    }
    s->got_len = n;
    if (s->mode == FAKE_REPLY && s->reply_len > 0) {
        ssize_t w = write(fd, s->reply, s->reply_len);
        (void)w;
    } else if (s->mode == FAKE_STALL) {
        usleep((useconds_t)s->stall_ms * 1000);
    }
    close(fd);
    return NULL;
}

static void fake_arm(fake_mode mode)
{
    memset(&g_fake, 0, sizeof g_fake);
    g_fake.mode = mode;
}

static void fake_start(void)
{
    assert_int_equal(pthread_create(&g_thread, NULL, fake_main, &g_fake), 0);
}

static void fake_join(void)
{
    pthread_join(g_thread, NULL);
}

/* ---- hand-encoded protobuf (aesm §3) --------------------------------- */

typedef struct {
    uint8_t b[8192];
    size_t n;
} pb;

static void pb_varint(pb *p, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        p->b[p->n++] = byte | (v ? 0x80 : 0);
    } while (v);
}

static void pb_uint(pb *p, unsigned tag, uint64_t v)
{
    pb_varint(p, (uint64_t)tag << 3 | 0);
    pb_varint(p, v);
}

static void pb_bytes(pb *p, unsigned tag, const void *data, size_t len)
{
    pb_varint(p, (uint64_t)tag << 3 | 2);
    pb_varint(p, len);
    memcpy(p->b + p->n, data, len);
    p->n += len;
}

/* Response { <outer_tag>: sub } as a frame, into the fake's reply. */
static void fake_reply_sub(unsigned outer_tag, const pb *sub)
{
    pb body = {.n = 0};
    pb_bytes(&body, outer_tag, sub->b, sub->n);
    g_fake.reply[0] = (uint8_t)body.n;
    g_fake.reply[1] = (uint8_t)(body.n >> 8);
    g_fake.reply[2] = 0;
    g_fake.reply[3] = 0;
    memcpy(g_fake.reply + 4, body.b, body.n);
    g_fake.reply_len = 4 + body.n;
}

static void fake_reply_code(unsigned outer_tag, uint32_t code)
{
    pb sub = {.n = 0};
    pb_uint(&sub, 1, code);
    fake_reply_sub(outer_tag, &sub);
}

/* ---- fixture ----------------------------------------------------------- */

static client_opts g_opts;

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/sqh-client-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    snprintf(g_sock, sizeof g_sock, "%s/aesm.socket", g_dir);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, g_sock);
    g_listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g_listen_fd < 0 || bind(g_listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(g_listen_fd, 8) != 0)
        return -1;
    client_opts_default(&g_opts);
    g_opts.socket_path = g_sock;
    g_opts.connect_retry_ms = 0;
    g_opts.io_timeout_ms = 3000;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close(g_listen_fd);
    unlink(g_sock);
    rmdir(g_dir);
    return 0;
}

/* ---- the exported library, loaded as DCAP loads it -------------------- */

typedef struct {
    void *h;
    sgx_status_t (*select)(const uint8_t *, uint32_t, sgx_att_key_id_t *);
    sgx_status_t (*init)(const sgx_att_key_id_t *, sgx_target_info_t *, size_t *, uint8_t *);
    sgx_status_t (*size)(const sgx_att_key_id_t *, uint32_t *);
    sgx_status_t (*quote)(const sgx_report_t *, const sgx_att_key_id_t *,
                          sgx_qe_report_info_t *, uint8_t *, uint32_t);
    sgx_status_t (*num)(uint32_t *);
    sgx_status_t (*ids)(sgx_att_key_id_ext_t *, uint32_t);
} qex_lib;

static void qex_open(qex_lib *q)
{
    const char *build = getenv("SGXQH_BUILD_DIR");
    assert_non_null(build);
    char path[512];
    snprintf(path, sizeof path, "%s/src/client/libsgx_quote_ex.so.1", build);
    q->h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    assert_non_null(q->h);
    *(void **)&q->select = dlsym(q->h, "sgx_select_att_key_id");
    *(void **)&q->init = dlsym(q->h, "sgx_init_quote_ex");
    *(void **)&q->size = dlsym(q->h, "sgx_get_quote_size_ex");
    *(void **)&q->quote = dlsym(q->h, "sgx_get_quote_ex");
    *(void **)&q->num = dlsym(q->h, "sgx_get_supported_att_key_id_num");
    *(void **)&q->ids = dlsym(q->h, "sgx_get_supported_att_key_ids");
    assert_non_null(q->select);
    assert_non_null(q->init);
    assert_non_null(q->size);
    assert_non_null(q->quote);
    assert_non_null(q->num);
    assert_non_null(q->ids);
}

static void test_exports_exactly_six(void **state)
{
    (void)state;
    qex_lib q;
    qex_open(&q);
    /* Internal names stay inside (version script: local: *). */
    const char *hidden[] = {"client_transact", "client_get_quote_ex", "wire_frame_encode",
                            "wire_response_decode", "reader_init", "sgx_status_name",
                            "aesm__response__descriptor"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        assert_null(dlsym(q.h, hidden[i]));
    dlclose(q.h);
}

/* Each call must put Intel's exact bytes on the wire, and read Intel-
 * accepted responses back into the same values. */
static void expect_request(const char *capture)
{
    char rel[128];
    snprintf(rel, sizeof rel, "aesm-requests/%s.bin", capture);
    size_t len = 0;
    uint8_t *want = ts_read_vector(rel, &len);
    assert_true(g_fake.connected);
    assert_int_equal(g_fake.got_len, len);
    assert_memory_equal(g_fake.got, want, len);
    free(want);
}

static size_t reply_with_vector(const char *rel)
{
    size_t len = 0;
    uint8_t *v = ts_read_vector(rel, &len);
    assert_true(len <= sizeof g_fake.reply);
    memcpy(g_fake.reply, v, len);
    g_fake.reply_len = len;
    free(v);
    return len;
}

static void test_requests_match_intel_captures(void **state)
{
    (void)state;
    qex_lib q;
    qex_open(&q);
    setenv("SGX_AESM_ADDR", g_sock, 1);
    sgx_att_key_id_t kid;
    ts_spec_ecdsa_key_id(kid.att_key_id);

    /* 01 */
    fake_arm(FAKE_REPLY);
    reply_with_vector("aesm-responses/01_get_supported_att_key_id_num.response.bin");
    fake_start();
    uint32_t num = 0;
    assert_int_equal(q.num(&num), SGX_SUCCESS);
    fake_join();
    expect_request("01_get_supported_att_key_id_num");
    assert_int_equal(num, 1);

    /* 02 */
    fake_arm(FAKE_REPLY);
    reply_with_vector("aesm-responses/02_get_supported_att_key_ids.response.bin");
    fake_start();
    sgx_att_key_id_ext_t ids[1];
    assert_int_equal(q.ids(ids, 1), SGX_SUCCESS);
    fake_join();
    expect_request("02_get_supported_att_key_ids_num1");
    assert_memory_equal(ids, &kid, 256);

    /* 03 */
    fake_arm(FAKE_REPLY);
    reply_with_vector("aesm-responses/03_select_att_key_id.response.bin");
    fake_start();
    sgx_att_key_id_t sel;
    assert_int_equal(q.select(NULL, 0, &sel), SGX_SUCCESS);
    fake_join();
    expect_request("03_select_att_key_id_null_list");
    assert_memory_equal(&sel, &kid, 256);

    /* 04: size query with a zero size → no buf_size field */
    fake_arm(FAKE_REPLY);
    reply_with_vector("aesm-responses/04_init_quote_ex.response.bin");
    fake_start();
    sgx_target_info_t ti;
    size_t size = 0;
    assert_int_equal(q.init(&kid, &ti, &size, NULL), SGX_SUCCESS);
    fake_join();
    expect_request("04_init_quote_ex_sizing");
    assert_int_equal(size, 32);

    /* 05: full init; target info 0xEE…, pub key id 0xAB × 32 */
    fake_arm(FAKE_REPLY);
    reply_with_vector("aesm-responses/05_init_quote_ex.response.bin");
    fake_start();
    uint8_t pkid[32];
    assert_int_equal(q.init(&kid, &ti, &size, pkid), SGX_SUCCESS);
    fake_join();
    expect_request("05_init_quote_ex_with_pub_key_id_buf");
    assert_int_equal(ti.mr_enclave[0], 0xee);
    for (int i = 0; i < 32; i++)
        assert_int_equal(pkid[i], 0xab);

    /* 06: getQuoteSizeExRes { errorCode 0, quote_size 1200 } (the copy in
     * tests/vectors holds the raw bytes; see its README) */
    fake_arm(FAKE_REPLY);
    assert_int_equal(reply_with_vector("aesm-responses/06_get_quote_size_ex.response.bin"), 12);
    fake_start();
    uint32_t qsize = 0;
    assert_int_equal(q.size(&kid, &qsize), SGX_SUCCESS);
    fake_join();
    expect_request("06_get_quote_size_ex");
    assert_int_equal(qsize, 1200);

    /* 07: the synthetic report, byte i = i & 0xff (aesm-clients §5) */
    sgx_report_t report;
    for (size_t i = 0; i < sizeof report; i++)
        ((uint8_t *)&report)[i] = (uint8_t)i;
    fake_arm(FAKE_REPLY);
    size_t rlen = reply_with_vector("aesm-responses/07_get_quote_ex.response.bin");
    assert_int_equal(rlen, 1213);
    fake_start();
    uint8_t quote[1200];
    assert_int_equal(q.quote(&report, &kid, NULL, quote, sizeof quote), SGX_SUCCESS);
    fake_join();
    expect_request("07_get_quote_ex_no_qe_report_info");
    /* quote field: prefix 4 + 8a 01 b5 09 + 08 00 + 12 b0 09 = offset 13 */
    assert_memory_equal(quote, g_fake.reply + 13, sizeof quote);

    /* 08: the recorded list (header + one entry) */
    size_t l08 = 0;
    uint8_t *c08 = ts_read_vector("aesm-requests/08_select_att_key_id_with_list.bin", &l08);
    fake_arm(FAKE_REPLY);
    reply_with_vector("aesm-responses/03_select_att_key_id.response.bin");
    fake_start();
    assert_int_equal(q.select(c08 + 11, 264, &sel), SGX_SUCCESS);
    fake_join();
    expect_request("08_select_att_key_id_with_list");
    free(c08);

    /* 09: DCAP's uninitialised size goes out as buf_size (aesm §7) */
    fake_arm(FAKE_REPLY);
    reply_with_vector("aesm-responses/04_init_quote_ex.response.bin");
    fake_start();
    size = (size_t)140722627616320ULL;
    assert_int_equal(q.init(&kid, &ti, &size, NULL), SGX_SUCCESS);
    fake_join();
    expect_request("09_init_quote_ex_sizing_nonzero_size");
    assert_int_equal(size, 32);

    /* 10: with qe_report_info = nonce 00..0f, the rest zero */
    sgx_qe_report_info_t qri;
    memset(&qri, 0, sizeof qri);
    for (int i = 0; i < 16; i++)
        qri.nonce[i] = (uint8_t)i;
    fake_arm(FAKE_REPLY);
    rlen = reply_with_vector("aesm-responses/10_get_quote_ex_with_qe_report_info.response.bin");
    assert_int_equal(rlen, 2176);
    fake_start();
    assert_int_equal(q.quote(&report, &kid, &qri, quote, sizeof quote), SGX_SUCCESS);
    fake_join();
    expect_request("10_get_quote_ex_with_qe_report_info");
    assert_memory_equal(quote, g_fake.reply + 13, sizeof quote);
    /* qe_report_info follows the quote after its 1a c0 07 key/length. */
    assert_memory_equal(&qri, g_fake.reply + 13 + 1200 + 3, sizeof qri);

    unsetenv("SGX_AESM_ADDR");
    dlclose(q.h);
}

/* aesm §5.3 through GetSupportedAttKeyIDNum (common table only). */
static void test_common_status_mapping(void **state)
{
    (void)state;
    static const struct {
        uint32_t code;
        sgx_status_t want;
    } cases[] = {
        {0, SGX_SUCCESS},
        {1, SGX_ERROR_UNEXPECTED},
        {2, SGX_ERROR_NO_DEVICE},
        {3, SGX_ERROR_INVALID_PARAMETER},
        {12, SGX_ERROR_NETWORK_FAILURE},
        {13, SGX_ERROR_NETWORK_FAILURE},
        {14, SGX_ERROR_NETWORK_FAILURE},
        {17, SGX_ERROR_SERVICE_UNAVAILABLE},
        {30, SGX_ERROR_SERVICE_UNAVAILABLE},
        {46, SGX_ERROR_SERVICE_UNAVAILABLE},
        {48, SGX_ERROR_SERVICE_UNAVAILABLE},
        {18, SGX_ERROR_BUSY},
        {20, SGX_ERROR_UPDATE_NEEDED},
        {21, SGX_ERROR_OUT_OF_MEMORY},
        {31, SGX_ERROR_UNRECOGNIZED_PLATFORM},
        {38, SGX_ERROR_UNEXPECTED}, /* num has no per-API table */
        {42, SGX_ERROR_UNEXPECTED},
        {1000, SGX_ERROR_UNEXPECTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_arm(FAKE_REPLY);
        pb sub = {.n = 0};
        pb_uint(&sub, 1, cases[i].code);
        pb_uint(&sub, 2, 1);
        fake_reply_sub(21, &sub);
        fake_start();
        uint32_t num = 0;
        sgx_status_t s = client_get_supported_att_key_id_num(&g_opts, &num);
        fake_join();
        if (s != cases[i].want)
            fprintf(stderr, "aesm %u: got 0x%04x want 0x%04x\n", cases[i].code, (unsigned)s,
                    (unsigned)cases[i].want);
        assert_int_equal(s, cases[i].want);
        assert_int_equal(num, 1); /* copied whatever the code (aesm §4.5) */
    }
}

typedef enum { OP_SELECT, OP_INIT, OP_SIZE, OP_QUOTE } op_kind;

static sgx_status_t call_op(op_kind op)
{
    sgx_att_key_id_t kid, sel;
    ts_spec_ecdsa_key_id(kid.att_key_id);
    sgx_target_info_t ti;
    uint8_t pkid[32];
    size_t size = 32;
    uint32_t qsize = 0;
    sgx_report_t report;
    memset(&report, 0, sizeof report);
    uint8_t quote[2048];
    switch (op) {
    case OP_SELECT:
        return client_select_att_key_id(&g_opts, NULL, 0, &sel);
    case OP_INIT:
        return client_init_quote_ex(&g_opts, &kid, &ti, &size, pkid);
    case OP_SIZE:
        return client_get_quote_size_ex(&g_opts, &kid, &qsize);
    case OP_QUOTE:
        return client_get_quote_ex(&g_opts, &report, &kid, NULL, quote, sizeof quote);
    }
    return SGX_ERROR_UNEXPECTED;
}

/* aesm §4.1–4.4 per-API tables; the end-to-end columns of §5.4. */
static void test_per_api_status_mapping(void **state)
{
    (void)state;
    static const struct {
        op_kind op;
        unsigned tag;
        uint32_t code;
        sgx_status_t want;
    } cases[] = {
        {OP_SELECT, 19, 38, SGX_ERROR_UNSUPPORTED_ATT_KEY_ID},
        {OP_SELECT, 19, 42, SGX_ERROR_UNEXPECTED},
        {OP_INIT, 15, 38, SGX_ERROR_UNSUPPORTED_ATT_KEY_ID},
        {OP_INIT, 15, 50, SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE},
        {OP_INIT, 15, 44, SGX_ERROR_PLATFORM_CERT_UNAVAILABLE},
        {OP_INIT, 15, 4, SGX_ERROR_AE_INVALID_EPIDBLOB},
        {OP_INIT, 15, 5, SGX_ERROR_EPID_MEMBER_REVOKED},
        {OP_INIT, 15, 19, SGX_ERROR_BUSY},
        {OP_INIT, 15, 16, SGX_ERROR_UNEXPECTED},
        {OP_INIT, 15, 29, SGX_ERROR_OUT_OF_EPC},
        {OP_INIT, 15, 42, SGX_ERROR_UNEXPECTED},
        {OP_INIT, 15, 30, SGX_ERROR_SERVICE_UNAVAILABLE},
        {OP_SIZE, 16, 42, SGX_ERROR_ATT_KEY_UNINITIALIZED},
        {OP_SIZE, 16, 43, SGX_ERROR_UNEXPECTED},
        {OP_SIZE, 16, 38, SGX_ERROR_UNSUPPORTED_ATT_KEY_ID},
        {OP_SIZE, 16, 29, SGX_ERROR_UNEXPECTED},
        {OP_SIZE, 16, 44, SGX_ERROR_UNEXPECTED},
        {OP_QUOTE, 17, 42, SGX_ERROR_ATT_KEY_UNINITIALIZED},
        {OP_QUOTE, 17, 43, SGX_ERROR_UNEXPECTED},
        {OP_QUOTE, 17, 38, SGX_ERROR_UNSUPPORTED_ATT_KEY_ID},
        {OP_QUOTE, 17, 45, SGX_ERROR_MAC_MISMATCH},
        {OP_QUOTE, 17, 47, SGX_ERROR_MAC_MISMATCH},
        {OP_QUOTE, 17, 49, SGX_ERROR_UNEXPECTED},
        {OP_QUOTE, 17, 29, SGX_ERROR_OUT_OF_EPC},
        {OP_QUOTE, 17, 19, SGX_ERROR_BUSY},
        {OP_QUOTE, 17, 50, SGX_ERROR_UNEXPECTED},
        {OP_QUOTE, 17, 3, SGX_ERROR_INVALID_PARAMETER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_arm(FAKE_REPLY);
        fake_reply_code(cases[i].tag, cases[i].code);
        fake_start();
        sgx_status_t s = call_op(cases[i].op);
        fake_join();
        if (s != cases[i].want)
            fprintf(stderr, "case %zu (aesm %u): got 0x%04x want 0x%04x\n", i, cases[i].code,
                    (unsigned)s, (unsigned)cases[i].want);
        assert_int_equal(s, cases[i].want);
    }
}

/* aesm §4.0 step 5, §4.2, aesm-clients §3 table. */
static void test_response_field_rules(void **state)
{
    (void)state;
    sgx_att_key_id_t kid;
    ts_spec_ecdsa_key_id(kid.att_key_id);
    sgx_target_info_t ti;
    uint8_t pkid[32], big[600];
    size_t size;
    pb sub;

    /* target_info longer than 512: UNEXPECTED. */
    fake_arm(FAKE_REPLY);
    memset(big, 0x11, sizeof big);
    sub.n = 0;
    pb_uint(&sub, 1, 0);
    pb_bytes(&sub, 2, big, 513);
    fake_reply_sub(15, &sub);
    fake_start();
    size = 32;
    assert_int_equal(client_init_quote_ex(&g_opts, &kid, &ti, &size, pkid), SGX_ERROR_UNEXPECTED);
    fake_join();

    /* Shorter: copied as is, the rest of the caller's buffer untouched. */
    fake_arm(FAKE_REPLY);
    sub.n = 0;
    pb_uint(&sub, 1, 0);
    pb_bytes(&sub, 2, big, 100);
    pb_uint(&sub, 3, 32);
    fake_reply_sub(15, &sub);
    fake_start();
    memset(&ti, 0x55, sizeof ti);
    memset(pkid, 0x66, sizeof pkid);
    size = 32;
    assert_int_equal(client_init_quote_ex(&g_opts, &kid, &ti, &size, pkid), SGX_SUCCESS);
    fake_join();
    assert_int_equal(((uint8_t *)&ti)[99], 0x11);
    assert_int_equal(((uint8_t *)&ti)[100], 0x55);

    /* pub_key_id of the wrong length: silently not copied. */
    fake_arm(FAKE_REPLY);
    sub.n = 0;
    pb_uint(&sub, 1, 0);
    pb_uint(&sub, 3, 32);
    pb_bytes(&sub, 4, big, 31);
    fake_reply_sub(15, &sub);
    fake_start();
    size = 32;
    assert_int_equal(client_init_quote_ex(&g_opts, &kid, &ti, &size, pkid), SGX_SUCCESS);
    fake_join();
    assert_int_equal(pkid[0], 0x66);

    /* pub_key_id matching the returned size but larger than the buffer
     * the caller declared: UNEXPECTED. */
    fake_arm(FAKE_REPLY);
    sub.n = 0;
    pb_uint(&sub, 1, 0);
    pb_uint(&sub, 3, 32);
    pb_bytes(&sub, 4, big, 32);
    fake_reply_sub(15, &sub);
    fake_start();
    size = 16;
    assert_int_equal(client_init_quote_ex(&g_opts, &kid, &ti, &size, pkid), SGX_ERROR_UNEXPECTED);
    fake_join();

    /* Quote longer than the caller's buffer: UNEXPECTED. */
    sgx_report_t report;
    memset(&report, 0, sizeof report);
    uint8_t quote[500];
    fake_arm(FAKE_REPLY);
    sub.n = 0;
    pb_uint(&sub, 1, 0);
    pb_bytes(&sub, 2, big, 501);
    fake_reply_sub(17, &sub);
    fake_start();
    assert_int_equal(client_get_quote_ex(&g_opts, &report, &kid, NULL, quote, sizeof quote),
                     SGX_ERROR_UNEXPECTED);
    fake_join();

    /* Fields are copied even with an error code (aesm §4.0 step 5). */
    fake_arm(FAKE_REPLY);
    sub.n = 0;
    pb_uint(&sub, 1, 42);
    pb_uint(&sub, 2, 77);
    fake_reply_sub(16, &sub);
    fake_start();
    uint32_t qsize = 5;
    assert_int_equal(client_get_quote_size_ex(&g_opts, &kid, &qsize),
                     SGX_ERROR_ATT_KEY_UNINITIALIZED);
    fake_join();
    assert_int_equal(qsize, 77);

    /* quote_size absent: 0 with success (aesm §4.3). */
    fake_arm(FAKE_REPLY);
    fake_reply_code(16, 0);
    fake_start();
    qsize = 5;
    assert_int_equal(client_get_quote_size_ex(&g_opts, &kid, &qsize), SGX_SUCCESS);
    fake_join();
    assert_int_equal(qsize, 0);

    /* errorCode absent reads as its default, 1 (aesm-clients §3). */
    fake_arm(FAKE_REPLY);
    sub.n = 0;
    pb_uint(&sub, 2, 1);
    fake_reply_sub(21, &sub);
    fake_start();
    uint32_t num = 0;
    assert_int_equal(client_get_supported_att_key_id_num(&g_opts, &num), SGX_ERROR_UNEXPECTED);
    fake_join();
    assert_int_equal(num, 1);

    /* Unknown fields, inner and outer, are ignored. */
    fake_arm(FAKE_REPLY);
    sub.n = 0;
    pb_uint(&sub, 1, 0);
    pb_uint(&sub, 2, 1);
    pb_uint(&sub, 15, 12345);
    {
        pb body = {.n = 0};
        pb_bytes(&body, 21, sub.b, sub.n);
        pb_uint(&body, 99, 7);
        g_fake.reply[0] = (uint8_t)body.n;
        memcpy(g_fake.reply + 4, body.b, body.n);
        g_fake.reply_len = 4 + body.n;
    }
    fake_start();
    assert_int_equal(client_get_supported_att_key_id_num(&g_opts, &num), SGX_SUCCESS);
    fake_join();

    /* The wrong sub-message (Intel's client would crash): UNEXPECTED. */
    fake_arm(FAKE_REPLY);
    fake_reply_code(16, 0);
    fake_start();
    assert_int_equal(client_get_supported_att_key_id_num(&g_opts, &num), SGX_ERROR_UNEXPECTED);
    fake_join();

    /* An empty body (length 0): UNEXPECTED. */
    fake_arm(FAKE_REPLY);
    memset(g_fake.reply, 0, 4);
    g_fake.reply_len = 4;
    fake_start();
    assert_int_equal(client_get_supported_att_key_id_num(&g_opts, &num), SGX_ERROR_UNEXPECTED);
    fake_join();

    /* Supported ids longer than num × 256: UNEXPECTED. */
    fake_arm(FAKE_REPLY);
    sub.n = 0;
    pb_uint(&sub, 1, 0);
    {
        static uint8_t two[512];
        pb_bytes(&sub, 2, two, sizeof two);
    }
    fake_reply_sub(22, &sub);
    fake_start();
    sgx_att_key_id_ext_t ids[1];
    assert_int_equal(client_get_supported_att_key_ids(&g_opts, ids, 1), SGX_ERROR_UNEXPECTED);
    fake_join();
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* aesm §4.0 step 3 and §5.2: transport outcomes. */
static void test_transport_failures(void **state)
{
    (void)state;
    uint32_t num = 0;

    /* Closed without a byte: UNEXPECTED. */
    fake_arm(FAKE_CLOSE);
    fake_start();
    assert_int_equal(client_get_supported_att_key_id_num(&g_opts, &num), SGX_ERROR_UNEXPECTED);
    fake_join();
    assert_true(g_fake.connected);

    /* Fewer body bytes than the prefix announced: UNEXPECTED. */
    fake_arm(FAKE_REPLY);
    memcpy(g_fake.reply, "\x14\x00\x00\x00\xaa\x01\x04", 7);
    g_fake.reply_len = 7;
    fake_start();
    assert_int_equal(client_get_supported_att_key_id_num(&g_opts, &num), SGX_ERROR_UNEXPECTED);
    fake_join();

    /* An absurd announced length is refused before allocating. */
    fake_arm(FAKE_REPLY);
    memcpy(g_fake.reply, "\xf0\xff\xff\xff", 4);
    g_fake.reply_len = 4;
    fake_start();
    assert_int_equal(client_get_supported_att_key_id_num(&g_opts, &num), SGX_ERROR_UNEXPECTED);
    fake_join();

    /* No answer within the I/O deadline: SERVICE_TIMEOUT. */
    client_opts slow = g_opts;
    slow.io_timeout_ms = 200;
    fake_arm(FAKE_STALL);
    g_fake.stall_ms = 1500;
    fake_start();
    int64_t t0 = now_ms();
    assert_int_equal(client_get_supported_att_key_id_num(&slow, &num),
                     SGX_ERROR_SERVICE_TIMEOUT);
    int64_t took = now_ms() - t0;
    fake_join();
    assert_true(took >= 180 && took < 1400);

    /* Nobody listening, no retry: SERVICE_UNAVAILABLE at once. */
    client_opts none = g_opts;
    char missing[256];
    snprintf(missing, sizeof missing, "%s/missing.socket", g_dir);
    none.socket_path = missing;
    t0 = now_ms();
    assert_int_equal(client_get_supported_att_key_id_num(&none, &num),
                     SGX_ERROR_SERVICE_UNAVAILABLE);
    assert_true(now_ms() - t0 < 500);

    /* With a retry budget it keeps trying for that long, then gives up. */
    none.connect_retry_ms = 300;
    t0 = now_ms();
    assert_int_equal(client_get_supported_att_key_id_num(&none, &num),
                     SGX_ERROR_SERVICE_UNAVAILABLE);
    took = now_ms() - t0;
    assert_true(took >= 280 && took < 1500);
}

/* aesm-clients §2 "Calls with no I/O": these never touch the socket. */
static void test_invalid_parameters_without_io(void **state)
{
    (void)state;
    sgx_att_key_id_t kid, sel;
    ts_spec_ecdsa_key_id(kid.att_key_id);
    sgx_target_info_t ti;
    uint8_t pkid[32], quote[16], list[8];
    size_t size;
    uint32_t u32;
    sgx_report_t report;
    memset(&report, 0, sizeof report);
    sgx_att_key_id_ext_t ids[1];

    fake_arm(FAKE_NO_ACCEPT);
    fake_start();
    assert_int_equal(client_select_att_key_id(&g_opts, NULL, 8, &sel),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_select_att_key_id(&g_opts, list, 8, NULL),
                     SGX_ERROR_INVALID_PARAMETER);
    size = 32;
    assert_int_equal(client_init_quote_ex(&g_opts, &kid, &ti, NULL, pkid),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_init_quote_ex(&g_opts, &kid, NULL, &size, pkid),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_init_quote_ex(&g_opts, NULL, &ti, &size, pkid),
                     SGX_ERROR_INVALID_PARAMETER);
    size = 0;
    assert_int_equal(client_init_quote_ex(&g_opts, &kid, &ti, &size, pkid),
                     SGX_ERROR_INVALID_PARAMETER);
    size = (size_t)UINT32_MAX;
    assert_int_equal(client_init_quote_ex(&g_opts, &kid, &ti, &size, pkid),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_get_quote_size_ex(&g_opts, &kid, NULL),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_get_quote_ex(&g_opts, NULL, &kid, NULL, quote, sizeof quote),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_get_quote_ex(&g_opts, &report, NULL, NULL, quote, sizeof quote),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_get_quote_ex(&g_opts, &report, &kid, NULL, NULL, sizeof quote),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_get_quote_ex(&g_opts, &report, &kid, NULL, quote, 0),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_get_supported_att_key_id_num(&g_opts, NULL),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_get_supported_att_key_ids(&g_opts, NULL, 1),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_get_supported_att_key_ids(&g_opts, ids, 0),
                     SGX_ERROR_INVALID_PARAMETER);
    assert_int_equal(client_get_supported_att_key_ids(&g_opts, ids, 0x01000000u),
                     SGX_ERROR_INVALID_PARAMETER);
    (void)u32;
    fake_join();
    assert_false(g_fake.connected);
}

static void test_socket_path_resolution(void **state)
{
    (void)state;
    unsetenv("SGX_AESM_ADDR");
    assert_string_equal(client_socket_path(NULL), "/var/run/aesmd/aesm.socket");
    /* Intel's samples and the webhook set "1": the value is a flag. */
    setenv("SGX_AESM_ADDR", "1", 1);
    assert_string_equal(client_socket_path(NULL), "/var/run/aesmd/aesm.socket");
    setenv("SGX_AESM_ADDR", "", 1);
    assert_string_equal(client_socket_path(NULL), "/var/run/aesmd/aesm.socket");
    setenv("SGX_AESM_ADDR", "relative/aesm.socket", 1);
    assert_string_equal(client_socket_path(NULL), "/var/run/aesmd/aesm.socket");
    setenv("SGX_AESM_ADDR", "/run/other/aesm.socket", 1);
    assert_string_equal(client_socket_path(NULL), "/run/other/aesm.socket");
    client_opts o;
    client_opts_default(&o);
    assert_string_equal(client_socket_path(&o), "/run/other/aesm.socket");
    o.socket_path = "/explicit.sock";
    assert_string_equal(client_socket_path(&o), "/explicit.sock");
    unsetenv("SGX_AESM_ADDR");
}

static void test_quote_length(void **state)
{
    (void)state;
    uint8_t q[1300];
    memset(q, 0, sizeof q);
    assert_int_equal(client_quote_length(q, 435), 0); /* no room for the length */
    assert_int_equal(client_quote_length(q, sizeof q), 436);
    q[432] = 0x10; /* 0x310 = 784 */
    q[433] = 0x03;
    assert_int_equal(client_quote_length(q, sizeof q), 436 + 784);
    assert_int_equal(client_quote_length(q, 436 + 783), 0); /* does not fit */
    q[435] = 0xff;
    assert_int_equal(client_quote_length(q, sizeof q), 0);
}

static void test_default_key_id_and_names(void **state)
{
    (void)state;
    sgx_att_key_id_t a, b;
    client_default_ecdsa_key_id(&a);
    ts_spec_ecdsa_key_id(b.att_key_id);
    assert_memory_equal(&a, &b, sizeof a);
    assert_string_equal(sgx_status_name(SGX_ERROR_SERVICE_UNAVAILABLE),
                        "SGX_ERROR_SERVICE_UNAVAILABLE");
    assert_string_equal(sgx_status_name((sgx_status_t)0x7777), "SGX_ERROR_UNKNOWN");
    assert_int_equal(client_err_to_sgx(CLIENT_E_UNAVAILABLE), SGX_ERROR_SERVICE_UNAVAILABLE);
    assert_int_equal(client_err_to_sgx(CLIENT_E_TIMEOUT), SGX_ERROR_SERVICE_TIMEOUT);
    assert_int_equal(client_err_to_sgx(CLIENT_E_IO), SGX_ERROR_UNEXPECTED);
    assert_int_equal(client_err_to_sgx(CLIENT_E_TOO_LARGE), SGX_ERROR_UNEXPECTED);
    assert_string_not_equal(client_strerror(CLIENT_E_TIMEOUT), client_strerror(CLIENT_E_IO));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exports_exactly_six),
        cmocka_unit_test(test_requests_match_intel_captures),
        cmocka_unit_test(test_common_status_mapping),
        cmocka_unit_test(test_per_api_status_mapping),
        cmocka_unit_test(test_response_field_rules),
        cmocka_unit_test(test_transport_failures),
        cmocka_unit_test(test_invalid_parameters_without_io),
        cmocka_unit_test(test_socket_path_resolution),
        cmocka_unit_test(test_quote_length),
        cmocka_unit_test(test_default_key_id_and_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
