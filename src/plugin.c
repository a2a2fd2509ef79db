/* The plugin host: a LuaJIT VM with a memory ceiling and the JIT off (a
 * count hook never fires inside compiled code, so the budget would not
 * hold), each plugin in its own sandbox, hook calls protected, budgeted,
 * counted and backed off. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lualib.h>
#include <luajit.h>

#include "plugin_int.h"
#include "text.h"

#define MKT_PLUGIN_MEMORY_MIN  (1024 * 1024)

#define MKT_PLUGIN_COUNTER_NAME(name, help)  #name,
#define MKT_PLUGIN_COUNTER_HELP(name, help)  help,

const char *const  mkt_plugin_counter_names[MKT_PLUGIN_NCOUNTERS] = {
    MKT_PLUGIN_COUNTERS(MKT_PLUGIN_COUNTER_NAME)
};

const char *const  mkt_plugin_counter_help[MKT_PLUGIN_NCOUNTERS] = {
    MKT_PLUGIN_COUNTERS(MKT_PLUGIN_COUNTER_HELP)
};

static const char *const  hook_names[MKT_PLUGIN_HOOKS] = {
    "init", "attributes", "choose", "event"
};

const char  mkt_plugin_budget_msg[] = "instruction budget exceeded";
const char  mkt_plugin_memory_msg[] =
    "not enough memory (plugin memory ceiling)";


/* --- memory ------------------------------------------------------------- */

static void *
plugin_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    void           *p;
    mkt_plugins_t  *h = ud;

    if (ptr == NULL) {
        osize = 0;
    }

    if (nsize == 0) {
        free(ptr);
        h->used -= osize;
        return NULL;
    }

    /* only growth is refused: Lua expects a shrink to succeed */
    if (nsize > osize && h->limit && h->used - osize + nsize > h->limit) {
        h->mem_failed = 1;
        return NULL;
    }

    p = realloc(ptr, nsize);
    if (p == NULL) {
        if (nsize > osize) {
            h->mem_failed = 1;
        }
        return nsize <= osize ? ptr : NULL;
    }

    h->used = h->used - osize + nsize;
    return p;
}


size_t
mkt_plugins_memory(const mkt_plugins_t *h)
{
    if (h->own_alloc) {
        return h->used;
    }

    return (size_t) lua_gc(h->L, LUA_GCCOUNT, 0) * 1024
           + (size_t) lua_gc(h->L, LUA_GCCOUNTB, 0);
}


/* --- time, counters, logs ----------------------------------------------- */

int64_t
mkt_plugin_now(mkt_plugins_t *h)
{
    struct timespec  ts;

    if (h->opts.now_ms) {
        return h->opts.now_ms(h->opts.data);
    }

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


void
mkt_plugin_count(mkt_plugins_t *h, size_t i, mkt_plugin_counter_e c)
{
    h->p[i].stats[c]++;

    if (h->opts.count) {
        h->opts.count(h->opts.data, i, c);
    }
}


static void
emit(mkt_plugins_t *h, mkt_plugin_log_e level, const char *line)
{
    char    clean[MKT_PLUGIN_LOG_MAX + 256];
    size_t  n;

    if (h->opts.log == NULL) {
        return;
    }

    /* plugins log what requests carry: no control bytes in the log */
    n = mkt_text_clean(clean, sizeof(clean) - 1, line, strlen(line));
    clean[n] = '\0';
    h->opts.log(h->opts.data, level, clean);
}


void
mkt_plugin_log(mkt_plugins_t *h, int i, mkt_plugin_log_e level,
    const char *fmt, ...)
{
    char           line[MKT_PLUGIN_LOG_MAX + 256];
    int64_t        second;
    va_list        ap;
    size_t         n;
    mkt_plugin_t  *p;

    if (h->opts.log == NULL && i < 0) {
        return;
    }

    n = 0;
    line[0] = '\0';

    if (i >= 0) {
        p = &h->p[i];
        second = mkt_plugin_now(h) / 1000;

        if (second != p->log_second) {
            if (p->log_dropped) {
                snprintf(line, sizeof(line), "plugin %s: %u log lines "
                         "suppressed", p->name, p->log_dropped);
                emit(h, MKT_PLUGIN_LOG_WARN, line);
            }
            p->log_second = second;
            p->log_lines = 0;
            p->log_dropped = 0;
        }

        if (p->log_lines >= h->opts.log_rate) {
            p->log_dropped++;
            mkt_plugin_count(h, (size_t) i, MKT_PLUGIN_C_log_suppressed);
            return;
        }

        p->log_lines++;
        n = (size_t) snprintf(line, sizeof(line), "plugin %s: ", p->name);
    }

    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);

    emit(h, level, line);
}


