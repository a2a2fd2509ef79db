/* The hooks per request and per event: attributes(ctx), choose(slot,
 * ctx) and event(ev), their arguments built in the VM and their results
 * taken back, bounded, into the caller's memory. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_int.h"


/* --- attributes --------------------------------------------------------- */

typedef struct {
    const mkt_plugin_req_t  *req;
    const mkt_plugin_mem_t  *mem;
    mkt_val_pair_t          *pairs;
    size_t                   n;
    unsigned                 ignored;
} attrs_t;


static int
attributes_body(lua_State *L, mkt_plugins_t *h, void *arg)
{
    size_t       len, taken;
    attrs_t     *a = arg;
    char        *key;
    const char  *s;

    h->req = a->req;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ctx_ref);
    lua_call(L, 1, 1);
    h->req = NULL;

    if (lua_isnil(L, -1)) {
        return 0;
    }

    if (!lua_istable(L, -1)) {
        a->ignored++;
        return 0;
    }

    taken = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        /* lua_tolstring() would turn a number key into a string,
         * which confuses lua_next() */
        len = 0;
        s = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len)
                                           : NULL;
        if (s == NULL || len == 0
            || len > MKT_KEY_MAX || taken == MKT_PLUGIN_ATTRS_MAX)
        {
            a->ignored++;
            lua_pop(L, 1);
            continue;
        }

        key = mkt_plugin_copy(a->mem, s, len);
        if (key != NULL
            && mkt_plugin_to_val(L, -1, a->mem, 0, &a->pairs[a->n].val,
                                 &a->ignored)
               == 0)
        {
            a->pairs[a->n].key = key;
            a->pairs[a->n].key_len = len;
            a->n++;
            taken++;
        }
        lua_pop(L, 1);
    }

    return 0;
}


size_t
mkt_plugins_attributes(mkt_plugins_t *h, const mkt_plugin_req_t *req,
    const mkt_plugin_mem_t *mem, const mkt_val_t *base, mkt_val_t *out)
{
    size_t           i, nbase, added;
    attrs_t          a;
    mkt_val_pair_t  *pairs;

    *out = *base;

    if (!(h->hooks & MKT_PLUGIN_HOOK(ATTRIBUTES))) {
        return 0;
    }

    added = 0;

    /* into the host's scratch first: a hook adding nothing costs no
     * memory of the caller's */
    for (i = 0; i < h->n; i++) {
        a.req = req;
        a.mem = mem;
        a.pairs = h->pairs + added;
        a.n = 0;
        a.ignored = 0;

        /* a failed call adds nothing, even what it had taken */
        if (mkt_plugin_call(h, i, MKT_PLUGIN_HOOK_ATTRIBUTES,
                            attributes_body, &a)
            == 0)
        {
            added += a.n;
        }

        while (a.ignored--) {
            mkt_plugin_count(h, i, MKT_PLUGIN_C_ignored);
        }
    }

    if (added == 0) {
        return 0;
    }

    nbase = base->type == MKT_VAL_OBJECT ? base->len : 0;

    pairs = mem->alloc(mem->data, (nbase + added) * sizeof(mkt_val_pair_t));
    if (pairs == NULL) {
        return 0;
    }

    if (nbase) {
        memcpy(pairs, base->u.pairs, nbase * sizeof(mkt_val_pair_t));
    }
    memcpy(pairs + nbase, h->pairs, added * sizeof(mkt_val_pair_t));

    *out = mkt_val_object(pairs, nbase + added);
    return added;
}


/* --- choose ------------------------------------------------------------- */

typedef struct {
    const mkt_plugin_req_t  *req;
    const mkt_slot_t        *slot;
    mkt_slot_result_t       *res;
    int                      chosen;     /* -1: none */
    int                      ignored;
} choose_t;


static int
choose_body(lua_State *L, mkt_plugins_t *h, void *arg)
{
    size_t             i, len;
    choose_t          *c = arg;
    const char        *s;
    const mkt_slot_t  *slot = c->slot;

    lua_createtable(L, 0, 4);
    lua_pushlstring(L, slot->key.data, slot->key.len);
    lua_setfield(L, -2, "key");
    lua_createtable(L, (int) slot->nvariants, 0);
    for (i = 0; i < slot->nvariants; i++) {
        lua_pushlstring(L, slot->variants[i].data, slot->variants[i].len);
        lua_rawseti(L, -2, (int) i + 1);
    }
    lua_setfield(L, -2, "variants");
    lua_pushlstring(L, slot->variants[c->res->variant].data,
                    slot->variants[c->res->variant].len);
    lua_setfield(L, -2, "variant");
    lua_pushstring(L, mkt_slot_reason_name(c->res->reason));
    lua_setfield(L, -2, "reason");

    h->req = c->req;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ctx_ref);
    lua_call(L, 2, 1);
    h->req = NULL;

    if (lua_isnil(L, -1)) {
        return 0;
    }

    s = lua_tolstring(L, -1, &len);
    if (lua_type(L, -1) == LUA_TSTRING) {
        for (i = 0; i < slot->nvariants; i++) {
            if (slot->variants[i].len == len
                && memcmp(slot->variants[i].data, s, len) == 0)
            {
                c->chosen = (int) i;
                return 0;
            }
        }
    }

    c->ignored = 1;
    return 0;
}


