/*
 * Where the visitor came from (DESIGN.md section 5): the request's
 * campaign (utm_*, click ids, channel codes), its referrer's class, the
 * first and last touch cookies _mkt_ft and _mkt_lt, and the channel.
 * Parsing runs in per-worker scratch; the request keeps only the strings
 * its variables and attributes need.
 */

#include "ngx_http_mkt_module.h"

#include "touch.h"


static void ngx_http_mkt_touch_copy(ngx_http_request_t *r, const char *s,
    size_t len, ngx_str_t *out);
static void ngx_http_mkt_touch_keep(ngx_http_request_t *r,
    const mkt_touch_t *t, ngx_str_t *out);
static ngx_uint_t ngx_http_mkt_touch_found(void *data, const char *val,
    size_t len);
static ngx_uint_t ngx_http_mkt_touch_present(void *data, const char *val,
    size_t len);
static ngx_uint_t ngx_http_mkt_touch_heal(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, mkt_touch_t *t);
static ngx_uint_t ngx_http_mkt_touch_checked(void *data, const char *val,
    size_t len);
static ngx_int_t ngx_http_mkt_variable_touch(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data, ngx_uint_t which);
static ngx_int_t ngx_http_mkt_variable_ft(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mkt_variable_lt(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mkt_variable_channel(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#define ngx_http_mkt_ctx_str(field)                                           \
    offsetof(ngx_http_mkt_ctx_t, field)

ngx_http_variable_t  ngx_http_mkt_touch_vars[] = {

    { ngx_string("mkt_utm_source"), NULL, ngx_http_mkt_variable_str,
      ngx_http_mkt_ctx_str(utm[MKT_UTM_SOURCE]), 0, 0 },

    { ngx_string("mkt_utm_medium"), NULL, ngx_http_mkt_variable_str,
      ngx_http_mkt_ctx_str(utm[MKT_UTM_MEDIUM]), 0, 0 },

    { ngx_string("mkt_utm_campaign"), NULL, ngx_http_mkt_variable_str,
      ngx_http_mkt_ctx_str(utm[MKT_UTM_CAMPAIGN]), 0, 0 },

    { ngx_string("mkt_utm_term"), NULL, ngx_http_mkt_variable_str,
      ngx_http_mkt_ctx_str(utm[MKT_UTM_TERM]), 0, 0 },

    { ngx_string("mkt_utm_content"), NULL, ngx_http_mkt_variable_str,
      ngx_http_mkt_ctx_str(utm[MKT_UTM_CONTENT]), 0, 0 },

    { ngx_string("mkt_click_id"), NULL, ngx_http_mkt_variable_str,
      ngx_http_mkt_ctx_str(click_id), 0, 0 },

    { ngx_string("mkt_ft_source"), NULL, ngx_http_mkt_variable_ft,
      ngx_http_mkt_ctx_str(ft[MKT_TF_SOURCE]), 0, 0 },

    { ngx_string("mkt_ft_medium"), NULL, ngx_http_mkt_variable_ft,
      ngx_http_mkt_ctx_str(ft[MKT_TF_MEDIUM]), 0, 0 },

    { ngx_string("mkt_ft_campaign"), NULL, ngx_http_mkt_variable_ft,
      ngx_http_mkt_ctx_str(ft[MKT_TF_CAMPAIGN]), 0, 0 },

    { ngx_string("mkt_lt_source"), NULL, ngx_http_mkt_variable_lt,
      ngx_http_mkt_ctx_str(lt[MKT_TF_SOURCE]), 0, 0 },

    { ngx_string("mkt_lt_medium"), NULL, ngx_http_mkt_variable_lt,
      ngx_http_mkt_ctx_str(lt[MKT_TF_MEDIUM]), 0, 0 },

    { ngx_string("mkt_lt_campaign"), NULL, ngx_http_mkt_variable_lt,
      ngx_http_mkt_ctx_str(lt[MKT_TF_CAMPAIGN]), 0, 0 },

    { ngx_string("mkt_channel"), NULL, ngx_http_mkt_variable_channel, 0, 0,
      0 },

      ngx_http_null_variable
};


/* per worker: parsing scratch, too large for every request's pool */
static mkt_utm_t       ngx_http_mkt_utm;
static mkt_referrer_t  ngx_http_mkt_referrer;
static mkt_touch_t     ngx_http_mkt_req_touch;
static mkt_touch_t     ngx_http_mkt_ft_touch;
static mkt_touch_t     ngx_http_mkt_lt_touch;

/* without mkt_config: no channel codes, no extra hosts */
static mkt_channels_t   ngx_http_mkt_no_channels;
static mkt_referrers_t  ngx_http_mkt_no_referrers;


typedef struct {
    mkt_hmac_t                *hmac;
    time_t                     now;
    mkt_touch_t               *touch;
    ngx_uint_t                 seen;      /* values tried */
    ngx_str_t                  checked;   /* the value whose check passed */
} ngx_http_mkt_touch_find_t;


static void ngx_http_mkt_touch_verdict(ngx_http_request_t *r,
    ngx_uint_t found, ngx_http_mkt_touch_find_t *f);


/*
 * The request's touch, the visitor's first and last touches, and which
 * touch cookies to send.  Untracked requests (mkt_privacy) keep their
 * campaign variables but read and write no touch cookie.
 */
void
ngx_http_mkt_touch(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    time_t                      now;
    u_char                     *p;
    size_t                      n;
    unsigned                    plan;
    ngx_uint_t                  i, has_ft;
    ngx_table_elt_t            *h;
    const mkt_channels_t       *channels;
    const mkt_referrers_t      *referrers;
    ngx_http_mkt_main_conf_t   *mcf;
    ngx_http_mkt_touch_find_t   f;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    now = ngx_time();

    channels = mcf->config ? mkt_config_channels(mcf->config)
                           : &ngx_http_mkt_no_channels;
    referrers = mcf->config ? mkt_config_referrers(mcf->config)
                            : &ngx_http_mkt_no_referrers;

    mkt_utm_parse(channels, (char *) r->args.data, r->args.len,
                  &ngx_http_mkt_utm);

    for (i = 0; i < MKT_UTM_FIELDS; i++) {
        ngx_http_mkt_touch_copy(r, ngx_http_mkt_utm.value[i],
                                ngx_http_mkt_utm.len[i], &ctx->utm[i]);
    }

    ngx_http_mkt_touch_copy(r, ngx_http_mkt_utm.click,
                            ngx_http_mkt_utm.click_len, &ctx->click_id);

    h = r->headers_in.referer;
    mkt_referrer_classify(referrers, h ? (char *) h->value.data : NULL,
                          h ? h->value.len : 0,
                          (char *) r->headers_in.server.data,
                          r->headers_in.server.len, &ngx_http_mkt_referrer);

    mkt_touch_of_request(referrers, &ngx_http_mkt_utm, &ngx_http_mkt_referrer,
                         now, &ngx_http_mkt_req_touch);

    if (ngx_http_mkt_req_touch.kind == MKT_TOUCH_EXTERNAL) {
        ctx->touch = 1;
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_touches);
    }

    if (ctx->no_tracking) {
        ctx->channel = mkt_touch_visit_channel(&ngx_http_mkt_req_touch, NULL);
        return;
    }

    /* whether the visitor has a first touch matters only to a request
     * that may write one, and its fields not at all: checked, not
     * decoded; for a direct visit, which could only write "(direct)",
     * its frame is enough (mkt_touch_present()), the most common
     * request of a returning visitor then verifies no touch cookie */
    has_ft = 0;
    f.seen = 0;
    ngx_str_null(&f.checked);

    if (ngx_http_mkt_req_touch.kind != MKT_TOUCH_INTERNAL) {
        f.hmac = mcf->hmac;
        f.now = now;
        has_ft = ngx_http_mkt_cookie_each_of(r, ctx, NGX_HTTP_MKT_COOKIE_FT,
                     ngx_http_mkt_req_touch.kind == MKT_TOUCH_DIRECT
                     ? ngx_http_mkt_touch_present : ngx_http_mkt_touch_checked,
                     &f);
        ngx_http_mkt_touch_verdict(r, has_ft, &f);

        /* decoding it later need not verify it again */
        ctx->ft_checked = f.checked;
        ctx->ft_direct = (ngx_http_mkt_req_touch.kind == MKT_TOUCH_DIRECT);
    }

    plan = mkt_touch_plan(&ngx_http_mkt_req_touch, (int) has_ft);

    /* what the request writes is kept now; what the cookies hold is read
     * when asked for (ngx_http_mkt_touch_settle) */
    if (plan & MKT_TOUCH_SET_FT) {
        ngx_http_mkt_touch_keep(r, &ngx_http_mkt_req_touch, ctx->ft);

    } else if (has_ft || f.seen == 0) {
        /* not when its check refused every value: decoding would too */
        ctx->ft_pending = 1;
    }

    if (plan & MKT_TOUCH_SET_LT) {
        ngx_http_mkt_touch_keep(r, &ngx_http_mkt_req_touch, ctx->lt);

    } else {
        ctx->lt_pending = 1;
    }

    if (ngx_http_mkt_req_touch.kind == MKT_TOUCH_EXTERNAL) {
        ctx->channel = mkt_touch_visit_channel(&ngx_http_mkt_req_touch, NULL);

    } else {
        ctx->channel_pending = 1;    /* the last touch's */
    }

    if (plan == 0) {
        return;
    }

    /* the cookies to send: the request's touch, signed */
    p = ngx_pnalloc(r->pool, MKT_TOUCH_COOKIE_MAX);
    if (p == NULL) {
        return;
    }

    n = mkt_touch_encode(mcf->hmac, &ngx_http_mkt_req_touch, (char *) p);
    if (n == 0) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_id_failures);
        return;
    }

    if (plan & MKT_TOUCH_SET_FT) {
        ctx->ft_cookie.data = p;
        ctx->ft_cookie.len = n;
    }

    if (plan & MKT_TOUCH_SET_LT) {
        ctx->lt_cookie.data = p;
        ctx->lt_cookie.len = n;
    }
}


