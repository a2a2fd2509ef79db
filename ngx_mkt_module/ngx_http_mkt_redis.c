/*
 * The Redis client of the tag store (mkt_redis).  Each worker keeps a
 * bounded pool of connections, made with nginx's peer connections and
 * driven by its events and timers; hiredis only formats commands and
 * parses replies.  Commands of concurrent requests are pipelined on shared
 * connections, written together once per event-loop iteration.  Nothing
 * here blocks, and every failure ends in a NULL reply to whoever waits:
 * callers then go on without Redis.  A circuit breaker skips Redis for
 * "backoff" after "fails" failures in a row, then lets one probe through.
 */

#include "ngx_http_mkt_module.h"

#include <hiredis.h>


#define NGX_HTTP_MKT_REDIS_READ_BUF     16384
#define NGX_HTTP_MKT_REDIS_BUFFER_MAX   (1024 * 1024)  /* unparsed replies */
#define NGX_HTTP_MKT_REDIS_PIPELINE     64    /* commands in flight on a
                                               * connection before another
                                               * is opened */
#define NGX_HTTP_MKT_REDIS_FREE_CMDS    256
#define NGX_HTTP_MKT_REDIS_LOG_EVERY    10    /* seconds between messages */
#define NGX_HTTP_MKT_REDIS_SUSPECTS     16    /* connections to fence */

#define NGX_HTTP_MKT_REDIS_CLOSED       0
#define NGX_HTTP_MKT_REDIS_CONNECTING   1
#define NGX_HTTP_MKT_REDIS_READY        2

#define NGX_HTTP_MKT_BREAKER_CLOSED     0
#define NGX_HTTP_MKT_BREAKER_OPEN       1
#define NGX_HTTP_MKT_BREAKER_HALF_OPEN  2


typedef struct {
    ngx_queue_t                    queue;
    ngx_http_mkt_redis_reply_pt    handler;
    void                          *data;
} ngx_http_mkt_redis_cmd_t;


struct ngx_http_mkt_redis_conn_s {
    ngx_peer_connection_t          peer;
    redisReader                   *reader;
    size_t                         reply_size;   /* of the reply being read */
    u_char                        *out;          /* commands to write */
    size_t                         out_len;
    size_t                         out_sent;
    size_t                         out_size;
    ngx_queue_t                    pending;      /* awaiting replies */
    ngx_uint_t                     npending;
    ngx_uint_t                     state;
    int64_t                        client_id;    /* CLIENT ID: 0 not asked
                                                  * or not answered yet,
                                                  * -1 refused */
    ngx_http_mkt_redis_reply_pt    id_handler;
    void                          *id_data;
    u_char                         addr[NGX_SOCKADDR_STRLEN];
    size_t                         addr_len;     /* ours, as Redis sees it */
};


/* a connection closed with commands Redis may still execute */
typedef struct {
    int64_t                        client_id;
    u_char                         addr[NGX_SOCKADDR_STRLEN];
    size_t                         addr_len;
} ngx_http_mkt_redis_suspect_t;


typedef struct {
    ngx_http_mkt_redis_conf_t     *conf;
    ngx_http_mkt_redis_conn_t     *conns;        /* conf->pool of them */
    ngx_queue_t                    free_cmds;
    ngx_uint_t                     nfree_cmds;
    ngx_log_t                      quiet_log;    /* for nginx's own connect
                                                  * errors: we rate-limit */
    ngx_uint_t                     breaker;
    ngx_uint_t                     fails;
    ngx_uint_t                     probing;
    ngx_msec_t                     open_until;
    time_t                         logged;
    ngx_uint_t                     suppressed;
    ngx_http_mkt_redis_suspect_t   suspects[NGX_HTTP_MKT_REDIS_SUSPECTS];
    ngx_uint_t                     nsuspects;
} ngx_http_mkt_redis_worker_t;


static ngx_http_mkt_redis_worker_t  ngx_http_mkt_redis_w;


