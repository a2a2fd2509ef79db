/* The Redis event sink, its replays and its spool: what
 * ngx_http_mkt_events_redis.c, _events_replay.c and _spool.c share. */
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
    int64_t                    first_ms;      /* of the event at pos */
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


#define NGX_HTTP_MKT_RSINK_BATCH_MAX   1024
#define NGX_HTTP_MKT_RSINK_CHECK_COUNT 200     /* entries per XRANGE page */
#define NGX_HTTP_MKT_RSINK_CHECK_COUNT_S  "200"
#define NGX_HTTP_MKT_RSINK_CHECK_PAGES 100     /* pages per check */
#define NGX_HTTP_MKT_RSINK_RETRY       1000    /* ms after a failed replay */
#define NGX_HTTP_MKT_RSINK_LOG_EVERY   10      /* seconds between messages */

#define NGX_HTTP_MKT_OP_NONE      0
#define NGX_HTTP_MKT_OP_PROBE     1            /* XREVRANGE: the last id */
#define NGX_HTTP_MKT_OP_BATCH     2            /* XADDs from the queue */
#define NGX_HTTP_MKT_OP_CHECK     3            /* XRANGE before a replay */
#define NGX_HTTP_MKT_OP_REPLAY    4            /* XADDs from a spool file */
#define NGX_HTTP_MKT_OP_IDENT     5            /* CLIENT ID of a new conn */

#define NGX_HTTP_MKT_EV_PENDING   0
#define NGX_HTTP_MKT_EV_OK        1
#define NGX_HTTP_MKT_EV_FAILED    2            /* certainly not added */
#define NGX_HTTP_MKT_EV_LOST      3            /* sent, reply lost: maybe */
#define NGX_HTTP_MKT_EV_FOUND     4            /* in the stream already */


typedef struct {
    ngx_str_t                  key;
    ngx_str_t                  maxlen;        /* digits, or empty */
    ngx_uint_t                 batch;
    ngx_msec_t                 flush;
    size_t                     queue;         /* bytes */
} ngx_http_mkt_rsink_conf_t;


typedef struct {
    ngx_uint_t                 index;
    ngx_uint_t                 gen;
} ngx_http_mkt_rsink_slot_t;


typedef struct {
    ngx_http_mkt_rsink_conf_t *conf;          /* NULL: not in this worker */
    ngx_http_mkt_spool_t      *spool;         /* NULL: no mkt_events_spool */
    ngx_http_mkt_gauges_t     *gauges;
    ngx_event_t                tick;

    /* the queue: [buf, sent) in flight, [sent, last) waiting */
    u_char                    *buf;
    u_char                    *sent;
    u_char                    *last;
    u_char                    *end;
    ngx_uint_t                 nqueued;
    ngx_uint_t                 nflight;

    ngx_uint_t                 op;
    ngx_uint_t                 gen;           /* of the operation */
    ngx_uint_t                 outstanding;   /* replies awaited */
    ngx_uint_t                 n;             /* events of the batch */
    u_char                   **line;          /* each without its "\n" */
    size_t                    *len;
    off_t                     *off;           /* in the file, replays */
    u_char                    *result;
    ngx_http_mkt_rsink_slot_t *slot;

    mkt_stream_id_t            last_id;       /* in the stream: a lower
                                               * bound of what we add */
    ngx_msec_t                 retry;         /* replays wait till then */
    unsigned                   known:1;       /* last_id is */
    unsigned                   spooling:1;    /* new events to the spool */
    unsigned                   failing:1;     /* because Redis failed */
    unsigned                   replay_turn:1;
    unsigned                   flight_spooled:1;  /* in the spool too */

    /* the replay batch */
    ngx_http_mkt_spool_file_t *file;
    u_char                    *chunk;
    off_t                      past;          /* file offset past it */
    mkt_stream_id_t            cursor;        /* check: read up to */
    ngx_uint_t                 pages;
    ngx_uint_t                 found;
    ngx_uint_t                 fenced;        /* CLIENT KILLs before it */
} ngx_http_mkt_rsink_t;


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
int64_t ngx_http_mkt_spool_oldest(ngx_http_mkt_spool_t *sp);
extern ngx_http_mkt_rsink_t  ngx_http_mkt_rsink;

void ngx_http_mkt_rsink_kick(ngx_http_mkt_rsink_t *s);
ngx_int_t ngx_http_mkt_rsink_send(ngx_http_mkt_rsink_t *s,
    ngx_http_mkt_redis_conn_t *rc, ngx_uint_t i, int argc, const char **argv,
    size_t *argvlen);
ngx_int_t ngx_http_mkt_rsink_conn(ngx_http_mkt_rsink_t *s,
    ngx_http_mkt_redis_conn_t **rcp);
void ngx_http_mkt_rsink_range(ngx_http_mkt_rsink_t *s,
    ngx_http_mkt_redis_conn_t *rc, ngx_uint_t op, const char *cmd,
    const char *start, const char *end, const char *count);
void ngx_http_mkt_rsink_xadd(ngx_http_mkt_rsink_t *s, ngx_uint_t op,
    ngx_http_mkt_redis_conn_t *rc);
void ngx_http_mkt_rsink_replay(ngx_http_mkt_rsink_t *s);
void ngx_http_mkt_rsink_check_reply(ngx_http_mkt_rsink_t *s,
    redisReply *reply);
void ngx_http_mkt_rsink_replay_done(ngx_http_mkt_rsink_t *s);
void ngx_http_mkt_events_redis_log(ngx_uint_t level, ngx_err_t err,
    const char *fmt, ...);


#endif /* _NGX_HTTP_MKT_EVENTS_REDIS_H_INCLUDED_ */
