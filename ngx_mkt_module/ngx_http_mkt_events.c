/*
 * Events (DESIGN.md section 8): the request's facts made into an event,
 * encoded once per event into per-worker scratch and handed, a JSON line,
 * to every configured sink.  Sinks register at configuration time
 * (ngx_http_mkt_events_sink_add); the JSON-lines file sink of
 * mkt_events_log is here, buffered per worker as access_log's buffer=.
 */

#include "ngx_http_mkt_module.h"

#include "event.h"
#include "event_id.h"


/*
 * Laid out as ngx_http_log_module's ngx_http_log_buf_t up to gzip: an
 * access_log to the same file takes file->data for a buffer of its own
 * kind, buffers its lines here and arms this flush timer.
 */
typedef struct {
    u_char                    *start;
    u_char                    *pos;
    u_char                    *last;
    ngx_event_t               *event;         /* flush timer */
    ngx_msec_t                 flush;
    ngx_int_t                  gzip;          /* 0: access_log's, unused */
    ngx_uint_t                 lines;         /* events in the buffer */
} ngx_http_mkt_log_buf_t;


typedef struct {
    ngx_open_file_t           *file;
    ngx_http_mkt_log_buf_t    *buffer;        /* NULL: write-through */
} ngx_http_mkt_log_sink_t;


static ngx_int_t ngx_http_mkt_log_sink_write(void *data, u_char *line,
    size_t len, ngx_uint_t sync);
static ngx_int_t ngx_http_mkt_log_drain(ngx_open_file_t *file,
    ngx_log_t *log);
static void ngx_http_mkt_log_sink_exit(void *data);
static void ngx_http_mkt_log_flush(ngx_open_file_t *file, ngx_log_t *log);
static void ngx_http_mkt_log_flush_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_mkt_log_write(ngx_open_file_t *file, ngx_log_t *log,
    u_char *buf, size_t len, ngx_uint_t lines);


/* per worker */
static mkt_event_id_gen_t  ngx_http_mkt_event_ids;
static u_char             *ngx_http_mkt_event_line;   /* MKT_EVENT_MAX + 1 */


/*
 * Adds a sink: write() is handed every event as one JSON line (ending in
 * "\n") and answers NGX_OK when the event is stored (written, queued for a
 * write that cannot lose it, or spooled), else NGX_ERROR; with sync (an
 * event acknowledged to a client) a sink that buffers writes it at once.
 * exit(), if any, runs at worker exit.
 */
ngx_int_t
ngx_http_mkt_events_sink_add(ngx_conf_t *cf, ngx_http_mkt_main_conf_t *mcf,
    const char *name, ngx_http_mkt_sink_write_pt write,
    ngx_http_mkt_sink_exit_pt exit, void *data)
{
    ngx_http_mkt_sink_t  *sink;

    if (mcf->sinks == NULL) {
        mcf->sinks = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_http_mkt_sink_t));
        if (mcf->sinks == NULL) {
            return NGX_ERROR;
        }
    }

    sink = ngx_array_push(mcf->sinks);
    if (sink == NULL) {
        return NGX_ERROR;
    }

    sink->name = name;
    sink->write = write;
    sink->exit = exit;
    sink->data = data;

    return NGX_OK;
}


ngx_int_t
ngx_http_mkt_events_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mkt_module);

    if (mcf == NULL || mcf->sinks == NULL) {
        return NGX_OK;
    }

    /* after fork: no two workers continue one generator */
    mkt_event_id_init(&ngx_http_mkt_event_ids);

    ngx_http_mkt_event_line = ngx_alloc(MKT_EVENT_MAX + 1, cycle->log);
    if (ngx_http_mkt_event_line == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_mkt_events_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i;
    ngx_http_mkt_sink_t       *sink;
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mkt_module);

    if (mcf == NULL || mcf->sinks == NULL) {
        return;
    }

    sink = mcf->sinks->elts;

    for (i = 0; i < mcf->sinks->nelts; i++) {
        if (sink[i].exit) {
            sink[i].exit(sink[i].data);
        }
    }
}


/* Whether events are recorded at all: some sink is configured. */
ngx_uint_t
ngx_http_mkt_events_enabled(ngx_http_request_t *r)
{
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);

    return mcf->sinks != NULL && ngx_http_mkt_event_line != NULL;
}


/* Whether a person the module may track saw this page, so that it may
 * count as an exposure or a touch: tracking permitted, and neither a HEAD
 * (a monitor, a link checker), a bot nor a prefetch. */