static ngx_int_t ngx_http_mkt_redis_connect(ngx_http_mkt_redis_conn_t *rc);
static ngx_int_t ngx_http_mkt_redis_handshake(ngx_http_mkt_redis_conn_t *rc);
static void ngx_http_mkt_redis_write_handler(ngx_event_t *wev);
static void ngx_http_mkt_redis_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_mkt_redis_dispatch(ngx_http_mkt_redis_conn_t *rc);
static void ngx_http_mkt_redis_fail(ngx_http_mkt_redis_conn_t *rc,
    const char *why);
static void ngx_http_mkt_redis_close(ngx_http_mkt_redis_conn_t *rc);
static void ngx_http_mkt_redis_check_reply(void *data, redisReply *reply);
static void ngx_http_mkt_redis_id_reply(void *data, redisReply *reply);
static void ngx_http_mkt_redis_success(void);
static void ngx_http_mkt_redis_failure(void);


/* --- configuration ------------------------------------------------------ */

char *
ngx_http_mkt_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mkt_main_conf_t *mcf = conf;

    ngx_int_t                   n;
    ngx_str_t                  *value, s;
    ngx_url_t                   u;
    ngx_uint_t                  i;
    ngx_msec_t                  ms;
    ngx_http_mkt_redis_conf_t  *rcf;

    if (mcf->redis != NULL) {
        return "is duplicate";
    }

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mkt_redis_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\"",
                               u.err, &u.url);
        }
        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no address for \"%V\"", &u.url);
        return NGX_CONF_ERROR;
    }

    rcf->addr = u.addrs[0];
    rcf->timeout = 20;
    rcf->connect_timeout = 50;
    rcf->pool = 32;
    rcf->db = -1;
    rcf->fails = 5;
    rcf->backoff = 1000;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rcf->password.len = value[i].len - 9;
            rcf->password.data = value[i].data + 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "user=", 5) == 0) {
            rcf->user.len = value[i].len - 5;
            rcf->user.data = value[i].data + 5;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0
            || ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0
            || ngx_strncmp(value[i].data, "backoff=", 8) == 0)
        {
            s.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            s.len = value[i].data + value[i].len - s.data;

            ms = ngx_parse_time(&s, 0);
            if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
                goto invalid;
            }

            if (value[i].data[0] == 't') {
                rcf->timeout = ms;
            } else if (value[i].data[0] == 'c') {
                rcf->connect_timeout = ms;
            } else {
                rcf->backoff = ms;
            }
            continue;
        }

        if (ngx_strncmp(value[i].data, "pool=", 5) == 0) {
            n = ngx_atoi(value[i].data + 5, value[i].len - 5);
            if (n < 1 || n > 1024) {
                goto invalid;
            }
            rcf->pool = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR) {
                goto invalid;
            }
            rcf->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "fails=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (n < 1) {
                goto invalid;
            }
            rcf->fails = n;
            continue;
        }

        goto invalid;
    }

    if (rcf->user.len && rcf->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"user=\" needs \"password=\"");
        return NGX_CONF_ERROR;
    }

    mcf->redis = rcf;

    return NGX_CONF_OK;

invalid:

    return ngx_http_mkt_conf_invalid(cf, &value[i]);
}


ngx_int_t
ngx_http_mkt_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mkt_main_conf_t     *mcf;
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mkt_module);

    if (mcf == NULL || mcf->redis == NULL) {
        return NGX_OK;
    }

    w->conf = mcf->redis;
    w->conns = ngx_pcalloc(cycle->pool,
                           w->conf->pool * sizeof(ngx_http_mkt_redis_conn_t));
    if (w->conns == NULL) {
        return NGX_ERROR;
    }

    ngx_queue_init(&w->free_cmds);

    w->quiet_log = *cycle->log;
    w->quiet_log.log_level = NGX_LOG_ALERT;

    return NGX_OK;
}


/* Closes this worker's connections, so that none is left open at exit. */
void
ngx_http_mkt_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i;
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    if (w->conf == NULL) {
        return;
    }

    for (i = 0; i < w->conf->pool; i++) {
        if (w->conns[i].state != NGX_HTTP_MKT_REDIS_CLOSED) {
            ngx_http_mkt_redis_close(&w->conns[i]);
        }
    }
}


