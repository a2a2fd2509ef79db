/* Shared declarations of the ngx_http_mkt_module glue. */
#ifndef _NGX_HTTP_MKT_MODULE_H_INCLUDED_
#define _NGX_HTTP_MKT_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis.h>

#include "config.h"
#include "cookie.h"
#include "event.h"
#include "experiment.h"
#include "geo.h"
#include "hmac.h"
#include "plugin.h"
#include "tags.h"
#include "touch.h"
#include "useragent.h"


#define NGX_HTTP_MKT_VERSION      "0.1.0"
#define NGX_HTTP_MKT_UID_MAX      128


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
    X(bad_cookies_expired, "Visitor cookies rejected as older than "        \
      "max_age and a day: copies no browser would still send")              \
    X(cookies_set, "Visitor cookies sent (new, or refreshed)")              \
    X(cookies_refreshed, "Visitor cookies re-issued to extend max-age")     \
    X(known_users, "Requests with a known user id")                         \
    X(id_failures, "Requests served without an id: no randomness or "       \
      "signing failed")                                                     \
    X(assignments, "Experiment assignments by hash or sticky bucket")       \
    X(forced, "Requests with variations forced by an authorised QA "        \
      "?mkt_force=")                                                        \
    X(qa_denied, "Requests with ?mkt_force= from outside mkt_qa, ignored")  \
    X(bad_sticky_cookies, "Sticky-bucket cookies rejected (malformed, "     \
      "oversized, unsigned or wrongly signed)")                             \
    X(bad_touch_cookies, "Touch cookies _mkt_ft and _mkt_lt rejected "      \
      "(malformed, oversized, unsigned, wrongly signed or from the "        \
      "future), once per name and request that reads them")                 \
    X(bad_tags, "Tags from Redis skipped: an invalid name or score")        \
    X(tags_cache_hits, "Tag lookups answered by mkt_tags_cache")            \
    X(tags_cache_misses, "Requests whose tags were not all cached")         \
    X(redis_connects, "Connections opened to mkt_redis")                    \
    X(redis_ok, "Redis replies received")                                   \
    X(redis_errors, "Redis error replies and failed connections")           \
    X(redis_timeouts, "Requests that stopped waiting for Redis at "         \
      "timeout")                                                            \
    X(redis_skipped, "Requests that skipped Redis: circuit open")           \
    X(redis_circuit_open, "Times the circuit breaker opened")              \
    X(redis_bad_replies, "Replies of an unexpected type")                   \
    X(aliases_written, "mkt:alias:VID writes")                              \
    X(regex_limit_hits, "Requests where a $regex or match.path gave up at "  \
      "its match limit (counted as no match)")                              \
    X(touches, "Requests that are a touch: campaign parameters, a click "   \
      "id, a channel code or an external referrer")                         \
    X(no_tracking, "Requests not tracked: GPC, DNT or consent "             \
      "(mkt_privacy)")                                                      \
    X(bots, "Requests from bots (by User-Agent): no cookie set")           \
    X(prefetches, "Prefetch and prerender requests: no exposure")          \
    X(geo_lookups, "Geo lookups (at most one per request)")                 \
    X(geo_not_found, "Geo lookups of an address the database has no "      \
      "record for")                                                         \
    X(geo_bad_address, "Geo lookups skipped: the source is empty or not "   \
      "an IP address")                                                      \
    X(geo_errors, "Geo lookups failed on corrupt data; served without geo") \
    X(exposures, "First exposures of a visitor to a variation that day "   \
      "(counted with or without an event sink)")                           \
    X(events, "Events stored by at least one sink")                        \
    X(events_dropped, "Events no sink could store: lost")                   \
    X(events_exposures, "Exposure events recorded")                         \
    X(events_touches, "Touch events recorded")                              \
    X(events_conversions, "Conversion events recorded")                     \
    X(events_log_written, "Events written to mkt_events_log")               \
    X(events_log_errors, "Events lost to failed writes of mkt_events_log") \
    X(collect_requests, "Requests to mkt_collect locations")               \
    X(collect_rejected, "Beacons refused with 400, all reasons")            \
    X(collect_rejected_too_large, "Beacons refused: body over max_body")    \
    X(collect_rejected_malformed, "Beacons refused: not strict JSON")       \
    X(collect_rejected_not_events, "Beacons refused: JSON, but not an "     \
      "event object or a non-empty array of them")                          \
    X(collect_rejected_too_many, "Beacons refused: more events than "       \
      "max_events")                                                         \
    X(collect_rejected_unknown_goal, "Beacons refused: a goal the config "  \
      "does not list")                                                      \
    X(collect_rejected_invalid, "Beacons refused: a field missing, "        \
      "repeated, or of a wrong type or value")                              \
    X(collect_rejected_content_type, "Beacons refused: a POST neither "     \
      "application/json nor text/plain")                                    \
    X(collect_not_allowed, "Requests to mkt_collect with a method it does " \
      "not take (405)")                                                     \
    X(collect_unacknowledged, "Beacons answered 503: no sink stored an "    \
      "event")                                                              \
    X(conversions_deduplicated, "Conversions acknowledged but not "         \
      "recorded again: their (goal, order) was seen within the window")     \
    X(conversions_bad_values, "mkt_conversion values refused by the "       \
      "checks: the conversion is recorded without them")                    \
    X(dedup_evicted, "Orders evicted from the dedup zone before their "     \
      "window ended: the zone is too small")                                \
    X(events_redis_written, "Events added to the mkt_events_redis stream "  \
      "(replays not included)")                                             \
    X(events_redis_errors, "XADDs of events that failed: error reply, "     \
      "lost connection, timeout, not sent (circuit open), or a reply "       \
      "that is no stream id")                                               \
    X(events_redis_bad_replies, "XADD replies neither a stream id nor an "  \
      "error: the event is taken as not added")                             \
    X(events_redis_dropped, "Events the Redis sink lost: failed or over "   \
      "its queue without mkt_events_spool, or the spool not writable")      \
    X(events_spooled, "Events written to the mkt_events_spool files")      \
    X(events_replayed, "Spooled events added to the stream by a replay")   \
    X(events_replay_duplicates, "Spooled events found in the stream "       \
      "already (their reply was lost): not added again")                    \
    X(events_spool_files_claimed, "Spool files of an exited worker or "     \
      "earlier nginx taken over for replay")