ngx_uint_t
ngx_http_mkt_page_seen(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    return r->method != NGX_HTTP_HEAD
           && !ctx->no_tracking && !ctx->bot && !ctx->prefetch;
}


/*
 * An event of this type with the request's facts: the visitor and the
 * assignments (none when mkt_privacy forbids tracking), first and last
 * touch, geo, device, host and path.  Strings are borrowed from the
 * request and its context.
 */
void
ngx_http_mkt_event_from_request(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, mkt_event_type_e type, mkt_event_t *ev)
{
    size_t                     i, n;
    ngx_uint_t                 k;
    ngx_time_t                *tp;
    mkt_config_t              *cfg;
    mkt_event_assign_t        *a;
    const mkt_experiment_t    *e;
    ngx_http_mkt_main_conf_t  *mcf;

    tp = ngx_timeofday();
    mkt_event_init(ev, type, (int64_t) tp->sec * 1000 + tp->msec);

    ev->host.data = (char *) r->headers_in.server.data;
    ev->host.len = r->headers_in.server.len;
    ev->path.data = (char *) r->uri.data;
    ev->path.len = r->uri.len;

    if (ctx == NULL) {
        return;
    }

    ev->device.data = mkt_ua_device_name(ngx_http_mkt_request_ua(r, ctx)
                                         ->device);
    ev->device.len = ngx_strlen(ev->device.data);

    mkt_event_set_geo(ev, ngx_http_mkt_geo_loc(r, ctx));

    if (ctx->no_tracking) {
        return;
    }

    if (ctx->has_vid) {
        ev->vid.data = (char *) ctx->vid;
        ev->vid.len = MKT_VID_LEN;
    }

    ev->uid.data = (char *) ctx->uid.data;
    ev->uid.len = ctx->uid.len;

    ngx_http_mkt_touch_settle(r, ctx, NGX_HTTP_MKT_SETTLE_BOTH);

    for (k = 0; k < NGX_HTTP_MKT_TOUCH_KEPT; k++) {
        ev->ft[k].data = (char *) ctx->ft[k].data;
        ev->ft[k].len = ctx->ft[k].len;
        ev->lt[k].data = (char *) ctx->lt[k].data;
        ev->lt[k].len = ctx->lt[k].len;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    cfg = mcf->config;

    if (cfg == NULL || ctx->nresults == 0) {
        return;
    }

    a = ngx_palloc(r->pool, ctx->nresults * sizeof(mkt_event_assign_t));
    if (a == NULL) {
        return;
    }

    /* what the visitor is in, not what QA forced on this request */
    n = 0;

    for (i = 0; i < ctx->nresults; i++) {
        if (ctx->results[i].variation < 0 || ctx->results[i].forced) {
            continue;
        }

        e = mkt_config_experiment(cfg, ctx->results[i].exp);
        a[n].key = e->key;
        a[n].variation = e->variations[ctx->results[i].variation];
        n++;
    }

    ev->assign = a;
    ev->nassign = n;
}


/*
 * Gives ev an id, lets the plugins' event hooks change or drop it,
 * encodes it and hands the line to every sink.  NGX_OK when at least one
 * sink stored it (the event may be acknowledged), NGX_DECLINED when a
 * plugin dropped it (on purpose: acknowledge it all the same), NGX_ERROR
 * when no sink stored it (counted as dropped) or events are off.  ev
 * itself is not changed.  Conversions are acknowledged to clients: sinks
 * store them synchronously (the log sink writes them at once).
 */
ngx_int_t
ngx_http_mkt_event_emit(ngx_http_request_t *r, mkt_event_t *ev)
{
    size_t                     len;
    ngx_uint_t                 i, stored, sync;
    mkt_event_t                out;
    ngx_http_mkt_ctx_t        *ctx;
    ngx_http_mkt_sink_t       *sink;
    ngx_http_mkt_main_conf_t  *mcf;
    char                       id[MKT_EVENT_ID_LEN];

    if (!ngx_http_mkt_events_enabled(r)) {
        return NGX_ERROR;
    }

    if (mkt_event_id_next(&ngx_http_mkt_event_ids, ev->ts, id) != 0) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_events_dropped);
        return NGX_ERROR;
    }

    /* plugins change a copy: callers reuse ev for the next event */
    out = *ev;
    out.id.data = id;
    out.id.len = MKT_EVENT_ID_LEN;

    if (ngx_http_mkt_plugin_event(r, &out) == NGX_DECLINED) {
        return NGX_DECLINED;
    }

    /* an event of a request without tracking carries no identity, even
     * one a plugin wrote into it */
    ctx = ngx_http_mkt_ctx(r, 0);

    if (ctx != NULL && ctx->no_tracking) {
        out.vid.data = "";
        out.vid.len = 0;
        out.uid.data = "";
        out.uid.len = 0;
    }

    len = mkt_event_encode(&out, (char *) ngx_http_mkt_event_line,
                           MKT_EVENT_MAX);
    if (len == 0) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_events_dropped);
        return NGX_ERROR;
    }

    ngx_http_mkt_event_line[len++] = '\n';

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mkt_module);
    sink = mcf->sinks->elts;
    sync = (out.type == MKT_EVENT_CONVERSION);
    stored = 0;

    for (i = 0; i < mcf->sinks->nelts; i++) {
        if (sink[i].write(sink[i].data, ngx_http_mkt_event_line, len, sync)
            == NGX_OK)
        {
            stored++;
        }
    }

    if (stored == 0) {
        ngx_http_mkt_count(r, NGX_HTTP_MKT_C_events_dropped);
        return NGX_ERROR;
    }

    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_events);

    return NGX_OK;
}