ngx_uint_t
ngx_http_mkt_redis_enabled(void)
{
    return ngx_http_mkt_redis_w.conf != NULL;
}


ngx_msec_t
ngx_http_mkt_redis_timeout(void)
{
    return ngx_http_mkt_redis_w.conf->timeout;
}


/* --- rate-limited logging ----------------------------------------------- */

static void
ngx_http_mkt_redis_log(ngx_uint_t level, const char *what, const char *why)
{
    time_t                        now;
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    now = ngx_time();

    if (now - w->logged < NGX_HTTP_MKT_REDIS_LOG_EVERY) {
        w->suppressed++;
        return;
    }

    ngx_log_error(level, ngx_cycle->log, 0,
                  "mkt redis %V: %s%s%s (%ui similar messages suppressed)",
                  &w->conf->addr.name, what, why ? ": " : "", why ? why : "",
                  w->suppressed);

    w->logged = now;
    w->suppressed = 0;
}


/*
 * A reply to a command of ours that is no answer (an error such as
 * WRONGTYPE or NOPERM, or a reply of the wrong type): logged like every
 * other message here, so that a misconfiguration shows in the error log
 * without a line per request.
 */
void
ngx_http_mkt_redis_log_reply(const char *what, redisReply *reply)
{
    ngx_http_mkt_redis_log(NGX_LOG_ERR, what,
                           reply->type == REDIS_REPLY_ERROR && reply->str
                           ? reply->str : "unexpected reply type");
}


/* --- the circuit breaker ------------------------------------------------ */

/*
 * Whether a request may use Redis now.  While the breaker is open, no;
 * once "backoff" has passed, one request probes (half-open) and the
 * others skip until its reply, or its failure, decides.
 */
static ngx_uint_t
ngx_http_mkt_redis_allowed(void)
{
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    switch (w->breaker) {

    case NGX_HTTP_MKT_BREAKER_OPEN:
        if ((ngx_msec_int_t) (ngx_current_msec - w->open_until) < 0) {
            return 0;
        }
        w->breaker = NGX_HTTP_MKT_BREAKER_HALF_OPEN;
        w->probing = 1;
        return 1;

    case NGX_HTTP_MKT_BREAKER_HALF_OPEN:
        if (w->probing) {
            return 0;
        }
        w->probing = 1;
        return 1;

    default:
        return 1;
    }
}


static void
ngx_http_mkt_redis_success(void)
{
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    if (w->breaker != NGX_HTTP_MKT_BREAKER_CLOSED) {
        ngx_http_mkt_redis_log(NGX_LOG_NOTICE, "answers again", NULL);
    }

    w->breaker = NGX_HTTP_MKT_BREAKER_CLOSED;
    w->fails = 0;
    w->probing = 0;
}


static void
ngx_http_mkt_redis_failure(void)
{
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    if (w->breaker == NGX_HTTP_MKT_BREAKER_OPEN) {
        return;
    }

    if (w->breaker == NGX_HTTP_MKT_BREAKER_CLOSED
        && ++w->fails < w->conf->fails)
    {
        return;
    }

    w->breaker = NGX_HTTP_MKT_BREAKER_OPEN;
    w->probing = 0;
    w->open_until = ngx_current_msec + w->conf->backoff;
    ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_redis_circuit_open);
    ngx_http_mkt_redis_log(NGX_LOG_ERR, "skipped after repeated failures",
                           NULL);
}


void
ngx_http_mkt_redis_timed_out(void)
{
    ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_redis_timeouts);
    ngx_http_mkt_redis_log(NGX_LOG_WARN, "reply timed out", NULL);
    ngx_http_mkt_redis_failure();
}


/* --- commands ----------------------------------------------------------- */

/*
 * A connection to send one request's commands on, so that they go out in
 * one write and come back in one round trip: the least busy one, or a new
 * one when all are busy and the pool has room.  NULL when Redis is to be
 * skipped.
 */
