/* Loading the experiments file: JSON syntax, the top-level sections, and
 * the lookup tables of the model (DESIGN.md section 6). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "sticky.h"


static const char *const top_keys[] = {
    "$schema", "goals", "channels", "experiments", "slots", "holdout",
    "referrers", "plugins", NULL
};


uint32_t
mkt_cfg_name_hash(const char *s, size_t len)
{
    size_t    i;
    uint32_t  h;
    char      c;

    h = MKT_FNV32A_INIT;
    for (i = 0; i < len; i++) {
        c = s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }
        h = (h ^ (unsigned char) c) * 16777619u;
    }
    return h;
}


static int
name_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t  i;
    char    x, y;

    if (alen != blen) {
        return 0;
    }
    for (i = 0; i < alen; i++) {
        x = a[i];
        y = b[i];
        if (x >= 'A' && x <= 'Z') {
            x = (char) (x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = (char) (y - 'A' + 'a');
        }
        if (x != y) {
            return 0;
        }
    }
    return 1;
}


static size_t
table_size_for(size_t n)
{
    size_t  size;

    for (size = 8; size < 2 * n; size <<= 1) { /* void */ }
    return size;
}


/* Slot of name in table: the slot holding it, or the empty one where it
 * goes.  names are at base + i * stride (a mkt_str_t var_name). */
static uint32_t *
table_slot(uint32_t *table, size_t size, const void *base, size_t stride,
    const char *name, size_t len)
{
    size_t           i;
    uint32_t         v;
    const mkt_str_t *vn;

    i = mkt_cfg_name_hash(name, len) & (size - 1);

    for ( ;; ) {
        v = table[i];
        if (v == 0) {
            return &table[i];
        }
        vn = (const mkt_str_t *) ((const char *) base + (v - 1) * stride);
        if (name_equal(vn->data, vn->len, name, len)) {
            return &table[i];
        }
        i = (i + 1) & (size - 1);
    }
}




static void
parse_slots(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *slots)
{
    char         q[MKT_CFG_QUOTE_MAX];
    size_t       i, saved, s2, size;
    json_t      *s;
    uint32_t    *slot;
    mkt_slot_t  *other;

    if (slots == NULL) {
        return;
    }

    saved = mkt_cfg_push(ctx, "slots", 0);

    if (!json_is_array(slots)) {
        mkt_cfg_error(ctx, "expected an array of slots");
        mkt_cfg_pop(ctx, saved);
        return;
    }
    if (json_array_size(slots) > MKT_CONFIG_SLOTS_MAX) {
        mkt_cfg_error(ctx, "more than %d slots", MKT_CONFIG_SLOTS_MAX);
        mkt_cfg_pop(ctx, saved);
        return;
    }

    size = table_size_for(json_array_size(slots));
    cfg->slots = mkt_arena_alloc(ctx->arena, (json_array_size(slots) + 1)
                                             * sizeof(mkt_slot_t));
    cfg->slot_table = mkt_arena_alloc(ctx->arena, size * sizeof(uint32_t));
    if (cfg->slots == NULL || cfg->slot_table == NULL) {
        mkt_cfg_pop(ctx, saved);
        return;
    }
    cfg->slot_table_size = size;

    json_array_foreach(slots, i, s) {
        mkt_slot_t  *sl = &cfg->slots[cfg->nslots];

        s2 = mkt_cfg_push(ctx, NULL, i);

        if (mkt_cfg_parse_slot(ctx, s, sl) == 0) {
            slot = table_slot(cfg->slot_table, size, &cfg->slots->var_name,
                              sizeof(mkt_slot_t), sl->var_name.data,
                              sl->var_name.len);
            if (*slot != 0) {
                other = &cfg->slots[*slot - 1];
                mkt_cfg_push(ctx, "key", 0);
                if (strcmp(other->key.data, sl->key.data) == 0) {
                    mkt_cfg_error(ctx, "duplicate slot key %s",
                                  mkt_cfg_quote(sl->key.data, sl->key.len, q,
                                                sizeof(q)));
                } else {
                    mkt_cfg_error(ctx, "%s and \"%s\" are the same variable "
                                  "$mkt_slot_%.*s",
                                  mkt_cfg_quote(sl->key.data, sl->key.len, q,
                                                sizeof(q)),
                                  other->key.data, (int) sl->var_name.len,
                                  sl->var_name.data);
                }
                mkt_cfg_slot_release(sl);
            } else {
                cfg->nslots++;
                *slot = (uint32_t) cfg->nslots;
            }
        }

        mkt_cfg_pop(ctx, s2);
    }

    mkt_cfg_pop(ctx, saved);
}


