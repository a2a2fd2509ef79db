/* Shared declarations of the ngx_http_mkt_module glue. */
#ifndef _NGX_HTTP_MKT_MODULE_H_INCLUDED_
#define _NGX_HTTP_MKT_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "cookie.h"
#include "hmac.h"


#define NGX_HTTP_MKT_VERSION      "0.1.0"
#define NGX_HTTP_MKT_UID_MAX      128
#define NGX_HTTP_MKT_REFRESH      86400    /* re-issue the cookie daily */


/* status counters: name, help text; summed across workers in shared memory */
#define NGX_HTTP_MKT_COUNTERS(X)                                              \
    X(requests, "Requests handled with mkt on (internal redirects and "     \
      "subrequests count once)")                                            \
    X(new_visitors, "Visitor ids minted")                                   \
    X(returning_visitors, "Requests carrying a valid visitor cookie")       \
    X(bad_cookies, "Visitor cookies rejected, all reasons")                 \
    X(bad_cookies_malformed, "Visitor cookies rejected as malformed")       \
    X(bad_cookies_oversized, "Visitor cookies rejected as oversized")       \
    X(bad_cookies_unsigned, "Visitor cookies rejected for lacking a "       \
      "signature")                                                          \
    X(bad_cookies_signature, "Visitor cookies rejected for a wrong "        \
      "signature")                                                          \
    X(bad_cookies_future, "Visitor cookies rejected as issued in the "      \
      "future")                                                             \
    X(cookies_set, "Visitor cookies sent (new, or refreshed)")              \
    X(cookies_refreshed, "Visitor cookies re-issued to extend max-age")     \
    X(known_users, "Requests with a known user id")                         \
    X(id_failures, "Requests served without an id: no randomness or "       \
      "signing failed")

#define NGX_HTTP_MKT_COUNTER_ENUM(name, help)  NGX_HTTP_MKT_C_##name,

typedef enum {
    NGX_HTTP_MKT_COUNTERS(NGX_HTTP_MKT_COUNTER_ENUM)
    NGX_HTTP_MKT_NCOUNTERS
} ngx_http_mkt_counter_e;


typedef struct {
    ngx_atomic_t               counter[NGX_HTTP_MKT_NCOUNTERS];
} ngx_http_mkt_shctx_t;


typedef struct {
    ngx_str_t                  secret;
    mkt_hmac_t                *hmac;
    ngx_shm_zone_t            *status_zone;
    ngx_flag_t                 used;          /* "mkt on" appears somewhere */
} ngx_http_mkt_main_conf_t;


#define NGX_HTTP_MKT_SECURE_OFF   0
#define NGX_HTTP_MKT_SECURE_ON    1
#define NGX_HTTP_MKT_SECURE_AUTO  2

typedef struct {
    ngx_str_t                  name;
    ngx_str_t                  domain;
    ngx_str_t                  path;
    time_t                     max_age;
    ngx_uint_t                 secure;
    ngx_str_t                  samesite;
    ngx_flag_t                 httponly;
    ngx_str_t                  attrs;         /* "; Max-Age=..; Path=.." */
    ngx_flag_t                 set;
} ngx_http_mkt_cookie_conf_t;


typedef struct {
    ngx_http_mkt_cookie_conf_t  cookie;
} ngx_http_mkt_srv_conf_t;


typedef struct {
    ngx_flag_t                 enable;
    ngx_http_complex_value_t  *user_id;
} ngx_http_mkt_loc_conf_t;


/* per main request; survives internal redirects (see ngx_http_mkt_ctx) */
typedef struct {
    u_char                     vid[MKT_VID_LEN];
    ngx_str_t                  uid;
    ngx_str_t                  set_cookie;    /* value to send, if any */

    unsigned                   identity_done:1;
    unsigned                   has_vid:1;
    unsigned                   is_new:1;
    unsigned                   cookie_sent:1;
} ngx_http_mkt_ctx_t;


extern ngx_module_t  ngx_http_mkt_module;


ngx_http_mkt_ctx_t *ngx_http_mkt_ctx(ngx_http_request_t *r, ngx_uint_t create);
ngx_http_mkt_ctx_t *ngx_http_mkt_identity(ngx_http_request_t *r);
void ngx_http_mkt_drop_foreign_cookie(ngx_http_request_t *r);
ngx_int_t ngx_http_mkt_set_cookie_header(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx);
char *ngx_http_mkt_cookie_merge(ngx_conf_t *cf,
    ngx_http_mkt_cookie_conf_t *prev, ngx_http_mkt_cookie_conf_t *conf);
char *ngx_http_mkt_cookie(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

ngx_int_t ngx_http_mkt_add_variables(ngx_conf_t *cf);

ngx_int_t ngx_http_mkt_status_init_zone(ngx_conf_t *cf,
    ngx_http_mkt_main_conf_t *mcf);
void ngx_http_mkt_count(ngx_http_request_t *r, ngx_http_mkt_counter_e c);
char *ngx_http_mkt_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_MKT_MODULE_H_INCLUDED_ */
