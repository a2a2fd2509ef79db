/* One experiment of the config file, checked field by field: identity,
 * variations, lifecycle (status, winner, schedule), match, bucket
 * versions, goals and slot. */
#include <stdlib.h>
#include <string.h>

#include "condition_regex.h"
#include "config_int.h"

#define HOST_MAX         253

static const char *const exp_keys[] = {
    "key", "name", "description", "status", "start", "end",
    "hashAttribute", "fallbackAttribute", "hashVersion", "seed",
    "variations", "weights", "coverage", "ranges", "filters", "namespace",
    "condition", "match", "bucketVersion", "minBucketVersion", "goals",
    "winner", "slot", NULL
};

static const char *const match_keys[] = { "host", "path", NULL };


static int
host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}


static void
parse_host(mkt_cfg_ctx_t *ctx, json_t *v, mkt_str_t *out)
{
    size_t     i;
    char      *p;
    mkt_str_t  s;

    s = mkt_cfg_str(v);
    for (i = 0; i < s.len && host_char(s.data[i]); i++) { /* void */ }

    if (!json_is_string(v) || s.len == 0 || s.len > HOST_MAX || i < s.len) {
        mkt_cfg_error(ctx, "expected a host name like \"www.example.com\" "
                      "(no scheme, no port)");
        return;
    }

    *out = mkt_cfg_strdup(ctx, s.data, s.len);
    p = (char *) out->data;
    for (i = 0; i < out->len; i++) {
        if (p[i] >= 'A' && p[i] <= 'Z') {
            p[i] = (char) (p[i] - 'A' + 'a');
        }
    }
}


static void
parse_match(mkt_cfg_ctx_t *ctx, json_t *m, mkt_experiment_t *e)
{
    char                     err[MKT_CFG_MSG_MAX], pfx[MKT_COND_REGEX_MAX];
    size_t                   i, n, end;
    json_t                  *h, *p, *v;
    mkt_cond_regex_t        *re;

    if (!json_is_object(m)) {
        mkt_cfg_error(ctx, "expected an object {\"host\": ..., "
                      "\"path\": ...}");
        return;
    }
    mkt_cfg_check_keys(ctx, m, match_keys);

    h = json_object_get(m, "host");
    if (h != NULL) {
        size_t  saved = mkt_cfg_push(ctx, "host", 0);

        if (json_is_array(h)) {
            n = json_array_size(h);
            if (n == 0 || n > MKT_EXP_HOSTS_MAX) {
                mkt_cfg_error(ctx, "expected 1 to %d host names",
                              MKT_EXP_HOSTS_MAX);
                n = 0;
            }
        } else {
            n = 1;
        }

        e->hosts = mkt_arena_alloc(ctx->arena, (n + 1) * sizeof(mkt_str_t));
        if (e->hosts != NULL) {
            if (json_is_array(h)) {
                for (i = 0; i < n; i++) {
                    v = json_array_get(h, i);
                    AT_INDEX(ctx, i, parse_host(ctx, v, &e->hosts[i]));
                }
            } else {
                parse_host(ctx, h, &e->hosts[0]);
            }
            e->nhosts = n;
        }

        mkt_cfg_pop(ctx, saved);
    }

    p = json_object_get(m, "path");
    if (p != NULL) {
        size_t  saved = mkt_cfg_push(ctx, "path", 0);

        if (!json_is_string(p) || json_string_length(p) == 0) {
            mkt_cfg_error(ctx, "expected a regular expression");

        } else if (mkt_cond_regex_compile(json_string_value(p),
                                          json_string_length(p), 0, &re, err,
                                          sizeof(err))
                   != MKT_COND_REGEX_OK)
        {
            mkt_cfg_error(ctx, "%s", err);

        } else {
            e->path_re = re;
            e->path_regex = mkt_cfg_str(p);
            n = mkt_cfg_regex_literal(e->path_regex.data,
                                      e->path_regex.len, pfx, sizeof(pfx),
                                      &end);
            e->path_prefix = mkt_cfg_strdup(ctx, pfx, n);
            if (end == e->path_regex.len) {
                e->path_literal = MKT_PATH_PREFIX;
            } else if (end + 1 == e->path_regex.len
                       && e->path_regex.data[end] == '$')
            {
                e->path_literal = MKT_PATH_EXACT;
            }
        }

        mkt_cfg_pop(ctx, saved);
    }
}


