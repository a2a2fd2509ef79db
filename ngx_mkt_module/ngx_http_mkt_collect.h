/* Shared by the conversion glue: mkt_collect and mkt_conversion
 * (ngx_http_mkt_collect.c) and their dedup zone (ngx_http_mkt_dedup.c). */
#ifndef _NGX_HTTP_MKT_COLLECT_H_INCLUDED_
#define _NGX_HTTP_MKT_COLLECT_H_INCLUDED_


#include "ngx_http_mkt_module.h"

#include "beacon.h"


#define NGX_HTTP_MKT_DEDUP_SIZE    (1024 * 1024)
#define NGX_HTTP_MKT_DEDUP_WINDOW  86400


/* main conf of the conversion glue: made by the first mkt_collect or
 * mkt_conversion of the http block */
struct ngx_http_mkt_collect_main_s {
    ssize_t                    dedup_size;    /* NGX_CONF_UNSET: default */
    time_t                     window;        /* NGX_CONF_UNSET: default */
    ngx_shm_zone_t            *zone;          /* "mkt_dedup" */
    ngx_array_t                collects;      /* of collect_conf_t * */
    ngx_array_t                conversions;   /* copies of every
                                               * mkt_conversion, or empty */
    ngx_uint_t                 max_events;    /* the most of any location */
    u_char                     key[MKT_DEDUP_KEY_LEN];
};


/* one mkt_collect location */
struct ngx_http_mkt_collect_conf_s {
    size_t                     max_body;
    ngx_uint_t                 max_events;
    ngx_array_t               *cors;          /* of ngx_str_t, or NULL */
    ngx_http_core_loc_conf_t  *clcf;
};


ngx_http_mkt_collect_main_t *ngx_http_mkt_collect_main(ngx_conf_t *cf);

ngx_int_t ngx_http_mkt_conversion_init(ngx_conf_t *cf,
    ngx_http_mkt_main_conf_t *mcf);
ngx_http_mkt_ctx_t *ngx_http_mkt_conversion_ctx(ngx_http_request_t *r);
void ngx_http_mkt_conversion_base(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, ngx_uint_t from_cookies, mkt_event_t *ev);
ngx_int_t ngx_http_mkt_conversion_record(ngx_http_request_t *r,
    const mkt_event_t *base, const mkt_beacon_event_t *b);

char *ngx_http_mkt_dedup_param(ngx_conf_t *cf,
    ngx_http_mkt_collect_main_t *cm, ngx_str_t *value);
ngx_int_t ngx_http_mkt_dedup_init(ngx_conf_t *cf,
    ngx_http_mkt_collect_main_t *cm, mkt_hmac_t *hmac);
ngx_int_t ngx_http_mkt_dedup_claim(ngx_http_request_t *r,
    ngx_http_mkt_collect_main_t *cm, uint64_t key);
void ngx_http_mkt_dedup_release(ngx_http_mkt_collect_main_t *cm,
    uint64_t key);


#endif /* _NGX_HTTP_MKT_COLLECT_H_INCLUDED_ */