#define NGX_HTTP_MKT_COUNTER_ENUM(name, help)  NGX_HTTP_MKT_C_##name,

typedef enum {
    NGX_HTTP_MKT_COUNTERS(NGX_HTTP_MKT_COUNTER_ENUM)
    NGX_HTTP_MKT_NCOUNTERS
} ngx_http_mkt_counter_e;


/* per-worker gauges: a slot per live worker, claimed by its pid */
#define NGX_HTTP_MKT_GAUGE_SLOTS   128

typedef struct {
    ngx_atomic_t               pid;           /* 0: free */
    ngx_atomic_t               redis_queue;   /* events in memory */
    ngx_atomic_t               spool_oldest;  /* unix ms, 0: none */
} ngx_http_mkt_gauges_t;

typedef struct {
    ngx_atomic_t               counter[NGX_HTTP_MKT_NCOUNTERS];
    /* per mkt_plugin, by position; the name tells a reload's new list */
    ngx_atomic_t               plugin[MKT_PLUGINS_MAX][MKT_PLUGIN_NCOUNTERS];
    u_char                     plugin_name[MKT_PLUGINS_MAX]
                                          [MKT_PLUGIN_NAME_MAX + 1];
    ngx_http_mkt_gauges_t      worker[NGX_HTTP_MKT_GAUGE_SLOTS];
} ngx_http_mkt_shctx_t;


typedef struct ngx_http_mkt_geo_conf_s  ngx_http_mkt_geo_conf_t;
typedef struct ngx_http_mkt_exposures_s  ngx_http_mkt_exposures_t;
typedef struct ngx_http_mkt_collect_main_s  ngx_http_mkt_collect_main_t;
typedef struct ngx_http_mkt_collect_conf_s  ngx_http_mkt_collect_conf_t;

