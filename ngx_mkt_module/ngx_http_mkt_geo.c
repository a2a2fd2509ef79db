/* Geo: the mkt_geoip2 directive, one lookup per request at most (on first
 * use), the $mkt_geo_* variables and the "geo" attribute of conditions. */

#include "ngx_http_mkt_module.h"


/* a failing database or odd addresses are reported at most this often */
#define NGX_HTTP_MKT_GEO_LOG_INTERVAL  60

#define NGX_HTTP_MKT_GEO_COUNTRY  0
#define NGX_HTTP_MKT_GEO_REGION   1
#define NGX_HTTP_MKT_GEO_CITY     2


struct ngx_http_mkt_geo_conf_s {
    mkt_geo_t                 *db;
    ngx_str_t                  file;
    ngx_int_t                  source;        /* variable index, or unset */
    ngx_str_t                  source_name;   /* "$name" */
};


/* per worker */
typedef struct {
    time_t                     last;
    ngx_uint_t                 skipped;
} ngx_http_mkt_geo_limit_t;


static ngx_int_t ngx_http_mkt_geo_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


ngx_http_variable_t  ngx_http_mkt_geo_vars[] = {

    { ngx_string("mkt_geo_country"), NULL, ngx_http_mkt_geo_variable,
      NGX_HTTP_MKT_GEO_COUNTRY, 0, 0 },

    { ngx_string("mkt_geo_region"), NULL, ngx_http_mkt_geo_variable,
      NGX_HTTP_MKT_GEO_REGION, 0, 0 },

    { ngx_string("mkt_geo_city"), NULL, ngx_http_mkt_geo_variable,
      NGX_HTTP_MKT_GEO_CITY, 0, 0 },

      ngx_http_null_variable
};


static ngx_http_mkt_geo_limit_t  ngx_http_mkt_geo_errors;
static ngx_http_mkt_geo_limit_t  ngx_http_mkt_geo_bad_addresses;


static void
ngx_http_mkt_geo_cleanup(void *data)
{
    mkt_geo_close(data);
}


char *
ngx_http_mkt_geoip2(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_main_conf_t  *mcf = conf;

    u_char                     err[MKT_GEO_ERR_MAX];
    ngx_str_t                 *value, name;
    ngx_uint_t                 i;
    ngx_pool_cleanup_t        *cln;
    ngx_http_mkt_geo_conf_t   *gcf;

    if (mcf->geo != NULL) {
        return "is duplicate";
    }

    gcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_geo_conf_t));
    if (gcf == NULL) {
        return NGX_CONF_ERROR;
    }

    gcf->source = NGX_CONF_UNSET;

    value = cf->args->elts;

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_strncmp(value[i].data, "source=$", 8) == 0
            && value[i].len > 8)
        {
            gcf->source_name.data = value[i].data + 7;
            gcf->source_name.len = value[i].len - 7;

            name.data = value[i].data + 8;
            name.len = value[i].len - 8;

            gcf->source = ngx_http_get_variable_index(cf, &name);
            if (gcf->source == NGX_ERROR) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        return ngx_http_mkt_conf_invalid(cf, &value[i]);
    }

    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * Opened for each cycle and closed with its pool, as leev's
     * ngx_http_geoip2_module does: a reload maps the file anew, and a bad
     * file fails "nginx -t" and the reload, not requests.
     */
    gcf->db = mkt_geo_open((char *) name.data, (char *) err, sizeof(err));
    if (gcf->db == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_mkt_geo_cleanup;
    cln->data = gcf->db;

    gcf->file = name;
    mcf->geo = gcf;

    return NGX_CONF_OK;
}


/* 1 when a report is due; counts the ones it holds back. */
static ngx_uint_t
ngx_http_mkt_geo_log_due(ngx_http_mkt_geo_limit_t *limit, ngx_uint_t *skipped)
{
    time_t  now;

    now = ngx_time();

    if (limit->last != 0
        && now - limit->last < NGX_HTTP_MKT_GEO_LOG_INTERVAL)
    {
        limit->skipped++;
        return 0;
    }

    *skipped = limit->skipped;
    limit->skipped = 0;
    limit->last = now;

    return 1;
}


static void
ngx_http_mkt_geo_account(ngx_http_request_t *r, ngx_http_mkt_geo_conf_t *gcf,
    mkt_geo_rc_e rc, mkt_geo_loc_t *loc)
{
    ngx_str_t   client = ngx_string("the client address");
    ngx_uint_t  skipped;

    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_geo_lookups);

    switch (rc) {

    case MKT_GEO_FOUND:
        break;

    case MKT_GEO_NOT_FOUND:
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_geo_not_found);
        break;

    case MKT_GEO_BAD_ADDRESS:
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_geo_bad_address);

        /* the value comes from the client: never logged, and only at info */
        if (ngx_http_mkt_geo_log_due(&ngx_http_mkt_geo_bad_addresses,
                                     &skipped))
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "mkt_geoip2: %V is empty or not an IP address; "
                          "served without geo (%ui more not logged since "
                          "the previous report)",
                          gcf->source_name.len ? &gcf->source_name : &client,
                          skipped);
        }

        break;

    default: /* MKT_GEO_ERROR */
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_geo_errors);

        if (ngx_http_mkt_geo_log_due(&ngx_http_mkt_geo_errors, &skipped)) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mkt_geoip2: lookup in \"%V\" failed: %s; served "
                          "without geo (%ui more not logged since the "
                          "previous report)", &gcf->file, loc->error, skipped);
        }

        break;
    }
}


