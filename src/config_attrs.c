/* Which attributes the conditions, rules and hash attributes of a config
 * refer to, so that the glue builds only those for a request. */
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define NAMES_MAX  4096             /* query/header names kept, each list */

#define MKT_ATTR_NAME(name, str)  str,

static const char *const  attr_names[] = {
    MKT_ATTRIBUTES(MKT_ATTR_NAME)
    "query_all", "header_all", "other"
};


const char *
mkt_attr_name(mkt_attr_bit_e bit)
{
    return (unsigned) bit < MKT_ATTR_BITS ? attr_names[bit] : "other";
}


static int
add_unique(mkt_cfg_ctx_t *ctx, mkt_str_t **list, size_t *n, size_t *cap,
    const char *s, size_t len, int lower)
{
    size_t      i;
    char       *p;
    mkt_str_t  *nl, copy;

    copy = mkt_cfg_strdup(ctx, s, len);
    if (copy.data == NULL || (len && copy.len == 0)) {
        return -1;
    }
    if (lower) {
        p = (char *) copy.data;
        for (i = 0; i < len; i++) {
            if (p[i] >= 'A' && p[i] <= 'Z') {
                p[i] = (char) (p[i] - 'A' + 'a');
            }
        }
    }

    for (i = 0; i < *n; i++) {
        if ((*list)[i].len == len && memcmp((*list)[i].data, copy.data, len)
                                     == 0)
        {
            return 0;
        }
    }

    if (*n == NAMES_MAX) {
        return 0;
    }

    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        nl = realloc(*list, *cap * sizeof(mkt_str_t));
        if (nl == NULL) {
            ctx->arena->failed = 1;
            return -1;
        }
        *list = nl;
    }

    (*list)[(*n)++] = copy;
    return 0;
}


void
mkt_cfg_attrs_name(mkt_cfg_ctx_t *ctx, const char *name, size_t len)
{
    size_t               i, seg, rest;
    mkt_attr_builder_t  *b = ctx->attrs;

    if (b == NULL) {
        return;
    }

    for (seg = 0; seg < len && name[seg] != '.'; seg++) { /* void */ }

    for (i = 0; i < MKT_ATTR_BIT_QUERY_ALL; i++) {
        if (strlen(attr_names[i]) == seg
            && memcmp(attr_names[i], name, seg) == 0)
        {
            break;
        }
    }

    if (i == MKT_ATTR_BIT_QUERY_ALL) {
        /* a typo ("contry") would silently assign nobody */
        mkt_cfg_warn(ctx, "attribute \"%.*s\" is not one the module "
                     "provides (unless a plugin adds it)", (int) seg, name);
        b->flags |= MKT_ATTR(OTHER);
        return;
    }

    b->flags |= 1u << i;

    if (i != MKT_ATTR_BIT_QUERY && i != MKT_ATTR_BIT_HEADER) {
        return;
    }

    /* query.NAME[.more]: NAME is what the glue looks up */
    if (seg + 1 >= len) {
        b->flags |= i == MKT_ATTR_BIT_QUERY ? MKT_ATTR(QUERY_ALL)
                                           : MKT_ATTR(HEADER_ALL);
        return;
    }

    name += seg + 1;
    len -= seg + 1;
    for (rest = 0; rest < len && name[rest] != '.'; rest++) { /* void */ }

    if (i == MKT_ATTR_BIT_QUERY) {
        (void) add_unique(ctx, &b->query, &b->nquery, &b->query_cap, name,
                          rest, 0);
    } else {
        /* as written: the glue finds the header whatever its case, and
         * names the attribute as the condition spells it */
        (void) add_unique(ctx, &b->header, &b->nheader, &b->header_cap, name,
                          rest, 0);
    }
}


/*
 * Top-level names, and those under $and/$or/$nor/$not, are attribute
 * paths.  Names inside $elemMatch are fields of the array's elements, not
 * attributes: the array itself is already counted.
 */
static void
walk(mkt_cfg_ctx_t *ctx, json_t *cond, int depth)
{
    size_t       i;
    json_t      *v, *item;
    const char  *key;

    if (!json_is_object(cond) || depth > MKT_COND_MAX_DEPTH) {
        return;
    }

    json_object_foreach(cond, key, v) {
        if (key[0] != '$') {
            mkt_cfg_attrs_name(ctx, key, strlen(key));

        } else if (strcmp(key, "$and") == 0 || strcmp(key, "$or") == 0
                   || strcmp(key, "$nor") == 0)
        {
            json_array_foreach(v, i, item) {
                walk(ctx, item, depth + 1);
            }

        } else if (strcmp(key, "$not") == 0) {
            walk(ctx, v, depth + 1);
        }
    }
}


void
mkt_cfg_attrs_condition(mkt_cfg_ctx_t *ctx, json_t *cond)
{
    walk(ctx, cond, 0);
}


void
mkt_cfg_attrs_free(mkt_attr_builder_t *b)
{
    free(b->query);
    free(b->header);
    b->query = NULL;
    b->header = NULL;
}
