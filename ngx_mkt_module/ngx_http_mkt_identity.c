/* Visitor identity: the signed first-party cookie (read, verify, mint,
 * refresh), the known user id, and the mkt_cookie directive. */

#include "ngx_http_mkt_module.h"
#include "sticky.h"
#include "text.h"


#define NGX_HTTP_MKT_MAX_AGE_DEFAULT  (400 * 86400)


static ngx_conf_enum_t  ngx_http_mkt_secure[] = {
    { ngx_string("off"), NGX_HTTP_MKT_SECURE_OFF },
    { ngx_string("on"), NGX_HTTP_MKT_SECURE_ON },
    { ngx_string("auto"), NGX_HTTP_MKT_SECURE_AUTO },
    { ngx_null_string, 0 }
};


static ngx_uint_t
ngx_http_mkt_cookie_token(ngx_str_t *s)
{
    size_t  i;
    u_char  c;

    /* RFC 6265 cookie-name is an RFC 7230 token */
    for (i = 0; i < s->len; i++) {
        c = s->data[i];
        if (c <= 0x20 || c >= 0x7f || ngx_strchr("()<>@,;:\\\"/[]?={}", c)) {
            return 0;
        }
    }

    return s->len > 0;
}


static ngx_uint_t
ngx_http_mkt_attr_value(ngx_str_t *s)
{
    size_t  i;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] <= 0x20 || s->data[i] >= 0x7f || s->data[i] == ';') {
            return 0;
        }
    }

    return s->len > 0;
}


char *
ngx_http_mkt_cookie(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                        *p = conf;
    time_t                       age;
    ngx_str_t                   *value, v;
    ngx_uint_t                   i, j;
    ngx_http_mkt_cookie_conf_t  *cc;

    cc = (ngx_http_mkt_cookie_conf_t *) (p + cmd->offset);

    if (cc->set) {
        return "is duplicate";
    }

    cc->set = 1;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "name=", 5) == 0) {
            v.data = value[i].data + 5;
            v.len = value[i].len - 5;

            if (!ngx_http_mkt_cookie_token(&v)) {
                goto invalid;
            }

            cc->name = v;
            continue;
        }

        if (ngx_strncmp(value[i].data, "domain=", 7) == 0) {
            v.data = value[i].data + 7;
            v.len = value[i].len - 7;

            if (!ngx_http_mkt_attr_value(&v)) {
                goto invalid;
            }

            cc->domain = v;
            continue;
        }

        if (ngx_strncmp(value[i].data, "path=", 5) == 0) {
            v.data = value[i].data + 5;
            v.len = value[i].len - 5;

            if (!ngx_http_mkt_attr_value(&v) || v.data[0] != '/') {
                goto invalid;
            }

            cc->path = v;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_age=", 8) == 0) {
            v.data = value[i].data + 8;
            v.len = value[i].len - 8;

            age = ngx_parse_time(&v, 1);
            if (age == (time_t) NGX_ERROR) {
                goto invalid;
            }

            cc->max_age = age;
            continue;
        }

        if (ngx_strncmp(value[i].data, "secure=", 7) == 0) {
            for (j = 0; ngx_http_mkt_secure[j].name.len; j++) {
                if (ngx_strcmp(value[i].data + 7,
                               ngx_http_mkt_secure[j].name.data) == 0)
                {
                    cc->secure = ngx_http_mkt_secure[j].value;
                    break;
                }
            }

            if (ngx_http_mkt_secure[j].name.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "samesite=", 9) == 0) {
            if (ngx_strcmp(value[i].data + 9, "lax") == 0) {
                ngx_str_set(&cc->samesite, "Lax");

            } else if (ngx_strcmp(value[i].data + 9, "strict") == 0) {
                ngx_str_set(&cc->samesite, "Strict");

            } else if (ngx_strcmp(value[i].data + 9, "none") == 0) {
                ngx_str_set(&cc->samesite, "None");

            } else {
                goto invalid;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "httponly=on") == 0) {
            cc->httponly = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "httponly=off") == 0) {
            cc->httponly = 0;
            continue;
        }

        goto invalid;
    }

    if (cc->samesite.len == 4 && cc->secure == NGX_HTTP_MKT_SECURE_OFF) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"samesite=none\" requires a secure cookie, "
                           "browsers reject it without \"Secure\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    return ngx_http_mkt_conf_invalid(cf, &value[i]);
}


