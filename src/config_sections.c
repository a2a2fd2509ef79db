/* The top-level sections of the config file besides experiments and
 * slots: goals, holdout, and the shape of plugins (kept as written for
 * M6).  Channels and referrers are in config_attribution.c. */
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
