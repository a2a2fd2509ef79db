/* The $mkt_* variables.  Each reads the request's settled decisions, settling
 * them first when read before the rewrite phase (e.g. in a server-level
 * "set"), so every read of one request sees the same value. */

#include "ngx_http_mkt_module.h"


#define NGX_HTTP_MKT_VAR_VID  0
#define NGX_HTTP_MKT_VAR_NEW  1

static ngx_int_t ngx_http_mkt_variable_visitor(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_mkt_vars[] = {

    { ngx_string("mkt_vid"), NULL, ngx_http_mkt_variable_visitor,
      NGX_HTTP_MKT_VAR_VID, 0, 0 },

    { ngx_string("mkt_uid"), NULL, ngx_http_mkt_variable_str,
      offsetof(ngx_http_mkt_ctx_t, uid), 0, 0 },

    { ngx_string("mkt_tags"), NULL, ngx_http_mkt_variable_str,
      offsetof(ngx_http_mkt_ctx_t, tags), 0, 0 },

    { ngx_string("mkt_new"), NULL, ngx_http_mkt_variable_visitor,
      NGX_HTTP_MKT_VAR_NEW, 0, 0 },

      ngx_http_null_variable
};


/* Every table of $mkt_* variables, each ending in ngx_http_null_variable. */
static ngx_http_variable_t  *ngx_http_mkt_var_tables[] = {
    ngx_http_mkt_vars,
    ngx_http_mkt_exp_vars,
    ngx_http_mkt_touch_vars,
    ngx_http_mkt_geo_vars,
    NULL
};


ngx_int_t
ngx_http_mkt_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t   *var, *v;
    ngx_http_variable_t  **table;

    for (table = ngx_http_mkt_var_tables; *table; table++) {
        for (v = *table; v->name.len; v++) {
            var = ngx_http_add_variable(cf, &v->name, v->flags);
            if (var == NULL) {
                return NGX_ERROR;
            }

            var->get_handler = v->get_handler;
            var->data = v->data;
        }
    }

    return NGX_OK;
}


/*
 * The request's context when mkt applies to it, else NULL.  A value read
 * where mkt is off (a server-level "set" when "mkt on" is in a location)
 * is cached by nginx as empty: the context remembers it, so that the
 * decisions, once made, flush it (ngx_http_mkt_vars_flush).
 */
ngx_http_mkt_ctx_t *
ngx_http_mkt_var_ctx(ngx_http_request_t *r)
{
    ngx_http_mkt_ctx_t       *ctx;
    ngx_http_mkt_loc_conf_t  *lcf;

    ctx = ngx_http_mkt_ctx(r, 0);
    if (ctx != NULL && ctx->done) {
        return ctx;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mkt_module);
    if (!lcf->enable) {
        ctx = ngx_http_mkt_ctx(r, 1);
        if (ctx != NULL) {
            ctx->read_off = 1;
        }

        return NULL;
    }

    return ngx_http_mkt_decide(r);
}


/*
 * Forgets the $mkt_* values nginx cached for this request before its
 * decisions were made, so that a location with "mkt on" (and its
 * log_format) reads final values, not the empty ones of a read where mkt
 * was off.  Only the module's variables, known by their handlers: a
 * "set $mkt_x" of the user's keeps its value.
 */
void
ngx_http_mkt_vars_flush(ngx_http_request_t *r)
{
    ngx_uint_t                   i;
    ngx_http_variable_t         *v, *t, **table;
    ngx_http_variable_value_t   *vv;
    ngx_http_core_main_conf_t   *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);
    v = cmcf->variables.elts;
    vv = r->variables;

    for (i = 0; i < cmcf->variables.nelts; i++) {
        if (v[i].get_handler == NULL) {
            continue;
        }

        for (table = ngx_http_mkt_var_tables; *table; table++) {
            for (t = *table; t->name.len; t++) {
                if (t->get_handler == v[i].get_handler) {
                    vv[i].valid = 0;
                    vv[i].not_found = 0;
                    goto next;
                }
            }
        }

    next:

        continue;
    }
}


void
ngx_http_mkt_var_set(ngx_http_variable_value_t *v, u_char *data, size_t len)
{
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = data;
}


static ngx_int_t
ngx_http_mkt_variable_visitor(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mkt_ctx_t  *ctx;

    ctx = ngx_http_mkt_var_ctx(r);

    if (ctx == NULL || !ctx->has_vid) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (data == NGX_HTTP_MKT_VAR_VID) {
        ngx_http_mkt_var_set(v, ctx->vid, MKT_VID_LEN);

    } else {
        ngx_http_mkt_var_set(v, (u_char *) (ctx->is_new ? "1" : "0"), 1);
    }

    return NGX_OK;
}


/* An ngx_str_t of the context at offset data: $mkt_uid, $mkt_tags, ... */
ngx_int_t
ngx_http_mkt_variable_str(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t           *s;
    ngx_http_mkt_ctx_t  *ctx;

    ctx = ngx_http_mkt_var_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

    /* never a NULL pointer, even empty: nginx copies values with memcpy() */
    ngx_http_mkt_var_set(v, s->len ? s->data : (u_char *) "", s->len);
    return NGX_OK;
}