char *
ngx_http_mkt_cookie_merge(ngx_conf_t *cf, ngx_http_mkt_cookie_conf_t *prev,
    ngx_http_mkt_cookie_conf_t *conf)
{
    u_char  *p;

    /* the http level is never merged itself: finish what it gives here */
    if (!conf->set) {
        *conf = *prev;
    }

    if (conf->name.len == 0) {
        ngx_str_set(&conf->name, "_mkt");
    }

    if (conf->path.len == 0) {
        ngx_str_set(&conf->path, "/");
    }

    if (conf->samesite.len == 0) {
        ngx_str_set(&conf->samesite, "Lax");
    }

    ngx_conf_init_value(conf->max_age, NGX_HTTP_MKT_MAX_AGE_DEFAULT);
    ngx_conf_init_uint_value(conf->secure, NGX_HTTP_MKT_SECURE_AUTO);
    ngx_conf_init_value(conf->httponly, 1);

    /* everything after "name=value" except Secure, which may vary */
    conf->attrs.data = ngx_pnalloc(cf->pool, sizeof("; Max-Age=; Domain=")
                                   + NGX_TIME_T_LEN + conf->domain.len
                                   + sizeof("; Path=") + conf->path.len
                                   + sizeof("; HttpOnly; SameSite=Strict"));
    if (conf->attrs.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_sprintf(conf->attrs.data, "; Max-Age=%T", conf->max_age);
    conf->attrs_after_age = p - conf->attrs.data;

    if (conf->domain.len) {
        p = ngx_sprintf(p, "; Domain=%V", &conf->domain);
    }

    p = ngx_sprintf(p, "; Path=%V", &conf->path);

    if (conf->httponly) {
        p = ngx_cpymem(p, "; HttpOnly", sizeof("; HttpOnly") - 1);
    }

    p = ngx_sprintf(p, "; SameSite=%V", &conf->samesite);

    conf->attrs.len = p - conf->attrs.data;

    return NGX_CONF_OK;
}


typedef struct {
    mkt_hmac_t            *hmac;
    time_t                 now;
    time_t                 max_age;
    mkt_visitor_t         *visitor;
    mkt_cookie_status_e    first_error;
} ngx_http_mkt_visitor_find_t;


static ngx_uint_t
ngx_http_mkt_visitor_found(void *data, const char *val, size_t len)
{
    ngx_http_mkt_visitor_find_t  *f = data;

    mkt_cookie_status_e  rc;

    rc = mkt_vcookie_decode(f->hmac, val, len, f->now, f->visitor);

    if (rc == MKT_COOKIE_OK) {
        /* older than a browser keeps it: a copy, not a visitor */
        rc = mkt_vcookie_check_age(f->visitor, f->now, f->max_age);
    }

    if (rc == MKT_COOKIE_OK) {
        return 1;
    }

    if (f->first_error == MKT_COOKIE_OK) {
        f->first_error = rc;
    }

    return 0;
}


/*
 * Settles who the visitor is, once per main request.  Every failure leaves
 * the request without an id, counted, and the page is served.
 */
void
ngx_http_mkt_identity(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    u_char                       *p;
    size_t                        n;
    time_t                        now;
    ngx_uint_t                    found;
    mkt_visitor_t                 v;
    mkt_cookie_status_e           bad;
    ngx_http_mkt_signals_t        sig;
    ngx_http_mkt_main_conf_t     *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);

    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_requests);

    ngx_http_mkt_signals(r, &sig);

    if (ngx_http_mkt_is_prefetch(&sig)) {
        ctx->prefetch = 1;
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_prefetches);
    }

    if (!ngx_http_mkt_tracking_permitted(r, &sig)) {
        /* no visitor id, no user id, no cookie read or set: served as
         * anyone, and counted only in the totals */
        ctx->no_tracking = 1;
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_no_tracking);
        return;
    }

    if (ngx_http_mkt_request_ua(r, ctx)->device == MKT_UA_BOT) {
        ctx->bot = 1;
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_bots);
    }

    now = ngx_time();
    found = ngx_http_mkt_visitor_cookie(r, ctx, &v, &bad);

    if (!found && bad != MKT_COOKIE_OK) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_bad_cookies);

        switch (bad) {
        case MKT_COOKIE_OVERSIZED:
            ngx_http_mkt_count(r, NGX_HTTP_MKT_C_bad_cookies_oversized);
            break;
        case MKT_COOKIE_UNSIGNED:
            ngx_http_mkt_count(r, NGX_HTTP_MKT_C_bad_cookies_unsigned);
            break;
        case MKT_COOKIE_BAD_SIGNATURE:
            ngx_http_mkt_count(r, NGX_HTTP_MKT_C_bad_cookies_signature);
            break;
        case MKT_COOKIE_FUTURE:
            ngx_http_mkt_count(r, NGX_HTTP_MKT_C_bad_cookies_future);
            break;
        case MKT_COOKIE_EXPIRED:
            ngx_http_mkt_count(r, NGX_HTTP_MKT_C_bad_cookies_expired);
            break;
        default:
            ngx_http_mkt_count(r, NGX_HTTP_MKT_C_bad_cookies_malformed);
            break;
        }
    }

    if (found) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_returning_visitors);

        ngx_memcpy(ctx->vid, v.vid, MKT_VID_LEN);
        ctx->has_vid = 1;

        /* bots keep their cookie as it is: it is never renewed */
        if (!mkt_vcookie_refresh_due(&v, now) || ctx->bot) {
            goto user;
        }

        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_cookies_refreshed);

    } else if (r->main->header_sent) {
        /*
         * A subrequest after the page's header went out (an SSI include
         * in a page without mkt): a new id could never reach the browser,
         * and every view would count another visitor and expose it anew.
         */
        goto user;

    } else {
        if (mkt_vid_generate(v.vid) != 0) {
            ngx_http_mkt_count(r, NGX_HTTP_MKT_C_id_failures);
            goto user;
        }

        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_new_visitors);

        ngx_memcpy(ctx->vid, v.vid, MKT_VID_LEN);
        ctx->has_vid = 1;
        ctx->is_new = 1;
    }

    v.issued = now;

    p = ngx_pnalloc(r->pool, MKT_VCOOKIE_MAX);
    if (p == NULL) {
        goto user;
    }

    n = mkt_vcookie_encode(mcf->hmac, &v, (char *) p);
    if (n == 0) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_id_failures);
        goto user;
    }

    ctx->set_cookie.data = p;
    ctx->set_cookie.len = n;

