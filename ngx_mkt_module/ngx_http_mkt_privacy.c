/*
 * What a request permits and what kind of client sent it (DESIGN.md
 * section 5): mkt_privacy (Sec-GPC, DNT, a consent value), bots by
 * User-Agent, and prefetch/prerender requests.
 */

#include "ngx_http_mkt_module.h"


/* mkt_privacy [gpc=on|off] [dnt=on|off] [consent=VALUE] */
char *
ngx_http_mkt_privacy(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_srv_conf_t *scf = conf;

    ngx_str_t                          *value, v;
    ngx_flag_t                         *flag;
    ngx_uint_t                          i;
    ngx_http_compile_complex_value_t    ccv;

    if (scf->privacy_gpc != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    scf->privacy_gpc = 1;
    scf->privacy_dnt = 0;
    scf->consent = NULL;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "gpc=", 4) == 0
            || ngx_strncmp(value[i].data, "dnt=", 4) == 0)
        {
            flag = value[i].data[0] == 'g' ? &scf->privacy_gpc
                                            : &scf->privacy_dnt;
            v.data = value[i].data + 4;
            v.len = value[i].len - 4;

            if (v.len == 2 && ngx_strncmp(v.data, "on", 2) == 0) {
                *flag = 1;

            } else if (v.len == 3 && ngx_strncmp(v.data, "off", 3) == 0) {
                *flag = 0;

            } else {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "consent=", 8) == 0) {
            v.data = value[i].data + 8;
            v.len = value[i].len - 8;

            if (v.len == 0) {
                goto invalid;
            }

            scf->consent = ngx_palloc(cf->pool,
                                      sizeof(ngx_http_complex_value_t));
            if (scf->consent == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
            ccv.cf = cf;
            ccv.value = &v;
            ccv.complex_value = scf->consent;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    return ngx_http_mkt_conf_invalid(cf, &value[i]);
}


/*
 * The request headers that say what a request permits or is for, found in
 * one pass over the header list (the first of each name, in any case).
 */
void
ngx_http_mkt_signals(ngx_http_request_t *r, ngx_http_mkt_signals_t *s)
{
    const char        *name;
    ngx_uint_t         i;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h, **slot;

    ngx_memzero(s, sizeof(ngx_http_mkt_signals_t));

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        switch (h[i].key.len) {
        case 3:
            slot = &s->dnt;
            name = "DNT";
            break;
        case 5:
            slot = &s->moz;
            name = "X-Moz";
            break;
        case 7:
            if ((h[i].key.data[0] | 0x20) == 's') {
                slot = &s->gpc;
                name = "Sec-GPC";
            } else {
                slot = &s->purpose;
                name = "Purpose";
            }
            break;
        case 9:
            slot = &s->x_purpose;
            name = "X-Purpose";
            break;
        case 11:
            slot = &s->sec_purpose;
            name = "Sec-Purpose";
            break;
        default:
            continue;
        }

        if (*slot == NULL
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, h[i].key.len)
               == 0)
        {
            *slot = &h[i];
        }
    }
}


static ngx_uint_t
ngx_http_mkt_header_is(ngx_table_elt_t *h, const char *want, size_t want_len)
{
    return h != NULL && h->value.len == want_len
           && ngx_strncasecmp(h->value.data, (u_char *) want, want_len) == 0;
}


/*
 * 0 when the request must not be tracked: "Sec-GPC: 1" (gpc=on, the
 * default), "DNT: 1" (dnt=on), or a consent value that is set and is not
 * "granted".  A consent value that cannot be computed counts as refused.
 */
ngx_uint_t
ngx_http_mkt_tracking_permitted(ngx_http_request_t *r,
    ngx_http_mkt_signals_t *s)
{
    ngx_str_t                 consent;
    ngx_http_mkt_srv_conf_t  *scf;

    scf = ngx_http_get_module_srv_conf(r, ngx_http_mkt_module);

    if (scf->privacy_gpc && ngx_http_mkt_header_is(s->gpc, "1", 1)) {
        return 0;
    }

    if (scf->privacy_dnt && ngx_http_mkt_header_is(s->dnt, "1", 1)) {
        return 0;
    }

    if (scf->consent == NULL) {
        return 1;
    }

    if (ngx_http_complex_value(r, scf->consent, &consent) != NGX_OK) {
        return 0;
    }

    return consent.len == 0
           || (consent.len == 7
               && ngx_strncasecmp(consent.data, (u_char *) "granted", 7) == 0);
}


/*
 * A speculative load the visitor may never see: Chrome's "Sec-Purpose:
 * prefetch" (also "prefetch;prerender"), "Purpose: prefetch" (Chrome,
 * Safari), "X-Moz: prefetch" (Firefox), "X-Purpose: preview" (Safari).
 */
ngx_uint_t
ngx_http_mkt_is_prefetch(ngx_http_mkt_signals_t *s)
{
    ngx_table_elt_t  *h;

    h = s->sec_purpose;
    if (h && h->value.len >= 8
        && ngx_strncasecmp(h->value.data, (u_char *) "prefetch", 8) == 0)
    {
        return 1;
    }

    return ngx_http_mkt_header_is(s->purpose, "prefetch", 8)
           || ngx_http_mkt_header_is(s->moz, "prefetch", 8)
           || ngx_http_mkt_header_is(s->x_purpose, "preview", 7);
}


/* per worker: the User-Agents seen, with their classes */
static mkt_ua_cache_t  ngx_http_mkt_ua_cache;


/* The request's User-Agent classes, computed once. */
mkt_ua_t *
ngx_http_mkt_request_ua(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    ngx_table_elt_t  *h;

    if (!ctx->ua_done) {
        h = r->headers_in.user_agent;
        mkt_ua_classify_cached(&ngx_http_mkt_ua_cache,
                               h ? (char *) h->value.data : "",
                               h ? h->value.len : 0, &ctx->ua);
        ctx->ua_done = 1;
    }

    return &ctx->ua;
}