/*
 * The touch event of a request that is a touch (ctx->touch), made from
 * the parse ngx_http_mkt_touch() left in this worker's scratch: call it
 * in the same run of the handler, before another request can parse.
 */
void
ngx_http_mkt_touch_event(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    ngx_uint_t   i;
    mkt_str_t    s;
    const char  *channel;
    mkt_event_t  ev;

    ngx_http_mkt_event_from_request(r, ctx, MKT_EVENT_TOUCH, &ev);

    mkt_event_set_utm(&ev, &ngx_http_mkt_utm);

    /* the touch's referrer: none when it came from the same site (a
     * tagged internal link), whose host is no source */
    ev.referrer = mkt_touch_get(&ngx_http_mkt_req_touch, MKT_TF_REFERRER);

    channel = mkt_channel_name(ctx->channel);
    ev.channel.data = channel;
    ev.channel.len = ngx_strlen(channel);

    /* lt: the touch itself, whatever the cookie keeps */
    for (i = 0; i < MKT_EVENT_TOUCH_FIELDS; i++) {
        s = mkt_touch_get(&ngx_http_mkt_req_touch, (mkt_touch_field_e) i);
        ev.lt[i] = s;
    }

    if (ngx_http_mkt_event_emit(r, &ev) == NGX_OK) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_events_touches);
    }
}