static int
cmp_sticky_ref(const void *a, const void *b)
{
    uint32_t  x = ((const mkt_sticky_ref_t *) a)->id;
    uint32_t  y = ((const mkt_sticky_ref_t *) b)->id;

    return x < y ? -1 : x > y;
}


/* A key as it names its variable: ASCII case and "-" / "_" fold. */
static uint32_t
var_hash(const char *s, size_t len)
{
    size_t    i;
    uint32_t  h;
    char      c;

    h = MKT_FNV32A_INIT;
    for (i = 0; i < len; i++) {
        c = s[i] == '-' ? '_' : s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }
        h = (h ^ (unsigned char) c) * 16777619u;
    }
    return h;
}


static int
var_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t  i;
    char    x, y;

    if (alen != blen) {
        return 0;
    }
    for (i = 0; i < alen; i++) {
        x = a[i] == '-' ? '_' : a[i];
        y = b[i] == '-' ? '_' : b[i];
        if (x >= 'A' && x <= 'Z') {
            x = (char) (x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = (char) (y - 'A' + 'a');
        }
        if (x != y) {
            return 0;
        }
    }
    return 1;
}


/*
 * Keys must be unique, name distinct variables ($mkt_exp_NAME: case and
 * "-" / "_" fold) and have distinct sticky-bucket ids.  Checked on the
 * raw keys first, so that a duplicate is reported even when the first
 * experiment with the key has errors of its own.  Marks clashes in bad.
 */
