/*
 * mkt_tags_cache: tags (and alias marks) by id in a shared-memory zone used
 * by every worker, a slab-allocated rbtree with an LRU queue, as
 * ngx_http_limit_req_module keeps its states.  Entries expire at their own
 * time; a full zone evicts the least recently used.
 */

#include "ngx_http_mkt_module.h"


typedef struct {
    u_char                         color;
    u_char                         kind;
    u_char                         key_len;
    u_char                         dummy;
    u_short                        value_len;
    time_t                         expires;
    ngx_queue_t                    queue;
    u_char                         data[1];      /* key, then value */
} ngx_http_mkt_cache_node_t;


typedef struct {
    ngx_http_mkt_lru_t             lru;          /* first: the zone's data */
    time_t                         ttl;
    time_t                         negative_ttl;
} ngx_http_mkt_cache_t;


static void ngx_http_mkt_cache_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


/* per worker: the zone of this cycle */
static ngx_shm_zone_t  *ngx_http_mkt_cache_zone;


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
    ngx_http_mkt_cache_t  *cache;

    if (mcf->tags_zone != NULL) {
        return "is duplicate";
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_cache_t));
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

    mcf->tags_zone = ngx_http_mkt_lru_zone(cf, &name, size, &cache->lru,
                                   ngx_http_mkt_cache_rbtree_insert_value,
                                   offsetof(ngx_rbtree_node_t, color)
                                   + offsetof(ngx_http_mkt_cache_node_t,
                                              queue),
                                   "mkt_tags_cache");

    return mcf->tags_zone ? NGX_CONF_OK : NGX_CONF_ERROR;

invalid:

    return ngx_http_mkt_conf_invalid(cf, &value[i]);
}


ngx_int_t
ngx_http_mkt_cache_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mkt_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mkt_module);
    ngx_http_mkt_cache_zone = mcf ? mcf->tags_zone : NULL;

    return NGX_OK;
}


/* --- entries ------------------------------------------------------------ */

static void
ngx_http_mkt_cache_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t         **p;
    ngx_http_mkt_cache_node_t   *tn, *tnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            tn = (ngx_http_mkt_cache_node_t *) &node->color;
            tnt = (ngx_http_mkt_cache_node_t *) &temp->color;

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


static ngx_http_mkt_cache_node_t *
ngx_http_mkt_cache_find_locked(ngx_http_mkt_cache_t *cache,
    ngx_uint_t kind, ngx_str_t *key, uint32_t hash)
{
    ngx_int_t                  rc;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_http_mkt_cache_node_t  *tn;

    node = cache->lru.sh->rbtree.root;
    sentinel = cache->lru.sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        tn = (ngx_http_mkt_cache_node_t *) &node->color;

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


/* How long an id's tags stay cached: ttl, or negative_ttl without tags. */
time_t
ngx_http_mkt_cache_ttl(ngx_uint_t empty)
{
    ngx_http_mkt_cache_t  *cache;

    if (ngx_http_mkt_cache_zone == NULL) {
        return 0;
    }

    cache = ngx_http_mkt_cache_zone->data;

    return empty ? cache->negative_ttl : cache->ttl;
}


/*
 * Copies the value cached under (kind, key) to r's pool; NGX_DECLINED when
 * there is none or it has expired.
 */
ngx_int_t
ngx_http_mkt_cache_get(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *key, ngx_str_t *value)
{
    time_t                      now;
    uint32_t                    hash;
    ngx_int_t                   rc;
    ngx_http_mkt_cache_node_t   *tn;
    ngx_http_mkt_cache_t  *cache;

    if (ngx_http_mkt_cache_zone == NULL) {
        return NGX_DECLINED;
    }

    cache = ngx_http_mkt_cache_zone->data;
    hash = ngx_crc32_short(key->data, key->len);
    now = ngx_time();
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->lru.shpool->mutex);

    tn = ngx_http_mkt_cache_find_locked(cache, kind, key, hash);

    if (tn && tn->expires <= now) {
        ngx_http_mkt_lru_remove_locked(&cache->lru, &tn->queue);
        tn = NULL;
    }

    if (tn) {
        ngx_queue_remove(&tn->queue);
        ngx_queue_insert_head(&cache->lru.sh->queue, &tn->queue);

        value->len = tn->value_len;
        value->data = ngx_pnalloc(r->pool, tn->value_len + 1);

        if (value->data) {
            ngx_memcpy(value->data, tn->data + tn->key_len, tn->value_len);
            rc = NGX_OK;
        }
    }

    ngx_shmtx_unlock(&cache->lru.shpool->mutex);

    return rc;
}


/* Stores (kind, key) -> value until expires, evicting the least recently
 * used entries when the zone is full. */
void
ngx_http_mkt_cache_put(ngx_uint_t kind, ngx_str_t *key, u_char *value,
    size_t len, time_t expires)
{
    size_t                      size;
    uint32_t                    hash;
    ngx_uint_t                  evicted;
    ngx_rbtree_node_t          *node;
    ngx_http_mkt_cache_node_t   *tn;
    ngx_http_mkt_cache_t  *cache;

    if (ngx_http_mkt_cache_zone == NULL || key->len > 255 || len > 65535) {
        return;
    }

    cache = ngx_http_mkt_cache_zone->data;
    hash = ngx_crc32_short(key->data, key->len);
    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_mkt_cache_node_t, data) + key->len + len;

    ngx_shmtx_lock(&cache->lru.shpool->mutex);

    tn = ngx_http_mkt_cache_find_locked(cache, kind, key, hash);
    if (tn) {
        ngx_http_mkt_lru_remove_locked(&cache->lru, &tn->queue);
    }

    node = ngx_http_mkt_lru_alloc_locked(&cache->lru, size, &evicted);

    if (node == NULL) {
        ngx_shmtx_unlock(&cache->lru.shpool->mutex);
        return;
    }

    node->key = hash;
    tn = (ngx_http_mkt_cache_node_t *) &node->color;
    tn->kind = (u_char) kind;
    tn->key_len = (u_char) key->len;
    tn->value_len = (u_short) len;
    tn->expires = expires;
    ngx_memcpy(tn->data, key->data, key->len);
    ngx_memcpy(tn->data + key->len, value, len);

    ngx_rbtree_insert(&cache->lru.sh->rbtree, node);
    ngx_queue_insert_head(&cache->lru.sh->queue, &tn->queue);

    ngx_shmtx_unlock(&cache->lru.shpool->mutex);
}
