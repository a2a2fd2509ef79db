/* The `mkt` library plugins see (hashing, bounded JSON, time, logging)
 * and the conversions between Lua values, the engine's values and JSON. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json_read.h"
#include "json_write.h"
#include "plugin_int.h"

const char  mkt_plugin_null_tag = 0;


char *
mkt_plugin_copy(const mkt_plugin_mem_t *mem, const char *s, size_t len)
{
    char  *p;

    p = mem->alloc(mem->data, len ? len : 1);
    if (p != NULL && len) {
        memcpy(p, s, len);
    }
    return p;
}


/* --- engine values and JSON to Lua -------------------------------------- */

void
mkt_plugin_push_val(lua_State *L, const mkt_val_t *v, int depth)
{
    size_t  i;

    if (depth >= MKT_VAL_MAX_DEPTH || !lua_checkstack(L, 4)) {
        lua_pushnil(L);
        return;
    }

    switch (v->type) {

    case MKT_VAL_NULL:
        lua_pushlightuserdata(L, MKT_PLUGIN_NULL);
        break;

    case MKT_VAL_BOOL:
        lua_pushboolean(L, v->u.boolean);
        break;

    case MKT_VAL_NUMBER:
        lua_pushnumber(L, v->u.number);
        break;

    case MKT_VAL_STRING:
        lua_pushlstring(L, v->u.str, v->len);
        break;

    case MKT_VAL_ARRAY:
        lua_createtable(L, (int) v->len, 0);
        for (i = 0; i < v->len; i++) {
            mkt_plugin_push_val(L, &v->u.items[i], depth + 1);
            lua_rawseti(L, -2, (int) i + 1);
        }
        break;

    case MKT_VAL_OBJECT:
        lua_createtable(L, 0, (int) v->len);
        for (i = 0; i < v->len; i++) {
            lua_pushlstring(L, v->u.pairs[i].key, v->u.pairs[i].key_len);
            mkt_plugin_push_val(L, &v->u.pairs[i].val, depth + 1);
            lua_rawset(L, -3);
        }
        break;

    default:
        lua_pushnil(L);
    }
}


void
mkt_plugin_push_json(lua_State *L, json_t *j, int depth)
{
    size_t       i;
    json_t      *v;
    const char  *key;

    if (depth >= MKT_JR_DEPTH_MAX || !lua_checkstack(L, 4)) {
        lua_pushnil(L);
        return;
    }

    switch (json_typeof(j)) {

    case JSON_OBJECT:
        lua_createtable(L, 0, (int) json_object_size(j));
        json_object_foreach(j, key, v) {
            lua_pushstring(L, key);
            mkt_plugin_push_json(L, v, depth + 1);
            lua_rawset(L, -3);
        }
        break;

    case JSON_ARRAY:
        lua_createtable(L, (int) json_array_size(j), 0);
        json_array_foreach(j, i, v) {
            mkt_plugin_push_json(L, v, depth + 1);
            lua_rawseti(L, -2, (int) i + 1);
        }
        break;

    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        break;

    case JSON_INTEGER:
    case JSON_REAL:
        lua_pushnumber(L, json_number_value(j));
        break;

    case JSON_TRUE:
    case JSON_FALSE:
        lua_pushboolean(L, json_is_true(j));
        break;

    default:
        lua_pushlightuserdata(L, MKT_PLUGIN_NULL);
    }
}


/* --- Lua to engine values ----------------------------------------------- */

/* n when the table at idx is a sequence 1..n of n > 0 items, 0 when it
 * is not, -1 when it has more than max entries. */
static int
table_kind(lua_State *L, int idx, size_t max, size_t *count)
{
    size_t  n, len;

    len = lua_objlen(L, idx);
    n = 0;

    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (++n > max) {
            lua_pop(L, 1);
            return -1;
        }
    }

    *count = n;
    return len > 0 && n == len;
}


