/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Options the simulation-facing commands share (`get`, `enclave`,
 * `collateral`): which simulated platform to open (state dir, seed, instance,
 * TCB settings) and which simulated enclave identity to report as. The
 * helpers live in cmd_enclave.c; each command lists the long options it
 * accepts with the macros below and hands unknown codes to these parsers.
 */
#ifndef SGXQH_CLI_SIM_CLI_H
#define SGXQH_CLI_SIM_CLI_H

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>

#include "sim/sim.h"

enum {
    SIMOPT_STATE_DIR = 1000,
    SIMOPT_SEED_FILE,
    SIMOPT_INSTANCE,
    SIMOPT_TCB_STATUS,
    SIMOPT_TCB,
    SIMOPT_NOW,
    SIMOPT_INIT_SEED,
    IDOPT_MRENCLAVE = 1100,
    IDOPT_MRSIGNER,
    IDOPT_ISV_PROD_ID,
    IDOPT_ISV_SVN,
    IDOPT_DEBUG,
    IDOPT_CPUSVN,
    IDOPT_REPORT_DATA,
    IDOPT_REPORT_DATA_FILE,
    IDOPT_ATTRIBUTES,
    IDOPT_XFRM,
    IDOPT_MISC_SELECT,
    IDOPT_CONFIG_SVN,
};

#define SIM_PLATFORM_LONGOPTS                                                                      \
    {"state-dir", required_argument, NULL, SIMOPT_STATE_DIR},                                      \
    {"seed-file", required_argument, NULL, SIMOPT_SEED_FILE},                                      \
    {"instance", required_argument, NULL, SIMOPT_INSTANCE},                                        \
    {"sim-tcb-status", required_argument, NULL, SIMOPT_TCB_STATUS},                                \
    {"sim-tcb", required_argument, NULL, SIMOPT_TCB},                                              \
    {"now", required_argument, NULL, SIMOPT_NOW},                                                  \
    {"init-seed", no_argument, NULL, SIMOPT_INIT_SEED}

#define SIM_IDENTITY_LONGOPTS                                                                      \
    {"mrenclave", required_argument, NULL, IDOPT_MRENCLAVE},                                       \
    {"mrsigner", required_argument, NULL, IDOPT_MRSIGNER},                                         \
    {"isv-prod-id", required_argument, NULL, IDOPT_ISV_PROD_ID},                                   \
    {"isv-svn", required_argument, NULL, IDOPT_ISV_SVN},                                           \
    {"debug", no_argument, NULL, IDOPT_DEBUG},                                                     \
    {"cpusvn", required_argument, NULL, IDOPT_CPUSVN},                                             \
    {"report-data", required_argument, NULL, IDOPT_REPORT_DATA},                                   \
    {"report-data-file", required_argument, NULL, IDOPT_REPORT_DATA_FILE},                         \
    {"attributes", required_argument, NULL, IDOPT_ATTRIBUTES},                                     \
    {"xfrm", required_argument, NULL, IDOPT_XFRM},                                                 \
    {"misc-select", required_argument, NULL, IDOPT_MISC_SELECT},                                   \
    {"config-svn", required_argument, NULL, IDOPT_CONFIG_SVN}

/* Help text for the two groups (one option per line, two-space indent). */
extern const char SIM_PLATFORM_HELP[];
extern const char SIM_IDENTITY_HELP[];

typedef struct {
    sim_options opt;
    bool any_set; /* a platform option was given */
    bool init_seed; /* --init-seed: create the seed when absent */
    char state_dir[PATH_MAX];
} cli_sim;

typedef struct {
    sim_enclave_identity id;
    bool any_set;          /* an identity option was given */
    bool report_data_set;
    bool debug;            /* --debug: DEBUG is set whatever --attributes says */
} cli_identity;

/* Parsers return 1 when they handled the option, 0 when it is not theirs,
 * and -1 after printing "sgx-quote <cmd>: <what is wrong>" to stderr. */
void cli_sim_init(cli_sim *s);
int cli_sim_option(cli_sim *s, int code, const char *arg, const char *cmd);
/* Opens the platform (default state dir if none given); prints the error
 * and its remedy and returns a CLI_EXIT_* code on failure, 0 on success. */
int cli_sim_open(cli_sim *s, sim_platform **out, const char *cmd);

void cli_identity_init(cli_identity *id);
int cli_identity_option(cli_identity *id, int code, const char *arg, const char *cmd);

/* Reads exactly sizeof(*out) bytes of a binary structure from path
 * ("-" = stdin); prints what is wrong and returns a CLI_EXIT_* code. */
int cli_read_struct(const char *path, void *out, size_t size, const char *what, const char *cmd);
/* Writes and prints what is wrong; returns a CLI_EXIT_* code. */
int cli_write_out(const char *path, const void *data, size_t len, const char *what,
                  const char *cmd);

#endif