ngx_http_mkt_redis_conn_t *
ngx_http_mkt_redis_connection(void)
{
    ngx_uint_t                    i;
    ngx_http_mkt_redis_conn_t    *rc, *best, *idle;
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    if (!ngx_http_mkt_redis_allowed()) {
        ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_redis_skipped);
        return NULL;
    }

    best = NULL;
    idle = NULL;

    for (i = 0; i < w->conf->pool; i++) {
        rc = &w->conns[i];

        if (rc->state == NGX_HTTP_MKT_REDIS_CLOSED) {
            if (idle == NULL) {
                idle = rc;
            }
            continue;
        }

        if (best == NULL || rc->npending < best->npending) {
            best = rc;
        }
    }

    if (best && (best->npending < NGX_HTTP_MKT_REDIS_PIPELINE || idle == NULL))
    {
        return best;
    }

    if (idle && ngx_http_mkt_redis_connect(idle) == NGX_OK) {
        return idle;
    }

    if (best) {
        return best;
    }

    ngx_http_mkt_redis_failure();
    w->probing = 0;

    return NULL;
}


static ngx_http_mkt_redis_cmd_t *
ngx_http_mkt_redis_cmd_alloc(void)
{
    ngx_queue_t                  *q;
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    if (!ngx_queue_empty(&w->free_cmds)) {
        q = ngx_queue_head(&w->free_cmds);
        ngx_queue_remove(q);
        w->nfree_cmds--;
        return ngx_queue_data(q, ngx_http_mkt_redis_cmd_t, queue);
    }

    return ngx_alloc(sizeof(ngx_http_mkt_redis_cmd_t), ngx_cycle->log);
}


static void
ngx_http_mkt_redis_cmd_free(ngx_http_mkt_redis_cmd_t *cmd)
{
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    if (w->nfree_cmds < NGX_HTTP_MKT_REDIS_FREE_CMDS) {
        ngx_queue_insert_head(&w->free_cmds, &cmd->queue);
        w->nfree_cmds++;
        return;
    }

    ngx_free(cmd);
}


/*
 * Queues a command on rc; it is written with the others queued in this
 * event-loop iteration.  handler(data, reply) is called once with the
 * reply, or with NULL when the connection fails first; a NULL handler
 * only counts error replies.  Never calls the handler before returning.
 */
ngx_int_t
ngx_http_mkt_redis_send(ngx_http_mkt_redis_conn_t *rc, int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_mkt_redis_reply_pt handler, void *data)
{
    int                        len;
    char                      *fmt;
    u_char                    *p;
    size_t                     size;
    ngx_connection_t          *c;
    ngx_http_mkt_redis_cmd_t  *cmd;

    len = redisFormatCommandArgv(&fmt, argc, argv, argvlen);
    if (len < 0) {
        return NGX_ERROR;
    }

    if (rc->out_len + len > rc->out_size) {
        size = ngx_max(rc->out_size * 2, rc->out_len + len);
        size = ngx_max(size, 4096);

        p = ngx_alloc(size, ngx_cycle->log);
        if (p == NULL) {
            redisFreeCommand(fmt);
            return NGX_ERROR;
        }

        if (rc->out) {
            ngx_memcpy(p, rc->out, rc->out_len);
            ngx_free(rc->out);
        }

        rc->out = p;
        rc->out_size = size;
    }

    cmd = ngx_http_mkt_redis_cmd_alloc();
    if (cmd == NULL) {
        redisFreeCommand(fmt);
        return NGX_ERROR;
    }

    ngx_memcpy(rc->out + rc->out_len, fmt, len);
    rc->out_len += len;
    redisFreeCommand(fmt);

    cmd->handler = handler;
    cmd->data = data;
    ngx_queue_insert_tail(&rc->pending, &cmd->queue);
    rc->npending++;

    c = rc->peer.connection;

    if (rc->state == NGX_HTTP_MKT_REDIS_READY && !c->write->posted) {
        ngx_post_event(c->write, &ngx_posted_events);
    }

    if (!c->read->timer_set) {
        /* a server that stops answering is given up after a while */
        ngx_add_timer(c->read, ngx_max(10 * ngx_http_mkt_redis_w.conf->timeout,
                                       1000));
    }

    return NGX_OK;
}