/*
 * After a touch cookie was looked for: when values were sent and none
 * verified, counted (as absent, it is no touch), once per name and
 * request.
 */
static void
ngx_http_mkt_touch_verdict(ngx_http_request_t *r, ngx_uint_t found,
    ngx_http_mkt_touch_find_t *f)
{
    if (!found && f->seen) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_bad_touch_cookies);
    }
}


/* A touch cookie that verifies; a bad one is as good as none. */
static ngx_uint_t
ngx_http_mkt_touch_found(void *data, const char *val, size_t len)
{
    ngx_http_mkt_touch_find_t  *f = data;

    f->seen++;

    if ((u_char *) val == f->checked.data && len == f->checked.len) {
        return mkt_touch_decode_checked(val, len, f->touch) == MKT_COOKIE_OK;
    }

    return mkt_touch_decode(f->hmac, val, len, f->now, f->touch)
           == MKT_COOKIE_OK;
}


/* A touch cookie's frame and time, unverified (a direct visit's). */
static ngx_uint_t
ngx_http_mkt_touch_present(void *data, const char *val, size_t len)
{
    ngx_http_mkt_touch_find_t  *f = data;

    f->seen++;

    return mkt_touch_present(val, len, f->now) == MKT_COOKIE_OK;
}


/* The same without its fields: its frame, time and signature. */
static ngx_uint_t
ngx_http_mkt_touch_checked(void *data, const char *val, size_t len)
{
    ngx_http_mkt_touch_find_t  *f = data;

    mkt_channel_e  channel;

    f->seen++;

    if (mkt_touch_check(f->hmac, val, len, f->now, &channel)
        != MKT_COOKIE_OK)
    {
        return 0;
    }

    f->checked.data = (u_char *) val;
    f->checked.len = len;

    return 1;
}


