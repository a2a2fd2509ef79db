/*
 * A visitor's tags on the request path (DESIGN.md section 7).  The rewrite
 * handler looks the user id and the visitor id up in the shared tag cache
 * (mkt_tags_cache: slab-allocated rbtree and LRU queue, as limit_req keeps
 * its states); ids not there are read from Redis in one round trip while
 * the request waits on nginx's event loop, then the request resumes in
 * the same phase.  Concurrent misses for one id in a worker share one
 * Redis command.  Past mkt_redis's timeout the request goes on without
 * those tags; the reply, when it comes, still fills the cache.
 */

#include "ngx_http_mkt_module.h"

#include <hiredis.h>


#define NGX_HTTP_MKT_ALIAS_TTL     "34560000"         /* 400 days */
#define NGX_HTTP_MKT_ALIAS_EVERY   86400              /* write once a day */

#define NGX_HTTP_MKT_KIND_TAGS     0
#define NGX_HTTP_MKT_KIND_ALIAS    1


typedef struct {
    u_char                         color;
    u_char                         kind;
    u_char                         key_len;
    u_char                         dummy;
    u_short                        value_len;
    time_t                         expires;
    ngx_queue_t                    queue;
    u_char                         data[1];      /* key, then value */
} ngx_http_mkt_tags_node_t;


typedef struct {
    ngx_rbtree_t                   rbtree;
    ngx_rbtree_node_t              sentinel;
    ngx_queue_t                    queue;        /* LRU, most recent first */
} ngx_http_mkt_tags_shctx_t;


typedef struct {
    ngx_http_mkt_tags_shctx_t     *sh;
    ngx_slab_pool_t               *shpool;
    time_t                         ttl;
    time_t                         negative_ttl;
} ngx_http_mkt_tags_cache_t;


/* one Redis read of one id, shared by the requests of a worker waiting
 * for it */
struct ngx_http_mkt_fetch_s {
    ngx_str_node_t                 sn;           /* in the in-flight tree */
    ngx_queue_t                    waiters;
    u_char                         id[1];
};


static ngx_int_t ngx_http_mkt_tags_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_mkt_tags_lookup(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, ngx_uint_t i, ngx_str_t *id);
static ngx_int_t ngx_http_mkt_tags_fetch_id(ngx_http_request_t *r,
    ngx_http_mkt_ctx_t *ctx, ngx_uint_t i, ngx_str_t *id,
    ngx_http_mkt_redis_conn_t *rc);
static void ngx_http_mkt_tags_reply(void *data, redisReply *reply);
static void ngx_http_mkt_tags_wake(ngx_event_t *ev);
static void ngx_http_mkt_alias(ngx_http_request_t *r, ngx_http_mkt_ctx_t *ctx,
    ngx_http_mkt_redis_conn_t *rc);


/* per worker */
static ngx_rbtree_t        ngx_http_mkt_fetches;
static ngx_rbtree_node_t   ngx_http_mkt_fetches_sentinel;
static mkt_tags_t          ngx_http_mkt_tags_scratch;
static ngx_shm_zone_t     *ngx_http_mkt_tags_zone;


/* --- configuration ------------------------------------------------------ */

/* mkt_tags_cache zone=NAME:SIZE [ttl=30s] [negative_ttl=10s] */
char *
ngx_http_mkt_tags_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_main_conf_t *mcf = conf;

    u_char                     *p;
    time_t                      t;
    ssize_t                     size;
    ngx_str_t                  *value, name, s;
    ngx_uint_t                  i;
    ngx_http_mkt_tags_cache_t  *cache;

    if (mcf->tags_zone != NULL) {
        return "is duplicate";
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_tags_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    cache->ttl = 30;
    cache->negative_ttl = 10;

    value = cf->args->elts;
    name.len = 0;
    size = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            p = (u_char *) ngx_strchr(name.data, ':');
            if (p == NULL) {
                goto invalid;
            }

            name.len = p - name.data;
            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);
            if (name.len == 0 || size == NGX_ERROR) {
                goto invalid;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small", &value[i]);
                return NGX_CONF_ERROR;
            }
            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0
            || ngx_strncmp(value[i].data, "negative_ttl=", 13) == 0)
        {
            s.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            s.len = value[i].data + value[i].len - s.data;

            t = ngx_parse_time(&s, 1);
            if (t == (time_t) NGX_ERROR) {
                goto invalid;
            }

            if (value[i].data[0] == 't') {
                cache->ttl = t;
            } else {
                cache->negative_ttl = t;
            }
            continue;
        }

        goto invalid;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    mcf->tags_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_mkt_module);
    if (mcf->tags_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (mcf->tags_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    mcf->tags_zone->init = ngx_http_mkt_tags_init_zone;
    mcf->tags_zone->data = cache;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);

    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_mkt_tags_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mkt_tags_cache_t  *ocache = data;

    size_t                      len;
    ngx_http_mkt_tags_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool,
                               sizeof(ngx_http_mkt_tags_shctx_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_mkt_tags_rbtree_insert_value);
    ngx_queue_init(&cache->sh->queue);

    len = sizeof(" in mkt_tags_cache zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in mkt_tags_cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full cache evicts; it is not an error worth a log line */
    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_mkt_tags_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mkt_main_conf_t  *mcf;

    ngx_rbtree_init(&ngx_http_mkt_fetches, &ngx_http_mkt_fetches_sentinel,
                    ngx_str_rbtree_insert_value);

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mkt_module);
    ngx_http_mkt_tags_zone = mcf ? mcf->tags_zone : NULL;

    return NGX_OK;
}


