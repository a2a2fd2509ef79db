/*
 * A visitor's tags on the request path (DESIGN.md section 7).  The rewrite
 * handler looks the user id and the visitor id up in the shared tag cache
 * (ngx_http_mkt_cache.c); ids not there are read from Redis in one round trip while
 * the request waits on nginx's event loop, then the request resumes in
 * the same phase.  Concurrent misses for one id in a worker share one
 * Redis command.  Past mkt_redis's timeout the request goes on without
 * those tags; the reply, when it comes, still fills the cache.
 */

#include "ngx_http_mkt_module.h"

#include <hiredis.h>


#define NGX_HTTP_MKT_ALIAS_TTL     "34560000"         /* 400 days */
#define NGX_HTTP_MKT_ALIAS_EVERY   86400              /* write once a day */

/* one Redis read of one id, shared by the requests of a worker waiting
 * for it */
struct ngx_http_mkt_fetch_s {
    ngx_str_node_t                 sn;           /* in the in-flight tree */
    ngx_queue_t                    waiters;
    u_char                         id[1];
};


static ngx_int_t ngx_http_mkt_tags_lookup(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, ngx_uint_t i, ngx_str_t *id);
static ngx_int_t ngx_http_mkt_tags_fetch_id(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, ngx_uint_t i, ngx_str_t *id,
    ngx_http_mkt_redis_conn_t *rc);
static void ngx_http_mkt_tags_reply(void *data, redisReply *reply);
static void ngx_http_mkt_tags_wake(ngx_event_t *ev);
static void ngx_http_mkt_alias(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    ngx_http_mkt_redis_conn_t *rc);
static void ngx_http_mkt_alias_reply(void *data, redisReply *reply);


/* per worker */
static ngx_rbtree_t        ngx_http_mkt_fetches;
static ngx_rbtree_node_t   ngx_http_mkt_fetches_sentinel;
static mkt_tags_t          ngx_http_mkt_tags_scratch;


ngx_int_t
ngx_http_mkt_tags_init_process(ngx_cycle_t *cycle)
{
    ngx_rbtree_init(&ngx_http_mkt_fetches, &ngx_http_mkt_fetches_sentinel,
                    ngx_str_rbtree_insert_value);

    return ngx_http_mkt_cache_init_process(cycle);
}


/* --- the request path --------------------------------------------------- */

/*
 * Starts the tag lookups of the main request: NGX_OK when its tags are
 * settled (found in the cache, not needed, or Redis skipped), NGX_AGAIN
 * when it waits for Redis and will be resumed.
 */
ngx_int_t
ngx_http_mkt_tags_fetch(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    ngx_str_t                   id[2];
    ngx_uint_t                  i, n, need[2], nneed;
    ngx_http_mkt_redis_conn_t  *rc;

    if (ctx->tags_state == NGX_HTTP_MKT_TAGS_WAITING) {
        return NGX_AGAIN;
    }

    if (ctx->tags_state != NGX_HTTP_MKT_TAGS_NONE
        || !ngx_http_mkt_redis_enabled())
    {
        ctx->tags_state = NGX_HTTP_MKT_TAGS_DONE;
        return NGX_OK;
    }

    ctx->tags_state = NGX_HTTP_MKT_TAGS_DONE;

    /* the user's tags first: on a conflict of limits they win */
    n = 0;

    if (ctx->uid.len) {
        id[n++] = ctx->uid;
    }

    /* a visitor id minted just now cannot have tags yet */
    if (ctx->has_vid && !ctx->is_new) {
        id[n].data = ctx->vid;
        id[n++].len = MKT_VID_LEN;
    }

    nneed = 0;

    for (i = 0; i < n; i++) {
        need[i] = ngx_http_mkt_tags_lookup(r, ctx, i, &id[i]) != NGX_OK;
        nneed += need[i];
    }

    if (nneed == 0 && !(ctx->uid.len && ctx->has_vid)) {
        return NGX_OK;
    }

    if (nneed == 0) {
        /* tags all cached: only the alias may want writing */
        ngx_http_mkt_alias(r, ctx, NULL);
        return NGX_OK;
    }

    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_tags_cache_misses);

    rc = ngx_http_mkt_redis_connection();
    if (rc == NULL) {
        return NGX_OK;
    }

    for (i = 0; i < n; i++) {
        if (need[i]) {
            (void) ngx_http_mkt_tags_fetch_id(r, ctx, i, &id[i], rc);
        }
    }

    if (ctx->uid.len && ctx->has_vid) {
        ngx_http_mkt_alias(r, ctx, rc);
    }

    if (ctx->waiting == 0) {
        return NGX_OK;
    }

    ctx->tags_ev.handler = ngx_http_mkt_tags_wake;
    ctx->tags_ev.data = r;
    ctx->tags_ev.log = r->connection->log;
    ngx_add_timer(&ctx->tags_ev, ngx_http_mkt_redis_timeout());

    ctx->tags_state = NGX_HTTP_MKT_TAGS_WAITING;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