int
mkt_plugin_to_val(lua_State *L, int idx, const mkt_plugin_mem_t *mem,
    int depth, mkt_val_t *out, unsigned *ignored)
{
    int              kind;
    char            *s;
    size_t           len, n, i;
    double           d;
    mkt_val_t       *items;
    const char      *str;
    mkt_val_pair_t  *pairs;

    if (idx < 0) {
        idx = lua_gettop(L) + idx + 1;
    }

    switch (lua_type(L, idx)) {

    case LUA_TSTRING:
        str = lua_tolstring(L, idx, &len);
        len = len < MKT_PLUGIN_STRING_MAX ? len : MKT_PLUGIN_STRING_MAX;
        s = mkt_plugin_copy(mem, str, len);
        if (s == NULL) {
            return -1;
        }
        *out = mkt_val_string(s, len);
        return 0;

    case LUA_TNUMBER:
        d = lua_tonumber(L, idx);
        if (!isfinite(d)) {
            break;
        }
        *out = mkt_val_number(d);
        return 0;

    case LUA_TBOOLEAN:
        *out = mkt_val_bool(lua_toboolean(L, idx));
        return 0;

    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) != MKT_PLUGIN_NULL) {
            break;
        }
        *out = mkt_val_null();
        return 0;

    case LUA_TTABLE:
        if (depth >= MKT_PLUGIN_DEPTH_MAX || !lua_checkstack(L, 6)) {
            break;
        }

        kind = table_kind(L, idx, MKT_PLUGIN_ITEMS_MAX, &n);
        if (kind < 0) {
            break;
        }

        if (kind == 1) {
            items = mem->alloc(mem->data, n * sizeof(mkt_val_t));
            if (items == NULL) {
                return -1;
            }
            len = 0;
            for (i = 0; i < n; i++) {
                lua_rawgeti(L, idx, (int) i + 1);
                if (mkt_plugin_to_val(L, -1, mem, depth + 1, &items[len],
                                      ignored)
                    == 0)
                {
                    len++;
                }
                lua_pop(L, 1);
            }
            *out = mkt_val_array(items, len);
            return 0;
        }

        pairs = mem->alloc(mem->data, (n ? n : 1) * sizeof(mkt_val_pair_t));
        if (pairs == NULL) {
            return -1;
        }

        len = 0;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                (*ignored)++;
                lua_pop(L, 1);
                continue;
            }
            str = lua_tolstring(L, -2, &i);
            s = mkt_plugin_copy(mem, str, i);
            if (s != NULL
                && mkt_plugin_to_val(L, -1, mem, depth + 1, &pairs[len].val,
                                     ignored)
                   == 0)
            {
                pairs[len].key = s;
                pairs[len].key_len = i;
                len++;
            }
            lua_pop(L, 1);
        }

        *out = mkt_val_object(pairs, len);
        return 0;
    }

    (*ignored)++;
    return -1;
}


/* --- mkt.json_encode / mkt.json_decode ---------------------------------- */

static int
encode(lua_State *L, int idx, mkt_jw_t *w, int depth, const char **err)
{
    int          kind;
    size_t       len, n, i;
    double       d;
    const char  *s, *sep;

    if (depth >= MKT_JR_DEPTH_MAX || !lua_checkstack(L, 4)) {
        *err = "nested too deep (or a cycle)";
        return -1;
    }

    switch (lua_type(L, idx)) {

    case LUA_TNIL:
        mkt_jw_raw(w, "null", 4);
        return 0;

    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx)) {
            mkt_jw_raw(w, "true", 4);
        } else {
            mkt_jw_raw(w, "false", 5);
        }
        return 0;

    case LUA_TNUMBER:
        d = lua_tonumber(L, idx);
        if (d == floor(d) && fabs(d) < 9007199254740992.0) {
            mkt_jw_int(w, (int64_t) d);
        } else {
            mkt_jw_number(w, d);
        }
        return 0;

    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &len);
        mkt_jw_string(w, s, len, MKT_PLUGIN_JSON_MAX);
        return 0;

    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == MKT_PLUGIN_NULL) {
            mkt_jw_raw(w, "null", 4);
            return 0;
        }
        break;

    case LUA_TTABLE:
        kind = table_kind(L, idx, MKT_PLUGIN_JSON_MAX, &n);
        if (kind < 0) {
            *err = "too many items";
            return -1;
        }

        if (kind == 1) {
            mkt_jw_raw(w, "[", 1);
            for (i = 1; i <= n; i++) {
                if (i > 1) {
                    mkt_jw_raw(w, ",", 1);
                }
                lua_rawgeti(L, idx, (int) i);
                if (encode(L, lua_gettop(L), w, depth + 1, err) != 0) {
                    return -1;
                }
                lua_pop(L, 1);
                if (w->full) {
                    return 0;
                }
            }
            mkt_jw_raw(w, "]", 1);
            return 0;
        }

        sep = "{";
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                *err = "an object key is not a string";
                return -1;
            }
            mkt_jw_raw(w, sep, 1);
            s = lua_tolstring(L, -2, &len);
            mkt_jw_string(w, s, len, MKT_PLUGIN_JSON_MAX);
            mkt_jw_raw(w, ":", 1);
            if (encode(L, lua_gettop(L), w, depth + 1, err) != 0) {
                return -1;
            }
            lua_pop(L, 1);
            sep = ",";
            if (w->full) {
                lua_pop(L, 1);
                return 0;
            }
        }
        if (*sep == '{') {
            mkt_jw_raw(w, "{", 1);
        }
        mkt_jw_raw(w, "}", 1);
        return 0;
    }

    *err = "a value JSON cannot hold";
    return -1;
}


