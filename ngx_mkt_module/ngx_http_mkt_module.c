/* ngx_http_mkt_module: directives, configuration, the rewrite-phase handler
 * that settles a request's decisions, and the header filter that sends the
 * visitor cookie. */

#include "ngx_http_mkt_module.h"


static ngx_int_t ngx_http_mkt_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mkt_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_mkt_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mkt_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_mkt_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void *ngx_http_mkt_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mkt_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_mkt_enable(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mkt_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mkt_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_mkt_hmac_cleanup(void *data);
static ngx_int_t ngx_http_mkt_rewrite_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mkt_header_filter(ngx_http_request_t *r);
static void ngx_http_mkt_ctx_cleanup(void *data);
static ngx_int_t ngx_http_mkt_init_process(ngx_cycle_t *cycle);
static void ngx_http_mkt_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_mkt_commands[] = {

    { ngx_string("mkt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_mkt_enable,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mkt_loc_conf_t, enable),
      NULL },

    { ngx_string("mkt_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_mkt_secret,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_mkt_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_cookie"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_mkt_cookie,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mkt_srv_conf_t, cookie),
      NULL },

    { ngx_string("mkt_user_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mkt_loc_conf_t, user_id),
      NULL },

    { ngx_string("mkt_config"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_mkt_config,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_geoip2"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_mkt_geoip2,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_qa"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_mkt_qa,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_qa_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mkt_srv_conf_t, qa_token),
      NULL },

    { ngx_string("mkt_privacy"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_mkt_privacy,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_mkt_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_tags_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_mkt_tags_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_events_log"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_mkt_events_log,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_collect"),
      NGX_HTTP_LOC_CONF|NGX_CONF_ANY,
      ngx_http_mkt_collect,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_conversion"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mkt_conversion,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_plugin"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_mkt_plugin,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_events_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_mkt_events_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_events_spool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_mkt_events_spool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mkt_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mkt_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mkt_module_ctx = {
    ngx_http_mkt_preconfiguration,         /* preconfiguration */
    ngx_http_mkt_postconfiguration,        /* postconfiguration */

    ngx_http_mkt_create_main_conf,         /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_mkt_create_srv_conf,          /* create server configuration */
    ngx_http_mkt_merge_srv_conf,           /* merge server configuration */

    ngx_http_mkt_create_loc_conf,          /* create location configuration */
    ngx_http_mkt_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_mkt_module = {
    NGX_MODULE_V1,
    &ngx_http_mkt_module_ctx,              /* module context */
    ngx_http_mkt_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_mkt_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_mkt_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static ngx_int_t
ngx_http_mkt_init_process(ngx_cycle_t *cycle)
{
    if (ngx_http_mkt_experiments_init_process(cycle) != NGX_OK
        || ngx_http_mkt_redis_init_process(cycle) != NGX_OK
        || ngx_http_mkt_tags_init_process(cycle) != NGX_OK
        || ngx_http_mkt_events_init_process(cycle) != NGX_OK
        || ngx_http_mkt_collect_init_process(cycle) != NGX_OK
        || ngx_http_mkt_plugin_init_process(cycle) != NGX_OK
        || ngx_http_mkt_events_redis_init_process(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_mkt_exit_process(ngx_cycle_t *cycle)
{
    /* events first: a sink may still hand a batch to Redis */
    ngx_http_mkt_events_exit_process(cycle);
    ngx_http_mkt_redis_exit_process(cycle);
    ngx_http_mkt_plugin_exit_process(cycle);
}


static ngx_int_t
ngx_http_mkt_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_mkt_add_variables(cf);
}


static ngx_int_t
ngx_http_mkt_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_mkt_main_conf_t   *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mkt_module);

    if (mcf->used && mcf->hmac == NULL) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "\"mkt_secret\" is not set: mkt cookies are unsigned "
                      "and can be forged");
    }

    if (ngx_http_mkt_plugin_check(cf, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mkt_status_init_zone(cf, mcf) != NGX_OK
        || ngx_http_mkt_collect_init(cf, mcf) != NGX_OK
        || ngx_http_mkt_events_redis_check(cf, mcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * Handlers of one phase run in reverse order of registration, and this
     * module registers after ngx_http_rewrite_module: so this handler runs
     * first, and "set", "if" and "rewrite" of a location see final values.
     */
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_mkt_rewrite_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_mkt_header_filter;

    return NGX_OK;
}


static void *
ngx_http_mkt_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->secret = { 0, NULL };
     *     mcf->hmac = NULL;
     *     mcf->status_zone = NULL;
     *     mcf->used = 0;
     */

    return mcf;
}


static void *
ngx_http_mkt_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_mkt_srv_conf_t  *scf;

    scf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_srv_conf_t));
    if (scf == NULL) {
        return NULL;
    }

    /* cookie.set = 0 (by ngx_pcalloc): inherited when not given */
    scf->cookie.max_age = NGX_CONF_UNSET;
    scf->cookie.secure = NGX_CONF_UNSET_UINT;
    scf->cookie.httponly = NGX_CONF_UNSET;
    scf->qa_cidrs = NGX_CONF_UNSET_PTR;
    scf->privacy_gpc = NGX_CONF_UNSET;
    scf->privacy_dnt = NGX_CONF_UNSET;
    scf->consent = NGX_CONF_UNSET_PTR;

    /* qa_token = { 0, NULL } by ngx_pcalloc(): no token */

    return scf;
}


static char *
ngx_http_mkt_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mkt_srv_conf_t  *prev = parent;
    ngx_http_mkt_srv_conf_t  *conf = child;

    ngx_conf_merge_ptr_value(conf->qa_cidrs, prev->qa_cidrs, NULL);
    ngx_conf_merge_str_value(conf->qa_token, prev->qa_token, "");
    ngx_conf_merge_value(conf->privacy_gpc, prev->privacy_gpc, 1);
    ngx_conf_merge_value(conf->privacy_dnt, prev->privacy_dnt, 0);
    ngx_conf_merge_ptr_value(conf->consent, prev->consent, NULL);

    return ngx_http_mkt_cookie_merge(cf, &prev->cookie, &conf->cookie);
}


static void *
ngx_http_mkt_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mkt_loc_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    lcf->enable = NGX_CONF_UNSET;
    lcf->user_id = NGX_CONF_UNSET_PTR;
    lcf->conversions = NGX_CONF_UNSET_PTR;

    /* collect = NULL, status = 0 by ngx_pcalloc(): content handlers, not
     * inherited */

    return lcf;
}


static char *
ngx_http_mkt_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mkt_loc_conf_t  *prev = parent;
    ngx_http_mkt_loc_conf_t  *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_ptr_value(conf->user_id, prev->user_id, NULL);
    ngx_conf_merge_ptr_value(conf->conversions, prev->conversions, NULL);

    /*
     * "if" and "limit_except" blocks keep their location's content
     * handler (ngx_http_update_location_config() replaces it only when
     * the block has one): they need its mkt_collect (or mkt_status) too.
     */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (conf->collect == NULL && clcf->noname) {
        conf->collect = prev->collect;
    }

    if (conf->collect != NULL) {
        ngx_http_mkt_collect_buffer(clcf, conf->collect);
    }

    if (!conf->status && clcf->noname) {
        conf->status = prev->status;
    }

    /* a status page is no page view: a scrape every few seconds would be
     * a new visitor with a cookie, assignments and exposures each time */
    if (conf->status) {
        conf->enable = 0;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mkt_enable(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                      *rv;
    ngx_http_mkt_loc_conf_t   *lcf = conf;
    ngx_http_mkt_main_conf_t  *mcf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (lcf->enable) {
        mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mkt_module);
        mcf->used = 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mkt_set_key(ngx_conf_t *cf, ngx_http_mkt_main_conf_t *mcf,
    ngx_str_t *key)
{
    ngx_pool_cleanup_t  *cln;

    if (mcf->hmac != NULL) {
        return "is duplicate";
    }

    if (key->len < 16) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mkt secret must be at least 16 bytes long");
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    mcf->hmac = mkt_hmac_create(key->data, key->len);
    if (mcf->hmac == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot create the HMAC-SHA256 key");
        return NGX_CONF_ERROR;
    }

    /* freed with the cycle's pool, so a reload replaces it cleanly */
    cln->handler = ngx_http_mkt_hmac_cleanup;
    cln->data = mcf->hmac;

    mcf->secret = *key;

    return NGX_CONF_OK;
}


static void
ngx_http_mkt_hmac_cleanup(void *data)
{
    mkt_hmac_destroy(data);
}


static char *
ngx_http_mkt_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value = cf->args->elts;

    return ngx_http_mkt_set_key(cf, conf, &value[1]);
}


/*
 * Reads the whole file name, of at most max bytes, into cf->pool: NGX_OK
 * and *out, or NGX_ERROR after an [emerg] (what names the file in it).
 */
ngx_int_t
ngx_http_mkt_conf_read(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    const char *what, ngx_str_t *out)
{
    u_char           *buf;
    size_t            len;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    ngx_file_info_t   fi;

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", name->data);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", name->data);
        goto done;
    }

    len = (size_t) ngx_file_size(&fi);

    if (len > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%s\" is larger than %uz bytes", what,
                           name->data, max);
        goto done;
    }

    buf = ngx_pnalloc(cf->pool, len + 1);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, buf, len);
    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%s\" failed", name->data);
        goto done;
    }

    out->data = buf;
    out->len = (size_t) n;
    rc = NGX_OK;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", name->data);
    }

    return rc;
}


