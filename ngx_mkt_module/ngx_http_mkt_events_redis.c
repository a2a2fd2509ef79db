/*
 * mkt_events_redis: events added to a Redis stream (XADD KEY [MAXLEN ~ N]
 * * e EVENT), queued per worker and sent in pipelined batches over the
 * connections of ngx_http_mkt_redis.c.  An event Redis did not take goes
 * to the spool (ngx_http_mkt_spool.c), replayed when Redis answers again.
 * A replay first reads the stream after the last entry known before the
 * lost replies, so that an event Redis added without its reply reaching
 * us is not added twice.  One operation (probe, batch, check, replay) is
 * in flight at a time, so replies come back in order.  docs/events.md.
 */

#include "ngx_http_mkt_events_redis.h"

#include "event_id.h"


static ngx_int_t ngx_http_mkt_rsink_write(void *data, u_char *line,
    size_t len, ngx_uint_t sync);
static void ngx_http_mkt_rsink_exit(void *data);
static void ngx_http_mkt_rsink_tick(ngx_event_t *ev);
static void ngx_http_mkt_rsink_run(ngx_http_mkt_rsink_t *s);
static void ngx_http_mkt_rsink_probe(ngx_http_mkt_rsink_t *s);
static void ngx_http_mkt_rsink_unavailable(ngx_http_mkt_rsink_t *s);
static void ngx_http_mkt_rsink_batch(ngx_http_mkt_rsink_t *s);
static void ngx_http_mkt_rsink_reply(void *data, redisReply *reply);
static void ngx_http_mkt_rsink_done(ngx_http_mkt_rsink_t *s);
static void ngx_http_mkt_rsink_batch_done(ngx_http_mkt_rsink_t *s);
static void ngx_http_mkt_rsink_spool_batch(ngx_http_mkt_rsink_t *s);
static void ngx_http_mkt_rsink_spool_waiting(ngx_http_mkt_rsink_t *s);
static void ngx_http_mkt_rsink_spool_flight(ngx_http_mkt_rsink_t *s);
static void ngx_http_mkt_rsink_gauges(ngx_http_mkt_rsink_t *s);


/* per worker */
ngx_http_mkt_rsink_t        ngx_http_mkt_rsink;
static ngx_http_mkt_spool_t  ngx_http_mkt_rsink_spool;


/* --- configuration ------------------------------------------------------ */

char *
ngx_http_mkt_events_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_main_conf_t  *mcf = conf;

    ssize_t                     size;
    ngx_int_t                   n;
    ngx_str_t                  *value, s;
    ngx_uint_t                  i;
    ngx_http_mkt_rsink_conf_t  *rcf;

    if (mcf->events_redis) {
        return "is duplicate";
    }

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_rsink_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    rcf->batch = 64;
    rcf->flush = 100;
    rcf->queue = 1024 * 1024;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "stream=", 7) == 0) {
            rcf->key.data = value[i].data + 7;
            rcf->key.len = value[i].len - 7;

            if (rcf->key.len == 0) {
                goto invalid;
            }
            continue;
        }

        if (ngx_strncmp(value[i].data, "maxlen=", 7) == 0) {
            rcf->maxlen.data = value[i].data + 7;
            rcf->maxlen.len = value[i].len - 7;

            n = ngx_atoi(rcf->maxlen.data, rcf->maxlen.len);
            if (n < 1) {
                goto invalid;
            }
            continue;
        }

        if (ngx_strncmp(value[i].data, "batch=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (n < 1 || n > NGX_HTTP_MKT_RSINK_BATCH_MAX) {
                goto invalid;
            }
            rcf->batch = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "flush=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            rcf->flush = ngx_parse_time(&s, 0);
            if (rcf->flush == (ngx_msec_t) NGX_ERROR || rcf->flush == 0) {
                goto invalid;
            }
            continue;
        }

        if (ngx_strncmp(value[i].data, "queue=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            size = ngx_parse_size(&s);
            if (size == NGX_ERROR || size < MKT_EVENT_MAX + 1) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid queue size \"%V\": at least %d",
                                   &s, MKT_EVENT_MAX + 1);
                return NGX_CONF_ERROR;
            }
            rcf->queue = size;
            continue;
        }

        goto invalid;
    }

    if (rcf->key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"stream=\" is required");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mkt_events_sink_add(cf, mcf, "redis",
                                     ngx_http_mkt_rsink_write,
                                     ngx_http_mkt_rsink_exit, rcf)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    mcf->events_redis = rcf;

    return NGX_CONF_OK;