int
mkt_plugins_choose(mkt_plugins_t *h, const mkt_config_t *cfg, size_t i,
    const mkt_plugin_req_t *req, mkt_slot_result_t *res)
{
    int        chose;
    size_t     k;
    choose_t   c;

    if (!(h->hooks & MKT_PLUGIN_HOOK(CHOOSE))
        || (res->reason != MKT_SLOT_DEFAULT && res->reason != MKT_SLOT_RULE
            && res->reason != MKT_SLOT_PLUGIN))
    {
        return 0;
    }

    chose = 0;
    c.req = req;
    c.slot = mkt_config_slot(cfg, i);
    c.res = res;

    for (k = 0; k < h->n; k++) {
        c.chosen = -1;
        c.ignored = 0;

        if (mkt_plugin_call(h, k, MKT_PLUGIN_HOOK_CHOOSE, choose_body, &c)
            != 0)
        {
            continue;
        }

        if (c.ignored) {
            mkt_plugin_count(h, k, MKT_PLUGIN_C_ignored);

        } else if (c.chosen >= 0) {
            res->variant = (size_t) c.chosen;
            res->reason = MKT_SLOT_PLUGIN;
            chose = 1;
        }
    }

    return chose;
}


/* --- event -------------------------------------------------------------- */

typedef struct {
    const char  *name;
    size_t       off;
    size_t       max;
} ev_field_t;

#define EV_STR(f, max)  { #f, offsetof(mkt_event_t, f), max }

static const ev_field_t  ev_strings[] = {
    EV_STR(vid, MKT_EVENT_KEY_MAX),
    EV_STR(uid, MKT_EVENT_UID_MAX),
    EV_STR(exp, MKT_EVENT_KEY_MAX),
    EV_STR(var, MKT_EVENT_KEY_MAX),
    EV_STR(goal, MKT_EVENT_KEY_MAX),
    EV_STR(currency, MKT_EVENT_KEY_MAX),
    EV_STR(order, MKT_EVENT_ORDER_MAX),
    EV_STR(click_name, MKT_EVENT_KEY_MAX),
    EV_STR(click_id, MKT_EVENT_CLICK_ID_MAX),
    EV_STR(referrer, MKT_EVENT_HOST_MAX),
    EV_STR(channel, MKT_EVENT_KEY_MAX),
    EV_STR(device, MKT_EVENT_KEY_MAX),
    EV_STR(host, MKT_EVENT_HOST_MAX),
    EV_STR(path, MKT_EVENT_PATH_MAX),
    { NULL, 0, 0 }
};

/* Objects of the event: ft, lt, utm, geo. */
typedef struct {
    const char  *name;
    size_t       n;
    const char  *names[MKT_UTM_FIELDS];
    size_t       off[MKT_UTM_FIELDS];
    size_t       max;
} ev_group_t;

#define EV_AT(f, i)  (offsetof(mkt_event_t, f) + (i) * sizeof(mkt_str_t))

static const ev_group_t  ev_groups[] = {
    { "ft", 3, { "source", "medium", "campaign" },
      { EV_AT(ft, 0), EV_AT(ft, 1), EV_AT(ft, 2) }, MKT_EVENT_TEXT_MAX },
    { "lt", 3, { "source", "medium", "campaign" },
      { EV_AT(lt, 0), EV_AT(lt, 1), EV_AT(lt, 2) }, MKT_EVENT_TEXT_MAX },
    { "utm", MKT_UTM_FIELDS, { "source", "medium", "campaign", "term",
      "content" }, { EV_AT(utm, 0), EV_AT(utm, 1), EV_AT(utm, 2),
      EV_AT(utm, 3), EV_AT(utm, 4) }, MKT_EVENT_TEXT_MAX },
    { "geo", 3, { "country", "region", "city" },
      { offsetof(mkt_event_t, country), offsetof(mkt_event_t, region),
        offsetof(mkt_event_t, city) }, MKT_EVENT_TEXT_MAX },
    { NULL, 0, { NULL }, { 0 }, 0 }
};

#define EV_FIELD(ev, off)  ((mkt_str_t *) ((char *) (ev) + (off)))


static void
set_str(lua_State *L, int t, const char *name, const mkt_str_t *s)
{
    if (s->len) {
        lua_pushlstring(L, s->data, s->len);
        lua_setfield(L, t, name);
    }
}