static int
lib_json_encode(lua_State *L)
{
    mkt_jw_t        w;
    const char     *err;
    mkt_plugins_t  *h = mkt_plugin_host(L);

    lua_settop(L, 1);
    err = NULL;
    mkt_jw_init(&w, h->scratch, MKT_PLUGIN_JSON_MAX);

    if (encode(L, 1, &w, 0, &err) != 0 || w.full) {
        lua_pushnil(L);
        lua_pushstring(L, err ? err : "longer than the JSON bound");
        return 2;
    }

    lua_pushlstring(L, w.buf, w.len);
    return 1;
}


static int
decode(lua_State *L, mkt_jr_t *r, char *scratch)
{
    int          c;
    size_t       len, i;
    const char  *s;
    char        *end;

    if (!lua_checkstack(L, 4)) {
        return -1;
    }

    c = mkt_jr_peek(r);

    switch (c) {

    case '{':
        r->pos++;
        lua_newtable(L);
        while (!mkt_jr_accept(r, '}')) {
            mkt_jr_accept(r, ',');
            if (mkt_jr_string(r, scratch, MKT_PLUGIN_JSON_MAX, &len) != 0) {
                return -1;
            }
            lua_pushlstring(L, scratch, len);
            mkt_jr_accept(r, ':');
            if (decode(L, r, scratch) != 0) {
                return -1;
            }
            lua_rawset(L, -3);
        }
        return 0;

    case '[':
        r->pos++;
        lua_newtable(L);
        for (i = 1; !mkt_jr_accept(r, ']'); i++) {
            mkt_jr_accept(r, ',');
            if (decode(L, r, scratch) != 0) {
                return -1;
            }
            lua_rawseti(L, -2, (int) i);
        }
        return 0;

    case '"':
        if (mkt_jr_string(r, scratch, MKT_PLUGIN_JSON_MAX, &len) != 0) {
            return -1;
        }
        lua_pushlstring(L, scratch, len);
        return 0;

    case 't':
        r->pos += 4;
        lua_pushboolean(L, 1);
        return 0;

    case 'f':
        r->pos += 5;
        lua_pushboolean(L, 0);
        return 0;

    case 'n':
        r->pos += 4;
        lua_pushlightuserdata(L, MKT_PLUGIN_NULL);
        return 0;
    }

    if (mkt_jr_number(r, &s, &len) != 0) {
        return -1;
    }
    memcpy(scratch, s, len);
    scratch[len] = '\0';
    lua_pushnumber(L, strtod(scratch, &end));
    return 0;
}


/* Strict (json_read.h), at most MKT_PLUGIN_JSON_MAX bytes: the input was
 * validated whole before anything is built. */
