/*
 * A slab-allocated rbtree with a queue, most recent first, in a shared
 * memory zone, as ngx_http_limit_req_module keeps its states: what
 * mkt_tags_cache and the dedup window of conversions are made of.  The
 * users own their nodes and the tree's order; this is the zone, removal
 * and eviction of the oldest when the zone is full.
 */

#include "ngx_http_mkt_module.h"



/*
 * Adds the zone of an LRU kept in *lru (the first member of the zone's
 * data, which is lru itself): NULL when nginx cannot, or when a zone of
 * that name is already used by another of the module's zones.
 */
ngx_shm_zone_t *
ngx_http_mkt_lru_zone(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    ngx_http_mkt_lru_t *lru, ngx_rbtree_insert_pt insert,
    size_t queue_offset, const char *label)
{
    ngx_shm_zone_t  *zone;

    zone = ngx_shared_memory_add(cf, name, size, &ngx_http_mkt_module);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", name);
        return NULL;
    }

    lru->insert = insert;
    lru->queue_offset = queue_offset;
    lru->name = label;

    zone->init = ngx_http_mkt_lru_init_zone;
    zone->data = lru;

    return zone;
}

/* The zone's init: its zone->data starts with an ngx_http_mkt_lru_t
 * whose insert, queue_offset and name are set.  A reload keeps it. */
ngx_int_t
ngx_http_mkt_lru_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mkt_lru_t  *olru = data;

    size_t               len;
    ngx_http_mkt_lru_t  *lru;

    lru = shm_zone->data;

    if (olru) {
        lru->sh = olru->sh;
        lru->shpool = olru->shpool;
        return NGX_OK;
    }

    lru->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        lru->sh = lru->shpool->data;
        return NGX_OK;
    }

    lru->sh = ngx_slab_alloc(lru->shpool, sizeof(ngx_http_mkt_lru_sh_t));
    if (lru->sh == NULL) {
        return NGX_ERROR;
    }

    lru->shpool->data = lru->sh;

    ngx_rbtree_init(&lru->sh->rbtree, &lru->sh->sentinel, lru->insert);
    ngx_queue_init(&lru->sh->queue);

    len = sizeof(" in  zone \"\"") + ngx_strlen(lru->name)
          + shm_zone->shm.name.len;

    lru->shpool->log_ctx = ngx_slab_alloc(lru->shpool, len);
    if (lru->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(lru->shpool->log_ctx, " in %s zone \"%V\"%Z", lru->name,
                &shm_zone->shm.name);

    /* a full zone evicts; it is not an error worth a log line */
    lru->shpool->log_nomem = 0;

    return NGX_OK;
}


/* Removes and frees the node whose queue link is q. */
void
ngx_http_mkt_lru_remove_locked(ngx_http_mkt_lru_t *lru, ngx_queue_t *q)
{
    ngx_rbtree_node_t  *node;

    node = (ngx_rbtree_node_t *) ((u_char *) q - lru->queue_offset);

    ngx_queue_remove(q);
    ngx_rbtree_delete(&lru->sh->rbtree, node);
    ngx_slab_free_locked(lru->shpool, node);
}


/* The queue link of the least recently used node, or NULL. */
ngx_queue_t *
ngx_http_mkt_lru_oldest_locked(ngx_http_mkt_lru_t *lru)
{
    if (ngx_queue_empty(&lru->sh->queue)) {
        return NULL;
    }

    return ngx_queue_last(&lru->sh->queue);
}


/* A node of size bytes, evicting up to 64 of the oldest while the zone
 * is full (how many in *evicted); NULL when it still does not fit. */
ngx_rbtree_node_t *
ngx_http_mkt_lru_alloc_locked(ngx_http_mkt_lru_t *lru, size_t size,
    ngx_uint_t *evicted)
{
    ngx_queue_t        *q;
    ngx_rbtree_node_t  *node;

    *evicted = 0;

    node = ngx_slab_alloc_locked(lru->shpool, size);

    while (node == NULL && *evicted < 64) {
        q = ngx_http_mkt_lru_oldest_locked(lru);
        if (q == NULL) {
            break;
        }

        ngx_http_mkt_lru_remove_locked(lru, q);
        (*evicted)++;

        node = ngx_slab_alloc_locked(lru->shpool, size);
    }

    return node;
}