user:

    ngx_http_mkt_user_id(r, ctx);
}


typedef ngx_uint_t (*ngx_http_mkt_pair_pt)(void *data, const char *name,
    size_t name_len, const char *val, size_t len);

typedef struct {
    ngx_str_t                   *name;
    ngx_uint_t                 (*found)(void *data, const char *val,
                                        size_t len);
    void                        *data;
} ngx_http_mkt_each_t;

typedef struct {
    ngx_str_t                    names[NGX_HTTP_MKT_COOKIES];
    ngx_http_mkt_ctx_t          *ctx;
} ngx_http_mkt_ours_t;


/*
 * The visitor of the request's cookie: 1 and v when one verifies, else 0
 * and *bad, the first cookie's error (MKT_COOKIE_OK: none was sent).  A
 * browser may send the name twice (a host cookie beside a domain cookie,
 * or a stale one after a domain change): the first that verifies wins.
 * With ctx, from its one pass over the Cookie headers.
 */
ngx_uint_t
ngx_http_mkt_visitor_cookie(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    mkt_visitor_t *v, mkt_cookie_status_e *bad)
{
    ngx_uint_t                    found;
    ngx_http_mkt_srv_conf_t      *scf;
    ngx_http_mkt_main_conf_t     *mcf;
    ngx_http_mkt_visitor_find_t   f;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    scf = ngx_http_get_module_srv_conf(r, ngx_http_mkt_module);

    f.hmac = mcf->hmac;
    f.now = ngx_time();
    f.max_age = scf->cookie.max_age;
    f.visitor = v;
    f.first_error = MKT_COOKIE_OK;

    if (ctx != NULL) {
        found = ngx_http_mkt_cookie_each_of(r, ctx,
                                            NGX_HTTP_MKT_COOKIE_VISITOR,
                                            ngx_http_mkt_visitor_found, &f);

    } else {
        found = ngx_http_mkt_cookie_each(r, &scf->cookie.name,
                                         ngx_http_mkt_visitor_found, &f);
    }

    *bad = f.first_error;

    return found;
}


