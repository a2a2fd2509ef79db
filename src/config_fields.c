/* The fields that the config file's experiments share with GrowthBook's
 * experiment objects (`mkt eval`), and those objects themselves, read as
 * GrowthBook's SDK reads them (lenient where it is). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define ATTR_NAME_MAX      128
#define SEED_MAX           256
#define GB_VARIATIONS_MAX  1024
#define GB_FILTERS_MAX     64
#define GB_RANGES_MAX      1024

static const char *const filter_keys[] = {
    "seed", "ranges", "hashVersion", "attribute", NULL
};


mkt_str_t
mkt_cfg_str(json_t *v)
{
    mkt_str_t  s;

    s.data = json_string_value(v);
    s.len = s.data ? json_string_length(v) : 0;
    if (s.data == NULL) {
        s.data = "";
    }
    return s;
}


/* A number in [lo, hi]. */
int
mkt_cfg_number_in(json_t *v, double lo, double hi, double *out)
{
    double  d;

    if (!json_is_number(v)) {
        return 0;
    }
    d = json_number_value(v);
    if (!(d >= lo && d <= hi)) {
        return 0;
    }
    *out = d;
    return 1;
}


/* A string of 1..max bytes without control characters, or an error. */
int
mkt_cfg_plain_string(mkt_cfg_ctx_t *ctx, json_t *v, size_t max,
    mkt_str_t *out)
{
    size_t  i;

    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > max)
    {
        mkt_cfg_error(ctx, "expected a string of 1 to %zu bytes", max);
        return 0;
    }
    *out = mkt_cfg_str(v);
    for (i = 0; i < out->len; i++) {
        if ((unsigned char) out->data[i] < 0x20) {
            mkt_cfg_error(ctx, "control characters are not allowed");
            return 0;
        }
    }
    return 1;
}


mkt_str_t
mkt_cfg_var_name(mkt_cfg_ctx_t *ctx, mkt_str_t key)
{
    size_t     i;
    char      *p;
    mkt_str_t  r;

    r = mkt_cfg_strdup(ctx, key.data, key.len);
    p = (char *) r.data;
    for (i = 0; i < r.len; i++) {
        if (p[i] == '-') {
            p[i] = '_';
        } else if (p[i] >= 'A' && p[i] <= 'Z') {
            p[i] = (char) (p[i] - 'A' + 'a');
        }
    }
    return r;
}


/* [[start, end], ...] into ranges; with want, exactly that many. */
static mkt_range_t *
parse_ranges(mkt_cfg_ctx_t *ctx, json_t *a, size_t want, size_t *n)
{
    size_t        i;
    json_t       *r;
    mkt_range_t  *out;
    double        s, e;

    if (!json_is_array(a) || (want && json_array_size(a) != want)
        || json_array_size(a) > GB_RANGES_MAX)
    {
        if (want) {
            mkt_cfg_error(ctx, "expected %zu ranges [start, end], one per "
                          "variation", want);
        } else {
            mkt_cfg_error(ctx, "expected an array of ranges [start, end]");
        }
        return NULL;
    }

    out = mkt_arena_alloc(ctx->arena, (json_array_size(a) + 1)
                                      * sizeof(mkt_range_t));
    if (out == NULL) {
        return NULL;
    }

    json_array_foreach(a, i, r) {
        if (!json_is_array(r) || json_array_size(r) != 2
            || !mkt_cfg_number_in(json_array_get(r, 0), 0, 1, &s)
            || !mkt_cfg_number_in(json_array_get(r, 1), 0, 1, &e) || e < s)
        {
            AT_INDEX(ctx, i, mkt_cfg_error(ctx, "expected [start, end] with "
                                           "0 <= start <= end <= 1"));
            return NULL;
        }
        out[i].start = s;
        out[i].end = e;
    }

    *n = json_array_size(a);
    return out;
}