/* --- identities and fences (the event sink's exactly-once) --------------- */

/* Whether rc's CLIENT ID was answered (or refused): commands sent on it
 * from now on can be fenced off should the connection fail. */
ngx_uint_t
ngx_http_mkt_redis_identified(ngx_http_mkt_redis_conn_t *rc)
{
    return rc->client_id != 0;
}


/*
 * Asks rc for its CLIENT ID; handler(data, reply) follows, as for any
 * command.  Our address as Redis sees it goes with the id, so that a
 * fence never kills another client of a restarted server that reuses
 * the id.
 */
ngx_int_t
ngx_http_mkt_redis_identify(ngx_http_mkt_redis_conn_t *rc,
    ngx_http_mkt_redis_reply_pt handler, void *data)
{
    const char  *argv[2] = { "CLIENT", "ID" };
    size_t       argvlen[2] = { 6, 2 };

    rc->id_handler = handler;
    rc->id_data = data;

    return ngx_http_mkt_redis_send(rc, 2, argv, argvlen,
                                   ngx_http_mkt_redis_id_reply, rc);
}


static void
ngx_http_mkt_redis_id_reply(void *data, redisReply *reply)
{
    ngx_http_mkt_redis_conn_t  *rc = data;

    socklen_t          len;
    ngx_sockaddr_t     sa;
    ngx_connection_t  *c;

    c = rc->peer.connection;
    len = sizeof(ngx_sockaddr_t);

    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0
        && c && getsockname(c->fd, &sa.sockaddr, &len) == 0
        && (sa.sockaddr.sa_family == AF_INET
#if (NGX_HAVE_INET6)
            || sa.sockaddr.sa_family == AF_INET6
#endif
           ))
    {
        rc->addr_len = ngx_sock_ntop(&sa.sockaddr, len, rc->addr,
                                     NGX_SOCKADDR_STRLEN, 1);
        rc->client_id = reply->integer;

    } else if (reply) {
        /* refused (ACL), or not TCP: no fence for this connection */
        rc->client_id = -1;
    }

    if (rc->id_handler) {
        rc->id_handler(rc->id_data, reply);
    }
}


/*
 * Queues "CLIENT KILL ID n ADDR a" on rc for every connection that failed
 * with commands in flight: once the replies come, none of those commands
 * can still run.  Answers how many were queued, for
 * ngx_http_mkt_redis_fenced().
 */
ngx_uint_t
ngx_http_mkt_redis_fence(ngx_http_mkt_redis_conn_t *rc)
{
    u_char                         id[NGX_INT64_LEN];
    size_t                         argvlen[6];
    ngx_uint_t                     i;
    const char                    *argv[6];
    ngx_http_mkt_redis_suspect_t  *sp;
    ngx_http_mkt_redis_worker_t   *w = &ngx_http_mkt_redis_w;

    for (i = 0; i < w->nsuspects; i++) {
        sp = &w->suspects[i];

        argv[0] = "CLIENT";
        argvlen[0] = 6;
        argv[1] = "KILL";
        argvlen[1] = 4;
        argv[2] = "ID";
        argvlen[2] = 2;
        argv[3] = (const char *) id;
        argvlen[3] = ngx_sprintf(id, "%L", sp->client_id) - id;
        argv[4] = "ADDR";
        argvlen[4] = 4;
        argv[5] = (const char *) sp->addr;
        argvlen[5] = sp->addr_len;

        if (ngx_http_mkt_redis_send(rc, 6, argv, argvlen, NULL, NULL)
            != NGX_OK)
        {
            break;
        }
    }

    return i;
}