invalid:

    return ngx_http_mkt_conf_invalid(cf, &value[i]);
}


ngx_int_t
ngx_http_mkt_events_redis_check(ngx_conf_t *cf, ngx_http_mkt_main_conf_t *mcf)
{
    if (mcf->events_redis && mcf->redis == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"mkt_events_redis\" requires \"mkt_redis\"");
        return NGX_ERROR;
    }

    if (mcf->events_spool && mcf->events_redis == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"mkt_events_spool\" requires \"mkt_events_redis\"");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* --- the worker --------------------------------------------------------- */

ngx_int_t
ngx_http_mkt_events_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i, b;
    ngx_http_mkt_rsink_t       *s = &ngx_http_mkt_rsink;
    ngx_http_mkt_rsink_conf_t  *rcf;
    ngx_http_mkt_main_conf_t   *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mkt_module);

    /* not in cache managers and loaders: they must not claim spools */
    if (mcf == NULL || mcf->events_redis == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    rcf = mcf->events_redis;
    b = rcf->batch;

    s->buf = ngx_alloc(rcf->queue, cycle->log);
    s->line = ngx_alloc(b * sizeof(u_char *), cycle->log);
    s->len = ngx_alloc(b * sizeof(size_t), cycle->log);
    s->off = ngx_alloc(b * sizeof(off_t), cycle->log);
    s->result = ngx_calloc(b, cycle->log);
    s->slot = ngx_alloc(b * sizeof(ngx_http_mkt_rsink_slot_t), cycle->log);

    if (s->buf == NULL || s->line == NULL || s->len == NULL
        || s->off == NULL || s->result == NULL || s->slot == NULL)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < b; i++) {
        s->slot[i].index = i;
    }

    s->sent = s->buf;
    s->last = s->buf;
    s->end = s->buf + rcf->queue;

    s->tick.handler = ngx_http_mkt_rsink_tick;
    s->tick.data = s;
    s->tick.log = cycle->log;
    s->tick.cancelable = 1;

    s->gauges = ngx_http_mkt_gauges_claim(cycle);

    if (mcf->events_spool) {
        s->chunk = ngx_alloc(NGX_HTTP_MKT_SPOOL_CHUNK, cycle->log);
        if (s->chunk == NULL) {
            return NGX_ERROR;
        }

        s->spool = &ngx_http_mkt_rsink_spool;

        if (ngx_http_mkt_spool_init(s->spool, mcf->events_spool, cycle)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    s->conf = rcf;

    /* at once: learn the stream's last id, replay what was claimed */
    ngx_add_timer(&s->tick, 1);

    return NGX_OK;
}


/*
 * An event: queued (NGX_OK), or, while the spool is in use or the queue
 * is full, spooled (NGX_OK when buffered for the spool's next flush);
 * NGX_ERROR when it cannot be kept.  sync is not needed: the queue and
 * the spool's buffer are what this sink acknowledges (docs/events.md,
 * durability).
 */
static ngx_int_t
ngx_http_mkt_rsink_write(void *data, u_char *line, size_t len,
    ngx_uint_t sync)
{
    ngx_http_mkt_rsink_t  *s = &ngx_http_mkt_rsink;

    if (s->conf == NULL) {
        return NGX_ERROR;
    }

    if (!s->spooling && len > (size_t) (s->end - s->last) && s->spool) {
        /* the queue is full: the batch in flight goes first, then what
         * waits, then this */
        ngx_http_mkt_rsink_spool_flight(s);
        ngx_http_mkt_rsink_spool_waiting(s);
        s->spooling = 1;
    }

    if (s->spooling) {
        if (s->failing) {
            /* not sent because Redis is failing: an error as much as the
             * failed events it follows, whatever the batches' timing */
            ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_events_redis_errors);
        }

        if (ngx_http_mkt_spool_append(s->spool, line, len) != NGX_OK) {
            ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_events_redis_dropped);
            return NGX_ERROR;
        }

        ngx_http_mkt_rsink_gauges(s);
        return NGX_OK;
    }

    if (len > (size_t) (s->end - s->last)) {
        ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_events_redis_dropped);
        ngx_http_mkt_events_redis_log(NGX_LOG_ERR, 0,
                                      "queue full, event dropped (no "
                                      "mkt_events_spool)");
        return NGX_ERROR;
    }

    s->last = ngx_cpymem(s->last, line, len);
    s->nqueued++;

    ngx_http_mkt_rsink_gauges(s);

    if (s->nqueued >= s->conf->batch && s->op == NGX_HTTP_MKT_OP_NONE) {
        ngx_http_mkt_rsink_kick(s);

    } else if (!s->tick.timer_set && !s->tick.posted) {
        ngx_add_timer(&s->tick, s->conf->flush);
    }

    return NGX_OK;
}


