/* libFuzzer target for the config loader (src/config*.c) and the engine
 * behind it: any bytes load or fail with at least one error, never crash
 * or leak; a loaded config is evaluated for a request, its variables and
 * sticky cookie are written, and every experiment object is also read the
 * way `mkt eval` reads GrowthBook's. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "experiment.h"

#define CHECK(c)  do { if (!(c)) { __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mkt_val_t  *attrs;


typedef struct {
    unsigned  errors;
    unsigned  warnings;
} counts_t;


static void
count(void *data, mkt_diag_level_e level, const char *msg)
{
    counts_t  *c = data;

    CHECK(msg != NULL && strlen(msg) < 4096);
    if (level == MKT_DIAG_ERROR) {
        c->errors++;
    } else {
        c->warnings++;
    }
}


static void
init(void)
{
    json_t  *j;

    j = json_loads("{\"id\": \"fuzz-visitor\", \"vid\": \"fuzz-visitor\", "
                   "\"device\": \"mobile\", \"tags\": [\"vip\"], "
                   "\"geo\": {\"country\": \"CN\"}, \"hour\": 9, "
                   "\"query\": {\"utm_source\": \"news\"}}", 0, NULL);
    CHECK(j != NULL);
    attrs = mkt_val_from_json(j);
    CHECK(attrs != NULL);
    json_decref(j);
}


static void
evaluate(const mkt_config_t *cfg)
{
    char               *vars, sb[MKT_STICKY_COOKIE_MAX];
    char                key[MKT_CACHE_KEY_LEN];
    size_t              n, i, len, count_all;
    mkt_force_t         forced[MKT_FORCE_MAX];
    mkt_sticky_t        st;
    mkt_request_t       req;
    mkt_exp_result_t   *res;

    count_all = mkt_config_experiment_count(cfg);
    res = malloc((count_all + 1) * sizeof(*res));
    vars = malloc(mkt_config_experiments_str_max(cfg) + 1);
    CHECK(res != NULL && vars != NULL);

    mkt_sticky_init(&st);
    memset(&req, 0, sizeof(req));
    req.attributes = attrs;
    req.host = "www.example.com";
    req.host_len = strlen(req.host);
    req.path = "/landing/x";
    req.path_len = strlen(req.path);
    req.now = 1793491200;
    req.sticky = &st;
    req.forced = forced;
    req.nforced = mkt_force_parse(cfg, "a:b,hero:1", 10, forced);

    for (req.all = 0; req.all <= 1; req.all++) {
        n = mkt_experiments_eval(cfg, &req, res);
        CHECK(n <= count_all && (!req.all || n == count_all));

        for (i = 0; i < n; i++) {
            CHECK(res[i].exp < count_all);
            CHECK(i == 0 || res[i].exp > res[i - 1].exp);
            CHECK(res[i].variation < 0
                  || (size_t) res[i].variation
                     < mkt_config_experiment(cfg, res[i].exp)->nvariations);
            CHECK(strcmp(mkt_reason_name(res[i].reason), "unknown") != 0);
        }

        len = mkt_experiments_format(cfg, res, n, vars,
                                     mkt_config_experiments_str_max(cfg));
        CHECK(len <= mkt_config_experiments_str_max(cfg));
        len = mkt_experiments_cache_key(cfg, res, n, key);
        CHECK(len == 0 || len == MKT_CACHE_KEY_LEN);
    }

    CHECK(mkt_sticky_encode(NULL, &st, cfg, sb, &len) == 0);
    CHECK(len <= MKT_STICKY_COOKIE_MAX);

    free(res);
    free(vars);
}


/* The compiled "channels" and "referrers": sorted, each entry found by
 * its own lookup, host names normalised and in one list only. */
static void
attribution(const mkt_config_t *cfg)
{
    char                       norm[MKT_HOST_MAX];
    size_t                     i, j, k;
    const mkt_str_t           *name, *found;
    const mkt_channels_t      *ch;
    const mkt_referrers_t     *r;
    const mkt_host_list_t     *lists[3];
    const mkt_channel_code_t  *c;

    ch = mkt_config_channels(cfg);
    CHECK(ch->ncodes == 0 || ch->param.len > 0);
    CHECK(ch->nclick_ids <= MKT_CLICK_IDS_MAX);
    for (i = 0; i < ch->ncodes; i++) {
        c = &ch->codes[i];
        CHECK(mkt_channels_find_code(ch, c->code.data, c->code.len) == c);
        CHECK(c->source.len > 0 && c->source.len <= MKT_UTM_VALUE_MAX);
        CHECK(c->medium.len > 0 && c->medium.len <= MKT_UTM_VALUE_MAX);
        CHECK(c->campaign.len <= MKT_UTM_VALUE_MAX);
    }

    r = mkt_config_referrers(cfg);
    lists[0] = &r->same_site;
    lists[1] = &r->search;
    lists[2] = &r->social;
    for (k = 0; k < 3; k++) {
        for (i = 0; i < lists[k]->n; i++) {
            name = &lists[k]->names[i];
            CHECK(mkt_host_normalize(name->data, name->len, norm)
                  == name->len);
            CHECK(memcmp(norm, name->data, name->len) == 0);
            CHECK(i == 0 || strcmp(lists[k]->names[i - 1].data,
                                   name->data) < 0);
            CHECK(mkt_host_list_match(lists[k], name->data, name->len)
                  == name);
            for (j = 0; j < k; j++) {
                found = mkt_host_list_match(lists[j], name->data,
                                            name->len);
                CHECK(found == NULL || found->len != name->len);
            }
        }
    }
}


/* Each experiment object again, as mkt eval reads GrowthBook's. */
static void
growthbook_objects(const uint8_t *data, size_t size)
{
    char               err[256];
    size_t             i;
    json_t            *root, *exps, *e;
    mkt_experiment_t  *x;
    mkt_exp_result_t   r;

    root = json_loadb((const char *) data, size, 0, NULL);
    exps = json_object_get(root, "experiments");

    json_array_foreach(exps, i, e) {
        if (i == 64) {
            break;
        }
        x = mkt_experiment_from_json(e, err, sizeof(err));
        if (x != NULL) {
            (void) mkt_experiment_run(NULL, x, attrs, NULL, &r);
            CHECK(r.variation < 0 || (size_t) r.variation < x->nvariations);
            mkt_experiment_free(x);
        } else {
            CHECK(strlen(err) < sizeof(err));
        }
    }

    json_decref(root);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          *copy;
    counts_t       c;
    mkt_config_t  *cfg;

    if (attrs == NULL) {
        init();
    }

    /* an exact-size heap copy, so ASan sees any read past size */
    copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    if (size) {
        memcpy(copy, data, size);
    }

    memset(&c, 0, sizeof(c));
    cfg = mkt_config_load_string("fuzz.json", copy, size, count, &c);
    CHECK((cfg == NULL) == (c.errors != 0));

    if (cfg != NULL) {
        evaluate(cfg);
        attribution(cfg);
        mkt_config_free(cfg);
    }

    growthbook_objects((const uint8_t *) copy, size);

    free(copy);
    return 0;
}