/* The first n fences were answered: those connections are gone. */
void
ngx_http_mkt_redis_fenced(ngx_uint_t n)
{
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    n = ngx_min(n, w->nsuspects);

    ngx_memmove(&w->suspects[0], &w->suspects[n],
                (w->nsuspects - n) * sizeof(ngx_http_mkt_redis_suspect_t));
    w->nsuspects -= n;
}


/* --- connections -------------------------------------------------------- */

static ngx_int_t
ngx_http_mkt_redis_connect(ngx_http_mkt_redis_conn_t *rc)
{
    ngx_int_t                     rv;
    ngx_connection_t             *c;
    ngx_http_mkt_redis_worker_t  *w = &ngx_http_mkt_redis_w;

    ngx_memzero(rc, sizeof(ngx_http_mkt_redis_conn_t));
    ngx_queue_init(&rc->pending);

    rc->peer.sockaddr = w->conf->addr.sockaddr;
    rc->peer.socklen = w->conf->addr.socklen;
    rc->peer.name = &w->conf->addr.name;
    rc->peer.get = ngx_event_get_peer;
    rc->peer.log = &w->quiet_log;
    rc->peer.log_error = NGX_ERROR_ERR;
    rc->peer.tries = 1;

    ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_redis_connects);

    rv = ngx_event_connect_peer(&rc->peer);

    if (rv == NGX_ERROR || rv == NGX_BUSY || rv == NGX_DECLINED) {
        if (rc->peer.connection) {
            ngx_close_connection(rc->peer.connection);
        }
        rc->peer.connection = NULL;
        ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_redis_errors);
        ngx_http_mkt_redis_log(NGX_LOG_ERR, "connect failed", NULL);
        return NGX_ERROR;
    }

    c = rc->peer.connection;
    c->data = rc;
    c->log = ngx_cycle->log;
    c->read->log = c->log;
    c->write->log = c->log;
    c->read->handler = ngx_http_mkt_redis_read_handler;
    c->write->handler = ngx_http_mkt_redis_write_handler;

    rc->reader = redisReaderCreateWithFunctions(&ngx_http_mkt_redis_reply_fn);
    if (rc->reader == NULL) {
        ngx_close_connection(c);
        rc->peer.connection = NULL;
        return NGX_ERROR;
    }

    ngx_http_mkt_redis_reply_start(rc->reader, &rc->reply_size);

    if (rv == NGX_AGAIN) {
        rc->state = NGX_HTTP_MKT_REDIS_CONNECTING;
        ngx_add_timer(c->write, w->conf->connect_timeout);

    } else {
        rc->state = NGX_HTTP_MKT_REDIS_READY;
    }

    /* AUTH and SELECT go first, once per connection */
    if (ngx_http_mkt_redis_handshake(rc) != NGX_OK) {
        ngx_http_mkt_redis_fail(rc, "out of memory");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mkt_redis_handshake(ngx_http_mkt_redis_conn_t *rc)
{
    int                         argc;
    u_char                      db[NGX_INT_T_LEN];
    size_t                      argvlen[3];
    const char                 *argv[3];
    ngx_http_mkt_redis_conf_t  *rcf = ngx_http_mkt_redis_w.conf;

    if (rcf->password.len) {
        argc = 0;
        argv[argc] = "AUTH";
        argvlen[argc++] = 4;

        if (rcf->user.len) {
            argv[argc] = (const char *) rcf->user.data;
            argvlen[argc++] = rcf->user.len;
        }

        argv[argc] = (const char *) rcf->password.data;
        argvlen[argc++] = rcf->password.len;

        if (ngx_http_mkt_redis_send(rc, argc, argv, argvlen,
                                    ngx_http_mkt_redis_check_reply, rc)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (rcf->db >= 0) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) db;
        argvlen[1] = ngx_sprintf(db, "%i", rcf->db) - db;

        if (ngx_http_mkt_redis_send(rc, 2, argv, argvlen,
                                    ngx_http_mkt_redis_check_reply, rc)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* AUTH and SELECT: an error reply makes the connection useless. */
static void
ngx_http_mkt_redis_check_reply(void *data, redisReply *reply)
{
    ngx_http_mkt_redis_conn_t  *rc = data;

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_http_mkt_redis_log(NGX_LOG_ERR, "AUTH or SELECT refused",
                               reply->str);
        /* closed by the dispatcher once this handler returns */
        rc->state = NGX_HTTP_MKT_REDIS_CLOSED;
    }
}


static ngx_int_t
ngx_http_mkt_redis_test_connect(ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    return err ? NGX_ERROR : NGX_OK;
}


static void
ngx_http_mkt_redis_write_handler(ngx_event_t *wev)
{
    ssize_t                     n;
    ngx_connection_t           *c;
    ngx_http_mkt_redis_conn_t  *rc;

    c = wev->data;
    rc = c->data;

    if (rc->state == NGX_HTTP_MKT_REDIS_CONNECTING) {
        if (wev->timedout) {
            ngx_http_mkt_redis_fail(rc, "connect timed out");
            return;
        }

        if (wev->timer_set) {
            ngx_del_timer(wev);
        }

        if (ngx_http_mkt_redis_test_connect(c) != NGX_OK) {
            ngx_http_mkt_redis_fail(rc, "connect failed");
            return;
        }

        rc->state = NGX_HTTP_MKT_REDIS_READY;
    }

    while (rc->out_sent < rc->out_len) {
        n = c->send(c, rc->out + rc->out_sent, rc->out_len - rc->out_sent);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            ngx_http_mkt_redis_fail(rc, "send failed");
            return;
        }

        rc->out_sent += n;
    }

    if (rc->out_sent == rc->out_len) {
        rc->out_sent = 0;
        rc->out_len = 0;
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_http_mkt_redis_fail(rc, "event error");
    }
}


static void
ngx_http_mkt_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                     n;
    ngx_connection_t           *c;
    ngx_http_mkt_redis_conn_t  *rc;
    u_char                      buf[NGX_HTTP_MKT_REDIS_READ_BUF];

    c = rev->data;
    rc = c->data;

    if (rev->timedout) {
        ngx_http_mkt_redis_fail(rc, "no reply for too long");
        return;
    }

    do {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_mkt_redis_fail(rc, n == 0 ? "connection closed"
                                               : "recv failed");
            return;
        }

        if (redisReaderFeed(rc->reader, (char *) buf, n) != REDIS_OK
            || rc->reader->len - rc->reader->pos
               > NGX_HTTP_MKT_REDIS_BUFFER_MAX)
        {
            ngx_http_mkt_redis_fail(rc, "reply too large");
            return;
        }

        if (ngx_http_mkt_redis_dispatch(rc) != NGX_OK) {
            return;
        }

    } while (rev->ready);

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_mkt_redis_fail(rc, "event error");
        return;
    }

    if (rc->npending == 0 && rev->timer_set) {
        ngx_del_timer(rev);
    }
}


