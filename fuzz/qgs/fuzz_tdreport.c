/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for tdx_report_check, the first code to judge a TDREPORT a
 * TD guest sends (raw, or inside GET_QUOTE). Besides "no crash, no
 * over-read": an accepted report has size 1024, type 0x81, version 0 or 1,
 * and its quote body (584 or 648 bytes) is built without touching bytes
 * beyond it and never carries MRSIGNERSEAM or SEAM attributes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sgxqh/tdreport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tdx_report_info info;
    int rc = tdx_report_check(data, size, &info);
    if (rc != TDX_REPORT_OK) {
        CHECK(rc < 0 && info.body_size == 0);
        return 0;
    }
    CHECK(size == TDX_REPORT_SIZE && data[0] == TDX_REPORT_TYPE && data[2] <= 1);
    CHECK((info.quote_version == 4 && info.body_size == TDX_TD_BODY_V10_SIZE) ||
          (info.quote_version == 5 && info.body_size == TDX_TD_BODY_V15_SIZE));
    CHECK(info.version == 0 || info.quote_version == 5);
    uint8_t *body = malloc(info.body_size); /* exact size: ASan sees any overrun */
    CHECK(body != NULL);
    tdx_report_quote_body(&info, body);
    for (size_t i = 64; i < 120; i++)
        CHECK(body[i] == 0);
    CHECK(memcmp(body, data + 264, 16) == 0);          /* tee_tcb_svn */
    CHECK(memcmp(body + 520, data + 128, 64) == 0);    /* report_data */
    free(body);
    return 0;
}
