/* What the pieces of the plugin host share (internal): the host, its
 * plugins, the protected call, and the conversions between Lua and the
 * engine's values. */
#ifndef MKT_PLUGIN_INT_H
#define MKT_PLUGIN_INT_H

#include <lua.h>
#include <lauxlib.h>

#include "plugin.h"

typedef struct {
    char                    name[MKT_PLUGIN_NAME_MAX + 1];
    int                     hook[MKT_PLUGIN_HOOKS];   /* registry refs */
    int                     env;             /* registry ref */
    unsigned                fails;           /* consecutive */
    int64_t                 until;           /* disabled until, ms; 0 */
    int                     broken;          /* init failed: never run */
    uint64_t                stats[MKT_PLUGIN_NCOUNTERS];
    int64_t                 log_second;
    unsigned                log_lines;
    unsigned                log_dropped;
} mkt_plugin_t;

struct mkt_plugins_s {
    lua_State              *L;
    mkt_plugin_opts_t       opts;
    size_t                  used;            /* bytes allocated */
    size_t                  limit;           /* enforced when not 0 */
    int                     own_alloc;       /* lua_newstate took ours */
    int                     mem_failed;      /* refused during a call */
    int                     aborting;        /* budget exhausted */
    int                     current;         /* plugin being run, -1 */
    const mkt_plugin_req_t *req;             /* during a hook call */
    int                     body_ref;        /* call_body() */
    int                     ctx_ref;         /* the ctx userdata */
    int                     query_ref;
    int                     headers_ref;
    unsigned                hooks;
    char                   *scratch;         /* MKT_PLUGIN_JSON_MAX */
    mkt_val_pair_t         *pairs;           /* attributes being taken:
                                              * MKT_PLUGINS_MAX *
                                              * MKT_PLUGIN_ATTRS_MAX */
    size_t                  n;
    mkt_plugin_t            p[MKT_PLUGINS_MAX];
};

/* The body of a protected call: runs with the VM's limits on, may raise
 * Lua errors; the hook function (if any) is on the stack at 1. */
typedef int (*mkt_plugin_body_pt)(lua_State *L, mkt_plugins_t *h,
    void *arg);

/*
 * Calls plugin i's hook through body (which pushes the arguments, calls
 * and reads the results), unless the plugin is disabled or broken.
 * Counts and logs a failure, and disables the plugin after too many in
 * a row.  0 when the call succeeded.
 */
int mkt_plugin_call(mkt_plugins_t *h, size_t i, mkt_plugin_hook_e hook,
    mkt_plugin_body_pt body, void *arg);

void mkt_plugin_count(mkt_plugins_t *h, size_t i, mkt_plugin_counter_e c);

/* A log line of plugin i (or of the host, i < 0), rate limited per
 * plugin. */
void mkt_plugin_log(mkt_plugins_t *h, int i, mkt_plugin_log_e level,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

int64_t mkt_plugin_now(mkt_plugins_t *h);

/* The host of a C function (upvalue 1). */
#define mkt_plugin_host(L)                                                    \
    ((mkt_plugins_t *) lua_touserdata(L, lua_upvalueindex(1)))

/* The messages of an abort (also what pcall cannot catch). */
extern const char  mkt_plugin_budget_msg[];
extern const char  mkt_plugin_memory_msg[];

/* The VM's libraries (base, string, table, math, bit, os), the strings'
 * metatable hidden; a new plugin environment pushed; the ctx views made
 * (plugin_sandbox.c). */
void mkt_plugin_open_base(lua_State *L);
void mkt_plugin_new_env(lua_State *L, mkt_plugins_t *h);
void mkt_plugin_new_views(lua_State *L, mkt_plugins_t *h);

/* Opens the mkt library into the table at the top of the stack. */
void mkt_plugin_open_lib(lua_State *L, mkt_plugins_t *h);

/* Pushes an engine value (depth-bounded; nil beyond). */
void mkt_plugin_push_val(lua_State *L, const mkt_val_t *v, int depth);

/* Pushes a JSON value (jansson) as Lua, depth-bounded. */
void mkt_plugin_push_json(lua_State *L, json_t *j, int depth);

/*
 * The Lua value at idx as an engine value in mem: strings copied (cut to
 * MKT_PLUGIN_STRING_MAX), numbers, booleans, mkt.null, tables as arrays
 * (keys 1..n) or objects (string keys), bounded by MKT_PLUGIN_ITEMS_MAX
 * and MKT_PLUGIN_DEPTH_MAX.  0, or -1 when nothing usable (*ignored
 * counts what was left out).
 */
int mkt_plugin_to_val(lua_State *L, int idx, const mkt_plugin_mem_t *mem,
    int depth, mkt_val_t *out, unsigned *ignored);

/* Copies len bytes into mem; NULL when it fails. */
char *mkt_plugin_copy(const mkt_plugin_mem_t *mem, const char *s,
    size_t len);

/* The sentinel mkt.null stands for JSON null. */
#define MKT_PLUGIN_NULL  ((void *) &mkt_plugin_null_tag)
extern const char  mkt_plugin_null_tag;

#endif
