/* Lua plugins in nginx: the mkt_plugin directive (compiled at config time,
 * so that "nginx -t" fails naming the file and line), one VM per worker
 * made at init_process, the request facts a hook's ctx shows, the calls
 * from the decisions and the event path, and the per-plugin counters of
 * mkt_status. */

#include "ngx_http_mkt_module.h"

#include "plugin.h"


typedef struct {
    ngx_str_t                  path;          /* NUL-terminated */
    ngx_str_t                  src;
} ngx_http_mkt_plugin_src_t;


typedef struct {
    ngx_http_request_t        *r;
    ngx_http_mkt_ctx_t        *ctx;
} ngx_http_mkt_plugin_req_t;


/* this worker's VM, or NULL */
static mkt_plugins_t  *ngx_http_mkt_plugins;


static void
ngx_http_mkt_plugin_log(void *data, mkt_plugin_log_e level, const char *msg)
{
    static ngx_uint_t  levels[] = { NGX_LOG_ERR, NGX_LOG_WARN, NGX_LOG_INFO };

    ngx_log_error(levels[level], ngx_cycle->log, 0, "mkt %s", msg);
}


static void
ngx_http_mkt_plugin_count(void *data, size_t plugin, mkt_plugin_counter_e c)
{
    ngx_http_mkt_shctx_t      *sh;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_http_mkt_module);
    sh = mcf->status_zone->data;

    (void) ngx_atomic_fetch_add(&sh->plugin[plugin][c], 1);
}


static int64_t
ngx_http_mkt_plugin_now(void *data)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();
    return (int64_t) tp->sec * 1000 + tp->msec;
}


static void *
ngx_http_mkt_plugin_alloc(void *data, size_t n)
{
    return ngx_palloc(data, n);
}


static void
ngx_http_mkt_plugin_cleanup(void *data)
{
    ngx_http_mkt_main_conf_t  *mcf = data;

    mkt_plugins_free(mcf->plugin_vm);
    mcf->plugin_vm = NULL;
}


static mkt_plugins_t *
ngx_http_mkt_plugin_new(ngx_uint_t worker)
{
    mkt_plugin_opts_t  opts;

    ngx_memzero(&opts, sizeof(opts));
    opts.now_ms = ngx_http_mkt_plugin_now;

    if (worker) {
        opts.log = ngx_http_mkt_plugin_log;
        opts.count = ngx_http_mkt_plugin_count;
    }

    return mkt_plugins_new(&opts);
}


/* mkt_plugin FILE: read once, compiled now in the configuration's VM */
char *
ngx_http_mkt_plugin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_main_conf_t  *mcf = conf;

    ngx_str_t                  *value, name, src;
    ngx_pool_cleanup_t         *cln;
    ngx_http_mkt_plugin_src_t  *ps;
    char                        err[NGX_MAX_ERROR_STR];

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (mcf->plugins == NULL) {
        mcf->plugins = ngx_array_create(cf->pool, 4,
                                        sizeof(ngx_http_mkt_plugin_src_t));
        if (mcf->plugins == NULL) {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        mcf->plugin_vm = ngx_http_mkt_plugin_new(0);
        if (mcf->plugin_vm == NULL) {
            return "cannot create a Lua VM";
        }

        cln->handler = ngx_http_mkt_plugin_cleanup;
        cln->data = mcf;
    }

    if (ngx_http_mkt_conf_read(cf, &name, MKT_PLUGIN_SOURCE_MAX, "plugin",
                               &src)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (mkt_plugins_load(mcf->plugin_vm, (char *) name.data,
                         (char *) src.data, src.len, err, sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    if (err[0] != '\0') {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "%s", err);
    }

    ps = ngx_array_push(mcf->plugins);
    if (ps == NULL) {
        return NGX_CONF_ERROR;
    }

    ps->path = name;
    ps->src = src;

    return NGX_CONF_OK;
}


static json_t *
ngx_http_mkt_plugin_section(ngx_http_mkt_main_conf_t *mcf)
{
    return mcf->config ? mkt_config_section(mcf->config, "plugins") : NULL;
}


/*
 * At the end of the configuration: every init(config) runs once with the
 * plugins section of mkt_config, so that a plugin refusing its config
 * fails "nginx -t" too; then the configuration's VM goes.
 */
ngx_int_t
ngx_http_mkt_plugin_check(ngx_conf_t *cf, ngx_http_mkt_main_conf_t *mcf)
{
    size_t      i;
    ngx_int_t   rc;
    char        err[NGX_MAX_ERROR_STR];

    if (mcf->plugin_vm == NULL) {
        return NGX_OK;
    }

    rc = NGX_OK;

    if (mkt_plugins_init(mcf->plugin_vm, ngx_http_mkt_plugin_section(mcf),
                         err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "mkt %s", err);
        rc = NGX_ERROR;
    }

    mcf->nplugins = mkt_plugins_count(mcf->plugin_vm);

    for (i = 0; i < mcf->nplugins; i++) {
        ngx_cpystrn(mcf->plugin_names[i],
                    (u_char *) mkt_plugins_name(mcf->plugin_vm, i),
                    MKT_PLUGIN_NAME_MAX + 1);
    }

    mkt_plugins_free(mcf->plugin_vm);
    mcf->plugin_vm = NULL;

    return rc;
}


ngx_int_t
ngx_http_mkt_plugin_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i;
    mkt_plugins_t              *h;
    ngx_http_mkt_plugin_src_t  *ps;
    ngx_http_mkt_main_conf_t   *mcf;
    char                        err[NGX_MAX_ERROR_STR];

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mkt_module);

    if (mcf == NULL || mcf->plugins == NULL) {
        return NGX_OK;
    }

    /* fail open: without its VM a worker serves as if no plugin were set */
    h = ngx_http_mkt_plugin_new(1);
    if (h == NULL) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "mkt cannot create a Lua VM: plugins are off");
        return NGX_OK;
    }

    ps = mcf->plugins->elts;

    for (i = 0; i < mcf->plugins->nelts; i++) {
        if (mkt_plugins_load(h, (char *) ps[i].path.data,
                             (char *) ps[i].src.data, ps[i].src.len,
                             err, sizeof(err))
            != 0)
        {
            ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                          "mkt %s: plugins are off", err);
            mkt_plugins_free(h);
            return NGX_OK;
        }
    }

    if (mkt_plugins_init(h, ngx_http_mkt_plugin_section(mcf), err,
                         sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0, "mkt %s", err);
    }

    ngx_http_mkt_plugins = h;

    return NGX_OK;
}