typedef struct {
    ngx_addr_t                 addr;
    ngx_msec_t                 timeout;
    ngx_msec_t                 connect_timeout;
    ngx_msec_t                 backoff;
    ngx_uint_t                 pool;
    ngx_uint_t                 fails;
    ngx_int_t                  db;            /* -1: no SELECT */
    ngx_str_t                  user;
    ngx_str_t                  password;
} ngx_http_mkt_redis_conf_t;


typedef struct {
    ngx_str_t                  secret;
    mkt_hmac_t                *hmac;
    mkt_config_t              *config;        /* mkt_config, or NULL */
    ngx_shm_zone_t            *status_zone;
    ngx_flag_t                 used;          /* "mkt on" appears somewhere */
    ngx_http_mkt_redis_conf_t *redis;         /* mkt_redis, or NULL */
    ngx_shm_zone_t            *tags_zone;     /* mkt_tags_cache, or NULL */
    ngx_http_mkt_geo_conf_t   *geo;           /* mkt_geoip2, or NULL */
    ngx_array_t               *sinks;         /* of ngx_http_mkt_sink_t */
    ngx_http_mkt_exposures_t  *exposures;     /* counts for the SRM check */
    ngx_http_mkt_collect_main_t *collect;     /* mkt_collect, mkt_conversion:
                                               * NULL when neither is used */
    ngx_array_t               *plugins;       /* mkt_plugin sources */
    mkt_plugins_t             *plugin_vm;     /* while configuring */
    ngx_uint_t                 nplugins;
    u_char                     plugin_names[MKT_PLUGINS_MAX]
                                           [MKT_PLUGIN_NAME_MAX + 1];
    void                      *events_redis;  /* mkt_events_redis, or NULL */
    ngx_path_t                *events_spool;  /* mkt_events_spool, or NULL */
} ngx_http_mkt_main_conf_t;


/* an event sink: see ngx_http_mkt_events_sink_add() */
typedef ngx_int_t (*ngx_http_mkt_sink_write_pt)(void *data, u_char *line,
    size_t len, ngx_uint_t sync);
typedef void (*ngx_http_mkt_sink_exit_pt)(void *data);

typedef struct {
    const char                  *name;
    ngx_http_mkt_sink_write_pt   write;
    ngx_http_mkt_sink_exit_pt    exit;
    void                        *data;
} ngx_http_mkt_sink_t;


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
    size_t                     attrs_after_age;  /* offset past Max-Age */
    ngx_flag_t                 set;
} ngx_http_mkt_cookie_conf_t;


typedef struct {
    ngx_http_mkt_cookie_conf_t  cookie;
    ngx_array_t                *qa_cidrs;     /* of ngx_cidr_t */
    ngx_str_t                   qa_token;
    ngx_flag_t                  privacy_gpc;  /* honour Sec-GPC: 1 */
    ngx_flag_t                  privacy_dnt;  /* honour DNT: 1 */
    ngx_http_complex_value_t   *consent;      /* set and not "granted":
                                               * no tracking */
} ngx_http_mkt_srv_conf_t;


typedef struct {
    ngx_flag_t                 enable;
    ngx_http_complex_value_t  *user_id;
    ngx_http_mkt_collect_conf_t *collect;     /* mkt_collect here, or NULL */
    ngx_array_t               *conversions;   /* mkt_conversion, or NULL */
    ngx_flag_t                 status;        /* mkt_status here */
} ngx_http_mkt_loc_conf_t;


/* request headers of privacy and prefetch signals: ngx_http_mkt_signals */
typedef struct {
    ngx_table_elt_t           *gpc;           /* Sec-GPC */
    ngx_table_elt_t           *dnt;
    ngx_table_elt_t           *sec_purpose;
    ngx_table_elt_t           *purpose;
    ngx_table_elt_t           *moz;           /* X-Moz */
    ngx_table_elt_t           *x_purpose;
} ngx_http_mkt_signals_t;


typedef struct ngx_http_mkt_ctx_s    ngx_http_mkt_ctx_t;
typedef struct ngx_http_mkt_fetch_s  ngx_http_mkt_fetch_t;

/* a request waiting for the Redis read of one of its ids */
typedef struct {
    ngx_queue_t                queue;         /* in the fetch's waiters */
    ngx_http_request_t        *r;
    ngx_http_mkt_ctx_t        *ctx;
    ngx_uint_t                 slot;          /* in ctx->id_tags */
    unsigned                   attached:1;
} ngx_http_mkt_waiter_t;


