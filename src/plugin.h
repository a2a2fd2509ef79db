/* Lua plugins (`mkt_plugin`, docs/plugins.md): one LuaJIT VM holding the
 * plugins of a config, each in its own sandboxed environment, every hook
 * call under an instruction budget and the VM under a memory ceiling, a
 * failing call aborting that call only, and a plugin that keeps failing
 * disabled for a back-off period.  nginx-free: request facts, memory for
 * results, the clock, logging and counters come through callbacks. */
#ifndef MKT_PLUGIN_H
#define MKT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "event.h"
#include "experiment.h"
#include "value.h"

#define MKT_PLUGINS_MAX          32
#define MKT_PLUGIN_NAME_MAX      64          /* bytes of a plugin's name */
#define MKT_PLUGIN_SOURCE_MAX    (1024 * 1024)  /* bytes of a plugin file */
#define MKT_PLUGIN_ATTRS_MAX     32          /* attributes one call adds */
#define MKT_PLUGIN_STRING_MAX    1024        /* bytes of a string taken
                                              * from a hook's result */
#define MKT_PLUGIN_ITEMS_MAX     256         /* items of an array or object
                                              * taken from a result */
#define MKT_PLUGIN_DEPTH_MAX     4           /* tables nested in a result */
#define MKT_PLUGIN_JSON_MAX      (64 * 1024) /* mkt.json_* input/output */
#define MKT_PLUGIN_LOG_MAX       512         /* bytes of one log line */

/* Defaults of mkt_plugin_opts_t. */
#define MKT_PLUGIN_MEMORY        (32 * 1024 * 1024)
#define MKT_PLUGIN_BUDGET        100000      /* VM instructions per call */
#define MKT_PLUGIN_FAIL_MAX      5
#define MKT_PLUGIN_BACKOFF_MS    30000
#define MKT_PLUGIN_LOG_RATE      10          /* lines per plugin a second */

/* Per-plugin counters: name, help (mkt_status). */
#define MKT_PLUGIN_COUNTERS(X)                                                \
    X(errors, "Hook calls aborted by a Lua error (forbidden calls "         \
      "included)")                                                          \
    X(budget, "Hook calls aborted at the instruction budget")               \
    X(memory, "Hook calls aborted at the VM's memory ceiling")              \
    X(ignored, "Values returned by hooks and ignored: wrong types, "        \
      "variants the slot does not have, fields beyond the bounds")          \
    X(disabled, "Times the plugin was disabled for its back-off after "     \
      "consecutive failures")                                               \
    X(skipped, "Hook calls skipped while the plugin was disabled")          \
    X(dropped, "Events dropped by the event hook")                          \
    X(log_suppressed, "Log lines of the plugin dropped by the rate limit")

#define MKT_PLUGIN_COUNTER_ENUM(name, help)  MKT_PLUGIN_C_##name,

typedef enum {
    MKT_PLUGIN_COUNTERS(MKT_PLUGIN_COUNTER_ENUM)
    MKT_PLUGIN_NCOUNTERS
} mkt_plugin_counter_e;

/* "errors", ... and their help texts. */
extern const char *const  mkt_plugin_counter_names[MKT_PLUGIN_NCOUNTERS];
extern const char *const  mkt_plugin_counter_help[MKT_PLUGIN_NCOUNTERS];

typedef enum {
    MKT_PLUGIN_LOG_ERR = 0,
    MKT_PLUGIN_LOG_WARN,
    MKT_PLUGIN_LOG_INFO
} mkt_plugin_log_e;

/* Hooks a plugin may define (bits of mkt_plugins_hooks()). */
typedef enum {
    MKT_PLUGIN_HOOK_INIT = 0,
    MKT_PLUGIN_HOOK_ATTRIBUTES,
    MKT_PLUGIN_HOOK_CHOOSE,
    MKT_PLUGIN_HOOK_EVENT,
    MKT_PLUGIN_HOOKS
} mkt_plugin_hook_e;

#define MKT_PLUGIN_HOOK(name)  (1u << MKT_PLUGIN_HOOK_##name)

typedef struct {
    size_t      memory;          /* bytes the VM may hold; 0: default */
    unsigned    budget;          /* instructions per hook call; 0: default */
    unsigned    fail_max;        /* consecutive failures that disable */
    int64_t     backoff_ms;      /* how long a plugin stays disabled */
    unsigned    log_rate;        /* log lines per plugin per second */
    int64_t   (*now_ms)(void *data);           /* NULL: the wall clock */
    /* a whole line, "plugin NAME: ..."; NULL: none */
    void      (*log)(void *data, mkt_plugin_log_e level, const char *msg);
    /* a counter of plugin i went up by one; NULL: none */
    void      (*count)(void *data, size_t plugin, mkt_plugin_counter_e c);
    void       *data;
} mkt_plugin_opts_t;