/*
 * Worker exit (before the Redis connections close): what is in memory
 * goes to the spool, so that a reload or a stop loses nothing; the
 * batch in flight, whose replies will not come, marked as maybe added.
 */
static void
ngx_http_mkt_rsink_exit(void *data)
{
    ngx_uint_t             n;
    ngx_http_mkt_rsink_t  *s = &ngx_http_mkt_rsink;

    if (s->conf == NULL) {
        return;
    }

    if (s->op == NGX_HTTP_MKT_OP_BATCH && !s->flight_spooled) {
        for (n = 0; n < s->n; n++) {
            if (s->result[n] == NGX_HTTP_MKT_EV_PENDING) {
                s->result[n] = NGX_HTTP_MKT_EV_LOST;
            }
        }

        ngx_http_mkt_rsink_spool_batch(s);
    }

    /* replies to come, if any, are stale */
    s->gen++;
    s->op = NGX_HTTP_MKT_OP_NONE;
    s->flight_spooled = 0;

    ngx_http_mkt_rsink_spool_waiting(s);

    if (s->spool) {
        ngx_http_mkt_spool_close(s->spool);
    }

    if (s->tick.timer_set) {
        ngx_del_timer(&s->tick);
    }

    if (s->tick.posted) {
        ngx_delete_posted_event(&s->tick);
    }

    if (s->gauges) {
        ngx_http_mkt_gauges_release(s->gauges);
        s->gauges = NULL;
    }

    s->conf = NULL;
}


static void
ngx_http_mkt_rsink_tick(ngx_event_t *ev)
{
    ngx_http_mkt_rsink_t  *s = ev->data;

    if (s->spool) {
        /* the spool's fsync policy: one write and fdatasync per tick */
        (void) ngx_http_mkt_spool_flush(s->spool);

        if (ngx_current_msec - s->spool->scanned >= NGX_HTTP_MKT_SPOOL_SCAN)
        {
            ngx_http_mkt_spool_scan(s->spool, 0);
        }
    }

    ngx_http_mkt_rsink_run(s);

    ngx_http_mkt_rsink_gauges(s);

    /* with a spool, always: other workers' files may appear */
    if (!ev->timer_set && !ev->posted
        && (s->spool || s->nqueued || s->op != NGX_HTTP_MKT_OP_NONE))
    {
        ngx_add_timer(ev, s->conf->flush);
    }
}


/* Runs the tick in this event-loop iteration, after the current event. */
void
ngx_http_mkt_rsink_kick(ngx_http_mkt_rsink_t *s)
{
    if (s->tick.posted) {
        return;
    }

    if (s->tick.timer_set) {
        ngx_del_timer(&s->tick);
    }

    ngx_post_event(&s->tick, &ngx_posted_events);
}


