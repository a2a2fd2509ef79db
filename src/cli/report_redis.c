/* mkt report --redis HOST:PORT --stream KEY: the events of a Redis stream
 * (field "e" of each entry, as mkt_events_redis writes them), read with
 * XRANGE in pages.  Blocking hiredis is fine here: this is the CLI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "report_redis.h"

#define PAGE  1000


/* Splits "HOST:PORT" ("[::1]:6379" for IPv6). */
static int
parse_addr(const char *addr, char *host, size_t cap, int *port)
{
    const char  *colon, *h;
    size_t       n;
    char        *end;
    long         p;

    colon = strrchr(addr, ':');
    if (colon == NULL) {
        return -1;
    }
    h = addr;
    n = (size_t) (colon - addr);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    p = strtol(colon + 1, &end, 10);
    if (n == 0 || n >= cap || *end != '\0' || p < 1 || p > 65535) {
        return -1;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (int) p;
    return 0;
}


int
mkt_report_read_redis(mkt_report_t *rp, const char *addr, const char *key)
{
    char             host[256], start[64];
    int              port, rc, more;
    size_t           i, j;
    redisContext    *c;
    redisReply      *r, *entry, *fields;
    struct timeval   tv = { 5, 0 };

    if (parse_addr(addr, host, sizeof(host), &port) != 0) {
        fprintf(stderr, "mkt report: --redis takes HOST:PORT, not \"%s\"\n",
                addr);
        return -1;
    }

    c = redisConnectWithTimeout(host, port, tv);
    if (c == NULL || c->err) {
        fprintf(stderr, "mkt report: cannot connect to redis at %s: %s\n",
                addr, c ? c->errstr : "out of memory");
        redisFree(c);
        return -1;
    }
    redisSetTimeout(c, tv);

    rc = -1;
    strcpy(start, "-");
    for (more = 1; more; ) {
        r = redisCommand(c, "XRANGE %s %s + COUNT %d", key, start, PAGE);
        if (r == NULL) {
            fprintf(stderr, "mkt report: redis: %s\n", c->errstr);
            goto done;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "mkt report: redis: XRANGE %s: %s\n", key,
                    r->str);
            freeReplyObject(r);
            goto done;
        }
        if (r->type != REDIS_REPLY_ARRAY) {
            fprintf(stderr, "mkt report: redis: unexpected XRANGE reply\n");
            freeReplyObject(r);
            goto done;
        }

        more = r->elements == PAGE;
        for (i = 0; i < r->elements; i++) {
            entry = r->element[i];
            if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2
                || entry->element[0]->type != REDIS_REPLY_STRING
                || entry->element[1]->type != REDIS_REPLY_ARRAY)
            {
                rp->counts.lines++;
                rp->counts.malformed++;
                continue;
            }
            /* the next page starts after this id (exclusive range) */
            snprintf(start, sizeof(start), "(%.*s",
                     (int) entry->element[0]->len, entry->element[0]->str);

            fields = entry->element[1];
            for (j = 0; j + 1 < fields->elements; j += 2) {
                if (fields->element[j]->type == REDIS_REPLY_STRING
                    && fields->element[j]->len == 1
                    && fields->element[j]->str[0] == 'e'
                    && fields->element[j + 1]->type == REDIS_REPLY_STRING)
                {
                    break;
                }
            }
            if (j + 1 >= fields->elements) {
                rp->counts.lines++;         /* an entry without "e" */
                rp->counts.malformed++;
                continue;
            }
            if (mkt_report_add_line(rp, fields->element[j + 1]->str,
                                    fields->element[j + 1]->len) != 0)
            {
                fprintf(stderr, "mkt report: out of memory\n");
                freeReplyObject(r);
                goto done;
            }
        }
        freeReplyObject(r);
    }
    rc = 0;

done:
    redisFree(c);
    return rc;
}