/* --- mkt_events_log FILE [buffer=SIZE] [flush=TIME] ------------------- */

char *
ngx_http_mkt_events_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_main_conf_t  *mcf = conf;

    ssize_t                    size;
    ngx_str_t                 *value, name, s;
    ngx_msec_t                 flush;
    ngx_uint_t                 i;
    ngx_http_mkt_log_buf_t    *buffer;
    ngx_http_mkt_log_sink_t   *sink;

    value = cf->args->elts;
    name = value[1];
    size = 64 * 1024;
    flush = 1000;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "buffer=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            size = ngx_parse_size(&s);
            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid buffer size \"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "flush=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            flush = ngx_parse_time(&s, 0);
            if (flush == (ngx_msec_t) NGX_ERROR || flush == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid flush time \"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        return ngx_http_mkt_conf_invalid(cf, &value[i]);
    }

    sink = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_log_sink_t));
    if (sink == NULL) {
        return NGX_CONF_ERROR;
    }

    /* opened by nginx with O_APPEND, and reopened on "nginx -s reopen" */
    sink->file = ngx_conf_open_file(cf->cycle, &name);
    if (sink->file == NULL) {
        return NGX_CONF_ERROR;
    }

    if (sink->file->flush != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is already written by a buffered log",
                           &name);
        return NGX_CONF_ERROR;
    }

    if (size > 0) {
        if ((size_t) size < MKT_EVENT_MAX + 1) {
            /* a line longer than the buffer is written on its own */
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "event buffer of %z bytes is smaller than the "
                               "longest event, %d bytes", size,
                               MKT_EVENT_MAX + 1);
        }

        buffer = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_log_buf_t));
        if (buffer == NULL) {
            return NGX_CONF_ERROR;
        }

        buffer->start = ngx_pnalloc(cf->pool, size);
        if (buffer->start == NULL) {
            return NGX_CONF_ERROR;
        }

        buffer->pos = buffer->start;
        buffer->last = buffer->start + size;

        buffer->event = ngx_pcalloc(cf->pool, sizeof(ngx_event_t));
        if (buffer->event == NULL) {
            return NGX_CONF_ERROR;
        }

        buffer->event->data = sink->file;
        buffer->event->handler = ngx_http_mkt_log_flush_handler;
        buffer->event->log = &cf->cycle->new_log;
        buffer->event->cancelable = 1;
        buffer->flush = flush;

        sink->buffer = buffer;
        sink->file->flush = ngx_http_mkt_log_flush;
        sink->file->data = buffer;
    }

    if (ngx_http_mkt_events_sink_add(cf, mcf, "log",
                                     ngx_http_mkt_log_sink_write,
                                     ngx_http_mkt_log_sink_exit, sink)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Whole lines only: the buffer is flushed before a line that does not
 * fit, and every write() holds complete lines, so that with O_APPEND the
 * lines of several workers never interleave.  A sync line (an event
 * acknowledged to a client) is written at once, with the lines buffered
 * before it, and stored only if that write succeeds.
 */
static ngx_int_t
ngx_http_mkt_log_sink_write(void *data, u_char *line, size_t len,
    ngx_uint_t sync)
{
    ngx_http_mkt_log_sink_t  *sink = data;

    ngx_http_mkt_log_buf_t  *buffer;

    buffer = sink->buffer;

    if (buffer == NULL) {
        return ngx_http_mkt_log_write(sink->file, ngx_cycle->log, line, len,
                                      1);
    }

    if (len > (size_t) (buffer->last - buffer->pos)) {
        /* a failure loses those lines (counted), not this one */
        (void) ngx_http_mkt_log_drain(sink->file, ngx_cycle->log);
    }

    if (len > (size_t) (buffer->last - buffer->start)) {
        return ngx_http_mkt_log_write(sink->file, ngx_cycle->log, line, len,
                                      1);
    }

    if (buffer->pos == buffer->start) {
        /* an access_log sharing the buffer may have written it */
        buffer->lines = 0;

        if (!buffer->event->timer_set) {
            ngx_add_timer(buffer->event, buffer->flush);
        }
    }

    buffer->pos = ngx_cpymem(buffer->pos, line, len);
    buffer->lines++;

    if (sync) {
        return ngx_http_mkt_log_drain(sink->file, ngx_cycle->log);
    }

    return NGX_OK;
}


static void
ngx_http_mkt_log_sink_exit(void *data)
{
    ngx_http_mkt_log_sink_t  *sink = data;

    if (sink->buffer) {
        ngx_http_mkt_log_flush(sink->file, ngx_cycle->log);
    }
}


/* also run by nginx before it reopens the file (ngx_reopen_files) */
static void
ngx_http_mkt_log_flush(ngx_open_file_t *file, ngx_log_t *log)
{
    (void) ngx_http_mkt_log_drain(file, log);
}


/* Writes the buffer and empties it: NGX_ERROR when the write failed (its
 * lines are lost, counted and logged). */
static ngx_int_t
ngx_http_mkt_log_drain(ngx_open_file_t *file, ngx_log_t *log)
{
    ngx_int_t                rc;
    ngx_http_mkt_log_buf_t  *buffer = file->data;

    rc = NGX_OK;

    if (buffer->pos != buffer->start) {
        rc = ngx_http_mkt_log_write(file, log, buffer->start,
                                    buffer->pos - buffer->start,
                                    buffer->lines);
    }

    buffer->pos = buffer->start;
    buffer->lines = 0;

    if (buffer->event->timer_set) {
        ngx_del_timer(buffer->event);
    }

    return rc;
}


static void
ngx_http_mkt_log_flush_handler(ngx_event_t *ev)
{
    ngx_http_mkt_log_flush(ev->data, ev->log);
}


/* One write(2) of whole lines; a failure is counted and logged at most
 * once a second by nginx's own limit on the log file. */
static ngx_int_t
ngx_http_mkt_log_write(ngx_open_file_t *file, ngx_log_t *log, u_char *buf,
    size_t len, ngx_uint_t lines)
{
    ssize_t          n;
    ngx_err_t        err;
    ngx_file_info_t  fi;
    static time_t    logged;

    n = ngx_write_fd(file->fd, buf, len);

    if (n == (ssize_t) len) {
        ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_log_written, lines);
        return NGX_OK;
    }

    err = (n == -1) ? ngx_errno : 0;

    if (n > 0 && buf[n - 1] != '\n'
        && ngx_write_fd(file->fd, (u_char *) "\n", 1) != 1)
    {
        /*
         * A line cut short must not run into the next write, of this
         * worker or another, once there is space again.  If the "\n" that
         * ends it fits, a reader skips one line that is not JSON; if not,
         * the disk is full, nothing was appended since, and the bytes
         * of this write are taken back.
         */
        if (ngx_fd_info(file->fd, &fi) == NGX_FILE_ERROR
            || ngx_file_size(&fi) < n
            || ftruncate(file->fd, ngx_file_size(&fi) - n) == -1)
        {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "\"%s\" ends in a cut line", file->name.data);
        }
    }

    ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_log_errors, lines);

    if (logged != ngx_time()) {
        logged = ngx_time();

        if (n == -1) {
            ngx_log_error(NGX_LOG_ALERT, log, err,
                          ngx_write_fd_n " to \"%s\" failed: %ui events lost",
                          file->name.data, lines);

        } else {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          ngx_write_fd_n " to \"%s\" was incomplete: %z of "
                          "%uz", file->name.data, n, len);
        }
    }

    return NGX_ERROR;
}
