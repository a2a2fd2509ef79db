/*
 * Replays of the Redis event sink's spool files, one batch at a time: read
 * in a bounded chunk, checked against the stream when some of it may be
 * there already (XRANGE after the last id known before the lost replies),
 * then added with the sink's XADDs.  docs/events.md.
 */

#include "ngx_http_mkt_events_redis.h"

#include "event_id.h"


static void ngx_http_mkt_rsink_check(ngx_http_mkt_rsink_t *s,
    ngx_http_mkt_redis_conn_t *rc);


/*
 * The next batch of the first spool file: read in one bounded chunk, up
 * to "batch" events and never across a mark.  The header is rewritten
 * first: should this worker die, whoever claims the file knows that the
 * batch may be in the stream.
 */
void
ngx_http_mkt_rsink_replay(ngx_http_mkt_rsink_t *s)
{
    off_t                       base;
    u_char                     *p, *q, *last;
    ssize_t                     n;
    int64_t                     ms;
    unsigned                    cnt;
    ngx_uint_t                  k;
    mkt_stream_id_t             after;
    ngx_http_mkt_spool_t       *sp = s->spool;
    ngx_http_mkt_redis_conn_t  *rc;
    ngx_http_mkt_spool_file_t  *f;

    if (ngx_queue_empty(&sp->files)) {
        /* spooling, nothing written yet */
        (void) ngx_http_mkt_spool_flush(sp);

        if (ngx_queue_empty(&sp->files)) {
            s->spooling = 0;
            s->failing = 0;
            return;
        }
    }

    f = ngx_queue_data(ngx_queue_head(&sp->files), ngx_http_mkt_spool_file_t,
                       queue);

    if (f->pos >= f->size && f->own && (sp->wevents || sp->wmarks)) {
        (void) ngx_http_mkt_spool_flush(sp);
    }

    if (f->pos >= f->size) {
        if (f->own) {
            s->spooling = 0;
            s->failing = 0;
        }

        ngx_http_mkt_spool_remove(sp, f);
        ngx_http_mkt_rsink_kick(s);
        return;
    }

    n = ngx_http_mkt_spool_read(f, s->chunk, NGX_HTTP_MKT_SPOOL_CHUNK);

    if (n <= 0) {
        ngx_http_mkt_events_redis_log(NGX_LOG_ALERT, ngx_errno,
                                      "read of spool \"%s\" failed",
                                      f->path);
        s->retry = ngx_current_msec + NGX_HTTP_MKT_RSINK_RETRY;
        return;
    }

    base = f->pos;
    p = s->chunk;
    last = s->chunk + n;
    k = 0;

    while (p < last && k < s->conf->batch) {
        q = ngx_strlchr(p, last, '\n');

        if (q == NULL) {
            if (p == s->chunk
                || (base + n == f->size && !f->own))
            {
                /* longer than any event, or cut by a crash: skipped */
                ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                              "mkt spool \"%s\": bad line at offset %O "
                              "skipped", f->path, base + (p - s->chunk));
                p = last;
            }
            break;
        }

        if (*p == '~') {
            if (k) {
                break;
            }

            if (mkt_spool_mark_parse((char *) p, q - p, &after, &cnt) == 0) {
                f->check_after = after;
                f->check_n = cnt;
            }

            p = q + 1;
            f->pos = base + (p - s->chunk);
            continue;
        }

        if (mkt_spool_event_id((char *) p, q - p) == NULL) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "mkt spool \"%s\": not an event at offset %O, "
                          "skipped", f->path, base + (p - s->chunk));
            p = q + 1;
            continue;
        }

        s->line[k] = p;
        s->len[k] = q - p;
        s->off[k] = base + (p - s->chunk);
        s->result[k] = NGX_HTTP_MKT_EV_PENDING;
        k++;
        p = q + 1;
    }

    s->past = base + (p - s->chunk);

    if (k == 0) {
        /* marks and bad lines only */
        f->pos = s->past;
        ngx_http_mkt_rsink_kick(s);
        return;
    }

    ms = 0;
    (void) mkt_event_id_time(mkt_spool_event_id((char *) s->line[0],
                                                s->len[0]),
                             MKT_EVENT_ID_LEN, &ms);
    f->first_ms = ms;

    f->header.done = f->pos;
    f->header.after = f->check_n ? f->check_after : s->last_id;
    f->header.n = k;

    if (ngx_http_mkt_spool_save(f) != NGX_OK) {
        ngx_http_mkt_events_redis_log(NGX_LOG_ALERT, ngx_errno,
                                      "write of spool \"%s\" failed",
                                      f->path);
        s->retry = ngx_current_msec + NGX_HTTP_MKT_RSINK_RETRY;
        return;
    }

    /* asked last: a connection the circuit breaker let through as its
     * probe must be used */
    switch (ngx_http_mkt_rsink_conn(s, &rc)) {
    case NGX_AGAIN:
        return;
    case NGX_DECLINED:
        /* Redis skipped: no reading the file every tick meanwhile */
        s->retry = ngx_current_msec + NGX_HTTP_MKT_RSINK_RETRY;
        return;
    }

    s->file = f;
    s->n = k;
    s->found = 0;

    if (f->check_n) {
        s->cursor = f->check_after;
        s->pages = 0;
        ngx_http_mkt_rsink_check(s, rc);
        return;
    }

    ngx_http_mkt_rsink_xadd(s, NGX_HTTP_MKT_OP_REPLAY, rc);
}


/* XRANGE KEY (CURSOR + COUNT n: a page of what was added after the last
 * entry known before the replies were lost. */