static int
lib_json_decode(lua_State *L)
{
    size_t          len;
    mkt_jr_t        r;
    const char     *s;
    mkt_plugins_t  *h = mkt_plugin_host(L);

    s = luaL_checklstring(L, 1, &len);

    if (len >= MKT_PLUGIN_JSON_MAX) {
        lua_pushnil(L);
        lua_pushliteral(L, "longer than the JSON bound");
        return 2;
    }

    mkt_jr_init(&r, s, len);
    if (mkt_jr_validate(&r) != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s at byte %d", r.err, (int) r.err_pos);
        return 2;
    }

    mkt_jr_init(&r, s, len);
    if (decode(L, &r, h->scratch) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "cannot decode");
        return 2;
    }

    return 1;
}


/* --- the rest of mkt ---------------------------------------------------- */

static int
lib_fnv32a(lua_State *L)
{
    size_t       len;
    const char  *s;

    s = luaL_checklstring(L, 1, &len);
    lua_pushnumber(L, mkt_fnv32a(MKT_FNV32A_INIT, s, len));
    return 1;
}


/* mkt.hash(seed, value [, version]): GrowthBook's hash, as experiments
 * bucket; nil for an unknown version */
static int
lib_hash(lua_State *L)
{
    size_t       seed_len, len;
    double       d;
    const char  *seed, *value;

    seed = luaL_checklstring(L, 1, &seed_len);
    value = luaL_checklstring(L, 2, &len);

    d = mkt_hash(seed, seed_len, value, len, (int) luaL_optinteger(L, 3, 2));
    if (d < 0) {
        lua_pushnil(L);
    } else {
        lua_pushnumber(L, d);
    }
    return 1;
}


static int
lib_time(lua_State *L)
{
    lua_pushnumber(L, (double) mkt_plugin_now(mkt_plugin_host(L)) / 1000.0);
    return 1;
}


/* mkt.log(...) (upvalue 2: the level): the arguments as text, spaces
 * between, no metamethods run */
static int
lib_log(lua_State *L)
{
    int             i, n;
    char            line[MKT_PLUGIN_LOG_MAX];
    size_t          len, used;
    const char     *s;
    mkt_plugins_t  *h = mkt_plugin_host(L);

    n = lua_gettop(L);
    used = 0;
    line[0] = '\0';

    for (i = 1; i <= n && used + 1 < sizeof(line); i++) {
        if (lua_type(L, i) == LUA_TSTRING || lua_type(L, i) == LUA_TNUMBER) {
            lua_pushvalue(L, i);
            s = lua_tolstring(L, -1, &len);
            lua_pop(L, 1);
        } else if (lua_type(L, i) == LUA_TBOOLEAN) {
            s = lua_toboolean(L, i) ? "true" : "false";
            len = strlen(s);
        } else {
            s = luaL_typename(L, i);
            len = strlen(s);
        }

        if (i > 1) {
            line[used++] = ' ';
        }
        len = len < sizeof(line) - 1 - used ? len : sizeof(line) - 1 - used;
        memcpy(line + used, s, len);
        used += len;
        line[used] = '\0';
    }

    mkt_plugin_log(h, h->current,
                   (mkt_plugin_log_e) lua_tointeger(L, lua_upvalueindex(2)),
                   "%s", line);
    return 0;
}


void
mkt_plugin_open_lib(lua_State *L, mkt_plugins_t *h)
{
    size_t                  i;
    static const luaL_Reg   fns[] = {
        { "fnv32a", lib_fnv32a },
        { "hash", lib_hash },
        { "json_encode", lib_json_encode },
        { "json_decode", lib_json_decode },
        { "time", lib_time }
    };

    for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        lua_pushlightuserdata(L, h);
        lua_pushcclosure(L, fns[i].func, 1);
        lua_setfield(L, -2, fns[i].name);
    }

    lua_pushlightuserdata(L, h);
    lua_pushinteger(L, MKT_PLUGIN_LOG_INFO);
    lua_pushcclosure(L, lib_log, 2);
    lua_setfield(L, -2, "log");

    lua_pushlightuserdata(L, h);
    lua_pushinteger(L, MKT_PLUGIN_LOG_WARN);
    lua_pushcclosure(L, lib_log, 2);
    lua_setfield(L, -2, "warn");

    lua_pushlightuserdata(L, MKT_PLUGIN_NULL);
    lua_setfield(L, -2, "null");
}
