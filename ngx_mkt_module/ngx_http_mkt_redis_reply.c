/*
 * Reply objects for hiredis's reader, as hiredis makes its own but with
 * bounds: a server answering garbage cannot make a worker allocate more
 * than a few megabytes (arrays of at most 1,024 elements, strings of at
 * most 64 KiB).  Freed with ngx_http_mkt_redis_reply_free().
 */

#include "ngx_http_mkt_module.h"

#include <hiredis.h>


#define NGX_HTTP_MKT_REDIS_ARRAY_MAX    1024
#define NGX_HTTP_MKT_REDIS_STRING_MAX   65536


static void *ngx_http_mkt_redis_create_string(const redisReadTask *task,
    char *str, size_t len);
static void *ngx_http_mkt_redis_create_array(const redisReadTask *task,
    int elements);
static void *ngx_http_mkt_redis_create_integer(const redisReadTask *task,
    long long value);
static void *ngx_http_mkt_redis_create_nil(const redisReadTask *task);


redisReplyObjectFunctions  ngx_http_mkt_redis_reply_fn = {
    ngx_http_mkt_redis_create_string,
    ngx_http_mkt_redis_create_array,
    ngx_http_mkt_redis_create_integer,
    ngx_http_mkt_redis_create_nil,
    ngx_http_mkt_redis_reply_free
};


static void *
ngx_http_mkt_redis_reply_add(const redisReadTask *task, int type)
{
    redisReply  *r, *parent;

    r = calloc(1, sizeof(redisReply));
    if (r == NULL) {
        return NULL;
    }

    r->type = type;

    if (task->parent) {
        parent = task->parent->obj;
        parent->element[task->idx] = r;
    }

    return r;
}


static void *
ngx_http_mkt_redis_create_string(const redisReadTask *task, char *str,
    size_t len)
{
    redisReply  *r;

    if (len > NGX_HTTP_MKT_REDIS_STRING_MAX) {
        return NULL;
    }

    r = ngx_http_mkt_redis_reply_add(task, task->type);
    if (r == NULL) {
        return NULL;
    }

    r->str = malloc(len + 1);
    if (r->str == NULL) {
        if (task->parent) {
            ((redisReply *) task->parent->obj)->element[task->idx] = NULL;
        }
        free(r);
        return NULL;
    }

    ngx_memcpy(r->str, str, len);
    r->str[len] = '\0';
    r->len = len;

    return r;
}


static void *
ngx_http_mkt_redis_create_array(const redisReadTask *task, int elements)
{
    redisReply  *r;

    if (elements > NGX_HTTP_MKT_REDIS_ARRAY_MAX) {
        return NULL;
    }

    r = ngx_http_mkt_redis_reply_add(task, REDIS_REPLY_ARRAY);
    if (r == NULL) {
        return NULL;
    }

    if (elements > 0) {
        r->element = calloc(elements, sizeof(redisReply *));
        if (r->element == NULL) {
            if (task->parent) {
                ((redisReply *) task->parent->obj)->element[task->idx] = NULL;
            }
            free(r);
            return NULL;
        }
    }

    r->elements = elements;

    return r;
}


static void *
ngx_http_mkt_redis_create_integer(const redisReadTask *task, long long value)
{
    redisReply  *r;

    r = ngx_http_mkt_redis_reply_add(task, REDIS_REPLY_INTEGER);
    if (r) {
        r->integer = value;
    }

    return r;
}


static void *
ngx_http_mkt_redis_create_nil(const redisReadTask *task)
{
    return ngx_http_mkt_redis_reply_add(task, REDIS_REPLY_NIL);
}


void
ngx_http_mkt_redis_reply_free(void *reply)
{
    size_t       i;
    redisReply  *r = reply;

    if (r == NULL) {
        return;
    }

    if (r->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < r->elements; i++) {
            ngx_http_mkt_redis_reply_free(r->element[i]);
        }
        free(r->element);

    } else {
        free(r->str);
    }

    free(r);
}
