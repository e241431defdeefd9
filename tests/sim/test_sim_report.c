/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SDK-simulation-compatible EREPORT/EGETKEY (src/sim/report.c) against the
 * computed vector of quote-format §4.7: the 192-byte derivation data, the
 * REPORT key and the MAC must come out byte for byte, and verification must
 * reject any report not made for the verifying target.
 */
#include "sim_tutil.h"

#include "sgxqh/quote.h"
#include "sim/sim.h"
#include "sim/sim_internal.h"

/* quote-format §4.7 */
static const char VEC_DERIVATION[] =
    "0300000000000000" "0100000000000000" "0300000000000000" "00000000"
    "5448495349534f574e455245504f4348"
    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    "4820f3376ae6b2f2034d3b7a4b48a778" "0000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000"
    "ff00ff00ff00ff00ff00ff00ff00ff00" "00000000000000000000000000000000" "0000";
static const char VEC_KEY[] = "7b9550cdb15201787224ac1808358272";
static const char VEC_MAC[] = "6c07af1bf04a22be01bc55d22a21f468";
static const char VEC_DEFAULT_CPUSVN[] = "4820f3376ae6b2f2034d3b7a4b48a778";

static void vector_target(sgx_target_info_t *ti)
{
    memset(ti, 0, sizeof *ti);
    memset(ti->mr_enclave, 0xee, sizeof ti->mr_enclave);
    ti->attributes.flags = 0x1;
    ti->attributes.xfrm = 0x3;
}

static void vector_key_id(uint8_t key_id[32])
{
    memset(key_id, 0, 32);
    for (int i = 0; i < 16; i++)
        key_id[i] = (i % 2 == 0) ? 0xff : 0x00;
}

/* The enclave whose report the vector MACs: body all zero except cpu_svn,
 * flags 0x7, xfrm 0x3, mr_enclave 00..1f, report_data 64 x 0x11. */
static void vector_enclave(sim_enclave_identity *id)
{
    memset(id, 0, sizeof *id);
    ts_unhex(VEC_DEFAULT_CPUSVN, id->cpu_svn, 16);
    id->flags = 0x7;
    id->xfrm = 0x3;
    for (int i = 0; i < 32; i++)
        id->mr_enclave[i] = (uint8_t)i;
    memset(id->report_data, 0x11, sizeof id->report_data);
}

static void test_default_cpusvn_constant(void **state)
{
    (void)state;
    uint8_t expect[16];
    ts_unhex(VEC_DEFAULT_CPUSVN, expect, 16);
    assert_memory_equal(SIM_SDK_DEFAULT_CPUSVN, expect, 16);
}

static void test_derivation_data_vector(void **state)
{
    (void)state;
    sgx_target_info_t ti;
    uint8_t key_id[32], cpusvn[16], got[SIM_REPORT_DERIVATION_LEN], expect[192];
    vector_target(&ti);
    vector_key_id(key_id);
    ts_unhex(VEC_DEFAULT_CPUSVN, cpusvn, 16);
    assert_int_equal(strlen(VEC_DERIVATION), 2 * 192);
    ts_unhex(VEC_DERIVATION, expect, sizeof expect);
    sim_report_derivation_data(&ti, cpusvn, key_id, got);
    assert_memory_equal(got, expect, 192);
}

static void test_report_key_vector(void **state)
{
    (void)state;
    sgx_target_info_t ti;
    uint8_t key_id[32], cpusvn[16], key[16], expect[16];
    vector_target(&ti);
    vector_key_id(key_id);
    ts_unhex(VEC_DEFAULT_CPUSVN, cpusvn, 16);
    ts_unhex(VEC_KEY, expect, 16);
    assert_int_equal(sim_report_key_derive(&ti, cpusvn, key_id, key), SIM_OK);
    assert_memory_equal(key, expect, 16);
}

static void test_ereport_mac_vector(void **state)
{
    (void)state;
    sgx_target_info_t ti;
    sim_enclave_identity id;
    sgx_report_t rep;
    uint8_t expect_mac[16], expect_key_id[32];
    vector_target(&ti);
    vector_enclave(&id);
    vector_key_id(expect_key_id);
    ts_unhex(VEC_MAC, expect_mac, 16);

    assert_int_equal(sim_ereport(&id, &ti, &rep), SIM_OK);
    assert_memory_equal(rep.key_id, expect_key_id, 32);
    assert_memory_equal(rep.mac, expect_mac, 16);
    /* Body wire bytes as the vector describes them (quote-format §1.3). */
    uint8_t raw[384];
    sgx_report_body_encode(&rep.body, raw);
    assert_memory_equal(raw + 0, id.cpu_svn, 16);
    assert_int_equal(raw[48], 0x7);
    assert_int_equal(raw[56], 0x3);
    assert_int_equal(raw[64 + 31], 31);
    assert_int_equal(raw[320], 0x11);
    assert_int_equal(raw[383], 0x11);
}

