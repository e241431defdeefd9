/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz peer_parse_cgroup(): /proc/PID/cgroup text is peer-influenced (cgroup
 * names under delegation). Checks the output contract as well as memory
 * safety: on success the ids are well-formed, on failure they are empty.
 * The same bytes go through peer_parse_start_time() (/proc/PID/stat, whose
 * command-name field the peer chooses): a failure leaves the output 0.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    peer_identity id;
    int rc = peer_parse_cgroup((const char *)data, size, &id);
    size_t pl = strnlen(id.pod_uid, sizeof id.pod_uid);
    size_t cl = strnlen(id.container_id, sizeof id.container_id);
    if (pl != 0 && pl != PEER_POD_UID_LEN)
        abort();
    if (cl != 0 && cl != PEER_CONTAINER_ID_LEN)
        abort();
    if (rc == PEER_OK && pl == 0 && cl == 0)
        abort();
    if (rc != PEER_OK && (pl != 0 || cl != 0))
        abort();
    for (size_t i = 0; i < pl; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id.pod_uid[i] != '-' : !is_lower_hex(id.pod_uid[i]))
            abort();
    }
    for (size_t i = 0; i < cl; i++) {
        if (!is_lower_hex(id.container_id[i]))
            abort();
    }
    unsigned long long start = 1;
    if (peer_parse_start_time((const char *)data, size, &start) != PEER_OK && start != 0)
        abort();
    return 0;
}
