/*
 * The dedup window of conversions (DESIGN.md section 8: a repeated
 * (goal, order) is acknowledged but recorded once): keys of
 * mkt_event_dedup_key() in a shared rbtree used by every worker
 * (ngx_http_mkt_lru.c), the queue in the order they were claimed.  A key
 * is forgotten when its window ends; a full zone forgets the oldest.
 */

#include "ngx_http_mkt_collect.h"


typedef struct {
    u_char                     color;
    u_char                     dummy;
    u_short                    pad;
    uint32_t                   hi;            /* key >> 32: rbtree keys
                                               * are 32 bits on some
                                               * platforms */
    time_t                     expires;
    ngx_queue_t                queue;
} ngx_http_mkt_dedup_node_t;


typedef struct {
    ngx_http_mkt_lru_t         lru;           /* first: the zone's data */
    time_t                     window;
} ngx_http_mkt_dedup_t;


static void ngx_http_mkt_dedup_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


/* dedup=SIZE and dedup_window=TIME of mkt_collect: one zone serves the
 * http block, so every place that sets them must agree */
char *
ngx_http_mkt_dedup_param(ngx_conf_t *cf, ngx_http_mkt_collect_main_t *cm,
    ngx_str_t *value)
{
    time_t     t;
    ssize_t    size;
    ngx_str_t  s;

    if (value->data[5] == '=') {
        s.data = value->data + 6;
        s.len = value->len - 6;

        size = ngx_parse_size(&s);
        if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid dedup zone "
                               "size \"%V\": at least %uz bytes", &s,
                               8 * ngx_pagesize);
            return NGX_CONF_ERROR;
        }

        if (cm->dedup_size != NGX_CONF_UNSET && cm->dedup_size != size) {
            goto conflict;
        }

        cm->dedup_size = size;
        return NGX_CONF_OK;
    }

    s.data = value->data + 13;
    s.len = value->len - 13;

    t = ngx_parse_time(&s, 1);
    if (t == (time_t) NGX_ERROR || t == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid dedup window "
                           "\"%V\"", &s);
        return NGX_CONF_ERROR;
    }

    if (cm->window != NGX_CONF_UNSET && cm->window != t) {
        goto conflict;
    }

    cm->window = t;
    return NGX_CONF_OK;

conflict:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" conflicts with an "
                       "earlier mkt_collect: one dedup zone serves all",
                       value);
    return NGX_CONF_ERROR;
}


/* From postconfiguration: the zone, sized, and the key of its keys. */
ngx_int_t
ngx_http_mkt_dedup_init(ngx_conf_t *cf, ngx_http_mkt_collect_main_t *cm,
    mkt_hmac_t *hmac)
{
    ngx_str_t              name = ngx_string("mkt_dedup");
    ngx_http_mkt_dedup_t  *dd;

    if (mkt_event_dedup_secret(hmac, cm->key) != 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "cannot derive the dedup key from mkt_secret");
        return NGX_ERROR;
    }

    dd = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_dedup_t));
    if (dd == NULL) {
        return NGX_ERROR;
    }

    if (cm->dedup_size == NGX_CONF_UNSET) {
        cm->dedup_size = NGX_HTTP_MKT_DEDUP_SIZE;
    }

    if (cm->window == NGX_CONF_UNSET) {
        cm->window = NGX_HTTP_MKT_DEDUP_WINDOW;
    }
    dd->window = cm->window;

    /* fails for a name taken, e.g. by mkt_tags_cache zone=mkt_dedup */
    cm->zone = ngx_http_mkt_lru_zone(cf, &name, cm->dedup_size, &dd->lru,
                                     ngx_http_mkt_dedup_insert_value,
                                     offsetof(ngx_rbtree_node_t, color)
                                     + offsetof(ngx_http_mkt_dedup_node_t,
                                                queue),
                                     "mkt_dedup");

    return cm->zone ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_mkt_dedup_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t          **p;
    ngx_http_mkt_dedup_node_t   *dn, *dnt;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            dn = (ngx_http_mkt_dedup_node_t *) &node->color;
            dnt = (ngx_http_mkt_dedup_node_t *) &temp->color;

            p = (dn->hi < dnt->hi) ? &temp->left : &temp->right;
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