/* Starts the next operation, if none is in flight. */
static void
ngx_http_mkt_rsink_run(ngx_http_mkt_rsink_t *s)
{
    if (s->op != NGX_HTTP_MKT_OP_NONE) {
        return;
    }

    if (!s->known) {
        ngx_http_mkt_rsink_probe(s);
        return;
    }

    /* the queue and the replays take turns */
    if (s->nqueued
        && (!s->replay_turn || s->spool == NULL
            || ngx_queue_empty(&s->spool->files)))
    {
        s->replay_turn = 1;
        ngx_http_mkt_rsink_batch(s);
        return;
    }

    s->replay_turn = 0;

    if (s->spool && (s->spooling || !ngx_queue_empty(&s->spool->files))
        && (ngx_msec_int_t) (ngx_current_msec - s->retry) >= 0)
    {
        ngx_http_mkt_rsink_replay(s);
    }
}


/* A command of the operation: its reply comes to ngx_http_mkt_rsink_reply
 * with slot i. */
ngx_int_t
ngx_http_mkt_rsink_send(ngx_http_mkt_rsink_t *s, ngx_http_mkt_redis_conn_t *rc,
    ngx_uint_t i, int argc, const char **argv, size_t *argvlen)
{
    s->slot[i].gen = s->gen;

    if (ngx_http_mkt_redis_send(rc, argc, argv, argvlen,
                                ngx_http_mkt_rsink_reply, &s->slot[i])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    s->outstanding++;

    return NGX_OK;
}


/*
 * A connection for the next operation: NGX_OK; NGX_DECLINED when Redis is
 * skipped; NGX_AGAIN when the connection is new and its CLIENT ID is asked
 * first (the operation waits for it), so that what the sink sends can be
 * fenced off should the connection fail (ngx_http_mkt_redis_fence).
 */
ngx_int_t
ngx_http_mkt_rsink_conn(ngx_http_mkt_rsink_t *s,
    ngx_http_mkt_redis_conn_t **rcp)
{
    ngx_http_mkt_redis_conn_t  *rc;

    rc = ngx_http_mkt_redis_connection();
    *rcp = rc;

    if (rc == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_mkt_redis_identified(rc)) {
        return NGX_OK;
    }

    s->gen++;
    s->outstanding = 0;
    s->slot[0].gen = s->gen;

    if (ngx_http_mkt_redis_identify(rc, ngx_http_mkt_rsink_reply,
                                    &s->slot[0])
        != NGX_OK)
    {
        *rcp = NULL;
        return NGX_DECLINED;
    }

    s->outstanding = 1;
    s->op = NGX_HTTP_MKT_OP_IDENT;

    return NGX_AGAIN;
}


/*
 * XREVRANGE KEY + - COUNT 1: the stream's last id, a lower bound for the
 * ids of what this worker adds next (and 0-0 when there is no stream).
 */
static void
ngx_http_mkt_rsink_probe(ngx_http_mkt_rsink_t *s)
{
    ngx_http_mkt_redis_conn_t  *rc;

    switch (ngx_http_mkt_rsink_conn(s, &rc)) {
    case NGX_AGAIN:
        return;
    case NGX_DECLINED:
        ngx_http_mkt_rsink_unavailable(s);
        return;
    }

    ngx_http_mkt_rsink_range(s, rc, NGX_HTTP_MKT_OP_PROBE, "XREVRANGE", "+",
                             "-", "1");
}


/* An XRANGE or XREVRANGE of the stream, its reply for operation op. */
void
ngx_http_mkt_rsink_range(ngx_http_mkt_rsink_t *s,
    ngx_http_mkt_redis_conn_t *rc, ngx_uint_t op, const char *cmd,
    const char *start, const char *end, const char *count)
{
    size_t       argvlen[6];
    ngx_uint_t   i;
    const char  *argv[6];

    argv[0] = cmd;
    argv[1] = (const char *) s->conf->key.data;
    argv[2] = start;
    argv[3] = end;
    argv[4] = "COUNT";
    argv[5] = count;

    for (i = 0; i < 6; i++) {
        argvlen[i] = ngx_strlen(argv[i]);
    }

    argvlen[1] = s->conf->key.len;

    s->gen++;
    s->outstanding = 0;
    s->op = NGX_HTTP_MKT_OP_NONE;

    if (ngx_http_mkt_rsink_send(s, rc, 0, 6, argv, argvlen) == NGX_OK) {
        s->op = op;
    }
}


/* Redis cannot be asked for the stream's last id: what waits for it in
 * the queue goes to the spool, and so does what follows. */
static void
ngx_http_mkt_rsink_unavailable(ngx_http_mkt_rsink_t *s)
{
    if (s->spool && s->nqueued) {
        ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_redis_errors,
                                    s->nqueued);
        ngx_http_mkt_rsink_spool_waiting(s);
        s->spooling = 1;
        s->failing = 1;
    }
}