/* the module's cookies, found in one pass over the Cookie headers */
#define NGX_HTTP_MKT_COOKIE_VISITOR  0     /* mkt_cookie name=, "_mkt" */
#define NGX_HTTP_MKT_COOKIE_STICKY   1     /* _mkt_sb */
#define NGX_HTTP_MKT_COOKIE_FT       2     /* _mkt_ft */
#define NGX_HTTP_MKT_COOKIE_LT       3     /* _mkt_lt */
#define NGX_HTTP_MKT_COOKIES         4
#define NGX_HTTP_MKT_COOKIE_DUPS     4     /* values kept of one name */

typedef struct {
    ngx_str_t                  value[NGX_HTTP_MKT_COOKIE_DUPS];
    ngx_uint_t                 n;             /* seen: more than kept
                                               * means scan again */
} ngx_http_mkt_cookie_vals_t;


/* touch fields the request keeps: source, medium, campaign */
#define NGX_HTTP_MKT_TOUCH_KEPT    3

#define NGX_HTTP_MKT_TAGS_NONE     0
#define NGX_HTTP_MKT_TAGS_WAITING  1
#define NGX_HTTP_MKT_TAGS_DONE     2

/* per main request; survives internal redirects (see ngx_http_mkt_ctx) */
struct ngx_http_mkt_ctx_s {
    u_char                     vid[MKT_VID_LEN];
    ngx_str_t                  uid;
    ngx_str_t                  set_cookie;    /* value to send, if any */

    mkt_exp_result_t          *results;       /* experiments decided */
    size_t                     nresults;
    mkt_slot_result_t         *slots;         /* one per slot, or NULL */
    ngx_str_t                  experiments;   /* $mkt_experiments */
    ngx_str_t                  cache_key;     /* $mkt_cache_key */
    ngx_str_t                  sticky_cookie; /* _mkt_sb value to send */
    mkt_geo_loc_t             *geo;           /* on first use, or NULL */

    ngx_str_t                  id_tags[2];    /* tag blobs: uid, vid */
    ngx_str_t                  tags;          /* $mkt_tags */
    mkt_val_t                 *tag_items;     /* attribute "tags" */
    size_t                     ntags;
    ngx_http_mkt_waiter_t      waiter[2];
    ngx_uint_t                 waiting;
    ngx_event_t                tags_ev;       /* wake-up and timeout */
    mkt_ua_t                   ua;            /* when ua_done */

    ngx_str_t                  utm[MKT_UTM_FIELDS];   /* $mkt_utm_* */
    ngx_str_t                  click_id;              /* $mkt_click_id */
    ngx_str_t                  ft[NGX_HTTP_MKT_TOUCH_KEPT];  /* first */
    ngx_str_t                  ft_checked;  /* the _mkt_ft value verified */
    ngx_str_t                  lt[NGX_HTTP_MKT_TOUCH_KEPT];  /* last */
    ngx_str_t                  ft_cookie;     /* _mkt_ft value to send */
    ngx_str_t                  lt_cookie;     /* _mkt_lt value to send */
    mkt_channel_e              channel;       /* $mkt_channel; ft, lt and
                                               * channel: after
                                               * ngx_http_mkt_touch_settle */
    ngx_http_mkt_cookie_vals_t cookies[NGX_HTTP_MKT_COOKIES];

    unsigned                   done:1;        /* decisions settled */
    unsigned                   has_vid:1;
    unsigned                   is_new:1;
    unsigned                   cookie_sent:1;
    unsigned                   sticky_set:1;  /* send sticky_cookie */
    unsigned                   identified:1;
    unsigned                   no_tracking:1; /* mkt_privacy says no */
    unsigned                   bot:1;         /* User-Agent of a bot */
    unsigned                   prefetch:1;    /* Sec-Purpose: prefetch */
    unsigned                   ua_done:1;
    unsigned                   touch:1;       /* this request is a touch */
    unsigned                   tags_state:2;
    unsigned                   cookies_found:1;  /* cookies[] are set */
    unsigned                   ft_direct:1;   /* a direct visit that only
                                               * saw _mkt_ft's frame */
    unsigned                   ft_pending:1;  /* ft[] from _mkt_ft, lt[] */
    unsigned                   lt_pending:1;  /* from _mkt_lt and channel:
                                               * ngx_http_mkt_touch_settle */
    unsigned                   channel_pending:1;
    unsigned                   read_off:1;    /* a $mkt_* variable was read
                                               * where mkt is off: its
                                               * value is cached empty */
};