/*
 * A direct visit took a first touch for one by its frame, and reading it
 * refuses it (a forged value, or one signed with a key since rotated):
 * this visit writes the direct first touch it would have written had it
 * verified the signature then, so that a bad cookie does not stay.  1
 * when t holds it.
 */
static ngx_uint_t
ngx_http_mkt_touch_heal(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    mkt_touch_t *t)
{
    u_char                    *p;
    size_t                     n;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);

    mkt_touch_direct(ngx_time(), t);

    p = ngx_pnalloc(r->pool, MKT_TOUCH_COOKIE_MAX);
    if (p == NULL) {
        return 0;
    }

    n = mkt_touch_encode(mcf->hmac, t, (char *) p);
    if (n == 0) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_id_failures);
        return 0;
    }

    ctx->ft_cookie.data = p;
    ctx->ft_cookie.len = n;

    /* read by a header filter after this module's had sent the others */
    if (ctx->cookie_sent
        && ngx_http_mkt_send_cookie(r->main, NGX_HTTP_MKT_COOKIE_FT,
                                    &ctx->ft_cookie)
           != NGX_OK)
    {
        return 0;
    }

    return 1;
}


/* One touch cookie (which) decoded into t and kept in out, when one
 * verifies; a rejected one counted.  Whether one did. */
static ngx_uint_t
ngx_http_mkt_touch_read(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    ngx_uint_t which, mkt_touch_t *t, ngx_str_t *out,
    ngx_http_mkt_touch_find_t *f)
{
    ngx_uint_t  found;

    f->touch = t;
    f->seen = 0;

    if (which == NGX_HTTP_MKT_COOKIE_FT) {
        f->checked = ctx->ft_checked;

    } else {
        ngx_str_null(&f->checked);
    }

    found = ngx_http_mkt_cookie_each_of(r, ctx, which,
                                        ngx_http_mkt_touch_found, f);
    ngx_http_mkt_touch_verdict(r, found, f);

    if (!found && f->seen && which == NGX_HTTP_MKT_COOKIE_FT
        && ctx->ft_direct && !r->main->header_sent)
    {
        found = ngx_http_mkt_touch_heal(r, ctx, t);
    }

    if (found) {
        ngx_http_mkt_touch_keep(r, t, out);
    }

    return found;
}


/*
 * The visitor's first and/or last touches (which) from its cookies, and
 * with the last the channel of a request that is no touch, when a
 * variable, an attribute or an event first asks: most requests never do,
 * decoding costs more than checking, and a rule on lt.* needs no ft.
 */
void
ngx_http_mkt_touch_settle(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    ngx_uint_t which)
{
    ngx_uint_t                  has_lt;
    ngx_http_mkt_main_conf_t   *mcf;
    ngx_http_mkt_touch_find_t   f;

    if (!(ctx->ft_pending && (which & NGX_HTTP_MKT_SETTLE_FT))
        && !(ctx->lt_pending && (which & NGX_HTTP_MKT_SETTLE_LT)))
    {
        return;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    f.hmac = mcf->hmac;
    f.now = ngx_time();

    if (ctx->ft_pending && (which & NGX_HTTP_MKT_SETTLE_FT)) {
        ctx->ft_pending = 0;
        (void) ngx_http_mkt_touch_read(r, ctx, NGX_HTTP_MKT_COOKIE_FT,
                                       &ngx_http_mkt_ft_touch, ctx->ft, &f);
    }

    if (ctx->lt_pending && (which & NGX_HTTP_MKT_SETTLE_LT)) {
        ctx->lt_pending = 0;
        has_lt = ngx_http_mkt_touch_read(r, ctx, NGX_HTTP_MKT_COOKIE_LT,
                                         &ngx_http_mkt_lt_touch, ctx->lt,
                                         &f);

        /* "last non-direct touch" of a request that is none */
        if (ctx->channel_pending) {
            ctx->channel_pending = 0;
            ctx->channel = has_lt ? ngx_http_mkt_lt_touch.channel
                                  : MKT_CHANNEL_DIRECT;
        }
    }
}


/* A copy in the request's pool; empty when out of memory. */
static void
ngx_http_mkt_touch_copy(ngx_http_request_t *r, const char *s, size_t len,
    ngx_str_t *out)
{
    out->len = 0;
    out->data = NULL;

    if (len == 0) {
        return;
    }

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data) {
        ngx_memcpy(out->data, s, len);
        out->len = len;
    }
}