int
mkt_cfg_path_matches(const mkt_experiment_t *e, const char *path,
    size_t len)
{
    return e->path_re == NULL || mkt_cond_regex_match(e->path_re, path, len);
}


/* variations of a config experiment: unique names */
static void
parse_variations(mkt_cfg_ctx_t *ctx, json_t *a, mkt_experiment_t *e)
{
    char         q[MKT_CFG_QUOTE_MAX];
    size_t       i, j, n;
    json_t      *v;
    mkt_str_t    s;

    if (!json_is_array(a)) {
        mkt_cfg_error(ctx, "expected an array of variation names");
        return;
    }
    n = json_array_size(a);
    if (n < 2) {
        mkt_cfg_error(ctx, "needs at least 2 variations, has %zu", n);
        return;
    }
    if (n > MKT_EXP_VARIATIONS_MAX) {
        mkt_cfg_error(ctx, "more than %d variations", MKT_EXP_VARIATIONS_MAX);
        return;
    }

    e->variations = mkt_arena_alloc(ctx->arena, n * sizeof(mkt_str_t));
    if (e->variations == NULL) {
        return;
    }

    json_array_foreach(a, i, v) {
        s = mkt_cfg_str(v);
        if (!json_is_string(v) || !mkt_cfg_valid_name(s.data, s.len, 1)) {
            AT_INDEX(ctx, i, mkt_cfg_error(ctx, "expected a variation name "
                                           "of %s", MKT_CFG_NAME_RULE));
            return;
        }
        for (j = 0; j < i; j++) {
            if (e->variations[j].len == s.len
                && memcmp(e->variations[j].data, s.data, s.len) == 0)
            {
                AT_INDEX(ctx, i, mkt_cfg_error(ctx, "duplicate variation %s",
                                               mkt_cfg_quote(s.data, s.len, q,
                                                             sizeof(q))));
                return;
            }
        }
        e->variations[i] = s;
    }

    e->nvariations = n;
}


static void
parse_bucket_version(mkt_cfg_ctx_t *ctx, json_t *v, uint32_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0
        || json_integer_value(v) > MKT_BUCKET_VERSION_MAX)
    {
        mkt_cfg_error(ctx, "expected an integer from 0 to %d",
                      MKT_BUCKET_VERSION_MAX);
        return;
    }
    *out = (uint32_t) json_integer_value(v);
}


static void
parse_goal_refs(mkt_cfg_ctx_t *ctx, json_t *a, const mkt_config_t *cfg,
    mkt_experiment_t *e)
{
    char         q[MKT_CFG_QUOTE_MAX];
    size_t       i, j, n;
    json_t      *g;
    mkt_str_t    s;

    n = json_array_size(a);
    if (!json_is_array(a)) {
        mkt_cfg_error(ctx, "expected an array of goal names");
        return;
    }

    e->goals = mkt_arena_alloc(ctx->arena, (n + 1) * sizeof(size_t));
    if (e->goals == NULL) {
        return;
    }

    json_array_foreach(a, i, g) {
        s = mkt_cfg_str(g);
        for (j = 0; j < cfg->ngoals; j++) {
            if (cfg->goals[j].len == s.len
                && memcmp(cfg->goals[j].data, s.data, s.len) == 0)
            {
                break;
            }
        }
        if (!json_is_string(g) || j == cfg->ngoals) {
            AT_INDEX(ctx, i, mkt_cfg_error(ctx, "unknown goal %s (goals are "
                                           "declared in the top-level "
                                           "\"goals\")",
                                           mkt_cfg_quote(s.data, s.len, q,
                                                         sizeof(q))));
            continue;
        }
        e->goals[e->ngoals++] = j;
    }
}