/*
 * The request a hook's ctx argument shows.  fact() gives ctx.NAME (sub
 * NULL) or ctx.query.SUB and ctx.headers.SUB (name "query" or
 * "headers"): 0 and *v, or -1 when the request has no such fact.  *v
 * must stay valid until the hook returns.
 */
typedef struct {
    int       (*fact)(void *data, const char *name, size_t len,
                      const char *sub, size_t sub_len, mkt_val_t *v);
    void       *data;
} mkt_plugin_req_t;

/* Where values taken from Lua are copied: alloc() returns n bytes
 * aligned for any type, or NULL. */
typedef struct {
    void     *(*alloc)(void *data, size_t n);
    void       *data;
} mkt_plugin_mem_t;

typedef struct mkt_plugins_s  mkt_plugins_t;

/* A VM without plugins; NULL when out of memory. */
mkt_plugins_t *mkt_plugins_new(const mkt_plugin_opts_t *opts);
void mkt_plugins_free(mkt_plugins_t *h);

/*
 * Compiles a plugin (text only, no bytecode) named path in messages, runs
 * its top level in a fresh sandbox and takes the table it returns: its
 * name (field "name", else the file name without ".lua") and hooks.  0,
 * or -1 with "PATH:LINE: message" (or "PATH: message") in err.  On 0, err
 * is empty or holds a warning: a function in the table under a name that
 * is no hook (a misspelt "atributes"), which would never be called.
 */
int mkt_plugins_load(mkt_plugins_t *h, const char *path, const char *src,
    size_t len, char *err, size_t cap);

/* The same from a file, read whole (at most MKT_PLUGIN_SOURCE_MAX). */
int mkt_plugins_load_file(mkt_plugins_t *h, const char *path, char *err,
    size_t cap);

/*
 * Calls each plugin's init(config) with its member of the config's
 * "plugins" section (an empty table when absent; section may be NULL).
 * A plugin whose init fails is never called again.  0, or -1 with the
 * first failure in err (the others still ran).
 */
int mkt_plugins_init(mkt_plugins_t *h, json_t *section, char *err,
    size_t cap);

size_t mkt_plugins_count(const mkt_plugins_t *h);
const char *mkt_plugins_name(const mkt_plugins_t *h, size_t i);
const uint64_t *mkt_plugins_stats(const mkt_plugins_t *h, size_t i);

/* MKT_PLUGIN_HOOK() bits of the hooks any plugin defines. */
unsigned mkt_plugins_hooks(const mkt_plugins_t *h);

/* Bytes the VM holds now. */
size_t mkt_plugins_memory(const mkt_plugins_t *h);

/*
 * Runs every attributes(ctx) hook in order.  out is base's members
 * followed by those the hooks returned (later ones win in mkt_val_get(),
 * so a plugin may override a built-in attribute), in memory from mem;
 * out may be base.  Returns how many members the hooks added.
 */
size_t mkt_plugins_attributes(mkt_plugins_t *h, const mkt_plugin_req_t *req,
    const mkt_plugin_mem_t *mem, const mkt_val_t *base, mkt_val_t *out);

/*
 * Offers slot i of cfg, decided as res says, to each choose(slot, ctx)
 * in order.  A returned name of one of the slot's variants replaces
 * res->variant (reason MKT_SLOT_PLUGIN); nil keeps it; anything else is
 * ignored and counted.  Slots held out, without tracking or in the
 * control of an experiment are not offered.  1 when a plugin chose.
 */
int mkt_plugins_choose(mkt_plugins_t *h, const mkt_config_t *cfg, size_t i,
    const mkt_plugin_req_t *req, mkt_slot_result_t *res);

/*
 * Runs every event(ev) hook in order on the event as a table, and writes
 * the changes back into ev: changed strings copied into mem, numbers,
 * fields set to nil removed, props.  id, type and assign are read-only.
 * 1: keep the event; 0: a hook returned false (the later ones do not
 * run).
 */
int mkt_plugins_event(mkt_plugins_t *h, mkt_event_t *ev,
    const mkt_plugin_mem_t *mem);

#endif