/* Up to "batch" events of the queue, in flight. */
static void
ngx_http_mkt_rsink_batch(ngx_http_mkt_rsink_t *s)
{
    u_char                     *p, *q;
    ngx_uint_t                  n;
    ngx_http_mkt_redis_conn_t  *rc;

    if (ngx_http_mkt_rsink_conn(s, &rc) == NGX_AGAIN) {
        return;
    }

    p = s->buf;

    for (n = 0; n < s->conf->batch && p < s->last; n++) {
        q = ngx_strlchr(p, s->last, '\n');
        s->line[n] = p;
        s->len[n] = q - p;
        s->result[n] = NGX_HTTP_MKT_EV_PENDING;
        p = q + 1;
    }

    s->n = n;
    s->sent = p;
    s->nflight = n;
    s->nqueued -= n;

    ngx_http_mkt_rsink_xadd(s, NGX_HTTP_MKT_OP_BATCH, rc);
}


/*
 * Pipelines an XADD for each event of the batch not found in the stream,
 * on one connection, so that replies come in order.  With Redis skipped
 * (circuit open) or a send failing, those events are FAILED at once.
 */
void
ngx_http_mkt_rsink_xadd(ngx_http_mkt_rsink_t *s, ngx_uint_t op,
    ngx_http_mkt_redis_conn_t *rc)
{
    int          argc;
    ngx_uint_t   i;
    const char  *argv[9];
    size_t       argvlen[9];

    s->op = op;
    s->gen++;
    s->outstanding = 0;

    argc = 0;
    argv[argc] = "XADD";
    argvlen[argc++] = 4;
    argv[argc] = (const char *) s->conf->key.data;
    argvlen[argc++] = s->conf->key.len;

    if (s->conf->maxlen.len) {
        argv[argc] = "MAXLEN";
        argvlen[argc++] = 6;
        argv[argc] = "~";
        argvlen[argc++] = 1;
        argv[argc] = (const char *) s->conf->maxlen.data;
        argvlen[argc++] = s->conf->maxlen.len;
    }

    argv[argc] = "*";
    argvlen[argc++] = 1;
    argv[argc] = "e";
    argvlen[argc++] = 1;

    for (i = 0; i < s->n; i++) {
        if (s->result[i] == NGX_HTTP_MKT_EV_FOUND) {
            continue;
        }

        s->result[i] = NGX_HTTP_MKT_EV_FAILED;

        if (rc == NULL) {
            continue;
        }

        argv[argc] = (const char *) s->line[i];
        argvlen[argc] = s->len[i];

        if (ngx_http_mkt_rsink_send(s, rc, i, argc + 1, argv, argvlen)
            == NGX_OK)
        {
            s->result[i] = NGX_HTTP_MKT_EV_PENDING;
        }
    }

    if (s->outstanding == 0) {
        ngx_http_mkt_rsink_done(s);
    }
}


