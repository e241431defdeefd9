/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The on-disk cache of collateral fetched from a PCCS (pccs.c): one file
 * per request URL, reused until the item's own nextUpdate, bounded in total
 * size (least recently used files go first). Entries are written atomically
 * (temporary file + rename) with mode 0600 in a 0700 directory; a file that
 * does not decode (pccs_parse.h codec) is a miss, never an error. Nothing
 * read back is trusted: pccs.c checks it as it checks a fresh answer.
 */
#ifndef SGXQH_VERIFY_PCCS_CACHE_H
#define SGXQH_VERIFY_PCCS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pccs_parse.h"

/* Creates dir (and its parents, mode 0700) if needed and checks it is a
 * directory owned by this user that nobody else can write. Returns 0 or -1
 * (the cache is then not used). */
int pccs_cache_open_dir(const char *dir);

/* A usable entry for url at time now: 1 with *file (malloc'd, free it) and
 * *e pointing into it; 0 for a miss. *corrupt is set when a file was there
 * but did not decode or was for another URL (it is removed). An entry whose
 * next_update <= now is a miss (stale), left for pccs_cache_put to replace. */
int pccs_cache_get(const char *dir, const char *url, int64_t now, uint8_t **file,
                   pccs_cache_entry *e, bool *corrupt);

/* Stores an item atomically, then evicts least recently used entries until
 * the directory's entries total at most max_bytes. Best effort: returns 0
 * or -1, and a failure only means the next run fetches again. */
int pccs_cache_put(const char *dir, uint64_t max_bytes, const char *url, int64_t next_update,
                   const char *chain, size_t chain_len, const uint8_t *body, size_t body_len);

/* Removes url's entry (its content was refused by the collateral checks). */
void pccs_cache_drop(const char *dir, const char *url);

#endif
