/*
 * Conversions (DESIGN.md section 8), from the beacon endpoint
 * (ngx_http_mkt_collect.c) or from mkt_conversion in the log phase of a
 * location that answered 2xx: the visitor, assignments and touches they
 * carry, and their dedup on (goal, order) (ngx_http_mkt_dedup.c).
 */

#include "ngx_http_mkt_collect.h"

#include "sticky.h"


/* one mkt_conversion directive */
typedef struct {
    ngx_str_t                  goal;
    ngx_http_complex_value_t  *field[MKT_BEACON_FIELDS];  /* value,
                                               * currency, order, or NULL */
    u_char                    *file;          /* where it was written */
    ngx_uint_t                 line;
} ngx_http_mkt_conversion_t;


static ngx_int_t ngx_http_mkt_conversion_log(ngx_http_request_t *r);


/* per worker: cookie scratch, read and emitted in one run of a handler */
static mkt_sticky_t  ngx_http_mkt_conversion_sticky;
static mkt_touch_t   ngx_http_mkt_conversion_touch[2];   /* ft, lt */


/* mkt_conversion GOAL [value=V] [currency=C] [order=O] */
char *
ngx_http_mkt_conversion(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_loc_conf_t  *lcf = conf;

    ngx_str_t                         *value, s;
    ngx_uint_t                         i, f;
    ngx_http_mkt_conversion_t         *cv, *copy;
    ngx_http_mkt_collect_main_t       *cm;
    ngx_http_compile_complex_value_t   ccv;

    cm = ngx_http_mkt_collect_main(cf);
    if (cm == NULL) {
        return NGX_CONF_ERROR;
    }

    if (lcf->conversions == NGX_CONF_UNSET_PTR) {
        lcf->conversions = ngx_array_create(cf->pool, 1,
                                            sizeof(ngx_http_mkt_conversion_t));
        if (lcf->conversions == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    cv = ngx_array_push(lcf->conversions);
    if (cv == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(cv, sizeof(ngx_http_mkt_conversion_t));

    value = cf->args->elts;

    /* checked against the config's goals in postconfiguration: mkt_config
     * may come later in the http block */
    cv->goal = value[1];
    cv->file = cf->conf_file->file.name.data;
    cv->line = cf->conf_file->line;

    for (i = 2; i < cf->args->nelts; i++) {

        for (f = MKT_BEACON_VALUE; f <= MKT_BEACON_ORDER; f++) {
            s.len = ngx_strlen(mkt_beacon_field_name(f));

            if (value[i].len > s.len
                && value[i].data[s.len] == '='
                && ngx_strncmp(value[i].data, mkt_beacon_field_name(f),
                               s.len) == 0)
            {
                break;
            }
        }

        if (f > MKT_BEACON_ORDER || cv->field[f] != NULL) {
            return ngx_http_mkt_conf_invalid(cf, &value[i]);
        }

        s.data = value[i].data + s.len + 1;
        s.len = value[i].len - s.len - 1;

        cv->field[f] = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (cv->field[f] == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &s;
        ccv.complex_value = cv->field[f];

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    /* a copy, for the check of its goal: cv may move when the location's
     * array grows */
    if (cm->conversions.elts == NULL
        && ngx_array_init(&cm->conversions, cf->pool, 2,
                          sizeof(ngx_http_mkt_conversion_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    copy = ngx_array_push(&cm->conversions);
    if (copy == NULL) {
        return NGX_CONF_ERROR;
    }

    *copy = *cv;

    return NGX_CONF_OK;
}


/* From postconfiguration: the goals checked (mkt_config may come after
 * the locations), and the log-phase handler when a location needs it. */
ngx_int_t
ngx_http_mkt_conversion_init(ngx_conf_t *cf, ngx_http_mkt_main_conf_t *mcf)
{
    size_t                          i, g, ngoals;
    const mkt_str_t                *goal;
    ngx_http_handler_pt            *h;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_mkt_conversion_t      *cv;
    ngx_http_mkt_collect_main_t    *cm;

    cm = mcf->collect;
    cv = cm->conversions.elts;
    ngoals = mcf->config ? mkt_config_goal_count(mcf->config) : 0;

    for (i = 0; i < cm->conversions.nelts; i++) {
        for (g = 0; g < ngoals; g++) {
            goal = mkt_config_goal(mcf->config, g);

            if (goal->len == cv[i].goal.len
                && ngx_strncmp(goal->data, cv[i].goal.data, goal->len) == 0)
            {
                break;
            }
        }

        if (g == ngoals) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "mkt_conversion goal \"%V\" is not one of the "
                          "goals of mkt_config in %s:%ui", &cv[i].goal,
                          cv[i].file, cv[i].line);
            return NGX_ERROR;
        }
    }

    if (cm->conversions.nelts == 0) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_mkt_conversion_log;

    return NGX_OK;
}


/*
 * The main request's context for a conversion.  Where "mkt on" settled
 * the identity, that one (a new visitor may have been given a cookie);
 * elsewhere the identity is read from the cookies and never set: no
 * visitor cookie is minted or refreshed, and without a valid one the
 * conversion has no vid.
 */
ngx_http_mkt_ctx_t *
ngx_http_mkt_conversion_ctx(ngx_http_request_t *r)
{
    mkt_visitor_t            v;
    ngx_http_mkt_ctx_t      *ctx;
    mkt_cookie_status_e      bad;
    ngx_http_mkt_signals_t   sig;

    ctx = ngx_http_mkt_ctx(r, 1);

    if (ctx == NULL || ctx->identified) {
        return ctx;
    }

    ctx->identified = 1;

    ngx_http_mkt_signals(r, &sig);

    if (!ngx_http_mkt_tracking_permitted(r, &sig)) {
        ctx->no_tracking = 1;
        return ctx;
    }

    if (ngx_http_mkt_visitor_cookie(r->main, NULL, &v, &bad)) {
        ngx_memcpy(ctx->vid, v.vid, MKT_VID_LEN);
        ctx->has_vid = 1;
    }

    ngx_http_mkt_user_id(r, ctx);

    return ctx;
}


static ngx_uint_t
ngx_http_mkt_conversion_sticky_found(void *data, const char *val,
    size_t len)
{
    mkt_hmac_t  *hmac = data;

    return mkt_sticky_decode(hmac, val, len, &ngx_http_mkt_conversion_sticky)
           == MKT_COOKIE_OK;
}


/* The visitor's assignments as its _mkt_sb cookie holds them: what the
 * pages it saw decided, not what this request's URL would (a beacon's
 * path matches no experiment). */
static void
ngx_http_mkt_conversion_assign(ngx_http_request_t *r, mkt_event_t *ev)
{
    mkt_sticky_t              *st;
    mkt_event_assign_t        *a;
    ngx_http_mkt_main_conf_t  *mcf;
    ngx_str_t                  name = ngx_string(MKT_STICKY_COOKIE);

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    st = &ngx_http_mkt_conversion_sticky;

    ev->assign = NULL;
    ev->nassign = 0;

    mkt_sticky_init(st);

    if (mcf->config == NULL
        || !ngx_http_mkt_cookie_each(r, &name,
                                     ngx_http_mkt_conversion_sticky_found,
                                     mcf->hmac)
        || st->n == 0)
    {
        return;
    }

    a = ngx_palloc(r->pool, st->n * sizeof(mkt_event_assign_t));
    if (a == NULL) {
        return;
    }

    ev->assign = a;
    ev->nassign = mkt_event_assign_sticky(mcf->config, st, ngx_time(), a);
}


typedef struct {
    mkt_hmac_t                *hmac;
    mkt_touch_t               *touch;
} ngx_http_mkt_conversion_touch_t;


static ngx_uint_t
ngx_http_mkt_conversion_touch_found(void *data, const char *val, size_t len)
{
    ngx_http_mkt_conversion_touch_t  *f = data;

    return mkt_touch_decode(f->hmac, val, len, ngx_time(), f->touch)
           == MKT_COOKIE_OK;
}


/* First and last touch from _mkt_ft and _mkt_lt, verified. */
static void
ngx_http_mkt_conversion_touches(ngx_http_request_t *r, mkt_event_t *ev)
{
    ngx_uint_t                        i;
    ngx_http_mkt_main_conf_t         *mcf;
    ngx_http_mkt_conversion_touch_t   f;
    ngx_str_t                         names[2] = {
                                          ngx_string(MKT_FT_COOKIE),
                                          ngx_string(MKT_LT_COOKIE)
                                      };

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    f.hmac = mcf->hmac;

    for (i = 0; i < 2; i++) {
        f.touch = &ngx_http_mkt_conversion_touch[i];

        mkt_event_set_touch(i ? ev->lt : ev->ft,
                            ngx_http_mkt_cookie_each(r, &names[i],
                                ngx_http_mkt_conversion_touch_found, &f)
                            ? f.touch : NULL);
    }
}


/*
 * A conversion of this request without its goal: identity, geo, device,
 * host, path; with from_cookies the assignments and touches of the
 * cookies (the request made no decisions), else of the context.  Strings
 * may point into this worker's scratch: emit before the handler returns.
 */
void
ngx_http_mkt_conversion_base(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    ngx_uint_t from_cookies, mkt_event_t *ev)
{
    ngx_http_mkt_event_from_request(r, ctx, MKT_EVENT_CONVERSION, ev);

    if (!from_cookies || ctx->no_tracking) {
        return;
    }

    ngx_http_mkt_conversion_assign(r, ev);
    ngx_http_mkt_conversion_touches(r, ev);
}


/*
 * Records one conversion: NGX_OK (also when a plugin's event hook dropped
 * it), NGX_DECLINED when its (goal, order) was recorded within the dedup
 * window (it is acknowledged all the same), or NGX_ERROR when no sink
 * stored it.
 */
ngx_int_t
ngx_http_mkt_conversion_record(ngx_http_request_t *r,
    const mkt_event_t *base, const mkt_beacon_event_t *b)
{
    uint64_t                   key;
    ngx_int_t                  rc;
    ngx_uint_t                 claimed;
    mkt_event_t                ev;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);

    ev = *base;
    mkt_beacon_to_event(b, &ev);

    key = 0;
    claimed = 0;

    if (ev.order.len && ngx_http_mkt_events_enabled(r)) {
        key = mkt_event_dedup_key(mcf->collect->key, &ev.goal, &ev.order);

        if (ngx_http_mkt_dedup_claim(r, mcf->collect, key) == NGX_DECLINED) {
            ngx_http_mkt_count(r, NGX_HTTP_MKT_C_conversions_deduplicated);
            return NGX_DECLINED;
        }

        claimed = 1;
    }

    rc = ngx_http_mkt_event_emit(r, &ev);

    if (rc == NGX_DECLINED) {
        /* a plugin dropped it on purpose: acknowledged, not recorded */
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        if (claimed) {
            ngx_http_mkt_dedup_release(mcf->collect, key);
        }

        return NGX_ERROR;
    }

    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_events_conversions);

    return NGX_OK;
}


/*
 * Log phase: the conversions of mkt_conversion of the location that
 * answered, when it answered 2xx.  A value that fails the checks of the
 * collect endpoint is left out of the event (counted, logged once a
 * second): the conversion happened, whatever its variable held.
 */
static ngx_int_t
ngx_http_mkt_conversion_log(ngx_http_request_t *r)
{
    ngx_str_t                   s;
    ngx_uint_t                  i, f, status;
    mkt_event_t                 base;
    mkt_beacon_error_t          err;
    mkt_beacon_event_t          b;
    ngx_http_mkt_ctx_t         *ctx;
    ngx_http_mkt_loc_conf_t    *lcf;
    ngx_http_mkt_main_conf_t   *mcf;
    ngx_http_mkt_conversion_t  *cv;
    ngx_http_mkt_signals_t      sig;
    static time_t               logged;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mkt_module);

    /* a HEAD (a monitor) or a prefetch is no visitor seeing the page */
    if (lcf->conversions == NULL || r != r->main
        || r->method == NGX_HTTP_HEAD)
    {
        return NGX_OK;
    }

    ngx_http_mkt_signals(r, &sig);

    if (ngx_http_mkt_is_prefetch(&sig)) {
        return NGX_OK;
    }

    status = r->err_status ? r->err_status : r->headers_out.status;

    if (status < NGX_HTTP_OK || status >= NGX_HTTP_SPECIAL_RESPONSE) {
        return NGX_OK;
    }

    ctx = ngx_http_mkt_conversion_ctx(r);
    if (ctx == NULL) {
        return NGX_OK;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);

    ngx_http_mkt_conversion_base(r, ctx, !ctx->done, &base);

    cv = lcf->conversions->elts;

    for (i = 0; i < lcf->conversions->nelts; i++) {
        mkt_beacon_event_init(&b);

        if (mkt_beacon_set(mcf->config, &b, MKT_BEACON_GOAL,
                           (char *) cv[i].goal.data, cv[i].goal.len, &err)
            != MKT_BEACON_OK)
        {
            continue;
        }

        for (f = MKT_BEACON_VALUE; f <= MKT_BEACON_ORDER; f++) {
            if (cv[i].field[f] == NULL
                || ngx_http_complex_value(r, cv[i].field[f], &s) != NGX_OK
                || s.len == 0)
            {
                continue;
            }

            if (mkt_beacon_set(mcf->config, &b, f, (char *) s.data, s.len,
                               &err)
                == MKT_BEACON_OK)
            {
                continue;
            }

            ngx_http_mkt_count(r, NGX_HTTP_MKT_C_conversions_bad_values);

            if (logged != ngx_time()) {
                logged = ngx_time();
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "mkt_conversion \"%V\" recorded without %s",
                              &cv[i].goal, err.message);
            }
        }

        (void) ngx_http_mkt_conversion_record(r, &base, &b);
    }

    return NGX_OK;
}