static void
check_keys(mkt_cfg_ctx_t *ctx, json_t *exps, size_t size, char *bad)
{
    char         q[MKT_CFG_QUOTE_MAX], q2[MKT_CFG_QUOTE_MAX];
    size_t       i, j, s2, n;
    json_t      *k, *o;
    uint32_t    *vars, *ids, id;
    const char  *a, *b;

    n = json_array_size(exps);
    vars = mkt_arena_alloc(ctx->arena, size * sizeof(uint32_t));
    ids = mkt_arena_alloc(ctx->arena, size * sizeof(uint32_t));
    if (vars == NULL || ids == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        k = json_object_get(json_array_get(exps, i), "key");
        a = json_string_value(k);
        if (a == NULL || !mkt_cfg_valid_name(a, json_string_length(k), 0)) {
            continue;                   /* reported by the experiment */
        }

        b = "";
        for (j = var_hash(a, json_string_length(k)) & (size - 1);
             vars[j] != 0; j = (j + 1) & (size - 1))
        {
            o = json_object_get(json_array_get(exps, vars[j] - 1), "key");
            b = json_string_value(o);
            if (var_equal(a, json_string_length(k), b, json_string_length(o)))
            {
                break;
            }
        }

        if (vars[j] != 0) {
            s2 = mkt_cfg_push(ctx, NULL, i);
            mkt_cfg_push(ctx, "key", 0);
            if (strcmp(a, b) == 0) {
                mkt_cfg_error(ctx, "duplicate experiment key %s (also "
                              "experiments[%u])",
                              mkt_cfg_quote(a, strlen(a), q, sizeof(q)),
                              vars[j] - 1);
            } else {
                char    var[MKT_KEY_MAX + 1];
                size_t  v;

                for (v = 0; v < MKT_KEY_MAX && a[v]; v++) {
                    var[v] = a[v] == '-' ? '_'
                             : (a[v] >= 'A' && a[v] <= 'Z')
                               ? (char) (a[v] - 'A' + 'a') : a[v];
                }
                var[v] = '\0';
                mkt_cfg_error(ctx, "%s and %s (experiments[%u]) are the same "
                              "variable $mkt_exp_%s",
                              mkt_cfg_quote(a, strlen(a), q, sizeof(q)),
                              mkt_cfg_quote(b, strlen(b), q2, sizeof(q2)),
                              vars[j] - 1, var);
            }
            mkt_cfg_pop(ctx, s2);
            bad[i] = 1;
            continue;
        }
        vars[j] = (uint32_t) i + 1;

        /* two keys out of 36^6 sticky ids: rare, but their visitors
         * would share one stored assignment */
        id = mkt_fnv32a(MKT_FNV32A_INIT, a, strlen(a)) % MKT_STICKY_ID_SPACE;
        b = "";
        for (j = id & (size - 1); ids[j] != 0; j = (j + 1) & (size - 1)) {
            o = json_object_get(json_array_get(exps, ids[j] - 1), "key");
            b = json_string_value(o);
            if (mkt_fnv32a(MKT_FNV32A_INIT, b, strlen(b)) % MKT_STICKY_ID_SPACE
                == id)
            {
                break;
            }
        }
        if (ids[j] != 0) {
            s2 = mkt_cfg_push(ctx, NULL, i);
            mkt_cfg_push(ctx, "key", 0);
            mkt_cfg_error(ctx, "%s has the same sticky-bucket id as %s "
                          "(experiments[%u]): rename one of them",
                          mkt_cfg_quote(a, strlen(a), q, sizeof(q)),
                          mkt_cfg_quote(b, strlen(b), q2, sizeof(q2)),
                          ids[j] - 1);
            mkt_cfg_pop(ctx, s2);
            bad[i] = 1;
            continue;
        }
        ids[j] = (uint32_t) i + 1;
    }
}