static void
ngx_http_mkt_rsink_reply(void *data, redisReply *reply)
{
    ngx_http_mkt_rsink_slot_t  *slot = data;

    ngx_uint_t             i;
    mkt_stream_id_t        id;
    ngx_http_mkt_rsink_t  *s = &ngx_http_mkt_rsink;

    if (slot->gen != s->gen || s->op == NGX_HTTP_MKT_OP_NONE) {
        return;
    }

    s->outstanding--;

    switch (s->op) {

    case NGX_HTTP_MKT_OP_IDENT:
        s->op = NGX_HTTP_MKT_OP_NONE;

        if (reply) {
            ngx_http_mkt_rsink_kick(s);
        }
        return;

    case NGX_HTTP_MKT_OP_PROBE:
        s->op = NGX_HTTP_MKT_OP_NONE;

        if (reply == NULL) {
            ngx_http_mkt_rsink_unavailable(s);
            return;
        }

        /* no stream (or not a stream: XADDs will say): 0-0 */
        ngx_memzero(&s->last_id, sizeof(mkt_stream_id_t));

        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1
            && reply->element[0]->type == REDIS_REPLY_ARRAY
            && reply->element[0]->elements == 2
            && reply->element[0]->element[0]->type == REDIS_REPLY_STRING)
        {
            (void) mkt_stream_id_parse(reply->element[0]->element[0]->str,
                                       reply->element[0]->element[0]->len,
                                       &s->last_id);
        }

        s->known = 1;
        ngx_http_mkt_rsink_kick(s);
        return;

    case NGX_HTTP_MKT_OP_CHECK:
        ngx_http_mkt_rsink_check_reply(s, reply);
        return;
    }

    i = slot->index;

    if (reply == NULL) {
        s->result[i] = NGX_HTTP_MKT_EV_LOST;

    } else if (reply->type == REDIS_REPLY_STRING
               && mkt_stream_id_added(reply->str, reply->len, &id) == 0)
    {
        s->result[i] = NGX_HTTP_MKT_EV_OK;

        if (mkt_stream_id_cmp(&id, &s->last_id) > 0) {
            s->last_id = id;
        }

    } else {
        /* only an id proves the entry was added (a broken proxy may say
         * anything): the event stays ours, to be spooled or retried */
        s->result[i] = NGX_HTTP_MKT_EV_FAILED;

        if (reply->type == REDIS_REPLY_ERROR) {
            ngx_http_mkt_events_redis_log(NGX_LOG_ERR, 0,
                                          "XADD to \"%V\" refused: %s",
                                          &s->conf->key, reply->str);

        } else {
            ngx_http_mkt_count_worker(
                                  NGX_HTTP_MKT_C_events_redis_bad_replies);
            ngx_http_mkt_events_redis_log(NGX_LOG_ERR, 0,
                                          "XADD to \"%V\" answered no "
                                          "stream id (reply type %d, "
                                          "%uz bytes): taken as not added",
                                          &s->conf->key, reply->type,
                                          reply->len);
        }
    }

    if (s->outstanding == 0) {
        ngx_http_mkt_rsink_done(s);
    }
}


static void
ngx_http_mkt_rsink_done(ngx_http_mkt_rsink_t *s)
{
    if (s->op == NGX_HTTP_MKT_OP_BATCH) {
        ngx_http_mkt_rsink_batch_done(s);

    } else {
        ngx_http_mkt_rsink_replay_done(s);
    }

    ngx_http_mkt_rsink_gauges(s);
}


/* A batch of the queue answered: what failed goes to the spool. */
static void
ngx_http_mkt_rsink_batch_done(ngx_http_mkt_rsink_t *s)
{
    ngx_uint_t  i, ok;

    ok = 0;

    for (i = 0; i < s->n; i++) {
        ok += (s->result[i] == NGX_HTTP_MKT_EV_OK);
    }

    ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_redis_written, ok);

    if (ok < s->n) {
        ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_redis_errors,
                                    s->n - ok + (s->spool ? s->nqueued : 0));

        if (!s->flight_spooled) {
            ngx_http_mkt_rsink_spool_batch(s);
        }

        if (s->spool) {
            /* in order: what waited behind the batch follows it */
            ngx_http_mkt_rsink_spool_waiting(s);
            s->spooling = 1;
            s->failing = 1;
        }
    }

    /* the batch leaves the queue */
    s->last = ngx_movemem(s->buf, s->sent, s->last - s->sent);
    s->sent = s->buf;
    s->nflight = 0;
    s->op = NGX_HTTP_MKT_OP_NONE;
    s->flight_spooled = 0;

    if (s->nqueued >= s->conf->batch || (ok < s->n && s->spool)) {
        ngx_http_mkt_rsink_kick(s);
    }
}


/*
 * The events of the batch Redis did not take, in order, to the spool;
 * those whose reply was lost after a mark (they may be in the stream,
 * after last_id).  Without a spool they are lost, counted and logged.
 */
