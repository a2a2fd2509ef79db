/* Shared by the plugin tests: a host with a fake clock, captured log
 * lines and counters, a bump arena for results, a request whose facts
 * are fixed, and a helper that loads one plugin from source.  Include
 * after cmocka.h and plugin.h. */
#ifndef MKT_TEST_PLUGIN_FIXTURE_H
#define MKT_TEST_PLUGIN_FIXTURE_H

#include <stdio.h>
#include <string.h>

#define LOG_LINES  64

#define FAKE_NOW  1763870000000LL

static int64_t   fake_now = FAKE_NOW;
static char      log_lines[LOG_LINES][1024];
static int       log_levels[LOG_LINES];
static size_t    nlog;
static unsigned  counted[MKT_PLUGINS_MAX][MKT_PLUGIN_NCOUNTERS];

static _Alignas(16) char  arena[1 << 20];
static size_t             arena_used;


static int64_t
clock_ms(void *data)
{
    return fake_now;
}


static void
capture_log(void *data, mkt_plugin_log_e level, const char *msg)
{
    if (nlog < LOG_LINES) {
        snprintf(log_lines[nlog], sizeof(log_lines[0]), "%s", msg);
        log_levels[nlog] = (int) level;
    }
    nlog++;
}


static void
capture_count(void *data, size_t plugin, mkt_plugin_counter_e c)
{
    counted[plugin][c]++;
}


static void *
arena_alloc(void *data, size_t n)
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

static const mkt_plugin_mem_t  mem = { arena_alloc, NULL };


static mkt_plugin_opts_t
test_opts(void)
{
    mkt_plugin_opts_t  o;

    memset(&o, 0, sizeof(o));
    o.memory = 8 * 1024 * 1024;
    o.budget = 100000;
    o.fail_max = 3;
    o.backoff_ms = 1000;
    o.log_rate = 10;
    o.now_ms = clock_ms;
    o.log = capture_log;
    o.count = capture_count;
    return o;
}


static mkt_plugins_t *
new_host(void)
{
    mkt_plugins_t      *h;
    mkt_plugin_opts_t   o;

    nlog = 0;
    fake_now = FAKE_NOW;
    arena_used = 0;
    memset(counted, 0, sizeof(counted));
    o = test_opts();
    h = mkt_plugins_new(&o);
    assert_non_null(h);
    return h;
}


/* A host with one plugin loaded from src (failing the test if it does
 * not load). */
static inline mkt_plugins_t *
host_with(const char *path, const char *src)
{
    char            err[512];
    mkt_plugins_t  *h;

    h = new_host();
    if (mkt_plugins_load(h, path, src, strlen(src), err, sizeof(err)) != 0) {
        fail_msg("%s did not load: %s", path, err);
    }
    return h;
}


/* The request of the tests: vid, new, tags, geo, query.utm_source and
 * headers.X-A. */
static int
fact(void *data, const char *name, size_t len, const char *sub,
    size_t sub_len, mkt_val_t *v)
{
    static mkt_val_t       tags[2];
    static mkt_val_pair_t  geo[1];

    if (sub) {
        if (len == 5 && memcmp(name, "query", 5) == 0 && sub_len == 10
            && memcmp(sub, "utm_source", 10) == 0)
        {
            *v = mkt_val_string("baidu", 5);
            return 0;
        }
        if (len == 7 && memcmp(name, "headers", 7) == 0 && sub_len == 3
            && memcmp(sub, "X-A", 3) == 0)
        {
            *v = mkt_val_string("a-value", 7);
            return 0;
        }
        return -1;
    }

    if (len == 3 && memcmp(name, "vid", 3) == 0) {
        *v = mkt_val_string("V1", 2);
        return 0;
    }
    if (len == 3 && memcmp(name, "new", 3) == 0) {
        *v = mkt_val_bool(1);
        return 0;
    }
    if (len == 4 && memcmp(name, "tags", 4) == 0) {
        tags[0] = mkt_val_string("vip", 3);
        tags[1] = mkt_val_string("active_7d", 9);
        *v = mkt_val_array(tags, 2);
        return 0;
    }
    if (len == 3 && memcmp(name, "geo", 3) == 0) {
        geo[0].key = "country";
        geo[0].key_len = 7;
        geo[0].val = mkt_val_string("CN", 2);
        *v = mkt_val_object(geo, 1);
        return 0;
    }
    return -1;
}

static const mkt_plugin_req_t  req = { fact, NULL };


/* Runs the attributes hooks on no base attributes. */
static inline mkt_val_t
run_attributes(mkt_plugins_t *h)
{
    mkt_val_t  base, out;

    base = mkt_val_object(NULL, 0);
    (void) mkt_plugins_attributes(h, &req, &mem, &base, &out);
    return out;
}


/* A string attribute of v, NUL-terminated into a static buffer, or NULL. */
static inline const char *
attr_str(const mkt_val_t *v, const char *key)
{
    static char       buf[2048];
    const mkt_val_t  *a;

    a = mkt_val_get(v, key, strlen(key));
    if (a == NULL || a->type != MKT_VAL_STRING) {
        return NULL;
    }
    snprintf(buf, sizeof(buf), "%.*s", (int) a->len, a->u.str);
    return buf;
}


static inline mkt_str_t
str(const char *s)
{
    mkt_str_t  v;

    v.data = s;
    v.len = strlen(s);
    return v;
}


/* Whether a captured log line contains s. */
static inline int
logged(const char *s)
{
    size_t  i;

    for (i = 0; i < nlog && i < LOG_LINES; i++) {
        if (strstr(log_lines[i], s)) {
            return 1;
        }
    }
    return 0;
}

#endif
