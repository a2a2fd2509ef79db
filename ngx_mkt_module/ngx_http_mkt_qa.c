/* Who may force variations with ?mkt_force=: the mkt_qa networks and the
 * holders of mkt_qa_token (header X-Mkt-QA-Token or query mkt_qa_token). */

#include "ngx_http_mkt_module.h"

#include <openssl/crypto.h>


char *
ngx_http_mkt_qa(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_srv_conf_t  *scf = conf;

    ngx_int_t                 rc;
    ngx_str_t                *value;
    ngx_uint_t                i;
    ngx_cidr_t               *cidr;

    if (scf->qa_cidrs != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    scf->qa_cidrs = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_cidr_t));
    if (scf->qa_cidrs == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        cidr = ngx_array_push(scf->qa_cidrs);
        if (cidr == NULL) {
            return NGX_CONF_ERROR;
        }

        rc = ngx_ptocidr(&value[i], cidr);

        if (rc == NGX_ERROR) {
            return ngx_http_mkt_conf_invalid(cf, &value[i]);
        }

        if (rc == NGX_DONE) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "low address bits of %V are meaningless",
                               &value[i]);
        }
    }

    return NGX_CONF_OK;
}


static ngx_uint_t
ngx_http_mkt_qa_addr(ngx_http_request_t *r, ngx_array_t *cidrs)
{
    in_addr_t         addr;
    ngx_uint_t        i;
    ngx_cidr_t       *cidr;
    struct sockaddr  *sa;
#if (NGX_HAVE_INET6)
    u_char           *p;
    ngx_uint_t        n;
#endif

    sa = r->connection->sockaddr;
    cidr = cidrs->elts;

    for (i = 0; i < cidrs->nelts; i++) {
        if (cidr[i].family != sa->sa_family) {
            continue;
        }

        switch (sa->sa_family) {

#if (NGX_HAVE_INET6)
        case AF_INET6:
            p = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;

            for (n = 0; n < 16; n++) {
                if ((p[n] & cidr[i].u.in6.mask.s6_addr[n])
                    != cidr[i].u.in6.addr.s6_addr[n])
                {
                    break;
                }
            }

            if (n == 16) {
                return 1;
            }

            break;
#endif

        case AF_INET:
            addr = ((struct sockaddr_in *) sa)->sin_addr.s_addr;

            if ((addr & cidr[i].u.in.mask) == cidr[i].u.in.addr) {
                return 1;
            }

            break;

        default:
            break;
        }
    }

    return 0;
}


static ngx_uint_t
ngx_http_mkt_qa_token_matches(ngx_str_t *given, ngx_str_t *token)
{
    return given->len == token->len
           && CRYPTO_memcmp(given->data, token->data, token->len) == 0;
}


/* 1 when this request may force variations. */
ngx_uint_t
ngx_http_mkt_qa_allowed(ngx_http_request_t *r)
{
    ngx_str_t                 given;
    ngx_table_elt_t          *h;
    ngx_http_mkt_srv_conf_t  *scf;

    scf = ngx_http_get_module_srv_conf(r, ngx_http_mkt_module);

    if (scf->qa_cidrs && ngx_http_mkt_qa_addr(r, scf->qa_cidrs)) {
        return 1;
    }

    if (scf->qa_token.len == 0) {
        return 0;
    }

    if (ngx_http_arg(r, (u_char *) "mkt_qa_token", 12, &given) == NGX_OK
        && ngx_http_mkt_qa_token_matches(&given, &scf->qa_token))
    {
        return 1;
    }

    h = ngx_http_mkt_header_in(r, (u_char *) "X-Mkt-QA-Token",
                               sizeof("X-Mkt-QA-Token") - 1);

    return h && ngx_http_mkt_qa_token_matches(&h->value, &scf->qa_token);
}