void
ngx_http_mkt_plugin_exit_process(ngx_cycle_t *cycle)
{
    mkt_plugins_free(ngx_http_mkt_plugins);
    ngx_http_mkt_plugins = NULL;
}


/* --- the request's view ------------------------------------------------- */

/* ctx.assign: experiment key -> variation, of the decisions so far */
static int
ngx_http_mkt_plugin_assign(ngx_http_mkt_plugin_req_t *pr, mkt_val_t *v)
{
    size_t                     i, n;
    mkt_val_pair_t            *pairs;
    const mkt_experiment_t    *e;
    const mkt_exp_result_t    *res;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(pr->r, ngx_http_mkt_module);
    res = pr->ctx->results;

    pairs = ngx_palloc(pr->r->pool,
                       (pr->ctx->nresults + 1) * sizeof(mkt_val_pair_t));
    if (pairs == NULL || mcf->config == NULL) {
        return -1;
    }

    n = 0;

    for (i = 0; res && i < pr->ctx->nresults; i++) {
        if (res[i].variation < 0) {
            continue;
        }

        e = mkt_config_experiment(mcf->config, res[i].exp);
        pairs[n].key = e->key.data;
        pairs[n].key_len = e->key.len;
        pairs[n].val = mkt_val_string(e->variations[res[i].variation].data,
                                      e->variations[res[i].variation].len);
        n++;
    }

    *v = mkt_val_object(pairs, n);
    return 0;
}


static int
ngx_http_mkt_plugin_fact(void *data, const char *name, size_t len,
    const char *sub, size_t sub_len, mkt_val_t *v)
{
    ngx_http_mkt_plugin_req_t  *pr = data;

    if (sub == NULL && len == 6 && ngx_strncmp(name, "assign", 6) == 0) {
        return ngx_http_mkt_plugin_assign(pr, v);
    }

    return ngx_http_mkt_attr_by_name(pr->r, pr->ctx, (u_char *) name, len,
                                     (u_char *) sub, sub_len, v)
           == NGX_OK ? 0 : -1;
}


/* Extra attributes from the attributes hooks, after the built-in ones. */
void
ngx_http_mkt_plugin_attributes(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    mkt_val_t *attrs)
{
    mkt_plugin_req_t           req;
    mkt_plugin_mem_t           mem;
    ngx_http_mkt_plugin_req_t  pr;

    if (ngx_http_mkt_plugins == NULL
        || !(mkt_plugins_hooks(ngx_http_mkt_plugins)
             & MKT_PLUGIN_HOOK(ATTRIBUTES)))
    {
        return;
    }

    pr.r = r;
    pr.ctx = ctx;
    req.fact = ngx_http_mkt_plugin_fact;
    req.data = &pr;
    mem.alloc = ngx_http_mkt_plugin_alloc;
    mem.data = r->pool;

    (void) mkt_plugins_attributes(ngx_http_mkt_plugins, &req, &mem, attrs,
                                  attrs);
}