/* The cached tags of id into ctx's slot i; NGX_DECLINED on a miss. */
static ngx_int_t
ngx_http_mkt_tags_lookup(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    ngx_uint_t i, ngx_str_t *id)
{
    if (ngx_http_mkt_cache_get(r, NGX_HTTP_MKT_KIND_TAGS, id,
                               &ctx->id_tags[i])
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_tags_cache_hits);

    return NGX_OK;
}


/* Waits for the tags of id: on the read already in flight, or a new one. */
static ngx_int_t
ngx_http_mkt_tags_fetch_id(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    ngx_uint_t i, ngx_str_t *id, ngx_http_mkt_redis_conn_t *rc)
{
    u_char                *p;
    size_t                 argvlen[9];
    uint32_t               hash;
    const char            *argv[9];
    ngx_http_mkt_fetch_t  *f;
    u_char                 key[sizeof("mkt:tags:") - 1 + NGX_HTTP_MKT_UID_MAX];
    u_char                 min[NGX_TIME_T_LEN + 1];
    u_char                 limit[NGX_INT_T_LEN];

    hash = ngx_crc32_short(id->data, id->len);

    f = (ngx_http_mkt_fetch_t *) ngx_str_rbtree_lookup(&ngx_http_mkt_fetches,
                                                       id, hash);

    if (f == NULL) {
        f = ngx_alloc(sizeof(ngx_http_mkt_fetch_t) + id->len,
                      ngx_cycle->log);
        if (f == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(f->id, id->data, id->len);
        f->sn.node.key = hash;
        f->sn.str.data = f->id;
        f->sn.str.len = id->len;
        ngx_queue_init(&f->waiters);

        p = ngx_cpymem(key, "mkt:tags:", sizeof("mkt:tags:") - 1);
        p = ngx_cpymem(p, id->data, ngx_min(id->len, NGX_HTTP_MKT_UID_MAX));

        argv[0] = "ZRANGEBYSCORE";
        argvlen[0] = sizeof("ZRANGEBYSCORE") - 1;
        argv[1] = (const char *) key;
        argvlen[1] = p - key;
        /* exclusive: a tag whose expiry is now has expired */
        argv[2] = (const char *) min;
        argvlen[2] = ngx_sprintf(min, "(%T", ngx_time()) - min;
        argv[3] = "+inf";
        argvlen[3] = 4;
        argv[4] = "WITHSCORES";
        argvlen[4] = sizeof("WITHSCORES") - 1;
        argv[5] = "LIMIT";
        argvlen[5] = 5;
        argv[6] = "0";
        argvlen[6] = 1;
        argv[7] = (const char *) limit;
        argvlen[7] = ngx_sprintf(limit, "%d", MKT_TAGS_MAX) - limit;

        if (ngx_http_mkt_redis_send(rc, 8, argv, argvlen,
                                    ngx_http_mkt_tags_reply, f)
            != NGX_OK)
        {
            ngx_free(f);
            return NGX_ERROR;
        }

        ngx_rbtree_insert(&ngx_http_mkt_fetches, &f->sn.node);
    }

    ctx->waiter[i].r = r;
    ctx->waiter[i].slot = i;
    ctx->waiter[i].ctx = ctx;
    ctx->waiter[i].attached = 1;
    ngx_queue_insert_tail(&f->waiters, &ctx->waiter[i].queue);
    ctx->waiting++;

    return NGX_OK;
}


/*
 * The tags of a reply into the worker's scratch set; NGX_ERROR when it is
 * none.  A member with an invalid name or score is skipped and counted.
 */
static ngx_int_t
ngx_http_mkt_tags_parse(redisReply *reply, time_t now)
{
    size_t       i, bad;
    int64_t      expires;
    redisReply  *name, *score;

    mkt_tags_init(&ngx_http_mkt_tags_scratch);

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements % 2)
    {
        return NGX_ERROR;
    }

    bad = 0;

    for (i = 0; i < reply->elements; i += 2) {
        name = reply->element[i];
        score = reply->element[i + 1];

        if (name->type != REDIS_REPLY_STRING
            || score->type != REDIS_REPLY_STRING
            || mkt_tags_parse_score(score->str, score->len, &expires) != 0
            || mkt_tags_add(&ngx_http_mkt_tags_scratch, name->str, name->len,
                            expires, now)
               == MKT_TAG_INVALID)
        {
            bad++;
        }
    }

    if (bad) {
        ngx_http_mkt_count_worker_n(NGX_HTTP_MKT_C_bad_tags, bad);
    }

    return NGX_OK;
}


