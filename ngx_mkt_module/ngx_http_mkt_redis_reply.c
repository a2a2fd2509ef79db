/*
 * Reply objects for hiredis's reader, as hiredis makes its own but with
 * bounds: arrays of at most 1,024 elements, strings of at most 64 KiB (a
 * longer one is read as nil), and
 * at most 16 MiB for all the objects of one reply, so that a server
 * answering garbage (nested arrays, endless elements) cannot make a worker
 * grow until it is killed.  The reader's privdata points to the count of
 * bytes the reply being read holds (ngx_http_mkt_redis_reply_start()).
 * Freed with ngx_http_mkt_redis_reply_free().
 */

#include "ngx_http_mkt_module.h"

#include <hiredis.h>


#define NGX_HTTP_MKT_REDIS_ARRAY_MAX    1024
#define NGX_HTTP_MKT_REDIS_STRING_MAX   65536
/* an XRANGE page of the event sink (200 events of up to 58 KiB) fits */
#define NGX_HTTP_MKT_REDIS_REPLY_MAX    (16 * 1024 * 1024)


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


/* Counts size bytes against the reply being read; 0 past its bound. */
static ngx_uint_t
ngx_http_mkt_redis_reply_charge(const redisReadTask *task, size_t size)
{
    size_t  *used = task->privdata;

    if (used == NULL) {
        return 1;
    }

    if (size > NGX_HTTP_MKT_REDIS_REPLY_MAX - *used) {
        return 0;
    }

    *used += size;

    return 1;
}


static void *
ngx_http_mkt_redis_reply_add(const redisReadTask *task, int type)
{
    redisReply  *r, *parent;

    if (!ngx_http_mkt_redis_reply_charge(task, sizeof(redisReply))) {
        return NULL;
    }

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

    /*
     * A string longer than any value of ours (a CDP's broken tag) is read
     * as nil, whose element the caller skips: the rest of the reply and
     * the connection are good, and failing them would take every
     * visitor's tags down with this one (the reader has the string whole
     * already, within its own buffer's bound).
     */
    if (len > NGX_HTTP_MKT_REDIS_STRING_MAX) {
        return ngx_http_mkt_redis_reply_add(task, REDIS_REPLY_NIL);
    }

    if (!ngx_http_mkt_redis_reply_charge(task, len + 1)) {
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

    if (elements > NGX_HTTP_MKT_REDIS_ARRAY_MAX
        || !ngx_http_mkt_redis_reply_charge(task,
                                  (size_t) elements * sizeof(redisReply *)))
    {
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


/*
 * Makes reader count the bytes of each reply in *used, from 0 again before
 * each reply (hiredis hands the reader's privdata to every read task).
 */
void
ngx_http_mkt_redis_reply_start(redisReader *reader, size_t *used)
{
    *used = 0;
    reader->privdata = used;
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