/* --- the host ----------------------------------------------------------- */

static int call_body(lua_State *L);


mkt_plugins_t *
mkt_plugins_new(const mkt_plugin_opts_t *opts)
{
    mkt_plugins_t  *h;

    h = calloc(1, sizeof(mkt_plugins_t));
    if (h == NULL) {
        return NULL;
    }

    if (opts) {
        h->opts = *opts;
    }

    if (h->opts.memory == 0) {
        h->opts.memory = MKT_PLUGIN_MEMORY;
    }
    if (h->opts.memory < MKT_PLUGIN_MEMORY_MIN) {
        h->opts.memory = MKT_PLUGIN_MEMORY_MIN;
    }
    if (h->opts.budget == 0) {
        h->opts.budget = MKT_PLUGIN_BUDGET;
    }
    if (h->opts.fail_max == 0) {
        h->opts.fail_max = MKT_PLUGIN_FAIL_MAX;
    }
    if (h->opts.backoff_ms <= 0) {
        h->opts.backoff_ms = MKT_PLUGIN_BACKOFF_MS;
    }
    if (h->opts.log_rate == 0) {
        h->opts.log_rate = MKT_PLUGIN_LOG_RATE;
    }

    h->current = -1;
    h->scratch = malloc(MKT_PLUGIN_JSON_MAX);
    h->pairs = malloc(MKT_PLUGINS_MAX * MKT_PLUGIN_ATTRS_MAX
                      * sizeof(mkt_val_pair_t));

    /*
     * Our allocator enforces the ceiling.  LuaJIT builds without GC64 on
     * 64-bit refuse one (lua_newstate returns NULL): there the ceiling is
     * checked after each call with the GC's count instead.
     */
    h->L = lua_newstate(plugin_alloc, h);
    h->own_alloc = h->L != NULL;
    if (h->L == NULL) {
        h->L = luaL_newstate();
    }

    if (h->L == NULL || h->scratch == NULL || h->pairs == NULL) {
        mkt_plugins_free(h);
        return NULL;
    }

    luaJIT_setmode(h->L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    mkt_plugin_open_base(h->L);

    /* for the budget hook */
    lua_pushlightuserdata(h->L, (void *) mkt_plugin_budget_msg);
    lua_pushlightuserdata(h->L, h);
    lua_rawset(h->L, LUA_REGISTRYINDEX);

    lua_pushcfunction(h->L, call_body);
    h->body_ref = luaL_ref(h->L, LUA_REGISTRYINDEX);

    mkt_plugin_new_views(h->L, h);

    return h;
}


void
mkt_plugins_free(mkt_plugins_t *h)
{
    if (h == NULL) {
        return;
    }

    if (h->L) {
        h->limit = 0;
        lua_close(h->L);
    }

    free(h->scratch);
    free(h->pairs);
    free(h);
}


size_t
mkt_plugins_count(const mkt_plugins_t *h)
{
    return h->n;
}


const char *
mkt_plugins_name(const mkt_plugins_t *h, size_t i)
{
    return h->p[i].name;
}


const uint64_t *
mkt_plugins_stats(const mkt_plugins_t *h, size_t i)
{
    return h->p[i].stats;
}


unsigned
mkt_plugins_hooks(const mkt_plugins_t *h)
{
    return h->hooks;
}


/* --- protected calls ---------------------------------------------------- */

typedef struct {
    mkt_plugins_t       *h;
    mkt_plugin_body_pt   body;
    void                *arg;
    int                  fn;            /* registry ref, or LUA_NOREF */
} call_t;


static void
budget_hook(lua_State *L, lua_Debug *ar)
{
    mkt_plugins_t  *h;

    lua_pushlightuserdata(L, (void *) mkt_plugin_budget_msg);
    lua_rawget(L, LUA_REGISTRYINDEX);
    h = lua_touserdata(L, -1);
    lua_pop(L, 1);

    /* fires again every 1000 instructions until the call is over */
    h->aborting = 1;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1000);
    luaL_error(L, "%s", mkt_plugin_budget_msg);
}