static void
ngx_http_mkt_rsink_spool_batch(ngx_http_mkt_rsink_t *s)
{
    ngx_uint_t  i, j, lost, failed;

    failed = 0;

    for (i = 0; i < s->n; i++) {
        if (s->result[i] == NGX_HTTP_MKT_EV_OK
            || s->result[i] == NGX_HTTP_MKT_EV_FOUND)
        {
            continue;
        }

        failed++;

        if (s->spool == NULL) {
            continue;
        }

        if (s->result[i] == NGX_HTTP_MKT_EV_LOST
            && (i == 0 || s->result[i - 1] != NGX_HTTP_MKT_EV_LOST))
        {
            for (lost = 0, j = i; j < s->n; j++) {
                lost += (s->result[j] == NGX_HTTP_MKT_EV_LOST);
            }

            if (ngx_http_mkt_spool_mark(s->spool, &s->last_id, lost)
                != NGX_OK)
            {
                continue;
            }
        }

        /* the line's "\n" follows it in the queue */
        if (ngx_http_mkt_spool_append(s->spool, s->line[i], s->len[i] + 1)
            != NGX_OK)
        {
            ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_events_redis_dropped);
        }
    }

    if (s->spool == NULL && failed) {
        ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_redis_dropped,
                                    failed);
        ngx_http_mkt_events_redis_log(NGX_LOG_ERR, 0,
                                      "%ui events not added to \"%V\" are "
                                      "lost (no mkt_events_spool)", failed,
                                      &s->conf->key);
    }
}


/*
 * The queue is full while a batch is in flight: what waits goes to the
 * spool now, and the batch, older, must be before it there.  Its events
 * not added yet are spooled first, marked as maybe added (the replay that
 * checks for them starts only once the batch is answered or given up),
 * and not again when the batch is answered.
 */
static void
ngx_http_mkt_rsink_spool_flight(ngx_http_mkt_rsink_t *s)
{
    ngx_uint_t  i, maybe;

    if (s->op != NGX_HTTP_MKT_OP_BATCH || s->flight_spooled) {
        return;
    }

    for (maybe = 0, i = 0; i < s->n; i++) {
        maybe += (s->result[i] != NGX_HTTP_MKT_EV_OK);
    }

    if (maybe && ngx_http_mkt_spool_mark(s->spool, &s->last_id, maybe)
                 != NGX_OK)
    {
        ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_redis_dropped,
                                    maybe);
        maybe = 0;
    }

    for (i = 0; maybe && i < s->n; i++) {
        if (s->result[i] == NGX_HTTP_MKT_EV_OK) {
            continue;
        }

        /* the line's "\n" follows it in the queue */
        if (ngx_http_mkt_spool_append(s->spool, s->line[i], s->len[i] + 1)
            != NGX_OK)
        {
            ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_events_redis_dropped);
        }
    }

    /* in the spool now, not in memory */
    s->nflight = 0;
    s->flight_spooled = 1;
}


/* The events waiting in the queue (not in flight) to the spool. */
static void
ngx_http_mkt_rsink_spool_waiting(ngx_http_mkt_rsink_t *s)
{
    u_char  *p, *q;

    if (s->nqueued == 0) {
        return;
    }

    if (s->spool == NULL) {
        ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_redis_dropped,
                                    s->nqueued);
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "mkt events redis: %ui queued events lost at exit "
                      "(no mkt_events_spool)", s->nqueued);

    } else {
        for (p = s->sent; p < s->last; p = q + 1) {
            q = ngx_strlchr(p, s->last, '\n');

            if (ngx_http_mkt_spool_append(s->spool, p, q + 1 - p) != NGX_OK)
            {
                ngx_http_mkt_count_worker(
                                       NGX_HTTP_MKT_C_events_redis_dropped);
            }
        }
    }

    s->last = s->sent;
    s->nqueued = 0;
}


/* --- status and logs ---------------------------------------------------- */

static void
ngx_http_mkt_rsink_gauges(ngx_http_mkt_rsink_t *s)
{
    int64_t  ms;

    if (s->gauges == NULL) {
        return;
    }

    s->gauges->redis_queue = s->nqueued + s->nflight;

    ms = s->spool ? ngx_http_mkt_spool_oldest(s->spool) : 0;

    s->gauges->spool_oldest = (ngx_atomic_uint_t) ms;
}