/* The choose hooks, once the rules have chosen every slot. */
void
ngx_http_mkt_plugin_choose(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    size_t                      i, n;
    mkt_plugin_req_t            req;
    ngx_http_mkt_main_conf_t   *mcf;
    ngx_http_mkt_plugin_req_t   pr;

    if (ngx_http_mkt_plugins == NULL || ctx->slots == NULL
        || !(mkt_plugins_hooks(ngx_http_mkt_plugins)
             & MKT_PLUGIN_HOOK(CHOOSE)))
    {
        return;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    n = mkt_config_slot_count(mcf->config);

    pr.r = r;
    pr.ctx = ctx;
    req.fact = ngx_http_mkt_plugin_fact;
    req.data = &pr;

    for (i = 0; i < n; i++) {
        (void) mkt_plugins_choose(ngx_http_mkt_plugins, mcf->config, i, &req,
                                  &ctx->slots[i]);
    }
}


/* The event hooks: NGX_OK keeps the event (maybe changed, its new strings
 * in r->pool), NGX_DECLINED drops it. */
ngx_int_t
ngx_http_mkt_plugin_event(ngx_http_request_t *r, mkt_event_t *ev)
{
    mkt_plugin_mem_t  mem;

    if (ngx_http_mkt_plugins == NULL
        || !(mkt_plugins_hooks(ngx_http_mkt_plugins) & MKT_PLUGIN_HOOK(EVENT)))
    {
        return NGX_OK;
    }

    mem.alloc = ngx_http_mkt_plugin_alloc;
    mem.data = r->pool;

    return mkt_plugins_event(ngx_http_mkt_plugins, ev, &mem) ? NGX_OK
                                                             : NGX_DECLINED;
}


/* --- mkt_status --------------------------------------------------------- */

/*
 * Counters are kept by position; a position whose plugin is not the one
 * of the same name as before (a reload changed the list) starts at zero.
 */
void
ngx_http_mkt_plugin_status_sync(ngx_http_mkt_shctx_t *sh,
    ngx_http_mkt_main_conf_t *mcf)
{
    ngx_uint_t  i, c;

    for (i = 0; i < MKT_PLUGINS_MAX; i++) {
        if (i < mcf->nplugins
            && ngx_strcmp(sh->plugin_name[i], mcf->plugin_names[i]) == 0)
        {
            continue;
        }

        for (c = 0; c < MKT_PLUGIN_NCOUNTERS; c++) {
            sh->plugin[i][c] = 0;
        }

        ngx_memcpy(sh->plugin_name[i], mcf->plugin_names[i],
                   MKT_PLUGIN_NAME_MAX + 1);
    }
}


/* Bytes ngx_http_mkt_plugin_status() writes at most. */
size_t
ngx_http_mkt_plugin_status_size(ngx_http_mkt_main_conf_t *mcf)
{
    ngx_uint_t  c;
    size_t      size;

    size = sizeof(",\"plugins\":{}") - 1;

    for (c = 0; c < MKT_PLUGIN_NCOUNTERS; c++) {
        size += sizeof("# HELP mkt_plugin__total \n"
                       "# TYPE mkt_plugin__total counter\n") - 1
                + 2 * ngx_strlen(mkt_plugin_counter_names[c])
                + ngx_strlen(mkt_plugin_counter_help[c])
                + mcf->nplugins * (sizeof("mkt_plugin__total{plugin=\"\"} \n")
                                   + ngx_strlen(mkt_plugin_counter_names[c])
                                   + MKT_PLUGIN_NAME_MAX + NGX_ATOMIC_T_LEN);
    }

    return size + mcf->nplugins * (MKT_PLUGIN_NAME_MAX + 8);
}


u_char *
ngx_http_mkt_plugin_status(u_char *p, ngx_http_mkt_shctx_t *sh,
    ngx_http_mkt_main_conf_t *mcf, ngx_uint_t prom)
{
    ngx_uint_t   i, c;
    const char  *name;

    if (mcf->nplugins == 0) {
        return p;
    }

    if (prom) {
        for (c = 0; c < MKT_PLUGIN_NCOUNTERS; c++) {
            name = mkt_plugin_counter_names[c];
            p = ngx_sprintf(p, "# HELP mkt_plugin_%s_total %s\n"
                            "# TYPE mkt_plugin_%s_total counter\n",
                            name, mkt_plugin_counter_help[c], name);

            for (i = 0; i < mcf->nplugins; i++) {
                p = ngx_sprintf(p, "mkt_plugin_%s_total{plugin=\"%s\"} %uA\n",
                                name, mcf->plugin_names[i],
                                sh->plugin[i][c]);
            }
        }

        return p;
    }

    p = ngx_sprintf(p, ",\"plugins\":{");

    for (i = 0; i < mcf->nplugins; i++) {
        p = ngx_sprintf(p, "%s\"%s\":", i ? "," : "", mcf->plugin_names[i]);

        for (c = 0; c < MKT_PLUGIN_NCOUNTERS; c++) {
            p = ngx_sprintf(p, "%s\"%s\":%uA", c ? "," : "{",
                            mkt_plugin_counter_names[c], sh->plugin[i][c]);
        }

        *p++ = '}';
    }

    *p++ = '}';

    return p;
}