/*
 * Calls pair() with every "name=value" of the request's Cookie headers, in
 * order, until it returns 1; returns what it returned last.
 */
static ngx_uint_t
ngx_http_mkt_cookie_walk(ngx_http_request_t *r, ngx_http_mkt_pair_pt pair,
    void *data)
{
    size_t               pos, nlen, vlen;
    const char          *name, *val;
    ngx_table_elt_t     *h;
#if (nginx_version < 1023000)
    ngx_uint_t           i;
    ngx_table_elt_t    **hh;
#endif

#if (nginx_version >= 1023000)
    for (h = r->headers_in.cookie; h; h = h->next) {
#else
    hh = r->headers_in.cookies.elts;
    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = hh[i];
#endif
        pos = 0;

        while (mkt_cookie_pair((char *) h->value.data, h->value.len, &pos,
                               &name, &nlen, &val, &vlen))
        {
            if (pair(data, name, nlen, val, vlen)) {
                return 1;
            }
        }
    }

    return 0;
}


static ngx_uint_t
ngx_http_mkt_each_pair(void *data, const char *name, size_t name_len,
    const char *val, size_t len)
{
    ngx_http_mkt_each_t  *e = data;

    return name_len == e->name->len
           && ngx_memcmp(name, e->name->data, name_len) == 0
           && e->found(e->data, val, len);
}


/*
 * Calls found() with the value of every cookie named name, in order, until
 * it returns 1; returns what found() returned last, 0 if never called.
 */
ngx_uint_t
ngx_http_mkt_cookie_each(ngx_http_request_t *r, ngx_str_t *name,
    ngx_uint_t (*found)(void *data, const char *val, size_t len), void *data)
{
    ngx_http_mkt_each_t  e;

    e.name = name;
    e.found = found;
    e.data = data;

    return ngx_http_mkt_cookie_walk(r, ngx_http_mkt_each_pair, &e);
}


/* The name of the module's cookie which (NGX_HTTP_MKT_COOKIE_*). */
static void
ngx_http_mkt_cookie_name(ngx_http_request_t *r, ngx_uint_t which,
    ngx_str_t *name)
{
    ngx_http_mkt_srv_conf_t  *scf;

    switch (which) {

    case NGX_HTTP_MKT_COOKIE_VISITOR:
        scf = ngx_http_get_module_srv_conf(r, ngx_http_mkt_module);
        *name = scf->cookie.name;
        break;

    case NGX_HTTP_MKT_COOKIE_STICKY:
        ngx_str_set(name, MKT_STICKY_COOKIE);
        break;

    case NGX_HTTP_MKT_COOKIE_FT:
        ngx_str_set(name, MKT_FT_COOKIE);
        break;

    default: /* NGX_HTTP_MKT_COOKIE_LT */
        ngx_str_set(name, MKT_LT_COOKIE);
        break;
    }
}