/*
 * The reply to a fetch (NULL: the connection failed): cache it, give it to
 * every request still waiting for it, and wake those that wait for
 * nothing else.
 */
static void
ngx_http_mkt_tags_reply(void *data, redisReply *reply)
{
    ngx_http_mkt_fetch_t *f = data;

    u_char                 *blob;
    size_t                  len;
    time_t                  now, expires, next;
    ngx_str_t               id;
    ngx_queue_t            *q;
    ngx_http_mkt_ctx_t     *ctx;
    ngx_http_mkt_waiter_t  *w;
    unsigned char           buf[MKT_TAGS_BLOB_MAX];

    ngx_rbtree_delete(&ngx_http_mkt_fetches, &f->sn.node);

    now = ngx_time();
    len = 0;
    blob = buf;

    if (ngx_http_mkt_tags_parse(reply, now) == NGX_OK) {
        len = mkt_tags_encode(&ngx_http_mkt_tags_scratch, buf, sizeof(buf));

        expires = now + ngx_http_mkt_cache_ttl(len == 0);
        next = (time_t) ngx_min(mkt_tags_next_expiry(
                                    &ngx_http_mkt_tags_scratch),
                                (int64_t) NGX_MAX_TIME_T_VALUE);

        id.data = f->id;
        id.len = f->sn.str.len;
        ngx_http_mkt_cache_put(NGX_HTTP_MKT_KIND_TAGS, &id, buf, len,
                               ngx_min(expires, next));

    } else if (reply) {
        ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_redis_bad_replies);
        ngx_http_mkt_redis_log_reply("tags not read", reply);
        blob = NULL;

    } else {
        blob = NULL;
    }

    while (!ngx_queue_empty(&f->waiters)) {
        q = ngx_queue_head(&f->waiters);
        ngx_queue_remove(q);
        w = ngx_queue_data(q, ngx_http_mkt_waiter_t, queue);
        w->attached = 0;
        ctx = w->ctx;

        if (blob && len) {
            ctx->id_tags[w->slot].data = ngx_pnalloc(w->r->pool, len);
            if (ctx->id_tags[w->slot].data) {
                ngx_memcpy(ctx->id_tags[w->slot].data, blob, len);
                ctx->id_tags[w->slot].len = len;
            }
        }

        if (--ctx->waiting == 0) {
            if (ctx->tags_ev.timer_set) {
                ngx_del_timer(&ctx->tags_ev);
            }
            ngx_post_event(&ctx->tags_ev, &ngx_posted_events);
        }
    }

    ngx_free(f);
}