/*
 * The main request's location, looked up on first use and kept in its
 * context; NULL without mkt_geoip2 or when out of memory.  Failures give
 * empty fields: geo never fails a request.
 */
mkt_geo_loc_t *
ngx_http_mkt_geo_loc(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    mkt_geo_rc_e                rc;
    mkt_geo_loc_t              *loc;
    ngx_http_mkt_geo_conf_t    *gcf;
    ngx_http_mkt_main_conf_t   *mcf;
    ngx_http_variable_value_t  *vv;

    if (ctx->geo != NULL) {
        return ctx->geo;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    gcf = mcf->geo;

    if (gcf == NULL) {
        return NULL;
    }

    r = r->main;

    /* empty, and in place before the source is read: a source that reads
     * $mkt_geo_* itself finds it so instead of looking up again */
    loc = ngx_pcalloc(r->pool, sizeof(mkt_geo_loc_t));
    if (loc == NULL) {
        return NULL;
    }

    ctx->geo = loc;

    if (gcf->source == NGX_CONF_UNSET) {
        /* as the realip module left it */
        rc = mkt_geo_lookup_sockaddr(gcf->db, r->connection->sockaddr, loc);

    } else {
        vv = ngx_http_get_indexed_variable(r, gcf->source);

        if (vv == NULL || vv->not_found) {
            rc = mkt_geo_lookup(gcf->db, "", 0, loc);

        } else {
            rc = mkt_geo_lookup(gcf->db, (char *) vv->data, vv->len, loc);
        }
    }

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mkt geo: rc:%d country:\"%s\" region:\"%s\" city:\"%s\" "
                   "error:\"%s\"", rc, loc->country, loc->region, loc->city,
                   loc->error ? loc->error : "");

    ngx_http_mkt_geo_account(r, gcf, rc, loc);

    return loc;
}


static ngx_int_t
ngx_http_mkt_geo_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    mkt_geo_loc_t       *loc;
    ngx_http_mkt_ctx_t  *ctx;

    ctx = ngx_http_mkt_var_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    loc = ngx_http_mkt_geo_loc(r, ctx);

    if (loc == NULL) {
        ngx_http_mkt_var_set(v, (u_char *) "", 0);
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_MKT_GEO_COUNTRY:
        ngx_http_mkt_var_set(v, (u_char *) loc->country, loc->country_len);
        break;

    case NGX_HTTP_MKT_GEO_REGION:
        ngx_http_mkt_var_set(v, (u_char *) loc->region, loc->region_len);
        break;

    default: /* NGX_HTTP_MKT_GEO_CITY */
        ngx_http_mkt_var_set(v, (u_char *) loc->city, loc->city_len);
        break;
    }

    return NGX_OK;
}


static void
ngx_http_mkt_geo_member(mkt_val_pair_t *pairs, size_t *n, const char *key,
    const char *val, size_t len)
{
    if (len == 0) {
        return;
    }

    pairs[*n].key = key;
    pairs[*n].key_len = ngx_strlen(key);
    pairs[*n].val = mkt_val_string(val, len);
    (*n)++;
}


/*
 * The "geo" attribute: {country, region, city}, each member present only
 * when known; absent altogether without mkt_geoip2.
 */
ngx_int_t
ngx_http_mkt_geo_attr(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    mkt_val_t *v)
{
    size_t                     n;
    mkt_geo_loc_t             *loc;
    mkt_val_pair_t            *pairs;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);

    if (mcf->geo == NULL) {
        return NGX_DECLINED;
    }

    loc = ngx_http_mkt_geo_loc(r, ctx);
    if (loc == NULL) {
        return NGX_ERROR;
    }

    pairs = ngx_palloc(r->pool, 3 * sizeof(mkt_val_pair_t));
    if (pairs == NULL) {
        return NGX_ERROR;
    }

    n = 0;
    ngx_http_mkt_geo_member(pairs, &n, "country", loc->country,
                            loc->country_len);
    ngx_http_mkt_geo_member(pairs, &n, "region", loc->region, loc->region_len);
    ngx_http_mkt_geo_member(pairs, &n, "city", loc->city, loc->city_len);

    *v = mkt_val_object(pairs, n);

    return NGX_OK;
}
