/* Experiments: the mkt_config file, a request's targeting attributes, the
 * engine's decisions with sticky buckets and QA forcing, and the
 * $mkt_exp_KEY, $mkt_experiments and $mkt_cache_key variables. */

#include "ngx_http_mkt_module.h"

#include "condition_regex.h"
#include "text.h"
#include "useragent.h"


#define NGX_HTTP_MKT_ATTRS_MAX      32
#define NGX_HTTP_MKT_QUERY_VAL_MAX  256
#define NGX_HTTP_MKT_HEADER_VAL_MAX 512

/* the a->data of query and header */
#define NGX_HTTP_MKT_ATTR_QUERY     0
#define NGX_HTTP_MKT_ATTR_HEADER    1


typedef struct {
    ngx_http_request_t        *r;
    ngx_http_mkt_ctx_t        *ctx;
    ngx_uint_t                 data;     /* of the attribute being built */
} ngx_http_mkt_attr_ctx_t;

typedef ngx_int_t (*ngx_http_mkt_attr_pt)(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);

typedef struct {
    uint32_t                   flag;
    const char                *name;
    ngx_http_mkt_attr_pt       get;
    ngx_uint_t                 data;     /* for get, as a->data */
} ngx_http_mkt_attr_t;


static ngx_int_t ngx_http_mkt_attr_id(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_vid(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_uid(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_new(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_tags(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_host(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_path(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_device(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_browser(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_dow(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_hour(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_args(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_touch(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);
static ngx_int_t ngx_http_mkt_attr_geo(ngx_http_mkt_attr_ctx_t *a,
    mkt_val_t *v);

static ngx_int_t ngx_http_mkt_variable_exp(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mkt_variable_slot(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mkt_variable_decisions(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/* The attributes a request offers conditions: one line each. */
static ngx_http_mkt_attr_t  ngx_http_mkt_attrs[] = {
    { MKT_ATTR(ID), "id", ngx_http_mkt_attr_id, 0 },
    { MKT_ATTR(VID), "vid", ngx_http_mkt_attr_vid, 0 },
    { MKT_ATTR(UID), "uid", ngx_http_mkt_attr_uid, 0 },
    { MKT_ATTR(NEW), "new", ngx_http_mkt_attr_new, 0 },
    { MKT_ATTR(TAGS), "tags", ngx_http_mkt_attr_tags, 0 },
    { MKT_ATTR(HOST), "host", ngx_http_mkt_attr_host, 0 },
    { MKT_ATTR(PATH), "path", ngx_http_mkt_attr_path, 0 },
    { MKT_ATTR(DEVICE), "device", ngx_http_mkt_attr_device, 0 },
    { MKT_ATTR(BROWSER), "browser", ngx_http_mkt_attr_browser, 0 },
    { MKT_ATTR(DOW), "dow", ngx_http_mkt_attr_dow, 0 },
    { MKT_ATTR(HOUR), "hour", ngx_http_mkt_attr_hour, 0 },
    { MKT_ATTR(QUERY), "query", ngx_http_mkt_attr_args,
      NGX_HTTP_MKT_ATTR_QUERY },
    { MKT_ATTR(HEADER), "header", ngx_http_mkt_attr_args,
      NGX_HTTP_MKT_ATTR_HEADER },
    { MKT_ATTR(GEO), "geo", ngx_http_mkt_attr_geo, 0 },
    { MKT_ATTR(UTM), "utm", ngx_http_mkt_attr_touch, MKT_ATTR_BIT_UTM },
    { MKT_ATTR(FT), "ft", ngx_http_mkt_attr_touch, MKT_ATTR_BIT_FT },
    { MKT_ATTR(LT), "lt", ngx_http_mkt_attr_touch, MKT_ATTR_BIT_LT },
    { MKT_ATTR(CHANNEL), "channel", ngx_http_mkt_attr_touch,
      MKT_ATTR_BIT_CHANNEL },
    { 0, NULL, NULL, 0 }
};



ngx_http_variable_t  ngx_http_mkt_exp_vars[] = {

    { ngx_string("mkt_exp_"), NULL, ngx_http_mkt_variable_exp, 0,
      NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("mkt_slot_"), NULL, ngx_http_mkt_variable_slot, 0,
      NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("mkt_experiments"), NULL, ngx_http_mkt_variable_decisions,
      0, 0, 0 },

    { ngx_string("mkt_cache_key"), NULL, ngx_http_mkt_variable_decisions,
      1, 0, 0 },

      ngx_http_null_variable
};


/* per worker: the engine writes here, the request keeps a copy */
static mkt_exp_result_t  *ngx_http_mkt_scratch;
static mkt_sticky_t       ngx_http_mkt_sticky;


static void
ngx_http_mkt_config_diag(void *data, mkt_diag_level_e level, const char *msg)
{
    ngx_conf_t  *cf = data;

    ngx_conf_log_error(level == MKT_DIAG_ERROR ? NGX_LOG_EMERG : NGX_LOG_WARN,
                       cf, 0, "%s", msg);
}


static void
ngx_http_mkt_config_cleanup(void *data)
{
    mkt_config_free(data);
}


char *
ngx_http_mkt_config(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_main_conf_t  *mcf = conf;

    ngx_str_t           *value, name;
    ngx_pool_cleanup_t  *cln;

    if (mcf->config != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * Read once here, at "nginx -t" and on reload: a bad file fails the
     * new cycle and the old configuration keeps serving.
     */
    mcf->config = mkt_config_load((char *) name.data,
                                  ngx_http_mkt_config_diag, cf);
    if (mcf->config == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_mkt_config_cleanup;
    cln->data = mcf->config;

    if (ngx_http_mkt_exposures_conf(cf, mcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_mkt_experiments_init_process(ngx_cycle_t *cycle)
{
    size_t                     n;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mkt_module);

    if (mcf == NULL || mcf->config == NULL) {
        return NGX_OK;
    }

    n = mkt_config_experiment_count(mcf->config);

    ngx_http_mkt_scratch = ngx_palloc(cycle->pool,
                                      (n ? n : 1) * sizeof(mkt_exp_result_t));
    if (ngx_http_mkt_scratch == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* --- attributes --------------------------------------------------------- */

static mkt_val_t
ngx_http_mkt_str_val(ngx_str_t *s)
{
    return mkt_val_string((char *) s->data, s->len);
}


static ngx_int_t
ngx_http_mkt_attr_id(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    if (a->ctx->uid.len) {
        *v = ngx_http_mkt_str_val(&a->ctx->uid);
        return NGX_OK;
    }

    return ngx_http_mkt_attr_vid(a, v);
}


static ngx_int_t
ngx_http_mkt_attr_vid(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    if (!a->ctx->has_vid) {
        return NGX_DECLINED;
    }

    *v = mkt_val_string((char *) a->ctx->vid, MKT_VID_LEN);
    return NGX_OK;
}


static ngx_int_t
ngx_http_mkt_attr_uid(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    if (a->ctx->uid.len == 0) {
        return NGX_DECLINED;
    }

    *v = ngx_http_mkt_str_val(&a->ctx->uid);
    return NGX_OK;
}


static ngx_int_t
ngx_http_mkt_attr_new(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    *v = mkt_val_bool(a->ctx->is_new);
    return NGX_OK;
}


/* always an array, empty without tags: {"tags": {"$size": 0}} works */
static ngx_int_t
ngx_http_mkt_attr_tags(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    *v = mkt_val_array(a->ctx->tag_items, a->ctx->ntags);
    return NGX_OK;
}


static ngx_int_t
ngx_http_mkt_attr_host(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    /* validated and lowercased by nginx */
    if (a->r->headers_in.server.len == 0) {
        return NGX_DECLINED;
    }

    *v = ngx_http_mkt_str_val(&a->r->headers_in.server);
    return NGX_OK;
}


static ngx_int_t
ngx_http_mkt_attr_path(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    *v = ngx_http_mkt_str_val(&a->r->uri);
    return NGX_OK;
}


static mkt_ua_t *
ngx_http_mkt_ua(ngx_http_mkt_attr_ctx_t *a)
{
    return ngx_http_mkt_request_ua(a->r, a->ctx);
}


static ngx_int_t
ngx_http_mkt_attr_device(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    const char  *name;

    name = mkt_ua_device_name(ngx_http_mkt_ua(a)->device);
    *v = mkt_val_string(name, ngx_strlen(name));
    return NGX_OK;
}


static ngx_int_t
ngx_http_mkt_attr_browser(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    const char  *name;

    name = mkt_ua_browser_name(ngx_http_mkt_ua(a)->browser);
    *v = mkt_val_string(name, ngx_strlen(name));
    return NGX_OK;
}


static ngx_int_t
ngx_http_mkt_attr_dow(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    ngx_tm_t  tm;

    /* UTC, Sunday 0, as JavaScript's getUTCDay() */
    ngx_gmtime(ngx_time(), &tm);
    *v = mkt_val_number(tm.ngx_tm_wday);
    return NGX_OK;
}


static ngx_int_t
ngx_http_mkt_attr_hour(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    ngx_tm_t  tm;

    ngx_gmtime(ngx_time(), &tm);
    *v = mkt_val_number(tm.ngx_tm_hour);
    return NGX_OK;
}


/* Request text made safe: percent-decoded when asked, valid UTF-8, no
 * control characters, bounded. */
static ngx_int_t
ngx_http_mkt_clean(ngx_http_request_t *r, ngx_str_t *in, ngx_uint_t unescape,
    size_t cap, mkt_val_t *v)
{
    u_char  *dec, *dst, *out;
    size_t   len;

    len = in->len;
    dec = in->data;

    if (unescape) {
        len = ngx_min(in->len, cap * 3);

        dec = ngx_pnalloc(r->pool, len);
        if (dec == NULL) {
            return NGX_ERROR;
        }

        /* a query string: "+" is a space, "%2B" a plus, "%3F" a "?" */
        for (dst = dec, out = in->data; out < in->data + len; out++) {
            *dst++ = (*out == '+') ? ' ' : *out;
        }

        dst = dec;
        out = dec;
        ngx_unescape_uri(&dst, &out, len, 0);
        len = dst - dec;
    }

    out = ngx_pnalloc(r->pool, cap);
    if (out == NULL) {
        return NGX_ERROR;
    }

    len = mkt_text_clean((char *) out, cap, (char *) dec, len);
    *v = mkt_val_string((char *) out, len);

    return NGX_OK;
}


/* The value of query argument name, or NGX_DECLINED. */
static ngx_int_t
ngx_http_mkt_query_arg(ngx_http_request_t *r, const mkt_str_t *name,
    ngx_str_t *value)
{
    return ngx_http_arg(r, (u_char *) name->data, name->len, value);
}


/* The value of request header name (any case), or NGX_DECLINED. */
static ngx_int_t
ngx_http_mkt_header_arg(ngx_http_request_t *r, const mkt_str_t *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_http_mkt_header_in(r, (u_char *) name->data, name->len);
    if (h == NULL) {
        return NGX_DECLINED;
    }

    *value = h->value;
    return NGX_OK;
}


/*
 * The object of query.NAME or header.NAME attributes: one member per NAME
 * the config refers to and the request has, cleaned (and for a query,
 * decoded) to at most max bytes.
 */
static ngx_int_t
ngx_http_mkt_attr_named(ngx_http_request_t *r, const mkt_str_t *names,
    size_t nnames, ngx_int_t (*get)(ngx_http_request_t *r,
    const mkt_str_t *name, ngx_str_t *value), ngx_uint_t unescape,
    size_t max, mkt_val_t *v)
{
    size_t           i, n;
    ngx_str_t        raw;
    mkt_val_pair_t  *pairs;

    pairs = ngx_palloc(r->pool, (nnames + 1) * sizeof(*pairs));
    if (pairs == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < nnames; i++) {
        if (get(r, &names[i], &raw) != NGX_OK) {
            continue;
        }

        pairs[n].key = names[i].data;
        pairs[n].key_len = names[i].len;

        if (ngx_http_mkt_clean(r, &raw, unescape, max, &pairs[n].val)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        n++;
    }

    *v = mkt_val_object(pairs, n);
    return NGX_OK;
}


/* query and header (a->data: NGX_HTTP_MKT_ATTR_QUERY or _HEADER) */
static ngx_int_t
ngx_http_mkt_attr_args(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    const mkt_attr_refs_t     *refs;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(a->r, ngx_http_mkt_module);
    refs = mkt_config_attr_refs(mcf->config);

    if (a->data == NGX_HTTP_MKT_ATTR_HEADER) {
        return ngx_http_mkt_attr_named(a->r, refs->header, refs->nheader,
                                       ngx_http_mkt_header_arg, 0,
                                       NGX_HTTP_MKT_HEADER_VAL_MAX, v);
    }

    return ngx_http_mkt_attr_named(a->r, refs->query, refs->nquery,
                                   ngx_http_mkt_query_arg, 1,
                                   NGX_HTTP_MKT_QUERY_VAL_MAX, v);
}


static ngx_int_t
ngx_http_mkt_attr_geo(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    return ngx_http_mkt_geo_attr(a->r, a->ctx, v);
}


/* utm, ft, lt and channel (a->data: which) */
static ngx_int_t
ngx_http_mkt_attr_touch(ngx_http_mkt_attr_ctx_t *a, mkt_val_t *v)
{
    return ngx_http_mkt_touch_attr(a->r, a->ctx, a->data, v);
}

/*
 * One attribute by name, for a plugin's ctx.NAME; with sub, the query
 * argument (name "query") or request header ("headers") sub, cleaned as
 * query.NAME and header.NAME are.  NGX_DECLINED when there is none.
 */
ngx_int_t
ngx_http_mkt_attr_by_name(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    u_char *name, size_t len, u_char *sub, size_t sub_len, mkt_val_t *v)
{
    ngx_str_t                 raw;
    mkt_str_t                 arg;
    ngx_http_mkt_attr_t      *at;
    ngx_http_mkt_attr_ctx_t   a;

    if (sub != NULL) {
        arg.data = (char *) sub;
        arg.len = sub_len;

        if (len == 5 && ngx_strncmp(name, "query", 5) == 0) {
            return ngx_http_mkt_query_arg(r, &arg, &raw) == NGX_OK
                   ? ngx_http_mkt_clean(r, &raw, 1,
                                        NGX_HTTP_MKT_QUERY_VAL_MAX, v)
                   : NGX_DECLINED;
        }

        return ngx_http_mkt_header_arg(r, &arg, &raw) == NGX_OK
               ? ngx_http_mkt_clean(r, &raw, 0, NGX_HTTP_MKT_HEADER_VAL_MAX, v)
               : NGX_DECLINED;
    }

    for (at = ngx_http_mkt_attrs; at->name; at++) {
        if (ngx_strlen(at->name) == len
            && ngx_strncmp(at->name, name, len) == 0)
        {
            a.r = r;
            a.ctx = ctx;
            a.data = at->data;
            return at->get(&a, v);
        }
    }

    return NGX_DECLINED;
}


/* Only what the config's conditions and hash attributes refer to. */
static ngx_int_t
ngx_http_mkt_build_attrs(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    const mkt_attr_refs_t *refs, mkt_val_t *attrs)
{
    size_t                    n;
    ngx_int_t                 rc;
    uint32_t                  flags;
    mkt_val_pair_t           *pairs;
    ngx_http_mkt_attr_t      *at;
    ngx_http_mkt_attr_ctx_t   a;

    pairs = ngx_palloc(r->pool, NGX_HTTP_MKT_ATTRS_MAX * sizeof(*pairs));
    if (pairs == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&a, sizeof(a));
    a.r = r;
    a.ctx = ctx;

    /* the whole query or header object counts as referring to it */
    flags = refs->flags;
    if (flags & MKT_ATTR(QUERY_ALL)) {
        flags |= MKT_ATTR(QUERY);
    }
    if (flags & MKT_ATTR(HEADER_ALL)) {
        flags |= MKT_ATTR(HEADER);
    }

    n = 0;

    for (at = ngx_http_mkt_attrs; at->name; at++) {
        if (!(flags & at->flag)) {
            continue;
        }

        a.data = at->data;
        rc = at->get(&a, &pairs[n].val);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            pairs[n].key = at->name;
            pairs[n].key_len = ngx_strlen(at->name);
            n++;
        }
    }

    *attrs = mkt_val_object(pairs, n);
    return NGX_OK;
}


/* --- decisions ---------------------------------------------------------- */

static ngx_uint_t
ngx_http_mkt_sticky_found(void *data, const char *val, size_t len)
{
    mkt_cookie_status_e   rc;
    ngx_http_request_t   *r = data;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);

    rc = mkt_sticky_decode(mcf->hmac, val, len, &ngx_http_mkt_sticky);
    if (rc == MKT_COOKIE_OK) {
        return 1;
    }

    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_bad_sticky_cookies);
    return 0;
}


static size_t
ngx_http_mkt_forced(ngx_http_request_t *r, mkt_config_t *cfg,
    mkt_force_t *forced)
{
    u_char     *dst, *src;
    size_t      len;
    ngx_str_t   arg;
    u_char      buf[MKT_FORCE_INPUT_MAX];

    if (ngx_http_arg(r, (u_char *) "mkt_force", 9, &arg) != NGX_OK) {
        return 0;
    }

    if (!ngx_http_mkt_qa_allowed(r)) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_qa_denied);
        return 0;
    }

    len = ngx_min(arg.len, MKT_FORCE_INPUT_MAX);
    dst = buf;
    src = arg.data;
    ngx_unescape_uri(&dst, &src, len, NGX_UNESCAPE_URI);

    len = mkt_force_parse(cfg, (char *) buf, dst - buf, forced);
    if (len) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_forced);
    }

    return len;
}


/*
 * Exposures (DESIGN.md section 8): one per visitor, experiment and
 * variation a day, the day kept in the sticky cookie.  Only assignments
 * by hash or sticky bucket in running experiments count: never forced
 * ones, winners of stopped experiments, HEADs, bots, prefetches or
 * untracked visitors (the caller checks ngx_http_mkt_page_seen()).
 */
static void
ngx_http_mkt_exposures(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    mkt_config_t *cfg)
{
    size_t                   i;
    unsigned                 day;
    ngx_uint_t               emit, made;
    mkt_event_t              ev;
    const mkt_exp_result_t  *res;
    const mkt_experiment_t  *e;

    day = (unsigned) (ngx_time() / 86400);
    emit = ngx_http_mkt_events_enabled(r);
    made = 0;

    for (i = 0; i < ctx->nresults; i++) {
        res = &ctx->results[i];

        if (!res->exposure || res->variation < 0) {
            continue;
        }

        e = mkt_config_experiment(cfg, res->exp);

        if (e->status != MKT_EXP_RUNNING
            || !mkt_sticky_expose(&ngx_http_mkt_sticky, e->sticky_id, day))
        {
            continue;
        }

        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_exposures);
        ngx_http_mkt_exposures_count(r, res->exp, res->variation);

        if (!emit) {
            continue;
        }

        if (!made) {
            ngx_http_mkt_event_from_request(r, ctx, MKT_EVENT_EXPOSURE, &ev);
            made = 1;
        }

        ev.exp = e->key;
        ev.var = e->variations[res->variation];

        if (ngx_http_mkt_event_emit(r, &ev) == NGX_OK) {
            ngx_http_mkt_count(r, NGX_HTTP_MKT_C_events_exposures);
        }
    }
}


void
ngx_http_mkt_experiments(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    u_char                    *p;
    size_t                     n, i, len;
    ngx_uint_t                 had_sticky;
    mkt_val_t                  attrs;
    mkt_config_t              *cfg;
    mkt_request_t              req;
    mkt_force_t                forced[MKT_FORCE_MAX];
    unsigned long              limit_hits;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    cfg = mcf->config;

    if (cfg == NULL || ngx_http_mkt_scratch == NULL
        || (mkt_config_experiment_count(cfg) == 0
            && mkt_config_slot_count(cfg) == 0))
    {
        return;
    }

    if (ngx_http_mkt_build_attrs(r, ctx, mkt_config_attr_refs(cfg), &attrs)
        != NGX_OK)
    {
        return;
    }

    ngx_http_mkt_plugin_attributes(r, ctx, &attrs);

    mkt_sticky_init(&ngx_http_mkt_sticky);
    had_sticky = ngx_http_mkt_cookie_each_of(r, ctx,
                                             NGX_HTTP_MKT_COOKIE_STICKY,
                                             ngx_http_mkt_sticky_found, r);

    ngx_memzero(&req, sizeof(req));
    req.attributes = &attrs;
    req.host = (char *) r->headers_in.server.data;
    req.host_len = r->headers_in.server.len;
    req.path = (char *) r->uri.data;
    req.path_len = r->uri.len;
    req.now = ngx_time();
    req.sticky = ctx->has_vid ? &ngx_http_mkt_sticky : NULL;
    req.no_tracking = ctx->no_tracking;
    req.forced = forced;
    req.nforced = ngx_http_mkt_forced(r, cfg, forced);

    limit_hits = mkt_cond_regex_limit_hits();

    n = mkt_experiments_eval(cfg, &req, ngx_http_mkt_scratch);

    ctx->results = ngx_palloc(r->pool, (n ? n : 1) * sizeof(mkt_exp_result_t));
    if (ctx->results == NULL) {
        return;
    }

    ngx_memcpy(ctx->results, ngx_http_mkt_scratch,
               n * sizeof(mkt_exp_result_t));
    ctx->nresults = n;

    ctx->slots = ngx_palloc(r->pool, (mkt_config_slot_count(cfg) + 1)
                                     * sizeof(mkt_slot_result_t));
    if (ctx->slots == NULL) {
        return;
    }

    /* without tracking, every slot's default, as for the holdout */
    mkt_slots_choose(cfg, &attrs,
                     ctx->no_tracking || mkt_holdout_contains(cfg, &attrs),
                     ctx->results, n, ctx->slots);
    ngx_http_mkt_plugin_choose(r, ctx);

    if (mkt_cond_regex_limit_hits() != limit_hits) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_regex_limit_hits);
    }

    if (req.sticky != NULL && ngx_http_mkt_page_seen(r, ctx)) {
        ngx_http_mkt_exposures(r, ctx, cfg);
    }

    /* one atomic add to the shared counter, not one per assignment */
    len = 0;

    for (i = 0; i < n; i++) {
        len += ctx->results[i].exposure;
    }

    if (len) {
        ngx_http_mkt_count_n(r, NGX_HTTP_MKT_C_assignments, len);
    }

    /* $mkt_experiments and $mkt_cache_key are made when read */

    if (!ngx_http_mkt_sticky.changed || req.sticky == NULL) {
        return;
    }

    p = ngx_pnalloc(r->pool, MKT_STICKY_COOKIE_MAX);
    if (p == NULL) {
        return;
    }

    if (mkt_sticky_encode(mcf->hmac, &ngx_http_mkt_sticky, cfg, (char *) p,
                          &len)
        != 0)
    {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_id_failures);
        return;
    }

    /* an empty state expires a cookie the browser still holds */
    if (len == 0 && !had_sticky) {
        return;
    }

    ctx->sticky_cookie.data = p;
    ctx->sticky_cookie.len = len;
    ctx->sticky_set = 1;
}


/* --- variables ---------------------------------------------------------- */

/*
 * The experiment of each $mkt_exp_KEY a worker reads, kept by name in a
 * small table (the slot chosen by the address of the name, which for a
 * variable in the configuration is fixed): the config's name lookup once,
 * not on every request.
 */
typedef struct {
    mkt_config_t              *cfg;
    int                        idx;
    size_t                     len;
    u_char                     name[48];
} ngx_http_mkt_exp_var_t;

#define NGX_HTTP_MKT_EXP_VARS  64

static ngx_http_mkt_exp_var_t  ngx_http_mkt_exp_var_idx[NGX_HTTP_MKT_EXP_VARS];


static int
ngx_http_mkt_exp_index(mkt_config_t *cfg, ngx_str_t *name)
{
    size_t                   prefix;
    ngx_http_mkt_exp_var_t  *c;

    c = &ngx_http_mkt_exp_var_idx[((uintptr_t) name >> 3)
                                  % NGX_HTTP_MKT_EXP_VARS];

    if (c->cfg == cfg && c->len == name->len
        && ngx_memcmp(c->name, name->data, name->len) == 0)
    {
        return c->idx;
    }

    prefix = sizeof("mkt_exp_") - 1;

    if (name->len > sizeof(c->name)) {
        return mkt_config_find_variable(cfg, (char *) name->data + prefix,
                                        name->len - prefix);
    }

    c->cfg = cfg;
    c->len = name->len;
    ngx_memcpy(c->name, name->data, name->len);
    c->idx = mkt_config_find_variable(cfg, (char *) name->data + prefix,
                                      name->len - prefix);

    return c->idx;
}


static ngx_int_t
ngx_http_mkt_variable_exp(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t                 *name = (ngx_str_t *) data;

    int                        idx;
    const mkt_exp_result_t    *res;
    const mkt_experiment_t    *exp;
    ngx_http_mkt_ctx_t        *ctx;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    ctx = ngx_http_mkt_var_ctx(r);

    /* not in the experiment, or no such experiment: empty */
    ngx_http_mkt_var_set(v, (u_char *) "", 0);

    if (ctx == NULL || mcf->config == NULL) {
        return NGX_OK;
    }

    idx = ngx_http_mkt_exp_index(mcf->config, name);
    if (idx < 0) {
        return NGX_OK;
    }

    res = mkt_experiments_find(ctx->results, ctx->nresults, (uint32_t) idx);
    if (res == NULL || res->variation < 0) {
        return NGX_OK;
    }

    exp = mkt_config_experiment(mcf->config, idx);

    ngx_http_mkt_var_set(v, (u_char *) exp->variations[res->variation].data,
                         exp->variations[res->variation].len);
    return NGX_OK;
}


/* $mkt_slot_NAME: the slot's variant; empty for no such slot */
static ngx_int_t
ngx_http_mkt_variable_slot(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                 *name = (ngx_str_t *) data;

    int                        idx;
    size_t                     prefix;
    const mkt_str_t           *variant;
    ngx_http_mkt_ctx_t        *ctx;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    ctx = ngx_http_mkt_var_ctx(r);

    ngx_http_mkt_var_set(v, (u_char *) "", 0);

    if (ctx == NULL || mcf->config == NULL || ctx->slots == NULL) {
        return NGX_OK;
    }

    prefix = sizeof("mkt_slot_") - 1;
    idx = mkt_config_find_slot_variable(mcf->config,
                                        (char *) name->data + prefix,
                                        name->len - prefix);
    if (idx < 0) {
        return NGX_OK;
    }

    variant = &mkt_config_slot(mcf->config, idx)
                   ->variants[ctx->slots[idx].variant];

    ngx_http_mkt_var_set(v, (u_char *) variant->data, variant->len);
    return NGX_OK;
}


/*
 * $mkt_experiments (data 0) and $mkt_cache_key (1), made from the
 * decisions when first read and kept for internal redirects: with many
 * experiments they cost more than the page when nothing reads them.
 */
static ngx_int_t
ngx_http_mkt_variable_decisions(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    size_t                     i, len;
    ngx_str_t                 *s;
    mkt_config_t              *cfg;
    const mkt_experiment_t    *e;
    const mkt_exp_result_t    *res;
    ngx_http_mkt_ctx_t        *ctx;
    ngx_http_mkt_main_conf_t  *mcf;

    ctx = ngx_http_mkt_var_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    cfg = mcf->config;
    s = data ? &ctx->cache_key : &ctx->experiments;

    if (s->data == NULL && cfg != NULL && ctx->slots != NULL) {
        res = ctx->results;

        /* what $mkt_experiments takes for these results */
        len = MKT_CACHE_KEY_LEN;

        for (i = 0; !data && i < ctx->nresults; i++) {
            if (res[i].variation >= 0) {
                e = mkt_config_experiment(cfg, res[i].exp);
                len += e->key.len + e->variations[res[i].variation].len + 2;
            }
        }

        s->data = ngx_pnalloc(r->pool, len);
        if (s->data == NULL) {
            return NGX_ERROR;
        }

        s->len = data ? mkt_decisions_cache_key(cfg, res, ctx->nresults,
                                                ctx->slots, (char *) s->data)
                      : mkt_experiments_format(cfg, res, ctx->nresults,
                                               (char *) s->data, len);
    }

    ngx_http_mkt_var_set(v, s->len ? s->data : (u_char *) "", s->len);
    return NGX_OK;
}
