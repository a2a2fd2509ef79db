/* libFuzzer target for the mkt library's JSON (src/plugin_lib.c over
 * src/json_read.c and src/json_write.c), run inside a plugin as plugins
 * run it: mkt.json_decode() accepts exactly what the strict reader
 * validates (under the 64 KiB bound); what it decodes, mkt.json_encode()
 * writes as JSON jansson reads and mkt.json_decode() takes back; and no
 * call fails, runs out of budget or memory. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_read.h"
#include "plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)  do { if (!(x)) __builtin_trap(); } while (0)

static const char  plugin[] =
    "return { attributes = function(ctx)\n"
    "  local v = mkt.json_decode(ctx.input)\n"
    "  if v == nil then return { ok = false } end\n"
    "  local e = mkt.json_encode(v)\n"
    "  if e == nil then return { ok = true } end\n"
    "  return { ok = true, e = e, back = mkt.json_decode(e) ~= nil }\n"
    "end }";

static mkt_plugins_t  *host;
static const char     *input;
static size_t          input_len;
static char            arena[4 * 1024 * 1024];
static size_t          arena_used;


static int
fact(void *data, const char *name, size_t len, const char *sub,
    size_t sub_len, mkt_val_t *v)
{
    if (sub || len != 5 || memcmp(name, "input", 5) != 0) {
        return -1;
    }
    *v = mkt_val_string(input, input_len);
    return 0;
}


static void *
alloc(void *data, size_t n)
{
    void  *p;

    n = (n + 15) & ~(size_t) 15;
    if (arena_used + n > sizeof(arena)) {
        return NULL;
    }
    p = arena + arena_used;
    arena_used += n;
    return p;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                      valid, c;
    char                    *copy, err[256];
    json_t                  *j;
    mkt_jr_t                 r;
    mkt_val_t                base, out;
    const mkt_val_t         *ok, *e, *back;
    const uint64_t          *stats;
    mkt_plugin_req_t         req = { fact, NULL };
    mkt_plugin_mem_t         mem = { alloc, NULL };

    if (host == NULL) {
        host = mkt_plugins_new(NULL);
        CHECK(host != NULL);
        CHECK(mkt_plugins_load(host, "fuzz.lua", plugin, strlen(plugin),
                               err, sizeof(err)) == 0);
    }

    copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    input = copy;
    input_len = size;
    arena_used = 0;

    mkt_jr_init(&r, copy, size);
    valid = size < MKT_PLUGIN_JSON_MAX && mkt_jr_validate(&r) == 0;

    base = mkt_val_object(NULL, 0);
    mkt_plugins_attributes(host, &req, &mem, &base, &out);

    stats = mkt_plugins_stats(host, 0);
    for (c = 0; c < MKT_PLUGIN_NCOUNTERS; c++) {
        CHECK(stats[c] == 0);
    }

    ok = mkt_val_get(&out, "ok", 2);
    CHECK(ok != NULL && ok->type == MKT_VAL_BOOL);
    CHECK(ok->u.boolean == valid);

    e = mkt_val_get(&out, "e", 1);
    if (e != NULL) {
        CHECK(e->type == MKT_VAL_STRING);
        j = json_loadb(e->u.str, e->len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                       NULL);
        /* valid JSON, unless cut where attributes cut strings (integers
         * are written as such only below 2^53: never past jansson's) */
        CHECK(j != NULL || e->len == MKT_PLUGIN_STRING_MAX);
        json_decref(j);
        back = mkt_val_get(&out, "back", 4);
        CHECK(back != NULL && back->u.boolean);
    }

    free(copy);
    return 0;
}
