/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --allow-uid/--allow-gid: parse the flag strings once (start-up and SIGHUP)
 * and answer allow/deny for each accepted connection before any request byte
 * is read. A denied peer is closed, counted under
 * rejected{reason="acl"} and logged by the daemon.
 */
#include "ops/acl.h"

#include <string.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

int acl_parse_ids(const char *list, uint32_t *ids, size_t cap, size_t *n)
{
    if (n == NULL || (ids == NULL && cap > 0))
        return ACL_E_INVALID_ARG;
    *n = 0;
    if (list == NULL)
        return ACL_OK;
    size_t len = strnlen(list, ACL_LIST_TEXT_MAX + 1);
    if (len > ACL_LIST_TEXT_MAX)
        return ACL_E_TOO_MANY;

    size_t i = 0;
    while (i < len && is_space(list[i]))
        i++;
    if (i == len)
        return ACL_OK; /* blank: no list */

    size_t count = 0;
    for (;;) {
        while (i < len && is_space(list[i]))
            i++;
        if (i == len || list[i] < '0' || list[i] > '9')
            goto syntax;
        uint64_t v = 0;
        while (i < len && list[i] >= '0' && list[i] <= '9') {
            v = v * 10 + (uint64_t)(list[i] - '0');
            if (v > UINT32_MAX - 1) {
                *n = 0;
                return ACL_E_RANGE;
            }
            i++;
        }
        if (count == cap) {
            *n = 0;
            return ACL_E_TOO_MANY;
        }
        ids[count++] = (uint32_t)v;
        while (i < len && is_space(list[i]))
            i++;
        if (i == len)
            break;
        if (list[i] != ',')
            goto syntax;
        i++;
    }
    *n = count;
    return ACL_OK;
syntax:
    *n = 0;
    return ACL_E_SYNTAX;
}

int acl_init(ops_acl *acl, const char *allow_uids, const char *allow_gids)
{
    if (acl == NULL)
        return ACL_E_INVALID_ARG;
    memset(acl, 0, sizeof *acl);
    int rc = acl_parse_ids(allow_uids, acl->uids, ACL_MAX_IDS, &acl->n_uids);
    if (rc == ACL_OK)
        rc = acl_parse_ids(allow_gids, acl->gids, ACL_MAX_IDS, &acl->n_gids);
    if (rc != ACL_OK)
        memset(acl, 0, sizeof *acl);
    return rc;
}

bool acl_is_open(const ops_acl *acl)
{
    return acl == NULL || (acl->n_uids == 0 && acl->n_gids == 0);
}

static bool contains(const uint32_t *ids, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == id)
            return true;
    }
    return false;
}

int acl_add_uid(ops_acl *acl, uint32_t uid)
{
    if (acl == NULL)
        return ACL_E_INVALID_ARG;
    if (acl_is_open(acl) || contains(acl->uids, acl->n_uids, uid))
        return ACL_OK;
    if (acl->n_uids == ACL_MAX_IDS)
        return ACL_E_TOO_MANY;
    acl->uids[acl->n_uids++] = uid;
    return ACL_OK;
}

bool acl_allows(const ops_acl *acl, uint32_t uid, uint32_t gid)
{
    if (acl_is_open(acl))
        return true;
    return contains(acl->uids, acl->n_uids, uid) || contains(acl->gids, acl->n_gids, gid);
}

const char *acl_strerror(int err)
{
    switch (err) {
    case ACL_OK: return "ok";
    case ACL_E_SYNTAX: return "expected a comma-separated list of numeric ids, e.g. \"1000,1001\"";
    case ACL_E_RANGE: return "id out of range (0..4294967294)";
    case ACL_E_TOO_MANY: return "too many ids in the list (use --allow-gid with a group instead)";
    case ACL_E_INVALID_ARG: return "invalid argument";
    default: return "unknown ACL error";
    }
}