static int
call_body(lua_State *L)
{
    call_t  *c = lua_touserdata(L, 1);

    lua_settop(L, 0);
    if (c->fn != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, c->fn);
    }

    return c->body(L, c->h, c->arg);
}


/*
 * Runs body protected, with the memory ceiling and the instruction budget
 * on.  0; or the failure's counter with its message in err.
 */
static int
protected_call(mkt_plugins_t *h, int fn, mkt_plugin_body_pt body,
    void *arg, char *err, size_t cap, mkt_plugin_counter_e *what)
{
    int          rc, top;
    size_t       len;
    call_t       c;
    lua_State   *L = h->L;
    const char  *msg;

    c.h = h;
    c.body = body;
    c.arg = arg;
    c.fn = fn;

    top = lua_gettop(L);
    h->aborting = 0;
    h->mem_failed = 0;
    h->limit = h->own_alloc ? h->opts.memory : 0;

    /* lua_cpcall() would make a closure per call: call_body is made once */
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->body_ref);
    lua_pushlightuserdata(L, &c);

    /* the hook stays set between calls (nothing runs then): setting it
     * again only restarts the count, without LuaJIT switching its
     * dispatch table each call */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, (int) h->opts.budget);
    rc = lua_pcall(L, 1, 0, 0);
    h->limit = 0;

    if (rc == 0 && !h->own_alloc && mkt_plugins_memory(h) > h->opts.memory) {
        h->mem_failed = 1;
        rc = LUA_ERRMEM;
        lua_pushstring(L, mkt_plugin_memory_msg);
    }

    if (rc != 0) {
        if (h->aborting) {
            *what = MKT_PLUGIN_C_budget;
            msg = mkt_plugin_budget_msg;

        } else if (h->mem_failed || rc == LUA_ERRMEM) {
            *what = MKT_PLUGIN_C_memory;
            msg = mkt_plugin_memory_msg;

        } else {
            *what = MKT_PLUGIN_C_errors;
            msg = lua_tolstring(L, -1, &len);
            if (msg == NULL || lua_type(L, -1) != LUA_TSTRING) {
                msg = lua_typename(L, lua_type(L, -1));
                snprintf(err, cap, "error object is a %s value", msg);
                msg = NULL;
            }
        }

        if (msg) {
            snprintf(err, cap, "%s", msg);
        }
    }

    lua_settop(L, top);

    /* garbage of a failed call, or near the ceiling: collect it now,
     * outside the ceiling, so the next call does not fail for it */
    if (rc != 0 || mkt_plugins_memory(h) > h->opts.memory / 4 * 3) {
        lua_gc(L, LUA_GCCOLLECT, 0);
    }

    h->aborting = 0;
    h->mem_failed = 0;

    return rc;
}


int
mkt_plugin_call(mkt_plugins_t *h, size_t i, mkt_plugin_hook_e hook,
    mkt_plugin_body_pt body, void *arg)
{
    int                    rc;
    int64_t                now;
    mkt_plugin_t          *p = &h->p[i];
    mkt_plugin_counter_e   what;
    char                   err[MKT_PLUGIN_LOG_MAX];

    if (p->hook[hook] == LUA_NOREF || p->broken) {
        return -1;
    }

    if (p->until) {
        now = mkt_plugin_now(h);
        if (now < p->until) {
            mkt_plugin_count(h, i, MKT_PLUGIN_C_skipped);
            return -1;
        }

        /* one trial call: a failure disables it again at once */
        p->until = 0;
        /* (these two lines come once a back-off: not rate limited) */
        mkt_plugin_log(h, -1, MKT_PLUGIN_LOG_INFO, "plugin %s: enabled "
                       "again after its back-off", p->name);
    }

    h->current = (int) i;
    rc = protected_call(h, p->hook[hook], body, arg, err, sizeof(err),
                        &what);
    h->current = -1;
    h->req = NULL;

    if (rc == 0) {
        p->fails = 0;
        return 0;
    }

    mkt_plugin_count(h, i, what);
    mkt_plugin_log(h, (int) i, MKT_PLUGIN_LOG_ERR, "%s() failed: %s",
                   hook_names[hook], err);

    if (++p->fails >= h->opts.fail_max) {
        p->fails = h->opts.fail_max - 1;
        p->until = mkt_plugin_now(h) + h->opts.backoff_ms;
        if (p->until == 0) {
            p->until = 1;
        }
        mkt_plugin_count(h, i, MKT_PLUGIN_C_disabled);
        mkt_plugin_log(h, -1, MKT_PLUGIN_LOG_WARN, "plugin %s: disabled "
                       "for %lld ms after %u consecutive failures", p->name,
                       (long long) h->opts.backoff_ms, h->opts.fail_max);
    }

    return -1;
}