extern ngx_module_t  ngx_http_mkt_module;


ngx_http_mkt_ctx_t *ngx_http_mkt_ctx(ngx_http_request_t *r, ngx_uint_t create);
ngx_int_t ngx_http_mkt_conf_read(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    const char *what, ngx_str_t *out);
char *ngx_http_mkt_conf_invalid(ngx_conf_t *cf, ngx_str_t *value);
ngx_http_mkt_ctx_t *ngx_http_mkt_decide(ngx_http_request_t *r);
void ngx_http_mkt_identify(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx);

void ngx_http_mkt_identity(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx);
ngx_uint_t ngx_http_mkt_visitor_cookie(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, mkt_visitor_t *v, mkt_cookie_status_e *bad);
void ngx_http_mkt_user_id(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx);
ngx_uint_t ngx_http_mkt_cookie_each(ngx_http_request_t *r, ngx_str_t *name,
    ngx_uint_t (*found)(void *data, const char *val, size_t len),
    void *data);
ngx_uint_t ngx_http_mkt_cookie_each_of(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, ngx_uint_t which,
    ngx_uint_t (*found)(void *data, const char *val, size_t len),
    void *data);
ngx_int_t ngx_http_mkt_send_cookie(ngx_http_request_t *r, ngx_uint_t which,
    ngx_str_t *value);
ngx_int_t ngx_http_mkt_send_cookies(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx);
char *ngx_http_mkt_cookie_merge(ngx_conf_t *cf,
    ngx_http_mkt_cookie_conf_t *prev, ngx_http_mkt_cookie_conf_t *conf);
