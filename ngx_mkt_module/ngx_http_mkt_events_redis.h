/* The Redis event sink and its spool: what ngx_http_mkt_events_redis.c
 * and ngx_http_mkt_spool.c share. */
#ifndef _NGX_HTTP_MKT_EVENTS_REDIS_H_INCLUDED_
#define _NGX_HTTP_MKT_EVENTS_REDIS_H_INCLUDED_


#include "ngx_http_mkt_module.h"

#include "spool.h"


/* a spool file: this worker's own (appended to) or one it claimed */
typedef struct {
    ngx_queue_t                queue;         /* in the spool's files */
    ngx_fd_t                   fd;
    off_t                      size;          /* bytes in the file */
    off_t                      pos;           /* next line to replay */
    mkt_spool_header_t         header;        /* as last written */
    mkt_stream_id_t            check_after;   /* the check_n events from */
    ngx_uint_t                 check_n;       /* pos may be in the stream,
                                               * after check_after */
    unsigned                   own:1;
    u_char                     path[1];       /* NUL-terminated */
} ngx_http_mkt_spool_file_t;


typedef struct {
    ngx_str_t                  dir;
    ngx_queue_t                files;         /* to replay, in order */
    ngx_http_mkt_spool_file_t *own;           /* appended to, or NULL */
    u_char                    *wbuf;          /* lines not yet written */
    u_char                    *wpos;
    u_char                    *wend;
    ngx_uint_t                 wevents;       /* events in wbuf */
    ngx_uint_t                 wmarks;        /* mark lines in wbuf */
    int64_t                    wfirst;        /* ms of wbuf's first event */
    ngx_uint_t                 seq;           /* of the next own file */
    ngx_msec_t                 scanned;       /* last directory scan */
} ngx_http_mkt_spool_t;


#define NGX_HTTP_MKT_SPOOL_WBUF    (128 * 1024)
#define NGX_HTTP_MKT_SPOOL_CHUNK   (128 * 1024)  /* > MKT_EVENT_MAX + 1 */
#define NGX_HTTP_MKT_SPOOL_SCAN    1000          /* ms between scans */


ngx_int_t ngx_http_mkt_spool_init(ngx_http_mkt_spool_t *sp, ngx_path_t *dir,
    ngx_cycle_t *cycle);
ngx_int_t ngx_http_mkt_spool_append(ngx_http_mkt_spool_t *sp, u_char *line,
    size_t len);
ngx_int_t ngx_http_mkt_spool_mark(ngx_http_mkt_spool_t *sp,
    mkt_stream_id_t *after, ngx_uint_t n);
ngx_int_t ngx_http_mkt_spool_flush(ngx_http_mkt_spool_t *sp);
void ngx_http_mkt_spool_scan(ngx_http_mkt_spool_t *sp, ngx_uint_t first);
ssize_t ngx_http_mkt_spool_read(ngx_http_mkt_spool_file_t *f, u_char *buf,
    size_t size);
ngx_int_t ngx_http_mkt_spool_save(ngx_http_mkt_spool_file_t *f);
void ngx_http_mkt_spool_remove(ngx_http_mkt_spool_t *sp,
    ngx_http_mkt_spool_file_t *f);
void ngx_http_mkt_spool_close(ngx_http_mkt_spool_t *sp);
void ngx_http_mkt_events_redis_log(ngx_uint_t level, ngx_err_t err,
    const char *fmt, ...);


#endif /* _NGX_HTTP_MKT_EVENTS_REDIS_H_INCLUDED_ */
