/* Open addressing with linear probing over a power-of-2 slot array kept
 * at most half full; 32-bit FNV-1a hashes kept beside the strings so
 * growing never rehashes bytes; the bytes in the config's arena. */
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "hash.h"
#include "strtab.h"

#define NOT_FOUND  ((size_t) -1)
#define INDEX_MAX  0xfffffffdu


void
mkt_strtab_init(mkt_strtab_t *t)
{
    memset(t, 0, sizeof(*t));
}


void
mkt_strtab_free(mkt_strtab_t *t)
{
    mkt_arena_free(&t->arena);
    free(t->strs);
    free(t->slots);
    free(t->hashes);
    memset(t, 0, sizeof(*t));
}


static size_t
probe(const mkt_strtab_t *t, uint32_t h, const char *s, size_t len)
{
    size_t            i, mask;
    uint32_t          k;
    const mkt_str_t  *e;

    mask = t->nslots - 1;
    for (i = h & mask; (k = t->slots[i]) != 0; i = (i + 1) & mask) {
        e = &t->strs[k - 1];
        if (t->hashes[k - 1] == h && e->len == len
            && memcmp(e->data, s, len) == 0)
        {
            return i;
        }
    }
    return i;
}


size_t
mkt_strtab_find(const mkt_strtab_t *t, const char *s, size_t len)
{
    size_t  i;

    if (t->nslots == 0) {
        return NOT_FOUND;
    }
    i = probe(t, mkt_fnv32a(MKT_FNV32A_INIT, s, len), s, len);
    return t->slots[i] == 0 ? NOT_FOUND : t->slots[i] - 1;
}


static int
grow_slots(mkt_strtab_t *t)
{
    size_t     n, i, j, mask;
    uint32_t  *slots;

    n = t->nslots ? t->nslots * 2 : 64;
    slots = calloc(n, sizeof(uint32_t));
    if (slots == NULL) {
        return -1;
    }
    mask = n - 1;
    for (i = 0; i < t->n; i++) {
        for (j = t->hashes[i] & mask; slots[j] != 0; j = (j + 1) & mask) {
            /* probe */
        }
        slots[j] = (uint32_t) i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    return 0;
}


static char *
copy(mkt_strtab_t *t, const char *s, size_t len)
{
    char  *p;

    p = mkt_arena_alloc(&t->arena, len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        t->bytes += len + 1;
    }
    return p;
}


size_t
mkt_strtab_add(mkt_strtab_t *t, const char *s, size_t len, int *added)
{
    size_t      i, cap;
    uint32_t    h, *hashes;
    mkt_str_t  *strs;
    char       *p;

    *added = 0;
    h = mkt_fnv32a(MKT_FNV32A_INIT, s, len);

    if (t->nslots != 0) {
        i = probe(t, h, s, len);
        if (t->slots[i] != 0) {
            return t->slots[i] - 1;
        }
    }

    if (t->n >= INDEX_MAX) {
        return NOT_FOUND;
    }
    if (t->n == t->cap) {
        cap = t->cap ? t->cap * 2 : 64;
        strs = realloc(t->strs, cap * sizeof(mkt_str_t));
        if (strs == NULL) {
            return NOT_FOUND;
        }
        t->strs = strs;
        hashes = realloc(t->hashes, cap * sizeof(uint32_t));
        if (hashes == NULL) {
            return NOT_FOUND;
        }
        t->hashes = hashes;
        t->cap = cap;
    }
    if ((t->n + 1) * 2 > t->nslots && grow_slots(t) != 0) {
        return NOT_FOUND;
    }

    p = copy(t, s, len);
    if (p == NULL) {
        return NOT_FOUND;
    }

    t->strs[t->n].data = p;
    t->strs[t->n].len = len;
    t->hashes[t->n] = h;
    t->slots[probe(t, h, s, len)] = (uint32_t) t->n + 1;
    *added = 1;
    return t->n++;
}


size_t
mkt_strtab_memory(const mkt_strtab_t *t)
{
    return t->cap * (sizeof(mkt_str_t) + sizeof(uint32_t))
           + t->nslots * sizeof(uint32_t) + t->bytes;
}
