/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmarks behind `sgx-quote bench` (weak: absent => "not built"). */
#ifndef SGXQH_BENCH_H
#define SGXQH_BENCH_H

int bench_quote_main(int argc, char **argv) __attribute__((weak));
int bench_verify_main(int argc, char **argv) __attribute__((weak));
/* `bench quote --tdx`: the QGS path beside the AESM path (bench_tdx.c). */
int bench_tdx_main(int argc, char **argv) __attribute__((weak));

#endif