static void
parse_experiments(mkt_cfg_ctx_t *ctx, mkt_config_t *cfg, json_t *exps)
{
    char              *bad;
    size_t             i, j, n, saved, s2, size, maxvar;
    json_t            *e;
    uint32_t          *slot;
    mkt_experiment_t  *x;

    if (exps == NULL) {
        return;
    }

    saved = mkt_cfg_push(ctx, "experiments", 0);

    if (!json_is_array(exps)) {
        mkt_cfg_error(ctx, "expected an array of experiments");
        mkt_cfg_pop(ctx, saved);
        return;
    }

    n = json_array_size(exps);
    if (n > MKT_CONFIG_EXPERIMENTS_MAX) {
        mkt_cfg_error(ctx, "more than %d experiments",
                      MKT_CONFIG_EXPERIMENTS_MAX);
        mkt_cfg_pop(ctx, saved);
        return;
    }

    size = table_size_for(n);
    cfg->exps = mkt_arena_alloc(ctx->arena, (n + 1) * sizeof(*cfg->exps));
    cfg->exp_table = mkt_arena_alloc(ctx->arena, size * sizeof(uint32_t));
    cfg->sticky_refs = mkt_arena_alloc(ctx->arena,
                                       (n + 1) * sizeof(mkt_sticky_ref_t));
    bad = mkt_arena_alloc(ctx->arena, n + 1);
    if (cfg->exps == NULL || cfg->exp_table == NULL
        || cfg->sticky_refs == NULL || bad == NULL)
    {
        mkt_cfg_pop(ctx, saved);
        return;
    }
    cfg->exp_table_size = size;

    check_keys(ctx, exps, size, bad);

    json_array_foreach(exps, i, e) {
        x = &cfg->exps[cfg->nexps];
        s2 = mkt_cfg_push(ctx, NULL, i);

        if (mkt_cfg_parse_experiment(ctx, e, cfg, x) == 0) {
            if (bad[i]) {
                mkt_cfg_experiment_release(x);
            } else {
                slot = table_slot(cfg->exp_table, size, &cfg->exps->var_name,
                                  sizeof(mkt_experiment_t), x->var_name.data,
                                  x->var_name.len);
                cfg->nexps++;
                *slot = (uint32_t) cfg->nexps;
            }
        }

        mkt_cfg_pop(ctx, s2);
    }

    for (i = 0; i < cfg->nexps; i++) {
        x = &cfg->exps[i];
        cfg->nslot_exps += x->slot >= 0;
        cfg->sticky_refs[i].id = x->sticky_id;
        cfg->sticky_refs[i].exp = (uint32_t) i;
        x->variation_hashes = mkt_arena_alloc(ctx->arena,
                                              (x->nvariations + 1)
                                              * sizeof(uint16_t));
        maxvar = 0;
        for (j = 0; j < x->nvariations; j++) {
            if (x->variations[j].len > maxvar) {
                maxvar = x->variations[j].len;
            }
            if (x->variation_hashes != NULL) {
                x->variation_hashes[j] = (uint16_t)
                    mkt_sticky_variation_hash(x->variations[j].data,
                                              x->variations[j].len);
            }
        }
        cfg->experiments_str_max += x->key.len + 2 + maxvar;
        x->seed_fnv = mkt_fnv32a_utf16(MKT_FNV32A_INIT, x->seed.data,
                                       x->seed.len);
        x->has_seed_fnv = 1;
    }
    qsort(cfg->sticky_refs, cfg->nexps, sizeof(mkt_sticky_ref_t),
          cmp_sticky_ref);

    mkt_cfg_pop(ctx, saved);
}












mkt_config_t *
mkt_config_load_string(const char *name, const char *json, size_t len,
    mkt_diag_pt diag, void *data)
{
    char            msg[MKT_CFG_MSG_MAX];
    size_t          saved;
    json_t         *root;
    json_error_t    jerr;
    mkt_cfg_ctx_t   ctx;
    mkt_config_t   *cfg;

    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        if (diag) {
            snprintf(msg, sizeof(msg), "%s: out of memory", name);
            diag(data, MKT_DIAG_ERROR, msg);
        }
        return NULL;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.file = name;
    ctx.diag = diag;
    ctx.data = data;
    ctx.arena = &cfg->arena;
    ctx.attrs = &cfg->attrs;

    /* a UTF-8 byte order mark, as some editors write: not JSON, and not
     * shown, so columns then count as the editor shows them */
    if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0) {
        json += 3;
        len -= 3;
    }

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        if (diag) {
            snprintf(msg, sizeof(msg), "%s:%d:%d: %s", name, jerr.line,
                     jerr.column, jerr.text);
            diag(data, MKT_DIAG_ERROR, msg);
        }
        free(cfg);
        return NULL;
    }
    cfg->root = root;

    if (!json_is_object(root)) {
        mkt_cfg_error(&ctx, "expected a JSON object at the top level");
        mkt_config_free(cfg);
        return NULL;
    }

    mkt_cfg_check_keys(&ctx, root, top_keys);

    mkt_cfg_parse_goals(&ctx, cfg, json_object_get(root, "goals"));
    parse_slots(&ctx, cfg, json_object_get(root, "slots"));
    parse_experiments(&ctx, cfg, json_object_get(root, "experiments"));
    cfg->ncondition_ids = json_object_size(ctx.conditions);
    json_decref(ctx.conditions);
    mkt_cfg_parse_holdout(&ctx, cfg, json_object_get(root, "holdout"));
    mkt_cfg_parse_channels(&ctx, cfg, json_object_get(root, "channels"));
    mkt_cfg_parse_referrers(&ctx, cfg, json_object_get(root, "referrers"));
    mkt_cfg_parse_plugins(&ctx, cfg, json_object_get(root, "plugins"));

    if (cfg->has_holdout) {
        mkt_cfg_attrs_name(&ctx, "id", 2);
    }

    if (ctx.errors == 0 && !cfg->arena.failed
        && mkt_cfg_index_build(&cfg->index, cfg->exps, cfg->nexps) != 0)
    {
        cfg->arena.failed = 1;
    }

    if (cfg->arena.failed && ctx.errors == 0) {
        mkt_cfg_error(&ctx, "out of memory");
    }

    if (ctx.errors == 0 && mkt_config_candidates_max(cfg) > MKT_STICKY_MAX) {
        saved = mkt_cfg_push(&ctx, "experiments", 0);
        mkt_cfg_warn(&ctx, "up to %zu experiments can apply to one request, "
                     "more than the %d assignments the sticky-bucket cookie "
                     "holds: the rest are bucketed afresh on every request",
                     mkt_config_candidates_max(cfg), MKT_STICKY_MAX);
        mkt_cfg_pop(&ctx, saved);
    }

    if (ctx.errors != 0) {
        mkt_config_free(cfg);
        return NULL;
    }

    cfg->refs.flags = cfg->attrs.flags;
    cfg->refs.query = cfg->attrs.query;
    cfg->refs.nquery = cfg->attrs.nquery;
    cfg->refs.header = cfg->attrs.header;
    cfg->refs.nheader = cfg->attrs.nheader;

    return cfg;
}