static void test_verify_report(void **state)
{
    (void)state;
    sgx_target_info_t ti, other;
    sim_enclave_identity id;
    sgx_report_t rep, bad;
    vector_target(&ti);
    vector_enclave(&id);
    assert_int_equal(sim_ereport(&id, &ti, &rep), SIM_OK);
    assert_int_equal(sim_verify_report(&ti, id.cpu_svn, &rep), SIM_OK);

    /* Another enclave (different MRENCLAVE / attributes) cannot verify it. */
    other = ti;
    other.mr_enclave[0] ^= 1;
    assert_int_equal(sim_verify_report(&other, id.cpu_svn, &rep), SIM_E_INVALID_REPORT);
    other = ti;
    other.attributes.xfrm = 0x7;
    assert_int_equal(sim_verify_report(&other, id.cpu_svn, &rep), SIM_E_INVALID_REPORT);
    other = ti;
    other.misc_select = 1;
    assert_int_equal(sim_verify_report(&other, id.cpu_svn, &rep), SIM_E_INVALID_REPORT);
    other = ti;
    other.config_svn = 1; /* derivation offset 92 (quote-format §4.5) */
    assert_int_equal(sim_verify_report(&other, id.cpu_svn, &rep), SIM_E_INVALID_REPORT);
    /* A different CPUSVN means a different key. */
    uint8_t cpusvn[16];
    memcpy(cpusvn, id.cpu_svn, 16);
    cpusvn[15] ^= 1;
    assert_int_equal(sim_verify_report(&ti, cpusvn, &rep), SIM_E_INVALID_REPORT);
    /* Any body, key id or MAC bit flipped. */
    bad = rep;
    bad.body.report_data[63] ^= 0x80;
    assert_int_equal(sim_verify_report(&ti, id.cpu_svn, &bad), SIM_E_INVALID_REPORT);
    bad = rep;
    bad.body.isv_svn = 1;
    assert_int_equal(sim_verify_report(&ti, id.cpu_svn, &bad), SIM_E_INVALID_REPORT);
    bad = rep;
    bad.key_id[31] ^= 1;
    assert_int_equal(sim_verify_report(&ti, id.cpu_svn, &bad), SIM_E_INVALID_REPORT);
    bad = rep;
    bad.mac[0] ^= 1;
    assert_int_equal(sim_verify_report(&ti, id.cpu_svn, &bad), SIM_E_INVALID_REPORT);
}

/* The identity fields behind `--attributes`, `--xfrm`, `--misc-select` and
 * `--config-svn` reach the wire body at quote-format §1.3's offsets, and a
 * report targeted at such an enclave (its target info taken from its own
 * report, §4.1) verifies only with those values. */
