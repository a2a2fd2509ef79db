/* The plugins' sandbox: the environment each plugin runs in (safe
 * libraries, forbidden names that fail saying so, pcall and friends that
 * cannot catch an abort, text-only load), the VM's base libraries, and
 * the read-only ctx view of a request. */
#include <string.h>

#include <lualib.h>

#include "plugin_int.h"


/* --- the sandbox -------------------------------------------------------- */

/* pcall, xpcall and coroutine.resume: the original (upvalue 2), but an
 * abort (budget, memory) is not theirs to catch. */
static int
guarded(lua_State *L)
{
    int             n;
    mkt_plugins_t  *h = mkt_plugin_host(L);

    n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);

    if (h->aborting) {
        return luaL_error(L, "%s", mkt_plugin_budget_msg);
    }

    if (h->mem_failed) {
        return luaL_error(L, "%s", mkt_plugin_memory_msg);
    }

    return lua_gettop(L);
}


/* The message handler of a guarded xpcall: the plugin's (upvalue 2),
 * unless the call is being aborted, when it would run past the budget. */
static int
xpcall_handler(lua_State *L)
{
    mkt_plugins_t  *h = mkt_plugin_host(L);

    if (h->aborting || h->mem_failed) {
        return 1;
    }

    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}


/* xpcall(f, handler, ...): handler guarded, then as guarded() */
static int
guarded_xpcall(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushlightuserdata(L, mkt_plugin_host(L));
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, xpcall_handler, 2);
    lua_replace(L, 2);

    return guarded(L);
}


/* load and loadstring: source text only, in the plugin's environment
 * (upvalue 2) */
static int
text_load(lua_State *L)
{
    size_t       len;
    const char  *s, *name;

    s = luaL_checklstring(L, 1, &len);
    name = luaL_optstring(L, 2, "=(load)");

    if (len && s[0] == LUA_SIGNATURE[0]) {
        lua_pushnil(L);
        lua_pushliteral(L, "bytecode is not allowed in plugins");
        return 2;
    }

    if (luaL_loadbuffer(L, s, len, name) != 0) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }

    lua_pushvalue(L, lua_upvalueindex(2));
    lua_setfenv(L, -2);
    return 1;
}


/* collectgarbage("count") only: the host collects */
static int
gc_count(lua_State *L)
{
    const char  *opt;

    opt = luaL_optstring(L, 1, "count");
    if (strcmp(opt, "count") != 0) {
        return luaL_error(L, "collectgarbage(\"%s\") is not allowed in "
                          "plugins", opt);
    }

    lua_pushnumber(L, lua_gc(L, LUA_GCCOUNT, 0)
                      + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
}


/* a forbidden name: fails when called, saying why */
static int
forbidden(lua_State *L)
{
    return luaL_error(L, "%s is not allowed in plugins",
                      lua_tostring(L, lua_upvalueindex(2)));
}


static void
push_closure(lua_State *L, mkt_plugins_t *h, lua_CFunction f, int up)
{
    /* the extra upvalue is at the top */
    lua_pushlightuserdata(L, h);
    if (up) {
        lua_insert(L, -2);
    }
    lua_pushcclosure(L, f, up ? 2 : 1);
}


static void
set_forbidden(lua_State *L, mkt_plugins_t *h, int t, const char *field,
    const char *what)
{
    lua_pushstring(L, what);
    push_closure(L, h, forbidden, 1);
    lua_setfield(L, t, field);
}


/* A library plugins may not use: an empty table whose every field fails
 * saying so. */
static void
set_forbidden_lib(lua_State *L, mkt_plugins_t *h, int t, const char *name)
{
    lua_newtable(L);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, name);
    push_closure(L, h, forbidden, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setfield(L, t, name);
}


/* A copy of global table lib (at the top: the copy) without the names in
 * drop. */
static void
copy_lib(lua_State *L, const char *lib, const char *const *drop)
{
    int  t;

    lua_newtable(L);
    t = lua_gettop(L);
    lua_getglobal(L, lib);

    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, t);
    }

    lua_pop(L, 1);

    for (; drop && *drop; drop++) {
        lua_pushnil(L);
        lua_setfield(L, t, *drop);
    }
}


static void
wrap_guarded(lua_State *L, mkt_plugins_t *h, int t, const char *name,
    lua_CFunction f)
{
    lua_getfield(L, t, name);
    push_closure(L, h, f, 1);
    lua_setfield(L, t, name);
}