static void
push_event(lua_State *L, const mkt_event_t *ev)
{
    int                t, g;
    size_t             i;
    const ev_field_t  *f;
    const ev_group_t  *gr;

    lua_createtable(L, 0, 24);
    t = lua_gettop(L);

    lua_pushstring(L, mkt_event_type_name(ev->type));
    lua_setfield(L, t, "type");
    set_str(L, t, "id", &ev->id);
    lua_pushnumber(L, (double) ev->ts);
    lua_setfield(L, t, "ts");

    if (ev->has_value && isfinite(ev->value)) {
        lua_pushnumber(L, ev->value);
        lua_setfield(L, t, "value");
    }

    for (f = ev_strings; f->name; f++) {
        set_str(L, t, f->name, EV_FIELD(ev, f->off));
    }

    for (gr = ev_groups; gr->name; gr++) {
        lua_createtable(L, 0, (int) gr->n);
        g = lua_gettop(L);
        for (i = 0; i < gr->n; i++) {
            set_str(L, g, gr->names[i], EV_FIELD(ev, gr->off[i]));
        }
        lua_setfield(L, t, gr->name);
    }

    lua_createtable(L, 0, (int) ev->nassign);
    for (i = 0; ev->assign && i < ev->nassign; i++) {
        if (ev->assign[i].key.len && ev->assign[i].variation.len) {
            lua_pushlstring(L, ev->assign[i].key.data, ev->assign[i].key.len);
            lua_pushlstring(L, ev->assign[i].variation.data,
                            ev->assign[i].variation.len);
            lua_rawset(L, -3);
        }
    }
    lua_setfield(L, t, "assign");

    lua_createtable(L, 0, (int) ev->nprops);
    for (i = 0; i < ev->nprops && i < MKT_EVENT_PROPS_MAX; i++) {
        if (ev->props[i].key.len) {
            lua_pushlstring(L, ev->props[i].key.data, ev->props[i].key.len);
            lua_pushlstring(L, ev->props[i].value.data,
                            ev->props[i].value.len);
            lua_rawset(L, -3);
        }
    }
    lua_setfield(L, t, "props");
}


typedef struct {
    mkt_event_t             *ev;
    const mkt_plugin_mem_t  *mem;
    mkt_event_t              out;        /* the result, applied on success */
    int                      drop;
    unsigned                 ignored;
} event_t;


/*
 * The string value at the top (popped) into *s: nil removes it, the same
 * bytes keep the old pointer, a new string (or a number) is copied, cut
 * to 2 * max bytes (the encoder cuts at a character boundary, by max).
 */
static void
take_str(lua_State *L, event_t *e, mkt_str_t *s, size_t max)
{
    char        *p;
    size_t       len;
    const char  *v;

    if (lua_isnil(L, -1)) {
        s->data = "";
        s->len = 0;

    } else if (lua_type(L, -1) == LUA_TSTRING
               || lua_type(L, -1) == LUA_TNUMBER)
    {
        v = lua_tolstring(L, -1, &len);
        len = len < 2 * max ? len : 2 * max;
        if (len != s->len || memcmp(v, s->data, len) != 0) {
            p = mkt_plugin_copy(e->mem, v, len);
            if (p == NULL) {
                luaL_error(L, "out of memory for the event");
            }
            s->data = p;
            s->len = len;
        }

    } else {
        e->ignored++;
    }

    lua_pop(L, 1);
}


typedef struct {
    const char  *key;
    size_t       key_len;
    int          idx;
} prop_ref_t;


static int
prop_cmp(const void *a, const void *b)
{
    const prop_ref_t  *x = a, *y = b;
    int                c;

    c = memcmp(x->key, y->key, x->key_len < y->key_len ? x->key_len
                                                         : y->key_len);
    if (c) {
        return c;
    }
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}


/* ev.props (a table at the top, popped): string keys of KEY_MAX bytes at
 * most, string, number or boolean values, sorted by key for a stable
 * encoding. */