/* Hands every complete reply to the command it answers, in order. */
static ngx_int_t
ngx_http_mkt_redis_dispatch(ngx_http_mkt_redis_conn_t *rc)
{
    void                      *reply;
    ngx_queue_t               *q;
    redisReply                *r;
    ngx_connection_t          *c;
    ngx_http_mkt_redis_cmd_t  *cmd;

    c = rc->peer.connection;

    for ( ;; ) {
        if (redisReaderGetReply(rc->reader, &reply) != REDIS_OK) {
            /* a reply object refused by its bounds reads as out of memory */
            ngx_http_mkt_redis_fail(rc, rc->reader->err == REDIS_ERR_OOM
                                        ? "reply too large"
                                        : "protocol error");
            return NGX_ERROR;
        }

        if (reply == NULL) {
            return NGX_OK;
        }

        /* the next reply counts its bytes from 0 */
        rc->reply_size = 0;

        if (ngx_queue_empty(&rc->pending)) {
            ngx_http_mkt_redis_reply_free(reply);
            ngx_http_mkt_redis_fail(rc, "reply to no command");
            return NGX_ERROR;
        }

        q = ngx_queue_head(&rc->pending);
        ngx_queue_remove(q);
        rc->npending--;
        cmd = ngx_queue_data(q, ngx_http_mkt_redis_cmd_t, queue);
        r = reply;

        if (r->type == REDIS_REPLY_ERROR) {
            ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_redis_errors);

        } else {
            ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_redis_ok);
        }

        /* any reply, even an error, shows the server is there; but a
         * refused AUTH or SELECT is a failure of the connection: counted
         * as one below, it must not close the breaker first */
        if (r->type != REDIS_REPLY_ERROR
            || cmd->handler != ngx_http_mkt_redis_check_reply)
        {
            ngx_http_mkt_redis_success();
        }

        if (cmd->handler) {
            cmd->handler(cmd->data, r);
        }

        ngx_http_mkt_redis_reply_free(reply);
        ngx_http_mkt_redis_cmd_free(cmd);

        if (rc->state == NGX_HTTP_MKT_REDIS_CLOSED) {
            ngx_http_mkt_redis_fail(rc, "handshake refused");
            return NGX_ERROR;
        }

        /* the reply timer restarts with each reply */
        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }
        if (rc->npending) {
            ngx_add_timer(c->read,
                          ngx_max(10 * ngx_http_mkt_redis_w.conf->timeout,
                                  1000));
        }
    }
}