static void
parse_filters(mkt_cfg_ctx_t *ctx, json_t *a, mkt_experiment_t *e)
{
    size_t         i;
    json_t        *f, *v;
    mkt_filter_t  *flt;

    if (!json_is_array(a) || json_array_size(a) > GB_FILTERS_MAX) {
        mkt_cfg_error(ctx, "expected an array of at most %d filters",
                      GB_FILTERS_MAX);
        return;
    }

    e->filters = mkt_arena_alloc(ctx->arena, (json_array_size(a) + 1)
                                             * sizeof(mkt_filter_t));
    if (e->filters == NULL) {
        return;
    }

    json_array_foreach(a, i, f) {
        size_t  saved = mkt_cfg_push(ctx, NULL, i);

        flt = &e->filters[i];
        flt->attribute.data = "id";
        flt->attribute.len = 2;
        flt->hash_version = 2;

        if (!json_is_object(f)) {
            mkt_cfg_error(ctx, "expected an object");
            mkt_cfg_pop(ctx, saved);
            continue;
        }
        mkt_cfg_check_keys(ctx, f, filter_keys);

        v = json_object_get(f, "seed");
        if (v == NULL && !ctx->gb) {
            mkt_cfg_error(ctx, "missing \"seed\"");
        } else if (v != NULL) {
            AT(ctx, "seed", (void) mkt_cfg_plain_string(ctx, v, SEED_MAX,
                                                &flt->seed));
        }

        v = json_object_get(f, "attribute");
        if (v != NULL && !(ctx->gb && json_is_string(v)
                           && json_string_length(v) == 0))
        {
            AT(ctx, "attribute", (void) mkt_cfg_plain_string(ctx, v, ATTR_NAME_MAX,
                                                     &flt->attribute));
        }
        if (ctx->attrs) {
            mkt_cfg_attrs_name(ctx, flt->attribute.data, flt->attribute.len);
        }

        v = json_object_get(f, "hashVersion");
        if (v != NULL) {
            if (ctx->gb) {
                /* filter.hashVersion || 2, 1.0 being 1 as in JavaScript;
                 * an unknown one hashes to null */
                if (json_is_number(v) && json_number_value(v) != 0) {
                    flt->hash_version = json_number_value(v) == 2 ? 2
                                        : json_number_value(v) == 1 ? 1 : -1;
                }
            } else if (json_is_integer(v) && (json_integer_value(v) == 1
                                              || json_integer_value(v) == 2))
            {
                flt->hash_version = (int) json_integer_value(v);
            } else {
                AT(ctx, "hashVersion", mkt_cfg_error(ctx, "expected 1 or 2"));
            }
        }

        v = json_object_get(f, "ranges");
        if (v == NULL) {
            mkt_cfg_error(ctx, "missing \"ranges\"");
        } else {
            AT(ctx, "ranges",
               flt->ranges = parse_ranges(ctx, v, 0, &flt->nranges));
        }

        mkt_cfg_pop(ctx, saved);
    }

    e->nfilters = json_array_size(a);
}


static void
parse_namespace(mkt_cfg_ctx_t *ctx, json_t *v, mkt_experiment_t *e)
{
    json_t  *name;

    name = json_array_get(v, 0);

    if (!json_is_array(v) || json_array_size(v) != 3 || !json_is_string(name)
        || (!ctx->gb && json_string_length(name) == 0)
        || !mkt_cfg_number_in(json_array_get(v, 1), 0, 1, &e->ns_start)
        || !mkt_cfg_number_in(json_array_get(v, 2), 0, 1, &e->ns_end)
        || (!ctx->gb && e->ns_start >= e->ns_end))
    {
        mkt_cfg_error(ctx, "expected [name, start, end] with "
                      "0 <= start < end <= 1");
        return;
    }

    e->ns = mkt_cfg_str(name);
    e->has_namespace = 1;
}


void
mkt_cfg_condition(mkt_cfg_ctx_t *ctx, json_t *v, mkt_cond_t **out)
{
    char  err[MKT_CFG_MSG_MAX];

    *out = mkt_cond_compile(v, NULL, ctx->gb ? MKT_COND_LENIENT
                                             : MKT_COND_STRICT,
                            ctx->path, err, sizeof(err));
    if (*out == NULL) {
        mkt_cfg_error_raw(ctx, err);            /* err starts with the path */
        return;
    }

    if (ctx->attrs) {
        mkt_cfg_attrs_condition(ctx, v);
    }
}


uint32_t
mkt_cfg_condition_id(mkt_cfg_ctx_t *ctx, json_t *v)
{
    char        *text;
    size_t       id;
    json_t      *known;

    if (ctx->conditions == NULL) {
        ctx->conditions = json_object();
        if (ctx->conditions == NULL) {
            ctx->arena->failed = 1;
            return 0;
        }
    }

    /* not JSON_SORT_KEYS: the order of a literal object's keys matters */
    text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        ctx->arena->failed = 1;
        return 0;
    }

    known = json_object_get(ctx->conditions, text);
    if (known != NULL) {
        id = (size_t) json_integer_value(known);

    } else {
        id = json_object_size(ctx->conditions);
        if (json_object_set_new(ctx->conditions, text,
                                json_integer((json_int_t) id))
            != 0)
        {
            ctx->arena->failed = 1;
        }
    }

    free(text);
    return (uint32_t) id;
}