static void test_ereport_identity_fields(void **state)
{
    (void)state;
    sgx_target_info_t ti, self_ti;
    sim_enclave_identity id, peer;
    sgx_report_t rep, back;
    uint8_t raw[SGX_REPORT_BODY_SIZE];
    vector_target(&ti);
    sim_enclave_identity_default(&id);
    id.flags = 0x85;
    id.xfrm = 0x1f;
    id.misc_select = 0xa5000001u;
    id.config_svn = 0x0102;
    assert_int_equal(sim_ereport(&id, &ti, &rep), SIM_OK);
    assert_int_equal(sim_verify_report(&ti, id.cpu_svn, &rep), SIM_OK);
    sgx_report_body_encode(&rep.body, raw);
    static const uint8_t misc[4] = {0x01, 0x00, 0x00, 0xa5};
    static const uint8_t attr[16] = {0x85, 0, 0, 0, 0, 0, 0, 0, 0x1f, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t csvn[2] = {0x02, 0x01};
    assert_memory_equal(raw + 16, misc, 4);
    assert_memory_equal(raw + 48, attr, 16);
    assert_memory_equal(raw + 260, csvn, 2);

    /* A report back to this enclave (as the QE's report for the app). */
    sgx_target_info_from_report(&rep.body, &self_ti);
    assert_int_equal(self_ti.config_svn, 0x0102);
    sim_enclave_identity_default(&peer);
    memset(peer.mr_enclave, 0x42, sizeof peer.mr_enclave);
    assert_int_equal(sim_ereport(&peer, &self_ti, &back), SIM_OK);
    assert_int_equal(sim_verify_report(&self_ti, id.cpu_svn, &back), SIM_OK);
    self_ti.config_svn = 0;
    assert_int_equal(sim_verify_report(&self_ti, id.cpu_svn, &back), SIM_E_INVALID_REPORT);
}

static void test_identity_default(void **state)
{
    (void)state;
    sim_enclave_identity id;
    sim_enclave_identity_default(&id);
    assert_memory_equal(id.cpu_svn, SIM_SDK_DEFAULT_CPUSVN, 16);
    /* docs/simulation.md "Simulated enclaves": flags 0x5, xfrm 0x3, rest 0 */
    assert_true(id.flags == 0x5);
    assert_true(id.xfrm == 0x3);
    assert_int_equal(id.misc_select, 0);
    assert_int_equal(id.config_svn, 0);
    assert_true((id.flags & SGX_FLAGS_INITTED) != 0);
    assert_true((id.flags & SGX_FLAGS_DEBUG) == 0); /* non-debug by default */
    uint8_t zero[32] = {0};
    assert_memory_not_equal(id.mr_enclave, zero, 32);
    assert_memory_not_equal(id.mr_signer, zero, 32);
}

static void test_tcb_status_names(void **state)
{
    (void)state;
    static const char *names[] = {"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                                  "OutOfDate", "Revoked"};
    for (int i = 0; i < 5; i++) {
        sim_tcb_status s;
        assert_int_equal(sim_tcb_status_parse(names[i], &s), SIM_OK);
        assert_int_equal((int)s, i);
        assert_string_equal(sim_tcb_status_name(s), names[i]);
    }
    sim_tcb_status s;
    assert_int_equal(sim_tcb_status_parse("uptodate", &s), SIM_OK);
    assert_int_equal(s, SIM_TCB_UP_TO_DATE);
    assert_int_equal(sim_tcb_status_parse("Fine", &s), SIM_E_CONFIG);
    assert_int_equal(sim_tcb_status_parse("ConfigurationAndSWHardeningNeeded", &s), SIM_E_CONFIG);
}

static void test_tcb_config_apply(void **state)
{
    (void)state;
    sim_tcb_config c;
    char err[256];
    sim_tcb_config_default(&c);
    assert_int_equal(sim_tcb_config_apply(&c, "fmspc=00906ED50000", err, sizeof err), SIM_OK);
    const uint8_t fmspc[6] = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
    assert_memory_equal(c.fmspc, fmspc, 6);
    assert_int_equal(sim_tcb_config_apply(&c, "tcb=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,255", err,
                                          sizeof err),
                     SIM_OK);
    assert_int_equal(c.comp_svn[0], 1);
    assert_int_equal(c.comp_svn[15], 255);
    assert_int_equal(sim_tcb_config_apply(&c, "tcb=0a0b0c0d0e0f00000000000000000001", err,
                                          sizeof err),
                     SIM_OK);
    assert_int_equal(c.comp_svn[0], 10);
    assert_int_equal(c.comp_svn[15], 1);
    assert_int_equal(sim_tcb_config_apply(&c, "pcesvn=11", err, sizeof err), SIM_OK);
    assert_int_equal(c.pcesvn, 11);
    assert_int_equal(sim_tcb_config_apply(&c, "qe-svn=7", err, sizeof err), SIM_OK);
    assert_int_equal(c.qe_svn, 7);
    assert_int_equal(sim_tcb_config_apply(&c, "status=OutOfDate", err, sizeof err), SIM_OK);
    assert_int_equal(c.tcb_status, SIM_TCB_OUT_OF_DATE);

    const char *bad[] = {"fmspc=00906ED500", "tcb=1,2,3", "tcb=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,256",
                         "pcesvn=65536", "pcesvn=-1", "qe-svn=x", "sgx-type=3", "colour=blue",
                         "status", "status=Great"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(sim_tcb_config_apply(&c, bad[i], err, sizeof err), SIM_E_CONFIG);
        assert_true(strlen(err) > 0);
    }
}

static void test_strerror_names(void **state)
{
    (void)state;
    assert_non_null(strstr(sim_strerror(SIM_E_SEED_SIZE), "SIM_E_SEED_SIZE"));
    assert_non_null(strstr(sim_strerror(SIM_E_SEED_MODE), "SIM_E_SEED_MODE"));
    assert_non_null(strstr(sim_strerror(SIM_E_INVALID_REPORT), "SIM_E_INVALID_REPORT"));
    assert_non_null(strstr(sim_remedy(SIM_E_SEED_MODE), "0600"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_cpusvn_constant),
        cmocka_unit_test(test_derivation_data_vector),
        cmocka_unit_test(test_report_key_vector),
        cmocka_unit_test(test_ereport_mac_vector),
        cmocka_unit_test(test_verify_report),
        cmocka_unit_test(test_ereport_identity_fields),
        cmocka_unit_test(test_identity_default),
        cmocka_unit_test(test_tcb_status_names),
        cmocka_unit_test(test_tcb_config_apply),
        cmocka_unit_test(test_strerror_names),
    };
    return cmocka_run_group_tests_name("sim_report", tests, NULL, NULL);
}
