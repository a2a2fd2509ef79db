/* The value lists of $in $nin $ini $nini $inGroup $notInGroup, sorted at
 * compile time for binary search per request (internal). */
#ifndef MKT_CONDITION_SET_H
#define MKT_CONDITION_SET_H

#include <jansson.h>

#include "value.h"

typedef struct mkt_cond_set_s  mkt_cond_set_t;

/*
 * Builds the set of a JSON array's items (fold: strings compared ASCII
 * case-insensitively).  Arrays and objects among the items are kept out: a
 * JavaScript includes() never finds them.  NULL when out of memory.
 */
mkt_cond_set_t *mkt_cond_set_create(json_t *items, int fold);

/* isIn(): for an array, whether any of its items is in the set. */
int mkt_cond_set_match(const mkt_cond_set_t *set, const mkt_val_t *v);

void mkt_cond_set_free(mkt_cond_set_t *set);

#endif