/* A pair of the request's Cookie headers: kept if it is one of ours. */
static ngx_uint_t
ngx_http_mkt_ours_pair(void *data, const char *name, size_t name_len,
    const char *val, size_t len)
{
    ngx_http_mkt_ours_t  *o = data;

    ngx_uint_t                   k;
    ngx_http_mkt_cookie_vals_t  *c;

    for (k = 0; k < NGX_HTTP_MKT_COOKIES; k++) {
        if (name_len != o->names[k].len
            || ngx_memcmp(name, o->names[k].data, name_len) != 0)
        {
            continue;
        }

        c = &o->ctx->cookies[k];

        if (c->n < NGX_HTTP_MKT_COOKIE_DUPS) {
            c->value[c->n].data = (u_char *) val;
            c->value[c->n].len = len;
        }

        c->n++;
    }

    return 0;
}


/*
 * One pass over the request's Cookie headers for all the module's names,
 * keeping the values of each in order (NGX_HTTP_MKT_COOKIE_DUPS of them).
 */
static void
ngx_http_mkt_cookies_find(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    ngx_uint_t           k;
    ngx_http_mkt_ours_t  o;

    ctx->cookies_found = 1;
    o.ctx = ctx;

    for (k = 0; k < NGX_HTTP_MKT_COOKIES; k++) {
        ngx_http_mkt_cookie_name(r, k, &o.names[k]);
        ctx->cookies[k].n = 0;
    }

    (void) ngx_http_mkt_cookie_walk(r, ngx_http_mkt_ours_pair, &o);
}


/*
 * ngx_http_mkt_cookie_each() for the module's cookie which, from the one
 * pass of ngx_http_mkt_cookies_find().
 */
ngx_uint_t
ngx_http_mkt_cookie_each_of(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    ngx_uint_t which, ngx_uint_t (*found)(void *data, const char *val,
    size_t len), void *data)
{
    ngx_str_t                    name;
    ngx_uint_t                   i;
    ngx_http_mkt_cookie_vals_t  *c;

    if (!ctx->cookies_found) {
        ngx_http_mkt_cookies_find(r, ctx);
    }

    c = &ctx->cookies[which];

    if (c->n > NGX_HTTP_MKT_COOKIE_DUPS) {
        /* more of one name than kept: rare enough to scan again */
        ngx_http_mkt_cookie_name(r, which, &name);
        return ngx_http_mkt_cookie_each(r, &name, found, data);
    }

    for (i = 0; i < c->n; i++) {
        if (found(data, (char *) c->value[i].data, c->value[i].len)) {
            return 1;
        }
    }

    return 0;
}


/* The known user id (mkt_user_id of the location), cleaned. */
void
ngx_http_mkt_user_id(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    u_char                   *p;
    ngx_str_t                 raw;
    ngx_http_mkt_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mkt_module);

    if (lcf->user_id == NULL) {
        return;
    }

    if (ngx_http_complex_value(r, lcf->user_id, &raw) != NGX_OK
        || raw.len == 0)
    {
        return;
    }

    p = ngx_pnalloc(r->pool, NGX_HTTP_MKT_UID_MAX);
    if (p == NULL) {
        return;
    }

    ctx->uid.len = mkt_text_clean((char *) p, NGX_HTTP_MKT_UID_MAX,
                                  (char *) raw.data, raw.len);
    ctx->uid.data = p;

    if (ctx->uid.len) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_known_users);
    }
}


static ngx_uint_t
ngx_http_mkt_is_cookie(ngx_table_elt_t *h, ngx_str_t *name)
{
    return h->hash != 0
           && h->key.len == sizeof("Set-Cookie") - 1
           && ngx_strncasecmp(h->key.data, (u_char *) "Set-Cookie",
                              sizeof("Set-Cookie") - 1) == 0
           && h->value.len > name->len
           && h->value.data[name->len] == '='
           && ngx_strncmp(h->value.data, name->data, name->len) == 0;
}


/*
 * The module owns its cookie names: a Set-Cookie of one of them from an
 * upstream or an add_header would fork or reset the visitor's identity or
 * buckets, so it is dropped, and a response never carries two.
 */