/* --- loading ------------------------------------------------------------ */

typedef struct {
    const char  *path;
    const char  *src;
    size_t       len;
    char        *err;
    size_t       cap;
} load_t;


static int
valid_name(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > MKT_PLUGIN_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * A function in the plugin's table under a name that is no hook
 * ("atributes"): never called, which the author would not see.  The first
 * one is a warning in ld->err (the load still succeeds).
 */
static void
unknown_hook(lua_State *L, int table, load_t *ld)
{
    int          k;
    size_t       len;
    const char  *key;

    if (table < 0) {
        table = lua_gettop(L) + table + 1;
    }

    for (lua_pushnil(L); lua_next(L, table) != 0; lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING || !lua_isfunction(L, -1)) {
            continue;
        }

        key = lua_tolstring(L, -2, &len);

        for (k = 0; k < MKT_PLUGIN_HOOKS; k++) {
            if (strcmp(key, hook_names[k]) == 0) {
                break;
            }
        }

        if (k == MKT_PLUGIN_HOOKS && valid_name(key, len)
            && ld->err[0] == '\0')
        {
            snprintf(ld->err, ld->cap, "%s: \"%s\" is a function but no hook "
                     "(init, attributes, choose, event): it is never called",
                     ld->path, key);
        }
    }
}


static int
load_body(lua_State *L, mkt_plugins_t *h, void *arg)
{
    int            k, env;
    size_t         len, i;
    load_t        *ld = arg;
    const char    *name, *base;
    mkt_plugin_t  *p = &h->p[h->n];
    char           chunk[512];

    snprintf(chunk, sizeof(chunk), "@%s", ld->path);

    if (luaL_loadbuffer(L, ld->src, ld->len, chunk) != 0) {
        return lua_error(L);
    }

    mkt_plugin_new_env(L, h);
    env = lua_gettop(L);
    lua_pushvalue(L, env);
    lua_setfenv(L, -3);
    lua_insert(L, -2);                 /* env, chunk */
    lua_call(L, 0, 1);

    if (!lua_istable(L, -1)) {
        return luaL_error(L, "%s: the plugin returns %s, not a table of "
                          "hooks", ld->path, luaL_typename(L, -1));
    }

    lua_getfield(L, -1, "name");
    if (lua_isnil(L, -1)) {
        base = strrchr(ld->path, '/');
        base = base ? base + 1 : ld->path;
        len = strlen(base);
        if (len > 4 && strcmp(base + len - 4, ".lua") == 0) {
            len -= 4;
        }
        lua_pushlstring(L, base, len);
        lua_replace(L, -2);
    }

    name = lua_tolstring(L, -1, &len);
    if (lua_type(L, -1) != LUA_TSTRING || !valid_name(name, len)) {
        return luaL_error(L, "%s: the plugin's name must be 1 to %d "
                          "characters A-Z a-z 0-9 _ - (set field \"name\")",
                          ld->path, MKT_PLUGIN_NAME_MAX);
    }

    for (i = 0; i < h->n; i++) {
        if (strcmp(h->p[i].name, name) == 0) {
            return luaL_error(L, "%s: a plugin named \"%s\" is already "
                              "loaded", ld->path, name);
        }
    }

    for (k = 0; k < MKT_PLUGIN_HOOKS; k++) {
        lua_getfield(L, -2, hook_names[k]);
        if (!lua_isnil(L, -1) && !lua_isfunction(L, -1)) {
            return luaL_error(L, "%s: hook \"%s\" is a %s, not a function",
                              ld->path, hook_names[k], luaL_typename(L, -1));
        }
        lua_pop(L, 1);
    }

    unknown_hook(L, -2, ld);

    /* nothing can fail past here: take the plugin */
    memset(p, 0, sizeof(*p));
    memcpy(p->name, name, len);

    for (k = 0; k < MKT_PLUGIN_HOOKS; k++) {
        lua_getfield(L, -2, hook_names[k]);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            p->hook[k] = LUA_NOREF;
            continue;
        }
        p->hook[k] = luaL_ref(L, LUA_REGISTRYINDEX);
        h->hooks |= 1u << k;
    }

    lua_pushvalue(L, env);
    p->env = luaL_ref(L, LUA_REGISTRYINDEX);
    h->n++;

    return 0;
}


