/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes what reaches the simulated platform from outside: the app REPORT
 * and qe_report_info a client sends to sim_get_quote (raw bytes off the
 * aesm socket), and the TCB setting strings sim_tcb_config_apply parses
 * (CLI flags / daemon config). Mode byte 0 feeds the report as is (almost
 * always rejected by the MAC check); mode 1 MACs a report with a fuzzed
 * identity for the QE, so the whole quote path runs with fuzzed bodies,
 * nonces and app target infos.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sgxqh/quote.h"
#include "sim/sim.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sim_platform *platform;
static char state_dir[] = "/tmp/sqh-fuzz-sim.XXXXXX";
static uint8_t *quote_buf;
static size_t quote_cap;

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void remove_state(void)
{
    nftw(state_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (mkdtemp(state_dir) == NULL)
        abort();
    atexit(remove_state);
    sim_options o;
    memset(&o, 0, sizeof o);
    o.state_dir = state_dir;
    o.instance = "fuzz";
    sim_tcb_config_default(&o.tcb);
    char err[512];
    if (sim_platform_open(&o, &platform, err, sizeof err) != SIM_OK) {
        fprintf(stderr, "fuzz_sim_inputs: %s\n", err);
        abort();
    }
    quote_cap = sim_quote_size(platform);
    quote_buf = malloc(quote_cap);
    if (quote_buf == NULL)
        abort();
    return 0;
}

static void fuzz_setting(const uint8_t *data, size_t size)
{
    char s[256];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    sim_tcb_config cfg;
    sim_tcb_config_default(&cfg);
    char err[256];
    (void)sim_tcb_config_apply(&cfg, s, err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    if (mode >= 2) {
        fuzz_setting(data, size);
        return 0;
    }
    sgx_report_t rep;
    sgx_qe_report_info_t qri;
    memset(&rep, 0, sizeof rep);
    memset(&qri, 0, sizeof qri);
    size_t n = size < sizeof rep ? size : sizeof rep;
    memcpy(&rep, data, n);
    if (size > sizeof rep) {
        size_t m = size - sizeof rep;
        memcpy(&qri, data + sizeof rep, m < sizeof qri ? m : sizeof qri);
    }
    if (mode == 1) {
        /* A well-formed report for the QE with a fuzzed identity. */
        sim_enclave_identity id;
        sgx_target_info_t ti;
        sim_enclave_identity_default(&id);
        memcpy(id.mr_enclave, rep.body.mr_enclave, 32);
        memcpy(id.cpu_svn, rep.body.cpu_svn, 16);
        memcpy(id.report_data, rep.body.report_data, 64);
        id.flags = rep.body.attributes.flags;
        id.xfrm = rep.body.attributes.xfrm;
        id.misc_select = rep.body.misc_select;
        sim_qe_target_info(platform, &ti);
        if (sim_ereport(&id, &ti, &rep) != SIM_OK)
            abort();
    }
    size_t len = 0;
    int rc = sim_get_quote(platform, &rep, size > sizeof rep ? &qri : NULL, quote_buf,
                           quote_cap, &len);
    if (mode == 1 && rc != SIM_OK)
        abort(); /* a report made for the QE must be accepted */
    if (rc == SIM_OK) {
        quote_view v;
        if (len != quote_cap || quote_parse(quote_buf, len, &v) != QUOTE_OK)
            abort();
    }
    return 0;
}