static void
parse_times(mkt_cfg_ctx_t *ctx, json_t *obj, mkt_experiment_t *e)
{
    static const char  want[] = "expected an RFC 3339 time like "
                                "\"2026-11-01T00:00:00Z\"";
    json_t            *s, *t;
    int                ok;

    s = json_object_get(obj, "start");
    t = json_object_get(obj, "end");
    ok = 1;

    if (s != NULL && (!json_is_string(s)
                      || mkt_config_parse_time(json_string_value(s),
                                            json_string_length(s),
                                            &e->start) != 0))
    {
        AT(ctx, "start", mkt_cfg_error(ctx, "%s", want));
        ok = 0;
    }
    if (t != NULL && (!json_is_string(t)
                      || mkt_config_parse_time(json_string_value(t),
                                            json_string_length(t),
                                            &e->end) != 0))
    {
        AT(ctx, "end", mkt_cfg_error(ctx, "%s", want));
        ok = 0;
    }
    if (ok && s != NULL && t != NULL && e->end <= e->start) {
        AT(ctx, "end", mkt_cfg_error(ctx, "end is not after start"));
    }
}


static void
parse_status(mkt_cfg_ctx_t *ctx, json_t *obj, mkt_experiment_t *e)
{
    char         q[MKT_CFG_QUOTE_MAX];
    json_t      *st, *w;
    mkt_str_t    s;
    size_t       i;

    st = json_object_get(obj, "status");
    w = json_object_get(obj, "winner");

    if (st != NULL) {
        s = mkt_cfg_str(st);
        if (strcmp(s.data, "running") == 0) {
            e->status = MKT_EXP_RUNNING;
        } else if (strcmp(s.data, "draft") == 0) {
            e->status = MKT_EXP_DRAFT;
        } else if (strcmp(s.data, "stopped") == 0) {
            e->status = MKT_EXP_STOPPED;
        } else {
            AT(ctx, "status", mkt_cfg_error(ctx, "expected \"draft\", "
                                            "\"running\" or \"stopped\""));
            return;
        }
    }

    if (w == NULL) {
        if (e->status == MKT_EXP_STOPPED) {
            mkt_cfg_error(ctx, "a stopped experiment needs a \"winner\"");
        }
        return;
    }

    s = mkt_cfg_str(w);
    for (i = 0; i < e->nvariations; i++) {
        if (e->variations[i].len == s.len
            && memcmp(e->variations[i].data, s.data, s.len) == 0)
        {
            break;
        }
    }

    if (!json_is_string(w) || (e->nvariations && i == e->nvariations)) {
        AT(ctx, "winner", mkt_cfg_error(ctx, "%s is not one of the "
                                        "variations",
                                        mkt_cfg_quote(s.data, s.len, q,
                                                      sizeof(q))));
        return;
    }

    if (e->status != MKT_EXP_STOPPED) {
        AT(ctx, "winner", mkt_cfg_warn(ctx, "ignored unless \"status\" is "
                                       "\"stopped\""));
        return;
    }

    e->winner = (int) i;
}


int
mkt_cfg_parse_experiment(mkt_cfg_ctx_t *ctx, json_t *obj,
    const mkt_config_t *cfg, mkt_experiment_t *e)
{
    char         q[MKT_CFG_QUOTE_MAX];
    unsigned     errors;
    json_t      *v;
    size_t       i;
    mkt_str_t    s;

    mkt_cfg_experiment_init(e);
    errors = ctx->errors;

    if (!json_is_object(obj)) {
        mkt_cfg_error(ctx, "expected an object");
        return -1;
    }
    mkt_cfg_check_keys(ctx, obj, exp_keys);

    v = json_object_get(obj, "key");
    s = mkt_cfg_str(v);
    if (v == NULL) {
        mkt_cfg_error(ctx, "missing \"key\"");
        return -1;
    }
    if (!json_is_string(v) || !mkt_cfg_valid_name(s.data, s.len, 0)) {
        AT(ctx, "key", mkt_cfg_error(ctx, "expected a key of %s", MKT_CFG_KEY_RULE));
        return -1;
    }
    e->key = s;
    e->var_name = mkt_cfg_var_name(ctx, s);
    e->sticky_id = mkt_fnv32a(MKT_FNV32A_INIT, s.data, s.len)
                   % MKT_STICKY_ID_SPACE;

    for (i = 0; i < 2; i++) {
        v = json_object_get(obj, i ? "description" : "name");
        if (v != NULL && !json_is_string(v)) {
            AT(ctx, i ? "description" : "name",
               mkt_cfg_error(ctx, "expected a string"));
        }
    }

    v = json_object_get(obj, "variations");
    if (v == NULL) {
        mkt_cfg_error(ctx, "missing \"variations\"");
    } else {
        AT(ctx, "variations", parse_variations(ctx, v, e));
    }

    parse_status(ctx, obj, e);
    parse_times(ctx, obj, e);
    mkt_cfg_experiment_common(ctx, obj, e);

    if (ctx->attrs) {
        AT(ctx, "hashAttribute",
           mkt_cfg_attrs_name(ctx, e->hash_attribute.data,
                              e->hash_attribute.len));
        if (e->fallback_attribute.len) {
            AT(ctx, "fallbackAttribute",
               mkt_cfg_attrs_name(ctx, e->fallback_attribute.data,
                                  e->fallback_attribute.len));
        }
    }

    v = json_object_get(obj, "match");
    if (v != NULL) {
        AT(ctx, "match", parse_match(ctx, v, e));
    }

    v = json_object_get(obj, "bucketVersion");
    if (v != NULL) {
        AT(ctx, "bucketVersion", parse_bucket_version(ctx, v,
                                                      &e->bucket_version));
    }
    v = json_object_get(obj, "minBucketVersion");
    if (v != NULL) {
        AT(ctx, "minBucketVersion",
           parse_bucket_version(ctx, v, &e->min_bucket_version));
        if (e->min_bucket_version > e->bucket_version) {
            AT(ctx, "minBucketVersion",
               mkt_cfg_error(ctx, "%u is greater than bucketVersion %u",
                             e->min_bucket_version, e->bucket_version));
        }
    }

    v = json_object_get(obj, "goals");
    if (v != NULL) {
        AT(ctx, "goals", parse_goal_refs(ctx, v, cfg, e));
    }

    v = json_object_get(obj, "slot");
    if (v != NULL) {
        s = mkt_cfg_str(v);
        for (i = 0; i < cfg->nslots; i++) {
            if (cfg->slots[i].key.len == s.len
                && memcmp(cfg->slots[i].key.data, s.data, s.len) == 0)
            {
                e->slot = (int) i;
                break;
            }
        }
        if (e->slot < 0) {
            AT(ctx, "slot", mkt_cfg_error(ctx, "unknown slot %s",
                                          mkt_cfg_quote(s.data, s.len, q,
                                                        sizeof(q))));
        }
    }

    if (ctx->errors == errors && e->nvariations >= 2) {
        (void) mkt_cfg_experiment_buckets(ctx, e);
    }

    if (ctx->errors != errors || e->buckets == NULL) {
        mkt_cfg_experiment_release(e);
        return -1;
    }

    return 0;
}


void
mkt_cfg_experiment_release(mkt_experiment_t *e)
{
    mkt_cond_free(e->condition);
    e->condition = NULL;
    mkt_cond_regex_free(e->path_re);
    e->path_re = NULL;
}