int
mkt_plugins_load(mkt_plugins_t *h, const char *path, const char *src,
    size_t len, char *err, size_t cap)
{
    load_t                ld;
    mkt_plugin_counter_e  what;

    if (h->n == MKT_PLUGINS_MAX) {
        snprintf(err, cap, "%s: more than %d plugins", path,
                 MKT_PLUGINS_MAX);
        return -1;
    }

    if (len > MKT_PLUGIN_SOURCE_MAX) {
        snprintf(err, cap, "%s: larger than %d bytes", path,
                 MKT_PLUGIN_SOURCE_MAX);
        return -1;
    }

    if (len && src[0] == LUA_SIGNATURE[0]) {
        snprintf(err, cap, "%s: bytecode is not allowed, only source",
                 path);
        return -1;
    }

    ld.path = path;
    ld.src = src;
    ld.len = len;
    ld.err = err;
    ld.cap = cap;
    err[0] = '\0';

    if (protected_call(h, LUA_NOREF, load_body, &ld, err, cap, &what) != 0) {
        if (what != MKT_PLUGIN_C_errors) {
            /* the message of a budget or memory abort names no file */
            char  msg[MKT_PLUGIN_LOG_MAX];

            snprintf(msg, sizeof(msg), "%s", err);
            snprintf(err, cap, "%s: %s", path, msg);
        }
        return -1;
    }

    return 0;
}


int
mkt_plugins_load_file(mkt_plugins_t *h, const char *path, char *err,
    size_t cap)
{
    int     rc;
    char   *buf;
    FILE   *f;
    size_t  n;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, cap, "%s: cannot open", path);
        return -1;
    }

    buf = malloc(MKT_PLUGIN_SOURCE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, cap, "%s: out of memory", path);
        return -1;
    }

    n = fread(buf, 1, MKT_PLUGIN_SOURCE_MAX + 1, f);
    rc = ferror(f) ? -1 : 0;
    fclose(f);

    if (rc != 0) {
        snprintf(err, cap, "%s: cannot read", path);
    } else {
        rc = mkt_plugins_load(h, path, buf, n, err, cap);
    }

    free(buf);
    return rc;
}


/* --- init --------------------------------------------------------------- */

static int
init_body(lua_State *L, mkt_plugins_t *h, void *arg)
{
    json_t  *section = arg, *conf;

    conf = json_object_get(section, h->p[h->current].name);
    if (json_is_object(conf)) {
        mkt_plugin_push_json(L, conf, 0);
    } else {
        lua_newtable(L);
    }

    lua_call(L, 1, 0);
    return 0;
}


int
mkt_plugins_init(mkt_plugins_t *h, json_t *section, char *err, size_t cap)
{
    int                   rc;
    size_t                i;
    mkt_plugin_counter_e  what;
    char                  msg[MKT_PLUGIN_LOG_MAX];

    rc = 0;

    for (i = 0; i < h->n; i++) {
        if (h->p[i].hook[MKT_PLUGIN_HOOK_INIT] == LUA_NOREF) {
            continue;
        }

        h->current = (int) i;
        if (protected_call(h, h->p[i].hook[MKT_PLUGIN_HOOK_INIT], init_body,
                           section, msg, sizeof(msg), &what)
            == 0)
        {
            continue;
        }

        h->p[i].broken = 1;
        mkt_plugin_count(h, i, what);

        if (rc == 0) {
            snprintf(err, cap, "plugin %s: init() failed: %s", h->p[i].name,
                     msg);
            rc = -1;
        }
    }

    h->current = -1;
    return rc;
}