static void
ngx_http_mkt_rsink_check(ngx_http_mkt_rsink_t *s,
    ngx_http_mkt_redis_conn_t *rc)
{
    u_char  from[1 + MKT_STREAM_ID_MAX + 1];

    /* first, no command of a failed connection may still run */
    if (s->pages == 0) {
        s->fenced = ngx_http_mkt_redis_fence(rc);
    }

    /* exclusive: "(MS-SEQ", NUL-terminated */
    from[0] = '(';
    from[1 + mkt_stream_id_format((char *) from + 1, &s->cursor)] = '\0';

    ngx_http_mkt_rsink_range(s, rc, NGX_HTTP_MKT_OP_CHECK, "XRANGE",
                             (const char *) from, "+",
                             NGX_HTTP_MKT_RSINK_CHECK_COUNT_S);
}


/*
 * Marks the batch's events found in a page of entries; another page while
 * pages are full and events are still unaccounted for, within bounds.
 */
void
ngx_http_mkt_rsink_check_reply(ngx_http_mkt_rsink_t *s, redisReply *reply)
{
    size_t                      j, k;
    ngx_uint_t                  i;
    const char                 *id;
    redisReply                 *entry, *fields;
    ngx_http_mkt_redis_conn_t  *rc;
    ngx_http_mkt_spool_file_t  *f = s->file;

    if (reply == NULL) {
        s->op = NGX_HTTP_MKT_OP_NONE;
        return;
    }

    ngx_http_mkt_redis_fenced(s->fenced);
    s->fenced = 0;

    /* an error: no stream there, so none of the events is in it */
    if (reply->type == REDIS_REPLY_ARRAY) {
        for (j = 0; j < reply->elements; j++) {
            entry = reply->element[j];

            if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2
                || entry->element[0]->type != REDIS_REPLY_STRING
                || entry->element[1]->type != REDIS_REPLY_ARRAY)
            {
                continue;
            }

            (void) mkt_stream_id_parse(entry->element[0]->str,
                                       entry->element[0]->len, &s->cursor);
            fields = entry->element[1];

            for (k = 0; k + 1 < fields->elements; k += 2) {
                if (fields->element[k]->type != REDIS_REPLY_STRING
                    || fields->element[k]->len != 1
                    || fields->element[k]->str[0] != 'e'
                    || fields->element[k + 1]->type != REDIS_REPLY_STRING)
                {
                    continue;
                }

                id = mkt_spool_event_id(fields->element[k + 1]->str,
                                        fields->element[k + 1]->len);
                if (id == NULL) {
                    continue;
                }

                for (i = 0; i < s->n; i++) {
                    if (s->result[i] != NGX_HTTP_MKT_EV_FOUND
                        && ngx_memcmp(s->line[i] + 7, id, MKT_EVENT_ID_LEN)
                           == 0)
                    {
                        s->result[i] = NGX_HTTP_MKT_EV_FOUND;
                        s->found++;
                    }
                }
            }
        }

        if (reply->elements == NGX_HTTP_MKT_RSINK_CHECK_COUNT
            && s->found < s->n)
        {
            if (++s->pages < NGX_HTTP_MKT_RSINK_CHECK_PAGES) {
                if (ngx_http_mkt_rsink_conn(s, &rc) == NGX_OK) {
                    ngx_http_mkt_rsink_check(s, rc);

                } else if (s->op != NGX_HTTP_MKT_OP_IDENT) {
                    s->op = NGX_HTTP_MKT_OP_NONE;
                }

                /* else the replay starts again after the CLIENT ID */
                return;
            }

            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "mkt spool \"%s\": gave up looking for replayed "
                          "events after %d entries of \"%V\": some may be "
                          "added twice", f->path,
                          NGX_HTTP_MKT_RSINK_CHECK_COUNT
                          * NGX_HTTP_MKT_RSINK_CHECK_PAGES, &s->conf->key);
        }
    }

    rc = NULL;

    if (s->found < s->n && ngx_http_mkt_rsink_conn(s, &rc) == NGX_AGAIN) {
        return;
    }

    f->check_n -= ngx_min(f->check_n, s->n);

    ngx_http_mkt_rsink_xadd(s, NGX_HTTP_MKT_OP_REPLAY, rc);
}


/*
 * A replay batch answered.  All taken: the file moves on, and the next
 * batch follows at once.  Else it moves to the first event not taken,
 * and from there the batch is checked again before it is retried (some
 * after it may have been added).
 */
void
ngx_http_mkt_rsink_replay_done(ngx_http_mkt_rsink_t *s)
{
    ngx_uint_t                  i, ok, first;
    ngx_http_mkt_spool_file_t  *f = s->file;

    ok = 0;
    first = s->n;

    for (i = 0; i < s->n; i++) {
        if (s->result[i] == NGX_HTTP_MKT_EV_OK) {
            ok++;

        } else if (s->result[i] != NGX_HTTP_MKT_EV_FOUND && first == s->n) {
            first = i;
        }
    }

    ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_replayed, ok);
    ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_events_replay_duplicates,
                                s->found);

    s->op = NGX_HTTP_MKT_OP_NONE;

    /* all taken: Redis is back, and what arrives now waits only for
     * order; any refused: what arrives now is as the events it follows */
    s->failing = (first != s->n);

    if (first == s->n) {
        f->pos = s->past;
        ngx_http_mkt_rsink_kick(s);
        return;
    }

    /* what a mark said of the events after the batch still holds: its
     * "after" is the header's, which bounds this batch's too */
    f->pos = s->off[first];
    f->check_after = f->header.after;
    f->check_n = ngx_min(s->n - first + f->check_n, MKT_SPOOL_N_MAX);

    s->retry = ngx_current_msec + ngx_max(s->conf->flush,
                                          NGX_HTTP_MKT_RSINK_RETRY);
}