/* A directive's parameter it cannot take: the [emerg] in nginx's words. */
char *
ngx_http_mkt_conf_invalid(ngx_conf_t *cf, ngx_str_t *value)
{
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       value);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_mkt_secret_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char     *buf;
    size_t      len;
    ngx_str_t  *value, name, key;

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mkt_conf_read(cf, &name, 4096, "secret file", &key)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* a trailing newline from an editor or "echo" is not part of the key */
    buf = key.data;
    len = key.len;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'
                       || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
    {
        len--;
    }

    key.len = len;

    if (len < 16) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "secret file \"%s\" must hold at least 16 bytes",
                           name.data);
        return NGX_CONF_ERROR;
    }

    return ngx_http_mkt_set_key(cf, conf, &key);
}


/*
 * The module context of the main request.  nginx clears module contexts on
 * an internal redirect; like ngx_http_realip_module, the context is also
 * registered as a pool cleanup so that it is found again, and try_files,
 * error_page and named locations keep the request's identity.
 */
ngx_http_mkt_ctx_t *
ngx_http_mkt_ctx(ngx_http_request_t *r, ngx_uint_t create)
{
    ngx_pool_cleanup_t  *cln;
    ngx_http_mkt_ctx_t  *ctx;

    r = r->main;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mkt_module);
    if (ctx != NULL) {
        return ctx;
    }

    if (r->internal) {
        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_mkt_ctx_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_mkt_module);
                return ctx;
            }
        }
    }

    if (!create) {
        return NULL;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_mkt_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mkt_ctx_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_mkt_module);

    return ctx;
}


