/* One personalisation slot of the config file (DESIGN.md section 6):
 * variants, rules compiled as conditions, default.  M4 chooses. */
#include <string.h>

#include "config_int.h"

static const char *const slot_keys[] = {
    "key", "name", "description", "variants", "rules", "default", NULL
};
static const char *const rule_keys[] = { "if", "variant", NULL };


/* --- slots ------------------------------------------------------------ */

static int
variant_index(const mkt_slot_t *s, json_t *v, size_t *out)
{
    size_t     i;
    mkt_str_t  n;

    n = mkt_cfg_str(v);
    if (!json_is_string(v)) {
        return 0;
    }
    for (i = 0; i < s->nvariants; i++) {
        if (s->variants[i].len == n.len
            && memcmp(s->variants[i].data, n.data, n.len) == 0)
        {
            *out = i;
            return 1;
        }
    }
    return 0;
}


/* {"tags": "vip"} under $and, $or, $nor and $not too; see tags_contains */
static void
tags_rewrite(json_t *cond)
{
    size_t       i, k;
    json_t      *v, *item;
    const char  *const lists[] = { "$and", "$or", "$nor" };

    if (!json_is_object(cond)) {
        return;
    }

    v = json_object_get(cond, "tags");
    if (json_is_string(v) || json_is_number(v) || json_is_boolean(v)) {
        json_object_set_new(cond, "tags",
                            json_pack("{s:{s:O}}", "$elemMatch", "$eq", v));
    }

    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        json_array_foreach(json_object_get(cond, lists[i]), k, item) {
            tags_rewrite(item);
        }
    }

    tags_rewrite(json_object_get(cond, "$not"));
}


/*
 * In slot rules {"tags": "vip"} means "has the tag vip", as a Mongo query
 * on an array field does (GrowthBook's equality compares the whole
 * array): it is read as {"tags": {"$elemMatch": {"$eq": "vip"}}}.  A new
 * reference, or NULL when out of memory.
 */
static json_t *
tags_contains(json_t *cond)
{
    json_t  *copy;

    copy = json_deep_copy(cond);
    if (copy != NULL) {
        tags_rewrite(copy);
    }

    return copy;
}


static void
parse_rules(mkt_cfg_ctx_t *ctx, json_t *a, mkt_slot_t *s)
{
    char     q[MKT_CFG_QUOTE_MAX];
    size_t   i;
    json_t  *r, *v;

    if (!json_is_array(a)) {
        mkt_cfg_error(ctx, "expected an array of {\"if\": ..., "
                      "\"variant\": ...}");
        return;
    }

    s->rules = mkt_arena_alloc(ctx->arena, (json_array_size(a) + 1)
                                           * sizeof(mkt_slot_rule_t));
    if (s->rules == NULL) {
        return;
    }

    json_array_foreach(a, i, r) {
        size_t            saved = mkt_cfg_push(ctx, NULL, i);
        mkt_slot_rule_t  *rule = &s->rules[s->nrules];

        if (!json_is_object(r)) {
            mkt_cfg_error(ctx, "expected an object {\"if\": ..., "
                          "\"variant\": ...}");
            mkt_cfg_pop(ctx, saved);
            continue;
        }
        mkt_cfg_check_keys(ctx, r, rule_keys);

        v = json_object_get(r, "variant");
        if (v == NULL) {
            mkt_cfg_error(ctx, "missing \"variant\"");
        } else if (!variant_index(s, v, &rule->variant)) {
            AT(ctx, "variant",
               mkt_cfg_error(ctx, "%s is not one of the variants",
                             mkt_cfg_quote(mkt_cfg_str(v).data, mkt_cfg_str(v).len, q,
                                           sizeof(q))));
        }

        v = json_object_get(r, "if");
        if (v == NULL) {
            mkt_cfg_error(ctx, "missing \"if\"");
        } else {
            v = tags_contains(v);
            if (v == NULL) {
                ctx->arena->failed = 1;
            } else {
                AT(ctx, "if", mkt_cfg_condition(ctx, v, &rule->cond));
                json_decref(v);
            }
            if (rule->cond != NULL) {
                s->nrules++;
            }
        }

        mkt_cfg_pop(ctx, saved);
    }
}