/* Pushes a new plugin environment. */
void
mkt_plugin_new_env(lua_State *L, mkt_plugins_t *h)
{
    int                        env, t;
    const char *const         *s;
    static const char *const   base[] = {
        "assert", "error", "ipairs", "next", "pairs", "rawequal", "rawget",
        "rawset", "select", "tonumber", "tostring", "type", "unpack",
        "setmetatable", "getmetatable", "pcall", "xpcall", "_VERSION", NULL
    };
    static const char *const   no_string[] = { "dump", NULL };
    static const char *const   os_keep[] = {
        "time", "clock", "date", "difftime", NULL
    };
    static const char *const   denied[] = {
        "require", "dofile", "loadfile", "module", "getfenv", "setfenv",
        "newproxy", "gcinfo", NULL
    };
    static const char *const   denied_libs[] = {
        "io", "debug", "jit", "ffi", "package", NULL
    };

    lua_createtable(L, 0, 48);
    env = lua_gettop(L);

    for (s = base; *s; s++) {
        lua_getglobal(L, *s);
        lua_setfield(L, env, *s);
    }

    wrap_guarded(L, h, env, "pcall", guarded);
    wrap_guarded(L, h, env, "xpcall", guarded_xpcall);

    /* denied names fail when used, with a message saying so */
    for (s = denied; *s; s++) {
        set_forbidden(L, h, env, *s, *s);
    }
    for (s = denied_libs; *s; s++) {
        set_forbidden_lib(L, h, env, *s);
    }

    lua_pushvalue(L, env);
    push_closure(L, h, text_load, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, env, "load");
    lua_setfield(L, env, "loadstring");

    push_closure(L, h, gc_count, 0);
    lua_setfield(L, env, "collectgarbage");

    copy_lib(L, "string", no_string);
    set_forbidden(L, h, lua_gettop(L), "dump", "string.dump");
    lua_setfield(L, env, "string");
    copy_lib(L, "table", NULL);
    lua_setfield(L, env, "table");
    copy_lib(L, "math", NULL);
    lua_setfield(L, env, "math");
    copy_lib(L, "bit", NULL);
    lua_setfield(L, env, "bit");
    copy_lib(L, "coroutine", NULL);
    wrap_guarded(L, h, lua_gettop(L), "resume", guarded);
    lua_setfield(L, env, "coroutine");

    lua_newtable(L);
    t = lua_gettop(L);
    lua_getglobal(L, "os");
    for (s = os_keep; *s; s++) {
        lua_getfield(L, -1, *s);
        lua_setfield(L, t, *s);
    }
    lua_pop(L, 1);
    set_forbidden(L, h, t, "execute", "os.execute");
    set_forbidden(L, h, t, "exit", "os.exit");
    set_forbidden(L, h, t, "getenv", "os.getenv");
    set_forbidden(L, h, t, "remove", "os.remove");
    set_forbidden(L, h, t, "rename", "os.rename");
    set_forbidden(L, h, t, "tmpname", "os.tmpname");
    lua_setfield(L, env, "os");

    lua_newtable(L);
    mkt_plugin_open_lib(L, h);
    lua_getfield(L, -1, "log");
    lua_setfield(L, env, "print");
    lua_setfield(L, env, "mkt");

    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
}


/*
 * Lua patterns are matched by backtracking in C, where the instruction
 * budget is not checked: ('.-.-.-b') over 256 bytes takes over a second.
 * string.find, match, gmatch and gsub refuse a pattern whose worst case,
 * n^q steps for q quantifiers (* + - ?) over n bytes (n^(q+1) when not
 * anchored with "^": every start is tried), exceeds
 * MKT_PLUGIN_PATTERN_STEPS; a plain find (its 4th argument true) is never
 * refused.  Upvalue 1: the library function; 2: the index of its "plain"
 * argument, 0 for none.
 */
#define MKT_PLUGIN_PATTERN_STEPS  1e6

static int
pattern_guard(lua_State *L)
{
    int          q, plain;
    size_t       n, len, i;
    double       steps;
    const char  *p;

    plain = (int) lua_tointeger(L, lua_upvalueindex(2));

    if (lua_type(L, 1) == LUA_TSTRING && lua_type(L, 2) == LUA_TSTRING
        && !(plain && lua_toboolean(L, plain)))
    {
        (void) lua_tolstring(L, 1, &n);
        p = lua_tolstring(L, 2, &len);

        q = 0;

        for (i = 0; i < len; i++) {
            if (p[i] == '%') {
                i++;                        /* an escaped character */

            } else if (p[i] == '[') {
                /* a set: its characters are literal ("[%]]" too) */
                for (i++; i < len && p[i] != ']'; i++) {
                    if (p[i] == '%') {
                        i++;
                    }
                }

            } else if (p[i] == '*' || p[i] == '+' || p[i] == '-'
                       || p[i] == '?')
            {
                q++;
            }
        }

        steps = 1;

        for (i = 0; i < (size_t) q + (len == 0 || p[0] != '^'); i++) {
            steps *= (double) n + 1;
        }

        if (steps > MKT_PLUGIN_PATTERN_STEPS) {
            return luaL_error(L, "pattern too costly: %d quantifiers over "
                              "%d bytes (a plugin's patterns must stay "
                              "under %d steps)", q, (int) n,
                              (int) MKT_PLUGIN_PATTERN_STEPS);
        }
    }

    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);

    return lua_gettop(L);
}


