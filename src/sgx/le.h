/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Little-endian stores for the encoders in src/sgx (quote builder, report
 * body encoder) and those built on it (sim key derivation, backend key ids).
 * Loads go through reader.h; these only write into buffers the caller has
 * already sized.
 */
#ifndef SGXQH_SGX_LE_H
#define SGXQH_SGX_LE_H

#include <stdint.h>

static inline void le_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void le_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void le_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif
