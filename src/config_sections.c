/* The top-level sections of the config file besides experiments and
 * slots: goals, holdout, and the shapes of channels, referrers and plugins
 * (kept as written for M3 and M6). */
#include <string.h>

#include "config_int.h"


void
mkt_cfg_parse_goals(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *goals)
{
    char         q[MKT_CFG_QUOTE_MAX];
    size_t       i, j, saved;
    json_t      *g;
    const char  *s;

    if (goals == NULL) {
        return;
    }

    saved = mkt_cfg_push(ctx, "goals", 0);

    if (!json_is_array(goals)) {
        mkt_cfg_error(ctx, "expected an array of goal names");
        mkt_cfg_pop(ctx, saved);
        return;
    }

    cfg->goals = mkt_arena_alloc(ctx->arena,
                                 (json_array_size(goals) + 1)
                                 * sizeof(mkt_str_t));
    if (cfg->goals == NULL) {
        mkt_cfg_pop(ctx, saved);
        return;
    }

    json_array_foreach(goals, i, g) {
        size_t  s2 = mkt_cfg_push(ctx, NULL, i);

        s = json_string_value(g);
        if (s == NULL || !mkt_cfg_valid_name(s, json_string_length(g), 1)) {
            mkt_cfg_error(ctx, "expected a goal name of 1 to %d characters "
                          "A-Z a-z 0-9 _ . -", MKT_KEY_MAX);

        } else {
            for (j = 0; j < cfg->ngoals; j++) {
                if (strcmp(cfg->goals[j].data, s) == 0) {
                    break;
                }
            }
            if (j < cfg->ngoals) {
                mkt_cfg_error(ctx, "duplicate goal %s",
                              mkt_cfg_quote(s, strlen(s), q, sizeof(q)));
            } else {
                cfg->goals[cfg->ngoals].data = s;
                cfg->goals[cfg->ngoals].len = json_string_length(g);
                cfg->ngoals++;
            }
        }

        mkt_cfg_pop(ctx, s2);
    }

    mkt_cfg_pop(ctx, saved);
}


void
mkt_cfg_parse_holdout(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *h)
{
    static const char *const  known[] = { "key", "coverage", NULL };
    size_t                    saved, s2;
    json_t                   *k, *c;
    double                    cov;

    if (h == NULL) {
        return;
    }

    saved = mkt_cfg_push(ctx, "holdout", 0);

    if (!json_is_object(h)) {
        mkt_cfg_error(ctx, "expected an object {\"key\": ..., "
                      "\"coverage\": ...}");
        mkt_cfg_pop(ctx, saved);
        return;
    }

    mkt_cfg_check_keys(ctx, h, known);

    k = json_object_get(h, "key");
    c = json_object_get(h, "coverage");

    if (k == NULL) {
        mkt_cfg_error(ctx, "missing \"key\"");
    } else if (!json_is_string(k)
               || !mkt_cfg_valid_name(json_string_value(k),
                                      json_string_length(k), 0))
    {
        s2 = mkt_cfg_push(ctx, "key", 0);
        mkt_cfg_error(ctx, "expected a key of 1 to %d characters "
                      "A-Z a-z 0-9 _ -", MKT_KEY_MAX);
        mkt_cfg_pop(ctx, s2);
    } else {
        cfg->holdout.key.data = json_string_value(k);
        cfg->holdout.key.len = json_string_length(k);
    }

    if (c == NULL) {
        mkt_cfg_error(ctx, "missing \"coverage\"");
    } else {
        cov = json_is_number(c) ? json_number_value(c) : -1;
        if (!(cov >= 0 && cov <= 1)) {
            s2 = mkt_cfg_push(ctx, "coverage", 0);
            mkt_cfg_error(ctx, "expected a number from 0 to 1");
            mkt_cfg_pop(ctx, s2);
        } else {
            cfg->holdout.coverage = cov;
        }
    }

    cfg->has_holdout = 1;
    mkt_cfg_pop(ctx, saved);
}


