/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sgx-quote bench quote|verify`: dispatches to the benchmarks in bench/.
 * Benchmarks report ratios measured side by side in one run, because the
 * machines are noisy; they are never run as timed tests.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cli.h"

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: sgx-quote bench quote [OPTIONS]   throughput, latency, CPU, RSS of the daemon; --json\n"
               "       sgx-quote bench quote --tdx [OPTIONS] the TDX QGS path beside the AESM path\n"
               "       sgx-quote bench verify [OPTIONS]  verifications/s vs @phala/dcap-qvl\n");
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    int (*fn)(int, char **) = NULL;
    bool tdx = false;
    for (int i = 2; i < argc; i++)
        tdx |= strcmp(argv[i], "--tdx") == 0;
    if (strcmp(argv[1], "quote") == 0)
        fn = tdx ? bench_tdx_main : bench_quote_main;
    else if (strcmp(argv[1], "verify") == 0)
        fn = bench_verify_main;
    else {
        fprintf(stderr, "sgx-quote bench: unknown benchmark '%s' (quote, verify)\n", argv[1]);
        return CLI_EXIT_USAGE;
    }
    if (fn == NULL) {
        fprintf(stderr, "sgx-quote bench: '%s' is not built into this sgx-quote\n", argv[1]);
        return CLI_EXIT_FAIL;
    }
    return fn(argc - 1, argv + 1);
}