static void
take_props(lua_State *L, event_t *e)
{
    int                t, n, i, base;
    size_t             len;
    const char        *k;
    prop_ref_t         refs[MKT_EVENT_PROPS_MAX];
    mkt_event_prop_t  *p;

    e->out.nprops = 0;

    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }

    if (!lua_istable(L, -1)) {
        e->ignored++;
        lua_pop(L, 1);
        return;
    }

    t = lua_gettop(L);
    base = t;
    n = 0;

    if (!lua_checkstack(L, 3 * MKT_EVENT_PROPS_MAX + 8)) {
        luaL_error(L, "stack overflow");
    }

    lua_pushnil(L);
    while (lua_next(L, t)) {
        len = 0;
        k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len)
                                           : NULL;
        if (k == NULL || len == 0
            || len > MKT_EVENT_KEY_MAX || n == MKT_EVENT_PROPS_MAX
            || (lua_type(L, -1) != LUA_TSTRING
                && lua_type(L, -1) != LUA_TNUMBER
                && lua_type(L, -1) != LUA_TBOOLEAN))
        {
            e->ignored++;
            lua_pop(L, 1);
            continue;
        }

        if (lua_type(L, -1) == LUA_TBOOLEAN) {
            lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
            lua_replace(L, -2);
        }

        /* keep key and value on the stack while they are referred to */
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        refs[n].key = k;
        refs[n].key_len = len;
        refs[n].idx = lua_gettop(L);
        n++;
        lua_pushvalue(L, -2);
    }

    qsort(refs, (size_t) n, sizeof(prop_ref_t), prop_cmp);

    for (i = 0; i < n; i++) {
        p = &e->out.props[i];
        p->key.data = mkt_plugin_copy(e->mem, refs[i].key, refs[i].key_len);
        p->key.len = refs[i].key_len;
        lua_pushvalue(L, refs[i].idx);
        p->value.data = "";                     /* never equal: copied */
        p->value.len = (size_t) -1;
        take_str(L, e, &p->value, MKT_EVENT_PROP_MAX);
        if (p->key.data == NULL) {
            luaL_error(L, "out of memory for the event");
        }
    }

    e->out.nprops = (size_t) n;
    lua_settop(L, base - 1);
}


static int
event_body(lua_State *L, mkt_plugins_t *h, void *arg)
{
    int                t;
    size_t             i;
    double             d;
    event_t           *e = arg;
    const ev_field_t  *f;
    const ev_group_t  *gr;

    push_event(L, e->ev);
    lua_pushvalue(L, -1);
    lua_insert(L, 1);
    t = 1;                       /* the event table, kept */
    lua_call(L, 1, 1);

    if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
        e->drop = 1;
        return 0;
    }

    /* a table returned is the event; anything else: ev as changed */
    if (lua_istable(L, -1)) {
        t = lua_gettop(L);
    } else if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TBOOLEAN) {
        e->ignored++;
    }

    e->out = *e->ev;

    for (f = ev_strings; f->name; f++) {
        lua_getfield(L, t, f->name);
        take_str(L, e, EV_FIELD(&e->out, f->off), f->max);
    }

    for (gr = ev_groups; gr->name; gr++) {
        lua_getfield(L, t, gr->name);
        if (!lua_istable(L, -1)) {
            if (!lua_isnil(L, -1)) {
                e->ignored++;
            }
            for (i = 0; i < gr->n; i++) {
                EV_FIELD(&e->out, gr->off[i])->len = 0;
            }
            lua_pop(L, 1);
            continue;
        }
        for (i = 0; i < gr->n; i++) {
            lua_getfield(L, -1, gr->names[i]);
            take_str(L, e, EV_FIELD(&e->out, gr->off[i]), gr->max);
        }
        lua_pop(L, 1);
    }

    lua_getfield(L, t, "value");
    d = lua_tonumber(L, -1);
    if (lua_isnil(L, -1)) {
        e->out.has_value = 0;
    } else if (lua_type(L, -1) == LUA_TNUMBER && isfinite(d)) {
        e->out.has_value = 1;
        e->out.value = d;
    } else {
        e->ignored++;
    }
    lua_pop(L, 1);

    lua_getfield(L, t, "ts");
    d = lua_tonumber(L, -1);
    if (lua_type(L, -1) == LUA_TNUMBER && isfinite(d) && d >= 0
        && d < 9007199254740992.0)
    {
        e->out.ts = (int64_t) d;
    } else {
        e->ignored++;
    }
    lua_pop(L, 1);

    lua_getfield(L, t, "props");
    take_props(L, e);

    return 0;
}


int
mkt_plugins_event(mkt_plugins_t *h, mkt_event_t *ev,
    const mkt_plugin_mem_t *mem)
{
    size_t   i;
    event_t  e;

    if (!(h->hooks & MKT_PLUGIN_HOOK(EVENT))) {
        return 1;
    }

    for (i = 0; i < h->n; i++) {
        e.ev = ev;
        e.mem = mem;
        e.drop = 0;
        e.ignored = 0;

        /* a failed call changes nothing */
        if (mkt_plugin_call(h, i, MKT_PLUGIN_HOOK_EVENT, event_body, &e)
            != 0)
        {
            continue;
        }

        while (e.ignored--) {
            mkt_plugin_count(h, i, MKT_PLUGIN_C_ignored);
        }

        if (e.drop) {
            mkt_plugin_count(h, i, MKT_PLUGIN_C_dropped);
            return 0;
        }

        *ev = e.out;
    }

    return 1;
}