static void
ngx_http_mkt_drop_foreign_cookies(ngx_http_request_t *r, ngx_str_t *names,
    ngx_uint_t n)
{
    ngx_uint_t        i, k;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        for (k = 0; k < n; k++) {
            if (ngx_http_mkt_is_cookie(&h[i], &names[k])) {
                h[i].hash = 0;
            }
        }
    }
}


/* Adds "Set-Cookie: name=value" with the mkt_cookie attributes; an empty
 * value expires the cookie. */
static ngx_int_t
ngx_http_mkt_add_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    u_char                      *p, *start;
    size_t                       len;
    ngx_uint_t                   secure;
    ngx_http_mkt_srv_conf_t     *scf;
    ngx_http_mkt_cookie_conf_t  *cc;

    scf = ngx_http_get_module_srv_conf(r, ngx_http_mkt_module);
    cc = &scf->cookie;

    switch (cc->secure) {
    case NGX_HTTP_MKT_SECURE_ON:
        secure = 1;
        break;
    case NGX_HTTP_MKT_SECURE_OFF:
        secure = 0;
        break;
    default:
        /* SameSite=None is dropped by browsers unless Secure */
        secure = cc->samesite.len == 4;
#if (NGX_HTTP_SSL)
        secure |= (r->connection->ssl != NULL);
#endif
        break;
    }

    len = name->len + 1 + value->len + cc->attrs.len
          + sizeof("; Max-Age=0") - 1 + (secure ? sizeof("; Secure") - 1 : 0);

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(start, name->data, name->len);
    *p++ = '=';
    p = ngx_cpymem(p, value->data, value->len);

    if (value->len) {
        p = ngx_cpymem(p, cc->attrs.data, cc->attrs.len);

    } else {
        /* the attributes after Max-Age, so that the browser matches it */
        p = ngx_cpymem(p, "; Max-Age=0", sizeof("; Max-Age=0") - 1);
        p = ngx_cpymem(p, cc->attrs.data + cc->attrs_after_age,
                       cc->attrs.len - cc->attrs_after_age);
    }

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    return ngx_http_mkt_header_out(r, "Set-Cookie", start, p - start);
}


/* One of the module's cookies (which), set after ngx_http_mkt_send_cookies()
 * has sent the others, while the header is still unsent. */
ngx_int_t
ngx_http_mkt_send_cookie(ngx_http_request_t *r, ngx_uint_t which,
    ngx_str_t *value)
{
    ngx_str_t  name;

    ngx_http_mkt_cookie_name(r, which, &name);

    return ngx_http_mkt_add_cookie(r, &name, value);
}


/* From the header filter: the cookies this response must carry. */
ngx_int_t
ngx_http_mkt_send_cookies(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    ngx_uint_t  i;
    ngx_str_t   names[NGX_HTTP_MKT_COOKIES], *values[NGX_HTTP_MKT_COOKIES];

    for (i = 0; i < NGX_HTTP_MKT_COOKIES; i++) {
        ngx_http_mkt_cookie_name(r, i, &names[i]);
    }

    values[NGX_HTTP_MKT_COOKIE_VISITOR] = &ctx->set_cookie;
    values[NGX_HTTP_MKT_COOKIE_STICKY] = ctx->sticky_set ? &ctx->sticky_cookie
                                                         : NULL;
    values[NGX_HTTP_MKT_COOKIE_FT] = &ctx->ft_cookie;
    values[NGX_HTTP_MKT_COOKIE_LT] = &ctx->lt_cookie;

    ngx_http_mkt_drop_foreign_cookies(r, names, NGX_HTTP_MKT_COOKIES);

    if (ctx->cookie_sent) {
        return NGX_OK;
    }

    ctx->cookie_sent = 1;

    if (ctx->set_cookie.len) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_cookies_set);
    }

    for (i = 0; i < NGX_HTTP_MKT_COOKIES; i++) {
        /* an empty sticky value expires the cookie; others are not sent */
        if (values[i] == NULL
            || (i != NGX_HTTP_MKT_COOKIE_STICKY && values[i]->len == 0))
        {
            continue;
        }

        if (ngx_http_mkt_add_cookie(r, &names[i], values[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
