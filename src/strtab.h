/* An append-only set of strings, each given the index of its first
 * insertion: the visitors, users, experiments, goals and channels of a
 * report.  Strings are copied into an arena owned by the table. */
#ifndef MKT_STRTAB_H
#define MKT_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_int.h"

typedef struct {
    mkt_str_t   *strs;      /* by index */
    size_t       n;
    size_t       cap;
    uint32_t    *slots;     /* index + 1; 0 empty */
    uint32_t    *hashes;    /* by index, for growing */
    size_t       nslots;    /* a power of 2 */
    mkt_arena_t  arena;     /* the string bytes */
    size_t       bytes;     /* of them */
} mkt_strtab_t;

void mkt_strtab_init(mkt_strtab_t *t);
void mkt_strtab_free(mkt_strtab_t *t);

/* The index of s, added when new (*added set to 1).  (size_t) -1 when out
 * of memory or at 2^32 - 2 strings. */
size_t mkt_strtab_add(mkt_strtab_t *t, const char *s, size_t len,
    int *added);

/* The index of s, or (size_t) -1. */
size_t mkt_strtab_find(const mkt_strtab_t *t, const char *s, size_t len);

/* Bytes the table holds. */
size_t mkt_strtab_memory(const mkt_strtab_t *t);

#endif