static ngx_http_mkt_dedup_node_t *
ngx_http_mkt_dedup_find_locked(ngx_http_mkt_dedup_t *dd, uint64_t key)
{
    uint32_t                    hi;
    ngx_rbtree_key_t            lo;
    ngx_rbtree_node_t          *node, *sentinel;
    ngx_http_mkt_dedup_node_t  *dn;

    lo = (ngx_rbtree_key_t) key;
    hi = (uint32_t) (key >> 32);

    node = dd->lru.sh->rbtree.root;
    sentinel = dd->lru.sh->rbtree.sentinel;

    while (node != sentinel) {

        if (lo != node->key) {
            node = (lo < node->key) ? node->left : node->right;
            continue;
        }

        dn = (ngx_http_mkt_dedup_node_t *) &node->color;

        if (hi == dn->hi) {
            return dn;
        }

        node = (hi < dn->hi) ? node->left : node->right;
    }

    return NULL;
}


/*
 * NGX_DECLINED when key was claimed within the window (a duplicate: do
 * not record it), else NGX_OK and the key is claimed from now on.  A key
 * that cannot be stored (no zone, no memory even after evicting) is
 * recorded: a conversion is worth more than its dedup.
 */
ngx_int_t
ngx_http_mkt_dedup_claim(ngx_http_request_t *r,
    ngx_http_mkt_collect_main_t *cm, uint64_t key)
{
    time_t                      now;
    ngx_uint_t                  i, evicted;
    ngx_queue_t                *q;
    ngx_rbtree_node_t          *node;
    ngx_http_mkt_dedup_t       *dd;
    ngx_http_mkt_dedup_node_t  *dn;

    if (cm->zone == NULL) {
        return NGX_OK;
    }

    dd = cm->zone->data;
    now = ngx_time();

    ngx_shmtx_lock(&dd->lru.shpool->mutex);

    /* the window passed: a few of the oldest go at each claim */
    for (i = 0; i < 8; i++) {
        q = ngx_http_mkt_lru_oldest_locked(&dd->lru);
        if (q == NULL) {
            break;
        }

        dn = ngx_queue_data(q, ngx_http_mkt_dedup_node_t, queue);
        if (dn->expires > now) {
            break;
        }

        ngx_http_mkt_lru_remove_locked(&dd->lru, q);
    }

    dn = ngx_http_mkt_dedup_find_locked(dd, key);

    if (dn != NULL && dn->expires > now) {
        ngx_shmtx_unlock(&dd->lru.shpool->mutex);
        return NGX_DECLINED;
    }

    if (dn != NULL) {
        ngx_http_mkt_lru_remove_locked(&dd->lru, &dn->queue);
    }

    /* what goes now is still in its window: the zone is too small */
    node = ngx_http_mkt_lru_alloc_locked(&dd->lru,
                                         offsetof(ngx_rbtree_node_t, color)
                                         + sizeof(ngx_http_mkt_dedup_node_t),
                                         &evicted);
    if (evicted) {
        ngx_http_mkt_count_n(r, NGX_HTTP_MKT_C_dedup_evicted, evicted);
    }

    if (node != NULL) {
        node->key = (ngx_rbtree_key_t) key;
        dn = (ngx_http_mkt_dedup_node_t *) &node->color;
        dn->hi = (uint32_t) (key >> 32);
        dn->expires = now + dd->window;

        ngx_rbtree_insert(&dd->lru.sh->rbtree, node);
        ngx_queue_insert_head(&dd->lru.sh->queue, &dn->queue);
    }

    ngx_shmtx_unlock(&dd->lru.shpool->mutex);

    return NGX_OK;
}


/* Forgets a claim whose event no sink stored: a retry may record it. */
void
ngx_http_mkt_dedup_release(ngx_http_mkt_collect_main_t *cm, uint64_t key)
{
    ngx_http_mkt_dedup_t       *dd;
    ngx_http_mkt_dedup_node_t  *dn;

    if (cm->zone == NULL) {
        return;
    }

    dd = cm->zone->data;

    ngx_shmtx_lock(&dd->lru.shpool->mutex);

    dn = ngx_http_mkt_dedup_find_locked(dd, key);
    if (dn != NULL) {
        ngx_http_mkt_lru_remove_locked(&dd->lru, &dn->queue);
    }

    ngx_shmtx_unlock(&dd->lru.shpool->mutex);
}