/* An array of non-empty strings, or an error. */
static void
check_string_array(mkt_cfg_ctx_t *ctx, json_t *a, const char *what)
{
    size_t   i, s2;
    json_t  *v;

    if (!json_is_array(a)) {
        mkt_cfg_error(ctx, "expected an array of %s", what);
        return;
    }
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || json_string_length(v) == 0) {
            s2 = mkt_cfg_push(ctx, NULL, i);
            mkt_cfg_error(ctx, "expected a non-empty string");
            mkt_cfg_pop(ctx, s2);
        }
    }
}


void
mkt_cfg_parse_channels(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *ch)
{
    static const char *const  known[] = { "param", "codes", NULL };
    size_t                    saved, s2, s3, s4;
    json_t                   *p, *codes, *code, *v;
    const char               *name, *field;

    if (ch == NULL) {
        return;
    }

    saved = mkt_cfg_push(ctx, "channels", 0);

    if (!json_is_object(ch)) {
        mkt_cfg_error(ctx, "expected an object");
        mkt_cfg_pop(ctx, saved);
        return;
    }

    mkt_cfg_check_keys(ctx, ch, known);

    p = json_object_get(ch, "param");
    if (p != NULL && (!json_is_string(p) || json_string_length(p) == 0)) {
        s2 = mkt_cfg_push(ctx, "param", 0);
        mkt_cfg_error(ctx, "expected a query parameter name");
        mkt_cfg_pop(ctx, s2);
    }

    codes = json_object_get(ch, "codes");
    if (codes != NULL) {
        s2 = mkt_cfg_push(ctx, "codes", 0);
        if (!json_is_object(codes)) {
            mkt_cfg_error(ctx, "expected an object of channel codes");
        } else {
            json_object_foreach(codes, name, code) {
                s3 = mkt_cfg_push(ctx, name, 0);
                if (!json_is_object(code)) {
                    mkt_cfg_error(ctx, "expected an object like "
                                  "{\"source\": ..., \"medium\": ...}");
                } else {
                    json_object_foreach(code, field, v) {
                        if (!json_is_string(v)) {
                            s4 = mkt_cfg_push(ctx, field, 0);
                            mkt_cfg_error(ctx, "expected a string");
                            mkt_cfg_pop(ctx, s4);
                        }
                    }
                }
                mkt_cfg_pop(ctx, s3);
            }
        }
        mkt_cfg_pop(ctx, s2);
    }

    cfg->channels = ch;
    mkt_cfg_pop(ctx, saved);
}


void
mkt_cfg_parse_referrers(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *r)
{
    static const char *const  known[] = { "same_site", "search", "social",
                                          NULL };
    size_t                    saved, s2, i;
    json_t                   *v;

    if (r == NULL) {
        return;
    }

    saved = mkt_cfg_push(ctx, "referrers", 0);

    if (!json_is_object(r)) {
        mkt_cfg_error(ctx, "expected an object");
        mkt_cfg_pop(ctx, saved);
        return;
    }

    mkt_cfg_check_keys(ctx, r, known);

    for (i = 0; known[i] != NULL; i++) {
        v = json_object_get(r, known[i]);
        if (v != NULL) {
            s2 = mkt_cfg_push(ctx, known[i], 0);
            check_string_array(ctx, v, "host names");
            mkt_cfg_pop(ctx, s2);
        }
    }

    cfg->referrers = r;
    mkt_cfg_pop(ctx, saved);
}


void
mkt_cfg_parse_plugins(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *p)
{
    size_t       saved, s2;
    json_t      *v;
    const char  *name;

    if (p == NULL) {
        return;
    }

    saved = mkt_cfg_push(ctx, "plugins", 0);

    if (!json_is_object(p)) {
        mkt_cfg_error(ctx, "expected an object of plugin settings");
        mkt_cfg_pop(ctx, saved);
        return;
    }

    json_object_foreach(p, name, v) {
        if (!json_is_object(v)) {
            s2 = mkt_cfg_push(ctx, name, 0);
            mkt_cfg_error(ctx, "expected an object");
            mkt_cfg_pop(ctx, s2);
        }
    }

    cfg->plugins = p;
    mkt_cfg_pop(ctx, saved);
}