/* Resumes the request: its tags have come, or the wait has timed out. */
static void
ngx_http_mkt_tags_wake(ngx_event_t *ev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_http_mkt_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;
    ctx = ngx_http_mkt_ctx(r, 0);

    if (ev->timedout) {
        ev->timedout = 0;
        ngx_http_mkt_tags_detach(ctx);
        ngx_http_mkt_redis_timed_out();
    }

    ctx->tags_state = NGX_HTTP_MKT_TAGS_DONE;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/* Stops waiting: the request resumes, or is being freed. */
void
ngx_http_mkt_tags_detach(ngx_http_mkt_ctx_t *ctx)
{
    ngx_uint_t  i;

    for (i = 0; i < 2; i++) {
        if (ctx->waiter[i].attached) {
            ngx_queue_remove(&ctx->waiter[i].queue);
            ctx->waiter[i].attached = 0;
        }
    }

    ctx->waiting = 0;

    if (ctx->tags_ev.timer_set) {
        ngx_del_timer(&ctx->tags_ev);
    }

    if (ctx->tags_ev.posted) {
        ngx_delete_posted_event(&ctx->tags_ev);
    }
}


/*
 * Settles $mkt_tags and the attribute "tags" from what the lookups got:
 * the user's tags, then the visitor's.
 */
void
ngx_http_mkt_tags_settle(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx)
{
    size_t       i, len;
    u_char      *p;
    mkt_tags_t  *t = &ngx_http_mkt_tags_scratch;

    ctx->tags_state = NGX_HTTP_MKT_TAGS_DONE;

    mkt_tags_init(t);

    for (i = 0; i < 2; i++) {
        if (ctx->id_tags[i].len) {
            (void) mkt_tags_decode(t, ctx->id_tags[i].data,
                                   ctx->id_tags[i].len, ngx_time());
        }
    }

    if (t->n == 0) {
        return;
    }

    p = ngx_pnalloc(r->pool, MKT_TAGS_JOIN_MAX);
    ctx->tag_items = ngx_palloc(r->pool, t->n * sizeof(mkt_val_t));

    if (p == NULL || ctx->tag_items == NULL) {
        ctx->tag_items = NULL;
        return;
    }

    ctx->tags.data = p;
    ctx->tags.len = mkt_tags_join(t, (char *) p, MKT_TAGS_JOIN_MAX);

    /* the items point into $mkt_tags, which lives as long as the request */
    for (i = 0, len = 0; i < t->n; i++) {
        ctx->tag_items[i] = mkt_val_string((char *) p + len, t->tag[i].len);
        len += t->tag[i].len + 1;
    }

    ctx->ntags = t->n;
}


/*
 * mkt:alias:VID -> UID, fire-and-forget, at most once a day per visitor
 * and user when the cache remembers it.  rc NULL: take a connection only
 * if the alias is due.
 */
static void
ngx_http_mkt_alias(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    ngx_http_mkt_redis_conn_t *rc)
{
    u_char     *p;
    size_t      argvlen[5];
    ngx_str_t   vid, known;
    const char *argv[5];
    u_char      key[sizeof("mkt:alias:") - 1 + MKT_VID_LEN];

    vid.data = ctx->vid;
    vid.len = MKT_VID_LEN;

    if (ngx_http_mkt_cache_get(r, NGX_HTTP_MKT_KIND_ALIAS, &vid, &known)
        == NGX_OK
        && known.len == ctx->uid.len
        && ngx_memcmp(known.data, ctx->uid.data, known.len) == 0)
    {
        return;
    }

    if (rc == NULL) {
        rc = ngx_http_mkt_redis_connection();
        if (rc == NULL) {
            return;
        }
    }

    p = ngx_cpymem(key, "mkt:alias:", sizeof("mkt:alias:") - 1);
    p = ngx_cpymem(p, ctx->vid, MKT_VID_LEN);

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[1] = (const char *) key;
    argvlen[1] = p - key;
    argv[2] = (const char *) ctx->uid.data;
    argvlen[2] = ctx->uid.len;
    argv[3] = "EX";
    argvlen[3] = 2;
    argv[4] = NGX_HTTP_MKT_ALIAS_TTL;
    argvlen[4] = sizeof(NGX_HTTP_MKT_ALIAS_TTL) - 1;

    if (ngx_http_mkt_redis_send(rc, 5, argv, argvlen,
                                ngx_http_mkt_alias_reply, NULL)
        != NGX_OK)
    {
        return;
    }

    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_aliases_written);
    ngx_http_mkt_cache_put(NGX_HTTP_MKT_KIND_ALIAS, &vid, ctx->uid.data,
                           ctx->uid.len, ngx_time() + NGX_HTTP_MKT_ALIAS_EVERY);
}


/* The alias is fire-and-forget, but a refusal (a replica's READONLY, an
 * ACL's NOPERM, OOM) is logged: no alias would ever be written. */
static void
ngx_http_mkt_alias_reply(void *data, redisReply *reply)
{
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_http_mkt_redis_log_reply("alias not written", reply);
    }
}
