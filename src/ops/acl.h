/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access control on the quote socket: --allow-uid / --allow-gid lists
 * ("1000,1001"), checked against the SO_PEERCRED credentials of each
 * connection. With both lists empty everyone may connect (aesmd's
 * behaviour, a world-writable socket). With either list set, a peer is
 * allowed when its uid is in the uid list OR its gid in the gid list.
 * Numeric ids only: container images usually have no passwd/group entries
 * for the callers.
 */
#ifndef SGXQH_OPS_ACL_H
#define SGXQH_OPS_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per list; a longer list is a configuration mistake (use a group). */
#define ACL_MAX_IDS 256
/* Longest accepted list string. */
#define ACL_LIST_TEXT_MAX 4096

typedef enum {
    ACL_OK = 0,
    ACL_E_SYNTAX = -1,      /* not "N[,N...]": empty item, sign, junk, trailing comma */
    ACL_E_RANGE = -2,       /* an id above 4294967294 ((uid_t)-1 is never valid) */
    ACL_E_TOO_MANY = -3,    /* more than ACL_MAX_IDS ids */
    ACL_E_INVALID_ARG = -4, /* NULL output */
} acl_err;

typedef struct {
    uint32_t uids[ACL_MAX_IDS];
    size_t n_uids;
    uint32_t gids[ACL_MAX_IDS];
    size_t n_gids;
} ops_acl;

const char *acl_strerror(int err);

/* Parse "1000, 1001,0" into ids[0..*n). Spaces around items are allowed;
 * NULL or "" (or only spaces) gives *n = 0. On error *n is 0 and ids is
 * unspecified. */
int acl_parse_ids(const char *list, uint32_t *ids, size_t cap, size_t *n);

/* Build an ACL from the two flag values (either may be NULL). On error *acl
 * is zeroed, which means open: refuse to start, or keep the previous ACL on
 * SIGHUP. */
int acl_init(ops_acl *acl, const char *allow_uids, const char *allow_gids);

/* true when neither list has entries: every peer is allowed. */
bool acl_is_open(const ops_acl *acl);

/* Add one uid (the daemon adds its own, so `sgx-quote ping` exec probes,
 * which run as the daemon's user, keep working). No-op when the ACL is open
 * (adding would close it) or the id is present; ACL_E_TOO_MANY when full. */
int acl_add_uid(ops_acl *acl, uint32_t uid);

/* The check for one connection (SO_PEERCRED uid and gid). */
bool acl_allows(const ops_acl *acl, uint32_t uid, uint32_t gid);

#endif