static void
parse_weights(mkt_cfg_ctx_t *ctx, json_t *a, mkt_experiment_t *e)
{
    size_t   i, n;
    double  *w, sum;
    json_t  *v;

    if (!json_is_array(a)) {
        if (!ctx->gb) {
            mkt_cfg_error(ctx, "expected an array of numbers");
        }
        return;
    }

    n = json_array_size(a);
    if (n != e->nvariations) {
        if (!ctx->gb && e->nvariations) {
            mkt_cfg_error(ctx, "%zu weights for %zu variations", n,
                          e->nvariations);
        }
        return;
    }

    w = mkt_arena_alloc(ctx->arena, (n + 1) * sizeof(double));
    if (w == NULL) {
        return;
    }

    sum = 0;
    json_array_foreach(a, i, v) {
        if (ctx->gb) {
            if (!json_is_number(v)) {
                return;                 /* GrowthBook: equal weights */
            }
            w[i] = json_number_value(v);

        } else if (!mkt_cfg_number_in(v, 0, 1, &w[i])) {
            AT_INDEX(ctx, i, mkt_cfg_error(ctx, "expected a number from 0 "
                                           "to 1"));
            return;
        }
        sum += w[i];
    }

    /* "within 0.001" as written: 0.5 + 0.499 is 0.99899999... in doubles */
    if (!ctx->gb && fabs(sum - 1) > 0.001 + 1e-9) {
        mkt_cfg_error(ctx, "weights sum to %.6g, not 1", sum);
        return;
    }

    e->weights = w;
}


void
mkt_cfg_experiment_init(mkt_experiment_t *e)
{
    memset(e, 0, sizeof(*e));
    e->start = MKT_NO_TIME_START;
    e->end = MKT_NO_TIME_END;
    e->coverage = 1;
    e->hash_attribute.data = "id";
    e->hash_attribute.len = 2;
    e->hash_version = 1;
    e->winner = -1;
    e->slot = -1;
}


/* ranges, or getBucketRanges(weights, coverage) */
int
mkt_cfg_experiment_buckets(mkt_cfg_ctx_t *ctx, mkt_experiment_t *e)
{
    e->buckets = mkt_arena_alloc(ctx->arena, (e->nvariations + 1)
                                             * sizeof(mkt_range_t));
    if (e->buckets == NULL) {
        return -1;
    }

    if (e->ranges != NULL) {
        memcpy(e->buckets, e->ranges, e->nvariations * sizeof(mkt_range_t));
    } else {
        (void) mkt_bucket_ranges(e->nvariations, e->coverage, e->weights,
                                 e->weights ? e->nvariations : 0,
                                 e->buckets);
    }
    return 0;
}