char *ngx_http_mkt_cookie(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_mkt_privacy(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void ngx_http_mkt_signals(ngx_http_request_t *r, ngx_http_mkt_signals_t *s);
ngx_uint_t ngx_http_mkt_tracking_permitted(ngx_http_request_t *r,
    ngx_http_mkt_signals_t *s);
ngx_uint_t ngx_http_mkt_is_prefetch(ngx_http_mkt_signals_t *s);
mkt_ua_t *ngx_http_mkt_request_ua(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx);

ngx_int_t ngx_http_mkt_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_mkt_header_out(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len);
ngx_table_elt_t *ngx_http_mkt_header_in(ngx_http_request_t *r, u_char *name,
    size_t len);
ngx_http_mkt_ctx_t *ngx_http_mkt_var_ctx(ngx_http_request_t *r);
void ngx_http_mkt_vars_flush(ngx_http_request_t *r);
ngx_int_t ngx_http_mkt_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
void ngx_http_mkt_var_set(ngx_http_variable_value_t *v, u_char *data,
    size_t len);

char *ngx_http_mkt_config(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_mkt_experiments_init_process(ngx_cycle_t *cycle);
void ngx_http_mkt_experiments(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx);
extern ngx_http_variable_t  ngx_http_mkt_exp_vars[];

ngx_int_t ngx_http_mkt_attr_by_name(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, u_char *name, size_t len, u_char *sub,
    size_t sub_len, mkt_val_t *v);

char *ngx_http_mkt_plugin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_mkt_plugin_check(ngx_conf_t *cf,
    ngx_http_mkt_main_conf_t *mcf);
ngx_int_t ngx_http_mkt_plugin_init_process(ngx_cycle_t *cycle);
void ngx_http_mkt_plugin_exit_process(ngx_cycle_t *cycle);
void ngx_http_mkt_plugin_attributes(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, mkt_val_t *attrs);
void ngx_http_mkt_plugin_choose(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx);
/* the event hooks: NGX_OK keeps ev (maybe changed), NGX_DECLINED drops it */
ngx_int_t ngx_http_mkt_plugin_event(ngx_http_request_t *r, mkt_event_t *ev);
void ngx_http_mkt_plugin_status_sync(ngx_http_mkt_shctx_t *sh,
    ngx_http_mkt_main_conf_t *mcf);
size_t ngx_http_mkt_plugin_status_size(ngx_http_mkt_main_conf_t *mcf);
u_char *ngx_http_mkt_plugin_status(u_char *p, ngx_http_mkt_shctx_t *sh,
    ngx_http_mkt_main_conf_t *mcf, ngx_uint_t prom);

void ngx_http_mkt_touch(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx);
/* which touches ngx_http_mkt_touch_settle() reads: the last touch also
 * gives the channel of a visit that is no touch */
#define NGX_HTTP_MKT_SETTLE_FT    1
#define NGX_HTTP_MKT_SETTLE_LT    2
#define NGX_HTTP_MKT_SETTLE_BOTH  3

void ngx_http_mkt_touch_settle(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, ngx_uint_t which);
void ngx_http_mkt_touch_event(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx);
ngx_int_t ngx_http_mkt_touch_attr(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, ngx_uint_t which, mkt_val_t *v);
extern ngx_http_variable_t  ngx_http_mkt_touch_vars[];

typedef struct ngx_http_mkt_redis_conn_s  ngx_http_mkt_redis_conn_t;
typedef void (*ngx_http_mkt_redis_reply_pt)(void *data, redisReply *reply);

char *ngx_http_mkt_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_mkt_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_mkt_redis_exit_process(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_mkt_redis_enabled(void);
ngx_msec_t ngx_http_mkt_redis_timeout(void);
ngx_http_mkt_redis_conn_t *ngx_http_mkt_redis_connection(void);
ngx_int_t ngx_http_mkt_redis_send(ngx_http_mkt_redis_conn_t *rc, int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_mkt_redis_reply_pt handler, void *data);
void ngx_http_mkt_redis_timed_out(void);
void ngx_http_mkt_redis_log_reply(const char *what, redisReply *reply);
ngx_uint_t ngx_http_mkt_redis_identified(ngx_http_mkt_redis_conn_t *rc);
ngx_int_t ngx_http_mkt_redis_identify(ngx_http_mkt_redis_conn_t *rc,
    ngx_http_mkt_redis_reply_pt handler, void *data);
ngx_uint_t ngx_http_mkt_redis_fence(ngx_http_mkt_redis_conn_t *rc);
void ngx_http_mkt_redis_fenced(ngx_uint_t n);
extern redisReplyObjectFunctions  ngx_http_mkt_redis_reply_fn;
void ngx_http_mkt_redis_reply_start(redisReader *reader, size_t *used);
void ngx_http_mkt_redis_reply_free(void *reply);

/* a shared rbtree with an LRU queue (ngx_http_mkt_lru.c) */
typedef struct {
    ngx_rbtree_t               rbtree;
    ngx_rbtree_node_t          sentinel;
    ngx_queue_t                queue;         /* most recent first */
} ngx_http_mkt_lru_sh_t;

typedef struct {
    ngx_http_mkt_lru_sh_t     *sh;
    ngx_slab_pool_t           *shpool;
    ngx_rbtree_insert_pt       insert;
    size_t                     queue_offset;  /* of a node's queue link */
    const char                *name;          /* for slab messages */
} ngx_http_mkt_lru_t;

ngx_shm_zone_t *ngx_http_mkt_lru_zone(ngx_conf_t *cf, ngx_str_t *name,
    size_t size, ngx_http_mkt_lru_t *lru, ngx_rbtree_insert_pt insert,
    size_t queue_offset, const char *label);
ngx_int_t ngx_http_mkt_lru_init_zone(ngx_shm_zone_t *shm_zone, void *data);
void ngx_http_mkt_lru_remove_locked(ngx_http_mkt_lru_t *lru, ngx_queue_t *q);
ngx_queue_t *ngx_http_mkt_lru_oldest_locked(ngx_http_mkt_lru_t *lru);
ngx_rbtree_node_t *ngx_http_mkt_lru_alloc_locked(ngx_http_mkt_lru_t *lru,
    size_t size, ngx_uint_t *evicted);

#define NGX_HTTP_MKT_KIND_TAGS     0     /* id -> tag blob */
#define NGX_HTTP_MKT_KIND_ALIAS    1     /* vid -> uid last written */

char *ngx_http_mkt_tags_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_mkt_cache_init_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_mkt_cache_get(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *key, ngx_str_t *value);
void ngx_http_mkt_cache_put(ngx_uint_t kind, ngx_str_t *key, u_char *value,
    size_t len, time_t expires);
time_t ngx_http_mkt_cache_ttl(ngx_uint_t empty);
ngx_int_t ngx_http_mkt_tags_init_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_mkt_tags_fetch(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx);
void ngx_http_mkt_tags_detach(ngx_http_mkt_ctx_t *ctx);
void ngx_http_mkt_tags_settle(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx);
char *ngx_http_mkt_geoip2(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_mkt_geo_attr(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, mkt_val_t *v);
extern ngx_http_variable_t  ngx_http_mkt_geo_vars[];

mkt_geo_loc_t *ngx_http_mkt_geo_loc(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx);

char *ngx_http_mkt_events_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_mkt_events_sink_add(ngx_conf_t *cf,
    ngx_http_mkt_main_conf_t *mcf, const char *name,
    ngx_http_mkt_sink_write_pt write, ngx_http_mkt_sink_exit_pt exit,
    void *data);
ngx_int_t ngx_http_mkt_events_init_process(ngx_cycle_t *cycle);
void ngx_http_mkt_events_exit_process(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_mkt_events_enabled(ngx_http_request_t *r);
ngx_uint_t ngx_http_mkt_page_seen(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx);
void ngx_http_mkt_event_from_request(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, mkt_event_type_e type, mkt_event_t *ev);
ngx_int_t ngx_http_mkt_event_emit(ngx_http_request_t *r, mkt_event_t *ev);

ngx_int_t ngx_http_mkt_exposures_conf(ngx_conf_t *cf,
    ngx_http_mkt_main_conf_t *mcf);
void ngx_http_mkt_exposures_count(ngx_http_request_t *r, ngx_uint_t exp,
    ngx_uint_t variation);
ngx_buf_t *ngx_http_mkt_exposures_status(ngx_http_request_t *r,
    ngx_uint_t prom);
char *ngx_http_mkt_collect(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_mkt_conversion(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_mkt_collect_buffer(ngx_http_core_loc_conf_t *clcf,
    ngx_http_mkt_collect_conf_t *cc);
ngx_int_t ngx_http_mkt_collect_init(ngx_conf_t *cf,
    ngx_http_mkt_main_conf_t *mcf);
ngx_int_t ngx_http_mkt_collect_init_process(ngx_cycle_t *cycle);
char *ngx_http_mkt_events_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mkt_events_spool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mkt_events_redis_check(ngx_conf_t *cf,
    ngx_http_mkt_main_conf_t *mcf);
ngx_int_t ngx_http_mkt_events_redis_init_process(ngx_cycle_t *cycle);

char *ngx_http_mkt_qa(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_uint_t ngx_http_mkt_qa_allowed(ngx_http_request_t *r);

void *ngx_http_mkt_shm_calloc(ngx_shm_zone_t *shm_zone, void *data,
    size_t size);
ngx_int_t ngx_http_mkt_status_init_zone(ngx_conf_t *cf,
    ngx_http_mkt_main_conf_t *mcf);
void ngx_http_mkt_count(ngx_http_request_t *r, ngx_http_mkt_counter_e c);
void ngx_http_mkt_count_n(ngx_http_request_t *r, ngx_http_mkt_counter_e c,
    ngx_uint_t n);
void ngx_http_mkt_count_worker(ngx_http_mkt_counter_e c);
void ngx_http_mkt_count_worker_n(ngx_http_mkt_counter_e c, ngx_uint_t n);
char *ngx_http_mkt_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_http_mkt_gauges_t *ngx_http_mkt_gauges_claim(ngx_cycle_t *cycle);
void ngx_http_mkt_gauges_release(ngx_http_mkt_gauges_t *g);


#endif /* _NGX_HTTP_MKT_MODULE_H_INCLUDED_ */