/* --- the shared cache --------------------------------------------------- */

void
ngx_http_mkt_tags_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t         **p;
    ngx_http_mkt_tags_node_t   *tn, *tnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            tn = (ngx_http_mkt_tags_node_t *) &node->color;
            tnt = (ngx_http_mkt_tags_node_t *) &temp->color;

            p = (tn->kind < tnt->kind
                 || (tn->kind == tnt->kind
                     && ngx_memn2cmp(tn->data, tnt->data, tn->key_len,
                                     tnt->key_len) < 0))
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_http_mkt_tags_node_t *
ngx_http_mkt_cache_find_locked(ngx_http_mkt_tags_cache_t *cache,
    ngx_uint_t kind, ngx_str_t *key, uint32_t hash)
{
    ngx_int_t                  rc;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_http_mkt_tags_node_t  *tn;

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        tn = (ngx_http_mkt_tags_node_t *) &node->color;

        rc = (ngx_int_t) kind - tn->kind;
        if (rc == 0) {
            rc = ngx_memn2cmp(key->data, tn->data, key->len, tn->key_len);
        }

        if (rc == 0) {
            return tn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_mkt_cache_remove_locked(ngx_http_mkt_tags_cache_t *cache,
    ngx_http_mkt_tags_node_t *tn)
{
    ngx_rbtree_node_t  *node;

    node = (ngx_rbtree_node_t *)
               ((u_char *) tn - offsetof(ngx_rbtree_node_t, color));

    ngx_queue_remove(&tn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, node);
    ngx_slab_free_locked(cache->shpool, node);
}


/*
 * Copies the value cached under (kind, key) to r's pool; NGX_DECLINED when
 * there is none or it has expired.
 */
static ngx_int_t
ngx_http_mkt_cache_get(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *key, ngx_str_t *value)
{
    time_t                      now;
    uint32_t                    hash;
    ngx_int_t                   rc;
    ngx_http_mkt_tags_node_t   *tn;
    ngx_http_mkt_tags_cache_t  *cache;

    if (ngx_http_mkt_tags_zone == NULL) {
        return NGX_DECLINED;
    }

    cache = ngx_http_mkt_tags_zone->data;
    hash = ngx_crc32_short(key->data, key->len);
    now = ngx_time();
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->shpool->mutex);

    tn = ngx_http_mkt_cache_find_locked(cache, kind, key, hash);

    if (tn && tn->expires <= now) {
        ngx_http_mkt_cache_remove_locked(cache, tn);
        tn = NULL;
    }

    if (tn) {
        ngx_queue_remove(&tn->queue);
        ngx_queue_insert_head(&cache->sh->queue, &tn->queue);

        value->len = tn->value_len;
        value->data = ngx_pnalloc(r->pool, tn->value_len + 1);

        if (value->data) {
            ngx_memcpy(value->data, tn->data + tn->key_len, tn->value_len);
            rc = NGX_OK;
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


/* Stores (kind, key) -> value until expires, evicting the least recently
 * used entries when the zone is full. */
static void
ngx_http_mkt_cache_put(ngx_uint_t kind, ngx_str_t *key, u_char *value,
    size_t len, time_t expires)
{
    size_t                      size;
    uint32_t                    hash;
    ngx_uint_t                  evict;
    ngx_queue_t                *q;
    ngx_rbtree_node_t          *node;
    ngx_http_mkt_tags_node_t   *tn;
    ngx_http_mkt_tags_cache_t  *cache;

    if (ngx_http_mkt_tags_zone == NULL || key->len > 255 || len > 65535) {
        return;
    }

    cache = ngx_http_mkt_tags_zone->data;
    hash = ngx_crc32_short(key->data, key->len);
    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_mkt_tags_node_t, data) + key->len + len;

    ngx_shmtx_lock(&cache->shpool->mutex);

    tn = ngx_http_mkt_cache_find_locked(cache, kind, key, hash);
    if (tn) {
        ngx_http_mkt_cache_remove_locked(cache, tn);
    }

    node = ngx_slab_alloc_locked(cache->shpool, size);

    for (evict = 0; node == NULL && evict < 64; evict++) {
        if (ngx_queue_empty(&cache->sh->queue)) {
            break;
        }

        q = ngx_queue_last(&cache->sh->queue);
        tn = ngx_queue_data(q, ngx_http_mkt_tags_node_t, queue);
        ngx_http_mkt_cache_remove_locked(cache, tn);

        node = ngx_slab_alloc_locked(cache->shpool, size);
    }

    if (node == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    node->key = hash;
    tn = (ngx_http_mkt_tags_node_t *) &node->color;
    tn->kind = (u_char) kind;
    tn->key_len = (u_char) key->len;
    tn->value_len = (u_short) len;
    tn->expires = expires;
    ngx_memcpy(tn->data, key->data, key->len);
    ngx_memcpy(tn->data + key->len, value, len);

    ngx_rbtree_insert(&cache->sh->rbtree, node);
    ngx_queue_insert_head(&cache->sh->queue, &tn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);
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


/* The tags of a reply into the worker's scratch set; 0 when it is none. */
static ngx_int_t
ngx_http_mkt_tags_parse(redisReply *reply, time_t now)
{
    size_t       i;
    int64_t      expires;
    redisReply  *name, *score;

    mkt_tags_init(&ngx_http_mkt_tags_scratch);

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements % 2)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < reply->elements; i += 2) {
        name = reply->element[i];
        score = reply->element[i + 1];

        if (name->type != REDIS_REPLY_STRING
            || score->type != REDIS_REPLY_STRING
            || mkt_tags_parse_score(score->str, score->len, &expires) != 0)
        {
            continue;
        }

        (void) mkt_tags_add(&ngx_http_mkt_tags_scratch, name->str, name->len,
                            expires, now);
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

        expires = now + (len ? ngx_http_mkt_tags_cache_ttl()
                             : ngx_http_mkt_tags_cache_negative_ttl());
        next = (time_t) ngx_min(mkt_tags_next_expiry(
                                    &ngx_http_mkt_tags_scratch),
                                (int64_t) NGX_MAX_TIME_T_VALUE);

        id.data = f->id;
        id.len = f->sn.str.len;
        ngx_http_mkt_cache_put(NGX_HTTP_MKT_KIND_TAGS, &id, buf, len,
                               ngx_min(expires, next));

    } else if (reply) {
        ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_redis_bad_replies);
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

    if (ngx_http_mkt_redis_send(rc, 5, argv, argvlen, NULL, NULL) != NGX_OK) {
        return;
    }

    ngx_http_mkt_count(r, NGX_HTTP_MKT_C_aliases_written);
    ngx_http_mkt_cache_put(NGX_HTTP_MKT_KIND_ALIAS, &vid, ctx->uid.data,
                           ctx->uid.len, ngx_time() + NGX_HTTP_MKT_ALIAS_EVERY);
}


time_t
ngx_http_mkt_tags_cache_ttl(void)
{
    ngx_http_mkt_tags_cache_t  *cache;

    if (ngx_http_mkt_tags_zone == NULL) {
        return 0;
    }

    cache = ngx_http_mkt_tags_zone->data;

    return cache->ttl;
}


time_t
ngx_http_mkt_tags_cache_negative_ttl(void)
{
    ngx_http_mkt_tags_cache_t  *cache;

    if (ngx_http_mkt_tags_zone == NULL) {
        return 0;
    }

    cache = ngx_http_mkt_tags_zone->data;

    return cache->negative_ttl;
}