mkt_config_t *
mkt_config_load(const char *path, mkt_diag_pt diag, void *data)
{
    char           msg[MKT_CFG_MSG_MAX];
    char          *buf;
    FILE          *f;
    size_t         n, cap;
    mkt_config_t  *cfg;

    f = fopen(path, "rb");
    if (f == NULL) {
        if (diag) {
            snprintf(msg, sizeof(msg), "%s: cannot open: %s", path,
                     strerror(errno));
            diag(data, MKT_DIAG_ERROR, msg);
        }
        return NULL;
    }

    cap = 64 * 1024;
    buf = malloc(cap);
    n = 0;

    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap > MKT_CONFIG_FILE_MAX) {
            break;
        }
        cap *= 2;
        {
            char  *nb = realloc(buf, cap);

            if (nb == NULL) {
                free(buf);
            }
            buf = nb;
        }
    }

    if (buf == NULL || ferror(f) || n > MKT_CONFIG_FILE_MAX) {
        if (diag) {
            if (buf == NULL) {
                snprintf(msg, sizeof(msg), "%s: out of memory", path);
            } else if (ferror(f)) {
                snprintf(msg, sizeof(msg), "%s: cannot read: %s", path,
                         strerror(errno));
            } else {
                snprintf(msg, sizeof(msg), "%s: larger than %d bytes", path,
                         MKT_CONFIG_FILE_MAX);
            }
            diag(data, MKT_DIAG_ERROR, msg);
        }
        free(buf);
        fclose(f);
        return NULL;
    }

    fclose(f);
    cfg = mkt_config_load_string(path, buf, n, diag, data);
    free(buf);
    return cfg;
}


void
mkt_config_free(mkt_config_t *cfg)
{
    size_t  i;

    if (cfg == NULL) {
        return;
    }

    for (i = 0; i < cfg->nexps; i++) {
        mkt_cfg_experiment_release(&cfg->exps[i]);
    }
    for (i = 0; i < cfg->nslots; i++) {
        mkt_cfg_slot_release(&cfg->slots[i]);
    }

    mkt_cfg_index_free(&cfg->index);
    mkt_cfg_attrs_free(&cfg->attrs);
    mkt_arena_free(&cfg->arena);
    json_decref(cfg->root);
    free(cfg);
}