/* A connection failed: counted, logged (rate-limited), closed. */
static void
ngx_http_mkt_redis_fail(ngx_http_mkt_redis_conn_t *rc, const char *why)
{
    ngx_http_mkt_redis_suspect_t  *sp;
    ngx_http_mkt_redis_worker_t   *w = &ngx_http_mkt_redis_w;

    /* a server that stopped answering may yet run what it received */
    if (rc->client_id > 0 && rc->npending) {
        if (w->nsuspects == NGX_HTTP_MKT_REDIS_SUSPECTS) {
            ngx_memmove(&w->suspects[0], &w->suspects[1],
                        (NGX_HTTP_MKT_REDIS_SUSPECTS - 1)
                        * sizeof(ngx_http_mkt_redis_suspect_t));
            w->nsuspects--;
        }

        sp = &w->suspects[w->nsuspects++];
        sp->client_id = rc->client_id;
        sp->addr_len = rc->addr_len;
        ngx_memcpy(sp->addr, rc->addr, rc->addr_len);
    }

    ngx_http_mkt_count_worker(NGX_HTTP_MKT_C_redis_errors);
    ngx_http_mkt_redis_log(NGX_LOG_ERR, "connection failed", why);
    ngx_http_mkt_redis_failure();
    ngx_http_mkt_redis_close(rc);
}


/*
 * Closes rc and answers NULL to every command still waiting on it.  The
 * slot is free again for the next connection.
 */
static void
ngx_http_mkt_redis_close(ngx_http_mkt_redis_conn_t *rc)
{
    ngx_queue_t               *q;
    ngx_queue_t                pending;
    ngx_http_mkt_redis_cmd_t  *cmd;

    if (rc->peer.connection) {
        ngx_close_connection(rc->peer.connection);
        rc->peer.connection = NULL;
    }

    if (rc->reader) {
        redisReaderFree(rc->reader);
        rc->reader = NULL;
    }

    if (rc->out) {
        ngx_free(rc->out);
        rc->out = NULL;
    }

    rc->state = NGX_HTTP_MKT_REDIS_CLOSED;

    /* handlers may queue commands elsewhere: empty this queue first */
    if (ngx_queue_empty(&rc->pending)) {
        rc->npending = 0;
        return;
    }

    pending = rc->pending;
    pending.next->prev = &pending;
    pending.prev->next = &pending;
    ngx_queue_init(&rc->pending);
    rc->npending = 0;

    while (!ngx_queue_empty(&pending)) {
        q = ngx_queue_head(&pending);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_mkt_redis_cmd_t, queue);

        if (cmd->handler && cmd->handler != ngx_http_mkt_redis_check_reply) {
            cmd->handler(cmd->data, NULL);
        }

        ngx_http_mkt_redis_cmd_free(cmd);
    }
}