void
mkt_plugin_open_base(lua_State *L)
{
    size_t                  i;
    static const luaL_Reg   libs[] = {
        { "", luaopen_base },
        { LUA_STRLIBNAME, luaopen_string },
        { LUA_TABLIBNAME, luaopen_table },
        { LUA_MATHLIBNAME, luaopen_math },
        { LUA_BITLIBNAME, luaopen_bit },
        { LUA_OSLIBNAME, luaopen_os }
    };
    static const struct {
        const char             *name;
        int                     plain;
    } patterns[] = {
        { "find", 4 }, { "match", 0 }, { "gmatch", 0 }, { "gsub", 0 }
    };

    for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
        lua_pushcfunction(L, libs[i].func);
        lua_pushstring(L, libs[i].name);
        lua_call(L, 1, 0);
    }

    /* pattern functions with their cost guard, for the library tables
     * copied into environments and for the strings' methods alike */
    lua_getglobal(L, LUA_STRLIBNAME);
    for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        lua_getfield(L, -1, patterns[i].name);
        lua_pushinteger(L, patterns[i].plain);
        lua_pushcclosure(L, pattern_guard, 2);
        lua_setfield(L, -2, patterns[i].name);
    }
    lua_pop(L, 1);

    /* the strings' metatable is everyone's: hidden, and without dump */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_getfield(L, -1, "__index");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 3);
}


/* --- the ctx userdata --------------------------------------------------- */

/* ctx.query.NAME, ctx.headers.NAME (upvalue 2: "query" or "headers") */
static int
ctx_sub_index(lua_State *L)
{
    size_t          len, sub_len;
    mkt_val_t       v;
    const char     *name, *sub;
    mkt_plugins_t  *h = mkt_plugin_host(L);

    sub = lua_tolstring(L, 2, &sub_len);
    name = lua_tolstring(L, lua_upvalueindex(2), &len);

    if (h->req == NULL || sub == NULL || lua_type(L, 2) != LUA_TSTRING
        || h->req->fact(h->req->data, name, len, sub, sub_len, &v) != 0)
    {
        lua_pushnil(L);
        return 1;
    }

    mkt_plugin_push_val(L, &v, 0);
    return 1;
}


static int
ctx_index(lua_State *L)
{
    size_t          len;
    mkt_val_t       v;
    const char     *name;
    mkt_plugins_t  *h = mkt_plugin_host(L);

    name = lua_tolstring(L, 2, &len);

    if (h->req == NULL || name == NULL || lua_type(L, 2) != LUA_TSTRING) {
        lua_pushnil(L);
        return 1;
    }

    if (strcmp(name, "query") == 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->query_ref);
        return 1;
    }

    if (strcmp(name, "headers") == 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->headers_ref);
        return 1;
    }

    if (h->req->fact(h->req->data, name, len, NULL, 0, &v) != 0) {
        lua_pushnil(L);
        return 1;
    }

    mkt_plugin_push_val(L, &v, 0);
    return 1;
}


static int
ctx_newindex(lua_State *L)
{
    return luaL_error(L, "ctx is read-only");
}


/* A read-only userdata whose fields come from index (sub: its upvalue). */
static int
new_view(lua_State *L, mkt_plugins_t *h, lua_CFunction index,
    const char *sub)
{
    lua_newuserdata(L, 1);
    lua_createtable(L, 0, 3);

    if (sub) {
        lua_pushstring(L, sub);
    }
    push_closure(L, h, index, sub != NULL);
    lua_setfield(L, -2, "__index");
    push_closure(L, h, ctx_newindex, 0);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "mkt ctx");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);

    return luaL_ref(L, LUA_REGISTRYINDEX);
}


void
mkt_plugin_new_views(lua_State *L, mkt_plugins_t *h)
{
    h->ctx_ref = new_view(L, h, ctx_index, NULL);
    h->query_ref = new_view(L, h, ctx_sub_index, "query");
    h->headers_ref = new_view(L, h, ctx_sub_index, "headers");
}