void
mkt_cfg_experiment_common(mkt_cfg_ctx_t *ctx, json_t *obj,
    mkt_experiment_t *e)
{
    json_t  *v;
    size_t   n;

    v = json_object_get(obj, "weights");
    if (v != NULL) {
        AT(ctx, "weights", parse_weights(ctx, v, e));
    }

    v = json_object_get(obj, "coverage");
    if (v != NULL) {
        if (ctx->gb) {
            if (json_is_number(v)) {
                e->coverage = json_number_value(v);
            }
        } else if (!mkt_cfg_number_in(v, 0, 1, &e->coverage)) {
            AT(ctx, "coverage", mkt_cfg_error(ctx, "expected a number from 0 "
                                              "to 1"));
        }
    }

    v = json_object_get(obj, "ranges");
    if (v != NULL && e->nvariations) {
        AT(ctx, "ranges", e->ranges = parse_ranges(ctx, v, e->nvariations,
                                                   &n));
    }

    v = json_object_get(obj, "hashAttribute");
    if (v != NULL && !(ctx->gb && !json_is_string(v))
        && !(ctx->gb && json_string_length(v) == 0))
    {
        AT(ctx, "hashAttribute", (void) mkt_cfg_plain_string(ctx, v, ATTR_NAME_MAX,
                                                     &e->hash_attribute));
    }

    v = json_object_get(obj, "fallbackAttribute");
    if (v != NULL && !(ctx->gb && !json_is_string(v))
        && !(ctx->gb && json_string_length(v) == 0))
    {
        AT(ctx, "fallbackAttribute",
           (void) mkt_cfg_plain_string(ctx, v, ATTR_NAME_MAX, &e->fallback_attribute));
    }

    v = json_object_get(obj, "hashVersion");
    if (v != NULL) {
        if (ctx->gb) {
            /* GrowthBook: hashVersion || 1; an unknown one hashes to null */
            if (json_is_number(v) && json_number_value(v) != 0) {
                e->hash_version = json_number_value(v) == 2 ? 2
                                  : json_number_value(v) == 1 ? 1 : -1;
            }
        } else if (!json_is_integer(v) || (json_integer_value(v) != 1
                                           && json_integer_value(v) != 2))
        {
            AT(ctx, "hashVersion", mkt_cfg_error(ctx, "expected 1 or 2"));
        } else {
            e->hash_version = (int) json_integer_value(v);
        }
    }

    v = json_object_get(obj, "seed");
    if (v != NULL && !(ctx->gb && (!json_is_string(v)
                                   || json_string_length(v) == 0)))
    {
        AT(ctx, "seed", (void) mkt_cfg_plain_string(ctx, v, SEED_MAX, &e->seed));
    }

    v = json_object_get(obj, "namespace");
    if (v != NULL && !(ctx->gb && json_is_null(v))) {
        AT(ctx, "namespace", parse_namespace(ctx, v, e));
    }

    v = json_object_get(obj, "filters");
    if (v != NULL && !(ctx->gb && json_is_null(v))) {
        AT(ctx, "filters", parse_filters(ctx, v, e));
    }

    v = json_object_get(obj, "condition");
    if (v != NULL && !(ctx->gb && json_is_null(v))) {
        AT(ctx, "condition", mkt_cfg_condition(ctx, v, &e->condition));
        if (e->condition != NULL && !ctx->gb) {
            e->condition_id = mkt_cfg_condition_id(ctx, v);
        }
    }

    if (e->seed.len == 0) {
        e->seed = e->key;
    }
}


/* --- GrowthBook experiments for mkt eval ------------------------------- */

typedef struct {
    mkt_experiment_t  e;            /* first: freed through it */
    mkt_arena_t       arena;
} gb_experiment_t;


mkt_experiment_t *
mkt_experiment_from_json(json_t *obj, char *err, size_t err_len)
{
    json_t           *v;
    mkt_cfg_ctx_t     ctx;
    gb_experiment_t  *g;

    g = calloc(1, sizeof(*g));
    if (g == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.file = "experiment";
    ctx.gb = 1;
    ctx.err = err;
    ctx.err_len = err_len;
    ctx.arena = &g->arena;
    mkt_cfg_experiment_init(&g->e);

    if (!json_is_object(obj)) {
        mkt_cfg_error(&ctx, "expected an experiment object");
        goto failed;
    }

    v = json_object_get(obj, "key");
    if (json_is_string(v)) {
        g->e.key = mkt_cfg_str(v);
    } else {
        g->e.key.data = "";
    }

    v = json_object_get(obj, "variations");
    if (!json_is_array(v) || json_array_size(v) > GB_VARIATIONS_MAX) {
        AT(&ctx, "variations", mkt_cfg_error(&ctx, "expected an array of at "
                                             "most %d values",
                                             GB_VARIATIONS_MAX));
        goto failed;
    }
    g->e.nvariations = json_array_size(v);

    mkt_cfg_experiment_common(&ctx, obj, &g->e);

    if (ctx.errors == 0) {
        (void) mkt_cfg_experiment_buckets(&ctx, &g->e);
    }
    if (ctx.errors != 0 || g->arena.failed) {
        if (ctx.errors == 0) {
            snprintf(err, err_len, "out of memory");
        }
        goto failed;
    }

    return &g->e;

failed:

    mkt_experiment_free(&g->e);
    return NULL;
}


void
mkt_experiment_free(mkt_experiment_t *e)
{
    gb_experiment_t  *g = (gb_experiment_t *) e;

    if (g == NULL) {
        return;
    }
    mkt_cfg_experiment_release(&g->e);
    mkt_arena_free(&g->arena);
    free(g);
}