/* ft.* / lt.* source, medium and campaign, copied to the request. */
static void
ngx_http_mkt_touch_keep(ngx_http_request_t *r, const mkt_touch_t *t,
    ngx_str_t *out)
{
    ngx_uint_t  i;
    mkt_str_t   s;

    for (i = 0; i < NGX_HTTP_MKT_TOUCH_KEPT; i++) {
        s = mkt_touch_get(t, (mkt_touch_field_e) i);
        ngx_http_mkt_touch_copy(r, s.data, s.len, &out[i]);
    }
}


/* $mkt_ft_* and $mkt_lt_*: settled first */
static ngx_int_t
ngx_http_mkt_variable_touch(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data, ngx_uint_t which)
{
    ngx_http_mkt_ctx_t  *ctx;

    ctx = ngx_http_mkt_var_ctx(r);

    if (ctx != NULL) {
        ngx_http_mkt_touch_settle(r, ctx, which);
    }

    return ngx_http_mkt_variable_str(r, v, data);
}


static ngx_int_t
ngx_http_mkt_variable_ft(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_mkt_variable_touch(r, v, data, NGX_HTTP_MKT_SETTLE_FT);
}


static ngx_int_t
ngx_http_mkt_variable_lt(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_mkt_variable_touch(r, v, data, NGX_HTTP_MKT_SETTLE_LT);
}


static ngx_int_t
ngx_http_mkt_variable_channel(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char          *name;
    ngx_http_mkt_ctx_t  *ctx;

    ctx = ngx_http_mkt_var_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_mkt_touch_settle(r, ctx, NGX_HTTP_MKT_SETTLE_LT);

    name = mkt_channel_name(ctx->channel);
    ngx_http_mkt_var_set(v, (u_char *) name, ngx_strlen(name));

    return NGX_OK;
}


/* The attribute object of a touch: {source, medium, campaign[, ...]}. */
static ngx_int_t
ngx_http_mkt_touch_object(ngx_http_request_t *r, ngx_str_t *fields,
    ngx_uint_t nfields, const char *(*name)(ngx_uint_t i), mkt_val_t *v)
{
    size_t           n;
    ngx_uint_t       i;
    const char      *key;
    mkt_val_pair_t  *pairs;

    pairs = ngx_palloc(r->pool, nfields * sizeof(mkt_val_pair_t));
    if (pairs == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < nfields; i++) {
        if (fields[i].len == 0) {
            continue;
        }

        key = name(i);
        pairs[n].key = key;
        pairs[n].key_len = ngx_strlen(key);
        pairs[n].val = mkt_val_string((char *) fields[i].data,
                                      fields[i].len);
        n++;
    }

    *v = mkt_val_object(pairs, n);

    return NGX_OK;
}


static const char *
ngx_http_mkt_utm_name(ngx_uint_t i)
{
    return mkt_utm_field_name((mkt_utm_field_e) i);
}


static const char *
ngx_http_mkt_touch_name(ngx_uint_t i)
{
    return mkt_touch_field_name((mkt_touch_field_e) i);
}


/* The attributes utm, ft, lt and channel for conditions and rules. */
ngx_int_t
ngx_http_mkt_touch_attr(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    ngx_uint_t which, mkt_val_t *v)
{
    const char  *name;

    if (which != MKT_ATTR_BIT_UTM) {
        ngx_http_mkt_touch_settle(r, ctx, which == MKT_ATTR_BIT_FT
                                          ? NGX_HTTP_MKT_SETTLE_FT
                                          : NGX_HTTP_MKT_SETTLE_LT);
    }

    switch (which) {

    case MKT_ATTR_BIT_UTM:
        return ngx_http_mkt_touch_object(r, ctx->utm, MKT_UTM_FIELDS,
                                         ngx_http_mkt_utm_name, v);

    case MKT_ATTR_BIT_FT:
        return ngx_http_mkt_touch_object(r, ctx->ft, NGX_HTTP_MKT_TOUCH_KEPT,
                                         ngx_http_mkt_touch_name, v);

    case MKT_ATTR_BIT_LT:
        return ngx_http_mkt_touch_object(r, ctx->lt, NGX_HTTP_MKT_TOUCH_KEPT,
                                         ngx_http_mkt_touch_name, v);

    default: /* MKT_ATTR_BIT_CHANNEL */
        name = mkt_channel_name(ctx->channel);
        *v = mkt_val_string(name, ngx_strlen(name));
        return NGX_OK;
    }
}