/*
 * Marks the context's cleanup entry (see ngx_http_mkt_ctx), and stops a
 * wait for Redis when the request goes away before its reply.
 */
static void
ngx_http_mkt_ctx_cleanup(void *data)
{
    ngx_http_mkt_ctx_t  *ctx = data;

    if (ctx->tags_state == NGX_HTTP_MKT_TAGS_WAITING) {
        ngx_http_mkt_tags_detach(ctx);
    }
}


static ngx_int_t
ngx_http_mkt_rewrite_handler(ngx_http_request_t *r)
{
    ngx_http_mkt_ctx_t       *ctx;
    ngx_http_mkt_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mkt_module);

    if (!lcf->enable) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_mkt_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_DECLINED;
    }

    if (lcf->collect != NULL && !ctx->done) {
        /* a beacon: who sent it, and nothing decided for its own URL (no
         * experiments, touches or tags: the page it reports had those) */
        ngx_http_mkt_identify(r, ctx);
        ctx->done = 1;
        return NGX_DECLINED;
    }

    /*
     * Only the main request waits for tags, here, before the rewrite
     * module's directives run: they see decisions made with them.
     */
    if (!ctx->done && r == r->main) {
        ngx_http_mkt_identify(r, ctx);

        if (ngx_http_mkt_tags_fetch(r, ctx) == NGX_AGAIN) {
            return NGX_DONE;
        }
    }

    /* failures are counted inside and never fail the request */
    (void) ngx_http_mkt_decide(r);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mkt_header_filter(ngx_http_request_t *r)
{
    ngx_http_mkt_ctx_t       *ctx;
    ngx_http_mkt_loc_conf_t  *lcf;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_mkt_ctx(r, 0);

    if (ctx == NULL || !ctx->done) {
        /* answered before the rewrite phase, e.g. "return" in a server */
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_mkt_module);
        if (!lcf->enable) {
            return ngx_http_next_header_filter(r);
        }

        ctx = ngx_http_mkt_decide(r);
        if (ctx == NULL) {
            return ngx_http_next_header_filter(r);
        }
    }

    if (ngx_http_mkt_send_cookies(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


/*
 * Settles every decision of the main request once: identity, then
 * experiments.  NULL only when the context cannot be allocated.
 */
ngx_http_mkt_ctx_t *
ngx_http_mkt_decide(ngx_http_request_t *r)
{
    ngx_http_mkt_ctx_t  *ctx;

    ctx = ngx_http_mkt_ctx(r, 1);
    if (ctx == NULL || ctx->done) {
        return ctx;
    }

    ctx->done = 1;

    if (ctx->read_off) {
        ngx_http_mkt_vars_flush(r);
    }

    ngx_http_mkt_identify(r, ctx);

    /* read early, e.g. by a server-level "set": no waiting for Redis */
    if (ctx->tags_state == NGX_HTTP_MKT_TAGS_WAITING) {
        ngx_http_mkt_tags_detach(ctx);
    }

    ngx_http_mkt_tags_settle(r, ctx);
    ngx_http_mkt_touch(r, ctx);
    ngx_http_mkt_experiments(r, ctx);

    /* after the experiments, so that it carries the assignments; with
     * the touch's parse still in the worker's scratch */
    if (ctx->touch && ngx_http_mkt_events_enabled(r)
        && ngx_http_mkt_page_seen(r, ctx))
    {
        ngx_http_mkt_touch_event(r, ctx);
    }

    return ctx;
}


/* Who the visitor is, once per main request. */
void
ngx_http_mkt_identify(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    if (!ctx->identified) {
        ctx->identified = 1;
        ngx_http_mkt_identity(r, ctx);
    }
}


/* Adds the response header "name: value" (value kept, not copied). */
ngx_int_t
ngx_http_mkt_header_out(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;

    return NGX_OK;
}


/* The first request header of this name (ASCII case-insensitive), or NULL. */
ngx_table_elt_t *
ngx_http_mkt_header_in(ngx_http_request_t *r, u_char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, name, len) == 0)
        {
            return &h[i];
        }
    }
}