size_t
mkt_config_experiment_count(const mkt_config_t *cfg)
{
    return cfg->nexps;
}


const mkt_experiment_t *
mkt_config_experiment(const mkt_config_t *cfg, size_t i)
{
    return i < cfg->nexps ? &cfg->exps[i] : NULL;
}


size_t
mkt_config_slot_count(const mkt_config_t *cfg)
{
    return cfg->nslots;
}


const mkt_slot_t *
mkt_config_slot(const mkt_config_t *cfg, size_t i)
{
    return i < cfg->nslots ? &cfg->slots[i] : NULL;
}


size_t
mkt_config_goal_count(const mkt_config_t *cfg)
{
    return cfg->ngoals;
}


const mkt_str_t *
mkt_config_goal(const mkt_config_t *cfg, size_t i)
{
    return i < cfg->ngoals ? &cfg->goals[i] : NULL;
}


const mkt_holdout_t *
mkt_config_holdout(const mkt_config_t *cfg)
{
    return cfg->has_holdout ? &cfg->holdout : NULL;
}


const mkt_attr_refs_t *
mkt_config_attr_refs(const mkt_config_t *cfg)
{
    return &cfg->refs;
}


json_t *
mkt_config_section(const mkt_config_t *cfg, const char *name)
{
    if (strcmp(name, "channels") == 0) {
        return cfg->channels;
    }
    if (strcmp(name, "referrers") == 0) {
        return cfg->referrers;
    }
    if (strcmp(name, "plugins") == 0) {
        return cfg->plugins;
    }
    return NULL;
}


int
mkt_config_find_variable(const mkt_config_t *cfg, const char *name,
    size_t len)
{
    uint32_t  *slot;

    if (cfg->nexps == 0) {
        return -1;
    }
    slot = table_slot(cfg->exp_table, cfg->exp_table_size,
                      &cfg->exps->var_name, sizeof(mkt_experiment_t), name,
                      len);
    return *slot ? (int) *slot - 1 : -1;
}


int
mkt_config_find_experiment(const mkt_config_t *cfg, const char *key,
    size_t len)
{
    char                     var[MKT_KEY_MAX];
    size_t                   i;
    int                      k;
    const mkt_experiment_t  *e;

    if (len == 0 || len > MKT_KEY_MAX) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        var[i] = key[i] == '-' ? '_' : key[i];
    }

    k = mkt_config_find_variable(cfg, var, len);
    if (k < 0) {
        return -1;
    }
    e = &cfg->exps[k];
    return e->key.len == len && memcmp(e->key.data, key, len) == 0 ? k : -1;
}


int
mkt_config_find_slot_variable(const mkt_config_t *cfg, const char *name,
    size_t len)
{
    uint32_t  *slot;

    if (cfg->nslots == 0) {
        return -1;
    }
    slot = table_slot(cfg->slot_table, cfg->slot_table_size,
                      &cfg->slots->var_name, sizeof(mkt_slot_t), name, len);
    return *slot ? (int) *slot - 1 : -1;
}


int
mkt_config_has_sticky_id(const mkt_config_t *cfg, uint32_t id)
{
    return mkt_config_sticky_experiment(cfg, id) != NULL;
}


const mkt_experiment_t *
mkt_config_sticky_experiment(const mkt_config_t *cfg, uint32_t id)
{
    mkt_sticky_ref_t         key;
    const mkt_sticky_ref_t  *ref;

    if (cfg->nexps == 0) {
        return NULL;
    }
    key.id = id;
    ref = bsearch(&key, cfg->sticky_refs, cfg->nexps,
                  sizeof(mkt_sticky_ref_t), cmp_sticky_ref);
    return ref != NULL ? &cfg->exps[ref->exp] : NULL;
}


size_t
mkt_config_experiments_str_max(const mkt_config_t *cfg)
{
    return cfg->experiments_str_max;
}