int
mkt_cfg_parse_slot(mkt_cfg_ctx_t *ctx, json_t *obj, mkt_slot_t *s)
{
    char         q[MKT_CFG_QUOTE_MAX];
    unsigned     errors;
    size_t       i, j, n;
    json_t      *v, *item;
    mkt_str_t    k;

    memset(s, 0, sizeof(*s));
    errors = ctx->errors;

    if (!json_is_object(obj)) {
        mkt_cfg_error(ctx, "expected an object");
        return -1;
    }
    mkt_cfg_check_keys(ctx, obj, slot_keys);

    v = json_object_get(obj, "key");
    k = mkt_cfg_str(v);
    if (v == NULL) {
        mkt_cfg_error(ctx, "missing \"key\"");
        return -1;
    }
    if (!json_is_string(v) || !mkt_cfg_valid_name(k.data, k.len, 0)) {
        AT(ctx, "key", mkt_cfg_error(ctx, "expected a key of %s", MKT_CFG_KEY_RULE));
        return -1;
    }
    s->key = k;
    s->var_name = mkt_cfg_var_name(ctx, k);

    v = json_object_get(obj, "variants");
    n = json_array_size(v);
    if (v == NULL) {
        mkt_cfg_error(ctx, "missing \"variants\"");
        return -1;
    }
    if (!json_is_array(v) || n == 0 || n > MKT_SLOT_VARIANTS_MAX) {
        AT(ctx, "variants", mkt_cfg_error(ctx, "expected an array of 1 to %d "
                                          "variant names",
                                          MKT_SLOT_VARIANTS_MAX));
        return -1;
    }

    s->variants = mkt_arena_alloc(ctx->arena, n * sizeof(mkt_str_t));
    if (s->variants == NULL) {
        return -1;
    }

    json_array_foreach(v, i, item) {
        k = mkt_cfg_str(item);
        if (!json_is_string(item) || !mkt_cfg_valid_name(k.data, k.len, 1)) {
            AT(ctx, "variants",
               AT_INDEX(ctx, i, mkt_cfg_error(ctx, "expected a variant name "
                                              "of %s", MKT_CFG_NAME_RULE)));
            return -1;
        }
        for (j = 0; j < i; j++) {
            if (s->variants[j].len == k.len
                && memcmp(s->variants[j].data, k.data, k.len) == 0)
            {
                AT(ctx, "variants",
                   AT_INDEX(ctx, i, mkt_cfg_error(ctx, "duplicate variant %s",
                                                  mkt_cfg_quote(k.data, k.len,
                                                                q,
                                                                sizeof(q)))));
                return -1;
            }
        }
        s->variants[i] = k;
    }
    s->nvariants = n;

    v = json_object_get(obj, "default");
    if (v == NULL) {
        mkt_cfg_error(ctx, "missing \"default\"");
    } else if (!variant_index(s, v, &s->default_variant)) {
        AT(ctx, "default", mkt_cfg_error(ctx, "%s is not one of the variants",
                                         mkt_cfg_quote(mkt_cfg_str(v).data,
                                                       mkt_cfg_str(v).len, q,
                                                       sizeof(q))));
    }

    v = json_object_get(obj, "rules");
    if (v != NULL) {
        AT(ctx, "rules", parse_rules(ctx, v, s));
    }

    if (ctx->errors != errors) {
        mkt_cfg_slot_release(s);
        return -1;
    }
    return 0;
}


void
mkt_cfg_slot_release(mkt_slot_t *s)
{
    size_t  i;

    for (i = 0; i < s->nrules; i++) {
        mkt_cond_free(s->rules[i].cond);
        s->rules[i].cond = NULL;
    }
    s->nrules = 0;
}
